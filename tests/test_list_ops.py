"""TensorList ops (``ops/list_ops.py``, ``runtime/kernels/list_kernels.py``): values against
numpy on both executors, value semantics, TF's errors (messages checked against TF 2.21's
kernels), and the variant dtype's limits (fetching, crossing devices). The gradients are
checked in ``test_grad_list_ops.py``."""

import numpy as np
import pytest

import sessionlib as tf
from sessionlib.ops import list_ops
from sessionlib.runtime.kernels import list_kernels

from _device_helpers import two_devices

X = np.arange(6, dtype=np.float32).reshape(3, 2)


def _run(fetches, feeds=None):
    with tf.Session() as sess:
        return sess.run(fetches, feeds)


# ---- values ----------------------------------------------------------------------------------

def test_variant_dtype():
    assert tf.dtypes.variant.as_datatype_enum == 21
    assert tf.as_dtype("variant") is tf.dtypes.variant is tf.as_dtype(21)
    handle = list_ops.tensor_list_from_tensor(X, element_shape=[2])
    assert handle.dtype is tf.dtypes.variant and handle.shape.as_list() == []


def test_from_tensor_get_item_stack_length(executor):
    handle = list_ops.tensor_list_from_tensor(X, element_shape=[2])
    item = list_ops.tensor_list_get_item(handle, 1, tf.float32)
    stacked = list_ops.tensor_list_stack(handle, tf.float32)
    assert item.shape.as_list() == [2] and stacked.shape.as_list() == [None, 2]
    got = _run([item, stacked, list_ops.tensor_list_length(handle),
                list_ops.tensor_list_element_shape(handle)])
    np.testing.assert_array_equal(got[0], X[1])
    np.testing.assert_array_equal(got[1], X)
    assert got[2] == 3 and got[3].tolist() == [2]


def test_push_back_and_pop_back_keep_their_inputs(executor):
    empty = list_ops.empty_tensor_list([2], tf.float32)
    one = list_ops.tensor_list_push_back(empty, [1.0, 2.0])
    two = list_ops.tensor_list_push_back(one, [3.0, 4.0])
    # A second push onto `one` must not disturb `two`, which shares its storage.
    other = list_ops.tensor_list_push_back(one, [9.0, 9.0])
    shorter, last = list_ops.tensor_list_pop_back(two, tf.float32)
    regrown = list_ops.tensor_list_push_back(shorter, [5.0, 6.0])
    got = _run([list_ops.tensor_list_stack(x, tf.float32)
                for x in (empty, one, two, other, shorter, regrown)] + [last])
    assert got[0].shape == (0, 2)
    assert got[1].tolist() == [[1, 2]]
    assert got[2].tolist() == [[1, 2], [3, 4]]
    assert got[3].tolist() == [[1, 2], [9, 9]]
    assert got[4].tolist() == [[1, 2]]
    assert got[5].tolist() == [[1, 2], [5, 6]]
    assert got[6].tolist() == [3, 4]


def test_push_back_chain_shares_storage():
    tensor_list = list_kernels.TensorList(tf.float32, (2,))
    chain = [tensor_list]
    for i in range(5):
        chain.append(chain[-1].push_back(np.full(2, i, np.float32)))
    assert all(x._items is chain[0]._items for x in chain)
    assert [len(x) for x in chain] == [0, 1, 2, 3, 4, 5]
    branch = chain[2].push_back(np.zeros(2, np.float32))
    assert branch._items is not chain[0]._items and len(chain[5]) == 5
    assert chain[5].item(2).tolist() == [2, 2]
    assert not chain[5].item(0).flags.writeable


def test_reserve_set_item_and_unset_elements_read_as_zeros(executor):
    reserved = list_ops.tensor_list_reserve([2], 3, tf.float32)
    updated = list_ops.tensor_list_set_item(reserved, 1, [1.0, 2.0])
    got = _run([list_ops.tensor_list_stack(reserved, tf.float32),
                list_ops.tensor_list_stack(updated, tf.float32),
                list_ops.tensor_list_get_item(updated, 2, tf.float32)])
    # Checked against TF 2.21: unset elements of a list with a known shape are zeros.
    assert got[0].tolist() == [[0, 0]] * 3
    assert got[1].tolist() == [[0, 0], [1, 2], [0, 0]]
    assert got[2].tolist() == [0, 0]


def test_set_item_with_resize_and_resize(executor):
    handle = list_ops.tensor_list_from_tensor(X, element_shape=[2])
    grown = list_ops.tensor_list_set_item(handle, 4, [7.0, 7.0],
                                          resize_if_index_out_of_bounds=True)
    shrunk = list_ops.tensor_list_resize(handle, 2)
    got = _run([list_ops.tensor_list_stack(grown, tf.float32),
                list_ops.tensor_list_stack(shrunk, tf.float32)])
    assert got[0].tolist() == X.tolist() + [[0, 0], [7, 7]]
    assert got[1].tolist() == X[:2].tolist()


def test_gather_and_scatter(executor):
    handle = list_ops.tensor_list_from_tensor(X, element_shape=[2])
    gathered = list_ops.tensor_list_gather(handle, [2, 0, 2], tf.float32)
    scattered = list_ops.tensor_list_scatter([[1.0, 1.0], [2.0, 2.0]], [3, 0])
    into = list_ops.tensor_list_scatter([[5.0, 5.0]], [1], input_handle=handle)
    beyond = list_ops.tensor_list_scatter([[5.0, 5.0]], [4], input_handle=handle)
    assert gathered.shape.as_list() == [3, 2]
    got = _run([gathered] + [list_ops.tensor_list_stack(x, tf.float32)
                             for x in (scattered, into, beyond)])
    np.testing.assert_array_equal(got[0], X[[2, 0, 2]])
    assert got[1].tolist() == [[2, 2], [0, 0], [0, 0], [1, 1]]
    assert got[2].tolist() == [[0, 1], [5, 5], [4, 5]]
    assert got[3].tolist() == X.tolist() + [[0, 0], [5, 5]]


def test_concat_and_split(executor):
    parts = list_ops.tensor_list_split(np.arange(5, dtype=np.float32), [None],
                                       np.array([2, 0, 3], np.int64))
    concat, lengths = list_ops.tensor_list_concat(parts, tf.float32)
    got = _run([list_ops.tensor_list_get_item(parts, i, tf.float32) for i in range(3)]
               + [concat, lengths, list_ops.tensor_list_element_shape(parts)])
    assert [g.tolist() for g in got[:3]] == [[0, 1], [], [2, 3, 4]]
    assert got[3].tolist() == [0, 1, 2, 3, 4] and got[4].tolist() == [2, 0, 3]
    assert got[4].dtype == np.int64 and got[5].tolist() == [-1]


def test_concat_sizes_unset_elements_by_leading_dims(executor):
    reserved = list_ops.tensor_list_reserve([None, 2], 2, tf.float32)
    updated = list_ops.tensor_list_set_item(reserved, 0, np.ones((1, 2), np.float32))
    concat, lengths = list_ops.tensor_list_concat(updated, tf.float32,
                                                  leading_dims=np.array([1, 2], np.int64))
    got = _run([concat, lengths])
    assert got[0].tolist() == [[1, 1], [0, 0], [0, 0]] and got[1].tolist() == [1, 2]


def test_element_shape_unknown_rank_and_elements_of_varying_shape(executor):
    handle = list_ops.empty_tensor_list(None, tf.int32)
    handle = list_ops.tensor_list_push_back(handle, tf.constant([1, 2, 3]))
    handle = list_ops.tensor_list_push_back(handle, tf.constant([[4]]))
    got = _run([list_ops.tensor_list_element_shape(handle),
                list_ops.tensor_list_get_item(handle, 0, tf.int32),
                list_ops.tensor_list_get_item(handle, 1, tf.int32)])
    assert got[0] == -1 and got[1].tolist() == [1, 2, 3] and got[2].tolist() == [[4]]


def test_zeros_like_and_add_n_of_lists(executor):
    # What gradients do with lists: a list that got no gradient counts as ZerosLike of it,
    # and two gradients of one list add element-wise (checked against TF 2.21).
    handle = list_ops.tensor_list_from_tensor(X, element_shape=[2])
    zeros = tf.zeros_like(handle)
    total = tf.add_n([handle, handle])
    assert zeros.op.type == "ZerosLike" and total.op.type == "AddN"
    got = _run([list_ops.tensor_list_stack(zeros, tf.float32),
                list_ops.tensor_list_stack(total, tf.float32)])
    assert got[0].tolist() == [[0, 0]] * 3
    np.testing.assert_array_equal(got[1], 2 * X)


def test_a_list_can_be_reused_across_runs(executor):
    values = tf.placeholder(tf.float32, [None, 2])
    handle = list_ops.tensor_list_from_tensor(values, element_shape=[2])
    pushed = list_ops.tensor_list_push_back(handle, [0.5, 0.5])
    stacked = list_ops.tensor_list_stack(pushed, tf.float32)
    with tf.Session() as sess:
        for n in (1, 3):
            got = sess.run(stacked, {values: X[:n]})
            assert got.tolist() == X[:n].tolist() + [[0.5, 0.5]]


# ---- errors ------------------------------------------------------------------------------------

def _error(fetch, match, feeds=None):
    with pytest.raises(tf.errors.InvalidArgumentError, match=match):
        _run(fetch, feeds)


def test_run_time_errors_as_tf(executor):
    # Messages checked against TF 2.21.
    reserved = list_ops.tensor_list_reserve([2], 3, tf.float32)
    _error(list_ops.tensor_list_get_item(reserved, 5, tf.float32),
           "Trying to access element 5 in a list with 3 elements.")
    _error(list_ops.tensor_list_stack(reserved, tf.float32, num_elements=2),
           "Operation expected a list with 2 elements but got a list with 3 elements.")
    _error(list_ops.tensor_list_length(list_ops.tensor_list_set_item(reserved, 3, [1.0, 2.0])),
           "Trying to modify element 3 in a list with 3 elements.")
    empty = list_ops.empty_tensor_list([2], tf.float32)
    _error(list_ops.tensor_list_pop_back(empty, tf.float32)[1],
           "Trying to pop from an empty list.")
    shape = tf.placeholder(tf.int32, [None])
    _error(list_ops.tensor_list_length(list_ops.tensor_list_push_back(
        list_ops.empty_tensor_list(shape, tf.float32), [1.0, 2.0, 3.0])),
        r"Tried to append a tensor with incompatible shape to a list. Op element shape: \[3\] "
        r"list shape: \[2\]", {shape: [2]})
    bounded = list_ops.empty_tensor_list([2], tf.float32, max_num_elements=1)
    bounded = list_ops.tensor_list_push_back(bounded, [1.0, 2.0])
    _error(list_ops.tensor_list_length(list_ops.tensor_list_push_back(bounded, [1.0, 2.0])),
           "Tried to push item into a full list list size: 1 max_num_elements: 1")
    unknown = list_ops.tensor_list_reserve(None, 3, tf.float32)
    _error(list_ops.tensor_list_get_item(unknown, 1, tf.float32),
           "Trying to read an uninitialized tensor but element_shape is not fully defined: "
           "<unknown> and no list element is set.")
    _error(list_ops.tensor_list_stack(unknown, tf.float32),
           "Tried to stack list which only contains uninitialized tensors and has a "
           "non-fully-defined element_shape: <unknown>")
    _error(list_ops.tensor_list_stack(list_ops.empty_tensor_list(None, tf.float32),
                                      tf.float32),
           "Tried to stack elements of an empty list with non-fully-defined element_shape")
    count = tf.placeholder(tf.int32, [])
    _error(list_ops.tensor_list_length(list_ops.tensor_list_reserve([2], count, tf.float32)),
           "The num_elements to reserve must be a non negative number, but got -1",
           {count: -1})


def test_graph_time_errors():
    handle = list_ops.tensor_list_from_tensor(X, element_shape=[2])
    with pytest.raises(ValueError, match="element dtype int32 but got list with element "
                                         "dtype float32"):
        list_ops.tensor_list_get_item(handle, 0, tf.int32)
    with pytest.raises(ValueError, match="incompatible shape"):
        list_ops.tensor_list_push_back(handle, tf.constant([1.0, 2.0, 3.0]))
    with pytest.raises(TypeError, match="DataType float32"):
        list_ops.tensor_list_length(tf.constant(1.0))
    with pytest.raises(ValueError, match="rank 0"):
        list_ops.tensor_list_from_tensor(tf.constant(1.0), element_shape=[])


def test_fetching_a_variant_is_an_error_as_in_tf():
    handle = list_ops.tensor_list_from_tensor(X, element_shape=[2])
    with pytest.raises(tf.errors.InternalError, match="type 21 not convertible"):
        _run(handle)


def test_a_variant_never_crosses_devices():
    with tf.device("/cpu:0"):
        handle = list_ops.tensor_list_from_tensor(X, element_shape=[2])
    with tf.device("/cpu:1"):
        item = list_ops.tensor_list_get_item(handle, 0, tf.float32)
    with tf.Session(config=two_devices()) as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="cannot cross devices"):
            sess.run(item)
        with tf.device("/cpu:1"):
            same = list_ops.tensor_list_get_item(
                list_ops.tensor_list_from_tensor(X, element_shape=[2]), 2, tf.float32)
        assert sess.run(same).tolist() == X[2].tolist()


def test_string_lists_read_unset_elements_as_empty_strings(executor):
    reserved = list_ops.tensor_list_reserve([], 2, tf.string)
    updated = list_ops.tensor_list_set_item(reserved, 1, tf.constant("b"))
    assert _run(list_ops.tensor_list_stack(updated, tf.string)).tolist() == [b"", b"b"]
