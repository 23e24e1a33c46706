"""tf.image: the compositions of existing ops (flips, rotations, crops, pads, brightness,
contrast, grayscale, dtype conversion, per-image standardization), checked against numpy
references; random variants by their properties."""

import numpy as np
import pytest

import sessionlib as tf
from sessionlib import errors

from _gradient_check import GradCase, check_case

RNG = np.random.default_rng(7)
IMAGE = RNG.uniform(0, 1, (5, 6, 3)).astype(np.float32)
BATCH = RNG.uniform(0, 1, (2, 5, 6, 3)).astype(np.float32)
UINT8 = RNG.integers(0, 256, (4, 5, 3)).astype(np.uint8)

# How a test feeds its image: static shape, unknown dims, unknown rank.
SHAPE_MODES = ["static", "dynamic", "unknown_rank"]


def _placeholder(value, mode):
    shape = {"static": value.shape, "dynamic": [None] * value.ndim, "unknown_rank": None}[mode]
    return tf.placeholder(tf.as_dtype(value.dtype), shape)


def _run(build, *values, mode="static"):
    """Builds `build(*placeholders)` in a fresh graph and runs it on `values`."""
    with tf.Graph().as_default():
        placeholders = [_placeholder(v, mode) for v in values]
        result = build(*placeholders)
        with tf.Session() as sess:
            return sess.run(result, dict(zip(placeholders, values)))


# ---- flips, transposes, rotations -----------------------------------------------------------

@pytest.mark.parametrize("mode", SHAPE_MODES)
@pytest.mark.parametrize("value", [IMAGE, BATCH], ids=["3d", "4d"])
def test_flips_and_transpose_match_numpy(value, mode, executor):
    batch = value.ndim == 4
    height, width = (1, 2) if batch else (0, 1)
    flips = _run(lambda x: [tf.image.flip_left_right(x), tf.image.flip_up_down(x),
                            tf.image.transpose_image(x)], value, mode=mode)
    np.testing.assert_array_equal(flips[0], np.flip(value, width))
    np.testing.assert_array_equal(flips[1], np.flip(value, height))
    np.testing.assert_array_equal(flips[2], np.swapaxes(value, height, width))


@pytest.mark.parametrize("mode", SHAPE_MODES)
@pytest.mark.parametrize("k", [0, 1, 2, 3, -1, 6])
def test_rot90_rotates_counter_clockwise(k, mode):
    for value in (IMAGE, BATCH):
        axes = (1, 2) if value.ndim == 4 else (0, 1)
        result = _run(lambda x: tf.image.rot90(x, k), value, mode=mode)
        np.testing.assert_array_equal(result, np.rot90(value, k, axes=axes))


def test_rot90_takes_a_tensor_k_and_keeps_batch_and_channels_static():
    with tf.Graph().as_default():
        image = tf.placeholder(tf.float32, [5, 6, 3])
        batch = tf.placeholder(tf.float32, [2, 5, 6, 3])
        k = tf.placeholder(tf.int32, [])
        assert tf.image.rot90(image, k).shape.as_list() == [None, None, 3]
        assert tf.image.rot90(batch, 1).shape.as_list() == [2, None, None, 3]
        with tf.Session() as sess:
            result = sess.run(tf.image.rot90(image, k), {image: IMAGE, k: 3})
        np.testing.assert_array_equal(result, np.rot90(IMAGE, 3))
        with pytest.raises(ValueError):
            tf.image.rot90(image, [1, 2])


def test_static_shapes_follow_tf():
    with tf.Graph().as_default():
        image = tf.placeholder(tf.float32, [4, 5, 3])
        batch = tf.placeholder(tf.float32, [2, 4, 5, 3])
        dynamic = tf.placeholder(tf.float32, [None, None, 3])
        unknown = tf.placeholder(tf.float32)
        img = tf.image
        assert img.flip_left_right(image).shape.as_list() == [4, 5, 3]
        assert img.random_flip_up_down(batch).shape.as_list() == [2, 4, 5, 3]
        assert img.transpose_image(image).shape.as_list() == [5, 4, 3]
        assert img.transpose_image(batch).shape.as_list() == [2, 5, 4, 3]
        assert img.transpose_image(dynamic).shape.as_list() == [None, None, 3]
        assert img.transpose_image(unknown).shape.rank is None
        assert img.central_crop(image, 0.5).shape.as_list() == [2, 3, 3]
        assert img.central_crop(batch, 0.5).shape.as_list() == [2, 2, 3, 3]
        assert img.central_crop(dynamic, 0.5).shape.as_list() == [None, None, 3]
        assert img.pad_to_bounding_box(dynamic, 1, 2, 8, 9).shape.as_list() == [8, 9, 3]
        assert img.pad_to_bounding_box(unknown, 1, 2, 8, 9).shape.as_list() == [8, 9, None]
        assert img.crop_to_bounding_box(batch, 1, 2, 2, 3).shape.as_list() == [2, 2, 3, 3]
        assert img.resize_image_with_crop_or_pad(dynamic, 3, 7).shape.as_list() == [3, 7, 3]
        assert img.per_image_standardization(batch).shape.as_list() == [2, 4, 5, 3]
        assert img.rgb_to_grayscale(dynamic).shape.as_list() == [None, None, 1]
        assert img.grayscale_to_rgb(
            tf.placeholder(tf.float32, [4, 5, 1])).shape.as_list() == [4, 5, 3]
        assert tf.random_crop(image, [2, 3, 3]).shape.as_list() == [2, 3, 3]
        height = tf.placeholder(tf.int32, [])
        assert tf.random_crop(image, tf.stack([2, height, 3])).shape.as_list() == [2, None, 3]


@pytest.mark.parametrize("name", ["flip_left_right", "flip_up_down", "random_flip_left_right",
                                  "random_flip_up_down", "transpose_image", "rot90",
                                  "per_image_standardization", "central_crop",
                                  "pad_to_bounding_box", "crop_to_bounding_box",
                                  "resize_image_with_crop_or_pad", "adjust_contrast",
                                  "rgb_to_grayscale", "grayscale_to_rgb"])
def test_a_two_dimensional_image_is_a_value_error(name):
    args = {"central_crop": (0.5,), "pad_to_bounding_box": (0, 0, 5, 5),
            "crop_to_bounding_box": (0, 0, 2, 2), "resize_image_with_crop_or_pad": (3, 3),
            "adjust_contrast": (0.5,)}.get(name, ())
    with tf.Graph().as_default():
        with pytest.raises(ValueError):
            getattr(tf.image, name)(tf.placeholder(tf.float32, [4, 5]), *args)


def test_a_five_dimensional_image_is_a_value_error_where_tf_wants_3_or_4_dims():
    with tf.Graph().as_default():
        five = tf.placeholder(tf.float32, [1, 2, 4, 5, 3])
        for fn in (tf.image.flip_left_right, tf.image.random_flip_up_down,
                   tf.image.transpose_image, tf.image.rot90):
            with pytest.raises(ValueError, match="3 or 4 dimensions"):
                fn(five)
        # per_image_standardization takes any rank >= 3.
        assert tf.image.per_image_standardization(five).shape.as_list() == [1, 2, 4, 5, 3]


# ---- random flips ---------------------------------------------------------------------------

@pytest.mark.parametrize("name,axis", [("random_flip_left_right", 1),
                                       ("random_flip_up_down", 0)])
def test_random_flip_flips_for_some_seeds_and_not_others(name, axis):
    flipped = np.flip(IMAGE, axis)
    outcomes = set()
    for seed in range(12):
        with tf.Graph().as_default():
            tf.set_random_seed(1)
            image = tf.constant(IMAGE)
            result = getattr(tf.image, name)(image, seed=seed)
            with tf.Session() as sess:
                value = sess.run(result)
        if np.array_equal(value, flipped):
            outcomes.add("flipped")
        else:
            np.testing.assert_array_equal(value, IMAGE)
            outcomes.add("kept")
    assert outcomes == {"flipped", "kept"}


@pytest.mark.parametrize("mode", ["static", "dynamic", "unknown_rank"])
def test_random_flip_of_a_batch_decides_per_image(mode):
    batch = RNG.uniform(0, 1, (16, 3, 4, 2)).astype(np.float32)
    with tf.Graph().as_default():
        images = _placeholder(batch, mode)
        result = tf.image.random_flip_left_right(images, seed=3)
        with tf.Session() as sess:
            runs = [sess.run(result, {images: batch}) for _ in range(3)]
    flips = set()
    for value in runs:
        for original, out in zip(batch, value):
            if np.array_equal(out, original[:, ::-1]):
                flips.add(True)
            else:
                np.testing.assert_array_equal(out, original)
                flips.add(False)
    assert flips == {True, False}


def test_random_flip_of_an_unknown_rank_image_keeps_it_whole():
    with tf.Graph().as_default():
        image = tf.placeholder(tf.float32)
        result = tf.image.random_flip_up_down(image, seed=5)
        with tf.Session() as sess:
            values = [sess.run(result, {image: IMAGE}) for _ in range(8)]
    for value in values:
        assert (np.array_equal(value, IMAGE) or np.array_equal(value, IMAGE[::-1]))


# ---- standardization ------------------------------------------------------------------------

@pytest.mark.parametrize("mode", SHAPE_MODES)
def test_per_image_standardization_matches_numpy(mode):
    for value in (IMAGE, BATCH, UINT8):
        result = _run(tf.image.per_image_standardization, value, mode=mode)
        x = value.astype(np.float64)
        mean = x.mean(axis=(-3, -2, -1), keepdims=True)
        std = x.std(axis=(-3, -2, -1), keepdims=True)
        adjusted = np.maximum(std, 1 / np.sqrt(np.prod(value.shape[-3:])))
        assert result.dtype == np.float32
        np.testing.assert_allclose(result, (x - mean) / adjusted, rtol=1e-5, atol=1e-5)


def test_per_image_standardization_of_a_uniform_image_is_zero():
    result = _run(tf.image.per_image_standardization, np.full((3, 4, 2), 7.0, np.float32))
    np.testing.assert_array_equal(result, np.zeros((3, 4, 2), np.float32))


# ---- crops and pads -------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["static", "dynamic"])
@pytest.mark.parametrize("fraction", [0.5, 0.33, 0.9])
def test_central_crop_matches_numpy(fraction, mode):
    for value in (IMAGE, BATCH):
        height, width = value.shape[-3:-1]
        top = int((height - height * fraction) / 2)
        left = int((width - width * fraction) / 2)
        expected = value[..., top:height - top, left:width - left, :]
        np.testing.assert_array_equal(
            _run(lambda x: tf.image.central_crop(x, fraction), value, mode=mode), expected)
        np.testing.assert_array_equal(
            _run(lambda x: tf.image.central_crop(x, tf.constant(fraction)), value, mode=mode),
            expected)


def test_central_crop_of_one_is_the_image_and_bad_fractions_fail():
    with tf.Graph().as_default():
        image = tf.placeholder(tf.float32, [5, 6, 3])
        assert tf.image.central_crop(image, 1.0) is image
        for fraction in (0.0, -0.5, 1.5):
            with pytest.raises(ValueError, match=r"central_fraction must be within \(0, 1\]"):
                tf.image.central_crop(image, fraction)


def _np_pad(value, top, left, height, width):
    batch = value.ndim == 4
    x = value if batch else value[None]
    out = np.zeros((x.shape[0], height, width, x.shape[3]), x.dtype)
    out[:, top:top + x.shape[1], left:left + x.shape[2]] = x
    return out if batch else out[0]


@pytest.mark.parametrize("mode", SHAPE_MODES)
def test_pad_and_crop_to_bounding_box_match_numpy(mode, executor):
    # As TF, an image of unknown rank is taken for a single 3-D image.
    for value in (IMAGE, UINT8) if mode == "unknown_rank" else (IMAGE, BATCH, UINT8):
        padded = _run(lambda x: tf.image.pad_to_bounding_box(x, 1, 2, 8, 9), value, mode=mode)
        np.testing.assert_array_equal(padded, _np_pad(value, 1, 2, 8, 9))
        cropped = _run(lambda x: tf.image.crop_to_bounding_box(x, 1, 2, 3, 2), value,
                       mode=mode)
        np.testing.assert_array_equal(cropped, value[..., 1:4, 2:4, :])


def test_offsets_and_targets_may_be_tensors():
    def build(x):
        top, width = tf.constant(1), tf.constant(7)
        return [tf.image.pad_to_bounding_box(x, top, 0, 7, width),
                tf.image.crop_to_bounding_box(x, top, tf.constant(2), 2, 3)]

    padded, cropped = _run(build, IMAGE)
    np.testing.assert_array_equal(padded, _np_pad(IMAGE, 1, 0, 7, 7))
    np.testing.assert_array_equal(cropped, IMAGE[1:3, 2:5])


@pytest.mark.parametrize("call,message", [
    (lambda x: tf.image.pad_to_bounding_box(x, -1, 0, 8, 9), "offset_height must be >= 0"),
    (lambda x: tf.image.pad_to_bounding_box(x, 0, 0, 3, 9), "height must be <= target"),
    (lambda x: tf.image.pad_to_bounding_box(x, 0, 4, 5, 9), "width must be <= target"),
    (lambda x: tf.image.crop_to_bounding_box(x, 0, 0, 6, 3), "height must be >= target"),
    (lambda x: tf.image.crop_to_bounding_box(x, 0, 0, 0, 3), "target_height must be > 0"),
    (lambda x: tf.image.crop_to_bounding_box(x, 0, -1, 2, 3), "offset_width must be >= 0"),
    (lambda x: tf.image.resize_image_with_crop_or_pad(x, 3, 0), "target_width must be > 0"),
])
def test_bounding_boxes_that_do_not_fit_are_value_errors_when_static(call, message):
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match=message):
            call(tf.placeholder(tf.float32, [5, 6, 3]))


def test_bounding_boxes_that_do_not_fit_fail_the_run_when_dynamic():
    with tf.Graph().as_default():
        image = tf.placeholder(tf.float32, [None, None, 3])
        padded = tf.image.pad_to_bounding_box(image, 3, 0, 7, 6)
        cropped = tf.image.crop_to_bounding_box(image, 3, 0, 4, 6)
        with tf.Session() as sess:
            for result in (padded, cropped):
                with pytest.raises(errors.InvalidArgumentError):
                    sess.run(result, {image: IMAGE})


def _np_crop_or_pad(value, height, width):
    h, w = value.shape[-3:-1]
    top, left = max((h - height) // 2, 0), max((w - width) // 2, 0)
    cropped = value[..., top:top + min(height, h), left:left + min(width, w), :]
    return _np_pad(cropped, max((height - h) // 2, 0), max((width - w) // 2, 0), height,
                   width)


@pytest.mark.parametrize("mode", SHAPE_MODES)
@pytest.mark.parametrize("target", [(3, 9), (8, 3), (5, 6), (2, 2), (9, 10)])
def test_resize_image_with_crop_or_pad_matches_numpy(target, mode):
    for value in (IMAGE,) if mode == "unknown_rank" else (IMAGE, BATCH):
        result = _run(lambda x: tf.image.resize_image_with_crop_or_pad(x, *target), value,
                      mode=mode)
        np.testing.assert_array_equal(result, _np_crop_or_pad(value, *target))


def test_random_crop_is_a_sub_window_of_the_input():
    value = np.arange(6 * 7 * 2, dtype=np.float32).reshape(6, 7, 2)
    offsets = set()
    with tf.Graph().as_default():
        image = tf.placeholder(tf.float32, [None, None, 2])
        crop = tf.random_crop(image, [3, 4, 2], seed=9)
        assert tf.image.random_crop is tf.random_crop
        assert crop.shape.as_list() == [3, 4, 2]
        with tf.Session() as sess:
            for _ in range(20):
                window = sess.run(crop, {image: value})
                top, left = divmod(int(window[0, 0, 0]) // 2, 7)
                np.testing.assert_array_equal(window, value[top:top + 3, left:left + 4])
                offsets.add((top, left))
            with pytest.raises(errors.InvalidArgumentError, match="Need value.shape >= size"):
                sess.run(crop, {image: value[:2]})
    assert len(offsets) > 1


# ---- brightness and contrast ----------------------------------------------------------------

def test_adjust_brightness_adds_in_float_and_saturates_integers():
    result = _run(lambda x: tf.image.adjust_brightness(x, 0.25), IMAGE)
    np.testing.assert_array_equal(result, IMAGE + np.float32(0.25))
    result = _run(lambda x: tf.image.adjust_brightness(x, 0.25), UINT8)
    shifted = UINT8.astype(np.float32) * np.float32(1 / 255) + np.float32(0.25)
    expected = np.clip(shifted * np.float32(255.5), 0, 255).astype(np.uint8)
    assert result.dtype == np.uint8
    np.testing.assert_array_equal(result, expected)
    assert result.max() == 255


@pytest.mark.parametrize("mode", SHAPE_MODES)
def test_adjust_contrast_scales_around_each_channel_mean(mode):
    for value in (IMAGE, BATCH):
        result = _run(lambda x: tf.image.adjust_contrast(x, 1.7), value, mode=mode)
        mean = value.mean(axis=(-3, -2), keepdims=True)
        np.testing.assert_allclose(result, (value - mean) * 1.7 + mean, rtol=1e-6, atol=1e-6)
    result = _run(lambda x: tf.image.adjust_contrast(x, 2.0), UINT8)
    x = UINT8.astype(np.float64) / 255
    mean = x.mean(axis=(0, 1), keepdims=True)
    expected = np.clip(((x - mean) * 2 + mean) * 255.5, 0, 255).astype(np.uint8)
    assert result.dtype == np.uint8
    assert np.abs(result.astype(int) - expected).max() <= 1


def test_random_brightness_and_contrast_stay_in_range():
    with tf.Graph().as_default():
        image = tf.constant(IMAGE)
        bright = tf.image.random_brightness(image, 0.2, seed=1)
        contrast = tf.image.random_contrast(image, 0.5, 1.5, seed=2)
        mean = IMAGE.mean(axis=(0, 1))
        with tf.Session() as sess:
            deltas, factors = set(), set()
            for _ in range(10):
                b, c = sess.run([bright, contrast])
                delta = b - IMAGE
                np.testing.assert_allclose(delta, delta.flat[0], atol=1e-6)
                assert -0.2 <= delta.flat[0] < 0.2 + 1e-6
                deltas.add(round(float(delta.flat[0]), 5))
                factor = (c - mean) / (IMAGE - mean)
                assert 0.5 - 1e-3 <= np.median(factor) < 1.5 + 1e-3
                factors.add(round(float(np.median(factor)), 3))
    assert len(deltas) > 1 and len(factors) > 1


def test_random_brightness_and_contrast_reject_bad_ranges():
    image = tf.constant(IMAGE)
    with pytest.raises(ValueError, match="max_delta must be non-negative"):
        tf.image.random_brightness(image, -0.1)
    with pytest.raises(ValueError, match="upper must be > lower"):
        tf.image.random_contrast(image, 0.5, 0.5)
    with pytest.raises(ValueError, match="lower must be non-negative"):
        tf.image.random_contrast(image, -0.5, 0.5)
    with pytest.raises(ValueError):
        tf.image.adjust_contrast(image, [1.0, 2.0])


# ---- grayscale ------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", SHAPE_MODES)
def test_rgb_to_grayscale_uses_tf_weights(mode):
    weights = np.array([0.2989, 0.5870, 0.1140], np.float32)
    for value in (IMAGE, BATCH):
        result = _run(tf.image.rgb_to_grayscale, value, mode=mode)
        expected = (value[..., :1] * weights[0] + value[..., 1:2] * weights[1]
                    + value[..., 2:] * weights[2])
        np.testing.assert_array_equal(result, expected)
    result = _run(tf.image.rgb_to_grayscale, UINT8)
    x = UINT8.astype(np.float32) * np.float32(1 / 255)
    gray = x[..., :1] * weights[0] + x[..., 1:2] * weights[1] + x[..., 2:] * weights[2]
    np.testing.assert_array_equal(result, (gray * np.float32(255.5)).astype(np.uint8))


@pytest.mark.parametrize("mode", SHAPE_MODES)
def test_grayscale_to_rgb_repeats_the_channel(mode):
    gray = BATCH[..., :1]
    np.testing.assert_array_equal(_run(tf.image.grayscale_to_rgb, gray, mode=mode),
                                  np.repeat(gray, 3, axis=-1))


def test_grayscale_shape_errors():
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="Last dimension of a grayscale image"):
            tf.image.grayscale_to_rgb(tf.placeholder(tf.float32, [4, 5, 3]))
        with pytest.raises(ValueError, match="at least two-dimensional"):
            tf.image.grayscale_to_rgb(tf.placeholder(tf.float32, [4]))
        with pytest.raises(ValueError):
            tf.image.rgb_to_grayscale(tf.placeholder(tf.float32, [4, 5, 4]))
        image = tf.placeholder(tf.float32, [None, None, None])
        with tf.Session() as sess:
            with pytest.raises(errors.InvalidArgumentError):
                sess.run(tf.image.grayscale_to_rgb(image), {image: IMAGE})
            # Channels unknown until the run: 4 (or 1) channels fail, 3 convert.
            gray = tf.image.rgb_to_grayscale(image)
            for channels in (4, 1):
                with pytest.raises(errors.InvalidArgumentError, match="must be 3"):
                    sess.run(gray, {image: np.ones((2, 2, channels), np.float32)})
            np.testing.assert_allclose(sess.run(gray, {image: np.ones((2, 2, 3), np.float32)}),
                                       np.full((2, 2, 1), 0.2989 + 0.5870 + 0.1140), rtol=1e-6)


# ---- dtype conversion -----------------------------------------------------------------------

def _np_convert(value, dtype, saturate):
    """The numpy reference of convert_image_dtype's scaling rules."""
    source, target = value.dtype, np.dtype(dtype)
    if source == target:
        return value
    if source.kind in "iu" and target.kind in "iu":
        in_max, out_max = int(np.iinfo(source).max), int(np.iinfo(target).max)
        if in_max > out_max:
            scaled = value // source.type((in_max + 1) // (out_max + 1))
        else:
            scaled = value
        if saturate:
            scaled = np.clip(scaled, max(np.iinfo(target).min, np.iinfo(source).min),
                             min(out_max, in_max))
        out = scaled.astype(target)
        return out if in_max > out_max else out * target.type((out_max + 1) // (in_max + 1))
    if source.kind == "f" and target.kind == "f":
        return value.astype(target)
    if source.kind in "iu":
        return value.astype(target) * target.type(1.0 / np.iinfo(source).max)
    scaled = value * source.type(np.iinfo(target).max + 0.5)
    if saturate:
        scaled = np.clip(scaled, np.iinfo(target).min, np.iinfo(target).max)
    return scaled.astype(target)


CONVERSIONS = [
    (np.uint8, tf.float32), (np.uint8, tf.float16), (np.uint8, tf.float64),
    (np.uint8, tf.int32), (np.uint8, tf.int16), (np.int32, tf.uint8), (np.int16, tf.int8),
    (np.int8, tf.int32), (np.float32, tf.uint8), (np.float32, tf.int16),
    (np.float64, tf.int32), (np.float32, tf.float64), (np.float64, tf.float16),
]


@pytest.mark.parametrize("saturate", [False, True])
@pytest.mark.parametrize("source,target", CONVERSIONS,
                         ids=[f"{np.dtype(s).name}-{t.name}" for s, t in CONVERSIONS])
def test_convert_image_dtype_scales_like_tf(source, target, saturate):
    source = np.dtype(source)
    if source.kind == "f":
        value = RNG.uniform(0, 1, (3, 4, 3)).astype(source)
        value[0, 0, 0], value[0, 0, 1] = 0.0, np.nextafter(source.type(1), source.type(0))
    else:
        info = np.iinfo(source)
        value = RNG.integers(max(info.min, 0), info.max, (3, 4, 3), endpoint=True)
        value = value.astype(source)
        value[0, 0, 0], value[0, 0, 1] = 0, info.max
    result = _run(lambda x: tf.image.convert_image_dtype(x, target, saturate=saturate), value)
    expected = _np_convert(value, target.as_numpy_dtype, saturate)
    assert result.dtype == expected.dtype
    np.testing.assert_array_equal(result, expected)


def test_convert_image_dtype_saturates_out_of_range_floats():
    value = np.array([[[-0.5, 0.5, 1.5]]], np.float32)
    result = _run(lambda x: tf.image.convert_image_dtype(x, tf.uint8, saturate=True), value)
    np.testing.assert_array_equal(result, [[[0, 127, 255]]])
    result = _run(lambda x: tf.image.convert_image_dtype(x, tf.int32, saturate=True), value)
    np.testing.assert_array_equal(result, [[[-1073741824, 1073741824, 2147483520]]])
    same = _run(lambda x: tf.image.convert_image_dtype(x, tf.float32), value)
    np.testing.assert_array_equal(same, value)


def test_convert_image_dtype_refuses_non_numeric_dtypes():
    with pytest.raises(AttributeError, match="dtype must be either floating point or integer"):
        tf.image.convert_image_dtype(tf.constant(IMAGE), tf.string)
    with pytest.raises(AttributeError, match="image dtype must be"):
        tf.image.convert_image_dtype(tf.constant([[[True]]]), tf.float32)


# ---- gradients of the compositions ----------------------------------------------------------

def _floats(*shape):
    return np.random.RandomState(3).uniform(0.1, 1, size=shape)


COMPOSITION_GRADIENTS = [
    GradCase("ReverseV2", tf.image.flip_left_right, [_floats(3, 4, 2)], id="flip_left_right"),
    GradCase("Transpose", tf.image.transpose_image, [_floats(2, 3, 4, 2)], id="transpose"),
    # These three compute in float32 whatever the input (as TF): wider steps and tolerances.
    GradCase("Sqrt", tf.image.per_image_standardization, [_floats(3, 4, 2)],
             id="per_image_standardization", delta=1e-3, tolerance=5e-3),
    GradCase("Pad", lambda x: tf.image.resize_image_with_crop_or_pad(x, 6, 3),
             [_floats(4, 5, 2)], id="resize_image_with_crop_or_pad"),
    GradCase("Slice", lambda x: tf.image.central_crop(x, 0.5), [_floats(4, 6, 2)],
             id="central_crop"),
    GradCase("Mean", lambda x: tf.image.adjust_contrast(x, 1.5), [_floats(3, 4, 2)],
             id="adjust_contrast", delta=1e-2, tolerance=1e-3),
    GradCase("Mul", tf.image.rgb_to_grayscale, [_floats(3, 4, 3)], id="rgb_to_grayscale",
             delta=1e-2, tolerance=1e-3),
    GradCase("Tile", tf.image.grayscale_to_rgb, [_floats(3, 4, 1)], id="grayscale_to_rgb"),
]


@pytest.mark.parametrize("case", COMPOSITION_GRADIENTS, ids=[c.id for c in COMPOSITION_GRADIENTS])
def test_gradients_flow_through_the_compositions(case):
    check_case(case)


def test_flip_gradient_is_the_flipped_upstream_gradient():
    with tf.Graph().as_default():
        image = tf.placeholder(tf.float32, [5, 6, 3])
        weights = tf.constant(IMAGE)
        loss = tf.reduce_sum(tf.image.flip_left_right(image) * weights)
        (grad,) = tf.gradients(loss, [image])
        with tf.Session() as sess:
            np.testing.assert_array_equal(sess.run(grad, {image: BATCH[0]}), IMAGE[:, ::-1])


def test_random_flip_gradient_follows_each_images_draw():
    # A numeric check cannot rerun the same draw, so the gradient is compared with the
    # forward result of the same run: flipped images send back the flipped weights.
    batch = RNG.uniform(0, 1, (8, 3, 4, 2)).astype(np.float32)
    weights = RNG.uniform(-1, 1, batch.shape).astype(np.float32)
    with tf.Graph().as_default():
        images = tf.placeholder(tf.float32, batch.shape)
        flipped = tf.image.random_flip_up_down(images, seed=4)
        (grad,) = tf.gradients(tf.reduce_sum(flipped * weights), [images])
        with tf.Session() as sess:
            out, grad_value = sess.run([flipped, grad], {images: batch})
    for original, result, w, g in zip(batch, out, weights, grad_value):
        was_flipped = np.array_equal(result, original[::-1]) and not np.array_equal(
            result, original)
        np.testing.assert_array_equal(g, w[::-1] if was_flipped else w)


# ---- resizing (ops ResizeBilinear, ResizeNearestNeighbor and their gradients) ----------------

def _np_source(in_size, out_size, align_corners, half_pixel_centers):
    """The input coordinate each output index samples, in float64 (a plain loop)."""
    if align_corners and out_size > 1:
        scale = (in_size - 1) / (out_size - 1)
    else:
        scale = in_size / out_size
    if half_pixel_centers:
        return [(i + 0.5) * scale - 0.5 for i in range(out_size)], scale
    return [i * scale for i in range(out_size)], scale


def _np_bilinear(images, size, align_corners=False, half_pixel_centers=False):
    batch, height, width, channels = images.shape
    ys, _ = _np_source(height, size[0], align_corners, half_pixel_centers)
    xs, _ = _np_source(width, size[1], align_corners, half_pixel_centers)
    out = np.zeros((batch, size[0], size[1], channels))
    for i, y in enumerate(ys):
        top, bottom = max(int(np.floor(y)), 0), min(int(np.ceil(y)), height - 1)
        dy = y - np.floor(y)
        for j, x in enumerate(xs):
            left, right = max(int(np.floor(x)), 0), min(int(np.ceil(x)), width - 1)
            dx = x - np.floor(x)
            upper = images[:, top, left] * (1 - dx) + images[:, top, right] * dx
            lower = images[:, bottom, left] * (1 - dx) + images[:, bottom, right] * dx
            out[:, i, j] = upper * (1 - dy) + lower * dy
    return out


def _np_nearest_rows(in_size, out_size, align_corners, half_pixel_centers):
    _, scale = _np_source(in_size, out_size, align_corners, half_pixel_centers)
    rows = []
    for i in range(out_size):
        position = (i + 0.5) * scale if half_pixel_centers else i * scale
        index = int(np.floor(position + 0.5)) if align_corners else int(np.floor(position))
        rows.append(min(max(index, 0), in_size - 1))
    return rows


def _np_nearest(images, size, align_corners=False, half_pixel_centers=False):
    rows = _np_nearest_rows(images.shape[1], size[0], align_corners, half_pixel_centers)
    cols = _np_nearest_rows(images.shape[2], size[1], align_corners, half_pixel_centers)
    return images[:, rows][:, :, cols]


MAPPINGS = [(False, False), (True, False), (False, True)]
RESIZE_SIZES = [(10, 14), (3, 4), (1, 1), (7, 3), (5, 7)]


@pytest.mark.parametrize("align_corners,half_pixel_centers", MAPPINGS)
@pytest.mark.parametrize("size", RESIZE_SIZES)
def test_resize_bilinear_matches_numpy(size, align_corners, half_pixel_centers, executor):
    result = _run(lambda x: tf.image.resize_bilinear(
        x, size, align_corners=align_corners, half_pixel_centers=half_pixel_centers), BATCH)
    assert result.dtype == np.float32
    np.testing.assert_allclose(
        result, _np_bilinear(BATCH, size, align_corners, half_pixel_centers), atol=1e-6)


@pytest.mark.parametrize("align_corners,half_pixel_centers", MAPPINGS)
@pytest.mark.parametrize("size", RESIZE_SIZES)
def test_resize_nearest_neighbor_matches_numpy(size, align_corners, half_pixel_centers):
    images = UINT8[None]
    result = _run(lambda x: tf.image.resize_nearest_neighbor(
        x, size, align_corners=align_corners, half_pixel_centers=half_pixel_centers), images)
    assert result.dtype == np.uint8
    np.testing.assert_array_equal(
        result, _np_nearest(images, size, align_corners, half_pixel_centers))


def test_tf1_legacy_mapping_samples_from_the_top_left_corner():
    # Upsampling [0, 1] by 2: TF 1 samples at 0, 0.5 (then clamps 1 and 1.5 to the last
    # pixel); aligned corners at 0, 1/3, 2/3, 1; half-pixel centers at -0.25 (clamped), 0.25 ...
    row = np.array([0.0, 1.0], np.float32).reshape(1, 1, 2, 1)
    results = [_run(lambda x: tf.image.resize_bilinear(
        x, [1, 4], align_corners=a, half_pixel_centers=h), row).reshape(-1) for a, h in MAPPINGS]
    np.testing.assert_allclose(results[0], [0, 0.5, 1, 1])
    np.testing.assert_allclose(results[1], [0, 1 / 3, 2 / 3, 1], rtol=1e-6)
    np.testing.assert_allclose(results[2], [0, 0.25, 0.75, 1])


@pytest.mark.parametrize("align_corners,half_pixel_centers", MAPPINGS)
def test_resize_gradients_are_the_adjoint_scatter(align_corners, half_pixel_centers):
    images = BATCH[:, :4, :5].astype(np.float32)
    size = (7, 3)
    weights = RNG.uniform(-1, 1, (2, 7, 3, 3)).astype(np.float32)
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, images.shape)
        kwargs = dict(align_corners=align_corners, half_pixel_centers=half_pixel_centers)
        bilinear = tf.image.resize_bilinear(x, size, **kwargs)
        nearest = tf.image.resize_nearest_neighbor(x, size, **kwargs)
        grads = [tf.gradients(tf.reduce_sum(y * weights), [x])[0] for y in (bilinear, nearest)]
        with tf.Session() as sess:
            bilinear_grad, nearest_grad = sess.run(grads, {x: images})
    # <resize(x), w> is linear in x: its gradient is the resize applied to each unit image.
    expected_bilinear = np.zeros(images.shape)
    expected_nearest = np.zeros(images.shape)
    for index in np.ndindex(*images.shape[1:3]):
        unit = np.zeros((1,) + images.shape[1:3] + (1,))
        unit[(0,) + index + (0,)] = 1
        spread_b = _np_bilinear(unit, size, align_corners, half_pixel_centers)[..., 0]
        spread_n = _np_nearest(unit, size, align_corners, half_pixel_centers)[..., 0]
        expected_bilinear[(slice(None),) + index] = np.einsum("ij,bijc->bc", spread_b[0],
                                                              weights)
        expected_nearest[(slice(None),) + index] = np.einsum("ij,bijc->bc", spread_n[0],
                                                             weights)
    np.testing.assert_allclose(bilinear_grad, expected_bilinear, atol=1e-5)
    np.testing.assert_allclose(nearest_grad, expected_nearest, atol=1e-5)


@pytest.mark.parametrize("mode", ["static", "dynamic"])
def test_resize_images_takes_images_and_batches(mode):
    for value in (IMAGE, BATCH):
        batch = value if value.ndim == 4 else value[None]
        results = _run(lambda x: [
            tf.image.resize_images(x, [8, 4]),
            tf.image.resize_images(x, [8, 4], method=tf.image.ResizeMethod.NEAREST_NEIGHBOR),
            tf.image.resize_images(x, [3, 9], align_corners=True)], value, mode=mode)
        expected = [_np_bilinear(batch, (8, 4)), _np_nearest(batch, (8, 4)),
                    _np_bilinear(batch, (3, 9), align_corners=True)]
        for result, reference in zip(results, expected):
            reference = reference if value.ndim == 4 else reference[0]
            assert result.shape == reference.shape
            np.testing.assert_allclose(result, reference, atol=1e-6)


def test_resize_images_static_shapes_dtypes_and_same_size():
    with tf.Graph().as_default():
        image = tf.placeholder(tf.uint8, [5, 6, 3])
        batch = tf.placeholder(tf.uint8, [None, None, None, 3])
        size = tf.placeholder(tf.int32, [2])
        bilinear = tf.image.resize_images(image, [8, 4])
        assert bilinear.dtype == tf.float32 and bilinear.shape.as_list() == [8, 4, 3]
        nearest = tf.image.resize_images(batch, [8, 4], method=1)
        assert nearest.dtype == tf.uint8 and nearest.shape.as_list() == [None, 8, 4, 3]
        assert tf.image.resize_images(image, size).shape.as_list() == [None, None, 3]
        # The same static size is no resize at all (the dtype is kept), as TF 1.
        graph = tf.get_default_graph()
        resizes = len([op for op in graph.get_operations() if op.type.startswith("Resize")])
        same = tf.image.resize_images(image, [5, 6])
        assert same.dtype == tf.uint8 and same.shape.as_list() == [5, 6, 3]
        assert resizes == len([op for op in graph.get_operations()
                               if op.type.startswith("Resize")])
        assert tf.image.resize is tf.image.resize_images
        pixels = (IMAGE * 255).astype(np.uint8)
        with tf.Session() as sess:
            result = sess.run(tf.image.resize_images(image, size),
                              {image: pixels, size: [2, 2]})
        # Bilinear resizing of uint8 pixels gives float32 values, not rounded ones.
        assert result.dtype == np.float32
        np.testing.assert_allclose(result, _np_bilinear(pixels[None].astype(np.float64),
                                                        (2, 2))[0], atol=1e-4)


@pytest.mark.parametrize("mode", ["static", "dynamic"])
def test_resize_images_can_preserve_the_aspect_ratio(mode):
    # 5x6 into 10x9: the width limits the scale to 1.5, giving 8 (7.5 rounded to even) x 9.
    result = _run(lambda x: tf.image.resize_images(x, [10, 9], preserve_aspect_ratio=True),
                  IMAGE, mode=mode)
    np.testing.assert_allclose(result, _np_bilinear(IMAGE[None], (8, 9))[0], atol=1e-6)
    # 5x6 into 4x20: the height limits the scale to 0.8, giving 4 x 5 (4.8 rounded).
    result = _run(lambda x: tf.image.resize_images(x, [4, 20], preserve_aspect_ratio=True),
                  IMAGE, mode=mode)
    np.testing.assert_allclose(result, _np_bilinear(IMAGE[None], (4, 5))[0], atol=1e-6)


def test_resize_bad_input():
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="contains no shape"):
            tf.image.resize_images(tf.placeholder(tf.float32), [3, 3])
        with pytest.raises(ValueError, match="3 or 4 dimensions"):
            tf.image.resize_images(tf.placeholder(tf.float32, [3, 3]), [3, 3])
        with pytest.raises(ValueError, match="2 elements"):
            tf.image.resize_images(tf.placeholder(tf.float32, [3, 3, 3]), [3, 3, 3])
        with pytest.raises(ValueError, match="Resize method is not implemented"):
            tf.image.resize_images(tf.placeholder(tf.float32, [3, 3, 3]), [4, 4],
                                   method=7)
        with pytest.raises(ValueError, match="rank 4"):
            tf.image.resize_bilinear(tf.placeholder(tf.float32, [3, 3, 3]), [3, 3])
        with pytest.raises(TypeError):
            tf.image.resize_nearest_neighbor(tf.placeholder(tf.bool, [1, 3, 3, 1]), [3, 3])
        images = tf.placeholder(tf.float32, [1, 3, 3, 1])
        size = tf.placeholder(tf.int32, [2])
        both = tf.image.resize_bilinear(images, [2, 2], align_corners=True,
                                        half_pixel_centers=True)
        with tf.Session() as sess:
            feed = {images: np.ones((1, 3, 3, 1), np.float32)}
            with pytest.raises(errors.InvalidArgumentError, match="output dimensions"):
                sess.run(tf.image.resize_bilinear(images, size), {**feed, size: [0, 2]})
            with pytest.raises(errors.InvalidArgumentError, match="half_pixel_centers"):
                sess.run(both, feed)


@pytest.mark.parametrize("resize", ["resize_bilinear", "resize_nearest_neighbor"])
def test_resize_to_a_huge_size_is_an_oom_for_the_output_at_once(resize):
    # The output is allocated before the per-row index arrays, so a size far beyond the
    # device's memory is refused for what it is (not after gigabytes of coordinates).
    config = tf.ConfigProto()
    config.pluggable_device_options.experimental.virtual_devices.add().memory_limit_mb.append(
        64)
    with tf.Graph().as_default():
        images = tf.placeholder(tf.float32, [1, 3, 3, 1])
        size = tf.placeholder(tf.int32, [2])
        resized = getattr(tf.image, resize)(images, size)
        with tf.Session(config=config) as sess:
            feed = {images: np.ones((1, 3, 3, 1), np.float32)}
            with pytest.raises(errors.ResourceExhaustedError,
                               match=r"shape\[1,1073741824,1073741824,1\]"):
                sess.run(resized, {**feed, size: [2 ** 30, 2 ** 30]})
            np.testing.assert_array_equal(sess.run(resized, {**feed, size: [2, 2]}),
                                          np.ones((1, 2, 2, 1), np.float32))


def test_cifar10_style_distortions_chain_and_run_per_image():
    # The CIFAR-10 tutorial's distorted_inputs: crop, flip, brightness, contrast, standardize.
    raw = RNG.integers(0, 256, (32, 32, 3)).astype(np.uint8)
    with tf.Graph().as_default():
        record = tf.placeholder(tf.uint8, [32, 32, 3])
        image = tf.cast(record, tf.float32)
        image = tf.random_crop(image, [24, 24, 3], seed=1)
        image = tf.image.random_flip_left_right(image, seed=2)
        image = tf.image.random_brightness(image, max_delta=63, seed=3)
        image = tf.image.random_contrast(image, lower=0.2, upper=1.8, seed=4)
        image = tf.image.per_image_standardization(image)
        assert image.shape.as_list() == [24, 24, 3]
        with tf.Session() as sess:
            value = sess.run(image, {record: raw})
    assert value.shape == (24, 24, 3) and np.isfinite(value).all()
    np.testing.assert_allclose([value.mean(), value.std()], [0, 1], atol=1e-4)


def test_resize_inside_map_fn_runs_per_image():
    batch = RNG.uniform(0, 1, (3, 4, 5, 2)).astype(np.float32)
    with tf.Graph().as_default():
        images = tf.placeholder(tf.float32, [None, 4, 5, 2])
        resized = tf.map_fn(lambda image: tf.image.resize_images(image, [6, 3]), images)
        with tf.Session() as sess:
            value = sess.run(resized, {images: batch})
    np.testing.assert_allclose(value, _np_bilinear(batch, (6, 3)), atol=1e-6)
