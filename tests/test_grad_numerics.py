"""Numeric gradient checks of the numerics ops (CheckNumerics)."""

import numpy as np
import pytest

import sessionlib as tf
from _gradient_check import GradCase, case_ids, check_case

GRADIENT_CASES = [
    GradCase("CheckNumerics", lambda x: tf.check_numerics(x * x, "x squared"),
             [np.array([[0.5, -1.5], [2.0, 0.25]])], delta=1e-6, tolerance=1e-6),
]


@pytest.mark.parametrize("case", GRADIENT_CASES, ids=case_ids(GRADIENT_CASES))
def test_gradient(case):
    check_case(case)
