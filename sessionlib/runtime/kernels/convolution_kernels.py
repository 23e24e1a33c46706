"""Kernels of the convolution and pooling ops (``sessionlib/ops/nn_convolution_ops.py``).

Design. Every op has a plain-numpy reference kernel, the spec, written as a loop over the
filter (or pooling) window: one tap ``(ky, kx)`` reads the strided slice of the padded input
that it meets at every output position, so each tap is one matmul (convolutions) or one
elementwise update (pooling). The fast kernels are in ``sessionlib/_core/convolution.pyx``
(im2col + BLAS GEMM for Conv2D and its backprops, direct loops for the depthwise ops and
pooling, threads from ``intra_op_parallelism_threads``). Both share this module's argument
checks and geometry, so they differ only in arithmetic.

float16 runs in float32 and is rounded once at the end, on both sides. Errors are TF's CPU
ones: strides/dilations in the batch or depth dimension give `UnimplementedError`, bad ranks,
channel mismatches and windows larger than a ``VALID`` input give `InvalidArgumentError`.

Layout. The loops run NHWC. ``NCHW``, which TF's CPU kernels refuse, runs here (so that a
channels_first model runs): `_nchw` wraps every kernel in transposes of its image inputs and
output (one copy each; the filters are HWIO in both layouts), so its results are exactly the
NHWC ones transposed.
"""

import numpy as np

from sessionlib import errors
from sessionlib._core import convolution as _fast
from sessionlib.runtime.kernel_table import register_kernel

_FLOAT_DTYPES = (np.float16, np.float32, np.float64)


def _invalid(message):
    return errors.InvalidArgumentError(None, None, message)


def _unimplemented(message):
    return errors.UnimplementedError(None, None, message)


class Geometry:
    """The window geometry of one run: sizes, steps, dilations and padding, as ints."""

    __slots__ = ("n", "h", "w", "c", "kh", "kw", "sh", "sw", "dh", "dw", "oh", "ow",
                 "pad_top", "pad_left")

    def __init__(self, **values):
        for name, value in values.items():
            setattr(self, name, int(value))

    def fast_args(self):
        """The ints the Cython kernels take, in their order."""
        return (self.kh, self.kw, self.sh, self.sw, self.dh, self.dw, self.pad_top,
                self.pad_left, self.oh, self.ow)


def _output_size(size, window, stride, dilation, padding, pads, pooling):
    effective = (window - 1) * dilation + 1
    if padding == "SAME":
        out = -(-size // stride)
        total = max((out - 1) * stride + effective - size, 0)
        return out, total // 2
    if padding == "EXPLICIT":
        size += pads[0] + pads[1]
    if size < effective:
        if pooling:
            raise _invalid(f"Computed output size would be negative: window {effective} is "
                           f"larger than the input size {size}")
        return 0, pads[0] if padding == "EXPLICIT" else 0
    return (size - effective) // stride + 1, pads[0] if padding == "EXPLICIT" else 0


def _check_nhwc(attrs, pooling):
    if attrs.get("data_format", "NHWC") != "NHWC":
        message = "The CPU implementation only supports the NHWC tensor format, got NCHW"
        raise _invalid(message) if pooling else _unimplemented(message)


def _check_unit(attrs, name, label):
    value = attrs.get(name) or [1, 1, 1, 1]
    if value[0] != 1 or value[3] != 1:
        raise _unimplemented(f"Current implementation does not yet support {label} in the "
                             f"batch and depth dimensions: {list(value)}")
    return value


def _check_rank(array, what):
    if array.ndim != 4:
        raise _invalid(f"{what} must be 4-dimensional: {list(array.shape)}")


def _geometry(input_shape, window, attrs, pooling=False):
    """The `Geometry` of a windowed op on an NHWC `input_shape` with an HW `window`."""
    _check_nhwc(attrs, pooling)
    strides = _check_unit(attrs, "strides", "strides")
    dilations = _check_unit(attrs, "dilations", "dilations")
    if pooling:
        _check_unit(attrs, "ksize", "pooling")
    padding = attrs["padding"]
    explicit = list(attrs.get("explicit_paddings") or [0] * 8)
    n, h, w, c = (int(d) for d in input_shape)
    oh, pad_top = _output_size(h, window[0], strides[1], dilations[1], padding, explicit[2:4],
                               pooling)
    ow, pad_left = _output_size(w, window[1], strides[2], dilations[2], padding, explicit[4:6],
                                pooling)
    return Geometry(n=n, h=h, w=w, c=c, kh=window[0], kw=window[1], sh=strides[1],
                    sw=strides[2], dh=dilations[1], dw=dilations[2], oh=oh, ow=ow,
                    pad_top=pad_top, pad_left=pad_left)


def _sizes_value(sizes, what):
    sizes = np.asarray(sizes)
    if sizes.ndim != 1 or sizes.shape[0] != 4:
        raise _invalid(f"{what} must be a 1-D tensor of 4 elements, got {sizes.tolist()}")
    if np.any(sizes < 0):
        raise _invalid(f"{what} must be non-negative, got {sizes.tolist()}")
    return tuple(int(v) for v in sizes)


def _check_out_backprop(dy, g, channels, what="out_backprop"):
    _check_rank(dy, what)
    expected = (g.n, g.oh, g.ow, channels)
    if tuple(dy.shape) != expected:
        raise _invalid(f"Conv2DBackprop: {what} has shape {list(dy.shape)}, but the forward "
                       f"geometry gives {list(expected)}")


def _compute_dtype(*arrays):
    dtype = arrays[0].dtype
    if dtype.type not in _FLOAT_DTYPES:
        raise _invalid(f"unsupported dtype {dtype}")
    return np.float32 if dtype == np.float16 else dtype


def _as(array, dtype):
    return np.ascontiguousarray(array, dtype=dtype)


# ---- argument checks shared by the fast and reference kernels ------------------------------

def _conv_args(inputs, attrs):
    x, w = inputs
    _check_rank(x, "input")
    _check_rank(w, "filter")
    _check_nhwc(attrs, False)
    if x.shape[3] != w.shape[2]:
        if w.shape[2] and x.shape[3] % w.shape[2] == 0:
            raise _unimplemented("grouped convolutions (input depth a multiple of the "
                                 "filter's) are not implemented")
        raise _invalid(f"input depth must be evenly divisible by filter depth: "
                       f"{x.shape[3]} vs {w.shape[2]}")
    return x, w, _geometry(x.shape, w.shape[:2], attrs)


def _conv_backprop_input_args(inputs, attrs, depthwise=False):
    sizes, w, dy = inputs
    shape = _sizes_value(sizes, "input_sizes")
    _check_rank(w, "filter")
    g = _geometry(shape, w.shape[:2], attrs)
    if w.shape[2] != g.c:
        raise _invalid(f"input and filter must have the same depth: {g.c} vs {w.shape[2]}")
    out_channels = w.shape[2] * w.shape[3] if depthwise else w.shape[3]
    _check_out_backprop(dy, g, out_channels)
    return w, dy, g


def _conv_backprop_filter_args(inputs, attrs, depthwise=False):
    x, sizes, dy = inputs
    _check_rank(x, "input")
    shape = _sizes_value(sizes, "filter_sizes")
    g = _geometry(x.shape, shape[:2], attrs)
    if shape[2] != g.c:
        raise _invalid(f"input and filter must have the same depth: {g.c} vs {shape[2]}")
    out_channels = shape[2] * shape[3] if depthwise else shape[3]
    _check_out_backprop(dy, g, out_channels)
    return x, shape, dy, g


def _pool_args(x, attrs):
    _check_rank(x, "input")
    ksize = attrs["ksize"]
    return _geometry(x.shape, (ksize[1], ksize[2]), attrs, pooling=True)


# ---- reference kernels: numpy, one slice per window tap ---------------------------------------

def _taps(g):
    """Yields (ky, kx, rows, cols): the padded-input slices that tap (ky, kx) reads."""
    for ky in range(g.kh):
        for kx in range(g.kw):
            top, left = ky * g.dh, kx * g.dw
            yield (ky, kx, slice(top, top + g.sh * (g.oh - 1) + 1, g.sh),
                   slice(left, left + g.sw * (g.ow - 1) + 1, g.sw))


def _padded_shape(g):
    """(rows, cols) of the padded input: every tap's slice fits, every input element too."""
    rows = max(g.pad_top + g.h, (g.oh - 1) * g.sh + (g.kh - 1) * g.dh + 1)
    cols = max(g.pad_left + g.w, (g.ow - 1) * g.sw + (g.kw - 1) * g.dw + 1)
    return rows, cols


def _pad(x, g, fill=0):
    rows, cols = _padded_shape(g)
    out = np.full((x.shape[0], rows, cols, x.shape[3]), fill, dtype=x.dtype)
    out[:, g.pad_top:g.pad_top + g.h, g.pad_left:g.pad_left + g.w] = x
    return out


def _unpad(padded, g):
    return padded[:, g.pad_top:g.pad_top + g.h, g.pad_left:g.pad_left + g.w]


def _ref_conv2d(ctx, inputs, attrs):
    x, w, g = _conv_args(inputs, attrs)
    dtype = _compute_dtype(x)
    x, w = x.astype(dtype), w.astype(dtype)
    out = np.zeros((g.n, g.oh, g.ow, w.shape[3]), dtype=dtype)
    if out.size:
        padded = _pad(x, g)
        for ky, kx, rows, cols in _taps(g):
            out += padded[:, rows, cols, :] @ w[ky, kx]
    return (out.astype(inputs[0].dtype),)


def _ref_conv2d_backprop_input(ctx, inputs, attrs):
    w, dy, g = _conv_backprop_input_args(inputs, attrs)
    dtype = _compute_dtype(w)
    w, dy = w.astype(dtype), dy.astype(dtype)
    padded = np.zeros((g.n,) + _padded_shape(g) + (g.c,), dtype=dtype)
    if dy.size:
        for ky, kx, rows, cols in _taps(g):
            padded[:, rows, cols, :] += dy @ w[ky, kx].T
    return (np.ascontiguousarray(_unpad(padded, g)).astype(inputs[1].dtype),)


def _ref_conv2d_backprop_filter(ctx, inputs, attrs):
    x, shape, dy, g = _conv_backprop_filter_args(inputs, attrs)
    dtype = _compute_dtype(x)
    x, dy = x.astype(dtype), dy.astype(dtype)
    dw = np.zeros(shape, dtype=dtype)
    if dy.size:
        padded = _pad(x, g)
        for ky, kx, rows, cols in _taps(g):
            dw[ky, kx] = np.tensordot(padded[:, rows, cols, :], dy, axes=([0, 1, 2], [0, 1, 2]))
    return (dw.astype(inputs[0].dtype),)


def _depthwise_args(inputs, attrs):
    x, w = inputs
    _check_rank(x, "input")
    _check_rank(w, "filter")
    _check_nhwc(attrs, False)
    if x.shape[3] != w.shape[2]:
        raise _invalid(f"input and filter must have the same depth: {x.shape[3]} vs "
                       f"{w.shape[2]}")
    return x, w, _geometry(x.shape, w.shape[:2], attrs)


def _ref_depthwise(ctx, inputs, attrs):
    x, w, g = _depthwise_args(inputs, attrs)
    dtype = _compute_dtype(x)
    x, w = x.astype(dtype), w.astype(dtype)
    out = np.zeros((g.n, g.oh, g.ow) + w.shape[2:], dtype=dtype)
    if out.size:
        padded = _pad(x, g)
        for ky, kx, rows, cols in _taps(g):
            out += padded[:, rows, cols, :, None] * w[ky, kx]
    return (out.reshape(g.n, g.oh, g.ow, -1).astype(inputs[0].dtype),)


def _ref_depthwise_backprop_input(ctx, inputs, attrs):
    w, dy, g = _conv_backprop_input_args(inputs, attrs, depthwise=True)
    dtype = _compute_dtype(w)
    w = w.astype(dtype)
    dy = dy.astype(dtype).reshape(g.n, g.oh, g.ow, g.c, w.shape[3])
    padded = np.zeros((g.n,) + _padded_shape(g) + (g.c,), dtype=dtype)
    if dy.size:
        for ky, kx, rows, cols in _taps(g):
            padded[:, rows, cols, :] += (dy * w[ky, kx]).sum(axis=-1)
    return (np.ascontiguousarray(_unpad(padded, g)).astype(inputs[1].dtype),)


def _ref_depthwise_backprop_filter(ctx, inputs, attrs):
    x, shape, dy, g = _conv_backprop_filter_args(inputs, attrs, depthwise=True)
    dtype = _compute_dtype(x)
    x = x.astype(dtype)
    dy = dy.astype(dtype).reshape(g.n, g.oh, g.ow, g.c, shape[3])
    dw = np.zeros(shape, dtype=dtype)
    if dy.size:
        padded = _pad(x, g)
        for ky, kx, rows, cols in _taps(g):
            dw[ky, kx] = np.einsum("nhwc,nhwcm->cm", padded[:, rows, cols, :], dy)
    return (dw.astype(inputs[0].dtype),)


def _lowest(dtype):
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def _ref_max_pool(ctx, inputs, attrs):
    x = inputs[0]
    g = _pool_args(x, attrs)
    dtype = np.float32 if x.dtype == np.float16 else x.dtype
    padded = _pad(x.astype(dtype), g, fill=_lowest(np.dtype(dtype)))
    out = np.full((g.n, g.oh, g.ow, g.c), _lowest(np.dtype(dtype)), dtype=dtype)
    for _, _, rows, cols in _taps(g):
        np.maximum(out, padded[:, rows, cols, :], out=out)  # NaN propagates
    return (out.astype(x.dtype),)


def _ref_max_pool_grad(ctx, inputs, attrs):
    x, _, grad = inputs
    g = _pool_args(x, attrs)
    dtype = _compute_dtype(x)
    if grad.shape != (g.n, g.oh, g.ow, g.c):
        raise _invalid(f"MaxPoolGrad: grad has shape {list(grad.shape)}, expected "
                       f"{[g.n, g.oh, g.ow, g.c]}")
    # Each window's gradient goes to its first maximum in row-major window order (TF's CPU
    # argmax); padding never wins, and neither does NaN.
    padded = _pad(x.astype(dtype), g, fill=-np.inf)
    best = np.full(grad.shape, -np.inf, dtype=dtype)
    where = np.full(grad.shape, -1, dtype=np.int64)
    oy = np.arange(g.oh)[:, None] * g.sh - g.pad_top
    ox = np.arange(g.ow)[None, :] * g.sw - g.pad_left
    for ky, kx, rows, cols in _taps(g):
        patch = padded[:, rows, cols, :]
        take = patch > best
        best = np.where(take, patch, best)
        flat = ((oy + ky) * g.w + (ox + kx))[None, :, :, None]
        where = np.where(take, flat, where)
    dx = np.zeros((g.n, g.h * g.w, g.c), dtype=dtype)
    n_idx, _, _, c_idx = np.indices(grad.shape)
    chosen = where >= 0
    np.add.at(dx, (n_idx[chosen], where[chosen], c_idx[chosen]),
              grad.astype(dtype)[chosen])
    return (dx.reshape(x.shape).astype(x.dtype),)


def _avg_counts(g, dtype):
    ones = _pad(np.ones((1, g.h, g.w, 1), dtype=dtype), g)
    counts = np.zeros((1, g.oh, g.ow, 1), dtype=dtype)
    for _, _, rows, cols in _taps(g):
        counts += ones[:, rows, cols, :]
    return counts


def _ref_avg_pool(ctx, inputs, attrs):
    x = inputs[0]
    g = _pool_args(x, attrs)
    dtype = _compute_dtype(x)
    padded = _pad(x.astype(dtype), g)
    out = np.zeros((g.n, g.oh, g.ow, g.c), dtype=dtype)
    for _, _, rows, cols in _taps(g):
        out += padded[:, rows, cols, :]
    return ((out / _avg_counts(g, dtype)).astype(x.dtype),)


def _ref_avg_pool_grad(ctx, inputs, attrs):
    sizes, grad = inputs
    shape = _sizes_value(sizes, "orig_input_shape")
    g = _pool_args(np.empty(shape, dtype=np.uint8), attrs)
    dtype = _compute_dtype(grad)
    if grad.shape != (g.n, g.oh, g.ow, g.c):
        raise _invalid(f"AvgPoolGrad: grad has shape {list(grad.shape)}, expected "
                       f"{[g.n, g.oh, g.ow, g.c]}")
    share = grad.astype(dtype) / _avg_counts(g, dtype)
    padded = np.zeros((g.n,) + _padded_shape(g) + (g.c,), dtype=dtype)
    for _, _, rows, cols in _taps(g):
        padded[:, rows, cols, :] += share
    return (np.ascontiguousarray(_unpad(padded, g)).astype(grad.dtype),)


# ---- fast kernels: argument checks here, loops in _core/convolution.pyx ---------------------

def _fast_conv2d(ctx, inputs, attrs):
    x, w, g = _conv_args(inputs, attrs)
    dtype = _compute_dtype(x)
    out = _fast.conv2d(_as(x, dtype), _as(w, dtype), *g.fast_args())
    return (out.astype(x.dtype, copy=False),)


def _fast_conv2d_backprop_input(ctx, inputs, attrs):
    w, dy, g = _conv_backprop_input_args(inputs, attrs)
    dtype = _compute_dtype(w)
    dx = _fast.conv2d_backprop_input(_as(w, dtype), _as(dy, dtype), g.h, g.w, *g.fast_args())
    return (dx.astype(w.dtype, copy=False),)


def _fast_conv2d_backprop_filter(ctx, inputs, attrs):
    x, shape, dy, g = _conv_backprop_filter_args(inputs, attrs)
    dtype = _compute_dtype(x)
    dw = _fast.conv2d_backprop_filter(_as(x, dtype), _as(dy, dtype), shape[3], *g.fast_args())
    return (dw.astype(x.dtype, copy=False),)


def _fast_depthwise(ctx, inputs, attrs):
    x, w, g = _depthwise_args(inputs, attrs)
    dtype = _compute_dtype(x)
    out = _fast.depthwise_conv2d(_as(x, dtype), _as(w, dtype), *g.fast_args())
    return (out.astype(x.dtype, copy=False),)


def _fast_depthwise_backprop_input(ctx, inputs, attrs):
    w, dy, g = _conv_backprop_input_args(inputs, attrs, depthwise=True)
    dtype = _compute_dtype(w)
    dx = _fast.depthwise_conv2d_backprop_input(_as(w, dtype), _as(dy, dtype), g.n, g.h, g.w,
                                               *g.fast_args())
    return (dx.astype(w.dtype, copy=False),)


def _fast_depthwise_backprop_filter(ctx, inputs, attrs):
    x, shape, dy, g = _conv_backprop_filter_args(inputs, attrs, depthwise=True)
    dtype = _compute_dtype(x)
    dw = _fast.depthwise_conv2d_backprop_filter(_as(x, dtype), _as(dy, dtype), shape[3],
                                                *g.fast_args())
    return (dw.astype(x.dtype, copy=False),)


def _fast_max_pool(ctx, inputs, attrs):
    x = inputs[0]
    g = _pool_args(x, attrs)
    dtype = np.float32 if x.dtype == np.float16 else x.dtype
    out = _fast.max_pool(_as(x, dtype), *g.fast_args())
    return (out.astype(x.dtype, copy=False),)


def _fast_max_pool_grad(ctx, inputs, attrs):
    x, _, grad = inputs
    g = _pool_args(x, attrs)
    dtype = _compute_dtype(x)
    if grad.shape != (g.n, g.oh, g.ow, g.c):
        raise _invalid(f"MaxPoolGrad: grad has shape {list(grad.shape)}, expected "
                       f"{[g.n, g.oh, g.ow, g.c]}")
    dx = _fast.max_pool_grad(_as(x, dtype), _as(grad, dtype), *g.fast_args())
    return (dx.astype(x.dtype, copy=False),)


def _fast_avg_pool(ctx, inputs, attrs):
    x = inputs[0]
    g = _pool_args(x, attrs)
    dtype = _compute_dtype(x)
    out = _fast.avg_pool(_as(x, dtype), *g.fast_args())
    return (out.astype(x.dtype, copy=False),)


def _fast_avg_pool_grad(ctx, inputs, attrs):
    sizes, grad = inputs
    shape = _sizes_value(sizes, "orig_input_shape")
    g = _pool_args(np.empty(shape, dtype=np.uint8), attrs)
    dtype = _compute_dtype(grad)
    if grad.shape != (g.n, g.oh, g.ow, g.c):
        raise _invalid(f"AvgPoolGrad: grad has shape {list(grad.shape)}, expected "
                       f"{[g.n, g.oh, g.ow, g.c]}")
    dx = _fast.avg_pool_grad(_as(grad, dtype), g.h, g.w, *g.fast_args())
    return (dx.astype(grad.dtype, copy=False),)


# ---- NCHW: transposes around the NHWC kernels -------------------------------------------------

_TO_NHWC = (0, 2, 3, 1)
_TO_NCHW = (0, 3, 1, 2)


def _nhwc_attrs(attrs):
    """`attrs` of an NCHW op as those of the same op in NHWC (4-value lists permuted)."""
    out = dict(attrs)
    out["data_format"] = "NHWC"
    for name in ("strides", "dilations", "ksize"):
        if attrs.get(name) is not None:
            values = list(attrs[name])
            out[name] = [values[i] for i in _TO_NHWC] if len(values) == 4 else values
    explicit = list(attrs.get("explicit_paddings") or [])
    if len(explicit) == 8:
        out["explicit_paddings"] = [p for i in _TO_NHWC for p in explicit[2 * i:2 * i + 2]]
    return out


def _nchw(kernel, images=(0,), sizes=None, image_output=True):
    """`kernel` (NHWC) extended to ``data_format='NCHW'``: the image inputs (indexes `images`)
    are transposed to NHWC, a shape input (index `sizes`) permuted, and an image output
    transposed back; filters are HWIO in both layouts and pass as they are.

    TF's CPU kernels refuse NCHW; these run it, at the price of one copy per image, so that a
    channels_first model runs here and gives the NHWC results transposed.
    """
    def run(ctx, inputs, attrs):
        if attrs.get("data_format", "NHWC") != "NCHW":
            return kernel(ctx, inputs, attrs)
        inputs = list(inputs)
        for index in images:
            _check_rank(inputs[index], "input" if index == 0 else "out_backprop")
            inputs[index] = np.transpose(inputs[index], _TO_NHWC)
        if sizes is not None:
            shape = np.asarray(inputs[sizes])
            if shape.shape == (4,):
                inputs[sizes] = shape[list(_TO_NHWC)]
        outputs = kernel(ctx, inputs, _nhwc_attrs(attrs))
        if image_output:
            outputs = tuple(np.ascontiguousarray(np.transpose(out, _TO_NCHW)) for out in outputs)
        return outputs

    run.__name__ = kernel.__name__
    run.__doc__ = kernel.__doc__
    return run


# (image inputs, shape input, image output) of each op, for `_nchw`.
_LAYOUTS = {
    "Conv2D": ((0,), None, True),
    "Conv2DBackpropInput": ((2,), 0, True),
    "Conv2DBackpropFilter": ((0, 2), None, False),
    "DepthwiseConv2dNative": ((0,), None, True),
    "DepthwiseConv2dNativeBackpropInput": ((2,), 0, True),
    "DepthwiseConv2dNativeBackpropFilter": ((0, 2), None, False),
    "MaxPool": ((0,), None, True),
    "MaxPoolGrad": ((0, 1, 2), None, True),
    "AvgPool": ((0,), None, True),
    "AvgPoolGrad": ((1,), 0, True),
}
_KERNELS = {
    "Conv2D": (_fast_conv2d, _ref_conv2d),
    "Conv2DBackpropInput": (_fast_conv2d_backprop_input, _ref_conv2d_backprop_input),
    "Conv2DBackpropFilter": (_fast_conv2d_backprop_filter, _ref_conv2d_backprop_filter),
    "DepthwiseConv2dNative": (_fast_depthwise, _ref_depthwise),
    "DepthwiseConv2dNativeBackpropInput": (_fast_depthwise_backprop_input,
                                           _ref_depthwise_backprop_input),
    "DepthwiseConv2dNativeBackpropFilter": (_fast_depthwise_backprop_filter,
                                            _ref_depthwise_backprop_filter),
    "MaxPool": (_fast_max_pool, _ref_max_pool),
    "MaxPoolGrad": (_fast_max_pool_grad, _ref_max_pool_grad),
    "AvgPool": (_fast_avg_pool, _ref_avg_pool),
    "AvgPoolGrad": (_fast_avg_pool_grad, _ref_avg_pool_grad),
}
for _op_type, (_fast_kernel, _ref_kernel) in _KERNELS.items():
    register_kernel(_op_type, fast=_nchw(_fast_kernel, *_LAYOUTS[_op_type]),
                    reference=_nchw(_ref_kernel, *_LAYOUTS[_op_type]))
