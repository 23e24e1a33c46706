"""Emulated GPUs: device creation, naming, listing, placement rules, and TF's GPU queries.

The expected messages and placements were checked against TF 2.21 (``tensorflow.compat.v1``)
where TF can show them on a CPU-only machine (a device that does not exist, the names of
``tf.config``'s devices); the GPU kernel rules follow TF's kernel registrations.
"""

import os

import numpy as np
import pytest

import sessionlib as tf
from sessionlib.runtime import devices, kernel_table, placement

PREFIX = "/job:localhost/replica:0/task:0/device:"
CPU0, GPU0, GPU1 = PREFIX + "CPU:0", PREFIX + "GPU:0", PREFIX + "GPU:1"


@pytest.fixture(autouse=True)
def no_emulated_gpus(monkeypatch):
    """Each test starts on a machine without emulated GPUs, whatever the environment says."""
    monkeypatch.delenv("SESSIONLIB_EMULATED_GPUS", raising=False)


def _gpus(k, **kwargs):
    return tf.ConfigProto(device_count={"GPU": k}, **kwargs)


def _names(config, environ=None):
    return devices.session_devices(config, environ or {})


# ---- device creation ---------------------------------------------------------------------

def test_device_count_gives_cpus_then_gpus():
    assert _names(_gpus(2)) == [CPU0, GPU0, GPU1]
    assert _names(tf.ConfigProto(device_count={"CPU": 2, "GPU": 1})) == [
        CPU0, PREFIX + "CPU:1", GPU0]
    assert _names(tf.ConfigProto()) == [CPU0]


def test_env_variable_is_the_default_and_device_count_overrides_it():
    env = {"SESSIONLIB_EMULATED_GPUS": "2"}
    assert _names(tf.ConfigProto(), env) == [CPU0, GPU0, GPU1]
    assert _names(_gpus(0), env) == [CPU0]
    assert _names(_gpus(1), env) == [CPU0, GPU0]
    assert _names(_gpus(3), env) == [CPU0, GPU0, GPU1, PREFIX + "GPU:2"]


def test_env_variable_must_be_a_count():
    with pytest.raises(ValueError, match="SESSIONLIB_EMULATED_GPUS"):
        _names(tf.ConfigProto(), {"SESSIONLIB_EMULATED_GPUS": "two"})


def test_visible_device_list_selects_gpus():
    env = {"SESSIONLIB_EMULATED_GPUS": "2"}
    config = tf.ConfigProto()
    config.gpu_options.visible_device_list = "1"
    assert _names(config, env) == [CPU0, GPU0]        # visible GPU:0 is machine GPU 1
    config.gpu_options.visible_device_list = "1,0"
    assert _names(config, env) == [CPU0, GPU0, GPU1]
    config = _gpus(1)
    config.gpu_options.visible_device_list = "1,0"
    assert _names(config, env) == [CPU0, GPU0]        # min(device_count, visible)


@pytest.mark.parametrize("visible, message", [
    # TF's messages (tsl/framework/device_id_utils.cc).
    ("2", "'visible_device_list' listed an invalid Device id '2' but visible device count "
          "is 2"),
    ("0,0", "visible_device_list contained a duplicate entry: 0,0"),
    ("a", "Could not parse entry in 'visible_device_list': 'a'. visible_device_list = a"),
])
def test_visible_device_list_errors_are_tfs(visible, message):
    config = _gpus(2)
    config.gpu_options.visible_device_list = visible
    with pytest.raises(tf.errors.InvalidArgumentError) as info:
        _names(config)
    assert info.value.message == message
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.Session(config=config)


# ---- listing and running -------------------------------------------------------------------

def test_list_devices_shows_gpus_each_a_worker_process():
    with tf.Session(config=_gpus(2)) as sess:
        listed = sess.list_devices()
    assert [d.name for d in listed] == [CPU0, GPU0, GPU1]
    assert [d.device_type for d in listed] == ["CPU", "GPU", "GPU"]
    # The limits in force (runtime/memory.py): the CPU may use the machine's memory, and the
    # two emulated GPUs share half of it.
    assert listed[0].memory_limit == devices.default_memory_limit("CPU") > 0
    assert listed[1].memory_limit == listed[2].memory_limit == devices.default_memory_limit(
        "GPU", 2) > 0
    pids = [d.pid for d in listed]
    assert len(set(pids)) == 3 and os.getpid() not in pids


@pytest.mark.parametrize("spec", ["/gpu:1", "/device:GPU:1", "GPU:1", "/GPU:1",
                                  "/job:localhost/replica:0/task:0/device:gpu:1"])
def test_device_spellings_place_on_gpu1(spec):
    with tf.device(spec):
        y = tf.add(tf.constant(1.0), 2.0, name="y")
    with tf.Session(config=_gpus(2)) as sess:
        assert sess.run(y) == 3.0
        assert sess._runtime.place([y.op]) == [GPU1]


def test_unpinned_ops_prefer_gpu0_like_tf():
    v = tf.Variable(np.ones([2, 2], np.float32), name="v")
    count = tf.Variable(0, name="count")                   # int32: no GPU kernel in TF
    y = tf.matmul(v, v, name="y")
    placer = placement.Placer(_names(_gpus(2)), kernel_device_types=placement.kernel_device_types)
    assert placer.place([v.op, count.op, y.op]) == [GPU0, CPU0, GPU0]
    # Without GPUs everything stays on CPU:0.
    assert placement.Placer([CPU0]).place([y.op]) == [CPU0]


def test_an_op_without_gpu_kernel_pinned_to_a_gpu_is_tfs_error():
    with tf.device("/gpu:0"):
        joined = tf.reduce_join(tf.constant(["a", "b"]), name="joined")
    with tf.Session(config=_gpus(1)) as sess:
        with pytest.raises(tf.errors.InvalidArgumentError) as info:
            sess.run(joined)
    assert info.value.message.startswith(
        "Cannot assign a device for operation joined: Could not satisfy explicit device "
        "specification '/device:GPU:0' because no supported kernel for GPU devices is "
        "available.")


def test_soft_placement_puts_a_cpu_only_op_on_cpu0():
    with tf.device("/gpu:1"):
        joined = tf.reduce_join(tf.constant(["a", "b"]), name="joined")
        doubled = tf.multiply(tf.constant(2.0), 3.0, name="doubled")
    with tf.Session(config=_gpus(2, allow_soft_placement=True)) as sess:
        assert sess.run(joined) == b"ab"
        assert sess.run(doubled) == 6.0
        assert sess._runtime.place([joined.op, doubled.op]) == [CPU0, GPU1]


def test_an_unpinned_cpu_only_op_after_a_gpu_op_runs_on_the_cpu():
    with tf.device("/gpu:0"):
        x = tf.constant(["a", "b"], name="x")
        y = tf.identity(x, name="y")
    z = tf.reduce_join(y, name="z")
    with tf.Session(config=_gpus(1)) as sess:
        assert sess.run(z) == b"ab"
        assert sess._runtime.place([z.op]) == [CPU0]


def test_the_kernel_table_marks_tfs_cpu_only_kernels():
    for name in ("ReduceJoin", "StringJoin", "SaveV2", "RestoreV2", "FIFOQueueV2",
                 "QueueDequeueV2", "TextLineReaderV2", "ScalarSummary"):
        assert not kernel_table.supports_device(name, "GPU")
        assert kernel_table.supports_device(name, "CPU")
    assert kernel_table.supports_device("MatMul", "GPU")
    assert kernel_table.supports_device("VarHandleOp", "GPU", "float32")
    assert not kernel_table.supports_device("VarHandleOp", "GPU", "int32")
    known = set(kernel_table.all_kernel_names())
    assert kernel_table.CPU_ONLY_KERNELS <= known


def test_a_device_that_does_not_exist_is_tfs_message():
    a = tf.constant(1.0, name="a")
    with tf.device("/gpu:2"):
        b = tf.add(a, a, name="b")
    with tf.Session(config=_gpus(1)) as sess:
        with pytest.raises(tf.errors.InvalidArgumentError) as info:
            sess.run(b)
    # TF 2.21's text (with our hint on how to emulate GPUs after it).
    assert info.value.message.startswith(
        "Cannot assign a device for operation b: {{node b}} was explicitly assigned to "
        f"/device:GPU:2 but available devices are [ {CPU0}, {GPU0} ]. Make sure the device "
        "specification refers to a valid device.")


# ---- the classic multi-GPU tutorial -----------------------------------------------------------

_TUTORIAL = """
import numpy as np
import sessionlib as tf

c = []
for d in ['/gpu:0', '/gpu:1']:
    with tf.device(d):
        a = tf.constant([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], shape=[2, 3])
        b = tf.constant([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], shape=[3, 2])
        c.append(tf.matmul(a, b))
with tf.device('/cpu:0'):
    sum = tf.add_n(c)
sess = tf.Session(config=tf.ConfigProto(log_device_placement=True{extra}))
print("RESULT", sess.run(sum).tolist())
print("DEVICES", [d.device_type for d in sess.list_devices()])
"""


@pytest.mark.parametrize("env, extra", [({"SESSIONLIB_EMULATED_GPUS": "2"}, ""),
                                        ({}, ", device_count={'GPU': 2}")])
def test_the_multi_gpu_tutorial_runs_unchanged(env, extra):
    import subprocess
    import sys

    from _device_helpers import REPO

    environ = dict(os.environ, **env)
    environ["PYTHONPATH"] = REPO + os.pathsep + environ.get("PYTHONPATH", "")
    if not env:
        environ.pop("SESSIONLIB_EMULATED_GPUS", None)
    result = subprocess.run([sys.executable, "-c", _TUTORIAL.replace("{extra}", extra)],
                            capture_output=True, text=True, timeout=120, env=environ, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert "RESULT [[44.0, 56.0], [98.0, 128.0]]" in result.stdout   # 2 x [[22, 28], [49, 64]]
    assert "DEVICES ['CPU', 'GPU', 'GPU']" in result.stdout
    assert "MatMul: (MatMul): " + GPU0 in result.stdout
    assert "MatMul_1: (MatMul): " + GPU1 in result.stdout
    assert "AddN: (AddN): " + CPU0 in result.stdout


# ---- tf.test and tf.config -----------------------------------------------------------------

def test_tf_test_and_tf_config_without_gpus():
    # TF 2.21 on a CPU-only machine: False, '', False, [] and CPU:0's names.
    assert tf.test.is_gpu_available() is False
    assert tf.test.gpu_device_name() == ""
    assert tf.test.is_built_with_cuda() is False
    assert tf.config.list_logical_devices("GPU") == []
    assert [d.name for d in tf.config.list_logical_devices("CPU")] == ["/device:CPU:0"]
    assert [d.name for d in tf.config.list_physical_devices()] == ["/physical_device:CPU:0"]


def test_tf_test_and_tf_config_see_the_emulated_gpus(monkeypatch):
    monkeypatch.setenv("SESSIONLIB_EMULATED_GPUS", "2")
    assert tf.test.is_gpu_available() is True
    assert tf.test.is_gpu_available(min_cuda_compute_capability=(3, 5)) is False
    assert tf.test.gpu_device_name() == "/device:GPU:0"
    assert tf.test.is_built_with_cuda() is False
    gpus = tf.config.list_logical_devices("GPU")
    assert [(d.name, d.device_type) for d in gpus] == [("/device:GPU:0", "GPU"),
                                                       ("/device:GPU:1", "GPU")]
    assert [d.name for d in tf.config.list_physical_devices("GPU")] == [
        "/physical_device:GPU:0", "/physical_device:GPU:1"]


def test_saver_saves_and_restores_variables_that_live_on_gpus(tmp_path):
    # Checkpoint IO has no GPU kernel: as TF's set_cpu0, a GPU's variables are written and
    # read by the CPU's SaveV2/RestoreV2, their values crossing through shared memory.
    v = tf.Variable([1.0, 2.0], name="v")                  # unpinned: GPU:0, as in TF
    with tf.device("/gpu:1"):
        w = tf.Variable([3.0], name="w")
    saver = tf.train.Saver()
    with tf.Session(config=_gpus(2)) as sess:
        sess.run(tf.global_variables_initializer())
        assert sess._runtime.place([v.op, w.op]) == [GPU0, GPU1]
        prefix = saver.save(sess, str(tmp_path / "model"))
        sess.run([v.assign([5.0, 6.0]), w.assign([0.0])])
        saver.restore(sess, prefix)
        np.testing.assert_array_equal(sess.run(v), [1.0, 2.0])
        np.testing.assert_array_equal(sess.run(w), [3.0])
    assert tf.train.list_variables(str(tmp_path)) == [("v", [2]), ("w", [1])]
