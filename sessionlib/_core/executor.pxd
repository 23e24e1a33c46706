# Declarations of the Cython executor, for other _core modules that drive plans directly.

# Kernel calling conventions: how the executor calls a node's kernel (see
# runtime/kernel_table.py, which re-exports these as its KIND_* names). This is their only
# definition; the executor module exports them to Python as plain ints.
cpdef enum:
    KIND_GENERIC = 0    # kernel(ctx, inputs, attrs) -> sequence of outputs
    KIND_UNARY = 1      # kernel(x) -> output
    KIND_BINARY = 2     # kernel(x, y) -> output

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
