# Declarations of the Cython executor, for other _core modules that drive plans directly.

cdef class BoundPlan:
    cdef readonly object plan
    cdef Py_ssize_t num_nodes
    cdef readonly Py_ssize_t num_slots
    cdef const int[::1] kinds
    cdef const int[::1] in_ptr
    cdef const int[::1] in_slots
    cdef const int[::1] out_ptr
    cdef const int[::1] out_slots
    cdef const int[::1] release_ptr
    cdef const int[::1] release_slots
    cdef list kernels
    cdef list attrs
