"""``tf.nn.embedding_lookup_sparse`` and ``tf.nn.safe_embedding_lookup_sparse``: embeddings of
the ids in each row of a SparseTensor, combined by sum, mean or sqrt(n).

Design. Both are compositions, as in TF: the distinct ids are looked up once with
``embedding_lookup`` (a gather, so the params' gradient stays an `IndexedSlices`), and the rows
are combined per batch row by segment reductions: ``SparseSegment{Sum,Mean,SqrtN}`` without
weights, weighted ``SegmentSum`` with them. The output has one row per segment id up to the
largest present, as TF's; the safe variant first fills empty rows, so it has every row.
"""

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework.sparse_tensor import SparseTensor
from sessionlib.ops import array_extra_ops, array_ops, math_ops, metrics_ops
from sessionlib.ops import sparse_manipulation_ops as sparse_ops
from sessionlib.ops.nn_lookup_ops import embedding_lookup
from sessionlib.ops.segment_ops import segment_sum
from sessionlib.ops.sparse_math_ops import (sparse_segment_mean, sparse_segment_sqrt_n,
                                            sparse_segment_sum)

__all__ = ["embedding_lookup_sparse", "safe_embedding_lookup_sparse"]

_COMBINERS = ("mean", "sqrtn", "sum")
_UNWEIGHTED = {"sum": sparse_segment_sum, "mean": sparse_segment_mean,
               "sqrtn": sparse_segment_sqrt_n}


def _as_list(params):
    if isinstance(params, (list, tuple)):
        return list(params)
    if hasattr(params, "_get_variable_list"):   # a PartitionedVariable
        return list(params)
    return [params]


def embedding_lookup_sparse(params, sp_ids, sp_weights, partition_strategy="mod", name=None,
                            combiner=None, max_norm=None, allow_fast_lookup=False):
    """The combined embeddings of each row's ids (``tf.nn.embedding_lookup_sparse``).

    Args:
      params: the embedding table (a Tensor or Variable), or a list of partitions of it.
      sp_ids: a rank-2 int SparseTensor of ids, rows in canonical order.
      sp_weights: a float SparseTensor of the same indices, or None (weights 1).
      partition_strategy: "mod" or "div", for a list of partitions.
      name: the op name.
      combiner: "mean" (the default), "sqrtn" or "sum".
      max_norm: if set, embeddings of larger L2 norm are scaled down to it before combining.
      allow_fast_lookup: accepted for TF's signature; the lookup is the same either way.

    Returns:
      A dense Tensor ``[last row with ids + 1] + params.shape[1:]``.

    Raises:
      TypeError: if `sp_ids` or `sp_weights` is not a SparseTensor (or None).
      ValueError: for an unknown combiner.
    """
    del allow_fast_lookup
    combiner = "mean" if combiner is None else combiner
    if combiner not in _COMBINERS:
        raise ValueError(f"combiner must be one of 'mean', 'sqrtn' or 'sum', got {combiner}")
    params = _as_list(params)
    if not isinstance(sp_ids, SparseTensor):
        raise TypeError(f"sp_ids must be SparseTensor, got {type(sp_ids)}")
    if sp_weights is not None:
        if not isinstance(sp_weights, SparseTensor):
            raise TypeError(f"sp_weights must be either None or SparseTensor,got "
                            f"{type(sp_weights)}")
        sp_ids.values.shape.assert_is_compatible_with(sp_weights.values.shape)
        sp_ids.indices.shape.assert_is_compatible_with(sp_weights.indices.shape)
    with graph_lib.name_scope(name, "embedding_lookup_sparse", params + [sp_ids.values]):
        segment_ids = sp_ids.indices[:, 0]
        unique_ids, positions = array_extra_ops.unique(sp_ids.values)
        embeddings = embedding_lookup(params, unique_ids, partition_strategy=partition_strategy,
                                      max_norm=max_norm)
        if sp_weights is None:
            return _UNWEIGHTED[combiner](embeddings, positions, segment_ids)
        segment_ids = math_ops.cast(segment_ids, dtypes.int32)
        embeddings = array_ops.gather(embeddings, positions)
        original_dtype = embeddings.dtype
        if original_dtype == dtypes.float16:
            # TF sums half-precision embeddings in float32.
            embeddings = math_ops.cast(embeddings, dtypes.float32)
        weights = math_ops.cast(sp_weights.values, embeddings.dtype)
        # One weight per id, broadcast over the embedding's trailing dimensions.
        trailing = array_ops.expand_dims(array_ops.rank(embeddings) - 1, 0)
        weights = array_ops.reshape(weights, array_ops.concat(
            [array_ops.shape(weights), array_ops.ones(trailing, dtype=dtypes.int32)], 0))
        summed = segment_sum(embeddings * weights, segment_ids)
        if combiner == "sum":
            result = summed
        elif combiner == "mean":
            result = metrics_ops.div_no_nan(summed, segment_sum(weights, segment_ids))
        else:
            result = metrics_ops.div_no_nan(
                summed, math_ops.sqrt(segment_sum(math_ops.square(weights), segment_ids)))
        if result.dtype != original_dtype:
            result = math_ops.cast(result, original_dtype)
        return result


def safe_embedding_lookup_sparse(embedding_weights, sparse_ids, sparse_weights=None,
                                 combiner="mean", default_id=None, name=None,
                                 partition_strategy="div", max_norm=None,
                                 allow_fast_lookup=False):
    """Like `embedding_lookup_sparse`, robust to invalid input
    (``tf.nn.safe_embedding_lookup_sparse``): negative ids (and, unless summing, non-positive
    weights) are dropped, empty rows get `default_id`'s embedding (or zeros), and ids of
    rank > 2 are combined over their last dimension.

    Args:
      embedding_weights: the embedding table, or a list of partitions of it.
      sparse_ids: an int SparseTensor ``[d_0, ..., d_n-1, k]`` of ids.
      sparse_weights: a float SparseTensor of the same indices, or None.
      combiner: "mean", "sqrtn" or "sum".
      default_id: the id whose embedding empty rows get; None gives them zeros.
      name: the op name.
      partition_strategy: "div" or "mod", for a list of partitions.
      max_norm: if set, embeddings of larger L2 norm are scaled down to it.
      allow_fast_lookup: accepted for TF's signature.

    Returns:
      A dense Tensor ``[d_0, ..., d_n-1] + embedding dims``.

    Raises:
      ValueError: if `embedding_weights` is empty.
    """
    if embedding_weights is None:
        raise ValueError(f"Missing embedding_weights {embedding_weights}.")
    embedding_weights = _as_list(embedding_weights)
    if not embedding_weights:
        raise ValueError(f"Missing embedding_weights {embedding_weights}.")
    dtype = sparse_weights.dtype if sparse_weights is not None else None
    embedding_weights = [graph_lib.convert_to_tensor(w, dtype=dtype)
                         for w in embedding_weights]
    with graph_lib.name_scope(name, "embedding_lookup",
                              embedding_weights + [sparse_ids.values]) as scope:
        original_shape = sparse_ids.dense_shape
        rank_dim = original_shape.shape[0]
        rank = array_ops.size(original_shape) if rank_dim is None else int(rank_dim)
        sparse_ids = sparse_ops.sparse_reshape(sparse_ids, array_ops.stack([
            math_ops.reduce_prod(array_ops.slice(original_shape, [0], [rank - 1])),
            array_ops.gather(original_shape, rank - 1)]))
        if sparse_weights is not None:
            sparse_weights = SparseTensor(sparse_ids.indices, sparse_weights.values,
                                          sparse_ids.dense_shape)
        sparse_ids, sparse_weights = _retain(
            sparse_ids, sparse_weights, math_ops.greater_equal(sparse_ids.values, 0))
        if combiner != "sum" and sparse_weights is not None:
            sparse_ids, sparse_weights = _retain(
                sparse_ids, sparse_weights, math_ops.greater(sparse_weights.values, 0))
        sparse_ids, is_row_empty = sparse_ops.sparse_fill_empty_rows(sparse_ids,
                                                                     default_id or 0)
        if sparse_weights is not None:
            sparse_weights, _ = sparse_ops.sparse_fill_empty_rows(sparse_weights, 1.0)
        result = embedding_lookup_sparse(embedding_weights, sparse_ids, sparse_weights,
                                         combiner=combiner,
                                         partition_strategy=partition_strategy,
                                         max_norm=max_norm)
        if default_id is None:
            is_row_empty = array_ops.tile(array_ops.reshape(is_row_empty, [-1, 1]),
                                          array_ops.stack([1, array_ops.shape(result)[1]]))
            result = array_ops.where(is_row_empty, array_ops.zeros_like(result), result)
        final = array_ops.reshape(result, array_ops.concat([
            array_ops.slice(math_ops.cast(original_shape, dtypes.int32), [0], [rank - 1]),
            array_ops.slice(array_ops.shape(result), [1], [-1])], 0), name=scope)
        return final


def _retain(sparse_ids, sparse_weights, keep):
    """`sparse_ids` and `sparse_weights` (or None) restricted to the entries where `keep`."""
    sparse_ids = sparse_ops.sparse_retain(sparse_ids, keep)
    if sparse_weights is not None:
        sparse_weights = sparse_ops.sparse_retain(sparse_weights, keep)
    return sparse_ids, sparse_weights
