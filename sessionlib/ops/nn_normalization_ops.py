"""Normalization for models: ``tf.nn.moments``, ``batch_normalization``, ``fused_batch_norm``
and ``lrn`` (``local_response_normalization``).

``moments`` and ``batch_normalization`` are composites of math ops, written as TF writes them
(the variance uses a stopped-gradient mean, as TF's does). ``fused_batch_norm`` is TF's
``FusedBatchNormV3`` op, whose gradient is ``FusedBatchNormGradV3``, and ``lrn`` is the ``LRN``
op with ``LRNGrad``. The kernels are bound by name in ``runtime/kernels/nn_model_kernels.py``.
"""

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework import registry
from sessionlib.framework.tensor_shape import TensorShape
from sessionlib.ops import _infer, array_ops, gradients, math_ops, metrics_ops
from sessionlib.ops.nn import nn

__all__ = ["moments", "weighted_moments", "batch_normalization", "fused_batch_norm", "lrn",
           "local_response_normalization"]

_FLOATS = dtypes.FLOAT_DTYPES
# TF's smallest epsilon for the fused batch norm (cuDNN's bound, applied on every device).
_MIN_EPSILON = 1.001e-5


def moments(x, axes, shift=None, name=None, keep_dims=None, keepdims=None):
    """The mean and variance of `x` over `axes`.

    Args:
      x: a floating Tensor.
      axes: the dimensions (a list of ints) to reduce.
      shift: unused, as in TF.
      name: the name scope.
      keep_dims: keep the reduced dimensions with length 1 (TF 1's spelling).
      keepdims: the newer spelling of `keep_dims`.

    Returns:
      ``(mean, variance)``. A float16 `x` is reduced in float32 and the results cast back.
    """
    del shift
    if keep_dims is not None and keepdims is not None:
        raise ValueError("Cannot specify both 'keep_dims' and 'keepdims'")
    keep = bool(keep_dims if keepdims is None else keepdims)
    graph = math_ops._find_graph((x,))
    with graph.as_default(), graph.name_scope(name or "moments"):
        x = graph_lib.convert_to_tensor(x, name="x")
        y = math_ops.cast(x, dtypes.float32) if x.dtype is dtypes.float16 else x
        mean = math_ops.reduce_mean(y, axes, keepdims=True, name="mean")
        # The variance does not differentiate through the mean: its contribution cancels.
        variance = math_ops.reduce_mean(
            math_ops.squared_difference(y, gradients.stop_gradient(mean)), axes,
            keepdims=True, name="variance")
        if not keep:
            mean = array_ops.squeeze(mean, axes)
            variance = array_ops.squeeze(variance, axes)
        if x.dtype is dtypes.float16:
            return math_ops.cast(mean, dtypes.float16), math_ops.cast(variance, dtypes.float16)
        return mean, variance


def weighted_moments(x, axes, frequency_weights, name=None, keep_dims=None, keepdims=None):
    """The mean and variance of `x` over `axes`, each element counted `frequency_weights`
    times: ``mean = sum(w x) / sum(w)``, ``variance = sum(w (x - mean)^2) / sum(w)`` (0 where
    ``sum(w)`` is 0).

    Args:
      x: a floating Tensor.
      axes: the dimensions (a list of ints) to reduce.
      frequency_weights: weights that broadcast against `x`.
      name: the name scope (default 'weighted_moments').
      keep_dims: keep the reduced dimensions with length 1 (TF 1's spelling).
      keepdims: the newer spelling of `keep_dims`.

    Returns:
      ``(mean, variance)``. A float16 `x` is reduced in float32 and the results cast back.

    Raises:
      ValueError: if both `keep_dims` and `keepdims` are given.
    """
    if keep_dims is not None and keepdims is not None:
        raise ValueError("Cannot specify both 'keep_dims' and 'keepdims'")
    keep = bool(keep_dims if keepdims is None else keepdims)
    graph = math_ops._find_graph((x, frequency_weights))
    with graph.as_default(), graph.name_scope(name or "weighted_moments"):
        x = graph_lib.convert_to_tensor(x, name="x")
        weights = graph_lib.convert_to_tensor(frequency_weights, name="frequency_weights")
        wide = dtypes.float32 if x.dtype is dtypes.float16 else x.dtype
        y = math_ops.cast(x, wide)
        weights = math_ops.cast(weights, wide)
        weighted_sum = math_ops.reduce_sum(weights * y, axes, keepdims=True)
        # The weights broadcast to x's shape first, so that each element counts once.
        total_weight = math_ops.reduce_sum(weights + array_ops.zeros_like(y), axes,
                                           keepdims=True)
        # A zero total weight gives zeros, not NaNs, as TF 2's compat.v1 does.
        mean = metrics_ops.div_no_nan(weighted_sum, total_weight)
        weighted_squares = math_ops.reduce_sum(
            weights * math_ops.squared_difference(y, mean), axes, keepdims=True)
        variance = metrics_ops.div_no_nan(weighted_squares, total_weight)
        if not keep:
            mean = array_ops.squeeze(mean, axes)
            variance = array_ops.squeeze(variance, axes)
        if x.dtype is dtypes.float16:
            return math_ops.cast(mean, dtypes.float16), math_ops.cast(variance, dtypes.float16)
        return mean, variance


def batch_normalization(x, mean, variance, offset, scale, variance_epsilon, name=None):
    """``scale * (x - mean) / sqrt(variance + variance_epsilon) + offset``, with broadcasting.

    Args:
      x: a floating Tensor.
      mean, variance: Tensors that broadcast against `x`.
      offset: the beta Tensor, or None.
      scale: the gamma Tensor, or None.
      variance_epsilon: a small float added to the variance.
      name: the name scope.

    Returns:
      The normalized Tensor, of `x`'s shape.
    """
    graph = math_ops._find_graph((x, mean, variance, offset, scale))
    with graph.as_default(), graph.name_scope(name or "batchnorm") as scope:
        x = graph_lib.convert_to_tensor(x, name="x")
        mean = graph_lib.convert_to_tensor(mean, dtype=x.dtype, name="mean")
        variance = graph_lib.convert_to_tensor(variance, dtype=x.dtype, name="variance")
        inv = math_ops.rsqrt(math_ops.add(
            variance, graph_lib.convert_to_tensor(variance_epsilon, dtype=x.dtype)))
        if scale is not None:
            inv = math_ops.multiply(inv, graph_lib.convert_to_tensor(scale, dtype=x.dtype))
        shift = math_ops.multiply(mean, inv)
        if offset is not None:
            shift = math_ops.subtract(graph_lib.convert_to_tensor(offset, dtype=x.dtype), shift)
        else:
            shift = math_ops.negative(shift)
        return math_ops.add(math_ops.multiply(x, inv), shift, name=scope)


# ---- FusedBatchNormV3 -------------------------------------------------------------------

def _channels(shape, data_format):
    if shape.rank is None:
        return None
    return shape[-1] if data_format == "NHWC" else shape[1]


def _fused_bn_infer(inputs, attrs):
    x, scale, offset, mean, variance = inputs
    _infer.check_dtype("FusedBatchNormV3", x, _FLOATS, "x")
    _infer.same_dtype("FusedBatchNormV3", [scale, offset, mean, variance],
                      names=("scale", "offset", "mean", "variance"))
    _infer.check_dtype("FusedBatchNormV3", scale, (dtypes.float32, dtypes.float64), "scale")
    attrs["T"] = x.dtype
    attrs["U"] = scale.dtype
    attrs["epsilon"] = float(attrs.get("epsilon", 1e-4))
    attrs["exponential_avg_factor"] = float(attrs.get("exponential_avg_factor", 1.0))
    data_format = attrs.setdefault("data_format", "NHWC")
    if data_format not in ("NHWC", "NCHW"):
        raise ValueError(f"Invalid data format: {data_format}")
    attrs["is_training"] = bool(attrs.get("is_training", True))
    x.shape.with_rank(4)
    channels = _channels(x.shape, data_format)
    vector = TensorShape([channels])
    for name, tensor in (("scale", scale), ("offset", offset)):
        tensor.shape.with_rank(1)
        if not vector.is_compatible_with(tensor.shape):
            raise ValueError(f"{name} must have the channel dimension {channels}, got "
                             f"{tensor.shape}")
    if not attrs["is_training"]:
        for name, tensor in (("mean", mean), ("variance", variance)):
            tensor.shape.with_rank(1)
            if not vector.is_compatible_with(tensor.shape):
                raise ValueError(f"{name} must have the channel dimension {channels}, got "
                                 f"{tensor.shape}")
    u = scale.dtype
    return [(x.dtype, x.shape), (u, vector), (u, vector), (u, vector), (u, vector),
            (u, TensorShape([0]))]


def _fused_bn_grad(op, grad_y, *unused_output_grads):
    # Only y's gradient reaches the inputs, as in TF: the batch statistics are outputs for
    # the moving averages, not part of the loss.
    x, scale = op.inputs[0], op.inputs[1]
    is_training = op.get_attr("is_training")
    if is_training:
        saved_mean, saved_variance = op.outputs[3], op.outputs[4]
    else:
        saved_mean, saved_variance = op.inputs[3], op.inputs[4]
    attrs = {"epsilon": op.get_attr("epsilon"), "data_format": op.get_attr("data_format"),
             "is_training": is_training}
    grad_op = op.graph.create_op(
        "FusedBatchNormGradV3",
        [graph_lib.convert_to_tensor(grad_y), x, scale, saved_mean, saved_variance,
         op.outputs[5]], attrs, name="FusedBatchNormGradV3")
    return [grad_op.outputs[0], grad_op.outputs[1], grad_op.outputs[2], None, None]


registry.register_op("FusedBatchNormV3", infer=_fused_bn_infer, num_inputs=5,
                     gradient=_fused_bn_grad,
                     doc="Batch normalization of NHWC/NCHW images over N, H and W.")


# ---- FusedBatchNorm (V1: TF 1's op, still in frozen graphs of that era) -----------------------

def _fused_bn_v1_infer(inputs, attrs):
    # V1 is V3 with one dtype T for every input and no reserve_space_3 output.
    _infer.same_dtype("FusedBatchNorm", list(inputs), names=("x", "scale", "offset", "mean",
                                                              "variance"))
    outputs = _fused_bn_infer(inputs, attrs)
    del attrs["U"]
    return outputs[:5]


def _fused_bn_v1_grad(op, grad_y, *unused_output_grads):
    # V3's gradient op; V1 has no reserve_space_3, which that op does not read.
    x, scale = op.inputs[0], op.inputs[1]
    is_training = op.get_attr("is_training")
    saved = (op.outputs[3], op.outputs[4]) if is_training else (op.inputs[3], op.inputs[4])
    reserve = array_ops.zeros([0], dtype=scale.dtype)
    attrs = {"epsilon": op.get_attr("epsilon"), "data_format": op.get_attr("data_format"),
             "is_training": is_training}
    grad_op = op.graph.create_op(
        "FusedBatchNormGradV3",
        [graph_lib.convert_to_tensor(grad_y), x, scale, saved[0], saved[1], reserve], attrs,
        name="FusedBatchNormGradV3")
    return [grad_op.outputs[0], grad_op.outputs[1], grad_op.outputs[2], None, None]


registry.register_op("FusedBatchNorm", infer=_fused_bn_v1_infer, num_inputs=5,
                     kernel="FusedBatchNorm", gradient=_fused_bn_v1_grad,
                     doc="FusedBatchNormV3's TF 1 form: one dtype, five outputs.")


def _fused_bn_grad_infer(inputs, attrs):
    y_backprop, x, scale = inputs[:3]
    _infer.same_dtype("FusedBatchNormGradV3", [y_backprop, x], names=("y_backprop", "x"))
    _infer.check_dtype("FusedBatchNormGradV3", x, _FLOATS, "x")
    attrs["T"] = x.dtype
    attrs["U"] = scale.dtype
    attrs["epsilon"] = float(attrs.get("epsilon", 1e-4))
    attrs.setdefault("data_format", "NHWC")
    attrs["is_training"] = bool(attrs.get("is_training", True))
    shape = x.shape.with_rank(4).merge_with(y_backprop.shape)
    vector = TensorShape([_channels(shape, attrs["data_format"])])
    u = scale.dtype
    return [(x.dtype, shape), (u, vector), (u, vector), (u, TensorShape([0])),
            (u, TensorShape([0]))]


registry.register_op("FusedBatchNormGradV3", infer=_fused_bn_grad_infer, num_inputs=6,
                     gradient=registry.NOT_DIFFERENTIABLE,
                     doc="The gradient of FusedBatchNormV3: x, scale and offset backprops.")


def fused_batch_norm(x, scale, offset, mean=None, variance=None, epsilon=0.001,
                     data_format="NHWC", is_training=True, name=None,
                     exponential_avg_factor=1.0):
    """Batch normalization of 4-D images in one op (``FusedBatchNormV3``).

    Args:
      x: a 4-D float16/float32/float64 Tensor.
      scale, offset: 1-D Tensors of the channel count (gamma and beta).
      mean, variance: 1-D population statistics; required for inference, and in training
        the previous moving averages when `exponential_avg_factor` is not 1.
      epsilon: added to the variance; at least 1.001e-5, as TF enforces.
      data_format: 'NHWC' or 'NCHW'.
      is_training: normalize with the batch's statistics (True) or with `mean`/`variance`.
      name: the op name.
      exponential_avg_factor: in training, the returned statistics are
        ``(1 - f) * mean + f * batch_mean`` (and likewise the variance).

    Returns:
      ``(y, batch_mean, batch_variance)``: in training the batch's mean and its unbiased
      variance (or their moving averages); in inference `mean` and `variance`.

    Raises:
      ValueError: for a bad rank, data format, or missing statistics in inference.
    """
    graph = math_ops._find_graph((x, scale, offset, mean, variance))
    with graph.as_default(), graph.name_scope(name or "FusedBatchNormV3") as scope:
        x = graph_lib.convert_to_tensor(x, name="input")
        scale = graph_lib.convert_to_tensor(scale, name="scale")
        offset = graph_lib.convert_to_tensor(offset, dtype=scale.dtype, name="offset")
        if not is_training and (mean is None or variance is None):
            raise ValueError("Both 'mean' and 'variance' must be a 1D tensor when "
                             "is_training is False.")
        # In training without moving averages TF passes empty statistics.
        if mean is None:
            mean = graph_lib.convert_to_tensor([], dtype=scale.dtype)
        if variance is None:
            variance = graph_lib.convert_to_tensor([], dtype=scale.dtype)
        mean = graph_lib.convert_to_tensor(mean, dtype=scale.dtype, name="mean")
        variance = graph_lib.convert_to_tensor(variance, dtype=scale.dtype, name="variance")
        attrs = {"epsilon": max(float(epsilon), _MIN_EPSILON), "data_format": data_format,
                 "is_training": bool(is_training),
                 "exponential_avg_factor": float(exponential_avg_factor)}
        op = graph.create_op("FusedBatchNormV3", [x, scale, offset, mean, variance], attrs,
                             name=scope)
        return op.outputs[0], op.outputs[1], op.outputs[2]


# ---- LRN --------------------------------------------------------------------------------

def _lrn_attrs(attrs):
    attrs["depth_radius"] = int(attrs.get("depth_radius", 5))
    attrs["bias"] = float(attrs.get("bias", 1.0))
    attrs["alpha"] = float(attrs.get("alpha", 1.0))
    attrs["beta"] = float(attrs.get("beta", 0.5))


def _lrn_infer(inputs, attrs):
    _infer.check_dtype("LRN", inputs[0], _FLOATS, "input")
    attrs["T"] = inputs[0].dtype
    _lrn_attrs(attrs)
    return [(inputs[0].dtype, inputs[0].shape.with_rank(4))]


def _lrn_grad(op, grad):
    attrs = {name: op.get_attr(name) for name in ("depth_radius", "bias", "alpha", "beta")}
    return [op.graph.create_op("LRNGrad", [graph_lib.convert_to_tensor(grad), op.inputs[0],
                                           op.outputs[0]], attrs, name="LRNGrad").outputs[0]]


registry.register_op("LRN", infer=_lrn_infer, num_inputs=1, gradient=_lrn_grad,
                     doc="Local response normalization across the last dimension.")


def _lrn_grad_infer(inputs, attrs):
    dtype = _infer.same_dtype("LRNGrad", inputs,
                              names=("input_grads", "input_image", "output_image"))
    _infer.check_dtype("LRNGrad", inputs[0], _FLOATS, "input_grads")
    attrs["T"] = dtype
    _lrn_attrs(attrs)
    shape = inputs[0].shape.with_rank(4)
    for tensor in inputs[1:]:
        shape = shape.merge_with(tensor.shape)
    return [(dtype, shape)]


registry.register_op("LRNGrad", infer=_lrn_grad_infer, num_inputs=3,
                     gradient=registry.NOT_DIFFERENTIABLE, doc="The gradient of LRN.")


def lrn(input, depth_radius=5, bias=1, alpha=1, beta=0.5, name=None):  # noqa: A002
    """Local response normalization (op ``LRN``): each value divided by
    ``(bias + alpha * sum(window ** 2)) ** beta``, the window spanning `depth_radius`
    channels on each side, along the last dimension of a 4-D Tensor.

    Args:
      input: a 4-D floating Tensor.
      depth_radius: the half-width of the window.
      bias, alpha, beta: the normalization's constants.
      name: the op name.

    Returns:
      A Tensor of `input`'s shape and dtype.

    Raises:
      ValueError: if `input` is not 4-D.
    """
    attrs = {"depth_radius": int(depth_radius), "bias": float(bias), "alpha": float(alpha),
             "beta": float(beta)}
    return math_ops._make_op("LRN", (input,), ("input",), name, attrs).outputs[0]


local_response_normalization = lrn


for _name in __all__:
    setattr(nn, _name, globals()[_name])
