"""Traced runs and device memory on a real local Ray instance (``ray://local``): step stats
with one `DeviceStepStats` per device actor, their timelines, each device's memory limit and
usage, and TF's OOM from an actor.

One Ray instance serves the module and is shut down at its end. Skipped when Ray is not
installed.
"""

import time

import numpy as np
import pytest

ray = pytest.importorskip("ray")

import sessionlib as tf  # noqa: E402
from sessionlib import errors  # noqa: E402
from sessionlib.client import timeline  # noqa: E402
from sessionlib.runtime import memory  # noqa: E402

from _ray_helpers import local_cluster  # noqa: E402,F401 - this module's Ray instance

TARGET = "ray://local"
WORKER = "/job:worker/replica:0/task:0/device:CPU:{}"
MIB = 1 << 20
FULL_TRACE = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE, output_partition_graphs=True)


def two_devices(limits_mb=None):
    config = tf.ConfigProto(device_count={"CPU": 2})
    if limits_mb is not None:
        config.pluggable_device_options.experimental.virtual_devices.add(
            memory_limit_mb=limits_mb)
    return config


def cross_device_graph(size):
    """``a`` fed to CPU:0, ``b = a * a`` there; CPU:1 receives ``b`` and sums ``b + 1``."""
    a = tf.placeholder(tf.float32, shape=[size], name="a")
    with tf.device(WORKER.format(0)):
        b = tf.multiply(a, a, name="b")
    with tf.device(WORKER.format(1)):
        total = tf.reduce_sum(b + 1.0, name="total")
    return a, total


def traced_run(sess, fetch, feeds):
    metadata = tf.RunMetadata()
    before_us = time.time_ns() // 1000
    value = sess.run(fetch, feeds, options=FULL_TRACE, run_metadata=metadata)
    return value, metadata, before_us, time.time_ns() // 1000


def test_full_trace_has_each_devices_nodes_with_times_outputs_and_memory():
    size = 1 << 18                      # 1 MiB of float32
    a, total = cross_device_graph(size)
    values = np.arange(size, dtype=np.float32) / size
    with tf.Session(TARGET, config=two_devices()) as sess:
        value, metadata, before_us, after_us = traced_run(sess, total, {a: values})
        pids = {device.name: device.pid for device in sess.list_devices()}
    assert value == pytest.approx(float(np.sum(values * values + 1.0)), rel=1e-5)
    by_device = {stats.device: stats for stats in metadata.step_stats.dev_stats}
    assert sorted(by_device) == [WORKER.format(0), WORKER.format(1)]
    nodes = {device: {node.node_name: node for node in stats.node_stats}
             for device, stats in by_device.items()}
    first, second = nodes[WORKER.format(0)], nodes[WORKER.format(1)]
    assert first["b"].timeline_label == "b = Mul(a, a)"
    (send,) = [node for node in first.values() if "_Send(" in node.timeline_label]
    (recv,) = [node for node in second.values() if "_Recv(" in node.timeline_label]
    # Epoch times of this run (the actors share the client's clock on this machine), each
    # node's kernel inside its span.
    for node in list(first.values()) + list(second.values()):
        assert before_us <= node.all_start_micros <= after_us
        assert node.all_start_micros + node.all_end_rel_micros <= after_us
        assert 0 <= node.op_start_rel_nanos <= node.op_end_rel_nanos <= node.all_end_rel_nanos
    # The tensor crosses after it is made, and arrives after it was handed over.
    b_end = first["b"].all_start_nanos + first["b"].all_end_rel_nanos
    assert send.all_start_nanos >= b_end
    assert (recv.all_start_nanos + recv.all_end_rel_nanos
            >= send.all_start_nanos + send.op_end_rel_nanos)
    # Outputs and memory, from each actor's memory account: b made 1 MiB on CPU:0, and CPU:1
    # holds the 1 MiB it received.
    (output,) = first["b"].output
    description = output.tensor_description
    assert [dim.size for dim in description.shape.dim] == [size]
    assert description.dtype == tf.float32.as_datatype_enum
    assert description.allocation_description.requested_bytes == MIB
    (used,) = first["b"].memory
    assert used.allocator_name == "cpu" and used.total_bytes >= MIB
    assert used.allocator_bytes_in_use >= MIB
    (received,) = recv.memory
    assert received.total_bytes == MIB
    peaks = timeline.peak_memory(metadata.step_stats)
    assert peaks[WORKER.format(0)] >= MIB and peaks[WORKER.format(1)] >= MIB
    # The thread names say which actor process ran the nodes.
    assert list(by_device[WORKER.format(0)].thread_names.values())[0].startswith(
        f"actor pid {pids[WORKER.format(0)]} ")
    # One partition graph per device, with its send and receive.
    graphs = {graph.node[0].device: sorted(node.op for node in graph.node)
              for graph in metadata.partition_graphs}
    assert graphs[WORKER.format(0)] == ["Mul", "_Send"]
    assert "_Recv" in graphs[WORKER.format(1)]


def test_timeline_renders_a_cluster_step():
    a, total = cross_device_graph(1024)
    with tf.Session(TARGET, config=two_devices()) as sess:
        _, metadata, _, _ = traced_run(sess, total, {a: np.ones(1024, np.float32)})
    view = timeline.Timeline(metadata.step_stats)
    trace = view.generate_chrome_trace_format(show_memory=True)
    for device in (WORKER.format(0), WORKER.format(1)):
        assert f'"{device} Compute"' in trace
        assert f'"{device} memory"' in trace
    assert '"ph": "s"' in trace      # the transfer: an arrow from CPU:0 to CPU:1
    svg = view.generate_svg()
    assert svg.startswith("<svg") and WORKER.format(1) in svg


def test_untraced_run_after_a_traced_one_records_nothing():
    a, total = cross_device_graph(8)
    with tf.Session(TARGET, config=two_devices()) as sess:
        traced_run(sess, total, {a: np.ones(8, np.float32)})
        metadata = tf.RunMetadata()
        assert sess.run(total, {a: np.ones(8, np.float32)}, run_metadata=metadata) == 16.0
    assert not metadata.step_stats.dev_stats


def test_memory_limits_usage_and_oom_on_the_actors():
    # A 4 MiB variable on CPU:0: the device's account holds it between runs.
    tf.Session.reset(TARGET)
    with tf.device(WORKER.format(0)):
        held = tf.Variable(np.zeros(MIB, np.float32), name="held_4mib")
    with tf.Session(TARGET, config=two_devices()) as sess:
        idle = sess.list_devices()[0].bytes_in_use
        sess.run(held.initializer)
        listed = sess.list_devices()
        assert listed[0].memory_limit_bytes == memory.default_memory_limit("CPU")
        assert listed[0].bytes_in_use - idle >= 4 * MIB
        assert listed[0].peak_bytes_in_use >= listed[0].bytes_in_use
    tf.Session.reset(TARGET)
    with tf.Session(TARGET, config=two_devices()) as sess:
        assert sess.list_devices()[0].bytes_in_use - idle < MIB   # the variable is gone

    a, total = cross_device_graph(MIB)   # b: 4 MiB on CPU:0, received by CPU:1
    feed = {a: np.ones(MIB, np.float32)}
    with tf.Session(TARGET, config=two_devices([1, 64])) as sess:
        assert [d.memory_limit_bytes for d in sess.list_devices()] == [MIB, 64 * MIB]
        with pytest.raises(errors.ResourceExhaustedError) as raised:
            sess.run(total, feed)
    message = raised.value.message
    assert message.startswith(f"OOM when allocating tensor with shape[{MIB}] and type float "
                              f"on {WORKER.format(0)} by allocator cpu")
    assert "Limit: 1048576 bytes (1.00MiB), requested: 4194304 bytes (4.00MiB)" in message
    assert raised.value.op.name == "b"
    assert "report_tensor_allocations_upon_oom" in message       # TF's hint
    # A received tensor counts against the receiving device's limit too.
    with tf.Session(TARGET, config=two_devices([64, 1])) as sess:
        with pytest.raises(errors.ResourceExhaustedError) as raised:
            sess.run(total, feed, options=tf.RunOptions(
                report_tensor_allocations_upon_oom=True))
    message = raised.value.message
    assert f"on {WORKER.format(1)} by allocator cpu" in message
    assert f"Current usage from device: {WORKER.format(1)}, allocator: cpu" in message
    # The next session sets the default limits again, and the step runs.
    with tf.Session(TARGET, config=two_devices()) as sess:
        assert sess.run(total, feed) == pytest.approx(2.0 * MIB)


def test_a_default_limit_is_the_devices_own_nodes():
    from sessionlib.runtime import ray_device

    # (The device class itself, as its actor runs it on its node.)
    gpu = ray_device.RayDevice("/job:worker/replica:0/task:1/device:GPU:0")
    gpu.set_memory_limit(None, 3)    # its task has three GPUs: each gets 1/6 of the node
    assert gpu.memory_stats()[2] == memory.machine_memory() // 6
    gpu.set_memory_limit(5 * MIB)
    assert gpu.memory_stats() == (0, 0, 5 * MIB)
