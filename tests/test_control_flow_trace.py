"""Traces of control flow (issue 16): a loop's iterations and a cond's taken branch in the step
stats, in process and on worker devices, the loop as one group in the timelines; and the
leftover limits of the functional control flow (initialized_value of ref variables, a branch
returning an Operation, a loop cancelled by Session.close, optimizer options in bodies).

Values are checked against numpy or TF 2.21 (tf.compat.v1, v1 control flow), as noted.
"""

import json
import re
import threading
import time

import numpy as np
import pytest

import sessionlib as tf
from sessionlib import errors
from sessionlib.client import timeline
from sessionlib.runtime import function_trace, settings

from _device_helpers import two_devices

FULL_TRACE = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)


@pytest.fixture(params=["in_process", "workers"])
def workers(request, monkeypatch):
    """Runs a test with its session's devices in this process and in worker processes."""
    monkeypatch.setenv("SESSIONLIB_WORKERS", "0" if request.param == "in_process" else "1")
    return request.param


def _traced(fetches, feed_dict=None, config=None):
    """(value, [(device, NodeExecStats)]) of one FULL_TRACE run."""
    metadata = tf.RunMetadata()
    with tf.Session(config=config) as sess:
        value = sess.run(fetches, feed_dict, options=FULL_TRACE, run_metadata=metadata)
    rows = [(dev.device, node) for dev in metadata.step_stats.dev_stats
            for node in dev.node_stats]
    return value, rows, metadata


def _iteration(label):
    found = re.search(r"\[loop iteration (\d+)", label)
    return None if found is None else int(found.group(1))


def _span(node):
    return node.all_start_nanos, node.all_start_nanos + node.all_end_rel_nanos


# ---- step stats ---------------------------------------------------------------------------

def test_traced_loop_has_a_row_per_body_node_and_iteration(executor, workers):
    _, total = tf.while_loop(lambda i, x: i < 5, lambda i, x: (i + 1, x * 2.0 + 1.0),
                             [tf.constant(0), tf.constant(1.0)], name="loop")
    value, rows, _ = _traced(total)
    assert value == 63.0                     # x -> 2x + 1, five times from 1
    loop = [node for _, node in rows if node.node_name == "loop"]
    assert len(loop) == 1 and loop[0].timeline_label.endswith("[5 iterations]")
    inner = [(device, node) for device, node in rows if _iteration(node.timeline_label)
             is not None]
    # Each iteration: the cond's Less, the body's i + 1 and its x*2+1 (one row, or two
    # unfused); the cond runs once more, at iteration 5, and ends the loop.
    less = [node for _, node in inner if node.node_name == "loop/Less"]
    assert [_iteration(node.timeline_label) for node in less] == [0, 1, 2, 3, 4, 5]
    assert less[0].timeline_label.startswith("loop/Less = Less(")
    adds = [node for _, node in inner if node.node_name == "loop/add"]
    assert [_iteration(node.timeline_label) for node in adds] == [0, 1, 2, 3, 4]
    assert adds[0].timeline_label.startswith("loop/add = AddV2(")
    assert adds[0].timeline_label.endswith(" [loop iteration 0]")
    # The rows are on the loop's device and inside its span, in start order.
    start, end = _span(loop[0])
    loop_device = [device for device, node in rows if node.node_name == "loop"][0]
    for device, node in inner:
        assert device == loop_device
        assert start <= node.all_start_nanos and _span(node)[1] <= end
    starts = [node.all_start_nanos for _, node in inner]
    assert starts == sorted(starts)
    # Outputs are described as the step's own nodes are: adds give int32 scalars.
    assert adds[0].output[0].tensor_description.dtype == tf.int32.as_datatype_enum


def test_traced_cond_records_the_taken_branch_only(executor, workers):
    p = tf.placeholder(tf.bool, [])
    x = tf.constant([1.0, 2.0])
    y = tf.cond(p, lambda: tf.exp(x, name="up"), lambda: tf.negative(x, name="down"))
    for pred, taken, untaken, branch in ((True, "cond/up", "cond/down", "then"),
                                         (False, "cond/down", "cond/up", "else")):
        value, rows, _ = _traced(y, {p: pred})
        np.testing.assert_allclose(value, np.exp([1.0, 2.0]) if pred else [-1.0, -2.0],
                                   rtol=1e-6)
        names = [node.node_name for _, node in rows]
        assert taken in names and untaken not in names
        (row,) = [node for _, node in rows if node.node_name == taken]
        assert row.timeline_label.endswith(f" [cond {branch} branch]")


def test_nested_loop_and_cond_rows_name_every_enclosing_call(executor):
    def body(i, x):
        _, inner = tf.while_loop(lambda j, a: j < 2, lambda j, a: (j + 1, a + 1.0),
                                 [tf.constant(0), x], name="inner")
        return i + 1, tf.cond(i > 0, lambda: inner * 10.0, lambda: inner - 1.0)

    _, total = tf.while_loop(lambda i, x: i < 2, body, [tf.constant(0), tf.constant(0.0)],
                             name="outer")
    value, rows, _ = _traced(total)
    assert value == 30.0                    # (0 + 2) - 1, then (1 + 2) * 10
    labels = [node.timeline_label for _, node in rows]
    # The inner loop's row of each outer iteration has its own iteration count.
    inner_rows = [label for label in labels if label.startswith("outer/inner = ")]
    assert len(inner_rows) == 2
    assert all("[2 iterations] [outer iteration " in label for label in inner_rows)
    assert any(label.endswith("[outer iteration 1; outer/inner iteration 1]")
               for label in labels)
    assert any(label.endswith("[outer iteration 1; outer/cond then branch]")
               for label in labels)
    assert any(label.endswith("[outer iteration 0; outer/cond else branch]")
               for label in labels)


def test_a_long_loop_records_its_first_iterations_then_counts(executor, workers):
    n = function_trace.LOOP_ITERATIONS_TRACED + 50
    _, total = tf.while_loop(lambda i, x: i < n, lambda i, x: (i + 1, x + 1.0),
                             [tf.constant(0), tf.constant(0.0)], name="loop")
    value, rows, _ = _traced(total)
    assert value == float(n)
    (loop,) = [node for _, node in rows if node.node_name == "loop"]
    assert loop.timeline_label.endswith(
        f"[{n} iterations, first {function_trace.LOOP_ITERATIONS_TRACED} traced]")
    iterations = {_iteration(node.timeline_label) for _, node in rows} - {None}
    assert iterations == set(range(function_trace.LOOP_ITERATIONS_TRACED))


@pytest.mark.skipif(bool(settings.worker_processes()),
                    reason="the cap is patched in this process only, and SESSIONLIB_WORKERS=1 "
                           "runs the loop in a worker")
def test_a_run_records_at_most_the_row_cap(executor, monkeypatch):
    monkeypatch.setattr(function_trace, "FUNCTION_ROWS_TRACED", 10)
    _, total = tf.while_loop(lambda i, x: i < 20, lambda i, x: (i + 1, x + 1.0),
                             [tf.constant(0), tf.constant(0.0)], name="loop")
    value, rows, _ = _traced(total)
    assert value == 20.0
    inner = [node for _, node in rows if _iteration(node.timeline_label) is not None]
    # Whole calls are recorded until the cap is reached (one call may pass it).
    assert 10 <= len(inner) < 10 + 4


def test_untraced_runs_between_traced_ones_record_nothing(executor, workers):
    _, total = tf.while_loop(lambda i, x: i < 3, lambda i, x: (i + 1, x + 2.0),
                             [tf.constant(0), tf.constant(0.0)], name="loop")
    with tf.Session() as sess:
        for _ in range(2):
            metadata = tf.RunMetadata()
            assert sess.run(total, options=FULL_TRACE, run_metadata=metadata) == 6.0
            adds = [node for dev in metadata.step_stats.dev_stats for node in dev.node_stats
                    if node.node_name == "loop/add"]
            assert len(adds) == 3
            metadata = tf.RunMetadata()
            assert sess.run(total, run_metadata=metadata) == 6.0
            assert not metadata.step_stats.dev_stats


def test_loop_on_the_second_device_traces_there(executor, workers):
    with tf.device("/cpu:1"):
        _, total = tf.while_loop(lambda i, x: i < 4, lambda i, x: (i + 1, x + 3.0),
                                 [tf.constant(0), tf.constant(0.0)], name="loop")
    with tf.device("/cpu:0"):
        out = total * 2.0
    value, rows, _ = _traced(out, config=two_devices())
    assert value == 24.0
    devices = {device for device, node in rows if _iteration(node.timeline_label) is not None}
    assert len(devices) == 1 and devices.pop().endswith("CPU:1")
    (loop,) = [node for _, node in rows if node.node_name == "loop"]
    assert loop.timeline_label.endswith("[4 iterations]")
    adds = [node for _, node in rows if node.node_name == "loop/add"]
    assert len(adds) == 4
    for node in adds:
        assert _span(loop)[0] <= node.all_start_nanos and _span(node)[1] <= _span(loop)[1]


# ---- timelines ----------------------------------------------------------------------------

def test_chrome_trace_nests_the_iterations_under_the_loop(executor, workers):
    _, total = tf.while_loop(lambda i, x: i < 3, lambda i, x: (i + 1, x + 2.0),
                             [tf.constant(0), tf.constant(0.0)], name="loop")
    _, rows, metadata = _traced(total)
    inner_names = {node.node_name for _, node in rows
                   if _iteration(node.timeline_label) is not None}
    events = [event for event in json.loads(timeline.Timeline(
        metadata.step_stats).generate_chrome_trace_format())["traceEvents"]
        if event["ph"] == "X"]
    (loop,) = [event for event in events if event["args"]["name"] == "loop"]
    inner = [event for event in events if event["args"]["name"] in inner_names]
    assert len(inner) >= 3 * 2 + 1
    for event in inner:   # one lane (tid) with the loop, inside its span: a child slice
        assert event["tid"] == loop["tid"] and event["pid"] == loop["pid"]
        assert loop["ts"] <= event["ts"]
        assert event["ts"] + event["dur"] <= loop["ts"] + loop["dur"] + 1e-3
    # TF's label parse still finds the op type in an iteration's label.
    assert {event["name"] for event in inner} >= {"Less", "AddV2"}


def test_lanes_nest_only_on_the_same_thread():
    step_stats = tf.StepStats()
    device = step_stats.dev_stats.add(device="/job:localhost/replica:0/task:0/device:CPU:0")
    for name, start, duration, thread in (("loop", 100, 50, 7), ("loop/add", 110, 5, 7),
                                          ("loop/mul", 120, 5, 7), ("other", 112, 5, 8)):
        device.node_stats.add(node_name=name, timeline_label=f"{name} = Op()",
                              all_start_micros=start, all_end_rel_micros=duration,
                              thread_id=thread)
    nodes = [timeline._Node(stats) for stats in device.node_stats]
    timeline._assign_lanes(nodes)
    by_name = {node.name: node for node in nodes}
    assert by_name["loop/add"].lane == by_name["loop/mul"].lane == by_name["loop"].lane
    assert by_name["loop/add"].parent is by_name["loop"] and by_name["loop/add"].depth == 1
    assert by_name["other"].lane != by_name["loop"].lane and by_name["other"].parent is None


def test_svg_draws_the_loop_as_a_band_over_its_iterations(executor):
    _, total = tf.while_loop(lambda i, x: i < 3, lambda i, x: (i + 1, x + 2.0),
                             [tf.constant(0), tf.constant(0.0)], name="loop")
    _, _, metadata = _traced(total)
    svg = timeline.Timeline(metadata.step_stats).generate_svg()
    (band,) = re.findall(r'<rect class="group" data-node="loop" x="([\d.]+)" y="(\d+)" '
                         r'width="([\d.]+)" height="(\d+)"', svg)
    bars = dict(re.findall(r'<g class="op" data-node="([^"]+)"[^>]*>.*?<rect x="[\d.]+" '
                           r'y="(\d+)"', svg))
    # The band starts at the loop's row and reaches the row of its iterations below it.
    assert int(band[1]) < int(bars["loop/add"]) < int(band[1]) + int(band[3])
    assert int(bars["loop"]) < int(bars["loop/add"])


# ---- leftover limits ----------------------------------------------------------------------

@pytest.mark.parametrize("use_resource", [False, True])
def test_initialized_value_in_one_initializer_run(executor, workers, use_resource):
    v = tf.Variable(3.0, use_resource=use_resource)
    w = tf.Variable(v.initialized_value() * 2, use_resource=use_resource)
    x = tf.Variable(w.initialized_value() + v.initialized_value(), use_resource=use_resource)
    g = tf.get_variable("g", initializer=x.initialized_value() * 10.0,
                        use_resource=use_resource)
    assert v.op.type == ("VarHandleOp" if use_resource else "VariableV2")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        # TF 2.21 (RefVariable, its v1 default): [3.0, 6.0, 9.0, 90.0], then 6.0 once v is
        # assigned.
        assert sess.run([v, w, x, g]) == [3.0, 6.0, 9.0, 90.0]
        sess.run(v.assign(5.0))
        assert sess.run(w.initialized_value()) == 6.0


def test_a_branch_returning_an_operation_gives_tf1s_bool(executor):
    p = tf.placeholder(tf.bool, [])
    v = tf.Variable(0)
    out = tf.cond(p, lambda: v.assign_add(1).op, lambda: tf.no_op())
    # TF 2.21 with v1 control flow: Tensor("cond/Merge:0", shape=(), dtype=bool); runs give
    # True 1, then False 1.
    assert isinstance(out, tf.Tensor) and out.dtype == tf.bool and out.shape.rank == 0
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(out, {p: True}) == True  # noqa: E712
        assert sess.run(v.value()) == 1
        assert sess.run(out, {p: False}) == False  # noqa: E712
        assert sess.run(v.value()) == 1
    # An Operation against a bool tensor matches (TF 2.21 accepts it); against another
    # dtype it is TF's ValueError.
    tf.cond(p, lambda: v.assign_add(1).op, lambda: tf.constant(True))
    with pytest.raises(ValueError, match="Received bool from 'true_fn' and int32 from "
                                         "'false_fn'"):
        tf.cond(p, lambda: v.assign_add(1).op, lambda: tf.constant(1))


def test_session_close_from_another_thread_cancels_a_loop(executor, workers):
    rounds = tf.Variable(0, name="rounds")

    def body(i):
        with tf.control_dependencies([rounds.assign_add(1)]):
            return i + 1

    i = tf.while_loop(lambda i: True, body, [tf.constant(0)])
    sess = tf.Session()
    sess.run(rounds.initializer)

    def close_once_looping():
        # A close before the run starts makes run raise RuntimeError, not cancel it: however
        # slow the machine, wait (reading in runs of its own) until the loop goes round.
        deadline = time.monotonic() + 60
        while sess.run(rounds) == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        sess.close()

    closer = threading.Thread(target=close_once_looping)
    closer.start()
    try:
        with pytest.raises(errors.CancelledError, match="Session has been closed"):
            sess.run(i)
    finally:
        closer.join()


def test_function_bodies_follow_the_sessions_optimizer_options(executor):
    x = tf.placeholder(tf.float32, [4])
    _, y = tf.while_loop(lambda i, a: i < 2,
                         lambda i, a: (i + 1, tf.exp(a * 0.5 + 0.25) - 1.0),
                         [tf.constant(0), x], name="loop")
    feed = {x: np.arange(4, dtype=np.float32)}
    expected = feed[x]
    for _ in range(2):
        expected = np.exp(expected * 0.5 + 0.25) - 1.0

    def body_ops(config):
        value, rows, _ = _traced(y, feed, config)
        np.testing.assert_allclose(value, expected, rtol=1e-5)
        return {node.timeline_label.split(" = ")[1].split("(")[0] for _, node in rows
                if _iteration(node.timeline_label) == 0}

    # Default: the body's elementwise chain is fused; at L0 nothing in the body is rewritten.
    assert "_FusedElementwise" in body_ops(None)
    l0 = tf.ConfigProto(graph_options=tf.GraphOptions(
        optimizer_options=tf.OptimizerOptions(opt_level=tf.OptimizerOptions.L0)))
    assert body_ops(l0) >= {"Mul", "AddV2", "Exp", "Sub", "Less"}
    assert "_FusedElementwise" not in body_ops(l0)
