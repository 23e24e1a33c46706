"""Deadlines hold whatever a device does: a stopped worker, a worker that must add lanes.

Each test uses workers of its own (an unusual kernel thread count keys them apart in the
client's shared pool), resumes every worker it stopped in a `finally`, and runs each call that
could hang in a thread joined with a timeout, so a regression fails instead of hanging.
"""

import os
import signal
import threading

import numpy as np
import pytest

import sessionlib as tf
from sessionlib import errors
from sessionlib.runtime import channel

from _device_helpers import cross_device_graph, two_devices, wait_until

_THREADS = 7    # workers of these tests only (the pool keys workers by thread count)
_JOIN_S = 20.0  # far beyond any deadline here; a hang fails the test instead


def _call(function):
    """Runs `function` in a thread; returns ("ok", value) or ("error", exception)."""
    result = {}

    def body():
        try:
            result["ok"] = function()
        except BaseException as err:  # noqa: BLE001 - handed to the test
            result["error"] = err

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    thread.join(_JOIN_S)
    assert not thread.is_alive(), "the call hung"
    return ("ok", result["ok"]) if "ok" in result else ("error", result["error"])


def _stop(pid):
    """SIGSTOPs `pid` and waits until each of its threads is stopped (the signal is
    delivered asynchronously: a lane thread still spinning could answer one more run)."""
    os.kill(pid, signal.SIGSTOP)

    def all_stopped():
        for task in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{task}/stat") as stat:
                    if stat.read().split(")")[-1].split()[0] not in ("T", "t"):
                        return False
            except FileNotFoundError:
                pass   # a thread that ended
        return True

    assert wait_until(all_stopped)


def _options(timeout_ms):
    return tf.RunOptions(timeout_in_ms=timeout_ms)


def _session():
    return tf.Session(config=two_devices(intra_op_parallelism_threads=_THREADS))


@pytest.mark.parametrize("shape", ["single", "cross"])
def test_stopped_worker_fails_the_run_at_its_deadline_and_the_session_lives_on(shape):
    a = tf.placeholder(tf.float32, shape=[], name="a")
    with tf.device("/cpu:0"):
        on_cpu0 = tf.add(a, 1.0, name="on_cpu0")
    if shape == "single":  # one partition: the latency path, whose long wait is the gather
        with tf.device("/cpu:1"):
            b = tf.placeholder(tf.float32, shape=[], name="b")
            y = tf.multiply(b, 2.0, name="y")
        feeds = lambda value: {b: value}  # noqa: E731
    else:                  # CPU:0 -> CPU:1: a run slot, and CPU:1's answer never comes
        with tf.device("/cpu:1"):
            y = tf.multiply(on_cpu0, 2.0, name="y")
        feeds = lambda value: {a: value - 1.0}  # noqa: E731
    sess = _session()
    pid = sess.list_devices()[1].pid
    stopped = False
    try:
        assert sess.run(y, feeds(1.0)) == 2.0
        stopped = True
        _stop(pid)
        outcome, error = _call(lambda: sess.run(y, feeds(2.0), options=_options(500)))
        assert outcome == "error" and isinstance(error, errors.DeadlineExceededError), error
        assert "CPU:1" in error.message
        # The other device still serves the session while CPU:1 is stopped.
        assert _call(lambda: sess.run(on_cpu0, {a: 5.0}, options=_options(5000))) == (
            "ok", 6.0)
        os.kill(pid, signal.SIGCONT)
        stopped = False
        # The late answer arrives and is discarded when its lane is next needed: take every
        # lane of CPU:1 (the abandoned one last, once drained), then give them back.
        worker = sess._runtime.worker_of[sess._runtime.device_names[1]]
        assert wait_until(lambda: any(lane.response_ready() for lane in worker._draining))
        lanes = [worker.acquire_lane() for _ in range(worker.num_lanes)]
        for lane in lanes:
            worker.release_lane(lane)
        assert not worker._draining
        for value in (3.0, 4.0):
            assert _call(lambda: sess.run(y, feeds(value), options=_options(10000))) == (
                "ok", 2.0 * value)
        assert sess.list_devices()[1].pid == pid
    finally:
        if stopped:
            os.kill(pid, signal.SIGCONT)
        sess.close()


def test_a_run_that_must_add_lanes_to_a_stopped_worker_honours_its_deadline_and_cancellation():
    with tf.device("/cpu:1"):
        x = tf.placeholder(tf.float32, shape=[], name="x")
        y = tf.add(x, 1.0, name="y")
    sess = _session()
    pid = sess.list_devices()[1].pid
    stopped = False
    try:
        assert sess.run(y, {x: 1.0}) == 2.0
        worker = sess._runtime.worker_of[sess._runtime.device_names[1]]
        # Every lane is busy, so a run asks the worker for more; the worker does not answer.
        taken = [worker.acquire_lane() for _ in range(len(worker.free_lanes))]
        lanes_before = worker.num_lanes
        try:
            stopped = True
            _stop(pid)
            outcome, error = _call(lambda: sess.run(y, {x: 2.0}, options=_options(300)))
            assert outcome == "error" and isinstance(error, errors.DeadlineExceededError)
            assert "CPU:1 added lanes" in error.message
            # Without a deadline the run waits, until its session is closed.
            closer = threading.Timer(0.3, sess.close)
            closer.start()
            outcome, error = _call(lambda: sess.run(y, {x: 3.0}))
            closer.join(_JOIN_S)
            assert outcome == "error" and isinstance(error, errors.CancelledError), error
            assert worker.num_lanes == lanes_before
        finally:
            if stopped:
                os.kill(pid, signal.SIGCONT)
                stopped = False
            for lane in taken:
                worker.release_lane(lane)
    finally:
        if stopped:
            os.kill(pid, signal.SIGCONT)
        sess.close()
    # The worker answers the abandoned requests late; they are skipped, and it serves on.
    with _session() as fresh:
        assert fresh.list_devices()[1].pid == pid
        assert fresh.run(y, {x: 4.0}) == 5.0


def test_a_multi_device_run_finds_run_slots_when_every_slot_is_taken():
    a, c = cross_device_graph()
    with _session() as sess:
        assert sess.run(c, {a: 1.0}) == 1.0
        pool = sess._runtime.pool
        taken = []
        try:
            while pool.free_run_slots():   # (the old code waited 30 s, then failed)
                taken.append(pool.acquire_run_slots(1))
            assert _call(lambda: sess.run(c, {a: 2.0}, options=_options(5000))) == ("ok", 2.0)
            workers = sess._runtime.workers
            assert all(w.rendezvous_known == len(pool.rendezvous.names) >= 2 for w in workers)
        finally:
            for run_slots in taken:
                pool.release_run_slots(run_slots)
        np.testing.assert_equal(sess.run(c, {a: 3.0}), 3.0)


def test_close_of_a_session_whose_device_is_stopped_returns_and_frees_the_run():
    a, c = cross_device_graph()
    sess = _session()
    pid = sess.list_devices()[1].pid
    stopped = False
    try:
        assert sess.run(c, {a: 1.0}) == 1.0
        stopped = True
        _stop(pid)
        run = {}
        runner = threading.Thread(
            target=lambda: run.setdefault("outcome", _call(lambda: sess.run(c, {a: 2.0}))),
            daemon=True)
        (worker,) = [w for w in sess._runtime.workers if w.device.endswith("CPU:1")]
        free_lanes = len(worker.free_lanes)
        runner.start()
        # Close once the run (no deadline) has posted to CPU:1 and waits for it, not after a
        # fixed time: a close before the run starts would make it run's RuntimeError.
        assert wait_until(lambda: len(worker.free_lanes) < free_lanes, _JOIN_S)
        assert _call(sess.close) == ("ok", None)
        runner.join(_JOIN_S)
        assert not runner.is_alive(), "the run outlived its session's close"
        outcome, error = run["outcome"]
        assert outcome == "error" and isinstance(
            error, (errors.CancelledError, errors.AbortedError)), error
    finally:
        if stopped:
            os.kill(pid, signal.SIGCONT)
        sess.close()
    with _session() as fresh:
        assert fresh.list_devices()[1].pid == pid
        for value in (3.0, 4.0):
            assert fresh.run(c, {a: value}) == value


def test_an_interrupted_run_gives_each_lane_back_once_and_frees_its_run_slot(monkeypatch):
    a, c = cross_device_graph()
    with _session() as sess:
        assert sess.run(c, {a: 1.0}) == 1.0
        pool = sess._runtime.pool
        slots_before = pool.free_run_slots()
        original = channel.Lane.wait_response
        calls = {"n": 0}

        def interrupted_once(self, timeout_s, spin_s=channel.CLIENT_SPIN_S):
            calls["n"] += 1
            if calls["n"] == 1:
                raise KeyboardInterrupt
            return original(self, timeout_s, spin_s)

        monkeypatch.setattr(channel.Lane, "wait_response", interrupted_once)
        with pytest.raises(KeyboardInterrupt):
            sess.run(c, {a: 2.0})
        monkeypatch.setattr(channel.Lane, "wait_response", original)
        # Both partitions answered (cancelled): their lanes are free, and not also parked
        # as abandoned (which would hand one lane to two runs), and the run slot is free.
        for worker in sess._runtime.workers:
            assert not {id(lane) for lane in worker._draining} & {
                id(lane) for lane in worker.free_lanes}
        assert pool.free_run_slots() == slots_before
        assert sess.run(c, {a: 3.0}) == 3.0
