"""tf.contrib.metrics (the streaming_* names, contrib's (predictions, labels) order) and
tf.contrib.losses (contrib's signatures and leading-dimension weights), against numpy."""

import inspect

import numpy as np
import pytest

import sessionlib as tf
from _threshold_metrics import THRESHOLDS, assert_tf_numbers, run_two_updates

metrics = tf.contrib.metrics
losses = tf.contrib.losses
_rng = np.random.RandomState(11)


def _stream(pairs, batches):
    """Runs every update op over `batches` (a list of feed dicts); returns the values."""
    values, updates = metrics.aggregate_metrics(*pairs)
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        for feeds in batches:
            sess.run(updates, feeds)
        return sess.run(values)


# ---- metrics -------------------------------------------------------------------------------

def test_streaming_metrics_take_predictions_first(executor):
    predictions = tf.placeholder(tf.float32, [None])
    labels = tf.placeholder(tf.float32, [None])
    weights = tf.placeholder(tf.float32, [None])
    # Positional, in contrib's order: swapping the arguments would change every asymmetric
    # metric below.
    pairs = [metrics.streaming_accuracy(predictions, labels),
             metrics.streaming_precision(predictions, labels),
             metrics.streaming_recall(predictions, labels),
             metrics.streaming_true_positives(predictions, labels),
             metrics.streaming_false_positives(predictions, labels),
             metrics.streaming_false_negatives(predictions, labels, weights),
             metrics.streaming_mean_absolute_error(predictions, labels, weights),
             metrics.streaming_mean_squared_error(predictions, labels),
             metrics.streaming_root_mean_squared_error(predictions, labels)]
    batches = [(np.array([1, 0, 1, 1], np.float32), np.array([1, 1, 0, 1], np.float32),
                np.array([1, 2, 1, 0.5], np.float32)),
               (np.array([0, 0, 1], np.float32), np.array([1, 0, 1], np.float32),
                np.array([3, 1, 1], np.float32))]
    got = _stream(pairs, [{predictions: p, labels: l, weights: w} for p, l, w in batches])
    p, l, w = (np.concatenate(parts) for parts in zip(*batches))
    tp, fp, fn = np.sum(p * l), np.sum(p * (1 - l)), np.sum((1 - p) * l)
    want = [np.mean(p == l), tp / (tp + fp), tp / (tp + fn), tp, fp,
            np.sum((1 - p) * l * w), np.sum(np.abs(p - l) * w) / np.sum(w),
            np.mean((p - l) ** 2), np.sqrt(np.mean((p - l) ** 2))]
    np.testing.assert_allclose(got, want, rtol=1e-6)
    names = {v.op.name for v in tf.local_variables()}
    assert {"accuracy/total", "precision/true_positives/count"} <= names



def test_streaming_at_thresholds_match_tf():
    def build(labels, predictions, weights):
        # Positional, in contrib's order (predictions first).
        return {
            "tp": metrics.streaming_true_positives_at_thresholds(predictions, labels,
                                                                 THRESHOLDS, weights),
            "fp": metrics.streaming_false_positives_at_thresholds(predictions, labels,
                                                                  THRESHOLDS, weights),
            "tn": metrics.streaming_true_negatives_at_thresholds(predictions, labels,
                                                                 THRESHOLDS, weights),
            "fn": metrics.streaming_false_negatives_at_thresholds(predictions, labels,
                                                                  THRESHOLDS, weights),
            "precision": metrics.streaming_precision_at_thresholds(predictions, labels,
                                                                   THRESHOLDS, weights),
            "recall": metrics.streaming_recall_at_thresholds(predictions, labels, THRESHOLDS,
                                                             weights),
            "fpr": metrics.streaming_false_positive_rate_at_thresholds(
                predictions, labels, THRESHOLDS, weights),
            "fnr": metrics.streaming_false_negative_rate_at_thresholds(
                predictions, labels, THRESHOLDS, weights),
            "sensitivity_at_specificity": metrics.streaming_sensitivity_at_specificity(
                predictions, labels, 0.7, weights, 11),
            "specificity_at_sensitivity": metrics.streaming_specificity_at_sensitivity(
                predictions, labels, 0.6, weights, num_thresholds=11),
            "sensitivity_unweighted": metrics.streaming_sensitivity_at_specificity(
                predictions, labels, 0.4),
            "specificity_unweighted": metrics.streaming_specificity_at_sensitivity(
                predictions=predictions, labels=labels, sensitivity=0.8),
        }

    assert_tf_numbers(*run_two_updates(build))


def test_streaming_at_thresholds_names_and_collections():
    with tf.Graph().as_default() as graph:
        # contrib's counts open no scope: their variables take the caller's.
        metrics.streaming_true_positives_at_thresholds([0.2, 0.7], [1, 0], [0.5])
        with tf.name_scope("eval"):
            metrics.streaming_false_negatives_at_thresholds([0.2, 0.7], [1, 0], [0.5, 0.6])
        fpr, fpr_update = metrics.streaming_false_positive_rate_at_thresholds(
            [0.2, 0.7], [1, 0], [0.5], metrics_collections=["m"], updates_collections=["u"])
        metrics.streaming_false_negative_rate_at_thresholds([0.2, 0.7], [1, 0], [0.5],
                                                            name="miss")
        metrics.streaming_precision_at_thresholds([0.2, 0.7], [1, 0], [0.5])
        assert graph.get_collection("m") == [fpr]
        assert graph.get_collection("u") == [fpr_update]
        assert (fpr.op.name, fpr_update.op.name) == (
            "false_positive_rate_at_thresholds/fpr_value",
            "false_positive_rate_at_thresholds/fpr_update_op")
        variables = [(v.name, v.shape.as_list()) for v in tf.local_variables()]
        assert [v.name for v in graph.get_collection("metric_variables")] == [
            name for name, _ in variables]
        with pytest.raises(TypeError):
            metrics.streaming_recall_at_thresholds([0.2], [1], [0.5], None, None, None, None,
                                                   "extra")
        with pytest.raises(ValueError, match="specificity"):
            metrics.streaming_sensitivity_at_specificity([0.2], [1], 2.0)
    assert variables == [
        ("true_positives:0", [1]), ("eval/false_negatives:0", [2]),
        ("false_positive_rate_at_thresholds/true_negatives:0", [1]),
        ("false_positive_rate_at_thresholds/false_positives:0", [1]),
        ("miss/true_positives:0", [1]), ("miss/false_negatives:0", [1]),
        ("precision_at_thresholds/true_positives:0", [1]),
        ("precision_at_thresholds/false_positives:0", [1])]
    assert list(inspect.signature(metrics.streaming_recall_at_thresholds).parameters)[:4] == [
        "predictions", "labels", "thresholds", "weights"]

def test_streaming_mean_and_mean_tensor(executor):
    values = tf.placeholder(tf.float32, [2, 3])
    weights = tf.placeholder(tf.float32, [2, 3])
    mean = metrics.streaming_mean(values, weights)
    mean_tensor = metrics.streaming_mean_tensor(values, weights, name="per_element")
    plain = metrics.streaming_mean_tensor(values)
    batches = [(_rng.randn(2, 3).astype(np.float32),
                _rng.randint(0, 3, (2, 3)).astype(np.float32)) for _ in range(3)]
    batches[0][1][0, 0] = batches[1][1][0, 0] = batches[2][1][0, 0] = 0.0
    got = _stream([mean, mean_tensor, plain], [{values: v, weights: w} for v, w in batches])
    v = np.stack([b[0] for b in batches])
    w = np.stack([b[1] for b in batches])
    np.testing.assert_allclose(got[0], np.sum(v * w) / np.sum(w), rtol=1e-5)
    count = w.sum(0)
    want = np.where(count > 0, (v * w).sum(0) / np.where(count > 0, count, 1), 0.0)
    np.testing.assert_allclose(got[1], want, rtol=1e-5)
    assert got[1][0, 0] == 0.0
    np.testing.assert_allclose(got[2], v.mean(0), rtol=1e-5)
    assert {"per_element/total_tensor", "per_element/count_tensor"} <= {
        variable.op.name for variable in tf.local_variables()}


def test_streaming_auc_matches_tf_metrics_auc(executor):
    scores = _rng.rand(40).astype(np.float32)
    truth = (_rng.rand(40) < scores).astype(np.bool_)
    contrib_auc = metrics.streaming_auc(scores, truth, num_thresholds=50)
    core_auc = tf.metrics.auc(truth, scores, num_thresholds=50)
    contrib_pr = metrics.streaming_auc(scores, truth, curve="PR", name="pr")
    core_pr = tf.metrics.auc(truth, scores, curve="PR")
    got = _stream([contrib_auc, core_auc, contrib_pr, core_pr], [None])
    np.testing.assert_allclose(got[0], got[1], rtol=1e-6)
    np.testing.assert_allclose(got[2], got[3], rtol=1e-6)
    # Exact ROC AUC (ties counted half) is close to the thresholded estimate.
    positive, negative = scores[truth], scores[~truth]
    exact = np.mean((positive[:, None] > negative[None, :])
                    + 0.5 * (positive[:, None] == negative[None, :]))
    assert abs(got[0] - exact) < 0.03


def test_streaming_mean_iou_and_metric_map(executor):
    predictions = np.array([0, 1, 2, 2, 1, 0], np.int32)
    labels = np.array([0, 1, 1, 2, 2, 2], np.int32)
    names_to_pairs = {
        "iou": metrics.streaming_mean_iou(predictions, labels, num_classes=3),
        "accuracy": metrics.streaming_accuracy(predictions, labels)}
    values, updates = metrics.aggregate_metric_map(names_to_pairs)
    assert set(values) == set(updates) == {"iou", "accuracy"}
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        sess.run(list(updates.values()))
        got = sess.run(values)
    confusion = np.zeros([3, 3])
    np.add.at(confusion, (labels, predictions), 1)
    diagonal = np.diag(confusion)
    iou = diagonal / (confusion.sum(0) + confusion.sum(1) - diagonal)
    np.testing.assert_allclose(got["iou"], iou.mean(), rtol=1e-6)
    np.testing.assert_allclose(got["accuracy"], np.mean(predictions == labels), rtol=1e-6)


def test_aggregate_metrics_needs_a_pair():
    with pytest.raises(ValueError, match="at least one"):
        metrics.aggregate_metrics()


def test_unknown_metric_name_raises_attribute_error():
    with pytest.raises(AttributeError, match="metrics.streaming_nonexistent"):
        metrics.streaming_nonexistent


# ---- losses --------------------------------------------------------------------------------

def _contrib_mean(elementwise, weights):
    """contrib's reduction: weights scale the leading dimensions; mean over the elements
    whose weight is nonzero."""
    weights = np.asarray(weights, np.float64)
    if weights.ndim > 1 and weights.shape[-1] == 1:
        weights = weights[..., 0]
    weights = weights.reshape(weights.shape + (1,) * (elementwise.ndim - weights.ndim))
    weights = np.broadcast_to(weights, elementwise.shape)
    present = np.count_nonzero(weights)
    return np.sum(elementwise * weights) / present if present else 0.0


def _run(tensors):
    with tf.Session() as sess:
        return sess.run(tensors)


def test_regression_losses_with_leading_weights(executor):
    predictions = _rng.rand(4, 3).astype(np.float32)
    labels = (_rng.rand(4, 3) > 0.5).astype(np.float32)
    row_weights = np.array([1.0, 0.0, 2.0, 0.5], np.float32)
    got = _run([losses.absolute_difference(predictions, labels, weights=row_weights),
                losses.mean_squared_error(predictions, labels, row_weights[:, None]),
                losses.log_loss(predictions, labels, weights=2.0),
                losses.compute_weighted_loss(predictions, row_weights),
                losses.absolute_difference(predictions, labels, weights=0.0)])
    log_terms = -(labels * np.log(predictions + 1e-7)
                  + (1 - labels) * np.log(1 - predictions + 1e-7))
    want = [_contrib_mean(np.abs(predictions - labels), row_weights),
            _contrib_mean((predictions - labels) ** 2, row_weights[:, None]),
            _contrib_mean(log_terms, 2.0),
            _contrib_mean(predictions, row_weights), 0.0]
    np.testing.assert_allclose(got, want, rtol=1e-5)
    # Each reduced loss went to the LOSSES collection; contrib's getters see them.
    assert len(losses.get_losses()) == 5
    np.testing.assert_allclose(_run(losses.get_total_loss()), np.sum(want), rtol=1e-5)


def test_cross_entropies_take_logits_first(executor):
    logits = _rng.randn(5, 4).astype(np.float32)
    classes = np.array([0, 3, 1, 1, 2], np.int32)
    onehot = np.eye(4, dtype=np.float32)[classes]
    weights = np.array([[1.0], [2.0], [0.0], [1.0], [0.5]], np.float32)
    multi = (_rng.rand(5, 4) > 0.5).astype(np.float32)
    got = _run([losses.softmax_cross_entropy(logits, onehot, weights=weights),
                losses.softmax_cross_entropy(logits, onehot, label_smoothing=0.2),
                losses.sparse_softmax_cross_entropy(logits, classes[:, None], weights),
                losses.sigmoid_cross_entropy(logits, multi, label_smoothing=0.1),
                losses.sigmoid_cross_entropy(logits, multi, weights=weights[:, 0])])
    log_softmax = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    smoothed = onehot * 0.8 + 0.2 / 4
    sigmoid_targets = multi * 0.9 + 0.05
    sigmoid_loss = (np.maximum(logits, 0) - logits * sigmoid_targets
                    + np.log1p(np.exp(-np.abs(logits))))
    plain_sigmoid = (np.maximum(logits, 0) - logits * multi
                     + np.log1p(np.exp(-np.abs(logits))))
    want = [_contrib_mean(-(onehot * log_softmax).sum(1), weights[:, 0]),
            np.mean(-(smoothed * log_softmax).sum(1)),
            _contrib_mean(-log_softmax[np.arange(5), classes], weights[:, 0]),
            np.mean(sigmoid_loss),
            _contrib_mean(plain_sigmoid, weights[:, 0])]
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_hinge_loss_is_unreduced_and_cosine_distance_reduces_axis(executor):
    logits = _rng.randn(3, 2).astype(np.float32)
    labels = np.array([[1, 0], [0, 0], [1, 1]], np.float32)
    hinge = losses.hinge_loss(logits, labels)
    predictions = _rng.randn(3, 4).astype(np.float32)
    predictions /= np.linalg.norm(predictions, axis=1, keepdims=True)
    targets = _rng.randn(3, 4).astype(np.float32)
    targets /= np.linalg.norm(targets, axis=1, keepdims=True)
    row_weights = np.array([1.0, 0.0, 3.0], np.float32)
    cosine = losses.cosine_distance(predictions, targets, axis=1, weights=row_weights)
    deprecated = losses.cosine_distance(predictions, targets, dim=1)
    assert losses.get_losses() == [cosine, deprecated]
    got = _run([hinge, cosine, deprecated])
    np.testing.assert_allclose(got[0], np.maximum(0, 1 - (2 * labels - 1) * logits),
                               rtol=1e-6)
    distances = 1 - np.sum(predictions * targets, 1)
    np.testing.assert_allclose(got[1], _contrib_mean(distances, row_weights), rtol=1e-5)
    np.testing.assert_allclose(got[2], distances.mean(), rtol=1e-5)
    with pytest.raises(ValueError, match="axis"):
        losses.cosine_distance(predictions, targets)


def test_loss_collection_helpers():
    with tf.variable_scope("reg"):
        tf.get_variable("w", [2], initializer=tf.ones_initializer(),
                        regularizer=lambda w: 3.0 * tf.reduce_sum(w))
    extra = tf.constant(1.5)
    losses.add_loss(extra)
    assert losses.get_losses() == [extra]
    assert len(losses.get_regularization_losses()) == 1
    total = losses.get_total_loss()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(total) == pytest.approx(7.5)


def test_weights_of_higher_rank_than_losses_raise():
    with pytest.raises(ValueError):
        losses.absolute_difference(np.zeros([3], np.float32), np.zeros([3], np.float32),
                                   weights=np.ones([3, 2], np.float32))
