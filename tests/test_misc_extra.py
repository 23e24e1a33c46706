"""Small ops: count_up_to, saturate_cast, clip_by_average_norm, get_seed, random_gamma,
random_poisson, switch_case, custom_gradient, grad_pass_through, the linear algebra extras.

Expected values were checked against TensorFlow 2.21's ``tf.compat.v1`` by hand.
"""

import numpy as np
import pytest

import sessionlib as tf
from sessionlib import errors


# ---- count_up_to ----------------------------------------------------------------------------

def test_count_up_to_on_resource_and_reference_variables():
    with tf.Graph().as_default():
        resource = tf.Variable(0, name="cv")
        reference = tf.Variable(3, use_resource=False, name="rv")
        counted = tf.count_up_to(resource, 2)
        counted_ref = reference.count_up_to(4)
        counted_again = resource.count_up_to(2)
        assert (counted.op.type, counted.op.name) == ("ResourceCountUpTo", "ResourceCountUpTo")
        assert (counted_ref.op.type, counted_ref.op.name) == ("CountUpTo", "CountUpTo")
        assert counted_again.op.name == "ResourceCountUpTo_1"
        assert counted.shape.as_list() == [] and counted_ref.dtype == tf.int32
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            assert sess.run(counted) == 0
            assert sess.run(counted_again) == 1
            with pytest.raises(errors.OutOfRangeError, match="limit of 2"):
                sess.run(counted)
            assert sess.run(resource) == 2
            assert sess.run(counted_ref) == 3
            with pytest.raises(errors.OutOfRangeError):
                sess.run(counted_ref)
            assert sess.run(reference) == 4
        with pytest.raises(TypeError, match="int32, int64"):
            tf.count_up_to(tf.Variable(1.0), 3)
        with pytest.raises(TypeError, match="int32, int64"):
            tf.Variable(1.0, use_resource=False).count_up_to(3)


# ---- saturate_cast, clip_by_average_norm, get_seed -----------------------------------------

def test_saturate_cast_clamps_to_the_target_range():
    with tf.Graph().as_default():
        to_uint8 = tf.saturate_cast(tf.constant([-300.0, 1.5, 300.0, np.nan]), tf.uint8)
        assert (to_uint8.op.type, to_uint8.op.name) == ("Cast", "saturate_cast")
        to_int32 = tf.saturate_cast(tf.constant([-1e10, 1e10]), tf.int32)
        int_to_uint8 = tf.dtypes.saturate_cast(tf.constant([-5, 300], tf.int32), tf.uint8)
        to_float32 = tf.saturate_cast(tf.constant([1e40, -1e40], tf.float64), tf.float32)
        to_half = tf.saturate_cast(tf.constant([70000.0], tf.float32), tf.float16)
        widen = tf.saturate_cast(tf.constant([7], tf.int8), tf.int64)
        with tf.Session() as sess:
            got = sess.run([to_uint8, to_int32, int_to_uint8, to_float32, to_half, widen])
    np.testing.assert_array_equal(got[0], np.array([0, 1, 255, 0], np.uint8))
    np.testing.assert_array_equal(got[1], np.array([-2147483648, 2147483520], np.int32))
    np.testing.assert_array_equal(got[2], np.array([0, 255], np.uint8))
    np.testing.assert_array_equal(got[3], np.array([3.4028235e38, -3.4028235e38], np.float32))
    np.testing.assert_array_equal(got[4], np.array([65504], np.float16))
    assert got[5].dtype == np.int64 and got[5].tolist() == [7]


def test_clip_by_average_norm_values_and_gradient():
    with tf.Graph().as_default():
        t = tf.constant([[3.0, 4.0], [0.0, 0.0]])
        clipped = tf.clip_by_average_norm(t, 1.0)
        unchanged = tf.clip_by_average_norm(t, 10.0)
        assert (clipped.op.type, clipped.op.name) == ("Identity", "clip_by_average_norm")
        (grad,) = tf.gradients(tf.reduce_sum(clipped), [t])
        with tf.Session() as sess:
            got, kept, got_grad = sess.run([clipped, unchanged, grad])
    np.testing.assert_allclose(got, [[2.4, 3.2], [0.0, 0.0]], rtol=1e-6)
    np.testing.assert_allclose(kept, [[3.0, 4.0], [0.0, 0.0]], rtol=1e-6)
    # d/dt of 4 * t / |t| summed: 4 * (1 - t (t . 1) / |t|^2) / |t|.
    x = np.array([[3.0, 4.0], [0.0, 0.0]])
    norm = np.linalg.norm(x)
    np.testing.assert_allclose(got_grad, 4 * (1 - x * x.sum() / norm ** 2) / norm, rtol=1e-5)


def test_get_seed_follows_tf_rules():
    with tf.Graph().as_default() as graph:
        assert tf.get_seed(None) == (None, None)
        assert tf.get_seed(5) == (87654321, 5)
        assert tf.random.get_seed is tf.get_seed
        tf.set_random_seed(7)
        assert tf.get_seed(5) == (7, 5)
        assert tf.get_seed(None)[0] == 7
        assert graph.seed == 7
