"""``tf.contrib``: the legacy spellings TF 1 tutorials import, with contrib's names, defaults and
formulas (variable names checked against TF 1.15's contrib)."""

import numpy as np
import pytest

import sessionlib as tf


@pytest.fixture(autouse=True)
def fresh_graph():
    with tf.Graph().as_default() as graph:
        yield graph


def _run(fetches, feed=None):
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run(fetches, feed)


def test_fully_connected_names_defaults_and_values():
    x = tf.constant(np.array([[1.0, -2.0, 3.0]], np.float32))
    y = tf.contrib.layers.fully_connected(x, 2, weights_initializer=tf.constant_initializer(
        np.array([[1, 0], [0, 1], [1, 1]], np.float32)),
        biases_initializer=tf.constant_initializer(-3.0))
    z = tf.contrib.layers.fully_connected(x, 2, activation_fn=None, scope="linear")
    assert [v.name for v in tf.global_variables()] == [
        "fully_connected/weights:0", "fully_connected/biases:0", "linear/weights:0",
        "linear/biases:0"]
    assert tf.get_collection(tf.GraphKeys.MODEL_VARIABLES) == tf.global_variables()
    got, linear = _run([y, z])
    # relu([1 + 3 - 3, -2 + 3 - 3]) = relu([1, -2]): ReLU is contrib's default activation.
    np.testing.assert_array_equal(got, [[1.0, 0.0]])
    assert linear.shape == (1, 2)


def test_fully_connected_reuse_and_rank3_inputs():
    x = tf.placeholder(tf.float32, [2, 5, 4])
    first = tf.contrib.layers.fully_connected(x, 3, scope="fc")
    second = tf.contrib.layers.fully_connected(x, 3, scope="fc", reuse=True)
    assert len(tf.global_variables()) == 2
    value = np.random.default_rng(0).standard_normal((2, 5, 4)).astype(np.float32)
    a, b = _run([first, second], {x: value})
    assert a.shape == (2, 5, 3)
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="already exists"):
        tf.contrib.layers.fully_connected(x, 3, scope="fc")


def test_conv2d_names_and_values():
    x = tf.constant(np.arange(2 * 4 * 4 * 3, dtype=np.float32).reshape(2, 4, 4, 3))
    y = tf.contrib.layers.conv2d(x, 2, 1, weights_initializer=tf.ones_initializer(),
                                 activation_fn=None)
    assert [v.name for v in tf.global_variables()] == ["Conv/weights:0", "Conv/biases:0"]
    assert tf.global_variables()[0].shape.as_list() == [1, 1, 3, 2]
    got = _run(y)
    # A 1x1 kernel of ones sums the channels; the biases are zero.
    want = np.arange(2 * 4 * 4 * 3, dtype=np.float32).reshape(2, 4, 4, 3).sum(-1)
    np.testing.assert_array_equal(got, np.stack([want, want], -1))


def test_conv_layers_name_a_wrong_input_rank():
    # A 3-D input (depth 3, known) was reported as an undefined channel dimension.
    for layer in (tf.contrib.layers.conv2d, tf.contrib.layers.conv2d_transpose):
        with pytest.raises(ValueError, match="Convolution expects input with rank 4, got 3"):
            layer(tf.zeros([2, 5, 3]), 4, 3)
    with pytest.raises(ValueError, match="Convolution expects input with rank 4, got 5"):
        tf.contrib.layers.separable_conv2d(tf.zeros([1, 4, 4, 4, 2]), 4, 3, 1)
    with pytest.raises(ValueError, match="channel dimension of the inputs should be defined"):
        tf.contrib.layers.conv2d(tf.placeholder(tf.float32, [None, 4, 4, None]), 4, 3)


def test_regularizers_values_and_errors():
    w = tf.Variable(np.array([1.0, -2.0, 3.0], np.float32))
    l2 = tf.contrib.layers.l2_regularizer(0.5)(w)
    l1 = tf.contrib.layers.l1_regularizer(0.25)(w)
    assert l2.name == "l2_regularizer:0" and l1.name == "l1_regularizer:0"
    assert _run([l2, l1]) == [pytest.approx(0.5 * 14 / 2), pytest.approx(0.25 * 6)]
    assert tf.contrib.layers.l2_regularizer(0.0)(w) is None
    with pytest.raises(ValueError, match="scale cannot be an integer: 1"):
        tf.contrib.layers.l2_regularizer(1)
    with pytest.raises(ValueError, match="less than 0"):
        tf.contrib.layers.l1_regularizer(-0.1)


def test_regularized_layer_adds_its_loss():
    x = tf.ones([1, 2])
    tf.contrib.layers.fully_connected(
        x, 2, weights_initializer=tf.constant_initializer(2.0),
        weights_regularizer=tf.contrib.layers.l2_regularizer(0.1))
    (loss,) = tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
    assert _run(loss) == pytest.approx(0.1 * 4 * 4.0 / 2)


def test_initializer_statistics():
    tf.set_random_seed(1)
    shape = [400, 300]
    xavier = tf.contrib.layers.xavier_initializer()(shape)
    he = tf.contrib.layers.variance_scaling_initializer()(shape)
    he_uniform = tf.contrib.layers.variance_scaling_initializer(
        factor=1.0, mode="FAN_AVG", uniform=True)(shape)
    xavier, he, he_uniform = _run([xavier, he, he_uniform])
    limit = np.sqrt(6.0 / 700)
    assert np.abs(xavier).max() <= limit and xavier.std() == pytest.approx(
        limit / np.sqrt(3), rel=0.02)
    np.testing.assert_allclose(he_uniform.std(), limit / np.sqrt(3), rtol=0.02)
    # contrib's truncated normal: stddev sqrt(1.3 * 2 / fan_in), cut at two deviations
    # (whose standard deviation is 0.8796 of the untruncated one).
    stddev = np.sqrt(1.3 * 2.0 / 400)
    assert np.abs(he).max() <= 2 * stddev
    np.testing.assert_allclose(he.std(), 0.8796 * stddev, rtol=0.02)
    with pytest.raises(TypeError, match="Unknown mode"):
        tf.contrib.layers.variance_scaling_initializer(mode="fan_in")


def test_batch_norm_names_updates_and_inference():
    x = tf.placeholder(tf.float32, [4, 3])
    training = tf.placeholder(tf.bool, [])
    y = tf.contrib.layers.batch_norm(x, is_training=training, decay=0.5)
    assert [v.name for v in tf.global_variables()] == [
        "BatchNorm/beta:0", "BatchNorm/moving_mean:0", "BatchNorm/moving_variance:0"]
    updates = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
    assert len(updates) == 2
    value = np.array([[1, 2, 3], [3, 2, 1], [5, 6, 7], [7, 6, 5]], np.float32)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        normalized, _ = sess.run([y, updates], {x: value, training: True})
        want = (value - value.mean(0)) / np.sqrt(value.var(0) + 0.001)
        np.testing.assert_allclose(normalized, want, rtol=1e-5)
        moving_mean = sess.run(tf.global_variables()[1])
        np.testing.assert_allclose(moving_mean, 0.5 * value.mean(0), rtol=1e-6)
        inferred = sess.run(y, {x: value, training: False})
        moving_var = sess.run(tf.global_variables()[2])
        np.testing.assert_allclose(inferred, (value - moving_mean) / np.sqrt(moving_var + 0.001),
                                   rtol=1e-5)


def test_batch_norm_updates_in_place_when_asked():
    x = tf.constant(np.array([[1.0], [3.0]], np.float32))
    y = tf.contrib.layers.batch_norm(x, updates_collections=None, decay=0.0)
    assert tf.get_collection(tf.GraphKeys.UPDATE_OPS) == []
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(y)
        assert sess.run(tf.global_variables()[1]) == pytest.approx([2.0])


def test_framework_global_step_and_unsupported_names():
    step = tf.contrib.framework.get_or_create_global_step()
    assert step.name == "global_step:0"
    assert tf.contrib.framework.get_or_create_global_step() is step
    with pytest.raises(AttributeError, match="contrib.layers: flatten, fully_connected"):
        tf.contrib.learn  # noqa: B018
    with pytest.raises(AttributeError, match="layers.embed_sequence"):
        tf.contrib.layers.embed_sequence  # noqa: B018
    flat = tf.contrib.layers.flatten(tf.zeros([2, 3, 4]))
    assert flat.shape.as_list() == [2, 12] and flat.op.name.startswith("Flatten/")
