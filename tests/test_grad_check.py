"""Numeric gradient checks of the pass-through ops of ``ops/check_ops.py``: ``IdentityN`` (each
output's gradient to its input) and ``Print`` (the gradient passes to input 0 only)."""

import numpy as np
import pytest

import sessionlib as tf
from _gradient_check import GradCase, case_ids, check_case


def _identity_n(x, y):
    a, b = tf.identity_n([x * x, y])
    return [a * 3.0, tf.sin(b)]


def _print(x, y):
    return tf.Print(x * x, [y, tf.constant("printed")], message="grad check: ") * y


GRADIENT_CASES = [
    GradCase("IdentityN", _identity_n, [np.array([[0.5, -1.5], [2.0, 0.25]]),
                                        np.array([0.3, -0.7, 1.1])]),
    GradCase("Print", _print, [np.array([0.5, -1.5, 2.0]), np.array([1.5, 0.25, -2.0])]),
]


@pytest.mark.parametrize("case", GRADIENT_CASES, ids=case_ids(GRADIENT_CASES))
def test_gradient(case):
    check_case(case)
