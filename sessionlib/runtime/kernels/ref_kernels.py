"""Kernels of TF 1's reference-variable ops (``ops/ref_variable_ops.py``) and of the read the
runtime inserts for them (``_RefRead``, ``runtime/ref_reads.py``).

Design. A reference variable is the same `VariableResource` a resource variable is, in the
session's container under ``var:container/shared_name``; at run time a reference tensor's value
is that resource's handle (`state_kernels.make_handle`). So ``VariableV2`` is a handle op, the
ops with a reference input are resource kernels that hand their reference input on as their
output, and `ref_read_kernel` reads the value where TF would dereference. The copy-on-write rules
of ``state_kernels`` hold: every update either owns the array it changes or swaps in a new one,
so a value a reader holds never changes under it (TF's reference variables may change under a
reader; sessionlib's reads are snapshots, which only a racy TF program could tell apart).

A reference variable knows its declared shape (``VariableV2``'s ``shape`` attr): ``Assign`` with
``validate_shape`` checks the new value against it even before the first assignment, as TF's
kernel checks the uninitialized tensor's shape. Errors are TF's: reading or updating a variable
that has no value is a FailedPreconditionError "Attempting to use uninitialized value NAME".

The optimizers' reference forms (``ApplyGradientDescent`` & co.) run the kernels of their
resource forms (``training_kernels``: the handles are the same) and output the variable's
reference.
"""

import sys

import numpy as np

from sessionlib import errors
from sessionlib.runtime import kernel_table
from sessionlib.runtime.kernel_table import register_kernel
from sessionlib.runtime.kernels import state_kernels, training_kernels
from sessionlib.runtime.kernels.state_kernels import (VariableResource, display_name,
                                                      handle_key, make_handle, resource_key,
                                                      split_key)

__all__ = ["RefVariableResource", "ref_read_kernel", "uninitialized_error"]


class RefVariableResource(VariableResource):
    """A reference variable's `VariableResource`, with the shape its ``VariableV2`` declares.

    Attributes:
      declared_shape: a tuple of ints, or None when the declared shape is not fully known.
    """

    __slots__ = ("declared_shape",)

    def __init__(self, container, name, dtype, declared_shape=None):
        super().__init__(container, name, dtype)
        self.declared_shape = declared_shape


def uninitialized_error(name):
    """TF's error for a reference variable read or updated before it has a value."""
    return errors.FailedPreconditionError(None, None,
                                          f"Attempting to use uninitialized value {name}")


def _is_handle(value):
    return (isinstance(value, np.ndarray) and value.dtype == object and value.ndim == 0
            and isinstance(value[()], str) and value[()].startswith("var:"))


def _initialized(ctx, handle):
    """The resource behind `handle`, which must hold a value."""
    key = handle_key(handle)
    resource = ctx.resources.lookup(key)
    if resource is None or resource.value is None:
        raise uninitialized_error(display_name(key))
    return resource


# ---- VariableV2 ---------------------------------------------------------------------------------

def _variable_kernel(ctx, inputs, attrs):
    # TF: an empty shared_name shares by the node's own name.
    key = resource_key("var", attrs["container"], attrs["shared_name"] or attrs["_name"])
    if ctx.resources.lookup(key) is None:
        shape = attrs["shape"]
        declared = tuple(shape.as_list()) if shape.is_fully_defined() else None
        _, container, name = split_key(key)
        ctx.resources.get_or_create(
            key, lambda: RefVariableResource(container, name, attrs["dtype"], declared))
    return (make_handle(key),)


# ---- reads ----------------------------------------------------------------------------------------

def ref_read_kernel(ctx, inputs, attrs):
    """The value behind a reference: a read-only snapshot of the variable.

    A value that is no handle (a fed reference tensor) passes through unchanged.
    """
    handle = inputs[0]
    if not _is_handle(handle):
        return (handle,)
    key = handle_key(handle)
    resource = ctx.resources.lookup(key)
    if resource is None:
        raise uninitialized_error(attrs.get("ref_name") or display_name(key))
    with resource.lock:
        value = resource.value
        if value is None:
            raise uninitialized_error(attrs.get("ref_name") or display_name(key))
        snapshot = value.view()   # references `value`, so writers copy on write
    snapshot.flags.writeable = False
    return (snapshot,)


def _ref_identity_kernel(ctx, inputs, attrs):
    return (inputs[0],)


def _is_initialized_kernel(ctx, inputs, attrs):
    resource = ctx.resources.lookup(handle_key(inputs[0]))
    return (np.array(resource is not None and resource.value is not None),)


# ---- Assign, AssignAdd, AssignSub ------------------------------------------------------------------

def _assign_kernel(ctx, inputs, attrs):
    handle, value = inputs
    key = handle_key(handle)
    dtype = attrs["T"]
    resources = ctx.resources
    resource = resources.lookup(key)
    if resource is None:
        _, container, name = split_key(key)
        resource = resources.get_or_create(key,
                                           lambda: RefVariableResource(container, name, dtype))
    if resource.dtype is not dtype:
        raise errors.InvalidArgumentError(
            None, None, f"Assign: variable {display_name(key)} holds {resource.dtype.name}, "
                        f"the value is {dtype.name}")
    private = np.array(value, dtype=value.dtype, copy=True, order="C")
    with resource.lock:
        if attrs["validate_shape"]:
            current = resource.value
            lhs = (current.shape if current is not None
                   else getattr(resource, "declared_shape", None))
            if lhs is not None and tuple(lhs) != private.shape:
                raise errors.InvalidArgumentError(
                    None, None, f"Assign requires shapes of both tensors to match. lhs shape= "
                                f"{list(lhs)} rhs shape= {list(private.shape)}")
        resource.value = private
    return (handle,)


def _update_kernel(ufunc):
    def kernel(ctx, inputs, attrs):
        _initialized(ctx, inputs[0])
        state_kernels._update(ctx, inputs, attrs, ufunc)
        return (inputs[0],)

    return kernel


# ---- Scatter* ----------------------------------------------------------------------------------------

def _private_value(resource):
    """The resource's array, copied first when a reader holds it (see state_kernels)."""
    value = resource.value
    if sys.getrefcount(value) != state_kernels._SOLE_OWNER_REFCOUNT:
        value = value.copy()
        resource.value = value
    return value


def _divide(values, index, updates):
    """``values[index] /= updates`` elementwise, repeated indices in turn; integers truncate
    toward zero, as C++ division (TF's kernel) does."""
    if values.dtype.kind == "f":
        np.divide.at(values, index, updates)
        return
    rows = np.broadcast_to(updates, values[index].shape) if np.ndim(updates) == 0 else updates
    for position, row in zip(np.asarray(index).reshape(-1),
                             np.asarray(rows).reshape((-1,) + values.shape[1:])):
        if np.any(row == 0):
            raise errors.InvalidArgumentError(None, None, "Integer division by zero")
        current = values[position]
        values[position] = np.trunc(current / row).astype(values.dtype)


_SCATTER_UFUNCS = {
    "ScatterAdd": np.add, "ScatterSub": np.subtract, "ScatterMul": np.multiply,
    "ScatterMin": np.minimum, "ScatterMax": np.maximum,
    "ScatterNdAdd": np.add, "ScatterNdSub": np.subtract,
}


def _apply(op_type, values, index, updates):
    if op_type in ("ScatterUpdate", "ScatterNdUpdate"):
        values[index] = updates   # repeated indices: one of them wins, as in TF
    elif op_type == "ScatterDiv":
        _divide(values, index, updates)
    else:
        _SCATTER_UFUNCS[op_type].at(values, index, updates)


def _scatter_kernel(op_type):
    def kernel(ctx, inputs, attrs):
        handle, indices, updates = inputs
        resource = _initialized(ctx, handle)
        with resource.lock:
            values = _private_value(resource)
            if values.ndim == 0:
                raise errors.InvalidArgumentError(None, None,
                                                  "Parameter must be at least a vector")
            expected = indices.shape + values.shape[1:]
            if updates.ndim and updates.shape != expected:
                raise errors.InvalidArgumentError(
                    None, None, f"Must have updates.shape = indices.shape + params.shape[1:] "
                                f"or updates.shape = [], got updates.shape "
                                f"{list(updates.shape)}, indices.shape {list(indices.shape)}, "
                                f"params.shape {list(values.shape)}")
            flat = indices.reshape(-1).astype(np.int64, copy=False)
            bad = np.flatnonzero((flat < 0) | (flat >= values.shape[0]))
            if bad.size:
                i = int(bad[0])
                raise errors.InvalidArgumentError(
                    None, None, f"indices[{i}] = {int(flat[i])} is not in "
                                f"[0, {values.shape[0]})")
            rows = updates.reshape((flat.size,) + values.shape[1:]) if updates.ndim else updates
            _apply(op_type, values, flat, rows)
        return (handle,)

    kernel.__name__ = op_type
    return kernel


def _scatter_nd_kernel(op_type):
    def kernel(ctx, inputs, attrs):
        handle, indices, updates = inputs
        resource = _initialized(ctx, handle)
        with resource.lock:
            values = _private_value(resource)
            if indices.ndim == 0:
                raise errors.InvalidArgumentError(None, None,
                                                  "Indices must be at least a vector")
            depth = indices.shape[-1]
            if depth > values.ndim:
                raise errors.InvalidArgumentError(
                    None, None, f"Dimensions [0,{depth}) of indices[shape="
                                f"{list(indices.shape)}] must be at most the rank of "
                                f"params[shape={list(values.shape)}]")
            expected = indices.shape[:-1] + values.shape[depth:]
            if updates.shape != expected:
                raise errors.InvalidArgumentError(
                    None, None, f"Must have updates.shape = indices.shape[:-1] + "
                                f"params_shape[indices.shape[-1]:], got updates.shape "
                                f"{list(updates.shape)}, indices.shape "
                                f"{list(indices.shape)}, params_shape {list(values.shape)}")
            leading = values.shape[:depth]
            pairs = indices.reshape(-1, depth).astype(np.int64, copy=False)
            for i, pair in enumerate(pairs):
                if np.any(pair < 0) or np.any(pair >= leading):
                    raise errors.InvalidArgumentError(
                        None, None, f"Invalid indices: [{i},0] = {list(pair)} does not "
                                    f"index into shape {list(values.shape)}")
            flat = (np.ravel_multi_index(pairs.T, leading) if depth
                    else np.zeros(len(pairs), np.int64))
            rows = values.reshape((int(np.prod(leading, dtype=np.int64)),)
                                  + values.shape[depth:])
            _apply(op_type, rows, flat, updates.reshape((len(pairs),) + values.shape[depth:]))
        return (handle,)

    kernel.__name__ = op_type
    return kernel


# ---- the optimizers' reference forms --------------------------------------------------------------

def _ref_apply_kernel(resource_kernel, ref_at):
    """``ApplyX`` from ``ResourceApplyX``'s kernel: the same update, then the reference out.

    A variable without a value fails with the reference variables' message.
    """
    def kernel(ctx, inputs, attrs):
        try:
            resource_kernel(ctx, inputs, attrs)
        except errors.FailedPreconditionError:
            for position in ref_at:
                key = handle_key(inputs[position])
                resource = ctx.resources.lookup(key)
                if resource is None or resource.value is None:
                    raise uninitialized_error(display_name(key)) from None
            raise
        return (inputs[0],)

    return kernel


def _register_ref_apply_kernels():
    for resource_type, (kind, layout, _) in training_kernels._OPS.items():
        ref_type = resource_type[len("Resource"):]
        ref_at = [i for i, c in enumerate(layout) if c == "r"]
        resource = kernel_table.lookup(resource_type)
        register_kernel(ref_type, reference=_ref_apply_kernel(resource.reference, ref_at),
                        fast=_ref_apply_kernel(resource.fast, ref_at))


register_kernel("VariableV2", reference=_variable_kernel)
register_kernel("_RefRead", reference=ref_read_kernel)
register_kernel("RefIdentity", reference=_ref_identity_kernel)
register_kernel("IsVariableInitialized", reference=_is_initialized_kernel)
register_kernel("Assign", reference=_assign_kernel)
register_kernel("AssignAdd", reference=_update_kernel(np.add))
register_kernel("AssignSub", reference=_update_kernel(np.subtract))
for _type in ("ScatterUpdate", "ScatterAdd", "ScatterSub", "ScatterMul", "ScatterDiv",
              "ScatterMin", "ScatterMax"):
    register_kernel(_type, reference=_scatter_kernel(_type))
for _type in ("ScatterNdUpdate", "ScatterNdAdd", "ScatterNdSub"):
    register_kernel(_type, reference=_scatter_nd_kernel(_type))
del _type
_register_ref_apply_kernels()
