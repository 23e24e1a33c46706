# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False
"""Convolution and pooling kernels in C: the fast twin of the numpy reference kernels of
``sessionlib/runtime/kernels/convolution_kernels.py``, which check the arguments, compute the
geometry and call these functions with plain ints.
"""

# Design
# ======
#
# Conv2D and its two backprops are im2col + GEMM. ``_im2col`` lays the input patches out as a
# matrix ``col[(n, oy, ox), (ky, kx, c)]``; the HWIO filter is already that matrix's partner
# ``w2d[(ky, kx, c), oc]``, so
#   forward          out2d = col @ w2d
#   backprop filter  dw2d  = col.T @ dy2d
#   backprop input   dcol  = dy2d @ w2d.T, then ``_col2im`` adds dcol back onto the input
# and every GEMM goes through numpy's BLAS (np.dot with ``out=``, no copy), which runs on the
# threads the core budget lends the convolution (``cores.blas_lease``, runtime/cores.py). The copies are C loops (nogil, prange-ready over rows of output
# pixels) that run on ONE thread: an OpenMP team that keeps spinning after the copy takes the
# cores from BLAS's own threads; measured on 2 cores, a 2-thread im2col made the conv step
# 2-20x slower, while the serial copy costs ~2 ms of a 14 ms layer (64x14x14x32, 5x5x64).
#   * im2col copies whole filter rows at once: with dilation 1 a row of the window is
#     ``kw * c`` contiguous input values (one memcpy); positions in the padding are zeros.
#   * col2im is written as a *gather*: each input row (n, iy) sums the column entries of the
#     output pixels whose window covers it, so threads never write the same element and no
#     atomics or per-thread copies are needed, whatever the batch size.
#   * The column matrix is built for a chunk of images at a time (COL_CHUNK_BYTES), so that
#     it stays in cache between the copy and the GEMM and memory stays bounded on big inputs;
#     the filter gradient accumulates over chunks (``beta = 1`` done as ``+=`` into the
#     result).
#   * A 1x1 convolution with stride 1 and no padding needs no im2col: the input is already the
#     column matrix.
# Depthwise convolutions and pooling are direct loops (a depthwise tap is an elementwise
# product per channel, no GEMM to feed), on ``elementwise.set_num_threads`` threads (the
# session's intra_op_parallelism_threads) from 64K multiply-adds: forward ops parallel over
# output rows, input gradients as gathers over input rows, the depthwise filter gradient
# parallel over filter taps (each tap owns its slice of the result).
# MaxPoolGrad routes each window's gradient to its first maximum in (ky, kx) order, as TF's
# CPU kernel; windows overlap when strides < ksize, so it runs parallel over images (each
# image's scatter is serial). MaxPool propagates NaN (``v > best or v != v``), like the
# numpy reference's np.maximum.
#
# Types: float32 and float64 (``real_t``); MaxPool also int32/int64. float16 is converted to
# float32 by the caller. Inputs are ``const`` memoryviews, so read-only arrays work; outputs
# are fresh C-contiguous arrays. Never: write an input, or import the runtime.

import numpy as np

cimport numpy as cnp
from cython.parallel cimport parallel, prange

from sessionlib._core cimport cores
from libc.math cimport INFINITY
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy, memset

from sessionlib._core cimport elementwise as ew
from sessionlib._core._typedefs cimport float32_t, float64_t, int32_t, int64_t

cnp.import_array()

cdef extern from *:
    """
    /* One window tap of MaxPoolGrad's argmax over c channels: tap number t replaces a
       channel's tap where its value is strictly larger than the best so far (so the first
       maximum wins, and NaN never). Written in C, with restrict and the tap chosen by an
       integer mask, because that is the form GCC vectorizes; the same loop in Cython kept
       a branch per element, a coin toss on real data (8 ms vs 1 ms for 64x28x28x32). */
    #define SESSIONLIB_ARGMAX_STEP(NAME, T, I)                                           \
    static inline void NAME(const T* restrict src, T* restrict best, I* restrict tap,    \
                            I t, Py_ssize_t c) {                                         \
        for (Py_ssize_t i = 0; i < c; i++) {                                             \
            T v = src[i], b = best[i];                                                   \
            I take = -(I)(v > b);                                                        \
            tap[i] = (t & take) | (tap[i] & ~take);                                      \
            best[i] = v > b ? v : b;                                                     \
        }                                                                                \
    }
    SESSIONLIB_ARGMAX_STEP(sessionlib_argmax_step_f32, float, int32_t)
    SESSIONLIB_ARGMAX_STEP(sessionlib_argmax_step_f64, double, int64_t)
    """
    void _argmax_step_f32 "sessionlib_argmax_step_f32"(
        const float32_t* src, float32_t* best, int32_t* tap, int32_t t,
        Py_ssize_t c) noexcept nogil
    void _argmax_step_f64 "sessionlib_argmax_step_f64"(
        const float64_t* src, float64_t* best, int64_t* tap, int64_t t,
        Py_ssize_t c) noexcept nogil

__all__ = ["conv2d", "conv2d_backprop_input", "conv2d_backprop_filter", "depthwise_conv2d",
           "depthwise_conv2d_backprop_input", "depthwise_conv2d_backprop_filter", "max_pool",
           "max_pool_grad", "avg_pool", "avg_pool_grad", "COL_CHUNK_BYTES"]

# The column matrix of one chunk of images is at most this big (at least one image a chunk).
COL_CHUNK_BYTES = 8 << 20
# Below this many multiply-adds (or copies) a kernel runs on one thread.
cdef double PARALLEL_WORK = 1 << 16

ctypedef fused real_t:
    float32_t
    float64_t

ctypedef fused pool_t:
    float32_t
    float64_t
    int32_t
    int64_t


cdef inline Py_ssize_t _imin(Py_ssize_t a, Py_ssize_t b) noexcept nogil:
    return a if a < b else b


cdef inline Py_ssize_t _imax(Py_ssize_t a, Py_ssize_t b) noexcept nogil:
    return a if a > b else b


cdef inline Py_ssize_t _ceil_div(Py_ssize_t a, Py_ssize_t b) noexcept nogil:
    # b > 0; rounds toward +infinity for negative a too
    if a >= 0:
        return (a + b - 1) // b
    return -((-a) // b)


cdef inline Py_ssize_t _floor_div(Py_ssize_t a, Py_ssize_t b) noexcept nogil:
    if a >= 0:
        return a // b
    return -((-a + b - 1) // b)


cdef int _threads(double work) noexcept nogil:
    # Waking an OpenMP team costs microseconds (much more on a busy machine): small tensors
    # stay on the calling thread.
    # Parallel loops lease their threads from the core budget (runtime/cores.py); each caller
    # gives them back (`cores.release`, a no-op for 1) when its nogil block ends.
    if work < PARALLEL_WORK:
        return 1
    return cores.lease(ew.kernel_num_threads())


# ---- im2col / col2im -------------------------------------------------------------------------

cdef inline void _copy_row(real_t* dst, const real_t* src, Py_ssize_t count) noexcept nogil:
    # A short row (a 5-wide window over 1 channel: 5 values) costs more in memcpy's call and
    # dispatch than in copying; a plain loop there made the first conv's im2col ~3x faster.
    cdef Py_ssize_t i
    if count >= 32:
        memcpy(dst, src, count * sizeof(real_t))
    else:
        for i in range(count):
            dst[i] = src[i]


cdef inline void _zero_row(real_t* dst, Py_ssize_t count) noexcept nogil:
    cdef Py_ssize_t i
    if count >= 32:
        memset(dst, 0, count * sizeof(real_t))
    else:
        for i in range(count):
            dst[i] = 0


cdef void _im2col(const real_t[:, :, :, ::1] x, real_t[:, ::1] col, Py_ssize_t n0,
                  Py_ssize_t images, Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t sh,
                  Py_ssize_t sw, Py_ssize_t dh, Py_ssize_t dw, Py_ssize_t pt, Py_ssize_t pl,
                  Py_ssize_t oh, Py_ssize_t ow, int threads) noexcept nogil:
    cdef Py_ssize_t h = x.shape[1], w = x.shape[2], c = x.shape[3]
    cdef Py_ssize_t r, n, oy, ox, ky, kx, iy, ix, ix0, row, k = kh * kw * c
    cdef real_t* dst
    cdef const real_t* x_base = &x[0, 0, 0, 0]
    cdef real_t* col_base = &col[0, 0]
    for r in prange(images * oh, num_threads=threads, schedule="static"):
        n = n0 + r // oh
        oy = r % oh
        for ox in range(ow):
            row = r * ow + ox
            dst = col_base + row * k
            ix0 = ox * sw - pl
            for ky in range(kh):
                iy = oy * sh - pt + ky * dh
                if iy < 0 or iy >= h:
                    _zero_row(dst, kw * c)
                elif dw == 1 and ix0 >= 0 and ix0 + kw <= w:
                    _copy_row(dst, x_base + ((n * h + iy) * w + ix0) * c, kw * c)
                else:
                    for kx in range(kw):
                        ix = ix0 + kx * dw
                        if ix < 0 or ix >= w:
                            _zero_row(dst + kx * c, c)
                        else:
                            _copy_row(dst + kx * c, x_base + ((n * h + iy) * w + ix) * c, c)
                dst = dst + kw * c


cdef void _col2im(const real_t[:, ::1] col, real_t[:, :, :, ::1] dx, Py_ssize_t n0,
                  Py_ssize_t images, Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t sh,
                  Py_ssize_t sw, Py_ssize_t dh, Py_ssize_t dw, Py_ssize_t pt, Py_ssize_t pl,
                  Py_ssize_t oh, Py_ssize_t ow, int threads) noexcept nogil:
    # Gather: input element (n, iy, ix, :) sums col[(n, oy, ox), (ky, kx, :)] over the taps
    # with oy*sh - pt + ky*dh == iy and ox*sw - pl + kx*dw == ix. dx is zero on entry.
    cdef Py_ssize_t h = dx.shape[1], w = dx.shape[2], c = dx.shape[3]
    cdef Py_ssize_t r, n, iy, ix, ky, kx, oy, ox, ch, ty, tx
    cdef const real_t* src
    cdef real_t* dst
    for r in prange(images * h, num_threads=threads, schedule="static"):
        n = r // h
        iy = r % h
        for ky in range(kh):
            ty = iy + pt - ky * dh
            if ty < 0 or ty % sh != 0:
                continue
            oy = ty // sh
            if oy >= oh:
                continue
            for ix in range(w):
                dst = &dx[n0 + n, iy, ix, 0]
                for kx in range(kw):
                    tx = ix + pl - kx * dw
                    if tx < 0 or tx % sw != 0:
                        continue
                    ox = tx // sw
                    if ox >= ow:
                        continue
                    src = &col[(n * oh + oy) * ow + ox, (ky * kw + kx) * c]
                    for ch in range(c):
                        dst[ch] = dst[ch] + src[ch]


def _chunk_images(Py_ssize_t images, Py_ssize_t rows_per_image, Py_ssize_t row_len,
                  Py_ssize_t itemsize):
    per_image = max(rows_per_image * row_len * itemsize, 1)
    return max(1, min(images, COL_CHUNK_BYTES // per_image))


cdef bint _is_pointwise(Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t sh, Py_ssize_t sw,
                        Py_ssize_t pt, Py_ssize_t pl, Py_ssize_t oh, Py_ssize_t ow,
                        Py_ssize_t h, Py_ssize_t w):
    return kh == 1 and kw == 1 and sh == 1 and sw == 1 and pt == 0 and pl == 0 \
        and oh == h and ow == w


def _conv2d(const real_t[:, :, :, ::1] x, const real_t[:, :, :, ::1] w_mv, object x_arr,
            object w_arr, Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t sh, Py_ssize_t sw,
            Py_ssize_t dh, Py_ssize_t dw, Py_ssize_t pt, Py_ssize_t pl, Py_ssize_t oh,
            Py_ssize_t ow):
    cdef Py_ssize_t n = x.shape[0], c = x.shape[3], oc = w_mv.shape[3], k = kh * kw * c
    cdef Py_ssize_t n0, images, chunk
    # One thread: BLAS runs the GEMM on every core, and an OpenMP team that spins after
    # the copy would take those cores from it (measured: 20x slower copies under load).
    cdef int threads = 1
    dtype = x_arr.dtype
    out = np.zeros((n, oh, ow, oc), dtype=dtype)
    if out.size == 0 or k == 0:
        return out
    w2d = w_arr.reshape(k, oc)
    out2d = out.reshape(n * oh * ow, oc)
    if _is_pointwise(kh, kw, sh, sw, pt, pl, oh, ow, x.shape[1], x.shape[2]):
        np.dot(x_arr.reshape(n * oh * ow, c), w2d, out=out2d)
        return out
    chunk = _chunk_images(n, oh * ow, k, dtype.itemsize)
    col_buffer = np.empty((chunk * oh * ow, k), dtype=dtype)
    cdef real_t[:, ::1] col
    for n0 in range(0, n, chunk):
        images = min(chunk, n - n0)
        col_arr = col_buffer[:images * oh * ow]
        col = col_arr
        with nogil:
            _im2col(x, col, n0, images, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow, threads)
        np.dot(col_arr, w2d, out=out2d[n0 * oh * ow:(n0 + images) * oh * ow])
    return out


def conv2d(x, w, Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t dh,
           Py_ssize_t dw, Py_ssize_t pt, Py_ssize_t pl, Py_ssize_t oh, Py_ssize_t ow):
    """Conv2D of C-contiguous NHWC `x` and HWIO `w` (same float dtype); see the design note."""
    blas = cores.blas_lease(<double>x.shape[0] * oh * ow * kh * kw * x.shape[3] * w.shape[3],
                            ew.kernel_num_threads())
    try:
        if x.dtype == np.float32:
            return _conv2d(x, w, x, w, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow)
        return _conv2d(x, w, x, w, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow)
    finally:
        cores.blas_release(blas)


def _conv2d_backprop_input(const real_t[:, :, :, ::1] dy, object w_arr, object dy_arr,
                           Py_ssize_t h, Py_ssize_t w, Py_ssize_t kh, Py_ssize_t kw,
                           Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t dh, Py_ssize_t dw,
                           Py_ssize_t pt, Py_ssize_t pl, Py_ssize_t oh, Py_ssize_t ow):
    cdef Py_ssize_t n = dy.shape[0], c = w_arr.shape[2], oc = w_arr.shape[3]
    cdef Py_ssize_t k = kh * kw * c, n0, images, chunk
    # One thread: BLAS runs the GEMM on every core, and an OpenMP team that spins after
    # the copy would take those cores from it (measured: 20x slower copies under load).
    cdef int threads = 1
    dtype = dy_arr.dtype
    dx = np.zeros((n, h, w, c), dtype=dtype)
    if dy_arr.size == 0 or dx.size == 0:
        return dx
    w2d_t = w_arr.reshape(k, oc).T
    dy2d = dy_arr.reshape(n * oh * ow, oc)
    if _is_pointwise(kh, kw, sh, sw, pt, pl, oh, ow, h, w):
        np.dot(dy2d, w2d_t, out=dx.reshape(n * h * w, c))
        return dx
    chunk = _chunk_images(n, oh * ow, k, dtype.itemsize)
    col_buffer = np.empty((chunk * oh * ow, k), dtype=dtype)
    cdef real_t[:, :, :, ::1] dx_mv = dx
    cdef const real_t[:, ::1] col
    for n0 in range(0, n, chunk):
        images = min(chunk, n - n0)
        col_arr = col_buffer[:images * oh * ow]
        np.dot(dy2d[n0 * oh * ow:(n0 + images) * oh * ow], w2d_t, out=col_arr)
        col = col_arr
        with nogil:
            _col2im(col, dx_mv, n0, images, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow, threads)
    return dx


def conv2d_backprop_input(w, dy, Py_ssize_t h, Py_ssize_t width, Py_ssize_t kh, Py_ssize_t kw,
                          Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t dh, Py_ssize_t dw,
                          Py_ssize_t pt, Py_ssize_t pl, Py_ssize_t oh, Py_ssize_t ow):
    """The input gradient of Conv2D: `dy` (NHWC, oc channels) through HWIO `w`."""
    blas = cores.blas_lease(<double>dy.shape[0] * oh * ow * kh * kw * w.shape[2] * w.shape[3],
                            ew.kernel_num_threads())
    try:
        if dy.dtype == np.float32:
            return _conv2d_backprop_input(dy, w, dy, h, width, kh, kw, sh, sw, dh, dw,
                                                     pt, pl, oh, ow)
        return _conv2d_backprop_input(dy, w, dy, h, width, kh, kw, sh, sw, dh, dw, pt,
                                                 pl, oh, ow)
    finally:
        cores.blas_release(blas)


def _conv2d_backprop_filter(const real_t[:, :, :, ::1] x, object x_arr, object dy_arr,
                            Py_ssize_t oc, Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t sh,
                            Py_ssize_t sw, Py_ssize_t dh, Py_ssize_t dw, Py_ssize_t pt,
                            Py_ssize_t pl, Py_ssize_t oh, Py_ssize_t ow):
    cdef Py_ssize_t n = x.shape[0], c = x.shape[3], k = kh * kw * c, n0, images, chunk
    # One thread: BLAS runs the GEMM on every core, and an OpenMP team that spins after
    # the copy would take those cores from it (measured: 20x slower copies under load).
    cdef int threads = 1
    dtype = x_arr.dtype
    dw2d = np.zeros((k, oc), dtype=dtype)
    if dy_arr.size == 0 or dw2d.size == 0:
        return dw2d.reshape(kh, kw, c, oc)
    dy2d = dy_arr.reshape(n * oh * ow, oc)
    if _is_pointwise(kh, kw, sh, sw, pt, pl, oh, ow, x.shape[1], x.shape[2]):
        np.dot(x_arr.reshape(n * oh * ow, c).T, dy2d, out=dw2d)
        return dw2d.reshape(kh, kw, c, oc)
    chunk = _chunk_images(n, oh * ow, k, dtype.itemsize)
    col_buffer = np.empty((chunk * oh * ow, k), dtype=dtype)
    partial = np.empty((k, oc), dtype=dtype) if chunk < n else None
    cdef real_t[:, ::1] col
    for n0 in range(0, n, chunk):
        images = min(chunk, n - n0)
        col_arr = col_buffer[:images * oh * ow]
        col = col_arr
        with nogil:
            _im2col(x, col, n0, images, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow, threads)
        rows = dy2d[n0 * oh * ow:(n0 + images) * oh * ow]
        if n0 == 0:
            np.dot(col_arr.T, rows, out=dw2d)
        else:
            np.dot(col_arr.T, rows, out=partial)
            dw2d += partial
    return dw2d.reshape(kh, kw, c, oc)


def conv2d_backprop_filter(x, dy, Py_ssize_t oc, Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t sh,
                           Py_ssize_t sw, Py_ssize_t dh, Py_ssize_t dw, Py_ssize_t pt,
                           Py_ssize_t pl, Py_ssize_t oh, Py_ssize_t ow):
    """The filter gradient of Conv2D: ``[kh, kw, c, oc]`` from NHWC `x` and `dy`."""
    blas = cores.blas_lease(<double>x.shape[0] * oh * ow * kh * kw * x.shape[3] * oc,
                            ew.kernel_num_threads())
    try:
        if x.dtype == np.float32:
            return _conv2d_backprop_filter(x, x, dy, oc, kh, kw, sh, sw, dh, dw, pt,
                                                      pl, oh, ow)
        return _conv2d_backprop_filter(x, x, dy, oc, kh, kw, sh, sw, dh, dw, pt, pl,
                                                  oh, ow)
    finally:
        cores.blas_release(blas)


# ---- depthwise -------------------------------------------------------------------------------

def _depthwise(const real_t[:, :, :, ::1] x, const real_t[:, :, :, ::1] f, real_t[:, :, :, ::1] out,
               Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t dh,
               Py_ssize_t dw, Py_ssize_t pt, Py_ssize_t pl, Py_ssize_t oh, Py_ssize_t ow):
    cdef Py_ssize_t n = x.shape[0], h = x.shape[1], w = x.shape[2], c = x.shape[3]
    cdef Py_ssize_t m = f.shape[3], r, b, oy, ox, ky, kx, iy, ix, ch, q
    cdef real_t v
    cdef real_t* dst
    cdef const real_t* src
    cdef const real_t* taps
    cdef int threads = _threads(<double>n * oh * ow * kh * kw * c * m)
    with nogil:
        for r in prange(n * oh, num_threads=threads, schedule="static"):
            b = r // oh
            oy = r % oh
            for ox in range(ow):
                dst = &out[b, oy, ox, 0]
                for ky in range(kh):
                    iy = oy * sh - pt + ky * dh
                    if iy < 0 or iy >= h:
                        continue
                    for kx in range(kw):
                        ix = ox * sw - pl + kx * dw
                        if ix < 0 or ix >= w:
                            continue
                        src = &x[b, iy, ix, 0]
                        taps = &f[ky, kx, 0, 0]
                        if m == 1:
                            for ch in range(c):
                                dst[ch] = dst[ch] + src[ch] * taps[ch]
                        else:
                            for ch in range(c):
                                v = src[ch]
                                for q in range(m):
                                    dst[ch * m + q] = dst[ch * m + q] + v * taps[ch * m + q]
    cores.release(threads)


def depthwise_conv2d(x, f, Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t sh, Py_ssize_t sw,
                     Py_ssize_t dh, Py_ssize_t dw, Py_ssize_t pt, Py_ssize_t pl, Py_ssize_t oh,
                     Py_ssize_t ow):
    """DepthwiseConv2dNative of NHWC `x` and ``[kh, kw, c, m]`` `f`."""
    out = np.zeros((x.shape[0], oh, ow, x.shape[3] * f.shape[3]), dtype=x.dtype)
    if out.size:
        if x.dtype == np.float32:
            _depthwise(x, f, out, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow)
        else:
            _depthwise(x, f, out, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow)
    return out


def _depthwise_backprop_input(const real_t[:, :, :, ::1] f, const real_t[:, :, :, ::1] dy,
                              real_t[:, :, :, ::1] dx, Py_ssize_t kh, Py_ssize_t kw,
                              Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t dh, Py_ssize_t dw,
                              Py_ssize_t pt, Py_ssize_t pl, Py_ssize_t oh, Py_ssize_t ow):
    cdef Py_ssize_t n = dx.shape[0], h = dx.shape[1], w = dx.shape[2], c = dx.shape[3]
    cdef Py_ssize_t m = f.shape[3], r, b, iy, ix, ky, kx, oy, ox, ch, q, ty, tx
    cdef real_t acc
    cdef real_t* dst
    cdef const real_t* src
    cdef const real_t* taps
    cdef int threads = _threads(<double>n * h * w * kh * kw * c * m)
    with nogil:
        for r in prange(n * h, num_threads=threads, schedule="static"):
            b = r // h
            iy = r % h
            for ky in range(kh):
                ty = iy + pt - ky * dh
                if ty < 0 or ty % sh != 0:
                    continue
                oy = ty // sh
                if oy >= oh:
                    continue
                for ix in range(w):
                    dst = &dx[b, iy, ix, 0]
                    for kx in range(kw):
                        tx = ix + pl - kx * dw
                        if tx < 0 or tx % sw != 0:
                            continue
                        ox = tx // sw
                        if ox >= ow:
                            continue
                        src = &dy[b, oy, ox, 0]
                        taps = &f[ky, kx, 0, 0]
                        if m == 1:
                            for ch in range(c):
                                dst[ch] = dst[ch] + src[ch] * taps[ch]
                        else:
                            for ch in range(c):
                                acc = 0
                                for q in range(m):
                                    acc = acc + src[ch * m + q] * taps[ch * m + q]
                                dst[ch] = dst[ch] + acc
    cores.release(threads)


def depthwise_conv2d_backprop_input(f, dy, Py_ssize_t n, Py_ssize_t h, Py_ssize_t w,
                                    Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t sh, Py_ssize_t sw,
                                    Py_ssize_t dh, Py_ssize_t dw, Py_ssize_t pt, Py_ssize_t pl,
                                    Py_ssize_t oh, Py_ssize_t ow):
    """The input gradient of the depthwise convolution, ``[n, h, w, c]``."""
    dx = np.zeros((n, h, w, f.shape[2]), dtype=dy.dtype)
    if dx.size and dy.size:
        if dy.dtype == np.float32:
            _depthwise_backprop_input(f, dy, dx, kh, kw, sh, sw, dh, dw, pt, pl,
                                                 oh, ow)
        else:
            _depthwise_backprop_input(f, dy, dx, kh, kw, sh, sw, dh, dw, pt, pl,
                                                 oh, ow)
    return dx


def _depthwise_backprop_filter(const real_t[:, :, :, ::1] x, const real_t[:, :, :, ::1] dy,
                               real_t[:, :, :, ::1] df, Py_ssize_t sh, Py_ssize_t sw,
                               Py_ssize_t dh, Py_ssize_t dw, Py_ssize_t pt, Py_ssize_t pl,
                               Py_ssize_t oh, Py_ssize_t ow):
    cdef Py_ssize_t n = x.shape[0], h = x.shape[1], w = x.shape[2], c = x.shape[3]
    cdef Py_ssize_t kh = df.shape[0], kw = df.shape[1], m = df.shape[3]
    cdef Py_ssize_t t, ky, kx, b, oy, ox, iy, ix, ch, q
    cdef real_t v
    cdef real_t* dst
    cdef const real_t* src
    cdef const real_t* grad
    cdef int threads = _threads(<double>n * oh * ow * kh * kw * c * m)
    with nogil:
        # Each tap owns df[ky, kx]: no two threads write the same element.
        for t in prange(kh * kw, num_threads=threads, schedule="dynamic"):
            ky = t // kw
            kx = t % kw
            dst = &df[ky, kx, 0, 0]
            for b in range(n):
                for oy in range(oh):
                    iy = oy * sh - pt + ky * dh
                    if iy < 0 or iy >= h:
                        continue
                    for ox in range(ow):
                        ix = ox * sw - pl + kx * dw
                        if ix < 0 or ix >= w:
                            continue
                        src = &x[b, iy, ix, 0]
                        grad = &dy[b, oy, ox, 0]
                        if m == 1:
                            for ch in range(c):
                                dst[ch] = dst[ch] + src[ch] * grad[ch]
                        else:
                            for ch in range(c):
                                v = src[ch]
                                for q in range(m):
                                    dst[ch * m + q] = dst[ch * m + q] + v * grad[ch * m + q]
    cores.release(threads)


def depthwise_conv2d_backprop_filter(x, dy, Py_ssize_t m, Py_ssize_t kh, Py_ssize_t kw,
                                     Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t dh, Py_ssize_t dw,
                                     Py_ssize_t pt, Py_ssize_t pl, Py_ssize_t oh, Py_ssize_t ow):
    """The filter gradient of the depthwise convolution, ``[kh, kw, c, m]``."""
    df = np.zeros((kh, kw, x.shape[3], m), dtype=x.dtype)
    if df.size and dy.size:
        if x.dtype == np.float32:
            _depthwise_backprop_filter(x, dy, df, sh, sw, dh, dw, pt, pl, oh, ow)
        else:
            _depthwise_backprop_filter(x, dy, df, sh, sw, dh, dw, pt, pl, oh, ow)
    return df


# ---- pooling ---------------------------------------------------------------------------------

cdef inline pool_t _pool_max(pool_t best, pool_t v) noexcept nogil:
    # A select, not a branch: on real data `v > best` is a coin toss, and a mispredicted
    # branch per element made MaxPool ~5x slower. Floats: NaN wins (v != v), as np.maximum.
    if pool_t is float32_t or pool_t is float64_t:
        return v if (v > best) | (v != v) else best
    else:
        return v if v > best else best


def _max_pool(const pool_t[:, :, :, ::1] x, pool_t[:, :, :, ::1] out, pool_t lowest,
              Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t pt,
              Py_ssize_t pl, Py_ssize_t oh, Py_ssize_t ow):
    cdef Py_ssize_t n = x.shape[0], h = x.shape[1], w = x.shape[2], c = x.shape[3]
    cdef Py_ssize_t r, b, oy, ox, y0, y1, x0, x1, iy, ix, ch
    cdef pool_t* dst
    cdef const pool_t* src
    cdef const pool_t* base = &x[0, 0, 0, 0]
    cdef pool_t* out_base = &out[0, 0, 0, 0]
    cdef int threads = _threads(<double>n * oh * ow * kh * kw * c)
    with nogil:
        for r in prange(n * oh, num_threads=threads, schedule="static"):
            b = r // oh
            oy = r % oh
            y0 = _imax(oy * sh - pt, 0)
            y1 = _imin(oy * sh - pt + kh, h)
            for ox in range(ow):
                x0 = _imax(ox * sw - pl, 0)
                x1 = _imin(ox * sw - pl + kw, w)
                dst = out_base + (r * ow + ox) * c
                for ch in range(c):
                    dst[ch] = lowest
                for iy in range(y0, y1):
                    for ix in range(x0, x1):
                        src = base + ((b * h + iy) * w + ix) * c
                        for ch in range(c):
                            dst[ch] = _pool_max(dst[ch], src[ch])
    cores.release(threads)


def max_pool(x, Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t dh,
             Py_ssize_t dw, Py_ssize_t pt, Py_ssize_t pl, Py_ssize_t oh, Py_ssize_t ow):
    """MaxPool of NHWC `x` (float32/64, int32/64); `dh`, `dw` are 1 (the common signature)."""
    out = np.empty((x.shape[0], oh, ow, x.shape[3]), dtype=x.dtype)
    if out.size == 0:
        return out
    if x.dtype == np.float32:
        _max_pool(x, out, -np.inf, kh, kw, sh, sw, pt, pl, oh, ow)
    elif x.dtype == np.float64:
        _max_pool(x, out, -np.inf, kh, kw, sh, sw, pt, pl, oh, ow)
    elif x.dtype == np.int32:
        _max_pool(x, out, np.iinfo(np.int32).min, kh, kw, sh, sw, pt, pl, oh, ow)
    elif x.dtype == np.int64:
        _max_pool(x, out, np.iinfo(np.int64).min, kh, kw, sh, sw, pt, pl, oh, ow)
    else:
        raise TypeError(f"max_pool: unsupported dtype {x.dtype}")
    return out


def _max_pool_grad(const real_t[:, :, :, ::1] x, const real_t[:, :, :, ::1] grad,
                   real_t[:, :, :, ::1] dx, Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t sh,
                   Py_ssize_t sw, Py_ssize_t pt, Py_ssize_t pl, Py_ssize_t oh, Py_ssize_t ow):
    cdef Py_ssize_t n = x.shape[0], h = x.shape[1], w = x.shape[2], c = x.shape[3]
    cdef Py_ssize_t b, oy, ox, y0, y1, x0, x1, iy, ix, ch, r, span, where
    cdef int64_t t
    cdef real_t* best
    cdef int32_t* tap32
    cdef int64_t* tap64
    cdef const real_t* src
    cdef const real_t* g
    cdef const real_t* x_base = &x[0, 0, 0, 0]
    cdef const real_t* g_base = &grad[0, 0, 0, 0]
    cdef real_t* dx_base = &dx[0, 0, 0, 0]
    # Windows that do not overlap (stride >= window, the usual 2x2/2) write disjoint parts of
    # dx: rows of windows can go to different threads. Overlapping windows of one image may
    # write the same element, so there an image is one thread's.
    cdef bint disjoint = sh >= kh and sw >= kw
    cdef Py_ssize_t units = n * oh if disjoint else n
    cdef Py_ssize_t rows = 1 if disjoint else oh
    cdef int threads = _threads(<double>n * oh * ow * kh * kw * c)
    with nogil, parallel(num_threads=threads):
        best = <real_t*>malloc(c * sizeof(real_t))
        # The winning tap of each channel, an int as wide as real_t so that the helper's
        # selects vectorize (a window has far fewer than 2**31 taps).
        tap32 = <int32_t*>malloc(c * sizeof(int32_t))
        tap64 = <int64_t*>malloc(c * sizeof(int64_t))
        if best != NULL and tap32 != NULL and tap64 != NULL:
            for r in prange(units, schedule="static"):
                for oy in range(r * rows % oh, r * rows % oh + rows):
                    b = r * rows // oh
                    y0 = _imax(oy * sh - pt, 0)
                    y1 = _imin(oy * sh - pt + kh, h)
                    for ox in range(ow):
                        x0 = _imax(ox * sw - pl, 0)
                        x1 = _imin(ox * sw - pl + kw, w)
                        span = x1 - x0
                        for ch in range(c):
                            best[ch] = -INFINITY
                            tap32[ch] = -1
                            tap64[ch] = -1
                        # First maximum in (ky, kx) order; NaN never wins (see the C helper).
                        t = 0
                        for iy in range(y0, y1):
                            for ix in range(x0, x1):
                                src = x_base + ((b * h + iy) * w + ix) * c
                                if real_t is float32_t:
                                    _argmax_step_f32(src, best, tap32, <int32_t>t, c)
                                else:
                                    _argmax_step_f64(src, best, tap64, t, c)
                                t = t + 1
                        g = g_base + ((b * oh + oy) * ow + ox) * c
                        for ch in range(c):
                            if real_t is float32_t:
                                where = tap32[ch]
                            else:
                                where = tap64[ch]
                            if where >= 0:
                                iy = y0 + where // span
                                ix = x0 + where % span
                                where = ((b * h + iy) * w + ix) * c + ch
                                dx_base[where] = dx_base[where] + g[ch]
        free(best)
        free(tap32)
        free(tap64)
    cores.release(threads)


def max_pool_grad(x, grad, Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t sh, Py_ssize_t sw,
                  Py_ssize_t dh, Py_ssize_t dw, Py_ssize_t pt, Py_ssize_t pl, Py_ssize_t oh,
                  Py_ssize_t ow):
    """MaxPoolGrad: `grad` routed to each window's first maximum of `x`."""
    dx = np.zeros(x.shape, dtype=x.dtype)
    if dx.size and grad.size:
        if x.dtype == np.float32:
            _max_pool_grad(x, grad, dx, kh, kw, sh, sw, pt, pl, oh, ow)
        else:
            _max_pool_grad(x, grad, dx, kh, kw, sh, sw, pt, pl, oh, ow)
    return dx


def _avg_pool(const real_t[:, :, :, ::1] x, real_t[:, :, :, ::1] out, Py_ssize_t kh,
              Py_ssize_t kw, Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t pt, Py_ssize_t pl,
              Py_ssize_t oh, Py_ssize_t ow):
    cdef Py_ssize_t n = x.shape[0], h = x.shape[1], w = x.shape[2], c = x.shape[3]
    cdef Py_ssize_t r, b, oy, ox, y0, y1, x0, x1, iy, ix, ch
    cdef real_t count
    cdef real_t* dst
    cdef const real_t* src
    cdef int threads = _threads(<double>n * oh * ow * kh * kw * c)
    with nogil:
        for r in prange(n * oh, num_threads=threads, schedule="static"):
            b = r // oh
            oy = r % oh
            y0 = _imax(oy * sh - pt, 0)
            y1 = _imin(oy * sh - pt + kh, h)
            for ox in range(ow):
                x0 = _imax(ox * sw - pl, 0)
                x1 = _imin(ox * sw - pl + kw, w)
                dst = &out[b, oy, ox, 0]
                for ch in range(c):
                    dst[ch] = 0
                for iy in range(y0, y1):
                    for ix in range(x0, x1):
                        src = &x[b, iy, ix, 0]
                        for ch in range(c):
                            dst[ch] = dst[ch] + src[ch]
                count = (y1 - y0) * (x1 - x0)
                for ch in range(c):
                    dst[ch] = dst[ch] / count
    cores.release(threads)


def avg_pool(x, Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t dh,
             Py_ssize_t dw, Py_ssize_t pt, Py_ssize_t pl, Py_ssize_t oh, Py_ssize_t ow):
    """AvgPool of NHWC `x`: each window's mean over its elements inside the input."""
    out = np.empty((x.shape[0], oh, ow, x.shape[3]), dtype=x.dtype)
    if out.size:
        if x.dtype == np.float32:
            _avg_pool(x, out, kh, kw, sh, sw, pt, pl, oh, ow)
        else:
            _avg_pool(x, out, kh, kw, sh, sw, pt, pl, oh, ow)
    return out


def _avg_pool_grad(const real_t[:, :, :, ::1] grad, real_t[:, :, :, ::1] dx, Py_ssize_t kh,
                   Py_ssize_t kw, Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t pt, Py_ssize_t pl,
                   Py_ssize_t oh, Py_ssize_t ow):
    # Gather: dx[b, iy, ix] sums grad / count over the outputs whose window covers (iy, ix).
    cdef Py_ssize_t n = dx.shape[0], h = dx.shape[1], w = dx.shape[2], c = dx.shape[3]
    cdef Py_ssize_t r, b, iy, ix, oy, ox, oy0, oy1, ox0, ox1, y0, y1, x0, x1, ch
    cdef real_t scale
    cdef real_t* dst
    cdef const real_t* src
    cdef int threads = _threads(<double>n * h * w * kh * kw * c)
    with nogil:
        for r in prange(n * h, num_threads=threads, schedule="static"):
            b = r // h
            iy = r % h
            # windows [oy*sh - pt, oy*sh - pt + kh) that contain iy
            oy0 = _imax(_ceil_div(iy + pt - kh + 1, sh), 0)
            oy1 = _imin(_floor_div(iy + pt, sh) + 1, oh)
            for ix in range(w):
                dst = &dx[b, iy, ix, 0]
                ox0 = _imax(_ceil_div(ix + pl - kw + 1, sw), 0)
                ox1 = _imin(_floor_div(ix + pl, sw) + 1, ow)
                for oy in range(oy0, oy1):
                    y0 = _imax(oy * sh - pt, 0)
                    y1 = _imin(oy * sh - pt + kh, h)
                    for ox in range(ox0, ox1):
                        x0 = _imax(ox * sw - pl, 0)
                        x1 = _imin(ox * sw - pl + kw, w)
                        scale = 1
                        scale = scale / ((y1 - y0) * (x1 - x0))
                        src = &grad[b, oy, ox, 0]
                        for ch in range(c):
                            dst[ch] = dst[ch] + src[ch] * scale
    cores.release(threads)


def avg_pool_grad(grad, Py_ssize_t h, Py_ssize_t w, Py_ssize_t kh, Py_ssize_t kw,
                  Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t dh, Py_ssize_t dw, Py_ssize_t pt,
                  Py_ssize_t pl, Py_ssize_t oh, Py_ssize_t ow):
    """AvgPoolGrad: each window's `grad` spread evenly over its elements inside the input."""
    dx = np.zeros((grad.shape[0], h, w, grad.shape[3]), dtype=grad.dtype)
    if dx.size and grad.size:
        if grad.dtype == np.float32:
            _avg_pool_grad(grad, dx, kh, kw, sh, sw, pt, pl, oh, ow)
        else:
            _avg_pool_grad(grad, dx, kh, kw, sh, sw, pt, pl, oh, ow)
    return dx
