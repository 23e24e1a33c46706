"""The Python functions of ``tf.py_func``/``tf.numpy_function``/``tf.py_function``, by token.

Design. A ``PyFunc`` op cannot hold its function in the graph: a graph is data (it exports to a
`GraphDef`, its plans cross to device workers as plain values), so the op holds a string attr
``token`` (``"pyfunc_<pid>_<n>"``) and this per-process registry maps it to the function. The op
library inserts, the runtime's kernel looks up; both layers may import the framework, and
neither imports the other.

Lifetime: the registry holds its entries *weakly*; the graph that holds the op keeps the entry
alive (`insert` appends it to a list on the outermost graph, so a function used inside a
cond branch, a loop body or a ``tf.data`` map, whose function graphs the outer graph holds,
lives as long as that outer graph). When the graph is garbage-collected (``reset_default_graph``,
a dropped ``tf.Graph()``) its functions go too, and a token left in an exported `GraphDef` then
names nothing: running it is an error, not a leak. This is TF's rule too.

Process: the token carries the pid of the process that registered it. A kernel run in another
process (a device worker, a Ray actor) finds no entry; `lookup` then says which process owns
the function rather than "not found" (see ``runtime/kernels/py_func_kernels.py``).

Thread safety: insertion and lookup take a lock; executor threads look functions up
concurrently, and the weak dictionary may drop entries from the garbage collector's thread.
"""

import itertools
import os
import threading
import weakref

__all__ = ["PyFuncEntry", "insert", "lookup", "owner_pid", "registered_count"]

_lock = threading.Lock()
_entries = weakref.WeakValueDictionary()
_counter = itertools.count()


class PyFuncEntry:
    """A registered function and how its op calls it.

    Attributes:
      token: the op's ``token`` attr.
      function: the user's callable.
      eager: True for ``tf.py_function`` (arguments get a ``.numpy()`` method and results are
        converted to the output dtypes), False for ``py_func``/``numpy_function`` (numpy in,
        numpy out, result dtypes must match exactly, as in TF).
    """

    __slots__ = ("token", "function", "eager", "__weakref__")

    def __init__(self, token, function, eager):
        self.token = token
        self.function = function
        self.eager = eager

    def __repr__(self):
        return f"PyFuncEntry({self.token!r}, {self.function!r})"


def _outermost(graph):
    while getattr(graph, "outer", None) is not None:
        graph = graph.outer
    return graph


def insert(graph, function, eager=False):
    """Registers `function` for an op of `graph` and returns its entry.

    Args:
      graph: the graph the op is built in; its outermost graph keeps the entry alive.
      function: the callable.
      eager: see `PyFuncEntry`.

    Returns:
      The new `PyFuncEntry`; its ``token`` goes into the op's attrs.
    """
    with _lock:
        token = f"pyfunc_{os.getpid()}_{next(_counter)}"
        entry = PyFuncEntry(token, function, eager)
        _entries[token] = entry
    owner = _outermost(graph)
    # The graph's strong reference is what keeps the entry in the weak registry.
    with owner._lock:
        kept = owner.__dict__.setdefault("_py_funcs_used_in_graph", [])
        kept.append(entry)
    return entry


def lookup(token):
    """The `PyFuncEntry` registered under `token` in this process, or None."""
    if isinstance(token, bytes):
        token = token.decode("utf-8", "replace")
    with _lock:
        return _entries.get(token)


def owner_pid(token):
    """The pid of the process that registered `token`, or None for a token of another form
    (one written by TF: ``pyfunc_<n>``)."""
    if isinstance(token, bytes):
        token = token.decode("utf-8", "replace")
    parts = str(token).split("_")
    if len(parts) == 3 and parts[0] == "pyfunc" and parts[1].isdigit():
        return int(parts[1])
    return None


def registered_count():
    """How many functions are registered now (alive graphs' functions); for leak tests."""
    with _lock:
        return len(_entries)
