"""Helpers for the `infer` functions of op registrations: dtype checks and static shapes.

An `infer` function gets the input Tensors and the attrs and returns ``[(dtype, shape), ...]``
for the outputs. A dtype that an op does not accept is a TypeError and a static shape mismatch
a ValueError, both raised while the graph is built, with TF's wording where it has one.
"""

from sessionlib import dtypes
from sessionlib.framework.tensor_shape import TensorShape, broadcast_shapes

__all__ = ["check_dtype", "same_dtype", "broadcast_shapes", "unary", "binary", "constant_of",
           "folded_value", "shape_from_tensor", "check_index_dtype", "normalize_axis",
           "reduced_shape"]


def check_dtype(op_type, tensor, allowed, arg="x"):
    """Raises TypeError unless `tensor.dtype` is in `allowed` (None allows everything)."""
    if allowed is not None and tensor.dtype not in allowed:
        names = ", ".join(d.name for d in allowed)
        raise TypeError(f"Value passed to parameter '{arg}' has DataType {tensor.dtype.name} "
                        f"not in list of allowed values: {names} (op {op_type})")


def same_dtype(op_type, inputs, names=("x", "y")):
    """Raises TypeError unless all inputs share the first input's dtype; returns it."""
    first = inputs[0].dtype
    for name, tensor in zip(names[1:], inputs[1:]):
        if tensor.dtype is not first:
            raise TypeError(f"Input '{name}' of '{op_type}' Op has type {tensor.dtype.name} "
                            f"that does not match type {first.name} of argument "
                            f"'{names[0]}'.")
    return first


def unary(allowed, out_dtype=None):
    """An infer function for an elementwise unary op (same shape; dtype kept or fixed)."""

    def infer(inputs, attrs):
        check_dtype("unary op", inputs[0], allowed)
        return [(out_dtype or inputs[0].dtype, inputs[0].shape)]

    return infer


def binary(op_type, allowed, out_dtype=None):
    """An infer function for a broadcasting binary op."""

    def infer(inputs, attrs):
        dtype = same_dtype(op_type, inputs)
        check_dtype(op_type, inputs[0], allowed)
        shape = broadcast_shapes(inputs[0].shape, inputs[1].shape, op_type)
        return [(out_dtype or dtype, shape)]

    return infer


def constant_of(tensor):
    """The graph-time value of `tensor` (a numpy array) or None."""
    from sessionlib.framework import tensor_util

    return tensor_util.constant_value(tensor)


NUMERIC = dtypes.NUMERIC_DTYPES
FLOATS = dtypes.FLOAT_DTYPES
INTEGERS = dtypes.INTEGER_DTYPES


# ---- constant folding and shape-valued inputs ------------------------------------------------

_INDEX_DTYPES = (dtypes.int32, dtypes.int64)


def folded_value(tensor):
    """Like `constant_of`, but also folds the cheap shape ops TF folds while building a graph.

    Handles ``Shape``/``Size``/``Rank`` of a statically known input, and ``Identity``, ``Cast``
    and ``Pack`` of known values, so that ``tf.reshape(x, tf.shape(y))`` or
    ``tf.zeros(tf.stack([2, 3]))`` still get a static shape.

    Returns:
      A numpy array, or None when the value is not known while the graph is built.
    """
    import numpy as np

    value = constant_of(tensor)
    if value is not None:
        return value
    op = tensor.op
    kind = op.type
    if kind in ("Shape", "Size", "Rank"):
        shape = op.inputs[0].shape
        out_dtype = tensor.dtype.as_numpy_dtype
        if kind == "Rank":
            return None if shape.rank is None else np.asarray(shape.rank, dtype=out_dtype)
        if not shape.is_fully_defined():
            return None
        if kind == "Shape":
            return np.asarray(shape.as_list(), dtype=out_dtype)
        return np.asarray(shape.num_elements(), dtype=out_dtype)
    if kind == "Identity":
        return folded_value(op.inputs[0])
    if kind == "Cast":
        source = folded_value(op.inputs[0])
        return None if source is None else source.astype(tensor.dtype.as_numpy_dtype)
    if kind == "Pack" and tensor.dtype in _INDEX_DTYPES:
        parts = [folded_value(t) for t in op.inputs]
        if any(p is None for p in parts):
            return None
        return np.stack(parts, axis=op.get_attr("axis"))
    return None


def shape_from_tensor(tensor):
    """The static shape that a shape-valued 1-D int tensor describes (None for unknown dims).

    Negative entries (``-1``) become unknown dimensions. A ``Pack`` of partly known scalars
    gives a shape with the known entries filled in.
    """
    value = folded_value(tensor)
    if value is not None:
        if value.ndim != 1:
            if value.ndim == 0:
                raise ValueError(f"Shape must be rank 1 but is rank 0 for {tensor.name}")
            raise ValueError(f"Shape must be rank 1 but is rank {value.ndim}")
        return TensorShape([None if int(d) < 0 else int(d) for d in value.tolist()])
    if tensor.op.type == "Pack" and tensor.shape.rank == 1:
        dims = []
        for part in tensor.op.inputs:
            known = folded_value(part)
            dims.append(None if known is None or int(known) < 0 else int(known))
        return TensorShape(dims)
    if tensor.shape.rank == 1 and tensor.shape[0] is not None:
        return TensorShape([None] * tensor.shape[0])
    return TensorShape(None)


def check_index_dtype(op_type, tensor, arg):
    """Raises TypeError unless `tensor` is int32 or int64 (TF's index types)."""
    check_dtype(op_type, tensor, _INDEX_DTYPES, arg)


def normalize_axis(axis, rank, op_type="op"):
    """`axis` in ``[0, rank)``; ValueError when it is outside ``[-rank, rank)``."""
    axis = int(axis)
    if not -rank <= axis < rank:
        raise ValueError(f"axis {axis} is out of bounds for a tensor of rank {rank} "
                         f"(op {op_type}); it must be in [{-rank}, {rank})")
    return axis % rank


def reduced_shape(shape, axes_tensor, keep_dims, op_type):
    """The static output shape of a reduction of `shape` over the axes in `axes_tensor`."""
    axes_value = folded_value(axes_tensor)
    if shape.rank is None:
        return TensorShape(None)
    if axes_value is None:
        if keep_dims:
            return TensorShape([None] * shape.rank)
        if axes_tensor.shape.rank == 0:
            return TensorShape([None] * (shape.rank - 1)) if shape.rank else TensorShape(None)
        return TensorShape(None)
    axes = set()
    for axis in axes_value.reshape(-1).tolist():
        if not -shape.rank <= axis < shape.rank:
            raise ValueError(f"Invalid reduction dimension {axis} for input with "
                             f"{shape.rank} dimensions. for '{op_type}' with input shapes: "
                             f"{shape}, {axes_tensor.shape}")
        axes.add(axis % shape.rank)
    dims = []
    for index, dim in enumerate(shape.as_list()):
        if index in axes:
            if keep_dims:
                dims.append(1)
        else:
            dims.append(dim)
    return TensorShape(dims)
