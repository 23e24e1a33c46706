"""Faults: killed workers, kernel errors in workers, cancellation. Nothing may hang."""

import os
import threading
import time

import numpy as np
import pytest

import sessionlib as tf
from sessionlib import errors

from _device_helpers import cross_device_graph, kill, pid_alive, two_devices, wait_until


def test_killed_worker_between_runs_gives_unavailable_and_new_session_works():
    a, c = cross_device_graph()
    sess = tf.Session(config=two_devices())
    sess.run(c, {a: 1.0})
    pid = sess.list_devices()[1].pid
    kill(pid)
    assert wait_until(lambda: not pid_alive(pid), 5)
    start = time.monotonic()
    with pytest.raises((errors.UnavailableError, errors.AbortedError), match="CPU:1"):
        sess.run(c, {a: 2.0})
    assert time.monotonic() - start < 5
    sess.close()
    with tf.Session(config=two_devices()) as fresh:
        assert fresh.list_devices()[1].pid != pid
        assert fresh.run(c, {a: 3.0}) == 3.0
    assert not [n for n in os.listdir("/dev/shm") if n.startswith(f"sessionlib_{pid}_")]


def test_killed_worker_during_a_run_fails_the_waiting_run():
    # CPU:1 blocks in _Recv on a value CPU:0 is slow to make; CPU:0 is killed meanwhile.
    a = tf.placeholder(tf.float32, shape=[None], name="a")
    with tf.device("/cpu:0"):
        b = a
        for _ in range(30):
            b = tf.exp(tf.negative(tf.square(b)))
    with tf.device("/cpu:1"):
        c = tf.reduce_sum(b)
    sess = tf.Session(config=two_devices())
    try:
        value = np.ones(4_000_000, np.float32)
        sess.run(c, {a: value[:10]})
        pid = sess.list_devices()[0].pid
        result = {}

        def run():
            try:
                sess.run(c, {a: value})
                result["ok"] = True
            except BaseException as err:  # noqa: BLE001
                result["error"] = err

        thread = threading.Thread(target=run)
        thread.start()
        time.sleep(0.05)
        kill(pid)
        thread.join(10)
        assert not thread.is_alive()
        if "error" in result:  # the run may have finished before the kill
            assert isinstance(result["error"], (errors.UnavailableError, errors.AbortedError))
    finally:
        sess.close()
    with tf.Session(config=two_devices()) as fresh:
        expected = np.zeros(3, np.float32)
        for _ in range(30):
            expected = np.exp(-np.square(expected))
        np.testing.assert_allclose(fresh.run(c, {a: np.zeros(3, np.float32)}),
                                   expected.sum(), rtol=1e-5)


def test_kernel_error_in_worker_has_type_and_op():
    x = tf.placeholder(tf.float32, shape=[], name="x")
    with tf.device("/cpu:1"):
        unfed = tf.placeholder(tf.float32, shape=[], name="unfed")
        y = tf.add(unfed, 1.0, name="y")
    with tf.device("/cpu:0"):
        z = tf.identity(x, name="z")
    with tf.Session(config=two_devices()) as sess:
        with pytest.raises(errors.InvalidArgumentError) as info:
            sess.run([y, z], {x: 1.0})
        assert info.value.op is not None and info.value.op.name == "unfed"
        assert "unfed" in info.value.message
        assert sess.run(z, {x: 2.0}) == 2.0  # the session stays usable


def test_kernel_error_aborts_the_waiting_partition():
    unfed = tf.placeholder(tf.float32, shape=[], name="unfed")
    with tf.device("/cpu:0"):
        a = tf.identity(unfed, name="a")
    with tf.device("/cpu:1"):
        b = tf.identity(a, name="b")
    with tf.Session(config=two_devices()) as sess:
        start = time.monotonic()
        with pytest.raises(errors.InvalidArgumentError) as info:
            sess.run(b)
        assert info.value.op.name == "unfed"
        assert time.monotonic() - start < 5


def test_close_from_another_thread_cancels_a_blocked_run():
    a, c = cross_device_graph()
    sess = tf.Session(config=two_devices())
    sess.run(c, {a: 1.0})
    step = next(iter(sess._runtime.cached_steps()))
    # Post only CPU:1's half by hand, so that its _Recv waits forever; then close.
    worker = step.parts[1].worker
    pool = sess._runtime.pool
    from sessionlib.runtime import channel

    lane = worker.acquire_lane()
    run_slots = pool.acquire_run_slots(step.num_edges)
    # A run message: (step key, run slots, generation, step id, deadline, feeds).
    lane.post_request(channel.encode((step.key, run_slots, pool.next_generation(), 1,
                                      None, [])))
    assert lane.wait_response(0.2) is None  # blocked in _Recv
    sess.close()
    reply = None
    deadline = time.monotonic() + 5
    while reply is None and time.monotonic() < deadline:
        reply = lane.wait_response(0.05)
    assert reply is not None
    assert channel.decode(reply)[1] == errors.CANCELLED
    worker.release_lane(lane)
    pool.release_run_slots(run_slots)


def test_keyboard_interrupt_cancels_run_and_keeps_workers_usable(monkeypatch):
    a, c = cross_device_graph()
    with tf.Session(config=two_devices()) as sess:
        sess.run(c, {a: 1.0})
        pids = [d.pid for d in sess.list_devices()]
        from sessionlib.runtime import channel

        original = channel.Lane.wait_response
        calls = {"n": 0}

        def interrupted(self, timeout_s, spin_s=channel.CLIENT_SPIN_S):
            calls["n"] += 1
            if calls["n"] == 1:
                raise KeyboardInterrupt
            return original(self, timeout_s, spin_s)

        monkeypatch.setattr(channel.Lane, "wait_response", interrupted)
        with pytest.raises(KeyboardInterrupt):
            sess.run(c, {a: 2.0})
        monkeypatch.setattr(channel.Lane, "wait_response", original)
        assert sess.run(c, {a: 3.0}) == 3.0
        assert [d.pid for d in sess.list_devices()] == pids


def test_run_racing_the_close_is_cancelled():
    # A run that passed the session's open check may reach its worker after the close has:
    # the worker has dropped the session's steps, and the run must end as TF's runs racing a
    # close do, cancelled, not as a missing step (queue runners end quietly on CANCELLED).
    a = tf.placeholder(tf.float32, shape=[], name="a")
    with tf.device("/cpu:1"):
        c = tf.add(a, 1.0, name="c")
    sess = tf.Session(config=two_devices())
    call = sess.make_callable(c, [a])
    assert call(1.0) == 2.0
    runtime = sess._runtime
    (worker,) = [w for w in runtime.workers if w.device.endswith("CPU:1")]

    class ClosingAsTaken(list):
        """The worker's free lanes; taking one first closes the session on the worker."""

        def pop(self, *args):
            lane = super().pop(*args)
            worker.request("close_session", runtime.session_id)  # the worker has it now
            runtime.close()
            return lane

    worker.free_lanes = ClosingAsTaken(worker.free_lanes)
    try:
        with pytest.raises(errors.CancelledError, match="closed"):
            call(2.0)
    finally:
        # The worker is the pool's, shared with later tests' sessions: it gets a plain list
        # of its lanes back (the cancelled run's lane included).
        worker.free_lanes = list(worker.free_lanes)
    assert len(worker.free_lanes) == worker.num_lanes
    sess.close()
