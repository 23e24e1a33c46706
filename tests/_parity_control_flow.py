"""Parity cases (see test_parity.py) of the functional control flow ops (issue 16): an ``If``
and a ``While`` over elementwise and reduction bodies; the reference executor runs their
functions with the reference kernels in Python, the Cython one with the fast kernels (the
loop in ``_core/control_flow.pyx``)."""

import sessionlib as tf

FLOATS = (tf.float32, tf.float64)
NUMERIC = FLOATS + (tf.int32, tf.int64)


def _if(f, d):
    x = f((3, 4), d)
    pred = tf.reduce_sum(x) > tf.cast(0, d)
    taken = tf.cond(pred, lambda: x * x + x, lambda: x - tf.reduce_max(x))
    always_true = tf.cond(tf.constant(True), lambda: x + x, lambda: x)
    return [taken, always_true]


def _while(f, d):
    x = f((5,), d)
    i, acc = tf.while_loop(lambda i, acc: i < 7,
                           lambda i, acc: (i + 1, acc * tf.cast(2, d) - x),
                           [tf.constant(0), x])
    bounded = tf.while_loop(lambda a: tf.reduce_sum(a) < tf.cast(10 ** 6, d),
                            lambda a: a + tf.abs(x) + tf.cast(1, d), [x],
                            maximum_iterations=5)
    return [i, acc, bounded]


def add_cases(case):
    """Adds this family's cases through test_parity's `case(op_type, dtypes, build)`."""
    case("StatelessIf", NUMERIC, _if)
    case("StatelessWhile", NUMERIC, _while)
