"""`Session.list_devices()` entries carry TF's ``physical_device_desc``.

TF's CPU device has an empty one; a GPU's reads ``"device: 0, name: <card>, pci bus id:
<bus>, compute capability: <major.minor>"``. An emulated GPU keeps TF's layout and says what
it is: a worker process on the host's cores, with no bus and no compute capability, and the
cores it has as its own (runtime/cores.py).
"""

import sessionlib as tf
from sessionlib.runtime import cores


def test_physical_device_desc_of_cpus_and_emulated_gpus(monkeypatch):
    monkeypatch.delenv("SESSIONLIB_EMULATED_GPUS", raising=False)
    monkeypatch.delenv("SESSIONLIB_EMULATED_GPU_CORES", raising=False)
    monkeypatch.delenv("SESSIONLIB_CORE_BUDGET", raising=False)
    with tf.Session(config=tf.ConfigProto(device_count={"GPU": 2})) as sess:
        listed = sess.list_devices()
    cpu, gpu0, gpu1 = listed
    assert cpu.physical_device_desc == ""
    for index, gpu in enumerate((gpu0, gpu1)):
        assert gpu.physical_device_desc == (
            f"device: {index}, name: sessionlib emulated GPU (a worker process on the host's "
            f"CPU cores), pci bus id: none, compute capability: none, cores: "
            f"{cores.gpu_cores(2)}, pid: {gpu.pid}")


def test_a_cpu_only_session_has_empty_descriptions(monkeypatch):
    monkeypatch.delenv("SESSIONLIB_EMULATED_GPUS", raising=False)
    monkeypatch.setenv("SESSIONLIB_WORKERS", "0")
    with tf.Session() as sess:
        assert [device.physical_device_desc for device in sess.list_devices()] == [""]
