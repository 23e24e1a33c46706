"""Parity cases (see test_parity.py) of the stateless ops of ``ops/check_ops.py``: ``IdentityN``
(several dtypes at once) and ``StringFormat`` (the numpy-like layout, with summarizing).
``Assert``, ``Print`` and ``PrintV2`` are stateful and tested in tests/test_check_ops.py."""

import sessionlib as tf
from sessionlib.ops import check_ops


def _identity_n(f, d):
    return check_ops.identity_n([f((3, 4), d), f((), d), f((2,), tf.int32)])


def _string_format(f, d):
    matrix, vector, scalar = f((8, 5), d), f((7,), d), f((), d)
    return [check_ops.string_format("m={} v={} s={}", [matrix, vector, scalar]),
            check_ops.string_format("{}|{}", [f((2, 3, 4), d), vector], summarize=1),
            check_ops.string_format("all {}", vector, summarize=-1)]


def add_cases(case):
    """Adds this family's cases through test_parity's `case(op_type, dtypes, build)`."""
    case("IdentityN", (tf.float32, tf.float64, tf.int64, tf.bool, tf.string), _identity_n)
    case("StringFormat", (tf.float16, tf.float32, tf.float64, tf.int32, tf.uint8, tf.bool,
                          tf.string), _string_format)
