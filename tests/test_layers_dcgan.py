"""A DCGAN-style program written the TF 1 way: tf.layers.conv2d_transpose and batch
normalization in the generator, two variable scopes with ``reuse``, and two optimizers on
separate ``var_list``s. It trains on synthetic data and its losses move as expected: each
optimizer lowers its own loss while the other's variables stay where they are.
"""

import numpy as np

import sessionlib as tf

BATCH, LATENT = 16, 8


def generator(z, training):
    with tf.variable_scope("generator"):
        net = tf.layers.dense(z, 4 * 4 * 8)
        net = tf.reshape(net, [-1, 4, 4, 8])
        net = tf.nn.relu(tf.layers.batch_normalization(net, training=training))
        net = tf.layers.conv2d_transpose(net, 4, 3, strides=2, padding="same")
        net = tf.nn.relu(tf.layers.batch_normalization(net, training=training))
        return tf.tanh(tf.layers.conv2d_transpose(net, 1, 3, strides=1, padding="same"))


def discriminator(images, reuse=False):
    with tf.variable_scope("discriminator", reuse=reuse):
        net = tf.layers.conv2d(images, 8, 3, strides=2, padding="same")
        net = tf.nn.leaky_relu(net, 0.2)
        return tf.layers.dense(tf.layers.flatten(net), 1)


def _real_images(rng):
    # Bright upper-left quarter, dark elsewhere, plus noise: easy to tell from noise.
    base = -np.ones((8, 8), np.float32)
    base[:4, :4] = 1.0
    return (base[None, :, :, None] + 0.1 * rng.randn(BATCH, 8, 8, 1)).astype(np.float32)


def test_dcgan_trains_with_two_scopes_and_two_optimizers():
    tf.set_random_seed(7)
    rng = np.random.RandomState(0)
    real = tf.placeholder(tf.float32, [None, 8, 8, 1])
    z = tf.placeholder(tf.float32, [None, LATENT])
    fake = generator(z, training=True)
    real_logits = discriminator(real)
    fake_logits = discriminator(fake, reuse=True)

    def xent(logits, label):
        return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
            labels=tf.ones_like(logits) * label, logits=logits))

    d_loss = xent(real_logits, 1.0) + xent(fake_logits, 0.0)
    g_loss = xent(fake_logits, 1.0)
    g_vars = tf.trainable_variables("generator")
    d_vars = tf.trainable_variables("discriminator")
    assert [v.name for v in d_vars] == [
        "discriminator/conv2d/kernel:0", "discriminator/conv2d/bias:0",
        "discriminator/dense/kernel:0", "discriminator/dense/bias:0"]
    assert "generator/batch_normalization/gamma:0" in [v.name for v in g_vars]
    assert "generator/conv2d_transpose_1/kernel:0" in [v.name for v in g_vars]
    assert len(g_vars) + len(d_vars) == len(tf.trainable_variables())
    updates = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
    assert len(updates) == 4
    with tf.control_dependencies(updates):
        g_train = tf.train.AdamOptimizer(0.01, beta1=0.5).minimize(g_loss, var_list=g_vars)
    d_train = tf.train.AdamOptimizer(0.01, beta1=0.5).minimize(d_loss, var_list=d_vars)
    assert fake.shape.as_list() == [None, 8, 8, 1]

    feed = {real: _real_images(rng), z: rng.randn(BATCH, LATENT).astype(np.float32)}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        # The discriminator alone: its loss falls, the generator does not move.
        g_before = sess.run(g_vars)
        d_start = sess.run(d_loss, feed)
        for _ in range(15):
            sess.run(d_train, feed)
        d_end = sess.run(d_loss, feed)
        assert d_end < d_start
        for before, after in zip(g_before, sess.run(g_vars)):
            np.testing.assert_array_equal(before, after)
        # The generator alone against that discriminator: its loss falls, D stays.
        d_before = sess.run(d_vars)
        g_start = sess.run(g_loss, feed)
        for _ in range(15):
            sess.run(g_train, feed)
        assert sess.run(g_loss, feed) < g_start
        for before, after in zip(d_before, sess.run(d_vars)):
            np.testing.assert_array_equal(before, after)
        # The generator's batch-norm statistics moved with its training steps.
        moving = [v for v in tf.global_variables() if "generator" in v.name
                  and "moving_mean" in v.name]
        assert all(np.any(value != 0) for value in sess.run(moving))
        # Alternating steps on fresh noise keep both losses finite.
        for _ in range(10):
            feed = {real: _real_images(rng), z: rng.randn(BATCH, LATENT).astype(np.float32)}
            sess.run([d_train], feed)
            sess.run([g_train], feed)
        assert np.all(np.isfinite(sess.run([d_loss, g_loss], feed)))
