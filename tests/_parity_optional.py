"""Parity cases (see test_parity.py) of the Optional ops (issue 16): every dtype as a
component, next to a second component of another dtype. An Optional cannot be fetched, so each
case reads it back with OptionalGetValue / OptionalHasValue."""

import sessionlib as tf
from sessionlib.ops import optional_ops as oo

ALL = (tf.float16, tf.float32, tf.float64, tf.int8, tf.int16, tf.int32, tf.int64, tf.uint8,
       tf.bool, tf.string)


def _round_trip(f, d):
    x, y = f((3, 2), d), f((), tf.int32)
    optional = oo.optional_from_value([x, y])
    got = oo.optional_get_value(optional, [d, tf.int32], [[3, 2], []])
    return got + [oo.optional_has_value(optional)]


def _has_value(f, d):
    return [oo.optional_has_value(oo.optional_none()),
            oo.optional_has_value(oo.optional_from_value([f((2,), d)]))]


def add_cases(case):
    """Adds this family's cases through test_parity's `case(op_type, dtypes, build)`."""
    case("OptionalFromValue", ALL, _round_trip)
    case("OptionalGetValue", ALL, _round_trip)
    case("OptionalHasValue", ALL, _has_value)
    case("OptionalNone", (tf.float32,), _has_value)
