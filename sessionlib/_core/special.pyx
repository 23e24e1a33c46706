# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False
"""Special functions with no vectorised numpy counterpart: erf, erfc, lgamma, digamma, the
inverse error function, the inverse of the normal CDF (ndtri), the Hurwitz zeta function,
polygamma, the regularized incomplete gamma functions and the regularized incomplete beta
function, elementwise over float arrays.

Design. Every function is evaluated in double precision and rounded once to the array's dtype,
so a float32 or float16 result is the correctly rounded double result: exactly what the plain
Python reference (``runtime/kernels/special_math_kernels.py``, ``math.erf`` and friends over the
elements) gives, with no per-dtype algorithm to keep in step. erf, erfc and lgamma are libm's.
libm has no digamma or zeta, so they are the classic series written out here:

* digamma: the reflection ``psi(x) = psi(1 - x) - pi / tan(pi x)`` for negative x, the
  recurrence ``psi(x) = psi(x + 1) - 1 / x`` up to x >= 10, then the asymptotic expansion
  ``log x - 1/(2x) - sum B_2k / (2k x^2k)`` to k = 7 (its next term is below 5e-17 there);
  NaN at the poles (0, -1, -2, ...) and at -inf, as TF gives.
* zeta(x, q) = sum_k (k + q)^-x: Euler-Maclaurin summation, the direct sum until the tail
  is tiny or q + k >= 9, then the integral, half a term and twelve Bernoulli corrections.
  inf at x == 1 and at a pole q = 0, -1, ...; NaN for x < 1, or for q < 0 with x not an
  integer (the power is not real there).
* polygamma(n, x) = (-1)^(n+1) n! zeta(n + 1, x) for integer n >= 1, digamma for n == 0, NaN
  for other n.
* erfinv and ndtri: Newton's method on libm's erf or erfc, from Winitzki's closed-form guess
  (relative error below 2e-3, so four steps reach double precision). Each branch solves the
  equation that keeps full relative precision: erf(y) = x where |x| <= 1/2 (y near 0);
  log erfc(y) = log c in the tails, c = 1 - x being exact there (Sterbenz) and the log
  keeping the step well scaled down to erfc's underflow. ndtri(p) = -sqrt(2) erfcinv(2p).
* igamma(a, x) = P(a, x) and igammac = Q = 1 - P: the power series of P where x < a + 1,
  else the continued fraction of Q (modified Lentz), each times x^a e^-x / Gamma(a) taken in
  log space; the other one is 1 minus it.
* bessel_i0, bessel_i1 and their scaled forms exp(-|x|) I(x): the power series
  sum_k (x/2)^(2k+v) / (k! (k+v)!) (positive terms, no cancellation) up to |x| = 30, then
  the asymptotic expansion e^x / sqrt(2 pi x) sum_k (-1)^k a_k(v) / x^k, whose terms there
  fall below double precision long before they grow. I0 is even, I1 odd; at +-inf the
  unscaled ones are NaN, as TF gives.
* betainc(a, b, x) = I_x(a, b): its continued fraction (modified Lentz) where
  x < (a + 1) / (a + b + 2), else 1 - I_(1-x)(b, a), where the fraction converges fast.

The arrays the caller passes are C-contiguous and flat (the runtime kernel reshapes and
broadcasts them); the loops run without the GIL.
"""

from libc.math cimport (INFINITY, NAN, erf as c_erf, erfc as c_erfc, exp, fabs, floor, isnan,
                        log, log1p, pow, sqrt, tan)

from sessionlib._core._typedefs cimport float_t


cdef extern from "math.h" nogil:
    # lgamma's reentrant form: plain lgamma writes the sign to the global signgam, which
    # kernels running on several threads at once would race on.
    double lgamma_r(double x, int *sign)


cdef inline double c_lgamma(double x) noexcept nogil:
    cdef int sign
    return lgamma_r(x, &sign)

__all__ = ["UNARY_FUNCTIONS", "BINARY_FUNCTIONS", "TERNARY_FUNCTIONS", "unary", "binary",
           "ternary"]

# The functions each entry point computes, in the order of their codes.
UNARY_FUNCTIONS = ("erf", "erfc", "lgamma", "digamma", "erfinv", "ndtri", "bessel_i0",
                   "bessel_i0e", "bessel_i1", "bessel_i1e")
BINARY_FUNCTIONS = ("zeta", "polygamma", "igamma", "igammac")
TERNARY_FUNCTIONS = ("betainc",)

cdef double _PI = 3.14159265358979323846
cdef double _EPSILON = 1.1102230246251565e-16
# Winitzki's constant a, and 2 / sqrt(pi) (erf's slope at 0).
cdef double _WINITZKI = 0.147
cdef double _TWO_OVER_ROOT_PI = 1.12837916709551257390
# Lentz's floor for vanishing denominators, and the iteration cap of the series and fractions
# (they need about sqrt(a) terms; the cap is reached only for a beyond 1e8).
cdef double _TINY = 1e-300
cdef int _MAX_TERMS = 100000
# The Euler-Maclaurin corrections' denominators: (2k)! / B_2k, k = 1 .. 12.
cdef double[12] _ZETA_TERMS = [
    12.0, -720.0, 30240.0, -1209600.0, 47900160.0, -1.8924375803183791606e9,
    7.47242496e10, -2.950130727918164224e12, 1.1646782814350067249e14,
    -4.5979787224074726105e15, 1.8152105401943546773e17, -7.1661652561756670113e18]


cdef double digamma_value(double x) noexcept nogil:
    cdef double result = 0.0, fraction, inverse_square
    if isnan(x) or x == -INFINITY:
        return NAN
    if x <= 0.0 and x == floor(x):
        return NAN
    if x < 0.0:
        # tan has period 1 in pi x: reduce first, so that a large |x| keeps its precision.
        fraction = x - floor(x)
        result = -_PI / tan(_PI * fraction)
        x = 1.0 - x
    while x < 10.0:
        result -= 1.0 / x
        x += 1.0
    if x == INFINITY:
        return INFINITY
    inverse_square = 1.0 / (x * x)
    return result + log(x) - 0.5 / x - inverse_square * (
        1.0 / 12 - inverse_square * (1.0 / 120 - inverse_square * (
            1.0 / 252 - inverse_square * (1.0 / 240 - inverse_square * (
                1.0 / 132 - inverse_square * (691.0 / 32760 - inverse_square / 12))))))


cdef double zeta_value(double x, double q) noexcept nogil:
    cdef double total, term, a, w, factor, k, t
    cdef int i
    if isnan(x) or isnan(q):
        return NAN
    if x == 1.0:
        return INFINITY
    if x < 1.0:
        return NAN
    if q <= 0.0:
        if q == floor(q):
            return INFINITY
        if x != floor(x):
            return NAN
    total = pow(q, -x)
    a = q
    term = 0.0
    i = 0
    while i < 9 or a <= 9.0:
        i += 1
        a += 1.0
        term = pow(a, -x)
        total += term
        if fabs(term / total) < _EPSILON:
            return total
    w = a
    total += term * w / (x - 1.0)
    total -= 0.5 * term
    factor = 1.0
    k = 0.0
    for i in range(12):
        factor *= x + k
        term /= w
        t = factor * term / _ZETA_TERMS[i]
        total += t
        if fabs(t / total) < _EPSILON:
            return total
        k += 1.0
        factor *= x + k
        term /= w
        k += 1.0
    return total


cdef double winitzki_guess(double log_one_minus_square) noexcept nogil:
    # |erfinv(x)| ~ sqrt(sqrt(t^2 - L / a) - t), t = 2 / (pi a) + L / 2, L = log(1 - x^2).
    cdef double t = 2.0 / (_PI * _WINITZKI) + 0.5 * log_one_minus_square
    return sqrt(sqrt(t * t - log_one_minus_square / _WINITZKI) - t)


cdef double erfinv_central(double x) noexcept nogil:
    """erfinv for |x| <= 1/2: Newton on erf(y) = x."""
    cdef double y, step
    cdef int i
    if x == 0.0:
        return 0.0
    y = winitzki_guess(log1p(-x * x))
    if x < 0.0:
        y = -y
    for i in range(8):
        step = (c_erf(y) - x) / (_TWO_OVER_ROOT_PI * exp(-y * y))
        y -= step
        if fabs(step) <= _EPSILON * fabs(y):
            break
    return y


cdef double erfcinv_value(double c) noexcept nogil:
    """The y with erfc(y) = c, for c in [0, 2]; NaN outside."""
    cdef double y, value, step, log_c
    cdef int i
    if isnan(c) or c < 0.0 or c > 2.0:
        return NAN
    if c == 0.0:
        return INFINITY
    if c == 2.0:
        return -INFINITY
    if 0.5 <= c <= 1.5:
        return erfinv_central(1.0 - c)
    if c > 1.5:
        return -erfcinv_value(2.0 - c)
    log_c = log(c)
    y = winitzki_guess(log_c + log(2.0 - c))
    for i in range(12):
        value = c_erfc(y)
        if value == 0.0:
            break
        # Newton on log erfc(y) = log c: d/dy log erfc(y) = -(2 / sqrt(pi)) exp(-y^2) / erfc(y).
        step = (log(value) - log_c) * value / (-_TWO_OVER_ROOT_PI * exp(-y * y))
        y -= step
        if fabs(step) <= _EPSILON * fabs(y):
            break
    return y


cdef double erfinv_value(double x) noexcept nogil:
    if isnan(x) or x < -1.0 or x > 1.0:
        return NAN
    if fabs(x) <= 0.5:
        return erfinv_central(x)
    if x > 0.0:
        return erfcinv_value(1.0 - x)
    return -erfcinv_value(1.0 + x)


cdef double ndtri_value(double p) noexcept nogil:
    if isnan(p) or p < 0.0 or p > 1.0:
        return NAN
    cdef double y = erfcinv_value(2.0 * p)
    # At p = 1/2 this is 0, not the -0 that negating it would give.
    return -1.4142135623730950488 * y if y != 0.0 else 0.0


cdef double gamma_series(double a, double x) noexcept nogil:
    """P(a, x) by its power series (x < a + 1)."""
    cdef double denominator = a, term = 1.0 / a, total = term
    cdef int n
    for n in range(_MAX_TERMS):
        denominator += 1.0
        term *= x / denominator
        total += term
        if fabs(term) < fabs(total) * _EPSILON:
            break
    return total * exp(-x + a * log(x) - c_lgamma(a))


cdef inline double lentz_floor(double value) noexcept nogil:
    return _TINY if fabs(value) < _TINY else value


cdef double gamma_fraction(double a, double x) noexcept nogil:
    """Q(a, x) by its continued fraction (x >= a + 1)."""
    cdef double b = x + 1.0 - a, c = 1.0 / _TINY, d = 1.0 / b, h = d, numerator, delta
    cdef int i
    for i in range(1, _MAX_TERMS):
        numerator = -i * (i - a)
        b += 2.0
        d = 1.0 / lentz_floor(numerator * d + b)
        c = lentz_floor(b + numerator / c)
        delta = d * c
        h *= delta
        if fabs(delta - 1.0) < _EPSILON:
            break
    return exp(-x + a * log(x) - c_lgamma(a)) * h


cdef double igamma_value(double a, double x, bint upper) noexcept nogil:
    cdef double lower
    if isnan(a) or isnan(x) or a <= 0.0 or x < 0.0:
        return NAN
    if x == 0.0 or a == INFINITY:
        lower = 0.0
    elif x == INFINITY:
        lower = 1.0
    elif x < a + 1.0:
        lower = gamma_series(a, x)
    else:
        upper_value = gamma_fraction(a, x)
        return upper_value if upper else 1.0 - upper_value
    return 1.0 - lower if upper else lower


cdef double beta_fraction(double a, double b, double x) noexcept nogil:
    """The continued fraction of I_x(a, b), without its prefactor."""
    cdef double c = 1.0, d = 1.0 / lentz_floor(1.0 - (a + b) * x / (a + 1.0)), h = d
    cdef double numerator, delta, m2
    cdef int m
    for m in range(1, _MAX_TERMS):
        m2 = 2.0 * m
        numerator = m * (b - m) * x / ((a - 1.0 + m2) * (a + m2))
        d = 1.0 / lentz_floor(1.0 + numerator * d)
        c = lentz_floor(1.0 + numerator / c)
        h *= d * c
        numerator = -(a + m) * (a + b + m) * x / ((a + m2) * (a + 1.0 + m2))
        d = 1.0 / lentz_floor(1.0 + numerator * d)
        c = lentz_floor(1.0 + numerator / c)
        delta = d * c
        h *= delta
        if fabs(delta - 1.0) < _EPSILON:
            break
    return h


cdef double betainc_value(double a, double b, double x) noexcept nogil:
    cdef double log_front
    if isnan(a) or isnan(b) or isnan(x) or a <= 0.0 or b <= 0.0 or x < 0.0 or x > 1.0:
        return NAN
    if x == 0.0 or x == 1.0:
        return x
    log_front = (c_lgamma(a + b) - c_lgamma(a) - c_lgamma(b) + a * log(x)
                 + b * log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return exp(log_front) * beta_fraction(a, b, x) / a
    return 1.0 - exp(log_front) * beta_fraction(b, a, 1.0 - x) / b


cdef double bessel_i_series(int order, double x) noexcept nogil:
    """I_order(x) for 0 <= x <= 30 by its power series."""
    cdef double quarter_square = 0.25 * x * x, term = 0.5 * x if order else 1.0, total
    cdef int k
    total = term
    for k in range(1, 500):
        term *= quarter_square / (k * (k + order))
        total += term
        if term < total * _EPSILON:
            break
    return total


cdef double bessel_i_asymptotic(int order, double x) noexcept nogil:
    """exp(-x) I_order(x) for x > 30 by the asymptotic expansion."""
    cdef double four_nu_squared = 4.0 * order * order, term = 1.0, total = 1.0, odd
    cdef int k
    for k in range(1, 200):
        odd = 2.0 * k - 1.0
        term *= -(four_nu_squared - odd * odd) / (8.0 * k * x)
        total += term
        if fabs(term) < fabs(total) * _EPSILON:
            break
    return total / sqrt(2.0 * _PI * x)


cdef double bessel_i_value(int order, bint scaled, double x) noexcept nogil:
    cdef double magnitude = fabs(x), value
    if isnan(x):
        return NAN
    if magnitude == INFINITY:
        value = 0.0 if scaled else NAN
    elif magnitude <= 30.0:
        value = bessel_i_series(order, magnitude)
        if scaled:
            value *= exp(-magnitude)
    else:
        value = bessel_i_asymptotic(order, magnitude)
        if not scaled:
            value = exp(magnitude + log(value))
    return -value if order and x < 0.0 else value


cdef inline double fmod_two(double n) noexcept nogil:
    return n - 2.0 * floor(n / 2.0)


cdef double polygamma_value(double n, double x) noexcept nogil:
    if isnan(n) or n < 0.0 or n != floor(n):
        return NAN
    if n == 0.0:
        return digamma_value(x)
    cdef double factorial = 1.0, k = 2.0
    # (-1)^(n+1) n!, n! as a product of doubles (exact up to 22!; inf beyond 170!).
    if n > 170.0:
        factorial = INFINITY
    else:
        while k <= n:
            factorial *= k
            k += 1.0
    return (1.0 if fmod_two(n) == 1.0 else -1.0) * factorial * zeta_value(n + 1.0, x)


cdef inline double unary_value(int code, double x) noexcept nogil:
    if code == 0:
        return c_erf(x)
    if code == 1:
        return c_erfc(x)
    if code == 2:
        # glibc gives +inf at the poles, as TF does (Python's math.lgamma raises there).
        return c_lgamma(x)
    if code == 3:
        return digamma_value(x)
    if code == 4:
        return erfinv_value(x)
    if code == 5:
        return ndtri_value(x)
    # 6 .. 9: bessel_i0, bessel_i0e, bessel_i1, bessel_i1e.
    return bessel_i_value((code - 6) // 2, (code - 6) % 2 == 1, x)


def unary(int code, const float_t[::1] source, float_t[::1] result):
    """Fills `result` with ``UNARY_FUNCTIONS[code]`` of `source`, element by element.

    Args:
      code: an index into UNARY_FUNCTIONS.
      source: a flat, C-contiguous float32 or float64 array.
      result: a writable array of the same dtype and length.
    """
    cdef Py_ssize_t i, count = source.shape[0]
    if not 0 <= code < len(UNARY_FUNCTIONS) or result.shape[0] != count:
        raise ValueError("special.unary: bad code or mismatched lengths")
    with nogil:
        for i in range(count):
            result[i] = <float_t>unary_value(code, <double>source[i])


def binary(int code, const float_t[::1] first, const float_t[::1] second, float_t[::1] result):
    """Fills `result` with ``BINARY_FUNCTIONS[code](first, second)``, element by element.

    Args:
      code: an index into BINARY_FUNCTIONS.
      first, second: flat, C-contiguous arrays of one float dtype and one length (the caller
        broadcast them).
      result: a writable array of that dtype and length.
    """
    cdef Py_ssize_t i, count = first.shape[0]
    if (not 0 <= code < len(BINARY_FUNCTIONS) or second.shape[0] != count
            or result.shape[0] != count):
        raise ValueError("special.binary: bad code or mismatched lengths")
    with nogil:
        if code == 0:
            for i in range(count):
                result[i] = <float_t>zeta_value(<double>first[i], <double>second[i])
        elif code == 1:
            for i in range(count):
                result[i] = <float_t>polygamma_value(<double>first[i], <double>second[i])
        else:
            for i in range(count):
                result[i] = <float_t>igamma_value(<double>first[i], <double>second[i],
                                                  code == 3)


def ternary(int code, const float_t[::1] first, const float_t[::1] second,
            const float_t[::1] third, float_t[::1] result):
    """Fills `result` with ``TERNARY_FUNCTIONS[code](first, second, third)``, element by
    element.

    Args:
      code: an index into TERNARY_FUNCTIONS.
      first, second, third: flat, C-contiguous arrays of one float dtype and one length.
      result: a writable array of that dtype and length.
    """
    cdef Py_ssize_t i, count = first.shape[0]
    if (not 0 <= code < len(TERNARY_FUNCTIONS) or second.shape[0] != count
            or third.shape[0] != count or result.shape[0] != count):
        raise ValueError("special.ternary: bad code or mismatched lengths")
    with nogil:
        for i in range(count):
            result[i] = <float_t>betainc_value(<double>first[i], <double>second[i],
                                               <double>third[i])
