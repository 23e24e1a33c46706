"""Kernels of the cumulative ops (``sessionlib/ops/cumulative_ops.py``): Cumsum, Cumprod and
CumulativeLogsumexp.

Design. ``np.cumsum`` (``np.cumprod``) is one sequential pass over memory, the way TF's scan runs
on a CPU, so the reference kernel is also the fast one. Exclusive and reverse sums are views around
it (a flip, a shift by one), never a second pass of arithmetic, so an exclusive integer sum is
exact. Integer sums and products wrap like TF's.
"""

import numpy as np

from sessionlib.runtime.kernel_table import register_kernel
from sessionlib.runtime.kernels.array_kernels import invalid_argument


def _scan_kernel(accumulate, identity):
    def kernel(ctx, inputs, attrs):
        return _scan(accumulate, identity, inputs, attrs)

    return kernel


def _scan(accumulate, identity, inputs, attrs):
    value, axis_t = inputs
    if axis_t.ndim != 0:
        raise invalid_argument(f"ScanOp: axis must be a scalar, not {list(axis_t.shape)}")
    axis = int(axis_t)
    if not -value.ndim <= axis < value.ndim:
        raise invalid_argument(f"ScanOp: Expected scan axis in the range [{-value.ndim}, "
                               f"{value.ndim}), but got {axis}")
    axis %= value.ndim
    source = np.flip(value, axis) if attrs["reverse"] else value
    with np.errstate(over="ignore", invalid="ignore"):
        sums = accumulate(source, axis=axis, dtype=value.dtype)
    if attrs["exclusive"]:
        shifted = np.full_like(sums, identity)
        body = [slice(None)] * value.ndim
        head = list(body)
        body[axis] = slice(1, None)
        head[axis] = slice(None, -1)
        shifted[tuple(body)] = sums[tuple(head)]
        sums = shifted
    if attrs["reverse"]:
        sums = np.ascontiguousarray(np.flip(sums, axis))
    return (sums,)


register_kernel("Cumsum", reference=_scan_kernel(np.cumsum, 0))
register_kernel("Cumprod", reference=_scan_kernel(np.cumprod, 1))
# log(exp(a) + exp(b)) accumulated; the empty sum of an exclusive scan is log(0) = -inf.
register_kernel("CumulativeLogsumexp",
                reference=_scan_kernel(np.logaddexp.accumulate, -np.inf))
