# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False
"""The fused elementwise kernel: one pass over memory for a chain of elementwise ops.

``sessionlib/runtime/fusion.py`` turns a chain (or tree) of elementwise ops into one
``_FusedElementwise`` node whose attrs hold a small instruction program; this module runs that
program. ``fusion.reference_kernel`` is the numpy spec of the same program (it runs each
instruction through the unfused reference kernel); ``tests/test_fusion.py`` and
``tests/test_parity.py`` compare both. fusion.py hands that spec to this module
(`set_fallbacks`) for the programs the C loop does not run.
"""

# Design
# ======
#
# Program. ``attrs['program']`` is a flat tuple of int quadruples ``(opcode, dst, a, b)``.
# An opcode is the number of the elementwise kernel the instruction computes (KernelId,
# elementwise.pxd: the arithmetic kernels come first, so opcodes are 0 .. NUM_OPCODES-1).
# Operands 0 .. num_inputs-1 are the node's inputs, num_inputs .. num_inputs+num_registers-1
# are registers, ``b == -1`` marks a unary instruction and ``dst == -1`` the output. A
# reduction (``attrs['reduce']``, a Reduction of fused.pxd) consumes operand
# ``attrs['reduce_src']`` instead of writing an output. Programs are interpreted, never
# compiled: no C is generated at run time (the numexpr idea, inside a graph executor).
#
# Blocks. The output's flat index space is cut into blocks of BLOCK elements. Per block, each
# operand is a pointer to BLOCK contiguous values: a full-size contiguous input is read in
# place (a const pointer, so read-only and shared-memory buffers work), a scalar input is a
# register filled once per thread, and an input that broadcasts along leading axes (a bias of
# shape [C] against [N, C]: its shape is a suffix of the output's) is copied per block into a
# staging register, periodically. An input of the output's shape whose rows are contiguous
# but spaced apart (a Split's piece of an LSTM's gate matrix: every 4th quarter row) is
# gathered per block into its staging register too, row segment by row segment. Any other
# broadcast (e.g. [N, 1] against [N, C]) or non-contiguous input is first materialised as a
# contiguous array (a copy, the rare case).
# Each instruction is then one flat loop ``d[i] = op(a[i], b[i])`` over the block: no strides,
# no branches, so the compiler vectorises it; registers (64-byte aligned) stay in L1 while the
# inputs and the output stream through memory once. That is the memory-bandwidth limit for the
# chain, once the per-element compute of all instructions is below it: on two threads,
# exp(-(a*b+c)^2) over 10M float32 computes in about the time it takes to read a, b and c.
#
# Threads. Above PARALLEL_THRESHOLD elements the range is cut into contiguous parts, a few per
# thread, which ``prange`` hands out dynamically over ``elementwise.set_num_threads`` threads
# (set from the session's intra_op_parallelism_threads; the default gives devices x threads
# <= cores). Each part has its own registers. The GIL is released above NOGIL_THRESHOLD.
#
# Reductions. Sum, Mean, Max and Min over trailing axes (full reductions included) consume the
# last value block by block, so the chain's result is never materialised. Each output element
# reduces one contiguous row of `inner` values. With few rows (fewer than 4 per part), parts
# split the flat range and keep per-part partial results, combined in part order at the end
# (deterministic for a given size and thread count, whichever thread ran a part); with many
# rows, parts are row-aligned and each row has one owner. Float sums accumulate in 32 lanes of
# the element type within a block and in double across blocks; integer sums wrap (uint64
# lanes, truncated at the end: wrapping sums are the same mod 2^n). Reductions over other axes
# run the chain fused and reduce with numpy.
#
# Semantics. Every instruction computes what the unfused fast kernel computes (elementwise.pyx;
# both cimport the scalar helpers of _scalar.pxd): integers wrap, floats follow IEEE. Ops
# that can fail on integers (floor_div, floor_mod, pow) are fused only for floats, so the fused
# kernel has no run-time errors but incompatible shapes. float16 has no C type: its programs run
# through the numpy reference, as do programs beyond the limits of fused.pxd.
#
# Compiler flags (setup.py): -O3 vectorises the block loops. -fno-math-errno lets libm calls be
# treated as pure (no errno side effect), so calls in loops vectorise. -fno-trapping-math lets
# GCC if-convert selects (sigmoid, relu, maximum); we never read FP exception flags. Where glibc
# has libmvec, _simd_math.h declares expf/logf/sinf/cosf/powf/tanhf/log1pf (and the double
# versions) as `simd` functions and the module links -lmvec: loops call 4- or 8-wide vector
# variants (4-, 8- or 16-wide; max error 4 ulp vs <= 1 ulp scalar; specials handled per lane
# by the scalar code).
# pow is the exception among them: libmvec recomputes every negative-base lane with the scalar
# pow (a chain with a sign-changing base ran ~3x slower), so the loop calls the vector pow on
# |a| and puts the sign, or the nan, back by C's rules (sl_powf_signed, _simd_math.h).
# float32 exp (and sigmoid and tanh, through it) is the exception: libmvec's call per 8 lanes cost
# half of a whole exp chain, so _simd_math.h has an inlined exp (0.94 ulp max, checked against float64
# exp) that the loop uses when every lane of the block is in [-87, 87]; other blocks (nan, inf,
# overflow, subnormal results) take libm's path, so specials stay exact. tanh clamps its exp's
# argument, so it needs no libm path at all.
# Not used: -ffast-math / -ffinite-math-only / -fassociative-math, which would change inf/nan
# handling, signed zeros and summation order. So a fused result differs from the unfused one by
# a few ulps in transcendental ops and by summation order in float reductions: within the usual
# float tolerance (rtol 1e-5 for float32, tighter for float64), and exactly equal for integers.
#
# Never: write an input (inputs may be read-only or shared memory), trust a program it has not
# checked (`_check_program`: an index outside the operands would touch arbitrary memory), or
# import the runtime (the core sits below it; the numpy fallbacks are handed over).

cimport numpy as cnp
from cpython.tuple cimport PyTuple_GET_ITEM, PyTuple_GET_SIZE
from cython.parallel cimport prange
from libc cimport math as cmath
from libc.stdlib cimport free, malloc

from sessionlib._core cimport cores
from sessionlib._core cimport elementwise as ew
from sessionlib._core._malloc cimport M_MMAP_THRESHOLD, M_TRIM_THRESHOLD, mallopt
from sessionlib._core._typedefs cimport (
    float32_t, float64_t, int8_t, int16_t, int32_t, int64_t, numeric_t, uint8_t, uint32_t,
    uint64_t,
)
from sessionlib._core._scalar cimport (
    _abs, _maximum, _minimum, _relu, _sign, _wrapping_add, _wrapping_mul, _wrapping_neg,
    _wrapping_sub,
)
from sessionlib._core._simd_math cimport (
    cos, cosf, exp, expf, log, log1p, log1pf, logf, sin, sinf, sl_cpu_supported,
    sl_expf_fast, sl_expf_in_fast_range, sl_pow_signed, sl_powf_signed, tanh,
)

import numpy as np

from sessionlib._core.elementwise import KERNEL_NAMES

cnp.import_array()


_malloc_tuning = None  # None until `tune_malloc` ran, then whether it changed malloc


def tune_malloc(bint enabled):
    """Makes glibc malloc serve large buffers from its heap and keep them after free.

    glibc maps every block above 32 MiB afresh (mmap) and unmaps it on free, so each new
    10M-element float32 result costs ~10k page faults (~2.5 ms, as much as computing it) when
    first written. TF's allocator keeps freed buffers for reuse; this does the same through
    malloc's own knobs: blocks up to 1 GiB come from the heap, and up to 1 GiB of freed heap is
    kept rather than returned to the OS. Peak memory is unchanged (the same buffers are reused).

    The setting is process-wide, so importing sessionlib does not make it: the runtime calls
    this once, when the first session (or device worker) needs an executor, and passes its
    ``SESSIONLIB_MALLOC_TUNING`` setting (``runtime/settings.py``); only the first call counts.

    Args:
      enabled: False leaves malloc alone (the user opted out).

    Returns:
      Whether malloc was tuned (False off Linux, when not enabled, or without the knobs).
    """
    global _malloc_tuning
    if _malloc_tuning is None:
        import sys

        tuned = False
        if enabled and sys.platform == "linux":
            tuned = bool(mallopt(M_MMAP_THRESHOLD, 1 << 30) and
                         mallopt(M_TRIM_THRESHOLD, 1 << 30))
        _malloc_tuning = tuned
    return _malloc_tuning


if not sl_cpu_supported():
    raise ImportError("sessionlib._core.fused was compiled for AVX2/FMA (x86-64-v3) or "
                      "AVX-512 (x86-64-v4), which this CPU lacks; rebuild with "
                      "SESSIONLIB_MARCH= (empty) or SESSIONLIB_MARCH=x86-64-v3")

__all__ = ["fused_elementwise", "unary", "tune_malloc", "set_fallbacks", "OPCODE_NAMES",
           "BINARY_OPCODE_NAMES", "REDUCTION_NAMES", "MAX_INPUTS", "MAX_REGISTERS",
           "MAX_INSTRUCTIONS", "MAX_EXPORTS", "BLOCK"]

# Instruction names in opcode order: the arithmetic prefix of elementwise's kernels (an opcode
# is a KernelId, elementwise.pxd); runtime/fusion.py writes programs with them.
OPCODE_NAMES = KERNEL_NAMES[:ew.NUM_OPCODES]
# The instructions that take two operands (the others take one).
BINARY_OPCODE_NAMES = OPCODE_NAMES[:ew.FIRST_UNARY_OPCODE]
# Reduction names in Reduction order (fused.pxd), "" for REDUCE_NONE: REDUCE_SUM is
# "reduce_sum", the `fusion` name of the ops that reduce so.
REDUCTION_NAMES = ("",) + tuple(reduction.name.lower() for reduction in Reduction
                                if reduction != REDUCE_NONE)

cdef enum:
    MAX_DIMS = 64
    LANES = 32
    # Run.period of an input read as spaced rows (any real period is >= 1).
    ROWS_STRIDED = -1
    # Registers a program may also return as outputs (attrs['exports']): an intermediate of
    # the chain that other ops read too (an LSTM's gates, kept for the gradient).
    _MAX_EXPORTS = 16

MAX_EXPORTS = _MAX_EXPORTS

# Elements per block. Every instruction stores its block into a register and the next one
# loads it back, so the registers and the streamed input blocks must stay in L1 (32 KiB). At
# 256 float32 values (1 KiB) they do, for programs with dozens of operands; 2048 spilled to L2
# and took 1.6x as long on exp(-(a*b+c)^2) over 10M elements, while 128 starts to pay for the
# per-block dispatch.
BLOCK = 256
cdef Py_ssize_t _BLOCK = BLOCK


def _set_block(Py_ssize_t elements):
    """Sets the elements per block and returns the previous value (tests and benchmarks only).

    Small blocks let tests cross block boundaries with small tensors.
    """
    global _BLOCK
    if elements < 1:
        raise ValueError(f"a block needs at least one element, not {elements}")
    previous = _BLOCK
    _BLOCK = elements
    return previous


# Above this many elements a program splits its blocks over threads (when it has several).
cdef Py_ssize_t PARALLEL_THRESHOLD = 65536
# A parallel program cuts its range into up to PARTS_PER_THREAD parts per thread, each of at
# least MIN_PART_SIZE elements (so a part's setup stays negligible).
cdef Py_ssize_t PARTS_PER_THREAD = 8
cdef Py_ssize_t MIN_PART_SIZE = 32768
# Above this many elements the GIL is released around the loop.
cdef Py_ssize_t NOGIL_THRESHOLD = 8192


# ---------------------------------------------------------------------------------------------
# Scalar helpers beyond the shared ones of _scalar.pxd: the float-only fused floor_mod.

cdef inline numeric_t _floor_mod(numeric_t a, numeric_t b) noexcept nogil:
    # Floats only (the fusion pass never fuses integer floor_mod): numpy's npy_remainder.
    cdef numeric_t remainder
    if numeric_t is float32_t:
        remainder = cmath.fmodf(a, b)
    else:
        remainder = <numeric_t>cmath.fmod(a, b)
    if b == 0:
        return remainder
    if remainder != 0:
        if (b < 0) != (remainder < 0):
            remainder = remainder + b
    else:
        if numeric_t is float32_t:
            remainder = cmath.copysignf(0, b)
        else:
            remainder = <numeric_t>cmath.copysign(0, b)
    return remainder


# ---------------------------------------------------------------------------------------------
# One instruction over one block: d[i] = op(a[i], b[i]), i < n.

cdef void _apply(int op, numeric_t* d, const numeric_t* a, const numeric_t* b,
                 Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i
    cdef numeric_t t
    if op == ew.K_ADD:
        for i in range(n):
            d[i] = _wrapping_add(a[i], b[i])
    elif op == ew.K_SUB:
        for i in range(n):
            d[i] = _wrapping_sub(a[i], b[i])
    elif op == ew.K_MUL:
        for i in range(n):
            d[i] = _wrapping_mul(a[i], b[i])
    elif op == ew.K_MAXIMUM:
        for i in range(n):
            d[i] = _maximum(a[i], b[i])
    elif op == ew.K_MINIMUM:
        for i in range(n):
            d[i] = _minimum(a[i], b[i])
    elif op == ew.K_SQUARED_DIFFERENCE:
        for i in range(n):
            t = _wrapping_sub(a[i], b[i])
            d[i] = _wrapping_mul(t, t)
    elif op == ew.K_NEG:
        for i in range(n):
            d[i] = _wrapping_neg(a[i])
    elif op == ew.K_ABS:
        for i in range(n):
            d[i] = _abs(a[i])
    elif op == ew.K_SIGN:
        for i in range(n):
            d[i] = _sign(a[i])
    elif op == ew.K_SQUARE:
        for i in range(n):
            d[i] = _wrapping_mul(a[i], a[i])
    elif op == ew.K_RELU:
        for i in range(n):
            d[i] = _relu(a[i])
    elif numeric_t is float32_t:
        _apply_float32(op, d, a, b, n)
    elif numeric_t is float64_t:
        _apply_float64(op, d, a, b, n)


# The float-only instructions, written per C type: the libm call must be the float or the
# double function by name for GCC to find its vector variant.

# tanh's Taylor coefficients (x - x^3/3 + 2x^5/15 - ...), for |x| < 0.55 in _apply_float32;
# compile-time constants, so the vector loop keeps them in registers.
DEF _TANH_C3 = -0.3333333333333333  # -1/3
DEF _TANH_C5 = 0.13333333333333333  # 2/15
DEF _TANH_C7 = -0.05396825396825397  # -17/315
DEF _TANH_C9 = 0.021869488536155203  # 62/2835
DEF _TANH_C11 = -0.008863235529902197  # -1382/155925
DEF _TANH_C13 = 0.003592128036572481  # 21844/6081075
DEF _TANH_C15 = -0.0014558343870513183  # -929569/638512875
DEF _TANH_C17 = 0.000590027440945586  # 6404582/10854718875


cdef void _apply_float32(int op, float32_t* d, const float32_t* a, const float32_t* b,
                         Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i
    cdef float32_t e, t, z, p, numerator, numerator_error, denominator, denominator_error
    cdef float32_t reciprocal, residual
    if op == ew.K_REAL_DIV:
        for i in range(n):
            d[i] = a[i] / b[i]
    elif op == ew.K_FLOOR_DIV:
        for i in range(n):
            d[i] = cmath.floorf(a[i] / b[i])
    elif op == ew.K_FLOOR_MOD:
        for i in range(n):
            d[i] = _floor_mod(a[i], b[i])
    elif op == ew.K_POW:
        for i in range(n):
            d[i] = sl_powf_signed(a[i], b[i])   # vector pow for negative bases too
    elif op == ew.K_SQRT:
        for i in range(n):
            d[i] = cmath.sqrtf(a[i])
    elif op == ew.K_RSQRT:
        for i in range(n):
            d[i] = 1 / cmath.sqrtf(a[i])
    elif op == ew.K_EXP:
        # The inlined exp where the whole block allows it; libm handles specials (_simd_math.h).
        if sl_expf_in_fast_range(a, n):
            for i in range(n):
                d[i] = sl_expf_fast(a[i])
        else:
            for i in range(n):
                d[i] = expf(a[i])
    elif op == ew.K_LOG:
        for i in range(n):
            d[i] = logf(a[i])
    elif op == ew.K_LOG1P:
        for i in range(n):
            d[i] = log1pf(a[i])
    elif op == ew.K_SIN:
        for i in range(n):
            d[i] = sinf(a[i])
    elif op == ew.K_COS:
        for i in range(n):
            d[i] = cosf(a[i])
    elif op == ew.K_TANH:
        # On the inlined exp (libmvec's tanhf is slower than numpy's, and its AVX-512 variant
        # is 1.3 ulp off on inputs below 0.55): sign(x) (1 - e) / (1 + e), e = exp(-2|x|)
        # (|x| clamped to 10: from 9.02 on tanh rounds to 1; a select, not fminf, so the loop
        # vectorises); no cancellation where |x| >= 0.55 (e <= 1/3). Below that, tanh's odd
        # Taylor series to x^17 (truncation < 0.1 ulp there). Both sides run in the vector loop
        # and a select picks one. The clamp keeps exp in range for every input, inf included
        # (tanh(+-inf) = +-1), so no block needs libm: only a nan lane is passed through.
        # All in float32 (every constant cast: a bare 1 or 2 is a C double here, which made
        # the whole quotient double, at half the lanes): 1 - e and 1 + e are each kept as a
        # rounded float plus its exact rounding error (Fast2Sum, as |e| < 1), and the quotient
        # gets one Newton correction from the exact FMA residual, so it is as accurate as a
        # double division (0.88 ulp max over every float32; a plain float32 quotient: 1.5).
        for i in range(n):
            z = cmath.fabsf(a[i])
            e = sl_expf_fast(<float32_t>-2 * (z if z < <float32_t>10 else <float32_t>10))
            numerator = <float32_t>1 - e
            numerator_error = (<float32_t>1 - numerator) - e
            denominator = <float32_t>1 + e
            denominator_error = (<float32_t>1 - denominator) + e
            reciprocal = <float32_t>1 / denominator
            t = numerator * reciprocal
            residual = (cmath.fmaf(-t, denominator, numerator)
                        + cmath.fmaf(-t, denominator_error, numerator_error))
            t = cmath.fmaf(residual, reciprocal, t)
            z = a[i] * a[i]
            p = <float32_t>_TANH_C17
            p = p * z + <float32_t>_TANH_C15
            p = p * z + <float32_t>_TANH_C13
            p = p * z + <float32_t>_TANH_C11
            p = p * z + <float32_t>_TANH_C9
            p = p * z + <float32_t>_TANH_C7
            p = p * z + <float32_t>_TANH_C5
            p = p * z + <float32_t>_TANH_C3
            p = a[i] + a[i] * z * p
            # (copysign keeps tanh(-0) = -0, which the series' rounding may flip.)
            t = cmath.copysignf(p if cmath.fabsf(a[i]) < <float32_t>0.55 else t, a[i])
            d[i] = t if a[i] == a[i] else a[i]
    elif op == ew.K_SIGMOID:
        # exp of a non-positive number never overflows; the limits come out exactly 0 and 1.
        # e / (1 + e) is e times the reciprocal already computed: one division per lane, since
        # the vector loop evaluates both sides of the select. The constants are float32: a
        # bare 1 is a C double here, which made the division double (half the lanes, and a
        # slower divide: the loop ran at 0.9 ns an element instead of 0.5).
        if sl_expf_in_fast_range(a, n):
            for i in range(n):
                e = sl_expf_fast(-cmath.fabsf(a[i]))
                t = <float32_t>1 / (<float32_t>1 + e)
                d[i] = t if a[i] >= 0 else e * t
        else:
            for i in range(n):
                e = expf(-cmath.fabsf(a[i]))
                t = <float32_t>1 / (<float32_t>1 + e)
                d[i] = t if a[i] >= 0 else e * t
    elif op == ew.K_RECIPROCAL:
        for i in range(n):
            d[i] = 1 / a[i]


cdef void _apply_float64(int op, float64_t* d, const float64_t* a, const float64_t* b,
                         Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i
    cdef float64_t e, t
    if op == ew.K_REAL_DIV:
        for i in range(n):
            d[i] = a[i] / b[i]
    elif op == ew.K_FLOOR_DIV:
        for i in range(n):
            d[i] = cmath.floor(a[i] / b[i])
    elif op == ew.K_FLOOR_MOD:
        for i in range(n):
            d[i] = _floor_mod(a[i], b[i])
    elif op == ew.K_POW:
        for i in range(n):
            d[i] = sl_pow_signed(a[i], b[i])
    elif op == ew.K_SQRT:
        for i in range(n):
            d[i] = cmath.sqrt(a[i])
    elif op == ew.K_RSQRT:
        for i in range(n):
            d[i] = 1 / cmath.sqrt(a[i])
    elif op == ew.K_EXP:
        for i in range(n):
            d[i] = exp(a[i])
    elif op == ew.K_LOG:
        for i in range(n):
            d[i] = log(a[i])
    elif op == ew.K_LOG1P:
        for i in range(n):
            d[i] = log1p(a[i])
    elif op == ew.K_SIN:
        for i in range(n):
            d[i] = sin(a[i])
    elif op == ew.K_COS:
        for i in range(n):
            d[i] = cos(a[i])
    elif op == ew.K_TANH:
        for i in range(n):
            d[i] = tanh(a[i])
    elif op == ew.K_SIGMOID:
        for i in range(n):
            e = exp(-cmath.fabs(a[i]))      # as for float32
            t = 1 / (1 + e)
            d[i] = t if a[i] >= 0 else e * t
    elif op == ew.K_RECIPROCAL:
        for i in range(n):
            d[i] = 1 / a[i]


# ---------------------------------------------------------------------------------------------
# Reductions of one row segment into an accumulator slot (8 bytes: double for float sums,
# uint64 for integer sums, the element type for max/min).

cdef void _reduce_segment(int reduction, const numeric_t* y, Py_ssize_t n,
                          char* slot) noexcept nogil:
    cdef Py_ssize_t i, j, chunk, width, body = n - n % LANES
    cdef numeric_t lanes[LANES]
    cdef uint64_t wide[LANES]
    cdef numeric_t m, v
    cdef double total = 0
    cdef uint64_t wrapped = 0
    cdef bint nan = False
    if reduction == REDUCE_SUM or reduction == REDUCE_MEAN:
        if numeric_t is float32_t or numeric_t is float64_t:
            for j in range(LANES):
                lanes[j] = 0
            for chunk in range(body // LANES):
                i = chunk * LANES
                for j in range(LANES):
                    lanes[j] = lanes[j] + y[i + j]
            # Fold the lanes pairwise (a few vector adds, where a serial sum would wait on each).
            width = LANES // 2
            while width > 0:
                for j in range(width):
                    lanes[j] = lanes[j] + lanes[j + width]
                width = width // 2
            total = lanes[0]
            for i in range(body, n):
                total += y[i]
            (<double*>slot)[0] += total
        else:
            for j in range(LANES):
                wide[j] = 0
            for chunk in range(body // LANES):
                i = chunk * LANES
                for j in range(LANES):
                    wide[j] = wide[j] + <uint64_t><int64_t>y[i + j]
            for j in range(LANES):
                wrapped += wide[j]
            for i in range(body, n):
                wrapped += <uint64_t><int64_t>y[i]
            (<uint64_t*>slot)[0] += wrapped
        return
    m = (<numeric_t*>slot)[0]
    for j in range(LANES):
        lanes[j] = m
    if reduction == REDUCE_MAX:
        for chunk in range(body // LANES):
            i = chunk * LANES
            for j in range(LANES):
                v = y[i + j]
                lanes[j] = v if v > lanes[j] else lanes[j]
        for i in range(body, n):
            lanes[0] = y[i] if y[i] > lanes[0] else lanes[0]
        for j in range(LANES):
            m = lanes[j] if lanes[j] > m else m
    else:
        for chunk in range(body // LANES):
            i = chunk * LANES
            for j in range(LANES):
                v = y[i + j]
                lanes[j] = v if v < lanes[j] else lanes[j]
        for i in range(body, n):
            lanes[0] = y[i] if y[i] < lanes[0] else lanes[0]
        for j in range(LANES):
            m = lanes[j] if lanes[j] < m else m
    if numeric_t is float32_t or numeric_t is float64_t:
        # The comparisons above skip NaN; a NaN anywhere makes the result NaN (numpy, TF).
        if m == m:
            for i in range(n):
                nan = nan | (y[i] != y[i])
            if nan:
                m = <numeric_t>cmath.NAN
    (<numeric_t*>slot)[0] = m


cdef void _reduce_init(int reduction, char* slot, numeric_t* marker) noexcept nogil:
    if reduction == REDUCE_SUM or reduction == REDUCE_MEAN:
        (<uint64_t*>slot)[0] = 0    # also 0.0 as a double
    elif reduction == REDUCE_MAX:
        if numeric_t is float32_t or numeric_t is float64_t:
            (<numeric_t*>slot)[0] = -cmath.INFINITY
        elif numeric_t is uint8_t:
            (<numeric_t*>slot)[0] = 0
        else:
            (<numeric_t*>slot)[0] = <numeric_t>(<numeric_t>1 << (sizeof(numeric_t) * 8 - 1))
    else:
        if numeric_t is float32_t or numeric_t is float64_t:
            (<numeric_t*>slot)[0] = cmath.INFINITY
        elif numeric_t is uint8_t:
            (<numeric_t*>slot)[0] = 255
        else:
            (<numeric_t*>slot)[0] = <numeric_t>~(<numeric_t>1 << (sizeof(numeric_t) * 8 - 1))


cdef void _reduce_combine(int reduction, char* into, const char* part,
                          numeric_t* marker) noexcept nogil:
    cdef numeric_t a, b
    if reduction == REDUCE_SUM or reduction == REDUCE_MEAN:
        if numeric_t is float32_t or numeric_t is float64_t:
            (<double*>into)[0] += (<const double*>part)[0]
        else:
            (<uint64_t*>into)[0] += (<const uint64_t*>part)[0]
        return
    a = (<numeric_t*>into)[0]
    b = (<const numeric_t*>part)[0]
    if reduction == REDUCE_MAX:
        (<numeric_t*>into)[0] = a if (a != a or a >= b) else b
    else:
        (<numeric_t*>into)[0] = a if (a != a or a <= b) else b


cdef void _reduce_finish(int reduction, const char* slot, Py_ssize_t count,
                         numeric_t* out) noexcept nogil:
    cdef numeric_t total
    cdef int64_t signed_total
    cdef uint64_t magnitude
    if reduction == REDUCE_SUM:
        if numeric_t is float32_t or numeric_t is float64_t:
            out[0] = <numeric_t>(<const double*>slot)[0]
        else:
            out[0] = <numeric_t>(<const uint64_t*>slot)[0]
    elif reduction == REDUCE_MEAN:
        if numeric_t is float32_t or numeric_t is float64_t:
            out[0] = <numeric_t>((<const double*>slot)[0] / count)   # 0 / 0 is NaN, as in TF
        else:
            # TF divides the wrapped-around sum by the count in the integer type, truncating.
            total = <numeric_t>(<const uint64_t*>slot)[0]
            if count == 0:
                out[0] = 0
                return
            signed_total = <int64_t>total
            if signed_total < 0:
                magnitude = (<uint64_t>0 - <uint64_t>signed_total) // <uint64_t>count
                out[0] = <numeric_t>(<uint64_t>0 - magnitude)
            else:
                out[0] = <numeric_t>(<uint64_t>signed_total // <uint64_t>count)
    else:
        out[0] = (<const numeric_t*>slot)[0]


# ---------------------------------------------------------------------------------------------
# The block loop.

cdef struct Run:
    const int* code             # num_instructions quadruples (opcode, dst, a, b)
    int num_instructions
    int num_inputs
    int num_registers
    int reduction
    int reduce_src
    int copy_src                # >= 0: copy this operand to the output (no reduction)
    Py_ssize_t size             # elements of the chain's result y
    Py_ssize_t inner            # reductions: elements per output row; else 1
    Py_ssize_t outer            # reductions: output elements
    Py_ssize_t block            # elements per block (<= BLOCK)
    const char* data[MAX_INPUTS]
    Py_ssize_t period[MAX_INPUTS]  # input k at flat index i is data[k][i % period[k]]
    # period[k] == ROWS_STRIDED: input k at flat index i is
    # data[k][(i // row_length[k]) * row_stride[k] + i % row_length[k]]
    Py_ssize_t row_length[MAX_INPUTS]
    Py_ssize_t row_stride[MAX_INPUTS]
    char* out                   # the output (no reduction) or NULL
    char* acc                   # reductions: accumulator slots, 8 bytes each
    int num_exports             # registers that are outputs too (never with a reduction)
    int export_register[_MAX_EXPORTS]
    char* export_out[_MAX_EXPORTS]


cdef int _run_range(numeric_t* marker, const Run* run, Py_ssize_t start, Py_ssize_t stop,
                    char* acc) noexcept nogil:
    """Computes y[start:stop] block by block (into the output, or into `acc` rows)."""
    cdef Py_ssize_t block = run.block, pos, n, k, offset, p, first, i, row, column, seg
    cdef int j, opcode, dst, a, b, num_inputs = run.num_inputs
    cdef const numeric_t* operand[MAX_INPUTS + MAX_REGISTERS]
    cdef const numeric_t* source
    cdef const numeric_t* row_start
    cdef numeric_t* staging
    cdef numeric_t* target
    cdef numeric_t* out = <numeric_t*>run.out
    # Registers start on cache lines: a 32-byte access that straddles two lines costs extra,
    # and every instruction stores a whole block into one of them.
    cdef Py_ssize_t stride = (block * <Py_ssize_t>sizeof(numeric_t) + 63) // 64 * 64
    cdef char* allocation = <char*>malloc((run.num_registers + num_inputs) * stride + 64)
    cdef char* scratch
    if allocation == NULL:
        return -1
    scratch = allocation + (64 - <size_t>allocation % 64)
    for j in range(run.num_registers):
        operand[num_inputs + j] = <numeric_t*>(scratch + j * stride)
    staging = <numeric_t*>(scratch + run.num_registers * stride)
    for k in range(num_inputs):
        if run.period[k] == 1:     # a scalar: fill its register once
            target = <numeric_t*>(<char*>staging + k * stride)
            for i in range(block):
                target[i] = (<const numeric_t*>run.data[k])[0]
            operand[k] = target
    pos = start
    while pos < stop:
        n = stop - pos
        if n > block:
            n = block
        for k in range(num_inputs):
            p = run.period[k]
            source = <const numeric_t*>run.data[k]
            if p == run.size:
                operand[k] = source + pos
            elif p == ROWS_STRIDED:   # spaced rows: gather the block's row segments
                target = <numeric_t*>(<char*>staging + k * stride)
                row = pos // run.row_length[k]
                offset = pos - row * run.row_length[k]
                first = 0
                while first < n:
                    seg = run.row_length[k] - offset
                    if seg > n - first:
                        seg = n - first
                    row_start = source + row * run.row_stride[k] + offset
                    for i in range(seg):
                        target[first + i] = row_start[i]
                    first += seg
                    offset = 0
                    row += 1
                operand[k] = target
            elif p != 1:           # broadcast along leading axes: copy the block periodically
                target = <numeric_t*>(<char*>staging + k * stride)
                offset = pos % p
                first = 0
                while first < n:
                    seg = p - offset
                    if seg > n - first:
                        seg = n - first
                    for i in range(seg):
                        target[first + i] = source[offset + i]
                    first += seg
                    offset = 0
                operand[k] = target
        # An exported register is its output's block: the instruction writing it stores there.
        for j in range(run.num_exports):
            operand[num_inputs + run.export_register[j]] = (<numeric_t*>run.export_out[j]) + pos
        for j in range(run.num_instructions):
            opcode = run.code[4 * j]
            dst = run.code[4 * j + 1]
            a = run.code[4 * j + 2]
            b = run.code[4 * j + 3]
            target = out + pos if dst < 0 else <numeric_t*>operand[dst]
            _apply(opcode, target, operand[a], operand[b] if b >= 0 else operand[a], n)
        if run.copy_src >= 0:
            source = operand[run.copy_src]
            for i in range(n):
                out[pos + i] = source[i]
        elif run.reduction != REDUCE_NONE:
            source = operand[run.reduce_src]
            row = pos // run.inner
            column = pos - row * run.inner
            first = 0
            while first < n:
                seg = run.inner - column
                if seg > n - first:
                    seg = n - first
                _reduce_segment(run.reduction, source + first, seg, acc + 8 * row)
                first += seg
                row += 1
                column = 0
        pos += n
    free(allocation)
    return 0


cdef int _execute(numeric_t* marker, Run* run, int num_threads) noexcept nogil:
    """Runs the program over all of y on up to `num_threads` threads; -1 if out of memory."""
    cdef Py_ssize_t size = run.size, chunk, part, start, stop, row, rows_per_part
    cdef Py_ssize_t num_parts = 1, outer = run.outer
    cdef int error = 0, threads = 1
    cdef bint by_rows = False
    cdef char* acc = run.acc
    if num_threads > 1 and size >= PARALLEL_THRESHOLD:
        # More parts than threads, handed out dynamically: when another process holds a core
        # for a while, the other threads take over its share instead of waiting for it.
        num_parts = size // MIN_PART_SIZE
        if num_parts > num_threads * PARTS_PER_THREAD:
            num_parts = num_threads * PARTS_PER_THREAD
        if num_parts < num_threads:
            num_parts = num_threads
    if run.reduction != REDUCE_NONE:
        by_rows = num_parts == 1 or outer >= 4 * num_parts
        if not by_rows:
            acc = <char*>malloc(8 * outer * num_parts)
            if acc == NULL:
                return -1
        for row in range(outer * (1 if by_rows else num_parts)):
            _reduce_init(run.reduction, acc + 8 * row, marker)
    # The parts follow the cap (`num_threads`), not the threads leased from the core budget
    # (runtime/cores.py), so a reduction adds in the same order whatever the lease.
    if num_parts > 1:
        threads = cores.lease(num_threads)
    if num_parts == 1:
        error = _run_range(marker, run, 0, size, acc)
    elif by_rows:
        rows_per_part = (outer + num_parts - 1) // num_parts
        for part in prange(num_parts, num_threads=threads, schedule="dynamic"):
            start = part * rows_per_part * run.inner
            stop = start + rows_per_part * run.inner
            if stop > size:
                stop = size
            if start < stop:
                error |= _run_range(marker, run, start, stop, acc)
    else:
        chunk = (size + num_parts - 1) // num_parts
        chunk = (chunk + 63) // 64 * 64     # threads write whole cache lines of the output
        for part in prange(num_parts, num_threads=threads, schedule="dynamic"):
            start = part * chunk
            stop = start + chunk
            if stop > size:
                stop = size
            if start < stop:
                error |= _run_range(marker, run, start, stop,
                                    acc + (0 if by_rows else 8 * outer * part))
    if num_parts > 1:
        cores.release(threads)
    if run.reduction != REDUCE_NONE:
        if not by_rows:
            for part in range(1, num_parts):
                for row in range(outer):
                    _reduce_combine(run.reduction, acc + 8 * row,
                                    acc + 8 * (outer * part + row), marker)
        for row in range(outer):
            _reduce_finish(run.reduction, acc + 8 * row, run.inner,
                           <numeric_t*>run.out + row)
        if not by_rows:
            free(acc)
    return error


cdef int _dispatch(int code, Run* run, int num_threads) noexcept nogil:
    if code == ew.DT_FLOAT32:
        return _execute(<float32_t*>NULL, run, num_threads)
    if code == ew.DT_FLOAT64:
        return _execute(<float64_t*>NULL, run, num_threads)
    if code == ew.DT_INT32:
        return _execute(<int32_t*>NULL, run, num_threads)
    if code == ew.DT_INT64:
        return _execute(<int64_t*>NULL, run, num_threads)
    if code == ew.DT_INT8:
        return _execute(<int8_t*>NULL, run, num_threads)
    if code == ew.DT_INT16:
        return _execute(<int16_t*>NULL, run, num_threads)
    if code == ew.DT_UINT8:
        return _execute(<uint8_t*>NULL, run, num_threads)
    return -2


# ---------------------------------------------------------------------------------------------
# The kernel.

_errors_module = None
# The numpy spec of a program and the reduction kernel for non-trailing axes, handed over by
# runtime/fusion.py (set_fallbacks); None until then.
_reference_kernel = None
_reduce_kernel = None


def set_fallbacks(reference_kernel, reduce_kernel):
    """Hands this module the kernels it delegates to (the core never imports the runtime).

    runtime/fusion.py, which owns both, calls this when it is imported.

    Args:
      reference_kernel: ``(ctx, inputs, attrs) -> (result,)``, the numpy spec of a program:
        it runs float16 programs and programs beyond the limits (MAX_INPUTS, ...).
      reduce_kernel: ``(ctx, value, axes, attrs) -> (result,)``: reduces `value` over `axes`
        with the kernel of the program's reduction op (``attrs['reduce_op']``); used for
        reductions over axes that are not the trailing ones.

    Raises:
      ValueError: if either is not callable.
    """
    global _reference_kernel, _reduce_kernel
    if not callable(reference_kernel) or not callable(reduce_kernel):
        raise ValueError("the fallback kernels must be callable")
    _reference_kernel, _reduce_kernel = reference_kernel, reduce_kernel


def _errors():
    global _errors_module
    if _errors_module is None:
        from sessionlib import errors
        _errors_module = errors
    return _errors_module


cdef object _handed(object kernel):
    """`kernel`, a fallback from set_fallbacks; RuntimeError when none was handed over."""
    if kernel is None:
        raise RuntimeError("sessionlib._core.fused: the numpy fallbacks were not handed over "
                           "(importing sessionlib.runtime.fusion does it)")
    return kernel


def _shape_string(shape):
    return "[" + ",".join(str(dim) for dim in shape) + "]"


cdef int _broadcast(tuple arrays, int count, cnp.npy_intp* shape, int* ndim) except -1:
    """numpy's broadcast shape of the inputs into `shape`; InvalidArgumentError if none."""
    cdef int k, axis, out_ndim = 0, x_ndim
    cdef cnp.ndarray x
    cdef cnp.npy_intp dim
    for k in range(count):
        x = <cnp.ndarray>PyTuple_GET_ITEM(arrays, k)
        if cnp.PyArray_NDIM(x) > out_ndim:
            out_ndim = cnp.PyArray_NDIM(x)
    for axis in range(out_ndim):
        shape[axis] = 1
    for k in range(count):
        x = <cnp.ndarray>PyTuple_GET_ITEM(arrays, k)
        x_ndim = cnp.PyArray_NDIM(x)
        for axis in range(x_ndim):
            dim = cnp.PyArray_DIMS(x)[axis]
            if dim == 1:
                continue
            if shape[out_ndim - x_ndim + axis] == 1:
                shape[out_ndim - x_ndim + axis] = dim
            elif shape[out_ndim - x_ndim + axis] != dim:
                raise _errors().InvalidArgumentError(
                    None, None, "Incompatible shapes: "
                    + _shape_string([shape[a] for a in range(out_ndim)]) + " vs. "
                    + _shape_string((<object>x).shape))
    ndim[0] = out_ndim
    return 0


cdef bint _rows_strided(cnp.ndarray x, Py_ssize_t* row_length,
                        Py_ssize_t* row_stride) noexcept:
    """Whether `x` (of the output's shape, not C-contiguous) is rows of contiguous elements
    at one element stride apart (its leading axes collapse into one): a column slice of a
    matrix. Sets the row length and the row stride, in elements."""
    cdef int ndim = cnp.PyArray_NDIM(x), axis
    cdef Py_ssize_t itemsize = cnp.PyArray_ITEMSIZE(x)
    cdef const cnp.npy_intp* strides = cnp.PyArray_STRIDES(x)
    cdef const cnp.npy_intp* dims = cnp.PyArray_DIMS(x)
    if ndim < 2 or not (cnp.PyArray_ISALIGNED(x) and cnp.PyArray_ISNOTSWAPPED(x)):
        return False
    if strides[ndim - 1] != itemsize or strides[ndim - 2] % itemsize:
        return False
    for axis in range(ndim - 2):
        if strides[axis] != strides[axis + 1] * dims[axis + 1]:
            return False
    row_length[0] = dims[ndim - 1]
    row_stride[0] = strides[ndim - 2] // itemsize
    return True


cdef Py_ssize_t _period(cnp.ndarray x, const cnp.npy_intp* shape, int ndim) noexcept:
    """How input `x` reads at flat output index i: x[i % period] (period 1: a scalar; the
    output size: full). 0 when it needs materialising (other broadcasts, non-contiguous)."""
    cdef Py_ssize_t size = cnp.PyArray_SIZE(x)
    cdef int x_ndim = cnp.PyArray_NDIM(x), axis, lead = 0
    if size == 1:
        return 1
    if not (cnp.PyArray_IS_C_CONTIGUOUS(x) and cnp.PyArray_ISALIGNED(x)
            and cnp.PyArray_ISNOTSWAPPED(x)):
        return 0
    # Leading length-1 axes of x do not matter; the rest must equal the output's trailing axes.
    while lead < x_ndim and cnp.PyArray_DIMS(x)[lead] == 1:
        lead += 1
    for axis in range(lead, x_ndim):
        if cnp.PyArray_DIMS(x)[axis] != shape[ndim - x_ndim + axis]:
            return 0
    return size


cdef bint _has_shape(cnp.ndarray x, const cnp.npy_intp* shape, int ndim) noexcept:
    """Whether `x` has exactly the output's shape (no broadcasting)."""
    cdef int axis
    if cnp.PyArray_NDIM(x) != ndim:
        return False
    for axis in range(ndim):
        if cnp.PyArray_DIMS(x)[axis] != shape[axis]:
            return False
    return True


cdef object _trailing_reduction(object axes, int ndim, const cnp.npy_intp* shape):
    """(outer, inner) when `axes` are exactly the last len(axes) axes of the shape, else None
    (other axes, or invalid ones: the numpy path then reduces, or raises TF's error)."""
    cdef int count = len(axes), axis
    cdef Py_ssize_t outer = 1, inner = 1
    seen = set()
    for value in axes:
        if not -ndim <= value < ndim:
            return None
        seen.add(value % ndim)
    if len(seen) != count or (count and min(seen) != ndim - count):
        return None
    for axis in range(ndim):
        if axis < ndim - count:
            outer *= shape[axis]
        else:
            inner *= shape[axis]
    return outer, inner


def fused_elementwise(ctx, tuple inputs, dict attrs):
    """Runs the fused program in `attrs` over `inputs` (see the module's design note).

    Args:
      ctx: the run context (unused; reductions over non-trailing axes pass it on).
      inputs: the node's input arrays (read only; never written).
      attrs: ``program``, ``num_inputs``, ``num_registers``, ``reduce``, ``reduce_src``,
        ``reduce_axes``, ``keep_dims``, ``reduce_op``, and optionally ``exports`` (see
        runtime/fusion.py).

    Returns:
      The result, then the value of each register in ``exports``: new C-contiguous arrays
      of the result's shape.

    Raises:
      InvalidArgumentError: for inputs whose shapes do not broadcast.
    """
    return _fused(ctx, inputs, attrs, False)


_UNARY_ATTRS = {}


def unary(str name, x):
    """Runs one unary instruction over `x`: the unfused kernels' path for large float tensors.

    A single op gets the fused kernel's threads, vector math and inlined exp this way, without
    being a fused node in the plan (traces still show the op itself).

    Args:
      name: a unary entry of OPCODE_NAMES, e.g. ``"exp"`` or ``"sigmoid"``.
      x: a float32 or float64 array (any layout; read only).

    Returns:
      A new C-contiguous array of x's shape and dtype.

    Raises:
      TypeError: for an array that is not of a float dtype.
    """
    x = np.asarray(x)
    if x.dtype.kind != "f":
        raise TypeError(f"fused.unary({name!r}) takes a float array, not {x.dtype}")
    attrs = _UNARY_ATTRS.get(name)
    if attrs is None:
        attrs = {"program": (OPCODE_NAMES.index(name), -1, 0, -1), "num_inputs": 1,
                 "num_registers": 0, "reduce": <int>REDUCE_NONE, "reduce_src": -1,
                 "reduce_axes": (), "keep_dims": False, "reduce_op": "", "_name": name}
        _UNARY_ATTRS[name] = attrs
    return _fused(None, (x,), attrs, False)[0]


cdef int _check_program(tuple program, int num_inputs, int num_registers, int reduction,
                        int reduce_src, tuple exports) except -1:
    """Raises ValueError unless every index of `program` is one the C loop may use.

    The loop trusts them: an operand outside the inputs and registers, or a destination that
    is an input (a read-only or shared buffer), would read or write arbitrary memory. A
    register read before any instruction wrote it, or an output no instruction writes, would
    return whatever the memory held (a previous run's data).
    """
    cdef Py_ssize_t size = PyTuple_GET_SIZE(program), j
    cdef int opcode, dst, a, b, operands = num_inputs + num_registers
    cdef uint64_t written = 0         # bit r: register r holds a value of this run
    cdef bint output_written = False
    if size % 4 or not 0 <= num_registers <= MAX_REGISTERS:
        raise ValueError(f"fused program: {size} ints is not a list of (opcode, dst, a, b) "
                         f"quadruples, or {num_registers} registers is outside "
                         f"0..{MAX_REGISTERS}")
    for j in range(0, size, 4):
        opcode, dst, a, b = program[j], program[j + 1], program[j + 2], program[j + 3]
        if not (0 <= opcode < ew.NUM_OPCODES and 0 <= a < operands and -1 <= b < operands
                and (num_inputs <= dst < operands or (dst == -1 and reduction == REDUCE_NONE))):
            raise ValueError(f"fused program: instruction {j // 4} {program[j:j + 4]} is "
                             f"invalid for {num_inputs} inputs and {num_registers} registers"
                             + (" with a reduction" if reduction != REDUCE_NONE else ""))
        if not (_holds_value(a, num_inputs, written) and (b == -1
                                                          or _holds_value(b, num_inputs, written))):
            raise ValueError(f"fused program: instruction {j // 4} {program[j:j + 4]} reads a "
                             "register before any instruction wrote it")
        if dst == -1:
            output_written = True
        else:
            written |= (<uint64_t>1) << (dst - num_inputs)
    if not REDUCE_NONE <= reduction <= REDUCE_MIN or (
            reduction != REDUCE_NONE and not (0 <= reduce_src < operands
                                              and _holds_value(reduce_src, num_inputs, written))):
        raise ValueError(f"fused program: reduction {reduction} of operand {reduce_src} is "
                         "invalid, or reads a register no instruction wrote")
    if reduction == REDUCE_NONE and not output_written:
        raise ValueError("fused program: no instruction writes the output")
    # An exported register is written by exactly one instruction (a second write would leave
    # only the last value in the output), and exported once.
    if PyTuple_GET_SIZE(exports) > _MAX_EXPORTS or (exports and reduction != REDUCE_NONE):
        raise ValueError(f"fused program: {len(exports)} exported registers (at most "
                         f"{_MAX_EXPORTS}, and none with a reduction)")
    for register in exports:
        writes = sum(1 for j in range(1, size, 4) if program[j] == num_inputs + register)
        if not (0 <= register < num_registers) or writes != 1 or exports.count(register) != 1:
            raise ValueError(f"fused program: exported register {register} is not one that "
                             "exactly one instruction writes")
    return 0


cdef inline bint _holds_value(int operand, int num_inputs, uint64_t written) noexcept:
    """Whether `operand` (an index checked to be in range) is an input or a written register."""
    return operand < num_inputs or (written >> (operand - num_inputs)) & 1


cdef tuple _fused(ctx, tuple inputs, dict attrs, bint materialise):
    """`fused_elementwise`; with `materialise`, the reduction's operand y is returned
    instead of reduced."""
    cdef tuple program = attrs["program"]
    cdef int count = <int>PyTuple_GET_SIZE(inputs), k, ndim, code, error, out_ndim
    cdef int num_instructions = <int>(PyTuple_GET_SIZE(program) // 4)
    cdef int reduction = REDUCE_NONE if materialise else attrs["reduce"]
    cdef int code_buffer[4 * MAX_INSTRUCTIONS]
    cdef cnp.npy_intp shape[MAX_DIMS]
    cdef cnp.npy_intp out_shape[MAX_DIMS]
    cdef cnp.ndarray x, out
    cdef Run run
    cdef Py_ssize_t period
    cdef int num_threads = ew.kernel_num_threads()
    cdef tuple exports = attrs.get("exports", ())
    cdef list extra = []
    if count > MAX_INPUTS or num_instructions > MAX_INSTRUCTIONS or (
            attrs["num_registers"] > MAX_REGISTERS):
        return _handed(_reference_kernel)(ctx, inputs, attrs)
    _check_program(program, count, attrs["num_registers"], attrs["reduce"],
                   attrs["reduce_src"], exports)
    arrays = tuple([value if cnp.PyArray_Check(value) else np.asarray(value)
                    for value in inputs])
    x = <cnp.ndarray>arrays[0]
    code = ew.dtype_code(x)
    for k in range(1, count):
        if ew.dtype_code(<cnp.ndarray>arrays[k]) != code:
            raise _errors().InvalidArgumentError(
                None, None, f"{attrs.get('_name')}: all inputs of a fused chain must have "
                f"one dtype, got {x.dtype.name} and {arrays[k].dtype.name}")
    if code not in (ew.DT_FLOAT32, ew.DT_FLOAT64, ew.DT_INT8, ew.DT_INT16, ew.DT_INT32,
                    ew.DT_INT64, ew.DT_UINT8):
        # float16 (no C type) and anything unexpected: the numpy spec.
        return _handed(_reference_kernel)(ctx, inputs, attrs)
    _broadcast(arrays, count, shape, &ndim)
    run.size = 1
    run.num_exports = 0
    for k in range(ndim):
        run.size *= shape[k]
    run.reduction = reduction
    run.copy_src = attrs["reduce_src"] if materialise else -1
    run.inner = 1
    run.outer = run.size
    if reduction != REDUCE_NONE:
        split = _trailing_reduction(attrs["reduce_axes"], ndim, shape)
        if split is None:
            # Other axes: run the chain fused, then the reduction's own kernel.
            y = _fused(ctx, inputs, attrs, True)[0]
            axes = np.asarray(attrs["reduce_axes"], dtype=np.int64)
            return _handed(_reduce_kernel)(ctx, y, axes, attrs)
        run.outer, run.inner = split
        out_ndim = 0
        for k in range(ndim):
            if k < ndim - len(attrs["reduce_axes"]):
                out_shape[out_ndim] = shape[k]
                out_ndim += 1
            elif attrs["keep_dims"]:
                out_shape[out_ndim] = 1
                out_ndim += 1
        out = cnp.PyArray_EMPTY(out_ndim, out_shape, cnp.PyArray_TYPE(x), 0)
        run.reduce_src = attrs["reduce_src"]
        run.acc = <char*>malloc(8 * run.outer + 8)
        if run.acc == NULL:
            raise MemoryError()
    else:
        out = cnp.PyArray_EMPTY(ndim, shape, cnp.PyArray_TYPE(x), 0)
        run.acc = NULL
        for k in range(PyTuple_GET_SIZE(exports)):
            extra.append(cnp.PyArray_EMPTY(ndim, shape, cnp.PyArray_TYPE(x), 0))
        if run.size == 0:
            return (out,) + tuple(extra)
    # Inputs: read in place when full-size, periodic or spaced rows, else materialised once.
    keep = list(arrays)
    for k in range(count):
        x = <cnp.ndarray>keep[k]
        period = _period(x, shape, ndim) if run.size else 1
        if period == 0 and _has_shape(x, shape, ndim) and _rows_strided(
                x, &run.row_length[k], &run.row_stride[k]):
            period = ROWS_STRIDED
        elif period == 0:
            if _has_shape(x, shape, ndim):
                # Another strided view of the full shape (its rows not contiguous): one copy,
                # without broadcast_to's per-call cost.
                x = np.ascontiguousarray(x)
            else:
                x = np.ascontiguousarray(
                    np.broadcast_to(x, tuple([shape[a] for a in range(ndim)])))
            keep[k] = x
            period = run.size
        run.data[k] = <const char*>cnp.PyArray_DATA(x)
        run.period[k] = period
    for k in range(4 * num_instructions):
        code_buffer[k] = program[k]
    run.code = code_buffer
    run.num_instructions = num_instructions
    run.num_inputs = count
    run.num_registers = attrs["num_registers"]
    run.block = _BLOCK if run.size > _BLOCK else (run.size if run.size > 0 else 1)
    run.out = <char*>cnp.PyArray_DATA(out)
    run.num_exports = <int>len(extra)
    for k in range(run.num_exports):
        run.export_register[k] = exports[k]
        run.export_out[k] = <char*>cnp.PyArray_DATA(<cnp.ndarray>extra[k])
    try:
        if run.size >= NOGIL_THRESHOLD:
            with nogil:
                error = _dispatch(code, &run, num_threads)
        else:
            error = _dispatch(code, &run, num_threads)
    finally:
        if run.acc != NULL:
            free(run.acc)
    if error:
        raise MemoryError("out of memory in a fused elementwise kernel")
    return (out,) + tuple(extra) if extra else (out,)
