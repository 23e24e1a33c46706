"""The core budget (runtime/cores.py): devices borrow idle cores, never oversubscribe busy ones,
and a dead worker's cores come back.

Leases are instrumented, not timed: the budget's high-water mark is the most cores held at
once, and each worker counts its leases and the most threads one lease got.
"""

import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import sessionlib as tf
from sessionlib import errors
from sessionlib.runtime import devices

from _device_helpers import kill, two_devices

N = 1 << 21   # 8 MB of float32: far above the kernels' parallel thresholds


def _stats(sess, index):
    reply = sess._runtime.workers[index].request("stats")
    assert reply[0] == "stats"
    return reply[1]["cores"]


def _budget():
    budget = devices.pool().budget
    assert budget is not None
    return budget


def _chain(seed):
    """A fused chain with a full reduction over a variable of N floats (one parallel kernel)."""
    v = tf.Variable(tf.random_uniform([N], seed=seed))
    return v, tf.reduce_sum(tf.exp(-tf.square(v * 2.0 + 1.0)))


def _graph(devices_of_chains):
    graph = tf.Graph()
    variables, outputs = [], []
    with graph.as_default():
        for index, device in enumerate(devices_of_chains):
            with tf.device(device):
                v, y = _chain(index + 1)
            variables.append(v)
            outputs.append(y)
    return graph, variables, outputs


def test_a_device_alone_leases_every_core():
    graph, variables, outputs = _graph(["/cpu:0"])
    with tf.Session(graph=graph, config=two_devices()) as sess:
        sess.run([v.initializer for v in variables])
        budget = _budget()
        budget.reset_high_water()
        before = _stats(sess, 0)["leases"]
        for _ in range(3):
            sess.run(outputs)
        stats = _stats(sess, 0)
        # CPU:1 has nothing to do: its lane sleeps, and CPU:0's chain gets every core.
        assert stats["attached"]
        assert stats["leases"] >= before + 3
        state = budget.state()
        assert state["high_water"] == state["total"]
        assert state["free"] == state["total"]   # all given back


def test_two_busy_devices_never_hold_more_than_the_cores():
    graph, variables, outputs = _graph(["/cpu:0", "/cpu:1"])
    with tf.Session(graph=graph, config=two_devices()) as sess:
        sess.run([v.initializer for v in variables])
        expected = sess.run(outputs)
        budget = _budget()
        budget.reset_high_water()
        for _ in range(15):
            np.testing.assert_allclose(sess.run(outputs), expected, rtol=1e-6)
        state = budget.state()
        stats = [_stats(sess, index) for index in range(2)]
    assert all(s["leases"] > 0 for s in stats)
    assert sum(s["forced"] for s in stats) == 0
    assert 1 <= state["high_water"] <= state["total"]
    assert state["free"] == state["total"]


def test_small_tensors_never_touch_the_budget():
    graph = tf.Graph()
    with graph.as_default(), tf.device("/cpu:0"):
        a = tf.placeholder(tf.float32, [1000])
        y = tf.reduce_sum(tf.exp(a * 2.0))
    with tf.Session(graph=graph, config=two_devices()) as sess:
        sess.run(y, {a: np.ones(1000, np.float32)})
        before = _stats(sess, 0)["leases"]
        for _ in range(20):
            sess.run(y, {a: np.ones(1000, np.float32)})
        assert _stats(sess, 0)["leases"] == before


def test_explicit_intra_op_threads_stay_outside_the_budget():
    graph, variables, outputs = _graph(["/cpu:0"])
    config = two_devices(intra_op_parallelism_threads=1)
    with tf.Session(graph=graph, config=config) as sess:
        sess.run([v.initializer for v in variables])
        sess.run(outputs)
        stats = _stats(sess, 0)
    assert not stats["attached"]


def test_a_big_matmul_leases_blas_threads():
    graph = tf.Graph()
    with graph.as_default(), tf.device("/cpu:0"):
        w = tf.Variable(tf.random_uniform([512, 512], seed=3))
        y = tf.matmul(tf.matmul(w, w), w)
    with tf.Session(graph=graph, config=two_devices()) as sess:
        sess.run(w.initializer)
        value = sess.run(w)
        budget = _budget()
        budget.reset_high_water()
        before = _stats(sess, 0)["leases"]
        got = sess.run(y)
        stats = _stats(sess, 0)
    np.testing.assert_allclose(got, value @ value @ value, rtol=1e-4)
    assert stats["leases"] >= before + 2
    assert budget.state()["high_water"] == budget.total


def test_a_dead_workers_leased_cores_come_back():
    size = 1536
    graph = tf.Graph()
    with graph.as_default(), tf.device("/cpu:0"):
        w = tf.Variable(tf.random_uniform([size, size], seed=4) / size)
        h = w
        for _ in range(40):          # long enough to be caught holding a lease
            h = tf.matmul(h, w)
        y = tf.reduce_sum(h)
    with tf.Session(graph=graph, config=two_devices()) as sess:
        sess.run(w.initializer)
        budget = _budget()
        worker = sess._runtime.workers[0]
        slot, pid = worker.core_slot, worker.pid
        assert slot > 0
        reclaimed = budget.reclaimed
        failure = []

        def run():
            try:
                sess.run(y)
            except errors.OpError as err:
                failure.append(err)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 60
        while budget.state()["held"][slot] == 0:
            assert thread.is_alive() and time.monotonic() < deadline, "no lease seen"
            time.sleep(0.0005)
        kill(pid)
        thread.join(60)
        assert not thread.is_alive()
        assert failure and isinstance(failure[0], errors.UnavailableError)
    # The client saw the death and cleared the worker's slot: its cores are back.
    assert budget.reclaimed > reclaimed
    state = budget.state()
    assert state["held"][slot] == 0
    assert state["free"] == state["total"]
    # A new session gets a fresh worker (in a free slot), and a lone device all the cores.
    graph, variables, outputs = _graph(["/cpu:0"])
    with tf.Session(graph=graph, config=two_devices()) as sess:
        sess.run([v.initializer for v in variables])
        sess.run(outputs)
        assert sess._runtime.workers[0].pid != pid
        assert _stats(sess, 0)["most"] == budget.total
    assert budget.state()["free"] == budget.total


def test_workers_start_with_openblas_threads_that_sleep_when_idle(monkeypatch):
    # Spinning BLAS threads would hold cores the budget has lent to another device, so
    # workers (and the forkserver) start with OpenBLAS's shortest idle timeout. The client's
    # own environment is left as it was, and a value the user set is kept.
    monkeypatch.delenv("OPENBLAS_THREAD_TIMEOUT", raising=False)
    with devices._main_hidden():
        assert os.environ["OPENBLAS_THREAD_TIMEOUT"] == str(devices.BLAS_THREAD_TIMEOUT) == "4"
    assert "OPENBLAS_THREAD_TIMEOUT" not in os.environ
    monkeypatch.setenv("OPENBLAS_THREAD_TIMEOUT", "10")
    with devices._main_hidden():
        assert os.environ["OPENBLAS_THREAD_TIMEOUT"] == "10"
    assert os.environ["OPENBLAS_THREAD_TIMEOUT"] == "10"


_OTHERS_FILL_CORES = """
import numpy as np
from sessionlib._core import cores

buffer = bytearray(cores.SEGMENT_BYTES)
assert not cores.others_fill_cores()          # not attached: spin as before
cores.attach(buffer, 1, total=2)
state = np.frombuffer(buffer, np.uint64, count=1)
AWAKE = 0x80

def fill(**slots):
    state[0] = sum(value << (8 * int(slot[1:])) for slot, value in slots.items())
    return cores.others_fill_cores()

print(fill(),                                  # nobody else awake
      fill(s0=AWAKE),                          # one other process awake: a core is idle
      fill(s0=AWAKE, s2=AWAKE),                # two others awake on two cores
      fill(s1=AWAKE, s2=AWAKE),                # this process's own bit does not count
      fill(s2=AWAKE | 2),                      # one other holds both cores in a lease
      fill(s1=2, s2=AWAKE | 1),                # this process's lease does not count
      cores.others_fill_cores(2),              # two workers just posted, bits not set yet
      cores.others_fill_cores(1))
"""


def test_a_wait_spins_only_while_a_core_is_idle():
    # A thread waiting for a message spins only when the other processes leave a core idle
    # (runtime/channel.py): its spin would otherwise slow one of them down. Run in a child
    # process, since attaching to a budget is process-wide.
    result = subprocess.run([sys.executable, "-c", _OTHERS_FILL_CORES], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False", "True", "False", "True", "False",
                                     "True", "False"]
