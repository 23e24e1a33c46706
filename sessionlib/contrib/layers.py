"""``tf.contrib.layers``: contrib's spellings of dense and convolutional layers, batch
normalization, initializers and regularizers, over sessionlib's own implementation.

What differs from ``tf.layers`` is only what contrib defined: the variable names (``weights``
and ``biases`` under the scope ``fully_connected`` or ``Conv``; ``BatchNorm/...``), the default
activation (ReLU), the ``normalizer_fn`` hook, the variables also going to
``MODEL_VARIABLES``, and contrib's initializer formulas (its truncated normal uses a standard
deviation of ``sqrt(1.3 * factor / n)``).
"""

import math
import numbers

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework.graph import GraphKeys
from sessionlib.ops import array_ops, init_ops, math_ops, nn, random_ops
from sessionlib.ops.nn_convolution_ops import conv2d as _conv2d_op
from sessionlib.ops.nn_loss_ops import l2_loss
from sessionlib.ops import variable_scope as vs

__all__ = ["flatten", "fully_connected", "conv2d", "xavier_initializer",
           "variance_scaling_initializer", "l1_regularizer", "l2_regularizer", "batch_norm"]


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


# ---- layers ----------------------------------------------------------------------------------------

def _collect(outputs, collections):
    for key in collections or ():
        graph_lib.get_default_graph().add_to_collection(key, outputs)
    return outputs


def _model_variable(name, shape, dtype, initializer, regularizer, trainable, collections):
    """A variable in GLOBAL_VARIABLES and MODEL_VARIABLES (contrib's ``model_variable``)."""
    keys = [GraphKeys.GLOBAL_VARIABLES, GraphKeys.MODEL_VARIABLES] + list(collections or ())
    return vs.get_variable(name, shape=shape, dtype=dtype, initializer=initializer,
                           regularizer=regularizer, trainable=trainable,
                           collections=list(dict.fromkeys(keys)))


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


def fully_connected(inputs, num_outputs, activation_fn=nn.relu, normalizer_fn=None,
                    normalizer_params=None, weights_initializer=None,
                    weights_regularizer=None, biases_initializer=None,
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
      biases_initializer: default zeros; None for no biases.
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
    with vs.variable_scope(scope, "fully_connected", [inputs], reuse=reuse):
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
                          biases_initializer or init_ops.zeros_initializer(),
                          biases_regularizer, activation_fn, trainable, variables_collections,
                          nn.bias_add)
        return _collect(outputs, outputs_collections)


def conv2d(inputs, num_outputs, kernel_size, stride=1, padding="SAME", data_format=None,
           rate=1, activation_fn=nn.relu, normalizer_fn=None, normalizer_params=None,
           weights_initializer=None, weights_regularizer=None, biases_initializer=None,
           biases_regularizer=None, reuse=None, variables_collections=None,
           outputs_collections=None, trainable=True, scope=None):
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

    def pair(value):
        return [int(value)] * 2 if isinstance(value, numbers.Integral) else [int(v) for v in
                                                                             value]

    kh, kw = pair(kernel_size)
    sh, sw = pair(stride)
    rh, rw = pair(rate)
    with vs.variable_scope(scope, "Conv", [inputs], reuse=reuse):
        inputs = graph_lib.convert_to_tensor(inputs)
        channel_axis = 3 if data_format == "NHWC" else 1
        depth = inputs.shape.dims[channel_axis] if inputs.shape.rank == 4 else None
        if depth is None:
            raise ValueError("The channel dimension of the inputs should be defined. "
                             "Found `None`.")
        dtype = inputs.dtype
        weights = _model_variable("weights", [kh, kw, int(depth), num_outputs], dtype,
                                  weights_initializer or xavier_initializer(),
                                  weights_regularizer, trainable, variables_collections)
        strides = [1, sh, sw, 1] if data_format == "NHWC" else [1, 1, sh, sw]
        dilations = [1, rh, rw, 1] if data_format == "NHWC" else [1, 1, rh, rw]
        outputs = _conv2d_op(inputs, weights, strides=strides, padding=padding.upper(),
                            data_format=data_format, dilations=dilations)
        outputs = _finish(outputs, [num_outputs], dtype, normalizer_fn, normalizer_params,
                          biases_initializer or init_ops.zeros_initializer(),
                          biases_regularizer, activation_fn, trainable, variables_collections,
                          lambda value, bias: nn.bias_add(value, bias,
                                                          data_format=data_format))
        return _collect(outputs, outputs_collections)


def flatten(inputs, outputs_collections=None, scope=None):
    """``[batch, ...]`` to ``[batch, k]``, under the name scope ``Flatten``."""
    graph = graph_lib.get_default_graph()
    with graph.name_scope(scope or "Flatten"):
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
        return _collect(outputs, outputs_collections)


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
        return _collect(outputs, outputs_collections)
