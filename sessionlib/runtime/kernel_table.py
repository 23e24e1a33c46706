"""The kernel table: kernel names bound to a fast (Cython) and a reference (numpy) kernel.

Design. An op's registration (``framework/registry.py``) names its kernel; it never holds or
imports one. This table, owned by the runtime, binds each name to two callables and their
calling convention:

* ``fast``: what the Cython executor calls, usually from ``sessionlib._core``;
* ``reference``: the plain numpy spec that the reference executor calls, and that the fast
  kernel is tested against (``tests/test_parity.py``).

A compiled plan holds kernel *ids* (indices into this table) and kernel *names*; a process that
receives a plan (a device worker) re-resolves the ids from its own table by name
(`ExecPlan.rebind`), so ids never cross a process boundary. The kernel families live in
``sessionlib/runtime/kernels/``; `lookup` imports them on first use, so a worker that imports
only the runtime has every kernel.

Calling conventions (the executor dispatches on the integer, so that the common elementwise
case pays for no wrapper call):

* ``KIND_GENERIC``: ``kernel(ctx, inputs, attrs) -> sequence of outputs``. `inputs` is a tuple
  of numpy arrays, `attrs` the node's plain-value attribute dict (with ``'_name'`` added), and
  `ctx` the per-run context (resources, cancellation, randomness).
* ``KIND_UNARY``: ``kernel(x) -> output`` for kernels with one input, one output and no attrs.
* ``KIND_BINARY``: ``kernel(x, y) -> output``, likewise.

This module must stay free of graph objects: the table is read inside worker processes.
"""

import threading

# The calling conventions are defined once, in the compiled executor that dispatches on them
# (sessionlib/_core/executor.pxd); this table re-exports them.
from sessionlib._core.executor import KIND_BINARY, KIND_GENERIC, KIND_UNARY

__all__ = ["KernelDef", "register_kernel", "lookup", "by_id", "all_kernel_names",
           "KIND_GENERIC", "KIND_UNARY", "KIND_BINARY"]

_KINDS = (KIND_GENERIC, KIND_UNARY, KIND_BINARY)


class KernelDef:
    """One entry of the table.

    Attributes:
      name: the kernel name that op registrations refer to.
      kernel_id: the index of this entry in the table (valid in this process only).
      fast: the kernel the Cython executor calls.
      reference: the numpy kernel the reference executor calls (the spec of `fast`).
      kind: the calling convention of both (``KIND_*``).
    """

    __slots__ = ("name", "kernel_id", "fast", "reference", "kind")

    def __init__(self, name, kernel_id, fast, reference, kind):
        self.name = name
        self.kernel_id = kernel_id
        self.fast = fast
        self.reference = reference
        self.kind = kind

    def __repr__(self):
        return f"KernelDef({self.name!r}, id={self.kernel_id})"


_lock = threading.RLock()
_by_name = {}
_by_id = []
_families_loaded = False


def register_kernel(name, *, reference, fast=None, kind=KIND_GENERIC):
    """Binds kernel `name` to its reference kernel and, optionally, a faster one.

    Args:
      name: the kernel name (an op registration's `kernel`).
      reference: the numpy kernel, the spec.
      fast: the kernel the Cython executor runs; defaults to `reference` (kernels that are
        numpy or BLAS calls either way, or that only move resources).
      kind: the calling convention (``KIND_*``) of both.

    Returns:
      The new `KernelDef`.

    Raises:
      ValueError: if `name` is already bound, `kind` is unknown, or a kernel is not callable.
    """
    if kind not in _KINDS:
        raise ValueError(f"Kernel {name!r}: unknown calling convention {kind!r}")
    fast = reference if fast is None else fast
    if not callable(reference) or not callable(fast):
        raise ValueError(f"Kernel {name!r} needs callable kernels")
    with _lock:
        if name in _by_name:
            raise ValueError(f"Kernel {name!r} is already registered")
        kernel_def = KernelDef(name, len(_by_id), fast, reference, kind)
        _by_name[name] = kernel_def
        _by_id.append(kernel_def)
    return kernel_def


def _load_families():
    """Imports ``sessionlib.runtime.kernels`` once: its modules register every kernel."""
    global _families_loaded
    if _families_loaded:
        return
    with _lock:
        if not _families_loaded:
            _families_loaded = True
            import sessionlib.runtime.kernels  # noqa: F401 - fills the table


def lookup(name):
    """The `KernelDef` bound to `name`.

    Raises:
      KeyError: if no kernel of that name is registered in this process.
    """
    found = _by_name.get(name)
    if found is None:
        _load_families()
        found = _by_name.get(name)
        if found is None:
            raise KeyError(f"No kernel registered under the name {name!r}")
    return found


def by_id(kernel_id):
    """The `KernelDef` with table index `kernel_id` (an id from this process's `lookup`)."""
    return _by_id[kernel_id]


def all_kernel_names():
    """Every registered kernel name, in registration order."""
    _load_families()
    return [kernel_def.name for kernel_def in _by_id]
