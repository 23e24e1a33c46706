"""Index arithmetic that an op's graph-time inference and its run-time kernel must agree on.

Design. Several array and sparse ops compute the same thing twice: once while the graph is
built, from whatever values are known then (``sessionlib/ops``), and once when the op runs, from
the actual arrays (``sessionlib/runtime/kernels``). The ops may not import the runtime and the
runtime may not import the ops, so the rules both sides follow live here, in the graph model:
the length of a ``Range``, the reading of a strided-slice spec, the normalization of reduction
axes. Keeping one copy keeps static shapes and run-time results from drifting apart.

This module must stay free of graph objects and of execution: plain ints and numpy arrays in,
plain values out.
"""

import numpy as np

from sessionlib import errors

__all__ = ["to_ints", "range_size", "STRIDED_SLICE_MASKS", "strided_slice_entries",
           "normalized_axes"]


def to_ints(array):
    """The elements of an int array (of any rank) as a flat list of Python ints."""
    return [int(v) for v in np.asarray(array).reshape(-1).tolist()]


def range_size(start, limit, delta, is_integer):
    """The number of elements of ``Range(start, limit, delta)``.

    Args:
      start, limit, delta: Python numbers.
      is_integer: whether the range's dtype is an integer type (exact arithmetic).

    Returns:
      The element count, an int.

    Raises:
      ValueError: for a zero `delta`, or a `delta` that points away from `limit`.
    """
    if delta == 0:
        raise ValueError("Requires delta != 0")
    if delta > 0 and start > limit:
        raise ValueError(f"Requires start <= limit when delta > 0: {start}/{limit}")
    if delta < 0 and start < limit:
        raise ValueError(f"Requires start >= limit when delta < 0: {start}/{limit}")
    if is_integer:
        return (abs(limit - start) + abs(delta) - 1) // abs(delta)
    return int(np.ceil(abs((limit - start) / delta)))


# The bit-mask attributes of ``StridedSlice``, in TF's names.
STRIDED_SLICE_MASKS = ("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask",
                       "shrink_axis_mask")


def strided_slice_entries(begin, end, strides, attrs):
    """Yields ``(kind, begin, end, stride)`` for each entry of a strided-slice spec.

    Args:
      begin, end, strides: sequences of one length (entries may be placeholders for values
        not known yet; they are passed through untouched).
      attrs: a mapping holding the ``STRIDED_SLICE_MASKS`` (missing masks are 0).

    Yields:
      `kind` is 'ellipsis', 'newaxis', 'index' (a shrinking integer index) or 'slice'; a masked
      begin or end is None, as in a Python slice.
    """
    masks = {name: int(attrs.get(name, 0)) for name in STRIDED_SLICE_MASKS}
    for i in range(len(strides)):
        bit = 1 << i
        if masks["ellipsis_mask"] & bit:
            yield "ellipsis", None, None, None
        elif masks["new_axis_mask"] & bit:
            yield "newaxis", None, None, None
        elif masks["shrink_axis_mask"] & bit:
            yield "index", begin[i], None, None
        else:
            yield ("slice", None if masks["begin_mask"] & bit else begin[i],
                   None if masks["end_mask"] & bit else end[i], strides[i])


def normalized_axes(axes, rank):
    """Reduction axes as sorted non-negative ints, without repeats.

    Args:
      axes: an int or an int array of any rank; negative axes count from the end.
      rank: the rank of the reduced tensor.

    Returns:
      A tuple of ints in ``[0, rank)``.

    Raises:
      InvalidArgumentError: for an axis outside ``[-rank, rank)``.
    """
    result = set()
    for axis in np.asarray(axes).reshape(-1).tolist():
        if not -rank <= axis < rank:
            raise errors.InvalidArgumentError(
                None, None, f"Invalid reduction dimension {axis}, for input with {rank} "
                "dimensions.")
        result.add(axis % rank)
    return tuple(sorted(result))
