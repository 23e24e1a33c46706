"""Parity cases (see test_parity.py) of the ops that tf.losses and tf.metrics add: DivNoNan,
fed with divisors that are partly zero, broadcasting both ways."""

import sessionlib as tf

FLOATS = (tf.float16, tf.float32, tf.float64)


def _div_no_nan(f, d):
    x = f((3, 4), d)
    zeros_in = tf.constant([0.0, 1.5, 0.0, -2.0], dtype=d)
    scalar_zero = tf.constant(0.0, dtype=d)
    return [tf.div_no_nan(x, zeros_in), tf.div_no_nan(zeros_in, x),
            tf.div_no_nan(x, f((3, 4), d)), tf.div_no_nan(x, scalar_zero)]


def add_cases(case):
    """Adds this family's cases through test_parity's `case(op_type, dtypes, build)`."""
    case("DivNoNan", FLOATS, _div_no_nan)
