"""Kernels of the ops that rearrange a `SparseTensor` (``ops/sparse_manipulation_ops.py``):
reorder, reshape, concat, slice, split and fill-empty-rows, with the gradient helpers of slice
and fill-empty-rows.

Each is a numpy kernel and its own reference: the work is a sort or a masked copy of an
``[N, rank]`` index matrix, which numpy already does at full speed. Output order follows TF's
kernels, which callers depend on: reorder and concat give row-major order, slice and split
keep the input's order, fill-empty-rows groups entries by row stably.
"""

import itertools

import numpy as np

from sessionlib import dtypes, errors
from sessionlib.framework import tensor_bundle, tensor_util
from sessionlib.protos import tensor_pb2
from sessionlib.runtime import string_hashing
from sessionlib.runtime.kernel_table import register_kernel
from sessionlib.runtime.kernels.array_kernels import invalid_argument
from sessionlib.runtime.kernels.sparse_kernels import (_as_index_matrix, _check_values_length,
                                                       _dense_shape_of, _format_index)


def _sparse_input(indices, values, shape_vector, what="input_shape"):
    """Validated (index matrix, values, shape tuple) of one SparseTensor input."""
    shape = _dense_shape_of(shape_vector, what)
    matrix = _as_index_matrix(indices, len(shape))
    _check_values_length(np.asarray(values), len(matrix))
    return matrix, np.asarray(values), shape


def row_major_order(matrix):
    """The stable permutation that sorts the rows of `matrix` lexicographically."""
    if matrix.shape[1] == 0 or len(matrix) < 2:
        return np.arange(len(matrix))
    return np.lexsort(matrix.T[::-1])


def _shape_array(shape):
    return np.asarray(shape, dtype=np.int64).reshape(-1)


# ---- SparseReorder --------------------------------------------------------------------------

def _sparse_reorder_kernel(ctx, inputs, attrs):
    matrix, values, _ = _sparse_input(*inputs)
    order = row_major_order(matrix)
    return (np.ascontiguousarray(matrix[order]), values[order])


# ---- SparseReshape --------------------------------------------------------------------------

def resolved_new_shape(input_shape, requested):
    """The output shape of reshaping `input_shape` to `requested` (which may hold one -1)."""
    requested = [int(d) for d in np.asarray(requested).reshape(-1)]
    total = int(np.prod(input_shape, dtype=np.int64)) if input_shape else 1
    unknown = None
    known_product = 1
    for position, size in enumerate(requested):
        if size == -1:
            if unknown is not None:
                raise invalid_argument(f"only one output dimension may be -1, not both "
                                       f"{unknown} and {position}")
            unknown = position
        elif size < 0:
            raise invalid_argument(f"size {position} must be non-negative, not {size}")
        else:
            known_product *= size
    if unknown is not None:
        if known_product == 0 or total % known_product:
            raise invalid_argument(
                f"Input to reshape is a SparseTensor with {total} dense values, but the "
                f"requested shape requires a multiple of {known_product}. input_shape="
                f"{_format_index(input_shape)} output_shape={_format_index(requested)}")
        requested[unknown] = total // known_product
    elif known_product != total:
        raise invalid_argument(
            f"Input to reshape is a tensor with {total} dense values, but the requested shape "
            f"has {known_product}. input_shape={_format_index(input_shape)} output_shape="
            f"{_format_index(requested)}")
    return tuple(requested)


def _sparse_reshape_kernel(ctx, inputs, attrs):
    indices, shape_vector, new_shape = inputs
    shape = _dense_shape_of(shape_vector, "input_shape")
    matrix = _as_index_matrix(indices, len(shape))
    output_shape = resolved_new_shape(shape, new_shape)
    if not len(matrix):
        return (np.zeros((0, len(output_shape)), np.int64), _shape_array(output_shape))
    flat = np.ravel_multi_index(tuple(matrix.T), shape) if shape else np.zeros(len(matrix),
                                                                              np.int64)
    if output_shape:
        output = np.stack(np.unravel_index(flat, output_shape), axis=1).astype(np.int64)
    else:
        output = np.zeros((len(matrix), 0), np.int64)
    return (output, _shape_array(output_shape))


# ---- SparseConcat ---------------------------------------------------------------------------

def _sparse_concat_kernel(ctx, inputs, attrs):
    count = attrs["N"]
    parts = [_sparse_input(inputs[k], inputs[count + k], inputs[2 * count + k], "shapes")
             for k in range(count)]
    first_shape = parts[0][2]
    rank = len(first_shape)
    if rank == 0:
        raise invalid_argument("Concat of rank-0 SparseTensors is not defined")
    axis = int(attrs["concat_dim"])
    if not -rank <= axis < rank:
        raise invalid_argument(f"Concat dimension must be in range [{-rank}, {rank}), got "
                               f"{axis}")
    axis %= rank
    offset = 0
    matrices, values = [], []
    for position, (matrix, part_values, shape) in enumerate(parts):
        if len(shape) != rank:
            raise invalid_argument(f"Ranks of all input tensors must match: expected {rank} "
                                   f"but got {len(shape)} at position {position}")
        for dim in range(rank):
            if dim != axis and shape[dim] != first_shape[dim]:
                raise invalid_argument(
                    f"Input shapes must match: expected {first_shape[dim]} for dimension "
                    f"{dim} but got {shape[dim]} at position {position}")
        shifted = matrix.copy()
        shifted[:, axis] += offset
        offset += shape[axis]
        matrices.append(shifted)
        values.append(part_values)
    matrix = np.concatenate(matrices)
    all_values = np.concatenate(values)
    order = row_major_order(matrix)
    output_shape = list(first_shape)
    output_shape[axis] = offset
    return (np.ascontiguousarray(matrix[order]), all_values[order], _shape_array(output_shape))


# ---- SparseSlice ----------------------------------------------------------------------------

def _slice_window(shape, start, size):
    start = [int(v) for v in np.asarray(start).reshape(-1)]
    size = [int(v) for v in np.asarray(size).reshape(-1)]
    if len(start) != len(shape) or len(size) != len(shape):
        raise invalid_argument(f"Expected start and size to have {len(shape)} elements, got "
                               f"{len(start)} and {len(size)}")
    return start, size


def _sparse_slice_kernel(ctx, inputs, attrs):
    indices, values, shape_vector, start, size = inputs
    matrix, values, shape = _sparse_input(indices, values, shape_vector, "input_shape")
    start, size = _slice_window(shape, start, size)
    lower = np.asarray(start, np.int64)
    upper = lower + np.asarray(size, np.int64)
    inside = np.all((matrix >= lower) & (matrix < upper), axis=1) if len(shape) else \
        np.ones(len(matrix), bool)
    output_shape = [max(0, min(s + n, d) - s) for s, n, d in zip(start, size, shape)]
    return (np.ascontiguousarray(matrix[inside] - lower), values[inside],
            _shape_array(output_shape))


def _sparse_slice_grad_kernel(ctx, inputs, attrs):
    """Each input entry inside the slice gets the gradient of its output entry, in order."""
    backprop, indices, start, output_indices = inputs
    matrix = np.asarray(indices, np.int64)
    lower = np.asarray(start, np.int64).reshape(-1)
    output = np.asarray(output_indices, np.int64)
    if len(backprop) != len(output):
        raise invalid_argument(f"backprop_val_grad has {len(backprop)} values, but the slice "
                               f"has {len(output)} indices")
    if matrix.ndim != 2 or output.ndim != 2 or not \
            matrix.shape[1] == output.shape[1] == len(lower):
        raise invalid_argument(f"input_indices, input_start and output_indices disagree on the "
                               f"rank: shapes {list(matrix.shape)}, {list(lower.shape)} and "
                               f"{list(output.shape)}")
    grad = np.zeros(len(matrix), dtype=backprop.dtype)
    if not len(output):
        return (grad,)
    # The slice's box holds the bounding box of its outputs, so an input entry inside that
    # bounding box is one of the outputs, and slicing kept their order.
    shifted = matrix - lower
    inside = np.all((shifted >= 0) & (shifted <= output.max(axis=0)), axis=1)
    if inside.sum() != len(output) or not np.array_equal(shifted[inside], output):
        raise invalid_argument("Elements of backprop_val_grad aren't all propagated; the "
                               "output indices are not a slice of the input indices")
    grad[inside] = backprop
    return (grad,)


# ---- SparseSplit ----------------------------------------------------------------------------

def split_sizes(length, count):
    """TF's sizes of `count` pieces of `length`: the first ``length % count`` get one more."""
    base, extra = divmod(length, count)
    return [base + (1 if k < extra else 0) for k in range(count)]


def _sparse_split_kernel(ctx, inputs, attrs):
    split_dim, indices, values, shape_vector = inputs
    matrix, values, shape = _sparse_input(indices, values, shape_vector, "shape")
    count = int(attrs["num_split"])
    rank = len(shape)
    axis = int(np.asarray(split_dim).reshape(-1)[0])
    if not -rank <= axis < rank:
        raise invalid_argument(f"Input split_dim should be between {-rank} and {rank}, got "
                               f"{axis}")
    axis %= rank
    if not 1 <= count <= shape[axis]:
        raise invalid_argument(f"Input num_split should be between 1 and the splitting "
                               f"dimension size ({shape[axis]}), got {count}")
    sizes = split_sizes(shape[axis], count)
    bounds = np.cumsum([0] + sizes)
    out_indices, out_values, out_shapes = [], [], []
    for piece in range(count):
        inside = (matrix[:, axis] >= bounds[piece]) & (matrix[:, axis] < bounds[piece + 1])
        piece_matrix = matrix[inside].copy()
        piece_matrix[:, axis] -= bounds[piece]
        piece_shape = list(shape)
        piece_shape[axis] = sizes[piece]
        out_indices.append(piece_matrix)
        out_values.append(values[inside])
        out_shapes.append(_shape_array(piece_shape))
    return tuple(out_indices + out_values + out_shapes)


# ---- SparseFillEmptyRows --------------------------------------------------------------------

def _sparse_fill_empty_rows_kernel(ctx, inputs, attrs):
    indices, values, shape_vector, default_value = inputs
    matrix, values, shape = _sparse_input(indices, values, shape_vector, "dense_shape")
    if np.ndim(default_value) != 0:
        raise invalid_argument(f"default_value must be a scalar, got shape "
                               f"{list(np.shape(default_value))}")
    if not shape:
        raise invalid_argument("dense_shape must be at least a vector of rank 1")
    rows = shape[0]
    if rows == 0 and len(matrix):
        raise invalid_argument(f"Received SparseTensor with dense_shape[0] = 0 but "
                               f"indices.shape[0] = {len(matrix)}")
    row_ids = matrix[:, 0]
    bad = (row_ids < 0) | (row_ids >= rows)
    if bad.any():
        first = int(np.argmax(bad))
        raise invalid_argument(f"indices({first}, 0) is invalid: {int(row_ids[first])} >= "
                               f"{rows}")
    counts = np.bincount(row_ids, minlength=rows) if rows else np.zeros(0, np.int64)
    empty = counts == 0
    # Each row takes its entries (at least one) in their input order, rows in order.
    per_row = np.maximum(counts, 1)
    row_starts = np.concatenate([[0], np.cumsum(per_row)[:-1]]).astype(np.int64)
    order = np.argsort(row_ids, kind="stable")
    rank_in_row = np.empty(len(matrix), np.int64)
    if len(matrix):
        sorted_rows = row_ids[order]
        first_of_row = np.concatenate([[0], np.cumsum(counts)[:-1]])
        rank_in_row[order] = np.arange(len(matrix)) - first_of_row[sorted_rows]
    reverse_map = (row_starts[row_ids] + rank_in_row) if len(matrix) else \
        np.zeros(0, np.int64)
    total = int(per_row.sum()) if rows else 0
    out_indices = np.zeros((total, len(shape)), np.int64)
    out_values = np.empty(total, dtype=values.dtype)
    out_indices[reverse_map] = matrix
    out_values[reverse_map] = values
    empty_rows = np.flatnonzero(empty)
    out_indices[row_starts[empty_rows], 0] = empty_rows
    out_values[row_starts[empty_rows]] = default_value
    return (out_indices, out_values, empty, reverse_map.astype(np.int64))


def _sparse_fill_empty_rows_grad_kernel(ctx, inputs, attrs):
    reverse_map, grad_values = inputs
    reverse_map = np.asarray(reverse_map, np.int64)
    if len(reverse_map) and (reverse_map.min() < 0 or reverse_map.max() >= len(grad_values)):
        raise invalid_argument("Elements in reverse index must be in [0, "
                               f"{len(grad_values)})")
    d_values = np.asarray(grad_values)[reverse_map]
    filled = np.ones(len(grad_values), bool)
    filled[reverse_map] = False
    d_default = np.asarray(np.sum(np.asarray(grad_values)[filled], dtype=grad_values.dtype))
    return (d_values, d_default)


register_kernel("SparseReorder", reference=_sparse_reorder_kernel)
register_kernel("SparseReshape", reference=_sparse_reshape_kernel)
register_kernel("SparseConcat", reference=_sparse_concat_kernel)
register_kernel("SparseSlice", reference=_sparse_slice_kernel)
register_kernel("SparseSliceGrad", reference=_sparse_slice_grad_kernel)
register_kernel("SparseSplit", reference=_sparse_split_kernel)
register_kernel("SparseFillEmptyRows", reference=_sparse_fill_empty_rows_kernel)
register_kernel("SparseFillEmptyRowsGrad", reference=_sparse_fill_empty_rows_grad_kernel)


# ---- SerializeSparse / SerializeManySparse / DeserializeManySparse --------------------------
#
# Each SparseTensor becomes three serialized TensorProtos (indices, values, dense shape), byte
# for byte what TF writes: numbers as little-endian `tensor_content`, strings as TF's packed
# string list (the varint lengths, then the bytes) so that either library reads the other's.
# The varints are the tensor bundle's (checkpoints use the same encoding).

def _serialize_array(array):
    if array.dtype == object:
        proto = tensor_pb2.TensorProto(dtype=dtypes.string.as_datatype_enum)
        for dim in array.shape:
            proto.tensor_shape.dim.add(size=dim)
        items = [item if isinstance(item, bytes) else str(item).encode()
                 for item in array.reshape(-1)]
        if items:
            lengths = b"".join(tensor_bundle._varint(len(item)) for item in items)
            proto.tensor_content = lengths + b"".join(items)
    else:
        proto = tensor_util.make_tensor_proto(array)
    return proto.SerializeToString()


def _parse_array(serialized, what):
    proto = tensor_pb2.TensorProto()
    try:
        proto.ParseFromString(bytes(serialized))
    except Exception:  # noqa: BLE001 - protobuf's DecodeError has no stable import path
        raise invalid_argument(f"Could not parse {what}") from None
    if proto.dtype == dtypes.string.as_datatype_enum and proto.tensor_content:
        shape = tuple(int(d.size) for d in proto.tensor_shape.dim)
        count = int(np.prod(shape, dtype=np.int64))
        data, position, lengths = proto.tensor_content, 0, []
        for _ in range(count):
            try:
                length, position = tensor_bundle._read_varint(data, position, len(data), what)
            except errors.DataLossError:
                raise invalid_argument(f"Could not parse {what}") from None
            lengths.append(length)
        if position + sum(lengths) != len(data):
            raise invalid_argument(f"Could not parse {what}")
        items = np.empty(count, dtype=object)
        for k, length in enumerate(lengths):
            items[k] = bytes(data[position:position + length])
            position += length
        return dtypes.string, items.reshape(shape)
    try:
        return dtypes.as_dtype(proto.dtype), tensor_util.make_ndarray(proto)
    except (TypeError, ValueError) as err:
        raise invalid_argument(f"Could not parse {what}: {err}") from None


def _serialize_triple(indices, values, shape):
    return np.array([_serialize_array(np.ascontiguousarray(indices, np.int64)),
                     _serialize_array(np.asarray(values)),
                     _serialize_array(np.asarray(shape, np.int64))], dtype=object)


def _serialize_sparse_kernel(ctx, inputs, attrs):
    matrix, values, shape = _sparse_input(*inputs)
    return (_serialize_triple(matrix, values, shape),)


def _serialize_many_sparse_kernel(ctx, inputs, attrs):
    matrix, values, shape = _sparse_input(*inputs)
    if len(shape) < 2:
        raise invalid_argument(f"Rank of input SparseTensor should be > 1, but saw rank: "
                               f"{len(shape)}")
    rows = shape[0]
    bad = (matrix[:, 0] < 0) | (matrix[:, 0] >= rows)
    if bad.any():
        first = int(np.argmax(bad))
        raise invalid_argument(f"indices[{first}] has batch index {int(matrix[first, 0])} "
                               f"outside [0, {rows})")
    out = np.empty((rows, 3), dtype=object)
    for row in range(rows):
        mine = matrix[:, 0] == row
        out[row] = _serialize_triple(matrix[mine, 1:], values[mine], shape[1:])
    return (out,)


def _deserialize_many_sparse_kernel(ctx, inputs, attrs):
    (serialized,) = inputs
    serialized = np.asarray(serialized, dtype=object)
    if serialized.ndim != 2 or serialized.shape[1] != 3:
        raise invalid_argument(f"Serialized sparse should be a matrix of 3 columns, got shape "
                               f"{list(serialized.shape)}")
    wanted = dtypes.as_dtype(attrs["dtype"])
    all_indices, all_values, shapes, rank = [], [], [], None
    for row, (indices_s, values_s, shape_s) in enumerate(serialized):
        _, indices = _parse_array(indices_s, f"serialized_sparse[{row}, 0]")
        dtype, values = _parse_array(values_s, f"serialized_sparse[{row}, 1]")
        _, shape = _parse_array(shape_s, f"serialized_sparse[{row}, 2]")
        if dtype is not wanted:
            raise invalid_argument(f"Requested SparseTensor of type {wanted.name} but "
                                   f"SparseTensor[{row}].values.dtype() == {dtype.name}")
        shape = [int(d) for d in np.asarray(shape).reshape(-1)]
        if rank is None:
            rank = len(shape)
        elif len(shape) != rank:
            raise invalid_argument(
                f"Inconsistent shape across SparseTensors: rank prior to SparseTensor[{row}] "
                f"was: {rank} but rank of SparseTensor[{row}] is: {len(shape)}")
        matrix = _as_index_matrix(indices, rank)
        _check_values_length(values.reshape(-1) if values.ndim else values, len(matrix))
        batch = np.full((len(matrix), 1), row, np.int64)
        all_indices.append(np.concatenate([batch, matrix], axis=1))
        all_values.append(values.reshape(-1))
        shapes.append(shape)
    if not shapes:
        raise invalid_argument("Serialized sparse should have at least one SparseTensor")
    output_shape = [len(shapes)] + [int(d) for d in np.max(np.asarray(shapes, np.int64), 0)]
    values = np.concatenate(all_values)
    if wanted is dtypes.string:
        values = values.astype(object)
    else:
        values = values.astype(wanted.as_numpy_dtype)
    return (np.concatenate(all_indices).astype(np.int64), values, _shape_array(output_shape))


register_kernel("SerializeSparse", reference=_serialize_sparse_kernel)
register_kernel("SerializeManySparse", reference=_serialize_many_sparse_kernel)
register_kernel("DeserializeManySparse", reference=_deserialize_many_sparse_kernel)


# ---- SparseCrossV2 ----------------------------------------------------------------------------

def _feature_text(value):
    return value if isinstance(value, bytes) else str(int(value)).encode()


def _cross_features(inputs, count, dense_inputs, feature):
    """The batch size and, per input (sparse ones first, then dense), per batch row, the list
    of `feature(value)`s of that row; InvalidArgumentError for inconsistent inputs."""
    sparse_parts = [_sparse_input(inputs[k], inputs[count + k], inputs[2 * count + k], "shapes")
                    for k in range(count)]
    dense_inputs = [np.asarray(d) for d in dense_inputs]
    batch = None
    for position, (matrix, _, shape) in enumerate(sparse_parts):
        if len(shape) != 2:
            raise invalid_argument(f"Expected SparseTensor of rank 2, got rank {len(shape)} at "
                                   f"position {position}")
        if batch is not None and shape[0] != batch:
            raise invalid_argument(f"Expected batch size {batch} got {shape[0]} at sparse "
                                   f"tensor {position}")
        batch = shape[0]
    for position, dense in enumerate(dense_inputs):
        if dense.ndim != 2:
            raise invalid_argument(f"Dense inputs should be a matrix but received shape "
                                   f"{list(dense.shape)} at position {position}")
        if batch is not None and dense.shape[0] != batch:
            raise invalid_argument(f"Expected batch size {batch} got {dense.shape[0]} at dense "
                                   f"tensor {position}")
        batch = dense.shape[0]
    batch = batch or 0
    features = [[[] for _ in range(batch)] for _ in sparse_parts]
    for part, (matrix, values, _) in zip(features, sparse_parts):
        for row, value in zip(matrix[:, 0].tolist(), values):
            if not 0 <= row < batch:
                raise invalid_argument(f"Sparse batch index {row} is out of [0, {batch})")
            part[row].append(feature(value))
    for dense in dense_inputs:
        features.append([[feature(v) for v in dense[row]] for row in range(batch)])
    return batch, features


def _crosses_output(batch, features, combine, values_dtype):
    """Each row's cartesian product of its features (the last input varies fastest), each
    combination reduced by `combine`, as a SparseTensor's (indices, values, shape)."""
    out_indices, out_values, width = [], [], 0
    for row in range(batch):
        crosses = [combine(combo) for combo in
                   itertools.product(*(part[row] for part in features))] if features else []
        out_indices.extend([row, k] for k in range(len(crosses)))
        out_values.extend(crosses)
        width = max(width, len(crosses))
    values = np.empty(len(out_values), dtype=values_dtype)
    values[:] = out_values
    return (np.array(out_indices, np.int64).reshape(-1, 2), values,
            np.array([batch, width], np.int64))


def _sparse_cross_kernel(ctx, inputs, attrs):
    """Each batch row's crosses of its features (sparse inputs first, then dense), joined by
    the separator."""
    count = int(attrs["N"])
    separator = _feature_text(np.asarray(inputs[-1]).reshape(()).item())
    batch, features = _cross_features(inputs, count, inputs[3 * count:-1], _feature_text)
    return _crosses_output(batch, features, separator.join, object)


_MASK64 = (1 << 64) - 1
_CAT_MUL = 0xC6A4A7935BD1E995


def _shift_mix(value):
    return value ^ (value >> 47)


def _fingerprint_cat64(first, second):
    """TF's ``FingerprintCat64``: combines two 64-bit fingerprints, order-dependently."""
    result = first ^ _CAT_MUL
    result ^= (_shift_mix((second * _CAT_MUL) & _MASK64) * _CAT_MUL) & _MASK64
    result = (result * _CAT_MUL) & _MASK64
    result = (_shift_mix(result) * _CAT_MUL) & _MASK64
    return _shift_mix(result)


def _feature_hash(value):
    """A feature's 64-bit hash in TF's hashed crosses: an int64 is its own hash (as an
    unsigned 64-bit word), a string its FarmHash Fingerprint64."""
    if isinstance(value, bytes):
        return string_hashing.fingerprint64(value)
    return int(value) & _MASK64


def _hashed_cross(hash_key, num_buckets):
    modulus = num_buckets if num_buckets > 0 else (1 << 63) - 1

    def combine(hashes):
        hashed = hash_key & _MASK64
        for feature_hash in hashes:
            hashed = _fingerprint_cat64(hashed, feature_hash)
        return hashed % modulus

    return combine


def _sparse_cross_v1_kernel(ctx, inputs, attrs):
    """``SparseCross``: the crosses joined by ``"_X_"``, or, with `hashed_output`, the
    fingerprint of each combination modulo `num_buckets`."""
    count = int(attrs["N"])
    if not attrs.get("hashed_output", False):
        batch, features = _cross_features(inputs, count, inputs[3 * count:], _feature_text)
        return _crosses_output(batch, features, b"_X_".join, object)
    batch, features = _cross_features(inputs, count, inputs[3 * count:], _feature_hash)
    combine = _hashed_cross(int(attrs.get("hash_key", 0)), int(attrs.get("num_buckets", 0)))
    return _crosses_output(batch, features, combine, np.int64)


register_kernel("SparseCrossV2", reference=_sparse_cross_kernel)
register_kernel("SparseCross", reference=_sparse_cross_v1_kernel)
