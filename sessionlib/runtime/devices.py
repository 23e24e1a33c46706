"""The client's pool of device workers: start, reuse, liveness, lanes and clean-up.

Design. Workers belong to the client process, not to a session (as TF's devices do): the
pool starts the worker of CPU:k on first need and every later session with that device reuses
it, so a warm pool makes creating a session nearly free. Workers are keyed by (device index,
kernel threads), because the thread count is fixed when a worker starts.

* Start: the ``forkserver`` context with sessionlib pre-imported in the server (a worker then
  costs a fork, not an interpreter start), or ``spawn`` when ``SESSIONLIB_START_METHOD=spawn``;
  never ``fork``, which would copy a client that may already run threads and OpenMP pools.
  While a worker starts, ``__main__`` is hidden from multiprocessing so that the child does not
  re-import the user's script (TF scripts rarely have a ``__main__`` guard).
* Liveness: a worker's process sentinel (and its control pipe) tell at once when it died. A
  dead worker's segments are unlinked by the client, its mappings forgotten, and the pool
  replaces it on the next session; sessions that used it get `UnavailableError`.
* Exit: workers exit when their control pipe reaches EOF, i.e. when this process exits or dies
  (plus ``PR_SET_PDEATHSIG``). At exit the pool also asks them to stop and reaps them.
* Lanes grow on demand. Each run in flight on a device holds one lane of its worker (a
  mailbox pair with a worker thread behind it, ``runtime/channel.py``), also while one of its
  ops blocks (a dequeue on an empty queue). When every lane of a worker is busy, the next run
  adds a block of lanes (as many again as the worker has, 8 to 128 at a time), up to
  ``SESSIONLIB_MAX_LANES`` (1024) per device; beyond that a run fails at once with
  `ResourceExhaustedError` naming the limit. So blocked runs of one session cannot starve
  another session, and no run fails because others are blocked. We grow lanes rather than have
  a blocked op give its lane up because a blocked kernel sits on its lane thread's stack in
  the middle of the executor's loop: giving the lane up would need kernels that suspend and
  resume (TF's async kernels), a second wake-up path for every blocking op and a reply that
  may come on another mailbox. Growth changes nothing on the run path (a free lane is still
  one list pop), costs one control-pipe round trip when a block is added, and a parked thread
  that sleeps on a futex (the added lanes' mailboxes are small, `channel.GROWN_SLOT_BYTES`).
  Lanes are not given back: a worker keeps the peak it saw.
* Threads: workers of a session that does not set ``intra_op_parallelism_threads`` lease their
  kernel threads from the pool's core budget (``runtime/cores.py``: a busy device borrows the
  cores of idle ones); the pool gives each a budget slot and clears it when the worker dies.
* Run slots grow too: a multi-device run borrows rendezvous run slots (one per 31 edges);
  when none is free the pool adds a block of 256 (`channel.MAX_RUN_SLOTS` in all), and each
  worker maps a new block when it first takes part in a run after it was added. A run that
  would pass the limit fails with `ResourceExhaustedError`. No wait for a lane or a run slot
  has a fixed time-out; only a run's deadline and its session's cancellation end one.
* Device types: a worker runs a ``CPU`` or an emulated ``GPU`` device (``device_count
  {'GPU': k}`` or ``SESSIONLIB_EMULATED_GPUS``). Both run the same kernels on the host's cores
  and lease threads from the same core budget; a GPU differs in its name, its memory limit
  (`default_memory_limit`), the kernels the placer lets it run
  (``kernel_table.supports_device``), and its cores: a GPU has a fixed share of the cores as
  its own and its leases are capped at it (``cores.gpu_cores``: cores / GPUs of the session,
  or ``SESSIONLIB_EMULATED_GPU_CORES``), since a real GPU cannot borrow another's compute; so
  two towers on two GPUs run about twice as fast as both on one, as on a machine with GPUs.
  A GPU worker with fixed threads (``intra_op_parallelism_threads``, or the budget off) gets
  at most its share too. Workers are keyed by (device type, index, threads, cap).
"""

import atexit
import contextlib
import itertools
import multiprocessing
import os
import sys
import threading
import time
import types

from sessionlib import errors
from sessionlib.runtime import channel, cores, settings, shm

__all__ = ["DevicePool", "WorkerHandle", "pool", "default_threads", "shutdown_pool",
           "default_memory_limit", "DEVICE_TYPES", "session_devices", "type_and_index"]

_START_TIMEOUT_S = 60.0   # a cold start under a loaded parallel test suite can be slow
_REQUEST_TIMEOUT_S = 60.0
_MAX_LANE_GROWTH = 128    # lanes added at once at most (each holds two 16 KiB mailboxes)


def _cores():
    return cores.machine_cores()


def default_threads(num_devices, intra_op_threads=0):
    """Kernel threads per worker: the configured count, else cores / devices (at least 1)."""
    if intra_op_threads and intra_op_threads > 0:
        return int(intra_op_threads)
    return max(1, _cores() // max(1, num_devices))


# The device types a session can have, in TF's listing order (CPUs first, then GPUs).
DEVICE_TYPES = ("CPU", "GPU")

def default_memory_limit(device_type, num_devices=1):
    """The default memory limit of a device of `device_type`, in bytes: the one policy
    (``runtime/memory.py``, which enforces it), here for the callers that list devices."""
    from sessionlib.runtime import memory

    return memory.default_memory_limit(device_type, num_devices)


def _visible_gpus(visible_device_list, physical):
    """The physical GPU ids `visible_device_list` selects, in order (TF's parse and checks).

    Raises:
      InvalidArgumentError: with TF's messages, for an entry that is not a number, an id
        beyond the machine's `physical` GPUs, or a repeated id.
    """
    if not visible_device_list:
        return list(range(physical))
    order = []
    for entry in visible_device_list.split(","):
        try:
            gpu_id = int(entry)
        except ValueError:
            raise errors.InvalidArgumentError(
                None, None, f"Could not parse entry in 'visible_device_list': '{entry}'. "
                f"visible_device_list = {visible_device_list}") from None
        if not 0 <= gpu_id < physical:
            raise errors.InvalidArgumentError(
                None, None, f"'visible_device_list' listed an invalid Device id '{gpu_id}' but "
                f"visible device count is {physical}")
        order.append(gpu_id)
    if len(set(order)) != len(order):
        raise errors.InvalidArgumentError(
            None, None, f"visible_device_list contained a duplicate entry: "
            f"{visible_device_list}")
    return order


def session_devices(config, environ=None):
    """The full names of a session's devices under `config`: CPUs first, then GPUs (TF's
    order), e.g. ``[.../device:CPU:0, .../device:GPU:0, .../device:GPU:1]``.

    The emulated machine has ``SESSIONLIB_EMULATED_GPUS`` GPUs (default none), or as many as
    ``device_count['GPU']`` asks when that is more: a config that asks for k GPUs gets k even
    without the variable, and ``{'GPU': 0}`` turns the variable's GPUs off. As in TF,
    ``gpu_options.visible_device_list`` ("1,0") selects and orders the machine's GPUs (visible
    GPU:0 is machine GPU 1) and the session gets min(device_count['GPU'], visible) of them;
    emulated GPUs are all alike, so the order changes nothing else.

    Args:
      config: the session's `ConfigProto`.
      environ: the mapping to read instead of ``os.environ`` (tests).

    Raises:
      NotFoundError: for ``device_count={'CPU': 0}``.
      InvalidArgumentError: for a bad ``visible_device_list`` (TF's messages).
    """
    from sessionlib.framework import device_spec

    counts = dict(config.device_count)
    cpu_count = counts.get("CPU", 1)
    if cpu_count < 1:
        raise errors.NotFoundError(None, None, "No CPU devices are available in this process "
                                   "(ConfigProto.device_count['CPU'] is 0)")
    machine_gpus = settings.emulated_gpus(environ)
    if "GPU" in counts:
        machine_gpus = max(machine_gpus, counts["GPU"])
    visible = _visible_gpus(config.gpu_options.visible_device_list, machine_gpus)
    gpu_count = min(counts.get("GPU", len(visible)), len(visible))
    return ([device_spec.full_name("CPU", i) for i in range(cpu_count)]
            + [device_spec.full_name("GPU", i) for i in range(max(0, gpu_count))])


def type_and_index(device_name):
    """``('GPU', 1)`` for ``'/job:localhost/replica:0/task:0/device:GPU:1'`` (also for the
    short ``'gpu:1'`` a worker knows its device by before the client names it)."""
    tail = device_name.rsplit("device:", 1)[-1]
    device_type, _, index = tail.partition(":")
    return device_type.upper(), int(index or 0)


# `workers_for`'s thread count for workers that lease their threads from the pool's core
# budget (``runtime/cores.py``) instead of having a fixed count.
BUDGETED = 0


# What workers get as ``OPENBLAS_THREAD_TIMEOUT`` (see `_main_hidden`).
BLAS_THREAD_TIMEOUT = 4


@contextlib.contextmanager
def _main_hidden():
    """Prepares the client process for starting a worker (or the forkserver).

    * Hides ``__main__`` from multiprocessing's preparation data.
    * Makes the forkserver import this very copy of sessionlib. Python 3.11's forkserver runs
      ``python -c ...`` and preloads modules before it applies the parent's ``sys.path``, so a
      ``sessionlib/`` folder in the current directory (a source checkout, with no compiled
      extensions) would shadow the installed package. `PYTHONSAFEPATH` keeps the current
      directory off the server's path, and `PYTHONPATH` puts this package's parent first.
    * Makes OpenBLAS's idle threads sleep at once (`OPENBLAS_THREAD_TIMEOUT`, unless the user
      set it). By default a BLAS thread spins for about 2**28 cycles after each call. The
      core budget (``runtime/cores.py``) counts a GEMM's threads only while the call runs, so
      those spinning threads took cores that the budget had lent to another device. On a
      16-core machine, two towers' 25M-FLOP matmuls then took 30-50 ms instead of 0.2 ms.
      With the timeout the step took 2.4 ms (tools/bench.py multi_tower, budget on). The
      variable is read when OpenBLAS loads, so it must be in the environment of the
      forkserver or spawned worker.
    """
    main = sys.modules.get("__main__")
    stand_in = types.ModuleType("__main__")
    sys.modules["__main__"] = stand_in
    package_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    saved = {key: os.environ.get(key)
             for key in ("PYTHONSAFEPATH", "PYTHONPATH", "OPENBLAS_THREAD_TIMEOUT")}
    os.environ["PYTHONSAFEPATH"] = "1"
    if saved["OPENBLAS_THREAD_TIMEOUT"] is None:
        # 2**4 cycles: the smallest timeout OpenBLAS accepts.
        os.environ["OPENBLAS_THREAD_TIMEOUT"] = str(BLAS_THREAD_TIMEOUT)
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [package_root] + ([saved["PYTHONPATH"]] if saved["PYTHONPATH"] else []))
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        if main is not None:
            sys.modules["__main__"] = main


def _context():
    # Before 3.11 there is no PYTHONSAFEPATH (see `_main_hidden`): spawn applies the parent's
    # sys.path before it imports anything of ours, so it is the safe default there.
    default_method = "forkserver" if sys.version_info >= (3, 11) else "spawn"
    method = settings.start_method(default_method)
    if method not in ("forkserver", "spawn"):
        raise ValueError(f"SESSIONLIB_START_METHOD must be forkserver or spawn, not {method!r}")
    context = multiprocessing.get_context(method)
    if method == "forkserver":
        # What a worker needs: its loop, the send/recv kernels and the kernel table.
        context.set_forkserver_preload(["sessionlib.runtime.worker",
                                        "sessionlib.runtime.partition",
                                        "sessionlib.runtime.kernels"])
    return context


class WorkerHandle:
    """The client's side of one worker process.

    Attributes:
      index: the device index k of CPU:k (or GPU:k).
      device_type: ``'CPU'`` or ``'GPU'``.
      threads: the worker's kernel threads (0: leased from the core budget).
      core_cap: the most cores one lease of the worker gets (0: no cap but the budget's).
      pid: the worker's process id.
      free_lanes: the free `channel.Lane`s of the worker (a list: its pop and append are
        atomic, so the run path takes and gives back lanes without the lock).
      num_lanes: how many lanes the worker has (they grow on demand, see the module doc).
      rendezvous_known: how many of the pool's rendezvous blocks the worker has mapped.
    """

    def __init__(self, context, index, threads, rendezvous_name, budget=None, static_threads=1,
                 device_type="CPU", core_cap=0):
        self.index = index
        self.device_type = device_type
        self.threads = threads
        self.core_cap = core_cap
        # A budgeted worker's slot in the pool's `cores.CoreBudget` (-1: none, it runs on
        # `static_threads`).
        self.budget = budget
        self.core_slot = budget.assign_slot() if budget is not None else -1
        budget_args = ((budget.name, self.core_slot, static_threads, core_cap)
                       if budget is not None
                       else None)
        self.device = f"{device_type}:{index}"
        self.lane_blocks = [channel.LaneBlock()]
        self._conn, child_conn = context.Pipe(duplex=True)
        self.process = context.Process(
            target=_worker_entry, name=f"sessionlib-worker-{self.device}",
            args=(child_conn, index, threads, self.lane_blocks[0].name, rendezvous_name,
                  budget_args, device_type),
            daemon=True)
        with _main_hidden():
            self.process.start()
        child_conn.close()
        self.pid = self.process.pid
        self._conn_lock = threading.Lock()
        self._lane_lock = threading.Lock()
        self.free_lanes = list(reversed(self.lane_blocks[0].lanes))
        self.num_lanes = len(self.free_lanes)
        self._grow_lock = threading.Lock()
        self.rendezvous_known = 1
        self._draining = []
        self._request_ids = itertools.count(1)
        self.dead = False

    def wait_ready(self, timeout_s=_START_TIMEOUT_S):
        """Waits for the worker's ready message.

        Raises:
          UnavailableError: if the worker died or did not start in time.
        """
        deadline = time.monotonic() + timeout_s
        while not self._conn.poll(0.05):
            if not self.alive() or time.monotonic() > deadline:
                self.mark_dead()
                raise errors.UnavailableError(
                    None, None, f"The worker process of device {self.device} failed to start")
        try:
            self._conn.recv()   # ("ready", pid)
        except (EOFError, OSError):
            self.mark_dead()
            raise errors.UnavailableError(
                None, None, f"The worker process of device {self.device} failed to start"
            ) from None

    # ---- liveness ----------------------------------------------------------------------------

    def alive(self):
        """Whether the worker process still runs (a cheap, non-blocking check)."""
        if self.dead:
            return False
        try:
            alive = self.process.is_alive()
        except (ValueError, AssertionError):
            alive = False
        if not alive:
            self.mark_dead()
        return alive

    def mark_dead(self):
        """Releases what the worker left behind; later calls fail with UnavailableError."""
        if self.dead:
            return
        self.dead = True
        try:
            self.process.join(0)
        except (ValueError, AssertionError):
            pass
        if self.pid is not None:
            shm.unlink_segments_of(self.pid)
            shm.store().forget_process(self.pid)
        for block in self.lane_blocks:
            block.unlink()
        if self.core_slot > 0:
            # The cores it leased come back (it may have died mid-kernel).
            self.budget.reclaim(self.core_slot)
            self.core_slot = -1
        try:
            self._conn.close()
        except OSError:
            pass

    def unavailable(self, detail=""):
        """The error for runs that needed this worker after it died."""
        code = self.process.exitcode
        how = f" (exit code {code})" if code is not None else ""
        return errors.UnavailableError(
            None, None, f"The worker process of device /job:localhost/replica:0/task:0/device:"
            f"{self.device} (pid {self.pid}) died{how}{': ' + detail if detail else ''}. "
            "Close this session; a new session starts a fresh worker.")

    # ---- control pipe ------------------------------------------------------------------------

    def request(self, kind, *args, timeout_s=_REQUEST_TIMEOUT_S):
        """Sends a control message and waits for its reply.

        Raises:
          UnavailableError: if the worker is dead or dies meanwhile.
          DeadlineExceededError: if no reply came within `timeout_s`.
        """
        return self._exchange(kind, args, time.monotonic() + timeout_s, None,
                              lambda: errors.DeadlineExceededError(
                                  None, None, f"The worker of {self.device} did not answer "
                                  f"{kind!r} in {timeout_s} s"))

    def _run_request(self, kind, args, deadline, cancellation, doing):
        """A control request made for a run: waits as long as the run may (until its
        deadline, or without one until its session is cancelled or the worker dies).

        Args:
          doing: what the run waits for, for the errors ("device CPU:1 added lanes").

        Raises:
          DeadlineExceededError, CancelledError, UnavailableError.
        """
        return self._exchange(kind, args, deadline, cancellation,
                              lambda: errors.DeadlineExceededError(
                                  None, None, f"The run's deadline passed while {doing}"),
                              doing)

    def _exchange(self, kind, args, deadline, cancellation, late, doing=""):
        """Sends ``(request id, kind, *args)`` and returns the reply; `late()` is the error
        once `deadline` (monotonic, or None) passed. The wait for the pipe's lock honours the
        deadline and cancellation too: another request may hold it while its worker is
        stopped."""

        def check():
            if not self.alive():
                raise self.unavailable()
            if cancellation is not None and cancellation.cancelled:
                raise errors.CancelledError(None, None,
                                            f"The run was cancelled while {doing or kind}")
            if deadline is not None and time.monotonic() > deadline:
                raise late()

        if self.dead:
            raise self.unavailable()
        request_id = next(self._request_ids)
        while not self._conn_lock.acquire(timeout=channel.WAIT_SLICE_S):
            check()
        try:
            self._conn.send((request_id, kind) + tuple(args))
            while True:
                while not self._conn.poll(channel.WAIT_SLICE_S):
                    check()
                reply_id, reply = self._conn.recv()
                if reply_id == request_id:  # older replies were abandoned (Ctrl-C, deadline)
                    return reply
        except (EOFError, OSError, BrokenPipeError):
            self.mark_dead()
            raise self.unavailable() from None
        finally:
            self._conn_lock.release()

    def notify(self, kind, *args):
        """Sends a control message that has no reply; ignores a dead worker."""
        if self.dead:
            return
        with self._conn_lock:
            try:
                self._conn.send((0, kind) + args)
            except (EOFError, OSError, BrokenPipeError):
                self.mark_dead()

    # ---- lanes -------------------------------------------------------------------------------

    def acquire_lane(self, deadline=None, cancellation=None):
        """A free lane of this worker; adds lanes when all are busy (see the module doc).

        Args:
          deadline: the run's `time.monotonic()` deadline, or None.
          cancellation: the run's session `CancellationManager`, or None.

        Raises:
          ResourceExhaustedError: if the worker has `settings.max_lanes()` lanes, all busy.
          DeadlineExceededError: if the deadline passed while lanes were being added.
          CancelledError: if the session was cancelled (closed) meanwhile.
          UnavailableError: if the worker died.
        """
        while True:
            if self.dead:
                raise self.unavailable()
            with self._lane_lock:
                if self.free_lanes:
                    return self.free_lanes.pop()
                for lane in list(self._draining):
                    if lane.response_ready():
                        _discard_late_reply(lane.wait_response(0))
                        self._draining.remove(lane)
                        return lane
            if not self.alive():
                raise self.unavailable()
            if self._grow_lock.acquire(blocking=False):
                try:
                    if not self.free_lanes:   # (another run may have given one back)
                        self._add_lanes(deadline, cancellation)
                finally:
                    self._grow_lock.release()
            else:   # another run adds lanes: wait for them
                _wait_turn(deadline, cancellation, f"device {self.device} added lanes")

    def _add_lanes(self, deadline, cancellation):
        """Gives the worker a block of new lanes (grow lock held).

        Raises:
          ResourceExhaustedError: at the limit, or if /dev/shm has no room for the block.
          And as `_run_request`.
        """
        limit = settings.max_lanes()
        if self.num_lanes >= limit:
            raise errors.ResourceExhaustedError(
                None, None, f"All {self.num_lanes} lanes of device {self.device} are busy: at "
                f"most {limit} runs can be in flight on one device at once (a run holds a lane "
                "also while it is blocked, e.g. in a dequeue). Set SESSIONLIB_MAX_LANES to "
                "allow more.")
        count = min(self.num_lanes, _MAX_LANE_GROWTH, limit - self.num_lanes)
        block = channel.LaneBlock(count=count, slot_bytes=channel.GROWN_SLOT_BYTES)
        try:
            reply = self._run_request("add_lanes", (block.name, count, channel.GROWN_SLOT_BYTES),
                                      deadline, cancellation,
                                      f"device {self.device} added lanes (all were busy)")
            if reply[0] != "ok":
                raise errors.InternalError(None, None, f"The worker of {self.device} could "
                                           f"not add lanes: {reply[1]}")
        except BaseException:
            block.unlink()   # (a worker that attached late keeps only idle threads)
            raise
        with self._lane_lock:
            self.lane_blocks.append(block)
            self.num_lanes += count
            self.free_lanes[:0] = reversed(block.lanes)

    def attach_rendezvous(self, rendezvous, deadline=None, cancellation=None):
        """Makes sure the worker has mapped every block of the pool's `rendezvous` (called
        before a multi-device run is posted to it).

        Raises:
          As `_run_request`; InternalError if the worker refused a block.
        """
        names = list(rendezvous.names)
        known = self.rendezvous_known
        if known >= len(names):
            return
        reply = self._run_request("add_rendezvous", (known, names[known:]), deadline,
                                  cancellation, f"device {self.device} mapped run slots")
        if reply[0] != "ok":
            raise errors.InternalError(None, None, f"The worker of {self.device} could not "
                                       f"map the rendezvous: {reply[1]}")
        self.rendezvous_known = max(self.rendezvous_known, len(names))

    def release_lane(self, lane):
        with self._lane_lock:
            self.free_lanes.append(lane)

    def abandon_lane(self, lane):
        """Parks a lane whose reply never came; it is reused once the reply arrives."""
        with self._lane_lock:
            self._draining.append(lane)

    # ---- shutdown ----------------------------------------------------------------------------

    def shutdown(self, timeout_s=2.0):
        """Stops the worker (politely, then by force) and releases its resources."""
        if not self.dead:
            self.notify("shutdown")
            try:
                self._conn.close()
            except OSError:
                pass
            try:
                self.process.join(timeout_s)
                if self.process.is_alive():
                    self.process.kill()
                    self.process.join(timeout_s)
            except (ValueError, AssertionError):
                pass
        self.mark_dead()


def _wait_turn(deadline, cancellation, busy):
    """One turn of a run's wait for another run to finish adding lanes: raises when the run
    was cancelled or its deadline passed (saying it waited while `busy`), else sleeps a
    millisecond."""
    if cancellation is not None and cancellation.cancelled:
        raise errors.CancelledError(None, None, f"The run was cancelled while {busy}")
    if deadline is not None and time.monotonic() > deadline:
        raise errors.DeadlineExceededError(
            None, None, f"The run's deadline passed while {busy}")
    time.sleep(0.001)


def _discard_late_reply(data):
    """Releases what the late reply of an abandoned run holds in this process: a spilled
    message and fetched tensors stay leased by their producer until opened and dropped."""
    try:
        reply = channel.decode(data)
        if reply[0] == "ok":
            store = shm.store()
            for _, descriptor in reply[1]:
                store.open(descriptor)
    except (errors.OpError, ValueError, TypeError, IndexError, EOFError):
        pass  # nobody waits for this reply: a broken one only means nothing to release


def _worker_entry(conn, index, threads, lane_block_name, rendezvous_name, budget=None,
                  device_type="CPU"):
    from sessionlib.runtime import worker

    worker.worker_main(conn, index, threads, lane_block_name, rendezvous_name, budget,
                       device_type)


class DevicePool:
    """The workers of this client process, shared by its sessions."""

    def __init__(self):
        self._lock = threading.Lock()
        self._workers = {}
        self._context = None
        self.rendezvous = channel.Rendezvous()
        self._free_run_slots = list(range(channel.SLOTS_PER_BLOCK - 1, -1, -1))
        self._quarantined = []   # (run slots, lanes of an abandoned run that must drain first)
        self._slot_lock = threading.Lock()
        self._generations = itertools.count(1)
        self.budget = None   # the `cores.CoreBudget`, made with the first budgeted worker

    def workers_for(self, count, threads, gpu_core_cap=0):
        """The live workers of CPU:0 .. CPU:count-1 with `threads` kernel threads each (or
        `BUDGETED`: leased from the pool's core budget), starting (in parallel) those that do
        not run yet.

        Args:
          count: the number of CPU devices, or a list of ``(device type, index)`` pairs
            (``[('CPU', 0), ('GPU', 0), ('GPU', 1)]``), one per device of the session.
          threads: as above.
          gpu_core_cap: the cores each emulated GPU has as its own (``cores.gpu_cores``; 0:
            no cap): a budgeted GPU worker's leases are capped at it, and a GPU worker with
            fixed threads gets at most that many. A real GPU cannot borrow another GPU's
            compute, so a tower on one GPU runs at one GPU's speed, as on a machine with
            GPUs.

        Raises:
          UnavailableError: if a worker fails to start.
          ResourceExhaustedError: if /dev/shm has no room for the core budget.
        """
        with self._lock:
            if self._context is None:
                self._context = _context()
            if threads == BUDGETED and self.budget is None:
                self.budget = cores.CoreBudget()
            wanted = ([("CPU", index) for index in range(count)] if isinstance(count, int)
                      else list(count))
            handles, started = [], []
            for device_type, index in wanted:
                cap = gpu_core_cap if device_type == "GPU" else 0
                device_threads = threads
                if cap and threads != BUDGETED:
                    device_threads, cap = min(threads, cap), 0
                key = (device_type, index, device_threads, cap)
                handle = self._workers.get(key)
                if handle is None or not handle.alive():
                    handle = WorkerHandle(
                        self._context, index, device_threads, self.rendezvous.name,
                        self.budget if threads == BUDGETED else None,
                        default_threads(len(wanted)), device_type, cap)
                    self._workers[key] = handle
                    started.append(handle)
                handles.append(handle)
            for handle in started:
                handle.wait_ready()
            return handles

    def workers(self):
        """Every worker of the pool (alive or not), for diagnostics and tests."""
        with self._lock:
            return list(self._workers.values())

    def next_generation(self):
        """A run number, unique in this client (never 0, wraps at 2**32)."""
        value = next(self._generations) & 0xFFFFFFFF
        return value or next(self._generations) & 0xFFFFFFFF

    def acquire_run_slots(self, num_edges):
        """The rendezvous run slots of a run with `num_edges` cross-device edges (a tuple;
        see `channel.Rendezvous`). Adds a block of slots when too few are free; the workers
        of the run must then map it (`WorkerHandle.attach_rendezvous`).

        Raises:
          ResourceExhaustedError: if the step has more than `channel.MAX_EDGES_PER_STEP`
            edges, or the runs in flight would need more than `channel.MAX_RUN_SLOTS`, or
            /dev/shm has no room for another block.
        """
        if num_edges > channel.MAX_EDGES_PER_STEP:
            raise too_many_edges(num_edges)
        count = channel.slots_for_edges(num_edges)
        with self._slot_lock:
            if self._quarantined:
                self._release_drained_slots()
            free = self._free_run_slots
            while len(free) < count:
                first = self.rendezvous.num_slots
                if first >= channel.MAX_RUN_SLOTS:
                    raise errors.ResourceExhaustedError(
                        None, None, f"All {first} rendezvous run slots of this process are "
                        f"taken ({len(free)} free, this run needs {count}): the multi-device "
                        f"runs in flight use at most {channel.MAX_RUN_SLOTS} (one per "
                        f"{channel.EDGES_PER_SLOT} cross-device edges of a run)")
                self.rendezvous.grow()
                # The new slots go under the old ones: the stack reuses the old first.
                free[:0] = range(first + channel.SLOTS_PER_BLOCK - 1, first - 1, -1)
            taken = tuple(free[-count:])
            del free[-count:]
            return taken

    def release_run_slots(self, run_slots):
        with self._slot_lock:
            self._free_run_slots.extend(run_slots)

    def quarantine_run_slots(self, run_slots, posted):
        """Keeps `run_slots` out of use until the lanes of an abandoned run have drained.

        A partition that did not stop in time (Ctrl-C, a failure elsewhere) may still write
        to the slots' entries; they are reused only once each of the run's lanes has replied,
        or its worker is dead.

        Args:
          posted: the run's ``(part, lane)`` pairs (parts have a ``worker``).
        """
        watched = [(part.worker, lane, lane.last_response) for part, lane in posted]
        with self._slot_lock:
            self._quarantined.append((run_slots, watched))

    def _release_drained_slots(self):
        """Frees the quarantined slots whose lanes all replied (lock held)."""
        still = []
        for run_slots, watched in self._quarantined:
            if all(worker.dead or lane.region.load(lane.response) != seq
                   for worker, lane, seq in watched):
                self._free_run_slots.extend(run_slots)
            else:
                still.append((run_slots, watched))
        self._quarantined = still

    def free_run_slots(self):
        """How many run slots of the blocks made so far are free now (tests, diagnostics)."""
        with self._slot_lock:
            if self._quarantined:
                self._release_drained_slots()
            return len(self._free_run_slots)

    def shutdown(self):
        """Stops every worker and unlinks the pool's segments."""
        with self._lock:
            handles = list(self._workers.values())
            self._workers.clear()
        for handle in handles:
            handle.shutdown()
        self.rendezvous.unlink()
        if self.budget is not None:
            self.budget.close()
            self.budget = None


def too_many_edges(num_edges):
    """The error for a step with more than `channel.MAX_EDGES_PER_STEP` cross-device edges."""
    return errors.ResourceExhaustedError(
        None, None, f"This step has {num_edges} cross-device edges; at most "
        f"{channel.MAX_EDGES_PER_STEP} are supported (place more of its ops on one device)")


_pool = None
_pool_lock = threading.Lock()
_pool_pid = None


def pool():
    """This process's `DevicePool` (created on first use)."""
    global _pool, _pool_pid
    if _pool is None or _pool_pid != os.getpid():
        with _pool_lock:
            if _pool is None or _pool_pid != os.getpid():
                _pool = DevicePool()
                _pool_pid = os.getpid()
    return _pool


def shutdown_pool():
    """Stops the workers of this process (at exit, or for tests)."""
    global _pool
    with _pool_lock:
        current, _pool = _pool, None
    if current is not None and _pool_pid == os.getpid():
        current.shutdown()


atexit.register(shutdown_pool)
