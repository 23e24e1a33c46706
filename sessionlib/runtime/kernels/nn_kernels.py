"""Kernels of the nn ops (filled as the op family moves here from sessionlib/ops)."""
