"""Kernels of the array ops (``sessionlib/ops/array_ops.py``): constants, feeds, identity, and
shape manipulation and creation.

Design. These kernels are numpy: numpy already reshapes, slices, gathers and copies at memory
speed, so they have no Cython twin, and each kernel is its own reference (``register_kernel``
without `fast`). The exceptions: ``ClipByValue``, which clips with the
elementwise minimum and maximum: its fast kernel uses the Cython ones of ``sessionlib._core``
and its reference the numpy spec, so the parity suite compares the two; and ``ConcatV2``, which
a loop body runs every iteration (an LSTM joins its inputs and its gate gradients): numpy's
general iterator costs more than the copy on such small pieces, so ``_core/arrays.concat``
copies contiguous inputs row piece by row piece and hands the rest back here.

Every kernel checks what only the run can reveal (a fed shape, an index out of range) and
raises InvalidArgumentError in TF's words. The arithmetic that graph-time inference in the op
module must agree with (range lengths, strided-slice specs) comes from
``sessionlib/framework/indexing.py``, never from the op module: the runtime does not import the
op library.
"""

import numpy as np

from sessionlib import errors
from sessionlib._core import arrays as _arrays
from sessionlib._core import elementwise
from sessionlib._core import layout as _layout
from sessionlib.framework.indexing import range_size, strided_slice_entries, to_ints
from sessionlib.runtime import reference_kernels
from sessionlib.runtime.kernel_table import register_kernel

__all__ = ["invalid_argument"]


def invalid_argument(message):
    """An InvalidArgumentError for a kernel to raise (no node: the executor adds it)."""
    return errors.InvalidArgumentError(None, None, message)


# The names TF's placeholder message gives the float types.
_TF_TYPE_NAMES = {"float32": "float", "float64": "double", "float16": "half"}


def _shape_string(shape):
    if shape.rank is None:
        return "<unknown>"
    return "[" + ",".join("?" if d is None else str(d) for d in shape.as_list()) + "]"


def _const_kernel(ctx, inputs, attrs):
    return (attrs["value"],)


def _placeholder_kernel(ctx, inputs, attrs):
    dtype = attrs["dtype"]
    raise errors.InvalidArgumentError(
        None, None,
        f"You must feed a value for placeholder tensor '{attrs['_name']}' with dtype "
        f"{_TF_TYPE_NAMES.get(dtype.name, dtype.name)}"
        + ("" if attrs["shape"].rank is None else f" and shape {_shape_string(attrs['shape'])}"))


def _identity_kernel(ctx, inputs, attrs):
    return (inputs[0],)


def _shape_kernel(ctx, inputs, attrs):
    return (np.asarray(inputs[0].shape, dtype=attrs["out_type"].as_numpy_dtype),)


def _size_kernel(ctx, inputs, attrs):
    return (np.asarray(inputs[0].size, dtype=attrs["out_type"].as_numpy_dtype),)


def _rank_kernel(ctx, inputs, attrs):
    return (np.asarray(inputs[0].ndim, dtype=np.int32),)


def _reshape_kernel(ctx, inputs, attrs):
    tensor, shape_t = inputs
    if shape_t.ndim != 1:
        raise invalid_argument(f"shape must be a vector, got shape {list(shape_t.shape)}")
    dims = to_ints(shape_t)
    unknown = [i for i, d in enumerate(dims) if d == -1]
    if len(unknown) > 1 or any(d < -1 for d in dims):
        raise invalid_argument(f"Only one input size may be -1, not both; shape {dims}")
    known_product = int(np.prod([d for d in dims if d != -1]))
    if unknown:
        if known_product == 0 or tensor.size % known_product:
            raise invalid_argument(
                f"Input to reshape is a tensor with {tensor.size} values, but the "
                f"requested shape requires a multiple of {known_product}")
        dims[unknown[0]] = tensor.size // known_product
    elif known_product != tensor.size:
        raise invalid_argument(f"Input to reshape is a tensor with {tensor.size} values, but the "
                               f"requested shape has {known_product}")
    return (tensor.reshape(dims),)


def _checked_perm(value, perm_t):
    """The permutation of `value`'s axes that `perm_t` holds, non-negative, or raises."""
    perm = to_ints(perm_t)
    if len(perm) != value.ndim:
        raise invalid_argument(
            f"transpose expects a vector of size {value.ndim}. But input(1) is a "
            f"vector of size {len(perm)}")
    normalized = [p % value.ndim if -value.ndim <= p < value.ndim else -1 for p in perm]
    if sorted(normalized) != list(range(value.ndim)):
        raise invalid_argument(f"{perm} is not a valid permutation")
    return normalized


def _transpose_kernel(ctx, inputs, attrs):
    value, perm_t = inputs
    perm = _checked_perm(value, perm_t)
    # TF materializes the result; a contiguous copy also keeps later kernels on fast paths.
    return (np.ascontiguousarray(np.transpose(value, perm)),)


def _fast_transpose_kernel(ctx, inputs, attrs):
    # Rows read in input order (_core/layout.pyx) where the last axis stays; numpy otherwise.
    value, perm_t = inputs
    perm = _checked_perm(value, perm_t)
    result = _layout.transpose(value, perm) if isinstance(value, np.ndarray) else None
    if result is None:
        result = np.ascontiguousarray(np.transpose(value, perm))
    return (result,)


def _expand_dims_kernel(ctx, inputs, attrs):
    value, dim_t = inputs
    if dim_t.size != 1:
        raise invalid_argument(f"'dim' must be a tensor with a single value, got {dim_t.size}")
    axis = int(dim_t.reshape(-1)[0])
    rank_out = value.ndim + 1
    if not -rank_out <= axis < rank_out:
        raise invalid_argument(f"Tried to expand dim index {axis} for tensor with {value.ndim} "
                               "dimensions.")
    return (np.expand_dims(value, axis % rank_out),)


def _squeeze_kernel(ctx, inputs, attrs):
    value = inputs[0]
    squeeze_dims = [int(d) for d in attrs["squeeze_dims"]]
    if not squeeze_dims:
        return (value.reshape([d for d in value.shape if d != 1]),)
    axes = set()
    for axis in squeeze_dims:
        if not -value.ndim <= axis < value.ndim:
            raise invalid_argument(
                f"Tried to squeeze dim index {axis} for tensor with {value.ndim} "
                "dimensions.")
        axis %= value.ndim
        if value.shape[axis] != 1:
            raise invalid_argument(f"Can not squeeze dim[{axis}], expected a dimension of 1, got "
                                   f"{value.shape[axis]}")
        axes.add(axis)
    return (value.reshape([d for i, d in enumerate(value.shape) if i not in axes]),)


def _concat_kernel(ctx, inputs, attrs):
    values, axis = inputs[:-1], int(inputs[-1])
    rank_in = values[0].ndim
    if not -rank_in <= axis < rank_in or rank_in == 0:
        raise invalid_argument(f"ConcatOp : Expected concatenating dimensions in the range "
                               f"[{-rank_in}, {rank_in}), but got {axis}")
    axis %= rank_in
    # Inside a loop body this runs once per iteration: compare the shapes with the concat
    # axis cut out (tuple slices) rather than element by element.
    first = values[0].shape
    outer, inner = first[:axis], first[axis + 1:]
    for i, value in enumerate(values[1:], 1):
        shape = value.shape
        if len(shape) != rank_in or shape[:axis] != outer or shape[axis + 1:] != inner:
            raise invalid_argument(f"ConcatOp : Dimension mismatch in input {i}: shape "
                                   f"{list(first)} vs. shape {list(shape)}")
    return (np.concatenate(values, axis=axis),)


def _pack_kernel(ctx, inputs, attrs):
    first = inputs[0].shape
    for i, value in enumerate(inputs[1:], 1):
        if value.shape != first:
            raise invalid_argument(
                f"Shapes of all inputs must match: values[0].shape = {list(first)}"
                f" != values[{i}].shape = {list(value.shape)}")
    rank_out = len(first) + 1
    axis = int(attrs["axis"])
    if not -rank_out <= axis < rank_out:
        raise invalid_argument(f"axis = {axis} not in [{-rank_out}, {rank_out})")
    return (np.stack(inputs, axis=axis % rank_out),)


def _unpack_kernel(ctx, inputs, attrs):
    value = inputs[0]
    num, axis = int(attrs["num"]), int(attrs["axis"])
    if not -value.ndim <= axis < value.ndim:
        raise invalid_argument(f"axis = {axis} not in [{-value.ndim}, {value.ndim})")
    axis %= value.ndim
    if value.shape[axis] != num:
        raise invalid_argument(f"Input shape axis {axis} must equal {num}, got shape "
                               f"{list(value.shape)}")
    moved = np.moveaxis(value, axis, 0)
    return tuple(np.asarray(moved[i]) for i in range(num))


def _split_kernel(ctx, inputs, attrs):
    axis_t, value = inputs
    num = int(attrs["num_split"])
    axis = int(axis_t)
    if not -value.ndim <= axis < value.ndim:
        raise invalid_argument(
            f"-input rank(-{value.ndim}) <= split_dim < input rank ({value.ndim})"
            f" but got {axis}")
    axis %= value.ndim
    if value.shape[axis] % num:
        raise invalid_argument(
            f"Number of ways to split should evenly divide the split dimension, "
            f"but got split_dim {axis} (size = {value.shape[axis]}) and num_split "
            f"{num}")
    size = value.shape[axis] // num
    return _split_views(value, axis, [size * i for i in range(num + 1)])


def _split_views(value, axis, bounds):
    """The views value[..., bounds[i]:bounds[i + 1], ...] along `axis` (what np.split returns,
    without its per-call overhead: an LSTM cell splits its gates once per loop iteration)."""
    head = (slice(None),) * axis
    return tuple(value[head + (slice(start, stop),)]
                 for start, stop in zip(bounds[:-1], bounds[1:]))


def _split_v_kernel(ctx, inputs, attrs):
    value, sizes_t, axis_t = inputs
    axis = int(axis_t)
    if not -value.ndim <= axis < value.ndim:
        raise invalid_argument(
            f"-input rank(-{value.ndim}) <= split_dim < input rank ({value.ndim})"
            f" but got {axis}")
    axis %= value.ndim
    sizes = to_ints(sizes_t)
    length = value.shape[axis]
    unknown = [i for i, s in enumerate(sizes) if s == -1]
    known_total = sum(s for s in sizes if s != -1)
    if len(unknown) > 1 or any(s < -1 for s in sizes):
        raise invalid_argument(f"Invalid size_splits {sizes}")
    if unknown:
        if known_total > length:
            raise invalid_argument(f"The specified sizes {sizes} exceed the dimension {length}")
        sizes[unknown[0]] = length - known_total
    elif known_total != length:
        raise invalid_argument(
            f"Determined shape must either match input shape along split_dim "
            f"exactly if fully specified, or be less than the size of the input "
            f"along split_dim if not fully specified.  Got: {known_total} vs. "
            f"{length}")
    bounds = [0]
    for size in sizes:
        bounds.append(bounds[-1] + size)
    return _split_views(value, axis, bounds)


def _slice_kernel(ctx, inputs, attrs):
    value, begin_t, size_t = inputs
    begin, sizes = to_ints(begin_t), to_ints(size_t)
    if len(begin) != value.ndim or len(sizes) != value.ndim:
        raise invalid_argument(f"Expected begin and size arguments to be 1-D tensors of size "
                               f"{value.ndim}, but got shapes {list(begin_t.shape)} and "
                               f"{list(size_t.shape)} instead.")
    index = []
    for i, (start, wanted) in enumerate(zip(begin, sizes)):
        length = value.shape[i]
        if wanted == -1:
            wanted = length - start
        if not 0 <= start <= length or not 0 <= wanted or start + wanted > length:
            raise invalid_argument(f"Expected size[{i}] in [0, {length - start}], but got {wanted}"
                                   if 0 <= start <= length else
                                   f"Expected begin[{i}] in [0, {length}], but got {start}")
        index.append(slice(start, start + wanted))
    return (value[tuple(index)],)


def _strided_index(begin_t, end_t, strides_t, attrs):
    """The numpy index tuple of a strided slice spec (shared by StridedSlice and its grad)."""
    begin, end, strides = to_ints(begin_t), to_ints(end_t), to_ints(strides_t)
    if not len(begin) == len(end) == len(strides):
        raise invalid_argument(
            f"Expected begin, end, and strides to be 1D equal size tensors, but got"
            f" shapes {list(begin_t.shape)}, {list(end_t.shape)}, and "
            f"{list(strides_t.shape)} instead.")
    index = []
    for kind, start, stop, stride in strided_slice_entries(begin, end, strides, attrs):
        if kind == "ellipsis":
            if Ellipsis not in index:
                index.append(Ellipsis)
        elif kind == "newaxis":
            index.append(None)
        elif kind == "index":
            index.append(start)
        else:
            if stride == 0:
                raise invalid_argument("strides[i] must be non-zero")
            index.append(slice(start, stop, stride))
    return tuple(index)


def _strided_slice_kernel(ctx, inputs, attrs):
    value, begin_t, end_t, strides_t = inputs
    index = _strided_index(begin_t, end_t, strides_t, attrs)
    try:
        return (np.asarray(value[index]),)
    except IndexError as err:
        raise invalid_argument(f"slice index out of bounds: {err}") from None


def _strided_slice_grad_kernel(ctx, inputs, attrs):
    # Zeros of the forward input's shape, with the incoming gradient written into the slice.
    shape_t, begin_t, end_t, strides_t, dy = inputs
    index = _strided_index(begin_t, end_t, strides_t, attrs)
    dims = to_ints(shape_t)
    if any(d < 0 for d in dims):
        raise invalid_argument(f"StridedSliceGrad: bad shape {dims}")
    result = np.zeros(dims, dtype=dy.dtype)
    try:
        target = result[index]
        if target.shape != dy.shape:
            raise invalid_argument(f"StridedSliceGrad: dy has shape {list(dy.shape)}, but the "
                                   f"slice has shape {list(target.shape)}")
        result[index] = dy
    except IndexError as err:
        raise invalid_argument(f"slice index out of bounds: {err}") from None
    return (result,)


def _gather_kernel(ctx, inputs, attrs):
    params, indices, axis_t = inputs
    axis = int(axis_t)
    if not -params.ndim <= axis < params.ndim:
        raise invalid_argument(
            f"Expected axis in the range [{-params.ndim}, {params.ndim}), but got "
                       f"{axis}")
    axis %= params.ndim
    limit = params.shape[axis]
    if indices.size:
        bad = (indices < 0) | (indices >= limit)
        if bad.any():
            position = tuple(int(i) for i in np.argwhere(bad)[0])
            raise invalid_argument(f"indices{list(position)} = {int(indices[position])} is not in "
                                   f"[0, {limit})")
    return (np.asarray(np.take(params, indices, axis=axis)),)


def _tile_kernel(ctx, inputs, attrs):
    value, multiples_t = inputs
    multiples = to_ints(multiples_t)
    if len(multiples) != value.ndim:
        raise invalid_argument(
            f"Expected multiples argument to be a vector of length {value.ndim} "
            f"but got length {len(multiples)}")
    if any(m < 0 for m in multiples):
        raise invalid_argument(f"Expected multiples to be non-negative, got {multiples}")
    return (np.tile(value, multiples),)


def _fill_kernel(ctx, inputs, attrs):
    dims_t, value = inputs
    if dims_t.ndim != 1:
        raise invalid_argument(f"dims must be a vector, got shape {list(dims_t.shape)}")
    if value.ndim != 0:
        raise invalid_argument(f"value must be a scalar, got shape {list(value.shape)}")
    dims = to_ints(dims_t)
    if any(d < 0 for d in dims):
        raise invalid_argument(f"dims must be non-negative, got {dims}")
    return (np.full(dims, value, dtype=value.dtype),)


def _like_kernel(fill_value):
    def kernel(ctx, inputs, attrs):
        value = inputs[0]
        if value.dtype == object and value.ndim == 0 and hasattr(value[()], "zeros_like"):
            # A variant (a TensorList, list_kernels.py) makes its own zeros, as TF's variant
            # ZerosLike does: the gradient of a list output that got none.
            zeros = np.empty((), dtype=object)
            zeros[()] = value[()].zeros_like()
            return (zeros,)
        return (np.full(value.shape, fill_value, dtype=value.dtype),)

    return kernel


def _range_kernel(ctx, inputs, attrs):
    start, limit, delta = (v.item() for v in inputs)
    dtype = inputs[0].dtype
    try:
        count = range_size(start, limit, delta, dtype.kind in "iu")
    except ValueError as err:
        raise invalid_argument(str(err)) from None
    return (np.asarray(start + delta * np.arange(count), dtype=dtype),)


def _where_kernel(ctx, inputs, attrs):
    return (np.argwhere(inputs[0]).astype(np.int64, copy=False),)


def _select_kernel(op_type):
    def kernel(ctx, inputs, attrs):
        condition, x, y = inputs
        if op_type == "Select":
            if x.shape != y.shape:
                raise invalid_argument(
                    f"'then' and 'else' must have the same size.  but received: "
                    f"{list(x.shape)} vs. {list(y.shape)}")
            if condition.shape != x.shape:
                if condition.ndim != 1 or x.ndim < 1 or condition.shape[0] != x.shape[0]:
                    raise invalid_argument(
                        f"'condition' must be a vector or have the same shape as "
                        f"'then', got {list(condition.shape)} vs. "
                        f"{list(x.shape)}")
                condition = condition.reshape(condition.shape + (1,) * (x.ndim - 1))
        try:
            return (np.asarray(np.where(condition, x, y), dtype=x.dtype),)
        except ValueError as err:
            raise invalid_argument(f"Incompatible shapes: {err}") from None

    return kernel


def _clip_kernel(minimum_fn, maximum_fn):
    def kernel(ctx, inputs, attrs):
        value, low, high = inputs
        # TF 1 clips as maximum(minimum(t, max), min): with min > max the result is min.
        clipped = maximum_fn(minimum_fn(value, high), low)
        if clipped.shape != value.shape:
            raise invalid_argument(
                f"clip_value_min and clip_value_max must be scalars or have the "
                f"shape of t {list(value.shape)}")
        return (clipped,)

    return kernel


register_kernel("Const", reference=_const_kernel)
register_kernel("Placeholder", reference=_placeholder_kernel)
# Identity and PlaceholderWithDefault (when not fed) both pass their input through.
register_kernel("Identity", reference=_identity_kernel)
register_kernel("Shape", reference=_shape_kernel)
register_kernel("Size", reference=_size_kernel)
register_kernel("Rank", reference=_rank_kernel)
register_kernel("Reshape", reference=_reshape_kernel)
register_kernel("Transpose", reference=_transpose_kernel, fast=_fast_transpose_kernel)
register_kernel("ExpandDims", reference=_expand_dims_kernel)
register_kernel("Squeeze", reference=_squeeze_kernel)
_arrays.set_fallbacks({"ConcatV2": _concat_kernel})
register_kernel("ConcatV2", reference=_concat_kernel, fast=_arrays.concat)
register_kernel("Pack", reference=_pack_kernel)
register_kernel("Unpack", reference=_unpack_kernel)
register_kernel("Split", reference=_split_kernel)
register_kernel("SplitV", reference=_split_v_kernel)
register_kernel("Slice", reference=_slice_kernel)
register_kernel("StridedSlice", reference=_strided_slice_kernel)
register_kernel("GatherV2", reference=_gather_kernel)
register_kernel("Tile", reference=_tile_kernel)
register_kernel("Fill", reference=_fill_kernel)
register_kernel("ZerosLike", reference=_like_kernel(0))
register_kernel("OnesLike", reference=_like_kernel(1))
register_kernel("Range", reference=_range_kernel)
register_kernel("Where", reference=_where_kernel)
register_kernel("Select", reference=_select_kernel("Select"))
register_kernel("SelectV2", reference=_select_kernel("SelectV2"))
register_kernel("ClipByValue",
                fast=_clip_kernel(elementwise.minimum, elementwise.maximum),
                reference=_clip_kernel(reference_kernels.minimum, reference_kernels.maximum))


# ---- kernels of gradient helper ops ------------------------------------------------------------

def _broadcast_gradient_args_kernel(ctx, inputs, attrs):
    s0, s1 = (to_ints(s) for s in inputs)
    dtype = inputs[0].dtype
    rank = max(len(s0), len(s1))
    x = [1] * (rank - len(s0)) + s0
    y = [1] * (rank - len(s1)) + s1
    r0, r1 = [], []
    for axis, (dx, dy) in enumerate(zip(x, y)):
        if dx != dy and dx != 1 and dy != 1:
            raise invalid_argument(f"Incompatible shapes: {s0} vs. {s1}")
        # A length-1 dimension of both is summed for both, as TF does (a harmless no-op).
        if dx == 1 and not (dy == 1 and axis >= rank - len(s0)):
            r0.append(axis)
        if dy == 1 and not (dx == 1 and axis >= rank - len(s1)):
            r1.append(axis)
    return (np.asarray(r0, dtype=dtype), np.asarray(r1, dtype=dtype))


def _invert_permutation_kernel(ctx, inputs, attrs):
    perm = inputs[0]
    if perm.ndim != 1:
        raise invalid_argument(f"invert_permutation expects a 1D vector, got shape "
                               f"{list(perm.shape)}")
    n = perm.shape[0]
    if sorted(perm.tolist()) != list(range(n)):
        raise invalid_argument(f"{perm.tolist()} is not a permutation of 0..{n - 1}")
    inverse = np.empty_like(perm)
    inverse[perm] = np.arange(n, dtype=perm.dtype)
    return (inverse,)


register_kernel("BroadcastGradientArgs", reference=_broadcast_gradient_args_kernel)
register_kernel("InvertPermutation", reference=_invert_permutation_kernel)
register_kernel("StridedSliceGrad", reference=_strided_slice_grad_kernel)
