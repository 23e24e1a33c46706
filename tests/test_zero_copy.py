"""Zero-copy transfers between devices, kernel threads in workers, and fusion on workers."""

import os

import numpy as np
import pytest

import sessionlib as tf
from sessionlib.runtime import devices

from _device_helpers import two_devices

N = 1 << 20          # 4 MB of float32: far above the arena hook's threshold


def _stats(sess, index):
    reply = sess._runtime.workers[index].request("stats")
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


def test_gradient_sized_tensor_crosses_devices_in_place():
    """A 256 x 256 float32 tensor (256 KiB, a hidden layer's weight gradient) is allocated in
    the arena and sent without a copy, as the multi-tower step's gradients are."""
    base = (np.arange(256 * 256, dtype=np.float32) % 11).reshape(256, 256)
    scale = tf.placeholder(tf.float32, shape=[])
    with tf.device("/cpu:0"):
        made = tf.multiply(tf.constant(base), scale, name="made_mid")
    with tf.device("/cpu:1"):
        total = tf.reduce_sum(made, name="total_mid")
    with tf.Session(config=two_devices()) as sess:
        before = _stats(sess, 0)["arena"]["hits"]
        for step in range(6):
            np.testing.assert_allclose(sess.run(total, {scale: float(step)}),
                                       base.sum(dtype=np.float64) * step, rtol=1e-5)
        arena = _stats(sess, 0)["arena"]
        assert arena["hits"] - before >= 4
        assert any(base.nbytes <= size < N * 4 for size, _, _ in arena["blocks"])


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
        stats = [_stats(sess, index) for index in range(2)]
    # By default a worker's kernels may use every core, leasing them from the core budget
    # (runtime/cores.py; tests/test_core_budget.py checks the leases never oversubscribe).
    assert [s["kernel_threads"] for s in stats] == [cores] * 2
    assert all(s["cores"]["attached"] for s in stats)
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


def _worker_graph():
    base = np.arange(N, dtype=np.float32) % 5
    scale = tf.placeholder(tf.float32, shape=[], name="scale")
    with tf.device("/cpu:1"):
        made = tf.multiply(tf.constant(base), scale, name="made")
    return base, scale, made


def test_large_fetch_from_a_worker_is_handed_over_in_place():
    base, scale, made = _worker_graph()
    with tf.Session(config=two_devices()) as sess:
        sess.run(made, {scale: 1.0})             # provisions the arena block
        before = _stats(sess, 1)["arena"]["hits"]
        for step in range(1, 5):
            value = sess.run(made, {scale: float(step)})
            assert value.flags.writeable and value.base is not None   # a view of shared memory
            np.testing.assert_array_equal(value, base * step)
            value[:] = -1                        # the caller owns its result
        # The kernel wrote each result in the worker's arena and the client mapped it there.
        assert _stats(sess, 1)["arena"]["hits"] - before >= 3
        # Results held across runs stay intact (each holds its block; more are provisioned).
        kept = [sess.run(made, {scale: float(step)}) for step in range(1, 5)]
        for step, value in enumerate(kept, start=1):
            np.testing.assert_array_equal(value, base * step)
        np.testing.assert_array_equal(sess.run(made, {scale: 3.0}), base * 3)
        pinned = sum(pins for _, _, pins in _stats(sess, 1)["arena"]["blocks"])
        assert pinned >= 1
        del kept, value
        sess.run(made, {scale: 1.0})             # the worker reclaims dropped leases
        assert sum(pins for _, _, pins in _stats(sess, 1)["arena"]["blocks"]) < pinned


def test_a_fetched_value_a_worker_keeps_is_copied():
    """Values a worker keeps (a variable's value, one just assigned) reach the client as
    copies: writing the fetched array must not change them."""
    base, scale, made = _worker_graph()
    with tf.device("/cpu:1"):
        variable = tf.Variable(tf.zeros([N]), name="kept")
        assigned = variable.assign(made)
        read = variable.read_value()
    with tf.Session(config=two_devices()) as sess:
        sess.run(variable.initializer)
        for step in range(1, 4):
            fetched_made, fetched_assigned = sess.run([made, assigned], {scale: float(step)})
            fetched_read = sess.run(read)
            for value in (fetched_made, fetched_assigned, fetched_read):
                assert value.flags.writeable
                value[:] = -1
            np.testing.assert_array_equal(sess.run(read), base * step)


def test_a_fetched_value_another_device_keeps_is_copied():
    """`made` is sent in place to a queue on CPU:0 that keeps it, and fetched from CPU:1: the
    fetch must not hand the caller a writable view of what the queue holds."""
    base, scale, made = _worker_graph()
    with tf.device("/cpu:0"):
        queue = tf.FIFOQueue(10, [tf.float32], shapes=[[N]])
        enqueue = queue.enqueue([made])
        dequeued = queue.dequeue()
    with tf.Session(config=two_devices()) as sess:
        for step in range(1, 4):
            fetched, _ = sess.run([made, enqueue], {scale: float(step)})
            fetched[:] = -1
        for step in range(1, 4):
            np.testing.assert_array_equal(sess.run(dequeued), base * step)


def _three_devices():
    return tf.ConfigProto(device_count={"CPU": 3})


def test_variable_read_by_two_devices_is_sent_once_and_keeps_snapshot_semantics():
    """Two reads of one variable in a run, sent to two devices, share one shared-memory
    copy; a read after an update in the same run still sees the update."""
    start = np.arange(64 * 64, dtype=np.float32).reshape(64, 64)   # 16 KiB
    with tf.device("/cpu:0"):
        var = tf.Variable(start, name="shared_weights")
        first = var.read_value()
        second = var.read_value()
        with tf.control_dependencies([first, second]):
            bumped = var.assign_add(np.ones_like(start))
        with tf.control_dependencies([bumped]):
            after = var.read_value()
    with tf.device("/cpu:1"):
        on_one = tf.reduce_sum(first * 1.0) + tf.reduce_sum(after * 0.0)
        after_on_one = tf.reduce_sum(after * 1.0)
    with tf.device("/cpu:2"):
        on_two = tf.reduce_sum(second * 1.0)
    with tf.Session(config=_three_devices()) as sess:
        sess.run(var.initializer)
        for step in range(5):
            got = sess.run([on_one, on_two, after_on_one])
            expected = start.sum(dtype=np.float64) + step * start.size
            np.testing.assert_allclose(got, [expected, expected, expected + start.size],
                                       rtol=1e-6)
        np.testing.assert_array_equal(sess.run(var), start + 5)
        # The copies given to the readers are released: the producer holds no lease for good.
        leases = [_stats(sess, 0)["leases"]]
        for _ in range(20):
            sess.run([on_one, on_two, after_on_one])
        leases.append(_stats(sess, 0)["leases"])
        assert leases[1] <= max(leases[0], 8)


def test_variable_sent_to_two_towers_each_step_trains_like_one_device():
    """The multi-tower pattern: a variable read by two devices and updated after, each
    step; the towers must see each step's value, never a stale or half-updated one."""
    start = np.linspace(-1.0, 1.0, 128 * 64, dtype=np.float32).reshape(128, 64)
    data = np.linspace(0.5, 1.5, 4 * 128, dtype=np.float32).reshape(4, 128)

    def build(devices):
        graph = tf.Graph()
        with graph.as_default():
            with tf.device("/cpu:0"):
                weights = tf.Variable(start, name="w")
            grads = []
            for device in devices:
                with tf.device(device):
                    loss = tf.reduce_sum(tf.square(tf.matmul(tf.constant(data), weights)))
                    grads.append(tf.gradients(loss, [weights])[0])
            with tf.device("/cpu:0"):
                train = tf.assign_sub(weights, 1e-4 * tf.add_n(grads))
            init = tf.global_variables_initializer()
        return graph, init, train, weights

    results = []
    for devices, config in ((("/cpu:1", "/cpu:2"), _three_devices()),
                            (("/cpu:0", "/cpu:0"), tf.ConfigProto(device_count={"CPU": 1}))):
        graph, init, train, weights = build(devices)
        with tf.Session(graph=graph, config=config) as sess:
            sess.run(init)
            for _ in range(4):
                sess.run(train)
            results.append(sess.run(weights))
    np.testing.assert_allclose(results[0], results[1], rtol=1e-5, atol=1e-6)
