"""Kernels of the state ops: resource handles and the variable resource with its kernels.

Design. A variable is a *resource*: an object owned by one device, kept in the session's
`ResourceContainer` (``ctx.resources``) under a key built from its container and shared name,
and addressed in the graph by a *handle* (dtype `resource`). ``VarHandleOp`` produces the
handle; ``ReadVariableOp``, ``AssignVariableOp``, ``AssignAddVariableOp``,
``AssignSubVariableOp`` and ``VarIsInitializedOp`` take it as input 0, so placement puts them on
the variable's device. At run time a handle is a plain 0-d object array holding the key string
(see `make_handle`), never an object shared with the client: the same kernels can run inside a
device worker process, where `ctx.resources` is that worker's container. The handle helpers
here serve the queue and reader kernels too.

Values and readers. A read must return a value that never changes later under the reader
(kernels, queues and users may hold it). We get that the way TF does, by reference counting:

* the resource owns a private, writable array; a read hands out a *read-only view* of it;
* a view keeps a reference to its base array, so ``sys.getrefcount(value)`` counts every reader
  that still holds the current value (directly, through a view, or a buffer export);
* ``assign_add``/``assign_sub`` update the array in place (``np.add(value, delta, out=value)``,
  no allocation, the fast path) only when the variable holds the sole reference; otherwise
  they copy on write: compute into a fresh array and swap it in, leaving the readers' snapshot
  untouched.

Both checks and swaps happen under the variable's own lock, so concurrent ``assign_add`` calls
lose no increments and a reader never sees a half-written update. ``assign`` always stores a
private copy (the fed or computed value may be aliased by its producer or the user).

The graph side of these ops (inference, `tf.Variable`, `tf.assign`) is ``ops/state_ops.py`` and
``ops/variables.py``; this module must never import them.
"""

import sys
import threading

import numpy as np

from sessionlib import dtypes, errors
from sessionlib._core import variables as _variables
from sessionlib.runtime.kernel_table import register_kernel

__all__ = ["resource_key", "make_handle", "handle_key", "split_key", "display_name",
           "VariableResource"]


# ---- handles (shared by the variable, queue and reader kernels) ---------------------------

def resource_key(kind, container, shared_name):
    """The key of a resource in a `ResourceContainer`: ``'kind:container/name'``.

    The kind keeps a variable and a queue of the same name apart, as TF's per-type lookup does.
    """
    return f"{kind}:{container}/{shared_name}"


def make_handle(key):
    """The run-time value of a resource handle: a 0-d object array holding `key`."""
    handle = np.empty((), dtype=object)
    handle[()] = key
    return handle


def handle_key(handle):
    """The resource key inside a handle value made by `make_handle`."""
    return handle[()]


def split_key(key):
    """(kind, container, shared_name) of a key made by `resource_key`."""
    kind, _, rest = key.partition(":")
    container, _, name = rest.partition("/")
    return kind, container, name


def display_name(key):
    """The user-facing name of a resource key (its shared name)."""
    return split_key(key)[2]


# ---- the variable resource ----------------------------------------------------------------

class VariableResource:
    """A variable's state inside a `ResourceContainer`.

    Attributes:
      container, name: the TF container and shared name (for `Session.reset(containers)`).
      dtype: the `DType` of the value.
      value: the private, writable numpy array, or None until the first assignment.
      lock: serialises reads, updates and the copy-on-write decision.
    """

    __slots__ = ("container", "name", "dtype", "value", "lock")

    def __init__(self, container, name, dtype):
        self.container = container
        self.name = name
        self.dtype = dtype
        self.value = None
        self.lock = threading.Lock()


def _measure_sole_owner_refcount():
    """``sys.getrefcount(value)`` in `_update`'s pattern when nobody else holds the array.

    CPython 3.11 gives 3 (the resource attribute, the local name, getrefcount's argument), but
    newer interpreters skip some reference counting of locals; measuring the very pattern
    `_update` uses keeps the in-place decision exact on any of them.
    """
    resource = VariableResource("", "probe", dtypes.float32)
    resource.value = np.zeros(1, np.float32)
    value = resource.value
    return sys.getrefcount(value)


_SOLE_OWNER_REFCOUNT = _measure_sole_owner_refcount()


def _uninitialized_error(key):
    name = display_name(key)
    return errors.FailedPreconditionError(
        None, None,
        f"Could not find variable {name}. This could mean that the variable has been deleted. "
        f"In TF1, it can also mean the variable is uninitialized. Debug info: "
        f"container=localhost, status error message=Resource localhost/{name} does not "
        f"exist. (Error while reading resource variable {name} from Container: localhost; "
        f"run its initializer first.)")


def _lookup_variable(ctx, handle):
    key = handle_key(handle)
    resource = ctx.resources.lookup(key)
    if resource is None or resource.value is None:
        raise _uninitialized_error(key)
    return resource


def _check_dtype(resource, dtype, key):
    if resource.dtype is not dtype:
        raise errors.InvalidArgumentError(
            None, None,
            f"Trying to access resource {display_name(key)} with dtype {dtype.name}, but the "
            f"variable holds {resource.dtype.name}")


# ---- the kernels ----------------------------------------------------------------------------

def _var_handle_kernel(ctx, inputs, attrs):
    return (make_handle(resource_key("var", attrs["container"], attrs["shared_name"])),)


# (container, shared_name) -> the outputs of VarHandleOp: a handle is an immutable value, so the
# fast kernel makes each one once (read-only) instead of once per run. Bounded, so that a
# process making endless variable names keeps a bounded cache.
_HANDLES = {}
_HANDLES_LIMIT = 1 << 16


def _var_handle_fast(ctx, inputs, attrs):
    names = (attrs["container"], attrs["shared_name"])
    outputs = _HANDLES.get(names)
    if outputs is None:
        handle = make_handle(resource_key("var", *names))
        handle.flags.writeable = False
        if len(_HANDLES) >= _HANDLES_LIMIT:
            _HANDLES.clear()
        outputs = _HANDLES[names] = (handle,)
    return outputs


def _read_kernel(ctx, inputs, attrs):
    resource = _lookup_variable(ctx, inputs[0])
    with resource.lock:
        value = resource.value
        if value is None:
            raise _uninitialized_error(handle_key(inputs[0]))
        # The view holds a reference to `value`, which makes writers copy on write.
        snapshot = value.view()
    if resource.dtype is not attrs["dtype"]:
        _check_dtype(resource, attrs["dtype"], handle_key(inputs[0]))
    snapshot.flags.writeable = False
    return (snapshot,)


def _assign_kernel(ctx, inputs, attrs):
    handle, value = inputs
    key = handle_key(handle)
    dtype = attrs["dtype"]
    resources = ctx.resources
    resource = resources.lookup(key)
    if resource is None:
        _, container, name = split_key(key)
        resource = resources.get_or_create(key,
                                           lambda: VariableResource(container, name, dtype))
    _check_dtype(resource, dtype, key)
    # A private copy: the input may be a fed array the user still owns, or a kernel's output.
    private = np.array(value, dtype=value.dtype, copy=True, order="C")
    with resource.lock:
        resource.value = private
    return ()


def _update(ctx, inputs, attrs, ufunc):
    handle, delta = inputs
    resource = _lookup_variable(ctx, handle)
    with resource.lock:
        value = resource.value
        if value is None:
            raise _uninitialized_error(handle_key(handle))
        if value.shape != delta.shape:
            raise errors.InvalidArgumentError(
                None, None,
                f"Cannot update variable with shape {list(value.shape)} using a Tensor with "
                f"shape {list(delta.shape)}, shapes must be equal.")
        if sys.getrefcount(value) == _SOLE_OWNER_REFCOUNT:
            # Nobody holds the current value: update it in place, with no allocation.
            ufunc(value, delta, out=value)
        else:
            # A reader holds a snapshot of it: leave that alone and swap in a new array.
            updated = np.empty_like(value)
            ufunc(value, delta, out=updated)
            resource.value = updated
    return ()


def _assign_add_kernel(ctx, inputs, attrs):
    return _update(ctx, inputs, attrs, np.add)


def _assign_sub_kernel(ctx, inputs, attrs):
    return _update(ctx, inputs, attrs, np.subtract)


def _is_initialized_kernel(ctx, inputs, attrs):
    resource = ctx.resources.lookup(handle_key(inputs[0]))
    return (np.array(resource is not None and resource.value is not None),)


# These kernels only move resources and numpy arrays. VarHandleOp and ReadVariableOp run once
# per variable per step, so their fast kernels skip the per-run work: a cached handle, and the
# read's common case in C (``_core/variables.pyx``, which hands the rest to `_read_kernel`).
register_kernel("VarHandleOp", reference=_var_handle_kernel, fast=_var_handle_fast)
register_kernel("ReadVariableOp", reference=_read_kernel,
                fast=_variables.ReadVariable(_read_kernel))
register_kernel("AssignVariableOp", reference=_assign_kernel)
register_kernel("AssignAddVariableOp", reference=_assign_add_kernel)
register_kernel("AssignSubVariableOp", reference=_assign_sub_kernel)
register_kernel("VarIsInitializedOp", reference=_is_initialized_kernel)
