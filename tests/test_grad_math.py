"""Numeric gradient checks of the math ops: elementwise (with broadcasting), reductions,
matmul and casts; and a float32 check that gradient dtypes follow the forward dtype."""

import numpy as np
import pytest

import sessionlib as tf
from _gradient_check import GradCase, case_ids, check_case

_rng = np.random.RandomState(7)


def _values(*shape, low=-2.0, high=2.0):
    return _rng.uniform(low, high, size=shape)


def _positive(*shape):
    return _rng.uniform(0.5, 2.0, size=shape)


def _away_from(*shape, gap=0.3):
    """Values at least `gap` from zero (for kinks at 0: abs, relu, sign)."""
    values = _rng.uniform(gap, 2.0, size=shape)
    return values * _rng.choice([-1.0, 1.0], size=shape)


def _dynamic(x):
    """`x` with its static shape hidden, to exercise the dynamic-shape gradient paths."""
    return tf.placeholder_with_default(x, shape=None)


def _partly_dynamic(x):
    return tf.placeholder_with_default(x, shape=[None] * x.shape.rank)


GRADIENT_CASES = [
    # Broadcasting binary ops: equal shapes, a row, a column, a scalar, and hidden shapes.
    GradCase("AddV2", lambda x, y: x + y, [_values(2, 3), _values(3)]),
    GradCase("AddV2", lambda x, y: x + y, [_values(2, 1), _values(1, 3)], id="AddV2-outer"),
    GradCase("AddV2", lambda x, y: _dynamic(x) + _dynamic(y), [_values(2, 3), _values(3)],
             id="AddV2-dynamic"),
    GradCase("AddV2", lambda x, y: _partly_dynamic(x) + y, [_values(2, 3), _values(3)],
             id="AddV2-batch-unknown"),
    GradCase("AddV2", lambda x, y: _partly_dynamic(x) + _partly_dynamic(y),
             [_values(2, 1), _values(2, 3)], id="AddV2-partly-dynamic"),
    GradCase("Sub", lambda x, y: x - y, [_values(2, 3), _values(2, 1)]),
    GradCase("Sub", lambda x, y: _dynamic(x) - y, [_values(3), _values(2, 3)],
             id="Sub-dynamic"),
    GradCase("Mul", lambda x, y: x * y, [_values(2, 3), _values(2, 3)]),
    GradCase("Mul", lambda x, y: x * y, [_values(4, 1, 3), _values(2, 1)], id="Mul-broadcast"),
    GradCase("Mul", lambda x, y: _dynamic(x) * y, [_values(2, 3), _values()],
             id="Mul-scalar-dynamic"),
    GradCase("RealDiv", lambda x, y: x / y, [_values(2, 3), _away_from(3, gap=0.5)]),
    GradCase("RealDiv", lambda x, y: tf.realdiv(x, _dynamic(y)),
             [_values(3), _away_from(2, 3, gap=0.5)], id="RealDiv-dynamic"),
    GradCase("Maximum", lambda x, y: tf.maximum(x, y),
             [np.array([[1.0, -2.0, 3.0], [0.5, 2.5, -1.0]]), np.array([0.0, 1.0, 2.0])]),
    GradCase("Minimum", lambda x, y: tf.minimum(x, y),
             [np.array([[1.0, -2.0, 3.0], [0.5, 2.5, -1.0]]), np.array([[0.0], [1.0]])]),
    GradCase("Pow", lambda x, y: tf.pow(x, y), [_positive(2, 3), _values(3)]),
    GradCase("Pow", lambda x, y: tf.pow(x, y), [np.array([-1.5, 2.0, -0.5]),
                                               np.array([2.0, 3.0, 2.0])], wrt=[0],
             id="Pow-negative-base"),
    GradCase("SquaredDifference", lambda x, y: tf.squared_difference(x, y),
             [_values(2, 3), _values(1, 3)]),
    GradCase("FloorMod", lambda x, y: tf.mod(x, y),
             [np.array([2.3, -1.7, 5.2]), np.array([1.1, 1.3, 2.4])]),
    # Unary ops.
    GradCase("Exp", tf.exp, [_values(2, 3)]),
    GradCase("Log", tf.log, [_positive(2, 3)]),
    GradCase("Log1p", tf.log1p, [_positive(2, 3)]),
    GradCase("Sqrt", tf.sqrt, [_positive(2, 3)]),
    GradCase("Rsqrt", tf.rsqrt, [_positive(2, 3)]),
    GradCase("Reciprocal", tf.reciprocal, [_away_from(2, 3, gap=0.5)]),
    GradCase("Abs", tf.abs, [_away_from(2, 3)]),
    GradCase("Sign", lambda x: tf.sign(x) * x, [_away_from(2, 3)]),
    GradCase("Sin", tf.sin, [_values(2, 3)]),
    GradCase("Cos", tf.cos, [_values(2, 3)]),
    GradCase("Tanh", tf.tanh, [_values(2, 3)]),
    GradCase("Sigmoid", tf.sigmoid, [_values(2, 3)]),
    # Through float32 and back: linear, so a large step keeps float32 rounding small.
    GradCase("Cast", lambda x: tf.cast(tf.cast(x, tf.float32), tf.float64) * 3.0,
             [_values(2, 3)], delta=1e-2, tolerance=1e-4),
    # Reductions: constant axes, keep_dims, negative axes, all axes, hidden shapes and axes.
    GradCase("Sum", lambda x: tf.reduce_sum(x, 1), [_values(2, 3, 2)]),
    GradCase("Sum", lambda x: tf.reduce_sum(x, [0, -1], keepdims=True), [_values(2, 3, 2)],
             id="Sum-keepdims"),
    GradCase("Sum", lambda x: tf.reduce_sum(x), [_values(2, 3)], id="Sum-all"),
    GradCase("Sum", lambda x: tf.reduce_sum(_dynamic(x), [1]), [_values(2, 3, 2)],
             id="Sum-dynamic-shape"),
    GradCase("Sum", lambda x: tf.reduce_sum(_partly_dynamic(x), [0]), [_values(2, 3, 2)],
             id="Sum-leading-unknown"),
    GradCase("Sum", lambda x: tf.reduce_sum(_partly_dynamic(x), [1, 2]), [_values(2, 3, 2)],
             id="Sum-partly-dynamic"),
    GradCase("Sum", lambda x: tf.reduce_sum(
        x, tf.placeholder_with_default(np.array([2, 0], np.int32), [None])),
        [_values(2, 3, 2)], id="Sum-dynamic-axes"),
    GradCase("Sum", lambda x: tf.reduce_sum(
        _dynamic(x), tf.placeholder_with_default(np.array([-1], np.int32), [None]),
        keepdims=True), [_values(2, 3)], id="Sum-dynamic-all"),
    GradCase("Mean", lambda x: tf.reduce_mean(x, 0), [_values(3, 2)]),
    GradCase("Mean", lambda x: tf.reduce_mean(_dynamic(x), [1], keepdims=True),
             [_values(3, 2)], id="Mean-dynamic"),
    GradCase("Max", lambda x: tf.reduce_max(x, 1),
             [np.array([[1.0, 3.0, 2.0], [4.0, -1.0, 0.5]])]),
    GradCase("Max", lambda x: tf.reduce_max(_dynamic(x), [0], keepdims=True),
             [np.array([[1.0, 3.0, 2.0], [4.0, -1.0, 0.5]])], id="Max-dynamic"),
    GradCase("Min", lambda x: tf.reduce_min(x),
             [np.array([[1.0, 3.0, 2.0], [4.0, -1.0, 0.5]])]),
    GradCase("Prod", lambda x: tf.reduce_prod(x, 1), [_values(2, 3)]),
    GradCase("Prod", lambda x: tf.reduce_prod(_dynamic(x), [0, 2], keepdims=True),
             [np.array([[[1.5, 0.0], [2.0, -1.0]], [[0.5, 0.0], [0.0, 3.0]]])],
             id="Prod-zeros"),
    # Matrix products.
    GradCase("MatMul", lambda a, b: tf.matmul(a, b), [_values(2, 3), _values(3, 4)]),
    GradCase("MatMul", lambda a, b: tf.matmul(a, b, transpose_a=True),
             [_values(3, 2), _values(3, 4)], id="MatMul-ta"),
    GradCase("MatMul", lambda a, b: tf.matmul(a, b, transpose_b=True),
             [_values(2, 3), _values(4, 3)], id="MatMul-tb"),
    GradCase("MatMul", lambda a, b: tf.matmul(a, b, transpose_a=True, transpose_b=True),
             [_values(3, 2), _values(4, 3)], id="MatMul-ta-tb"),
    GradCase("BatchMatMulV2", lambda a, b: tf.matmul(a, b), [_values(2, 2, 3), _values(3, 2)]),
    GradCase("BatchMatMulV2", lambda a, b: tf.matmul(a, b, adjoint_a=True, adjoint_b=True),
             [_values(2, 1, 3, 2), _values(3, 2, 3)], id="BatchMatMulV2-adj-broadcast"),
    GradCase("BatchMatMulV2", lambda a, b: tf.matmul(_partly_dynamic(a), b),
             [_values(1, 2, 3), _values(2, 3, 2)], id="BatchMatMulV2-dynamic"),
]


@pytest.mark.parametrize("case", GRADIENT_CASES, ids=case_ids(GRADIENT_CASES))
def test_numeric_gradient(case):
    check_case(case)
