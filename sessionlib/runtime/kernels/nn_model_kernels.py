"""Kernels of the nn ops for models (``ops/nn_activation_ops.py``, ``nn_loss_ops.py``,
``nn_normalization_ops.py``, ``nn_lookup_ops.py``).

Design. The numpy functions here are the spec (the reference kernels). Where a model spends
time on big batches (the activations and their gradients, the two softmax cross-entropies) the
fast kernels are Cython loops (``sessionlib._core.nn_model``): one pass over memory, no
temporaries, threads for large arrays; float16 is computed in float32 there, as numpy does
here. The rest (batch norm, LRN, top-k) is a few vectorized numpy calls either way, so both
executors share one function. Float16 inputs are computed in float32 and rounded once.
Run-time errors are TF's `InvalidArgumentError`s.
"""

import numpy as np

from sessionlib import errors
from sessionlib.runtime.kernel_table import KIND_BINARY, KIND_UNARY, register_kernel

try:  # the compiled kernels; absent only in a checkout whose extensions are not built yet
    from sessionlib._core import nn_model as _fast
except ImportError:  # pragma: no cover - the build always has it
    _fast = None

SELU_SCALE = 1.0507009873554804934193349852946
SELU_ALPHA = 1.6732632423543772848170429916717


def _invalid(message):
    return errors.InvalidArgumentError(None, None, message)


def _compute_dtype(dtype):
    return np.dtype(np.float32) if dtype == np.float16 else dtype


def _float_unary(function):
    """A unary kernel computing `function` in float32 for float16 inputs."""

    def kernel(x):
        x = np.asarray(x)
        work = x.astype(_compute_dtype(x.dtype), copy=False)
        return np.asarray(function(work), dtype=x.dtype)

    kernel.__name__ = function.__name__
    return kernel


def _float_binary(function):
    def kernel(g, x):
        g, x = np.asarray(g), np.asarray(x)
        if g.shape != x.shape:
            raise _invalid(f"gradients and features must have the same shape: "
                           f"{list(g.shape)} vs {list(x.shape)}")
        dtype = _compute_dtype(g.dtype)
        return np.asarray(function(g.astype(dtype, copy=False), x.astype(dtype, copy=False)),
                          dtype=g.dtype)

    kernel.__name__ = function.__name__
    return kernel


# ---- activations and their gradients ----------------------------------------------------

def elu(x):
    return np.where(x < 0, np.expm1(np.minimum(x, 0)), x)


def elu_grad(g, y):
    return np.where(y < 0, g * (y + 1), g)


def selu(x):
    return np.where(x < 0, (SELU_SCALE * SELU_ALPHA) * np.expm1(np.minimum(x, 0)),
                    SELU_SCALE * x)


def selu_grad(g, y):
    return np.where(y < 0, g * (y + SELU_SCALE * SELU_ALPHA), g * SELU_SCALE)


def softplus(x):
    # log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)): no overflow for large |x|.
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def softplus_grad(g, x):
    # g * sigmoid(x), written so that exp never overflows.
    e = np.exp(-np.abs(x))
    return g * np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def softsign(x):
    return x / (1 + np.abs(x))


def softsign_grad(g, x):
    return g / np.square(1 + np.abs(x))


def relu6(x):
    return np.minimum(np.maximum(x, np.zeros((), x.dtype)), np.asarray(6, x.dtype))


def relu6_grad(g, x):
    return np.where((x > 0) & (x < 6), g, np.zeros((), g.dtype))


def leaky_relu(x, alpha):
    return np.where(x > 0, x, x * np.asarray(alpha, x.dtype))


def leaky_relu_grad(g, x, alpha):
    return np.where(x > 0, g, g * np.asarray(alpha, g.dtype))


def _relu6_kernel(x):
    x = np.asarray(x)
    if x.dtype.kind != "f":
        return relu6(x)
    return _float_unary(relu6)(x)


def _relu6_grad_kernel(g, x):
    g, x = np.asarray(g), np.asarray(x)
    if g.shape != x.shape:
        raise _invalid(f"gradients and features must have the same shape: {list(g.shape)} "
                       f"vs {list(x.shape)}")
    return np.asarray(relu6_grad(g, x), dtype=g.dtype)


def _leaky_kernel(function):
    def kernel(ctx, inputs, attrs):
        # TF's float attrs are float32: alpha = 0.2 is float32's 0.2 even for float64 data.
        alpha = float(np.float32(attrs["alpha"]))
        if len(inputs) == 1:
            return (_float_unary(lambda x: function(x, alpha))(inputs[0]),)
        return (_float_binary(lambda g, x: function(g, x, alpha))(*inputs),)

    return kernel


# ---- losses -----------------------------------------------------------------------------

def _check_matrix(features, what):
    if features.ndim != 2:
        raise _invalid(f"{what} must be 2-dimensional, got shape {list(features.shape)}")


def softmax_xent(features, labels):
    """(loss, backprop) of the softmax cross-entropy of each row; float16 in float32."""
    features, labels = np.asarray(features), np.asarray(labels)
    _check_matrix(features, "logits")
    _check_matrix(labels, "labels")
    try:
        shape = np.broadcast_shapes(features.shape, labels.shape)
    except ValueError:
        raise _invalid(f"logits and labels must be broadcastable: logits_size="
                       f"{list(features.shape)} labels_size={list(labels.shape)}") from None
    dtype = _compute_dtype(features.dtype)
    logits = np.broadcast_to(features.astype(dtype, copy=False), shape)
    labels_c = np.broadcast_to(labels.astype(dtype, copy=False), shape)
    if shape[1] == 0:
        return (np.zeros(shape[0], features.dtype), np.zeros(shape, features.dtype))
    shifted = logits - logits.max(axis=1, keepdims=True)
    exps = np.exp(shifted)
    sums = exps.sum(axis=1, keepdims=True)
    log_probs = shifted - np.log(sums)
    loss = -(labels_c * log_probs).sum(axis=1)
    backprop = exps / sums - labels_c
    return (loss.astype(features.dtype), backprop.astype(features.dtype))


def sparse_softmax_xent(features, labels):
    """(loss, backprop) against class indices; a label out of range is an error."""
    features, labels = np.asarray(features), np.asarray(labels)
    _check_matrix(features, "logits")
    if labels.ndim != 1 or labels.shape[0] != features.shape[0]:
        raise _invalid(f"logits and labels must have the same first dimension, got logits "
                       f"shape {list(features.shape)} and labels shape {list(labels.shape)}")
    classes = features.shape[1]
    bad = (labels < 0) | (labels >= classes)
    if bad.any():
        value = labels[np.argmax(bad)]
        raise _invalid(f"Received a label value of {value} which is outside the valid range "
                       f"of [0, {classes}).  Label values: "
                       + " ".join(str(v) for v in labels.tolist()))
    dtype = _compute_dtype(features.dtype)
    logits = features.astype(dtype, copy=False)
    if classes == 0:
        return (np.zeros(features.shape[0], features.dtype),
                np.zeros(features.shape, features.dtype))
    shifted = logits - logits.max(axis=1, keepdims=True)
    exps = np.exp(shifted)
    sums = exps.sum(axis=1)
    rows = np.arange(features.shape[0])
    loss = np.log(sums) - shifted[rows, labels]
    backprop = exps / sums[:, None]
    backprop[rows, labels] -= 1
    return (loss.astype(features.dtype), backprop.astype(features.dtype))


def _log_softmax_kernel(ctx, inputs, attrs):
    logits = np.asarray(inputs[0])
    if logits.ndim < 1:
        raise _invalid(f"logits must have >= 1 dimension, got {list(logits.shape)}")
    work = logits.astype(_compute_dtype(logits.dtype), copy=False)
    if work.shape[-1] == 0:
        return (np.empty(logits.shape, logits.dtype),)
    shifted = work - work.max(axis=-1, keepdims=True)
    result = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return (result.astype(logits.dtype),)


def _l2_loss_kernel(ctx, inputs, attrs):
    t = np.asarray(inputs[0])
    work = t.astype(_compute_dtype(t.dtype), copy=False).reshape(-1)
    return (np.asarray(np.dot(work, work) / 2, dtype=t.dtype),)


def _xent_kernel(function):
    def kernel(ctx, inputs, attrs):
        return function(*inputs)

    return kernel


# ---- FusedBatchNormV3 -------------------------------------------------------------------

def _to_nhwc(x, data_format):
    return np.transpose(x, (0, 2, 3, 1)) if data_format == "NCHW" else x


def _from_nhwc(x, data_format):
    return np.transpose(x, (0, 3, 1, 2)) if data_format == "NCHW" else x


def _check_vector(name, value, channels):
    if value.ndim != 1 or value.shape[0] != channels:
        raise _invalid(f"{name} must be a 1-D tensor of the channel count {channels}, got "
                       f"shape {list(value.shape)}")


def _fused_batch_norm_kernel(ctx, inputs, attrs):
    x, scale, offset, mean, variance = (np.asarray(v) for v in inputs)
    if x.ndim != 4:
        raise _invalid(f"input must be 4-dimensional {list(x.shape)}")
    data_format = attrs["data_format"]
    epsilon = attrs["epsilon"]
    factor = attrs["exponential_avg_factor"]
    u = scale.dtype
    x4 = _to_nhwc(x, data_format).astype(u if u.itemsize >= 4 else np.float32, copy=False)
    channels = x4.shape[-1]
    _check_vector("scale", scale, channels)
    _check_vector("offset", offset, channels)
    flat = x4.reshape(-1, channels)
    count = flat.shape[0]
    if attrs["is_training"]:
        batch_mean = flat.mean(axis=0) if count else np.full(channels, np.nan, flat.dtype)
        batch_var = np.square(flat - batch_mean).mean(axis=0) if count else batch_mean.copy()
        # The returned variance is the unbiased one, as TF's; y uses the biased one.
        corrected = batch_var * (count / (count - 1)) if count > 1 else batch_var
        running_mean, running_var = batch_mean, corrected
        if factor != 1.0:
            _check_vector("mean", mean, channels)
            _check_vector("variance", variance, channels)
            running_mean = (1 - factor) * mean + factor * batch_mean
            running_var = (1 - factor) * variance + factor * corrected
        use_mean, use_var = batch_mean, batch_var
        saved = (batch_mean, batch_var)
    else:
        _check_vector("mean", mean, channels)
        _check_vector("variance", variance, channels)
        use_mean, use_var = mean, variance
        running_mean, running_var = mean, variance
        saved = (mean, variance)
    inv = 1 / np.sqrt(use_var.astype(flat.dtype) + epsilon)
    y = (flat - use_mean) * (inv * scale) + offset
    y = _from_nhwc(y.reshape(x4.shape), data_format).astype(x.dtype)
    return (y, np.asarray(running_mean, u), np.asarray(running_var, u),
            np.asarray(saved[0], u), np.asarray(saved[1], u), np.zeros(0, u))


def _fused_batch_norm_grad_kernel(ctx, inputs, attrs):
    dy, x, scale, saved_mean, saved_var = (np.asarray(v) for v in inputs[:5])
    if x.ndim != 4 or dy.shape != x.shape:
        raise _invalid(f"x and y_backprop must be 4-dimensional with one shape, got "
                       f"{list(x.shape)} and {list(dy.shape)}")
    data_format = attrs["data_format"]
    u = scale.dtype
    work = u if u.itemsize >= 4 else np.float32
    x4 = _to_nhwc(x, data_format).astype(work, copy=False)
    channels = x4.shape[-1]
    for name, value in (("scale", scale), ("reserve_space_1", saved_mean),
                        ("reserve_space_2", saved_var)):
        _check_vector(name, value, channels)
    flat_x = x4.reshape(-1, channels)
    flat_dy = _to_nhwc(dy, data_format).astype(work, copy=False).reshape(-1, channels)
    inv = 1 / np.sqrt(saved_var.astype(work) + attrs["epsilon"])
    x_hat = (flat_x - saved_mean) * inv
    offset_backprop = flat_dy.sum(axis=0)
    scale_backprop = (flat_dy * x_hat).sum(axis=0)
    if attrs["is_training"]:
        count = max(flat_x.shape[0], 1)
        dx = (scale * inv) * (flat_dy - offset_backprop / count
                              - x_hat * (scale_backprop / count))
    else:
        dx = flat_dy * (scale * inv)
    dx = _from_nhwc(dx.reshape(x4.shape), data_format).astype(x.dtype)
    return (dx, scale_backprop.astype(u), offset_backprop.astype(u), np.zeros(0, u),
            np.zeros(0, u))


# ---- LRN --------------------------------------------------------------------------------

def _window_sum(values, radius):
    """Sum over channels ``[c - radius, c + radius]`` (clipped) along the last axis."""
    depth = values.shape[-1]
    padded = np.zeros(values.shape[:-1] + (depth + 1,), values.dtype)
    np.cumsum(values, axis=-1, out=padded[..., 1:])
    upper = np.minimum(np.arange(depth) + radius + 1, depth)
    lower = np.maximum(np.arange(depth) - radius, 0)
    return padded[..., upper] - padded[..., lower]


def _lrn_check(attrs, *arrays):
    for array in arrays:
        if array.ndim != 4:
            raise _invalid(f"input must be 4-dimensional, got shape {list(array.shape)}")
    if any(a.shape != arrays[0].shape for a in arrays):
        raise _invalid("LRNGrad inputs must have one shape: "
                       + ", ".join(str(list(a.shape)) for a in arrays))
    if attrs["depth_radius"] < 0:
        raise _invalid(f"depth_radius = {attrs['depth_radius']} must be non-negative")


def _lrn_kernel(ctx, inputs, attrs):
    x = np.asarray(inputs[0])
    _lrn_check(attrs, x)
    work = x.astype(_compute_dtype(x.dtype), copy=False)
    norm = attrs["bias"] + attrs["alpha"] * _window_sum(np.square(work), attrs["depth_radius"])
    return ((work * norm ** -attrs["beta"]).astype(x.dtype),)


def _lrn_grad_kernel(ctx, inputs, attrs):
    grads, x, _ = (np.asarray(v) for v in inputs)
    _lrn_check(attrs, grads, x, np.asarray(inputs[2]))
    dtype = _compute_dtype(x.dtype)
    g, xw = grads.astype(dtype, copy=False), x.astype(dtype, copy=False)
    radius, alpha, beta = attrs["depth_radius"], attrs["alpha"], attrs["beta"]
    norm = attrs["bias"] + alpha * _window_sum(np.square(xw), radius)
    # d out_j / d x_i = [i == j] N_j^-beta - 2 alpha beta x_i x_j N_j^(-beta-1), i in window(j);
    # the windows are symmetric, so the sum over j is a window sum too.
    inner = g * xw * norm ** (-beta - 1)
    result = g * norm ** -beta - (2 * alpha * beta) * xw * _window_sum(inner, radius)
    return (result.astype(x.dtype),)


# ---- TopKV2 and InTopKV2 ----------------------------------------------------------------

def _top_k_kernel(ctx, inputs, attrs):
    values, k = np.asarray(inputs[0]), inputs[1]
    if np.ndim(k) != 0:
        raise _invalid(f"k must be 0-D, got shape {list(np.shape(k))}")
    k = int(k)
    if values.ndim < 1:
        raise _invalid(f"input must be at least 1-D, got shape {list(values.shape)}")
    if k < 0:
        raise _invalid(f"Need k >= 0, got {k}")
    depth = values.shape[-1]
    if depth < k:
        raise _invalid(f"input must have at least k columns. Had {depth}, needed {k}")
    # Descending by value, equal values by ascending index: a stable ascending sort of the
    # reversed rows, read backwards.
    reversed_rows = values[..., ::-1]
    order = np.argsort(reversed_rows, axis=-1, kind="stable")
    top = (depth - 1 - order[..., ::-1][..., :k]).astype(np.int32)
    return (np.take_along_axis(values, top, axis=-1), top)


def _in_top_k_kernel(ctx, inputs, attrs):
    predictions, targets, k = (np.asarray(v) for v in inputs)
    if predictions.ndim != 2:
        raise _invalid(f"predictions must be 2-dimensional, got {list(predictions.shape)}")
    if targets.ndim != 1 or targets.shape[0] != predictions.shape[0]:
        raise _invalid(f"First dimension of predictions {predictions.shape[0]} must match "
                       f"length of targets {targets.shape[0] if targets.ndim else 0}")
    if k.ndim != 0:
        raise _invalid(f"k must be 0-D, got shape {list(k.shape)}")
    k = int(k)
    classes = predictions.shape[1]
    in_range = (targets >= 0) & (targets < classes)
    rows = np.arange(predictions.shape[0])
    target_values = predictions[rows, np.where(in_range, targets, 0)]
    finite = np.isfinite(target_values)
    # Ties with the target count as in: only strictly larger predictions push it out.
    above = (predictions > target_values[:, None]).sum(axis=1)
    return (in_range & finite & (above < k),)


# ---- the table --------------------------------------------------------------------------

_REFERENCE_UNARY = {"Elu": elu, "Selu": selu, "Softplus": softplus, "Softsign": softsign}
_REFERENCE_BINARY = {"EluGrad": elu_grad, "SeluGrad": selu_grad,
                     "SoftplusGrad": softplus_grad, "SoftsignGrad": softsign_grad}


def _fast_or(name, reference):
    """The Cython kernel `name` of ``_core.nn_model`` when it is built, else `reference`."""
    return getattr(_fast, name, reference) if _fast is not None else reference


# Softplus stays numpy on both sides: numpy's SIMD exp and log1p beat a scalar libm loop
# (measured: 29 ms against 46 ms for 1M float32 on this machine).
_NUMPY_FAST = {"Softplus"}
for _op_type, _function in _REFERENCE_UNARY.items():
    _ref_kernel = _float_unary(_function)
    _fast_kernel = _ref_kernel if _op_type in _NUMPY_FAST else _fast_or(_function.__name__,
                                                                        _ref_kernel)
    register_kernel(_op_type, reference=_ref_kernel, fast=_fast_kernel, kind=KIND_UNARY)
# The reference binary kernels by op type; the fast kernels hand them what they do not take.
REFERENCE_BINARY_KERNELS = {op_type: _float_binary(function)
                            for op_type, function in _REFERENCE_BINARY.items()}
for _op_type, _function in _REFERENCE_BINARY.items():
    _ref_kernel = REFERENCE_BINARY_KERNELS[_op_type]
    register_kernel(_op_type, reference=_ref_kernel,
                    fast=_fast_or(_function.__name__, _ref_kernel), kind=KIND_BINARY)

if _fast is not None:
    # What the Cython loops do not take (other dtypes, mismatched shapes, bad labels) goes to
    # the reference kernels, which raise TF's errors; the core cannot import them itself.
    _fast.set_fallbacks({
        "Relu6": _relu6_kernel, "Relu6Grad": _relu6_grad_kernel,
        "LeakyReluGrad": _leaky_kernel(leaky_relu_grad),
        "SoftmaxCrossEntropyWithLogits": _xent_kernel(softmax_xent),
        "SparseSoftmaxCrossEntropyWithLogits": _xent_kernel(sparse_softmax_xent),
        **REFERENCE_BINARY_KERNELS})

register_kernel("Relu6", reference=_relu6_kernel, fast=_fast_or("relu6", _relu6_kernel),
                kind=KIND_UNARY)
register_kernel("Relu6Grad", reference=_relu6_grad_kernel,
                fast=_fast_or("relu6_grad", _relu6_grad_kernel), kind=KIND_BINARY)
register_kernel("LeakyRelu", reference=_leaky_kernel(leaky_relu),
                fast=_fast_or("leaky_relu_kernel", _leaky_kernel(leaky_relu)))
register_kernel("LeakyReluGrad", reference=_leaky_kernel(leaky_relu_grad),
                fast=_fast_or("leaky_relu_grad_kernel", _leaky_kernel(leaky_relu_grad)))

register_kernel("SoftmaxCrossEntropyWithLogits", reference=_xent_kernel(softmax_xent),
                fast=_fast_or("softmax_xent_kernel", _xent_kernel(softmax_xent)))
register_kernel("SparseSoftmaxCrossEntropyWithLogits",
                reference=_xent_kernel(sparse_softmax_xent),
                fast=_fast_or("sparse_softmax_xent_kernel", _xent_kernel(sparse_softmax_xent)))
register_kernel("LogSoftmax", reference=_log_softmax_kernel)
register_kernel("L2Loss", reference=_l2_loss_kernel)
register_kernel("FusedBatchNormV3", reference=_fused_batch_norm_kernel)
# TF 1's FusedBatchNorm: V3 without reserve_space_3.
register_kernel("FusedBatchNorm",
                reference=lambda ctx, inputs, attrs: _fused_batch_norm_kernel(
                    ctx, inputs, attrs)[:5])
register_kernel("FusedBatchNormGradV3", reference=_fused_batch_norm_grad_kernel)
register_kernel("LRN", reference=_lrn_kernel)
register_kernel("LRNGrad", reference=_lrn_grad_kernel)
register_kernel("TopKV2", reference=_top_k_kernel)
register_kernel("InTopKV2", reference=_in_top_k_kernel)
