"""Multi-tower (data-parallel) training, TF1's multi-GPU pattern, in a 2-device session.

The variables live on CPU:0; tower i on CPU:i computes the loss and the gradients of its half of
the batch; the gradients are averaged on CPU:0 and applied once. With equal halves, the mean of
the towers' losses is the full batch's mean loss and the mean of their gradients is the full
batch's gradient, so the multi-tower step must train exactly like one tower on the whole batch
(to float rounding: the sums are split differently). The expectations come from one tower on
the full batch in the same kind of session, and from numpy for the first loss.
"""

import numpy as np
import pytest

import sessionlib as tf

from _device_helpers import two_devices

BATCH, FEATURES, HIDDEN, CLASSES = 16, 12, 8, 4


def _initial_params():
    rng = np.random.default_rng(3)
    return [rng.standard_normal((FEATURES, HIDDEN)).astype(np.float32) * np.float32(0.5),
            rng.standard_normal(HIDDEN).astype(np.float32) * np.float32(0.1),
            rng.standard_normal((HIDDEN, CLASSES)).astype(np.float32) * np.float32(0.5),
            rng.standard_normal(CLASSES).astype(np.float32) * np.float32(0.1)]


def _batch():
    rng = np.random.default_rng(4)
    return (rng.standard_normal((BATCH, FEATURES)).astype(np.float32),
            rng.integers(0, CLASSES, BATCH).astype(np.int32))


def _tower_loss(x, labels, params):
    hidden = tf.nn.relu(tf.nn.bias_add(tf.matmul(x, params[0]), params[1]))
    logits = tf.nn.bias_add(tf.matmul(hidden, params[2]), params[3])
    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=labels, logits=logits))


def _build(tower_devices, optimizer_fn):
    """The training graph: one tower per device of `tower_devices`, each fed its own equal
    slice of the batch; returns (graph, init, params, placeholders, mean loss, train op)."""
    graph = tf.Graph()
    towers = len(tower_devices)
    with graph.as_default():
        optimizer = optimizer_fn()
        with tf.device("/cpu:0"):
            params = [tf.Variable(value, name=f"p{index}")
                      for index, value in enumerate(_initial_params())]
        placeholders, losses, tower_grads = [], [], []
        for index, device in enumerate(tower_devices):
            with tf.device(device), tf.name_scope(f"tower{index}"):
                x = tf.placeholder(tf.float32, [BATCH // towers, FEATURES], name="x")
                labels = tf.placeholder(tf.int32, [BATCH // towers], name="labels")
                loss = _tower_loss(x, labels, params)
                placeholders.append((x, labels))
                losses.append(loss)
                tower_grads.append(optimizer.compute_gradients(loss, params))
        with tf.device("/cpu:0"):
            averaged = [(tf.add_n([g for g, _ in pairs]) / float(towers), pairs[0][1])
                        for pairs in zip(*tower_grads)]
            train = optimizer.apply_gradients(averaged)
            mean_loss = tf.add_n(losses) / float(towers)
        init = tf.global_variables_initializer()
    return graph, init, params, placeholders, mean_loss, train


def _train(tower_devices, optimizer_fn, steps=3, trace=False):
    """Runs `steps` training steps; returns (losses before each step, final params, the last
    step's RunMetadata when `trace`)."""
    x_value, label_value = _batch()
    graph, init, params, placeholders, mean_loss, train = _build(tower_devices, optimizer_fn)
    towers = len(tower_devices)
    rows = BATCH // towers
    feed = {}
    for index, (x, labels) in enumerate(placeholders):
        feed[x] = x_value[index * rows:(index + 1) * rows]
        feed[labels] = label_value[index * rows:(index + 1) * rows]
    losses, metadata = [], None
    with tf.Session(graph=graph, config=two_devices()) as sess:
        sess.run(init)
        for step in range(steps):
            if trace and step == steps - 1:
                metadata = tf.RunMetadata()
                loss, _ = sess.run([mean_loss, train], feed, run_metadata=metadata,
                                   options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE))
            else:
                loss, _ = sess.run([mean_loss, train], feed)
            losses.append(loss)
        return losses, sess.run(params), metadata


def _numpy_loss(x, labels, params):
    hidden = np.maximum(x @ params[0] + params[1], 0)
    logits = hidden @ params[2] + params[3]
    shifted = logits - logits.max(1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(1, keepdims=True))
    return -log_probs[np.arange(len(labels)), labels].mean()


@pytest.mark.parametrize("optimizer_fn", [
    lambda: tf.train.GradientDescentOptimizer(0.5),
    lambda: tf.train.AdamOptimizer(0.01),
], ids=["sgd", "adam"])
def test_two_towers_train_like_one_tower_on_the_full_batch(optimizer_fn):
    split_losses, split_params, metadata = _train(["/cpu:0", "/cpu:1"], optimizer_fn,
                                                  trace=True)
    one_losses, one_params, _ = _train(["/cpu:0"], optimizer_fn)

    # The first loss is the initial model's loss on the whole batch.
    x_value, label_value = _batch()
    expected = _numpy_loss(x_value, label_value, _initial_params())
    np.testing.assert_allclose(split_losses[0], expected, rtol=1e-5)
    np.testing.assert_allclose(one_losses[0], expected, rtol=1e-5)
    # Each later loss, and the parameters after three updates, agree with one tower.
    np.testing.assert_allclose(split_losses, one_losses, rtol=1e-5, atol=1e-6)
    assert split_losses[-1] < split_losses[0]
    for split, one, initial in zip(split_params, one_params, _initial_params()):
        np.testing.assert_allclose(split, one, rtol=1e-5, atol=1e-6)
        assert not np.allclose(split, initial)  # the updates were applied

    # Each tower ran on its own device; the update ran on the variables' device, CPU:0.
    # (The towers' reads of the variables run on CPU:0, with their resource, as in TF.)
    matmuls = {dev.device[-5:]: {node.node_name.split("/")[0] for node in dev.node_stats
                                 if "MatMul(" in node.timeline_label}
               for dev in metadata.step_stats.dev_stats}
    assert matmuls == {"CPU:0": {"tower0"}, "CPU:1": {"tower1"}}
    updates = [dev.device[-5:] for dev in metadata.step_stats.dev_stats for node in
               dev.node_stats if "Apply" in node.timeline_label or "_GroupedUpdate(" in
               node.timeline_label]
    assert updates and set(updates) == {"CPU:0"}


def test_two_towers_exchange_variables_and_gradients_across_devices():
    """The second tower reads every variable from CPU:0 and sends every gradient back: one
    transfer each way per variable, and nothing else crosses (the inputs are fed to CPU:1)."""
    _, _, metadata = _train(["/cpu:0", "/cpu:1"], lambda: tf.train.AdamOptimizer(0.01),
                            steps=1, trace=True)
    recvs = {dev.device[-5:]: sorted(node.node_name for node in dev.node_stats
                                     if node.timeline_label.split(" = ")[1].startswith("_Recv"))
             for dev in metadata.step_stats.dev_stats}
    assert len(recvs["CPU:1"]) == 4      # the four variables' values
    # The four gradients, and the second tower's loss for the mean loss.
    assert len(recvs["CPU:0"]) == 5


def test_each_device_sends_early_and_waits_late():
    """The partitions' order (runtime/partition.py): CPU:0 sends the second tower its
    variables before it starts its own tower, and waits for the second tower's gradients only
    after its own tower's last gradient; CPU:1 sends each gradient as soon as it has it."""
    graph, init, _, placeholders, _, train = _build(["/cpu:0", "/cpu:1"],
                                                    lambda: tf.train.AdamOptimizer(0.01))
    x_value, label_value = _batch()
    rows = BATCH // 2
    feed = {}
    for index, (x, labels) in enumerate(placeholders):
        feed[x] = x_value[index * rows:(index + 1) * rows]
        feed[labels] = label_value[index * rows:(index + 1) * rows]
    with tf.Session(graph=graph, config=two_devices()) as sess:
        sess.run(init)
        metadata = tf.RunMetadata()
        sess.run(train, feed, options=tf.RunOptions(output_partition_graphs=True),
                 run_metadata=metadata)
    cpu0, cpu1 = ([(node.op, node.name) for node in partition_graph.node]
                  for partition_graph in metadata.partition_graphs)

    def positions(nodes, predicate):
        return [index for index, (op, name) in enumerate(nodes) if predicate(op, name)]

    sends = positions(cpu0, lambda op, name: op == "_Send")
    tower0 = positions(cpu0, lambda op, name: name.startswith("tower0/") and "MatMul" in op)
    recvs = positions(cpu0, lambda op, name: op == "_Recv")
    assert len(sends) == 4 and len(recvs) == 4
    assert max(sends) < min(tower0) and max(tower0) < min(recvs)
    # CPU:1: every gradient's _Send comes right after the node that made it (their
    # producers' order), not all at the end.
    sent = positions(cpu1, lambda op, name: op == "_Send")
    assert len(sent) == 4 and sent[0] < len(cpu1) - 4
    for index in sent:
        produced = cpu1[index][1].rsplit("/_", 1)[0]     # TF's send name: "<producer>/_N"
        assert cpu1[index - 1][1] == produced
