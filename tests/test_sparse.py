"""SparseTensor, SparseTensorValue, sparse_placeholder and the sparse ops, on both executors."""

import numpy as np
import pytest

import sessionlib as tf
from sessionlib import errors


def _sparse_2x3():
    return tf.SparseTensor(indices=[[0, 1], [1, 2]], values=[1.0, 2.0], dense_shape=[2, 3])


# ---- SparseTensor and SparseTensorValue ---------------------------------------------------

def test_sparse_tensor_attributes():
    sp = _sparse_2x3()
    assert sp.indices.dtype is tf.int64
    assert sp.dense_shape.dtype is tf.int64
    assert sp.values.dtype is tf.float32
    assert sp.dtype is tf.float32
    assert sp.shape.as_list() == [2, 3]
    assert sp.get_shape().as_list() == [2, 3]
    assert sp.op is sp.values.op
    assert sp.graph is tf.get_default_graph()


def test_sparse_tensor_shape_from_non_constant_dense_shape():
    shape = tf.placeholder(tf.int64, shape=[3])
    sp = tf.SparseTensor(tf.placeholder(tf.int64, [None, 3]), tf.placeholder(tf.int32, [None]),
                         shape)
    assert sp.shape.as_list() == [None, None, None]
    unknown = tf.SparseTensor(tf.placeholder(tf.int64), tf.placeholder(tf.int32),
                              tf.placeholder(tf.int64))
    assert unknown.shape.rank is None


def test_sparse_tensor_value_is_a_namedtuple():
    value = tf.SparseTensorValue([[0]], [1.0], [3])
    assert value.indices == [[0]]
    assert value.values == [1.0]
    assert value.dense_shape == [3]
    assert tuple(value) == ([[0]], [1.0], [3])


def test_fetch_sparse_tensor_gives_sparse_tensor_value(executor):
    sp = _sparse_2x3()
    with tf.Session() as sess:
        value = sess.run(sp)
        nested = sess.run({"sp": sp, "list": [sp.values]})
    assert isinstance(value, tf.SparseTensorValue)
    np.testing.assert_array_equal(value.indices, [[0, 1], [1, 2]])
    assert value.indices.dtype == np.int64
    np.testing.assert_array_equal(value.values, np.array([1.0, 2.0], np.float32))
    np.testing.assert_array_equal(value.dense_shape, [2, 3])
    assert isinstance(nested["sp"], tf.SparseTensorValue)
    np.testing.assert_array_equal(nested["list"][0], [1.0, 2.0])


def test_sparse_tensor_eval_uses_default_session(executor):
    sp = _sparse_2x3()
    with tf.Session():
        value = sp.eval()
    np.testing.assert_array_equal(value.values, [1.0, 2.0])


def test_sparse_namespace():
    assert tf.sparse.to_dense is tf.sparse_tensor_to_dense
    assert tf.sparse.add is tf.sparse_add
    assert tf.sparse.reduce_sum is tf.sparse_reduce_sum
    assert tf.sparse.SparseTensor is tf.SparseTensor


# ---- sparse_placeholder -------------------------------------------------------------------

def test_sparse_placeholder_static_shapes():
    unknown = tf.sparse_placeholder(tf.float32)
    assert unknown.shape.rank is None
    assert unknown.indices.shape.as_list() == [None, None]
    assert unknown.values.shape.as_list() == [None]
    known = tf.sparse_placeholder(tf.float32, shape=[3, 4])
    assert known.shape.as_list() == [3, 4]
    assert known.indices.shape.as_list() == [None, 2]
    partial = tf.sparse_placeholder(tf.int32, shape=[None, 4], name="sp")
    assert partial.shape.as_list() == [None, 4]
    assert partial.values.name == "sp/values:0"
    assert partial.indices.name == "sp/indices:0"


@pytest.mark.parametrize("as_value", [True, False])
def test_feed_sparse_placeholder(executor, as_value):
    sp = tf.sparse_placeholder(tf.float32)
    dense = tf.sparse_tensor_to_dense(sp)
    fed = ([[0, 0], [1, 1]], [1.0, 2.0], [2, 3])
    if as_value:
        fed = tf.SparseTensorValue(*fed)
    with tf.Session() as sess:
        out_dense, out_sparse = sess.run([dense, sp], feed_dict={sp: fed})
    np.testing.assert_array_equal(out_dense, [[1, 0, 0], [0, 2, 0]])
    assert isinstance(out_sparse, tf.SparseTensorValue)
    np.testing.assert_array_equal(out_sparse.dense_shape, [2, 3])


def test_sparse_placeholder_with_shape_needs_no_dense_shape_feed(executor):
    sp = tf.sparse_placeholder(tf.float32, shape=[2, 2])
    dense = tf.sparse.to_dense(sp)
    with tf.Session() as sess:
        out = sess.run(dense, feed_dict={sp.indices: [[1, 0]], sp.values: [5.0]})
    np.testing.assert_array_equal(out, [[0, 0], [5, 0]])


def test_feed_mixed_tuple_key(executor):
    scale = tf.placeholder(tf.float32, shape=[])
    sp = tf.sparse_placeholder(tf.float32)
    dense = tf.sparse.to_dense(sp) * scale
    with tf.Session() as sess:
        out = sess.run(dense, feed_dict={(scale, sp): (3.0, ([[0], [2]], [1.0, 2.0], [3]))})
    np.testing.assert_array_equal(out, [3.0, 0.0, 6.0])


def test_feed_sparse_tensor_of_wrong_arity_is_an_error():
    sp = tf.sparse_placeholder(tf.float32)
    with tf.Session() as sess:
        with pytest.raises(ValueError):
            sess.run(sp.values, feed_dict={sp: ([[0]], [1.0])})


# ---- to_dense ------------------------------------------------------------------------------

def test_to_dense_with_default_value(executor):
    sp = _sparse_2x3()
    dense = tf.sparse_tensor_to_dense(sp, default_value=-1.0)
    assert dense.shape.as_list() == [2, 3]
    assert dense.dtype is tf.float32
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(dense), [[-1, 1, -1], [-1, -1, 2]])


def test_to_dense_strings(executor):
    sp = tf.SparseTensor([[1]], np.array([b"x"], dtype=object), [3])
    assert sp.dtype is tf.string
    with tf.Session() as sess:
        out = sess.run(tf.sparse.to_dense(sp))
    assert out.tolist() == [b"", b"x", b""]


@pytest.mark.parametrize("indices, message", [
    ([[1, 1], [0, 0]], "is out of order"),
    ([[0, 0], [0, 0]], "is repeated"),
])
def test_to_dense_validates_indices(executor, indices, message):
    sp = tf.sparse_placeholder(tf.float32)
    dense = tf.sparse.to_dense(sp)
    lenient = tf.sparse.to_dense(sp, validate_indices=False)
    fed = (indices, [1.0, 2.0], [2, 2])
    with tf.Session() as sess:
        with pytest.raises(errors.InvalidArgumentError, match=message) as info:
            sess.run(dense, feed_dict={sp: fed})
        assert info.value.op is dense.op
        out = sess.run(lenient, feed_dict={sp: fed})
    assert out[1, 1] == 1.0 or out[0, 0] == 2.0


def test_to_dense_out_of_bounds(executor):
    sp = tf.sparse_placeholder(tf.float32)
    with tf.Session() as sess:
        for validate in (True, False):
            dense = tf.sparse.to_dense(sp, validate_indices=validate)
            with pytest.raises(errors.InvalidArgumentError, match="out of bounds"):
                sess.run(dense, feed_dict={sp: ([[5, 0]], [1.0], [2, 2])})


# ---- add -----------------------------------------------------------------------------------

def test_sparse_plus_sparse_sums_duplicates(executor):
    a = tf.SparseTensor([[0, 1], [1, 0]], [1.0, 2.0], [2, 2])
    b = tf.SparseTensor([[0, 1], [1, 1]], [10.0, 20.0], [2, 2])
    total = tf.sparse.add(a, b)
    assert isinstance(total, tf.SparseTensor)
    assert total.shape.as_list() == [2, 2]
    with tf.Session() as sess:
        value, dense = sess.run([total, tf.sparse.to_dense(total)])
    np.testing.assert_array_equal(value.indices, [[0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(value.values, [11.0, 2.0, 20.0])
    np.testing.assert_array_equal(value.dense_shape, [2, 2])
    np.testing.assert_array_equal(dense, [[0, 11], [2, 20]])


def test_sparse_add_unsorted_inputs_give_sorted_output(executor):
    a = tf.SparseTensor([[2], [0]], [1, 2], [3])
    b = tf.SparseTensor([[1], [2]], [10, 20], [3])
    with tf.Session() as sess:
        value = sess.run(tf.sparse.add(a, b))
    np.testing.assert_array_equal(value.indices, [[0], [1], [2]])
    np.testing.assert_array_equal(value.values, [2, 10, 21])


def test_sparse_add_threshold_drops_small_sums(executor):
    a = tf.SparseTensor([[0, 1], [1, 0]], [1.0, 2.0], [2, 2])
    b = tf.SparseTensor([[0, 1], [1, 1]], [-1.0, 20.0], [2, 2])
    with tf.Session() as sess:
        kept = sess.run(tf.sparse.add(a, b))
        dropped = sess.run(tf.sparse.add(a, b, threshold=1e-6))
        old_spelling = sess.run(tf.sparse_add(a, b, thresh=1e-6))
    np.testing.assert_array_equal(kept.values, [0.0, 2.0, 20.0])
    np.testing.assert_array_equal(dropped.indices, [[1, 0], [1, 1]])
    np.testing.assert_array_equal(old_spelling.values, dropped.values)


def test_sparse_add_shape_mismatch(executor):
    a = tf.sparse_placeholder(tf.float32)
    b = tf.SparseTensor([[0]], [1.0], [3])
    total = tf.sparse.add(a, b)
    with tf.Session() as sess:
        with pytest.raises(errors.InvalidArgumentError, match="do not match"):
            sess.run(total.values, feed_dict={a: ([[0]], [1.0], [2])})
    with pytest.raises(ValueError):  # statically known shapes fail while building
        tf.sparse.add(tf.SparseTensor([[0]], [1.0], [2]), b)


def test_sparse_plus_dense_is_dense(executor):
    sp = tf.SparseTensor([[0, 0], [1, 1]], [1.0, 2.0], [2, 2])
    dense = tf.constant([[10.0, 20.0], [30.0, 40.0]])
    left = tf.sparse.add(sp, dense)
    right = tf.sparse.add(dense, sp)
    assert isinstance(left, tf.Tensor) and isinstance(right, tf.Tensor)
    assert left.shape.as_list() == [2, 2]
    with tf.Session() as sess:
        out_left, out_right = sess.run([left, right])
    np.testing.assert_array_equal(out_left, [[11, 20], [30, 42]])
    np.testing.assert_array_equal(out_right, out_left)


def test_sparse_plus_dense_accumulates_duplicates_and_keeps_constants(executor):
    sp = tf.SparseTensor([[0], [0]], [1, 2], [2])
    dense = tf.constant([5, 5])
    total = tf.sparse.add(sp, dense)
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(total), [8, 5])
        np.testing.assert_array_equal(sess.run(dense), [5, 5])


def test_sparse_add_needs_a_sparse_operand():
    with pytest.raises(TypeError):
        tf.sparse.add(tf.constant(1.0), tf.constant(2.0))


# ---- reduce_sum ----------------------------------------------------------------------------

def test_reduce_sum(executor):
    sp = tf.SparseTensor([[0, 1], [1, 0], [1, 2]], [1.0, 2.0, 3.0], [2, 3])
    total = tf.sparse.reduce_sum(sp)
    rows = tf.sparse.reduce_sum(sp, axis=1)
    columns_kept = tf.sparse.reduce_sum(sp, axis=-2, keepdims=True)
    both = tf.sparse.reduce_sum(sp, axis=[0, 1])
    old_spelling = tf.sparse_reduce_sum(sp, reduction_axes=0, keep_dims=True)
    assert total.shape.as_list() == []
    assert rows.shape.as_list() == [2]
    assert columns_kept.shape.as_list() == [1, 3]
    with tf.Session() as sess:
        values = sess.run([total, rows, columns_kept, both, old_spelling])
    assert values[0] == np.float32(6.0)
    np.testing.assert_array_equal(values[1], [1.0, 5.0])
    np.testing.assert_array_equal(values[2], [[2.0, 1.0, 3.0]])
    assert values[3] == np.float32(6.0)
    np.testing.assert_array_equal(values[4], [[2.0, 1.0, 3.0]])


def test_reduce_sum_of_fed_sparse_tensor_of_unknown_rank(executor):
    sp = tf.sparse_placeholder(tf.int32)
    total = tf.sparse.reduce_sum(sp)
    by_row = tf.sparse.reduce_sum(sp, axis=0)
    assert by_row.shape.rank is None
    with tf.Session() as sess:
        fed = {sp: ([[0, 0, 1], [0, 0, 1], [1, 0, 0]], [1, 2, 4], [2, 1, 2])}
        out_total, out_rows = sess.run([total, by_row], feed_dict=fed)
    assert out_total == 7
    np.testing.assert_array_equal(out_rows, [[4, 3]])


def test_reduce_sum_bad_axis_fails_at_run_time(executor):
    sp = _sparse_2x3()
    reduced = tf.sparse.reduce_sum(sp, axis=2)
    with tf.Session() as sess:
        with pytest.raises(errors.InvalidArgumentError, match="Invalid reduction dimension"):
            sess.run(reduced)


def test_reduce_sum_rejects_both_spellings():
    with pytest.raises(ValueError):
        tf.sparse.reduce_sum(_sparse_2x3(), axis=0, reduction_axes=0)
