# Scalar helpers shared by the elementwise kernels (elementwise.pyx) and the fused chains
# (fused.pyx), so that a fused instruction computes exactly what the unfused kernel computes.
# Integer arithmetic wraps (through unsigned types for int32/int64, where signed overflow
# would be undefined behaviour in C); float min/max/relu propagate NaN like numpy.

from libc cimport math as cmath

from sessionlib._core._typedefs cimport (
    float32_t, float64_t, int32_t, int64_t, numeric_t, uint8_t, uint32_t, uint64_t,
)


cdef inline numeric_t _wrapping_add(numeric_t a, numeric_t b) noexcept nogil:
    if numeric_t is int32_t:
        return <int32_t>(<uint32_t>a + <uint32_t>b)
    elif numeric_t is int64_t:
        return <int64_t>(<uint64_t>a + <uint64_t>b)
    else:
        return <numeric_t>(a + b)  # int8/int16/uint8 compute in int: no overflow before the cast


cdef inline numeric_t _wrapping_sub(numeric_t a, numeric_t b) noexcept nogil:
    if numeric_t is int32_t:
        return <int32_t>(<uint32_t>a - <uint32_t>b)
    elif numeric_t is int64_t:
        return <int64_t>(<uint64_t>a - <uint64_t>b)
    else:
        return <numeric_t>(a - b)


cdef inline numeric_t _wrapping_mul(numeric_t a, numeric_t b) noexcept nogil:
    if numeric_t is int32_t:
        return <int32_t>(<uint32_t>a * <uint32_t>b)
    elif numeric_t is int64_t:
        return <int64_t>(<uint64_t>a * <uint64_t>b)
    else:
        return <numeric_t>(a * b)


cdef inline numeric_t _wrapping_neg(numeric_t a) noexcept nogil:
    if numeric_t is int32_t:
        return <int32_t>(<uint32_t>0 - <uint32_t>a)
    elif numeric_t is int64_t:
        return <int64_t>(<uint64_t>0 - <uint64_t>a)
    else:
        return <numeric_t>(-a)


cdef inline numeric_t _maximum(numeric_t a, numeric_t b) noexcept nogil:
    if numeric_t is float32_t or numeric_t is float64_t:
        return a if (a >= b or a != a) else b   # numpy: NaN propagates from either side
    else:
        return a if a >= b else b


cdef inline numeric_t _minimum(numeric_t a, numeric_t b) noexcept nogil:
    if numeric_t is float32_t or numeric_t is float64_t:
        return a if (a <= b or a != a) else b
    else:
        return a if a <= b else b


cdef inline numeric_t _abs(numeric_t a) noexcept nogil:
    if numeric_t is float32_t:
        return cmath.fabsf(a)
    elif numeric_t is float64_t:
        return cmath.fabs(a)
    elif numeric_t is uint8_t:
        return a
    else:
        return _wrapping_neg(a) if a < 0 else a


cdef inline numeric_t _sign(numeric_t a) noexcept nogil:
    if numeric_t is float32_t or numeric_t is float64_t:
        # numpy's rule: NaN stays NaN, -0.0 gives +0.0.
        return 1 if a > 0 else (-1 if a < 0 else (0 if a == 0 else a))
    else:
        return <numeric_t>((a > 0) - (a < 0))


cdef inline numeric_t _relu(numeric_t a) noexcept nogil:
    if numeric_t is float32_t or numeric_t is float64_t:
        return a if (a >= 0 or a != a) else 0   # = numpy maximum(x, 0): NaN propagates
    else:
        return a if a > 0 else 0
