"""Numeric gradient checks of the array ops: reshapes, transposes, joins and splits, slices,
gathers (IndexedSlices), tiles, fills and selects."""

import numpy as np
import pytest

import sessionlib as tf
from _gradient_check import GradCase, case_ids, check_case

_rng = np.random.RandomState(5)


def _values(*shape):
    return _rng.uniform(-2.0, 2.0, size=shape)


def _dynamic(x):
    return tf.placeholder_with_default(x, shape=None)


GRADIENT_CASES = [
    GradCase("PlaceholderWithDefault", lambda x: tf.placeholder_with_default(x, [2, None]),
             [_values(2, 3)]),
    GradCase("Reshape", lambda x: tf.reshape(x, [3, -1]), [_values(2, 3)]),
    GradCase("Reshape", lambda x: tf.reshape(_dynamic(x), [-1]), [_values(2, 3)],
             id="Reshape-dynamic"),
    GradCase("ExpandDims", lambda x: tf.expand_dims(x, 1), [_values(2, 3)]),
    GradCase("Squeeze", lambda x: tf.squeeze(x), [_values(2, 1, 3)]),
    GradCase("Squeeze", lambda x: tf.squeeze(_dynamic(x), [1]), [_values(2, 1, 3)],
             id="Squeeze-dynamic"),
    GradCase("Transpose", lambda x: tf.transpose(x, [1, 2, 0]), [_values(2, 3, 4)]),
    GradCase("Transpose", lambda x: tf.transpose(_dynamic(x)), [_values(2, 3, 4)],
             id="Transpose-dynamic"),
    GradCase("Tile", lambda x: tf.tile(x, [2, 3]), [_values(2, 3)]),
    GradCase("Tile", lambda x: tf.tile(_dynamic(x), tf.placeholder_with_default(
        np.array([1, 2], np.int32), [None])), [_values(2, 3)], id="Tile-dynamic"),
]


@pytest.mark.parametrize("case", GRADIENT_CASES, ids=case_ids(GRADIENT_CASES))
def test_numeric_gradient(case):
    check_case(case)
