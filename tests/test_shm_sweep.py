"""The start-up sweep removes the /tmp/pymp-* folders of dead forkservers, and only those."""

import os
import shutil
import socket
import tempfile

from sessionlib.runtime import shm

from _device_helpers import run_python

_DEAD_FORKSERVER = (
    "import os, socket, tempfile\n"
    "path = tempfile.mkdtemp(prefix='pymp-')\n"
    "listener = socket.socket(socket.AF_UNIX)\n"
    "listener.bind(os.path.join(path, 'listener-dead'))\n"
    "listener.listen()\n"
    "print(path)\n"
    "os._exit(0)\n")   # killed: multiprocessing's clean-up never runs


def test_sweep_removes_folders_of_dead_forkservers_only():
    dead = run_python(_DEAD_FORKSERVER).stdout.strip()
    live = tempfile.mkdtemp(prefix="pymp-")
    other = tempfile.mkdtemp(prefix="pymp-")
    empty = tempfile.mkdtemp(prefix="pymp-")
    listener = socket.socket(socket.AF_UNIX)
    try:
        assert os.path.isdir(dead) and os.listdir(dead) == ["listener-dead"]
        listener.bind(os.path.join(live, "listener-live"))   # a forkserver that still runs
        listener.listen()
        with open(os.path.join(other, "listener-x"), "w"):   # not a socket: not a forkserver's
            pass
        removed = shm.sweep_forkserver_dirs()
        assert dead in removed
        assert not os.path.exists(dead)
        for kept in (live, other, empty):
            assert kept not in removed and os.path.isdir(kept)
        assert os.listdir(live) == ["listener-live"]
    finally:
        listener.close()
        for path in (dead, live, other, empty):
            shutil.rmtree(path, ignore_errors=True)


def test_sweep_runs_at_start_up():
    dead = run_python(_DEAD_FORKSERVER).stdout.strip()
    try:
        assert os.path.isdir(dead)
        # The device runtime sweeps when it is first loaded.
        result = run_python("import sessionlib.runtime.shm\n")
        assert result.returncode == 0, result.stderr
        assert not os.path.exists(dead)
    finally:
        shutil.rmtree(dead, ignore_errors=True)
