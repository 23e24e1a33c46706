"""BiasAddGrad's Cython kernel (``_core/nn_model.bias_add_grad_kernel``) against its numpy
reference: bit for bit, since both add the rows in the same order."""

import numpy as np
import pytest

from sessionlib import errors
from sessionlib.runtime import kernel_table


def _both(backprop, data_format="NHWC"):
    found = kernel_table.lookup("BiasAddGrad")
    attrs = {"data_format": data_format, "_name": "bias_grad"}
    return found.fast(None, (backprop,), attrs)[0], found.reference(None, (backprop,), attrs)[0]


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int32, np.int64])
@pytest.mark.parametrize("shape", [(128, 512), (5, 3, 33), (2, 3, 4, 70), (2, 31), (9, 2),
                                   (1, 40), (300, 1), (0, 5), (4, 0)])
def test_bias_add_grad_fast_matches_reference_exactly(dtype, shape):
    rng = np.random.RandomState(3)
    # Values of mixed magnitudes, so that another summation order would round differently.
    backprop = np.asarray(rng.standard_normal(shape) * 10.0 ** rng.randint(-3, 4, shape))
    backprop = backprop.astype(dtype)
    backprop.flags.writeable = False
    got, want = _both(backprop)
    assert got.dtype == want.dtype == np.dtype(dtype) and got.shape == want.shape
    np.testing.assert_array_equal(got, want)
    if backprop.size and dtype in (np.float32, np.float64):
        exact = backprop.astype(np.float64).sum(axis=tuple(range(backprop.ndim - 1)))
        np.testing.assert_allclose(got, exact, rtol=1e-4, atol=1e-2)


def test_bias_add_grad_of_a_strided_view_and_nchw_match_the_reference():
    wide = np.random.RandomState(4).standard_normal((64, 96)).astype(np.float32)
    for backprop, data_format in [(wide[:, ::2], "NHWC"), (wide[:, 10:80], "NHWC"),
                                  (wide.reshape(4, 8, 192), "NCHW")]:
        got, want = _both(backprop, data_format)
        np.testing.assert_array_equal(got, want)


def test_bias_add_grad_keeps_nan_and_inf():
    backprop = np.ones((6, 40), np.float32)
    backprop[2, 0], backprop[3, 1], backprop[4, 1] = np.nan, np.inf, -np.inf
    backprop[1, 39] = np.inf
    with np.errstate(invalid="ignore"):     # the reference's inf + -inf
        got, want = _both(backprop)
    np.testing.assert_array_equal(got, want)
    assert np.isnan(got[0]) and np.isnan(got[1]) and got[39] == np.inf and got[2] == 6


def test_bias_add_grad_of_a_vector_raises():
    with pytest.raises(errors.InvalidArgumentError, match="at least 2D"):
        _both(np.ones(5, np.float32))
