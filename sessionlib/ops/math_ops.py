"""Math ops: elementwise arithmetic and comparisons, reductions, matmul, casts, Tensor operators.

Each op is one `register_op` call plus its public wrapper, with TF's op type and attr names so
that ``as_graph_def()`` reads like TF's. A registration names its kernel (the op type), which
the kernel table binds (``math_kernels.py``, the math family of kernels); this module never
imports a kernel: a device worker binds kernels by name without the op library.

Dtype rules follow TF graph mode: both inputs of a binary op must have one dtype; a Python or
numpy value next to a Tensor is converted to the Tensor's dtype (so ``t_int32 + 1.5`` is a
TypeError), and two Tensors of different dtypes are a TypeError while the graph is built.
"""

import numpy as np

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework import registry
from sessionlib.framework.graph import Tensor
from sessionlib.framework.tensor_shape import TensorShape
from sessionlib.ops import _infer, gradients

__all__ = [
    "add", "subtract", "multiply", "divide", "truediv", "floordiv", "mod", "floormod", "pow",
    "negative", "abs", "sign", "square", "sqrt", "rsqrt", "exp", "log", "log1p", "sin", "cos",
    "tanh", "sigmoid", "maximum", "minimum", "squared_difference", "add_n", "matmul",
    "reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "reduce_prod", "reduce_any",
    "reduce_all", "reduce_join", "argmax", "argmin", "arg_max", "arg_min",
    "equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
    "logical_and", "logical_or", "logical_not", "cast", "to_float", "to_double", "to_int32",
    "to_int64", "div", "realdiv", "sub", "mul", "neg", "reciprocal",
]

_NUMERIC = dtypes.NUMERIC_DTYPES
_FLOATS = dtypes.FLOAT_DTYPES
_BOOL = (dtypes.bool,)
_NUMERIC_AND_BOOL = _NUMERIC + _BOOL


# ---- operand conversion ---------------------------------------------------------------------

def _is_tensor_like(value):
    """True for objects with a registered tensor conversion (e.g. Variables)."""
    return isinstance(value, Tensor) or any(
        isinstance(value, base) for base, _ in graph_lib._conversion_functions)


def _find_graph(values):
    for value in values:
        if isinstance(value, Tensor):
            return value.graph
        graph = getattr(value, "graph", None)
        if graph is not None and _is_tensor_like(value):
            return graph
    return graph_lib.get_default_graph()


def _convert_operands(values, names, graph):
    """Converts `values` to Tensors of one dtype, the dtype of the first tensor-like value.

    Tensors (and tensor-like objects) keep their dtypes, so a mismatch between two of them is
    reported by the op's inference as a TypeError. Constants are converted to the dtype of the
    first tensor-like value; with none, the first constant's inferred dtype is used, as TF does.
    Constant ops are named after the input (``'y'``), inside the current name scope.
    """
    dtype = None
    for value in values:
        if _is_tensor_like(value):
            dtype = graph_lib.convert_to_tensor(value).dtype
            break
    tensors = []
    for value, name in zip(values, names):
        if _is_tensor_like(value):
            tensors.append(graph_lib.convert_to_tensor(value))
        else:
            tensor = graph_lib.convert_to_tensor(value, dtype=dtype, name=name, graph=graph)
            dtype = dtype or tensor.dtype
            tensors.append(tensor)
    return tensors


def _make_op(op_type, values, arg_names, name, attrs=None, default_name=None):
    """Builds `op_type` on `values`, converting constants inside the op's name scope.

    Returns:
      The new Operation.
    """
    graph = _find_graph(values)
    default_name = default_name or op_type
    if all(isinstance(v, Tensor) for v in values):
        return graph.create_op(op_type, list(values), attrs, name=name or default_name)
    with graph.as_default(), graph.name_scope(name or default_name) as scope:
        tensors = _convert_operands(values, arg_names, graph)
        return graph.create_op(op_type, tensors, attrs, name=scope)


# ---- elementwise registrations -----------------------------------------------------------

def _binary_infer(op_type, allowed, out_dtype=None, has_t=True):
    def infer(inputs, attrs):
        dtype = _infer.same_dtype(op_type, inputs)
        _infer.check_dtype(op_type, inputs[0], allowed)
        if has_t:
            attrs["T"] = dtype
        shape = _infer.broadcast_shapes(inputs[0].shape, inputs[1].shape, op_type)
        return [(out_dtype or dtype, shape)]

    return infer


def _unary_infer(op_type, allowed, has_t=True):
    def infer(inputs, attrs):
        _infer.check_dtype(op_type, inputs[0], allowed)
        if has_t:
            attrs["T"] = inputs[0].dtype
        return [(inputs[0].dtype, inputs[0].shape)]

    return infer


# Each elementwise op's kernel is registered under its op type. The arithmetic ops (output
# dtype = input dtype) fuse into elementwise chains: their `fusion` instruction (fusion.py) is
# named like the elementwise function, which also names the op in its doc. Comparisons and
# logical ops change the dtype to bool and stay out of chains.

def _register_binary(op_type, elementwise_name, allowed, out_dtype=None, has_t=True,
                     fuses=False, gradient=registry.NOT_DIFFERENTIABLE):
    registry.register_op(op_type, infer=_binary_infer(op_type, allowed, out_dtype, has_t),
                         kernel=op_type, num_inputs=2, doc=f"Elementwise {elementwise_name}.",
                         fusion=elementwise_name if fuses else None, gradient=gradient)


def _register_unary(op_type, elementwise_name, allowed, has_t=True, fuses=False,
                    gradient=registry.NOT_DIFFERENTIABLE):
    registry.register_op(op_type, infer=_unary_infer(op_type, allowed, has_t),
                         kernel=op_type, num_inputs=1, doc=f"Elementwise {elementwise_name}.",
                         fusion=elementwise_name if fuses else None, gradient=gradient)


# ---- gradients of the elementwise ops ------------------------------------------------------
#
# Each builds graph ops from the forward op's inputs and outputs, so gradients of gradients
# work: every op used here has a gradient itself. A broadcasting op's input gradients are
# summed back to the inputs' shapes (``_grad_util.reduce_to_input``), statically when the
# shapes allow.

def _binary_grads(op, grad_x, grad_y):
    from sessionlib.ops import _grad_util

    x, y = op.inputs
    return [_grad_util.reduce_to_input(grad_x, x, y), _grad_util.reduce_to_input(grad_y, y, x)]


def _add_grad(op, grad):
    return _binary_grads(op, grad, grad)


def _sub_grad(op, grad):
    return _binary_grads(op, grad, negative(grad))


def _mul_grad(op, grad):
    x, y = op.inputs
    return _binary_grads(op, multiply(grad, y), multiply(x, grad))


def _real_div_grad(op, grad):
    x, y = op.inputs
    return _binary_grads(op, realdiv(grad, y),
                         multiply(grad, realdiv(realdiv(negative(x), y), y)))


def _floor_mod_grad(op, grad):
    # x mod y = x - floor(x / y) * y, with floor(x / y) piecewise constant (TF's gradient).
    x, y = op.inputs
    return _binary_grads(op, grad, multiply(grad, negative(floordiv(x, y))))


def _pow_grad(op, grad):
    from sessionlib.ops import array_ops

    x, y = op.inputs
    z = op.outputs[0]
    one = _scalar(1, y.dtype)
    grad_x = multiply(grad, multiply(y, pow(x, subtract(y, one))))
    # log(x) only where x > 0: elsewhere TF takes the gradient with respect to y as 0.
    positive = greater(x, array_ops.zeros_like(x))
    safe_x = _select_v2(positive, x, array_ops.ones_like(x))
    log_x = _select_v2(positive, log(safe_x), array_ops.zeros_like(x))
    return _binary_grads(op, grad_x, multiply(grad, multiply(z, log_x)))


def _select_v2(condition, x, y):
    """SelectV2 (numpy broadcasting of all three), built directly: `array_ops.where` builds
    TF 1's Select for a vector condition, which picks rows instead of broadcasting."""
    return condition.graph.create_op("SelectV2", [condition, x, y]).outputs[0]


def _select_mask_grads(op, grad, mask):
    from sessionlib.ops import array_ops

    zeros = array_ops.zeros_like(grad)
    return _binary_grads(op, _select_v2(mask, grad, zeros), _select_v2(mask, zeros, grad))


def _maximum_grad(op, grad):
    x, y = op.inputs
    return _select_mask_grads(op, grad, greater_equal(x, y))


def _minimum_grad(op, grad):
    x, y = op.inputs
    return _select_mask_grads(op, grad, less_equal(x, y))


def _squared_difference_grad(op, grad):
    x, y = op.inputs
    with graph_lib.control_dependencies([grad]):
        two_diff = multiply(_scalar(2, x.dtype), subtract(x, y))
    grad_x = multiply(grad, two_diff)
    return _binary_grads(op, grad_x, negative(grad_x))


def _neg_grad(op, grad):
    return [negative(grad)]


def _square_grad(op, grad):
    # d(x^2) = 2x; the product is built after the incoming gradient is known, as TF does, so
    # that its ops wait for it.
    with graph_lib.control_dependencies([grad]):
        two_x = multiply(op.inputs[0], _scalar(2, op.inputs[0].dtype))
    return [multiply(grad, two_x)]


def _abs_grad(op, grad):
    return [multiply(grad, sign(op.inputs[0]))]


def _sign_grad(op, grad):
    from sessionlib.ops import array_ops

    return [array_ops.zeros_like(op.inputs[0])]


def _sqrt_grad(op, grad):
    # d sqrt(x) = 0.5 / sqrt(x): from the output, like TF's SqrtGrad.
    y = op.outputs[0]
    return [realdiv(multiply(grad, _scalar(0.5, y.dtype)), y)]


def _rsqrt_grad(op, grad):
    # d x^-1/2 = -0.5 * y^3.
    y = op.outputs[0]
    return [multiply(grad, multiply(_scalar(-0.5, y.dtype), multiply(square(y), y)))]


def _reciprocal_grad(op, grad):
    # d (1/x) = -y^2.
    y = op.outputs[0]
    return [multiply(grad, negative(square(y)))]


def _exp_grad(op, grad):
    return [multiply(grad, op.outputs[0])]


def _log_grad(op, grad):
    return [multiply(grad, reciprocal(op.inputs[0]))]


def _log1p_grad(op, grad):
    x = op.inputs[0]
    return [multiply(grad, reciprocal(add(_scalar(1, x.dtype), x)))]


def _sin_grad(op, grad):
    return [multiply(grad, cos(op.inputs[0]))]


def _cos_grad(op, grad):
    return [negative(multiply(grad, sin(op.inputs[0])))]


def _tanh_grad(op, grad):
    y = op.outputs[0]
    return [multiply(grad, subtract(_scalar(1, y.dtype), square(y)))]


def _sigmoid_grad(op, grad):
    y = op.outputs[0]
    return [multiply(grad, multiply(y, subtract(_scalar(1, y.dtype), y)))]


_BINARY_GRADIENTS = {
    "AddV2": _add_grad, "Sub": _sub_grad, "Mul": _mul_grad, "RealDiv": _real_div_grad,
    "FloorMod": _floor_mod_grad, "Pow": _pow_grad, "Maximum": _maximum_grad,
    "Minimum": _minimum_grad, "SquaredDifference": _squared_difference_grad,
}
_UNARY_GRADIENTS = {
    "Neg": _neg_grad, "Abs": _abs_grad, "Sign": _sign_grad, "Square": _square_grad,
    "Sqrt": _sqrt_grad, "Rsqrt": _rsqrt_grad, "Exp": _exp_grad, "Log": _log_grad,
    "Log1p": _log1p_grad, "Sin": _sin_grad, "Cos": _cos_grad, "Tanh": _tanh_grad,
    "Sigmoid": _sigmoid_grad, "Reciprocal": _reciprocal_grad,
}


for _op_type, _elementwise, _allowed in (
        ("AddV2", "add", _NUMERIC), ("Sub", "sub", _NUMERIC), ("Mul", "mul", _NUMERIC),
        ("RealDiv", "real_div", _FLOATS), ("FloorDiv", "floor_div", _NUMERIC),
        ("FloorMod", "floor_mod", _NUMERIC), ("Pow", "pow", _NUMERIC),
        ("Maximum", "maximum", _NUMERIC), ("Minimum", "minimum", _NUMERIC),
        ("SquaredDifference", "squared_difference", _NUMERIC)):
    # FloorDiv is piecewise constant: TF gives it no gradient.
    _register_binary(_op_type, _elementwise, _allowed, fuses=True,
                     gradient=_BINARY_GRADIENTS.get(_op_type, registry.NOT_DIFFERENTIABLE))

for _op_type, _elementwise, _allowed in (
        ("Equal", "equal", _NUMERIC_AND_BOOL + (dtypes.string,)),
        ("NotEqual", "not_equal", _NUMERIC_AND_BOOL + (dtypes.string,)),
        ("Less", "less", _NUMERIC), ("LessEqual", "less_equal", _NUMERIC),
        ("Greater", "greater", _NUMERIC), ("GreaterEqual", "greater_equal", _NUMERIC)):
    _register_binary(_op_type, _elementwise, _allowed, out_dtype=dtypes.bool)

_register_binary("LogicalAnd", "logical_and", _BOOL, has_t=False)
_register_binary("LogicalOr", "logical_or", _BOOL, has_t=False)
_register_unary("LogicalNot", "logical_not", _BOOL, has_t=False)

for _op_type, _elementwise, _allowed in (
        ("Neg", "neg", _NUMERIC), ("Abs", "abs", _NUMERIC), ("Sign", "sign", _NUMERIC),
        ("Square", "square", _NUMERIC), ("Sqrt", "sqrt", _FLOATS), ("Rsqrt", "rsqrt", _FLOATS),
        ("Exp", "exp", _FLOATS), ("Log", "log", _FLOATS), ("Log1p", "log1p", _FLOATS),
        ("Sin", "sin", _FLOATS), ("Cos", "cos", _FLOATS), ("Tanh", "tanh", _FLOATS),
        ("Sigmoid", "sigmoid", _FLOATS), ("Reciprocal", "reciprocal", _FLOATS)):
    _register_unary(_op_type, _elementwise, _allowed, fuses=True,
                    gradient=_UNARY_GRADIENTS[_op_type])


def _scalar(value, dtype):
    """A scalar constant of `dtype`, in the default graph."""
    return graph_lib.convert_to_tensor(value, dtype=dtype)


def _binary(op_type, x, y, name, default_name=None, attrs=None):
    return _make_op(op_type, (x, y), ("x", "y"), name, attrs, default_name).outputs[0]


def _unary(op_type, x, name):
    return _make_op(op_type, (x,), ("x",), name).outputs[0]


def add(x, y, name=None):
    """Returns x + y elementwise, with numpy broadcasting (op ``AddV2``).

    Args:
      x, y: Tensors or values of one numeric dtype.
      name: the op name.

    Returns:
      A Tensor of the inputs' dtype.

    Raises:
      TypeError: if the dtypes differ or are not numeric.
      ValueError: if the static shapes cannot broadcast.
    """
    return _binary("AddV2", x, y, name)


def subtract(x, y, name=None):
    """Returns x - y elementwise (op ``Sub``); arguments and errors as for `add`."""
    return _binary("Sub", x, y, name)


def multiply(x, y, name=None):
    """Returns x * y elementwise (op ``Mul``); arguments and errors as for `add`."""
    return _binary("Mul", x, y, name)


def realdiv(x, y, name=None):
    """Returns x / y for floats (op ``RealDiv``); arguments and errors as for `add`."""
    return _binary("RealDiv", x, y, name)


# TF float types that integer inputs of `truediv` become (TF's _TRUEDIV_TABLE).
_TRUEDIV_TARGET = {
    dtypes.int8: dtypes.float32, dtypes.int16: dtypes.float32, dtypes.uint8: dtypes.float32,
    dtypes.int32: dtypes.float64, dtypes.int64: dtypes.float64,
}


def truediv(x, y, name=None):
    """Python 3 division: x / y as floats (ops ``Cast`` and ``RealDiv``).

    Integer inputs are cast first: int8, int16 and uint8 to float32, int32 and int64 to
    float64, as TF does.

    Args:
      x, y: Tensors or values of one numeric dtype.
      name: the op name (default ``'truediv'``).

    Returns:
      A floating Tensor.

    Raises:
      TypeError: if the dtypes differ or are not numeric.
      ValueError: if the static shapes cannot broadcast.
    """
    graph = _find_graph((x, y))
    with graph.as_default(), graph.name_scope(name or "truediv") as scope:
        x, y = _convert_operands((x, y), ("x", "y"), graph)
        if x.dtype is not y.dtype:
            raise TypeError(f"x and y must have the same dtype, got {x.dtype.name} != "
                            f"{y.dtype.name}")
        target = _TRUEDIV_TARGET.get(x.dtype)
        if target is not None:
            x = cast(x, target)
            y = cast(y, target)
        elif x.dtype is dtypes.bool:
            raise TypeError("Invalid dtype bool in __truediv__")
        return graph.create_op("RealDiv", [x, y], name=scope).outputs[0]


def divide(x, y, name=None):
    """Python 3 division, like ``x / y`` (see `truediv`)."""
    if name is not None:
        return truediv(x, y, name=name)
    return truediv(x, y)


def div(x, y, name=None):
    """TF 1's `div`: Python 2 division, floor for integers and real division for floats.

    Args:
      x, y: Tensors or values of one numeric dtype.
      name: the op name.

    Returns:
      A Tensor of the inputs' dtype (ops ``FloorDiv`` or ``RealDiv``).
    """
    graph = _find_graph((x, y))
    with graph.as_default(), graph.name_scope(name or "div") as scope:
        x, y = _convert_operands((x, y), ("x", "y"), graph)
        op_type = "RealDiv" if x.dtype.is_floating else "FloorDiv"
        return graph.create_op(op_type, [x, y], name=scope).outputs[0]


def floordiv(x, y, name=None):
    """x // y, rounding toward negative infinity (op ``FloorDiv``).

    Raises:
      TypeError, ValueError: as for `add`. Integer division by zero is an
        InvalidArgumentError when the graph runs.
    """
    return _binary("FloorDiv", x, y, name, default_name="floordiv")


def mod(x, y, name=None):
    """The remainder of floor division, with the sign of `y` (op ``FloorMod``)."""
    return _binary("FloorMod", x, y, name)


floormod = mod


def pow(x, y, name=None):  # noqa: A001 - TF's public name
    """x ** y elementwise (op ``Pow``); negative integer powers fail at run time."""
    return _binary("Pow", x, y, name)


def maximum(x, y, name=None):
    """The elementwise maximum (op ``Maximum``)."""
    return _binary("Maximum", x, y, name)


def minimum(x, y, name=None):
    """The elementwise minimum (op ``Minimum``)."""
    return _binary("Minimum", x, y, name)


def squared_difference(x, y, name=None):
    """(x - y) ** 2 elementwise (op ``SquaredDifference``)."""
    return _binary("SquaredDifference", x, y, name)


def negative(x, name=None):
    """-x elementwise (op ``Neg``)."""
    return _unary("Neg", x, name)


def abs(x, name=None):  # noqa: A001 - TF's public name
    """|x| elementwise (op ``Abs``)."""
    return _unary("Abs", x, name)


def sign(x, name=None):
    """-1, 0 or 1 by the sign of x (op ``Sign``)."""
    return _unary("Sign", x, name)


def square(x, name=None):
    """x * x elementwise (op ``Square``)."""
    return _unary("Square", x, name)


def sqrt(x, name=None):
    """The square root, for floats (op ``Sqrt``)."""
    return _unary("Sqrt", x, name)


def rsqrt(x, name=None):
    """1 / sqrt(x), for floats (op ``Rsqrt``)."""
    return _unary("Rsqrt", x, name)


def reciprocal(x, name=None):
    """1 / x, for floats (op ``Reciprocal``)."""
    return _unary("Reciprocal", x, name)


def exp(x, name=None):
    """e ** x, for floats (op ``Exp``)."""
    return _unary("Exp", x, name)


def log(x, name=None):
    """The natural logarithm, for floats (op ``Log``)."""
    return _unary("Log", x, name)


def log1p(x, name=None):
    """log(1 + x), accurate for small x (op ``Log1p``)."""
    return _unary("Log1p", x, name)


def sin(x, name=None):
    """The sine, for floats (op ``Sin``)."""
    return _unary("Sin", x, name)


def cos(x, name=None):
    """The cosine, for floats (op ``Cos``)."""
    return _unary("Cos", x, name)


def tanh(x, name=None):
    """The hyperbolic tangent, for floats (op ``Tanh``)."""
    return _unary("Tanh", x, name)


def sigmoid(x, name=None):
    """1 / (1 + exp(-x)), for floats (op ``Sigmoid``)."""
    return _unary("Sigmoid", x, name)


def equal(x, y, name=None):
    """x == y elementwise, as bool (op ``Equal``)."""
    return _binary("Equal", x, y, name, attrs={"incompatible_shape_error": True})


def not_equal(x, y, name=None):
    """x != y elementwise, as bool (op ``NotEqual``)."""
    return _binary("NotEqual", x, y, name, attrs={"incompatible_shape_error": True})


def less(x, y, name=None):
    """x < y elementwise, as bool (op ``Less``)."""
    return _binary("Less", x, y, name)


def less_equal(x, y, name=None):
    """x <= y elementwise, as bool (op ``LessEqual``)."""
    return _binary("LessEqual", x, y, name)


def greater(x, y, name=None):
    """x > y elementwise, as bool (op ``Greater``)."""
    return _binary("Greater", x, y, name)


def greater_equal(x, y, name=None):
    """x >= y elementwise, as bool (op ``GreaterEqual``)."""
    return _binary("GreaterEqual", x, y, name)


def logical_and(x, y, name=None):
    """x AND y for bool tensors (op ``LogicalAnd``)."""
    return _binary("LogicalAnd", x, y, name)


def logical_or(x, y, name=None):
    """x OR y for bool tensors (op ``LogicalOr``)."""
    return _binary("LogicalOr", x, y, name)


def logical_not(x, name=None):
    """NOT x for a bool tensor (op ``LogicalNot``)."""
    return _unary("LogicalNot", x, name)


# TF 1 short spellings.
sub = subtract
mul = multiply
neg = negative


def _document(functions, arity, returns):
    """Appends the Args/Returns/Raises every elementwise wrapper shares to its summary."""
    if arity == 1:
        args = "x: a Tensor, or a value convertible to one."
        raises = "TypeError: if the op does not support the dtype of `x`."
    else:
        args = "x, y: Tensors, or values convertible to them, of one dtype."
        raises = ("TypeError: if the dtypes differ or the op does not support them.\n"
                  "  ValueError: if the static shapes cannot broadcast.")
    for function in functions:
        if function.__doc__ is None:  # python -OO
            continue
        function.__doc__ += (f"\n\nArgs:\n  {args}\n  name: the op name (optional).\n\n"
                             f"Returns:\n  A Tensor of {returns}.\n\nRaises:\n  {raises}\n")


_document([abs, cos, exp, log, log1p, negative, reciprocal, rsqrt, sigmoid, sign, sin, sqrt,
           square, tanh], 1, "the dtype and shape of `x`")
_document([logical_not], 1, "bool, with the shape of `x`")
_document([divide, mod, pow, maximum, minimum, squared_difference], 2,
          "the inputs' dtype (float for `divide` of integers), with the broadcast shape")
_document([equal, not_equal, less, less_equal, greater, greater_equal, logical_and,
           logical_or], 2, "bool, with the broadcast shape")


# ---- Cast -----------------------------------------------------------------------------------

_CASTABLE = _NUMERIC_AND_BOOL


def _cast_infer(inputs, attrs):
    source = inputs[0].dtype
    _infer.check_dtype("Cast", inputs[0], _CASTABLE)
    target = attrs["DstT"]
    if target not in _CASTABLE:
        raise TypeError(f"Cast to {target.name} is not supported")
    attrs["SrcT"] = source
    attrs.setdefault("Truncate", False)
    return [(target, inputs[0].shape)]


def _cast_grad(op, grad):
    # Only float-to-float casts pass a gradient, converted back to the source dtype, as TF.
    source = op.inputs[0].dtype
    if source.is_floating and op.outputs[0].dtype.is_floating and grad is not None:
        return [cast(grad, source)]
    return [None]


registry.register_op("Cast", infer=_cast_infer, kernel="Cast", num_inputs=1,
                     doc="Converts to another dtype.", gradient=_cast_grad)


def cast(x, dtype, name=None):
    """`x` converted to `dtype` (op ``Cast``); floats are truncated toward zero for ints.

    Args:
      x: a Tensor or value.
      dtype: the target dtype (a `DType` or anything `as_dtype` takes).
      name: the op name.

    Returns:
      A Tensor of `dtype`; `x` itself when it already has that dtype.

    Raises:
      TypeError: for a dtype that cannot be cast (strings).
    """
    target = dtypes.as_dtype(dtype)
    if isinstance(x, Tensor) and x.dtype is target:
        return x
    if not _is_tensor_like(x):
        graph = graph_lib.get_default_graph()
        with graph.name_scope(name or "Cast") as scope:
            x = graph_lib.convert_to_tensor(x, name="x")
            if x.dtype is target:
                return graph.create_op("Identity", [x], name=scope).outputs[0]
            return graph.create_op("Cast", [x], {"DstT": target}, name=scope).outputs[0]
    x = graph_lib.convert_to_tensor(x)
    if x.dtype is target:
        return x
    return x.graph.create_op("Cast", [x], {"DstT": target}, name=name or "Cast").outputs[0]


def to_float(x, name="ToFloat"):
    """TF 1's `to_float`: `cast` to float32."""
    return cast(x, dtypes.float32, name=name)


def to_double(x, name="ToDouble"):
    """TF 1's `to_double`: `cast` to float64."""
    return cast(x, dtypes.float64, name=name)


def to_int32(x, name="ToInt32"):
    """TF 1's `to_int32`: `cast` to int32."""
    return cast(x, dtypes.int32, name=name)


def to_int64(x, name="ToInt64"):
    """TF 1's `to_int64`: `cast` to int64."""
    return cast(x, dtypes.int64, name=name)


# ---- AddN -----------------------------------------------------------------------------------

def _add_n_infer(inputs, attrs):
    if not inputs:
        raise ValueError("AddN needs at least one input")
    dtype = _infer.same_dtype("AddN", inputs, names=[f"inputs[{i}]"
                                                     for i in range(len(inputs))])
    # AddN of variants (TensorLists) adds them element-wise, as in TF (list gradients).
    _infer.check_dtype("AddN", inputs[0], _NUMERIC + (dtypes.variant,))
    shape = inputs[0].shape
    for tensor in inputs[1:]:
        if not shape.is_compatible_with(tensor.shape):
            raise ValueError(f"Shapes must be equal rank, but are {shape} and {tensor.shape} "
                             "for 'AddN'")
        shape = shape.merge_with(tensor.shape)
    attrs["N"] = len(inputs)
    attrs["T"] = dtype
    return [(dtype, shape)]


@gradients.accepts_indexed_slices
def _add_n_grad(op, grad):
    return [grad] * len(op.inputs)

registry.register_op("AddN", infer=_add_n_infer, kernel="AddN",
                     doc="The sum of N same-shape tensors.", fusion="add_n",
                     gradient=_add_n_grad)


def add_n(inputs, name=None):
    """The elementwise sum of a list of same-shape, same-dtype tensors (op ``AddN``).

    Args:
      inputs: a non-empty list of Tensors (or values).
      name: the op name.

    Returns:
      A Tensor.

    Raises:
      ValueError: if `inputs` is empty or the shapes differ.
      TypeError: if the dtypes differ.
    """
    if not inputs or not isinstance(inputs, (list, tuple)):
        raise ValueError("inputs must be a list of at least one Tensor with the same dtype "
                         "and shape")
    names = [f"inputs_{i}" for i in range(len(inputs))]
    if len(inputs) == 1 and isinstance(inputs[0], Tensor) and name is None:
        return inputs[0]
    return _make_op("AddN", tuple(inputs), names, name).outputs[0]


# ---- MatMul ---------------------------------------------------------------------------------

_MATMUL_DTYPES = _NUMERIC


def _matmul_infer(inputs, attrs):
    a, b = inputs
    dtype = _infer.same_dtype("MatMul", inputs, names=("a", "b"))
    _infer.check_dtype("MatMul", a, _MATMUL_DTYPES, "a")
    attrs["T"] = dtype
    attrs.setdefault("transpose_a", False)
    attrs.setdefault("transpose_b", False)
    a_shape = a.shape.with_rank(2) if a.shape.rank in (None, 2) else None
    b_shape = b.shape.with_rank(2) if b.shape.rank in (None, 2) else None
    if a_shape is None or b_shape is None:
        bad = a.shape if a_shape is None else b.shape
        raise ValueError(f"Shape must be rank 2 but is rank {bad.rank} for 'MatMul' with "
                         f"input shapes: {a.shape}, {b.shape}.")
    rows, inner_a = a_shape.as_list()[::-1] if attrs["transpose_a"] else a_shape.as_list()
    inner_b, cols = b_shape.as_list()[::-1] if attrs["transpose_b"] else b_shape.as_list()
    if inner_a is not None and inner_b is not None and inner_a != inner_b:
        raise ValueError(f"Dimensions must be equal, but are {inner_a} and {inner_b} for "
                         f"'MatMul' with input shapes: {a.shape}, {b.shape}.")
    return [(dtype, TensorShape([rows, cols]))]


def _matmul_grads(build, a, b, grad, transpose_a, transpose_b):
    """The gradients of ``a @ b`` (with transposes) through `build(x, y, tx, ty)`."""
    if not transpose_a and not transpose_b:
        return build(grad, b, False, True), build(a, grad, True, False)
    if not transpose_a and transpose_b:
        return build(grad, b, False, False), build(grad, a, True, False)
    if transpose_a and not transpose_b:
        return build(b, grad, False, True), build(a, grad, False, False)
    return build(b, grad, True, True), build(grad, a, True, True)


def _matmul_grad(op, grad):
    a, b = op.inputs

    def build(x, y, tx, ty):
        return op.graph.create_op("MatMul", [x, y], {"transpose_a": tx, "transpose_b": ty}
                                  ).outputs[0]

    return list(_matmul_grads(build, a, b, grad, op.get_attr("transpose_a"),
                              op.get_attr("transpose_b")))


registry.register_op("MatMul", infer=_matmul_infer, kernel="MatMul", num_inputs=2,
                     doc="A matrix product (numpy / BLAS).", gradient=_matmul_grad)


def _batch_matmul_infer(inputs, attrs):
    x, y = inputs
    dtype = _infer.same_dtype("BatchMatMulV2", inputs)
    _infer.check_dtype("BatchMatMulV2", x, _MATMUL_DTYPES)
    attrs["T"] = dtype
    attrs.setdefault("adj_x", False)
    attrs.setdefault("adj_y", False)
    for tensor in inputs:
        tensor.shape.with_rank_at_least(2)
    if x.shape.rank is None or y.shape.rank is None:
        return [(dtype, TensorShape(None))]
    xs, ys = x.shape.as_list(), y.shape.as_list()
    rows, inner_x = xs[-1:-3:-1] if attrs["adj_x"] else xs[-2:]
    inner_y, cols = ys[-1:-3:-1] if attrs["adj_y"] else ys[-2:]
    if inner_x is not None and inner_y is not None and inner_x != inner_y:
        raise ValueError(f"Dimensions must be equal, but are {inner_x} and {inner_y} for "
                         f"'BatchMatMulV2' with input shapes: {x.shape}, {y.shape}.")
    batch = _infer.broadcast_shapes(TensorShape(xs[:-2]), TensorShape(ys[:-2]),
                                    "BatchMatMulV2")
    return [(dtype, batch.concatenate([rows, cols]))]


def _batch_matmul_grad(op, grad):
    from sessionlib.ops import _grad_util

    x, y = op.inputs

    def build(a, b, ta, tb):
        return op.graph.create_op("BatchMatMulV2", [a, b], {"adj_x": ta, "adj_y": tb}
                                  ).outputs[0]

    grad_x, grad_y = _matmul_grads(build, x, y, grad, op.get_attr("adj_x"),
                                   op.get_attr("adj_y"))
    # Batch dimensions that broadcast are summed back to each input's.
    return [_grad_util.sum_to_batch(grad_x, x, y), _grad_util.sum_to_batch(grad_y, y, x)]


registry.register_op("BatchMatMulV2", infer=_batch_matmul_infer, kernel="BatchMatMulV2",
                     num_inputs=2, doc="Batched matrix products with broadcasting.",
                     gradient=_batch_matmul_grad)


def matmul(a, b, transpose_a=False, transpose_b=False, adjoint_a=False, adjoint_b=False,
           a_is_sparse=False, b_is_sparse=False, name=None):
    """The matrix product a @ b (op ``MatMul``; ``BatchMatMulV2`` for rank > 2).

    Args:
      a, b: Tensors of one numeric dtype, of rank 2 (or of rank >= 2 with broadcast batch
        dimensions in front).
      transpose_a, transpose_b: transpose the matrix before multiplying.
      adjoint_a, adjoint_b: the same as transposing, for the real types supported here.
      a_is_sparse, b_is_sparse: accepted for TF compatibility; ignored.
      name: the op name.

    Returns:
      A Tensor of the inputs' dtype.

    Raises:
      ValueError: if the inner dimensions do not match statically or a rank is below 2.
      TypeError: if the dtypes differ.
    """
    transpose_a = bool(transpose_a or adjoint_a)
    transpose_b = bool(transpose_b or adjoint_b)
    graph = _find_graph((a, b))
    with graph.as_default(), graph.name_scope(name or "MatMul") as scope:
        a, b = _convert_operands((a, b), ("a", "b"), graph)
        a_rank, b_rank = a.shape.rank, b.shape.rank
        if (a_rank is not None and a_rank > 2) or (b_rank is not None and b_rank > 2):
            return graph.create_op("BatchMatMulV2", [a, b],
                                   {"adj_x": transpose_a, "adj_y": transpose_b},
                                   name=scope).outputs[0]
        return graph.create_op("MatMul", [a, b],
                               {"transpose_a": transpose_a, "transpose_b": transpose_b},
                               name=scope).outputs[0]


# ---- reductions -----------------------------------------------------------------------------

def _reduction_infer(op_type, allowed):
    def infer(inputs, attrs):
        value, axes = inputs
        _infer.check_dtype(op_type, value, allowed, "input")
        _infer.check_index_dtype(op_type, axes, "reduction_indices")
        if op_type != "ReduceJoin":
            attrs["T"] = value.dtype
            attrs["Tidx"] = axes.dtype
        attrs.setdefault("keep_dims", False)
        return [(value.dtype, _infer.reduced_shape(value.shape, axes, attrs["keep_dims"],
                                                   op_type))]

    return infer


_FUSED_REDUCTIONS = {"Sum": "reduce_sum", "Mean": "reduce_mean", "Max": "reduce_max",
                     "Min": "reduce_min"}


def _sum_grad(op, grad):
    from sessionlib.ops import _grad_util

    value, axes = op.inputs
    return [_grad_util.broadcast_reduced(grad, value, axes, op.get_attr("keep_dims")), None]


def _mean_grad(op, grad):
    from sessionlib.ops import array_ops

    value, axes = op.inputs
    summed = _sum_grad(op, grad)[0]
    out = op.outputs[0]
    if value.shape.is_fully_defined() and out.shape.is_fully_defined():
        count = max(value.shape.num_elements() // max(out.shape.num_elements(), 1), 1)
        return [realdiv(summed, _scalar(count, value.dtype)), None]
    count = floordiv(array_ops.size(value), maximum(array_ops.size(out), 1))
    return [realdiv(summed, cast(count, value.dtype)), None]


def _min_or_max_grad(op, grad):
    # The gradient goes to the elements equal to the extreme, split evenly among ties (TF).
    from sessionlib.ops import _grad_util, array_ops

    value, axes = op.inputs
    out = op.outputs[0]
    keep_dims = op.get_attr("keep_dims")
    if not keep_dims:
        kept = _grad_util.reduced_shape(value, axes)
        out = array_ops.reshape(out, kept)
        grad = array_ops.reshape(grad, kept)
    indicators = cast(equal(value, out), value.dtype)
    count = reduce_sum(indicators, axes, keepdims=True)
    return [multiply(realdiv(indicators, count), grad), None]


def _prod_grad(op, grad):
    # d prod / d x_i is the product of the other elements, which the helper op computes
    # without dividing (so zeros are handled), as TF's exclusive cumulative products do.
    from sessionlib.ops import _grad_util

    value, axes = op.inputs
    spread = _grad_util.broadcast_reduced(grad, value, axes, op.get_attr("keep_dims"))
    others = op.graph.create_op("ProdOthers", [value, axes]).outputs[0]
    return [multiply(spread, others), None]


_REDUCTION_GRADIENTS = {"Sum": _sum_grad, "Mean": _mean_grad, "Max": _min_or_max_grad,
                        "Min": _min_or_max_grad, "Prod": _prod_grad}

for _op_type, _allowed in (("Sum", _NUMERIC), ("Prod", _NUMERIC), ("Mean", _NUMERIC),
                           ("Max", _NUMERIC), ("Min", _NUMERIC), ("Any", _BOOL),
                           ("All", _BOOL)):
    # Sum, Mean, Max and Min over constant axes fuse at the end of an elementwise chain.
    registry.register_op(_op_type, infer=_reduction_infer(_op_type, _allowed),
                         kernel=_op_type, num_inputs=2,
                         doc=f"Reduction: {_op_type}.",
                         fusion=_FUSED_REDUCTIONS.get(_op_type),
                         gradient=_REDUCTION_GRADIENTS.get(_op_type,
                                                           registry.NOT_DIFFERENTIABLE))


def _prod_others_infer(inputs, attrs):
    value, axes = inputs
    _infer.check_dtype("ProdOthers", value, _NUMERIC, "input")
    _infer.check_index_dtype("ProdOthers", axes, "reduction_indices")
    attrs["T"] = value.dtype
    attrs["Tidx"] = axes.dtype
    return [(value.dtype, value.shape)]


# A gradient helper: no second-order gradient of reduce_prod through it.
registry.register_op("ProdOthers", infer=_prod_others_infer, kernel="ProdOthers",
                     num_inputs=2, gradient=registry.NOT_DIFFERENTIABLE,
                     doc="For each element, the product of the others along the axes.")

registry.register_op("ReduceJoin", infer=_reduction_infer("ReduceJoin", (dtypes.string,)),
                     kernel="ReduceJoin", num_inputs=2, gradient=registry.NOT_DIFFERENTIABLE,
                     doc="Joins strings across dimensions.")


def _resolve_keepdims(keepdims, keep_dims):
    if keepdims is not None and keep_dims is not None and bool(keepdims) != bool(keep_dims):
        raise ValueError("The `keep_dims` and `keepdims` arguments are duplicates; pass one")
    if keepdims is None:
        keepdims = keep_dims
    return bool(keepdims)


def _resolve_axis(axis, reduction_indices, what="reduction_indices"):
    if axis is not None and reduction_indices is not None:
        raise ValueError(f"Cannot specify both 'axis' and '{what}'.")
    return axis if axis is not None else reduction_indices


def _all_axes(tensor, graph, reverse=False):
    """The axes of all dimensions: a Const when the rank is known, else a Range on Rank."""
    rank = tensor.shape.rank
    if rank is not None:
        axes = np.arange(rank, dtype=np.int32)
        if reverse:
            axes = axes[::-1].copy()
        return graph_lib.convert_to_tensor(axes, name="Const", graph=graph)
    from sessionlib.ops import array_ops

    if reverse:
        rank_t = array_ops.rank(tensor)
        return array_ops.range(rank_t - 1, -1, -1)
    return array_ops.range(0, array_ops.rank(tensor), 1)


def _reduce(op_type, input_tensor, axis, keepdims, name):
    graph = _find_graph((input_tensor, axis))
    with graph.as_default(), graph.name_scope(name or op_type) as scope:
        tensor = graph_lib.convert_to_tensor(input_tensor, name="input")
        if axis is None:
            axes = _all_axes(tensor, graph)
        elif isinstance(axis, Tensor):
            axes = axis
        else:
            axes = graph_lib.convert_to_tensor(axis, dtype=dtypes.int32,
                                               name="reduction_indices", graph=graph)
        return graph.create_op(op_type, [tensor, axes], {"keep_dims": keepdims},
                               name=scope).outputs[0]


def _reduction_wrapper(op_type, public_name, description):
    def wrapper(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
                keep_dims=None):
        axis = _resolve_axis(axis, reduction_indices)
        keepdims = _resolve_keepdims(keepdims, keep_dims)
        return _reduce(op_type, input_tensor, axis, keepdims, name)

    wrapper.__name__ = wrapper.__qualname__ = public_name
    wrapper.__doc__ = f"""{description} of `input_tensor` across `axis` (op ``{op_type}``).

    Args:
      input_tensor: the Tensor to reduce.
      axis: an int, a list of ints or an int Tensor; None reduces every dimension. Negative
        values count from the end.
      keepdims: keep the reduced dimensions with length 1.
      name: the op name.
      reduction_indices: TF 1's spelling of `axis`.
      keep_dims: TF 1's spelling of `keepdims`.

    Returns:
      The reduced Tensor.

    Raises:
      ValueError: for an axis outside the static rank, or both `axis` and
        `reduction_indices`.
      TypeError: for an unsupported dtype.
    """
    return wrapper


reduce_sum = _reduction_wrapper("Sum", "reduce_sum", "The sum")
reduce_mean = _reduction_wrapper(
    "Mean", "reduce_mean", "The mean (truncated integer division for integer types)")
reduce_max = _reduction_wrapper("Max", "reduce_max", "The maximum")
reduce_min = _reduction_wrapper("Min", "reduce_min", "The minimum")
reduce_prod = _reduction_wrapper("Prod", "reduce_prod", "The product")
reduce_any = _reduction_wrapper("Any", "reduce_any", "The logical OR")
reduce_all = _reduction_wrapper("All", "reduce_all", "The logical AND")


def reduce_join(inputs, axis=None, keep_dims=None, separator="", name=None,
                reduction_indices=None, keepdims=None):
    """Joins string tensors across dimensions (op ``ReduceJoin``).

    Args:
      inputs: a string Tensor.
      axis: the dimensions to join, in the order they are joined; None joins everything in
        row-major order.
      keep_dims: keep the reduced dimensions with length 1 (`keepdims` is the same).
      separator: the string put between joined elements.
      name: the op name.
      reduction_indices: TF 1's spelling of `axis`.

    Returns:
      A string Tensor.
    """
    axis = _resolve_axis(axis, reduction_indices)
    keepdims = _resolve_keepdims(keepdims, keep_dims)
    graph = _find_graph((inputs, axis))
    with graph.as_default(), graph.name_scope(name or "ReduceJoin") as scope:
        tensor = graph_lib.convert_to_tensor(inputs, name="inputs")
        if axis is None:
            axes = _all_axes(tensor, graph, reverse=True)
        elif isinstance(axis, Tensor):
            axes = axis
        else:
            axes = graph_lib.convert_to_tensor(axis, dtype=dtypes.int32,
                                               name="reduction_indices", graph=graph)
        return graph.create_op("ReduceJoin", [tensor, axes],
                               {"keep_dims": keepdims, "separator": str(separator)},
                               name=scope).outputs[0]


# ---- ArgMax / ArgMin --------------------------------------------------------------------------

def _arg_infer(op_type):
    def infer(inputs, attrs):
        value, dimension = inputs
        _infer.check_dtype(op_type, value, _NUMERIC + _BOOL, "input")
        _infer.check_index_dtype(op_type, dimension, "dimension")
        attrs["T"] = value.dtype
        attrs["Tidx"] = dimension.dtype
        output_type = attrs.setdefault("output_type", dtypes.int64)
        if output_type not in (dtypes.int32, dtypes.int64):
            raise TypeError(f"output_type must be int32 or int64, got {output_type.name}")
        shape = value.shape
        axis = _infer.folded_value(dimension)
        if shape.rank is None:
            return [(output_type, TensorShape(None))]
        if axis is None:
            return [(output_type, TensorShape([None] * max(shape.rank - 1, 0)))]
        axis = int(axis)
        if not -shape.rank <= axis < shape.rank:
            raise ValueError(f"Expected dimension in the range [{-shape.rank}, {shape.rank}),"
                             f" but got {axis} for '{op_type}'")
        dims = shape.as_list()
        del dims[axis % shape.rank]
        return [(output_type, TensorShape(dims))]

    return infer


registry.register_op("ArgMax", infer=_arg_infer("ArgMax"), kernel="ArgMax", num_inputs=2,
                     doc="The index of the largest value along an axis.",
                     gradient=registry.NOT_DIFFERENTIABLE)
registry.register_op("ArgMin", infer=_arg_infer("ArgMin"), kernel="ArgMin", num_inputs=2,
                     doc="The index of the smallest value along an axis.",
                     gradient=registry.NOT_DIFFERENTIABLE)


def _arg(op_type, input, axis, name, dimension, output_type):  # noqa: A002
    axis = _resolve_axis(axis, dimension, "dimension")
    if axis is None:
        axis = 0  # TF 1 semantics: no axis means axis 0
    graph = _find_graph((input, axis))
    with graph.as_default(), graph.name_scope(name or op_type) as scope:
        tensor = graph_lib.convert_to_tensor(input, name="input")
        if not isinstance(axis, Tensor):
            axis = graph_lib.convert_to_tensor(axis, dtype=dtypes.int32, name="dimension",
                                               graph=graph)
        return graph.create_op(op_type, [tensor, axis],
                               {"output_type": dtypes.as_dtype(output_type)},
                               name=scope).outputs[0]


def argmax(input, axis=None, name=None, dimension=None,  # noqa: A002 - TF's argument name
           output_type=dtypes.int64):
    """The index of the largest value along `axis` (op ``ArgMax``).

    Args:
      input: a numeric Tensor.
      axis: the axis (int or scalar int Tensor); None means 0, as in TF 1.
      name: the op name.
      dimension: TF 1's spelling of `axis`.
      output_type: int64 (default) or int32.

    Returns:
      A Tensor of `output_type` with `axis` removed.

    Raises:
      ValueError: for an axis outside the static rank.
    """
    return _arg("ArgMax", input, axis, name, dimension, output_type)


def argmin(input, axis=None, name=None, dimension=None,  # noqa: A002 - TF's argument name
           output_type=dtypes.int64):
    """The index of the smallest value along `axis` (op ``ArgMin``); see `argmax`."""
    return _arg("ArgMin", input, axis, name, dimension, output_type)


def arg_max(input, dimension, output_type=dtypes.int64, name=None):  # noqa: A002
    """TF 1's `arg_max(input, dimension)`; see `argmax`."""
    return _arg("ArgMax", input, None, name, dimension, output_type)


def arg_min(input, dimension, output_type=dtypes.int64, name=None):  # noqa: A002
    """TF 1's `arg_min(input, dimension)`; see `argmin`."""
    return _arg("ArgMin", input, None, name, dimension, output_type)


# ---- Tensor operators -------------------------------------------------------------------------

def _override(operator_name, function, reflected_name=None, default_name=None):
    """Attaches ``Tensor.__op__`` (and ``__rop__``), named like TF's operator ops."""
    default_name = default_name or operator_name

    def forward(self, other):
        try:
            return function(self, other, name=default_name)
        except (TypeError, ValueError):
            if isinstance(other, Tensor) or _is_tensor_like(other) or _convertible(other):
                raise
            return NotImplemented

    def reflected(self, other):
        try:
            return function(other, self, name=default_name)
        except (TypeError, ValueError):
            if _is_tensor_like(other) or _convertible(other):
                raise
            return NotImplemented

    forward.__name__ = f"__{operator_name}__"
    setattr(Tensor, forward.__name__, forward)
    if reflected_name:
        reflected.__name__ = f"__{reflected_name}__"
        setattr(Tensor, reflected.__name__, reflected)


def _convertible(value):
    """Whether `value` looks like tensor content (a number, array, list or string)."""
    import numbers

    return isinstance(value, (numbers.Number, np.ndarray, np.generic, list, tuple, str, bytes))


def _logical_checked(function, what):
    def operator(x, y, name=None):
        for value in (x, y):
            if isinstance(value, Tensor) and value.dtype is not dtypes.bool:
                raise TypeError(f"Operator {what} is only defined for bool Tensors here, got "
                                f"{value.dtype.name}")
        return function(x, y, name=name)

    return operator


def _matmul_operator(x, y, name=None):
    return matmul(x, y, name=name or "matmul")


_override("add", add, "radd")
_override("sub", subtract, "rsub")
_override("mul", multiply, "rmul")
_override("truediv", truediv, "rtruediv")
_override("floordiv", floordiv, "rfloordiv")
_override("mod", mod, "rmod")
_override("pow", pow, "rpow")
_override("matmul", _matmul_operator, "rmatmul")
_override("and", _logical_checked(logical_and, "&"), "rand")
_override("or", _logical_checked(logical_or, "|"), "ror")
_override("lt", less, default_name="Less")
_override("le", less_equal, default_name="LessEqual")
_override("gt", greater, default_name="Greater")
_override("ge", greater_equal, default_name="GreaterEqual")


def _neg_operator(self):
    return negative(self)


def _abs_operator(self):
    return abs(self)


def _invert_operator(self):
    if self.dtype is not dtypes.bool:
        raise TypeError(f"Operator ~ is only defined for bool Tensors here, got "
                        f"{self.dtype.name}")
    return logical_not(self)


Tensor.__neg__ = _neg_operator
Tensor.__abs__ = _abs_operator
Tensor.__invert__ = _invert_operator


# ---- UnsortedSegmentSum ---------------------------------------------------------------------

def _unsorted_segment_infer(op_type, allowed):
    """The infer function of an UnsortedSegment* op: (data, segment_ids, num_segments) to
    ``[num_segments] + data.shape[segment_ids.rank:]``."""

    def infer(inputs, attrs):
        data, segment_ids, num_segments = inputs
        _infer.check_dtype(op_type, data, allowed, "data")
        _infer.check_index_dtype(op_type, segment_ids, "segment_ids")
        _infer.check_index_dtype(op_type, num_segments, "num_segments")
        if num_segments.shape.rank not in (0, None):
            raise ValueError(f"Shape must be rank 0 but is rank {num_segments.shape.rank} "
                             f"for '{op_type}' (num_segments)")
        attrs["T"] = data.dtype
        attrs["Tindices"] = segment_ids.dtype
        attrs["Tnumsegments"] = num_segments.dtype
        count = _infer.folded_value(num_segments)
        count = None if count is None else int(count)
        if data.shape.rank is None or segment_ids.shape.rank is None:
            return [(data.dtype, TensorShape(None))]
        ids_rank = segment_ids.shape.rank
        if ids_rank > data.shape.rank or not TensorShape(
                data.shape.as_list()[:ids_rank]).is_compatible_with(segment_ids.shape):
            raise ValueError(f"segment_ids.shape = {segment_ids.shape} must be a prefix of "
                             f"data.shape = {data.shape} for '{op_type}'")
        return [(data.dtype, TensorShape([count] + data.shape.as_list()[ids_rank:]))]

    return infer


def _unsorted_segment_sum_grad(op, grad):
    # Each data row received the sum of its segment: its gradient is that segment's row.
    # Ids outside [0, num_segments) were dropped, so their rows get zero.
    from sessionlib.ops import array_ops

    data, segment_ids, num_segments = op.inputs
    ids = segment_ids
    valid = logical_and(greater_equal(ids, array_ops.zeros_like(ids)),
                        less(ids, cast(num_segments, ids.dtype)))
    safe_ids = array_ops.where(valid, ids, array_ops.zeros_like(ids))
    gathered = array_ops.gather(grad, safe_ids)
    mask = valid
    extra = data.shape.rank - ids.shape.rank if (
        data.shape.rank is not None and ids.shape.rank is not None) else None
    if extra is None:
        raise NotImplementedError("The gradient of UnsortedSegmentSum needs known ranks")
    if extra:
        mask = array_ops.reshape(mask, _known_dims(ids) + [1] * extra)
    zeros = array_ops.zeros_like(gathered)
    picked = op.graph.create_op("SelectV2", [mask, gathered, zeros]).outputs[0]
    return [picked, None, None]


def _known_dims(tensor):
    from sessionlib.ops import array_ops

    dims = tensor.shape.as_list()
    if sum(d is None for d in dims) <= 1:
        return [-1 if d is None else d for d in dims]
    return array_ops.shape(tensor)


registry.register_op("UnsortedSegmentSum",
                     infer=_unsorted_segment_infer("UnsortedSegmentSum", _NUMERIC),
                     kernel="UnsortedSegmentSum", num_inputs=3,
                     gradient=_unsorted_segment_sum_grad,
                     doc="Sums of the rows of data by segment id, in any order.")


def unsorted_segment_sum(data, segment_ids, num_segments, name=None):
    """Sums the slices of `data` by segment: ``out[i] = sum(data[j] for segment_ids[j] == i)``.

    Args:
      data: a numeric Tensor.
      segment_ids: an int32/int64 Tensor whose shape is a prefix of `data`'s; ids outside
        ``[0, num_segments)`` are dropped, as in TF.
      num_segments: a scalar int Tensor or int: the number of segments.
      name: the op name.

    Returns:
      A Tensor of shape ``[num_segments] + data.shape[segment_ids.rank:]`` (op
      ``UnsortedSegmentSum``); segments without rows are 0.

    Raises:
      ValueError: if the shape of `segment_ids` is statically not a prefix of `data`'s.
      TypeError: for non-integer ids or an unsupported dtype.
    """
    return _unsorted_segment_op("UnsortedSegmentSum", data, segment_ids, num_segments, name)


def _unsorted_segment_op(op_type, data, segment_ids, num_segments, name):
    """Builds the UnsortedSegment* op `op_type` (data, segment_ids, num_segments)."""
    graph = _find_graph((data, segment_ids, num_segments))
    with graph.as_default(), graph.name_scope(name or op_type) as scope:
        data_t = graph_lib.convert_to_tensor(data, name="data")
        ids_t = graph_lib.convert_to_tensor(segment_ids, name="segment_ids")
        count_t = num_segments if isinstance(num_segments, Tensor) else (
            graph_lib.convert_to_tensor(np.asarray(num_segments, dtype=np.int32),
                                        name="num_segments"))
        return graph.create_op(op_type, [data_t, ids_t, count_t], name=scope).outputs[0]


__all__.append("unsorted_segment_sum")


# ---- saturate_cast ------------------------------------------------------------------------------

def _saturation_bounds(in_dtype, out_dtype):
    """The clamp bounds of a saturating cast, as values of `in_dtype`.

    The output range may not be representable in `in_dtype` (float32 has no 2**31 - 1), and a
    bound that rounds outside the output range would make the cast overflow; such a bound is
    nudged one step toward zero, as TF does.
    """
    np_dtype = in_dtype.as_numpy_dtype
    promoted = np.promote_types(np_dtype, out_dtype.as_numpy_dtype)
    low = np_dtype(max(in_dtype.min, out_dtype.min))
    if promoted.type(low) < promoted.type(out_dtype.min):
        low = np.nextafter(low, np_dtype(0), dtype=np_dtype)
    high = np_dtype(min(float(in_dtype.max), float(out_dtype.max))
                    if in_dtype.is_floating or out_dtype.is_floating
                    else min(in_dtype.max, out_dtype.max))
    if promoted.type(high) > promoted.type(out_dtype.max):
        high = np.nextafter(high, np_dtype(0), dtype=np_dtype)
    return low, high


def saturate_cast(value, dtype, name=None):
    """Casts `value` to `dtype`, clamping it to the range of `dtype` first (``tf.saturate_cast``).

    Args:
      value: a numeric tensor (or value).
      dtype: the target numeric `DType`.
      name: the name scope (default 'saturate_cast').

    Returns:
      A tensor of `dtype`: values beyond its range become its min or max (NaN goes through the
      cast, as in TF).
    """
    from sessionlib.ops import array_ops

    with graph_lib.name_scope(name, "saturate_cast", [value]) as scope:
        value = graph_lib.convert_to_tensor(value, name="value")
        dtype = dtypes.as_dtype(dtype).base_dtype
        if value.dtype is not dtypes.bool and dtype is not dtypes.bool:
            low, high = _saturation_bounds(value.dtype, dtype)
            value = array_ops.clip_by_value(
                value, graph_lib.convert_to_tensor(low, dtype=value.dtype),
                graph_lib.convert_to_tensor(high, dtype=value.dtype), name="clamp")
        return cast(value, dtype, name=scope)


__all__.append("saturate_cast")
