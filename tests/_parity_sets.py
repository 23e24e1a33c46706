"""Parity cases (see test_parity.py) of the set ops (``tf.sets``) on every dtype they take."""

import numpy as np

import sessionlib as tf

SET_DTYPES = (tf.int8, tf.int16, tf.int32, tf.int64, tf.uint8, tf.string)


def _sparse(feeds, dtype):
    indices = np.array([[0, 0], [0, 1], [0, 2], [2, 0], [2, 3]], np.int64)
    values = feeds((len(indices),), dtype, low=0, high=4)
    return tf.SparseTensor(tf.constant(indices), values, tf.constant([3, 4], tf.int64))


def _parts(sparse):
    return [sparse.indices, sparse.values, sparse.dense_shape]


def _operations(kind):
    def build(f, d):
        if kind == "dense":
            a, b = f((3, 4), d, low=0, high=4), f((3, 2), d, low=0, high=4)
        elif kind == "mixed":
            a, b = f((3, 4), d, low=0, high=4), _sparse(f, d)
        else:
            a, b = _sparse(f, d), _sparse(f, d)
        outs = []
        for fn in (tf.sets.intersection, tf.sets.union, tf.sets.difference):
            outs.extend(_parts(fn(a, b)))
        outs.extend(_parts(tf.sets.difference(a, b, aminusb=False)))
        return outs

    return build


def add_cases(case):
    """Adds this family's cases through test_parity's `case(op_type, dtypes, build)`."""
    case("DenseToDenseSetOperation", SET_DTYPES, _operations("dense"))
    case("DenseToSparseSetOperation", SET_DTYPES, _operations("mixed"))
    case("SparseToSparseSetOperation", SET_DTYPES, _operations("sparse"))
    case("SetSize", SET_DTYPES, lambda f, d: [tf.sets.size(_sparse(f, d))])
