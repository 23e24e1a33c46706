"""Convolutions and pooling: ``tf.nn.conv2d``, ``conv2d_transpose``, ``depthwise_conv2d``,
``max_pool`` and ``avg_pool``, their backprop ops and their gradients.

Each op is registered once, with TF's name, inputs and attrs (``strides``, ``padding``,
``explicit_paddings``, ``data_format``, ``dilations``, ``ksize``), its static shape inference
and its gradient. The kernels are bound by name in
``runtime/kernels/convolution_kernels.py``; this module imports none.

Layout. Every op takes ``data_format`` 'NHWC' or 'NCHW' (shapes inferred in that layout, as
TF does). TF's CPU kernels refuse NCHW; the kernels here run it (as transposes around the NHWC
loops), so a channels_first graph runs and its gradients, built from the same ops with the
same attrs, too. Strides, dilations and window sizes other than 1 in the batch or depth
dimension are run-time errors (`UnimplementedError`), as in TF.

Geometry (TF's ``GetWindowedOutputSize``), with the effective window ``(k - 1) * d + 1``:
``VALID`` gives ``ceil((in - eff + 1) / s)``, ``SAME`` gives ``ceil(in / s)`` with
``max((out - 1) * s + eff - in, 0)`` padding split as ``(total // 2, total - total // 2)``,
``EXPLICIT`` the given pads.
"""

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework import registry
from sessionlib.framework.tensor_shape import TensorShape
from sessionlib.ops import _infer, array_ops, math_ops
from sessionlib.ops.nn import nn

__all__ = ["conv2d", "conv2d_backprop_input", "conv2d_backprop_filter", "conv2d_transpose",
           "depthwise_conv2d", "depthwise_conv2d_native",
           "depthwise_conv2d_native_backprop_input", "depthwise_conv2d_native_backprop_filter",
           "max_pool", "avg_pool"]

_FLOATS = (dtypes.float16, dtypes.float32, dtypes.float64)
# MaxPool is also defined on integers in TF (a max needs no arithmetic).
_MAX_POOL_DTYPES = _FLOATS + (dtypes.int32, dtypes.int64)
_PADDINGS = ("SAME", "VALID", "EXPLICIT")
_POOL_PADDINGS = ("SAME", "VALID")


# ---- attrs and geometry ------------------------------------------------------------------------

def _check_padding(op_type, attrs, allowed=_PADDINGS):
    padding = attrs.get("padding")
    if isinstance(padding, bytes):
        padding = attrs["padding"] = padding.decode()
    if padding not in allowed:
        raise ValueError(f"Attr 'padding' of '{op_type}' Op passed string {padding!r} not in: "
                         + ", ".join(f'"{p}"' for p in allowed) + ".")
    explicit = list(attrs.setdefault("explicit_paddings", []))
    if padding == "EXPLICIT":
        if len(explicit) != 8 or any(int(p) < 0 for p in explicit):
            raise ValueError(f"{op_type}: explicit_paddings must hold 8 non-negative values, "
                             f"got {explicit}")
    elif explicit:
        raise ValueError(f"{op_type}: explicit_paddings must be empty unless padding is "
                         f"EXPLICIT, got {explicit}")
    return padding


def _check_list(op_type, attrs, name, default=None):
    value = attrs.get(name, default)
    if value is None:
        raise ValueError(f"{op_type} needs the attr {name!r}")
    value = [int(v) for v in value]
    if len(value) != 4:
        raise ValueError(f"{op_type}: {name} must have 4 elements, got {value}")
    if any(v < 1 for v in value):
        raise ValueError(f"{op_type}: {name} must be positive, got {value}")
    attrs[name] = value
    return value


def _data_format(op_type, attrs):
    data_format = attrs.setdefault("data_format", "NHWC")
    if isinstance(data_format, bytes):
        data_format = attrs["data_format"] = data_format.decode()
    if data_format not in ("NHWC", "NCHW"):
        raise ValueError(f"{op_type}: unknown data_format {data_format!r}")
    return data_format


def _spatial_axes(data_format):
    return (1, 2) if data_format == "NHWC" else (2, 3)


def _channel_axis(data_format):
    return 3 if data_format == "NHWC" else 1


def _output_size(op_type, size, window, stride, dilation, padding, pads, shapes=""):
    """One spatial output size (None when `size` is unknown). Raises ValueError when negative."""
    if size is None or window is None:
        return None
    effective = (window - 1) * dilation + 1
    if padding == "SAME":
        return -(-size // stride)
    if padding == "EXPLICIT":
        size = size + pads[0] + pads[1]
    if size < effective:
        raise ValueError(f"Negative dimension size caused by subtracting {effective} from "
                         f"{size} for '{op_type}'{shapes}")
    return (size - effective) // stride + 1


def _windowed_shape(op_type, input_shape, windows, attrs, out_channels, padding):
    """The output shape of a windowed op on a rank-4 `input_shape`."""
    data_format = attrs["data_format"]
    strides, dilations = attrs["strides"], attrs.get("dilations", [1, 1, 1, 1])
    explicit = attrs.get("explicit_paddings") or [0] * 8
    dims = input_shape.as_list() if input_shape.rank is not None else [None] * 4
    out = list(dims)
    for axis, window in zip(_spatial_axes(data_format), windows):
        out[axis] = _output_size(op_type, dims[axis], window, strides[axis], dilations[axis],
                                 padding, explicit[2 * axis:2 * axis + 2],
                                 f" with input shapes: {input_shape}")
    out[_channel_axis(data_format)] = out_channels
    return TensorShape(out)


def _conv_attrs(op_type, attrs):
    data_format = _data_format(op_type, attrs)
    padding = _check_padding(op_type, attrs)
    _check_list(op_type, attrs, "strides")
    _check_list(op_type, attrs, "dilations", [1, 1, 1, 1])
    return data_format, padding


def _merge_dim(op_type, a, b, what):
    if a is not None and b is not None and a != b:
        raise ValueError(f"Dimensions must be equal, but are {a} and {b} for '{op_type}' "
                         f"({what})")
    return a if a is not None else b


# ---- Conv2D and its backprop ops -----------------------------------------------------------

def _conv2d_infer(inputs, attrs):
    x, w = inputs
    dtype = _infer.same_dtype("Conv2D", inputs, names=("input", "filter"))
    _infer.check_dtype("Conv2D", x, _FLOATS, "input")
    attrs["T"] = dtype
    attrs.setdefault("use_cudnn_on_gpu", True)
    data_format, padding = _conv_attrs("Conv2D", attrs)
    x_shape, w_shape = x.shape.with_rank(4), w.shape.with_rank(4)
    in_depth = x_shape[_channel_axis(data_format)]
    if in_depth is not None and w_shape[2] is not None and in_depth % w_shape[2] != 0:
        raise ValueError(f"Depth of input ({in_depth}) is not a multiple of input depth of "
                         f"filter ({w_shape[2]}) for 'Conv2D' with input shapes: {x_shape}, "
                         f"{w_shape}.")
    shape = _windowed_shape("Conv2D", x_shape, (w_shape[0], w_shape[1]), attrs, w_shape[3],
                            padding)
    return [(dtype, shape)]


def _conv2d_backprop_input_infer(inputs, attrs):
    sizes, w, dy = inputs
    dtype = _infer.same_dtype("Conv2DBackpropInput", (w, dy), names=("filter", "out_backprop"))
    _infer.check_dtype("Conv2DBackpropInput", w, _FLOATS, "filter")
    _infer.check_index_dtype("Conv2DBackpropInput", sizes, "input_sizes")
    attrs["T"] = dtype
    attrs.setdefault("use_cudnn_on_gpu", True)
    data_format, _ = _conv_attrs("Conv2DBackpropInput", attrs)
    w_shape, dy_shape = w.shape.with_rank(4), dy.shape.with_rank(4)
    shape = _infer.shape_from_tensor(sizes)
    if shape.rank is None:
        shape = TensorShape([None] * 4)
    shape = shape.with_rank(4)
    channel = _channel_axis(data_format)
    _merge_dim("Conv2DBackpropInput", w_shape[3], dy_shape[channel],
               f"filter {w_shape} and out_backprop {dy_shape}")
    dims = shape.as_list()
    dims[0] = _merge_dim("Conv2DBackpropInput", dims[0], dy_shape[0], "batch")
    dims[channel] = _merge_dim("Conv2DBackpropInput", dims[channel], w_shape[2],
                               f"input_sizes {shape} and filter {w_shape}")
    return [(dtype, TensorShape(dims))]


def _conv2d_backprop_filter_infer(inputs, attrs):
    x, sizes, dy = inputs
    dtype = _infer.same_dtype("Conv2DBackpropFilter", (x, dy), names=("input", "out_backprop"))
    _infer.check_dtype("Conv2DBackpropFilter", x, _FLOATS, "input")
    _infer.check_index_dtype("Conv2DBackpropFilter", sizes, "filter_sizes")
    attrs["T"] = dtype
    attrs.setdefault("use_cudnn_on_gpu", True)
    _conv_attrs("Conv2DBackpropFilter", attrs)
    x.shape.with_rank(4)
    dy.shape.with_rank(4)
    shape = _infer.shape_from_tensor(sizes)
    return [(dtype, TensorShape([None] * 4) if shape.rank is None else shape.with_rank(4))]


def _conv_attrs_of(op, names=("strides", "padding", "explicit_paddings", "data_format",
                               "dilations")):
    return {name: op.get_attr(name) for name in names}


def _conv2d_grad(op, grad):
    x, w = op.inputs
    attrs = _conv_attrs_of(op)
    return [_create("Conv2DBackpropInput", [array_ops.shape(x), w, grad], attrs),
            _create("Conv2DBackpropFilter", [x, array_ops.shape(w), grad], attrs)]


def _conv2d_backprop_input_grad(op, grad):
    # The input gradient is linear in (filter, out_backprop): its adjoints are TF's.
    _, w, dy = op.inputs
    attrs = _conv_attrs_of(op)
    return [None,
            _create("Conv2DBackpropFilter", [grad, array_ops.shape(w), dy], attrs),
            _create("Conv2D", [grad, w], attrs)]


def _conv2d_backprop_filter_grad(op, grad):
    x, _, dy = op.inputs
    attrs = _conv_attrs_of(op)
    return [_create("Conv2DBackpropInput", [array_ops.shape(x), grad, dy], attrs),
            None,
            _create("Conv2D", [x, grad], attrs)]


registry.register_op("Conv2D", infer=_conv2d_infer, num_inputs=2, gradient=_conv2d_grad,
                     doc="2-D convolution of an NHWC input with an HWIO filter.")
registry.register_op("Conv2DBackpropInput", infer=_conv2d_backprop_input_infer, num_inputs=3,
                     gradient=_conv2d_backprop_input_grad,
                     doc="The gradient of Conv2D with respect to its input.")
registry.register_op("Conv2DBackpropFilter", infer=_conv2d_backprop_filter_infer,
                     num_inputs=3, gradient=_conv2d_backprop_filter_grad,
                     doc="The gradient of Conv2D with respect to its filter.")


# ---- depthwise convolution -------------------------------------------------------------------

def _depthwise_infer(inputs, attrs):
    x, w = inputs
    op_type = "DepthwiseConv2dNative"
    dtype = _infer.same_dtype(op_type, inputs, names=("input", "filter"))
    _infer.check_dtype(op_type, x, _FLOATS, "input")
    attrs["T"] = dtype
    data_format, padding = _conv_attrs(op_type, attrs)
    x_shape, w_shape = x.shape.with_rank(4), w.shape.with_rank(4)
    in_depth = _merge_dim(op_type, x_shape[_channel_axis(data_format)], w_shape[2],
                          f"input {x_shape} and filter {w_shape}")
    out_depth = None if in_depth is None or w_shape[3] is None else in_depth * w_shape[3]
    return [(dtype, _windowed_shape(op_type, x_shape, (w_shape[0], w_shape[1]), attrs,
                                    out_depth, padding))]


def _depthwise_backprop_input_infer(inputs, attrs):
    sizes, w, dy = inputs
    op_type = "DepthwiseConv2dNativeBackpropInput"
    dtype = _infer.same_dtype(op_type, (w, dy), names=("filter", "out_backprop"))
    _infer.check_dtype(op_type, w, _FLOATS, "filter")
    _infer.check_index_dtype(op_type, sizes, "input_sizes")
    attrs["T"] = dtype
    _conv_attrs(op_type, attrs)
    w.shape.with_rank(4)
    dy.shape.with_rank(4)
    shape = _infer.shape_from_tensor(sizes)
    return [(dtype, TensorShape([None] * 4) if shape.rank is None else shape.with_rank(4))]


def _depthwise_backprop_filter_infer(inputs, attrs):
    x, sizes, dy = inputs
    op_type = "DepthwiseConv2dNativeBackpropFilter"
    dtype = _infer.same_dtype(op_type, (x, dy), names=("input", "out_backprop"))
    _infer.check_dtype(op_type, x, _FLOATS, "input")
    _infer.check_index_dtype(op_type, sizes, "filter_sizes")
    attrs["T"] = dtype
    _conv_attrs(op_type, attrs)
    x.shape.with_rank(4)
    dy.shape.with_rank(4)
    shape = _infer.shape_from_tensor(sizes)
    return [(dtype, TensorShape([None] * 4) if shape.rank is None else shape.with_rank(4))]


def _depthwise_grad(op, grad):
    x, w = op.inputs
    attrs = _conv_attrs_of(op)
    return [_create("DepthwiseConv2dNativeBackpropInput", [array_ops.shape(x), w, grad], attrs),
            _create("DepthwiseConv2dNativeBackpropFilter", [x, array_ops.shape(w), grad],
                    attrs)]


def _depthwise_backprop_input_grad(op, grad):
    _, w, dy = op.inputs
    attrs = _conv_attrs_of(op)
    return [None,
            _create("DepthwiseConv2dNativeBackpropFilter", [grad, array_ops.shape(w), dy],
                    attrs),
            _create("DepthwiseConv2dNative", [grad, w], attrs)]


def _depthwise_backprop_filter_grad(op, grad):
    x, _, dy = op.inputs
    attrs = _conv_attrs_of(op)
    return [_create("DepthwiseConv2dNativeBackpropInput", [array_ops.shape(x), grad, dy],
                    attrs),
            None,
            _create("DepthwiseConv2dNative", [x, grad], attrs)]


registry.register_op("DepthwiseConv2dNative", infer=_depthwise_infer, num_inputs=2,
                     gradient=_depthwise_grad,
                     doc="Depthwise 2-D convolution: each input channel gets its own filters.")
registry.register_op("DepthwiseConv2dNativeBackpropInput",
                     infer=_depthwise_backprop_input_infer, num_inputs=3,
                     gradient=_depthwise_backprop_input_grad,
                     doc="The gradient of DepthwiseConv2dNative with respect to its input.")
registry.register_op("DepthwiseConv2dNativeBackpropFilter",
                     infer=_depthwise_backprop_filter_infer, num_inputs=3,
                     gradient=_depthwise_backprop_filter_grad,
                     doc="The gradient of DepthwiseConv2dNative with respect to its filter.")


# ---- pooling ---------------------------------------------------------------------------------

def _pool_attrs(op_type, attrs):
    data_format = _data_format(op_type, attrs)
    padding = _check_padding(op_type, attrs, _POOL_PADDINGS)
    if op_type.startswith("AvgPool"):
        attrs.pop("explicit_paddings", None)  # AvgPool has no such attr in TF
    ksize = _check_list(op_type, attrs, "ksize")
    _check_list(op_type, attrs, "strides")
    return data_format, padding, ksize


def _pool_shape(op_type, x_shape, attrs):
    data_format, padding, ksize = _pool_attrs(op_type, attrs)
    x_shape = x_shape.with_rank(4)
    windows = [ksize[axis] for axis in _spatial_axes(data_format)]
    return _windowed_shape(op_type, x_shape, windows, attrs,
                           x_shape[_channel_axis(data_format)], padding)


def _max_pool_infer(inputs, attrs):
    _infer.check_dtype("MaxPool", inputs[0], _MAX_POOL_DTYPES, "input")
    attrs["T"] = inputs[0].dtype
    return [(inputs[0].dtype, _pool_shape("MaxPool", inputs[0].shape, attrs))]


def _max_pool_grad_infer(inputs, attrs):
    dtype = _infer.same_dtype("MaxPoolGrad", inputs, names=("orig_input", "orig_output"))
    _infer.same_dtype("MaxPoolGrad", inputs[1:], names=("orig_output", "grad"))
    _infer.check_dtype("MaxPoolGrad", inputs[0], _FLOATS, "orig_input")
    attrs["T"] = dtype
    _pool_attrs("MaxPoolGrad", attrs)
    return [(dtype, inputs[0].shape.with_rank(4))]


def _avg_pool_infer(inputs, attrs):
    _infer.check_dtype("AvgPool", inputs[0], _FLOATS, "value")
    attrs["T"] = inputs[0].dtype
    return [(inputs[0].dtype, _pool_shape("AvgPool", inputs[0].shape, attrs))]


def _avg_pool_grad_infer(inputs, attrs):
    sizes, grad = inputs
    _infer.check_dtype("AvgPoolGrad", grad, _FLOATS, "grad")
    _infer.check_dtype("AvgPoolGrad", sizes, (dtypes.int32,), "orig_input_shape")
    attrs["T"] = grad.dtype
    _pool_attrs("AvgPoolGrad", attrs)
    grad.shape.with_rank(4)
    shape = _infer.shape_from_tensor(sizes)
    return [(grad.dtype, TensorShape([None] * 4) if shape.rank is None else shape.with_rank(4))]


def _pool_attrs_of(op, explicit=True):
    names = ("ksize", "strides", "padding", "data_format")
    attrs = {name: op.get_attr(name) for name in names}
    if explicit:
        attrs["explicit_paddings"] = op.get_attr("explicit_paddings")
    return attrs


def _max_pool_grad(op, grad):
    return [_create("MaxPoolGrad", [op.inputs[0], op.outputs[0], grad], _pool_attrs_of(op))]


def _avg_pool_grad(op, grad):
    return [_create("AvgPoolGrad", [array_ops.shape(op.inputs[0], out_type=dtypes.int32), grad],
                    _pool_attrs_of(op, explicit=False))]


def _avg_pool_grad_grad(op, grad):
    # AvgPoolGrad is linear in its gradient input, and its adjoint is AvgPool itself.
    return [None, _create("AvgPool", [grad], _pool_attrs_of(op, explicit=False))]


registry.register_op("MaxPool", infer=_max_pool_infer, num_inputs=1, gradient=_max_pool_grad,
                     doc="The maximum over each window.")
registry.register_op("MaxPoolGrad", infer=_max_pool_grad_infer, num_inputs=3,
                     gradient=registry.NOT_DIFFERENTIABLE,
                     doc="Routes each window's gradient to its (first) maximum.")
registry.register_op("AvgPool", infer=_avg_pool_infer, num_inputs=1, gradient=_avg_pool_grad,
                     doc="The mean over each window, padding excluded.")
registry.register_op("AvgPoolGrad", infer=_avg_pool_grad_infer, num_inputs=2,
                     gradient=_avg_pool_grad_grad,
                     doc="Spreads each window's gradient evenly over its valid inputs.")


# ---- wrappers --------------------------------------------------------------------------------

def _create(op_type, inputs, attrs, name=None):
    graph = math_ops._find_graph(inputs)
    return graph.create_op(op_type, inputs, dict(attrs), name=name or op_type).outputs[0]


def _get_sequence(value, name, data_format, default=None):
    """TF's ``_get_sequence``: an int, or 1, N or N + 2 values (N spatial dimensions), as a list
    of N + 2 in `data_format`'s order ('NHWC', 'NCDHW' ...), 1 in batch and channels."""
    if value is None:
        value = default
    if isinstance(value, int):
        value = [value]
    value = [int(v) for v in value]
    spatial = [axis for axis, letter in enumerate(data_format) if letter not in "NC"]
    if len(value) == 1:
        value = value * len(spatial)
    if len(value) == len(spatial):
        full = [1] * len(data_format)
        for axis, size in zip(spatial, value):
            full[axis] = size
        return full
    if len(value) == len(data_format):
        return value
    raise ValueError(f"{name} should be of length 1, {len(spatial)} or {len(data_format)}. "
                     f"Received: {name}={value} of length {len(value)}")


def _padding_attrs(padding, data_format):
    """(padding, explicit_paddings): a list of pairs becomes EXPLICIT, as in TF."""
    if isinstance(padding, (list, tuple)):
        pairs = [list(pair) for pair in padding]
        if len(pairs) != 4 or any(len(pair) != 2 for pair in pairs):
            raise ValueError(f"When padding is a list, it must be of the form "
                             f"[[0, 0], [pad_top, pad_bottom], [pad_left, pad_right], [0, 0]], "
                             f"got {padding}")
        batch, channel = 0, _channel_axis(data_format)
        if pairs[batch] != [0, 0] or pairs[channel] != [0, 0]:
            raise ValueError("Explicit padding of the batch or depth dimension is not "
                             f"supported, got {padding}")
        return "EXPLICIT", [int(p) for pair in pairs for p in pair]
    if isinstance(padding, bytes):
        padding = padding.decode()
    if not isinstance(padding, str):
        raise TypeError(f"padding must be a string or a list of pairs, got {padding!r}")
    return padding.upper(), []


def _conv_op_attrs(strides, padding, data_format, dilations):
    data_format = data_format or "NHWC"
    padding, explicit = _padding_attrs(padding, data_format)
    return {"strides": _get_sequence(strides, "strides", data_format),
            "padding": padding, "explicit_paddings": explicit, "data_format": data_format,
            "dilations": _get_sequence(dilations, "dilations", data_format, default=1)}


def _build(op_type, values, arg_names, name, attrs, size_arg=None):
    """Builds `op_type`; the shape argument `size_arg` (an index) is converted to int32."""
    if size_arg is None:
        return math_ops._make_op(op_type, values, arg_names, name, attrs).outputs[0]
    graph = math_ops._find_graph(values)
    if all(isinstance(v, graph_lib.Tensor) for v in values):
        return graph.create_op(op_type, list(values), attrs, name=name or op_type).outputs[0]
    with graph.as_default(), graph.name_scope(name or op_type) as scope:
        others = [i for i in range(len(values)) if i != size_arg]
        tensors = math_ops._convert_operands([values[i] for i in others],
                                             [arg_names[i] for i in others], graph)
        sizes = values[size_arg]
        if not isinstance(sizes, graph_lib.Tensor):
            sizes = graph_lib.convert_to_tensor(_sizes(sizes), name=arg_names[size_arg],
                                                graph=graph)
        tensors.insert(size_arg, sizes)
        return graph.create_op(op_type, tensors, attrs, name=scope).outputs[0]


def conv2d(input, filter=None, strides=None, padding=None,  # noqa: A002 - TF's names
           use_cudnn_on_gpu=True, data_format="NHWC", dilations=None, name=None,
           filters=None):
    """2-D convolution (op ``Conv2D``), TF 1's ``tf.nn.conv2d``.

    ``output[b, i, j, k] = sum_{di, dj, q} input[b, s_h*i + d_h*di - pad_top,
    s_w*j + d_w*dj - pad_left, q] * filter[di, dj, q, k]``.

    Args:
      input: a float Tensor ``[batch, height, width, in_channels]`` (NHWC).
      filter: a Tensor ``[filter_height, filter_width, in_channels, out_channels]``.
      strides: an int or 1, 2 or 4 ints: the window step per dimension.
      padding: 'SAME', 'VALID', or explicit ``[[0, 0], [top, bottom], [left, right], [0, 0]]``.
      use_cudnn_on_gpu: kept for TF compatibility (an attr; no effect here).
      data_format: 'NHWC' (default) or 'NCHW' (TF's CPU kernel refuses it; this one runs it).
      dilations: an int or 1, 2 or 4 ints: the filter's dilation rates (default 1).
      name: the op name.
      filters: TF 2's name of `filter`.

    Returns:
      A Tensor ``[batch, out_height, out_width, out_channels]`` of `input`'s dtype.

    Raises:
      ValueError: for bad attrs, ranks other than 4, or a channel mismatch.
      TypeError: for non-float or mixed dtypes.
    """
    if filter is None:
        filter = filters  # noqa: A001
    elif filters is not None:
        raise ValueError("conv2d: give either filter or filters, not both")
    if filter is None or strides is None or padding is None:
        raise TypeError("conv2d() needs input, filter, strides and padding")
    attrs = _conv_op_attrs(strides, padding, data_format, dilations)
    attrs["use_cudnn_on_gpu"] = bool(use_cudnn_on_gpu)
    return _build("Conv2D", (input, filter), ("input", "filter"), name, attrs)


def conv2d_backprop_input(input_sizes, filter, out_backprop, strides,  # noqa: A002
                          padding, use_cudnn_on_gpu=True, data_format="NHWC",
                          dilations=None, name=None, filters=None):
    """The gradient of `conv2d` with respect to its input (op ``Conv2DBackpropInput``).

    Args:
      input_sizes: a 1-D int32 Tensor, the input's shape ``[batch, height, width, channels]``.
      filter: the convolution's filter ``[fh, fw, in_channels, out_channels]``.
      out_backprop: the gradient of the output ``[batch, out_h, out_w, out_channels]``.
      strides, padding, use_cudnn_on_gpu, data_format, dilations: as for `conv2d`.
      name: the op name.
      filters: TF 2's name of `filter`.

    Returns:
      A Tensor of shape `input_sizes`.
    """
    filter = filters if filter is None else filter  # noqa: A001
    attrs = _conv_op_attrs(strides, padding, data_format, dilations)
    attrs["use_cudnn_on_gpu"] = bool(use_cudnn_on_gpu)
    return _build("Conv2DBackpropInput", (input_sizes, filter, out_backprop),
                  ("input_sizes", "filter", "out_backprop"), name, attrs, size_arg=0)


def conv2d_backprop_filter(input, filter_sizes, out_backprop, strides,  # noqa: A002
                           padding, use_cudnn_on_gpu=True, data_format="NHWC",
                           dilations=None, name=None):
    """The gradient of `conv2d` with respect to its filter (op ``Conv2DBackpropFilter``).

    Args:
      input: the convolution's input.
      filter_sizes: a 1-D int32 Tensor, the filter's shape.
      out_backprop: the gradient of the output.
      strides, padding, use_cudnn_on_gpu, data_format, dilations: as for `conv2d`.
      name: the op name.

    Returns:
      A Tensor of shape `filter_sizes`.
    """
    attrs = _conv_op_attrs(strides, padding, data_format, dilations)
    attrs["use_cudnn_on_gpu"] = bool(use_cudnn_on_gpu)
    return _build("Conv2DBackpropFilter", (input, filter_sizes, out_backprop),
                  ("input", "filter_sizes", "out_backprop"), name, attrs, size_arg=1)


def _sizes(value):
    """A shape argument: Tensors pass, Python values become int32 constants."""
    if isinstance(value, graph_lib.Tensor):
        return value
    if isinstance(value, TensorShape):
        value = value.as_list()
    import numpy as np

    return np.asarray(value, dtype=np.int32)


def conv2d_transpose(value=None, filter=None, output_shape=None, strides=None,  # noqa: A002
                     padding="SAME", data_format="NHWC", name=None, input=None,  # noqa: A002
                     filters=None, dilations=None):
    """The transpose of `conv2d` (op ``Conv2DBackpropInput``), TF 1's ``tf.nn.conv2d_transpose``.

    Args:
      value: a Tensor ``[batch, height, width, in_channels]``.
      filter: a Tensor ``[fh, fw, output_channels, in_channels]`` (in and out are swapped
        with respect to `conv2d`: this is conv2d's input gradient).
      output_shape: a 1-D int Tensor or list, the output's shape.
      strides: an int or 1, 2 or 4 ints.
      padding: 'SAME' (default), 'VALID' or explicit pairs.
      data_format: 'NHWC' or 'NCHW'.
      name: the op name; default 'conv2d_transpose'.
      input, filters, dilations: TF 2's names (`input` for `value`, `filters` for `filter`).

    Returns:
      A Tensor of shape `output_shape`.

    Raises:
      ValueError: if the channels of `value`, `filter` and `output_shape` disagree statically.
    """
    value = input if value is None else value
    filter = filters if filter is None else filter  # noqa: A001
    if value is None or filter is None or output_shape is None or strides is None:
        raise TypeError("conv2d_transpose() needs value, filter, output_shape and strides")
    graph = math_ops._find_graph((value, filter))
    with graph.as_default(), graph.name_scope(name or "conv2d_transpose") as scope:
        value_t = graph_lib.convert_to_tensor(value, name="value")
        filter_t = graph_lib.convert_to_tensor(filter, name="filter")
        sizes = output_shape
        if not isinstance(sizes, graph_lib.Tensor):
            sizes = graph_lib.convert_to_tensor(_sizes(sizes), name="input_sizes")
        channel = _channel_axis(data_format or "NHWC")
        in_channels = value_t.shape.with_rank(4)[channel]
        _merge_dim("conv2d_transpose", filter_t.shape.with_rank(4)[3], in_channels,
                   f"filter {filter_t.shape} and value {value_t.shape}")
        attrs = _conv_op_attrs(strides, padding, data_format, dilations)
        attrs["use_cudnn_on_gpu"] = True
        return graph.create_op("Conv2DBackpropInput", [sizes, filter_t, value_t], attrs,
                               name=scope).outputs[0]


def depthwise_conv2d_native(input, filter, strides, padding,  # noqa: A002
                            data_format="NHWC", dilations=None, name=None):
    """Depthwise 2-D convolution (op ``DepthwiseConv2dNative``).

    ``output[b, i, j, k * M + q] = sum_{di, dj} input[b, s_h*i + d_h*di - pad_top,
    s_w*j + d_w*dj - pad_left, k] * filter[di, dj, k, q]``.

    Args:
      input: a float Tensor ``[batch, height, width, in_channels]``.
      filter: a Tensor ``[fh, fw, in_channels, channel_multiplier]``.
      strides, padding, data_format, dilations: as for `conv2d`.
      name: the op name.

    Returns:
      A Tensor ``[batch, out_h, out_w, in_channels * channel_multiplier]``.
    """
    attrs = _conv_op_attrs(strides, padding, data_format, dilations)
    return _build("DepthwiseConv2dNative", (input, filter), ("input", "filter"), name, attrs)


def depthwise_conv2d(input, filter, strides, padding, rate=None, name=None,  # noqa: A002
                     data_format=None, dilations=None):
    """``tf.nn.depthwise_conv2d``: a depthwise convolution with an optional atrous `rate`.

    TF builds a rate above 1 from SpaceToBatchND, the native op and BatchToSpaceND; this passes
    it as the native op's `dilations`, which computes the same values in one op.

    Args:
      input: a float Tensor ``[batch, height, width, in_channels]``.
      filter: a Tensor ``[fh, fw, in_channels, channel_multiplier]``.
      strides: 4 ints (or 1 or 2); must be 1 where `rate` is above 1, as in TF.
      padding: 'SAME' or 'VALID'.
      rate: 2 ints (or one), the dilation rate; default 1.
      name: the op name; default 'depthwise'.
      data_format: 'NHWC' (default) or 'NCHW'.
      dilations: TF 2's name of `rate`.

    Returns:
      A Tensor ``[batch, out_h, out_w, in_channels * channel_multiplier]``.

    Raises:
      ValueError: when `rate` above 1 is combined with strides above 1.
    """
    data_format = data_format or "NHWC"
    rate = dilations if rate is None else rate
    rates = _get_sequence(rate, "rate", data_format, default=1)
    steps = _get_sequence(strides, "strides", data_format)
    if any(r > 1 for r in rates) and any(s > 1 for s in steps):
        raise ValueError(f"When dilation rate is greater than 1, then all values of strides "
                         f"must be 1. Received: dilation rate {rates} and strides {steps}")
    return depthwise_conv2d_native(input, filter, steps, padding, data_format, rates,
                                   name=name or "depthwise")


def depthwise_conv2d_native_backprop_input(input_sizes, filter, out_backprop,  # noqa: A002
                                           strides, padding, data_format="NHWC",
                                           dilations=None, name=None):
    """The gradient of the depthwise convolution with respect to its input."""
    attrs = _conv_op_attrs(strides, padding, data_format, dilations)
    return _build("DepthwiseConv2dNativeBackpropInput",
                  (input_sizes, filter, out_backprop),
                  ("input_sizes", "filter", "out_backprop"), name, attrs, size_arg=0)


def depthwise_conv2d_native_backprop_filter(input, filter_sizes, out_backprop,  # noqa: A002
                                            strides, padding, data_format="NHWC",
                                            dilations=None, name=None):
    """The gradient of the depthwise convolution with respect to its filter."""
    attrs = _conv_op_attrs(strides, padding, data_format, dilations)
    return _build("DepthwiseConv2dNativeBackpropFilter",
                  (input, filter_sizes, out_backprop),
                  ("input", "filter_sizes", "out_backprop"), name, attrs, size_arg=1)


def _pool(op_type, value, ksize, strides, padding, data_format, name, explicit):
    data_format = data_format or "NHWC"
    if isinstance(padding, bytes):
        padding = padding.decode()
    if not isinstance(padding, str):
        raise TypeError(f"{op_type}: padding must be 'SAME' or 'VALID', got {padding!r}")
    attrs = {"ksize": _get_sequence(ksize, "ksize", data_format),
             "strides": _get_sequence(strides, "strides", data_format),
             "padding": padding.upper(), "data_format": data_format}
    if explicit:
        attrs["explicit_paddings"] = []
    return _build(op_type, (value,), ("value",), name, attrs)


def max_pool(value=None, ksize=None, strides=None, padding=None, data_format="NHWC",
             name=None, input=None):  # noqa: A002 - TF's name
    """Max pooling (op ``MaxPool``), TF 1's ``tf.nn.max_pool``.

    Args:
      value: a Tensor ``[batch, height, width, channels]`` (float, int32 or int64).
      ksize: an int or 1, 2 or 4 ints: the window size.
      strides: an int or 1, 2 or 4 ints: the window step.
      padding: 'SAME' or 'VALID' (padding never wins a maximum).
      data_format: 'NHWC' (default) or 'NCHW' (TF's CPU kernel refuses it; this one runs it).
      name: the op name.
      input: TF 2's name of `value`.

    Returns:
      A Tensor ``[batch, out_h, out_w, channels]`` of `value`'s dtype.
    """
    value = input if value is None else value
    return _pool("MaxPool", value, ksize, strides, padding, data_format, name, True)


def avg_pool(value=None, ksize=None, strides=None, padding=None, data_format="NHWC",
             name=None, input=None):  # noqa: A002 - TF's name
    """Average pooling (op ``AvgPool``), TF 1's ``tf.nn.avg_pool``.

    Each output is the mean of the window's elements inside the input: padding is not counted.

    Args:
      value: a float Tensor ``[batch, height, width, channels]``.
      ksize, strides, padding, data_format, name, input: as for `max_pool`.

    Returns:
      A Tensor ``[batch, out_h, out_w, channels]`` of `value`'s dtype.
    """
    value = input if value is None else value
    return _pool("AvgPool", value, ksize, strides, padding, data_format, name, False)


for _name in ("conv2d", "conv2d_backprop_input", "conv2d_backprop_filter", "conv2d_transpose",
              "depthwise_conv2d", "depthwise_conv2d_native",
              "depthwise_conv2d_native_backprop_input",
              "depthwise_conv2d_native_backprop_filter", "max_pool", "avg_pool"):
    setattr(nn, _name, globals()[_name])
