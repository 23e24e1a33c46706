"""Helpers shared by the device-runtime tests (workers, shared memory, partitions, faults)."""

import os
import signal
import subprocess
import sys
import time

import sessionlib as tf

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def two_devices(**kwargs):
    """A ConfigProto with CPU:0 and CPU:1."""
    return tf.ConfigProto(device_count={"CPU": 2}, **kwargs)


def cross_device_graph():
    """(a, c): a fed scalar `a` read on CPU:0 and passed on to `c` on CPU:1, so that running
    `c` crosses one device edge."""
    a = tf.placeholder(tf.float32, shape=[], name="a")
    with tf.device("/cpu:0"):
        b = tf.identity(a, name="b")
    with tf.device("/cpu:1"):
        c = tf.identity(b, name="c")
    return a, c


def wait_until(predicate, timeout_s=10.0, interval_s=0.02):
    """Polls `predicate` until it is true or `timeout_s` passes; returns its last value."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval_s)


def pid_alive(pid):
    """Whether `pid` runs (zombies count as dead)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def error_of(function, *args):
    """The exception `function(*args)` raises, or None (for runs in a thread)."""
    try:
        function(*args)
    except Exception as err:  # noqa: BLE001 - the caller checks which
        return err
    return None


def kill_ray_device(device, pid, namespace):
    """Kills the Ray actor of `device` (named in `namespace`) and waits until its process
    `pid` is gone: `ray.kill` only asks Ray to end it, and on the same-node path a device is
    lost when its process is (a run posted in between is still served)."""
    import ray

    ray.kill(ray.get_actor("device" + device, namespace=namespace))
    assert wait_until(lambda: not pid_alive(pid), 30), f"actor {pid} of {device} still runs"


def run_python(code, timeout_s=60):
    """Runs `code` in a fresh interpreter with the repo on the path; returns the result."""
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=timeout_s, env=env, cwd=REPO)


def kill(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
