"""Kernels of the math ops (``sessionlib/ops/math_ops.py``): elementwise, Cast, AddN, matmul,
reductions and ArgMax/ArgMin.

Design. Each kernel is registered under its op's type name. The elementwise kernels are bound
straight to the shared functions of ``sessionlib._core.elementwise`` (fast) and
``sessionlib.runtime.reference_kernels`` (spec) with the unary/binary calling conventions, so
the executor calls them with no wrapper in between. Cast and AddN wrap those same functions;
the rest (matmul, reductions, arg reductions, string joins) are numpy on both sides, since numpy
and BLAS already run at the limit for them. Errors are the ones a TF kernel raises at run time
(`InvalidArgumentError`); graph-time checks belong to the ops' `infer` functions, never here.
"""

import numpy as np

from sessionlib import errors
from sessionlib._core import elementwise as _fast
from sessionlib._core import fused as _fused
from sessionlib.runtime import cores as _cores
from sessionlib.runtime import reference_kernels as _ref
from sessionlib.runtime.kernel_table import KIND_BINARY, KIND_UNARY, register_kernel

# ---- elementwise --------------------------------------------------------------------------

# (op type, the function of the same name in _core.elementwise and reference_kernels).
_BINARY_KERNELS = (
    ("AddV2", "add"), ("Sub", "sub"), ("Mul", "mul"), ("RealDiv", "real_div"),
    ("FloorDiv", "floor_div"), ("FloorMod", "floor_mod"), ("Pow", "pow"),
    ("Maximum", "maximum"), ("Minimum", "minimum"), ("SquaredDifference", "squared_difference"),
    ("Less", "less"),
    ("LessEqual", "less_equal"), ("Greater", "greater"), ("GreaterEqual", "greater_equal"),
    ("LogicalAnd", "logical_and"), ("LogicalOr", "logical_or"),
)
_UNARY_KERNELS = (
    ("LogicalNot", "logical_not"), ("Neg", "neg"), ("Abs", "abs"), ("Sign", "sign"),
    ("Square", "square"), ("Sqrt", "sqrt"), ("Rsqrt", "rsqrt"), ("Exp", "exp"), ("Log", "log"),
    ("Log1p", "log1p"), ("Sin", "sin"), ("Cos", "cos"), ("Tanh", "tanh"),
    ("Sigmoid", "sigmoid"), ("Reciprocal", "reciprocal"),
)

for _name, _function in _BINARY_KERNELS:
    register_kernel(_name, fast=getattr(_fast, _function), reference=getattr(_ref, _function),
                    kind=KIND_BINARY)
for _name, _function in _UNARY_KERNELS:
    register_kernel(_name, fast=getattr(_fast, _function), reference=getattr(_ref, _function),
                    kind=KIND_UNARY)


# Equal and NotEqual also take strings (TF registers them for tstring), which the shared
# elementwise functions, numeric by design, do not: a string pair is compared here, and every
# other dtype goes straight on to the elementwise function.
_STRING_DTYPE = np.dtype(object)


def _string_aware_comparison(numeric_fn, compare):
    def kernel(x, y):
        try:
            # Builtin numpy dtypes are singletons: an identity test keeps the numeric path
            # cheap (this runs on every Equal of the graph).
            numeric = x.dtype is not _STRING_DTYPE and y.dtype is not _STRING_DTYPE
        except AttributeError:
            numeric = True
        if numeric:
            return numeric_fn(x, y)
        x_dtype, y_dtype = x.dtype, y.dtype
        if x_dtype != y_dtype:
            raise errors.InvalidArgumentError(
                None, None, f"both inputs must have the same dtype, got {x_dtype} and {y_dtype}")
        try:
            shape = np.broadcast_shapes(np.shape(x), np.shape(y))
        except ValueError:
            raise errors.InvalidArgumentError(
                None, None, f"Incompatible shapes: {list(np.shape(x))} vs. "
                f"{list(np.shape(y))}") from None
        out = np.empty(shape, dtype=np.bool_)
        out[...] = compare(x, y)
        return out

    return kernel


for _name, _function, _compare in (("Equal", "equal", np.equal),
                                   ("NotEqual", "not_equal", np.not_equal)):
    register_kernel(_name, fast=_string_aware_comparison(getattr(_fast, _function), _compare),
                    reference=_string_aware_comparison(getattr(_ref, _function), _compare),
                    kind=KIND_BINARY)

# ---- Cast ---------------------------------------------------------------------------------

def _cast_kernel(cast_fn):
    def kernel(ctx, inputs, attrs):
        return (cast_fn(inputs[0], np.dtype(attrs["DstT"].as_numpy_dtype)),)

    return kernel


register_kernel("Cast", fast=_cast_kernel(_fast.cast), reference=_cast_kernel(_ref.cast))


# ---- AddN ---------------------------------------------------------------------------------

def _add_n_kernel(add_fn):
    def kernel(ctx, inputs, attrs):
        if inputs[0].dtype == object and inputs[0].ndim == 0 and hasattr(inputs[0][()], "add"):
            # Variants (TensorLists, list_kernels.py) add themselves, element-wise.
            total = inputs[0][()]
            for value in inputs[1:]:
                total = total.add(value[()])
            result = np.empty((), dtype=object)
            result[()] = total
            return (result,)
        shape = inputs[0].shape
        for value in inputs[1:]:
            if value.shape != shape:
                raise errors.InvalidArgumentError(
                    None, None, f"Inputs to operation AddN must have the same size and shape. "
                    f"Input 0: {list(shape)} != input: {list(value.shape)}")
        if len(inputs) == 1:
            return (np.array(inputs[0]),)
        total = add_fn(inputs[0], inputs[1])
        for value in inputs[2:]:
            total = add_fn(total, value)
        return (total,)

    return kernel


register_kernel("AddN", fast=_add_n_kernel(_fast.add), reference=_add_n_kernel(_ref.add))


# ---- MatMul, BatchMatMulV2 ----------------------------------------------------------------

def _matmul_kernel(ctx, inputs, attrs):
    a, b = inputs
    if a.ndim != 2 or b.ndim != 2:
        raise errors.InvalidArgumentError(None, None, "In[0] and In[1] must be matrices")
    if attrs["transpose_a"]:
        a = a.T
    if attrs["transpose_b"]:
        b = b.T
    if a.shape[1] != b.shape[0]:
        raise errors.InvalidArgumentError(
            None, None, f"Matrix size-incompatible: In[0]: {list(a.shape)}, In[1]: "
            f"{list(b.shape)}")
    # A big product leases BLAS threads from the core budget (runtime/cores.py).
    return (np.asarray(_cores.blas_matmul(a, b, _fast.get_num_threads())),)


def _batch_matmul_kernel(ctx, inputs, attrs):
    x, y = inputs
    if x.ndim < 2 or y.ndim < 2:
        raise errors.InvalidArgumentError(None, None, "In[0] and In[1] must have rank >= 2")
    if attrs["adj_x"]:
        x = np.swapaxes(x, -1, -2)
    if attrs["adj_y"]:
        y = np.swapaxes(y, -1, -2)
    if x.shape[-1] != y.shape[-2]:
        raise errors.InvalidArgumentError(
            None, None, f"Matrix size-incompatible: In[0]: {list(x.shape)}, In[1]: "
            f"{list(y.shape)}")
    try:
        return (np.asarray(np.matmul(x, y)),)
    except ValueError as err:
        raise errors.InvalidArgumentError(None, None, f"Incompatible batch dimensions: "
                                          f"{err}") from None


register_kernel("MatMul", reference=_matmul_kernel)
register_kernel("BatchMatMulV2", reference=_batch_matmul_kernel)


# ---- reductions ---------------------------------------------------------------------------

def _reduction_axes(value, axes):
    """The normalized, sorted tuple of axes; InvalidArgumentError for bad ones."""
    rank = value.ndim
    result = []
    for axis in np.asarray(axes).reshape(-1).tolist():
        if not -rank <= axis < rank:
            raise errors.InvalidArgumentError(
                None, None, f"Invalid reduction dimension ({axis} for input with {rank} "
                f"dimension(s)")
        axis %= rank
        if axis in result:
            raise errors.InvalidArgumentError(
                None, None, f"Invalid reduction arguments: Axes contains duplicate dimension: "
                f"{axis}")
        result.append(axis)
    return tuple(result)


def _mean(value, axis, keepdims):
    if value.dtype.kind in "iu":
        # TF divides the wrapped-around sum by the count in the integer type, truncating.
        total = np.sum(value, axis=axis, dtype=value.dtype, keepdims=keepdims)
        count = int(np.prod([value.shape[a] for a in axis]))
        if count == 0:
            return np.zeros_like(total)
        quotient = np.abs(total.astype(np.int64)) // count
        return (np.sign(total) * quotient).astype(value.dtype)
    if value.size == 0:
        # np.mean warns on empty slices; TF gives NaN (0 / 0) without a word.
        total = np.sum(value, axis=axis, dtype=value.dtype, keepdims=keepdims)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.true_divide(total, 0, dtype=value.dtype)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.mean(value, axis=axis, dtype=value.dtype, keepdims=keepdims)


def _lowest(dtype):
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def _highest(dtype):
    return np.inf if dtype.kind == "f" else np.iinfo(dtype).max


_REDUCERS = {
    "Sum": lambda v, a, k: np.sum(v, axis=a, dtype=v.dtype, keepdims=k),
    "Prod": lambda v, a, k: np.prod(v, axis=a, dtype=v.dtype, keepdims=k),
    "Mean": _mean,
    # Empty reductions give the identity (-inf / +inf, or the integer limits), as in TF.
    "Max": lambda v, a, k: np.max(v, axis=a, keepdims=k, initial=_lowest(v.dtype)),
    "Min": lambda v, a, k: np.min(v, axis=a, keepdims=k, initial=_highest(v.dtype)),
    "Any": lambda v, a, k: np.any(v, axis=a, keepdims=k),
    "All": lambda v, a, k: np.all(v, axis=a, keepdims=k),
}


def _reduction_kernel(op_type):
    reducer = _REDUCERS[op_type]

    def kernel(ctx, inputs, attrs):
        value, axes = inputs
        axis = _reduction_axes(value, axes)
        with np.errstate(over="ignore", invalid="ignore"):
            result = reducer(value, axis, attrs["keep_dims"])
        return (np.asarray(result, dtype=value.dtype),)

    return kernel


# A float Sum or Mean of this many elements or more over trailing axes (a full reduction
# included) runs as a fused program with no instructions: the fused kernel's parallel,
# budget-leasing reduction (runtime/cores.py) instead of numpy's one thread. It adds in double
# precision (numpy adds float32 pairwise in float32), so the last bits may differ from the
# reference; smaller tensors keep numpy's.
_FUSED_REDUCE_SIZE = 1 << 16
_FUSED_REDUCE = ("Sum", "Mean")
_FLOAT_TYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _fast_reduction_kernel(op_type):
    reference = _reduction_kernel(op_type)
    code = _fused.REDUCTION_NAMES.index("reduce_" + op_type.lower())

    def kernel(ctx, inputs, attrs):
        value, axes = inputs
        if (type(value) is np.ndarray and value.size >= _FUSED_REDUCE_SIZE
                and value.dtype in _FLOAT_TYPES):
            axis = _reduction_axes(value, axes)
            if axis and axis == tuple(range(value.ndim - len(axis), value.ndim)):
                return _fused.fused_elementwise(ctx, (value,), {
                    "program": (), "num_inputs": 1, "num_registers": 0, "reduce": code,
                    "reduce_src": 0, "reduce_axes": axis,
                    "keep_dims": bool(attrs["keep_dims"]), "reduce_op": op_type,
                    "_name": attrs.get("_name", op_type)})
        return reference(ctx, inputs, attrs)

    return kernel


# The fused reductions of runtime/fusion.py call these reference kernels, by the op's name.
for _name in _REDUCERS:
    register_kernel(_name, reference=_reduction_kernel(_name),
                    fast=_fast_reduction_kernel(_name) if _name in _FUSED_REDUCE else None)


def _reduce_join_kernel(ctx, inputs, attrs):
    value, axes = inputs
    rank = value.ndim
    order = []
    for axis in np.asarray(axes).reshape(-1).tolist():
        if not -rank <= axis < rank:
            raise errors.InvalidArgumentError(
                None, None, f"Invalid reduction dimension {axis} for input with {rank} "
                "dimensions")
        axis %= rank
        if axis in order:
            raise errors.InvalidArgumentError(None, None, f"Duplicate reduction dimension "
                                              f"{axis}")
        order.append(axis)
    separator = attrs.get("separator", "")
    if isinstance(separator, str):
        separator = separator.encode("utf-8")
    # TF joins the reduced axes in the order given: reduce them one at a time, keeping dims.
    result = value
    for axis in order:
        moved = np.moveaxis(result, axis, -1)
        joined = np.empty(moved.shape[:-1], dtype=object)
        flat_in = moved.reshape(-1, moved.shape[-1]) if moved.shape[-1] else None
        flat_out = joined.reshape(-1)
        for index in range(flat_out.size):
            flat_out[index] = separator.join(flat_in[index]) if flat_in is not None else b""
        result = np.expand_dims(joined, axis)
    if not attrs["keep_dims"]:
        result = result.reshape([d for i, d in enumerate(result.shape) if i not in order])
    return (np.asarray(result, dtype=object),)


register_kernel("ReduceJoin", reference=_reduce_join_kernel)


# ---- ArgMax / ArgMin ----------------------------------------------------------------------

def _arg_kernel(numpy_fn):
    def kernel(ctx, inputs, attrs):
        value, dimension = inputs
        axis = int(dimension)
        rank = value.ndim
        if not -rank <= axis < rank:
            raise errors.InvalidArgumentError(
                None, None, f"Expected dimension in the range [{-rank}, {rank}), but got "
                f"{axis}")
        if value.shape[axis] == 0:
            raise errors.InvalidArgumentError(
                None, None, f"Reduction axis {axis} is empty in shape {list(value.shape)}")
        out_dtype = attrs["output_type"].as_numpy_dtype
        return (np.asarray(numpy_fn(value, axis=axis), dtype=out_dtype),)

    return kernel


register_kernel("ArgMax", reference=_arg_kernel(np.argmax))
register_kernel("ArgMin", reference=_arg_kernel(np.argmin))


# ---- ProdOthers (the gradient of Prod) ------------------------------------------------------

def _prod_others_kernel(ctx, inputs, attrs):
    """Each element's product of the other elements along the reduced axes: the product of
    an exclusive cumulative product from each side, so that zeros need no division."""
    value, axes = inputs
    axis = _reduction_axes(value, axes)
    rest = [i for i in range(value.ndim) if i not in axis]
    perm = list(axis) + rest
    moved = np.transpose(value, perm)
    count = int(np.prod([value.shape[i] for i in axis], dtype=np.int64))
    flat = moved.reshape(count, int(np.prod(moved.shape[len(axis):], dtype=np.int64)))
    with np.errstate(over="ignore", invalid="ignore"):
        left = np.ones_like(flat)
        right = np.ones_like(flat)
        if count > 1:
            left[1:] = np.cumprod(flat[:-1], axis=0, dtype=flat.dtype)
            right[:-1] = np.cumprod(flat[:0:-1], axis=0, dtype=flat.dtype)[::-1]
        others = (left * right).reshape(moved.shape)
    return (np.ascontiguousarray(np.transpose(others, np.argsort(perm))),)


register_kernel("ProdOthers", reference=_prod_others_kernel)


# ---- UnsortedSegmentSum ---------------------------------------------------------------------

def _segment_checks(data, segment_ids, num_segments):
    if np.ndim(num_segments) != 0:
        raise errors.InvalidArgumentError(None, None, "num_segments should be a scalar, got "
                                          f"shape {list(np.shape(num_segments))}")
    count = int(num_segments)
    if count < 0:
        raise errors.InvalidArgumentError(None, None, f"num_segments must be >= 0, got {count}")
    if data.shape[:segment_ids.ndim] != segment_ids.shape:
        raise errors.InvalidArgumentError(
            None, None, f"segment_ids.shape = {list(segment_ids.shape)} does not start "
            f"data.shape = {list(data.shape)}")
    return count


def _unsorted_segment_sum_reference(ctx, inputs, attrs):
    """The spec: np.add.at of each row into its segment; ids out of range are dropped."""
    data, segment_ids, num_segments = inputs
    count = _segment_checks(data, segment_ids, num_segments)
    inner = data.shape[segment_ids.ndim:]
    result = np.zeros((count,) + inner, dtype=data.dtype)
    ids = segment_ids.reshape(-1)
    rows = data.reshape((ids.size,) + inner)
    keep = (ids >= 0) & (ids < count)
    with np.errstate(over="ignore"):
        np.add.at(result, ids[keep], rows[keep])
    return (result,)


def _unsorted_segment_sum_fast(ctx, inputs, attrs):
    """Rows sorted by id and summed by runs (np.add.reduceat): one pass at memory speed,
    where np.add.at is a slow per-element loop."""
    data, segment_ids, num_segments = inputs
    count = _segment_checks(data, segment_ids, num_segments)
    inner = data.shape[segment_ids.ndim:]
    ids = segment_ids.reshape(-1)
    rows = data.reshape((ids.size, -1) if ids.size else (0, int(np.prod(inner, dtype=np.int64))))
    keep = (ids >= 0) & (ids < count)
    if not keep.all():
        ids, rows = ids[keep], rows[keep]
    result = np.zeros((count, rows.shape[1]), dtype=data.dtype)
    if ids.size:
        order = np.argsort(ids, kind="stable")
        sorted_ids = ids[order]
        starts = np.flatnonzero(np.r_[True, sorted_ids[1:] != sorted_ids[:-1]])
        with np.errstate(over="ignore"):
            sums = np.add.reduceat(rows[order], starts, axis=0, dtype=data.dtype)
        result[sorted_ids[starts]] = sums
    return (result.reshape((count,) + inner),)


register_kernel("UnsortedSegmentSum", fast=_unsorted_segment_sum_fast,
                reference=_unsorted_segment_sum_reference)
