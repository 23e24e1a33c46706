"""Kernels of the JPEG ops (``sessionlib/ops/image_jpeg_ops.py``): DecodeJpeg,
DecodeAndCropJpeg, ExtractJpegShape, EncodeJpeg and EncodeJpegVariableQuality, plus the JPEG
branch of DecodeImage.

Design. The codec is Pillow's, imported lazily (it is the optional ``image`` extra): Pillow
wraps libjpeg-turbo, the library TF links, so the entropy decoding, the IDCTs and the
encoder are the very same code, and TF's bytes and pixels can be matched exactly. Pillow
does not expose every libjpeg setting TF uses, so this module fills two gaps itself:

* TF decodes with ``dct_method=""`` meaning libjpeg's fast integer IDCT (JDCT_IFAST) *with*
  fancy (triangle-filter) chroma upsampling. Pillow reaches JDCT_IFAST only through its
  "draft" flag, which also turns fancy upsampling off. For subsampled color images this
  module therefore asks Pillow for the fast-IDCT YCbCr planes with plain (replicating)
  upsampling, takes every ``factor``-th sample back to the component's own resolution
  (replication is exactly invertible), and redoes libjpeg-turbo's fancy upsampling and its
  fixed-point YCbCr -> RGB conversion in numpy. The result equals TF's pixel for pixel.
* DecodeAndCropJpeg: libjpeg-turbo crops columns to an iMCU-aligned window and upsamples the
  chroma of that window alone, so the crop's edge columns differ from a plain slice of the
  full decode. The same YCbCr path reproduces that.

Where Pillow cannot do what TF asks, the kernel follows TF's own rule that ``dct_method`` is a
hint: ``INTEGER_ACCURATE`` (JDCT_ISLOW) with ``fancy_upscaling=False`` on a subsampled color
image decodes with the fast IDCT (plain upsampling is honoured; up to 8 levels apart from
TF on the test files), and ISLOW crops of subsampled color images are the slice of the full decode (the
crop's outer columns may be a few levels apart from TF's).

Truncated data with ``try_recover_truncated`` decodes with an EOI marker appended: equal to
TF for data that lacks only the marker, a few levels apart in the blocks after the cut for
data cut inside the scan (TF's recovery differs from its own decode of the data plus EOI).
Without recovery and with ``acceptable_fraction`` < 1, TF keeps the rows libjpeg output
before its (suspending) source ran dry and zeroes the rest; Pillow's decoder suspends the
same way, so the kernel counts the rows it wrote (decoding into two differently prefilled
images) and keeps those rows of the full decode, exactly as TF.

CMYK (and YCCK) JPEGs decode to RGB with TF's conversion of libjpeg's CMYK output.

Pillow's public API has no knob for libjpeg's scale or IDCT flags, so ``_configure`` sets the
attributes its own ``draft()`` sets (``decoderconfig``, ``tile``, ``_size``), and
``_rows_before_the_end`` drives its decoder as ``ImageFile.load`` does; both are covered by
the TF-equality tests, which a Pillow that changed them would fail.

Encoding uses Pillow's libjpeg-turbo with TF's settings (quality, 4:2:0 or 4:4:4, optimized
Huffman tables, progressive), then writes TF's JFIF density fields and XMP segment into the
byte stream, so the output matches TF's byte for byte.
"""

import io

import numpy as np

from sessionlib import errors
from sessionlib.runtime.kernel_table import register_kernel
from sessionlib.runtime.kernels.array_kernels import invalid_argument
from sessionlib.runtime.kernels.image_codec_kernels import (PNG_SIGNATURE, bytes_of,
                                                            decode_arguments,
                                                            decode_png_array)

JPEG_MAGIC = b"\xff\xd8\xff"
_DCT_METHODS = ("", "INTEGER_FAST", "INTEGER_ACCURATE")
# libjpeg's fixed-point YCbCr -> RGB tables (jdcolor.c: 16 fraction bits, rounded).
_CENTERED = np.arange(256, dtype=np.int64) - 128


def _fixed(value):
    return int(value * 65536 + 0.5)


# The offsets each chroma value adds to luma; green's depends on both, so it is a 256 x 256
# table (indexed [Cb, Cr]), summed before the shift as libjpeg does. int16 keeps the pixel
# arithmetic narrow: every sum below stays within +-1024.
_CR_TO_R = ((_fixed(1.40200) * _CENTERED + 32768) >> 16).astype(np.int16)
_CB_TO_B = ((_fixed(1.77200) * _CENTERED + 32768) >> 16).astype(np.int16)
_CBCR_TO_G = ((-_fixed(0.34414) * _CENTERED + 32768)[:, None]
              - _fixed(0.71414) * _CENTERED[None, :]) >> 16
_CBCR_TO_G = _CBCR_TO_G.astype(np.int16)


def _pillow():
    """Pillow's Image module, or an error saying how to install it."""
    try:
        from PIL import Image
    except ImportError:
        raise errors.UnimplementedError(
            None, None, "JPEG images need Pillow, which is not installed: "
            "pip install sessionlib[image]") from None
    return Image


def _invalid_data(data):
    return invalid_argument(f"jpeg::Uncompress failed. Invalid JPEG data or crop window, "
                            f"data size {len(data)}.")


def _open(data):
    """A lazily-decoding Pillow image of JPEG bytes, InvalidArgumentError if it is none."""
    image_module = _pillow()
    try:
        image = image_module.open(io.BytesIO(data), formats=["JPEG"])
    except Exception:  # noqa: BLE001 - Pillow raises many types for malformed headers
        raise _invalid_data(data) from None
    if image.mode not in ("L", "RGB", "CMYK"):
        raise invalid_argument(f"JPEG images of color mode {image.mode} are not supported")
    return image


def _configure(image, mode, ratio, fast_idct):
    """Sets the output `mode`, the 1/`ratio` IDCT scaling and Pillow's "draft" flag (libjpeg's
    JDCT_IFAST without fancy upsampling) on a not yet loaded Pillow JPEG."""
    image.draft(mode, None)
    if ratio > 1:
        # Pillow's draft() picks its scale from a target size and cannot ask for more than
        # the image's smallest side, so the scale (libjpeg's scale_denom) is set directly.
        tile = image.tile[0]
        x0, y0, x1, y1 = tile[1]
        extents = (x0, y0, (x1 - x0 + ratio - 1) // ratio + x0,
                   (y1 - y0 + ratio - 1) // ratio + y0)
        image.tile = [tile._replace(extents=extents) if hasattr(tile, "_replace")
                      else (tile[0], extents) + tuple(tile[2:])]
        width, height = image.size
        image._size = (-(-width // ratio), -(-height // ratio))
    image.decoderconfig = (ratio, 1 if fast_idct else 0)


# What a decode does with truncated data: fail, decode it whole (TF's try_recover_truncated),
# or keep the rows libjpeg output before the data ran out (TF's acceptable_fraction < 1).
FAIL, RECOVER, PARTIAL = "fail", "recover", "partial"


def _rows_before_the_end(data, mode, ratio, fast_idct):
    """How many rows libjpeg outputs from truncated `data` before it runs out, as TF's
    non-recovering (suspending) source sees it. Pillow's decoder suspends the same way; the
    rows it wrote are found by decoding into two images prefilled differently."""
    image_module = _pillow()
    decoded = []
    for fill in (0, 255):
        image = _open(data)
        _configure(image, mode, ratio, fast_idct)
        tile = image.tile[0]
        image.im = image_module.core.fill(image.mode, image.size,
                                          (fill,) * len(image.getbands()))
        decoder = image_module._getdecoder(image.mode, tile[0], tile[3], image.decoderconfig)
        decoder.setimage(image.im, tile[1])
        try:
            decoder.decode(data[tile[2]:])
        except Exception:  # noqa: BLE001 - corrupt data: whatever rows were written count
            pass
        finally:
            decoder.cleanup()
        image.tile = []
        decoded.append(np.asarray(image).reshape(image.size[1], -1))
    written = np.all(decoded[0] == decoded[1], axis=1)
    return int(np.argmin(written)) if not written.all() else len(written)


def _load(data, mode, ratio, fast_idct, truncation):
    """(the decoded uint8 array of `data` in Pillow `mode` ("L", "RGB", "YCbCr" or "CMYK"),
    the number of its rows libjpeg output: all of them unless `truncation` is PARTIAL)."""
    image = _open(data)
    _configure(image, mode, ratio, fast_idct)
    try:
        image.load()
    except Exception:  # noqa: BLE001 - truncated or corrupt entropy data
        if truncation == FAIL or data.endswith(b"\xff\xd9"):
            raise _invalid_data(data) from None
        # TF's source manager feeds libjpeg a fake EOI marker at the end of truncated data,
        # after which libjpeg fills the missing blocks; appending the marker does the same.
        pixels, _ = _load(data + b"\xff\xd9", mode, ratio, fast_idct, FAIL)
        if truncation == RECOVER:
            return pixels, len(pixels)
        return pixels, _rows_before_the_end(data, mode, ratio, fast_idct)
    pixels = np.asarray(image)
    return pixels, len(pixels)


def _keep_rows(data, pixels, rows, acceptable_fraction):
    """TF's acceptable_fraction: fewer rows than that fraction is an error; the rows past
    them are zero."""
    if rows >= len(pixels):
        return pixels
    if rows == 0 or rows < acceptable_fraction * len(pixels):
        raise _invalid_data(data)
    pixels = np.array(pixels)
    pixels[rows:] = 0
    return pixels


def _chroma_factors(layers, ratio):
    """libjpeg-turbo's upsampling factor (horizontal, vertical) of each component after its
    IDCT scaling: at 1/2 and below chroma is IDCT-scaled up instead of upsampled."""
    max_h = max(layer[1] for layer in layers)
    max_v = max(layer[2] for layer in layers)
    min_size = 8 // ratio
    factors = []
    for _, h, v, _ in layers:
        size = min_size
        while (size < 8 and (max_h * min_size) % (h * size * 2) == 0
               and (max_v * min_size) % (v * size * 2) == 0):
            size *= 2
        factors.append(((max_h * min_size) // (h * size), (max_v * min_size) // (v * size)))
    return factors


def _fancy_rows(plane):
    """libjpeg-turbo's vertical triangle step of h2v2: 3 * nearer row + farther row."""
    sums = np.empty((2 * plane.shape[0], plane.shape[1]), np.int16)
    tripled = 3 * plane
    sums[0::2] = tripled
    sums[0:1] += plane[:1]
    sums[2::2] += plane[:-1]
    sums[1::2] = tripled
    sums[1:-1:2] += plane[1:]
    sums[-1:] += plane[-1:]
    return sums


def _fancy_columns(plane, shift, biases):
    """The horizontal triangle filter: each sample twice, weighted 3:1 with its left and
    right neighbours (an edge sample alone), divided by ``2**shift`` with `biases`."""
    tripled = 3 * plane
    out = np.empty((plane.shape[0], 2 * plane.shape[1]), np.int16)
    even, odd = out[:, 0::2], out[:, 1::2]
    np.add(tripled[:, 1:], plane[:, :-1], out=even[:, 1:])
    even[:, :1] = 4 * plane[:, :1]
    np.add(tripled[:, :-1], plane[:, 1:], out=odd[:, :-1])
    odd[:, -1:] = 4 * plane[:, -1:]
    even += biases[0]
    odd += biases[1]
    out >>= shift
    return out


def _upsample(plane, factor, fancy):
    """A chroma plane at its component resolution brought up by `factor`, as libjpeg-turbo's
    jdsample.c does (fancy filters for 2x1, 1x2 and 2x2; replication otherwise)."""
    plane = plane.astype(np.int16)
    fancy = fancy and plane.shape[1] > 2
    if fancy and factor == (2, 2):
        return _fancy_columns(_fancy_rows(plane), 4, (8, 7))
    if fancy and factor == (2, 1):
        return _fancy_columns(plane, 2, (1, 2))
    if fancy and factor == (1, 2):
        sums = _fancy_rows(plane)
        sums[0::2] += 1
        sums[1::2] += 2
        return sums >> 2
    return np.repeat(np.repeat(plane, factor[1], axis=0), factor[0], axis=1)


def _ycc_to_rgb(luma, blue, red):
    rgb = np.empty(luma.shape + (3,), np.int16)
    luma = luma.astype(np.int16)
    np.add(luma, _CR_TO_R[red], out=rgb[..., 0])
    np.add(luma, _CBCR_TO_G[blue, red], out=rgb[..., 1])
    np.add(luma, _CB_TO_B[blue], out=rgb[..., 2])
    return np.clip(rgb, 0, 255, out=rgb).astype(np.uint8)


def _upsampled_rgb(ycc, factors, fancy, window):
    """RGB of fast-IDCT YCbCr whose chroma Pillow replicated by `factors`: the chroma
    recovered at its own resolution, upsampled as TF's libjpeg does and converted. `window`
    is None or (y, x, height, width), cropped the way libjpeg-turbo's jpeg_crop_scanline
    does (chroma upsampled within the iMCU-aligned columns only)."""
    height, width = ycc.shape[:2]
    if window is None:
        column0, columns = 0, width
    else:
        # libjpeg-turbo aligns the crop's first column down to an iMCU.
        align = max(factor[0] for factor in factors) * 8
        column0 = window[1] // align * align
        columns = window[1] + window[3] - column0
    channels = [ycc[:, column0:column0 + columns, 0]]
    for index in (1, 2):
        factor = factors[index]
        start = column0 // factor[0]
        count = -(-columns // factor[0])
        plane = ycc[::factor[1], ::factor[0], index][:, start:start + count]
        channels.append(_upsample(plane, factor, fancy)[:height, :columns])
    rgb = _ycc_to_rgb(*channels)
    if window is None:
        return rgb
    y, x, crop_height, crop_width = window
    return rgb[y:y + crop_height, x - column0:x - column0 + crop_width]


def decode_jpeg_array(data, channels=0, ratio=1, fancy_upscaling=True,
                      try_recover_truncated=False, acceptable_fraction=1.0, dct_method="",
                      window=None):
    """The uint8 [height, width, channels] pixels TF's DecodeJpeg gives for `data`.

    Args:
      data: the JPEG bytes.
      channels: 0 (the file's own: 1 or 3), 1 or 3.
      ratio: 1, 2, 4 or 8: the IDCT downscaling.
      fancy_upscaling: whether subsampled chroma is upsampled by triangle filters.
      try_recover_truncated: whether truncated data decodes with its missing blocks filled.
      acceptable_fraction: without recovery, the fraction of rows truncated data must yield
        (libjpeg's rows before the data ran out; the rest are zero). Not for crops.
      dct_method: "" or "INTEGER_FAST" (libjpeg's fast IDCT), "INTEGER_ACCURATE" (ISLOW).
      window: None, or (y, x, height, width) in the scaled image: DecodeAndCropJpeg's crop.

    Raises:
      InvalidArgumentError: for data that is not a decodable JPEG, or a window outside it.
      UnimplementedError: when Pillow is not installed.
    """
    fast = dct_method != "INTEGER_ACCURATE"
    if try_recover_truncated:
        truncation = RECOVER
    elif acceptable_fraction < 1 and window is None:
        truncation = PARTIAL
    else:
        truncation = FAIL
    probe = _open(data)
    color = probe.mode == "RGB"
    full_width, full_height = probe.size
    scaled = (-(-full_height // ratio), -(-full_width // ratio))
    if window is not None:
        y, x, height, width = window
        if (min(window) < 0 or height == 0 or width == 0 or y + height > scaled[0]
                or x + width > scaled[1]):
            raise _invalid_data(data)
    if probe.mode == "CMYK":
        rgb, rows = _decode_cmyk(data, channels, ratio, fast, truncation, window,
                                 _chroma_factors(probe.layer, ratio))
        return _keep_rows(data, rgb, rows, acceptable_fraction)
    out_channels = channels or (3 if color else 1)
    factors = _chroma_factors(probe.layer, ratio) if color else [(1, 1)]
    upsampled = any(factor != (1, 1) for factor in factors)
    if not color or out_channels == 1 or not upsampled or (not fast and fancy_upscaling):
        # No chroma upsampling, or ISLOW with fancy upsampling: libjpeg's output as is.
        mode = "L" if out_channels == 1 or not color else "RGB"
        pixels, rows = _load(data, mode, ratio, fast, truncation)
        if pixels.ndim == 2:
            pixels = pixels[..., None]
        if out_channels == 3 and pixels.shape[-1] == 1:
            pixels = np.repeat(pixels, 3, axis=-1)
        if window is not None:
            pixels = pixels[y:y + height, x:x + width]
        return np.ascontiguousarray(_keep_rows(data, pixels, rows, acceptable_fraction))
    # Subsampled color with the fast IDCT (or ISLOW without fancy upsampling, which Pillow
    # cannot do: dct_method is a hint, and the fast IDCT stands in).
    ycc, rows = _load(data, "YCbCr", ratio, True, truncation)
    # Fancy upsampling is off in libjpeg when the IDCT is scaled to 1x1 blocks.
    fancy = fancy_upscaling and ratio < 8
    rgb = _upsampled_rgb(ycc, factors, fancy, window)
    if rows < len(ycc) and fancy and factors[1][1] == 2:
        # Vertical fancy upsampling needs the next row group as context, so libjpeg has
        # output one row group (of `factor` rows) less when the data runs out.
        rows = max(0, rows - factors[1][1])
    return np.ascontiguousarray(_keep_rows(data, rgb, rows, acceptable_fraction))


def _decode_cmyk(data, channels, ratio, fast, truncation, window, factors):
    """(RGB of a four-component (CMYK or YCCK) JPEG, as TF converts libjpeg's CMYK output,
    the rows libjpeg output).

    Pillow inverts Adobe CMYK (whose samples libjpeg gives inverted) and leaves plain CMYK,
    so in Pillow's values both of TF's cases are ``(255 - k) * (255 - c) // 255``.
    """
    if channels == 1:
        # libjpeg cannot convert CMYK to grayscale; TF reports the failed decode.
        raise _invalid_data(data)
    # With subsampled components Pillow cannot give the fast IDCT with fancy upsampling;
    # dct_method is a hint, and the accurate IDCT stands in.
    subsampled = any(factor != (1, 1) for factor in factors)
    cmyk, rows = _load(data, "CMYK", ratio, fast and not subsampled, truncation)
    inverse = 255 - cmyk.astype(np.int64)
    rgb = (inverse[..., 3:] * inverse[..., :3] // 255).astype(np.uint8)
    if window is not None:
        y, x, height, width = window
        rgb = rgb[y:y + height, x:x + width]
    return np.ascontiguousarray(rgb), rows


def extract_jpeg_shape(data):
    """[height, width, channels] of the JPEG's header, without decoding it."""
    image = _open(data)
    width, height = image.size
    return height, width, {"L": 1, "RGB": 3, "CMYK": 4}[image.mode]


def _segment(marker, payload):
    return b"\xff" + bytes([marker]) + (len(payload) + 2).to_bytes(2, "big") + payload


def encode_jpeg_bytes(image, format="", quality=95, progressive=False, optimize_size=False,
                      chroma_downsampling=True, density_unit="in", x_density=300,
                      y_density=300, xmp_metadata=b""):
    """TF's EncodeJpeg of a uint8 [height, width, 1 or 3] array, byte for byte.

    Raises:
      InvalidArgumentError: for a channel count `format` does not allow, a `quality` outside
        [0, 100], an empty or too large image.
      UnimplementedError: when Pillow is not installed.
    """
    height, width, channels = image.shape
    if format == "grayscale" and channels != 1:
        raise invalid_argument(f"format grayscale expects 1 channels, got {list(image.shape)}")
    if format == "rgb" and channels != 3:
        raise invalid_argument(f"format rgb expects 3 channels, got {list(image.shape)}")
    if channels not in (1, 3):
        raise invalid_argument(f"image must have 1 or 3 channels, got {list(image.shape)}")
    if not 0 <= quality <= 100:
        raise invalid_argument(f"quality must be in [0,100], got {quality}")
    if height == 0 or width == 0 or height >= 1 << 16 or width >= 1 << 16:
        raise invalid_argument(f"image dimensions must be in [1, 65535], got "
                               f"{list(image.shape)}")
    image_module = _pillow()
    pixels = np.ascontiguousarray(image[..., 0] if channels == 1 else image)
    buffer = io.BytesIO()
    # Pillow's subsampling 2 is 4:2:0 (libjpeg's default, TF's chroma_downsampling); 0 is
    # 4:4:4, and a gray image has one full-resolution component either way.
    subsampling = 2 if chroma_downsampling and channels == 3 else 0
    # Pillow's quality=0 means "its default"; libjpeg clamps 0 to 1 as TF's call does.
    image_module.fromarray(pixels).save(buffer, "JPEG", quality=max(quality, 1),
                                        progressive=progressive, optimize=optimize_size,
                                        subsampling=subsampling)
    encoded = buffer.getvalue()
    # libjpeg writes the JFIF APP0 segment first: SOI, FFE0, length 16, "JFIF\0", version
    # (2 bytes), then the density unit (1 byte) and the x and y densities (2 bytes each).
    if encoded[2:4] != b"\xff\xe0" or encoded[6:11] != b"JFIF\x00":
        raise errors.InternalError(None, None, "JPEG encoding failed: no JFIF segment")
    unit = {"in": 1, "cm": 2}[density_unit]
    density = (bytes([unit]) + (x_density & 0xFFFF).to_bytes(2, "big")
               + (y_density & 0xFFFF).to_bytes(2, "big"))
    app0_end = 4 + int.from_bytes(encoded[4:6], "big")
    encoded = encoded[:13] + density + encoded[18:]
    if xmp_metadata:
        # TF writes the XMP packet as an APP1 segment right after JFIF's APP0.
        payload = b"http://ns.adobe.com/xap/1.0/\x00" + xmp_metadata
        if len(payload) + 2 > 0xFFFF:
            raise invalid_argument("xmp_metadata is too large for a JPEG APP1 segment")
        encoded = encoded[:app0_end] + _segment(0xE1, payload) + encoded[app0_end:]
    return encoded


def _contents(inputs, op_name):
    data = bytes_of(inputs[0], op_name)
    if not data:
        raise invalid_argument("Input is empty.")
    return data


def _decode_attrs(attrs):
    channels = int(attrs.get("channels", 0))
    if channels not in (0, 1, 3):
        raise invalid_argument(f"JPEG does not support {channels} channels"
                               if channels == 4 else
                               f"channels must be 0, 1, or 3, got {channels}")
    ratio = int(attrs.get("ratio", 1))
    if ratio not in (1, 2, 4, 8):
        raise invalid_argument(f"ratio must be 1, 2, 4, or 8, got {ratio}")
    dct_method = attrs.get("dct_method", "")
    if isinstance(dct_method, bytes):
        dct_method = dct_method.decode()
    if dct_method not in _DCT_METHODS:
        raise invalid_argument("dct_method must be one of {'', 'INTEGER_FAST', "
                               "'INTEGER_ACCURATE'}")
    return {"channels": channels, "ratio": ratio,
            "fancy_upscaling": bool(attrs.get("fancy_upscaling", True)),
            "try_recover_truncated": bool(attrs.get("try_recover_truncated", False)),
            "acceptable_fraction": float(attrs.get("acceptable_fraction", 1.0)),
            "dct_method": dct_method}


def _decode_any(data, options, op_name):
    """JPEG bytes decoded; PNG bytes too, as TF 2's DecodeJpeg does (its kernel is the
    format-sniffing image decoder)."""
    if data.startswith(JPEG_MAGIC):
        return decode_jpeg_array(data, **options)
    if data.startswith(PNG_SIGNATURE):
        return decode_png_array(data, options["channels"], np.dtype(np.uint8))
    raise invalid_argument(f"{op_name}: Unknown image file format. One of JPEG, PNG "
                           "required.")


def _decode_jpeg_kernel(ctx, inputs, attrs):
    options = _decode_attrs(attrs)
    return (_decode_any(_contents(inputs, "DecodeJpeg"), options, "DecodeJpeg"),)


def _decode_and_crop_jpeg_kernel(ctx, inputs, attrs):
    options = _decode_attrs(attrs)
    data = _contents(inputs, "DecodeAndCropJpeg")
    window = np.asarray(inputs[1]).reshape(-1)
    if window.size != 4:
        raise invalid_argument(f"crop_size must have four elements [{window.size}]")
    if not data.startswith(JPEG_MAGIC):
        raise invalid_argument("DecodeAndCropJpeg: the data is not a JPEG")
    return (decode_jpeg_array(data, window=tuple(int(v) for v in window), **options),)


def _extract_jpeg_shape_kernel(ctx, inputs, attrs):
    data = _contents(inputs, "ExtractJpegShape")
    if not data.startswith(JPEG_MAGIC):
        raise _invalid_data(data)
    dtype = attrs.get("output_type")
    numpy_dtype = np.dtype(dtype.as_numpy_dtype) if dtype is not None else np.int32
    return (np.array(extract_jpeg_shape(data), dtype=numpy_dtype),)


def _image_argument(image):
    if image.ndim != 3:
        raise invalid_argument(f"image must be 3-dimensional{list(image.shape)}")
    return image


def _encode_options(attrs):
    def text(name, default):
        value = attrs.get(name, default)
        return value.decode() if isinstance(value, bytes) else value

    xmp = attrs.get("xmp_metadata", b"")
    return {"format": text("format", ""), "quality": int(attrs.get("quality", 95)),
            "progressive": bool(attrs.get("progressive", False)),
            "optimize_size": bool(attrs.get("optimize_size", False)),
            "chroma_downsampling": bool(attrs.get("chroma_downsampling", True)),
            "density_unit": text("density_unit", "in"),
            "x_density": int(attrs.get("x_density", 300)),
            "y_density": int(attrs.get("y_density", 300)),
            "xmp_metadata": xmp.encode() if isinstance(xmp, str) else bytes(xmp)}


def _encode_jpeg_kernel(ctx, inputs, attrs):
    image = _image_argument(inputs[0])
    return (np.array(encode_jpeg_bytes(image, **_encode_options(attrs)), dtype=object),)


def _encode_jpeg_variable_quality_kernel(ctx, inputs, attrs):
    image = _image_argument(inputs[0])
    quality = np.asarray(inputs[1])
    if quality.ndim != 0:
        raise invalid_argument(f"quality must be a scalar, got shape {list(quality.shape)}")
    return (np.array(encode_jpeg_bytes(image, quality=int(quality)), dtype=object),)


# The leading bytes of the image formats TF's DecodeImage knows and sessionlib does not decode.
_OTHER_FORMATS = ((b"GIF8", "GIF"), (b"BM", "BMP"), (b"\xff\x0a", "JPEG XL"),
                  (b"\x00\x00\x00\x0cJXL ", "JPEG XL"))


def _decode_image_kernel(ctx, inputs, attrs):
    data, channels, dtype = decode_arguments(inputs, attrs, "DecodeImage")
    if data.startswith(PNG_SIGNATURE):
        return (decode_png_array(data, channels, dtype),)
    if data.startswith(JPEG_MAGIC):
        if channels == 4:
            raise invalid_argument("JPEG does not support 4 channels")
        return (decode_jpeg_array(data, channels),)
    for magic, format_name in _OTHER_FORMATS:
        if data.startswith(magic):
            raise invalid_argument(f"{format_name} images are not supported (only PNG and "
                                   f"JPEG are): data size {len(data)}")
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        raise invalid_argument("WebP images are not supported (only PNG and JPEG are)")
    raise invalid_argument("Unknown image file format. One of JPEG, PNG required.")


register_kernel("DecodeImage", reference=_decode_image_kernel)
register_kernel("DecodeJpeg", reference=_decode_jpeg_kernel)
register_kernel("DecodeAndCropJpeg", reference=_decode_and_crop_jpeg_kernel)
register_kernel("ExtractJpegShape", reference=_extract_jpeg_shape_kernel)
register_kernel("EncodeJpeg", reference=_encode_jpeg_kernel)
register_kernel("EncodeJpegVariableQuality", reference=_encode_jpeg_variable_quality_kernel)
