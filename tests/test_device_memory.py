"""Device memory: limits, OOM as `ResourceExhaustedError`, usage in `list_devices`.

Each device has a memory account (``runtime/memory.py``, ``_core/device_memory.pyx``) that
every array its kernels allocate is charged to. The OOM message follows TF 2.21's
("OOM when allocating tensor with shape[...] and type float on DEVICE by allocator cpu", then
the node line and TF's hint about ``report_tensor_allocations_upon_oom``). Every test runs in
process, in a worker process (SESSIONLIB_WORKERS=1) and on CPU:1 of a two-device session.
"""

import numpy as np
import pytest

import sessionlib as tf
from sessionlib.runtime import memory

MIB = 1 << 20
CPU0 = "/job:localhost/replica:0/task:0/device:CPU:0"
CPU1 = "/job:localhost/replica:0/task:0/device:CPU:1"


@pytest.fixture(params=["local", "worker", "two_devices"])
def mode(request, monkeypatch):
    monkeypatch.setenv("SESSIONLIB_WORKERS", "0" if request.param == "local" else "1")
    return request.param


def _session(mode, graph, limit_mb):
    """A session whose CPU devices have `limit_mb` MiB each, and the device the ops use."""
    config = tf.ConfigProto()
    config.pluggable_device_options.experimental.virtual_devices.add().memory_limit_mb.extend(
        [limit_mb, limit_mb])
    if mode == "two_devices":
        config.device_count["CPU"] = 2
    return tf.Session(graph=graph, config=config), (CPU1 if mode == "two_devices" else CPU0)


def _device(mode):
    return "/cpu:1" if mode == "two_devices" else "/cpu:0"


def test_oom_names_op_shape_and_device_and_the_session_survives(mode):
    graph = tf.Graph()
    with graph.as_default(), tf.device(_device(mode)):
        x = tf.placeholder(tf.float32, [None, 256], name="x")
        w = tf.ones([256, 1024], name="w")
        product = tf.matmul(x, w, name="big_matmul")
        total = tf.reduce_sum(product)
    sess, device = _session(mode, graph, 16)
    with sess:
        small = np.ones((4, 256), np.float32)
        assert sess.run(total, {x: small}) == 4 * 256 * 1024
        with pytest.raises(tf.errors.ResourceExhaustedError) as caught:
            sess.run(total, {x: np.ones((8192, 256), np.float32)})   # a 32 MiB product
        message = caught.value.message
        assert message.startswith("OOM when allocating tensor with shape[8192,1024] and type "
                                  f"float on {device} by allocator cpu\n")
        assert f"Limit: {16 * MIB} bytes" in message
        assert "{{node big_matmul}}" in message
        assert caught.value.op.name == "big_matmul"
        assert message.endswith("add report_tensor_allocations_upon_oom to RunOptions for "
                                "current allocation info. This isn't available when running "
                                "in Eager mode.\n")
        # The session (and its worker) still runs steps.
        for _ in range(2):
            assert sess.run(total, {x: small}) == 4 * 256 * 1024


def test_variables_count_and_the_report_lists_them(mode):
    graph = tf.Graph()
    with graph.as_default(), tf.device(_device(mode)):
        big = tf.Variable(tf.zeros([3 * MIB // 4]), name="big_variable")   # 3 MiB
        x = tf.placeholder(tf.float32, [None], name="x")
        doubled = tf.identity(x * 2.0, name="doubled")
        init = tf.global_variables_initializer()
    sess, device = _session(mode, graph, 8)
    with sess:
        sess.run(init)
        usage = {d.name: d for d in sess.list_devices()}[device]
        assert usage.memory_limit_bytes == 8 * MIB
        assert 3 * MIB <= usage.bytes_in_use < 4 * MIB
        assert usage.peak_bytes_in_use >= usage.bytes_in_use
        # 3 MiB of variable + a 6 MiB product do not fit in 8 MiB.
        options = tf.RunOptions(report_tensor_allocations_upon_oom=True)
        with pytest.raises(tf.errors.ResourceExhaustedError) as caught:
            sess.run(doubled, {x: np.ones(6 * MIB // 4, np.float32)}, options=options)
        message = caught.value.message
        assert message.startswith("OOM when allocating tensor with shape[1572864] and type "
                                  f"float on {device} by allocator cpu\n")
        assert f"Current usage from device: {device}, allocator: cpu\n" in message
        assert "  3.00MiB from big_variable" in message
        assert "Hint:" not in message
        # Below the limit the same step runs.
        np.testing.assert_array_equal(sess.run(doubled, {x: np.ones(4, np.float32)}),
                                      np.full(4, 2.0, np.float32))


def test_freed_tensors_give_their_bytes_back(mode):
    graph = tf.Graph()
    with graph.as_default(), tf.device(_device(mode)):
        x = tf.placeholder(tf.float32, [None])
        total = tf.reduce_sum(tf.concat([x, x], 0))
    sess, device = _session(mode, graph, 20)
    with sess:
        for _ in range(5):   # 4 MiB temporaries per step, far below the limit in total
            assert sess.run(total, {x: np.ones(MIB, np.float32)}) == 2 * MIB
        usage = {d.name: d for d in sess.list_devices()}[device]
        assert usage.bytes_in_use < MIB
        assert usage.peak_bytes_in_use >= 8 * MIB


def test_limits_from_gpu_options():
    gpus = [f"/job:localhost/replica:0/task:0/device:GPU:{i}" for i in range(3)]
    names = [CPU0] + gpus
    machine = memory.machine_memory()
    defaults = memory.memory_limits(None, names)
    assert defaults == [machine] + [machine // 6] * 3
    assert memory.default_memory_limit("GPU", 1) == machine // 4
    config = tf.ConfigProto()
    config.gpu_options.per_process_gpu_memory_fraction = 0.5
    config.gpu_options.allow_growth = True
    assert memory.memory_limits(config, names) == [machine] + [int(0.5 * (machine // 6))] * 3
    config.gpu_options.experimental.virtual_devices.add().memory_limit_mb.extend([100, 200])
    assert memory.memory_limits(config, names) == [
        machine, 100 * MIB, 200 * MIB, int(0.5 * (machine // 6))]
    config.pluggable_device_options.per_process_gpu_memory_fraction = 0.25
    assert memory.memory_limits(config, names)[0] == int(0.25 * machine)
    assert memory.allocator_name(gpus[1]) == "GPU_1_bfc"
    assert memory.allocator_name(CPU0) == "cpu"


def test_default_cpu_limit_is_the_machine(monkeypatch):
    monkeypatch.setenv("SESSIONLIB_WORKERS", "0")
    with tf.Session(graph=tf.Graph()) as sess:
        (device,) = sess.list_devices()
        assert device.memory_limit_bytes == memory.machine_memory()
        assert device.bytes_in_use == 0


def test_human_bytes_as_tf_writes_them():
    assert memory.human_bytes(4) == "4B"
    assert memory.human_bytes(1024) == "1.00KiB"
    assert memory.human_bytes(4000000) == "3.81MiB"
    assert memory.human_bytes(3 << 30) == "3.00GiB"


def test_memory_in_step_stats_and_the_chrome_trace(mode):
    from sessionlib.client import timeline

    graph = tf.Graph()
    with graph.as_default(), tf.device(_device(mode)):
        x = tf.placeholder(tf.float32, [None, 256], name="x")
        product = tf.matmul(x, tf.ones([256, 512]), name="product")   # 1024 x 512: 2 MiB
        total = tf.reduce_sum(product)
    sess, device = _session(mode, graph, 64)
    with sess:
        metadata = tf.RunMetadata()
        sess.run(total, {x: np.ones((1024, 256), np.float32)},
                 options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE),
                 run_metadata=metadata)
    stats = {node.node_name: node for dev in metadata.step_stats.dev_stats
             if dev.device == device for node in dev.node_stats}
    node = stats["product"]
    (used,) = node.memory
    assert used.allocator_name == "cpu"
    assert used.peak_bytes >= 2 * MIB and used.total_bytes >= 2 * MIB
    allocation = node.output[0].tensor_description.allocation_description
    assert allocation.requested_bytes == 2 * MIB and allocation.allocator_name == "cpu"
    trace = timeline.Timeline(metadata.step_stats).generate_chrome_trace_format(
        show_memory=True)
    assert '"cpu"' in trace and '"ph": "C"' in trace
