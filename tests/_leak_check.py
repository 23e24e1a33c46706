"""A pytest plugin: at the end of each test process, no shared-memory segment of this process
may remain in /dev/shm, and no device worker may outlive the pool (works under xdist: every
xdist worker checks its own pid)."""

import os
import time

import pytest


def _leaks():
    from sessionlib.runtime import devices, shm

    pool = devices._pool
    pids = [w.pid for w in pool.workers()] if pool is not None else []
    devices.shutdown_pool()
    # The tensor store keeps its arena for the life of the process (atexit unlinks it); the
    # check runs before exit, so it closes the store itself.
    if shm._store is not None:
        shm._store.close()
    deadline = time.monotonic() + 10
    prefix = f"{shm.PREFIX}{os.getpid()}_"

    def alive(pid):
        try:
            with open(f"/proc/{pid}/stat") as stat:
                return stat.read().split(")")[-1].split()[0] != "Z"
        except FileNotFoundError:
            return False

    while True:
        segments = [n for n in os.listdir(shm.SHM_DIR) if n.startswith(prefix)]
        segments += [n for n in os.listdir(shm.SHM_DIR)
                     if any(n.startswith(f"{shm.PREFIX}{pid}_") for pid in pids)]
        workers = [pid for pid in pids if alive(pid)]
        if (not segments and not workers) or time.monotonic() > deadline:
            return segments, workers
        time.sleep(0.05)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    import gc

    gc.collect()
    segments, workers = _leaks()
    if segments or workers:
        message = (f"sessionlib leak check failed in pid {os.getpid()}: segments {segments}, "
                   f"live workers {workers}")
        print("\n" + message)
        session.exitstatus = 1
