"""Partitioning across devices: send/recv pairs, values, independent partitions."""

import numpy as np
import pytest

import sessionlib as tf
from sessionlib.runtime import partition, plan as plan_lib
from sessionlib.framework import device_spec

from _device_helpers import two_devices

DEVICES = [device_spec.full_name("CPU", i) for i in range(2)]


def _partitioned(fetches, feeds=()):
    order = plan_lib.prune(feeds, fetches, ())
    placer = __import__("sessionlib.runtime.placement", fromlist=["Placer"]).Placer(DEVICES)
    return partition.partition(order, placer.place(order), feeds, fetches, DEVICES)


def test_send_recv_pair_on_each_cross_device_edge():
    with tf.device("/cpu:0"):
        a = tf.constant(1.0)
        b = tf.identity(a)
    with tf.device("/cpu:1"):
        c = tf.identity(b)
        d = tf.identity(b)  # the same tensor again: one edge per (tensor, device)
        e = tf.identity(a)
    parted = _partitioned([c, d, e])
    assert parted.num_edges == 2
    first, second = parted.partitions
    assert first.op_types.count(partition.SEND) == 2
    assert second.op_types.count(partition.RECV) == 2
    assert partition.RECV not in first.op_types and partition.SEND not in second.op_types
    sends = [first.plan.attrs[i]["edge"] for i, t in enumerate(first.op_types)
             if t == partition.SEND]
    recvs = [second.plan.attrs[i]["edge"] for i, t in enumerate(second.op_types)
             if t == partition.RECV]
    assert sorted(sends) == sorted(recvs) == [1, 2]


def test_shared_slots_are_the_values_a_partition_produces_for_others():
    x = tf.placeholder(tf.float32, [], name="x")
    with tf.device("/cpu:0"):
        made = tf.identity(x, name="made")
        kept = tf.identity(made, name="kept")
    with tf.device("/cpu:1"):
        used = tf.identity(made, name="used")
        passed = tf.identity(used, name="passed")
    parted = _partitioned([x, kept, passed, used], [x])
    first, second = parted.partitions

    def slots_of(plan, names):
        slots = set()
        for index, name in enumerate(plan.plan.names):
            if name in names:
                ptr = plan.plan.out_ptr
                slots.update(plan.plan.out_slots[ptr[index]:ptr[index + 1]].tolist())
        return slots

    # CPU:0 sends `made` and produces the fetch `kept`; CPU:1 produces both its fetches. The
    # fed `x` and CPU:1's received `made` are not produced there, so they are not shared.
    assert set(first.shared_slots) == slots_of(first, {"made", "kept"})
    assert set(second.shared_slots) == slots_of(second, {"used", "passed"})


def test_same_device_graph_has_no_send_recv():
    a = tf.constant(1.0)
    b = tf.identity(a)
    parted = _partitioned([b])
    assert parted.num_edges == 0 and len(parted.partitions) == 1
    assert partition.SEND not in parted.partitions[0].op_types


def test_cross_device_values_are_correct(executor):
    x = tf.placeholder(tf.float32, shape=[None])
    with tf.device("/cpu:0"):
        y = tf.multiply(x, 2.0)
    with tf.device("/cpu:1"):
        z = tf.add(y, x)
        total = tf.reduce_sum(z)
    with tf.device("/cpu:0"):
        back = tf.identity(z)
    with tf.Session(config=two_devices()) as sess:
        value = np.arange(5000, dtype=np.float32)
        got_z, got_total, got_back = sess.run([z, total, back], {x: value})
        np.testing.assert_allclose(got_z, value * 3)
        np.testing.assert_allclose(got_total, (value * 3).sum(), rtol=1e-5)
        np.testing.assert_allclose(got_back, value * 3)
        for _ in range(20):  # repeated runs recycle the shared blocks
            np.testing.assert_allclose(sess.run(total, {x: value}), (value * 3).sum(),
                                       rtol=1e-5)


def test_control_dependency_across_devices():
    with tf.device("/cpu:0"):
        a = tf.constant(2.0)
        first = tf.identity(a)
    with tf.device("/cpu:1"):
        with tf.control_dependencies([first]):
            second = tf.identity(tf.constant(3.0))
    parted = _partitioned([second])
    assert parted.num_edges == 1 and parted.edges[0][0].startswith("^")
    with tf.Session(config=two_devices()) as sess:
        assert sess.run(second) == 3.0


def test_independent_partitions_and_fed_fetch():
    x = tf.placeholder(tf.float32, shape=[])
    with tf.device("/cpu:0"):
        left = tf.add(x, 1.0)
    with tf.device("/cpu:1"):
        right = tf.add(x, 2.0)
    parted = _partitioned([left, right], (x,))
    assert parted.num_edges == 0 and len(parted.partitions) == 2
    with tf.Session(config=two_devices()) as sess:
        assert sess.run([left, right, x], {x: 1.0}) == [2.0, 3.0, 1.0]


def test_strings_cross_devices():
    with tf.device("/cpu:0"):
        s = tf.constant([b"hello", b"world" * 100])
    with tf.device("/cpu:1"):
        t = tf.identity(s)
    with tf.Session(config=two_devices()) as sess:
        assert list(sess.run(t)) == [b"hello", b"world" * 100]


def test_nonexistent_device_is_invalid_argument():
    with tf.device("/cpu:7"):
        a = tf.constant(1.0)
    with tf.Session(config=two_devices()) as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="cpu:7|CPU:7"):
            sess.run(a)
    with tf.Session(config=two_devices(allow_soft_placement=True)) as sess:
        assert sess.run(a) == 1.0
