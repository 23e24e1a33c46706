"""Device workers: one process per device, reused, per-session containers, parent watch."""

import gc
import os
import signal
import time

import numpy as np

import sessionlib as tf
from sessionlib import runtime
from sessionlib.runtime import devices

from _device_helpers import pid_alive, run_python, two_devices, wait_until


def _graph():
    a = tf.placeholder(tf.float32, shape=[], name="a")
    with tf.device("/cpu:0"):
        b = tf.identity(a, name="b")
    with tf.device("/cpu:1"):
        c = tf.identity(b, name="c")
    return a, b, c


def test_each_device_is_a_worker_process():
    a, b, c = _graph()
    with tf.Session(config=two_devices()) as sess:
        pids = [device.pid for device in sess.list_devices()]
        assert len(set(pids)) == 2 and os.getpid() not in pids
        assert all(pid_alive(pid) for pid in pids)
        assert sess.run(c, {a: 3.0}) == np.float32(3.0)


def test_workers_are_reused_across_sessions():
    a, b, c = _graph()
    with tf.Session(config=two_devices()) as first:
        pids = [d.pid for d in first.list_devices()]
        first.run(c, {a: 1.0})
    with tf.Session(config=two_devices()) as second:
        assert [d.pid for d in second.list_devices()] == pids
        assert second.run(c, {a: 2.0}) == 2.0


def test_single_device_session_stays_in_process_by_default(monkeypatch):
    monkeypatch.delenv("SESSIONLIB_WORKERS", raising=False)
    with tf.Session() as sess:
        assert not hasattr(sess._runtime, "workers")
        assert sess.list_devices()[0].pid == os.getpid()


def test_workers_switch_for_one_device(monkeypatch):
    monkeypatch.setenv("SESSIONLIB_WORKERS", "1")
    a = tf.placeholder(tf.float32, shape=[2])
    b = tf.identity(a)
    with tf.Session() as sess:
        assert hasattr(sess._runtime, "workers")
        assert sess.list_devices()[0].pid != os.getpid()
        np.testing.assert_array_equal(sess.run(b, {a: [1.0, 2.0]}), [1.0, 2.0])
    assert runtime.use_workers(2, {}) and not runtime.use_workers(1, {})
    assert not runtime.use_workers(2, {"SESSIONLIB_WORKERS": "0"})


def test_each_session_has_its_own_container_on_each_worker():
    a, b, c = _graph()
    first = tf.Session(config=two_devices())
    second = tf.Session(config=two_devices())
    try:
        first.run(c, {a: 1.0})
        second.run(c, {a: 1.0})
        worker = first._runtime.workers[1]
        sessions = worker.request("ping")[2]
        assert first._handle in sessions and second._handle in sessions
        first.close()
        sessions = worker.request("ping")[2]  # the close notice came first on the pipe
        assert first._handle not in sessions and second._handle in sessions
        assert second.run(c, {a: 4.0}) == 4.0
    finally:
        first.close()
        second.close()


def test_reset_with_containers_reaches_the_workers():
    a, b, c = _graph()
    with tf.Session(config=two_devices()) as sess:
        sess.run(c, {a: 1.0})
        tf.Session.reset("", ["some_container"])
        assert sess.run(c, {a: 2.0}) == 2.0


def test_large_fetch_is_writable_and_correct():
    value = np.arange(1 << 18, dtype=np.float64)
    with tf.device("/cpu:1"):
        const = tf.constant(value)
        out = tf.identity(const)
    with tf.Session(config=two_devices()) as sess:
        result = sess.run(out)
        np.testing.assert_array_equal(result, value)
        result[0] = -1.0  # the caller owns its result
        assert sess.run(out)[0] == 0.0


def test_threads_default_never_oversubscribes():
    cores = len(os.sched_getaffinity(0))
    for count in (1, 2, 3, 8):
        assert devices.default_threads(count) * count <= max(cores, count)
    assert devices.default_threads(2, 3) == 3


def test_worker_ignores_sigint():
    a, b, c = _graph()
    with tf.Session(config=two_devices()) as sess:
        sess.run(c, {a: 1.0})
        pid = sess.list_devices()[1].pid
        os.kill(pid, signal.SIGINT)
        time.sleep(0.2)
        assert pid_alive(pid)
        assert sess.run(c, {a: 5.0}) == 5.0


CLIENT = """
import os, sys, time
import sessionlib as tf
a = tf.placeholder(tf.float32, shape=[])
with tf.device('/cpu:1'):
    b = tf.identity(a)
sess = tf.Session(config=tf.ConfigProto(device_count={'CPU': 2}))
sess.run(b, {a: 1.0})
print(' '.join(str(d.pid) for d in sess.list_devices()), flush=True)
%s
"""


def test_workers_exit_when_client_is_killed():
    import subprocess
    import sys

    from _device_helpers import REPO

    env = dict(os.environ, PYTHONPATH=REPO)
    client = subprocess.Popen([sys.executable, "-c", CLIENT % "time.sleep(60)"],
                              stdout=subprocess.PIPE, text=True, env=env, cwd=REPO)
    try:
        line = ""
        deadline = time.monotonic() + 60
        while not line and time.monotonic() < deadline:
            line = client.stdout.readline()
        pids = [int(p) for p in line.split()]
        assert len(pids) == 2 and all(pid_alive(p) for p in pids)
        client.kill()
        client.wait(10)
        assert wait_until(lambda: not any(pid_alive(p) for p in pids), 10)
        # The client could not clean up; the next sessionlib process's sweep does.
        time.sleep(0.1)
        run_python("import sessionlib.runtime.shm")
        leftovers = [n for n in os.listdir("/dev/shm")
                     if any(n.startswith(f"sessionlib_{p}_") for p in pids + [client.pid])]
        assert not leftovers
    finally:
        if client.poll() is None:
            client.kill()
        client.wait(10)


def test_workers_exit_when_client_exits_normally():
    result = run_python(CLIENT % "")
    pids = [int(p) for p in result.stdout.split()]
    assert len(pids) == 2, result.stderr
    assert wait_until(lambda: not any(pid_alive(p) for p in pids), 10)
    leftovers = [n for n in os.listdir("/dev/shm")
                 if any(n.startswith(f"sessionlib_{p}_") for p in pids)]
    assert not leftovers


def test_unguarded_script_does_not_start_workers_recursively(tmp_path):
    script = tmp_path / "script.py"
    script.write_text(CLIENT % "print('done')")
    import subprocess
    import sys

    from _device_helpers import REPO

    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                            timeout=60, env=dict(os.environ, PYTHONPATH=REPO))
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("done") == 1


def test_plans_of_dropped_steps_leave_the_workers():
    a, b, c = _graph()
    sess = tf.Session(config=two_devices())
    try:
        sess.run(c, {a: 1.0})
        worker = sess._runtime.workers[1]
        installed = worker.request("ping")[3]
        assert installed >= 1
        for step in range(5):
            # A graph change drops the session's compiled steps; their plans must not pile
            # up on the workers.
            tf.identity(c, name=f"grow{step}")
            assert sess.run(c, {a: 2.0}) == 2.0
        gc.collect()
        sess.run(c, {a: 3.0})  # retired plans are uninstalled before the next run
        assert worker.request("ping")[3] <= installed
    finally:
        sess.close()


def test_run_slot_of_an_abandoned_run_waits_until_its_lane_drains():
    from sessionlib.runtime import channel

    class _Part:
        def __init__(self, worker):
            self.worker = worker

    class _Worker:
        dead = False

    pool = devices.pool()
    block = channel.LaneBlock()
    try:
        lane = block.lanes[0]
        free_before = pool.free_run_slots()
        run_slots = pool.acquire_run_slots(1)
        pool.quarantine_run_slots(run_slots, [(_Part(_Worker()), lane)])
        assert pool.free_run_slots() == free_before - 1  # its partition may still write
        lane.post_response(b"late reply")
        assert pool.free_run_slots() == free_before
    finally:
        block.unlink()
