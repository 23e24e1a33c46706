"""Kernels of the PNG ops (``sessionlib/ops/image_codec_ops.py``): DecodePng and EncodePng
(DecodeImage, which dispatches by format, is in ``image_jpeg_kernels.py``), with Python's
``zlib`` for the deflate streams and numpy for the scanline filters.

Design. Decoding checks the signature, walks the chunks (checking each CRC and length, so
truncated or corrupt data is an InvalidArgumentError, never a crash), inflates the IDAT
stream, undoes the row filters (None, Sub, Up, Average, Paeth; Sub and the Paeth/Average
predictors depend on the bytes just written, so those rows are reconstructed column by
column, vectorized across the pixel's bytes) and then converts the pixels to the asked-for
channels as libpng does for TF: gray from RGB with libpng's fixed-point ITU-R 601 weights
(truncating for 8 bits), 16-bit samples to 8 bits by their high byte, 8-bit to 16 bits by
``* 257``, an added alpha channel opaque. Palettes expand to RGB (RGBA with a tRNS chunk);
gray of 1, 2 or 4 bits scales to 8. Interlaced (Adam7) images decode pass by pass.
Encoding writes filter None rows, deflated at the asked
compression level.
"""

import struct
import zlib

import numpy as np

from sessionlib.runtime.kernel_table import register_kernel
from sessionlib.runtime.kernels.array_kernels import invalid_argument

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# Samples per pixel of each PNG color type: gray, RGB, palette, gray + alpha, RGBA.
_SAMPLES = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_ALLOWED_DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}
# libpng's fixed-point weights (of 32768) for TF's png_set_rgb_to_gray(0.299, 0.587).
_GRAY_WEIGHTS = (9797, 19234, 32768 - 9797 - 19234)
# Guards a decoder against a header that claims an absurd image.
_MAX_PIXELS = 1 << 29


def bytes_of(contents, op_name):
    if isinstance(contents, np.ndarray) and contents.ndim != 0:
        raise invalid_argument(f"contents must be scalar, got shape {list(contents.shape)}")
    value = contents.item() if isinstance(contents, np.ndarray) else contents
    if isinstance(value, str):
        value = value.encode("latin-1")
    if not isinstance(value, (bytes, bytearray)):
        raise invalid_argument(f"{op_name}: contents must be a string")
    return bytes(value)


def _chunks(data):
    """(type, payload) of each chunk up to IEND, checked for length and CRC."""
    position = len(PNG_SIGNATURE)
    while True:
        if position + 12 > len(data):
            raise invalid_argument(f"Invalid PNG data, size {len(data)}: truncated chunk")
        (length,) = struct.unpack(">I", data[position:position + 4])
        kind = data[position + 4:position + 8]
        end = position + 8 + length
        if length > 0x7FFFFFFF or end + 4 > len(data):
            raise invalid_argument(f"Invalid PNG data, size {len(data)}: truncated chunk")
        payload = data[position + 8:end]
        (crc,) = struct.unpack(">I", data[end:end + 4])
        if zlib.crc32(kind + payload) != crc:
            raise invalid_argument(f"Invalid PNG data: CRC error in chunk {kind!r}")
        yield kind, payload
        if kind == b"IEND":
            return
        position = end + 4


def _parse(data):
    """(width, height, bit depth, color type, palette or None, tRNS payload or None, the
    inflated image data)."""
    if not data.startswith(PNG_SIGNATURE):
        raise invalid_argument(f"Invalid PNG header, data size {len(data)}")
    header = palette = transparency = None
    compressed = []
    for kind, payload in _chunks(data):
        if header is None:
            if kind != b"IHDR" or len(payload) != 13:
                raise invalid_argument("Invalid PNG: the first chunk must be a 13-byte IHDR")
            header = struct.unpack(">IIBBBBB", payload)
        elif kind == b"PLTE":
            if len(payload) % 3 or not payload:
                raise invalid_argument("Invalid PNG: PLTE length is not a multiple of 3")
            palette = np.frombuffer(payload, np.uint8).reshape(-1, 3)
        elif kind == b"tRNS":
            transparency = payload
        elif kind == b"IDAT":
            compressed.append(payload)
    if header is None:
        raise invalid_argument("Invalid PNG: no IHDR chunk")
    width, height, depth, color_type, compression, filter_method, interlace = header
    if color_type not in _SAMPLES or depth not in _ALLOWED_DEPTHS[color_type]:
        raise invalid_argument(f"Invalid PNG: bit depth {depth} with color type {color_type}")
    if compression != 0 or filter_method != 0:
        raise invalid_argument("Invalid PNG: unknown compression or filter method")
    if interlace not in (0, 1):
        raise invalid_argument(f"Invalid PNG: unknown interlace method {interlace}")
    if width == 0 or height == 0 or width * height > _MAX_PIXELS:
        raise invalid_argument(f"Invalid PNG: image size {width}x{height}")
    if color_type == 3 and palette is None:
        raise invalid_argument("Invalid PNG: a palette image without PLTE")
    if not compressed:
        raise invalid_argument("Invalid PNG: no IDAT chunk")
    passes = _passes(width, height, interlace)
    expected = sum(rows * (_stride(columns, color_type, depth) + 1)
                   for _, _, _, _, columns, rows in passes)
    try:
        inflater = zlib.decompressobj()
        raw = inflater.decompress(b"".join(compressed), expected)
    except zlib.error as error:
        raise invalid_argument(f"Invalid PNG: corrupt image data ({error})") from None
    if len(raw) < expected:
        raise invalid_argument(f"Invalid PNG: image data too short ({len(raw)} bytes of "
                               f"{expected})")
    return width, height, depth, color_type, palette, transparency, raw, passes


# Adam7's seven passes: (first column, first row, column step, row step).
_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
          (0, 1, 1, 2))


def _passes(width, height, interlace):
    """(first column, first row, column step, row step, columns, rows) of each non-empty
    pass: the whole image for a plain PNG, Adam7's sub-images for an interlaced one."""
    if interlace == 0:
        return [(0, 0, 1, 1, width, height)]
    found = []
    for x0, y0, dx, dy in _ADAM7:
        columns, rows = -(-(width - x0) // dx), -(-(height - y0) // dy)
        if columns > 0 and rows > 0:
            found.append((x0, y0, dx, dy, columns, rows))
    return found


def _stride(columns, color_type, depth):
    return (columns * _SAMPLES[color_type] * depth + 7) // 8


def _paeth(left, up, up_left):
    estimate = left.astype(np.int16) + up - up_left
    distance_left = np.abs(estimate - left)
    distance_up = np.abs(estimate - up)
    distance_up_left = np.abs(estimate - up_left)
    return np.where((distance_left <= distance_up) & (distance_left <= distance_up_left), left,
                    np.where(distance_up <= distance_up_left, up, up_left)).astype(np.uint8)


def _unfilter(raw, height, stride, pixel_bytes):
    """The [height, stride] byte rows with their filters undone."""
    rows = np.frombuffer(raw, np.uint8, height * (stride + 1)).reshape(height, stride + 1)
    filters, rows = rows[:, 0], rows[:, 1:]
    if np.any(filters > 4):
        raise invalid_argument(f"Invalid PNG: unknown row filter {int(filters.max())}")
    out = np.zeros((height, stride), np.uint8)
    previous = np.zeros(stride, np.uint8)
    # Pixels of `pixel_bytes` bytes: a byte's left neighbour is a pixel back.
    columns = -(-stride // pixel_bytes)
    padded_width = columns * pixel_bytes
    for index in range(height):
        row, kind = rows[index], filters[index]
        if kind == 0:
            current = row.copy()
        elif kind == 2:
            current = row + previous
        else:
            line = np.zeros(padded_width, np.uint8)
            line[:stride] = row
            above = np.zeros(padded_width, np.uint8)
            above[:stride] = previous
            line, above = line.reshape(columns, pixel_bytes), above.reshape(columns, pixel_bytes)
            if kind == 1:
                # Each pixel adds the reconstructed pixel to its left: a running sum mod 256.
                current = np.cumsum(line, axis=0, dtype=np.uint64).astype(np.uint8)
            else:
                current = np.zeros_like(line)
                left = np.zeros(pixel_bytes, np.uint8)
                up_left = np.zeros(pixel_bytes, np.uint8)
                for column in range(columns):
                    up = above[column]
                    if kind == 3:
                        predictor = ((left.astype(np.uint16) + up) // 2).astype(np.uint8)
                    else:
                        predictor = _paeth(left, up, up_left)
                    left = line[column] + predictor
                    current[column] = left
                    up_left = up
            current = current.reshape(-1)[:stride]
        out[index] = current
        previous = out[index]
    return out


def _samples(rows, width, height, depth, samples):
    """[height, width, samples] sample values (uint8, or uint16 for 16 bits)."""
    if depth == 16:
        values = rows.reshape(height, -1).view(">u2").astype(np.uint16)
        return values[:, :width * samples].reshape(height, width, samples)
    if depth == 8:
        return rows[:, :width * samples].reshape(height, width, samples)
    bits = np.unpackbits(rows, axis=1).reshape(height, -1, depth)
    weights = (1 << np.arange(depth - 1, -1, -1)).astype(np.uint8)
    values = (bits * weights).sum(axis=-1).astype(np.uint8)
    return values[:, :width * samples].reshape(height, width, samples)


def _to_rgb_gray(rgb):
    """libpng's gray of RGB (the weights TF asks for): truncated for 8 bits, rounded for 16."""
    wide = rgb.astype(np.int64)
    total = sum(weight * wide[..., index] for index, weight in enumerate(_GRAY_WEIGHTS))
    gray = total >> 15 if rgb.dtype == np.uint8 else (total + 16384) >> 15
    # A gray pixel stays exactly itself.
    uniform = (rgb[..., 0] == rgb[..., 1]) & (rgb[..., 0] == rgb[..., 2])
    return np.where(uniform, rgb[..., 0], gray).astype(rgb.dtype)[..., None]


def decode_png_array(data, channels, dtype):
    """The [height, width, channels] array of PNG bytes `data`.

    Raises:
      InvalidArgumentError: for anything but a well-formed PNG.
    """
    width, height, depth, color_type, palette, transparency, raw, passes = _parse(data)
    samples = _SAMPLES[color_type]
    pixel_bytes = max(1, samples * depth // 8)
    image = np.zeros((height, width, samples), np.uint16 if depth == 16 else np.uint8)
    offset = 0
    for x0, y0, dx, dy, columns, rows in passes:
        # Each pass is a small image of its own, filtered row by row.
        stride = _stride(columns, color_type, depth)
        size = rows * (stride + 1)
        unfiltered = _unfilter(raw[offset:offset + size], rows, stride, pixel_bytes)
        image[y0::dy, x0::dx] = _samples(unfiltered, columns, rows, depth, samples)
        offset += size
    if color_type == 3:
        indices = image[..., 0]
        colors = palette
        if transparency is not None:
            alpha = np.full(len(palette), 255, np.uint8)
            alpha[:min(len(transparency), len(palette))] = np.frombuffer(
                transparency[:len(palette)], np.uint8)
            colors = np.concatenate([palette, alpha[:, None]], axis=1)
        if int(indices.max()) >= len(colors):
            raise invalid_argument("Invalid PNG: palette index out of range")
        image = colors[indices]
    elif color_type == 0 and depth < 8:
        image = (image.astype(np.uint16) * (255 // ((1 << depth) - 1))).astype(np.uint8)
    if dtype == np.uint8 and image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    elif dtype == np.uint16 and image.dtype == np.uint8:
        image = image.astype(np.uint16) * 257
    return _convert_channels(image, channels)


def _convert_channels(image, channels):
    have = image.shape[-1]
    if channels in (0, have):
        return np.ascontiguousarray(image)
    opaque = np.iinfo(image.dtype).max
    color = image[..., :3] if have >= 3 else np.repeat(image[..., :1], 3, axis=-1)
    alpha = image[..., have - 1:] if have in (2, 4) else np.full(image.shape[:2] + (1,),
                                                                  opaque, image.dtype)
    if channels == 1:
        result = image[..., :1] if have <= 2 else _to_rgb_gray(color)
    elif channels == 2:
        gray = image[..., :1] if have <= 2 else _to_rgb_gray(color)
        result = np.concatenate([gray, alpha], axis=-1)
    elif channels == 3:
        result = color
    else:
        result = np.concatenate([color, alpha], axis=-1)
    return np.ascontiguousarray(result)


def _check_channels_attr(channels):
    if channels not in (0, 1, 3, 4):
        raise invalid_argument(f"channels must be 0, 1, 3, or 4, got {channels}")


def decode_arguments(inputs, attrs, op_name):
    """(the encoded bytes, the channels asked for, the pixel numpy dtype) of a decode op."""
    (contents,) = inputs
    channels = int(attrs.get("channels", 0))
    _check_channels_attr(channels)
    data = bytes_of(contents, op_name)
    if not data:
        raise invalid_argument("Input is empty.")
    return data, channels, np.dtype(attrs["dtype"].as_numpy_dtype)


def _decode_png_kernel(ctx, inputs, attrs):
    return (decode_png_array(*decode_arguments(inputs, attrs, "DecodePng")),)


def _chunk(kind, payload):
    return (struct.pack(">I", len(payload)) + kind + payload
            + struct.pack(">I", zlib.crc32(kind + payload)))


def encode_png_bytes(image, compression):
    """The PNG bytes of a [height, width, channels] uint8 or uint16 array."""
    height, width, channels = image.shape
    depth = 16 if image.dtype == np.uint16 else 8
    color_type = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    samples = image.astype(">u2") if depth == 16 else image
    rows = np.ascontiguousarray(samples).reshape(height, -1).view(np.uint8)
    # Filter None on every row: a 0 byte before each.
    filtered = np.concatenate([np.zeros((height, 1), np.uint8), rows], axis=1)
    header = struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, 0)
    return (PNG_SIGNATURE + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(filtered.tobytes(), compression))
            + _chunk(b"IEND", b""))


def _encode_png_kernel(ctx, inputs, attrs):
    (image,) = inputs
    compression = int(attrs.get("compression", -1))
    if image.ndim != 3:
        raise invalid_argument(f"image must be 3-dimensional{list(image.shape)}")
    if image.shape[2] not in (1, 2, 3, 4):
        raise invalid_argument(f"image must have 1, 2, 3, or 4 channels, got "
                               f"{image.shape[2]}")
    if not -1 <= compression <= 9:
        raise invalid_argument(f"compression should be in [-1,9], got {compression}")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise invalid_argument(f"Invalid image dimensions {list(image.shape)}")
    if image.shape[0] >= 1 << 31 or image.shape[1] >= 1 << 31:
        raise invalid_argument("image too large to encode")
    return (np.array(encode_png_bytes(image, compression), dtype=object),)


register_kernel("DecodePng", reference=_decode_png_kernel)
register_kernel("EncodePng", reference=_encode_png_kernel)
