"""tf.clip_by_norm, tf.global_norm and tf.clip_by_global_norm (TF's formulas in numpy)."""

import numpy as np
import pytest

import sessionlib as tf


def test_clip_by_global_norm_values(executor):
    a = np.array([[3.0, 4.0], [0.0, 0.0]], np.float32)
    b = np.array([12.0], np.float32)
    t_list = [tf.constant(a), None, tf.constant(b)]
    clipped, norm = tf.clip_by_global_norm(t_list, 6.5)
    assert clipped[1] is None
    with tf.Session() as sess:
        got_a, got_b, got_norm = sess.run([clipped[0], clipped[2], norm])
    assert got_norm == pytest.approx(13.0)
    np.testing.assert_allclose(got_a, a * 0.5, rtol=1e-6)
    np.testing.assert_allclose(got_b, b * 0.5, rtol=1e-6)


def test_clip_by_global_norm_below_the_limit_is_unchanged(executor):
    a = np.array([0.3, -0.4])
    clipped, norm = tf.clip_by_global_norm([tf.constant(a)], 5.0)
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(clipped[0]), a, rtol=1e-12)
        assert sess.run(norm) == pytest.approx(0.5)


def test_clip_by_global_norm_with_use_norm_and_indexed_slices(executor):
    slices = tf.IndexedSlices(tf.constant([[1.0, 1.0], [2.0, 2.0]]), tf.constant([0, 2]),
                              tf.constant([3, 2]))
    dense = tf.constant([1.0, 2.0])
    clipped, norm = tf.clip_by_global_norm([slices, dense], 1.0, use_norm=tf.constant(4.0))
    assert isinstance(clipped[0], tf.IndexedSlices)
    assert clipped[0].indices is slices.indices
    with tf.Session() as sess:
        values, dense_value, norm_value = sess.run([clipped[0].values, clipped[1], norm])
    assert norm_value == 4.0
    np.testing.assert_allclose(values, [[0.25, 0.25], [0.5, 0.5]])
    np.testing.assert_allclose(dense_value, [0.25, 0.5])


def test_clip_by_global_norm_of_an_infinite_norm_is_nan(executor):
    clipped, norm = tf.clip_by_global_norm([tf.constant([np.inf, 1.0])], 1.0)
    with tf.Session() as sess:
        assert np.isinf(sess.run(norm))
        assert np.isnan(sess.run(clipped[0])).all()


def test_global_norm(executor):
    values = [np.array([1.0, 2.0]), np.array([[2.0], [4.0]])]
    norm = tf.global_norm([tf.constant(v) for v in values] + [None])
    assert norm.op.name == "global_norm/global_norm"
    with tf.Session() as sess:
        assert sess.run(norm) == pytest.approx(5.0)


def test_sequence_required():
    with pytest.raises(TypeError, match="sequence"):
        tf.global_norm(tf.constant([1.0]))
    with pytest.raises(TypeError, match="sequence"):
        tf.clip_by_global_norm(tf.constant([1.0]), 1.0)


def test_clip_by_norm(executor):
    t = np.array([[3.0, 4.0], [6.0, 8.0]], np.float32)
    whole = tf.clip_by_norm(tf.constant(t), 5.0)
    rows = tf.clip_by_norm(tf.constant(t), 5.0, axes=[1])
    zero = tf.clip_by_norm(tf.constant(np.zeros(3, np.float32)), 1.0)
    with tf.Session() as sess:
        got_whole, got_rows, got_zero = sess.run([whole, rows, zero])
    np.testing.assert_allclose(got_whole, t * 5.0 / np.sqrt(125.0), rtol=1e-6)
    np.testing.assert_allclose(got_rows, [[3.0, 4.0], [3.0, 4.0]], rtol=1e-6)
    np.testing.assert_array_equal(got_zero, np.zeros(3))


def test_clip_by_norm_of_indexed_slices(executor):
    slices = tf.IndexedSlices(tf.constant([[3.0, 4.0]]), tf.constant([1]), tf.constant([2, 2]))
    clipped = tf.clip_by_norm(slices, 1.0)
    assert isinstance(clipped, tf.IndexedSlices) and clipped.indices is slices.indices
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(clipped.values), [[0.6, 0.8]], rtol=1e-6)
