"""3-D convolution and pooling: ``tf.nn.conv3d``, ``conv3d_transpose``, ``max_pool3d``,
``avg_pool3d`` and the ops ``Conv3D``, ``Conv3DBackpropInputV2``, ``Conv3DBackpropFilterV2``,
``MaxPool3D``, ``MaxPool3DGrad``, ``AvgPool3D``, ``AvgPool3DGrad``, with their gradients.

Each op is registered once with TF's name, inputs and attrs: ``strides``, ``dilations`` and
``ksize`` (5 ints), ``padding`` ('SAME' or 'VALID'; no explicit padding), ``data_format``
('NDHWC' or 'NCDHW'); the convolution backprop ops take the shape input as ``input_sizes`` /
``filter_sizes`` (``Tshape`` int32 or int64), as TF's V2 ops do, and AvgPool3DGrad its
``orig_input_shape`` (int32). Filters are ``[kd, kh, kw, in_channels, out_channels]`` in both
layouts. The kernels are bound by name in ``runtime/kernels/convolution3d_kernels.py``; this
module imports none.

Geometry is the 2-D one (``nn_convolution_ops._output_size``) along depth, height and width.
Shape inference raises TF's ValueErrors at graph time (ranks, attr lengths, channel
mismatches, negative sizes). TF's CPU kernels refuse dilations above 1 and NCDHW; these run
them (the gradients use the same ops with the same attrs). The pools take float16, float32
and float64 (TF's MaxPool3D and MaxPool3DGrad stop at float32). As the 2-D MaxPoolGrad here,
MaxPool3DGrad is not differentiable (TF's MaxPool3DGradGrad is not provided); AvgPool3DGrad is
(its adjoint is AvgPool3D).
"""

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework import registry
from sessionlib.framework.tensor_shape import TensorShape
from sessionlib.ops import _infer, array_ops, math_ops
from sessionlib.ops import nn_convolution_ops as conv_ops
from sessionlib.ops.nn import nn

__all__ = ["conv3d", "conv3d_transpose", "conv3d_backprop_input_v2",
           "conv3d_backprop_filter_v2", "max_pool3d", "avg_pool3d"]

_FLOATS = (dtypes.float16, dtypes.float32, dtypes.float64)
_PADDINGS = ("SAME", "VALID")


# ---- attrs and geometry ------------------------------------------------------------------------

def _spatial_axes(data_format):
    return (1, 2, 3) if data_format == "NDHWC" else (2, 3, 4)


def _channel_axis(data_format):
    return 4 if data_format == "NDHWC" else 1


def _check_list(op_type, attrs, name, default=None):
    value = attrs.get(name, default)
    if value is None:
        raise ValueError(f"{op_type} needs the attr {name!r}")
    value = [int(v) for v in value]
    if len(value) < 5:
        raise ValueError(f"Attr '{name}' of '{op_type}' Op passed list of length {len(value)} "
                         "less than minimum 5.")
    if len(value) != 5:
        raise ValueError(f"{op_type} requires the {name} attribute to contain 5 values, but "
                         f"got: {len(value)}")
    if any(v < 1 for v in value):
        raise ValueError(f"{op_type}: {name} must be positive, got {value}")
    attrs[name] = value
    return value


def _check_string(op_type, attrs, name, allowed, default=None):
    value = attrs.get(name, default)
    if isinstance(value, bytes):
        value = value.decode()
    if value not in allowed:
        raise ValueError(f"Attr '{name}' of '{op_type}' Op passed string {value!r} not in: "
                         + ", ".join(f'"{a}"' for a in allowed) + ".")
    attrs[name] = value
    return value


def _format_and_padding(op_type, attrs):
    """Checks and normalizes data_format and padding in place; returns both."""
    return (_check_string(op_type, attrs, "data_format", ("NDHWC", "NCDHW"), "NDHWC"),
            _check_string(op_type, attrs, "padding", _PADDINGS))


def _conv3d_attrs(op_type, attrs):
    """Checks and normalizes the attrs in place; returns (data_format, padding)."""
    data_format, padding = _format_and_padding(op_type, attrs)
    _check_list(op_type, attrs, "strides")
    _check_list(op_type, attrs, "dilations", [1] * 5)
    return data_format, padding


def _sizes_shape(sizes):
    shape = _infer.shape_from_tensor(sizes)
    return TensorShape([None] * 5) if shape.rank is None else shape.with_rank(5)


# ---- Conv3D and its backprop ops -------------------------------------------------------------

def _conv3d_infer(inputs, attrs):
    x, w = inputs
    dtype = _infer.same_dtype("Conv3D", inputs, names=("input", "filter"))
    _infer.check_dtype("Conv3D", x, _FLOATS, "input")
    attrs["T"] = dtype
    data_format, padding = _conv3d_attrs("Conv3D", attrs)
    x_shape, w_shape = x.shape.with_rank(5), w.shape.with_rank(5)
    shapes = f" with input shapes: {x_shape}, {w_shape}."
    in_depth, filter_depth, out_depth = x_shape[_channel_axis(data_format)], w_shape[3], \
        w_shape[4]
    if in_depth is not None and filter_depth is not None:
        if in_depth % filter_depth != 0:
            raise ValueError(f"Depth of input ({in_depth}) is not a multiple of input depth "
                             f"of filter ({filter_depth}) for 'Conv3D'{shapes}")
        groups = in_depth // filter_depth
        if out_depth is not None and out_depth % groups != 0:
            raise ValueError(f"Depth of output ({out_depth}) is not a multiple of the number "
                             f"of groups ({groups}) for 'Conv3D'{shapes}")
    dims = x_shape.as_list() if x_shape.rank is not None else [None] * 5
    out = list(dims)
    strides, dilations = attrs["strides"], attrs["dilations"]
    for axis, window in zip(_spatial_axes(data_format), w_shape.as_list()[:3]):
        out[axis] = conv_ops._output_size("Conv3D", dims[axis], window, strides[axis],
                                          dilations[axis], padding, None, shapes)
    out[_channel_axis(data_format)] = out_depth
    return [(dtype, TensorShape(out))]


def _conv3d_backprop_input_infer(inputs, attrs):
    op_type = "Conv3DBackpropInputV2"
    sizes, w, dy = inputs
    dtype = _infer.same_dtype(op_type, (w, dy), names=("filter", "out_backprop"))
    _infer.check_dtype(op_type, w, _FLOATS, "filter")
    _infer.check_index_dtype(op_type, sizes, "input_sizes")
    attrs["T"] = dtype
    attrs["Tshape"] = sizes.dtype
    data_format, _ = _conv3d_attrs(op_type, attrs)
    w_shape, dy_shape = w.shape.with_rank(5), dy.shape.with_rank(5)
    channel = _channel_axis(data_format)
    conv_ops._merge_dim(op_type, w_shape[4], dy_shape[channel],
                        f"filter {w_shape} and out_backprop {dy_shape}")
    dims = _sizes_shape(sizes).as_list()
    dims[0] = conv_ops._merge_dim(op_type, dims[0], dy_shape[0], "batch")
    return [(dtype, TensorShape(dims))]


def _conv3d_backprop_filter_infer(inputs, attrs):
    op_type = "Conv3DBackpropFilterV2"
    x, sizes, dy = inputs
    dtype = _infer.same_dtype(op_type, (x, dy), names=("input", "out_backprop"))
    _infer.check_dtype(op_type, x, _FLOATS, "input")
    _infer.check_index_dtype(op_type, sizes, "filter_sizes")
    attrs["T"] = dtype
    _conv3d_attrs(op_type, attrs)
    x.shape.with_rank(5)
    dy.shape.with_rank(5)
    return [(dtype, _sizes_shape(sizes))]


def _attrs_of(op):
    return {name: op.get_attr(name) for name in ("strides", "padding", "data_format",
                                                 "dilations")}


def _conv3d_grad(op, grad):
    x, w = op.inputs
    attrs = _attrs_of(op)
    return [conv_ops._create("Conv3DBackpropInputV2", [array_ops.shape(x), w, grad], attrs),
            conv_ops._create("Conv3DBackpropFilterV2", [x, array_ops.shape(w), grad], attrs)]


def _conv3d_backprop_input_grad(op, grad):
    # The input gradient is linear in (filter, out_backprop); its adjoints are TF's.
    _, w, dy = op.inputs
    attrs = _attrs_of(op)
    return [None,
            conv_ops._create("Conv3DBackpropFilterV2", [grad, array_ops.shape(w), dy], attrs),
            conv_ops._create("Conv3D", [grad, w], attrs)]


def _conv3d_backprop_filter_grad(op, grad):
    x, _, dy = op.inputs
    attrs = _attrs_of(op)
    return [conv_ops._create("Conv3DBackpropInputV2", [array_ops.shape(x), grad, dy], attrs),
            None,
            conv_ops._create("Conv3D", [x, grad], attrs)]


registry.register_op("Conv3D", infer=_conv3d_infer, num_inputs=2, gradient=_conv3d_grad,
                     doc="3-D convolution of an NDHWC input with a DHWIO filter.")
registry.register_op("Conv3DBackpropInputV2", infer=_conv3d_backprop_input_infer,
                     num_inputs=3, gradient=_conv3d_backprop_input_grad,
                     doc="The gradient of Conv3D with respect to its input.")
registry.register_op("Conv3DBackpropFilterV2", infer=_conv3d_backprop_filter_infer,
                     num_inputs=3, gradient=_conv3d_backprop_filter_grad,
                     doc="The gradient of Conv3D with respect to its filter.")


# ---- 3-D pooling ------------------------------------------------------------------------------

def _pool3d_attrs(op_type, attrs):
    """Checks and normalizes the pooling attrs in place; returns (data_format, padding, ksize,
    strides). Windows or strides above 1 in batch or channels pass here (as in TF's shape
    function) and are run-time errors."""
    data_format, padding = _format_and_padding(op_type, attrs)
    return (data_format, padding, _check_list(op_type, attrs, "ksize"),
            _check_list(op_type, attrs, "strides"))


def _pool3d_shape(op_type, x, attrs):
    data_format, padding, ksize, strides = _pool3d_attrs(op_type, attrs)
    x_shape = x.shape.with_rank(5)
    dims = x_shape.as_list()
    out = list(dims)
    for axis in _spatial_axes(data_format):
        out[axis] = conv_ops._output_size(op_type, dims[axis], ksize[axis], strides[axis], 1,
                                          padding, None, f" with input shapes: {x_shape}.")
    return TensorShape(out)


def _max_pool3d_infer(inputs, attrs):
    _infer.check_dtype("MaxPool3D", inputs[0], _FLOATS, "input")
    attrs["T"] = inputs[0].dtype
    return [(inputs[0].dtype, _pool3d_shape("MaxPool3D", inputs[0], attrs))]


def _avg_pool3d_infer(inputs, attrs):
    _infer.check_dtype("AvgPool3D", inputs[0], _FLOATS, "input")
    attrs["T"] = inputs[0].dtype
    return [(inputs[0].dtype, _pool3d_shape("AvgPool3D", inputs[0], attrs))]


def _max_pool3d_grad_infer(inputs, attrs):
    op_type = "MaxPool3DGrad"
    x, _, grad = inputs
    # TF types the forward tensors (TInput) apart from the gradient (T).
    attrs["TInput"] = _infer.same_dtype(op_type, inputs[:2], names=("orig_input",
                                                                     "orig_output"))
    _infer.check_dtype(op_type, x, _FLOATS, "orig_input")
    _infer.check_dtype(op_type, grad, _FLOATS, "grad")
    attrs["T"] = grad.dtype
    _pool3d_attrs(op_type, attrs)
    return [(grad.dtype, x.shape.with_rank(5))]


def _avg_pool3d_grad_infer(inputs, attrs):
    op_type = "AvgPool3DGrad"
    sizes, grad = inputs
    _infer.check_dtype(op_type, sizes, (dtypes.int32,), "orig_input_shape")
    _infer.check_dtype(op_type, grad, _FLOATS, "grad")
    attrs["T"] = grad.dtype
    _pool3d_attrs(op_type, attrs)
    return [(grad.dtype, _sizes_shape(sizes))]


def _pool3d_attrs_of(op):
    return {name: op.get_attr(name) for name in ("ksize", "strides", "padding", "data_format")}


def _max_pool3d_grad(op, grad):
    return [conv_ops._create("MaxPool3DGrad", [op.inputs[0], op.outputs[0], grad],
                             _pool3d_attrs_of(op))]


def _avg_pool3d_grad(op, grad):
    return [conv_ops._create("AvgPool3DGrad",
                             [array_ops.shape(op.inputs[0], out_type=dtypes.int32), grad],
                             _pool3d_attrs_of(op))]


def _avg_pool3d_grad_grad(op, grad):
    # AvgPool3DGrad is linear in its gradient input, and its adjoint is AvgPool3D itself.
    return [None, conv_ops._create("AvgPool3D", [grad], _pool3d_attrs_of(op))]


registry.register_op("MaxPool3D", infer=_max_pool3d_infer, num_inputs=1,
                     gradient=_max_pool3d_grad, doc="The maximum over each 3-D window.")
# Not differentiable, as the 2-D MaxPoolGrad here (TF's MaxPool3DGradGrad is not provided).
registry.register_op("MaxPool3DGrad", infer=_max_pool3d_grad_infer, num_inputs=3,
                     gradient=registry.NOT_DIFFERENTIABLE,
                     doc="Routes each window's gradient to every element equal to its maximum.")
registry.register_op("AvgPool3D", infer=_avg_pool3d_infer, num_inputs=1,
                     gradient=_avg_pool3d_grad, doc="The mean over each 3-D window, padding "
                     "excluded.")
registry.register_op("AvgPool3DGrad", infer=_avg_pool3d_grad_infer, num_inputs=2,
                     gradient=_avg_pool3d_grad_grad,
                     doc="Spreads each window's gradient evenly over its valid inputs.")


# ---- wrappers --------------------------------------------------------------------------------

def _op_attrs(strides, padding, data_format, dilations):
    if isinstance(padding, bytes):
        padding = padding.decode()
    if not isinstance(padding, str):
        raise TypeError(f"conv3d: padding must be 'SAME' or 'VALID', got {padding!r}")
    return {"strides": list(strides), "padding": padding.upper(),
            "data_format": data_format or "NDHWC",
            "dilations": [1] * 5 if dilations is None else list(dilations)}


def conv3d(input, filter=None, strides=None, padding=None,  # noqa: A002 - TF's names
           data_format="NDHWC", dilations=(1, 1, 1, 1, 1), name=None, filters=None):
    """3-D convolution (op ``Conv3D``), TF 1's ``tf.nn.conv3d``.

    ``output[b, i, j, l, k] = sum_{di, dj, dl, q} input[b, s_d*i + d_d*di - pad_front,
    s_h*j + d_h*dj - pad_top, s_w*l + d_w*dl - pad_left, q] * filter[di, dj, dl, q, k]``.

    Args:
      input: a float Tensor ``[batch, depth, height, width, in_channels]`` (NDHWC) or
        ``[batch, in_channels, depth, height, width]`` (NCDHW).
      filter: a Tensor ``[fd, fh, fw, in_channels, out_channels]``.
      strides: 5 ints, the window step per input dimension (1 in batch and channels).
      padding: 'SAME' or 'VALID'.
      data_format: 'NDHWC' (default) or 'NCDHW' (TF's CPU kernel refuses it; this one runs it).
      dilations: 5 ints, the filter's dilation rates (default 1; above 1 TF's CPU refuses).
      name: the op name.
      filters: TF 2's name of `filter`.

    Returns:
      A Tensor of `input`'s dtype and layout.

    Raises:
      ValueError: for bad attrs, ranks other than 5, or a channel mismatch.
      TypeError: for non-float or mixed dtypes.
    """
    if filter is None:
        filter = filters  # noqa: A001
    elif filters is not None:
        raise ValueError("conv3d: give either filter or filters, not both")
    if filter is None or strides is None or padding is None:
        raise TypeError("conv3d() needs input, filter, strides and padding")
    attrs = _op_attrs(strides, padding, data_format, dilations)
    return conv_ops._build("Conv3D", (input, filter), ("input", "filter"), name, attrs)


def conv3d_backprop_input_v2(input_sizes, filter, out_backprop, strides,  # noqa: A002
                             padding, data_format="NDHWC", dilations=(1, 1, 1, 1, 1),
                             name=None):
    """The gradient of `conv3d` with respect to its input (op ``Conv3DBackpropInputV2``).

    Args:
      input_sizes: a 1-D int32 Tensor (or list), the input's shape.
      filter: the convolution's filter ``[fd, fh, fw, in_channels, out_channels]``.
      out_backprop: the gradient of the output.
      strides, padding, data_format, dilations: as for `conv3d`.
      name: the op name.

    Returns:
      A Tensor of shape `input_sizes`.
    """
    attrs = _op_attrs(strides, padding, data_format, dilations)
    return conv_ops._build("Conv3DBackpropInputV2", (input_sizes, filter, out_backprop),
                           ("input_sizes", "filter", "out_backprop"), name, attrs, size_arg=0)


def conv3d_backprop_filter_v2(input, filter_sizes, out_backprop, strides,  # noqa: A002
                              padding, data_format="NDHWC", dilations=(1, 1, 1, 1, 1),
                              name=None):
    """The gradient of `conv3d` with respect to its filter (op ``Conv3DBackpropFilterV2``).

    Args:
      input: the convolution's input.
      filter_sizes: a 1-D int32 Tensor (or list), the filter's shape.
      out_backprop: the gradient of the output.
      strides, padding, data_format, dilations: as for `conv3d`.
      name: the op name.

    Returns:
      A Tensor of shape `filter_sizes`.
    """
    attrs = _op_attrs(strides, padding, data_format, dilations)
    return conv_ops._build("Conv3DBackpropFilterV2", (input, filter_sizes, out_backprop),
                           ("input", "filter_sizes", "out_backprop"), name, attrs, size_arg=1)


def conv3d_transpose(value=None, filter=None, output_shape=None, strides=None,  # noqa: A002
                     padding="SAME", data_format="NDHWC", name=None, input=None,  # noqa: A002
                     filters=None, dilations=None):
    """The transpose of `conv3d` (op ``Conv3DBackpropInputV2``), ``tf.nn.conv3d_transpose``.

    Args:
      value: a Tensor ``[batch, depth, height, width, in_channels]`` (NDHWC).
      filter: a Tensor ``[fd, fh, fw, output_channels, in_channels]`` (in and out swapped with
        respect to `conv3d`: this is conv3d's input gradient).
      output_shape: a 1-D int Tensor or list, the output's shape.
      strides: 5 ints.
      padding: 'SAME' (default) or 'VALID'.
      data_format: 'NDHWC' or 'NCDHW'.
      name: the op name; default 'conv3d_transpose'.
      input, filters, dilations: TF 2's names (`input` for `value`, `filters` for `filter`).

    Returns:
      A Tensor of shape `output_shape`.

    Raises:
      ValueError: if the channels of `value` and `filter` disagree statically.
    """
    value = input if value is None else value
    filter = filters if filter is None else filter  # noqa: A001
    if value is None or filter is None or output_shape is None or strides is None:
        raise TypeError("conv3d_transpose() needs value, filter, output_shape and strides")
    graph = math_ops._find_graph((value, filter))
    with graph.as_default(), graph.name_scope(name or "conv3d_transpose") as scope:
        value_t = graph_lib.convert_to_tensor(value, name="value")
        filter_t = graph_lib.convert_to_tensor(filter, name="filter")
        sizes = output_shape
        if not isinstance(sizes, graph_lib.Tensor):
            sizes = graph_lib.convert_to_tensor(conv_ops._sizes(sizes), name="input_sizes")
        channel = _channel_axis(data_format or "NDHWC")
        conv_ops._merge_dim("conv3d_transpose", filter_t.shape.with_rank(5)[4],
                            value_t.shape.with_rank(5)[channel],
                            f"filter {filter_t.shape} and value {value_t.shape}")
        attrs = _op_attrs(strides, padding, data_format, dilations)
        return graph.create_op("Conv3DBackpropInputV2", [sizes, filter_t, value_t], attrs,
                               name=scope).outputs[0]


def _pool3d(op_type, input, ksize, strides, padding, data_format, name):  # noqa: A002
    data_format = data_format or "NDHWC"
    if isinstance(padding, bytes):
        padding = padding.decode()
    attrs = {"ksize": conv_ops._get_sequence(ksize, "ksize", data_format),
             "strides": conv_ops._get_sequence(strides, "strides", data_format),
             "padding": padding, "data_format": data_format}
    return conv_ops._build(op_type, (input,), ("input",), name, attrs)


def max_pool3d(input, ksize, strides, padding, data_format="NDHWC",  # noqa: A002 - TF's
               name=None):
    """3-D max pooling (op ``MaxPool3D``), TF 1's ``tf.nn.max_pool3d``.

    Args:
      input: a float Tensor ``[batch, depth, height, width, channels]`` (NDHWC) or
        ``[batch, channels, depth, height, width]`` (NCDHW). float64 runs too (TF's op
        refuses it).
      ksize: an int or 1, 3 or 5 ints: the window (1 in batch and channels).
      strides: an int or 1, 3 or 5 ints: the window step (1 in batch and channels).
      padding: 'SAME' or 'VALID' (padding never wins a maximum).
      data_format: 'NDHWC' (default) or 'NCDHW' (TF's CPU kernel refuses it; this one runs it).
      name: the op name; default 'MaxPool3D'.

    Returns:
      A Tensor of `input`'s dtype and layout.

    Raises:
      ValueError: for attrs of the wrong length, a padding or data_format TF does not know, an
        input of a rank other than 5, or a VALID window larger than the input.
      TypeError: for a non-float input.
    """
    return _pool3d("MaxPool3D", input, ksize, strides, padding, data_format, name)


def avg_pool3d(input, ksize, strides, padding, data_format="NDHWC",  # noqa: A002 - TF's
               name=None):
    """3-D average pooling (op ``AvgPool3D``), TF 1's ``tf.nn.avg_pool3d``.

    Each output is the mean of the window's elements inside the input: padding is not counted.

    Args:
      input: a float Tensor ``[batch, depth, height, width, channels]`` (NDHWC) or
        ``[batch, channels, depth, height, width]`` (NCDHW).
      ksize, strides, padding, data_format: as for `max_pool3d`.
      name: the op name; default 'AvgPool3D'.

    Returns:
      A Tensor of `input`'s dtype and layout.

    Raises:
      ValueError, TypeError: as for `max_pool3d`.
    """
    return _pool3d("AvgPool3D", input, ksize, strides, padding, data_format, name)


for _name in ("conv3d", "conv3d_transpose", "conv3d_backprop_input_v2",
              "conv3d_backprop_filter_v2", "max_pool3d", "avg_pool3d"):
    setattr(nn, _name, globals()[_name])
