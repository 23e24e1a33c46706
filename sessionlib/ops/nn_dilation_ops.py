"""Grayscale morphology: ``Dilation2D`` (with its input and filter gradients) and TF 1's
``tf.nn.dilation2d`` / ``tf.nn.erosion2d``.

A dilation is ``out[b, y, x, c] = max over taps of input[b, y*s + tap*r - pad, ...] +
filter[tap, c]``; erosion is its dual, ``-dilation2d(-input, reversed filter)``, as TF builds
it. Kernels: ``runtime/kernels/dilation_kernels.py``.
"""

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework import registry
from sessionlib.framework.tensor_shape import TensorShape
from sessionlib.ops import _infer, manipulation_ops, math_ops

__all__ = ["dilation2d", "erosion2d"]

_REAL = (dtypes.float16, dtypes.float32, dtypes.float64, dtypes.int8, dtypes.int16,
         dtypes.int32, dtypes.int64, dtypes.uint8)


def _window_attrs(op_type, attrs):
    for name in ("strides", "rates"):
        values = [int(v) for v in attrs[name]]
        if len(values) != 4 or values[0] != 1 or values[3] != 1 or min(values) < 1:
            raise ValueError(f"{op_type}: {name} must be [1, rows, cols, 1] of positive ints, "
                             f"got {values}")
        attrs[name] = values
    if attrs.get("padding") not in ("SAME", "VALID"):
        raise ValueError(f"{op_type}: padding must be 'SAME' or 'VALID', got "
                         f"{attrs.get('padding')!r}")


def _output_shape(op_type, images, filters, attrs):
    shape = images.shape.with_rank(4) if images.shape.rank is None else images.shape
    filter_shape = filters.shape.with_rank(3) if filters.shape.rank is None else filters.shape
    if shape.rank != 4 or filter_shape.rank != 3:
        raise ValueError(f"{op_type}: input must be rank 4 and filter rank 3, got {shape} and "
                         f"{filter_shape}")
    dims = []
    for axis in (1, 2):
        size, window = shape[axis], filter_shape[axis - 1]
        stride, rate = attrs["strides"][axis], attrs["rates"][axis]
        if size is None or window is None:
            dims.append(None)
        elif attrs["padding"] == "SAME":
            dims.append(-(-size // stride))
        else:
            effective = (window - 1) * rate + 1
            if size < effective:
                raise ValueError(f"Negative dimension size caused by subtracting {effective} "
                                 f"from {size} for '{op_type}'")
            dims.append((size - effective) // stride + 1)
    return TensorShape([shape[0], dims[0], dims[1], shape[3]])


def _dilation_infer(inputs, attrs):
    images, filters = inputs
    _infer.check_dtype("Dilation2D", images, _REAL, "input")
    _infer.same_dtype("Dilation2D", inputs)
    _window_attrs("Dilation2D", attrs)
    attrs["T"] = images.dtype
    return [(images.dtype, _output_shape("Dilation2D", images, filters, attrs))]


def _backprop_infer(op_type, output_index):
    def infer(inputs, attrs):
        _infer.same_dtype(op_type, inputs)
        _window_attrs(op_type, attrs)
        attrs["T"] = inputs[0].dtype
        return [(inputs[0].dtype, inputs[output_index].shape)]

    return infer


def _window_attr_values(op):
    return {name: op.get_attr(name) for name in ("strides", "rates", "padding")}


def _dilation_grad(op, grad):
    images, filters = op.inputs
    attrs = _window_attr_values(op)
    graph = op.graph
    return [graph.create_op("Dilation2DBackpropInput", [images, filters, grad],
                            dict(attrs)).outputs[0],
            graph.create_op("Dilation2DBackpropFilter", [images, filters, grad],
                            dict(attrs)).outputs[0]]


registry.register_op("Dilation2D", infer=_dilation_infer, num_inputs=2, gradient=_dilation_grad,
                     doc="Grayscale dilation of an NHWC input by an HWC structuring function.")
registry.register_op("Dilation2DBackpropInput",
                     infer=_backprop_infer("Dilation2DBackpropInput", 0), num_inputs=3,
                     gradient=registry.NOT_DIFFERENTIABLE,
                     doc="The gradient of Dilation2D with respect to its input.")
registry.register_op("Dilation2DBackpropFilter",
                     infer=_backprop_infer("Dilation2DBackpropFilter", 1), num_inputs=3,
                     gradient=registry.NOT_DIFFERENTIABLE,
                     doc="The gradient of Dilation2D with respect to its filter.")


def dilation2d(input=None, filter=None, strides=None, rates=None,  # noqa: A002
               padding=None, name=None, filters=None, dilations=None):
    """Grayscale dilation (``tf.nn.dilation2d``, op ``Dilation2D``): the max over the filter
    taps of the shifted input plus the tap's value, per channel.

    Args:
      input: a 4-D NHWC real tensor.
      filter: ``[filter_height, filter_width, depth]`` of the same dtype (``filters`` is its
        alias).
      strides: ``[1, stride_h, stride_w, 1]``.
      rates: ``[1, rate_h, rate_w, 1]``, the input stride between taps (``dilations``).
      padding: ``"SAME"`` or ``"VALID"``.
      name: the op name.

    Returns:
      The dilated ``[batch, out_h, out_w, depth]`` tensor.

    Raises:
      ValueError: for bad strides, rates or padding, or wrong ranks.
    """
    filter = filters if filter is None else filter  # noqa: A001
    rates = dilations if rates is None else rates
    graph = math_ops._find_graph((input, filter))
    with graph.as_default(), graph.name_scope(name or "dilation2d") as scope:
        images = graph_lib.convert_to_tensor(input, name="input")
        kernel = graph_lib.convert_to_tensor(filter, dtype=images.dtype, name="filter")
        return graph.create_op("Dilation2D", [images, kernel],
                               {"strides": list(strides), "rates": list(rates),
                                "padding": padding}, name=scope).outputs[0]


def erosion2d(value, kernel, strides, rates, padding, name=None):
    """Grayscale erosion (``tf.nn.erosion2d``): ``-dilation2d(-value, kernel reversed in
    height and width)``.

    Args:
      value: a 4-D NHWC real tensor.
      kernel: ``[kernel_height, kernel_width, depth]``.
      strides, rates: ``[1, rows, cols, 1]``.
      padding: ``"SAME"`` or ``"VALID"``.
      name: the op name.

    Returns:
      The eroded tensor.
    """
    with graph_lib.name_scope(name, "erosion2d", [value, kernel]) as scope:
        value = graph_lib.convert_to_tensor(value, name="value")
        kernel = graph_lib.convert_to_tensor(kernel, dtype=value.dtype, name="kernel")
        dilated = dilation2d(math_ops.negative(value), manipulation_ops.reverse(kernel, [0, 1]),
                             strides, rates, padding)
        return math_ops.negative(dilated, name=scope)
