"""Session handles: get_session_handle, get_session_tensor, delete_session_tensor, TensorHandle."""

import numpy as np
import pytest

import sessionlib as tf
from sessionlib import errors
from sessionlib.ops.session_ops import TensorHandle


def test_fetching_a_handle_gives_a_tensor_handle(executor):
    c = tf.multiply(tf.constant(10.0), tf.constant(5.0))
    handle_op = tf.get_session_handle(c)
    assert handle_op.dtype is tf.string
    with tf.Session() as sess:
        handle = sess.run(handle_op)
        assert isinstance(handle, TensorHandle)
        assert isinstance(handle.handle, str)
        assert str(handle) == handle.handle
        name, number, device = handle.handle.split(";")
        assert name == handle_op.op.name
        assert device == "/job:localhost/replica:0/task:0/device:CPU:0"
        assert handle.eval() == np.float32(50.0)


def test_handles_are_unique_per_run(executor):
    handle_op = tf.get_session_handle(tf.constant([1, 2]))
    with tf.Session() as sess:
        first, second = sess.run(handle_op), sess.run(handle_op)
        assert first.handle != second.handle
        np.testing.assert_array_equal(first.eval(), [1, 2])
        np.testing.assert_array_equal(second.eval(), [1, 2])


def test_handle_in_a_fetch_structure(executor):
    c = tf.constant([1.0, 2.0])
    handle_op = tf.get_session_handle(c)
    with tf.Session() as sess:
        result = sess.run({"value": c, "handles": [handle_op]})
        np.testing.assert_array_equal(result["value"], [1.0, 2.0])
        assert isinstance(result["handles"][0], TensorHandle)
        np.testing.assert_array_equal(result["handles"][0].eval(), [1.0, 2.0])


@pytest.mark.parametrize("feed_object", [False, True])
def test_feed_handle_back_through_get_session_tensor(executor, feed_object):
    c = tf.multiply(tf.constant(10.0), tf.constant(5.0))
    handle_op = tf.get_session_handle(c)
    with tf.Session() as sess:
        handle = sess.run(handle_op)
        holder, stored = tf.get_session_tensor(handle.handle, tf.float32)
        times_ten = tf.multiply(stored, 10.0)
        fed = handle if feed_object else handle.handle
        assert sess.run(times_ten, feed_dict={holder: fed}) == np.float32(500.0)
        # The stored tensor survives a read.
        assert sess.run(stored, feed_dict={holder: fed}) == np.float32(50.0)


def test_chained_handles(executor):
    """TF's handle loop: each run stores a result that the next run reads."""
    with tf.Session() as sess:
        one = tf.constant(1.0)
        handle = sess.run(tf.get_session_handle(one))
        holder, stored = tf.get_session_tensor(handle.handle, tf.float32)
        next_handle_op = tf.get_session_handle(tf.add(stored, 1.0))
        for _ in range(5):
            handle = sess.run(next_handle_op, feed_dict={holder: handle.handle})
        assert handle.eval() == np.float32(6.0)


def test_feed_handle_directly_to_a_tensor(executor):
    a = tf.constant(10.0)
    b = tf.constant(5.0)
    c = tf.multiply(a, b)
    d = tf.multiply(c, c)
    with tf.Session() as sess:
        handle_of_c = sess.run(tf.get_session_handle(c))
        handle_of_seven = sess.run(tf.get_session_handle(tf.constant(7.0)))
        assert sess.run(d, feed_dict={c: handle_of_c}) == np.float32(2500.0)
        assert sess.run(d, feed_dict={c: handle_of_seven}) == np.float32(49.0)


def test_delete_session_tensor(executor):
    handle_op = tf.get_session_handle(tf.constant([3, 4]))
    with tf.Session() as sess:
        handle = sess.run(handle_op)
        holder, stored = tf.get_session_tensor(handle.handle, tf.int32)
        delete_holder, deleter = tf.delete_session_tensor(handle.handle)
        assert isinstance(deleter, tf.Operation)
        np.testing.assert_array_equal(sess.run(stored, feed_dict={holder: handle.handle}),
                                      [3, 4])
        sess.run(deleter, feed_dict={delete_holder: handle.handle})
        with pytest.raises(errors.InvalidArgumentError, match="not in the session store"):
            sess.run(stored, feed_dict={holder: handle.handle})
        with pytest.raises(errors.InvalidArgumentError, match="not in the session store"):
            sess.run(deleter, feed_dict={delete_holder: handle.handle})


def test_tensor_handle_delete(executor):
    handle_op = tf.get_session_handle(tf.constant(1.0))
    with tf.Session() as sess:
        handle = sess.run(handle_op)
        raw = handle.handle
        handle.delete()
        with pytest.raises(TypeError):
            handle.delete()
        with pytest.raises(TypeError):
            handle.eval()
        holder, stored = tf.get_session_tensor(raw, tf.float32)
        with pytest.raises(errors.InvalidArgumentError):
            sess.run(stored, feed_dict={holder: raw})


def test_handles_die_with_their_session(executor):
    handle_op = tf.get_session_handle(tf.constant(1.0))
    holder, stored = tf.get_session_tensor("x;0;/cpu:0", tf.float32)
    with tf.Session() as sess:
        raw = sess.run(handle_op).get_raw_handle()
        assert sess.run(stored, feed_dict={holder: raw}) == np.float32(1.0)
    with tf.Session() as other:
        with pytest.raises(errors.InvalidArgumentError, match="not in the session store"):
            other.run(stored, feed_dict={holder: raw})


def test_wrong_dtype_is_an_error(executor):
    handle_op = tf.get_session_handle(tf.constant(1.0))
    with tf.Session() as sess:
        handle = sess.run(handle_op)
        holder, stored = tf.get_session_tensor(handle.handle, tf.int32)
        with pytest.raises(errors.InvalidArgumentError, match="dtype"):
            sess.run(stored, feed_dict={holder: handle.handle})


def test_stored_tensor_is_not_changed_by_the_fetched_array(executor):
    x = tf.placeholder(tf.float32, shape=[2])
    c = tf.multiply(x, 2.0)
    handle_op = tf.get_session_handle(c)
    with tf.Session() as sess:
        value, handle = sess.run([c, handle_op], feed_dict={x: [1.0, 2.0]})
        if value.flags.writeable:
            value[:] = 0
        np.testing.assert_array_equal(handle.eval(), [2.0, 4.0])
        again = handle.eval()
        if again.flags.writeable:
            again[:] = -1
        np.testing.assert_array_equal(handle.eval(), [2.0, 4.0])


def test_string_tensor_handle(executor):
    handle_op = tf.get_session_handle(tf.constant([b"a", b"bc"]))
    with tf.Session() as sess:
        handle = sess.run(handle_op)
        assert handle.eval().tolist() == [b"a", b"bc"]


@pytest.mark.parametrize("cpus", [1, 2])
def test_dropped_handles_are_collected(executor, cpus):
    handle_op = tf.get_session_handle(tf.constant(2.0))
    with tf.Session(config=tf.ConfigProto(device_count={"CPU": cpus})) as sess:
        # Each TensorHandle dies at once; every tenth dead handle frees the dead ones.
        raws = [sess.run(handle_op).handle for _ in range(12)]
        holder, stored = tf.get_session_tensor(raws[0], tf.float32)
        with pytest.raises(errors.InvalidArgumentError):
            sess.run(stored, feed_dict={holder: raws[0]})
        kept = sess.run(handle_op)
        assert kept.eval() == np.float32(2.0)


def test_get_session_handle_needs_a_tensor():
    with pytest.raises(TypeError):
        tf.get_session_handle(1.0)
