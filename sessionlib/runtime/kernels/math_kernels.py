"""Kernels of the math ops (filled as the op family moves here from sessionlib/ops)."""
