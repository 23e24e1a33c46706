"""One device of a Ray cluster: the state and methods of a device actor.

Design. ``runtime/ray_runtime.py`` makes this class a Ray actor (one named, detached actor per
device, so that it outlives the sessions and clients that use it, as TF's workers do). This
module does not import Ray at import time: it is the device backend's worker side and sees
Ray only where a tensor leaves for another device. It imports nothing but the runtime (and its
kernels), as a worker process does.

The five things a device backend provides (``runtime/__init__.py``):

1. *install*: `install` takes a pickled `partition.PartitionPlan` (plain values, kernels named,
   the same bytes a worker process gets) once per compiled step, rebinds its kernels from this
   process's kernel table, and keeps it under a key unique in the cluster; `uninstall` drops
   keys.
2. *run*: `run` gets one small message per step run: the step key, the run id, the step id,
   the time left before the run's deadline (clocks are not shared between hosts), the slots of
   its feeds, and the feed values themselves (numpy arrays that Ray resolved from the client's
   object references: large ones are read-only, zero-copy views of the node's object store).
   It answers ``("ok", [(fetch index, array), ...])`` or ``("err", code, message, plan node,
   op index)``, from which the client rebuilds the `OpError` with its op and device. A traced
   run (a trace flag ends the message) runs the executor's traced loop and adds the worker
   processes' trace record (epoch times, output descriptions, memory figures). The device's
   memory account (``runtime/memory.py``) charges what its kernels allocate and what it
   receives, as a worker's does; a request over its limit fails with TF's OOM.
3. *move buffers*: a `_Send` calls the consumer device's `deliver` (Ray moves the array
   through the object store; through Ray's transfer between nodes), and a `_Recv` waits for
   the delivery under the run id (`_Mailbox`). A delivery may arrive before the receiving
   partition started: the mailbox is made by whichever comes first.
4. *resource containers*: one `ResourceContainer` per device, shared by every session on the
   target (TF's distributed sessions share the default container of a worker); `clear`
   drops named containers or all of them (`Session.reset`).
5. *close*: `abort` fails a run's waits here (another device failed, the client cancelled
   the run or gave up); `close_session` drops a session's plans.

The actor is threaded (Ray's ``max_concurrency``): a run blocked in a `_Recv` must not keep
`deliver`, `abort` or another session's run from being served.
"""

import collections
import os
import threading
import time
import traceback

__all__ = ["RayDevice", "pack", "unpack", "INLINE_BYTES"]

_WAIT_SLICE_S = 0.1
# Arrays up to this size travel inside the run message and its reply, as (dtype, shape, bytes)
# in one marshalled blob: each separate argument costs Ray a serialization (a numpy array
# more than most), which the latency of a small step would pay. Larger arrays are separate
# arguments and results, which Ray moves through the object store without copies.
INLINE_BYTES = 1 << 14
_FINISHED_RUNS_KEPT = 4096   # late deliveries to runs this recent are dropped, not kept


def pack(array):
    """``(dtype str, shape, bytes)`` of a small array of a plain dtype, else None."""
    import numpy as np

    dtype = array.dtype
    if dtype.hasobject or array.nbytes > INLINE_BYTES or np.dtype(dtype.str) != dtype:
        return None
    return (dtype.str, array.shape, array.tobytes())


def unpack(dtype, shape, data):
    """The read-only array of a `pack`ed one."""
    import numpy as np

    return np.frombuffer(data, dtype).reshape(shape)


class _Mailbox:
    """The tensors delivered to one run of one partition, by edge."""

    __slots__ = ("values", "aborted")

    def __init__(self):
        self.values = {}
        self.aborted = None    # the reason, once the run was aborted


class _Rendezvous:
    """The `ctx.rendezvous` of one partition run on a device actor."""

    __slots__ = ("device", "run_id", "peers", "mailbox", "deadline", "handed_over")

    def __init__(self, device, run_id, peers, mailbox, deadline):
        self.device = device
        self.run_id = run_id
        self.peers = peers          # edge -> the consumer device's actor handle
        self.mailbox = mailbox
        self.deadline = deadline
        # A traced run sets a dict: edge -> when its tensor was handed over (trace clock).
        self.handed_over = None

    def send(self, edge, value):
        if self.handed_over is not None:
            from sessionlib._core.executor import trace_clock_ns

            self.handed_over[edge] = trace_clock_ns()
        # Fire and forget: Ray keeps the order of calls from one caller to one actor, and a
        # lost consumer fails its own run (the client sees the dead actor).
        self.peers[edge].deliver.remote(self.run_id, edge, value)

    def recv(self, edge):
        from sessionlib import errors

        device = self.device
        mailbox = self.mailbox
        with device.changed:
            while edge not in mailbox.values:
                if mailbox.aborted is not None:
                    raise errors.AbortedError(None, None, mailbox.aborted)
                timeout = _WAIT_SLICE_S
                if self.deadline is not None:
                    remaining = self.deadline - time.monotonic()
                    if remaining <= 0:
                        raise errors.DeadlineExceededError(
                            None, None, f"Timed out waiting for a tensor on {device.name}")
                    timeout = min(timeout, remaining)
                device.changed.wait(timeout)
            value = mailbox.values.pop(edge)
        if value is None:
            return _control_token()
        _charge_received(device.memory, value)
        return value


def _charge_received(account, value):
    """Charges a received tensor to the device's memory account while the device holds it:
    Ray made its buffer (a view of the object store, or of the message), which numpy's
    allocation handler never saw, as a worker's received shared-memory views.

    Raises:
      MemoryError: the tensor would take the device over its limit (OOM, as locally).
    """
    import numpy as np

    from sessionlib.runtime import partition

    if not isinstance(value, np.ndarray) or not value.nbytes:
        return
    owner = value
    while isinstance(owner.base, np.ndarray):
        owner = owner.base
    if owner.flags.owndata:      # numpy allocated it: the handler of its thread charged it
        return
    if not account.charge(value.nbytes):
        raise partition.refused(value.shape, value.dtype)
    partition.hold_charged(account, value)


def _control_token():
    """What a `_Recv` of a control edge yields: a read-only boolean scalar (as locally)."""
    import numpy as np

    token = np.zeros((), dtype=np.bool_)
    token.setflags(write=False)
    return token


class _Cancellation:
    """The cancellation a run's kernels see: its abort flag (a `CancellationManager` shape),
    and `also` (a callable: the same-node path's cancel word and client liveness) if given."""

    __slots__ = ("mailbox", "also")

    def __init__(self, mailbox, also=None):
        self.mailbox = mailbox
        self.also = also

    @property
    def cancelled(self):
        return self.mailbox.aborted is not None or (self.also is not None and self.also())

    def cancel(self):
        pass

    def _register(self, condition):
        pass

    def _unregister(self, condition):
        pass


class _Installed:
    __slots__ = ("session", "executor", "bound", "num_slots", "fetches", "peers", "num_edges")

    def __init__(self, session, executor, bound, num_slots, fetches, peers, num_edges):
        self.session = session
        self.executor = executor
        self.bound = bound
        self.num_slots = num_slots
        self.fetches = fetches
        self.peers = peers
        self.num_edges = num_edges


class RayDevice:
    """A device of the cluster (see the module docstring); Ray makes it an actor.

    Args:
      name: the device's full name, ``/job:worker/replica:0/task:<k>/device:CPU:<j>``.
      threads: the kernel threads of this device (OpenMP and BLAS), or 0 to leave them.
    """

    def __init__(self, name, threads=0):
        import sessionlib.runtime.kernels  # noqa: F401 - fills the kernel table
        import sessionlib.runtime.partition  # noqa: F401 - the _Send/_Recv kernels
        from sessionlib.runtime import context

        if threads:
            from sessionlib._core import elementwise
            from sessionlib.runtime import worker

            # The node's cores are shared by its devices: OpenMP kernels and BLAS get this
            # device's share (numpy, so BLAS, is loaded already: its own setter is used).
            for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
                os.environ[variable] = str(threads)
            worker.limit_blas_threads(threads)
            elementwise.set_num_threads(threads)
        from sessionlib._core import device_memory
        from sessionlib.runtime import memory

        self.name = name
        self.resources = context.ResourceContainer(name)
        # The device's memory account (``runtime/memory.py``), shared by the sessions on the
        # target as the resources are: what the device's kernels allocate and the tensors it
        # received count against its limit (the last session to set one wins).
        self.memory = device_memory.DeviceMemory(
            name, memory.default_memory_limit(memory.device_type(name)),
            memory.allocator_name(name))
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.installed = {}          # step key -> _Installed
        self.mailboxes = {}          # run id -> _Mailbox
        self.finished = collections.OrderedDict()   # run ids done here (late deliveries)

    # ---- control ---------------------------------------------------------------------------

    def describe(self):
        """``(pid, node address, node id)`` of this actor."""
        import ray

        return (os.getpid(), ray.util.get_node_ip_address(),
                ray.get_runtime_context().get_node_id())

    def placement_group(self):
        """The hex id of the placement group this actor runs in (its task's), or None."""
        import ray

        group = ray.get_runtime_context().get_placement_group_id()
        return group or None

    def install(self, session, key, payload, executor_name, peers):
        """Installs a partition plan under `key` (see the module docstring).

        Args:
          session: the client session's handle (`close_session` drops its keys).
          payload: the pickled `PartitionPlan`.
          executor_name: 'cython' or 'reference'.
          peers: ``{edge: actor handle}``, the consumer of each edge this partition sends.

        Returns:
          ``("ok",)``, or ``("error", message)``.
        """
        import pickle

        from sessionlib.runtime import executor as executor_lib
        from sessionlib.runtime import ray_fastpath
        from sessionlib.runtime.plan import bind_kernels

        partition_plan = pickle.loads(payload)
        try:
            plan = partition_plan.plan.rebind()
        except KeyError as err:
            return ("error", f"NotFoundError: {err.args[0]} (on the actor of {self.name})")
        executor = executor_lib.get_executor(executor_name)
        reference = executor.name == "reference"
        if ray_fastpath.serving():
            from sessionlib._core import shmalloc
            from sessionlib.runtime.worker import _arena_kernels

            # For a client on this node, the kernels whose outputs leave the device allocate
            # large arrays in this process's shared arena (charged to the device), as in a
            # worker process: the same-node path (``ray_fastpath.py``) then hands them over
            # where they lie. (Only then: a device only Ray serves keeps nothing in /dev/shm.)
            kernels = _arena_kernels(plan, reference, partition_plan.shared_slots,
                                     shmalloc.charging_handler(self.memory.handler))
        else:
            kernels = bind_kernels(plan, reference)
        bound = executor.bind(plan, kernels)
        with self.lock:
            self.installed[key] = _Installed(session, executor, bound, plan.num_slots,
                                             partition_plan.fetches, peers,
                                             partition_plan.num_edges)
        return ("ok",)

    def uninstall(self, keys):
        with self.lock:
            for key in keys:
                self.installed.pop(key, None)

    def close_session(self, session):
        """Drops the plans of a closed session (its resources stay: they are shared)."""
        with self.lock:
            for key in [key for key, entry in self.installed.items()
                        if entry.session == session]:
                del self.installed[key]

    def clear(self, containers):
        """Drops the resources of the named containers (all of them for None)."""
        self.resources.clear_containers(None if containers is None else list(containers))
        return ("ok",)

    def ping(self):
        return ("ok",)

    def attach_lanes(self, client_pid, block_name, count, slot_bytes, rendezvous_name):
        """Serves a client on this node through shared memory (``ray_fastpath.py``).

        Returns:
          ``("ok", pid)``, or ``("error", message)`` (the client then keeps to Ray).
        """
        from sessionlib.runtime import ray_fastpath

        return ray_fastpath.serve(self, client_pid, block_name, count, slot_bytes,
                                  rendezvous_name)

    def fast_path_stats(self):
        """Counters of the same-node path in this actor (``ray_fastpath.actor_stats``)."""
        from sessionlib.runtime import ray_fastpath

        return ray_fastpath.actor_stats()

    def set_memory_limit(self, limit, devices_of_kind=1):
        """Sets the device's memory limit in bytes; None: this node's default for a device
        of its kind, of which its task has `devices_of_kind` (``memory.default_memory_limit``).
        """
        from sessionlib.runtime import memory

        if limit is None:
            limit = memory.default_memory_limit(memory.device_type(self.name), devices_of_kind)
        self.memory.limit = int(limit)
        return ("ok",)

    def memory_stats(self):
        """``(in_use, peak, limit)`` bytes of the device's memory account."""
        return self.memory.stats()

    # ---- runs ------------------------------------------------------------------------------

    def _mailbox(self, run_id):
        """The mailbox of `run_id` (made now if needed), or None for a finished run."""
        mailbox = self.mailboxes.get(run_id)
        if mailbox is None and run_id not in self.finished:
            mailbox = self.mailboxes[run_id] = _Mailbox()
        return mailbox

    def deliver(self, run_id, edge, value):
        """A tensor of `edge` for the run `run_id` (None for a control edge)."""
        with self.changed:
            mailbox = self._mailbox(run_id)
            if mailbox is not None:
                mailbox.values[edge] = value
                self.changed.notify_all()

    def abort(self, run_id, reason):
        """Fails the waits of run `run_id` on this device with AbortedError(`reason`)."""
        with self.changed:
            mailbox = self._mailbox(run_id)
            if mailbox is not None and mailbox.aborted is None:
                mailbox.aborted = reason
                self.changed.notify_all()

    def run(self, message, *feed_values):
        """Runs an installed step once (see the module docstring); returns the reply.

        Args:
          message: marshalled ``(step key, run id, step id, time left or None, small feeds
            as (slot, dtype, shape, bytes), slots of the other feeds[, 1])``; the last item
            only when the client asks for step stats.
          feed_values: the other feeds, in the order of their slots.

        Returns:
          ``("ok", fetched[, trace record])`` (marshalled when every fetched array is small):
          per fetch ``(fetch index, dtype, shape, bytes)`` or ``(fetch index, array)``, and
          for a traced run `_run_traced`'s record; or ``("err", code, message, plan node, op
          index)``. A kernel refused by the device's memory limit fails with TF's OOM
          (``memory.oom_error``).
        """
        import marshal

        key, run_id, step_id, time_left, small_feeds, feed_slots, *traced = marshal.loads(
            message)
        feeds = [(slot, unpack(dtype, shape, data)) for slot, dtype, shape, data in small_feeds]
        feeds.extend(zip(feed_slots, feed_values))
        reply = self.run_step(key, run_id, step_id, time_left, feeds,
                              traced=bool(traced and traced[0]))
        if reply[0] != "ok":
            return reply
        fetched = []
        inline = True
        for index, value in reply[1]:
            packed = pack(value)
            if packed is None:
                fetched.append((index, value))
                inline = False
            else:
                fetched.append((index,) + packed)
        reply = ("ok", fetched) + reply[2:]
        return marshal.dumps(reply) if inline else reply

    def run_step(self, key, run_id, step_id, time_left, feeds, rendezvous=None, also=None,
                 traced=False):
        """Runs an installed step once: the part of a run that the Ray path and the same-node
        path (``ray_fastpath.py``) share.

        Args:
          key, run_id, step_id, time_left: as in a run message.
          feeds: ``[(slot, array)]``.
          rendezvous: ``(entry, deadline, cancellation) -> ctx.rendezvous``; None: tensors
            cross through Ray (`deliver`).
          also: a callable that says the run is cancelled, besides an `abort` (see
            `_Cancellation`).
          traced: run the executor's traced loop (step stats).

        Returns:
          ``("ok", [(fetch index, array)][, trace record])`` or ``("err", code, message, plan
          node, op index)``.
        """
        from sessionlib import errors
        from sessionlib.runtime import context, failures

        entry = self.installed.get(key)
        if entry is None:
            return ("err", errors.FAILED_PRECONDITION, f"This step is not installed on "
                    f"{self.name}: its session was closed, or the device actor restarted",
                    -1, -1)
        with self.lock:
            mailbox = self._mailbox(run_id) or _Mailbox()
        deadline = None if time_left is None else time.monotonic() + time_left
        slots = [None] * entry.num_slots
        record = None
        # The kernels' arrays are charged to the device; the thread is Ray's (or a lane's),
        # and serves other calls afterwards: its own handler comes back.
        previous = _set_handler(self.memory.handler)
        try:
            for slot, value in feeds:
                # A same-node message is untrusted (any process of the user may write a
                # lane): a negative slot would fill one from the end.
                if type(slot) is not int or not 0 <= slot < entry.num_slots:
                    raise ValueError(f"feed slot {slot!r} out of range [0, {entry.num_slots})")
                slots[slot] = value
            cancellation = _Cancellation(mailbox, also)
            ctx = context.RunContext(
                self.resources, cancellation, deadline, step_id,
                _Rendezvous(self, run_id, entry.peers, mailbox, deadline) if rendezvous is None
                else rendezvous(entry, deadline, cancellation))
            if traced:
                record = _run_traced(entry, slots, ctx, self.memory)
            else:
                entry.executor.run_plan(entry.bound, slots, ctx, failures.NodeFailure)
        except failures.NodeFailure as failure:
            cause = failure.cause
            if isinstance(cause, MemoryError):
                from sessionlib.runtime import memory

                cause = memory.oom_error(self.memory, cause, memory.live_tensors(
                    entry.bound.plan, slots, self.resources)) or cause
            code, text = failures.error_code_of(cause)
            return ("err", code, text, failure.plan_node, failure.origin)
        except Exception as err:  # noqa: BLE001 - reported to the client
            code, text = failures.error_code_of(err)
            if code == errors.INTERNAL:
                text += "\n" + traceback.format_exc(limit=5)
            return ("err", code, text, -1, -1)
        finally:
            _set_handler(previous)
            with self.lock:
                self.mailboxes.pop(run_id, None)
                self.finished[run_id] = None
                while len(self.finished) > _FINISHED_RUNS_KEPT:
                    self.finished.popitem(last=False)
        fetched = [(index, slots[slot]) for index, slot in entry.fetches]
        return ("ok", fetched) if record is None else ("ok", fetched, record)


def _set_handler(handler):
    from sessionlib._core import device_memory

    return device_memory.set_handler(handler)


def _run_traced(entry, slots, ctx, account):
    """Runs the plan with the executor's traced loop; returns the run's trace record
    (``worker._trace_reply``), its times in epoch nanoseconds: the devices' hosts share no
    monotonic clock, and TF's step stats hold epoch times anyway."""
    import numpy as np

    from sessionlib.runtime import failures, function_trace, tracing, worker

    plan = entry.bound.plan
    times = np.zeros((len(plan), tracing.MEMORY_COLUMNS), dtype=np.int64)
    outputs = [()] * len(plan)
    ctx.rendezvous.handed_over = {}
    ctx.annotations, ctx.function_trace = {}, function_trace.FunctionTrace()
    entry.executor.run_plan_traced(entry.bound, slots, ctx, failures.NodeFailure, times,
                                   outputs, account)
    sends = [(node, plan.attrs[node]["edge"]) for node, op_type in enumerate(plan.op_types)
             if op_type == "_Send"]
    if sends:
        worker._end_sends_at_hand_over(times, sends, ctx.rendezvous.handed_over)
    return worker._trace_reply(entry.executor, times, outputs, ctx.annotations,
                               ctx.function_trace, clock=time.time_ns)
