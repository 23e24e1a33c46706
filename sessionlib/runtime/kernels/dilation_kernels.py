"""Kernels of the grayscale morphology ops (``sessionlib/ops/nn_dilation_ops.py``):
Dilation2D and its two backprop ops.

Design. A dilation is a max over the filter taps of ``input[shifted] + filter[tap]``. The
kernel walks the taps (few) in TF's row-major order and, for all output pixels at once, keeps
the running max and where it came from; a tap that falls outside the image is skipped, as TF.
The backprop kernels route each output gradient to that winning input pixel or filter tap
(the first strict maximum, as TF), summed with ``np.add.at``.
"""

import numpy as np

from sessionlib.runtime.kernel_table import register_kernel
from sessionlib.runtime.kernels.array_kernels import invalid_argument


def _plan(size, window, stride, rate, padding):
    """(output size, padding before) of one spatial dimension, as TF's windowed ops."""
    effective = (window - 1) * rate + 1
    if padding == "VALID":
        return max(0, (size - effective + stride) // stride), 0
    out = -(-size // stride)
    return out, max((out - 1) * stride + effective - size, 0) // 2


def _dilation_argmax(images, filters, attrs):
    """(max values, winning input rows, winning input columns, winning tap rows, winning tap
    columns), each [batch, out_h, out_w, depth]."""
    if images.ndim != 4:
        raise invalid_argument(f"input must be 4-dimensional{list(images.shape)}")
    if filters.ndim != 3 or filters.shape[2] != images.shape[3]:
        raise invalid_argument(f"filter must be 3-dimensional with the input's depth: "
                               f"{list(filters.shape)}")
    _, stride_h, stride_w, _ = (int(v) for v in attrs["strides"])
    _, rate_h, rate_w, _ = (int(v) for v in attrs["rates"])
    batch, height, width, depth = images.shape
    filter_h, filter_w = filters.shape[:2]
    out_h, pad_top = _plan(height, filter_h, stride_h, rate_h, attrs["padding"])
    out_w, pad_left = _plan(width, filter_w, stride_w, rate_w, attrs["padding"])
    shape = (batch, out_h, out_w, depth)
    best = np.full(shape, -np.inf if images.dtype.kind == "f" else np.iinfo(images.dtype).min,
                   dtype=np.float64 if images.dtype.kind == "f" else np.int64)
    found = np.zeros(shape, bool)
    rows_in, cols_in = np.zeros(shape, np.int64), np.zeros(shape, np.int64)
    taps_h, taps_w = np.zeros(shape, np.int64), np.zeros(shape, np.int64)
    base_h = np.arange(out_h) * stride_h - pad_top
    base_w = np.arange(out_w) * stride_w - pad_left
    # Out-of-image windows start at the clamped corner, as TF's argmax initialization.
    rows_in[...] = np.maximum(base_h, 0)[None, :, None, None]
    cols_in[...] = np.maximum(base_w, 0)[None, None, :, None]
    for tap_h in range(filter_h):
        row = base_h + tap_h * rate_h
        row_ok = (row >= 0) & (row < height)
        for tap_w in range(filter_w):
            col = base_w + tap_w * rate_w
            col_ok = (col >= 0) & (col < width)
            valid = (row_ok[:, None] & col_ok[None, :])[None, :, :, None]
            gathered = images[:, np.clip(row, 0, height - 1)][:, :, np.clip(col, 0, width - 1)]
            value = gathered.astype(best.dtype) + filters[tap_h, tap_w].astype(best.dtype)
            better = valid & (~found | (value > best))
            best = np.where(better, value, best)
            found |= valid
            rows_in = np.where(better, row[None, :, None, None], rows_in)
            cols_in = np.where(better, col[None, None, :, None], cols_in)
            taps_h = np.where(better, tap_h, taps_h)
            taps_w = np.where(better, tap_w, taps_w)
    return best, found, rows_in, cols_in, taps_h, taps_w


def _dilation_kernel(ctx, inputs, attrs):
    images, filters = inputs
    best, found, *_ = _dilation_argmax(images, filters, attrs)
    # A window wholly outside the image keeps TF's initial value, the dtype's lowest.
    lowest = np.finfo(images.dtype).min if images.dtype.kind == "f" else np.iinfo(
        images.dtype).min
    return (np.where(found, best, lowest).astype(images.dtype),)


def _backprop_indices(inputs, attrs):
    images, filters, out_backprop = inputs
    best, found, rows_in, cols_in, taps_h, taps_w = _dilation_argmax(images, filters, attrs)
    if out_backprop.shape != best.shape:
        raise invalid_argument(f"out_backprop has an incompatible shape "
                               f"{list(out_backprop.shape)}, expected {list(best.shape)}")
    batch_index = np.broadcast_to(np.arange(best.shape[0])[:, None, None, None], best.shape)
    depth_index = np.broadcast_to(np.arange(best.shape[3]), best.shape)
    return rows_in, cols_in, taps_h, taps_w, batch_index, depth_index


def _dilation_backprop_input_kernel(ctx, inputs, attrs):
    images, _, out_backprop = inputs
    rows_in, cols_in, _, _, batch_index, depth_index = _backprop_indices(inputs, attrs)
    result = np.zeros(images.shape, images.dtype)
    np.add.at(result, (batch_index, rows_in, cols_in, depth_index), out_backprop)
    return (result,)


def _dilation_backprop_filter_kernel(ctx, inputs, attrs):
    _, filters, out_backprop = inputs
    _, _, taps_h, taps_w, _, depth_index = _backprop_indices(inputs, attrs)
    result = np.zeros(filters.shape, filters.dtype)
    np.add.at(result, (taps_h, taps_w, depth_index), out_backprop)
    return (result,)


register_kernel("Dilation2D", reference=_dilation_kernel)
register_kernel("Dilation2DBackpropInput", reference=_dilation_backprop_input_kernel)
register_kernel("Dilation2DBackpropFilter", reference=_dilation_backprop_filter_kernel)
