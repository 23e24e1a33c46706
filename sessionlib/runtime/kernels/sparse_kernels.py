"""Kernels of the sparse ops (``sessionlib/ops/sparse_ops.py``).

Design. A `SparseTensor` reaches a kernel as three arrays (indices, values, dense shape), each a
separate input. The kernels are numpy, and each is its own reference: scatter, lexicographic
sort and ``np.add.at`` already run at the limit for these. Like TF's kernels they validate what
a feed can get wrong (index columns, bounds, order, value counts) and raise
InvalidArgumentError naming the first bad index; the reduction axes follow the same rule as the
op's graph-time inference (``sessionlib/framework/indexing.py``).
"""

import numpy as np

from sessionlib.framework.indexing import normalized_axes
from sessionlib.runtime.kernel_table import register_kernel
from sessionlib.runtime.kernels.array_kernels import invalid_argument


def _format_index(row):
    return "[" + ",".join(str(int(v)) for v in row) + "]"


def _dense_shape_of(shape_array, what="dense_shape"):
    """A fed or computed shape vector as a tuple of ints, rejecting negative sizes."""
    shape = tuple(int(d) for d in np.asarray(shape_array).reshape(-1))
    if any(d < 0 for d in shape):
        raise invalid_argument(f"{what} has a negative dimension: {_format_index(shape)}")
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
        raise invalid_argument(f"indices must be a matrix, got shape {list(indices.shape)}")
    if matrix.shape[1] != rank:
        raise invalid_argument(
            f"indices has {matrix.shape[1]} columns, but the dense shape has rank "
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
        raise invalid_argument(
            f"indices[{first}] = {_format_index(indices[first])} is out of bounds: "
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
            raise invalid_argument(f"indices[{first}] = {row} is repeated")
        raise invalid_argument(
            f"indices[{first}] = {row} is out of order. Many sparse ops require "
            "sorted indices.\n    Use `tf.sparse.reorder` to create a correctly "
            "ordered copy.\n\n")


def _check_values_length(values, count):
    if values.ndim != 1 or values.shape[0] != count:
        raise invalid_argument(f"values must be a vector of {count} elements (one per index), got "
                               f"shape {list(values.shape)}")


def _scatter_sum(indices, values, shape, dtype):
    """A dense array of `shape` with `values` summed in at `indices` (duplicates add up)."""
    dense = np.zeros(shape, dtype=dtype)
    if len(indices):
        np.add.at(dense, tuple(indices.T), values)
    return dense


def _check_same_shape(a_shape, b_shape):
    if len(a_shape) != len(b_shape):
        raise invalid_argument(f"Operands do not have the same ranks; got shapes: "
                               f"{_format_index(a_shape)} and {_format_index(b_shape)}")
    if a_shape != b_shape:
        raise invalid_argument(f"Operands' shapes do not match: got {_format_index(a_shape)} and "
                               f"{_format_index(b_shape)}")


def _sparse_to_dense_kernel(ctx, inputs, attrs):
    indices, output_shape, values, default_value = inputs
    shape = _dense_shape_of(output_shape, "output_shape")
    if default_value.ndim != 0:
        raise invalid_argument(f"default_value should be a scalar, got shape "
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


def _sparse_dense_add_kernel(ctx, inputs, attrs):
    a_indices, a_values, a_shape, dense = inputs
    shape = _dense_shape_of(a_shape)
    if shape != dense.shape:
        raise invalid_argument(f"Dimension mismatch: the SparseTensor has dense shape "
                               f"{_format_index(shape)} but the dense operand has shape "
                               f"{_format_index(dense.shape)}")
    matrix = _as_index_matrix(a_indices, len(shape))
    _check_values_length(a_values, len(matrix))
    _check_bounds(matrix, shape)
    result = np.array(dense, copy=True)
    if len(matrix):
        np.add.at(result, tuple(matrix.T), a_values)
    return (result,)


def _sparse_reduce_sum_kernel(ctx, inputs, attrs):
    indices, values, shape_vector, axes = inputs
    shape = _dense_shape_of(shape_vector, "input_shape")
    matrix = _as_index_matrix(indices, len(shape))
    _check_values_length(values, len(matrix))
    _check_bounds(matrix, shape)
    if attrs.get("reduce_all", False):
        axes = tuple(range(len(shape)))
    else:
        axes = normalized_axes(axes, len(shape))
    dense = _scatter_sum(matrix, values, shape, values.dtype)
    result = np.sum(dense, axis=axes, keepdims=bool(attrs["keep_dims"]), dtype=values.dtype)
    return (np.asarray(result),)


register_kernel("SparseToDense", reference=_sparse_to_dense_kernel)
register_kernel("SparseAdd", reference=_sparse_add_kernel)
register_kernel("SparseTensorDenseAdd", reference=_sparse_dense_add_kernel)
register_kernel("SparseReduceSum", reference=_sparse_reduce_sum_kernel)


def _sparse_add_grad_kernel(ctx, inputs, attrs):
    """Each operand index's position among the sum's indices picks its gradient (0 if the
    threshold dropped it)."""
    backprop, a_indices, b_indices, sum_indices = inputs
    if backprop.shape[:1] != sum_indices.shape[:1]:
        raise invalid_argument(f"backprop_val_grad has {backprop.shape[0]} values, but the sum "
                               f"has {sum_indices.shape[0]} indices")
    rows = {tuple(row): k for k, row in enumerate(np.asarray(sum_indices).tolist())}

    def pick(indices):
        out = np.zeros(indices.shape[0], dtype=backprop.dtype)
        for k, row in enumerate(np.asarray(indices).tolist()):
            position = rows.get(tuple(row))
            if position is not None:
                out[k] = backprop[position]
        return out

    return (pick(a_indices), pick(b_indices))


register_kernel("SparseAddGrad", reference=_sparse_add_grad_kernel)
