"""A small /dev/shm, as in Docker (64 MiB): freed blocks go back, and what does not fit gives
a ResourceExhaustedError that says why and how to fix it (runtime/shm.py, issue 10).

Each scenario runs in a subprocess with its own mount namespace and a private 64 MiB tmpfs
over /dev/shm (``unshare -m``, which needs root), so tests running in parallel are not
affected; elsewhere the tests skip.
"""

import os
import shutil
import subprocess
import sys

import pytest

from _device_helpers import REPO

_CHILD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_small_shm_child.py")


def _private_shm_reason():
    """Why a private tmpfs cannot be mounted here, or None when it can."""
    if os.geteuid() != 0:
        return "mounting a private 64 MiB tmpfs over /dev/shm needs root (CI runs as root)"
    if shutil.which("unshare") is None:
        return "unshare(1) is not installed"
    probe = subprocess.run(["unshare", "-m", "sh", "-c",
                            "mount -t tmpfs -o size=64m tmpfs /dev/shm"],
                           capture_output=True, text=True, timeout=30)
    if probe.returncode != 0:
        return f"cannot mount a private tmpfs: {probe.stderr.strip()}"
    return None


_REASON = _private_shm_reason()
pytestmark = pytest.mark.skipif(_REASON is not None, reason=str(_REASON))


def _run_in_small_shm(scenario):
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    # After the scenario, whatever is left in the private /dev/shm is listed: nothing may be.
    script = (f"mount -t tmpfs -o size=64m tmpfs /dev/shm && "
              f"{sys.executable} {_CHILD} {scenario}; code=$?; "
              f"echo left: $(ls /dev/shm); exit $code")
    result = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True,
                            text=True, timeout=240, env=env, cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[-2:] == ["ok", "left:"], result.stdout
    return result.stdout


def test_freed_blocks_go_back_in_64_mib():
    # A 30 MB feed on CPU:0, then a 30 MB fill on CPU:1 (nothing live between), then 40 runs
    # of 20 MiB tensors crossing devices and fed: the live tensors always fit.
    _run_in_small_shm("feed_then_fill")


def test_too_big_run_says_why_and_the_session_lives_on():
    out = _run_in_small_shm("too_big")
    message = [line for line in out.splitlines() if line.startswith("message:")][0]
    assert "64.0 MiB" in message and "--shm-size" in message
    assert "40.0 MiB live" in message                     # what is live, and where
