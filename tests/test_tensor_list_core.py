"""The Cython TensorList kernels (``_core/tensor_list.pyx``) against the reference kernels of
``runtime/kernels/list_kernels.py``, called directly on read-only inputs: the same lists (items,
length, element shape, limit), the same items, read-only items, no input written, and the
reference's errors for what the fast path does not take."""

import numpy as np
import pytest

from sessionlib import dtypes, errors
from sessionlib.runtime import kernel_table
from sessionlib.runtime.kernels import list_kernels
from sessionlib.runtime.kernels.list_kernels import TensorList, variant_value

F32 = {"element_dtype": dtypes.float32}


def _kernels(name):
    kernel_def = kernel_table.lookup(name)
    assert kernel_def.fast is not kernel_def.reference
    return kernel_def.fast, kernel_def.reference


def _read_only(array):
    array = np.array(array)
    array.flags.writeable = False
    return array


def _list(count=3, shape=(2,), limit=-1, dtype=dtypes.float32):
    items = [_read_only(np.full(shape, i, dtype.as_numpy_dtype)) for i in range(count)]
    return _read_only(variant_value(TensorList(dtype, shape, items, max_num_elements=limit)))


def _same_list(fast, reference):
    assert fast.shape == () and fast.dtype == object
    fast, reference = fast[()], reference[()]
    assert type(fast) is TensorList
    assert (fast.element_dtype, fast.element_shape, fast.max_num_elements, len(fast)) == (
        reference.element_dtype, reference.element_shape, reference.max_num_elements,
        len(reference))
    for got, want in zip(fast.items(), reference.items()):
        assert (got is None) == (want is None)
        if got is not None:
            assert not got.flags.writeable
            np.testing.assert_array_equal(got, want)
            assert got.dtype == want.dtype


def _both(name, inputs, attrs=F32):
    fast, reference = _kernels(name)
    return fast(None, inputs, attrs), reference(None, inputs, attrs)


@pytest.mark.parametrize("writable_item", [False, True])
def test_push_back_matches_the_reference_and_freezes_the_item(writable_item):
    handle = _list()
    item = np.array([7, 8], np.float32) if writable_item else _read_only([7.0, 8.0])
    fast, reference = _both("TensorListPushBack", (handle, item))
    _same_list(fast[0], reference[0])
    assert len(handle[()]) == 3                           # the input list is unchanged
    assert item.flags.writeable == writable_item          # and so is the item
    # A push onto the shorter (original) list must not see the first push's item.
    again, _ = _both("TensorListPushBack", (handle, _read_only([9.0, 9.0])))
    np.testing.assert_array_equal(again[0][()].item(3), [9, 9])
    np.testing.assert_array_equal(fast[0][()].item(3), [7, 8])


def test_pop_back_get_item_and_set_item_match_the_reference():
    handle = _list(4)
    shape = _read_only(np.array([2], np.int32))
    fast, reference = _both("TensorListPopBack", (handle, shape))
    _same_list(fast[0], reference[0])
    np.testing.assert_array_equal(fast[1], reference[1])
    for index in (0, 3):
        fast, reference = _both("TensorListGetItem",
                                (handle, _read_only(np.int32(index)), shape))
        assert fast[0] is handle[()].item(index)
        np.testing.assert_array_equal(fast[0], reference[0])
    fast, reference = _both("TensorListSetItem",
                            (handle, _read_only(np.int32(1)), np.array([5, 6], np.float32)))
    _same_list(fast[0], reference[0])
    np.testing.assert_array_equal(handle[()].item(1), [1, 1])   # the input list is unchanged


def test_cases_off_the_fast_path_give_the_reference_results_and_errors():
    reserved = _read_only(variant_value(TensorList(dtypes.float32, (2,), [None] * 2)))
    unknown = _read_only(np.int32(-1))
    # An unset element reads as zeros (the reference's answer).
    fast, reference = _both("TensorListGetItem", (reserved, _read_only(np.int32(1)), unknown))
    np.testing.assert_array_equal(fast[0], reference[0])
    # A limited list, a partial element shape: the reference kernels decide.
    fast, reference = _both("TensorListPushBack", (_list(limit=5), _read_only([1.0, 2.0])))
    _same_list(fast[0], reference[0])
    partial = _read_only(variant_value(TensorList(dtypes.float32, (-1,), [])))
    fast, reference = _both("TensorListPushBack", (partial, _read_only([1.0, 2.0, 3.0])))
    _same_list(fast[0], reference[0])
    bad_cases = [
        ("TensorListPushBack", (_list(), _read_only([1.0, 2.0, 3.0])), F32),       # shape
        ("TensorListPushBack", (_list(), _read_only([1.0, 2.0])),
         {"element_dtype": dtypes.int32}),                                           # dtype
        ("TensorListPopBack", (_list(0), unknown), F32),                             # empty
        ("TensorListPopBack", (_list(), _read_only(np.array([-3], np.int32))), F32),
        ("TensorListGetItem", (_list(), _read_only(np.int32(3)), unknown), F32),     # range
        ("TensorListSetItem", (_list(), _read_only(np.int32(-1)), _read_only([1.0, 2.0])), F32),
        ("TensorListGetItem", (_read_only(np.float32(1)), _read_only(np.int32(0)), unknown),
         F32),                                                                       # no list
    ]
    for name, inputs, attrs in bad_cases:
        fast, reference = _kernels(name)
        with pytest.raises(errors.InvalidArgumentError) as want:
            reference(None, inputs, attrs)
        with pytest.raises(errors.InvalidArgumentError) as got:
            fast(None, inputs, attrs)
        assert str(got.value) == str(want.value)


def test_reserve_builds_the_reference_list():
    inputs = (_read_only(np.array([2, 3], np.int32)), _read_only(np.int32(4)))
    fast, reference = _both("TensorListReserve", inputs)
    _same_list(fast[0], reference[0])
    assert fast[0][()].items() == [None] * 4


def test_the_fast_kernels_are_the_compiled_ones():
    from sessionlib._core import tensor_list

    assert kernel_table.lookup("TensorListPushBack").fast is tensor_list.push_back
    assert list_kernels.TensorList is TensorList
