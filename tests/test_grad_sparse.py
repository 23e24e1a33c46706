"""Numeric gradient checks of the sparse ops, with respect to the sparse values and the dense
operands (indices and shapes have no gradient, as in TF)."""

import numpy as np
import pytest

import sessionlib as tf
from _gradient_check import GradCase, case_ids, check_case

_INDICES = np.array([[0, 1], [1, 0], [1, 2]], np.int64)
_SHAPE = np.array([2, 3], np.int64)
_rng = np.random.RandomState(9)


def _sparse(values, indices=_INDICES, shape=_SHAPE):
    return tf.SparseTensor(tf.constant(indices), values, tf.constant(shape))


GRADIENT_CASES = [
    GradCase("SparseToDense", lambda v: tf.sparse_tensor_to_dense(_sparse(v)),
             [_rng.uniform(-1, 1, 3)]),
    GradCase("SparseTensorDenseAdd", lambda v, d: tf.sparse_add(_sparse(v), d),
             [_rng.uniform(-1, 1, 3), _rng.uniform(-1, 1, (2, 3))]),
    GradCase("SparseReduceSum", lambda v: tf.sparse_reduce_sum(_sparse(v), axis=1),
             [_rng.uniform(-1, 1, 3)]),
    GradCase("SparseReduceSum", lambda v: tf.sparse_reduce_sum(_sparse(v), axis=0,
                                                               keepdims=True),
             [_rng.uniform(-1, 1, 3)], id="SparseReduceSum-keepdims"),
    GradCase("SparseReduceSum", lambda v: tf.sparse_reduce_sum(_sparse(v)),
             [_rng.uniform(-1, 1, 3)], id="SparseReduceSum-all"),
    GradCase("SparseAdd", lambda a, b: tf.sparse_tensor_to_dense(tf.sparse_add(
        _sparse(a), _sparse(b, np.array([[0, 1], [0, 2]], np.int64)))),
        [_rng.uniform(-1, 1, 3), _rng.uniform(-1, 1, 2)]),
]


@pytest.mark.parametrize("case", GRADIENT_CASES, ids=case_ids(GRADIENT_CASES))
def test_numeric_gradient(case):
    check_case(case)


def test_sparse_add_gradient_is_zero_for_dropped_entries():
    with tf.Graph().as_default():
        a = tf.constant([1.0, 2.0])
        b = tf.constant([-1.0, 5.0])
        total = tf.sparse_add(
            tf.SparseTensor(tf.constant([[0], [1]], tf.int64), a, tf.constant([3], tf.int64)),
            tf.SparseTensor(tf.constant([[0], [2]], tf.int64), b, tf.constant([3], tf.int64)),
            threshold=0.5)
        grads = tf.gradients(tf.reduce_sum(total.values * 3.0), [a, b])
        with tf.Session() as sess:
            ga, gb = sess.run(grads)
        # Index 0 sums to 0 and is dropped: neither operand's value there gets a gradient.
        np.testing.assert_array_equal(ga, [0.0, 3.0])
        np.testing.assert_array_equal(gb, [0.0, 3.0])
