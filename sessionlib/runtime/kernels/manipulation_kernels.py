"""Kernels of the array manipulation ops (``sessionlib/ops/manipulation_ops.py``): OneHot, Pad,
PadV2, MirrorPad, MirrorPadGrad and ReverseV2.

Design. Each of these is one or two numpy calls that already move memory at its speed
(``np.pad``, ``np.flip`` plus a copy, a broadcast comparison), so the reference kernel is also
the fast one. The kernels check what only the run reveals (a fed paddings array, an axis that
was a placeholder) and raise InvalidArgumentError in TF's words. Inputs may be read-only.
"""

import numpy as np

from sessionlib.framework.indexing import to_ints
from sessionlib.runtime.kernel_table import register_kernel
from sessionlib.runtime.kernels.array_kernels import invalid_argument


def _one_hot_kernel(ctx, inputs, attrs):
    indices, depth_t, on_value, off_value = inputs
    if depth_t.ndim != 0:
        raise invalid_argument(f"depth must be a scalar, but got: {list(depth_t.shape)}")
    if on_value.ndim != 0 or off_value.ndim != 0:
        raise invalid_argument("on_value and off_value must be scalars, but got: "
                               f"{list(on_value.shape)} and {list(off_value.shape)}")
    depth = int(depth_t)
    if depth < 0:
        raise invalid_argument(f"depth must be non-negative, got: {depth}")
    axis = int(attrs["axis"])
    if not -1 <= axis <= indices.ndim:
        raise invalid_argument(f"Expected axis to be -1 or between [0, {indices.ndim}).  But "
                               f"received: {axis}")
    # One fill with off_value and one scatter of on_value (not a compare-and-select over
    # the whole output); an index outside [0, depth) marks nothing and leaves off_value.
    flat = indices.reshape(-1).astype(np.int64, copy=False)
    result = np.full((flat.shape[0], depth), off_value, dtype=on_value.dtype)
    hot = np.flatnonzero((flat >= 0) & (flat < depth))
    result[hot, flat[hot]] = on_value
    result = result.reshape(indices.shape + (depth,))
    if axis != -1 and axis != indices.ndim:
        result = np.ascontiguousarray(np.moveaxis(result, -1, axis))
    return (result,)


def _paddings(value, paddings_t):
    if paddings_t.ndim != 2 or paddings_t.shape[1] != 2 or paddings_t.shape[0] != value.ndim:
        raise invalid_argument(
            f"The first dimension of paddings must be the rank of inputs"
            f"{list(paddings_t.shape)}, {list(value.shape)}" if paddings_t.ndim == 2 and
            paddings_t.shape[1] == 2 else
            f"paddings must be a matrix with 2 columns: {list(paddings_t.shape)}")
    pads = [tuple(pair) for pair in np.asarray(to_ints(paddings_t.reshape(-1))).reshape(-1, 2)
            .tolist()]
    for before, after in pads:
        if before < 0 or after < 0:
            raise invalid_argument(f"Paddings must be non-negative: {before} {after}")
    return pads


def _pad_kernel(ctx, inputs, attrs):
    value, paddings_t = inputs[:2]
    pads = _paddings(value, paddings_t)
    if len(inputs) == 3:
        fill = inputs[2]
        if fill.ndim != 0:
            raise invalid_argument(f"constant_values must be a scalar. Found: "
                                   f"{list(fill.shape)}")
        fill = fill.item()
    else:
        fill = b"" if value.dtype == object else 0
    if value.dtype == object:
        # np.pad cannot fill object arrays with a constant; strings are padded by hand.
        out = np.full([d + b + a for d, (b, a) in zip(value.shape, pads)], fill, dtype=object)
        out[tuple(slice(b, b + d) for d, (b, _) in zip(value.shape, pads))] = value
        return (out,)
    return (np.pad(value, pads, mode="constant", constant_values=fill),)


def _mirror_limits(value_shape, pads, mode):
    # REFLECT leaves the edge out, so it can mirror at most dim - 1 elements; SYMMETRIC
    # includes it, at most dim.
    offset = 1 if mode == "REFLECT" else 0
    for dim, (before, after) in zip(value_shape, pads):
        if before > dim - offset or after > dim - offset:
            raise invalid_argument(
                f"paddings must be no greater than the dimension size: {before}, {after} "
                f"greater than {dim - offset}" if offset == 0 else
                f"paddings must be less than the dimension size: {before}, {after} not less "
                f"than {dim}")


def _mirror_pad_kernel(ctx, inputs, attrs):
    value, paddings_t = inputs
    mode = attrs["mode"]
    pads = _paddings(value, paddings_t)
    _mirror_limits(value.shape, pads, mode)
    return (np.pad(value, pads, mode="reflect" if mode == "REFLECT" else "symmetric"),)


def _mirror_pad_grad_kernel(ctx, inputs, attrs):
    grad, paddings_t = inputs
    mode = attrs["mode"]
    pads = _paddings(grad, paddings_t)
    shape = [d - b - a for d, (b, a) in zip(grad.shape, pads)]
    if any(d < 0 for d in shape):
        raise invalid_argument(f"Paddings {pads} are larger than the gradient's shape "
                               f"{list(grad.shape)}")
    _mirror_limits(shape, pads, mode)
    offset = 1 if mode == "REFLECT" else 0
    result = grad
    # Fold one axis at a time: each padded position adds its gradient to the element of the
    # input it mirrors.
    for axis, ((before, after), size) in enumerate(zip(pads, shape)):
        if before == 0 and after == 0:
            continue
        moved = np.moveaxis(result, axis, 0)
        core = np.array(moved[before:before + size])
        if before:
            sources = before - np.arange(before) - 1 + offset
            np.add.at(core, sources, moved[:before])
        if after:
            sources = size - 1 - offset - np.arange(after)
            np.add.at(core, sources, moved[before + size:])
        result = np.moveaxis(core, 0, axis)
    return (np.ascontiguousarray(result),)


def _reverse_kernel(ctx, inputs, attrs):
    value, axis_t = inputs
    if axis_t.ndim != 1:
        raise invalid_argument(f"'dims' must be 1-dimension, not {axis_t.ndim}")
    axes = []
    for position, entry in enumerate(to_ints(axis_t)):
        if not -value.ndim <= entry < value.ndim:
            raise invalid_argument(f"'axis'[{position}] = {entry} is out of valid range "
                                   f"[0, {value.ndim - 1}]")
        entry %= value.ndim
        if entry in axes:
            raise invalid_argument(f"axis {entry} specified more than once.")
        axes.append(entry)
    if not axes:
        return (value,)
    return (np.ascontiguousarray(np.flip(value, axis=tuple(axes))),)


register_kernel("OneHot", reference=_one_hot_kernel)
register_kernel("Pad", reference=_pad_kernel)
register_kernel("PadV2", reference=_pad_kernel)
register_kernel("MirrorPad", reference=_mirror_pad_kernel)
register_kernel("MirrorPadGrad", reference=_mirror_pad_grad_kernel)
register_kernel("ReverseV2", reference=_reverse_kernel)
