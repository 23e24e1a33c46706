"""The shared-memory control channel (runtime/channel.py, _core/channel.pyx)."""

import multiprocessing
import threading
import time

import numpy as np
import pytest

from sessionlib import errors
from sessionlib._core import channel as core
from sessionlib.runtime import channel, shm


def test_atomics_and_wait_timeout():
    segment = shm.Segment(4096)
    try:
        region = segment.region
        region.store(0, 5)
        assert region.load(0) == 5
        assert region.add(0, 2) == 7
        assert region.compare_exchange(0, 7, 9) and region.load(0) == 9
        assert not region.compare_exchange(0, 7, 1)
        start = time.monotonic()
        assert region.wait_change(0, 9, 4, 1e-4, 0.05) == 9  # times out, returns old
        assert time.monotonic() - start < 2.0
    finally:
        segment.unlink()


def test_wait_is_woken_by_another_thread():
    segment = shm.Segment(4096)
    try:
        region = segment.region
        region.store(0, 0)

        def poster():
            time.sleep(0.05)
            region.signal(0, 1, 4)

        thread = threading.Thread(target=poster)
        thread.start()
        value = 0
        deadline = time.monotonic() + 5
        while value == 0 and time.monotonic() < deadline:
            value = region.wait_change(0, 0, 4, 1e-5, 0.5)  # sleeps on the futex
        thread.join()
        assert value == 1
    finally:
        segment.unlink()


def test_mailbox_roundtrip_in_process():
    block = channel.LaneBlock()
    try:
        lane = block.lanes[3]
        lane.post_request(b"Mhello")
        region = lane.region
        assert region.wait_post(lane.request, 0, 0, 0.1) == 1
        assert region.read(lane.request) == b"Mhello"
        assert lane.wait_response(0.01) is None
        lane.post_response(b"Mworld")
        assert lane.wait_response(1.0) == b"Mworld"
        with pytest.raises(ValueError):
            lane.post_request(b"x" * channel.SLOT_BYTES)
    finally:
        block.unlink()


def test_encode_plain_values_and_spill():
    message = (1, -1, 2, 3, None, [(0, ("i", "<f4", (), b"\0\0\0\0"))])
    assert channel.decode(channel.encode(message)) == message
    big = ("x", b"y" * (channel.SLOT_BYTES * 2))
    data = channel.encode(big)
    assert data[:1] == b"S" and len(data) < 1024
    assert channel.decode(data) == big
    with pytest.raises(ValueError):
        channel.encode((object(),))  # marshal refuses user objects


def _echo(name, count):
    block = channel.LaneBlock(name)
    lane = block.lanes[0]
    last = 0
    for _ in range(count):
        while True:
            seq = lane.region.wait_post(lane.request, last, 1e-4, 0.5)
            if seq != last:
                break
        last = seq
        lane.post_response(lane.region.read(lane.request)[::-1])


def test_mailbox_roundtrip_across_processes():
    block = channel.LaneBlock()
    process = multiprocessing.get_context("spawn").Process(target=_echo,
                                                           args=(block.name, 50))
    process.start()
    try:
        lane = block.lanes[0]
        for i in range(50):
            lane.post_request(b"abc%d" % i)
            reply = None
            deadline = time.monotonic() + 30
            while reply is None and time.monotonic() < deadline:
                reply = lane.wait_response(0.05)
            assert reply == (b"abc%d" % i)[::-1]
    finally:
        process.join(10)
        if process.is_alive():
            process.kill()
        block.unlink()


def test_rendezvous_send_recv_and_abort():
    block = channel.Rendezvous()
    try:
        block.send((2,), 5, 77, b"payload")
        assert block.recv((2,), 5, 77, lambda: None) == b"payload"
        # A stale generation is never taken for the current run.
        block.abort((2,), 78, 5)
        with pytest.raises(errors.AbortedError):
            block.recv((2,), 5, 78, lambda: None)

        def cancel():
            raise errors.CancelledError(None, None, "stop")

        with pytest.raises(errors.CancelledError):
            block.recv((3,), 1, 99, cancel)
    finally:
        block.unlink()


def test_rendezvous_edges_span_run_slots_in_several_blocks():
    rendezvous = channel.Rendezvous()
    try:
        rendezvous.grow()
        assert rendezvous.num_slots == 2 * channel.SLOTS_PER_BLOCK
        edges = 2 * channel.EDGES_PER_SLOT + 1     # three slots, the last in the new block
        run_slots = (5, 0, channel.SLOTS_PER_BLOCK + 7)
        assert channel.slots_for_edges(edges) == 3
        for edge in range(1, edges + 1):
            rendezvous.send(run_slots, edge, 9, b"e%d" % edge)
        assert [rendezvous.recv(run_slots, edge, 9, lambda: None)
                for edge in range(1, edges + 1)] == [b"e%d" % e for e in range(1, edges + 1)]
        # The run's slots do not share entries: slot 5's edges are not slot 0's.
        assert rendezvous.recv((0,), 1, 9, lambda: None) == b"e%d" % (
            channel.EDGES_PER_SLOT + 1)
        with pytest.raises(errors.InternalError):
            rendezvous.send(run_slots, edges + channel.EDGES_PER_SLOT, 9, b"x")
        # An abort reaches the receivers of every slot of the run.
        rendezvous.abort(run_slots, 10, edges)
        with pytest.raises(errors.AbortedError):
            rendezvous.recv(run_slots, edges, 10, lambda: None)
        # A worker maps the blocks by name and checks the slots a message names.
        attached = channel.Rendezvous(rendezvous.name)
        with pytest.raises(ValueError):
            attached.check_slots(run_slots, edges)
        attached.attach(1, rendezvous.names[1:])
        attached.check_slots(run_slots, edges)
        assert attached.recv(run_slots, 2, 9, lambda: None) == b"e2"
        for bad in ((5, 0), (5, 5, 0), (-1, 0, 1), [5, 0, 1], (5, 0, 2.0), (0, 1, 10 ** 6)):
            with pytest.raises(ValueError):
                attached.check_slots(bad, edges)
        with pytest.raises(ValueError):
            attached.attach(3, rendezvous.names)   # a gap in the numbering
    finally:
        rendezvous.unlink()


def test_lane_blocks_with_small_slots_spill_longer_messages():
    block = channel.LaneBlock(count=3, slot_bytes=channel.GROWN_SLOT_BYTES)
    try:
        lane = block.lanes[2]
        assert lane.capacity == channel.GROWN_SLOT_BYTES - 64
        message = ("x", b"y" * channel.GROWN_SLOT_BYTES)
        data = channel.encode(message, None, lane.capacity)
        assert data[:1] == b"S"
        lane.post_request(data)
        assert channel.decode(lane.region.read(lane.request)) == message
        with pytest.raises(ValueError):
            lane.post_request(b"x" * channel.GROWN_SLOT_BYTES)
        attached = channel.LaneBlock(block.name, 3, channel.GROWN_SLOT_BYTES)
        assert attached.lanes[2].request == lane.request
        for count, slot_bytes in ((4, channel.GROWN_SLOT_BYTES), (3, 100), (0, 4096),
                                  (3, channel.SLOT_BYTES * 2)):
            with pytest.raises(ValueError):
                channel.LaneBlock(block.name, count, slot_bytes)
    finally:
        block.unlink()


def test_shared_block_is_read_only_and_releases_lease():
    segment = shm.Segment(8192)
    leases = shm.Segment(4096)
    try:
        leases.region.store(8, 2)
        block = segment.region.block(4096, 64, True, leases.region, 8)
        array = np.frombuffer(block, dtype=np.float32)
        view = array[3:]
        assert not array.flags.writeable
        del block, array
        assert leases.region.load(8) == 2  # `view` still holds the block
        del view
        assert leases.region.load(8) == 1
        assert core.SLOT_HEADER == 64
    finally:
        segment.unlink()
        leases.unlink()
