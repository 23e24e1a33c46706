"""Shapes for gradient functions: undoing broadcasts and reductions.

The gradient of a broadcasting binary op must be summed back to each input's shape, and the
gradient of a reduction broadcast back over the reduced dimensions. Both are decided from static
shapes while the graph is built whenever that is safe, so that a training graph of known shapes
gets no shape ops at all; only what the graph cannot know (an unknown dimension that may or may
not have been broadcast, axes fed at run time) costs ``Shape`` / ``BroadcastGradientArgs`` ops.
"""

import numpy as np

from sessionlib import dtypes
from sessionlib.ops import _infer

__all__ = ["reduce_to_input", "sum_to_batch", "reduced_shape", "broadcast_reduced",
           "static_axes", "scalar"]


def scalar(value, dtype):
    """A scalar constant of `dtype` in the default graph."""
    from sessionlib.ops import array_ops

    return array_ops.constant(np.asarray(value, dtype=dtype.as_numpy_dtype), dtype=dtype)


def _static_broadcast_axes(x_shape, other_shape):
    """The axes (of the broadcast result) to sum `x`'s gradient over, or None if unknown.

    Returns ``(leading, kept)``: the axes x lacks (summed away) and the axes where x has a
    length-1 dimension that the other operand may have stretched (summed with the dimension
    kept). None when the static shapes cannot tell: an unknown dimension of x facing a
    dimension of the other operand that is not known to be 1.
    """
    if x_shape.rank is None or other_shape.rank is None:
        return None
    xs, ys = x_shape.as_list(), other_shape.as_list()
    rank = max(len(xs), len(ys))
    lead = rank - len(xs)
    xs_full = [1] * lead + xs
    ys_full = [1] * (rank - len(ys)) + ys
    kept = []
    for axis in range(lead, rank):
        dx, dy = xs_full[axis], ys_full[axis]
        if dx == 1:
            if dy != 1:
                # Summing over a length-1 dimension is harmless when dy turns out to be 1.
                kept.append(axis)
        elif dx is None:
            if dy != 1 and (axis - (rank - len(ys))) >= 0:
                return None
    return list(range(lead)), kept


def reduce_to_input(grad, x, other):
    """`grad` (of the broadcast shape of `x` and `other`) summed back to the shape of `x`.

    Args:
      grad: the gradient of a broadcasting binary op's output.
      x: the input whose gradient is wanted.
      other: the op's other input.

    Returns:
      A Tensor of `x`'s shape.
    """
    from sessionlib.ops import array_ops, math_ops

    if grad is None:
        return None
    axes = _static_broadcast_axes(x.shape, other.shape)
    if axes is not None:
        lead, kept = axes
        if not lead and not kept:
            return grad
        result = math_ops.reduce_sum(grad, lead + kept)
        if kept:
            result = array_ops.reshape(result, _shape_of(x))
        return result
    rx, _ = array_ops.broadcast_gradient_args(array_ops.shape(x), array_ops.shape(other))
    return array_ops.reshape(math_ops.reduce_sum(grad, rx), array_ops.shape(x))


def sum_to_batch(grad, x, other):
    """`grad` of a batched matmul input, summed over the batch dimensions `x` was broadcast
    along (the last two dimensions are the matrix dimensions and never broadcast)."""
    from sessionlib.ops import array_ops, math_ops

    xs, ys = x.shape, other.shape
    if xs.rank is not None and ys.rank is not None:
        axes = _static_broadcast_axes(xs[:-2], ys[:-2])
        if axes is not None:
            lead, kept = axes
            if not lead and not kept:
                return grad
            result = math_ops.reduce_sum(grad, lead + kept)
            if kept:
                result = array_ops.reshape(result, _shape_of(x))
            return result
    x_shape, y_shape = array_ops.shape(x), array_ops.shape(other)
    rx, _ = array_ops.broadcast_gradient_args(x_shape[:-2], y_shape[:-2])
    return array_ops.reshape(math_ops.reduce_sum(grad, rx), x_shape)


def _shape_of(x):
    """`x`'s shape for a Reshape: a constant list when at most one dimension is unknown."""
    from sessionlib.ops import array_ops

    if x.shape.rank is not None:
        dims = x.shape.as_list()
        if sum(d is None for d in dims) <= 1:
            return [-1 if d is None else d for d in dims]
    return array_ops.shape(x)


def static_axes(x, axes):
    """The reduced axes of a reduction of `x` as a sorted list, or None if not known."""
    value = _infer.folded_value(axes)
    rank = x.shape.rank
    if value is None or rank is None:
        return None
    if rank == 0:
        return []
    return sorted({int(a) % rank for a in np.asarray(value).reshape(-1).tolist()})


def reduced_shape(x, axes):
    """The shape of `x` with the reduced `axes` set to 1 (TF's ``reduced_shape``).

    Returns:
      A list of ints (with at most one -1) when the static shapes allow, else an int32 Tensor.
    """
    from sessionlib.ops import array_ops, math_ops

    known = static_axes(x, axes)
    if known is not None:
        dims = [1 if i in known else d for i, d in enumerate(x.shape.as_list())]
        if sum(d is None for d in dims) <= 1:
            return [-1 if d is None else d for d in dims]
    input_shape = array_ops.shape(x)
    rank = array_ops.rank(x)
    flat_axes = array_ops.reshape(math_ops.cast(axes, dtypes.int32), [-1])
    flat_axes = math_ops.mod(math_ops.add(flat_axes, rank), rank)
    positions = array_ops.expand_dims(array_ops.range(0, rank, 1), 1)
    reduced = math_ops.reduce_any(math_ops.equal(positions, flat_axes), axis=1)
    return array_ops.where(reduced, array_ops.ones_like(input_shape), input_shape)


def broadcast_reduced(grad, x, axes, keep_dims):
    """The gradient of a sum-like reduction of `x`: `grad` spread over the reduced axes.

    Args:
      grad: the gradient of the reduction's output.
      x: the reduction's input.
      axes: its axes tensor.
      keep_dims: its keep_dims attr.

    Returns:
      A Tensor of `x`'s shape.
    """
    from sessionlib.ops import array_ops, math_ops

    known = static_axes(x, axes)
    if known is not None and x.shape.is_fully_defined():
        dims = x.shape.as_list()
        kept_shape = [1 if i in known else d for i, d in enumerate(dims)]
        if grad.shape.as_list() != kept_shape if grad.shape.rank is not None else True:
            grad = array_ops.reshape(grad, kept_shape)
        multiples = [d if i in known else 1 for i, d in enumerate(dims)]
        if all(m == 1 for m in multiples):
            return grad
        return array_ops.tile(grad, multiples)
    # Reduced axes that are all leading broadcast back by numpy's rules as they are.
    leading = known is not None and known == list(range(len(known)))
    if not keep_dims and not leading:
        grad = array_ops.reshape(grad, reduced_shape(x, axes))
    return math_ops.multiply(grad, array_ops.ones_like(x, optimize=False))
