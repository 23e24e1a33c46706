"""Segment sums and partitions: ``segment_sum`` (op ``SegmentSum``), ``dynamic_partition``
(op ``DynamicPartition``) and ``dynamic_stitch`` (op ``DynamicStitch``).

Gradients as in TF: a segment sum's is a gather of the output gradient by segment id; a
partition's stitches the partitions' gradients back into the data's order (``DynamicStitch``
of the partitioned positions); a stitch's gathers the output gradient at each index list. The
kernels are in ``runtime/kernels/segment_kernels.py``.
"""

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework import registry
from sessionlib.framework.tensor_shape import TensorShape
from sessionlib.ops import _infer, array_ops, math_ops

__all__ = ["segment_sum", "dynamic_partition", "dynamic_stitch"]


# ---- SegmentSum ---------------------------------------------------------------------------------

def _segment_sum_infer(inputs, attrs):
    data, segment_ids = inputs
    _infer.check_dtype("SegmentSum", data, dtypes.NUMERIC_DTYPES, "data")
    _infer.check_index_dtype("SegmentSum", segment_ids, "segment_ids")
    attrs["T"] = data.dtype
    attrs["Tindices"] = segment_ids.dtype
    if segment_ids.shape.rank not in (None, 1):
        raise ValueError(f"Shape must be rank 1 but is rank {segment_ids.shape.rank} for "
                         "'SegmentSum'")
    if data.shape.rank == 0:
        raise ValueError("Shape must be at least rank 1 but is rank 0 for 'SegmentSum'")
    if data.shape.rank is None:
        return [(data.dtype, TensorShape(None))]
    # As in TF, a length that is not data's first dimension is found when the graph runs.
    return [(data.dtype, TensorShape([None] + data.shape.as_list()[1:]))]


def _segment_sum_grad(op, grad):
    return [array_ops.gather(grad, op.inputs[1]), None]


registry.register_op("SegmentSum", infer=_segment_sum_infer, kernel="SegmentSum",
                     num_inputs=2, doc="Sums the rows of data in sorted segments.",
                     gradient=_segment_sum_grad)


def segment_sum(data, segment_ids, name=None):
    """The sums of the rows of `data` by segment (op ``SegmentSum``).

    Args:
      data: a numeric Tensor of rank >= 1.
      segment_ids: a sorted 1-D int32/int64 Tensor of non-negative ids, one per row of
        `data`.
      name: the op name.

    Returns:
      A Tensor of shape ``[max(segment_ids) + 1] + data.shape[1:]``; segments without rows
      are 0. Unsorted or negative ids, or a length that is not ``data.shape[0]``, are an
      InvalidArgumentError when the graph runs.

    Raises:
      ValueError: for static shapes that do not fit.
    """
    graph = math_ops._find_graph((data, segment_ids))
    with graph.as_default(), graph.name_scope(name or "SegmentSum") as scope:
        data_t = array_ops._tensor(data, "data", graph)
        ids_t = array_ops._index_tensor(segment_ids, "segment_ids", graph)
        return graph.create_op("SegmentSum", [data_t, ids_t], name=scope).outputs[0]


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
