"""Kernels of the control flow ops (filled as the op family moves here from sessionlib/ops)."""
