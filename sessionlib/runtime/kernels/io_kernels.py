"""Kernels of the io ops (filled as the op family moves here from sessionlib/ops)."""
