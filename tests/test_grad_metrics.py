"""Numeric gradient checks of the ops that tf.losses and tf.metrics add (DivNoNan), and of
the losses, whose gradients come from the ops they are built from."""

import numpy as np
import pytest

import sessionlib as tf

from _gradient_check import GradCase, case_ids, check_case

RNG = np.random.RandomState(12)


def _floats(*shape, low=-2.0, high=2.0):
    return RNG.uniform(low, high, size=shape)


def _away_from_zero(*shape):
    values = _floats(*shape, low=0.5, high=2.0)
    return values * np.where(RNG.rand(*shape) < 0.5, -1.0, 1.0)


GRADIENT_CASES = [
    GradCase("DivNoNan", lambda x, y: tf.div_no_nan(x, y), [_floats(2, 3), _away_from_zero(3)]),
    GradCase("DivNoNan", lambda x, y: tf.div_no_nan(x, y), [_floats(), _away_from_zero(2, 2)],
             id="DivNoNan-scalar-x"),
    # A zero divisor: its column has gradient 0 for both inputs (TF's gradient), not NaN.
    GradCase("DivNoNan", lambda x, y: tf.div_no_nan(x, y * tf.constant([1.0, 0.0, 1.0],
                                                                      tf.float64)),
             [_floats(2, 3), _away_from_zero(3)], id="DivNoNan-zero-divisor"),
]

# The losses weight in float32, as TF does: a wide step keeps the rounding out of the
# central differences.
LOSS_CASES = [
    GradCase("DivNoNan", lambda p, l: tf.losses.mean_squared_error(
        l, p, weights=tf.constant([[1.0], [0.0], [2.0]], tf.float64)),
        [_floats(3, 2), _floats(3, 2)], id="mean_squared_error", delta=1e-2, tolerance=2e-3),
    GradCase("SoftmaxCrossEntropyWithLogits", lambda z: tf.losses.softmax_cross_entropy(
        tf.constant(np.eye(3)[[0, 2]]), z, label_smoothing=0.1), [_floats(2, 3)],
        id="softmax_cross_entropy", delta=1e-2, tolerance=2e-3),
    GradCase("Minimum", lambda p: tf.losses.huber_loss(tf.constant(np.zeros((2, 3))), p,
                                                       delta=0.5,
                                                       reduction=tf.losses.Reduction.SUM),
             [np.array([[0.1, -0.2, 0.8], [-1.5, 0.3, 2.0]])], id="huber_loss", delta=1e-2,
             tolerance=2e-3),
]


@pytest.mark.parametrize("case", GRADIENT_CASES, ids=case_ids(GRADIENT_CASES))
def test_gradient(case):
    check_case(case)


@pytest.mark.parametrize("case", LOSS_CASES, ids=case_ids(LOSS_CASES))
def test_loss_gradient(case):
    check_case(case)


def test_div_no_nan_gradient_is_zero_where_the_divisor_is_zero():
    x = tf.constant([1.0, 2.0])
    y = tf.constant([0.0, 4.0])
    grad_x, grad_y = tf.gradients(tf.div_no_nan(x, y), [x, y])
    with tf.Session() as session:
        gx, gy = session.run([grad_x, grad_y])
    np.testing.assert_array_equal(gx, [0.0, 0.25])
    np.testing.assert_array_equal(gy, [0.0, -2.0 / 16.0])
