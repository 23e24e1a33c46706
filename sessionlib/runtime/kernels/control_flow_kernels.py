"""Kernels of the control flow ops (``sessionlib/ops/control_flow_ops.py``).

``NoOp`` computes nothing: it exists as a target for control dependencies, which the executor
orders, so its kernel returns no outputs.
"""

from sessionlib.runtime.kernel_table import register_kernel


def _no_op_kernel(ctx, inputs, attrs):
    return ()


register_kernel("NoOp", reference=_no_op_kernel)
