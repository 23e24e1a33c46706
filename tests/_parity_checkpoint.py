"""Parity cases (see test_parity.py) of the string ops the checkpoint Saver builds:
``StringJoin`` (scalars and vectors, with a separator) and ``ShardedFilename``."""

import sessionlib as tf
from sessionlib.ops import checkpoint_ops


def _string_join(f, d):
    vector, other, scalar = f((3,), d), f((3,), d), f((), d)
    return [checkpoint_ops.string_join([vector, scalar]),
            checkpoint_ops.string_join([scalar, vector, other], separator="/"),
            checkpoint_ops.string_join([scalar, "_temp/part"])]


def _sharded_filename(f, d):
    return [checkpoint_ops.sharded_filename(f((), d), 1, 2),
            checkpoint_ops.sharded_filename(f((), d), tf.constant(12), tf.constant(100000))]


def add_cases(case):
    """Adds this family's cases through test_parity's `case(op_type, dtypes, build)`."""
    case("StringJoin", (tf.string,), _string_join)
    case("ShardedFilename", (tf.string,), _sharded_filename)
