"""Fused contractions: ``_FusedMatMul`` and ``_FusedConv2D`` (TF's internal op names and attrs).

Nobody writes these ops: the graph optimizer's remapping pass (``runtime/optimizer/
remapper.py``) makes them when a step is compiled, from ``MatMul``/``Conv2D`` followed by
``BiasAdd`` and optionally an activation, as TF's grappler remapper does. They are registered
here so that the compiled plans can name them, and so that a GraphDef holding them (TF writes
them into optimized graphs) imports and runs.

Semantics: ``fused_ops`` lists the ops applied to the product, in order: ``["BiasAdd"]`` or
``["BiasAdd", activation]`` with the activation one of `ACTIVATIONS`; ``args`` holds the bias
(``num_args`` = 1). ``epsilon`` and ``num_host_args`` exist for TF's other fusions (batch
norm), which are not supported here; ``leakyrelu_alpha`` is LeakyRelu's slope.

Gradients: none (`NOT_DIFFERENTIABLE`). The rewrite runs at compile time, after `gradients`
built the backward pass on the separate ops, so a fused op never meets the gradient machinery;
an imported graph that holds one is an inference graph.

The kernels (``runtime/kernels/nn_fused_kernels.py``) run the GEMM or convolution, then one
pass of bias add and activation over its output.
"""

from sessionlib import dtypes
from sessionlib.framework import registry
from sessionlib.framework.tensor_shape import TensorShape
from sessionlib.ops import _infer, math_ops, nn_convolution_ops

__all__ = ["ACTIVATIONS", "FUSED_MATMUL", "FUSED_CONV2D"]

FUSED_MATMUL = "_FusedMatMul"
FUSED_CONV2D = "_FusedConv2D"

# The activations a fused contraction may end with (TF's remapper names them so).
ACTIVATIONS = ("Relu", "Relu6", "Elu", "LeakyRelu", "Tanh", "Sigmoid")

_FLOATS = (dtypes.float16, dtypes.float32, dtypes.float64)


def _check_fusion(op_type, inputs, attrs, dtype, channels):
    """Checks ``fused_ops`` and the bias argument; fills the fusion attrs' defaults."""
    fused_ops = [op.decode() if isinstance(op, bytes) else op
                 for op in attrs.setdefault("fused_ops", ())]
    attrs["fused_ops"] = tuple(fused_ops)
    attrs.setdefault("epsilon", 0.0001)
    attrs.setdefault("leakyrelu_alpha", 0.2)
    args = inputs[2:]
    attrs["num_args"] = len(args)
    unsupported = (not fused_ops or fused_ops[0] != "BiasAdd" or len(fused_ops) > 2
                 or (len(fused_ops) == 2 and fused_ops[1] not in ACTIVATIONS))
    if unsupported:
        raise ValueError(f"{op_type}: unsupported fusion {fused_ops}; supported are "
                         f"['BiasAdd'] and ['BiasAdd', activation] with the activation one of "
                         f"{', '.join(ACTIVATIONS)}")
    if len(args) != 1:
        raise ValueError(f"{op_type}: a BiasAdd fusion takes exactly one argument (the bias), "
                         f"got {len(args)}")
    bias = args[0]
    if bias.dtype is not dtype:
        raise TypeError(f"Input 'args' of '{op_type}' Op has type {bias.dtype.name} that does "
                        f"not match type {dtype.name} of argument 'a'.")
    bias_shape = bias.shape.with_rank(1)
    if channels is not None and bias_shape[0] is not None and channels != bias_shape[0]:
        raise ValueError(f"Dimensions must be equal, but are {channels} and {bias_shape[0]} "
                         f"for '{op_type}' (the bias of the output's channels).")


def _fused_matmul_infer(inputs, attrs):
    a, b = inputs[:2]
    dtype = _infer.same_dtype(FUSED_MATMUL, inputs[:2], names=("a", "b"))
    _infer.check_dtype(FUSED_MATMUL, a, _FLOATS, "a")
    [(_, shape)] = math_ops._matmul_infer(inputs[:2], attrs)
    _check_fusion(FUSED_MATMUL, inputs, attrs, dtype, shape[1] if shape.rank else None)
    return [(dtype, shape)]


def _fused_conv2d_infer(inputs, attrs):
    dtype = _infer.same_dtype(FUSED_CONV2D, inputs[:2], names=("input", "filter"))
    attrs.setdefault("num_host_args", 0)
    attrs.setdefault("filter_format", "HWIO")
    if attrs["num_host_args"] or attrs["filter_format"] != "HWIO":
        raise ValueError(f"{FUSED_CONV2D}: only num_host_args=0 and filter_format='HWIO' are "
                         "supported")
    [(_, shape)] = nn_convolution_ops._conv2d_infer(inputs[:2], attrs)
    channel_axis = 1 if attrs.get("data_format", "NHWC") == "NCHW" else 3
    channels = shape[channel_axis] if shape.rank is not None else None
    _check_fusion(FUSED_CONV2D, inputs, attrs, dtype, channels)
    attrs["TArgs"] = tuple(t.dtype for t in inputs[2:])
    return [(dtype, TensorShape(shape))]


registry.register_op(FUSED_MATMUL, infer=_fused_matmul_infer, kernel=FUSED_MATMUL,
                     gradient=registry.NOT_DIFFERENTIABLE,
                     doc="MatMul, then BiasAdd and an optional activation in one pass "
                     "(made by the remapping rewrite).")
registry.register_op(FUSED_CONV2D, infer=_fused_conv2d_infer, kernel=FUSED_CONV2D,
                     gradient=registry.NOT_DIFFERENTIABLE,
                     doc="Conv2D, then BiasAdd and an optional activation in one pass "
                     "(made by the remapping rewrite).")
