"""RunOptions tracing (step_stats, partition_graphs) and the Chrome trace timeline."""

import json
import threading
import time

import numpy as np
import pytest

import sessionlib as tf
from sessionlib import errors
from sessionlib.client import timeline
from sessionlib.protos import rewriter_config_pb2, types_pb2

CPU0 = "/job:localhost/replica:0/task:0/device:CPU:0"
CPU1 = "/job:localhost/replica:0/task:0/device:CPU:1"



@pytest.fixture(autouse=True)
def _no_fusion(monkeypatch):
    # These tests check the per-op stats of small elementwise graphs, which would otherwise
    # fuse into one node; traces of fused chains are tested in test_fusion.py.
    monkeypatch.setenv("SESSIONLIB_FUSION", "0")


# The small graphs below are all constants, which constant folding would turn into one node;
# these tests check per-op stats, so their sessions keep the ops (folding has its own tests,
# tests/test_optimizer_folding.py).
NO_FOLDING = tf.ConfigProto(graph_options=tf.GraphOptions(
    rewrite_options=rewriter_config_pb2.RewriterConfig(
        constant_folding=rewriter_config_pb2.RewriterConfig.OFF)))


def _small_graph():
    a = tf.constant([1.0, 2.0], name="a")
    b = tf.constant([3.0, 4.0], name="b")
    c = tf.add(a, b, name="c")
    d = tf.multiply(c, c, name="d")
    return a, b, c, d


def _traced_run(sess, fetches, level=tf.RunOptions.FULL_TRACE, feed_dict=None,
                **option_fields):
    options = tf.RunOptions(trace_level=level, **option_fields)
    metadata = tf.RunMetadata()
    result = sess.run(fetches, feed_dict=feed_dict, options=options, run_metadata=metadata)
    return result, metadata


def test_full_trace_fills_step_stats(executor):
    a, b, c, d = _small_graph()
    with tf.Session(config=NO_FOLDING) as sess:
        devices = sess.list_devices()
        before_us = time.time() * 1e6
        result, metadata = _traced_run(sess, d)
        after_us = time.time() * 1e6
    np.testing.assert_array_equal(result, [16.0, 36.0])
    dev_stats = metadata.step_stats.dev_stats
    assert [stats.device for stats in dev_stats] == [CPU0]
    nodes = {stats.node_name: stats for stats in dev_stats[0].node_stats}
    assert set(nodes) == {"a", "b", "c", "d"}
    assert nodes["c"].timeline_label == f"c = {c.op.type}(a, b)"
    assert nodes["d"].timeline_label == f"d = {d.op.type}(c, c)"
    assert nodes["a"].timeline_label == "a = Const()"
    for stats in nodes.values():
        assert before_us - 1e6 <= stats.all_start_micros <= after_us + 1e6
        assert stats.all_start_nanos // 1000 == stats.all_start_micros
        assert 0 <= stats.op_start_rel_nanos <= stats.op_end_rel_nanos
        assert stats.op_end_rel_nanos <= stats.all_end_rel_nanos
        # The thread that ran the node: this one, or the device's worker process.
        assert stats.thread_id in ({threading.get_native_id() & 0xFFFFFFFF}
                                   | {device.pid for device in devices})
    output = nodes["c"].output[0]
    assert output.slot == 0
    assert output.tensor_description.dtype == types_pb2.DT_FLOAT
    assert [dim.size for dim in output.tensor_description.shape.dim] == [2]
    assert output.tensor_description.allocation_description.requested_bytes == 8


def test_nodes_are_recorded_in_execution_order(executor):
    a, b, c, d = _small_graph()
    with tf.Session(config=NO_FOLDING) as sess:
        _, metadata = _traced_run(sess, d)
    node_stats = metadata.step_stats.dev_stats[0].node_stats
    names = [stats.node_name for stats in node_stats]
    assert names.index("c") < names.index("d")
    starts = [stats.all_start_nanos for stats in node_stats]
    assert starts == sorted(starts)


@pytest.mark.parametrize("level", [tf.RunOptions.SOFTWARE_TRACE,
                                   tf.RunOptions.HARDWARE_TRACE])
def test_other_trace_levels(executor, level):
    _, _, _, d = _small_graph()
    with tf.Session(config=NO_FOLDING) as sess:
        _, metadata = _traced_run(sess, d, level=level)
    assert len(metadata.step_stats.dev_stats[0].node_stats) == 4


def test_no_trace_leaves_metadata_empty(executor):
    _, _, _, d = _small_graph()
    with tf.Session(config=NO_FOLDING) as sess:
        metadata = tf.RunMetadata()
        sess.run(d, options=tf.RunOptions(), run_metadata=metadata)
        sess.run(d, run_metadata=metadata)
        # Tracing without a RunMetadata to fill still runs.
        result = sess.run(d, options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE))
    assert not metadata.step_stats.dev_stats
    np.testing.assert_array_equal(result, [16.0, 36.0])


def test_traced_run_with_feeds_and_multiple_outputs(executor):
    x = tf.placeholder(tf.float32, shape=[None], name="x")
    doubled = tf.multiply(x, 2.0, name="doubled")
    parts = tf.split(doubled, 2, name="parts")
    with tf.Session() as sess:
        result, metadata = _traced_run(sess, parts, feed_dict={x: [1.0, 2.0, 3.0, 4.0]})
    np.testing.assert_array_equal(result[1], [6.0, 8.0])
    nodes = {s.node_name: s for s in metadata.step_stats.dev_stats[0].node_stats}
    assert "x" not in nodes  # a fed placeholder does not run
    split = nodes[parts[0].op.name]
    assert [o.slot for o in split.output] == [0, 1]
    assert all(o.tensor_description.allocation_description.requested_bytes == 8
               for o in split.output)


def test_metadata_is_replaced_by_each_traced_run(executor):
    _, _, c, d = _small_graph()
    with tf.Session(config=NO_FOLDING) as sess:
        metadata = tf.RunMetadata()
        options = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)
        sess.run(d, options=options, run_metadata=metadata)
        sess.run(c, options=options, run_metadata=metadata)
    assert {s.node_name for s in metadata.step_stats.dev_stats[0].node_stats} == {"a", "b",
                                                                                  "c"}


def test_traced_failure_raises_op_error(executor):
    x = tf.placeholder(tf.float32, shape=[])
    y = tf.add(x, 1.0)
    with tf.Session() as sess:
        with pytest.raises(errors.InvalidArgumentError) as info:
            _traced_run(sess, y)
        assert info.value.op is x.op
        # The session stays usable, traced or not.
        result, metadata = _traced_run(sess, y, feed_dict={x: 1.0})
        assert result == np.float32(2.0)
        assert len(metadata.step_stats.dev_stats[0].node_stats) == 2
        assert sess.run(y, feed_dict={x: 1.0}) == np.float32(2.0)


def test_make_callable_accepts_trace_options(executor):
    _, _, _, d = _small_graph()
    with tf.Session(config=NO_FOLDING) as sess:
        run_d = sess.make_callable(d, accept_options=True)
        metadata = tf.RunMetadata()
        result = run_d(options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE),
                       run_metadata=metadata)
    np.testing.assert_array_equal(result, [16.0, 36.0])
    assert len(metadata.step_stats.dev_stats[0].node_stats) == 4


def test_output_partition_graphs(executor):
    a, b, c, d = _small_graph()
    with tf.Session(config=NO_FOLDING) as sess:
        metadata = tf.RunMetadata()
        sess.run(d, options=tf.RunOptions(output_partition_graphs=True), run_metadata=metadata)
        _, traced = _traced_run(sess, d, output_partition_graphs=True)
    for meta in (metadata, traced):
        assert len(meta.partition_graphs) == 1
        nodes = {node.name: node for node in meta.partition_graphs[0].node}
        assert set(nodes) == {"a", "b", "c", "d"}
        assert nodes["c"].device == CPU0
        assert list(nodes["d"].input) == ["c", "c"]
    assert not metadata.step_stats.dev_stats


def test_one_device_step_stats_per_device(executor):
    with tf.device("/cpu:0"):
        a = tf.constant([1.0, 2.0], name="a")
    with tf.device("/cpu:1"):
        b = tf.add(a, a, name="b")
    config = tf.ConfigProto(device_count={"CPU": 2})
    with tf.Session(config=config) as sess:
        result, metadata = _traced_run(sess, b, output_partition_graphs=True)
    np.testing.assert_array_equal(result, [2.0, 4.0])
    devices = {s.device: {n.node_name for n in s.node_stats}
               for s in metadata.step_stats.dev_stats}
    assert devices[CPU0] >= {"a"}
    assert devices[CPU1] >= {"b"}
    partitions = {graph.node[0].device: {n.name for n in graph.node}
                  for graph in metadata.partition_graphs}
    assert "a" in partitions[CPU0] and "b" in partitions[CPU1]


def _three_hop_graph():
    """a on CPU:0 -> b on CPU:1 -> c on CPU:0: one edge each way."""
    with tf.device("/cpu:0"):
        a = tf.constant([1.0, 2.0], name="a")
    with tf.device("/cpu:1"):
        b = tf.add(a, a, name="b")
    with tf.device("/cpu:0"):
        c = tf.multiply(b, 2.0, name="c")
    return a, b, c


def _op_of_label(label):
    return label.split(" = ", 1)[1].split("(", 1)[0]


def test_two_device_trace_has_per_node_stats_from_each_worker(executor):
    a, b, c = _three_hop_graph()
    with tf.Session(config=tf.ConfigProto(device_count={"CPU": 2})) as sess:
        pids = {device.name: device.pid for device in sess.list_devices()}
        before_us = time.time() * 1e6
        result, metadata = _traced_run(sess, c)
        after_us = time.time() * 1e6
        # An untraced run afterwards leaves no stats behind and still works.
        np.testing.assert_array_equal(sess.run(c), [4.0, 8.0])
    np.testing.assert_array_equal(result, [4.0, 8.0])
    dev_stats = {stats.device: stats for stats in metadata.step_stats.dev_stats}
    assert list(dev_stats) == [CPU0, CPU1]
    graph_nodes = {CPU0: {"a", "c/y", "c"}, CPU1: {"b"}}
    labels = {}
    for device, stats in dev_stats.items():
        ops = {n.node_name: _op_of_label(n.timeline_label) for n in stats.node_stats}
        labels.update({n.node_name: n.timeline_label for n in stats.node_stats})
        assert {name for name, op in ops.items() if not op.startswith("_")} == (
            graph_nodes[device])
        # One edge each way: each device sends once and receives once.
        assert sorted(op for op in ops.values() if op.startswith("_")) == ["_Recv", "_Send"]
        for node in stats.node_stats:
            # The worker process that ran the node, visible in the trace.
            assert node.thread_id == pids[device]
            assert before_us - 1e6 <= node.all_start_micros <= after_us + 1e6
            assert 0 <= node.op_start_rel_nanos <= node.op_end_rel_nanos
            assert node.op_end_rel_nanos <= node.all_end_rel_nanos
        assert str(pids[device]) in stats.thread_names[pids[device]]
    # b reads the value its device received. Sends and receives are named as TF's
    # partitioner names them ("a/_0", "a/_1": the producer and a step-wide number), and a
    # receive names the tensor it receives, so that TF's Timeline draws the same arrows.
    recv_b = next(n for n in dev_stats[CPU1].node_stats if "_Recv(" in n.timeline_label)
    assert recv_b.node_name == "a/_1"
    assert labels["b"] == f"b = {b.op.type}(a/_1, a/_1)"
    assert recv_b.timeline_label == "a/_1 = _Recv(a)"
    assert labels["a/_0"] == "a/_0 = _Send(a)"
    assert labels["b/_3"] == "b/_3 = _Recv(b)" and labels["b/_2"] == "b/_2 = _Send(b)"
    b_stats = next(n for n in dev_stats[CPU1].node_stats if n.node_name == "b")
    description = b_stats.output[0].tensor_description
    assert description.dtype == types_pb2.DT_FLOAT
    assert description.allocation_description.requested_bytes == 8


def test_two_device_timeline_has_a_process_per_device_and_flows(executor):
    _, _, c = _three_hop_graph()
    with tf.Session(config=tf.ConfigProto(device_count={"CPU": 2})) as sess:
        _, metadata = _traced_run(sess, c)
    trace = timeline.Timeline(metadata.step_stats).generate_chrome_trace_format()
    process_names = {e["args"]["name"]: e["pid"] for e in _events(trace, "M")
                     if e["name"] == "process_name"}
    compute = {device: process_names[f"{device} Compute"] for device in (CPU0, CPU1)}
    ops = _events(trace, "X")
    assert {e["pid"] for e in ops} == set(compute.values())
    starts = {e["id"]: e for e in _events(trace, "s")}
    crossings = {(starts[e["id"]]["pid"], e["pid"]) for e in _events(trace, "t")
                 if starts[e["id"]]["pid"] != e["pid"]}
    assert crossings == {(compute[CPU0], compute[CPU1]), (compute[CPU1], compute[CPU0])}


def test_two_device_partition_graphs_have_send_and_recv(executor):
    _, _, c = _three_hop_graph()
    with tf.Session(config=tf.ConfigProto(device_count={"CPU": 2})) as sess:
        metadata = tf.RunMetadata()
        sess.run(c, options=tf.RunOptions(output_partition_graphs=True),
                 run_metadata=metadata)
    assert not metadata.step_stats.dev_stats
    graphs = {graph.node[0].device: graph for graph in metadata.partition_graphs}
    assert set(graphs) == {CPU0, CPU1}
    for device, graph in graphs.items():
        assert {node.device for node in graph.node} == {device}
    cpu0 = {node.name: node for node in graphs[CPU0].node}
    cpu1 = {node.name: node for node in graphs[CPU1].node}
    send_a = next(n for n in cpu0.values() if n.op == "_Send")
    recv_a = next(n for n in cpu1.values() if n.op == "_Recv")
    assert list(send_a.input) == ["a"]
    assert send_a.attr["tensor_name"].s == recv_a.attr["tensor_name"].s == b"a:0"
    assert send_a.attr["recv_device"].s.decode() == CPU1
    assert recv_a.attr["send_device"].s.decode() == CPU0
    assert list(cpu1["b"].input) == [recv_a.name, recv_a.name]
    recv_b = next(n for n in cpu0.values() if n.op == "_Recv")
    assert list(cpu0["c"].input) == [recv_b.name, "c/y"]
    assert set(cpu0) - {send_a.name, recv_b.name} == {"a", "c/y", "c"}


def test_two_device_traced_failure_then_success(executor):
    x = tf.placeholder(tf.float32, shape=[], name="x")
    with tf.device("/cpu:1"):
        y = tf.add(x, 1.0, name="y")
    with tf.device("/cpu:0"):
        z = tf.multiply(y, 2.0, name="z")
    with tf.Session(config=tf.ConfigProto(device_count={"CPU": 2})) as sess:
        with pytest.raises(errors.InvalidArgumentError):
            _traced_run(sess, z)
        result, metadata = _traced_run(sess, z, feed_dict={x: 1.0})
    assert result == np.float32(4.0)
    names = {n.node_name for s in metadata.step_stats.dev_stats for n in s.node_stats}
    assert {"y", "z"} <= names and "x" not in names


def test_control_edge_across_devices_is_traced(executor):
    with tf.device("/cpu:1"):
        first = tf.constant(1.0, name="first")
    with tf.device("/cpu:0"):
        with tf.control_dependencies([first]):
            second = tf.constant(2.0, name="second")
    with tf.Session(config=tf.ConfigProto(device_count={"CPU": 2})) as sess:
        result, metadata = _traced_run(sess, second, output_partition_graphs=True)
    assert result == np.float32(2.0)
    labels = {n.node_name: n.timeline_label for s in metadata.step_stats.dev_stats
              for n in s.node_stats}
    recv = next(name for name, label in labels.items() if "_Recv(" in label)
    assert labels["second"] == f"second = Const(^{recv})"
    send = next(name for name, label in labels.items() if "_Send(" in label)
    assert labels[send] == f"{send} = _Send(^first)"
    graphs = {graph.node[0].device: graph for graph in metadata.partition_graphs}
    send_node = next(n for n in graphs[CPU1].node if n.op == "_Send")
    assert list(send_node.input) == ["^first"]


# ---- timeline ------------------------------------------------------------------------------

def _events(trace_json, phase):
    return [event for event in json.loads(trace_json)["traceEvents"] if event["ph"] == phase]


def test_timeline_of_a_traced_run(executor):
    _, _, c, d = _small_graph()
    with tf.Session(config=NO_FOLDING) as sess:
        _, metadata = _traced_run(sess, d)
    before = metadata.step_stats.SerializeToString()
    trace = timeline.Timeline(metadata.step_stats).generate_chrome_trace_format()
    assert metadata.step_stats.SerializeToString() == before  # the stats are not modified
    process_names = {e["pid"]: e["args"]["name"] for e in _events(trace, "M")
                     if e["name"] == "process_name"}
    assert process_names[0] == "Allocators"
    assert f"{CPU0} Compute" in process_names.values()
    assert f"{CPU0} Tensors" in process_names.values()
    compute_pid = next(pid for pid, name in process_names.items()
                       if name == f"{CPU0} Compute")
    ops = {e["args"]["name"]: e for e in _events(trace, "X")}
    assert set(ops) == {"a", "b", "c", "d"}
    assert ops["c"]["name"] == c.op.type
    assert ops["c"]["cat"] == "Op"
    assert ops["c"]["pid"] == compute_pid
    assert ops["c"]["args"]["op"] == c.op.type
    assert (ops["c"]["args"]["input0"], ops["c"]["args"]["input1"]) == ("a", "b")
    assert ops["d"]["ts"] >= ops["c"]["ts"] + ops["c"]["dur"]


def _node(device_stats, name, label, start_us, duration_us, num_bytes=0):
    node = device_stats.node_stats.add(node_name=name, all_start_micros=start_us,
                                       all_end_rel_micros=duration_us, timeline_label=label)
    if num_bytes:
        allocation = node.output.add(slot=0).tensor_description.allocation_description
        allocation.requested_bytes = num_bytes
        allocation.allocator_name = "cpu"
    return node


def _two_device_stats():
    step_stats = tf.StepStats()
    first = step_stats.dev_stats.add(device=CPU0)
    second = step_stats.dev_stats.add(device=CPU1)
    _node(first, "x", "x = Const()", 100, 10, num_bytes=16)
    _node(first, "y", "y = Neg(x)", 110, 10, num_bytes=16)
    _node(second, "z", "z = AddV2(x, y, ^w)", 130, 5, num_bytes=16)
    return step_stats


def test_timeline_flows_between_devices():
    trace = timeline.Timeline(_two_device_stats()).generate_chrome_trace_format(
        show_dataflow=True)
    starts, ends = _events(trace, "s"), _events(trace, "t")
    assert {e["name"] for e in starts} == {"x", "y"}
    by_id = {e["id"]: e for e in starts}
    for end in ends:
        start = by_id[end["id"]]
        assert start["name"] == end["name"]
        assert start["pid"] != end["pid"]
        assert start["ts"] <= end["ts"]
        assert end["cat"] == start["cat"] == "DataFlow"
    z = next(e for e in _events(trace, "X") if e["args"]["name"] == "z")
    assert z["name"] == "AddV2"
    assert z["args"]["input2"] == "^w"
    # Producer and consumer in one lane of one device draw no arrow.
    assert not any(e["name"] == "x" and e["pid"] == z["pid"] - 2 for e in ends)
    assert not _events(timeline.Timeline(_two_device_stats()).generate_chrome_trace_format(
        show_dataflow=False), "s")


def test_timeline_memory():
    analysis = timeline.Timeline(_two_device_stats()).analyze_step_stats(show_memory=True)
    events = analysis.chrome_trace.as_dict()["traceEvents"]
    counters = [e for e in events if e["ph"] == "C"]
    assert counters and all(e["name"] == "cpu" for e in counters)
    assert max(e["args"]["cpu"] for e in counters) == 48
    assert counters[-1]["args"]["cpu"] == 0
    assert analysis.allocator_maximums["cpu"].num_bytes == 48
    assert {e["name"] for e in events if e["ph"] == "N"} == {"x", "y", "z"}


def test_timeline_lanes_for_overlapping_ops():
    step_stats = tf.StepStats()
    device = step_stats.dev_stats.add(device=CPU0)
    _node(device, "p", "p = Const()", 100, 50)
    _node(device, "q", "q = Const()", 120, 10)
    _node(device, "r", "r = Const()", 200, 10)
    ops = {e["args"]["name"]: e for e in _events(
        timeline.Timeline(step_stats).generate_chrome_trace_format(), "X")}
    assert ops["p"]["tid"] != ops["q"]["tid"]
    assert ops["r"]["tid"] == ops["p"]["tid"]
