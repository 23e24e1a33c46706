"""Segment sums and partitions: ``segment_sum`` (op ``SegmentSum``), ``dynamic_partition``
(op ``DynamicPartition``) and ``dynamic_stitch`` (op ``DynamicStitch``).

Gradients as in TF: a segment sum's is a gather of the output gradient by segment id; a
partition's stitches the partitions' gradients back into the data's order (``DynamicStitch``
of the partitioned positions); a stitch's gathers the output gradient at each index list. The
kernels are in ``runtime/kernels/segment_kernels.py``.
"""

import numpy as np

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework import registry
from sessionlib.framework.tensor_shape import TensorShape
from sessionlib.ops import _infer, array_ops, math_ops

__all__ = ["segment_sum", "dynamic_partition", "dynamic_stitch"]


# ---- SegmentSum ---------------------------------------------------------------------------------

def _segment_infer(op_type):
    """The infer function of a sorted Segment* op: (data, segment_ids) to
    ``[None] + data.shape[1:]``."""

    def infer(inputs, attrs):
        data, segment_ids = inputs
        _infer.check_dtype(op_type, data, dtypes.NUMERIC_DTYPES, "data")
        _infer.check_index_dtype(op_type, segment_ids, "segment_ids")
        attrs["T"] = data.dtype
        attrs["Tindices"] = segment_ids.dtype
        if segment_ids.shape.rank not in (None, 1):
            raise ValueError(f"Shape must be rank 1 but is rank {segment_ids.shape.rank} for "
                             f"'{op_type}'")
        if data.shape.rank == 0:
            raise ValueError(f"Shape must be at least rank 1 but is rank 0 for '{op_type}'")
        if data.shape.rank is None:
            return [(data.dtype, TensorShape(None))]
        # As in TF, a length that is not data's first dimension is found when the graph runs.
        return [(data.dtype, TensorShape([None] + data.shape.as_list()[1:]))]

    return infer


def _segment_sum_grad(op, grad):
    return [array_ops.gather(grad, op.inputs[1]), None]


registry.register_op("SegmentSum", infer=_segment_infer("SegmentSum"), kernel="SegmentSum",
                     num_inputs=2, doc="Sums the rows of data in sorted segments.",
                     gradient=_segment_sum_grad)


def _segment_op(op_type, data, segment_ids, name):
    graph = math_ops._find_graph((data, segment_ids))
    with graph.as_default(), graph.name_scope(name or op_type) as scope:
        data_t = array_ops._tensor(data, "data", graph)
        ids_t = array_ops._index_tensor(segment_ids, "segment_ids", graph)
        return graph.create_op(op_type, [data_t, ids_t], name=scope).outputs[0]


# ---- DynamicPartition ---------------------------------------------------------------------------

def _dynamic_partition_infer(inputs, attrs):
    data, partitions = inputs
    _infer.check_dtype("DynamicPartition", partitions, (dtypes.int32,), "partitions")
    attrs["T"] = data.dtype
    num = attrs.get("num_partitions")
    if not isinstance(num, int) or isinstance(num, bool) or num < 1:
        raise ValueError(f"num_partitions must be an int >= 1 for 'DynamicPartition', got "
                         f"{num!r}")
    if data.shape.rank is None or partitions.shape.rank is None:
        return [(data.dtype, TensorShape(None))] * num
    rank = partitions.shape.rank
    if not TensorShape(data.shape[:rank]).is_compatible_with(partitions.shape) \
            or data.shape.rank < rank:
        raise ValueError(f"Shapes of data {data.shape} and partitions {partitions.shape} are "
                         "incompatible: partitions must be a prefix of data's shape, for "
                         "'DynamicPartition'")
    return [(data.dtype, TensorShape([None] + data.shape.as_list()[rank:]))] * num


def _dynamic_partition_grad(op, *grads):
    data, partitions = op.inputs
    prefix_shape = array_ops.shape(partitions)
    positions = array_ops.reshape(array_ops.range(math_ops.reduce_prod(prefix_shape)),
                                  prefix_shape)
    partitioned = dynamic_partition(positions, partitions, op.get_attr("num_partitions"))
    stitched = dynamic_stitch(partitioned, list(grads))
    return [array_ops.reshape(stitched, array_ops.shape(data)), None]


registry.register_op("DynamicPartition", infer=_dynamic_partition_infer,
                     kernel="DynamicPartition", num_inputs=2,
                     doc="Splits data into num_partitions tensors by a partition index.",
                     gradient=_dynamic_partition_grad)


def dynamic_partition(data, partitions, num_partitions, name=None):
    """Splits `data` into `num_partitions` Tensors (op ``DynamicPartition``): output ``i``
    holds, in order, the slices ``data[j]`` with ``partitions[j] == i``.

    Args:
      data: a Tensor.
      partitions: an int32 Tensor whose shape is a prefix of `data`'s, of values in
        ``[0, num_partitions)``.
      num_partitions: an int >= 1.
      name: the op name.

    Returns:
      A list of `num_partitions` Tensors of shape ``[None] + data.shape[rank(partitions):]``.
      A partition index out of range is an InvalidArgumentError when the graph runs.

    Raises:
      ValueError: for `num_partitions` < 1 or shapes that do not fit.
    """
    graph = math_ops._find_graph((data, partitions))
    with graph.as_default(), graph.name_scope(name or "DynamicPartition") as scope:
        data_t = array_ops._tensor(data, "data", graph)
        partitions_t = array_ops._tensor(partitions, "partitions", graph, dtypes.int32)
        return list(graph.create_op("DynamicPartition", [data_t, partitions_t],
                                    {"num_partitions": int(num_partitions)},
                                    name=scope).outputs)


# ---- DynamicStitch ------------------------------------------------------------------------------

def _dynamic_stitch_infer(inputs, attrs):
    if len(inputs) % 2 or not inputs:
        raise ValueError("DynamicStitch takes as many data tensors as index tensors")
    count = len(inputs) // 2
    indices, data = inputs[:count], inputs[count:]
    for tensor in indices:
        _infer.check_dtype("DynamicStitch", tensor, (dtypes.int32,), "indices")
    kinds = [t.dtype for t in data]
    if any(kind != kinds[0] for kind in kinds):
        raise TypeError(f"Tensors in list passed to 'data' of 'DynamicStitch' Op have types "
                        f"[{', '.join(k.name for k in kinds)}] that don't all match.")
    attrs["N"] = count
    attrs["T"] = kinds[0]
    rest = None
    for index_t, data_t in zip(indices, data):
        if index_t.shape.rank is None or data_t.shape.rank is None:
            continue
        rank = index_t.shape.rank
        if data_t.shape.rank < rank or not TensorShape(data_t.shape[:rank]).is_compatible_with(
                index_t.shape):
            raise ValueError(f"Shapes of indices {index_t.shape} and data {data_t.shape} are "
                             "incompatible: indices must be a prefix of data's shape, for "
                             "'DynamicStitch'")
        part = TensorShape(data_t.shape.as_list()[rank:])
        if rest is not None and not rest.is_compatible_with(part):
            raise ValueError(f"All data tensors must have the same trailing shape, got "
                             f"{rest} and {part} for 'DynamicStitch'")
        rest = part if rest is None else rest.merge_with(part)
    first = None
    known = [_infer.constant_of(t) for t in indices]
    if all(value is not None for value in known):
        first = max([int(v.max()) for v in known if v.size] + [-1]) + 1
    if rest is None:
        return [(kinds[0], TensorShape(None))]
    return [(kinds[0], TensorShape([first] + rest.as_list()))]


def _dynamic_stitch_grad(op, grad):
    count = len(op.inputs) // 2
    dense = graph_lib.convert_to_tensor(grad)
    return [None] * count + [array_ops.gather(dense, op.inputs[i]) for i in range(count)]


registry.register_op("DynamicStitch", infer=_dynamic_stitch_infer, kernel="DynamicStitch",
                     doc="Interleaves data tensors into one by index lists.",
                     gradient=_dynamic_stitch_grad)


def dynamic_stitch(indices, data, name=None):
    """One Tensor from the slices of `data` placed at `indices` (op ``DynamicStitch``):
    ``merged[indices[m][i]] = data[m][i]``; where indices repeat, the later one wins.

    Args:
      indices: a list of int32 Tensors.
      data: a list of Tensors of one dtype, as many as `indices`; ``data[m]``'s shape starts
        with ``indices[m]``'s, and the rest of the shapes agree.
      name: the op name.

    Returns:
      A Tensor of shape ``[max(indices) + 1] + rest``; rows no index names are 0. A negative
      index is an InvalidArgumentError when the graph runs.

    Raises:
      ValueError: if the lists differ in length or the shapes do not fit.
      TypeError: if the data dtypes differ.
    """
    indices, data = list(indices), list(data)
    if len(indices) != len(data) or not indices:
        raise ValueError(f"dynamic_stitch needs as many data tensors as index tensors (at least "
                         f"one), got {len(indices)} and {len(data)}")
    graph = math_ops._find_graph(indices + data)
    with graph.as_default(), graph.name_scope(name or "DynamicStitch") as scope:
        index_ts = [array_ops._tensor(t, f"indices_{i}", graph, dtypes.int32)
                    for i, t in enumerate(indices)]
        data_ts = [array_ops._tensor(t, f"data_{i}", graph) for i, t in enumerate(data)]
        return graph.create_op("DynamicStitch", index_ts + data_ts, name=scope).outputs[0]


# ---- SegmentMax, SegmentMin, SegmentMean, SegmentProd -------------------------------------
#
# Gradients as TF's: a mean spreads each segment's gradient over its rows; a max or min gives
# it to the rows that equal the result, shared equally between ties; a product gives each row
# the product of the others (the product over the row where the row is nonzero, the product
# of the nonzero rows where the row is the segment's only zero, and 0 where there are more).

def _rows(vector, data):
    """`vector` (one value per row of `data`) reshaped to broadcast against `data`."""
    rank = data.shape.rank
    if rank is not None:
        return array_ops.reshape(vector, [-1] + [1] * (rank - 1))
    ones = array_ops.ones(array_ops.expand_dims(array_ops.rank(data) - 1, 0), dtypes.int32)
    return array_ops.reshape(vector, array_ops.concat([[-1], ones], 0))


def _segment_mean_grad(op, grad):
    data, segment_ids = op.inputs
    counts = segment_sum(array_ops.ones_like(segment_ids, dtype=grad.dtype), segment_ids)
    return [array_ops.gather(math_ops.realdiv(grad, _rows(counts, grad)), segment_ids), None]


def _segment_min_or_max_grad(op, grad):
    data, segment_ids = op.inputs
    selected = math_ops.equal(data, array_ops.gather(op.outputs[0], segment_ids))
    num_selected = segment_sum(math_ops.cast(selected, grad.dtype), segment_ids)
    shared = array_ops.gather(math_ops.realdiv(grad, num_selected), segment_ids)
    return [array_ops.where(selected, shared, array_ops.zeros_like(shared)), None]


def _prod_partials(data, product, gather, segment_prod, segment_count):
    """d product / d row for each row; `gather` takes a per-segment tensor to the rows."""
    is_zero = math_ops.equal(data, array_ops.zeros_like(data))
    ones = array_ops.ones_like(data)
    nonzero_data = array_ops.where(is_zero, ones, data)
    nonzero_product = segment_prod(nonzero_data)
    zeros_per_segment = segment_count(math_ops.cast(is_zero, dtypes.int32))
    with_one_zero = math_ops.less_equal(zeros_per_segment,
                                        array_ops.ones_like(zeros_per_segment))
    # Where a segment holds two zeros or more, every row's partial is 0.
    nonzero_product = array_ops.where(with_one_zero, nonzero_product,
                                      array_ops.zeros_like(nonzero_product))
    return array_ops.where(is_zero, gather(nonzero_product),
                           math_ops.realdiv(gather(product), nonzero_data))


def _segment_prod_grad(op, grad):
    data, segment_ids = op.inputs
    partials = _prod_partials(
        data, op.outputs[0], lambda t: array_ops.gather(t, segment_ids),
        lambda t: _segment_op("SegmentProd", t, segment_ids, None),
        lambda t: segment_sum(t, segment_ids))
    return [math_ops.multiply(array_ops.gather(grad, segment_ids), partials), None]


for _op_type, _gradient, _description in (
        ("SegmentMax", _segment_min_or_max_grad, "maximum"),
        ("SegmentMin", _segment_min_or_max_grad, "minimum"),
        ("SegmentMean", _segment_mean_grad, "mean"),
        ("SegmentProd", _segment_prod_grad, "product")):
    registry.register_op(_op_type, infer=_segment_infer(_op_type), kernel=_op_type,
                         num_inputs=2, gradient=_gradient,
                         doc=f"The {_description} of the rows of data in sorted segments.")


def _segment_wrapper(op_type, public_name, description, empty):
    def wrapper(data, segment_ids, name=None):
        return _segment_op(op_type, data, segment_ids, name)

    wrapper.__name__ = wrapper.__qualname__ = public_name
    wrapper.__doc__ = f"""The {description} of the rows of `data` by segment (op
    ``{op_type}``).

    Args:
      data: a numeric Tensor of rank >= 1.
      segment_ids: a sorted 1-D int32/int64 Tensor of non-negative ids, one per row of
        `data`.
      name: the op name.

    Returns:
      A Tensor of shape ``[max(segment_ids) + 1] + data.shape[1:]``; segments without rows
      are {empty}. Unsorted or negative ids, or a length that is not ``data.shape[0]``, are
      an InvalidArgumentError when the graph runs.

    Raises:
      ValueError: for static shapes that do not fit.
    """
    return wrapper


segment_sum = _segment_wrapper("SegmentSum", "segment_sum", "sum", "0")
segment_max = _segment_wrapper("SegmentMax", "segment_max", "maximum", "0")
segment_min = _segment_wrapper("SegmentMin", "segment_min", "minimum", "0")
segment_mean = _segment_wrapper("SegmentMean", "segment_mean",
                                "mean (truncated for integers)", "0")
segment_prod = _segment_wrapper("SegmentProd", "segment_prod", "product", "1")


# ---- UnsortedSegmentMax, UnsortedSegmentMin, UnsortedSegmentProd --------------------------

def _gather_dropping_negatives(params, segment_ids, data):
    """``params[segment_ids]`` with zeros where an id is negative (a dropped row), and the
    mask of kept rows, shaped to broadcast against `data`."""
    clipped = math_ops.maximum(segment_ids, array_ops.zeros_like(segment_ids))
    gathered = array_ops.gather(params, clipped)
    kept = math_ops.greater_equal(segment_ids, array_ops.zeros_like(segment_ids))
    if data.shape.rank is None or segment_ids.shape.rank is None:
        raise NotImplementedError("The gradient of an unsorted segment reduction needs the "
                                  "ranks of data and segment_ids")
    extra = data.shape.rank - segment_ids.shape.rank
    if extra:
        dims = math_ops._known_dims(segment_ids)
        shape = (dims + [1] * extra if isinstance(dims, list)
                 else array_ops.concat([dims, [1] * extra], 0))
        kept = array_ops.reshape(kept, shape)
    dropped = math_ops._select_v2(kept, gathered, array_ops.zeros_like(gathered))
    return dropped, kept


def _unsorted_segment_min_or_max_grad(op, grad):
    data, segment_ids, num_segments = op.inputs
    gathered, kept = _gather_dropping_negatives(op.outputs[0], segment_ids, data)
    selected = math_ops.logical_and(math_ops.equal(data, gathered), kept)
    num_selected = math_ops.unsorted_segment_sum(math_ops.cast(selected, grad.dtype),
                                                 segment_ids, num_segments)
    shared, _ = _gather_dropping_negatives(math_ops.realdiv(grad, num_selected), segment_ids,
                                           data)
    return [array_ops.where(selected, shared, array_ops.zeros_like(shared)), None, None]


def _unsorted_segment_prod_grad(op, grad):
    data, segment_ids, num_segments = op.inputs
    clipped = math_ops.maximum(segment_ids, array_ops.zeros_like(segment_ids))
    partials = _prod_partials(
        data, op.outputs[0], lambda t: array_ops.gather(t, clipped),
        lambda t: math_ops._unsorted_segment_op("UnsortedSegmentProd", t, segment_ids,
                                                num_segments, None),
        lambda t: math_ops.unsorted_segment_sum(t, segment_ids, num_segments))
    gathered, _ = _gather_dropping_negatives(grad, segment_ids, data)
    return [math_ops.multiply(gathered, partials), None, None]


for _op_type, _gradient, _description in (
        ("UnsortedSegmentMax", _unsorted_segment_min_or_max_grad, "maximum"),
        ("UnsortedSegmentMin", _unsorted_segment_min_or_max_grad, "minimum"),
        ("UnsortedSegmentProd", _unsorted_segment_prod_grad, "product")):
    registry.register_op(_op_type, num_inputs=3, kernel=_op_type, gradient=_gradient,
                         infer=math_ops._unsorted_segment_infer(_op_type,
                                                                dtypes.NUMERIC_DTYPES),
                         doc=f"The {_description} of the rows of data by segment id, in any "
                             "order.")


def _unsorted_segment_wrapper(op_type, public_name, description, empty):
    def wrapper(data, segment_ids, num_segments, name=None):
        return math_ops._unsorted_segment_op(op_type, data, segment_ids, num_segments, name)

    wrapper.__name__ = wrapper.__qualname__ = public_name
    wrapper.__doc__ = f"""The {description} of the slices of `data` by segment, in any order
    (op ``{op_type}``).

    Args:
      data: a numeric Tensor.
      segment_ids: an int32/int64 Tensor whose shape is a prefix of `data`'s; rows with a
        negative id are dropped, and an id >= `num_segments` is an InvalidArgumentError
        when the graph runs, as in TF.
      num_segments: a scalar int Tensor or int.
      name: the op name.

    Returns:
      A Tensor of shape ``[num_segments] + data.shape[segment_ids.rank:]``; segments
      without rows are {empty}.

    Raises:
      ValueError: if the shape of `segment_ids` is statically not a prefix of `data`'s.
    """
    return wrapper


unsorted_segment_max = _unsorted_segment_wrapper(
    "UnsortedSegmentMax", "unsorted_segment_max", "maximum",
    "the dtype's lowest finite value")
unsorted_segment_min = _unsorted_segment_wrapper(
    "UnsortedSegmentMin", "unsorted_segment_min", "minimum",
    "the dtype's largest finite value")
unsorted_segment_prod = _unsorted_segment_wrapper(
    "UnsortedSegmentProd", "unsorted_segment_prod", "product", "1")


def _segment_counts(data, segment_ids, num_segments):
    """Rows per segment, at least 1, shaped to broadcast against the segment results."""
    counts = math_ops.unsorted_segment_sum(array_ops.ones_like(segment_ids, dtype=data.dtype),
                                           segment_ids, num_segments)
    if data.shape.rank is None or segment_ids.shape.rank is None:
        raise ValueError("unsorted_segment_mean and unsorted_segment_sqrt_n need the ranks "
                         "of data and segment_ids")
    counts = array_ops.reshape(counts, [-1] + [1] * (data.shape.rank - segment_ids.shape.rank))
    return math_ops.maximum(counts, array_ops.ones_like(counts))


def unsorted_segment_mean(data, segment_ids, num_segments, name=None):
    """The mean of the slices of `data` by segment, in any order: TF's composite of
    ``unsorted_segment_sum`` and the row counts (segments without rows are 0).

    Args:
      data: a floating Tensor of known rank.
      segment_ids: an int32/int64 Tensor of known rank, a prefix of `data`'s shape.
      num_segments: a scalar int Tensor or int.
      name: the name scope (default 'UnsortedSegmentMean').

    Returns:
      A Tensor of shape ``[num_segments] + data.shape[segment_ids.rank:]``.

    Raises:
      ValueError: for unknown ranks.
    """
    return _scaled_segment_sum(data, segment_ids, num_segments, name or "UnsortedSegmentMean",
                               lambda counts: counts)


def unsorted_segment_sqrt_n(data, segment_ids, num_segments, name=None):
    """The sum of the slices of `data` by segment divided by the square root of the segment's
    row count, in any order (TF's composite; segments without rows are 0). Arguments, result
    and errors as for `unsorted_segment_mean`; the default name scope is
    'UnsortedSegmentSqrtN'."""
    return _scaled_segment_sum(data, segment_ids, num_segments,
                               name or "UnsortedSegmentSqrtN", math_ops.sqrt)


def _scaled_segment_sum(data, segment_ids, num_segments, scope_name, divisor_of_counts):
    """``unsorted_segment_sum / divisor_of_counts(rows per segment, at least 1)``."""
    graph = math_ops._find_graph((data, segment_ids, num_segments))
    with graph.as_default(), graph.name_scope(scope_name):
        data_t = array_ops._tensor(data, "data", graph)
        ids_t = array_ops._tensor(segment_ids, "segment_ids", graph)
        counts = _segment_counts(data_t, ids_t, num_segments)
        return math_ops.realdiv(math_ops.unsorted_segment_sum(data_t, ids_t, num_segments),
                                divisor_of_counts(counts))


__all__ += ["segment_max", "segment_min", "segment_mean", "segment_prod",
            "unsorted_segment_max", "unsorted_segment_min", "unsorted_segment_prod",
            "unsorted_segment_mean", "unsorted_segment_sqrt_n"]


# ---- DenseBincount ------------------------------------------------------------------------

_BINCOUNT_WEIGHTS = (dtypes.int32, dtypes.int64, dtypes.float32, dtypes.float64)


def _dense_bincount_infer(inputs, attrs):
    values, size, weights = inputs
    _infer.check_index_dtype("DenseBincount", values, "input")
    _infer.check_index_dtype("DenseBincount", size, "size")
    _infer.check_dtype("DenseBincount", weights, _BINCOUNT_WEIGHTS, "weights")
    if size.shape.rank not in (None, 0):
        raise ValueError(f"Shape must be rank 0 but is rank {size.shape.rank} for "
                         "'DenseBincount' (size)")
    if values.shape.rank not in (None, 1):
        raise ValueError(f"Shape must be rank 1 but is rank {values.shape.rank} for "
                         "'DenseBincount' (input; bincount flattens it)")
    attrs["Tidx"] = values.dtype
    attrs["T"] = weights.dtype
    attrs["binary_output"] = bool(attrs.get("binary_output", False))
    count = _infer.folded_value(size)
    return [(weights.dtype, TensorShape([None if count is None else int(count)]))]


# Counting is piecewise constant in the values, and TF registers no gradient for it.
registry.register_op("DenseBincount", infer=_dense_bincount_infer, kernel="DenseBincount",
                     num_inputs=3, gradient=registry.NOT_DIFFERENTIABLE,
                     doc="Counts (or sums the weights of) each value in [0, size).")


def bincount(arr, weights=None, minlength=None, maxlength=None, dtype=dtypes.int32,
             name=None):
    """Counts the occurrences of each value in `arr` (op ``DenseBincount``), as TF 1's
    ``tf.math.bincount``.

    Args:
      arr: an int32/int64 Tensor of non-negative values (any shape: it is flattened).
      weights: None, or a Tensor of `arr`'s shape whose values are summed instead of ones;
        its dtype is the result's.
      minlength: the least length of the result (int or scalar Tensor), or None.
      maxlength: the greatest length (values at or beyond it are not counted), or None.
      dtype: the result's dtype when `weights` is None.
      name: the name scope (default 'bincount').

    Returns:
      A 1-D Tensor of length ``max(arr) + 1`` (0 for an empty `arr`), clipped to
      [minlength, maxlength]. A negative value is an InvalidArgumentError when the graph
      runs.
    """
    graph = math_ops._find_graph((arr, weights))
    with graph.as_default(), graph.name_scope(name or "bincount") as scope:
        values = array_ops._tensor(arr, "arr", graph, dtypes.int32)
        if values.shape.rank != 1:
            values = array_ops.reshape(values, [-1])
        nonempty = math_ops.cast(math_ops.greater(array_ops.size(values), 0), values.dtype)
        size = math_ops.multiply(nonempty, math_ops.add(math_ops.reduce_max(values),
                                                        graph_lib.convert_to_tensor(
                                                            1, dtype=values.dtype)))
        if minlength is not None:
            size = math_ops.maximum(
                graph_lib.convert_to_tensor(minlength, dtype=values.dtype), size)
        if maxlength is not None:
            size = math_ops.minimum(
                graph_lib.convert_to_tensor(maxlength, dtype=values.dtype), size)
        if weights is None:
            weights_t = graph_lib.convert_to_tensor(np.zeros(0, dtypes.as_dtype(
                dtype).as_numpy_dtype), name="weights")
        else:
            weights_t = array_ops._tensor(weights, "weights", graph)
            if weights_t.shape.rank != 1:
                weights_t = array_ops.reshape(weights_t, [-1])
        return graph.create_op("DenseBincount", [values, size, weights_t],
                               {"binary_output": False}, name=scope).outputs[0]


__all__.append("bincount")
