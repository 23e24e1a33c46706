"""The graph model: `Graph`, `Operation` and `Tensor`, and the per-thread default graph.

A `Graph` owns its operations and the scopes under which new ones are made (name scope, device
and control dependencies; those scopes are per thread, as in TF). Every op is built through
`Graph.create_op`, which asks the op registry to check the inputs and infer the outputs, so a
static shape or dtype error surfaces while the graph is built. `Graph.version` counts the ops
added; a session's step cache compares it to know when a compiled step is stale.

Operations keep their attributes as plain Python values (numbers, strings, `DType`,
`TensorShape`, numpy arrays), which is what kernels receive and what crosses process boundaries;
`Operation.node_def` and `Graph.as_graph_def` translate them to protos.
"""

import contextlib
import re
import threading

from sessionlib import dtypes
from sessionlib.framework import device_spec, registry
from sessionlib.framework.tensor_shape import TensorShape, as_shape

__all__ = [
    "Graph", "Operation", "Tensor", "get_default_graph", "reset_default_graph",
    "name_scope", "device", "control_dependencies", "convert_to_tensor", "GraphKeys",
]

_VALID_OP_NAME = re.compile(r"^[A-Za-z0-9.][A-Za-z0-9_.\\/>-]*$")
_VALID_SCOPE_NAME = re.compile(r"^[A-Za-z0-9_.\\/>-]*$")


class GraphKeys:
    """Standard collection names, as in TF."""

    GLOBAL_VARIABLES = "variables"
    LOCAL_VARIABLES = "local_variables"
    TRAINABLE_VARIABLES = "trainable_variables"
    QUEUE_RUNNERS = "queue_runners"
    INIT_OP = "init_op"
    READY_OP = "ready_op"


class Tensor:
    """One output of an `Operation`: a symbolic handle whose value a `Session` computes.

    Operators (``+ - * / // % ** @``, comparisons, slicing) are attached by ``sessionlib.ops``,
    which knows the ops they build.
    """

    __slots__ = ("_op", "_value_index", "_dtype", "_shape", "_name", "__weakref__")

    # Make numpy defer to our operators in ``np.float32(2) * tensor``.
    __array_priority__ = 100

    def __init__(self, op, value_index, dtype, shape):
        self._op = op
        self._value_index = value_index
        self._dtype = dtype
        self._shape = shape
        self._name = f"{op.name}:{value_index}"

    @property
    def op(self):
        """The `Operation` that produces this tensor."""
        return self._op

    @property
    def value_index(self):
        return self._value_index

    @property
    def dtype(self):
        return self._dtype

    @property
    def name(self):
        """``'op_name:index'``."""
        return self._name

    @property
    def graph(self):
        return self._op.graph

    @property
    def device(self):
        return self._op.device

    @property
    def shape(self):
        """The static `TensorShape`."""
        return self._shape

    def get_shape(self):
        return self._shape

    def set_shape(self, shape):
        """Narrows the static shape. Raises ValueError if `shape` is incompatible."""
        self._shape = self._shape.merge_with(as_shape(shape))

    @property
    def ndim(self):
        return self._shape.rank

    def consumers(self):
        """The operations that take this tensor as an input."""
        return [op for op in self._op.graph._ops
                if any(t is self for t in op._inputs)]

    def eval(self, feed_dict=None, session=None):
        """Computes this tensor in `session` (default: the default session).

        Raises:
          ValueError: if there is no session to use.
        """
        from sessionlib.client import session as session_lib

        return session_lib._eval_using_default_session(self, feed_dict, self.graph, session)

    def __repr__(self):
        return f"<sessionlib.Tensor '{self._name}' shape={self._shape} dtype={self._dtype.name}>"

    __str__ = __repr__

    def __hash__(self):
        return id(self)

    def __eq__(self, other):
        # Graph tensors compare by identity in TF's graph mode; tf.equal is elementwise.
        return self is other

    def __ne__(self, other):
        return self is not other

    def __bool__(self):
        raise TypeError("Using a `sessionlib.Tensor` as a Python `bool` is not allowed. Use "
                        "`if t is not None:` instead of `if t:`, or run the graph.")

    def __iter__(self):
        rank = self._shape.rank
        if rank is None or rank == 0 or self._shape[0] is None:
            raise TypeError("Tensor objects are only iterable when the first dimension is "
                            "statically known.")
        return iter([self[i] for i in range(self._shape[0])])

    def __len__(self):
        raise TypeError(f"len is not well defined for symbolic Tensors ({self._name}). "
                        "Use tf.shape or the static shape.")

    def __array__(self, dtype=None, copy=None):
        raise TypeError(f"Cannot convert a symbolic Tensor ({self._name}) to a numpy array.")

    def __reduce__(self):
        raise TypeError("A Tensor cannot be pickled; fetch its value with Session.run")


class Operation:
    """A node of a `Graph`: an op type applied to input tensors, with attributes.

    Build operations through the op functions (``tf.add`` …) or `Graph.create_op`.
    """

    def __init__(self, graph, name, opdef, inputs, attrs, control_inputs, device, outputs_spec):
        self._graph = graph
        self._name = name
        self._opdef = opdef
        self._inputs = tuple(inputs)
        self._attrs = attrs
        self._control_inputs = list(control_inputs)
        self._device = device
        self._id = graph._next_id()
        self._outputs = tuple(Tensor(self, i, dtype, shape)
                              for i, (dtype, shape) in enumerate(outputs_spec))

    @property
    def name(self):
        return self._name

    @property
    def type(self):
        return self._opdef.type

    @property
    def op_def(self):
        """The registry's `OpDef` (not a proto, unlike TF)."""
        return self._opdef

    @property
    def graph(self):
        return self._graph

    @property
    def inputs(self):
        return list(self._inputs)

    @property
    def outputs(self):
        return list(self._outputs)

    def values(self):
        return tuple(self._outputs)

    @property
    def control_inputs(self):
        return list(self._control_inputs)

    @property
    def device(self):
        """The device the op was built under, in canonical form ('' when unset)."""
        return self._device

    def _set_device(self, device_name):
        self._device = device_spec.canonical_name(device_name)

    @property
    def attrs(self):
        """The attributes as plain Python values (a copy)."""
        return dict(self._attrs)

    def get_attr(self, name):
        """The value of attribute `name`. Raises ValueError when there is none."""
        try:
            return self._attrs[name]
        except KeyError:
            raise ValueError(f"Operation {self._name!r} has no attr named {name!r}.") from None

    def _add_control_input(self, op):
        if op not in self._control_inputs:
            self._control_inputs.append(op)
            self._graph._bump_version()

    @property
    def node_def(self):
        """This op as a `NodeDef` proto."""
        from sessionlib.framework import graph_io

        return graph_io.node_def_of(self)

    def run(self, feed_dict=None, session=None):
        """Runs this op in `session` (default: the default session)."""
        from sessionlib.client import session as session_lib

        session_lib._run_using_default_session(self, feed_dict, self.graph, session)

    def __repr__(self):
        return f"<sessionlib.Operation '{self._name}' type={self.type}>"

    def __hash__(self):
        return id(self)

    def __eq__(self, other):
        return self is other


class _ThreadScopes(threading.local):
    """The scopes of one thread inside one graph (TF keeps them per thread too)."""

    def __init__(self):
        self.name_stack = ""
        self.device_stack = []
        self.control_stack = []  # list of lists of ops; None entries reset to no dependencies


class Graph:
    """A TensorFlow 1 computation graph: operations, tensors, scopes and collections.

    Thread-safe for building from several threads; scopes are per thread.
    """

    def __init__(self):
        self._lock = threading.RLock()
        self._ops = []
        self._ops_by_name = {}
        self._names_in_use = {}
        self._version = 0
        self._id_counter = 0
        self._finalized = False
        self._collections = {}
        self._scopes = _ThreadScopes()
        self.seed = None
        self._building_function = False

    # ---- life cycle -------------------------------------------------------------------

    @property
    def version(self):
        """Grows whenever the graph changes; session step caches compare it."""
        return self._version

    @property
    def finalized(self):
        return self._finalized

    def finalize(self):
        """Makes the graph read-only: adding an op afterwards raises RuntimeError."""
        self._finalized = True

    def _unsafe_unfinalize(self):
        self._finalized = False

    def _check_not_finalized(self):
        if self._finalized:
            raise RuntimeError("Graph is finalized and cannot be modified.")

    def _next_id(self):
        self._id_counter += 1
        return self._id_counter

    def _bump_version(self):
        self._version += 1

    @contextlib.contextmanager
    def as_default(self):
        """Makes this graph the default graph of the current thread inside the block."""
        stack = _default_graph_stack()
        stack.append(self)
        try:
            yield self
        finally:
            # Remove this entry even if nested blocks exited out of order.
            for i in range(len(stack) - 1, -1, -1):
                if stack[i] is self:
                    del stack[i]
                    break

    # ---- lookups -----------------------------------------------------------------------

    def get_operations(self):
        """All operations, in creation order."""
        with self._lock:
            return list(self._ops)

    def get_operation_by_name(self, name):
        """The operation called `name`.

        Raises:
          TypeError: if `name` is not a string.
          ValueError: if `name` looks like a tensor name.
          KeyError: if there is no such operation.
        """
        if not isinstance(name, str):
            raise TypeError(f"Operation names are strings (or similar), not {type(name).__name__}")
        return self.as_graph_element(name, allow_tensor=False, allow_operation=True)

    def get_tensor_by_name(self, name):
        """The tensor called `name` (``'op:index'``).

        Raises:
          TypeError: if `name` is not a string.
          ValueError: if `name` is an operation name.
          KeyError: if the operation or the output does not exist.
        """
        if not isinstance(name, str):
            raise TypeError(f"Tensor names are strings (or similar), not {type(name).__name__}")
        return self.as_graph_element(name, allow_tensor=True, allow_operation=False)

    def as_graph_element(self, obj, allow_tensor=True, allow_operation=True):
        """Resolves `obj` (a Tensor, Operation or name) to an element of this graph.

        Raises:
          TypeError: if `obj` cannot be an element.
          ValueError: if it belongs to another graph or names something of the wrong kind.
          KeyError: if a name is not found.
        """
        if isinstance(obj, str):
            if ":" in obj and allow_tensor:
                op_name, _, index = obj.rpartition(":")
                try:
                    index = int(index)
                except ValueError:
                    raise ValueError(f"The name {obj!r} looks like a Tensor name, but is not "
                                     "a valid one.") from None
                op = self._ops_by_name.get(op_name)
                if op is None:
                    raise KeyError(f"The name {obj!r} refers to a Tensor which does not exist. "
                                   f"The operation, {op_name!r}, does not exist in the graph.")
                if not 0 <= index < len(op._outputs):
                    raise KeyError(f"The name {obj!r} refers to a Tensor which does not exist. "
                                   f"The operation, {op_name!r}, exists but only has "
                                   f"{len(op._outputs)} outputs.")
                return op._outputs[index]
            if ":" in obj:
                raise ValueError(f"Name {obj!r} appears to refer to a Tensor, not an Operation.")
            if not allow_operation:
                if obj in self._ops_by_name:
                    raise ValueError(f"The name {obj!r} refers to an Operation, not a Tensor. "
                                     f"Tensor names must be of the form "
                                     f"\"<op_name>:<output_index>\".")
                raise ValueError(f"The name {obj!r} looks like an (invalid) Operation name, "
                                 "not a Tensor.")
            op = self._ops_by_name.get(obj)
            if op is None:
                raise KeyError(f"The name {obj!r} refers to an Operation not in the graph.")
            return op
        if isinstance(obj, Tensor) and allow_tensor:
            if obj.graph is not self:
                raise ValueError(f"Tensor {obj} is not an element of this graph.")
            return obj
        if isinstance(obj, Operation) and allow_operation:
            if obj.graph is not self:
                raise ValueError(f"Operation {obj} is not an element of this graph.")
            return obj
        converter = getattr(obj, "_as_graph_element", None)
        if converter is not None:
            return self.as_graph_element(converter(), allow_tensor, allow_operation)
        kinds = " or ".join(k for k, ok in (("Tensor", allow_tensor),
                                             ("Operation", allow_operation)) if ok)
        raise TypeError(f"Can not convert a {type(obj).__name__} into a {kinds}.")

    # ---- naming ------------------------------------------------------------------------

    def get_name_scope(self):
        """The current name scope without its trailing '/'."""
        return self._scopes.name_stack

    def unique_name(self, name, mark_as_used=True):
        """`name` in the current name scope, made unique with a ``_N`` suffix when taken."""
        scope = self._scopes.name_stack
        if scope:
            name = f"{scope}/{name}"
        key = name.lower()
        count = self._names_in_use.get(key, 0)
        if mark_as_used:
            self._names_in_use[key] = count + 1
        if count > 0:
            base = key
            while True:
                candidate = f"{name}_{count}"
                if candidate.lower() not in self._names_in_use:
                    break
                count += 1
            if mark_as_used:
                self._names_in_use[base] = count + 1
                self._names_in_use[candidate.lower()] = 1
            return candidate
        return name

    @contextlib.contextmanager
    def name_scope(self, name):
        """Opens a name scope; yields its prefix with a trailing '/' (or '').

        A name ending in '/' re-enters that exact scope; None or '' returns to the top level.
        """
        old = self._scopes.name_stack
        if not name:
            new = ""
        elif name.endswith("/"):
            new = name[:-1]
            if not _VALID_SCOPE_NAME.match(new):
                raise ValueError(f"'{name}' is not a valid scope name")
        else:
            if not _VALID_SCOPE_NAME.match(name):
                raise ValueError(f"'{name}' is not a valid scope name")
            with self._lock:
                new = self.unique_name(name)
        self._scopes.name_stack = new
        try:
            yield f"{new}/" if new else ""
        finally:
            self._scopes.name_stack = old

    # ---- device and control scopes ---------------------------------------------------

    @contextlib.contextmanager
    def device(self, device_name_or_function):
        """Sets the device of ops made inside the block.

        Args:
          device_name_or_function: a device string (partial specs merge with outer scopes),
            None (clears the device), or a function from Operation to device string.
        """
        if isinstance(device_name_or_function, str):
            device_spec.canonical_name(device_name_or_function)  # raise early on a bad name
        elif device_name_or_function is not None and not callable(device_name_or_function):
            raise TypeError("device() takes a string, a function or None, not "
                            f"{type(device_name_or_function).__name__}")
        stack = self._scopes.device_stack
        stack.append(device_name_or_function)
        try:
            yield
        finally:
            stack.pop()

    def _current_device(self, op=None):
        current = ""
        for entry in self._scopes.device_stack:
            if entry is None:
                current = ""
            elif callable(entry):
                if op is not None:
                    current = device_spec.canonical_name(entry(op) or "")
            else:
                current = device_spec.merge_device(current, entry)
        return current

    @contextlib.contextmanager
    def control_dependencies(self, control_inputs):
        """Ops made inside the block run only after every op in `control_inputs`.

        Args:
          control_inputs: a list of Operations or Tensors (their ops), or None to clear the
            dependencies of enclosing blocks.

        Raises:
          TypeError: if an item is neither an Operation nor a Tensor.
          ValueError: if an item belongs to another graph.
        """
        if control_inputs is None:
            entry = None
        else:
            entry = []
            for item in control_inputs:
                if hasattr(item, "_as_graph_element") and not isinstance(item, (Tensor,
                                                                                Operation)):
                    item = item._as_graph_element()
                if isinstance(item, Tensor):
                    item = item.op
                if not isinstance(item, Operation):
                    raise TypeError(f"Control input must be Operation or Tensor: {item!r}")
                if item.graph is not self:
                    raise ValueError(f"Control input {item.name!r} is not an element of this "
                                     "graph.")
                if item not in entry:
                    entry.append(item)
        stack = self._scopes.control_stack
        stack.append(entry)
        try:
            yield
        finally:
            stack.pop()

    def _current_control_inputs(self, inputs):
        result = []
        for entry in self._scopes.control_stack:
            if entry is None:
                result = []
            else:
                result.extend(op for op in entry if op not in result)
        input_ops = {t.op for t in inputs}
        return [op for op in result if op not in input_ops]

    # ---- building ----------------------------------------------------------------------

    def create_op(self, op_type, inputs, attrs=None, name=None, device=None):
        """Adds an operation of type `op_type`.

        Args:
          op_type: a registered op type, e.g. ``'Add'``.
          inputs: a list of `Tensor`s of this graph.
          attrs: a dict of plain-value attributes.
          name: the op's name (made unique in the current name scope); default: `op_type`.
          device: an optional device string, merged into the current device scope.

        Returns:
          The new `Operation`.

        Raises:
          ValueError: for a static shape mismatch, an invalid name or a foreign input.
          TypeError: for bad input dtypes.
          RuntimeError: if the graph is finalized.
        """
        self._check_not_finalized()
        opdef = registry.get(op_type)
        attrs = dict(attrs or {})
        inputs = list(inputs)
        for tensor in inputs:
            if not isinstance(tensor, Tensor):
                raise TypeError(f"Input to {op_type} must be a Tensor, got {tensor!r}")
            if tensor.graph is not self:
                raise ValueError(f"Tensor {tensor.name} must be from the same graph as the "
                                 f"other inputs of {op_type} ({name or op_type}).")
        if opdef.num_inputs is not None and len(inputs) != opdef.num_inputs:
            raise ValueError(f"{op_type} takes {opdef.num_inputs} inputs, got {len(inputs)}")
        exact_name = None
        if name is None:
            name = op_type
        else:
            name = str(name)
            if name.endswith("/"):
                # TF: a trailing '/' asks for exactly this (already scoped) name.
                exact_name = name[:-1]
            if not _VALID_OP_NAME.match(exact_name or name):
                raise ValueError(f"'{name}' is not a valid node name")
        outputs_spec = [(dtype, as_shape(shape)) for dtype, shape in opdef.infer(inputs, attrs)]
        with self._lock:
            self._check_not_finalized()
            if exact_name is not None:
                if exact_name in self._ops_by_name:
                    raise ValueError(f"Duplicate node name in graph: '{exact_name}'")
                name = exact_name
                self._names_in_use[name.lower()] = self._names_in_use.get(name.lower(), 0) + 1
            else:
                name = self.unique_name(name)
            control_inputs = self._current_control_inputs(inputs)
            device_name = self._current_device()
            if device is not None:
                device_name = device_spec.merge_device(device_name, device)
            op = Operation(self, name, opdef, inputs, attrs, control_inputs, device_name,
                           outputs_spec)
            if any(callable(entry) for entry in self._scopes.device_stack):
                op._set_device(self._current_device(op))
            self._ops.append(op)
            self._ops_by_name[name] = op
            self._version += 1
        return op

    def _op_by_name_or_none(self, name):
        return self._ops_by_name.get(name)

    # ---- serialisation -------------------------------------------------------------------

    def as_graph_def(self, from_version=None, add_shapes=False):
        """This graph as a `GraphDef` proto.

        Args:
          from_version: only include ops added after this version (a `version` value).
          add_shapes: add an ``_output_shapes`` attr to each node.
        """
        from sessionlib.framework import graph_io

        return graph_io.graph_def_of(self, from_version, add_shapes)

    @property
    def graph_def_versions(self):
        from sessionlib.protos import versions_pb2

        return versions_pb2.VersionDef(producer=GRAPH_DEF_VERSION, min_consumer=0)

    # ---- collections -------------------------------------------------------------------

    def add_to_collection(self, name, value):
        with self._lock:
            self._collections.setdefault(name, []).append(value)

    def add_to_collections(self, names, value):
        for name in ([names] if isinstance(names, str) else names):
            self.add_to_collection(name, value)

    def get_collection_ref(self, name):
        with self._lock:
            return self._collections.setdefault(name, [])

    def get_collection(self, name, scope=None):
        """A copy of collection `name`, optionally filtered by a name-scope regex."""
        with self._lock:
            items = list(self._collections.get(name, []))
        if scope is None:
            return items
        pattern = re.compile(scope)
        return [item for item in items
                if hasattr(item, "name") and pattern.match(item.name)]

    def get_all_collection_keys(self):
        with self._lock:
            return [key for key, items in self._collections.items() if items]

    def clear_collection(self, name):
        with self._lock:
            self._collections.pop(name, None)


# TF's GraphDef producer version that our graphs claim to be compatible with.
GRAPH_DEF_VERSION = 1882


# ---- the per-thread default graph -------------------------------------------------------

class _DefaultGraphState(threading.local):
    def __init__(self):
        self.stack = []
        self.base = None


_default_state = _DefaultGraphState()


def _default_graph_stack():
    return _default_state.stack


def get_default_graph():
    """The default graph of the current thread (each thread starts with its own)."""
    stack = _default_state.stack
    if stack:
        return stack[-1]
    if _default_state.base is None:
        _default_state.base = Graph()
    return _default_state.base


def reset_default_graph():
    """Replaces the current thread's base default graph with a fresh one.

    Raises:
      AssertionError: inside a ``with graph.as_default()`` block, as in TF.
    """
    if _default_state.stack:
        raise AssertionError("Do not use tf.reset_default_graph() to clear nested graphs. "
                             "If you need a cleared graph, exit the nesting and create a new "
                             "graph.")
    _default_state.base = Graph()


def name_scope(name, default_name=None, values=None):
    """TF 1's ``tf.name_scope(name, default_name=None, values=None)``.

    Enters the scope in the graph of `values` (or the default graph) and yields its prefix.
    """
    graph = None
    for value in values or ():
        if isinstance(value, (Tensor, Operation)):
            graph = value.graph
            break
    if graph is None:
        graph = get_default_graph()
    if name is None and default_name is not None:
        name = default_name
    return graph.name_scope(name)


def device(device_name_or_function):
    """``tf.device``: sets the device of ops built in the block, in the default graph."""
    return get_default_graph().device(device_name_or_function)


def control_dependencies(control_inputs):
    """``tf.control_dependencies`` on the default graph."""
    return get_default_graph().control_dependencies(control_inputs)


# ---- conversion of values to tensors ---------------------------------------------------

_conversion_functions = []


def register_tensor_conversion_function(base_type, conversion_func):
    """Lets objects of `base_type` be used where tensors are expected.

    `conversion_func(value, dtype=None, name=None)` returns a `Tensor`.
    """
    _conversion_functions.append((base_type, conversion_func))


def convert_to_tensor(value, dtype=None, name=None, graph=None):
    """Returns `value` as a `Tensor`, making a `Const` op for Python and numpy values.

    Args:
      value: a Tensor, or anything with a registered conversion, or a constant value.
      dtype: the expected `DType`; a Tensor of another dtype is a ValueError.
      name: the name of a new Const op.
      graph: the graph for a new Const op (default: the default graph).

    Raises:
      TypeError: if `value` cannot be converted.
      ValueError: if a Tensor has a dtype other than `dtype`.
    """
    if isinstance(value, Tensor):
        if dtype is not None and value.dtype is not dtypes.as_dtype(dtype):
            raise ValueError(f"Tensor conversion requested dtype {dtypes.as_dtype(dtype).name} "
                             f"for Tensor with dtype {value.dtype.name}: {value!r}")
        return value
    if isinstance(value, Operation):
        raise TypeError(f"Can't convert Operation '{value.name}' to Tensor (target dtype="
                        f"{dtype}, name={name}, as_ref=False)")
    for base_type, conversion_func in _conversion_functions:
        if isinstance(value, base_type):
            return conversion_func(value, dtype=dtype, name=name)
    from sessionlib.framework import tensor_util

    array = tensor_util.to_numpy(value, dtype)
    tf_dtype = dtypes.as_dtype(dtype) if dtype is not None else (
        dtypes.string if array.dtype == object else dtypes.as_dtype(array.dtype))
    graph = graph or get_default_graph()
    op = graph.create_op("Const", [], {"value": array, "dtype": tf_dtype},
                         name=name or "Const")
    return op.outputs[0]
