"""Kernels of ``GatherNd`` and ``ScatterNd`` (``sessionlib/ops/scatter_gather_ops.py``).

Design. Both turn the K coordinates of each index into one flat row number of the first K
dimensions (``np.ravel_multi_index`` after a range check), then gather rows with ``np.take``
or add them with ``np.add.at``. Gathering is numpy's fancy indexing at memory speed, so its
reference kernel is also the fast one. Scattering has two: the reference adds whole slices
(``np.add.at`` on a ``[rows, slice]`` view, the spec), the fast kernel adds the same elements in
the same order over flat element numbers, which takes numpy's much faster 1-D path. An index
out of range is TF's InvalidArgumentError naming the first bad index.
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


def _scatter_nd_checks(inputs):
    """The flat row of each update, the output's shape and the updates as ``[rows, slice]``."""
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
    table_rows = int(np.prod(leading, dtype=np.int64))
    return rows, shape, table_rows, updates.reshape((rows.shape[0],) + shape[depth:])


def _scatter_nd_reference(ctx, inputs, attrs):
    """The spec: each update slice added at its row, in order (np.add.at is unbuffered, so
    duplicate indices add up)."""
    rows, shape, table_rows, slices = _scatter_nd_checks(inputs)
    out = np.zeros((table_rows,) + slices.shape[1:], dtype=slices.dtype)
    np.add.at(out, rows, slices)
    return (out.reshape(shape),)


def _scatter_nd_fast(ctx, inputs, attrs):
    """The same sums, in the same order, as one np.add.at over flat element numbers: numpy's
    fast path for 1-D targets, some 4x faster than adding whole slices."""
    rows, shape, table_rows, slices = _scatter_nd_checks(inputs)
    width = int(np.prod(slices.shape[1:], dtype=np.int64))
    out = np.zeros(table_rows * width, dtype=slices.dtype)
    if width == 1:
        np.add.at(out, rows, slices.reshape(-1))
    elif width:
        positions = (rows[:, None] * width + np.arange(width, dtype=np.int64)).reshape(-1)
        np.add.at(out, positions, slices.reshape(-1))
    return (out.reshape(shape),)


register_kernel("GatherNd", reference=_gather_nd_kernel)
register_kernel("ScatterNd", fast=_scatter_nd_fast, reference=_scatter_nd_reference)
