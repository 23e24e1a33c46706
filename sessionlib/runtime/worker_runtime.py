"""The worker-process runtime: a session's devices are device worker processes.

Design. A session that uses workers owns one `WorkerRuntime`, its share of the client's
`devices.DevicePool`. It implements the runtime interface (``runtime/interface.py``) with the
worker processes as the device backend:

* Compile (once per step key): prune, place and partition the step (``runtime/partition.py``,
  which compiles and fuses each partition once), and install each device's plan on its worker
  over the control pipe (pickled plain values, the only pickles that cross processes).
* Run (`WorkerStep.run`): borrow rendezvous run slots when the step has cross-device edges
  (one per 31 edges; the workers map a block of slots added since their last such run), post
  one small marshalled message per partition to a free lane of its worker (step key, run
  slots, generation, step id, deadline, feed descriptors, and a trace flag only when tracing),
  then gather the replies: spin, then futex sleep in slices, checking between slices whether a
  worker died (then the run is aborted and fails with `UnavailableError` naming the device),
  whether the session was closed, and Ctrl-C (which cancels the run on the workers and leaves
  them usable), and whether the run's deadline passed: a device that has not answered by then
  (stopped, or in a long kernel) fails the run with `DeadlineExceededError` naming it, and its
  lane is abandoned until the late reply comes. Lanes and run slots grow on demand
  (``runtime/devices.py``); the control requests that add them honour the deadline and the
  session's cancellation too. A step with one partition, no edge and no fed fetch (the
  latency case) takes a short path: no run slot, no generation, a lane taken without the
  lock.
* Buffers move through shared memory (``runtime/shm.py``): feeds are published by the client,
  fetched tensors by the workers, cross-device values by `_Send` kernels.
* Traced runs: the workers run the executor's traced loop and send back per-node
  CLOCK_MONOTONIC times and output descriptions, which become one `DeviceStepStats` per device
  (see ``runtime/tracing.py``), and the partition graphs.
* Clean-up: steps the session dropped (garbage collected) are uninstalled from the workers
  before the next run; a run slot whose run was abandoned is reused only after its lanes
  drained; deletions in the client container (dropped session handles) reach the workers.
* Errors: a worker reports (code, message, position of the failing node in its partition's
  plan); the step rebuilds the `OpError` with its `Operation` and device
  (``runtime/failures.py``). Of several failures the root cause wins: a kernel error over the
  aborts it caused.
"""

import collections
import itertools
import marshal
import pickle
import reprlib
import time
import weakref

import numpy as np

from sessionlib import errors
from sessionlib._core import cores as _cores
from sessionlib.runtime import (channel, context, devices, failures, function_trace, interface,
                                partition, shm, tracing)
from sessionlib.runtime.interface import fetched_value

__all__ = ["WorkerRuntime", "WorkerStep", "finish_replies", "fill_trace", "malformed_reply"]

_GRACE_S = 1.0     # how long the other partitions may take to stop after one failed
# How long after the run's deadline a device that has not answered is given up on. A worker
# blocked in a wait fails the run itself at the deadline, with the op that waited (a better
# error); this margin lets that reply arrive first. A stopped worker, or one stuck in a long
# kernel, never replies in time: the client then fails the run without it.
_DEADLINE_MARGIN_S = 0.25
# `channel.encode`/`decode`, inlined on the latency path (a function call is ~5% of a step).
_dumps, _loads, _checked = marshal.dumps, marshal.loads, channel.checked
_SPILLED = ord("S")
_step_keys = itertools.count(1)


class WorkerRuntime(interface.Runtime):
    """A session's share of the device pool.

    Args:
      graph, placer, fuse: as for `interface.Runtime`.
      session_id: a string unique to the session (its resource containers on the workers).
      threads: kernel threads per worker.
      executor_name: the executor the workers run plans with ('cython' or 'reference').

    Raises:
      UnavailableError: if a worker cannot be started.
    """

    def __init__(self, graph, placer, fuse, session_id, threads, executor_name,
                 rewrites=None):
        super().__init__(graph, placer, fuse, rewrites)
        self.session_id = session_id
        self.executor_name = executor_name
        self.pool = devices.pool()
        wanted = [devices.type_and_index(name) for name in self.device_names]
        gpus = sum(1 for device_type, _ in wanted if device_type == "GPU")
        # Each emulated GPU has a fixed share of the cores (runtime/cores.py says why).
        gpu_cap = devices.cores.gpu_cores(gpus)
        self.workers = self.pool.workers_for(wanted, threads, gpu_cap)
        self.worker_of = dict(zip(self.device_names, self.workers))
        self.closed = False
        # The session's client-side container: deletions in it go on to the workers.
        self.resources = context.ForwardingResourceContainer(session_id)
        # Keys of steps that were garbage collected (the step cache dropped them after the
        # graph changed): uninstalled from the workers at the next run or compile.
        self.retired_keys = collections.deque()

    def _device_pids(self):
        return [worker.pid for worker in self.workers]

    def _device_cores(self):
        # A GPU worker's cap (budgeted) or its fixed threads; CPU workers share the budget.
        return [(worker.core_cap or worker.threads or None) if worker.device_type == "GPU"
                else None for worker in self.workers]

    def configure_memory(self, limits):
        for name, limit in zip(self.device_names, limits):
            self.worker_of[name].request("memory_limit", self.session_id, name, int(limit))

    def _memory_usage(self):
        usage = []
        for name in self.device_names:
            reply = self.worker_of[name].request("memory", self.session_id)
            usage.append(reply[1] if reply[0] == "memory" and reply[1] else (0, 0, 0))
        return usage

    def _compile_placed(self, order, devices_of_ops, feed_tensors, fetch_tensors, raw):
        """Partitions a placed step and installs it on the workers.

        Raises:
          UnavailableError: if a worker died.
          NotFoundError: if a worker does not know a kernel of the step.
          ResourceExhaustedError: for more than `channel.MAX_EDGES_PER_STEP` cross-device
            edges.
        """
        parted = partition.partition(order, devices_of_ops, feed_tensors, fetch_tensors,
                                     self.device_names, self._fuse,
                                     self._rewrites)
        if parted.num_edges > channel.MAX_EDGES_PER_STEP:
            raise devices.too_many_edges(parted.num_edges)
        if self.retired_keys:
            self.uninstall_retired()
        key = next(_step_keys)
        parts = []
        try:
            for plan in parted.partitions:
                worker = self.worker_of[plan.device]
                reply = worker.request("install", self.session_id, key,
                                       _plan_bytes(plan), self.executor_name)
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
        return WorkerStep(self, key, parts, parted, len(fetch_tensors), order, devices_of_ops,
                          raw)

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
        keys = self.resources.take_forwarded()
        if not keys:
            return
        for worker in self.workers:
            if not worker.dead:
                try:
                    worker.request("delete_resources", self.session_id, keys)
                except errors.OpError:
                    pass  # a dead worker took its resources with it

    def clear_containers(self, containers):
        """Clears the named resource containers of this session, here and on every worker."""
        self.resources.clear_containers(containers)
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
        self.resources.clear()
        for worker in self.workers:
            worker.notify("close_session", self.session_id)
        self._forget_steps()


def malformed_reply(part, cause):
    """The error of a run whose device `part` answered with something that is not a reply
    of the runtime (a lane is writable by any process of the user; see ``channel.py``; a Ray
    actor's reply is as untrusted)."""
    return errors.InternalError(None, None, f"Device {part.device} sent a malformed reply: "
                                f"{cause}")


def _plan_bytes(plan):
    """`plan` pickled for a worker.

    Raises:
      UnimplementedError: when a node's attrs hold a Python object that cannot cross to a
        process (a tf.data pipeline's dataset description, its traced functions): such steps
        run only in an in-process session.
    """
    try:
        return pickle.dumps(plan, 5)
    except (TypeError, AttributeError, pickle.PicklingError) as err:
        names = [name for name, attrs in zip(plan.plan.names, plan.plan.attrs)
                 if not _picklable(attrs)]
        raise errors.UnimplementedError(
            None, None, f"The step's ops {names[:5]} hold Python objects that cannot be sent "
            f"to the device worker of {plan.device} ({err}). Such ops (tf.data iterators) run "
            "only in a session whose one device runs in the client: device_count "
            "{'CPU': 1}, with SESSIONLIB_WORKERS unset.") from None


def _picklable(value):
    try:
        pickle.dumps(value, 5)
        return True
    except Exception:  # noqa: BLE001 - any failure means "cannot cross"
        return False


def _checked_reply(part, reply):
    """`reply` (decoded) if it is a well-formed reply of `part`, else the `InternalError`
    that names its device: ``("ok", [(fetch index, descriptor), ...][, trace])`` with the
    partition's fetch indices in order, or ``("err", code, message, plan node or -1[, op
    index])``, the last the failing member of a node that runs several ops (made -1 when
    absent).
    Descriptors are checked when they are opened (``shm.TensorStore.open``)."""
    if type(reply) is tuple and reply:
        if reply[0] == "ok" and len(reply) in (2, 3) and type(reply[1]) is list:
            fetched = reply[1]
            if (len(fetched) == len(part.fetch_indices)
                    and all(type(item) is tuple and len(item) == 2 and item[0] == index
                            for item, index in zip(fetched, part.fetch_indices))
                    and (len(reply) == 2 or (type(reply[2]) is tuple and len(reply[2]) == 6
                                             and (reply[2][5] is None
                                                  or (type(reply[2][5]) is tuple
                                                      and len(reply[2][5]) == 5))))):
                return reply
        elif (reply[0] == "err" and len(reply) in (4, 5) and type(reply[1]) is int
              and errors.OK < reply[1] <= errors.UNAUTHENTICATED and type(reply[2]) is str
              and type(reply[3]) is int and -1 <= reply[3] < len(part.plan.plan)
              and (len(reply) == 4 or type(reply[4]) is int)):
            return reply if len(reply) == 5 else reply + (-1,)
    return malformed_reply(part, reprlib.repr(reply))


class _Part:
    """One installed partition of a `WorkerStep`: the worker that runs it, and its plan."""

    __slots__ = ("worker", "plan", "device", "feeds", "fetch_indices")

    def __init__(self, worker, plan):
        self.worker = worker
        self.plan = plan
        self.device = plan.device
        self.feeds = plan.feeds
        # The fetch indices of this partition's "ok" replies, in the order the worker sends
        # them (`_checked_reply` holds a reply to it).
        self.fetch_indices = [index for index, _ in plan.fetches]


class WorkerStep(interface.Step):
    """A step installed on its workers; `run` executes it once.

    Attributes:
      key: the step's key on the workers (unique in this client).
      parts: the installed partitions, in device order.
      parted: the `partition.PartitionedStep` (traces and partition graphs describe it).
      ops, devices: the step's ops in order, and the device of each (errors name them).
    """

    def __init__(self, runtime, key, parts, parted, num_fetches, ops, devices_of_ops, raw):
        self.runtime = runtime
        self.key = key
        self.parts = parts
        self.parted = parted
        self.ops = ops
        self.devices = devices_of_ops
        self.num_edges = parted.num_edges
        self.num_fetches = num_fetches
        self.fed_fetches = parted.fed_fetches
        self.raw = raw
        # How many partitions read each feed: a shared feed block is leased once per reader.
        self.feed_readers = {}
        for part in parts:
            for feed_index, _ in part.feeds:
                self.feed_readers[feed_index] = self.feed_readers.get(feed_index, 0) + 1
        # The order a run posts its parts in: those without feeds first, as they need no
        # copy before their message (see `_post_and_gather`).
        self.posting_order = sorted(parts, key=lambda part: bool(part.feeds))
        self.store = shm.store()
        # The latency case: one partition holds every fetch, in fetch order (see `_run_single`).
        if len(parts) == 1 and not self.num_edges and not self.fed_fetches:
            self.single = parts[0]
            self.run = self._run_single
        else:
            self.single = None
        # Nobody can run a collected step, so its plans are retired then, not before.
        weakref.finalize(self, runtime.retired_keys.append, key)

    def run(self, feed_values, run_context, trace=None):
        """Runs the step (see `interface.Step.run`).

        Raises:
          OpError: a kernel failed (with its op and device), a worker died
            (`UnavailableError`), or as reported (AbortedError, CancelledError, ...).
          KeyboardInterrupt: after the run was cancelled on the workers.
        """
        runtime = self.runtime
        if runtime.closed:
            raise errors.CancelledError(None, None, "Session has been closed.")
        if runtime.resources.forwarded:
            runtime.forward_deletions()
        if runtime.retired_keys:
            runtime.uninstall_retired()
        if self.single is not None and trace is None:
            # The checks above made it take the fast path.
            return self._run_single(feed_values, run_context)
        want_stats = trace is not None and trace.step_stats
        replies = self._post_and_gather(feed_values, run_context, want_stats)
        values, traces = self._finish(replies, feed_values)
        if trace is not None:
            self._fill_trace(trace, traces)
        return values

    def _post_and_gather(self, feed_values, ctx, want_stats):
        """Posts the run to every partition and gathers their replies.

        Returns:
          ``[(part, reply or exception)]``.
        """
        parts = self.posting_order
        if not parts:
            return []
        pool = self.runtime.pool
        store = self.store
        generation = pool.next_generation() if self.num_edges else 0
        run_slots = pool.acquire_run_slots(self.num_edges) if self.num_edges else ()
        published = {}
        posted = []
        abandoned = []   # posted parts whose reply may still come: the run slot waits for them
        gathering = False
        lanes = []
        try:
            if run_slots:   # workers map the blocks of run slots added since their last run
                blocks = len(pool.rendezvous.names)
                for part in parts:
                    if part.worker.rendezvous_known < blocks:
                        part.worker.attach_rendezvous(pool.rendezvous, ctx.deadline,
                                                      ctx.cancellation)
            # Every lane first: a run that cannot get one (deadline, cancellation) has then
            # published nothing that a partition would have to consume.
            try:
                for part in parts:
                    lanes.append(part.worker.acquire_lane(ctx.deadline, ctx.cancellation))
            except BaseException:
                for part, lane in zip(parts, lanes):
                    part.worker.release_lane(lane)
                raise
            feed_readers = self.feed_readers
            for part_index, (part, lane) in enumerate(zip(parts, lanes)):
                # Each part's feeds are published just before its message, not all before
                # the first: a device without feeds (the variables' CPU:0 of a multi-tower
                # step, whose sends the towers wait for) starts without waiting for the copies
                # of the other devices' feeds, which then overlap its work.
                try:
                    for feed_index, _ in part.feeds:
                        if feed_index not in published:
                            published[feed_index] = store.publish(
                                feed_values[feed_index], consumers=feed_readers[feed_index])
                    feeds = [(slot, published[feed_index]) for feed_index, slot in part.feeds]
                    message = (self.key, run_slots, generation, ctx.step_id, ctx.deadline,
                               feeds)
                    if want_stats:
                        message += (1,)
                    lane.post_request(channel.encode(message, store, lane.capacity))
                except BaseException:
                    for unposted_part, unposted_lane in zip(parts[part_index:],
                                                            lanes[part_index:]):
                        unposted_part.worker.release_lane(unposted_lane)
                    raise
                posted.append((part, lane))
            gathering = True
            return self._gather(posted, ctx, run_slots, generation, abandoned)
        except BaseException:
            if not gathering:  # (the gather gives back or abandons each lane itself)
                self._abandon(posted, published, run_slots, generation)
                abandoned = posted
            raise
        finally:
            if run_slots:
                if abandoned:
                    pool.quarantine_run_slots(run_slots, abandoned)
                else:
                    pool.release_run_slots(run_slots)

    def _run_single(self, feed_values, run_context, trace=None):
        """`run` for a step with one partition, no cross-device edge and no fed fetch, the
        latency case: no rendezvous slot, no generation, one message out and one back."""
        runtime = self.runtime
        if (trace is not None or runtime.closed or runtime.resources.forwarded
                or runtime.retired_keys):
            # The checks and clean-ups of the general path.
            return WorkerStep.run(self, feed_values, run_context, trace)
        part = self.single
        worker = part.worker
        store = self.store
        publish = store.publish
        feeds = [(slot, publish(feed_values[feed_index])) for feed_index, slot in part.feeds]
        try:
            lane = worker.free_lanes.pop()   # atomic; acquire_lane waits when none is free
        except IndexError:
            lane = None
        try:
            if lane is None:
                lane = worker.acquire_lane(run_context.deadline, run_context.cancellation)
            message = (self.key, (), 0, run_context.step_id, run_context.deadline, feeds)
            data = _dumps(message)
            if len(data) >= lane.capacity:  # a large feed list spills
                data = channel.encode(message, store, lane.capacity)
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
            replies = self._gather([(part, lane)], run_context, (), 0, [], interrupted)
            return self._finish(replies, feed_values)[0]
        worker.free_lanes.append(lane)
        try:
            reply = _loads(_checked(data)) if data[0] != _SPILLED else channel.decode(data)
            # The fast path reads the fetches by position (they come in fetch order), so
            # only their number is checked here; each item is unpacked and its descriptor
            # checked as it is opened.
            ok = (type(reply) is tuple and len(reply) == 2 and reply[0] == "ok"
                  and type(reply[1]) is list and len(reply[1]) == self.num_fetches)
        except (ValueError, TypeError, IndexError, KeyError) as err:
            raise malformed_reply(part, err) from None
        if not ok:
            return self._finish([(part, _checked_reply(part, reply))], feed_values)[0]
        open_tensor = store.open
        # The fetches come in fetch order. An inline 0-d result is opened read-only: it
        # becomes a numpy scalar, or is only read by later pieces, so it needs no copy.
        try:
            if self.raw:
                return [open_tensor(descriptor, descriptor[0] != "i" or bool(descriptor[2]))
                        for _, descriptor in reply[1]]
            return [fetched_value(open_tensor(descriptor,
                                              descriptor[0] != "i" or bool(descriptor[2])))
                    for _, descriptor in reply[1]]
        except (ValueError, TypeError, IndexError, KeyError) as err:
            raise malformed_reply(part, err) from None

    def _abandon(self, posted, published, run_slots, generation):
        """Cleans up after posting failed or was interrupted before the replies were
        gathered: cancels the posted parts (their lanes drain later) and takes back the
        feeds no worker will open."""
        store = self.store
        # The feeds that no posted part will open (all of them when none was posted).
        opened = {feed_index for part, _ in posted for feed_index, _ in part.feeds}
        for feed_index, descriptor in published.items():
            if feed_index not in opened:
                store.cancel(descriptor)
        if not posted:
            return
        for part, lane in posted:
            lane.cancel()
            part.worker.abandon_lane(lane)
        if run_slots:
            self.runtime.pool.rendezvous.abort(run_slots, generation, self.num_edges)

    def _gather(self, posted, ctx, run_slots, generation, abandoned, interrupted=None):
        """The replies of all posted partitions (a reply or an exception per part).

        Waits for the replies in slices; between slices it checks whether a worker died,
        whether the run was cancelled or interrupted, and whether the run's deadline passed.
        A device that has not answered by the deadline (plus `_DEADLINE_MARGIN_S`), or within
        `_GRACE_S` after the run failed or was cancelled, is given up on: its lane is cancelled
        (a worker that resumes stops the run) and abandoned (reused once its late reply came,
        which is then discarded), and its reply becomes an error that names it.

        Args:
          run_slots: the run's rendezvous run slots (empty for a run without edges).
          abandoned: a list; gets the ``(part, lane)`` of each part given up on (its run slots
            must not be reused until the lane drains), also when this raises.
          interrupted: a KeyboardInterrupt that already arrived (cancel the run, re-raise it).

        Returns:
          ``[(part, reply or exception)]``; every lane is given back or abandoned.
        """
        replies = {}
        pending = list(posted)
        grace_deadline = None
        cancelled = False

        def take(part, lane, data):
            pending.remove((part, lane))
            part.worker.release_lane(lane)
            try:
                reply = _checked_reply(part, channel.decode(data))
            except ValueError as err:
                reply = malformed_reply(part, err)
            replies[id(part)] = (part, reply)

        while pending:
            part, lane = pending[0]
            try:
                data = lane.wait_response(
                    channel.WAIT_SLICE_S, 0.0 if _cores.others_fill_cores(len(pending)) else -1.0)
            except KeyboardInterrupt as interrupt:
                interrupted = interrupt
                data = None
            if data is not None:
                take(part, lane, data)
                reply = replies[id(part)][1]
                if ((isinstance(reply, BaseException) or reply[0] != "ok") and len(pending)
                        and grace_deadline is None):
                    grace_deadline = time.monotonic() + _GRACE_S
                continue
            # A slice passed without this reply: check the world before waiting again.
            for other_part, other_lane in list(pending):
                if not other_part.worker.alive():
                    pending.remove((other_part, other_lane))
                    replies[id(other_part)] = (other_part, other_part.worker.unavailable())
                    if run_slots:
                        runtime_rdv = self.runtime.pool.rendezvous
                        runtime_rdv.abort(run_slots, generation, self.num_edges)
                    if grace_deadline is None:
                        grace_deadline = time.monotonic() + _GRACE_S
            if (interrupted is not None or ctx.cancellation.cancelled) and not cancelled:
                cancelled = True
                for _, other_lane in pending:
                    other_lane.cancel()
                if run_slots:
                    self.runtime.pool.rendezvous.abort(run_slots, generation, self.num_edges)
                if grace_deadline is None:
                    grace_deadline = time.monotonic() + _GRACE_S
            now = time.monotonic()
            if ctx.deadline is not None and now > ctx.deadline + _DEADLINE_MARGIN_S:
                late_error, why = errors.DeadlineExceededError, (
                    "did not answer before the run's deadline (its worker may be stopped or "
                    "busy in a long kernel); its late answer will be discarded")
            elif grace_deadline is not None and now > grace_deadline:
                late_error, why = errors.AbortedError, (
                    "did not stop in time after the step failed or was cancelled")
            else:
                continue
            for other_part, other_lane in list(pending):
                data = other_lane.wait_response(0)   # it may have answered meanwhile
                if data is not None:
                    take(other_part, other_lane, data)
                    continue
                other_lane.cancel()
                other_part.worker.abandon_lane(other_lane)
                abandoned.append((other_part, other_lane))
                replies[id(other_part)] = (other_part, late_error(
                    None, None, f"Device {other_part.device} {why}"))
            if run_slots:  # wakes the partitions that wait for a tensor of a late one
                self.runtime.pool.rendezvous.abort(run_slots, generation, self.num_edges)
            if interrupted is not None:
                self._discard(replies.values())
                raise interrupted
            return list(replies.values())
        if interrupted is not None:
            self._discard(replies.values())
            raise interrupted
        return list(replies.values())

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

    def _finish(self, replies, feed_values):
        """`finish_replies` for this step: fetched values open from the tensor store."""
        store = self.store
        return finish_replies(self, replies, feed_values, lambda part, fetched: [
            (fetch_index, store.open(descriptor, writable=True))
            for fetch_index, descriptor in fetched])

    def _fill_trace(self, trace, traces):
        """Fills `trace.run_metadata` after a successful run (`fill_trace`; the workers'
        times are CLOCK_MONOTONIC, comparable across processes)."""
        fill_trace(trace, self, traces, time.time_ns() - time.monotonic_ns())


def finish_replies(step, replies, feed_values, open_fetched):
    """The fetched values and the trace records of a run's replies from its devices.

    Args:
      step: the partitioned step (its `num_fetches`, `fed_fetches`, `raw`, `ops`, `devices`
        and `parts`).
      replies: ``[(part, reply)]``: an exception, ``("ok", fetched[, trace record])`` or a
        device's ``("err", ...)`` reply.
      feed_values: the run's feed values (a fed fetch is its feed's value).
      open_fetched: ``(part, fetched) -> [(fetch index, array)]``: the arrays of an ``ok``
        reply's fetched list; ValueError, TypeError, IndexError or KeyError for a malformed
        one, which fails the run as that device's error.

    Returns:
      ``(values, traces)``: `values` as `run` returns them; `traces`, when the devices traced,
      ``[(part, trace record)]`` in device order (see ``worker._trace_reply``), else None.

    Raises:
      The root failure among the replies (``failures.ranked_error_of_reply``); CancelledError
      instead once the session is closed.
    """
    values = [None] * step.num_fetches
    for fetch_index, feed_index in step.fed_fetches:
        values[fetch_index] = feed_values[feed_index]
    failure = None
    rank_of_failure = -1
    traces = None
    for part, reply in replies:
        if isinstance(reply, BaseException):
            error, rank = reply, 2
        elif reply[0] == "ok":
            try:
                for fetch_index, value in open_fetched(part, reply[1]):
                    values[fetch_index] = value if step.raw else fetched_value(value)
            except (ValueError, TypeError, IndexError, KeyError) as err:
                error, rank = malformed_reply(part, err), 2
            else:
                if len(reply) > 2:
                    traces = traces or []
                    traces.append((part, reply[2]))
                continue
        else:
            error, rank = failures.ranked_error_of_reply(reply, part.plan.plan, step.ops,
                                                         step.devices)
        if rank > rank_of_failure:
            failure, rank_of_failure = error, rank
    if failure is not None:
        if step.runtime.closed and isinstance(failure, errors.OpError):
            # A run racing the session's close reached a device that had already dropped
            # the session's steps: to the caller, as in TF, the close cancelled it.
            cause, failure = failure, errors.CancelledError(
                None, None, "Session has been closed or reset.")
            failure.__cause__ = cause
        # The fetched values of the parts that succeeded go now (the list and the loop's
        # last one): the error's traceback keeps this frame (a cycle, through `failure`)
        # until a garbage collection, and their blocks would stay leased in /dev/shm.
        values.clear()
        value = None
        raise failure
    if traces is not None:  # in device order, as the partitions are
        order = {id(part): index for index, part in enumerate(step.parts)}
        traces.sort(key=lambda item: order[id(item[0])])
    return values, traces


def fill_trace(trace, step, traces, epoch_offset_ns, process="worker"):
    """Fills `trace.run_metadata` after a successful run of a partitioned step: one
    `DeviceStepStats` per device that ran something (`_Send`/`_Recv` nodes included) from the
    devices' trace records (``worker._trace_reply``), and each device's partition as a
    `GraphDef`, with its send/recv nodes.

    Args:
      step: the step (its ``parts``, each with ``plan`` and ``device``, and ``parted``).
      traces: ``[(part, trace record)]`` in device order, or None.
      epoch_offset_ns: added to the records' times to give epoch nanoseconds.
      process: what runs a device, for the thread names (``"worker pid 42 (...)"``).
    """
    run_metadata = trace.run_metadata
    run_metadata.Clear()
    if trace.step_stats:
        for part, (pid, thread_id, thread_name, times, outputs, functions) in traces or ():
            times = np.frombuffer(times, dtype=np.int64).reshape(-1, tracing.MEMORY_COLUMNS)
            rows = (part.plan.plan.names, step.parted.timeline_labels(part.device), times,
                    outputs)
            if functions is not None:   # what its If/While ops noted and ran
                rows = function_trace.rows_of_reply(*rows, functions)
            tracing.add_device_stats(
                run_metadata.step_stats, part.device, *rows, epoch_offset_ns, pid,
                f"{process} pid {pid} ({thread_name}, tid {thread_id})")
    if trace.partition_graphs:
        for part in step.parts:
            run_metadata.partition_graphs.add().CopyFrom(
                step.parted.partition_graph(part.device))
