"""The row-copy transpose (``sessionlib/_core/layout.pyx``) against numpy: every permutation
of small shapes (size-1 axes, merged axes, rows on both sides of MIN_ROW_BYTES) on every
fixed-size dtype, and the cases it leaves to numpy (answered with None)."""

import itertools

import numpy as np
import pytest

from sessionlib._core import layout

DTYPES = [np.float32, np.float64, np.float16, np.int8, np.uint8, np.int16, np.int32,
          np.int64, np.bool_, np.complex64, "S3", "<U2", ">i4"]


def _values(shape, dtype, rng):
    dtype = np.dtype(dtype)
    raw = rng.integers(0, 100, shape)
    if dtype.kind in "SU":
        return raw.astype(str).astype(dtype)
    return raw.astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).str)
def test_transpose_matches_numpy(dtype):
    rng = np.random.default_rng(0)
    copied = 0
    for shape in [(2, 3, 8), (3, 1, 16), (1, 5, 40), (4, 3, 33), (2, 3, 4, 9), (2, 1, 3, 1, 17)]:
        value = _values(shape, dtype, rng)
        for perm in itertools.permutations(range(len(shape))):
            got = layout.transpose(value, list(perm))
            want = np.ascontiguousarray(np.transpose(value, perm))
            if got is None:
                continue
            copied += 1
            assert got.dtype == want.dtype and got.shape == want.shape
            assert got.flags.c_contiguous
            np.testing.assert_array_equal(got, want)
    assert copied > 0


def test_what_it_leaves_to_numpy():
    rng = np.random.default_rng(1)
    matrix = rng.standard_normal((40, 40))
    assert layout.transpose(matrix, [1, 0]) is None                 # the last axis moves
    short = rng.standard_normal((5, 4, 3)).astype(np.float32)
    assert layout.transpose(short, [1, 0, 2]) is None               # 12-byte rows
    strided = rng.standard_normal((6, 5, 16))[::2]
    assert layout.transpose(strided, [1, 0, 2]) is None             # not C-contiguous
    objects = np.empty((3, 4, 40), dtype=object)
    objects[...] = "x"
    assert layout.transpose(objects, [1, 0, 2]) is None             # references
    assert layout.transpose(np.zeros((0, 3, 40)), [1, 0, 2]) is None
    assert layout.transpose(np.zeros(40), [0]) is None
    # Axes that stay in order are one copy.
    same = rng.standard_normal((3, 4, 5))
    assert layout.transpose(same, [0, 1, 2]) is None                 # merged to one axis
