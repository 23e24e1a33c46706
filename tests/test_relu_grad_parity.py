"""ReluGrad's Cython kernel (``_core/nn_model.relu_grad``) against its numpy reference."""

import numpy as np
import pytest

from sessionlib import errors
from sessionlib.runtime import kernel_table


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int32, np.int64])
@pytest.mark.parametrize("shape", [(), (0, 3), (7,), (128, 256), (70000,)])
def test_relu_grad_fast_matches_reference(dtype, shape):
    found = kernel_table.lookup("ReluGrad")
    rng = np.random.RandomState(1)
    gradients = np.asarray(rng.uniform(-5, 5, shape) * 10).astype(dtype)
    features = np.asarray(rng.uniform(-5, 5, shape)).astype(dtype)
    if np.issubdtype(dtype, np.floating) and gradients.size > 3:
        # Non-finite gradients where the feature is <= 0 still give 0, as in TF.
        features.reshape(-1)[:3] = [0, -1, -1]
        gradients.reshape(-1)[:3] = [np.nan, np.inf, 1]
    gradients.flags.writeable = False
    features.flags.writeable = False
    got = found.fast(gradients, features)
    want = found.reference(gradients, features)
    assert got.dtype == want.dtype == np.dtype(dtype) and got.shape == want.shape == shape
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(want, np.where(features > 0, gradients, 0))


def test_relu_grad_shapes_must_match():
    fast = kernel_table.lookup("ReluGrad").fast
    with pytest.raises(errors.InvalidArgumentError, match="must have the same shape"):
        fast(np.ones((2, 3), np.float32), np.ones((3, 2), np.float32))
