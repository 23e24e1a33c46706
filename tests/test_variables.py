"""Variables: resource semantics, initializers, collections, assignment and concurrency."""

import threading

import numpy as np
import pytest

import sessionlib as tf
from sessionlib import errors

# Every run that could block gets a deadline, so a bug fails the test instead of hanging it.
BOUNDED = tf.RunOptions(timeout_in_ms=20000)


def test_names_and_properties(executor):
    v = tf.Variable([1.0, 2.0], name="v")
    assert v.name == "v:0"
    assert v.op.name == "v"
    assert v.op.type == "VarHandleOp"
    assert v.initializer.name == "v/Assign"
    assert v.initializer.type == "AssignVariableOp"
    assert v.initial_value.name == "v/Initializer/initial_value:0"
    assert v.dtype == tf.float32
    assert v.shape.as_list() == [2]
    assert v.get_shape().as_list() == [2]
    assert v.graph is tf.get_default_graph()
    assert v.device == ""
    w = tf.Variable(0, name="v")
    assert w.name == "v_1:0"
    assert w.dtype == tf.int32
    assert tf.Variable(3.0).name == "Variable:0"


def test_device_is_the_handles(executor):
    with tf.device("/cpu:0"):
        v = tf.Variable(1.0)
    assert v.device == "/device:CPU:0"
    assert v.assign_add(1.0).op.device == "/device:CPU:0"


def test_uninitialized_read_is_failed_precondition_naming_the_variable(executor):
    v = tf.Variable(1.0, name="weights")
    with tf.Session() as sess:
        with pytest.raises(errors.FailedPreconditionError, match="weights") as info:
            sess.run(v)
        assert info.value.op is not None
        assert "uninitialized" in info.value.message
        with pytest.raises(errors.FailedPreconditionError, match="weights"):
            sess.run(v.assign_add(1.0))


def test_values_persist_across_runs_and_updates_return_new_values(executor):
    v = tf.Variable([1.0, 2.0], name="v")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_array_equal(sess.run(v), [1.0, 2.0])
        np.testing.assert_array_equal(sess.run(v.assign_add([1.0, 1.0])), [2.0, 3.0])
        np.testing.assert_array_equal(sess.run(v.assign_sub([0.5, 0.5])), [1.5, 2.5])
        np.testing.assert_array_equal(sess.run(v.assign([7.0, 8.0])), [7.0, 8.0])
        np.testing.assert_array_equal(sess.run(v.read_value()), [7.0, 8.0])
        np.testing.assert_array_equal(sess.run(v.value()), [7.0, 8.0])
        assert sess.run(v.assign([0.0, 0.0], read_value=False)) is None
        np.testing.assert_array_equal(sess.run(v), [0.0, 0.0])


def test_update_ops_run_as_ops(executor):
    v = tf.Variable(10, name="counter")
    increment = v.assign_add(1)
    with tf.Session() as sess:
        sess.run(v.initializer)
        sess.run(increment.op)
        sess.run(tf.group(increment))
        with tf.control_dependencies([increment]):
            after = tf.identity(v.value())
        assert sess.run(after) == 13
        assert sess.run(v) == 13


def test_module_functions(executor):
    v = tf.Variable(5.0)
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert sess.run(tf.assign(v, 2.0)) == 2.0
        assert sess.run(tf.assign_add(v, 3.0)) == 5.0
        assert sess.run(tf.assign_sub(v, 1.0)) == 4.0
    with pytest.raises(TypeError):
        tf.assign(tf.constant(1.0), 2.0)


def test_fetched_values_are_snapshots(executor):
    v = tf.Variable(np.zeros(3, np.float32))
    delta = tf.placeholder(tf.float32, [3])
    update = v.assign_add(delta, read_value=False)
    with tf.Session() as sess:
        sess.run(v.initializer)
        before = sess.run(v)
        from_update = sess.run(v.assign_add(delta), {delta: np.ones(3, np.float32)})
        sess.run(update, {delta: np.ones(3, np.float32)})
        np.testing.assert_array_equal(before, [0, 0, 0])
        np.testing.assert_array_equal(from_update, [1, 1, 1])
        np.testing.assert_array_equal(sess.run(v), [2, 2, 2])
        # Changing a fetched value does not change the variable.
        fetched = sess.run(v)
        fetched[:] = 100
        np.testing.assert_array_equal(sess.run(v), [2, 2, 2])


def test_a_read_held_in_a_queue_keeps_its_value(executor):
    v = tf.Variable(np.zeros(2, np.float32))
    queue = tf.FIFOQueue(2, tf.float32, shapes=[[2]])
    enqueue = queue.enqueue(v.value())
    update = v.assign_add(np.ones(2, np.float32), read_value=False)
    with tf.Session() as sess:
        sess.run(v.initializer)
        sess.run(enqueue)
        sess.run(update)
        np.testing.assert_array_equal(sess.run(queue.dequeue(), options=BOUNDED), [0, 0])
        np.testing.assert_array_equal(sess.run(v), [1, 1])


def test_assigned_feed_is_copied(executor):
    v = tf.Variable(np.zeros(2, np.float32))
    value = tf.placeholder(tf.float32, [2])
    assign = v.assign(value, read_value=False)
    fed = np.array([1.0, 2.0], np.float32)
    with tf.Session() as sess:
        sess.run(assign, {value: fed})
        fed[:] = -1
        np.testing.assert_array_equal(sess.run(v), [1.0, 2.0])


def test_two_sessions_have_independent_values(executor):
    v = tf.Variable(0)
    increment = v.assign_add(1)
    with tf.Session() as first, tf.Session() as second:
        first.run(v.initializer)
        second.run(v.initializer)
        first.run(increment)
        first.run(increment)
        second.run(increment)
        assert first.run(v) == 2
        assert second.run(v) == 1


def test_concurrent_assign_add_loses_no_increments(executor):
    v = tf.Variable(np.zeros(4, np.int64))
    increment = v.assign_add(np.ones(4, np.int64), read_value=False)
    read = v.value()
    threads_count, steps = 8, 200
    with tf.Session() as sess:
        sess.run(v.initializer)
        failures = []

        def worker():
            try:
                for step in range(steps):
                    sess.run(increment, options=BOUNDED)
                    if step % 50 == 0:
                        sess.run(read)  # readers force the copy-on-write path now and then
            except Exception as err:  # noqa: BLE001 - reported below
                failures.append(err)

        threads = [threading.Thread(target=worker) for _ in range(threads_count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not any(thread.is_alive() for thread in threads)
        assert not failures
        np.testing.assert_array_equal(sess.run(v), [threads_count * steps] * 4)


def test_collections_and_initializers(executor):
    a = tf.Variable(1.0, name="a")
    b = tf.Variable(2.0, name="b", trainable=False)
    local = tf.Variable(3.0, name="local", collections=[tf.GraphKeys.LOCAL_VARIABLES])
    assert tf.global_variables() == [a, b]
    # As in TF, a trainable variable joins TRAINABLE_VARIABLES whatever its collections.
    assert tf.trainable_variables() == [a, local]
    assert tf.local_variables() == [local]
    assert tf.global_variables_initializer().name == "init"
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run([a, b]) == [1.0, 2.0]
        assert not sess.run(tf.is_variable_initialized(local))
        sess.run(tf.local_variables_initializer())
        assert sess.run(local) == 3.0
    with tf.Session() as sess:
        sess.run(tf.variables_initializer([b]))
        assert sess.run(tf.is_variable_initialized(b))
        assert not sess.run(tf.is_variable_initialized(a))
        sess.run(tf.variables_initializer([]))


def test_report_uninitialized_variables(executor):
    a = tf.Variable(1.0, name="a")
    b = tf.Variable(2.0, name="scope_b")
    report = tf.report_uninitialized_variables()
    assert report.dtype == tf.string
    with tf.Session() as sess:
        names = sess.run(report)
        assert list(names) == [b"a", b"scope_b"]
        assert isinstance(names[0], bytes)
        sess.run(b.initializer)
        assert list(sess.run(report)) == [b"a"]
        sess.run(a.initializer)
        assert sess.run(report).shape == (0,)
        assert sess.run(tf.report_uninitialized_variables([])).shape == (0,)


def test_session_run_and_conversion_of_a_variable(executor):
    v = tf.Variable([[1.0, 2.0]], name="v")
    as_tensor = tf.convert_to_tensor(v)
    assert isinstance(as_tensor, tf.Tensor)
    assert as_tensor.dtype == tf.float32
    with pytest.raises(ValueError):
        tf.convert_to_tensor(v, dtype=tf.int32)
    doubled = tf.identity(v)
    with tf.Session() as sess:
        sess.run(v.initializer)
        np.testing.assert_array_equal(sess.run(v), [[1.0, 2.0]])
        np.testing.assert_array_equal(sess.run(as_tensor), [[1.0, 2.0]])
        np.testing.assert_array_equal(sess.run(doubled), [[1.0, 2.0]])
        np.testing.assert_array_equal(sess.run({"v": v})["v"], [[1.0, 2.0]])
        np.testing.assert_array_equal(sess.run(v, {v: [[5.0, 6.0]]}), [[5.0, 6.0]])


def test_operators_read_the_variable(executor):
    if not hasattr(tf.Tensor, "__add__"):
        pytest.skip("Tensor operators are not available yet")
    v = tf.Variable([[1.0, 2.0]], name="v")
    x = tf.constant([[1.0], [1.0]])
    with tf.Session() as sess:
        sess.run(v.initializer)
        np.testing.assert_array_equal(sess.run(v + 1), [[2.0, 3.0]])
        np.testing.assert_array_equal(sess.run(1 - v), [[0.0, -1.0]])
        np.testing.assert_array_equal(sess.run(-v), [[-1.0, -2.0]])
        np.testing.assert_array_equal(sess.run(v * v), [[1.0, 4.0]])
        np.testing.assert_array_equal(sess.run(tf.matmul(x, v)), [[1.0, 2.0], [1.0, 2.0]])
    with pytest.raises(TypeError):
        iter(v)
    with pytest.raises(TypeError):
        bool(v)


def test_eval_and_load(executor):
    v = tf.Variable([1, 2], name="v")
    with tf.Session() as sess:
        sess.run(v.initializer)
        np.testing.assert_array_equal(v.eval(session=sess), [1, 2])
        v.load([3, 4], sess)
        np.testing.assert_array_equal(sess.run(v), [3, 4])
        with sess.as_default():
            np.testing.assert_array_equal(v.eval(), [3, 4])
            v.load([5, 6])
            np.testing.assert_array_equal(v.eval(), [5, 6])
    with pytest.raises(ValueError):
        v.load([1, 2])


def test_constructor_options(executor):
    from_fn = tf.Variable(lambda: np.arange(3, dtype=np.float64), name="from_fn")
    typed = tf.Variable([1, 2], dtype=tf.float32)
    unknown = tf.Variable([1.0], validate_shape=False)
    shaped = tf.Variable([1.0, 2.0], shape=tf.TensorShape([None]))
    assert from_fn.dtype == tf.float64
    assert typed.dtype == tf.float32
    assert unknown.shape.rank is None
    assert shaped.shape.as_list() == [None]
    with pytest.raises(ValueError):
        tf.Variable(None)
    with pytest.raises(ValueError):
        tf.Variable([1.0, 2.0], shape=[3])
    # Variables ignore the control dependencies of the block they are made in.
    with tf.control_dependencies([tf.no_op()]):
        independent = tf.Variable(0.0)
    assert independent.initializer.control_inputs == []
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_array_equal(sess.run(from_fn), [0.0, 1.0, 2.0])
        # A variable without a static shape may change shape.
        np.testing.assert_array_equal(sess.run(unknown.assign([1.0, 2.0, 3.0])), [1, 2, 3])
        np.testing.assert_array_equal(sess.run(shaped.assign([4.0])), [4.0])


def test_static_and_runtime_checks(executor):
    v = tf.Variable([1.0, 2.0])
    with pytest.raises(ValueError):
        v.assign([1.0, 2.0, 3.0])
    with pytest.raises((TypeError, ValueError)):
        v.assign(tf.constant([1, 2]))
    with pytest.raises((TypeError, ValueError)):
        tf.Variable(["a"]).assign_add(["b"])
    unknown = tf.Variable([1.0, 2.0], validate_shape=False)
    bad_update = unknown.assign_add(tf.placeholder_with_default([1.0, 2.0, 3.0], shape=None))
    with tf.Session() as sess:
        sess.run(unknown.initializer)
        with pytest.raises(errors.InvalidArgumentError, match="shapes must be equal"):
            sess.run(bad_update)
        np.testing.assert_array_equal(sess.run(unknown), [1.0, 2.0])


def test_string_variable(executor):
    v = tf.Variable([b"a", b"bc"], name="names")
    assert v.dtype == tf.string
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert list(sess.run(v)) == [b"a", b"bc"]
        assert list(sess.run(v.assign(["x", "y"]))) == [b"x", b"y"]


def test_session_close_drops_values(executor):
    v = tf.Variable(1.0)
    sess = tf.Session()
    sess.run(v.initializer)
    sess.close()
    with tf.Session() as fresh:
        with pytest.raises(errors.FailedPreconditionError):
            fresh.run(v)
