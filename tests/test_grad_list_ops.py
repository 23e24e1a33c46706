"""Numeric gradient checks of the TensorList ops (issue 16), through chains that
start and end in dense tensors (a list is made from a tensor and read back into one), as TF's
list gradients are tested. Two reads of one list check that list gradients add (``AddN`` of
variants); a pop whose list output is unused checks ``ZerosLike`` of a variant."""

import numpy as np
import pytest

import sessionlib as tf
from sessionlib.ops import list_ops

from _gradient_check import GradCase, case_ids, check_case

RNG = np.random.RandomState(16)


def _floats(*shape):
    return RNG.uniform(-2, 2, size=shape)


def _list(x):
    return list_ops.tensor_list_from_tensor(x, element_shape=x.shape[1:])


def _stack(handle, dtype=tf.float64):
    return list_ops.tensor_list_stack(handle, dtype)


def _pop_back(x):
    shorter, item = list_ops.tensor_list_pop_back(_list(x), tf.float64)
    return [tf.reshape(_stack(shorter), [2, 2]), item * 3.0]


def _split_items(x):
    parts = list_ops.tensor_list_split(x, [None, 2], np.array([1, 3], np.int64))
    first = list_ops.tensor_list_get_item(parts, 0, tf.float64, element_shape=[1, 2])
    second = list_ops.tensor_list_get_item(parts, 1, tf.float64, element_shape=[3, 2])
    return [first, second * second]


GRADIENT_CASES = [
    GradCase("TensorListFromTensor", lambda x: tf.reshape(_stack(_list(x)), [3, 2]) ** 2,
             [_floats(3, 2)]),
    GradCase("TensorListStack", lambda x: tf.reshape(_stack(_list(x)), [3, 2]) * 2.0,
             [_floats(3, 2)]),
    GradCase("TensorListGetItem",
             lambda x: list_ops.tensor_list_get_item(_list(x), 1, tf.float64) * 3.0,
             [_floats(3, 2)]),
    GradCase("TensorListGetItem", lambda x: [
        list_ops.tensor_list_get_item(_list(x), 0, tf.float64),
        list_ops.tensor_list_get_item(_list(x), 2, tf.float64) ** 2],
        [_floats(3, 2)], id="TensorListGetItem-two-reads-add-lists"),
    GradCase("TensorListSetItem", lambda x, y: tf.reshape(
        _stack(list_ops.tensor_list_set_item(_list(x), 1, y * y)), [3, 2]),
        [_floats(3, 2), _floats(2)]),
    GradCase("TensorListSetItem", lambda x, y: tf.reshape(_stack(list_ops.tensor_list_set_item(
        _list(x), 3, y, resize_if_index_out_of_bounds=True)), [4, 2]),
        [_floats(2, 2), _floats(2)], id="TensorListSetItem-resize"),
    GradCase("TensorListPushBack", lambda x, y: tf.reshape(
        _stack(list_ops.tensor_list_push_back(_list(x), y)), [4, 2]) ** 2,
        [_floats(3, 2), _floats(2)]),
    GradCase("TensorListPopBack", _pop_back, [_floats(3, 2)]),
    GradCase("TensorListPopBack",
             lambda x: list_ops.tensor_list_pop_back(_list(x), tf.float64)[1] * 2.0,
             [_floats(3, 2)], id="TensorListPopBack-item-only"),
    GradCase("TensorListResize", lambda x: tf.reshape(
        _stack(list_ops.tensor_list_resize(_list(x), 2)), [2, 2]), [_floats(3, 2)]),
    GradCase("TensorListResize", lambda x: tf.reshape(
        _stack(list_ops.tensor_list_resize(_list(x), 4)), [4, 2]) * 2.0, [_floats(3, 2)],
        id="TensorListResize-grow"),
    GradCase("TensorListGather", lambda x: tf.reshape(
        list_ops.tensor_list_gather(_list(x), [2, 0], tf.float64), [2, 2]) ** 2,
        [_floats(3, 2)]),
    GradCase("TensorListScatterV2", lambda x: tf.reshape(
        _stack(list_ops.tensor_list_scatter(x, [2, 0, 3])), [4, 2]) * 3.0,
        [_floats(3, 2)]),
    GradCase("TensorListScatterIntoExistingList", lambda x, y: tf.reshape(
        _stack(list_ops.tensor_list_scatter(y, [2, 0], input_handle=_list(x))), [3, 2]) ** 2,
        [_floats(3, 2), _floats(2, 2)]),
    GradCase("TensorListConcatV2", lambda x: tf.reshape(
        list_ops.tensor_list_concat(_list(x), tf.float64)[0], [6, 2]) ** 2,
        [_floats(3, 2, 2)]),
    GradCase("TensorListSplit", _split_items, [_floats(4, 2)]),
]


@pytest.mark.parametrize("case", GRADIENT_CASES, ids=case_ids(GRADIENT_CASES))
def test_gradient(case):
    check_case(case)
