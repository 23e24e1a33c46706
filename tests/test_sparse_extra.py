"""The SparseTensor ops beyond add/reduce_sum/to_dense (``sparse_manipulation_ops``,
``sparse_math_ops``), on both executors. Expected values are TF 2.21's (tf.compat.v1)."""

import numpy as np
import pytest

import sessionlib as tf
from sessionlib import errors


def _unordered():
    return tf.SparseTensor([[1, 2], [0, 3], [0, 1], [2, 0]], [1.0, 2.0, 3.0, 4.0], [3, 4])


def _ordered():
    return tf.SparseTensor([[0, 1], [0, 3], [1, 2], [2, 0]], [3.0, 2.0, 1.0, 4.0], [3, 4])


def _run(fetch, feed_dict=None):
    with tf.Session() as sess:
        return sess.run(fetch, feed_dict)


def _assert_sparse(value, indices, values, dense_shape):
    assert isinstance(value, tf.SparseTensorValue)
    expected = np.asarray(indices, np.int64)
    assert value.indices.shape == expected.shape
    np.testing.assert_array_equal(value.indices, expected)
    if value.values.dtype == object:
        np.testing.assert_array_equal(value.values, values)
    else:
        np.testing.assert_allclose(value.values, values, rtol=1e-6)
    np.testing.assert_array_equal(value.dense_shape, dense_shape)


# ---- reorder, reshape ---------------------------------------------------------------------

def test_reorder_sorts_row_major(executor):
    result = tf.sparse.reorder(_unordered())
    assert result.shape.as_list() == [3, 4]
    assert result.indices.op.type == "SparseReorder"
    _assert_sparse(_run(result), [[0, 1], [0, 3], [1, 2], [2, 0]], [3, 2, 1, 4], [3, 4])
    assert tf.sparse_reorder is tf.sparse.reorder


def test_reshape_infers_minus_one(executor):
    sp = _ordered()
    flat = tf.sparse.reshape(sp, [-1, 2])
    cube = tf.sparse_reshape(sp, [2, -1, 3])
    assert flat.shape.as_list() == [6, 2]
    assert cube.shape.as_list() == [2, 2, 3]
    flat_v, cube_v = _run([flat, cube])
    _assert_sparse(flat_v, [[0, 1], [1, 1], [3, 0], [4, 0]], [3, 2, 1, 4], [6, 2])
    _assert_sparse(cube_v, [[0, 0, 1], [0, 1, 0], [1, 0, 0], [1, 0, 2]], [3, 2, 1, 4],
                   [2, 2, 3])


def test_reshape_errors():
    sp = _ordered()
    with pytest.raises(ValueError, match=r"Cannot reshape a tensor with 12 elements to shape "
                                         r"\[5, None\] \(10 elements\)"):
        tf.sparse.reshape(sp, [5, -1])
    with pytest.raises(ValueError, match="At most one dimension can be inferred"):
        tf.sparse.reshape(sp, [-1, -1])
    fed = tf.placeholder(tf.int64, [None])
    reshaped = tf.sparse.reshape(sp, fed)
    with pytest.raises(errors.InvalidArgumentError, match="requested shape has 15"):
        _run(reshaped, {fed: [5, 3]})
    with pytest.raises(errors.InvalidArgumentError, match="size 1 must be non-negative"):
        _run(reshaped, {fed: [5, -2]})


# ---- concat, slice, split -------------------------------------------------------------------

def test_concat_along_columns_and_expanded_rows(executor):
    other = tf.SparseTensor([[0, 0], [2, 1]], [5.0, 6.0], [3, 2])
    small = tf.SparseTensor([[0, 0], [1, 1]], [7.0, 8.0], [2, 2])
    wide = tf.sparse.concat(1, [_ordered(), other])
    tall = tf.sparse_concat(0, [_ordered(), small], expand_nonconcat_dim=True)
    assert wide.shape.as_list() == [3, 6]
    assert tall.shape.as_list() == [5, 4]
    wide_v, tall_v = _run([wide, tall])
    _assert_sparse(wide_v, [[0, 1], [0, 3], [0, 4], [1, 2], [2, 0], [2, 5]],
                   [3, 2, 5, 1, 4, 6], [3, 6])
    _assert_sparse(tall_v, [[0, 1], [0, 3], [1, 2], [2, 0], [3, 0], [4, 1]],
                   [3, 2, 1, 4, 7, 8], [5, 4])


def test_concat_shape_mismatch_is_a_run_time_error():
    joined = tf.sparse.concat(1, [_ordered(), tf.SparseTensor([[0, 0]], [1.0], [2, 2])])
    with pytest.raises(errors.InvalidArgumentError,
                       match="expected 3 for dimension 0 but got 2 at position 1"):
        _run(joined)


def test_slice_keeps_order_and_clips(executor):
    inside = tf.sparse.slice(_ordered(), [0, 1], [2, 2])
    clipped = tf.sparse_slice(_ordered(), [0, 3], [5, 5])
    beyond = tf.sparse.slice(_ordered(), [4, 5], [5, 5])
    assert inside.shape.as_list() == [2, 2]
    inside_v, clipped_v, beyond_v = _run([inside, clipped, beyond])
    _assert_sparse(inside_v, [[0, 0], [1, 1]], [3, 1], [2, 2])
    _assert_sparse(clipped_v, [[0, 0]], [2], [3, 1])
    _assert_sparse(beyond_v, np.zeros((0, 2)), [], [0, 0])


def test_split_gives_the_first_pieces_the_extra_columns(executor):
    pieces = tf.sparse.split(sp_input=_ordered(), num_split=3, axis=1)
    assert [p.shape.as_list() for p in pieces] == [[3, 2], [3, 1], [3, 1]]
    first, second, third = _run(pieces)
    _assert_sparse(first, [[0, 1], [2, 0]], [3, 4], [3, 2])
    _assert_sparse(second, [[1, 0]], [1], [3, 1])
    _assert_sparse(third, [[0, 0]], [2], [3, 1])
    halves = tf.sparse_split(sp_input=_ordered(), num_split=2, split_dim=1)
    _assert_sparse(_run(halves[1]), [[0, 1], [1, 0]], [2, 1], [3, 2])


def test_split_errors():
    with pytest.raises(ValueError, match="Keyword arguments are required"):
        tf.sparse.split(_ordered(), 2, 1)
    too_many = tf.sparse.split(sp_input=_ordered(), num_split=5, axis=0)
    with pytest.raises(errors.InvalidArgumentError,
                       match=r"between 1 and the splitting dimension size \(3\), got 5"):
        _run(too_many)


# ---- fill_empty_rows, retain, reset_shape ---------------------------------------------------

def test_fill_empty_rows(executor):
    filled, empty = tf.sparse.fill_empty_rows(
        tf.SparseTensor([[1, 2], [3, 0]], [1.0, 2.0], [5, 4]), -1.0)
    filled_v, empty_v = _run([filled, empty])
    _assert_sparse(filled_v, [[0, 0], [1, 2], [2, 0], [3, 0], [4, 0]], [-1, 1, -1, 2, -1],
                   [5, 4])
    np.testing.assert_array_equal(empty_v, [True, False, True, False, True])


def test_fill_empty_rows_groups_unsorted_rows_stably(executor):
    filled, empty = tf.sparse_fill_empty_rows(
        tf.SparseTensor([[2, 1], [0, 0], [2, 0]], [1.0, 2.0, 3.0], [4, 3]), 5.0)
    filled_v, empty_v, reverse_map = _run([filled, empty, filled.indices.op.outputs[3]])
    _assert_sparse(filled_v, [[0, 0], [1, 0], [2, 1], [2, 0], [3, 0]], [2, 5, 1, 3, 5],
                   [4, 3])
    np.testing.assert_array_equal(empty_v, [False, True, False, True])
    np.testing.assert_array_equal(reverse_map, [2, 0, 3])


def test_fill_empty_rows_of_an_empty_tensor(executor):
    filled, empty = tf.sparse.fill_empty_rows(
        tf.SparseTensor(tf.zeros([0, 2], tf.int64), tf.zeros([0]), [2, 3]), 5.0)
    filled_v, empty_v = _run([filled, empty])
    _assert_sparse(filled_v, [[0, 0], [1, 0]], [5, 5], [2, 3])
    np.testing.assert_array_equal(empty_v, [True, True])


def test_retain_and_reset_shape(executor):
    kept = tf.sparse.retain(_ordered(), [True, False, True, True])
    bigger = tf.sparse_reset_shape(_ordered(), [5, 6])
    tight = tf.sparse.reset_shape(tf.SparseTensor([[0, 1], [1, 2]], [1.0, 2.0], [9, 9]))
    kept_v, bigger_v, tight_v = _run([kept, bigger, tight])
    _assert_sparse(kept_v, [[0, 1], [1, 2], [2, 0]], [3, 1, 4], [3, 4])
    _assert_sparse(bigger_v, [[0, 1], [0, 3], [1, 2], [2, 0]], [3, 2, 1, 4], [5, 6])
    _assert_sparse(tight_v, [[0, 1], [1, 2]], [1, 2], [2, 3])
    with pytest.raises(ValueError, match="should have dimension sizes >= sp_input.shape"):
        tf.sparse.reset_shape(_ordered(), [2, 4])
    with pytest.raises(ValueError, match="Dimensions 4 and 2 are not compatible"):
        tf.sparse.retain(_ordered(), [True, False])


# ---- transpose, expand_dims, eye, from_dense, to_indicator, merge, mask -------------------

def test_transpose(executor):
    plain = tf.sparse.transpose(_ordered())
    permuted = tf.sparse_transpose(
        tf.SparseTensor([[0, 1, 2], [1, 0, 1]], [1, 2], [2, 3, 4]), [2, 0, 1])
    assert plain.shape.as_list() == [4, 3]
    assert permuted.shape.as_list() == [4, 2, 3]
    plain_v, permuted_v = _run([plain, permuted])
    _assert_sparse(plain_v, [[0, 2], [1, 0], [2, 1], [3, 0]], [4, 3, 1, 2], [4, 3])
    _assert_sparse(permuted_v, [[1, 1, 0], [2, 0, 1]], [2, 1], [4, 2, 3])


def test_expand_dims_and_eye(executor):
    expanded = tf.sparse.expand_dims(_ordered(), -1)
    middle = tf.sparse.expand_dims(_ordered(), 1)
    eye = tf.sparse.eye(3, 4)
    assert expanded.shape.as_list() == [3, 4, 1]
    assert eye.shape.as_list() == [3, 4]
    expanded_v, middle_v, eye_v, square_v = _run(
        [expanded, middle, eye, tf.sparse.eye(3, dtype=tf.int32)])
    _assert_sparse(expanded_v, [[0, 1, 0], [0, 3, 0], [1, 2, 0], [2, 0, 0]], [3, 2, 1, 4],
                   [3, 4, 1])
    _assert_sparse(middle_v, [[0, 0, 1], [0, 0, 3], [1, 0, 2], [2, 0, 0]], [3, 2, 1, 4],
                   [3, 1, 4])
    _assert_sparse(eye_v, [[0, 0], [1, 1], [2, 2]], [1, 1, 1], [3, 4])
    assert square_v.values.dtype == np.int32


def test_from_dense_to_indicator_and_merge(executor):
    ids = tf.SparseTensor([[0, 0], [0, 1], [1, 0]], [3, 1, 2], [2, 2])
    weights = tf.SparseTensor([[0, 0], [0, 1], [1, 0]], [0.5, 0.6, 0.7], [2, 2])
    dense_v, indicator_v, merged_v = _run([
        tf.sparse.from_dense([[0, 1], [2, 0]]), tf.sparse_to_indicator(ids, 4),
        tf.sparse_merge(ids, weights, 5)])
    _assert_sparse(dense_v, [[0, 1], [1, 0]], [1, 2], [2, 2])
    np.testing.assert_array_equal(indicator_v, [[False, True, False, True],
                                                [False, False, True, False]])
    _assert_sparse(merged_v, [[0, 1], [0, 3], [1, 2]], [0.6, 0.5, 0.7], [2, 5])


def test_merge_of_several_id_tensors(executor):
    ids = tf.SparseTensor([[0, 0], [0, 1], [1, 0]], tf.constant([3, 1, 2], tf.int64), [2, 2])
    more_ids = tf.SparseTensor([[0, 0], [0, 1], [1, 0]], tf.constant([0, 2, 1], tf.int64),
                               [2, 2])
    weights = tf.SparseTensor([[0, 0], [0, 1], [1, 0]], [0.5, 0.6, 0.7], [2, 2])
    merged = tf.sparse.merge([ids, more_ids], weights, [4, 3])
    assert merged.shape.as_list() == [2, 4, 3]
    _assert_sparse(_run(merged), [[0, 1, 2], [0, 3, 0], [1, 2, 1]], [0.6, 0.5, 0.7],
                   [2, 4, 3])
    with pytest.raises(TypeError, match="Input must be a SparseTensor"):
        tf.sparse.merge(ids, None, 4)


def test_to_indicator_rejects_ids_out_of_range():
    ids = tf.SparseTensor([[0, 0], [0, 1], [1, 0]], [3, 1, 2], [2, 2])
    with pytest.raises(errors.InvalidArgumentError, match="out of bounds"):
        _run(tf.sparse.to_indicator(ids, 3))


def test_mask_drops_the_masked_slices(executor):
    slices = tf.IndexedSlices(tf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]),
                              tf.constant([0, 2, 5]))
    masked = tf.sparse_mask(slices, tf.constant([2]))
    values, indices = _run([masked.values, masked.indices])
    np.testing.assert_array_equal(values, [[1, 2], [5, 6]])
    np.testing.assert_array_equal(indices, [0, 5])


# ---- matmul -----------------------------------------------------------------------------------

@pytest.mark.parametrize("adjoint_a,adjoint_b", [(False, False), (True, False), (False, True),
                                                 (True, True)])
def test_sparse_dense_matmul_matches_dense(executor, adjoint_a, adjoint_b):
    rng = np.random.default_rng(3)
    sp = _unordered()
    dense_a = np.zeros((3, 4), np.float32)
    dense_a[[1, 0, 0, 2], [2, 3, 1, 0]] = [1, 2, 3, 4]
    left = dense_a.T if adjoint_a else dense_a
    b = rng.uniform(-1, 1, (2, left.shape[1]) if adjoint_b else (left.shape[1], 2))
    b = b.astype(np.float32)
    product = tf.sparse.sparse_dense_matmul(sp, b, adjoint_a=adjoint_a, adjoint_b=adjoint_b)
    assert product.shape.as_list() == [left.shape[0], 2]
    np.testing.assert_allclose(_run(product), left @ (b.T if adjoint_b else b), rtol=1e-6)
    assert product.op.type == "SparseTensorDenseMatMul"
    assert tf.sparse.matmul is tf.sparse_tensor_dense_matmul


def test_sparse_dense_matmul_values(executor):
    product = tf.sparse_tensor_dense_matmul(_ordered(), tf.ones([4, 2]))
    np.testing.assert_array_equal(_run(product), [[5, 5], [1, 1], [4, 4]])


def test_sparse_dense_matmul_errors():
    with pytest.raises(ValueError, match="Dimensions must be equal, but are 4 and 3"):
        tf.sparse.matmul(_ordered(), tf.ones([3, 2]))
    outside = tf.sparse.matmul(tf.SparseTensor([[0, 7]], [1.0], [3, 4]), tf.ones([4, 2]))
    with pytest.raises(errors.InvalidArgumentError,
                       match=r"k \(7\) from index\[0,1\] out of bounds \(>=4\)"):
        _run(outside)


# ---- reductions, softmax, maximum/minimum ---------------------------------------------------

def test_reduce_max_counts_only_present_entries(executor):
    sp = tf.SparseTensor([[0, 0], [1, 0], [1, 1]], [-7.0, 4.0, 3.0], [3, 2])
    rows, columns, everything, sparse_rows, kept = _run([
        tf.sparse.reduce_max(sp, 1), tf.sparse_reduce_max(sp, 0), tf.sparse.reduce_max(sp),
        tf.sparse.reduce_max_sparse(sp, 1), tf.sparse_reduce_max_sparse(sp, 1, keepdims=True)])
    np.testing.assert_array_equal(rows, [-7, 4, 0])
    np.testing.assert_array_equal(columns, [4, 3])
    assert everything == 4.0
    _assert_sparse(sparse_rows, [[0], [1]], [-7, 4], [3])
    _assert_sparse(kept, [[0, 0], [1, 0]], [-7, 4], [3, 1])


def test_reduce_sum_sparse(executor):
    columns, everything = _run([tf.sparse.reduce_sum_sparse(_ordered(), 0, keepdims=True),
                                tf.sparse_reduce_sum_sparse(_ordered())])
    _assert_sparse(columns, [[0, 0], [0, 1], [0, 2], [0, 3]], [4, 3, 1, 2], [1, 4])
    assert everything.indices.shape == (1, 0)
    np.testing.assert_array_equal(everything.values, [10.0])
    assert everything.dense_shape.shape == (0,)


def test_softmax_over_each_rows_present_entries(executor):
    result = _run(tf.sparse.softmax(_ordered()))
    _assert_sparse(result, [[0, 1], [0, 3], [1, 2], [2, 0]],
                   [0.7310586, 0.26894143, 1.0, 1.0], [3, 4])
    with pytest.raises(errors.InvalidArgumentError, match="rank >= 2"):
        _run(tf.sparse_softmax(tf.SparseTensor([[0]], [1.0], [3])))


def test_maximum_and_minimum_treat_absent_entries_as_zero(executor):
    other = tf.SparseTensor([[0, 1], [1, 1]], [9.0, -1.0], [3, 4])
    high, low = _run([tf.sparse.maximum(_ordered(), other), tf.sparse_minimum(_ordered(), other)])
    _assert_sparse(high, [[0, 1], [0, 3], [1, 1], [1, 2], [2, 0]], [9, 2, 0, 1, 4], [3, 4])
    _assert_sparse(low, [[0, 1], [0, 3], [1, 1], [1, 2], [2, 0]], [3, 0, -1, 0, 0], [3, 4])
    mismatched = tf.sparse.maximum(_ordered(), tf.SparseTensor([[0, 1]], [-1.0], [2, 2]))
    with pytest.raises(errors.InvalidArgumentError, match="got 3 and 2 for dimension 0"):
        _run(mismatched)


# ---- segment reductions -----------------------------------------------------------------------

def test_sparse_segment_reductions(executor):
    data = tf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    sums, means, roots, padded = _run([
        tf.sparse_segment_sum(data, [0, 2, 1], [0, 0, 1]),
        tf.sparse.segment_mean(data, [0, 2, 1], [0, 0, 2], num_segments=4),
        tf.sparse_segment_sqrt_n(data, [0, 2, 1], [0, 0, 2]),
        tf.sparse.segment_sum(data, [0, 2, 1], [0, 0, 2])])
    np.testing.assert_array_equal(sums, [[6, 8], [3, 4]])
    np.testing.assert_array_equal(means, [[3, 4], [0, 0], [3, 4], [0, 0]])
    np.testing.assert_allclose(roots, [[4.2426405, 5.656854], [0, 0], [3, 4]], rtol=1e-6)
    np.testing.assert_array_equal(padded, [[6, 8], [0, 0], [3, 4]])


def test_sparse_segment_errors():
    data = tf.ones([3, 2])
    with pytest.raises(errors.InvalidArgumentError, match="segment ids are not increasing"):
        _run(tf.sparse.segment_sum(data, [0, 1, 2], [1, 0, 1]))
    with pytest.raises(errors.InvalidArgumentError,
                       match=r"Bad: indices\[1\] == 5 out of range \[0, 3\)"):
        _run(tf.sparse.segment_sum(data, [0, 5, 2], [0, 0, 1]))
    with pytest.raises(TypeError):
        tf.sparse.segment_mean(tf.ones([3, 2], tf.int32), [0], [0])
    with pytest.raises(errors.InvalidArgumentError, match="segment ids must be < num_segments"):
        _run(tf.sparse.segment_sum(data, [0, 1], [0, 3], num_segments=2))


def test_graph_def_uses_tf_op_types():
    sp = _ordered()
    tf.sparse.concat(0, [sp, sp])
    tf.sparse.split(sp_input=sp, num_split=2, axis=0)
    tf.sparse.fill_empty_rows(sp, 0.0)
    tf.sparse.reduce_max_sparse(sp)
    types = {node.op for node in tf.get_default_graph().as_graph_def().node}
    assert {"SparseConcat", "SparseSplit", "SparseFillEmptyRows",
            "SparseReduceMaxSparse"} <= types


def test_reset_shape_to_a_fed_smaller_shape_fails_at_run_time(executor):
    new_shape = tf.placeholder(tf.int64, [2])
    reset = tf.sparse.reset_shape(_ordered(), new_shape)
    _assert_sparse(_run(reset, {new_shape: [4, 4]}), [[0, 1], [0, 3], [1, 2], [2, 0]],
                   [3, 2, 1, 4], [4, 4])
    with pytest.raises(errors.InvalidArgumentError, match="dimension sizes >= sp_input.shape"):
        _run(reset, {new_shape: [2, 4]})


# ---- serialization --------------------------------------------------------------------------

# TF 2.21's bytes for tf.serialize_sparse of _ordered(): int64 indices, float values, shape.
_SERIALIZED_ORDERED = [
    b'\x08\t\x12\x08\x12\x02\x08\x04\x12\x02\x08\x02"@' + np.array(
        [[0, 1], [0, 3], [1, 2], [2, 0]], "<i8").tobytes(),
    b'\x08\x01\x12\x04\x12\x02\x08\x04"\x10' + np.array([3, 2, 1, 4], "<f4").tobytes(),
    b'\x08\t\x12\x04\x12\x02\x08\x02"\x10' + np.array([3, 4], "<i8").tobytes()]


def test_serialize_sparse_writes_tf_bytes(executor):
    serialized, strings = _run([
        tf.serialize_sparse(_ordered()),
        tf.serialize_sparse(tf.SparseTensor([[0, 1], [1, 0]], [b"a", b"bc"], [2, 2]))])
    assert list(serialized) == _SERIALIZED_ORDERED
    assert strings[1] == b'\x08\x07\x12\x04\x12\x02\x08\x02"\x05\x01\x02abc'


def test_serialize_many_and_deserialize_round_trip(executor):
    many = tf.serialize_many_sparse(_ordered())
    assert many.shape.as_list() == [None, 3]
    first = tf.serialize_sparse(tf.SparseTensor([[0, 1]], [1.0], [2, 3]))
    second = tf.serialize_sparse(tf.SparseTensor([[2, 0], [0, 4]], [2.0, 5.0], [3, 5]))
    stacked = tf.deserialize_many_sparse(tf.stack([first, second]), tf.float32, rank=3)
    assert stacked.indices.shape.as_list() == [None, 3]
    many_v, back, stacked_v = _run([many, tf.deserialize_many_sparse(many, tf.float32),
                                    stacked])
    assert many_v.shape == (3, 3)
    _assert_sparse(back, [[0, 1], [0, 3], [1, 2], [2, 0]], [3, 2, 1, 4], [3, 4])
    _assert_sparse(stacked_v, [[0, 0, 1], [1, 2, 0], [1, 0, 4]], [1, 2, 5], [2, 3, 5])


def test_deserialize_errors():
    first = tf.serialize_sparse(tf.SparseTensor([[0, 1]], [1.0], [2, 3]))
    vector = tf.serialize_sparse(tf.SparseTensor([[2]], [2.0], [3]))
    with pytest.raises(errors.InvalidArgumentError, match="Inconsistent shape across"):
        _run(tf.deserialize_many_sparse(tf.stack([first, vector]), tf.float32))
    with pytest.raises(errors.InvalidArgumentError, match="Requested SparseTensor of type"):
        _run(tf.deserialize_many_sparse(tf.stack([first, first]), tf.float64))
    with pytest.raises(errors.InvalidArgumentError, match="Could not parse"):
        _run(tf.deserialize_many_sparse([[b"\xff\xff", b"", b""]], tf.float32))
    with pytest.raises(TypeError, match="out_type string only"):
        tf.serialize_sparse(_ordered(), out_type=tf.int32)


def test_dense_sparse_matmul_is_a_hinted_float32_matmul(executor):
    a = tf.constant([[1.0, 0, 2], [0, 3, 0]])
    b = tf.constant([[1.0, 2], [3, 4], [5, 6]])
    product = tf.sparse_matmul(a, b, a_is_sparse=True)
    assert product.op.type == "SparseMatMul"
    assert product.op.get_attr("a_is_sparse") is True
    assert product.shape.as_list() == [2, 2]
    plain, transposed = _run([product, tf.sparse_matmul(b, a, transpose_a=True,
                                                        transpose_b=True)])
    np.testing.assert_array_equal(plain, [[11, 14], [9, 12]])
    np.testing.assert_array_equal(transposed, [[11, 9], [14, 12]])
    with pytest.raises(TypeError, match="not in list of allowed values: float32"):
        tf.sparse_matmul(tf.constant([[1.0]], tf.float64), tf.constant([[1.0]], tf.float64))


def test_convert_to_tensor_or_sparse_tensor():
    sparse = tf.convert_to_tensor_or_sparse_tensor(tf.SparseTensorValue([[0]], [1.0], [2]))
    assert isinstance(sparse, tf.SparseTensor)
    assert tf.convert_to_tensor_or_sparse_tensor(sparse, dtype=tf.float32) is sparse
    dense = tf.convert_to_tensor_or_sparse_tensor([1, 2], dtype=tf.int64)
    assert isinstance(dense, tf.Tensor) and dense.dtype is tf.int64
    with pytest.raises(ValueError, match="Sparse dtype mismatch"):
        tf.convert_to_tensor_or_sparse_tensor(sparse, dtype=tf.int32)


def test_sparse_times_and_over_dense(executor):
    row = tf.constant([1.0, 2.0, 3.0, 4.0])
    scaled = _ordered() * row
    assert scaled.values.op.type == "SparseDenseCwiseMul"
    assert scaled.shape.as_list() == [3, 4]
    by_row, doubled, divided, int_divided = _run([
        scaled, _ordered() * 2.0, _ordered() / tf.constant([[1.0], [2.0], [4.0]]),
        tf.SparseTensor([[0]], [3], [2]) / 2])
    _assert_sparse(by_row, [[0, 1], [0, 3], [1, 2], [2, 0]], [6, 8, 3, 4], [3, 4])
    _assert_sparse(doubled, [[0, 1], [0, 3], [1, 2], [2, 0]], [6, 4, 2, 8], [3, 4])
    _assert_sparse(divided, [[0, 1], [0, 3], [1, 2], [2, 0]], [3, 2, 0.5, 1], [3, 4])
    assert int_divided.values.dtype == np.float64
    np.testing.assert_array_equal(int_divided.values, [1.5])
    with pytest.raises(errors.InvalidArgumentError, match="broadcasts dense to sparse only"):
        _run(_ordered() * tf.ones([2, 3, 4]))
    with pytest.raises(TypeError):
        _ordered() + tf.constant(1.0)


def test_cross_sparse_then_dense_last_fastest(executor):
    words = tf.SparseTensor([[0, 0], [1, 0], [1, 1]], [b"a", b"b", b"c"], [2, 2])
    more = tf.SparseTensor([[0, 0], [1, 0]], [b"d", b"e"], [2, 1])
    dense = tf.constant([[b"f", b"g"], [b"h", b"i"]])
    crossed = tf.sparse.cross([words, more, dense])
    assert crossed.indices.op.type == "SparseCrossV2"
    crossed_v, dense_first, ints = _run([
        crossed, tf.sparse.cross([dense, words]),
        tf.sparse.cross([words, tf.constant([[1], [2]])], separator="#")])
    _assert_sparse(crossed_v, [[0, 0], [0, 1], [1, 0], [1, 1], [1, 2], [1, 3]],
                   [b"a_X_d_X_f", b"a_X_d_X_g", b"b_X_e_X_h", b"b_X_e_X_i", b"c_X_e_X_h",
                    b"c_X_e_X_i"], [2, 4])
    np.testing.assert_array_equal(dense_first.values, [b"a_X_f", b"a_X_g", b"b_X_h",
                                                       b"b_X_i", b"c_X_h", b"c_X_i"])
    _assert_sparse(ints, [[0, 0], [1, 0], [1, 1]], [b"a#1", b"b#2", b"c#2"], [2, 2])
    with pytest.raises(errors.InvalidArgumentError, match="Expected batch size 2 got 3"):
        _run(tf.sparse.cross([words, tf.constant([[1], [2], [3]])]))
    with pytest.raises(TypeError):
        tf.sparse.cross([words, tf.constant([[1.0], [2.0]])])


def test_ops_on_a_sparse_placeholder_of_unknown_rank(executor):
    sp = tf.sparse_placeholder(tf.float32)
    fetches = [tf.sparse.reorder(sp), tf.sparse.reshape(sp, [-1]),
               tf.sparse.concat(1, [sp, sp], expand_nonconcat_dim=True),
               tf.sparse.slice(sp, [0, 0], [2, 2]),
               tf.sparse.split(sp_input=sp, num_split=2, axis=1)[1],
               tf.sparse.fill_empty_rows(sp, 1.0)[0], tf.sparse.transpose(sp),
               tf.sparse.expand_dims(sp, 0), tf.sparse.reset_shape(sp, [5, 5]),
               tf.sparse.reduce_max_sparse(sp, 0), tf.sparse.softmax(sp),
               tf.sparse.maximum(sp, sp), sp * 2.0]
    dense = [tf.sparse.matmul(sp, tf.ones([4, 2])), tf.sparse.reduce_max(sp, 1)]
    feed = {sp: tf.SparseTensorValue(np.array([[1, 2]], np.int64), np.array([5.0], np.float32),
                                     np.array([3, 4], np.int64))}
    with tf.Session() as sess:
        values = sess.run(fetches + dense, feed)
    indices = [value.indices.tolist() for value in values[:len(fetches)]]
    assert indices == [[[1, 2]], [[6]], [[1, 2], [1, 6]], [], [[1, 0]], [[0, 0], [1, 2], [2, 0]],
                       [[2, 1]], [[0, 1, 2]], [[1, 2]], [[2]], [[1, 2]], [[1, 2]], [[1, 2]]]
    np.testing.assert_array_equal(values[-2], [[0, 0], [5, 5], [0, 0]])
    np.testing.assert_array_equal(values[-1], [0, 5, 0])
