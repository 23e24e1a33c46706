"""Emulated GPUs have a fixed share of the cores (runtime/cores.py): a GPU's leases are capped
at it, CPU devices still borrow idle cores, and ``SESSIONLIB_EMULATED_GPU_CORES`` sets it.

Leases are instrumented, not timed: the core budget records each slot's cap and the most cores
each slot held at once (``slot_high_water``), and each worker counts its leases.
"""

import numpy as np
import pytest

import sessionlib as tf
from sessionlib.runtime import cores, devices, settings

N = 1 << 21   # 8 MB of float32: far above the kernels' parallel thresholds
SIZE = 384    # a matmul of SIZE^3 multiply-adds leases BLAS threads (cores.BLAS_PARALLEL_WORK)


@pytest.fixture(autouse=True)
def _no_gpu_settings(monkeypatch):
    for name in ("SESSIONLIB_EMULATED_GPUS", "SESSIONLIB_EMULATED_GPU_CORES",
                 "SESSIONLIB_CORE_BUDGET"):
        monkeypatch.delenv(name, raising=False)


def _gpu_config(gpus=2, **kwargs):
    return tf.ConfigProto(device_count={"GPU": gpus}, **kwargs)


def _worker(sess, device):
    return sess._runtime.worker_of[f"/job:localhost/replica:0/task:0/device:{device}"]


def _stats(sess, device):
    reply = _worker(sess, device).request("stats")
    assert reply[0] == "stats"
    return reply[1]


def _heavy_graph(device, seed):
    """A fused chain with a full reduction over N floats and a big matmul, on `device`."""
    graph = tf.Graph()
    with graph.as_default(), tf.device(device):
        v = tf.Variable(tf.random_uniform([N], seed=seed))
        w = tf.Variable(tf.random_uniform([SIZE, SIZE], seed=seed + 1) / SIZE)
        outputs = [tf.reduce_sum(tf.exp(-tf.square(v * 2.0 + 1.0))),
                   tf.reduce_sum(tf.matmul(w, w))]
    return graph, [v.initializer, w.initializer], outputs, (v, w)


def _slot_high_water_after(sess, device, outputs, runs=3):
    """Runs `outputs` `runs` times; returns (the budget's state, the device's slot)."""
    budget = devices.pool().budget
    slot = _worker(sess, device).core_slot
    assert slot > 0
    budget.reset_high_water()
    for _ in range(runs):
        sess.run(outputs)
    return budget.state(), slot


def test_a_gpus_kernels_lease_at_most_its_share_of_the_cores():
    share = cores.gpu_cores(2)
    assert share == max(1, cores.budget_cores() // 2)
    graph, initializers, outputs, (v, w) = _heavy_graph("/gpu:0", seed=1)
    with tf.Session(graph=graph, config=_gpu_config()) as sess:
        sess.run(initializers)
        v_value, w_value = sess.run([v, w])
        before = _stats(sess, "GPU:0")["cores"]["leases"]
        state, slot = _slot_high_water_after(sess, "GPU:0", outputs)
        got = sess.run(outputs)
        stats = _stats(sess, "GPU:0")["cores"]
    assert state["caps"][slot] == share == stats["cap"]
    # Its parallel kernels did lease (a cap of 1 too), and never held more than the share.
    assert stats["leases"] >= before + 3
    assert 1 <= state["slot_high_water"][slot] <= share
    assert stats["most"] <= share
    assert state["free"] == state["total"]
    np.testing.assert_allclose(got[0], np.exp(-np.square(v_value * 2.0 + 1.0)).sum(),
                               rtol=1e-4)
    np.testing.assert_allclose(got[1], (w_value @ w_value).sum(), rtol=1e-4)


def test_a_cpu_device_still_borrows_the_idle_gpus_cores():
    graph, initializers, outputs, _ = _heavy_graph("/cpu:0", seed=3)
    with tf.Session(graph=graph, config=_gpu_config()) as sess:
        sess.run(initializers)
        state, slot = _slot_high_water_after(sess, "CPU:0", outputs)
    # The GPUs have nothing to do: their lanes sleep, and CPU:0 (no cap) gets every core.
    assert state["caps"][slot] == 0
    assert state["slot_high_water"][slot] == state["total"]


def test_the_gpu_cores_setting_sets_each_gpus_share(monkeypatch):
    monkeypatch.setenv("SESSIONLIB_EMULATED_GPU_CORES", "2")
    share = min(2, cores.budget_cores())
    graph, initializers, outputs, _ = _heavy_graph("/gpu:1", seed=5)
    with tf.Session(graph=graph, config=_gpu_config()) as sess:
        sess.run(initializers)
        state, slot = _slot_high_water_after(sess, "GPU:1", outputs)
        listed = sess.list_devices()
    assert state["caps"][slot] == share
    # Alone on the machine, the GPU leases its whole share (here more than the default).
    assert state["slot_high_water"][slot] == share
    assert [d.physical_device_desc.split(", ")[-2] for d in listed[1:]] == [
        f"cores: {share}"] * 2


def test_one_gpu_has_every_core_of_the_budget():
    assert cores.gpu_cores(1) == cores.budget_cores()
    assert cores.gpu_cores(0) == 0
    # More GPUs than cores: each still has one.
    assert cores.gpu_cores(cores.budget_cores() + 3) == 1


def test_the_gpu_cores_setting_is_read_and_checked():
    assert settings.emulated_gpu_cores({}) is None
    assert settings.emulated_gpu_cores({"SESSIONLIB_EMULATED_GPU_CORES": " "}) is None
    assert settings.emulated_gpu_cores({"SESSIONLIB_EMULATED_GPU_CORES": "3"}) == 3
    for bad in ("0", "-1", "two", "1.5"):
        with pytest.raises(ValueError, match="SESSIONLIB_EMULATED_GPU_CORES"):
            settings.emulated_gpu_cores({"SESSIONLIB_EMULATED_GPU_CORES": bad})
    # Never more than the budget has.
    assert cores.gpu_cores(2, {"SESSIONLIB_EMULATED_GPU_CORES": "100"}) == cores.budget_cores()


def test_a_bad_gpu_cores_setting_fails_the_session(monkeypatch):
    monkeypatch.setenv("SESSIONLIB_EMULATED_GPU_CORES", "many")
    with pytest.raises(ValueError, match="SESSIONLIB_EMULATED_GPU_CORES"):
        tf.Session(config=_gpu_config())


def test_fixed_threads_give_a_gpu_at_most_its_share():
    threads = cores.machine_cores() + 1
    config = _gpu_config(intra_op_parallelism_threads=threads)
    with tf.Session(config=config) as sess:
        kernel_threads = {device: _stats(sess, device)["kernel_threads"]
                          for device in ("CPU:0", "GPU:0", "GPU:1")}
        listed = sess.list_devices()
    share = cores.gpu_cores(2)
    assert kernel_threads == {"CPU:0": threads, "GPU:0": share, "GPU:1": share}
    assert listed[0].physical_device_desc == ""
    assert listed[1].physical_device_desc.endswith(f", cores: {share}, pid: {listed[1].pid}")
