# cython: language_level=3
"""The optimizers' fused update loops: one in-place pass over a variable and its slots.

Design. Each optimizer's step is an elementwise function of the variable, its slots (at most
three: centered RMSProp's mg, ms and mom) and the gradient, with scalar hyper-parameters. One
`cdef inline` loop per optimizer (`_loop`, dispatching on `kind` once, outside the loop) runs
over a contiguous range of elements and writes every array in place, so a step reads and
writes each element of each array exactly once, where a composition of elementwise ops would
make a temporary per operation. The same loops serve the dense ops (the whole flat array, split
into one block per thread above PARALLEL_WORK weighted elements) and the sparse ops (one call per
touched row, rows split over threads: the caller has made the rows unique, so no two threads
write one row).

The formulas are TF's kernels (``tensorflow/core/kernels/training_ops.cc``), computed in the
variable's type, as Eigen does; the hyper-parameters arrive as doubles holding values of that
type and are cast back, exactly. The numpy spec is ``runtime/kernels/training_kernels.py``;
``tests/test_training_parity.py`` compares the two. float16 never reaches this module (the
kernel family hands it to the numpy kernels, as the elementwise kernels do).

The kind numbers and the order of `params` are defined here and re-exported (`KINDS`); the
kernel family builds its calls from them.

Never: read a gradient through a writable buffer (gradients may be read-only shared memory:
``const`` memoryviews), or import the runtime.
"""

from cpython.mem cimport PyMem_Free, PyMem_Malloc
from cpython.ref cimport PyObject, Py_REFCNT
from cython.parallel cimport prange
from libc.math cimport copysign, copysignf, fabs, fabsf, pow as cpow, sqrt as csqrt

cimport numpy as cnp

from sessionlib._core cimport cores
from sessionlib._core._typedefs cimport float32_t, float64_t, int64_t

import numpy as np

cnp.import_array()

__all__ = ["apply_dense", "apply_sparse", "apply_sparse_adam", "apply_group", "DenseApply",
           "KINDS"]

# Optimizer kinds, and the order of their `params`.
cdef enum:
    K_GRADIENT_DESCENT = 0   # lr
    K_MOMENTUM = 1           # lr, momentum                           flag: use_nesterov
    K_ADAGRAD = 2            # lr                                     flag: update_slots
    K_RMSPROP = 3            # lr, rho, momentum, epsilon
    K_CENTERED_RMSPROP = 4   # lr, rho, momentum, epsilon              slots: mg, ms, mom
    K_ADAM = 5               # beta1_power, beta2_power, lr, beta1, beta2, epsilon; nesterov
    K_ADADELTA = 6           # lr, rho, epsilon
    K_FTRL = 7               # lr, l1, l2, l2_shrinkage, lr_power
    K_PROXIMAL_GD = 8        # lr, l1, l2
    K_PROXIMAL_ADAGRAD = 9   # lr, l1, l2                               slot: accum
    K_ADAGRAD_DA = 10        # lr, l1, l2, global_step    slots: gradient (squared) accumulators
    K_LAST = K_ADAGRAD_DA

KINDS = {"GradientDescent": K_GRADIENT_DESCENT, "Momentum": K_MOMENTUM,
         "Adagrad": K_ADAGRAD, "RMSProp": K_RMSPROP, "CenteredRMSProp": K_CENTERED_RMSPROP,
         "Adam": K_ADAM, "Adadelta": K_ADADELTA, "Ftrl": K_FTRL,
         "ProximalGradientDescent": K_PROXIMAL_GD, "ProximalAdagrad": K_PROXIMAL_ADAGRAD,
         "AdagradDA": K_ADAGRAD_DA}

# The number of params and slots of each kind, checked before any loop runs.
_NUM_PARAMS = (1, 2, 1, 4, 4, 6, 3, 5, 3, 3, 4)
_NUM_SLOTS = (0, 1, 1, 2, 3, 2, 2, 2, 0, 1, 2)

# When an update splits its loop over threads (when it has several). A parallel loop first
# wakes a sleeping OpenMP thread (OMP_WAIT_POLICY=PASSIVE, _core/__init__.py), which costs
# ~45 us on a 2-core VM: elementwise.pyx measured an add (0.14 ns an element) to break even
# near 524288 elements. The optimizers cost more per element, so they break even on fewer:
# `_WEIGHT` is each kind's single-thread time per element in adds (measured, float32, 131072
# elements: GradientDescent 0.8, Momentum 1.3, Adagrad 4.1, RMSProp 4.3, centered RMSProp 5.8,
# Adam 4.4, Adadelta 6.8, Ftrl 92, ProximalGradientDescent 2.3, ProximalAdagrad 6.9,
# AdagradDA 4.8, the last three with l1 > 0), and a loop goes parallel from PARALLEL_WORK
# weighted elements (Adam: 131072 elements). In an LSTM step, Adam over 80K elements took
# 101 us on one thread and 154 us on two (the old threshold, 65536 elements for every kind).
# A dense update counts its elements, a sparse one rows x row length, a group the sum over
# its members.
cdef Py_ssize_t PARALLEL_WORK = 524288
cdef Py_ssize_t _WEIGHT[K_LAST + 1]
_WEIGHT[:] = [1, 1, 4, 4, 6, 4, 7, 92, 2, 7, 5]


cdef inline bint _parallel_pays(int kind, Py_ssize_t n) noexcept nogil:
    return n * _WEIGHT[kind] >= PARALLEL_WORK

ctypedef fused floating:
    float32_t
    float64_t


cdef inline floating _sqrt(floating x) noexcept nogil:
    return <floating>csqrt(x)


cdef inline floating _pow(floating x, floating y) noexcept nogil:
    return <floating>cpow(x, y)


cdef inline floating _soft_threshold(floating x, floating threshold) noexcept nogil:
    """sign(x) * max(|x| - threshold, 0), the proximal step of an L1 penalty, without a
    branch on x's sign: the signs of the weights are random, and a mispredicted branch per
    element made this loop ten times slower than Adagrad's."""
    cdef floating excess
    if floating is float32_t:
        excess = fabsf(x) - threshold
        excess = excess if excess > 0 else 0
        return copysignf(excess, x)
    else:
        excess = fabs(x) - threshold
        excess = excess if excess > 0 else 0
        return copysign(excess, x)


cdef inline void _loop(int kind, floating* var, floating* s0, floating* s1, floating* s2,
                       const floating* g, Py_ssize_t n, const double* p,
                       int flag) noexcept nogil:
    """Applies `kind`'s update to elements [0, n) of the arrays."""
    cdef Py_ssize_t i
    cdef floating lr, a, b, c, d, gi, upd, denom, new_accum, lin, lr_power, x, y
    cdef floating one = 1
    if kind == K_GRADIENT_DESCENT:
        lr = <floating>p[0]
        for i in range(n):
            var[i] -= g[i] * lr
    elif kind == K_MOMENTUM:
        lr = <floating>p[0]
        a = <floating>p[1]
        if flag:
            for i in range(n):
                s0[i] = s0[i] * a + g[i]
                var[i] -= g[i] * lr + s0[i] * a * lr
        else:
            for i in range(n):
                s0[i] = s0[i] * a + g[i]
                var[i] -= s0[i] * lr
    elif kind == K_ADAGRAD:
        lr = <floating>p[0]
        for i in range(n):
            gi = g[i]
            if flag:
                s0[i] += gi * gi
            var[i] -= gi * lr / _sqrt(s0[i])
    elif kind == K_RMSPROP:
        lr = <floating>p[0]
        a = one - <floating>p[1]
        b = <floating>p[2]
        c = <floating>p[3]
        for i in range(n):
            gi = g[i]
            s0[i] += (gi * gi - s0[i]) * a
            s1[i] = s1[i] * b + gi * lr / _sqrt(s0[i] + c)
            var[i] -= s1[i]
    elif kind == K_CENTERED_RMSPROP:
        lr = <floating>p[0]
        a = one - <floating>p[1]
        b = <floating>p[2]
        c = <floating>p[3]
        for i in range(n):
            gi = g[i]
            s1[i] += (gi * gi - s1[i]) * a
            s0[i] += (gi - s0[i]) * a
            denom = s1[i] - s0[i] * s0[i] + c
            s2[i] = s2[i] * b + gi * lr / _sqrt(denom)
            var[i] -= s2[i]
    elif kind == K_ADAM:
        # alpha = lr * sqrt(1 - beta2^t) / (1 - beta1^t): the "epsilon hat" form.
        lr = <floating>p[2] * _sqrt(one - <floating>p[1]) / (one - <floating>p[0])
        a = <floating>p[3]
        b = <floating>p[4]
        c = <floating>p[5]
        for i in range(n):
            gi = g[i]
            s0[i] += (gi - s0[i]) * (one - a)
            s1[i] += (gi * gi - s1[i]) * (one - b)
            if flag:
                var[i] -= (gi * (one - a) + a * s0[i]) * lr / (_sqrt(s1[i]) + c)
            else:
                var[i] -= s0[i] * lr / (_sqrt(s1[i]) + c)
    elif kind == K_ADADELTA:
        lr = <floating>p[0]
        a = <floating>p[1]
        c = <floating>p[2]
        for i in range(n):
            gi = g[i]
            s0[i] = s0[i] * a + gi * gi * (one - a)
            upd = _sqrt(s1[i] + c) / _sqrt(s0[i] + c) * gi
            s1[i] = s1[i] * a + upd * upd * (one - a)
            var[i] -= upd * lr
    elif kind == K_FTRL:
        lr = <floating>p[0]
        a = <floating>p[1]           # l1
        b = <floating>p[2]           # l2
        c = <floating>p[3]           # l2 shrinkage
        lr_power = <floating>p[4]
        for i in range(n):
            gi = g[i]
            new_accum = s0[i] + gi * gi
            if lr_power == <floating>-0.5:
                d = _sqrt(new_accum)
                lin = s1[i] + (gi + 2 * c * var[i]) - (d - _sqrt(s0[i])) / lr * var[i]
            else:
                d = _pow(new_accum, -lr_power)
                lin = (s1[i] + (gi + 2 * c * var[i])
                       - (d - _pow(s0[i], -lr_power)) / lr * var[i])
            s1[i] = lin
            # x = clip(linear, -l1, l1) - linear: zero when |linear| <= l1.
            x = (a if lin > a else (-a if lin < -a else lin)) - lin
            y = d / lr + 2 * b
            var[i] = x / y
            s0[i] = new_accum
    elif kind == K_PROXIMAL_GD:
        # FOBOS: a gradient step, then the proximal step of lr * (l1 |w| + l2 w^2 / 2).
        lr = <floating>p[0]
        a = <floating>p[1]           # l1
        c = lr * a                   # the L1 threshold
        d = one + <floating>p[2] * lr
        if a > 0:
            for i in range(n):
                var[i] = _soft_threshold(var[i] - g[i] * lr, c) / d
        else:
            for i in range(n):
                var[i] = (var[i] - g[i] * lr) / d
    elif kind == K_PROXIMAL_ADAGRAD:
        # The same step with Adagrad's per-element rate lr / sqrt(accum).
        lr = <floating>p[0]
        a = <floating>p[1]           # l1
        b = <floating>p[2]           # l2
        if a > 0:
            for i in range(n):
                gi = g[i]
                s0[i] += gi * gi
                upd = lr / _sqrt(s0[i])
                var[i] = _soft_threshold(var[i] - gi * upd, upd * a) / (one + b * upd)
        else:
            for i in range(n):
                gi = g[i]
                s0[i] += gi * gi
                upd = lr / _sqrt(s0[i])
                var[i] = (var[i] - gi * upd) / (one + b * upd)
    elif kind == K_ADAGRAD_DA:
        # Dual averaging: the variable is recomputed from the accumulated gradients, with the
        # step count t scaling both penalties: -lr * shrink(sum g, t * l1) / (t lr l2 + sqrt).
        lr = <floating>p[0]
        a = <floating>p[1]           # l1
        b = <floating>p[2]           # l2
        c = <floating>p[3]           # global step
        y = b * (c * lr)
        d = c * a                    # the L1 threshold of the accumulated gradient
        if a > 0:
            for i in range(n):
                gi = g[i]
                s0[i] += gi
                s1[i] += gi * gi
                var[i] = _soft_threshold(s0[i], d) * -lr / (y + _sqrt(s1[i]))
        else:
            for i in range(n):
                gi = g[i]
                s0[i] += gi
                s1[i] += gi * gi
                var[i] = lr * s0[i] * -one / (y + _sqrt(s1[i]))


cdef inline Py_ssize_t _block(Py_ssize_t n, int parts) noexcept nogil:
    return (n + parts - 1) // parts


cdef void _dense(int kind, floating* var, floating* s0, floating* s1, floating* s2,
                 const floating* g, Py_ssize_t n, const double* p, int flag,
                 int num_threads) noexcept nogil:
    cdef Py_ssize_t part, start, block
    if num_threads <= 1 or not _parallel_pays(kind, n):
        _loop(kind, var, s0, s1, s2, g, n, p, flag)
        return
    # The threads are leased from the core budget (runtime/cores.py); elementwise, so the
    # result does not depend on how many.
    num_threads = cores.lease(num_threads)
    block = _block(n, num_threads)
    for part in prange(num_threads, num_threads=num_threads, schedule="static"):
        start = part * block
        if start < n:
            _loop(kind, var + start, s0 + start, s1 + start, s2 + start, g + start,
                  min(block, n - start), p, flag)
    cores.release(num_threads)


cdef void _sparse(int kind, floating* var, floating* s0, floating* s1, floating* s2,
                  const floating* g, const int64_t* rows, Py_ssize_t num_rows,
                  Py_ssize_t inner, const double* p, int flag,
                  int num_threads) noexcept nogil:
    cdef Py_ssize_t r, at
    if num_threads <= 1 or not _parallel_pays(kind, num_rows * inner) or num_rows < 2:
        for r in range(num_rows):
            at = rows[r] * inner
            _loop(kind, var + at, s0 + at, s1 + at, s2 + at, g + r * inner, inner, p, flag)
        return
    num_threads = cores.lease(num_threads)
    for r in prange(num_rows, num_threads=num_threads, schedule="static"):
        at = rows[r] * inner
        _loop(kind, var + at, s0 + at, s1 + at, s2 + at, g + r * inner, inner, p, flag)
    cores.release(num_threads)


cdef void _check(int kind, list slots, tuple params, Py_ssize_t n, object grad) except *:
    if kind < 0 or kind > K_LAST:
        raise ValueError(f"Unknown optimizer kind {kind}")
    if len(params) != _NUM_PARAMS[kind] or len(slots) != _NUM_SLOTS[kind]:
        raise ValueError(f"Optimizer kind {kind} takes {_NUM_PARAMS[kind]} params and "
                         f"{_NUM_SLOTS[kind]} slots, got {len(params)} and {len(slots)}")
    for slot in slots:
        if slot.shape[0] != n:
            raise ValueError("A slot's size differs from the variable's")


def _dense_typed(int kind, floating[::1] var, list slots, const floating[::1] grad,
                 tuple params, int flag, int num_threads):
    cdef Py_ssize_t n = var.shape[0]
    cdef double p[8]
    cdef floating[::1] s0 = slots[0] if len(slots) > 0 else var
    cdef floating[::1] s1 = slots[1] if len(slots) > 1 else var
    cdef floating[::1] s2 = slots[2] if len(slots) > 2 else var
    cdef int i
    _check(kind, slots, params, n, grad)
    if grad.shape[0] != n:
        raise ValueError("The gradient's size differs from the variable's")
    for i in range(len(params)):
        p[i] = params[i]
    if n == 0:
        return
    with nogil:
        _dense(kind, &var[0], &s0[0], &s1[0], &s2[0], &grad[0], n, p, flag, num_threads)


def _sparse_typed(int kind, floating[::1] var, list slots, const floating[::1] grad,
                  const int64_t[::1] rows, Py_ssize_t inner, tuple params, int flag,
                  int num_threads):
    cdef Py_ssize_t n = var.shape[0], num_rows = rows.shape[0], r
    cdef Py_ssize_t dim0 = n // inner if inner > 0 else 0
    cdef double p[8]
    cdef floating[::1] s0 = slots[0] if len(slots) > 0 else var
    cdef floating[::1] s1 = slots[1] if len(slots) > 1 else var
    cdef floating[::1] s2 = slots[2] if len(slots) > 2 else var
    cdef int i
    _check(kind, slots, params, n, grad)
    if grad.shape[0] != num_rows * inner:
        raise ValueError("The gradient's size is not rows x row length")
    # The loops trust the rows: check them all first (the caller has, this is the last line).
    for r in range(num_rows):
        if rows[r] < 0 or rows[r] >= dim0:
            raise IndexError(f"row {rows[r]} is not in [0, {dim0})")
    for i in range(len(params)):
        p[i] = params[i]
    if num_rows == 0 or inner == 0:
        return
    with nogil:
        _sparse(kind, &var[0], &s0[0], &s1[0], &s2[0], &grad[0], &rows[0], num_rows, inner,
                p, flag, num_threads)


def apply_dense(int kind, var, list slots, grad, tuple params, int flag=0,
                int num_threads=1):
    """Updates `var` and `slots` in place with one step of optimizer `kind`.

    Args:
      kind: a value of `KINDS`.
      var: the variable, a writable, C-contiguous 1-D float32 or float64 array.
      slots: the slots in the kind's order, arrays like `var`.
      grad: the gradient, a 1-D contiguous array of `var`'s dtype and size (may be read-only).
      params: the hyper-parameters in the kind's order (see the enum), as floats.
      flag: use_nesterov (Momentum, Adam) or update_slots (Adagrad).
      num_threads: the most threads to use.

    Raises:
      ValueError: for sizes, counts or kinds that do not fit.
      TypeError: for a dtype other than float32/float64 or mixed dtypes.
    """
    if var.dtype == np.float32:
        _dense_typed(kind, var, slots, grad, params, flag, num_threads)
    elif var.dtype == np.float64:
        _dense_typed(kind, var, slots, grad, params, flag, num_threads)
    else:
        raise TypeError(f"Fused optimizer updates take float32 or float64, got {var.dtype}")


def apply_sparse(int kind, var, list slots, grad, rows, Py_ssize_t inner, tuple params,
                 int flag=0, int num_threads=1):
    """Updates rows `rows` of `var` and `slots` in place with one step of optimizer `kind`.

    Args:
      kind, slots, params, flag, num_threads: as for `apply_dense`.
      var: the variable flattened, a writable, C-contiguous 1-D array of ``dim0 * inner``.
      grad: the rows' gradients flattened, ``len(rows) * inner`` elements.
      rows: unique int64 row numbers in [0, dim0).
      inner: the number of elements in one row.

    Raises:
      IndexError: for a row out of range.
      ValueError, TypeError: as for `apply_dense`.
    """
    if var.dtype == np.float32:
        _sparse_typed(kind, var, slots, grad, rows, inner, params, flag,
                                 num_threads)
    elif var.dtype == np.float64:
        _sparse_typed(kind, var, slots, grad, rows, inner, params, flag,
                                 num_threads)
    else:
        raise TypeError(f"Fused optimizer updates take float32 or float64, got {var.dtype}")


def _sparse_adam_typed(floating[::1] var, floating[::1] m, floating[::1] v,
                       const floating[::1] grad, const int64_t[::1] rows, Py_ssize_t inner,
                       tuple params, int num_threads):
    cdef Py_ssize_t n = var.shape[0], num_rows = rows.shape[0], r, j, at, i
    cdef Py_ssize_t dim0 = n // inner if inner > 0 else 0
    cdef floating b1p = <floating>params[0], b2p = <floating>params[1]
    cdef floating lr = <floating>params[2], b1 = <floating>params[3]
    cdef floating b2 = <floating>params[4], eps = <floating>params[5], one = 1, gi
    cdef floating alpha = lr * _sqrt(one - b2p) / (one - b1p)
    if m.shape[0] != n or v.shape[0] != n or grad.shape[0] != num_rows * inner:
        raise ValueError("Sizes of var, m, v, grad and rows do not fit")
    for r in range(num_rows):
        if rows[r] < 0 or rows[r] >= dim0:
            raise IndexError(f"row {rows[r]} is not in [0, {dim0})")
    with nogil:
        # TF's sparse Adam: every row decays, the touched rows get the new moments, and every
        # row of the variable moves.
        for i in range(n):
            m[i] = m[i] * b1
            v[i] = v[i] * b2
        for r in range(num_rows):
            at = rows[r] * inner
            for j in range(inner):
                gi = grad[r * inner + j]
                m[at + j] += gi * (one - b1)
                v[at + j] += gi * gi * (one - b2)
        for i in range(n):
            var[i] -= alpha * m[i] / (_sqrt(v[i]) + eps)


def apply_sparse_adam(var, m, v, grad, rows, Py_ssize_t inner, tuple params,
                      int num_threads=1):
    """One step of TF's sparse Adam on flattened `var`, `m`, `v` (see `apply_sparse`).

    `params` are (beta1_power, beta2_power, lr, beta1, beta2, epsilon); `rows` are unique.

    Raises:
      IndexError, ValueError, TypeError: as for `apply_sparse`.
    """
    if var.dtype == np.float32:
        _sparse_adam_typed(var, m, v, grad, rows, inner, params, num_threads)
    elif var.dtype == np.float64:
        _sparse_adam_typed(var, m, v, grad, rows, inner, params, num_threads)
    else:
        raise TypeError(f"Fused optimizer updates take float32 or float64, got {var.dtype}")


# ---- the dense ops' driver ----------------------------------------------------------------------
#
# A dense update op (one variable, its slots, scalar hyper-parameters) runs once per variable
# per step, so on models with many small variables its Python overhead is the step's cost. The
# driver below is the kernel family's general driver (``training_kernels._make_kernel``) for the
# common case only, in C: it takes the resources duck-typed (``.value``, ``.dtype``, ``.lock``,
# found through ``ctx.resources.lookup``) and never raises for bad input. Whatever it does not
# handle (an unknown or uninitialized variable, a dtype or shape that does not fit, float16,
# a resource named twice, a non-scalar hyper-parameter, ...) it hands, untouched, to the
# general driver, which raises TF's errors.

cdef enum:
    MAX_RESOURCES = 4
    MAX_SCALARS = 8


cdef inline bint _is_scalar_of(object value, int typenum):
    return (cnp.PyArray_CheckExact(value) and cnp.PyArray_NDIM(<cnp.ndarray>value) == 0
            and cnp.PyArray_TYPE(<cnp.ndarray>value) == typenum)


cdef inline bint _params_in_range(int kind, const double* p) noexcept:
    """Whether the hyper-parameters pass the kind's run-time checks (TF's ProximalAdagrad
    kernel wants lr > 0 and l1, l2 >= 0; the others check nothing)."""
    if kind == K_PROXIMAL_ADAGRAD:
        return p[0] > 0 and p[1] >= 0 and p[2] >= 0
    return True


cdef inline bint _fits(object value, int typenum, cnp.ndarray var):
    """Whether `value` is a C-contiguous, aligned array of `typenum` with `var`'s shape."""
    cdef cnp.ndarray array
    cdef int d
    if not cnp.PyArray_CheckExact(value):
        return False
    array = <cnp.ndarray>value
    if (cnp.PyArray_TYPE(array) != typenum or not cnp.PyArray_IS_C_CONTIGUOUS(array)
            or not cnp.PyArray_ISALIGNED(array)
            or cnp.PyArray_NDIM(array) != cnp.PyArray_NDIM(var)):
        return False
    for d in range(cnp.PyArray_NDIM(var)):
        if cnp.PyArray_DIM(array, d) != cnp.PyArray_DIM(var, d):
            return False
    return True


cdef struct _Update:
    # One dense update, resolved and bound: what the loops need, and nothing Python.
    int kind
    int flag
    int typenum
    double p[MAX_SCALARS]
    void* data[MAX_RESOURCES]
    const void* grad
    Py_ssize_t n


cdef void _run_update(const _Update* u, Py_ssize_t start, Py_ssize_t stop,
                      int num_threads) noexcept nogil:
    """Elements [start, stop) of update `u`, on at most `num_threads` threads."""
    if u.typenum == cnp.NPY_FLOAT32:
        _dense(u.kind, <float32_t*>u.data[0] + start, <float32_t*>u.data[1] + start,
               <float32_t*>u.data[2] + start, <float32_t*>u.data[3] + start,
               <const float32_t*>u.grad + start, stop - start, u.p, u.flag, num_threads)
    else:
        _dense(u.kind, <float64_t*>u.data[0] + start, <float64_t*>u.data[1] + start,
               <float64_t*>u.data[2] + start, <float64_t*>u.data[3] + start,
               <const float64_t*>u.grad + start, stop - start, u.p, u.flag, num_threads)


cdef class DenseApply:
    """The fast kernel of one dense ``ResourceApply*`` op type: ``kernel(ctx, inputs, attrs)``.

    Args:
      kind: a value of `KINDS`.
      resource_at: the input positions of the variable, then its slots.
      scalar_at: the input positions of the hyper-parameters, in the kind's order.
      grad_at: the input position of the gradient.
      flag_attr: the attr that sets `flag` (use_nesterov, update_slots), or None.
      ftrl_v1: whether a 0 l2 shrinkage goes in as the fourth hyper-parameter.
      general: the general kernel, called (with the same arguments) for every case this one
        declines; it raises the errors.
      get_num_threads: returns the thread budget, asked only for large variables.
      step_at: the input position of an int64 scalar step count, the last hyper-parameter
        (AdagradDA's global step), or -1.

    An update runs in three phases, which `apply_group` also uses to run many updates under
    one set of locks: `_resolve` (read the inputs, find the resources; no lock), `_bind` (under
    the resources' locks: copy on write, check the arrays, take their pointers) and
    `_run_update` (the loop, without the GIL).
    """

    cdef int kind, num_resources, num_scalars, grad_at, ftrl_v1, num_inputs, step_at
    cdef int resource_at[MAX_RESOURCES]
    cdef int scalar_at[MAX_SCALARS]
    cdef object flag_attr, general, get_num_threads
    cdef readonly object __name__

    def __init__(self, int kind, resource_at, scalar_at, int grad_at, flag_attr, bint ftrl_v1,
                 general, get_num_threads, int step_at=-1):
        cdef int i
        if kind < 0 or kind > K_LAST:
            raise ValueError(f"Unknown optimizer kind {kind}")
        if (len(resource_at) != _NUM_SLOTS[kind] + 1
                or len(scalar_at) + ftrl_v1 + (step_at >= 0) != _NUM_PARAMS[kind]):
            raise ValueError(f"Optimizer kind {kind} takes {_NUM_PARAMS[kind]} params and "
                             f"{_NUM_SLOTS[kind]} slots")
        self.kind = kind
        self.num_resources = len(resource_at)
        self.num_scalars = len(scalar_at)
        for i in range(self.num_resources):
            self.resource_at[i] = resource_at[i]
        for i in range(self.num_scalars):
            self.scalar_at[i] = scalar_at[i]
        self.grad_at = grad_at
        # The op's arity as far as this driver reads it (a group checks each member's range).
        self.num_inputs = 1 + max([grad_at, step_at] + list(resource_at) + list(scalar_at))
        self.step_at = step_at
        self.flag_attr = flag_attr
        self.ftrl_v1 = ftrl_v1
        self.general = general
        self.get_num_threads = get_num_threads
        self.__name__ = getattr(general, "__name__", "DenseApply")

    def __call__(self, ctx, tuple inputs, dict attrs):
        if self._try_apply(ctx, inputs, attrs):
            return ()
        return self.general(ctx, inputs, attrs)

    cdef bint _resolve(self, object ctx, tuple inputs, Py_ssize_t base, dict attrs,
                       _Update* u, list keys, list resources) except -1:
        """Reads this op's inputs (``inputs[base:]``) into `u` (kind, flag, hyper-parameters,
        gradient) and appends its resources' keys and resources; False when the general
        driver must run it instead. Takes no lock and changes nothing."""
        cdef object dtype = attrs["T"], lookup, handle, key, resource, value
        cdef cnp.ndarray grad
        cdef int i, j, typenum
        if inputs.__len__() <= base + self.grad_at:
            return False
        grad_obj = inputs[base + self.grad_at]
        if not cnp.PyArray_CheckExact(grad_obj):
            return False
        grad = <cnp.ndarray>grad_obj
        typenum = cnp.PyArray_TYPE(grad)
        if typenum != cnp.NPY_FLOAT32 and typenum != cnp.NPY_FLOAT64:
            return False   # float16 and the rest: the numpy path
        u.kind = self.kind
        u.typenum = typenum
        u.grad = cnp.PyArray_DATA(grad)
        # The hyper-parameters, exactly as `float(value)` gives them.
        j = 0
        for i in range(self.num_scalars):
            if self.ftrl_v1 and j == 3:
                u.p[j] = 0.0
                j += 1
            value = inputs[base + self.scalar_at[i]]
            if not _is_scalar_of(value, typenum):
                return False
            if typenum == cnp.NPY_FLOAT32:
                u.p[j] = (<float32_t*>cnp.PyArray_DATA(<cnp.ndarray>value))[0]
            else:
                u.p[j] = (<float64_t*>cnp.PyArray_DATA(<cnp.ndarray>value))[0]
            j += 1
        if self.step_at >= 0:
            value = inputs[base + self.step_at]
            if not _is_scalar_of(value, cnp.NPY_INT64):
                return False
            u.p[j] = <double>(<int64_t*>cnp.PyArray_DATA(<cnp.ndarray>value))[0]
        if not _params_in_range(self.kind, u.p):
            return False   # the general driver raises TF's error
        u.flag = 1 if self.flag_attr is not None and attrs.get(self.flag_attr) else 0
        # The resources: each found, of the op's dtype, named once.
        lookup = ctx.resources.lookup
        for i in range(self.num_resources):
            handle = inputs[base + self.resource_at[i]]
            if (not cnp.PyArray_CheckExact(handle) or cnp.PyArray_NDIM(<cnp.ndarray>handle) != 0
                    or cnp.PyArray_TYPE(<cnp.ndarray>handle) != cnp.NPY_OBJECT):
                return False
            key = <object>(<PyObject**>cnp.PyArray_DATA(<cnp.ndarray>handle))[0]
            if key is None or type(key) is not str:
                return False
            if i and key in keys[len(keys) - i:]:
                return False
            resource = lookup(key)
            if resource is None or resource.dtype is not dtype:
                return False
            keys.append(key)
            resources.append(resource)
        return True

    cdef bint _bind(self, _Update* u, list resources, Py_ssize_t first,
                    object grad_obj) except -1:
        """Under the locks of ``resources[first:first + num_resources]``: makes each value
        private (copy on write), checks it fits the gradient, and stores its pointer in `u`.
        False when the general driver must run the op instead, having changed nothing
        observable (at most a copy on write)."""
        cdef object resource, value
        cdef cnp.ndarray var = None, array
        cdef cnp.ndarray grad = <cnp.ndarray>grad_obj
        cdef int i, typenum = u.typenum
        for i in range(self.num_resources):
            resource = resources[first + i]
            value = resource.value
            if value is None or not cnp.PyArray_CheckExact(value):
                return False
            # Copy on write: the resource's attribute and `value` are the only references
            # when no reader holds the array (a reader's view references it too).
            if Py_REFCNT(value) != 2:
                value = value.copy()
                resource.value = value
            array = <cnp.ndarray>value
            if i == 0:
                var = array
                if (cnp.PyArray_TYPE(var) != typenum or not cnp.PyArray_ISWRITEABLE(var)
                        or not _fits(var, typenum, var) or not _fits(grad, typenum, var)):
                    return False
            elif not _fits(array, typenum, var) or not cnp.PyArray_ISWRITEABLE(array):
                return False
            u.data[i] = cnp.PyArray_DATA(array)
        for i in range(self.num_resources, MAX_RESOURCES):
            u.data[i] = u.data[0]
        u.n = cnp.PyArray_SIZE(var)
        return True

    cdef bint _try_apply(self, object ctx, tuple inputs, dict attrs) except -1:
        """Applies the update and returns True, or returns False having changed nothing
        observable (at most a copy on write)."""
        cdef _Update u
        cdef list keys = [], resources = [], locks
        cdef int i, k, held = 0, num_threads = 1
        cdef bint done = False
        if not self._resolve(ctx, inputs, 0, attrs, &u, keys, resources):
            return False
        locks = [resource.lock for resource in resources]
        # Locks in key order (the general driver's order: no two updates deadlock).
        for i in range(1, self.num_resources):
            k = i
            while k > 0 and keys[k] < keys[k - 1]:
                keys[k], keys[k - 1] = keys[k - 1], keys[k]
                locks[k], locks[k - 1] = locks[k - 1], locks[k]
                k -= 1
        try:
            for i in range(self.num_resources):
                locks[i].acquire()
                held += 1
            if not self._bind(&u, resources, 0, inputs[self.grad_at]):
                return False
            if _parallel_pays(u.kind, u.n):
                num_threads = self.get_num_threads()
            if u.n:
                with nogil:
                    _run_update(&u, 0, u.n, num_threads)
            done = True
        finally:
            for i in range(held):
                locks[i].release()
        return done


# ---- many independent updates in one call ------------------------------------------------------
#
# A training step updates many variables, each through its own op, and no update reads
# another's result. The runtime groups such ops into one node (``runtime/update_grouping.py``)
# whose kernel calls `apply_group`: it resolves every member, takes all their locks, binds
# them, and runs all the loops in one parallel region, over work items that are whole small
# variables or blocks of a large one, so the cores stay busy whether the step has one large
# variable or hundreds of small ones. Whatever a member declines (the general driver's cases, a
# resource that another member also updates) it leaves to the caller, which runs those members
# one by one through their own kernels.
#
# Locks without deadlock, and without sorting hundreds of keys per step: the group only tries
# each lock (no waiting). If one is held elsewhere (another thread's step on the same
# variables), it releases what it took and leaves every member to the caller, whose per-op
# drivers take their few locks in key order, as ungrouped ops do.

# A variable larger than this is split into blocks of about this many elements, so that one
# large variable never leaves the other threads idle at the end of the region.
cdef Py_ssize_t GROUP_BLOCK = 32768


def apply_group(ctx, tuple inputs, dict attrs, list kernels, get_num_threads):
    """Runs the dense updates of a group node whose members' fast kernels are `kernels`.

    Args:
      ctx: the run context (``ctx.resources.lookup`` finds the variables).
      inputs: every member's inputs, concatenated in member order.
      attrs: the group node's attrs: ``member_starts`` (where each member's inputs begin in
        `inputs`, and their end) and ``member_attrs`` (each member's attrs).
      kernels: each member's fast kernel; those that are `DenseApply` run here.
      get_num_threads: returns the thread budget, asked only when the group is large.

    Returns:
      The indices of the members it did not run, in member order: the caller runs each
      through its own kernel, which raises the member's errors.
    """
    cdef tuple starts = attrs["member_starts"], member_attrs = attrs["member_attrs"]
    cdef Py_ssize_t m = len(kernels), k, i, j, num_items = 0, total = 0, start, block, first
    cdef Py_ssize_t item, held = 0
    cdef int num_threads = 1
    cdef list declined = [], keys = [], resources = [], firsts = [], locks = []
    cdef dict member_of_key = {}
    cdef DenseApply kernel
    cdef _Update* updates
    cdef Py_ssize_t* item_update = NULL
    cdef Py_ssize_t* item_start
    cdef Py_ssize_t* item_stop
    cdef bint* accepted
    cdef bint independent
    if len(starts) != m + 1 or len(member_attrs) != m:
        raise ValueError(f"a group of {m} updates has {len(starts) - 1} input ranges and "
                         f"{len(member_attrs)} attr dicts")
    if m == 0:
        return declined
    updates = <_Update*>PyMem_Malloc(m * sizeof(_Update))
    accepted = <bint*>PyMem_Malloc(m * sizeof(bint))
    if updates == NULL or accepted == NULL:
        PyMem_Free(updates)
        PyMem_Free(accepted)
        raise MemoryError()
    try:
        for k in range(m):
            accepted[k] = False
            first = len(resources)
            firsts.append(first)
            if type(kernels[k]) is not DenseApply:
                continue
            kernel = <DenseApply>kernels[k]
            if (starts[k + 1] - starts[k] < kernel.num_inputs
                    or not kernel._resolve(ctx, inputs, starts[k], member_attrs[k],
                                           &updates[k], keys, resources)):
                del keys[first:], resources[first:]
                continue
            # Two members on one resource are not independent: the later one runs alone.
            independent = True
            for i in range(first, len(keys)):
                if keys[i] in member_of_key:
                    independent = False
                    break
            if not independent:
                del keys[first:], resources[first:]
                continue
            for i in range(first, len(keys)):
                member_of_key[keys[i]] = k
            accepted[k] = True
        try:
            for i in range(len(resources)):
                lock = resources[i].lock
                if not lock.acquire(False):
                    # Busy elsewhere: everything goes to the per-op drivers.
                    for k in range(m):
                        accepted[k] = False
                    break
                locks.append(lock)
                held += 1
            for k in range(m):
                if accepted[k]:
                    kernel = <DenseApply>kernels[k]
                    accepted[k] = kernel._bind(&updates[k], resources, firsts[k],
                                               inputs[starts[k] + kernel.grad_at])
                    if accepted[k]:
                        total += updates[k].n * _WEIGHT[updates[k].kind]
            if total >= PARALLEL_WORK:
                num_threads = get_num_threads()
            if num_threads <= 1:
                with nogil:
                    for k in range(m):
                        if accepted[k] and updates[k].n:
                            _run_update(&updates[k], 0, updates[k].n, 1)
            else:
                for k in range(m):
                    if accepted[k]:
                        num_items += (updates[k].n + GROUP_BLOCK - 1) // GROUP_BLOCK
                item_update = <Py_ssize_t*>PyMem_Malloc(3 * num_items * sizeof(Py_ssize_t))
                if item_update == NULL:
                    raise MemoryError()
                item_start = item_update + num_items
                item_stop = item_start + num_items
                item = 0
                for k in range(m):
                    if not accepted[k]:
                        continue
                    start = 0
                    while start < updates[k].n:
                        block = min(GROUP_BLOCK, updates[k].n - start)
                        item_update[item] = k
                        item_start[item] = start
                        item_stop[item] = start + block
                        start += block
                        item += 1
                with nogil:
                    # (leased from the core budget: runtime/cores.py)
                    num_threads = cores.lease(num_threads)
                    for item in prange(num_items, num_threads=num_threads, schedule="dynamic"):
                        _run_update(&updates[item_update[item]], item_start[item],
                                    item_stop[item], 1)
                    cores.release(num_threads)
        finally:
            for i in range(held):
                locks[i].release()
        for k in range(m):
            if not accepted[k]:
                declined.append(k)
        return declined
    finally:
        PyMem_Free(updates)
        PyMem_Free(accepted)
        PyMem_Free(item_update)
