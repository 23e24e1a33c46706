"""Kernels of the state ops (filled as the op family moves here from sessionlib/ops)."""
