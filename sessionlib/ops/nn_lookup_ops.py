"""Lookups and selection for models: ``tf.nn.embedding_lookup``, ``top_k``, ``in_top_k`` and
``dropout``.

``embedding_lookup`` is a ``GatherV2`` (so its gradient with respect to the params is sparse,
an `IndexedSlices`); over a list of partitions it maps each id to its row with TF's ``mod`` or
``div`` rule and gathers from the partitions' concatenation. ``top_k`` is TF's ``TopKV2`` (ties
go to the lower index) and ``in_top_k`` its ``InTopKV2``. ``dropout`` is a composite with TF 1's
signature and TF's seeding: it draws through ``random_uniform``, so a graph seed and an op seed
reproduce a mask. The kernels are bound by name in ``runtime/kernels/nn_model_kernels.py``.
"""

import collections
import numbers

import numpy as np

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework import registry
from sessionlib.framework.tensor_shape import TensorShape
from sessionlib.ops import _infer, array_ops, math_ops, random_ops
from sessionlib.ops.nn import nn

__all__ = ["embedding_lookup", "top_k", "in_top_k", "dropout"]

_INDEX = (dtypes.int32, dtypes.int64)


# ---- embedding_lookup -------------------------------------------------------------------

def _first_dim(tensor):
    """The number of rows of `tensor`: a Python int when static, else an int Tensor."""
    if tensor.shape.rank is not None and tensor.shape[0] is not None:
        return int(tensor.shape[0])
    return array_ops.shape(tensor)[0]


def _partition_rows(params, flat_ids, strategy):
    """The row of the partitions' concatenation holding each id, by TF's rules."""
    num = len(params)
    dtype = flat_ids.dtype

    def const(value):
        return graph_lib.convert_to_tensor(value, dtype=dtype)

    sizes = [_first_dim(p) for p in params]
    if strategy == "mod":
        assignment = math_ops.floormod(flat_ids, const(num))
        new_ids = math_ops.floordiv(flat_ids, const(num))
    else:
        if all(isinstance(s, int) for s in sizes):
            total = const(sum(sizes))
        else:
            total = math_ops.add_n([math_ops.cast(s, dtype) if isinstance(s, graph_lib.Tensor)
                                    else const(s) for s in sizes])
        per_partition = math_ops.floordiv(total, const(num))
        extras = math_ops.floormod(total, const(num))
        assignment = math_ops.maximum(
            math_ops.floordiv(flat_ids, math_ops.add(per_partition, const(1))),
            math_ops.floordiv(math_ops.subtract(flat_ids, extras), per_partition))
        in_extras = math_ops.cast(math_ops.less(assignment, extras), dtype)
        new_ids = math_ops.add(
            math_ops.multiply(in_extras, math_ops.floormod(
                flat_ids, math_ops.add(per_partition, const(1)))),
            math_ops.multiply(math_ops.subtract(const(1), in_extras), math_ops.floormod(
                math_ops.subtract(flat_ids, extras), per_partition)))
    if all(isinstance(s, int) for s in sizes):
        offsets = const(np.cumsum([0] + sizes[:-1]))
    else:
        starts = [const(0)]
        for size in sizes[:-1]:
            size = math_ops.cast(size, dtype) if isinstance(size, graph_lib.Tensor) \
                else const(size)
            starts.append(math_ops.add(starts[-1], size))
        offsets = array_ops.stack(starts)
    return math_ops.add(array_ops.gather(offsets, assignment), new_ids)


def _clip_rows(values, ids, max_norm):
    """Rescales each looked-up embedding whose L2 norm exceeds `max_norm` (TF's ``_clip``)."""
    if max_norm is None:
        return values
    ids_rank, rank = ids.shape.rank, values.shape.rank
    if ids_rank is None or rank is None:
        axes = math_ops.cast(array_ops.range(array_ops.rank(ids), array_ops.rank(values)),
                             dtypes.int32)
    else:
        axes = list(range(ids_rank, rank))
    square_sum = math_ops.reduce_sum(math_ops.multiply(values, values), axes, keepdims=True)
    positive = math_ops.greater(square_sum, array_ops.zeros_like(square_sum))
    safe = array_ops.where(positive, square_sum, array_ops.ones_like(square_sum))
    norm = array_ops.where(positive, math_ops.sqrt(safe), square_sum)
    clip = graph_lib.convert_to_tensor(max_norm, dtype=values.dtype)
    return math_ops.realdiv(math_ops.multiply(values, clip), math_ops.maximum(norm, clip))


def embedding_lookup(params, ids, partition_strategy="mod", name=None, validate_indices=True,
                     max_norm=None):
    """The rows of `params` at `ids` (a ``GatherV2``; sparse gradient for the params).

    Args:
      params: a Tensor or Variable, or a list of them (partitions along the first dimension,
        by `partition_strategy`).
      ids: an int32/int64 Tensor of ids.
      partition_strategy: 'mod' (id ``i`` lives in partition ``i % n``, row ``i // n``) or
        'div' (consecutive ids fill the partitions in order); only used for a list.
      name: the op name.
      validate_indices: ignored, as in TF.
      max_norm: if set, embeddings with a larger L2 norm are scaled down to it.

    Returns:
      A Tensor of shape ``ids.shape + params.shape[1:]``. An id out of range is an
      InvalidArgumentError when the graph runs.

    Raises:
      ValueError: for an empty list or an unknown `partition_strategy`.
    """
    del validate_indices
    if partition_strategy not in ("mod", "div"):
        raise ValueError(f"Unrecognized partition strategy: {partition_strategy}")
    if isinstance(params, (list, tuple)):
        params = list(params)
    else:
        params = [params]
    if not params:
        raise ValueError("Need at least one param")
    graph = math_ops._find_graph(params + [ids])
    with graph.as_default(), graph.name_scope(name or "embedding_lookup") as scope:
        tensors = [graph_lib.convert_to_tensor(p, name="params") for p in params]
        ids = array_ops._index_tensor(ids, "ids", graph)
        if len(tensors) == 1:
            result = array_ops.gather(tensors[0], ids)
            if max_norm is None:
                return array_ops.identity(result, name=scope)
            return array_ops.identity(_clip_rows(result, ids, max_norm), name=scope)
        rows = _partition_rows(tensors, ids, partition_strategy)
        stacked = array_ops.concat(tensors, 0)
        result = array_ops.gather(stacked, rows)
        return array_ops.identity(_clip_rows(result, ids, max_norm), name=scope)


# ---- TopKV2 -----------------------------------------------------------------------------

TopKV2 = collections.namedtuple("TopKV2", ["values", "indices"])


def _top_k_infer(inputs, attrs):
    values, k = inputs
    _infer.check_dtype("TopKV2", values, dtypes.NUMERIC_DTYPES, "input")
    _infer.check_dtype("TopKV2", k, (dtypes.int32,), "k")
    attrs["T"] = values.dtype
    attrs["sorted"] = bool(attrs.get("sorted", True))
    if k.shape.rank not in (None, 0):
        raise ValueError(f"Shape must be rank 0 but is rank {k.shape.rank} for 'TopKV2'")
    shape = values.shape.with_rank_at_least(1)
    k_value = _infer.folded_value(k)
    if shape.rank is None:
        out = TensorShape(None)
    else:
        last = shape[-1]
        if k_value is not None:
            k_int = int(k_value)
            if k_int < 0:
                raise ValueError(f"Need k >= 0, got {k_int}")
            if last is not None and last < k_int:
                raise ValueError(f"input must have last dimension >= k = {k_int} but is "
                                 f"{last} for 'TopKV2' with input shapes: {shape}, [].")
            last = k_int
        else:
            last = None
        out = TensorShape(shape.as_list()[:-1] + [last])
    return [(values.dtype, out), (dtypes.int32, out)]


def _top_k_grad(op, grad_values, unused_grad_indices):
    # The values' gradient goes back to the positions they came from: a scatter of each row's
    # k gradients into a row of zeros (the indices of one row are distinct).
    values, indices = op.inputs[0], op.outputs[1]
    in_shape = array_ops.shape(values, out_type=dtypes.int64)
    last = in_shape[-1:]
    k = array_ops.shape(indices, out_type=dtypes.int64)[-1:]
    indices_2d = array_ops.reshape(math_ops.cast(indices, dtypes.int64),
                                   array_ops.concat([graph_lib.convert_to_tensor(
                                       [-1], dtype=dtypes.int64), k], 0))
    rows = array_ops.shape(indices_2d, out_type=dtypes.int64)[:1]
    row_starts = array_ops.expand_dims(math_ops.multiply(
        array_ops.range(graph_lib.convert_to_tensor(0, dtype=dtypes.int64),
                        math_ops.cast(rows[0], dtypes.int64)), last), -1)
    flat = array_ops.reshape(math_ops.add(indices_2d, row_starts), [-1, 1])
    total = math_ops.reduce_prod(in_shape, keepdims=True)
    grad = graph_lib.convert_to_tensor(grad_values)
    dense = op.graph.create_op(
        "SparseToDense", [flat, total, array_ops.reshape(grad, [-1]),
                          graph_lib.convert_to_tensor(0, dtype=grad.dtype)],
        {"validate_indices": False}).outputs[0]
    return [array_ops.reshape(dense, in_shape), None]


registry.register_op("TopKV2", infer=_top_k_infer, num_inputs=2, gradient=_top_k_grad,
                     doc="The k largest entries of each last-dimension row, and their "
                         "indices.")


def top_k(input, k=1, sorted=True, name=None):  # noqa: A002 - TF's argument names
    """The `k` largest entries of each row along the last dimension (op ``TopKV2``).

    Args:
      input: a numeric Tensor of rank >= 1.
      k: an int32 scalar (Python int or Tensor), at most the last dimension.
      sorted: whether the values come in descending order (they always do here).
      name: the op name.

    Returns:
      A ``(values, indices)`` named tuple; equal values keep the lower index first.

    Raises:
      ValueError: for ``k < 0`` or a last dimension below `k` that is known statically.
    """
    graph = math_ops._find_graph((input, k))
    with graph.as_default(), graph.name_scope(name or "TopKV2") as scope:
        values = graph_lib.convert_to_tensor(input, name="input")
        k_t = graph_lib.convert_to_tensor(k, dtype=dtypes.int32, name="k")
        op = graph.create_op("TopKV2", [values, k_t], {"sorted": bool(sorted)}, name=scope)
    return TopKV2(op.outputs[0], op.outputs[1])


# ---- InTopKV2 ---------------------------------------------------------------------------

def _in_top_k_infer(inputs, attrs):
    predictions, targets, k = inputs
    _infer.check_dtype("InTopKV2", predictions, dtypes.FLOAT_DTYPES, "predictions")
    _infer.same_dtype("InTopKV2", [targets, k], names=("targets", "k"))
    _infer.check_index_dtype("InTopKV2", targets, "targets")
    attrs["T"] = targets.dtype
    shape = predictions.shape.with_rank(2)
    batch = TensorShape(shape.as_list()[:1] if shape.rank else None)
    batch = batch.merge_with(targets.shape.with_rank(1)) if shape.rank else \
        targets.shape.with_rank(1)
    if k.shape.rank not in (None, 0):
        raise ValueError(f"Shape must be rank 0 but is rank {k.shape.rank} for 'InTopKV2'")
    return [(dtypes.bool, batch)]


registry.register_op("InTopKV2", infer=_in_top_k_infer, num_inputs=3,
                     gradient=registry.NOT_DIFFERENTIABLE,
                     doc="Whether each target's prediction is among the k largest of its row.")


def in_top_k(predictions, targets, k, name=None):
    """Whether ``predictions[i, targets[i]]`` is among the `k` largest of row ``i``
    (op ``InTopKV2``); ties at the boundary count as in, as in TF.

    Args:
      predictions: a [batch, classes] floating Tensor.
      targets: a [batch] int32/int64 Tensor of class ids.
      k: the number of top elements to look at.
      name: the op name.

    Returns:
      A [batch] bool Tensor. A target out of range, or a non-finite prediction, is False.
    """
    graph = math_ops._find_graph((predictions, targets, k))
    with graph.as_default(), graph.name_scope(name or "in_top_k") as scope:
        predictions = graph_lib.convert_to_tensor(predictions, name="predictions")
        targets = array_ops._index_tensor(targets, "targets", graph)
        k_t = graph_lib.convert_to_tensor(k, dtype=targets.dtype, name="k")
        return graph.create_op("InTopKV2", [predictions, targets, k_t], name=scope).outputs[0]


# ---- dropout ----------------------------------------------------------------------------

def _noise_shape(x, noise_shape):
    if noise_shape is None:
        return array_ops.shape(x)
    if isinstance(noise_shape, graph_lib.Tensor):
        return noise_shape
    dims = list(noise_shape)
    if x.shape.rank is not None and len(dims) == x.shape.rank:
        dims = [x.shape[i] if d is None else d for i, d in enumerate(dims)]
    if any(d is None for d in dims):
        raise ValueError(f"noise_shape {noise_shape} has unknown dimensions")
    return dims


def dropout(x, keep_prob=None, noise_shape=None, seed=None, name=None, rate=None):
    """Zeroes each element of `x` with probability ``rate = 1 - keep_prob`` and scales the
    rest by ``1 / keep_prob``, so that the expected sum is unchanged.

    Args:
      x: a floating Tensor.
      keep_prob: TF 1's argument: the probability of keeping an element, in (0, 1]; a
        Python number or a scalar Tensor (often a placeholder fed 1.0 at evaluation).
      noise_shape: the shape of the random keep mask, broadcast against `x` (default: x's).
      seed: the op seed; with the graph seed (`set_random_seed`) it fixes the masks.
      name: the name scope.
      rate: the newer spelling: the probability of dropping, in [0, 1).

    Returns:
      A Tensor of `x`'s shape and dtype. With ``keep_prob=1`` (``rate=0``) as a Python number,
      `x` itself.

    Raises:
      ValueError: if both or neither of `keep_prob` and `rate` are given, the probability is
        out of range, or `x` is not floating.
    """
    if keep_prob is not None and rate is not None:
        raise ValueError("Cannot specify both 'rate' and 'keep_prob'")
    if keep_prob is None and rate is None:
        raise ValueError("You must provide a rate to dropout.")
    if keep_prob is not None and isinstance(keep_prob, numbers.Real):
        if not 0 < keep_prob <= 1:
            raise ValueError(f"keep_prob must be a scalar tensor or a float in the range "
                             f"(0, 1], got {keep_prob}")
    graph = math_ops._find_graph((x, keep_prob, rate))
    with graph.as_default(), graph.name_scope(name or "dropout") as scope:
        x = graph_lib.convert_to_tensor(x, name="x")
        if not x.dtype.is_floating:
            raise ValueError("x has to be a floating point tensor since it's going to be "
                             f"scaled. Got a {x.dtype.name} tensor instead.")
        if keep_prob is not None:
            if isinstance(keep_prob, numbers.Real):
                rate = 1.0 - float(keep_prob)
            else:
                keep_t = graph_lib.convert_to_tensor(keep_prob, dtype=x.dtype, name="keep_prob")
                rate = math_ops.subtract(graph_lib.convert_to_tensor(1, dtype=x.dtype),
                                         keep_t, name="rate")
        if isinstance(rate, numbers.Real):
            if not 0 <= rate < 1:
                raise ValueError("rate must be a scalar tensor or a float in the range [0, 1),"
                                 f" got {rate:g}")
            if rate == 0:
                # TF's fast path: nothing is dropped, and x itself comes back.
                return x
            rate_t = graph_lib.convert_to_tensor(rate, dtype=x.dtype, name="rate")
        else:
            rate_t = graph_lib.convert_to_tensor(rate, dtype=x.dtype, name="rate")
            if rate_t.shape.rank not in (None, 0):
                raise ValueError(f"rate must be a scalar tensor, got shape {rate_t.shape}")
        random = random_ops.random_uniform(_noise_shape(x, noise_shape), seed=seed,
                                           dtype=x.dtype)
        one = graph_lib.convert_to_tensor(1, dtype=x.dtype)
        scale = math_ops.realdiv(one, math_ops.subtract(one, rate_t))
        keep_mask = math_ops.cast(math_ops.greater_equal(random, rate_t), x.dtype)
        return math_ops.multiply(math_ops.multiply(x, scale), keep_mask, name=scope)


for _name in __all__:
    setattr(nn, _name, globals()[_name])
