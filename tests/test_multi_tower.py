"""Multi-tower (data-parallel) training, TF1's multi-GPU pattern, in a 2-device session.

The variables live on CPU:0; tower i on CPU:i computes the loss and the gradients of its half of
the batch; the gradients are averaged on CPU:0 and applied once. With equal halves, the mean of
the towers' losses is the full batch's mean loss and the mean of their gradients is the full
batch's gradient, so the multi-tower step must train exactly like one tower on the whole batch
(to float rounding: the sums are split differently). The expectations come from one tower on
the full batch in the same kind of session, and from numpy for the first loss.
"""

import pytest

import sessionlib as tf

from _device_helpers import two_devices
from _multi_tower import BATCH, batch, build, check_trains_like_one_tower, train


@pytest.mark.parametrize("optimizer_fn", [
    lambda: tf.train.GradientDescentOptimizer(0.5),
    lambda: tf.train.AdamOptimizer(0.01),
], ids=["sgd", "adam"])
def test_two_towers_train_like_one_tower_on_the_full_batch(optimizer_fn):
    split_losses, split_params, metadata = train(["/cpu:0", "/cpu:1"], optimizer_fn,
                                                 trace=True)
    one_losses, one_params, _ = train(["/cpu:0"], optimizer_fn)

    check_trains_like_one_tower(split_losses, split_params, one_losses, one_params)

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
    _, _, metadata = train(["/cpu:0", "/cpu:1"], lambda: tf.train.AdamOptimizer(0.01),
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
    graph, init, _, placeholders, _, train_op = build(["/cpu:0", "/cpu:1"],
                                                      lambda: tf.train.AdamOptimizer(0.01))
    x_value, label_value = batch()
    rows = BATCH // 2
    feed = {}
    for index, (x, labels) in enumerate(placeholders):
        feed[x] = x_value[index * rows:(index + 1) * rows]
        feed[labels] = label_value[index * rows:(index + 1) * rows]
    with tf.Session(graph=graph, config=two_devices()) as sess:
        sess.run(init)
        metadata = tf.RunMetadata()
        sess.run(train_op, feed, options=tf.RunOptions(output_partition_graphs=True),
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
