"""Running a session's steps on device workers: `WorkerRuntime` and `DistributedStep`.

Design. A session that uses workers owns one `WorkerRuntime`. It plays the executor's part in
the session (``bind_step`` at compile time, ``run(bound, slots, ctx)`` per run), so the session
front end does not change: feeds arrive in slots, fetched values leave in slots.

* Compile (once per step key): partition the placed step (``runtime/partition.py``) and
  install each device's plan on its worker over the control pipe (pickled plain values, the
  only pickles that cross processes).
* Run: borrow a rendezvous run slot when the step has cross-device edges, post one small
  marshalled message per partition to a free lane of its worker (step key, run slot,
  generation, deadline, feed descriptors), then gather the replies: spin, then futex sleep in
  slices, checking between slices whether a worker died (then the run is aborted and fails with
  `UnavailableError` naming the device), whether the session was closed, and Ctrl-C (which
  cancels the run on the workers and leaves them usable).
* Errors: a worker reports (code, message, index of the failing op in the step); the runtime
  rebuilds the `OpError` and raises ``NodeFailure`` so that the session attaches the Operation.
  Of several failures the root cause wins: a kernel error over the aborts it caused.
"""

import itertools
import pickle
import time

from sessionlib import errors
from sessionlib.runtime import channel, devices, partition, shm
from sessionlib.runtime.executor import NodeFailure

__all__ = ["WorkerRuntime", "DistributedStep", "use_workers"]

_GRACE_S = 1.0     # how long the other partitions may take to stop after one failed
_step_keys = itertools.count(1)


def use_workers(cpu_count, environ):
    """Whether a session with `cpu_count` devices runs on worker processes."""
    flag = environ.get("SESSIONLIB_WORKERS", "")
    if flag == "0":
        return False
    return cpu_count > 1 or flag == "1"


class WorkerRuntime:
    """A session's share of the device pool.

    Args:
      session_id: a string unique to the session (its resource containers on the workers).
      device_names: the session's full device names, CPU:0 .. CPU:n-1.
      threads: kernel threads per worker.
      executor_name: the executor the workers run plans with ('cython' or 'reference').

    Raises:
      UnavailableError: if a worker cannot be started.
    """

    name = "workers"

    def __init__(self, session_id, device_names, threads, executor_name):
        self.session_id = session_id
        self.device_names = list(device_names)
        self.executor_name = executor_name
        self.pool = devices.pool()
        self.workers = self.pool.workers_for(len(device_names), threads)
        self.worker_of = dict(zip(self.device_names, self.workers))
        self.closed = False

    def pids(self):
        """The worker pid of each device, in device order."""
        return [worker.pid for worker in self.workers]

    def bind_step(self, order, devices_of_ops, feed_tensors, fetch_tensors, feed_slots,
                  fetch_slots):
        """Partitions a placed step and installs it on the workers.

        Returns:
          A `DistributedStep` for `run`.

        Raises:
          UnavailableError: if a worker died.
          NotFoundError: if a worker does not know an op type of the step.
        """
        parted = partition.partition(order, devices_of_ops, feed_tensors, fetch_tensors,
                                     self.device_names)
        if parted.num_edges >= channel.EDGES_PER_RUN:
            raise errors.UnimplementedError(
                None, None, f"This step has {parted.num_edges} cross-device edges; at most "
                f"{channel.EDGES_PER_RUN - 1} are supported")
        key = next(_step_keys)
        parts = []
        for plan in parted.partitions:
            worker = self.worker_of[plan.device]
            reply = worker.request("install", self.session_id, key, pickle.dumps(plan, 5),
                                   self.executor_name)
            if reply[0] != "ok":
                message = reply[1]
                if message.startswith("NotFoundError: "):
                    raise errors.NotFoundError(None, None, message[len("NotFoundError: "):])
                raise errors.InternalError(None, None, f"Installing a step on {plan.device} "
                                           f"failed: {message}")
            parts.append(_Part(worker, plan))
        return DistributedStep(self, key, parts, parted, feed_slots, fetch_slots)

    def run(self, bound, slots, ctx):
        """The executor interface: runs `bound` (a `DistributedStep`) over `slots`."""
        bound.run(slots, ctx)

    def clear_containers(self, containers):
        """Clears the named resource containers of this session on every worker."""
        for worker in self.workers:
            if not worker.dead:
                try:
                    worker.request("clear_containers", self.session_id, list(containers))
                except errors.OpError:
                    pass

    def close(self):
        """Cancels the session's runs and drops its containers and plans on the workers."""
        if self.closed:
            return
        self.closed = True
        for worker in self.workers:
            worker.notify("close_session", self.session_id)


class _Part:
    __slots__ = ("worker", "plan", "feeds", "fetches", "device")

    def __init__(self, worker, plan):
        self.worker = worker
        self.plan = plan
        self.feeds = plan.feeds
        self.fetches = plan.fetches
        self.device = plan.device


class DistributedStep:
    """A step installed on its workers; `run` executes it once."""

    def __init__(self, runtime, key, parts, parted, feed_slots, fetch_slots):
        self.runtime = runtime
        self.key = key
        self.parts = parts
        self.num_edges = parted.num_edges
        self.edges = parted.edges
        self.feed_slots = list(feed_slots)
        self.fetch_slots = list(fetch_slots)
        # How many partitions read each feed: a shared feed block is leased once per reader.
        self.feed_readers = {}
        for part in parts:
            for feed_index, _ in part.feeds:
                self.feed_readers[feed_index] = self.feed_readers.get(feed_index, 0) + 1

    def run(self, slots, ctx):
        """Runs the step: feeds from `slots`, fetched values into `slots`.

        Raises:
          NodeFailure: a kernel failed (with the rebuilt OpError as its cause).
          UnavailableError: a worker died; AbortedError, CancelledError, ...: as reported.
          KeyboardInterrupt: after the run was cancelled on the workers.
        """
        if not self.parts:
            return
        runtime = self.runtime
        if runtime.closed:
            raise errors.CancelledError(None, None, "Session has been closed.")
        pool = runtime.pool
        store = shm.store()
        generation = pool.next_generation()
        run_slot = pool.acquire_run_slot() if self.num_edges else -1
        published = {}
        for feed_index, readers in self.feed_readers.items():
            published[feed_index] = store.publish(slots[self.feed_slots[feed_index]],
                                                  consumers=readers)
        posted = []
        clean = False
        try:
            for part in self.parts:
                lane = part.worker.acquire_lane()
                feeds = [(slot, published[feed_index]) for feed_index, slot in part.feeds]
                message = (runtime.session_id, self.key, run_slot, generation, ctx.step_id,
                           ctx.deadline, feeds)
                try:
                    lane.post_request(channel.encode(message, store))
                except BaseException:
                    part.worker.release_lane(lane)
                    raise
                posted.append((part, lane))
            replies, clean = self._gather(posted, ctx, run_slot, generation)
        except BaseException:
            if not posted:
                for descriptor in published.values():
                    store.cancel(descriptor)
                clean = True
            raise
        finally:
            if run_slot >= 0 and clean:
                pool.release_run_slot(run_slot)
        self._finish(replies, slots)

    def _gather(self, posted, ctx, run_slot, generation):
        """The replies of all posted partitions (a reply or an exception per part).

        Returns:
          (replies, clean): clean is False when a lane was abandoned, so its run slot must
          not be reused.
        """
        replies = {}
        pending = list(posted)
        grace_deadline = None
        interrupted = None
        cancelled = False
        while pending:
            part, lane = pending[0]
            try:
                data = lane.wait_response(channel.WAIT_SLICE_S)
            except KeyboardInterrupt as interrupt:
                interrupted = interrupt
                data = None
            if data is not None:
                pending.pop(0)
                part.worker.release_lane(lane)
                replies[id(part)] = (part, channel.decode(data))
                if replies[id(part)][1][0] != "ok" and len(pending) and grace_deadline is None:
                    grace_deadline = time.monotonic() + _GRACE_S
                continue
            # A slice passed without this reply: check the world before waiting again.
            for other_part, other_lane in list(pending):
                if not other_part.worker.alive():
                    pending.remove((other_part, other_lane))
                    replies[id(other_part)] = (other_part, other_part.worker.unavailable())
                    if run_slot >= 0:
                        runtime_rdv = self.runtime.pool.rendezvous
                        runtime_rdv.abort(run_slot, generation, self.num_edges)
                    if grace_deadline is None:
                        grace_deadline = time.monotonic() + _GRACE_S
            if (interrupted is not None or ctx.cancellation.cancelled) and not cancelled:
                cancelled = True
                for _, other_lane in pending:
                    other_lane.cancel()
                if run_slot >= 0:
                    self.runtime.pool.rendezvous.abort(run_slot, generation, self.num_edges)
                if grace_deadline is None:
                    grace_deadline = time.monotonic() + _GRACE_S
            if grace_deadline is not None and time.monotonic() > grace_deadline:
                for other_part, other_lane in pending:
                    other_part.worker.abandon_lane(other_lane)
                    replies[id(other_part)] = (other_part, errors.AbortedError(
                        None, None, f"Device {other_part.device} did not stop in time after "
                        "the step failed or was cancelled"))
                if interrupted is not None:
                    raise interrupted
                return list(replies.values()), False
        if interrupted is not None:
            raise interrupted
        return list(replies.values()), True

    def _finish(self, replies, slots):
        store = shm.store()
        failure = None
        rank_of_failure = -1
        for part, reply in replies:
            if isinstance(reply, BaseException):
                error, node, rank = reply, -1, 2
            elif reply[0] == "ok":
                for fetch_index, descriptor in reply[1]:
                    slots[self.fetch_slots[fetch_index]] = store.open(descriptor, writable=True)
                continue
            else:
                _, code, message, node = reply
                error = errors.make_op_error(code, message)
                # The root cause wins: a kernel error, then a dead device, then the aborts,
                # cancellations and deadlines they caused elsewhere.
                rank = 3 if node >= 0 else (
                    0 if code in (errors.ABORTED, errors.CANCELLED) else 1)
            if rank > rank_of_failure:
                failure, failure_node, rank_of_failure = error, node, rank
        if failure is None:
            return
        if failure_node >= 0:
            raise NodeFailure(failure_node, failure)
        raise failure
