"""Parity cases (see test_parity.py) of the JPEG codec: DecodeJpeg, DecodeAndCropJpeg,
ExtractJpegShape, EncodeJpeg and EncodeJpegVariableQuality. Their kernels need Pillow; without
it the cases skip."""

import pathlib

import pytest

import sessionlib as tf

JPEG_DIR = pathlib.Path(__file__).parent / "data" / "jpeg"


def _op(op_type, inputs, attrs=None):
    return tf.get_default_graph().create_op(op_type, inputs, attrs or {}).outputs[0]


def _jpeg_files():
    pytest.importorskip("PIL")
    return [(JPEG_DIR / f"{name}.jpg").read_bytes() for name in ("rgb", "odd", "gray")]


def _decode(f, d):
    return [_op("DecodeJpeg", [tf.constant(data)],
                {"channels": channels, "ratio": ratio, "dct_method": dct})
            for data in _jpeg_files() for channels in (0, 1, 3) for ratio in (1, 2)
            for dct in ("", "INTEGER_ACCURATE")]


def _decode_and_crop(f, d):
    return [_op("DecodeAndCropJpeg", [tf.constant(data), tf.constant([1, 2, 5, 7])],
                {"channels": channels})
            for data in _jpeg_files() for channels in (0, 3)]


def _extract_shape(f, d):
    return [_op("ExtractJpegShape", [tf.constant(data)], {"output_type": d})
            for data in _jpeg_files()]


def _encode(f, d):
    pytest.importorskip("PIL")
    images = [f((9, 7, channels), d, low=0, high=255) for channels in (1, 3)]
    return [_op("EncodeJpeg", [image], {"quality": quality, "chroma_downsampling": sub})
            for image in images for quality in (10, 95) for sub in (True, False)]


def _encode_variable_quality(f, d):
    pytest.importorskip("PIL")
    image = f((6, 10, 3), d, low=0, high=255)
    return [_op("EncodeJpegVariableQuality", [image, tf.constant(quality)])
            for quality in (0, 50, 100)]


def add_cases(case):
    """Adds this family's cases through test_parity's `case(op_type, dtypes, build)`."""
    case("DecodeJpeg", (tf.uint8,), _decode)
    case("DecodeAndCropJpeg", (tf.uint8,), _decode_and_crop)
    case("ExtractJpegShape", (tf.int32, tf.int64), _extract_shape)
    case("EncodeJpeg", (tf.uint8,), _encode)
    case("EncodeJpegVariableQuality", (tf.uint8,), _encode_variable_quality)
