"""Parity cases (see test_parity.py) of the image resize ops: both mappings (TF 1's corners,
aligned corners, half-pixel centers), up- and down-sampling, every dtype each op takes."""

import sessionlib as tf

FLOATS = (tf.float16, tf.float32, tf.float64)
REAL = FLOATS + (tf.int8, tf.int16, tf.int32, tf.int64, tf.uint8)
NEAREST_GRAD = FLOATS + (tf.int8, tf.int32, tf.uint8)
MAPPINGS = ({"align_corners": False, "half_pixel_centers": False},
            {"align_corners": True, "half_pixel_centers": False},
            {"align_corners": False, "half_pixel_centers": True})
SIZES = ([7, 9], [2, 3], [1, 1])


def _op(op_type, inputs, attrs):
    return list(tf.get_default_graph().create_op(op_type, inputs, attrs).outputs)


def _resize(op_type):
    def build(f, d):
        images = f((2, 4, 5, 3), d)
        return [out for size in SIZES for attrs in MAPPINGS
                for out in _op(op_type, [images, tf.constant(size)], attrs)]

    return build


def _resize_bilinear_grad(f, d):
    original = f((2, 4, 5, 3), d)
    return [out for size in SIZES for attrs in MAPPINGS
            for out in _op("ResizeBilinearGrad", [f((2, *size, 3), tf.float32), original],
                           attrs)]


def _resize_nearest_grad(f, d):
    return [out for size in SIZES for attrs in MAPPINGS
            for out in _op("ResizeNearestNeighborGrad",
                           [f((2, *size, 3), d), tf.constant([4, 5])], attrs)]


def add_cases(case):
    """Adds this family's cases through test_parity's `case(op_type, dtypes, build)`."""
    case("ResizeBilinear", REAL, _resize("ResizeBilinear"))
    case("ResizeNearestNeighbor", REAL, _resize("ResizeNearestNeighbor"))
    case("ResizeBilinearGrad", FLOATS, _resize_bilinear_grad)
    case("ResizeNearestNeighborGrad", NEAREST_GRAD, _resize_nearest_grad)
