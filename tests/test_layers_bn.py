"""tf.layers.batch_normalization / BatchNormalization: training versus inference, the moving
averages after several steps against numpy, bool-tensor `training`, names and collections.

TF 2.21 (legacy tf-keras layers) was used to check the names and one fact worth a test: for 4-D
inputs (the fused path) the moving variance follows the batch's unbiased variance, for other
ranks the biased one.
"""

import numpy as np
import pytest

import sessionlib as tf

EPS = 1e-3


def _normalize(x, mean, var, gamma=1.0, beta=0.0, eps=EPS):
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def _moving(stat_values, momentum, start):
    moving = start
    for value in stat_values:
        moving = moving - (moving - value) * (1 - momentum)
    return moving


def _update_ops():
    return tf.get_collection(tf.GraphKeys.UPDATE_OPS)


def test_variables_collections_and_update_names():
    out = tf.layers.batch_normalization(tf.zeros([2, 4]), training=True)
    assert [v.name for v in tf.global_variables()] == [
        "batch_normalization/gamma:0", "batch_normalization/beta:0",
        "batch_normalization/moving_mean:0", "batch_normalization/moving_variance:0"]
    assert [v.name for v in tf.trainable_variables()] == [
        "batch_normalization/gamma:0", "batch_normalization/beta:0"]
    # TF 2.21: ['batch_normalization/AssignMovingAvg', 'batch_normalization/AssignMovingAvg_1'].
    assert [u.name.split(":")[0] for u in _update_ops()] == [
        "batch_normalization/AssignMovingAvg", "batch_normalization/AssignMovingAvg_1"]
    assert out.shape.as_list() == [2, 4]
    # Inference adds no updates; the second layer gets the next unique scope.
    tf.layers.batch_normalization(tf.zeros([2, 4]), training=False)
    assert len(_update_ops()) == 2
    assert tf.global_variables()[-1].name == "batch_normalization_1/moving_variance:0"


def test_without_center_and_scale_only_moving_statistics():
    x = np.random.RandomState(0).randn(6, 3).astype(np.float32)
    out = tf.layers.batch_normalization(tf.constant(x), center=False, scale=False,
                                        training=True)
    assert tf.trainable_variables() == []
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_allclose(sess.run(out), _normalize(x, x.mean(0), x.var(0)),
                                   rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("shape,axis", [((6, 3), -1), ((3, 2, 2, 3), -1), ((4, 3, 5), 1),
                                        ((2, 3, 2, 2), 1)])
def test_training_and_moving_averages_against_numpy(shape, axis, executor):
    rng = np.random.RandomState(1)
    batches = [rng.randn(*shape).astype(np.float32) * 2 + 1 for _ in range(3)]
    inputs = tf.placeholder(tf.float32, shape)
    layer = tf.layers.BatchNormalization(axis=axis, momentum=0.9,
                                         gamma_initializer=tf.constant_initializer(1.5),
                                         beta_initializer=tf.constant_initializer(-0.5))
    out = layer(inputs, training=True)
    infer = layer(inputs, training=False)
    ndim = len(shape)
    channel = axis % ndim
    reduce_axes = tuple(i for i in range(ndim) if i != channel)
    keep = [1] * ndim
    keep[channel] = shape[channel]
    n = int(np.prod([shape[i] for i in reduce_axes]))
    fused = ndim == 4
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for batch in batches:
            value, _ = sess.run([out, layer.updates], {inputs: batch})
            mean, var = batch.mean(reduce_axes), batch.var(reduce_axes)
            expected = _normalize(batch, mean.reshape(keep), var.reshape(keep), 1.5, -0.5)
            np.testing.assert_allclose(value, expected, rtol=1e-4, atol=1e-4)
        moving_mean, moving_var = sess.run([layer.moving_mean, layer.moving_variance])
        test_batch = batches[0]
        inferred = sess.run(infer, {inputs: test_batch})
    means = [b.mean(reduce_axes) for b in batches]
    variances = [b.var(reduce_axes) * (n / (n - 1) if fused else 1.0) for b in batches]
    np.testing.assert_allclose(moving_mean, _moving(means, 0.9, 0.0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(moving_var, _moving(variances, 0.9, 1.0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        inferred, _normalize(test_batch, moving_mean.reshape(keep), moving_var.reshape(keep),
                             1.5, -0.5), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("shape", [(5, 3), (2, 2, 2, 3)])
def test_bool_tensor_training(shape, executor):
    rng = np.random.RandomState(2)
    x = rng.randn(*shape).astype(np.float32)
    training = tf.placeholder(tf.bool, [])
    out = tf.layers.batch_normalization(tf.constant(x), momentum=0.5, training=training)
    updates = _update_ops()
    assert len(updates) == 2
    moving = [v for v in tf.global_variables() if "moving" in v.name]
    axes = tuple(range(len(shape) - 1))
    n = int(np.prod(shape[:-1]))
    fused = len(shape) == 4
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        # Not training: the moving statistics normalize and the updates change nothing.
        value, _ = sess.run([out, updates], {training: False})
        np.testing.assert_allclose(value, _normalize(x, 0.0, 1.0), rtol=1e-5, atol=1e-5)
        mean0, var0 = sess.run(moving)
        np.testing.assert_array_equal(mean0, np.zeros(shape[-1]))
        np.testing.assert_array_equal(var0, np.ones(shape[-1]))
        # Training: batch statistics, and the updates move the averages.
        value, _ = sess.run([out, updates], {training: True})
        np.testing.assert_allclose(value, _normalize(x, x.mean(axes), x.var(axes)),
                                   rtol=1e-4, atol=1e-4)
        mean1, var1 = sess.run(moving)
    batch_var = x.var(axes) * (n / (n - 1) if fused else 1.0)
    np.testing.assert_allclose(mean1, 0.5 * x.mean(axes), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(var1, 0.5 + 0.5 * batch_var, rtol=1e-5, atol=1e-6)


def test_reuse_shares_the_statistics():
    x = tf.placeholder(tf.float32, [None, 3])
    tf.layers.batch_normalization(x, training=True, name="bn")
    tf.layers.batch_normalization(x, training=False, name="bn", reuse=True)
    assert len(tf.global_variables()) == 4
    with pytest.raises(ValueError, match="already exists"):
        tf.layers.batch_normalization(x, name="bn")


def test_regularizers_and_fused_errors():
    x = tf.zeros([2, 3])
    tf.layers.batch_normalization(x, gamma_regularizer=lambda g: tf.reduce_sum(g),
                                  beta_regularizer=lambda b: tf.reduce_sum(b))
    losses = tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
    assert [t.name.split("/")[1:3] for t in losses] == [["gamma", "Regularizer"],
                                                        ["beta", "Regularizer"]]
    with pytest.raises(ValueError, match="fused"):
        tf.layers.batch_normalization(x, fused=True)
    with pytest.raises(NotImplementedError, match="renorm"):
        tf.layers.batch_normalization(x, renorm=True)
    with pytest.raises(ValueError, match="virtual_batch_size"):
        tf.layers.batch_normalization(x, virtual_batch_size=0)
    with pytest.raises(ValueError, match="adjustment cannot"):
        tf.layers.batch_normalization(x, virtual_batch_size=2, adjustment=lambda s: (1, 0))
    with pytest.raises(ValueError, match="Invalid axis"):
        tf.layers.batch_normalization(x, axis=4)


def test_training_a_batch_normalized_model_with_update_ops():
    rng = np.random.RandomState(3)
    data = rng.randn(32, 4).astype(np.float32) * 3 + 2
    target = (data @ rng.randn(4, 1)).astype(np.float32)
    x = tf.placeholder(tf.float32, [None, 4])
    training = tf.placeholder_with_default(False, [])
    hidden = tf.layers.dense(x, 8, activation=tf.nn.relu,
                             kernel_initializer=tf.constant_initializer(
                                 rng.randn(4, 8).astype(np.float32) * 0.3))
    hidden = tf.layers.batch_normalization(hidden, training=training, momentum=0.8)
    pred = tf.layers.dense(hidden, 1, kernel_initializer=tf.constant_initializer(0.1))
    loss = tf.reduce_mean(tf.square(pred - target))
    with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
        train = tf.train.AdamOptimizer(0.05).minimize(loss)
    moving_mean = [v for v in tf.global_variables() if "moving_mean" in v.name][0]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        first = sess.run(loss, {x: data, training: True})
        for _ in range(40):
            sess.run(train, {x: data, training: True})
        last = sess.run(loss, {x: data, training: True})
        assert np.any(sess.run(moving_mean) != 0)
        eval_loss = sess.run(loss, {x: data})
    assert last < first * 0.5
    assert np.isfinite(eval_loss)


def test_virtual_batches_normalize_ghost_batches_separately():
    # TF 2.21 (checked with these formulas): the batch is reshaped to [virtual, -1, ...], so
    # ghost batch g holds rows g, g + 3, ...; the weights are [1, 1, C] and the moving averages
    # follow the mean of the ghost batches' moments.
    x = np.random.RandomState(4).randn(6, 3).astype(np.float32)
    out = tf.layers.batch_normalization(tf.constant(x), virtual_batch_size=2, momentum=0.5,
                                        training=True)
    assert [v.shape.as_list() for v in tf.global_variables()] == [[1, 1, 3]] * 4
    assert out.shape.as_list() == [6, 3]
    moving = tf.global_variables()[2:]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        value, _ = sess.run([out, _update_ops()])
        moving_mean, moving_var = sess.run(moving)
    ghosts = x.reshape(2, 3, 3)
    mean, var = ghosts.mean(0, keepdims=True), ghosts.var(0, keepdims=True)
    np.testing.assert_allclose(value, _normalize(ghosts, mean, var).reshape(6, 3), rtol=1e-4,
                               atol=1e-5)
    np.testing.assert_allclose(moving_mean, 0.5 * mean.mean(1, keepdims=True), rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(moving_var, 0.5 + 0.5 * var.mean(1, keepdims=True), rtol=1e-5)


def test_adjustment_applies_in_training_only():
    x = np.random.RandomState(5).randn(6, 3).astype(np.float32)
    training = tf.placeholder(tf.bool, [])
    out = tf.layers.batch_normalization(
        tf.constant(x), training=training,
        adjustment=lambda shape: (tf.fill([3], 2.0), tf.fill([3], 0.5)),
        gamma_initializer=tf.constant_initializer(3.0),
        beta_initializer=tf.constant_initializer(1.0))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        trained, inferred = sess.run(out, {training: True}), sess.run(out, {training: False})
    normalized = (x - x.mean(0)) / np.sqrt(x.var(0) + EPS)
    # gamma * adj_scale and beta + gamma * adj_bias, as TF 2.21 composes them.
    np.testing.assert_allclose(trained, normalized * 6.0 + 0.5 * 3.0 + 1.0, rtol=1e-4,
                               atol=1e-5)
    np.testing.assert_allclose(inferred, _normalize(x, 0.0, 1.0, 3.0, 1.0), rtol=1e-4,
                               atol=1e-5)
