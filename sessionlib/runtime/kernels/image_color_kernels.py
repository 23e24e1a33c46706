"""Kernels of the color-space image ops (``sessionlib/ops/image_color_ops.py``): RGBToHSV,
HSVToRGB, AdjustHue, AdjustSaturation and AdjustContrastv2.

Design. Each is a per-pixel formula, so whole-array numpy expressions are both the reference
and the fast kernel. They keep TF's float arithmetic and its order of operations (the
reciprocal of the range times a channel difference; the hue of AdjustHue on a [0, 6)
scale between the pixel's min and max), so float32 results of RGBToHSV, HSVToRGB and
AdjustHue match TF's CPU kernels bit for bit; AdjustSaturation's agree to a few float32 ulps
(TF's compiled kernel rounds its HSV round trip slightly differently).
float16 images are adjusted in float32 and rounded once, as TF's kernels do.
"""

import numpy as np

from sessionlib.runtime.kernel_table import register_kernel
from sessionlib.runtime.kernels.array_kernels import invalid_argument


def _check_channels(images, what="input"):
    if images.ndim < 1 or images.shape[-1] != 3:
        raise invalid_argument(f"{what} must have 3 channels but input only has "
                               f"{images.shape[-1] if images.ndim else 0} channels.")


def _hsv_of(red, green, blue, sixth_of_inverse=True):
    """(hue, saturation, value) arrays in [0, 1], TF's HSV formulas in the inputs' dtype.

    RGBToHSV scales the hue by ``(1 / range) * (1 / 6)``, AdjustSaturation by
    ``1 / (6 * range)`` (`sixth_of_inverse` False): the last bit of the hue depends on it.
    """
    dtype = red.dtype.type
    value = np.maximum(np.maximum(red, green), blue)
    spread = value - np.minimum(np.minimum(red, green), blue)
    with np.errstate(divide="ignore", invalid="ignore"):
        saturation = np.where(value > 0, spread / value, dtype(0))
        if sixth_of_inverse:
            norm = (dtype(1) / spread) * dtype(1.0 / 6.0)
        else:
            norm = dtype(1) / (dtype(6) * spread)
        hue = np.where(red == value, norm * (green - blue),
                       np.where(green == value, norm * (blue - red) + dtype(2.0 / 6.0),
                                norm * (red - green) + dtype(4.0 / 6.0)))
    hue = np.where(spread > 0, hue, dtype(0))
    hue = np.where(hue < 0, hue + dtype(1), hue)
    return hue.astype(red.dtype), saturation.astype(red.dtype), value


def _rgb_to_hsv_kernel(ctx, inputs, attrs):
    (images,) = inputs
    _check_channels(images)
    hue, saturation, value = _hsv_of(images[..., 0], images[..., 1], images[..., 2])
    return (np.stack([hue, saturation, value], axis=-1),)


def _hsv_to_rgb_kernel(ctx, inputs, attrs):
    (images,) = inputs
    _check_channels(images)
    dtype = images.dtype.type
    hue, saturation, value = images[..., 0], images[..., 1], images[..., 2]
    sextant = hue * dtype(6)
    # Each channel's share of the chroma as a function of the hue: a clipped triangle wave.
    red = np.clip(np.abs(sextant - dtype(3)) - dtype(1), dtype(0), dtype(1))
    green = np.clip(dtype(2) - np.abs(sextant - dtype(2)), dtype(0), dtype(1))
    blue = np.clip(dtype(2) - np.abs(sextant - dtype(4)), dtype(0), dtype(1))
    gray = dtype(1) - saturation
    channels = [((gray + saturation * share) * value).astype(images.dtype)
                for share in (red, green, blue)]
    return (np.stack(channels, axis=-1),)


def _check_adjust(images, factor, what):
    if images.ndim < 3:
        raise invalid_argument(f"input must be at least 3-D, got shape{list(images.shape)}")
    if np.ndim(factor) != 0:
        raise invalid_argument(f"{what} must be scalar: {list(np.shape(factor))}")
    _check_channels(images)


# The (max, mid, min) channel of each hue sextant 0..5 (red to magenta, in steps of 60
# degrees): the sextant fixes which channel is largest, smallest and in between.
_SEXTANT_ORDER = np.array([[0, 1, 2], [1, 0, 2], [1, 2, 0], [2, 1, 0], [2, 0, 1], [0, 2, 1]])

# |hue| (on the [0, 6) scale) from which AdjustHue reduces it with fmod, not whole turns.
_FAR_HUE = np.float32(6 * 64)


def _adjust_hue_kernel(ctx, inputs, attrs):
    images, delta = inputs
    _check_adjust(images, delta, "delta")
    pixels = images.astype(np.float32, copy=False).reshape(-1, 3)
    red, green, blue = pixels[:, 0], pixels[:, 1], pixels[:, 2]
    # The sextant by comparisons (ties may go either way: both sides give the same color).
    red_below_green = red < green
    sextant = np.where(red_below_green,
                       np.where(blue < red, 1, np.where(blue > green, 3, 2)),
                       np.where(blue < green, 0, np.where(blue > red, 4, 5)))
    order = _SEXTANT_ORDER[sextant]
    rows = np.arange(len(pixels))
    top = pixels[rows, order[:, 0]]
    middle = pixels[rows, order[:, 1]]
    bottom = pixels[rows, order[:, 2]]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = (middle - bottom) / (top - bottom)
    # The hue on a [0, 6) scale: the sextant plus how far into it, rising in even sextants.
    rising = (sextant & 1) == 0
    hue = sextant.astype(np.float32) + np.where(rising, ratio, np.float32(1) - ratio)
    hue = np.where(top == bottom, np.float32(0), hue).astype(np.float32)
    hue = hue + np.float32(delta) * np.float32(6)
    # Back into [0, 6): TF adds or subtracts whole turns (no fmod), so do the same; but a
    # hue so far out that stepping would take long (or never end: a huge or infinite delta,
    # where TF's loop hangs) is first brought near with fmod (an infinite one becomes NaN).
    with np.errstate(invalid="ignore"):
        far = ~(np.abs(hue) < _FAR_HUE) & ~np.isnan(hue)
        hue = np.where(far, np.fmod(hue, np.float32(6)), hue)
    while np.any(hue < 0):
        hue = np.where(hue < 0, hue + np.float32(6), hue)
    while np.any(hue >= 6):
        hue = np.where(hue >= 6, hue - np.float32(6), hue)
    # A NaN hue (a NaN pixel or delta) takes TF's last case, the magenta sextant 5: TF casts
    # NaN to INT_MIN, which its switch sends to the default that sextant 5 shares.
    new_sextant = np.where(np.isnan(hue), 5, hue).astype(np.int64)
    fraction = hue - new_sextant.astype(np.float32)
    fraction = np.where((new_sextant & 1) == 0, fraction, np.float32(1) - fraction)
    new_middle = bottom + fraction * (top - bottom)
    result = np.empty_like(pixels)
    new_order = _SEXTANT_ORDER[new_sextant]
    result[rows, new_order[:, 0]] = top
    result[rows, new_order[:, 1]] = new_middle
    result[rows, new_order[:, 2]] = bottom
    return (result.reshape(images.shape).astype(images.dtype),)


def _adjust_saturation_kernel(ctx, inputs, attrs):
    images, scale = inputs
    _check_adjust(images, scale, "scale")
    pixels = images.astype(np.float32, copy=False)
    hue, saturation, value = _hsv_of(pixels[..., 0], pixels[..., 1], pixels[..., 2],
                                     sixth_of_inverse=False)
    saturation = np.minimum(np.float32(1), np.maximum(np.float32(0),
                                                      saturation * np.float32(scale)))
    # TF's HSV to RGB of this kernel: chroma c, offset m, and the sextant's second channel x.
    chroma = saturation * value
    offset = value - chroma
    sextant_f = hue * np.float32(6)
    sextant = sextant_f.astype(np.int64)
    zigzag = np.mod(sextant_f, np.float32(2))
    # TF folds the hue into (0, 2] by whole steps; a multiple of 2 lands on 0, as here.
    second = chroma * (np.float32(1) - np.abs(zigzag - np.float32(1)))
    zero = np.zeros_like(chroma)
    table = {0: (chroma, second, zero), 1: (second, chroma, zero), 2: (zero, chroma, second),
             3: (zero, second, chroma), 4: (second, zero, chroma), 5: (chroma, zero, second)}
    channels = []
    for channel in range(3):
        picked = np.select([sextant == k for k in range(6)],
                           [table[k][channel] for k in range(6)], default=np.float32(0))
        channels.append(picked + offset)
    return (np.stack(channels, axis=-1).astype(images.dtype),)


def _adjust_contrast_kernel(ctx, inputs, attrs):
    images, factor = inputs
    if images.ndim < 3:
        raise invalid_argument(f"input must be at least 3-D, got shape{list(images.shape)}")
    if np.ndim(factor) != 0:
        raise invalid_argument(f"contrast_factor must be scalar: {list(np.shape(factor))}")
    values = images.astype(np.float32, copy=False)
    count = images.shape[-3] * images.shape[-2]
    # TF's kernel sums each channel and multiplies by 1 / (height * width); the sum here is
    # exact before rounding, TF's is a float32 tree, so means may differ in the last bit.
    total = values.sum(axis=(-3, -2), keepdims=True, dtype=np.float64).astype(np.float32)
    mean = total * (np.float32(1) / np.float32(max(count, 1)))
    adjusted = (values - mean) * np.float32(factor) + mean
    return (adjusted.astype(images.dtype),)


register_kernel("RGBToHSV", reference=_rgb_to_hsv_kernel)
register_kernel("AdjustContrastv2", reference=_adjust_contrast_kernel)
register_kernel("HSVToRGB", reference=_hsv_to_rgb_kernel)
register_kernel("AdjustHue", reference=_adjust_hue_kernel)
register_kernel("AdjustSaturation", reference=_adjust_saturation_kernel)
