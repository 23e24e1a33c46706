"""Color-space image ops of TF 1's ``tf.image``: ``RGBToHSV``, ``HSVToRGB``, ``AdjustHue``,
``AdjustSaturation`` and ``AdjustContrastv2`` (registered as TF registers them, so GraphDefs
that use them map), and
``rgb_to_hsv``, ``hsv_to_rgb``, ``adjust_hue``, ``random_hue``, ``adjust_saturation``,
``random_saturation`` and ``adjust_gamma`` over them.

Hue, saturation and value all lie in [0, 1]. The kernels (``runtime/kernels/
image_color_kernels.py``) follow TF's float32 arithmetic, so results match TF's CPU kernels;
this module imports no kernel. As TF, RGBToHSV has a gradient, HSVToRGB is not
differentiable, and AdjustHue / AdjustSaturation / AdjustContrastv2 have no gradient at all
(asking for one raises LookupError).
"""

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework import registry
from sessionlib.framework.graph import Tensor
from sessionlib.framework.tensor_shape import TensorShape
from sessionlib.ops import _infer, array_ops, math_ops, random_ops
from sessionlib.ops.image_ops import (_check, _random_factor, _with_dependencies,
                                      convert_image_dtype)

__all__ = ["rgb_to_hsv", "hsv_to_rgb", "adjust_hue", "random_hue", "adjust_saturation",
           "random_saturation", "adjust_gamma"]

_COLOR_FLOATS = (dtypes.float16, dtypes.float32, dtypes.float64)
_ADJUST_FLOATS = (dtypes.float16, dtypes.float32)


# ---- registrations --------------------------------------------------------------------------

def _three_channels(op_type, images):
    """`images`' shape, checked to be ``[..., 3]``."""
    shape = images.shape
    if shape.rank == 0:
        raise ValueError(f"Shape must be at least rank 1 but is rank 0 for '{op_type}'")
    if shape.rank is not None and shape[-1] not in (None, 3):
        raise ValueError(f"Dimension must be 3 but is {shape[-1]} for '{op_type}' (images of "
                         f"shape {shape})")
    if shape.rank is None:
        return shape
    return TensorShape(shape.as_list()[:-1] + [3])


def _color_infer(op_type):
    def infer(inputs, attrs):
        (images,) = inputs
        _infer.check_dtype(op_type, images, _COLOR_FLOATS, "images")
        attrs["T"] = images.dtype
        return [(images.dtype, _three_channels(op_type, images))]

    return infer


def _adjust_infer(op_type, arg):
    def infer(inputs, attrs):
        images, factor = inputs
        _infer.check_dtype(op_type, images, _ADJUST_FLOATS, "images")
        _infer.check_dtype(op_type, factor, (dtypes.float32,), arg)
        if images.shape.rank is not None and images.shape.rank < 3:
            raise ValueError(f"Shape must be at least rank 3 but is rank {images.shape.rank} "
                             f"for '{op_type}'")
        if factor.shape.rank not in (None, 0):
            raise ValueError(f"Shape must be rank 0 but is rank {factor.shape.rank} for "
                             f"'{op_type}' ({arg})")
        attrs["T"] = images.dtype
        # As TF, the channels (3 for hue and saturation) are the kernel's check.
        return [(images.dtype, images.shape)]

    return infer


def _channel_masks(reds, greens, blues, dtype):
    """(is-max, is-min) float masks per channel, one channel each per pixel: ties go to red,
    then green for the max and to blue, then green for the min, the rule of TF's gradient."""
    def mask(condition):
        return math_ops.cast(condition, dtype)

    red_max = math_ops.logical_and(math_ops.greater_equal(reds, greens),
                                   math_ops.greater_equal(reds, blues))
    green_max = math_ops.logical_and(math_ops.greater(greens, reds),
                                     math_ops.greater_equal(greens, blues))
    blue_max = math_ops.logical_and(math_ops.greater(blues, reds),
                                    math_ops.greater(blues, greens))
    red_min = math_ops.logical_and(math_ops.less(reds, blues), math_ops.less(reds, greens))
    green_min = math_ops.logical_and(math_ops.less_equal(greens, reds),
                                     math_ops.less(greens, blues))
    blue_min = math_ops.logical_and(math_ops.less_equal(blues, reds),
                                    math_ops.less_equal(blues, greens))
    return ([mask(red_max), mask(green_max), mask(blue_max)],
            [mask(red_min), mask(green_min), mask(blue_min)])


def _safe_reciprocal(value):
    """1 / `value`, and 0 where `value` is 0 (a gray or black pixel has no slope)."""
    is_zero = math_ops.equal(value, array_ops.zeros_like(value))
    safe = math_ops._select_v2(is_zero, array_ops.ones_like(value), value)
    return math_ops._select_v2(is_zero, array_ops.zeros_like(value),
                               math_ops.reciprocal(safe))


def _rgb_to_hsv_grad(op, grad):
    # The piecewise derivative of the HSV formulas, per pixel, with M the max channel, m the
    # min channel and d = M - m:
    #   V = M:           dV/dM = 1.
    #   S = 1 - m / M:   dS/dM = m / M**2, dS/dm = -1 / M.
    #   6 H = k + (A - B) / d, (M, A, B) a cyclic rotation of (R, G, B) and k its offset:
    #     d(6H)/dM = -(A - B) / d**2, d(6H)/dA = 1/d + [A = m] (A - B) / d**2,
    #     d(6H)/dB = -1/d + [B = m] (A - B) / d**2.
    # Every term vanishes where the channel it belongs to is 0, as in TF's gradient (whose
    # numbers this reproduces, the min channel of S included).
    images = op.inputs[0]
    dtype = images.dtype
    channels = [images[..., index] for index in range(3)]
    grad_h, grad_s, grad_v = (grad[..., index] for index in range(3))
    is_max, is_min = _channel_masks(*channels, dtype)
    zero = array_ops.zeros_like(channels[0])
    largest = math_ops.add_n([is_max[c] * channels[c] for c in range(3)])
    smallest = math_ops.add_n([is_min[c] * channels[c] for c in range(3)])
    inverse_range = _safe_reciprocal(largest - smallest)
    inverse_largest = _safe_reciprocal(largest)
    sixth = array_ops.constant(1.0 / 6.0, dtype=dtype)
    result = []
    for c in range(3):
        positive = math_ops.cast(math_ops.greater(channels[c], zero), dtype)
        # Saturation and value.
        d_value = is_max[c]
        d_saturation = positive * (is_max[c] * smallest * math_ops.square(inverse_largest)
                                   - is_min[c] * inverse_largest)
        # Hue, summed over which channel is the max.
        d_hue6 = zero
        for top in range(3):
            ahead, behind = (top + 1) % 3, (top + 2) % 3
            slope = (channels[ahead] - channels[behind]) * math_ops.square(inverse_range)
            gate = is_max[top] * math_ops.cast(math_ops.greater(channels[top], zero), dtype)
            if c == top:
                term = -slope
            elif c == ahead:
                term = inverse_range + is_min[c] * slope
            else:
                term = -inverse_range + is_min[c] * slope
            d_hue6 = d_hue6 + gate * term
        result.append(grad_h * d_hue6 * sixth + grad_s * d_saturation + grad_v * d_value)
    return [array_ops.stack(result, axis=-1)]


def _no_gradient(op, grad):
    # TF registers no gradient for these ops (nor declares them not differentiable), so a
    # gradient through them is an error there too.
    raise LookupError(f"No gradient defined for operation '{op.name}' (op type: {op.type})")


registry.register_op("RGBToHSV", infer=_color_infer("RGBToHSV"), num_inputs=1,
                     gradient=_rgb_to_hsv_grad,
                     doc="RGB images ([..., 3], in [0, 1]) to hue, saturation and value.")
registry.register_op("HSVToRGB", infer=_color_infer("HSVToRGB"), num_inputs=1,
                     gradient=registry.NOT_DIFFERENTIABLE,
                     doc="Hue, saturation and value ([..., 3]) to RGB images.")
registry.register_op("AdjustHue", infer=_adjust_infer("AdjustHue", "delta"), num_inputs=2,
                     gradient=_no_gradient,
                     doc="RGB images with their hue rotated by delta (a fraction of a turn).")
registry.register_op("AdjustSaturation", infer=_adjust_infer("AdjustSaturation", "scale"),
                     num_inputs=2, gradient=_no_gradient,
                     doc="RGB images with their saturation scaled (and clipped to [0, 1]).")
# tf.image.adjust_contrast stays a composition (so it keeps its gradient); the op is here so
# that TF GraphDefs holding it import and run.
registry.register_op("AdjustContrastv2",
                     infer=_adjust_infer("AdjustContrastv2", "contrast_factor"),
                     num_inputs=2, gradient=_no_gradient,
                     doc="Images moved away from each channel's mean by contrast_factor.")


# ---- public functions -----------------------------------------------------------------------

def _color_op(op_type, images, name, default_name):
    with graph_lib.name_scope(name, default_name, [images]) as scope:
        images = graph_lib.convert_to_tensor(images, name="images")
        return images.graph.create_op(op_type, [images], name=scope).outputs[0]


def rgb_to_hsv(images, name=None):
    """RGB images converted to HSV (op ``RGBToHSV``).

    Args:
      images: a float16/float32/float64 Tensor ``[..., 3]`` of RGB values in [0, 1].
      name: the op name.

    Returns:
      A Tensor of `images`' dtype and shape: hue, saturation, value, each in [0, 1].

    Raises:
      TypeError: for a dtype other than the float types.
      ValueError: when the last dim is statically known and not 3.
    """
    return _color_op("RGBToHSV", images, name, "RGBToHSV")


def hsv_to_rgb(images, name=None):
    """HSV images converted to RGB (op ``HSVToRGB``); the inverse of `rgb_to_hsv`.

    Args:
      images: a float16/float32/float64 Tensor ``[..., 3]`` of hue, saturation, value in
        [0, 1].
      name: the op name.

    Returns:
      A Tensor of `images`' dtype and shape: the RGB values.

    Raises:
      TypeError: for a dtype other than the float types.
      ValueError: when the last dim is statically known and not 3.
    """
    return _color_op("HSVToRGB", images, name, "HSVToRGB")


def _adjust(op_type, image, factor, name, default_name):
    """`image` through `op_type` in float (integer images rescaled to [0, 1] and back)."""
    with graph_lib.name_scope(name, default_name, [image]):
        image = graph_lib.convert_to_tensor(image, name="image")
        if image.dtype in _ADJUST_FLOATS:
            working = image
        else:
            working = convert_image_dtype(image, dtypes.float32)
        factor = graph_lib.convert_to_tensor(factor, dtype=dtypes.float32)
        adjusted = image.graph.create_op(op_type, [working, factor]).outputs[0]
        return convert_image_dtype(adjusted, image.dtype)


def adjust_hue(image, delta, name=None):
    """RGB images with their hue rotated by `delta` (op ``AdjustHue``).

    Args:
      image: a Tensor ``[..., height, width, 3]`` of RGB values; integer images are rescaled
        to [0, 1] for the adjustment and back.
      delta: a float in [-1, 1] (or a float32 scalar Tensor): the fraction of a full turn
        added to the hue.
      name: the name scope.

    Returns:
      A Tensor of `image`'s dtype and shape.

    Raises:
      ValueError: for a Python `delta` outside [-1, 1], or a static rank below 3.
    """
    if not isinstance(delta, Tensor) and not -1.0 <= float(delta) <= 1.0:
        raise ValueError("delta must be in the interval [-1, 1]")
    return _adjust("AdjustHue", image, delta, name, "adjust_hue")


def random_hue(image, max_delta, seed=None):
    """`adjust_hue` by a delta drawn uniformly from ``[-max_delta, max_delta)``.

    Args:
      image: an RGB image Tensor (see `adjust_hue`).
      max_delta: a float in [0, 0.5].
      seed: the op seed (see `set_random_seed`).

    Returns:
      A Tensor of `image`'s dtype and shape.

    Raises:
      ValueError: for `max_delta` outside [0, 0.5].
    """
    if max_delta > 0.5:
        raise ValueError("max_delta must be <= 0.5.")
    if max_delta < 0:
        raise ValueError("max_delta must be non-negative.")
    delta = random_ops.random_uniform([], -max_delta, max_delta, seed=seed)
    return adjust_hue(image, delta)


def adjust_saturation(image, saturation_factor, name=None):
    """RGB images with their HSV saturation multiplied by `saturation_factor` and clipped to
    [0, 1] (op ``AdjustSaturation``).

    Args:
      image: a Tensor ``[..., height, width, 3]`` of RGB values; integer images are rescaled
        to [0, 1] for the adjustment and back.
      saturation_factor: a float (or float32 scalar Tensor).
      name: the name scope.

    Returns:
      A Tensor of `image`'s dtype and shape.

    Raises:
      ValueError: for a static rank below 3.
    """
    return _adjust("AdjustSaturation", image, saturation_factor, name, "adjust_saturation")


def random_saturation(image, lower, upper, seed=None):
    """`adjust_saturation` by a factor drawn uniformly from ``[lower, upper)``.

    Args:
      image: an RGB image Tensor (see `adjust_saturation`).
      lower: the smallest saturation factor, at least 0.
      upper: the bound of the saturation factors, above `lower`.
      seed: the op seed (see `set_random_seed`).

    Returns:
      A Tensor of `image`'s dtype and shape.

    Raises:
      ValueError: when `upper` is not above `lower` or `lower` is negative.
    """
    return adjust_saturation(image, _random_factor(lower, upper, seed))


def adjust_gamma(image, gamma=1, gain=1):
    """Gamma correction: ``gain * image ** gamma``, computed in float (integer images are
    rescaled to [0, 1] first and the result saturates back into their range).

    Args:
      image: a numeric Tensor.
      gamma: a non-negative float (or float Tensor).
      gain: a float (or float Tensor): the constant multiplier.

    Returns:
      A Tensor of `image`'s dtype and shape.

    Raises:
      ValueError: for a negative Python `gamma`.
      InvalidArgumentError: at run time, for a negative `gamma` Tensor.
    """
    with graph_lib.name_scope(None, "adjust_gamma", [image, gamma, gain]):
        image = graph_lib.convert_to_tensor(image, name="image")
        working = (image if image.dtype in _ADJUST_FLOATS
                   else convert_image_dtype(image, dtypes.float32))
        message = "Gamma should be a non-negative real number."
        non_negative = (math_ops.greater_equal(gamma, 0) if isinstance(gamma, Tensor)
                        else gamma >= 0)
        gamma = _with_dependencies(_check(non_negative, message), gamma)
        gamma = math_ops.cast(gamma, working.dtype)
        gain = math_ops.cast(gain, working.dtype)
        adjusted = math_ops.multiply(gain, math_ops.pow(working, gamma))
        return convert_image_dtype(adjusted, image.dtype, saturate=True)
