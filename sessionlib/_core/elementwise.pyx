# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False
"""Elementwise kernels in C: the fast twin of ``sessionlib.runtime.reference_kernels``.

Both modules export the same names with the same behaviour; the reference is the spec and
``tests/test_kernels_parity.py`` runs one suite against both.
"""

# Design
# ======
#
# Dispatch. A public kernel (``add``) is a def function that passes a *tag* to one fused entry
# point (``_binary_entry``). Tags are empty structs, one per op, gathered in a fused type; with
# the dtypes in ``numeric_t`` Cython generates one specialisation per (op, dtype) pair, and
# ``if tag_t is AddTag`` branches are resolved at compile time. So each op is written once, as
# one line in ``_binary_store`` / ``_unary_value``, and every inner loop is a plain C loop the
# compiler can vectorise. The only runtime dispatch is one switch on the dtype per call.
#
# Broadcasting. Shapes are aligned on the right as in numpy, and every operand gets strides in
# elements, 0 along the axes it is broadcast on. Axes of length 1 are dropped and neighbouring
# axes that are contiguous for both operands are merged (``_plan_broadcast``), so most calls end
# up with one or two axes. The last axis is the inner loop; the axes in front of it are walked
# by an odometer (``Cursor``). The output is always a fresh C-contiguous array, so its offset is
# just the flat element index. The fast paths fall out of the collapse:
#   * same shape, both contiguous        -> one row, steps (1, 1): out[i] = op(x[i], y[i])
#   * scalar (or size-1) vs contiguous   -> one row, steps (0, 1) or (1, 0): the scalar is
#                                           loaded once, and the loop is again flat
#   * anything else (bias add, outer     -> rows of the same three kinds, or a strided row for
#     products, x.T, x[::-1], ...)          non-contiguous inputs (negative strides included)
# Inputs are read through ``const`` pointers taken from the array, never through a writable
# buffer request, so read-only arrays (e.g. shared memory mapped read-only) work. That is what
# a ``const`` memoryview buys, minus the ~100 ns a memoryview costs to acquire per operand,
# which matters when the whole op budget is ~250 ns. Misaligned or byte-swapped inputs (rare:
# ``np.frombuffer`` at an odd offset, '>f4') are first copied into a native aligned array.
#
# Threads. The work is split on the flat output index, so any shape splits evenly: each thread
# takes one contiguous block of output elements, seeks the odometer to its first element and
# runs the same row loop (``_binary_run``). Threads are used only above PARALLEL_THRESHOLD
# elements and only when ``set_num_threads(n)`` was given n > 1 (default 1: the session decides
# devices x threads so that workers never oversubscribe the cores), and each parallel loop
# leases its threads from the core budget (``cores.pyx``, policy in runtime/cores.py). The GIL is released above
# NOGIL_THRESHOLD elements; below it, releasing and taking it back costs more than the loop.
#
# Errors. Kernels never warn: floats follow IEEE (inf/nan, no traps) and integers wrap. Signed
# add/sub/mul/neg are done in the unsigned type of the same width, because signed overflow is
# undefined behaviour in C; INT_MIN // -1 is special-cased for the same reason. Integer division
# by zero and negative integer powers are flagged inside the loop and raised as
# InvalidArgumentError after it; the partially written output is dropped.
#
# Transcendentals. glibc's scalar expf/logf/sinf/... cost ~4 ns an element, numpy's SIMD
# versions ~0.5 ns. From NUMPY_TRANSCENDENTAL_THRESHOLD elements on, exp/log/log1p/sin/cos/tanh
# write numpy's result straight into our output (the ufunc call costs ~1.5 us, so small tensors
# stay in C). From FUSED_TRANSCENDENTAL_THRESHOLD on they run as a one-instruction program of
# the fused kernel (fused.unary): vector math on every thread, where numpy uses one. sigmoid,
# which numpy lacks, and float32 tanh (the fused kernel builds both on its inlined exp, 3x
# faster than numpy's tanh) take that path from NUMPY_TRANSCENDENTAL_THRESHOLD on (a scalar
# loop costs 5 ns an element).
# All are accurate to a few ulps, so the last bits of such a result may depend on the
# tensor's size, as they do in Eigen's packet-vs-scalar paths.
#
# float16. C has no half type. float16 inputs are handed to the numpy reference kernels, whose
# per-step rounding to half is what TF's Eigen::half does; only the dispatch is shared. The
# runtime hands those kernels to this module (`set_fallback`) when it imports them.
#
# Never: write an input, warn, or import the runtime (the core sits below it; what the core
# needs from above is handed to it). The instruction numbers are defined once, in
# elementwise.pxd; nothing here restates them.

cimport numpy as cnp
from cython.parallel cimport prange
# Under a module name: the public kernels `sqrt`, `exp`, `abs`, ... reuse the libm names.
from libc cimport math as cmath

from sessionlib._core._typedefs cimport (
    bool_t, float32_t, float64_t, int8_t, int16_t, int32_t, int64_t, numeric_t, uint8_t,
    uint32_t, uint64_t,
)
from sessionlib._core cimport cores
from sessionlib._core._scalar cimport (
    _abs, _maximum, _minimum, _relu, _sign, _wrapping_add, _wrapping_mul, _wrapping_neg,
    _wrapping_sub,
)

import numpy as np

cnp.import_array()

__all__ = [
    "add", "sub", "mul", "real_div", "floor_div", "floor_mod", "pow", "maximum", "minimum",
    "squared_difference",
    "equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
    "logical_and", "logical_or", "logical_not",
    "neg", "abs", "sign", "square", "sqrt", "rsqrt", "exp", "log", "log1p", "sin", "cos", "tanh",
    "sigmoid", "relu", "reciprocal",
    "cast",
    "SUPPORTED_DTYPES", "set_num_threads", "get_num_threads",
]

# Above this many output elements a kernel splits its loop over threads (when it has several).
# These loops are memory-bound (an add: ~0.14 ns an element on one thread), and a parallel loop
# first wakes a sleeping OpenMP thread (OMP_WAIT_POLICY=PASSIVE, _core/__init__.py): measured
# in a session on a 2-core machine, with the thread asleep as it is between a step's kernels,
# an add took 9.6 us on one thread and 22 us on two at 65536 elements, 37 and 53 us at 262144,
# and broke even near 524288. A loop body's [156, 512] gradient accumulation (80K elements)
# ran 2.5x slower in parallel.
cdef Py_ssize_t PARALLEL_THRESHOLD = 262144
# Above this many elements the GIL is released around the loop.
cdef Py_ssize_t NOGIL_THRESHOLD = 8192

cdef enum:
    MAX_DIMS = 64   # numpy 2's NPY_MAXDIMS

# From this many elements on, exp/log/log1p/sin/cos/tanh call numpy's vectorised ufuncs.
cdef Py_ssize_t NUMPY_TRANSCENDENTAL_THRESHOLD = 1024
cdef Py_ssize_t FUSED_TRANSCENDENTAL_THRESHOLD = 65536

# Error flags raised from inside the loops.
cdef enum:
    ERR_DIVISION_BY_ZERO = 1
    ERR_NEGATIVE_POWER = 2

cdef int _num_threads = 1


# ---------------------------------------------------------------------------------------------
# The supported dtypes, per kernel. This table is the one source of truth: the masks the C
# entry points check are built from it at import time.

_FLOATS = (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64))
_INTEGERS = (
    np.dtype(np.int8), np.dtype(np.int16), np.dtype(np.int32), np.dtype(np.int64),
    np.dtype(np.uint8),
)
_NUMERIC = _FLOATS + _INTEGERS
_BOOL = (np.dtype(np.bool_),)
_ALL = _NUMERIC + _BOOL

# Kernel names in KernelId order, derived from the enum (elementwise.pxd): K_REAL_DIV is
# "real_div", the name of its Python function here and in the reference kernels.
KERNEL_NAMES = tuple(kernel.name[2:].lower() for kernel in KernelId)

SUPPORTED_DTYPES = {
    "add": _NUMERIC, "sub": _NUMERIC, "mul": _NUMERIC, "real_div": _FLOATS,
    "floor_div": _NUMERIC, "floor_mod": _NUMERIC, "pow": _NUMERIC,
    "maximum": _NUMERIC, "minimum": _NUMERIC, "squared_difference": _NUMERIC,
    "equal": _ALL, "not_equal": _ALL,
    "less": _NUMERIC, "less_equal": _NUMERIC, "greater": _NUMERIC, "greater_equal": _NUMERIC,
    "logical_and": _BOOL, "logical_or": _BOOL, "logical_not": _BOOL,
    "neg": _NUMERIC, "abs": _NUMERIC, "sign": _NUMERIC, "square": _NUMERIC, "relu": _NUMERIC,
    "sqrt": _FLOATS, "rsqrt": _FLOATS, "exp": _FLOATS, "log": _FLOATS, "log1p": _FLOATS,
    "sin": _FLOATS, "cos": _FLOATS, "tanh": _FLOATS, "sigmoid": _FLOATS, "reciprocal": _FLOATS,
    "cast": _ALL,
}

cdef unsigned int _SUPPORTED_MASK[NUM_KERNELS]
cdef int _TYPENUM_OF_CODE[DT_UNSUPPORTED + 1]


cdef int _code_of_kind(char kind, Py_ssize_t itemsize) noexcept:
    """The DTypeCode for a numpy (kind, itemsize); byte order is checked elsewhere."""
    if kind == b'f':
        if itemsize == 4:
            return DT_FLOAT32
        if itemsize == 8:
            return DT_FLOAT64
        if itemsize == 2:
            return DT_FLOAT16
    elif kind == b'i':
        if itemsize == 4:
            return DT_INT32
        if itemsize == 8:
            return DT_INT64
        if itemsize == 1:
            return DT_INT8
        if itemsize == 2:
            return DT_INT16
    elif kind == b'u':
        if itemsize == 1:
            return DT_UINT8
    elif kind == b'b':
        return DT_BOOL
    return DT_UNSUPPORTED


cdef int dtype_code(cnp.ndarray array) noexcept:
    return _code_of_kind(array.descr.kind, cnp.PyArray_ITEMSIZE(array))


cdef int _dtype_object_code(object dtype) except -1:
    cdef cnp.dtype descr = <cnp.dtype>dtype
    return _code_of_kind(descr.kind, descr.itemsize)


def _init_tables():
    _TYPENUM_OF_CODE[<int>DT_BOOL] = cnp.NPY_BOOL
    _TYPENUM_OF_CODE[<int>DT_INT8] = cnp.NPY_INT8
    _TYPENUM_OF_CODE[<int>DT_INT16] = cnp.NPY_INT16
    _TYPENUM_OF_CODE[<int>DT_INT32] = cnp.NPY_INT32
    _TYPENUM_OF_CODE[<int>DT_INT64] = cnp.NPY_INT64
    _TYPENUM_OF_CODE[<int>DT_UINT8] = cnp.NPY_UINT8
    _TYPENUM_OF_CODE[<int>DT_FLOAT16] = cnp.NPY_FLOAT16
    _TYPENUM_OF_CODE[<int>DT_FLOAT32] = cnp.NPY_FLOAT32
    _TYPENUM_OF_CODE[<int>DT_FLOAT64] = cnp.NPY_FLOAT64
    _TYPENUM_OF_CODE[<int>DT_UNSUPPORTED] = -1
    assert len(KERNEL_NAMES) == NUM_KERNELS and set(KERNEL_NAMES) == set(SUPPORTED_DTYPES)
    for kernel, name in enumerate(KERNEL_NAMES):
        mask = 0
        for dtype in SUPPORTED_DTYPES[name]:
            mask |= 1 << _dtype_object_code(dtype)
        _SUPPORTED_MASK[kernel] = mask


_init_tables()

_NUMPY_UFUNCS = {
    <int>K_EXP: np.exp, <int>K_LOG: np.log, <int>K_LOG1P: np.log1p, <int>K_SIN: np.sin,
    <int>K_COS: np.cos, <int>K_TANH: np.tanh,
}


# ---------------------------------------------------------------------------------------------
# Errors (slow paths, out of line).

_errors_module = None
_fused_module = None
# The kernels float16 is delegated to (see set_fallback); None until the runtime hands them.
_fallback = None


def _fused():
    # Imported on first use: fused cimports this module.
    global _fused_module
    if _fused_module is None:
        from sessionlib._core import fused
        _fused_module = fused
    return _fused_module


def _errors():
    # Imported on first use: sessionlib/__init__ may import the executor, which imports us.
    global _errors_module
    if _errors_module is None:
        from sessionlib import errors
        _errors_module = errors
    return _errors_module


def set_fallback(kernels):
    """Hands this module the kernels it delegates float16 to (C has no half type).

    The compiled core sits below the runtime and never imports it: the runtime's numpy
    kernels (``sessionlib/runtime/reference_kernels.py``) hand themselves over when imported.

    Args:
      kernels: an object with one attribute per name in KERNEL_NAMES, each taking the same
        arguments as this module's kernel of that name (the reference kernel module).

    Raises:
      ValueError: if `kernels` lacks one of them.
    """
    global _fallback
    missing = [name for name in KERNEL_NAMES if not callable(getattr(kernels, name, None))]
    if missing:
        raise ValueError(f"the fallback kernels lack {', '.join(missing)}")
    _fallback = kernels


cdef object _fallback_kernel(int kernel):
    """The handed-over kernel of number `kernel` (float16 inputs or outputs)."""
    if _fallback is None:
        raise RuntimeError(
            f"{KERNEL_NAMES[kernel]}: float16 runs through the numpy reference kernels, which "
            "were not handed to sessionlib._core.elementwise (importing "
            "sessionlib.runtime.reference_kernels does it)")
    return getattr(_fallback, KERNEL_NAMES[kernel])


def _shape_string(shape):
    return "[" + ",".join(str(dim) for dim in shape) + "]"


cdef int _raise_incompatible(object x, object y) except -1:
    # (object arguments: on a typed ndarray, .shape is the C npy_intp* array)
    raise _errors().InvalidArgumentError(
        None, None, f"Incompatible shapes: {_shape_string(x.shape)} vs. {_shape_string(y.shape)}")


cdef int _raise_unsupported(int kernel, object dtype) except -1:
    name = KERNEL_NAMES[kernel]
    supported = ", ".join(d.name for d in SUPPORTED_DTYPES[name])
    raise _errors().UnimplementedError(
        None, None,
        f"{name}: no kernel for dtype {np.dtype(dtype).name} (supported: {supported})")


cdef int _raise_dtype_mismatch(int kernel, cnp.ndarray x, cnp.ndarray y) except -1:
    raise _errors().InvalidArgumentError(
        None, None,
        f"{KERNEL_NAMES[kernel]}: both inputs must have the same dtype, got "
        f"{x.dtype.name} and {y.dtype.name}")


cdef int _raise_loop_error(int error) except -1:
    if error & ERR_DIVISION_BY_ZERO:
        raise _errors().InvalidArgumentError(None, None, "Integer division by zero")
    raise _errors().InvalidArgumentError(
        None, None, "Integers to negative integer powers are not allowed")


# ---------------------------------------------------------------------------------------------
# Input normalisation.

cdef inline cnp.ndarray _as_array(object value):
    if cnp.PyArray_Check(value):
        return <cnp.ndarray>value
    return np.asarray(value)


cdef inline bint _is_well_behaved(cnp.ndarray array) noexcept:
    """Aligned and in native byte order, so strides divide by the item size."""
    return cnp.PyArray_ISALIGNED(array) and cnp.PyArray_ISNOTSWAPPED(array)


cdef cnp.ndarray _native_copy(cnp.ndarray array):
    return array.astype(array.dtype.newbyteorder("="), order="C")


# ---------------------------------------------------------------------------------------------
# Broadcast plan and odometer.

cdef struct BroadcastPlan:
    int ndim                          # collapsed axes (>= 1); the last is the inner loop
    Py_ssize_t size                   # elements of the output
    Py_ssize_t shape[MAX_DIMS]
    Py_ssize_t x_strides[MAX_DIMS]    # in elements; 0 where x is broadcast
    Py_ssize_t y_strides[MAX_DIMS]


cdef struct Cursor:
    Py_ssize_t index[MAX_DIMS]        # position along each outer axis
    Py_ssize_t x_offset               # element offsets of the current row's start
    Py_ssize_t y_offset


cdef int _plan_broadcast(
    int x_ndim, const cnp.npy_intp* x_dims, const cnp.npy_intp* x_byte_strides,
    int y_ndim, const cnp.npy_intp* y_dims, const cnp.npy_intp* y_byte_strides,
    Py_ssize_t itemsize, cnp.npy_intp* out_shape, int* out_ndim, BroadcastPlan* plan,
) noexcept nogil:
    """Fills out_shape (numpy's broadcast shape) and the collapsed plan; -1 if incompatible.

    A unary op passes y_ndim = 0. Strides must be multiples of itemsize (aligned arrays).
    """
    cdef int ndim = x_ndim if x_ndim > y_ndim else y_ndim
    cdef int axis, x_axis, y_axis, last
    cdef Py_ssize_t size = 1, x_dim, y_dim, dim, x_stride, y_stride
    plan.ndim = 0
    for axis in range(ndim):
        x_axis = axis - (ndim - x_ndim)
        y_axis = axis - (ndim - y_ndim)
        x_dim = x_dims[x_axis] if x_axis >= 0 else 1
        y_dim = y_dims[y_axis] if y_axis >= 0 else 1
        if x_dim == y_dim or y_dim == 1:
            dim = x_dim
        elif x_dim == 1:
            dim = y_dim
        else:
            return -1
        # A length-1 axis is never stepped along, so its stride is irrelevant: make it 0.
        x_stride = x_byte_strides[x_axis] // itemsize if x_dim != 1 else 0
        y_stride = y_byte_strides[y_axis] // itemsize if y_dim != 1 else 0
        out_shape[axis] = dim
        size *= dim
        if dim == 1:
            continue
        last = plan.ndim - 1
        if (last >= 0 and plan.x_strides[last] == x_stride * dim
                and plan.y_strides[last] == y_stride * dim):
            # The previous axis steps over exactly one run of this one, for both operands.
            plan.shape[last] *= dim
            plan.x_strides[last] = x_stride
            plan.y_strides[last] = y_stride
        else:
            plan.shape[last + 1] = dim
            plan.x_strides[last + 1] = x_stride
            plan.y_strides[last + 1] = y_stride
            plan.ndim += 1
    if plan.ndim == 0:
        plan.ndim = 1
        plan.shape[0] = 1
        plan.x_strides[0] = 0
        plan.y_strides[0] = 0
    plan.size = size
    out_ndim[0] = ndim
    return 0


cdef inline void _cursor_seek(
    const BroadcastPlan* plan, Cursor* cursor, Py_ssize_t row,
) noexcept nogil:
    """Positions the cursor at the start of outer row `row` (rows in C order)."""
    cdef int axis
    cursor.x_offset = 0
    cursor.y_offset = 0
    for axis in range(plan.ndim - 2, -1, -1):
        cursor.index[axis] = row % plan.shape[axis]
        row = row // plan.shape[axis]
        cursor.x_offset += cursor.index[axis] * plan.x_strides[axis]
        cursor.y_offset += cursor.index[axis] * plan.y_strides[axis]


cdef inline void _cursor_next_row(const BroadcastPlan* plan, Cursor* cursor) noexcept nogil:
    cdef int axis = plan.ndim - 2
    while axis >= 0:
        cursor.index[axis] += 1
        cursor.x_offset += plan.x_strides[axis]
        cursor.y_offset += plan.y_strides[axis]
        if cursor.index[axis] < plan.shape[axis]:
            return
        cursor.x_offset -= plan.x_strides[axis] * plan.shape[axis]
        cursor.y_offset -= plan.y_strides[axis] * plan.shape[axis]
        cursor.index[axis] = 0
        axis -= 1


cdef inline Py_ssize_t _block_size(Py_ssize_t size, int parts) noexcept nogil:
    """Elements per thread, rounded up to 64 so that blocks do not share cache lines."""
    cdef Py_ssize_t block = (size + parts - 1) // parts
    return (block + 63) // 64 * 64


# ---------------------------------------------------------------------------------------------
# Scalar helpers (the wrapping arithmetic, min/max, abs, sign and relu are in _scalar.pxd,
# shared with fused.pyx). Float math picks the float or double libm call.

cdef inline numeric_t _floor_div(numeric_t a, numeric_t b, int* error) noexcept nogil:
    cdef numeric_t quotient, remainder
    if numeric_t is float32_t:
        return cmath.floorf(a / b)
    elif numeric_t is float64_t:
        return cmath.floor(a / b)
    else:
        if b == 0:
            error[0] |= ERR_DIVISION_BY_ZERO
            return 0
        if numeric_t is uint8_t:
            return a // b
        else:
            if b == -1:
                return _wrapping_neg(a)  # MIN // -1 traps in C
            quotient = a // b            # C division truncates toward zero ...
            remainder = a % b
            if remainder != 0 and ((remainder < 0) != (b < 0)):
                quotient -= 1            # ... floor rounds toward -inf
            return quotient


cdef inline numeric_t _floor_mod(numeric_t a, numeric_t b, int* error) noexcept nogil:
    cdef numeric_t remainder
    if numeric_t is float32_t or numeric_t is float64_t:
        # numpy's npy_remainder: fmod, moved to the sign of the divisor.
        if numeric_t is float32_t:
            remainder = cmath.fmodf(a, b)
        else:
            remainder = cmath.fmod(a, b)
        if b == 0:
            return remainder
        if remainder != 0:
            if (b < 0) != (remainder < 0):
                remainder = remainder + b
        else:
            if numeric_t is float32_t:
                remainder = cmath.copysignf(0, b)
            else:
                remainder = cmath.copysign(0, b)
        return remainder
    else:
        if b == 0:
            error[0] |= ERR_DIVISION_BY_ZERO
            return 0
        if numeric_t is uint8_t:
            return a % b
        else:
            if b == -1:
                return 0                 # MIN % -1 traps in C
            remainder = a % b
            if remainder != 0 and ((remainder < 0) != (b < 0)):
                remainder = remainder + b
            return remainder


cdef inline numeric_t _power(numeric_t base, numeric_t exponent, int* error) noexcept nogil:
    cdef numeric_t result
    if numeric_t is float32_t:
        return cmath.powf(base, exponent)
    elif numeric_t is float64_t:
        return cmath.pow(base, exponent)
    else:
        if exponent < 0:
            error[0] |= ERR_NEGATIVE_POWER
            return 0
        result = 1
        while exponent > 0:                     # square and multiply, wrapping
            if exponent & 1:
                result = _wrapping_mul(result, base)
            exponent = exponent >> 1
            base = _wrapping_mul(base, base)
        return result


# Float-only helpers. The integer specialisations exist only to keep every fused combination
# compilable; the dtype masks never let an integer reach them.

cdef inline numeric_t _sqrt(numeric_t a) noexcept nogil:
    if numeric_t is float32_t:
        return cmath.sqrtf(a)
    else:
        return <numeric_t>cmath.sqrt(a)


cdef inline numeric_t _exp(numeric_t a) noexcept nogil:
    if numeric_t is float32_t:
        return cmath.expf(a)
    else:
        return <numeric_t>cmath.exp(a)


cdef inline numeric_t _log(numeric_t a) noexcept nogil:
    if numeric_t is float32_t:
        return cmath.logf(a)
    else:
        return <numeric_t>cmath.log(a)


cdef inline numeric_t _log1p(numeric_t a) noexcept nogil:
    if numeric_t is float32_t:
        return cmath.log1pf(a)
    else:
        return <numeric_t>cmath.log1p(a)


cdef inline numeric_t _sin(numeric_t a) noexcept nogil:
    if numeric_t is float32_t:
        return cmath.sinf(a)
    else:
        return <numeric_t>cmath.sin(a)


cdef inline numeric_t _cos(numeric_t a) noexcept nogil:
    if numeric_t is float32_t:
        return cmath.cosf(a)
    else:
        return <numeric_t>cmath.cos(a)


cdef inline numeric_t _tanh(numeric_t a) noexcept nogil:
    if numeric_t is float32_t:
        return cmath.tanhf(a)
    else:
        return <numeric_t>cmath.tanh(a)


cdef inline numeric_t _sigmoid(numeric_t a) noexcept nogil:
    # exp of a non-positive number never overflows; the limits come out exactly 0 and 1.
    cdef numeric_t e = _exp(-_abs(a))
    if numeric_t is float32_t or numeric_t is float64_t:
        return <numeric_t>1 / (1 + e) if a >= 0 else e / (1 + e)
    else:
        return 0


# ---------------------------------------------------------------------------------------------
# Op tags. Empty structs, one per op; only their type matters.

cdef struct AddTag:
    char unused
cdef struct SubTag:
    char unused
cdef struct MulTag:
    char unused
cdef struct RealDivTag:
    char unused
cdef struct FloorDivTag:
    char unused
cdef struct FloorModTag:
    char unused
cdef struct PowTag:
    char unused
cdef struct MaximumTag:
    char unused
cdef struct MinimumTag:
    char unused
cdef struct SquaredDifferenceTag:
    char unused
cdef struct EqualTag:
    char unused
cdef struct NotEqualTag:
    char unused
cdef struct LessTag:
    char unused
cdef struct LessEqualTag:
    char unused
cdef struct GreaterTag:
    char unused
cdef struct GreaterEqualTag:
    char unused
cdef struct LogicalAndTag:
    char unused
cdef struct LogicalOrTag:
    char unused

cdef struct LogicalNotTag:
    char unused
cdef struct NegTag:
    char unused
cdef struct AbsTag:
    char unused
cdef struct SignTag:
    char unused
cdef struct SquareTag:
    char unused
cdef struct SqrtTag:
    char unused
cdef struct RsqrtTag:
    char unused
cdef struct ExpTag:
    char unused
cdef struct LogTag:
    char unused
cdef struct Log1pTag:
    char unused
cdef struct SinTag:
    char unused
cdef struct CosTag:
    char unused
cdef struct TanhTag:
    char unused
cdef struct SigmoidTag:
    char unused
cdef struct ReluTag:
    char unused
cdef struct ReciprocalTag:
    char unused

ctypedef fused binary_tag_t:
    AddTag
    SubTag
    MulTag
    RealDivTag
    FloorDivTag
    FloorModTag
    PowTag
    MaximumTag
    MinimumTag
    SquaredDifferenceTag
    EqualTag
    NotEqualTag
    LessTag
    LessEqualTag
    GreaterTag
    GreaterEqualTag
    LogicalAndTag
    LogicalOrTag

ctypedef fused unary_tag_t:
    LogicalNotTag
    NegTag
    AbsTag
    SignTag
    SquareTag
    SqrtTag
    RsqrtTag
    ExpTag
    LogTag
    Log1pTag
    SinTag
    CosTag
    TanhTag
    SigmoidTag
    ReluTag
    ReciprocalTag

# The destination dtype of a cast: the same list as numeric_t, as a second fused type so that
# the (source, target) pairs form a cartesian product.
ctypedef fused cast_target_t:
    float32_t
    float64_t
    int8_t
    int16_t
    int32_t
    int64_t
    uint8_t


cdef inline bint _is_predicate(binary_tag_t tag) noexcept nogil:
    """Whether the op writes bool (comparisons, logical ops) rather than the input dtype."""
    return (binary_tag_t is EqualTag or binary_tag_t is NotEqualTag or binary_tag_t is LessTag
            or binary_tag_t is LessEqualTag or binary_tag_t is GreaterTag
            or binary_tag_t is GreaterEqualTag or binary_tag_t is LogicalAndTag
            or binary_tag_t is LogicalOrTag)


# ---------------------------------------------------------------------------------------------
# Binary kernels: op -> store -> row -> range -> run -> dispatch -> entry.

cdef inline void _binary_store(
    binary_tag_t tag, char* out, Py_ssize_t i, numeric_t a, numeric_t b, int* error,
) noexcept nogil:
    """out[i] = op(a, b), `out` typed by the op's output dtype."""
    cdef numeric_t* result = <numeric_t*>out
    cdef bool_t* flag = <bool_t*>out
    cdef numeric_t difference
    if binary_tag_t is AddTag:
        result[i] = _wrapping_add(a, b)
    elif binary_tag_t is SubTag:
        result[i] = _wrapping_sub(a, b)
    elif binary_tag_t is MulTag:
        result[i] = _wrapping_mul(a, b)
    elif binary_tag_t is RealDivTag:
        result[i] = <numeric_t>(a / b)
    elif binary_tag_t is FloorDivTag:
        result[i] = _floor_div(a, b, error)
    elif binary_tag_t is FloorModTag:
        result[i] = _floor_mod(a, b, error)
    elif binary_tag_t is PowTag:
        result[i] = _power(a, b, error)
    elif binary_tag_t is MaximumTag:
        result[i] = _maximum(a, b)
    elif binary_tag_t is MinimumTag:
        result[i] = _minimum(a, b)
    elif binary_tag_t is SquaredDifferenceTag:
        difference = _wrapping_sub(a, b)
        result[i] = _wrapping_mul(difference, difference)
    elif binary_tag_t is EqualTag:
        flag[i] = a == b
    elif binary_tag_t is NotEqualTag:
        flag[i] = a != b
    elif binary_tag_t is LessTag:
        flag[i] = a < b
    elif binary_tag_t is LessEqualTag:
        flag[i] = a <= b
    elif binary_tag_t is GreaterTag:
        flag[i] = a > b
    elif binary_tag_t is GreaterEqualTag:
        flag[i] = a >= b
    elif binary_tag_t is LogicalAndTag:
        flag[i] = (a != 0) & (b != 0)
    elif binary_tag_t is LogicalOrTag:
        flag[i] = (a != 0) | (b != 0)


cdef inline int _binary_row(
    binary_tag_t tag, const numeric_t* x, Py_ssize_t x_step, const numeric_t* y,
    Py_ssize_t y_step, char* out, Py_ssize_t out_start, Py_ssize_t count,
) noexcept nogil:
    """One inner row: `count` elements, inputs stepping by x_step / y_step elements."""
    cdef Py_ssize_t i
    cdef numeric_t x0, y0
    cdef int error = 0
    if x_step == 1 and y_step == 1:
        for i in range(count):
            _binary_store(tag, out, out_start + i, x[i], y[i], &error)
    elif x_step == 0 and y_step == 1:
        x0 = x[0]
        for i in range(count):
            _binary_store(tag, out, out_start + i, x0, y[i], &error)
    elif x_step == 1 and y_step == 0:
        y0 = y[0]
        for i in range(count):
            _binary_store(tag, out, out_start + i, x[i], y0, &error)
    else:
        for i in range(count):
            _binary_store(tag, out, out_start + i, x[i * x_step], y[i * y_step], &error)
    return error


cdef int _binary_range(
    binary_tag_t tag, const numeric_t* x, const numeric_t* y, char* out,
    const BroadcastPlan* plan, Py_ssize_t start, Py_ssize_t stop,
) noexcept nogil:
    """Computes output elements [start, stop) in C order."""
    cdef Py_ssize_t inner = plan.shape[plan.ndim - 1]
    cdef Py_ssize_t x_step = plan.x_strides[plan.ndim - 1]
    cdef Py_ssize_t y_step = plan.y_strides[plan.ndim - 1]
    cdef Py_ssize_t column = start % inner, count
    cdef Cursor cursor
    cdef int error = 0
    _cursor_seek(plan, &cursor, start // inner)
    while start < stop:
        count = inner - column
        if count > stop - start:
            count = stop - start
        error |= _binary_row(
            tag, x + cursor.x_offset + column * x_step, x_step,
            y + cursor.y_offset + column * y_step, y_step, out, start, count)
        start += count
        column = 0
        _cursor_next_row(plan, &cursor)
    return error


cdef int _binary_run(
    binary_tag_t tag, const numeric_t* x, const numeric_t* y, char* out,
    const BroadcastPlan* plan, int num_threads,
) noexcept nogil:
    cdef Py_ssize_t size = plan.size, block, part, start, stop
    cdef int error = 0
    if num_threads <= 1 or size < PARALLEL_THRESHOLD:
        return _binary_range(tag, x, y, out, plan, 0, size)
    block = _block_size(size, num_threads)
    for part in prange(num_threads, num_threads=num_threads, schedule="static"):
        start = part * block
        stop = start + block
        if stop > size:
            stop = size
        if start < stop:
            error |= _binary_range(tag, x, y, out, plan, start, stop)
    return error


cdef int _binary_dispatch(
    binary_tag_t tag, int code, const char* x, const char* y, char* out,
    const BroadcastPlan* plan, int num_threads,
) noexcept nogil:
    """The one runtime switch on the dtype. Combinations the masks exclude are not compiled."""
    if binary_tag_t is LogicalAndTag or binary_tag_t is LogicalOrTag:
        return _binary_run(tag, <const uint8_t*>x, <const uint8_t*>y, out, plan, num_threads)
    else:
        if code == DT_FLOAT32:
            return _binary_run(
                tag, <const float32_t*>x, <const float32_t*>y, out, plan, num_threads)
        if code == DT_FLOAT64:
            return _binary_run(
                tag, <const float64_t*>x, <const float64_t*>y, out, plan, num_threads)
        if binary_tag_t is not RealDivTag:
            if code == DT_INT32:
                return _binary_run(
                    tag, <const int32_t*>x, <const int32_t*>y, out, plan, num_threads)
            if code == DT_INT64:
                return _binary_run(
                    tag, <const int64_t*>x, <const int64_t*>y, out, plan, num_threads)
            if code == DT_INT8:
                return _binary_run(
                    tag, <const int8_t*>x, <const int8_t*>y, out, plan, num_threads)
            if code == DT_INT16:
                return _binary_run(
                    tag, <const int16_t*>x, <const int16_t*>y, out, plan, num_threads)
            if code == DT_UINT8 or code == DT_BOOL:
                return _binary_run(
                    tag, <const uint8_t*>x, <const uint8_t*>y, out, plan, num_threads)
        return 0


cdef object _binary_entry(binary_tag_t tag, int kernel, object x_value, object y_value):
    cdef cnp.ndarray x = _as_array(x_value)
    cdef cnp.ndarray y = _as_array(y_value)
    cdef cnp.ndarray out
    cdef int code = dtype_code(x)
    cdef int error, out_ndim, num_threads = _num_threads
    cdef BroadcastPlan plan
    cdef cnp.npy_intp out_shape[MAX_DIMS]

    if dtype_code(y) != code:
        _raise_dtype_mismatch(kernel, x, y)
    if not (_SUPPORTED_MASK[kernel] >> code) & 1:
        _raise_unsupported(kernel, x.dtype)
    if code == DT_FLOAT16:
        return _fallback_kernel(kernel)(x, y)
    if not (_is_well_behaved(x) and _is_well_behaved(y)):
        x = _native_copy(x)
        y = _native_copy(y)
    if _plan_broadcast(
            cnp.PyArray_NDIM(x), cnp.PyArray_DIMS(x), cnp.PyArray_STRIDES(x),
            cnp.PyArray_NDIM(y), cnp.PyArray_DIMS(y), cnp.PyArray_STRIDES(y),
            cnp.PyArray_ITEMSIZE(x), out_shape, &out_ndim, &plan) < 0:
        _raise_incompatible(x, y)
    out = cnp.PyArray_EMPTY(
        out_ndim, out_shape,
        cnp.NPY_BOOL if _is_predicate(tag) else _TYPENUM_OF_CODE[code], 0)
    if plan.size == 0:
        return out
    cdef const char* x_data = <const char*>cnp.PyArray_DATA(x)
    cdef const char* y_data = <const char*>cnp.PyArray_DATA(y)
    cdef char* out_data = <char*>cnp.PyArray_DATA(out)
    if plan.size >= NOGIL_THRESHOLD:
        with nogil:
            if plan.size >= PARALLEL_THRESHOLD:   # (the core budget: runtime/cores.py)
                num_threads = cores.lease(num_threads)
            error = _binary_dispatch(tag, code, x_data, y_data, out_data, &plan, num_threads)
            if plan.size >= PARALLEL_THRESHOLD:
                cores.release(num_threads)
    else:
        error = _binary_dispatch(tag, code, x_data, y_data, out_data, &plan, num_threads)
    if error:
        _raise_loop_error(error)
    return out


# ---------------------------------------------------------------------------------------------
# Unary kernels: the same layers with one operand.

cdef inline numeric_t _unary_value(unary_tag_t tag, numeric_t a) noexcept nogil:
    if unary_tag_t is LogicalNotTag:
        return a == 0
    elif unary_tag_t is NegTag:
        return _wrapping_neg(a)
    elif unary_tag_t is AbsTag:
        return _abs(a)
    elif unary_tag_t is SignTag:
        return _sign(a)
    elif unary_tag_t is SquareTag:
        return _wrapping_mul(a, a)
    elif unary_tag_t is SqrtTag:
        return _sqrt(a)
    elif unary_tag_t is RsqrtTag:
        return <numeric_t>1 / _sqrt(a)
    elif unary_tag_t is ExpTag:
        return _exp(a)
    elif unary_tag_t is LogTag:
        return _log(a)
    elif unary_tag_t is Log1pTag:
        return _log1p(a)
    elif unary_tag_t is SinTag:
        return _sin(a)
    elif unary_tag_t is CosTag:
        return _cos(a)
    elif unary_tag_t is TanhTag:
        return _tanh(a)
    elif unary_tag_t is SigmoidTag:
        return _sigmoid(a)
    elif unary_tag_t is ReluTag:
        return _relu(a)
    elif unary_tag_t is ReciprocalTag:
        return <numeric_t>1 / a


cdef int _unary_range(
    unary_tag_t tag, const numeric_t* x, numeric_t* out, const BroadcastPlan* plan,
    Py_ssize_t start, Py_ssize_t stop,
) noexcept nogil:
    cdef Py_ssize_t inner = plan.shape[plan.ndim - 1]
    cdef Py_ssize_t step = plan.x_strides[plan.ndim - 1]
    cdef Py_ssize_t column = start % inner, count, i
    cdef const numeric_t* row
    cdef Cursor cursor
    _cursor_seek(plan, &cursor, start // inner)
    while start < stop:
        count = inner - column
        if count > stop - start:
            count = stop - start
        row = x + cursor.x_offset + column * step
        if step == 1:
            for i in range(count):
                out[start + i] = _unary_value(tag, row[i])
        else:
            for i in range(count):
                out[start + i] = _unary_value(tag, row[i * step])
        start += count
        column = 0
        _cursor_next_row(plan, &cursor)
    return 0


cdef int _unary_run(
    unary_tag_t tag, const numeric_t* x, numeric_t* out, const BroadcastPlan* plan,
    int num_threads,
) noexcept nogil:
    cdef Py_ssize_t size = plan.size, block, part, start, stop
    if num_threads <= 1 or size < PARALLEL_THRESHOLD:
        return _unary_range(tag, x, out, plan, 0, size)
    block = _block_size(size, num_threads)
    for part in prange(num_threads, num_threads=num_threads, schedule="static"):
        start = part * block
        stop = start + block
        if stop > size:
            stop = size
        if start < stop:
            _unary_range(tag, x, out, plan, start, stop)
    return 0


cdef int _unary_dispatch(
    unary_tag_t tag, int code, const char* x, char* out, const BroadcastPlan* plan,
    int num_threads,
) noexcept nogil:
    if unary_tag_t is LogicalNotTag:
        return _unary_run(tag, <const uint8_t*>x, <uint8_t*>out, plan, num_threads)
    else:
        if code == DT_FLOAT32:
            return _unary_run(tag, <const float32_t*>x, <float32_t*>out, plan, num_threads)
        if code == DT_FLOAT64:
            return _unary_run(tag, <const float64_t*>x, <float64_t*>out, plan, num_threads)
        if (unary_tag_t is NegTag or unary_tag_t is AbsTag or unary_tag_t is SignTag
                or unary_tag_t is SquareTag or unary_tag_t is ReluTag):
            if code == DT_INT32:
                return _unary_run(tag, <const int32_t*>x, <int32_t*>out, plan, num_threads)
            if code == DT_INT64:
                return _unary_run(tag, <const int64_t*>x, <int64_t*>out, plan, num_threads)
            if code == DT_INT8:
                return _unary_run(tag, <const int8_t*>x, <int8_t*>out, plan, num_threads)
            if code == DT_INT16:
                return _unary_run(tag, <const int16_t*>x, <int16_t*>out, plan, num_threads)
            if code == DT_UINT8:
                return _unary_run(tag, <const uint8_t*>x, <uint8_t*>out, plan, num_threads)
        return 0


cdef object _unary_entry(unary_tag_t tag, int kernel, object x_value):
    cdef cnp.ndarray x = _as_array(x_value)
    cdef cnp.ndarray out
    cdef int code = dtype_code(x)
    cdef int out_ndim, num_threads = _num_threads
    cdef BroadcastPlan plan
    cdef cnp.npy_intp out_shape[MAX_DIMS]
    cdef bint use_fused

    if not (_SUPPORTED_MASK[kernel] >> code) & 1:
        _raise_unsupported(kernel, x.dtype)
    if code == DT_FLOAT16:
        return _fallback_kernel(kernel)(x)
    if not _is_well_behaved(x):
        x = _native_copy(x)
    _plan_broadcast(
        cnp.PyArray_NDIM(x), cnp.PyArray_DIMS(x), cnp.PyArray_STRIDES(x), 0, NULL, NULL,
        cnp.PyArray_ITEMSIZE(x), out_shape, &out_ndim, &plan)
    out = cnp.PyArray_EMPTY(out_ndim, out_shape, _TYPENUM_OF_CODE[code], 0)
    if plan.size == 0:
        return out
    if (unary_tag_t is ExpTag or unary_tag_t is LogTag or unary_tag_t is Log1pTag
            or unary_tag_t is SinTag or unary_tag_t is CosTag or unary_tag_t is TanhTag
            or unary_tag_t is SigmoidTag):
        # Vector math instead of a scalar libm loop (see the design note).
        if unary_tag_t is SigmoidTag or (unary_tag_t is TanhTag and code == DT_FLOAT32):
            use_fused = plan.size >= NUMPY_TRANSCENDENTAL_THRESHOLD
        else:
            use_fused = plan.size >= FUSED_TRANSCENDENTAL_THRESHOLD
        if use_fused:
            return _fused().unary(KERNEL_NAMES[kernel], x)
        if unary_tag_t is not SigmoidTag and plan.size >= NUMPY_TRANSCENDENTAL_THRESHOLD:
            with np.errstate(all="ignore"):
                _NUMPY_UFUNCS[kernel](x, out=out)
            return out
    cdef const char* x_data = <const char*>cnp.PyArray_DATA(x)
    cdef char* out_data = <char*>cnp.PyArray_DATA(out)
    if plan.size >= NOGIL_THRESHOLD:
        with nogil:
            if plan.size >= PARALLEL_THRESHOLD:
                num_threads = cores.lease(num_threads)
            _unary_dispatch(tag, code, x_data, out_data, &plan, num_threads)
            if plan.size >= PARALLEL_THRESHOLD:
                cores.release(num_threads)
    else:
        _unary_dispatch(tag, code, x_data, out_data, &plan, num_threads)
    return out


# ---------------------------------------------------------------------------------------------
# Cast: a unary kernel whose output type is a second fused type.

cdef int _cast_range(
    const numeric_t* x, cast_target_t* out, bint to_bool, const BroadcastPlan* plan,
    Py_ssize_t start, Py_ssize_t stop,
) noexcept nogil:
    cdef Py_ssize_t inner = plan.shape[plan.ndim - 1]
    cdef Py_ssize_t step = plan.x_strides[plan.ndim - 1]
    cdef Py_ssize_t column = start % inner, count, i
    cdef const numeric_t* row
    cdef Cursor cursor
    _cursor_seek(plan, &cursor, start // inner)
    while start < stop:
        count = inner - column
        if count > stop - start:
            count = stop - start
        row = x + cursor.x_offset + column * step
        if to_bool:             # TF Cast to bool is x != 0 (NaN -> true), not a truncation
            for i in range(count):
                out[start + i] = row[i * step] != 0
        elif step == 1:         # C conversion: floats truncate toward zero
            for i in range(count):
                out[start + i] = <cast_target_t>row[i]
        else:
            for i in range(count):
                out[start + i] = <cast_target_t>row[i * step]
        start += count
        column = 0
        _cursor_next_row(plan, &cursor)
    return 0


cdef int _cast_run(
    const numeric_t* x, cast_target_t* out, bint to_bool, const BroadcastPlan* plan,
    int num_threads,
) noexcept nogil:
    cdef Py_ssize_t size = plan.size, block, part, start, stop
    if num_threads <= 1 or size < PARALLEL_THRESHOLD:
        return _cast_range(x, out, to_bool, plan, 0, size)
    block = _block_size(size, num_threads)
    for part in prange(num_threads, num_threads=num_threads, schedule="static"):
        start = part * block
        stop = start + block
        if stop > size:
            stop = size
        if start < stop:
            _cast_range(x, out, to_bool, plan, start, stop)
    return 0


cdef int _cast_from(
    const numeric_t* x, int target, char* out, const BroadcastPlan* plan, int num_threads,
) noexcept nogil:
    """Second half of the double dispatch: the source type is fixed, switch on the target."""
    if target == DT_FLOAT32:
        return _cast_run(x, <float32_t*>out, False, plan, num_threads)
    if target == DT_FLOAT64:
        return _cast_run(x, <float64_t*>out, False, plan, num_threads)
    if target == DT_INT32:
        return _cast_run(x, <int32_t*>out, False, plan, num_threads)
    if target == DT_INT64:
        return _cast_run(x, <int64_t*>out, False, plan, num_threads)
    if target == DT_INT8:
        return _cast_run(x, <int8_t*>out, False, plan, num_threads)
    if target == DT_INT16:
        return _cast_run(x, <int16_t*>out, False, plan, num_threads)
    if target == DT_UINT8:
        return _cast_run(x, <uint8_t*>out, False, plan, num_threads)
    if target == DT_BOOL:
        return _cast_run(x, <uint8_t*>out, True, plan, num_threads)
    return 0


cdef int _cast_dispatch(
    int source, int target, const char* x, char* out, const BroadcastPlan* plan,
    int num_threads,
) noexcept nogil:
    if source == DT_FLOAT32:
        return _cast_from(<const float32_t*>x, target, out, plan, num_threads)
    if source == DT_FLOAT64:
        return _cast_from(<const float64_t*>x, target, out, plan, num_threads)
    if source == DT_INT32:
        return _cast_from(<const int32_t*>x, target, out, plan, num_threads)
    if source == DT_INT64:
        return _cast_from(<const int64_t*>x, target, out, plan, num_threads)
    if source == DT_INT8:
        return _cast_from(<const int8_t*>x, target, out, plan, num_threads)
    if source == DT_INT16:
        return _cast_from(<const int16_t*>x, target, out, plan, num_threads)
    if source == DT_UINT8 or source == DT_BOOL:
        return _cast_from(<const uint8_t*>x, target, out, plan, num_threads)
    return 0


cdef object cast_kernel(object x_value, object dtype):
    cdef cnp.ndarray x = _as_array(x_value)
    cdef cnp.ndarray out
    cdef object target_dtype = dtype if type(dtype) is np.dtype else np.dtype(dtype)
    cdef int source = dtype_code(x)
    cdef int target = _dtype_object_code(target_dtype)
    cdef int out_ndim, num_threads = _num_threads
    cdef BroadcastPlan plan
    cdef cnp.npy_intp out_shape[MAX_DIMS]

    if not (_SUPPORTED_MASK[<int>K_CAST] >> source) & 1:
        _raise_unsupported(K_CAST, x.dtype)
    if not (_SUPPORTED_MASK[<int>K_CAST] >> target) & 1:
        _raise_unsupported(K_CAST, target_dtype)
    if source == DT_FLOAT16 or target == DT_FLOAT16:
        return _fallback_kernel(K_CAST)(x, target_dtype)
    if not _is_well_behaved(x):
        x = _native_copy(x)
    _plan_broadcast(
        cnp.PyArray_NDIM(x), cnp.PyArray_DIMS(x), cnp.PyArray_STRIDES(x), 0, NULL, NULL,
        cnp.PyArray_ITEMSIZE(x), out_shape, &out_ndim, &plan)
    out = cnp.PyArray_EMPTY(out_ndim, out_shape, _TYPENUM_OF_CODE[target], 0)
    if plan.size == 0:
        return out
    cdef const char* x_data = <const char*>cnp.PyArray_DATA(x)
    cdef char* out_data = <char*>cnp.PyArray_DATA(out)
    if plan.size >= NOGIL_THRESHOLD:
        with nogil:
            if plan.size >= PARALLEL_THRESHOLD:
                num_threads = cores.lease(num_threads)
            _cast_dispatch(source, target, x_data, out_data, &plan, num_threads)
            if plan.size >= PARALLEL_THRESHOLD:
                cores.release(num_threads)
    else:
        _cast_dispatch(source, target, x_data, out_data, &plan, num_threads)
    return out


# ---------------------------------------------------------------------------------------------
# Entry points by number (declared in elementwise.pxd).

cdef AddTag _ADD
cdef SubTag _SUB
cdef MulTag _MUL
cdef RealDivTag _REAL_DIV
cdef FloorDivTag _FLOOR_DIV
cdef FloorModTag _FLOOR_MOD
cdef PowTag _POW
cdef MaximumTag _MAXIMUM
cdef MinimumTag _MINIMUM
cdef SquaredDifferenceTag _SQUARED_DIFFERENCE
cdef EqualTag _EQUAL
cdef NotEqualTag _NOT_EQUAL
cdef LessTag _LESS
cdef LessEqualTag _LESS_EQUAL
cdef GreaterTag _GREATER
cdef GreaterEqualTag _GREATER_EQUAL
cdef LogicalAndTag _LOGICAL_AND
cdef LogicalOrTag _LOGICAL_OR
cdef LogicalNotTag _LOGICAL_NOT
cdef NegTag _NEG
cdef AbsTag _ABS
cdef SignTag _SIGN
cdef SquareTag _SQUARE
cdef SqrtTag _SQRT
cdef RsqrtTag _RSQRT
cdef ExpTag _EXP
cdef LogTag _LOG
cdef Log1pTag _LOG1P
cdef SinTag _SIN
cdef CosTag _COS
cdef TanhTag _TANH
cdef SigmoidTag _SIGMOID
cdef ReluTag _RELU
cdef ReciprocalTag _RECIPROCAL


cdef object binary_kernel(int kernel_id, object x, object y):
    if kernel_id == K_ADD:
        return _binary_entry(_ADD, kernel_id, x, y)
    if kernel_id == K_SUB:
        return _binary_entry(_SUB, kernel_id, x, y)
    if kernel_id == K_MUL:
        return _binary_entry(_MUL, kernel_id, x, y)
    if kernel_id == K_REAL_DIV:
        return _binary_entry(_REAL_DIV, kernel_id, x, y)
    if kernel_id == K_FLOOR_DIV:
        return _binary_entry(_FLOOR_DIV, kernel_id, x, y)
    if kernel_id == K_FLOOR_MOD:
        return _binary_entry(_FLOOR_MOD, kernel_id, x, y)
    if kernel_id == K_POW:
        return _binary_entry(_POW, kernel_id, x, y)
    if kernel_id == K_MAXIMUM:
        return _binary_entry(_MAXIMUM, kernel_id, x, y)
    if kernel_id == K_MINIMUM:
        return _binary_entry(_MINIMUM, kernel_id, x, y)
    if kernel_id == K_SQUARED_DIFFERENCE:
        return _binary_entry(_SQUARED_DIFFERENCE, kernel_id, x, y)
    if kernel_id == K_EQUAL:
        return _binary_entry(_EQUAL, kernel_id, x, y)
    if kernel_id == K_NOT_EQUAL:
        return _binary_entry(_NOT_EQUAL, kernel_id, x, y)
    if kernel_id == K_LESS:
        return _binary_entry(_LESS, kernel_id, x, y)
    if kernel_id == K_LESS_EQUAL:
        return _binary_entry(_LESS_EQUAL, kernel_id, x, y)
    if kernel_id == K_GREATER:
        return _binary_entry(_GREATER, kernel_id, x, y)
    if kernel_id == K_GREATER_EQUAL:
        return _binary_entry(_GREATER_EQUAL, kernel_id, x, y)
    if kernel_id == K_LOGICAL_AND:
        return _binary_entry(_LOGICAL_AND, kernel_id, x, y)
    if kernel_id == K_LOGICAL_OR:
        return _binary_entry(_LOGICAL_OR, kernel_id, x, y)
    raise ValueError(f"not a binary kernel id: {kernel_id}")


cdef object unary_kernel(int kernel_id, object x):
    if kernel_id == K_LOGICAL_NOT:
        return _unary_entry(_LOGICAL_NOT, kernel_id, x)
    if kernel_id == K_NEG:
        return _unary_entry(_NEG, kernel_id, x)
    if kernel_id == K_ABS:
        return _unary_entry(_ABS, kernel_id, x)
    if kernel_id == K_SIGN:
        return _unary_entry(_SIGN, kernel_id, x)
    if kernel_id == K_SQUARE:
        return _unary_entry(_SQUARE, kernel_id, x)
    if kernel_id == K_SQRT:
        return _unary_entry(_SQRT, kernel_id, x)
    if kernel_id == K_RSQRT:
        return _unary_entry(_RSQRT, kernel_id, x)
    if kernel_id == K_EXP:
        return _unary_entry(_EXP, kernel_id, x)
    if kernel_id == K_LOG:
        return _unary_entry(_LOG, kernel_id, x)
    if kernel_id == K_LOG1P:
        return _unary_entry(_LOG1P, kernel_id, x)
    if kernel_id == K_SIN:
        return _unary_entry(_SIN, kernel_id, x)
    if kernel_id == K_COS:
        return _unary_entry(_COS, kernel_id, x)
    if kernel_id == K_TANH:
        return _unary_entry(_TANH, kernel_id, x)
    if kernel_id == K_SIGMOID:
        return _unary_entry(_SIGMOID, kernel_id, x)
    if kernel_id == K_RELU:
        return _unary_entry(_RELU, kernel_id, x)
    if kernel_id == K_RECIPROCAL:
        return _unary_entry(_RECIPROCAL, kernel_id, x)
    raise ValueError(f"not a unary kernel id: {kernel_id}")


cdef int kernel_num_threads() noexcept nogil:
    return _num_threads


# ---------------------------------------------------------------------------------------------
# The public Python interface (same names, docstrings and behaviour as reference_kernels).

def set_num_threads(n):
    """Sets how many OpenMP threads a kernel may use on a large tensor (default 1)."""
    global _num_threads
    n = int(n)
    if n < 1:
        raise ValueError(f"the thread count must be at least 1, got {n}")
    _num_threads = n


def get_num_threads():
    """Returns the thread count set by set_num_threads."""
    return _num_threads


def add(x, y):
    """x + y, broadcasting; integers wrap."""
    return _binary_entry(_ADD, K_ADD, x, y)


def sub(x, y):
    """x - y, broadcasting; integers wrap."""
    return _binary_entry(_SUB, K_SUB, x, y)


def mul(x, y):
    """x * y, broadcasting; integers wrap."""
    return _binary_entry(_MUL, K_MUL, x, y)


def real_div(x, y):
    """x / y for floats (TF RealDiv); division by zero gives inf or nan."""
    return _binary_entry(_REAL_DIV, K_REAL_DIV, x, y)


def floor_div(x, y):
    """floor(x / y) (TF FloorDiv); an integer divisor of zero raises InvalidArgumentError."""
    return _binary_entry(_FLOOR_DIV, K_FLOOR_DIV, x, y)


def floor_mod(x, y):
    """x mod y with the sign of y (TF FloorMod, Python's %); integer y == 0 raises."""
    return _binary_entry(_FLOOR_MOD, K_FLOOR_MOD, x, y)


def pow(x, y):
    """x ** y; integers wrap, and a negative integer exponent raises InvalidArgumentError."""
    return _binary_entry(_POW, K_POW, x, y)


def maximum(x, y):
    """Elementwise max; NaN in either input gives NaN."""
    return _binary_entry(_MAXIMUM, K_MAXIMUM, x, y)


def minimum(x, y):
    """Elementwise min; NaN in either input gives NaN."""
    return _binary_entry(_MINIMUM, K_MINIMUM, x, y)


def squared_difference(x, y):
    """(x - y) * (x - y); integers wrap."""
    return _binary_entry(_SQUARED_DIFFERENCE, K_SQUARED_DIFFERENCE, x, y)


def equal(x, y):
    """x == y as bool."""
    return _binary_entry(_EQUAL, K_EQUAL, x, y)


def not_equal(x, y):
    """x != y as bool."""
    return _binary_entry(_NOT_EQUAL, K_NOT_EQUAL, x, y)


def less(x, y):
    """x < y as bool."""
    return _binary_entry(_LESS, K_LESS, x, y)


def less_equal(x, y):
    """x <= y as bool."""
    return _binary_entry(_LESS_EQUAL, K_LESS_EQUAL, x, y)


def greater(x, y):
    """x > y as bool."""
    return _binary_entry(_GREATER, K_GREATER, x, y)


def greater_equal(x, y):
    """x >= y as bool."""
    return _binary_entry(_GREATER_EQUAL, K_GREATER_EQUAL, x, y)


def logical_and(x, y):
    """x and y, on bool tensors."""
    return _binary_entry(_LOGICAL_AND, K_LOGICAL_AND, x, y)


def logical_or(x, y):
    """x or y, on bool tensors."""
    return _binary_entry(_LOGICAL_OR, K_LOGICAL_OR, x, y)


def logical_not(x):
    """not x, on a bool tensor."""
    return _unary_entry(_LOGICAL_NOT, K_LOGICAL_NOT, x)


def neg(x):
    """-x; the minimum integer wraps to itself."""
    return _unary_entry(_NEG, K_NEG, x)


def abs(x):
    """|x|; the minimum integer wraps to itself."""
    return _unary_entry(_ABS, K_ABS, x)


def sign(x):
    """-1, 0 or 1 by the sign of x; NaN stays NaN."""
    return _unary_entry(_SIGN, K_SIGN, x)


def square(x):
    """x * x; integers wrap."""
    return _unary_entry(_SQUARE, K_SQUARE, x)


def sqrt(x):
    """Square root (floats)."""
    return _unary_entry(_SQRT, K_SQRT, x)


def rsqrt(x):
    """1 / sqrt(x) (floats)."""
    return _unary_entry(_RSQRT, K_RSQRT, x)


def exp(x):
    """e ** x (floats)."""
    return _unary_entry(_EXP, K_EXP, x)


def log(x):
    """Natural logarithm (floats)."""
    return _unary_entry(_LOG, K_LOG, x)


def log1p(x):
    """log(1 + x), accurate near 0 (floats)."""
    return _unary_entry(_LOG1P, K_LOG1P, x)


def sin(x):
    """Sine (floats)."""
    return _unary_entry(_SIN, K_SIN, x)


def cos(x):
    """Cosine (floats)."""
    return _unary_entry(_COS, K_COS, x)


def tanh(x):
    """Hyperbolic tangent (floats)."""
    return _unary_entry(_TANH, K_TANH, x)


def sigmoid(x):
    """1 / (1 + exp(-x)), computed without overflow (floats)."""
    return _unary_entry(_SIGMOID, K_SIGMOID, x)


def relu(x):
    """max(x, 0); NaN stays NaN."""
    return _unary_entry(_RELU, K_RELU, x)


def reciprocal(x):
    """1 / x (floats)."""
    return _unary_entry(_RECIPROCAL, K_RECIPROCAL, x)


def cast(x, dtype):
    """x converted to `dtype` (TF Cast): floats truncate toward zero, to-bool is x != 0.

    Out-of-range float -> int conversions are unspecified, as in TF.
    """
    return cast_kernel(x, dtype)
