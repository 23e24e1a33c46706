"""Kernels of the elementwise math ops of ``sessionlib/ops/special_math_ops.py``: inverse and
hyperbolic trigonometry, rounding, float classification, truncating division, the x*log(y)
family and the special functions (erf, erfc, lgamma, digamma, erfinv, ndtri, zeta,
polygamma, igamma, igammac, betainc, the modified Bessel functions I0 and I1).

Design. Each kernel is registered under its op type with the unary, binary or generic calling
convention. Where numpy has the function (arccos, expm1, rint, fmod, ...) the numpy kernel is
both the spec and the fast kernel. numpy has none of the special functions: their spec is plain
Python ``math`` over the elements (slow, obviously right; digamma, erfinv, ndtri, zeta, the
incomplete gamma and beta functions, which ``math`` lacks, are the series, fractions and
iterations described in ``sessionlib/_core/special.pyx``, written again in Python), and the
fast kernel is that Cython module. Both evaluate in double precision and round once to the
tensor's dtype, so they agree exactly, except in float64 where lgamma is used (lgamma, igamma,
igammac, betainc): CPython's math.lgamma is its own, not libm's, and the two differ in the last
bits. Graph-time dtype checks are the ops'; a kernel trusts its dtype.
"""

import math

import numpy as np

from sessionlib import errors
from sessionlib._core import special as _special
from sessionlib.runtime.kernel_table import KIND_BINARY, KIND_UNARY, register_kernel

# ---- numpy functions ----------------------------------------------------------------------


def _numpy_unary(function):
    def kernel(x):
        with np.errstate(all="ignore"):
            return np.asarray(function(x), dtype=x.dtype)

    return kernel


def _numpy_predicate(function):
    def kernel(x):
        return np.asarray(function(x), dtype=np.bool_)

    return kernel


def _round_half_to_even(x):
    # np.round rounds halves to even, as TF's Round does; integers are already round.
    return np.array(x) if x.dtype.kind in "iu" else np.round(x)


_NUMPY_UNARY = {
    "Acos": np.arccos, "Asin": np.arcsin, "Atan": np.arctan, "Tan": np.tan, "Sinh": np.sinh,
    "Cosh": np.cosh, "Acosh": np.arccosh, "Asinh": np.arcsinh, "Atanh": np.arctanh,
    "Expm1": np.expm1, "Floor": np.floor, "Ceil": np.ceil, "Rint": np.rint,
    "Round": _round_half_to_even,
}
_NUMPY_PREDICATES = {"IsNan": np.isnan, "IsInf": np.isinf, "IsFinite": np.isfinite}

for _name, _function in _NUMPY_UNARY.items():
    register_kernel(_name, reference=_numpy_unary(_function), kind=KIND_UNARY)
for _name, _function in _NUMPY_PREDICATES.items():
    register_kernel(_name, reference=_numpy_predicate(_function), kind=KIND_UNARY)


def _broadcast(x, y):
    try:
        return np.broadcast_arrays(x, y)
    except ValueError:
        raise errors.InvalidArgumentError(
            None, None, f"Incompatible shapes: {list(np.shape(x))} vs. {list(np.shape(y))}"
        ) from None


def _numpy_binary(function):
    def kernel(x, y):
        x, y = _broadcast(x, y)
        with np.errstate(all="ignore"):
            return np.asarray(function(x, y), dtype=x.dtype)

    return kernel


def _check_integer_divisor(x, y):
    if x.dtype.kind in "iu" and x.size and np.any(y == 0):
        raise errors.InvalidArgumentError(None, None, "Integer division by zero")


def _truncate_div(x, y):
    _check_integer_divisor(x, y)
    if x.dtype.kind == "f":
        return np.trunc(x / y)
    # Floor division, then one step towards zero where a remainder and the signs disagree.
    # The smallest integer over -1 wraps to itself, as in TF.
    quotient = np.floor_divide(x, y)
    if x.dtype.kind == "i":
        quotient = quotient + ((np.fmod(x, y) != 0) & ((x < 0) != (y < 0))).astype(x.dtype)
    return quotient


def _truncate_mod(x, y):
    _check_integer_divisor(x, y)
    # fmod is C's remainder: the sign of x, truncated towards zero.
    return np.fmod(x, y)


def _where_x_is_zero(function):
    # TF defines x * f(y) as 0 wherever x is 0, even where f(y) is inf or NaN.
    def compute(x, y):
        return np.where(x == 0, np.zeros_like(x), x * function(y))

    return compute


_NUMPY_BINARY = {
    "Atan2": np.arctan2,
    "TruncateDiv": _truncate_div,
    "TruncateMod": _truncate_mod,
    "Xlogy": _where_x_is_zero(np.log),
    "Xlog1py": _where_x_is_zero(np.log1p),
    "Xdivy": lambda x, y: np.where(x == 0, np.zeros_like(x), x / y),
    "NextAfter": np.nextafter,
    # 0 wherever y is 0, even where x is inf or NaN.
    "MulNoNan": lambda x, y: np.where(y == 0, np.zeros_like(x), x * y),
}

for _name, _function in _NUMPY_BINARY.items():
    register_kernel(_name, reference=_numpy_binary(_function), kind=KIND_BINARY)


# ---- special functions: the Python spec ------------------------------------------------------

def _lgamma(value):
    try:
        return math.lgamma(value)
    except ValueError:
        return math.inf  # a pole: 0, -1, -2, ... (Python raises; C and TF give +inf)


def _digamma(value):
    if math.isnan(value) or value == -math.inf or (value <= 0 and value == math.floor(value)):
        return math.nan
    result = 0.0
    if value < 0:
        result = -math.pi / math.tan(math.pi * (value - math.floor(value)))
        value = 1.0 - value
    while value < 10:
        result -= 1.0 / value
        value += 1.0
    if value == math.inf:
        return math.inf
    inverse_square = 1.0 / (value * value)
    return result + math.log(value) - 0.5 / value - inverse_square * (
        1.0 / 12 - inverse_square * (1.0 / 120 - inverse_square * (
            1.0 / 252 - inverse_square * (1.0 / 240 - inverse_square * (
                1.0 / 132 - inverse_square * (691.0 / 32760 - inverse_square / 12))))))


_ZETA_TERMS = (12.0, -720.0, 30240.0, -1209600.0, 47900160.0, -1.8924375803183791606e9,
               7.47242496e10, -2.950130727918164224e12, 1.1646782814350067249e14,
               -4.5979787224074726105e15, 1.8152105401943546773e17, -7.1661652561756670113e18)
_EPSILON = 1.1102230246251565e-16


def _zeta(x, q):
    if math.isnan(x) or math.isnan(q):
        return math.nan
    if x == 1:
        return math.inf
    if x < 1:
        return math.nan
    if q <= 0:
        if q == math.floor(q):
            return math.inf
        if x != math.floor(x):
            return math.nan
    total = _power(q, -x)
    a, term, count = q, 0.0, 0
    while count < 9 or a <= 9:
        count += 1
        a += 1.0
        term = _power(a, -x)
        total += term
        if abs(term / total) < _EPSILON:
            return total
    width = a
    total += term * width / (x - 1)
    total -= 0.5 * term
    factor, k = 1.0, 0.0
    for denominator in _ZETA_TERMS:
        factor *= x + k
        term /= width
        correction = factor * term / denominator
        total += correction
        if abs(correction / total) < _EPSILON:
            return total
        k += 1.0
        factor *= x + k
        term /= width
        k += 1.0
    return total


def _power(base, exponent):
    try:
        return math.pow(base, exponent)
    except OverflowError:
        # C's pow keeps the sign: a negative base to an odd integer power overflows to -inf.
        return -math.inf if base < 0 and exponent % 2 == 1 else math.inf


def _float_factorial(n):
    # n! as a product of doubles, rounded at each step exactly as the compiled kernel does.
    if n > 170:
        return math.inf  # beyond the largest double
    factorial, k = 1.0, 2.0
    while k <= n:
        factorial *= k
        k += 1.0
    return factorial


def _polygamma(n, x):
    if math.isnan(n) or n < 0 or n != math.floor(n):
        return math.nan
    if n == 0:
        return _digamma(x)
    factorial = _float_factorial(n)
    sign = 1.0 if n % 2 == 1 else -1.0
    return sign * factorial * _zeta(n + 1, x)


_WINITZKI = 0.147


def _winitzki_guess(log_one_minus_square):
    t = 2 / (math.pi * _WINITZKI) + 0.5 * log_one_minus_square
    return math.sqrt(math.sqrt(t * t - log_one_minus_square / _WINITZKI) - t)


def _erfinv_central(x):
    # |x| <= 1/2: Newton on erf(y) = x.
    if x == 0:
        return 0.0
    y = math.copysign(_winitzki_guess(math.log1p(-x * x)), x)
    for _ in range(8):
        step = (math.erf(y) - x) / (2 / math.sqrt(math.pi) * math.exp(-y * y))
        y -= step
        if abs(step) <= _EPSILON * abs(y):
            break
    return y


def _erfcinv(c):
    if math.isnan(c) or not 0 <= c <= 2:
        return math.nan
    if c == 0:
        return math.inf
    if c == 2:
        return -math.inf
    if 0.5 <= c <= 1.5:
        return _erfinv_central(1.0 - c)
    if c > 1.5:
        return -_erfcinv(2.0 - c)
    log_c = math.log(c)
    y = _winitzki_guess(log_c + math.log(2.0 - c))
    for _ in range(12):
        value = math.erfc(y)
        if value == 0:
            break
        # Newton on log erfc(y) = log c.
        step = (math.log(value) - log_c) * value / (-2 / math.sqrt(math.pi) * math.exp(-y * y))
        y -= step
        if abs(step) <= _EPSILON * abs(y):
            break
    return y


def _erfinv(x):
    if math.isnan(x) or not -1 <= x <= 1:
        return math.nan
    if abs(x) <= 0.5:
        return _erfinv_central(x)
    return _erfcinv(1.0 - x) if x > 0 else -_erfcinv(1.0 + x)


def _ndtri(p):
    if math.isnan(p) or not 0 <= p <= 1:
        return math.nan
    y = _erfcinv(2.0 * p)
    return -math.sqrt(2) * y if y != 0 else 0.0


_TINY = 1e-300
_MAX_TERMS = 100000


def _lentz_floor(value):
    return _TINY if abs(value) < _TINY else value


def _gamma_series(a, x):
    denominator, term = a, 1.0 / a
    total = term
    for _ in range(_MAX_TERMS):
        denominator += 1.0
        term *= x / denominator
        total += term
        if abs(term) < abs(total) * _EPSILON:
            break
    return total * math.exp(-x + a * math.log(x) - _lgamma(a))


def _gamma_fraction(a, x):
    b = x + 1.0 - a
    c, d = 1.0 / _TINY, 1.0 / b
    h = d
    for i in range(1, _MAX_TERMS):
        numerator = -i * (i - a)
        b += 2.0
        d = 1.0 / _lentz_floor(numerator * d + b)
        c = _lentz_floor(b + numerator / c)
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPSILON:
            break
    return math.exp(-x + a * math.log(x) - _lgamma(a)) * h


def _incomplete_gamma(upper):
    def function(a, x):
        if math.isnan(a) or math.isnan(x) or a <= 0 or x < 0:
            return math.nan
        if x == 0 or a == math.inf:
            lower = 0.0
        elif x == math.inf:
            lower = 1.0
        elif x < a + 1:
            lower = _gamma_series(a, x)
        else:
            upper_value = _gamma_fraction(a, x)
            return upper_value if upper else 1.0 - upper_value
        return 1.0 - lower if upper else lower

    return function


def _beta_fraction(a, b, x):
    c = 1.0
    d = 1.0 / _lentz_floor(1.0 - (a + b) * x / (a + 1.0))
    h = d
    for m in range(1, _MAX_TERMS):
        m2 = 2.0 * m
        numerator = m * (b - m) * x / ((a - 1.0 + m2) * (a + m2))
        d = 1.0 / _lentz_floor(1.0 + numerator * d)
        c = _lentz_floor(1.0 + numerator / c)
        h *= d * c
        numerator = -(a + m) * (a + b + m) * x / ((a + m2) * (a + 1.0 + m2))
        d = 1.0 / _lentz_floor(1.0 + numerator * d)
        c = _lentz_floor(1.0 + numerator / c)
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPSILON:
            break
    return h


def _betainc(a, b, x):
    if any(math.isnan(v) for v in (a, b, x)) or a <= 0 or b <= 0 or not 0 <= x <= 1:
        return math.nan
    if x in (0.0, 1.0):
        return x
    log_front = (_lgamma(a + b) - _lgamma(a) - _lgamma(b) + a * math.log(x)
                 + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_fraction(b, a, 1.0 - x) / b


def _bessel_i_series(order, x):
    quarter_square = 0.25 * x * x
    term = 0.5 * x if order else 1.0
    total = term
    for k in range(1, 500):
        term *= quarter_square / (k * (k + order))
        total += term
        if term < total * _EPSILON:
            break
    return total


def _bessel_i_asymptotic(order, x):
    four_nu_squared = 4.0 * order * order
    term = total = 1.0
    for k in range(1, 200):
        odd = 2.0 * k - 1.0
        term *= -(four_nu_squared - odd * odd) / (8.0 * k * x)
        total += term
        if abs(term) < abs(total) * _EPSILON:
            break
    return total / math.sqrt(2.0 * math.pi * x)


def _bessel_i(order, scaled):
    def function(x):
        magnitude = abs(x)
        if math.isnan(x):
            return math.nan
        if magnitude == math.inf:
            value = 0.0 if scaled else math.nan
        elif magnitude <= 30.0:
            value = _bessel_i_series(order, magnitude)
            if scaled:
                value *= math.exp(-magnitude)
        else:
            value = _bessel_i_asymptotic(order, magnitude)
            if not scaled:
                try:
                    value = math.exp(magnitude + math.log(value))
                except OverflowError:
                    value = math.inf
        return -value if order and x < 0 else value

    return function


_PYTHON_UNARY = {"Erf": math.erf, "Erfc": math.erfc, "Lgamma": _lgamma, "Digamma": _digamma,
                 "Erfinv": _erfinv, "Ndtri": _ndtri, "BesselI0": _bessel_i(0, False),
                 "BesselI0e": _bessel_i(0, True), "BesselI1": _bessel_i(1, False),
                 "BesselI1e": _bessel_i(1, True)}
# The compiled module's names of the kernels whose op type is not the name capitalized.
_SNAKE_NAMES = {"BesselI0": "bessel_i0", "BesselI0e": "bessel_i0e", "BesselI1": "bessel_i1",
                "BesselI1e": "bessel_i1e"}
_PYTHON_BINARY = {"Zeta": _zeta, "Polygamma": _polygamma, "Igamma": _incomplete_gamma(False),
                  "Igammac": _incomplete_gamma(True)}


def _rounded(values, dtype, shape):
    # Values beyond float16's range become +-inf, as a cast in TF does: no warning.
    with np.errstate(over="ignore"):
        return np.asarray(values, dtype=np.float64).astype(dtype, copy=False).reshape(shape)


def _python_unary(function):
    def kernel(x):
        values = [function(float(value)) for value in x.reshape(-1)]
        return _rounded(values, x.dtype, x.shape)

    return kernel


def _python_binary(function):
    def kernel(x, y):
        x, y = _broadcast(x, y)
        values = [function(float(a), float(b)) for a, b in zip(x.reshape(-1), y.reshape(-1))]
        return _rounded(values, x.dtype, x.shape)

    return kernel


# ---- special functions: the Cython kernels ---------------------------------------------------

def _flat_double(x):
    # float16 has no C type: it is evaluated in float64 and rounded once, like the spec.
    dtype = np.float64 if x.dtype == np.float16 else x.dtype
    return np.ascontiguousarray(x, dtype=dtype).reshape(-1)


def _fast_unary(code):
    def kernel(x):
        source = _flat_double(x)
        result = np.empty_like(source)
        _special.unary(code, source, result)
        return _rounded(result, x.dtype, x.shape)

    return kernel


def _fast_binary(code):
    def kernel(x, y):
        x, y = _broadcast(x, y)
        first, second = _flat_double(x), _flat_double(y)
        result = np.empty_like(first)
        _special.binary(code, first, second, result)
        return _rounded(result, x.dtype, x.shape)

    return kernel


for _name, _function in _PYTHON_UNARY.items():
    register_kernel(_name, reference=_python_unary(_function),
                    fast=_fast_unary(_special.UNARY_FUNCTIONS.index(_SNAKE_NAMES.get(
                        _name, _name.lower()))),
                    kind=KIND_UNARY)
for _name, _function in _PYTHON_BINARY.items():
    register_kernel(_name, reference=_python_binary(_function),
                    fast=_fast_binary(_special.BINARY_FUNCTIONS.index(_name.lower())),
                    kind=KIND_BINARY)


def _betainc_reference(a, b, x):
    a, b, x = np.broadcast_arrays(a, b, x)
    values = [_betainc(float(p), float(q), float(v))
              for p, q, v in zip(a.reshape(-1), b.reshape(-1), x.reshape(-1))]
    return _rounded(values, x.dtype, x.shape)


def _betainc_fast(a, b, x):
    a, b, x = np.broadcast_arrays(a, b, x)
    result = np.empty(x.size, dtype=x.dtype)
    _special.ternary(0, np.ascontiguousarray(a).reshape(-1),
                     np.ascontiguousarray(b).reshape(-1), np.ascontiguousarray(x).reshape(-1),
                     result)
    return result.reshape(x.shape)


def _ternary_kernel(function):
    def kernel(ctx, inputs, attrs):
        return (function(*inputs),)

    return kernel


register_kernel("Betainc", reference=_ternary_kernel(_betainc_reference),
                fast=_ternary_kernel(_betainc_fast))
