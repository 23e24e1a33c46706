"""Resource variables: the handle op, the read/assign kernels, and `assign`/`assign_add`/...

Design. A variable is a *resource*: an object owned by one device, kept in the session's
`ResourceContainer` (``ctx.resources``) under a key built from its container and shared name,
and addressed in the graph by a *handle* (dtype `resource`). ``VarHandleOp`` produces the
handle; ``ReadVariableOp``, ``AssignVariableOp``, ``AssignAddVariableOp``,
``AssignSubVariableOp`` and ``VarIsInitializedOp`` take it as input 0, so placement puts them on
the variable's device. At run time a handle is a plain 0-d object array holding the key string
(see `make_handle`), never an object shared with the client: the same kernels can run inside a
device worker process, where `ctx.resources` is that worker's container.

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
"""

import sys
import threading
import time

import numpy as np

from sessionlib import dtypes, errors
from sessionlib.framework import registry
from sessionlib.framework.tensor_shape import TensorShape, as_shape

__all__ = ["assign", "assign_add", "assign_sub", "is_variable_initialized", "make_handle",
           "handle_key", "resource_key", "split_key", "acquire_lock",
           "create_resource_op", "handle_only_infer"]


# ---- handles (shared by variables, queues and readers) -----------------------------------

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


def acquire_lock(ctx, lock, what):
    """Acquires `lock` while honouring the run's cancellation and deadline.

    A run waiting for a resource that another (blocked) run holds must still fail with
    CancelledError or DeadlineExceededError instead of hanging.
    """
    while not lock.acquire(timeout=0.05):
        ctx.check_cancelled()
        if ctx.deadline is not None and time.monotonic() >= ctx.deadline:
            raise errors.DeadlineExceededError(None, None, f"Timed out waiting for {what}")


def _scalar_handle_infer(inputs, attrs):
    return [(dtypes.resource, TensorShape([]))]


def handle_only_infer(what, dtype):
    """The infer function of an op whose only input is a `what` handle ('queue', 'reader')
    and whose output is a scalar of `dtype` (no output when `dtype` is None)."""
    def infer(inputs, attrs):
        if inputs[0].dtype is not dtypes.resource:
            raise TypeError(f"This op takes a {what} handle")
        return [] if dtype is None else [(dtype, TensorShape([]))]

    return infer


def _check_handle(op_type, tensor):
    if tensor.dtype is not dtypes.resource:
        raise TypeError(f"Input 'resource' of '{op_type}' Op has type {tensor.dtype.name} "
                        "that does not match expected type of resource.")


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


# ---- VarHandleOp ----------------------------------------------------------------------------

def _var_handle_infer(inputs, attrs):
    attrs.setdefault("container", "")
    attrs.setdefault("allowed_devices", [])
    attrs["dtype"] = dtypes.as_dtype(attrs["dtype"])
    attrs["shape"] = as_shape(attrs["shape"])
    return [(dtypes.resource, TensorShape([]))]


def _var_handle_kernel(ctx, inputs, attrs):
    return (make_handle(resource_key("var", attrs["container"], attrs["shared_name"])),)


registry.register_op("VarHandleOp", infer=_var_handle_infer, reference=_var_handle_kernel,
                     num_inputs=0, stateful=True, doc="The handle of a resource variable.")


def variable_shape_of_handle(handle):
    """The static shape of the variable behind `handle` (unknown when not a VarHandleOp)."""
    if handle.op.type == "VarHandleOp":
        return handle.op.get_attr("shape")
    return TensorShape(None)


# ---- ReadVariableOp -------------------------------------------------------------------------

def _read_infer(inputs, attrs):
    _check_handle("ReadVariableOp", inputs[0])
    attrs["dtype"] = dtypes.as_dtype(attrs["dtype"])
    return [(attrs["dtype"], variable_shape_of_handle(inputs[0]))]


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


registry.register_op("ReadVariableOp", infer=_read_infer, reference=_read_kernel,
                     num_inputs=1, stateful=True, doc="The current value of a variable.")


# ---- AssignVariableOp -----------------------------------------------------------------------

def _assign_infer(inputs, attrs):
    _check_handle("AssignVariableOp", inputs[0])
    dtype = dtypes.as_dtype(attrs.get("dtype", inputs[1].dtype))
    if inputs[1].dtype is not dtype:
        raise TypeError(f"Input 'value' of 'AssignVariableOp' Op has type "
                        f"{inputs[1].dtype.name} that does not match type {dtype.name} of "
                        "the variable.")
    attrs["dtype"] = dtype
    attrs.setdefault("validate_shape", False)
    return []


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


registry.register_op("AssignVariableOp", infer=_assign_infer, reference=_assign_kernel,
                     num_inputs=2, stateful=True, doc="Sets a variable's value.")


# ---- AssignAddVariableOp / AssignSubVariableOp ---------------------------------------------

def _update_infer(op_type):
    def infer(inputs, attrs):
        _check_handle(op_type, inputs[0])
        dtype = dtypes.as_dtype(attrs.get("dtype", inputs[1].dtype))
        if inputs[1].dtype is not dtype:
            raise TypeError(f"Input 'value' of '{op_type}' Op has type {inputs[1].dtype.name} "
                            f"that does not match type {dtype.name} of the variable.")
        if not dtype.is_numeric:
            raise TypeError(f"Value passed to parameter 'value' has DataType {dtype.name} not "
                            f"in list of allowed values (op {op_type})")
        shape = variable_shape_of_handle(inputs[0])
        if not shape.is_compatible_with(inputs[1].shape):
            raise ValueError(f"Cannot update variable with shape {shape} using a Tensor with "
                             f"shape {inputs[1].shape}, shapes must be equal.")
        attrs["dtype"] = dtype
        return []

    return infer


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


registry.register_op("AssignAddVariableOp", infer=_update_infer("AssignAddVariableOp"),
                     reference=_assign_add_kernel, num_inputs=2, stateful=True,
                     doc="Adds to a variable's value.")
registry.register_op("AssignSubVariableOp", infer=_update_infer("AssignSubVariableOp"),
                     reference=_assign_sub_kernel, num_inputs=2, stateful=True,
                     doc="Subtracts from a variable's value.")


# ---- VarIsInitializedOp ---------------------------------------------------------------------

def _is_initialized_infer(inputs, attrs):
    _check_handle("VarIsInitializedOp", inputs[0])
    return [(dtypes.bool, TensorShape([]))]


def _is_initialized_kernel(ctx, inputs, attrs):
    resource = ctx.resources.lookup(handle_key(inputs[0]))
    return (np.array(resource is not None and resource.value is not None),)


registry.register_op("VarIsInitializedOp", infer=_is_initialized_infer,
                     reference=_is_initialized_kernel, num_inputs=1, stateful=True,
                     doc="Whether a variable has a value.")


# ---- module functions ---------------------------------------------------------------------

def _as_variable(ref, what):
    from sessionlib.ops import variables

    if isinstance(ref, variables.Variable):
        return ref
    raise TypeError(f"{what} needs a Variable as its first argument, got {ref!r}")


def assign(ref, value, validate_shape=None, use_locking=None, name=None):
    """Assigns `value` to variable `ref` (``tf.assign``).

    Args:
      ref: a `Variable`.
      value: the new value (a tensor or anything `convert_to_tensor` takes).
      validate_shape: unused; kept for TF's signature.
      use_locking: unused; updates are always atomic.
      name: the name of the assign op.

    Returns:
      A tensor holding the variable's value after the assignment.

    Raises:
      TypeError: if `ref` is not a Variable or `value` has the wrong dtype.
      ValueError: if `value`'s static shape is incompatible with the variable's.
    """
    return _as_variable(ref, "assign").assign(value, use_locking=use_locking, name=name)


def assign_add(ref, value, use_locking=None, name=None):
    """Adds `value` to variable `ref` (``tf.assign_add``); returns the new value.

    Raises:
      TypeError: if `ref` is not a Variable or `value` has the wrong dtype.
    """
    return _as_variable(ref, "assign_add").assign_add(value, use_locking=use_locking, name=name)


def assign_sub(ref, value, use_locking=None, name=None):
    """Subtracts `value` from variable `ref` (``tf.assign_sub``); returns the new value.

    Raises:
      TypeError: if `ref` is not a Variable or `value` has the wrong dtype.
    """
    return _as_variable(ref, "assign_sub").assign_sub(value, use_locking=use_locking, name=name)


def is_variable_initialized(variable, name=None):
    """A bool scalar tensor: whether `variable` has been initialized in the running session.

    Raises:
      TypeError: if `variable` is not a Variable.
    """
    return _as_variable(variable, "is_variable_initialized").is_initialized(name=name)


def create_resource_op(graph, op_type, handle, extra_inputs, attrs, name):
    """Creates an op that uses the resource `handle`, on the resource's device.

    TF colocates such ops with their resource; here the op gets the handle's device, and with
    none, placement follows the resource input.
    """
    with graph.device(None):
        return graph.create_op(op_type, [handle] + list(extra_inputs), attrs, name=name,
                               device=handle.device or None)

