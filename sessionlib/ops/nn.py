"""Neural-network ops: ``tf.nn.relu``, ``softmax``, ``sigmoid``, ``tanh``, ``bias_add``.

``import sessionlib as tf`` exposes them as ``tf.nn.<name>``: this module's `nn` object is that
namespace. ``Sigmoid`` and ``Tanh`` are the math ops. Each registration names its kernel (the
op type), which the kernel table binds (``nn_kernels.py``); this module imports no kernel.
"""

import types

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework import registry
from sessionlib.framework.tensor_shape import TensorShape
from sessionlib.ops import _infer, math_ops

__all__ = ["nn", "relu", "softmax", "sigmoid", "tanh", "bias_add"]

_FLOATS = dtypes.FLOAT_DTYPES


def _relu_infer(inputs, attrs):
    _infer.check_dtype("Relu", inputs[0], dtypes.NUMERIC_DTYPES, "features")
    attrs["T"] = inputs[0].dtype
    return [(inputs[0].dtype, inputs[0].shape)]


def _relu_grad(op, grad):
    return [_relu_grad_op(grad, op.outputs[0])]


def _relu_grad_op(gradients, features):
    return gradients.graph.create_op("ReluGrad", [gradients, features]).outputs[0]


registry.register_op("Relu", infer=_relu_infer, kernel="Relu", num_inputs=1,
                     doc="max(features, 0).", fusion="relu", gradient=_relu_grad)


def _relu_grad_infer(inputs, attrs):
    dtype = _infer.same_dtype("ReluGrad", inputs, names=("gradients", "features"))
    _infer.check_dtype("ReluGrad", inputs[0], dtypes.NUMERIC_DTYPES, "gradients")
    if not inputs[0].shape.is_compatible_with(inputs[1].shape):
        raise ValueError(f"Shapes {inputs[0].shape} and {inputs[1].shape} are incompatible "
                         "for 'ReluGrad'")
    attrs["T"] = dtype
    return [(dtype, inputs[0].shape.merge_with(inputs[1].shape))]


def _relu_grad_grad(op, grad):
    # ReluGrad is linear in `gradients` with the same mask; `features` only pick the mask.
    from sessionlib.ops import array_ops

    return [_relu_grad_op(grad, op.inputs[1]), array_ops.zeros_like(op.inputs[1])]


# TF's ReluGrad: the gradients where features > 0 (Relu's output or input), else 0.
registry.register_op("ReluGrad", infer=_relu_grad_infer, kernel="ReluGrad", num_inputs=2,
                     doc="The gradient of Relu.", gradient=_relu_grad_grad)


def relu(features, name=None):
    """max(features, 0) elementwise (op ``Relu``).

    Args:
      features: a numeric Tensor.
      name: the op name.

    Returns:
      A Tensor of `features`' dtype and shape.
    """
    return math_ops._make_op("Relu", (features,), ("features",), name).outputs[0]


def _softmax_infer(inputs, attrs):
    logits = inputs[0]
    _infer.check_dtype("Softmax", logits, _FLOATS, "logits")
    logits.shape.with_rank_at_least(1)
    attrs["T"] = logits.dtype
    return [(logits.dtype, logits.shape)]


def _softmax_grad(op, grad):
    # (grad - sum(grad * y, -1)) * y, from the output y, as TF.
    y = op.outputs[0]
    dot = math_ops.reduce_sum(math_ops.multiply(grad, y), -1, keepdims=True)
    return [math_ops.multiply(math_ops.subtract(grad, dot), y)]


registry.register_op("Softmax", infer=_softmax_infer, kernel="Softmax", num_inputs=1,
                     doc="exp(x) / sum(exp(x)) along the last axis.", gradient=_softmax_grad)


def along_axis(op_type, logits, axis, name, dim):
    """Builds `op_type` (an op over the last axis: ``Softmax``, ``LogSoftmax``) along `axis`.

    Another axis is swapped with the last one before the op and back after it, as TF does.

    Raises:
      ValueError: for an axis other than the last when the rank is unknown, or out of range.
    """
    from sessionlib.ops import array_ops

    if axis is None:
        axis = -1 if dim is None else dim
    graph = math_ops._find_graph((logits,))
    with graph.as_default():
        tensor = graph_lib.convert_to_tensor(logits, name="logits")
    rank = tensor.shape.rank
    if axis == -1 or (rank is not None and axis == rank - 1):
        return graph.create_op(op_type, [tensor], name=name or op_type).outputs[0]
    if rank is None:
        raise ValueError(f"{op_type} over an axis other than the last needs a known rank")
    axis = _infer.normalize_axis(axis, rank, op_type)
    perm = list(range(rank))
    perm[axis], perm[-1] = perm[-1], perm[axis]
    with graph.as_default(), graph.name_scope(name or op_type) as scope:
        result = graph.create_op(op_type, [array_ops.transpose(tensor, perm)]).outputs[0]
        return array_ops.transpose(result, perm, name=scope)


def softmax(logits, axis=None, name=None, dim=None):
    """The softmax of `logits` along `axis` (op ``Softmax``, on the last axis).

    Args:
      logits: a floating Tensor of rank >= 1.
      axis: the axis to normalize (default -1); other axes are moved last and back.
      name: the op name.
      dim: TF 1's spelling of `axis`.

    Returns:
      A Tensor of `logits`' dtype and shape.

    Raises:
      ValueError: for an axis other than the last when the rank is unknown.
    """
    return along_axis("Softmax", logits, axis, name, dim)


def _bias_add_infer(inputs, attrs):
    value, bias = inputs
    dtype = _infer.same_dtype("BiasAdd", inputs, names=("value", "bias"))
    _infer.check_dtype("BiasAdd", value, dtypes.NUMERIC_DTYPES, "value")
    attrs["T"] = dtype
    data_format = attrs.setdefault("data_format", "NHWC")
    if data_format not in ("NHWC", "NCHW"):
        raise ValueError(f"Unknown data_format {data_format!r}")
    bias.shape.with_rank(1)
    value.shape.with_rank_at_least(2 if data_format == "NHWC" else 3)
    if value.shape.rank is not None:
        channel = -1 if data_format == "NHWC" else 1
        channels, bias_len = value.shape[channel], bias.shape[0]
        if channels is not None and bias_len is not None and channels != bias_len:
            raise ValueError(f"Dimensions must be equal, but are {channels} and {bias_len} "
                             f"for 'BiasAdd' with input shapes: {value.shape}, {bias.shape}.")
    return [(dtype, value.shape)]


def _bias_add_grad(op, grad):
    data_format = op.get_attr("data_format")
    bias_grad = grad.graph.create_op("BiasAddGrad", [grad], {"data_format": data_format}
                                     ).outputs[0]
    return [grad, bias_grad]


registry.register_op("BiasAdd", infer=_bias_add_infer, kernel="BiasAdd", num_inputs=2,
                     doc="Adds a 1-D bias along the channel dimension.", gradient=_bias_add_grad)


def _bias_add_grad_infer(inputs, attrs):
    value = inputs[0]
    _infer.check_dtype("BiasAddGrad", value, dtypes.NUMERIC_DTYPES, "out_backprop")
    attrs["T"] = value.dtype
    data_format = attrs.setdefault("data_format", "NHWC")
    if data_format not in ("NHWC", "NCHW"):
        raise ValueError(f"Unknown data_format {data_format!r}")
    value.shape.with_rank_at_least(2 if data_format == "NHWC" else 3)
    if value.shape.rank is None:
        return [(value.dtype, TensorShape([None]))]
    return [(value.dtype, TensorShape([value.shape[-1 if data_format == "NHWC" else 1]]))]


def _bias_add_grad_grad(op, grad):
    # BiasAddGrad sums over all but the channel dimension: its gradient spreads `grad` back.
    from sessionlib.ops import array_ops

    backprop = op.inputs[0]
    if op.get_attr("data_format") == "NCHW":
        rank = backprop.shape.rank
        if rank is None:
            raise ValueError("The gradient of BiasAddGrad (NCHW) needs a known rank")
        grad = array_ops.reshape(grad, [-1] + [1] * (rank - 2))
    return [math_ops.multiply(grad, array_ops.ones_like(backprop, optimize=False))]


registry.register_op("BiasAddGrad", infer=_bias_add_grad_infer, kernel="BiasAddGrad",
                     num_inputs=1, doc="The gradient of BiasAdd for the bias: a sum over all "
                     "but the channel dimension.", gradient=_bias_add_grad_grad)


def bias_add(value, bias, data_format=None, name=None):
    """`value` plus the 1-D `bias` along the channel dimension (op ``BiasAdd``).

    Args:
      value: a numeric Tensor of rank >= 2.
      bias: a 1-D Tensor whose length is the channel dimension of `value`.
      data_format: 'NHWC' (channels last, default) or 'NCHW' (channels at dimension 1).
      name: the op name.

    Returns:
      A Tensor of `value`'s shape and dtype.

    Raises:
      ValueError: if the bias length and the channel dimension differ statically.
      TypeError: if the dtypes differ.
    """
    attrs = {"data_format": data_format or "NHWC"}
    return math_ops._make_op("BiasAdd", (value, bias), ("value", "bias"), name,
                             attrs).outputs[0]


def sigmoid(x, name=None):
    """1 / (1 + exp(-x)) (op ``Sigmoid``); the same as ``tf.sigmoid``."""
    return math_ops.sigmoid(x, name=name)


def tanh(x, name=None):
    """The hyperbolic tangent (op ``Tanh``); the same as ``tf.tanh``."""
    return math_ops.tanh(x, name=name)


# The ``tf.nn`` namespace, as a module object so that it reads like TF's in reprs and help().
nn = types.ModuleType("sessionlib.nn", "Neural-network ops (``tf.nn``).")
for _name in ("relu", "softmax", "sigmoid", "tanh", "bias_add"):
    setattr(nn, _name, globals()[_name])
