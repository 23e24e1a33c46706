"""Numeric gradient checks of the elementwise ops of special_math_ops (TF's formulas), each on
values inside the op's domain, away from poles and kinks (and, for the x*log(y) family, from x ==
0, where TF defines the x gradient as 0: test_math_extra.py checks that); and checks that the
piecewise constant ops have no gradient, as in TF."""

import numpy as np
import pytest

import sessionlib as tf
from _gradient_check import GradCase, case_ids, check_case

_rng = np.random.RandomState(11)


def _values(*shape, low=-2.0, high=2.0):
    return _rng.uniform(low, high, size=shape)


def _betainc_in_x(x):
    return tf.math.betainc(tf.constant([0.5, 2.0, 5.0], tf.float64),
                           tf.constant([3.0, 2.0, 0.7], tf.float64), x)


GRADIENT_CASES = [
    GradCase("Acos", tf.math.acos, [_values(2, 3, low=-0.9, high=0.9)]),
    GradCase("Asin", tf.math.asin, [_values(2, 3, low=-0.9, high=0.9)]),
    GradCase("Atan", tf.math.atan, [_values(2, 3)]),
    GradCase("Tan", tf.math.tan, [_values(2, 3, low=-1.2, high=1.2)]),
    GradCase("Sinh", tf.math.sinh, [_values(2, 3)]),
    GradCase("Cosh", tf.math.cosh, [_values(2, 3)]),
    GradCase("Asinh", tf.math.asinh, [_values(2, 3, low=-4, high=4)]),
    GradCase("Acosh", tf.math.acosh, [_values(2, 3, low=1.2, high=4)]),
    GradCase("Atanh", tf.math.atanh, [_values(2, 3, low=-0.9, high=0.9)]),
    GradCase("Expm1", tf.math.expm1, [_values(2, 3)]),
    GradCase("Erf", tf.math.erf, [_values(2, 3)]),
    GradCase("Erfc", tf.math.erfc, [_values(2, 3)]),
    GradCase("Lgamma", tf.math.lgamma, [np.array([[0.3, 1.0, 2.5], [7.0, -0.5, -2.3]])]),
    GradCase("Digamma", tf.math.digamma, [np.array([[0.3, 1.0, 2.5], [12.0, -0.5, -2.3]])],
             tolerance=1e-5),
    GradCase("BesselI0", tf.math.bessel_i0, [_values(2, 3, low=-4, high=4)]),
    GradCase("BesselI0e", tf.math.bessel_i0e, [np.array([[0.3, -1.2, 2.5], [35.0, -40.0, 8.0]])]),
    GradCase("BesselI1", tf.math.bessel_i1, [np.array([[0.3, -1.2, 2.5], [0.0, -4.0, 8.0]])],
             tolerance=1e-5),
    GradCase("BesselI1e", tf.math.bessel_i1e, [np.array([[0.3, -1.2, 2.5], [0.0, -40.0, 35.0]])]),
    GradCase("Erfinv", tf.math.erfinv, [_values(2, 3, low=-0.95, high=0.95)]),
    GradCase("Ndtri", tf.math.ndtri, [_values(2, 3, low=0.02, high=0.98)], tolerance=1e-5),
    GradCase("Polygamma", lambda x: tf.math.polygamma(tf.constant([[1.0], [2.0]], tf.float64),
                                                      x),
             [np.array([0.4, 1.5, 3.0, -1.5])], tolerance=1e-5),
    GradCase("Zeta", lambda q: tf.math.zeta(tf.constant([[2.0], [3.5]], tf.float64), q),
             [np.array([0.4, 1.5, 3.0, 11.0])], tolerance=1e-5),
    GradCase("Igamma", lambda x: tf.math.igamma(tf.constant([[0.5], [3.0]], tf.float64), x),
             [np.array([0.3, 1.5, 4.0, 9.0])], tolerance=1e-5),
    GradCase("Igammac", lambda x: tf.math.igammac(tf.constant([[0.5], [3.0]], tf.float64), x),
             [np.array([0.3, 1.5, 4.0, 9.0])], tolerance=1e-5),
    GradCase("Betainc", lambda x: _betainc_in_x(x), [np.array([0.2, 0.5, 0.9])],
             tolerance=1e-5),
    GradCase("Betainc", lambda x: _betainc_in_x(x), [np.array(0.4)], id="Betainc-scalar-x",
             tolerance=1e-5),
    GradCase("Atan2", tf.math.atan2, [_values(2, 3), _values(3, low=0.5, high=2)]),
    GradCase("Atan2", tf.math.atan2, [_values(3, 1), _values(1, 2)], id="Atan2-broadcast"),
    GradCase("Xlogy", tf.math.xlogy, [np.array([[0.4, 1.5, -2.0], [0.7, -0.3, 3.0]]),
                                      _values(3, low=0.5, high=3)]),
    GradCase("Xlog1py", tf.math.xlog1py, [np.array([[0.4, 1.5, -2.0], [0.7, -0.3, 3.0]]),
                                          _values(2, 3, low=-0.5, high=3)]),
    GradCase("Xdivy", tf.math.xdivy, [np.array([[0.4, 1.5, -2.0], [0.7, -0.3, 3.0]]),
                                      _values(2, 1, low=0.5, high=3)]),
    GradCase("NextAfter", tf.math.nextafter, [_values(2, 3), _values(3)]),
    GradCase("MulNoNan", tf.math.multiply_no_nan, [_values(2, 3), _values(3)]),
    GradCase("MulNoNan", tf.math.multiply_no_nan,
             [_values(2, 3), np.array([[0.0, 1.0, -2.0], [0.5, 0.0, 1.5]])],
             id="MulNoNan-zeros"),
]


@pytest.mark.parametrize("case", GRADIENT_CASES, ids=case_ids(GRADIENT_CASES))
def test_numeric_gradient(case):
    check_case(case)


@pytest.mark.parametrize("function", [
    tf.math.floor, tf.math.ceil, tf.math.rint, tf.math.round,
    lambda x: tf.truncatediv(x, tf.constant(2.0, tf.float64)),
    lambda x: tf.truncatemod(x, tf.constant(2.0, tf.float64))])
def test_piecewise_constant_ops_have_no_gradient(function):
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float64, [3])
        assert tf.gradients(function(x), x) == [None]
