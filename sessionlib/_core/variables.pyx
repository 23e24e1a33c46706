# cython: language_level=3
"""The variable read kernel's common case in C.

Design. ``ReadVariableOp`` runs once per variable per step, so its Python overhead is a
training step's per-variable cost. `ReadVariable` is the kernel of
``runtime/kernels/state_kernels.py`` for the common case only: it takes the resource
duck-typed (``.value``, ``.dtype``, ``.lock``, found through ``ctx.resources.lookup``), makes
the read-only view under the resource's lock (the view references the value, which makes
writers copy on write; see state_kernels' design note), and hands every other case (an unknown
or uninitialized variable, a dtype that does not fit, a handle of another shape), untouched, to
the general kernel, which raises TF's errors.

Never: import the runtime (the general kernel is handed in).
"""

from cpython.ref cimport PyObject

cimport numpy as cnp

cnp.import_array()

cdef extern from "numpy/arrayobject.h":
    # A view of `array` that references it (its base), as ``array.view()``.
    object PyArray_View(cnp.ndarray array, PyObject* dtype, PyObject* subtype)

__all__ = ["ReadVariable", "handle_key_or_none"]


cdef inline object _key_of(object handle):
    """The key inside a handle (a 0-d object array holding a str), or None."""
    if (not cnp.PyArray_CheckExact(handle) or cnp.PyArray_NDIM(<cnp.ndarray>handle) != 0
            or cnp.PyArray_TYPE(<cnp.ndarray>handle) != cnp.NPY_OBJECT):
        return None
    key = <object>(<PyObject**>cnp.PyArray_DATA(<cnp.ndarray>handle))[0]
    return key if type(key) is str else None


def handle_key_or_none(handle):
    """The resource key inside `handle`, or None when it is not a handle of a str key."""
    return _key_of(handle)


cdef class ReadVariable:
    """``ReadVariableOp``'s fast kernel: ``kernel(ctx, inputs, attrs) -> (snapshot,)``.

    Args:
      general: the general kernel, called with the same arguments for every case this one
        declines; it raises the errors.
    """

    cdef object general
    cdef readonly object __name__

    def __init__(self, general):
        self.general = general
        self.__name__ = getattr(general, "__name__", "ReadVariable")

    def __call__(self, ctx, tuple inputs, dict attrs):
        cdef object key, resource, lock, value, snapshot = None
        if len(inputs) != 1:
            return self.general(ctx, inputs, attrs)
        key = _key_of(inputs[0])
        if key is None:
            return self.general(ctx, inputs, attrs)
        resource = ctx.resources.lookup(key)
        if resource is None or resource.dtype is not attrs["dtype"]:
            return self.general(ctx, inputs, attrs)
        lock = resource.lock
        lock.acquire()
        try:
            value = resource.value
            if value is not None and cnp.PyArray_CheckExact(value):
                snapshot = PyArray_View(<cnp.ndarray>value, NULL, NULL)
        finally:
            lock.release()
        if snapshot is None:
            return self.general(ctx, inputs, attrs)
        cnp.PyArray_CLEARFLAGS(<cnp.ndarray>snapshot, cnp.NPY_ARRAY_WRITEABLE)
        return (snapshot,)
