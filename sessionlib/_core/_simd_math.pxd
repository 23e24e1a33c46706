# Declarations of _simd_math.h: libm functions with vector variants, the inlined float32 exp
# the sign-aware pow, and the CPU check (fused.pyx).

cdef extern from "_simd_math.h" nogil:
    float expf(float)
    double exp(double)
    float logf(float)
    double log(double)
    float log1pf(float)
    double log1p(double)
    float sinf(float)
    double sin(double)
    float cosf(float)
    double cos(double)
    float tanhf(float)
    double tanh(double)
    float powf(float, float)
    double pow(double, double)
    float sl_expf_fast(float)
    float sl_powf_signed(float, float)
    double sl_pow_signed(double, double)
    bint sl_expf_in_fast_range(const float*, Py_ssize_t)
    int sl_cpu_supported()
