"""The runtime interface itself, without a session: one suite, run against both implementations.

Each test makes its runtime with `runtime.create_runtime`, as a session does, under
``SESSIONLIB_WORKERS=0`` (in process) or ``=1`` (device worker processes), and drives
`Runtime.compile` and `Step.run` directly.
"""

import sys

import numpy as np
import pytest

import sessionlib as tf
from sessionlib import errors, runtime
from sessionlib.runtime import context, failures, interface, tracing

CPU0 = "/job:localhost/replica:0/task:0/device:CPU:0"
CPU1 = "/job:localhost/replica:0/task:0/device:CPU:1"

_handles = iter(range(1 << 30))


@pytest.fixture(params=["in_process", "workers"])
def make_runtime(request, monkeypatch, executor):
    """Makes runtimes of one implementation, on each executor (closed at the end of the
    test)."""
    monkeypatch.setenv("SESSIONLIB_WORKERS", "0" if request.param == "in_process" else "1")
    made = []

    def make(graph=None, config=None):
        made.append(runtime.create_runtime(graph or tf.get_default_graph(),
                                           config or tf.ConfigProto(),
                                           f"test_runtime_{next(_handles)}"))
        return made[-1]

    yield make
    for each in made:
        each.close()


def _context(rt, deadline=None):
    return context.RunContext(rt.resources, context.CancellationManager(), deadline, 1)


def _two_devices():
    return tf.ConfigProto(device_count={"CPU": 2})


def test_the_factory_picks_an_implementation_of_the_interface(make_runtime):
    tf.constant(1.0)
    rt = make_runtime()
    assert isinstance(rt, interface.Runtime)
    assert rt.device_names == [CPU0]
    assert isinstance(rt.resources, context.ResourceContainer)


def test_compile_and_run_a_step(make_runtime):
    a = tf.placeholder(tf.float32, [2], name="a")
    b = tf.multiply(a, 3.0, name="b")
    scalar = tf.reduce_sum(b, name="total")
    rt = make_runtime()
    step = rt.compile((a,), (b, scalar, a), ())
    assert isinstance(step, interface.Step)
    fed = np.array([1.0, 2.0], np.float32)
    values = step.run([fed], _context(rt))
    np.testing.assert_array_equal(values[0], [3.0, 6.0])
    assert isinstance(values[1], np.float32) and values[1] == 9.0  # 0-d: a numpy scalar
    assert values[2] is fed                                        # a fed fetch: the feed


def test_steps_are_cached_until_the_graph_changes(make_runtime):
    a = tf.placeholder(tf.float32, [], name="a")
    b = tf.identity(a, name="b")
    rt = make_runtime()
    step = rt.compile((a,), (b,), ())
    assert rt.compile((a,), (b,), ()) is step
    assert rt.compile((), (a,), ()) is not step    # another key, another step
    assert len(rt.cached_steps()) == 2
    tf.identity(b, name="later")                   # a new graph version
    fresh = rt.compile((a,), (b,), ())
    assert fresh is not step
    assert fresh.graph_version == tf.get_default_graph().version
    assert rt.cached_steps() == [fresh]
    assert fresh.run([np.array(5.0, np.float32)], _context(rt)) == [5.0]


def test_a_partial_run_piece_is_compiled_from_its_ops_and_hands_back_buffers(make_runtime):
    a = tf.placeholder(tf.float32, [], name="a")
    b = tf.add(a, 1.0, name="b")
    ops = (b.op.inputs[1].op, b.op)
    rt = make_runtime()
    step = rt.compile((a,), (b,), (), ops=ops)
    assert rt.compile((a,), (b,), (), ops=ops) is step
    assert rt.compile((a,), (b,), ()) is not step    # the ops are part of the key
    (value,) = step.run([np.array(1.0, np.float32)], _context(rt))
    assert isinstance(value, np.ndarray) and value.shape == () and value == 2.0


def test_place_and_list_devices(make_runtime):
    with tf.device("/cpu:1"):
        a = tf.constant(1.0, name="a")
    b = tf.identity(a, name="b")
    rt = make_runtime(config=_two_devices())
    assert rt.place([a.op, b.op]) == [CPU1, CPU0]  # TF 2.21: b goes to the default device
    devices = rt.list_devices()
    assert [d.name for d in devices] == [CPU0, CPU1]
    assert all(d.device_type == "CPU" and d.memory_limit > 0 for d in devices)


@pytest.mark.parametrize("trace_level", [tf.RunOptions.NO_TRACE, tf.RunOptions.FULL_TRACE])
def test_a_traced_run_fills_run_metadata(make_runtime, trace_level):
    with tf.device("/cpu:0"):
        a = tf.placeholder(tf.float32, [], name="a")
        shifted = tf.add(a, 1.0, name="shifted")
    with tf.device("/cpu:1"):
        b = tf.multiply(shifted, 2.0, name="b")
    rt = make_runtime(config=_two_devices())
    step = rt.compile((a,), (b,), ())
    metadata = tf.RunMetadata()
    trace = tracing.trace_request(
        tf.RunOptions(trace_level=trace_level, output_partition_graphs=True), metadata)
    assert step.run([np.array(3.0, np.float32)], _context(rt), trace) == [8.0]
    graph_devices = {node.device for g in metadata.partition_graphs for node in g.node}
    assert graph_devices == {CPU0, CPU1}
    stats_devices = {d.device for d in metadata.step_stats.dev_stats}
    if trace_level == tf.RunOptions.NO_TRACE:
        assert not stats_devices
    else:
        assert stats_devices == {CPU0, CPU1}
        assert all(d.node_stats for d in metadata.step_stats.dev_stats)
    assert tracing.trace_request(tf.RunOptions(), metadata) is None
    assert tracing.trace_request(tf.RunOptions(trace_level=trace_level), None) is None


def test_errors_carry_the_op_and_name_its_device(make_runtime):
    with tf.device("/cpu:1"):
        unfed = tf.placeholder(tf.float32, [], name="unfed")
        out = tf.identity(unfed, name="out")
    rt = make_runtime(config=_two_devices())
    step = rt.compile((), (out,), ())
    with pytest.raises(errors.InvalidArgumentError) as caught:
        step.run([], _context(rt))
    assert caught.value.op is unfed.op
    assert caught.value.node_def.name == "unfed"
    # The placeholder was built on the line above `out`: the message names that line.
    line = out.op.traceback[-1].lineno - 1
    assert caught.value.message.endswith(
        f"[[{{{{node unfed}}}} (defined at {__file__}:{line}) on {CPU1}]]")


def test_a_failing_kernel_on_another_device_is_the_error_not_the_abort(make_runtime):
    with tf.device("/cpu:0"):
        unfed = tf.placeholder(tf.float32, [], name="unfed")
        sent = tf.identity(unfed, name="sent")
    with tf.device("/cpu:1"):
        received = tf.identity(sent, name="received")
    rt = make_runtime(config=_two_devices())
    with pytest.raises(errors.InvalidArgumentError) as caught:
        rt.compile((), (received,), ()).run([], _context(rt))
    assert caught.value.op is unfed.op
    assert f"on {CPU0}]]" in caught.value.message


def test_clear_containers_and_close(make_runtime):
    counter = tf.Variable(0, name="counter")
    bump = counter.assign_add(1)
    rt = make_runtime()
    rt.compile((), (), (counter.initializer,)).run([], _context(rt))
    rt.compile((), (bump,), ()).run([], _context(rt))
    read = rt.compile((), (counter.value(),), ())
    assert read.run([], _context(rt)) == [1]
    rt.clear_containers(["elsewhere"])         # another container: the variable stays
    assert read.run([], _context(rt)) == [1]
    rt.clear_containers([""])                  # the default container: it goes
    with pytest.raises(errors.FailedPreconditionError):
        read.run([], _context(rt))
    rt.close()
    rt.close()                                 # twice is harmless
    assert rt.cached_steps() == []


def test_one_mapping_between_exceptions_and_codes():
    assert failures.error_code_of(ValueError("bad")) == (errors.INVALID_ARGUMENT, "bad")
    assert failures.error_code_of(ZeroDivisionError("zero"))[0] == errors.INVALID_ARGUMENT
    assert failures.error_code_of(MemoryError("big")) == (errors.RESOURCE_EXHAUSTED,
                                                          "OOM: big")
    assert failures.error_code_of(KeyError("k")) == (errors.INTERNAL, "KeyError: 'k'")
    closed = errors.CancelledError(None, None, "closed")
    assert failures.error_code_of(closed) == (errors.CANCELLED, "closed")
    # op_error derives the exception type from the same mapping; an OpError keeps its type.
    assert type(failures.op_error(None, None, MemoryError())) is errors.ResourceExhaustedError
    assert type(failures.op_error(None, None, KeyError())) is errors.InternalError
    assert type(failures.op_error(None, None, closed)) is errors.CancelledError


def test_op_error_names_the_node_and_its_device():
    op = tf.constant(1.0, name="c").op
    line = sys._getframe().f_lineno - 1
    error = failures.op_error(op, CPU1, ValueError("went wrong"))
    assert type(error) is errors.InvalidArgumentError
    assert error.op is op and error.node_def.name == "c"
    assert error.message == (f"went wrong\n\t [[{{{{node c}}}} (defined at {__file__}:{line}) "
                             f"on {CPU1}]]")
    assert failures.op_error(None, None, ValueError("inserted")).message == "inserted"
