"""Parity cases (see test_parity.py) of the SparseTensor ops of ``sparse_manipulation_ops``
and ``sparse_math_ops``: each op on every dtype it takes, with fed (read-only) values."""

import numpy as np

import sessionlib as tf

FLOATS = (tf.float16, tf.float32, tf.float64)
INTS = (tf.int8, tf.int16, tf.int32, tf.int64, tf.uint8)
NUMERIC = FLOATS + INTS
ALL = NUMERIC + (tf.bool, tf.string)

# A 3x4 SparseTensor in row-major order, and an unordered one with a repeated row.
_ORDERED = np.array([[0, 1], [0, 3], [1, 2], [2, 0]], np.int64)
_UNORDERED = np.array([[2, 0], [0, 3], [1, 2], [0, 1], [2, 3]], np.int64)
_SHAPE = np.array([3, 4], np.int64)


def _sparse(feeds, dtype, indices=_ORDERED, shape=_SHAPE, **value_kwargs):
    values = feeds((len(indices),), dtype, **value_kwargs)
    return tf.SparseTensor(tf.constant(indices), values, tf.constant(shape))


def _parts(sparse):
    return [sparse.indices, sparse.values, sparse.dense_shape]


def _reorder(f, d):
    return _parts(tf.sparse.reorder(_sparse(f, d, _UNORDERED)))


def _reshape(f, d):
    sp = _sparse(f, d)
    return (_parts(tf.sparse.reshape(sp, [-1, 2])) + _parts(tf.sparse.reshape(sp, [2, 3, 2]))
            + _parts(tf.sparse.reshape(sp, [12])))


def _concat(f, d):
    other = _sparse(f, d, np.array([[0, 0], [2, 1]], np.int64), np.array([3, 2], np.int64))
    wide = _sparse(f, d, np.array([[1, 0]], np.int64), np.array([2, 4], np.int64))
    return (_parts(tf.sparse.concat(1, [_sparse(f, d), other]))
            + _parts(tf.sparse.concat(0, [_sparse(f, d), wide]))
            + _parts(tf.sparse.concat(0, [_sparse(f, d), other], expand_nonconcat_dim=True)))


def _slice(f, d):
    sp = _sparse(f, d, _UNORDERED)
    return (_parts(tf.sparse.slice(sp, [0, 1], [2, 3]))
            + _parts(tf.sparse.slice(sp, [1, 0], [9, 9])))


def _slice_grad(f, d):
    sp = _sparse(f, d, _UNORDERED)
    sliced = tf.sparse.slice(sp, [0, 1], [3, 3])
    grad = f((4,), d)
    return [tf.get_default_graph().create_op(
        "SparseSliceGrad", [grad, sp.indices, tf.constant([0, 1], tf.int64),
                            sliced.indices]).outputs[0]]


def _split(f, d):
    outs = []
    for axis, count in ((1, 3), (0, 2), (-1, 1)):
        for piece in tf.sparse.split(sp_input=_sparse(f, d), num_split=count, axis=axis):
            outs.extend(_parts(piece))
    return outs


def _fill(f, d):
    sp = _sparse(f, d, np.array([[3, 1], [1, 0], [3, 0]], np.int64), np.array([5, 2], np.int64))
    default = tf.constant(b"x" if d is tf.string else np.ones([], d.as_numpy_dtype),
                          dtype=d)
    filled, empty = tf.sparse.fill_empty_rows(sp, default)
    return _parts(filled) + [empty, filled.indices.op.outputs[3]]


def _fill_grad(f, d):
    reverse_map = tf.constant([2, 0, 3], tf.int64)
    return list(tf.get_default_graph().create_op(
        "SparseFillEmptyRowsGrad", [reverse_map, f((5,), d)]).outputs)


def _matmul(f, d):
    sp = _sparse(f, d, low=-3, high=3)
    outs = []
    for adjoint_a, adjoint_b, shape in ((False, False, (4, 2)), (True, False, (3, 2)),
                                        (False, True, (2, 4)), (True, True, (2, 3))):
        outs.append(tf.sparse.sparse_dense_matmul(sp, f(shape, d, low=-3, high=3),
                                                  adjoint_a=adjoint_a, adjoint_b=adjoint_b))
    return outs


def _dense_sparse_matmul(f, d):
    a, b = f((3, 4), d, low=-2, high=2), f((4, 2), d)
    return [tf.sparse_matmul(a, b, a_is_sparse=True),
            tf.sparse_matmul(b, a, transpose_a=True, transpose_b=True, b_is_sparse=True)]


def _cwise(op):
    def build(f, d):
        nonzero = {"nonzero": True, "positive": True} if op == "div" else {}
        outs = []
        for shape in ((3, 4), (4,), (3, 1), ()):
            dense = f(shape, d, **nonzero)
            sp = _sparse(f, d)
            outs.append((sp * dense if op == "mul" else sp.__div__(dense)).values)
        return outs

    return build


def _reduce_max(f, d):
    sp = _sparse(f, d, _ORDERED)
    return [tf.sparse.reduce_max(sp, 1), tf.sparse.reduce_max(sp, 0, keepdims=True),
            tf.sparse.reduce_max(sp)]


def _reduce_sparse(fn):
    def build(f, d):
        sp = _sparse(f, d, np.array([[0, 0, 1], [0, 2, 1], [1, 1, 0], [1, 1, 1]], np.int64),
                     np.array([2, 3, 2], np.int64))
        return (_parts(fn(sp, 1)) + _parts(fn(sp, [0, 2], keepdims=True)) + _parts(fn(sp)))

    return build


def _softmax(f, d):
    sp = _sparse(f, d, np.array([[0, 0, 1], [0, 0, 3], [0, 2, 1], [1, 1, 0]], np.int64),
                 np.array([2, 3, 4], np.int64))
    return [tf.sparse.softmax(sp).values]


def _elementwise(fn):
    def build(f, d):
        other = _sparse(f, d, np.array([[0, 1], [1, 1], [2, 0]], np.int64))
        return _parts(fn(_sparse(f, d), other))

    return build


def _segment(fn, with_num_segments):
    def build(f, d):
        data = f((4, 3), d, low=0, high=6)
        kwargs = {"num_segments": 5} if with_num_segments else {}
        return [fn(data, tf.constant([0, 2, 1, 3, 3]), tf.constant([0, 0, 2, 2, 3]), **kwargs),
                fn(data, tf.constant([1, 0], tf.int64), tf.constant([1, 1], tf.int64),
                   **kwargs)]

    return build


def _serialize(f, d):
    sp = _sparse(f, d)
    return [tf.serialize_sparse(sp), tf.serialize_many_sparse(sp)]


def _deserialize(f, d):
    sp = _sparse(f, d)
    other = _sparse(f, d, np.array([[0, 2, 1], [1, 0, 0]], np.int64),
                    np.array([2, 4, 2], np.int64))
    stacked = tf.concat([tf.serialize_many_sparse(sp), tf.serialize_many_sparse(
        tf.sparse.reshape(other, [2, 8]))], 0)
    return _parts(tf.deserialize_many_sparse(stacked, d))


def _cross(f, d):
    sp = _sparse(f, d, np.array([[0, 0], [1, 0], [1, 1], [2, 2]], np.int64))
    dense = f((3, 2), d)
    return _parts(tf.sparse.cross([sp, dense])) + _parts(tf.sparse.cross([dense, sp, sp],
                                                                          separator="|"))


def _cross_hashed(f, d):
    sp = _sparse(f, d, np.array([[0, 0], [1, 0], [1, 1], [2, 2]], np.int64))
    dense = f((3, 2), d)
    return (_parts(tf.sparse.cross_hashed([sp, dense]))
            + _parts(tf.sparse.cross_hashed([dense, sp], num_buckets=50, hash_key=7)))


def add_cases(case):
    """Adds this family's cases through test_parity's `case(op_type, dtypes, build)`."""
    case("SparseReorder", ALL, _reorder)
    case("SparseReshape", (tf.float32, tf.int32), _reshape)
    case("SparseConcat", ALL, _concat)
    case("SparseSlice", ALL, _slice)
    case("SparseSliceGrad", NUMERIC, _slice_grad)
    case("SparseSplit", ALL, _split)
    case("SparseFillEmptyRows", ALL, _fill)
    case("SparseFillEmptyRowsGrad", NUMERIC, _fill_grad)
    case("SparseTensorDenseMatMul", NUMERIC, _matmul)
    case("SparseMatMul", (tf.float32,), _dense_sparse_matmul)
    case("SparseDenseCwiseMul", NUMERIC, _cwise("mul"))
    case("SparseDenseCwiseDiv", FLOATS, _cwise("div"))
    case("SparseReduceMax", NUMERIC, _reduce_max)
    case("SparseReduceMaxSparse", NUMERIC, _reduce_sparse(tf.sparse.reduce_max_sparse))
    case("SparseReduceSumSparse", NUMERIC, _reduce_sparse(tf.sparse.reduce_sum_sparse))
    case("SparseSoftmax", FLOATS, _softmax)
    case("SparseCrossV2", (tf.int64, tf.string), _cross)
    case("SparseCross", (tf.int64, tf.string), _cross_hashed)
    case("SerializeSparse", ALL, _serialize)
    case("SerializeManySparse", ALL, _serialize)
    case("DeserializeManySparse", ALL, _deserialize)
    case("SparseSparseMaximum", NUMERIC, _elementwise(tf.sparse.maximum))
    case("SparseSparseMinimum", NUMERIC, _elementwise(tf.sparse.minimum))
    for name, fn in (("Sum", tf.sparse.segment_sum), ("Mean", tf.sparse.segment_mean),
                     ("SqrtN", tf.sparse.segment_sqrt_n)):
        dtypes_ = NUMERIC if name == "Sum" else FLOATS
        case(f"SparseSegment{name}", dtypes_, _segment(fn, False))
        case(f"SparseSegment{name}WithNumSegments", dtypes_, _segment(fn, True))
