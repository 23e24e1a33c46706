"""Reductions that TF builds from other ops: ``count_nonzero``, ``reduce_variance``,
``reduce_std``, ``reduce_euclidean_norm``, ``zero_fraction``, ``accumulate_n``, and
``approx_max_k`` / ``approx_min_k`` (exact on a CPU, as TF's CPU kernel is).

No registrations and no kernels: each is TF's composite of existing ops, so its gradient (where
it has one) comes from theirs.
"""

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework.tensor_shape import TensorShape
from sessionlib.ops import array_ops, math_ops

__all__ = ["count_nonzero", "reduce_variance", "reduce_std", "reduce_euclidean_norm",
           "zero_fraction", "accumulate_n", "approx_max_k", "approx_min_k"]


def count_nonzero(input_tensor=None, axis=None, keepdims=None, dtype=dtypes.int64, name=None,
                  reduction_indices=None, keep_dims=None, input=None):  # noqa: A002
    """The number of nonzero elements across `axis`: ``reduce_sum(cast(x != 0))``.

    Args:
      input_tensor: a numeric or bool Tensor (`input` is TF's other spelling).
      axis: the dimensions to reduce (None: all); negative values count from the end.
      keepdims: keep the reduced dimensions with length 1.
      dtype: the result's dtype (default int64).
      name: the name scope (default 'count_nonzero').
      reduction_indices: TF 1's spelling of `axis`.
      keep_dims: TF 1's spelling of `keepdims`.
      input: TF 1's spelling of `input_tensor`.

    Returns:
      A Tensor of `dtype`.

    Raises:
      ValueError: if both or neither of `input_tensor` and `input` are given.
    """
    if (input_tensor is None) == (input is None):
        raise ValueError("count_nonzero needs exactly one of input_tensor and input")
    value = input_tensor if input is None else input
    axis = math_ops._resolve_axis(axis, reduction_indices)
    keepdims = math_ops._resolve_keepdims(keepdims, keep_dims)
    graph = math_ops._find_graph((value, axis))
    with graph.as_default(), graph.name_scope(name or "count_nonzero"):
        tensor = graph_lib.convert_to_tensor(value, name="input")
        nonzero = math_ops.not_equal(tensor, array_ops.zeros([], dtype=tensor.dtype))
        counts = math_ops.reduce_sum(math_ops.cast(nonzero, dtypes.int64), axis,
                                     keepdims=keepdims)
        return math_ops.cast(counts, dtypes.as_dtype(dtype))


def _floating(function_name, input_tensor):
    tensor = graph_lib.convert_to_tensor(input_tensor, name="input_tensor")
    if not tensor.dtype.is_floating:
        raise TypeError(f"Input must be either real or complex. Received integer type "
                        f"{tensor.dtype.name} ({function_name})")
    return tensor


def reduce_variance(input_tensor, axis=None, keepdims=False, name=None):
    """The variance across `axis`: the mean of the squared deviations from the mean.

    Args:
      input_tensor: a floating Tensor.
      axis: the dimensions to reduce (None: all); negative values count from the end.
      keepdims: keep the reduced dimensions with length 1.
      name: the name scope (default 'reduce_variance').

    Returns:
      The reduced Tensor, of the input's dtype.

    Raises:
      TypeError: for a non-floating dtype.
    """
    graph = math_ops._find_graph((input_tensor,))
    with graph.as_default(), graph.name_scope(name or "reduce_variance"):
        tensor = _floating("reduce_variance", input_tensor)
        means = math_ops.reduce_mean(tensor, axis, keepdims=True)
        deviations = math_ops.square(math_ops.subtract(tensor, means))
        return math_ops.reduce_mean(deviations, axis, keepdims=keepdims)


def reduce_std(input_tensor, axis=None, keepdims=False, name=None):
    """The standard deviation across `axis`: the square root of `reduce_variance`.

    Args:
      input_tensor: a floating Tensor.
      axis: the dimensions to reduce (None: all); negative values count from the end.
      keepdims: keep the reduced dimensions with length 1.
      name: the name scope (default 'reduce_std').

    Returns:
      The reduced Tensor, of the input's dtype.

    Raises:
      TypeError: for a non-floating dtype.
    """
    graph = math_ops._find_graph((input_tensor,))
    with graph.as_default(), graph.name_scope(name or "reduce_std"):
        tensor = _floating("reduce_std", input_tensor)
        return math_ops.sqrt(reduce_variance(tensor, axis, keepdims=keepdims))


def reduce_euclidean_norm(input_tensor, axis=None, keepdims=False, name=None):
    """``sqrt(sum(x ** 2))`` across `axis`.

    TF has an op for it; here it is that composite. Integer inputs are summed and rooted in
    float64 and the root truncated back to the input's dtype, which is what TF gives.

    Args:
      input_tensor: a numeric Tensor.
      axis: the dimensions to reduce (None: all); negative values count from the end.
      keepdims: keep the reduced dimensions with length 1.
      name: the name scope (default 'reduce_euclidean_norm').

    Returns:
      The reduced Tensor, of the input's dtype.
    """
    graph = math_ops._find_graph((input_tensor,))
    with graph.as_default(), graph.name_scope(name or "reduce_euclidean_norm"):
        tensor = graph_lib.convert_to_tensor(input_tensor, name="input_tensor")
        if tensor.dtype.is_floating:
            return math_ops.sqrt(math_ops.reduce_sum(math_ops.square(tensor), axis,
                                                     keepdims=keepdims))
        wide = math_ops.cast(tensor, dtypes.float64)
        norm = math_ops.sqrt(math_ops.reduce_sum(math_ops.square(wide), axis,
                                                 keepdims=keepdims))
        return math_ops.cast(norm, tensor.dtype)


def zero_fraction(value, name=None):
    """The fraction of the elements of `value` that are zero, as a float32 scalar (NaN for an
    empty `value`).

    Args:
      value: a numeric Tensor.
      name: the name scope (default 'zero_fraction').

    Returns:
      A float32 scalar Tensor.
    """
    graph = math_ops._find_graph((value,))
    with graph.as_default(), graph.name_scope(name or "zero_fraction"):
        tensor = graph_lib.convert_to_tensor(value, name="value")
        size = array_ops.size(tensor, out_type=dtypes.int64)
        zeros = math_ops.subtract(size, count_nonzero(tensor, dtype=dtypes.int64))
        return math_ops.realdiv(math_ops.cast(zeros, dtypes.float32),
                                math_ops.cast(size, dtypes.float32))


def accumulate_n(inputs, shape=None, tensor_dtype=None, name=None):
    """The elementwise sum of `inputs` (op ``AddN``): TF 1's ``accumulate_n``.

    Args:
      inputs: a list of Tensors of one shape and dtype.
      shape: the expected shape of each input, or None.
      tensor_dtype: the expected dtype of each input, or None.
      name: the op name.

    Returns:
      A Tensor of the inputs' shape and dtype.

    Raises:
      ValueError: for an empty list, or shapes that differ from each other or `shape`.
      TypeError: for dtypes that differ from each other or `tensor_dtype`.
    """
    tensors = [graph_lib.convert_to_tensor(value) for value in (inputs or [])]
    if not tensors:
        raise ValueError("inputs must be a list of at least one Tensor with the same dtype "
                         "and shape")
    if tensor_dtype is not None and any(t.dtype != dtypes.as_dtype(tensor_dtype)
                                        for t in tensors):
        raise TypeError(f"Expected all inputs to be {dtypes.as_dtype(tensor_dtype).name}")
    if shape is not None:
        expected = TensorShape(shape)
        if any(not t.shape.is_compatible_with(expected) for t in tensors):
            raise ValueError(f"Expected all inputs to have shape {expected}")
    return math_ops.add_n(tensors, name=name)


def _order_reversed(tensor):
    """A transform that reverses the order of `tensor`'s values and is its own inverse: -x
    for floats, ~x = -x - 1 for integers (no overflow, unsigned included, with wrapping)."""
    if tensor.dtype.is_floating:
        return math_ops.negative(tensor)
    return math_ops.subtract(math_ops.negative(tensor),
                             graph_lib.convert_to_tensor(1, dtype=tensor.dtype))


def _approx_top_k(operand, k, reduction_dimension, largest, name):
    from sessionlib.ops import nn_lookup_ops

    graph = math_ops._find_graph((operand,))
    with graph.as_default(), graph.name_scope(name or "ApproxTopK"):
        tensor = graph_lib.convert_to_tensor(operand, name="operand")
        rank = tensor.shape.rank
        if rank is None:
            raise ValueError("approx_max_k and approx_min_k need the operand's rank")
        axis = reduction_dimension % rank if rank else 0
        if not -rank <= reduction_dimension < rank:
            raise ValueError(f"reduction_dimension {reduction_dimension} is out of range for "
                             f"rank {rank}")
        perm = [d for d in range(rank) if d != axis] + [axis]
        moved = tensor if axis == rank - 1 else array_ops.transpose(tensor, perm)
        if not largest:
            moved = _order_reversed(moved)
        values, indices = nn_lookup_ops.top_k(moved, k)
        if not largest:
            values = _order_reversed(values)
        if axis != rank - 1:
            inverse = [perm.index(d) for d in range(rank)]
            values = array_ops.transpose(values, inverse)
            indices = array_ops.transpose(indices, inverse)
        return values, indices


def approx_max_k(operand, k, reduction_dimension=-1, recall_target=0.95,
                 reduction_input_size_override=-1, aggregate_to_topk=True, name=None):
    """The `k` largest values along `reduction_dimension` and their int32 indices.

    TF's CPU kernel is an exact top-k (its approximation runs on TPUs); so is this one, built
    on ``top_k``. `recall_target`, `reduction_input_size_override` and `aggregate_to_topk` tune
    the TPU approximation and change nothing here.

    Args:
      operand: a numeric Tensor of known rank.
      k: the number of values, at most the size of `reduction_dimension`.
      reduction_dimension: the dimension to search.
      recall_target, reduction_input_size_override, aggregate_to_topk: accepted for TF's
        signature.
      name: the name scope (default 'ApproxTopK').

    Returns:
      ``(values, indices)``, `k` long along `reduction_dimension`, largest first.

    Raises:
      ValueError: for an unknown rank or a dimension out of range.
    """
    return _approx_top_k(operand, k, reduction_dimension, True, name)


def approx_min_k(operand, k, reduction_dimension=-1, recall_target=0.95,
                 reduction_input_size_override=-1, aggregate_to_topk=True, name=None):
    """The `k` smallest values along `reduction_dimension` (smallest first) and their int32
    indices; see `approx_max_k`. (TF 2.21 has no CPU kernel for it; this one is exact.)"""
    return _approx_top_k(operand, k, reduction_dimension, False, name)
