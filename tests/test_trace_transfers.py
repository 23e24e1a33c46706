"""Honest transfer spans and TF's naming of received inputs in traces of multi-device steps."""

import json

import numpy as np

import sessionlib as tf
from sessionlib.client import timeline

CPU0 = "/job:localhost/replica:0/task:0/device:CPU:0"
CPU1 = "/job:localhost/replica:0/task:0/device:CPU:1"


def _end(stats):
    return stats.all_start_nanos + stats.all_end_rel_nanos


def test_a_send_span_ends_before_its_recv_ends():
    x = tf.placeholder(tf.float32, [None, 64], name="x")
    with tf.device("/cpu:1"):
        y = tf.matmul(x, tf.constant(np.ones((64, 64), np.float32)), name="y")
    with tf.device("/cpu:0"):
        z = tf.reduce_sum(tf.nn.relu(y), name="z")
    with tf.Session(config=tf.ConfigProto(device_count={"CPU": 2})) as sess:
        for _ in range(20):
            metadata = tf.RunMetadata()
            sess.run(z, {x: np.ones((16, 64), np.float32)},
                     options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE),
                     run_metadata=metadata)
            nodes = {n.node_name: n for d in metadata.step_stats.dev_stats
                     for n in d.node_stats}
            send, recv = nodes["y/_0"], nodes["y/_1"]
            assert send.timeline_label == "y/_0 = _Send(y)"
            assert recv.timeline_label == "y/_1 = _Recv(y)"
            # The send ends when the tensor is handed over, which is before the receiving
            # device can have it; and it starts after its producer ended.
            assert _end(send) <= _end(recv)
            assert send.all_start_nanos >= _end(nodes["y"])
            assert 0 <= send.op_end_rel_nanos <= send.all_end_rel_nanos


def _node(device_stats, name, label, start_us, duration_us, outputs=1):
    node = device_stats.node_stats.add(node_name=name, all_start_micros=start_us,
                                       all_end_rel_micros=duration_us, timeline_label=label)
    for slot in range(outputs):
        node.output.add(slot=slot).tensor_description.allocation_description.requested_bytes = 4
    return node


def _flows(trace_json):
    events = json.loads(trace_json)["traceEvents"]
    starts = {e["id"]: e for e in events if e["ph"] == "s"}
    return sorted((starts[e["id"]]["pid"], e["pid"], e["name"])
                  for e in events if e["ph"] == "t")


def test_chrome_trace_arrows_follow_tf_naming():
    step_stats = tf.StepStats()
    first = step_stats.dev_stats.add(device=CPU0)     # pid 1
    second = step_stats.dev_stats.add(device=CPU1)    # pid 3
    _node(second, "y", "y = MatMul(x, w)", 100, 30)
    _node(second, "y/_0", "y/_0 = _Send(y)", 130, 2, outputs=0)
    _node(second, "first", "first = NoOp()", 90, 2, outputs=0)
    _node(second, "first/_2", "first/_2 = _Send(^first)", 92, 2, outputs=0)
    _node(first, "y/_1", "y/_1 = _Recv(y)", 100, 35)
    _node(first, "first/_3", "first/_3 = _Recv(^first)", 90, 5, outputs=0)
    _node(first, "z", "z = Sum(y/_1, ^first/_3)", 140, 5)
    flows = _flows(timeline.Timeline(step_stats).generate_chrome_trace_format())
    # The tensor's arrow from its producer to the receive (as TF's Timeline draws it), and
    # the control edge's from the op to its receive (which TF's does not draw).
    assert flows == [(3, 1, "^first"), (3, 1, "y")]


def test_chrome_trace_of_tf_step_stats_reads_received_names():
    # TF's own stats: no _Send/_Recv traced, and the consumer reads "y/_3".
    step_stats = tf.StepStats()
    first = step_stats.dev_stats.add(device=CPU0)
    second = step_stats.dev_stats.add(device=CPU1)
    _node(second, "y", "y = MatMul(_arg_x_0_0/_1, Const)", 100, 30)
    _node(first, "z", "z = Sum(y/_3, Const_1)", 140, 5)
    assert _flows(timeline.Timeline(step_stats).generate_chrome_trace_format()) == [
        (3, 1, "y/_3")]
