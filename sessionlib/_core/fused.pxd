# C-level interface of sessionlib._core.fused: the instruction set of fused elementwise
# programs. The numbering is part of the program format that ``sessionlib/runtime/fusion.py``
# writes (its OPCODES tuple lists the names in this order; tests/test_fusion.py checks that
# both agree with fused.OPCODE_NAMES).

cdef enum Opcode:
    OP_ADD = 0
    OP_SUB
    OP_MUL
    OP_REAL_DIV
    OP_FLOOR_DIV
    OP_FLOOR_MOD
    OP_POW
    OP_MAXIMUM
    OP_MINIMUM
    OP_SQUARED_DIFFERENCE
    OP_NEG
    OP_ABS
    OP_SIGN
    OP_SQUARE
    OP_SQRT
    OP_RSQRT
    OP_EXP
    OP_LOG
    OP_LOG1P
    OP_SIN
    OP_COS
    OP_TANH
    OP_SIGMOID
    OP_RELU
    OP_RECIPROCAL
    NUM_OPCODES

# The reduction that ends a program (0: none, the program writes its last value).
cdef enum Reduction:
    REDUCE_NONE = 0
    REDUCE_SUM
    REDUCE_MEAN
    REDUCE_MAX
    REDUCE_MIN
