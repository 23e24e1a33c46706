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


def test_unreachable_address_is_unavailable_at_once():
    pytest.importorskip("ray")
    target = f"ray://127.0.0.1:{_closed_port()}"
    start = time.monotonic()
    with pytest.raises(errors.UnavailableError, match="Cannot reach the Ray cluster"):
        tf.Session(target)
    with pytest.raises(errors.UnavailableError):
        tf.Session.reset(target)
    assert time.monotonic() - start < 5


def test_a_silent_server_is_unavailable_within_the_operation_timeout(tmp_path):
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
            tf.Session(f"ray://127.0.0.1:{port}", config=config)
            print("no error")
        except errors.UnavailableError as err:
            print("UnavailableError", round(time.monotonic() - start, 1), err.message)
    """)
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
