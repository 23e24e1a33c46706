"""Kernels of the set ops (``ops/set_ops.py``): ``SetSize`` and the set operations
(intersection, union, a-b, b-a) of dense or sparse operands along their last dimension.

Each set is the distinct values of one row (all dimensions but the last); its result row is
the sorted values of the operation, so the result is a SparseTensor in row-major order whose
last dimension is the largest result's size, as TF's kernels give. Python sets of numpy
scalars (or bytes) do the work: the ops are for small vocabularies of ids or strings.
"""

import numpy as np

from sessionlib.runtime.kernel_table import register_kernel
from sessionlib.runtime.kernels.array_kernels import invalid_argument
from sessionlib.runtime.kernels.sparse_kernels import (_as_index_matrix, _check_bounds,
                                                       _check_sorted_unique,
                                                       _check_values_length, _dense_shape_of)


def _dense_groups(dense):
    """(prefix shape, {prefix: values}) of a dense operand of rank >= 2."""
    dense = np.asarray(dense)
    if dense.ndim < 2:
        raise invalid_argument(f"Invalid rank {dense.ndim}: a set operand must have rank >= 2")
    prefix = tuple(dense.shape[:-1])
    return prefix, {key: dense[key] for key in np.ndindex(*prefix)}


def _sparse_groups(indices, values, shape_vector, validate):
    shape = _dense_shape_of(shape_vector, "shape")
    if len(shape) < 2:
        raise invalid_argument(f"Invalid rank {len(shape)}: a set operand must have rank >= 2")
    matrix = _as_index_matrix(indices, len(shape))
    values = np.asarray(values)
    _check_values_length(values, len(matrix))
    if validate:
        _check_bounds(matrix, shape)
        _check_sorted_unique(matrix, shape)
    groups = {}
    for row, value in zip(matrix[:, :-1].tolist(), values):
        groups.setdefault(tuple(row), []).append(value)
    return tuple(shape[:-1]), groups


def _python_values(values):
    return {value.item() if isinstance(value, np.generic) else value for value in values}


_OPERATIONS = {
    "intersection": lambda a, b: a & b,
    "union": lambda a, b: a | b,
    "a-b": lambda a, b: a - b,
    "b-a": lambda a, b: b - a,
}


def _set_operation(prefix_a, groups_a, prefix_b, groups_b, attrs, dtype):
    operation = attrs["set_operation"]
    if isinstance(operation, bytes):
        operation = operation.decode()
    combine = _OPERATIONS.get(operation)
    if combine is None:
        raise invalid_argument(f"Invalid set_operation {operation}")
    if len(prefix_a) != len(prefix_b):
        raise invalid_argument(f"Mismatched ranks {len(prefix_a) + 1} vs {len(prefix_b) + 1}")
    if prefix_a != prefix_b:
        raise invalid_argument(f"Mismatched shapes {list(prefix_a)} vs {list(prefix_b)}")
    rows = {}
    for key in sorted(set(groups_a) | set(groups_b)):
        result = combine(_python_values(groups_a.get(key, ())),
                         _python_values(groups_b.get(key, ())))
        if result:
            rows[key] = sorted(result)
    width = max((len(row) for row in rows.values()), default=0)
    indices = [list(key) + [k] for key, row in rows.items() for k in range(len(row))]
    values = [value for row in rows.values() for value in row]
    rank = len(prefix_a) + 1
    out_values = np.array(values, dtype=dtype) if values else np.zeros(0, dtype=dtype)
    return (np.array(indices, np.int64).reshape(-1, rank), out_values,
            np.array(list(prefix_a) + [width], np.int64))


def _dense_to_dense_kernel(ctx, inputs, attrs):
    set1, set2 = inputs
    return _set_operation(*_dense_groups(set1), *_dense_groups(set2), attrs, set1.dtype)


def _dense_to_sparse_kernel(ctx, inputs, attrs):
    set1, indices, values, shape = inputs
    validate = bool(attrs.get("validate_indices", True))
    return _set_operation(*_dense_groups(set1),
                          *_sparse_groups(indices, values, shape, validate), attrs, set1.dtype)


def _sparse_to_sparse_kernel(ctx, inputs, attrs):
    validate = bool(attrs.get("validate_indices", True))
    return _set_operation(*_sparse_groups(*inputs[:3], validate),
                          *_sparse_groups(*inputs[3:], validate), attrs, inputs[1].dtype)


def _set_size_kernel(ctx, inputs, attrs):
    prefix, groups = _sparse_groups(*inputs, bool(attrs.get("validate_indices", True)))
    sizes = np.zeros(prefix, dtype=np.int32)
    for key, values in groups.items():
        sizes[key] = len(_python_values(values))
    return (sizes,)


register_kernel("DenseToDenseSetOperation", reference=_dense_to_dense_kernel)
register_kernel("DenseToSparseSetOperation", reference=_dense_to_sparse_kernel)
register_kernel("SparseToSparseSetOperation", reference=_sparse_to_sparse_kernel)
register_kernel("SetSize", reference=_set_size_kernel)
