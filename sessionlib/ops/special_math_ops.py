"""More elementwise math: inverse and hyperbolic trigonometry, rounding, float classification,
truncating division, the x*log(y) family, and the special functions erf, erfc, lgamma, digamma,
erfinv, ndtri, zeta, polygamma, igamma, igammac, betainc and the modified Bessel functions I0
and I1; with TF's composites built on them (log_sigmoid, logical_xor, scalar_mul, lbeta, ...).

Each op is one `register_op` call with TF's op type, dtypes and gradient (TF's formulas), and
a public wrapper with TF's signature. The kernels are in
``runtime/kernels/special_math_kernels.py``. These ops stay out of elementwise fusion:
fusion runs the instruction set compiled into ``_core/elementwise``, which does not have them.
"""

import math

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework import registry
from sessionlib.framework.graph import Tensor
from sessionlib.framework.tensor_shape import TensorShape
from sessionlib.ops import _infer, array_ops, math_ops

__all__ = [
    "acos", "acosh", "asin", "asinh", "atan", "atan2", "atanh", "tan", "sinh", "cosh",
    "ceil", "floor", "rint", "round", "expm1", "erf", "erfc", "lgamma", "digamma", "zeta",
    "polygamma", "floor_div", "is_nan", "is_inf", "is_finite", "truncatediv", "truncatemod",
    "xdivy", "xlogy", "xlog1py", "nextafter", "multiply_no_nan", "log_sigmoid", "logical_xor",
    "scalar_mul", "reciprocal_no_nan", "polyval", "lbeta", "erfinv", "ndtri", "erfcinv",
    "igamma", "igammac", "betainc", "bessel_i0", "bessel_i0e", "bessel_i1", "bessel_i1e",
]

_FLOATS = dtypes.FLOAT_DTYPES
_DOUBLE_KERNELS = (dtypes.float32, dtypes.float64)  # TF registers these ops for no others
_ROUND_TYPES = _FLOATS + (dtypes.int8, dtypes.int16, dtypes.int32, dtypes.int64)
_TRUNCATE_MOD_TYPES = (dtypes.int32, dtypes.int64, dtypes.float32, dtypes.float64)
_NOT_DIFFERENTIABLE = registry.NOT_DIFFERENTIABLE


def _scalar(value, dtype):
    return graph_lib.convert_to_tensor(value, dtype=dtype)


# ---- gradients (TF's formulas) ----------------------------------------------------------------

def _unary_grad(derivative):
    """A gradient ``grad * derivative(x, y)`` built after the incoming gradient is known."""

    def gradient(op, grad):
        with graph_lib.control_dependencies([grad]):
            return [math_ops.multiply(grad, derivative(op.inputs[0], op.outputs[0]))]

    return gradient


def _one_minus_square(x):
    return math_ops.subtract(_scalar(1, x.dtype), math_ops.square(x))


def _erf_slope(x, sign):
    # d erf(x) = 2 / sqrt(pi) exp(-x^2).
    return math_ops.multiply(_scalar(sign * 2 / math.sqrt(math.pi), x.dtype),
                             math_ops.exp(math_ops.negative(math_ops.square(x))))


_UNARY_DERIVATIVES = {
    "Acos": lambda x, y: math_ops.negative(math_ops.rsqrt(_one_minus_square(x))),
    "Asin": lambda x, y: math_ops.rsqrt(_one_minus_square(x)),
    "Atan": lambda x, y: math_ops.reciprocal(
        math_ops.add(_scalar(1, x.dtype), math_ops.square(x))),
    "Tan": lambda x, y: math_ops.square(math_ops.reciprocal(math_ops.cos(x))),
    "Sinh": lambda x, y: cosh(x),
    "Cosh": lambda x, y: sinh(x),
    "Asinh": lambda x, y: math_ops.reciprocal(cosh(y)),
    "Acosh": lambda x, y: math_ops.reciprocal(sinh(y)),
    "Atanh": lambda x, y: math_ops.reciprocal(_one_minus_square(x)),
    "Expm1": lambda x, y: math_ops.exp(x),
    "Erf": lambda x, y: _erf_slope(x, 1),
    "Erfc": lambda x, y: _erf_slope(x, -1),
    "Lgamma": lambda x, y: digamma(x),
    "Digamma": lambda x, y: polygamma(_scalar(1, x.dtype), x),
    "BesselI0": lambda x, y: bessel_i1(x),
    "BesselI0e": lambda x, y: math_ops.subtract(bessel_i1e(x),
                                                math_ops.multiply(math_ops.sign(x), y)),
    "BesselI1": lambda x, y: _at_zero_one_half(x, lambda safe: math_ops.subtract(
        bessel_i0(safe), math_ops.realdiv(y, safe))),
    "BesselI1e": lambda x, y: _at_zero_one_half(x, lambda safe: math_ops.subtract(
        bessel_i0e(safe), math_ops.multiply(y, math_ops.add(math_ops.sign(safe),
                                                            math_ops.reciprocal(safe))))),
    # The inverses' slopes are the reciprocals of erf's and the normal density at y.
    "Erfinv": lambda x, y: math_ops.multiply(_scalar(math.sqrt(math.pi) / 2, x.dtype),
                                             math_ops.exp(math_ops.square(y))),
    "Ndtri": lambda x, y: math_ops.multiply(
        _scalar(math.sqrt(2 * math.pi), x.dtype),
        math_ops.exp(math_ops.multiply(math_ops.square(y), _scalar(0.5, x.dtype)))),
}


def _at_zero_one_half(x, slope):
    """`slope` of x, and 1/2 (I1's slope at 0) where x is 0, as TF imputes it; the slope is
    taken at 1 there, so that no NaN is made to be discarded."""
    zero = math_ops.equal(x, array_ops.zeros_like(x))
    safe = array_ops.where(zero, array_ops.ones_like(x), x)
    return array_ops.where(zero, array_ops.fill(array_ops.shape(x), _scalar(0.5, x.dtype)),
                           slope(safe))


def _nonzero_indicator(x):
    """1 where x != 0, else 0, in x's dtype (TF's x*log(y) gradients scale by it)."""
    return math_ops.cast(math_ops.not_equal(x, array_ops.zeros_like(x)), x.dtype)


def _binary_grad(partials):
    """A gradient ``(grad * dx, grad * dy)`` summed back to the broadcast inputs."""

    def gradient(op, grad):
        x, y = op.inputs
        with graph_lib.control_dependencies([grad]):
            partial_x, partial_y = partials(x, y)
            return math_ops._binary_grads(op, math_ops.multiply(grad, partial_x),
                                          math_ops.multiply(grad, partial_y))

    return gradient


def _atan2_partials(y, x):
    # atan2(y, x): d/dy = x / (x^2 + y^2), d/dx = -y / (x^2 + y^2).
    inverse = math_ops.reciprocal(math_ops.add(math_ops.square(x), math_ops.square(y)))
    return math_ops.multiply(x, inverse), math_ops.negative(math_ops.multiply(y, inverse))


def _xlogy_partials(x, y):
    return xlogy(_nonzero_indicator(x), y), xdivy(x, y)


def _xlog1py_partials(x, y):
    return (xlog1py(_nonzero_indicator(x), y),
            xdivy(x, math_ops.add(y, _scalar(1, y.dtype))))


def _xdivy_partials(x, y):
    return xdivy(_nonzero_indicator(x), y), xdivy(math_ops.negative(x), math_ops.square(y))


def _next_after_partials(x, y):
    # nextafter(x, y) moves x by one ulp: TF takes it as the identity in x, constant in y.
    return array_ops.ones_like(x), array_ops.zeros_like(y)


def _mul_no_nan_grad(op, grad):
    x, y = op.inputs
    return math_ops._binary_grads(op, multiply_no_nan(grad, y), multiply_no_nan(x, grad))


def _second_input_grad(op, grad, partial):
    """``[None, grad * partial]``, summed back to the second input's shape: the gradient of a
    binary op that TF differentiates in its second input only."""
    from sessionlib.ops import _grad_util

    first, second = op.inputs
    return [None, _grad_util.reduce_to_input(math_ops.multiply(grad, partial), second, first)]


def _zeta_grad(op, grad):
    # d zeta(x, q) / dq = -x zeta(x + 1, q); TF has no gradient in x.
    x, q = op.inputs
    with graph_lib.control_dependencies([grad]):
        partial_q = math_ops.negative(math_ops.multiply(
            x, zeta(math_ops.add(x, _scalar(1, x.dtype)), q)))
        return _second_input_grad(op, grad, partial_q)


def _polygamma_grad(op, grad):
    # d polygamma(n, x) / dx = polygamma(n + 1, x); n is an integer order, with no gradient.
    n, x = op.inputs
    with graph_lib.control_dependencies([grad]):
        partial_x = polygamma(math_ops.add(n, _scalar(1, n.dtype)), x)
        return _second_input_grad(op, grad, partial_x)


def _gamma_density(a, x):
    # d P(a, x) / dx = x^(a-1) e^-x / Gamma(a), in log space as TF builds it.
    one = _scalar(1, a.dtype)
    return math_ops.exp(math_ops.subtract(
        math_ops.add(math_ops.negative(x), math_ops.multiply(math_ops.subtract(a, one),
                                                             math_ops.log(x))),
        lgamma(a)))


def _incomplete_gamma_grad(sign):
    # TF also differentiates in a, with its IgammaGradA op, which is not implemented here: the
    # gradient in a is None.
    def gradient(op, grad):
        a, x = op.inputs
        with graph_lib.control_dependencies([grad]):
            partial_x = math_ops.multiply(_scalar(sign, x.dtype), _gamma_density(a, x))
            return _second_input_grad(op, grad, partial_x)

    return gradient


def _betainc_grad(op, grad):
    # Only in x, as in TF: x^(a-1) (1-x)^(b-1) / B(a, b), in log space.
    from sessionlib.ops import _grad_util

    a, b, x = op.inputs
    with graph_lib.control_dependencies([grad]):
        log_beta = math_ops.subtract(math_ops.add(lgamma(a), lgamma(b)),
                                     lgamma(math_ops.add(a, b)))
        one = _scalar(1, x.dtype)
        partial_x = math_ops.exp(math_ops.subtract(
            math_ops.add(xlog1py(math_ops.subtract(b, one), math_ops.negative(x)),
                         xlogy(math_ops.subtract(a, one), x)), log_beta))
        return [None, None, _grad_util.reduce_to_input(math_ops.multiply(partial_x, grad), x, a)]


def _betainc_infer(inputs, attrs):
    dtype = _infer.same_dtype("Betainc", inputs, ("a", "b", "x"))
    _infer.check_dtype("Betainc", inputs[0], _DOUBLE_KERNELS, "a")
    attrs["T"] = dtype
    # As in TF: each input is a scalar or all the others' shape (no other broadcasting).
    shape = TensorShape([])
    for tensor in inputs:
        if tensor.shape.rank == 0:
            continue
        if not shape.is_compatible_with(tensor.shape) and shape.rank != 0:
            raise ValueError(f"Shapes of a, b and x are inconsistent: {shape} vs. "
                             f"{tensor.shape} for 'Betainc'")
        shape = tensor.shape if shape.rank == 0 else shape.merge_with(tensor.shape)
    return [(dtype, shape)]


# ---- registrations -------------------------------------------------------------------------

def _predicate_infer(op_type):
    def infer(inputs, attrs):
        _infer.check_dtype(op_type, inputs[0], _FLOATS)
        attrs["T"] = inputs[0].dtype
        return [(dtypes.bool, inputs[0].shape)]

    return infer


for _op_type in ("Acos", "Asin", "Atan", "Tan", "Sinh", "Cosh", "Acosh", "Asinh", "Atanh",
                 "Expm1", "Erf", "Erfc", "Lgamma", "Digamma", "Erfinv", "Ndtri", "BesselI0",
                 "BesselI0e", "BesselI1", "BesselI1e"):
    math_ops._register_unary(_op_type, _op_type.lower(), _FLOATS,
                             gradient=_unary_grad(_UNARY_DERIVATIVES[_op_type]))
# Piecewise constant: TF's gradients of these are None.
for _op_type in ("Floor", "Ceil", "Rint"):
    math_ops._register_unary(_op_type, _op_type.lower(), _FLOATS)
math_ops._register_unary("Round", "round (halves to even)", _ROUND_TYPES)
for _op_type, _description in (("IsNan", "is NaN"), ("IsInf", "is +-inf"),
                               ("IsFinite", "is neither NaN nor +-inf")):
    registry.register_op(_op_type, infer=_predicate_infer(_op_type), kernel=_op_type,
                         num_inputs=1, doc=f"Elementwise: whether x {_description}.",
                         gradient=_NOT_DIFFERENTIABLE)

for _op_type, _allowed, _partials in (
        ("Atan2", _FLOATS, _atan2_partials), ("Xlogy", _FLOATS, _xlogy_partials),
        ("Xlog1py", _FLOATS, _xlog1py_partials), ("Xdivy", _FLOATS, _xdivy_partials),
        ("NextAfter", _DOUBLE_KERNELS, _next_after_partials)):
    math_ops._register_binary(_op_type, _op_type.lower(), _allowed,
                              gradient=_binary_grad(_partials))
math_ops._register_binary("MulNoNan", "mul_no_nan", _FLOATS, gradient=_mul_no_nan_grad)
math_ops._register_binary("TruncateDiv", "truncate_div", dtypes.NUMERIC_DTYPES)
math_ops._register_binary("TruncateMod", "truncate_mod", _TRUNCATE_MOD_TYPES)
math_ops._register_binary("Zeta", "zeta", _DOUBLE_KERNELS, gradient=_zeta_grad)
math_ops._register_binary("Polygamma", "polygamma", _DOUBLE_KERNELS, gradient=_polygamma_grad)
math_ops._register_binary("Igamma", "igamma", _DOUBLE_KERNELS,
                          gradient=_incomplete_gamma_grad(1))
math_ops._register_binary("Igammac", "igammac", _DOUBLE_KERNELS,
                          gradient=_incomplete_gamma_grad(-1))
registry.register_op("Betainc", infer=_betainc_infer, kernel="Betainc", num_inputs=3,
                     gradient=_betainc_grad, doc="The regularized incomplete beta function.")


# ---- public wrappers -------------------------------------------------------------------------

def _unary_wrapper(op_type, public_name, description, allowed="floating"):
    def wrapper(x, name=None):
        return math_ops._unary(op_type, x, name)

    wrapper.__name__ = wrapper.__qualname__ = public_name
    wrapper.__doc__ = f"""{description}, elementwise (op ``{op_type}``).

    Args:
      x: a {allowed} Tensor.
      name: the op name.

    Returns:
      A Tensor of `x`'s shape and dtype.

    Raises:
      TypeError: for another dtype.
    """
    return wrapper


acos = _unary_wrapper("Acos", "acos", "The arc cosine (NaN outside [-1, 1])")
asin = _unary_wrapper("Asin", "asin", "The arc sine (NaN outside [-1, 1])")
atan = _unary_wrapper("Atan", "atan", "The arc tangent")
tan = _unary_wrapper("Tan", "tan", "The tangent")
sinh = _unary_wrapper("Sinh", "sinh", "The hyperbolic sine")
cosh = _unary_wrapper("Cosh", "cosh", "The hyperbolic cosine")
acosh = _unary_wrapper("Acosh", "acosh", "The inverse hyperbolic cosine (NaN below 1)")
asinh = _unary_wrapper("Asinh", "asinh", "The inverse hyperbolic sine")
atanh = _unary_wrapper("Atanh", "atanh", "The inverse hyperbolic tangent (+-inf at +-1)")
expm1 = _unary_wrapper("Expm1", "expm1", "exp(x) - 1, exact near 0")
erf = _unary_wrapper("Erf", "erf", "The error function")
erfc = _unary_wrapper("Erfc", "erfc", "The complementary error function 1 - erf(x)")
lgamma = _unary_wrapper("Lgamma", "lgamma",
                        "log |Gamma(x)| (+inf at 0, -1, -2, ...)")
digamma = _unary_wrapper("Digamma", "digamma",
                         "The digamma function, Gamma'(x) / Gamma(x) (NaN at 0, -1, ...)")
erfinv = _unary_wrapper("Erfinv", "erfinv",
                        "The inverse error function (+-inf at +-1, NaN outside [-1, 1])")
ndtri = _unary_wrapper("Ndtri", "ndtri", "The inverse of the standard normal CDF (-inf at 0, "
                       "inf at 1, NaN outside [0, 1])")
bessel_i0 = _unary_wrapper("BesselI0", "bessel_i0", "The modified Bessel function I0")
bessel_i0e = _unary_wrapper("BesselI0e", "bessel_i0e", "exp(-|x|) I0(x), without overflow")
bessel_i1 = _unary_wrapper("BesselI1", "bessel_i1", "The modified Bessel function I1")
bessel_i1e = _unary_wrapper("BesselI1e", "bessel_i1e", "exp(-|x|) I1(x), without overflow")
floor = _unary_wrapper("Floor", "floor", "The largest integer not above x")
ceil = _unary_wrapper("Ceil", "ceil", "The smallest integer not below x")
rint = _unary_wrapper("Rint", "rint", "The nearest integer, halves to even")


def round(x, name=None):  # noqa: A001 - TF's public name
    """Rounds to the nearest integer, halves to even (banker's rounding; op ``Round``).

    Args:
      x: a floating or signed integer Tensor; integers are returned as they are, as TF does.
      name: the op name.

    Returns:
      A Tensor of `x`'s shape and dtype.
    """
    tensor = x if isinstance(x, Tensor) else graph_lib.convert_to_tensor(x, name="x")
    if tensor.dtype.is_integer:
        return tensor
    return math_ops._unary("Round", tensor, name)


def _predicate_wrapper(op_type, public_name, description):
    def wrapper(x, name=None):
        return math_ops._unary(op_type, x, name)

    wrapper.__name__ = wrapper.__qualname__ = public_name
    wrapper.__doc__ = f"""Whether each element {description} (op ``{op_type}``).

    Args:
      x: a floating Tensor.
      name: the op name.

    Returns:
      A bool Tensor of `x`'s shape.

    Raises:
      TypeError: for a non-floating dtype.
    """
    return wrapper


is_nan = _predicate_wrapper("IsNan", "is_nan", "is NaN")
is_inf = _predicate_wrapper("IsInf", "is_inf", "is +inf or -inf")
is_finite = _predicate_wrapper("IsFinite", "is_finite", "is neither NaN nor infinite")


def atan2(y, x, name=None):
    """The angle of the point (x, y) from the positive x axis, in [-pi, pi] (op ``Atan2``).

    Args:
      y, x: floating Tensors or values of one dtype (numpy broadcasting).
      name: the op name.

    Returns:
      A Tensor of the broadcast shape.

    Raises:
      TypeError: if the dtypes differ or are not floating.
    """
    return math_ops._make_op("Atan2", (y, x), ("y", "x"), name).outputs[0]


def _binary_wrapper(op_type, public_name, description, allowed="floating"):
    def wrapper(x, y, name=None):
        return math_ops._binary(op_type, x, y, name)

    wrapper.__name__ = wrapper.__qualname__ = public_name
    wrapper.__doc__ = f"""{description}, elementwise with numpy broadcasting (op
    ``{op_type}``).

    Args:
      x, y: {allowed} Tensors or values of one dtype.
      name: the op name.

    Returns:
      A Tensor of the inputs' dtype and broadcast shape.

    Raises:
      TypeError: if the dtypes differ or are not allowed.
      ValueError: if the static shapes cannot broadcast.
    """
    return wrapper


truncatediv = _binary_wrapper(
    "TruncateDiv", "truncatediv", "x / y rounded towards zero (an integer y of 0 is an "
    "InvalidArgumentError when the graph runs)", "numeric")
truncatemod = _binary_wrapper(
    "TruncateMod", "truncatemod", "The remainder of truncatediv, with the sign of x (C's "
    "fmod)", "int32, int64, float32 or float64")
xlogy = _binary_wrapper("Xlogy", "xlogy", "x * log(y), and 0 where x == 0")
xlog1py = _binary_wrapper("Xlog1py", "xlog1py", "x * log1p(y), and 0 where x == 0")
xdivy = _binary_wrapper("Xdivy", "xdivy", "x / y, and 0 where x == 0")
floor_div = _binary_wrapper(
    "FloorDiv", "floor_div", "floor(x / y) (TF 1's tf.floor_div: the FloorDiv op itself; an "
    "integer y of 0 is an InvalidArgumentError when the graph runs)", "numeric")
multiply_no_nan = _binary_wrapper("MulNoNan", "multiply_no_nan",
                                  "x * y, and 0 where y == 0 even if x is NaN or infinite")


def nextafter(x1, x2, name=None):
    """The next representable value after `x1` in the direction of `x2` (op ``NextAfter``).

    Args:
      x1, x2: float32 or float64 Tensors or values of one dtype (numpy broadcasting).
      name: the op name.

    Returns:
      A Tensor of the broadcast shape.

    Raises:
      TypeError: if the dtypes differ or are not float32/float64.
    """
    return math_ops._make_op("NextAfter", (x1, x2), ("x1", "x2"), name).outputs[0]


def zeta(x, q, name=None):
    """The Hurwitz zeta function ``sum_k (k + q)^-x`` (op ``Zeta``).

    Args:
      x: a float32/float64 Tensor, the exponent (NaN below 1, inf at 1).
      q: a Tensor of `x`'s dtype, the shift (numpy broadcasting).
      name: the op name.

    Returns:
      A Tensor of the broadcast shape.

    Raises:
      TypeError: if the dtypes differ or are not float32/float64.
    """
    return math_ops._make_op("Zeta", (x, q), ("x", "q"), name).outputs[0]


def polygamma(a, x, name=None):
    """The polygamma function: the `a`-th derivative of digamma at `x` (op ``Polygamma``).

    Args:
      a: a float32/float64 Tensor of orders; NaN where it is not a non-negative integer.
      x: a Tensor of `a`'s dtype (numpy broadcasting).
      name: the op name.

    Returns:
      A Tensor of the broadcast shape.

    Raises:
      TypeError: if the dtypes differ or are not float32/float64.
    """
    return math_ops._make_op("Polygamma", (a, x), ("a", "x"), name).outputs[0]


def igamma(a, x, name=None):
    """The regularized lower incomplete gamma function P(a, x) (op ``Igamma``).

    Its gradient is TF's in `x`; TF's gradient in `a` (op IgammaGradA) is not implemented, so
    `tf.gradients` gives None for `a`.

    Args:
      a: a float32/float64 Tensor, positive (NaN elsewhere).
      x: a Tensor of `a`'s dtype, non-negative (numpy broadcasting).
      name: the op name.

    Returns:
      A Tensor of the broadcast shape.

    Raises:
      TypeError: if the dtypes differ or are not float32/float64.
    """
    return math_ops._make_op("Igamma", (a, x), ("a", "x"), name).outputs[0]


def igammac(a, x, name=None):
    """The regularized upper incomplete gamma function Q(a, x) = 1 - P(a, x) (op
    ``Igammac``); arguments, gradient and errors as for `igamma`."""
    return math_ops._make_op("Igammac", (a, x), ("a", "x"), name).outputs[0]


def betainc(a, b, x, name=None):
    """The regularized incomplete beta function I_x(a, b) (op ``Betainc``), with TF's
    gradient (in `x` only).

    Args:
      a, b: positive float32/float64 Tensors (NaN elsewhere).
      x: a Tensor of their dtype, in [0, 1].
      name: the op name.

    Returns:
      A Tensor of the inputs' shape: each input is a scalar or has that shape, as in TF.

    Raises:
      TypeError: if the dtypes differ or are not float32/float64.
      ValueError: for shapes that are neither scalars nor equal.
    """
    return math_ops._make_op("Betainc", (a, b, x), ("a", "b", "x"), name).outputs[0]


# ---- composites --------------------------------------------------------------------------------

def log_sigmoid(x, name=None):
    """``log(1 / (1 + exp(-x)))`` without overflow: ``-softplus(-x)``, as TF builds it.

    Args:
      x: a floating Tensor.
      name: the name scope (default 'LogSigmoid').

    Returns:
      A Tensor of `x`'s shape and dtype.
    """
    from sessionlib.ops import nn_activation_ops

    graph = math_ops._find_graph((x,))
    with graph.as_default(), graph.name_scope(name or "LogSigmoid") as scope:
        tensor = graph_lib.convert_to_tensor(x, name="x")
        return math_ops.negative(nn_activation_ops.softplus(math_ops.negative(tensor)),
                                 name=scope)


def logical_xor(x, y, name="LogicalXor"):
    """Elementwise exclusive or of two bool Tensors, built as TF does:
    ``(x or y) and not (x and y)``.

    Args:
      x, y: bool Tensors or values (numpy broadcasting).
      name: the name scope.

    Returns:
      A bool Tensor of the broadcast shape.

    Raises:
      TypeError: for non-bool inputs.
    """
    graph = math_ops._find_graph((x, y))
    with graph.as_default(), graph.name_scope(name or "LogicalXor") as scope:
        return math_ops.logical_and(math_ops.logical_or(x, y),
                                    math_ops.logical_not(math_ops.logical_and(x, y)),
                                    name=scope)


def scalar_mul(scalar, x, name=None):
    """Multiplies `x` by a scalar (op ``Mul``).

    Args:
      scalar: a number or a scalar Tensor of `x`'s dtype.
      x: a Tensor.
      name: the name scope (default 'scalar_mul').

    Returns:
      ``scalar * x``, of `x`'s shape and dtype.

    Raises:
      ValueError: if `scalar` is not a scalar.
    """
    graph = math_ops._find_graph((x, scalar))
    with graph.as_default(), graph.name_scope(name or "scalar_mul") as scope:
        tensor = graph_lib.convert_to_tensor(x, name="x")
        factor = graph_lib.convert_to_tensor(scalar, dtype=tensor.dtype, name="scalar")
        if factor.shape.rank is not None and factor.shape.rank != 0:
            raise ValueError(f"Only scalar multiply works, got shape {factor.shape}")
        return math_ops.multiply(factor, tensor, name=scope)


def reciprocal_no_nan(x, name=None):
    """``1 / x``, and 0 where x == 0 (ops ``DivNoNan``), as ``tf.math.reciprocal_no_nan``.

    Args:
      x: a floating Tensor.
      name: the name scope (default 'reciprocal_no_nan').

    Returns:
      A Tensor of `x`'s shape and dtype.
    """
    from sessionlib.ops import metrics_ops

    graph = math_ops._find_graph((x,))
    with graph.as_default(), graph.name_scope(name or "reciprocal_no_nan") as scope:
        tensor = graph_lib.convert_to_tensor(x, name="x")
        return metrics_ops.div_no_nan(_scalar(1, tensor.dtype), tensor, name=scope)


def polyval(coeffs, x, name=None):
    """The polynomial ``coeffs[0] * x^(n-1) + ... + coeffs[n-1]`` at `x`, by Horner's rule.

    Args:
      coeffs: a list of Tensors or numbers, the highest power first.
      x: a Tensor.
      name: the name scope (default 'polyval').

    Returns:
      A Tensor of the broadcast shape of `x` and the coefficients; zeros like `x` for no
      coefficients.

    Raises:
      ValueError: if `coeffs` is not a list.
    """
    if not isinstance(coeffs, (list, tuple)):
        raise ValueError(f"Argument coeffs must be list type, found {type(coeffs)}.")
    graph = math_ops._find_graph([x] + list(coeffs))
    with graph.as_default(), graph.name_scope(name or "polyval"):
        tensor = graph_lib.convert_to_tensor(x, name="x")
        if not coeffs:
            return array_ops.zeros_like(tensor)
        coefficients = [graph_lib.convert_to_tensor(c, dtype=tensor.dtype, name="coeff")
                        for c in coeffs]
        value = coefficients[0]
        for coefficient in coefficients[1:]:
            value = math_ops.add(coefficient, math_ops.multiply(value, tensor))
        return value



def lbeta(x, name=None):
    """The log of the multivariate beta function over the last axis of `x`, as TF builds it:
    ``sum(lgamma(x), -1) - lgamma(sum(x, -1))``.

    Args:
      x: a floating Tensor of rank >= 1.
      name: the name scope (default 'lbeta').

    Returns:
      A Tensor of `x`'s shape without its last axis.
    """
    graph = math_ops._find_graph((x,))
    with graph.as_default(), graph.name_scope(name or "lbeta"):
        tensor = graph_lib.convert_to_tensor(x, name="x")
        log_product = math_ops.reduce_sum(lgamma(tensor), axis=[-1])
        return math_ops.subtract(log_product,
                                 lgamma(math_ops.reduce_sum(tensor, axis=[-1])))


def erfcinv(x, name=None):
    """The inverse of erfc, as TF builds it: ``-ndtri(x / 2) / sqrt(2)``.

    Args:
      x: a floating Tensor (inf at 0, -inf at 2, NaN outside [0, 2]).
      name: the name scope (default 'erfcinv').

    Returns:
      A Tensor of `x`'s shape and dtype.
    """
    graph = math_ops._find_graph((x,))
    with graph.as_default(), graph.name_scope(name or "erfcinv"):
        tensor = graph_lib.convert_to_tensor(x, name="x")
        return math_ops.multiply(ndtri(math_ops.multiply(tensor, _scalar(0.5, tensor.dtype))),
                                 _scalar(-math.sqrt(0.5), tensor.dtype))
