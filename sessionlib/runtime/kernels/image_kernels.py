"""Kernels of the image resize ops (``sessionlib/ops/image_resize_ops.py``): ResizeBilinear,
ResizeBilinearGrad, ResizeNearestNeighbor and ResizeNearestNeighborGrad.

Design. Resizing is a gather along height and then width (plus, for bilinear, a blend of the
four neighbours), and its gradient the matching scatter-add: whole-array numpy indexing, so
the reference kernel is also the fast one. Coordinates, weights and blends are float32 in
TF's order of operations (``top + (bottom - top) * lerp``), so results match TF's CPU kernels
bit for bit; the gradients add contributions in TF's row-major order (``np.add.at`` is
sequential) for the same reason.
"""

import numpy as np

from sessionlib.runtime.kernel_table import register_kernel
from sessionlib.runtime.kernels.array_kernels import invalid_argument


def _scale(in_size, out_size, align_corners):
    # float32, as TF computes it.
    if align_corners and out_size > 1:
        return np.float32(in_size - 1) / np.float32(out_size - 1)
    return np.float32(in_size) / np.float32(out_size)


def _source_coordinates(in_size, out_size, attrs):
    """The float32 input coordinate each output index samples."""
    scale = _scale(in_size, out_size, attrs["align_corners"])
    index = np.arange(out_size, dtype=np.float32)
    if attrs["half_pixel_centers"]:
        return (index + np.float32(0.5)) * scale - np.float32(0.5)
    return index * scale


def _bilinear_weights(in_size, out_size, attrs):
    """(lower index, upper index, float32 weight of the upper) per output index."""
    coordinate = _source_coordinates(in_size, out_size, attrs)
    floor = np.floor(coordinate)
    lower = np.maximum(floor, 0).astype(np.int64)
    upper = np.minimum(np.ceil(coordinate), in_size - 1).astype(np.int64)
    return lower, upper, (coordinate - floor).astype(np.float32)


def _nearest_indices(in_size, out_size, attrs):
    scale = _scale(in_size, out_size, attrs["align_corners"])
    index = np.arange(out_size, dtype=np.float32)
    if attrs["half_pixel_centers"]:
        coordinate = (index + np.float32(0.5)) * scale
    else:
        coordinate = index * scale
    # TF rounds half away from zero (roundf); coordinates are never negative here.
    picked = (np.floor(coordinate + np.float32(0.5)) if attrs["align_corners"]
              else np.floor(coordinate))
    return np.clip(picked.astype(np.int64), 0, in_size - 1)


def _check_mapping(attrs):
    if attrs["align_corners"] and attrs["half_pixel_centers"]:
        raise invalid_argument("If half_pixel_centers is True, align_corners must be False.")


def _check_images(images, what="input"):
    if images.ndim != 4:
        raise invalid_argument(f"{what} must be 4-dimensional{list(images.shape)}")
    if images.shape[1] <= 0 or images.shape[2] <= 0:
        raise invalid_argument("input image must be of non-zero size")


def _output_size(size):
    if size.shape != (2,):
        raise invalid_argument(f"shape_t must be 1-dimensional with 2 elements: "
                               f"{list(size.shape)}")
    height, width = int(size[0]), int(size[1])
    if height <= 0 or width <= 0:
        raise invalid_argument("output dimensions must be positive")
    return height, width


def _checked_resize(inputs, attrs, out_dtype):
    """(images, out_height, out_width, result) of a forward resize, after the checks that the
    run does; `result` is the output buffer, allocated before any work so that a size too big
    for the device fails at once (an OOM) instead of first building its huge index arrays."""
    images, size = inputs
    _check_mapping(attrs)
    _check_images(images)
    out_height, out_width = _output_size(size)
    batch, _, _, channels = images.shape
    result = np.zeros((batch, out_height, out_width, channels), out_dtype or images.dtype)
    return images, out_height, out_width, result


def _resize_bilinear_kernel(ctx, inputs, attrs):
    images, out_height, out_width, result = _checked_resize(inputs, attrs, np.float32)
    if result.size == 0:
        return (result,)
    height, width = images.shape[1:3]
    top_index, bottom_index, y_lerp = _bilinear_weights(height, out_height, attrs)
    left_index, right_index, x_lerp = _bilinear_weights(width, out_width, attrs)
    values = images.astype(np.float32, copy=False)
    top_rows, bottom_rows = values[:, top_index], values[:, bottom_index]
    x_lerp = x_lerp[None, None, :, None]
    top = top_rows[:, :, left_index] + (
        top_rows[:, :, right_index] - top_rows[:, :, left_index]) * x_lerp
    bottom = bottom_rows[:, :, left_index] + (
        bottom_rows[:, :, right_index] - bottom_rows[:, :, left_index]) * x_lerp
    np.add(top, (bottom - top) * y_lerp[None, :, None, None], out=result)
    return (result,)


def _checked_interpolation_grad(inputs, attrs):
    """(grads, original, original height, original width) of an interpolating resize's
    gradient op, after the checks that the run does."""
    grads, original = inputs
    _check_mapping(attrs)
    _check_images(grads, "input_grad")
    if original.ndim != 4:
        raise invalid_argument(f"original_image must be 4-dimensional{list(original.shape)}")
    height, width = original.shape[1], original.shape[2]
    if height <= 0 or width <= 0:
        raise invalid_argument("original_image must have a non-zero height and width")
    return grads, original, height, width


def _resize_bilinear_grad_kernel(ctx, inputs, attrs):
    grads, original, height, width = _checked_interpolation_grad(inputs, attrs)
    batch, out_height, out_width, channels = grads.shape
    # float16 gradients are summed in float32 and rounded once at the end, as TF's kernel.
    accumulate = np.float32 if original.dtype == np.float16 else original.dtype
    result = np.zeros((batch, height, width, channels), accumulate)
    if result.size == 0 or grads.size == 0:
        return (result.astype(original.dtype, copy=False),)
    top_index, bottom_index, y_lerp = _bilinear_weights(height, out_height, attrs)
    left_index, right_index, x_lerp = _bilinear_weights(width, out_width, attrs)
    y_keep, x_keep = np.float32(1) - y_lerp, np.float32(1) - x_lerp
    # Contributions ordered [y, x, corner] as TF's loops add them; each product is float32,
    # rounded to the accumulator's dtype before it is added.
    rows = np.stack(np.broadcast_arrays(top_index[:, None], top_index[:, None],
                                        bottom_index[:, None], bottom_index[:, None]), -1)
    rows = np.broadcast_to(rows, (out_height, out_width, 4))
    cols = np.stack(np.broadcast_arrays(left_index[None, :], right_index[None, :],
                                        left_index[None, :], right_index[None, :]), -1)
    cols = np.broadcast_to(cols, (out_height, out_width, 4))
    weights_y = np.stack([y_keep, y_keep, y_lerp, y_lerp], -1)[:, None, :]
    weights_x = np.stack([x_keep, x_lerp, x_keep, x_lerp], -1)[None, :, :]
    grads = grads.astype(np.float32, copy=False)
    # [batch, out_h, out_w, 4, channels]: grad * y weight * x weight, left to right.
    parts = grads[:, :, :, None, :] * weights_y[None, :, :, :, None]
    parts = (parts * weights_x[None, :, :, :, None]).astype(accumulate)
    flat_target = (rows * width + cols).reshape(-1)
    target = result.reshape(batch, height * width, channels)
    for b in range(batch):
        np.add.at(target[b], flat_target, parts[b].reshape(-1, channels))
    return (result.astype(original.dtype, copy=False),)


def _resize_nearest_kernel(ctx, inputs, attrs):
    images, out_height, out_width, result = _checked_resize(inputs, attrs, None)
    if result.size == 0:
        return (result,)
    height, width = images.shape[1:3]
    rows = _nearest_indices(height, out_height, attrs)
    cols = _nearest_indices(width, out_width, attrs)
    result[...] = images[:, rows][:, :, cols]
    return (result,)


def _resize_nearest_grad_kernel(ctx, inputs, attrs):
    grads, size = inputs
    _check_mapping(attrs)
    if grads.ndim != 4:
        raise invalid_argument(f"input must be 4-dimensional{list(grads.shape)}")
    height, width = _output_size(size)
    batch, grad_height, grad_width, channels = grads.shape
    result = np.zeros((batch, height, width, channels), grads.dtype)
    if grads.size == 0:
        return (result,)
    # The forward op read original pixel `index(i)` into output pixel i; here the gradient
    # index plays the output, so the scale maps grads' size onto the original's.
    rows = _nearest_indices(height, grad_height, attrs)
    cols = _nearest_indices(width, grad_width, attrs)
    flat_target = (rows[:, None] * width + cols[None, :]).reshape(-1)
    target = result.reshape(batch, height * width, channels)
    for b in range(batch):
        np.add.at(target[b], flat_target, grads[b].reshape(-1, channels))
    return (result,)


register_kernel("ResizeBilinear", reference=_resize_bilinear_kernel)
register_kernel("ResizeBilinearGrad", reference=_resize_bilinear_grad_kernel)
register_kernel("ResizeNearestNeighbor", reference=_resize_nearest_kernel)
register_kernel("ResizeNearestNeighborGrad", reference=_resize_nearest_grad_kernel)
