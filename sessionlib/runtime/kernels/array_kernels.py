"""Kernels of the array ops (filled as the op family moves here from sessionlib/ops)."""
