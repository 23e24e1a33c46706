"""Kernels of the fused contractions (``sessionlib/ops/nn_fused_ops.py``): ``_FusedMatMul`` and
``_FusedConv2D``, which the remapping rewrite (``runtime/optimizer/remapper.py``) makes.

Design. The reference kernel is the definition: the unfused ops' own reference kernels, in
order (``MatMul``/``Conv2D``, then ``BiasAdd``, then the activation), looked up in the kernel
table by name, so the reference executor gives exactly the unrewritten graph's results. The
fast kernel runs the same GEMM or convolution as the unfused fast kernel (numpy/BLAS for
MatMul, im2col + BLAS in ``_core/convolution.pyx`` for Conv2D), then adds the bias and applies
the activation in one multi-threaded pass over the fresh product, in place
(``_core/epilogue.pyx``): the product is read and written once more instead of three times,
and no intermediate array is allocated. That pass is bit-identical to BiasAdd + Relu, Relu6,
Elu or LeakyRelu, and within a few ulps for Tanh and Sigmoid (see epilogue.pyx). float16 and
anything the pass does not take run the unfused fast kernels in order.

Errors are the unfused kernels' (the contraction's, then BiasAdd's bias checks), as TF's fused
kernels report them.
"""

import numpy as np

from sessionlib import errors
from sessionlib._core import epilogue as _epilogue
from sessionlib.runtime import kernel_table
from sessionlib.runtime.kernel_table import KIND_BINARY, KIND_UNARY, register_kernel

__all__ = ["ACTIVATION_CODES"]

# Activation op type -> the epilogue's code (its index in epilogue.ACTIVATIONS).
ACTIVATION_CODES = {name: code for code, name in enumerate(_epilogue.ACTIVATIONS) if name}

_FAST_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_kernels = {}


def _kernel(name):
    """The kernel table's entry `name`, cached (looked up on first use: the families register
    in import order)."""
    found = _kernels.get(name)
    if found is None:
        found = _kernels[name] = kernel_table.lookup(name)
    return found


def _call(kernel_def, function, ctx, inputs, attrs):
    """Calls `function` (one of `kernel_def`'s kernels) in its calling convention; one output."""
    if kernel_def.kind == KIND_UNARY:
        return function(*inputs)
    if kernel_def.kind == KIND_BINARY:
        return function(*inputs)
    return function(ctx, inputs, attrs)[0]


# fused_ops (as the node holds them) -> (activation op type or None, epilogue code): parsed once.
_FUSIONS = {}


def _fusion(op_type, inputs, attrs):
    """(bias, activation op type or None, epilogue code) of a fused node; UnimplementedError
    when it is not one of the supported fusions (an imported graph can hold anything)."""
    key = attrs.get("fused_ops", ())
    found = _FUSIONS.get(key) if type(key) is tuple else None
    if found is None:
        fused_ops = tuple(op.decode() if isinstance(op, bytes) else op for op in key)
        if (not fused_ops or fused_ops[0] != "BiasAdd" or len(fused_ops) > 2
                or (len(fused_ops) == 2 and fused_ops[1] not in ACTIVATION_CODES)):
            raise errors.UnimplementedError(
                None, None, f"{op_type}: fusion {list(fused_ops)} is not implemented")
        activation = fused_ops[1] if len(fused_ops) == 2 else None
        found = (activation, ACTIVATION_CODES.get(activation, 0))
        if type(key) is tuple:
            _FUSIONS[key] = found
    if len(inputs) != 3:
        raise errors.UnimplementedError(
            None, None, f"{op_type}: a BiasAdd fusion takes one argument, got {len(inputs) - 2}")
    return (inputs[2],) + found


def _bias_attrs(attrs):
    return {"data_format": attrs.get("data_format", "NHWC"), "_name": attrs.get("_name")}


def _activation_attrs(attrs):
    return {"alpha": attrs.get("leakyrelu_alpha", 0.2), "_name": attrs.get("_name")}


def _reference_kernel(op_type, contraction):
    def kernel(ctx, inputs, attrs):
        bias, activation, _ = _fusion(op_type, inputs, attrs)
        product_def = _kernel(contraction)
        value = _call(product_def, product_def.reference, ctx, tuple(inputs[:2]), attrs)
        bias_def = _kernel("BiasAdd")
        value = _call(bias_def, bias_def.reference, ctx, (value, bias), _bias_attrs(attrs))
        if activation is not None:
            act_def = _kernel(activation)
            value = _call(act_def, act_def.reference, ctx, (value,), _activation_attrs(attrs))
        return (value,)

    kernel.__name__ = f"reference_{op_type.lstrip('_').lower()}"
    return kernel


def _check_bias(value, bias, nchw):
    """BiasAdd's checks (its messages), for the epilogue path."""
    if bias.ndim != 1 or value.ndim < (3 if nchw else 2):
        raise errors.InvalidArgumentError(
            None, None, f"Biases must be 1D and value at least {3 if nchw else 2}D: "
            f"{list(bias.shape)}, {list(value.shape)}")
    channels = value.shape[1] if nchw else value.shape[-1]
    if channels != bias.shape[0]:
        raise errors.InvalidArgumentError(
            None, None, f"Must provide as many biases as the channel dimension of the input "
            f"tensor: {list(bias.shape)} vs. {list(value.shape)}")


def _fast_kernel(op_type, contraction):
    def kernel(ctx, inputs, attrs):
        bias, activation, code = _fusion(op_type, inputs, attrs)
        product_def = _kernel(contraction)
        value = _call(product_def, product_def.fast, ctx, (inputs[0], inputs[1]), attrs)
        if type(value) is not np.ndarray:
            value = np.asarray(value)
        if type(bias) is not np.ndarray:
            bias = np.asarray(bias)
        if value.dtype in _FAST_DTYPES and bias.dtype == value.dtype:
            nchw = attrs.get("data_format") == "NCHW"
            _check_bias(value, bias, nchw)
            flags = value.flags
            if not (flags.c_contiguous and flags.writeable):
                value = np.array(value, order="C")
            # TF's float attrs are float32: the slope is float32's 0.2 even for float64 data,
            # as in the LeakyRelu kernels.
            alpha = float(np.float32(attrs.get("leakyrelu_alpha", 0.2))) if code else 0.2
            _epilogue.bias_activation(value, bias, code, alpha, not nchw)
            return (value,)
        bias_def = _kernel("BiasAdd")
        value = _call(bias_def, bias_def.fast, ctx, (value, bias), _bias_attrs(attrs))
        if activation is not None:
            act_def = _kernel(activation)
            value = _call(act_def, act_def.fast, ctx, (value,), _activation_attrs(attrs))
        return (value,)

    kernel.__name__ = f"fast_{op_type.lstrip('_').lower()}"
    return kernel


for _op_type, _contraction in (("_FusedMatMul", "MatMul"), ("_FusedConv2D", "Conv2D")):
    register_kernel(_op_type, reference=_reference_kernel(_op_type, _contraction),
                    fast=_fast_kernel(_op_type, _contraction))
