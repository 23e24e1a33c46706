"""Waiting, without a fixed sleep, until another thread's run is blocked inside a kernel."""

import time


def wait_until_blocked(sess, count=1, timeout_s=20.0):
    """Returns once `count` runs of in-process session `sess` wait in `RunContext.wait`
    (a dequeue on an empty queue, an enqueue on a full one, a read with no work).

    Raises:
      AssertionError: if that does not happen within `timeout_s`.
    """
    deadline = time.monotonic() + timeout_s
    while sum(sess._cancellation._conditions.values()) < count:
        assert time.monotonic() < deadline, "the run never blocked"
        time.sleep(0.005)
