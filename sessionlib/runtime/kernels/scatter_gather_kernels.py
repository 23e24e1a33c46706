"""Kernels of ``GatherNd`` and ``ScatterNd`` (``sessionlib/ops/scatter_gather_ops.py``).

Design. Both turn the K coordinates of each index into one flat row number of the first K
dimensions (``np.ravel_multi_index`` after a range check), then gather rows with ``np.take``
or add them with ``np.add.at`` on a ``[rows, slice]`` view: numpy's fancy indexing runs at
memory speed, so the reference kernel is also the fast one. An index out of range is TF's
InvalidArgumentError naming the first bad index.
"""

import numpy as np

from sessionlib.runtime.kernel_table import register_kernel
from sessionlib.runtime.kernels.array_kernels import invalid_argument


def _flat_rows(indices, leading, what):
    """The row numbers in ``[0, prod(leading))`` of the K-coordinates in `indices`.

    Args:
      indices: an int array of shape ``[..., K]``.
      leading: the K dimensions that the coordinates index.
      what: 'param shape' or 'shape', for the error message.
    """
    depth = indices.shape[-1]
    count = int(np.prod(indices.shape[:-1], dtype=np.int64))
    coords = indices.reshape(count, depth).astype(np.int64, copy=False)
    if coords.shape[0] == 0 or depth == 0:
        return np.zeros(coords.shape[0], dtype=np.int64)
    bad = ((coords < 0) | (coords >= np.asarray(leading, dtype=np.int64))).any(axis=1)
    if bad.any():
        position = int(np.argmax(bad))
        raise invalid_argument(
            f"indices[{position}] = [{', '.join(str(int(c)) for c in coords[position])}] "
            f"does not index into {what} [{','.join(str(d) for d in leading)}]")
    return np.ravel_multi_index(tuple(coords.T), leading)


def _gather_nd_kernel(ctx, inputs, attrs):
    params, indices = inputs
    if indices.ndim < 1:
        raise invalid_argument(f"indices must be at least a vector, got shape "
                               f"{list(indices.shape)}")
    depth = indices.shape[-1]
    if depth > params.ndim:
        raise invalid_argument(f"index innermost dimension length must be <= params rank; "
                               f"saw: {depth} vs. {params.ndim}")
    leading = params.shape[:depth]
    rows = _flat_rows(indices, leading, "param shape")
    table = params.reshape((int(np.prod(leading, dtype=np.int64)),) + params.shape[depth:])
    out_shape = indices.shape[:-1] + params.shape[depth:]
    if table.shape[0] == 0:
        if rows.size:
            raise invalid_argument("Requested more than 0 entries, but params is empty.")
        return (np.zeros(out_shape, dtype=params.dtype),)
    return (np.take(table, rows, axis=0).reshape(out_shape),)


def _scatter_nd_kernel(ctx, inputs, attrs):
    indices, updates, shape_t = inputs
    if shape_t.ndim != 1:
        raise invalid_argument(f"Shape must be a vector, got shape {list(shape_t.shape)}")
    shape = tuple(int(d) for d in shape_t.tolist())
    if any(d < 0 for d in shape):
        raise invalid_argument(f"Dimensions must be non-negative, got shape {list(shape)}")
    if indices.ndim < 1:
        raise invalid_argument(f"Indices shape must have rank at least one. Found: "
                               f"{list(indices.shape)}")
    depth = indices.shape[-1]
    if depth > len(shape):
        raise invalid_argument(f"Inner dimension of indices ({depth}) must be <= the rank of "
                               f"shape ({len(shape)})")
    expected = indices.shape[:-1] + shape[depth:]
    if updates.shape != expected:
        raise invalid_argument(f"Dimensions [0,{indices.ndim - 1}) of indices["
                               f"shape={list(indices.shape)}] = {list(indices.shape[:-1])} "
                               f"and updates[shape={list(updates.shape)}] must match "
                               f"{list(expected)}")
    leading = shape[:depth]
    rows = _flat_rows(indices, leading, "shape")
    out = np.zeros((int(np.prod(leading, dtype=np.int64)),) + shape[depth:],
                   dtype=updates.dtype)
    # Duplicate indices add up (np.add.at is unbuffered, unlike out[rows] += ...).
    np.add.at(out, rows, updates.reshape((rows.shape[0],) + shape[depth:]))
    return (out.reshape(shape),)


register_kernel("GatherNd", reference=_gather_nd_kernel)
register_kernel("ScatterNd", reference=_scatter_nd_kernel)
