"""Session handles: keep a tensor inside the session between runs, addressed by a string.

``get_session_handle(t)`` stores the value of `t` in the session's resource container when it
runs and outputs a handle string ``"node_name;id;device"``. Fetching that output gives a
`TensorHandle` (through the op's registered ``fetch_wrapper``, so the session has no special
case for it). Feeding the handle string (or the `TensorHandle`) to the holder placeholder of
``get_session_tensor`` reads the stored value back in a later run, and ``delete_session_tensor``
drops it. Stored tensors live as long as their session: `close()` clears the container.

As in TF, a `TensorHandle` that is garbage collected without `delete()` is recorded as dead,
and every tenth dead handle triggers the deletion of the stored tensors of all dead ones.

This module registers the ops (signature, inference, kernel name) and holds the wrappers and
`TensorHandle`. The kernels live in the ``session_handles_kernels`` family of the kernel table
and the store's layout, which both sides use, in ``framework/session_tensor_store.py``; this
module names kernels and must never import them or the compiled code.
"""

import weakref

import numpy as np

from sessionlib import dtypes, errors
from sessionlib.framework import device_spec
from sessionlib.framework import graph as graph_lib
from sessionlib.framework import registry
from sessionlib.framework import session_tensor_store as store
from sessionlib.framework.tensor_shape import TensorShape
from sessionlib.ops import array_ops

__all__ = ["TensorHandle", "get_session_handle", "get_session_tensor", "delete_session_tensor"]


def _handle_string(handle):
    """`handle` (str, bytes, a 0-d array or a TensorHandle) as a str."""
    if isinstance(handle, TensorHandle):
        return handle.handle
    return store.handle_string(handle)


# ---- GetSessionHandle ---------------------------------------------------------------------

def _get_session_handle_infer(inputs, attrs):
    attrs["T"] = inputs[0].dtype
    return [(dtypes.string, TensorShape([]))]


def _wrap_fetched_handle(value, tensor, session):
    """What fetching a GetSessionHandle output gives: a `TensorHandle`."""
    return TensorHandle(value, tensor.op.inputs[0].dtype, session)


registry.register_op("GetSessionHandle", infer=_get_session_handle_infer,
                     kernel="GetSessionHandle", num_inputs=1, stateful=True,
                     fetch_wrapper=_wrap_fetched_handle,
                     doc="Stores its input in the session; outputs the handle string.",
                     gradient=registry.NOT_DIFFERENTIABLE)


def get_session_handle(data, name=None):
    """The handle of `data`, kept in the session when the returned tensor is run.

    Args:
      data: the Tensor to keep.
      name: the op name.

    Returns:
      A scalar string Tensor; fetching it gives a `TensorHandle`.

    Raises:
      TypeError: if `data` is not a Tensor.
    """
    if not isinstance(data, graph_lib.Tensor):
        raise TypeError("`data` must be of type Tensor.")
    # Placement puts the op with its input, as TF's colocation does.
    op = data.graph.create_op("GetSessionHandle", [data], name=name or "GetSessionHandle")
    return op.outputs[0]


# ---- GetSessionTensor ---------------------------------------------------------------------

def _get_session_tensor_infer(inputs, attrs):
    if inputs[0].dtype is not dtypes.string:
        raise TypeError(f"A session tensor handle is a string, got {inputs[0].dtype.name}")
    return [(attrs["dtype"], TensorShape(None))]


registry.register_op("GetSessionTensor", infer=_get_session_tensor_infer,
                     kernel="GetSessionTensor", num_inputs=1, stateful=True,
                     doc="The session-stored tensor of a handle.",
                     gradient=registry.NOT_DIFFERENTIABLE)


def _device_of_handle(handle):
    if handle is None:
        return None
    return device_spec.canonical_name(_handle_string(handle).split(";")[-1])


def get_session_tensor(handle, dtype, name=None):
    """A placeholder for a handle and the tensor it names.

    Args:
      handle: a handle string (or `TensorHandle`) that names the device to read on; the
        handle actually read is the one fed to the returned placeholder.
      dtype: the dtype of the stored tensor.
      name: the name of the reading op.

    Returns:
      ``(holder, tensor)``: feed a handle string (or a `TensorHandle`) to `holder` and run
      `tensor` to get the stored value.
    """
    dtype = dtypes.as_dtype(dtype)
    graph = graph_lib.get_default_graph()
    with graph.device(_device_of_handle(handle)):
        holder = array_ops.placeholder(dtypes.string)
        op = graph.create_op("GetSessionTensor", [holder], {"dtype": dtype},
                             name=name or "GetSessionTensor")
    return holder, op.outputs[0]


# ---- DeleteSessionTensor ------------------------------------------------------------------

def _no_outputs(inputs, attrs):
    if inputs[0].dtype is not dtypes.string:
        raise TypeError(f"A session tensor handle is a string, got {inputs[0].dtype.name}")
    return []


registry.register_op("DeleteSessionTensor", infer=_no_outputs,
                     kernel="DeleteSessionTensor", num_inputs=1, stateful=True,
                     doc="Drops the session-stored tensor of a handle.",
                     gradient=registry.NOT_DIFFERENTIABLE)


def delete_session_tensor(handle, name=None):
    """A placeholder for a handle and the op that deletes the tensor it names.

    Args:
      handle: a handle string (or `TensorHandle`) that names the device.
      name: the name of the deleting op.

    Returns:
      ``(holder, deleter)``: feed a handle to `holder` and run `deleter`.
    """
    graph = graph_lib.get_default_graph()
    with graph.device(_device_of_handle(handle)):
        holder = array_ops.placeholder(dtypes.string)
        deleter = graph.create_op("DeleteSessionTensor", [holder],
                                  name=name or "DeleteSessionTensor")
    return holder, deleter


# ---- TensorHandle -------------------------------------------------------------------------

# Per graph, the reader and deleter subgraphs that TensorHandle.eval and .delete reuse, so
# that repeated calls add no ops.
_readers = weakref.WeakKeyDictionary()
_deleters = weakref.WeakKeyDictionary()


def _reader_for(graph, handle, dtype):
    key = (_handle_string(handle).split(";")[-1], dtype)
    cache = _readers.setdefault(graph, {})
    found = cache.get(key)
    if found is None:
        with graph.as_default():
            found = cache[key] = get_session_tensor(handle, dtype)
    return found


def _deleter_for(graph, handle):
    key = _handle_string(handle).split(";")[-1]
    cache = _deleters.setdefault(graph, {})
    found = cache.get(key)
    if found is None:
        with graph.as_default():
            found = cache[key] = delete_session_tensor(handle)
    return found


class TensorHandle:
    """The fetched value of a `get_session_handle` tensor: a handle to a tensor that lives in
    the session.

    Args:
      handle: the handle string (str or bytes).
      dtype: the dtype of the stored tensor.
      session: the session that stores it.
    """

    def __init__(self, handle, dtype, session):
        self._handle = _handle_string(handle)
        self._dtype = dtypes.as_dtype(dtype)
        self._session = session
        self._auto_gc_enabled = True

    @property
    def handle(self):
        """The handle string."""
        return self._handle

    @property
    def dtype(self):
        return self._dtype

    def __str__(self):
        return self._handle

    def __repr__(self):
        return f"<TensorHandle {self._handle!r} dtype={self._dtype.name}>"

    def eval(self):
        """The stored tensor's value.

        Raises:
          TypeError: if the handle was deleted.
          InvalidArgumentError: if the session no longer stores the tensor.
        """
        if not self._auto_gc_enabled:
            raise TypeError(f"Persistent tensor {self._handle} may have already been "
                            "deleted.")
        holder, reader = _reader_for(self._session.graph, self._handle, self._dtype)
        return self._session.run(reader, feed_dict={holder: self._handle})

    def delete(self):
        """Deletes the stored tensor from the session.

        Raises:
          TypeError: if the handle was already deleted.
        """
        if not self._auto_gc_enabled:
            raise TypeError(f"Persistent tensor {self._handle} may have already been "
                            "deleted.")
        self._auto_gc_enabled = False
        holder, deleter = _deleter_for(self._session.graph, self._handle)
        self._session.run(deleter, feed_dict={holder: self._handle})

    def get_raw_handle(self):
        """The handle string; the caller now owns the stored tensor (no collection on GC)."""
        self._auto_gc_enabled = False
        return self._handle

    def to_numpy_array(self):
        """The handle as a feedable value (a 0-d string array)."""
        return np.array(self._handle.encode("utf-8"), dtype=object)

    def __array__(self, dtype=None, copy=None):
        # Fed to a string placeholder (a get_session_tensor holder), a handle is its string.
        # Fed to any other tensor, it stands for the stored value, as in TF, where feeding a
        # TensorHandle feeds the tensor it names.
        if dtype is None or np.dtype(dtype) == object:
            return self.to_numpy_array()
        resources = getattr(self._session, "_resources", None)
        stored = None if resources is None else store.stored_value(resources, self._handle)
        if stored is not None:
            return np.asarray(stored, dtype=dtype)
        # Not in this process (device workers keep the store): read it with a run.
        try:
            return np.asarray(self.eval(), dtype=dtype)
        except (errors.OpError, TypeError) as err:
            raise ValueError(f"Cannot feed handle {self._handle}: {err}") from None

    def __del__(self):
        if not getattr(self, "_auto_gc_enabled", False):
            return
        try:
            store.record_dead_handle(self._session._resources, self._handle)
        except Exception:  # noqa: BLE001 - at interpreter shutdown anything may be gone
            pass
