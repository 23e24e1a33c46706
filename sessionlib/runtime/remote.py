"""Running a session's steps on device workers: `WorkerRuntime` and `DistributedStep`.

Design. A session that uses workers owns one `WorkerRuntime`. It plays the executor's part in
the session (``bind_step`` at compile time, ``run(bound, slots, ctx)`` per run), so the session
front end does not change: feeds arrive in slots, fetched values leave in slots.

* Compile (once per step key): partition the placed step (``runtime/partition.py``) and
  install each device's plan on its worker over the control pipe (pickled plain values, the
  only pickles that cross processes).
* Run: borrow a rendezvous run slot when the step has cross-device edges, post one small
  marshalled message per partition to a free lane of its worker (step key, run slot,
  generation, step id, deadline, feed descriptors, and a trace flag only when tracing), then
  gather the replies: spin, then futex sleep in slices, checking between slices whether a
  worker died (then the run is aborted and fails with `UnavailableError` naming the device),
  whether the session was closed, and Ctrl-C (which cancels the run on the workers and leaves
  them usable). A step with one partition and no edge (the latency case) takes a short path:
  no run slot, no generation, a lane taken without the lock.
* Traced runs: the workers run the executor's traced loop and send back per-node
  CLOCK_MONOTONIC times and output descriptions; `run_step_traced` turns them into one
  `DeviceStepStats` per device (see ``runtime/tracing.py``) and the partition graphs.
* Clean-up: steps the session dropped (garbage collected) are uninstalled from the workers
  before the next run; a run slot whose run was abandoned is reused only after its lanes
  drained; deletions in the client container (dropped session handles) reach the workers.
* Errors: a worker reports (code, message, index of the failing op in the step); the runtime
  rebuilds the `OpError` and raises ``NodeFailure`` so that the session attaches the Operation.
  Of several failures the root cause wins: a kernel error over the aborts it caused.
"""

import collections
import itertools
import marshal
import pickle
import time
import weakref

import numpy as np

from sessionlib import errors
from sessionlib.runtime import channel, context, devices, partition, shm, tracing
from sessionlib.runtime.executor import NodeFailure

__all__ = ["WorkerRuntime", "DistributedStep", "use_workers"]

_GRACE_S = 1.0     # how long the other partitions may take to stop after one failed
# `channel.encode`/`decode`, inlined on the latency path (a function call is ~5% of a step).
_dumps, _loads = marshal.dumps, marshal.loads
_INLINE_MESSAGE_BYTES = channel.PAYLOAD_BYTES
_SPILLED = ord("S")
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
        # The session's client-side container: deletions in it go on to the workers.
        self.client_resources = context.ForwardingResourceContainer(session_id)
        # Keys of steps that were garbage collected (the session's step cache dropped them
        # after the graph changed): uninstalled from the workers at the next run or compile.
        self.retired_keys = collections.deque()

    def pids(self):
        """The worker pid of each device, in device order."""
        return [worker.pid for worker in self.workers]

    def bind_step(self, order, devices_of_ops, feed_tensors, fetch_tensors, feed_slots,
                  fetch_slots, fuse=None):
        """Partitions a placed step and installs it on the workers.

        Args:
          fuse: whether the partitions fuse elementwise chains (False for a session with
            ``opt_level=L0``); None: the process default.

        Returns:
          A `DistributedStep` for `run`.

        Raises:
          UnavailableError: if a worker died.
          NotFoundError: if a worker does not know an op type of the step.
        """
        parted = partition.partition(order, devices_of_ops, feed_tensors, fetch_tensors,
                                     self.device_names, fuse)
        if parted.num_edges >= channel.EDGES_PER_RUN:
            raise errors.UnimplementedError(
                None, None, f"This step has {parted.num_edges} cross-device edges; at most "
                f"{channel.EDGES_PER_RUN - 1} are supported")
        if self.retired_keys:
            self.uninstall_retired()
        key = next(_step_keys)
        parts = []
        try:
            for plan in parted.partitions:
                worker = self.worker_of[plan.device]
                reply = worker.request("install", self.session_id, key,
                                       pickle.dumps(plan, 5), self.executor_name)
                if reply[0] != "ok":
                    message = reply[1]
                    if message.startswith("NotFoundError: "):
                        raise errors.NotFoundError(None, None,
                                                   message[len("NotFoundError: "):])
                    raise errors.InternalError(None, None, f"Installing a step on "
                                               f"{plan.device} failed: {message}")
                parts.append(_Part(worker, plan))
        except BaseException:
            self.retired_keys.append(key)  # the partitions installed so far
            raise
        return DistributedStep(self, key, parts, parted, feed_slots, fetch_slots)

    def run(self, bound, slots, ctx):
        """The executor interface: runs `bound` (a `DistributedStep`) over `slots`."""
        bound.run_untraced(slots, ctx)

    def run_step_traced(self, step, slots, ctx, options, run_metadata):
        """Runs the session's `step` and fills `run_metadata` as `options` asks.

        Only with a trace level above NO_TRACE do the workers run the traced loop; each
        reports its nodes' times (CLOCK_MONOTONIC, comparable across processes) and outputs,
        and `run_metadata.step_stats` gets one `DeviceStepStats` per device that ran
        something, `_Send`/`_Recv` nodes included. `output_partition_graphs` adds each
        device's partition as a `GraphDef`, with its send/recv nodes.

        Raises:
          As `run`; `run_metadata` is then left untouched.
        """
        distributed = step.bound
        want_stats = run_metadata is not None and options.trace_level > 0
        traces = distributed.run(slots, ctx, trace=want_stats)
        if run_metadata is None:
            return
        run_metadata.Clear()
        if want_stats:
            epoch_offset_ns = time.time_ns() - time.monotonic_ns()
            for part, (pid, thread_id, thread_name, times, outputs) in traces or ():
                times = np.frombuffer(times, dtype=np.int64).reshape(-1, 4)
                tracing.add_device_stats(
                    run_metadata.step_stats, part.device, part.plan.plan.names,
                    distributed.parted.timeline_labels(part.device), times, outputs,
                    epoch_offset_ns, pid, f"worker pid {pid} ({thread_name}, tid {thread_id})")
        if options.output_partition_graphs:
            for part in distributed.parts:
                run_metadata.partition_graphs.add().CopyFrom(
                    distributed.parted.partition_graph(part.device))

    def uninstall_retired(self):
        """Drops the plans of collected steps from the workers (no reply is awaited)."""
        keys = []
        while self.retired_keys:
            try:
                keys.append(self.retired_keys.popleft())
            except IndexError:
                break
        if keys:
            for worker in self.workers:
                worker.notify("uninstall", self.session_id, keys)

    def forward_deletions(self):
        """Deletes, on every worker, the resources the client deleted since the last call
        (the stored tensors of dropped session handles)."""
        keys = self.client_resources.take_forwarded()
        if not keys:
            return
        for worker in self.workers:
            if not worker.dead:
                try:
                    worker.request("delete_resources", self.session_id, keys)
                except errors.OpError:
                    pass  # a dead worker took its resources with it

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
    __slots__ = ("worker", "plan", "feeds", "fetches", "device", "step_feeds")

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
        self.parted = parted
        self.feed_slots = list(feed_slots)
        self.fetch_slots = list(fetch_slots)
        # How many partitions read each feed: a shared feed block is leased once per reader.
        self.feed_readers = {}
        for part in parts:
            for feed_index, _ in part.feeds:
                self.feed_readers[feed_index] = self.feed_readers.get(feed_index, 0) + 1
            part.step_feeds = [(self.feed_slots[feed_index], slot)
                               for feed_index, slot in part.feeds]
        # The latency case gets its own path (`_run_single`).
        self.single = parts[0] if len(parts) == 1 and not self.num_edges else None
        self.run_untraced = self._run_single if self.single is not None else self.run
        self.store = shm.store()
        # Nobody can run a collected step, so its plans are retired then, not before.
        weakref.finalize(self, runtime.retired_keys.append, key)

    def run(self, slots, ctx, trace=False):
        """Runs the step: feeds from `slots`, fetched values into `slots`.

        Args:
          trace: have the workers run the traced loop.

        Returns:
          With `trace`, ``[(part, trace record)]`` (see ``worker._trace_reply``); else None.

        Raises:
          NodeFailure: a kernel failed (with the rebuilt OpError as its cause).
          UnavailableError: a worker died; AbortedError, CancelledError, ...: as reported.
          KeyboardInterrupt: after the run was cancelled on the workers.
        """
        runtime = self.runtime
        if runtime.closed:
            raise errors.CancelledError(None, None, "Session has been closed.")
        if runtime.client_resources.forwarded:
            runtime.forward_deletions()
        if runtime.retired_keys:
            runtime.uninstall_retired()
        if self.single is not None and not trace:
            return self._run_single(slots, ctx)  # the checks above made it take the fast path
        if not self.parts:
            return None
        pool = runtime.pool
        store = self.store
        generation = pool.next_generation() if self.num_edges else 0
        run_slot = pool.acquire_run_slot() if self.num_edges else -1
        published = {}
        posted = []
        replies = None
        try:
            for feed_index, readers in self.feed_readers.items():
                published[feed_index] = store.publish(slots[self.feed_slots[feed_index]],
                                                      consumers=readers)
            for part in self.parts:
                lane = part.worker.acquire_lane()
                feeds = [(slot, published[feed_index]) for feed_index, slot in part.feeds]
                message = (self.key, run_slot, generation, ctx.step_id, ctx.deadline, feeds)
                if trace:
                    message += (1,)
                try:
                    lane.post_request(channel.encode(message, store))
                except BaseException:
                    part.worker.release_lane(lane)
                    raise
                posted.append((part, lane))
            replies, clean = self._gather(posted, ctx, run_slot, generation)
        except BaseException:
            if replies is None:
                clean = self._abandon(posted, published, run_slot, generation)
            raise
        finally:
            if run_slot >= 0:
                if clean:
                    pool.release_run_slot(run_slot)
                else:
                    pool.quarantine_run_slot(run_slot, posted)
        return self._finish(replies, slots)

    def _run_single(self, slots, ctx):
        """`run` for a step with one partition and no cross-device edge, the latency case:
        no rendezvous slot, no generation, one message out and one back."""
        runtime = self.runtime
        if runtime.closed or runtime.client_resources.forwarded or runtime.retired_keys:
            return self.run(slots, ctx)  # the checks and clean-ups of the general path
        part = self.single
        worker = part.worker
        store = self.store
        publish = store.publish
        feeds = [(slot, publish(slots[step_slot])) for step_slot, slot in part.step_feeds]
        try:
            lane = worker.free_lanes.pop()   # atomic; acquire_lane waits when none is free
        except IndexError:
            lane = None
        try:
            if lane is None:
                lane = worker.acquire_lane()
            data = _dumps((self.key, -1, 0, ctx.step_id, ctx.deadline, feeds))
            if len(data) >= _INLINE_MESSAGE_BYTES:  # a large feed list spills
                data = channel.encode((self.key, -1, 0, ctx.step_id, ctx.deadline, feeds),
                                      store)
            lane.post_request(data)
        except BaseException:
            if lane is not None:
                worker.release_lane(lane)
            for _, descriptor in feeds:
                store.cancel(descriptor)
            raise
        interrupted = None
        try:
            data = lane.wait_response(channel.WAIT_SLICE_S)
        except KeyboardInterrupt as interrupt:
            data, interrupted = None, interrupt
        if data is None:  # a long run: wait in slices, watching liveness and cancellation
            replies, _ = self._gather([(part, lane)], ctx, -1, 0, interrupted)
            return self._finish(replies, slots)
        worker.free_lanes.append(lane)
        reply = _loads(data) if data[0] != _SPILLED else channel.decode(data)
        if reply[0] != "ok":
            return self._finish([(part, reply)], slots)
        fetch_slots = self.fetch_slots
        open_tensor = store.open
        for fetch_index, descriptor in reply[1]:
            # A 0-d result becomes a numpy scalar: it needs no writable copy of its bytes.
            slots[fetch_slots[fetch_index]] = open_tensor(
                descriptor, descriptor[0] != "i" or bool(descriptor[2]))
        return None

    def _abandon(self, posted, published, run_slot, generation):
        """Cleans up after posting failed or was interrupted before the replies were
        gathered: cancels the posted parts (their lanes drain later) and takes back the
        feeds no worker will open. Returns whether the run slot may be reused at once."""
        store = self.store
        if not posted:
            for descriptor in published.values():
                store.cancel(descriptor)
            return True
        for part, lane in posted:
            lane.cancel()
            part.worker.abandon_lane(lane)
        if run_slot >= 0:
            self.runtime.pool.rendezvous.abort(run_slot, generation, self.num_edges)
        return False

    def _gather(self, posted, ctx, run_slot, generation, interrupted=None):
        """The replies of all posted partitions (a reply or an exception per part).

        Args:
          interrupted: a KeyboardInterrupt that already arrived (cancel the run, re-raise it).

        Returns:
          (replies, clean): clean is False when a lane was abandoned, so its run slot must
          not be reused until the lane drains.
        """
        replies = {}
        pending = list(posted)
        grace_deadline = None
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
                    self._discard(replies.values())
                    raise interrupted
                return list(replies.values()), False
        if interrupted is not None:
            self._discard(replies.values())
            raise interrupted
        return list(replies.values()), True

    def _discard(self, replies):
        """Releases the fetched tensors of replies that will not be used (their producers
        keep the blocks leased until a view of them dies)."""
        for _, reply in replies:
            if not isinstance(reply, BaseException) and reply[0] == "ok":
                for _, descriptor in reply[1]:
                    try:
                        self.store.open(descriptor)
                    except errors.OpError:
                        pass

    def _finish(self, replies, slots):
        store = self.store
        failure = None
        rank_of_failure = -1
        traces = None
        for part, reply in replies:
            if isinstance(reply, BaseException):
                error, node, rank = reply, -1, 2
            elif reply[0] == "ok":
                for fetch_index, descriptor in reply[1]:
                    slots[self.fetch_slots[fetch_index]] = store.open(descriptor, writable=True)
                if len(reply) > 2:
                    traces = traces or []
                    traces.append((part, reply[2]))
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
            if traces is not None:  # in device order, as the partitions are
                order = {id(part): index for index, part in enumerate(self.parts)}
                traces.sort(key=lambda item: order[id(item[0])])
            return traces
        if failure_node >= 0:
            raise NodeFailure(failure_node, failure)
        raise failure
