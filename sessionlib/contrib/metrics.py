"""``tf.contrib.metrics``: TF 1's ``streaming_*`` metrics, with contrib's argument order, over
``tf.metrics``, and contrib's helpers that gather ``(value, update_op)`` pairs.

Contrib's metrics take ``(predictions, labels, ...)`` where ``tf.metrics`` takes
``(labels, predictions, ...)``; positional calls must keep contrib's order, so each name here
is a wrapper that forwards by keyword. The variables, names and values are those of
``tf.metrics`` (``accuracy/total``, ``auc/true_positives``...), as contrib's were.
"""

import inspect

from sessionlib.metrics import metrics_impl

__all__ = ["streaming_accuracy", "streaming_mean", "streaming_mean_tensor", "streaming_auc",
           "streaming_precision", "streaming_recall", "streaming_mean_absolute_error",
           "streaming_mean_squared_error", "streaming_root_mean_squared_error",
           "streaming_true_positives", "streaming_false_positives",
           "streaming_false_negatives", "streaming_true_negatives", "streaming_mean_iou",
           "streaming_precision_at_thresholds", "streaming_recall_at_thresholds",
           "streaming_true_positives_at_thresholds", "streaming_false_positives_at_thresholds",
           "streaming_true_negatives_at_thresholds", "streaming_false_negatives_at_thresholds",
           "streaming_false_positive_rate_at_thresholds",
           "streaming_false_negative_rate_at_thresholds",
           "streaming_sensitivity_at_specificity", "streaming_specificity_at_sensitivity",
           "aggregate_metrics", "aggregate_metric_map"]


def __getattr__(name):
    from sessionlib import contrib

    raise contrib.unsupported(f"metrics.{name}")


def _predictions_first(metric, what):
    """contrib's ``streaming_<metric>(predictions, labels, ...)`` over
    ``tf.metrics.<metric>(labels, predictions, ...)``: the same arguments, in the same order
    after the first two, passed on by name."""
    signature = inspect.signature(metric)
    labels, predictions, *rest = signature.parameters.values()
    signature = signature.replace(parameters=[predictions, labels] + rest)

    def streaming_metric(*args, **kwargs):
        return metric(**signature.bind(*args, **kwargs).arguments)

    streaming_metric.__signature__ = signature
    streaming_metric.__name__ = streaming_metric.__qualname__ = f"streaming_{metric.__name__}"
    streaming_metric.__doc__ = f"""{what} (contrib's order of ``tf.metrics.{metric.__name__}``).

    Args:
      predictions: the predicted values.
      labels: the ground truth, of `predictions`' shape.
      {", ".join(p.name for p in rest)}: as for ``tf.metrics.{metric.__name__}``, by
        position or name.

    Returns:
      ``(value, update_op)``, as ``tf.metrics.{metric.__name__}``.

    Raises:
      TypeError: for arguments that do not fit the signature.
      ValueError: as ``tf.metrics.{metric.__name__}``.
    """
    return streaming_metric


def _counts_first(key, what):
    """contrib's ``streaming_<count>_at_thresholds(predictions, labels, thresholds,
    weights=None)``: one count of ``tf.metrics``' confusion matrix, its variable made in the
    current name scope (contrib opens none, and takes no name or collections)."""

    def streaming_counts(predictions, labels, thresholds, weights=None):
        values, update_ops = metrics_impl._confusion_matrix_at_thresholds(
            labels, predictions, thresholds, weights, includes=(key,))
        return values[key], update_ops[key]

    count = metrics_impl._COUNT_NAMES[key]
    streaming_counts.__name__ = streaming_counts.__qualname__ = (
        f"streaming_{count}_at_thresholds")
    streaming_counts.__doc__ = f"""The weighted number of {what} for each threshold, a
    prediction counting as positive above it: the variable ``{count}`` of shape
    ``[len(thresholds)]``, in the current name scope.

    Args:
      predictions: floats in [0, 1].
      labels: the ground truth, cast to bool, of `predictions`' shape.
      thresholds: a list of float thresholds.
      weights: optional weights that broadcast to `predictions`.

    Returns:
      ``(counts, update_op)``: float32 Tensors of shape ``[len(thresholds)]``.
    """
    return streaming_counts

streaming_accuracy = _predictions_first(
    metrics_impl.accuracy, "How often `predictions` equals `labels`")
streaming_precision = _predictions_first(
    metrics_impl.precision, "The precision of boolean `predictions`")
streaming_recall = _predictions_first(
    metrics_impl.recall, "The recall of boolean `predictions`")
streaming_mean_absolute_error = _predictions_first(
    metrics_impl.mean_absolute_error, "The mean absolute error")
streaming_mean_squared_error = _predictions_first(
    metrics_impl.mean_squared_error, "The mean squared error")
streaming_root_mean_squared_error = _predictions_first(
    metrics_impl.root_mean_squared_error, "The root of the mean squared error")
streaming_true_positives = _predictions_first(
    metrics_impl.true_positives, "The weighted count of true positives")
streaming_false_positives = _predictions_first(
    metrics_impl.false_positives, "The weighted count of false positives")
streaming_false_negatives = _predictions_first(
    metrics_impl.false_negatives, "The weighted count of false negatives")
streaming_true_negatives = _predictions_first(
    metrics_impl.true_negatives, "The weighted count of true negatives")
streaming_precision_at_thresholds = _predictions_first(
    metrics_impl.precision_at_thresholds, "The precision at each threshold")
streaming_recall_at_thresholds = _predictions_first(
    metrics_impl.recall_at_thresholds, "The recall at each threshold")
streaming_sensitivity_at_specificity = _predictions_first(
    metrics_impl.sensitivity_at_specificity,
    "The sensitivity where the specificity is nearest a target")
streaming_specificity_at_sensitivity = _predictions_first(
    metrics_impl.specificity_at_sensitivity,
    "The specificity where the sensitivity is nearest a target")
streaming_true_positives_at_thresholds = _counts_first("tp", "true positives")
streaming_false_positives_at_thresholds = _counts_first("fp", "false positives")
streaming_true_negatives_at_thresholds = _counts_first("tn", "true negatives")
streaming_false_negatives_at_thresholds = _counts_first("fn", "false negatives")


def streaming_false_positive_rate_at_thresholds(predictions, labels, thresholds, weights=None,
                                                metrics_collections=None,
                                                updates_collections=None, name=None):
    """``fp / (fp + tn + 1e-7)`` for each threshold (contrib only: no ``tf.metrics``
    twin), over the variables ``false_positives`` and ``true_negatives``.

    Args:
      predictions: floats in [0, 1].
      labels: the ground truth, cast to bool, of `predictions`' shape.
      thresholds: a list of float thresholds; a prediction above one counts as positive.
      weights: optional weights that broadcast to `predictions`.
      metrics_collections, updates_collections: collections for the value and update op.
      name: the variable scope (default 'false_positive_rate_at_thresholds').

    Returns:
      ``(false_positive_rate, update_op)``: float32 Tensors of shape ``[len(thresholds)]``.
    """
    return metrics_impl._ratio_at_thresholds(
        "false_positive_rate_at_thresholds", "fpr", "fp", "tn", labels, predictions,
        thresholds, weights, metrics_collections, updates_collections, name)


def streaming_false_negative_rate_at_thresholds(predictions, labels, thresholds, weights=None,
                                                metrics_collections=None,
                                                updates_collections=None, name=None):
    """``fn / (fn + tp + 1e-7)`` for each threshold, over the variables
    ``false_negatives`` and ``true_positives``; see
    `streaming_false_positive_rate_at_thresholds` (scope default
    'false_negative_rate_at_thresholds')."""
    return metrics_impl._ratio_at_thresholds(
        "false_negative_rate_at_thresholds", "fnr", "fn", "tp", labels, predictions,
        thresholds, weights, metrics_collections, updates_collections, name)


def streaming_mean(values, weights=None, metrics_collections=None, updates_collections=None,
                   name=None):
    """The (weighted) mean of `values` over every batch seen: ``tf.metrics.mean``.

    Returns:
      ``(mean, update_op)``: float32 scalars.
    """
    return metrics_impl.mean(values, weights, metrics_collections, updates_collections, name)


def streaming_mean_tensor(values, weights=None, metrics_collections=None,
                          updates_collections=None, name=None):
    """The elementwise (weighted) mean of `values` over every batch seen:
    ``tf.metrics.mean_tensor``.

    Returns:
      ``(mean, update_op)``: float32 Tensors of `values`' shape.
    """
    return metrics_impl.mean_tensor(values, weights, metrics_collections, updates_collections,
                                    name)


def streaming_auc(predictions, labels, weights=None, num_thresholds=200,
                  metrics_collections=None, updates_collections=None, curve="ROC", name=None):
    """The area under the ROC or PR curve (contrib's order of ``tf.metrics.auc``).

    Args:
      predictions: floats in [0, 1].
      labels: the ground truth, cast to bool, of `predictions`' shape.
      weights: optional weights that broadcast to `predictions`.
      num_thresholds: the number of thresholds, evenly spaced over [0, 1].
      metrics_collections, updates_collections: collections for the value and update op.
      curve: 'ROC' or 'PR'.
      name: the variable scope (default 'auc').

    Returns:
      ``(auc, update_op)``: float32 scalars.

    Raises:
      ValueError: if the shapes do not fit or `num_thresholds` is below 2.
    """
    return metrics_impl.auc(labels=labels, predictions=predictions, weights=weights,
                            num_thresholds=num_thresholds,
                            metrics_collections=metrics_collections,
                            updates_collections=updates_collections, curve=curve, name=name)


def streaming_mean_iou(predictions, labels, num_classes, weights=None,
                       metrics_collections=None, updates_collections=None, name=None):
    """The mean intersection-over-union (contrib's order of ``tf.metrics.mean_iou``).

    Args:
      predictions: integer predicted classes.
      labels: integer class labels, of `predictions`' shape.
      num_classes: the number of classes.
      weights: optional per-example weights.
      metrics_collections, updates_collections: collections for the value and update op.
      name: the variable scope (default 'mean_iou').

    Returns:
      ``(mean_iou, update_op)``, as ``tf.metrics.mean_iou``.
    """
    return metrics_impl.mean_iou(labels=labels, predictions=predictions,
                                 num_classes=num_classes, weights=weights,
                                 metrics_collections=metrics_collections,
                                 updates_collections=updates_collections, name=name)


def aggregate_metrics(*value_update_tuples):
    """Splits ``(value, update_op)`` pairs into a list of values and a list of update ops.

    Args:
      *value_update_tuples: the pairs, as the metrics return them.

    Returns:
      ``(values, update_ops)``: two lists, in the order given.

    Raises:
      ValueError: if no pair is given.
    """
    if not value_update_tuples:
        raise ValueError("Expected at least one value_tensor/update_tensor pair")
    values, update_ops = zip(*value_update_tuples)
    return list(values), list(update_ops)


def aggregate_metric_map(names_to_tuples):
    """Splits a dict of named ``(value, update_op)`` pairs into a dict of values and a dict
    of update ops, under the same names.

    Args:
      names_to_tuples: ``{name: (value, update_op)}``.

    Returns:
      ``(names_to_values, names_to_updates)``.
    """
    names_to_values = {name: pair[0] for name, pair in names_to_tuples.items()}
    names_to_updates = {name: pair[1] for name, pair in names_to_tuples.items()}
    return names_to_values, names_to_updates
