"""The streaming metrics of ``tf.metrics`` (TF 1's ``tf.compat.v1.metrics``).

Each metric keeps running sums in zero-initialized, non-trainable variables of the
``LOCAL_VARIABLES`` and ``METRIC_VARIABLES`` collections (so `local_variables_initializer`
resets them), named as in TF: ``accuracy/total:0``, ``auc/true_positives:0``... and returns
``(value, update_op)``: `value` computes the metric from the current sums, `update_op` adds
one batch to the sums and computes the metric from the sums it just wrote.

Every update is an ``AssignAddVariableOp``, which the runtime applies atomically, so threads
running `update_op` at once on one session lose no batch: the sums end exact, whatever the
interleaving. (Each thread's `update_op` result is computed from sums that other threads may
have advanced in between; only the final sums are defined, as in TF.) Ratios use
``div_no_nan`` or TF's explicit guards, so a metric with nothing counted yet is 0, not NaN.

Metric scopes are name scopes (``accuracy``, then ``accuracy_1`` ...), which give the same
names as TF's variable scopes for metrics built outside other variable scopes.
"""

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.ops import array_ops, cumulative_ops, math_ops, metrics_ops
from sessionlib.ops import variables as variables_lib
from sessionlib.losses import _weights

__all__ = ["accuracy", "auc", "false_negatives", "false_negatives_at_thresholds",
           "false_positives", "false_positives_at_thresholds", "mean", "mean_absolute_error",
           "mean_iou", "mean_squared_error", "mean_tensor", "precision",
           "precision_at_thresholds", "recall", "recall_at_thresholds",
           "root_mean_squared_error", "sensitivity_at_specificity", "specificity_at_sensitivity",
           "true_negatives", "true_negatives_at_thresholds", "true_positives",
           "true_positives_at_thresholds", "metric_variable"]


# ---- shared pieces ------------------------------------------------------------------------

def metric_variable(shape, dtype, validate_shape=True, name=None):
    """A zero-initialized, non-trainable variable in ``LOCAL_VARIABLES`` and
    ``METRIC_VARIABLES``: the state of a metric.

    Args:
      shape: the variable's shape.
      dtype: its dtype.
      validate_shape: False leaves the static shape unknown.
      name: its name in the current name scope.

    Returns:
      The `Variable`.
    """
    dtype = dtypes.as_dtype(dtype)
    return variables_lib.Variable(
        lambda: array_ops.zeros(shape, dtype), trainable=False,
        collections=[_weights.collection_key("LOCAL_VARIABLES"),
                     _weights.collection_key("METRIC_VARIABLES")],
        validate_shape=validate_shape, name=name)


class _MetricScope:
    """``with _MetricScope(name, default, values) as graph:`` builds in the name scope of
    a metric, in the graph of its inputs."""

    def __init__(self, name, default_name, values):
        self._graph = math_ops._find_graph([v for v in values if v is not None])
        self._name = name or default_name
        self._contexts = []

    def __enter__(self):
        as_default = self._graph.as_default()
        scope = self._graph.name_scope(self._name)
        as_default.__enter__()
        scope.__enter__()
        self._contexts = [scope, as_default]
        return self._graph

    def __exit__(self, *exc):
        for context in self._contexts:
            context.__exit__(*exc)
        return False


def _add_to_collections(collections, value):
    if collections:
        graph_lib.get_default_graph().add_to_collections(collections, value)


def _remove_squeezable_dimensions(predictions, labels, weights):
    """TF's metric variant: squeezes a trailing size-1 dimension of `predictions` or
    `labels` where their ranks differ by one, then squeezes or expands `weights` to the
    rank of `predictions` (rank-0 weights stay scalars)."""
    predictions = graph_lib.convert_to_tensor(predictions)
    if labels is not None:
        labels, predictions = _weights.remove_squeezable_dimensions(labels, predictions)
        predictions.shape.assert_is_compatible_with(labels.shape)
    if weights is None:
        return predictions, labels, None
    return predictions, labels, _weights.squeeze_weights_like(weights, predictions,
                                                              expand=True)


def _safe_mean_value(total, count, name):
    return metrics_ops.div_no_nan(total, math_ops.maximum(count, 0.0), name=name)


def _weighted(values, weights):
    """``(values * weights, weights)`` with `weights` squeezed or expanded and broadcast to
    `values`; ``(values, None)`` without weights."""
    if weights is None:
        return values, None
    values, _, weights = _remove_squeezable_dimensions(values, None, weights)
    weights = _weights.broadcast_weights(_weights.to_float(weights), values)
    return math_ops.multiply(values, weights), weights


def _running_mean(total, count, values_sum, num_values, metrics_collections,
                  updates_collections):
    """``(total / count, update_op)``: the update adds `values_sum` to `total` and
    `num_values` to `count`, then divides the sums it wrote."""
    update_total = total.assign_add(values_sum)
    update_count = count.assign_add(num_values)
    mean_t = _safe_mean_value(total, count, "value")
    update_op = _safe_mean_value(update_total, update_count, "update_op")
    _add_to_collections(metrics_collections, mean_t)
    _add_to_collections(updates_collections, update_op)
    return mean_t, update_op


# ---- mean and the metrics built on it -----------------------------------------------------

def mean(values, weights=None, metrics_collections=None, updates_collections=None,
         name=None):
    """The (weighted) mean of `values` over every batch seen (``tf.metrics.mean``).

    Args:
      values: a Tensor of any shape, cast to float32.
      weights: optional weights: a scalar or a Tensor that broadcasts to `values` (a
        trailing size-1 dimension is squeezed or added as needed).
      metrics_collections: collections to add the value to.
      updates_collections: collections to add the update op to.
      name: the variable scope (default 'mean').

    Returns:
      ``(mean, update_op)``: float32 scalars. The state is the variables ``total`` and
      ``count``.

    Raises:
      ValueError: if `weights` cannot broadcast to `values`.
    """
    with _MetricScope(name, "mean", (values, weights)):
        values = _weights.to_float(values)
        total = metric_variable([], dtypes.float32, name="total")
        count = metric_variable([], dtypes.float32, name="count")
        values, weights = _weighted(values, weights)
        if weights is None:
            num_values = math_ops.cast(array_ops.size(values), dtypes.float32)
        else:
            num_values = math_ops.reduce_sum(weights)
        return _running_mean(total, count, math_ops.reduce_sum(values), num_values,
                             metrics_collections, updates_collections)


def mean_tensor(values, weights=None, metrics_collections=None, updates_collections=None,
                name=None):
    """The elementwise (weighted) mean of `values` over every batch seen
    (``tf.metrics.mean_tensor``): each element of the result averages that element of every
    batch.

    Args:
      values: a Tensor of a fully defined shape, cast to float32.
      weights: optional weights that broadcast to `values` (a trailing size-1 dimension is
        squeezed or added as needed).
      metrics_collections: collections to add the value to.
      updates_collections: collections to add the update op to.
      name: the variable scope (default 'mean').

    Returns:
      ``(mean, update_op)``: float32 Tensors of `values`' shape; an element with no weight
      yet is 0. The state is the variables ``total_tensor`` and ``count_tensor``.

    Raises:
      ValueError: if `weights` cannot broadcast to `values`, or `values`' shape is not
        fully defined.
    """
    with _MetricScope(name, "mean", (values, weights)):
        values = _weights.to_float(values)
        if not values.shape.is_fully_defined():
            raise ValueError(f"mean_tensor needs values of a fully defined shape, got "
                             f"{values.shape}")
        values, weights = _weighted(values, weights)
        num_values = array_ops.ones_like(values) if weights is None else weights
        total = metric_variable(values.shape, dtypes.float32, name="total_tensor")
        count = metric_variable(values.shape, dtypes.float32, name="count_tensor")
        return _running_mean(total, count, values, num_values, metrics_collections,
                             updates_collections)


def accuracy(labels, predictions, weights=None, metrics_collections=None,
             updates_collections=None, name=None):
    """How often `predictions` equals `labels`, weighted (``tf.metrics.accuracy``).

    Args:
      labels: the ground truth, of `predictions`' shape.
      predictions: the predicted values, cast to `labels`' dtype.
      weights, metrics_collections, updates_collections: see `mean`.
      name: the variable scope (default 'accuracy').

    Returns:
      ``(accuracy, update_op)``: float32 scalars; the state is ``accuracy/total`` and
      ``accuracy/count``.

    Raises:
      ValueError: if the shapes do not fit.
    """
    predictions, labels, weights = _remove_squeezable_dimensions(predictions, labels, weights)
    predictions.shape.assert_is_compatible_with(labels.shape)
    if labels.dtype is not predictions.dtype:
        predictions = math_ops.cast(predictions, labels.dtype)
    is_correct = math_ops.cast(math_ops.equal(predictions, labels), dtypes.float32)
    return mean(is_correct, weights, metrics_collections, updates_collections,
                name or "accuracy")


def mean_absolute_error(labels, predictions, weights=None, metrics_collections=None,
                        updates_collections=None, name=None):
    """The mean of ``|predictions - labels|`` (``tf.metrics.mean_absolute_error``); see
    `mean` for the arguments (scope default 'mean_absolute_error')."""
    predictions, labels, weights = _remove_squeezable_dimensions(predictions, labels, weights)
    errors = math_ops.abs(math_ops.subtract(_weights.to_float(predictions),
                                            _weights.to_float(labels)))
    return mean(errors, weights, metrics_collections, updates_collections,
                name or "mean_absolute_error")


def mean_squared_error(labels, predictions, weights=None, metrics_collections=None,
                       updates_collections=None, name=None):
    """The mean of ``(predictions - labels)**2`` (``tf.metrics.mean_squared_error``); see
    `mean` for the arguments (scope default 'mean_squared_error')."""
    predictions, labels, weights = _remove_squeezable_dimensions(predictions, labels, weights)
    errors = math_ops.squared_difference(_weights.to_float(labels),
                                         _weights.to_float(predictions))
    return mean(errors, weights, metrics_collections, updates_collections,
                name or "mean_squared_error")


def root_mean_squared_error(labels, predictions, weights=None, metrics_collections=None,
                            updates_collections=None, name=None):
    """The square root of `mean_squared_error` (``tf.metrics.root_mean_squared_error``);
    the state lives in the scope 'root_mean_squared_error' by default.

    Returns:
      ``(rmse, update_op)``: float32 scalars.
    """
    mse, update_mse = mean_squared_error(labels, predictions, weights, None, None,
                                         name or "root_mean_squared_error")
    rmse = math_ops.sqrt(mse)
    update_op = math_ops.sqrt(update_mse)
    _add_to_collections(metrics_collections, rmse)
    _add_to_collections(updates_collections, update_op)
    return rmse, update_op


# ---- counts of a condition ----------------------------------------------------------------

def _count_condition(values, weights, metrics_collections, updates_collections):
    count = metric_variable([], dtypes.float32, name="count")
    values = math_ops.cast(values, dtypes.float32)
    if weights is not None:
        weights = _weights.to_float(weights)
        values = math_ops.multiply(values, _weights.broadcast_weights(weights, values))
    value_tensor = array_ops.identity(count.value())
    update_op = count.assign_add(math_ops.reduce_sum(values))
    _add_to_collections(metrics_collections, value_tensor)
    _add_to_collections(updates_collections, update_op)
    return value_tensor, update_op


def _confusion_count(kind, label_value, prediction_value, labels, predictions, weights,
                     metrics_collections, updates_collections, name):
    with _MetricScope(name, kind, (predictions, labels, weights)):
        predictions, labels, weights = _remove_squeezable_dimensions(
            math_ops.cast(predictions, dtypes.bool), math_ops.cast(labels, dtypes.bool),
            weights)
        label_ok = labels if label_value else math_ops.logical_not(labels)
        prediction_ok = predictions if prediction_value else math_ops.logical_not(predictions)
        return _count_condition(math_ops.logical_and(label_ok, prediction_ok), weights,
                                metrics_collections, updates_collections)


def _count_doc(what):
    return f"""The weighted number of {what} (``tf.metrics.<this name>``).

    Args:
      labels: the ground truth, cast to bool.
      predictions: the predictions, cast to bool, of `labels`' shape.
      weights: optional weights that broadcast to `labels`.
      metrics_collections, updates_collections: collections for the value and update op.
      name: the variable scope (default: the function's name).

    Returns:
      ``(count, update_op)``: float32 scalars; the state is the variable ``count``.
    """


def true_positives(labels, predictions, weights=None, metrics_collections=None,
                   updates_collections=None, name=None):
    return _confusion_count("true_positives", True, True, labels, predictions, weights,
                            metrics_collections, updates_collections, name)


def false_positives(labels, predictions, weights=None, metrics_collections=None,
                    updates_collections=None, name=None):
    return _confusion_count("false_positives", False, True, labels, predictions, weights,
                            metrics_collections, updates_collections, name)


def false_negatives(labels, predictions, weights=None, metrics_collections=None,
                    updates_collections=None, name=None):
    return _confusion_count("false_negatives", True, False, labels, predictions, weights,
                            metrics_collections, updates_collections, name)


def true_negatives(labels, predictions, weights=None, metrics_collections=None,
                   updates_collections=None, name=None):
    return _confusion_count("true_negatives", False, False, labels, predictions, weights,
                            metrics_collections, updates_collections, name)


true_positives.__doc__ = _count_doc("true positives: label and prediction both true")
false_positives.__doc__ = _count_doc("false positives: label false, prediction true")
false_negatives.__doc__ = _count_doc("false negatives: label true, prediction false")
true_negatives.__doc__ = _count_doc("true negatives: label and prediction both false")


def _ratio_metric(kind, other, labels, predictions, weights, metrics_collections,
                  updates_collections, name):
    """precision (other: false_positives) or recall (other: false_negatives):
    ``tp / (tp + other)``, 0 while nothing is counted."""
    with _MetricScope(name, kind, (predictions, labels, weights)):
        predictions, labels, weights = _remove_squeezable_dimensions(
            math_ops.cast(predictions, dtypes.bool), math_ops.cast(labels, dtypes.bool),
            weights)
        tp, tp_update = true_positives(labels, predictions, weights)
        fx, fx_update = other(labels, predictions, weights)

        def compute(tp, fx, name):
            denominator = math_ops.add(tp, fx)
            return array_ops.where(math_ops.greater(denominator, 0.0),
                                   math_ops.divide(tp, denominator),
                                   array_ops.zeros_like(tp), name=name)

        value = compute(tp, fx, "value")
        update_op = compute(tp_update, fx_update, "update_op")
        _add_to_collections(metrics_collections, value)
        _add_to_collections(updates_collections, update_op)
        return value, update_op


def precision(labels, predictions, weights=None, metrics_collections=None,
              updates_collections=None, name=None):
    """``true_positives / (true_positives + false_positives)`` (``tf.metrics.precision``).

    Args:
      labels, predictions: cast to bool, of one shape.
      weights, metrics_collections, updates_collections: see `mean`.
      name: the variable scope (default 'precision').

    Returns:
      ``(precision, update_op)``: float32 scalars, 0 while nothing is predicted true; the
      state is ``precision/true_positives/count`` and ``precision/false_positives/count``.
    """
    return _ratio_metric("precision", false_positives, labels, predictions, weights,
                         metrics_collections, updates_collections, name)


def recall(labels, predictions, weights=None, metrics_collections=None,
           updates_collections=None, name=None):
    """``true_positives / (true_positives + false_negatives)`` (``tf.metrics.recall``);
    see `precision` (scope default 'recall'; 0 while no label is true)."""
    return _ratio_metric("recall", false_negatives, labels, predictions, weights,
                         metrics_collections, updates_collections, name)


# ---- counts at thresholds, auc ------------------------------------------------------------

_ALL_INCLUDES = ("tp", "fn", "tn", "fp")
_COUNT_NAMES = {"tp": "true_positives", "fn": "false_negatives", "tn": "true_negatives",
                "fp": "false_positives"}


def _confusion_matrix_at_thresholds(labels, predictions, thresholds, weights=None,
                                    includes=None):
    """The weighted tp/fn/tn/fp counts of ``prediction > threshold`` for each threshold.

    Every prediction is compared with every threshold (a ``[thresholds, predictions]``
    matrix, as TF does), and each count is a ``[len(thresholds)]`` float32 variable.

    Returns:
      ``(values, update_ops)``: dicts keyed by the `includes` ('tp', 'fn', 'tn', 'fp').

    Raises:
      ValueError: for an unknown key in `includes`.
    """
    includes = _ALL_INCLUDES if includes is None else includes
    for include in includes:
        if include not in _ALL_INCLUDES:
            raise ValueError(f"Invalid key: {include}")
    # TF asserts that predictions lie in [0, 1] when the graph runs; sessionlib has no
    # assert ops yet, so values outside simply count as above or below every threshold.
    predictions, labels, weights = _remove_squeezable_dimensions(
        _weights.to_float(predictions), math_ops.cast(labels, dtypes.bool), weights)
    num_thresholds = len(thresholds)
    predictions_2d = array_ops.reshape(predictions, [-1, 1])
    labels_2d = array_ops.reshape(math_ops.cast(labels, dtypes.bool), [1, -1])
    num_predictions = predictions_2d.shape.as_list()[0]
    if num_predictions is None:
        num_predictions = array_ops.shape(predictions_2d)[0]
    thresholds_tiled = array_ops.tile(
        array_ops.expand_dims(array_ops.constant(thresholds, dtype=dtypes.float32), 1),
        array_ops.stack([1, num_predictions]))
    pred_is_pos = math_ops.greater(
        array_ops.tile(array_ops.transpose(predictions_2d), [num_thresholds, 1]),
        thresholds_tiled)
    label_is_pos = array_ops.tile(labels_2d, [num_thresholds, 1])
    conditions = {
        "tp": lambda: math_ops.logical_and(label_is_pos, pred_is_pos),
        "fn": lambda: math_ops.logical_and(label_is_pos, math_ops.logical_not(pred_is_pos)),
        "tn": lambda: math_ops.logical_and(math_ops.logical_not(label_is_pos),
                                           math_ops.logical_not(pred_is_pos)),
        "fp": lambda: math_ops.logical_and(math_ops.logical_not(label_is_pos), pred_is_pos),
    }
    weights_tiled = None
    if weights is not None:
        weights = _weights.broadcast_weights(_weights.to_float(weights), predictions)
        weights_tiled = array_ops.tile(array_ops.reshape(weights, [1, -1]),
                                       [num_thresholds, 1])
    values, update_ops = {}, {}
    for key in _ALL_INCLUDES:
        if key not in includes:
            continue
        variable = metric_variable([num_thresholds], dtypes.float32, name=_COUNT_NAMES[key])
        hits = math_ops.cast(conditions[key](), dtypes.float32)
        if weights_tiled is not None:
            hits = math_ops.multiply(hits, weights_tiled)
        update_ops[key] = variable.assign_add(math_ops.reduce_sum(hits, 1))
        values[key] = variable.value()
    return values, update_ops


# Moves the end thresholds just past 0 and 1, so that predictions of exactly 0 and 1 are
# counted at the ends; also the tolerance of the threshold-search metrics' ratios.
_KEPSILON = 1e-7


def _default_thresholds(num_thresholds, thresholds=None, top=1.0 + _KEPSILON):
    """TF's thresholds of auc and the threshold searches: `num_thresholds` evenly spaced in
    [0, 1] (or the sorted explicit `thresholds` inside), then ``-1e-7`` first and `top`
    last."""
    if thresholds is not None:
        inner = sorted(thresholds)
    else:
        inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
    return [0.0 - _KEPSILON] + inner + [top]


def auc(labels, predictions, weights=None, num_thresholds=200, metrics_collections=None,
        updates_collections=None, curve="ROC", name=None, summation_method="trapezoidal",
        thresholds=None):
    """The area under the ROC or precision-recall curve, from counts at
    `num_thresholds` thresholds (``tf.metrics.auc``).

    Args:
      labels: the ground truth, cast to bool, of `predictions`' shape.
      predictions: floats in [0, 1].
      weights: optional weights that broadcast to `predictions`.
      num_thresholds: the number of thresholds, evenly spaced over [0, 1].
      metrics_collections, updates_collections: collections for the value and update op.
      curve: 'ROC' or 'PR'.
      name: the variable scope (default 'auc').
      summation_method: 'trapezoidal' (the default), 'careful_interpolation' (TF's
        interpolated PR sum; the trapezoidal rule for ROC), 'minoring' or 'majoring'.
      thresholds: optional explicit inner thresholds (overrides `num_thresholds`).

    Returns:
      ``(auc, update_op)``: float32 scalars. The state is the ``[num_thresholds]``
      variables ``true_positives``, ``false_negatives``, ``true_negatives`` and
      ``false_positives``.

    Raises:
      ValueError: for an unknown `curve` or `summation_method`.
    """
    with _MetricScope(name, "auc", (labels, predictions, weights)):
        if curve != "ROC" and curve != "PR":
            raise ValueError(f"Curve must be either ROC or PR. Curve {curve} is unknown.")
        if summation_method not in ("trapezoidal", "careful_interpolation", "minoring",
                                    "majoring"):
            raise ValueError(f"Invalid summation_method: {summation_method} "
                             "summation_method should be 'trapezoidal', "
                             "'careful_interpolation', 'minoring', or 'majoring'.")
        thresholds = _default_thresholds(num_thresholds, thresholds)
        n = len(thresholds)
        values, update_ops = _confusion_matrix_at_thresholds(labels, predictions, thresholds,
                                                             weights)
        epsilon = 1.0e-6

        def head(t):
            return t[:n - 1]

        def tail(t):
            return t[1:]

        def interpolate_pr_auc(tp, fp, fn, name):
            # TF's closed form: precision varies linearly in (tp, tp + fp) between
            # successive thresholds (Davis & Goadrich, 2006).
            dtp = math_ops.subtract(head(tp), tail(tp))
            p = math_ops.add(tp, fp)
            prec_slope = metrics_ops.div_no_nan(
                dtp, math_ops.maximum(math_ops.subtract(head(p), tail(p)), 0.0),
                name="prec_slope")
            intercept = math_ops.subtract(tail(tp), math_ops.multiply(prec_slope, tail(p)))
            safe_p_ratio = array_ops.where(
                math_ops.logical_and(math_ops.greater(head(p), 0.0),
                                     math_ops.greater(tail(p), 0.0)),
                metrics_ops.div_no_nan(head(p), math_ops.maximum(tail(p), 0.0),
                                       name="recall_relative_ratio"),
                array_ops.ones_like(tail(p)))
            increments = metrics_ops.div_no_nan(
                math_ops.multiply(prec_slope, math_ops.add(
                    dtp, math_ops.multiply(intercept, math_ops.log(safe_p_ratio)))),
                math_ops.maximum(math_ops.add(tail(tp), tail(fn)), 0.0),
                name="pr_auc_increment")
            return math_ops.reduce_sum(increments, name=name)

        def compute_auc(tp, fn, tn, fp, name):
            if curve == "PR" and summation_method == "careful_interpolation":
                return interpolate_pr_auc(tp, fp, fn, name)
            rec = math_ops.divide(math_ops.add(tp, epsilon),
                                  math_ops.add(math_ops.add(tp, fn), epsilon))
            if curve == "ROC":
                x = math_ops.divide(fp, math_ops.add(math_ops.add(fp, tn), epsilon))
                y = rec
            else:
                x = rec
                y = math_ops.divide(math_ops.add(tp, epsilon),
                                    math_ops.add(math_ops.add(tp, fp), epsilon))
            widths = math_ops.subtract(head(x), tail(x))
            if summation_method == "minoring":
                heights = math_ops.minimum(head(y), tail(y))
            elif summation_method == "majoring":
                heights = math_ops.maximum(head(y), tail(y))
            else:
                heights = math_ops.divide(math_ops.add(head(y), tail(y)), 2.0)
            return math_ops.reduce_sum(math_ops.multiply(widths, heights), name=name)

        value = compute_auc(values["tp"], values["fn"], values["tn"], values["fp"], "value")
        update_op = compute_auc(update_ops["tp"], update_ops["fn"], update_ops["tn"],
                                update_ops["fp"], "update_op")
        _add_to_collections(metrics_collections, value)
        _add_to_collections(updates_collections, update_op)
        return value, update_op


def _at_thresholds(kind, key, labels, predictions, thresholds, weights, metrics_collections,
                   updates_collections, name):
    with _MetricScope(name, kind, (predictions, labels, weights)):
        values, update_ops = _confusion_matrix_at_thresholds(labels, predictions, thresholds,
                                                             weights, includes=(key,))
        _add_to_collections(metrics_collections, values[key])
        _add_to_collections(updates_collections, update_ops[key])
        return values[key], update_ops[key]


def _at_thresholds_doc(what):
    return f"""The weighted number of {what} for each threshold, where a prediction
    counts as positive when it is above the threshold
    (``tf.metrics.<this name>``).

    Args:
      labels: the ground truth, cast to bool.
      predictions: floats in [0, 1] of `labels`' shape.
      thresholds: a list of float thresholds.
      weights: optional weights that broadcast to `predictions`.
      metrics_collections, updates_collections: collections for the value and update op.
      name: the variable scope (default: the function's name).

    Returns:
      ``(counts, update_op)``: float32 Tensors of shape ``[len(thresholds)]``.
    """


def true_positives_at_thresholds(labels, predictions, thresholds, weights=None,
                                 metrics_collections=None, updates_collections=None,
                                 name=None):
    return _at_thresholds("true_positives", "tp", labels, predictions, thresholds, weights,
                          metrics_collections, updates_collections, name)


def false_positives_at_thresholds(labels, predictions, thresholds, weights=None,
                                  metrics_collections=None, updates_collections=None,
                                  name=None):
    return _at_thresholds("false_positives", "fp", labels, predictions, thresholds, weights,
                          metrics_collections, updates_collections, name)


def false_negatives_at_thresholds(labels, predictions, thresholds, weights=None,
                                  metrics_collections=None, updates_collections=None,
                                  name=None):
    return _at_thresholds("false_negatives", "fn", labels, predictions, thresholds, weights,
                          metrics_collections, updates_collections, name)


def true_negatives_at_thresholds(labels, predictions, thresholds, weights=None,
                                 metrics_collections=None, updates_collections=None,
                                 name=None):
    return _at_thresholds("true_negatives", "tn", labels, predictions, thresholds, weights,
                          metrics_collections, updates_collections, name)


true_positives_at_thresholds.__doc__ = _at_thresholds_doc("true positives")
false_positives_at_thresholds.__doc__ = _at_thresholds_doc("false positives")
false_negatives_at_thresholds.__doc__ = _at_thresholds_doc("false negatives")
true_negatives_at_thresholds.__doc__ = _at_thresholds_doc("true negatives")


def _ratio_at_thresholds(kind, prefix, key, other, labels, predictions, thresholds, weights,
                         metrics_collections, updates_collections, name):
    """``count[key] / (count[key] + count[other] + 1e-7)`` for each threshold, in the scope
    `kind`, its ops named ``<prefix>_value`` and ``<prefix>_update_op``."""
    with _MetricScope(name, kind, (predictions, labels, weights)):
        values, update_ops = _confusion_matrix_at_thresholds(
            labels, predictions, thresholds, weights, includes=(key, other))

        def compute(counts, name):
            return math_ops.divide(counts[key], math_ops.add(
                math_ops.add(counts[key], counts[other]), _KEPSILON), name=f"{prefix}_{name}")

        value = compute(values, "value")
        update_op = compute(update_ops, "update_op")
        _add_to_collections(metrics_collections, value)
        _add_to_collections(updates_collections, update_op)
        return value, update_op


def precision_at_thresholds(labels, predictions, thresholds, weights=None,
                            metrics_collections=None, updates_collections=None, name=None):
    """``tp / (tp + fp + 1e-7)`` for each threshold (``tf.metrics.precision_at_thresholds``).

    Args:
      labels: the ground truth, cast to bool.
      predictions: floats in [0, 1] of `labels`' shape.
      thresholds: a list of float thresholds.
      weights, metrics_collections, updates_collections: see `mean`.
      name: the variable scope (default 'precision_at_thresholds').

    Returns:
      ``(precision, update_op)``: float32 Tensors of shape ``[len(thresholds)]``.
    """
    return _ratio_at_thresholds("precision_at_thresholds", "precision", "tp", "fp", labels,
                                predictions, thresholds, weights, metrics_collections,
                                updates_collections, name)


def recall_at_thresholds(labels, predictions, thresholds, weights=None,
                         metrics_collections=None, updates_collections=None, name=None):
    """``tp / (tp + fn + 1e-7)`` for each threshold (``tf.metrics.recall_at_thresholds``);
    see `precision_at_thresholds` (scope default 'recall_at_thresholds')."""
    return _ratio_at_thresholds("recall_at_thresholds", "recall", "tp", "fn", labels,
                                predictions, thresholds, weights, metrics_collections,
                                updates_collections, name)


def _at_fixed_rate(kind, rate_name, rate, labels, predictions, weights, num_thresholds,
                   metrics_collections, updates_collections, name, top, compute):
    """A rate at the threshold where another rate comes nearest `rate`: the counts at
    `num_thresholds` thresholds (the last one `top`), and ``compute(counts, name)``."""
    if rate < 0 or rate > 1:
        raise ValueError(f"`{rate_name}` must be in the range [0, 1]. Currently, "
                         f"`{rate_name}` is {rate}.")
    with _MetricScope(name, kind, (predictions, labels, weights)):
        thresholds = _default_thresholds(num_thresholds, top=top)
        values, update_ops = _confusion_matrix_at_thresholds(labels, predictions, thresholds,
                                                             weights)
        value = compute(values, "value")
        update_op = compute(update_ops, "update_op")
        _add_to_collections(metrics_collections, value)
        _add_to_collections(updates_collections, update_op)
        return value, update_op


def _ratio_at(numerator, other, index, name):
    """``numerator[index] / (numerator[index] + other[index] + 1e-7)``."""
    picked = numerator[index]
    return math_ops.divide(picked, math_ops.add(math_ops.add(picked, other[index]), _KEPSILON),
                           name=name)


def sensitivity_at_specificity(labels, predictions, specificity, weights=None,
                               num_thresholds=200, metrics_collections=None,
                               updates_collections=None, name=None):
    """The sensitivity (recall) at the threshold whose specificity is nearest `specificity`
    (``tf.metrics.sensitivity_at_specificity``); of equally near thresholds, the lowest.

    Args:
      labels: the ground truth, cast to bool.
      predictions: floats in [0, 1] of `labels`' shape.
      specificity: a float in [0, 1].
      weights: optional weights that broadcast to `predictions`.
      num_thresholds: the number of thresholds searched, evenly spaced over [0, 1].
      metrics_collections, updates_collections: collections for the value and update op.
      name: the variable scope (default 'sensitivity_at_specificity').

    Returns:
      ``(sensitivity, update_op)``: float32 scalars. The state is the ``[num_thresholds]``
      variables ``true_positives``, ``false_negatives``, ``true_negatives`` and
      ``false_positives``.

    Raises:
      ValueError: if `specificity` is outside [0, 1].
    """
    def compute(counts, name):
        specificities = math_ops.divide(counts["tn"], math_ops.add(
            math_ops.add(counts["tn"], counts["fp"]), _KEPSILON))
        index = math_ops.cast(math_ops.argmin(
            math_ops.abs(math_ops.subtract(specificities, specificity)), 0), dtypes.int32)
        return _ratio_at(counts["tp"], counts["fn"], index, name)

    return _at_fixed_rate("sensitivity_at_specificity", "specificity", specificity, labels,
                          predictions, weights, num_thresholds, metrics_collections,
                          updates_collections, name, 1.0 + _KEPSILON, compute)


def specificity_at_sensitivity(labels, predictions, sensitivity, weights=None,
                               num_thresholds=200, metrics_collections=None,
                               updates_collections=None, name=None):
    """The specificity at the threshold whose sensitivity is nearest `sensitivity`
    (``tf.metrics.specificity_at_sensitivity``); of equally near thresholds, the highest.
    As in TF, the last threshold is ``1 - 1e-7`` (not ``1 + 1e-7`` as elsewhere). The
    arguments, results, variables and errors are those of `sensitivity_at_specificity`, with
    `sensitivity` the target (scope default 'specificity_at_sensitivity').
    """
    def compute(counts, name):
        sensitivities = math_ops.divide(counts["tp"], math_ops.add(
            math_ops.add(counts["tp"], counts["fn"]), _KEPSILON))
        gaps = math_ops.abs(math_ops.subtract(sensitivities, sensitivity))
        nearest = math_ops.cast(math_ops.equal(gaps, math_ops.reduce_min(gaps)), dtypes.int64)
        # The running count of nearest thresholds peaks first at the last of them.
        index = math_ops.cast(math_ops.argmax(cumulative_ops.cumsum(nearest), 0),
                              dtypes.int32)
        return _ratio_at(counts["tn"], counts["fp"], index, name)

    return _at_fixed_rate("specificity_at_sensitivity", "sensitivity", sensitivity, labels,
                          predictions, weights, num_thresholds, metrics_collections,
                          updates_collections, name, 1.0 - _KEPSILON, compute)


# ---- mean_iou -----------------------------------------------------------------------------

def mean_iou(labels, predictions, num_classes, weights=None, metrics_collections=None,
             updates_collections=None, name=None):
    """The mean intersection-over-union over the classes that occur
    (``tf.metrics.mean_iou``): for each class ``c``, ``cm[c, c] / (row c + column c -
    cm[c, c])`` of the running confusion matrix ``cm``, averaged over the classes whose
    denominator is not 0.

    Args:
      labels: integer class labels, of `predictions`' shape (any rank: flattened).
      predictions: integer predicted classes.
      num_classes: the number of classes (a Python int).
      weights: optional per-example weights of `labels`' shape.
      metrics_collections, updates_collections: collections for the value and update op.
      name: the variable scope (default 'mean_iou').

    Returns:
      ``(mean_iou, update_op)``: a float32 scalar, and, as in TF, the update op returns
      the updated float64 ``[num_classes, num_classes]`` confusion matrix
      (``total_confusion_matrix``), not the new mean.

    Raises:
      ValueError: if the shapes of `labels` and `predictions` differ.
    """
    with _MetricScope(name, "mean_iou", (predictions, labels, weights)):
        predictions = graph_lib.convert_to_tensor(predictions)
        labels = graph_lib.convert_to_tensor(labels)
        predictions.shape.assert_is_compatible_with(labels.shape)
        total_cm = metric_variable([num_classes, num_classes], dtypes.float64,
                                   name="total_confusion_matrix")
        predictions = array_ops.reshape(math_ops.cast(predictions, dtypes.int64), [-1])
        labels = array_ops.reshape(math_ops.cast(labels, dtypes.int64), [-1])
        if weights is not None:
            weights = array_ops.reshape(graph_lib.convert_to_tensor(weights), [-1])
        current_cm = metrics_ops.confusion_matrix(labels, predictions, num_classes,
                                                  weights=weights, dtype=dtypes.float64)
        update_op = total_cm.assign_add(current_cm)

        cm = total_cm.value()
        sum_over_row = math_ops.cast(math_ops.reduce_sum(cm, 0), dtypes.float32)
        sum_over_col = math_ops.cast(math_ops.reduce_sum(cm, 1), dtypes.float32)
        eye = array_ops.constant(_identity(num_classes), dtype=dtypes.float64)
        cm_diag = math_ops.cast(math_ops.reduce_sum(math_ops.multiply(cm, eye), 1),
                                dtypes.float32)
        denominator = math_ops.subtract(math_ops.add(sum_over_row, sum_over_col), cm_diag)
        num_valid = math_ops.reduce_sum(
            math_ops.cast(math_ops.not_equal(denominator, 0.0), dtypes.float32))
        denominator = array_ops.where(math_ops.greater(denominator, 0.0), denominator,
                                      array_ops.ones_like(denominator))
        iou = math_ops.divide(cm_diag, denominator)
        value = array_ops.where(math_ops.greater(num_valid, 0.0),
                                math_ops.divide(math_ops.reduce_sum(iou, name="mean_iou"),
                                                num_valid),
                                array_ops.constant(0.0), name="value")
        _add_to_collections(metrics_collections, value)
        _add_to_collections(updates_collections, update_op)
        return value, update_op


def _identity(n):
    return [[1.0 if i == j else 0.0 for j in range(n)] for i in range(n)]
