"""Activations for models: ``tf.nn.leaky_relu``, ``elu``, ``selu``, ``softplus``, ``softsign``,
``relu6``, ``l2_normalize``, ``swish`` (``silu``) and ``crelu``.

Each activation is one TF op (``LeakyRelu``, ``Elu``, ...) whose gradient is TF's gradient op
(``LeakyReluGrad``, ``EluGrad``, ...), and each gradient op has a gradient too, so that second
derivatives (``tf.hessians``, gradient penalties) work: TF's formulas, where TF has them.
``l2_normalize``, ``swish`` and ``crelu`` are composites of other ops, so their gradients
are those ops' own. The kernels are bound by name in
``runtime/kernels/nn_model_kernels.py``; this module imports none.
"""

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework import registry
from sessionlib.ops import _infer, array_ops, math_ops
from sessionlib.ops.nn import nn

__all__ = ["leaky_relu", "elu", "selu", "softplus", "softsign", "relu6", "l2_normalize",
           "swish", "silu", "crelu"]

_FLOATS = dtypes.FLOAT_DTYPES

# SELU's constants (Klambauer et al. 2017), the ones TF's kernel uses.
SELU_SCALE = 1.0507009873554804934193349852946
SELU_ALPHA = 1.6732632423543772848170429916717


def _unary_infer(op_type, allowed, arg="features"):
    def infer(inputs, attrs):
        _infer.check_dtype(op_type, inputs[0], allowed, arg)
        attrs["T"] = inputs[0].dtype
        return [(inputs[0].dtype, inputs[0].shape)]

    return infer


def _grad_infer(op_type, allowed, second="features"):
    """Inference of a ``<Op>Grad(gradients, <second>)`` op: two same-shaped inputs."""

    def infer(inputs, attrs):
        dtype = _infer.same_dtype(op_type, inputs, names=("gradients", second))
        _infer.check_dtype(op_type, inputs[0], allowed, "gradients")
        attrs["T"] = dtype
        shape = inputs[0].shape
        if not shape.is_compatible_with(inputs[1].shape):
            raise ValueError(f"Shapes must be equal for '{op_type}' with input shapes: "
                             f"{inputs[0].shape}, {inputs[1].shape}.")
        return [(dtype, shape.merge_with(inputs[1].shape))]

    return infer


def _op(op_type, inputs, name, attrs=None):
    graph = inputs[0].graph
    return graph.create_op(op_type, list(inputs), attrs, name=name or op_type).outputs[0]


def _grad_op(op_type, grad, second, attrs=None):
    return _op(op_type, (graph_lib.convert_to_tensor(grad), second), None, attrs)


def _zero(dtype):
    return graph_lib.convert_to_tensor(0, dtype=dtype)


# ---- Elu --------------------------------------------------------------------------------

def _elu_grad(op, grad):
    # EluGrad takes the forward output: d elu = 1 for y >= 0, y + 1 below.
    return [_grad_op("EluGrad", grad, op.outputs[0])]


def _elu_grad_grad(op, grad):
    gradients, outputs = op.inputs
    negative = math_ops.less(outputs, _zero(outputs.dtype))
    return [_grad_op("EluGrad", grad, outputs),
            array_ops.where(negative, math_ops.multiply(grad, gradients),
                            array_ops.zeros_like(outputs))]


registry.register_op("Elu", infer=_unary_infer("Elu", _FLOATS), num_inputs=1,
                     gradient=_elu_grad, doc="x for x >= 0, exp(x) - 1 below.")
registry.register_op("EluGrad", infer=_grad_infer("EluGrad", _FLOATS, "outputs"),
                     num_inputs=2, gradient=_elu_grad_grad,
                     doc="The gradient of Elu, from its outputs.")


def elu(features, name=None):
    """The exponential linear unit: `features` where >= 0, ``exp(features) - 1`` below
    (op ``Elu``).

    Args:
      features: a floating Tensor.
      name: the op name.

    Returns:
      A Tensor of `features`' dtype and shape.

    Raises:
      TypeError: for a non-floating dtype.
    """
    return math_ops._make_op("Elu", (features,), ("features",), name).outputs[0]


# ---- Selu -------------------------------------------------------------------------------

def _selu_grad(op, grad):
    return [_grad_op("SeluGrad", grad, op.outputs[0])]


def _selu_grad_grad(op, grad):
    gradients, outputs = op.inputs
    negative = math_ops.less(outputs, _zero(outputs.dtype))
    return [_grad_op("SeluGrad", grad, outputs),
            array_ops.where(negative, math_ops.multiply(grad, gradients),
                            array_ops.zeros_like(outputs))]


registry.register_op("Selu", infer=_unary_infer("Selu", _FLOATS), num_inputs=1,
                     gradient=_selu_grad,
                     doc="scale * x for x >= 0, scale * alpha * (exp(x) - 1) below.")
registry.register_op("SeluGrad", infer=_grad_infer("SeluGrad", _FLOATS, "outputs"),
                     num_inputs=2, gradient=_selu_grad_grad,
                     doc="The gradient of Selu, from its outputs.")


def selu(features, name=None):
    """The scaled exponential linear unit (op ``Selu``): ``scale * features`` where >= 0,
    ``scale * alpha * (exp(features) - 1)`` below, with TF's `SELU_SCALE` and `SELU_ALPHA`.

    Args:
      features: a floating Tensor.
      name: the op name.

    Returns:
      A Tensor of `features`' dtype and shape.
    """
    return math_ops._make_op("Selu", (features,), ("features",), name).outputs[0]


# ---- Softplus ---------------------------------------------------------------------------

def _softplus_grad(op, grad):
    return [_grad_op("SoftplusGrad", grad, op.inputs[0])]


def _softplus_grad_grad(op, grad):
    # SoftplusGrad(dy, x) = dy * sigmoid(x); d sigmoid(x) = 1 / (exp(-x) + 2 + exp(x)).
    dy, x = op.inputs
    with graph_lib.control_dependencies([grad]):
        ddy = _grad_op("SoftplusGrad", grad, x)
        denominator = math_ops.add(math_ops.add(math_ops.exp(math_ops.negative(x)),
                                                _scalar(2, x.dtype)), math_ops.exp(x))
        d2x = math_ops.realdiv(math_ops.multiply(grad, dy), denominator)
    return [ddy, d2x]


registry.register_op("Softplus", infer=_unary_infer("Softplus", _FLOATS), num_inputs=1,
                     gradient=_softplus_grad, doc="log(exp(x) + 1).")
registry.register_op("SoftplusGrad", infer=_grad_infer("SoftplusGrad", _FLOATS),
                     num_inputs=2, gradient=_softplus_grad_grad,
                     doc="The gradient of Softplus: gradients * sigmoid(features).")


def softplus(features, name=None):
    """``log(exp(features) + 1)``, computed without overflow (op ``Softplus``).

    Args:
      features: a floating Tensor.
      name: the op name.

    Returns:
      A Tensor of `features`' dtype and shape.
    """
    return math_ops._make_op("Softplus", (features,), ("features",), name).outputs[0]


# ---- Softsign ---------------------------------------------------------------------------

def _softsign_grad(op, grad):
    return [_grad_op("SoftsignGrad", grad, op.inputs[0])]


def _softsign_grad_grad(op, grad):
    # SoftsignGrad(dy, x) = dy / (1 + |x|)^2; its derivative in x is -2 sign(x) dy / (1+|x|)^3.
    dy, x = op.inputs
    one_plus = math_ops.add(math_ops.abs(x), _scalar(1, x.dtype))
    ddy = _grad_op("SoftsignGrad", grad, x)
    cube = math_ops.multiply(math_ops.square(one_plus), one_plus)
    d2x = math_ops.realdiv(
        math_ops.multiply(math_ops.multiply(grad, dy),
                          math_ops.multiply(math_ops.sign(x), _scalar(-2, x.dtype))), cube)
    return [ddy, d2x]


registry.register_op("Softsign", infer=_unary_infer("Softsign", _FLOATS), num_inputs=1,
                     gradient=_softsign_grad, doc="x / (abs(x) + 1).")
registry.register_op("SoftsignGrad", infer=_grad_infer("SoftsignGrad", _FLOATS),
                     num_inputs=2, gradient=_softsign_grad_grad,
                     doc="The gradient of Softsign: gradients / (1 + abs(features))^2.")


def softsign(features, name=None):
    """``features / (abs(features) + 1)`` (op ``Softsign``).

    Args:
      features: a floating Tensor.
      name: the op name.

    Returns:
      A Tensor of `features`' dtype and shape.
    """
    return math_ops._make_op("Softsign", (features,), ("features",), name).outputs[0]


# ---- Relu6 ------------------------------------------------------------------------------

def _relu6_grad(op, grad):
    # The output gives the same mask as the input (0 < relu6(x) < 6 exactly when 0 < x < 6)
    # and, as in TF, reading it leaves the pre-activation free, so a training graph's
    # MatMul + BiasAdd + Relu6 can still become one fused op (runtime/optimizer/remapper.py).
    return [_grad_op("Relu6Grad", grad, op.outputs[0])]


def _relu6_grad_grad(op, grad):
    # Relu6Grad is linear in its gradients and piecewise constant in its features.
    x = op.inputs[1]
    return [_grad_op("Relu6Grad", grad, x), array_ops.zeros_like(x)]


registry.register_op("Relu6", infer=_unary_infer("Relu6", dtypes.NUMERIC_DTYPES),
                     num_inputs=1, gradient=_relu6_grad, doc="min(max(x, 0), 6).")
registry.register_op("Relu6Grad", infer=_grad_infer("Relu6Grad", dtypes.NUMERIC_DTYPES),
                     num_inputs=2, gradient=_relu6_grad_grad,
                     doc="The gradient of Relu6: gradients where 0 < features < 6.")


def relu6(features, name=None):
    """``min(max(features, 0), 6)`` (op ``Relu6``).

    Args:
      features: a numeric Tensor.
      name: the op name.

    Returns:
      A Tensor of `features`' dtype and shape.
    """
    return math_ops._make_op("Relu6", (features,), ("features",), name).outputs[0]


# ---- LeakyRelu --------------------------------------------------------------------------

def _alpha_infer(op_type, base):
    def infer(inputs, attrs):
        attrs["alpha"] = float(attrs.get("alpha", 0.2))
        return base(inputs, attrs)

    return infer


def _leaky_relu_grad(op, grad):
    return [_grad_op("LeakyReluGrad", grad, op.inputs[0], {"alpha": op.get_attr("alpha")})]


def _leaky_relu_grad_grad(op, grad):
    x = op.inputs[1]
    return [_grad_op("LeakyReluGrad", grad, x, {"alpha": op.get_attr("alpha")}),
            array_ops.zeros_like(x)]


registry.register_op("LeakyRelu", infer=_alpha_infer("LeakyRelu",
                                                     _unary_infer("LeakyRelu", _FLOATS)),
                     num_inputs=1, gradient=_leaky_relu_grad,
                     doc="x for x > 0, alpha * x otherwise.")
registry.register_op("LeakyReluGrad",
                     infer=_alpha_infer("LeakyReluGrad", _grad_infer("LeakyReluGrad", _FLOATS)),
                     num_inputs=2, gradient=_leaky_relu_grad_grad,
                     doc="The gradient of LeakyRelu: gradients where features > 0, "
                         "alpha * gradients otherwise.")


def leaky_relu(features, alpha=0.2, name=None):
    """`features` where positive, ``alpha * features`` otherwise (op ``LeakyRelu``).

    Args:
      features: a Tensor; integer values are converted to float32, as in TF.
      alpha: the slope below zero (a Python number).
      name: the op name.

    Returns:
      A floating Tensor of `features`' shape.
    """
    graph = math_ops._find_graph((features,))
    with graph.as_default(), graph.name_scope(name or "LeakyRelu") as scope:
        tensor = graph_lib.convert_to_tensor(features, name="features")
        if tensor.dtype.is_integer:
            tensor = math_ops.cast(tensor, dtypes.float32)
        return graph.create_op("LeakyRelu", [tensor], {"alpha": float(alpha)},
                               name=scope).outputs[0]


# ---- l2_normalize -----------------------------------------------------------------------

def _scalar(value, dtype):
    return graph_lib.convert_to_tensor(value, dtype=dtype)


def l2_normalize(x, axis=None, epsilon=1e-12, name=None, dim=None):
    """`x` divided by its L2 norm along `axis`: ``x * rsqrt(max(sum(x**2, axis), epsilon))``.

    Args:
      x: a floating Tensor.
      axis: the dimension (int or list of ints) to normalize along; default 0.
      epsilon: the lower bound of the squared norm, which keeps zeros finite.
      name: the name scope.
      dim: TF 1's spelling of `axis`.

    Returns:
      A Tensor of `x`'s dtype and shape.

    Raises:
      ValueError: if both `axis` and `dim` are given.
    """
    if axis is not None and dim is not None:
        raise ValueError("Cannot specify both 'axis' and 'dim'")
    axis = dim if axis is None else axis
    graph = math_ops._find_graph((x,))
    with graph.as_default(), graph.name_scope(name or "l2_normalize") as scope:
        x = graph_lib.convert_to_tensor(x, name="x")
        square_sum = math_ops.reduce_sum(math_ops.square(x), axis if axis is not None else 0,
                                         keepdims=True)
        inverse_norm = math_ops.rsqrt(math_ops.maximum(square_sum,
                                                       _scalar(epsilon, x.dtype)))
        return math_ops.multiply(x, inverse_norm, name=scope)


# ---- composites: swish (silu), crelu -------------------------------------------------------

def swish(features, beta=1.0, name=None):
    """``features * sigmoid(beta * features)`` (SiLU when `beta` is 1).

    Args:
      features: a floating Tensor.
      beta: a float or scalar Tensor, cast to `features`' dtype.
      name: the name scope (default 'swish').

    Returns:
      A Tensor of `features`' dtype and shape.
    """
    graph = math_ops._find_graph((features, beta))
    with graph.as_default(), graph.name_scope(name or "swish") as scope:
        features = graph_lib.convert_to_tensor(features, name="features")
        beta = math_ops.cast(graph_lib.convert_to_tensor(beta, name="beta"), features.dtype)
        return math_ops.multiply(features, math_ops.sigmoid(beta * features), name=scope)


silu = swish


def crelu(features, name=None, axis=-1):
    """The concatenated ReLU: ``concat([relu(features), relu(-features)], axis)``, which
    doubles the size of `axis`.

    Args:
      features: a numeric Tensor.
      name: the name scope (default 'CRelu').
      axis: the axis to concatenate along.

    Returns:
      A Tensor of `features`' dtype.
    """
    from sessionlib.ops.nn import relu

    graph = math_ops._find_graph((features,))
    with graph.as_default(), graph.name_scope(name or "CRelu"):
        features = graph_lib.convert_to_tensor(features, name="features")
        both = array_ops.concat([features, math_ops.negative(features)], axis, name="concat")
        return relu(both)


for _name in __all__:
    setattr(nn, _name, globals()[_name])
