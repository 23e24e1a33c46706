"""TF 1's remaining array ops: sorting and set ops, sequence and block rearrangements,
broadcasting, diagonals, tensor scatters and shape utilities.

Ops (one registration each, kernels in ``runtime/kernels/array_extra_kernels.py``): ``Unique``,
``UniqueWithCounts``, ``ReverseSequence``, ``BroadcastTo``, ``BroadcastArgs``, ``Roll``,
``LinSpace``, ``SpaceToDepth``, ``DepthToSpace``, ``SpaceToBatchND``, ``BatchToSpaceND``,
``Diag``, ``DiagPart``, ``LowerBound``, ``UpperBound``, ``ListDiff``, ``UnravelIndex``, the
``TensorScatter*`` family, ``ShapeN``, ``ParallelConcat``, ``EnsureShape``,
``HistogramFixedWidth``, ``ExtractImagePatches``, ``Timestamp``, ``Bitcast`` and
``EditDistance``.

Composites, built as TF 1's Python builds them so their gradients come from their parts:
``sort`` and ``argsort`` (``TopKV2``), ``repeat``, ``meshgrid``, ``batch_gather``,
``where_v2``, ``tensordot``, ``histogram_fixed_width_bins`` and ``searchsorted`` (a reshape
around ``LowerBound``/``UpperBound``).
"""

import numpy as np

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework import registry
from sessionlib.framework.graph import Tensor
from sessionlib.framework.sparse_tensor import (SparseTensor, SparseTensorValue,
                                                convert_to_sparse_tensor)
from sessionlib.framework.tensor_shape import TensorShape, as_shape, broadcast_shapes
from sessionlib.ops import _infer, array_ops, math_ops, nn_lookup_ops

__all__ = ["sort", "argsort", "unique", "unique_with_counts", "reverse_sequence",
           "broadcast_to", "broadcast_dynamic_shape", "broadcast_static_shape", "roll",
           "repeat", "meshgrid", "linspace", "lin_space", "space_to_depth", "depth_to_space",
           "space_to_batch", "space_to_batch_nd", "batch_to_space", "batch_to_space_nd",
           "diag", "diag_part", "searchsorted", "setdiff1d", "unravel_index",
           "tensor_scatter_nd_update", "tensor_scatter_nd_add", "tensor_scatter_nd_sub",
           "tensor_scatter_nd_max", "tensor_scatter_nd_min", "tensor_scatter_update",
           "tensor_scatter_add", "tensor_scatter_sub", "batch_gather", "shape_n",
           "parallel_stack", "ensure_shape", "where_v2", "histogram_fixed_width",
           "histogram_fixed_width_bins", "extract_image_patches", "extract_patches",
           "tensordot", "timestamp", "bitcast", "edit_distance"]

_INDEX = (dtypes.int32, dtypes.int64)


def _graph_of(*values):
    flat = []
    for value in values:
        if isinstance(value, (list, tuple)):
            flat.extend(value)
        elif value is not None:
            flat.append(value)
    return math_ops._find_graph(flat)


def _create(graph, op_type, inputs, attrs=None, name=None):
    return graph.create_op(op_type, inputs, attrs, name=name or op_type).outputs


def _known_ints(tensor):
    """The graph-time value of `tensor` as a list of ints (flattened), or None."""
    value = _infer.folded_value(tensor)
    return None if value is None else [int(v) for v in np.asarray(value).reshape(-1)]


def _positive_count(tensor, arg, op_type):
    """The graph-time value of the scalar count `tensor` (None when unknown), which must be
    positive: the length of a 1-D output."""
    count = _known_ints(tensor)
    if count is None:
        return None
    if count[0] <= 0:
        raise ValueError(f"Requires {arg} > 0: {count[0]} for '{op_type}'")
    return count[0]


def _shape_error(op_type, message, *tensors):
    shapes = ", ".join(str(t.shape) for t in tensors)
    return ValueError(f"{message} for '{op_type}' with input shapes: {shapes}.")


def _dtype_attr(value, allowed, attr, op_type):
    dtype = dtypes.as_dtype(value)
    if dtype not in allowed:
        names = ", ".join(d.name for d in allowed)
        raise TypeError(f"Value for attr '{attr}' of {dtype.name} is not in the list of "
                        f"allowed values: {names} (op {op_type})")
    return dtype


# ---- sort, argsort (composites of TopKV2, as TF) ------------------------------------------

def _sort_or_argsort(values, axis, direction, return_argsort, name):
    if direction not in ("ASCENDING", "DESCENDING"):
        raise ValueError(f"Argument `direction` should be one of ASCENDING, DESCENDING. "
                         f"Received: direction={direction}")
    graph = _graph_of(values)
    with graph.as_default(), graph.name_scope(name or ("argsort" if return_argsort
                                                       else "sort")):
        values = array_ops._tensor(values, "values", graph)
        if isinstance(axis, Tensor):
            axis = _infer.folded_value(axis)
            if axis is None:
                raise ValueError("axis must be a constant scalar")
        axis = int(axis)
        rank = values.shape.rank
        if rank is None and axis != -1:
            raise ValueError("The rank of values must be known to sort along an axis other "
                             "than -1")
        if rank is None:
            rank = axis = 1  # the last axis: no transpose, whatever the rank
        elif not -rank <= axis < rank:
            raise ValueError(f"axis {axis} is out of bounds for a tensor of rank {rank}")
        axis %= rank
        ascending = direction == "ASCENDING"
        if ascending:
            # TopKV2 sorts descending; ascending order is the descending order of the
            # values' negation, which for integers is -x - 1 (the bitwise complement: no
            # overflow at the type's minimum) and keeps equal values in index order.
            if values.dtype.is_integer:
                flipped = math_ops.subtract(math_ops.negative(values),
                                            array_ops._tensor(1, "one", graph, values.dtype))
            else:
                flipped = math_ops.negative(values)
        else:
            flipped = values
        if axis != rank - 1:
            perm = list(range(rank))
            perm[axis], perm[rank - 1] = rank - 1, axis
            flipped = array_ops.transpose(flipped, perm)
        last = flipped.shape[-1] if flipped.shape.rank else None
        k = last if last is not None else array_ops.shape(flipped)[-1]
        top_values, top_indices = nn_lookup_ops.top_k(flipped, k)
        result = top_indices if return_argsort else top_values
        if axis != rank - 1:
            result = array_ops.transpose(result, perm)
        if return_argsort or not ascending:
            return result
        if values.dtype.is_integer:
            return math_ops.subtract(math_ops.negative(result),
                                     array_ops._tensor(1, "one", graph, values.dtype))
        return math_ops.negative(result)


def sort(values, axis=-1, direction="ASCENDING", name=None):
    """`values` sorted along `axis` (``TopKV2`` of all entries, as TF builds it).

    Args:
      values: a numeric Tensor (of known rank, unless `axis` is -1).
      axis: the axis to sort along (a Python int; negative counts from the end).
      direction: ``"ASCENDING"`` or ``"DESCENDING"``.
      name: the op name.

    Returns:
      A Tensor of `values`' shape and dtype.

    Raises:
      ValueError: for an unknown direction, an axis out of range or an unknown rank.
    """
    return _sort_or_argsort(values, axis, direction, False, name)


def argsort(values, axis=-1, direction="ASCENDING", stable=False, name=None):
    """The int32 indices that sort `values` along `axis`.

    Args:
      values: a numeric Tensor (of known rank, unless `axis` is -1).
      axis: the axis to sort along.
      direction: ``"ASCENDING"`` or ``"DESCENDING"``.
      stable: accepted for TF's signature; the order is always stable (equal values keep
        their index order).
      name: the op name.

    Returns:
      An int32 Tensor of `values`' shape.

    Raises:
      ValueError: for an unknown direction, an axis out of range or an unknown rank.
    """
    del stable
    return _sort_or_argsort(values, axis, direction, True, name)


# ---- Unique, UniqueWithCounts -------------------------------------------------------------

def _unique_infer(op_type, with_counts):
    def infer(inputs, attrs):
        (x,) = inputs
        attrs["T"] = x.dtype
        out_idx = _dtype_attr(attrs.get("out_idx", dtypes.int32), _INDEX, "out_idx", op_type)
        attrs["out_idx"] = out_idx
        if x.shape.rank not in (None, 1):
            raise _shape_error(op_type, f"Shape must be rank 1 but is rank {x.shape.rank}", x)
        outs = [(x.dtype, TensorShape([None])), (out_idx, x.shape.with_rank(1))]
        if with_counts:
            outs.append((out_idx, TensorShape([None])))
        return outs

    return infer


registry.register_op("Unique", infer=_unique_infer("Unique", False), num_inputs=1,
                     gradient=registry.NOT_DIFFERENTIABLE,
                     doc="The distinct elements of a vector in order of first occurrence.")
registry.register_op("UniqueWithCounts", infer=_unique_infer("UniqueWithCounts", True),
                     num_inputs=1, gradient=registry.NOT_DIFFERENTIABLE,
                     doc="Unique, with how often each distinct element occurs.")


def unique(x, out_idx=dtypes.int32, name=None):
    """The distinct elements of the vector `x` in order of first occurrence (op ``Unique``).

    Args:
      x: a 1-D Tensor.
      out_idx: int32 or int64, the dtype of `idx`.
      name: the op name.

    Returns:
      ``(y, idx)``: the distinct elements, and for each element of `x` its position in `y`.

    Raises:
      ValueError: if `x` is statically not a vector.
      TypeError: for another `out_idx`.
    """
    graph = _graph_of(x)
    with graph.as_default():
        x_t = array_ops._tensor(x, "x", graph)
        return tuple(_create(graph, "Unique", [x_t], {"out_idx": out_idx}, name))


def unique_with_counts(x, out_idx=dtypes.int32, name=None):
    """`unique` with the number of occurrences of each distinct element (op
    ``UniqueWithCounts``).

    Returns:
      ``(y, idx, count)``.

    Raises:
      ValueError: if `x` is statically not a vector.
      TypeError: for an `out_idx` other than int32/int64.
    """
    graph = _graph_of(x)
    with graph.as_default():
        x_t = array_ops._tensor(x, "x", graph)
        return tuple(_create(graph, "UniqueWithCounts", [x_t], {"out_idx": out_idx}, name))


# ---- ReverseSequence ----------------------------------------------------------------------

def _reverse_sequence_infer(inputs, attrs):
    value, lengths = inputs
    _infer.check_index_dtype("ReverseSequence", lengths, "seq_lengths")
    attrs["T"] = value.dtype
    attrs["Tlen"] = lengths.dtype
    seq_dim = int(attrs["seq_dim"])
    batch_dim = int(attrs.setdefault("batch_dim", 0))
    if lengths.shape.rank not in (None, 1):
        raise _shape_error("ReverseSequence",
                           f"Shape must be rank 1 but is rank {lengths.shape.rank}",
                           value, lengths)
    rank = value.shape.rank
    if rank is None:
        return [(value.dtype, value.shape)]
    if batch_dim >= rank:
        raise ValueError(f"batch_dim must be < input rank: {batch_dim} vs. {rank}")
    if seq_dim >= rank:
        raise ValueError(f"seq_dim must be < input rank: {seq_dim} vs. {rank}")
    if batch_dim == seq_dim or batch_dim < 0 or seq_dim < 0:
        raise ValueError(f"Invalid batch_dim / seq_dim: {batch_dim} / {seq_dim}")
    batch, count = value.shape[batch_dim], lengths.shape.with_rank(1)[0]
    if batch is not None and count is not None and batch != count:
        raise _shape_error("ReverseSequence", f"Dimensions must be equal, but are {batch} and "
                           f"{count}", value, lengths)
    dims = value.shape.as_list()
    if dims[batch_dim] is None:
        dims[batch_dim] = count
    return [(value.dtype, TensorShape(dims))]


def _reverse_sequence_grad(op, grad):
    attrs = {"seq_dim": op.get_attr("seq_dim"), "batch_dim": op.get_attr("batch_dim")}
    reversed_grad = grad.graph.create_op("ReverseSequence", [grad, op.inputs[1]], attrs)
    return [reversed_grad.outputs[0], None]


registry.register_op("ReverseSequence", infer=_reverse_sequence_infer, num_inputs=2,
                     gradient=_reverse_sequence_grad,
                     doc="Reverses the first seq_lengths[i] entries of each batch entry.")


def reverse_sequence(input, seq_lengths, seq_axis=None, batch_axis=None, name=None,  # noqa
                     seq_dim=None, batch_dim=None):
    """Reverses the first ``seq_lengths[i]`` entries along `seq_axis` of each slice ``i``
    along `batch_axis` (op ``ReverseSequence``).

    Args:
      input: a Tensor.
      seq_lengths: a 1-D int32/int64 Tensor, one length per batch entry, each at most the
        size of `seq_axis`.
      seq_axis, batch_axis: the sequence and batch dimensions (`seq_dim`, `batch_dim`:
        their deprecated names); `batch_axis` defaults to 0.
      name: the op name.

    Returns:
      A Tensor of `input`'s shape and dtype.

    Raises:
      ValueError: for axes out of range or equal, or a length count that does not match.
    """
    if seq_axis is not None and seq_dim is not None:
        raise ValueError("Cannot specify both 'seq_axis' and 'seq_dim'")
    if batch_axis is not None and batch_dim is not None:
        raise ValueError("Cannot specify both 'batch_axis' and 'batch_dim'")
    seq_axis = seq_dim if seq_axis is None else seq_axis
    batch_axis = batch_dim if batch_axis is None else batch_axis
    if seq_axis is None:
        raise TypeError("reverse_sequence() missing required argument 'seq_axis'")
    graph = _graph_of(input, seq_lengths)
    with graph.as_default():
        value = array_ops._tensor(input, "input", graph)
        lengths = array_ops._index_tensor(seq_lengths, "seq_lengths", graph)
        attrs = {"seq_dim": int(seq_axis), "batch_dim": int(batch_axis or 0)}
        return _create(graph, "ReverseSequence", [value, lengths], attrs, name)[0]


# ---- BroadcastTo, BroadcastArgs -----------------------------------------------------------

def _broadcast_to_infer(inputs, attrs):
    value, shape = inputs
    _infer.check_index_dtype("BroadcastTo", shape, "shape")
    attrs["T"] = value.dtype
    attrs["Tidx"] = shape.dtype
    if shape.shape.rank not in (None, 1):
        raise _shape_error("BroadcastTo", f"Shape must be rank 1 but is rank "
                           f"{shape.shape.rank}", value, shape)
    target = _infer.shape_from_tensor(shape)
    if target.rank is not None and value.shape.rank is not None:
        if value.shape.rank > target.rank:
            raise ValueError(f"Rank of input ({value.shape.rank}) must be no greater than "
                             f"rank of output shape ({target.rank}).")
        offset = target.rank - value.shape.rank
        for position, dim in enumerate(value.shape.as_list()):
            want = target[offset + position]
            if dim is not None and want is not None and dim != 1 and dim != want:
                raise ValueError(f"Incompatible shapes: {value.shape} vs. {target} for "
                                 f"'BroadcastTo'")
    return [(value.dtype, target)]


def _broadcast_to_grad(op, grad):
    value = op.inputs[0]
    in_shape = array_ops.shape(value, out_type=op.inputs[1].dtype)
    axes, _ = array_ops.broadcast_gradient_args(in_shape, op.inputs[1])
    summed = math_ops.reduce_sum(grad, axes, keepdims=True)
    return [array_ops.reshape(summed, in_shape), None]


registry.register_op("BroadcastTo", infer=_broadcast_to_infer, num_inputs=2,
                     gradient=_broadcast_to_grad,
                     doc="A tensor broadcast, numpy style, to a shape.")


def broadcast_to(input, shape, name=None):  # noqa: A002 - TF's argument name
    """`input` broadcast to `shape` (op ``BroadcastTo``), by numpy's rules.

    Args:
      input: a Tensor.
      shape: a 1-D int32/int64 Tensor or list: the shape to broadcast to.
      name: the op name.

    Returns:
      A Tensor of `input`'s dtype and shape `shape`.

    Raises:
      ValueError: if the shapes are statically incompatible.
    """
    graph = _graph_of(input, shape)
    with graph.as_default():
        value = array_ops._tensor(input, "input", graph)
        shape_t = array_ops._index_tensor(shape, "shape", graph)
        return _create(graph, "BroadcastTo", [value, shape_t], name=name)[0]


def _broadcast_args_infer(inputs, attrs):
    dtype = _infer.same_dtype("BroadcastArgs", inputs, names=("s0", "s1"))
    _infer.check_index_dtype("BroadcastArgs", inputs[0], "s0")
    attrs["T"] = dtype
    for tensor in inputs:
        if tensor.shape.rank not in (None, 1):
            raise _shape_error("BroadcastArgs", f"Shape must be rank 1 but is rank "
                               f"{tensor.shape.rank}", *inputs)
    known = [_known_ints(t) for t in inputs]
    if all(k is not None for k in known):
        return [(dtype, TensorShape([len(_static_broadcast(*known))]))]
    sizes = [t.shape[0] if t.shape.rank == 1 else None for t in inputs]
    if all(s is not None for s in sizes):
        return [(dtype, TensorShape([max(sizes)]))]
    return [(dtype, TensorShape([None]))]


def _static_broadcast(a, b):
    try:
        return np.broadcast_shapes(tuple(a), tuple(b))
    except ValueError:
        raise ValueError(f"Incompatible shapes: {list(a)} vs. {list(b)}") from None


registry.register_op("BroadcastArgs", infer=_broadcast_args_infer, num_inputs=2,
                     gradient=registry.NOT_DIFFERENTIABLE,
                     doc="The shape two shapes broadcast to.")


def broadcast_dynamic_shape(shape_x, shape_y):
    """The shape that shapes `shape_x` and `shape_y` broadcast to (op ``BroadcastArgs``).

    Args:
      shape_x, shape_y: 1-D int32/int64 Tensors (or lists).

    Returns:
      A 1-D Tensor of their dtype.

    Raises:
      ValueError: if both are known and incompatible.
    """
    graph = _graph_of(shape_x, shape_y)
    with graph.as_default():
        s0 = array_ops._index_tensor(shape_x, "shape_x", graph)
        s1 = array_ops._index_tensor(shape_y, "shape_y", graph)
        return _create(graph, "BroadcastArgs", [s0, s1])[0]


def broadcast_static_shape(shape_x, shape_y):
    """The `TensorShape` that static shapes `shape_x` and `shape_y` broadcast to.

    Raises:
      ValueError: if they are incompatible.
    """
    try:
        return broadcast_shapes(as_shape(shape_x), as_shape(shape_y), "broadcast")
    except ValueError:
        raise ValueError(f"Incompatible shapes for broadcasting: {shape_x} and "
                         f"{shape_y}") from None


# ---- Roll ---------------------------------------------------------------------------------

def _roll_infer(inputs, attrs):
    value, shift, axis = inputs
    _infer.check_index_dtype("Roll", shift, "shift")
    _infer.check_index_dtype("Roll", axis, "axis")
    attrs["T"] = value.dtype
    attrs["Tshift"] = shift.dtype
    attrs["Taxis"] = axis.dtype
    if value.shape.rank == 0:
        raise _shape_error("Roll", "Shape must be at least rank 1 but is rank 0",
                           value, shift, axis)
    for tensor in (shift, axis):
        if tensor.shape.rank not in (None, 0, 1):
            raise _shape_error("Roll", f"Shape must be at most rank 1 but is rank "
                               f"{tensor.shape.rank}", value, shift, axis)
    if shift.shape.rank == 1 and axis.shape.rank == 1:
        if None not in (shift.shape[0], axis.shape[0]) and shift.shape[0] != axis.shape[0]:
            raise _shape_error("Roll", f"Dimensions must be equal, but are {shift.shape[0]} "
                               f"and {axis.shape[0]}", value, shift, axis)
    return [(value.dtype, value.shape)]


def _roll_grad(op, grad):
    shift = math_ops.negative(op.inputs[1])
    rolled = grad.graph.create_op("Roll", [grad, shift, op.inputs[2]])
    return [rolled.outputs[0], None, None]


registry.register_op("Roll", infer=_roll_infer, num_inputs=3, gradient=_roll_grad,
                     doc="Elements shifted cyclically along axes.")


def roll(input, shift, axis, name=None):  # noqa: A002 - TF's argument name
    """`input` with its elements shifted cyclically by `shift` along `axis` (op ``Roll``).

    Args:
      input: a Tensor of rank >= 1.
      shift: an int or 1-D int Tensor: positions to shift (negative shifts go back).
      axis: an int or 1-D int Tensor of `shift`'s shape; an axis given twice gets the sum of
        its shifts.
      name: the op name.

    Returns:
      A Tensor of `input`'s shape and dtype.

    Raises:
      ValueError: if `shift` and `axis` statically differ in length.
    """
    graph = _graph_of(input, shift, axis)
    with graph.as_default():
        value = array_ops._tensor(input, "input", graph)
        shift_t = array_ops._index_tensor(shift, "shift", graph)
        axis_t = array_ops._index_tensor(axis, "axis", graph)
        return _create(graph, "Roll", [value, shift_t, axis_t], name=name)[0]


# ---- LinSpace -----------------------------------------------------------------------------

_LINSPACE_TYPES = (dtypes.float16, dtypes.float32, dtypes.float64)


def _lin_space_infer(inputs, attrs):
    start, stop, num = inputs
    dtype = _infer.same_dtype("LinSpace", [start, stop], names=("start", "stop"))
    _infer.check_dtype("LinSpace", start, _LINSPACE_TYPES, "start")
    _infer.check_index_dtype("LinSpace", num, "num")
    attrs["T"] = dtype
    attrs["Tidx"] = num.dtype
    for tensor in (start, stop, num):
        if tensor.shape.rank not in (None, 0):
            raise _shape_error("LinSpace", f"Shape must be rank 0 but is rank "
                               f"{tensor.shape.rank}", start, stop, num)
    return [(dtype, TensorShape([_positive_count(num, "num", "LinSpace")]))]


registry.register_op("LinSpace", infer=_lin_space_infer, num_inputs=3,
                     gradient=registry.NOT_DIFFERENTIABLE,
                     doc="num evenly spaced values from start to stop.")


def linspace(start, stop, num, name=None, axis=0):
    """`num` evenly spaced values from `start` to `stop`, both included (op ``LinSpace``).

    Args:
      start, stop: float scalars of one dtype (Python numbers take the other's dtype;
        integers become float64).
      num: an int32/int64 scalar, at least 1.
      name: the op name.
      axis: must be 0 (TF 1's op takes scalars only).

    Returns:
      A 1-D Tensor of `start`'s dtype.

    Raises:
      ValueError: for ``num <= 0`` known statically, non-scalar inputs or another axis.
    """
    if axis != 0:
        raise ValueError("linspace: only axis 0 (scalar start and stop) is supported")
    graph = _graph_of(start, stop, num)
    with graph.as_default():
        # Python numbers take the other bound's dtype; integers alone become float64, as
        # TF 2's compat.v1.linspace makes them (the op itself takes floats only).
        bounds = [start, stop]
        given = next((b.dtype for b in bounds if isinstance(b, Tensor)), None)
        if given is None:
            given = (dtypes.float64 if all(isinstance(b, (int, np.integer)) for b in bounds)
                     else dtypes.float32)
        start_t, stop_t = [
            array_ops._tensor(bound, what, graph, None if isinstance(bound, Tensor) else given)
            for bound, what in zip(bounds, ("start", "stop"))]
        if start_t.dtype.is_integer:
            start_t = math_ops.cast(start_t, dtypes.float64)
        if stop_t.dtype.is_integer:
            stop_t = math_ops.cast(stop_t, dtypes.float64)
        num_t = array_ops._tensor(num, "num", graph, None if isinstance(num, Tensor)
                                  else dtypes.int32)
        return _create(graph, "LinSpace", [start_t, stop_t, num_t], name=name)[0]


lin_space = linspace


# ---- repeat, meshgrid (composites) --------------------------------------------------------

def repeat(input, repeats, axis=None, name=None):  # noqa: A002 - TF's argument name
    """Each slice of `input` along `axis` repeated `repeats` times (numpy's ``repeat``).

    Args:
      input: a Tensor.
      repeats: an int or 1-D int Tensor, one count per slice (or one for all).
      axis: the axis; None flattens `input` first.
      name: the op name.

    Returns:
      A Tensor of `input`'s dtype.

    Raises:
      ValueError: if the rank of `input` is unknown, or `axis` is out of range.
    """
    graph = _graph_of(input, repeats)
    with graph.as_default(), graph.name_scope(name or "Repeat"):
        value = array_ops._tensor(input, "input", graph)
        repeats_t = math_ops.cast(array_ops._index_tensor(repeats, "repeats", graph),
                                  dtypes.int32)
        if axis is None:
            value = array_ops.reshape(value, [-1])
            axis = 0
        rank = value.shape.rank
        if rank is None:
            raise ValueError("repeat: the rank of input must be known")
        axis = _infer.normalize_axis(axis, rank, "repeat")
        if repeats_t.shape.rank not in (0, 1):
            raise ValueError("repeats must be a scalar or a vector")
        length, size = (repeats_t.shape[0] if repeats_t.shape.rank == 1 else 1,
                        value.shape[axis])
        if length not in (None, 1) and size is not None and length != size:
            raise ValueError(f"Dimensions {size} and {length} are not compatible")
        # Every slice i goes to the output max(repeats) times in a [size, max] grid, then a
        # mask [size, max] (column j < repeats[i]) keeps the wanted copies in order.
        moved = value if axis == 0 else array_ops.transpose(
            value, [axis] + [d for d in range(rank) if d != axis])
        size = array_ops.shape(moved)[:1]
        counts = array_ops.reshape(repeats_t, [-1]) * array_ops.ones(size, dtypes.int32) \
            if repeats_t.shape.rank == 0 or repeats_t.shape[0] == 1 else repeats_t
        longest = math_ops.reduce_max(counts)
        tiled = array_ops.tile(array_ops.expand_dims(moved, 1),
                               array_ops.concat([[1], array_ops.reshape(longest, [1]),
                                                 array_ops.ones([rank - 1], dtypes.int32)],
                                                0))
        mask = math_ops.less(array_ops.range(longest), array_ops.expand_dims(counts, 1))
        from sessionlib.ops import manipulation_ops

        picked = manipulation_ops.boolean_mask(tiled, mask)
        if axis != 0:
            back = list(range(1, axis + 1)) + [0] + list(range(axis + 1, rank))
            picked = array_ops.transpose(picked, back)
        dims = value.shape.as_list()
        counts = _known_ints(repeats_t)
        if counts is not None and repeats_t.shape.rank == 1 and len(counts) > 1:
            dims[axis] = sum(counts)
        elif counts is not None and dims[axis] is not None:
            dims[axis] *= counts[0]
        else:
            dims[axis] = None
        picked.set_shape(dims)
        return picked


def meshgrid(*args, **kwargs):
    """Coordinate grids from 1-D coordinate vectors (numpy's ``meshgrid``).

    Args:
      *args: 1-D Tensors of one dtype.
      **kwargs: `indexing` (``'xy'``, the default, or ``'ij'``) and `name`.

    Returns:
      A list of N-D Tensors, one per input.

    Raises:
      TypeError: for an unknown keyword argument.
      ValueError: for an unknown indexing.
    """
    indexing = kwargs.pop("indexing", "xy")
    name = kwargs.pop("name", "meshgrid")
    if kwargs:
        raise TypeError(f"'{next(iter(kwargs))}' is an invalid keyword argument for this "
                        "function")
    if indexing not in ("xy", "ij"):
        raise ValueError("Argument `indexing` parameter must be either 'xy' or 'ij'")
    if not args:
        return []
    graph = _graph_of(*args)
    with graph.as_default(), graph.name_scope(name):
        values = [array_ops._tensor(a, f"x{i}", graph) for i, a in enumerate(args)]
        count = len(values)
        vectors = []
        for i, value in enumerate(values):
            shape = [1] * count
            shape[i] = -1
            vectors.append(array_ops.reshape(value, shape))
        if indexing == "xy" and count > 1:
            vectors[0] = array_ops.reshape(values[0], [1, -1] + [1] * (count - 2))
            vectors[1] = array_ops.reshape(values[1], [-1, 1] + [1] * (count - 2))
        sizes = [array_ops.size(v) for v in values]
        if indexing == "xy" and count > 1:
            sizes[0], sizes[1] = sizes[1], sizes[0]
        ones = array_ops.ones(array_ops.stack(sizes), dtype=values[0].dtype)
        return [math_ops.multiply(v, ones) for v in vectors]


# ---- SpaceToDepth, DepthToSpace -----------------------------------------------------------

def _depth_space_infer(op_type):
    to_depth = op_type == "SpaceToDepth"

    def infer(inputs, attrs):
        (value,) = inputs
        attrs["T"] = value.dtype
        block = int(attrs["block_size"])
        data_format = attrs.setdefault("data_format", "NHWC")
        if isinstance(data_format, bytes):
            data_format = attrs["data_format"] = data_format.decode()
        if data_format not in ("NHWC", "NCHW"):
            raise ValueError(f"{op_type}: data_format must be 'NHWC' or 'NCHW', got "
                             f"{data_format!r}")
        if block < 2:
            raise ValueError(f"Value for attr 'block_size' of {block} must be at least "
                             f"minimum 2")
        if value.shape.rank not in (None, 4):
            raise _shape_error(op_type, f"Shape must be rank 4 but is rank "
                               f"{value.shape.rank}", value)
        if value.shape.rank is None:
            return [(value.dtype, TensorShape([None] * 4))]
        dims = value.shape.as_list()
        if data_format == "NHWC":
            batch, height, width, depth = dims
        else:
            batch, depth, height, width = dims

        def divided(dim):
            if dim is None:
                return None
            if dim % block:
                raise _shape_error(op_type, f"Dimension size must be evenly divisible by "
                                   f"{block} but is {dim}", value)
            return dim // block

        def times(dim, factor):
            return None if dim is None else dim * factor

        if to_depth:
            height, width, depth = divided(height), divided(width), times(depth, block * block)
        else:
            if depth is not None:
                if depth % (block * block):
                    raise _shape_error(op_type, f"Dimension size must be evenly divisible by "
                                       f"{block * block} but is {depth}", value)
                depth //= block * block
            height, width = times(height, block), times(width, block)
        out = ([batch, height, width, depth] if data_format == "NHWC"
               else [batch, depth, height, width])
        return [(value.dtype, TensorShape(out))]

    return infer


def _depth_space_grad(inverse):
    def grad_fn(op, grad):
        attrs = {"block_size": op.get_attr("block_size"),
                 "data_format": op.get_attr("data_format")}
        return [grad.graph.create_op(inverse, [grad], attrs).outputs[0]]

    return grad_fn


registry.register_op("SpaceToDepth", infer=_depth_space_infer("SpaceToDepth"), num_inputs=1,
                     gradient=_depth_space_grad("DepthToSpace"),
                     doc="Moves block_size x block_size spatial blocks into the depth.")
registry.register_op("DepthToSpace", infer=_depth_space_infer("DepthToSpace"), num_inputs=1,
                     gradient=_depth_space_grad("SpaceToDepth"),
                     doc="Moves depth into block_size x block_size spatial blocks.")


def _depth_space(op_type, value, block_size, name, data_format):
    graph = _graph_of(value)
    with graph.as_default():
        value_t = array_ops._tensor(value, "input", graph)
        attrs = {"block_size": int(block_size), "data_format": data_format}
        return _create(graph, op_type, [value_t], attrs, name)[0]


def space_to_depth(input, block_size, name=None, data_format="NHWC"):  # noqa: A002
    """Moves each ``block_size x block_size`` block of pixels into the depth (op
    ``SpaceToDepth``): ``[b, h, w, c]`` becomes ``[b, h/bs, w/bs, bs*bs*c]``.

    Args:
      input: a 4-D Tensor.
      block_size: an int >= 2 that divides the height and width.
      name: the op name.
      data_format: ``"NHWC"`` or ``"NCHW"``.

    Returns:
      A Tensor of `input`'s dtype.

    Raises:
      ValueError: for a block size below 2, a rank other than 4 or sizes it does not divide.
    """
    return _depth_space("SpaceToDepth", input, block_size, name, data_format)


def depth_to_space(input, block_size, name=None, data_format="NHWC"):  # noqa: A002
    """The inverse of `space_to_depth` (op ``DepthToSpace``): ``[b, h, w, bs*bs*c]`` becomes
    ``[b, h*bs, w*bs, c]``.

    Args:
      input: a 4-D Tensor whose depth `block_size`² divides.
      block_size: an int >= 2.
      name: the op name.
      data_format: ``"NHWC"`` or ``"NCHW"``.

    Returns:
      A Tensor of `input`'s dtype.

    Raises:
      ValueError: for a block size below 2, a rank other than 4 or a depth it does not divide.
    """
    return _depth_space("DepthToSpace", input, block_size, name, data_format)


# ---- SpaceToBatchND, BatchToSpaceND -------------------------------------------------------

def _space_batch_shape(op_type, inputs, value, blocks, num_blocked, pads):
    """The static output shape of SpaceToBatch(ND) or BatchToSpace(ND) of `value` with
    `blocks` (None when unknown; `num_blocked` of them) and paddings or crops `pads`."""
    to_batch = op_type.startswith("SpaceToBatch")
    pad_values = _known_ints(pads)
    if pads.shape.rank == 2 and pads.shape[1] not in (None, 2):
        raise _shape_error(op_type, f"Dimension must be 2 but is {pads.shape[1]}",
                           *inputs)
    if (num_blocked is not None and pads.shape.rank == 2 and pads.shape[0] is not None
            and pads.shape[0] != num_blocked):
        raise _shape_error(op_type, f"Dimensions must be equal, but are {num_blocked} and "
                           f"{pads.shape[0]}", *inputs)
    rank = value.shape.rank
    if rank is None or num_blocked is None:
        return [(value.dtype, TensorShape(None))]
    if rank < num_blocked + 1:
        raise _shape_error(op_type, f"Shape must be at least rank {num_blocked + 1} but "
                           f"is rank {rank}", *inputs)
    dims = value.shape.as_list()
    if blocks is None or pad_values is None:
        return [(value.dtype, TensorShape([None] * (num_blocked + 1)
                                          + dims[num_blocked + 1:]))]
    if any(b < 1 for b in blocks):
        raise ValueError(f"block_shape must be positive for '{op_type}', got {blocks}")
    pairs = np.asarray(pad_values).reshape(num_blocked, 2)
    if (pairs < 0).any():
        raise ValueError(f"{'Paddings' if to_batch else 'Crops'} must be non-negative for "
                         f"'{op_type}'")
    product = int(np.prod(blocks))
    out = [None] * (num_blocked + 1) + dims[num_blocked + 1:]
    if dims[0] is not None:
        if to_batch:
            out[0] = dims[0] * product
        elif dims[0] % product:
            raise ValueError(f"Input batch dimension ({dims[0]}) is not divisible by "
                             f"product of block sizes ({product}) for '{op_type}'")
        else:
            out[0] = dims[0] // product
    for i, block in enumerate(blocks):
        dim = dims[1 + i]
        if dim is None:
            continue
        before, after = pairs[i].tolist()
        if to_batch:
            padded = dim + before + after
            if padded % block:
                raise ValueError(f"padded_shape[{i}]={padded} is not divisible by "
                                 f"block_shape[{i}]={block} for '{op_type}'")
            out[1 + i] = padded // block
        else:
            size = dim * block - before - after
            if size < 0:
                raise ValueError(f"Negative dimension size caused by crops {before} and "
                                 f"{after} of {dim * block} for '{op_type}'")
            out[1 + i] = size
    return [(value.dtype, TensorShape(out))]


def _space_batch_infer(op_type):
    to_batch = op_type == "SpaceToBatchND"
    pads_name = "paddings" if to_batch else "crops"

    def infer(inputs, attrs):
        value, block_shape, pads = inputs
        _infer.check_index_dtype(op_type, block_shape, "block_shape")
        _infer.check_index_dtype(op_type, pads, pads_name)
        attrs["T"] = value.dtype
        attrs["Tblock_shape"] = block_shape.dtype
        attrs["Tpaddings" if to_batch else "Tcrops"] = pads.dtype
        if block_shape.shape.rank not in (None, 1):
            raise _shape_error(op_type, f"Shape must be rank 1 but is rank "
                               f"{block_shape.shape.rank}", value, block_shape, pads)
        if pads.shape.rank not in (None, 2):
            raise _shape_error(op_type, f"Shape must be rank 2 but is rank "
                               f"{pads.shape.rank}", value, block_shape, pads)
        blocks = _known_ints(block_shape)
        num_blocked = (len(blocks) if blocks is not None else
                       block_shape.shape[0] if block_shape.shape.rank == 1 else None)
        return _space_batch_shape(op_type, inputs, value, blocks, num_blocked, pads)

    return infer


def _space_to_batch_grad(op, grad):
    back = grad.graph.create_op("BatchToSpaceND", [grad, op.inputs[1], op.inputs[2]])
    return [back.outputs[0], None, None]


def _batch_to_space_grad(op, grad):
    back = grad.graph.create_op("SpaceToBatchND", [grad, op.inputs[1], op.inputs[2]])
    return [back.outputs[0], None, None]


registry.register_op("SpaceToBatchND", infer=_space_batch_infer("SpaceToBatchND"),
                     num_inputs=3, gradient=_space_to_batch_grad,
                     doc="Pads spatial dimensions and moves their blocks into the batch.")
registry.register_op("BatchToSpaceND", infer=_space_batch_infer("BatchToSpaceND"),
                     num_inputs=3, gradient=_batch_to_space_grad,
                     doc="Moves batch blocks back into spatial dimensions and crops them.")


def _square_block_infer(op_type):
    """The infer function of TF 1's 4-D SpaceToBatch and BatchToSpace: the ND op with a
    square block over height and width, its size an attr."""
    to_batch = op_type == "SpaceToBatch"

    def infer(inputs, attrs):
        value, pads = inputs
        _infer.check_index_dtype(op_type, pads, "paddings" if to_batch else "crops")
        attrs["T"] = value.dtype
        attrs["Tpaddings" if to_batch else "Tidx"] = pads.dtype
        block = int(attrs["block_size"])
        if block < 2:
            raise ValueError(f"Value for attr 'block_size' of {block} must be at least "
                             f"minimum 2")
        if value.shape.rank not in (None, 4):
            raise _shape_error(op_type, f"Shape must be rank 4 but is rank "
                               f"{value.shape.rank}", *inputs)
        if pads.shape.rank not in (None, 2):
            raise _shape_error(op_type, f"Shape must be rank 2 but is rank "
                               f"{pads.shape.rank}", *inputs)
        return _space_batch_shape(op_type, inputs, value, [block, block], 2, pads)

    return infer


def _square_block_grad(inverse):
    def grad_fn(op, grad):
        back = grad.graph.create_op(inverse, [grad, op.inputs[1]],
                                    {"block_size": op.get_attr("block_size")})
        return [back.outputs[0], None]

    return grad_fn


# TF 1 graphs (GraphDefs written before the ND ops) may hold these; TF's Python no longer
# builds them.
registry.register_op("SpaceToBatch", infer=_square_block_infer("SpaceToBatch"), num_inputs=2,
                     gradient=_square_block_grad("BatchToSpace"),
                     doc="SpaceToBatchND over height and width with a square block.")
registry.register_op("BatchToSpace", infer=_square_block_infer("BatchToSpace"), num_inputs=2,
                     gradient=_square_block_grad("SpaceToBatch"),
                     doc="BatchToSpaceND over height and width with a square block.")


def _matrix_tensor(rows, name, graph):
    """``[[before, after], ...]`` (ints, Tensors or a Tensor) as a ``[rows, 2]`` Tensor."""
    if isinstance(rows, Tensor):
        return rows
    if any(isinstance(entry, Tensor) for row in rows for entry in row):
        return array_ops.stack([array_ops._index_tensor(list(row), f"{name}_row", graph)
                                for row in rows], name=name)
    return array_ops._index_tensor(np.asarray(rows, dtype=np.int32).reshape(-1, 2), name,
                                   graph)


def _space_batch(op_type, value, block_shape, pads, pads_name, name):
    graph = _graph_of(value, block_shape, pads)
    with graph.as_default():
        value_t = array_ops._tensor(value, "input", graph)
        blocks = array_ops._index_tensor(block_shape, "block_shape", graph)
        pads_t = _matrix_tensor(pads, pads_name, graph)
        return _create(graph, op_type, [value_t, blocks, pads_t], name=name)[0]


def space_to_batch_nd(input, block_shape, paddings, name=None):  # noqa: A002
    """Pads dimensions ``1..M`` of `input` and moves their ``block_shape`` blocks into the
    batch (op ``SpaceToBatchND``).

    Args:
      input: a Tensor of rank >= 1 + M.
      block_shape: M ints >= 1 (list or 1-D int Tensor).
      paddings: an ``[M, 2]`` int matrix of non-negative paddings; each padded size must be
        a multiple of its block.
      name: the op name.

    Returns:
      A Tensor of shape ``[batch * prod(block_shape), padded_1 / block_1, ..., rest]``.

    Raises:
      ValueError: for statically mismatched arguments.
    """
    return _space_batch("SpaceToBatchND", input, block_shape, paddings, "paddings", name)


def batch_to_space_nd(input, block_shape, crops, name=None):  # noqa: A002
    """The inverse of `space_to_batch_nd` (op ``BatchToSpaceND``): interleaves the batch's
    ``prod(block_shape)`` parts into dimensions ``1..M`` and crops them.

    Args:
      input: a Tensor whose batch `prod(block_shape)` divides.
      block_shape: M ints >= 1.
      crops: an ``[M, 2]`` int matrix of non-negative crops.
      name: the op name.

    Returns:
      A Tensor of `input`'s dtype.

    Raises:
      ValueError: for statically mismatched arguments.
    """
    return _space_batch("BatchToSpaceND", input, block_shape, crops, "crops", name)


def space_to_batch(input, paddings, block_size=None, name=None,  # noqa: A002
                   block_shape=None):
    """TF 1's 4-D `space_to_batch`: `space_to_batch_nd` with a square block over height and
    width (TF builds it as ``SpaceToBatchND`` too).

    Args:
      input: a 4-D Tensor ``[batch, height, width, depth]``.
      paddings: a ``[2, 2]`` int matrix.
      block_size: an int >= 2 (`block_shape`: its other name).
      name: the op name.

    Returns:
      A Tensor of shape ``[batch * block_size², padded_h / bs, padded_w / bs, depth]``.

    Raises:
      ValueError: if neither or both of `block_size` and `block_shape` are given.
    """
    if (block_size is None) == (block_shape is None):
        raise ValueError("Exactly one of block_size and block_shape must be given")
    block = block_size if block_size is not None else block_shape
    return space_to_batch_nd(input, [int(block)] * 2, paddings, name=name)


def batch_to_space(input, crops, block_size, name=None, block_shape=None):  # noqa: A002
    """TF 1's 4-D `batch_to_space`: `batch_to_space_nd` with a square block (TF builds it
    as ``BatchToSpaceND`` too).

    Args:
      input: a 4-D Tensor whose batch block_size² divides.
      crops: a ``[2, 2]`` int matrix.
      block_size: an int >= 2 (`block_shape`: its other name).
      name: the op name.

    Returns:
      A Tensor of `input`'s dtype.
    """
    block = block_size if block_shape is None else block_shape
    return batch_to_space_nd(input, [int(block)] * 2, crops, name=name)


# ---- Diag, DiagPart -----------------------------------------------------------------------

def _diag_infer(inputs, attrs):
    (value,) = inputs
    attrs["T"] = value.dtype
    if value.shape.rank == 0:
        raise _shape_error("Diag", "Shape must be at least rank 1 but is rank 0", value)
    if value.shape.rank is None:
        return [(value.dtype, TensorShape(None))]
    return [(value.dtype, value.shape.concatenate(value.shape))]


def _diag_part_infer(inputs, attrs):
    (value,) = inputs
    attrs["T"] = value.dtype
    rank = value.shape.rank
    if rank is None:
        return [(value.dtype, TensorShape(None))]
    if rank == 0 or rank % 2:
        raise ValueError(f"Input must have even rank <= 6, input rank is {rank} for "
                         f"'DiagPart' with input shapes: {value.shape}.")
    half = rank // 2
    dims = value.shape.as_list()
    out = []
    for first, second in zip(dims[:half], dims[half:]):
        if first is not None and second is not None and first != second:
            raise ValueError(f"Dimensions must be equal, but are {first} and {second} for "
                             f"'DiagPart' with input shapes: {value.shape}.")
        out.append(first if first is not None else second)
    return [(value.dtype, TensorShape(out))]


registry.register_op("Diag", infer=_diag_infer, num_inputs=1,
                     gradient=lambda op, grad: [diag_part(grad)],
                     doc="A tensor with the input on its diagonal: out[i..., i...] = x[i...].")
registry.register_op("DiagPart", infer=_diag_part_infer, num_inputs=1,
                     gradient=lambda op, grad: [diag(grad)],
                     doc="The diagonal x[i..., i...] of a tensor of even rank.")


def diag(diagonal, name=None):
    """The tensor of rank 2k with `diagonal` (rank k) on its diagonal and zeros elsewhere
    (op ``Diag``).

    Args:
      diagonal: a Tensor of rank >= 1.
      name: the op name.

    Returns:
      A Tensor of shape ``diagonal.shape + diagonal.shape``.

    Raises:
      ValueError: for a scalar.
    """
    graph = _graph_of(diagonal)
    with graph.as_default():
        value = array_ops._tensor(diagonal, "diagonal", graph)
        return _create(graph, "Diag", [value], name=name)[0]


def diag_part(input, name=None):  # noqa: A002 - TF's argument name
    """The diagonal ``input[i..., i...]`` of a tensor of rank 2k (op ``DiagPart``).

    Args:
      input: a Tensor of even rank whose first and second halves of dimensions match.
      name: the op name.

    Returns:
      A Tensor of rank k.

    Raises:
      ValueError: for an odd rank or mismatched halves.
    """
    graph = _graph_of(input)
    with graph.as_default():
        value = array_ops._tensor(input, "input", graph)
        return _create(graph, "DiagPart", [value], name=name)[0]


# ---- LowerBound, UpperBound (searchsorted) ------------------------------------------------

def _bound_infer(op_type):
    def infer(inputs, attrs):
        sorted_inputs, values = inputs
        dtype = _infer.same_dtype(op_type, inputs, names=("sorted_inputs", "values"))
        attrs["T"] = dtype
        out_type = _dtype_attr(attrs.get("out_type", dtypes.int32), _INDEX, "out_type",
                               op_type)
        attrs["out_type"] = out_type
        for tensor in inputs:
            if tensor.shape.rank not in (None, 2):
                raise _shape_error(op_type, f"Shape must be rank 2 but is rank "
                                   f"{tensor.shape.rank}", *inputs)
        rows = (sorted_inputs.shape[0] if sorted_inputs.shape.rank == 2 else None,
                values.shape[0] if values.shape.rank == 2 else None)
        if None not in rows and rows[0] != rows[1]:
            raise _shape_error(op_type, f"Dimensions must be equal, but are {rows[0]} and "
                               f"{rows[1]}", *inputs)
        return [(out_type, values.shape)]

    return infer


registry.register_op("LowerBound", infer=_bound_infer("LowerBound"), num_inputs=2,
                     gradient=registry.NOT_DIFFERENTIABLE,
                     doc="Per row, the first position where each value could be inserted.")
registry.register_op("UpperBound", infer=_bound_infer("UpperBound"), num_inputs=2,
                     gradient=registry.NOT_DIFFERENTIABLE,
                     doc="Per row, the last position where each value could be inserted.")


def searchsorted(sorted_sequence, values, side="left", out_type=dtypes.int32, name=None):
    """Where `values` go in the innermost rows of `sorted_sequence` (ops ``LowerBound`` for
    ``side='left'``, ``UpperBound`` for ``'right'``, on the rows reshaped to a matrix).

    Args:
      sorted_sequence: an N-D Tensor sorted ascending along its last dimension.
      values: an N-D Tensor whose leading dimensions match `sorted_sequence`'s.
      side: ``'left'`` or ``'right'``.
      out_type: int32 or int64.
      name: the op name.

    Returns:
      A Tensor of `values`' shape and `out_type`.

    Raises:
      ValueError: for an unknown side.
    """
    if side not in ("left", "right"):
        raise ValueError(f"Argument `side` must be either 'right' or 'left'. Received: "
                         f"`side` = '{side}'.")
    graph = _graph_of(sorted_sequence, values)
    with graph.as_default(), graph.name_scope(name or "SearchSorted"):
        sequence = array_ops._tensor(sorted_sequence, "sorted_sequence", graph)
        values_t = array_ops._tensor(values, "values", graph, sequence.dtype)
        seq_last = sequence.shape[-1] if sequence.shape.rank else None
        val_last = values_t.shape[-1] if values_t.shape.rank else None
        seq_2d = array_ops.reshape(sequence, [-1, seq_last if seq_last is not None else
                                              array_ops.shape(sequence)[-1]])
        val_2d = array_ops.reshape(values_t, [-1, val_last if val_last is not None else
                                              array_ops.shape(values_t)[-1]])
        op_type = "LowerBound" if side == "left" else "UpperBound"
        found = _create(graph, op_type, [seq_2d, val_2d], {"out_type": out_type})[0]
        result = array_ops.reshape(found, array_ops.shape(values_t))
        result.set_shape(values_t.shape)
        return result


# ---- ListDiff (setdiff1d) -----------------------------------------------------------------

def _list_diff_infer(inputs, attrs):
    x, y = inputs
    dtype = _infer.same_dtype("ListDiff", inputs)
    attrs["T"] = dtype
    out_idx = _dtype_attr(attrs.get("out_idx", dtypes.int32), _INDEX, "out_idx", "ListDiff")
    attrs["out_idx"] = out_idx
    for tensor in inputs:
        if tensor.shape.rank not in (None, 1):
            raise _shape_error("ListDiff", f"Shape must be rank 1 but is rank "
                               f"{tensor.shape.rank}", x, y)
    return [(dtype, TensorShape([None])), (out_idx, TensorShape([None]))]


registry.register_op("ListDiff", infer=_list_diff_infer, num_inputs=2,
                     gradient=registry.NOT_DIFFERENTIABLE,
                     doc="The elements of x not in y, in order, and their positions in x.")


def setdiff1d(x, y, index_dtype=dtypes.int32, name=None):
    """The elements of the vector `x` that are not in `y`, in `x`'s order (op ``ListDiff``).

    Args:
      x, y: 1-D Tensors of one dtype.
      index_dtype: int32 or int64, the dtype of `idx`.
      name: the op name.

    Returns:
      ``(out, idx)``: the kept elements and their positions in `x`.

    Raises:
      ValueError: for inputs that are statically not vectors.
    """
    graph = _graph_of(x, y)
    with graph.as_default():
        x_t = array_ops._tensor(x, "x", graph)
        y_t = array_ops._tensor(y, "y", graph, x_t.dtype)
        return tuple(_create(graph, "ListDiff", [x_t, y_t], {"out_idx": index_dtype}, name))


# ---- UnravelIndex -------------------------------------------------------------------------

def _unravel_index_infer(inputs, attrs):
    indices, dims = inputs
    dtype = _infer.same_dtype("UnravelIndex", inputs, names=("indices", "dims"))
    _infer.check_index_dtype("UnravelIndex", indices, "indices")
    attrs["Tidx"] = dtype
    if indices.shape.rank not in (None, 0, 1):
        raise _shape_error("UnravelIndex", f"Shape must be at most rank 1 but is rank "
                           f"{indices.shape.rank}", indices, dims)
    if dims.shape.rank not in (None, 1):
        raise _shape_error("UnravelIndex", f"Shape must be rank 1 but is rank "
                           f"{dims.shape.rank}", indices, dims)
    count = dims.shape[0] if dims.shape.rank == 1 else None
    if indices.shape.rank == 0:
        return [(dtype, TensorShape([count]))]
    if indices.shape.rank == 1:
        return [(dtype, TensorShape([count, indices.shape[0]]))]
    return [(dtype, TensorShape(None))]


registry.register_op("UnravelIndex", infer=_unravel_index_infer, num_inputs=2,
                     gradient=registry.NOT_DIFFERENTIABLE,
                     doc="Flat indices to coordinates in an array of shape dims.")


def unravel_index(indices, dims, name=None):
    """The coordinates of flat `indices` in an array of shape `dims` (op ``UnravelIndex``,
    numpy's ``unravel_index`` stacked on the first axis).

    Args:
      indices: an int32/int64 scalar or vector of flat indices in ``[0, prod(dims))``.
      dims: a 1-D Tensor of `indices`' dtype.
      name: the op name.

    Returns:
      ``[len(dims)]`` for a scalar, ``[len(dims), len(indices)]`` for a vector.
    """
    graph = _graph_of(indices, dims)
    with graph.as_default():
        indices_t = array_ops._index_tensor(indices, "indices", graph)
        dims_t = array_ops._tensor(dims, "dims", graph, indices_t.dtype)
        return _create(graph, "UnravelIndex", [indices_t, dims_t], name=name)[0]


# ---- TensorScatterUpdate, TensorScatterAdd, TensorScatterSub, TensorScatterMax, ...Min ------

_SCATTER_KINDS = ("Update", "Add", "Sub", "Max", "Min")


def _tensor_scatter_infer(op_type):
    def infer(inputs, attrs):
        tensor, indices, updates = inputs
        _infer.check_index_dtype(op_type, indices, "indices")
        dtype = _infer.same_dtype(op_type, [tensor, updates], names=("tensor", "updates"))
        attrs["T"] = dtype
        attrs["Tindices"] = indices.dtype
        if indices.shape.rank == 0:
            raise _shape_error(op_type, "Shape must be at least rank 1 but is rank 0",
                               tensor, indices, updates)
        depth = indices.shape[-1] if indices.shape.rank else None
        if tensor.shape.rank is not None and depth is not None:
            if depth > tensor.shape.rank:
                raise _shape_error(op_type, f"Index innermost dimension length must be <= "
                                   f"tensor rank; saw: {depth} vs. {tensor.shape.rank}",
                                   tensor, indices, updates)
            if updates.shape.rank is not None and indices.shape.rank is not None:
                want = TensorShape(indices.shape.as_list()[:-1]
                                   + tensor.shape.as_list()[depth:])
                if not want.is_compatible_with(updates.shape):
                    raise _shape_error(op_type, f"Dimensions of updates {updates.shape} must "
                                       f"match {want}, the index dimensions of indices "
                                       f"{indices.shape} followed by the inner dimensions "
                                       f"of tensor {tensor.shape}", tensor, indices, updates)
        return [(dtype, tensor.shape)]

    return infer


def _gather_nd(params, indices):
    from sessionlib.ops import scatter_gather_ops

    return scatter_gather_ops.gather_nd(params, indices)


def _tensor_scatter_update_grad(op, grad):
    indices, updates = op.inputs[1], op.inputs[2]
    cleared = grad.graph.create_op("TensorScatterUpdate",
                                   [grad, indices, array_ops.zeros_like(updates)])
    return [cleared.outputs[0], None, _gather_nd(grad, indices)]


def _tensor_scatter_add_grad(op, grad):
    return [grad, None, _gather_nd(grad, op.inputs[1])]


def _tensor_scatter_sub_grad(op, grad):
    return [grad, None, math_ops.negative(_gather_nd(grad, op.inputs[1]))]


def _tensor_scatter_extremum_grad(op, grad):
    # The output's gradient is shared equally among the tensor element and the updates that
    # equal the chosen extremum, as TF shares it.
    from sessionlib.ops import scatter_gather_ops

    tensor, indices, updates = op.inputs
    output = op.outputs[0]
    tensor_hits = math_ops.cast(math_ops.equal(tensor, output), grad.dtype)
    update_hits = math_ops.cast(math_ops.equal(updates, _gather_nd(output, indices)),
                                grad.dtype)
    hits = math_ops.add(tensor_hits, scatter_gather_ops.scatter_nd(
        indices, update_hits, array_ops.shape(tensor, out_type=indices.dtype)))
    shared = math_ops.truediv(grad, hits)
    return [math_ops.multiply(shared, tensor_hits), None,
            math_ops.multiply(_gather_nd(shared, indices), update_hits)]


_SCATTER_GRADS = {"Update": _tensor_scatter_update_grad, "Add": _tensor_scatter_add_grad,
                  "Sub": _tensor_scatter_sub_grad, "Max": _tensor_scatter_extremum_grad,
                  "Min": _tensor_scatter_extremum_grad}
for _kind in _SCATTER_KINDS:
    registry.register_op(f"TensorScatter{_kind}",
                         infer=_tensor_scatter_infer(f"TensorScatter{_kind}"), num_inputs=3,
                         gradient=_SCATTER_GRADS[_kind],
                         doc=f"A copy of a tensor with slices combined with updates "
                             f"({_kind.lower()}) at indices.")


def _tensor_scatter(kind, tensor, indices, updates, name):
    graph = _graph_of(tensor, indices, updates)
    with graph.as_default():
        tensor_t = array_ops._tensor(tensor, "tensor", graph)
        indices_t = array_ops._index_tensor(indices, "indices", graph)
        updates_t = array_ops._tensor(updates, "updates", graph, tensor_t.dtype)
        return _create(graph, f"TensorScatter{kind}", [tensor_t, indices_t, updates_t],
                       name=name)[0]


def _scatter_doc(kind, combine):
    return f"""A copy of `tensor` whose slices at `indices` are {combine} `updates` (op
    ``TensorScatter{kind}``).

    Args:
      tensor: a Tensor.
      indices: an int32/int64 Tensor ``[..., depth]`` of index prefixes into `tensor`.
      updates: ``indices.shape[:-1] + tensor.shape[depth:]`` values of `tensor`'s dtype.
      name: the op name.

    Returns:
      A Tensor of `tensor`'s shape and dtype.

    Raises:
      ValueError: for statically mismatched shapes (an index out of range is an
        InvalidArgumentError when the graph runs).
    """


def tensor_scatter_nd_update(tensor, indices, updates, name=None):
    return _tensor_scatter("Update", tensor, indices, updates, name)


def tensor_scatter_nd_add(tensor, indices, updates, name=None):
    return _tensor_scatter("Add", tensor, indices, updates, name)


def tensor_scatter_nd_sub(tensor, indices, updates, name=None):
    return _tensor_scatter("Sub", tensor, indices, updates, name)


def tensor_scatter_nd_max(tensor, indices, updates, name=None):
    return _tensor_scatter("Max", tensor, indices, updates, name)


def tensor_scatter_nd_min(tensor, indices, updates, name=None):
    return _tensor_scatter("Min", tensor, indices, updates, name)


tensor_scatter_nd_update.__doc__ = _scatter_doc("Update", "replaced by")
tensor_scatter_nd_add.__doc__ = _scatter_doc("Add", "increased by")
tensor_scatter_nd_sub.__doc__ = _scatter_doc("Sub", "decreased by")
tensor_scatter_nd_max.__doc__ = _scatter_doc("Max", "the elementwise maximum of themselves and")
tensor_scatter_nd_min.__doc__ = _scatter_doc("Min", "the elementwise minimum of themselves and")
tensor_scatter_update = tensor_scatter_nd_update
tensor_scatter_add = tensor_scatter_nd_add
tensor_scatter_sub = tensor_scatter_nd_sub


# ---- batch_gather (composite, as TF 1 builds it) -------------------------------------------

def batch_gather(params, indices, name=None):
    """Gathers along the axis after the batch dimensions: ``result[b..., j] =
    params[b..., indices[b..., j]]``, the batch dimensions being all but the last of
    `indices` (TF 1's composite of one flat GatherV2).

    Args:
      params: a Tensor whose leading dimensions are `indices`' batch dimensions.
      indices: an int32/int64 Tensor of known rank >= 1.
      name: the op name.

    Returns:
      A Tensor of shape ``indices.shape + params.shape[rank(indices):]``.

    Raises:
      ValueError: if the rank of `indices` is unknown.
    """
    graph = _graph_of(params, indices)
    with graph.as_default(), graph.name_scope(name or "BatchGather"):
        params_t = array_ops._tensor(params, "params", graph)
        indices_t = array_ops._index_tensor(indices, "indices", graph)
        rank = indices_t.shape.rank
        if rank is None:
            raise ValueError("batch_gather does not allow indices with unknown shape.")
        batch_dims = rank - 1
        params_shape = array_ops.shape(params_t, out_type=indices_t.dtype)
        indices_shape = array_ops.shape(indices_t, out_type=indices_t.dtype)
        flat = indices_t
        stride = None
        # The flat position of params[b_1, ..., b_k, i]: i plus each b_d times the product of
        # the dimensions after it (up to and including the gathered one).
        for dim in range(batch_dims, 0, -1):
            size = params_shape[dim]
            stride = size if stride is None else math_ops.multiply(stride, size)
            starts = math_ops.multiply(
                array_ops.range(array_ops._tensor(0, "zero", graph, indices_t.dtype),
                                params_shape[dim - 1]), stride)
            broadcast = [1] * (dim - 1) + [-1] + [1] * (rank - dim)
            flat = math_ops.add(flat, array_ops.reshape(starts, broadcast))
        outer = params_shape[batch_dims + 1:]
        leading = math_ops.reduce_prod(params_shape[:batch_dims + 1], keepdims=True)
        flat_params = array_ops.reshape(params_t, array_ops.concat([leading, outer], 0))
        gathered = array_ops.gather(flat_params, array_ops.reshape(flat, [-1]))
        result = array_ops.reshape(gathered, array_ops.concat([indices_shape, outer], 0))
        if params_t.shape.rank is not None:
            result.set_shape(indices_t.shape.concatenate(
                params_t.shape.as_list()[batch_dims + 1:]))
        return result


# ---- ShapeN, ParallelConcat, EnsureShape --------------------------------------------------

def _shape_n_infer(inputs, attrs):
    if not inputs:
        raise ValueError("ShapeN needs at least one input")
    dtype = _infer.same_dtype("ShapeN", inputs, names=[f"input[{i}]"
                                                       for i in range(len(inputs))])
    attrs["T"] = dtype
    attrs["N"] = len(inputs)
    out_type = _dtype_attr(attrs.get("out_type", dtypes.int32), _INDEX, "out_type", "ShapeN")
    attrs["out_type"] = out_type
    return [(out_type, TensorShape([t.shape.rank])) for t in inputs]


registry.register_op("ShapeN", infer=_shape_n_infer, gradient=registry.NOT_DIFFERENTIABLE,
                     doc="The shapes of several tensors.")


def shape_n(input, out_type=dtypes.int32, name=None):  # noqa: A002 - TF's argument name
    """The shapes of the tensors in `input`, one 1-D Tensor each (op ``ShapeN``).

    Args:
      input: a list of Tensors of one dtype.
      out_type: int32 or int64.
      name: the op name.

    Returns:
      A list of 1-D Tensors of `out_type`.
    """
    graph = _graph_of(list(input))
    with graph.as_default():
        values = [array_ops._tensor(v, f"input_{i}", graph) for i, v in enumerate(input)]
        return list(_create(graph, "ShapeN", values, {"out_type": out_type}, name))


def _parallel_concat_infer(inputs, attrs):
    if not inputs:
        raise ValueError("ParallelConcat needs at least one input")
    dtype = _infer.same_dtype("ParallelConcat", inputs,
                              names=[f"values[{i}]" for i in range(len(inputs))])
    attrs["T"] = dtype
    attrs["N"] = len(inputs)
    shape = as_shape(attrs["shape"])
    attrs["shape"] = shape
    if shape.rank is not None:
        if shape[0] is not None and shape[0] != len(inputs):
            raise ValueError(f"ParallelConcat: the first dimension of shape ({shape[0]}) must "
                             f"be the number of values ({len(inputs)})")
        piece = TensorShape([1] + shape.as_list()[1:])
        for tensor in inputs:
            if not piece.is_compatible_with(tensor.shape):
                raise ValueError(f"ParallelConcat: each value must have shape {piece}, got "
                                 f"{tensor.shape}")
    return [(dtype, shape)]


registry.register_op("ParallelConcat", infer=_parallel_concat_infer,
                     gradient=registry.NOT_DIFFERENTIABLE,
                     doc="Values of shape [1, ...] concatenated along their first axis.")


def parallel_stack(values, name="parallel_stack"):
    """The equal-shaped `values` stacked along a new first axis (op ``ParallelConcat``, as
    TF builds it; unlike `stack`, TF gives it no gradient).

    Args:
      values: a non-empty list of Tensors of one dtype and a known shape.
      name: the op name.

    Returns:
      A Tensor of shape ``[len(values)] + values[0].shape``.

    Raises:
      ValueError: for an empty list or mismatched shapes.
    """
    if not values:
        raise ValueError("parallel_stack needs at least one value")
    graph = _graph_of(list(values))
    with graph.as_default(), graph.name_scope(name):
        tensors = [array_ops._tensor(v, f"values_{i}", graph) for i, v in enumerate(values)]
        shape = TensorShape([len(tensors)]).concatenate(tensors[0].shape)
        expanded = [array_ops.expand_dims(t, 0) for t in tensors]
        return _create(graph, "ParallelConcat", expanded, {"shape": shape})[0]


def _ensure_shape_infer(inputs, attrs):
    (value,) = inputs
    attrs["T"] = value.dtype
    shape = as_shape(attrs["shape"])
    attrs["shape"] = shape
    try:
        merged = value.shape.merge_with(shape)
    except ValueError:
        raise ValueError(f"Shape of tensor {value.name} {value.shape} is not compatible with "
                         f"expected shape {shape}.") from None
    return [(value.dtype, merged)]


registry.register_op("EnsureShape", infer=_ensure_shape_infer, num_inputs=1,
                     gradient=lambda op, grad: [grad],
                     doc="Its input, checked at run time against a (partial) shape.")


def ensure_shape(x, shape, name=None):
    """`x`, checked when the graph runs to have a shape compatible with `shape` (op
    ``EnsureShape``); the result's static shape is the merge of both.

    Args:
      x: a Tensor.
      shape: a `TensorShape` or list, None for unknown dimensions.
      name: the op name.

    Returns:
      `x`, or an InvalidArgumentError when it runs with an incompatible shape.

    Raises:
      ValueError: if `x`'s static shape is already incompatible.
    """
    graph = _graph_of(x)
    with graph.as_default():
        value = array_ops._tensor(x, "x", graph)
        return _create(graph, "EnsureShape", [value], {"shape": as_shape(shape)},
                       name)[0]


# ---- where_v2 -----------------------------------------------------------------------------

def where_v2(condition, x=None, y=None, name=None):
    """TF 2's `where`: the coordinates of true elements (op ``Where``), or an elementwise
    choice between `x` and `y` that broadcasts all three (op ``SelectV2``).

    Args:
      condition: a bool Tensor.
      x, y: both or neither; values of one dtype.
      name: the op name.

    Returns:
      Without `x` and `y`, an int64 ``[num_true, rank]`` Tensor; else the chosen values.

    Raises:
      ValueError: if only one of `x` and `y` is given, or shapes do not broadcast.
    """
    if (x is None) != (y is None):
        raise ValueError("x and y must both be non-None or both be None.")
    if x is None:
        return array_ops.where(condition, name=name)
    graph = _graph_of(condition, x, y)
    with graph.as_default():
        condition_t = array_ops._tensor(condition, "condition", graph)
        x_t = array_ops._tensor(x, "x", graph, y.dtype if isinstance(y, Tensor) else None)
        y_t = array_ops._tensor(y, "y", graph, x_t.dtype)
        return _create(graph, "SelectV2", [condition_t, x_t, y_t], name=name)[0]


# ---- HistogramFixedWidth, histogram_fixed_width_bins --------------------------------------

def _histogram_infer(inputs, attrs):
    values, value_range, nbins = inputs
    _infer.check_dtype("HistogramFixedWidth", values,
                       (dtypes.int32, dtypes.int64, dtypes.float32, dtypes.float64), "values")
    _infer.same_dtype("HistogramFixedWidth", [values, value_range],
                      names=("values", "value_range"))
    _infer.check_dtype("HistogramFixedWidth", nbins, (dtypes.int32,), "nbins")
    attrs["T"] = values.dtype
    out = _dtype_attr(attrs.get("dtype", dtypes.int32), _INDEX, "dtype",
                      "HistogramFixedWidth")
    attrs["dtype"] = out
    if value_range.shape.rank not in (None, 1):
        raise _shape_error("HistogramFixedWidth", f"Shape must be rank 1 but is rank "
                           f"{value_range.shape.rank}", *inputs)
    if value_range.shape.rank == 1 and value_range.shape[0] not in (None, 2):
        raise _shape_error("HistogramFixedWidth", f"Dimension 0 in both shapes must be "
                           f"equal, but are {value_range.shape[0]} and 2", *inputs)
    if nbins.shape.rank not in (None, 0):
        raise _shape_error("HistogramFixedWidth", f"Shape must be rank 0 but is rank "
                           f"{nbins.shape.rank}", *inputs)
    return [(out, TensorShape([_positive_count(nbins, "nbins", "HistogramFixedWidth")]))]


registry.register_op("HistogramFixedWidth", infer=_histogram_infer, num_inputs=3,
                     gradient=registry.NOT_DIFFERENTIABLE,
                     doc="Counts of values in nbins equal-width bins over value_range.")


def histogram_fixed_width(values, value_range, nbins=100, dtype=dtypes.int32, name=None):
    """How many `values` fall in each of `nbins` equal bins over `value_range` (op
    ``HistogramFixedWidth``); values outside the range count in the first or last bin.

    Args:
      values: an int32/int64/float32/float64 Tensor.
      value_range: ``[low, high]`` of `values`' dtype, ``low < high``.
      nbins: an int32 scalar > 0.
      dtype: int32 or int64, the counts' dtype.
      name: the op name.

    Returns:
      A 1-D Tensor of `nbins` counts.
    """
    graph = _graph_of(values, value_range, nbins)
    with graph.as_default():
        values_t = array_ops._tensor(values, "values", graph)
        range_t = array_ops._tensor(value_range, "value_range", graph, values_t.dtype)
        nbins_t = array_ops._tensor(nbins, "nbins", graph, dtypes.int32)
        return _create(graph, "HistogramFixedWidth", [values_t, range_t, nbins_t],
                       {"dtype": dtype}, name)[0]


def histogram_fixed_width_bins(values, value_range, nbins=100, dtype=dtypes.int32,
                               name=None):
    """The bin index of each of `values` in `nbins` equal bins over `value_range` (a
    composite, as in TF); values below the range go to bin 0, above it to ``nbins - 1``.

    Args:
      values: a numeric Tensor.
      value_range: ``[low, high]`` of `values`' dtype.
      nbins: an int32 scalar > 0.
      dtype: the indices' dtype.
      name: the op name.

    Returns:
      A Tensor of `values`' shape and `dtype`.
    """
    graph = _graph_of(values, value_range, nbins)
    with graph.as_default(), graph.name_scope(name or "histogram_fixed_width_bins"):
        values_t = array_ops._tensor(values, "values", graph)
        range_t = array_ops._tensor(value_range, "value_range", graph, values_t.dtype)
        nbins_t = array_ops._tensor(nbins, "nbins", graph, dtypes.int32)
        nbins_float = math_ops.cast(nbins_t, values_t.dtype)
        scaled = math_ops.truediv(math_ops.subtract(values_t, range_t[0]),
                                  math_ops.subtract(range_t[1], range_t[0]))
        # Clipping to [0, nbins - 1] before the cast makes the cast's truncation a floor.
        position = array_ops.clip_by_value(math_ops.multiply(nbins_float, scaled), 0.0,
                                           math_ops.subtract(nbins_float, 1.0))
        return math_ops.cast(position, dtype)


# ---- ExtractImagePatches ------------------------------------------------------------------

def _window_plan(size, window, stride, rate, padding):
    """(output size, padding before) of one spatial dimension."""
    effective = window + (window - 1) * (rate - 1)
    if padding == "VALID":
        return max(0, (size - effective + stride) // stride), 0
    out = -(-size // stride)
    total = max((out - 1) * stride + effective - size, 0)
    return out, total // 2


def _padding_attr(attrs, op_type):
    """The checked 'SAME' / 'VALID' padding attr of a patch extraction (bytes decoded)."""
    padding = attrs["padding"]
    if isinstance(padding, bytes):
        padding = attrs["padding"] = padding.decode()
    if padding not in ("SAME", "VALID"):
        raise ValueError(f"{op_type}: padding must be 'SAME' or 'VALID', got {padding!r}")
    return padding


def _four(values, attr, op_type):
    values = [int(v) for v in values]
    if len(values) != 4 or values[0] != 1 or values[3] != 1:
        raise ValueError(f"{op_type}: {attr} must be [1, rows, cols, 1], got {values}")
    if min(values) < 1:
        raise ValueError(f"{op_type}: {attr} must be positive, got {values}")
    return values


def _extract_patches_infer(inputs, attrs):
    (images,) = inputs
    attrs["T"] = images.dtype
    sizes = _four(attrs["ksizes"], "ksizes", "ExtractImagePatches")
    strides = _four(attrs["strides"], "strides", "ExtractImagePatches")
    rates = _four(attrs["rates"], "rates", "ExtractImagePatches")
    padding = _padding_attr(attrs, "ExtractImagePatches")
    if images.shape.rank not in (None, 4):
        raise _shape_error("ExtractImagePatches", f"Shape must be rank 4 but is rank "
                           f"{images.shape.rank}", images)
    if images.shape.rank is None:
        return [(images.dtype, TensorShape([None] * 4))]
    batch, rows, cols, depth = images.shape.as_list()
    out = [batch]
    for size, axis in ((rows, 1), (cols, 2)):
        out.append(None if size is None else
                   _window_plan(size, sizes[axis], strides[axis], rates[axis], padding)[0])
    out.append(None if depth is None else depth * sizes[1] * sizes[2])
    return [(images.dtype, TensorShape(out))]


def _extract_patches_grad(op, grad):
    # Each output element is one input pixel (or padding): extracting the patches of an image
    # of pixel numbers (1-based; 0 is padding) tells which, and a segment sum over those
    # numbers adds every patch's gradient back to its pixel.
    images = op.inputs[0]
    _, rows, cols, _ = images.shape.as_list()
    if rows is None or cols is None:
        raise ValueError("The gradient of ExtractImagePatches needs the image height and "
                         "width known while the graph is built")
    attrs = {name: op.get_attr(name) for name in ("ksizes", "strides", "rates", "padding")}
    graph = grad.graph
    numbers = graph_lib.convert_to_tensor(
        np.arange(1, rows * cols + 1, dtype=np.int64).reshape(1, rows, cols, 1), graph=graph)
    positions = array_ops.reshape(
        graph.create_op("ExtractImagePatches", [numbers], dict(attrs)).outputs[0], [-1])
    in_shape = array_ops.shape(images)
    per_pixel = array_ops.reshape(grad, array_ops.stack([in_shape[0], -1, in_shape[3]]))
    summed = math_ops.unsorted_segment_sum(array_ops.transpose(per_pixel, [1, 0, 2]),
                                              positions, rows * cols + 1)
    pixels = array_ops.reshape(summed[1:], array_ops.stack([rows, cols, in_shape[0],
                                                            in_shape[3]]))
    return [array_ops.transpose(pixels, [2, 0, 1, 3])]


registry.register_op("ExtractImagePatches", infer=_extract_patches_infer, num_inputs=1,
                     gradient=_extract_patches_grad,
                     doc="The patches of images, each flattened into the depth.")


def extract_image_patches(images, ksizes=None, strides=None, rates=None, padding=None,
                          name=None, sizes=None):
    """The ``ksizes`` patches of `images`, taken every ``strides`` pixels with ``rates``
    spacing inside a patch, each flattened into the depth (op ``ExtractImagePatches``).

    Args:
      images: a 4-D Tensor ``[batch, rows, cols, depth]``.
      ksizes: ``[1, patch_rows, patch_cols, 1]`` (`sizes`: its TF 2 name).
      strides: ``[1, stride_rows, stride_cols, 1]``.
      rates: ``[1, rate_rows, rate_cols, 1]``, the dilation inside a patch.
      padding: ``"VALID"`` or ``"SAME"`` (zeros outside the image).
      name: the op name.

    Returns:
      A Tensor ``[batch, out_rows, out_cols, patch_rows * patch_cols * depth]``.

    Raises:
      ValueError: for malformed sizes, strides, rates or padding.
    """
    if (ksizes is None) == (sizes is None):
        raise ValueError("Exactly one of ksizes and sizes must be given")
    graph = _graph_of(images)
    with graph.as_default():
        images_t = array_ops._tensor(images, "images", graph)
        attrs = {"ksizes": list(ksizes if sizes is None else sizes), "strides": list(strides),
                 "rates": list(rates), "padding": padding}
        return _create(graph, "ExtractImagePatches", [images_t], attrs, name)[0]


def extract_patches(images, sizes, strides, rates, padding, name=None):
    """TF 2's spelling of `extract_image_patches` (``tf.image.extract_patches``)."""
    return extract_image_patches(images, strides=strides, rates=rates, padding=padding,
                                 name=name, sizes=sizes)


# ---- tensordot (composite, through einsum) ------------------------------------------------

def tensordot(a, b, axes, name=None):
    """The sum of products of `a` and `b` over the given axes (numpy's ``tensordot``), built
    from Transpose, Reshape and MatMul.

    Args:
      a, b: Tensors of one dtype and known ranks.
      axes: an int N (the last N axes of `a` with the first N of `b`), or a pair of equally
        long axis lists.
      name: the op name.

    Returns:
      A Tensor of `a`'s free dimensions followed by `b`'s.

    Raises:
      ValueError: for unknown ranks, axes out of range or mismatched axis lists.
    """
    from sessionlib.ops import manipulation_ops

    graph = _graph_of(a, b)
    with graph.as_default(), graph.name_scope(name or "Tensordot"):
        a_t = array_ops._tensor(a, "a", graph)
        b_t = array_ops._tensor(b, "b", graph, a_t.dtype)
        a_rank, b_rank = a_t.shape.rank, b_t.shape.rank
        if a_rank is None or b_rank is None:
            raise ValueError("tensordot needs the ranks of a and b known")
        if isinstance(axes, Tensor):
            axes = _infer.folded_value(axes)
            if axes is None:
                raise ValueError("tensordot needs axes known while the graph is built")
            axes = axes.tolist()
        if isinstance(axes, (int, np.integer)) or np.ndim(np.asarray(axes, dtype=object)) == 0:
            count = int(axes)
            if count < 0 or count > min(a_rank, b_rank):
                raise ValueError(f"'axes' must be at most {min(a_rank, b_rank)}, got {count}")
            a_axes, b_axes = list(range(a_rank - count, a_rank)), list(range(count))
        else:
            if len(axes) != 2:
                raise ValueError(f"'axes' must be an integer or have length 2, got {axes}")
            a_axes, b_axes = ([int(v) for v in np.ravel(side)] for side in axes)
            if len(a_axes) != len(b_axes):
                raise ValueError(f"Different number of contraction axes 'a' and 'b', "
                                 f"{len(a_axes)} != {len(b_axes)}.")
        a_axes = [_infer.normalize_axis(v, a_rank, "tensordot") for v in a_axes]
        b_axes = [_infer.normalize_axis(v, b_rank, "tensordot") for v in b_axes]
        letters = iter("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
        a_labels = [next(letters) for _ in range(a_rank)]
        b_labels = [next(letters) for _ in range(b_rank)]
        for a_axis, b_axis in zip(a_axes, b_axes):
            b_labels[b_axis] = a_labels[a_axis]
        out = ([a_labels[i] for i in range(a_rank) if i not in a_axes]
               + [b_labels[i] for i in range(b_rank) if i not in b_axes])
        equation = f"{''.join(a_labels)},{''.join(b_labels)}->{''.join(out)}"
        return manipulation_ops.einsum(equation, a_t, b_t)


# ---- Timestamp, Bitcast -------------------------------------------------------------------

registry.register_op("Timestamp", infer=lambda inputs, attrs: [(dtypes.float64,
                                                                TensorShape([]))],
                     num_inputs=0, stateful=True, gradient=registry.NOT_DIFFERENTIABLE,
                     doc="The time of the run, in seconds since the epoch.")


def timestamp(name=None):
    """The time when the op runs, in float64 seconds since the epoch (op ``Timestamp``).

    Args:
      name: the op name.

    Returns:
      A float64 scalar Tensor.
    """
    graph = graph_lib.get_default_graph()
    return _create(graph, "Timestamp", [], name=name)[0]


_BITCAST_TYPES = (dtypes.float16, dtypes.float32, dtypes.float64, dtypes.int8, dtypes.int16,
                  dtypes.int32, dtypes.int64, dtypes.uint8)


def _bitcast_infer(inputs, attrs):
    (value,) = inputs
    _infer.check_dtype("Bitcast", value, _BITCAST_TYPES, "input")
    out = _dtype_attr(attrs["type"], _BITCAST_TYPES, "type", "Bitcast")
    attrs["T"] = value.dtype
    attrs["type"] = out
    in_size = np.dtype(value.dtype.as_numpy_dtype).itemsize
    out_size = np.dtype(out.as_numpy_dtype).itemsize
    if value.shape.rank is None:
        return [(out, TensorShape(None))]
    dims = value.shape.as_list()
    if in_size == out_size:
        return [(out, value.shape)]
    if in_size > out_size:
        return [(out, TensorShape(dims + [in_size // out_size]))]
    if not dims or (dims[-1] is not None and dims[-1] != out_size // in_size):
        raise ValueError(f"Cannot bitcast from {value.dtype.name} to {out.name}: shape "
                         f"{value.shape} does not end in {out_size // in_size}")
    return [(out, TensorShape(dims[:-1]))]


registry.register_op("Bitcast", infer=_bitcast_infer, num_inputs=1,
                     gradient=registry.NOT_DIFFERENTIABLE,
                     doc="The bytes of a tensor read as another type.")


def bitcast(input, type, name=None):  # noqa: A002 - TF's argument names
    """The bytes of `input` read as `type` (op ``Bitcast``), without copying values.

    A narrower `type` adds a last dimension of ``size(input.dtype) / size(type)``; a wider
    one needs a last dimension of ``size(type) / size(input.dtype)`` and removes it.

    Args:
      input: a numeric Tensor.
      type: the numeric dtype to read the bytes as.
      name: the op name.

    Returns:
      A Tensor of `type`.

    Raises:
      TypeError: for a dtype Bitcast does not take.
      ValueError: if a wider `type` does not match the last dimension.
    """
    graph = _graph_of(input)
    with graph.as_default():
        value = array_ops._tensor(input, "input", graph)
        return _create(graph, "Bitcast", [value], {"type": dtypes.as_dtype(type)}, name)[0]


# ---- EditDistance -------------------------------------------------------------------------

def _edit_distance_infer(inputs, attrs):
    (hyp_indices, hyp_values, hyp_shape, truth_indices, truth_values, truth_shape) = inputs
    dtype = _infer.same_dtype("EditDistance", [hyp_values, truth_values],
                              names=("hypothesis_values", "truth_values"))
    for tensor, arg in ((hyp_indices, "hypothesis_indices"), (hyp_shape, "hypothesis_shape"),
                        (truth_indices, "truth_indices"), (truth_shape, "truth_shape")):
        _infer.check_dtype("EditDistance", tensor, (dtypes.int64,), arg)
    attrs["T"] = dtype
    attrs["normalize"] = bool(attrs.get("normalize", True))
    known = [_known_ints(hyp_shape), _known_ints(truth_shape)]
    if all(k is not None for k in known):
        if len(known[0]) != len(known[1]):
            raise ValueError(f"Dimensions must be equal, but are {len(known[0])} and "
                             f"{len(known[1])} for 'EditDistance'")
        return [(dtypes.float32, TensorShape([max(h, t) for h, t in
                                              zip(known[0][:-1], known[1][:-1])]))]
    rank = next((t.shape[0] for t in (hyp_shape, truth_shape)
                 if t.shape.rank == 1 and t.shape[0] is not None), None)
    return [(dtypes.float32, TensorShape(None if rank is None else [None] * (rank - 1)))]


registry.register_op("EditDistance", infer=_edit_distance_infer, num_inputs=6,
                     gradient=registry.NOT_DIFFERENTIABLE,
                     doc="Levenshtein distances between the sequences of two sparse tensors.")


def edit_distance(hypothesis, truth, normalize=True, name="edit_distance"):
    """The Levenshtein distance between the sequences (the last dimension) of two sparse
    tensors, one per position of the other dimensions (op ``EditDistance``).

    Args:
      hypothesis, truth: `SparseTensor`s (or `SparseTensorValue`s) of one dtype and rank.
      normalize: divide each distance by the truth's length; a position with a hypothesis
        but no truth then gives inf, one with a truth but no hypothesis 1.
      name: the op name.

    Returns:
      A float32 Tensor of rank ``R - 1``, the larger of the two dense shapes without the last
      dimension; 0 where neither has a sequence.

    Raises:
      TypeError: if either is not sparse.
    """
    for value, arg in ((hypothesis, "Hypothesis"), (truth, "Truth")):
        if not isinstance(value, (SparseTensor, SparseTensorValue)):
            raise TypeError(f"{arg} must be a SparseTensor.")
    hypothesis = convert_to_sparse_tensor(hypothesis)
    truth = convert_to_sparse_tensor(truth)
    graph = _graph_of(hypothesis.values, truth.values)
    with graph.as_default():
        inputs = [hypothesis.indices, hypothesis.values, hypothesis.dense_shape,
                  truth.indices, truth.values, truth.dense_shape]
        return _create(graph, "EditDistance", inputs, {"normalize": bool(normalize)},
                       name)[0]


def required_space_to_batch_paddings(input_shape, block_shape, base_paddings=None, name=None):
    """The paddings (and crops) that make `input_shape` divisible by `block_shape` for
    ``space_to_batch_nd`` (``tf.required_space_to_batch_paddings``).

    Args:
      input_shape: int32 ``[N]``: the sizes of the spatial dimensions.
      block_shape: int32 ``[N]`` of static length: the block sizes.
      base_paddings: int32 ``[N, 2]``: paddings to add before the extra padding; default 0.
      name: the name scope.

    Returns:
      ``(paddings, crops)``, int32 ``[N, 2]``: `base_paddings` with the smallest extra end
      padding that makes each padded size a multiple of its block, and crops of that extra
      padding (zeros at the start).

    Raises:
      ValueError: if `block_shape` is not a vector of static length, or the shapes disagree.
    """
    from sessionlib.framework import tensor_util
    from sessionlib.ops import array_ops

    with graph_lib.name_scope(name, "required_space_to_batch_paddings",
                              [input_shape, block_shape]):
        input_shape = graph_lib.convert_to_tensor(input_shape, dtype=dtypes.int32,
                                                  name="input_shape")
        block_shape = graph_lib.convert_to_tensor(block_shape, dtype=dtypes.int32,
                                                  name="block_shape")
        block_shape.shape.assert_is_fully_defined()
        block_shape.shape.assert_has_rank(1)
        num_block_dims = block_shape.shape.as_list()[0]
        if num_block_dims == 0:
            return (array_ops.zeros([0, 2], dtypes.int32),
                    array_ops.zeros([0, 2], dtypes.int32))
        input_shape.shape.assert_is_compatible_with([num_block_dims])
        if base_paddings is not None:
            base_paddings = graph_lib.convert_to_tensor(base_paddings, dtype=dtypes.int32,
                                                        name="base_paddings")
            base_paddings.shape.assert_is_compatible_with([num_block_dims, 2])
        else:
            base_paddings = array_ops.zeros([num_block_dims, 2], dtypes.int32)
        known = [tensor_util.constant_value(t)
                 for t in (block_shape, input_shape, base_paddings)]
        if all(value is not None for value in known):
            # All known: the arithmetic below folds to Python numbers, as in TF.
            block_shape, input_shape, base_paddings = known
        pad_start = base_paddings[:, 0]
        original_pad_end = base_paddings[:, 1]
        full_input_shape = input_shape + pad_start + original_pad_end
        pad_end_extra = (block_shape - full_input_shape % block_shape) % block_shape
        pad_end = original_pad_end + pad_end_extra
        # Rows stacked one by one: a nested list of tensors does not convert as a whole.
        paddings = array_ops.stack(
            [array_ops.stack([pad_start[i], pad_end[i]]) for i in range(num_block_dims)],
            name="paddings")
        crops = array_ops.stack(
            [array_ops.stack([0, pad_end_extra[i]]) for i in range(num_block_dims)],
            name="crops")
        return paddings, crops


__all__.append("required_space_to_batch_paddings")


# ---- ExtractVolumePatches ------------------------------------------------------------------

def _five(values, attr):
    values = [int(v) for v in values]
    if len(values) != 5 or values[0] != 1 or values[4] != 1:
        raise ValueError(f"ExtractVolumePatches: {attr} must be [1, planes, rows, cols, 1], "
                         f"got {values}")
    if min(values) < 1:
        raise ValueError(f"ExtractVolumePatches: {attr} must be positive, got {values}")
    return values


def _extract_volume_patches_infer(inputs, attrs):
    (volumes,) = inputs
    attrs["T"] = volumes.dtype
    sizes = _five(attrs["ksizes"], "ksizes")
    strides = _five(attrs["strides"], "strides")
    padding = _padding_attr(attrs, "ExtractVolumePatches")
    if volumes.shape.rank not in (None, 5):
        raise _shape_error("ExtractVolumePatches", f"Shape must be rank 5 but is rank "
                           f"{volumes.shape.rank}", volumes)
    if volumes.shape.rank is None:
        return [(volumes.dtype, TensorShape([None] * 5))]
    dims = volumes.shape.as_list()
    out = [dims[0]]
    for axis in (1, 2, 3):
        out.append(None if dims[axis] is None else
                   _window_plan(dims[axis], sizes[axis], strides[axis], 1, padding)[0])
    out.append(None if dims[4] is None else dims[4] * sizes[1] * sizes[2] * sizes[3])
    return [(volumes.dtype, TensorShape(out))]


def _extract_volume_patches_grad(op, grad):
    # As ExtractImagePatches' gradient: the patches of a volume of voxel numbers (1-based; 0
    # is padding) say which voxel each output element is, and a segment sum adds them back.
    volumes = op.inputs[0]
    _, planes, rows, cols, _ = volumes.shape.as_list()
    if None in (planes, rows, cols):
        raise ValueError("The gradient of ExtractVolumePatches needs the spatial dimensions "
                         "known while the graph is built")
    voxels = planes * rows * cols
    attrs = {name: op.get_attr(name) for name in ("ksizes", "strides", "padding")}
    graph = grad.graph
    numbers = graph_lib.convert_to_tensor(
        np.arange(1, voxels + 1, dtype=np.int64).reshape(1, planes, rows, cols, 1), graph=graph)
    positions = array_ops.reshape(
        graph.create_op("ExtractVolumePatches", [numbers], dict(attrs)).outputs[0], [-1])
    in_shape = array_ops.shape(volumes)
    per_voxel = array_ops.reshape(grad, array_ops.stack([in_shape[0], -1, in_shape[4]]))
    summed = math_ops.unsorted_segment_sum(array_ops.transpose(per_voxel, [1, 0, 2]),
                                           positions, voxels + 1)
    restored = array_ops.reshape(summed[1:], array_ops.stack([planes, rows, cols, in_shape[0],
                                                              in_shape[4]]))
    return [array_ops.transpose(restored, [3, 0, 1, 2, 4])]


registry.register_op("ExtractVolumePatches", infer=_extract_volume_patches_infer, num_inputs=1,
                     gradient=_extract_volume_patches_grad,
                     doc="The patches of volumes, each flattened into the depth.")


def extract_volume_patches(input, ksizes, strides, padding, name=None):  # noqa: A002
    """The `ksizes` patches of 5-D `input`, taken every `strides` voxels, each flattened into
    the depth (``tf.extract_volume_patches``; op ``ExtractVolumePatches``).

    Args:
      input: a 5-D Tensor ``[batch, planes, rows, cols, depth]``.
      ksizes: ``[1, patch_planes, patch_rows, patch_cols, 1]``.
      strides: ``[1, stride_planes, stride_rows, stride_cols, 1]``.
      padding: ``"VALID"`` or ``"SAME"`` (zeros outside the volume).
      name: the op name.

    Returns:
      A Tensor ``[batch, out_planes, out_rows, out_cols, patch_volume * depth]``.

    Raises:
      ValueError: for malformed sizes, strides or padding, or an input not of rank 5.
    """
    graph = _graph_of(input)
    with graph.as_default():
        volumes = array_ops._tensor(input, "input", graph)
        attrs = {"ksizes": list(ksizes), "strides": list(strides), "padding": padding}
        return _create(graph, "ExtractVolumePatches", [volumes], attrs, name)[0]


__all__.append("extract_volume_patches")
