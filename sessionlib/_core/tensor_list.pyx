# cython: language_level=3, boundscheck=False, wraparound=False
"""Fast kernels of the TensorList ops a loop runs every iteration: push, pop, get and set
(the spec and the `TensorList` value are ``runtime/kernels/list_kernels.py``).

Design. A while loop that writes a TensorArray, and the accumulators of its gradient, move one
item pointer per list per iteration (an LSTM training step: about 600 of these ops), so each
op's fixed cost is the point. These kernels take the common case with no Python frame: the
list's dtype is the op's, the item's shape is the list's fully known element shape, no element
limit (push), the index in range and the element set (get, pop). They build exactly what the
reference kernels build (a 0-d object array holding a new `TensorList` over the same shared
item storage, items stored read-only: a writable item is kept as a read-only view), and hand
anything else to the reference kernel, which raises TF's errors.

Never: import the runtime. The `TensorList` class and the reference kernels are handed in
(`set_list_class`) by ``runtime/kernels/list_kernels.py``, which defines them.
"""

cimport numpy as cnp
from cpython.list cimport PyList_GET_SIZE
from cpython.ref cimport Py_INCREF, Py_XDECREF, PyObject

from sessionlib._core._fallbacks cimport fallback_kernel

import numpy as np

cnp.import_array()

__all__ = ["set_list_class", "new_variant", "push_back", "pop_back", "get_item", "set_item"]

cdef object _list_class = None
cdef dict _fallbacks = {}


def set_list_class(list_class, fallbacks):
    """Sets the `TensorList` class and the reference kernels the fast ones fall back to.

    Args:
      list_class: the runtime's `TensorList` (its slots ``element_dtype``, ``element_shape``,
        ``max_num_elements``, ``_items``, ``_length``).
      fallbacks: a dict from kernel name (``'TensorListPushBack'``, ...) to the reference
        kernel, in the generic calling convention ``(ctx, inputs, attrs)``.
    """
    global _list_class
    _list_class = list_class
    _fallbacks.update(fallbacks)


cdef object _fallback(str name, ctx, tuple inputs, dict attrs):
    return fallback_kernel(_fallbacks, "tensor_list", "sessionlib.runtime.kernels.list_kernels",
                           name)(ctx, inputs, attrs)


cdef inline object _held(object value):
    """The TensorList a variant input holds, or None (the reference kernel then raises)."""
    cdef object held
    if (type(value) is not np.ndarray or cnp.PyArray_NDIM(<cnp.ndarray>value) != 0
            or cnp.PyArray_TYPE(<cnp.ndarray>value) != cnp.NPY_OBJECT):
        return None
    held = <object>(<PyObject**>cnp.PyArray_DATA(<cnp.ndarray>value))[0]
    if type(held) is not _list_class:
        return None
    return held


cdef inline object _variant(object tensor_list):
    """A 0-d object array holding `tensor_list` (a variant tensor)."""
    cdef cnp.ndarray value = cnp.PyArray_EMPTY(0, NULL, cnp.NPY_OBJECT, 0)
    cdef PyObject** slot = <PyObject**>cnp.PyArray_DATA(value)
    Py_INCREF(tensor_list)
    Py_XDECREF(slot[0])      # the None numpy filled it with
    slot[0] = <PyObject*>tensor_list
    return value


cdef inline object _new_list(object element_dtype, object element_shape, list items,
                             Py_ssize_t length, object max_num_elements):
    made = _list_class.__new__(_list_class)
    made.element_dtype = element_dtype
    made.element_shape = element_shape
    made.max_num_elements = max_num_elements
    made._items = items
    made._length = length
    return made


def new_variant(element_dtype, element_shape, list items, Py_ssize_t length,
                max_num_elements):
    """A variant tensor holding a new `TensorList` over `items` (its first `length`), built
    without `TensorList.__init__`'s defaults (the other fast kernels' constructor)."""
    return _variant(_new_list(element_dtype, element_shape, items, length, max_num_elements))


cdef inline object _frozen(cnp.ndarray item):
    """`item`, or a read-only view of it when it is writable (lists never hand out writable
    items, and never write their inputs)."""
    cdef cnp.ndarray view
    if not cnp.PyArray_ISWRITEABLE(item):
        return item
    view = item.view()
    cnp.PyArray_CLEARFLAGS(view, cnp.NPY_ARRAY_WRITEABLE)
    return view


cdef inline bint _shape_is(object element_shape, cnp.ndarray item):
    """Whether `element_shape` (None or a tuple of ints) is exactly `item`'s shape."""
    cdef Py_ssize_t axis, ndim = cnp.PyArray_NDIM(item)
    if type(element_shape) is not tuple or len(<tuple>element_shape) != ndim:
        return False
    for axis in range(ndim):
        if (<tuple>element_shape)[axis] != cnp.PyArray_DIM(item, axis):
            return False
    return True


cdef bint _valid_shape_input(cnp.ndarray value) except -1:
    """Whether an ``element_shape`` input is one the reference kernels accept: -1, or a vector
    of dimensions >= -1 (they parse it, and so reject a bad one, even where it is not used)."""
    cdef Py_ssize_t i, size
    if cnp.PyArray_NDIM(value) == 0:
        return bool(value == -1)
    if cnp.PyArray_NDIM(value) != 1:
        return False
    size = cnp.PyArray_DIM(value, 0)
    if size == 0:
        return True
    if cnp.PyArray_TYPE(value) == cnp.NPY_INT32 and cnp.PyArray_IS_C_CONTIGUOUS(value):
        for i in range(size):
            if (<const int*>cnp.PyArray_DATA(value))[i] < -1:
                return False
        return True
    return min(value.tolist()) >= -1


cdef inline bint _is_index(object index):
    return type(index) is np.ndarray and cnp.PyArray_NDIM(<cnp.ndarray>index) == 0


def push_back(ctx, tuple inputs, dict attrs):
    """``TensorListPushBack``: the list one longer; shares its item storage while it can."""
    held = _held(inputs[0])
    item = inputs[1]
    if (held is None or held.element_dtype is not attrs["element_dtype"]
            or held.max_num_elements != -1 or type(item) is not np.ndarray
            or not _shape_is(held.element_shape, <cnp.ndarray>item)):
        return _fallback("TensorListPushBack", ctx, inputs, attrs)
    item = _frozen(<cnp.ndarray>item)
    cdef list items = held._items
    cdef Py_ssize_t length = held._length
    if length == PyList_GET_SIZE(items):
        items.append(item)      # as `TensorList.push_back`: a longer view of shared storage
    else:
        items = items[:length]
        items.append(item)
    return (_variant(_new_list(held.element_dtype, held.element_shape, items, length + 1,
                               -1)),)


def pop_back(ctx, tuple inputs, dict attrs):
    """``TensorListPopBack``: ``(the list one shorter, its last item)``."""
    held = _held(inputs[0])
    shape_input = inputs[1]
    if (held is None or held.element_dtype is not attrs["element_dtype"] or not held._length
            or type(shape_input) is not np.ndarray
            or not _valid_shape_input(<cnp.ndarray>shape_input)):
        return _fallback("TensorListPopBack", ctx, inputs, attrs)
    cdef Py_ssize_t length = held._length - 1
    cdef list items = held._items
    item = items[length]
    if item is None:
        return _fallback("TensorListPopBack", ctx, inputs, attrs)
    return (_variant(_new_list(held.element_dtype, held.element_shape, items, length,
                               held.max_num_elements)), item)


def get_item(ctx, tuple inputs, dict attrs):
    """``TensorListGetItem``: the item at the index."""
    held = _held(inputs[0])
    index_input, shape_input = inputs[1], inputs[2]
    if (held is None or held.element_dtype is not attrs["element_dtype"]
            or not _is_index(index_input) or type(shape_input) is not np.ndarray
            or not _valid_shape_input(<cnp.ndarray>shape_input)):
        return _fallback("TensorListGetItem", ctx, inputs, attrs)
    cdef Py_ssize_t index = int(index_input)
    item = None
    if 0 <= index < <Py_ssize_t>held._length:
        item = (<list>held._items)[index]
    if item is None:
        return _fallback("TensorListGetItem", ctx, inputs, attrs)
    return (item,)


def set_item(ctx, tuple inputs, dict attrs):
    """``TensorListSetItem``: a copy of the list (of its item pointers) with the item set."""
    held = _held(inputs[0])
    index_input, item = inputs[1], inputs[2]
    if (held is None or held.element_dtype is not attrs["element_dtype"]
            or not _is_index(index_input) or type(item) is not np.ndarray
            or not _shape_is(held.element_shape, <cnp.ndarray>item)):
        return _fallback("TensorListSetItem", ctx, inputs, attrs)
    cdef Py_ssize_t index = int(index_input), length = held._length
    if not 0 <= index < length:
        return _fallback("TensorListSetItem", ctx, inputs, attrs)
    cdef list items = (<list>held._items)[:length]
    items[index] = _frozen(<cnp.ndarray>item)
    return (_variant(_new_list(held.element_dtype, held.element_shape, items, length,
                               held.max_num_elements)),)
