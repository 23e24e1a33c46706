"""tf.losses: each loss, weights of each broadcastable shape, each reduction, names and the
loss collections.

Expected values are numpy formulas of TF 1's definitions; every loss/weights/reduction
combination here was also checked once against TF 2.21 (tf.compat.v1.losses) with a
throwaway script, which agreed to float32 rounding.
"""

import numpy as np
import pytest

import sessionlib as tf

R = tf.losses.Reduction
RNG = np.random.RandomState(0)
B, C = 4, 3
LABELS = RNG.rand(B, C).astype(np.float32)
PREDS = RNG.rand(B, C).astype(np.float32)
BINARY = (RNG.rand(B, C) > 0.5).astype(np.float32)
LOGITS = (RNG.randn(B, C) * 2).astype(np.float32)
ONEHOT = np.eye(C, dtype=np.float32)[[0, 2, 1, 2]]
SPARSE = np.array([0, 2, 1, 2], np.int32)

WEIGHTS = {
    "scalar": 2.0,
    "batch1": np.array([[1.0], [0.0], [2.0], [0.5]], np.float32),
    "row": np.array([[1.0, 0.0, 2.0]], np.float32),
    "full": np.array([[1, 0, 2], [0, 0, 0], [3, 1, 0], [1, 1, 1]], np.float32),
    "zeros": np.zeros((B, C), np.float32),
}


def _run(tensor):
    with tf.Session() as session:
        return session.run(tensor)


def _reduce(losses, weights, reduction):
    """TF 1's compute_weighted_loss, in numpy."""
    weights = np.broadcast_to(np.asarray(weights, np.float64), losses.shape)
    weighted = losses * weights
    if reduction == R.NONE:
        return weighted
    total = weighted.sum()
    if reduction == R.SUM:
        return total
    if reduction == R.MEAN:
        count = weights.sum()
    elif reduction == R.SUM_OVER_BATCH_SIZE:
        count = losses.size
    else:
        count = np.count_nonzero(weights)
    return 0.0 if count == 0 else total / count


def _sigmoid_xent(labels, logits):
    return np.maximum(logits, 0) - logits * labels + np.log1p(np.exp(-np.abs(logits)))


def _log_softmax(logits):
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


ELEMENTWISE = {
    "absolute_difference": (lambda **kw: tf.losses.absolute_difference(LABELS, PREDS, **kw),
                            lambda: np.abs(PREDS - LABELS)),
    "mean_squared_error": (lambda **kw: tf.losses.mean_squared_error(LABELS, PREDS, **kw),
                           lambda: (PREDS - LABELS) ** 2),
    "huber_loss": (lambda **kw: tf.losses.huber_loss(LABELS, 3 * PREDS, delta=0.7, **kw),
                   lambda: _huber(np.abs(3 * PREDS - LABELS), 0.7)),
    "log_loss": (lambda **kw: tf.losses.log_loss(BINARY, PREDS, **kw),
                 lambda: -BINARY * np.log(PREDS + 1e-7)
                 - (1 - BINARY) * np.log(1 - PREDS + 1e-7)),
    "hinge_loss": (lambda **kw: tf.losses.hinge_loss(BINARY, LOGITS, **kw),
                   lambda: np.maximum(0.0, 1 - (2 * BINARY - 1) * LOGITS)),
    "sigmoid_cross_entropy": (
        lambda **kw: tf.losses.sigmoid_cross_entropy(BINARY, LOGITS, label_smoothing=0.2,
                                                     **kw),
        lambda: _sigmoid_xent(BINARY * 0.8 + 0.1, LOGITS)),
}


def _huber(error, delta):
    return np.where(error <= delta, 0.5 * error ** 2, delta * (error - 0.5 * delta))


@pytest.mark.parametrize("reduction", R.all())
@pytest.mark.parametrize("weights", sorted(WEIGHTS))
@pytest.mark.parametrize("loss", sorted(ELEMENTWISE))
def test_elementwise_loss_weights_and_reduction(loss, weights, reduction):
    build, formula = ELEMENTWISE[loss]
    with tf.Graph().as_default():
        result = _run(build(weights=WEIGHTS[weights], reduction=reduction))
    expected = _reduce(formula().astype(np.float64), WEIGHTS[weights], reduction)
    np.testing.assert_allclose(result, expected, rtol=2e-5, atol=1e-6)
    assert np.shape(result) == np.shape(expected)


BATCH_WEIGHTS = {"scalar": 2.0, "batch": np.array([1.0, 0.0, 2.0, 0.5], np.float32)}


@pytest.mark.parametrize("reduction", R.all())
@pytest.mark.parametrize("weights", sorted(BATCH_WEIGHTS))
def test_softmax_cross_entropy_with_label_smoothing(weights, reduction):
    smoothed = ONEHOT * 0.9 + 0.1 / C
    per_example = -(smoothed * _log_softmax(LOGITS.astype(np.float64))).sum(axis=1)
    with tf.Graph().as_default():
        result = _run(tf.losses.softmax_cross_entropy(ONEHOT, LOGITS, BATCH_WEIGHTS[weights],
                                                      label_smoothing=0.1,
                                                      reduction=reduction))
    np.testing.assert_allclose(result, _reduce(per_example, BATCH_WEIGHTS[weights], reduction),
                               rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("reduction", R.all())
@pytest.mark.parametrize("labels_shape", ["batch", "batch1"])
@pytest.mark.parametrize("weights", ["scalar", "batch", "batch1"])
def test_sparse_softmax_cross_entropy_squeezes_labels_and_weights(weights, labels_shape,
                                                                  reduction):
    labels = SPARSE if labels_shape == "batch" else SPARSE[:, None]
    w = {"scalar": 2.0, "batch": BATCH_WEIGHTS["batch"],
         "batch1": BATCH_WEIGHTS["batch"][:, None]}[weights]
    per_example = -_log_softmax(LOGITS.astype(np.float64))[np.arange(B), SPARSE]
    with tf.Graph().as_default():
        result = _run(tf.losses.sparse_softmax_cross_entropy(labels, LOGITS, w,
                                                             reduction=reduction))
    np.testing.assert_allclose(result, _reduce(per_example, np.reshape(w, (-1,)) if np.ndim(w)
                                               else w, reduction), rtol=2e-5, atol=1e-6)


def test_cosine_distance_keeps_the_axis():
    a = LABELS / np.linalg.norm(LABELS, axis=1, keepdims=True)
    b = PREDS / np.linalg.norm(PREDS, axis=1, keepdims=True)
    weights = np.array([[1.0], [2.0], [0.0], [1.0]], np.float32)
    losses = 1 - (a * b).sum(axis=1, keepdims=True)
    with tf.Graph().as_default():
        loss = tf.losses.cosine_distance(a, b, axis=1, weights=weights)
        dim_loss = tf.losses.cosine_distance(a, b, dim=1, reduction=R.NONE)
        result, unreduced = _run([loss, dim_loss])
    np.testing.assert_allclose(result, _reduce(losses, weights, R.SUM_BY_NONZERO_WEIGHTS),
                               rtol=1e-5)
    np.testing.assert_allclose(unreduced, losses, rtol=1e-5, atol=1e-6)
    assert unreduced.shape == (B, 1)


def test_mean_pairwise_squared_error():
    weights = np.array([[1.0], [2.0], [0.0], [1.0]], np.float32)
    diffs = (PREDS - LABELS).astype(np.float64)
    n = C
    per_example = (2 * (diffs ** 2).sum(1) / (n - 1) - 2 * diffs.sum(1) ** 2 / (n * (n - 1)))
    with tf.Graph().as_default():
        weighted, plain = _run([
            tf.losses.mean_pairwise_squared_error(LABELS, PREDS, weights=weights),
            tf.losses.mean_pairwise_squared_error(LABELS, PREDS)])
    np.testing.assert_allclose(weighted, (per_example * weights[:, 0]).sum(), rtol=1e-5)
    np.testing.assert_allclose(plain, per_example.sum(), rtol=1e-5)


def test_all_zero_weights_give_zero_not_nan():
    with tf.Graph().as_default():
        results = _run([tf.losses.mean_squared_error(LABELS, PREDS, weights=0.0,
                                                     reduction=reduction)
                        for reduction in (R.MEAN, R.SUM_BY_NONZERO_WEIGHTS)])
    assert results == [0.0, 0.0]


def test_float64_losses_are_weighted_in_float32_and_cast_back():
    with tf.Graph().as_default():
        loss = tf.losses.absolute_difference(LABELS.astype(np.float64),
                                             PREDS.astype(np.float64))
        assert loss.dtype == tf.float32  # predictions are cast to float32 first, as TF does
        logits = tf.constant(LOGITS.astype(np.float64))
        xent = tf.losses.softmax_cross_entropy(ONEHOT, logits)
        assert xent.dtype == tf.float64
        np.testing.assert_allclose(
            _run(xent), -(ONEHOT * _log_softmax(LOGITS.astype(np.float64))).sum(1).mean(),
            rtol=1e-6)


def test_names_follow_tf():
    # Names checked against TF 2.21.
    with tf.Graph().as_default():
        assert tf.losses.softmax_cross_entropy(ONEHOT, LOGITS).name == \
            "softmax_cross_entropy_loss/value:0"
        assert tf.losses.softmax_cross_entropy(ONEHOT, LOGITS).name == \
            "softmax_cross_entropy_loss_1/value:0"
        assert tf.losses.absolute_difference(LABELS, PREDS, reduction=R.NONE).name == \
            "absolute_difference/Mul:0"
        assert tf.losses.absolute_difference(LABELS, PREDS, reduction=R.SUM,
                                             scope="myscope").name == "myscope/Sum:0"
        assert tf.losses.sparse_softmax_cross_entropy(SPARSE, LOGITS).name == \
            "sparse_softmax_cross_entropy_loss/value:0"


def test_losses_collection_total_and_regularization():
    with tf.Graph().as_default() as graph:
        mse = tf.losses.mean_squared_error(LABELS, PREDS)
        hidden = tf.losses.absolute_difference(LABELS, PREDS, loss_collection=None)
        custom = tf.constant(0.25)
        tf.losses.add_loss(custom)
        tf.losses.add_loss(tf.constant(100.0), loss_collection=None)
        assert tf.losses.get_losses() == [mse, custom]
        assert hidden not in tf.losses.get_losses()
        assert tf.losses.get_regularization_losses() == []
        no_regularization = tf.losses.get_regularization_loss()
        key = getattr(tf.GraphKeys, "REGULARIZATION_LOSSES", "regularization_losses")
        assert key == "regularization_losses"
        graph.add_to_collection(key, tf.constant(0.5, name="reg_a"))
        graph.add_to_collection(key, tf.constant(1.5, name="reg_b"))
        total = tf.losses.get_total_loss()
        data_only = tf.losses.get_total_loss(add_regularization_losses=False)
        regularization = tf.losses.get_regularization_loss()
        scoped = tf.losses.get_regularization_loss(scope="reg_b")
        assert total.name == "total_loss:0"
        assert regularization.name == "total_regularization_loss:0"
        values = _run([mse, total, data_only, regularization, scoped, no_regularization])
    mse_value = ((PREDS - LABELS) ** 2).mean()
    np.testing.assert_allclose(values, [mse_value, mse_value + 2.25, mse_value + 0.25, 2.0,
                                        1.5, 0.0], rtol=1e-6)


def test_get_total_loss_without_losses_raises():
    with tf.Graph().as_default():
        with pytest.raises(ValueError):
            tf.losses.get_total_loss()


def test_losses_train_a_model():
    # The default reduction's gradient drives a linear model to the targets.
    x = RNG.randn(16, 3).astype(np.float32)
    y = x @ np.array([[1.0], [-2.0], [0.5]], np.float32)
    with tf.Graph().as_default():
        w = tf.Variable(tf.zeros([3, 1]))
        loss = tf.losses.mean_squared_error(y, tf.matmul(x, w))
        step = tf.train.GradientDescentOptimizer(0.2).minimize(tf.losses.get_total_loss())
        with tf.Session() as session:
            session.run(tf.global_variables_initializer())
            first = session.run(loss)
            for _ in range(200):
                session.run(step)
            last, learned = session.run([loss, w])
    assert last < first * 1e-4
    np.testing.assert_allclose(learned[:, 0], [1.0, -2.0, 0.5], atol=1e-2)


def test_reduction_keys():
    # TF's string values.
    assert (R.NONE, R.SUM, R.MEAN, R.SUM_OVER_BATCH_SIZE, R.SUM_BY_NONZERO_WEIGHTS) == (
        "none", "weighted_sum", "weighted_mean", "weighted_sum_over_batch_size",
        "weighted_sum_by_nonzero_weights")
    assert R.SUM_OVER_NONZERO_WEIGHTS == R.SUM_BY_NONZERO_WEIGHTS
    assert R.all() == ("none", "weighted_sum", "weighted_mean", "weighted_sum_over_batch_size",
                       "weighted_sum_by_nonzero_weights", "weighted_sum_by_nonzero_weights")
    R.validate("weighted_mean")
    with pytest.raises(ValueError, match="Invalid Reduction Key bogus"):
        R.validate("bogus")


@pytest.mark.parametrize("build, message", [
    (lambda: tf.losses.absolute_difference(LABELS, PREDS, weights=np.ones(B, np.float32)),
     "weights can not be broadcast to values. values.rank=2. weights.rank=1."),
    (lambda: tf.losses.absolute_difference(LABELS, PREDS, weights=np.ones((B, 2), np.float32)),
     "weights can not be broadcast to values. Mismatch at dim 1."),
    (lambda: tf.losses.mean_squared_error(LABELS, PREDS, reduction="bogus"),
     "Invalid Reduction Key bogus"),
    (lambda: tf.losses.cosine_distance(LABELS, PREDS), "You must specify argument `axis`."),
    (lambda: tf.losses.absolute_difference(None, PREDS),
     "Argument `labels` must not be None."),
    (lambda: tf.losses.softmax_cross_entropy(ONEHOT, None),
     "Argument `logits` must not be None."),
    (lambda: tf.losses.mean_squared_error(LABELS, PREDS[:, :2]), "incompatible"),
])
def test_errors(build, message):
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match=message.replace(".", r"\.").replace("`", ".")):
            build()
