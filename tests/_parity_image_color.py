"""Parity cases (see test_parity.py) of the color-space ops (RGBToHSV, HSVToRGB, AdjustHue,
AdjustSaturation, AdjustContrastv2) and the PNG codec (DecodePng, DecodeImage, EncodePng)."""

import pathlib

import numpy as np

import sessionlib as tf

FLOATS = (tf.float16, tf.float32, tf.float64)
ADJUST_FLOATS = (tf.float16, tf.float32)
PNG_DIR = pathlib.Path(__file__).parent / "data" / "png"


def _op(op_type, inputs, attrs=None):
    return tf.get_default_graph().create_op(op_type, inputs, attrs or {}).outputs[0]


def _color(op_type):
    def build(f, d):
        # Values in [0, 1], with gray, black and white pixels among them.
        images = f((2, 5, 3), d, low=0, high=1)
        edges = tf.constant(np.array([[0, 0, 0], [1, 1, 1], [0.5, 0.5, 0.5], [1, 0, 0]],
                                     dtype=d.as_numpy_dtype))
        return [_op(op_type, [images]), _op(op_type, [edges])]

    return build


def _adjust(op_type, factors):
    def build(f, d):
        images = f((2, 4, 3), d, low=0, high=1)
        return [_op(op_type, [images, tf.constant(factor, tf.float32)]) for factor in factors]

    return build


def _png_files():
    return [(PNG_DIR / f"{name}.png").read_bytes() for name in ("gray8", "rgba8", "rgb16")]


def _decode(op_type):
    def build(f, d):
        attrs = {"dtype": d} if op_type == "DecodePng" else {"dtype": d,
                                                             "expand_animations": False}
        return [_op(op_type, [tf.constant(data)], dict(attrs, channels=channels))
                for data in _png_files() for channels in (0, 1, 3, 4)]

    return build


def _encode(f, d):
    images = [f((3, 4, channels), d, low=0, high=255) for channels in (1, 2, 3, 4)]
    return [_op("EncodePng", [image], {"compression": level})
            for image in images for level in (-1, 0, 9)]


def add_cases(case):
    """Adds this family's cases through test_parity's `case(op_type, dtypes, build)`."""
    case("RGBToHSV", FLOATS, _color("RGBToHSV"))
    case("HSVToRGB", FLOATS, _color("HSVToRGB"))
    case("AdjustHue", ADJUST_FLOATS, _adjust("AdjustHue", (0.3, -0.9, 1.0)))
    case("AdjustSaturation", ADJUST_FLOATS, _adjust("AdjustSaturation", (0.0, 0.4, 3.0)))
    case("AdjustContrastv2", ADJUST_FLOATS, _adjust("AdjustContrastv2", (0.0, 0.4, 3.0)))
    case("DecodePng", (tf.uint8,), _decode("DecodePng"))
    case("DecodeImage", (tf.uint8,), _decode("DecodeImage"))
    case("EncodePng", (tf.uint8,), _encode)
