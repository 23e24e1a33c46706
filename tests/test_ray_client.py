"""Sessions through Ray Client (``ray://ray://<host>:<port>``) on a real head started with
``ray start --head --ray-client-server-port``.

The head runs in a session of its own (``start_new_session``): at the end of the module every
process of that session (the ``ray start`` process, GCS, raylet, the client server and the
device actors) is stopped, SIGTERM then SIGKILL, and nothing else. Skipped when Ray or its
client extra is not installed.
"""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

import numpy as np
import pytest

ray = pytest.importorskip("ray")
pytest.importorskip("ray.util.client")
pytest.importorskip("grpc")     # the client extra (sessionlib[ray] installs ray[client])

import sessionlib as tf  # noqa: E402
from sessionlib import errors  # noqa: E402
from sessionlib.runtime import ray_runtime  # noqa: E402

from _device_helpers import kill_ray_device  # noqa: E402
from _ray_helpers import check_cross_device_step  # noqa: E402

WORKER = "/job:worker/replica:0/task:0/device:CPU:{}"
_START_TIMEOUT_S = 120
_actor_pids = set()      # the device actors the tests saw: the teardown checks them too


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _members_of_session(session_id):
    """The pids of the live processes of the session `session_id` (its leader's pid)."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # After the command: state, ppid, pgrp, session; a zombie is gone already.
        if int(fields[3]) == session_id and fields[0] != "Z":
            members.append(int(entry))
    return members


def _stop_session(leader, grace_s=10.0):
    """Stops every process of the session that `leader` (a Popen) leads; reaps the leader."""
    for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 10.0)):
        for pid in _members_of_session(leader.pid):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            leader.poll()
            if not _members_of_session(leader.pid):
                break
            time.sleep(0.2)
    leader.wait(10)
    return _members_of_session(leader.pid)


def _client_server_logs(temp_dir):
    """The end of the head's Ray Client server logs (why a connection failed)."""
    import glob

    texts = []
    for path in sorted(glob.glob(os.path.join(temp_dir, "session_latest", "logs",
                                              "ray_client_server*"))):
        with open(path, errors="replace") as text:
            texts.append(f"== {os.path.basename(path)}\n{text.read()[-2000:]}")
    return "\n".join(texts)


@pytest.fixture(scope="module")
def head():
    """``(target, temp dir)`` of a one-CPU head whose Ray Client server is on a free port."""
    ray_runtime.shutdown()   # (a test module before this one may have left it connected)
    temp_dir = tempfile.mkdtemp(prefix="slray-")   # short: Ray's socket paths must fit
    client_port = _free_port()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0")
    # The device actors import this checkout's sessionlib, as the client does.
    env["PYTHONPATH"] = root + (":" + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    log = open(os.path.join(temp_dir, "start.log"), "w")
    leader = subprocess.Popen(
        [sys.executable, "-m", "ray.scripts.scripts", "start", "--head", "--block",
         f"--port={_free_port()}", f"--ray-client-server-port={client_port}",
         # (The dashboard agent's HTTP port is fixed by default: other clusters may hold it.)
         f"--dashboard-agent-listen-port={_free_port()}",
         "--num-cpus=1", "--include-dashboard=false", "--disable-usage-stats",
         f"--temp-dir={temp_dir}", "--object-store-memory=200000000"],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + _START_TIMEOUT_S
        while True:
            try:
                socket.create_connection(("127.0.0.1", client_port), timeout=1).close()
                break
            except OSError:
                if leader.poll() is not None or time.monotonic() > deadline:
                    with open(log.name) as text:
                        pytest.fail(f"The Ray head did not start:\n{text.read()[-3000:]}")
                time.sleep(0.5)
        target = f"ray://ray://127.0.0.1:{client_port}"
        for attempt in range(2):
            # (On a loaded machine the head's per-client server has failed to start once
            # in a while; a second connection starts another one.)
            try:
                ray_runtime.connect(target, _START_TIMEOUT_S)
                break
            except errors.UnavailableError as err:
                if attempt:
                    pytest.fail(f"{err.message}\n{_client_server_logs(temp_dir)}")
        yield target
    finally:
        ray_runtime.shutdown()
        left = _stop_session(leader)
        log.close()
        subprocess.run(["rm", "-rf", temp_dir], check=False)
        left += [pid for pid in _actor_pids if os.path.exists(f"/proc/{pid}")]
        assert not left, f"Ray processes outlived the test: {left}"


def test_client_address_syntax():
    assert ray_runtime.is_client_address("ray://head:10001")
    assert not ray_runtime.is_client_address("head:6379")
    assert ray_runtime._probed_address("ray://head:10002") == "head:10002"
    assert ray_runtime._probed_address("ray://head") == f"head:{ray_runtime.CLIENT_PORT}"
    assert ray_runtime._probed_address("10.0.0.1:6379") == "10.0.0.1:6379"


def test_devices_and_steps_through_ray_client(head):
    with tf.Session(head, config=tf.ConfigProto(device_count={"CPU": 2})) as sess:
        listed = sess.list_devices()
    assert [d.name for d in listed] == [WORKER.format(0), WORKER.format(1)]
    pids = [d.pid for d in listed]
    assert len(set(pids)) == 2 and os.getpid() not in pids
    _actor_pids.update(pids)
    assert all(d.address for d in listed)
    check_cross_device_step(head)


def test_state_outlives_client_sessions_until_reset(head):
    with tf.device(WORKER.format(0)):
        v = tf.Variable(np.float32(1.0), name="client_v")
        bump = tf.assign_add(v, 2.0)
    config = tf.ConfigProto(device_count={"CPU": 1})
    with tf.Session(head, config=config) as sess:
        sess.run(v.initializer)
        assert sess.run(bump) == 3.0
    with tf.Session(head, config=config) as again:   # the actor kept the variable
        assert again.run(v) == 3.0
    tf.Session.reset(head)
    with tf.Session(head, config=config) as after:
        with pytest.raises(errors.FailedPreconditionError):
            after.run(v)


def test_a_second_address_is_refused_while_joined_through_the_client(head):
    with pytest.raises(errors.FailedPreconditionError, match="already runs on the Ray"):
        tf.Session("ray://local")


def test_traced_run_and_memory_through_ray_client(head):
    a = tf.placeholder(tf.float32, shape=[256], name="a")
    with tf.device(WORKER.format(0)):
        b = tf.multiply(a, 2.0, name="b")
    with tf.device(WORKER.format(1)):
        total = tf.reduce_sum(b, name="total")
    metadata = tf.RunMetadata()
    with tf.Session(head, config=tf.ConfigProto(device_count={"CPU": 2})) as sess:
        assert sess.run(total, {a: np.ones(256, np.float32)}, run_metadata=metadata,
                        options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)) == 512.0
        listed = sess.list_devices()
    assert sorted(stats.device for stats in metadata.step_stats.dev_stats) == [
        WORKER.format(0), WORKER.format(1)]
    (node,) = [node for stats in metadata.step_stats.dev_stats for node in stats.node_stats
               if node.node_name == "b"]
    assert node.timeline_label == "b = Mul(a, b/y)"
    assert node.output[0].tensor_description.allocation_description.requested_bytes == 1024
    assert node.memory[0].allocator_bytes_in_use >= 1024
    assert all(device.memory_limit_bytes > 0 and device.peak_bytes_in_use >= 0
               for device in listed)


def test_faults_and_deadlines_through_ray_client(head):
    a = tf.placeholder(tf.float32, shape=[], name="a")
    with tf.device(WORKER.format(0)):
        b = a + 1.0
        queue = tf.FIFOQueue(2, tf.float32, shared_name="client_empty_queue")
        take = queue.dequeue()
    with tf.device(WORKER.format(2)):
        c = b * 3.0
    config = tf.ConfigProto(device_count={"CPU": 3})
    sess = tf.Session(head, config=config)
    assert sess.run(c, {a: 1.0}) == 6.0
    old_pid = sess.list_devices()[2].pid
    _actor_pids.add(old_pid)
    # A run blocked on a device ends at its deadline, across the proxy too.
    with pytest.raises(errors.DeadlineExceededError):
        sess.run(take, options=tf.RunOptions(timeout_in_ms=500))
    kill_ray_device(WORKER.format(2), old_pid, ray_runtime.NAMESPACE)
    with pytest.raises((errors.UnavailableError, errors.AbortedError), match="CPU:2"):
        sess.run(c, {a: 2.0})
    sess.close()
    with tf.Session(head, config=config) as fresh:   # a new actor, its state lost
        new_pid = fresh.list_devices()[2].pid
        _actor_pids.add(new_pid)
        assert new_pid != old_pid
        assert fresh.run(c, {a: 3.0}) == 12.0
