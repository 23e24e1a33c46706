"""Convolutions TF builds from other ops: ``tf.nn.conv1d``, ``max_pool1d``, ``avg_pool1d``,
``separable_conv2d``, and the rank-generic ``convolution``, ``pool`` and ``atrous_conv2d``.

None of these is an op of its own in TF, and none is here: they are graphs of the 2-D ops of
``nn_convolution_ops.py``, named as TF names them, so a graph reads the same and every gradient
is already there (ExpandDims and Squeeze are reshapes).

* The 1-D ops insert a dimension of length 1 before the width (``NWC`` -> ``NHWC`` with H = 1,
  ``NCW`` -> ``NCHW``), run the 2-D op with a window, stride and dilation of 1 on it and
  squeeze it out again: ``conv1d/ExpandDims``, ``conv1d/ExpandDims_1`` (the filter, at axis 0),
  the ``Conv2D`` named ``conv1d`` and ``conv1d/Squeeze``; the pools likewise under
  ``MaxPool1d`` and ``AvgPool1D``.
* ``separable_conv2d`` is a depthwise convolution (``separable_conv2d/depthwise``) followed by
  a 1x1 ``Conv2D`` with VALID padding (``separable_conv2d``). TF builds a `rate` above 1 from
  SpaceToBatchND and BatchToSpaceND around the depthwise op; this passes it as the depthwise
  op's `dilations`, which computes the same values in one op (as ``depthwise_conv2d`` does).
* ``convolution`` and ``pool`` pick the 1-, 2- or 3-D op from the rank, under the scopes
  ``convolution`` and ``max_pool``/``avg_pool``; ``atrous_conv2d`` is a ``convolution`` with a
  dilation rate. Dilations are the ops' `dilations` attr (TF builds them from SpaceToBatchND;
  the values are the same). The pooling ops have no such attr, so a dilated ``pool`` is built
  as TF builds it, by ``with_space_to_batch``: the undilated pool of the input's space-to-batch
  form (``SpaceToBatchND``), interleaved back (``BatchToSpaceND``); their gradients make the
  pool's.
* ``max_pool_with_argmax`` takes its values from ``MaxPool`` (and so its gradient) and its
  indices from an argmax over the window's shifted strided slices of the padded input.
"""

import numpy as np

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.ops import array_extra_ops, array_ops, manipulation_ops, math_ops
from sessionlib.ops import nn_convolution_ops as conv_ops
from sessionlib.ops.nn import nn

__all__ = ["conv1d", "max_pool1d", "avg_pool1d", "separable_conv2d", "convolution", "pool",
           "atrous_conv2d", "max_pool_with_argmax", "with_space_to_batch"]

# The data formats of 1-, 2- and 3-D inputs: (channels last, channels first).
_FORMATS = {1: ("NWC", "NCW"), 2: ("NHWC", "NCHW"), 3: ("NDHWC", "NCDHW")}


def _get_sequence_1d(value, name, default=None):
    """An int or 1 value, as one int (TF's ``_get_sequence`` with one spatial dimension)."""
    if value is None:
        value = default
    if isinstance(value, int):
        return int(value)
    value = [int(v) for v in value]
    if len(value) == 1:
        return value[0]
    if len(value) == 3:
        # TF accepts the full [1, w, 1] (NWC) or [1, 1, w] (NCW) form too; the caller picks.
        return value
    raise ValueError(f"{name} should be of length 1 or 3. Received: {name}={value} of length "
                     f"{len(value)}")


def _layout_1d(data_format, op_name):
    """(the 2-D data format, the axis where the pools insert the height: 1 NWC, 2 NCW)."""
    if data_format is None or data_format in ("NWC", "NHWC"):
        return "NHWC", 1
    if data_format in ("NCW", "NCHW"):
        return "NCHW", 2
    raise ValueError(f"{op_name}: data_format must be \"NWC\" or \"NCW\", got {data_format!r}")


def _full_1d(value, name, data_format_2d, default=None):
    """A 1-D stride, window or dilation as the 4 values of the 2-D op (1 in the height)."""
    value = _get_sequence_1d(value, name, default)
    width_axis = 2 if data_format_2d == "NHWC" else 3
    if isinstance(value, list):
        # [1, w, 1] (NWC) or [1, 1, w] (NCW): the batch and channel entries kept as given.
        full = [value[0], 1, 1, 1]
        channel = 3 if data_format_2d == "NHWC" else 1
        full[width_axis] = value[1 if data_format_2d == "NHWC" else 2]
        full[channel] = value[2 if data_format_2d == "NHWC" else 1]
        return full
    full = [1, 1, 1, 1]
    full[width_axis] = value
    return full


def conv1d(value=None, filters=None, stride=None, padding=None, use_cudnn_on_gpu=None,
           data_format=None, name=None, input=None, dilations=None):  # noqa: A002 - TF's
    """1-D convolution, TF 1's ``tf.nn.conv1d``: a ``Conv2D`` over a height of 1.

    ``output[b, i, k] = sum_{dj, q} value[b, s*i + d*dj - pad_left, q] * filters[dj, q, k]``
    (``NWC``).

    Args:
      value: a float Tensor ``[batch, width, in_channels]`` (NWC) or
        ``[batch, in_channels, width]`` (NCW).
      filters: a Tensor ``[filter_width, in_channels, out_channels]``.
      stride: an int (or a list of 1 or 3 ints): the window step.
      padding: 'SAME' or 'VALID'.
      use_cudnn_on_gpu: kept for TF compatibility (no effect here).
      data_format: 'NWC' (default) or 'NCW'.
      name: the name scope; default 'conv1d'. The Conv2D op takes the scope's name, as in TF.
      input: TF 2's name of `value`.
      dilations: an int (or 1 or 3 ints): the filter's dilation rate (default 1).

    Returns:
      A Tensor ``[batch, out_width, out_channels]`` (NWC) or ``[batch, out_channels,
      out_width]`` (NCW) of `value`'s dtype.

    Raises:
      ValueError: for an unknown data format, ranks other than 3, or bad attrs.
    """
    value = input if value is None else value
    if value is None or filters is None or stride is None or padding is None:
        raise TypeError("conv1d() needs value, filters, stride and padding")
    data_format_2d, width_axis = _layout_1d(data_format, "conv1d")
    # TF inserts the height before the width from the end: -3 (NWC) or -2 (NCW).
    spatial_start = -3 if data_format_2d == "NHWC" else -2
    graph = math_ops._find_graph((value, filters))
    with graph.as_default(), graph.name_scope(name or "conv1d") as scope:
        value_t = graph_lib.convert_to_tensor(value, name="value")
        filters_t = graph_lib.convert_to_tensor(filters, name="filters")
        value_t.shape.with_rank(3)
        filters_t.shape.with_rank(3)
        expanded = array_ops.expand_dims(value_t, spatial_start)
        kernel = array_ops.expand_dims(filters_t, 0)
        attrs = conv_ops._conv_op_attrs(_full_1d(stride, "stride", data_format_2d), padding,
                                        data_format_2d,
                                        _full_1d(dilations, "dilations", data_format_2d, 1))
        attrs["use_cudnn_on_gpu"] = True if use_cudnn_on_gpu is None else bool(use_cudnn_on_gpu)
        result = graph.create_op("Conv2D", [expanded, kernel], attrs, name=scope).outputs[0]
        return array_ops.squeeze(result, [spatial_start])


def _pool1d(op_type, scope_name, value, ksize, strides, padding, data_format, name):
    data_format_2d, width_axis = _layout_1d(data_format, scope_name)
    graph = math_ops._find_graph((value,))
    with graph.as_default(), graph.name_scope(name or scope_name) as scope:
        value_t = graph_lib.convert_to_tensor(value, name="input")
        value_t.shape.with_rank(3)
        # TF inserts the height at 1 (NWC) or 2 (NCW), counted from the front for the pools.
        expanding = width_axis
        expanded = array_ops.expand_dims(value_t, expanding)
        pooled = conv_ops._pool(op_type, expanded, _full_1d(ksize, "ksize", data_format_2d),
                                _full_1d(strides, "strides", data_format_2d), padding,
                                data_format_2d, scope, op_type == "MaxPool")
        return array_ops.squeeze(pooled, [expanding])


def max_pool1d(input, ksize, strides, padding, data_format="NWC", name=None):  # noqa: A002
    """1-D max pooling, ``tf.nn.max_pool1d``: a ``MaxPool`` over a height of 1.

    Args:
      input: a Tensor ``[batch, width, channels]`` (NWC) or ``[batch, channels, width]`` (NCW).
      ksize: an int (or 1 or 3 ints): the window size.
      strides: an int (or 1 or 3 ints): the window step.
      padding: 'SAME' or 'VALID'.
      data_format: 'NWC' (default) or 'NCW'.
      name: the name scope; default 'MaxPool1d'.

    Returns:
      A Tensor of `input`'s dtype and rank, the width pooled.
    """
    return _pool1d("MaxPool", "MaxPool1d", input, ksize, strides, padding, data_format, name)


def avg_pool1d(input, ksize, strides, padding, data_format="NWC", name=None):  # noqa: A002
    """1-D average pooling, ``tf.nn.avg_pool1d``: an ``AvgPool`` over a height of 1.

    Padding is not counted in a window's mean.

    Args:
      input, ksize, strides, padding, data_format: as for `max_pool1d`.
      name: the name scope; default 'AvgPool1D' (TF's spelling).

    Returns:
      A float Tensor of `input`'s dtype and rank, the width pooled.
    """
    return _pool1d("AvgPool", "AvgPool1D", input, ksize, strides, padding, data_format, name)


def separable_conv2d(input, depthwise_filter, pointwise_filter, strides,  # noqa: A002
                     padding, rate=None, name=None, data_format=None, dilations=None):
    """Depthwise then pointwise convolution, ``tf.nn.separable_conv2d``.

    ``depthwise_conv2d`` of `input` with `depthwise_filter` (per channel), then a 1x1 ``Conv2D``
    with `pointwise_filter` mixing the channels.

    Args:
      input: a float Tensor ``[batch, height, width, in_channels]`` (NHWC) or NCHW.
      depthwise_filter: ``[fh, fw, in_channels, channel_multiplier]``.
      pointwise_filter: ``[1, 1, in_channels * channel_multiplier, out_channels]``.
      strides: 4 ints (or 1 or 2): the depthwise step.
      padding: 'SAME' or 'VALID' (of the depthwise step; the pointwise one is VALID).
      rate: 2 ints (or one): the depthwise dilation; default 1.
      name: the name scope; default 'separable_conv2d'. The pointwise Conv2D takes it.
      data_format: 'NHWC' (default) or 'NCHW'.
      dilations: TF 2's name of `rate`.

    Returns:
      A Tensor ``[batch, out_h, out_w, out_channels]`` (NHWC) of `input`'s dtype.

    Raises:
      ValueError: if the pointwise filter is not 1x1, its input depth is not the depthwise
        output depth, or a rate above 1 is combined with strides above 1.
    """
    data_format = data_format or "NHWC"
    rate = dilations if rate is None else rate
    graph = math_ops._find_graph((input, depthwise_filter, pointwise_filter))
    with graph.as_default(), graph.name_scope(name or "separable_conv2d") as scope:
        input_t = graph_lib.convert_to_tensor(input, name="input")
        depthwise_t = graph_lib.convert_to_tensor(depthwise_filter, name="depthwise_filter")
        pointwise_t = graph_lib.convert_to_tensor(pointwise_filter, name="pointwise_filter")
        depthwise_t.shape.with_rank(4)
        pointwise_shape = pointwise_t.shape.with_rank(4)
        for dim in pointwise_shape.as_list()[:2]:
            if dim is not None and dim != 1:
                raise ValueError(f"Dimensions {dim} and 1 are not compatible")
        rates = conv_ops._get_sequence(rate, "rate", data_format, default=1)
        steps = conv_ops._get_sequence(strides, "strides", data_format)
        if any(r > 1 for r in rates) and any(s > 1 for s in steps):
            raise ValueError(f"When dilation rate is greater than 1, then all values of "
                             f"strides must be 1. Received: dilation rate {rates} and strides "
                             f"{steps}")
        depthwise = conv_ops.depthwise_conv2d_native(input_t, depthwise_t, steps, padding,
                                                     data_format, rates, name="depthwise")
        attrs = conv_ops._conv_op_attrs([1, 1, 1, 1], "VALID", data_format, None)
        attrs["use_cudnn_on_gpu"] = True
        return graph.create_op("Conv2D", [depthwise, pointwise_t], attrs,
                               name=scope).outputs[0]


def _spatial_values(value, name, num_spatial, channels_first):
    """An int or 1, N or N+2 values as the N spatial values (1 when None)."""
    if value is None:
        return [1] * num_spatial
    if isinstance(value, int):
        return [int(value)] * num_spatial
    value = [int(v) for v in value]
    if len(value) == 1:
        return value * num_spatial
    if len(value) == num_spatial:
        return value
    if len(value) == num_spatial + 2:
        return value[2:] if channels_first else value[1:-1]
    raise ValueError(f"{name} should be of length 1, {num_spatial} or {num_spatial + 2}. "
                     f"Received: {name}={value} of length {len(value)}")


def _full_values(spatial, channels_first):
    """N spatial values as the N+2 of a 2-D or 3-D op (1 in batch and channels)."""
    return [1, 1] + spatial if channels_first else [1] + spatial + [1]


def _checked_format(data_format, num_spatial, op_name):
    """(the data format for `num_spatial` dimensions, whether channels come first)."""
    channels_last, channels_first = _FORMATS[num_spatial]
    if data_format is None or data_format == channels_last:
        return channels_last, False
    if data_format == channels_first:
        return channels_first, True
    raise ValueError(f"{op_name}: data_format must be {channels_last!r} or "
                     f"{channels_first!r} for {num_spatial} spatial dimensions, got "
                     f"{data_format!r}")


def _strides_and_rates(strides, rates, num_spatial, channels_first):
    strides = _spatial_values(strides, "strides", num_spatial, channels_first)
    rates = _spatial_values(rates, "dilation_rate", num_spatial, channels_first)
    if any(r < 1 for r in rates):
        raise ValueError(f"all values of `dilation_rate` must be positive. Received: "
                         f"dilation_rate={rates}")
    if any(s < 1 for s in strides):
        raise ValueError(f"all values of `strides` must be positive. Received: "
                         f"strides={strides}")
    if any(s > 1 for s in strides) and any(r > 1 for r in rates):
        raise ValueError(f"`strides > 1` not supported in conjunction with "
                         f"`dilation_rate > 1`. Received: strides={strides} and "
                         f"dilation_rate={rates}")
    return strides, rates


def convolution(input, filter=None, padding=None, strides=None,  # noqa: A002 - TF's names
                dilation_rate=None, name=None, data_format=None, filters=None,
                dilations=None):
    """An N-D convolution (N = 1, 2 or 3), TF 1's ``tf.nn.convolution``: `conv1d`,
    ``Conv2D`` or ``Conv3D`` by the rank of `filter` (else of `input`).

    Args:
      input: a float Tensor ``[batch] + spatial + [in_channels]`` (channels last) or
        ``[batch, in_channels] + spatial``.
      filter: a Tensor ``spatial_window + [in_channels, out_channels]``.
      padding: 'SAME' or 'VALID'.
      strides: an int or N ints (or N+2): the window step; default 1.
      dilation_rate: an int or N ints (or N+2): the filter's dilation; default 1. Must be 1
        where a stride is above 1.
      name: the name scope (default 'convolution'); the convolution op takes it.
      data_format: 'NWC'/'NCW', 'NHWC'/'NCHW' or 'NDHWC'/'NCDHW' (default channels last).
      filters: TF 2's name of `filter`.
      dilations: TF 2's name of `dilation_rate`.

    Returns:
      A Tensor of `input`'s dtype and layout.

    Raises:
      ValueError: when neither rank is known, N is not 1, 2 or 3, the data format does not fit
        N, or strides above 1 meet dilations above 1.
    """
    if filter is None:
        filter = filters  # noqa: A001
    elif filters is not None:
        raise ValueError("convolution: give either filter or filters, not both")
    if dilation_rate is None:
        dilation_rate = dilations
    elif dilations is not None:
        raise ValueError("convolution: give either dilation_rate or dilations, not both")
    if filter is None or padding is None:
        raise TypeError("convolution() needs input, filter and padding")
    graph = math_ops._find_graph((input, filter))
    with graph.as_default(), graph.name_scope(name or "convolution") as scope:
        input_t = graph_lib.convert_to_tensor(input, name="input")
        filter_t = graph_lib.convert_to_tensor(filter, name="filter")
        if filter_t.shape.rank is not None:
            num_spatial = filter_t.shape.rank - 2
        elif input_t.shape.rank is not None:
            num_spatial = input_t.shape.rank - 2
        else:
            raise ValueError("convolution: the rank of input or filter must be known")
        if num_spatial not in (1, 2, 3):
            raise ValueError(f"`num_spatial_dims` must be 1, 2, or 3. Received: "
                             f"num_spatial_dims={num_spatial}.")
        input_t.shape.with_rank(num_spatial + 2)
        data_format, channels_first = _checked_format(data_format, num_spatial, "convolution")
        steps, rates = _strides_and_rates(strides, dilation_rate, num_spatial, channels_first)
        if num_spatial == 1:
            return conv1d(input_t, filter_t, steps[0], padding, data_format=data_format,
                          name=scope, dilations=rates[0])
        if num_spatial == 2:
            return conv_ops.conv2d(input_t, filter_t, _full_values(steps, channels_first),
                                   padding, data_format=data_format,
                                   dilations=_full_values(rates, channels_first), name=scope)
        from sessionlib.ops import nn_convolution3d_ops

        return nn_convolution3d_ops.conv3d(input_t, filter_t,
                                           _full_values(steps, channels_first), padding,
                                           data_format=data_format,
                                           dilations=_full_values(rates, channels_first),
                                           name=scope)


# ---- dilation by space-to-batch -----------------------------------------------------------

def _space_to_batch_plan(sizes, rates, base_paddings):
    """TF's ``required_space_to_batch_paddings``: (paddings, crops) that pad each size,
    after its `base_paddings`, up to a multiple of its rate, and crop that extra off again."""
    paddings, crops = [], []
    for size, rate, (before, after) in zip(sizes, rates, base_paddings):
        extra = (rate - (size + before + after) % rate) % rate
        paddings.append([before, after + extra])
        crops.append([0, extra])
    return paddings, crops


def with_space_to_batch(input, dilation_rate, padding, op, filter_shape=None,  # noqa: A002
                        spatial_dims=None, data_format=None):
    """Runs the sliding-window `op` dilated by `dilation_rate`, TF's
    ``tf.nn.with_space_to_batch``: `op` runs with VALID padding on the space-to-batch form of
    `input` (every ``dilation_rate``-th element, one batch entry per offset), and the result
    is interleaved back. With every rate 1 this is ``op(input, num_spatial_dims, padding)``.

    Args:
      input: a Tensor of known rank.
      dilation_rate: N positive ints, one per spatial dimension.
      padding: 'VALID' or 'SAME'.
      op: ``op(converted_input, num_spatial_dims, converted_padding) -> Tensor``, which
        keeps the batch and spatial layout.
      filter_shape: N ints, the window; needed for 'SAME'.
      spatial_dims: N increasing dimensions of `input`, each at least 1; default
        ``1...N``, or ``2...N+1`` when `data_format` starts with 'NC'.
      data_format: only used for the default `spatial_dims`.

    Returns:
      `op`'s result, of the spatial size of a dilated `op` with `padding`.

    Raises:
      ValueError: for a bad rate, spatial dimension or padding, or 'SAME' without
        `filter_shape`.
    """
    input = graph_lib.convert_to_tensor(input, name="input")  # noqa: A001
    rates = [int(rate) for rate in np.asarray(dilation_rate).reshape(-1)]
    num_spatial = len(rates)
    if input.shape.rank is None:
        raise ValueError("with_space_to_batch: the rank of input must be known")
    if any(rate < 1 for rate in rates):
        raise ValueError(f"`dilation_rate` must be positive. Received: "
                         f"dilation_rate={rates}")
    if spatial_dims is None:
        first = 2 if data_format is not None and data_format.startswith("NC") else 1
        spatial_dims = list(range(first, first + num_spatial))
    spatial_dims = [int(d) for d in spatial_dims]
    if (len(spatial_dims) != num_spatial or sorted(set(spatial_dims)) != spatial_dims
            or spatial_dims[0] < 1 or spatial_dims[-1] >= input.shape.rank):
        raise ValueError(f"`spatial_dims` must be {num_spatial} increasing dimensions of "
                         f"input, after its batch. Received: spatial_dims={spatial_dims}")
    if padding not in ("SAME", "VALID"):
        raise ValueError(f"Invalid padding method {padding!r}")
    if all(rate == 1 for rate in rates):
        return op(input, num_spatial, padding)
    if padding == "SAME":
        if filter_shape is None:
            raise ValueError("`filter_shape` must be specified for `padding='SAME'`")
        spans = [(int(k) - 1) * r for k, r in zip(filter_shape, rates)]
        base_paddings = [[span // 2, span - span // 2] for span in spans]
    else:
        base_paddings = [[0, 0]] * num_spatial
    dims = manipulation_ops._dims(input)
    paddings, crops = _space_to_batch_plan([dims[d] for d in spatial_dims], rates,
                                           base_paddings)
    # The block dimensions run from 1 to the last spatial one; those between are blocks of 1.
    blocks, block_paddings, block_crops = [], [], []
    for dim in range(1, spatial_dims[-1] + 1):
        if dim in spatial_dims:
            at = spatial_dims.index(dim)
            blocks.append(rates[at])
            block_paddings.append(paddings[at])
            block_crops.append(crops[at])
        else:
            blocks.append(1)
            block_paddings.append([0, 0])
            block_crops.append([0, 0])
    converted = array_extra_ops.space_to_batch_nd(input, blocks, block_paddings)
    return array_extra_ops.batch_to_space_nd(op(converted, num_spatial, "VALID"), blocks,
                                             block_crops)


def pool(input, window_shape, pooling_type, padding, dilation_rate=None,  # noqa: A002
         strides=None, name=None, data_format=None, dilations=None):
    """N-D max or average pooling (N = 1, 2 or 3), TF 1's ``tf.nn.pool``: `max_pool1d`,
    `avg_pool1d`, ``MaxPool``/``AvgPool`` or ``MaxPool3D``/``AvgPool3D`` by
    ``len(window_shape)``.

    Args:
      input: a Tensor of rank N + 2 (see `convolution` for the layouts).
      window_shape: N ints, the window.
      pooling_type: 'MAX' or 'AVG'.
      padding: 'SAME' or 'VALID'.
      dilation_rate: N ints, the window's dilation (default 1); above 1 only with strides
        of 1 and 'VALID' padding, and built by `with_space_to_batch`.
      strides: N ints, each at most its window; default 1.
      name: the name scope (default 'max_pool' or 'avg_pool'); the pooling op takes it.
      data_format: as for `convolution`.
      dilations: TF 2's name of `dilation_rate`.

    Returns:
      A Tensor of `input`'s dtype and layout.

    Raises:
      ValueError: for a bad pooling type, window, data format, strides above the window, or
        a dilation above 1 with strides above 1 or 'SAME' padding (as in TF).
    """
    if dilation_rate is None:
        dilation_rate = dilations
    elif dilations is not None:
        raise ValueError("pool: give either dilation_rate or dilations, not both")
    if pooling_type not in ("MAX", "AVG"):
        raise ValueError(f"pooling_type must be 'MAX' or 'AVG', got {pooling_type!r}")
    window = [int(w) for w in window_shape]
    num_spatial = len(window)
    if num_spatial not in (1, 2, 3):
        raise ValueError(f"`len(window_shape)` must be 1, 2, or 3. Received: "
                         f"window_shape={window_shape} of length {num_spatial}")
    graph = math_ops._find_graph((input,))
    with graph.as_default(), graph.name_scope(name or f"{pooling_type.lower()}_pool") as scope:
        input_t = graph_lib.convert_to_tensor(input, name="input")
        input_t.shape.with_rank(num_spatial + 2)
        data_format, channels_first = _checked_format(data_format, num_spatial, "pool")
        steps, rates = _strides_and_rates(strides, dilation_rate, num_spatial, channels_first)
        if padding == "SAME" and any(r > 1 for r in rates):
            raise ValueError(f"pooling with 'SAME' padding is not implemented for "
                             f"`dilation_rate` > 1. Received: padding={padding} and "
                             f"dilation_rate={rates}")
        if any(s > w for s, w in zip(steps, window)):
            raise ValueError(f"`strides` > `window_shape` not supported due to inconsistency "
                             f"between CPU and GPU implementations. Received: strides={steps} "
                             f"and window_shape={window}")
        if num_spatial == 1:
            pool1d = max_pool1d if pooling_type == "MAX" else avg_pool1d

            def pool_op(converted, _, converted_padding):
                return pool1d(converted, window[0], steps[0], converted_padding,
                              data_format=data_format, name=scope)
        else:
            if num_spatial == 2:
                pool_nd = conv_ops.max_pool if pooling_type == "MAX" else conv_ops.avg_pool
            else:
                from sessionlib.ops import nn_convolution3d_ops

                pool_nd = (nn_convolution3d_ops.max_pool3d if pooling_type == "MAX"
                           else nn_convolution3d_ops.avg_pool3d)

            def pool_op(converted, _, converted_padding):
                return pool_nd(converted, _full_values(window, channels_first),
                               _full_values(steps, channels_first), converted_padding,
                               data_format=data_format, name=scope)
        # A dilated window pools every rate-th element: the undilated pool of the
        # space-to-batch form, as TF builds it.
        return with_space_to_batch(input_t, rates, padding, pool_op, filter_shape=window,
                                   data_format=data_format)

def atrous_conv2d(value, filters, rate, padding, name=None):
    """Atrous (dilated) 2-D convolution, ``tf.nn.atrous_conv2d``: a `convolution` of stride 1
    with the dilation `rate` in height and width.

    Args:
      value: a float Tensor ``[batch, height, width, in_channels]``.
      filters: a Tensor ``[fh, fw, in_channels, out_channels]``.
      rate: a positive int, the dilation in both spatial dimensions.
      padding: 'SAME' or 'VALID'.
      name: the name scope (default 'convolution', as TF's).

    Returns:
      A Tensor ``[batch, out_h, out_w, out_channels]``.

    Raises:
      ValueError: for a rate below 1.
    """
    return convolution(value, filters, padding, dilation_rate=[int(rate)] * 2, name=name)


def _window_plan(size, window, stride, padding):
    """(output size, padding before) of one spatial dimension, TF's formulas."""
    if padding == "VALID":
        return (size - window) // stride + 1, 0
    out = -(-size // stride)
    return out, max((out - 1) * stride + window - size, 0) // 2


def max_pool_with_argmax(input, ksize, strides, padding, data_format="NHWC",  # noqa: A002
                         Targmax=None, name=None, output_dtype=None,  # noqa: N803 - TF's
                         include_batch_in_index=False):
    """Max pooling that also returns where each maximum came from, TF 1's
    ``tf.nn.max_pool_with_argmax``.

    The index of ``input[b, y, x, c]`` is ``(y * width + x) * channels + c``, plus
    ``b * height * width * channels`` with `include_batch_in_index`; of equal values in a
    window, the first in row-major order wins, as in TF's kernel.

    Args:
      input: a real Tensor ``[batch, height, width, channels]``, its height, width and
        channels known.
      ksize, strides: an int or 1, 2 or 4 ints (1 in batch and channels).
      padding: 'SAME' or 'VALID'.
      data_format: 'NHWC' only, as in TF.
      Targmax: TF 1's name of `output_dtype`.
      name: the name scope (default 'MaxPoolWithArgmax').
      output_dtype: int64 (default) or int32, the indices' dtype.
      include_batch_in_index: count the batch in the flattened index.

    Returns:
      ``(output, argmax)``: the pooled Tensor and the indices, both
      ``[batch, out_height, out_width, channels]``.

    Raises:
      ValueError: for another data format, unknown spatial sizes or channels, a window or
        stride over the batch or channels, or an index dtype other than int32/int64.
    """
    if data_format != "NHWC":
        raise ValueError(f"max_pool_with_argmax supports only NHWC, got {data_format!r}")
    if Targmax is not None and output_dtype is not None and Targmax != output_dtype:
        raise ValueError("max_pool_with_argmax: give either Targmax or output_dtype, not both")
    index_dtype = dtypes.as_dtype(output_dtype or Targmax or dtypes.int64)
    if index_dtype not in (dtypes.int32, dtypes.int64):
        raise ValueError(f"max_pool_with_argmax: output_dtype must be int32 or int64, got "
                         f"{index_dtype.name}")
    window = conv_ops._get_sequence(ksize, "ksize", "NHWC")
    steps = conv_ops._get_sequence(strides, "strides", "NHWC")
    if window[0] != 1 or window[3] != 1 or steps[0] != 1 or steps[3] != 1:
        raise ValueError("max_pool_with_argmax: the window and strides must be 1 in the batch "
                         "and channel dimensions")
    graph = math_ops._find_graph((input,))
    with graph.as_default(), graph.name_scope(name or "MaxPoolWithArgmax") as scope:
        input_t = graph_lib.convert_to_tensor(input, name="input")
        _, height, width, channels = input_t.shape.with_rank(4).as_list()
        if None in (height, width, channels):
            raise ValueError(f"max_pool_with_argmax needs known height, width and channels, "
                             f"got {input_t.shape}")
        values = conv_ops.max_pool(input_t, window, steps, padding, name="MaxPool")
        (out_h, top), (out_w, left) = (
            _window_plan(height, window[1], steps[1], padding),
            _window_plan(width, window[2], steps[2], padding))
        # Padding with the dtype's lowest value never wins against an input element.
        lowest = (-np.inf if input_t.dtype.is_floating
                  else np.iinfo(input_t.dtype.as_numpy_dtype).min)
        bottom = max((out_h - 1) * steps[1] + window[1] - height - top, 0)
        right = max((out_w - 1) * steps[2] + window[2] - width - left, 0)
        padded = manipulation_ops.pad(input_t, [[0, 0], [top, bottom], [left, right], [0, 0]],
                                      constant_values=lowest)
        shifted = [array_ops.strided_slice(
            padded, [0, dy, dx, 0],
            [0, dy + (out_h - 1) * steps[1] + 1, dx + (out_w - 1) * steps[2] + 1, channels],
            [1, steps[1], steps[2], 1], begin_mask=1, end_mask=1)
            for dy in range(window[1]) for dx in range(window[2])]
        offset = math_ops.argmax(array_ops.stack(shifted), 0, name="window_argmax",
                                 output_type=index_dtype)
        # Where each output window starts in the input, by row, column and channel.
        grid = np.zeros((1, out_h, out_w, channels), np.int64)
        rows = np.arange(out_h).reshape(1, -1, 1, 1) * steps[1] - top
        cols = np.arange(out_w).reshape(1, 1, -1, 1) * steps[2] - left
        start = (grid + rows * width + cols) * channels + np.arange(channels)
        # An offset k in the window is row k // kw, column k % kw: k // kw * width + k % kw.
        kw = graph_lib.convert_to_tensor(window[2], dtype=index_dtype)
        moved = (math_ops.floordiv(offset, kw) * width + math_ops.mod(offset, kw)) * channels
        argmax = math_ops.add(moved, graph_lib.convert_to_tensor(start, dtype=index_dtype))
        if include_batch_in_index:
            batch = math_ops.cast(array_ops.shape(input_t)[0], index_dtype)
            per_example = array_ops.range(batch) * (height * width * channels)
            argmax = argmax + array_ops.reshape(per_example, [-1, 1, 1, 1])
        return (array_ops.identity(values, name=scope),
                array_ops.identity(argmax, name="argmax"))


for _name in __all__:
    setattr(nn, _name, globals()[_name])
