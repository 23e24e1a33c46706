"""Costs that stay flat: leases are reclaimed through a release ring, not by scanning, and the
number of results a user holds is limited only by memory (runtime/shm.py, issue 10)."""

import os

import numpy as np
import pytest

import sessionlib as tf
from sessionlib.runtime import devices, shm

from _device_helpers import two_devices

# A result of 1024 float32: 4 KB, more than travels inline, so each one holds a lease.
_RESULT = 1024


@pytest.fixture
def small_tables(monkeypatch):
    """Lease tables of 8 entries, so that a few publishes need several tables."""
    monkeypatch.setattr(shm, "_LEASE_ENTRIES", 8)


def _values(count):
    return [np.full(_RESULT, float(i), np.float32) for i in range(count)]


def test_held_leases_grow_past_one_table_with_values_intact(small_tables):
    producer, consumer = shm.TensorStore(), shm.TensorStore()
    try:
        values = _values(30)
        held = [consumer.open(producer.publish(value)) for value in values]
        assert len(producer._tables) == 4                # 30 leases in tables of 8
        assert len({d for d in (t.segment.name for t in producer._tables)}) == 4
        for value, view in zip(values, held):
            np.testing.assert_array_equal(view, value)
        del held[::2]                                    # the consumer drops 15 of them
        producer.reclaim()
        assert len(producer._outstanding) == 15
        assert len(producer._free_leases) == 4 * 8 - 15
        segments = len(producer._segments)
        again = [consumer.open(producer.publish(value)) for value in values[:15]]
        # The released leases and blocks were reused: no new table, no new segment.
        assert len(producer._tables) == 4
        assert len(producer._segments) == segments
        for value, view in zip(values[1::2] + values[:15], held + again):
            np.testing.assert_array_equal(view, value)
    finally:
        producer.close()


def test_reclaim_takes_only_released_leases(small_tables):
    producer, consumer = shm.TensorStore(), shm.TensorStore()
    try:
        descriptors = [producer.publish(value) for value in _values(20)]
        views = [consumer.open(d) for d in descriptors]
        released = descriptors[13]
        del views[13]
        producer.reclaim()
        assert len(producer._outstanding) == 19
        # The next publish takes the released lease (and block), nothing else.
        reused = producer.publish(np.zeros(_RESULT, np.float32))
        assert (reused[6], reused[7]) == (released[6], released[7])
        assert (reused[1], reused[2]) == (released[1], released[2])
        for i, view in enumerate(views):
            assert view[0] == (i if i < 13 else i + 1)
        producer.cancel(reused)
    finally:
        producer.close()


def test_forged_ring_pushes_are_ignored(small_tables):
    producer, consumer = shm.TensorStore(), shm.TensorStore()
    try:
        values = _values(4)
        views = [consumer.open(producer.publish(value)) for value in values]
        table = producer._tables[0]
        entries = table.ring_offset + shm._RING_HEADER
        # Another process of this user can write the ring: push a held lease, an index out
        # of range and a lease that was never handed out.
        for slot, value in enumerate((1, 1000, 8)):
            table.region.store(entries + 4 * slot, value)
        table.region.store(table.ring_offset, 3)
        producer.reclaim()
        assert len(producer._outstanding) == 4           # nothing was freed
        fresh = [consumer.open(producer.publish(value * 2)) for value in values]
        for value, view in zip(values, views):           # the held blocks were not reused
            np.testing.assert_array_equal(view, value)
        for value, view in zip(values, fresh):
            np.testing.assert_array_equal(view, value * 2)
    finally:
        producer.close()


def test_ring_outside_the_lease_segment_is_rejected():
    producer, consumer = shm.TensorStore(), shm.TensorStore()
    try:
        descriptor = producer.publish(np.ones(_RESULT, np.float32))
        table = producer._tables[0]
        table.region.store(table.ring_offset + 4, 0xFFFFFFFF)  # a mask far beyond the size
        with pytest.raises(IndexError):
            consumer.open(descriptor)
        table.region.store(table.ring_offset + 4, 6)             # not a power of two minus 1
        with pytest.raises(IndexError):
            consumer.open(descriptor)
        producer.cancel(descriptor)
    finally:
        producer.close()


def _worker_segments(pid):
    """The total size of the /dev/shm segments that worker `pid` created."""
    prefix = f"{shm.PREFIX}{pid}_"
    total = 0
    for name in os.listdir(shm.SHM_DIR):
        if name.startswith(prefix):
            try:
                total += os.stat(os.path.join(shm.SHM_DIR, name)).st_size
            except FileNotFoundError:
                pass
    return total


def _fill_graph():
    graph = tf.Graph()
    with graph.as_default(), tf.device("/cpu:1"):
        a = tf.placeholder(tf.float32, [])
        result = tf.fill([_RESULT], a) + tf.constant(0.5)
    return graph, a, result


def _worker_pid(index):
    return [w.pid for w in devices._pool.workers() if w.index == index][0]


def test_released_results_memory_is_reused():
    graph, a, result = _fill_graph()
    with tf.Session(graph=graph, config=two_devices()) as sess:
        run = sess.make_callable(result, feed_list=[a])
        batch = [run(float(i)) for i in range(200)]
        del batch
        run(0.0)
        pid = _worker_pid(1)
        before = _worker_segments(pid)
        for round_ in range(10):
            batch = [run(float(i)) for i in range(200)]
            assert batch[-1][0] == 199.5 and batch[7][-1] == 7.5
            del batch
        assert _worker_segments(pid) == before            # released blocks were reused


def test_holding_70000_results():
    held = 70_000
    if shm._free_bytes() < held * 4096 * 3:
        pytest.skip(f"{shm.SHM_DIR} has too little free space for {held} held 4 KB results")
    graph, a, result = _fill_graph()
    with tf.Session(graph=graph, config=two_devices()) as sess:
        run = sess.make_callable(result, feed_list=[a])
        kept = [run(float(i)) for i in range(held)]      # more than the former 65,536 limit
        assert all(value[0] == i + 0.5 for i, value in enumerate(kept))
        assert kept[-1][-1] == held - 0.5 and kept[65_536][5] == 65_536.5
        pid = _worker_pid(1)
        peak = _worker_segments(pid)
        del kept
        again = [run(float(i)) for i in range(held)]     # the released blocks serve these
        assert again[-1][0] == held - 0.5
        assert _worker_segments(pid) == peak
