# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False
"""The epilogue of the fused contractions: bias add and activation in place, in one pass.

``_FusedMatMul`` and ``_FusedConv2D`` (``runtime/kernels/nn_fused_kernels.py``) compute their
GEMM or convolution into a fresh array and then call `bias_activation` on it, which adds the
per-channel bias and applies the activation while each block of the result is in cache, as
TF's fused kernels do (Eigen's output kernel). The unfused graph reads and writes the product
two or three more times (BiasAdd, then Relu), each a separate kernel call with its own output.
"""

# Design
# ======
#
# Layout. The output is viewed as [outer, channels, inner]: channels last (NHWC, a matrix) is
# inner == 1 and the bias varies along each row; channels first (NCHW) has the bias constant
# along each `inner` run. Work is cut into *segments*: a run of whole rows (channels last) or
# one (n, c) plane (channels first), so every element belongs to exactly one segment and a
# segment never needs another thread's data.
#
# One pass. Per block of about BLOCK elements (a few rows, in L1), the bias is added by one
# flat loop, then the activation by another over the same block: each loop has no branches the
# compiler cannot turn into selects, so both vectorise, and the block is read from memory once.
# The loops are separate (not one expression) and the module is built with -ffp-contract=off, so
# bias + activation is rounded exactly as BiasAdd then the activation kernel round it.
#
# Activations, and how each compares to the unfused fast kernel:
#   Relu, Relu6, LeakyRelu: the values of elementwise.relu / nn_model's selects: bit-identical;
#   Elu: libm expm1 per element, as nn_model.elu: bit-identical;
#   Tanh: tanh from _simd_math.h (libmvec's vector variant where glibc has it, <= 4 ulp);
#   Sigmoid: the fused kernel's formula (float32: the inlined exp where a block is in range).
# The unfused Tanh and Sigmoid kernels themselves switch between libm, numpy and the fused
# kernel by tensor size (elementwise.pyx), so those two agree with them to a few ulps, the
# same tolerance as every fused elementwise chain (fused.pyx).
#
# Threads. Above PARALLEL_THRESHOLD elements the segments are split into contiguous parts, one
# per ``elementwise.set_num_threads`` thread (the session's intra-op cap), run on the threads
# leased from the core budget (``cores.pyx``); below it one thread, and the GIL is held only
# for tiny outputs.
#
# Inputs. The bias is read through a const memoryview (read-only and shared-memory buffers
# work); the output must be a writable, C-contiguous float32 or float64 array that the caller
# owns (the fresh product). Other dtypes are the caller's business (numpy reference path).

cimport numpy as cnp
from cython.parallel cimport prange
from libc cimport math as cmath

from sessionlib._core cimport cores
from sessionlib._core cimport elementwise as ew
from sessionlib._core._simd_math cimport (
    exp, expf, sl_cpu_supported, sl_expf_fast, sl_expf_in_fast_range, tanh, tanhf,
)

import numpy as np

cnp.import_array()

if not sl_cpu_supported():
    raise ImportError("sessionlib._core.epilogue was compiled for AVX2/FMA (x86-64-v3) or "
                      "AVX-512 (x86-64-v4), which this CPU lacks; rebuild with "
                      "SESSIONLIB_MARCH= (empty) or SESSIONLIB_MARCH=x86-64-v3")

__all__ = ["bias_activation", "ACTIVATIONS"]

ctypedef fused real_t:
    float
    double

# The activation codes, in the order of ACTIVATIONS (the op types they stand for).
cdef enum:
    ACT_NONE = 0
    ACT_RELU = 1
    ACT_RELU6 = 2
    ACT_ELU = 3
    ACT_TANH = 4
    ACT_SIGMOID = 5
    ACT_LEAKY_RELU = 6
    ACT_COUNT = 7

# The op type of each code ("" for none): the runtime maps a fused_ops entry to its index here.
ACTIVATIONS = ("", "Relu", "Relu6", "Elu", "Tanh", "Sigmoid", "LeakyRelu")

# Above this many elements the segments are split over threads (when there are several): Elu,
# Tanh and Sigmoid, whose exp makes the pass compute-bound.
cdef Py_ssize_t PARALLEL_THRESHOLD = 65536
# The same for the memory-bound passes (the bias add alone, Relu, Relu6, LeakyRelu). Waking a
# sleeping OpenMP thread (OMP_WAIT_POLICY=PASSIVE) costs more than half of such a pass saves:
# measured in a session on a 2-core machine, the bias add of a [128, 512] product took 4.2 us on
# one thread and 14.4 us on two, and one thread still won at [1024, 512] (36 us against 49).
cdef Py_ssize_t LIGHT_PARALLEL_THRESHOLD = 1 << 20
# Below this many elements the GIL is kept: releasing it costs more than the loop.
cdef Py_ssize_t NOGIL_THRESHOLD = 8192
# Elements per block: a few rows, small enough to stay in L1 between the two loops.
cdef Py_ssize_t BLOCK = 2048


cdef inline void _activate(real_t* d, Py_ssize_t n, int activation, real_t alpha) noexcept nogil:
    """d[i] = activation(d[i]) for i < n."""
    cdef Py_ssize_t i
    cdef real_t v, e, t, zero = 0, one = 1, six = 6
    if activation == ACT_RELU:
        # _relu's value (NaN and -0.0 stay) as one compare and select, which vectorises; the
        # short-circuit form compiles to a branch per element here, mispredicted on mixed signs.
        for i in range(n):
            v = d[i]
            d[i] = zero if v < zero else v
    elif activation == ACT_RELU6:
        # NaN fails both tests and stays NaN, as in nn_model.relu6.
        for i in range(n):
            v = d[i]
            d[i] = six if v > six else (zero if v <= zero else v)
    elif activation == ACT_LEAKY_RELU:
        for i in range(n):
            v = d[i]
            d[i] = v if v > zero else v * alpha
    elif activation == ACT_ELU:
        for i in range(n):
            v = d[i]
            if v < zero:
                if real_t is float:
                    d[i] = cmath.expm1f(v)
                else:
                    d[i] = cmath.expm1(v)
    elif activation == ACT_TANH:
        if real_t is float:
            for i in range(n):
                d[i] = tanhf(d[i])
        else:
            for i in range(n):
                d[i] = tanh(d[i])
    elif activation == ACT_SIGMOID:
        # exp of a non-positive number never overflows; the limits come out exactly 0 and 1.
        if real_t is float:
            if sl_expf_in_fast_range(d, n):
                for i in range(n):
                    v = d[i]
                    e = sl_expf_fast(-cmath.fabsf(v))
                    t = <float>1 / (<float>1 + e)     # float32 constants: as in fused.pyx
                    d[i] = t if v >= 0 else e * t
            else:
                for i in range(n):
                    v = d[i]
                    e = expf(-cmath.fabsf(v))
                    t = <float>1 / (<float>1 + e)
                    d[i] = t if v >= 0 else e * t
        else:
            for i in range(n):
                v = d[i]
                e = exp(-cmath.fabs(v))
                t = one / (one + e)
                d[i] = t if v >= zero else e * t


cdef void _rows(real_t* out, const real_t* bias, Py_ssize_t first, Py_ssize_t last,
                Py_ssize_t channels, int activation, real_t alpha) noexcept nogil:
    """Channels last: rows [first, last) of the [rows, channels] output."""
    cdef Py_ssize_t rows_per_block = BLOCK // channels if channels < BLOCK else 1
    cdef Py_ssize_t row, stop, j
    cdef real_t* d
    while first < last:
        stop = first + rows_per_block
        if stop > last:
            stop = last
        for row in range(first, stop):
            d = out + row * channels
            for j in range(channels):
                d[j] = d[j] + bias[j]
        if activation != ACT_NONE:
            _activate(out + first * channels, (stop - first) * channels, activation, alpha)
        first = stop


cdef void _planes(real_t* out, const real_t* bias, Py_ssize_t first, Py_ssize_t last,
                  Py_ssize_t channels, Py_ssize_t inner, int activation,
                  real_t alpha) noexcept nogil:
    """Channels first: (n, c) planes [first, last) of the [outer * channels, inner] output."""
    cdef Py_ssize_t plane, start, stop, i
    cdef real_t b
    cdef real_t* d
    for plane in range(first, last):
        b = bias[plane % channels]
        start = 0
        while start < inner:
            stop = start + BLOCK
            if stop > inner:
                stop = inner
            d = out + plane * inner + start
            for i in range(stop - start):
                d[i] = d[i] + b
            if activation != ACT_NONE:
                _activate(d, stop - start, activation, alpha)
            start = stop


cdef void _run(real_t* out, const real_t* bias, Py_ssize_t segments, Py_ssize_t channels,
               Py_ssize_t inner, bint channels_last, int activation, real_t alpha,
               int threads) noexcept nogil:
    cdef Py_ssize_t part, chunk, first, last
    cdef int leased
    if threads <= 1:
        if channels_last:
            _rows(out, bias, 0, segments, channels, activation, alpha)
        else:
            _planes(out, bias, 0, segments, channels, inner, activation, alpha)
        return
    # The threads are leased from the core budget (runtime/cores.py: an emulated GPU's
    # lease is capped at its share); the chunks follow the cap, so the result is the same
    # whatever the lease (each element is computed alone anyway).
    chunk = (segments + threads - 1) // threads
    leased = cores.lease(threads)
    for part in prange(threads, num_threads=leased, schedule="static"):
        first = part * chunk
        last = first + chunk
        if last > segments:
            last = segments
        if last > first:
            if channels_last:
                _rows(out, bias, first, last, channels, activation, alpha)
            else:
                _planes(out, bias, first, last, channels, inner, activation, alpha)
    cores.release(leased)


cdef void _dispatch(real_t* out, const real_t[::1] bias, Py_ssize_t segments,
                    Py_ssize_t channels, Py_ssize_t inner, bint channels_last, int activation,
                    real_t alpha, int threads, bint release) noexcept:
    cdef const real_t* b = &bias[0]
    if release:
        with nogil:
            _run(out, b, segments, channels, inner, channels_last, activation, alpha, threads)
    else:
        _run(out, b, segments, channels, inner, channels_last, activation, alpha, threads)


def bias_activation(cnp.ndarray out, cnp.ndarray bias, int activation, double alpha=0.2,
                    bint channels_last=True):
    """Adds `bias` along the channel axis of `out` and applies an activation, in place.

    Args:
      out: a writable C-contiguous float32 or float64 array of rank >= 1 (rank >= 3 when not
        `channels_last`), which this call overwrites.
      bias: a 1-D array of `out`'s dtype whose length is the channel dimension (the last axis,
        or axis 1 when not `channels_last`). It is only read (through a const memoryview).
      activation: an index into ACTIVATIONS (0: the bias add alone).
      alpha: LeakyRelu's slope for negative values.
      channels_last: whether the channels are the last axis (NHWC, matrices) or axis 1 (NCHW).

    Returns:
      `out`.

    Raises:
      ValueError: for a dtype, layout or bias length this loop does not take (the caller
        checks shapes first and raises TF's errors).
    """
    cdef int typenum = cnp.PyArray_TYPE(out)
    cdef int ndim = cnp.PyArray_NDIM(out)
    cdef Py_ssize_t size = cnp.PyArray_SIZE(out)
    cdef Py_ssize_t channels, inner, segments
    if activation < 0 or activation >= ACT_COUNT:
        raise ValueError(f"unknown activation code {activation}")
    if typenum != cnp.NPY_FLOAT32 and typenum != cnp.NPY_FLOAT64:
        raise ValueError(f"bias_activation takes float32 or float64, got {out.dtype}")
    if cnp.PyArray_TYPE(bias) != typenum or cnp.PyArray_NDIM(bias) != 1:
        raise ValueError("the bias must be 1-D with the output's dtype")
    if not cnp.PyArray_IS_C_CONTIGUOUS(out) or not cnp.PyArray_ISWRITEABLE(out):
        raise ValueError("the output must be writable and C-contiguous")
    if channels_last:
        if ndim < 1:
            raise ValueError("the output needs a channel axis")
        channels = cnp.PyArray_DIM(out, ndim - 1)
        inner = 1
    else:
        if ndim < 3:
            raise ValueError("a channels-first output has rank >= 3")
        channels = cnp.PyArray_DIM(out, 1)
        inner = size // (cnp.PyArray_DIM(out, 0) * channels) if size else 0
    if cnp.PyArray_DIM(bias, 0) != channels:
        raise ValueError(f"the bias has {cnp.PyArray_DIM(bias, 0)} values for {channels} "
                         "channels")
    if size == 0:
        return out
    segments = size // channels if channels_last else size // inner
    cdef int threads = 1
    cdef bint transcendental = (activation == ACT_ELU or activation == ACT_TANH
                                or activation == ACT_SIGMOID)
    if size >= (PARALLEL_THRESHOLD if transcendental else LIGHT_PARALLEL_THRESHOLD):
        threads = ew.kernel_num_threads()
        if threads > segments:
            threads = <int>segments
    cdef bint release = size >= NOGIL_THRESHOLD
    if typenum == cnp.NPY_FLOAT32:
        _dispatch[float](<float*>cnp.PyArray_DATA(out), bias, segments, channels, inner,
                         channels_last, activation, <float>alpha, threads, release)
    else:
        _dispatch[double](<double*>cnp.PyArray_DATA(out), bias, segments, channels, inner,
                          channels_last, activation, alpha, threads, release)
    return out
