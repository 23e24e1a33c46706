"""tf.layers: the base Layer, Dense, Dropout and Flatten (value tests on both executors).

Values are checked against numpy with constant initializers. The names, the reuse behaviour and
the regularization-loss names were checked against TF 2.21 (tf.compat.v1.layers with tf-keras'
legacy layers, TF_USE_LEGACY_KERAS=1) and written here.
"""

import numpy as np
import pytest

import sessionlib as tf
from sessionlib import layers


def _run(fetches, feed_dict=None):
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run(fetches, feed_dict)


def _kernel(rows, cols, offset=0.0):
    return (np.arange(rows * cols, dtype=np.float32).reshape(rows, cols) / 10.0 - 0.5
            + offset)


# ---- Dense: values ----------------------------------------------------------------------

def test_dense_matches_numpy(executor):
    x = np.random.RandomState(0).randn(5, 4).astype(np.float32)
    kernel, bias = _kernel(4, 3), np.array([0.1, -0.2, 0.3], np.float32)
    inputs = tf.placeholder(tf.float32, [None, 4])
    out = tf.layers.dense(inputs, 3, activation=tf.nn.relu,
                          kernel_initializer=tf.constant_initializer(kernel),
                          bias_initializer=tf.constant_initializer(bias))
    assert out.shape.as_list() == [None, 3]
    value = _run(out, {inputs: x})
    np.testing.assert_allclose(value, np.maximum(x @ kernel + bias, 0), rtol=1e-5, atol=1e-6)


def test_dense_rank3_contracts_the_last_axis():
    x = np.random.RandomState(1).randn(2, 3, 4).astype(np.float32)
    kernel = _kernel(4, 2)
    inputs = tf.placeholder(tf.float32, [None, 3, 4])
    out = tf.layers.dense(inputs, 2, use_bias=False,
                          kernel_initializer=tf.constant_initializer(kernel))
    assert out.shape.as_list() == [None, 3, 2]
    np.testing.assert_allclose(_run(out, {inputs: x}), x @ kernel, rtol=1e-5, atol=1e-6)


def test_dense_activation_by_name_and_no_bias():
    x = np.random.RandomState(2).randn(3, 2).astype(np.float32)
    out = tf.layers.dense(tf.constant(x), 2, activation="sigmoid", use_bias=False,
                          kernel_initializer=tf.constant_initializer(_kernel(2, 2)))
    assert [v.name for v in tf.global_variables()] == ["dense/kernel:0"]
    np.testing.assert_allclose(_run(out), 1 / (1 + np.exp(-(x @ _kernel(2, 2)))), rtol=1e-5)


def test_dense_float64_takes_the_input_dtype():
    x = np.ones((2, 3))
    out = tf.layers.dense(tf.constant(x), 2, kernel_initializer=tf.constant_initializer(0.5))
    assert out.dtype == tf.float64
    assert tf.global_variables()[0].dtype == tf.float64
    np.testing.assert_allclose(_run(out), np.full((2, 2), 1.5))


def test_dense_needs_a_known_last_dimension():
    with pytest.raises(ValueError, match="last dimension of the inputs"):
        tf.layers.dense(tf.placeholder(tf.float32, [None, None]), 3)


# ---- names and reuse (checked against TF 2.21) ----------------------------------------------

def test_variable_and_op_names_follow_tf1():
    x = tf.placeholder(tf.float32, [None, 4], name="x")
    y = tf.layers.dense(x, 3, activation=tf.nn.relu)
    y2 = tf.layers.dense(x, 3)
    assert y.name == "dense/Relu:0"
    assert y2.name == "dense_1/BiasAdd:0"
    graph = tf.get_default_graph()
    assert graph.get_operation_by_name("dense/MatMul").type == "MatMul"
    assert graph.get_operation_by_name("dense/BiasAdd").type == "BiasAdd"
    with tf.name_scope("ns"):
        # The name scope shows in op names, not in variable names.
        assert tf.layers.dense(x, 3).name == "ns/dense/BiasAdd:0"
    with tf.variable_scope("enc"):
        assert tf.layers.dense(x, 3).name == "enc/dense/BiasAdd:0"
        assert tf.layers.dense(x, 3).name == "enc/dense_1/BiasAdd:0"
    # Pooling layers take part in the uniquification of their own base name only.
    assert tf.layers.max_pooling2d(tf.zeros([1, 4, 4, 2]), 2, 2).name == \
        "max_pooling2d/MaxPool:0"
    assert tf.layers.dense(x, 3).name == "dense_2/BiasAdd:0"
    assert [v.name for v in tf.global_variables()] == [
        "dense/kernel:0", "dense/bias:0", "dense_1/kernel:0", "dense_1/bias:0",
        "dense_2/kernel:0", "dense_2/bias:0", "enc/dense/kernel:0", "enc/dense/bias:0",
        "enc/dense_1/kernel:0", "enc/dense_1/bias:0", "dense_3/kernel:0", "dense_3/bias:0"]
    assert [v.name for v in tf.trainable_variables()] == \
        [v.name for v in tf.global_variables()]


def test_name_twice_without_reuse_fails_and_reuse_shares():
    x = tf.placeholder(tf.float32, [None, 4])
    first = tf.layers.dense(x, 3, name="foo")
    with pytest.raises(ValueError, match="Variable foo/kernel already exists, disallowed"):
        tf.layers.dense(x, 3, name="foo")
    again = tf.layers.dense(x, 3, name="foo", reuse=True)
    # TF's op scope for the reusing layer is foo_2 (the failed one took foo_1).
    assert again.name == "foo_2/BiasAdd:0"
    assert [v.name for v in tf.global_variables()] == ["foo/kernel:0", "foo/bias:0"]
    value = np.random.RandomState(3).randn(2, 4).astype(np.float32)
    a, b = _run([first, again], {x: value})
    np.testing.assert_array_equal(a, b)


def test_reuse_from_an_enclosing_variable_scope():
    x = tf.placeholder(tf.float32, [None, 4])
    with tf.variable_scope("enc"):
        tf.layers.dense(x, 3, name="dense")
    with tf.variable_scope("enc", reuse=True):
        out = tf.layers.dense(x, 3, name="dense")
    assert out.name == "enc_1/dense/BiasAdd:0"
    assert len(tf.global_variables()) == 2
    with tf.variable_scope("enc", reuse=True):
        with pytest.raises(ValueError, match="does not exist"):
            tf.layers.dense(x, 3, name="other")


def test_a_layer_object_called_twice_shares_its_variables():
    x = tf.placeholder(tf.float32, [None, 4])
    layer = tf.layers.Dense(5)
    # An unnamed layer's name is a one-based count per graph, as in TF.
    assert layer.name == "dense_1"
    a, b = layer(x), layer.apply(x)
    assert (a.name, b.name) == ("dense/BiasAdd:0", "dense/BiasAdd_1:0")
    assert [v.name for v in layer.variables] == ["dense/kernel:0", "dense/bias:0"]
    assert layer.kernel is layer.trainable_weights[0] and layer.bias is layer.weights[1]
    assert layer.built and layer.scope_name == "dense"
    assert len(tf.global_variables()) == 2
    value = np.ones((1, 4), np.float32)
    va, vb = _run([a, b], {x: value})
    np.testing.assert_array_equal(va, vb)


def test_named_layer_objects_are_made_unique():
    x = tf.placeholder(tf.float32, [None, 2])
    first, second = tf.layers.Dense(1, name="zz"), tf.layers.Dense(1, name="zz")
    first(x), second(x)
    assert first.name == second.name == "zz"
    assert [v.name for v in tf.global_variables()] == [
        "zz/kernel:0", "zz/bias:0", "zz_1/kernel:0", "zz_1/bias:0"]


def test_scope_name_before_use_raises():
    with pytest.raises(ValueError, match="has not been used yet"):
        tf.layers.Dense(2).scope_name


# ---- trainable, regularizers and losses ---------------------------------------------------

def test_trainable_false_keeps_weights_out_of_trainable_variables():
    x = tf.placeholder(tf.float32, [None, 2])
    layer = tf.layers.Dense(3, trainable=False)
    layer(x)
    assert tf.trainable_variables() == []
    assert [v.name for v in tf.global_variables()] == ["dense/kernel:0", "dense/bias:0"]
    assert layer.trainable_weights == []
    assert [v.name for v in layer.non_trainable_variables] == ["dense/kernel:0",
                                                              "dense/bias:0"]


def test_regularizers_add_named_losses_with_values():
    x = np.arange(8, dtype=np.float32).reshape(2, 4) / 4
    kernel = _kernel(4, 3)
    with tf.variable_scope("enc"):
        layer = tf.layers.Dense(
            3, kernel_initializer=tf.constant_initializer(kernel),
            bias_initializer=tf.constant_initializer(0.25),
            kernel_regularizer=lambda w: tf.multiply(0.1, tf.reduce_sum(tf.square(w))),
            bias_regularizer=lambda b: tf.reduce_sum(b),
            activity_regularizer=lambda a: tf.reduce_sum(a))
        out = layer(tf.constant(x))
    losses = tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
    # TF 2.21's names: ['enc/dense/kernel/Regularizer/mul:0', 'enc/dense/bias/Regularizer/Sum:0',
    # 'enc/dense/ActivityRegularizer/truediv:0'] (the last name is the same here).
    assert [t.name.split("/")[:4] for t in losses] == [
        ["enc", "dense", "kernel", "Regularizer"], ["enc", "dense", "bias", "Regularizer"],
        ["enc", "dense", "ActivityRegularizer", "truediv:0"]]
    assert len(layer.losses) == 3
    kernel_loss, bias_loss, activity_loss = _run(losses)
    np.testing.assert_allclose(kernel_loss, 0.1 * np.sum(kernel ** 2), rtol=1e-5)
    np.testing.assert_allclose(bias_loss, 0.75, rtol=1e-6)
    # The activity loss is divided by the batch size.
    np.testing.assert_allclose(activity_loss, np.sum(x @ kernel + 0.25) / 2, rtol=1e-5)
    del out


def test_a_reused_layer_adds_its_weight_regularizer_once():
    x = tf.placeholder(tf.float32, [None, 2])
    regularizer = lambda w: tf.reduce_sum(w)  # noqa: E731
    tf.layers.dense(x, 2, kernel_regularizer=regularizer, name="d")
    tf.layers.dense(x, 2, kernel_regularizer=regularizer, name="d", reuse=True)
    assert len(tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)) == 1


# ---- a custom Layer -----------------------------------------------------------------------

class ScaleLayer(layers.Layer):
    def build(self, input_shape):
        self.w = self.add_weight("w", shape=[int(input_shape[-1])],
                                 initializer=tf.constant_initializer(2.0))
        self.steps = self.add_weight("steps", shape=[], initializer=tf.zeros_initializer(),
                                     trainable=False)
        super().build(input_shape)

    def call(self, inputs):
        self.add_update(self.steps.assign_add(1.0, read_value=False))
        return inputs * self.w


def test_custom_layer_weights_updates_and_names():
    layer = ScaleLayer()
    assert layer.name == "scale_layer_1"
    out = layer(tf.constant([[1.0, 2.0]]))
    assert [v.name for v in layer.trainable_variables] == ["scale_layer/w:0"]
    assert [v.name for v in layer.non_trainable_variables] == ["scale_layer/steps:0"]
    assert tf.get_collection(tf.GraphKeys.UPDATE_OPS) == layer.updates
    assert layer.count_params() == 3
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_allclose(sess.run(out), [[2.0, 4.0]])
        sess.run(layer.updates)
        assert sess.run(layer.steps) == 1.0


def test_unknown_keyword_is_a_type_error():
    with pytest.raises(TypeError, match="Keyword argument not understood"):
        tf.layers.Dense(2, bogus=1)


# ---- Dropout -----------------------------------------------------------------------------

def test_dropout_inference_is_identity_and_training_drops():
    x = np.ones((200, 50), np.float32)
    inputs = tf.constant(x)
    off = tf.layers.dropout(inputs, 0.3)
    on = tf.layers.dropout(inputs, 0.3, training=True, seed=1)
    assert off.name == "dropout/Identity:0"
    assert on.shape.as_list() == [200, 50]
    off_v, on_v = _run([off, on])
    np.testing.assert_array_equal(off_v, x)
    kept = on_v != 0
    np.testing.assert_allclose(on_v[kept], 1 / 0.7, rtol=1e-6)
    assert abs(kept.mean() - 0.7) < 0.02


def test_dropout_with_a_bool_tensor():
    training = tf.placeholder(tf.bool, [])
    x = np.ones((100, 100), np.float32)
    out = tf.layers.Dropout(0.5, seed=3)(tf.constant(x), training=training)
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(out, {training: False}), x)
        dropped = sess.run(out, {training: True})
    assert set(np.unique(dropped)) <= {0.0, 2.0}
    assert abs((dropped == 0).mean() - 0.5) < 0.03


def test_dropout_noise_shape_broadcasts_the_mask():
    x = np.ones((4, 30), np.float32)
    out = tf.layers.dropout(tf.constant(x), 0.5, noise_shape=[None, 30], training=True, seed=4)
    # None takes the input's size: every row has its own mask.
    assert _run(out).shape == (4, 30)
    out_shared = tf.layers.dropout(tf.constant(x), 0.5, noise_shape=[1, 30], training=True,
                                   seed=5)
    shared = _run(out_shared)
    for row in shared[1:]:
        np.testing.assert_array_equal(row, shared[0])


# ---- Flatten -----------------------------------------------------------------------------

def test_flatten_values_and_shapes():
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    out = tf.layers.flatten(tf.constant(x))
    assert out.name == "flatten/Reshape:0" and out.shape.as_list() == [2, 12]
    np.testing.assert_array_equal(_run(out), x.reshape(2, 12))
    ph = tf.placeholder(tf.float32, [None, 3, 4])
    flat = tf.layers.flatten(ph)
    assert flat.shape.as_list() == [None, 12]
    unknown = tf.layers.Flatten()(tf.placeholder(tf.float32, [None, None, 4]))
    assert unknown.shape.as_list() == [None, None]
    np.testing.assert_array_equal(_run(unknown, {unknown.op.inputs[0]: x}), x.reshape(2, 12))


def test_flatten_channels_first_moves_channels_last():
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 2, 2)
    out = tf.layers.flatten(tf.constant(x), data_format="channels_first")
    np.testing.assert_array_equal(_run(out), x.transpose(0, 2, 3, 1).reshape(2, 12))


# ---- training a layer ----------------------------------------------------------------------

def test_dense_trained_with_gradient_descent_matches_numpy():
    rng = np.random.RandomState(5)
    x = rng.randn(8, 3).astype(np.float32)
    target = rng.randn(8, 2).astype(np.float32)
    kernel, bias = _kernel(3, 2), np.zeros(2, np.float32)
    inputs = tf.constant(x)
    out = tf.layers.dense(inputs, 2, kernel_initializer=tf.constant_initializer(kernel))
    loss = tf.reduce_mean(tf.square(out - target))
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        losses = []
        for _ in range(5):
            losses.append(sess.run(loss))
            sess.run(train)
        got_kernel, got_bias = sess.run(tf.trainable_variables())
    for _ in range(5):
        err = x @ kernel + bias - target
        grad = 2 * err / err.size
        kernel = kernel - 0.1 * x.T @ grad
        bias = bias - 0.1 * grad.sum(0)
    np.testing.assert_allclose(got_kernel, kernel, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(got_bias, bias, rtol=1e-4, atol=1e-6)
    assert losses[-1] < losses[0]


def test_optimizers_apply_a_kernel_constraint_after_each_update():
    with tf.Graph().as_default():
        x = tf.ones([1, 3])
        y = tf.layers.dense(x, 2, kernel_initializer=tf.ones_initializer(),
                            kernel_constraint=lambda w: tf.clip_by_value(w, -0.5, 0.5))
        train = tf.train.GradientDescentOptimizer(0.1).minimize(tf.reduce_sum(y))
        kernel, bias = tf.trainable_variables()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(train)
            # The kernel moved to 0.9 and was projected back into [-0.5, 0.5]; the
            # unconstrained bias just moved.
            np.testing.assert_allclose(sess.run(kernel), np.full((3, 2), 0.5, np.float32))
            np.testing.assert_allclose(sess.run(bias), [-0.1, -0.1], rtol=1e-6)
