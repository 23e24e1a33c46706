"""End to end: small models trained with tf.train on synthetic data, as TF 1 tutorials do."""

import numpy as np
import pytest

import sessionlib as tf


def _bars(count, seed=0):
    """8x8 one-channel images holding a vertical (class 0) or horizontal (class 1) bar."""
    rng = np.random.default_rng(seed)
    images = rng.normal(0.0, 0.1, (count, 8, 8, 1)).astype(np.float32)
    labels = rng.integers(0, 2, count).astype(np.int32)
    for image, label, where in zip(images, labels, rng.integers(1, 7, count)):
        if label == 0:
            image[:, where, 0] += 1.0
        else:
            image[where, :, 0] += 1.0
    return images, labels


def _small_cnn(conv_device="", dense_device=""):
    rng = np.random.default_rng(1)
    x = tf.placeholder(tf.float32, [None, 8, 8, 1], name="x")
    labels = tf.placeholder(tf.int32, [None], name="labels")
    with tf.device(conv_device):
        kernel = tf.Variable(rng.normal(0, 0.3, (3, 3, 1, 4)).astype(np.float32), name="k")
        conv = tf.nn.relu(tf.nn.conv2d(x, kernel, strides=[1, 1, 1, 1], padding="SAME"))
        pooled = tf.nn.max_pool(conv, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1],
                                padding="VALID")
        flat = tf.reshape(pooled, [-1, 4 * 4 * 4])
    with tf.device(dense_device):
        w = tf.Variable(rng.normal(0, 0.1, (64, 2)).astype(np.float32), name="w")
        b = tf.Variable(np.zeros(2, np.float32), name="b")
        logits = tf.nn.bias_add(tf.matmul(flat, w), b)
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=labels, logits=logits))
        accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.cast(tf.argmax(logits, 1), tf.int32),
                                                   labels), tf.float32))
    train = tf.train.AdamOptimizer(0.02).minimize(loss)
    return x, labels, loss, accuracy, train


def _train(config, steps=60, **devices):
    images, image_labels = _bars(256)
    with tf.Graph().as_default():
        x, labels, loss, accuracy, train = _small_cnn(**devices)
        feeds = {x: images, labels: image_labels}
        with tf.Session(config=config) as sess:
            sess.run(tf.global_variables_initializer())
            start = sess.run(loss, feeds)
            for _ in range(steps):
                sess.run(train, feeds)
            return start, sess.run([loss, accuracy], feeds), sess.run(
                tf.trainable_variables())


def test_a_small_cnn_learns_with_adam():
    start, (end, accuracy), _ = _train(None)
    assert start > 0.5
    assert end < 0.1 * start
    assert accuracy > 0.95


@pytest.mark.parametrize("optimizer", [
    lambda: tf.train.GradientDescentOptimizer(0.5),
    lambda: tf.train.MomentumOptimizer(0.2, 0.9),
    lambda: tf.train.MomentumOptimizer(0.2, 0.9, use_nesterov=True),
    lambda: tf.train.AdagradOptimizer(0.5),
    lambda: tf.train.RMSPropOptimizer(0.05),
    lambda: tf.train.RMSPropOptimizer(0.05, momentum=0.5, centered=True),
    lambda: tf.train.AdamOptimizer(0.1),
    lambda: tf.train.AdadeltaOptimizer(1.0, epsilon=1e-3),
    lambda: tf.train.FtrlOptimizer(0.5),
], ids=["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "centered-rmsprop", "adam",
        "adadelta", "ftrl"])
def test_logistic_regression_trains_with_every_optimizer(optimizer):
    rng = np.random.default_rng(2)
    points = rng.standard_normal((200, 3)).astype(np.float32)
    targets = (points @ np.array([1.0, -2.0, 0.5]) > 0.2).astype(np.float32).reshape(-1, 1)
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 3])
        y = tf.placeholder(tf.float32, [None, 1])
        w = tf.Variable(tf.zeros([3, 1]))
        b = tf.Variable(tf.zeros([1]))
        loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
            labels=y, logits=tf.matmul(x, w) + b))
        step = tf.train.get_or_create_global_step()
        train = optimizer().minimize(loss, global_step=step)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            start = sess.run(loss, {x: points, y: targets})
            for _ in range(100):
                sess.run(train, {x: points, y: targets})
            end = sess.run(loss, {x: points, y: targets})
            assert sess.run(step) == 100
    assert start == pytest.approx(np.log(2), rel=1e-6)
    assert end < 0.45, end


def test_a_cnn_split_over_two_devices_trains_like_on_one():
    one = _train(None, steps=10)
    two = _train(tf.ConfigProto(device_count={"CPU": 2}), steps=10,
                 conv_device="/cpu:0", dense_device="/cpu:1")
    np.testing.assert_allclose(two[0], one[0], rtol=1e-6)
    np.testing.assert_allclose(two[1][0], one[1][0], rtol=1e-4)
    for split, single in zip(two[2], one[2]):
        np.testing.assert_allclose(split, single, rtol=1e-4, atol=1e-6)
