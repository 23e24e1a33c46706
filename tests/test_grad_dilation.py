"""Numeric gradient checks of Dilation2D (its max picks one tap per output; distinct values
keep central differences away from ties)."""

import numpy as np
import pytest

import sessionlib as tf

from _gradient_check import GradCase, case_ids, check_case

RNG = np.random.RandomState(29)


def _distinct(*shape):
    return RNG.permutation(np.prod(shape)).reshape(shape) * 0.37 - 3.0


GRADIENT_CASES = [
    GradCase("Dilation2D",
             lambda x, k: tf.nn.dilation2d(x, k, [1, 1, 1, 1], [1, 1, 1, 1], "SAME"),
             [_distinct(1, 5, 4, 2), _distinct(2, 3, 2) * 0.1], id="Dilation2D-same"),
    GradCase("Dilation2D",
             lambda x, k: tf.nn.dilation2d(x, k, [1, 2, 1, 1], [1, 1, 2, 1], "VALID"),
             [_distinct(2, 6, 6, 1), _distinct(2, 2, 1) * 0.1], id="Dilation2D-strided-valid"),
]


@pytest.mark.parametrize("case", GRADIENT_CASES, ids=case_ids(GRADIENT_CASES))
def test_gradient(case):
    check_case(case)
