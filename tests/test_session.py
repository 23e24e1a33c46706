"""`Session` and `InteractiveSession`: life cycle, defaults, callables, errors and placement.

Fetch and feed mapping has its own file (test_fetch_feed.py); threads too
(test_session_threads.py). Expected behaviour was measured with TF 2.21's ``tf.compat.v1``.
"""

import logging
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import sessionlib as tf
from sessionlib import errors


def _chain(length=3, name="p"):
    """A float32 placeholder and an identity chain on it."""
    p = tf.placeholder(tf.float32, [], name=name)
    out = p
    for _ in range(length):
        out = tf.identity(out)
    return p, out


# ---- construction -----------------------------------------------------------------------

def test_local_target_and_properties(executor):
    tf.constant(1)
    for target in ("", b""):
        with tf.Session(target) as sess:
            assert sess.sess_str == b""
            assert sess.graph is tf.get_default_graph()


@pytest.mark.parametrize("kwargs", [{"graph": 1}, {"config": 1}, {"target": 1},
                                    {"graph": tf.GraphDef()}, {"config": tf.RunOptions()}])
def test_wrong_argument_types_are_type_errors(kwargs):
    with pytest.raises(TypeError):
        tf.Session(**kwargs)


@pytest.mark.parametrize("target", ["bogus", "grpc://localhost:2222"])
def test_unknown_targets_are_not_found(target):
    with pytest.raises(errors.NotFoundError):
        tf.Session(target)


def test_zero_cpus_is_not_found():
    with pytest.raises(errors.NotFoundError):
        tf.Session(config=tf.ConfigProto(device_count={"CPU": 0}))


@pytest.mark.parametrize("count", [1, 3])
def test_list_devices(count):
    config = None if count == 1 else tf.ConfigProto(device_count={"CPU": count})
    with tf.Session(config=config) as sess:
        devices = sess.list_devices()
    assert [d.name for d in devices] == [
        f"/job:localhost/replica:0/task:0/device:CPU:{i}" for i in range(count)]
    for device in devices:
        assert device.device_type == "CPU"
        assert device.memory_limit_bytes > 0
        assert device.memory_limit == device.memory_limit_bytes


def test_list_devices_of_a_closed_session_raises_cancelled():
    # TF 1's SessionRef answers ListDevices on a closed session with CANCELLED.
    sess = tf.Session()
    sess.close()
    with pytest.raises(errors.CancelledError) as caught:
        sess.list_devices()
    assert isinstance(caught.value, errors.OpError)
    assert not isinstance(caught.value, RuntimeError)
    assert caught.value.message == "Session has been closed."


def test_session_graph_defaults_to_the_default_graph():
    graph = tf.Graph()
    with graph.as_default():
        sess = tf.Session()
    assert sess.graph is graph
    sess.close()


def test_empty_graph_is_a_runtime_error(executor):
    with tf.Session(graph=tf.Graph()) as sess:
        with pytest.raises(RuntimeError, match="empty"):
            sess.run([])


# ---- defaults, eval, Operation.run -------------------------------------------------------

def test_with_session_makes_session_and_graph_default(executor):
    graph = tf.Graph()
    with graph.as_default():
        a = tf.constant(3)
    outer_graph = tf.get_default_graph()
    with tf.Session(graph=graph) as sess:
        assert tf.get_default_session() is sess
        assert tf.get_default_graph() is graph
        assert a.eval() == 3
    assert tf.get_default_session() is None
    assert tf.get_default_graph() is outer_graph
    with pytest.raises(RuntimeError):
        sess.run(a)  # leaving the block closed it


def test_as_default_does_not_close(executor):
    a = tf.constant(3)
    sess = tf.Session()
    with sess.as_default() as entered:
        assert entered is sess
        assert tf.get_default_session() is sess
        value = a.eval()
    assert value == 3 and isinstance(value, np.int32)
    assert sess.run(a) == 3
    assert tf.get_default_session() is None
    sess.close()


def test_as_default_nests(executor):
    tf.constant(1)
    first, second = tf.Session(), tf.Session()
    with first.as_default():
        with second.as_default():
            assert tf.get_default_session() is second
        assert tf.get_default_session() is first
    first.close()
    second.close()


def test_eval_and_operation_run(executor):
    p = tf.placeholder(tf.int32, name="p")
    out = tf.identity(p)
    sess = tf.Session()
    assert out.eval(feed_dict={p: 4}, session=sess) == 4
    assert out.op.run(feed_dict={p: 4}, session=sess) is None
    assert p.eval({p: 5}, session=sess) == 5
    with sess.as_default():
        assert out.eval({p: 6}) == 6
        assert tf.no_op().run() is None
    sess.close()


def test_eval_without_default_session_is_a_value_error():
    a = tf.constant(3)
    with pytest.raises(ValueError, match="default session"):
        a.eval()
    with pytest.raises(ValueError, match="default session"):
        a.op.run()


def test_eval_in_a_session_of_another_graph_is_a_value_error():
    graph = tf.Graph()
    with graph.as_default():
        a = tf.constant(3)
    tf.constant(1)
    sess = tf.Session()
    with sess.as_default():
        with pytest.raises(ValueError, match="graph"):
            a.eval()
        with pytest.raises(ValueError, match="graph"):
            a.op.run()
    with pytest.raises(ValueError, match="graph"):
        a.eval(session=sess)
    sess.close()


def test_interactive_session(executor):
    a = tf.constant(3)
    graph = tf.get_default_graph()
    sess = tf.InteractiveSession()
    assert tf.get_default_session() is sess
    assert tf.get_default_graph() is graph
    assert a.eval() == 3
    sess.close()
    assert tf.get_default_session() is None


def test_interactive_session_with_its_own_graph(executor):
    graph = tf.Graph()
    with graph.as_default():
        a = tf.constant(5)
    sess = tf.InteractiveSession(graph=graph)
    assert tf.get_default_graph() is graph
    assert a.eval() == 5
    sess.close()
    assert tf.get_default_graph() is not graph


# ---- close and reset --------------------------------------------------------------------

def test_close(executor):
    p, out = _chain()
    sess = tf.Session()
    call = sess.make_callable(out, [p])
    assert call(1.0) == 1.0
    two = tf.constant(2.0)
    fetch_only = sess.make_callable(two)
    assert fetch_only() == 2.0
    sess.close()
    sess.close()  # twice is harmless
    with pytest.raises(RuntimeError, match="closed"):
        sess.run(out, {p: 1.0})
    # TF's callable with a feed list calls run: RuntimeError, and only when called
    with pytest.raises(RuntimeError, match="closed"):
        call(1.0)
    late = sess.make_callable(out, [p])
    with pytest.raises(RuntimeError, match="closed"):
        late(1.0)
    # without one, TF runs it in the C session, which answers a closed one with CANCELLED
    with pytest.raises(errors.CancelledError, match="Session has been closed"):
        fetch_only()
    late_fetch_only = sess.make_callable(two)
    with pytest.raises(errors.CancelledError, match="Session has been closed"):
        late_fetch_only()
    with pytest.raises(TypeError):
        sess.make_callable(None)  # the fetches are still checked, as in TF
    with pytest.raises(TypeError):
        sess.make_callable(out, p)  # the feed list's type is checked first, as in TF
    with pytest.raises(errors.CancelledError, match="closed"):
        sess.list_devices()  # an OpError, as TF's (and its docstring's) ListDevices
    if hasattr(sess, "partial_run_setup"):
        with pytest.raises(RuntimeError):
            sess.partial_run_setup([out], [p])


def test_reset_cancels_every_local_session(executor):
    a = tf.constant(1)
    first, second = tf.Session(), tf.Session()
    assert first.run(a) == 1
    tf.Session.reset("")
    for sess in (first, second):
        with pytest.raises(errors.CancelledError):
            sess.run(a)
    fresh = tf.Session()
    assert fresh.run(a) == 1
    fresh.close()


def test_reset_of_an_unknown_target_is_not_found():
    with pytest.raises(errors.NotFoundError):
        tf.Session.reset("bogus")


# ---- run options, callables --------------------------------------------------------------

def test_options_and_run_metadata_are_accepted(executor):
    p, out = _chain()
    with tf.Session() as sess:
        metadata = tf.RunMetadata()
        value = sess.run(out, {p: 2.0}, options=tf.RunOptions(), run_metadata=metadata)
    assert value == 2.0


def test_make_callable_structures_and_names(executor):
    p, out = _chain()
    tf.identity(out, name="named")
    with tf.Session() as sess:
        call = sess.make_callable([out, {"x": "named:0"}, out.op], [p])
        assert call(2.0) == [np.float32(2.0), {"x": np.float32(2.0)}, None]
        assert isinstance(call(3.0)[0], np.float32)
        by_name = sess.make_callable("named:0", ["p:0"])
        assert by_name(4.0) == 4.0
        assert sess.make_callable(tf.no_op())() is None
        assert sess.make_callable([])() == []
        const = tf.constant(7, name="seven")
        assert sess.make_callable(const)() == 7


def test_make_callable_options(executor):
    p, out = _chain()
    with tf.Session() as sess:
        with_options = sess.make_callable(out, [p], accept_options=True)
        assert with_options(1.0, options=tf.RunOptions(),
                            run_metadata=tf.RunMetadata()) == 1.0
        plain = sess.make_callable(out, [p])
        assert plain(1.0, options=tf.RunOptions()) == 1.0
        with pytest.raises(TypeError):
            plain(1.0, bogus=1)


def test_make_callable_errors(executor):
    p = tf.placeholder(tf.float32, [2], name="p")
    with tf.Session() as sess:
        call = sess.make_callable(p, [p])
        with pytest.raises(ValueError):
            call(1.0)  # shape (2,) expected
        with pytest.raises(TypeError):
            call(tf.constant([1.0, 2.0]))
        with pytest.raises(TypeError):
            call()
        with pytest.raises(TypeError):
            sess.make_callable(p, p)  # feed_list must be a list or tuple
        with pytest.raises(TypeError):
            sess.make_callable(p, [p.op])
        with pytest.raises(TypeError):
            sess.make_callable(None)
        with pytest.raises(errors.InvalidArgumentError):
            sess.make_callable(p)()


def test_make_callable_sees_a_fed_intermediate(executor):
    p, out = _chain(3)
    middle = out.op.inputs[0]
    with tf.Session() as sess:
        call = sess.make_callable(out, [middle])
        assert call(9.0) == 9.0


# ---- step cache --------------------------------------------------------------------------

def test_step_cache_reuses_and_graph_changes_invalidate(executor):
    p, out = _chain()
    sess = tf.Session()
    assert sess.run(out, {p: 1.0}) == 1.0
    assert sess.run(out, {p: 2.0}) == 2.0
    assert len(sess._runtime.cached_steps()) == 1
    (step,) = sess._runtime.cached_steps()
    sess.run(out, {p: 3.0})
    assert next(iter(sess._runtime.cached_steps())) is step
    more = tf.identity(out)  # the graph's version changes
    assert sess.run([out, more], {p: 4.0}) == [4.0, 4.0]
    assert step not in sess._runtime.cached_steps()
    assert all(s.graph_version == tf.get_default_graph().version
               for s in sess._runtime.cached_steps())
    sess.close()


def test_step_cache_keys_on_feeds_fetches_and_targets(executor):
    p, out = _chain()
    noop = tf.no_op()
    with tf.Session() as sess:
        sess.run(out, {p: 1.0})
        sess.run([out, noop], {p: 1.0})
        sess.run(out, {out.op.inputs[0]: 1.0})
        assert len(sess._runtime.cached_steps()) == 3


def test_a_control_input_added_later_invalidates_the_cache(executor):
    p = tf.placeholder(tf.float32, [], name="p")
    out = tf.identity(tf.constant(1.0))
    with tf.Session() as sess:
        assert sess.run(out) == 1.0
        version = tf.get_default_graph().version
        out.op._add_control_input(p.op)
        assert tf.get_default_graph().version > version
        with pytest.raises(errors.InvalidArgumentError):
            sess.run(out)  # the unfed placeholder now runs first
        assert sess.run(out, {p: 0.0}) == 1.0


# ---- run-time errors ---------------------------------------------------------------------

def test_op_error_carries_the_failing_op(executor):
    p = tf.placeholder(tf.float32, name="input_value")
    out = tf.identity(tf.identity(p), name="result")
    with tf.Session() as sess:
        with pytest.raises(errors.InvalidArgumentError) as caught:
            sess.run(out)
    error = caught.value
    assert error.op is p.op
    assert error.node_def.name == "input_value"
    assert error.error_code == errors.INVALID_ARGUMENT
    assert "input_value" in error.message
    assert "input_value" in str(error)


def test_session_stays_usable_after_an_error(executor):
    p, out = _chain()
    with tf.Session() as sess:
        with pytest.raises(errors.InvalidArgumentError):
            sess.run(out)
        assert sess.run(out, {p: 5.0}) == 5.0


# ---- placement ---------------------------------------------------------------------------

@pytest.mark.parametrize("device", ["/cpu:7", "/gpu:0", "/job:elsewhere/cpu:0"])
def test_a_missing_device_fails_at_run_time(executor, device):
    with tf.device(device):
        a = tf.constant(1, name="pinned")
    with tf.Session() as sess:
        with pytest.raises(errors.InvalidArgumentError) as caught:
            sess.run(a)
    assert caught.value.op is a.op
    assert "pinned" in caught.value.message
    assert tf.get_default_graph().get_operation_by_name("pinned").device in caught.value.message


@pytest.mark.parametrize("device", ["/cpu:7", "/gpu:0"])
def test_soft_placement_falls_back_to_a_cpu(executor, device):
    with tf.device(device):
        a = tf.constant(1, name="pinned")
    config = tf.ConfigProto(allow_soft_placement=True)
    with tf.Session(config=config) as sess:
        assert sess.run(a) == 1


def test_an_existing_second_cpu_is_used(executor):
    with tf.device("/cpu:1"):
        a = tf.constant(1, name="on_one")
    b = tf.identity(a, name="follower")
    config = tf.ConfigProto(device_count={"CPU": 2})
    with tf.Session(config=config) as sess:
        assert sess.run(b) == 1
        assert sess._runtime.place([a.op])[0].endswith("/device:CPU:1")
        # TF 2.21: an op without a device goes to the default device, not after its input.
        assert sess._runtime.place([b.op])[0].endswith("/device:CPU:0")


def test_log_device_placement(executor, caplog, capsys):
    with tf.device("/cpu:1"):
        a = tf.constant(1, name="on_one")
    b = tf.identity(a, name="follower")
    config = tf.ConfigProto(log_device_placement=True, device_count={"CPU": 2})
    with caplog.at_level(logging.INFO, logger="sessionlib"):
        with tf.Session(config=config) as sess:
            sess.run(b)
    # TF 2.21's lines for this graph: the generator (the Const) is placed last.
    expected = ["follower: (Identity): /job:localhost/replica:0/task:0/device:CPU:0",
                "on_one: (Const): /job:localhost/replica:0/task:0/device:CPU:1"]
    logged = [record.getMessage() for record in caplog.records if record.name == "sessionlib"]
    assert logged == expected
    printed = capsys.readouterr().out.splitlines()
    assert printed == expected


def test_no_placement_log_by_default(executor, capsys):
    a = tf.constant(1)
    with tf.Session() as sess:
        sess.run(a)
    assert capsys.readouterr().out == ""


def test_a_session_collected_inside_the_live_sessions_lock_does_not_deadlock():
    # `__del__` closes the session, and close() takes the registry lock; a garbage
    # collection can run while this very thread holds it (any allocation inside the block).
    code = textwrap.dedent("""
        import gc
        import sessionlib as tf
        from sessionlib.client import session as session_lib
        tf.constant(1.0)
        sess = tf.Session()
        sess.cycle = sess
        del sess
        gc.disable()
        with session_lib._live_sessions_lock:
            gc.collect()
        print("ok")
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert result.stdout.strip() == "ok", result.stderr
