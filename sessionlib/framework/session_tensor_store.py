"""The session-tensor store: where `get_session_handle` keeps tensors, shared by its two sides.

Design. ``GetSessionHandle`` keeps a value in the session's resource container, under a key made
from the handle string it outputs. Two sides use that store: the runtime's kernels
(``runtime/kernels/session_handles_kernels.py``) put, read and delete values during runs, and the
`TensorHandle` a user holds (``ops/session_ops.py``) reads a value to feed it and, when garbage
collected without `delete()`, records its handle as dead. This module is the one definition of
the store's keys, its entries and the collection of dead handles, so that neither side imports
the other. It knows a container only by its methods (``lookup``, ``get_or_create``, ``put``,
``delete`` and ``lock``) and must never import the runtime or the client.
"""

import numpy as np

__all__ = ["StoredTensor", "handle_string", "store_key", "stored_value", "record_dead_handle",
           "collect_dead_handles"]

# Keys in the session's ResourceContainer. Tuples never clash with the string names that
# variables, queues and readers use.
_STORE_KEY = "session_tensor"
_DEAD_HANDLES_KEY = ("session_tensor_dead_handles",)
# As in TF, every tenth dead handle triggers the deletion of the stored tensors of all of them.
_DEAD_HANDLES_THRESHOLD = 10


class StoredTensor:
    """A value kept in the session store. `container` None: `Session.reset(containers)`
    leaves it alone; only closing the session (or a delete) drops it."""

    __slots__ = ("value",)
    container = None

    def __init__(self, value):
        self.value = value


def handle_string(handle):
    """`handle` (str, bytes, or a one-element array of either) as a str.

    Raises:
      TypeError: for any other value.
    """
    if isinstance(handle, np.ndarray):
        handle = handle.reshape(-1)[0] if handle.size == 1 else handle
    if isinstance(handle, bytes):
        return handle.decode("utf-8")
    if isinstance(handle, str):
        return handle
    raise TypeError(f"A session tensor handle is a string, got {type(handle).__name__}")


def store_key(handle):
    """The container key of the tensor stored under the handle string `handle`."""
    return (_STORE_KEY, handle)


def stored_value(resources, handle):
    """The value stored under the handle string `handle` in `resources`, or None."""
    stored = resources.lookup(store_key(handle))
    return None if stored is None else stored.value


def record_dead_handle(resources, handle):
    """Records that the `TensorHandle` of `handle` was collected without being deleted."""
    with resources.lock:
        resources.get_or_create(_DEAD_HANDLES_KEY, list).append(handle)
    collect_dead_handles(resources)


def collect_dead_handles(resources):
    """Deletes the stored tensors of dead handles once there are enough of them."""
    dead = resources.lookup(_DEAD_HANDLES_KEY)
    if not dead or len(dead) < _DEAD_HANDLES_THRESHOLD:
        return
    with resources.lock:
        doomed, dead[:] = list(dead), []
    for handle in doomed:
        resources.delete(store_key(handle))
