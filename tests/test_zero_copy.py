"""Zero-copy transfers between devices, kernel threads in workers, and fusion on workers."""

import os

import numpy as np
import pytest

import sessionlib as tf
from sessionlib.runtime import devices

from _device_helpers import two_devices

N = 1 << 20          # 4 MB of float32: above the arena hook's 1 MB threshold


def _stats(sess, index):
    reply = sess._workers.workers[index].request("stats")
    assert reply[0] == "stats"
    return reply[1]


def _cross_device_graph():
    base = np.arange(N, dtype=np.float32) % 7
    scale = tf.placeholder(tf.float32, shape=[], name="scale")
    with tf.device("/cpu:0"):
        made = tf.multiply(tf.constant(base), scale, name="made")
    with tf.device("/cpu:1"):
        total = tf.reduce_sum(made, name="total")
        doubled = tf.multiply(made, 2.0, name="doubled")
    return base, scale, made, total, doubled


def test_large_tensor_crosses_devices_in_place_and_stays_correct():
    base, scale, made, total, doubled = _cross_device_graph()
    with tf.Session(config=two_devices()) as sess:
        before = _stats(sess, 0)["arena"]["hits"]
        for step in range(6):
            got_total, got_doubled = sess.run([total, doubled], {scale: float(step)})
            np.testing.assert_allclose(got_total, base.sum(dtype=np.float64) * step,
                                       rtol=1e-5)
            np.testing.assert_array_equal(got_doubled, base * step * 2)
        arena = _stats(sess, 0)["arena"]
        # The first run copies and provisions a block; later runs allocate `made` in it.
        assert arena["hits"] - before >= 4
        assert any(size >= N * 4 for size, _, _ in arena["blocks"])


def test_consumer_that_keeps_a_received_tensor_keeps_its_block():
    """A queue on CPU:1 holds received tensors across steps: the producer must not recycle
    their blocks while it does."""
    base = np.arange(N, dtype=np.float32)
    scale = tf.placeholder(tf.float32, shape=[])
    with tf.device("/cpu:0"):
        made = tf.multiply(tf.constant(base), scale)
    with tf.device("/cpu:1"):
        queue = tf.FIFOQueue(10, [tf.float32], shapes=[[N]])
        enqueue = queue.enqueue([made])
        dequeued = queue.dequeue()
    with tf.Session(config=two_devices()) as sess:
        for step in range(1, 6):
            sess.run(enqueue, {scale: float(step)})
        for step in range(1, 6):
            np.testing.assert_array_equal(sess.run(dequeued), base * step)


def test_sent_tensor_that_is_also_fetched_is_a_private_writable_copy():
    base, scale, made, total, _ = _cross_device_graph()
    with tf.Session(config=two_devices()) as sess:
        for step in range(3):
            value, got_total = sess.run([made, total], {scale: 1.0 + step})
            np.testing.assert_array_equal(value, base * (1.0 + step))
            assert value.flags.writeable
            value[:] = -1   # must not disturb the worker or later runs
        np.testing.assert_array_equal(sess.run(made, {scale: 2.0}), base * 2)


def test_workers_set_kernel_threads_without_oversubscribing():
    cores = len(os.sched_getaffinity(0))
    with tf.Session(config=two_devices()) as sess:
        threads = [_stats(sess, index)["kernel_threads"] for index in range(2)]
    assert threads == [devices.default_threads(2)] * 2
    assert sum(threads) <= max(cores, 2)
    config = two_devices(intra_op_parallelism_threads=3)
    with tf.Session(config=config) as sess:
        assert [_stats(sess, index)["kernel_threads"] for index in range(2)] == [3, 3]


def _fusable_graph():
    x = tf.placeholder(tf.float32, shape=[4], name="x")
    with tf.device("/cpu:0"):
        y = tf.exp(tf.negative(tf.square(x)), name="y")
    with tf.device("/cpu:1"):
        z = tf.add(tf.multiply(y, 2.0), 1.0, name="z")
    return x, y, z


def _partition_graphs(config):
    x, y, z = _fusable_graph()
    options = tf.RunOptions(output_partition_graphs=True, trace_level=tf.RunOptions.FULL_TRACE)
    metadata = tf.RunMetadata()
    with tf.Session(config=config) as sess:
        value = sess.run(z, {x: np.arange(4, dtype=np.float32)}, options=options,
                         run_metadata=metadata)
    expected = np.exp(-np.arange(4, dtype=np.float32) ** 2) * 2 + 1
    np.testing.assert_allclose(value, expected, rtol=1e-6)
    return metadata


@pytest.mark.parametrize("opt_level", ["default", "L0"])
def test_partition_graphs_show_fused_nodes_and_opt_level_l0_turns_fusion_off(opt_level):
    config = two_devices()
    if opt_level == "L0":
        config.graph_options.optimizer_options.opt_level = tf.OptimizerOptions.L0
    metadata = _partition_graphs(config)
    nodes = [node for graph in metadata.partition_graphs for node in graph.node]
    fused = [node for node in nodes if node.op == "_FusedElementwise"]
    labels = [stats.timeline_label for device in metadata.step_stats.dev_stats
              for stats in device.node_stats]
    if opt_level == "L0":
        assert not fused
        assert {"Exp", "Neg", "Square", "Mul", "AddV2"} <= {node.op for node in nodes}
        assert not any("_FusedElementwise" in label for label in labels)
    else:
        assert len(fused) == 2
        members = sorted(tuple(item.decode() for item in node.attr["fused_ops"].list.s)
                         for node in fused)
        assert all(len(m) >= 2 for m in members)
        assert {"y", "z"} <= {name for m in members for name in m}   # each chain's result op
        assert {"Exp", "Neg", "Square"}.isdisjoint({node.op for node in nodes})
        assert sum("_FusedElementwise(" in label for label in labels) == 2
        # The consumer's fused node reads the received tensor through its _Recv.
        recv_names = {node.name for node in nodes if node.op == "_Recv"}
        assert any(set(node.input) & recv_names for node in fused)
