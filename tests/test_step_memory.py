"""Device memory in traced steps: per-node `memory` and `memory_stats`, and each device's peak.

A traced step fills, per node, TF's `AllocatorMemoryUsed` (``total_bytes``/``live_bytes``: what
the node allocated and still holds, ``peak_bytes``: the most it held, ``allocator_bytes_in_use``:
the device's account after it) and `MemoryStats.temp_memory_size` (what it took and gave back),
from the device's memory account (``runtime/memory.py``). `timeline.peak_memory` gives each
device's peak of the step; the Chrome trace (``show_memory=True``) and the SVG draw it.
TF 2.21's CPU steps fill ``memory`` with total/peak/live bytes as here and leave
``allocator_bytes_in_use`` at 0 (its CPU allocator keeps no statistics).
"""

import numpy as np
import pytest

import sessionlib as tf
from sessionlib.client import timeline

MIB = 1 << 20
LIMIT_MB = 64
PREFIX = "/job:localhost/replica:0/task:0/device:"


def _config(mode):
    config = tf.ConfigProto()
    config.pluggable_device_options.experimental.virtual_devices.add().memory_limit_mb.extend(
        [LIMIT_MB, LIMIT_MB])
    config.gpu_options.experimental.virtual_devices.add().memory_limit_mb.extend([LIMIT_MB])
    if mode == "two_devices":
        config.device_count["CPU"] = 2
    elif mode == "gpu":
        config.device_count["GPU"] = 1
    return config


@pytest.fixture(params=["local", "worker", "two_devices", "gpu"])
def mode(request, monkeypatch):
    monkeypatch.setenv("SESSIONLIB_WORKERS", "0" if request.param == "local" else "1")
    monkeypatch.delenv("SESSIONLIB_EMULATED_GPUS", raising=False)
    return request.param


def _devices(mode):
    """The two devices the towers use (one device twice when the session has one)."""
    return {"two_devices": ("CPU:0", "CPU:1"), "gpu": ("CPU:0", "GPU:0")}.get(
        mode, ("CPU:0", "CPU:0"))


def _traced_step(mode):
    graph = tf.Graph()
    first, second = _devices(mode)
    with graph.as_default():
        x = tf.placeholder(tf.float32, [1024, 256], name="x")
        with tf.device(first):
            a = tf.matmul(x, tf.ones([256, 512]), name="a")          # 2 MiB
            a_sum = tf.reduce_sum(a, name="a_sum")
        with tf.device(second):
            b = tf.matmul(x, tf.ones([256, 1024]), name="b")         # 4 MiB
            b_sum = tf.reduce_sum(tf.nn.relu(b), name="b_sum")
        total = tf.add(a_sum, b_sum, name="total")
    metadata = tf.RunMetadata()
    with tf.Session(graph=graph, config=_config(mode)) as sess:
        value = sess.run(total, {x: np.ones((1024, 256), np.float32)},
                         options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE),
                         run_metadata=metadata)
        assert value == 1024 * 512 * 256 + 1024 * 1024 * 256
        # A second traced run starts its figures afresh and gives the same picture.
        sess.run(total, {x: np.ones((1024, 256), np.float32)},
                 options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE),
                 run_metadata=metadata)
    return metadata


def _nodes(metadata):
    return {node.node_name: (dev.device, node) for dev in metadata.step_stats.dev_stats
            for node in dev.node_stats}


def test_nodes_carry_allocations_and_the_devices_figures(mode):
    metadata = _traced_step(mode)
    nodes = _nodes(metadata)
    for name, nbytes in (("a", 2 * MIB), ("b", 4 * MIB)):
        _, node = nodes[name]
        (used,) = node.memory
        assert used.allocator_name in ("cpu", "GPU_0_bfc")
        # The output was allocated by the node and is still held (rounding: malloc's sizes).
        assert nbytes <= used.total_bytes < nbytes + 64 * 1024
        assert used.live_bytes == used.total_bytes
        assert used.peak_bytes >= used.total_bytes
        assert node.memory_stats.temp_memory_size == used.peak_bytes - used.total_bytes
        # The device holds at least this output after the node, and never more than its limit.
        assert nbytes <= used.allocator_bytes_in_use <= LIMIT_MB * MIB
    if mode == "gpu":
        assert nodes["b"][1].memory[0].allocator_name == "GPU_0_bfc"
        assert nodes["b"][0] == PREFIX + "GPU:0"


def test_peak_per_device_is_between_the_largest_output_and_the_limit(mode):
    metadata = _traced_step(mode)
    peaks = timeline.peak_memory(metadata.step_stats)
    first, second = (PREFIX + name for name in _devices(mode))
    if first == second:
        assert set(peaks) == {first}
        assert 4 * MIB <= peaks[first] <= LIMIT_MB * MIB
    else:
        assert first in peaks and second in peaks
        assert 2 * MIB <= peaks[first] <= LIMIT_MB * MIB
        assert 4 * MIB <= peaks[second] <= LIMIT_MB * MIB
    for device, peak in peaks.items():
        for dev in metadata.step_stats.dev_stats:
            if dev.device == device:
                in_use = [used.allocator_bytes_in_use for node in dev.node_stats
                          for used in node.memory]
                assert max(in_use) <= peak


def test_chrome_trace_has_device_memory_counters(mode):
    metadata = _traced_step(mode)
    import json

    trace = json.loads(timeline.Timeline(metadata.step_stats).generate_chrome_trace_format(
        show_memory=True))
    counters = [event for event in trace["traceEvents"] if event["ph"] == "C"]
    by_name = {}
    for event in counters:
        by_name.setdefault(event["name"], []).append(event["args"])
    peaks = timeline.peak_memory(metadata.step_stats)
    for device, peak in peaks.items():
        series = by_name[f"{device} memory"]
        assert max(args["bytes in use"] for args in series) == peak
    # TF's per-allocator series of tensor lifetimes is there too.
    assert any(name in by_name for name in ("cpu", "GPU_0_bfc"))
    plain = timeline.Timeline(metadata.step_stats).generate_chrome_trace_format()
    assert '"ph": "C"' not in plain


def test_svg_draws_a_memory_line_per_device(mode):
    metadata = _traced_step(mode)
    svg = timeline.Timeline(metadata.step_stats).generate_svg()
    for device in timeline.peak_memory(metadata.step_stats):
        assert f'class="memory" data-device="{device}"' in svg
    assert "memory: not recorded" not in svg


def test_untraced_steps_do_not_measure(mode):
    graph = tf.Graph()
    with graph.as_default():
        y = tf.reduce_sum(tf.ones([4, 4]) * 2.0)
    with tf.Session(graph=graph, config=_config(mode)) as sess:
        metadata = tf.RunMetadata()
        sess.run(y, options=tf.RunOptions(output_partition_graphs=True),
                 run_metadata=metadata)
        assert not metadata.step_stats.dev_stats
        assert sess.run(y) == 32.0


# ---- tensors received from another device count against the receiver's limit ---------------

def _receiving_session(gpu):
    """A session where the first device fills an ``[n, 1024]`` float tensor and the second,
    whose limit is 4 MiB, sums it; returns ``(session, n, sum, receiver's name)``."""
    config = tf.ConfigProto()
    if gpu:
        config.device_count["GPU"] = 1
        config.gpu_options.experimental.virtual_devices.add().memory_limit_mb.extend([4])
        sender, receiver = "/cpu:0", "GPU:0"
    else:
        config.device_count["CPU"] = 2
        config.pluggable_device_options.experimental.virtual_devices.add().memory_limit_mb.extend(
            [64, 4])
        sender, receiver = "/cpu:0", "CPU:1"
    graph = tf.Graph()
    with graph.as_default():
        n = tf.placeholder(tf.int32, [], name="n")
        with tf.device(sender):
            big = tf.fill(tf.stack([n, 1024]), 1.0, name="big")
        with tf.device(receiver):
            total = tf.reduce_sum(big, name="total")
    return tf.Session(graph=graph, config=config), n, total, PREFIX + receiver


@pytest.mark.parametrize("gpu", [False, True], ids=["cpu", "gpu"])
def test_a_receive_over_the_limit_is_tf_oom_and_the_session_survives(gpu, monkeypatch):
    monkeypatch.delenv("SESSIONLIB_EMULATED_GPUS", raising=False)
    sess, n, total, receiver = _receiving_session(gpu)
    with sess:
        assert sess.run(total, {n: 256}) == 256 * 1024          # 1 MiB crosses: fits
        with pytest.raises(tf.errors.ResourceExhaustedError) as caught:
            sess.run(total, {n: 2048})                          # 8 MiB would not
        message = caught.value.message
        allocator = "GPU_0_bfc" if gpu else "cpu"
        # TF's OOM text (the figures: 4 MiB limit, 8 MiB requested).
        assert message.startswith(
            f"OOM when allocating tensor with shape[2048,1024] and type float on {receiver} "
            f"by allocator {allocator}\n")
        assert (f"Limit: 4194304 bytes (4.00MiB), requested: 8388608 bytes (8.00MiB)"
                in message)
        assert "report_tensor_allocations_upon_oom" in message
        # The session and both workers go on; nothing stays charged.
        assert sess.run(total, {n: 512}) == 512 * 1024
        usage = {device.name: device.bytes_in_use for device in sess.list_devices()}
        assert usage[receiver] == 0


def test_a_received_tensor_is_charged_while_held(monkeypatch):
    monkeypatch.delenv("SESSIONLIB_EMULATED_GPUS", raising=False)
    sess, n, total, receiver = _receiving_session(gpu=False)
    with sess:
        metadata = tf.RunMetadata()
        sess.run(total, {n: 512}, options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE),
                 run_metadata=metadata)
        (device_stats,) = [dev for dev in metadata.step_stats.dev_stats
                           if dev.device == receiver]
        (received,) = [node for node in device_stats.node_stats
                       if node.timeline_label.endswith("_Recv(big)")]
        # The _Recv holds the 2 MiB it received (exactly: charged by hand, not by malloc).
        assert received.memory[0].total_bytes == 2 * MIB
        assert timeline.peak_memory(metadata.step_stats)[receiver] >= 2 * MIB
        # Given back once the step dropped it.
        usage = {device.name: device.bytes_in_use for device in sess.list_devices()}
        assert usage[receiver] == 0
