"""Kernels of the 3-D convolution and pooling ops (``sessionlib/ops/nn_convolution3d_ops.py``).

Design. The kernels are numpy over BLAS, in two forms:

* per tap (the reference kernels, the spec): the loop over the filter taps ``(kd, kh, kw)``;
  a tap reads the strided slice of the padded input that it meets at every output position,
  one matmul with that tap's ``[in, out]`` filter slice (the 2-D reference kernels' design,
  one more axis);
* vol2col (the fast filter gradient): the matrix ``[n*od*oh*ow, kd*kh*kw*in]`` of all windows
  is built once (a strided view of the padded input, copied by one reshape) and the filter
  gradient is one GEMM ``cols.T @ dy``.

Measured on this machine (float32, 3x3x3 filters, batch 8, 16x32x32 with 3 channels and 8x16x16
with 32): for the forward pass and the input gradient the taps' matmuls were as fast as or
faster than vol2col (which copies the input 27 times and, for the input gradient, scatters the
columns back tap by tap anyway), so the fast executor runs the per-tap kernels for those; for
the filter gradient one GEMM with a long inner dimension beat the 27 per-tap ones (about 60 vs
40 ms with 3 channels, 36 vs 32 ms with 32), so that one has a fast vol2col kernel, checked
against the per-tap one by the parity cases.

The pools are per-tap reference kernels on both executors (one elementwise numpy update
per window tap, the 2-D reference pools' design). MaxPool3DGrad follows TF's CPU kernel, not
the 2-D first-maximum rule: each window's gradient goes, whole, to every element within 1e-5 of
that window's ``orig_output`` (so to all of a tie, and to nothing where the maximum is NaN or
an infinity).

float16 runs in float32 and is rounded once at the end. ``NCDHW``, which TF's CPU kernel
refuses, runs as transposes around the NDHWC kernels; dilations above 1, which it refuses too,
are just other slice steps. Other errors are TF's: `InvalidArgumentError` for bad ranks, channel
mismatches (grouped convolutions included) and strides in the batch or channel dimension.
"""

import itertools

import numpy as np

from sessionlib import errors
from sessionlib.runtime.kernel_table import register_kernel

_FLOAT_DTYPES = (np.float16, np.float32, np.float64)
_TO_NDHWC = (0, 2, 3, 4, 1)
_TO_NCDHW = (0, 4, 1, 2, 3)


def _invalid(message):
    return errors.InvalidArgumentError(None, None, message)


class Geometry:
    """One run's geometry: batch, channels, and per spatial dimension (depth, height, width)
    the input size, window, stride, dilation, output size and leading padding."""

    __slots__ = ("n", "c", "size", "window", "strides", "dilations", "out", "pads")

    def __init__(self, **values):
        for name, value in values.items():
            setattr(self, name, value)

    def padded_shape(self):
        """The padded input's spatial shape: every tap's slice fits, every input element too."""
        return tuple(max(p + s, (o - 1) * st + (k - 1) * d + 1) for p, s, o, st, k, d in zip(
            self.pads, self.size, self.out, self.strides, self.window, self.dilations))

    def taps(self):
        """Yields (tap, region): a filter tap and the padded-input slices it reads."""
        for tap in itertools.product(*(range(k) for k in self.window)):
            yield tap, tuple(slice(t * d, t * d + st * (o - 1) + 1, st) for t, d, st, o in zip(
                tap, self.dilations, self.strides, self.out))


def _output_size(size, window, stride, dilation, padding):
    effective = (window - 1) * dilation + 1
    if padding == "SAME":
        out = -(-size // stride)
        return out, max((out - 1) * stride + effective - size, 0) // 2
    return max((size - effective) // stride + 1, 0), 0


def _check_rank(array, what):
    if array.ndim != 5:
        raise _invalid(f"{what} must be 5-dimensional: {list(array.shape)}")


def _geometry(input_shape, window, attrs):
    """The `Geometry` of an NDHWC `input_shape` with a DHW `window`."""
    strides = list(attrs["strides"])
    dilations = list(attrs.get("dilations") or [1] * 5)
    if strides[0] != 1 or strides[4] != 1:
        raise _invalid("Current implementation does not yet support strides in the batch "
                       "and depth dimensions.")
    if dilations[0] != 1 or dilations[4] != 1:
        raise _invalid("Current implementation does not yet support dilations in the batch "
                       "and depth dimensions.")
    n, *size, c = (int(d) for d in input_shape)
    window = tuple(int(k) for k in window)
    outs = [_output_size(s, k, st, d, attrs["padding"])
            for s, k, st, d in zip(size, window, strides[1:4], dilations[1:4])]
    return Geometry(n=n, c=c, size=tuple(size), window=window, strides=tuple(strides[1:4]),
                    dilations=tuple(dilations[1:4]), out=tuple(o for o, _ in outs),
                    pads=tuple(p for _, p in outs))


def _sizes_value(sizes, what):
    sizes = np.asarray(sizes)
    if sizes.ndim != 1 or sizes.shape[0] != 5:
        raise _invalid(f"{what} must be a 1-D tensor of 5 elements, got {sizes.tolist()}")
    if np.any(sizes < 0):
        raise _invalid(f"{what} must be non-negative, got {sizes.tolist()}")
    return tuple(int(v) for v in sizes)


def _compute_dtype(array):
    if array.dtype.type not in _FLOAT_DTYPES:
        raise _invalid(f"unsupported dtype {array.dtype}")
    return np.dtype(np.float32) if array.dtype == np.float16 else array.dtype


def _check_depths(in_depth, filter_depth):
    if in_depth != filter_depth:
        raise _invalid(f"Input depth must be equal to filter depth: {in_depth} vs "
                       f"{filter_depth}")


def _check_out_backprop(dy, g, channels):
    _check_rank(dy, "out_backprop")
    expected = (g.n,) + g.out + (channels,)
    if tuple(dy.shape) != expected:
        raise _invalid(f"Conv3DBackprop: out_backprop has shape {list(dy.shape)}, but the "
                       f"forward geometry gives {list(expected)}")


# ---- argument checks shared by both kernels (all NDHWC) -------------------------------------

def _conv_args(inputs, attrs):
    x, w = inputs
    _check_rank(x, "input")
    _check_rank(w, "filter")
    _check_depths(x.shape[4], w.shape[3])
    return x, w, _geometry(x.shape, w.shape[:3], attrs)


def _backprop_input_args(inputs, attrs):
    sizes, w, dy = inputs
    shape = _sizes_value(sizes, "input_sizes")
    _check_rank(w, "filter")
    g = _geometry(shape, w.shape[:3], attrs)
    _check_depths(g.c, w.shape[3])
    _check_out_backprop(dy, g, w.shape[4])
    return w, dy, g


def _backprop_filter_args(inputs, attrs):
    x, sizes, dy = inputs
    _check_rank(x, "input")
    shape = _sizes_value(sizes, "filter_sizes")
    g = _geometry(x.shape, shape[:3], attrs)
    _check_depths(g.c, shape[3])
    _check_out_backprop(dy, g, shape[4])
    return x, shape, dy, g


def _pad(x, g, fill=0):
    padded = np.full((g.n,) + g.padded_shape() + (g.c,), fill, dtype=x.dtype)
    padded[(slice(None),) + tuple(slice(p, p + s) for p, s in zip(g.pads, g.size))] = x
    return padded


def _unpad(padded, g):
    region = tuple(slice(p, p + s) for p, s in zip(g.pads, g.size))
    return np.ascontiguousarray(padded[(slice(None),) + region])


# ---- reference kernels: one matmul per filter tap ----------------------------------------------

def _ref_conv3d(ctx, inputs, attrs):
    x, w, g = _conv_args(inputs, attrs)
    dtype = _compute_dtype(x)
    x, w = x.astype(dtype), w.astype(dtype)
    out = np.zeros((g.n,) + g.out + (w.shape[4],), dtype=dtype)
    if out.size:
        padded = _pad(x, g)
        for tap, region in g.taps():
            out += padded[(slice(None),) + region] @ w[tap]
    return (out.astype(inputs[0].dtype),)


def _ref_conv3d_backprop_input(ctx, inputs, attrs):
    w, dy, g = _backprop_input_args(inputs, attrs)
    dtype = _compute_dtype(w)
    w, dy = w.astype(dtype), dy.astype(dtype)
    padded = np.zeros((g.n,) + g.padded_shape() + (g.c,), dtype=dtype)
    if dy.size:
        for tap, region in g.taps():
            padded[(slice(None),) + region] += dy @ w[tap].T
    return (_unpad(padded, g).astype(inputs[1].dtype),)


def _ref_conv3d_backprop_filter(ctx, inputs, attrs):
    x, shape, dy, g = _backprop_filter_args(inputs, attrs)
    dtype = _compute_dtype(x)
    x, dy = x.astype(dtype), dy.astype(dtype)
    dw = np.zeros(shape, dtype=dtype)
    if dy.size:
        padded = _pad(x, g)
        flat_dy = dy.reshape(-1, shape[4])
        for tap, region in g.taps():
            dw[tap] = padded[(slice(None),) + region].reshape(-1, g.c).T @ flat_dy
    return (dw.astype(inputs[0].dtype),)


# ---- the fast filter gradient: vol2col + one GEMM --------------------------------------------------------

def _columns(x, g):
    """The vol2col matrix ``[n*od*oh*ow, kd*kh*kw*c]`` of NDHWC `x` (a strided view, copied)."""
    padded = _pad(x, g)
    sn, sd, sh, sw, sc = padded.strides
    spatial = (sd, sh, sw)
    view = np.lib.stride_tricks.as_strided(
        padded, (g.n,) + g.out + g.window + (g.c,),
        (sn,) + tuple(s * st for s, st in zip(spatial, g.strides))
        + tuple(s * d for s, d in zip(spatial, g.dilations)) + (sc,), writeable=False)
    return view.reshape(g.n * int(np.prod(g.out)), -1)


def _fast_conv3d_backprop_filter(ctx, inputs, attrs):
    x, shape, dy, g = _backprop_filter_args(inputs, attrs)
    dtype = _compute_dtype(x)
    if not dy.size or not int(np.prod(shape)):
        return (np.zeros(shape, dtype=x.dtype),)
    dw = _columns(x.astype(dtype, copy=False), g).T @ dy.astype(dtype).reshape(-1, shape[4])
    return (dw.reshape(shape).astype(x.dtype, copy=False),)


# ---- 3-D pooling: one elementwise update per window tap ---------------------------------------

def _unimplemented(message):
    return errors.UnimplementedError(None, None, message)


def _pool_geometry(input_shape, attrs):
    """The `Geometry` of a 3-D pool on an NDHWC `input_shape`, with TF's run-time errors."""
    ksize, strides = list(attrs["ksize"]), list(attrs["strides"])
    for values in (ksize, strides):
        if values[0] != 1:
            raise _unimplemented("Pooling is not yet supported on the batch dimension.")
        if values[4] != 1:
            raise _unimplemented("Pooling is not yet supported on the depth dimension.")
        if min(values) < 1:
            raise _invalid(f"Sliding window ksize and strides must be positive, got ksize "
                           f"{ksize} and strides {strides}")
    g = _geometry(input_shape, ksize[1:4], attrs)
    if attrs["padding"] == "VALID":
        for size, window, stride in zip(g.size, g.window, g.strides):
            # TF's output size (size - window + stride) / stride truncates toward zero: a
            # window up to a stride larger than the input gives an empty output, not an error.
            if size - window + stride <= -stride:
                raise _invalid(f"Computed output size would be negative: "
                               f"{int((size - window + stride) / stride)} [input_size: {size}, "
                               f"effective_filter_size: {window}, stride: {stride}]")
    return g


def _pool_args(x, attrs):
    _check_rank(x, "tensor_in")
    return _pool_geometry(x.shape, attrs)


def _check_pool_output(value, g, what):
    expected = (g.n,) + g.out + (g.c,)
    if tuple(value.shape) != expected:
        raise _invalid(f"Expected {what} shape to be {list(expected)}, but got "
                       f"{list(value.shape)}")


def _window_counts(g, dtype):
    """``[1, od, oh, ow, 1]``: how many input elements (padding excluded) each window holds."""
    ones = _pad(np.ones((1,) + g.size + (1,), dtype=dtype), _with(g, n=1, c=1))
    counts = np.zeros((1,) + g.out + (1,), dtype=dtype)
    for _, region in g.taps():
        counts += ones[(slice(None),) + region]
    return counts


def _with(g, **values):
    fields = {name: getattr(g, name) for name in Geometry.__slots__}
    fields.update(values)
    return Geometry(**fields)


def _ref_max_pool3d(ctx, inputs, attrs):
    x = inputs[0]
    g = _pool_args(x, attrs)
    dtype = _compute_dtype(x)
    out = np.full((g.n,) + g.out + (g.c,), -np.inf, dtype=dtype)
    if out.size:
        padded = _pad(x.astype(dtype), g, fill=-np.inf)  # padding never wins
        for _, region in g.taps():
            np.maximum(out, padded[(slice(None),) + region], out=out)  # NaN propagates
    return (out.astype(x.dtype),)


# TF's MaxPool3DGrad compares each window element with the window's output to this absolute
# tolerance: every element that close to the maximum (all of a tie) gets the whole gradient.
_MAX_TOLERANCE = 1e-5


def _ref_max_pool3d_grad(ctx, inputs, attrs):
    x, y, grad = inputs
    g = _pool_args(x, attrs)
    _check_pool_output(y, g, "orig_output")
    _check_pool_output(grad, g, "grad")
    dtype = _compute_dtype(grad)
    padded = np.zeros((g.n,) + g.padded_shape() + (g.c,), dtype=dtype)
    if grad.size:
        # NaN padding matches no output; an output of NaN or an infinity matches nothing
        # either (the difference is NaN), as in TF.
        x_dtype = _compute_dtype(x)
        padded_x = _pad(x.astype(x_dtype), g, fill=np.nan)
        y, grad = y.astype(x_dtype), grad.astype(dtype)
        with np.errstate(invalid="ignore"):
            for _, region in g.taps():
                window = (slice(None),) + region
                hit = np.abs(padded_x[window] - y) < _MAX_TOLERANCE
                padded[window] += np.where(hit, grad, 0)
    return (_unpad(padded, g).astype(inputs[2].dtype),)


def _ref_avg_pool3d(ctx, inputs, attrs):
    x = inputs[0]
    g = _pool_args(x, attrs)
    dtype = _compute_dtype(x)
    out = np.zeros((g.n,) + g.out + (g.c,), dtype=dtype)
    if out.size:
        padded = _pad(x.astype(dtype), g)
        for _, region in g.taps():
            out += padded[(slice(None),) + region]
        out /= _window_counts(g, dtype)
    return (out.astype(x.dtype),)


def _ref_avg_pool3d_grad(ctx, inputs, attrs):
    sizes, grad = inputs
    g = _pool_geometry(_sizes_value(sizes, "orig_input_shape"), attrs)
    _check_rank(grad, "out_backprop")
    _check_pool_output(grad, g, "grad")
    dtype = _compute_dtype(grad)
    padded = np.zeros((g.n,) + g.padded_shape() + (g.c,), dtype=dtype)
    if grad.size:
        share = grad.astype(dtype) / _window_counts(g, dtype)
        for _, region in g.taps():
            padded[(slice(None),) + region] += share
    return (_unpad(padded, g).astype(grad.dtype),)


# ---- NCDHW: transposes around the NDHWC kernels ---------------------------------------------

def _ncdhw(kernel, images, sizes=None, image_output=True):
    """`kernel` (NDHWC) extended to ``data_format='NCDHW'`` by transposing its image inputs
    (indexes `images`) and image output, and permuting a shape input (index `sizes`)."""
    def run(ctx, inputs, attrs):
        if attrs.get("data_format", "NDHWC") != "NCDHW":
            return kernel(ctx, inputs, attrs)
        inputs = list(inputs)
        for index in images:
            _check_rank(inputs[index], "input" if index == 0 else "out_backprop")
            inputs[index] = np.transpose(inputs[index], _TO_NDHWC)
        if sizes is not None:
            shape = np.asarray(inputs[sizes])
            if shape.shape == (5,):
                inputs[sizes] = shape[list(_TO_NDHWC)]
        nd_attrs = dict(attrs, data_format="NDHWC")
        for name in ("strides", "dilations", "ksize"):
            if attrs.get(name) is None:
                continue
            values = list(attrs[name])
            nd_attrs[name] = [values[i] for i in _TO_NDHWC] if len(values) == 5 else values
        outputs = kernel(ctx, inputs, nd_attrs)
        if image_output:
            outputs = tuple(np.ascontiguousarray(np.transpose(out, _TO_NCDHW))
                            for out in outputs)
        return outputs

    run.__name__ = kernel.__name__
    return run


# The forward pass and the input gradient: the per-tap kernels on both executors (see above).
register_kernel("Conv3D", reference=_ncdhw(_ref_conv3d, (0,)))
register_kernel("Conv3DBackpropInputV2", reference=_ncdhw(_ref_conv3d_backprop_input, (2,), 0))
register_kernel("Conv3DBackpropFilterV2",
                fast=_ncdhw(_fast_conv3d_backprop_filter, (0, 2), None, False),
                reference=_ncdhw(_ref_conv3d_backprop_filter, (0, 2), None, False))
# The pools: numpy reference kernels on both executors (elementwise numpy per tap already).
register_kernel("MaxPool3D", reference=_ncdhw(_ref_max_pool3d, (0,)))
register_kernel("MaxPool3DGrad", reference=_ncdhw(_ref_max_pool3d_grad, (0, 1, 2)))
register_kernel("AvgPool3D", reference=_ncdhw(_ref_avg_pool3d, (0,)))
register_kernel("AvgPool3DGrad", reference=_ncdhw(_ref_avg_pool3d_grad, (1,), 0))
