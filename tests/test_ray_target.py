"""The ``ray://`` target without a cluster: Ray missing, unknown schemes, unreachable addresses.

None of these start Ray; the address tests need it installed (``sessionlib[ray]``) and skip
otherwise.
"""

import socket
import subprocess
import sys
import textwrap
import time

import pytest

import sessionlib as tf
from sessionlib import errors


def test_ray_target_without_ray_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)     # `import ray` raises ImportError
    with pytest.raises(errors.UnimplementedError, match=r"pip install 'sessionlib\[ray\]'"):
        tf.Session("ray://local")
    with pytest.raises(errors.UnimplementedError, match=r"pip install 'sessionlib\[ray\]'"):
        tf.Session.reset("ray://local")


def test_unknown_schemes_keep_the_local_error():
    with pytest.raises(errors.NotFoundError, match="No session factory registered"):
        tf.Session("grpc://localhost:2222")
    with pytest.raises(errors.NotFoundError):
        tf.Session.reset("grpc://localhost:2222")


def _closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]     # nothing listens there once the socket closes


@pytest.mark.parametrize("client", [False, True], ids=["cluster", "ray-client"])
def test_unreachable_address_is_unavailable_at_once(client):
    pytest.importorskip("ray")
    # A Ray Client address is the target's address with a scheme: ray://ray://host:port.
    target = f"ray://{'ray://' if client else ''}127.0.0.1:{_closed_port()}"
    start = time.monotonic()
    with pytest.raises(errors.UnavailableError, match="Cannot reach the Ray cluster"):
        tf.Session(target)
    with pytest.raises(errors.UnavailableError):
        tf.Session.reset(target)
    assert time.monotonic() - start < 5


@pytest.mark.parametrize("client", [False, True], ids=["cluster", "ray-client"])
def test_a_silent_server_is_unavailable_within_the_operation_timeout(client):
    pytest.importorskip("ray")
    # A listener that accepts and never answers: ray.init would wait for it; the session
    # gives up at operation_timeout_in_ms. In a child process, since the abandoned ray.init
    # thread may still change Ray's state in the process.
    script = textwrap.dedent("""
        import socket, time
        import sessionlib as tf
        from sessionlib import errors
        server = socket.socket()
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        port = server.getsockname()[1]
        config = tf.ConfigProto(operation_timeout_in_ms=2000)
        start = time.monotonic()
        try:
            tf.Session(f"ray://{PREFIX}127.0.0.1:{port}", config=config)
            print("no error")
        except errors.UnavailableError as err:
            print("UnavailableError", round(time.monotonic() - start, 1), err.message)
    """)
    script = script.replace("{PREFIX}", "ray://" if client else "")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, env=_child_env())
    line = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-2000:]
    assert line.startswith("UnavailableError"), line
    assert float(line.split()[1]) < 10, line


def _child_env():
    import os

    env = dict(os.environ)
    root = __file__.rsplit("/tests/", 1)[0]
    env["PYTHONPATH"] = root + (":" + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def test_cluster_def_has_tfs_wire_format():
    config = tf.ConfigProto()
    job = config.cluster_def.job.add(name="worker")
    job.tasks[0] = "a:1"
    job.tasks[1] = "b:2"
    # The bytes of TF 2.21's ConfigProto(cluster_def=tf.train.ClusterSpec(
    # {'worker': ['a:1', 'b:2']}).as_cluster_def()).SerializeToString().
    tf_bytes = b"r\x1c\n\x1a\n\x06worker\x12\x07\x08\x01\x12\x03b:2\x12\x07\x08\x00\x12\x03a:1"
    parsed = tf.ConfigProto.FromString(tf_bytes)
    assert dict(parsed.cluster_def.job[0].tasks) == {0: "a:1", 1: "b:2"}
    assert parsed == config


def test_cluster_devices_follow_device_count_and_cluster_def():
    from sessionlib.runtime import ray_runtime

    config = tf.ConfigProto(device_count={"CPU": 2})
    assert ray_runtime.device_names(config) == [
        "/job:worker/replica:0/task:0/device:CPU:0", "/job:worker/replica:0/task:0/device:CPU:1"]
    job = config.cluster_def.job.add(name="worker")
    job.tasks[0], job.tasks[3] = "x:1", "y:1"
    assert ray_runtime.device_names(config)[2:] == [
        "/job:worker/replica:0/task:3/device:CPU:0", "/job:worker/replica:0/task:3/device:CPU:1"]
    config.cluster_def.job[0].name = "ps"
    with pytest.raises(errors.InvalidArgumentError, match="job 'worker'"):
        ray_runtime.device_names(config)


def test_cluster_devices_have_the_emulated_gpus_on_every_task(monkeypatch):
    from sessionlib.runtime import ray_runtime

    monkeypatch.setenv("SESSIONLIB_EMULATED_GPUS", "2")
    config = tf.ConfigProto(device_count={"CPU": 1})
    job = config.cluster_def.job.add(name="worker")
    job.tasks[0], job.tasks[1] = "x:1", "y:1"
    names = [name.split("/", 3)[3] for name in ray_runtime.device_names(config)]
    assert names == ["task:0/device:CPU:0", "task:0/device:GPU:0", "task:0/device:GPU:1",
                     "task:1/device:CPU:0", "task:1/device:GPU:0", "task:1/device:GPU:1"]
    # device_count and visible_device_list choose among them, as in a local session.
    config.device_count["GPU"] = 0
    assert len(ray_runtime.device_names(config)) == 2
    del config.device_count["GPU"]
    config.gpu_options.visible_device_list = "1"
    assert ray_runtime.device_names(config)[1].endswith("task:0/device:GPU:0")
    assert len(ray_runtime.device_names(config)) == 4
    config.gpu_options.visible_device_list = "5"
    with pytest.raises(errors.InvalidArgumentError, match="visible_device_list"):
        ray_runtime.device_names(config)
