# Shared C typedefs and fused types for every sessionlib._core module.
#
# One place names the C type behind each supported tensor dtype, so that kernels, the executor
# and later modules agree on it (the scikit-learn `_typedefs.pxd` pattern). Fused types list the
# dtypes a kernel family is generic over; Cython generates one specialisation per member, so no
# kernel is ever written once per dtype.
#
#   sessionlib dtype   numpy      C type here
#   float16            float16    (none: C has no half type; kernels delegate it to numpy)
#   float32            float32    float32_t
#   float64            float64    float64_t
#   int8 .. int64      int8 ..    int8_t .. int64_t
#   uint8              uint8      uint8_t
#   bool               bool       bool_t (numpy's npy_bool, one byte holding 0 or 1)
#
# bool_t and uint8_t are the same C type (unsigned char); a fused type may hold only one of the
# two, so kernels run bool tensors through their uint8_t specialisation.

from libc.stdint cimport int8_t, int16_t, int32_t, int64_t, uint8_t, uint32_t, uint64_t

ctypedef float float32_t
ctypedef double float64_t
ctypedef unsigned char bool_t

# Every dtype that arithmetic kernels support in C (float16 excepted, see above).
ctypedef fused numeric_t:
    float32_t
    float64_t
    int8_t
    int16_t
    int32_t
    int64_t
    uint8_t

# The floating point subset (sqrt, exp, real division, ...).
ctypedef fused float_t:
    float32_t
    float64_t

# The integer subset (integer division, modulo, powers).
ctypedef fused integer_t:
    int8_t
    int16_t
    int32_t
    int64_t
    uint8_t
