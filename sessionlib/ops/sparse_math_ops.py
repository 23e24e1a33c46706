"""Arithmetic on `SparseTensor`s: sparse-dense matmul (``SparseTensorDenseMatMul``), ``sp * dense``
and ``sp / dense`` (``SparseDenseCwiseMul``/``Div``), TF 1's ``SparseMatMul``, max and
sum reductions with dense or sparse results (``SparseReduceMax``, ``SparseReduceMaxSparse``,
``SparseReduceSumSparse``), ``SparseSoftmax``, ``SparseSparseMaximum``/``Minimum``, and the
sparse segment reductions (``SparseSegmentSum``/``Mean``/``SqrtN`` and their
``WithNumSegments`` forms).

Gradients are TF's, built from ops that have gradients themselves: matmul's goes to the values
and the dense operand, softmax's to the values, a segment reduction's to the data; TF
registers none for the max reductions (and only a NotImplementedError for elementwise
max/min), so those are not differentiable. Kernels: ``runtime/kernels/sparse_math_kernels.py``.
"""

import numpy as np

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework import registry, tensor_util
from sessionlib.framework.sparse_tensor import SparseTensor, convert_to_sparse_tensor
from sessionlib.framework.tensor_shape import TensorShape
from sessionlib.ops import _infer, array_ops, math_ops
from sessionlib.ops.sparse_ops import (_gather_at, _static_dense_shape,
                                       reduction_args, sparse_reduce_sum, sparse_reduce_sum_infer,
                                       sparse_reduction)

__all__ = ["sparse_tensor_dense_matmul", "sparse_matmul", "sparse_dense_cwise_mul",
           "sparse_dense_cwise_div", "sparse_reduce_max", "sparse_reduce_max_sparse",
           "sparse_reduce_sum_sparse", "sparse_softmax", "sparse_maximum", "sparse_minimum",
           "sparse_segment_sum", "sparse_segment_mean", "sparse_segment_sqrt_n"]


# ---- SparseTensorDenseMatMul ----------------------------------------------------------------

def _matmul_infer(inputs, attrs):
    indices, values, shape, dense = inputs
    if values.dtype is not dense.dtype:
        raise TypeError(f"SparseTensorDenseMatMul operands must have one dtype, got "
                        f"{values.dtype.name} and {dense.dtype.name}")
    _infer.check_index_dtype("SparseTensorDenseMatMul", indices, "a_indices")
    attrs["T"] = dense.dtype
    attrs["Tindices"] = indices.dtype
    adjoint_a = bool(attrs.setdefault("adjoint_a", False))
    adjoint_b = bool(attrs.setdefault("adjoint_b", False))
    if dense.shape.rank not in (None, 2):
        raise ValueError(f"Shape must be rank 2 but is rank {dense.shape.rank} for "
                         "'SparseTensorDenseMatMul' (b)")
    if shape.shape.rank == 1 and shape.shape[0] not in (None, 2):
        raise ValueError(f"Dimension must be 2 but is {shape.shape[0]} for "
                         "'SparseTensorDenseMatMul' (a_shape)")
    a_dims = _static_dense_shape(shape)
    a_dims = a_dims.as_list() if a_dims.rank == 2 else [None, None]
    if adjoint_a:
        a_dims = a_dims[::-1]
    b_dims = dense.shape.as_list() if dense.shape.rank == 2 else [None, None]
    if adjoint_b:
        b_dims = b_dims[::-1]
    if None not in (a_dims[1], b_dims[0]) and a_dims[1] != b_dims[0]:
        raise ValueError(f"Dimensions must be equal, but are {a_dims[1]} and {b_dims[0]} for "
                         f"'SparseTensorDenseMatMul' with input shapes: {indices.shape}, "
                         f"{values.shape}, {shape.shape}, {dense.shape}")
    return [(dense.dtype, TensorShape([a_dims[0], b_dims[1]]))]


def _matmul_grad(op, grad):
    # C = op(A) op(B). For a value A[i, j], with op(B)'s rows Bo: dA[i, j] = <G[i], Bo[j]>
    # (or <G[j], Bo[i]> with adjoint_a); dB = op(A)^H G, adjointed back when adjoint_b.
    indices, values, shape, dense = op.inputs
    adjoint_a, adjoint_b = op.get_attr("adjoint_a"), op.get_attr("adjoint_b")
    graph = op.graph
    grad_b = graph.create_op("SparseTensorDenseMatMul", [indices, values, shape, grad],
                             {"adjoint_a": not adjoint_a}).outputs[0]
    if adjoint_b:
        grad_b = _adjoint(grad_b)
    rows = array_ops.gather(indices, 0, axis=1)
    columns = array_ops.gather(indices, 1, axis=1)
    if adjoint_a:
        rows, columns = columns, rows
    b_rows = _adjoint(dense) if adjoint_b else dense
    parts = math_ops.multiply(array_ops.gather(grad, rows), array_ops.gather(b_rows, columns))
    grad_values = math_ops.reduce_sum(parts, axis=1)
    return [None, grad_values, None, grad_b]


def _adjoint(matrix):
    # sessionlib has no complex dtypes, so the adjoint is the transpose.
    return array_ops.transpose(matrix)


registry.register_op("SparseTensorDenseMatMul", infer=_matmul_infer, num_inputs=4,
                     gradient=_matmul_grad,
                     doc="The product of a sparse matrix and a dense matrix, dense.")


def sparse_tensor_dense_matmul(sp_a, b, adjoint_a=False, adjoint_b=False, name=None):
    """The dense product of the sparse matrix `sp_a` and the dense matrix `b`
    (``tf.sparse.sparse_dense_matmul``; op ``SparseTensorDenseMatMul``).

    Args:
      sp_a: a rank-2 `SparseTensor` (or `SparseTensorValue`).
      b: a dense matrix of its dtype.
      adjoint_a: use the (conjugate) transpose of `sp_a`.
      adjoint_b: use the (conjugate) transpose of `b`.
      name: a name scope.

    Returns:
      A dense matrix: ``op(sp_a) @ op(b)``. Repeated indices of `sp_a` add up.

    Raises:
      ValueError: if the static inner dimensions differ.
      InvalidArgumentError: (at run time) for indices out of bounds or inner dimensions that
        differ.
    """
    sp_a = convert_to_sparse_tensor(sp_a)
    graph = sp_a.graph
    with graph.as_default(), graph.name_scope(name or "SparseTensorDenseMatMul"):
        dense = graph_lib.convert_to_tensor(b, name="b", dtype=sp_a.dtype)
        op = graph.create_op("SparseTensorDenseMatMul",
                             [sp_a.indices, sp_a.values, sp_a.dense_shape, dense],
                             {"adjoint_a": bool(adjoint_a), "adjoint_b": bool(adjoint_b)},
                             name="SparseTensorDenseMatMul")
    result = op.outputs[0]
    if sp_a.shape.rank == 2:
        result.set_shape([sp_a.shape[1 if adjoint_a else 0], None])
    return result


# ---- SparseMatMul -------------------------------------------------------------------------
#
# TF 1's `tf.sparse_matmul`: a dense float32 matmul whose `*_is_sparse` attrs only hint that an
# operand has many zeros (TF picks a kernel by them; the product is the same).

def _sparse_matmul_infer(inputs, attrs):
    a, b = inputs
    for tensor, what in ((a, "a"), (b, "b")):
        if tensor.dtype is not dtypes.float32:
            raise TypeError(f"Value passed to parameter '{what}' has DataType "
                            f"{tensor.dtype.name} not in list of allowed values: float32")
        if tensor.shape.rank not in (None, 2):
            raise ValueError(f"Shape must be rank 2 but is rank {tensor.shape.rank} for "
                             f"'SparseMatMul' ({what})")
    attrs["Ta"], attrs["Tb"] = a.dtype, b.dtype
    for name in ("transpose_a", "transpose_b", "a_is_sparse", "b_is_sparse"):
        attrs.setdefault(name, False)
    a_dims = a.shape.as_list() if a.shape.rank == 2 else [None, None]
    b_dims = b.shape.as_list() if b.shape.rank == 2 else [None, None]
    if attrs["transpose_a"]:
        a_dims = a_dims[::-1]
    if attrs["transpose_b"]:
        b_dims = b_dims[::-1]
    if None not in (a_dims[1], b_dims[0]) and a_dims[1] != b_dims[0]:
        raise ValueError(f"Dimensions must be equal, but are {a_dims[1]} and {b_dims[0]} for "
                         f"'SparseMatMul' with input shapes: {a.shape}, {b.shape}")
    return [(dtypes.float32, TensorShape([a_dims[0], b_dims[1]]))]


def _sparse_matmul_grad(op, grad):
    a, b = op.inputs
    t_a, t_b = op.get_attr("transpose_a"), op.get_attr("transpose_b")
    matmul = math_ops.matmul
    if not t_a and not t_b:
        return [matmul(grad, b, transpose_b=True), matmul(a, grad, transpose_a=True)]
    if not t_a:
        return [matmul(grad, b), matmul(grad, a, transpose_a=True)]
    if not t_b:
        return [matmul(b, grad, transpose_b=True), matmul(a, grad)]
    return [matmul(b, grad, transpose_a=True, transpose_b=True),
            matmul(grad, a, transpose_a=True, transpose_b=True)]


registry.register_op("SparseMatMul", infer=_sparse_matmul_infer, num_inputs=2,
                     gradient=_sparse_matmul_grad,
                     doc="A float32 matmul with hints that an operand is mostly zeros.")


def sparse_matmul(a, b, transpose_a=False, transpose_b=False, a_is_sparse=False,
                  b_is_sparse=False, name=None):
    """The float32 product ``op(a) @ op(b)`` of two dense matrices, `*_is_sparse` hinting
    that an operand is mostly zeros (TF 1's ``tf.sparse_matmul``; op ``SparseMatMul``).

    Args:
      a, b: float32 matrices.
      transpose_a, transpose_b: use the operand's transpose.
      a_is_sparse, b_is_sparse: hints, kept as the op's attrs; the product is the same.
      name: the op name.

    Returns:
      A float32 matrix.

    Raises:
      TypeError: for a dtype other than float32.
      ValueError: if the static inner dimensions differ.
    """
    graph = next((value.graph for value in (a, b) if isinstance(value, graph_lib.Tensor)),
                 graph_lib.get_default_graph())
    with graph.as_default():
        a = graph_lib.convert_to_tensor(a, name="a")
        b = graph_lib.convert_to_tensor(b, name="b")
        return graph.create_op(
            "SparseMatMul", [a, b],
            {"transpose_a": bool(transpose_a), "transpose_b": bool(transpose_b),
             "a_is_sparse": bool(a_is_sparse), "b_is_sparse": bool(b_is_sparse)},
            name=name or "SparseMatMul").outputs[0]


# ---- SparseDenseCwiseMul / Div: `sp * dense`, `sp / dense` -----------------------------------

def _cwise_infer(op_type):
    def infer(inputs, attrs):
        indices, values, shape, dense = inputs
        if values.dtype is not dense.dtype:
            raise TypeError(f"{op_type} operands must have one dtype, got {values.dtype.name} "
                            f"and {dense.dtype.name}")
        _infer.check_dtype(op_type, values, dtypes.NUMERIC_DTYPES, "sp_values")
        attrs["T"] = values.dtype
        return [(values.dtype, values.shape)]

    return infer


def _cwise_grad(dividing):
    def gradient(op, grad):
        # The dense operand, broadcast to the sparse shape, read at each index; its gradient
        # is the values' contributions scattered to the sparse shape and summed back.
        from sessionlib.ops import _grad_util

        indices, values, shape, dense = op.inputs
        graph = op.graph
        broadcast = math_ops.add(dense, array_ops.zeros(shape, dtype=dense.dtype))
        dense_at = _gather_at(broadcast, indices, shape)
        if dividing:
            values_grad = math_ops.divide(grad, dense_at)
            contribution = math_ops.negative(math_ops.divide(
                math_ops.multiply(grad, values), math_ops.multiply(dense_at, dense_at)))
        else:
            values_grad = math_ops.multiply(grad, dense_at)
            contribution = math_ops.multiply(grad, values)
        zero = array_ops.zeros([], dtype=contribution.dtype)
        scattered = graph.create_op("SparseToDense", [indices, shape, contribution, zero],
                                    {"validate_indices": False}).outputs[0]
        return [None, values_grad, None,
                _grad_util.reduce_to_input(scattered, dense, scattered)]

    return gradient


registry.register_op("SparseDenseCwiseMul", infer=_cwise_infer("SparseDenseCwiseMul"),
                     num_inputs=4, gradient=_cwise_grad(False),
                     doc="A SparseTensor's values times a dense tensor broadcast to it.")
registry.register_op("SparseDenseCwiseDiv", infer=_cwise_infer("SparseDenseCwiseDiv"),
                     num_inputs=4, gradient=_cwise_grad(True),
                     doc="A SparseTensor's values divided by a dense tensor broadcast to it.")


def _cwise(op_type, sp_input, dense, name):
    graph = sp_input.graph
    with graph.as_default():
        dense = graph_lib.convert_to_tensor(
            dense if isinstance(dense, graph_lib.Tensor)
            else tensor_util.to_numpy(dense, sp_input.dtype), dtype=sp_input.dtype, name="y")
        op = graph.create_op(op_type, [sp_input.indices, sp_input.values,
                                       sp_input.dense_shape, dense], name=name or op_type)
    result = SparseTensor(sp_input.indices, op.outputs[0], sp_input.dense_shape)
    result.set_shape(sp_input.shape)
    return result


def sparse_dense_cwise_mul(sp_input, dense, name=None):
    """`sp_input` times `dense` broadcast to its shape, at its entries (``sp * dense``; op
    ``SparseDenseCwiseMul``).

    Args:
      sp_input: a `SparseTensor`.
      dense: a Tensor of its dtype whose shape broadcasts to the dense shape (a scalar, a row,
        ...); only the dense operand broadcasts.
      name: the op name.

    Returns:
      A `SparseTensor` with `sp_input`'s indices.

    Raises:
      TypeError: for operands of different dtypes.
      InvalidArgumentError: (at run time) if `dense` does not broadcast to the dense shape.
    """
    return _cwise("SparseDenseCwiseMul", sp_input, dense, name)


def sparse_dense_cwise_div(sp_input, dense, name=None):
    """`sp_input` divided by `dense` broadcast to its shape, at its entries (op
    ``SparseDenseCwiseDiv``; see `sparse_dense_cwise_mul`)."""
    return _cwise("SparseDenseCwiseDiv", sp_input, dense, name)


def _sparse_truediv(sp_input, dense):
    # As TF's `/`: integer values divide as floats (float64 for int32/int64, float32 below).
    dtype = sp_input.dtype
    if dtype.is_integer:
        target = dtypes.float64 if dtype in (dtypes.int32, dtypes.int64) else dtypes.float32
        graph = sp_input.graph
        with graph.as_default():
            sp_input = SparseTensor(sp_input.indices, math_ops.cast(sp_input.values, target),
                                    sp_input.dense_shape)
            dense = math_ops.cast(graph_lib.convert_to_tensor(dense, dtype=dtype), target)
    return sparse_dense_cwise_div(sp_input, dense)


# `sp * dense` and `sp / dense` as in TF, which sets these operators from its op library too.
SparseTensor.__mul__ = lambda self, other: sparse_dense_cwise_mul(self, other)
SparseTensor.__truediv__ = _sparse_truediv
SparseTensor.__div__ = lambda self, other: sparse_dense_cwise_div(self, other)


# ---- reductions -------------------------------------------------------------------------------

def _dense_reduction_infer(inputs, attrs):
    _infer.check_dtype("SparseReduceMax", inputs[1], dtypes.NUMERIC_DTYPES, "input_values")
    return sparse_reduce_sum_infer(inputs, attrs)


def _sparse_reduction_infer(inputs, attrs):
    (dtype, static), = sparse_reduce_sum_infer(inputs, attrs)
    return [(dtypes.int64, TensorShape([None, static.rank])), (dtype, TensorShape([None])),
            (dtypes.int64, TensorShape([static.rank]))]


registry.register_op("SparseReduceMax", infer=_dense_reduction_infer, num_inputs=4,
                     gradient=registry.NOT_DIFFERENTIABLE,
                     doc="The maximum of a SparseTensor's entries along some axes, dense.")
registry.register_op("SparseReduceMaxSparse", infer=_sparse_reduction_infer, num_inputs=4,
                     gradient=registry.NOT_DIFFERENTIABLE,
                     doc="The maximum of a SparseTensor's entries along some axes, sparse.")
registry.register_op("SparseReduceSumSparse", infer=_sparse_reduction_infer, num_inputs=4,
                     gradient=registry.NOT_DIFFERENTIABLE,
                     doc="The sum of a SparseTensor's entries along some axes, sparse.")


def sparse_reduce_max(sp_input, axis=None, keepdims=None, reduction_axes=None,
                      keep_dims=None, name=None):
    """Like ``tf.sparse.reduce_sum`` (same arguments, a dense result), but the maximum
    (``tf.sparse.reduce_max``).

    Only the present entries count (not the implicit zeros); a position with no entries to
    reduce is 0.
    """
    axis, keepdims = reduction_args(axis, keepdims, reduction_axes, keep_dims)
    return sparse_reduction("SparseReduceMax", sp_input, axis, keepdims, name)


def sparse_reduce_max_sparse(sp_input, axis=None, keepdims=None, reduction_axes=None,
                             keep_dims=None, name=None):
    """Like `sparse_reduce_max`, but a `SparseTensor` of the positions that had entries
    (``tf.sparse.reduce_max_sparse``; same arguments)."""
    axis, keepdims = reduction_args(axis, keepdims, reduction_axes, keep_dims)
    return sparse_reduction("SparseReduceMaxSparse", sp_input, axis, keepdims, name)


def sparse_reduce_sum_sparse(sp_input, axis=None, keepdims=None, reduction_axes=None,
                             keep_dims=None, name=None):
    """Like ``tf.sparse.reduce_sum``, but a `SparseTensor` of the positions that had entries
    (``tf.sparse.reduce_sum_sparse``; same arguments)."""
    axis, keepdims = reduction_args(axis, keepdims, reduction_axes, keep_dims)
    return sparse_reduction("SparseReduceSumSparse", sp_input, axis, keepdims, name)


# ---- SparseSoftmax ----------------------------------------------------------------------------

def _softmax_infer(inputs, attrs):
    indices, values, shape = inputs
    _infer.check_dtype("SparseSoftmax", values, (dtypes.float16, dtypes.float32,
                                                 dtypes.float64), "sp_values")
    attrs["T"] = values.dtype
    return [(values.dtype, values.shape)]


def _softmax_grad(op, grad):
    # As a dense softmax's: (g - sum_row(g * y)) * y, the sum over each row's present entries.
    indices, _, shape = op.inputs
    output = op.outputs[0]
    product = SparseTensor(indices, math_ops.multiply(output, grad), shape)
    row_sums = sparse_reduce_sum(product, axis=[-1], keepdims=True)
    rank = indices.shape[1] if indices.shape.rank == 2 else None
    if rank is None:
        raise NotImplementedError("The gradient of sparse_softmax needs a known rank")
    shape64 = math_ops.cast(shape, dtypes.int64)
    row_shape = array_ops.concat([shape64[:-1], array_ops.constant([1], dtypes.int64)], 0)
    row_coordinates = array_ops.concat(
        [indices[:, :-1], array_ops.zeros_like(indices[:, -1:])], 1)
    per_entry = _gather_at(row_sums, row_coordinates, row_shape)
    return [None, math_ops.multiply(math_ops.subtract(grad, per_entry), output), None]


registry.register_op("SparseSoftmax", infer=_softmax_infer, num_inputs=3,
                     gradient=_softmax_grad,
                     doc="The softmax of each innermost row of a SparseTensor's entries.")


def sparse_softmax(sp_input, name=None):
    """The softmax of each innermost row of `sp_input`, over its present entries only
    (``tf.sparse.softmax``).

    Args:
      sp_input: a float `SparseTensor` of rank >= 2, in row-major order.
      name: the op name.

    Returns:
      A `SparseTensor` with the same indices and the softmax values.

    Raises:
      InvalidArgumentError: (at run time) for rank < 2.
    """
    sp_input = convert_to_sparse_tensor(sp_input)
    graph = sp_input.graph
    with graph.as_default(), graph.name_scope(name or "SparseSoftmax"):
        op = graph.create_op("SparseSoftmax", [sp_input.indices, sp_input.values,
                                               sp_input.dense_shape], name="SparseSoftmax")
    result = SparseTensor(sp_input.indices, op.outputs[0], sp_input.dense_shape)
    result.set_shape(sp_input.shape)
    return result


# ---- SparseSparseMaximum / Minimum -----------------------------------------------------------

def _elementwise_infer(op_type):
    def infer(inputs, attrs):
        a_indices, a_values, a_shape, b_indices, b_values, b_shape = inputs
        if a_values.dtype is not b_values.dtype:
            raise TypeError(f"{op_type} operands must have one dtype, got "
                            f"{a_values.dtype.name} and {b_values.dtype.name}")
        _infer.check_dtype(op_type, a_values, dtypes.NUMERIC_DTYPES, "a_values")
        attrs["T"] = a_values.dtype
        rank = a_shape.shape[0] if a_shape.shape.rank == 1 else None
        return [(dtypes.int64, TensorShape([None, rank])),
                (a_values.dtype, TensorShape([None]))]

    return infer


for _op_type in ("SparseSparseMaximum", "SparseSparseMinimum"):
    registry.register_op(_op_type, infer=_elementwise_infer(_op_type), num_inputs=6,
                         gradient=registry.NOT_DIFFERENTIABLE,
                         doc="The elementwise extreme of two SparseTensors (absent = 0).")


def _elementwise(op_type, sp_a, sp_b, name):
    sp_a, sp_b = convert_to_sparse_tensor(sp_a), convert_to_sparse_tensor(sp_b)
    graph = sp_a.graph
    with graph.as_default(), graph.name_scope(name or op_type):
        op = graph.create_op(op_type, [sp_a.indices, sp_a.values, sp_a.dense_shape,
                                       sp_b.indices, sp_b.values, sp_b.dense_shape],
                             name=op_type)
    result = SparseTensor(op.outputs[0], op.outputs[1], sp_a.dense_shape)
    # Shapes that differ are a run-time error, as in TF.
    if sp_a.shape.is_compatible_with(sp_b.shape):
        result.set_shape(sp_a.shape.merge_with(sp_b.shape))
    return result


def sparse_maximum(sp_a, sp_b, name=None):
    """The elementwise maximum of two SparseTensors of one shape, absent entries being 0
    (``tf.sparse.maximum``).

    Args:
      sp_a, sp_b: `SparseTensor`s of one dtype and dense shape, in row-major order.
      name: a name scope.

    Returns:
      A `SparseTensor` with an entry at every index present in either operand.

    Raises:
      TypeError: for operands of different dtypes.
      InvalidArgumentError: (at run time) for different dense shapes.
    """
    return _elementwise("SparseSparseMaximum", sp_a, sp_b, name)


def sparse_minimum(sp_a, sp_b, name=None):
    """The elementwise minimum of two SparseTensors of one shape, absent entries being 0
    (``tf.sparse.minimum``; see `sparse_maximum`)."""
    return _elementwise("SparseSparseMinimum", sp_a, sp_b, name)


# ---- SparseSegmentSum / Mean / SqrtN ---------------------------------------------------------

def _segment_infer(op_type, with_num_segments):
    def infer(inputs, attrs):
        data, indices, segment_ids = inputs[:3]
        allowed = dtypes.NUMERIC_DTYPES if op_type.startswith("SparseSegmentSum") \
            else dtypes.FLOAT_DTYPES
        _infer.check_dtype(op_type, data, allowed, "data")
        _infer.check_index_dtype(op_type, indices, "indices")
        _infer.check_index_dtype(op_type, segment_ids, "segment_ids")
        attrs["T"] = data.dtype
        attrs["Tidx"] = indices.dtype
        attrs["Tsegmentids"] = segment_ids.dtype
        for tensor, what in ((indices, "indices"), (segment_ids, "segment_ids")):
            if tensor.shape.rank not in (None, 1):
                raise ValueError(f"Shape must be rank 1 but is rank {tensor.shape.rank} for "
                                 f"'{op_type}' ({what})")
        if data.shape.rank == 0:
            raise ValueError(f"Shape must be at least rank 1 but is rank 0 for '{op_type}'")
        rows = None
        if with_num_segments:
            num_segments = inputs[3]
            _infer.check_index_dtype(op_type, num_segments, "num_segments")
            attrs["Tnumsegments"] = num_segments.dtype
            value = _infer.folded_value(num_segments)
            rows = None if value is None else int(np.asarray(value).reshape(-1)[0])
        if data.shape.rank is None:
            return [(data.dtype, TensorShape(None))]
        return [(data.dtype, TensorShape([rows] + data.shape.as_list()[1:]))]

    return infer


def _segment_grad(kind, with_num_segments):
    def gradient(op, grad):
        data, indices, segment_ids = op.inputs[:3]
        ids = math_ops.cast(segment_ids, dtypes.int32)
        rows = array_ops.gather(grad, ids)
        if kind != "sum":
            count = array_ops.shape(grad)[0]
            sizes = math_ops.unsorted_segment_sum(
                array_ops.ones_like(ids, dtype=grad.dtype), ids, count)
            if kind == "sqrt_n":
                sizes = math_ops.sqrt(sizes)
            scale = array_ops.gather(math_ops.maximum(sizes, array_ops.ones_like(sizes)), ids)
            rank = grad.shape.rank
            if rank is None:
                raise NotImplementedError(f"The gradient of {op.type} needs a known rank")
            scale = array_ops.reshape(scale, [-1] + [1] * (rank - 1))
            rows = math_ops.divide(rows, scale)
        data_rows = array_ops.shape(data)[0]
        data_grad = math_ops.unsorted_segment_sum(rows, math_ops.cast(indices, dtypes.int32),
                                                  data_rows)
        return [data_grad, None, None] + ([None] if with_num_segments else [])

    return gradient


for _kind, _op_type in (("sum", "SparseSegmentSum"), ("mean", "SparseSegmentMean"),
                        ("sqrt_n", "SparseSegmentSqrtN")):
    registry.register_op(_op_type, infer=_segment_infer(_op_type, False), num_inputs=3,
                         gradient=_segment_grad(_kind, False),
                         doc="A reduction of gathered data rows by sorted segment ids.")
    registry.register_op(_op_type + "WithNumSegments",
                         infer=_segment_infer(_op_type + "WithNumSegments", True), num_inputs=4,
                         gradient=_segment_grad(_kind, True),
                         doc="A reduction of gathered data rows into num_segments segments.")


def _segment(op_type, data, indices, segment_ids, name, num_segments):
    graph = next((value.graph for value in (data, indices, segment_ids, num_segments)
                  if isinstance(value, graph_lib.Tensor)), graph_lib.get_default_graph())
    with graph.as_default():
        data = graph_lib.convert_to_tensor(data, name="data")
        indices = graph_lib.convert_to_tensor(indices, name="indices")
        segment_ids = graph_lib.convert_to_tensor(segment_ids, name="segment_ids")
        inputs = [data, indices, segment_ids]
        if num_segments is not None:
            op_type += "WithNumSegments"
            inputs.append(graph_lib.convert_to_tensor(num_segments, name="num_segments"))
        return graph.create_op(op_type, inputs, name=name or op_type).outputs[0]


def _segment_wrapper(op_type, public_name, what):
    def wrapper(data, indices, segment_ids, name=None, num_segments=None,
                sparse_gradient=False):
        return _segment(op_type, data, indices, segment_ids, name, num_segments)

    wrapper.__name__ = public_name
    wrapper.__doc__ = f"""{what} of the rows ``data[indices]`` grouped by `segment_ids`
    (``tf.sparse.{public_name.replace('sparse_', '')}``; op ``{op_type}``, or
    ``{op_type}WithNumSegments`` with `num_segments`).

    Args:
      data: a Tensor of rank >= 1.
      indices: a 1-D int32/int64 Tensor of rows of `data`.
      segment_ids: a sorted 1-D int32/int64 Tensor, one id per entry of `indices`.
      name: the op name.
      num_segments: the number of output rows; default: the last id + 1.
      sparse_gradient: accepted for TF's signature; the gradient is always dense here.

    Returns:
      A Tensor of shape ``[segments] + data.shape[1:]``; segments without rows are 0.

    Raises:
      TypeError: for unsupported dtypes.
      InvalidArgumentError: (at run time) for unsorted ids or indices out of range.
    """
    return wrapper


sparse_segment_sum = _segment_wrapper("SparseSegmentSum", "sparse_segment_sum", "The sums")
sparse_segment_mean = _segment_wrapper("SparseSegmentMean", "sparse_segment_mean",
                                       "The means")
sparse_segment_sqrt_n = _segment_wrapper("SparseSegmentSqrtN", "sparse_segment_sqrt_n",
                                         "The sums divided by the square root of the count")
