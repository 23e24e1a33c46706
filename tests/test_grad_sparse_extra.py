"""Numeric gradient checks of the SparseTensor ops of ``sparse_manipulation_ops`` and
``sparse_math_ops``: with respect to the sparse values and any dense operand."""

import numpy as np
import pytest

import sessionlib as tf
from _gradient_check import GradCase, case_ids, check_case

_rng = np.random.RandomState(21)
_ORDERED = np.array([[0, 1], [0, 3], [1, 2], [2, 0], [2, 3]], np.int64)
_UNORDERED = np.array([[2, 0], [0, 3], [1, 2], [0, 1], [2, 3]], np.int64)
_SHAPE = np.array([3, 4], np.int64)


def _sparse(values, indices=_ORDERED, shape=_SHAPE):
    return tf.SparseTensor(tf.constant(indices), values, tf.constant(shape))


def _matmul_case(adjoint_a, adjoint_b):
    b_shape = (3 if adjoint_a else 4, 2)
    if adjoint_b:
        b_shape = b_shape[::-1]
    return GradCase(
        "SparseTensorDenseMatMul",
        lambda v, b: tf.sparse.sparse_dense_matmul(_sparse(v), b, adjoint_a=adjoint_a,
                                                   adjoint_b=adjoint_b),
        [_rng.uniform(-1, 1, 5), _rng.uniform(-1, 1, b_shape)],
        id=f"SparseTensorDenseMatMul-a{int(adjoint_a)}b{int(adjoint_b)}")


def _segment_case(op_type, fn, num_segments=None):
    kwargs = {} if num_segments is None else {"num_segments": num_segments}
    return GradCase(op_type, lambda data: fn(data, tf.constant([0, 2, 1, 2, 3]),
                                             tf.constant([0, 0, 1, 3, 3]), **kwargs),
                    [_rng.uniform(-1, 1, (4, 3))])


def _dense_sparse_matmul_case(transpose_a, transpose_b):
    # SparseMatMul is float32 only: the check runs in float32 with a coarser step.
    a_shape = (4, 3) if transpose_a else (3, 4)
    b_shape = (2, 4) if transpose_b else (4, 2)
    return GradCase(
        "SparseMatMul",
        lambda a, b: tf.sparse_matmul(tf.cast(a, tf.float32), tf.cast(b, tf.float32),
                                      transpose_a=transpose_a, transpose_b=transpose_b,
                                      a_is_sparse=True),
        [_rng.uniform(-1, 1, a_shape), _rng.uniform(-1, 1, b_shape)], delta=1e-2,
        tolerance=2e-3, id=f"SparseMatMul-t{int(transpose_a)}{int(transpose_b)}")


GRADIENT_CASES = [
    GradCase("SparseReorder",
             lambda v: tf.sparse.reorder(_sparse(v, _UNORDERED)).values * tf.constant(
                 [1.0, 2.0, 3.0, 4.0, 5.0], tf.float64),
             [_rng.uniform(-1, 1, 5)]),
    GradCase("SparseSlice",
             lambda v: tf.sparse.slice(_sparse(v, _UNORDERED), [0, 1], [3, 2]).values,
             [_rng.uniform(-1, 1, 5)]),
    GradCase("SparseFillEmptyRows",
             lambda v, d: tf.sparse.fill_empty_rows(
                 _sparse(v, np.array([[3, 1], [1, 0], [3, 0]], np.int64),
                         np.array([5, 2], np.int64)), d)[0].values,
             [_rng.uniform(-1, 1, 3), np.float64(0.25)]),
    _matmul_case(False, False),
    _matmul_case(True, False),
    _matmul_case(False, True),
    _matmul_case(True, True),
    _dense_sparse_matmul_case(False, False),
    _dense_sparse_matmul_case(False, True),
    _dense_sparse_matmul_case(True, False),
    _dense_sparse_matmul_case(True, True),
    GradCase("SparseDenseCwiseMul", lambda v, d: (_sparse(v) * d).values,
             [_rng.uniform(-1, 1, 5), _rng.uniform(-1, 1, (4,))]),
    GradCase("SparseDenseCwiseMul", lambda v, d: (_sparse(v) * d).values,
             [_rng.uniform(-1, 1, 5), _rng.uniform(-1, 1, (3, 1))], id="SparseDenseCwiseMul-col"),
    GradCase("SparseDenseCwiseDiv", lambda v, d: (_sparse(v) / d).values,
             [_rng.uniform(-1, 1, 5), _rng.uniform(1, 2, (3, 4))]),
    GradCase("SparseSoftmax",
             lambda v: tf.sparse.softmax(_sparse(
                 v, np.array([[0, 0, 1], [0, 0, 3], [0, 2, 1], [1, 1, 0], [1, 1, 2]],
                             np.int64), np.array([2, 3, 4], np.int64))).values,
             [_rng.uniform(-1, 1, 5)]),
    _segment_case("SparseSegmentSum", tf.sparse.segment_sum),
    _segment_case("SparseSegmentMean", tf.sparse.segment_mean),
    _segment_case("SparseSegmentSqrtN", tf.sparse.segment_sqrt_n),
    _segment_case("SparseSegmentSumWithNumSegments", tf.sparse.segment_sum, 5),
    _segment_case("SparseSegmentMeanWithNumSegments", tf.sparse.segment_mean, 5),
    _segment_case("SparseSegmentSqrtNWithNumSegments", tf.sparse.segment_sqrt_n, 5),
]


@pytest.mark.parametrize("case", GRADIENT_CASES, ids=case_ids(GRADIENT_CASES))
def test_numeric_gradient(case):
    check_case(case)


def test_fill_empty_rows_default_gradient_sums_the_filled_rows():
    with tf.Graph().as_default():
        values = tf.constant([1.0, 2.0])
        default = tf.constant(0.0)
        filled, _ = tf.sparse.fill_empty_rows(
            tf.SparseTensor(tf.constant([[1, 0], [3, 1]], tf.int64), values,
                            tf.constant([4, 2], tf.int64)), default)
        weights = tf.constant([10.0, 20.0, 30.0, 40.0])
        grads = tf.gradients(tf.reduce_sum(filled.values * weights), [values, default])
        with tf.Session() as sess:
            grad_values, grad_default = sess.run(grads)
    # Rows 0 and 2 were empty: output entries 0 and 2 are the default's.
    np.testing.assert_array_equal(grad_values, [20.0, 40.0])
    assert grad_default == 40.0
