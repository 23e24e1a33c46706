"""TensorLists: TF's variant-valued lists of tensors, and their gradients.

The ops are TF 2.21's (``EmptyTensorList``, ``TensorListReserve``, ``TensorListPushBack``, ...)
with its inputs and attrs: the element shape is an input tensor (``-1`` for an unknown rank,
``-1`` entries for unknown dimensions), the element dtype an attr, so a GraphDef holding them
round-trips with TF. Each op takes and returns a ``variant`` scalar whose run-time value is an
immutable list (``runtime/kernels/list_kernels.py``): an op never changes its input list, which
is what lets lists be loop variables, be read by several consumers and carry gradients.
``tf.TensorArray`` (``ops/tensor_array_ops.py``) and the gradient accumulators of loops are
built on them.

Static information. TF keeps a list's element dtype and shape as "handle data" on the variant
tensor. Here `handle_data` derives it on demand from the op that made the list (walking back
through the ops that pass a list on, memoised per tensor), so ops reading a list get a static
shape and a wrong element dtype is a graph-time error, as in TF; `set_handle_data` lets code
that makes variant tensors by other means (a loop's outputs, a function's placeholders) state
it.

Gradients are TF's (``tensorflow/python/ops/list_ops.py``): push_back and pop_back mirror each
other, get_item and set_item, stack and from_tensor, gather and scatter, concat and split. A
list's gradient is itself a list; several gradients of one list add with ``AddN`` and a list
output that gets none counts as ``ZerosLike`` of it, both of which the variant kernels
implement element-wise.
"""

import weakref

import numpy as np

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework import registry
from sessionlib.framework.graph import Tensor
from sessionlib.framework.tensor_shape import TensorShape
from sessionlib.ops import _infer, array_ops

__all__ = ["empty_tensor_list", "tensor_list_reserve", "tensor_list_from_tensor",
           "tensor_list_push_back", "tensor_list_pop_back", "tensor_list_get_item",
           "tensor_list_set_item", "tensor_list_stack", "tensor_list_gather",
           "tensor_list_scatter", "tensor_list_concat", "tensor_list_split",
           "tensor_list_length", "tensor_list_element_shape", "tensor_list_resize",
           "handle_data", "set_handle_data"]

_VARIANT = (dtypes.variant,)
_INDEX = (dtypes.int32, dtypes.int64)
_SCALAR = TensorShape([])


# ---- handle data: the static element dtype and shape of a list ------------------------------

# tensor -> (element dtype or None, element TensorShape). Weak: a dropped graph frees it.
_handle_data = weakref.WeakKeyDictionary()

# The ops that take a list at input 0 and give the same kind of list at output 0.
_PASS_THROUGH = frozenset({"TensorListPushBack", "TensorListPopBack", "TensorListSetItem",
                           "TensorListResize", "TensorListScatterIntoExistingList",
                           "Identity", "StopGradient", "AddN", "ZerosLike"})


def _shape_input(tensor):
    """The partial shape an element_shape input states (unknown rank for a -1 scalar)."""
    value = _infer.folded_value(tensor)
    if value is not None:
        value = np.asarray(value)
        if value.ndim == 0:
            return TensorShape(None)
        return TensorShape([None if int(d) < 0 else int(d) for d in value.reshape(-1)])
    if tensor.shape.rank == 0:
        return TensorShape(None)
    return _infer.shape_from_tensor(tensor)


def handle_data(tensor):
    """``(element_dtype, element_shape)`` known statically for list `tensor`.

    Args:
      tensor: a variant Tensor.

    Returns:
      The element `DType` (None when unknown) and a `TensorShape` (possibly unknown).
    """
    found = _handle_data.get(tensor)
    if found is not None:
        return found
    op = tensor.op
    kind = op.type
    dtype, shape = None, TensorShape(None)
    if tensor.value_index == 0 and kind in _PASS_THROUGH and op.inputs and \
            op.inputs[0].dtype is dtypes.variant:
        dtype, shape = handle_data(op.inputs[0])
    elif kind in ("EmptyTensorList", "TensorListReserve"):
        dtype, shape = op.get_attr("element_dtype"), _shape_input(op.inputs[0])
    elif kind in ("TensorListFromTensor", "TensorListScatterV2"):
        dtype = op.get_attr("element_dtype")
        shape = _merged(_shape_input(op.inputs[2 if kind == "TensorListScatterV2" else 1]),
                        op.inputs[0].shape[1:] if op.inputs[0].shape.rank else TensorShape(None))
    elif kind == "TensorListSplit":
        dtype, shape = op.get_attr("element_dtype"), _shape_input(op.inputs[1])
    _handle_data[tensor] = (dtype, shape)
    return dtype, shape


def set_handle_data(tensor, element_dtype, element_shape):
    """States the element dtype and shape of variant `tensor` (a loop output, a placeholder
    of a function graph that stands for a list).

    Args:
      tensor: a variant Tensor.
      element_dtype: a `DType`, or None when unknown.
      element_shape: a `TensorShape` or anything `TensorShape` takes.
    """
    _handle_data[tensor] = (None if element_dtype is None else dtypes.as_dtype(element_dtype),
                            TensorShape(element_shape) if not isinstance(
                                element_shape, TensorShape) else element_shape)


def _merged(first, second):
    if first.is_compatible_with(second):
        return first.merge_with(second)
    return first


def _check_list(op_type, handle, element_dtype=None, arg="input_handle"):
    """The static element shape of list `handle`, after checking its dtypes.

    Raises:
      TypeError: if `handle` is not a variant.
      ValueError: if the list's known element dtype is not `element_dtype`, as TF's shape
        functions report it.
    """
    _infer.check_dtype(op_type, handle, _VARIANT, arg)
    known_dtype, shape = handle_data(handle)
    if element_dtype is not None and known_dtype is not None and known_dtype != element_dtype:
        raise ValueError(f"Expected list with element dtype {element_dtype.name} but got list "
                         f"with element dtype {known_dtype.name} for '{op_type}'")
    return shape


def _element_dtype(attrs, op_type):
    dtype = attrs.get("element_dtype")
    if dtype is None:
        raise ValueError(f"{op_type} needs the attr element_dtype")
    attrs["element_dtype"] = dtype = dtypes.as_dtype(dtype)
    return dtype


def _check_compatible(op_type, list_shape, item_shape, what):
    if not list_shape.is_compatible_with(item_shape):
        raise ValueError(f"Tried to {what} a tensor with incompatible shape to a list in "
                         f"'{op_type}'. Op element shape: {item_shape} list shape: "
                         f"{list_shape}")


def _scalar_index(op_type, tensor, arg):
    _infer.check_dtype(op_type, tensor, (dtypes.int32,), arg)
    if tensor.shape.rank not in (None, 0):
        raise ValueError(f"Shape must be rank 0 but is rank {tensor.shape.rank} for "
                         f"'{arg}' of '{op_type}'")


def _check_shape_input(op_type, tensor, allowed=_INDEX, arg="element_shape"):
    _infer.check_dtype(op_type, tensor, allowed, arg)
    if tensor.shape.rank not in (None, 0, 1):
        raise ValueError(f"Shape must be at most rank 1 but is rank {tensor.shape.rank} for "
                         f"'{arg}' of '{op_type}'")


# ---- infer functions ---------------------------------------------------------------------------

def _new_list_infer(op_type):
    def infer(inputs, attrs):
        element_shape, count = inputs
        _element_dtype(attrs, op_type)
        _check_shape_input(op_type, element_shape)
        attrs["shape_type"] = element_shape.dtype
        _scalar_index(op_type, count, "num_elements" if op_type == "TensorListReserve"
                      else "max_num_elements")
        return [(dtypes.variant, _SCALAR)]

    return infer


def _push_back_infer(inputs, attrs):
    handle, item = inputs
    attrs["element_dtype"] = item.dtype
    shape = _check_list("TensorListPushBack", handle, item.dtype)
    _check_compatible("TensorListPushBack", shape, item.shape, "append")
    return [(dtypes.variant, _SCALAR)]


def _pop_back_infer(inputs, attrs):
    handle, element_shape = inputs
    dtype = _element_dtype(attrs, "TensorListPopBack")
    shape = _check_list("TensorListPopBack", handle, dtype)
    _check_shape_input("TensorListPopBack", element_shape, (dtypes.int32,))
    return [(dtypes.variant, _SCALAR), (dtype, _merged(shape, _shape_input(element_shape)))]


def _get_item_infer(inputs, attrs):
    handle, index, element_shape = inputs
    dtype = _element_dtype(attrs, "TensorListGetItem")
    shape = _check_list("TensorListGetItem", handle, dtype)
    _scalar_index("TensorListGetItem", index, "index")
    _check_shape_input("TensorListGetItem", element_shape)
    attrs["Tshape"] = element_shape.dtype
    return [(dtype, _merged(shape, _shape_input(element_shape)))]


def _set_item_infer(inputs, attrs):
    handle, index, item = inputs
    attrs["element_dtype"] = item.dtype
    attrs["resize_if_index_out_of_bounds"] = bool(
        attrs.get("resize_if_index_out_of_bounds", False))
    shape = _check_list("TensorListSetItem", handle, item.dtype)
    _scalar_index("TensorListSetItem", index, "index")
    _check_compatible("TensorListSetItem", shape, item.shape, "set")
    return [(dtypes.variant, _SCALAR)]


def _resize_infer(inputs, attrs):
    handle, size = inputs
    _check_list("TensorListResize", handle)
    _scalar_index("TensorListResize", size, "size")
    return [(dtypes.variant, _SCALAR)]


def _length_infer(inputs, attrs):
    _check_list("TensorListLength", inputs[0])
    return [(dtypes.int32, _SCALAR)]


def _element_shape_infer(inputs, attrs):
    shape = _check_list("TensorListElementShape", inputs[0])
    out = dtypes.as_dtype(attrs.setdefault("shape_type", dtypes.int32))
    attrs["shape_type"] = out
    if out not in _INDEX:
        raise TypeError(f"shape_type must be int32 or int64 for 'TensorListElementShape', got "
                        f"{out.name}")
    return [(out, TensorShape(None) if shape.rank is None else TensorShape([shape.rank]))]


def _stack_infer(inputs, attrs):
    handle, element_shape = inputs
    dtype = _element_dtype(attrs, "TensorListStack")
    shape = _check_list("TensorListStack", handle, dtype)
    _check_shape_input("TensorListStack", element_shape, (dtypes.int32,))
    count = int(attrs.setdefault("num_elements", -1))
    shape = _merged(shape, _shape_input(element_shape))
    return [(dtype, TensorShape([None if count < 0 else count]).concatenate(shape))]


def _gather_infer(inputs, attrs):
    handle, indices, element_shape = inputs
    dtype = _element_dtype(attrs, "TensorListGather")
    shape = _check_list("TensorListGather", handle, dtype)
    _infer.check_dtype("TensorListGather", indices, (dtypes.int32,), "indices")
    _check_shape_input("TensorListGather", element_shape, (dtypes.int32,))
    return [(dtype, indices.shape.concatenate(_merged(shape, _shape_input(element_shape))))]


def _from_tensor_infer(inputs, attrs):
    tensor, element_shape = inputs
    attrs["element_dtype"] = tensor.dtype
    _check_shape_input("TensorListFromTensor", element_shape)
    attrs["shape_type"] = element_shape.dtype
    if tensor.shape.rank == 0:
        raise ValueError("Shape must be at least rank 1 but is rank 0 for 'tensor' of "
                         "'TensorListFromTensor'")
    if tensor.shape.rank is not None:
        _check_compatible("TensorListFromTensor", _shape_input(element_shape),
                          tensor.shape[1:], "make a list of")
    return [(dtypes.variant, _SCALAR)]


def _scatter_infer(inputs, attrs):
    tensor, indices, element_shape, count = inputs
    attrs["element_dtype"] = tensor.dtype
    _infer.check_dtype("TensorListScatterV2", indices, (dtypes.int32,), "indices")
    _check_shape_input("TensorListScatterV2", element_shape)
    attrs["shape_type"] = element_shape.dtype
    _scalar_index("TensorListScatterV2", count, "num_elements")
    return [(dtypes.variant, _SCALAR)]


def _scatter_into_existing_infer(inputs, attrs):
    handle, tensor, indices = inputs
    attrs["element_dtype"] = tensor.dtype
    shape = _check_list("TensorListScatterIntoExistingList", handle, tensor.dtype)
    _infer.check_dtype("TensorListScatterIntoExistingList", indices, (dtypes.int32,),
                       "indices")
    if tensor.shape.rank:
        _check_compatible("TensorListScatterIntoExistingList", shape, tensor.shape[1:],
                          "scatter")
    return [(dtypes.variant, _SCALAR)]


def _concat_infer(inputs, attrs):
    handle, element_shape, leading_dims = inputs
    dtype = _element_dtype(attrs, "TensorListConcatV2")
    shape = _check_list("TensorListConcatV2", handle, dtype)
    _check_shape_input("TensorListConcatV2", element_shape)
    attrs["shape_type"] = element_shape.dtype
    _infer.check_dtype("TensorListConcatV2", leading_dims, (dtypes.int64,), "leading_dims")
    shape = _merged(shape, _shape_input(element_shape))
    if shape.rank == 0:
        raise ValueError("Concat requires elements to be at least vectors, found scalars "
                         "instead (TensorListConcatV2)")
    out = TensorShape(None) if shape.rank is None else TensorShape([None]).concatenate(
        shape[1:])
    return [(dtype, out), (dtypes.int64, TensorShape([None]))]


def _split_infer(inputs, attrs):
    tensor, element_shape, lengths = inputs
    attrs["element_dtype"] = tensor.dtype
    _check_shape_input("TensorListSplit", element_shape)
    attrs["shape_type"] = element_shape.dtype
    _infer.check_dtype("TensorListSplit", lengths, (dtypes.int64,), "lengths")
    if tensor.shape.rank == 0:
        raise ValueError("Shape must be at least rank 1 but is rank 0 for 'tensor' of "
                         "'TensorListSplit'")
    return [(dtypes.variant, _SCALAR)]


# ---- gradients (TF's list_ops.py) ----------------------------------------------------------

def _push_back_grad(op, dlist):
    _, item = op.inputs
    if dlist is None:
        return [None, None]
    popped = tensor_list_pop_back(dlist, item.dtype, element_shape=array_ops.shape(item))
    return [popped[0], popped[1]]


def _pop_back_grad(op, dlist, ditem):
    if dlist is None:
        dlist = empty_tensor_list(tensor_list_element_shape(op.outputs[0], dtypes.int32),
                                  op.outputs[1].dtype)
    if ditem is None:
        ditem = array_ops.zeros_like(op.outputs[1])
    return [tensor_list_push_back(dlist, ditem), None]


def _stack_grad(op, dtensor):
    shape = dtensor.shape[1:] if dtensor.shape.rank is not None else None
    return [tensor_list_from_tensor(dtensor, element_shape=shape), None]


def _from_tensor_grad(op, dlist):
    tensor = op.inputs[0]
    count = tensor.shape[0] if tensor.shape.rank else None
    if dlist is None:
        dlist = empty_tensor_list(tensor_list_element_shape(op.outputs[0], dtypes.int32),
                                  tensor.dtype)
    grad = tensor_list_stack(dlist, tensor.dtype,
                             element_shape=array_ops.slice(array_ops.shape(tensor), [1], [-1]),
                             num_elements=count)
    return [grad, None]


def _get_item_grad(op, ditem):
    handle, index, _ = op.inputs
    dlist = tensor_list_reserve(tensor_list_element_shape(handle, dtypes.int32),
                                tensor_list_length(handle), ditem.dtype)
    return [tensor_list_set_item(dlist, index, ditem), None, None]


def _set_item_grad(op, dlist):
    handle, index, item = op.inputs
    list_grad = tensor_list_set_item(dlist, index, array_ops.zeros_like(item))
    item_grad = tensor_list_get_item(dlist, index, item.dtype,
                                     element_shape=array_ops.shape(item))
    if op.get_attr("resize_if_index_out_of_bounds"):
        list_grad = tensor_list_resize(list_grad, tensor_list_length(handle))
    return [list_grad, None, item_grad]


def _resize_grad(op, dlist):
    return [tensor_list_resize(dlist, tensor_list_length(op.inputs[0])), None]


def _gather_grad(op, dtensor):
    handle, indices, _ = op.inputs
    dlist = tensor_list_reserve(tensor_list_element_shape(handle, dtypes.int32),
                                tensor_list_length(handle), dtensor.dtype)
    return [tensor_list_scatter(dtensor, indices, input_handle=dlist), None, None]


def _scatter_grad(op, dlist):
    tensor, indices = op.inputs[:2]
    grad = tensor_list_gather(dlist, indices, tensor.dtype,
                              element_shape=array_ops.slice(array_ops.shape(tensor), [1], [-1]))
    return [grad, None, None, None]


def _scatter_into_existing_grad(op, dlist):
    _, tensor, indices = op.inputs
    grad = tensor_list_gather(dlist, indices, tensor.dtype,
                              element_shape=array_ops.slice(array_ops.shape(tensor), [1], [-1]))
    list_grad = tensor_list_scatter(array_ops.zeros_like(tensor), indices, input_handle=dlist)
    return [list_grad, grad, None]


def _concat_grad(op, dtensor, dlengths):
    del dlengths  # integer: no gradient
    dlist = tensor_list_split(dtensor, tensor_list_element_shape(op.inputs[0], dtypes.int32),
                              op.outputs[1])
    return [dlist, None, None]


def _split_grad(op, dlist):
    tensor, _, lengths = op.inputs
    element_shape = array_ops.concat(
        [[-1], array_ops.slice(array_ops.shape(tensor), [1], [-1])], 0)
    grad = tensor_list_concat(dlist, tensor.dtype, element_shape=element_shape,
                              leading_dims=lengths)[0]
    return [grad, None, None]


_NO_GRAD = registry.NOT_DIFFERENTIABLE

for _type, _infer_fn, _n, _grad, _doc in (
        ("EmptyTensorList", _new_list_infer("EmptyTensorList"), 2, _NO_GRAD,
         "An empty list (at most max_num_elements long, -1: unbounded)."),
        ("TensorListReserve", _new_list_infer("TensorListReserve"), 2, _NO_GRAD,
         "A list of num_elements unset elements."),
        ("TensorListPushBack", _push_back_infer, 2, _push_back_grad,
         "The list with a tensor appended."),
        ("TensorListPopBack", _pop_back_infer, 2, _pop_back_grad,
         "The list without its last element, and that element."),
        ("TensorListGetItem", _get_item_infer, 3, _get_item_grad, "One element of a list."),
        ("TensorListSetItem", _set_item_infer, 3, _set_item_grad,
         "The list with one element replaced."),
        ("TensorListResize", _resize_infer, 2, _resize_grad,
         "The list truncated or extended with unset elements."),
        ("TensorListLength", _length_infer, 1, _NO_GRAD, "The number of elements of a list."),
        ("TensorListElementShape", _element_shape_infer, 1, _NO_GRAD,
         "The element shape of a list (-1 for an unknown rank)."),
        ("TensorListStack", _stack_infer, 2, _stack_grad,
         "The elements of a list stacked into one tensor."),
        ("TensorListGather", _gather_infer, 3, _gather_grad,
         "Some elements of a list stacked into one tensor."),
        ("TensorListFromTensor", _from_tensor_infer, 2, _from_tensor_grad,
         "A list of the rows of a tensor."),
        ("TensorListScatterV2", _scatter_infer, 4, _scatter_grad,
         "A new list with the rows of a tensor at the given indices."),
        ("TensorListScatterIntoExistingList", _scatter_into_existing_infer, 3,
         _scatter_into_existing_grad, "The list with the rows of a tensor at some indices."),
        ("TensorListConcatV2", _concat_infer, 3, _concat_grad,
         "The elements of a list concatenated along axis 0, and their lengths."),
        ("TensorListSplit", _split_infer, 3, _split_grad,
         "A list of the consecutive blocks of a tensor, of the given lengths."),
):
    registry.register_op(_type, infer=_infer_fn, num_inputs=_n, gradient=_grad, doc=_doc)


# ---- a strided slice of a stacked list (made by the graph optimizer) ---------------------------
#
# Nobody writes this op: the remapping pass (runtime/optimizer/remapper.py) makes it when a
# step is compiled, from a StridedSlice that reads a TensorListStack's result and picks one
# element on axis 0 (``outputs[:, -1]`` of a dynamic_rnn, moved to time-major by the arithmetic
# pass). Its value and errors are those of the two ops; its kernel copies one element instead of
# the whole stack. Inputs: the list, the element shape (the stack's), begin, end, strides;
# attrs: the stack's (element_dtype, num_elements) and the slice's (the masks, Index).

STACK_SLICE = "_TensorListStackSlice"


class _Stacked:
    """The static dtype and shape of the stack, for the slice's shape function."""

    __slots__ = ("dtype", "shape")

    def __init__(self, dtype, shape):
        self.dtype, self.shape = dtype, shape


def _stack_slice_infer(inputs, attrs):
    handle, element_shape, begin, end, strides = inputs
    ((dtype, shape),) = _stack_infer([handle, element_shape], attrs)
    return array_ops.strided_slice_infer([_Stacked(dtype, shape), begin, end, strides], attrs)


registry.register_op(STACK_SLICE, infer=_stack_slice_infer, num_inputs=5, gradient=_NO_GRAD,
                     doc="StridedSlice of a TensorListStack, made by the graph optimizer.")


# ---- the Python API (TF's list_ops module) ------------------------------------------------------

def _graph_of(*values):
    for value in values:
        if isinstance(value, Tensor):
            return value.graph
    return graph_lib.get_default_graph()


def _build_element_shape(shape, graph, dtype=dtypes.int32):
    """An element_shape input: a Tensor as is, -1 for an unknown shape, else a vector with
    -1 for each unknown dimension (TF's ``_build_element_shape``)."""
    if isinstance(shape, Tensor):
        return shape
    if isinstance(shape, TensorShape):
        shape = shape.as_list() if shape.rank is not None else None
    if shape is None:
        return graph_lib.convert_to_tensor(-1, dtype=dtype, name="element_shape", graph=graph)
    if isinstance(shape, (np.ndarray, np.generic)):
        return graph_lib.convert_to_tensor(np.asarray(shape).astype(dtype.as_numpy_dtype),
                                           dtype=dtype, name="element_shape", graph=graph)
    dims = [-1 if d is None else getattr(d, "value", d) for d in shape]
    dims = [-1 if d is None else d for d in dims]
    if any(isinstance(d, Tensor) for d in dims):
        return array_ops.stack([array_ops._tensor(d, "dim", graph, dtype) for d in dims],
                               name="element_shape")
    return graph_lib.convert_to_tensor(np.asarray(dims, dtype=dtype.as_numpy_dtype).reshape(
        len(dims)), dtype=dtype, name="element_shape", graph=graph)


def _int(value, name, graph, dtype=dtypes.int32):
    return array_ops._tensor(value, name, graph, dtype)


def _create(graph, op_type, inputs, attrs, name):
    return graph.create_op(op_type, inputs, attrs, name=name or op_type)


def empty_tensor_list(element_shape, element_dtype, max_num_elements=None, name=None):
    """An empty list (op ``EmptyTensorList``).

    Args:
      element_shape: the shape every element must have: a shape (None dims unknown), None for
        any shape, or an int32 Tensor (-1 scalar: unknown rank).
      element_dtype: the elements' dtype.
      max_num_elements: the most elements it may hold (None: no limit).
      name: the op name.

    Returns:
      A variant scalar Tensor.
    """
    graph = _graph_of(element_shape, max_num_elements)
    with graph.as_default():
        shape_t = _build_element_shape(element_shape, graph)
        max_t = _int(-1 if max_num_elements is None else max_num_elements,
                     "max_num_elements", graph)
        return _create(graph, "EmptyTensorList", [shape_t, max_t],
                       {"element_dtype": dtypes.as_dtype(element_dtype)}, name).outputs[0]


def tensor_list_reserve(element_shape, num_elements, element_dtype, name=None):
    """A list of `num_elements` unset elements (op ``TensorListReserve``); an unset element
    reads as zeros when the element shape is fully defined.

    Args:
      element_shape: see `empty_tensor_list`.
      num_elements: an int32 scalar.
      element_dtype: the elements' dtype.
      name: the op name.

    Returns:
      A variant scalar Tensor.
    """
    graph = _graph_of(element_shape, num_elements)
    with graph.as_default():
        shape_t = _build_element_shape(element_shape, graph)
        return _create(graph, "TensorListReserve",
                       [shape_t, _int(num_elements, "num_elements", graph)],
                       {"element_dtype": dtypes.as_dtype(element_dtype)}, name).outputs[0]


def tensor_list_from_tensor(tensor, element_shape, name=None):
    """A list of the rows of `tensor` (op ``TensorListFromTensor``).

    Args:
      tensor: a Tensor of rank >= 1.
      element_shape: the element shape (see `empty_tensor_list`).
      name: the op name.

    Returns:
      A variant scalar Tensor.
    """
    graph = _graph_of(tensor, element_shape)
    with graph.as_default():
        tensor = array_ops._tensor(tensor, "tensor", graph)
        shape_t = _build_element_shape(element_shape, graph)
        return _create(graph, "TensorListFromTensor", [tensor, shape_t], {}, name).outputs[0]


def tensor_list_push_back(input_handle, tensor, name=None):
    """`input_handle` with `tensor` appended (op ``TensorListPushBack``)."""
    graph = _graph_of(input_handle, tensor)
    with graph.as_default():
        tensor = array_ops._tensor(tensor, "tensor", graph, handle_data(input_handle)[0]
                                   if not isinstance(tensor, Tensor) else None)
        return _create(graph, "TensorListPushBack", [input_handle, tensor], {},
                       name).outputs[0]


def tensor_list_pop_back(input_handle, element_dtype, element_shape=None, name=None):
    """``(the list without its last element, that element)`` (op ``TensorListPopBack``).

    Args:
      input_handle: a list.
      element_dtype: the elements' dtype.
      element_shape: the shape of an unset last element, read as zeros (None: the list's).
      name: the op name.
    """
    graph = _graph_of(input_handle, element_shape)
    with graph.as_default():
        shape_t = _build_element_shape(element_shape, graph)
        op = _create(graph, "TensorListPopBack", [input_handle, shape_t],
                     {"element_dtype": dtypes.as_dtype(element_dtype)}, name)
        return op.outputs[0], op.outputs[1]


def tensor_list_get_item(input_handle, index, element_dtype, element_shape=None, name=None):
    """Element `index` of a list (op ``TensorListGetItem``); zeros for an unset one."""
    graph = _graph_of(input_handle, index, element_shape)
    with graph.as_default():
        shape_t = _build_element_shape(element_shape, graph)
        return _create(graph, "TensorListGetItem",
                       [input_handle, _int(index, "index", graph), shape_t],
                       {"element_dtype": dtypes.as_dtype(element_dtype)}, name).outputs[0]


def tensor_list_set_item(input_handle, index, item, resize_if_index_out_of_bounds=False,
                         name=None):
    """The list with element `index` replaced by `item` (op ``TensorListSetItem``).

    Args:
      input_handle: a list.
      index: an int32 scalar, below the list's length unless `resize_if_index_out_of_bounds`.
      item: the new element.
      resize_if_index_out_of_bounds: grow the list to hold `index`.
      name: the op name.
    """
    graph = _graph_of(input_handle, index, item)
    with graph.as_default():
        item = array_ops._tensor(item, "item", graph, handle_data(input_handle)[0]
                                 if not isinstance(item, Tensor) else None)
        return _create(graph, "TensorListSetItem",
                       [input_handle, _int(index, "index", graph), item],
                       {"resize_if_index_out_of_bounds": bool(resize_if_index_out_of_bounds)},
                       name).outputs[0]


def tensor_list_resize(input_handle, size, name=None):
    """The list truncated to `size` elements or extended with unset ones
    (op ``TensorListResize``)."""
    graph = _graph_of(input_handle, size)
    with graph.as_default():
        return _create(graph, "TensorListResize", [input_handle, _int(size, "size", graph)],
                       {}, name).outputs[0]


def tensor_list_length(input_handle, name=None):
    """The number of elements of a list, an int32 scalar (op ``TensorListLength``)."""
    graph = _graph_of(input_handle)
    with graph.as_default():
        return _create(graph, "TensorListLength", [input_handle], {}, name).outputs[0]


def tensor_list_element_shape(input_handle, shape_type=dtypes.int32, name=None):
    """The list's element shape: a vector with -1 for unknown dimensions, or -1 for an unknown
    rank (op ``TensorListElementShape``)."""
    graph = _graph_of(input_handle)
    with graph.as_default():
        return _create(graph, "TensorListElementShape", [input_handle],
                       {"shape_type": dtypes.as_dtype(shape_type)}, name).outputs[0]


def tensor_list_stack(input_handle, element_dtype, num_elements=-1, element_shape=None,
                      name=None):
    """The elements stacked along a new axis 0 (op ``TensorListStack``).

    Args:
      input_handle: a list.
      element_dtype: the elements' dtype.
      num_elements: the expected length (-1 or None: any), checked at run time.
      element_shape: the element shape, for unset elements and an empty list.
      name: the op name.
    """
    graph = _graph_of(input_handle, element_shape)
    with graph.as_default():
        shape_t = _build_element_shape(element_shape, graph)
        return _create(graph, "TensorListStack", [input_handle, shape_t],
                       {"element_dtype": dtypes.as_dtype(element_dtype),
                        "num_elements": -1 if num_elements is None else int(num_elements)},
                       name).outputs[0]


def tensor_list_gather(input_handle, indices, element_dtype, element_shape=None, name=None):
    """The elements at `indices` stacked (op ``TensorListGather``)."""
    graph = _graph_of(input_handle, indices, element_shape)
    with graph.as_default():
        shape_t = _build_element_shape(element_shape, graph)
        return _create(graph, "TensorListGather",
                       [input_handle, _int(indices, "indices", graph), shape_t],
                       {"element_dtype": dtypes.as_dtype(element_dtype)}, name).outputs[0]


def tensor_list_scatter(tensor, indices, element_shape=None, input_handle=None, name=None):
    """The rows of `tensor` at `indices` of a list.

    With `input_handle`, into that list (op ``TensorListScatterIntoExistingList``, growing it
    when an index is beyond its end); otherwise into a new list just long enough
    (``TensorListScatterV2``). A repeated index keeps its last row, as in TF.

    Args:
      tensor: a Tensor of rank >= 1.
      indices: an int32 vector, one index per row.
      element_shape: the new list's element shape (not with `input_handle`).
      input_handle: optional, the list to scatter into.
      name: the op name.
    """
    graph = _graph_of(tensor, indices, input_handle)
    with graph.as_default():
        tensor = array_ops._tensor(tensor, "tensor", graph)
        indices = _int(indices, "indices", graph)
        if input_handle is not None:
            return _create(graph, "TensorListScatterIntoExistingList",
                           [input_handle, tensor, indices], {}, name).outputs[0]
        if element_shape is None and tensor.shape.rank is not None:
            element_shape = tensor.shape[1:]
        shape_t = _build_element_shape(element_shape, graph)
        return _create(graph, "TensorListScatterV2",
                       [tensor, indices, shape_t, _int(-1, "num_elements", graph)], {},
                       name).outputs[0]


def tensor_list_concat(input_handle, element_dtype, element_shape=None, leading_dims=None,
                       name=None):
    """The elements concatenated along axis 0, and their lengths (op ``TensorListConcatV2``).

    Args:
      input_handle: a list of tensors of rank >= 1.
      element_dtype: the elements' dtype.
      element_shape: the element shape (its first dimension may be unknown).
      leading_dims: optional int64 vector: the first dimension of each unset element.
      name: the op name.

    Returns:
      ``(tensor, lengths)``: the concatenation and the int64 first dimension of each element.
    """
    graph = _graph_of(input_handle, element_shape, leading_dims)
    with graph.as_default():
        shape_t = _build_element_shape(element_shape, graph)
        if leading_dims is None:
            leading_dims = np.zeros([0], np.int64)
        leading_t = array_ops._tensor(leading_dims, "leading_dims", graph, dtypes.int64)
        op = _create(graph, "TensorListConcatV2", [input_handle, shape_t, leading_t],
                     {"element_dtype": dtypes.as_dtype(element_dtype)}, name)
        return op.outputs[0], op.outputs[1]


def tensor_list_split(tensor, element_shape, lengths, name=None):
    """A list of consecutive blocks of `tensor` along axis 0 (op ``TensorListSplit``).

    Args:
      tensor: a Tensor of rank >= 1.
      element_shape: the elements' shape (first dimension usually None).
      lengths: an int64 vector of block lengths summing to ``tensor.shape[0]``.
      name: the op name.
    """
    graph = _graph_of(tensor, element_shape, lengths)
    with graph.as_default():
        tensor = array_ops._tensor(tensor, "tensor", graph)
        shape_t = _build_element_shape(element_shape, graph)
        lengths_t = array_ops._tensor(lengths, "lengths", graph, dtypes.int64)
        return _create(graph, "TensorListSplit", [tensor, shape_t, lengths_t], {},
                       name).outputs[0]
