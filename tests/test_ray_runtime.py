"""Sessions on a real local Ray instance (``ray://local``): devices, steps, state, faults.

One Ray instance serves the whole module (starting one takes seconds) and is shut down at its
end. Each device is a named, detached actor, so the tests use device names the way a cluster's
users do: a test that kills an actor uses a device (CPU:2) that no other test needs. Skipped
when Ray is not installed (``pip install 'sessionlib[ray]'``).
"""

import os
import time

import numpy as np
import pytest

ray = pytest.importorskip("ray")

import sessionlib as tf  # noqa: E402
from sessionlib import errors  # noqa: E402
from sessionlib.runtime import ray_fastpath, ray_runtime  # noqa: E402
from _device_helpers import error_of, kill_ray_device, wait_until  # noqa: E402

from _ray_helpers import check_cross_device_step, local_cluster  # noqa: E402,F401

TARGET = "ray://local"
WORKER = "/job:worker/replica:0/task:0/device:CPU:{}"


def _lane_runs():
    """How many steps this process has posted to actors over shared-memory lanes."""
    return ray_fastpath.client_stats().get("lane_runs", 0)


def devices(count=2, **kwargs):
    return tf.ConfigProto(device_count={"CPU": count}, **kwargs)


def test_list_devices_names_each_actor_with_its_pid_and_address():
    with tf.Session(TARGET, config=devices(2)) as sess:
        listed = sess.list_devices()
    assert [d.name for d in listed] == [WORKER.format(0), WORKER.format(1)]
    assert [d.device_type for d in listed] == ["CPU", "CPU"]
    pids = [d.pid for d in listed]
    assert len(set(pids)) == 2 and os.getpid() not in pids
    assert all(d.address for d in listed)
    # A later session reuses the actors (they outlive sessions, as TF's workers do).
    with tf.Session(TARGET, config=devices(2)) as again:
        assert [d.pid for d in again.list_devices()] == pids


def test_cross_device_step_moves_tensors_between_actors():
    check_cross_device_step(TARGET)


def test_a_control_dependency_across_devices():
    with tf.device(WORKER.format(0)):
        v = tf.Variable(1.0, name="ctl_v")
        bump = tf.assign_add(v, 1.0)
    with tf.device(WORKER.format(1)):
        with tf.control_dependencies([bump]):
            after = tf.constant(7.0)
    with tf.Session(TARGET, config=devices(2)) as sess:
        sess.run(v.initializer)
        assert sess.run(after) == 7.0
        assert sess.run(v) == 2.0


def test_variables_live_on_their_actor_and_outlive_sessions_until_reset():
    with tf.device(WORKER.format(1)):
        v = tf.Variable(10.0, name="shared_v")
        inc = tf.assign_add(v, 5.0)
    with tf.Session(TARGET, config=devices(2)) as first:
        first.run(v.initializer)
        assert first.run(inc) == 15.0
    # A second session on the target sees the value (TF's distributed default container).
    second = tf.Session(TARGET, config=devices(2))
    assert second.run(v) == 15.0
    tf.Session.reset(TARGET, containers=["elsewhere"])   # another container: v stays
    with pytest.raises(errors.CancelledError):           # ... and the sessions are closed
        second.run(v)
    with tf.Session(TARGET, config=devices(2)) as third:
        assert third.run(v) == 15.0
        tf.Session.reset(TARGET, containers=[""])        # the default container: v goes
    with tf.Session(TARGET, config=devices(2)) as fourth:
        with pytest.raises(errors.FailedPreconditionError, match="shared_v"):
            fourth.run(v)


def test_a_kernel_error_names_its_op_and_device():
    x = tf.placeholder(tf.float32, shape=[None], name="x")
    with tf.device(WORKER.format(0)):
        y = x * 2.0
    with tf.device(WORKER.format(1)):
        z = tf.reshape(y, [3], name="bad_reshape")
    with tf.Session(TARGET, config=devices(2)) as sess:
        with pytest.raises(errors.InvalidArgumentError) as caught:
            sess.run(z, {x: np.ones(4, np.float32)})
        assert caught.value.op.name == "bad_reshape"
        assert "CPU:1" in str(caught.value)
        np.testing.assert_array_equal(sess.run(z, {x: np.ones(3, np.float32)}), [2, 2, 2])


def test_run_timeout_fails_a_blocked_device_without_a_hang():
    with tf.device(WORKER.format(1)):
        queue = tf.FIFOQueue(2, tf.float32, name="ray_q")
        take = queue.dequeue()
    with tf.Session(TARGET, config=devices(2)) as sess:
        start = time.monotonic()
        with pytest.raises(errors.DeadlineExceededError):
            sess.run(take, options=tf.RunOptions(timeout_in_ms=500))
        assert time.monotonic() - start < 5


def test_a_killed_actor_fails_the_run_and_the_next_session_recreates_it():
    a = tf.placeholder(tf.float32, shape=[], name="a")
    with tf.device(WORKER.format(0)):
        b = a + 1.0
    with tf.device(WORKER.format(2)):
        c = b * 3.0
    sess = tf.Session(TARGET, config=devices(3))
    assert sess.run(c, {a: 1.0}) == 6.0
    old_pid = sess.list_devices()[2].pid
    kill_ray_device(WORKER.format(2), old_pid, ray_runtime.NAMESPACE)
    start = time.monotonic()
    with pytest.raises((errors.UnavailableError, errors.AbortedError), match="CPU:2"):
        sess.run(c, {a: 2.0})
    assert time.monotonic() - start < 5
    sess.close()
    with tf.Session(TARGET, config=devices(3)) as fresh:
        assert fresh.list_devices()[2].pid != old_pid
        assert fresh.run(c, {a: 3.0}) == 12.0


def two_tasks(**kwargs):
    config = tf.ConfigProto(**kwargs)
    job = config.cluster_def.job.add(name="worker")
    job.tasks[0], job.tasks[1] = "here:0", "here:1"
    return config


def test_tasks_on_one_node_are_bundles_of_their_own_placement_groups():
    a = tf.placeholder(tf.float32, shape=[], name="a")
    with tf.device("/job:worker/task:1"):
        b = a * 10.0
    with tf.device("/job:worker/task:0"):
        c = b + 1.0
    with tf.Session(TARGET, config=two_tasks(device_count={"CPU": 1})) as sess:
        listed = sess.list_devices()
        assert sess.run(c, {a: 4.0}) == 41.0
    here = ray.get_runtime_context().get_node_id()
    assert [d.node_id for d in listed] == [here, here]
    table = ray.util.placement_group_table()
    groups = [table[d.placement_group] for d in listed]
    assert [group["name"] for group in groups] == [ray_runtime.GROUP_PREFIX + "0",
                                                  ray_runtime.GROUP_PREFIX + "1"]
    for group in groups:    # detached: they stay after the session, as their devices do
        assert group["state"] == "CREATED" and group["bundles_to_node_id"] == {0: here}
        assert group["bundles"] == {0: ray_runtime.TASK_BUNDLE}
    assert len({d.pid for d in listed}) == 2


def test_a_task_that_cannot_be_placed_is_unavailable_within_the_timeout(monkeypatch):
    # A bundle no node can hold: the session gives up at the operation timeout, and leaves
    # no group behind.
    monkeypatch.setattr(ray_runtime, "TASK_BUNDLE", {"memory": float(1 << 60)})
    config = tf.ConfigProto(operation_timeout_in_ms=1000)
    config.cluster_def.job.add(name="worker").tasks[7] = "nowhere:0"
    start = time.monotonic()
    with pytest.raises(errors.UnavailableError, match="placement group of task 7"):
        tf.Session(TARGET, config=config)
    assert time.monotonic() - start < 10
    assert not [entry for entry in ray.util.placement_group_table().values()
                if entry["name"] == ray_runtime.GROUP_PREFIX + "7"
                and entry["state"] != "REMOVED"]


GPU_TASK1 = "/job:worker/replica:0/task:1/device:GPU:{}"


def test_emulated_gpus_on_every_task_list_place_and_run():
    from sessionlib.runtime import memory

    config = two_tasks(device_count={"CPU": 1, "GPU": 2})
    with tf.device("/job:worker/task:1/device:GPU:0"):
        x = tf.constant(np.arange(6, dtype=np.float32).reshape(2, 3), name="x")
        product = tf.matmul(x, x, transpose_b=True, name="product")
    with tf.device("/job:worker/task:0/device:GPU:1"):
        total = tf.reduce_sum(product, name="total")
    with tf.Session(TARGET, config=config) as sess:
        listed = sess.list_devices()
        assert [d.name for d in listed] == [
            WORKER.format(0), "/job:worker/replica:0/task:0/device:GPU:0",
            "/job:worker/replica:0/task:0/device:GPU:1",
            "/job:worker/replica:0/task:1/device:CPU:0", GPU_TASK1.format(0),
            GPU_TASK1.format(1)]
        assert [d.device_type for d in listed] == ["CPU", "GPU", "GPU"] * 2
        # Each task's GPUs share its machine's memory, as a local session's GPUs do.
        gpu_limit = memory.default_memory_limit("GPU", 2)
        assert [d.memory_limit_bytes for d in listed if d.device_type == "GPU"] == [
            gpu_limit] * 4
        assert len({d.pid for d in listed}) == 6
        value = np.arange(6, dtype=np.float32).reshape(2, 3)
        assert sess.run(total) == pytest.approx(float(np.sum(value @ value.T)))
        assert sess._runtime.place([product.op, total.op]) == [
            GPU_TASK1.format(0), "/job:worker/replica:0/task:0/device:GPU:1"]


def test_ops_without_gpu_kernels_follow_the_local_soft_placement_rules():
    with tf.device("/job:worker/task:1/device:GPU:0"):
        joined = tf.reduce_join(tf.constant(["a", "b"]), name="joined")
        doubled = tf.multiply(tf.constant(2.0), 3.0, name="doubled")
    unpinned = tf.Variable(0, name="count")      # int32: no GPU kernel, as in TF
    gpus = {"CPU": 1, "GPU": 1}
    with tf.Session(TARGET, config=two_tasks(device_count=gpus)) as sess:
        with pytest.raises(errors.InvalidArgumentError, match="no supported kernel for GPU"):
            sess.run(joined)
    soft = two_tasks(device_count=gpus, allow_soft_placement=True)
    with tf.Session(TARGET, config=soft) as sess:
        assert sess.run([joined, doubled]) == [b"ab", 6.0]
        assert sess._runtime.place([joined.op, doubled.op, unpinned.op]) == [
            "/job:worker/replica:0/task:1/device:CPU:0", GPU_TASK1.format(0),
            WORKER.format(0)]


def test_readme_scale_out_example(capsys):
    """The README's "Scale out" block (a ```py block: test_readme.py runs ```python blocks
    without Ray) runs here, on the module's instance, and prints what it says."""
    import re

    readme = open(os.path.join(os.path.dirname(__file__), "..", "README.md")).read()
    section = re.search(r"^## Scale out\n(.*?)^## ", readme, re.M | re.S).group(1)
    source = re.search(r"^```py\n(.*?)^```", section, re.M | re.S).group(1)
    exec(compile(source, "README.md scale out", "exec"), {"__name__": "__main__"})
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines[:2]] == [WORKER.format(0), WORKER.format(1)]
    assert lines[2] == "41.0"


def test_close_cancels_a_run_in_flight_on_the_actors():
    import threading

    with tf.device(WORKER.format(1)):
        queue = tf.FIFOQueue(2, tf.float32, name="close_q")
        take = queue.dequeue()
    sess = tf.Session(TARGET, config=devices(2))
    outcome = []

    def blocked_run():
        try:
            sess.run(take)
            outcome.append("returned")
        except Exception as err:  # noqa: BLE001 - the test checks which
            outcome.append(err)

    runner = threading.Thread(target=blocked_run)
    dispatched = _lane_runs()
    runner.start()
    # A close before the run passes its open check would be run's RuntimeError: wait until
    # the run is posted to the actors (the local actors serve lanes), not a fixed time.
    assert wait_until(lambda: _lane_runs() > dispatched, 60)
    start = time.monotonic()
    sess.close()
    runner.join(10)
    assert not runner.is_alive() and time.monotonic() - start < 5
    assert isinstance(outcome[0], errors.CancelledError), outcome


def test_a_device_killed_during_a_run_fails_the_devices_that_wait_for_it():
    # CPU:3 blocks in a dequeue; CPU:0 waits for its value. CPU:3's actor is killed meanwhile.
    with tf.device(WORKER.format(3)):
        queue = tf.FIFOQueue(2, tf.float32, name="kill_q")
        taken = queue.dequeue()
    with tf.device(WORKER.format(0)):
        out = taken + 1.0
    import threading

    sess = tf.Session(TARGET, config=devices(4))
    outcome = []
    runner = threading.Thread(target=lambda: outcome.append(error_of(sess.run, out)))
    dispatched = _lane_runs()
    runner.start()
    # Kill only once the run is posted to the actors (a fixed sleep could kill first on a slow
    # machine, and test the session's start instead of a run in flight).
    assert wait_until(lambda: _lane_runs() > dispatched, 60)
    ray.kill(ray.get_actor("device" + WORKER.format(3), namespace=ray_runtime.NAMESPACE))
    start = time.monotonic()
    runner.join(10)
    assert not runner.is_alive() and time.monotonic() - start < 5
    assert isinstance(outcome[0], (errors.UnavailableError, errors.AbortedError)), outcome
    assert "CPU:3" in str(outcome[0])
    sess.close()


def test_small_and_large_values_of_each_kind_cross_intact():
    # Small arrays travel inside the messages, large ones and strings as Ray objects.
    feeds = {
        "f32": np.arange(6, dtype=np.float32).reshape(2, 3),
        "i64": np.array([1 << 40, -3], np.int64),
        "flag": np.array([True, False]),
        "empty": np.zeros((0, 4), np.float64),
        "big": np.arange(20000, dtype=np.int32),
        "text": np.array([b"ab", b"cde"], dtype=object),
    }
    holders, outs = {}, {}
    for name, value in feeds.items():
        dtype = tf.string if value.dtype == object else tf.as_dtype(value.dtype)
        holders[name] = tf.placeholder(dtype, shape=value.shape, name=name)
        with tf.device(WORKER.format(0)):
            first = tf.identity(holders[name])
        with tf.device(WORKER.format(1)):
            outs[name] = tf.identity(first)
    with tf.Session(TARGET, config=devices(2)) as sess:
        got = sess.run(outs, {holders[name]: value for name, value in feeds.items()})
        fed_back = sess.run(holders["i64"], {holders["i64"]: feeds["i64"]})
    for name, value in feeds.items():
        assert got[name].dtype == value.dtype and got[name].shape == value.shape, name
        np.testing.assert_array_equal(got[name], value)
    np.testing.assert_array_equal(fed_back, feeds["i64"])


def test_release_ends_the_devices_and_their_placement_groups():
    with tf.device(WORKER.format(0)):
        v = tf.Variable(3.0, name="released_v")
    with tf.Session(TARGET, config=two_tasks(device_count={"CPU": 1})) as sess:
        sess.run(v.initializer)
        old_pids = [d.pid for d in sess.list_devices()]
    ray_runtime.release(TARGET)
    assert not [entry for entry in ray.util.list_named_actors(all_namespaces=True)
                if entry["namespace"] == ray_runtime.NAMESPACE]
    assert all(entry["state"] == "REMOVED"
               for entry in ray.util.placement_group_table().values()
               if entry["name"].startswith(ray_runtime.GROUP_PREFIX))
    # The next session starts the devices anew, in new groups; their state is gone.
    with tf.Session(TARGET, config=two_tasks(device_count={"CPU": 1})) as sess:
        listed = sess.list_devices()
        assert not set(d.pid for d in listed) & set(old_pids)
        assert all(d.placement_group for d in listed)
        with pytest.raises(errors.FailedPreconditionError, match="released_v"):
            sess.run(v)
