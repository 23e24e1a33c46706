"""JPEG images: ``DecodeJpeg``, ``DecodeAndCropJpeg``, ``ExtractJpegShape``, ``EncodeJpeg`` and
``EncodeJpegVariableQuality``, with TF 1's ``tf.image.decode_jpeg``, ``decode_and_crop_jpeg``,
``extract_jpeg_shape``, ``encode_jpeg``, ``adjust_jpeg_quality`` and ``random_jpeg_quality``.

The kernels (``runtime/kernels/image_jpeg_kernels.py``) run libjpeg-turbo through Pillow, the
optional ``image`` extra (``pip install sessionlib[image]``); without it these ops build but
fail when they run, with an UnimplementedError naming the extra. None of them is
differentiable (as in TF: they read and write bytes).
"""

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework import registry
from sessionlib.framework import tensor_util
from sessionlib.framework.tensor_shape import TensorShape
from sessionlib.ops import _infer
from sessionlib.ops import random_ops
from sessionlib.ops.image_codec_ops import contents_scalar
from sessionlib.ops.image_ops import convert_image_dtype

__all__ = ["decode_jpeg", "decode_and_crop_jpeg", "extract_jpeg_shape", "encode_jpeg",
           "adjust_jpeg_quality", "random_jpeg_quality"]

_ALLOWED_STRINGS = {"format": ("", "grayscale", "rgb"), "density_unit": ("in", "cm")}


def _text(value):
    """A string attr as str (a GraphDef's attrs may hold bytes)."""
    return value.decode() if isinstance(value, bytes) else str(value)


def _decode_attrs(attrs):
    """Normalizes DecodeJpeg's attrs (TF's defaults) and returns the static channel count."""
    channels = int(attrs.get("channels", 0))
    attrs["channels"] = channels
    attrs["ratio"] = int(attrs.get("ratio", 1))
    attrs["fancy_upscaling"] = bool(attrs.get("fancy_upscaling", True))
    attrs["try_recover_truncated"] = bool(attrs.get("try_recover_truncated", False))
    attrs["acceptable_fraction"] = float(attrs.get("acceptable_fraction", 1.0))
    attrs["dct_method"] = _text(attrs.get("dct_method", ""))
    return channels or None


def _decode_jpeg_infer(inputs, attrs):
    (contents,) = inputs
    contents_scalar("DecodeJpeg", contents)
    return [(dtypes.uint8, TensorShape([None, None, _decode_attrs(attrs)]))]


def _decode_and_crop_jpeg_infer(inputs, attrs):
    contents, crop_window = inputs
    contents_scalar("DecodeAndCropJpeg", contents)
    _check_input("DecodeAndCropJpeg", crop_window, dtypes.int32, 1, "crop_window")
    channels = _decode_attrs(attrs)
    height = width = None
    window = tensor_util.constant_value(crop_window)
    if window is not None and window.size == 4:
        height, width = int(window[2]), int(window[3])
    return [(dtypes.uint8, TensorShape([height, width, channels]))]


def _extract_jpeg_shape_infer(inputs, attrs):
    (contents,) = inputs
    contents_scalar("ExtractJpegShape", contents)
    output_type = dtypes.as_dtype(attrs.get("output_type", dtypes.int32))
    if output_type not in (dtypes.int32, dtypes.int64):
        raise TypeError(f"Value for attr 'output_type' of {output_type.name} is not in the "
                        "list of allowed values: int32, int64")
    attrs["output_type"] = output_type
    return [(output_type, TensorShape([3]))]


def _check_input(op_type, tensor, dtype, rank, arg):
    """TF's graph-time checks of an input: TypeError for its dtype, ValueError for its rank."""
    _infer.check_dtype(op_type, tensor, (dtype,), arg)
    if tensor.shape.rank not in (None, rank):
        raise ValueError(f"Shape must be rank {rank} but is rank {tensor.shape.rank} for "
                         f"'{op_type}' ({arg})")


def _encode_jpeg_infer(inputs, attrs):
    (image,) = inputs
    _check_input("EncodeJpeg", image, dtypes.uint8, 3, "image")
    for name, allowed in _ALLOWED_STRINGS.items():
        value = _text(attrs.get(name, allowed[0]))
        if value not in allowed:
            listed = ", ".join(f'"{choice}"' for choice in allowed)
            raise ValueError(f"Value for attr '{name}' of \"{value}\" is not in the list of "
                             f"allowed values: {listed} (op EncodeJpeg)")
        attrs[name] = value
    defaults = {"quality": 95, "x_density": 300, "y_density": 300}
    for name, default in defaults.items():
        attrs[name] = int(attrs.get(name, default))
    for name, default in (("progressive", False), ("optimize_size", False),
                          ("chroma_downsampling", True)):
        attrs[name] = bool(attrs.get(name, default))
    attrs["xmp_metadata"] = _text(attrs.get("xmp_metadata", ""))
    return [(dtypes.string, TensorShape([]))]


def _encode_jpeg_variable_quality_infer(inputs, attrs):
    image, quality = inputs
    _check_input("EncodeJpegVariableQuality", image, dtypes.uint8, 3, "image")
    _check_input("EncodeJpegVariableQuality", quality, dtypes.int32, 0, "quality")
    return [(dtypes.string, TensorShape([]))]


registry.register_op("DecodeJpeg", infer=_decode_jpeg_infer, num_inputs=1,
                     gradient=registry.NOT_DIFFERENTIABLE,
                     doc="JPEG bytes decoded to a uint8 [height, width, channels] image.")
registry.register_op("DecodeAndCropJpeg", infer=_decode_and_crop_jpeg_infer, num_inputs=2,
                     gradient=registry.NOT_DIFFERENTIABLE,
                     doc="A window [y, x, height, width] of a JPEG image, decoded.")
registry.register_op("ExtractJpegShape", infer=_extract_jpeg_shape_infer, num_inputs=1,
                     gradient=registry.NOT_DIFFERENTIABLE,
                     doc="[height, width, channels] of a JPEG image, read from its header.")
registry.register_op("EncodeJpeg", infer=_encode_jpeg_infer, num_inputs=1,
                     gradient=registry.NOT_DIFFERENTIABLE,
                     doc="A uint8 [height, width, 1 or 3] image encoded as JPEG bytes.")
registry.register_op("EncodeJpegVariableQuality", infer=_encode_jpeg_variable_quality_infer,
                     num_inputs=2, gradient=registry.NOT_DIFFERENTIABLE,
                     doc="A uint8 image encoded as JPEG at a quality given as a tensor.")


def _decode_options(channels, ratio, fancy_upscaling, try_recover_truncated,
                    acceptable_fraction, dct_method):
    return {"channels": channels, "ratio": ratio, "fancy_upscaling": fancy_upscaling,
            "try_recover_truncated": try_recover_truncated,
            "acceptable_fraction": acceptable_fraction, "dct_method": dct_method}


def decode_jpeg(contents, channels=0, ratio=1, fancy_upscaling=True,
                try_recover_truncated=False, acceptable_fraction=1, dct_method="",
                name=None):
    """JPEG bytes decoded to a uint8 Tensor ``[height, width, channels]`` (op ``DecodeJpeg``),
    pixel for pixel as TF's libjpeg-turbo decodes them. Needs Pillow (the ``image`` extra).

    As TF 2's kernel does, PNG bytes are decoded too.

    Args:
      contents: a scalar string Tensor: the JPEG bytes.
      channels: 0 (the file's own: 1 for gray, 3 for color, 3 for CMYK), 1 (gray: libjpeg's
        luma; not for CMYK) or 3 (RGB; CMYK converted as TF does).
      ratio: 1, 2, 4 or 8: decode at 1/ratio of the size (libjpeg's IDCT scaling).
      fancy_upscaling: whether subsampled chroma is upsampled by libjpeg's triangle filter
        (else by repeating samples).
      try_recover_truncated: whether truncated data decodes: data cut inside the scan
        decodes as libjpeg decodes it with an end-of-image marker appended (missing blocks
        filled). Exact for data that lacks only that marker; for data cut earlier TF's own
        recovery differs in the blocks after the cut (by up to 18 levels on the test files).
      acceptable_fraction: for truncated data without recovery, the fraction of rows
        libjpeg must output before the data runs out; those rows are returned, the rest
        zero (as TF). Truncated data is an error when fewer rows come out (always, with
        the default 1).
      dct_method: "" or "INTEGER_FAST" (libjpeg's fast integer IDCT, TF's default),
        "INTEGER_ACCURATE" (its accurate one). A hint, as in TF: with
        ``fancy_upscaling=False`` a subsampled color image always uses the fast IDCT
        (Pillow offers the accurate IDCT only with fancy upsampling).
      name: the op name.

    Returns:
      A uint8 Tensor ``[height, width, channels]``.

    Raises:
      TypeError: for `contents` that is not a string.
      ValueError: for `contents` that is not a scalar.
      InvalidArgumentError: at run time, for data that is not a decodable JPEG (or PNG),
        `channels` other than 0, 1 or 3, `ratio` other than 1, 2, 4 or 8, or an unknown
        `dct_method`.
      UnimplementedError: at run time, when Pillow is not installed.
    """
    with graph_lib.name_scope(name, "DecodeJpeg", [contents]) as scope:
        contents = graph_lib.convert_to_tensor(contents, name="contents")
        return contents.graph.create_op(
            "DecodeJpeg", [contents],
            _decode_options(channels, ratio, fancy_upscaling, try_recover_truncated,
                            acceptable_fraction, dct_method), name=scope).outputs[0]


def decode_and_crop_jpeg(contents, crop_window, channels=0, ratio=1, fancy_upscaling=True,
                         try_recover_truncated=False, acceptable_fraction=1, dct_method="",
                         name=None):
    """The window ``crop_window = [y, x, height, width]`` of a JPEG image, decoded (op
    ``DecodeAndCropJpeg``). As in TF's libjpeg-turbo, the chroma of a subsampled image is
    upsampled within the crop's iMCU-aligned columns, so the crop's outer columns can differ
    from a slice of `decode_jpeg`'s result; sessionlib reproduces that for the fast IDCT, and
    with ``dct_method="INTEGER_ACCURATE"`` returns the slice.

    Args:
      contents: a scalar string Tensor: the JPEG bytes.
      crop_window: an int32 Tensor ``[4]``: y, x, height, width (in the image scaled by
        `ratio`).
      channels, ratio, fancy_upscaling, try_recover_truncated, dct_method: as
        `decode_jpeg`.
      acceptable_fraction: accepted for TF's signature; a truncated crop that is not
        recovered is an error.
      name: the op name.

    Returns:
      A uint8 Tensor ``[height, width, channels]``.

    Raises:
      TypeError: for `contents` that is not a string or a `crop_window` that is not int32.
      ValueError: for a `crop_window` of static rank other than 1.
      InvalidArgumentError: at run time, as `decode_jpeg`, and for a window that is not
        four values or does not lie inside the image.
      UnimplementedError: at run time, when Pillow is not installed.
    """
    with graph_lib.name_scope(name, "DecodeAndCropJpeg", [contents, crop_window]) as scope:
        contents = graph_lib.convert_to_tensor(contents, name="contents")
        crop_window = graph_lib.convert_to_tensor(crop_window, name="crop_window")
        return contents.graph.create_op(
            "DecodeAndCropJpeg", [contents, crop_window],
            _decode_options(channels, ratio, fancy_upscaling, try_recover_truncated,
                            acceptable_fraction, dct_method), name=scope).outputs[0]


def extract_jpeg_shape(contents, output_type=dtypes.int32, name=None):
    """``[height, width, channels]`` of a JPEG image, read from its header (op
    ``ExtractJpegShape``).

    Args:
      contents: a scalar string Tensor: the JPEG bytes.
      output_type: int32 or int64.
      name: the op name.

    Returns:
      A Tensor ``[3]`` of `output_type`.

    Raises:
      TypeError: for `contents` that is not a string or another `output_type`.
      InvalidArgumentError: at run time, for data whose header is not a JPEG's.
      UnimplementedError: at run time, when Pillow is not installed.
    """
    with graph_lib.name_scope(name, "ExtractJpegShape", [contents]) as scope:
        contents = graph_lib.convert_to_tensor(contents, name="contents")
        return contents.graph.create_op("ExtractJpegShape", [contents],
                                        {"output_type": output_type}, name=scope).outputs[0]


def encode_jpeg(image, format="", quality=95, progressive=False, optimize_size=False,
                chroma_downsampling=True, density_unit="in", x_density=300, y_density=300,
                xmp_metadata="", name=None):
    """A uint8 image ``[height, width, 1 or 3]`` encoded as JPEG (op ``EncodeJpeg``), byte for
    byte as TF's libjpeg-turbo encodes it. Needs Pillow (the ``image`` extra).

    Args:
      image: a uint8 Tensor ``[height, width, channels]``.
      format: "" (by channel count), "grayscale" (needs 1 channel) or "rgb" (needs 3).
      quality: 0 to 100.
      progressive: whether to write a progressive JPEG.
      optimize_size: whether to compute optimal Huffman tables.
      chroma_downsampling: whether chroma is subsampled 2x2 (4:2:0).
      density_unit: "in" or "cm": the unit of the JFIF densities.
      x_density, y_density: pixels per density unit.
      xmp_metadata: written as an XMP APP1 segment when not empty.
      name: the op name.

    Returns:
      A scalar string Tensor: the JPEG bytes.

    Raises:
      TypeError: for an `image` that is not uint8.
      ValueError: for a static rank other than 3, or a `format` or `density_unit` not listed.
      InvalidArgumentError: at run time, for another channel count, a `quality` outside
        [0, 100] or an empty image.
      UnimplementedError: at run time, when Pillow is not installed.
    """
    with graph_lib.name_scope(name, "EncodeJpeg", [image]) as scope:
        image = graph_lib.convert_to_tensor(image, name="image")
        attrs = {"format": format, "quality": quality, "progressive": progressive,
                 "optimize_size": optimize_size, "chroma_downsampling": chroma_downsampling,
                 "density_unit": density_unit, "x_density": x_density,
                 "y_density": y_density, "xmp_metadata": xmp_metadata}
        return image.graph.create_op("EncodeJpeg", [image], attrs, name=scope).outputs[0]


def adjust_jpeg_quality(image, jpeg_quality, dct_method="", name=None):
    """`image` encoded as JPEG at `jpeg_quality` and decoded again (ops
    ``EncodeJpegVariableQuality`` and ``DecodeJpeg``), as TF's function.

    Args:
      image: a ``[height, width, 1 or 3]`` image of any dtype `convert_image_dtype` takes.
      jpeg_quality: a Python int or an int32 scalar Tensor, 0 to 100.
      dct_method: as `decode_jpeg`.
      name: the name scope.

    Returns:
      The image after the round trip, of `image`'s dtype and shape.

    Raises:
      TypeError: for an unsupported image dtype or a non-int32 quality Tensor.
      InvalidArgumentError: at run time, for a quality outside [0, 100] or 2 or 4 channels.
    """
    with graph_lib.name_scope(name, "adjust_jpeg_quality", [image]):
        image = graph_lib.convert_to_tensor(image, name="image")
        channels = image.shape.as_list()[-1] if image.shape.rank else None
        original_dtype = image.dtype
        image = convert_image_dtype(image, dtypes.uint8, saturate=True)
        jpeg_quality = graph_lib.convert_to_tensor(jpeg_quality, dtype=dtypes.int32,
                                                   name="jpeg_quality")
        encoded = image.graph.create_op("EncodeJpegVariableQuality",
                                        [image, jpeg_quality], {}).outputs[0]
        decoded = decode_jpeg(encoded, channels=channels or 0, dct_method=dct_method)
        return convert_image_dtype(decoded, original_dtype, saturate=True)


def random_jpeg_quality(image, min_jpeg_quality, max_jpeg_quality, seed=None):
    """`adjust_jpeg_quality` at a quality drawn uniformly from
    ``[min_jpeg_quality, max_jpeg_quality)`` at each run.

    Args:
      image: as `adjust_jpeg_quality`.
      min_jpeg_quality, max_jpeg_quality: Python ints, 0 <= min < max <= 100.
      seed: the op seed.

    Returns:
      The image after the round trip, of `image`'s dtype and shape.

    Raises:
      ValueError: for a range outside [0, 100] or an empty one.
    """
    if not (0 <= min_jpeg_quality <= 100 and 0 <= max_jpeg_quality <= 100):
        raise ValueError("jpeg encoding range must be between 0 and 100.")
    if min_jpeg_quality >= max_jpeg_quality:
        raise ValueError("`min_jpeg_quality` must be less than `max_jpeg_quality`.")
    quality = random_ops.random_uniform([], min_jpeg_quality, max_jpeg_quality, seed=seed,
                                        dtype=dtypes.int32)
    return adjust_jpeg_quality(image, quality)
