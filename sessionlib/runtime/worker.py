"""The device worker process: one per emulated device, serving partition runs.

Design. A worker is started by the client's `DevicePool` (``forkserver``, or ``spawn``; never a
plain ``fork`` of a client that may already run threads or OpenMP) and lives as long as the
client, serving every session that uses its device:

* The main thread serves the *control pipe*: install a session's partition plan (once per step
  key), close a session (cancel its runs, drop its resource container and plans), clear named
  containers (``Session.reset``), ping, shut down. When the pipe reaches EOF the client has
  exited or died, and the worker exits with it (``PR_SET_PDEATHSIG`` is the backup).
* One thread per *lane* (see ``runtime/channel.py``) waits on its shared-memory mailbox (spin,
  then futex), runs the installed plan named by each small "run" message on the worker's own
  executor, and posts the reply: the fetched tensors' descriptors, or an error code, message
  and the failing node's position in the partition's plan, from which the client rebuilds the
  `OpError` with its `Operation` and device (``runtime/failures.py``). A run that asks for
  tracing uses the executor's traced loop and adds the per-node times (CLOCK_MONOTONIC) and
  output descriptions to the reply. The client adds lanes when all are busy (``add_lanes``
  on the control pipe: a new lane block, with a thread per lane) and blocks of rendezvous run
  slots (``add_rendezvous``) before the first run that uses them.
* Kernels are bound from this process's kernel table by kernel name. Resources live in a
  `ResourceContainer` per session. Feeds and received tensors are read-only views of shared
  memory; fetched tensors are published through this process's `TensorStore`.
* Zero copy: the kernels that produce the partition's shared slots (values sent to another
  device or fetched: `PartitionPlan.shared_slots`) are wrapped at install time
  (``_core/shmalloc.pyx``'s `ArenaKernel`), so their large outputs are allocated in this
  process's shared arena; `_Send` publishes them in place, and a fetch hands them to the
  client in place when the step owns them (``runtime/shm.py``). The worker never tests op
  types: the partitioner says which slots are shared.
* Threads: a worker of a session that sets ``intra_op_parallelism_threads`` runs its kernels
  on that many threads. Otherwise it joins the pool's core budget (``runtime/cores.py``): its
  parallel kernels may use every core and lease their threads, BLAS runs on one thread unless
  a GEMM leases more, and a lane tells the budget when it falls asleep on its futex or waits
  for another device's tensor (its core is then free to borrow) and when it wakes. A worker
  that found no free budget slot keeps the static split (cores / devices). The ``stats``
  request reports them.
* SIGINT is ignored: the client's Ctrl-C cancels runs through the lanes' cancel words.
"""

import ctypes
import marshal
import os
import pickle
import signal
import sys
import threading
import time
import traceback

import numpy as np

__all__ = ["worker_main", "limit_blas_threads"]

_PR_SET_PDEATHSIG = 1
_M_ARENA_MAX = -8


def limit_blas_threads(count):
    """Caps the threads of the BLAS library numpy loaded (OpenBLAS), if it can be found.

    A forkserver child inherits BLAS already initialised by the server, so environment
    variables set in the child come too late; the library's own setter still works.
    """
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps
                     if "blas" in line.lower() and ".so" in line}
    except OSError:
        return False
    done = False
    for path in paths:
        if not path.startswith("/"):
            continue
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        for symbol in ("openblas_set_num_threads", "scipy_openblas_set_num_threads64_",
                       "openblas_set_num_threads64_", "scipy_openblas_set_num_threads"):
            setter = getattr(library, symbol, None)
            if setter is not None:
                setter(ctypes.c_int(count))
                done = True
                break
    return done


def _single_malloc_arena():
    """Makes every thread of the worker allocate from glibc's main heap.

    Kernels run on lane threads, and glibc gives each thread its own arena, whose heaps are at
    most 64 MiB: a larger buffer is then always mmapped afresh and page-faulted on first write,
    whatever ``fused.tune_malloc`` asked for. One arena lets the main heap recycle such
    buffers (the GIL serialises most allocations anyway). ``SESSIONLIB_MALLOC_TUNING=0``
    leaves malloc alone.
    """
    from sessionlib.runtime import settings

    if sys.platform != "linux" or not settings.malloc_tuning():
        return
    try:
        ctypes.CDLL(None).mallopt(ctypes.c_int(_M_ARENA_MAX), ctypes.c_int(1))
    except (OSError, AttributeError):
        pass


def _watch_parent_death():
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


class _RunCancellation:
    """The cancellation a run's kernels see: the session's, or the client's per-run cancel."""

    __slots__ = ("_session", "_lane")

    def __init__(self, session_cancellation, lane):
        self._session = session_cancellation
        self._lane = lane

    @property
    def cancelled(self):
        return self._session.cancelled or self._lane.cancelled()

    def cancel(self):
        self._session.cancel()

    def _register(self, condition):
        self._session._register(condition)

    def _unregister(self, condition):
        self._session._unregister(condition)


class _SessionState:
    def __init__(self, session_id, index):
        from sessionlib._core import device_memory, shmalloc
        from sessionlib.runtime import context, memory

        self.resources = context.ResourceContainer(session_id)
        # The session's memory account on this device (the client sets its name and limit
        # with a "memory_limit" request); the arena handler charges it too.
        device = f"/job:localhost/replica:0/task:0/device:CPU:{index}"
        self.memory = device_memory.DeviceMemory(device, memory.default_memory_limit("CPU"),
                                                 memory.allocator_name(device))
        self.arena_handler = shmalloc.charging_handler(self.memory.handler)
        self.cancellation = context.CancellationManager()
        self.keys = set()           # the step keys installed for this session
        self.lane_contexts = {}     # lane -> the RunContext its runs reuse


class _InstalledStep:
    """One installed partition, with what each run of it needs looked up in advance."""

    __slots__ = ("state", "executor", "bound", "run_plan", "num_slots", "num_nodes",
                 "fetches", "num_edges", "sends")

    def __init__(self, state, partition_plan, executor, bound):
        self.state = state
        self.executor = executor
        self.bound = bound
        self.run_plan = executor.run_plan
        self.num_slots = partition_plan.plan.num_slots
        self.num_nodes = len(partition_plan.plan)
        self.fetches = partition_plan.fetches
        self.num_edges = partition_plan.num_edges
        plan = partition_plan.plan
        # (plan node, edge) of each _Send: a traced run ends its span at the hand-over.
        self.sends = [(node, plan.attrs[node]["edge"]) for node, op_type in
                      enumerate(plan.op_types) if op_type == "_Send"]


class Worker:
    """The state of one worker process (see the module docstring)."""

    def __init__(self, conn, index, threads, lane_block_name, rendezvous_name,
                 kernel_threads=None, device_type="CPU"):
        from sessionlib.runtime import channel, shm

        self.conn = conn
        self.index = index
        self.device_type = device_type
        self.threads = threads
        self.kernel_threads = kernel_threads or threads   # the cap of a parallel kernel
        self.store = shm.store()
        self.lane_blocks = [channel.LaneBlock(lane_block_name)]
        self.rendezvous = channel.Rendezvous(rendezvous_name)
        self.sessions = {}
        self.installed = {}     # step key (unique in the client) -> _InstalledStep
        self.lock = threading.Lock()
        self.stopping = False

    # ---- control pipe ------------------------------------------------------------------------

    def _start_lanes(self, block):
        first = sum(len(other.lanes) for other in self.lane_blocks) - len(block.lanes)
        for lane in block.lanes:
            threading.Thread(target=self._serve_lane, args=(lane,), daemon=True,
                             name=f"lane-{first + lane.index}").start()

    def serve(self):
        self._start_lanes(self.lane_blocks[0])
        self.conn.send(("ready", os.getpid()))
        while True:
            try:
                message = self.conn.recv()
            except (EOFError, OSError):
                return  # the client is gone
            # (request id, kind, *args); id 0 is a notification that gets no reply.
            request_id, kind = message[0], message[1]
            try:
                reply = getattr(self, "_on_" + kind)(*message[2:])
            except Exception as err:  # noqa: BLE001 - reported to the client
                reply = ("error", f"{type(err).__name__}: {err}")
            if kind == "shutdown":
                return
            if request_id:
                self.conn.send((request_id, reply))

    def _session(self, session_id):
        with self.lock:
            state = self.sessions.get(session_id)
            if state is None:
                state = self.sessions[session_id] = _SessionState(session_id, self.index)
            return state

    def _on_install(self, session_id, key, payload, executor_name):
        from sessionlib.runtime import executor as executor_lib
        import sessionlib.runtime.partition  # noqa: F401 - registers the _Send/_Recv kernels

        partition_plan = pickle.loads(payload)
        try:
            plan = partition_plan.plan.rebind()
        except KeyError as err:
            return ("error", f"NotFoundError: {err.args[0]} (on the worker of "
                             f"{partition_plan.device})")
        executor = executor_lib.get_executor(executor_name)
        state = self._session(session_id)
        bound = executor.bind(plan, _arena_kernels(plan, executor.name == "reference",
                                                   partition_plan.shared_slots,
                                                   state.arena_handler))
        with self.lock:
            state.keys.add(key)
            self.installed[key] = _InstalledStep(state, partition_plan, executor, bound)
        return ("ok",)

    def _on_uninstall(self, session_id, keys):
        """Drops installed steps (the client evicted them from its step cache)."""
        with self.lock:
            for key in keys:
                entry = self.installed.pop(key, None)
                if entry is not None:
                    entry.state.keys.discard(key)
        return None

    def _on_close_session(self, session_id):
        with self.lock:
            state = self.sessions.pop(session_id, None)
            if state is not None:
                for key in state.keys:
                    self.installed.pop(key, None)
        if state is not None:
            state.cancellation.cancel()
            state.resources.clear()
        return None

    def _on_clear_containers(self, session_id, containers):
        state = self.sessions.get(session_id)
        if state is not None:
            state.resources.clear_containers(containers)
        return ("ok",)

    def _on_delete_resources(self, session_id, keys):
        state = self.sessions.get(session_id)
        if state is not None:
            for key in keys:
                state.resources.delete(key)
        return ("ok",)

    def _on_memory_limit(self, session_id, device, limit):
        """Names this device for the session's memory account and sets its limit."""
        from sessionlib._core import device_memory
        from sessionlib.runtime import memory

        state = self._session(session_id)
        if state.memory.device != device:
            from sessionlib._core import shmalloc

            state.memory = device_memory.DeviceMemory(device, limit,
                                                      memory.allocator_name(device))
            state.arena_handler = shmalloc.charging_handler(state.memory.handler)
        state.memory.limit = limit
        return ("ok",)

    def _on_memory(self, session_id):
        """``(in_use, peak, limit)`` bytes of the session's account on this device."""
        state = self.sessions.get(session_id)
        return ("memory", None if state is None else state.memory.stats())

    def _on_add_lanes(self, name, count, slot_bytes):
        """Serves `count` more lanes, in the client's new lane block `name`."""
        from sessionlib.runtime import channel

        block = channel.LaneBlock(name, count, slot_bytes)
        self.lane_blocks.append(block)
        self._start_lanes(block)
        return ("ok",)

    def _on_add_rendezvous(self, first, names):
        """Maps the client's rendezvous blocks `names`, numbered from `first`."""
        self.rendezvous.attach(first, names)
        return ("ok",)

    def _on_ping(self):
        return ("pong", os.getpid(), sorted(self.sessions), len(self.installed))

    def _on_stats(self):
        """Diagnostics for tests and learners: the kernel threads, the zero-copy arena and how
        many waits of runs are blocked (a dequeue on an empty queue, ...)."""
        from sessionlib._core import cores, elementwise, shmalloc

        with self.lock:
            sessions = list(self.sessions.values())
        return ("stats", {"pid": os.getpid(), "threads": self.threads,
                          "kernel_threads": elementwise.get_num_threads(),
                          "cores": cores.stats(),
                          "arena": shmalloc.stats(),
                          "leases": self.store.outstanding_leases,
                          "waiting": sum(state.cancellation.waiting() for state in sessions)})

    def _on_shutdown(self):
        self.stopping = True
        return None

    # ---- lanes -------------------------------------------------------------------------------

    def _serve_lane(self, lane):
        from sessionlib._core import channel as core_channel
        from sessionlib.runtime import channel

        from sessionlib._core import cores

        core_channel.set_omp_threads(self.kernel_threads)
        region = lane.region
        request, spin_s, store = lane.request, channel.WORKER_SPIN_S, self.store
        wait_post, read, decode, run = region.wait_post, region.read, channel.decode, self._run
        # `channel.encode`/`decode` inlined for the common unspilled message (a Python call
        # is a measurable share of a tiny step). The lane is writable by any process of the
        # user: `checked` (C) makes sure marshal cannot be made to allocate without bound.
        loads, dumps, spilled, limit = (marshal.loads, marshal.dumps, channel.SPILLED,
                                        channel.PAYLOAD_BYTES)
        checked = core_channel.checked
        limit = lane.capacity   # (the lanes added on demand have smaller mailboxes)
        post_response = lane.post_response
        lane_awake, lane_asleep = cores.lane_awake, cores.lane_asleep
        others_fill_cores = cores.others_fill_cores
        last = region.load(request)
        lane_awake()
        while not self.stopping:
            # Spin first (the core stays ours: back-to-back runs never touch the budget),
            # then sleep on the futex with the core given back to the budget.
            seq = wait_post(request, last, 0.0 if others_fill_cores() else spin_s, 0.0)
            if seq == last:
                lane_asleep()
                try:
                    while seq == last and not self.stopping:
                        seq = wait_post(request, last, 0.0, 0.5)
                finally:
                    lane_awake()
                if seq == last:
                    continue
            last = seq
            try:
                data = read(request)
                reply = run(lane, *(loads(checked(data)) if data[0] != spilled
                                    else decode(data, store)))
            except BaseException as err:  # noqa: BLE001 - every failure goes back as a reply
                from sessionlib import errors
                from sessionlib.runtime.failures import error_code_of

                code, text = error_code_of(err)
                if code == errors.INTERNAL:
                    text += "\n" + traceback.format_exc(limit=5)
                reply = ("err", code, text, -1)
            try:
                data = dumps(reply)
                if len(data) >= limit:
                    data = channel.encode(reply, store, limit)
            except BaseException as err:  # noqa: BLE001
                data = channel.encode(("err", 13, f"cannot encode the reply: {err}", -1),
                                      None, limit)
            post_response(data)

    def _run(self, lane, key, run_slots, generation, step_id, deadline, feeds, trace=0):
        """Runs installed step `key` once (the message's fields); returns the reply."""
        errors, channel, context, partition, failures = _RUN_MODULES or _run_modules()
        entry = self.installed.get(key)
        if entry is None:
            return ("err", errors.FAILED_PRECONDITION, "This step is not installed on the "
                    f"worker of {self.device_type}:{self.index}: its session was closed or it "
                    "was evicted", -1)
        state = entry.state
        if run_slots or entry.num_edges:   # untrusted: slots we have mapped, enough of them
            self.rendezvous.check_slots(run_slots, entry.num_edges)
        store = self.store
        if store._outstanding:
            store.reclaim()
        num_slots = entry.num_slots
        slots = [None] * num_slots
        for slot, descriptor in feeds:
            # The message is untrusted: a negative index would silently fill a slot from
            # the end (an INVALID_ARGUMENT reply follows the ValueError).
            if type(slot) is not int or not 0 <= slot < num_slots:
                raise ValueError(f"feed slot {slot!r} out of range [0, {num_slots})")
            slots[slot] = store.open(descriptor)
        # One run context per (session, lane), updated per run: a lane runs one step at a
        # time, and kernels use the context only while they run.
        ctx = state.lane_contexts.get(lane)
        if ctx is None:
            ctx = state.lane_contexts[lane] = context.RunContext(
                state.resources, _RunCancellation(state.cancellation, lane), None, 0)
        ctx.deadline = deadline
        ctx.step_id = step_id
        if run_slots:
            cancellation = ctx.cancellation
            check = channel.deadline_check(deadline, lambda: cancellation.cancelled)
            ctx.rendezvous = partition.RunRendezvous(self.rendezvous, store, run_slots,
                                                     generation, check, state.memory,
                                                     len(entry.sends))
        else:
            ctx.rendezvous = None
        times = None
        account = state.memory
        # The lane thread keeps the session's handler after the run (it only runs kernels):
        # back-to-back runs of a session switch nothing.
        _use_handler(account.handler)
        try:
            if trace:
                # Only a traced run pays for the timestamps (the executor's traced loop).
                count = entry.num_nodes
                # Seven columns: the timestamps and the account's figures per node.
                times, outputs = np.zeros((count, 7), dtype=np.int64), [()] * count
                if ctx.rendezvous is not None:
                    ctx.rendezvous.handed_over = {}
                # The nodes function ops (If, While) run inside, and their notes.
                from sessionlib.runtime import function_trace

                ctx.annotations, ctx.function_trace = {}, function_trace.FunctionTrace()
                try:
                    entry.executor.run_plan_traced(entry.bound, slots, ctx,
                                                   failures.NodeFailure, times, outputs,
                                                   account)
                    functions = (ctx.annotations, ctx.function_trace)
                finally:   # the lane's context serves its later runs
                    ctx.annotations = ctx.function_trace = None
                if entry.sends:
                    _end_sends_at_hand_over(times, entry.sends, ctx.rendezvous.handed_over)
            else:
                entry.run_plan(entry.bound, slots, ctx, failures.NodeFailure)
        except failures.NodeFailure as failure:
            if run_slots:
                self.rendezvous.abort(run_slots, generation, entry.num_edges)
            cause = failure.cause
            if isinstance(cause, MemoryError):
                from sessionlib.runtime import memory

                cause = memory.oom_error(account, cause, memory.live_tensors(
                    entry.bound.plan, slots, state.resources)) or cause
            code, text = failures.error_code_of(cause)
            return ("err", code, text, failure.plan_node, failure.origin)
        except BaseException:
            if run_slots:
                self.rendezvous.abort(run_slots, generation, entry.num_edges)
            raise
        finally:
            if ctx.rendezvous is not None:
                ctx.rendezvous.finish()   # (the reservations of the snapshots it sent)
        # A fetched array the step owns (writable) that lies in the arena goes to the client
        # where it is; anything else is copied (runtime/shm.py, `publish`).
        fetched = [(index, store.publish(slots[slot], in_place=True, hand_over=True))
                   for index, slot in entry.fetches]
        if times is None:
            return ("ok", fetched)
        return ("ok", fetched, _trace_reply(entry.executor, times, outputs, *functions))


def _use_handler(handler):
    global _use_handler
    from sessionlib._core import device_memory

    _use_handler = device_memory.use_handler
    return _use_handler(handler)


def _arena_kernels(plan, reference, shared_slots, handler=None):
    """The plan's kernels, those that produce `shared_slots` wrapped so that they allocate
    large outputs in this process's shared arena (``_core/shmalloc.pyx``): `_Send` then
    publishes them in place, and a fetch hands them to the client, instead of copying them."""
    from sessionlib.runtime import shm
    from sessionlib.runtime.plan import bind_kernels

    shmalloc = shm.arena_hook()   # (which sets the size from which outputs go to the arena)

    kernels = bind_kernels(plan, reference)
    producer = {}
    out_ptr, out_slots = plan.out_ptr.tolist(), plan.out_slots.tolist()
    for node in range(len(plan)):
        for slot in out_slots[out_ptr[node]:out_ptr[node + 1]]:
            producer[slot] = node
    for slot in shared_slots:
        source = producer[slot]
        if not isinstance(kernels[source], shmalloc.ArenaKernel):
            kernels[source] = shmalloc.ArenaKernel(kernels[source], handler)
    return kernels


def _run_modules():
    """The modules `_run` needs, imported once (an import statement per run costs ~1 us)."""
    global _RUN_MODULES
    if _RUN_MODULES is None:
        from sessionlib import errors
        from sessionlib.runtime import channel, context, failures, partition

        _RUN_MODULES = (errors, channel, context, partition, failures)
    return _RUN_MODULES


_RUN_MODULES = None


def _end_sends_at_hand_over(times, sends, handed_over):
    """Ends each `_Send`'s kernel and span when its tensor was handed over, not when the
    traced loop got the CPU back: the receiving device may have used the tensor in between,
    and a trace showing the send finish after its receive would be wrong."""
    for node, edge in sends:
        moment = handed_over.get(edge)
        if moment is not None:
            times[node, 2] = min(times[node, 2], max(moment, times[node, 1]))
            times[node, 3] = min(times[node, 3], max(moment, times[node, 1]))


def _trace_reply(executor, times, outputs, annotations=None, function_trace=None,
                 clock=time.monotonic_ns):
    """A traced run's per-node record as plain values for the client.

    Timestamps are moved to CLOCK_MONOTONIC nanoseconds (``time.monotonic_ns``), which is
    system-wide on Linux, so the client can put every device's nodes on one time line (a
    device on another host passes ``clock=time.time_ns``: epoch nanoseconds). The
    thread is identified by this process's pid and the lane thread's native id. The sixth
    item holds what the function ops (``If``, ``While``) noted and ran: ``(annotations,
    names, labels, times, outputs)`` of the function rows (``runtime/function_trace.py``).
    """
    offset = clock() - executor.trace_clock_ns()
    thread = threading.current_thread()
    functions = None
    if annotations or (function_trace is not None and function_trace.names):
        functions = (dict(annotations or {}), list(function_trace.names),
                     list(function_trace.labels),
                     (function_trace.times_array() + offset).tobytes(),
                     _described(function_trace.outputs))
    times[:, :4] += offset     # (the other columns are memory figures)
    return (os.getpid(), threading.get_native_id(), thread.name, times.tobytes(),
            _described(outputs), functions)


def _described(outputs):
    """Output descriptions as plain values: ``(dtype str, shape, nbytes)`` per output."""
    return [[(None if dtype is None else np.dtype(dtype).str, tuple(map(int, shape)),
              int(nbytes)) for dtype, shape, nbytes in node_outputs]
            for node_outputs in outputs]


def worker_main(conn, index, threads, lane_block_name, rendezvous_name, budget=None,
                device_type="CPU"):
    """The worker process's entry point (the `multiprocessing.Process` target).

    Args:
      conn: the worker's end of the control pipe.
      index: the device index k of CPU:k (or of GPU:k, `device_type` 'GPU': an emulated
        GPU runs the same kernels on the host's cores).
      threads: the kernel (OpenMP and BLAS) threads of this worker, or 0 (`devices.BUDGETED`)
        to lease them from the client's core budget.
      lane_block_name, rendezvous_name: the client's shared-memory segments.
      budget: for a budgeted worker, ``(segment name, slot, static threads, core cap)``: the
        client's core budget, this worker's slot in it (-1: none free, use the static
        threads), and the most threads one lease may get (an emulated GPU's share of the
        cores, ``cores.gpu_cores``; 0: no cap but the budget's).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _watch_parent_death()
    join = None
    if threads == 0:
        name, slot, static, core_cap = budget
        if slot >= 0:
            from sessionlib.runtime import cores

            join = (name, slot, core_cap)
            # Kernels ask for every core; the budget decides the count, and caps an
            # emulated GPU's leases at its share (`core_cap`). Kernels that split their work
            # by this count (a fused reduction's parts) then add in the same order on a GPU
            # as on a CPU device.
            threads = cores.machine_cores()
        else:
            threads = min(static, core_cap) if core_cap else static
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = str(1 if join else threads)
    limit_blas_threads(1 if join else threads)
    worker = None
    try:
        # Plans arrive with kernel names: the kernel table is all a worker binds from.
        import sessionlib.runtime.kernels  # noqa: F401 - fills the kernel table
        import sessionlib.runtime.partition  # noqa: F401 - the _Send/_Recv kernels
        from sessionlib._core import elementwise

        # The elementwise and fused kernels split large tensors over this many OpenMP
        # threads (prange); the pool chose `threads` so that devices x threads <= cores.
        elementwise.set_num_threads(threads)
        _single_malloc_arena()
        if join is not None:
            from sessionlib.runtime import cores

            cores.join(*join)

        worker = Worker(conn, index, 0 if join else threads, lane_block_name, rendezvous_name,
                        threads, device_type)
        worker.serve()
    except BaseException:  # noqa: BLE001 - report start-up failures on stderr
        traceback.print_exc()
    finally:
        from sessionlib.runtime import shm

        try:
            shm.store().close()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(0)
