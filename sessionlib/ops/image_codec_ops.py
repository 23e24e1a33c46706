"""PNG images: ``DecodePng``, ``EncodePng`` and ``DecodeImage`` (PNG; JPEG too, whose own ops
are in ``image_jpeg_ops.py``), with TF 1's
``tf.image.decode_png``, ``encode_png`` and ``decode_image`` over them.

The kernels (``runtime/kernels/image_codec_kernels.py``) are written with Python's ``zlib``
and numpy: every PNG color type (gray, gray + alpha, RGB, RGBA, palette) at 8 and 16 bits
(and gray and palette at 1, 2 and 4 bits) decodes, interlaced (Adam7) or not. sessionlib
has no uint16 dtype, so 16-bit images decode to uint8 by their high byte, as TF's
``dtype=tf.uint8`` does. None of these ops is differentiable (as in TF: they read and write
bytes).
"""

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework import registry
from sessionlib.framework.tensor_shape import TensorShape
from sessionlib.ops import _infer
from sessionlib.ops.image_ops import convert_image_dtype

__all__ = ["decode_png", "encode_png", "decode_image"]

_PIXEL_DTYPES = (dtypes.uint8,)


def contents_scalar(op_type, contents):
    _infer.check_dtype(op_type, contents, (dtypes.string,), "contents")
    if contents.shape.rank not in (None, 0):
        raise ValueError(f"Shape must be rank 0 but is rank {contents.shape.rank} for "
                         f"'{op_type}' (contents)")


def _pixel_dtype(op_type, attrs):
    dtype = dtypes.as_dtype(attrs.get("dtype", dtypes.uint8))
    if dtype not in _PIXEL_DTYPES:
        raise TypeError(f"Value for attr 'dtype' of {dtype.name} is not in the list of allowed "
                        f"values: uint8 (op {op_type}; sessionlib has no uint16)")
    attrs["dtype"] = dtype
    return dtype


def _channels(op_type, attrs):
    channels = int(attrs.get("channels", 0))
    attrs["channels"] = channels
    return channels or None


def _decode_png_infer(inputs, attrs):
    (contents,) = inputs
    contents_scalar("DecodePng", contents)
    dtype = _pixel_dtype("DecodePng", attrs)
    return [(dtype, TensorShape([None, None, _channels("DecodePng", attrs)]))]


def _decode_image_infer(inputs, attrs):
    (contents,) = inputs
    contents_scalar("DecodeImage", contents)
    dtype = _pixel_dtype("DecodeImage", attrs)
    channels = _channels("DecodeImage", attrs)
    attrs["expand_animations"] = bool(attrs.get("expand_animations", True))
    # With animations expanded TF's DecodeImage may return a 4-D batch of GIF frames.
    if attrs["expand_animations"]:
        return [(dtype, TensorShape(None))]
    return [(dtype, TensorShape([None, None, channels]))]


def _encode_png_infer(inputs, attrs):
    (image,) = inputs
    _infer.check_dtype("EncodePng", image, _PIXEL_DTYPES, "image")
    if image.shape.rank not in (None, 3):
        raise ValueError(f"Shape must be rank 3 but is rank {image.shape.rank} for "
                         "'EncodePng' (image)")
    attrs["compression"] = int(attrs.get("compression", -1))
    attrs["T"] = image.dtype
    return [(dtypes.string, TensorShape([]))]


registry.register_op("DecodePng", infer=_decode_png_infer, num_inputs=1,
                     gradient=registry.NOT_DIFFERENTIABLE,
                     doc="A PNG-encoded string decoded to a [height, width, channels] image.")
registry.register_op("DecodeImage", infer=_decode_image_infer, num_inputs=1,
                     gradient=registry.NOT_DIFFERENTIABLE,
                     doc="An encoded image decoded by its format (PNG or JPEG).")
registry.register_op("EncodePng", infer=_encode_png_infer, num_inputs=1,
                     gradient=registry.NOT_DIFFERENTIABLE,
                     doc="A [height, width, channels] image encoded as a PNG string.")


def decode_png(contents, channels=0, dtype=dtypes.uint8, name=None):
    """A PNG-encoded image decoded to a uint8 Tensor ``[height, width, channels]``
    (op ``DecodePng``).

    Args:
      contents: a scalar string Tensor: the PNG bytes.
      channels: 0 (the image's own channels), 1 (gray), 3 (RGB) or 4 (RGBA).
      dtype: ``tf.uint8`` (sessionlib has no uint16; 16-bit images keep their high byte).
      name: the op name.

    Returns:
      A uint8 Tensor ``[height, width, channels]``.

    Raises:
      TypeError: for `contents` that is not a string or a `dtype` other than uint8.
      InvalidArgumentError: at run time, for data that is not a well-formed PNG or
        `channels` other than 0, 1, 3 or 4.
    """
    with graph_lib.name_scope(name, "DecodePng", [contents]) as scope:
        contents = graph_lib.convert_to_tensor(contents, dtype=dtypes.string, name="contents")
        return contents.graph.create_op("DecodePng", [contents],
                                        {"channels": channels, "dtype": dtype},
                                        name=scope).outputs[0]


def encode_png(image, compression=-1, name=None):
    """A uint8 image ``[height, width, channels]`` encoded as PNG (op ``EncodePng``).

    Args:
      image: a uint8 Tensor with 1 (gray), 2 (gray + alpha), 3 (RGB) or 4 (RGBA) channels.
      compression: the zlib level, -1 (the default level) to 9.
      name: the op name.

    Returns:
      A scalar string Tensor: the PNG bytes.

    Raises:
      TypeError: for an `image` that is not uint8.
      ValueError: for a static rank other than 3.
      InvalidArgumentError: at run time, for another channel count, an empty image or a
        `compression` outside [-1, 9].
    """
    with graph_lib.name_scope(name, "EncodePng", [image]) as scope:
        image = graph_lib.convert_to_tensor(image, name="image")
        return image.graph.create_op("EncodePng", [image], {"compression": compression},
                                     name=scope).outputs[0]


def decode_image(contents, channels=None, dtype=dtypes.uint8, name=None,
                 expand_animations=True):
    """An encoded image decoded by its format (op ``DecodeImage``); sessionlib decodes PNG
    and JPEG (as `decode_jpeg` with its defaults; Pillow, the ``image`` extra, needed),
    other formats fail when the op runs.

    Args:
      contents: a scalar string Tensor: the encoded bytes.
      channels: None or 0 (the image's own channels), 1, 3 or 4.
      dtype: uint8, or a float dtype: the uint8 pixels converted with `convert_image_dtype`.
      name: the name scope.
      expand_animations: as TF (a GIF would decode to a 4-D batch); with False the output
        is known to be 3-D.

    Returns:
      A Tensor ``[height, width, channels]`` of `dtype`.

    Raises:
      TypeError: for a `dtype` that is neither uint8 nor a float type.
      InvalidArgumentError: at run time, for data that is neither PNG nor JPEG (the message
        names the format when it is GIF, BMP or WebP), is not well-formed, or is JPEG with
        `channels` 4.
    """
    dtype = dtypes.as_dtype(dtype)
    if dtype is not dtypes.uint8 and not dtype.is_floating:
        raise TypeError(f"dtype must be uint8 or a float type, got {dtype.name} (sessionlib "
                        "has no uint16)")
    with graph_lib.name_scope(name, "decode_image", [contents]) as scope:
        contents = graph_lib.convert_to_tensor(contents, dtype=dtypes.string, name="contents")
        pixels = contents.graph.create_op(
            "DecodeImage", [contents],
            {"channels": channels or 0, "dtype": dtypes.uint8,
             "expand_animations": expand_animations}).outputs[0]
        if dtype is dtypes.uint8:
            return pixels
        return convert_image_dtype(pixels, dtype, name=scope)
