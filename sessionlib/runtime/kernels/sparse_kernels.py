"""Kernels of the sparse ops (filled as the op family moves here from sessionlib/ops)."""
