# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False
"""Fast kernels of the nn model ops: activations, their gradients, and the softmax
cross-entropies (the spec is ``runtime/kernels/nn_model_kernels.py``).

Design. Each kernel is one pass over contiguous memory with no temporaries, without the GIL
and, above a size threshold, split over the threads that ``elementwise.set_num_threads`` set
(the session's intra-op budget). float32 and float64 run here; float16 is widened to float32,
computed, and rounded once, as the reference does; any other dtype, a non-matching shape or a
bad label is handed to the reference kernel, which raises TF's error. Inputs are read through
``const`` memoryviews, so read-only (shared-memory) buffers work.
"""

import numpy as np
cimport numpy as cnp
from cython.parallel cimport prange
from libc.math cimport exp, expm1, log, log1p, fabs, expf, expm1f, log1pf
from libc.stdint cimport int32_t, int64_t

from sessionlib._core cimport cores
from sessionlib._core._fallbacks cimport fallback_kernel

from sessionlib._core import elementwise as _elementwise

cnp.import_array()

ctypedef fused real_t:
    float
    double

ctypedef fused index_t:
    int32_t
    int64_t

cdef Py_ssize_t PARALLEL_THRESHOLD = 65536

cdef double SELU_SCALE = 1.0507009873554804934193349852946
cdef double SELU_ALPHA = 1.6732632423543772848170429916717

cdef enum:
    ELU = 0
    SELU = 1
    SOFTPLUS = 2
    SOFTSIGN = 3
    RELU6 = 4
    LEAKY = 5

cdef enum:
    ELU_GRAD = 0
    SELU_GRAD = 1
    SOFTPLUS_GRAD = 2
    SOFTSIGN_GRAD = 3
    RELU6_GRAD = 4
    LEAKY_GRAD = 5
    RELU_GRAD = 6


cdef inline int _threads(Py_ssize_t size) noexcept:
    # Parallel loops lease their threads from the core budget (runtime/cores.py); every
    # caller gives them back with `cores.release` (a no-op for 1).
    if size < PARALLEL_THRESHOLD:
        return 1
    return cores.lease(max(1, <int>_elementwise.get_num_threads()))


# float32 data calls libm's float functions (about twice as fast as the double ones).
cdef inline real_t _exp(real_t v) noexcept nogil:
    if real_t is float:
        return expf(v)
    else:
        return exp(v)


cdef inline real_t _expm1(real_t v) noexcept nogil:
    if real_t is float:
        return expm1f(v)
    else:
        return expm1(v)


cdef inline real_t _log1p(real_t v) noexcept nogil:
    if real_t is float:
        return log1pf(v)
    else:
        return log1p(v)


# Each op has a loop of its own (the switch is outside the loops), so that GCC can vectorize
# the cheap ones; the transcendental ones call libm per element.

cdef void _unary_loop(const real_t[::1] x, real_t[::1] out, int op, real_t alpha,
                      int threads) noexcept nogil:
    cdef Py_ssize_t i, n = x.shape[0]
    cdef real_t v, zero = 0, one = 1, six = 6
    cdef real_t selu_scale = <real_t>SELU_SCALE
    cdef real_t selu_neg = <real_t>(SELU_SCALE * SELU_ALPHA)
    if op == ELU:
        for i in prange(n, num_threads=threads, schedule="static"):
            v = x[i]
            out[i] = _expm1(v) if v < zero else v
    elif op == SELU:
        for i in prange(n, num_threads=threads, schedule="static"):
            v = x[i]
            out[i] = selu_neg * _expm1(v) if v < zero else selu_scale * v
    elif op == SOFTPLUS:
        for i in prange(n, num_threads=threads, schedule="static"):
            v = x[i]
            out[i] = (v if v > zero else zero) + _log1p(_exp(-(v if v >= zero else -v)))
    elif op == SOFTSIGN:
        for i in prange(n, num_threads=threads, schedule="static"):
            v = x[i]
            out[i] = v / (one + (v if v >= zero else -v))
    elif op == RELU6:
        # NaN fails both tests and stays NaN, as in the reference.
        for i in prange(n, num_threads=threads, schedule="static"):
            v = x[i]
            out[i] = six if v > six else (zero if v <= zero else v)
    else:
        for i in prange(n, num_threads=threads, schedule="static"):
            v = x[i]
            out[i] = v if v > zero else v * alpha


cdef inline void _relu_grad_serial(const real_t* g, const real_t* x, real_t* out,
                                   Py_ssize_t n) noexcept nogil:
    # Both loads unconditional and a select, not a branch: the signs of features are random, so
    # a branch mispredicts half the time (5 ns an element).
    cdef Py_ssize_t i
    cdef real_t gi, zero = 0
    for i in range(n):
        gi = g[i]
        out[i] = gi if x[i] > zero else zero


cdef void _binary_loop(const real_t[::1] g, const real_t[::1] x, real_t[::1] out, int op,
                       real_t alpha, int threads) noexcept nogil:
    cdef Py_ssize_t i, n = x.shape[0], chunk, part, start, stop
    cdef real_t v, e, zero = 0, one = 1, six = 6
    cdef real_t selu_scale = <real_t>SELU_SCALE
    cdef real_t selu_neg = <real_t>(SELU_SCALE * SELU_ALPHA)
    if op == ELU_GRAD:
        for i in prange(n, num_threads=threads, schedule="static"):
            v = x[i]
            out[i] = g[i] * (v + one) if v < zero else g[i]
    elif op == SELU_GRAD:
        for i in prange(n, num_threads=threads, schedule="static"):
            v = x[i]
            out[i] = g[i] * (v + selu_neg) if v < zero else g[i] * selu_scale
    elif op == SOFTPLUS_GRAD:
        for i in prange(n, num_threads=threads, schedule="static"):
            v = x[i]
            e = _exp(-(v if v >= zero else -v))
            out[i] = g[i] / (one + e) if v >= zero else g[i] * e / (one + e)
    elif op == SOFTSIGN_GRAD:
        for i in prange(n, num_threads=threads, schedule="static"):
            v = x[i]
            e = one + (v if v >= zero else -v)
            out[i] = g[i] / (e * e)
    elif op == RELU6_GRAD:
        for i in prange(n, num_threads=threads, schedule="static"):
            v = x[i]
            out[i] = g[i] if (v > zero and v < six) else zero
    elif op == RELU_GRAD:
        if n == 0:
            return
        if threads <= 1:
            # Plain pointers: GCC vectorises this one (not the prange form), ~10x faster.
            _relu_grad_serial(&g[0], &x[0], &out[0], n)
            return
        # On several threads, each takes one contiguous chunk through the same vectorised
        # loop (a prange over elements would compile to the slow, branching form).
        chunk = (n + threads - 1) // threads
        for part in prange(threads, num_threads=threads, schedule="static"):
            start = part * chunk
            stop = start + chunk
            if stop > n:
                stop = n
            if stop > start:
                _relu_grad_serial(&g[start], &x[start], &out[start], stop - start)
    else:
        for i in prange(n, num_threads=threads, schedule="static"):
            out[i] = g[i] if x[i] > zero else g[i] * alpha


# The reference kernels, handed in by ``runtime/kernels/nn_model_kernels.py`` (`set_fallbacks`):
# the compiled core never imports the runtime.
cdef dict _fallbacks = {}


def set_fallbacks(kernels):
    """Sets the reference kernels that take what these loops do not (other dtypes, errors).

    Args:
      kernels: a dict from kernel name (``'Relu6'``, ``'EluGrad'``, ...) to the reference
        kernel, in the kernel table's calling convention.
    """
    _fallbacks.update(kernels)


cdef object _fallback(str name):
    return fallback_kernel(_fallbacks, "nn_model",
                           "sessionlib.runtime.kernels.nn_model_kernels and nn_kernels", name)


cdef inline cnp.ndarray _contiguous(cnp.ndarray x):
    # Not np.ascontiguousarray: it turns a 0-d array into a 1-d one.
    return x if cnp.PyArray_IS_C_CONTIGUOUS(x) else np.ascontiguousarray(x)


cdef object _unary(object value, int op, double alpha, object fallback):
    cdef cnp.ndarray x = np.asarray(value)
    cdef cnp.ndarray out
    cdef object dtype = x.dtype
    if dtype == np.float16:
        return _unary(x.astype(np.float32), op, alpha, fallback).astype(np.float16)
    if dtype != np.float32 and dtype != np.float64:
        return fallback(x)
    x = _contiguous(x)
    out = np.empty_like(x)
    cdef int threads = _threads(x.size)
    try:
        if dtype == np.float32:
            _unary_loop[float](x.reshape(-1), out.reshape(-1), op, alpha, threads)
        else:
            _unary_loop[double](x.reshape(-1), out.reshape(-1), op, alpha, threads)
    finally:
        cores.release(threads)
    return out


cdef object _binary(object grads, object features, int op, double alpha, object fallback):
    cdef cnp.ndarray g = np.asarray(grads)
    cdef cnp.ndarray x = np.asarray(features)
    cdef cnp.ndarray out
    cdef object dtype = g.dtype
    if (<object>g).shape != (<object>x).shape or x.dtype != dtype:
        return fallback(g, x)
    if dtype == np.float16:
        return _binary(g.astype(np.float32), x.astype(np.float32), op, alpha,
                       fallback).astype(np.float16)
    if dtype != np.float32 and dtype != np.float64:
        return fallback(g, x)
    g = _contiguous(g)
    x = _contiguous(x)
    out = np.empty_like(x)
    cdef int threads = _threads(x.size)
    try:
        if dtype == np.float32:
            _binary_loop[float](g.reshape(-1), x.reshape(-1), out.reshape(-1), op, alpha,
                                threads)
        else:
            _binary_loop[double](g.reshape(-1), x.reshape(-1), out.reshape(-1), op, alpha,
                                 threads)
    finally:
        cores.release(threads)
    return out


# ---- the activation kernels (the kernel table's unary/binary conventions) -----------------

def elu(x):
    """Elu (the reference is ``nn_model_kernels.elu``)."""
    return _unary(x, ELU, 0, None)


def selu(x):
    """Selu."""
    return _unary(x, SELU, 0, None)


def softplus(x):
    """Softplus: max(x, 0) + log1p(exp(-|x|))."""
    return _unary(x, SOFTPLUS, 0, None)


def softsign(x):
    """Softsign."""
    return _unary(x, SOFTSIGN, 0, None)


def relu6(x):
    """Relu6; integer dtypes go to the reference kernel."""
    return _unary(x, RELU6, 0, _fallback("Relu6"))


def elu_grad(g, y):
    """EluGrad(gradients, outputs)."""
    return _binary(g, y, ELU_GRAD, 0, _fallback("EluGrad"))


def selu_grad(g, y):
    """SeluGrad(gradients, outputs)."""
    return _binary(g, y, SELU_GRAD, 0, _fallback("SeluGrad"))


def softplus_grad(g, x):
    """SoftplusGrad(gradients, features)."""
    return _binary(g, x, SOFTPLUS_GRAD, 0,
                   _fallback("SoftplusGrad"))


def softsign_grad(g, x):
    """SoftsignGrad(gradients, features)."""
    return _binary(g, x, SOFTSIGN_GRAD, 0,
                   _fallback("SoftsignGrad"))


def relu_grad(g, x):
    """ReluGrad(gradients, features): one pass (numpy's `where` makes a mask and a select);
    integer dtypes and mismatched shapes go to the reference kernel."""
    return _binary(g, x, RELU_GRAD, 0, _fallback("ReluGrad"))


def relu6_grad(g, x):
    """Relu6Grad(gradients, features); integer dtypes go to the reference kernel."""
    return _binary(g, x, RELU6_GRAD, 0, _fallback("Relu6Grad"))


cdef double _alpha(dict attrs):
    # TF's float attrs are float32 (see the reference kernel).
    return <double>(<float>attrs["alpha"])


def leaky_relu_kernel(ctx, inputs, attrs):
    """LeakyRelu (generic convention: the alpha attr)."""
    cdef double alpha = _alpha(attrs)
    return (_unary(inputs[0], LEAKY, alpha, None),)


def leaky_relu_grad_kernel(ctx, inputs, attrs):
    """LeakyReluGrad(gradients, features)."""
    cdef double alpha = _alpha(attrs)
    reference = _fallback("LeakyReluGrad")
    return (_binary(inputs[0], inputs[1], LEAKY_GRAD, alpha,
                    lambda g, x: reference(ctx, (g, x), attrs)[0]),)


# ---- the softmax cross-entropies --------------------------------------------------------

cdef void _xent_rows(const real_t[:, ::1] logits, const real_t[:, ::1] labels,
                     real_t[::1] loss, real_t[:, ::1] backprop, int threads) noexcept nogil:
    cdef Py_ssize_t rows = logits.shape[0], classes = logits.shape[1], r
    if threads > 1:
        for r in prange(rows, num_threads=threads, schedule="static"):
            _xent_row(logits, labels, loss, backprop, r, classes)
    else:
        for r in range(rows):
            _xent_row(logits, labels, loss, backprop, r, classes)


cdef inline void _xent_row(const real_t[:, ::1] logits, const real_t[:, ::1] labels,
                           real_t[::1] loss, real_t[:, ::1] backprop, Py_ssize_t r,
                           Py_ssize_t classes) noexcept nogil:
    cdef Py_ssize_t c
    cdef double top = logits[r, 0], total = 0, log_total, value = 0, shifted
    for c in range(1, classes):
        if logits[r, c] > top:
            top = logits[r, c]
    for c in range(classes):
        shifted = exp(logits[r, c] - top)
        backprop[r, c] = <real_t>shifted
        total += shifted
    log_total = log(total)
    for c in range(classes):
        shifted = logits[r, c] - top
        value -= labels[r, c] * (shifted - log_total)
        backprop[r, c] = <real_t>(backprop[r, c] / total - labels[r, c])
    loss[r] = <real_t>value


cdef int _sparse_rows(const real_t[:, ::1] logits, const index_t[::1] labels,
                      real_t[::1] loss, real_t[:, ::1] backprop, int threads) noexcept nogil:
    """Returns 1 when a label is out of range (nothing is computed then)."""
    cdef Py_ssize_t rows = logits.shape[0], classes = logits.shape[1], r
    for r in range(rows):
        if labels[r] < 0 or labels[r] >= classes:
            return 1
    if threads > 1:
        for r in prange(rows, num_threads=threads, schedule="static"):
            _sparse_row(logits, labels, loss, backprop, r, classes)
    else:
        for r in range(rows):
            _sparse_row(logits, labels, loss, backprop, r, classes)
    return 0


cdef inline void _sparse_row(const real_t[:, ::1] logits, const index_t[::1] labels,
                             real_t[::1] loss, real_t[:, ::1] backprop, Py_ssize_t r,
                             Py_ssize_t classes) noexcept nogil:
    cdef Py_ssize_t c, label = labels[r]
    cdef double top = logits[r, 0], total = 0, shifted
    for c in range(1, classes):
        if logits[r, c] > top:
            top = logits[r, c]
    for c in range(classes):
        shifted = exp(logits[r, c] - top)
        backprop[r, c] = <real_t>shifted
        total += shifted
    loss[r] = <real_t>(log(total) - (logits[r, label] - top))
    for c in range(classes):
        backprop[r, c] = <real_t>(backprop[r, c] / total)
    backprop[r, label] = <real_t>(backprop[r, label] - 1)


cdef inline bint _fast_matrix(cnp.ndarray x):
    return x.ndim == 2 and x.shape[1] > 0 and (x.dtype == np.float32 or x.dtype == np.float64)


def softmax_xent_kernel(ctx, inputs, attrs):
    """SoftmaxCrossEntropyWithLogits: (loss, backprop) in one pass per row."""
    cdef cnp.ndarray logits = np.asarray(inputs[0])
    cdef cnp.ndarray labels = np.asarray(inputs[1])
    if (not _fast_matrix(logits) or labels.dtype != logits.dtype
            or (<object>labels).shape != (<object>logits).shape):
        return _fallback("SoftmaxCrossEntropyWithLogits")(ctx, (logits, labels), attrs)
    logits = np.ascontiguousarray(logits)
    labels = np.ascontiguousarray(labels)
    cdef cnp.ndarray loss = np.empty(logits.shape[0], logits.dtype)
    cdef cnp.ndarray backprop = np.empty_like(logits)
    cdef int threads = _threads(logits.size)
    try:
        if logits.dtype == np.float32:
            _xent_rows[float](logits, labels, loss, backprop, threads)
        else:
            _xent_rows[double](logits, labels, loss, backprop, threads)
    finally:
        cores.release(threads)
    return (loss, backprop)


def sparse_softmax_xent_kernel(ctx, inputs, attrs):
    """SparseSoftmaxCrossEntropyWithLogits: (loss, backprop) against class indices."""
    cdef cnp.ndarray logits = np.asarray(inputs[0])
    cdef cnp.ndarray labels = np.asarray(inputs[1])
    if (not _fast_matrix(logits) or labels.ndim != 1 or labels.shape[0] != logits.shape[0]
            or (labels.dtype != np.int32 and labels.dtype != np.int64)):
        return _fallback("SparseSoftmaxCrossEntropyWithLogits")(ctx, (logits, labels),
                                                                attrs)
    logits = np.ascontiguousarray(logits)
    labels = np.ascontiguousarray(labels)
    cdef cnp.ndarray loss = np.empty(logits.shape[0], logits.dtype)
    cdef cnp.ndarray backprop = np.empty_like(logits)
    cdef int threads = _threads(logits.size)
    cdef int bad
    try:
        if logits.dtype == np.float32:
            if labels.dtype == np.int32:
                bad = _sparse_rows[float, int32_t](logits, labels, loss, backprop, threads)
            else:
                bad = _sparse_rows[float, int64_t](logits, labels, loss, backprop, threads)
        else:
            if labels.dtype == np.int32:
                bad = _sparse_rows[double, int32_t](logits, labels, loss, backprop, threads)
            else:
                bad = _sparse_rows[double, int64_t](logits, labels, loss, backprop, threads)
    finally:
        cores.release(threads)
    if bad:
        # The reference raises TF's error.
        return _fallback("SparseSoftmaxCrossEntropyWithLogits")(ctx, (logits, labels), attrs)
    return (loss, backprop)



# ---- BiasAddGrad ----------------------------------------------------------------------------

# Below this many elements the GIL stays held (releasing it costs more than the loop).
cdef Py_ssize_t BIAS_GRAD_NOGIL_THRESHOLD = 8192


cdef enum:
    # Columns summed at once: their running sums stay in vector registers across all rows
    # (8 SSE registers of float32), instead of a load and a store of the sums per row.
    SUM_COLUMNS = 32


cdef void _column_sums(const real_t* x, Py_ssize_t rows, Py_ssize_t channels,
                       real_t* out) noexcept nogil:
    # Row after row into the element-type sums, which is the order (and the rounding) of
    # numpy's sum over the leading axes of a C-contiguous array: the result is bit-for-bit the
    # reference's. The inner loops run along contiguous channels, so they vectorise.
    cdef Py_ssize_t r, c, j, start
    cdef const real_t* row
    cdef real_t sums[SUM_COLUMNS]
    start = 0
    while start + SUM_COLUMNS <= channels:
        for j in range(SUM_COLUMNS):
            sums[j] = x[start + j]
        for r in range(1, rows):
            row = x + r * channels + start
            for j in range(SUM_COLUMNS):
                sums[j] = sums[j] + row[j]
        for j in range(SUM_COLUMNS):
            out[start + j] = sums[j]
        start += SUM_COLUMNS
    start = channels - channels % SUM_COLUMNS
    for c in range(start, channels):
        out[c] = x[c]
    for r in range(1, rows):
        row = x + r * channels
        for c in range(start, channels):
            out[c] = out[c] + row[c]


cdef inline void _typed_column_sums(bint single, const void* x, Py_ssize_t rows,
                                    Py_ssize_t channels, void* out) noexcept nogil:
    if single:
        _column_sums[float](<const float*>x, rows, channels, <float*>out)
    else:
        _column_sums[double](<const double*>x, rows, channels, <double*>out)


def bias_add_grad_kernel(ctx, inputs, attrs):
    """BiasAddGrad (NHWC): the sum of the backprop over every axis but the last.

    A C-contiguous float32/float64 backprop with at least two channels and two rows is summed
    here, in one pass without temporaries (numpy's sum over the leading axes costs ~4x as much
    on an LSTM's [128, 512] gate gradient); anything else, and every error, goes to the
    reference kernel.
    """
    cdef cnp.ndarray x = np.asarray(inputs[0])
    cdef cnp.ndarray out
    cdef Py_ssize_t channels, rows
    # One channel, or one row, is a contiguous 1-D sum, which numpy adds pairwise: the
    # reference keeps those (and NCHW, and the other dtypes).
    if (attrs["data_format"] == "NCHW" or x.ndim < 2
            or (x.dtype != np.float32 and x.dtype != np.float64)
            or not (cnp.PyArray_IS_C_CONTIGUOUS(x) and cnp.PyArray_ISALIGNED(x)
                    and cnp.PyArray_ISNOTSWAPPED(x))):
        return _fallback("BiasAddGrad")(ctx, inputs, attrs)
    channels = x.shape[x.ndim - 1]
    rows = x.size // channels if channels else 0
    if channels < 2 or rows < 2:
        return _fallback("BiasAddGrad")(ctx, inputs, attrs)
    out = np.empty(channels, x.dtype)
    cdef bint single = x.dtype == np.float32
    if x.size >= BIAS_GRAD_NOGIL_THRESHOLD:
        with nogil:
            _typed_column_sums(single, cnp.PyArray_DATA(x), rows, channels,
                               cnp.PyArray_DATA(out))
    else:
        _typed_column_sums(single, cnp.PyArray_DATA(x), rows, channels, cnp.PyArray_DATA(out))
    return (out,)
