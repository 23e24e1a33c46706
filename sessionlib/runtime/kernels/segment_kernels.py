"""Kernels of the segment reductions (``SegmentSum`` ... ``UnsortedSegmentProd``),
``DenseBincount``, ``DynamicPartition`` and ``DynamicStitch``
(``sessionlib/ops/segment_ops.py``).

Design. A sorted segment reduction is a ufunc's ``reduceat`` over the runs of equal ids: one pass,
no scatter. An unsorted one is the ufunc's ``at`` (an unbuffered scatter) into an array filled with
the value TF gives a segment without rows; a bincount is ``np.bincount``, or ``np.add.at`` of the
weights. A partition is one stable argsort of the partition ids and a split of the reordered rows;
a stitch is one fancy assignment per data tensor, in order, so that a later index wins as in TF.
numpy does each at memory speed, so the reference kernels are also the fast ones.
"""

import numpy as np

from sessionlib.runtime.kernel_table import register_kernel
from sessionlib.runtime.kernels.array_kernels import invalid_argument


def _segment_runs(data, ids):
    """Checks sorted segment ids; returns (number of segments, start of each run of ids)."""
    if ids.ndim != 1:
        raise invalid_argument(f"segment_ids should be a vector, got shape {list(ids.shape)}")
    if data.ndim < 1 or ids.shape[0] != data.shape[0]:
        raise invalid_argument(f"segment_ids should be the same size as dimension 0 of input."
                               f" segment_ids shape: {list(ids.shape)}, data shape: "
                               f"{list(data.shape)}")
    if ids.size == 0:
        return 0, None
    rows = int(ids[-1]) + 1
    negative = ids < 0
    if negative.any() or rows <= 0:
        bad = int(ids[int(np.argmax(negative))]) if negative.any() else int(ids[-1])
        raise invalid_argument(f"Segment id {bad} out of range [0, {max(rows, 0)}), possibly "
                               "because 'segment_ids' input is not sorted.")
    steps = np.diff(ids)
    if (steps < 0).any():
        raise invalid_argument("segment ids are not increasing")
    return rows, np.concatenate(([0], np.flatnonzero(steps) + 1))


def _integer_mean(total, count, dtype):
    # TF divides an integer sum by the count in the integer type, truncating towards zero.
    quotient = np.abs(total.astype(np.int64)) // count
    return (np.sign(total) * quotient).astype(dtype)


def _segment_mean(data, starts):
    sums = np.add.reduceat(data, starts, axis=0, dtype=data.dtype)
    counts = np.diff(np.append(starts, data.shape[0])).reshape((-1,) + (1,) * (data.ndim - 1))
    if data.dtype.kind in "iu":
        return _integer_mean(sums, counts, data.dtype)
    return (sums / counts.astype(data.dtype)).astype(data.dtype)


# How each sorted segment reduction reduces its runs of rows, and the value TF gives a segment
# without rows (1 for a product, else 0).
_SEGMENT_REDUCERS = {
    "SegmentSum": (lambda data, starts: np.add.reduceat(data, starts, axis=0,
                                                        dtype=data.dtype), 0),
    "SegmentProd": (lambda data, starts: np.multiply.reduceat(data, starts, axis=0,
                                                              dtype=data.dtype), 1),
    "SegmentMax": (lambda data, starts: np.maximum.reduceat(data, starts, axis=0), 0),
    "SegmentMin": (lambda data, starts: np.minimum.reduceat(data, starts, axis=0), 0),
    "SegmentMean": (_segment_mean, 0),
}


def _segment_kernel(reduce_runs, empty_value):
    def kernel(ctx, inputs, attrs):
        data, ids = inputs
        rows, starts = _segment_runs(data, ids)
        out = np.full((rows,) + data.shape[1:], empty_value, dtype=data.dtype)
        if rows:
            with np.errstate(over="ignore", invalid="ignore"):
                out[ids[starts]] = reduce_runs(data, starts)
        return (out,)

    return kernel


# ---- unsorted segment reductions ------------------------------------------------------------

def _unsorted_rows(data, ids, num_segments):
    """Checks the inputs of an UnsortedSegment* op; returns (count, kept ids, kept rows)."""
    if np.ndim(num_segments) != 0:
        raise invalid_argument(f"num_segments should be a scalar, got shape "
                               f"{list(np.shape(num_segments))}")
    count = int(num_segments)
    if count < 0:
        raise invalid_argument(f"num_segments must be >= 0, got {count}")
    if data.shape[:ids.ndim] != ids.shape:
        raise invalid_argument(f"data.shape = {list(data.shape)} does not start with "
                               f"segment_ids.shape = {list(ids.shape)}")
    flat = ids.reshape(-1)
    too_large = flat >= count
    if too_large.any():
        index = int(np.argmax(too_large))
        raise invalid_argument(f"segment_ids[{index}] = {int(flat[index])} is out of range "
                               f"[0, {count})")
    rows = data.reshape((flat.size,) + data.shape[ids.ndim:])
    kept = flat >= 0  # rows with a negative id are dropped
    return count, flat[kept], rows[kept]


def _lowest(dtype):
    return np.finfo(dtype).min if dtype.kind == "f" else np.iinfo(dtype).min


def _highest(dtype):
    return np.finfo(dtype).max if dtype.kind == "f" else np.iinfo(dtype).max


# (the ufunc that accumulates rows into their segment, the value of a segment without rows:
# the reduction's identity, the dtype's finite extremes for max and min as in TF).
_UNSORTED_REDUCERS = {
    "UnsortedSegmentMax": (np.maximum, _lowest),
    "UnsortedSegmentMin": (np.minimum, _highest),
    "UnsortedSegmentProd": (np.multiply, lambda dtype: 1),
}


def _unsorted_segment_kernel(ufunc, empty_value):
    def kernel(ctx, inputs, attrs):
        data, ids, num_segments = inputs
        count, kept_ids, kept_rows = _unsorted_rows(data, ids, num_segments)
        out = np.full((count,) + data.shape[ids.ndim:], empty_value(data.dtype),
                      dtype=data.dtype)
        with np.errstate(over="ignore", invalid="ignore"):
            ufunc.at(out, kept_ids, kept_rows)
        return (out,)

    return kernel


# ---- DenseBincount ------------------------------------------------------------------------

def _dense_bincount_kernel(ctx, inputs, attrs):
    values, size, weights = inputs
    if np.ndim(size) != 0 or int(size) < 0:
        raise invalid_argument(f"size ({size}) must be a non-negative scalar")
    size = int(size)
    flat = values.reshape(-1)
    if flat.size and flat.min() < 0:
        raise invalid_argument("Input arr must be non-negative!")
    if weights.size and weights.shape != values.shape:
        raise invalid_argument(f"weights shape {list(weights.shape)} must be the shape of the "
                               f"input {list(values.shape)}, or empty")
    # Values at or beyond `size` are not counted, as in TF.
    inside = flat < size
    counted = flat[inside].astype(np.int64)
    if attrs.get("binary_output"):
        out = np.zeros(size, dtype=weights.dtype)
        out[counted] = 1
        return (out,)
    if weights.size:
        out = np.zeros(size, dtype=weights.dtype)
        np.add.at(out, counted, weights.reshape(-1)[inside])
        return (out,)
    return (np.bincount(counted, minlength=size).astype(weights.dtype),)


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


for _name, (_reduce_runs, _empty_value) in _SEGMENT_REDUCERS.items():
    register_kernel(_name, reference=_segment_kernel(_reduce_runs, _empty_value))
for _name, (_ufunc, _empty_value) in _UNSORTED_REDUCERS.items():
    register_kernel(_name, reference=_unsorted_segment_kernel(_ufunc, _empty_value))
register_kernel("DenseBincount", reference=_dense_bincount_kernel)
register_kernel("DynamicPartition", reference=_dynamic_partition_kernel)
register_kernel("DynamicStitch", reference=_dynamic_stitch_kernel)
