"""Kernels of ``PyFunc``, ``PyFuncStateless`` and ``EagerPyFunc``: call a user's Python function.

Design. The op holds a ``token`` attr; the function lives in this process's registry
(``framework/py_func_registry.py``) for as long as the graph that made the op. The kernel looks
it up, calls it on the executor thread that runs the op (the executor holds the GIL for a
Python kernel; two runs may call one function at once, as in TF, so a function with state of
its own guards it itself), checks what it returned against ``Tout`` and hands back fresh
arrays.

What crosses into the function: one argument per input, a writable *copy* of the input (the
executor's arrays may be read-only shared memory or another op's output, which a function
that writes into its argument must not change), and a numpy scalar for a 0-d input, as TF
passes. Strings are bytes. ``tf.py_function`` (``EagerPyFunc``) arguments are the same arrays
with a ``.numpy()`` method (`EagerArray`): sessionlib has no eager mode, so TF ops called on
them inside the function build graph ops instead of computing; use numpy there.

What comes back: a list or tuple is one value per output, anything else the single output
(None: no output). ``PyFunc`` checks dtypes as TF does: a value whose numpy dtype is not the
output's is an InvalidArgumentError (a Python ``3`` is int64, ``2.5`` is double); strings may be
bytes, str (UTF-8 encoded) or numpy string arrays. ``EagerPyFunc`` converts each value to its
output dtype with ``tf.constant``'s rules, as TF's ``convert_to_tensor`` does. The outputs are
copied into C-contiguous arrays that the function keeps no reference to.

Errors, in TF 2.21's words and codes: an exception raised by the function becomes an `OpError`
whose message starts with ``"<ExceptionType>: <message>"`` followed by the traceback:
ValueError and TypeError give InvalidArgumentError, StopIteration OutOfRangeError, MemoryError
ResourceExhaustedError, NotImplementedError UnimplementedError, and anything else UnknownError
(an ``OpError`` raised inside too, as TF does). A function registered in another process (the
kernel runs in a device worker or a Ray actor) is an UnimplementedError that says so; a token
whose graph was garbage-collected is TF's "callback ... is not found".
"""

import os
import traceback

import numpy as np

from sessionlib import dtypes, errors
from sessionlib.framework import py_func_registry, tensor_util
from sessionlib.runtime.kernel_table import register_kernel

__all__ = ["EagerArray"]

# TF's names for dtypes in its messages (DataTypeString).
_TF_TYPE_NAMES = {"float32": "float", "float64": "double", "float16": "half", "object": "string"}

# TF's status code for an exception raised by the function (py_func.cc), by exception type.
_CODES = ((ValueError, errors.InvalidArgumentError), (TypeError, errors.InvalidArgumentError),
          (StopIteration, errors.OutOfRangeError), (MemoryError, errors.ResourceExhaustedError),
          (NotImplementedError, errors.UnimplementedError))


class EagerArray(np.ndarray):
    """A ``tf.py_function`` argument: a numpy array that also answers ``.numpy()``, the one
    method of TF's eager tensors that functions written for TF use on their arguments."""

    def numpy(self):
        """The value as a plain numpy array (a numpy scalar when 0-d), as TF's ``.numpy()``."""
        plain = self.view(np.ndarray)
        return plain[()] if plain.ndim == 0 else plain


def _type_name(dtype):
    name = np.dtype(dtype).name
    if name.startswith(("bytes", "str")):
        return "string"
    return _TF_TYPE_NAMES.get(name, name)


def _argument(value, eager):
    copy = np.array(value, copy=True, order="C")
    if eager:
        return copy.view(EagerArray)
    return copy[()] if copy.ndim == 0 else copy


def _missing(token):
    """The error for a token with no function in this process."""
    owner = py_func_registry.owner_pid(token)
    if owner is not None and owner != os.getpid():
        return errors.UnimplementedError(
            None, None,
            f"The Python function of {token} belongs to process {owner}, which built the graph, "
            f"but this kernel runs in process {os.getpid()} (a device worker): Python functions "
            "do not cross processes. Run graphs with tf.py_func, tf.numpy_function or "
            "tf.py_function in a session whose one device runs in the client: device_count "
            "{'CPU': 1}, SESSIONLIB_WORKERS unset, no ray:// target.")
    return errors.InvalidArgumentError(
        None, None, f"ValueError: callback {token} is not found (the graph that registered "
        "it was garbage-collected)")


def _raised(err, token):
    """The `OpError` for an exception `err` raised by the function of `token`."""
    error_class = errors.UnknownError
    for exception_type, code_class in _CODES:
        if isinstance(err, exception_type):
            error_class = code_class
            break
    trace = "".join(traceback.format_exception(type(err), err, err.__traceback__))
    return error_class(None, None, f"{type(err).__name__}: {err}\n{trace}")


def _results(result, count, token):
    """The function's `result` as a list of `count` values."""
    if result is None and count == 0:
        return []
    values = list(result) if isinstance(result, (list, tuple)) else [result]
    if len(values) != count:
        raise errors.InvalidArgumentError(
            None, None, f"{token} returns {len(values)} values, but expects to see {count} "
                        "values.")
    return values


def _exact_output(index, value, dtype, token):
    """`value` as a fresh array of `dtype`, which its own dtype must be (PyFunc's rule)."""
    if dtype is dtypes.string:
        try:
            return tensor_util.to_numpy(value, dtypes.string).copy()
        except TypeError as err:
            raise errors.InvalidArgumentError(
                None, None, f"{index}-th value returned by {token} is not a string: "
                            f"{err}") from None
    array = np.asarray(value)
    if array.dtype != np.dtype(dtype.as_numpy_dtype):
        raise errors.InvalidArgumentError(
            None, None, f"{index}-th value returned by {token} is {_type_name(array.dtype)}, "
                        f"but expects {_type_name(dtype.as_numpy_dtype)}")
    return np.array(array, copy=True, order="C")


def _converted_output(value, dtype):
    """`value` converted to `dtype` as ``tf.constant`` converts (EagerPyFunc's rule)."""
    if isinstance(value, np.ndarray):
        value = value.view(np.ndarray)
    try:
        array = tensor_util.to_numpy(value, dtype)
    except (TypeError, ValueError) as err:
        raise errors.InvalidArgumentError(
            None, None, f"TypeError: Cannot convert {tensor_util.short_repr(value)} to "
                        f"EagerTensor of dtype {dtype.name}: {err}") from None
    return np.array(array, copy=True, order="C")


def py_func(ctx, inputs, attrs):
    """Calls the registered function of ``attrs['token']`` on `inputs` (see the module doc)."""
    token = attrs["token"]
    entry = py_func_registry.lookup(token)
    if entry is None:
        raise _missing(token)
    out_types = [dtypes.as_dtype(t) for t in attrs.get("Tout", ())]
    arguments = [_argument(value, entry.eager) for value in inputs]
    try:
        result = entry.function(*arguments)
    except Exception as err:  # noqa: BLE001 - TF turns every exception into a status
        raise _raised(err, entry.token) from None
    values = _results(result, len(out_types), entry.token)
    if entry.eager:
        return [_converted_output(v, t) for v, t in zip(values, out_types)]
    return [_exact_output(i, v, t, entry.token) for i, (v, t) in
            enumerate(zip(values, out_types))]


register_kernel("PyFunc", reference=py_func)
register_kernel("PyFuncStateless", reference=py_func)
register_kernel("EagerPyFunc", reference=py_func)
