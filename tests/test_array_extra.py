"""TF 1's remaining array ops (``ops/array_extra_ops.py``): values, static shapes and errors.

Expected values were computed with TF 2.21's ``tf.compat.v1`` on the same inputs.
"""

import os

import numpy as np
import pytest

import sessionlib as tf

V = np.array([[3, 1, 2, 1, 2], [0, -1, 5, 5, 0], [2, 2, 2, 1, 7]], np.float32)


def _run(fetches, feed_dict=None):
    with tf.Session() as session:
        return session.run(fetches, feed_dict)


@pytest.fixture(autouse=True)
def _fresh_graph():
    with tf.Graph().as_default():
        yield


def test_sort_and_argsort_match_tf_with_stable_ties():
    got = _run([tf.sort(V), tf.argsort(V), tf.argsort(V, direction="DESCENDING"),
                tf.argsort(V, axis=0), tf.sort(V, axis=0, direction="DESCENDING")])
    assert got[0].tolist() == [[1, 1, 2, 2, 3], [-1, 0, 0, 5, 5], [1, 2, 2, 2, 7]]
    assert got[1].tolist() == [[1, 3, 2, 4, 0], [1, 0, 4, 2, 3], [3, 0, 1, 2, 4]]
    assert got[2].tolist() == [[0, 2, 4, 1, 3], [2, 3, 0, 4, 1], [4, 0, 1, 2, 3]]
    assert got[3].tolist() == [[1, 1, 0, 0, 1], [2, 0, 2, 2, 0], [0, 2, 1, 1, 2]]
    np.testing.assert_array_equal(got[4], -np.sort(-V, axis=0))
    assert got[1].dtype == np.int32


def test_sort_of_integer_extremes_and_unsigned():
    ints = tf.constant([3, -2147483648, 2147483647, 0], tf.int32)
    got = _run([tf.sort(ints), tf.sort(ints, direction="DESCENDING"),
                tf.sort(tf.constant([3, 0, 255, 7], tf.uint8))])
    assert got[0].tolist() == [-2147483648, 0, 3, 2147483647]
    assert got[1].tolist() == [2147483647, 3, 0, -2147483648]
    assert got[2].tolist() == [0, 3, 7, 255]


def test_sort_errors():
    with pytest.raises(ValueError, match="direction"):
        tf.sort([1, 2], direction="UP")
    with pytest.raises(ValueError, match="out of bounds"):
        tf.sort([1, 2], axis=1)
    unknown = tf.placeholder(tf.float32)
    assert _run(tf.sort(unknown), {unknown: [[2, 1]]}).tolist() == [[1, 2]]
    with pytest.raises(ValueError, match="rank"):
        tf.sort(unknown, axis=0)


def test_unique_and_counts():
    y, idx = tf.unique(tf.constant([4, 2, 4, -1, 2]))
    y2, idx2, count = tf.unique_with_counts(tf.constant([4, 2, 4, -1, 2, 4]), tf.int64)
    empty, empty_idx = tf.unique(tf.zeros([0]))
    strings, string_idx = tf.unique(tf.constant([b"b", b"a", b"b"]))
    assert y.shape.as_list() == [None] and idx.shape.as_list() == [5]
    got = _run([y, idx, y2, idx2, count, empty, empty_idx, strings, string_idx])
    assert got[0].tolist() == [4, 2, -1] and got[1].tolist() == [0, 1, 0, 2, 1]
    assert got[2].tolist() == [4, 2, -1] and got[3].tolist() == [0, 1, 0, 2, 1, 0]
    assert got[4].tolist() == [3, 2, 1] and got[4].dtype == np.int64
    assert got[5].shape == (0,) and got[6].shape == (0,)
    assert got[7].tolist() == [b"b", b"a"] and got[8].tolist() == [0, 1, 0]
    with pytest.raises(ValueError, match="rank 1"):
        tf.unique(tf.zeros([2, 2]))
    with pytest.raises(TypeError, match="out_idx"):
        tf.unique([1, 2], out_idx=tf.float32)


def test_reverse_sequence():
    got = _run([tf.reverse_sequence(V, [1, 0, 5], seq_axis=1, batch_axis=0),
                tf.reverse_sequence(V.T, tf.constant([2, 3, 1], tf.int64), seq_dim=0,
                                    batch_dim=1)])
    assert got[0].tolist() == [[3, 1, 2, 1, 2], [0, -1, 5, 5, 0], [7, 1, 2, 2, 2]]
    assert got[1].T.tolist() == [[1, 3, 2, 1, 2], [5, -1, 0, 5, 0], [2, 2, 2, 1, 7]]
    with pytest.raises(ValueError, match="Dimensions must be equal"):
        tf.reverse_sequence(tf.zeros([2, 3]), [1, 1, 1], seq_axis=1)
    with pytest.raises(ValueError, match="batch_dim"):
        tf.reverse_sequence(tf.zeros([2, 3]), [1, 1], seq_axis=0, batch_axis=0)
    with pytest.raises(tf.errors.InvalidArgumentError, match="seq_lengths"):
        _run(tf.reverse_sequence(tf.zeros([2, 3]), [1, 4], seq_axis=1))


def test_broadcast_to_and_broadcast_shapes():
    out = tf.broadcast_to(tf.constant([[1], [2]]), [3, 2, 4])
    assert out.shape.as_list() == [3, 2, 4]
    value, dynamic = _run([out, tf.broadcast_dynamic_shape([2, 1, 3], [4, 1])])
    np.testing.assert_array_equal(value, np.broadcast_to([[1], [2]], (3, 2, 4)))
    assert dynamic.tolist() == [2, 4, 3]
    assert tf.broadcast_static_shape(tf.TensorShape([2, 1]),
                                     tf.TensorShape([None, 3])).as_list() == [2, 3]
    with pytest.raises(ValueError, match="Incompatible"):
        tf.broadcast_to(tf.zeros([3]), [2, 4])
    with pytest.raises(ValueError, match="Incompatible"):
        tf.broadcast_static_shape(tf.TensorShape([2, 3]), tf.TensorShape([4]))
    shape = tf.placeholder(tf.int32, [2])
    with pytest.raises(tf.errors.InvalidArgumentError, match="Unable to broadcast"):
        _run(tf.broadcast_to(tf.zeros([3]), shape), {shape: [2, 4]})
    with pytest.raises(tf.errors.InvalidArgumentError, match="Incompatible shapes"):
        _run(tf.broadcast_dynamic_shape(shape, [4]), {shape: [2, 3]})


def test_roll():
    got = _run([tf.roll(V, [1, -2], [0, 1]), tf.roll(V, [1, 3], [1, 1]), tf.roll(V, -7, 1)])
    np.testing.assert_array_equal(got[0], np.roll(V, (1, -2), (0, 1)))
    assert got[1].tolist() == [[1, 2, 1, 2, 3], [-1, 5, 5, 0, 0], [2, 2, 1, 7, 2]]
    np.testing.assert_array_equal(got[2], np.roll(V, -7, 1))
    with pytest.raises(ValueError, match="Dimensions must be equal"):
        tf.roll(tf.zeros([2, 3]), [1, 2], [0])
    with pytest.raises(tf.errors.InvalidArgumentError, match="axis"):
        _run(tf.roll(tf.zeros([2, 3]), 1, 2))


def test_linspace_steps_in_the_values_precision():
    got = _run([tf.lin_space(0.1, 0.7, 13), tf.linspace(tf.constant(-1., tf.float64), 2., 4),
                tf.linspace(3., 5., 1)])
    np.testing.assert_array_equal(got[0], np.float32(
        [0.10000000149011612, 0.15000000596046448, 0.19999998807907104, 0.25,
         0.29999998211860657, 0.3499999940395355, 0.3999999761581421, 0.44999995827674866,
         0.4999999701976776, 0.550000011920929, 0.5999999642372131, 0.6499999761581421,
         0.699999988079071]))
    assert got[1].tolist() == [-1, 0, 1, 2] and got[1].dtype == np.float64
    assert got[2].tolist() == [3]
    assert tf.linspace(0., 1., 5).shape.as_list() == [5]
    assert tf.linspace(0, 1, 3).dtype == tf.float64  # as TF 2's compat.v1 makes integers
    with pytest.raises(ValueError, match="num > 0"):
        tf.linspace(0., 1., 0)


def test_repeat_and_meshgrid():
    x4 = np.arange(48, dtype=np.float32).reshape(2, 4, 2, 3)
    out = tf.repeat(V, [1, 0, 2], axis=0)
    assert out.shape.as_list() == [3, 5]
    assert tf.repeat(V, 2, axis=-1).shape.as_list() == [3, 10]
    got = _run([out, tf.repeat(V, 2, axis=-1), tf.repeat(V, 2),
                tf.repeat(x4, [1, 2, 0, 1], axis=1)])
    assert got[0].tolist() == [[3, 1, 2, 1, 2], [2, 2, 2, 1, 7], [2, 2, 2, 1, 7]]
    np.testing.assert_array_equal(got[1], np.repeat(V, 2, axis=-1))
    np.testing.assert_array_equal(got[2], np.repeat(V, 2))
    np.testing.assert_array_equal(got[3], np.repeat(x4, [1, 2, 0, 1], axis=1))
    with pytest.raises(ValueError, match="not compatible"):
        tf.repeat([1, 2], [1, 2, 3])
    xy = _run(tf.meshgrid(V[0], V[1, :3]))
    ij = _run(tf.meshgrid(V[0], V[1, :3], V[2, :2], indexing="ij"))
    for got_grid, want in zip(xy + ij, np.meshgrid(V[0], V[1, :3])
                              + np.meshgrid(V[0], V[1, :3], V[2, :2], indexing="ij")):
        np.testing.assert_array_equal(got_grid, want)


def test_space_to_depth_and_back_in_both_layouts():
    x = np.random.RandomState(0).randn(2, 4, 6, 3).astype(np.float32)
    nhwc = tf.space_to_depth(x, 2)
    assert nhwc.shape.as_list() == [2, 2, 3, 12]
    nchw = tf.nn.space_to_depth(np.transpose(x, (0, 3, 1, 2)), 2, data_format="NCHW")
    assert nchw.shape.as_list() == [2, 12, 2, 3]
    back = tf.nn.depth_to_space(nhwc, 2)
    got = _run([nhwc, nchw, back, tf.depth_to_space(nchw, 2, data_format="NCHW")])
    want = x.reshape(2, 2, 2, 3, 2, 3).transpose(0, 1, 3, 2, 4, 5).reshape(2, 2, 3, 12)
    np.testing.assert_array_equal(got[0], want)
    np.testing.assert_array_equal(got[1], want.transpose(0, 3, 1, 2))
    np.testing.assert_array_equal(got[2], x)
    np.testing.assert_array_equal(got[3], np.transpose(x, (0, 3, 1, 2)))
    with pytest.raises(ValueError, match="at least minimum 2"):
        tf.space_to_depth(tf.zeros([1, 4, 4, 1]), 1)
    with pytest.raises(ValueError, match="divisible by 2 but is 5"):
        tf.space_to_depth(tf.zeros([1, 5, 4, 1]), 2)
    with pytest.raises(ValueError, match="divisible by 4 but is 6"):
        tf.depth_to_space(tf.zeros([1, 2, 2, 6]), 2)


def _numpy_space_to_batch(x, blocks, paddings):
    padded = np.pad(x, [(0, 0)] + list(paddings) + [(0, 0)] * (x.ndim - 1 - len(blocks)))
    parts = []
    for offsets in np.ndindex(*blocks):
        index = (slice(None),) + tuple(slice(o, None, b) for o, b in zip(offsets, blocks))
        parts.append(padded[index])
    return np.concatenate(parts, axis=0)


def test_space_to_batch_and_back():
    x = np.random.RandomState(1).randn(2, 5, 5, 2).astype(np.float32)
    out = tf.space_to_batch_nd(x, [2, 3], [[1, 0], [0, 1]])
    assert out.shape.as_list() == [12, 3, 2, 2]
    old = tf.space_to_batch(x[:, :4, :4], [[0, 0], [1, 1]], 2)
    assert old.shape.as_list() == [8, 2, 3, 2]
    back = tf.batch_to_space_nd(out, [2, 3], [[1, 0], [0, 1]])
    old_back = tf.batch_to_space(old, [[0, 0], [1, 1]], 2)
    assert tf.nn.space_to_batch is tf.space_to_batch
    got = _run([out, old, back, old_back])
    np.testing.assert_array_equal(got[0], _numpy_space_to_batch(x, [2, 3], [(1, 0), (0, 1)]))
    np.testing.assert_array_equal(got[1], _numpy_space_to_batch(x[:, :4, :4], [2, 2],
                                                                [(0, 0), (1, 1)]))
    np.testing.assert_array_equal(got[2], x)
    np.testing.assert_array_equal(got[3], x[:, :4, :4])
    with pytest.raises(ValueError, match="not divisible"):
        tf.space_to_batch_nd(tf.zeros([1, 5, 4, 1]), [2, 2], [[0, 0], [0, 0]])
    with pytest.raises(ValueError, match="non-negative"):
        tf.space_to_batch_nd(tf.zeros([1, 4, 4, 1]), [2, 2], [[0, -2], [0, 0]])
    with pytest.raises(ValueError, match="not divisible"):
        tf.batch_to_space_nd(tf.zeros([3, 2, 2, 1]), [2, 2], [[0, 0], [0, 0]])
    blocks = tf.placeholder(tf.int32, [2])
    with pytest.raises(tf.errors.InvalidArgumentError, match="not divisible"):
        _run(tf.space_to_batch_nd(tf.zeros([1, 5, 4, 1]), blocks, [[0, 0], [0, 0]]),
             {blocks: [2, 2]})


def test_dilated_pool_still_matches_its_definition():
    x = np.random.RandomState(2).randn(1, 7, 7, 1).astype(np.float32)
    pooled = _run(tf.nn.pool(x, [2, 2], "MAX", "VALID", dilation_rate=[2, 2]))
    want = np.maximum.reduce([x[:, i:i + 5, j:j + 5] for i in (0, 2) for j in (0, 2)])
    np.testing.assert_array_equal(pooled, want)


def test_diag_and_diag_part():
    got = _run([tf.diag([[1., 2.], [3., 4.]]),
                tf.diag_part(tf.reshape(tf.range(36), [2, 3, 2, 3])),
                tf.linalg.tensor_diag_part(tf.eye(3))])
    assert got[0].shape == (2, 2, 2, 2) and got[0][1, 0, 1, 0] == 3 and got[0].sum() == 10
    assert got[1].tolist() == [[0, 7, 14], [21, 28, 35]]
    assert got[2].tolist() == [1, 1, 1]
    with pytest.raises(ValueError, match="at least rank 1"):
        tf.diag(3.)
    with pytest.raises(ValueError, match="even"):
        tf.diag_part(tf.zeros([2, 2, 2]))
    with pytest.raises(ValueError, match="Dimensions must be equal"):
        tf.diag_part(tf.zeros([2, 3]))


def test_searchsorted_setdiff1d_unravel_index_invert_permutation():
    out = tf.searchsorted(tf.reshape(tf.range(12), [2, 2, 3]),
                          tf.reshape(tf.range(0, 16, 2), [2, 2, 2]))
    assert out.shape.as_list() == [2, 2, 2]
    diff, positions = tf.setdiff1d([1, 2, 3, 4, 2], [2, 5])
    got = _run([tf.searchsorted([[1, 3, 5], [2, 4, 6]], [[3, 0], [7, 4]]),
                tf.searchsorted([1., 3., 3., 5.], [3., 4., 0.], side="right",
                                out_type=tf.int64), out, diff, positions,
                tf.unravel_index([1, 5, 11], [3, 4]), tf.unravel_index(7, [3, 4]),
                tf.invert_permutation([2, 0, 1])])
    assert got[0].tolist() == [[1, 0], [3, 1]]
    assert got[1].tolist() == [3, 3, 0] and got[1].dtype == np.int64
    assert got[2].tolist() == [[[0, 2], [1, 3]], [[2, 3], [3, 3]]]
    assert got[3].tolist() == [1, 3, 4] and got[4].tolist() == [0, 2, 3]
    assert got[5].tolist() == [[0, 1, 2], [1, 1, 3]] and got[6].tolist() == [1, 3]
    assert got[7].tolist() == [1, 2, 0]
    with pytest.raises(ValueError, match="side"):
        tf.searchsorted([1, 2], [1], side="middle")
    with pytest.raises(tf.errors.InvalidArgumentError, match="out of bounds"):
        _run(tf.unravel_index([12], [3, 4]))


def test_tensor_scatter_family():
    got = _run([tf.tensor_scatter_nd_update(V, [[0], [2]], V[:2]),
                tf.tensor_scatter_nd_add(V, [[0, 1], [0, 1]], [1., 1.]),
                tf.tensor_scatter_sub(V, [[1, 1]], [10.]),
                tf.tensor_scatter_nd_max(V, [[1, 1], [2, 0], [2, 0]], [10., 0., 5.]),
                tf.tensor_scatter_nd_min(V, [[1, 1], [2, 0]], [10., 0.]),
                tf.tensor_scatter_update(tf.zeros([2, 3], tf.int32), [[1, 2]], [7]),
                tf.tensor_scatter_add(V, tf.zeros([0, 2], tf.int64), tf.zeros([0]))])
    assert got[0].tolist() == [V[0].tolist(), V[1].tolist(), V[1].tolist()]
    assert got[1][0, 1] == 3 and got[2][1, 1] == -11
    assert got[3].tolist() == [[3, 1, 2, 1, 2], [0, 10, 5, 5, 0], [5, 2, 2, 1, 7]]
    assert got[4][1, 1] == -1 and got[4][2, 0] == 0
    assert got[5].tolist() == [[0, 0, 0], [0, 0, 7]]
    np.testing.assert_array_equal(got[6], V)
    with pytest.raises(ValueError, match="must match"):
        tf.tensor_scatter_nd_update(tf.zeros([3, 2]), [[0]], [1., 2., 3.])
    with pytest.raises(tf.errors.InvalidArgumentError, match="does not index into shape"):
        _run(tf.tensor_scatter_nd_add(tf.zeros([3, 2]), [[5]], [[1., 2.]]))


def test_batch_gather_shape_n_parallel_stack_ensure_shape_where_v2():
    sizes = tf.shape_n([tf.zeros([2, 3]), tf.zeros([])], out_type=tf.int64)
    stacked = tf.parallel_stack([V, V * 2])
    assert stacked.shape.as_list() == [2, 3, 5]
    loose = tf.placeholder(tf.float32, [None, None])
    checked = tf.ensure_shape(loose, [None, 5])
    assert checked.shape.as_list() == [None, 5]
    got = _run([tf.batch_gather([[1, 2, 3], [4, 5, 6]], [[2, 0], [1, 1]]),
                tf.batch_gather(tf.reshape(tf.range(24), [2, 3, 4]),
                                [[[3, 0]] * 3, [[1, 1]] * 3]),
                sizes, stacked, checked,
                tf.where_v2([[True], [False]], [1., 2.], 0.),
                tf.where_v2([[True, False], [False, True]])], {loose: V})
    assert got[0].tolist() == [[3, 1], [5, 5]]
    assert got[1].tolist() == [[[3, 0], [7, 4], [11, 8]], [[13, 13], [17, 17], [21, 21]]]
    assert [s.tolist() for s in got[2]] == [[2, 3], []] and got[2][0].dtype == np.int64
    np.testing.assert_array_equal(got[3], np.stack([V, V * 2]))
    np.testing.assert_array_equal(got[4], V)
    assert got[5].tolist() == [[1, 2], [0, 0]]
    assert got[6].tolist() == [[0, 0], [1, 1]]
    with pytest.raises(ValueError, match="not compatible"):
        tf.ensure_shape(tf.zeros([2, 3]), [3, 3])
    with pytest.raises(tf.errors.InvalidArgumentError, match="not compatible"):
        _run(tf.ensure_shape(loose, [3, 3]), {loose: V})
    with pytest.raises(ValueError, match="both be non-None"):
        tf.where_v2([True], [1.])


def test_histograms():
    values = [-1., 0., 1.5, 2., 5., 4.9, 0.9999999]
    got = _run([tf.histogram_fixed_width(values, [0., 5.], nbins=5),
                tf.histogram_fixed_width(tf.constant([-1, 0, 3, 7, 9, 10]), [0, 10], nbins=3,
                                         dtype=tf.int64),
                tf.histogram_fixed_width_bins(values[:6], [0., 5.], nbins=5)])
    assert got[0].tolist() == [3, 1, 1, 0, 2]
    assert got[1].tolist() == [3, 0, 3] and got[1].dtype == np.int64
    assert got[2].tolist() == [0, 0, 1, 2, 4, 4]
    with pytest.raises(ValueError, match="nbins > 0"):
        tf.histogram_fixed_width([1.], [0., 1.], 0)
    with pytest.raises(tf.errors.InvalidArgumentError, match="value_range"):
        _run(tf.histogram_fixed_width([1., 2.], [2., 1.], 3))


def _numpy_patches(x, size, stride, rate, padding):
    batch, rows, cols, depth = x.shape
    spans = [s + (s - 1) * (r - 1) for s, r in zip(size, rate)]
    if padding == "VALID":
        outs = [(n - span) // st + 1 for n, span, st in zip((rows, cols), spans, stride)]
        before = [0, 0]
    else:
        outs = [-(-n // st) for n, st in zip((rows, cols), stride)]
        before = [max((o - 1) * st + span - n, 0) // 2
                  for o, st, span, n in zip(outs, stride, spans, (rows, cols))]
    out = np.zeros((batch, outs[0], outs[1], size[0], size[1], depth), x.dtype)
    for i in range(outs[0]):
        for j in range(outs[1]):
            for a in range(size[0]):
                for b in range(size[1]):
                    r = i * stride[0] + a * rate[0] - before[0]
                    c = j * stride[1] + b * rate[1] - before[1]
                    if 0 <= r < rows and 0 <= c < cols:
                        out[:, i, j, a, b] = x[:, r, c]
    return out.reshape(batch, outs[0], outs[1], -1)


def test_extract_image_patches():
    x = np.random.RandomState(3).randn(2, 5, 5, 2).astype(np.float32)
    valid = tf.extract_image_patches(x, [1, 2, 3, 1], [1, 2, 1, 1], [1, 1, 1, 1], "VALID")
    assert valid.shape.as_list() == [2, 2, 3, 12]
    same = tf.image.extract_image_patches(x, ksizes=[1, 3, 2, 1], strides=[1, 2, 3, 1],
                                          rates=[1, 2, 1, 1], padding="SAME")
    dilated = tf.image.extract_patches(x, [1, 2, 2, 1], [1, 3, 1, 1], [1, 2, 2, 1], "VALID")
    got = _run([valid, same, dilated])
    np.testing.assert_array_equal(got[0], _numpy_patches(x, (2, 3), (2, 1), (1, 1), "VALID"))
    np.testing.assert_array_equal(got[1], _numpy_patches(x, (3, 2), (2, 3), (2, 1), "SAME"))
    np.testing.assert_array_equal(got[2], _numpy_patches(x, (2, 2), (3, 1), (2, 2), "VALID"))
    with pytest.raises(ValueError, match="padding"):
        tf.extract_image_patches(x, [1, 2, 2, 1], [1, 1, 1, 1], [1, 1, 1, 1], "FULL")


def test_tensordot_timestamp_bitcast():
    a = np.random.RandomState(4).randn(2, 3, 4)
    b = np.random.RandomState(5).randn(4, 2, 5)
    dot = tf.tensordot(a, b, [[0, 2], [1, 0]])
    assert dot.shape.as_list() == [3, 5] and tf.linalg.tensordot is tf.tensordot
    got = _run([dot, tf.tensordot(a, b, 1), tf.tensordot(a[0, 0], b[0, 0], 0), tf.timestamp(),
                tf.bitcast(tf.constant([1.0, -2.5]), tf.int32),
                tf.bitcast(tf.constant([1, 258], tf.int32), tf.uint8),
                tf.bitcast(tf.constant([[1, 0, 0, 0], [0, 1, 0, 0]], tf.uint8), tf.int32)])
    np.testing.assert_allclose(got[0], np.tensordot(a, b, [[0, 2], [1, 0]]))
    np.testing.assert_allclose(got[1], np.tensordot(a, b, 1))
    np.testing.assert_allclose(got[2], np.multiply.outer(a[0, 0], b[0, 0]))
    assert got[3] > 1.6e9 and got[3].dtype == np.float64
    assert got[4].tolist() == [1065353216, -1071644672]
    assert got[5].tolist() == [[1, 0, 0, 0], [2, 1, 0, 0]]
    assert got[6].tolist() == [1, 256]
    with pytest.raises(ValueError, match="Different number"):
        tf.tensordot(tf.zeros([2, 3]), tf.zeros([3, 4]), [[1], [0, 1]])
    with pytest.raises(ValueError, match="Cannot bitcast"):
        tf.bitcast(tf.zeros([3], tf.uint8), tf.int32)
    with pytest.raises(TypeError):
        tf.bitcast(tf.zeros([4], tf.bool), tf.uint8)


def test_ops_survive_a_graph_def_round_trip():
    x = tf.placeholder(tf.float32, [1, 4, 4, 2], name="x")
    tf.identity(tf.depth_to_space(tf.space_to_depth(x, 2), 2), name="out")
    tf.identity(tf.unique(tf.reshape(x, [-1]), out_idx=tf.int64)[1], name="idx")
    graph_def = tf.get_default_graph().as_graph_def()
    value = np.random.RandomState(6).randn(1, 4, 4, 2).astype(np.float32)
    with tf.Graph().as_default() as imported:
        tf.import_graph_def(graph_def, name="")
        out, idx = _run([imported.get_tensor_by_name("out:0"),
                         imported.get_tensor_by_name("idx:0")], {"x:0": value})
    np.testing.assert_array_equal(out, value)
    assert idx.dtype == np.int64 and idx.shape == (32,)


def test_edit_distance():
    hypothesis = tf.SparseTensorValue([[0, 0, 0], [1, 0, 0], [1, 0, 1], [2, 1, 0]],
                                      [b"a", b"b", b"c", b"a"], [3, 2, 2])
    truth = tf.SparseTensorValue([[0, 1, 0], [1, 0, 0], [1, 0, 1], [1, 0, 2], [2, 1, 0]],
                                 [b"a", b"b", b"d", b"c", b"b"], [3, 2, 3])
    normalized = tf.edit_distance(hypothesis, truth)
    assert normalized.shape.as_list() == [3, 2]
    got = _run([normalized, tf.edit_distance(hypothesis, truth, normalize=False)])
    np.testing.assert_allclose(got[0], [[np.inf, 1], [1 / 3, 0], [0, 1]])
    assert got[1].tolist() == [[1, 1], [1, 0], [0, 1]] and got[1].dtype == np.float32
    with pytest.raises(TypeError, match="Hypothesis must be a SparseTensor"):
        tf.edit_distance(tf.zeros([2]), tf.zeros([2]))


def test_tf_manip_namespace():
    assert tf.manip.roll is tf.roll and tf.manip.space_to_batch_nd is tf.space_to_batch_nd
    assert _run(tf.manip.reverse(tf.manip.tile([1, 2], [2]), [0])).tolist() == [2, 1, 2, 1]


def test_a_graph_def_written_by_tf_runs_with_tfs_values():
    # tests/data/tf_array_extra.pb and .npz: made by tools/make_tf_array_extra.py with TF 2.21.
    data = os.path.join(os.path.dirname(__file__), "data")
    graph_def = tf.GraphDef()
    with open(os.path.join(data, "tf_array_extra.pb"), "rb") as f:
        graph_def.ParseFromString(f.read())
    assert {"SpaceToBatch", "BatchToSpace", "EditDistance", "Unique", "ExtractImagePatches",
            "TensorScatterMax", "ParallelConcat"} <= {node.op for node in graph_def.node}
    expected = np.load(os.path.join(data, "tf_array_extra.npz"))
    tf.import_graph_def(graph_def, name="")
    graph = tf.get_default_graph()
    keys = [key for key in expected.files if not key.startswith("feed_")]
    got = _run({key: graph.get_tensor_by_name(f"out_{key}:0") for key in keys},
               {"x:0": expected["feed_x"], "v:0": expected["feed_v"]})
    for key in keys:
        assert got[key].dtype == expected[key].dtype, key
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-6, err_msg=key)
