"""Unit tests of `sessionlib.framework.indexing`: the index rules that array and sparse ops'
shape inference and their kernels share."""

import numpy as np
import pytest

from sessionlib import errors
from sessionlib.framework import indexing


def test_to_ints_flattens_any_rank():
    assert indexing.to_ints(np.array([[1, 2], [3, 4]], np.int64)) == [1, 2, 3, 4]
    assert indexing.to_ints(np.int32(7)) == [7]
    assert all(type(v) is int for v in indexing.to_ints(np.array([5, 6], np.int32)))


@pytest.mark.parametrize("start, limit, delta, is_integer, expected", [
    (0, 5, 1, True, 5),
    (0, 5, 2, True, 3),
    (5, 0, -2, True, 3),
    (3, 3, 1, True, 0),
    (0.0, 1.0, 0.3, False, 4),
])
def test_range_size_matches_numpy(start, limit, delta, is_integer, expected):
    assert indexing.range_size(start, limit, delta, is_integer) == expected
    assert len(np.arange(start, limit, delta)) == expected


@pytest.mark.parametrize("start, limit, delta, message", [
    (0, 5, 0, "Requires delta != 0"),
    (5, 0, 1, "Requires start <= limit when delta > 0: 5/0"),
    (0, 5, -1, "Requires start >= limit when delta < 0: 0/5"),
])
def test_range_size_rejects_bad_deltas(start, limit, delta, message):
    with pytest.raises(ValueError, match=message):
        indexing.range_size(start, limit, delta, True)


def test_strided_slice_entries_reads_every_mask():
    # t[1:, ..., tf.newaxis, 2, :3] as TF encodes it.
    begin, end, strides = [1, 0, 0, 2, 0], [0, 0, 0, 3, 3], [1, 1, 1, 1, 1]
    attrs = {"end_mask": 0b00001, "ellipsis_mask": 0b00010, "new_axis_mask": 0b00100,
             "shrink_axis_mask": 0b01000, "begin_mask": 0b10000}
    assert list(indexing.strided_slice_entries(begin, end, strides, attrs)) == [
        ("slice", 1, None, 1),
        ("ellipsis", None, None, None),
        ("newaxis", None, None, None),
        ("index", 2, None, None),
        ("slice", None, 3, 1),
    ]


def test_strided_slice_entries_passes_unknown_entries_through():
    unknown = object()
    entries = list(indexing.strided_slice_entries([unknown], [4], [unknown], {}))
    assert entries == [("slice", unknown, 4, unknown)]


def test_normalized_axes_sorts_and_deduplicates():
    assert indexing.normalized_axes(np.array([2, -3, 0]), 3) == (0, 2)
    assert indexing.normalized_axes(-1, 2) == (1,)
    assert indexing.normalized_axes(np.zeros(0, np.int32), 4) == ()


def test_normalized_axes_rejects_out_of_range():
    with pytest.raises(errors.InvalidArgumentError,
                       match=r"Invalid reduction dimension 3, for input with 3 dimensions\."):
        indexing.normalized_axes([3], 3)
