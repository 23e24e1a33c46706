"""Numeric gradient checks of ResizeBicubic and ResizeBicubicGrad (whose gradient is the
forward resize) under each mapping. ResizeArea has no gradient, as in TF."""

import numpy as np
import pytest

import sessionlib as tf

from _gradient_check import GradCase, case_ids, check_case

RNG = np.random.RandomState(23)


def _floats(*shape):
    return RNG.uniform(-2, 2, size=shape)


def _op(op_type, inputs, **attrs):
    return tf.get_default_graph().create_op(op_type, inputs, attrs).outputs[0]


# The resizes compute in float32 whatever the input; they are linear, so a wide step costs no
# accuracy and keeps float32 rounding out of the differences.
GRADIENT_CASES = [
    GradCase("ResizeBicubic", lambda x: tf.image.resize_bicubic(x, [7, 6]),
             [_floats(1, 4, 5, 2)], id="ResizeBicubic-up", delta=0.5, tolerance=1e-3),
    GradCase("ResizeBicubic", lambda x: tf.image.resize_bicubic(x, [2, 3], align_corners=True),
             [_floats(1, 4, 5, 2)], id="ResizeBicubic-align-corners-down", delta=1e-2,
             tolerance=1e-4),
    GradCase("ResizeBicubic",
             lambda x: tf.image.resize_bicubic(x, [6, 3], half_pixel_centers=True),
             [_floats(1, 3, 4, 1)], id="ResizeBicubic-half-pixel", delta=1e-2, tolerance=1e-4),
    GradCase("ResizeBicubicGrad",
             lambda g, x: _op("ResizeBicubicGrad", [tf.cast(g, tf.float32), x],
                              align_corners=False, half_pixel_centers=True),
             [_floats(2, 5, 7, 2), _floats(2, 3, 4, 2)], wrt=[0], delta=1e-2,
             tolerance=1e-4),
]


@pytest.mark.parametrize("case", GRADIENT_CASES, ids=case_ids(GRADIENT_CASES))
def test_gradient(case):
    check_case(case)
