"""More of tf.contrib.layers and tf.contrib.framework: layer_norm, dropout, max_pool2d,
avg_pool2d, one_hot_encoding, repeat, stack and the variable queries, with contrib's (TF 1.15)
variable names, defaults and errors; values against numpy."""

import functools

import numpy as np
import pytest

import sessionlib as tf

layers = tf.contrib.layers
framework = tf.contrib.framework
_rng = np.random.RandomState(3)


def _run(tensors, feeds=None):
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run(tensors, feeds)


def _layer_norm_reference(x, begin_norm_axis, gamma=1.0, beta=0.0, epsilon=1e-12):
    axes = tuple(range(begin_norm_axis % x.ndim, x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    variance = x.var(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(variance + epsilon) * gamma + beta


# ---- layer_norm ----------------------------------------------------------------------------

def test_layer_norm_values_names_and_shapes(executor):
    x = _rng.randn(2, 4, 5, 3).astype(np.float32)
    inputs = tf.placeholder(tf.float32, [None, 4, 5, 3])
    whole = layers.layer_norm(inputs)
    last = layers.layer_norm(inputs, begin_norm_axis=-1, scope="last")
    wide = layers.layer_norm(inputs, begin_norm_axis=2, begin_params_axis=1, center=False)
    names = {v.op.name: v.shape.as_list() for v in tf.global_variables()}
    assert names == {"LayerNorm/beta": [3], "LayerNorm/gamma": [3], "last/beta": [3],
                     "last/gamma": [3], "LayerNorm_1/gamma": [4, 5, 3]}
    assert {v.op.name for v in tf.get_collection(tf.GraphKeys.MODEL_VARIABLES)} == set(names)
    assert whole.shape.as_list() == [None, 4, 5, 3]
    got = _run([whole, last, wide], {inputs: x})
    for value, axis in zip(got, (1, -1, 2)):
        np.testing.assert_allclose(value, _layer_norm_reference(x, axis), rtol=1e-4,
                                   atol=1e-4)


def test_layer_norm_applies_gamma_beta_and_activation(executor):
    x = _rng.randn(3, 6).astype(np.float32)
    out = layers.layer_norm(x, activation_fn=tf.nn.relu, scope="ln")
    with tf.variable_scope("ln", reuse=True):
        gamma, beta = tf.get_variable("gamma"), tf.get_variable("beta")
    g_value = _rng.uniform(0.5, 2, 6).astype(np.float32)
    b_value = _rng.uniform(-1, 1, 6).astype(np.float32)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run([gamma.assign(g_value), beta.assign(b_value)])
        got = sess.run(out)
    np.testing.assert_allclose(got, np.maximum(_layer_norm_reference(x, 1, g_value, b_value),
                                               0), rtol=1e-4, atol=1e-5)


def test_layer_norm_reuse_collections_and_gradients(executor):
    x = tf.constant(_rng.randn(4, 5).astype(np.float32))
    first = layers.layer_norm(x, scope="shared",
                              variables_collections={"gamma": ["gammas"]},
                              outputs_collections=["outs"])
    second = layers.layer_norm(x * 2.0, scope="shared", reuse=True)
    assert len(tf.global_variables()) == 2
    assert [v.op.name for v in tf.get_collection("gammas")] == ["shared/gamma"]
    assert tf.get_collection("outs") == [first]
    loss = tf.reduce_sum(first * tf.constant(_rng.randn(4, 5).astype(np.float32)))
    grads = tf.gradients(loss, [x] + tf.trainable_variables())
    assert all(g is not None for g in grads)
    frozen = layers.layer_norm(x, trainable=False, scope="frozen")
    assert all(not v.op.name.startswith("frozen") for v in tf.trainable_variables())
    # Scaled inputs normalize to the same values.
    got_first, got_second, got_frozen, got_grads = _run([first, second, frozen, grads])
    np.testing.assert_allclose(got_first, got_second, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got_first, got_frozen)
    # The gradient of a normalized row sums to zero over the row.
    np.testing.assert_allclose(got_grads[0].sum(axis=1), np.zeros(4), atol=1e-4)


def test_layer_norm_float16_and_errors():
    half = layers.layer_norm(tf.constant(_rng.randn(2, 8).astype(np.float16)))
    assert half.dtype == tf.float16
    np.testing.assert_allclose(_run(half).astype(np.float32).std(axis=1), [1, 1], rtol=2e-2)
    with pytest.raises(ValueError, match="undefined rank"):
        layers.layer_norm(tf.placeholder(tf.float32))
    with pytest.raises(ValueError, match="must be < rank"):
        layers.layer_norm(tf.zeros([2, 3]), begin_norm_axis=2)
    with pytest.raises(ValueError, match="not fully defined"):
        layers.layer_norm(tf.placeholder(tf.float32, [2, None]))


# ---- dropout, pools, one_hot_encoding -----------------------------------------------------

def test_dropout_keep_prob_and_is_training(executor):
    x = np.ones((200, 50), np.float32)
    training = tf.placeholder(tf.bool, [])
    dropped = layers.dropout(x, keep_prob=0.8, is_training=training, seed=7)
    off = layers.dropout(x, is_training=False)
    assert dropped.name.startswith("Dropout/") and off.name.startswith("Dropout_1/")
    with tf.Session() as sess:
        on_value = sess.run(dropped, {training: True})
        np.testing.assert_array_equal(sess.run(dropped, {training: False}), x)
        np.testing.assert_array_equal(sess.run(off), x)
    kept = on_value != 0
    np.testing.assert_allclose(on_value[kept], 1 / 0.8, rtol=1e-6)
    assert abs(kept.mean() - 0.8) < 0.02


def _pool_reference(x, window, stride, reduce):
    rows = (x.shape[1] - window[0]) // stride[0] + 1
    cols = (x.shape[2] - window[1]) // stride[1] + 1
    out = np.zeros((x.shape[0], rows, cols, x.shape[3]), x.dtype)
    for i in range(rows):
        for j in range(cols):
            box = x[:, i * stride[0]:i * stride[0] + window[0],
                    j * stride[1]:j * stride[1] + window[1]]
            out[:, i, j] = reduce(box, axis=(1, 2))
    return out


def test_pools_default_to_stride_2_and_valid(executor):
    x = _rng.randn(2, 7, 6, 3).astype(np.float32)
    max_out = layers.max_pool2d(x, [3, 2])
    avg_out = layers.avg_pool2d(x, 2, scope="pool")
    channels_first = layers.max_pool2d(np.transpose(x, [0, 3, 1, 2]), 2, stride=1,
                                       data_format="NCHW")
    same = layers.avg_pool2d(x, 3, stride=2, padding="same")
    assert max_out.op.name == "MaxPool2D/MaxPool" and avg_out.op.name == "pool/AvgPool"
    assert max_out.shape.as_list() == [2, 3, 3, 3] and same.shape.as_list() == [2, 4, 3, 3]
    got = _run([max_out, avg_out, channels_first])
    np.testing.assert_allclose(got[0], _pool_reference(x, (3, 2), (2, 2), np.max))
    np.testing.assert_allclose(got[1], _pool_reference(x, (2, 2), (2, 2), np.mean),
                               rtol=1e-5)
    np.testing.assert_allclose(np.transpose(got[2], [0, 2, 3, 1]),
                               _pool_reference(x, (2, 2), (1, 1), np.max))
    with pytest.raises(ValueError, match="NCHW or NHWC"):
        layers.max_pool2d(x, 2, data_format="NCDHW")
    with pytest.raises(ValueError, match="2 integers"):
        layers.avg_pool2d(x, [2, 2, 2])


def test_one_hot_encoding(executor):
    encoded = layers.one_hot_encoding(tf.constant([0, 2, 1], tf.int32), 4)
    custom = layers.one_hot_encoding(tf.constant([3, 0], tf.int64), 4, on_value=5.0,
                                     off_value=-1.0, scope="labels")
    assert encoded.dtype == tf.float32 and encoded.op.name.startswith("OneHotEncoding/")
    assert custom.op.name.startswith("labels/")
    got, got_custom = _run([encoded, custom])
    np.testing.assert_array_equal(got, np.eye(4, dtype=np.float32)[[0, 2, 1]])
    np.testing.assert_array_equal(got_custom, [[-1, -1, -1, 5], [5, -1, -1, -1]])


# ---- repeat and stack ----------------------------------------------------------------------

def test_repeat_names_scopes_like_slim_vgg(executor):
    x = tf.constant(_rng.randn(1, 6, 6, 2).astype(np.float32))
    out = layers.repeat(x, 2, layers.conv2d, 4, [3, 3], scope="conv1")
    assert [v.op.name for v in tf.global_variables()] == [
        "conv1/conv1_1/weights", "conv1/conv1_1/biases",
        "conv1/conv1_2/weights", "conv1/conv1_2/biases"]
    assert out.shape.as_list() == [1, 6, 6, 4]
    layers.repeat(x, 1, functools.partial(layers.fully_connected, num_outputs=3))
    assert "Repeat/fully_connected_1/weights" in [v.op.name for v in tf.global_variables()]
    assert np.all(_run(out) >= 0)  # conv2d's default ReLU ran on each


def test_stack_chains_the_layer_with_each_args(executor):
    x = tf.constant(_rng.randn(3, 5).astype(np.float32))
    out = layers.stack(x, layers.fully_connected, [7, (4,), [2]], scope="fc",
                       activation_fn=None)
    assert [(v.op.name, v.shape.as_list()) for v in tf.trainable_variables()] == [
        ("fc/fc_1/weights", [5, 7]), ("fc/fc_1/biases", [7]),
        ("fc/fc_2/weights", [7, 4]), ("fc/fc_2/biases", [4]),
        ("fc/fc_3/weights", [4, 2]), ("fc/fc_3/biases", [2])]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        weights = sess.run([v for v in tf.trainable_variables() if "weights" in v.op.name])
        got = sess.run(out)
        start = sess.run(x)
    np.testing.assert_allclose(got, _linear_chain(start, weights), rtol=1e-4, atol=1e-5)
    layers.stack(x, layers.fully_connected, [2])
    assert "Stack/fully_connected_1/weights" in [v.op.name for v in tf.global_variables()]
    with pytest.raises(ValueError, match="list or tuple"):
        layers.stack(x, layers.fully_connected, 3)


def _linear_chain(value, weights):
    for w in weights:  # the biases start at zero
        value = value @ w
    return value


# ---- framework -----------------------------------------------------------------------------

def test_framework_variable_queries():
    with tf.variable_scope("enc"):
        w = tf.get_variable("w", [2])
        bw = tf.get_variable("bw", [2], trainable=False)
    with tf.variable_scope("encoder"):
        w2 = tf.get_variable("w", [2])
    top = tf.get_variable("w", [1])
    fc = layers.fully_connected(tf.zeros([1, 2]), 3, scope="fc")
    local = tf.get_variable("count", [], collections=[tf.GraphKeys.LOCAL_VARIABLES])
    fc_weights, fc_biases = tf.get_collection(tf.GraphKeys.MODEL_VARIABLES)
    assert fc.shape.as_list() == [1, 3]
    assert framework.get_variables("enc/") == [w, bw]
    assert framework.get_variables("enc") == [w, bw, w2]
    with tf.variable_scope("enc") as scope:
        pass
    assert framework.get_variables(scope) == [w, bw, w2]
    assert framework.get_variables(suffix="w") == [w, bw, w2, top]
    assert framework.get_variables("enc/", suffix="w", collection=tf.GraphKeys.TRAINABLE_VARIABLES
                                   ) == [w]
    assert framework.get_variables_by_name("w") == [w, w2, top]
    assert framework.get_variables_by_suffix("biases") == [fc_biases]
    assert framework.get_model_variables() == [fc_weights, fc_biases]
    assert framework.get_model_variables(suffix="weights") == [fc_weights]
    assert framework.get_trainable_variables("enc") == [w, w2]
    assert framework.get_local_variables() == [local]
    assert framework.get_unique_variable("enc/w") is w
    with pytest.raises(ValueError, match="Couldn't find"):
        framework.get_unique_variable("dec/w")
    with pytest.raises(ValueError, match="uniquely"):
        framework.get_unique_variable("enc/b")
    assert framework.get_variables_to_restore(exclude=["enc", "fc"]) == [top]
    assert framework.get_variables_to_restore(include=["fc/", "w"], exclude=["fc/b"]) == [
        fc_weights, top]
    with pytest.raises(TypeError, match="include"):
        framework.get_variables_to_restore(include="enc")
    with pytest.raises(TypeError, match="exclude"):
        framework.get_variables_to_restore(exclude="enc")


# ---- rnn.LayerNormBasicLSTMCell ------------------------------------------------------------

def _ln_lstm_reference(x_steps, kernel, gains, shifts, units, forget_bias=1.0, bias=None):
    """Unrolls contrib's layer-normalized LSTM in numpy; gains/shifts by gate name."""
    def norm(value, name):
        if bias is not None:
            return value
        return _layer_norm_reference(value, 1, gains[name], shifts[name])

    batch = x_steps.shape[0]
    c = np.zeros((batch, units))
    h = np.zeros((batch, units))
    outputs = []
    for t in range(x_steps.shape[1]):
        gates = np.concatenate([x_steps[:, t], h], 1) @ kernel
        if bias is not None:
            gates = gates + bias
        i, j, f, o = np.split(gates, 4, axis=1)
        i, j, f, o = (norm(i, "input"), norm(j, "transform"), norm(f, "forget"),
                      norm(o, "output"))
        c = c * _sigmoid(f + forget_bias) + _sigmoid(i) * np.tanh(j)
        c = norm(c, "state")
        h = np.tanh(c) * _sigmoid(o)
        outputs.append(h)
    return np.stack(outputs, 1), c, h


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


GATES = ("input", "transform", "forget", "output", "state")


def test_layer_norm_lstm_cell_variables_and_values(executor):
    units = 4
    cell = tf.contrib.rnn.LayerNormBasicLSTMCell(units, norm_gain=1.5, norm_shift=0.25)
    x_value = _rng.randn(2, 3, 5).astype(np.float32)
    inputs = tf.placeholder(tf.float32, [2, 3, 5])
    outputs, state = tf.nn.dynamic_rnn(cell, inputs, dtype=tf.float32)
    prefix = "rnn/layer_norm_basic_lstm_cell/"
    expected = {prefix + "kernel": [5 + units, 4 * units]}
    for gate in GATES:
        expected.update({f"{prefix}{gate}/gamma": [units], f"{prefix}{gate}/beta": [units]})
    assert {v.op.name: v.shape.as_list() for v in tf.global_variables()} == expected
    assert cell.state_size == (units, units) and cell.output_size == units
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        variables = {v.op.name[len(prefix):]: v for v in tf.global_variables()}
        gains = {g: sess.run(variables[g + "/gamma"]) for g in GATES}
        shifts = {g: sess.run(variables[g + "/beta"]) for g in GATES}
        kernel = sess.run(variables["kernel"])
        got_outputs, got_state = sess.run([outputs, state], {inputs: x_value})
    for gate in GATES:
        np.testing.assert_array_equal(gains[gate], np.full(units, 1.5, np.float32))
        np.testing.assert_array_equal(shifts[gate], np.full(units, 0.25, np.float32))
    ref_outputs, ref_c, ref_h = _ln_lstm_reference(x_value.astype(np.float64), kernel, gains,
                                                   shifts, units)
    np.testing.assert_allclose(got_outputs, ref_outputs, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(got_state.c, ref_c, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(got_state.h, ref_h, rtol=1e-4, atol=1e-5)


def test_layer_norm_lstm_cell_without_norm_has_a_bias(executor):
    units = 3
    cell = tf.contrib.rnn.LayerNormBasicLSTMCell(units, layer_norm=False, forget_bias=0.5)
    steps = [tf.constant(_rng.randn(2, 4).astype(np.float32)) for _ in range(2)]
    outputs, _ = tf.nn.static_rnn(cell, steps, dtype=tf.float32)
    names = [v.op.name for v in tf.global_variables()]
    assert names == ["rnn/layer_norm_basic_lstm_cell/kernel",
                     "rnn/layer_norm_basic_lstm_cell/bias"]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        kernel, bias = sess.run(tf.global_variables())
        got = sess.run(outputs)
        x_value = np.stack(sess.run(steps), 1)
    ref, _, _ = _ln_lstm_reference(x_value, kernel, None, None, units, 0.5, bias=bias)
    np.testing.assert_allclose(np.stack(got, 1), ref, rtol=1e-4, atol=1e-5)


def test_layer_norm_lstm_cell_dropout_and_gradients(executor):
    units = 8
    keep = tf.placeholder_with_default(1.0, [])
    cell = tf.contrib.rnn.LayerNormBasicLSTMCell(units, dropout_keep_prob=keep,
                                                 dropout_prob_seed=3)
    inputs = tf.constant(_rng.randn(4, 3, 2).astype(np.float32))
    outputs, _ = tf.nn.dynamic_rnn(cell, inputs, dtype=tf.float32)
    loss = tf.reduce_sum(tf.square(outputs))
    grads = tf.gradients(loss, tf.trainable_variables())
    assert len(grads) == 11 and all(g is not None for g in grads)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        full = sess.run(outputs)
        np.testing.assert_array_equal(sess.run(outputs), full)  # keep 1: no dropout
        dropped = sess.run(outputs, {keep: 0.5})
        grad_values = sess.run(grads)
    assert not np.allclose(dropped, full)
    assert all(np.all(np.isfinite(g)) and np.any(g != 0) for g in grad_values)


def test_layer_norm_lstm_cell_rejects_integer_inputs():
    cell = tf.contrib.rnn.LayerNormBasicLSTMCell(2)
    state = tf.contrib.rnn.LSTMStateTuple(tf.zeros([1, 2], tf.int32), tf.zeros([1, 2], tf.int32))
    with pytest.raises(TypeError, match="floating"):
        cell(tf.zeros([1, 3], tf.int32), state)
