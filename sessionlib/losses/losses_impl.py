"""The loss functions of ``tf.losses`` (TF 1's ``tf.compat.v1.losses``) and their reductions.

Each loss computes an elementwise loss, then `compute_weighted_loss` scales it by `weights`
and reduces it as `reduction` says; the result goes into the ``LOSSES`` collection unless
``loss_collection`` is None. As in TF, each loss works in a name scope of its own
(``softmax_cross_entropy_loss`` ...) that `compute_weighted_loss` re-enters, so a reduced loss
is named ``<loss scope>/value:0``; and as in TF the weighting runs in float32 and the result
is cast back to the loss's dtype.

Why this shape: TF 1 model code takes the total loss from the collection
(`get_total_loss`) and counts on TF's exact reduction arithmetic (for example
``SUM_BY_NONZERO_WEIGHTS``, the default, divides by the number of nonzero weights, and gives 0
rather than NaN when there are none, through ``div_no_nan``).
"""

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.ops import array_ops, gradients, math_ops, metrics_ops
from sessionlib.ops.nn import nn
from sessionlib.losses import _weights
from sessionlib.losses import util

__all__ = ["Reduction", "compute_weighted_loss", "absolute_difference", "cosine_distance",
           "hinge_loss", "huber_loss", "log_loss", "mean_pairwise_squared_error",
           "mean_squared_error", "sigmoid_cross_entropy", "softmax_cross_entropy",
           "sparse_softmax_cross_entropy"]

_LOSSES = _weights.collection_key("LOSSES")


class Reduction:
    """The ways a weighted loss is reduced (TF's string values).

    NONE: the weighted losses, unreduced. SUM: their sum. MEAN: their sum over the sum of the
    weights. SUM_OVER_BATCH_SIZE: their sum over the number of loss elements.
    SUM_BY_NONZERO_WEIGHTS (alias SUM_OVER_NONZERO_WEIGHTS): their sum over the number of
    nonzero weights (broadcast to the losses' shape).
    """

    NONE = "none"
    SUM = "weighted_sum"
    SUM_OVER_BATCH_SIZE = "weighted_sum_over_batch_size"
    MEAN = "weighted_mean"
    SUM_BY_NONZERO_WEIGHTS = "weighted_sum_by_nonzero_weights"
    SUM_OVER_NONZERO_WEIGHTS = SUM_BY_NONZERO_WEIGHTS

    @classmethod
    def all(cls):
        """The valid reduction keys, as a tuple."""
        return (cls.NONE, cls.SUM, cls.MEAN, cls.SUM_OVER_BATCH_SIZE,
                cls.SUM_OVER_NONZERO_WEIGHTS, cls.SUM_BY_NONZERO_WEIGHTS)

    @classmethod
    def validate(cls, key):
        """Raises ValueError (TF's message) unless `key` is one of `all()`."""
        if key not in cls.all():
            raise ValueError(f"Invalid Reduction Key {key}. Key should be one of "
                             f"{cls.all()}.")


# ---- reductions ---------------------------------------------------------------------------

def _safe_mean(total, count):
    return metrics_ops.div_no_nan(total, count, name="value")


def _num_elements(losses):
    graph = losses.graph
    with graph.name_scope("num_elements") as scope:
        return math_ops.cast(array_ops.size(losses, name=scope), losses.dtype)


def _num_present(losses, weights, per_batch=False):
    """The number of loss elements whose (broadcast) weight is nonzero; per example (keeping
    the reduced dimensions) with `per_batch`."""
    graph = losses.graph
    with graph.name_scope("num_present") as scope:
        weights = _weights.to_float(weights)
        present = array_ops.where(math_ops.equal(weights, 0.0), array_ops.zeros_like(weights),
                                  array_ops.ones_like(weights))
        present = _weights.broadcast_weights(present, losses)
        if per_batch:
            axes = list(range(1, present.shape.rank))
            return math_ops.reduce_sum(present, axis=axes, keepdims=True, name=scope)
        return math_ops.reduce_sum(present, name=scope)


def compute_weighted_loss(losses, weights=1.0, scope=None, loss_collection=_LOSSES,
                          reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """Scales `losses` by `weights` and reduces them (``tf.losses.compute_weighted_loss``).

    Args:
      losses: a Tensor of elementwise losses, of shape ``[batch, d1, ..., dN]``.
      weights: a scalar, or a Tensor of `losses`' rank whose dimensions are each 1 or equal
        to those of `losses`.
      scope: the name scope (default 'weighted_loss'); a name ending in '/' is re-entered.
      loss_collection: the collection the result is added to; None: none.
      reduction: one of `Reduction.all()`.

    Returns:
      The weighted loss in `losses`' dtype: of `losses`' shape for ``Reduction.NONE``, else
      a scalar.

    Raises:
      ValueError: for an unknown `reduction`, or `weights` that cannot broadcast to
        `losses` (by their static shapes).
    """
    Reduction.validate(reduction)
    graph = math_ops._find_graph((losses, weights))
    with graph.as_default(), graph.name_scope(scope or "weighted_loss"):
        losses = graph_lib.convert_to_tensor(losses, name="losses")
        weights_t = graph_lib.convert_to_tensor(weights, name="weights")
        _weights.assert_broadcastable(weights_t, losses)
        input_dtype = losses.dtype
        losses = math_ops.cast(losses, dtypes.float32)
        weights_t = math_ops.cast(weights_t, dtypes.float32)
        weighted_losses = math_ops.multiply(losses, weights_t)
        if reduction == Reduction.NONE:
            loss = weighted_losses
        else:
            loss = math_ops.reduce_sum(weighted_losses)
            if reduction == Reduction.MEAN:
                loss = _safe_mean(loss, math_ops.reduce_sum(
                    math_ops.multiply(array_ops.ones_like(losses), weights_t)))
            elif reduction == Reduction.SUM_BY_NONZERO_WEIGHTS:
                loss = _safe_mean(loss, _num_present(losses, weights_t))
            elif reduction == Reduction.SUM_OVER_BATCH_SIZE:
                loss = _safe_mean(loss, _num_elements(losses))
        loss = math_ops.cast(loss, input_dtype)
        util.add_loss(loss, loss_collection)
        return loss


# ---- the losses ---------------------------------------------------------------------------

def _require(**arguments):
    for name, value in arguments.items():
        if value is None:
            raise ValueError(f"Argument `{name}` must not be None.")


def _float_pair(labels, predictions):
    predictions = _weights.to_float(predictions)
    labels = _weights.to_float(labels)
    predictions.shape.assert_is_compatible_with(labels.shape)
    return labels, predictions


def _scope_of(values, scope, default):
    graph = math_ops._find_graph(values)
    return graph, graph.name_scope(scope or default)


def absolute_difference(labels, predictions, weights=1.0, scope=None,
                        loss_collection=_LOSSES, reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """The weighted ``|predictions - labels|`` (``tf.losses.absolute_difference``).

    Args:
      labels: the ground truth, of `predictions`' shape.
      predictions: the predicted values.
      weights: see `compute_weighted_loss`.
      scope: the name scope (default 'absolute_difference').
      loss_collection: the collection the loss is added to; None: none.
      reduction: one of `Reduction.all()`.

    Returns:
      A float32 Tensor: the loss (a scalar unless `reduction` is NONE).

    Raises:
      ValueError: if an argument is None or the shapes do not fit.
    """
    _require(labels=labels, predictions=predictions)
    graph, name_scope = _scope_of((predictions, labels, weights), scope,
                                  "absolute_difference")
    with graph.as_default(), name_scope as scope:
        labels, predictions = _float_pair(labels, predictions)
        losses = math_ops.abs(math_ops.subtract(predictions, labels))
        return compute_weighted_loss(losses, weights, scope, loss_collection,
                                     reduction=reduction)


def cosine_distance(labels, predictions, axis=None, weights=1.0, scope=None,
                    loss_collection=_LOSSES, reduction=Reduction.SUM_BY_NONZERO_WEIGHTS,
                    dim=None):
    """``1 - sum(labels * predictions, axis)``, weighted (``tf.losses.cosine_distance``);
    `labels` and `predictions` are expected to be unit-normalized along `axis`.

    Args:
      labels, predictions: Tensors of one shape.
      axis: the dimension of the vectors (required; `dim` is its deprecated spelling).
      weights, scope, loss_collection, reduction: see `absolute_difference` (scope default
        'cosine_distance_loss'). The losses keep `axis` with size 1, so `weights` must have
        size 1 there too.
      dim: the old name of `axis`.

    Returns:
      A float32 Tensor: the loss.

    Raises:
      ValueError: if `axis` is missing, both `axis` and `dim` are given, an argument is
        None or the shapes do not fit.
    """
    if axis is not None and dim is not None:
        raise ValueError("Cannot specify both 'axis' and 'dim'")
    axis = dim if axis is None else axis
    if axis is None:
        raise ValueError("You must specify argument `axis`.")
    _require(labels=labels, predictions=predictions)
    graph, name_scope = _scope_of((predictions, labels, weights), scope,
                                  "cosine_distance_loss")
    with graph.as_default(), name_scope as scope:
        labels, predictions = _float_pair(labels, predictions)
        radial_diffs = math_ops.multiply(predictions, labels)
        losses = math_ops.subtract(
            1.0, math_ops.reduce_sum(radial_diffs, axis=[axis], keepdims=True))
        return compute_weighted_loss(losses, weights, scope, loss_collection,
                                     reduction=reduction)


def hinge_loss(labels, logits, weights=1.0, scope=None, loss_collection=_LOSSES,
               reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """``max(0, 1 - (2 * labels - 1) * logits)``, weighted (``tf.losses.hinge_loss``).

    Args:
      labels: the ground truth in {0, 1}, of `logits`' shape.
      logits: the unscaled scores.
      weights, scope, loss_collection, reduction: see `absolute_difference` (scope default
        'hinge_loss').

    Returns:
      A float32 Tensor: the loss.

    Raises:
      ValueError: if an argument is None or the shapes do not fit.
    """
    _require(labels=labels, logits=logits)
    graph, name_scope = _scope_of((logits, labels, weights), scope, "hinge_loss")
    with graph.as_default(), name_scope as scope:
        labels, logits = _float_pair(labels, logits)
        all_ones = array_ops.ones_like(labels)
        signs = math_ops.subtract(math_ops.multiply(2.0, labels), all_ones)
        losses = nn.relu(math_ops.subtract(all_ones, math_ops.multiply(signs, logits)))
        return compute_weighted_loss(losses, weights, scope, loss_collection,
                                     reduction=reduction)


def huber_loss(labels, predictions, weights=1.0, delta=1.0, scope=None,
               loss_collection=_LOSSES, reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """The Huber loss, weighted (``tf.losses.huber_loss``): with ``e = |predictions -
    labels|``, ``0.5 * e**2`` where ``e <= delta`` and ``delta * (e - 0.5 * delta)`` beyond.

    Args:
      labels, predictions: Tensors of one shape.
      weights, scope, loss_collection, reduction: see `absolute_difference` (scope default
        'huber_loss').
      delta: where the loss turns from quadratic to linear.

    Returns:
      A float32 Tensor: the loss.

    Raises:
      ValueError: if an argument is None or the shapes do not fit.
    """
    _require(labels=labels, predictions=predictions)
    graph, name_scope = _scope_of((predictions, labels, weights), scope, "huber_loss")
    with graph.as_default(), name_scope as scope:
        labels, predictions = _float_pair(labels, predictions)
        abs_error = math_ops.abs(math_ops.subtract(predictions, labels))
        # TF's split into a clipped quadratic part and the linear rest keeps the gradient
        # continuous at delta.
        quadratic = math_ops.minimum(abs_error, delta)
        linear = math_ops.subtract(abs_error, quadratic)
        losses = math_ops.add(math_ops.multiply(0.5, math_ops.multiply(quadratic, quadratic)),
                              math_ops.multiply(delta, linear))
        return compute_weighted_loss(losses, weights, scope, loss_collection,
                                     reduction=reduction)


def log_loss(labels, predictions, weights=1.0, epsilon=1e-7, scope=None,
             loss_collection=_LOSSES, reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """The binary log loss, weighted (``tf.losses.log_loss``):
    ``-labels * log(p + epsilon) - (1 - labels) * log(1 - p + epsilon)``.

    Args:
      labels: the ground truth in [0, 1], of `predictions`' shape.
      predictions: probabilities in [0, 1].
      weights, scope, loss_collection, reduction: see `absolute_difference` (scope default
        'log_loss').
      epsilon: keeps the logarithms finite.

    Returns:
      A float32 Tensor: the loss.

    Raises:
      ValueError: if an argument is None or the shapes do not fit.
    """
    _require(labels=labels, predictions=predictions)
    graph, name_scope = _scope_of((predictions, labels, weights), scope, "log_loss")
    with graph.as_default(), name_scope as scope:
        labels, predictions = _float_pair(labels, predictions)
        positive = math_ops.multiply(labels, math_ops.log(math_ops.add(predictions, epsilon)))
        negative = math_ops.multiply(
            math_ops.subtract(1.0, labels),
            math_ops.log(math_ops.add(math_ops.subtract(1.0, predictions), epsilon)))
        losses = math_ops.subtract(math_ops.negative(positive), negative)
        return compute_weighted_loss(losses, weights, scope, loss_collection,
                                     reduction=reduction)


def mean_pairwise_squared_error(labels, predictions, weights=1.0, scope=None,
                                loss_collection=_LOSSES):
    """The weighted mean of the squared differences between all pairs of elements of each
    example's ``predictions - labels`` (``tf.losses.mean_pairwise_squared_error``).

    For an example with differences ``d`` over ``n`` present elements the loss is
    ``2 * sum(d**2) / (n - 1) - 2 * sum(d)**2 / (n * (n - 1))``, scaled by the example's
    weight; the result is the sum over the batch.

    Args:
      labels, predictions: Tensors of one shape ``[batch, ...]`` with a known rank.
      weights: a scalar or ``[batch]``-like weights (rank 0 or the rank of `labels`).
      scope: the name scope (default 'mean_pairwise_squared_error').
      loss_collection: the collection the loss is added to; None: none.

    Returns:
      A float32 scalar Tensor.

    Raises:
      ValueError: if an argument is None, the rank is unknown or the shapes do not fit.
    """
    _require(labels=labels, predictions=predictions)
    graph, name_scope = _scope_of((predictions, labels, weights), scope,
                                  "mean_pairwise_squared_error")
    with graph.as_default(), name_scope:
        weights = _weights.to_float(weights)
        labels, predictions = _float_pair(labels, predictions)
        _weights.assert_broadcastable(weights, labels)
        diffs = math_ops.subtract(predictions, labels)
        if diffs.shape.rank is None:
            raise ValueError("mean_pairwise_squared_error needs inputs of known rank")
        axes = list(range(1, diffs.shape.rank))
        sum_squares = math_ops.reduce_sum(math_ops.square(diffs), axis=axes, keepdims=True)
        num_present = _num_present(diffs, weights, per_batch=True)
        term1 = math_ops.multiply(2.0, metrics_ops.div_no_nan(
            sum_squares, math_ops.maximum(math_ops.subtract(num_present, 1.0), 0.0),
            name="value"))
        sum_diff = math_ops.reduce_sum(diffs, axis=axes, keepdims=True)
        term2 = math_ops.multiply(2.0, metrics_ops.div_no_nan(
            math_ops.square(sum_diff),
            math_ops.maximum(math_ops.multiply(num_present,
                                               math_ops.subtract(num_present, 1.0)), 0.0),
            name="value"))
        loss = math_ops.reduce_sum(math_ops.multiply(math_ops.subtract(term1, term2),
                                                     weights))
        mean_loss = array_ops.where(math_ops.greater(math_ops.reduce_sum(num_present), 0.0),
                                    loss, array_ops.zeros_like(loss), name="value")
        util.add_loss(mean_loss, loss_collection)
        return mean_loss


def mean_squared_error(labels, predictions, weights=1.0, scope=None,
                       loss_collection=_LOSSES, reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """The weighted ``(predictions - labels)**2`` (``tf.losses.mean_squared_error``).

    Args:
      labels, predictions: Tensors of one shape.
      weights, scope, loss_collection, reduction: see `absolute_difference` (scope default
        'mean_squared_error').

    Returns:
      A float32 Tensor: the loss.

    Raises:
      ValueError: if an argument is None or the shapes do not fit.
    """
    _require(labels=labels, predictions=predictions)
    graph, name_scope = _scope_of((predictions, labels, weights), scope, "mean_squared_error")
    with graph.as_default(), name_scope as scope:
        labels, predictions = _float_pair(labels, predictions)
        losses = math_ops.squared_difference(predictions, labels)
        return compute_weighted_loss(losses, weights, scope, loss_collection,
                                     reduction=reduction)


def sigmoid_cross_entropy(multi_class_labels, logits, weights=1.0, label_smoothing=0,
                          scope=None, loss_collection=_LOSSES,
                          reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """The weighted sigmoid cross-entropy (``tf.losses.sigmoid_cross_entropy``).

    Args:
      multi_class_labels: targets in [0, 1] of `logits`' shape, cast to `logits`' dtype.
      logits: the unscaled log odds.
      weights, scope, loss_collection, reduction: see `absolute_difference` (scope default
        'sigmoid_cross_entropy_loss').
      label_smoothing: if > 0, the labels become
        ``labels * (1 - label_smoothing) + 0.5 * label_smoothing``.

    Returns:
      A Tensor of `logits`' dtype: the loss.

    Raises:
      ValueError: if an argument is None or the shapes do not fit.
    """
    _require(multi_class_labels=multi_class_labels, logits=logits)
    graph, name_scope = _scope_of((logits, multi_class_labels, weights), scope,
                                  "sigmoid_cross_entropy_loss")
    with graph.as_default(), name_scope as scope:
        logits = graph_lib.convert_to_tensor(logits, name="logits")
        labels = math_ops.cast(multi_class_labels, logits.dtype)
        logits.shape.assert_is_compatible_with(labels.shape)
        if label_smoothing > 0:
            labels = math_ops.add(math_ops.multiply(labels, 1.0 - label_smoothing),
                                  0.5 * label_smoothing)
        losses = nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits,
                                                      name="xentropy")
        return compute_weighted_loss(losses, weights, scope, loss_collection,
                                     reduction=reduction)


def softmax_cross_entropy(onehot_labels, logits, weights=1.0, label_smoothing=0, scope=None,
                          loss_collection=_LOSSES, reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """The weighted softmax cross-entropy (``tf.losses.softmax_cross_entropy``).

    Args:
      onehot_labels: ``[batch, num_classes]`` targets, cast to `logits`' dtype; no gradient
        flows into them.
      logits: ``[batch, num_classes]`` unscaled log probabilities.
      weights: a scalar or ``[batch]`` weights.
      label_smoothing: if > 0, the labels become
        ``labels * (1 - label_smoothing) + label_smoothing / num_classes``.
      scope, loss_collection, reduction: see `absolute_difference` (scope default
        'softmax_cross_entropy_loss').

    Returns:
      A Tensor of `logits`' dtype: the loss (``[batch]`` for Reduction.NONE).

    Raises:
      ValueError: if an argument is None or the shapes do not fit.
    """
    _require(onehot_labels=onehot_labels, logits=logits)
    graph, name_scope = _scope_of((logits, onehot_labels, weights), scope,
                                  "softmax_cross_entropy_loss")
    with graph.as_default(), name_scope as scope:
        logits = graph_lib.convert_to_tensor(logits, name="logits")
        labels = math_ops.cast(onehot_labels, logits.dtype)
        logits.shape.assert_is_compatible_with(labels.shape)
        if label_smoothing > 0:
            num_classes = math_ops.cast(array_ops.shape(labels)[-1], logits.dtype)
            smooth_negatives = math_ops.divide(
                array_ops.constant(label_smoothing, dtype=logits.dtype), num_classes)
            labels = math_ops.add(math_ops.multiply(labels, 1.0 - label_smoothing),
                                  smooth_negatives)
        labels = gradients.stop_gradient(labels, name="labels_stop_gradient")
        losses = nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits,
                                                         name="xentropy")
        return compute_weighted_loss(losses, weights, scope, loss_collection,
                                     reduction=reduction)


def sparse_softmax_cross_entropy(labels, logits, weights=1.0, scope=None,
                                 loss_collection=_LOSSES,
                                 reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """The weighted sparse softmax cross-entropy
    (``tf.losses.sparse_softmax_cross_entropy``).

    Args:
      labels: ``[batch]`` (or ``[batch, 1]``) int32/int64 class indexes.
      logits: ``[batch, num_classes]`` unscaled log probabilities.
      weights: a scalar, ``[batch]`` or ``[batch, 1]`` weights.
      scope, loss_collection, reduction: see `absolute_difference` (scope default
        'sparse_softmax_cross_entropy_loss').

    Returns:
      A Tensor of `logits`' dtype: the loss (of `labels`' shape for Reduction.NONE).

    Raises:
      ValueError: if an argument is None or the shapes do not fit.
    """
    _require(labels=labels, logits=logits)
    graph, name_scope = _scope_of((logits, labels, weights), scope,
                                  "sparse_softmax_cross_entropy_loss")
    with graph.as_default(), name_scope as scope:
        labels, logits = _weights.remove_squeezable_dimensions(labels, logits,
                                                               expected_rank_diff=1)
        weights = _weights.squeeze_weights_like(weights, labels)
        losses = nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits,
                                                             name="xentropy")
        return compute_weighted_loss(losses, weights, scope, loss_collection,
                                     reduction=reduction)
