"""Helpers for the `infer` functions of op registrations: dtype checks and static shapes.

An `infer` function gets the input Tensors and the attrs and returns ``[(dtype, shape), ...]``
for the outputs. A dtype that an op does not accept is a TypeError and a static shape mismatch
a ValueError, both raised while the graph is built, with TF's wording where it has one.
"""

from sessionlib import dtypes
from sessionlib.framework.tensor_shape import TensorShape

__all__ = ["check_dtype", "same_dtype", "broadcast_shapes", "unary", "binary", "constant_of"]


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


def broadcast_shapes(a, b, what="broadcast"):
    """The numpy-broadcast of two static shapes; ValueError when they cannot broadcast."""
    if a.rank is None or b.rank is None:
        return TensorShape(None)
    x, y = a.as_list(), b.as_list()
    rank = max(len(x), len(y))
    x = [1] * (rank - len(x)) + x
    y = [1] * (rank - len(y)) + y
    result = []
    for dx, dy in zip(x, y):
        if dx == 1:
            result.append(dy)
        elif dy == 1:
            result.append(dx)
        elif dx is None or dy is None:
            result.append(dx if dy is None else dy)
        elif dx == dy:
            result.append(dx)
        else:
            raise ValueError(f"Dimensions must be equal, but are {dx} and {dy} for "
                             f"'{what}' with input shapes: {a}, {b}.")
    return TensorShape(result)


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
