"""Kernels of ResizeBicubic, ResizeBicubicGrad and ResizeArea
(``sessionlib/ops/image_resize_extra_ops.py``).

Design. Both resizes are linear and separable: output = ``Wy @ image @ Wx.T`` per batch entry
and channel, with one small weight matrix per axis. The matrices are built with TF's float32
coordinates and weights (the bicubic 1024-entry coefficient table with ``a = -0.75``, or Keys'
``a = -0.5`` renormalized at the borders with half-pixel centers; the area overlaps scaled by
``1 / (scale_y * scale_x)``), and the products run in float64, so results equal TF's to float32
rounding. The bicubic gradient is the transpose: ``Wy.T @ grads @ Wx``.
"""

import numpy as np

from sessionlib.runtime.kernel_table import register_kernel
from sessionlib.runtime.kernels.image_kernels import (_checked_interpolation_grad,
                                                      _checked_resize, _scale,
                                                      _source_coordinates)

_TABLE_SIZE = 1024


def _coefficients(a):
    """TF's bicubic table: entry ``2i`` is the weight at distance ``i/1024``, ``2i+1`` at
    ``1 + i/1024``."""
    x = np.arange(_TABLE_SIZE + 1, dtype=np.float64) / _TABLE_SIZE
    near = ((a + 2) * x - (a + 3)) * x * x + 1
    far = ((a * (x + 1) - 5 * a) * (x + 1) + 8 * a) * (x + 1) - 4 * a
    return near.astype(np.float32), far.astype(np.float32)


_LEGACY_TABLE = _coefficients(-0.75)
_KEYS_TABLE = _coefficients(-0.5)


def _bicubic_matrix(in_size, out_size, attrs):
    """The float64 [out_size, in_size] interpolation matrix of one axis."""
    keys = attrs["half_pixel_centers"]
    near, far = _KEYS_TABLE if keys else _LEGACY_TABLE
    coordinate = _source_coordinates(in_size, out_size, attrs)
    base = np.floor(coordinate).astype(np.int64)
    offset = np.rint((coordinate - base.astype(np.float32)) * np.float32(_TABLE_SIZE)).astype(
        np.int64)
    taps = np.stack([base - 1, base, base + 1, base + 2], 1)
    weights = np.stack([far[offset], near[offset], near[_TABLE_SIZE - offset],
                        far[_TABLE_SIZE - offset]], 1).astype(np.float32)
    bounded = np.clip(taps, 0, in_size - 1)
    if keys:
        # Taps outside the image get no weight, and the rest are renormalized to sum to 1.
        weights = np.where(bounded == taps, weights, np.float32(0))
        total = weights.sum(1, dtype=np.float32)
        usable = np.abs(total) >= np.float32(1000) * np.finfo(np.float32).tiny
        weights = np.where(usable[:, None], weights / np.where(usable, total, 1)[:, None],
                           weights).astype(np.float32)
    matrix = np.zeros((out_size, in_size), np.float64)
    np.add.at(matrix, (np.repeat(np.arange(out_size), 4), bounded.reshape(-1)),
              weights.reshape(-1).astype(np.float64))
    return matrix


def _area_matrix(in_size, out_size, align_corners):
    """The float64 [out_size, in_size] overlap matrix of one axis, and the axis's scale."""
    scale = _scale(in_size, out_size, align_corners)
    matrix = np.zeros((out_size, in_size), np.float64)
    for out_index in range(out_size):
        start = np.float32(out_index) * scale
        end = np.float32(out_index + 1) * scale
        for cell in range(int(np.floor(start)), int(np.ceil(end))):
            overlap = min(np.float32(cell + 1), end) - max(np.float32(cell), start)
            matrix[out_index, min(max(cell, 0), in_size - 1)] += np.float32(overlap)
    return matrix, scale


def _apply(rows, columns, images):
    """``rows @ image @ columns.T`` for each batch entry and channel, in float64."""
    return np.einsum("yi,bijc,xj->byxc", rows, images.astype(np.float64), columns,
                     optimize=True)


def _resize_bicubic_kernel(ctx, inputs, attrs):
    images, out_height, out_width, result = _checked_resize(inputs, attrs, np.float32)
    if result.size == 0:
        return (result,)
    height, width = images.shape[1:3]
    result[...] = _apply(_bicubic_matrix(height, out_height, attrs),
                         _bicubic_matrix(width, out_width, attrs), images)
    return (result,)


def _resize_bicubic_grad_kernel(ctx, inputs, attrs):
    grads, original, height, width = _checked_interpolation_grad(inputs, attrs)
    out_height, out_width = grads.shape[1:3]
    rows = _bicubic_matrix(height, out_height, attrs)
    columns = _bicubic_matrix(width, out_width, attrs)
    result = np.einsum("yi,byxc,xj->bijc", rows, grads.astype(np.float64), columns,
                       optimize=True)
    return (result.astype(original.dtype),)


def _resize_area_kernel(ctx, inputs, attrs):
    attrs = dict(attrs, half_pixel_centers=False)
    images, out_height, out_width, result = _checked_resize(inputs, attrs, np.float32)
    if result.size == 0:
        return (result,)
    height, width = images.shape[1:3]
    rows, row_scale = _area_matrix(height, out_height, attrs["align_corners"])
    columns, column_scale = _area_matrix(width, out_width, attrs["align_corners"])
    normalizer = np.float32(1.0 / (row_scale * column_scale))
    result[...] = _apply(rows, columns, images) * np.float64(normalizer)
    return (result,)


register_kernel("ResizeBicubic", reference=_resize_bicubic_kernel)
register_kernel("ResizeBicubicGrad", reference=_resize_bicubic_grad_kernel)
register_kernel("ResizeArea", reference=_resize_area_kernel)
