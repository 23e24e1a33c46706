"""Numeric gradient checks of the 3-D pooling ops (float64, small shapes): SAME and VALID,
strides, both data formats; AvgPool3DGrad too, whose gradient is AvgPool3D. MaxPool3DGrad is
not differentiable (as the 2-D MaxPoolGrad)."""

import numpy as np
import pytest

import sessionlib as tf
from _gradient_check import GradCase, case_ids, check_case, distinct_values

_RNG = np.random.RandomState(37)


def _r(*shape):
    return _RNG.uniform(-1.0, 1.0, size=shape)


def _avg_pool3d_grad(grad):
    graph = tf.get_default_graph()
    sizes = tf.constant([2, 4, 3, 5, 2], dtype=tf.int32)
    attrs = {"ksize": [1, 2, 3, 2, 1], "strides": [1, 2, 2, 2, 1], "padding": "SAME",
             "data_format": "NDHWC"}
    return graph.create_op("AvgPool3DGrad", [sizes, grad], attrs).outputs[0]


_CONFIGS = [([1, 2, 2, 2, 1], [1, 2, 2, 2, 1], "SAME", "NDHWC", "same-stride2"),
            ([1, 3, 2, 2, 1], [1, 1, 2, 3, 1], "VALID", "NDHWC", "valid-strides"),
            ([1, 2, 3, 2, 1], [1, 1, 1, 1, 1], "SAME", "NDHWC", "same-overlap"),
            ([1, 1, 2, 2, 3], [1, 1, 1, 2, 2], "SAME", "NCDHW", "same-ncdhw")]

GRADIENT_CASES = (
    [GradCase("MaxPool3D", lambda x, k=k, s=s, p=p, f=f: tf.nn.max_pool3d(x, k, s, p, f),
              [distinct_values(_RNG, 2, 4, 3, 5, 2)], delta=1e-4, id=f"MaxPool3D-{name}")
     for k, s, p, f, name in _CONFIGS]
    + [GradCase("AvgPool3D", lambda x, k=k, s=s, p=p, f=f: tf.nn.avg_pool3d(x, k, s, p, f),
                [_r(2, 4, 3, 5, 2)], id=f"AvgPool3D-{name}")
       for k, s, p, f, name in _CONFIGS]
    + [GradCase("AvgPool3DGrad", _avg_pool3d_grad, [_r(2, 2, 2, 3, 2)],
                id="AvgPool3DGrad-same-stride2")]
)


@pytest.mark.parametrize("case", GRADIENT_CASES, ids=case_ids(GRADIENT_CASES))
def test_gradient(case):
    check_case(case)
