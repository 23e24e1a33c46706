"""Sparse ops: `sparse_placeholder`, densifying, addition and sum reduction of `SparseTensor`s.

Each op is one `register_op` call plus its public wrapper, with TF's op types and inputs
(``SparseToDense``, ``SparseAdd``, ``SparseTensorDenseAdd``, ``SparseReduceSum``), so that
``as_graph_def()`` reads like TF's. A `SparseTensor` is three tensors; the ops take them as
three separate inputs. Kernels are numpy: scatter, lexicographic sort and ``np.add.at`` already
run at the limit for these.
"""

import numpy as np

from sessionlib import dtypes, errors
from sessionlib.framework import graph as graph_lib
from sessionlib.framework import registry, tensor_util
from sessionlib.framework.sparse_tensor import (SparseTensor, SparseTensorValue,
                                                convert_to_sparse_tensor)
from sessionlib.framework.tensor_shape import TensorShape, as_shape
from sessionlib.ops import array_ops

__all__ = ["sparse_placeholder", "sparse_tensor_to_dense", "sparse_add", "sparse_reduce_sum",
           "SparseTensor", "SparseTensorValue"]


# ---- helpers ------------------------------------------------------------------------------

def _invalid(message):
    return errors.InvalidArgumentError(None, None, message)


def _format_index(row):
    return "[" + ",".join(str(int(v)) for v in row) + "]"


def _dense_shape_of(shape_array, what="dense_shape"):
    """A fed or computed shape vector as a tuple of ints, rejecting negative sizes."""
    shape = tuple(int(d) for d in np.asarray(shape_array).reshape(-1))
    if any(d < 0 for d in shape):
        raise _invalid(f"{what} has a negative dimension: {_format_index(shape)}")
    return shape


def _as_index_matrix(indices, rank):
    """`indices` as an ``[N, rank]`` int64 matrix (TF accepts 0-D and 1-D for rank <= 1)."""
    indices = np.asarray(indices, dtype=np.int64)
    if indices.ndim == 2:
        matrix = indices
    elif indices.ndim == 1 and rank == 1:
        matrix = indices.reshape(-1, 1)
    elif indices.ndim == 0:
        matrix = indices.reshape(1, 1)
    else:
        raise _invalid(f"indices must be a matrix, got shape {list(indices.shape)}")
    if matrix.shape[1] != rank:
        raise _invalid(f"indices has {matrix.shape[1]} columns, but the dense shape has rank "
                       f"{rank}")
    return matrix


def _check_bounds(indices, shape):
    """Raises InvalidArgumentError naming the first index outside `shape`."""
    if not len(indices):
        return
    limits = np.asarray(shape, dtype=np.int64)
    outside = np.any((indices < 0) | (indices >= limits), axis=1)
    if outside.any():
        first = int(np.argmax(outside))
        raise _invalid(f"indices[{first}] = {_format_index(indices[first])} is out of bounds: "
                       f"need 0 <= index < {_format_index(shape)}")


def _check_sorted_unique(indices, shape):
    """Raises InvalidArgumentError unless the rows of `indices` strictly increase
    lexicographically, as TF's validating sparse kernels require.

    Rows are already in bounds, so comparing their row-major flat positions compares them
    lexicographically.
    """
    if len(indices) < 2:
        return
    flat = np.ravel_multi_index(tuple(indices.T), shape) if shape else np.zeros(len(indices))
    steps = np.diff(flat)
    bad = steps <= 0
    if bad.any():
        first = int(np.argmax(bad)) + 1
        row = _format_index(indices[first])
        if steps[first - 1] == 0:
            raise _invalid(f"indices[{first}] = {row} is repeated")
        raise _invalid(f"indices[{first}] = {row} is out of order. Many sparse ops require "
                       "sorted indices.\n    Use `tf.sparse.reorder` to create a correctly "
                       "ordered copy.\n\n")


def _check_values_length(values, count):
    if values.ndim != 1 or values.shape[0] != count:
        raise _invalid(f"values must be a vector of {count} elements (one per index), got "
                       f"shape {list(values.shape)}")


def _static_dense_shape(shape_tensor):
    """The static shape described by a shape-vector tensor (its value when it is constant)."""
    value = tensor_util.constant_value(shape_tensor)
    if value is not None:
        return TensorShape([None if int(d) < 0 else int(d) for d in value.reshape(-1)])
    vector = shape_tensor.shape
    if vector.rank == 1 and vector[0] is not None:
        return TensorShape([None] * vector[0])
    return TensorShape(None)


def _scatter_sum(indices, values, shape, dtype):
    """A dense array of `shape` with `values` summed in at `indices` (duplicates add up)."""
    dense = np.zeros(shape, dtype=dtype)
    if len(indices):
        np.add.at(dense, tuple(indices.T), values)
    return dense


# ---- SparseToDense ------------------------------------------------------------------------

def _sparse_to_dense_infer(inputs, attrs):
    indices, output_shape, values, default_value = inputs
    if default_value.dtype is not values.dtype:
        raise TypeError(f"default_value has dtype {default_value.dtype.name}, but the values "
                        f"are {values.dtype.name}")
    attrs["T"] = values.dtype
    attrs["Tindices"] = indices.dtype
    return [(values.dtype, _static_dense_shape(output_shape))]


def _sparse_to_dense_kernel(ctx, inputs, attrs):
    indices, output_shape, values, default_value = inputs
    shape = _dense_shape_of(output_shape, "output_shape")
    if default_value.ndim != 0:
        raise _invalid(f"default_value should be a scalar, got shape "
                       f"{list(default_value.shape)}")
    matrix = _as_index_matrix(indices, len(shape))
    if values.ndim == 0:
        values = np.broadcast_to(values, (len(matrix),))
    _check_values_length(values, len(matrix))
    _check_bounds(matrix, shape)
    if attrs.get("validate_indices", True):
        _check_sorted_unique(matrix, shape)
    dense = np.full(shape, default_value, dtype=values.dtype)
    if len(matrix):
        dense[tuple(matrix.T)] = values
    return (dense,)


registry.register_op("SparseToDense", infer=_sparse_to_dense_infer,
                     reference=_sparse_to_dense_kernel, num_inputs=4,
                     doc="A dense tensor from sparse indices and values.")


def sparse_tensor_to_dense(sp_input, default_value=None, validate_indices=True, name=None):
    """The dense tensor that `sp_input` describes (``tf.sparse.to_dense``).

    Args:
      sp_input: a `SparseTensor` (or `SparseTensorValue`).
      default_value: the value of positions without an index; 0 (or ``b''``) when None.
      validate_indices: if True, unsorted or repeated indices are an error at run time.
      name: the op name.

    Returns:
      A dense Tensor of `sp_input.dtype` and shape `sp_input.dense_shape`.

    Raises:
      TypeError: if `sp_input` is not sparse, or `default_value` has another dtype.
      InvalidArgumentError: (at run time) for indices out of bounds, or, with
        `validate_indices`, unsorted or repeated indices.
    """
    sp_input = convert_to_sparse_tensor(sp_input)
    graph = sp_input.graph
    dtype = sp_input.dtype
    with graph.as_default():
        if default_value is None:
            default_value = b"" if dtype is dtypes.string else 0
        default = graph_lib.convert_to_tensor(
            default_value if isinstance(default_value, graph_lib.Tensor)
            else tensor_util.to_numpy(default_value, dtype), dtype=dtype)
        op = graph.create_op(
            "SparseToDense",
            [sp_input.indices, sp_input.dense_shape, sp_input.values, default],
            {"validate_indices": bool(validate_indices)}, name=name or "SparseToDense")
    result = op.outputs[0]
    result.set_shape(sp_input.shape)
    return result


# ---- SparseAdd ----------------------------------------------------------------------------

def _sparse_add_infer(inputs, attrs):
    a_indices, a_values, a_shape, b_indices, b_values, b_shape, threshold = inputs
    if a_values.dtype is not b_values.dtype:
        raise TypeError(f"SparseAdd operands must have one dtype, got {a_values.dtype.name} "
                        f"and {b_values.dtype.name}")
    attrs["T"] = a_values.dtype
    attrs["Treal"] = threshold.dtype
    rank = a_shape.shape[0] if a_shape.shape.rank == 1 else None
    return [(dtypes.int64, TensorShape([None, rank])), (a_values.dtype, TensorShape([None])),
            (dtypes.int64, a_shape.shape)]


def _check_same_shape(a_shape, b_shape):
    if len(a_shape) != len(b_shape):
        raise _invalid(f"Operands do not have the same ranks; got shapes: "
                       f"{_format_index(a_shape)} and {_format_index(b_shape)}")
    if a_shape != b_shape:
        raise _invalid(f"Operands' shapes do not match: got {_format_index(a_shape)} and "
                       f"{_format_index(b_shape)}")


def _sparse_add_kernel(ctx, inputs, attrs):
    a_indices, a_values, a_shape, b_indices, b_values, b_shape, threshold = inputs
    shape_a = _dense_shape_of(a_shape)
    shape_b = _dense_shape_of(b_shape)
    _check_same_shape(shape_a, shape_b)
    rank = len(shape_a)
    a_matrix = _as_index_matrix(a_indices, rank)
    b_matrix = _as_index_matrix(b_indices, rank)
    _check_values_length(a_values, len(a_matrix))
    _check_values_length(b_values, len(b_matrix))
    _check_bounds(a_matrix, shape_a)
    _check_bounds(b_matrix, shape_b)
    indices = np.concatenate([a_matrix, b_matrix])
    values = np.concatenate([a_values, b_values])
    if not len(indices):
        return (indices.reshape(0, rank), values, np.asarray(shape_a, dtype=np.int64))
    # Sum the values of equal positions, in lexicographic order of the positions.
    unique, inverse, counts = np.unique(indices, axis=0, return_inverse=True,
                                        return_counts=True)
    inverse = inverse.reshape(-1)
    sums = np.zeros(len(unique), dtype=values.dtype)
    np.add.at(sums, inverse, values)
    # TF drops a summed pair whose magnitude falls below the threshold; an entry present in
    # only one operand is always kept.
    keep = (counts == 1) | (np.abs(sums) >= threshold)
    return (np.ascontiguousarray(unique[keep]), sums[keep],
            np.asarray(shape_a, dtype=np.int64))


registry.register_op("SparseAdd", infer=_sparse_add_infer, reference=_sparse_add_kernel,
                     num_inputs=7, doc="The sum of two SparseTensors, as a SparseTensor.")


def _sparse_dense_add_infer(inputs, attrs):
    a_indices, a_values, a_shape, dense = inputs
    if a_values.dtype is not dense.dtype:
        raise TypeError(f"SparseTensorDenseAdd operands must have one dtype, got "
                        f"{a_values.dtype.name} and {dense.dtype.name}")
    attrs["T"] = dense.dtype
    attrs["Tindices"] = a_indices.dtype
    return [(dense.dtype, dense.shape)]


def _sparse_dense_add_kernel(ctx, inputs, attrs):
    a_indices, a_values, a_shape, dense = inputs
    shape = _dense_shape_of(a_shape)
    if shape != dense.shape:
        raise _invalid(f"Dimension mismatch: the SparseTensor has dense shape "
                       f"{_format_index(shape)} but the dense operand has shape "
                       f"{_format_index(dense.shape)}")
    matrix = _as_index_matrix(a_indices, len(shape))
    _check_values_length(a_values, len(matrix))
    _check_bounds(matrix, shape)
    result = np.array(dense, copy=True)
    if len(matrix):
        np.add.at(result, tuple(matrix.T), a_values)
    return (result,)


registry.register_op("SparseTensorDenseAdd", infer=_sparse_dense_add_infer,
                     reference=_sparse_dense_add_kernel, num_inputs=4,
                     doc="The sum of a SparseTensor and a dense tensor, as a dense tensor.")


def sparse_add(a, b, threshold=None, thresh=None, name=None):
    """Adds two tensors, at least one of them sparse (``tf.sparse.add``).

    Args:
      a, b: `SparseTensor`s (or `SparseTensorValue`s), or one of them a dense tensor.
      threshold: for two sparse operands, a summed entry whose magnitude is below it is
        dropped (0 keeps everything).
      thresh: the older spelling of `threshold`.
      name: the op name.

    Returns:
      A `SparseTensor` when both are sparse, else a dense Tensor.

    Raises:
      TypeError: if neither operand is sparse, or their dtypes differ.
    """
    sparse_types = (SparseTensor, SparseTensorValue)
    a_sparse, b_sparse = isinstance(a, sparse_types), isinstance(b, sparse_types)
    if not (a_sparse or b_sparse):
        raise TypeError("At least one input should be SparseTensor; do you mean to use "
                        "tf.add()?")
    if a_sparse and b_sparse:
        a, b = convert_to_sparse_tensor(a), convert_to_sparse_tensor(b)
        if threshold is None:
            threshold = 0 if thresh is None else thresh
        graph = a.graph
        with graph.as_default():
            threshold_dtype = a.dtype.real_dtype
            threshold_tensor = graph_lib.convert_to_tensor(
                threshold if isinstance(threshold, graph_lib.Tensor)
                else tensor_util.to_numpy(threshold, threshold_dtype),
                dtype=threshold_dtype, name="threshold")
            op = graph.create_op(
                "SparseAdd",
                [a.indices, a.values, a.dense_shape, b.indices, b.values, b.dense_shape,
                 threshold_tensor], name=name or "SparseAdd")
        result = SparseTensor(*op.outputs)
        result.set_shape(a.shape.merge_with(b.shape))
        return result
    # Sparse + dense is dense; the order of the operands does not matter.
    sparse, dense = (a, b) if a_sparse else (b, a)
    sparse = convert_to_sparse_tensor(sparse)
    graph = sparse.graph
    with graph.as_default():
        dense = graph_lib.convert_to_tensor(dense, dtype=sparse.dtype)
        op = graph.create_op("SparseTensorDenseAdd",
                             [sparse.indices, sparse.values, sparse.dense_shape, dense],
                             name=name or "SparseTensorDenseAdd")
    return op.outputs[0]


# ---- SparseReduceSum ----------------------------------------------------------------------

def _normalized_axes(axes, rank):
    """Axes as sorted non-negative ints; raises InvalidArgumentError for one out of range."""
    result = set()
    for axis in np.asarray(axes).reshape(-1).tolist():
        if not -rank <= axis < rank:
            raise _invalid(f"Invalid reduction dimension {axis}, for input with {rank} "
                           "dimensions.")
        result.add(axis % rank)
    return tuple(sorted(result))


def _reduced_static_shape(shape, axes, keep_dims, reduce_all):
    if shape.rank is None:
        return TensorShape(None)
    rank = shape.rank
    if reduce_all:
        axes = range(rank)
    elif axes is None:
        return TensorShape(None)
    else:
        try:
            axes = _normalized_axes(axes, rank)
        except errors.InvalidArgumentError:
            return TensorShape(None)  # as in TF, a bad axis is a run-time error
    dims = shape.as_list()
    if keep_dims:
        return TensorShape([1 if i in axes else d for i, d in enumerate(dims)])
    return TensorShape([d for i, d in enumerate(dims) if i not in axes])


def _sparse_reduce_sum_infer(inputs, attrs):
    indices, values, shape, axes = inputs
    attrs["T"] = values.dtype
    return [(values.dtype, _reduced_static_shape(_static_dense_shape(shape),
                                                 tensor_util.constant_value(axes),
                                                 attrs["keep_dims"],
                                                 attrs.get("reduce_all", False)))]


def _sparse_reduce_sum_kernel(ctx, inputs, attrs):
    indices, values, shape_vector, axes = inputs
    shape = _dense_shape_of(shape_vector, "input_shape")
    matrix = _as_index_matrix(indices, len(shape))
    _check_values_length(values, len(matrix))
    _check_bounds(matrix, shape)
    if attrs.get("reduce_all", False):
        axes = tuple(range(len(shape)))
    else:
        axes = _normalized_axes(axes, len(shape))
    dense = _scatter_sum(matrix, values, shape, values.dtype)
    result = np.sum(dense, axis=axes, keepdims=bool(attrs["keep_dims"]), dtype=values.dtype)
    return (np.asarray(result),)


registry.register_op("SparseReduceSum", infer=_sparse_reduce_sum_infer,
                     reference=_sparse_reduce_sum_kernel, num_inputs=4,
                     doc="The sum of a SparseTensor's elements along some axes, dense.")


def sparse_reduce_sum(sp_input, axis=None, keepdims=None, reduction_axes=None,
                      keep_dims=None, name=None):
    """Sums a `SparseTensor` along `axis` into a dense tensor (``tf.sparse.reduce_sum``).

    Args:
      sp_input: a `SparseTensor` (or `SparseTensorValue`).
      axis: an int or list of ints (negative counts from the end); None sums everything.
      keepdims: if True, reduced axes are kept with size 1.
      reduction_axes, keep_dims: TF 1's spellings of `axis` and `keepdims`.
      name: the op name.

    Returns:
      A dense Tensor of `sp_input.dtype`.

    Raises:
      ValueError: if both spellings of an argument are given.
      InvalidArgumentError: (at run time) for an axis out of range.
    """
    if reduction_axes is not None:
        if axis is not None:
            raise ValueError("Cannot specify both 'axis' and 'reduction_axes'")
        axis = reduction_axes
    if keep_dims is not None:
        if keepdims is not None:
            raise ValueError("Cannot specify both 'keepdims' and 'keep_dims'")
        keepdims = keep_dims
    sp_input = convert_to_sparse_tensor(sp_input)
    graph = sp_input.graph
    attrs = {"keep_dims": bool(keepdims)}
    with graph.as_default():
        if axis is None:
            # With an unknown rank the kernel reads the rank from the fed dense shape.
            attrs["reduce_all"] = True
            axis = np.zeros([0], dtype=np.int32)
        axes = graph_lib.convert_to_tensor(
            axis if isinstance(axis, graph_lib.Tensor)
            else np.asarray(axis, dtype=np.int32), dtype=dtypes.int32,
            name="reduction_axes")
        op = graph.create_op("SparseReduceSum",
                             [sp_input.indices, sp_input.values, sp_input.dense_shape, axes],
                             attrs, name=name or "SparseReduceSum")
    result = op.outputs[0]
    # The SparseTensor may know more about its dense shape than its dense_shape tensor does
    # (a sparse_placeholder with a shape), so narrow the result with that knowledge.
    result.set_shape(_reduced_static_shape(sp_input.shape, tensor_util.constant_value(axes),
                                           attrs["keep_dims"], attrs.get("reduce_all", False)))
    return result


# ---- sparse_placeholder -------------------------------------------------------------------

def sparse_placeholder(dtype, shape=None, name=None):
    """A `SparseTensor` whose parts must be fed (``tf.sparse_placeholder``).

    Feed it a `SparseTensorValue` or an ``(indices, values, dense_shape)`` tuple.

    Args:
      dtype: the dtype of the values.
      shape: the dense shape; None for any. When given, its dense_shape part has it as a
        default value (unknown dimensions as -1), so only indices and values must be fed.
      name: a prefix for the names of the parts.

    Returns:
      A `SparseTensor` of placeholders.
    """
    dtype = dtypes.as_dtype(dtype)
    graph = graph_lib.get_default_graph()
    shape_name = f"{name}/shape" if name is not None else None
    if shape is None:
        rank = None
        dense_shape = array_ops.placeholder(dtypes.int64, shape=[None], name=shape_name)
        static_shape = TensorShape(None)
    else:
        static_shape = as_shape(shape)
        rank = static_shape.rank
        default = np.asarray([-1 if d is None else d for d in static_shape.as_list()],
                             dtype=np.int64)
        default_tensor = array_ops.constant(
            default, dtype=dtypes.int64,
            name=f"{name}/shape_default" if name is not None else "Const")
        dense_shape = array_ops.placeholder_with_default(default_tensor, shape=[rank],
                                                         name=shape_name)
    values = array_ops.placeholder(dtype, shape=[None],
                                   name=f"{name}/values" if name is not None else None)
    indices = array_ops.placeholder(dtypes.int64, shape=[None, rank],
                                    name=f"{name}/indices" if name is not None else None)
    with graph.as_default():
        result = SparseTensor(indices, values, dense_shape)
    result.set_shape(static_shape)
    return result
