"""``tf.contrib.layers``: contrib's spellings of dense and convolutional layers, pooling,
dropout, batch and layer normalization, initializers and regularizers, and the ``repeat`` and
``stack`` helpers, over sessionlib's own implementation.

What differs from ``tf.layers`` is only what contrib defined: the variable names (``weights``
and ``biases`` under the scope ``fully_connected`` or ``Conv``; ``BatchNorm/...``), the default
activation (ReLU), the ``normalizer_fn`` hook, the variables also going to
``MODEL_VARIABLES``, and contrib's initializer formulas (its truncated normal uses a standard
deviation of ``sqrt(1.3 * factor / n)``).

The layer functions are decorated with ``add_arg_scope``, as contrib's were, so that
``arg_scope`` can set their defaults; ``repeat``, ``stack``, the initializers and the
regularizers are not (contrib did not decorate them either).
"""

import functools
import math
import numbers

from sessionlib import dtypes
from sessionlib.contrib._arg_scope import add_arg_scope
from sessionlib.contrib._layer_utils import collect_named_outputs, last_dimension
from sessionlib.contrib.framework import model_variable
from sessionlib.framework import graph as graph_lib
from sessionlib.framework.graph import GraphKeys
from sessionlib.ops import array_ops, init_ops, math_ops, nn, random_ops
from sessionlib.ops import manipulation_ops, nn_activation_ops, nn_convolution_ops
from sessionlib.ops.nn_convolution_ops import conv2d as _conv2d_op
from sessionlib.ops.nn_loss_ops import l2_loss
from sessionlib.ops import variable_scope as vs

__all__ = ["flatten", "fully_connected", "linear", "relu", "relu6", "conv2d", "convolution2d",
           "conv2d_transpose", "convolution2d_transpose", "separable_conv2d",
           "separable_convolution2d", "xavier_initializer", "xavier_initializer_conv2d",
           "variance_scaling_initializer", "l1_regularizer", "l2_regularizer",
           "l1_l2_regularizer", "batch_norm", "layer_norm", "dropout", "max_pool2d",
           "avg_pool2d", "one_hot_encoding", "softmax", "bias_add", "repeat", "stack"]


def __getattr__(name):
    from sessionlib import contrib

    raise contrib.unsupported(f"layers.{name}")


# ---- initializers and regularizers ---------------------------------------------------------------

def variance_scaling_initializer(factor=2.0, mode="FAN_IN", uniform=False, seed=None,
                                 dtype=dtypes.float32):
    """contrib's variance-scaling initializer (He et al. with the defaults).

    Args:
      factor: the multiplicative factor.
      mode: ``'FAN_IN'``, ``'FAN_OUT'`` or ``'FAN_AVG'``.
      uniform: a uniform distribution (limit ``sqrt(3 * factor / n)``) or a truncated normal
        (standard deviation ``sqrt(1.3 * factor / n)``).
      seed: the op-level seed.
      dtype: a floating dtype.

    Returns:
      An initializer ``(shape, dtype=dtype, partition_info=None) -> Tensor``.

    Raises:
      TypeError: for a dtype that is not floating point.
      TypeError: for an unknown mode.
    """
    dtype = dtypes.as_dtype(dtype)
    if not dtype.is_floating:
        raise TypeError("Cannot create initializer for non-floating point type.")
    if mode not in ("FAN_IN", "FAN_OUT", "FAN_AVG"):
        raise TypeError(f"Unknown mode {mode} [FAN_IN, FAN_OUT, FAN_AVG]")

    def _initializer(shape, dtype=dtype, partition_info=None):
        dtype = dtypes.as_dtype(dtype)
        if not dtype.is_floating:
            raise TypeError("Cannot create initializer for non-floating point type.")
        full = getattr(partition_info, "full_shape", None) or list(shape)
        fan_in = float(full[-2]) if len(full) > 1 else float(full[-1]) if full else 1.0
        fan_out = float(full[-1]) if full else 1.0
        for dim in full[:-2]:
            fan_in *= float(dim)
            fan_out *= float(dim)
        n = {"FAN_IN": fan_in, "FAN_OUT": fan_out,
             "FAN_AVG": (fan_in + fan_out) / 2.0}[mode]
        if uniform:
            limit = math.sqrt(3.0 * factor / n)
            return random_ops.random_uniform(shape, -limit, limit, dtype, seed=seed)
        return random_ops.truncated_normal(shape, 0.0, math.sqrt(1.3 * factor / n), dtype,
                                           seed=seed)

    return _initializer


def xavier_initializer(uniform=True, seed=None, dtype=dtypes.float32):
    """contrib's Glorot (Xavier) initializer: `variance_scaling_initializer` with factor 1
    and ``FAN_AVG``."""
    return variance_scaling_initializer(1.0, "FAN_AVG", uniform, seed, dtype)


# contrib's second name for the same initializer.
xavier_initializer_conv2d = xavier_initializer


def _checked_scale(scale):
    if isinstance(scale, numbers.Integral):
        raise ValueError(f"scale cannot be an integer: {scale}")
    if isinstance(scale, numbers.Real) and scale < 0.0:
        raise ValueError(f"Setting a scale less than 0 on a regularizer: {scale:g}")


def _regularizer(scale, scope, default_name, penalty):
    _checked_scale(scale)
    if isinstance(scale, numbers.Real) and scale == 0.0:
        return lambda _: None

    def regularize(weights):
        graph = graph_lib.get_default_graph()
        with graph.name_scope(scope or default_name) as name:
            factor = graph_lib.convert_to_tensor(scale, dtype=weights.dtype, name="scale")
            return math_ops.multiply(factor, penalty(weights), name=name)

    return regularize


def l2_regularizer(scale, scope=None):
    """``weights -> scale * l2_loss(weights)`` (that is, ``scale * sum(w ** 2) / 2``).

    Raises:
      ValueError: for an integer or negative `scale`. A zero scale regularizes nothing.
    """
    return _regularizer(scale, scope, "l2_regularizer", l2_loss)


def l1_regularizer(scale, scope=None):
    """``weights -> scale * sum(|weights|)``.

    Raises:
      ValueError: for an integer or negative `scale`. A zero scale regularizes nothing.
    """
    return _regularizer(scale, scope, "l1_regularizer",
                        lambda weights: math_ops.reduce_sum(math_ops.abs(weights)))


def l1_l2_regularizer(scale_l1=1.0, scale_l2=1.0, scope=None):
    """``weights -> scale_l1 * sum(|weights|) + scale_l2 * l2_loss(weights)``.

    Raises:
      ValueError: for an integer or negative scale. Both scales zero regularize nothing.
    """
    if isinstance(scale_l1, numbers.Real) and isinstance(scale_l2, numbers.Real):
        _checked_scale(scale_l1)
        _checked_scale(scale_l2)
        if scale_l1 == 0.0 and scale_l2 == 0.0:
            return lambda _: None
    l1 = l1_regularizer(scale_l1)
    l2 = l2_regularizer(scale_l2)

    def regularize(weights):
        graph = graph_lib.get_default_graph()
        with graph.name_scope(scope or "l1_l2_regularizer") as name:
            # A zero scale's regularizer returns None: its term is left out.
            terms = [term for term in (l1(weights), l2(weights)) if term is not None]
            return terms[0] if len(terms) == 1 else math_ops.add_n(terms, name=name)

    return regularize


# ---- layers ----------------------------------------------------------------------------------------

def _model_variable(name, shape, dtype, initializer, regularizer, trainable, collections):
    """A variable in GLOBAL_VARIABLES and MODEL_VARIABLES, made through the arg-scoped
    `model_variable` as contrib's layers do (so ``arg_scope([model_variable], ...)`` reaches
    the layers' weights)."""
    return model_variable(name, shape=shape, dtype=dtype, initializer=initializer,
                          regularizer=regularizer, trainable=trainable,
                          collections=collections)


def _finish(outputs, biases_shape, dtype, normalizer_fn, normalizer_params,
            biases_initializer, biases_regularizer, activation_fn, trainable,
            variables_collections, bias_add):
    if normalizer_fn is not None:
        outputs = normalizer_fn(outputs, **(normalizer_params or {}))
    elif biases_initializer is not None:
        biases = _model_variable("biases", biases_shape, dtype, biases_initializer,
                                 biases_regularizer, trainable, variables_collections)
        outputs = bias_add(outputs, biases)
    if activation_fn is not None:
        outputs = activation_fn(outputs)
    return outputs


@add_arg_scope
def fully_connected(inputs, num_outputs, activation_fn=nn.relu, normalizer_fn=None,
                    normalizer_params=None, weights_initializer=None,
                    weights_regularizer=None, biases_initializer=init_ops.zeros_initializer(),
                    biases_regularizer=None, reuse=None, variables_collections=None,
                    outputs_collections=None, trainable=True, scope=None):
    """A dense layer over the last axis: ``activation_fn(inputs @ weights + biases)``.

    Args:
      inputs: a tensor of rank >= 2 with a known last dimension.
      num_outputs: the number of output units.
      activation_fn: applied last (default ReLU; None for linear).
      normalizer_fn, normalizer_params: replace the biases (``batch_norm`` and its args).
      weights_initializer: default `xavier_initializer()`.
      weights_regularizer, biases_regularizer: functions of the variable.
      biases_initializer: default zeros; None for no biases (as contrib).
      reuse, scope: the variable scope (default ``fully_connected``) and its reuse.
      variables_collections, outputs_collections: extra collections.
      trainable: whether the variables are trainable.

    Returns:
      The output tensor.

    Raises:
      ValueError: for a `num_outputs` that is not an int, or an unknown last dimension.
    """
    if not isinstance(num_outputs, numbers.Integral):
        raise ValueError(f"num_outputs type should be one of (<class 'int'>,), got "
                         f"{type(num_outputs)}.")
    with vs.variable_scope(scope, "fully_connected", [inputs], reuse=reuse) as sc:
        inputs = graph_lib.convert_to_tensor(inputs)
        depth = inputs.shape.dims[-1] if inputs.shape.rank else None
        if depth is None:
            raise ValueError("The last dimension of the inputs to `Dense` should be defined. "
                             "Found `None`.")
        dtype = inputs.dtype
        weights = _model_variable("weights", [int(depth), num_outputs], dtype,
                                  weights_initializer or xavier_initializer(),
                                  weights_regularizer, trainable, variables_collections)
        if inputs.shape.rank > 2:
            flat = array_ops.reshape(inputs, [-1, int(depth)])
            outputs = math_ops.matmul(flat, weights)
            batch_shape = array_ops.shape(inputs)[:-1]
            outputs = array_ops.reshape(outputs, array_ops.concat(
                [batch_shape, [num_outputs]], 0))
        else:
            outputs = math_ops.matmul(inputs, weights)
        outputs = _finish(outputs, [num_outputs], dtype, normalizer_fn, normalizer_params,
                          biases_initializer, biases_regularizer, activation_fn, trainable,
                          variables_collections, nn.bias_add)
        return collect_named_outputs(outputs_collections, sc.name, outputs)


def _int_pair(value, what):
    if isinstance(value, numbers.Integral):
        return [int(value)] * 2
    value = [int(v) for v in value]
    if len(value) != 2:
        raise ValueError(f"The `{what}` argument must be a tuple of 2 integers. Received: "
                         f"{value}")
    return value


def _channels(inputs, data_format):
    """The statically known channel count of a 4-D input (ValueError for another rank)."""
    if data_format not in ("NHWC", "NCHW"):
        raise ValueError("data_format has to be either NCHW or NHWC.")
    rank = inputs.shape.rank
    if rank is not None and rank != 4:
        # Said so, rather than the "channel dimension ... None" below, which blames a depth
        # the (3-D or 5-D) input may well have.
        raise ValueError(f"Convolution expects input with rank 4, got {rank}")
    axis = 3 if data_format == "NHWC" else 1
    depth = inputs.shape.dims[axis] if rank == 4 else None
    if depth is None:
        raise ValueError("The channel dimension of the inputs should be defined. Found `None`.")
    return int(depth)


def _spatial(values, data_format):
    """Height and width values as the 4 entries of `data_format` (1 for batch and channels)."""
    return [1] + list(values) + [1] if data_format == "NHWC" else [1, 1] + list(values)


def _finish_conv(outputs, num_outputs, data_format, normalizer_fn, normalizer_params,
                 biases_initializer, biases_regularizer, activation_fn, trainable,
                 variables_collections, outputs_collections, alias):
    """`_finish` for a convolution's output (biases added along `data_format`'s channels),
    then the result collected under `alias`."""
    outputs = _finish(outputs, [num_outputs], outputs.dtype, normalizer_fn, normalizer_params,
                      biases_initializer, biases_regularizer, activation_fn, trainable,
                      variables_collections,
                      lambda value, bias: nn.bias_add(value, bias, data_format=data_format))
    return collect_named_outputs(outputs_collections, alias, outputs)


@add_arg_scope
def conv2d(inputs, num_outputs, kernel_size, stride=1, padding="SAME", data_format=None,
           rate=1, activation_fn=nn.relu, normalizer_fn=None, normalizer_params=None,
           weights_initializer=None, weights_regularizer=None,
           biases_initializer=init_ops.zeros_initializer(), biases_regularizer=None, reuse=None,
           variables_collections=None, outputs_collections=None, trainable=True, scope=None):
    """A 2-D convolution layer (``Conv/weights``, ``Conv/biases``), contrib's defaults.

    Args:
      inputs: a 4-D tensor, NHWC (default) or NCHW.
      num_outputs: the number of filters.
      kernel_size, stride, rate: an int or a pair of ints each (`rate` is the dilation).
      padding: ``'SAME'`` or ``'VALID'``.
      data_format: None/``'NHWC'`` or ``'NCHW'``.
      The others: as `fully_connected`.

    Returns:
      The output tensor.

    Raises:
      ValueError: for a bad data format, or an input of unknown depth.
    """
    if data_format not in (None, "NHWC", "NCHW"):
        raise ValueError("data_format has to be either NCHW or NHWC.")
    data_format = data_format or "NHWC"
    kernel, step = _int_pair(kernel_size, "kernel_size"), _int_pair(stride, "strides")
    dilation = _int_pair(rate, "dilation_rate")
    with vs.variable_scope(scope, "Conv", [inputs], reuse=reuse) as sc:
        inputs = graph_lib.convert_to_tensor(inputs)
        depth = _channels(inputs, data_format)
        weights = _model_variable("weights", kernel + [depth, num_outputs], inputs.dtype,
                                  weights_initializer or xavier_initializer(),
                                  weights_regularizer, trainable, variables_collections)
        outputs = _conv2d_op(inputs, weights, strides=_spatial(step, data_format),
                             padding=padding.upper(), data_format=data_format,
                             dilations=_spatial(dilation, data_format))
        return _finish_conv(outputs, num_outputs, data_format, normalizer_fn,
                            normalizer_params, biases_initializer, biases_regularizer,
                            activation_fn, trainable, variables_collections,
                            outputs_collections, sc.name)


# One function under both names, as in contrib: an arg_scope for either applies to both.
convolution2d = conv2d


@add_arg_scope
def conv2d_transpose(inputs, num_outputs, kernel_size, stride=1, padding="SAME",
                     data_format="NHWC", activation_fn=nn.relu, normalizer_fn=None,
                     normalizer_params=None, weights_initializer=None,
                     weights_regularizer=None, biases_initializer=init_ops.zeros_initializer(),
                     biases_regularizer=None, reuse=None, variables_collections=None,
                     outputs_collections=None, trainable=True, scope=None):
    """A 2-D transposed convolution ("deconvolution") layer, contrib's
    ``convolution2d_transpose``: ``Conv2d_transpose/weights`` of shape ``[kh, kw,
    num_outputs, in_channels]`` and ``Conv2d_transpose/biases``.

    The output's height is ``height * stride`` for SAME padding and ``height * stride +
    max(kernel - stride, 0)`` for VALID (likewise the width).

    Args:
      inputs: a 4-D tensor, NHWC (default) or NCHW, of known channel count.
      num_outputs: the number of output channels.
      kernel_size, stride: an int or a pair of ints each.
      padding: ``'SAME'`` or ``'VALID'``.
      data_format: ``'NHWC'`` or ``'NCHW'``.
      The others: as `conv2d`.

    Returns:
      The output tensor.

    Raises:
      ValueError: for a bad data format or window, or an input of unknown channel count.
    """
    kernel, step = _int_pair(kernel_size, "kernel_size"), _int_pair(stride, "strides")
    padding = padding.upper()
    with vs.variable_scope(scope, "Conv2d_transpose", [inputs], reuse=reuse) as sc:
        inputs = graph_lib.convert_to_tensor(inputs)
        depth = _channels(inputs, data_format)
        dtype = inputs.dtype
        weights = _model_variable("weights", kernel + [num_outputs, depth], dtype,
                                  weights_initializer or xavier_initializer(),
                                  weights_regularizer, trainable, variables_collections)
        spatial_axes = (1, 2) if data_format == "NHWC" else (2, 3)
        dynamic_shape = array_ops.shape(inputs)
        static_shape = inputs.shape.as_list()
        out_sizes, out_static = [], []
        for axis, size, window in zip(spatial_axes, kernel, step):
            # The forward convolution of a VALID transpose needs the kernel's overhang.
            extra = max(size - window, 0) if padding == "VALID" else 0
            out_sizes.append(dynamic_shape[axis] * window + extra)
            known = static_shape[axis]
            out_static.append(None if known is None else known * window + extra)
        if data_format == "NHWC":
            output_shape = array_ops.stack([dynamic_shape[0]] + out_sizes + [num_outputs])
            static_out = [static_shape[0]] + out_static + [num_outputs]
        else:
            output_shape = array_ops.stack([dynamic_shape[0], num_outputs] + out_sizes)
            static_out = [static_shape[0], num_outputs] + out_static
        outputs = nn_convolution_ops.conv2d_transpose(
            inputs, weights, output_shape, _spatial(step, data_format), padding=padding,
            data_format=data_format)
        outputs.set_shape(static_out)
        return _finish_conv(outputs, num_outputs, data_format, normalizer_fn,
                            normalizer_params, biases_initializer, biases_regularizer,
                            activation_fn, trainable, variables_collections,
                            outputs_collections, sc.name)


convolution2d_transpose = conv2d_transpose


@add_arg_scope
def separable_conv2d(inputs, num_outputs, kernel_size, depth_multiplier=1, stride=1,
                     padding="SAME", data_format="NHWC", rate=1, activation_fn=nn.relu,
                     normalizer_fn=None, normalizer_params=None, weights_initializer=None,
                     pointwise_initializer=None, weights_regularizer=None,
                     biases_initializer=init_ops.zeros_initializer(), biases_regularizer=None,
                     reuse=None, variables_collections=None, outputs_collections=None,
                     trainable=True, scope=None):
    """contrib's ``separable_convolution2d``: a depthwise convolution
    (``SeparableConv2d/depthwise_weights``, ``[kh, kw, in_channels, depth_multiplier]``), then,
    unless `num_outputs` is None, a 1x1 pointwise one (``pointwise_weights``, ``[1, 1,
    in_channels * depth_multiplier, num_outputs]``), then ``biases``.

    Args:
      inputs: a 4-D tensor, NHWC (default) or NCHW, of known channel count.
      num_outputs: the pointwise output channels; None for the depthwise step alone (whose
        output has ``in_channels * depth_multiplier`` channels).
      kernel_size, stride, rate: an int or a pair of ints each (`rate` is the dilation).
      depth_multiplier: the depthwise outputs per input channel.
      weights_initializer: the depthwise initializer (default `xavier_initializer()`).
      pointwise_initializer: the pointwise one (default `weights_initializer`'s).
      weights_regularizer: applied to both kernels.
      The others: as `conv2d`.

    Returns:
      The output tensor.

    Raises:
      ValueError: for a bad data format or window, or an input of unknown channel count.
    """
    from sessionlib.ops import nn_composite_convolution_ops

    kernel, step = _int_pair(kernel_size, "kernel_size"), _int_pair(stride, "strides")
    dilation = _int_pair(rate, "dilation_rate")
    padding = padding.upper()
    with vs.variable_scope(scope, "SeparableConv2d", [inputs], reuse=reuse) as sc:
        inputs = graph_lib.convert_to_tensor(inputs)
        depth = _channels(inputs, data_format)
        dtype = inputs.dtype
        weights_initializer = weights_initializer or xavier_initializer()
        depthwise = _model_variable(
            "depthwise_weights", kernel + [depth, depth_multiplier], dtype, weights_initializer,
            weights_regularizer, trainable, _collections_of(variables_collections, "weights"))
        strides = _spatial(step, data_format)
        if num_outputs is None:
            num_outputs = depth * depth_multiplier
            outputs = nn_convolution_ops.depthwise_conv2d(
                inputs, depthwise, strides, padding, rate=dilation, data_format=data_format)
        else:
            pointwise = _model_variable(
                "pointwise_weights", [1, 1, depth * depth_multiplier, num_outputs], dtype,
                pointwise_initializer or weights_initializer, weights_regularizer, trainable,
                _collections_of(variables_collections, "weights"))
            outputs = nn_composite_convolution_ops.separable_conv2d(
                inputs, depthwise, pointwise, strides, padding, rate=dilation,
                data_format=data_format)
        return _finish_conv(outputs, num_outputs, data_format, normalizer_fn,
                            normalizer_params, biases_initializer, biases_regularizer,
                            activation_fn, trainable,
                            _collections_of(variables_collections, "biases"),
                            outputs_collections, sc.name)


separable_convolution2d = separable_conv2d


@add_arg_scope
def flatten(inputs, outputs_collections=None, scope=None):
    """``[batch, ...]`` to ``[batch, k]``, under the name scope ``Flatten``."""
    graph = graph_lib.get_default_graph()
    with graph.name_scope(scope or "Flatten") as sc:
        inputs = graph_lib.convert_to_tensor(inputs)
        if inputs.shape.rank is not None and inputs.shape.rank < 2:
            raise ValueError("Inputs must have a least 2 dimensions.")
        dims = inputs.shape.dims
        if dims is not None and all(d is not None for d in dims[1:]):
            inner = 1
            for d in dims[1:]:
                inner *= int(d)
            outputs = array_ops.reshape(inputs, [-1, inner])
        else:
            outputs = array_ops.reshape(inputs, array_ops.stack(
                [array_ops.shape(inputs)[0], -1]))
        return collect_named_outputs(outputs_collections, sc, outputs)


@add_arg_scope
def batch_norm(inputs, decay=0.999, center=True, scale=False, epsilon=0.001,
               activation_fn=None, param_initializers=None, param_regularizers=None,
               updates_collections=GraphKeys.UPDATE_OPS, is_training=True, reuse=None,
               variables_collections=None, outputs_collections=None, trainable=True,
               batch_weights=None, fused=None, data_format="NHWC",
               zero_debias_moving_mean=False, scope=None, renorm=False,
               renorm_clipping=None, renorm_decay=0.99, adjustment=None):
    """contrib's batch normalization: ``tf.layers.BatchNormalization`` under the variable scope
    ``BatchNorm`` (``BatchNorm/beta``, ``BatchNorm/moving_mean``, ...), with contrib's defaults
    (``decay=0.999``, no ``gamma`` unless ``scale=True``).

    Args:
      inputs: a tensor of rank >= 2; the features are the last axis (NHWC) or axis 1 (NCHW).
      decay: the moving averages' momentum.
      center, scale, epsilon, trainable, adjustment: as for the layer.
      activation_fn: applied to the output.
      param_initializers, param_regularizers: dicts with keys among ``beta``, ``gamma``,
        ``moving_mean``, ``moving_variance``.
      updates_collections: where the moving-average updates go (default UPDATE_OPS); None:
        they run with the output (a control dependency), in place.
      is_training: a Python bool or a bool tensor: batch statistics (and updates) or the
        moving ones.
      reuse, scope: the variable scope and its reuse.
      variables_collections, outputs_collections: extra collections.
      fused, data_format: as contrib (the fused op applies to 4-D inputs).
      batch_weights, zero_debias_moving_mean, renorm, renorm_clipping, renorm_decay: not
        supported beyond their defaults.

    Returns:
      The normalized tensor.

    Raises:
      NotImplementedError: for the unsupported options.
      ValueError: for a bad data format.
    """
    from sessionlib.layers import normalization

    if batch_weights is not None or zero_debias_moving_mean or renorm:
        raise NotImplementedError("batch_norm: batch_weights, zero_debias_moving_mean and "
                                  "renorm are not supported")
    if data_format not in ("NHWC", "NCHW"):
        raise ValueError("data_format has to be either NCHW or NHWC.")
    initializers = dict(param_initializers or {})
    regularizers = dict(param_regularizers or {})
    with vs.variable_scope(scope, "BatchNorm", [inputs], reuse=reuse) as sc:
        inputs = graph_lib.convert_to_tensor(inputs)
        axis = 1 if data_format == "NCHW" and inputs.shape.rank != 2 else -1
        layer = normalization.BatchNormalization(
            axis=axis, momentum=decay, epsilon=epsilon, center=center, scale=scale,
            beta_initializer=initializers.get("beta", init_ops.zeros_initializer()),
            gamma_initializer=initializers.get("gamma", init_ops.ones_initializer()),
            moving_mean_initializer=initializers.get("moving_mean",
                                                     init_ops.zeros_initializer()),
            moving_variance_initializer=initializers.get("moving_variance",
                                                         init_ops.ones_initializer()),
            beta_regularizer=regularizers.get("beta"),
            gamma_regularizer=regularizers.get("gamma"), trainable=trainable,
            fused=fused, adjustment=adjustment, name=sc.name, _scope=sc, _reuse=reuse)
        outputs = layer.apply(inputs, training=is_training)
        graph = graph_lib.get_default_graph()
        for variable in layer.variables:
            graph.add_to_collection(GraphKeys.MODEL_VARIABLES, variable)
            for key in variables_collections or ():
                graph.add_to_collection(key, variable)
        if updates_collections != GraphKeys.UPDATE_OPS:
            # The layer put its updates into UPDATE_OPS; contrib puts them elsewhere, or
            # (None) runs them with the output.
            update_ops = graph.get_collection_ref(GraphKeys.UPDATE_OPS)
            update_ops[:] = [op for op in update_ops
                             if not any(op is update for update in layer.updates)]
            if updates_collections is None:
                with graph.control_dependencies(layer.updates):
                    outputs = array_ops.identity(outputs)
            else:
                for update in layer.updates:
                    graph.add_to_collection(updates_collections, update)
        if activation_fn is not None:
            outputs = activation_fn(outputs)
        return collect_named_outputs(outputs_collections, sc.name, outputs)


def _collections_of(variables_collections, name):
    """contrib's per-variable collections: a dict maps a variable's name to its own."""
    if isinstance(variables_collections, dict):
        return variables_collections.get(name)
    return variables_collections


@add_arg_scope
def layer_norm(inputs, center=True, scale=True, activation_fn=None, reuse=None,
               variables_collections=None, outputs_collections=None, trainable=True,
               begin_norm_axis=1, begin_params_axis=-1, scope=None):
    """Layer normalization (Ba et al. 2016): each example normalized over the axes from
    `begin_norm_axis` on, then ``gamma * x + beta`` with parameters of the shape
    ``inputs.shape[begin_params_axis:]`` (``LayerNorm/gamma``, ``LayerNorm/beta``).

    The variance epsilon is contrib's: 1e-12, or 1e-3 for float16.

    Args:
      inputs: a tensor of known rank.
      center: add ``beta`` (zeros at first).
      scale: multiply by ``gamma`` (ones at first).
      activation_fn: applied to the output.
      reuse, scope: the variable scope (default ``LayerNorm``) and its reuse.
      variables_collections: extra collections, a list or a dict by variable name.
      outputs_collections: collections for the output.
      trainable: whether the variables are trainable.
      begin_norm_axis: the first axis normalized over (negative counts from the end).
      begin_params_axis: the first axis of the parameters' shape.

    Returns:
      A tensor of `inputs`' shape and dtype.

    Raises:
      ValueError: for an unknown rank, axes out of range, or an undefined parameter shape.
    """
    from sessionlib.ops import nn_normalization_ops

    with vs.variable_scope(scope, "LayerNorm", [inputs], reuse=reuse) as sc:
        inputs = graph_lib.convert_to_tensor(inputs)
        rank = inputs.shape.rank
        if rank is None:
            raise ValueError(f"Inputs {inputs.name} has undefined rank.")
        if begin_norm_axis < 0:
            begin_norm_axis += rank
        if begin_params_axis >= rank or begin_norm_axis >= rank or begin_norm_axis < 0:
            raise ValueError(f"begin_params_axis ({begin_params_axis}) and begin_norm_axis "
                             f"({begin_norm_axis}) must be < rank(inputs) ({rank})")
        params_shape = inputs.shape[begin_params_axis:]
        if not params_shape.is_fully_defined():
            raise ValueError(f"Inputs {inputs.name}: shape(inputs)[{begin_params_axis}:] is "
                             f"not fully defined: {inputs.shape}")
        dtype = inputs.dtype
        beta = gamma = None
        if center:
            beta = _model_variable("beta", params_shape.as_list(), dtype,
                                   init_ops.zeros_initializer(), None, trainable,
                                   _collections_of(variables_collections, "beta"))
        if scale:
            gamma = _model_variable("gamma", params_shape.as_list(), dtype,
                                    init_ops.ones_initializer(), None, trainable,
                                    _collections_of(variables_collections, "gamma"))
        mean, variance = nn_normalization_ops.moments(
            inputs, list(range(begin_norm_axis, rank)), keep_dims=True)
        # float16 cannot hold 1e-12: contrib raises the epsilon for it.
        epsilon = 1e-3 if dtype is dtypes.float16 else 1e-12
        outputs = nn_normalization_ops.batch_normalization(inputs, mean, variance, beta, gamma,
                                                           epsilon)
        outputs.set_shape(inputs.shape)
        if activation_fn is not None:
            outputs = activation_fn(outputs)
        return collect_named_outputs(outputs_collections, sc.name, outputs)


@add_arg_scope
def dropout(inputs, keep_prob=0.5, noise_shape=None, is_training=True,
            outputs_collections=None, scope=None, seed=None):
    """contrib's dropout: ``tf.layers.Dropout`` with the drop rate ``1 - keep_prob``, under
    the scope ``Dropout``.

    Args:
      inputs: a floating tensor.
      keep_prob: the probability to keep each element (a float or scalar tensor).
      noise_shape: the shape of the keep mask, broadcast against `inputs`.
      is_training: a Python bool or a bool tensor; outside training the inputs pass unchanged.
      outputs_collections: collections for the output.
      scope: the variable scope.
      seed: the op seed.

    Returns:
      A tensor of `inputs`' shape.
    """
    from sessionlib.layers import core

    with vs.variable_scope(scope, "Dropout", [inputs]) as sc:
        inputs = graph_lib.convert_to_tensor(inputs)
        layer = core.Dropout(rate=1 - keep_prob, noise_shape=noise_shape, seed=seed,
                             name=sc.name, _scope=sc)
        outputs = layer.apply(inputs, training=is_training)
        return collect_named_outputs(outputs_collections, sc.name, outputs)


def _pool2d(pool, default_scope, op_name, inputs, kernel_size, stride, padding, data_format,
            outputs_collections, scope):
    if data_format not in ("NCHW", "NHWC"):
        raise ValueError("data_format has to be either NCHW or NHWC.")
    window, step = _int_pair(kernel_size, "pool_size"), _int_pair(stride, "strides")
    graph = graph_lib.get_default_graph()
    with graph.name_scope(scope or default_scope) as sc:
        inputs = graph_lib.convert_to_tensor(inputs)
        outputs = pool(inputs, _spatial(window, data_format), _spatial(step, data_format),
                       padding.upper(), data_format=data_format, name=op_name)
        return collect_named_outputs(outputs_collections, sc, outputs)


@add_arg_scope
def max_pool2d(inputs, kernel_size, stride=2, padding="VALID", data_format="NHWC",
               outputs_collections=None, scope=None):
    """2-D max pooling under the name scope ``MaxPool2D`` (contrib's defaults: stride 2,
    VALID padding).

    Args:
      inputs: a 4-D tensor, NHWC or NCHW.
      kernel_size: an int or 2 ints, the window.
      stride: an int or 2 ints.
      padding: 'VALID' or 'SAME' (any case).
      data_format: 'NHWC' or 'NCHW'.
      outputs_collections: collections for the output.
      scope: the name scope.

    Returns:
      The pooled tensor.

    Raises:
      ValueError: for a bad data format or window.
    """
    return _pool2d(nn_convolution_ops.max_pool, "MaxPool2D", "MaxPool", inputs, kernel_size,
                   stride, padding, data_format, outputs_collections, scope)


@add_arg_scope
def avg_pool2d(inputs, kernel_size, stride=2, padding="VALID", data_format="NHWC",
               outputs_collections=None, scope=None):
    """2-D average pooling under the name scope ``AvgPool2D``; arguments as `max_pool2d`.

    Returns:
      The pooled tensor (padding not counted in a window's mean).

    Raises:
      ValueError: for a bad data format or window.
    """
    return _pool2d(nn_convolution_ops.avg_pool, "AvgPool2D", "AvgPool", inputs, kernel_size,
                   stride, padding, data_format, outputs_collections, scope)


@add_arg_scope
def one_hot_encoding(labels, num_classes, on_value=1.0, off_value=0.0,
                     outputs_collections=None, scope=None):
    """One-hot encodings of integer `labels` under the name scope ``OneHotEncoding``.

    Args:
      labels: an integer tensor (int32 labels are widened to int64 first, as contrib does).
      num_classes: the depth of the new last axis.
      on_value, off_value: the values at and away from the label.
      outputs_collections: collections for the output.
      scope: the name scope.

    Returns:
      A tensor of `on_value`'s dtype with a new last axis of `num_classes`.
    """
    graph = graph_lib.get_default_graph()
    with graph.name_scope(scope or "OneHotEncoding") as sc:
        labels = graph_lib.convert_to_tensor(labels)
        if labels.dtype is dtypes.int32:
            labels = math_ops.cast(labels, dtypes.int64)
        outputs = manipulation_ops.one_hot(labels, num_classes, on_value=on_value,
                                           off_value=off_value)
        return collect_named_outputs(outputs_collections, sc, outputs)


@add_arg_scope
def softmax(logits, scope=None):
    """The softmax over the last axis of logits of any rank >= 2, under the variable scope
    ``softmax`` (contrib's: it flattens to 2-D and back).

    Args:
      logits: a tensor of rank >= 2 with a known last dimension.
      scope: the variable scope.

    Returns:
      A tensor of `logits`' shape.

    Raises:
      ValueError: for a rank below 2 or an unknown last dimension.
    """
    with vs.variable_scope(scope, "softmax", [logits]):
        logits = graph_lib.convert_to_tensor(logits)
        classes = last_dimension(logits.shape, min_rank=2)
        flat = array_ops.reshape(logits, [-1, classes])
        predictions = array_ops.reshape(nn.softmax(flat), array_ops.shape(logits))
        predictions.set_shape(logits.shape)
        return predictions


@add_arg_scope
def bias_add(inputs, activation_fn=None, initializer=init_ops.zeros_initializer(),
             regularizer=None, reuse=None, variables_collections=None,
             outputs_collections=None, trainable=True, data_format="NHWC", scope=None):
    """Adds a learned bias per feature (``BiasAdd/biases``), then `activation_fn`.

    Args:
      inputs: a tensor of rank >= 2; the features are the last axis, or axis 1 for NCHW.
      activation_fn: applied last (default none).
      initializer, regularizer: the biases' initializer and regularizer.
      reuse, scope: the variable scope (default ``BiasAdd``) and its reuse.
      variables_collections, outputs_collections: extra collections.
      trainable: whether the biases are trainable.
      data_format: ``'NHWC'`` or ``'NCHW'``.

    Returns:
      A tensor of `inputs`' shape.

    Raises:
      ValueError: for a bad data format, a rank below 2 or an unknown feature dimension.
    """
    if data_format not in ("NHWC", "NCHW"):
        raise ValueError("data_format has to be either NCHW or NHWC.")
    with vs.variable_scope(scope, "BiasAdd", [inputs], reuse=reuse) as sc:
        inputs = graph_lib.convert_to_tensor(inputs)
        rank = inputs.shape.rank
        if rank is None or rank < 2:
            raise ValueError(f"Dims of shape must be known and at least 2: {inputs.shape}")
        axis = 1 if data_format == "NCHW" else -1
        features = inputs.shape.dims[axis]
        if features is None:
            raise ValueError(f"`C` dimension must be known but is None: {inputs.shape}")
        biases = _model_variable("biases", [int(features)], inputs.dtype, initializer,
                                 regularizer, trainable,
                                 _collections_of(variables_collections, "biases"))
        outputs = nn.bias_add(inputs, biases, data_format=data_format if rank > 2 else None)
        if activation_fn is not None:
            outputs = activation_fn(outputs)
        return collect_named_outputs(outputs_collections, sc.name, outputs)


# contrib's fixed-activation spellings of fully_connected (not arg-scoped themselves, as in
# contrib: a functools.partial has its own key).
linear = functools.partial(fully_connected, activation_fn=None)
relu = functools.partial(fully_connected, activation_fn=nn.relu)
relu6 = functools.partial(fully_connected, activation_fn=nn_activation_ops.relu6)


def _layer_scope_name(layer, fallback):
    """The scope prefix of `repeat` and `stack`: the layer function's name."""
    if hasattr(layer, "__name__"):
        return layer.__name__
    if hasattr(layer, "func"):  # a functools.partial
        return layer.func.__name__
    return fallback


def repeat(inputs, repetitions, layer, *args, **kwargs):
    """Applies `layer` `repetitions` times, each under the scope ``<scope>/<scope>_<i>``
    (``conv1/conv1_1``, ``conv1/conv1_2``, ...), as in slim's VGG.

    Args:
      inputs: the first layer's input.
      repetitions: how many layers.
      layer: a function ``layer(inputs, *args, scope=..., **kwargs)``.
      *args, **kwargs: passed to each call; ``scope`` names the outer scope (default
        ``Repeat``; the inner names default to the layer function's name).

    Returns:
      The last layer's output.
    """
    scope = kwargs.pop("scope", None)
    with vs.variable_scope(scope, "Repeat", [inputs]):
        outputs = graph_lib.convert_to_tensor(inputs)
        prefix = scope if scope is not None else _layer_scope_name(layer, "repeat")
        for i in range(repetitions):
            kwargs["scope"] = f"{prefix}_{i + 1}"
            outputs = layer(outputs, *args, **kwargs)
        return outputs


def stack(inputs, layer, stack_args, **kwargs):
    """Applies `layer` once per entry of `stack_args`, chaining the outputs, each under the
    scope ``<scope>/<scope>_<i>``: ``stack(x, fully_connected, [32, 64], scope='fc')``.

    Args:
      inputs: the first layer's input.
      layer: a function ``layer(inputs, *layer_args, scope=..., **kwargs)``.
      stack_args: a list or tuple; each entry is one call's positional arguments (a tuple or
        list of them, or one value).
      **kwargs: passed to each call; ``scope`` names the outer scope (default ``Stack``).

    Returns:
      The last layer's output.

    Raises:
      ValueError: if `stack_args` is not a list or tuple.
    """
    scope = kwargs.pop("scope", None)
    if not isinstance(stack_args, (list, tuple)):
        raise ValueError("stack_args need to be a list or tuple")
    with vs.variable_scope(scope, "Stack", [inputs]):
        outputs = graph_lib.convert_to_tensor(inputs)
        prefix = scope if scope is not None else _layer_scope_name(layer, "stack")
        for i, layer_args in enumerate(stack_args):
            kwargs["scope"] = f"{prefix}_{i + 1}"
            if not isinstance(layer_args, (list, tuple)):
                layer_args = [layer_args]
            outputs = layer(outputs, *layer_args, **kwargs)
        return outputs
