"""Parity cases (see test_parity.py) of the linear-algebra ops: Qr, reduced and full, on a
tall, a wide and a batched input."""

import sessionlib as tf
from sessionlib.ops import linalg_ops

FLOATS = (tf.float16, tf.float32, tf.float64)


def _qr(f, d):
    outs = []
    for shape, full in (((5, 3), False), ((3, 5), False), ((2, 4, 3), True)):
        outs.extend(linalg_ops.qr(f(shape, d), full_matrices=full))
    return outs


def add_cases(case):
    """Adds this family's cases through test_parity's `case(op_type, dtypes, build)`."""
    case("Qr", FLOATS, _qr)
