"""tf.image color spaces (rgb_to_hsv, hsv_to_rgb, adjust_hue / _saturation / _gamma and their
random variants) against numpy references, and the PNG codec (decode_png, encode_png,
decode_image) on TF-written files, hand-built files of every color type and filter, round
trips and corrupt data."""

import colorsys
import pathlib
import struct
import zlib

import numpy as np
import pytest

import sessionlib as tf

PNG_DIR = pathlib.Path(__file__).parent / "data" / "png"
RNG = np.random.default_rng(11)


def _run(fetches, feed_dict=None):
    with tf.Session() as session:
        return session.run(fetches, feed_dict)


@pytest.fixture(autouse=True)
def _fresh_graph():
    with tf.Graph().as_default():
        yield


def _colors(shape=(4, 5)):
    pixels = RNG.random(shape + (3,))
    # Gray, black, white and primary pixels: the HSV formulas' edge cases.
    edges = np.array([[0, 0, 0], [1, 1, 1], [0.4, 0.4, 0.4], [1, 0, 0], [0, 1, 0], [0, 0, 1],
                      [1, 1, 0], [0.2, 0.9, 0.9]])
    return np.concatenate([pixels.reshape(-1, 3), edges]).reshape(-1, 4, 3)


def _hsv_reference(images):
    flat = [colorsys.rgb_to_hsv(*pixel) for pixel in images.reshape(-1, 3)]
    return np.array(flat).reshape(images.shape)


def _rgb_reference(images):
    flat = [colorsys.hsv_to_rgb(*pixel) for pixel in images.reshape(-1, 3)]
    return np.array(flat).reshape(images.shape)


# ---- HSV ------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype, tolerance", [(np.float64, 1e-12), (np.float32, 1e-6),
                                              (np.float16, 2e-3)])
def test_rgb_to_hsv_matches_colorsys(dtype, tolerance):
    images = _colors().astype(dtype)
    hsv = _run(tf.image.rgb_to_hsv(images))
    assert hsv.dtype == dtype and hsv.shape == images.shape
    np.testing.assert_allclose(hsv, _hsv_reference(images.astype(np.float64)), atol=tolerance)


def test_rgb_to_hsv_known_values():
    images = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [0.5, 0.25, 0.25],
                       [0, 0, 0]], np.float32)
    expected = np.array([[0, 1, 1], [1 / 3, 1, 1], [2 / 3, 1, 1], [1 / 6, 1, 1],
                         [0, 0.5, 0.5], [0, 0, 0]], np.float32)
    np.testing.assert_allclose(_run(tf.image.rgb_to_hsv(images)), expected, atol=1e-7)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_hsv_to_rgb_matches_colorsys_and_round_trips(dtype):
    hsv = RNG.random((3, 4, 3)).astype(dtype)
    rgb = _run(tf.image.hsv_to_rgb(hsv))
    np.testing.assert_allclose(rgb, _rgb_reference(hsv.astype(np.float64)), atol=1e-6)
    images = _colors().astype(dtype)
    round_trip = _run(tf.image.hsv_to_rgb(tf.image.rgb_to_hsv(images)))
    np.testing.assert_allclose(round_trip, images, atol=1e-6)


def test_color_conversion_checks_channels_and_dtype():
    with pytest.raises(ValueError, match="3"):
        tf.image.rgb_to_hsv(np.zeros((2, 4), np.float32))
    with pytest.raises(TypeError, match="images"):
        tf.image.hsv_to_rgb(np.zeros((2, 3), np.int32))
    images = tf.placeholder(tf.float32, [None, None])
    with pytest.raises(tf.errors.InvalidArgumentError, match="3 channels"):
        _run(tf.image.rgb_to_hsv(images), {images: np.zeros((2, 2), np.float32)})


def test_gradients_follow_tf():
    images = tf.constant(_colors()[:2])
    # HSVToRGB is not differentiable; AdjustHue and AdjustSaturation have no gradient at all.
    assert tf.gradients(tf.image.hsv_to_rgb(images), images) == [None]
    for adjusted in (tf.image.adjust_hue(tf.cast(images, tf.float32), 0.2),
                     tf.image.adjust_saturation(tf.cast(images, tf.float32), 0.5)):
        with pytest.raises(LookupError, match="No gradient defined"):
            tf.gradients(adjusted, images)


def test_rgb_to_hsv_gradient_value():
    # Red is the max, blue the min: H = (g - b) / (6 (r - b)), S = 1 - b / r, V = r.
    r, g, b = 0.8, 0.5, 0.2
    pixel = tf.constant([[r, g, b]], tf.float64)
    hue, saturation, value = tf.unstack(tf.image.rgb_to_hsv(pixel)[0])
    d_hue, d_saturation, d_value = _run([tf.gradients(t, pixel)[0][0]
                                         for t in (hue, saturation, value)])
    spread = r - b
    np.testing.assert_allclose(d_hue, [-(g - b) / spread ** 2 / 6, 1 / spread / 6,
                                       (-1 / spread + (g - b) / spread ** 2) / 6])
    np.testing.assert_allclose(d_saturation, [b / r ** 2, 0, -1 / r])
    np.testing.assert_allclose(d_value, [1, 0, 0])


# ---- hue, saturation, gamma -----------------------------------------------------------------

def _hue_reference(images, delta):
    hsv = _hsv_reference(images)
    hsv[..., 0] = np.mod(hsv[..., 0] + delta, 1.0)
    return _rgb_reference(hsv)


@pytest.mark.parametrize("delta", [0.0, 0.25, -0.6, 1.0, -1.0])
def test_adjust_hue_matches_hsv_rotation(delta):
    images = _colors().astype(np.float32)
    adjusted = _run(tf.image.adjust_hue(images, delta))
    assert adjusted.dtype == np.float32
    np.testing.assert_allclose(adjusted, _hue_reference(images.astype(np.float64), delta),
                               atol=2e-6)


def test_adjust_hue_known_values_and_integer_images():
    red = np.array([[[1.0, 0.0, 0.0]]], np.float32)
    np.testing.assert_allclose(_run(tf.image.adjust_hue(red, 1 / 3)), [[[0, 1, 0]]],
                               atol=1e-6)
    np.testing.assert_allclose(_run(tf.image.adjust_hue(red, -1 / 3)), [[[0, 0, 1]]],
                               atol=1e-6)
    images = (RNG.random((3, 4, 3)) * 255).astype(np.uint8)
    adjusted = _run(tf.image.adjust_hue(images, 0.4))
    assert adjusted.dtype == np.uint8
    # The uint8 path: to [0, 1] floats, adjust, back by `* 255.5` truncated.
    expected = (_hue_reference(images / 255.0, 0.4) * 255.5).astype(np.uint8)
    assert np.abs(adjusted.astype(int) - expected).max() <= 1


def test_adjust_hue_of_nan_pixels_and_far_fed_deltas_gives_tf_values_not_an_error():
    # NaN hues take TF's last sextant; a huge or infinite delta (TF's loop never ends there)
    # is reduced with fmod instead of stepping whole turns forever.
    with tf.Graph().as_default():
        images = tf.placeholder(tf.float32, [1, 1, 3])
        delta = tf.placeholder(tf.float32, [])
        adjusted = tf.image.adjust_hue(images, delta)
        with tf.Session() as sess:
            def hue(pixel, shift):
                return sess.run(adjusted, {images: np.array(pixel, np.float32).reshape(1, 1, 3),
                                           delta: shift}).ravel().astype(np.float64)
            # The values TF 2.21's CPU kernel gives.
            tenth, fifth, three_tenths = (float(np.float32(v)) for v in (0.1, 0.2, 0.3))
            np.testing.assert_array_equal(hue([np.nan, 0.2, 0.3], 0.3), [np.nan, fifth, np.nan])
            np.testing.assert_array_equal(hue([0.1, 0.2, np.nan], 0.3), [fifth, tenth, np.nan])
            np.testing.assert_array_equal(hue([-np.inf, 0, 1], 0.3), [1, -np.inf, np.nan])
            np.testing.assert_array_equal(hue([0.1, 0.2, 0.3], np.nan),
                                          [three_tenths, tenth, np.nan])
            np.testing.assert_allclose(hue([0.1, 0.2, 0.3], 100.7), [0.16000977, 0.3, 0.1],
                                       rtol=1e-6)
            for far in (1e30, np.inf):
                value = hue([0.1, 0.2, 0.3], far)
                assert value.shape == (3,) and tenth in value and three_tenths in value


def test_adjust_hue_checks_delta():
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        tf.image.adjust_hue(np.zeros((1, 1, 3), np.float32), 1.5)
    with pytest.raises(ValueError, match="rank 3"):
        tf.image.adjust_hue(np.zeros((4, 3), np.float32), 0.1)


@pytest.mark.parametrize("factor", [0.0, 0.3, 1.0, 2.5, 10.0])
def test_adjust_saturation_matches_hsv_scaling(factor):
    images = _colors().astype(np.float32)
    hsv = _hsv_reference(images.astype(np.float64))
    hsv[..., 1] = np.clip(hsv[..., 1] * factor, 0, 1)
    adjusted = _run(tf.image.adjust_saturation(images, factor))
    np.testing.assert_allclose(adjusted, _rgb_reference(hsv), atol=2e-6)


def test_adjust_saturation_of_integer_images():
    images = (RNG.random((2, 3, 3)) * 255).astype(np.uint8)
    adjusted = _run(tf.image.adjust_saturation(images, 0.0))
    # No saturation leaves gray at each pixel's value (its max channel).
    expected = (images.max(axis=-1, keepdims=True) / 255.0 * 255.5).astype(np.uint8)
    np.testing.assert_array_equal(adjusted, np.repeat(expected, 3, axis=-1))


def test_adjust_contrast_v2_op():
    # The op of TF's adjust_contrast, for GraphDefs that hold it: each channel's mean over
    # height and width, and (x - mean) * factor + mean.
    images = RNG.random((2, 3, 4, 3)).astype(np.float32)
    source = tf.constant(images)
    adjusted = tf.get_default_graph().create_op(
        "AdjustContrastv2", [source, tf.constant(1.7)]).outputs[0]
    assert adjusted.shape.as_list() == [2, 3, 4, 3]
    mean = images.astype(np.float64).mean(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(_run(adjusted), (images - mean) * 1.7 + mean, atol=1e-6)
    with pytest.raises(LookupError, match="No gradient defined"):
        tf.gradients(adjusted, source)


def test_adjust_gamma_matches_formula():
    images = RNG.random((3, 4, 3)).astype(np.float32)
    adjusted = _run(tf.image.adjust_gamma(images, gamma=2.2, gain=1.3))
    np.testing.assert_allclose(adjusted, 1.3 * images.astype(np.float64) ** 2.2, rtol=1e-6)
    pixels = np.array([[[0, 64, 128, 255]]], np.uint8)
    # uint8: to [0, 1], gain * x ** gamma, back with saturation (1.5 * 1.0 clips to 255).
    got = _run(tf.image.adjust_gamma(pixels, gamma=0.5, gain=1.5))
    expected = np.minimum(1.5 * np.sqrt(pixels / 255.0) * 255.5, 255).astype(np.uint8)
    np.testing.assert_array_equal(got, expected)


def test_adjust_gamma_refuses_negative_gamma():
    image = np.ones((1, 1, 1), np.float32)
    with pytest.raises(ValueError, match="non-negative"):
        tf.image.adjust_gamma(image, gamma=-1)
    gamma = tf.placeholder(tf.float32, [])
    adjusted = tf.image.adjust_gamma(image, gamma=gamma)
    np.testing.assert_allclose(_run(adjusted, {gamma: 2.0}), image)
    with pytest.raises(tf.errors.InvalidArgumentError, match="non-negative"):
        _run(adjusted, {gamma: -0.5})


def test_random_hue_and_saturation():
    with pytest.raises(ValueError, match="<= 0.5"):
        tf.image.random_hue(np.zeros((1, 1, 3), np.float32), 0.6)
    with pytest.raises(ValueError, match="non-negative"):
        tf.image.random_hue(np.zeros((1, 1, 3), np.float32), -0.1)
    with pytest.raises(ValueError, match="upper must be > lower"):
        tf.image.random_saturation(np.zeros((1, 1, 3), np.float32), 0.5, 0.5)
    with pytest.raises(ValueError, match="non-negative"):
        tf.image.random_saturation(np.zeros((1, 1, 3), np.float32), -0.5, 0.5)
    red = np.array([[[1.0, 0.0, 0.0]]], np.float32)
    tf.set_random_seed(3)
    hue_of = tf.image.rgb_to_hsv(tf.image.random_hue(red, 0.2, seed=4))[..., 0]
    saturation_of = tf.image.rgb_to_hsv(
        tf.image.random_saturation(red, 0.2, 0.6, seed=5))[..., 1]
    with tf.Session() as session:
        draws = [session.run([hue_of, saturation_of]) for _ in range(6)]
    hues = np.array([hue.item() for hue, _ in draws])
    # A shift within [-0.2, 0.2) of red's hue 0, wrapped into [0, 1).
    assert np.all((hues < 0.2 + 1e-6) | (hues >= 0.8 - 1e-6))
    saturations = np.array([saturation.item() for _, saturation in draws])
    assert np.all((saturations >= 0.2 - 1e-6) & (saturations < 0.6 + 1e-6))
    assert len(set(hues.round(6))) > 1 and len(set(saturations.round(6))) > 1


# ---- PNG ------------------------------------------------------------------------------------

def _chunk(kind, payload):
    return (struct.pack(">I", len(payload)) + kind + payload
            + struct.pack(">I", zlib.crc32(kind + payload)))


def _filter_row(kind, row, previous, pixel_bytes):
    """PNG row filter `kind` applied to byte row `row` (pure Python, the spec's formulas)."""
    out = bytearray()
    for index, byte in enumerate(row):
        left = row[index - pixel_bytes] if index >= pixel_bytes else 0
        up = previous[index]
        up_left = previous[index - pixel_bytes] if index >= pixel_bytes else 0
        if kind == 0:
            predictor = 0
        elif kind == 1:
            predictor = left
        elif kind == 2:
            predictor = up
        elif kind == 3:
            predictor = (left + up) // 2
        else:
            estimate = left + up - up_left
            distances = [abs(estimate - left), abs(estimate - up), abs(estimate - up_left)]
            predictor = (left, up, up_left)[distances.index(min(distances))]
        out.append((byte - predictor) % 256)
    return bytes(out)


def _filtered(rows, filters, pixel_bytes):
    """Byte `rows` as PNG scanlines, each filtered with the next of `filters`."""
    previous = bytes(len(rows[0]))
    body = bytearray()
    for index, row in enumerate(rows):
        kind = filters[index % len(filters)]
        body += bytes([kind]) + _filter_row(kind, row, previous, pixel_bytes)
        previous = row
    return bytes(body)


def _build_png(rows, width, height, depth, color_type, filters, extra=b"", interlace=0,
               pixel_bytes=1, body=None):
    """PNG bytes of packed byte `rows`, each row filtered with the next of `filters` (or of
    the ready scanlines `body`)."""
    if body is None:
        body = _filtered(rows, filters, pixel_bytes)
    header = struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, interlace)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + extra
            + _chunk(b"IDAT", zlib.compress(bytes(body))) + _chunk(b"IEND", b""))


def _decode(data, **kwargs):
    return _run(tf.image.decode_png(data, **kwargs))


@pytest.mark.parametrize("name", ["gray8", "gray_alpha8", "rgb8", "rgba8", "rgb16",
                                  "gray16"])
def test_decode_png_files_written_by_tf(name):
    expected = np.load(PNG_DIR / f"{name}.npy")
    if expected.dtype == np.uint16:
        # sessionlib decodes to uint8: TF's dtype=uint8 keeps the high byte.
        expected = (expected >> 8).astype(np.uint8)
    decoded = _decode((PNG_DIR / f"{name}.png").read_bytes())
    assert decoded.dtype == np.uint8
    np.testing.assert_array_equal(decoded, expected)


def _libpng_gray(rgb):
    weighted = (9797 * rgb[..., 0].astype(np.int64) + 19234 * rgb[..., 1].astype(np.int64)
                + 3737 * rgb[..., 2].astype(np.int64)) >> 15
    uniform = (rgb[..., 0] == rgb[..., 1]) & (rgb[..., 1] == rgb[..., 2])
    return np.where(uniform, rgb[..., 0], weighted).astype(np.uint8)[..., None]


def test_decode_png_channel_conversions():
    gray = np.load(PNG_DIR / "gray8.npy")
    gray_alpha = np.load(PNG_DIR / "gray_alpha8.npy")
    rgb = np.load(PNG_DIR / "rgb8.npy")
    rgba = np.load(PNG_DIR / "rgba8.npy")

    def decode(name, channels):
        return _decode((PNG_DIR / f"{name}.png").read_bytes(), channels=channels)

    np.testing.assert_array_equal(decode("gray8", 3), np.repeat(gray, 3, axis=-1))
    np.testing.assert_array_equal(decode("gray8", 4)[..., 3], 255)
    np.testing.assert_array_equal(decode("gray_alpha8", 1), gray_alpha[..., :1])
    np.testing.assert_array_equal(decode("gray_alpha8", 4), np.concatenate(
        [np.repeat(gray_alpha[..., :1], 3, axis=-1), gray_alpha[..., 1:]], axis=-1))
    np.testing.assert_array_equal(decode("rgb8", 4), np.concatenate(
        [rgb, np.full(rgb.shape[:2] + (1,), 255, np.uint8)], axis=-1))
    np.testing.assert_array_equal(decode("rgba8", 3), rgba[..., :3])
    # Gray from color: libpng's fixed-point weights, the values TF gives.
    np.testing.assert_array_equal(decode("rgb8", 1), _libpng_gray(rgb))
    np.testing.assert_array_equal(decode("rgba8", 1), _libpng_gray(rgba[..., :3]))


@pytest.mark.parametrize("filters", [[0], [1], [2], [3], [4], [4, 3, 2, 1, 0]])
@pytest.mark.parametrize("color_type, channels, depth", [(0, 1, 8), (4, 2, 8), (2, 3, 8),
                                                         (6, 4, 8), (2, 3, 16), (4, 2, 16)])
def test_decode_hand_built_png_each_filter(filters, color_type, channels, depth):
    dtype = np.uint16 if depth == 16 else np.uint8
    image = RNG.integers(0, np.iinfo(dtype).max + 1, (5, 3, channels)).astype(dtype)
    rows = [image[row].astype(">u2").tobytes() if depth == 16 else image[row].tobytes()
            for row in range(5)]
    data = _build_png(rows, 3, 5, depth, color_type, filters,
                      pixel_bytes=channels * depth // 8)
    expected = (image >> 8).astype(np.uint8) if depth == 16 else image
    np.testing.assert_array_equal(_decode(data), expected)


def test_decode_palette_and_low_bit_depths():
    palette = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255], [9, 8, 7]], np.uint8)
    indices = np.array([[0, 1, 2, 3, 3], [3, 2, 1, 0, 1]], np.uint8)
    plte = _chunk(b"PLTE", palette.tobytes())
    rows8 = [bytes(row) for row in indices]
    np.testing.assert_array_equal(_decode(_build_png(rows8, 5, 2, 8, 3, [1, 4], plte)),
                                  palette[indices])
    # 2-bit indices, packed four to a byte (the last byte padded).
    rows2 = [bytes(np.packbits(np.unpackbits(row[:, None], axis=1)[:, 6:].reshape(-1)))
             for row in indices]
    with_alpha = plte + _chunk(b"tRNS", bytes([0, 128]))
    decoded = _decode(_build_png(rows2, 5, 2, 2, 3, [0, 2], with_alpha))
    alpha = np.array([0, 128, 255, 255], np.uint8)
    np.testing.assert_array_equal(decoded, np.concatenate(
        [palette[indices], alpha[indices][..., None]], axis=-1))
    # 1- and 4-bit gray scale to the full 8-bit range.
    bits = np.array([[1, 0, 1, 1, 0, 0, 1, 0, 1]], np.uint8)
    one_bit = _build_png([bytes(np.packbits(bits[0]))], 9, 1, 1, 0, [0])
    np.testing.assert_array_equal(_decode(one_bit)[..., 0], bits * 255)
    nibbles = np.array([[0, 15, 7]], np.uint8)
    four_bit = _build_png([bytes([0x0F, 0x70])], 3, 1, 4, 0, [0])
    np.testing.assert_array_equal(_decode(four_bit)[..., 0], nibbles * 17)


ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
         (0, 1, 1, 2))


@pytest.mark.parametrize("height, width", [(1, 1), (3, 2), (9, 11), (16, 5)])
@pytest.mark.parametrize("color_type, channels, depth", [(2, 3, 8), (4, 2, 16), (0, 1, 8)])
def test_decode_interlaced_png(height, width, color_type, channels, depth):
    dtype = np.uint16 if depth == 16 else np.uint8
    image = RNG.integers(0, np.iinfo(dtype).max + 1, (height, width, channels)).astype(dtype)
    body = b""
    # Adam7: seven sub-images, each filtered on its own (empty passes have no bytes).
    for index, (x0, y0, dx, dy) in enumerate(ADAM7):
        sub_image = image[y0::dy, x0::dx]
        if sub_image.size == 0:
            continue
        rows = [row.astype(">u2").tobytes() if depth == 16 else row.tobytes()
                for row in sub_image]
        body += _filtered(rows, [index % 5, 4, 1], channels * depth // 8)
    data = _build_png(None, width, height, depth, color_type, None, interlace=1, body=body)
    expected = (image >> 8).astype(np.uint8) if depth == 16 else image
    np.testing.assert_array_equal(_decode(data), expected)


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
@pytest.mark.parametrize("compression", [-1, 0, 9])
def test_encode_png_round_trip(channels, compression):
    image = RNG.integers(0, 256, (7, 5, channels)).astype(np.uint8)
    encoded = tf.image.encode_png(image, compression=compression)
    assert encoded.dtype == tf.string and encoded.shape.rank == 0
    data = _run(encoded)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    np.testing.assert_array_equal(_decode(data), image)
    decoded = tf.io.decode_png(tf.io.encode_png(image))
    assert decoded.shape.as_list() == [None, None, None]
    np.testing.assert_array_equal(_run(decoded), image)


def test_encode_png_errors():
    with pytest.raises(TypeError, match="image"):
        tf.image.encode_png(np.zeros((2, 2, 3), np.float32))
    with pytest.raises(ValueError, match="rank 3"):
        tf.image.encode_png(np.zeros((2, 3), np.uint8))
    with pytest.raises(tf.errors.InvalidArgumentError, match="channels"):
        _run(tf.image.encode_png(np.zeros((2, 2, 5), np.uint8)))
    with pytest.raises(tf.errors.InvalidArgumentError, match="compression"):
        _run(tf.image.encode_png(np.zeros((2, 2, 1), np.uint8), compression=12))


def _corrupt_pngs():
    good = (PNG_DIR / "rgb8.png").read_bytes()
    idat = good.index(b"IDAT")
    flipped_crc = bytearray(good)
    flipped_crc[idat + 6] ^= 0xFF
    row = RNG.integers(0, 256, 6).astype(np.uint8).tobytes()
    body = zlib.compress(b"\x07" + row + b"\x00" + row)
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    bad_filter = (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", body)
                  + _chunk(b"IEND", b""))
    short_data = (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header)
                  + _chunk(b"IDAT", zlib.compress(b"\x00" + row)) + _chunk(b"IEND", b""))
    garbage_data = (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header)
                    + _chunk(b"IDAT", b"not a zlib stream") + _chunk(b"IEND", b""))
    bad_depth = (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 3, 2,
                                                                     0, 0, 0))
                 + _chunk(b"IEND", b""))
    palette_index = _build_png([bytes([0, 5])], 2, 1, 8, 3, [0],
                               _chunk(b"PLTE", bytes(6)))
    return {"empty": (b"", "empty"), "not a PNG": (b"GIF89a....", "header"),
            "signature only": (good[:8], "truncated"), "truncated": (good[:-7], "truncated"),
            "CRC": (bytes(flipped_crc), "CRC"), "row filter": (bad_filter, "filter"),
            "short data": (short_data, "too short"), "zlib": (garbage_data, "corrupt"),
            "bit depth": (bad_depth, "bit depth"), "palette index": (palette_index, "palette"),
            "interlace method": (_build_png([row], 2, 1, 8, 2, [0], interlace=2),
                                 "interlace")}


@pytest.mark.parametrize("case", sorted(_corrupt_pngs()))
def test_decode_png_corrupt_data_is_invalid_argument(case):
    data, message = _corrupt_pngs()[case]
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        _decode(data)


def test_decode_png_argument_checks():
    data = (PNG_DIR / "gray8.png").read_bytes()
    with pytest.raises(tf.errors.InvalidArgumentError, match="channels must be 0, 1, 3, or 4"):
        _decode(data, channels=2)
    with pytest.raises(TypeError, match="uint16"):
        tf.image.decode_png(data, dtype=tf.int32)
    with pytest.raises(TypeError, match="string"):
        tf.image.decode_png(np.zeros((), np.float32))
    decoded = tf.image.decode_png(data, channels=3)
    assert decoded.dtype == tf.uint8 and decoded.shape.as_list() == [None, None, 3]
    # A batch of contents fed where a scalar is wanted says so (not numpy's .item() error).
    with tf.Graph().as_default():
        contents = tf.placeholder(tf.string)
        with tf.Session() as sess:
            with pytest.raises(tf.errors.InvalidArgumentError,
                               match=r"contents must be scalar, got shape \[2\]"):
                sess.run(tf.image.decode_png(contents), {contents: [data, data]})


def test_decode_image_png_and_unsupported_formats():
    data = (PNG_DIR / "rgba8.png").read_bytes()
    expected = np.load(PNG_DIR / "rgba8.npy")
    np.testing.assert_array_equal(_run(tf.image.decode_image(data)), expected)
    np.testing.assert_array_equal(_run(tf.io.decode_image(data, channels=3)),
                                  expected[..., :3])
    as_float = tf.image.decode_image(data, dtype=tf.float32, expand_animations=False)
    assert as_float.shape.as_list() == [None, None, None]
    np.testing.assert_allclose(_run(as_float), expected / 255.0, rtol=1e-6)
    # JPEG decodes too (tests/test_image_jpeg.py); these formats are not decoded.
    for header, name in ((b"GIF89a", "GIF"), (b"BM", "BMP"),
                         (b"RIFF\x00\x00\x00\x00WEBP", "WebP")):
        with pytest.raises(tf.errors.InvalidArgumentError, match=name):
            _run(tf.image.decode_image(header + bytes(20)))
    with pytest.raises(tf.errors.InvalidArgumentError, match="Unknown image file format"):
        _run(tf.image.decode_image(b"something else"))


def test_tf_graph_def_of_the_color_and_png_ops_runs_as_in_tf():
    # A TF 1 GraphDef (tests/data/png/make_pngs.py) through AdjustHue, AdjustSaturation,
    # AdjustContrastv2, RGBToHSV, HSVToRGB, EncodePng, DecodePng and DecodeImage.
    graph_def = tf.GraphDef.FromString((PNG_DIR / "color_graph.pb").read_bytes())
    expected = np.load(PNG_DIR / "color_graph.npz")
    tf.import_graph_def(graph_def, name="")
    decoded, decoded_image = _run(["decoded:0", "decoded_image:0"], {"x:0": expected["x"]})
    np.testing.assert_array_equal(decoded, expected["decoded"])
    np.testing.assert_array_equal(decoded_image, expected["decoded_image"])
