"""Kernels of the TensorList ops (``sessionlib/ops/list_ops.py``) and the `TensorList` value.

Design. A TensorList is TF's DT_VARIANT list of tensors: at run time a variant tensor is a 0-d
numpy object array holding one immutable `TensorList`. Every op returns a new list and never
changes its input, so a list can feed several consumers, be fetched by a loop body and reused,
and the executors need no aliasing rules for it. Value semantics would make ``push_back`` in a
loop quadratic if each push copied; instead a list is a *length over a shared Python list of
items*: pushing onto a list that ends where the shared storage ends appends in place and
returns a longer view (the shorter view still sees only its own prefix), and any other change
(a push onto a shorter view, ``set_item``, ``resize``) copies the item pointers, never the
tensors. A chain of pushes (a TensorArray written in a loop, the accumulators of a loop's
gradient) is thus amortised O(1) per push, and popping back is O(1).

Items are numpy arrays, stored read-only (kernels never write their inputs, and a fetched
item is then copied before it reaches the user), or None for an element that was reserved but
never set: reading it gives zeros when the list's element shape (merged with the op's) is
fully defined, as in TF, and InvalidArgumentError otherwise.

Element shapes are TF's partial shapes: None for an unknown rank, else a tuple with -1 for an
unknown dimension. Errors are InvalidArgumentError in TF's words. Each reference kernel moves
pointers, or is one ``np.stack``/``np.concatenate``; the ops a loop runs every iteration
(push, pop, get, set, reserve) also have lean fast kernels for the common case, the first four
in Cython, which hand anything else to the reference kernel (see "fast kernels" below).

`TensorList` also answers the two generic ops TF runs on variants: ``ZerosLike`` (a list of
zeros of the same structure: the gradient that a list output which got none counts as) and
``AddN`` (element-wise sums: several gradients reaching one list), through `zeros_like` and
`add`, which the kernels of those ops call for object inputs that have them.
"""

import numpy as np

from sessionlib import dtypes, errors
from sessionlib._core import tensor_list as _tensor_list_core
from sessionlib.runtime import kernel_table
from sessionlib.runtime.kernel_table import register_kernel

__all__ = ["TensorList", "variant_value", "list_of"]

# TF's names for dtypes in its messages (DataTypeString).
_TF_TYPE_NAMES = {"float32": "float", "float64": "double", "float16": "half"}


def _invalid(message):
    return errors.InvalidArgumentError(None, None, message)


def _type_name(dtype):
    return _TF_TYPE_NAMES.get(dtype.name, dtype.name)


def shape_string(shape):
    """A partial shape as TF prints it: ``[2,?]``, or ``<unknown>`` for an unknown rank."""
    if shape is None:
        return "<unknown>"
    return "[" + ",".join("?" if d < 0 else str(d) for d in shape) + "]"


def shape_from_array(value, what="element_shape"):
    """The partial shape an ``element_shape`` input holds: a -1 scalar (unknown rank) or a
    vector whose -1 entries are unknown dimensions."""
    if value.ndim == 0:
        if int(value) != -1:
            raise _invalid(f"The {what} must be -1 (unknown rank) or a vector, got a scalar "
                           f"{int(value)}")
        return None
    if value.ndim != 1:
        raise _invalid(f"The {what} must be a scalar or a vector, but got shape "
                       f"{list(value.shape)}")
    dims = tuple(int(d) for d in value.tolist())
    if any(d < -1 for d in dims):
        raise _invalid(f"The {what} has invalid dimensions: {list(dims)}")
    return dims


def merge_shapes(first, second):
    """The most specific shape compatible with both partial shapes, or None when neither knows
    the rank.

    Raises:
      InvalidArgumentError: if they are incompatible.
    """
    if first is None:
        return second
    if second is None:
        return first
    if len(first) != len(second):
        raise _invalid(f"Incompatible ranks during merge: {len(first)} vs. {len(second)}")
    merged = []
    for a, b in zip(first, second):
        if a >= 0 and b >= 0 and a != b:
            raise _invalid(f"Incompatible shapes during merge: {shape_string(first)} vs. "
                           f"{shape_string(second)}")
        merged.append(a if a >= 0 else b)
    return tuple(merged)


def _compatible(shape, partial):
    if partial is None:
        return True
    return len(shape) == len(partial) and all(p < 0 or p == d for d, p in zip(shape, partial))


def _fully_defined(partial):
    return partial is not None and all(d >= 0 for d in partial)


def _zeros(shape, element_dtype):
    """The value of an unset element: zeros (empty strings for a string list)."""
    if element_dtype is dtypes.string:
        return np.full(shape, b"", dtype=object)
    return np.zeros(shape, dtype=element_dtype.as_numpy_dtype)


def _frozen(array):
    """`array` as a read-only array the list may keep (a view when it is writable)."""
    if array.flags.writeable:
        array = array.view()
        array.flags.writeable = False
    return array


class TensorList:
    """An immutable list of tensors: the value a variant tensor of a list op holds.

    Attributes:
      element_dtype: the `DType` of the elements.
      element_shape: the partial shape every element must have (None: unknown rank; else a
        tuple, -1 for an unknown dimension).
      max_num_elements: the most elements a push may make (-1: no limit).
    """

    __slots__ = ("element_dtype", "element_shape", "max_num_elements", "_items", "_length")

    def __init__(self, element_dtype, element_shape, items=None, length=None,
                 max_num_elements=-1):
        self.element_dtype = element_dtype
        self.element_shape = element_shape
        self.max_num_elements = max_num_elements
        # `_items` may be shared with other lists; this list is its first `_length` entries.
        self._items = [] if items is None else items
        self._length = len(self._items) if length is None else length

    def __len__(self):
        return self._length

    def __repr__(self):
        return (f"<TensorList of {self._length} {self.element_dtype.name} elements, shape "
                f"{shape_string(self.element_shape)}>")

    def item(self, index):
        """The array at `index`, or None when that element was never set."""
        return self._items[index]

    def items(self):
        """The elements as a new Python list (None for unset ones)."""
        return self._items[:self._length]

    def _derived(self, items, length=None, element_shape=None):
        return TensorList(self.element_dtype,
                          self.element_shape if element_shape is None else element_shape,
                          items, length, self.max_num_elements)

    def push_back(self, array):
        """A list one longer, with `array` last; shares storage while it can."""
        array = _frozen(array)
        if self._length == len(self._items):
            # This list ends where the storage ends: append in place. Lists that share the
            # storage keep their lengths and so never see the new item.
            self._items.append(array)
            return self._derived(self._items, self._length + 1)
        return self._derived(self._items[:self._length] + [array])

    def pop_back(self):
        """``(shorter list, last item)``; the item is None when it was never set."""
        return self._derived(self._items, self._length - 1), self._items[self._length - 1]

    def with_items(self, updates):
        """A copy with ``updates`` (a mapping index -> array) set."""
        items = self._items[:self._length]
        for index, array in updates.items():
            items[index] = _frozen(array)
        return self._derived(items)

    def resized(self, size):
        """A copy truncated to `size` elements, or extended with unset ones."""
        if size <= self._length:
            return self._derived(self._items, size)
        return self._derived(self._items[:self._length] + [None] * (size - self._length))

    # ---- what the generic ops ZerosLike and AddN do with a list ------------------------------

    def zeros_like(self):
        """A list of the same length with zeros for each set element (unset ones stay).

        Elements of one shape and dtype share one read-only zeros array (items are never
        written), so a loop's gradient seeded with zeros for a long list allocates once."""
        zeros = {}
        items = []
        for item in self.items():
            if item is not None:
                key = (item.shape, item.dtype)
                found = zeros.get(key)
                if found is None:
                    found = zeros[key] = _frozen(np.zeros_like(item))
                item = found
            items.append(item)
        return self._derived(items)

    def add(self, other):
        """The element-wise sum of two lists of one length (an unset element counts as 0)."""
        if not isinstance(other, TensorList):
            raise _invalid(f"Cannot add a TensorList and a {type(other).__name__}")
        if other.element_dtype is not self.element_dtype:
            raise _invalid(f"Trying to add two lists of tensors of different dtypes. One is "
                           f"{_type_name(self.element_dtype)} and the other is "
                           f"{_type_name(other.element_dtype)}")
        if len(other) != len(self):
            raise _invalid(f"Trying to add two lists of tensors with different lengths. One "
                           f"is {len(self)} and the other is {len(other)}")
        summed = []
        for a, b in zip(self.items(), other.items()):
            if a is None or b is None:
                summed.append(b if a is None else a)
            elif a.shape != b.shape:
                raise _invalid(f"Trying to add two tensors with incompatible element shapes. "
                               f"One is {list(a.shape)} and the other is {list(b.shape)}")
            else:
                summed.append(np.asarray(a + b))   # 0-d arrays add to a numpy scalar
        return self._derived(summed, element_shape=merge_shapes(self.element_shape,
                                                                other.element_shape))


def variant_value(tensor_list):
    """`tensor_list` as the value of a variant tensor: a 0-d object array holding it."""
    value = np.empty((), dtype=object)
    value[()] = tensor_list
    return value


def list_of(value, element_dtype=None):
    """The `TensorList` a variant input holds, its element dtype checked against the op's.

    Raises:
      InvalidArgumentError: if `value` holds no list or the dtypes differ.
    """
    held = value[()] if isinstance(value, np.ndarray) and value.ndim == 0 else None
    if not isinstance(held, TensorList):
        raise _invalid(f"Input handle is not a list. Saw: '{_describe(value)}'")
    if element_dtype is not None and held.element_dtype is not element_dtype:
        raise _invalid(f"Invalid data types; op elements {_type_name(element_dtype)} but list "
                       f"elements {_type_name(held.element_dtype)}")
    return held


def _describe(value):
    if isinstance(value, np.ndarray):
        return f"array of shape {list(value.shape)} and dtype {value.dtype}"
    return type(value).__name__


def _check_item(array, element_dtype, what):
    if array.dtype != np.dtype(element_dtype.as_numpy_dtype):
        raise _invalid(f"Invalid data types; op elements {_type_name(element_dtype)} but "
                       f"{what} has dtype {array.dtype}")


def _index(value, what="index"):
    if value.ndim != 0:
        raise _invalid(f"The {what} must be a scalar, but got shape {list(value.shape)}")
    return int(value)


def _read(tensor_list, index, element_shape):
    """Element `index`, or zeros for an unset one whose shape is known."""
    item = tensor_list.item(index)
    if item is not None:
        return item
    shape = merge_shapes(tensor_list.element_shape, element_shape)
    if not _fully_defined(shape):
        raise _invalid(f"Trying to read an uninitialized tensor but element_shape is not "
                       f"fully defined: {shape_string(shape)} and no list element is set.")
    return _zeros(shape, tensor_list.element_dtype)


def _stacked(tensor_list, indices, element_shape, op_name):
    """The elements at `indices` stacked along a new axis 0 (unset ones as zeros)."""
    parts, shape = _stack_parts(tensor_list, indices, element_shape, op_name)
    if not parts:
        return _zeros((0,) + shape, tensor_list.element_dtype)
    return np.stack(parts)


def _stack_parts(tensor_list, indices, element_shape, op_name):
    """The elements at `indices` (unset ones as zeros) and their shape, checked as a stack of
    them checks them."""
    shape = merge_shapes(tensor_list.element_shape, element_shape)
    chosen = [tensor_list.item(i) for i in indices]
    if not _fully_defined(shape):
        # The shape of a set element fills in what the declared shapes leave open.
        first = next((item for item in chosen if item is not None), None)
        if first is None:
            if not indices:
                raise _invalid(f"Tried to {op_name} elements of an empty list with "
                               f"non-fully-defined element_shape: {shape_string(shape)}")
            raise _invalid(f"Tried to {op_name} list which only contains uninitialized "
                           f"tensors and has a non-fully-defined element_shape: "
                           f"{shape_string(shape)}")
        shape = merge_shapes(shape, first.shape)
    parts = []
    for item in chosen:
        if item is None:
            item = _zeros(shape, tensor_list.element_dtype)
        elif item.shape != shape:
            raise _invalid(f"Tried to {op_name} elements with incompatible shapes: "
                           f"{list(item.shape)} and {list(shape)}")
        parts.append(item)
    return parts, shape


# ---- kernels -------------------------------------------------------------------------------

def _empty_tensor_list_kernel(ctx, inputs, attrs):
    element_shape_t, max_t = inputs
    max_num = _index(max_t, "max_num_elements")
    if max_num < -1:
        raise _invalid(f"max_num_elements must be -1 (unlimited) or non-negative, got "
                       f"{max_num}")
    return (variant_value(TensorList(attrs["element_dtype"], shape_from_array(element_shape_t),
                                     max_num_elements=max_num)),)


def _reserve_kernel(ctx, inputs, attrs):
    element_shape_t, count_t = inputs
    count = _index(count_t, "num_elements")
    if count < 0:
        raise _invalid(f"The num_elements to reserve must be a non negative number, but got "
                       f"{count}")
    return (variant_value(TensorList(attrs["element_dtype"], shape_from_array(element_shape_t),
                                     [None] * count)),)


def _push_back_kernel(ctx, inputs, attrs):
    tensor_list = list_of(inputs[0], attrs["element_dtype"])
    item = inputs[1]
    if not _compatible(item.shape, tensor_list.element_shape):
        raise _invalid(f"Tried to append a tensor with incompatible shape to a list. Op "
                       f"element shape: {list(item.shape)} list shape: "
                       f"{shape_string(tensor_list.element_shape)}")
    if 0 <= tensor_list.max_num_elements <= len(tensor_list):
        raise _invalid(f"Tried to push item into a full list list size: {len(tensor_list)} "
                       f"max_num_elements: {tensor_list.max_num_elements}")
    return (variant_value(tensor_list.push_back(item)),)


def _pop_back_kernel(ctx, inputs, attrs):
    tensor_list = list_of(inputs[0], attrs["element_dtype"])
    if len(tensor_list) == 0:
        raise _invalid("Trying to pop from an empty list.")
    shorter, _ = tensor_list.pop_back()
    item = _read(tensor_list, len(tensor_list) - 1, shape_from_array(inputs[1]))
    return variant_value(shorter), item


def _length_kernel(ctx, inputs, attrs):
    return (np.asarray(len(list_of(inputs[0])), dtype=np.int32),)


def _element_shape_kernel(ctx, inputs, attrs):
    shape = list_of(inputs[0]).element_shape
    np_type = attrs["shape_type"].as_numpy_dtype
    if shape is None:
        return (np.asarray(-1, dtype=np_type),)
    return (np.asarray(shape, dtype=np_type).reshape(len(shape)),)


def _get_item_kernel(ctx, inputs, attrs):
    tensor_list = list_of(inputs[0], attrs["element_dtype"])
    index = _index(inputs[1])
    if not 0 <= index < len(tensor_list):
        raise _invalid(f"Trying to access element {index} in a list with {len(tensor_list)} "
                       "elements.")
    return (_read(tensor_list, index, shape_from_array(inputs[2])),)


def _set_item_kernel(ctx, inputs, attrs):
    tensor_list = list_of(inputs[0], attrs["element_dtype"])
    index, item = _index(inputs[1]), inputs[2]
    if index < 0 or (index >= len(tensor_list)
                     and not attrs.get("resize_if_index_out_of_bounds", False)):
        raise _invalid(f"Trying to modify element {index} in a list with {len(tensor_list)} "
                       "elements.")
    if not _compatible(item.shape, tensor_list.element_shape):
        raise _invalid(f"Tried to set a tensor with incompatible shape at a list index. Item "
                       f"element shape: {list(item.shape)} list shape: "
                       f"{shape_string(tensor_list.element_shape)}")
    if index >= len(tensor_list):
        tensor_list = tensor_list.resized(index + 1)
    return (variant_value(tensor_list.with_items({index: item})),)


def _resize_kernel(ctx, inputs, attrs):
    tensor_list = list_of(inputs[0])
    size = _index(inputs[1], "size")
    if size < 0:
        raise _invalid(f"TensorListSlice expects size to be non-negative. Got: {size}")
    return (variant_value(tensor_list.resized(size)),)


def _stack_kernel(ctx, inputs, attrs):
    return (_stacked(*_stack_args(inputs, attrs)),)


def _stack_args(inputs, attrs):
    """`_stacked`'s arguments for a TensorListStack, the list's length checked."""
    tensor_list = list_of(inputs[0], attrs["element_dtype"])
    expected = int(attrs.get("num_elements", -1))
    if expected != -1 and expected != len(tensor_list):
        raise _invalid(f"Operation expected a list with {expected} elements but got a list "
                       f"with {len(tensor_list)} elements.")
    return tensor_list, range(len(tensor_list)), shape_from_array(inputs[1]), "stack"


def _stack_slice_reference(ctx, inputs, attrs):
    # The spec: the two kernels it stands for.
    stacked = _stack_kernel(ctx, inputs[:2], attrs)[0]
    return kernel_table.lookup("StridedSlice").reference(ctx, (stacked,) + inputs[2:], attrs)


def _stack_slice_fast(ctx, inputs, attrs):
    """A slice that shrinks axis 0 to one element: that element is checked as the stack checks
    it and sliced by the rest of the spec, without stacking the others. Anything else, and any
    error, takes the two kernels' path, so the value and the error are theirs."""
    strided_slice = kernel_table.lookup("StridedSlice").fast
    element = _sliced_element(inputs, attrs)
    if element is not None:
        rest = {mask: int(attrs.get(mask, 0)) >> 1 for mask in _SLICE_MASKS}
        begin, end, strides = (spec[1:] for spec in inputs[2:])
        try:
            return strided_slice(ctx, (element, begin, end, strides), dict(attrs, **rest))
        except errors.OpError:
            pass
    stacked = _stack_kernel(ctx, inputs[:2], attrs)[0]
    return strided_slice(ctx, (stacked,) + inputs[2:], attrs)


_SLICE_MASKS = ("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask", "shrink_axis_mask")


def _sliced_element(inputs, attrs):
    """The element that axis 0's entry of the slice picks, or None when the entry is not a
    plain index in range (or the spec is malformed): the caller then stacks."""
    begin, end, strides = inputs[2:]
    if (attrs.get("shrink_axis_mask", 0) & 1 == 0
            or (attrs.get("begin_mask", 0) | attrs.get("ellipsis_mask", 0)
                | attrs.get("new_axis_mask", 0)) & 1
            or any(not isinstance(spec, np.ndarray) or spec.ndim != 1 or spec.dtype.kind != "i"
                   or not len(spec) == len(begin) >= 1 for spec in (begin, end, strides))
            or strides[0] == 0):
        return None
    tensor_list, indices, element_shape, op_name = _stack_args(inputs, attrs)
    index = int(begin[0])
    if index < 0:
        index += len(tensor_list)
    if not 0 <= index < len(tensor_list):
        return None
    parts, _ = _stack_parts(tensor_list, indices, element_shape, op_name)
    return parts[index]


def _gather_kernel(ctx, inputs, attrs):
    tensor_list = list_of(inputs[0], attrs["element_dtype"])
    indices = inputs[1].reshape(-1).tolist()
    for index in indices:
        if not 0 <= index < len(tensor_list):
            raise _invalid(f"Trying to access element {index} in a list with "
                           f"{len(tensor_list)} elements.")
    gathered = _stacked(tensor_list, indices, shape_from_array(inputs[2]), "gather")
    return (gathered.reshape(inputs[1].shape + gathered.shape[1:]),)


def _from_tensor_kernel(ctx, inputs, attrs):
    tensor, element_shape_t = inputs
    if tensor.ndim < 1:
        raise _invalid(f"Tensor must be at least a vector, but saw shape: {list(tensor.shape)}")
    element_shape = shape_from_array(element_shape_t)
    if not _compatible(tensor.shape[1:], element_shape):
        raise _invalid(f"Specified a list with shape {shape_string(element_shape)} from a "
                       f"tensor with shape {list(tensor.shape)}")
    tensor = _frozen(tensor)
    # `[i, ...]`: a row of a vector is a 0-d array, not a numpy scalar.
    return (variant_value(TensorList(attrs["element_dtype"], element_shape,
                                     [tensor[i, ...] for i in range(tensor.shape[0])])),)


def _scatter_items(tensor, indices_t):
    """``{index: row}`` for a scatter of `tensor`'s rows to `indices_t`, checked."""
    if tensor.ndim < 1:
        raise _invalid(f"Tensor must be at least a vector, but saw shape: {list(tensor.shape)}")
    indices = indices_t.reshape(-1).tolist()
    if indices_t.ndim != 1:
        raise _invalid(f"Expected indices to be a vector, but saw shape: "
                       f"{list(indices_t.shape)}")
    if len(indices) != tensor.shape[0]:
        raise _invalid(f"Invalid number of rows in input tensor. Expected: {len(indices)} "
                       f"Actual: {tensor.shape[0]}")
    if any(index < 0 for index in indices):
        raise _invalid("Indices in TensorListScatter must all be non-negative.")
    # A repeated index keeps its last row, as TF's kernel does.
    tensor = _frozen(tensor)
    # `[row, ...]`: a row of a vector is a 0-d array, not a numpy scalar.
    return {index: tensor[row, ...] for row, index in enumerate(indices)}


def _scatter_kernel(ctx, inputs, attrs):
    tensor, indices_t, element_shape_t, count_t = inputs
    element_shape = shape_from_array(element_shape_t)
    if not _compatible(tensor.shape[1:], element_shape):
        raise _invalid(f"Specified a list with shape {shape_string(element_shape)} from a "
                       f"tensor with shape {list(tensor.shape)}")
    updates = _scatter_items(tensor, indices_t)
    count = max(_index(count_t, "num_elements"), max(updates, default=-1) + 1)
    tensor_list = TensorList(attrs["element_dtype"], element_shape, [None] * count)
    return (variant_value(tensor_list.with_items(updates)),)


def _scatter_into_existing_kernel(ctx, inputs, attrs):
    tensor_list = list_of(inputs[0], attrs["element_dtype"])
    tensor, indices_t = inputs[1], inputs[2]
    if not _compatible(tensor.shape[1:], tensor_list.element_shape):
        raise _invalid(f"Tried to scatter a tensor with incompatible shape into a list. "
                       f"Tensor shape: {list(tensor.shape)} list shape: "
                       f"{shape_string(tensor_list.element_shape)}")
    updates = _scatter_items(tensor, indices_t)
    needed = max(updates, default=-1) + 1
    if needed > len(tensor_list):
        tensor_list = tensor_list.resized(needed)
    return (variant_value(tensor_list.with_items(updates)),)


def _concat_kernel(ctx, inputs, attrs):
    tensor_list = list_of(inputs[0], attrs["element_dtype"])
    element_shape = merge_shapes(tensor_list.element_shape, shape_from_array(inputs[1]))
    leading = inputs[2].reshape(-1).tolist()
    if element_shape is not None and len(element_shape) == 0:
        raise _invalid("Concat requires elements to be at least vectors, found scalars "
                       "instead.")
    items = tensor_list.items()
    inner = None if element_shape is None else element_shape[1:]
    for index, item in enumerate(items):
        if item is None:
            continue
        if item.ndim == 0:
            raise _invalid(f"Concat saw a scalar shape at index {index} but requires at least "
                           "vectors.")
        inner = merge_shapes(inner, item.shape[1:])
    if leading and len(leading) != len(items):
        raise _invalid(f"leading_dims has {len(leading)} entries for a list of {len(items)} "
                       "elements")
    parts = []
    for index, item in enumerate(items):
        if item is None:
            if not _fully_defined(inner):
                raise _invalid("Trying to concat list with only uninitialized tensors but "
                               "element_shape_except_first_dim is not fully defined: "
                               f"{shape_string(inner)}")
            if not leading:
                raise _invalid(f"Concat saw an uninitialized element at index {index} and "
                               "no leading_dims to size it")
            item = _zeros((leading[index],) + inner, tensor_list.element_dtype)
        parts.append(item)
    lengths = np.asarray([part.shape[0] for part in parts], dtype=np.int64)
    if not parts:
        if not _fully_defined(inner):
            raise _invalid("All except the first dimension must be fully defined when "
                           f"concating an empty tensor list. element_shape: "
                           f"{shape_string(element_shape)}")
        return _zeros((0,) + inner, tensor_list.element_dtype), lengths
    try:
        return np.concatenate(parts), lengths
    except ValueError:
        raise _invalid("Tried to concat tensors with unequal shapes: "
                       f"{[list(p.shape) for p in parts]}") from None


def _split_kernel(ctx, inputs, attrs):
    tensor, element_shape_t, lengths_t = inputs
    if tensor.ndim < 1:
        raise _invalid(f"Tensor must be at least a vector, but saw shape: {list(tensor.shape)}")
    element_shape = shape_from_array(element_shape_t)
    if element_shape is not None and (
            len(element_shape) == 0 or not _compatible(tensor.shape[1:], element_shape[1:])):
        raise _invalid(f"TensorListSplit requires element_shape {shape_string(element_shape)} "
                       f"to match tensor shape {list(tensor.shape)} except the first dimension")
    if lengths_t.ndim != 1:
        raise _invalid(f"Expected lengths to be a vector, received shape: "
                       f"{list(lengths_t.shape)}")
    lengths = lengths_t.tolist()
    if any(length < 0 for length in lengths):
        raise _invalid(f"Invalid value in lengths: {lengths}")
    if sum(lengths) != tensor.shape[0]:
        raise _invalid(f"Unable to split tensor of shape {list(tensor.shape)} into lengths "
                       f"that sum to {sum(lengths)}")
    tensor = _frozen(tensor)
    bounds = np.cumsum([0] + lengths).tolist()
    items = [tensor[start:stop] for start, stop in zip(bounds[:-1], bounds[1:])]
    return (variant_value(TensorList(attrs["element_dtype"], element_shape, items)),)


# ---- fast kernels ---------------------------------------------------------------------------
#
# A loop that writes a TensorArray and the accumulators of a loop's gradient run the pointer
# moves below once per iteration per list (an LSTM's training step: ~600 a step), so their
# fixed cost counts. Push, pop, get and set are Cython (``_core/tensor_list.pyx``): each takes
# the common case (the list's dtype is the op's, the item's shape is the list's fully known one,
# no element limit) with no checks beyond those, and hands anything else to its reference
# kernel, which raises TF's errors. Reserve runs once per loop and stays here. Results are the
# same objects the reference kernels build.

_tensor_list_core.set_list_class(TensorList, {
    "TensorListPushBack": _push_back_kernel, "TensorListPopBack": _pop_back_kernel,
    "TensorListGetItem": _get_item_kernel, "TensorListSetItem": _set_item_kernel})


def _reserve_fast(ctx, inputs, attrs):
    element_shape_t, count_t = inputs
    if element_shape_t.ndim != 1 or count_t.ndim:
        return _reserve_kernel(ctx, inputs, attrs)
    shape = tuple(element_shape_t.tolist())
    count = int(count_t)
    if count < 0 or any(d < 0 for d in shape):
        return _reserve_kernel(ctx, inputs, attrs)
    return (_tensor_list_core.new_variant(attrs["element_dtype"], shape, [None] * count, count,
                                          -1),)


register_kernel("EmptyTensorList", reference=_empty_tensor_list_kernel)
register_kernel("TensorListReserve", reference=_reserve_kernel, fast=_reserve_fast)
register_kernel("TensorListPushBack", reference=_push_back_kernel,
                fast=_tensor_list_core.push_back)
register_kernel("TensorListPopBack", reference=_pop_back_kernel,
                fast=_tensor_list_core.pop_back)
register_kernel("TensorListLength", reference=_length_kernel)
register_kernel("TensorListElementShape", reference=_element_shape_kernel)
register_kernel("TensorListGetItem", reference=_get_item_kernel,
                fast=_tensor_list_core.get_item)
register_kernel("TensorListSetItem", reference=_set_item_kernel,
                fast=_tensor_list_core.set_item)
register_kernel("TensorListResize", reference=_resize_kernel)
register_kernel("TensorListStack", reference=_stack_kernel)
register_kernel("_TensorListStackSlice", reference=_stack_slice_reference,
                fast=_stack_slice_fast)
register_kernel("TensorListGather", reference=_gather_kernel)
register_kernel("TensorListFromTensor", reference=_from_tensor_kernel)
register_kernel("TensorListScatterV2", reference=_scatter_kernel)
register_kernel("TensorListScatterIntoExistingList", reference=_scatter_into_existing_kernel)
register_kernel("TensorListConcatV2", reference=_concat_kernel)
register_kernel("TensorListSplit", reference=_split_kernel)
