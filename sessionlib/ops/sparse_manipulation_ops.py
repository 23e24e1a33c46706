"""Ops that rearrange a `SparseTensor`: reorder, reshape, concat, slice, split,
fill-empty-rows, and the wrappers TF builds from other ops (transpose, expand_dims, retain,
reset_shape, from_dense, eye, to_indicator, merge, mask).

The registered ops carry TF's op types, inputs and outputs (``SparseReorder``,
``SparseReshape``, ``SparseConcat``, ``SparseSlice``, ``SparseSplit``,
``SparseFillEmptyRows``) so that ``as_graph_def()`` reads like TF's; their kernels are in
``runtime/kernels/sparse_manipulation_kernels.py``. Gradients follow TF: reorder, slice and
fill-empty-rows carry the values' gradient back to the input values; reshape, concat and split
have none (TF registers none either).
"""

import numpy as np

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework import indexed_slices as indexed_slices_lib
from sessionlib.framework import registry, tensor_util
from sessionlib.framework.sparse_tensor import (SparseTensor, SparseTensorValue,
                                                convert_to_sparse_tensor)
from sessionlib.framework.tensor_shape import TensorShape
from sessionlib.ops import _infer, array_ops
from sessionlib.ops.sparse_ops import sparse_to_dense

__all__ = ["sparse_reorder", "sparse_reshape", "sparse_concat", "sparse_slice", "sparse_split",
           "sparse_fill_empty_rows", "sparse_transpose", "sparse_expand_dims", "sparse_retain",
           "sparse_reset_shape", "from_dense", "sparse_eye", "sparse_to_indicator",
           "sparse_merge", "sparse_mask", "serialize_sparse", "serialize_many_sparse",
           "deserialize_many_sparse", "sparse_cross", "sparse_cross_hashed"]


# ---- helpers --------------------------------------------------------------------------------

def _rank_of(shape_tensor):
    """The rank a dense-shape vector describes, or None."""
    return shape_tensor.shape[0] if shape_tensor.shape.rank == 1 else None


def _count_of(indices):
    return indices.shape[0] if indices.shape.rank == 2 else None


def _check_sparse_parts(op_type, indices, values, shape):
    """TF's shape checks of an (indices, values, dense_shape) input triple."""
    if indices.shape.rank not in (None, 2):
        raise ValueError(f"Shape must be rank 2 but is rank {indices.shape.rank} for "
                         f"'{op_type}' (indices)")
    if values.shape.rank not in (None, 1):
        raise ValueError(f"Shape must be rank 1 but is rank {values.shape.rank} for "
                         f"'{op_type}' (values)")
    if shape.shape.rank not in (None, 1):
        raise ValueError(f"Shape must be rank 1 but is rank {shape.shape.rank} for "
                         f"'{op_type}' (shape)")
    for tensor, what in ((indices, "indices"), (shape, "shape")):
        if tensor.dtype is not dtypes.int64:
            raise TypeError(f"{op_type} expects int64 {what}, got {tensor.dtype.name}")
    rank = _rank_of(shape)
    if rank is not None and indices.shape.rank == 2 and indices.shape[1] is not None \
            and indices.shape[1] != rank:
        raise ValueError(f"Dimensions must be equal, but are {indices.shape[1]} and {rank} "
                         f"for '{op_type}' (indices columns and shape)")


def _sparse_result(indices, values, dense_shape, static_shape=None):
    result = SparseTensor(indices, values, dense_shape)
    if static_shape is not None:
        result.set_shape(static_shape)
    return result


def _graph_of(*values):
    for value in values:
        if isinstance(value, (graph_lib.Tensor, SparseTensor)):
            return value.graph
    return graph_lib.get_default_graph()


def _int64(value, name):
    if isinstance(value, graph_lib.Tensor):
        from sessionlib.ops import math_ops

        return value if value.dtype is dtypes.int64 else math_ops.cast(value, dtypes.int64)
    return graph_lib.convert_to_tensor(np.asarray(value, dtype=np.int64), dtype=dtypes.int64,
                                       name=name)


# ---- SparseReorder ------------------------------------------------------------------------

def _sparse_reorder_infer(inputs, attrs):
    indices, values, shape = inputs
    _check_sparse_parts("SparseReorder", indices, values, shape)
    attrs["T"] = values.dtype
    return [(dtypes.int64, indices.shape), (values.dtype, values.shape)]


def _sparse_reorder_grad(op, *grads):
    # The reorder's permutation is what reordering (indices, 0..N-1) yields; each input value
    # gets the gradient of the output position it moved to.
    from sessionlib.ops import math_ops

    indices, values, shape = op.inputs
    positions = array_ops.range(0, array_ops.shape(values, out_type=dtypes.int64)[0], 1,
                                dtype=dtypes.int64)
    permutation = op.graph.create_op("SparseReorder", [indices, positions, shape]).outputs[1]
    return [None, array_ops.gather(grads[1], math_ops.cast(
        array_ops.invert_permutation(permutation), dtypes.int32)), None]


registry.register_op("SparseReorder", infer=_sparse_reorder_infer, num_inputs=3,
                     gradient=_sparse_reorder_grad,
                     doc="A SparseTensor's entries in row-major (canonical) order.")


def sparse_reorder(sp_input, name=None):
    """`sp_input` with its entries in row-major order (``tf.sparse.reorder``).

    Args:
      sp_input: a `SparseTensor` (or `SparseTensorValue`).
      name: the op name.

    Returns:
      A `SparseTensor` of the same dense shape, entries sorted lexicographically by index
      (entries with equal indices keep their order).

    Raises:
      TypeError: if `sp_input` is not sparse.
    """
    sp_input = convert_to_sparse_tensor(sp_input)
    graph = sp_input.graph
    with graph.as_default():
        op = graph.create_op("SparseReorder",
                             [sp_input.indices, sp_input.values, sp_input.dense_shape],
                             name=name or "SparseReorder")
    return _sparse_result(op.outputs[0], op.outputs[1], sp_input.dense_shape, sp_input.shape)


# ---- SparseReshape ------------------------------------------------------------------------

def _sparse_reshape_infer(inputs, attrs):
    indices, shape, new_shape = inputs
    for tensor, what in ((indices, "input_indices"), (shape, "input_shape"),
                         (new_shape, "new_shape")):
        if tensor.dtype is not dtypes.int64:
            raise TypeError(f"SparseReshape expects int64 {what}, got {tensor.dtype.name}")
    if new_shape.shape.rank not in (None, 1):
        raise ValueError(f"Shape must be rank 1 but is rank {new_shape.shape.rank} for "
                         "'SparseReshape' (new_shape)")
    rank = _rank_of(new_shape)
    return [(dtypes.int64, TensorShape([_count_of(indices), rank])),
            (dtypes.int64, TensorShape([rank]))]


registry.register_op("SparseReshape", infer=_sparse_reshape_infer, num_inputs=3,
                     gradient=registry.NOT_DIFFERENTIABLE,
                     doc="A SparseTensor's indices for another dense shape of the same size.")


def _static_reshape(input_shape, requested):
    """TF's graph-time checks of `sparse_reshape`: the new static shape, or ValueError."""
    if requested is None:
        return None
    requested = [int(d) for d in np.asarray(requested).reshape(-1)]
    if sum(1 for d in requested if d == -1) > 1:
        raise ValueError(f"At most one dimension can be inferred (-1). Found: "
                         f"{np.asarray(requested)}")
    if not input_shape.is_fully_defined():
        return TensorShape([None if d == -1 else d for d in requested])
    total = int(np.prod(input_shape.as_list(), dtype=np.int64))
    known = [d for d in requested if d != -1]
    product = int(np.prod(known, dtype=np.int64)) if known else 1
    shown = "[" + ", ".join("None" if d == -1 else str(d) for d in requested) + "]"
    if -1 in requested:
        if product == 0 or total % product:
            # TF reports the size the inferred dimension would give.
            inferred = product * (total // product) if product else 0
            raise ValueError(f"Cannot reshape a tensor with {total} elements to shape "
                             f"{shown} ({inferred} elements).")
        requested[requested.index(-1)] = total // product
    elif product != total:
        raise ValueError(f"Cannot reshape a tensor with {total} elements to shape {shown} "
                         f"({product} elements).")
    return TensorShape(requested)


def sparse_reshape(sp_input, shape, name=None):
    """`sp_input` with a new dense shape of as many elements (``tf.sparse.reshape``).

    Args:
      sp_input: a `SparseTensor` (or `SparseTensorValue`).
      shape: a 1-D int64 tensor or list; one entry may be -1, inferred from the size.
      name: the op name.

    Returns:
      A `SparseTensor` with the same values, at each entry's row-major position in `shape`.

    Raises:
      TypeError: if `sp_input` is not sparse.
      ValueError: if both shapes are known and have different sizes, or more than one
        entry is -1.
      InvalidArgumentError: (at run time) for the same errors found only then.
    """
    sp_input = convert_to_sparse_tensor(sp_input)
    graph = sp_input.graph
    with graph.as_default():
        new_shape = _int64(shape, "shape")
        static = _static_reshape(sp_input.shape, _infer.folded_value(new_shape))
        op = graph.create_op("SparseReshape",
                             [sp_input.indices, sp_input.dense_shape, new_shape],
                             name=name or "SparseReshape")
    return _sparse_result(op.outputs[0], sp_input.values, op.outputs[1], static)


# ---- SparseConcat -------------------------------------------------------------------------

def _sparse_concat_infer(inputs, attrs):
    count = len(inputs) // 3
    if count < 2 or len(inputs) != 3 * count:
        raise ValueError(f"SparseConcat needs at least two SparseTensors, got {count}")
    attrs["N"] = count
    indices, values, shapes = inputs[:count], inputs[count:2 * count], inputs[2 * count:]
    for part in zip(indices, values, shapes):
        _check_sparse_parts("SparseConcat", *part)
    dtype = values[0].dtype
    if any(v.dtype is not dtype for v in values):
        raise TypeError("SparseConcat inputs must have one dtype, got "
                        f"{[v.dtype.name for v in values]}")
    attrs["T"] = dtype
    rank = next((_rank_of(s) for s in shapes if _rank_of(s) is not None), None)
    return [(dtypes.int64, TensorShape([None, rank])), (dtype, TensorShape([None])),
            (dtypes.int64, TensorShape([rank]))]


registry.register_op("SparseConcat", infer=_sparse_concat_infer,
                     gradient=registry.NOT_DIFFERENTIABLE,
                     doc="SparseTensors joined along one dimension.")


def _concat_static_shape(shapes, axis, expand):
    if any(shape.rank is None for shape in shapes):
        return None
    rank = shapes[0].rank
    if any(shape.rank != rank for shape in shapes):
        return None
    axis %= rank
    dims = []
    for dim in range(rank):
        sizes = [shape[dim] for shape in shapes]
        if dim == axis:
            dims.append(None if None in sizes else sum(sizes))
        elif expand:
            dims.append(None if None in sizes else max(sizes))
        else:
            # As in TF, sizes that differ are found when the graph runs.
            known = {size for size in sizes if size is not None}
            dims.append(known.pop() if len(known) == 1 else None)
    return TensorShape(dims)


def sparse_concat(axis, sp_inputs, name=None, expand_nonconcat_dim=False, concat_dim=None,
                  expand_nonconcat_dims=None):
    """Joins SparseTensors along `axis` (``tf.sparse.concat``; op ``SparseConcat``).

    Args:
      axis: the dimension to join along (negative counts from the end).
      sp_inputs: a list of at least two `SparseTensor`s of one dtype and rank.
      name: the op name.
      expand_nonconcat_dim: if True, the other dimensions become the largest of the inputs'
        sizes instead of having to match.
      concat_dim, expand_nonconcat_dims: TF 1's older spellings of `axis` and
        `expand_nonconcat_dim`.

    Returns:
      A `SparseTensor` in row-major order (when the inputs are).

    Raises:
      ValueError: for both spellings of an argument.
      InvalidArgumentError: (at run time) for ranks or dense shapes that do not match.
    """
    if concat_dim is not None:
        if axis is not None and axis != concat_dim:
            raise ValueError("Cannot specify both 'axis' and 'concat_dim'")
        axis = concat_dim
    if expand_nonconcat_dims is not None:
        expand_nonconcat_dim = expand_nonconcat_dims
    if isinstance(axis, graph_lib.Tensor):
        axis = tensor_util.constant_value(axis)
        if axis is None:
            raise ValueError("sparse_concat needs a constant axis")
    axis = int(axis)
    sp_inputs = [convert_to_sparse_tensor(sp) for sp in sp_inputs]
    graph = sp_inputs[0].graph
    static = _concat_static_shape([sp.shape for sp in sp_inputs], axis, expand_nonconcat_dim)
    with graph.as_default():
        shapes = [sp.dense_shape for sp in sp_inputs]
        if expand_nonconcat_dim:
            shapes = _expanded_shapes(shapes, axis)
        op = graph.create_op(
            "SparseConcat",
            [sp.indices for sp in sp_inputs] + [sp.values for sp in sp_inputs] + shapes,
            {"concat_dim": axis}, name=name or "SparseConcat")
    return _sparse_result(*op.outputs, static)


def _expanded_shapes(shapes, axis):
    """Each dense shape with its non-`axis` sizes raised to the largest among `shapes`."""
    from sessionlib.ops import math_ops

    largest = math_ops.reduce_max(array_ops.stack(shapes), axis=0)
    rank = array_ops.size(shapes[0])
    positions = array_ops.range(0, rank, 1)
    axis_tensor = math_ops.mod(math_ops.add(array_ops.constant(axis), rank), rank)
    is_axis = math_ops.equal(positions, axis_tensor)
    return [array_ops.where(is_axis, shape, largest) for shape in shapes]


# ---- SparseSlice --------------------------------------------------------------------------

def _sparse_slice_infer(inputs, attrs):
    indices, values, shape, start, size = inputs
    _check_sparse_parts("SparseSlice", indices, values, shape)
    attrs["T"] = values.dtype
    rank = _rank_of(shape)
    return [(dtypes.int64, TensorShape([None, rank])), (values.dtype, TensorShape([None])),
            (dtypes.int64, TensorShape([rank]))]


def _sparse_slice_grad(op, *grads):
    indices, _, _, start, _ = op.inputs
    values_grad = op.graph.create_op(
        "SparseSliceGrad", [grads[1], indices, start, op.outputs[0]]).outputs[0]
    return [None, values_grad, None, None, None]


def _sparse_slice_grad_infer(inputs, attrs):
    backprop, indices, start, output_indices = inputs
    attrs["T"] = backprop.dtype
    return [(backprop.dtype, TensorShape([_count_of(indices)]))]


registry.register_op("SparseSlice", infer=_sparse_slice_infer, num_inputs=5,
                     gradient=_sparse_slice_grad,
                     doc="The entries of a SparseTensor inside a box, shifted to its corner.")
registry.register_op("SparseSliceGrad", infer=_sparse_slice_grad_infer, num_inputs=4,
                     gradient=registry.NOT_DIFFERENTIABLE,
                     doc="The gradient of SparseSlice's input values.")


def sparse_slice(sp_input, start, size, name=None):
    """The part of `sp_input` in the box at `start` of extent `size` (``tf.sparse.slice``).

    Args:
      sp_input: a `SparseTensor`.
      start: a 1-D int64 tensor or list, the box's first corner.
      size: a 1-D int64 tensor or list, the box's extent (clipped to the dense shape).
      name: the op name.

    Returns:
      A `SparseTensor` of the entries inside the box, their indices relative to `start`, in
      the input's order.
    """
    sp_input = convert_to_sparse_tensor(sp_input)
    graph = sp_input.graph
    with graph.as_default():
        start_t, size_t = _int64(start, "start"), _int64(size, "size")
        op = graph.create_op("SparseSlice",
                             [sp_input.indices, sp_input.values, sp_input.dense_shape,
                              start_t, size_t], name=name or "SparseSlice")
    static = None
    start_v, size_v = tensor_util.constant_value(start_t), tensor_util.constant_value(size_t)
    if sp_input.shape.is_fully_defined() and start_v is not None and size_v is not None:
        static = TensorShape([max(0, min(int(s) + int(n), d) - int(s))
                              for s, n, d in zip(start_v, size_v, sp_input.shape.as_list())])
    return _sparse_result(*op.outputs, static)


# ---- SparseSplit --------------------------------------------------------------------------

def _sparse_split_infer(inputs, attrs):
    split_dim, indices, values, shape = inputs
    _check_sparse_parts("SparseSplit", indices, values, shape)
    if split_dim.dtype is not dtypes.int64:
        raise TypeError(f"SparseSplit expects an int64 split_dim, got {split_dim.dtype.name}")
    count = int(attrs["num_split"])
    if count < 1:
        raise ValueError(f"num_split must be at least 1, got {count}")
    attrs["T"] = values.dtype
    rank = _rank_of(shape)
    return ([(dtypes.int64, TensorShape([None, rank]))] * count
            + [(values.dtype, TensorShape([None]))] * count
            + [(dtypes.int64, TensorShape([rank]))] * count)


registry.register_op("SparseSplit", infer=_sparse_split_infer, num_inputs=4,
                     gradient=registry.NOT_DIFFERENTIABLE,
                     doc="A SparseTensor cut into pieces along one dimension.")


def sparse_split(keyword_required=None, sp_input=None, num_split=None, axis=None, name=None,
                 split_dim=None):
    """Cuts `sp_input` into `num_split` SparseTensors along `axis` (``tf.sparse.split``).

    The first ``size % num_split`` pieces are one longer than the others.

    Args:
      keyword_required: not an argument: the others must be passed by keyword.
      sp_input: the `SparseTensor` to split.
      num_split: the number of pieces.
      axis: the dimension to split (negative counts from the end).
      name: the op name.
      split_dim: TF 1's older spelling of `axis`.

    Returns:
      A list of `num_split` `SparseTensor`s.

    Raises:
      ValueError: if arguments are passed by position, or `sp_input`, `num_split` or `axis`
        is missing.
      InvalidArgumentError: (at run time) for more pieces than the dimension's size.
    """
    if keyword_required is not None:
        raise ValueError("Keyword arguments are required for this function.")
    if sp_input is None:
        raise ValueError("sp_input is required")
    if num_split is None:
        raise ValueError("num_split is required")
    if split_dim is not None:
        if axis is not None:
            raise ValueError("Cannot specify both 'axis' and 'split_dim'")
        axis = split_dim
    if axis is None:
        raise ValueError("axis is required")
    sp_input = convert_to_sparse_tensor(sp_input)
    graph = sp_input.graph
    count = int(num_split)
    with graph.as_default():
        axis_t = _int64(axis, "split_dim")
        op = graph.create_op("SparseSplit", [axis_t, sp_input.indices, sp_input.values,
                                             sp_input.dense_shape],
                             {"num_split": count}, name=name or "SparseSplit")
    outputs = op.outputs
    pieces = [_sparse_result(outputs[k], outputs[count + k], outputs[2 * count + k])
              for k in range(count)]
    axis_v = tensor_util.constant_value(axis_t)
    if sp_input.shape.rank is not None and axis_v is not None:
        dims = sp_input.shape.as_list()
        position = int(axis_v) % len(dims)
        for k, piece in enumerate(pieces):
            piece_dims = list(dims)
            if dims[position] is not None and count <= dims[position]:
                base, extra = divmod(dims[position], count)
                piece_dims[position] = base + (1 if k < extra else 0)
            else:
                piece_dims[position] = None
            piece.set_shape(piece_dims)
    return pieces


# ---- SparseFillEmptyRows ------------------------------------------------------------------

def _sparse_fill_empty_rows_infer(inputs, attrs):
    indices, values, shape, default_value = inputs
    _check_sparse_parts("SparseFillEmptyRows", indices, values, shape)
    if default_value.dtype is not values.dtype:
        raise TypeError(f"default_value has dtype {default_value.dtype.name}, but the values "
                        f"are {values.dtype.name}")
    if default_value.shape.rank not in (None, 0):
        raise ValueError(f"Shape must be rank 0 but is rank {default_value.shape.rank} for "
                         "'SparseFillEmptyRows' (default_value)")
    attrs["T"] = values.dtype
    return [(dtypes.int64, TensorShape([None, _rank_of(shape)])),
            (values.dtype, TensorShape([None])), (dtypes.bool, TensorShape([None])),
            (dtypes.int64, TensorShape([_count_of(indices)]))]


def _sparse_fill_empty_rows_grad(op, *grads):
    d_values, d_default = op.graph.create_op(
        "SparseFillEmptyRowsGrad", [op.outputs[3], grads[1]]).outputs
    return [None, d_values, None, d_default]


def _sparse_fill_empty_rows_grad_infer(inputs, attrs):
    reverse_map, grad_values = inputs
    attrs["T"] = grad_values.dtype
    return [(grad_values.dtype, reverse_map.shape), (grad_values.dtype, TensorShape([]))]


registry.register_op("SparseFillEmptyRows", infer=_sparse_fill_empty_rows_infer,
                     num_inputs=4, gradient=_sparse_fill_empty_rows_grad,
                     doc="A SparseTensor with a default entry in each row that has none.")
registry.register_op("SparseFillEmptyRowsGrad", infer=_sparse_fill_empty_rows_grad_infer,
                     num_inputs=2, gradient=registry.NOT_DIFFERENTIABLE,
                     doc="The gradients of SparseFillEmptyRows' values and default value.")


def sparse_fill_empty_rows(sp_input, default_value, name=None):
    """Gives each empty row of `sp_input` one entry, ``default_value`` at column 0
    (``tf.sparse.fill_empty_rows``).

    Args:
      sp_input: a `SparseTensor` of rank >= 1.
      default_value: a scalar of its dtype.
      name: the op name.

    Returns:
      A pair: the filled `SparseTensor` (entries grouped by row) and a bool vector, true for
      each row that was empty.

    Raises:
      TypeError: if `default_value` cannot have the values' dtype.
    """
    sp_input = convert_to_sparse_tensor(sp_input)
    graph = sp_input.graph
    with graph.as_default():
        default = graph_lib.convert_to_tensor(
            default_value if isinstance(default_value, graph_lib.Tensor)
            else tensor_util.to_numpy(default_value, sp_input.dtype), dtype=sp_input.dtype,
            name="default_value")
        op = graph.create_op("SparseFillEmptyRows",
                             [sp_input.indices, sp_input.values, sp_input.dense_shape,
                              default], name=name or "SparseFillEmptyRows")
    result = _sparse_result(op.outputs[0], op.outputs[1], sp_input.dense_shape, sp_input.shape)
    return result, op.outputs[2]


# ---- SerializeSparse / SerializeManySparse / DeserializeManySparse ----------------------

def _check_out_type(op_type, attrs):
    out_type = dtypes.as_dtype(attrs.setdefault("out_type", dtypes.string))
    if out_type is not dtypes.string:
        raise TypeError(f"{op_type} supports out_type string only, got {out_type.name}")
    attrs["out_type"] = out_type


def _serialize_infer(op_type, many):
    def infer(inputs, attrs):
        indices, values, shape = inputs
        _check_sparse_parts(op_type, indices, values, shape)
        attrs["T"] = values.dtype
        _check_out_type(op_type, attrs)
        return [(dtypes.string, TensorShape([None, 3] if many else [3]))]

    return infer


def _deserialize_infer(inputs, attrs):
    (serialized,) = inputs
    if serialized.dtype is not dtypes.string:
        raise TypeError(f"DeserializeManySparse expects string input, got "
                        f"{serialized.dtype.name}")
    if serialized.shape.rank not in (None, 2) or (
            serialized.shape.rank == 2 and serialized.shape[1] not in (None, 3)):
        raise ValueError(f"Shape must be [?, 3] for 'DeserializeManySparse', got "
                         f"{serialized.shape}")
    dtype = dtypes.as_dtype(attrs["dtype"])
    attrs["dtype"] = dtype
    return [(dtypes.int64, TensorShape([None, None])), (dtype, TensorShape([None])),
            (dtypes.int64, TensorShape([None]))]


registry.register_op("SerializeSparse", infer=_serialize_infer("SerializeSparse", False),
                     num_inputs=3, gradient=registry.NOT_DIFFERENTIABLE,
                     doc="A SparseTensor as three serialized TensorProtos.")
registry.register_op("SerializeManySparse",
                     infer=_serialize_infer("SerializeManySparse", True), num_inputs=3,
                     gradient=registry.NOT_DIFFERENTIABLE,
                     doc="Each row of a SparseTensor as three serialized TensorProtos.")
registry.register_op("DeserializeManySparse", infer=_deserialize_infer, num_inputs=1,
                     gradient=registry.NOT_DIFFERENTIABLE,
                     doc="Serialized SparseTensors stacked into one of a rank more.")


def _serialize(op_type, sp_input, name, out_type):
    sp_input = convert_to_sparse_tensor(sp_input)
    graph = sp_input.graph
    with graph.as_default():
        return graph.create_op(op_type, [sp_input.indices, sp_input.values,
                                         sp_input.dense_shape],
                               {"out_type": dtypes.as_dtype(out_type)},
                               name=name or op_type).outputs[0]


def serialize_sparse(sp_input, name=None, out_type=dtypes.string):
    """`sp_input` as a string 3-vector of serialized TensorProtos: its indices, values and
    dense shape (``tf.io.serialize_sparse``; TF's byte format).

    Args:
      sp_input: a `SparseTensor`.
      name: the op name.
      out_type: `tf.string` (the only type supported here).

    Returns:
      A string Tensor of shape [3].

    Raises:
      TypeError: for another `out_type`.
    """
    return _serialize("SerializeSparse", sp_input, name, out_type)


def serialize_many_sparse(sp_input, name=None, out_type=dtypes.string):
    """Each entry of the first dimension of `sp_input` serialized as by `serialize_sparse`
    (``tf.io.serialize_many_sparse``).

    Args:
      sp_input: a `SparseTensor` of rank >= 2 (its entries grouped by first index).
      name: the op name.
      out_type: `tf.string` (the only type supported here).

    Returns:
      A string Tensor of shape ``[dense_shape[0], 3]``.

    Raises:
      TypeError: for another `out_type`.
      InvalidArgumentError: (at run time) for rank < 2.
    """
    return _serialize("SerializeManySparse", sp_input, name, out_type)


def deserialize_many_sparse(serialized_sparse, dtype, rank=None, name=None):
    """Stacks serialized SparseTensors into one, with the new first dimension indexing them
    (``tf.io.deserialize_many_sparse``).

    The other dimensions are the largest of the inputs'; the entries keep their order.

    Args:
      serialized_sparse: a string ``[N, 3]`` Tensor, as `serialize_many_sparse` gives.
      dtype: the values' dtype.
      rank: the rank of the result (1 + the inputs' rank), if known.
      name: the op name.

    Returns:
      A `SparseTensor` of rank `rank`.

    Raises:
      InvalidArgumentError: (at run time) for serialized values of another dtype, ranks that
        differ, or bytes that do not parse.
    """
    graph = _graph_of(serialized_sparse)
    with graph.as_default():
        serialized = graph_lib.convert_to_tensor(serialized_sparse, dtype=dtypes.string,
                                                 name="serialized_sparse")
        op = graph.create_op("DeserializeManySparse", [serialized],
                             {"dtype": dtypes.as_dtype(dtype)},
                             name=name or "DeserializeManySparse")
    indices, values, shape = op.outputs
    if rank is not None:
        indices.set_shape([None, rank])
        shape.set_shape([rank])
    return SparseTensor(indices, values, shape)


# ---- SparseCrossV2 ------------------------------------------------------------------------

def _sparse_cross_infer(inputs, attrs):
    count = int(attrs["N"])
    sparse_values = inputs[count:2 * count]
    dense_inputs = inputs[3 * count:-1]
    for tensor in list(sparse_values) + list(dense_inputs):
        if tensor.dtype not in (dtypes.int64, dtypes.string):
            raise TypeError(f"SparseCrossV2 takes int64 or string features, got "
                            f"{tensor.dtype.name}")
    if inputs[-1].dtype is not dtypes.string:
        raise TypeError("SparseCrossV2's separator must be a string")
    attrs["sparse_types"] = [t.dtype for t in sparse_values]
    attrs["dense_types"] = [t.dtype for t in dense_inputs]
    return [(dtypes.int64, TensorShape([None, 2])), (dtypes.string, TensorShape([None])),
            (dtypes.int64, TensorShape([2]))]


registry.register_op("SparseCrossV2", infer=_sparse_cross_infer,
                     gradient=registry.NOT_DIFFERENTIABLE,
                     doc="The crosses of sparse and dense features, joined as strings.")


def _cross_inputs(graph, inputs, to_int64):
    """The (indices, values, shape) of each sparse input and the dense inputs of a cross, in
    `graph`; features whose dtype satisfies `to_int64` are cast to int64."""
    from sessionlib.ops import math_ops

    if not isinstance(inputs, (list, tuple)):
        raise TypeError("Inputs must be a list")
    sparse, dense = [], []
    with graph.as_default():
        for value in inputs:
            if isinstance(value, (SparseTensor, SparseTensorValue)):
                value = convert_to_sparse_tensor(value)
                values = value.values
                if to_int64(values.dtype):
                    values = math_ops.cast(values, dtypes.int64)
                sparse.append((value.indices, values, value.dense_shape))
            else:
                tensor = graph_lib.convert_to_tensor(value)
                if to_int64(tensor.dtype):
                    tensor = math_ops.cast(tensor, dtypes.int64)
                dense.append(tensor)
    return sparse, dense


def sparse_cross(inputs, name=None, separator=None):
    """The feature crosses of each batch row of `inputs`, as strings ``"f1_X_f2..."``
    (``tf.sparse.cross``; op ``SparseCrossV2``).

    Args:
      inputs: a list of rank-2 `SparseTensor`s and dense Tensors of int64 (or int32) or
        string features, one row per batch entry. The sparse ones are crossed first, in
        order, then the dense ones; the last varies fastest.
      name: the op name.
      separator: the string between crossed features; default ``"_X_"``.

    Returns:
      A string `SparseTensor` of shape ``[batch, most crosses of a row]``.

    Raises:
      TypeError: for features that are not ints or strings.
      InvalidArgumentError: (at run time) for inputs of different batch sizes.
    """
    graph = _graph_of(*inputs) if isinstance(inputs, (list, tuple)) else None
    sparse, dense = _cross_inputs(graph, inputs, lambda dtype: dtype is dtypes.int32)
    with graph.as_default():
        sep = graph_lib.convert_to_tensor(
            np.asarray("_X_" if separator is None else separator, dtype=object),
            dtype=dtypes.string, name="sep")
        op = graph.create_op(
            "SparseCrossV2", [part[0] for part in sparse] + [part[1] for part in sparse]
            + [part[2] for part in sparse] + dense + [sep], {"N": len(sparse)},
            name=name or "SparseCrossV2")
    return SparseTensor(*op.outputs)


# ---- SparseCross (TF 1's op, used by tf.sparse.cross_hashed) ----------------------------

def _sparse_cross_v1_infer(inputs, attrs):
    count = int(attrs["N"])
    features = list(inputs[count:2 * count]) + list(inputs[3 * count:])
    for tensor in features:
        if tensor.dtype not in (dtypes.int64, dtypes.string):
            raise TypeError(f"SparseCross takes int64 or string features, got "
                            f"{tensor.dtype.name}")
    hashed = bool(attrs.get("hashed_output", False))
    attrs["hashed_output"] = hashed
    attrs["num_buckets"] = int(attrs.get("num_buckets", 0))
    attrs["hash_key"] = int(attrs.get("hash_key", 0))
    if attrs["num_buckets"] < 0:
        raise ValueError(f"num_buckets must be >= 0, got {attrs['num_buckets']}")
    attrs["sparse_types"] = [t.dtype for t in inputs[count:2 * count]]
    attrs["dense_types"] = [t.dtype for t in inputs[3 * count:]]
    out_type = dtypes.int64 if hashed else dtypes.string
    attrs["out_type"] = out_type
    attrs.setdefault("internal_type", dtypes.string if all(
        t.dtype is dtypes.string for t in features) else dtypes.int64)
    return [(dtypes.int64, TensorShape([None, 2])), (out_type, TensorShape([None])),
            (dtypes.int64, TensorShape([2]))]


registry.register_op("SparseCross", infer=_sparse_cross_v1_infer,
                     gradient=registry.NOT_DIFFERENTIABLE,
                     doc="The crosses of sparse and dense features, as '_X_'-joined strings "
                         "or as hashed int64 buckets.")

_DEFAULT_HASH_KEY = 0xDECAFCAFFE  # TF's key when none is given: the same buckets as TF's


def sparse_cross_hashed(inputs, num_buckets=0, hash_key=None, name=None):
    """The feature crosses of each batch row of `inputs`, hashed to int64 buckets
    (``tf.sparse.cross_hashed``; op ``SparseCross`` with ``hashed_output``).

    Each cross is TF's ``FingerprintCat64`` chain over its features' hashes (an int64
    feature's own value, a string's FarmHash ``Fingerprint64``), starting from `hash_key`, so
    the buckets equal TF's.

    Args:
      inputs: a list of rank-2 `SparseTensor`s and dense Tensors of int64 (or int32) or string
        features. The sparse ones are crossed first, then the dense ones.
      num_buckets: the bucket count; 0 keeps the hash modulo ``2**63 - 1``.
      hash_key: the 64-bit key of the hash chain; default TF's.
      name: the op name.

    Returns:
      An int64 `SparseTensor` of shape ``[batch, most crosses of a row]``.

    Raises:
      TypeError: for features that are not ints or strings.
      ValueError: for a negative `num_buckets`.
      InvalidArgumentError: (at run time) for inputs of different batch sizes.
    """
    graph = _graph_of(*inputs) if isinstance(inputs, (list, tuple)) else None
    # As TF, every non-string feature is crossed as an int64.
    sparse, dense = _cross_inputs(graph, inputs, lambda dtype: dtype is not dtypes.string)
    with graph.as_default():
        op = graph.create_op(
            "SparseCross", [part[0] for part in sparse] + [part[1] for part in sparse]
            + [part[2] for part in sparse] + dense,
            {"N": len(sparse), "hashed_output": True, "num_buckets": int(num_buckets),
             "hash_key": int(hash_key or _DEFAULT_HASH_KEY)},
            name=name or "SparseCross")
    return SparseTensor(*op.outputs)


# ---- wrappers built from other ops ----------------------------------------------------------

def sparse_transpose(sp_input, perm=None, name=None):
    """`sp_input` with its dimensions permuted (``tf.sparse.transpose``).

    Args:
      sp_input: a `SparseTensor`.
      perm: the permutation of its dimensions; default: reversed.
      name: a name scope.

    Returns:
      A `SparseTensor` in row-major order.
    """
    from sessionlib.ops import math_ops

    sp_input = convert_to_sparse_tensor(sp_input)
    graph = sp_input.graph
    with graph.as_default(), graph.name_scope(name or "SparseTranspose"):
        if perm is None:
            if sp_input.shape.rank is not None:
                perm = list(range(sp_input.shape.rank - 1, -1, -1))
            else:
                rank = array_ops.size(sp_input.dense_shape)
                perm = array_ops.range(math_ops.subtract(rank, 1), -1, -1)
        perm_t = graph_lib.convert_to_tensor(perm, dtype=dtypes.int32, name="perm") \
            if not isinstance(perm, graph_lib.Tensor) else perm
        indices = array_ops.transpose(array_ops.gather(
            array_ops.transpose(sp_input.indices), perm_t))
        shape = array_ops.gather(sp_input.dense_shape, perm_t)
        transposed = SparseTensor(indices, sp_input.values, shape)
        result = sparse_reorder(transposed)
    perm_v = tensor_util.constant_value(perm_t)
    if perm_v is not None and sp_input.shape.rank is not None:
        dims = sp_input.shape.as_list()
        result.set_shape([dims[int(p)] for p in perm_v])
    return result


def sparse_expand_dims(sp_input, axis=None, name=None):
    """`sp_input` with a new dimension of size 1 at `axis` (``tf.sparse.expand_dims``).

    Args:
      sp_input: a `SparseTensor`.
      axis: where the new dimension goes, in ``[-rank - 1, rank]``.
      name: a name scope.

    Returns:
      A `SparseTensor` of rank + 1.
    """
    from sessionlib.ops import math_ops

    sp_input = convert_to_sparse_tensor(sp_input)
    if axis is None:
        raise ValueError("axis is required")
    graph = sp_input.graph
    with graph.as_default(), graph.name_scope(name or "expand_dims"):
        axis_t = graph_lib.convert_to_tensor(axis, dtype=dtypes.int32, name="axis") \
            if not isinstance(axis, graph_lib.Tensor) else axis
        rank = array_ops.size(sp_input.dense_shape)
        # A negative axis counts from the end of the *new* rank.
        axis_t = array_ops.where(math_ops.less(axis_t, 0),
                                 math_ops.add(axis_t, math_ops.add(rank, 1)), axis_t)
        count = array_ops.shape(sp_input.indices, out_type=dtypes.int64)[0]
        column = array_ops.zeros(array_ops.stack([count, 1]), dtype=dtypes.int64)
        first_cols = array_ops.stack([array_ops.constant(-1), axis_t])
        head = array_ops.slice(sp_input.indices, [0, 0], first_cols)
        tail = array_ops.slice(sp_input.indices, array_ops.stack([0, axis_t]), [-1, -1])
        indices = array_ops.concat([head, column, tail], axis=1)
        shape = array_ops.concat([
            array_ops.slice(sp_input.dense_shape, [0], array_ops.reshape(axis_t, [1])),
            array_ops.constant([1], dtype=dtypes.int64),
            array_ops.slice(sp_input.dense_shape, array_ops.reshape(axis_t, [1]), [-1])], 0)
        result = SparseTensor(indices, sp_input.values, shape)
    if sp_input.shape.rank is not None and isinstance(axis, int):
        dims = sp_input.shape.as_list()
        position = axis if axis >= 0 else axis + len(dims) + 1
        result.set_shape(dims[:position] + [1] + dims[position:])
    return result


def sparse_retain(sp_input, to_retain):
    """The entries of `sp_input` where the bool vector `to_retain` is true
    (``tf.sparse.retain``).

    Args:
      sp_input: a `SparseTensor` of N entries.
      to_retain: a bool vector of length N.

    Returns:
      A `SparseTensor` of the same dense shape with the kept entries, in order.

    Raises:
      ValueError: if `to_retain` is not a vector, or its static length is not N.
    """
    sp_input = convert_to_sparse_tensor(sp_input)
    graph = sp_input.graph
    with graph.as_default():
        keep = graph_lib.convert_to_tensor(to_retain, dtype=dtypes.bool)
        if keep.shape.rank not in (None, 1):
            raise ValueError(f"to_retain must be a vector, got shape {keep.shape}")
        count = sp_input.values.shape[0] if sp_input.values.shape.rank == 1 else None
        if keep.shape.rank == 1 and None not in (keep.shape[0], count) \
                and keep.shape[0] != count:
            raise ValueError(f"Dimensions {count} and {keep.shape[0]} are not compatible")
        where_true = array_ops.reshape(array_ops.where(keep), [-1])
        result = SparseTensor(array_ops.gather(sp_input.indices, where_true),
                              array_ops.gather(sp_input.values, where_true),
                              array_ops.identity(sp_input.dense_shape))
    result.set_shape(sp_input.shape)
    return result


def sparse_reset_shape(sp_input, new_shape=None):
    """`sp_input` with dense shape `new_shape`, or its tightest shape when None
    (``tf.sparse.reset_shape``).

    Args:
      sp_input: a `SparseTensor`.
      new_shape: a 1-D int64 shape of the same rank, no smaller than any index; None for
        ``max(indices) + 1`` per dimension.

    Returns:
      A `SparseTensor` of the same entries.

    Raises:
      ValueError: if the ranks are known and differ, or a static size is too small.
      InvalidArgumentError: (at run time) if `new_shape` is smaller than the entries need.
    """
    from sessionlib.ops import check_ops, math_ops

    sp_input = convert_to_sparse_tensor(sp_input)
    graph = sp_input.graph
    with graph.as_default():
        indices = array_ops.identity(sp_input.indices)
        values = array_ops.identity(sp_input.values)
        if new_shape is None:
            shape = math_ops.add(math_ops.reduce_max(indices, axis=0), 1)
            return SparseTensor(indices, values, shape)
        shape_t = _int64(new_shape, "new_shape")
        new_static = _infer.shape_from_tensor(shape_t)
        if new_static.rank is not None and sp_input.shape.rank is not None:
            if new_static.rank != sp_input.shape.rank:
                raise ValueError(f"Shapes must be equal rank, but are {sp_input.shape.rank} "
                                 f"and {new_static.rank}")
            for old, new in zip(sp_input.shape.as_list(), new_static.as_list()):
                if None not in (old, new) and new < old:
                    raise ValueError(
                        f"Requested new_shape should have dimension sizes >= sp_input.shape."
                        f"  Found new_shape ({new_static}), sp_input.shape "
                        f"({sp_input.shape}).")
        fits = math_ops.reduce_all(math_ops.greater_equal(shape_t, sp_input.dense_shape))
        check = check_ops.Assert(
            fits, ["Requested new_shape should have dimension sizes >= sp_input.shape"])
        with graph.control_dependencies([check]):
            shape_t = array_ops.identity(shape_t)
        result = SparseTensor(indices, values, shape_t)
    result.set_shape(new_static)
    return result


def from_dense(tensor, name=None):
    """The `SparseTensor` of the nonzero (non-empty) elements of `tensor`
    (``tf.sparse.from_dense``).

    Args:
      tensor: a dense Tensor (or value convertible to one).
      name: a name scope.

    Returns:
      A `SparseTensor` in row-major order.
    """
    from sessionlib.ops import math_ops

    graph = _graph_of(tensor)
    with graph.as_default(), graph.name_scope(name or "dense_to_sparse"):
        dense = graph_lib.convert_to_tensor(tensor)
        zero = array_ops.constant(b"" if dense.dtype is dtypes.string else
                                  np.zeros([], dense.dtype.as_numpy_dtype), dtype=dense.dtype)
        indices = array_ops.where(math_ops.not_equal(dense, zero))
        result = SparseTensor(indices, _gather_nd(dense, indices),
                              array_ops.shape(dense, out_type=dtypes.int64))
    result.set_shape(dense.shape)
    return result


def _gather_nd(params, indices):
    from sessionlib.ops import scatter_gather_ops

    return scatter_gather_ops.gather_nd(params, indices)


def sparse_eye(num_rows, num_columns=None, dtype=dtypes.float32, name=None):
    """A `SparseTensor` identity matrix (``tf.sparse.eye``).

    Args:
      num_rows: the number of rows (an int or int scalar tensor).
      num_columns: the number of columns; default `num_rows`.
      dtype: the values' dtype.
      name: a name scope.

    Returns:
      A `SparseTensor` of shape ``[num_rows, num_columns]`` with ones on the diagonal.
    """
    from sessionlib.ops import math_ops

    dtype = dtypes.as_dtype(dtype)
    graph = _graph_of(num_rows, num_columns)
    with graph.as_default(), graph.name_scope(name or "eye"):
        rows = _int64(num_rows, "num_rows")
        columns = rows if num_columns is None else _int64(num_columns, "num_columns")
        diagonal = array_ops.range(0, math_ops.minimum(rows, columns), 1, dtype=dtypes.int64)
        indices = array_ops.stack([diagonal, diagonal], axis=1)
        values = array_ops.ones(array_ops.shape(diagonal), dtype=dtype)
        result = SparseTensor(indices, values, array_ops.stack([rows, columns]))
    static_rows = tensor_util.constant_value(rows)
    static_cols = tensor_util.constant_value(columns)
    result.set_shape([None if static_rows is None else int(static_rows),
                      None if static_cols is None else int(static_cols)])
    return result


def sparse_to_indicator(sp_input, vocab_size, name=None):
    """A dense bool tensor, true at the ids of each row of `sp_input`
    (``tf.sparse.to_indicator``).

    Args:
      sp_input: an int `SparseTensor` of ids; its last dimension lists a row's ids.
      vocab_size: the size of the new last dimension (ids must be below it).
      name: a name scope.

    Returns:
      A bool Tensor of shape ``dense_shape[:-1] + [vocab_size]``.

    Raises:
      TypeError: if `sp_input` is not an int SparseTensor.
      InvalidArgumentError: (at run time) for ids outside ``[0, vocab_size)`` or repeated.
    """
    from sessionlib.ops import math_ops

    sp_input = convert_to_sparse_tensor(sp_input)
    if not sp_input.dtype.is_integer:
        raise TypeError(f"sp_input must be an int SparseTensor, got {sp_input.dtype.name}")
    graph = sp_input.graph
    with graph.as_default(), graph.name_scope(name or "SparseToIndicator"):
        count = array_ops.shape(sp_input.indices, out_type=dtypes.int64)[0]
        leading = array_ops.slice(sp_input.indices, [0, 0], array_ops.stack(
            [-1, math_ops.subtract(array_ops.size(sp_input.dense_shape), 1)]))
        ids = array_ops.reshape(math_ops.cast(sp_input.values, dtypes.int64),
                                array_ops.stack([count, 1]))
        indices = array_ops.concat([leading, ids], axis=1)
        vocab = array_ops.reshape(_int64(vocab_size, "vocab_size"), [1])
        shape = array_ops.concat([array_ops.slice(
            sp_input.dense_shape, [0],
            array_ops.reshape(math_ops.subtract(array_ops.size(sp_input.dense_shape), 1),
                              [1])), vocab], 0)
        ordered = sparse_reorder(SparseTensor(indices, array_ops.ones(
            array_ops.reshape(count, [1]), dtype=dtypes.bool), shape))
        result = sparse_to_dense(ordered.indices, ordered.dense_shape, ordered.values,
                                 default_value=False, name="SparseToIndicator")
    if sp_input.shape.rank is not None and isinstance(vocab_size, int):
        result.set_shape(sp_input.shape.as_list()[:-1] + [vocab_size])
    return result


def sparse_merge(sp_ids, sp_values, vocab_size, name=None, already_sorted=False):
    """Combines a SparseTensor of ids and one of values into one whose last index is the
    id (``tf.sparse.merge``, deprecated in TF).

    Args:
      sp_ids: an int `SparseTensor` (or a list of them, one per trailing dimension).
      sp_values: a `SparseTensor` of values at the same indices.
      vocab_size: the size of the id dimension (or a list, with a list of `sp_ids`).
      name: a name scope.
      already_sorted: if True, the result is not reordered.

    Returns:
      A `SparseTensor` of shape ``sp_ids.dense_shape[:-1] + [vocab_size]``.

    Raises:
      TypeError: if the ids are not int SparseTensors, or `sp_values` is not sparse.
      ValueError: if `sp_ids` and `vocab_size` do not match in length.
    """
    from sessionlib.ops import math_ops

    ids_list = sp_ids if isinstance(sp_ids, (list, tuple)) else [sp_ids]
    sizes = vocab_size if isinstance(vocab_size, (list, tuple)) else [vocab_size]
    if len(ids_list) != len(sizes):
        raise ValueError("sp_ids and vocab_size must have the same length")
    ids_list = [convert_to_sparse_tensor(ids) for ids in ids_list]
    for ids in ids_list:
        if not ids.dtype.is_integer:
            raise TypeError(f"sp_ids must be int SparseTensors, got {ids.dtype.name}")
    graph = ids_list[0].graph
    with graph.as_default(), graph.name_scope(name or "SparseMerge"):
        first = ids_list[0]
        leading = array_ops.slice(first.indices, [0, 0], array_ops.stack(
            [-1, math_ops.subtract(array_ops.size(first.dense_shape), 1)]))
        columns = [array_ops.expand_dims(math_ops.cast(ids.values, dtypes.int64), 1)
                   for ids in ids_list]
        indices = array_ops.concat([leading] + columns, axis=1)
        if not isinstance(sp_values, (SparseTensor, SparseTensorValue)):
            raise TypeError("Input must be a SparseTensor.")
        values = convert_to_sparse_tensor(sp_values).values
        leading_shape = array_ops.slice(first.dense_shape, [0], array_ops.reshape(
            math_ops.subtract(array_ops.size(first.dense_shape), 1), [1]))
        shape = array_ops.concat(
            [leading_shape, array_ops.stack([_int64(size, "vocab_size") for size in sizes])],
            0)
        result = SparseTensor(indices, values, shape)
        if not already_sorted:
            result = sparse_reorder(result)
    if first.shape.rank is not None and all(isinstance(s, int) for s in sizes):
        result.set_shape(first.shape.as_list()[:-1] + list(sizes))
    return result


def sparse_mask(a, mask_indices, name=None):
    """The slices of the `IndexedSlices` `a` whose index is not in `mask_indices`
    (``tf.sparse.mask``).

    Args:
      a: an `IndexedSlices`.
      mask_indices: a 1-D int Tensor of indices to drop.
      name: a name scope.

    Returns:
      An `IndexedSlices` of the remaining slices, in order.
    """
    from sessionlib.ops import math_ops

    graph = _graph_of(a.values, mask_indices)
    with graph.as_default(), graph.name_scope(name or "sparse_mask"):
        mask = graph_lib.convert_to_tensor(mask_indices, dtype=a.indices.dtype)
        matches = math_ops.equal(array_ops.expand_dims(a.indices, 1),
                                 array_ops.expand_dims(mask, 0))
        keep = math_ops.logical_not(math_ops.reduce_any(matches, axis=1))
        positions = array_ops.reshape(array_ops.where(keep), [-1])
        return indexed_slices_lib.IndexedSlices(array_ops.gather(a.values, positions),
                                                array_ops.gather(a.indices, positions),
                                                a.dense_shape)

