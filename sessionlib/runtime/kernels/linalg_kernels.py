"""Kernels of the linear-algebra ops (``sessionlib/ops/linalg_ops.py``): Qr.

Design. ``np.linalg.qr`` is LAPACK's Householder QR (as TF's CPU kernel uses Eigen's), batched
over leading dimensions, so the reference kernel is also the fast one. float16 is decomposed
in float32 and rounded back, as LAPACK has no half precision.
"""

import numpy as np

from sessionlib.runtime.kernel_table import register_kernel


def _qr_kernel(ctx, inputs, attrs):
    (value,) = inputs
    work = value.astype(np.float32) if value.dtype == np.float16 else value
    mode = "complete" if attrs["full_matrices"] else "reduced"
    rows, cols = value.shape[-2], value.shape[-1]
    if value.size == 0:
        # LAPACK refuses empty matrices; the shapes alone are the answer.
        k = rows if attrs["full_matrices"] else min(rows, cols)
        q = np.zeros(value.shape[:-2] + (rows, k), value.dtype)
        if attrs["full_matrices"]:
            q[..., np.arange(rows), np.arange(rows)] = 1
        r = np.zeros(value.shape[:-2] + (k, cols), value.dtype)
        return (q, r)
    q, r = np.linalg.qr(work, mode=mode)
    return (np.ascontiguousarray(q, dtype=value.dtype), np.ascontiguousarray(r, dtype=value.dtype))


register_kernel("Qr", reference=_qr_kernel)
