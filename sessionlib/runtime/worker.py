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
  and the failing node's index in the step, from which the client rebuilds the `OpError` with
  its `Operation`.
* Kernels are bound from this process's registry by op type name. Resources live in a
  `ResourceContainer` per session. Feeds and received tensors are read-only views of shared
  memory; fetched tensors are published through this process's `TensorStore`.
* SIGINT is ignored: the client's Ctrl-C cancels runs through the lanes' cancel words.
"""

import ctypes
import os
import pickle
import signal
import sys
import threading
import traceback

__all__ = ["worker_main", "error_code_of", "limit_blas_threads"]

_PR_SET_PDEATHSIG = 1


def error_code_of(cause):
    """(code, message) for a kernel exception, with the same mapping as the session's."""
    from sessionlib import errors

    if isinstance(cause, errors.OpError):
        return cause.error_code, cause.message
    if isinstance(cause, (ValueError, IndexError, TypeError, ZeroDivisionError)):
        return errors.INVALID_ARGUMENT, str(cause)
    if isinstance(cause, MemoryError):
        return errors.RESOURCE_EXHAUSTED, f"OOM: {cause}"
    return errors.INTERNAL, f"{type(cause).__name__}: {cause}"


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
    def __init__(self, session_id):
        from sessionlib.runtime import context

        self.session_id = session_id
        self.resources = context.ResourceContainer(session_id)
        self.cancellation = context.CancellationManager()
        self.steps = {}


class Worker:
    """The state of one worker process (see the module docstring)."""

    def __init__(self, conn, index, threads, lane_block_name, rendezvous_name):
        from sessionlib.runtime import channel, shm

        self.conn = conn
        self.index = index
        self.threads = threads
        self.store = shm.store()
        self.lanes = channel.LaneBlock(lane_block_name)
        self.rendezvous = channel.RendezvousBlock(rendezvous_name)
        self.sessions = {}
        self.lock = threading.Lock()
        self.stopping = False

    # ---- control pipe ------------------------------------------------------------------------

    def serve(self):
        for lane in self.lanes.lanes:
            threading.Thread(target=self._serve_lane, args=(lane,), daemon=True,
                             name=f"lane-{lane.index}").start()
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
                state = self.sessions[session_id] = _SessionState(session_id)
            return state

    def _on_install(self, session_id, key, payload, executor_name):
        from sessionlib.runtime import executor as executor_lib
        import sessionlib.runtime.partition  # noqa: F401 - registers _Send/_Recv

        partition_plan = pickle.loads(payload)
        try:
            plan = partition_plan.plan.rebind()
        except ValueError as err:
            return ("error", f"NotFoundError: {err} (on the worker of "
                             f"{partition_plan.device})")
        executor = executor_lib.get_executor(executor_name)
        bound = executor.bind(plan)
        self._session(session_id).steps[key] = (partition_plan, executor, bound)
        return ("ok",)

    def _on_uninstall(self, session_id, key):
        state = self.sessions.get(session_id)
        if state is not None:
            state.steps.pop(key, None)
        return None

    def _on_close_session(self, session_id):
        with self.lock:
            state = self.sessions.pop(session_id, None)
        if state is not None:
            state.cancellation.cancel()
            state.resources.clear()
            state.steps.clear()
        return None

    def _on_clear_containers(self, session_id, containers):
        state = self.sessions.get(session_id)
        if state is not None:
            state.resources.clear_containers(containers)
        return ("ok",)

    def _on_ping(self):
        return ("pong", os.getpid(), sorted(self.sessions))

    def _on_shutdown(self):
        self.stopping = True
        return None

    # ---- lanes -------------------------------------------------------------------------------

    def _serve_lane(self, lane):
        from sessionlib._core import channel as core_channel
        from sessionlib.runtime import channel

        core_channel.set_omp_threads(self.threads)
        region = lane.region
        last = region.load(lane.request)
        while not self.stopping:
            seq = region.wait_post(lane.request, last, channel.WORKER_SPIN_S, 0.5)
            if seq == last:
                continue
            last = seq
            try:
                message = channel.decode(region.read(lane.request), self.store)
                reply = self._run(lane, *message)
            except BaseException as err:  # noqa: BLE001 - every failure goes back as a reply
                from sessionlib import errors

                code, text = error_code_of(err)
                if code == errors.INTERNAL:
                    text += "\n" + traceback.format_exc(limit=5)
                reply = ("err", code, text, -1)
            try:
                data = channel.encode(reply, self.store)
            except BaseException as err:  # noqa: BLE001
                data = channel.encode(("err", 13, f"cannot encode the reply: {err}", -1))
            lane.post_response(data)

    def _run(self, lane, session_id, key, run_slot, generation, step_id, deadline, feeds):
        errors, channel, context, partition, NodeFailure = _run_modules()
        state = self.sessions.get(session_id)
        entry = None if state is None else state.steps.get(key)
        if entry is None:
            return ("err", errors.CANCELLED if state is None else errors.FAILED_PRECONDITION,
                    "The session was closed, or this step was not installed on the worker of "
                    f"CPU:{self.index}", -1)
        partition_plan, executor, bound = entry
        store = self.store
        store.reclaim()
        slots = [None] * partition_plan.plan.num_slots
        for slot, descriptor in feeds:
            slots[slot] = store.open(descriptor)
        cancellation = _RunCancellation(state.cancellation, lane)
        rendezvous = None
        if run_slot >= 0:
            check = channel.deadline_check(deadline, lambda: cancellation.cancelled)
            rendezvous = partition.RunRendezvous(self.rendezvous, store, run_slot, generation,
                                                 check)
        ctx = context.RunContext(state.resources, cancellation, deadline, step_id, session_id,
                                 rendezvous)
        try:
            executor.run(bound, slots, ctx)
        except NodeFailure as failure:
            if run_slot >= 0:
                self.rendezvous.abort(run_slot, generation, partition_plan.num_edges)
            code, text = error_code_of(failure.cause)
            return ("err", code, text, int(partition_plan.plan.origins[failure.node_index]))
        except BaseException:
            if run_slot >= 0:
                self.rendezvous.abort(run_slot, generation, partition_plan.num_edges)
            raise
        return ("ok", [(index, store.publish(slots[slot]))
                       for index, slot in partition_plan.fetches])


def _run_modules():
    """The modules `_run` needs, imported once (an import statement per run costs ~1 us)."""
    global _RUN_MODULES
    if _RUN_MODULES is None:
        from sessionlib import errors
        from sessionlib.runtime import channel, context, partition
        from sessionlib.runtime.executor import NodeFailure

        _RUN_MODULES = (errors, channel, context, partition, NodeFailure)
    return _RUN_MODULES


_RUN_MODULES = None


def worker_main(conn, index, threads, lane_block_name, rendezvous_name):
    """The worker process's entry point (the `multiprocessing.Process` target).

    Args:
      conn: the worker's end of the control pipe.
      index: the device index k of CPU:k.
      threads: the kernel (OpenMP and BLAS) threads of this worker.
      lane_block_name, rendezvous_name: the client's shared-memory segments.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _watch_parent_death()
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = str(threads)
    limit_blas_threads(threads)
    worker = None
    try:
        import sessionlib  # noqa: F401 - fills the op registry
        import sessionlib.runtime.partition  # noqa: F401

        worker = Worker(conn, index, threads, lane_block_name, rendezvous_name)
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
