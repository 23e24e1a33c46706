"""Sparse ops: `sparse_placeholder`, densifying, addition and sum reduction of `SparseTensor`s.

Each op is one `register_op` call plus its public wrapper, with TF's op types and inputs
(``SparseToDense``, ``SparseAdd``, ``SparseTensorDenseAdd``, ``SparseReduceSum``), so that
``as_graph_def()`` reads like TF's. A `SparseTensor` is three tensors; the ops take them as
three separate inputs. The registrations name their kernels; the kernel table binds the names
to the kernels of the sparse family (``kernels/sparse_kernels.py``).
"""

import numpy as np

from sessionlib import dtypes, errors
from sessionlib.framework import graph as graph_lib
from sessionlib.framework import indexing, registry, tensor_util
from sessionlib.framework.sparse_tensor import (SparseTensor, SparseTensorValue,
                                                convert_to_sparse_tensor)
from sessionlib.framework.tensor_shape import TensorShape, as_shape
from sessionlib.ops import array_ops

__all__ = ["sparse_placeholder", "sparse_tensor_to_dense", "sparse_to_dense", "sparse_add",
           "sparse_reduce_sum", "SparseTensor", "SparseTensorValue"]


# ---- helpers ------------------------------------------------------------------------------

def _static_dense_shape(shape_tensor):
    """The static shape described by a shape-vector tensor (its value when it is constant)."""
    value = tensor_util.constant_value(shape_tensor)
    if value is not None:
        return TensorShape([None if int(d) < 0 else int(d) for d in value.reshape(-1)])
    vector = shape_tensor.shape
    if vector.rank == 1 and vector[0] is not None:
        return TensorShape([None] * vector[0])
    return TensorShape(None)



# ---- gradient helpers -----------------------------------------------------------------------
#
# The gradients of the values of a SparseTensor are the dense gradient read at its indices
# (TF's gather_nd), built here from ops that have gradients themselves: the indices become
# row-major linear positions, which gather from the flattened dense gradient.

def _gather_at(dense, indices, dense_shape):
    """`dense[indices[k]]` for each row k of the [nnz, rank] int `indices` (of `dense_shape`)."""
    from sessionlib.ops import math_ops

    if indices.shape.rank in (0, 1):
        return array_ops.gather(dense, indices)
    rank = indices.shape[1] if indices.shape.rank == 2 else None
    if rank is None:
        raise NotImplementedError("Sparse gradients need indices of a known rank")
    shape64 = math_ops.cast(dense_shape, dtypes.int64)
    strides = array_ops.stack([math_ops.reduce_prod(shape64[i + 1:]) for i in range(rank)])
    linear = math_ops.reduce_sum(math_ops.multiply(math_ops.cast(indices, dtypes.int64),
                                                   strides), 1)
    return array_ops.gather(array_ops.reshape(dense, [-1]), linear)


def _attr_or(op, name, default):
    try:
        return op.get_attr(name)
    except ValueError:
        return default


def _sparse_to_dense_grad(op, grad):
    indices, output_shape, _, _ = op.inputs
    return [None, None, _gather_at(grad, indices, output_shape), None]


def _sparse_dense_add_grad(op, grad):
    a_indices, _, a_shape, _ = op.inputs
    return [None, _gather_at(grad, a_indices, a_shape), None, grad]


def _sparse_reduce_sum_grad(op, grad):
    # The output gradient, reshaped with the reduced axes kept as 1, read at each index with
    # the reduced coordinates set to 0 (TF's indices // scale trick).
    from sessionlib.ops import math_ops

    indices, _, sp_shape, axes = op.inputs
    rank = sp_shape.shape[0] if sp_shape.shape.rank == 1 else None
    if rank is None:
        raise NotImplementedError("The gradient of sparse_reduce_sum needs a known rank")
    shape64 = math_ops.cast(sp_shape, dtypes.int64)
    if _attr_or(op, "reduce_all", False):
        reduced = array_ops.constant(np.ones(rank, dtype=bool))
    else:
        positions = array_ops.expand_dims(array_ops.range(0, rank, 1), 1)
        flat_axes = array_ops.reshape(math_ops.cast(axes, dtypes.int32), [-1])
        flat_axes = math_ops.mod(math_ops.add(flat_axes, rank), rank)
        reduced = math_ops.reduce_any(math_ops.equal(positions, flat_axes), axis=1)
    kept = array_ops.where(reduced, array_ops.ones_like(shape64), shape64)
    grad_kept = array_ops.reshape(grad, kept)
    scale = math_ops.floordiv(shape64, math_ops.maximum(kept, array_ops.ones_like(kept)))
    coordinates = math_ops.floordiv(math_ops.cast(indices, dtypes.int64),
                                    math_ops.maximum(scale, array_ops.ones_like(scale)))
    return [None, _gather_at(grad_kept, coordinates, kept), None, None]


def _sparse_add_grad(op, *grads):
    # Each operand's value gets the gradient of the sum's value at the same index, or 0
    # where the threshold dropped it (SparseAddGrad).
    a_indices, _, _, b_indices, _, _, _ = op.inputs
    sum_indices = op.outputs[0]
    values_grad = grads[1]
    a_grad, b_grad = op.graph.create_op(
        "SparseAddGrad", [values_grad, a_indices, b_indices, sum_indices]).outputs
    return [None, a_grad, None, None, b_grad, None, None]


def _sparse_add_grad_infer(inputs, attrs):
    backprop, a_indices, b_indices, sum_indices = inputs
    attrs["T"] = backprop.dtype
    return [(backprop.dtype, TensorShape([a_indices.shape[0] if a_indices.shape.rank == 2
                                          else None])),
            (backprop.dtype, TensorShape([b_indices.shape[0] if b_indices.shape.rank == 2
                                          else None]))]


registry.register_op("SparseAddGrad", infer=_sparse_add_grad_infer, kernel="SparseAddGrad",
                     num_inputs=4, gradient=registry.NOT_DIFFERENTIABLE,
                     doc="The gradients of SparseAdd's two value vectors.")


# ---- SparseToDense ------------------------------------------------------------------------

def _sparse_to_dense_infer(inputs, attrs):
    indices, output_shape, values, default_value = inputs
    if default_value.dtype is not values.dtype:
        raise TypeError(f"default_value has dtype {default_value.dtype.name}, but the values "
                        f"are {values.dtype.name}")
    attrs["T"] = values.dtype
    attrs["Tindices"] = indices.dtype
    return [(values.dtype, _static_dense_shape(output_shape))]


registry.register_op("SparseToDense", infer=_sparse_to_dense_infer,
                     kernel="SparseToDense", num_inputs=4, gradient=_sparse_to_dense_grad,
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


def sparse_to_dense(sparse_indices, output_shape, sparse_values, default_value=0,
                    validate_indices=True, name=None):
    """A dense tensor of `output_shape` holding `sparse_values` at `sparse_indices` and
    `default_value` elsewhere (op ``SparseToDense``; TF 1's ``tf.sparse_to_dense``).

    Args:
      sparse_indices: an int32 or int64 Tensor: a scalar (one index of a vector), a vector
        (indices of a vector) or an ``[N, rank]`` matrix of full indices.
      output_shape: a vector, the dense shape (converted to the indices' dtype).
      sparse_values: a vector of one value per index, or a scalar for all of them.
      default_value: a scalar of the values' dtype for the other positions.
      validate_indices: if True, unsorted or repeated indices are an error at run time.
      name: the op name.

    Returns:
      A dense Tensor of the values' dtype and shape `output_shape`.

    Raises:
      TypeError: for index or default dtypes that do not match.
      InvalidArgumentError: (at run time) for indices out of bounds, or, with
        `validate_indices`, unsorted or repeated indices.
    """
    graph = next((value.graph for value in (sparse_indices, output_shape, sparse_values,
                                            default_value)
                  if isinstance(value, graph_lib.Tensor)), graph_lib.get_default_graph())
    with graph.as_default():
        if isinstance(output_shape, graph_lib.Tensor) \
                and not isinstance(sparse_indices, graph_lib.Tensor):
            indices = graph_lib.convert_to_tensor(sparse_indices, dtype=output_shape.dtype,
                                                  name="sparse_indices")
        else:
            indices = graph_lib.convert_to_tensor(sparse_indices, name="sparse_indices")
        shape = graph_lib.convert_to_tensor(
            output_shape, name="output_shape",
            dtype=None if isinstance(output_shape, graph_lib.Tensor) else indices.dtype)
        if indices.dtype not in (dtypes.int32, dtypes.int64) or shape.dtype is not indices.dtype:
            raise TypeError(f"sparse_indices and output_shape must both be int32 or both "
                            f"int64, got {indices.dtype.name} and {shape.dtype.name}")
        values = graph_lib.convert_to_tensor(sparse_values, name="sparse_values")
        default = graph_lib.convert_to_tensor(
            default_value, name="default_value",
            dtype=None if isinstance(default_value, graph_lib.Tensor) else values.dtype)
        return graph.create_op("SparseToDense", [indices, shape, values, default],
                               {"validate_indices": bool(validate_indices)},
                               name=name or "SparseToDense").outputs[0]


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


registry.register_op("SparseAdd", infer=_sparse_add_infer, kernel="SparseAdd",
                     num_inputs=7, doc="The sum of two SparseTensors, as a SparseTensor.",
                     gradient=_sparse_add_grad)


def _sparse_dense_add_infer(inputs, attrs):
    a_indices, a_values, a_shape, dense = inputs
    if a_values.dtype is not dense.dtype:
        raise TypeError(f"SparseTensorDenseAdd operands must have one dtype, got "
                        f"{a_values.dtype.name} and {dense.dtype.name}")
    attrs["T"] = dense.dtype
    attrs["Tindices"] = a_indices.dtype
    return [(dense.dtype, dense.shape)]


registry.register_op("SparseTensorDenseAdd", infer=_sparse_dense_add_infer,
                     kernel="SparseTensorDenseAdd", num_inputs=4,
                     gradient=_sparse_dense_add_grad,
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
            axes = indexing.normalized_axes(axes, rank)
        except errors.InvalidArgumentError:
            return TensorShape(None)  # as in TF, a bad axis is a run-time error
    dims = shape.as_list()
    if keep_dims:
        return TensorShape([1 if i in axes else d for i, d in enumerate(dims)])
    return TensorShape([d for i, d in enumerate(dims) if i not in axes])


def sparse_reduce_sum_infer(inputs, attrs):
    """The output of a dense-result sparse reduction (SparseReduceSum, SparseReduceMax)."""
    indices, values, shape, axes = inputs
    attrs["T"] = values.dtype
    attrs.setdefault("keep_dims", False)
    return [(values.dtype, _reduced_static_shape(_static_dense_shape(shape),
                                                 tensor_util.constant_value(axes),
                                                 attrs["keep_dims"],
                                                 attrs.get("reduce_all", False)))]


registry.register_op("SparseReduceSum", infer=sparse_reduce_sum_infer,
                     kernel="SparseReduceSum", num_inputs=4,
                     gradient=_sparse_reduce_sum_grad,
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
    axis, keepdims = reduction_args(axis, keepdims, reduction_axes, keep_dims)
    return sparse_reduction("SparseReduceSum", sp_input, axis, keepdims, name)


def reduction_args(axis, keepdims, reduction_axes, keep_dims):
    """`axis` and `keepdims` of a sparse reduction, from either of TF's spellings.

    Raises:
      ValueError: if both spellings of an argument are given.
    """
    if reduction_axes is not None:
        if axis is not None:
            raise ValueError("Cannot specify both 'axis' and 'reduction_axes'")
        axis = reduction_axes
    if keep_dims is not None:
        if keepdims is not None:
            raise ValueError("Cannot specify both 'keepdims' and 'keep_dims'")
        keepdims = keep_dims
    return axis, bool(keepdims)


def sparse_reduction(op_type, sp_input, axis, keepdims, name):
    """Builds the reduction op `op_type` (inputs: the SparseTensor's three parts and the axes):
    its dense output, or the `SparseTensor` of its three outputs."""
    sp_input = convert_to_sparse_tensor(sp_input)
    graph = sp_input.graph
    attrs = {"keep_dims": keepdims}
    with graph.as_default():
        if axis is None:
            # With an unknown rank the kernel reads the rank from the fed dense shape.
            attrs["reduce_all"] = True
            axis = np.zeros([0], dtype=np.int32)
        axes = graph_lib.convert_to_tensor(
            axis if isinstance(axis, graph_lib.Tensor)
            else np.asarray(axis, dtype=np.int32), dtype=dtypes.int32,
            name="reduction_axes")
        op = graph.create_op(op_type,
                             [sp_input.indices, sp_input.values, sp_input.dense_shape, axes],
                             attrs, name=name or op_type)
    # The SparseTensor may know more about its dense shape than its dense_shape tensor does
    # (a sparse_placeholder with a shape), so narrow the result with that knowledge.
    static = _reduced_static_shape(sp_input.shape, tensor_util.constant_value(axes), keepdims,
                                   attrs.get("reduce_all", False))
    if len(op.outputs) == 1:
        result = op.outputs[0]
    else:
        result = SparseTensor(*op.outputs)
    result.set_shape(static)
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
