"""Parity cases (see test_parity.py) of the TensorList ops (issue 16): every element
dtype, the elements fed as read-only arrays (which lists keep without copying). A list cannot
be fetched, so each case reads its lists back into dense tensors."""

import numpy as np

import sessionlib as tf
from sessionlib.ops import list_ops as lo

ALL = (tf.float16, tf.float32, tf.float64, tf.int8, tf.int16, tf.int32, tf.int64, tf.uint8,
       tf.bool, tf.string)


def _rows(f, d, n=3):
    return lo.tensor_list_from_tensor(f((n, 2), d), element_shape=[2])


def _stack(handle, d):
    return lo.tensor_list_stack(handle, d)


def _push_pop(f, d):
    pushed = lo.tensor_list_push_back(_rows(f, d), f((2,), d))
    shorter, last = lo.tensor_list_pop_back(pushed, d)
    return [_stack(pushed, d), _stack(shorter, d), last]


def _reserved(f, d):
    reserved = lo.tensor_list_reserve([2], 4, d)
    updated = lo.tensor_list_set_item(reserved, 2, f((2,), d))
    return [_stack(updated, d), lo.tensor_list_get_item(updated, 0, d),
            lo.tensor_list_length(reserved),
            _stack(lo.tensor_list_resize(updated, 3), d)]


def _scatter(f, d):
    new = lo.tensor_list_scatter(f((2, 2), d), [3, 1])
    into = lo.tensor_list_scatter(f((2, 2), d), [0, 4], input_handle=_rows(f, d))
    return [_stack(new, d), _stack(into, d), lo.tensor_list_gather(into, [4, 0, 4], d)]


def _concat_split(f, d):
    parts = lo.tensor_list_split(f((5, 2), d), [None, 2], np.array([2, 0, 3], np.int64))
    concat, lengths = lo.tensor_list_concat(parts, d)
    return [concat, lengths, lo.tensor_list_element_shape(parts),
            lo.tensor_list_get_item(parts, 2, d)]


def _empty(f, d):
    empty = lo.empty_tensor_list([2], d, max_num_elements=2)
    return [_stack(lo.tensor_list_push_back(empty, f((2,), d)), d), _stack(empty, d)]


def _stack_slice(handle, begin, end, strides, **masks):
    """The optimizer's StridedSlice of a TensorListStack, built directly."""
    attrs = {"element_dtype": handle.op.get_attr("element_dtype"), "num_elements": -1}
    attrs.update(masks)
    inputs = [handle, tf.constant(np.array([-1], np.int32))] + [
        tf.constant(np.array(values, np.int32)) for values in (begin, end, strides)]
    return tf.get_default_graph().create_op(lo.STACK_SLICE, inputs, attrs).outputs[0]


def _stack_slices(f, d):
    # The last element; the first with its row reversed; a slice of rows that shrinks none
    # (the stacking path); an unset element (zeros).
    rows = _rows(f, d, n=4)
    reserved = lo.tensor_list_set_item(lo.tensor_list_reserve([2], 3, d), 0, f((2,), d))
    return [_stack_slice(rows, [-1], [0], [1], shrink_axis_mask=1),
            _stack_slice(rows, [0, 0], [0, 0], [1, -1], shrink_axis_mask=1, begin_mask=2,
                         end_mask=2),
            _stack_slice(rows, [1], [3], [1]),
            _stack_slice(reserved, [2], [0], [1], shrink_axis_mask=1)]


def add_cases(case):
    """Adds this family's cases through test_parity's `case(op_type, dtypes, build)`."""
    case("TensorListFromTensor", ALL, lambda f, d: [_stack(_rows(f, d), d)])
    case("TensorListStack", ALL, lambda f, d: [_stack(_rows(f, d), d)])
    case("TensorListGetItem", ALL, lambda f, d: [lo.tensor_list_get_item(_rows(f, d), 1, d)])
    case("TensorListPushBack", ALL, _push_pop)
    case("TensorListPopBack", ALL, _push_pop)
    case("TensorListReserve", ALL, _reserved)
    case("TensorListSetItem", ALL, _reserved)
    case("TensorListLength", ALL, _reserved)
    case("TensorListResize", ALL, _reserved)
    case("TensorListScatterV2", ALL, _scatter)
    case("TensorListScatterIntoExistingList", ALL, _scatter)
    case("TensorListGather", ALL, _scatter)
    case("TensorListConcatV2", ALL, _concat_split)
    case("TensorListSplit", ALL, _concat_split)
    case("TensorListElementShape", ALL, _concat_split)
    case("EmptyTensorList", ALL, _empty)
    case(lo.STACK_SLICE, ALL, _stack_slices)
