"""``tf.contrib.losses``: TF 1's deprecated contrib loss functions, with contrib's signatures,
over ``tf.losses``.

What differs from ``tf.losses`` is only what contrib defined:

* the argument order: ``(predictions, labels)`` and ``(logits, labels)``;
* `weights` of lower rank than the losses scale their *leading* dimensions (a ``[batch]``
  weight scales every element of its row); a trailing size-1 dimension of `weights` is
  squeezed first, and the softmax losses squeeze every size-1 dimension. The weights are
  reshaped to the losses' rank and handed to ``tf.losses``, whose ``SUM_BY_NONZERO_WEIGHTS``
  reduction then is exactly contrib's mean over the elements with a nonzero weight;
* ``hinge_loss`` returns the unreduced elementwise losses, and ``cosine_distance`` reduces
  `axis` away before weighting;
* ``sparse_softmax_cross_entropy`` flattens `labels` to ``[batch]``.
"""

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.losses import losses_impl
from sessionlib.losses.util import (add_loss, get_losses, get_regularization_losses,
                                    get_total_loss)
from sessionlib.ops import array_ops, math_ops

__all__ = ["absolute_difference", "add_loss", "compute_weighted_loss", "cosine_distance",
           "get_losses", "get_regularization_losses", "get_total_loss", "hinge_loss",
           "log_loss", "mean_squared_error", "sigmoid_cross_entropy", "softmax_cross_entropy",
           "sparse_softmax_cross_entropy"]


def __getattr__(name):
    from sessionlib import contrib

    raise contrib.unsupported(f"losses.{name}")


def _leading_weights(weights, losses_rank):
    """contrib's `weights` as a Tensor of rank `losses_rank`: a trailing size-1 dimension
    squeezed, then size-1 dimensions appended, so that it scales the leading dimensions.

    Raises:
      ValueError: if a rank is unknown or `weights` has more dimensions than the losses.
    """
    weights = math_ops.cast(graph_lib.convert_to_tensor(weights), dtypes.float32)
    rank = weights.shape.rank
    if rank is None:
        raise ValueError("weights.get_shape().ndims cannot be None")
    if losses_rank is None:
        raise ValueError("losses.get_shape().ndims cannot be None")
    if rank > 1 and weights.shape[-1] in (None, 1):
        weights = array_ops.squeeze(weights, [-1])
        rank -= 1
    if rank == 0 or rank == losses_rank:
        return weights
    if rank > losses_rank:
        raise ValueError(f"weights of rank {rank} cannot scale losses of rank {losses_rank}")
    shape = array_ops.concat([array_ops.shape(weights), [1] * (losses_rank - rank)], 0)
    expanded = array_ops.reshape(weights, shape)
    expanded.set_shape(weights.shape.concatenate([1] * (losses_rank - rank)))
    return expanded


def _rank(tensor):
    return graph_lib.convert_to_tensor(tensor).shape.rank


def _squeezed(weights):
    # The softmax losses squeeze all size-1 dimensions of the weights, as contrib did.
    weights = graph_lib.convert_to_tensor(weights)
    return array_ops.squeeze(weights) if weights.shape.rank else weights


def compute_weighted_loss(losses, weights=1.0, scope=None):
    """The mean of `losses` scaled by `weights`, over the elements whose weight is nonzero;
    added to the ``LOSSES`` collection.

    Args:
      losses: a Tensor ``[batch, d1, ..., dN]`` of known rank.
      weights: a scalar or a Tensor whose shape is a prefix of `losses`' (a trailing size-1
        dimension is squeezed).
      scope: the name scope (default 'weighted_loss').

    Returns:
      A scalar in `losses`' dtype.

    Raises:
      ValueError: if a rank is unknown or the shapes do not fit.
    """
    losses = graph_lib.convert_to_tensor(losses)
    return losses_impl.compute_weighted_loss(
        losses, _leading_weights(weights, losses.shape.rank), scope=scope)


def absolute_difference(predictions, labels=None, weights=1.0, scope=None):
    """The weighted mean of ``|predictions - labels|``.

    Args:
      predictions: the predicted values.
      labels: the ground truth, of `predictions`' shape.
      weights: see `compute_weighted_loss`.
      scope: the name scope (default 'absolute_difference').

    Returns:
      A float32 scalar, also added to ``LOSSES``.

    Raises:
      ValueError: if the shapes do not fit or `labels` is None.
    """
    return losses_impl.absolute_difference(
        labels, predictions, _leading_weights(weights, _rank(predictions)), scope=scope)


def mean_squared_error(predictions, labels=None, weights=1.0, scope=None):
    """The weighted mean of ``(predictions - labels) ** 2``; arguments as
    `absolute_difference` (default scope 'mean_squared_error')."""
    return losses_impl.mean_squared_error(
        labels, predictions, _leading_weights(weights, _rank(predictions)), scope=scope)


def log_loss(predictions, labels=None, weights=1.0, epsilon=1e-7, scope=None):
    """The weighted mean of the binary log loss
    ``-labels * log(p + eps) - (1 - labels) * log(1 - p + eps)``.

    Args:
      predictions: probabilities in [0, 1].
      labels: 0/1 targets of `predictions`' shape.
      weights: see `compute_weighted_loss`.
      epsilon: added inside the logarithms.
      scope: the name scope (default 'log_loss').

    Returns:
      A float32 scalar, also added to ``LOSSES``.
    """
    return losses_impl.log_loss(labels, predictions,
                                _leading_weights(weights, _rank(predictions)),
                                epsilon=epsilon, scope=scope)


def sigmoid_cross_entropy(logits, multi_class_labels, weights=1.0, label_smoothing=0,
                          scope=None):
    """The weighted mean of the sigmoid cross-entropy; with `label_smoothing` the labels
    become ``labels * (1 - label_smoothing) + 0.5 * label_smoothing``.

    Args:
      logits: ``[batch, num_classes]`` logits.
      multi_class_labels: 0/1 targets of `logits`' shape.
      weights: see `compute_weighted_loss`.
      label_smoothing: in [0, 1].
      scope: the name scope (default 'sigmoid_cross_entropy_loss').

    Returns:
      A scalar of `logits`' dtype, also added to ``LOSSES``.
    """
    return losses_impl.sigmoid_cross_entropy(
        multi_class_labels, logits, _leading_weights(weights, _rank(logits)),
        label_smoothing=label_smoothing, scope=scope)


def softmax_cross_entropy(logits, onehot_labels, weights=1.0, label_smoothing=0, scope=None):
    """The weighted mean of the softmax cross-entropy; with `label_smoothing` the labels
    become ``onehot * (1 - label_smoothing) + label_smoothing / num_classes``.

    Args:
      logits: ``[batch, num_classes]`` logits.
      onehot_labels: ``[batch, num_classes]`` targets.
      weights: a scalar or per-example ``[batch]`` weights (size-1 dimensions squeezed).
      label_smoothing: in [0, 1].
      scope: the name scope (default 'softmax_cross_entropy_loss').

    Returns:
      A scalar of `logits`' dtype, also added to ``LOSSES``.
    """
    per_example_rank = _rank(logits) - 1 if _rank(logits) is not None else None
    return losses_impl.softmax_cross_entropy(
        onehot_labels, logits, _leading_weights(_squeezed(weights), per_example_rank),
        label_smoothing=label_smoothing, scope=scope)


def sparse_softmax_cross_entropy(logits, labels, weights=1.0, scope=None):
    """The weighted mean of the softmax cross-entropy with integer class labels.

    Args:
      logits: ``[batch, num_classes]`` logits.
      labels: ``[batch]`` or ``[batch, 1]`` class indices (reshaped to ``[batch]``).
      weights: a scalar or per-example ``[batch]`` weights (size-1 dimensions squeezed).
      scope: the name scope (default 'sparse_softmax_cross_entropy_loss').

    Returns:
      A scalar of `logits`' dtype, also added to ``LOSSES``.
    """
    labels = graph_lib.convert_to_tensor(labels)
    labels = array_ops.reshape(labels, array_ops.shape(labels)[:1])
    return losses_impl.sparse_softmax_cross_entropy(
        labels, logits, _leading_weights(_squeezed(weights), 1), scope=scope)


def hinge_loss(logits, labels=None, scope=None):
    """The elementwise hinge loss ``max(0, 1 - (2 * labels - 1) * logits)``, unreduced and
    not added to any collection (contrib's behaviour).

    Args:
      logits: the logits.
      labels: 0/1 targets of `logits`' shape.
      scope: the name scope (default 'hinge_loss').

    Returns:
      A float32 Tensor of `logits`' shape.

    Raises:
      ValueError: if the shapes do not fit.
    """
    logits = graph_lib.convert_to_tensor(logits)
    labels = graph_lib.convert_to_tensor(labels)
    logits.shape.assert_is_compatible_with(labels.shape)
    return losses_impl.hinge_loss(labels, logits, scope=scope or "hinge_loss",
                                  loss_collection=None,
                                  reduction=losses_impl.Reduction.NONE)


def cosine_distance(predictions, labels=None, axis=None, weights=1.0, scope=None, dim=None):
    """The weighted mean of ``1 - sum(predictions * labels, axis)`` (both unit-normalized
    along `axis`); `axis` is reduced away before weighting.

    Args:
      predictions: unit vectors along `axis`.
      labels: unit vectors of `predictions`' shape.
      axis: the dimension of the vectors (required).
      weights: see `compute_weighted_loss`, against the shape without `axis`.
      scope: the name scope (default 'cosine_distance_loss').
      dim: the deprecated name of `axis`.

    Returns:
      A float32 scalar, also added to ``LOSSES``.

    Raises:
      ValueError: if `axis` is missing (or given twice) or the shapes do not fit.
    """
    if dim is not None:
        if axis is not None:
            raise ValueError("Cannot specify both 'axis' and 'dim'")
        axis = dim
    if axis is None:
        raise ValueError("You must specify 'axis'.")
    predictions = math_ops.cast(graph_lib.convert_to_tensor(predictions), dtypes.float32)
    labels = math_ops.cast(graph_lib.convert_to_tensor(labels), dtypes.float32)
    predictions.shape.assert_is_compatible_with(labels.shape)
    graph = math_ops._find_graph((predictions, labels))
    with graph.as_default(), graph.name_scope(scope or "cosine_distance_loss") as name:
        losses = 1.0 - math_ops.reduce_sum(predictions * labels, axis=[axis])
        rank = losses.shape.rank
        return losses_impl.compute_weighted_loss(losses, _leading_weights(weights, rank),
                                                 scope=name)
