"""Kernels of the session-handle ops: keep a tensor in the session between runs.

Design. ``GetSessionHandle`` stores its input in the session's resource container and outputs a
handle string ``"node_name;id;device"``; ``GetSessionTensor`` reads the stored value of a fed
handle back and ``DeleteSessionTensor`` drops it. The store's keys and entries, which the
client-side `TensorHandle` uses too, are defined once in ``framework/session_tensor_store.py``.
Stored values are frozen (read-only), so a handle always names the value it was made from.

The graph side (inference, `get_session_handle`, `TensorHandle`) is ``ops/session_ops.py``;
this module must never import it.
"""

import itertools

import numpy as np

from sessionlib import dtypes, errors
from sessionlib.framework import device_spec
from sessionlib.framework import session_tensor_store as store
from sessionlib.runtime.kernel_table import register_kernel

# The key of the handle-id counter: a tuple, like the store's keys, so that it never clashes
# with the string names of variables, queues and readers.
_ID_COUNTER_KEY = ("session_tensor_ids",)

_DEFAULT_DEVICE = device_spec.full_name("CPU", 0)


class _HandleIds:
    """The session's counter of handle ids (kept by `Session.reset(containers)`, so that a
    handle string is never given out twice in one session)."""

    __slots__ = ("_counter",)
    container = None

    def __init__(self):
        self._counter = itertools.count()

    def next(self):
        return next(self._counter)


def _not_stored_error(handle):
    return errors.InvalidArgumentError(
        None, None, f"The tensor with handle '{handle}' is not in the session store.")


def _get_session_handle_kernel(ctx, inputs, attrs):
    value = inputs[0]
    if value.flags.writeable:
        # The run may hand the same array to the user, who may write to it: keep a frozen
        # copy so that the stored tensor cannot change behind the handle.
        value = value.copy()
        value.setflags(write=False)
    resources = ctx.resources
    store.collect_dead_handles(resources)
    number = resources.get_or_create(_ID_COUNTER_KEY, _HandleIds).next()
    handle = f"{attrs['_name']};{number};{_DEFAULT_DEVICE}"
    resources.put(store.store_key(handle), store.StoredTensor(value))
    return (np.array(handle.encode("utf-8"), dtype=object),)


def _get_session_tensor_kernel(ctx, inputs, attrs):
    handle = store.handle_string(inputs[0])
    value = store.stored_value(ctx.resources, handle)
    if value is None:
        raise _not_stored_error(handle)
    wanted = attrs["dtype"]
    if wanted.as_numpy_dtype != value.dtype and not (wanted is dtypes.string
                                                     and value.dtype == object):
        raise errors.InvalidArgumentError(
            None, None, f"The tensor with handle '{handle}' has dtype "
            f"{dtypes.as_dtype(value.dtype).name}, not {wanted.name}")
    return (value,)


def _delete_session_tensor_kernel(ctx, inputs, attrs):
    handle = store.handle_string(inputs[0])
    if not ctx.resources.delete(store.store_key(handle)):
        raise _not_stored_error(handle)
    return ()


# These kernels only move values in the session's store: the reference kernel is the fast one.
register_kernel("GetSessionHandle", reference=_get_session_handle_kernel)
register_kernel("GetSessionTensor", reference=_get_session_tensor_kernel)
register_kernel("DeleteSessionTensor", reference=_delete_session_tensor_kernel)
