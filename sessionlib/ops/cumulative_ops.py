"""Cumulative sums, products and log-sum-exp: ``cumsum`` (op ``Cumsum``), ``cumprod`` (op
``Cumprod``), ``cumulative_logsumexp`` (op ``CumulativeLogsumexp``) and ``reduce_logsumexp``.

``Cumsum`` is one registration whose gradient is a cumulative sum in the other direction, as in TF,
and ``Cumprod``'s is TF's formula built on it; their kernels are in
``runtime/kernels/cumulative_kernels.py``. ``reduce_logsumexp`` is TF's numerically stable
composite (the maximum, held out of the gradient, is subtracted before ``exp`` and added back after
``log``).
"""

import numpy as np

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework import registry
from sessionlib.ops import _infer, array_ops, gradients, math_ops

__all__ = ["cumsum", "cumprod", "cumulative_logsumexp", "reduce_logsumexp"]


def _scan_infer(op_type, allowed=dtypes.NUMERIC_DTYPES):
    def infer(inputs, attrs):
        value, axis = inputs
        _infer.check_dtype(op_type, value, allowed, "x")
        _infer.check_index_dtype(op_type, axis, "axis")
        if axis.shape.rank not in (None, 0):
            raise ValueError(f"Shape must be rank 0 but is rank {axis.shape.rank} for "
                             f"'{op_type}'")
        attrs["T"] = value.dtype
        attrs["Tidx"] = axis.dtype
        attrs["exclusive"] = bool(attrs.get("exclusive", False))
        attrs["reverse"] = bool(attrs.get("reverse", False))
        # As in TF, an axis out of range is found when the graph runs, not here.
        return [(value.dtype, value.shape)]

    return infer


def _cumsum_grad(op, grad):
    return [cumsum(grad, op.inputs[1], exclusive=op.get_attr("exclusive"),
                   reverse=not op.get_attr("reverse")), None]


registry.register_op("Cumsum", infer=_scan_infer("Cumsum"), kernel="Cumsum", num_inputs=2,
                     doc="The cumulative sum along an axis.", gradient=_cumsum_grad)


def cumsum(x, axis=0, exclusive=False, reverse=False, name=None):
    """The cumulative sum of `x` along `axis` (op ``Cumsum``).

    Args:
      x: a numeric Tensor.
      axis: a scalar int32/int64, in ``[-rank(x), rank(x))``.
      exclusive: leave each element out of its own sum (the first sum is 0).
      reverse: sum from the end towards the start.
      name: the op name.

    Returns:
      A Tensor of `x`'s shape and dtype. An axis out of range is an InvalidArgumentError
      when the graph runs.
    """
    return _scan("Cumsum", x, axis, exclusive, reverse, name)


def _scan(op_type, x, axis, exclusive, reverse, name):
    graph = math_ops._find_graph((x, axis))
    with graph.as_default(), graph.name_scope(name or op_type) as scope:
        value = array_ops._tensor(x, "x", graph)
        axis_t = array_ops._index_tensor(axis, "axis", graph)
        return graph.create_op(op_type, [value, axis_t],
                               {"exclusive": bool(exclusive), "reverse": bool(reverse)},
                               name=scope).outputs[0]


def _cumprod_grad(op, grad):
    # TF's formula: the reverse cumulative sum of grad * prod, divided by x; 0 where x is 0
    # (div_no_nan), which loses those elements' gradients exactly as TF does.
    from sessionlib.ops import metrics_ops

    x, axis = op.inputs
    exclusive, reverse = op.get_attr("exclusive"), op.get_attr("reverse")
    product = cumprod(x, axis, exclusive=exclusive, reverse=reverse)
    summed = cumsum(math_ops.multiply(product, grad), axis, exclusive=exclusive,
                    reverse=not reverse)
    return [metrics_ops.div_no_nan(summed, x), None]


registry.register_op("Cumprod", infer=_scan_infer("Cumprod"), kernel="Cumprod", num_inputs=2,
                     doc="The cumulative product along an axis.", gradient=_cumprod_grad)


def cumprod(x, axis=0, exclusive=False, reverse=False, name=None):
    """The cumulative product of `x` along `axis` (op ``Cumprod``).

    Args:
      x: a numeric Tensor.
      axis: a scalar int32/int64, in ``[-rank(x), rank(x))``.
      exclusive: leave each element out of its own product (the first product is 1).
      reverse: multiply from the end towards the start.
      name: the op name.

    Returns:
      A Tensor of `x`'s shape and dtype. An axis out of range is an InvalidArgumentError
      when the graph runs.
    """
    return _scan("Cumprod", x, axis, exclusive, reverse, name)


def _cumulative_logsumexp_grad(op, grad):
    # TF's formula: the gradient's positive and negative parts, each in log space, summed
    # back with a reverse cumulative log-sum-exp, so that nothing overflows.
    x, axis = op.inputs
    exclusive, reverse = op.get_attr("exclusive"), op.get_attr("reverse")
    output = op.outputs[0]
    lowest = array_ops.fill(array_ops.shape(grad),
                            array_ops.constant(grad.dtype.min, dtype=grad.dtype))
    zeros = array_ops.zeros_like(grad)
    ones = array_ops.ones_like(grad)
    positive = math_ops.greater(grad, zeros)
    negative = math_ops.less(grad, zeros)
    log_positive = array_ops.where(positive, math_ops.log(array_ops.where(positive, grad, ones)),
                                   lowest)
    log_negative = array_ops.where(
        negative, math_ops.log(array_ops.where(negative, math_ops.negative(grad), ones)), lowest)

    def part(log_grad):
        summed = cumulative_logsumexp(math_ops.subtract(log_grad, output), axis,
                                      exclusive=exclusive, reverse=not reverse)
        return math_ops.exp(math_ops.add(summed, x))

    return [math_ops.subtract(part(log_positive), part(log_negative)), None]


registry.register_op("CumulativeLogsumexp",
                     infer=_scan_infer("CumulativeLogsumexp", dtypes.FLOAT_DTYPES),
                     kernel="CumulativeLogsumexp", num_inputs=2,
                     doc="The cumulative log-sum-exp along an axis.",
                     gradient=_cumulative_logsumexp_grad)


def cumulative_logsumexp(x, axis=0, exclusive=False, reverse=False, name=None):
    """``log(cumsum(exp(x)))`` along `axis`, computed without overflow (op
    ``CumulativeLogsumexp``).

    Args:
      x: a floating Tensor.
      axis: a scalar int32/int64, in ``[-rank(x), rank(x))``.
      exclusive: leave each element out of its own sum (the first result is -inf).
      reverse: accumulate from the end towards the start.
      name: the op name.

    Returns:
      A Tensor of `x`'s shape and dtype. An axis out of range is an InvalidArgumentError
      when the graph runs.
    """
    return _scan("CumulativeLogsumexp", x, axis, exclusive, reverse, name)


def reduce_logsumexp(input_tensor, axis=None, keepdims=None, name=None,
                     reduction_indices=None, keep_dims=None):
    """``log(sum(exp(input_tensor), axis))``, computed without overflow, as TF does: the
    maximum (held out of the gradient; 0 where it is not finite) is subtracted first.

    Args:
      input_tensor: a floating Tensor.
      axis: the dimensions to reduce (None: all); negative values count from the end.
      keepdims: keep the reduced dimensions with length 1.
      name: the name scope (default 'ReduceLogSumExp'); the result op gets it.
      reduction_indices: TF 1's spelling of `axis`.
      keep_dims: TF 1's spelling of `keepdims`.

    Returns:
      The reduced Tensor.

    Raises:
      TypeError: for a non-floating dtype.
      ValueError: for an axis outside the static rank.
    """
    axis = math_ops._resolve_axis(axis, reduction_indices)
    keepdims = math_ops._resolve_keepdims(keepdims, keep_dims)
    graph = math_ops._find_graph((input_tensor, axis))
    with graph.as_default(), graph.name_scope(name or "ReduceLogSumExp") as scope:
        value = graph_lib.convert_to_tensor(input_tensor, name="input_tensor")
        if not value.dtype.is_floating:
            raise TypeError(f"Value passed to parameter 'x' has DataType {value.dtype.name} "
                            "not in list of allowed values: float16, float32, float64")
        raw_max = math_ops.reduce_max(value, axis, keepdims=True)
        # abs(m) < inf is TF's is_finite(m): false for +-inf and NaN. A non-finite maximum
        # is replaced by 0 so that inf - inf does not make NaN.
        finite = math_ops.less(math_ops.abs(raw_max),
                               array_ops.constant(np.inf, dtype=value.dtype))
        shift = gradients.stop_gradient(
            array_ops.where(finite, raw_max, array_ops.zeros_like(raw_max)))
        summed = math_ops.reduce_sum(math_ops.exp(math_ops.subtract(value, shift)), axis,
                                     keepdims=keepdims)
        result = math_ops.log(summed)
        if not keepdims:
            shift = array_ops.reshape(shift, array_ops.shape(result))
        return math_ops.add(result, shift, name=scope)
