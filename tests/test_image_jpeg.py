"""The JPEG ops (decode_jpeg, decode_and_crop_jpeg, extract_jpeg_shape, encode_jpeg,
adjust_jpeg_quality, random_jpeg_quality, decode_image on JPEG) against TensorFlow's own
results, stored in tests/data/jpeg/ by tools/make_jpeg_test_data.py: decoded pixels equal
TF's exactly, encoded bytes equal TF's byte for byte."""

import pathlib
import sys

import numpy as np
import pytest

import sessionlib as tf
from sessionlib.runtime.kernels import image_jpeg_kernels

pytest.importorskip("PIL")

JPEG_DIR = pathlib.Path(__file__).parent / "data" / "jpeg"
DECODED = dict(np.load(JPEG_DIR / "decoded.npz"))
SOURCE = dict(np.load(JPEG_DIR / "source.npz"))
FILES = ("rgb", "odd", "rgb444", "gray")
# Subsampled color files: where Pillow cannot give libjpeg's accurate IDCT without fancy
# upsampling (see decode_jpeg's docstring).
SUBSAMPLED = ("rgb", "odd")
# The largest difference from TF in that one case, measured on these files.
ACCURATE_WITHOUT_FANCY_TOLERANCE = 8


def _run(fetches, feed_dict=None):
    with tf.Session() as session:
        return session.run(fetches, feed_dict)


def _data(name):
    return (JPEG_DIR / f"{name}.jpg").read_bytes()


@pytest.fixture(autouse=True)
def _fresh_graph():
    with tf.Graph().as_default():
        yield


@pytest.mark.parametrize("name", FILES)
@pytest.mark.parametrize("channels", [0, 1, 3])
def test_decode_jpeg_equals_tf(name, channels):
    contents = tf.placeholder(tf.string, [])
    keys, fetches = [], []
    for ratio in (1, 2, 4, 8):
        for dct in ("", "INTEGER_FAST", "INTEGER_ACCURATE"):
            for fancy in (True, False):
                keys.append(f"{name}_c{channels}_r{ratio}_{dct or 'default'}_{int(fancy)}")
                fetches.append(tf.image.decode_jpeg(contents, channels=channels, ratio=ratio,
                                                    dct_method=dct, fancy_upscaling=fancy))
    results = _run(fetches, {contents: _data(name)})
    for key, decoded in zip(keys, results):
        expected = DECODED[key]
        assert decoded.dtype == np.uint8 and decoded.shape == expected.shape, key
        inexact = (name in SUBSAMPLED and channels != 1 and "_r1_INTEGER_ACCURATE_0" in key)
        if inexact:
            difference = np.abs(decoded.astype(int) - expected).max()
            assert difference <= ACCURATE_WITHOUT_FANCY_TOLERANCE, key
        else:
            np.testing.assert_array_equal(decoded, expected, err_msg=key)


def test_decode_jpeg_static_shape_and_io_spelling():
    decoded = tf.io.decode_jpeg(_data("rgb"), channels=3)
    assert decoded.dtype == tf.uint8 and decoded.shape.as_list() == [None, None, 3]
    assert tf.image.decode_jpeg(_data("rgb")).shape.as_list() == [None, None, None]
    np.testing.assert_array_equal(_run(decoded), DECODED["rgb_c3_r1_default_1"])


def test_cmyk_decodes_to_rgb_as_tf():
    # An Adobe CMYK JPEG (written by Pillow): TF converts libjpeg's CMYK output to RGB.
    data = _data("cmyk")
    fetches = {f"cmyk_r{ratio}_{dct or 'default'}": tf.image.decode_jpeg(
        data, ratio=ratio, dct_method=dct) for ratio in (1, 2)
        for dct in ("", "INTEGER_ACCURATE")}
    fetches["cmyk_shape"] = tf.image.extract_jpeg_shape(data)
    for key, value in _run(fetches).items():
        np.testing.assert_array_equal(value, DECODED[key], err_msg=key)
    np.testing.assert_array_equal(_run(tf.image.decode_image(data, channels=3)),
                                  DECODED["cmyk_r1_default"])
    np.testing.assert_array_equal(_run(tf.image.decode_and_crop_jpeg(data, [1, 2, 3, 4])),
                                  DECODED["cmyk_r1_default"][1:4, 2:6])
    with pytest.raises(tf.errors.InvalidArgumentError, match="Invalid JPEG data"):
        _run(tf.image.decode_jpeg(data, channels=1))


def test_decode_and_crop_jpeg_equals_tf():
    # TF's crops of subsampled images are not slices of the full decode at their outer
    # columns (libjpeg-turbo upsamples the chroma of the aligned window alone).
    keys = [key for key in DECODED if key.startswith("crop_")]
    fetches = []
    for key in keys:
        name, *window = key.split("_")[1:]
        fetches.append(tf.image.decode_and_crop_jpeg(_data(name), [int(v) for v in window]))
    assert fetches[0].shape.as_list() == [7, 9, None]
    for key, cropped in zip(keys, _run(fetches)):
        np.testing.assert_array_equal(cropped, DECODED[key], err_msg=key)
    full = DECODED["rgb_c0_r1_default_1"]
    assert not np.array_equal(DECODED["crop_rgb_2_3_7_9"], full[2:9, 3:12])
    window = tf.placeholder(tf.int32, [4])
    ratio_crop = tf.io.decode_and_crop_jpeg(_data("rgb"), window, ratio=2, channels=1)
    np.testing.assert_array_equal(_run(ratio_crop, {window: [1, 1, 4, 5]}),
                                  DECODED["rgb_c1_r2_default_1"][1:5, 1:6])


@pytest.mark.parametrize("window", [[0, 0, 13, 16], [-1, 0, 2, 2], [0, 0, 0, 2],
                                    [0, 14, 2, 3]])
def test_decode_and_crop_jpeg_window_outside_is_invalid_argument(window):
    with pytest.raises(tf.errors.InvalidArgumentError, match="crop window"):
        _run(tf.image.decode_and_crop_jpeg(_data("rgb"), window))


def test_decode_and_crop_jpeg_window_of_three_values():
    window = tf.placeholder(tf.int32, [None])
    with pytest.raises(tf.errors.InvalidArgumentError, match="four elements"):
        _run(tf.image.decode_and_crop_jpeg(_data("rgb"), window), {window: [0, 0, 2]})


def test_truncated_data_recovers_as_tf_or_fails():
    data = _data("rgb")
    recovered = tf.image.decode_jpeg(data[:-2], try_recover_truncated=True)
    np.testing.assert_array_equal(_run(recovered), DECODED["truncated_recovered"])
    with pytest.raises(tf.errors.InvalidArgumentError, match="Invalid JPEG data"):
        _run(tf.image.decode_jpeg(data[:-2]))


@pytest.mark.parametrize("key", sorted(key for key in DECODED if key.startswith("partial_")))
def test_acceptable_fraction_keeps_the_rows_tf_keeps(key):
    # Truncated data without recovery: the rows libjpeg output before the data ran out, the
    # rest zero; fewer rows than acceptable_fraction (0.05 here) is an error, as in TF.
    name, length, channels, ratio, dct, fancy = key.split("_", 1)[1].replace(
        "INTEGER_ACCURATE", "ACCURATE").split("_")
    decode = tf.image.decode_jpeg(
        _data(name)[:int(length)], channels=int(channels[1:]), ratio=int(ratio[1:]),
        dct_method="" if dct == "default" else "INTEGER_ACCURATE", fancy_upscaling=fancy == "1",
        acceptable_fraction=0.05)
    if DECODED[key].size == 0:
        with pytest.raises(tf.errors.InvalidArgumentError, match="Invalid JPEG data"):
            _run(decode)
    else:
        np.testing.assert_array_equal(_run(decode), DECODED[key])


def test_acceptable_fraction_above_the_rows_read_fails():
    data = _data("big")[:-100]
    with pytest.raises(tf.errors.InvalidArgumentError, match="Invalid JPEG data"):
        _run(tf.image.decode_jpeg(data, acceptable_fraction=0.9))


def test_truncated_and_garbage_data_never_crash():
    data = _data("odd")
    contents = tf.placeholder(tf.string, [])
    plain = tf.image.decode_jpeg(contents)
    recovering = tf.image.decode_jpeg(contents, try_recover_truncated=True)
    rng = np.random.default_rng(1)
    flipped = bytearray(data)
    flipped[300:340] = rng.integers(0, 256, 40, dtype=np.uint8).tobytes()
    candidates = [data[:length] for length in range(3, len(data), 23)]
    candidates += [bytes(flipped), b"\xff\xd8\xff" + bytes(50), b"\xff\xd8\xff"]
    decoded = []
    with tf.Session() as session:
        for index, candidate in enumerate(candidates):
            for op in (plain, recovering):
                try:
                    pixels = session.run(op, {contents: candidate})
                except tf.errors.InvalidArgumentError as error:
                    assert "JPEG" in str(error)
                else:
                    assert pixels.shape == (11, 13, 3)
                    decoded.append((index, op is recovering))
    # Truncated data decodes only when recovery is asked for and the scan has begun (the
    # file's scan data starts 609 bytes in); the corrupt-but-complete file decodes both ways.
    truncations = len(candidates) - 3
    assert all(recovered for index, recovered in decoded if index < truncations)
    assert sum(1 for index, _ in decoded if index < truncations) >= 3


@pytest.mark.parametrize("contents, message", [
    (b"", "Input is empty"), (b"not an image", "Unknown image file format"),
    (b"GIF89a" + bytes(20), "Unknown image file format")])
def test_decode_jpeg_invalid_contents(contents, message):
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        _run(tf.image.decode_jpeg(contents))


def test_decode_jpeg_decodes_png_as_tf2():
    rgb = SOURCE["rgb"]
    np.testing.assert_array_equal(_run(tf.io.decode_jpeg(tf.io.encode_png(rgb))), rgb)


@pytest.mark.parametrize("attrs, message", [
    ({"channels": 4}, "JPEG does not support 4 channels"),
    ({"channels": 2}, "channels must be 0, 1, or 3"),
    ({"ratio": 3}, "ratio must be 1, 2, 4, or 8, got 3"),
    ({"dct_method": "FLOAT"}, "dct_method must be one of")])
def test_decode_jpeg_attr_checks_at_run_time(attrs, message):
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        _run(tf.image.decode_jpeg(_data("rgb"), **attrs))


def test_graph_time_type_and_rank_errors():
    with pytest.raises(ValueError, match="Shape must be rank 0 but is rank 1"):
        tf.image.decode_jpeg(tf.constant([_data("rgb")]))
    with pytest.raises(TypeError, match="string"):
        tf.image.decode_jpeg(tf.zeros([], tf.int32))
    with pytest.raises(TypeError, match="uint8"):
        tf.image.encode_jpeg(tf.zeros([2, 2, 3], tf.float32))
    with pytest.raises(ValueError, match="Shape must be rank 3 but is rank 2"):
        tf.image.encode_jpeg(tf.zeros([2, 2], tf.uint8))
    with pytest.raises(ValueError, match="'format' of \"x\" is not in the list"):
        tf.image.encode_jpeg(tf.zeros([2, 2, 3], tf.uint8), format="x")
    with pytest.raises(ValueError, match="'density_unit'"):
        tf.image.encode_jpeg(tf.zeros([2, 2, 3], tf.uint8), density_unit="mm")
    with pytest.raises(TypeError, match="int32"):
        tf.image.decode_and_crop_jpeg(_data("rgb"), tf.zeros([4], tf.float32))
    with pytest.raises(TypeError, match="output_type"):
        tf.image.extract_jpeg_shape(_data("rgb"), output_type=tf.float32)


def test_extract_jpeg_shape():
    shapes = _run([tf.image.extract_jpeg_shape(_data("odd")),
                   tf.io.extract_jpeg_shape(_data("gray"), output_type=tf.int64)])
    assert shapes[0].dtype == np.int32 and shapes[0].tolist() == [11, 13, 3]
    assert shapes[1].dtype == np.int64 and shapes[1].tolist() == [12, 16, 1]
    with pytest.raises(tf.errors.InvalidArgumentError, match="Invalid JPEG data"):
        _run(tf.image.extract_jpeg_shape(b"\x89PNG\r\n\x1a\n"))


@pytest.mark.parametrize("file_name, source, attrs", [
    ("rgb", "rgb", {}), ("odd", "odd", {"quality": 80}),
    ("rgb444", "rgb", {"chroma_downsampling": False}), ("gray", "gray", {}),
    ("encoded_q50_444_progressive_optimized", "rgb",
     {"quality": 50, "chroma_downsampling": False, "progressive": True,
      "optimize_size": True}),
    ("encoded_cm_xmp", "rgb", {"density_unit": "cm", "x_density": 10, "y_density": 20,
                               "xmp_metadata": "<x>hi</x>"}),
    ("encoded_odd_q10", "odd", {"quality": 10}),
    ("encoded_rgbformat_q70", "rgb", {"format": "rgb", "quality": 70})])
def test_encode_jpeg_equals_tf_byte_for_byte(file_name, source, attrs):
    encoded = _run(tf.image.encode_jpeg(SOURCE[source], **attrs))
    assert encoded == _data(file_name)


def test_encode_decode_round_trip():
    rgb, gray = SOURCE["rgb"], SOURCE["gray"]
    image = tf.placeholder(tf.uint8, [None, None, 3])
    encoded = tf.io.encode_jpeg(image, quality=100, chroma_downsampling=False)
    decoded = _run(tf.image.decode_jpeg(encoded, channels=3), {image: rgb})
    assert decoded.shape == rgb.shape
    # Quality 100 without chroma subsampling, decoded with the fast IDCT, on a noisy image:
    # close to the source (measured: max 15, mean 3.2), not equal.
    assert np.abs(decoded.astype(int) - rgb).mean() < 4
    assert np.abs(decoded.astype(int) - rgb).max() <= 16
    # The accurate IDCT brings quality-100 gray back within one level (measured: max 1).
    gray_round_trip = _run(tf.image.decode_jpeg(tf.image.encode_jpeg(gray, quality=100),
                                                dct_method="INTEGER_ACCURATE"))
    assert gray_round_trip.shape == gray.shape
    assert np.abs(gray_round_trip.astype(int) - gray).max() <= 1


@pytest.mark.parametrize("image, attrs, message", [
    (np.zeros((2, 2, 2), np.uint8), {}, "image must have 1 or 3 channels"),
    (np.zeros((2, 2, 3), np.uint8), {"quality": 101}, r"quality must be in \[0,100\]"),
    (np.zeros((2, 2, 1), np.uint8), {"format": "rgb"}, "format rgb expects 3 channels"),
    (np.zeros((2, 2, 3), np.uint8), {"format": "grayscale"}, "expects 1 channels"),
    (np.zeros((0, 2, 3), np.uint8), {}, "image dimensions")])
def test_encode_jpeg_run_time_errors(image, attrs, message):
    fed = tf.placeholder(tf.uint8)
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        _run(tf.image.encode_jpeg(fed, **attrs), {fed: image})


def test_decode_image_dispatches_jpeg():
    data = _data("rgb")
    np.testing.assert_array_equal(_run(tf.image.decode_image(data)),
                                  DECODED["rgb_c0_r1_default_1"])
    np.testing.assert_array_equal(_run(tf.io.decode_image(_data("gray"), channels=3)),
                                  DECODED["gray_c3_r1_default_1"])
    as_float = tf.image.decode_image(data, dtype=tf.float32, expand_animations=False)
    np.testing.assert_allclose(_run(as_float), DECODED["rgb_c0_r1_default_1"] / 255.0,
                               rtol=1e-6)
    with pytest.raises(tf.errors.InvalidArgumentError, match="JPEG does not support 4"):
        _run(tf.image.decode_image(data, channels=4))


def test_adjust_jpeg_quality_equals_tf():
    adjusted = tf.image.adjust_jpeg_quality(DECODED["adjust_input"], 75)
    assert adjusted.dtype == tf.float32
    np.testing.assert_allclose(_run(adjusted), DECODED["adjusted_q75"], rtol=1e-6)
    quality = tf.placeholder(tf.int32, [])
    as_uint8 = tf.image.adjust_jpeg_quality(SOURCE["rgb"], quality)
    np.testing.assert_array_equal(_run(as_uint8, {quality: 95}),
                                  DECODED["rgb_c3_r1_default_1"])
    with pytest.raises(tf.errors.InvalidArgumentError, match="quality must be in"):
        _run(as_uint8, {quality: -1})


def test_random_jpeg_quality():
    rgb = SOURCE["rgb"]
    noisy = tf.image.random_jpeg_quality(rgb, 40, 60, seed=3)
    first, second = _run([noisy, noisy])
    assert first.shape == rgb.shape and first.dtype == np.uint8
    assert 0 < np.abs(first.astype(int) - rgb).mean() < 20
    np.testing.assert_array_equal(first, second)  # one draw per run
    with pytest.raises(ValueError, match="between 0 and 100"):
        tf.image.random_jpeg_quality(rgb, -1, 50)
    with pytest.raises(ValueError, match="less than"):
        tf.image.random_jpeg_quality(rgb, 50, 50)


def test_jpeg_ops_are_not_differentiable():
    image = tf.placeholder(tf.float32, [4, 4, 3])
    pixels = tf.image.convert_image_dtype(image, tf.uint8, saturate=True)
    decoded = tf.image.decode_jpeg(tf.image.encode_jpeg(pixels))
    assert tf.gradients(tf.reduce_sum(tf.cast(decoded, tf.float32)), image) == [None]


def test_missing_pillow_names_the_extra(monkeypatch):
    # The kernel imports Pillow when it runs; a None entry makes that import fail.
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(tf.errors.UnimplementedError, match=r"pip install sessionlib\[image\]"):
        image_jpeg_kernels.decode_jpeg_array(_data("rgb"))
    with pytest.raises(tf.errors.UnimplementedError, match="Pillow"):
        image_jpeg_kernels.encode_jpeg_bytes(SOURCE["rgb"])


def test_tf_graph_def_of_the_jpeg_ops_runs_as_in_tf():
    # A TF 1 GraphDef (tools/make_jpeg_test_data.py) through DecodeJpeg, EncodeJpeg,
    # DecodeAndCropJpeg, ExtractJpegShape and EncodeJpegVariableQuality, with TF's attrs.
    graph_def = tf.GraphDef.FromString((JPEG_DIR / "jpeg_graph.pb").read_bytes())
    expected = np.load(JPEG_DIR / "jpeg_graph.npz")
    tf.import_graph_def(graph_def, name="")
    names = ["encoded", "decoded_half", "cropped", "shape", "adjusted"]
    values = _run([f"{name}:0" for name in names], {"contents:0": _data("odd")})
    results = dict(zip(names, values))
    assert results.pop("encoded") == expected["encoded"].tobytes()
    for name, value in results.items():
        assert value.dtype == expected[name].dtype, name
        np.testing.assert_array_equal(value, expected[name], err_msg=name)
