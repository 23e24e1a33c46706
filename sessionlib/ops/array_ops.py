"""Array ops: constants, placeholders, identity, and (below) shape manipulation and creation.

Each op is one `register_op` call (signature, inference, the name of its kernel) plus its public
wrapper. The kernel table binds the names to the kernels of the array family
(``kernels/array_kernels.py``); rules that inference and kernels share (range lengths,
strided-slice specs) are in ``framework/indexing.py``.
"""

# `range`, `slice` and `shape` are TF's public names in this module; builtins stay reachable.
import builtins as _builtins

import numpy as np

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework import indexing, registry
from sessionlib.framework.graph import Tensor as _Tensor
from sessionlib.framework.tensor_shape import TensorShape, as_shape
from sessionlib.ops import _infer, gradients

__all__ = [
    "constant", "placeholder", "placeholder_with_default", "identity",
    "zeros", "ones", "zeros_like", "ones_like", "fill", "range", "reshape", "transpose",
    "expand_dims", "squeeze", "concat", "stack", "unstack", "split", "slice", "gather", "tile",
    "shape", "size", "rank", "where", "clip_by_value", "newaxis", "strided_slice",
]


# ---- Const --------------------------------------------------------------------------------

def _const_infer(inputs, attrs):
    value = attrs["value"]
    # Constants are shared by every run: freeze them so no kernel or user can change them.
    value.setflags(write=False)
    return [(attrs["dtype"], TensorShape(value.shape))]


registry.register_op("Const", infer=_const_infer, kernel="Const", num_inputs=0,
                     doc="A constant tensor.",
                     gradient=registry.NOT_DIFFERENTIABLE)


def constant(value, dtype=None, shape=None, name="Const", verify_shape=False):
    """A constant tensor (``tf.constant``).

    Args:
      value: a Python scalar, nested list or numpy array.
      dtype: the element type; inferred from `value` when None (float32 for Python floats).
      shape: an optional shape; a single value fills it, otherwise `value` is reshaped.
      name: the op name.
      verify_shape: if True, `value`'s shape must equal `shape`.

    Returns:
      The Const op's output.

    Raises:
      TypeError: if `value` cannot be represented in `dtype`.
      ValueError: if `value` does not fit `shape`.
    """
    from sessionlib.framework import tensor_util

    array = tensor_util.to_numpy(value, dtype)
    if shape is not None:
        shape = [int(d) for d in as_shape(shape).as_list()]
        if verify_shape and list(array.shape) != shape:
            raise TypeError(f"Expected Tensor's shape: {tuple(shape)}, got {array.shape}.")
        count = int(np.prod(shape)) if shape else 1
        if array.size == count:
            array = array.reshape(shape)
        elif array.size == 1:
            array = np.full(shape, array.reshape(()), dtype=array.dtype)
        elif array.size < count and array.ndim <= 1:
            # TF pads a short list with its last element.
            flat = np.empty(count, dtype=array.dtype)
            flat[: array.size] = array.reshape(-1)
            flat[array.size:] = array.reshape(-1)[-1]
            array = flat.reshape(shape)
        else:
            raise ValueError(f"Too many elements provided. Needed at most {count}, but "
                             f"received {array.size}")
    if array is value:
        array = array.copy()  # the graph owns its constants; later user edits must not leak in
    tf_dtype = dtypes.as_dtype(dtype) if dtype is not None else (
        dtypes.string if array.dtype == object else dtypes.as_dtype(array.dtype))
    op = graph_lib.get_default_graph().create_op(
        "Const", [], {"value": array, "dtype": tf_dtype}, name=name)
    return op.outputs[0]


# ---- placeholders -------------------------------------------------------------------------

def _placeholder_infer(inputs, attrs):
    return [(attrs["dtype"], attrs["shape"])]


registry.register_op("Placeholder", infer=_placeholder_infer, kernel="Placeholder",
                     num_inputs=0, doc="A value that must be fed.",
                     gradient=registry.NOT_DIFFERENTIABLE)


def placeholder(dtype, shape=None, name=None):
    """A tensor whose value must be fed to `Session.run` (``tf.placeholder``).

    Args:
      dtype: the element type (a `DType` or a name such as ``'float'``).
      shape: the static shape; None allows any shape, and None entries any size.
      name: the op name.

    Returns:
      The Placeholder op's output.
    """
    dtype = dtypes.as_dtype(dtype)
    op = graph_lib.get_default_graph().create_op(
        "Placeholder", [], {"dtype": dtype, "shape": as_shape(shape)},
        name=name or "Placeholder")
    return op.outputs[0]


def _placeholder_with_default_infer(inputs, attrs):
    shape = attrs["shape"]
    if not inputs[0].shape.is_compatible_with(shape):
        raise ValueError(f"Shapes {inputs[0].shape} and {shape} are incompatible")
    return [(inputs[0].dtype, shape)]


# When not fed it is its input, so the gradient passes through, as TF's does.
registry.register_op("PlaceholderWithDefault", infer=_placeholder_with_default_infer,
                     kernel="Identity", num_inputs=1,
                     doc="Its input, unless a value is fed.",
                     gradient=gradients.pass_through_gradient)


def placeholder_with_default(input, shape, name=None):  # noqa: A002 - TF's argument name
    """A placeholder that passes `input` through when it is not fed.

    Args:
      input: the default value (a tensor or anything `constant` takes).
      shape: the static shape of the placeholder, which may be less specific than `input`'s.
      name: the op name.
    """
    tensor = graph_lib.convert_to_tensor(input)
    op = tensor.graph.create_op("PlaceholderWithDefault", [tensor],
                                {"dtype": tensor.dtype, "shape": as_shape(shape)},
                                name=name or "PlaceholderWithDefault")
    return op.outputs[0]


# ---- identity -----------------------------------------------------------------------------

def _identity_infer(inputs, attrs):
    attrs["T"] = inputs[0].dtype
    return [(inputs[0].dtype, inputs[0].shape)]


registry.register_op("Identity", infer=_identity_infer, kernel="Identity",
                     num_inputs=1, doc="Its input, unchanged.",
                     gradient=gradients.pass_through_gradient)


def identity(input, name=None):  # noqa: A002 - TF's argument name
    """A tensor with the same value as `input` (``tf.identity``)."""
    tensor = graph_lib.convert_to_tensor(input)
    return tensor.graph.create_op("Identity", [tensor], name=name or "Identity").outputs[0]


# =============================================================================================
# Shape manipulation and creation ops.
#
# Index-like inputs (shapes, axes, multiples, begin/size) are int32 or int64 tensors, as in TF;
# the infer functions fold them when they are known while the graph is built, so static shapes
# stay as specific as TF's. What only the run can reveal, the kernels (numpy) check and report
# as InvalidArgumentError.
# =============================================================================================

newaxis = None

_NUMERIC = dtypes.NUMERIC_DTYPES
_NUMERIC_AND_BOOL = dtypes.NUMERIC_DTYPES + (dtypes.bool,)
_INDEX = (dtypes.int32, dtypes.int64)


def _graph_of(*values):
    for value in values:
        if isinstance(value, _Tensor):
            return value.graph
        if isinstance(value, (list, tuple)):
            for item in value:
                if isinstance(item, _Tensor):
                    return item.graph
    return graph_lib.get_default_graph()


def _tensor(value, name, graph, dtype=None):
    """`value` as a Tensor (a Const named `name` for Python and numpy values)."""
    if isinstance(value, _Tensor):
        return value
    return graph_lib.convert_to_tensor(value, dtype=dtype, name=name, graph=graph)


def _index_tensor(value, name, graph):
    """`value` as an int32/int64 Tensor for a shape, axis or index input.

    Lists that contain Tensors are packed (TF's auto-packing), an empty list is int32, and a
    fully defined `TensorShape` becomes its dimensions.
    """
    if isinstance(value, _Tensor):
        return value
    if isinstance(value, TensorShape):
        if not value.is_fully_defined():
            raise ValueError(f"Cannot convert a partially known TensorShape {value} to a "
                             "Tensor")
        value = value.as_list()
    if isinstance(value, (list, tuple)):
        if not value:
            return graph_lib.convert_to_tensor(np.zeros(0, np.int32), name=name, graph=graph)
        if any(isinstance(item, _Tensor) for item in value):
            dtype = next((item.dtype for item in value if isinstance(item, _Tensor)), None)
            parts = [_tensor(item, f"{name}_{i}", graph, dtype) for i, item in
                     enumerate(value)]
            return stack(parts, name=name)
    tensor = graph_lib.convert_to_tensor(value, name=name, graph=graph)
    if tensor.dtype not in _INDEX:
        raise TypeError(f"Expected int32 or int64 for {name}, got {tensor.dtype.name}")
    return tensor


# ---- Shape, Size, Rank ------------------------------------------------------------------------

def _shape_infer(inputs, attrs):
    attrs["T"] = inputs[0].dtype
    out_type = attrs.setdefault("out_type", dtypes.int32)
    if out_type not in _INDEX:
        raise TypeError(f"out_type must be int32 or int64, got {out_type.name}")
    return [(out_type, TensorShape([inputs[0].shape.rank]))]


def _size_infer(inputs, attrs):
    attrs["T"] = inputs[0].dtype
    out_type = attrs.setdefault("out_type", dtypes.int32)
    if out_type not in _INDEX:
        raise TypeError(f"out_type must be int32 or int64, got {out_type.name}")
    return [(out_type, TensorShape([]))]


def _rank_infer(inputs, attrs):
    attrs["T"] = inputs[0].dtype
    return [(dtypes.int32, TensorShape([]))]


registry.register_op("Shape", infer=_shape_infer, kernel="Shape", num_inputs=1,
                     doc="The shape of a tensor, as a 1-D int tensor.",
                     gradient=registry.NOT_DIFFERENTIABLE)
registry.register_op("Size", infer=_size_infer, kernel="Size", num_inputs=1,
                     doc="The number of elements of a tensor.",
                     gradient=registry.NOT_DIFFERENTIABLE)
registry.register_op("Rank", infer=_rank_infer, kernel="Rank", num_inputs=1,
                     doc="The number of dimensions of a tensor.",
                     gradient=registry.NOT_DIFFERENTIABLE)


def shape(input, name=None, out_type=dtypes.int32):  # noqa: A002 - TF's argument name
    """The shape of `input` as a 1-D int tensor (op ``Shape``).

    A fully defined static shape gives a Const, as TF's graph-mode optimization does.

    Args:
      input: a Tensor or value.
      name: the op name.
      out_type: int32 (default) or int64.

    Returns:
      A 1-D Tensor of `out_type`.
    """
    out_type = dtypes.as_dtype(out_type)
    graph = _graph_of(input)
    tensor = _tensor(input, "input", graph)
    if tensor.shape.is_fully_defined():
        return constant(np.asarray(tensor.shape.as_list(), dtype=out_type.as_numpy_dtype),
                        dtype=out_type, name=name or "Shape")
    return graph.create_op("Shape", [tensor], {"out_type": out_type},
                           name=name or "Shape").outputs[0]


def size(input, name=None, out_type=dtypes.int32):  # noqa: A002 - TF's argument name
    """The number of elements of `input` (op ``Size``; a Const when statically known).

    Args:
      input: a Tensor or value.
      name: the op name.
      out_type: int32 (default) or int64.

    Returns:
      A scalar Tensor of `out_type`.
    """
    out_type = dtypes.as_dtype(out_type)
    graph = _graph_of(input)
    tensor = _tensor(input, "input", graph)
    if tensor.shape.is_fully_defined():
        return constant(np.asarray(tensor.shape.num_elements(), out_type.as_numpy_dtype),
                        dtype=out_type, name=name or "Size")
    return graph.create_op("Size", [tensor], {"out_type": out_type},
                           name=name or "Size").outputs[0]


def rank(input, name=None):  # noqa: A002 - TF's argument name
    """The number of dimensions of `input` (op ``Rank``; a Const when statically known).

    Returns:
      A scalar int32 Tensor.
    """
    graph = _graph_of(input)
    tensor = _tensor(input, "input", graph)
    if tensor.shape.rank is not None:
        return constant(np.asarray(tensor.shape.rank, np.int32), name=name or "Rank")
    return graph.create_op("Rank", [tensor], name=name or "Rank").outputs[0]


# ---- Reshape ----------------------------------------------------------------------------------

def _reshape_infer(inputs, attrs):
    tensor, shape_t = inputs
    _infer.check_index_dtype("Reshape", shape_t, "shape")
    attrs["T"] = tensor.dtype
    attrs["Tshape"] = shape_t.dtype
    wanted = _infer.folded_value(shape_t)
    if wanted is None:
        return [(tensor.dtype, _infer.shape_from_tensor(shape_t))]
    dims = indexing.to_ints(wanted)
    if wanted.ndim > 1:
        raise ValueError(f"Shape must be rank 1 but is rank {wanted.ndim} for 'Reshape'")
    unknown = [i for i, d in enumerate(dims) if d == -1]
    if len(unknown) > 1 or any(d < -1 for d in dims):
        raise ValueError(f"Only one input size may be -1, not both; bad shape {dims} for "
                         "'Reshape'")
    count = tensor.shape.num_elements()
    known_product = int(np.prod([d for d in dims if d != -1]))
    if unknown:
        if count is not None:
            if known_product == 0 or count % known_product:
                if not (known_product == 0 and count == 0):
                    raise ValueError(f"Cannot reshape a tensor with {count} elements to "
                                     f"shape {dims} for 'Reshape'")
                dims[unknown[0]] = None
            else:
                dims[unknown[0]] = count // known_product
        else:
            dims[unknown[0]] = None
    elif count is not None and count != known_product:
        raise ValueError(f"Cannot reshape a tensor with {count} elements to shape {dims} "
                         f"({known_product} elements) for 'Reshape'")
    return [(tensor.dtype, TensorShape(dims))]


def _reshape_grad(op, grad):
    # Reshape, ExpandDims and Squeeze only move values: the gradient takes the input's shape.
    return [reshape(grad, _known_shape(op.inputs[0]))] + [None] * (len(op.inputs) - 1)


def _known_shape(tensor):
    """`tensor`'s shape for a Reshape: a list when at most one dimension is unknown."""
    if tensor.shape.rank is not None:
        dims = tensor.shape.as_list()
        if sum(d is None for d in dims) <= 1:
            return [-1 if d is None else d for d in dims]
    return shape(tensor)


registry.register_op("Reshape", infer=_reshape_infer, kernel="Reshape", num_inputs=2,
                     doc="The same values in another shape.", gradient=_reshape_grad)


def reshape(tensor, shape, name=None):  # noqa: F811 - `shape` is TF's argument name
    """`tensor`'s values, in row-major order, with shape `shape` (op ``Reshape``).

    Args:
      tensor: a Tensor or value.
      shape: a 1-D int Tensor or list; one entry may be -1 to be inferred.
      name: the op name.

    Returns:
      A Tensor with `tensor`'s dtype.

    Raises:
      ValueError: if the element counts differ statically.
    """
    graph = _graph_of(tensor, shape)
    with graph.as_default(), graph.name_scope(name or "Reshape") as scope:
        value = _tensor(tensor, "tensor", graph)
        shape_t = _index_tensor(shape, "shape", graph)
        return graph.create_op("Reshape", [value, shape_t], name=scope).outputs[0]


# ---- Transpose --------------------------------------------------------------------------------

def _transpose_infer(inputs, attrs):
    value, perm_t = inputs
    _infer.check_index_dtype("Transpose", perm_t, "perm")
    attrs["T"] = value.dtype
    attrs["Tperm"] = perm_t.dtype
    perm = _infer.folded_value(perm_t)
    in_shape = value.shape
    if perm is None:
        if in_shape.rank is not None:
            return [(value.dtype, TensorShape([None] * in_shape.rank))]
        if perm_t.shape.rank == 1 and perm_t.shape[0] is not None:
            return [(value.dtype, TensorShape([None] * perm_t.shape[0]))]
        return [(value.dtype, TensorShape(None))]
    perm = indexing.to_ints(perm)
    if in_shape.rank is not None and len(perm) != in_shape.rank:
        raise ValueError(f"Dimension must be {in_shape.rank} but is {len(perm)} for "
                         f"'Transpose' with input shapes: {in_shape}, [{len(perm)}].")
    if sorted(p % len(perm) if -len(perm) <= p < len(perm) else -1 for p in perm) != list(
            _builtins.range(len(perm))):
        raise ValueError(f"{perm} is not a valid permutation for 'Transpose'")
    if in_shape.rank is None:
        return [(value.dtype, TensorShape([None] * len(perm)))]
    dims = in_shape.as_list()
    return [(value.dtype, TensorShape([dims[p] for p in perm]))]


def _transpose_grad(op, grad):
    perm = _infer.folded_value(op.inputs[1])
    if perm is not None:
        entries = indexing.to_ints(perm)
        inverse = np.argsort([p % len(entries) for p in entries]).astype(np.int32)
        return [transpose(grad, inverse), None]
    return [transpose(grad, invert_permutation(op.inputs[1])), None]


registry.register_op("Transpose", infer=_transpose_infer, kernel="Transpose",
                     num_inputs=2, doc="Permutes dimensions.", gradient=_transpose_grad)


def transpose(a, perm=None, name="transpose", conjugate=False):
    """Permutes the dimensions of `a` (op ``Transpose``).

    Args:
      a: a Tensor or value.
      perm: the permutation; None reverses the dimensions.
      name: the op name.
      conjugate: accepted for TF compatibility (no complex types here).

    Returns:
      The transposed Tensor.

    Raises:
      ValueError: if `perm` is not a permutation of the static rank.
    """
    graph = _graph_of(a, perm)
    with graph.as_default(), graph.name_scope(name or "transpose") as scope:
        value = _tensor(a, "a", graph)
        if perm is None:
            if value.shape.rank is not None:
                perm_t = constant(np.arange(value.shape.rank - 1, -1, -1, dtype=np.int32),
                                  name="perm")
            else:
                rank_t = rank(value)
                perm_t = range(rank_t - 1, -1, -1, name="perm")
        else:
            perm_t = _index_tensor(perm, "perm", graph)
        return graph.create_op("Transpose", [value, perm_t], name=scope).outputs[0]


# ---- ExpandDims, Squeeze ----------------------------------------------------------------------

def _expand_dims_infer(inputs, attrs):
    value, dim_t = inputs
    _infer.check_index_dtype("ExpandDims", dim_t, "dim")
    attrs["T"] = value.dtype
    attrs["Tdim"] = dim_t.dtype
    dim = _infer.folded_value(dim_t)
    if value.shape.rank is None:
        return [(value.dtype, TensorShape(None))]
    if dim is None:
        return [(value.dtype, TensorShape([None] * (value.shape.rank + 1)))]
    if dim.size != 1:
        raise ValueError(f"'dim' must be a tensor with a single value for 'ExpandDims', got "
                         f"{dim.size} values")
    axis = int(dim.reshape(-1)[0])
    rank_out = value.shape.rank + 1
    if not -rank_out <= axis < rank_out:
        raise ValueError(f"Tried to expand dim index {axis} for tensor with "
                         f"{value.shape.rank} dimensions. for 'ExpandDims'")
    dims = value.shape.as_list()
    dims.insert(axis % rank_out, 1)
    return [(value.dtype, TensorShape(dims))]


registry.register_op("ExpandDims", infer=_expand_dims_infer, kernel="ExpandDims",
                     num_inputs=2, doc="Inserts a dimension of length 1.",
                     gradient=_reshape_grad)


def expand_dims(input, axis=None, name=None, dim=None):  # noqa: A002 - TF's argument name
    """Inserts a dimension of length 1 at `axis` (op ``ExpandDims``).

    Args:
      input: a Tensor or value.
      axis: the index of the new dimension, in ``[-rank - 1, rank]``.
      name: the op name.
      dim: TF 1's spelling of `axis`.

    Returns:
      A Tensor with one more dimension.

    Raises:
      ValueError: if neither or both of `axis` and `dim` are given, or `axis` is out of range.
    """
    if axis is None and dim is None:
        raise ValueError("Must specify an axis argument to tf.expand_dims()")
    if axis is not None and dim is not None:
        raise ValueError("Cannot specify both 'axis' and 'dim'.")
    axis = dim if axis is None else axis
    graph = _graph_of(input, axis)
    with graph.as_default(), graph.name_scope(name or "ExpandDims") as scope:
        value = _tensor(input, "input", graph)
        dim_t = _index_tensor(axis, "dim", graph)
        return graph.create_op("ExpandDims", [value, dim_t], name=scope).outputs[0]


def _squeeze_infer(inputs, attrs):
    value = inputs[0]
    attrs["T"] = value.dtype
    squeeze_dims = [int(d) for d in attrs.setdefault("squeeze_dims", [])]
    if value.shape.rank is None:
        return [(value.dtype, TensorShape(None))]
    dims = value.shape.as_list()
    rank_in = len(dims)
    wanted = set()
    for axis in squeeze_dims:
        if not -rank_in <= axis < rank_in:
            raise ValueError(f"Tried to squeeze dim index {axis} for tensor with {rank_in} "
                             "dimensions. for 'Squeeze'")
        axis %= rank_in
        if dims[axis] is not None and dims[axis] != 1:
            raise ValueError(f"Can not squeeze dim[{axis}], expected a dimension of 1, got "
                             f"{dims[axis]} for 'Squeeze' with input shapes: {value.shape}.")
        wanted.add(axis)
    if not wanted:
        if any(d is None for d in dims):
            return [(value.dtype, TensorShape(None))]
        return [(value.dtype, TensorShape([d for d in dims if d != 1]))]
    return [(value.dtype, TensorShape([d for i, d in enumerate(dims) if i not in wanted]))]


registry.register_op("Squeeze", infer=_squeeze_infer, kernel="Squeeze", num_inputs=1,
                     doc="Removes dimensions of length 1.", gradient=_reshape_grad)


def squeeze(input, axis=None, name=None, squeeze_dims=None):  # noqa: A002
    """Removes dimensions of length 1 (op ``Squeeze``).

    Args:
      input: a Tensor or value.
      axis: an int or list of ints: the dimensions to remove (each must have length 1);
        None removes every dimension of length 1.
      name: the op name.
      squeeze_dims: TF 1's spelling of `axis`.

    Returns:
      The squeezed Tensor.

    Raises:
      ValueError: if a listed dimension is statically not 1, or both spellings are given.
    """
    if axis is not None and squeeze_dims is not None:
        raise ValueError("Cannot specify both 'axis' and 'squeeze_dims'.")
    axis = squeeze_dims if axis is None else axis
    if axis is None:
        axis = []
    elif np.ndim(axis) == 0:
        axis = [int(axis)]
    else:
        axis = [int(a) for a in axis]
    graph = _graph_of(input)
    value = _tensor(input, "input", graph)
    return graph.create_op("Squeeze", [value], {"squeeze_dims": axis},
                           name=name or "Squeeze").outputs[0]


# ---- ConcatV2, Pack, Unpack -------------------------------------------------------------------

def _concat_infer(inputs, attrs):
    values, axis_t = inputs[:-1], inputs[-1]
    if not values:
        raise ValueError("ConcatV2 needs at least one value")
    dtype = _infer.same_dtype("ConcatV2", values, names=[f"values[{i}]"
                                                         for i in _builtins.range(len(values))])
    _infer.check_index_dtype("ConcatV2", axis_t, "axis")
    attrs["N"] = len(values)
    attrs["T"] = dtype
    attrs["Tidx"] = axis_t.dtype
    known = [v.shape for v in values if v.shape.rank is not None]
    if not known:
        return [(dtype, TensorShape(None))]
    rank_out = known[0].rank
    for shape_in in known:
        if shape_in.rank != rank_out:
            raise ValueError(f"Shape must be rank {rank_out} but is rank {shape_in.rank} for "
                             "'ConcatV2'")
    axis = _infer.folded_value(axis_t)
    if axis is None:
        return [(dtype, TensorShape([None] * rank_out))]
    axis = int(axis)
    if not -rank_out <= axis < rank_out:
        raise ValueError(f"ConcatOp : Expected concatenating dimensions in the range "
                         f"[{-rank_out}, {rank_out}), but got {axis}")
    axis %= rank_out
    dims = [None] * rank_out
    total = 0
    for shape_in in (v.shape for v in values):
        if shape_in.rank is None:
            total = None
            continue
        for i, d in enumerate(shape_in.as_list()):
            if i == axis:
                continue
            if d is not None and dims[i] is not None and d != dims[i]:
                raise ValueError(f"Dimension {i} in both shapes must be equal, but are "
                                 f"{dims[i]} and {d}. for 'ConcatV2' with input shapes: "
                                 f"{', '.join(str(v.shape) for v in values)}")
            dims[i] = dims[i] if d is None else d
        if total is not None:
            total = None if shape_in[axis] is None else total + shape_in[axis]
    dims[axis] = total
    return [(dtype, TensorShape(dims))]


def _concat_grad(op, grad):
    # The gradient is split along the axis into pieces of the inputs' sizes.
    values, axis_t = op.inputs[:-1], op.inputs[-1]
    axis = _infer.folded_value(axis_t)
    rank = values[0].shape.rank
    if axis is not None and rank is not None:
        axis = int(axis) % rank
        known = [v.shape[axis] for v in values]
        if all(d is not None for d in known):
            sizes = constant(np.asarray(known, dtype=np.int32))
        else:
            sizes = stack([shape(v)[axis] for v in values])
        axis_value = constant(np.int32(axis))
    else:
        axis_value = _normalized_axis(axis_t, values[0])
        sizes = stack([gather(shape(v, out_type=axis_t.dtype), axis_value) for v in values])
    pieces = graph_lib.get_default_graph().create_op(
        "SplitV", [grad, sizes, axis_value], {"num_split": len(values)}).outputs
    return list(pieces) + [None]


def _normalized_axis(axis_t, value):
    """`axis_t` (possibly negative) as an index in ``[0, rank(value))``, built as ops."""
    from sessionlib.ops import math_ops

    rank_t = math_ops.cast(rank(value), axis_t.dtype)
    return math_ops.mod(math_ops.add(axis_t, rank_t), rank_t)


registry.register_op("ConcatV2", infer=_concat_infer, kernel="ConcatV2",
                     doc="Joins tensors along an existing dimension.",
                     gradient=_concat_grad)


def concat(values, axis, name="concat"):
    """Joins `values` along dimension `axis` (op ``ConcatV2``).

    Args:
      values: a list of Tensors (or values) of one dtype and rank.
      axis: the dimension to join along (negative counts from the end).
      name: the op name.

    Returns:
      The joined Tensor; with a single value, an Identity of it, as in TF.

    Raises:
      ValueError: for statically mismatched shapes or an axis outside the rank.
    """
    if not isinstance(values, (list, tuple)):
        values = [values]
    graph = _graph_of(values, axis)
    if len(values) == 1:
        with graph.as_default(), graph.name_scope(name or "concat") as scope:
            _index_tensor(axis, "concat_dim", graph)
            value = _tensor(values[0], "values_0", graph)
            return graph.create_op("Identity", [value], name=scope).outputs[0]
    with graph.as_default(), graph.name_scope(name or "concat") as scope:
        dtype = next((v.dtype for v in values if isinstance(v, _Tensor)), None)
        tensors = [_tensor(v, f"values_{i}", graph, dtype) for i, v in enumerate(values)]
        axis_t = _index_tensor(axis, "axis", graph)
        return graph.create_op("ConcatV2", tensors + [axis_t], name=scope).outputs[0]


def _pack_infer(inputs, attrs):
    if not inputs:
        raise ValueError("Pack needs at least one value")
    dtype = _infer.same_dtype("Pack", inputs, names=[f"values[{i}]"
                                                     for i in _builtins.range(len(inputs))])
    attrs["N"] = len(inputs)
    attrs["T"] = dtype
    axis = int(attrs.setdefault("axis", 0))
    merged = TensorShape(None)
    for tensor in inputs:
        if not merged.is_compatible_with(tensor.shape):
            raise ValueError(f"Shapes {merged} and {tensor.shape} are incompatible for 'Pack'")
        merged = merged.merge_with(tensor.shape)
    if merged.rank is None:
        return [(dtype, TensorShape(None))]
    rank_out = merged.rank + 1
    if not -rank_out <= axis < rank_out:
        raise ValueError(f"Invalid axis: {axis}; must be in [{-rank_out}, {rank_out}) for "
                         "'Pack'")
    dims = merged.as_list()
    dims.insert(axis % rank_out, len(inputs))
    return [(dtype, TensorShape(dims))]


def _pack_grad(op, grad):
    return unstack(grad, num=len(op.inputs), axis=op.get_attr("axis"))


registry.register_op("Pack", infer=_pack_infer, kernel="Pack",
                     doc="Stacks tensors along a new dimension.",
                     gradient=_pack_grad)


def stack(values, axis=0, name="stack"):
    """Stacks same-shape tensors along a new dimension `axis` (op ``Pack``).

    Args:
      values: a list of Tensors (or values) of one dtype and shape.
      axis: where the new dimension goes, in ``[-(rank + 1), rank + 1)``.
      name: the op name.

    Returns:
      A Tensor with one more dimension.

    Raises:
      ValueError: for statically mismatched shapes or an axis out of range.
    """
    if not isinstance(values, (list, tuple)):
        raise TypeError("stack expects a list of tensors")
    graph = _graph_of(values)
    with graph.as_default(), graph.name_scope(name or "stack") as scope:
        dtype = next((v.dtype for v in values if isinstance(v, _Tensor)), None)
        tensors = [_tensor(v, f"values_{i}", graph, dtype) for i, v in enumerate(values)]
        return graph.create_op("Pack", tensors, {"axis": int(axis)}, name=scope).outputs[0]


def _unpack_infer(inputs, attrs):
    value = inputs[0]
    attrs["T"] = value.dtype
    num = int(attrs["num"])
    axis = int(attrs.setdefault("axis", 0))
    if value.shape.rank is None:
        return [(value.dtype, TensorShape(None))] * num
    rank_in = value.shape.rank
    if not -rank_in <= axis < rank_in:
        raise ValueError(f"axis = {axis} not in [{-rank_in}, {rank_in}) for 'Unpack'")
    dims = value.shape.as_list()
    along = dims.pop(axis % rank_in)
    if along is not None and along != num:
        raise ValueError(f"Dimension must be {num} but is {along} for 'Unpack'")
    return [(value.dtype, TensorShape(dims))] * num


def _unpack_grad(op, *grads):
    return [stack(list(grads), axis=op.get_attr("axis"))]


registry.register_op("Unpack", infer=_unpack_infer, kernel="Unpack", num_inputs=1,
                     doc="Splits a tensor into its slices along a dimension.",
                     gradient=_unpack_grad)


def unstack(value, num=None, axis=0, name="unstack"):
    """Splits `value` into its `num` slices along `axis` (op ``Unpack``).

    Args:
      value: a Tensor of rank >= 1.
      num: the length of dimension `axis`; inferred from the static shape when None.
      axis: the dimension to unstack along.
      name: the op name.

    Returns:
      A list of `num` Tensors.

    Raises:
      ValueError: if `num` is None and the dimension is not statically known.
    """
    graph = _graph_of(value)
    tensor = _tensor(value, "value", graph)
    if num is None:
        if tensor.shape.rank is None:
            raise ValueError(f"Cannot infer argument `num` from shape {tensor.shape}")
        if not -tensor.shape.rank <= axis < tensor.shape.rank:
            raise ValueError(f"axis = {axis} not in [{-tensor.shape.rank}, "
                             f"{tensor.shape.rank})")
        num = tensor.shape[axis]
        if num is None:
            raise ValueError(f"Cannot infer argument `num` from shape {tensor.shape}")
    return graph.create_op("Unpack", [tensor], {"num": int(num), "axis": int(axis)},
                           name=name or "unstack").outputs


# ---- Split, SplitV ----------------------------------------------------------------------------

def _split_infer(inputs, attrs):
    axis_t, value = inputs
    _infer.check_index_dtype("Split", axis_t, "split_dim")
    attrs["T"] = value.dtype
    num = int(attrs["num_split"])
    axis = _infer.folded_value(axis_t)
    if value.shape.rank is None:
        return [(value.dtype, TensorShape(None))] * num
    dims = value.shape.as_list()
    if axis is None:
        return [(value.dtype, TensorShape([None] * len(dims)))] * num
    axis = int(axis)
    if not -len(dims) <= axis < len(dims):
        raise ValueError(f"Dimension {axis} must be in range [{-len(dims)}, {len(dims)}) for"
                         " 'Split'")
    axis %= len(dims)
    if dims[axis] is not None:
        if num <= 0 or dims[axis] % num:
            raise ValueError(f"Dimension size must be evenly divisible by {num} but is "
                             f"{dims[axis]} for 'Split' with input shapes: {value.shape}")
        dims[axis] //= num
    return [(value.dtype, TensorShape(dims))] * num


def _split_grad(op, *grads):
    return [None, concat(list(grads), op.inputs[0])]


registry.register_op("Split", infer=_split_infer, kernel="Split", num_inputs=2,
                     doc="Splits a tensor into equal parts.",
                     gradient=_split_grad)


def _split_v_infer(inputs, attrs):
    value, sizes_t, axis_t = inputs
    _infer.check_index_dtype("SplitV", sizes_t, "size_splits")
    _infer.check_index_dtype("SplitV", axis_t, "split_dim")
    attrs["T"] = value.dtype
    attrs["Tlen"] = sizes_t.dtype
    num = int(attrs["num_split"])
    if value.shape.rank is None:
        return [(value.dtype, TensorShape(None))] * num
    dims = value.shape.as_list()
    axis = _infer.folded_value(axis_t)
    sizes = _infer.folded_value(sizes_t)
    if axis is None:
        return [(value.dtype, TensorShape([None] * len(dims)))] * num
    axis = int(axis)
    if not -len(dims) <= axis < len(dims):
        raise ValueError(f"Dimension {axis} must be in range [{-len(dims)}, {len(dims)}) for"
                         " 'SplitV'")
    axis %= len(dims)
    if sizes is None:
        parts = [None] * num
    else:
        parts = indexing.to_ints(sizes)
        if len(parts) != num:
            raise ValueError(f"size_splits has {len(parts)} entries but num_split is {num}")
        unknown = [i for i, s in enumerate(parts) if s == -1]
        if len(unknown) > 1:
            raise ValueError("Only one dimensions can have a value of -1 in size_splits")
        known_total = sum(s for s in parts if s != -1)
        if dims[axis] is not None:
            if unknown:
                if known_total > dims[axis]:
                    raise ValueError(f"The specified sizes {parts} exceed dimension "
                                     f"{dims[axis]} for 'SplitV'")
                parts[unknown[0]] = dims[axis] - known_total
            elif known_total != dims[axis]:
                raise ValueError(f"Determined shape must either match input shape along "
                                 f"split_dim exactly if fully specified, or be less than the "
                                 f"size of the input along split_dim if not fully specified. "
                                 f"Got: {known_total} vs. {dims[axis]} for 'SplitV'")
        elif unknown:
            parts[unknown[0]] = None
    outputs = []
    for part in parts:
        out_dims = list(dims)
        out_dims[axis] = part
        outputs.append((value.dtype, TensorShape(out_dims)))
    return outputs


def _split_v_grad(op, *grads):
    return [concat(list(grads), op.inputs[2]), None, None]


registry.register_op("SplitV", infer=_split_v_infer, kernel="SplitV", num_inputs=3,
                     doc="Splits a tensor into parts of given sizes.",
                     gradient=_split_v_grad)


def split(value, num_or_size_splits, axis=0, num=None, name="split"):
    """Splits `value` along `axis` (ops ``Split`` or ``SplitV``).

    Args:
      value: the Tensor to split.
      num_or_size_splits: an int (that many equal parts, op ``Split``) or a list / 1-D
        Tensor of part sizes, one of which may be -1 (op ``SplitV``).
      axis: the dimension to split.
      num: the number of parts when `num_or_size_splits` is a Tensor of unknown length.
      name: the op name.

    Returns:
      A list of Tensors.

    Raises:
      ValueError: if the split is statically impossible or the number of parts is unknown.
    """
    graph = _graph_of(value, num_or_size_splits, axis)
    is_count = (not isinstance(num_or_size_splits, _Tensor)
                and np.ndim(num_or_size_splits) == 0)
    with graph.as_default(), graph.name_scope(name or "split") as scope:
        tensor = _tensor(value, "value", graph)
        if is_count:
            axis_t = _index_tensor(axis, "split_dim", graph)
            return graph.create_op("Split", [axis_t, tensor],
                                   {"num_split": int(num_or_size_splits)},
                                   name=scope).outputs
        sizes_t = _index_tensor(num_or_size_splits, "size_splits", graph)
        if num is None:
            if sizes_t.shape.rank != 1 or sizes_t.shape[0] is None:
                raise ValueError(f"Cannot infer argument `num` from shape {sizes_t.shape}")
            num = sizes_t.shape[0]
        axis_t = _index_tensor(axis, "split_dim", graph)
        return graph.create_op("SplitV", [tensor, sizes_t, axis_t], {"num_split": int(num)},
                               name=scope).outputs


# ---- Slice ------------------------------------------------------------------------------------

def _slice_infer(inputs, attrs):
    value, begin_t, size_t = inputs
    _infer.check_index_dtype("Slice", begin_t, "begin")
    _infer.check_index_dtype("Slice", size_t, "size")
    if begin_t.dtype is not size_t.dtype:
        raise TypeError(f"Input 'size' of 'Slice' Op has type {size_t.dtype.name} that does "
                        f"not match type {begin_t.dtype.name} of argument 'begin'.")
    attrs["T"] = value.dtype
    attrs["Index"] = begin_t.dtype
    begin = _infer.folded_value(begin_t)
    sizes = _infer.folded_value(size_t)
    rank_in = value.shape.rank
    for vector in (begin, sizes):
        if vector is not None:
            if rank_in is not None and vector.size != rank_in:
                raise ValueError(f"Shape must be rank {rank_in} but is rank {vector.size} "
                                 f"for 'Slice' with input shapes: {value.shape}")
            rank_in = vector.size
    if rank_in is None:
        return [(value.dtype, TensorShape(None))]
    if sizes is None:
        return [(value.dtype, TensorShape([None] * rank_in))]
    dims = value.shape.as_list() if value.shape.rank is not None else [None] * rank_in
    out = []
    for i, wanted in enumerate(indexing.to_ints(sizes)):
        start = None if begin is None else indexing.to_ints(begin)[i]
        if start is not None and (start < 0 or (dims[i] is not None and start > dims[i])):
            raise ValueError(f"Expected begin[{i}] in [0, {dims[i]}], but got {start} for "
                             "'Slice'")
        if wanted == -1:
            out.append(None if start is None or dims[i] is None else dims[i] - start)
        else:
            if wanted < -1:
                raise ValueError(f"Expected size[{i}] in [-1, ...], but got {wanted}")
            if start is not None and dims[i] is not None and start + wanted > dims[i]:
                raise ValueError(f"Expected size[{i}] in [0, {dims[i] - start}], but got "
                                 f"{wanted} for 'Slice'")
            out.append(wanted)
    return [(value.dtype, TensorShape(out))]


def _slice_grad(op, grad):
    # The gradient lands in zeros of the input's shape at the slice (StridedSliceGrad).
    from sessionlib.ops import math_ops

    value, begin_t, size_t = op.inputs
    input_shape = shape(value, out_type=begin_t.dtype)
    sizes = _infer.folded_value(size_t)
    if sizes is not None and all(int(n) >= 0 for n in sizes.reshape(-1)):
        end = math_ops.add(begin_t, size_t)
    else:
        # size -1 means "to the end of the dimension".
        end = where(math_ops.equal(size_t, constant(np.asarray(-1, size_t.dtype.as_numpy_dtype))),
                    input_shape, math_ops.add(begin_t, size_t))
    strides = ones_like(begin_t, optimize=False)
    return [_strided_slice_grad(input_shape, begin_t, end, strides, grad, {}), None, None]


registry.register_op("Slice", infer=_slice_infer, kernel="Slice", num_inputs=3,
                     doc="A contiguous block of a tensor.",
                     gradient=_slice_grad)


def slice(input_, begin, size, name=None):  # noqa: A001 - TF's public name
    """The block of `input_` at `begin` of extent `size` (op ``Slice``).

    Args:
      input_: a Tensor or value.
      begin: the start index in each dimension.
      size: the extent in each dimension; -1 takes everything to the end.
      name: the op name.

    Returns:
      A Tensor of `input_`'s dtype.

    Raises:
      ValueError: if the block is statically out of bounds.
    """
    graph = _graph_of(input_, begin, size)
    with graph.as_default(), graph.name_scope(name or "Slice") as scope:
        value = _tensor(input_, "input", graph)
        begin_t = _index_tensor(begin, "begin", graph)
        size_t = _index_tensor(size, "size", graph)
        return graph.create_op("Slice", [value, begin_t, size_t], name=scope).outputs[0]


# ---- StridedSlice (Tensor.__getitem__) --------------------------------------------------------

# Marks a begin/end/stride entry whose value is not known while the graph is built.
_UNKNOWN = object()


def _known_entries(vector, count):
    """The entries of a 1-D int tensor, with `_UNKNOWN` where not known at graph time.

    A ``Pack`` of scalars (``t[i, 1:]`` with a Tensor `i`) is folded entry by entry.
    """
    folded = _infer.folded_value(vector)
    if folded is not None:
        return indexing.to_ints(folded)
    if vector.op.type == "Pack" and len(vector.op.inputs) == count:
        entries = []
        for part in vector.op.inputs:
            value = _infer.folded_value(part)
            entries.append(_UNKNOWN if value is None else int(value))
        return entries
    return [_UNKNOWN] * count


def _strided_slice_infer(inputs, attrs):
    value, begin_t, end_t, strides_t = inputs
    for tensor, arg in ((begin_t, "begin"), (end_t, "end"), (strides_t, "strides")):
        _infer.check_index_dtype("StridedSlice", tensor, arg)
    attrs["T"] = value.dtype
    attrs["Index"] = begin_t.dtype
    for mask in indexing.STRIDED_SLICE_MASKS:
        attrs.setdefault(mask, 0)
    if strides_t.shape.rank != 1 or strides_t.shape[0] is None or value.shape.rank is None:
        return [(value.dtype, TensorShape(None))]
    count = strides_t.shape[0]
    known = [_known_entries(tensor, count) for tensor in (begin_t, end_t, strides_t)]
    entries = list(indexing.strided_slice_entries(*known, attrs))
    dims_in = value.shape.as_list()
    consumed = sum(1 for kind, *_ in entries if kind in ("index", "slice"))
    has_ellipsis = any(kind == "ellipsis" for kind, *_ in entries)
    if consumed > len(dims_in):
        raise ValueError(f"Index out of range using input dim {len(dims_in)}; input has only "
                         f"{len(dims_in)} dims for 'StridedSlice' with input shapes: "
                         f"{value.shape}")
    dims_out, position, seen_ellipsis = [], 0, False
    for kind, start, stop, stride in entries:
        if kind == "ellipsis":
            if seen_ellipsis:
                continue
            seen_ellipsis = True
            cover = len(dims_in) - consumed
            dims_out.extend(dims_in[position:position + cover])
            position += cover
        elif kind == "newaxis":
            dims_out.append(1)
        elif kind == "index":
            dim = dims_in[position]
            if start is not _UNKNOWN and dim is not None and not -dim <= start < dim:
                raise ValueError(f"slice index {start} of dimension {position} out of bounds."
                                 f" for 'StridedSlice' with input shapes: {value.shape}")
            position += 1
        else:
            dim = dims_in[position]
            if stride is not _UNKNOWN and stride == 0:
                raise ValueError("strides[i] must be non-zero for 'StridedSlice'")
            if dim is None or _UNKNOWN in (start, stop, stride):
                dims_out.append(None)
            else:
                dims_out.append(len(_builtins.range(dim)[_builtins.slice(start, stop,
                                                                          stride)]))
            position += 1
    if not has_ellipsis:
        dims_out.extend(dims_in[position:])
    return [(value.dtype, TensorShape(dims_out))]


def _strided_slice_grad(input_shape, begin, end, strides, grad, masks):
    attrs = {mask: int(masks.get(mask, 0)) for mask in indexing.STRIDED_SLICE_MASKS}
    return grad.graph.create_op("StridedSliceGrad", [input_shape, begin, end, strides, grad],
                                attrs).outputs[0]


def _strided_slice_op_grad(op, grad):
    value, begin, end, strides = op.inputs
    masks = {mask: op.get_attr(mask) for mask in indexing.STRIDED_SLICE_MASKS}
    input_shape = _known_shape_vector(value, begin.dtype)
    return [_strided_slice_grad(input_shape, begin, end, strides, grad, masks), None, None,
            None]


def _known_shape_vector(value, dtype):
    if value.shape.is_fully_defined():
        return constant(np.asarray(value.shape.as_list(), dtype=dtype.as_numpy_dtype))
    return shape(value, out_type=dtype)


# The shape function, also for ops that end in a strided slice (list_ops' stacked-list slice):
# it reads only the dtype and static shape of the sliced value.
strided_slice_infer = _strided_slice_infer

registry.register_op("StridedSlice", infer=_strided_slice_infer,
                     kernel="StridedSlice", num_inputs=4,
                     doc="Basic Python slicing: t[1:3], t[0], t[..., ::-1].",
                     gradient=_strided_slice_op_grad)


def strided_slice(input_, begin, end, strides=None, begin_mask=0, end_mask=0, ellipsis_mask=0,
                  new_axis_mask=0, shrink_axis_mask=0, name=None):
    """A strided slice of `input_` (op ``StridedSlice``); ``t[...]`` builds these.

    Args:
      input_: a Tensor or value.
      begin, end, strides: 1-D int vectors of one length (strides default to 1).
      begin_mask, end_mask, ellipsis_mask, new_axis_mask, shrink_axis_mask: bit masks with
        TF's meaning: bit i ignores begin[i] / end[i], makes entry i an ellipsis, a new axis,
        or an integer index that removes its dimension.
      name: the op name.

    Returns:
      The sliced Tensor.

    Raises:
      ValueError: for a statically out-of-range index.
    """
    graph = _graph_of(input_, begin, end, strides)
    with graph.as_default(), graph.name_scope(name or "strided_slice") as scope:
        value = _tensor(input_, "input", graph)
        begin_t = _index_tensor(begin, "begin", graph)
        end_t = _index_tensor(end, "end", graph)
        if strides is None:
            strides = [1] * (begin_t.shape[0] if begin_t.shape.rank == 1 else len(begin))
        strides_t = _index_tensor(strides, "strides", graph)
        attrs = {"begin_mask": int(begin_mask), "end_mask": int(end_mask),
                 "ellipsis_mask": int(ellipsis_mask), "new_axis_mask": int(new_axis_mask),
                 "shrink_axis_mask": int(shrink_axis_mask)}
        return graph.create_op("StridedSlice", [value, begin_t, end_t, strides_t], attrs,
                               name=scope).outputs[0]


def _check_index(value):
    """`value` as a slice bound: a Python int or a scalar int Tensor (None passes)."""
    if value is None or isinstance(value, _Tensor):
        if isinstance(value, _Tensor) and (value.dtype not in _INDEX or value.shape.rank
                                           not in (0, None)):
            raise TypeError("Only integers, slices (`:`), ellipsis (`...`), tf.newaxis "
                            "(`None`) and scalar tf.int32/tf.int64 tensors are valid indices, "
                            f"got {value!r}")
        return value
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError("Only integers, slices (`:`), ellipsis (`...`), tf.newaxis (`None`) "
                        "and scalar tf.int32/tf.int64 tensors are valid indices, got "
                        f"{value!r}")
    return int(value)


def _slice_helper(tensor, slice_spec):
    """``Tensor.__getitem__``: basic slicing, built as one StridedSlice like TF's."""
    if not isinstance(slice_spec, tuple):
        slice_spec = (slice_spec,)
    begin, end, strides = [], [], []
    masks = dict.fromkeys(indexing.STRIDED_SLICE_MASKS, 0)
    for index, item in enumerate(slice_spec):
        bit = 1 << index
        if isinstance(item, _builtins.slice):
            start, stop = _check_index(item.start), _check_index(item.stop)
            step = _check_index(item.step)
            begin.append(0 if start is None else start)
            end.append(0 if stop is None else stop)
            strides.append(1 if step is None else step)
            if start is None:
                masks["begin_mask"] |= bit
            if stop is None:
                masks["end_mask"] |= bit
        elif item is Ellipsis:
            begin.append(0)
            end.append(0)
            strides.append(1)
            masks["ellipsis_mask"] |= bit
        elif item is None:
            begin.append(0)
            end.append(0)
            strides.append(1)
            masks["new_axis_mask"] |= bit
        else:
            item = _check_index(item)
            begin.append(item)
            end.append(item + 1)
            strides.append(1)
            masks["shrink_axis_mask"] |= bit
    graph = tensor.graph
    with graph.as_default(), graph.name_scope("strided_slice") as scope:
        vectors = []
        for suffix, values in (("", begin), ("_1", end), ("_2", strides)):
            if any(isinstance(v, _Tensor) for v in values):
                vectors.append(stack(values, name=f"stack{suffix}"))
            else:
                vectors.append(constant(np.asarray(values, dtype=np.int32),
                                        name=f"stack{suffix}"))
        return graph.create_op("StridedSlice", [tensor] + vectors, masks,
                               name=scope).outputs[0]


_Tensor.__getitem__ = _slice_helper


# ---- GatherV2 ---------------------------------------------------------------------------------

def _gather_infer(inputs, attrs):
    params, indices, axis_t = inputs
    _infer.check_index_dtype("GatherV2", indices, "indices")
    _infer.check_index_dtype("GatherV2", axis_t, "axis")
    attrs["Tparams"] = params.dtype
    attrs["Tindices"] = indices.dtype
    attrs["Taxis"] = axis_t.dtype
    batch_dims = int(attrs.setdefault("batch_dims", 0))
    if batch_dims != 0:
        raise ValueError("GatherV2 supports batch_dims=0 only")
    axis = _infer.folded_value(axis_t)
    if params.shape.rank is None or indices.shape.rank is None or axis is None:
        return [(params.dtype, TensorShape(None))]
    rank_in = params.shape.rank
    axis = int(axis)
    if not -rank_in <= axis < rank_in:
        raise ValueError(f"Shape must be at least rank {axis + 1} but is rank {rank_in} for "
                         "'GatherV2'")
    axis %= rank_in
    dims = params.shape.as_list()
    return [(params.dtype, TensorShape(dims[:axis] + indices.shape.as_list()
                                       + dims[axis + 1:]))]


def _gather_grad(op, grad):
    # Along axis 0 the gradient is sparse, as TF's: the incoming rows at the gathered
    # indices, in an IndexedSlices of the params' shape. Other axes are summed into a dense
    # gradient with UnsortedSegmentSum.
    from sessionlib.framework.indexed_slices import IndexedSlices
    from sessionlib.ops import math_ops

    params, indices, axis_t = op.inputs
    axis = _infer.folded_value(axis_t)
    params_shape = _known_shape_vector(params, dtypes.int64) if params.shape.rank != 0 else None
    grad = graph_lib.convert_to_tensor(grad)
    if axis is not None and params.shape.rank is not None:
        axis = int(axis) % params.shape.rank
    if axis == 0:
        flat_indices = reshape(indices, [-1])
        inner = params.shape.as_list()[1:] if params.shape.rank is not None else None
        if inner is not None and all(d is not None for d in inner):
            values_shape = [-1] + inner
        else:
            values_shape = concat([constant(np.asarray([-1], np.int64)), params_shape[1:]], 0)
        values = reshape(grad, values_shape)
        return [IndexedSlices(values, flat_indices, params_shape), None, None]
    if axis is None or indices.shape.rank is None or params.shape.rank is None:
        raise NotImplementedError("The gradient of gather along a dynamic axis needs known "
                                  "ranks and a constant axis")
    # grad has shape params[:axis] + indices.shape + params[axis + 1:]: bring the indices'
    # dimensions first, flatten them, sum rows by index, and move the axis back.
    index_rank = indices.shape.rank
    grad_rank = params.shape.rank - 1 + index_rank
    order = (list(_builtins.range(axis, axis + index_rank)) + list(_builtins.range(axis))
             + list(_builtins.range(axis + index_rank, grad_rank)))
    moved = transpose(grad, order)
    rest = [d for i, d in enumerate(params.shape.as_list()) if i != axis]
    if all(d is not None for d in rest):
        moved = reshape(moved, [-1] + rest)
    else:
        moved = reshape(moved, concat([constant(np.asarray([-1], np.int32)),
                                       shape(moved)[index_rank:]], 0))
    num = params.shape[axis] if params.shape[axis] is not None else shape(params)[axis]
    summed = math_ops.unsorted_segment_sum(moved, reshape(indices, [-1]), num)
    back = list(_builtins.range(1, axis + 1)) + [0] + list(
        _builtins.range(axis + 1, params.shape.rank))
    return [transpose(summed, back), None, None]


registry.register_op("GatherV2", infer=_gather_infer, kernel="GatherV2", num_inputs=3,
                     doc="Gathers slices by index along an axis.",
                     gradient=_gather_grad)


def gather(params, indices, validate_indices=None, name=None, axis=None, batch_dims=0):
    """Slices of `params` at `indices` along `axis` (op ``GatherV2``).

    Args:
      params: the Tensor to gather from.
      indices: an int32/int64 Tensor of indices in ``[0, params.shape[axis])``.
      validate_indices: ignored, as in TF.
      name: the op name.
      axis: the dimension to gather along (default 0).
      batch_dims: must be 0.

    Returns:
      A Tensor of shape ``params.shape[:axis] + indices.shape + params.shape[axis + 1:]``.
      An out-of-range index is an InvalidArgumentError when the graph runs.
    """
    del validate_indices
    graph = _graph_of(params, indices, axis)
    with graph.as_default(), graph.name_scope(name or "GatherV2") as scope:
        params_t = _tensor(params, "params", graph)
        indices_t = _index_tensor(indices, "indices", graph)
        axis_t = _index_tensor(0 if axis is None else axis, "axis", graph)
        return graph.create_op("GatherV2", [params_t, indices_t, axis_t],
                               {"batch_dims": int(batch_dims)}, name=scope).outputs[0]


# ---- Tile -------------------------------------------------------------------------------------

def _tile_infer(inputs, attrs):
    value, multiples_t = inputs
    _infer.check_index_dtype("Tile", multiples_t, "multiples")
    attrs["T"] = value.dtype
    attrs["Tmultiples"] = multiples_t.dtype
    multiples = _infer.folded_value(multiples_t)
    rank_in = value.shape.rank
    if multiples is None:
        if rank_in is None and multiples_t.shape.rank == 1:
            rank_in = multiples_t.shape[0]
        return [(value.dtype, TensorShape(None if rank_in is None else [None] * rank_in))]
    multiples = indexing.to_ints(multiples)
    if rank_in is not None and len(multiples) != rank_in:
        raise ValueError(f"Shape must be rank {rank_in} but is rank {len(multiples)} for "
                         f"'Tile' with input shapes: {value.shape}, [{len(multiples)}].")
    if any(m < 0 for m in multiples):
        raise ValueError(f"Expected multiples to be non-negative, got {multiples}")
    if rank_in is None:
        return [(value.dtype, TensorShape([None] * len(multiples)))]
    return [(value.dtype, TensorShape([None if d is None else d * m for d, m in
                                       zip(value.shape.as_list(), multiples)]))]


def _tile_grad(op, grad):
    # The tiled gradient, viewed as [multiples[0], dim[0], multiples[1], dim[1], ...], summed
    # over the multiples' axes.
    from sessionlib.ops import math_ops

    value, multiples_t = op.inputs
    multiples = _infer.folded_value(multiples_t)
    if multiples is not None and value.shape.is_fully_defined():
        dims = value.shape.as_list()
        split = [n for pair in zip(indexing.to_ints(multiples), dims) for n in pair]
        axes = list(_builtins.range(0, len(split), 2))
        return [math_ops.reduce_sum(reshape(grad, split), axes), None]
    input_shape = shape(value, out_type=multiples_t.dtype)
    split = reshape(transpose(stack([multiples_t, input_shape])), [-1])
    axes = range(0, size(split), 2)
    return [reshape(math_ops.reduce_sum(reshape(grad, split), axes), input_shape), None]


registry.register_op("Tile", infer=_tile_infer, kernel="Tile", num_inputs=2,
                     doc="Repeats a tensor along each dimension.", gradient=_tile_grad)


def tile(input, multiples, name=None):  # noqa: A002 - TF's argument name
    """`input` repeated `multiples[i]` times along dimension i (op ``Tile``).

    Raises:
      ValueError: if `multiples` does not have one entry per static dimension.
    """
    graph = _graph_of(input, multiples)
    with graph.as_default(), graph.name_scope(name or "Tile") as scope:
        value = _tensor(input, "input", graph)
        multiples_t = _index_tensor(multiples, "multiples", graph)
        return graph.create_op("Tile", [value, multiples_t], name=scope).outputs[0]


# ---- Fill, zeros, ones, ZerosLike, OnesLike ---------------------------------------------------

def _fill_infer(inputs, attrs):
    dims_t, value = inputs
    _infer.check_index_dtype("Fill", dims_t, "dims")
    if value.shape.rank not in (0, None):
        raise ValueError(f"Shape must be rank 0 but is rank {value.shape.rank} for 'Fill'")
    attrs["T"] = value.dtype
    attrs["index_type"] = dims_t.dtype
    return [(value.dtype, _infer.shape_from_tensor(dims_t))]


def _fill_grad(op, grad):
    from sessionlib.ops import math_ops

    return [None, math_ops.reduce_sum(grad)]


registry.register_op("Fill", infer=_fill_infer, kernel="Fill", num_inputs=2,
                     doc="A tensor of one value.",
                     gradient=_fill_grad)


def fill(dims, value, name=None):
    """A tensor of shape `dims` holding `value` everywhere (op ``Fill``).

    Args:
      dims: a 1-D int Tensor or list: the shape.
      value: a scalar Tensor or value.
      name: the op name.

    Returns:
      A Tensor of `value`'s dtype.
    """
    graph = _graph_of(dims, value)
    with graph.as_default(), graph.name_scope(name or "Fill") as scope:
        dims_t = _index_tensor(dims, "dims", graph)
        value_t = _tensor(value, "value", graph)
        return graph.create_op("Fill", [dims_t, value_t], name=scope).outputs[0]


# TF makes a Const instead of a Fill when the result is this small (`_constant_if_small`).
_SMALL_CONSTANT = 1000


def _zero_or_one(dtype, one):
    if dtype is dtypes.string:
        if one:
            raise TypeError("ones is not defined for strings")
        return np.asarray(b"", dtype=object)
    return np.asarray(1 if one else 0, dtype=dtype.as_numpy_dtype)


def _filled(shape, dtype, name, default_name, one):
    dtype = dtypes.as_dtype(dtype)
    fill_value = _zero_or_one(dtype, one)
    graph = _graph_of(shape)
    if not isinstance(shape, _Tensor):
        try:
            dims = [int(d) for d in as_shape(shape).as_list()]
        except (TypeError, ValueError):
            dims = None
        if dims is not None and int(np.prod(dims)) < _SMALL_CONSTANT:
            return constant(np.full(dims, fill_value, dtype=fill_value.dtype), dtype=dtype,
                            name=name or default_name)
    with graph.as_default(), graph.name_scope(name or default_name) as scope:
        dims_t = _index_tensor(shape, "shape", graph)
        value_t = constant(fill_value, dtype=dtype, name="Const")
        return graph.create_op("Fill", [dims_t, value_t], name=scope).outputs[0]


def zeros(shape, dtype=dtypes.float32, name=None):
    """A tensor of zeros (a Const when small, else op ``Fill``).

    Args:
      shape: a list of ints, a `TensorShape` or a 1-D int Tensor.
      dtype: the element type (float32 by default; strings give ``b''``).
      name: the op name.

    Returns:
      A Tensor of `dtype`.
    """
    return _filled(shape, dtype, name, "zeros", one=False)


def ones(shape, dtype=dtypes.float32, name=None):
    """A tensor of ones (a Const when small, else op ``Fill``); see `zeros`."""
    return _filled(shape, dtype, name, "ones", one=True)


def _like_infer(op_type):
    # ZerosLike of a variant (a TensorList) is a list of zeros, as in TF (list gradients).
    allowed = _NUMERIC_AND_BOOL + ((dtypes.variant,) if op_type == "ZerosLike" else ())

    def infer(inputs, attrs):
        _infer.check_dtype(op_type, inputs[0], allowed)
        attrs["T"] = inputs[0].dtype
        return [(inputs[0].dtype, inputs[0].shape)]

    return infer


registry.register_op("ZerosLike", infer=_like_infer("ZerosLike"), kernel="ZerosLike",
                     num_inputs=1, doc="Zeros with the shape and dtype of the input.",
                     gradient=registry.NOT_DIFFERENTIABLE)
registry.register_op("OnesLike", infer=_like_infer("OnesLike"), kernel="OnesLike",
                     num_inputs=1, doc="Ones with the shape and dtype of the input.",
                     gradient=registry.NOT_DIFFERENTIABLE)


def _filled_like(op_type, tensor, dtype, name, optimize, default_name, one):
    graph = _graph_of(tensor)
    with graph.as_default(), graph.name_scope(name or default_name) as scope:
        value = _tensor(tensor, "tensor", graph)
        target = value.dtype if dtype is None else dtypes.as_dtype(dtype)
        if optimize and value.shape.is_fully_defined() and value.dtype is not dtypes.variant:
            return constant(np.full(value.shape.as_list(), _zero_or_one(target, one),
                                    dtype=None if target is dtypes.string
                                    else target.as_numpy_dtype),
                            dtype=target, name=scope)
        if target is not value.dtype:
            return _filled(shape(value), target, scope, default_name, one)
        return graph.create_op(op_type, [value], name=scope).outputs[0]


def zeros_like(tensor, dtype=None, name=None, optimize=True):
    """Zeros with the shape of `tensor` (op ``ZerosLike``; a Const when the shape is known).

    Args:
      tensor: a Tensor or value.
      dtype: the result's dtype (default: `tensor`'s).
      name: the op name.
      optimize: allow a Const when the static shape is fully defined, as TF does.

    Returns:
      A Tensor.
    """
    return _filled_like("ZerosLike", tensor, dtype, name, optimize, "zeros_like", one=False)


def ones_like(tensor, dtype=None, name=None, optimize=True):
    """Ones with the shape of `tensor` (op ``OnesLike``); see `zeros_like`."""
    return _filled_like("OnesLike", tensor, dtype, name, optimize, "ones_like", one=True)


# ---- Range ------------------------------------------------------------------------------------

_RANGE_DTYPES = (dtypes.int32, dtypes.int64, dtypes.float32, dtypes.float64)


def _range_infer(inputs, attrs):
    dtype = _infer.same_dtype("Range", inputs, names=("start", "limit", "delta"))
    _infer.check_dtype("Range", inputs[0], _RANGE_DTYPES, "start")
    for tensor in inputs:
        if tensor.shape.rank not in (0, None):
            raise ValueError(f"Shape must be rank 0 but is rank {tensor.shape.rank} for "
                             "'Range'")
    attrs["Tidx"] = dtype
    values = [_infer.folded_value(t) for t in inputs]
    if any(v is None for v in values):
        return [(dtype, TensorShape([None]))]
    start, limit, delta = (v.item() for v in values)
    count = indexing.range_size(start, limit, delta, dtype.is_integer)
    return [(dtype, TensorShape([count]))]


registry.register_op("Range", infer=_range_infer, kernel="Range", num_inputs=3,
                     doc="A sequence of numbers.",
                     gradient=registry.NOT_DIFFERENTIABLE)


def range(start, limit=None, delta=1, dtype=None, name="range"):  # noqa: A001 - TF's name
    """The numbers ``start, start + delta, ...`` up to but excluding `limit` (op ``Range``).

    Args:
      start: the first value; with `limit` None, the limit (and start is 0).
      limit: the exclusive end.
      delta: the step (non-zero).
      dtype: the result's dtype; by default the widest of the arguments' (int32 < int64 <
        float32 < float64).
      name: the op name.

    Returns:
      A 1-D Tensor.

    Raises:
      ValueError: for a zero delta or a delta pointing away from the limit, when known.
    """
    if limit is None:
        start, limit = 0, start
    graph = _graph_of(start, limit, delta)
    with graph.as_default(), graph.name_scope(name or "range") as scope:
        if dtype is None:
            inferred = []
            for value in (start, limit, delta):
                if isinstance(value, _Tensor):
                    inferred.append(value.dtype)
                else:
                    inferred.append(dtypes.as_dtype(_to_numpy(value).dtype))
            order = {d: i for i, d in enumerate(_RANGE_DTYPES)}
            dtype = max(inferred, key=lambda d: order.get(d, -1))
        dtype = dtypes.as_dtype(dtype)
        args = []
        for value, arg_name in ((start, "start"), (limit, "limit"), (delta, "delta")):
            tensor = _tensor(value, arg_name, graph, None if isinstance(value, _Tensor)
                             else dtype)
            if tensor.dtype is not dtype:
                from sessionlib.ops import math_ops

                tensor = math_ops.cast(tensor, dtype)
            args.append(tensor)
        return graph.create_op("Range", args, name=scope).outputs[0]


def _to_numpy(value):
    from sessionlib.framework import tensor_util

    return tensor_util.to_numpy(value)


# ---- Where, Select, SelectV2 --------------------------------------------------------------------

def _where_infer(inputs, attrs):
    _infer.check_dtype("Where", inputs[0], _NUMERIC_AND_BOOL, "input")
    attrs["T"] = inputs[0].dtype
    return [(dtypes.int64, TensorShape([None, inputs[0].shape.rank]))]


registry.register_op("Where", infer=_where_infer, kernel="Where", num_inputs=1,
                     doc="The coordinates of the true (non-zero) elements.",
                     gradient=registry.NOT_DIFFERENTIABLE)


def _select_infer(op_type):
    def infer(inputs, attrs):
        condition, x, y = inputs
        _infer.check_dtype(op_type, condition, (dtypes.bool,), "condition")
        dtype = _infer.same_dtype(op_type, [x, y], names=("t", "e"))
        attrs["T"] = dtype
        if op_type == "SelectV2":
            shape_out = _infer.broadcast_shapes(
                _infer.broadcast_shapes(condition.shape, x.shape, op_type), y.shape, op_type)
            return [(dtype, shape_out)]
        if not x.shape.is_compatible_with(y.shape):
            raise ValueError(f"Shapes must be equal rank, but are {x.shape.rank} and "
                             f"{y.shape.rank} for 'Select'" if x.shape.rank != y.shape.rank
                             else f"Dimensions must be equal: {x.shape} vs {y.shape} for "
                             "'Select'")
        value_shape = x.shape.merge_with(y.shape)
        cond = condition.shape
        if cond.rank is not None and value_shape.rank is not None and not (
                cond.is_compatible_with(value_shape)
                or (cond.rank == 1 and value_shape.rank >= 1
                    and TensorShape(cond[:1]).is_compatible_with(value_shape[:1]))):
            raise ValueError(f"Shapes {cond} and {value_shape} are incompatible for 'Select'")
        return [(dtype, value_shape)]

    return infer


def _select_grad(op, grad):
    # TF 1's Select: equal shapes, or a vector condition along the first dimension.
    condition, x, y = op.inputs
    zeros = zeros_like(grad)
    select = grad.graph.create_op
    return [None, select("Select", [condition, grad, zeros]).outputs[0],
            select("Select", [condition, zeros, grad]).outputs[0]]


def _select_v2_grad(op, grad):
    from sessionlib.ops import _grad_util

    condition, x, y = op.inputs
    zeros = zeros_like(grad)
    select = grad.graph.create_op
    grad_x = select("SelectV2", [condition, grad, zeros]).outputs[0]
    grad_y = select("SelectV2", [condition, zeros, grad]).outputs[0]
    # The output broadcasts all three: sum each branch back to its shape.
    return [None, _reduce_to_shape(grad_x, x, op.outputs[0]),
            _reduce_to_shape(grad_y, y, op.outputs[0])]


def _reduce_to_shape(grad, x, out):
    from sessionlib.ops import _grad_util

    return _grad_util.reduce_to_input(grad, x, out)


registry.register_op("Select", infer=_select_infer("Select"), kernel="Select",
                     num_inputs=3, doc="Picks from x or y by a condition (TF 1 rules).",
                     gradient=_select_grad)
registry.register_op("SelectV2", infer=_select_infer("SelectV2"),
                     kernel="SelectV2", num_inputs=3,
                     doc="Picks from x or y by a condition, with broadcasting.",
                     gradient=_select_v2_grad)


def where(condition, x=None, y=None, name=None):
    """TF 1's `where`: the coordinates of true elements, or an elementwise choice.

    Args:
      condition: a bool Tensor.
      x, y: with both given, the values for true and false positions. TF 1's ``Select``
        wants equal shapes (or a vector condition matching the first dimension); other
        shapes that broadcast are accepted and built as ``SelectV2``.
      name: the op name.

    Returns:
      Without `x` and `y`: an int64 Tensor of shape ``[num_true, rank]`` (like
      ``np.argwhere``). Otherwise a Tensor of `x`'s dtype.

    Raises:
      ValueError: if only one of `x` and `y` is given, or the shapes are incompatible.
    """
    if (x is None) != (y is None):
        raise ValueError("x and y must both be non-None or both be None.")
    graph = _graph_of(condition, x, y)
    with graph.as_default(), graph.name_scope(name or ("Where" if x is None else "Select")) \
            as scope:
        cond_t = _tensor(condition, "condition", graph, dtypes.bool)
        if x is None:
            return graph.create_op("Where", [cond_t], name=scope).outputs[0]
        from sessionlib.ops import math_ops

        x_t, y_t = math_ops._convert_operands((x, y), ("x", "y"), graph)
        cond_shape, value_shape = cond_t.shape, x_t.shape
        # TF 1's Select wants equal shapes or a vector condition along the first dimension;
        # shapes that only broadcast are built as the broadcasting SelectV2.
        leading_vector = (cond_shape.rank == 1 and value_shape.rank not in (None, 0)
                          and TensorShape(cond_shape[:1]).is_compatible_with(
                              value_shape[:1]))
        select_ok = value_shape.is_compatible_with(y_t.shape) and (
            cond_shape.is_compatible_with(value_shape) or leading_vector)
        op_type = "Select" if select_ok else "SelectV2"
        return graph.create_op(op_type, [cond_t, x_t, y_t], name=scope).outputs[0]


# ---- ClipByValue ------------------------------------------------------------------------------

def _clip_infer(inputs, attrs):
    value, low, high = inputs
    dtype = _infer.same_dtype("ClipByValue", inputs,
                              names=("t", "clip_value_min", "clip_value_max"))
    _infer.check_dtype("ClipByValue", value, _NUMERIC, "t")
    attrs["T"] = dtype
    for bound in (low, high):
        out = _infer.broadcast_shapes(value.shape, bound.shape, "ClipByValue")
        if value.shape.rank is not None and out.rank is not None and (
                out.rank != value.shape.rank or not out.is_compatible_with(value.shape)
                or any(o is not None and v is not None and o != v
                       for o, v in zip(out.as_list(), value.shape.as_list()))):
            raise ValueError(f"Clip bounds of shape {bound.shape} would change the shape "
                             f"{value.shape} of the clipped tensor")
    return [(dtype, value.shape)]


def _clip_by_value_grad(op, grad):
    # The gradient passes where the value is inside the bounds; outside, it goes to the
    # bound that was taken (summed back to the bound's shape), as TF's.
    from sessionlib.ops import _grad_util, math_ops

    value, low, high = op.inputs
    zeros = zeros_like(grad)
    select = grad.graph.create_op
    below = math_ops.less(value, low)
    above = math_ops.greater(value, high)
    outside = math_ops.logical_or(below, above)
    grad_value = select("SelectV2", [outside, zeros, grad]).outputs[0]
    grad_low = select("SelectV2", [below, grad, zeros]).outputs[0]
    grad_high = select("SelectV2", [above, grad, zeros]).outputs[0]
    return [grad_value, _grad_util.reduce_to_input(grad_low, low, value),
            _grad_util.reduce_to_input(grad_high, high, value)]


registry.register_op("ClipByValue", infer=_clip_infer, kernel="ClipByValue", num_inputs=3,
                     doc="Clips values to [min, max].",
                     gradient=_clip_by_value_grad)


def clip_by_value(t, clip_value_min, clip_value_max, name=None):
    """`t` with values below `clip_value_min` and above `clip_value_max` clipped (op
    ``ClipByValue``).

    Args:
      t: a numeric Tensor.
      clip_value_min, clip_value_max: scalars, or tensors that broadcast to `t`'s shape
        without changing it.
      name: the op name.

    Returns:
      A Tensor of `t`'s shape and dtype.

    Raises:
      ValueError: if a bound would change the shape of `t`.
      TypeError: if the dtypes differ.
    """
    from sessionlib.ops import math_ops

    graph = _graph_of(t, clip_value_min, clip_value_max)
    with graph.as_default(), graph.name_scope(name or "clip_by_value") as scope:
        tensors = math_ops._convert_operands((t, clip_value_min, clip_value_max),
                                             ("t", "clip_value_min", "clip_value_max"), graph)
        return graph.create_op("ClipByValue", tensors, name=scope).outputs[0]


# ---- ops for gradients: BroadcastGradientArgs, InvertPermutation ------------------------------

def _broadcast_gradient_args_infer(inputs, attrs):
    s0, s1 = inputs
    _infer.check_index_dtype("BroadcastGradientArgs", s0, "s0")
    dtype = _infer.same_dtype("BroadcastGradientArgs", inputs, names=("s0", "s1"))
    attrs["T"] = dtype
    return [(dtype, TensorShape([None])), (dtype, TensorShape([None]))]


registry.register_op("BroadcastGradientArgs", infer=_broadcast_gradient_args_infer,
                     kernel="BroadcastGradientArgs", num_inputs=2,
                     gradient=registry.NOT_DIFFERENTIABLE,
                     doc="The axes to sum each operand's gradient over, for a broadcast.")


def broadcast_gradient_args(s0, s1, name=None):
    """The reduction axes that undo a numpy broadcast of shapes `s0` and `s1`.

    Args:
      s0, s1: 1-D int32/int64 Tensors: the shapes of a broadcasting op's two inputs.
      name: the op name.

    Returns:
      A pair ``(r0, r1)`` of 1-D Tensors: the axes of the broadcast shape to sum the
      gradient over to get each input's (before reshaping to it).
    """
    graph = _graph_of(s0, s1)
    with graph.as_default(), graph.name_scope(name or "BroadcastGradientArgs") as scope:
        s0_t = _index_tensor(s0, "s0", graph)
        s1_t = _index_tensor(s1, "s1", graph)
        return tuple(graph.create_op("BroadcastGradientArgs", [s0_t, s1_t],
                                     name=scope).outputs)


def _invert_permutation_infer(inputs, attrs):
    _infer.check_index_dtype("InvertPermutation", inputs[0], "x")
    attrs["T"] = inputs[0].dtype
    inputs[0].shape.with_rank(1)
    return [(inputs[0].dtype, inputs[0].shape)]


registry.register_op("InvertPermutation", infer=_invert_permutation_infer,
                     kernel="InvertPermutation", num_inputs=1,
                     gradient=registry.NOT_DIFFERENTIABLE,
                     doc="The inverse of a permutation vector.")


def invert_permutation(x, name=None):
    """The inverse permutation of the 1-D int Tensor `x` (op ``InvertPermutation``).

    Raises:
      ValueError: if `x` is statically not a vector. A vector that is not a permutation is an
        InvalidArgumentError when the graph runs.
    """
    graph = _graph_of(x)
    value = _index_tensor(x, "x", graph)
    return graph.create_op("InvertPermutation", [value],
                           name=name or "InvertPermutation").outputs[0]


def _strided_slice_grad_infer(inputs, attrs):
    shape_t, begin_t, end_t, strides_t, dy = inputs
    _infer.check_index_dtype("StridedSliceGrad", shape_t, "shape")
    attrs["T"] = dy.dtype
    attrs["Index"] = shape_t.dtype
    for mask in indexing.STRIDED_SLICE_MASKS:
        attrs.setdefault(mask, 0)
    return [(dy.dtype, _infer.shape_from_tensor(shape_t))]


def _strided_slice_grad_grad(op, grad):
    # StridedSliceGrad is linear in dy: its gradient is the same slice of the incoming one.
    _, begin, end, strides, _ = op.inputs
    attrs = {mask: op.get_attr(mask) for mask in indexing.STRIDED_SLICE_MASKS}
    sliced = grad.graph.create_op("StridedSlice", [grad, begin, end, strides], attrs)
    return [None, None, None, None, sliced.outputs[0]]


registry.register_op("StridedSliceGrad", infer=_strided_slice_grad_infer,
                     kernel="StridedSliceGrad", num_inputs=5,
                     gradient=_strided_slice_grad_grad,
                     doc="The gradient of StridedSlice: dy written into zeros of the shape.")
