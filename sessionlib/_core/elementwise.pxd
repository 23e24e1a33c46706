# C-level interface of sessionlib._core.elementwise, for other _core modules (the executor,
# fused elementwise chains) that want to call kernels by number instead of through Python.
#
#     from sessionlib._core cimport elementwise as ew
#     result = ew.binary_kernel(ew.K_ADD, x, y)
#
# This file is also the one definition of the elementwise instruction set (KernelId below).

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

# The elementwise instruction set: one number per public kernel. This enum is its only
# definition; the rest derives from it:
#   * elementwise.KERNEL_NAMES, the Python names in this order (K_REAL_DIV -> "real_div");
#   * the fused kernel's opcodes (fused.pyx): a fused program's instruction is the number of
#     the kernel it computes, and the fused kernel runs the arithmetic prefix
#     [0, NUM_OPCODES), binary ones below FIRST_UNARY_OPCODE;
#   * runtime/fusion.py's OPCODES, read from fused.OPCODE_NAMES.
# So the arithmetic kernels come first, binary then unary, and the kernels that never fuse
# (comparisons, logical ops, cast) after them. Numbers are stable only within one build
# (fused programs are made in the same build that runs them); Python code uses the names.
cpdef enum KernelId:
    # arithmetic, binary (fused opcodes)
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
    # arithmetic, unary (fused opcodes)
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
    # binary, output is bool (never fused)
    K_EQUAL
    K_NOT_EQUAL
    K_LESS
    K_LESS_EQUAL
    K_GREATER
    K_GREATER_EQUAL
    K_LOGICAL_AND
    K_LOGICAL_OR
    # unary on bool, and conversion (never fused)
    K_LOGICAL_NOT
    K_CAST

cdef enum:
    FIRST_UNARY_OPCODE = K_NEG
    NUM_OPCODES = K_RECIPROCAL + 1
    NUM_KERNELS = K_CAST + 1

# The numpy dtype code of an array (DT_UNSUPPORTED for anything the kernels do not know).
cdef int dtype_code(cnp.ndarray array) noexcept

# Kernel entry points by number; same behaviour (and errors) as the Python functions.
cdef object binary_kernel(int kernel_id, object x, object y)
cdef object unary_kernel(int kernel_id, object x)
cdef object cast_kernel(object x, object dtype)

# The thread count kernels use for large tensors (see set_num_threads).
cdef int kernel_num_threads() noexcept nogil
