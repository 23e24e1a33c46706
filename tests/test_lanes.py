"""Lanes and run slots grow on demand: blocked runs of one session never starve another, and
neither 8 runs per device nor 255 cross-device edges per step is a limit any more.

Each test uses workers of its own (an unusual kernel thread count keys them apart in the
client's shared pool), runs each call that could hang in a thread joined with a timeout, and
closes its sessions: the leak check (``_leak_check.py``) then finds no segment or worker left.
"""

import threading

import numpy as np
import pytest

import sessionlib as tf
from sessionlib import errors
from sessionlib.runtime import channel, settings

from _blocking import wait_until_blocked
from _device_helpers import cross_device_graph, two_devices

_THREADS = 5    # workers of these tests only (the pool keys workers by thread count)
_JOIN_S = 60.0  # far beyond what any call here takes; a hang fails the test instead


def _session():
    return tf.Session(config=two_devices(intra_op_parallelism_threads=_THREADS))


def _options(timeout_ms):
    return tf.RunOptions(timeout_in_ms=timeout_ms)


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


class _BlockedRuns:
    """`count` runs of `fetch` in threads of their own, each blocked on a dequeue."""

    def __init__(self, sess, fetch, count):
        self.results = [None] * count
        self.threads = [threading.Thread(target=self._run, args=(sess, fetch, i), daemon=True)
                        for i in range(count)]
        for thread in self.threads:
            thread.start()

    def _run(self, sess, fetch, index):
        try:
            self.results[index] = ("ok", sess.run(fetch))
        except BaseException as err:  # noqa: BLE001 - checked by the test
            self.results[index] = ("error", err)

    def join(self):
        for thread in self.threads:
            thread.join(_JOIN_S)
            assert not thread.is_alive(), "a blocked run was never released"
        return self.results


def _queue_graph(dequeue_device, consumer_device=None):
    """A queue on CPU:1, fed through `enqueue_many`; `out` is a dequeued value (plus 0.5 on
    `consumer_device`, when given, so that the run crosses devices)."""
    with tf.device("/cpu:1"):
        queue = tf.FIFOQueue(100, tf.float32, shapes=[], name="q")
        values = tf.placeholder(tf.float32, shape=[None], name="values")
        enqueue = queue.enqueue_many(values)
    with tf.device(dequeue_device):
        out = queue.dequeue()
    if consumer_device is not None:
        with tf.device(consumer_device):
            out = tf.add(out, 0.5, name="consumer")
    return values, enqueue, out


def test_blocked_runs_of_one_session_do_not_starve_another_session_on_the_device():
    values, enqueue, out = _queue_graph("/cpu:1")
    with tf.device("/cpu:1"):
        x = tf.placeholder(tf.float32, shape=[], name="x")
        y = tf.multiply(x, 3.0, name="y")
    sess_a, sess_b = _session(), _session()
    try:
        blocked = _BlockedRuns(sess_a, out, 9)   # more than the 8 lanes a worker starts with
        wait_until_blocked(sess_a, 9)
        # Session B's run gets a lane at once (the old code failed it when the deadline
        # passed, or after 30 s without one).
        assert _call(lambda: sess_b.run(y, {x: 2.0}, options=_options(5000))) == ("ok", 6.0)
        worker = sess_b._runtime.worker_of[sess_b._runtime.device_names[1]]
        assert worker.num_lanes > channel.LANES
        assert _call(lambda: sess_a.run(enqueue, {values: np.arange(9.0)})) == ("ok", None)
        results = blocked.join()
        assert all(outcome == "ok" for outcome, _ in results), results
        assert sorted(float(value) for _, value in results) == list(np.arange(9.0))
        assert sess_b.run(y, {x: 4.0}) == 12.0
    finally:
        sess_a.close()
        sess_b.close()


def test_forty_blocked_multi_device_runs_are_all_released_with_their_values():
    # Each run crosses devices: it holds a lane on both workers and run slots, more of each
    # than the old fixed 8 lanes per device and 32 multi-device runs per client.
    values, enqueue, out = _queue_graph("/cpu:1", consumer_device="/cpu:0")
    count = 40
    sess = _session()
    try:
        blocked = _BlockedRuns(sess, out, count)
        wait_until_blocked(sess, count)
        pool = sess._runtime.pool
        assert pool.free_run_slots() <= pool.rendezvous.num_slots - count
        assert all(w.num_lanes >= count for w in sess._runtime.workers)
        assert _call(lambda: sess.run(enqueue, {values: np.arange(float(count))})) == (
            "ok", None)
        results = blocked.join()
        assert all(outcome == "ok" for outcome, _ in results), results
        assert sorted(float(value) for _, value in results) == [i + 0.5 for i in range(count)]
        # Every lane came back: as many runs again do not need more lanes.
        lanes = [w.num_lanes for w in sess._runtime.workers]
        assert [len(w.free_lanes) for w in sess._runtime.workers] == lanes
    finally:
        sess.close()


def test_blocked_runs_are_cancelled_by_close_also_on_added_lanes():
    _, _, out = _queue_graph("/cpu:1")
    sess = _session()
    blocked = _BlockedRuns(sess, out, 12)
    wait_until_blocked(sess, 12)
    sess.close()
    results = blocked.join()
    assert all(outcome == "error" and isinstance(error, errors.CancelledError)
               for outcome, error in results), results


@pytest.mark.parametrize("num_edges", [300, 501])
def test_a_step_with_hundreds_of_cross_device_edges_gives_the_right_values(num_edges):
    a = tf.placeholder(tf.float32, shape=[num_edges], name="a")
    with tf.device("/cpu:0"):
        pieces = tf.unstack(tf.identity(a), num=num_edges)
    with tf.device("/cpu:1"):
        total = tf.stack([piece + float(i) for i, piece in enumerate(pieces)])
    feed = np.linspace(-1.0, 1.0, num_edges).astype(np.float32)
    expected = feed + np.arange(num_edges, dtype=np.float32)
    with _session() as sess:
        for _ in range(2):   # the second run reuses the run slots the first gave back
            np.testing.assert_array_equal(sess.run(total, {a: feed}), expected)
        (step,) = [s for s in sess._runtime.cached_steps() if s.num_edges]
        assert step.num_edges >= num_edges


def test_beyond_the_lane_limit_a_run_fails_with_a_clear_error(monkeypatch):
    with tf.device("/cpu:1"):
        x = tf.placeholder(tf.float32, shape=[], name="x")
        y = tf.add(x, 1.0, name="y")
    with _session() as sess:
        assert sess.run(y, {x: 1.0}) == 2.0
        worker = sess._runtime.worker_of[sess._runtime.device_names[1]]
        monkeypatch.setenv("SESSIONLIB_MAX_LANES", str(worker.num_lanes))
        taken = [worker.acquire_lane() for _ in range(len(worker.free_lanes))]
        try:
            with pytest.raises(errors.ResourceExhaustedError) as info:
                sess.run(y, {x: 2.0})
            assert f"All {worker.num_lanes} lanes of device CPU:1 are busy" in info.value.message
            assert "SESSIONLIB_MAX_LANES" in info.value.message
        finally:
            for lane in taken:
                worker.release_lane(lane)
        assert sess.run(y, {x: 3.0}) == 4.0


def test_the_lane_limit_setting():
    assert settings.max_lanes({}) == settings.DEFAULT_MAX_LANES == 1024
    assert settings.max_lanes({"SESSIONLIB_MAX_LANES": " 64 "}) == 64
    for bad in ("0", "-3", "many", "1.5"):
        with pytest.raises(ValueError, match="SESSIONLIB_MAX_LANES"):
            settings.max_lanes({"SESSIONLIB_MAX_LANES": bad})


def test_beyond_the_edge_limit_a_step_fails_with_a_clear_error(monkeypatch):
    assert channel.MAX_EDGES_PER_STEP >= 65535
    monkeypatch.setattr(channel, "MAX_EDGES_PER_STEP", 10)
    a = tf.placeholder(tf.float32, shape=[11], name="a")
    with tf.device("/cpu:0"):
        pieces = tf.unstack(tf.identity(a), num=11)
    with tf.device("/cpu:1"):
        total = tf.add_n(pieces)
    with _session() as sess:
        with pytest.raises(errors.ResourceExhaustedError) as info:
            sess.run(total, {a: np.ones(11, np.float32)})
        assert "11 cross-device edges; at most 10" in info.value.message


def test_beyond_the_run_slot_limit_a_run_fails_with_a_clear_error(monkeypatch):
    a, c = cross_device_graph()
    with _session() as sess:
        assert sess.run(c, {a: 1.0}) == 1.0
        pool = sess._runtime.pool
        monkeypatch.setattr(channel, "MAX_RUN_SLOTS", pool.rendezvous.num_slots)
        taken = []
        try:
            while pool.free_run_slots():
                taken.append(pool.acquire_run_slots(1))
            with pytest.raises(errors.ResourceExhaustedError) as info:
                sess.run(c, {a: 2.0})
            assert f"at most {pool.rendezvous.num_slots}" in info.value.message
        finally:
            for run_slots in taken:
                pool.release_run_slots(run_slots)
        assert sess.run(c, {a: 3.0}) == 3.0


def test_a_worker_rejects_run_slots_it_does_not_know_and_lives_on():
    a, c = cross_device_graph()
    with _session() as sess:
        assert sess.run(c, {a: 1.0}) == 1.0
        (step,) = sess._runtime.cached_steps()
        worker = step.parts[1].worker
        known = sess._runtime.pool.rendezvous.num_slots
        for run_slots in (-1, (), (known,), (-1,), (0, 0), [0], (1.0,), "0"):
            lane = worker.acquire_lane()
            try:
                # A run message: (step key, run slots, generation, step id, deadline, feeds).
                lane.post_request(channel.encode((step.key, run_slots, 1, 1, None, [])))
                reply = None
                for _ in range(600):   # 30 s at most
                    reply = lane.wait_response(0.05)
                    if reply is not None:
                        break
                assert reply is not None, "the worker did not answer"
                reply = channel.decode(reply)
                assert reply[:2] == ("err", errors.INVALID_ARGUMENT), (run_slots, reply)
                assert "run slots" in reply[2]
            finally:
                worker.release_lane(lane)
        assert sess.run(c, {a: 2.0}) == 2.0
