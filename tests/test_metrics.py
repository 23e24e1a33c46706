"""tf.metrics: values over several update steps against numpy, reset through
local_variables_initializer, concurrent updates, variable names and collections.

The numpy references restate TF 1's definitions; a throwaway script ran the same three
weighted batches through TF 2.21's tf.compat.v1.metrics and sessionlib and they agreed in
every value (to float32 rounding) and every variable name.
"""

import threading

import numpy as np
import pytest

import sessionlib as tf
from _threshold_metrics import THRESHOLDS, assert_tf_numbers, run_two_updates

N = 12
RNG = np.random.RandomState(1)
BATCHES = []
for _ in range(3):
    BATCHES.append(dict(
        labels=(RNG.rand(N) > 0.4).astype(np.int64),
        scores=RNG.rand(N).astype(np.float32),
        weights=RNG.choice([0.0, 0.5, 1.0, 2.0], N).astype(np.float32),
        classes=RNG.randint(0, 4, N).astype(np.int32),
        predicted_classes=RNG.randint(0, 4, N).astype(np.int32),
        y=RNG.randn(N).astype(np.float32),
        y_hat=RNG.randn(N).astype(np.float32)))
BATCHES[1]["scores"][:3] = [0.0, 1.0, 0.5]


def _seen(step, key):
    """The values of `key` in batches 0..step, concatenated."""
    return np.concatenate([batch[key] for batch in BATCHES[:step + 1]]).astype(np.float64)


def _thresholds(num_thresholds):
    inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
    return np.array([-1e-7] + inner + [1.0 + 1e-7], np.float32)


def _counts(labels, scores, weights, thresholds):
    above = scores[None, :] > thresholds[:, None]
    positive = labels[None, :].astype(bool)
    return {name: (mask * weights[None, :]).sum(axis=1) for name, mask in (
        ("tp", positive & above), ("fn", positive & ~above), ("tn", ~positive & ~above),
        ("fp", ~positive & above))}


def _auc(labels, scores, weights, num_thresholds, curve="ROC", method="trapezoidal"):
    """The trapezoid (or minoring/majoring) sum over TF's thresholds, in numpy."""
    c = _counts(labels, scores, weights, _thresholds(num_thresholds))
    eps = 1e-6
    recall = (c["tp"] + eps) / (c["tp"] + c["fn"] + eps)
    if curve == "ROC":
        x, y = c["fp"] / (c["fp"] + c["tn"] + eps), recall
    else:
        x, y = recall, (c["tp"] + eps) / (c["tp"] + c["fp"] + eps)
    heights = {"trapezoidal": (y[:-1] + y[1:]) / 2, "minoring": np.minimum(y[:-1], y[1:]),
               "majoring": np.maximum(y[:-1], y[1:])}[method]
    return ((x[:-1] - x[1:]) * heights).sum()


def _iou(labels, predictions, weights, num_classes):
    cm = np.zeros((num_classes, num_classes))
    np.add.at(cm, (labels.astype(int), predictions.astype(int)), weights)
    diag = np.diag(cm)
    denominator = cm.sum(0) + cm.sum(1) - diag
    valid = denominator != 0
    return (diag[valid] / denominator[valid]).sum() / valid.sum(), cm


def _expected(step):
    labels, scores, weights = _seen(step, "labels"), _seen(step, "scores"), \
        _seen(step, "weights")
    ones = np.ones_like(scores)
    predicted = (scores > 0.5).astype(np.float64)
    y, y_hat = _seen(step, "y"), _seen(step, "y_hat")
    positive, said = labels == 1, predicted == 1
    tp_w = (weights * (positive & said)).sum()
    iou, _ = _iou(_seen(step, "classes"), _seen(step, "predicted_classes"), ones, 5)
    iou_w, _ = _iou(_seen(step, "classes"), _seen(step, "predicted_classes"), weights, 4)
    return {
        "accuracy": (labels == predicted).mean(),
        "accuracy_w": (weights * (labels == predicted)).sum() / weights.sum(),
        "mean": y.mean(),
        "mean_w": (weights * y).sum() / weights.sum(),
        "precision": (positive & said).sum() / said.sum(),
        "precision_w": tp_w / (weights * said).sum(),
        "recall_w": tp_w / (weights * positive).sum(),
        "auc": _auc(labels, scores, ones, 200),
        "auc_w": _auc(labels, scores, weights, 50),
        "auc_pr": _auc(labels, scores, ones, 200, "PR"),
        "auc_minoring": _auc(labels, scores, ones, 20, method="minoring"),
        "auc_majoring": _auc(labels, scores, ones, 20, method="majoring"),
        "mse_w": (weights * (y - y_hat) ** 2).sum() / weights.sum(),
        "rmse": np.sqrt(((y - y_hat) ** 2).mean()),
        "mae": np.abs(y - y_hat).mean(),
        "mean_iou": iou,
        "mean_iou_w": iou_w,
        "tp_w": tp_w,
        "fp": (~positive & said).sum(),
        "fn": (positive & ~said).sum(),
        "tn": (~positive & ~said).sum(),
        "precision_at": [(positive & (scores > t)).sum()
                         / ((scores > t).sum() + 1e-7) for t in (0.0, 0.3, 0.5, 0.9)],
        "recall_at_w": [(weights * (positive & (scores > t))).sum()
                        / ((weights * positive).sum() + 1e-7) for t in (0.0, 0.3, 0.5, 0.9)],
        "tp_at": [(positive & (scores > t)).sum() for t in (0.1, 0.5)],
    }


def _build():
    feeds = {key: tf.placeholder(tf.as_dtype(value.dtype), [N], name=key)
             for key, value in BATCHES[0].items()}
    labels, scores, w = feeds["labels"], feeds["scores"], feeds["weights"]
    predicted = tf.cast(scores > 0.5, tf.int64)
    metrics = {
        "accuracy": tf.metrics.accuracy(labels, predicted),
        "accuracy_w": tf.metrics.accuracy(labels, predicted, weights=w),
        "mean": tf.metrics.mean(feeds["y"]),
        "mean_w": tf.metrics.mean(feeds["y"], weights=w),
        "precision": tf.metrics.precision(labels, predicted),
        "precision_w": tf.metrics.precision(labels, predicted, weights=w),
        "recall_w": tf.metrics.recall(labels, predicted, weights=w),
        "auc": tf.metrics.auc(labels, scores),
        "auc_w": tf.metrics.auc(labels, scores, weights=w, num_thresholds=50),
        "auc_pr": tf.metrics.auc(labels, scores, curve="PR"),
        "auc_minoring": tf.metrics.auc(labels, scores, num_thresholds=20,
                                       summation_method="minoring"),
        "auc_majoring": tf.metrics.auc(labels, scores, num_thresholds=20,
                                       summation_method="majoring"),
        "mse_w": tf.metrics.mean_squared_error(feeds["y"], feeds["y_hat"], weights=w),
        "rmse": tf.metrics.root_mean_squared_error(feeds["y"], feeds["y_hat"]),
        "mae": tf.metrics.mean_absolute_error(feeds["y"], feeds["y_hat"]),
        "mean_iou": tf.metrics.mean_iou(feeds["classes"], feeds["predicted_classes"], 5),
        "mean_iou_w": tf.metrics.mean_iou(feeds["classes"], feeds["predicted_classes"], 4,
                                          weights=w),
        "tp_w": tf.metrics.true_positives(labels, predicted, weights=w),
        "fp": tf.metrics.false_positives(labels, predicted),
        "fn": tf.metrics.false_negatives(labels, predicted),
        "tn": tf.metrics.true_negatives(labels, predicted),
        "precision_at": tf.metrics.precision_at_thresholds(labels, scores,
                                                           [0.0, 0.3, 0.5, 0.9]),
        "recall_at_w": tf.metrics.recall_at_thresholds(labels, scores, [0.0, 0.3, 0.5, 0.9],
                                                       weights=w),
        "tp_at": tf.metrics.true_positives_at_thresholds(labels, scores, [0.1, 0.5]),
    }
    return feeds, metrics


def _feed(feeds, batch):
    return {feeds[key]: value for key, value in batch.items()}


def test_values_over_several_updates_and_reset():
    with tf.Graph().as_default():
        feeds, metrics = _build()
        values = {key: value for key, (value, _) in metrics.items()}
        updates = {key: update for key, (_, update) in metrics.items()
                   if not key.startswith("mean_iou")}
        with tf.Session() as session:
            session.run(tf.local_variables_initializer())
            # Nothing counted yet: every ratio is 0, not NaN (div_no_nan and TF's guards).
            initial = session.run(values)
            for key, value in initial.items():
                np.testing.assert_array_equal(value, np.zeros_like(value), err_msg=key)
            for step, batch in enumerate(BATCHES):
                updated = session.run(updates, _feed(feeds, batch))
                session.run([metrics["mean_iou"][1], metrics["mean_iou_w"][1]],
                            _feed(feeds, batch))
                current = session.run(values)
                expected = _expected(step)
                for key in values:
                    np.testing.assert_allclose(current[key], expected[key], rtol=1e-5,
                                               atol=1e-6, err_msg=f"{key} after {step}")
                    if key in updated:  # update_op returns the value after its update
                        np.testing.assert_allclose(updated[key], current[key], rtol=1e-6,
                                                   err_msg=key)
            # Resetting the local variables starts the sums again.
            session.run(tf.local_variables_initializer())
            session.run(updates, _feed(feeds, BATCHES[2]))
            again = session.run(values["accuracy"])
    labels, scores = BATCHES[2]["labels"], BATCHES[2]["scores"]
    np.testing.assert_allclose(again, (labels == (scores > 0.5)).mean(), rtol=1e-6)


def test_mean_iou_update_returns_the_confusion_matrix():
    labels = np.array([0, 1, 2, 2, 1, 0])
    predictions = np.array([0, 2, 2, 1, 1, 0])
    with tf.Graph().as_default():
        value, update = tf.metrics.mean_iou(labels, predictions, num_classes=3)
        with tf.Session() as session:
            session.run(tf.local_variables_initializer())
            cm = session.run(update)
            result = session.run(value)
    expected_iou, expected_cm = _iou(labels, predictions, np.ones(6), 3)
    np.testing.assert_array_equal(cm, expected_cm)
    assert cm.dtype == np.float64
    np.testing.assert_allclose(result, expected_iou, rtol=1e-6)


def test_auc_with_perfect_and_reversed_scores():
    labels = np.array([0, 0, 1, 1, 0, 1])
    scores = np.array([0.1, 0.2, 0.8, 0.9, 0.3, 0.7], np.float32)
    with tf.Graph().as_default():
        good = tf.metrics.auc(labels, scores)
        bad = tf.metrics.auc(labels, 1.0 - scores)
        with tf.Session() as session:
            session.run(tf.local_variables_initializer())
            values = session.run([good[1], bad[1]])
    np.testing.assert_allclose(values, [1.0, 0.0], atol=1e-5)


def test_variables_are_local_metric_variables_named_as_tf():
    # Names checked against TF 2.21.
    with tf.Graph().as_default() as graph:
        tf.metrics.accuracy([1, 0], [1, 1])
        tf.metrics.accuracy([1, 0], [1, 1])
        tf.metrics.precision([1, 0], [1, 1])
        tf.metrics.auc([1, 0], [0.2, 0.6], num_thresholds=7)
        tf.metrics.mean_iou([1, 0], [1, 1], 2)
        tf.metrics.root_mean_squared_error([1.0], [2.0])
        tf.metrics.mean([1.0], name="my_mean")
        names = [v.name for v in tf.local_variables()]
        metric_key = getattr(tf.GraphKeys, "METRIC_VARIABLES", "metric_variables")
        assert metric_key == "metric_variables"
        assert [v.name for v in graph.get_collection(metric_key)] == names
        assert tf.trainable_variables() == [] and tf.global_variables() == []
        auc_shapes = [v.shape.as_list() for v in tf.local_variables("auc")]
    assert names == [
        "accuracy/total:0", "accuracy/count:0", "accuracy_1/total:0", "accuracy_1/count:0",
        "precision/true_positives/count:0", "precision/false_positives/count:0",
        "auc/true_positives:0", "auc/false_negatives:0", "auc/true_negatives:0",
        "auc/false_positives:0", "mean_iou/total_confusion_matrix:0",
        "root_mean_squared_error/total:0", "root_mean_squared_error/count:0",
        "my_mean/total:0", "my_mean/count:0"]
    assert auc_shapes == [[7]] * 4


def test_metrics_and_updates_collections():
    with tf.Graph().as_default() as graph:
        value, update = tf.metrics.accuracy([1, 0], [1, 1], metrics_collections=["m"],
                                            updates_collections=["u", "v"])
        rmse, rmse_update = tf.metrics.root_mean_squared_error(
            [1.0], [2.0], metrics_collections=["m"], updates_collections=["u"])
        assert graph.get_collection("m") == [value, rmse]
        assert graph.get_collection("u") == [update, rmse_update]
        assert graph.get_collection("v") == [update]
        assert (value.name, update.name) == ("accuracy/value:0", "accuracy/update_op:0")


def test_labels_with_a_trailing_dimension_and_weight_shapes():
    labels = np.array([[1], [0], [1], [1]])
    predictions = np.array([1, 1, 1, 0])
    with tf.Graph().as_default():
        metrics = [tf.metrics.accuracy(labels, predictions),
                   tf.metrics.accuracy(labels, predictions, weights=[[1.0], [0.0], [2.0],
                                                                     [1.0]]),
                   tf.metrics.mean([[1.0, 2.0], [3.0, 4.0]], weights=[1.0, 3.0]),
                   tf.metrics.mean([[1.0, 2.0], [3.0, 4.0]], weights=2.0)]
        with tf.Session() as session:
            session.run(tf.local_variables_initializer())
            values = session.run([update for _, update in metrics])
    np.testing.assert_allclose(values, [0.5, 3.0 / 4.0, (1 + 2 + 9 + 12) / 8.0, 2.5],
                               rtol=1e-6)


def test_concurrent_updates_lose_nothing():
    threads_count, steps = 4, 25
    rng = np.random.RandomState(5)
    batches = [[(rng.randint(0, 2, 8), rng.randint(-4, 5, 8).astype(np.float32),
                 rng.rand(8).astype(np.float32)) for _ in range(steps)]
               for _ in range(threads_count)]
    with tf.Graph().as_default():
        labels = tf.placeholder(tf.int64, [8])
        values = tf.placeholder(tf.float32, [8])
        scores = tf.placeholder(tf.float32, [8])
        mean, mean_update = tf.metrics.mean(values)
        tp, tp_update = tf.metrics.true_positives(labels, tf.cast(scores > 0.5, tf.int64))
        auc_tp, auc_update = tf.metrics.true_positives_at_thresholds(labels, scores,
                                                                     [0.25, 0.5, 0.75])
        with tf.Session() as session:
            session.run(tf.local_variables_initializer())
            errors = []

            def work(own):
                try:
                    for label_batch, value_batch, score_batch in own:
                        session.run([mean_update, tp_update, auc_update],
                                    {labels: label_batch, values: value_batch,
                                     scores: score_batch})
                except Exception as error:  # noqa: BLE001 - reported below
                    errors.append(error)

            workers = [threading.Thread(target=work, args=(own,)) for own in batches]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
            assert not errors
            result = session.run([mean, tp, auc_tp])
    flat = [item for own in batches for item in own]
    all_labels = np.concatenate([b[0] for b in flat]).astype(bool)
    all_values = np.concatenate([b[1] for b in flat])
    all_scores = np.concatenate([b[2] for b in flat])
    # Integer-valued sums are exact in float32, so equality is exact.
    assert result[0] == np.float32(all_values.sum() / all_values.size)
    assert result[1] == (all_labels & (all_scores > 0.5)).sum()
    np.testing.assert_array_equal(
        result[2], [(all_labels & (all_scores > t)).sum() for t in (0.25, 0.5, 0.75)])


@pytest.mark.parametrize("build, message", [
    (lambda: tf.metrics.auc([1, 0], [0.2, 0.4], curve="XY"),
     "Curve must be either ROC or PR. Curve XY is unknown."),
    (lambda: tf.metrics.auc([1, 0], [0.2, 0.4], summation_method="simpson"),
     "Invalid summation_method: simpson"),
    (lambda: tf.metrics.accuracy([1, 0, 1], [1, 0]), "incompatible"),
])
def test_errors(build, message):
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match=message.replace(".", r"\.")):
            build()


def test_confusion_matrix_and_div_no_nan():
    with tf.Graph().as_default():
        cm = tf.confusion_matrix([0, 1, 2, 2], [0, 2, 2, 1])
        cm_weighted = tf.confusion_matrix([0, 1, 1], [1, 1, 1], num_classes=3,
                                          weights=[0.5, 1.0, 2.0], dtype=tf.float32)
        quotient = tf.div_no_nan([1.0, -2.0, 0.0, 3.0], [0.0, 4.0, 0.0, -1.5])
        with tf.Session() as session:
            cm_value, weighted_value, quotient_value = session.run(
                [cm, cm_weighted, quotient])
    np.testing.assert_array_equal(cm_value, [[1, 0, 0], [0, 0, 1], [0, 1, 1]])
    assert cm_value.dtype == np.int32
    np.testing.assert_array_equal(weighted_value, [[0, 0.5, 0], [0, 3.0, 0], [0, 0, 0]])
    np.testing.assert_array_equal(quotient_value, [0.0, -0.5, 0.0, -2.0])


# ---- counts, ratios and threshold searches at thresholds, against TF ------------------------

def test_at_thresholds_and_threshold_searches_match_tf():
    m = tf.metrics

    def build(labels, predictions, weights):
        return {
            "tp": m.true_positives_at_thresholds(labels, predictions, THRESHOLDS, weights),
            "fp": m.false_positives_at_thresholds(labels, predictions, THRESHOLDS, weights),
            "tn": m.true_negatives_at_thresholds(labels, predictions, THRESHOLDS, weights),
            "fn": m.false_negatives_at_thresholds(labels, predictions, THRESHOLDS, weights),
            "precision": m.precision_at_thresholds(labels, predictions, THRESHOLDS, weights),
            "recall": m.recall_at_thresholds(labels, predictions, THRESHOLDS, weights),
            "sensitivity_at_specificity": m.sensitivity_at_specificity(
                labels, predictions, 0.7, weights, num_thresholds=11),
            "specificity_at_sensitivity": m.specificity_at_sensitivity(
                labels, predictions, 0.6, weights, num_thresholds=11),
            "sensitivity_unweighted": m.sensitivity_at_specificity(labels, predictions, 0.4),
            "specificity_unweighted": m.specificity_at_sensitivity(labels, predictions, 0.8),
        }

    assert_tf_numbers(*run_two_updates(build))


def test_threshold_searches_break_ties_as_tf():
    # Thresholds [-1e-7, 0.25, 0.5, 0.75, top]: specificity_at_sensitivity takes the last of
    # equally near thresholds (0.75 for sensitivity 0.5, not 0.5), and its top is 1 - 1e-7,
    # where the prediction 1.0 still counts (sensitivity 0.25, so 0.0 is nearest there).
    # Values from TF 2.21.
    predictions = np.array([1.0, 0.0, 0.3, 0.3, 0.8, 1.0, 0.55, 0.2], np.float32)
    labels = np.array([1, 0, 1, 0, 1, 0, 0, 1], np.int64)
    with tf.Graph().as_default():
        pairs = [tf.metrics.specificity_at_sensitivity(labels, predictions, rate,
                                                       num_thresholds=5)
                 for rate in (1.0, 0.0, 0.5)]
        pairs += [tf.metrics.sensitivity_at_specificity(labels, predictions, rate,
                                                        num_thresholds=5)
                  for rate in (0.0, 1.0)]
        with tf.Session() as session:
            session.run(tf.local_variables_initializer())
            got = session.run([update for _, update in pairs])
    np.testing.assert_allclose(got, [0.0, 0.75, 0.75, 1.0, 0.0], atol=1e-7)


def test_threshold_search_variables_collections_and_errors():
    with tf.Graph().as_default() as graph:
        value, update = tf.metrics.sensitivity_at_specificity(
            [1, 0], [0.2, 0.6], 0.5, num_thresholds=7, metrics_collections=["m"],
            updates_collections=["u"])
        tf.metrics.specificity_at_sensitivity([1, 0], [0.2, 0.6], 0.5, name="spec")
        tf.metrics.recall_at_thresholds([1, 0], [0.2, 0.6], [0.5, 0.7])
        assert graph.get_collection("m") == [value]
        assert graph.get_collection("u") == [update]
        assert (value.name, update.name) == ("sensitivity_at_specificity/value:0",
                                             "sensitivity_at_specificity/update_op:0")
        variables = [(v.name, v.shape.as_list()) for v in tf.local_variables()]
        assert [v.name for v in graph.get_collection("metric_variables")] == [
            name for name, _ in variables]
        with pytest.raises(ValueError, match=r"`specificity` must be in the range \[0, 1\]"):
            tf.metrics.sensitivity_at_specificity([1, 0], [0.2, 0.6], 1.5)
        with pytest.raises(ValueError, match=r"`sensitivity` must be in the range \[0, 1\]"):
            tf.metrics.specificity_at_sensitivity([1, 0], [0.2, 0.6], -0.1)
    counts = ["true_positives", "false_negatives", "true_negatives", "false_positives"]
    assert variables == (
        [(f"sensitivity_at_specificity/{c}:0", [7]) for c in counts]
        + [(f"spec/{c}:0", [200]) for c in counts]
        + [("recall_at_thresholds/true_positives:0", [2]),
           ("recall_at_thresholds/false_negatives:0", [2])])
