"""Image ops of TF 1's ``tf.image`` built from existing ops: flips, rotations, crops, pads,
brightness and contrast, grayscale, dtype conversion, per-image standardization.

Every function takes a 3-D image ``[height, width, channels]`` and, where TF does, a 4-D batch
``[batch, height, width, channels]``. Static shapes, argument names, defaults and the errors
for bad input follow ``tf.compat.v1.image``: what is known while the graph is built is checked
then (ValueError), the rest by ``Assert`` ops when the graph runs (InvalidArgumentError).
Nothing here registers an op: each function is a composition, so gradients come from the ops
it uses. Random variants draw from ``random_uniform`` with the usual graph/op seed rules.
"""

import numpy as np

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework.graph import Tensor
from sessionlib.framework.tensor_shape import TensorShape
from sessionlib.ops import _infer, array_ops, check_ops, cond_v2, manipulation_ops, math_ops
from sessionlib.ops import random_ops

__all__ = ["flip_left_right", "flip_up_down", "random_flip_left_right", "random_flip_up_down",
           "transpose", "transpose_image", "rot90", "per_image_standardization",
           "central_crop", "pad_to_bounding_box", "crop_to_bounding_box",
           "resize_image_with_crop_or_pad", "resize_with_crop_or_pad", "random_crop",
           "adjust_brightness", "random_brightness", "adjust_contrast", "random_contrast",
           "rgb_to_grayscale", "grayscale_to_rgb", "convert_image_dtype"]

# ITU-R 601-2 luma weights, the ones TF uses for rgb_to_grayscale.
_LUMA_WEIGHTS = (0.2989, 0.5870, 0.1140)


# ---- shape checks ---------------------------------------------------------------------------

def _as_image(image, name="image"):
    return graph_lib.convert_to_tensor(image, name=name)


def _with_dependencies(checks, tensor):
    """`tensor`, or an identity of it that runs only after the `checks` ops."""
    if not checks:
        return tensor
    with graph_lib.control_dependencies(checks):
        return array_ops.identity(tensor)


def _check(condition, message):
    """A check of `condition`: raises ValueError now when it is a Python bool that is false,
    else returns the ``Assert`` op (in a list) that fails the run when it is false."""
    if not isinstance(condition, Tensor):
        if not condition:
            raise ValueError(message)
        return []
    return [check_ops.Assert(condition, [message])]


def _at_least_3d_checks(image):
    """The checks that `image` is [..., height, width, channels] with non-empty inner dims.

    Raises:
      ValueError: when the static shape already shows a rank below 3 or an empty inner dim.
    """
    shape = image.shape
    if shape.rank is not None and shape.rank < 3:
        raise ValueError(f"'image' (shape {shape}) must be at least three-dimensional.")
    inner = shape[-3:] if shape.rank is not None else TensorShape([None] * 3)
    if any(dim == 0 for dim in inner.as_list()):
        raise ValueError(f"inner 3 dims of 'image.shape' must be > 0: {shape}")
    if inner.is_fully_defined() and shape.rank is not None:
        return []
    dims = array_ops.shape(image)
    return [
        check_ops.Assert(math_ops.reduce_all(math_ops.greater(dims[-3:], 0)),
                         ["inner 3 dims of 'image.shape' must be > 0."]),
        check_ops.Assert(math_ops.greater_equal(array_ops.rank(image), 3),
                         ["'image' must be at least three-dimensional."]),
    ]


def _assert_at_least_3d(image):
    return _with_dependencies(_at_least_3d_checks(image), image)


def _check_3d_or_4d(image, separator=" "):
    rank = image.shape.rank
    if rank is not None and rank not in (3, 4):
        raise ValueError(f"'image' (shape {image.shape}){separator}must have either 3 or 4 "
                         "dimensions.")


def _dimensions(image, rank):
    """The dims of `image`: Python ints where statically known, else scalar int32 tensors."""
    shape = image.shape.with_rank(rank)
    if shape.is_fully_defined():
        return shape.as_list()
    dynamic = array_ops.unstack(array_ops.shape(image), num=rank)
    return [static if static is not None else tensor
            for static, tensor in zip(shape.as_list(), dynamic)]


def _as_batch(image):
    """(`image` as a 4-D batch, whether it already was one).

    Raises:
      ValueError: for a rank other than 3 or 4.
    """
    rank = image.shape.rank
    if rank == 4:
        return image, True
    if rank not in (3, None):
        raise ValueError(f"'image' (shape {image.shape}) must have either 3 or 4 dimensions.")
    batch = array_ops.expand_dims(image, 0)
    if rank is None:
        batch.set_shape([None] * 4)
    return batch, False


def _static_or_none(value):
    return None if isinstance(value, Tensor) else value


def _swap_height_width(image):
    """`image` with its height and width axes swapped, for any rank >= 3."""
    rank = image.shape.rank
    if rank is not None:
        perm = list(range(rank - 3)) + [rank - 2, rank - 3, rank - 1]
        return array_ops.transpose(image, perm)
    rank_t = array_ops.rank(image)
    perm = array_ops.concat([array_ops.range(rank_t - 3),
                             array_ops.stack([rank_t - 2, rank_t - 3, rank_t - 1])], 0)
    return array_ops.transpose(image, perm)


# ---- flips, transposes, rotations -----------------------------------------------------------

def _flip(image, axis, scope_name):
    # Negative axes pick height (-3) or width (-2) whatever the rank, so an image of unknown
    # rank needs no branch.
    with graph_lib.name_scope(None, scope_name, [image]):
        image = _assert_at_least_3d(_as_image(image))
        _check_3d_or_4d(image, separator="")
        return manipulation_ops.reverse(image, [axis])


def flip_left_right(image):
    """`image` mirrored horizontally (its width axis reversed).

    Args:
      image: a 3-D ``[height, width, channels]`` or 4-D ``[batch, height, width, channels]``
        Tensor.

    Returns:
      A Tensor of `image`'s dtype and shape.

    Raises:
      ValueError: for a static rank other than 3 or 4.
    """
    return _flip(image, -2, "flip_left_right")


def flip_up_down(image):
    """`image` mirrored vertically (its height axis reversed).

    Args:
      image: a 3-D or 4-D image Tensor.

    Returns:
      A Tensor of `image`'s dtype and shape.

    Raises:
      ValueError: for a static rank other than 3 or 4.
    """
    return _flip(image, -3, "flip_up_down")


def _random_flip(image, axis, seed, scope_name):
    with graph_lib.name_scope(None, scope_name, [image]) as scope:
        image = _assert_at_least_3d(_as_image(image))
        _check_3d_or_4d(image)
        flipped = manipulation_ops.reverse(image, [axis])
        if image.shape.rank == 3:
            # One draw for the image: flipped when it falls below one half, as TF.
            flip = math_ops.less(random_ops.random_uniform([], 0.0, 1.0, seed=seed), 0.5)
        else:
            # One draw per image of the batch: [batch] draws as [batch, 1, 1, 1]. The outer
            # dims of an image of unknown rank are [] (3-D: one draw) or [batch].
            outer = array_ops.shape(image)[:-3]
            draw = random_ops.random_uniform(outer, 0.0, 1.0, seed=seed)
            flip = array_ops.reshape(math_ops.less(draw, 0.5), array_ops.concat(
                [outer, array_ops.ones([3], dtypes.int32)], 0))
        result = math_ops._select_v2(flip, flipped, image)
        return array_ops.identity(result, name=scope)


def random_flip_left_right(image, seed=None):
    """`image` mirrored horizontally with probability 1/2 (each image of a batch on its own).

    Args:
      image: a 3-D or 4-D image Tensor.
      seed: the op seed (see `set_random_seed`).

    Returns:
      A Tensor of `image`'s dtype and shape.

    Raises:
      ValueError: for a static rank other than 3 or 4.
    """
    return _random_flip(image, -2, seed, "random_flip_left_right")


def random_flip_up_down(image, seed=None):
    """`image` mirrored vertically with probability 1/2; otherwise as
    `random_flip_left_right`."""
    return _random_flip(image, -3, seed, "random_flip_up_down")


def transpose(image, name=None):
    """`image` with height and width swapped (``tf.image.transpose_image``).

    Args:
      image: a 3-D or 4-D image Tensor.
      name: the name scope.

    Returns:
      A Tensor ``[width, height, channels]`` (or ``[batch, width, height, channels]``).

    Raises:
      ValueError: for a static rank other than 3 or 4.
    """
    with graph_lib.name_scope(name, "transpose", [image]):
        image = _assert_at_least_3d(_as_image(image))
        _check_3d_or_4d(image)
        return _swap_height_width(image)


transpose_image = transpose


def rot90(image, k=1, name=None):
    """`image` rotated counter-clockwise by `k` quarter turns.

    Args:
      image: a 3-D or 4-D image Tensor.
      k: a scalar int (or int32 Tensor): the number of quarter turns; any int, taken mod 4.
      name: the name scope.

    Returns:
      A Tensor of `image`'s dtype. As TF, its static height and width are unknown (k may be
      a tensor), the batch and channel dims are kept.

    Raises:
      ValueError: for a static rank other than 3 or 4, or a `k` that is not a scalar.
    """
    with graph_lib.name_scope(name, "rot90", [image, k]) as scope:
        image = _assert_at_least_3d(_as_image(image))
        k = graph_lib.convert_to_tensor(k, dtype=dtypes.int32, name="k")
        k.shape.assert_has_rank(0)
        k = math_ops.mod(k, 4)
        _check_3d_or_4d(image)

        def quarter():
            return _swap_height_width(manipulation_ops.reverse(image, [-2]))

        def half():
            return manipulation_ops.reverse(image, [-3, -2])

        def three_quarters():
            return manipulation_ops.reverse(_swap_height_width(image), [-2])

        result = cond_v2.case([(math_ops.equal(k, 1), quarter), (math_ops.equal(k, 2), half),
                               (math_ops.equal(k, 3), three_quarters)],
                              default=lambda: image, exclusive=True, name=scope)
        shape = image.shape
        if shape.rank == 3:
            result.set_shape([None, None, shape[2]])
        elif shape.rank == 4:
            result.set_shape([shape[0], None, None, shape[3]])
        return result


# ---- normalization --------------------------------------------------------------------------

def per_image_standardization(image):
    """Each image scaled to mean 0 and variance 1: ``(x - mean) / adjusted_stddev``.

    ``adjusted_stddev = max(stddev, 1 / sqrt(num_elements))`` over each image's height, width
    and channels, so a uniform image does not divide by zero.

    Args:
      image: a Tensor of rank >= 3, ``[..., height, width, channels]``.

    Returns:
      A float32 Tensor of `image`'s shape.

    Raises:
      ValueError: for a static rank below 3.
    """
    with graph_lib.name_scope(None, "per_image_standardization", [image]) as scope:
        image = _assert_at_least_3d(_as_image(image))
        image = math_ops.cast(image, dtypes.float32)
        num_elements = math_ops.reduce_prod(array_ops.shape(image)[-3:])
        axes = [-1, -2, -3]
        mean = math_ops.reduce_mean(image, axis=axes, keepdims=True)
        centered = math_ops.subtract(image, mean)
        stddev = math_ops.sqrt(math_ops.reduce_mean(math_ops.square(centered), axis=axes,
                                                    keepdims=True))
        min_stddev = math_ops.rsqrt(math_ops.cast(num_elements, dtypes.float32))
        return math_ops.divide(centered, math_ops.maximum(stddev, min_stddev), name=scope)


# ---- crops and pads -------------------------------------------------------------------------

def central_crop(image, central_fraction):
    """The central `central_fraction` of each image's height and width.

    Args:
      image: a 3-D or 4-D image Tensor.
      central_fraction: a float in (0, 1] (or a float Tensor).

    Returns:
      The cropped Tensor; `image` itself when `central_fraction` is 1.

    Raises:
      ValueError: for a static fraction outside (0, 1] or a rank other than 3 or 4.
    """
    with graph_lib.name_scope(None, "central_crop", [image]):
        image = _as_image(image)
        fraction = None if isinstance(central_fraction, Tensor) else float(central_fraction)
        if fraction is not None:
            if fraction <= 0.0 or fraction > 1.0:
                raise ValueError("central_fraction must be within (0, 1]")
            if fraction == 1.0:
                return image
        else:
            in_range = math_ops.logical_and(math_ops.greater(central_fraction, 0.0),
                                            math_ops.less_equal(central_fraction, 1.0))
            image = _with_dependencies(_check(in_range, "central_fraction must be within (0, 1]"),
                                       image)
        _at_least_3d_checks(image)
        rank = image.shape.rank
        if rank not in (3, 4):
            raise ValueError("`image` should either be a Tensor with rank = 3 or rank = 4. "
                             f"Had rank = {rank}.")
        first = rank - 3

        def start_and_size(axis):
            static = image.shape[axis]
            if static is not None and fraction is not None:
                start = int((static - static * fraction) / 2)
                return start, static - 2 * start, static - 2 * start
            size = static if static is not None else array_ops.shape(image)[axis]
            size_f = math_ops.cast(size, dtypes.float64)
            fraction_f = math_ops.cast(central_fraction, dtypes.float64)
            start = math_ops.cast((size_f - size_f * fraction_f) / 2, dtypes.int32)
            return start, size - start * 2, None

        top, height, static_height = start_and_size(first)
        left, width, static_width = start_and_size(first + 1)
        begin = [top, left, 0] if rank == 3 else [0, top, left, 0]
        size = [height, width, -1] if rank == 3 else [-1, height, width, -1]
        cropped = array_ops.slice(image, array_ops.stack(begin), array_ops.stack(size))
        outer = [] if rank == 3 else [image.shape[0]]
        cropped.set_shape(outer + [static_height, static_width, image.shape[-1]])
        return cropped


def pad_to_bounding_box(image, offset_height, offset_width, target_height, target_width):
    """`image` zero-padded to ``[target_height, target_width]``, placed at the offsets.

    Args:
      image: a 3-D or 4-D image Tensor.
      offset_height: rows of zeros above the image (int or scalar int32 Tensor).
      offset_width: columns of zeros left of the image.
      target_height: the padded height.
      target_width: the padded width.

    Returns:
      A Tensor ``[target_height, target_width, channels]`` (with a batch dim for a batch).

    Raises:
      ValueError: for a rank other than 3 or 4, or offsets/targets that statically do not fit.
    """
    with graph_lib.name_scope(None, "pad_to_bounding_box", [image]):
        batch_image, is_batch = _as_batch(_as_image(image))
        batch, height, width, depth = _dimensions(batch_image, 4)
        after_width = target_width - offset_width - width
        after_height = target_height - offset_height - height
        checks = _at_least_3d_checks(batch_image)
        checks += _check(offset_height >= 0, "offset_height must be >= 0")
        checks += _check(offset_width >= 0, "offset_width must be >= 0")
        checks += _check(after_width >= 0, "width must be <= target - offset")
        checks += _check(after_height >= 0, "height must be <= target - offset")
        batch_image = _with_dependencies(checks, batch_image)
        paddings = array_ops.reshape(array_ops.stack([0, 0, offset_height, after_height,
                                                      offset_width, after_width, 0, 0]),
                                     [4, 2])
        padded = manipulation_ops.pad(batch_image, paddings)
        padded.set_shape([_static_or_none(d) for d in (batch, target_height, target_width,
                                                       depth)])
        return padded if is_batch else array_ops.squeeze(padded, axis=[0])


def crop_to_bounding_box(image, offset_height, offset_width, target_height, target_width):
    """The ``[target_height, target_width]`` window of `image` at the offsets.

    Args:
      image: a 3-D or 4-D image Tensor.
      offset_height: the window's top row (int or scalar int32 Tensor).
      offset_width: the window's left column.
      target_height: the window's height (> 0).
      target_width: the window's width (> 0).

    Returns:
      A Tensor ``[target_height, target_width, channels]`` (with a batch dim for a batch).

    Raises:
      ValueError: for a rank other than 3 or 4, or a window that statically does not fit.
    """
    with graph_lib.name_scope(None, "crop_to_bounding_box", [image]):
        batch_image, is_batch = _as_batch(_as_image(image))
        checks = _at_least_3d_checks(batch_image)
        batch, height, width, depth = _dimensions(batch_image, 4)
        checks += _check(offset_width >= 0, "offset_width must be >= 0.")
        checks += _check(offset_height >= 0, "offset_height must be >= 0.")
        checks += _check(target_width > 0, "target_width must be > 0.")
        checks += _check(target_height > 0, "target_height must be > 0.")
        checks += _check(width >= target_width + offset_width,
                         "width must be >= target + offset.")
        checks += _check(height >= target_height + offset_height,
                         "height must be >= target + offset.")
        batch_image = _with_dependencies(checks, batch_image)
        dims = array_ops.shape(batch_image)
        cropped = array_ops.slice(
            batch_image, array_ops.stack([0, offset_height, offset_width, 0]),
            array_ops.stack([dims[0], target_height, target_width, dims[3]]))
        cropped.set_shape([_static_or_none(d) for d in (batch, target_height, target_width,
                                                        depth)])
        return cropped if is_batch else array_ops.squeeze(cropped, axis=[0])


def _max(x, y):
    return math_ops.maximum(x, y) if isinstance(x, Tensor) or isinstance(y, Tensor) else max(x, y)


def _min(x, y):
    return math_ops.minimum(x, y) if isinstance(x, Tensor) or isinstance(y, Tensor) else min(x, y)


def resize_image_with_crop_or_pad(image, target_height, target_width):
    """`image` centrally cropped and/or zero-padded to ``[target_height, target_width]``.

    A dimension larger than the target is cropped evenly from both ends, a smaller one padded
    evenly on both sides (the extra row or column going to the bottom/right).

    Args:
      image: a 3-D or 4-D image Tensor.
      target_height: the output height (> 0).
      target_width: the output width (> 0).

    Returns:
      A Tensor ``[target_height, target_width, channels]`` (with a batch dim for a batch).

    Raises:
      ValueError: for a rank other than 3 or 4 or a static target <= 0.
    """
    with graph_lib.name_scope(None, "resize_image_with_crop_or_pad", [image]):
        batch_image, is_batch = _as_batch(_as_image(image))
        checks = _at_least_3d_checks(batch_image)
        checks += _check(target_width > 0, "target_width must be > 0.")
        checks += _check(target_height > 0, "target_height must be > 0.")
        batch_image = _with_dependencies(checks, batch_image)
        if isinstance(target_height, Tensor):
            target_height = _with_dependencies(checks, target_height)
        if isinstance(target_width, Tensor):
            target_width = _with_dependencies(checks, target_width)
        _, height, width, _ = _dimensions(batch_image, 4)
        width_diff = target_width - width
        height_diff = target_height - height
        cropped = crop_to_bounding_box(batch_image, _max(-height_diff // 2, 0),
                                       _max(-width_diff // 2, 0), _min(target_height, height),
                                       _min(target_width, width))
        resized = pad_to_bounding_box(cropped, _max(height_diff // 2, 0),
                                      _max(width_diff // 2, 0), target_height, target_width)
        return resized if is_batch else array_ops.squeeze(resized, axis=[0])


resize_with_crop_or_pad = resize_image_with_crop_or_pad


def random_crop(value, size, seed=None, name=None):
    """A `size` window of `value` at a uniformly random offset (``tf.random_crop``).

    Args:
      value: a Tensor of any rank.
      size: a 1-D int32 list or Tensor with one entry per dim of `value`, each <= that dim.
      seed: the op seed (see `set_random_seed`).
      name: the name scope.

    Returns:
      A Tensor of shape `size` and `value`'s dtype.

    Raises:
      InvalidArgumentError: at run time, when `size` exceeds `value`'s shape.
    """
    with graph_lib.name_scope(name, "random_crop", [value, size]) as scope:
        value = graph_lib.convert_to_tensor(value, name="value")
        size = graph_lib.convert_to_tensor(size, dtype=dtypes.int32, name="size")
        shape = array_ops.shape(value)
        fits = check_ops.Assert(math_ops.reduce_all(math_ops.greater_equal(shape, size)),
                                ["Need value.shape >= size, got ", shape, size],
                                summarize=1000)
        shape = _with_dependencies([fits], shape)
        limit = shape - size + 1
        offset = math_ops.mod(random_ops.random_uniform(array_ops.shape(shape),
                                                        dtype=dtypes.int32,
                                                        maxval=dtypes.int32.max, seed=seed),
                              limit)
        cropped = array_ops.slice(value, offset, size, name=scope)
        # The entries of `size` known while the graph is built (a stack of ints and tensors).
        known = _infer.shape_from_tensor(size)
        if known.rank is not None and cropped.shape.is_compatible_with(known):
            cropped.set_shape(known)
        return cropped


# ---- dtype conversion -----------------------------------------------------------------------

def _saturate_cast(value, dtype):
    """`value` clamped to `dtype`'s range, then cast (no wrap-around)."""
    source = value.dtype
    low, high = dtype.min, dtype.max
    if source.min < low:
        value = math_ops.maximum(value, _limit_in(source, low))
    if source.max > high:
        value = math_ops.minimum(value, _limit_in(source, high))
    return math_ops.cast(value, dtype)


def _limit_in(source, limit):
    """`limit` as a constant of `source`, rounded toward zero where `source` cannot hold it
    exactly (float32 holds int32's max only as 2**31, which the cast would overflow)."""
    np_type = np.dtype(source.as_numpy_dtype)
    converted = np.array(limit, dtype=np_type)
    if np_type.kind == "f" and abs(float(converted)) > abs(limit):
        converted = np.nextafter(converted, np_type.type(0))
    return array_ops.constant(converted, dtype=source)


def convert_image_dtype(image, dtype, saturate=False, name=None):
    """`image` converted to `dtype`, rescaling values: floats span [0, 1), integers [0, MAX].

    int -> int scales by the ratio of the dtype ranges (a right shift when narrowing);
    int -> float multiplies by ``1 / MAX``; float -> int multiplies by ``MAX + 0.5`` and
    truncates; float -> float only casts.

    Args:
      image: an integer or float Tensor.
      dtype: the target integer or float dtype.
      saturate: clamp to `dtype`'s range before casting, so out-of-range values do not wrap.
      name: the name scope.

    Returns:
      A Tensor of `dtype` and `image`'s shape (an identity of `image` for the same dtype).

    Raises:
      AttributeError: when `dtype` or `image`'s dtype is neither integer nor float (as TF).
    """
    image = _as_image(image)
    dtype = dtypes.as_dtype(dtype)
    if not (dtype.is_floating or dtype.is_integer):
        raise AttributeError("dtype must be either floating point or integer")
    source = image.dtype
    if not (source.is_floating or source.is_integer):
        raise AttributeError("image dtype must be either floating point or integer")
    if dtype is source:
        return array_ops.identity(image, name=name)
    with graph_lib.name_scope(name, "convert_image", [image]) as scope:
        if source.is_integer and dtype.is_integer:
            if source.max > dtype.max:
                # Narrowing: divide first, so the cast only sees values in range.
                divisor = (source.max + 1) // (dtype.max + 1)
                scaled = math_ops.floordiv(image, array_ops.constant(divisor, dtype=source))
                cast = _saturate_cast(scaled, dtype) if saturate else math_ops.cast(scaled,
                                                                                    dtype)
                return array_ops.identity(cast, name=scope)
            cast = _saturate_cast(image, dtype) if saturate else math_ops.cast(image, dtype)
            factor = (dtype.max + 1) // (source.max + 1)
            return math_ops.multiply(cast, array_ops.constant(factor, dtype=dtype), name=scope)
        if source.is_floating and dtype.is_floating:
            return array_ops.identity(math_ops.cast(image, dtype), name=scope)
        if source.is_integer:
            cast = math_ops.cast(image, dtype)
            return math_ops.multiply(cast, array_ops.constant(1.0 / source.max, dtype=dtype),
                                     name=scope)
        # Float to int: MAX + 0.5 so that 1.0 - ulp still reaches MAX once truncated.
        scaled = math_ops.multiply(image, array_ops.constant(dtype.max + 0.5, dtype=source))
        cast = _saturate_cast(scaled, dtype) if saturate else math_ops.cast(scaled, dtype)
        return array_ops.identity(cast, name=scope)


def _to_working_float(image):
    """`image` itself when float16/float32, else converted (and rescaled) to float32."""
    if image.dtype in (dtypes.float16, dtypes.float32):
        return image
    return convert_image_dtype(image, dtypes.float32)


# ---- brightness, contrast, grayscale --------------------------------------------------------

def adjust_brightness(image, delta):
    """`image` + `delta`, computed in float (integer images are rescaled to [0, 1] first).

    Args:
      image: a numeric Tensor of any shape.
      delta: a scalar added to every element (in the rescaled float range).

    Returns:
      A Tensor of `image`'s dtype and shape; integer results saturate.
    """
    with graph_lib.name_scope(None, "adjust_brightness", [image, delta]) as scope:
        image = _as_image(image)
        working = _to_working_float(image)
        adjusted = math_ops.add(working, math_ops.cast(delta, working.dtype), name=scope)
        return convert_image_dtype(adjusted, image.dtype, saturate=True)


def random_brightness(image, max_delta, seed=None):
    """`adjust_brightness` by a delta drawn uniformly from ``[-max_delta, max_delta)``.

    Args:
      image: a numeric Tensor.
      max_delta: a non-negative float.
      seed: the op seed (see `set_random_seed`).

    Returns:
      A Tensor of `image`'s dtype and shape.

    Raises:
      ValueError: for a negative `max_delta`.
    """
    if max_delta < 0:
        raise ValueError("max_delta must be non-negative.")
    delta = random_ops.random_uniform([], -max_delta, max_delta, seed=seed)
    return adjust_brightness(image, delta)


def adjust_contrast(images, contrast_factor):
    """Each channel of each image moved away from (or toward) its mean:
    ``(x - mean) * contrast_factor + mean``, the mean over height and width.

    Args:
      images: a numeric Tensor of rank >= 3, ``[..., height, width, channels]``.
      contrast_factor: a scalar float (or float Tensor).

    Returns:
      A Tensor of `images`' dtype and shape; integer results saturate.

    Raises:
      ValueError: for a static rank below 3 or a `contrast_factor` that is not a scalar.
    """
    with graph_lib.name_scope(None, "adjust_contrast", [images, contrast_factor]) as scope:
        images = _as_image(images, name="images")
        working = _to_working_float(images)
        if working.shape.rank is not None and working.shape.rank < 3:
            raise ValueError(f"Shape must be at least rank 3 but is rank {working.shape.rank} "
                             "for 'adjust_contrast'")
        factor = graph_lib.convert_to_tensor(contrast_factor, dtype=dtypes.float32,
                                             name="contrast_factor")
        if factor.shape.rank not in (None, 0):
            raise ValueError(f"Shape must be rank 0 but is rank {factor.shape.rank} for "
                             "'adjust_contrast'")
        # float16 is adjusted in float32, as TF's kernel does.
        values = math_ops.cast(working, dtypes.float32)
        mean = math_ops.reduce_mean(values, axis=[-3, -2], keepdims=True)
        adjusted = math_ops.add(math_ops.multiply(math_ops.subtract(values, mean), factor), mean)
        adjusted = math_ops.cast(adjusted, working.dtype)
        return convert_image_dtype(array_ops.identity(adjusted, name=scope), images.dtype,
                                   saturate=True)


def random_contrast(image, lower, upper, seed=None):
    """`adjust_contrast` by a factor drawn uniformly from ``[lower, upper)``.

    Args:
      image: a numeric Tensor of rank >= 3.
      lower: the smallest factor (>= 0).
      upper: the bound of the factors (> lower).
      seed: the op seed (see `set_random_seed`).

    Returns:
      A Tensor of `image`'s dtype and shape.

    Raises:
      ValueError: for ``upper <= lower`` or ``lower < 0``.
    """
    return adjust_contrast(image, _random_factor(lower, upper, seed))


def _random_factor(lower, upper, seed):
    """A float32 scalar drawn uniformly from ``[lower, upper)``, after TF's checks of the
    bounds (ValueError for ``upper <= lower`` or ``lower < 0``)."""
    if upper <= lower:
        raise ValueError("upper must be > lower.")
    if lower < 0:
        raise ValueError("lower must be non-negative.")
    return random_ops.random_uniform([], lower, upper, seed=seed)


def rgb_to_grayscale(images, name=None):
    """The luma ``0.2989 R + 0.5870 G + 0.1140 B`` of RGB images, computed in float32.

    Args:
      images: a Tensor ``[..., 3]``.
      name: the name scope.

    Returns:
      A Tensor ``[..., 1]`` of `images`' dtype.

    Raises:
      ValueError: when the last dim is statically known and not 3.
    """
    with graph_lib.name_scope(name, "rgb_to_grayscale", [images]) as scope:
        images = _as_image(images, name="images")
        channels = images.shape[-1] if images.shape.rank else None
        if images.shape.rank == 0 or (channels is not None and channels != 3):
            raise ValueError(f"Dimensions must be equal, but are {channels} and 3 for "
                             f"'rgb_to_grayscale' (images of shape {images.shape})")
        if channels is None:
            # Slicing channels 0..2 would silently drop a 4th channel (or yield an empty
            # result for one channel): the run checks what the graph could not.
            images = _with_dependencies(
                _check(math_ops.equal(array_ops.shape(images)[-1], 3),
                       "The last dimension of RGB images must be 3."), images)
        working = convert_image_dtype(images, dtypes.float32)
        # Weighted channels added left to right, the order of TF's dot product, so float32
        # results match it bit for bit.
        gray = None
        for channel, weight in enumerate(_LUMA_WEIGHTS):
            term = math_ops.multiply(working[..., channel:channel + 1],
                                     array_ops.constant(weight, dtype=dtypes.float32))
            gray = term if gray is None else math_ops.add(gray, term)
        return convert_image_dtype(gray, images.dtype, name=scope)


def grayscale_to_rgb(images, name=None):
    """Grayscale images ``[..., 1]`` repeated into three channels ``[..., 3]``.

    Args:
      images: a Tensor of rank >= 2 whose last dim is 1.
      name: the name scope.

    Returns:
      A Tensor ``[..., 3]`` of `images`' dtype.

    Raises:
      ValueError: for a static rank below 2 or a last dim other than 1.
    """
    with graph_lib.name_scope(name, "grayscale_to_rgb", [images]) as scope:
        images = _as_image(images, name="images")
        shape = images.shape
        if shape.rank is not None and shape.rank < 2:
            raise ValueError(f"A grayscale image (shape {shape}) must be at least "
                             "two-dimensional.")
        if shape.is_fully_defined() and shape[-1] != 1:
            raise ValueError("Last dimension of a grayscale image should be size 1.")
        if not shape.is_fully_defined():
            dims = array_ops.shape(images)
            images = _with_dependencies([
                check_ops.Assert(math_ops.equal(dims[-1], 1),
                                 ["Last dimension of a grayscale image should be size 1."]),
                check_ops.Assert(math_ops.greater_equal(array_ops.rank(images), 2),
                                 ["A grayscale image must be at least two-dimensional."]),
            ], images)
        if shape.rank is not None:
            multiples = [1] * (shape.rank - 1) + [3]
        else:
            multiples = array_ops.concat([array_ops.ones([array_ops.rank(images) - 1],
                                                         dtypes.int32), [3]], 0)
        rgb = array_ops.tile(images, multiples, name=scope)
        if shape.rank is not None:
            rgb.set_shape(shape[:-1].concatenate([3]))
        return rgb
