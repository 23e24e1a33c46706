"""Kernels of the data flow ops (filled as the op family moves here from sessionlib/ops)."""
