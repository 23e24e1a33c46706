"""The run-time settings: every ``SESSIONLIB_*`` environment variable sessionlib reads.

Design. Each setting is one small function here, and no other module of the package reads a
``SESSIONLIB_*`` variable, so this file (and the table in the README's "Settings" section) is
the complete list. The functions read the environment when called, not at import: a test or a
tool may change a variable, and device workers inherit the client's environment. Callers
decide when to read (the executor choice, for one, is read once per process by
``runtime/executor.py``). The compiled core never reads them: the runtime passes the values
down (e.g. ``fused.tune_malloc(malloc_tuning())``).

Build-time settings (``SESSIONLIB_MARCH``, ``SESSIONLIB_NO_OPENMP``, ``SESSIONLIB_NO_LIBMVEC``)
are read by ``setup.py`` and are listed in the README's table too.

This module must stay a leaf: it imports nothing of sessionlib, so anything may import it.
"""

import os

__all__ = ["fusion_enabled", "executor_name", "start_method", "worker_processes",
           "malloc_tuning", "max_lanes", "DEFAULT_MAX_LANES", "emulated_gpus",
           "emulated_gpu_cores", "ray_fast_path"]

_OFF = ("0", "false", "off", "no")


def _get(name, environ):
    return (os.environ if environ is None else environ).get(name)


def _count(name, environ, default, minimum):
    """The integer value of variable `name`, or `default` when it is unset or empty.

    Raises:
      ValueError: if the value is not an integer of at least `minimum` (0 or 1).
    """
    value = _get(name, environ)
    if value is None or not value.strip():
        return default
    try:
        count = int(value)
    except ValueError:
        count = minimum - 1
    if count < minimum:
        kind = "positive" if minimum > 0 else "non-negative"
        raise ValueError(f"{name} must be a {kind} integer, not {value!r}")
    return count


def fusion_enabled(environ=None):
    """Whether elementwise fusion is on (``SESSIONLIB_FUSION``; default on).

    Args:
      environ: the mapping to read instead of ``os.environ`` (tests).

    Returns:
      False when the variable is ``0``, ``false``, ``off`` or ``no`` (any case), else True.
    """
    value = _get("SESSIONLIB_FUSION", environ)
    return value is None or value.strip().lower() not in _OFF


def executor_name(environ=None):
    """The executor sessions use unless told otherwise (``SESSIONLIB_EXECUTOR``).

    Args:
      environ: the mapping to read instead of ``os.environ`` (tests).

    Returns:
      ``'cython'`` (the default) or whatever the variable names (``'reference'``); an unknown
      name is reported by ``runtime/executor.py`` when it is used.
    """
    return _get("SESSIONLIB_EXECUTOR", environ) or "cython"


def start_method(default, environ=None):
    """How device worker processes start (``SESSIONLIB_START_METHOD``).

    Args:
      default: the method when the variable is unset (``runtime/devices.py`` picks it).
      environ: the mapping to read instead of ``os.environ`` (tests).

    Returns:
      The variable's value, or `default`. Only ``'forkserver'`` and ``'spawn'`` are valid;
      ``runtime/devices.py`` rejects the rest.
    """
    return _get("SESSIONLIB_START_METHOD", environ) or default


def worker_processes(environ=None):
    """Whether a session runs its devices in worker processes (``SESSIONLIB_WORKERS``).

    Args:
      environ: the mapping to read instead of ``os.environ`` (tests).

    Returns:
      True for ``1`` (even one device runs in a worker), False for ``0`` (never), and None
      otherwise: the default, worker processes only for a session with several devices.
    """
    value = _get("SESSIONLIB_WORKERS", environ)
    return True if value == "1" else False if value == "0" else None


def malloc_tuning(environ=None):
    """Whether sessionlib may tune glibc malloc (``SESSIONLIB_MALLOC_TUNING``; default on).

    Large buffers are kept in the heap for reuse (``fused.tune_malloc``) and a device worker
    uses one malloc arena; ``0`` leaves malloc alone.

    Args:
      environ: the mapping to read instead of ``os.environ`` (tests).

    Returns:
      False when the variable is ``0``, else True.
    """
    return _get("SESSIONLIB_MALLOC_TUNING", environ) != "0"


def core_budget(environ=None):
    """Whether device workers lease kernel threads from a shared core budget
    (``SESSIONLIB_CORE_BUDGET``; default on; ``runtime/cores.py``).

    ``0`` gives each worker a fixed cores / devices threads instead (the split before the
    budget; for comparisons).

    Args:
      environ: the mapping to read instead of ``os.environ`` (tests).
    """
    return _get("SESSIONLIB_CORE_BUDGET", environ) != "0"


def ray_fast_path(environ=None):
    """Whether a Ray session serves the devices on the client's node through shared memory
    (``SESSIONLIB_RAY_FAST_PATH``; default on; ``runtime/ray_fastpath.py``).

    ``0`` keeps every step on Ray's own calls and object store (for comparisons).

    Args:
      environ: the mapping to read instead of ``os.environ`` (tests).
    """
    return _get("SESSIONLIB_RAY_FAST_PATH", environ) != "0"


DEFAULT_MAX_LANES = 1024


def max_lanes(environ=None):
    """How many runs may be in flight on one device worker at once (``SESSIONLIB_MAX_LANES``).

    Each run in flight on a device holds one of its worker's lanes, also while it is blocked
    (a dequeue on an empty queue); the lanes grow on demand up to this many, and a run beyond
    it fails with ResourceExhaustedError. Read by the client when a worker needs more lanes.

    Args:
      environ: the mapping to read instead of ``os.environ`` (tests).

    Returns:
      The variable's value, or `DEFAULT_MAX_LANES` (1024) when it is unset or empty.

    Raises:
      ValueError: if the value is not a positive integer.
    """
    return _count("SESSIONLIB_MAX_LANES", environ, DEFAULT_MAX_LANES, 1)


def emulated_gpus(environ=None):
    """How many emulated GPUs the machine has (``SESSIONLIB_EMULATED_GPUS``; default 0).

    A program written for a machine with GPUs sets no GPU count: TF uses every GPU it finds.
    With this variable every session of the process sees that many GPU devices (each a worker
    process, ``runtime/devices.py``) unless its ``ConfigProto.device_count['GPU']`` says
    otherwise; ``tf.test.is_gpu_available()`` and ``tf.config`` report them too.

    Args:
      environ: the mapping to read instead of ``os.environ`` (tests).

    Returns:
      The variable's value, or 0 when it is unset or empty.

    Raises:
      ValueError: if the value is not a non-negative integer.
    """
    return _count("SESSIONLIB_EMULATED_GPUS", environ, 0, 0)


def emulated_gpu_cores(environ=None):
    """The cores each emulated GPU has as its own (``SESSIONLIB_EMULATED_GPU_CORES``).

    An emulated GPU models one fixed accelerator: its kernels lease at most this many cores
    from the core budget (``runtime/cores.py``). By default (unset or empty) the budget's
    cores are divided among a session's GPUs, at least one each (`cores.gpu_cores`).

    Args:
      environ: the mapping to read instead of ``os.environ`` (tests).

    Returns:
      The variable's value, or None when it is unset or empty.

    Raises:
      ValueError: if the value is not a positive integer.
    """
    return _count("SESSIONLIB_EMULATED_GPU_CORES", environ, None, 1)
