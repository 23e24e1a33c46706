/* Vector variants of libm functions for the loops of fused.pyx.
 *
 * glibc ships libmvec: SIMD versions of expf, logf, sinf, ... (names like _ZGVdN8v_expf), with
 * a maximum error of 4 ulp and IEEE handling of special inputs (inf, nan, overflow and
 * underflow lanes are recomputed with the scalar function). GCC vectorises a loop that calls a
 * function declared with the `simd` attribute by calling its vector variant. glibc's own
 * <math.h> only adds those declarations under -ffast-math (__FAST_MATH__), whose
 * -ffinite-math-only would break inf/nan semantics, so this header adds them itself, and the
 * build defines SESSIONLIB_LIBMVEC (and links -lmvec) only where libmvec exists.
 *
 * The declarations match <math.h>'s exactly, plus the attribute; a compiler or libc without
 * vector variants sees plain <math.h>.
 */
#ifndef SESSIONLIB_SIMD_MATH_H
#define SESSIONLIB_SIMD_MATH_H

#include <math.h>

#if defined(SESSIONLIB_LIBMVEC) && defined(__GNUC__) && !defined(__clang__) \
    && defined(__x86_64__) && defined(__GLIBC__)
#define SL_SIMD __attribute__((__simd__("notinbranch")))
SL_SIMD float expf(float);
SL_SIMD double exp(double);
SL_SIMD float logf(float);
SL_SIMD double log(double);
SL_SIMD float sinf(float);
SL_SIMD double sin(double);
SL_SIMD float cosf(float);
SL_SIMD double cos(double);
SL_SIMD float powf(float, float);
SL_SIMD double pow(double, double);
#if __GLIBC_PREREQ(2, 35)
/* tanh and log1p joined libmvec in glibc 2.35. */
SL_SIMD float tanhf(float);
SL_SIMD double tanh(double);
SL_SIMD float log1pf(float);
SL_SIMD double log1p(double);
#endif
#undef SL_SIMD
#endif

/* Whether the running CPU has the instruction set this module was compiled for. */
static int sl_cpu_supported(void) {
#if defined(__GNUC__) && defined(__x86_64__) && defined(__AVX2__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 1;
#endif
}

#endif
