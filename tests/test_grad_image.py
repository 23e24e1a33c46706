"""Numeric gradient checks of the image ops: ResizeBilinear, ResizeNearestNeighbor and their
gradient ops (whose own gradients are the forward resizes), under each mapping; RGBToHSV."""

import numpy as np
import pytest

import sessionlib as tf

from _gradient_check import GradCase, case_ids, check_case

RNG = np.random.RandomState(17)


def _floats(*shape):
    return RNG.uniform(-2, 2, size=shape)


def _op(op_type, inputs, **attrs):
    return tf.get_default_graph().create_op(op_type, inputs, attrs).outputs[0]


# ResizeBilinear computes in float32 whatever the input: it is linear, so a wide step costs
# no accuracy and keeps float32 rounding out of the differences.
GRADIENT_CASES = [
    GradCase("ResizeBilinear", lambda x: tf.image.resize_bilinear(x, [5, 7]),
             [_floats(2, 3, 4, 2)], delta=1e-2, tolerance=1e-4),
    GradCase("ResizeBilinear", lambda x: tf.image.resize_bilinear(x, [2, 3],
                                                                  align_corners=True),
             [_floats(1, 4, 5, 2)], id="ResizeBilinear-align-corners-down", delta=1e-2,
             tolerance=1e-4),
    GradCase("ResizeBilinear", lambda x: tf.image.resize_bilinear(x, [6, 3],
                                                                  half_pixel_centers=True),
             [_floats(1, 3, 4, 1)], id="ResizeBilinear-half-pixel", delta=1e-2, tolerance=1e-4),
    GradCase("ResizeNearestNeighbor", lambda x: tf.image.resize_nearest_neighbor(x, [5, 7]),
             [_floats(2, 3, 4, 2)]),
    GradCase("ResizeNearestNeighbor",
             lambda x: tf.image.resize_nearest_neighbor(x, [2, 3], align_corners=True),
             [_floats(1, 4, 5, 2)], id="ResizeNearestNeighbor-align-corners-down"),
    GradCase("ResizeBilinearGrad",
             lambda g, x: _op("ResizeBilinearGrad", [tf.cast(g, tf.float32), x],
                              align_corners=False, half_pixel_centers=False),
             [_floats(2, 5, 7, 2), _floats(2, 3, 4, 2)], wrt=[0], delta=1e-2,
             tolerance=1e-4),
    GradCase("ResizeNearestNeighborGrad",
             lambda g: _op("ResizeNearestNeighborGrad", [g, tf.constant([3, 4])],
                           align_corners=False, half_pixel_centers=True),
             [_floats(2, 5, 7, 2)]),
]



def _distinct_colors(count):
    """RGB pixels in (0.05, 0.95) whose channels differ by at least 0.1: away from the ties
    where the HSV formulas switch branches, so central differences stay on one branch."""
    pixels = []
    while len(pixels) < count:
        pixel = RNG.uniform(0.05, 0.95, size=3)
        gaps = np.abs(pixel[:, None] - pixel[None, :])[np.triu_indices(3, 1)]
        if gaps.min() >= 0.1:
            pixels.append(pixel)
    return np.array(pixels)


GRADIENT_CASES.append(
    GradCase("RGBToHSV", tf.image.rgb_to_hsv, [_distinct_colors(12).reshape(3, 4, 3)]))


@pytest.mark.parametrize("case", GRADIENT_CASES, ids=case_ids(GRADIENT_CASES))
def test_gradient(case):
    check_case(case)
