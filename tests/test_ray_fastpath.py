"""The same-node path of the Ray runtime (``runtime/ray_fastpath.py``) on a real local Ray
instance: which route a step takes (by the counters of the client and the actors, never by
timing), and that dead actors and dead clients leave no wait hanging and nothing in /dev/shm.

One Ray instance serves the module and is shut down at its end. Skipped without Ray.
"""

import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

ray = pytest.importorskip("ray")

import sessionlib as tf  # noqa: E402
from sessionlib import errors  # noqa: E402
from sessionlib.runtime import channel, ray_fastpath, ray_runtime, shm  # noqa: E402
from _device_helpers import error_of, kill_ray_device, wait_until  # noqa: E402
from _ray_helpers import local_cluster  # noqa: E402,F401 - the module's Ray instance

# (SESSIONLIB_RAY_FAST_PATH=0 runs the other Ray tests on Ray's path alone.)
pytestmark = pytest.mark.skipif(not ray_fastpath.ENABLED, reason="the same-node path is off")

TARGET = "ray://local"
WORKER = "/job:worker/replica:0/task:0/device:CPU:{}"


def devices(count):
    return tf.ConfigProto(device_count={"CPU": count})


def _actor(device):
    return ray.get_actor("device" + device, namespace=ray_runtime.NAMESPACE)


def _actor_stats(device):
    return ray.get(_actor(device).fast_path_stats.remote(), timeout=30)


def _segments_of(pid):
    prefix = f"{shm.PREFIX}{pid}_"
    return sorted(name for name in os.listdir(shm.SHM_DIR) if name.startswith(prefix))


def _cross_device_graph():
    a = tf.placeholder(tf.float32, shape=[None], name="a")
    with tf.device(WORKER.format(0)):
        b = tf.square(a)
    with tf.device(WORKER.format(1)):
        c = b + a
        total = tf.reduce_sum(c)
    return a, c, total


def test_steps_on_the_clients_node_run_through_lanes_and_shared_memory():
    a, c, total = _cross_device_graph()
    big = np.linspace(-1, 1, 1 << 20).astype(np.float32)   # 4 MB: an arena block, no copy
    with tf.Session(TARGET, config=devices(2)) as sess:
        before = ray_fastpath.client_stats().get("lane_runs", 0)
        sends = _actor_stats(WORKER.format(0)).get("shm_sends", 0)
        out, s = sess.run([c, total], {a: big})
        np.testing.assert_allclose(out, big * big + big, rtol=1e-6)
        assert s == pytest.approx(float(np.sum(big * big + big)), rel=1e-4)
        out[0] = 7.0              # a fetched array is the caller's to write
        small = np.arange(4, dtype=np.float32)
        np.testing.assert_array_equal(sess.run(c, {a: small}), small * small + small)
        assert ray_fastpath.client_stats()["lane_runs"] == before + 2
        # CPU:0 sent `b` to CPU:1 through the rendezvous, once per run (not through Ray).
        assert _actor_stats(WORKER.format(0))["shm_sends"] == sends + 2
        assert _actor_stats(WORKER.format(1))["clients"] >= 1


def test_a_variable_sent_every_step_leaves_no_lease_behind():
    # A read-only tensor (a variable's read) is sent as a shared snapshot with a reservation
    # of the sender's; a step that kept it would leave each step's block leased.
    with tf.device(WORKER.format(0)):
        weights = tf.Variable(np.linspace(0, 1, 1 << 16, dtype=np.float32), name="fast_w")
    with tf.device(WORKER.format(1)):
        total = tf.reduce_sum(weights.read_value() * 2.0)
    with tf.Session(TARGET, config=devices(2)) as sess:
        sess.run(weights.initializer)
        sess.run(total)
        leases = _actor_stats(WORKER.format(0))["leases"]
        sends = _actor_stats(WORKER.format(0))["shm_sends"]
        want = float(np.linspace(0, 1, 1 << 16).sum() * 2)
        for _ in range(20):
            assert sess.run(total) == pytest.approx(want, rel=1e-5)
        stats = _actor_stats(WORKER.format(0))
    assert stats["shm_sends"] == sends + 20       # through the rendezvous, not through Ray
    assert stats["leases"] <= leases + 1          # (the last one may still be open)


def test_with_the_same_node_path_off_steps_run_on_ray(monkeypatch):
    monkeypatch.setattr(ray_fastpath, "ENABLED", False)
    a, c, total = _cross_device_graph()
    values = np.arange(5, dtype=np.float32)
    with tf.Session(TARGET, config=devices(2)) as sess:
        before = ray_fastpath.client_stats().get("lane_runs", 0)
        sends = _actor_stats(WORKER.format(0)).get("shm_sends", 0)
        out, s = sess.run([c, total], {a: values})
        np.testing.assert_array_equal(out, values * values + values)
        assert s == float(np.sum(values * values + values))
        assert ray_fastpath.client_stats().get("lane_runs", 0) == before
        assert _actor_stats(WORKER.format(0)).get("shm_sends", 0) == sends


def test_errors_deadlines_and_state_on_the_same_node_path():
    x = tf.placeholder(tf.float32, shape=[None], name="x")
    with tf.device(WORKER.format(0)):
        v = tf.Variable(1.0, name="fast_v")
        bump = tf.assign_add(v, 1.0)
        y = x * 2.0
    with tf.device(WORKER.format(1)):
        z = tf.reshape(y, [3], name="fast_reshape")
        queue = tf.FIFOQueue(2, tf.float32, name="fast_q")
        take = queue.dequeue()
    with tf.Session(TARGET, config=devices(2)) as sess:
        before = ray_fastpath.client_stats().get("lane_runs", 0)
        sess.run(v.initializer)
        assert sess.run(bump) == 2.0 and sess.run(v) == 2.0
        with pytest.raises(errors.InvalidArgumentError) as caught:
            sess.run(z, {x: np.ones(4, np.float32)})
        assert caught.value.op.name == "fast_reshape" and "CPU:1" in str(caught.value)
        np.testing.assert_array_equal(sess.run(z, {x: np.ones(3, np.float32)}), [2, 2, 2])
        with pytest.raises(errors.DeadlineExceededError):
            sess.run(take, options=tf.RunOptions(timeout_in_ms=300))
        assert ray_fastpath.client_stats()["lane_runs"] >= before + 6


def test_a_device_killed_mid_run_fails_the_run_and_its_segments_go():
    # CPU:3 blocks in a dequeue and CPU:0 waits for its value, both on lanes; CPU:3 dies.
    with tf.device(WORKER.format(3)):
        queue = tf.FIFOQueue(2, tf.float32, name="fast_kill_q")
        taken = queue.dequeue()
        big = tf.fill([1 << 20], 2.0)
    with tf.device(WORKER.format(0)):
        out = taken + 1.0
        total = tf.reduce_sum(big)
    sess = tf.Session(TARGET, config=devices(4))
    assert sess.run(total) == float(2 << 20)   # CPU:3's arena now has segments
    pid = sess.list_devices()[3].pid
    assert _segments_of(pid)
    outcome = []
    runner = threading.Thread(target=lambda: outcome.append(error_of(sess.run, out)))
    before = ray_fastpath.client_stats().get("lane_runs", 0) + 1
    runner.start()
    # Kill once the run is on the lanes, not after a fixed sleep: a slow machine could kill
    # first, or count the run after `before` was read.
    assert wait_until(lambda: ray_fastpath.client_stats()["lane_runs"] == before, 60)
    kill_ray_device(WORKER.format(3), pid, ray_runtime.NAMESPACE)
    start = time.monotonic()
    runner.join(10)
    assert not runner.is_alive() and time.monotonic() - start < 5
    assert isinstance(outcome[0], errors.UnavailableError), outcome
    assert "CPU:3" in str(outcome[0])
    assert _segments_of(pid) == []      # the client removed what the dead actor left
    # The session now goes to Ray for that device, which names it too.
    with pytest.raises((errors.UnavailableError, errors.AbortedError), match="CPU:3"):
        sess.run(out)
    assert ray_fastpath.client_stats()["lane_runs"] == before
    sess.close()
    with tf.Session(TARGET, config=devices(4)) as fresh:
        assert fresh.list_devices()[3].pid != pid
        assert fresh.run(total) == float(2 << 20)
        assert ray_fastpath.client_stats()["lane_runs"] == before + 1


_FAKE_CLIENT = """
import sys
from sessionlib.runtime import channel
block, rendezvous = channel.LaneBlock(None, 2, channel.GROWN_SLOT_BYTES), channel.Rendezvous()
print(block.name, rendezvous.name, flush=True)
sys.stdin.read()
"""


def test_an_actor_drops_a_killed_client_and_unlinks_its_segments():
    with tf.Session(TARGET, config=devices(2)) as sess:
        sess.run(tf.constant(1.0))      # the actors of CPU:0 and CPU:1 run
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    client = subprocess.Popen([sys.executable, "-c", _FAKE_CLIENT], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env=env)
    try:
        block_name, rendezvous_name = client.stdout.readline().split()
        device = WORKER.format(1)
        clients = _actor_stats(device)["clients"]
        reply = ray.get(_actor(device).attach_lanes.remote(
            client.pid, block_name, 2, channel.GROWN_SLOT_BYTES, rendezvous_name), timeout=30)
        assert reply[0] == "ok"
        assert _actor_stats(device)["clients"] == clients + 1
        assert len(_segments_of(client.pid)) == 2
        client.kill()
        client.wait(10)
        # The actor notices within its check interval, stops serving and cleans up.
        assert wait_until(lambda: _actor_stats(device)["clients"] == clients)
        assert wait_until(lambda: _segments_of(client.pid) == [])
    finally:
        if client.poll() is None:
            client.kill()
            client.wait(10)
        shm.unlink_segments_of(client.pid)


def test_an_actor_refuses_lanes_it_cannot_map():
    with tf.Session(TARGET, config=devices(1)) as sess:
        sess.run(tf.constant(1.0))
    reply = ray.get(_actor(WORKER.format(0)).attach_lanes.remote(
        os.getpid(), f"{shm.PREFIX}{os.getpid()}_0badc0de", 2, channel.GROWN_SLOT_BYTES,
        f"{shm.PREFIX}{os.getpid()}_0badc0df"), timeout=30)
    assert reply[0] == "error"
    # ... and the lanes it serves this client on stay: the next steps still take them.
    with tf.Session(TARGET, config=devices(1)) as sess:
        before = ray_fastpath.client_stats()["lane_runs"]
        assert sess.run(tf.constant(2.0) * 3.0) == 6.0
        assert ray_fastpath.client_stats()["lane_runs"] == before + 1


def test_runs_beyond_the_lanes_of_a_device_go_to_ray():
    # More concurrent runs than a device has lanes: the extra ones (and the enqueues, while
    # every lane waits in a dequeue) run on Ray, and every value arrives once.
    with tf.device(WORKER.format(0)):
        queue = tf.FIFOQueue(16, tf.float32, name="fast_many_q")
        value = tf.placeholder(tf.float32, [], name="fast_many_v")
        put = queue.enqueue(value)
        take = queue.dequeue()
    count = ray_fastpath.LANES + 2
    with tf.Session(TARGET, config=devices(1)) as sess:
        stats = ray_fastpath.client_stats()
        lane_runs, ray_runs = stats.get("lane_runs", 0), stats.get("ray_runs", 0)
        taken = []
        runners = [threading.Thread(target=lambda: taken.append(float(sess.run(take))))
                   for _ in range(count)]
        for runner in runners:
            runner.start()
        assert wait_until(lambda: ray_fastpath.client_stats().get("lane_runs", 0)
                          >= lane_runs + ray_fastpath.LANES)
        for index in range(count):
            sess.run(put, {value: float(index)})
        for runner in runners:
            runner.join(30)
        assert not any(runner.is_alive() for runner in runners)
        assert sorted(taken) == [float(index) for index in range(count)]
        stats = ray_fastpath.client_stats()
        assert stats["ray_runs"] >= ray_runs + 2
        assert stats["lane_runs"] >= lane_runs + ray_fastpath.LANES


def test_a_run_that_records_step_stats_takes_rays_path():
    a, c, _ = _cross_device_graph()
    values = np.arange(3, dtype=np.float32)
    with tf.Session(TARGET, config=devices(2)) as sess:
        before = ray_fastpath.client_stats().get("lane_runs", 0)
        metadata = tf.RunMetadata()
        out = sess.run(c, {a: values}, options=tf.RunOptions(
            trace_level=tf.RunOptions.FULL_TRACE, output_partition_graphs=True),
            run_metadata=metadata)
        np.testing.assert_array_equal(out, values * values + values)
        assert len(metadata.partition_graphs) == 2
        assert ray_fastpath.client_stats().get("lane_runs", 0) == before
        # Partition graphs alone do not need Ray's path.
        metadata = tf.RunMetadata()
        sess.run(c, {a: values}, options=tf.RunOptions(output_partition_graphs=True),
                 run_metadata=metadata)
        assert len(metadata.partition_graphs) == 2
        assert ray_fastpath.client_stats()["lane_runs"] == before + 1
