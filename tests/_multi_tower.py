"""The multi-tower training of ``tests/test_multi_tower.py`` (TF1's multi-GPU pattern), for
the sessions that run it: on local devices, and on the tasks of a Ray cluster with only the
target and the device names changed (``tests/test_ray_cluster.py``).
"""

import numpy as np

import sessionlib as tf

from _device_helpers import two_devices

BATCH, FEATURES, HIDDEN, CLASSES = 16, 12, 8, 4


def initial_params():
    rng = np.random.default_rng(3)
    return [rng.standard_normal((FEATURES, HIDDEN)).astype(np.float32) * np.float32(0.5),
            rng.standard_normal(HIDDEN).astype(np.float32) * np.float32(0.1),
            rng.standard_normal((HIDDEN, CLASSES)).astype(np.float32) * np.float32(0.5),
            rng.standard_normal(CLASSES).astype(np.float32) * np.float32(0.1)]


def batch():
    rng = np.random.default_rng(4)
    return (rng.standard_normal((BATCH, FEATURES)).astype(np.float32),
            rng.integers(0, CLASSES, BATCH).astype(np.int32))


def tower_loss(x, labels, params):
    hidden = tf.nn.relu(tf.nn.bias_add(tf.matmul(x, params[0]), params[1]))
    logits = tf.nn.bias_add(tf.matmul(hidden, params[2]), params[3])
    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=labels, logits=logits))


def build(tower_devices, optimizer_fn, variable_device="/cpu:0"):
    """The training graph: the variables, the averaging and the update on `variable_device`,
    one tower per device of `tower_devices`, each fed its own equal slice of the batch;
    returns (graph, init, params, placeholders, mean loss, train op)."""
    graph = tf.Graph()
    towers = len(tower_devices)
    with graph.as_default():
        optimizer = optimizer_fn()
        with tf.device(variable_device):
            params = [tf.Variable(value, name=f"p{index}")
                      for index, value in enumerate(initial_params())]
        placeholders, losses, tower_grads = [], [], []
        for index, device in enumerate(tower_devices):
            with tf.device(device), tf.name_scope(f"tower{index}"):
                x = tf.placeholder(tf.float32, [BATCH // towers, FEATURES], name="x")
                labels = tf.placeholder(tf.int32, [BATCH // towers], name="labels")
                loss = tower_loss(x, labels, params)
                placeholders.append((x, labels))
                losses.append(loss)
                tower_grads.append(optimizer.compute_gradients(loss, params))
        with tf.device(variable_device):
            averaged = [(tf.add_n([g for g, _ in pairs]) / float(towers), pairs[0][1])
                        for pairs in zip(*tower_grads)]
            train = optimizer.apply_gradients(averaged)
            mean_loss = tf.add_n(losses) / float(towers)
        init = tf.global_variables_initializer()
    return graph, init, params, placeholders, mean_loss, train


def train(tower_devices, optimizer_fn, steps=3, trace=False, variable_device="/cpu:0",
          target="", config=None, trace_options=None):
    """Runs `steps` training steps in a session on `target` (under `config`; default: two
    local CPUs); returns (losses before each step, final params, the last step's RunMetadata
    when `trace`, which runs under `trace_options`, by default a full trace)."""
    x_value, label_value = batch()
    graph, init, params, placeholders, mean_loss, train_op = build(
        tower_devices, optimizer_fn, variable_device)
    towers = len(tower_devices)
    rows = BATCH // towers
    feed = {}
    for index, (x, labels) in enumerate(placeholders):
        feed[x] = x_value[index * rows:(index + 1) * rows]
        feed[labels] = label_value[index * rows:(index + 1) * rows]
    losses, metadata = [], None
    with tf.Session(target, graph=graph, config=config or two_devices()) as sess:
        sess.run(init)
        for step in range(steps):
            if trace and step == steps - 1:
                metadata = tf.RunMetadata()
                loss, _ = sess.run([mean_loss, train_op], feed, run_metadata=metadata,
                                   options=trace_options or tf.RunOptions(
                                       trace_level=tf.RunOptions.FULL_TRACE))
            else:
                loss, _ = sess.run([mean_loss, train_op], feed)
            losses.append(loss)
        return losses, sess.run(params), metadata


def numpy_loss(x, labels, params):
    hidden = np.maximum(x @ params[0] + params[1], 0)
    logits = hidden @ params[2] + params[3]
    shifted = logits - logits.max(1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(1, keepdims=True))
    return -log_probs[np.arange(len(labels)), labels].mean()


def check_trains_like_one_tower(split_losses, split_params, one_losses, one_params):
    """Asserts that a multi-tower training (its losses before each step and its final
    parameters) trained like one tower on the whole batch, and from the initial model's loss
    on the whole batch (numpy's)."""
    x_value, label_value = batch()
    expected = numpy_loss(x_value, label_value, initial_params())
    np.testing.assert_allclose(split_losses[0], expected, rtol=1e-5)
    np.testing.assert_allclose(one_losses[0], expected, rtol=1e-5)
    # Each later loss, and the parameters after the updates, agree with one tower.
    np.testing.assert_allclose(split_losses, one_losses, rtol=1e-5, atol=1e-6)
    assert split_losses[-1] < split_losses[0]
    for split, one, initial in zip(split_params, one_params, initial_params()):
        np.testing.assert_allclose(split, one, rtol=1e-5, atol=1e-6)
        assert not np.allclose(split, initial)  # the updates were applied
