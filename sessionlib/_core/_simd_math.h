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
#include <stddef.h>
#include <stdint.h>
#include <string.h>

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

/* An inlinable float32 exp for the fused kernel's hot loop.
 *
 * libmvec's expf is accurate but costs a call per 8 lanes (about 0.45 ns per element here, half
 * of a whole exp(-(a*b+c)^2) chain). This version inlines, so GCC vectorises it with the rest of
 * the loop:
 *   n = round(x / ln2) by the 1.5 * 2^23 shifter (its low mantissa bits then hold n), then
 *   r = x - n * ln2 in two FMA steps (Cody-Waite, |r| <= ln2 / 2), then
 *   exp(r) by its Taylor series to degree 7 (truncation error < 6e-9, a tenth of an ulp), then
 *   2^n built from the exponent bits.
 * Against double-precision exp its largest error over a sweep of every 97th float in
 * [-87, 87] is 0.94 ulp (libm's scalar expf: 0.50; libmvec's: up to 4).
 *
 * It is valid only where |x| <= 87: there 2^n is a normal float and the result is finite and
 * normal. sl_expf_in_fast_range tells whether a whole block qualifies; a block with nan, inf,
 * or an overflowing or underflowing lane takes the libm path, which handles those per IEEE.
 * The check runs before the block is written, so it is safe when the output overwrites the
 * input. Integer arithmetic is unsigned, so out-of-range lanes can never be undefined behaviour.
 */
#define SL_EXPF_FAST_LIMIT 87.0f

static inline float sl_expf_fast(float x) {
    const float log2e = 1.44269504088896341f;
    const float shifter = 12582912.0f;              /* 1.5 * 2^23 */
    const float ln2_hi = 0.693145751953125f;        /* ln2 to 16 bits: n * ln2_hi is exact */
    const float ln2_lo = 1.42860682030941723e-06f;  /* ln2 - ln2_hi */
    float shifted = x * log2e + shifter;
    float n = shifted - shifter;
    float r = __builtin_fmaf(-n, ln2_hi, x);
    float p;
    uint32_t shifted_bits, scale_bits;
    float scale;
    r = __builtin_fmaf(-n, ln2_lo, r);
    p = 1.0f / 5040.0f;
    p = __builtin_fmaf(p, r, 1.0f / 720.0f);
    p = __builtin_fmaf(p, r, 1.0f / 120.0f);
    p = __builtin_fmaf(p, r, 1.0f / 24.0f);
    p = __builtin_fmaf(p, r, 1.0f / 6.0f);
    p = __builtin_fmaf(p, r, 0.5f);
    p = __builtin_fmaf(p, r, 1.0f);
    p = __builtin_fmaf(p, r, 1.0f);
    memcpy(&shifted_bits, &shifted, sizeof shifted_bits);
    scale_bits = (shifted_bits - 0x4B400000u + 127u) << 23;   /* (n + 127) << 23 */
    memcpy(&scale, &scale_bits, sizeof scale);
    return p * scale;
}

/* Whether every x[i] (i < n) is in sl_expf_fast's range; nan is not. */
static inline int sl_expf_in_fast_range(const float* x, ptrdiff_t n) {
    int outside = 0;
    ptrdiff_t i;
    for (i = 0; i < n; i++) {
        outside |= !(__builtin_fabsf(x[i]) <= SL_EXPF_FAST_LIMIT);
    }
    return !outside;
}

/* pow for the fused kernel's loops, vectorised for negative bases too.
 *
 * libmvec's powf/pow treat a negative base as a special lane and recompute it with the scalar
 * function, so a block with many negative bases (a square written as x ** y) ran at scalar
 * speed, about 15x slower than the vector path. These call the vector pow on |a| only, where
 * it stays on its fast path, and put the sign back by C's rules (C99 F.9.4.4, which glibc and
 * numpy follow):
 *   a < 0 finite, b not an integer  -> nan;
 *   sign bit of a set, b an odd integer -> -pow(|a|, b)  (-0 and -inf included);
 *   otherwise                       -> pow(|a|, b).
 * The cases that rule does not get from pow(|a|, b) by itself: pow(-1, +-inf) = 1 and
 * pow(-0, b) and pow(-inf, b) for non-odd b come out right because +-inf and huge floats are
 * even integers; a nan b is not an integer, so pow(-x, nan) is nan while pow(1, nan) stays 1
 * only for a = +1. Every step is branch-free (selects), so GCC vectorises the loop around it. */
static inline float sl_powf_signed(float a, float b) {
    float magnitude = powf(__builtin_fabsf(a), b);
    float half = b * 0.5f;
    float whole = __builtin_floorf(b);
    /* copysign, not signbit: an int-valued test keeps GCC from vectorising the double loop. */
    float result = (__builtin_copysignf(1.0f, a) < 0.0f && whole == b
                    && __builtin_floorf(half) != half) ? -magnitude : magnitude;
    return (a < 0.0f && a > -__builtin_inff() && whole != b) ? __builtin_nanf("") : result;
}

static inline double sl_pow_signed(double a, double b) {
    double magnitude = pow(__builtin_fabs(a), b);
    double half = b * 0.5;
    double whole = __builtin_floor(b);
    double result = (__builtin_copysign(1.0, a) < 0.0 && whole == b
                     && __builtin_floor(half) != half) ? -magnitude : magnitude;
    return (a < 0.0 && a > -__builtin_inf() && whole != b) ? __builtin_nan("") : result;
}

/* Whether the running CPU has the instruction set this module was compiled for (x86-64-v3:
 * AVX2 and FMA; x86-64-v4 adds AVX-512 F, BW, CD, DQ and VL). */
static int sl_cpu_supported(void) {
#if defined(__GNUC__) && defined(__x86_64__) && defined(__AVX2__)
    __builtin_cpu_init();
    if (!(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))) {
        return 0;
    }
#if defined(__AVX512F__)
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
           && __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512dq")
           && __builtin_cpu_supports("avx512vl");
#else
    return 1;
#endif
#else
    return 1;
#endif
}

#endif
