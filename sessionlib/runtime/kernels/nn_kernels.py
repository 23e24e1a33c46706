"""Kernels of the neural-network ops (``sessionlib/ops/nn.py``): Relu, Softmax and BiasAdd.

Design. ``Relu`` is bound straight to the shared elementwise functions (unary convention, no
wrapper); ``BiasAdd`` wraps their ``add`` after checking the channel dimension, so its fast and
reference kernels differ only in that function; ``Softmax`` is numpy on both sides. ``Sigmoid``
and ``Tanh`` are the math kernels. Errors are TF's run-time `InvalidArgumentError`s.
"""

import numpy as np

from sessionlib import errors
from sessionlib._core import elementwise as _fast
from sessionlib._core import nn_model as _nn_model
from sessionlib.runtime import reference_kernels as _ref
from sessionlib.runtime.kernel_table import KIND_BINARY, KIND_UNARY, register_kernel

register_kernel("Relu", fast=_fast.relu, reference=_ref.relu, kind=KIND_UNARY)


def _softmax_kernel(ctx, inputs, attrs):
    logits = inputs[0]
    if logits.ndim < 1:
        raise errors.InvalidArgumentError(None, None, "logits must have >= 1 dimension, got "
                                          f"{list(logits.shape)}")
    # Subtracting the row maximum keeps exp() from overflowing, as TF's kernel does.
    shifted = logits - np.max(logits, axis=-1, keepdims=True)
    exps = np.exp(shifted)
    return (np.asarray(exps / np.sum(exps, axis=-1, keepdims=True), dtype=logits.dtype),)


register_kernel("Softmax", reference=_softmax_kernel)


def _bias_add_kernel(add_fn):
    def kernel(ctx, inputs, attrs):
        value, bias = inputs
        nchw = attrs["data_format"] == "NCHW"
        if bias.ndim != 1 or value.ndim < (3 if nchw else 2):
            raise errors.InvalidArgumentError(
                None, None, f"Biases must be 1D and value at least "
                f"{3 if nchw else 2}D: {list(bias.shape)}, {list(value.shape)}")
        channels = value.shape[1] if nchw else value.shape[-1]
        if channels != bias.shape[0]:
            raise errors.InvalidArgumentError(
                None, None, f"Must provide as many biases as the channel dimension of the "
                f"input tensor: {list(bias.shape)} vs. {list(value.shape)}")
        if nchw:
            bias = bias.reshape((channels,) + (1,) * (value.ndim - 2))
        return (add_fn(value, bias),)

    return kernel


register_kernel("BiasAdd", fast=_bias_add_kernel(_fast.add),
                reference=_bias_add_kernel(_ref.add))


# ---- gradient kernels -----------------------------------------------------------------------

def _relu_grad_kernel(gradients, features):
    if gradients.shape != features.shape:
        raise errors.InvalidArgumentError(
            None, None, f"ReluGrad: gradients and features must have the same shape: "
            f"{list(gradients.shape)} vs. {list(features.shape)}")
    return np.where(features > 0, gradients, np.zeros((), gradients.dtype))


def _bias_add_grad_kernel(ctx, inputs, attrs):
    backprop = inputs[0]
    nchw = attrs["data_format"] == "NCHW"
    if backprop.ndim < (3 if nchw else 2):
        raise errors.InvalidArgumentError(
            None, None, f"Input tensor must be at least {3 if nchw else 2}D: "
            f"{list(backprop.shape)}")
    channel = 1 if nchw else backprop.ndim - 1
    axes = tuple(i for i in range(backprop.ndim) if i != channel)
    with np.errstate(over="ignore"):
        return (np.asarray(np.sum(backprop, axis=axes, dtype=backprop.dtype),
                           dtype=backprop.dtype),)


# The Cython loops take float16/32/64 of equal shapes (ReluGrad) and C-contiguous float32/64
# NHWC backprops (BiasAddGrad); the rest (and the errors) come back here.
_nn_model.set_fallbacks({"ReluGrad": _relu_grad_kernel,
                         "BiasAddGrad": _bias_add_grad_kernel})
register_kernel("ReluGrad", reference=_relu_grad_kernel, fast=_nn_model.relu_grad,
                kind=KIND_BINARY)
register_kernel("BiasAddGrad", reference=_bias_add_grad_kernel,
                fast=_nn_model.bias_add_grad_kernel)
