# C-level interface of sessionlib._core.elementwise, for other _core modules (the executor,
# fused elementwise chains) that want to call kernels by number instead of through Python.
#
#     from sessionlib._core cimport elementwise as ew
#     result = ew.binary_kernel(ew.K_ADD, x, y)
#
# Kernel numbers are stable only within one build; Python code uses the kernel names.

cimport numpy as cnp

# Tensor dtypes as the kernels see them. The numbering is the bit position in the per-kernel
# "supported dtypes" masks.
cdef enum DTypeCode:
    DT_BOOL = 0
    DT_INT8 = 1
    DT_INT16 = 2
    DT_INT32 = 3
    DT_INT64 = 4
    DT_UINT8 = 5
    DT_FLOAT16 = 6
    DT_FLOAT32 = 7
    DT_FLOAT64 = 8
    DT_UNSUPPORTED = 9

# One number per public kernel; KERNEL_NAMES in elementwise.pyx lists the names in this order.
cdef enum KernelId:
    # binary, output has the input dtype
    K_ADD = 0
    K_SUB
    K_MUL
    K_REAL_DIV
    K_FLOOR_DIV
    K_FLOOR_MOD
    K_POW
    K_MAXIMUM
    K_MINIMUM
    K_SQUARED_DIFFERENCE
    # binary, output is bool
    K_EQUAL
    K_NOT_EQUAL
    K_LESS
    K_LESS_EQUAL
    K_GREATER
    K_GREATER_EQUAL
    K_LOGICAL_AND
    K_LOGICAL_OR
    # unary, output has the input dtype
    K_LOGICAL_NOT
    K_NEG
    K_ABS
    K_SIGN
    K_SQUARE
    K_SQRT
    K_RSQRT
    K_EXP
    K_LOG
    K_LOG1P
    K_SIN
    K_COS
    K_TANH
    K_SIGMOID
    K_RELU
    K_RECIPROCAL
    # conversion
    K_CAST
    NUM_KERNELS

# The numpy dtype code of an array (DT_UNSUPPORTED for anything the kernels do not know).
cdef int dtype_code(cnp.ndarray array) noexcept

# Kernel entry points by number; same behaviour (and errors) as the Python functions.
cdef object binary_kernel(int kernel_id, object x, object y)
cdef object unary_kernel(int kernel_id, object x)
cdef object cast_kernel(object x, object dtype)

# The thread count kernels use for large tensors (see set_num_threads).
cdef int kernel_num_threads() noexcept nogil
