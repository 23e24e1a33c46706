"""Waiting, without a fixed sleep, until another thread's run is blocked inside a kernel."""

import time


def _waiting(sess):
    workers = getattr(sess._runtime, "workers", None)
    if workers is None:
        return sess._cancellation.waiting()
    # SESSIONLIB_WORKERS=1: the session's device runs in a worker process.
    return sum(worker.request("stats")[1]["waiting"] for worker in workers)


def wait_until_blocked(sess, count=1, timeout_s=20.0):
    """Returns once `count` runs of session `sess` wait in `RunContext.wait` (a dequeue on an
    empty queue, an enqueue on a full one, a read with no work), in process or in a worker.

    Raises:
      AssertionError: if that does not happen within `timeout_s`.
    """
    deadline = time.monotonic() + timeout_s
    while _waiting(sess) < count:
        assert time.monotonic() < deadline, "the run never blocked"
        time.sleep(0.005)
