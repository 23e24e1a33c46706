"""Numeric gradient checks of TF 1's FusedBatchNorm (V1), which frozen graphs of that era hold."""

import numpy as np
import pytest

import sessionlib as tf
from _gradient_check import GradCase, case_ids, check_case

_RNG = np.random.RandomState(7)


def _v1(is_training):
    def build(x, scale, offset, mean, variance):
        op = tf.get_default_graph().create_op(
            "FusedBatchNorm", [x, scale, offset, mean, variance],
            {"epsilon": 1e-3, "is_training": is_training})
        return op.outputs[0]

    return build


GRADIENT_CASES = [
    GradCase("FusedBatchNorm", _v1(True),
             [_RNG.normal(0, 2, (2, 2, 3, 3)), _RNG.uniform(0.5, 1.5, 3),
              _RNG.uniform(-1, 1, 3), np.zeros(0), np.zeros(0)], wrt=[0, 1, 2],
             delta=1e-5, tolerance=1e-5, id="FusedBatchNorm-training"),
    GradCase("FusedBatchNorm", _v1(False),
             [_RNG.normal(0, 2, (2, 2, 2, 3)), _RNG.uniform(0.5, 1.5, 3),
              _RNG.uniform(-1, 1, 3), _RNG.uniform(-1, 1, 3), _RNG.uniform(0.5, 2, 3)],
             wrt=[0, 1, 2], id="FusedBatchNorm-inference"),
]


@pytest.mark.parametrize("case", GRADIENT_CASES, ids=case_ids(GRADIENT_CASES))
def test_gradient(case):
    check_case(case)
