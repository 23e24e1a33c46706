"""Kernels of the session handles ops (filled as the op family moves here from sessionlib/ops)."""
