"""The core budget: devices that borrow idle cores, and never oversubscribe busy ones;
emulated GPUs that each have a fixed share of the cores.

Policy.

* A client's device workers (and the client's own in-process kernels) share one *core
  budget*: the cores this process may run on (its affinity mask), at most
  `_cores.MAX_CORES`. The client creates it with its device pool, in a shared-memory segment
  named like every other (``sessionlib_<pid>_...``, so a killed client's is swept on start-up).
* A kernel that goes parallel (a fused chain, a big elementwise op or cast, a convolution's
  loops, the grouped variable updates, a big BLAS matmul) first *leases* threads from the
  budget and gives them back when its loop ends; a kernel below its size threshold never
  touches the budget and runs on its calling thread, as before.
* A lease gets min(the kernel's cap, its fair share, the free cores), and at least one. The
  cap is ``intra_op_parallelism_threads`` when the session sets it, else all the cores. The
  fair share is the total divided by the processes that are *awake*: a device is awake while
  one of its lane threads runs or spins, and asleep while they all sleep on their futex or
  wait for a tensor from another device. So one busy device on a 2-core machine runs its
  kernels on 2 threads, two busy devices get 1 each, and a device that waits for another's
  tensor lends its core to the producer. When nothing is free a lease waits for a release
  (holders never block while they hold cores), so the threads of leased kernels never exceed
  the cores; the high-water mark in `state()` shows it.
* An emulated GPU has a fixed share of the cores as its own, and its leases are capped at it:
  by default the budget's cores divided among the session's GPUs, at least one each (on 2
  cores with 2 GPUs: one core each), or ``SESSIONLIB_EMULATED_GPU_CORES`` (`gpu_cores`). The
  cap is the worker's (``attach``'s `cap`, shown per slot in `state()`), so every lease of a
  GPU's kernels obeys it, its OpenMP and BLAS threads included. The fair share and the free
  cores still apply below the cap. CPU devices keep borrowing: an idle GPU's cores are lent to
  a busy CPU device, as any idle device's are. A session that sets
  ``intra_op_parallelism_threads`` (or runs without the budget) gives a GPU's worker
  min(those threads, its share).
* A worker's leases are recorded in its own slot of the budget. When the client sees that a
  worker died (killed mid-kernel, say), it clears the worker's slot, so its cores come back,
  and gives the slot to the worker that replaces it. Workers beyond the budget's slots (more
  than `_cores.NUM_SLOTS` - 1 live at once) keep the old static split (cores / devices).
* A session that sets ``intra_op_parallelism_threads`` gets workers with exactly that many
  threads, outside the budget (the configuration is explicit, as in TF).
* An in-process session's GEMMs follow its ``intra_op_parallelism_threads`` as TF's do: below
  the process's OpenBLAS count, a GEMM (and a convolution's) sets the count to it for the
  call and back after (`ensure_blas` installs the hook; `_cores.blas_capped_calls` counts).
* BLAS follows the budget: a budgeted worker's OpenBLAS runs on one thread, and a matmul big
  enough to gain from more (`BLAS_PARALLEL_WORK` multiply-adds) leases threads and sets
  OpenBLAS's thread count for the call (its C API, found in this process's mappings; numpy
  calls BLAS with the GIL released, so other lanes keep running). We chose this over splitting
  the GEMM into row blocks ourselves: OpenBLAS's own threading packs the shared operand once,
  and no BLAS is a dependency of the compiled core.

* `CONTENDED_CALLS` multi-thread GEMMs in a row that each ran `CONTENDED_RATIO` times slower
  than the fastest of the same call in this process (other processes held the cores its BLAS
  threads needed) make this process's GEMMs run on one thread for `CONTENDED_SECONDS`, then
  two are tried again.

Why a shared word and not a static split: a static cores / devices split leaves half of a
2-core machine idle whenever one device has the work (a 64 MB tensor made on CPU:0 and
reduced on CPU:1 spends most of its step on one device at a time); TF's one shared pool uses
every core but cannot run two devices' kernels in parallel. The budget keeps both.

Why an emulated GPU does not borrow: it stands for one accelerator, and a real GPU cannot use
another GPU's compute. A program that moves one of two towers to a second GPU expects about
twice the speed, as on a machine with two real GPUs. If GPU:0 could borrow GPU:1's idle cores,
both towers on GPU:0 would already run on every core, and moving a tower to GPU:1 would gain
almost nothing, teaching the wrong lesson. On 2 cores (tools/bench.py gpu_tutorial, two
2048^2 matmul towers), the two-GPU part ran 1.0x as fast as the one-GPU part when each GPU
could use both cores (``SESSIONLIB_EMULATED_GPU_CORES=2``), and 1.9x with one core each, the
default. With each GPU held to its share, one GPU runs at one GPU's speed and two at twice
that. No ConfigProto field says how fast a GPU is (TF's
``gpu_options`` set memory, visible devices and streams, not compute), so the share is an
environment setting rather than an invented proto field.
"""

import ctypes
import os
import threading
import time

import numpy as np

from sessionlib._core import cores as _cores
from sessionlib.runtime import settings, shm

__all__ = ["CoreBudget", "machine_cores", "budget_cores", "gpu_cores", "join", "blas_matmul",
           "install_blas", "ensure_blas", "BLAS_PARALLEL_WORK"]

# A GEMM below this many multiply-adds runs on the process's base BLAS threads without
# leasing (setting OpenBLAS's thread count costs a microsecond or two).
BLAS_PARALLEL_WORK = _cores.BLAS_PARALLEL_WORK


def machine_cores():
    """The cores this process may run on (its affinity mask)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def budget_cores():
    """The cores of a core budget: `machine_cores`, at most `_cores.MAX_CORES`."""
    return min(machine_cores(), _cores.MAX_CORES)


def gpu_cores(gpus, environ=None):
    """The cores each of a session's `gpus` emulated GPUs has as its own (its lease cap).

    Args:
      gpus: how many emulated GPUs the session has.
      environ: the mapping to read ``SESSIONLIB_EMULATED_GPU_CORES`` from instead of
        ``os.environ`` (tests).

    Returns:
      ``SESSIONLIB_EMULATED_GPU_CORES`` when set (at most the budget's cores), else the
      budget's cores divided among the GPUs, at least 1; 0 when `gpus` is 0.

    Raises:
      ValueError: for a bad ``SESSIONLIB_EMULATED_GPU_CORES``.
    """
    if gpus <= 0:
        return 0
    total = budget_cores()
    configured = settings.emulated_gpu_cores(environ)
    if configured is not None:
        return min(configured, total)
    return max(1, total // gpus)


class CoreBudget:
    """The client's core budget: its segment, and which worker holds which slot.

    Args:
      total: the cores of the budget (default: `machine_cores`, at most `_cores.MAX_CORES`).
    """

    def __init__(self, total=None):
        total = min(total or budget_cores(), _cores.MAX_CORES)
        self.total = total
        self.segment = shm.Segment(_cores.SEGMENT_BYTES)
        self.name = self.segment.name
        self._lock = threading.Lock()
        # Slot 0 is the client's own; a freed slot is reused last (a dead worker's is cleared
        # before it goes back on the list).
        self._free_slots = list(range(_cores.NUM_SLOTS - 1, 0, -1))
        self.reclaimed = 0   # cores given back for workers that died holding them
        _cores.attach(self.segment.map, 0, total)
        install_blas()

    def assign_slot(self):
        """A free slot for a worker, or -1 when all are taken (the worker runs unbudgeted)."""
        with self._lock:
            return self._free_slots.pop() if self._free_slots else -1

    def reclaim(self, slot):
        """Gives back what the (dead or stopped) worker in `slot` held, and frees the slot.

        Returns:
          The cores given back.
        """
        if slot < 1:
            return 0
        returned = _cores.reclaim(self.segment.map, slot)
        with self._lock:
            self.reclaimed += returned
            if slot not in self._free_slots:
                self._free_slots.insert(0, slot)
        return returned

    def state(self):
        """The budget now: ``{'total', 'free', 'high_water'}``, and per slot ``'held'``,
        ``'caps'`` (0: none) and ``'slot_high_water'``; ``'awake'`` lists the awake slots."""
        return _cores.budget(self.segment.map)

    def reset_high_water(self):
        """Restarts the high-water marks (the budget's and each slot's) from the cores held
        now (tests, benchmarks)."""
        _cores.reset_high_water(self.segment.map)

    def close(self):
        """Detaches this process and unlinks the segment."""
        _cores.detach()
        self.segment.unlink()


_joined = None   # the segment a worker attached to (kept mapped while it runs)


def join(name, slot, cap=0):
    """Attaches this (worker) process to the client's budget `name` as `slot`; its BLAS runs
    on one thread unless a GEMM leases more.

    Args:
      name: the budget's segment.
      slot: this worker's slot.
      cap: the most cores one lease of this worker gets (an emulated GPU's share, see
        `gpu_cores`); 0 for none.
    """
    global _joined
    segment = shm.Segment(name=name)
    _cores.attach(segment.map, slot, 0, cap)
    _joined = segment
    install_blas(1)


# ---- BLAS ------------------------------------------------------------------------------------

_SETTERS = ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads",
            "openblas_set_num_threads64_", "openblas_set_num_threads")
_GETTERS = ("scipy_openblas_get_num_threads64_", "scipy_openblas_get_num_threads",
            "openblas_get_num_threads64_", "openblas_get_num_threads")


def _blas_functions():
    """(set, get) of the thread count of the OpenBLAS numpy loaded (ctypes functions), or
    None if this process has none."""
    try:
        with open("/proc/self/maps") as maps:
            paths = sorted({line.split()[-1] for line in maps
                            if "blas" in line.lower() and ".so" in line})
    except OSError:
        return None
    for path in paths:
        if not path.startswith("/"):
            continue
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        setter = next((getattr(library, n) for n in _SETTERS if hasattr(library, n)), None)
        getter = next((getattr(library, n) for n in _GETTERS if hasattr(library, n)), None)
        if setter is not None and getter is not None:
            setter.argtypes, setter.restype = [ctypes.c_int], None
            getter.argtypes, getter.restype = [], ctypes.c_int
            return setter, getter
    return None


def ensure_blas():
    """Installs the BLAS hook with the library's current count as the base, unless it is
    installed already: an in-process session whose ``intra_op_parallelism_threads`` is below
    that count runs its GEMMs on that many threads (`_cores.blas_lease` caps them)."""
    global _blas_ensured
    if not _blas_ensured and not _cores.blas_base():
        install_blas()
    _blas_ensured = True   # (once: a process without OpenBLAS looks for it once)


_blas_ensured = False


def install_blas(base=None):
    """Lets leased GEMMs set numpy's OpenBLAS thread count (`_cores.blas_lease`).

    Args:
      base: the count to set now and to go back to after each leased GEMM; None keeps the
        library's current count.

    Returns:
      Whether a BLAS library was found.
    """
    global _blas_setter
    functions = _blas_functions()
    if functions is None:
        return False
    setter, getter = functions
    if base is None:
        base = getter()
    setter(int(base))
    _cores.set_blas_functions(ctypes.cast(setter, ctypes.c_void_p).value, int(base))
    _blas_setter = setter
    return True


_blas_setter = None   # OpenBLAS's set_num_threads (ctypes), once `install_blas` found it

# Contention. OpenBLAS splits a GEMM between its threads up front, and the calling thread
# waits for the others' shares. When other processes keep the cores busy, a helper thread
# runs late and the call takes several times its quiet time: on a 2-core machine shared with
# other jobs, an LSTM training step (84 GEMMs of 10M multiply-adds) took 30 ms with one BLAS
# thread and 80-400 ms with two. So when CONTENDED_CALLS multi-thread GEMMs in a row each ran
# CONTENDED_RATIO times slower than the fastest of the same call seen in this process (one
# thread would have been faster: 1.6x the two-thread time on an idle machine), the GEMMs of
# this process run on one thread for CONTENDED_SECONDS; then two are tried again.
# "The same call" is the same shapes, layouts and thread count: GEMMs of one size but other
# shapes differ by 2x on an idle machine (an LSTM's weight gradient against its forward
# product), and a rule keyed by size alone sent an idle machine's LSTM step to one thread
# half of the time (30 ms against 22.5). One slow call alone (a page fault, an interrupt) is
# not contention either.
CONTENDED_RATIO = 2.0
CONTENDED_CALLS = 3
CONTENDED_SECONDS = 0.5
_fastest = {}           # (shapes, layouts, threads) of a GEMM -> its fastest seconds
_contended_in_a_row = [0]
_single_until = [0.0]   # time.monotonic() until which GEMMs run on one thread


def blas_matmul(a, b, cap):
    """``np.matmul(a, b)`` for 2-D `a` and `b`, on as many BLAS threads as the budget lends
    (at most `cap`) when the product has `BLAS_PARALLEL_WORK` multiply-adds or more, and on
    at most `cap` threads when `cap` is below the process's base count; on one thread for
    `CONTENDED_SECONDS` after a multi-thread call ran contended (see the note above).

    Raises:
      As `np.matmul`.
    """
    work = float(a.shape[0]) * a.shape[1] * b.shape[1]
    if work < BLAS_PARALLEL_WORK or cap <= 1 or _blas_setter is None:
        threads = _cores.blas_lease_threads(work, cap)
        if not threads:
            return np.matmul(a, b)
        try:
            return np.matmul(a, b)
        finally:
            _cores.blas_release_threads(threads)
    start = time.monotonic()
    if start < _single_until[0]:
        _blas_setter(1)
        try:
            return np.matmul(a, b)
        finally:
            _blas_setter(_cores.blas_base())
    threads = _cores.blas_lease_threads(work, cap)
    try:
        product = np.matmul(a, b)
    finally:
        if threads:
            _cores.blas_release_threads(threads)
    # (The lease's answer: threads leased, minus a cap it set, or 0 for the base count.)
    ran_on = threads if threads > 0 else -threads if threads < 0 else _cores.blas_base()
    if ran_on > 1:
        call = (a.shape, b.shape, a.flags.c_contiguous, b.flags.c_contiguous, ran_on)
        _note_multi_thread_time(call, time.monotonic() - start)
    return product


def _note_multi_thread_time(call, seconds):
    """Records the time of a multi-thread GEMM `call` (its shapes, layouts and threads);
    the `CONTENDED_CALLS`-th contended one in a row starts a one-thread period."""
    fastest = _fastest.get(call)
    if fastest is None or seconds < fastest:
        _fastest[call] = seconds
    if fastest is None or seconds <= CONTENDED_RATIO * fastest:
        _contended_in_a_row[0] = 0
        return
    _contended_in_a_row[0] += 1
    if _contended_in_a_row[0] >= CONTENDED_CALLS:
        _contended_in_a_row[0] = 0
        _single_until[0] = time.monotonic() + CONTENDED_SECONDS
