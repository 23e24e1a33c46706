"""Kernels of the random ops (filled as the op family moves here from sessionlib/ops)."""
