"""Array ops: creation, shape manipulation, slicing, gather, where and clip; values against
numpy, static shape inference, graph-time and run-time errors, GraphDef form."""

import numpy as np
import pytest

import sessionlib as tf
from sessionlib import errors

X = np.arange(24, dtype=np.float32).reshape(2, 3, 4)


def run(fetches, feed_dict=None):
    with tf.Session() as session:
        return session.run(fetches, feed_dict)


def assert_run_error(tensor, feed_dict=None, error=errors.InvalidArgumentError):
    with tf.Session() as session:
        with pytest.raises(error) as info:
            session.run(tensor, feed_dict)
    assert info.value.op is tensor.op
    return info.value


# ---- creation -------------------------------------------------------------------------------

def test_zeros_ones_fill(executor):
    outs = run([tf.zeros([2, 3]), tf.ones([2], tf.int32), tf.zeros((40, 30)),
                tf.fill([2, 2], 7), tf.zeros(tf.constant([3])), tf.ones([0, 2]),
                tf.zeros([2], tf.bool), tf.zeros([1], tf.string)])
    np.testing.assert_array_equal(outs[0], np.zeros((2, 3), np.float32))
    assert outs[0].dtype == np.float32 and outs[1].dtype == np.int32
    np.testing.assert_array_equal(outs[1], [1, 1])
    assert outs[2].shape == (40, 30) and not outs[2].any()
    np.testing.assert_array_equal(outs[3], np.full((2, 2), 7, np.int32))
    np.testing.assert_array_equal(outs[4], [0, 0, 0])
    assert outs[5].shape == (0, 2)
    assert outs[6].dtype == np.bool_ and outs[7][0] == b""
    # A large result is a Fill, a small one a Const, as in TF.
    assert tf.zeros((40, 30)).op.type == "Fill"
    assert tf.zeros([2, 3]).op.type == "Const"


def test_zeros_like_ones_like(executor):
    x = tf.placeholder(tf.float32, [None, 2])
    zeros, ones, ones_int = run([tf.zeros_like(x), tf.ones_like(x),
                                 tf.ones_like(x, dtype=tf.int32)],
                                {x: np.ones((3, 2), np.float32)})
    np.testing.assert_array_equal(zeros, np.zeros((3, 2), np.float32))
    np.testing.assert_array_equal(ones, np.ones((3, 2), np.float32))
    assert ones_int.dtype == np.int32 and ones_int.shape == (3, 2)
    assert tf.zeros_like(x).op.type == "ZerosLike"
    assert tf.zeros_like(x).shape == tf.TensorShape([None, 2])
    assert tf.ones_like(tf.constant([1, 2])).op.type == "Const"  # known shape: folded


def test_range(executor):
    outs = run([tf.range(5), tf.range(2, 10, 3), tf.range(5, 0, -2), tf.range(0.0, 1.0, 0.25),
                tf.range(3, dtype=tf.int64), tf.range(1, 2.5, 0.5)])
    np.testing.assert_array_equal(outs[0], np.arange(5))
    np.testing.assert_array_equal(outs[1], [2, 5, 8])
    np.testing.assert_array_equal(outs[2], [5, 3, 1])
    np.testing.assert_allclose(outs[3], [0.0, 0.25, 0.5, 0.75])
    assert outs[0].dtype == np.int32 and outs[3].dtype == np.float32
    assert outs[4].dtype == np.int64
    np.testing.assert_allclose(outs[5], [1.0, 1.5, 2.0])
    assert tf.range(2, 10, 3).shape == tf.TensorShape([3])
    limit = tf.placeholder(tf.int32, [])
    assert tf.range(limit).shape == tf.TensorShape([None])
    with pytest.raises(ValueError):
        tf.range(0, 5, 0)
    assert_run_error(tf.range(0, limit, -1), {limit: 3})


# ---- reshape, transpose, expand_dims, squeeze -------------------------------------------------

def test_reshape(executor):
    x = tf.constant(X)
    flat, two, inferred = run([tf.reshape(x, [-1]), tf.reshape(x, [6, 4]),
                               tf.reshape(x, tf.stack([4, -1]))])
    np.testing.assert_array_equal(flat, X.reshape(-1))
    np.testing.assert_array_equal(two, X.reshape(6, 4))
    np.testing.assert_array_equal(inferred, X.reshape(4, -1))
    assert tf.reshape(x, [-1, 8]).shape == tf.TensorShape([3, 8])
    assert tf.reshape(x, tf.shape(x)).shape == tf.TensorShape([2, 3, 4])
    unknown = tf.placeholder(tf.float32, [None, 4])
    assert tf.reshape(unknown, [-1, 2, 2]).shape == tf.TensorShape([None, 2, 2])
    with pytest.raises(ValueError):
        tf.reshape(x, [5, 5])
    with pytest.raises(ValueError):
        tf.reshape(x, [-1, 5])
    reshaped = tf.reshape(unknown, [3, 4])
    error = assert_run_error(reshaped, {unknown: np.zeros((2, 4), np.float32)})
    assert "8 values" in error.message


def test_transpose(executor):
    x = tf.constant(X)
    default, explicit = run([tf.transpose(x), tf.transpose(x, [1, 0, 2])])
    np.testing.assert_array_equal(default, X.T)
    np.testing.assert_array_equal(explicit, X.transpose(1, 0, 2))
    assert tf.transpose(x, [2, 0, 1]).shape == tf.TensorShape([4, 2, 3])
    with pytest.raises(ValueError):
        tf.transpose(x, [0, 1])
    with pytest.raises(ValueError):
        tf.transpose(x, [0, 0, 1])
    unknown = tf.placeholder(tf.float32)
    np.testing.assert_array_equal(run(tf.transpose(unknown), {unknown: X}), X.T)


def test_expand_dims_and_squeeze(executor):
    x = tf.constant(X)
    front, back, via_dim = run([tf.expand_dims(x, 0), tf.expand_dims(x, -1),
                                tf.expand_dims(x, dim=1)])
    assert front.shape == (1, 2, 3, 4) and back.shape == (2, 3, 4, 1)
    assert via_dim.shape == (2, 1, 3, 4)
    assert tf.expand_dims(x, -1).shape == tf.TensorShape([2, 3, 4, 1])
    with pytest.raises(ValueError):
        tf.expand_dims(x, 5)
    y = tf.constant(np.zeros((1, 3, 1), np.float32))
    every, one, old = run([tf.squeeze(y), tf.squeeze(y, [2]), tf.squeeze(y, squeeze_dims=[0])])
    assert every.shape == (3,) and one.shape == (1, 3) and old.shape == (3, 1)
    assert tf.squeeze(y, axis=-1).shape == tf.TensorShape([1, 3])
    with pytest.raises(ValueError):
        tf.squeeze(y, [1])
    unknown = tf.placeholder(tf.float32, [None, 3])
    squeezed = tf.squeeze(unknown, [0])
    assert squeezed.shape == tf.TensorShape([3])
    assert_run_error(squeezed, {unknown: np.zeros((2, 3), np.float32)})


# ---- concat, stack, unstack, split ----------------------------------------------------------

def test_concat_stack_unstack(executor):
    a, b = tf.constant(X[0]), tf.constant(X[1])
    outs = run([tf.concat([a, b], 0), tf.concat([a, b], axis=-1), tf.stack([a, b]),
                tf.stack([a, b], axis=2), tf.unstack(tf.constant(X), axis=1)])
    np.testing.assert_array_equal(outs[0], np.concatenate([X[0], X[1]], 0))
    np.testing.assert_array_equal(outs[1], np.concatenate([X[0], X[1]], -1))
    np.testing.assert_array_equal(outs[2], X)
    np.testing.assert_array_equal(outs[3], np.stack([X[0], X[1]], 2))
    assert len(outs[4]) == 3
    for i, part in enumerate(outs[4]):
        np.testing.assert_array_equal(part, X[:, i])
    assert tf.concat([a, b], 1).shape == tf.TensorShape([3, 8])
    assert tf.concat([a], 0).op.type == "Identity"
    assert tf.stack([a, b], 1).shape == tf.TensorShape([3, 2, 4])
    with pytest.raises(ValueError):
        tf.concat([a, tf.constant(X)], 0)
    with pytest.raises(ValueError):
        tf.concat([a, tf.zeros([2, 5])], 0)
    with pytest.raises(ValueError):
        tf.stack([a, tf.zeros([2, 2])])
    with pytest.raises(ValueError):
        tf.unstack(tf.placeholder(tf.float32, [None, 2]))
    unknown = tf.placeholder(tf.float32, [None, None])
    joined = tf.concat([unknown, tf.zeros([2, 3])], 0)
    assert joined.shape == tf.TensorShape([None, 3])
    assert_run_error(joined, {unknown: np.zeros((1, 4), np.float32)})


def test_split(executor):
    x = tf.constant(X)
    parts = tf.split(x, 2, axis=2)
    sized = tf.split(x, [1, -1], axis=1)
    assert [p.shape for p in parts] == [tf.TensorShape([2, 3, 2])] * 2
    assert [p.shape for p in sized] == [tf.TensorShape([2, 1, 4]), tf.TensorShape([2, 2, 4])]
    outs = run(parts + sized)
    np.testing.assert_array_equal(outs[0], X[:, :, :2])
    np.testing.assert_array_equal(outs[1], X[:, :, 2:])
    np.testing.assert_array_equal(outs[2], X[:, :1])
    np.testing.assert_array_equal(outs[3], X[:, 1:])
    assert parts[0].op.type == "Split" and sized[0].op.type == "SplitV"
    with pytest.raises(ValueError):
        tf.split(x, 5, axis=2)
    with pytest.raises(ValueError):
        tf.split(x, [1, 1], axis=1)


def test_split_pieces_along_any_axis_and_of_empty_tensors(executor):
    value = np.arange(2 * 6 * 4, dtype=np.float32).reshape(2, 6, 4)
    x = tf.placeholder(tf.float32, [None, 6, 4])
    parts = tf.split(x, 3, axis=-2) + tf.split(x, 2, axis=0)
    sized = tf.split(x, [2, 0, -1], axis=1)
    outs = run(parts + sized, {x: value})
    for got, want in zip(outs, np.split(value, 3, axis=1) + np.split(value, 2, axis=0)
                         + np.split(value, [2, 2], axis=1)):
        np.testing.assert_array_equal(got, want)
    assert [o.shape for o in outs[-3:]] == [(2, 2, 4), (2, 0, 4), (2, 4, 4)]
    empty = run(tf.split(x, 2, axis=2) + tf.split(x, [0, -1], axis=0),
                {x: np.zeros((0, 6, 4), np.float32)})
    assert [e.shape for e in empty] == [(0, 6, 2), (0, 6, 2), (0, 6, 4), (0, 6, 4)]


# ---- slicing --------------------------------------------------------------------------------

def test_slice(executor):
    x = tf.constant(X)
    block, rest = run([tf.slice(x, [0, 1, 1], [2, 2, 2]), tf.slice(x, [1, 0, 0], [-1, -1, 3])])
    np.testing.assert_array_equal(block, X[:, 1:3, 1:3])
    np.testing.assert_array_equal(rest, X[1:, :, :3])
    assert tf.slice(x, [1, 0, 0], [-1, 2, -1]).shape == tf.TensorShape([1, 2, 4])
    with pytest.raises(ValueError):
        tf.slice(x, [0, 0, 0], [3, 1, 1])
    begin = tf.placeholder(tf.int32, [3])
    dynamic = tf.slice(x, begin, [1, 1, 1])
    assert dynamic.shape == tf.TensorShape([1, 1, 1])
    assert_run_error(dynamic, {begin: [5, 0, 0]})


@pytest.mark.parametrize("index", [
    np.s_[0], np.s_[1:3], np.s_[-1], np.s_[:, 1], np.s_[..., 0], np.s_[::-1],
    np.s_[None, 1], np.s_[:, None, 1:], np.s_[1, ..., ::2], np.s_[-2:, 1:-1, -1],
    np.s_[:, :, None], np.s_[0, 0, 0], np.s_[5:], np.s_[:, ::-2, 3:0:-1],
])
def test_getitem(executor, index):
    x = tf.constant(X)
    sliced = x[index]
    expected = X[index]
    assert sliced.op.type == "StridedSlice"
    assert sliced.shape == tf.TensorShape(expected.shape)
    np.testing.assert_array_equal(run(sliced), expected)


def test_getitem_with_tensor_index_and_unknown_shapes(executor):
    x = tf.placeholder(tf.float32, [None, 3, 4])
    i = tf.placeholder(tf.int32, [])
    picked = x[i, 1:]
    assert picked.shape == tf.TensorShape([2, 4])
    assert x[1:].shape == tf.TensorShape([None, 3, 4])
    np.testing.assert_array_equal(run(picked, {x: X, i: 1}), X[1, 1:])
    assert tf.newaxis is None
    error = assert_run_error(picked, {x: X, i: 7})
    assert "out of bounds" in error.message


def test_getitem_errors():
    x = tf.constant(X)
    with pytest.raises(ValueError):
        x[5]  # noqa: B018
    with pytest.raises(ValueError):
        x[0, 0, 0, 0]  # noqa: B018
    with pytest.raises(TypeError):
        x[1.5]  # noqa: B018
    with pytest.raises(TypeError):
        x[[0, 1]]  # noqa: B018


def test_getitem_graph_def():
    x = tf.constant(X)
    node = x[1:, 0].op.node_def
    assert node.attr["begin_mask"].i == 0 and node.attr["shrink_axis_mask"].i == 2
    assert node.attr["end_mask"].i == 1
    assert list(node.input)[1:] == ["strided_slice/stack", "strided_slice/stack_1",
                                     "strided_slice/stack_2"]


def test_iterating_a_tensor(executor):
    rows = list(tf.constant(X[0]))
    assert len(rows) == 3
    for got, want in zip(run(rows), X[0]):
        np.testing.assert_array_equal(got, want)


# ---- gather, tile ---------------------------------------------------------------------------

def test_gather(executor):
    x = tf.constant(X)
    rows, cols, nested = run([tf.gather(x, [1, 0]), tf.gather(x, [3, 0, 3], axis=2),
                              tf.gather(x, [[0, 1], [1, 1]])])
    np.testing.assert_array_equal(rows, X[[1, 0]])
    np.testing.assert_array_equal(cols, X[:, :, [3, 0, 3]])
    np.testing.assert_array_equal(nested, X[[[0, 1], [1, 1]]])
    assert tf.gather(x, [[0, 1]], axis=1).shape == tf.TensorShape([2, 1, 2, 4])
    indices = tf.placeholder(tf.int32, [None])
    gathered = tf.gather(x, indices)
    error = assert_run_error(gathered, {indices: [0, 2]})
    assert "[0, 2)" in error.message
    assert_run_error(gathered, {indices: [-1]})
    with pytest.raises(TypeError):
        tf.gather(x, tf.constant([0.5]))


def test_tile(executor):
    x = tf.constant(X[0])
    np.testing.assert_array_equal(run(tf.tile(x, [2, 3])), np.tile(X[0], (2, 3)))
    assert tf.tile(x, [2, 3]).shape == tf.TensorShape([6, 12])
    with pytest.raises(ValueError):
        tf.tile(x, [2])
    multiples = tf.placeholder(tf.int32, [None])
    assert_run_error(tf.tile(x, multiples), {multiples: [1, 2, 3]})


# ---- shape, size, rank, cast on shapes ------------------------------------------------------

def test_shape_size_rank(executor):
    x = tf.placeholder(tf.float32, [None, 3])
    shape_t, size_t, rank_t = tf.shape(x), tf.size(x), tf.rank(tf.placeholder(tf.int32))
    assert (shape_t.op.type, size_t.op.type, rank_t.op.type) == ("Shape", "Size", "Rank")
    assert shape_t.shape == tf.TensorShape([2])
    feed = {x: np.zeros((5, 3), np.float32), "Placeholder_1:0": np.zeros((2, 2, 2), np.int32)}
    shape_v, size_v, rank_v, shape64 = run([shape_t, size_t, rank_t,
                                            tf.shape(x, out_type=tf.int64)], feed)
    np.testing.assert_array_equal(shape_v, [5, 3])
    assert size_v == 15 and rank_v == 3
    assert shape64.dtype == np.int64
    static = tf.constant(X)
    np.testing.assert_array_equal(run(tf.shape(static)), [2, 3, 4])
    assert run(tf.size(static)) == 24 and run(tf.rank(static)) == 3


# ---- where, clip_by_value ---------------------------------------------------------------------

def test_where(executor):
    condition = np.array([[True, False], [False, True]])
    coords, chosen, vector, broadcast = run([
        tf.where(condition),
        tf.where(condition, tf.ones([2, 2]), tf.zeros([2, 2])),
        tf.where(tf.constant([True, False]), tf.constant([[1, 2], [3, 4]]),
                 tf.constant([[5, 6], [7, 8]])),
        tf.where(tf.constant([True, False]), tf.constant([[1, 2], [3, 4]]),
                 tf.constant([9, 9])),
    ])
    np.testing.assert_array_equal(coords, np.argwhere(condition))
    assert coords.dtype == np.int64
    np.testing.assert_array_equal(chosen, condition.astype(np.float32))
    np.testing.assert_array_equal(vector, [[1, 2], [7, 8]])  # TF 1: a vector picks rows
    np.testing.assert_array_equal(broadcast, [[1, 9], [3, 9]])
    assert tf.where(condition).shape == tf.TensorShape([None, 2])
    with pytest.raises(ValueError):
        tf.where(condition, tf.ones([2, 2]))
    with pytest.raises(TypeError):
        tf.where(condition, tf.ones([2, 2]), tf.zeros([2, 2], tf.int32))


def test_clip_by_value(executor):
    x = tf.constant(X[0])
    clipped, by_tensor = run([tf.clip_by_value(x, 2.0, 9.0),
                              tf.clip_by_value(x, tf.zeros([3, 4]), 5.0)])
    np.testing.assert_array_equal(clipped, np.clip(X[0], 2, 9))
    np.testing.assert_array_equal(by_tensor, np.clip(X[0], 0, 5))
    assert tf.clip_by_value(x, 2.0, 9.0).op.type == "ClipByValue"
    with pytest.raises(ValueError):
        tf.clip_by_value(x, tf.zeros([5, 3, 4]), 1.0)
    with pytest.raises(TypeError):
        tf.clip_by_value(tf.constant([1, 2]), 0.5, 1.0)


# ---- GraphDef form --------------------------------------------------------------------------

def test_graph_def_attrs():
    x = tf.placeholder(tf.float32, [2, 3, 4], name="x")
    built = [tf.reshape(x, [-1]), tf.transpose(x), tf.expand_dims(x, 0), tf.squeeze(x, []),
             tf.concat([x, x], 0), tf.stack([x, x]), tf.unstack(x)[0], tf.split(x, 3, 1)[0],
             tf.slice(x, [0, 0, 0], [1, 1, 1]), tf.gather(x, [0]), tf.tile(x, [1, 1, 2]),
             tf.fill([2], 1.0), tf.range(3)]
    expected = {
        "Reshape": ("T", "Tshape"), "Transpose": ("T", "Tperm"), "ExpandDims": ("T", "Tdim"),
        "Squeeze": ("T", "squeeze_dims"), "ConcatV2": ("N", "T", "Tidx"),
        "Pack": ("N", "T", "axis"), "Unpack": ("T", "axis", "num"),
        "Split": ("T", "num_split"), "Slice": ("Index", "T"),
        "GatherV2": ("Taxis", "Tindices", "Tparams", "batch_dims"),
        "Tile": ("T", "Tmultiples"), "Fill": ("T", "index_type"), "Range": ("Tidx",),
    }
    for tensor in built:
        node = tensor.op.node_def
        assert tuple(sorted(node.attr)) == expected[node.op], node.op
    assert tf.stack([x, x]).op.node_def.attr["N"].i == 2


def test_import_graph_def_keeps_static_shapes(executor):
    x = tf.constant(X)
    tf.reshape(tf.transpose(x)[1:, 0], [-1], name="out")
    graph_def = tf.get_default_graph().as_graph_def()
    with tf.Graph().as_default():
        (out,) = tf.import_graph_def(graph_def, return_elements=["out:0"], name="")
        assert out.shape == tf.TensorShape([6])
        np.testing.assert_array_equal(run(out), X.T[1:, 0].reshape(-1))
