"""Kernels of ``sessionlib/ops/array_extra_ops.py``: sorting and set ops, sequence and block
rearrangements, broadcasting, diagonals, tensor scatters and shape utilities.

Design. Each kernel is a handful of numpy calls (``np.unique``, ``np.searchsorted``, a
reshape and transpose, ``np.add.at``) that already run at memory speed, so the reference
kernel is the fast one too. Kernels check what only the run reveals and raise
InvalidArgumentError in TF's words. Inputs may be read-only; outputs are fresh, contiguous
arrays.
"""

import time

import numpy as np

from sessionlib.framework.indexing import to_ints
from sessionlib.runtime.kernel_table import register_kernel
from sessionlib.runtime.kernels.array_kernels import invalid_argument


def _np_dtype(dtype):
    return np.dtype(getattr(dtype, "as_numpy_dtype", dtype))


# ---- Unique, UniqueWithCounts, ListDiff ---------------------------------------------------

def _first_occurrence_unique(x):
    """(distinct values in order of first occurrence, index of each x in them, counts)."""
    if x.ndim != 1:
        raise invalid_argument(f"unique expects a 1D vector, got shape {list(x.shape)}")
    if x.size == 0:
        return x.copy(), np.zeros(0, np.int64), np.zeros(0, np.int64)
    _, first, inverse, counts = np.unique(x, return_index=True, return_inverse=True,
                                          return_counts=True)
    order = np.argsort(first, kind="stable")
    rank_of = np.empty_like(order)
    rank_of[order] = np.arange(order.size)
    return (np.ascontiguousarray(x[first[order]]), rank_of[inverse.reshape(-1)],
            counts[order])


def _unique_kernel(ctx, inputs, attrs):
    values, idx, _ = _first_occurrence_unique(inputs[0])
    return (values, idx.astype(_np_dtype(attrs["out_idx"])))


def _unique_with_counts_kernel(ctx, inputs, attrs):
    values, idx, counts = _first_occurrence_unique(inputs[0])
    out_dtype = _np_dtype(attrs["out_idx"])
    return (values, idx.astype(out_dtype), counts.astype(out_dtype))


def _list_diff_kernel(ctx, inputs, attrs):
    x, y = inputs
    if x.ndim != 1 or y.ndim != 1:
        raise invalid_argument(f"x should be a 1D vector.  Got shape {list(x.shape)}"
                               if x.ndim != 1 else
                               f"y should be a 1D vector.  Got shape {list(y.shape)}")
    keep = ~np.isin(x, y) if x.dtype != object else np.array(
        [value not in set(y.tolist()) for value in x.tolist()], dtype=bool)
    positions = np.flatnonzero(keep)
    return (np.ascontiguousarray(x[positions]),
            positions.astype(_np_dtype(attrs["out_idx"])))


# ---- ReverseSequence ----------------------------------------------------------------------

def _reverse_sequence_kernel(ctx, inputs, attrs):
    value, lengths = inputs
    seq_dim, batch_dim = int(attrs["seq_dim"]), int(attrs["batch_dim"])
    if lengths.ndim != 1 or lengths.shape[0] != value.shape[batch_dim]:
        raise invalid_argument(f"Length of seq_lengths != input.dims({batch_dim}), "
                               f"({lengths.size} vs. {value.shape[batch_dim]})")
    lengths = np.asarray(lengths, dtype=np.int64)
    for i, length in enumerate(lengths.tolist()):
        if length < 0:
            raise invalid_argument(f"seq_lengths({i}) < 0")
        if length > value.shape[seq_dim]:
            raise invalid_argument(f"seq_lengths({i}) > input.dims({seq_dim}) "
                                   f"({length} vs. {value.shape[seq_dim]})")
    result = np.array(value)
    moved_out = np.moveaxis(result, (batch_dim, seq_dim), (0, 1))
    moved_in = np.moveaxis(value, (batch_dim, seq_dim), (0, 1))
    for i, length in enumerate(lengths.tolist()):
        if length > 1:
            moved_out[i, :length] = moved_in[i, length - 1::-1]
    return (result,)


# ---- BroadcastTo, BroadcastArgs -----------------------------------------------------------

def _broadcast_to_kernel(ctx, inputs, attrs):
    value, shape_t = inputs
    shape = tuple(to_ints(shape_t.reshape(-1)))
    if any(d < 0 for d in shape):
        raise invalid_argument(f"Shape {list(shape)} must be non-negative")
    try:
        return (np.ascontiguousarray(np.broadcast_to(value, shape)),)
    except ValueError:
        raise invalid_argument(f"Unable to broadcast tensor of shape {list(value.shape)} to "
                               f"tensor of shape {list(shape)}") from None


def _broadcast_args_kernel(ctx, inputs, attrs):
    s0, s1 = (tuple(to_ints(t.reshape(-1))) for t in inputs)
    try:
        shape = np.broadcast_shapes(s0, s1)
    except ValueError:
        raise invalid_argument(f"Incompatible shapes: {list(s0)} vs. {list(s1)}") from None
    return (np.asarray(shape, dtype=inputs[0].dtype).reshape(-1),)


# ---- Roll ---------------------------------------------------------------------------------

def _roll_kernel(ctx, inputs, attrs):
    value, shift_t, axis_t = inputs
    if value.ndim < 1:
        raise invalid_argument("input must be 1-D or higher")
    if shift_t.ndim > 1:
        raise invalid_argument(f"shift must be a scalar or a 1-D vector. Found: "
                               f"{list(shift_t.shape)}")
    if axis_t.ndim > 1:
        raise invalid_argument(f"axis must be a scalar or a 1-D vector. Found: "
                               f"{list(axis_t.shape)}")
    if shift_t.shape != axis_t.shape:
        raise invalid_argument("shift and axis must have the same size")
    shifts = [0] * value.ndim
    for shift, axis in zip(to_ints(shift_t.reshape(-1)), to_ints(axis_t.reshape(-1))):
        if not -value.ndim <= axis < value.ndim:
            raise invalid_argument(f"axis {axis} is out of range")
        shifts[axis % value.ndim] += shift
    axes = [a for a, s in enumerate(shifts) if s and value.shape[a]]
    if not axes:
        return (np.array(value),)
    return (np.ascontiguousarray(np.roll(value, [shifts[a] for a in axes], axes)),)


# ---- LinSpace -----------------------------------------------------------------------------

def _lin_space_kernel(ctx, inputs, attrs):
    start, stop, num_t = inputs
    for tensor, what in ((start, "start"), (stop, "stop"), (num_t, "num")):
        if tensor.ndim != 0:
            raise invalid_argument(f"{what} must be a scalar, not shape {list(tensor.shape)}")
    num = int(num_t)
    if num <= 0:
        raise invalid_argument(f"Requires num > 0: {num}")
    dtype = start.dtype
    if num == 1:
        return (np.asarray([start], dtype=dtype),)
    # TF steps in the values' own precision: start + i * ((stop - start) / (num - 1)).
    step = (stop.astype(dtype) - start) / dtype.type(num - 1)
    return ((start + np.arange(num).astype(dtype) * step).astype(dtype),)


# ---- SpaceToDepth, DepthToSpace -----------------------------------------------------------

def _depth_space_layout(value, attrs):
    if value.ndim != 4:
        raise invalid_argument(f"input rank should be: 4 instead of: {value.ndim}")
    block = int(attrs["block_size"])
    if block < 2:
        raise invalid_argument(f"Block size should be > 1, but was: {block}")
    channels_first = attrs["data_format"] == "NCHW"
    # Work in NHWC; NCHW goes there and back.
    nhwc = np.transpose(value, (0, 2, 3, 1)) if channels_first else value
    return nhwc, block, channels_first


def _from_nhwc(result, channels_first):
    if channels_first:
        result = np.transpose(result, (0, 3, 1, 2))
    return np.ascontiguousarray(result)


def _space_to_depth_kernel(ctx, inputs, attrs):
    value, block, channels_first = _depth_space_layout(inputs[0], attrs)
    batch, height, width, depth = value.shape
    if height % block or width % block:
        raise invalid_argument(f"Image width {width} and height {height} should be divisible "
                               f"by block_size: {block}")
    blocks = value.reshape(batch, height // block, block, width // block, block, depth)
    moved = blocks.transpose(0, 1, 3, 2, 4, 5).reshape(batch, height // block, width // block,
                                                        block * block * depth)
    return (_from_nhwc(moved, channels_first),)


def _depth_to_space_kernel(ctx, inputs, attrs):
    value, block, channels_first = _depth_space_layout(inputs[0], attrs)
    batch, height, width, depth = value.shape
    if depth % (block * block):
        raise invalid_argument(f"Input depth dimension {depth} should be divisible by: "
                               f"{block * block}")
    out_depth = depth // (block * block)
    blocks = value.reshape(batch, height, width, block, block, out_depth)
    moved = blocks.transpose(0, 1, 3, 2, 4, 5).reshape(batch, height * block, width * block,
                                                        out_depth)
    return (_from_nhwc(moved, channels_first),)


# ---- SpaceToBatchND, BatchToSpaceND -------------------------------------------------------

def _blocks_and_pairs(value, block_t, pads_t, what):
    if block_t.ndim != 1:
        raise invalid_argument(f"block_shape must be one-dimensional, but got shape "
                               f"{list(block_t.shape)}")
    blocks = to_ints(block_t)
    if pads_t.ndim != 2 or pads_t.shape != (len(blocks), 2):
        raise invalid_argument(f"{what} should have shape [{len(blocks)}, 2] instead of "
                               f"{list(pads_t.shape)}")
    if value.ndim < 1 + len(blocks):
        raise invalid_argument(f"input rank should be >= {1 + len(blocks)} instead of "
                               f"{value.ndim}")
    pairs = np.asarray(to_ints(pads_t.reshape(-1)), dtype=np.int64).reshape(-1, 2).tolist()
    for block in blocks:
        if block < 1:
            raise invalid_argument(f"All values in block_shape must be positive, got value, "
                                   f"{block} instead.")
    for before, after in pairs:
        if before < 0 or after < 0:
            raise invalid_argument(f"All values in {what} must be non-negative")
    return blocks, pairs


def _zero_padded(value, pads):
    """`value` padded with zeros (empty strings for strings, which np.pad cannot fill)."""
    if value.dtype != object:
        return np.pad(value, pads)
    out = np.full([d + b + a for d, (b, a) in zip(value.shape, pads)], b"", dtype=object)
    out[tuple(slice(b, b + d) for d, (b, _) in zip(value.shape, pads))] = value
    return out


def _space_to_batch_kernel(ctx, inputs, attrs):
    value, block_t, pads_t = inputs
    blocks, pairs = _blocks_and_pairs(value, block_t, pads_t, "paddings")
    count = len(blocks)
    trailing = value.ndim - 1 - count
    padded = _zero_padded(value, [(0, 0)] + [tuple(p) for p in pairs] + [(0, 0)] * trailing)
    for i, block in enumerate(blocks):
        if padded.shape[1 + i] % block:
            raise invalid_argument(f"padded_shape[{i}]={padded.shape[1 + i]} is not divisible "
                                   f"by block_shape[{i}]={block}")
    batch = padded.shape[0]
    split = [batch]
    for i, block in enumerate(blocks):
        split += [padded.shape[1 + i] // block, block]
    split += list(padded.shape[1 + count:])
    # Axes of `split`: batch, (outer_i, block_i)..., trailing. Output: blocks first (the
    # batch's slowest axes), then batch, the outer sizes and the trailing dims.
    order = [2 + 2 * i for i in range(count)] + [0] + [1 + 2 * i for i in range(count)] \
        + list(range(1 + 2 * count, 1 + 2 * count + trailing))
    moved = padded.reshape(split).transpose(order)
    shape = [batch * int(np.prod(blocks))] + [padded.shape[1 + i] // b
                                              for i, b in enumerate(blocks)]
    return (np.ascontiguousarray(moved).reshape(shape + list(padded.shape[1 + count:])),)


def _batch_to_space_kernel(ctx, inputs, attrs):
    value, block_t, crops_t = inputs
    blocks, pairs = _blocks_and_pairs(value, block_t, crops_t, "crops")
    count = len(blocks)
    product = int(np.prod(blocks))
    if value.shape[0] % product:
        raise invalid_argument(f"Input batch dimension ({value.shape[0]}) is not divisible by "
                               f"product of block sizes ({product})")
    batch = value.shape[0] // product
    trailing = list(value.shape[1 + count:])
    parts = value.reshape(list(blocks) + [batch] + list(value.shape[1:]))
    order = [count]
    for i in range(count):
        order += [count + 1 + i, i]
    order += list(range(2 * count + 1, 2 * count + 1 + len(trailing)))
    spread = [value.shape[1 + i] * block for i, block in enumerate(blocks)]
    joined = parts.transpose(order).reshape([batch] + spread + trailing)
    index = [slice(None)]
    for i, (before, after) in enumerate(pairs):
        if before + after > spread[i]:
            raise invalid_argument(f"Crops must be less than or equal to the spatial size: "
                                   f"{before} + {after} > {spread[i]}")
        index.append(slice(before, spread[i] - after))
    return (np.ascontiguousarray(joined[tuple(index)]),)


def _square_block(kernel):
    """The kernel of TF 1's 4-D SpaceToBatch or BatchToSpace from its ND form's."""
    def square(ctx, inputs, attrs):
        value, pads = inputs
        if value.ndim != 4:
            raise invalid_argument(f"input must be 4-dimensional, got shape "
                                   f"{list(value.shape)}")
        block = int(attrs["block_size"])
        return kernel(ctx, (value, np.asarray([block, block], np.int64), pads), attrs)

    return square


# ---- Diag, DiagPart -----------------------------------------------------------------------

def _diag_kernel(ctx, inputs, attrs):
    (value,) = inputs
    if value.ndim < 1:
        raise invalid_argument("Input must be at least rank 1, got 0")
    size = value.size
    flat = np.zeros((size, size), dtype=value.dtype)
    flat[np.arange(size), np.arange(size)] = value.reshape(-1)
    return (flat.reshape(value.shape + value.shape),)


def _diag_part_kernel(ctx, inputs, attrs):
    (value,) = inputs
    if value.ndim == 0 or value.ndim % 2:
        raise invalid_argument(f"The rank of the tensor should be even and positive, got "
                               f"shape {list(value.shape)}")
    half = value.ndim // 2
    if value.shape[:half] != value.shape[half:]:
        raise invalid_argument(f"Invalid shape {list(value.shape)}: dimensions "
                               f"{list(value.shape[:half])} and {list(value.shape[half:])} "
                               f"do not match")
    size = int(np.prod(value.shape[:half]))
    flat = value.reshape(size, size)
    return (np.ascontiguousarray(flat[np.arange(size), np.arange(size)]
                                 .reshape(value.shape[:half])),)


# ---- LowerBound, UpperBound, UnravelIndex -------------------------------------------------

def _bound_kernel(side):
    def kernel(ctx, inputs, attrs):
        sorted_inputs, values = inputs
        if sorted_inputs.ndim != 2 or values.ndim != 2:
            raise invalid_argument("sorted_inputs and values must be matrices")
        if sorted_inputs.shape[0] != values.shape[0]:
            raise invalid_argument("Leading dim_size of both tensors must match.")
        rows, width = sorted_inputs.shape
        out_dtype = _np_dtype(attrs["out_type"])
        if rows == 0 or values.size == 0 or width == 0:
            return (np.zeros(values.shape, dtype=out_dtype),)
        # One search for all rows: every value is replaced by its rank among all values of
        # both inputs, and row r's ranks are shifted past those of the rows before it, so
        # the flattened sorted rows stay sorted and each value can only land in its own row.
        _, ranks = np.unique(np.concatenate([sorted_inputs.reshape(-1), values.reshape(-1)]),
                             return_inverse=True)
        ranks = ranks.reshape(-1).astype(np.int64)
        span = int(ranks.max()) + 1
        keys = ranks[:sorted_inputs.size].reshape(rows, width) \
            + np.arange(rows, dtype=np.int64)[:, None] * span
        queries = ranks[sorted_inputs.size:].reshape(values.shape) \
            + np.arange(rows, dtype=np.int64)[:, None] * span
        found = np.searchsorted(keys.reshape(-1), queries.reshape(-1), side=side)
        found = found.reshape(values.shape) - np.arange(rows, dtype=np.int64)[:, None] * width
        return (found.astype(out_dtype),)

    return kernel


def _unravel_index_kernel(ctx, inputs, attrs):
    indices, dims_t = inputs
    if dims_t.ndim != 1:
        raise invalid_argument(f"The dims input must be a 1-D tensor, got shape "
                               f"{list(dims_t.shape)}")
    dims = to_ints(dims_t)
    if any(d <= 0 for d in dims):
        raise invalid_argument("Input dims must be positive; got "
                               f"{list(dims)}")
    if indices.ndim > 1:
        raise invalid_argument(f"The indices input must be a scalar or a 1-D tensor, got "
                               f"shape {list(indices.shape)}")
    total = int(np.prod(dims))
    flat = np.asarray(indices, dtype=np.int64).reshape(-1)
    bad = flat[(flat < 0) | (flat >= total)]
    if bad.size:
        raise invalid_argument(f"index {int(bad[0])} is out of bounds for shape "
                               f"{list(dims)}: each index must be in [0, {total})")
    coords = np.stack(np.unravel_index(flat, dims)) if dims else np.zeros((0, flat.size))
    coords = coords.astype(indices.dtype)
    return (coords.reshape(-1) if indices.ndim == 0 else coords,)


# ---- TensorScatter* -----------------------------------------------------------------------

def _tensor_scatter_kernel(kind):
    def kernel(ctx, inputs, attrs):
        tensor, indices, updates = inputs
        if indices.ndim < 1:
            raise invalid_argument("Indices shape must have rank at least one.")
        depth = indices.shape[-1]
        if depth > tensor.ndim:
            raise invalid_argument(f"Index innermost dimension length must be <= tensor "
                                   f"rank; saw: {depth} vs. {tensor.ndim}")
        want = indices.shape[:-1] + tensor.shape[depth:]
        if updates.shape != want:
            raise invalid_argument(f"Dimensions [0,{indices.ndim - 1}) of indices"
                                   f"[shape={list(indices.shape)}] = "
                                   f"{list(indices.shape[:-1])} must match dimensions "
                                   f"[0,{updates.ndim - len(tensor.shape[depth:])}) of "
                                   f"updates[shape={list(updates.shape)}]")
        result = np.array(tensor)
        flat_index = np.asarray(indices, dtype=np.int64).reshape(-1, depth)
        bounds = np.asarray(tensor.shape[:depth], dtype=np.int64)
        bad = np.flatnonzero(((flat_index < 0) | (flat_index >= bounds)).any(axis=1))
        if bad.size:
            raise invalid_argument(f"indices[{int(bad[0])}] = "
                                   f"{flat_index[bad[0]].tolist()} does not index into shape "
                                   f"{list(tensor.shape)}")
        where = tuple(flat_index.T)
        values = updates.reshape((flat_index.shape[0],) + tensor.shape[depth:])
        if kind == "Update":
            # TF leaves the winner of duplicate indices unspecified; the last write wins.
            result[where] = values
        elif kind == "Add":
            np.add.at(result, where, values)
        elif kind == "Sub":
            np.subtract.at(result, where, values)
        elif kind == "Max":
            np.maximum.at(result, where, values)
        else:
            np.minimum.at(result, where, values)
        return (result,)

    return kernel


# ---- ShapeN, ParallelConcat, EnsureShape --------------------------------------------------

def _shape_n_kernel(ctx, inputs, attrs):
    out_dtype = _np_dtype(attrs["out_type"])
    return tuple(np.asarray(value.shape, dtype=out_dtype).reshape(-1) for value in inputs)


def _parallel_concat_kernel(ctx, inputs, attrs):
    for position, value in enumerate(inputs):
        if value.ndim < 1 or value.shape[0] != 1 or value.shape[1:] != inputs[0].shape[1:]:
            raise invalid_argument(f"values[{position}] of shape {list(value.shape)} does not "
                                   f"have the shape [1, ...] of the others")
    return (np.concatenate(inputs, axis=0),)


def _ensure_shape_kernel(ctx, inputs, attrs):
    (value,) = inputs
    expected = attrs["shape"]
    dims = None if expected.rank is None else expected.as_list()
    if dims is not None and (len(dims) != value.ndim or any(
            want is not None and want != have for want, have in zip(dims, value.shape))):
        shown = "[" + ",".join("?" if d is None else str(d) for d in dims) + "]"
        raise invalid_argument(f"Shape of tensor [{','.join(str(d) for d in value.shape)}] "
                               f"is not compatible "
                               f"with expected shape {shown}.")
    return (value,)


# ---- HistogramFixedWidth ------------------------------------------------------------------

def _histogram_kernel(ctx, inputs, attrs):
    values, value_range, nbins_t = inputs
    if value_range.shape != (2,):
        raise invalid_argument(f"value_range should be a vector of 2 elements, got shape "
                               f"{list(value_range.shape)}")
    if nbins_t.ndim != 0:
        raise invalid_argument(f"nbins should be a scalar, got shape {list(nbins_t.shape)}")
    nbins = int(nbins_t)
    if nbins <= 0:
        raise invalid_argument(f"nbins should be a positive number, but got '{nbins}'")
    low, high = value_range.tolist()
    if not low < high:
        raise invalid_argument(f"value_range should satisfy value_range[0] < value_range[1], "
                               f"but got '[{low}, {high}]'")
    # As TF: the distance from the lower edge (values below it count at it) in units of the
    # bin width, both in double, truncated and capped at the last bin.
    step = (float(high) - float(low)) / nbins
    offset = (np.maximum(values.reshape(-1), value_range[0]) - value_range[0]).astype(
        np.float64)
    bins = np.minimum(offset / step, nbins - 1).astype(np.int64)
    counts = np.bincount(bins, minlength=nbins)
    return (counts.astype(_np_dtype(attrs["dtype"])),)


# ---- ExtractImagePatches ------------------------------------------------------------------

def _extract_patches_kernel(ctx, inputs, attrs):
    (images,) = inputs
    if images.ndim != 4:
        raise invalid_argument(f"input must be 4-dimensional{list(images.shape)}")
    _, size_r, size_c, _ = (int(v) for v in attrs["ksizes"])
    _, stride_r, stride_c, _ = (int(v) for v in attrs["strides"])
    _, rate_r, rate_c, _ = (int(v) for v in attrs["rates"])
    padding = attrs["padding"]
    batch, rows, cols, depth = images.shape
    plans = []
    for size, window, stride, rate in ((rows, size_r, stride_r, rate_r),
                                       (cols, size_c, stride_c, rate_c)):
        effective = window + (window - 1) * (rate - 1)
        if padding == "VALID":
            out = max(0, (size - effective + stride) // stride)
            before = 0
        else:
            out = -(-size // stride)
            before = max((out - 1) * stride + effective - size, 0) // 2
        after = max(0, (out - 1) * stride + effective - size - before)
        plans.append((out, before, after))
    (out_r, pad_r, after_r), (out_c, pad_c, after_c) = plans
    padded = _zero_padded(images, [(0, 0), (pad_r, after_r), (pad_c, after_c), (0, 0)])
    result = np.empty((batch, out_r, out_c, size_r, size_c, depth), dtype=images.dtype)
    for i in range(size_r):
        for j in range(size_c):
            top, left = i * rate_r, j * rate_c
            result[:, :, :, i, j, :] = padded[:, top:top + (out_r - 1) * stride_r + 1:stride_r,
                                              left:left + (out_c - 1) * stride_c + 1:stride_c,
                                              :] if out_r and out_c else 0
    return (result.reshape(batch, out_r, out_c, size_r * size_c * depth),)


# ---- Timestamp, Bitcast -------------------------------------------------------------------

def _timestamp_kernel(ctx, inputs, attrs):
    return (np.asarray(time.time(), dtype=np.float64),)


def _bitcast_kernel(ctx, inputs, attrs):
    (value,) = inputs
    out_dtype = _np_dtype(attrs["type"])
    in_size, out_size = value.dtype.itemsize, out_dtype.itemsize
    contiguous = np.ascontiguousarray(value)
    if in_size == out_size:
        return (contiguous.view(out_dtype).copy(),)
    if in_size > out_size:
        return (contiguous.reshape(value.shape + (1,)).view(out_dtype).copy(),)
    ratio = out_size // in_size
    if value.ndim == 0 or value.shape[-1] != ratio:
        raise invalid_argument(f"Cannot bitcast from {value.dtype} to {out_dtype}: shape "
                               f"{list(value.shape)} does not end in {ratio}")
    return (contiguous.view(out_dtype).reshape(value.shape[:-1]).copy(),)


# ---- EditDistance -------------------------------------------------------------------------

def _levenshtein(first, second):
    """The edit distance of two sequences, one row of the dynamic program per element of
    `first`, each row computed by numpy: row[j] is the distance between the prefix of
    `first` read so far and ``second[:j]``."""
    second = np.asarray(second, dtype=object if isinstance(second[0], bytes) else None) \
        if len(second) else np.zeros(0)
    offsets = np.arange(len(second) + 1)
    row = offsets.copy()
    for i, item in enumerate(first, start=1):
        # Deletion or substitution from the previous row, then insertions along this one:
        # new[j] = min over k <= j of (best[k] + j - k), a running minimum.
        best = np.empty_like(row)
        best[0] = i
        best[1:] = np.minimum(row[1:] + 1, row[:-1] + (second != item))
        row = np.minimum.accumulate(best - offsets) + offsets
    return int(row[-1])


def _sequences(indices, values, shape, what):
    """{position (all but the last index): [values in order of the last index]}."""
    if indices.ndim != 2 or values.ndim != 1 or indices.shape[0] != values.shape[0]:
        raise invalid_argument(f"{what}_indices should be a matrix with one row per entry "
                               f"of {what}_values, got shapes {list(indices.shape)} and "
                               f"{list(values.shape)}")
    if indices.shape[1] != shape.size:
        raise invalid_argument(f"{what}_shape should have one entry per column of "
                               f"{what}_indices, got {shape.size} and {indices.shape[1]}")
    groups = {}
    order = np.lexsort(indices.T[::-1]) if indices.size else np.zeros(0, np.int64)
    for row in order.tolist():
        index = indices[row].tolist()
        if any(i < 0 or i >= d for i, d in zip(index, shape.tolist())):
            raise invalid_argument(f"{what} index {index} is out of bounds of its shape "
                                   f"{shape.tolist()}")
        groups.setdefault(tuple(index[:-1]), []).append(values[row])
    return groups


def _edit_distance_kernel(ctx, inputs, attrs):
    hyp_indices, hyp_values, hyp_shape, truth_indices, truth_values, truth_shape = inputs
    if hyp_shape.ndim != 1 or truth_shape.ndim != 1 or hyp_shape.size != truth_shape.size:
        raise invalid_argument(f"hypothesis_shape and truth_shape should be vectors of one "
                               f"length, got {list(hyp_shape.shape)} and "
                               f"{list(truth_shape.shape)}")
    if hyp_shape.size < 1:
        raise invalid_argument("The sparse tensors need rank at least 1")
    hypotheses = _sequences(hyp_indices, hyp_values, hyp_shape, "hypothesis")
    truths = _sequences(truth_indices, truth_values, truth_shape, "truth")
    out_shape = np.maximum(hyp_shape, truth_shape)[:-1].astype(np.int64)
    result = np.zeros(out_shape, dtype=np.float32)
    normalize = bool(attrs["normalize"])
    for position in set(hypotheses) | set(truths):
        hypothesis, truth = hypotheses.get(position), truths.get(position)
        if truth is None:
            distance = np.inf if normalize else len(hypothesis)
        elif hypothesis is None:
            distance = 1.0 if normalize else len(truth)
        else:
            distance = _levenshtein(hypothesis, truth)
            if normalize:
                distance /= len(truth)
        result[position] = distance
    return (result,)


register_kernel("Unique", reference=_unique_kernel)
register_kernel("UniqueWithCounts", reference=_unique_with_counts_kernel)
register_kernel("ListDiff", reference=_list_diff_kernel)
register_kernel("ReverseSequence", reference=_reverse_sequence_kernel)
register_kernel("BroadcastTo", reference=_broadcast_to_kernel)
register_kernel("BroadcastArgs", reference=_broadcast_args_kernel)
register_kernel("Roll", reference=_roll_kernel)
register_kernel("LinSpace", reference=_lin_space_kernel)
register_kernel("SpaceToDepth", reference=_space_to_depth_kernel)
register_kernel("DepthToSpace", reference=_depth_to_space_kernel)
register_kernel("SpaceToBatchND", reference=_space_to_batch_kernel)
register_kernel("BatchToSpaceND", reference=_batch_to_space_kernel)
register_kernel("SpaceToBatch", reference=_square_block(_space_to_batch_kernel))
register_kernel("BatchToSpace", reference=_square_block(_batch_to_space_kernel))
register_kernel("Diag", reference=_diag_kernel)
register_kernel("DiagPart", reference=_diag_part_kernel)
register_kernel("LowerBound", reference=_bound_kernel("left"))
register_kernel("UpperBound", reference=_bound_kernel("right"))
register_kernel("UnravelIndex", reference=_unravel_index_kernel)
for _kind in ("Update", "Add", "Sub", "Max", "Min"):
    register_kernel(f"TensorScatter{_kind}", reference=_tensor_scatter_kernel(_kind))
register_kernel("ShapeN", reference=_shape_n_kernel)
register_kernel("ParallelConcat", reference=_parallel_concat_kernel)
register_kernel("EnsureShape", reference=_ensure_shape_kernel)
register_kernel("HistogramFixedWidth", reference=_histogram_kernel)
register_kernel("ExtractImagePatches", reference=_extract_patches_kernel)
register_kernel("Timestamp", reference=_timestamp_kernel)
register_kernel("Bitcast", reference=_bitcast_kernel)
register_kernel("EditDistance", reference=_edit_distance_kernel)


# ---- ExtractVolumePatches -------------------------------------------------------------------

def _extract_volume_patches_kernel(ctx, inputs, attrs):
    (volumes,) = inputs
    if volumes.ndim != 5:
        raise invalid_argument(f"input must be 5-dimensional{list(volumes.shape)}")
    sizes = [int(v) for v in attrs["ksizes"]][1:4]
    strides = [int(v) for v in attrs["strides"]][1:4]
    batch, depth = volumes.shape[0], volumes.shape[4]
    plans = []
    for size, window, stride in zip(volumes.shape[1:4], sizes, strides):
        if attrs["padding"] == "VALID":
            out, before = max(0, (size - window + stride) // stride), 0
        else:
            out = -(-size // stride)
            before = max((out - 1) * stride + window - size, 0) // 2
        plans.append((out, before, max(0, (out - 1) * stride + window - size - before)))
    padded = _zero_padded(volumes, [(0, 0)] + [(b, a) for _, b, a in plans] + [(0, 0)])
    outs = [out for out, _, _ in plans]
    result = np.zeros((batch, *outs, *sizes, depth), dtype=volumes.dtype)
    if all(outs):
        for i in range(sizes[0]):
            for j in range(sizes[1]):
                for k in range(sizes[2]):
                    result[:, :, :, :, i, j, k, :] = padded[
                        :, i:i + (outs[0] - 1) * strides[0] + 1:strides[0],
                        j:j + (outs[1] - 1) * strides[1] + 1:strides[1],
                        k:k + (outs[2] - 1) * strides[2] + 1:strides[2], :]
    return (result.reshape(batch, *outs, int(np.prod(sizes)) * depth),)


register_kernel("ExtractVolumePatches", reference=_extract_volume_patches_kernel)
