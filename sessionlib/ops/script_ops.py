"""Python functions as graph ops: ``tf.py_func``, ``tf.numpy_function`` and ``tf.py_function``.

The ops are TF's: ``PyFunc`` (stateful), ``PyFuncStateless`` (``stateful=False``) and
``EagerPyFunc`` (``tf.py_function``), with TF's attrs ``token``, ``Tin`` and ``Tout``
(``EagerPyFunc`` also ``is_async``). Their outputs have unknown static shapes. The kernels are
``runtime/kernels/py_func_kernels.py``, which also says what the function receives and what it
may return.

Where the function lives. A graph is data, so the op holds only a token; the function stays
in the process that built the graph, in ``framework/py_func_registry.py``, and the graph keeps
it alive: it is released with the graph (TF's rule), so a long-running program that builds and
drops graphs does not accumulate functions. Sessions that run in the client (one device, the
default) call it on their executor threads. Device workers and Ray actors are other processes
and hold no functions: a py_func placed there fails its run at once with an
UnimplementedError that names the cause, the same refusal as ``tf.data`` iterators (whose
pipelines are Python objects too). Pickling the function by reference was rejected: closures,
lambdas and functions of ``__main__`` (most py_funcs) cannot be imported by a worker, a
function that can would run a second copy of its module's state there, and nothing but plain
values and raw buffers crosses to devices (DESIGN.md).

Optimization: ``stateful=False`` makes ``PyFuncStateless``, which the graph rewrites may fold
when all its inputs are constants (the function then runs once, when the step is compiled, as
TF's grappler does) or merge with an identical op; each call of ``py_func`` registers its own
token, so two ops are identical only when they share one function registration. Folding runs
in the client while the step compiles, so such a folded op works in a worker session too.

Gradients: ``PyFunc`` and ``PyFuncStateless`` are not differentiable (``tf.gradients`` gives
None), as in TF. TF differentiates ``EagerPyFunc`` by replaying the function under a gradient
tape, which needs eager execution; sessionlib has none, so asking for that gradient is a
LookupError that says so rather than a silent None.
"""

import functools

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework import py_func_registry, registry
from sessionlib.framework.graph import Operation, Tensor
from sessionlib.framework.tensor_shape import TensorShape

__all__ = ["py_func", "numpy_function", "eager_py_func"]


def _infer(inputs, attrs):
    if not isinstance(attrs.get("token"), (str, bytes)):
        raise ValueError("A PyFunc op needs a string attr 'token'")
    attrs["Tin"] = [t.dtype._base for t in inputs]
    out_types = attrs.get("Tout", [])
    if isinstance(out_types, dtypes.DType):
        out_types = [out_types]
    attrs["Tout"] = [dtypes.as_dtype(t) for t in out_types]
    return [(t, TensorShape(None)) for t in attrs["Tout"]]


def _eager_infer(inputs, attrs):
    attrs.setdefault("is_async", False)
    return _infer(inputs, attrs)


def _eager_py_func_grad(op, *grads):
    raise LookupError(
        f"No gradient for '{op.name}' (op type: EagerPyFunc): TF differentiates tf.py_function "
        "by running its function under a GradientTape, which needs eager execution, and "
        "sessionlib has none. Write the computation with graph ops, or wrap it in "
        "tf.stop_gradient if no gradient should flow through it.")


registry.register_op("PyFunc", infer=_infer, stateful=True,
                     gradient=registry.NOT_DIFFERENTIABLE,
                     doc="Calls a Python function on numpy arrays (tf.py_func).")
registry.register_op("PyFuncStateless", infer=_infer, stateful=False,
                     gradient=registry.NOT_DIFFERENTIABLE,
                     doc="PyFunc whose function is pure: it may be folded or merged.")
registry.register_op("EagerPyFunc", infer=_eager_infer, stateful=True,
                     gradient=_eager_py_func_grad,
                     doc="Calls a Python function on arrays with .numpy() (tf.py_function).")


# ---- the Python API ---------------------------------------------------------------------------

def _script_op(op_type, func, inp, Tout, name, eager):
    """Builds one `op_type` op calling `func` on `inp`; see `py_func`."""
    if not callable(func):
        raise ValueError(f"Expected func to be callable. Received func={func!r} of type "
                         f"{type(func)}.")
    if isinstance(inp, (Tensor, Operation)) or not hasattr(inp, "__iter__"):
        raise TypeError(f"`inp` must be a list of tensors, got {type(inp).__name__}")
    inp = list(inp)
    returns_list = isinstance(Tout, (list, tuple))
    out_types = [dtypes.as_dtype(t) for t in (Tout if returns_list else [Tout])]
    graph = graph_lib._graph_of_values(inp) or graph_lib.get_default_graph()
    with graph.as_default():
        tensors = [graph_lib.convert_to_tensor(value) for value in inp]
        # The function graph of a cond branch or a tf.data map builds the op; its outermost
        # graph keeps the function alive (see py_func_registry).
        building = graph_lib.get_default_graph()
        building._check_not_finalized()    # before registering a function for nothing
        entry = py_func_registry.insert(building, func, eager=eager)
        op = building.create_op(op_type, tensors, {"token": entry.token, "Tout": out_types},
                                name=name or op_type)
    if not out_types:
        return op
    return list(op.outputs) if returns_list else op.outputs[0]


def py_func(func, inp, Tout, stateful=True, name=None):
    """Wraps a Python function that takes and returns numpy arrays into a graph op.

    `func` is called at each run of the op, in the process that built the graph, with one
    numpy value per input (a writable copy; a numpy scalar for a 0-d input; bytes for strings).
    It returns one value per `Tout` entry: a list or tuple for several, a single value
    otherwise, None for none. Each value's numpy dtype must be its `Tout` dtype (a Python int
    is int64, a float float64); strings may be bytes or str.

    Args:
      func: the Python callable.
      inp: a list of tensors (or values convertible to tensors), the arguments of `func`.
      Tout: a dtype, or a list or tuple of dtypes (then a list is returned; an empty one
        makes an op with no outputs, which is returned).
      stateful: False when `func` is pure, so that the graph optimizer may fold it when its
        inputs are constants, or merge duplicates (op ``PyFuncStateless``).
      name: the op name.

    Returns:
      A `Tensor` of unknown shape, a list of them if `Tout` is a list or tuple, or the
      `Operation` if `Tout` is empty.

    Raises:
      ValueError: if `func` is not callable.
      TypeError: if `inp` is not a list or `Tout` holds something that is not a dtype.

    At run time, an exception raised by `func` fails the run: ValueError and TypeError as
    InvalidArgumentError, StopIteration as OutOfRangeError, MemoryError as
    ResourceExhaustedError, NotImplementedError as UnimplementedError, others as UnknownError;
    a wrong number or dtype of results is an InvalidArgumentError. The op runs only in
    sessions whose device runs in the client (see the module doc).
    """
    op_type = "PyFunc" if stateful else "PyFuncStateless"
    return _script_op(op_type, func, inp, Tout, name, eager=False)


def _check_args_or_decorate(script_op, func, inp, Tout, **kwargs):
    """`script_op(func, inp, Tout, ...)`, or, when `func` is None, TF's decorator form:
    ``@tf.numpy_function(Tout=...)`` makes a function that builds the op on its arguments."""
    if Tout is None:
        raise TypeError("Missing required argument: 'Tout'. If using it as a decorator, set "
                        "`Tout` by name above the function: `@tf.py_function(Tout=tout)`")
    if func is None:
        if inp is not None:
            raise TypeError("Don't set `inp` when using it as a decorator: the decorated "
                            "function's arguments are the inputs")

        def decorate(function):
            @functools.wraps(function)
            def build(*args):
                return script_op(function, list(args), Tout, **kwargs)
            return build
        return decorate
    if inp is None:
        raise TypeError("Missing required argument: 'inp'")
    return script_op(func, inp, Tout, **kwargs)


def numpy_function(func=None, inp=None, Tout=None, stateful=True, name=None):
    """Wraps a Python function on numpy arrays into a graph op (TF 2's name of `py_func`).

    Args:
      func: the Python callable; None to use this as a decorator,
        ``@tf.numpy_function(Tout=tf.float32)``, whose function builds the op on its arguments.
      inp: a list of tensors, the arguments of `func` (not given to the decorator form).
      Tout: a dtype, or a list or tuple of dtypes; see `py_func`.
      stateful: False when `func` is pure; see `py_func`.
      name: the op name.

    Returns:
      What `py_func` returns, or a decorator when `func` is None.

    Raises:
      TypeError: if `Tout` or (without the decorator form) `inp` is missing.
      ValueError: if `func` is not callable.
    """
    return _check_args_or_decorate(py_func, func, inp, Tout, stateful=stateful, name=name)


def _eager_py_func(func, inp, Tout, name=None):
    return _script_op("EagerPyFunc", func, inp, Tout, name, eager=True)


def eager_py_func(func=None, inp=None, Tout=None, name=None):
    """``tf.py_function``: wraps a Python function into a graph op (op ``EagerPyFunc``).

    TF calls `func` with eager tensors. sessionlib has no eager mode: `func` gets numpy arrays
    that also have TF's ``.numpy()`` method, so functions that call ``x.numpy()`` work, but TF
    ops called inside `func` would build graph ops rather than compute; use numpy there. The
    results are converted to the `Tout` dtypes as ``tf.constant`` converts (a Python ``3``
    may be float32).

    Args:
      func: the Python callable; None for the decorator form, as in `numpy_function`.
      inp: a list of tensors, the arguments of `func`.
      Tout: a dtype, or a list or tuple of dtypes; see `py_func`.
      name: the op name.

    Returns:
      A `Tensor` of unknown shape, a list of them if `Tout` is a list or tuple, or the
      `Operation` if `Tout` is empty; a decorator when `func` is None.

    Raises:
      TypeError: if `Tout` or (without the decorator form) `inp` is missing.
      ValueError: if `func` is not callable.

    `tf.gradients` through this op raises LookupError (see the module doc); run-time errors
    are those of `py_func`.
    """
    return _check_args_or_decorate(_eager_py_func, func, inp, Tout, name=name)
