"""Kernels of the arithmetic sparse ops (``ops/sparse_math_ops.py``): sparse-dense matmul,
max and sum reductions (dense or sparse results), softmax, elementwise max/min of two
SparseTensors, and the sparse segment reductions.

Each is a numpy kernel and its own reference. Groups of entries (the rows of a softmax, the
kept coordinates of a reduction) are found with one ``np.unique`` over the grouping columns,
and reduced with ``ufunc.at``; numpy's scatter loops are what a Cython loop would do here.
"""

import numpy as np

from sessionlib.framework.indexing import normalized_axes
from sessionlib.runtime.kernel_table import register_kernel
from sessionlib.runtime.kernels.array_kernels import invalid_argument
from sessionlib.runtime.kernels.sparse_kernels import (_as_index_matrix, _check_same_shape,
                                                       _check_values_length, _dense_shape_of)


def _sparse_input(indices, values, shape_vector, what="input_shape"):
    shape = _dense_shape_of(shape_vector, what)
    matrix = _as_index_matrix(indices, len(shape))
    values = np.asarray(values)
    _check_values_length(values, len(matrix))
    return matrix, values, shape


# ---- SparseTensorDenseMatMul ----------------------------------------------------------------

def _sparse_dense_matmul_kernel(ctx, inputs, attrs):
    indices, values, shape_vector, dense = inputs
    shape = _dense_shape_of(shape_vector, "a_shape")
    if len(shape) != 2:
        raise invalid_argument(f"Tensor 'a_shape' is not a vector of 2 elements: got "
                               f"{len(shape)}")
    if dense.ndim != 2:
        raise invalid_argument(f"Tensor 'b' is not a matrix, got shape {list(dense.shape)}")
    matrix = np.asarray(indices, dtype=np.int64)
    if matrix.ndim != 2 or matrix.shape[1] != 2:
        raise invalid_argument(f"Tensor 'a_indices' is not a matrix of 2 columns, got shape "
                               f"{list(matrix.shape)}")
    _check_values_length(values, len(matrix))
    adjoint_a, adjoint_b = bool(attrs.get("adjoint_a")), bool(attrs.get("adjoint_b"))
    right = dense.T if adjoint_b else dense
    rows, inner = (shape[1], shape[0]) if adjoint_a else (shape[0], shape[1])
    if right.shape[0] != inner:
        raise invalid_argument(
            f"Cannot multiply A and B because inner dimension does not match: {inner} vs. "
            f"{right.shape[0]}.  Did you forget a transpose?  Dimensions of A: "
            f"[{shape[0]}, {shape[1]}).  Dimensions of B: {list(dense.shape)}")
    out_rows, ks = (matrix[:, 1], matrix[:, 0]) if adjoint_a else (matrix[:, 0], matrix[:, 1])
    a_values = values
    for position, (column, limit, which) in enumerate(((ks, inner, 1 - adjoint_a),
                                                       (out_rows, rows, adjoint_a))):
        bad = (column < 0) | (column >= limit)
        if bad.any():
            first = int(np.argmax(bad))
            name = "k" if position == 0 else "i"
            raise invalid_argument(f"{name} ({int(column[first])}) from index[{first},{which}] "
                                   f"out of bounds (>={limit})")
    result = np.zeros((rows, right.shape[1]), dtype=dense.dtype)
    if len(matrix):
        # Sum the products of each output row in one pass over the entries sorted by row
        # (three times faster than a scatter-add with np.add.at).
        order = np.argsort(out_rows, kind="stable")
        sorted_rows = out_rows[order]
        starts = np.flatnonzero(np.r_[True, sorted_rows[1:] != sorted_rows[:-1]])
        products = a_values[order, None] * right[ks[order]]
        result[sorted_rows[starts]] = np.add.reduceat(products, starts, axis=0)
    return (result,)


def _sparse_matmul_kernel(ctx, inputs, attrs):
    a, b = inputs
    if a.ndim != 2 or b.ndim != 2:
        raise invalid_argument(f"SparseMatMul needs matrices, got shapes {list(a.shape)} and "
                               f"{list(b.shape)}")
    left = a.T if attrs.get("transpose_a") else a
    right = b.T if attrs.get("transpose_b") else b
    if left.shape[1] != right.shape[0]:
        raise invalid_argument(f"Matrix size-incompatible: In[0]: {list(a.shape)}, In[1]: "
                               f"{list(b.shape)}")
    return (np.matmul(left, right).astype(np.float32),)


def _sparse_dense_cwise(ufunc):
    def kernel(ctx, inputs, attrs):
        indices, values, shape_vector, dense = inputs
        matrix, values, shape = _sparse_input(indices, values, shape_vector, "sp_shape")
        dense = np.asarray(dense)
        lead = len(shape) - dense.ndim
        if lead < 0 or any(d not in (1, s) for d, s in zip(dense.shape, shape[lead:])):
            raise invalid_argument(
                f"SparseDenseBinaryOpShared broadcasts dense to sparse only; got incompatible "
                f"shapes: [{','.join(map(str, shape))}] vs. "
                f"[{','.join(map(str, dense.shape))}]")
        bad = np.any((matrix < 0) | (matrix >= np.asarray(shape, np.int64)), axis=1) \
            if len(matrix) else np.zeros(0, bool)
        if bad.any():
            raise invalid_argument(f"Provided indices are out-of-bounds w.r.t. dense side with "
                                   f"broadcasted shape: index {int(np.argmax(bad))}")
        picked = np.broadcast_to(dense, shape)[tuple(matrix.T)] if len(matrix) else \
            np.zeros(0, dense.dtype)
        with np.errstate(divide="ignore", invalid="ignore"):
            return (np.asarray(ufunc(values, picked)).astype(values.dtype),)

    return kernel


# ---- reductions -------------------------------------------------------------------------------

def _reduction_groups(matrix, shape, axes_input, attrs):
    """(kept dims, group id per entry, the groups' kept coordinates) of a reduction."""
    if attrs.get("reduce_all", False):
        axes = tuple(range(len(shape)))
    else:
        axes = normalized_axes(axes_input, len(shape))
    kept = [dim for dim in range(len(shape)) if dim not in axes]
    coordinates = matrix[:, kept]
    if len(matrix) and kept:
        unique, inverse = np.unique(coordinates, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
    else:
        unique = np.zeros((1 if len(matrix) else 0, len(kept)), np.int64)
        inverse = np.zeros(len(matrix), np.int64)
    return axes, kept, inverse, unique


def _group_reduce(values, inverse, count, reducer):
    if reducer == "max":
        out = np.empty(count, dtype=values.dtype)
        if count:
            initial = (-np.inf if values.dtype.kind == "f"
                       else np.iinfo(values.dtype).min)
            out.fill(initial)
            np.maximum.at(out, inverse, values)
        return out
    out = np.zeros(count, dtype=values.dtype)
    if count:
        np.add.at(out, inverse, values)
    return out


def _reduction(reducer, sparse_output):
    """The kernel of a max or sum reduction, with a dense or a sparse result."""
    def kernel(ctx, inputs, attrs):
        indices, values, shape_vector, axes_input = inputs
        matrix, values, shape = _sparse_input(indices, values, shape_vector)
        axes, kept, inverse, unique = _reduction_groups(matrix, shape, axes_input, attrs)
        reduced = _group_reduce(values, inverse, len(unique), reducer)
        keep_dims = bool(attrs.get("keep_dims", False))
        out_shape = [1 if dim in axes else size for dim, size in enumerate(shape)] \
            if keep_dims else [shape[dim] for dim in kept]
        if sparse_output:
            if keep_dims:
                out_indices = np.zeros((len(unique), len(shape)), np.int64)
                out_indices[:, kept] = unique
            else:
                out_indices = np.ascontiguousarray(unique, dtype=np.int64)
            return (out_indices, reduced, np.asarray(out_shape, np.int64).reshape(-1))
        # Groups without entries are 0, as in TF.
        result = np.zeros([shape[dim] for dim in kept], dtype=values.dtype)
        if len(unique) and kept:
            result[tuple(unique.T)] = reduced
        elif len(unique):
            result = reduced.reshape(())
        return (np.asarray(result).reshape(out_shape),)

    return kernel


# ---- SparseSoftmax ----------------------------------------------------------------------------

def _sparse_softmax_kernel(ctx, inputs, attrs):
    indices, values, shape_vector = inputs
    matrix, values, shape = _sparse_input(indices, values, shape_vector, "sp_shape")
    if len(shape) < 2:
        raise invalid_argument(f"Input should have rank >= 2, but received shape: "
                               f"{','.join(str(d) for d in shape)}")
    if not len(matrix):
        return (values.copy(),)
    _, inverse = np.unique(matrix[:, :-1], axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    groups = int(inverse.max()) + 1
    peak = np.full(groups, -np.inf, dtype=values.dtype)
    np.maximum.at(peak, inverse, values)
    shifted = np.exp(values - peak[inverse])
    totals = np.zeros(groups, dtype=values.dtype)
    np.add.at(totals, inverse, shifted)
    return ((shifted / totals[inverse]).astype(values.dtype),)


# ---- SparseSparseMaximum / Minimum -----------------------------------------------------------

def _sparse_sparse_elementwise(ufunc):
    def kernel(ctx, inputs, attrs):
        a_indices, a_values, a_shape, b_indices, b_values, b_shape = inputs
        a_matrix, a_values, shape_a = _sparse_input(a_indices, a_values, a_shape, "a_shape")
        b_matrix, b_values, shape_b = _sparse_input(b_indices, b_values, b_shape, "b_shape")
        if len(shape_a) != len(shape_b):
            _check_same_shape(shape_a, shape_b)
        for dim, (left, right) in enumerate(zip(shape_a, shape_b)):
            if left != right:
                raise invalid_argument(f"Operands' shapes do not match: got {left} and {right} "
                                       f"for dimension {dim}")
        rank = len(shape_a)
        both = np.concatenate([a_matrix, b_matrix]).reshape(-1, rank)
        if not len(both):
            return (both.astype(np.int64), np.zeros(0, a_values.dtype))
        unique, inverse = np.unique(both, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        # An entry missing from one operand counts as 0 there.
        left = np.zeros(len(unique), a_values.dtype)
        right = np.zeros(len(unique), a_values.dtype)
        left[inverse[:len(a_matrix)]] = a_values
        right[inverse[len(a_matrix):]] = b_values
        return (np.ascontiguousarray(unique, dtype=np.int64), ufunc(left, right))

    return kernel


# ---- SparseSegmentSum / Mean / SqrtN ---------------------------------------------------------

def _sparse_segment(kind, with_num_segments):
    def kernel(ctx, inputs, attrs):
        if with_num_segments:
            data, indices, segment_ids, num_segments = inputs
        else:
            data, indices, segment_ids = inputs
        indices = np.asarray(indices).reshape(-1) if np.ndim(indices) == 1 else indices
        if np.ndim(indices) != 1 or np.ndim(segment_ids) != 1:
            raise invalid_argument("indices and segment_ids should be vectors")
        if len(indices) != len(segment_ids):
            raise invalid_argument(f"segment_ids and indices should have same size. "
                                   f"segment_ids shape: [{len(segment_ids)}], indices shape: "
                                   f"[{len(indices)}]")
        if data.ndim < 1:
            raise invalid_argument("data must be at least 1-D")
        ids = np.asarray(segment_ids, np.int64)
        rows = np.asarray(indices, np.int64)
        if with_num_segments:
            count = int(np.asarray(num_segments).reshape(-1)[0])
        else:
            count = int(ids[-1]) + 1 if len(ids) else 0
        if len(ids):
            if (np.diff(ids) < 0).any():
                raise invalid_argument("segment ids are not increasing")
            if with_num_segments and ids[-1] >= count:
                raise invalid_argument("segment ids must be < num_segments")
            if ids[0] < 0 or ids[-1] >= count:
                bad = int(ids[0]) if ids[0] < 0 else int(ids[-1])
                raise invalid_argument(f"Segment id {bad} out of range [0, {count}), possibly "
                                       f"because 'segment_ids' input is not sorted.")
        bad = (rows < 0) | (rows >= data.shape[0])
        if bad.any():
            first = int(np.argmax(bad))
            raise invalid_argument(f"Bad: indices[{first}] == {int(rows[first])} out of range "
                                   f"[0, {data.shape[0]})")
        result = np.zeros((count,) + data.shape[1:], dtype=data.dtype)
        if len(ids):
            np.add.at(result, ids, data[rows])
        if kind != "sum":
            sizes = np.bincount(ids, minlength=count).astype(data.dtype) if len(ids) else \
                np.zeros(count, data.dtype)
            scale = np.sqrt(sizes) if kind == "sqrt_n" else sizes
            scale = np.where(scale > 0, scale, 1).astype(data.dtype)
            result = (result / scale.reshape((-1,) + (1,) * (data.ndim - 1))).astype(data.dtype)
        return (result,)

    return kernel


register_kernel("SparseTensorDenseMatMul", reference=_sparse_dense_matmul_kernel)
register_kernel("SparseMatMul", reference=_sparse_matmul_kernel)
register_kernel("SparseDenseCwiseMul", reference=_sparse_dense_cwise(np.multiply))
register_kernel("SparseDenseCwiseDiv", reference=_sparse_dense_cwise(np.true_divide))
register_kernel("SparseReduceMax", reference=_reduction("max", False))
register_kernel("SparseReduceMaxSparse", reference=_reduction("max", True))
register_kernel("SparseReduceSumSparse", reference=_reduction("sum", True))
register_kernel("SparseSoftmax", reference=_sparse_softmax_kernel)
register_kernel("SparseSparseMaximum", reference=_sparse_sparse_elementwise(np.maximum))
register_kernel("SparseSparseMinimum", reference=_sparse_sparse_elementwise(np.minimum))
for _kind, _op_type in (("sum", "SparseSegmentSum"), ("mean", "SparseSegmentMean"),
                        ("sqrt_n", "SparseSegmentSqrtN")):
    register_kernel(_op_type, reference=_sparse_segment(_kind, False))
    register_kernel(_op_type + "WithNumSegments", reference=_sparse_segment(_kind, True))
