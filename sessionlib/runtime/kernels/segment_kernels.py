"""Kernels of ``SegmentSum``, ``DynamicPartition`` and ``DynamicStitch``
(``sessionlib/ops/segment_ops.py``).

Design. A sorted segment sum is ``np.add.reduceat`` over the runs of equal ids: one pass, no
scatter. A partition is one stable argsort of the partition ids and a split of the reordered
rows; a stitch is one fancy assignment per data tensor, in order, so that a later index wins as
in TF. numpy does each at memory speed, so the reference kernels are also the fast ones.
"""

import numpy as np

from sessionlib.runtime.kernel_table import register_kernel
from sessionlib.runtime.kernels.array_kernels import invalid_argument


def _segment_sum_kernel(ctx, inputs, attrs):
    data, ids = inputs
    if ids.ndim != 1:
        raise invalid_argument(f"segment_ids should be a vector, got shape {list(ids.shape)}")
    if data.ndim < 1 or ids.shape[0] != data.shape[0]:
        raise invalid_argument(f"segment_ids should be the same size as dimension 0 of input."
                               f" segment_ids shape: {list(ids.shape)}, data shape: "
                               f"{list(data.shape)}")
    if ids.size == 0:
        return (np.zeros((0,) + data.shape[1:], dtype=data.dtype),)
    rows = int(ids[-1]) + 1
    negative = ids < 0
    if negative.any() or rows <= 0:
        bad = int(ids[int(np.argmax(negative))]) if negative.any() else int(ids[-1])
        raise invalid_argument(f"Segment id {bad} out of range [0, {max(rows, 0)}), possibly "
                               "because 'segment_ids' input is not sorted.")
    steps = np.diff(ids)
    if (steps < 0).any():
        raise invalid_argument("segment ids are not increasing")
    starts = np.concatenate(([0], np.flatnonzero(steps) + 1))
    out = np.zeros((rows,) + data.shape[1:], dtype=data.dtype)
    with np.errstate(over="ignore"):
        out[ids[starts]] = np.add.reduceat(data, starts, axis=0, dtype=data.dtype)
    return (out,)


def _dynamic_partition_kernel(ctx, inputs, attrs):
    data, partitions = inputs
    num = int(attrs["num_partitions"])
    rank = partitions.ndim
    if data.shape[:rank] != partitions.shape:
        raise invalid_argument(f"data.shape must start with partitions.shape, got data.shape = "
                               f"{list(data.shape)}, partitions.shape = "
                               f"{list(partitions.shape)}")
    flat = partitions.reshape(-1)
    bad = (flat < 0) | (flat >= num)
    if bad.any():
        position = np.unravel_index(int(np.argmax(bad)), partitions.shape)
        index = ",".join(str(int(p)) for p in position)
        raise invalid_argument(f"partitions[{index}] = {int(flat[int(np.argmax(bad))])} is not "
                               f"in [0, {num})")
    rows = data.reshape((flat.shape[0],) + data.shape[rank:])
    # A stable sort keeps each partition's rows in their original order.
    order = np.argsort(flat, kind="stable")
    counts = np.bincount(flat, minlength=num)
    pieces = np.split(np.take(rows, order, axis=0), np.cumsum(counts)[:-1])
    return tuple(pieces)


def _dynamic_stitch_kernel(ctx, inputs, attrs):
    count = len(inputs) // 2
    indices, data = inputs[:count], inputs[count:]
    rest = None
    for m, (index, value) in enumerate(zip(indices, data)):
        if value.shape[:index.ndim] != index.shape:
            raise invalid_argument(f"data[{m}].shape = {list(value.shape)} does not start with "
                                   f"indices[{m}].shape = {list(index.shape)}")
        trailing = value.shape[index.ndim:]
        if rest is None:
            rest = trailing
        elif trailing != rest:
            raise invalid_argument(f"Need data[0].shape[{indices[0].ndim}:] = {list(rest)} to "
                                   f"match data[{m}].shape[{index.ndim}:] = {list(trailing)}")
    rows = 0
    for index in indices:
        if index.size:
            negative = index.reshape(-1) < 0
            if negative.any():
                raise invalid_argument(f"indices[{int(np.argmax(negative))}] is out of range")
            rows = max(rows, int(index.max()) + 1)
    dtype = data[0].dtype
    # Rows that no index names are zeros (empty strings for strings).
    out = np.full((rows,) + tuple(rest), b"" if dtype == object else 0, dtype=dtype)
    for index, value in zip(indices, data):
        if index.size:
            out[index.reshape(-1)] = value.reshape((index.size,) + tuple(rest))
    return (out,)


register_kernel("SegmentSum", reference=_segment_sum_kernel)
register_kernel("DynamicPartition", reference=_dynamic_partition_kernel)
register_kernel("DynamicStitch", reference=_dynamic_stitch_kernel)
