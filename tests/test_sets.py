"""tf.sets on both executors. Expected values are TF 2.21's (tf.compat.v1)."""

import numpy as np
import pytest

import sessionlib as tf
from sessionlib import errors


def _run(fetch):
    with tf.Session() as sess:
        return sess.run(fetch)


def _assert_sparse(value, indices, values, dense_shape):
    assert isinstance(value, tf.SparseTensorValue)
    expected = np.asarray(indices, np.int64).reshape(-1, len(dense_shape))
    np.testing.assert_array_equal(value.indices, expected)
    np.testing.assert_array_equal(value.values, values)
    np.testing.assert_array_equal(value.dense_shape, dense_shape)


def _dense_pair():
    return tf.constant([[1, 2, 2, 3], [4, 5, 4, 4]]), tf.constant([[2, 3, 7], [9, 9, 9]])


def test_dense_dense(executor):
    a, b = _dense_pair()
    inter, union, diff, reverse = _run([
        tf.sets.intersection(a, b), tf.sets.set_union(a, b), tf.sets.difference(a, b),
        tf.sets.set_difference(a, b, aminusb=False)])
    _assert_sparse(inter, [[0, 0], [0, 1]], [2, 3], [2, 2])
    _assert_sparse(union, [[0, 0], [0, 1], [0, 2], [0, 3], [1, 0], [1, 1], [1, 2]],
                   [1, 2, 3, 7, 4, 5, 9], [2, 4])
    _assert_sparse(diff, [[0, 0], [1, 0], [1, 1]], [1, 4, 5], [2, 2])
    _assert_sparse(reverse, [[0, 0], [1, 0]], [7, 9], [2, 1])


def test_sparse_operands_and_flipped_order(executor):
    a, _ = _dense_pair()
    sb = tf.SparseTensor([[0, 0], [0, 1], [1, 0]], [3, 1, 5], [2, 3])
    sa = tf.SparseTensor([[0, 0], [0, 2], [1, 1]], [2, 1, 6], [2, 4])
    mixed, flipped, sparse_inter, sparse_union, flipped_diff = _run([
        tf.sets.union(a, sb), tf.sets.union(sb, a), tf.sets.intersection(sa, sb),
        tf.sets.union(sa, sb), tf.sets.difference(sb, a)])
    for value in (mixed, flipped):
        _assert_sparse(value, [[0, 0], [0, 1], [0, 2], [1, 0], [1, 1]], [1, 2, 3, 4, 5],
                       [2, 3])
    _assert_sparse(sparse_inter, [[0, 0]], [1], [2, 1])
    _assert_sparse(sparse_union, [[0, 0], [0, 1], [0, 2], [1, 0], [1, 1]], [1, 2, 3, 5, 6],
                   [2, 3])
    _assert_sparse(flipped_diff, [], [], [2, 0])


def test_set_size_and_strings(executor):
    sizes, empty_rows, strings = _run([
        tf.sets.size(tf.SparseTensor([[0, 0], [0, 2], [1, 1]], [2, 1, 6], [2, 4])),
        tf.sets.set_size(tf.SparseTensor([[0, 0], [0, 1], [2, 0]], [3, 3, 1], [3, 5])),
        tf.sets.intersection(tf.constant([[b"a", b"b"]]), tf.constant([[b"b", b"c"]]))])
    np.testing.assert_array_equal(sizes, [2, 1])
    assert sizes.dtype == np.int32
    np.testing.assert_array_equal(empty_rows, [1, 0, 1])
    _assert_sparse(strings, [[0, 0]], [b"b"], [1, 1])


def test_errors():
    with pytest.raises(ValueError, match="at least rank 2"):
        tf.sets.union(tf.constant([3, 1, 3]), tf.constant([2]))
    with pytest.raises(ValueError, match="Dimension 0 in both shapes must be equal"):
        tf.sets.union(tf.constant([[1], [2]]), tf.constant([[1], [2], [3]]))
    with pytest.raises(TypeError, match="invalid dtype"):
        tf.sets.union(tf.constant([[1.0]]), tf.constant([[2.0]]))
    with pytest.raises(TypeError, match="Types don't match"):
        tf.sets.union(tf.constant([[1]]), tf.constant([[2]], tf.int64))
    with pytest.raises(TypeError, match="Expected `SparseTensor`"):
        tf.sets.size(tf.constant([[1]]))
    fed = tf.placeholder_with_default(tf.constant([[1], [2]]), [None, None])
    with pytest.raises(errors.InvalidArgumentError, match=r"Mismatched shapes \[2\] vs \[3\]"):
        _run(tf.sets.union(fed, tf.constant([[1], [2], [3]])))
    unordered = tf.SparseTensor([[1, 0], [0, 0]], [1, 2], [2, 2])
    with pytest.raises(errors.InvalidArgumentError, match="out of order"):
        _run(tf.sets.size(unordered))
