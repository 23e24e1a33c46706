"""Session.partial_run_setup / partial_run, after TF's session_partial_run_test."""

import numpy as np
import pytest

import sessionlib as tf
from sessionlib import errors


def _three_inputs():
    a = tf.placeholder(tf.float32, shape=[])
    b = tf.placeholder(tf.float32, shape=[])
    c = tf.placeholder(tf.float32, shape=[])
    r1 = tf.add(a, b)
    r2 = tf.multiply(r1, c)
    return a, b, c, r1, r2


def test_partial_run(executor):
    a, b, c, r1, r2 = _three_inputs()
    with tf.Session() as sess:
        handle = sess.partial_run_setup([r1, r2], [a, b, c])
        assert isinstance(handle, str)
        assert sess.partial_run(handle, r1, feed_dict={a: 1, b: 2}) == np.float32(3.0)
        assert sess.partial_run(handle, r2, feed_dict={c: 17}) == np.float32(51.0)


def test_partial_run_incomplete_fetches_then_run(executor):
    a, b, c, r1, r2 = _three_inputs()
    with tf.Session() as sess:
        handle = sess.partial_run_setup([r1, r2], [a, b, c])
        assert sess.partial_run(handle, r1, feed_dict={a: 1, b: 2}) == np.float32(3.0)
        # The session still runs normally meanwhile.
        assert sess.run(r2, feed_dict={a: 1, b: 1, c: 1}) == np.float32(2.0)
        assert sess.partial_run(handle, r2, feed_dict={c: 2}) == np.float32(6.0)


def test_partial_run_structures_and_feed_single_element(executor):
    a = tf.placeholder(tf.float32, shape=[2])
    doubled = tf.multiply(a, 2.0)
    tripled = tf.multiply(a, 3.0)
    with tf.Session() as sess:
        handle = sess.partial_run_setup({"d": doubled, "t": [tripled]}, a)
        result = sess.partial_run(handle, {"d": doubled, "t": [tripled]},
                                  feed_dict={a: [1.0, 2.0]})
    np.testing.assert_array_equal(result["d"], [2.0, 4.0])
    np.testing.assert_array_equal(result["t"][0], [3.0, 6.0])


def test_partial_run_with_names(executor):
    a = tf.placeholder(tf.float32, shape=[], name="a")
    r = tf.multiply(a, 4.0, name="r")
    with tf.Session() as sess:
        handle = sess.partial_run_setup(["r:0"], ["a:0"])
        assert sess.partial_run(handle, "r:0", feed_dict={"a:0": 2.0}) == np.float32(8.0)
    assert r.name == "r:0"


def test_intermediate_values_are_kept_and_stateful_ops_run_once(executor):
    noise = tf.random_uniform([4])
    offset = tf.placeholder(tf.float32, shape=[])
    shifted = tf.add(noise, offset)
    with tf.Session() as sess:
        handle = sess.partial_run_setup([noise, shifted], [offset])
        first = sess.partial_run(handle, noise)
        second = sess.partial_run(handle, shifted, feed_dict={offset: 0.0})
    np.testing.assert_array_equal(first, second)


def test_stateful_target_runs_once(executor):
    counter = tf.Variable(0, name="counter")
    increment = tf.assign_add(counter, 1)
    a = tf.placeholder(tf.int32, shape=[])
    with tf.control_dependencies([increment]):
        after = tf.add(a, 100)
    with tf.Session() as sess:
        sess.run(counter.initializer)
        handle = sess.partial_run_setup([increment, after], [a])
        assert sess.partial_run(handle, increment) == 1
        assert sess.partial_run(handle, after, feed_dict={a: 1}) == 101
        assert sess.run(counter) == 1


def test_operation_fetch(executor):
    counter = tf.Variable(0)
    increment = tf.assign_add(counter, 5)
    group = tf.group(increment)
    a = tf.placeholder(tf.int32, shape=[])
    doubled = tf.multiply(a, 2)
    with tf.Session() as sess:
        sess.run(counter.initializer)
        handle = sess.partial_run_setup([group, doubled], [a])
        assert sess.partial_run(handle, group) is None
        assert sess.partial_run(handle, doubled, feed_dict={a: 4}) == 8
        assert sess.run(counter) == 5


def test_fetching_a_fed_tensor_gives_the_fed_value(executor):
    a = tf.placeholder(tf.float32, shape=[])
    b = tf.multiply(a, 2.0)
    with tf.Session() as sess:
        handle = sess.partial_run_setup([a, b], [a])
        fed_a, out_b = sess.partial_run(handle, [a, b], feed_dict={a: 3.0})
    assert fed_a == 3.0
    assert out_b == np.float32(6.0)


def test_fetched_intermediate_can_be_changed_safely(executor):
    a = tf.placeholder(tf.float32, shape=[3])
    b = tf.placeholder(tf.float32, shape=[])
    first = tf.multiply(a, 2.0)
    second = tf.multiply(first, b)
    with tf.Session() as sess:
        handle = sess.partial_run_setup([first, second], [a, b])
        value = sess.partial_run(handle, first, feed_dict={a: [1.0, 2.0, 3.0]})
        if value.flags.writeable:
            value[:] = 0
        np.testing.assert_array_equal(sess.partial_run(handle, second, feed_dict={b: 10.0}),
                                      [20.0, 40.0, 60.0])


def test_sparse_feed_and_fetch(executor):
    sp = tf.sparse_placeholder(tf.float32)
    dense = tf.sparse.to_dense(sp)
    with tf.Session() as sess:
        handle = sess.partial_run_setup([dense, sp], [sp])
        out_dense, out_sparse = sess.partial_run(
            handle, [dense, sp], feed_dict={sp: ([[0], [2]], [1.0, 2.0], [3])})
    np.testing.assert_array_equal(out_dense, [1.0, 0.0, 2.0])
    assert isinstance(out_sparse, tf.SparseTensorValue)


# ---- misuse --------------------------------------------------------------------------------

def test_fetch_that_needs_a_missing_feed(executor):
    a, b, c, r1, r2 = _three_inputs()
    with tf.Session() as sess:
        handle = sess.partial_run_setup([r1, r2], [a, b, c])
        with pytest.raises(errors.InvalidArgumentError, match="can't be computed"):
            sess.partial_run(handle, r2, feed_dict={a: 1, b: 2})
        # The rejected call fed nothing: the same feeds are accepted now.
        assert sess.partial_run(handle, r1, feed_dict={a: 1, b: 2}) == np.float32(3.0)
        assert sess.partial_run(handle, r2, feed_dict={c: 3}) == np.float32(9.0)


def test_feed_twice(executor):
    a, b, c, r1, r2 = _three_inputs()
    with tf.Session() as sess:
        handle = sess.partial_run_setup([r1, r2], [a, b, c])
        sess.partial_run(handle, r1, feed_dict={a: 1, b: 2})
        with pytest.raises(errors.InvalidArgumentError, match="has already been fed"):
            sess.partial_run(handle, r2, feed_dict={a: 1, c: 3})


def test_fetch_twice(executor):
    a, b, c, r1, r2 = _three_inputs()
    with tf.Session() as sess:
        handle = sess.partial_run_setup([r1, r2], [a, b, c])
        sess.partial_run(handle, r1, feed_dict={a: 1, b: 2})
        with pytest.raises(errors.InvalidArgumentError, match="has already been fetched"):
            sess.partial_run(handle, r1, feed_dict={c: 3})


def test_undeclared_feed(executor):
    a, b, c, r1, r2 = _three_inputs()
    other = tf.placeholder(tf.float32, shape=[])
    with tf.Session() as sess:
        handle = sess.partial_run_setup([r1, r2], [a, b, c])
        with pytest.raises(errors.InvalidArgumentError, match="not specified in partial_run"):
            sess.partial_run(handle, r1, feed_dict={a: 1, b: 2, other: 3})


def test_undeclared_fetch(executor):
    a, b, c, r1, r2 = _three_inputs()
    r3 = tf.add(r1, 1.0)
    with tf.Session() as sess:
        handle = sess.partial_run_setup([r1, r2], [a, b, c])
        with pytest.raises(errors.InvalidArgumentError, match="not specified in partial_run"):
            sess.partial_run(handle, r3, feed_dict={a: 1, b: 2})


def test_finished_and_bogus_handles(executor):
    a, b, c, r1, r2 = _three_inputs()
    with tf.Session() as sess:
        handle = sess.partial_run_setup([r1, r2], [a, b, c])
        sess.partial_run(handle, [r1, r2], feed_dict={a: 1, b: 2, c: 3})
        with pytest.raises(errors.InvalidArgumentError, match="setup"):
            sess.partial_run(handle, r2)
        with pytest.raises(errors.InvalidArgumentError):
            sess.partial_run("bogus", r1, feed_dict={a: 1})
        with pytest.raises(errors.InvalidArgumentError):
            sess.partial_run(None, r1)


def test_handles_belong_to_their_session(executor):
    a, b, c, r1, r2 = _three_inputs()
    with tf.Session() as sess, tf.Session() as other:
        handle = sess.partial_run_setup([r1], [a, b])
        with pytest.raises(errors.InvalidArgumentError):
            other.partial_run(handle, r1, feed_dict={a: 1, b: 2})


def test_kernel_failure_ends_the_partial_run(executor):
    a = tf.placeholder(tf.float32, shape=[])
    undeclared = tf.placeholder(tf.float32, shape=[])
    bad = tf.add(a, undeclared)
    with tf.Session() as sess:
        handle = sess.partial_run_setup([bad], [a])
        with pytest.raises(errors.InvalidArgumentError, match="must feed") as info:
            sess.partial_run(handle, bad, feed_dict={a: 1.0})
        assert info.value.op is undeclared.op
        with pytest.raises(errors.InvalidArgumentError, match="setup"):
            sess.partial_run(handle, bad)


def test_bad_feed_values_are_rejected_like_run(executor):
    a = tf.placeholder(tf.float32, shape=[2])
    b = tf.multiply(a, 2.0)
    with tf.Session() as sess:
        handle = sess.partial_run_setup([b], [a])
        with pytest.raises(ValueError):
            sess.partial_run(handle, b, feed_dict={a: [1.0, 2.0, 3.0]})
        with pytest.raises(TypeError):
            sess.partial_run(handle, b, feed_dict={a: a})
        np.testing.assert_array_equal(sess.partial_run(handle, b, feed_dict={a: [1.0, 2.0]}),
                                      [2.0, 4.0])


def test_closed_session(executor):
    a, b, c, r1, r2 = _three_inputs()
    sess = tf.Session()
    handle = sess.partial_run_setup([r1], [a, b])
    sess.close()
    with pytest.raises(RuntimeError):
        sess.partial_run_setup([r1], [a, b])
    with pytest.raises(RuntimeError):
        sess.partial_run(handle, r1, feed_dict={a: 1, b: 2})


def test_setup_rejects_elements_of_other_graphs():
    a = tf.placeholder(tf.float32, shape=[])
    other = tf.Graph()
    with other.as_default():
        foreign = tf.placeholder(tf.float32, shape=[])
    with tf.Session() as sess:
        with pytest.raises(TypeError):
            sess.partial_run_setup([a], [foreign])
        with pytest.raises(ValueError):
            sess.partial_run_setup([foreign], [a])


def test_control_dependency_on_a_declared_feed(executor):
    # As in `run`, feeding a placeholder stands in for it as a control input: the partial
    # run must not try to run the placeholder (it used to fail with a bare KeyError).
    p = tf.placeholder(tf.float32, [], name="p")
    q = tf.placeholder(tf.float32, [], name="q")
    with tf.control_dependencies([p]):
        x = tf.identity(q)
    with tf.Session() as sess:
        assert sess.run(x, {p: 1.0, q: 2.0}) == np.float32(2.0)
        handle = sess.partial_run_setup([x], [p, q])
        assert sess.partial_run(handle, x, {p: 1.0, q: 2.0}) == np.float32(2.0)
        handle = sess.partial_run_setup([x], [p, q])
        with pytest.raises(errors.InvalidArgumentError, match="can't be computed"):
            sess.partial_run(handle, x, {q: 2.0})  # p is declared but not fed yet
