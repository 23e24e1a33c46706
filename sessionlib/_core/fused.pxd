# C-level interface of sessionlib._core.fused: what a fused elementwise program may hold.
#
# The instructions are the arithmetic kernels of elementwise.pxd (an opcode is the KernelId of
# the kernel it computes, below NUM_OPCODES). The reductions and the limits below are defined
# here only; fused.pyx exports them to Python (REDUCTION_NAMES, MAX_INPUTS, ...), and
# runtime/fusion.py reads them from there.

# The reduction that ends a program (REDUCE_NONE: the program writes its last value).
# REDUCE_SUM is "reduce_sum" in a program's Python description, and so on.
cpdef enum Reduction:
    REDUCE_NONE = 0
    REDUCE_SUM
    REDUCE_MEAN
    REDUCE_MAX
    REDUCE_MIN

# Limits of one program, sizing the kernel's stack arrays. A node beyond them runs through the
# reference kernel; the fusion pass never builds one.
cpdef enum:
    MAX_INPUTS = 64
    MAX_REGISTERS = 64
    MAX_INSTRUCTIONS = 512
