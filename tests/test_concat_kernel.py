"""ConcatV2's Cython kernel (``_core/arrays.concat``) against its numpy reference: the same
bytes, shape and dtype for every layout it takes, and the reference's errors for the rest."""

import numpy as np
import pytest

from sessionlib import errors
from sessionlib.runtime import kernel_table


def _both(values, axis, axis_dtype=np.int32):
    found = kernel_table.lookup("ConcatV2")
    inputs = tuple(values) + (np.array(axis, axis_dtype),)
    return (found.fast(None, inputs, {"_name": "concat"})[0],
            found.reference(None, inputs, {"_name": "concat"})[0])


def _assert_same(got, want):
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int8, np.int64,
                                   np.uint8, np.bool_, np.complex64, "S3"])
@pytest.mark.parametrize("shapes, axis", [
    ([(128, 128)] * 4, 1),                  # an LSTM's gate gradients
    ([(128, 28), (128, 128)], -1),          # its input and state
    ([(2, 3, 4), (2, 5, 4), (2, 1, 4)], 1),
    ([(2, 3, 4), (1, 3, 4)], 0),
    ([(2, 3, 4), (2, 3, 6)], -1),
    ([(5,), (0,), (7,)], 0),
    ([(3, 0), (3, 2)], 1),
    ([(0, 4), (0, 4)], 1),
    ([(6, 2)], 0),
])
def test_concat_fast_matches_reference(dtype, shapes, axis):
    rng = np.random.RandomState(7)
    values = []
    for shape in shapes:
        value = np.asarray(rng.uniform(-50, 50, shape)).astype(dtype)
        value.flags.writeable = False
        values.append(value)
    got, want = _both(values, axis)
    _assert_same(got, want)
    assert got.flags.c_contiguous and got.flags.writeable


def test_other_layouts_and_types_take_the_reference_path():
    rng = np.random.RandomState(8)
    matrix = rng.standard_normal((6, 10)).astype(np.float32)
    cases = [
        ([matrix[:, :4], matrix[:, 4:]], 1),                     # column slices
        ([matrix.T, matrix.T], 0),                               # Fortran order
        ([matrix.astype(">f4"), matrix.astype(">f4")], 1),       # byte-swapped
        ([np.array(["a", "bc"], object), np.array(["d"], object)], 0),
        ([matrix, matrix], np.int64(1)),
    ]
    for values, axis in cases:
        got, want = _both(values, axis, np.int64)
        _assert_same(got, want)
    got, want = _both([np.ones((2, 2), "S2"), np.ones((2, 1), "S3")], 1)
    _assert_same(got, want)


@pytest.mark.parametrize("values, axis, message", [
    ([np.ones((2, 3)), np.ones((3, 3))], 1, "Dimension mismatch in input 1"),
    ([np.ones((2, 3)), np.ones((2, 3, 1))], 0, "Dimension mismatch in input 1"),
    ([np.ones((2, 3)), np.ones((2, 3))], 2, "Expected concatenating dimensions"),
    ([np.ones((2, 3)), np.ones((2, 3))], -3, "Expected concatenating dimensions"),
    ([np.array(1.0), np.array(2.0)], 0, "Expected concatenating dimensions"),
])
def test_concat_errors_are_the_reference_errors(values, axis, message):
    found = kernel_table.lookup("ConcatV2")
    inputs = tuple(values) + (np.array(axis, np.int32),)
    for kernel in (found.fast, found.reference):
        with pytest.raises(errors.InvalidArgumentError, match=message):
            kernel(None, inputs, {"_name": "concat"})
