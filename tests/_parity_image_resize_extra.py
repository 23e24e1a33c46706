"""Parity cases (see test_parity.py) of ResizeBicubic, ResizeBicubicGrad and ResizeArea: each
mapping, up- and down-sampling, every dtype each op takes."""

import sessionlib as tf

from _parity_image import FLOATS, MAPPINGS, REAL, SIZES, _op, _resize


def _resize_area(f, d):
    images = f((2, 4, 5, 3), d)
    return [out for size in SIZES for align_corners in (False, True)
            for out in _op("ResizeArea", [images, tf.constant(size)],
                           {"align_corners": align_corners})]


def _resize_bicubic_grad(f, d):
    original = f((2, 4, 5, 3), d)
    return [out for size in SIZES for attrs in MAPPINGS
            for out in _op("ResizeBicubicGrad", [f((2, *size, 3), tf.float32), original],
                           attrs)]


def add_cases(case):
    """Adds this family's cases through test_parity's `case(op_type, dtypes, build)`."""
    case("ResizeBicubic", REAL, _resize("ResizeBicubic"))
    case("ResizeBicubicGrad", FLOATS, _resize_bicubic_grad)
    case("ResizeArea", REAL, _resize_area)
