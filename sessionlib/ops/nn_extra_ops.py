"""TF 1's remaining ``tf.nn`` functions that are compositions of existing ops.

Design. None of these needs a kernel: TF itself defines them in Python on top of pooling,
convolutions, matmul and reductions, so they are built here the same way, and their values
and gradients come from the ops they are made of. Pooling and transposed-convolution
"v2" spellings pick the 1-, 2- or 3-D op from the input's rank, as TF's do.
"""

import numpy as np

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.ops import array_ops, math_ops, metrics_ops
from sessionlib.ops.math_reduction_ops import zero_fraction  # noqa: F401 - tf.nn's too
from sessionlib.ops import nn_composite_convolution_ops as composite_ops
from sessionlib.ops import nn_convolution3d_ops as conv3d_ops
from sessionlib.ops import nn_convolution_ops as conv_ops
from sessionlib.ops import nn_normalization_ops as norm_ops
from sessionlib.ops.nn import bias_add, relu

__all__ = ["avg_pool2d", "max_pool2d", "avg_pool_v2", "max_pool_v2", "conv1d_transpose",
           "conv_transpose", "atrous_conv2d_transpose", "depthwise_conv2d_backprop_filter",
           "depthwise_conv2d_backprop_input", "conv3d_backprop_filter", "relu_layer",
           "xw_plus_b", "log_poisson_loss", "normalize_moments", "sufficient_statistics",
           "zero_fraction", "compute_average_loss", "scale_regularization_loss",
           "batch_norm_with_global_normalization"]


# ---- pooling ---------------------------------------------------------------------------------

def avg_pool2d(value, ksize, strides, padding, data_format="NHWC", name=None, input=None):
    """2-D average pooling (``tf.nn.avg_pool2d``, TF 1's spelling of ``avg_pool``).

    Args:
      value: a 4-D float tensor (``input`` is its alias).
      ksize, strides: an int or a list of 1, 2 or 4 ints.
      padding: ``"SAME"`` or ``"VALID"``.
      data_format: ``"NHWC"`` or ``"NCHW"``.
      name: the op name.

    Returns:
      The pooled tensor.
    """
    value = input if value is None else value
    return conv_ops.avg_pool(value, _full_window(ksize, 2, data_format),
                             _full_window(strides, 2, data_format), padding,
                             data_format=data_format, name=name)


def max_pool2d(input, ksize, strides, padding, data_format="NHWC", name=None):  # noqa: A002
    """2-D max pooling (``tf.nn.max_pool2d``).

    Args:
      input: a 4-D tensor.
      ksize, strides: an int or a list of 1, 2 or 4 ints.
      padding: ``"SAME"`` or ``"VALID"``.
      data_format: ``"NHWC"`` or ``"NCHW"``.
      name: the op name.

    Returns:
      The pooled tensor.
    """
    return conv_ops.max_pool(input, _full_window(ksize, 2, data_format),
                             _full_window(strides, 2, data_format), padding,
                             data_format=data_format, name=name)


def _full_window(value, spatial, data_format):
    """`value` (int, or 1, `spatial` or `spatial` + 2 ints) as the full-rank window list."""
    if isinstance(value, (int, np.integer)):
        value = [int(value)] * spatial
    value = [int(v) for v in value]
    if len(value) == 1:
        value = value * spatial
    if len(value) == spatial + 2:
        return value
    if len(value) != spatial:
        raise ValueError(f"ksize/strides should be of length 1, {spatial} or {spatial + 2}, "
                         f"got {len(value)}")
    channels_first = data_format is not None and data_format.startswith("NC")
    return [1, 1] + value if channels_first else [1] + value + [1]


_POOLS = {
    ("AVG", 3): composite_ops.avg_pool1d, ("AVG", 4): conv_ops.avg_pool,
    ("AVG", 5): conv3d_ops.avg_pool3d, ("MAX", 3): composite_ops.max_pool1d,
    ("MAX", 4): conv_ops.max_pool, ("MAX", 5): conv3d_ops.max_pool3d,
}
_DEFAULT_FORMATS = {3: "NWC", 4: "NHWC", 5: "NDHWC"}


def _pool_v2(kind, input, ksize, strides, padding, data_format, name):  # noqa: A002
    input = graph_lib.convert_to_tensor(input)
    rank = input.shape.ndims
    if rank is None and data_format is not None:
        rank = len(data_format)
    if rank not in _DEFAULT_FORMATS:
        raise ValueError(f"Input tensor must be of rank 3, 4 or 5 but was {rank}.")
    data_format = data_format or _DEFAULT_FORMATS[rank]
    spatial = rank - 2
    return _POOLS[kind, rank](input, _full_window(ksize, spatial, data_format),
                              _full_window(strides, spatial, data_format), padding,
                              data_format=data_format, name=name)


def avg_pool_v2(input, ksize, strides, padding, data_format=None, name=None):  # noqa: A002
    """N-D average pooling, the op chosen by the input's rank (``tf.nn.avg_pool_v2``).

    Args:
      input: a rank-3, 4 or 5 tensor.
      ksize, strides: an int or a list of 1, N or N + 2 ints.
      padding: ``"SAME"`` or ``"VALID"``.
      data_format: defaults to channels last ("NWC", "NHWC" or "NDHWC").
      name: the op name.

    Returns:
      The pooled tensor.

    Raises:
      ValueError: for a rank other than 3, 4 or 5, or a bad ksize/strides length.
    """
    return _pool_v2("AVG", input, ksize, strides, padding, data_format, name)


def max_pool_v2(input, ksize, strides, padding, data_format=None, name=None):  # noqa: A002
    """N-D max pooling, the op chosen by the input's rank (``tf.nn.max_pool_v2``).

    Args:
      input: a rank-3, 4 or 5 tensor.
      ksize, strides: an int or a list of 1, N or N + 2 ints.
      padding: ``"SAME"`` or ``"VALID"``.
      data_format: defaults to channels last.
      name: the op name.

    Returns:
      The pooled tensor.

    Raises:
      ValueError: for a rank other than 3, 4 or 5, or a bad ksize/strides length.
    """
    return _pool_v2("MAX", input, ksize, strides, padding, data_format, name)


# ---- transposed and backprop convolutions ----------------------------------------------------

def conv1d_transpose(input, filters, output_shape, strides, padding="SAME",  # noqa: A002
                     data_format="NWC", dilations=None, name=None):
    """The transpose of ``conv1d`` (``tf.nn.conv1d_transpose``): a 2-D transposed convolution
    over a height-1 image.

    Args:
      input: a 3-D tensor ``[batch, width, in_channels]`` ("NWC") or ``[batch, channels,
        width]`` ("NCW").
      filters: ``[width, out_channels, in_channels]``.
      output_shape: the 3 output dims.
      strides: an int or a list of 1 or 3 ints.
      padding: ``"SAME"`` or ``"VALID"``.
      data_format: ``"NWC"`` or ``"NCW"``.
      dilations: an int or a list of 1 or 3 ints.
      name: the op name.

    Returns:
      The 3-D output.

    Raises:
      ValueError: for an unknown data_format.
    """
    if data_format not in ("NWC", "NCW", None):
        raise ValueError(f"data_format must be 'NWC' or 'NCW', got {data_format!r}")
    channels_first = data_format == "NCW"
    spatial_axis = 2 if channels_first else 1
    with graph_lib.name_scope(name, "conv1d_transpose", [input, filters, output_shape]):
        image = array_ops.expand_dims(input, spatial_axis)
        kernel = array_ops.expand_dims(filters, 0)
        shape = graph_lib.convert_to_tensor(output_shape, dtype=dtypes.int32)
        shape_2d = array_ops.concat([shape[:spatial_axis], [1], shape[spatial_axis:]], 0)
        format_2d = "NCHW" if channels_first else "NHWC"
        result = conv_ops.conv2d_transpose(
            image, kernel, shape_2d, _full_window(_one_d(strides), 2, format_2d), padding,
            data_format=format_2d,
            dilations=None if dilations is None else _full_window(_one_d(dilations), 2,
                                                                  format_2d))
        return array_ops.squeeze(result, [spatial_axis])


def _one_d(value):
    """A 1-D stride/dilation (an int or 1 or 3 ints) as the [1, w] window of a 2-D op."""
    if isinstance(value, (int, np.integer)):
        return [1, int(value)]
    value = [int(v) for v in value]
    if len(value) == 3:
        value = value[1:2]
    if len(value) != 1:
        raise ValueError(f"a 1-D stride or dilation needs 1 or 3 values, got {len(value)}")
    return [1, value[0]]


def conv_transpose(input, filters, output_shape, strides, padding="SAME",  # noqa: A002
                   data_format=None, dilations=None, name=None):
    """The transpose of ``convolution`` (``tf.nn.conv_transpose``): the 1-, 2- or 3-D op
    chosen by the length of `output_shape`.

    Args:
      input: the rank-N + 2 input.
      filters: the rank-N + 2 filter.
      output_shape: the N + 2 output dims (a list or 1-D tensor of static length).
      strides: an int or a list of 1, N or N + 2 ints.
      padding: ``"SAME"`` or ``"VALID"``.
      data_format: defaults to channels last.
      dilations: like `strides`, or None.
      name: the op name.

    Returns:
      The transposed convolution.

    Raises:
      ValueError: if the rank is not 3, 4 or 5.
    """
    shape_tensor = graph_lib.convert_to_tensor(output_shape, dtype=dtypes.int32)
    rank = shape_tensor.shape[0] if shape_tensor.shape.ndims == 1 else None
    rank = rank if rank is None else int(rank)
    if rank == 3:
        return conv1d_transpose(input, filters, output_shape, strides, padding,
                                data_format or "NWC", dilations, name)
    if rank not in (4, 5):
        raise ValueError(f"output_shape must have length 3, 4 or 5, got {rank}")
    data_format = data_format or _DEFAULT_FORMATS[rank]
    spatial = rank - 2
    window = lambda value: None if value is None else _full_window(value, spatial,  # noqa
                                                                   data_format)
    transpose = conv_ops.conv2d_transpose if rank == 4 else conv3d_ops.conv3d_transpose
    return transpose(input, filters, output_shape, window(strides), padding,
                     data_format=data_format, name=name, dilations=window(dilations))


def atrous_conv2d_transpose(value, filters, output_shape, rate, padding, name=None):
    """The transpose of ``atrous_conv2d`` (``tf.nn.atrous_conv2d_transpose``): a transposed
    convolution with the filter dilated by `rate`.

    Args:
      value: a 4-D NHWC tensor.
      filters: ``[height, width, out_channels, in_channels]``.
      output_shape: the 4 output dims.
      rate: the positive int dilation.
      padding: ``"SAME"`` or ``"VALID"``.
      name: the op name.

    Returns:
      The 4-D output.

    Raises:
      ValueError: for a rate below 1 or an unknown padding.
    """
    if int(rate) < 1:
        raise ValueError(f"rate {rate} cannot be less than one")
    if padding not in ("SAME", "VALID"):
        raise ValueError(f"padding must be either VALID or SAME: {padding}")
    return conv_ops.conv2d_transpose(value, filters, output_shape, [1, 1, 1, 1], padding,
                                     dilations=[1, int(rate), int(rate), 1],
                                     name=name or "atrous_conv2d_transpose")


def depthwise_conv2d_backprop_filter(input, filter_sizes, out_backprop, strides,  # noqa: A002
                                     padding, data_format="NHWC", dilations=(1, 1, 1, 1),
                                     name=None):
    """``tf.nn.depthwise_conv2d_backprop_filter``: the depthwise convolution's filter
    gradient (TF 1's spelling of ``depthwise_conv2d_native_backprop_filter``).

    Returns:
      The filter gradient, of shape `filter_sizes`.
    """
    return conv_ops.depthwise_conv2d_native_backprop_filter(
        input, filter_sizes, out_backprop, strides, padding, data_format, list(dilations), name)


def depthwise_conv2d_backprop_input(input_sizes, filter, out_backprop, strides,  # noqa: A002
                                    padding, data_format="NHWC", dilations=(1, 1, 1, 1),
                                    name=None):
    """``tf.nn.depthwise_conv2d_backprop_input``: the depthwise convolution's input gradient
    (TF 1's spelling of ``depthwise_conv2d_native_backprop_input``).

    Returns:
      The input gradient, of shape `input_sizes`.
    """
    return conv_ops.depthwise_conv2d_native_backprop_input(
        input_sizes, filter, out_backprop, strides, padding, data_format, list(dilations), name)


def conv3d_backprop_filter(input, filter_sizes, out_backprop, strides, padding,  # noqa: A002
                           data_format="NDHWC", dilations=(1, 1, 1, 1, 1), name=None):
    """``tf.nn.conv3d_backprop_filter``: the 3-D convolution's filter gradient (op
    ``Conv3DBackpropFilterV2``, like ``conv3d_backprop_filter_v2``).

    Returns:
      The filter gradient, of shape `filter_sizes`.
    """
    return conv3d_ops.conv3d_backprop_filter_v2(
        input, filter_sizes, out_backprop, strides, padding, data_format=data_format,
        dilations=tuple(dilations), name=name)


# ---- dense layers and losses -----------------------------------------------------------------

def xw_plus_b(x, weights, biases, name=None):
    """``matmul(x, weights) + biases`` (``tf.nn.xw_plus_b``).

    Args:
      x: a 2-D tensor ``[batch, in]``.
      weights: ``[in, out]``.
      biases: ``[out]``.
      name: the op name.

    Returns:
      The 2-D ``[batch, out]`` tensor.
    """
    with graph_lib.name_scope(name, "xw_plus_b", [x, weights, biases]) as scope:
        return bias_add(math_ops.matmul(x, weights), biases, name=scope)


def relu_layer(x, weights, biases, name=None):
    """``relu(matmul(x, weights) + biases)`` (``tf.nn.relu_layer``).

    Args:
      x: a 2-D tensor ``[batch, in]``.
      weights: ``[in, out]``.
      biases: ``[out]``.
      name: the op name.

    Returns:
      The 2-D ``[batch, out]`` tensor.
    """
    with graph_lib.name_scope(name, "relu_layer", [x, weights, biases]) as scope:
        return relu(bias_add(math_ops.matmul(x, weights), biases), name=scope)


def log_poisson_loss(targets, log_input, compute_full_loss=False, name=None):
    """The Poisson negative log-likelihood ``exp(log_input) - targets * log_input``
    (``tf.nn.log_poisson_loss``), plus the Stirling term of ``log(targets!)`` for targets
    above 1 when `compute_full_loss`.

    Args:
      targets: a float tensor.
      log_input: a float tensor of the same shape (the log of the predicted rate).
      compute_full_loss: add the Stirling approximation term.
      name: the op name.

    Returns:
      The elementwise loss.

    Raises:
      ValueError: if the shapes differ.
    """
    with graph_lib.name_scope(name, "log_poisson_loss", [targets, log_input]):
        log_input = graph_lib.convert_to_tensor(log_input, name="log_input")
        targets = graph_lib.convert_to_tensor(targets, name="targets")
        if not log_input.shape.is_compatible_with(targets.shape):
            raise ValueError(f"log_input and targets must have the same shape "
                             f"({log_input.shape} vs {targets.shape})")
        result = math_ops.exp(log_input) - log_input * targets
        if not compute_full_loss:
            return result
        stirling = (targets * math_ops.log(targets) - targets
                    + 0.5 * math_ops.log(2.0 * np.pi * targets))
        zeros = array_ops.zeros_like(targets)
        in_unit_range = math_ops.logical_and(math_ops.greater_equal(targets, zeros),
                                             math_ops.less_equal(targets, 1.0 + zeros))
        return result + array_ops.where(in_unit_range, zeros, stirling)


def compute_average_loss(per_example_loss, sample_weight=None, global_batch_size=None):
    """The per-example loss summed and divided by the global batch size
    (``tf.nn.compute_average_loss``; one replica here).

    Args:
      per_example_loss: a float tensor of rank >= 1, one loss per example.
      sample_weight: optional weights, broadcast against the loss.
      global_batch_size: the divisor; defaults to the loss's leading dimension.

    Returns:
      A scalar loss (0 when the batch size is 0).

    Raises:
      ValueError: for a scalar `per_example_loss`.
    """
    per_example_loss = graph_lib.convert_to_tensor(per_example_loss)
    if per_example_loss.shape.ndims == 0:
        raise ValueError("Invalid value passed for `per_example_loss`. Expected a tensor with "
                         "at least rank 1.")
    dtype = per_example_loss.dtype
    with graph_lib.name_scope(None, "average_loss", [per_example_loss]):
        if sample_weight is not None:
            per_example_loss = per_example_loss * math_ops.cast(sample_weight, dtype)
        if global_batch_size is None:
            global_batch_size = array_ops.shape(per_example_loss, out_type=dtypes.int64)[0]
        global_batch_size = math_ops.cast(global_batch_size, dtype)
        return metrics_ops.div_no_nan(math_ops.reduce_sum(per_example_loss), global_batch_size)


def scale_regularization_loss(regularization_loss):
    """The summed regularization loss, scaled by 1 / the replica count, which is 1 here
    (``tf.nn.scale_regularization_loss``).

    Args:
      regularization_loss: a tensor (or list summed elementwise first).

    Returns:
      The scalar loss.
    """
    if isinstance(regularization_loss, (list, tuple)):
        regularization_loss = math_ops.add_n(list(regularization_loss))
    return math_ops.reduce_sum(regularization_loss)


# ---- moments and normalization ---------------------------------------------------------------

def sufficient_statistics(x, axes, shift=None, keep_dims=None, name=None, keepdims=None):
    """The count, the (shifted) sum and the (shifted) sum of squares of `x` over `axes`
    (``tf.nn.sufficient_statistics``).

    Args:
      x: a float tensor.
      axes: the axes (ints) to reduce.
      shift: an optional tensor subtracted from `x` first (numerical stability).
      keep_dims, keepdims: keep the reduced axes as size 1.
      name: the op name.

    Returns:
      ``(count, mean_ss, variance_ss, shift)``; `count` has `x`'s dtype.
    """
    keepdims = bool(keepdims if keepdims is not None else keep_dims)
    axes = [int(a) for a in np.atleast_1d(axes)]
    with graph_lib.name_scope(name, "sufficient_statistics", [x, shift]):
        x = graph_lib.convert_to_tensor(x, name="x")
        dims = x.shape.as_list() if x.shape.ndims is not None else None
        if dims is not None and all(dims[a] is not None for a in axes):
            count = float(np.prod([dims[a] for a in axes]))
            counts = array_ops.constant(count, dtype=x.dtype, name="count")
        else:
            sizes = array_ops.gather(math_ops.cast(array_ops.shape(x), x.dtype), axes)
            counts = math_ops.reduce_prod(sizes, name="count")
        if shift is not None:
            shift = graph_lib.convert_to_tensor(shift, name="shift")
            centered = x - shift
            squared = math_ops.squared_difference(x, shift)
        else:
            centered, squared = x, math_ops.square(x)
        mean_ss = math_ops.reduce_sum(centered, axes, keepdims=keepdims, name="mean_ss")
        variance_ss = math_ops.reduce_sum(squared, axes, keepdims=keepdims, name="var_ss")
    return counts, mean_ss, variance_ss, shift


def normalize_moments(counts, mean_ss, variance_ss, shift, name=None):
    """The mean and variance from sufficient statistics (``tf.nn.normalize_moments``).

    Args:
      counts: the element count.
      mean_ss: the (shifted) sum.
      variance_ss: the (shifted) sum of squares.
      shift: the shift used, or None.
      name: the op name.

    Returns:
      ``(mean, variance)``.
    """
    with graph_lib.name_scope(name, "normalize", [counts, mean_ss, variance_ss, shift]):
        divisor = math_ops.reciprocal(counts, name="divisor")
        shifted_mean = math_ops.multiply(mean_ss, divisor, name="shifted_mean")
        mean = shifted_mean if shift is None else math_ops.add(shifted_mean, shift,
                                                               name="mean")
        variance = math_ops.subtract(math_ops.multiply(variance_ss, divisor),
                                     math_ops.square(shifted_mean), name="variance")
    return mean, variance


def batch_norm_with_global_normalization(t=None, m=None, v=None, beta=None, gamma=None,
                                         variance_epsilon=None,
                                         scale_after_normalization=None, name=None,
                                         input=None, mean=None, variance=None):  # noqa: A002
    """Batch normalization with given moments (``tf.nn.batch_norm_with_global_normalization``,
    the deprecated form of ``batch_normalization``).

    Args:
      t (input): the tensor to normalize.
      m (mean), v (variance): the moments, 1-D over the last axis.
      beta: the offset.
      gamma: the scale, used only if `scale_after_normalization`.
      variance_epsilon: added to the variance.
      scale_after_normalization: multiply by `gamma`.
      name: the op name.

    Returns:
      The normalized tensor.
    """
    t = input if t is None else t
    m = mean if m is None else m
    v = variance if v is None else v
    return norm_ops.batch_normalization(t, m, v, beta,
                                        gamma if scale_after_normalization else None,
                                        variance_epsilon, name=name)

