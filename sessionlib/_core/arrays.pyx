# cython: language_level=3, boundscheck=False, wraparound=False
"""Fast kernels of the array ops that a loop body runs every iteration (the spec is
``runtime/kernels/array_kernels.py``): ConcatV2.

Design. numpy's concatenate walks its inputs with a general iterator: joining an LSTM's four
[128, 128] gate gradients along the last axis (512 row pieces of 512 bytes) took 9.5 us, where
the copying itself takes about 3. Here the common case is one memcpy per input row piece: the
inputs are C-contiguous arrays of one numeric or bool dtype and of one rank, equal but for the
concat axis. The result is the same new C-contiguous array, byte for byte; anything else
(other layouts, dtypes or ranks, and every error) goes to the reference kernel, which raises
TF's errors.

Never: import the runtime. The reference kernel is handed in (`set_fallbacks`) by
``runtime/kernels/array_kernels.py``.
"""

cimport numpy as cnp
from cpython.tuple cimport PyTuple_GET_ITEM, PyTuple_GET_SIZE
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy

from sessionlib._core._fallbacks cimport fallback_kernel

import numpy as np

cnp.import_array()

__all__ = ["set_fallbacks", "concat"]

cdef enum:
    MAX_DIMS = 64
    # Above this many bytes the GIL is released around the copy.
    NOGIL_BYTES = 65536

cdef dict _fallbacks = {}


def set_fallbacks(kernels):
    """Sets the reference kernels that take what these do not (other layouts, errors).

    Args:
      kernels: a dict from kernel name (``'ConcatV2'``) to the reference kernel, in the kernel
        table's calling convention.
    """
    _fallbacks.update(kernels)


cdef object _fallback(str name, ctx, tuple inputs, dict attrs):
    return fallback_kernel(_fallbacks, "arrays", "sessionlib.runtime.kernels.array_kernels",
                           name)(ctx, inputs, attrs)


cdef void _join(char* out, Py_ssize_t outer, Py_ssize_t row_bytes, int count,
                const char** sources, const Py_ssize_t* piece_bytes) noexcept nogil:
    """Row r of the result is row r of every source, one after the other."""
    cdef Py_ssize_t row, offset
    cdef int k
    for row in range(outer):
        offset = 0
        for k in range(count):
            memcpy(out + row * row_bytes + offset, sources[k] + row * piece_bytes[k],
                   piece_bytes[k])
            offset += piece_bytes[k]


def concat(ctx, tuple inputs, dict attrs):
    """ConcatV2: the values (all inputs but the last) joined along the axis (the last input).

    Args:
      ctx: the run context (passed on to the reference kernel).
      inputs: the values, then the axis (a 0-d integer array).
      attrs: the node's attributes (passed on).

    Returns:
      A 1-tuple: the new C-contiguous result.
    """
    cdef int count = <int>PyTuple_GET_SIZE(inputs) - 1, k, axis_index, ndim, d
    cdef cnp.ndarray first, value, out
    cdef cnp.npy_intp out_shape[MAX_DIMS]
    cdef Py_ssize_t outer = 1, inner = 1, row_bytes = 0, total, itemsize
    cdef const char** sources
    cdef Py_ssize_t* piece_bytes
    if count < 1:
        return _fallback("ConcatV2", ctx, inputs, attrs)
    axis_value = <object>PyTuple_GET_ITEM(inputs, count)
    first = <object>PyTuple_GET_ITEM(inputs, 0)
    if not (cnp.PyArray_Check(first) and cnp.PyArray_Check(axis_value)
            and cnp.PyArray_NDIM(<cnp.ndarray>axis_value) == 0
            and (<cnp.ndarray>axis_value).dtype.kind == "i"):
        return _fallback("ConcatV2", ctx, inputs, attrs)
    ndim = cnp.PyArray_NDIM(first)
    axis = int(axis_value)
    # Numbers and bools only: their type number alone makes the result's dtype (strings,
    # datetimes and objects carry more, and go to numpy).
    if ndim == 0 or not -ndim <= axis < ndim or first.dtype.kind not in "biufc":
        return _fallback("ConcatV2", ctx, inputs, attrs)
    axis_index = axis % ndim
    itemsize = cnp.PyArray_ITEMSIZE(first)
    for d in range(ndim):
        out_shape[d] = cnp.PyArray_DIMS(first)[d]
    out_shape[axis_index] = 0
    for k in range(count):
        candidate = <object>PyTuple_GET_ITEM(inputs, k)
        if not cnp.PyArray_Check(candidate):
            return _fallback("ConcatV2", ctx, inputs, attrs)
        value = <cnp.ndarray>candidate
        if (cnp.PyArray_NDIM(value) != ndim or not cnp.PyArray_IS_C_CONTIGUOUS(value)
                or cnp.PyArray_TYPE(value) != cnp.PyArray_TYPE(first)
                or not cnp.PyArray_ISNOTSWAPPED(value)):
            return _fallback("ConcatV2", ctx, inputs, attrs)
        for d in range(ndim):
            if d != axis_index and cnp.PyArray_DIMS(value)[d] != out_shape[d]:
                return _fallback("ConcatV2", ctx, inputs, attrs)
        out_shape[axis_index] += cnp.PyArray_DIMS(value)[axis_index]
    for d in range(axis_index):
        outer *= out_shape[d]
    for d in range(axis_index + 1, ndim):
        inner *= out_shape[d]
    out = cnp.PyArray_EMPTY(ndim, out_shape, cnp.PyArray_TYPE(first), 0)
    row_bytes = out_shape[axis_index] * inner * itemsize
    total = outer * row_bytes
    if total == 0:
        return (out,)
    sources = <const char**>malloc(count * sizeof(char*))
    piece_bytes = <Py_ssize_t*>malloc(count * sizeof(Py_ssize_t))
    if sources == NULL or piece_bytes == NULL:
        free(sources)
        free(piece_bytes)
        raise MemoryError()
    try:
        for k in range(count):
            value = <cnp.ndarray>PyTuple_GET_ITEM(inputs, k)
            sources[k] = <const char*>cnp.PyArray_DATA(value)
            piece_bytes[k] = cnp.PyArray_DIMS(value)[axis_index] * inner * itemsize
        if total >= NOGIL_BYTES:
            with nogil:
                _join(<char*>cnp.PyArray_DATA(out), outer, row_bytes, count, sources,
                      piece_bytes)
        else:
            _join(<char*>cnp.PyArray_DATA(out), outer, row_bytes, count, sources, piece_bytes)
    finally:
        free(sources)
        free(piece_bytes)
    return (out,)
