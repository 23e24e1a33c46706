"""Sampled losses for many classes: ``tf.nn.nce_loss`` and ``tf.nn.sampled_softmax_loss``.

Both score each example against its true classes and a few sampled classes only, instead of
every class. The logits are the rows of `weights` (and `biases`) for the true and the sampled
ids, looked up together by ``embedding_lookup`` (so the weights may be a list of shards, and
their gradients are sparse), dotted with the inputs, minus the log of each class's expected
count (log Q). Sampled classes that equal a true class of the row can be masked with
``ComputeAccidentalHits``. These are composites of registered ops: no op of their own.
"""

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.ops import array_ops, candidate_sampling_ops, gradients, math_ops
from sessionlib.ops import nn_lookup_ops, nn_loss_ops
from sessionlib.ops.nn import nn
from sessionlib.ops.partitioned_variables import PartitionedVariable

__all__ = ["nce_loss", "sampled_softmax_loss"]


def _shards(weights):
    """`weights` as a list of shards (a `PartitionedVariable` is its shards, as in TF)."""
    if isinstance(weights, (list, tuple, PartitionedVariable)):
        return list(weights)
    return [weights]


def _row_dot(inputs, true_w, num_true):
    """``[batch, num_true]`` dot products of each input row with its true classes' rows."""
    dim = true_w.shape[1] if true_w.shape.rank == 2 else None
    if dim is None:
        dim = array_ops.shape(true_w)[1]
    per_class = array_ops.reshape(true_w, [-1, num_true, dim])
    products = math_ops.multiply(array_ops.expand_dims(inputs, 1), per_class)
    return math_ops.reduce_sum(products, axis=2)


def _accidental_hit_mask(labels, sampled, num_true, num_sampled, like):
    """A ``[batch, num_sampled]`` tensor: ``-FLT_MAX`` where a sampled class is a true class of
    the row, else 0."""
    rows, positions, weights = candidate_sampling_ops.compute_accidental_hits(
        labels, sampled, num_true=num_true)
    coordinates = array_ops.concat(
        [array_ops.reshape(rows, [-1, 1]),
         array_ops.reshape(math_ops.cast(positions, dtypes.int32), [-1, 1])], 1,
        name="sparse_indices")
    shape = array_ops.concat([array_ops.shape(labels)[:1],
                              graph_lib.convert_to_tensor([num_sampled], dtype=dtypes.int32)],
                             0)
    weights = math_ops.cast(weights, like.dtype)
    # SparseToDense writes (not adds) repeated coordinates, so a class that is twice among a
    # row's true classes still masks with -FLT_MAX, not with -inf.
    return like.graph.create_op(
        "SparseToDense",
        [coordinates, shape, weights, graph_lib.convert_to_tensor(0, dtype=like.dtype)],
        {"validate_indices": False}, name="SparseToDense").outputs[0]


def _sampled_logits(weights, biases, labels, inputs, num_sampled, num_classes, num_true,
                    sampled_values, remove_accidental_hits, partition_strategy, seed):
    """The logits of the true and sampled classes, ``[batch, num_true + num_sampled]``, and
    their labels (``1 / num_true`` for the true classes, 0 for the sampled ones)."""
    labels = graph_lib.convert_to_tensor(labels)
    if labels.dtype is not dtypes.int64:
        labels = math_ops.cast(labels, dtypes.int64)
    inputs = graph_lib.convert_to_tensor(inputs, name="inputs")
    if labels.shape.rank == 1:
        # TF's documented shape is [batch, num_true]; a vector is one class per example.
        labels = array_ops.reshape(labels, [-1, num_true])
    flat_labels = array_ops.reshape(labels, [-1])
    if sampled_values is None:
        sampled_values = candidate_sampling_ops.log_uniform_candidate_sampler(
            true_classes=labels, num_true=num_true, num_sampled=num_sampled, unique=True,
            range_max=num_classes, seed=seed)
    # The sampler's outputs are not differentiable, and given ones must not be either.
    sampled, true_expected, sampled_expected = (gradients.stop_gradient(v)
                                                for v in sampled_values)
    sampled = math_ops.cast(sampled, dtypes.int64)
    all_ids = array_ops.concat([flat_labels, sampled], 0)
    num_labels = array_ops.shape(flat_labels)[0]

    all_w = nn_lookup_ops.embedding_lookup(weights, all_ids,
                                           partition_strategy=partition_strategy)
    if all_w.dtype != inputs.dtype:
        all_w = math_ops.cast(all_w, inputs.dtype)
    true_w = array_ops.slice(all_w, [0, 0], [num_labels, -1])
    sampled_w = array_ops.slice(all_w, [num_labels, 0], [-1, -1])
    sampled_logits = math_ops.matmul(inputs, sampled_w, transpose_b=True)

    all_b = nn_lookup_ops.embedding_lookup(biases, all_ids,
                                           partition_strategy=partition_strategy)
    if all_b.dtype != inputs.dtype:
        all_b = math_ops.cast(all_b, inputs.dtype)
    true_b = array_ops.reshape(array_ops.slice(all_b, [0], [num_labels]), [-1, num_true])
    sampled_b = array_ops.slice(all_b, [num_labels], [-1])

    true_logits = math_ops.add(_row_dot(inputs, true_w, num_true), true_b)
    sampled_logits = math_ops.add(sampled_logits, sampled_b)
    if remove_accidental_hits:
        sampled_logits = math_ops.add(sampled_logits, _accidental_hit_mask(
            labels, sampled, num_true, num_sampled, sampled_logits))
    # Subtract log Q: how often sampling is expected to pick each class.
    true_logits = math_ops.subtract(
        true_logits, math_ops.log(math_ops.cast(true_expected, true_logits.dtype)))
    sampled_logits = math_ops.subtract(
        sampled_logits, math_ops.log(math_ops.cast(sampled_expected, sampled_logits.dtype)))
    logits = array_ops.concat([true_logits, sampled_logits], 1)
    true_share = graph_lib.convert_to_tensor(1.0 / num_true, dtype=true_logits.dtype)
    targets = array_ops.concat([
        math_ops.multiply(array_ops.ones_like(true_logits), true_share),
        array_ops.zeros_like(sampled_logits)], 1)
    return logits, targets


def _check_counts(num_sampled, num_classes, num_true, partition_strategy):
    for name, value in (("num_sampled", num_sampled), ("num_classes", num_classes),
                        ("num_true", num_true)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    if partition_strategy not in ("mod", "div"):
        raise ValueError(f"Unrecognized partition strategy: {partition_strategy}")


def _sampled_loss(losses_of, default_name, name, weights, biases, labels, inputs,
                  num_sampled, num_classes, num_true, sampled_values, remove_accidental_hits,
                  partition_strategy, seed):
    """`losses_of(logits, targets)` in a name scope, for the sampled logits of the args."""
    _check_counts(num_sampled, num_classes, num_true, partition_strategy)
    graph = math_ops._find_graph(_shards(weights) + _shards(biases) + [labels, inputs])
    with graph.as_default(), graph.name_scope(name or default_name):
        logits, targets = _sampled_logits(
            weights, biases, labels, inputs, num_sampled, num_classes, num_true,
            sampled_values, remove_accidental_hits, partition_strategy, seed)
        return losses_of(logits, targets)


def _nce_losses(logits, targets):
    losses = nn_loss_ops.sigmoid_cross_entropy_with_logits(labels=targets, logits=logits,
                                                           name="sampled_losses")
    return math_ops.reduce_sum(losses, axis=1)


def _softmax_losses(logits, targets):
    targets = gradients.stop_gradient(targets, name="labels_stop_gradient")
    return nn_loss_ops.softmax_cross_entropy_with_logits_v2(labels=targets, logits=logits)


def nce_loss(weights, biases, labels, inputs, num_sampled, num_classes, num_true=1,
             sampled_values=None, remove_accidental_hits=False, partition_strategy="mod",
             name="nce_loss"):
    """The noise-contrastive estimation loss of each example (TF 1's ``tf.nn.nce_loss``):
    the logistic loss of telling its true classes (label ``1 / num_true``) from sampled ones
    (label 0), with logits corrected by log Q.

    Args:
      weights: a ``[num_classes, dim]`` Tensor or Variable, or a list of shards of it (or a
        `PartitionedVariable`), split by `partition_strategy`.
      biases: a ``[num_classes]`` Tensor, or shards of it like `weights`.
      labels: an int ``[batch_size, num_true]`` Tensor of the target classes.
      inputs: a ``[batch_size, dim]`` Tensor of the activations.
      num_sampled: the number of classes to sample per batch.
      num_classes: the number of classes.
      num_true: the number of target classes per example.
      sampled_values: a ``(sampled_candidates, true_expected_count,
        sampled_expected_count)`` tuple from a sampler; None samples with
        `log_uniform_candidate_sampler` (``unique=True``).
      remove_accidental_hits: whether to mask sampled classes that equal a target class.
      partition_strategy: 'mod' or 'div', as for `embedding_lookup`.
      name: the name scope.

    Returns:
      A ``[batch_size]`` Tensor of the per-example losses.

    Raises:
      ValueError: for a bad count or partition strategy.
    """
    return _sampled_loss(_nce_losses, "nce_loss", name, weights, biases, labels, inputs,
                         num_sampled, num_classes, num_true, sampled_values,
                         remove_accidental_hits, partition_strategy, seed=None)


def sampled_softmax_loss(weights, biases, labels, inputs, num_sampled, num_classes,
                         num_true=1, sampled_values=None, remove_accidental_hits=True,
                         partition_strategy="mod", name="sampled_softmax_loss", seed=None):
    """The softmax cross-entropy of each example over its true classes and sampled ones
    (TF 1's ``tf.nn.sampled_softmax_loss``), with logits corrected by log Q; a cheap
    training stand-in for the full softmax over `num_classes`.

    Args:
      weights, biases, labels, inputs, num_sampled, num_classes, num_true, sampled_values,
        partition_strategy: as for `nce_loss`.
      remove_accidental_hits: whether to mask sampled classes that equal a target class
        (default True, as in TF).
      name: the name scope.
      seed: the op seed of the default sampler.

    Returns:
      A ``[batch_size]`` Tensor of the per-example losses.

    Raises:
      ValueError: for a bad count or partition strategy.
    """
    return _sampled_loss(_softmax_losses, "sampled_softmax_loss", name, weights, biases,
                         labels, inputs, num_sampled, num_classes, num_true, sampled_values,
                         remove_accidental_hits, partition_strategy, seed)


for _name in __all__:
    setattr(nn, _name, globals()[_name])
