"""Numeric gradient checks of CropAndResize: with respect to the image (both methods) and to
the boxes (bilinear; TF defines no nearest-neighbour box gradient beyond the bilinear one)."""

import numpy as np
import pytest

import sessionlib as tf

from _gradient_check import GradCase, case_ids, check_case

RNG = np.random.RandomState(29)
IMAGE = RNG.uniform(-2, 2, size=(2, 5, 6, 2))
# Corners whose samples stay off the pixel grid under a small step (the bilinear crop is
# linear in each corner between grid crossings); one box is flipped, one pokes outside.
BOXES = np.array([[0.13, 0.21, 0.77, 0.86], [0.91, 0.67, 0.07, 0.11],
                  [-0.18, 0.33, 1.16, 0.62]])
BOX_INDEX = np.array([0, 1, 1], np.int32)


def _crop(method, crop_size):
    def build(image, boxes):
        return tf.image.crop_and_resize(image, tf.cast(boxes, tf.float32), BOX_INDEX,
                                        crop_size, method=method, extrapolation_value=0.5)

    return build


# The op computes in float32: it is linear in the image, and piecewise linear in each corner,
# so a wide step keeps float32 rounding out of the differences.
GRADIENT_CASES = [
    GradCase("CropAndResize", _crop("bilinear", [4, 3]), [IMAGE, BOXES], delta=1e-3,
             tolerance=2e-3, id="CropAndResize-bilinear"),
    GradCase("CropAndResize", _crop("bilinear", [1, 1]), [IMAGE, BOXES], delta=1e-3,
             tolerance=2e-3, id="CropAndResize-bilinear-one-sample"),
    GradCase("CropAndResize", _crop("nearest", [3, 4]), [IMAGE, BOXES], wrt=[0], delta=1e-2,
             tolerance=1e-4, id="CropAndResize-nearest-image"),
]


@pytest.mark.parametrize("case", GRADIENT_CASES, ids=case_ids(GRADIENT_CASES))
def test_gradient(case):
    check_case(case)
