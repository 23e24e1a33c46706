"""Parity cases (see test_parity.py) of the image box ops: non-max suppression (V1 to V5),
crop_and_resize and its gradients under both methods, the crop sampler and box drawing."""

import numpy as np

import sessionlib as tf

CROP_IMAGE = (tf.float16, tf.float32, tf.float64, tf.int8, tf.int16, tf.int32, tf.int64,
              tf.uint8)
BOXES = np.array([[0.1, 0.2, 0.8, 0.9], [0.9, 0.7, 0.05, 0.1], [-0.2, -0.3, 1.2, 1.1],
                  [0.3, 0.3, 0.3, 0.6]], np.float32)
BOX_INDEX = np.array([0, 1, 1, 0], np.int32)
CROP_SIZES = ([3, 2], [1, 1])


def _op(op_type, inputs, attrs=None):
    return list(tf.get_default_graph().create_op(op_type, inputs, attrs).outputs)


def _nms(op_type):
    def build(f, d):
        boxes = tf.cast(f((30, 4), tf.float32, low=0, high=1), d)
        scores = tf.cast(f((30,), tf.int32, low=0, high=4), d)  # many ties
        limit = tf.constant(20)
        outs = []
        for threshold in (0.0, 0.3, 0.7):
            extra = [tf.constant(threshold, d)] if op_type != "NonMaxSuppression" else []
            if op_type == "NonMaxSuppressionV3":
                extra.append(tf.constant(1.0, d))
            attrs = {"iou_threshold": threshold} if op_type == "NonMaxSuppression" else None
            outs += _op(op_type, [boxes, scores, limit] + extra, attrs)
        return outs

    return build


def _padded_nms(op_type):
    def build(f, d):
        boxes = tf.cast(f((30, 4), tf.float32, low=0, high=1), d)
        scores = tf.cast(f((30,), tf.int32, low=0, high=4), d) / tf.constant(4, d)
        outs = []
        for pad in (False, True):
            for threshold, sigma in ((0.3, 0.0), (0.5, 0.5)):
                extra = [tf.constant(threshold, d), tf.constant(0.1, d)]
                if op_type == "NonMaxSuppressionV5":
                    extra.append(tf.constant(sigma, d))
                outs += _op(op_type, [boxes, scores, tf.constant(20)] + extra,
                            {"pad_to_max_output_size": pad})
        return outs

    return build


def _crop(f, d):
    image = f((2, 5, 6, 3), d)
    return [out for size in CROP_SIZES for method in ("bilinear", "nearest")
            for out in _op("CropAndResize", [image, tf.constant(BOXES), tf.constant(BOX_INDEX),
                                             tf.constant(size)],
                           {"method": method, "extrapolation_value": -1.5})]


def _crop_grad_image(f, d):
    return [out for size in CROP_SIZES for method in ("bilinear", "nearest")
            for out in _op("CropAndResizeGradImage",
                           [f((4, *size, 3), tf.float32), tf.constant(BOXES),
                            tf.constant(BOX_INDEX), tf.constant([2, 5, 6, 3])],
                           {"T": d, "method": method})]


def _crop_grad_boxes(f, d):
    image = f((2, 5, 6, 3), d)
    return [out for size in CROP_SIZES
            for out in _op("CropAndResizeGradBoxes",
                           [f((4, *size, 3), tf.float32), image, tf.constant(BOXES),
                            tf.constant(BOX_INDEX)], {"method": "bilinear"})]


def _sample_box(f, d):
    boxes = tf.constant([[[0.1, 0.2, 0.6, 0.7], [0.5, 0.5, 0.9, 0.8]]])
    begin, size, box = tf.image.sample_distorted_bounding_box(
        tf.constant([480, 640, 3], d), boxes, seed=3, seed2=4, min_object_covered=0.3)
    return [box, begin, size]


def _draw(f, d):
    boxes = tf.constant([[[0, 0, 1, 1], [0.2, 0.1, 0.7, 0.6], [-0.3, 0.5, 0.4, 1.4]],
                         [[0.5, 0.5, 0.2, 0.9], [0.1, 0.3, 0.6, 0.5], [2, 0, 3, 1]]])
    outs = []
    for depth in (1, 3, 4):
        images = f((2, 7, 9, depth), d)
        outs += _op("DrawBoundingBoxes", [images, boxes])
        outs += _op("DrawBoundingBoxesV2", [images, boxes, tf.constant([[0.1, 0.2, 0.3, 0.4]])])
    return outs


def add_cases(case):
    """Adds this family's cases through test_parity's `case(op_type, dtypes, build)`."""
    for op_type in ("NonMaxSuppression", "NonMaxSuppressionV2", "NonMaxSuppressionV3"):
        case(op_type, (tf.float32,) if op_type == "NonMaxSuppression"
             else (tf.float16, tf.float32), _nms(op_type))
    for op_type in ("NonMaxSuppressionV4", "NonMaxSuppressionV5"):
        case(op_type, (tf.float16, tf.float32), _padded_nms(op_type))
    case("CropAndResize", CROP_IMAGE, _crop)
    case("CropAndResizeGradImage", (tf.float16, tf.float32, tf.float64), _crop_grad_image)
    case("CropAndResizeGradBoxes", CROP_IMAGE, _crop_grad_boxes)
    case("SampleDistortedBoundingBoxV2", (tf.int32, tf.int64, tf.int16), _sample_box)
    case("DrawBoundingBoxes", (tf.float16, tf.float32), _draw)
    case("DrawBoundingBoxesV2", (tf.float16, tf.float32), _draw)
