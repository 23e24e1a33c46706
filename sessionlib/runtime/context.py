"""The per-run context that generic kernels receive, and session-owned resource containers.

A kernel never reaches the session object. What it may touch is in `RunContext`: the
session's `ResourceContainer` (variables, queues, readers, random generators, handles live
there, addressed by name), the run's cancellation token, and its deadline. A blocking kernel
waits through `RunContext.wait`, which wakes up for cancellation and deadlines, so a blocked run
never hangs a session.
"""

import collections
import threading
import time

from sessionlib import errors

__all__ = ["ResourceContainer", "ForwardingResourceContainer", "CancellationManager",
           "RunContext"]


class ResourceContainer:
    """Named resources of one session (on one device). Thread-safe.

    The container's `lock` and `changed` condition are shared by all its resources, so that a
    blocked kernel (a dequeue) can be woken by any change (an enqueue, a close, a cancel).
    """

    def __init__(self, name=""):
        self.name = name
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self._resources = {}

    def lookup(self, key, default=None):
        # No lock: one dict read is atomic under the GIL, and sees the dict before or after a
        # writer's change, as it would after waiting for the lock. Kernels call this once per
        # variable per step, where the lock was most of the read's cost (0.9 of 1.2 µs).
        return self._resources.get(key, default)

    def get_or_create(self, key, factory):
        """The resource under `key`, created by `factory()` on first use."""
        with self.lock:
            found = self._resources.get(key)
            if found is None:
                found = self._resources[key] = factory()
            return found

    def put(self, key, resource):
        with self.lock:
            self._resources[key] = resource
            self.changed.notify_all()

    def delete(self, key):
        """Removes `key`; returns whether it was there."""
        with self.lock:
            return self._resources.pop(key, None) is not None

    def keys(self):
        with self.lock:
            return list(self._resources)

    def clear(self):
        """Drops every resource (on session close)."""
        self.clear_containers(None)

    def clear_containers(self, containers):
        """Drops the resources of the named TF containers (all of them when None).

        A resource belongs to the container named by its ``container`` attribute ('' by
        default), as TF's resource ops do.
        """
        with self.lock:
            if containers is None:
                doomed = list(self._resources)
            else:
                wanted = set(containers)
                doomed = [key for key, resource in self._resources.items()
                          if getattr(resource, "container", "") in wanted]
            resources = [self._resources.pop(key) for key in doomed]
            self.changed.notify_all()
        for resource in resources:
            closer = getattr(resource, "release", None)
            if closer is not None:
                closer()


class ForwardingResourceContainer(ResourceContainer):
    """The client-side container of a session whose resources live on device workers.

    Kernels run on the workers, so this container holds no resources of its own, only
    client bookkeeping (such as the list of dropped session-tensor handles). A `delete` (how
    the client drops the stored tensor of a handle the user let go) is also queued, and the
    session's `WorkerRuntime` forwards the queue to the workers' containers before its next
    run. `delete` may run inside a garbage-collection callback, so it only appends.
    """

    def __init__(self, name=""):
        super().__init__(name)
        self.forwarded = collections.deque()

    def delete(self, key):
        found = super().delete(key)
        self.forwarded.append(key)
        return found

    def take_forwarded(self):
        """The keys deleted since the last call, in order."""
        taken = []
        while self.forwarded:
            try:
                taken.append(self.forwarded.popleft())
            except IndexError:  # emptied by another thread meanwhile
                break
        return taken


class CancellationManager:
    """Cancels the runs of one session: `close()` and `Session.reset` call `cancel()`."""

    def __init__(self):
        self._cancelled = False
        # condition -> number of waits on it: several runs may wait on one condition (two
        # dequeues of one queue), and one leaving must not unregister the others.
        self._conditions = collections.Counter()
        self._lock = threading.Lock()

    @property
    def cancelled(self):
        return self._cancelled

    def cancel(self):
        with self._lock:
            self._cancelled = True
            conditions = list(self._conditions)
        for condition in conditions:
            with condition:
                condition.notify_all()

    def waiting(self):
        """How many waits of this session's runs are blocked right now (tests, diagnostics)."""
        with self._lock:
            return sum(self._conditions.values())

    def _register(self, condition):
        with self._lock:
            self._conditions[condition] += 1

    def _unregister(self, condition):
        with self._lock:
            count = self._conditions[condition] - 1
            if count > 0:
                self._conditions[condition] = count
            else:
                del self._conditions[condition]


class RunContext:
    """What a generic kernel may use during one run.

    Attributes:
      resources: the session's `ResourceContainer`.
      cancellation: the session's `CancellationManager`.
      deadline: a `time.monotonic()` value after which blocking waits fail, or None.
      step_id: a number unique to this run within the process.
      rendezvous: in a device worker running one partition of a multi-device step, where the
        `_Send`/`_Recv` kernels exchange tensors (``partition.RunRendezvous``); else None.
      annotations: in a traced run, a dict where a kernel may note something about its node
        for the trace (``{node name: text}``: a ``While`` notes its iteration count), which
        the step stats add to the node's timeline label; else None.
      function_trace: in a traced run, the `function_trace.FunctionTrace` that records the
        nodes function ops (``If``, ``While``) run inside; else None.
    """

    __slots__ = ("resources", "cancellation", "deadline", "step_id", "rendezvous",
                 "annotations", "function_trace")

    def __init__(self, resources, cancellation, deadline, step_id, rendezvous=None):
        self.resources = resources
        self.cancellation = cancellation
        self.deadline = deadline
        self.step_id = step_id
        self.rendezvous = rendezvous
        self.annotations = None
        self.function_trace = None

    def check_cancelled(self):
        """Raises CancelledError if the session was closed or reset."""
        if self.cancellation.cancelled:
            raise errors.CancelledError(None, None, "Session has been closed or reset.")

    def check_running(self, what):
        """Raises CancelledError if the session was closed or reset, or DeadlineExceededError
        if the run's deadline has passed: a long kernel (a loop) calls it as it goes.

        Args:
          what: a description of the work for the error message, e.g. "the loop while".
        """
        self.check_cancelled()
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise errors.DeadlineExceededError(None, None, f"Timed out running {what}")

    def wait(self, condition, predicate, what):
        """Blocks on `condition` (held by the caller) until `predicate()` is true.

        Args:
          condition: a `threading.Condition` whose lock the caller holds.
          predicate: a no-argument callable, checked with the lock held.
          what: a description of the wait for error messages, e.g. "dequeue from 'q'".

        Raises:
          CancelledError: if the session is closed or reset meanwhile.
          DeadlineExceededError: if the run's deadline passes first.
        """
        self.cancellation._register(condition)
        try:
            while not predicate():
                self.check_cancelled()
                timeout = 0.1
                if self.deadline is not None:
                    remaining = self.deadline - time.monotonic()
                    if remaining <= 0:
                        raise errors.DeadlineExceededError(
                            None, None, f"Timed out waiting for {what}")
                    timeout = min(timeout, remaining)
                condition.wait(timeout)
            self.check_cancelled()
        finally:
            self.cancellation._unregister(condition)
