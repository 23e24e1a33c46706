"""Elementwise kernels in plain numpy: the living spec of ``sessionlib._core.elementwise``.

Every kernel here states TF's semantics as directly as numpy allows; the Cython module must
give the same results (``tests/test_kernels_parity.py`` checks every kernel and dtype). Favour
clarity over speed in this file.

Conventions shared by all kernels:
  * inputs are arrays (anything else goes through ``np.asarray``), possibly 0-d, read-only or
    non-contiguous; binary kernels require both inputs to have the same dtype;
  * the result is a new C-contiguous array, 0-d for 0-d results (never a numpy scalar);
  * shapes broadcast like numpy; incompatible shapes raise InvalidArgumentError in TF's words;
  * an unsupported dtype raises UnimplementedError naming the kernel and the dtype;
  * numpy never warns: floats give inf/nan like TF, integers wrap around;
  * integer division or modulo by zero and negative integer powers raise InvalidArgumentError.

The Cython kernels run float16 (which has no C type) through these: this module hands itself
to ``sessionlib._core.elementwise`` when imported (the compiled core never imports the runtime).
"""

import sys

import numpy as np

from sessionlib import errors
from sessionlib._core import elementwise as _fast_kernels

__all__ = [
    "add", "sub", "mul", "real_div", "floor_div", "floor_mod", "pow", "maximum", "minimum",
    "squared_difference",
    "equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
    "logical_and", "logical_or", "logical_not",
    "neg", "abs", "sign", "square", "sqrt", "rsqrt", "exp", "log", "log1p", "sin", "cos", "tanh",
    "sigmoid", "relu", "reciprocal",
    "cast",
    "SUPPORTED_DTYPES", "set_num_threads", "get_num_threads",
]

_FLOATS = (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64))
_INTEGERS = (
    np.dtype(np.int8), np.dtype(np.int16), np.dtype(np.int32), np.dtype(np.int64),
    np.dtype(np.uint8),
)
_NUMERIC = _FLOATS + _INTEGERS
_BOOL = (np.dtype(np.bool_),)
_ALL = _NUMERIC + _BOOL

# Kernel name -> the dtypes it accepts (TF's registrations, restricted to sessionlib's dtypes).
SUPPORTED_DTYPES = {
    "add": _NUMERIC, "sub": _NUMERIC, "mul": _NUMERIC, "real_div": _FLOATS,
    "floor_div": _NUMERIC, "floor_mod": _NUMERIC, "pow": _NUMERIC,
    "maximum": _NUMERIC, "minimum": _NUMERIC, "squared_difference": _NUMERIC,
    "equal": _ALL, "not_equal": _ALL,
    "less": _NUMERIC, "less_equal": _NUMERIC, "greater": _NUMERIC, "greater_equal": _NUMERIC,
    "logical_and": _BOOL, "logical_or": _BOOL, "logical_not": _BOOL,
    "neg": _NUMERIC, "abs": _NUMERIC, "sign": _NUMERIC, "square": _NUMERIC, "relu": _NUMERIC,
    "sqrt": _FLOATS, "rsqrt": _FLOATS, "exp": _FLOATS, "log": _FLOATS, "log1p": _FLOATS,
    "sin": _FLOATS, "cos": _FLOATS, "tanh": _FLOATS, "sigmoid": _FLOATS, "reciprocal": _FLOATS,
    "cast": _ALL,
}

_num_threads = 1


def set_num_threads(n):
    """Sets the kernel thread count. Kept for interface parity; numpy ignores it."""
    global _num_threads
    n = int(n)
    if n < 1:
        raise ValueError(f"the thread count must be at least 1, got {n}")
    _num_threads = n


def get_num_threads():
    """Returns the thread count set by set_num_threads."""
    return _num_threads


# ---------------------------------------------------------------------------------------------
# Checks and plumbing.

def _native(dtype):
    """The dtype in native byte order: '>f4' and '<f4' are the same tensor dtype."""
    return dtype.newbyteorder("=")


def _check_supported(name, dtype):
    if _native(dtype) not in SUPPORTED_DTYPES[name]:
        supported = ", ".join(d.name for d in SUPPORTED_DTYPES[name])
        raise errors.UnimplementedError(
            None, None, f"{name}: no kernel for dtype {dtype.name} (supported: {supported})")


def _shape_string(shape):
    return "[" + ",".join(str(dim) for dim in shape) + "]"


def _binary_inputs(name, x, y):
    """Validates a binary kernel's inputs; returns (x, y, broadcast output shape)."""
    x, y = np.asarray(x), np.asarray(y)
    if _native(x.dtype) != _native(y.dtype):
        raise errors.InvalidArgumentError(
            None, None,
            f"{name}: both inputs must have the same dtype, got {x.dtype.name} and "
            f"{y.dtype.name}")
    _check_supported(name, x.dtype)
    try:
        shape = np.broadcast_shapes(x.shape, y.shape)
    except ValueError:
        raise errors.InvalidArgumentError(
            None, None,
            f"Incompatible shapes: {_shape_string(x.shape)} vs. {_shape_string(y.shape)}",
        ) from None
    return x, y, shape


def _result(value, shape, dtype):
    """A new C-contiguous array of `shape` and `dtype` holding `value` (array or scalar)."""
    out = np.empty(shape, dtype=_native(dtype))
    np.copyto(out, value, casting="equiv")  # catches any accidental dtype promotion
    return out


def _binary(name, x, y, compute, bool_output=False):
    x, y, shape = _binary_inputs(name, x, y)
    with np.errstate(all="ignore"):
        value = compute(x, y)
    return _result(value, shape, np.dtype(np.bool_) if bool_output else x.dtype)


def _unary(name, x, compute):
    x = np.asarray(x)
    _check_supported(name, x.dtype)
    with np.errstate(all="ignore"):
        value = compute(x)
    return _result(value, x.shape, x.dtype)


def _is_integer(dtype):
    return dtype.kind in "iu"


def _check_integer_divisor(x, y, shape):
    # Only divisors that reach an output element count; with an empty output none do.
    if _is_integer(y.dtype) and np.prod(shape) > 0 and np.any(y == 0):
        raise errors.InvalidArgumentError(None, None, "Integer division by zero")


# ---------------------------------------------------------------------------------------------
# Binary arithmetic.

def add(x, y):
    """x + y, broadcasting; integers wrap."""
    return _binary("add", x, y, np.add)


def sub(x, y):
    """x - y, broadcasting; integers wrap."""
    return _binary("sub", x, y, np.subtract)


def mul(x, y):
    """x * y, broadcasting; integers wrap."""
    return _binary("mul", x, y, np.multiply)


def real_div(x, y):
    """x / y for floats (TF RealDiv); division by zero gives inf or nan."""
    return _binary("real_div", x, y, np.true_divide)


def floor_div(x, y):
    """floor(x / y) (TF FloorDiv); an integer divisor of zero raises InvalidArgumentError.

    For floats TF computes floor(x / y), which differs from Python's // (numpy's
    floor_divide) in rounding corner cases such as 1 // 0.1 (10 here, 9 in Python).
    """
    x, y, shape = _binary_inputs("floor_div", x, y)
    _check_integer_divisor(x, y, shape)
    with np.errstate(all="ignore"):
        if _is_integer(x.dtype):
            value = np.floor_divide(x, y)   # floors, and MIN // -1 wraps to MIN
        else:
            value = np.floor(np.true_divide(x, y))
    return _result(value, shape, x.dtype)


def floor_mod(x, y):
    """x mod y with the sign of y (TF FloorMod, Python's %); integer y == 0 raises."""
    x, y, shape = _binary_inputs("floor_mod", x, y)
    _check_integer_divisor(x, y, shape)
    with np.errstate(all="ignore"):
        value = np.remainder(x, y)
    return _result(value, shape, x.dtype)


def pow(x, y):
    """x ** y; integers wrap, and a negative integer exponent raises InvalidArgumentError."""
    x, y, shape = _binary_inputs("pow", x, y)
    if _is_integer(x.dtype) and np.prod(shape) > 0 and np.any(y < 0):
        raise errors.InvalidArgumentError(
            None, None, "Integers to negative integer powers are not allowed")
    if not _is_integer(x.dtype):
        # TF's Pow is C's pow(). numpy swaps in sqrt() when the exponent is a broadcast 0.5,
        # which differs at -inf and -0.0; a full-size exponent keeps numpy on pow().
        y = np.ascontiguousarray(np.broadcast_to(y, shape))
    with np.errstate(all="ignore"):
        value = np.power(x, y)
    return _result(value, shape, x.dtype)


def maximum(x, y):
    """Elementwise max; NaN in either input gives NaN."""
    return _binary("maximum", x, y, np.maximum)


def minimum(x, y):
    """Elementwise min; NaN in either input gives NaN."""
    return _binary("minimum", x, y, np.minimum)


def squared_difference(x, y):
    """(x - y) * (x - y); integers wrap."""
    def compute(a, b):
        difference = np.subtract(a, b)
        return np.multiply(difference, difference)
    return _binary("squared_difference", x, y, compute)


# ---------------------------------------------------------------------------------------------
# Comparisons and logical ops (bool output).

def equal(x, y):
    """x == y as bool."""
    return _binary("equal", x, y, np.equal, bool_output=True)


def not_equal(x, y):
    """x != y as bool."""
    return _binary("not_equal", x, y, np.not_equal, bool_output=True)


def less(x, y):
    """x < y as bool."""
    return _binary("less", x, y, np.less, bool_output=True)


def less_equal(x, y):
    """x <= y as bool."""
    return _binary("less_equal", x, y, np.less_equal, bool_output=True)


def greater(x, y):
    """x > y as bool."""
    return _binary("greater", x, y, np.greater, bool_output=True)


def greater_equal(x, y):
    """x >= y as bool."""
    return _binary("greater_equal", x, y, np.greater_equal, bool_output=True)


def logical_and(x, y):
    """x and y, on bool tensors."""
    return _binary("logical_and", x, y, np.logical_and, bool_output=True)


def logical_or(x, y):
    """x or y, on bool tensors."""
    return _binary("logical_or", x, y, np.logical_or, bool_output=True)


def logical_not(x):
    """not x, on a bool tensor."""
    return _unary("logical_not", x, np.logical_not)


# ---------------------------------------------------------------------------------------------
# Unary math.

def neg(x):
    """-x; the minimum integer wraps to itself."""
    return _unary("neg", x, np.negative)


def abs(x):
    """|x|; the minimum integer wraps to itself."""
    return _unary("abs", x, np.absolute)


def sign(x):
    """-1, 0 or 1 by the sign of x; NaN stays NaN."""
    return _unary("sign", x, np.sign)


def square(x):
    """x * x; integers wrap."""
    return _unary("square", x, lambda a: np.multiply(a, a))


def sqrt(x):
    """Square root (floats)."""
    return _unary("sqrt", x, np.sqrt)


def rsqrt(x):
    """1 / sqrt(x) (floats)."""
    return _unary("rsqrt", x, lambda a: 1 / np.sqrt(a))


def exp(x):
    """e ** x (floats)."""
    return _unary("exp", x, np.exp)


def log(x):
    """Natural logarithm (floats)."""
    return _unary("log", x, np.log)


def log1p(x):
    """log(1 + x), accurate near 0 (floats)."""
    return _unary("log1p", x, np.log1p)


def sin(x):
    """Sine (floats)."""
    return _unary("sin", x, np.sin)


def cos(x):
    """Cosine (floats)."""
    return _unary("cos", x, np.cos)


def tanh(x):
    """Hyperbolic tangent (floats)."""
    return _unary("tanh", x, np.tanh)


def sigmoid(x):
    """1 / (1 + exp(-x)), computed without overflow (floats)."""
    def compute(a):
        # exp of a non-positive number never overflows; the limits come out exactly 0 and 1.
        e = np.exp(-np.absolute(a))
        return np.where(a >= 0, 1 / (1 + e), e / (1 + e))
    return _unary("sigmoid", x, compute)


def relu(x):
    """max(x, 0); NaN stays NaN."""
    return _unary("relu", x, lambda a: np.maximum(a, np.zeros((), a.dtype)))


def reciprocal(x):
    """1 / x (floats)."""
    return _unary("reciprocal", x, lambda a: 1 / a)


# ---------------------------------------------------------------------------------------------
# Conversion.

def cast(x, dtype):
    """x converted to `dtype` (TF Cast): floats truncate toward zero, to-bool is x != 0.

    Out-of-range float -> int conversions are unspecified, as in TF.
    """
    x = np.asarray(x)
    target = _native(np.dtype(dtype))
    _check_supported("cast", x.dtype)
    _check_supported("cast", target)
    with np.errstate(all="ignore"):
        return x.astype(target, order="C")  # astype(bool) is x != 0, NaN included


# ---------------------------------------------------------------------------------------------
# The fast kernels delegate float16 to these (see the module docstring).

_fast_kernels.set_fallback(sys.modules[__name__])
