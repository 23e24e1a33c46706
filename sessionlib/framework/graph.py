"""The graph model: `Graph`, `Operation` and `Tensor`, and the per-thread default graph.

A `Graph` owns its operations and the scopes under which new ones are made (name scope, device
and control dependencies; those scopes are per thread, as in TF). Every op is built through
`Graph.create_op`, which asks the op registry to check the inputs and infer the outputs, so a
static shape or dtype error surfaces while the graph is built. `Graph.version` counts the ops
added; a session's step cache compares it to know when a compiled step is stale. Each op also
records the line of the user's code that built it (`op_traceback`), for `Operation.traceback`
and the "defined at" of error messages.

Operations keep their attributes as plain Python values (numbers, strings, `DType`,
`TensorShape`, numpy arrays), which is what kernels receive and what crosses process boundaries;
`Operation.node_def` and `Graph.as_graph_def` translate them to protos.
"""

import contextlib
import re
import threading

from sessionlib import dtypes
from sessionlib.framework import default_session, device_spec, op_traceback, registry
from sessionlib.framework.tensor_shape import as_shape

__all__ = [
    "Graph", "Operation", "Tensor", "get_default_graph", "reset_default_graph",
    "name_scope", "device", "colocate_with", "control_dependencies", "convert_to_tensor",
    "GraphKeys",
    "add_to_collection", "add_to_collections", "get_collection", "get_collection_ref",
]

# The attr listing an op's colocation groups, and the prefix of each group's name (TF's).
COLOCATION_ATTR = "_class"
COLOCATION_PREFIX = "loc:@"

_VALID_OP_NAME = re.compile(r"^[A-Za-z0-9.][A-Za-z0-9_.\\/>-]*$")
_VALID_SCOPE_NAME = re.compile(r"^[A-Za-z0-9_.\\/>-]*$")


class GraphKeys:
    """Standard collection names, with TF's string values (checked against TF 2.21)."""

    GLOBAL_VARIABLES = "variables"
    VARIABLES = "variables"  # TF 1's deprecated spelling of GLOBAL_VARIABLES
    LOCAL_VARIABLES = "local_variables"
    METRIC_VARIABLES = "metric_variables"
    MODEL_VARIABLES = "model_variables"
    TRAINABLE_VARIABLES = "trainable_variables"
    TRAINABLE_RESOURCE_VARIABLES = "trainable_resource_variables"
    MOVING_AVERAGE_VARIABLES = "moving_average_variables"
    CONCATENATED_VARIABLES = "concatenated_variables"
    SUMMARIES = "summaries"
    SUMMARY_OP = "summary_op"
    QUEUE_RUNNERS = "queue_runners"
    TABLE_INITIALIZERS = "table_initializer"
    ASSET_FILEPATHS = "asset_filepaths"
    SAVEABLE_OBJECTS = "saveable_objects"
    REGULARIZATION_LOSSES = "regularization_losses"
    LOSSES = "losses"
    ACTIVATIONS = "activations"
    WEIGHTS = "weights"
    BIASES = "biases"
    RESOURCES = "resources"
    LOCAL_RESOURCES = "local_resources"
    SAVERS = "savers"
    INIT_OP = "init_op"
    LOCAL_INIT_OP = "local_init_op"
    READY_OP = "ready_op"
    READY_FOR_LOCAL_INIT_OP = "ready_for_local_init_op"
    TRAIN_OP = "train_op"
    GLOBAL_STEP = "global_step"
    EVAL_STEP = "eval_step"
    UPDATE_OPS = "update_ops"
    COND_CONTEXT = "cond_context"
    WHILE_CONTEXT = "while_context"
    _SUMMARY_COLLECTION = "_SUMMARY_V2"
    _STREAMING_MODEL_PORTS = "streaming_model_ports"
    # The collections that hold variables (TF's list, in its order).
    _VARIABLE_COLLECTIONS = [GLOBAL_VARIABLES, LOCAL_VARIABLES, METRIC_VARIABLES,
                             MODEL_VARIABLES, TRAINABLE_VARIABLES, MOVING_AVERAGE_VARIABLES,
                             CONCATENATED_VARIABLES, TRAINABLE_RESOURCE_VARIABLES]


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
        return default_session.eval_using_default_session(self, feed_dict, self.graph,
                                                          session)

    def __repr__(self):
        return f"<sessionlib.Tensor '{self._name}' shape={self._shape} dtype={self._dtype.name}>"

    def __str__(self):
        # TF's spelling, which error messages quote.
        shape = f", shape={self._shape}" if self._shape.rank is not None else ""
        device = f", device={self.device}" if self.device else ""
        return f'Tensor("{self._name}"{shape}, dtype={self._dtype.name}{device})'

    # Graph tensors compare and hash by identity, as in TF's graph mode (tf.equal is the
    # elementwise comparison). object's own __eq__/__hash__ do exactly that, in C: tensors are
    # dict keys on every run's hot path, so no Python-level override is defined here.

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
        self._created_at_version = 0
        # A list comprehension: building a tuple from a generator costs more, on every op.
        self._outputs = tuple([Tensor(self, i, dtype, shape)
                               for i, (dtype, shape) in enumerate(outputs_spec)])
        # The search starts above this frame and `Graph.create_op`'s, at the op function.
        self._creation_site = op_traceback.capture(2)

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

    @property
    def traceback(self):
        """Where this op was created (TF's attribute): the user's frame that built it.

        Returns:
          A list of ``(filename, lineno, name, line)`` tuples (`op_traceback.Frame`),
          outermost first. Unlike TF, which keeps the whole stack, it holds only the innermost
          frame outside sessionlib, the user's line that built the op, to keep graph building
          fast (see `op_traceback`); it is empty if sessionlib built the op from no user code.
          An op made by `import_graph_def` gives the line that imported it.
        """
        return op_traceback.frames(self._creation_site)

    def _defined_at(self):
        """``"filename:lineno"`` of the user's line that built this op (for error messages).

        Returns:
          The innermost frame of `traceback` as text, or None when no frame is the user's.
        """
        return op_traceback.defined_at(self._creation_site)

    def colocation_groups(self):
        """The colocation groups of this op (TF's ``loc:@name`` strings): those of its
        ``_class`` attr, or ``['loc:@<its own name>']`` when it has none."""
        groups = [g for g in self._attrs.get(COLOCATION_ATTR) or ()
                  if isinstance(g, str) and g.startswith(COLOCATION_PREFIX)]
        return groups or [COLOCATION_PREFIX + self._name]

    # ---- in-place changes (the control-flow gradients expose a function's intermediates as
    # extra outputs and loop variables of the op calling it); each bumps the graph version,
    # so compiled steps are rebuilt.

    def _add_outputs(self, specs):
        """Appends outputs of ``(dtype, TensorShape)`` `specs`; returns the new Tensors."""
        start = len(self._outputs)
        new = [Tensor(self, start + i, dtype, shape) for i, (dtype, shape) in enumerate(specs)]
        self._outputs = self._outputs + tuple(new)
        self._graph._bump_version()
        return new

    def _add_inputs(self, tensors):
        """Appends input `tensors` (of this op's graph)."""
        self._inputs = self._inputs + tuple(tensors)
        self._graph._bump_version()

    def _set_attr(self, name, value):
        self._attrs[name] = value
        self._graph._bump_version()

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
        default_session.run_using_default_session(self, feed_dict, self.graph, session)

    def __repr__(self):
        return f"<sessionlib.Operation '{self._name}' type={self.type}>"

    # Operations compare and hash by identity: object's C-level defaults (see Tensor).


class _ControlScope:
    """One ``control_dependencies`` block: its ops, and the ops created inside it."""

    __slots__ = ("ops", "created")

    def __init__(self, ops):
        self.ops = ops
        self.created = set()


class _ThreadScopes(threading.local):
    """The scopes of one thread inside one graph (TF keeps them per thread too)."""

    def __init__(self):
        self.name_stack = ""
        self.device_stack = []
        # `_ControlScope`s, innermost last; a None entry hides the scopes before it.
        self.control_stack = []
        # The ops of the enclosing `colocate_with` blocks, innermost last.
        self.colocation_stack = []


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
        # Inside `_all_or_nothing`: the version the ops made so far would bring the graph to.
        self._staged_version = None
        self.seed = None
        self._building_function = False
        # Whether an op made a reference tensor (a TF 1 reference variable's): until one
        # does, `create_op` skips the search for reference inputs.
        self._has_refs = False

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
        with self._lock:  # `+=` is no atomic step: concurrent bumps must not collapse
            self._version += 1

    def as_default(self):
        """Makes this graph the default graph of the current thread inside the block.

        While a function is being traced in this graph (the default graph is a function
        graph capturing from it: a cond branch, a loop body), the function's graph stays the
        default, as TF's ``_get_graph_from_inputs`` rule has it: an op helper that enters the
        graph of its (outer) inputs builds into the function, which captures them.
        """
        function = self._tracing_function()
        if function is not None:
            return function._as_default_exactly()
        return self._as_default_exactly()

    @contextlib.contextmanager
    def _as_default_exactly(self):
        """`as_default` without the function rule (``init_scope`` leaves functions so)."""
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
        if isinstance(obj, bytes):
            obj = obj.decode("utf-8")
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
        """`name` in the current name scope, made unique with a ``_N`` suffix when taken.

        Follows TF's rules exactly: names are compared case-insensitively, and an explicit
        ``add_1`` reserves that name, so a later third ``add`` becomes ``add_2``.
        """
        scope = self._scopes.name_stack
        if scope:
            name = f"{scope}/{name}"
        name_key = name.lower()
        count = self._names_in_use.get(name_key, 0)
        if mark_as_used:
            self._names_in_use[name_key] = count + 1
        if count > 0:
            base_key = name_key
            while name_key in self._names_in_use:
                name_key = f"{base_key}_{count}"
                count += 1
            if mark_as_used:
                self._names_in_use[name_key] = 1
            name = f"{name}_{count - 1}"
        return name

    def _tracing_function(self):
        """The function graph being traced in this graph (the default graph, when it captures
        from this one), else None: scopes opened on this graph then belong to it."""
        current = get_default_graph()
        if current is not self and current._captures_from(self):
            return current
        return None

    def name_scope(self, name):
        """Opens a name scope; yields its prefix with a trailing '/' (or '').

        While a function is traced in this graph, the scope opens in the function's graph,
        where the ops built in it go (see `as_default`).
        """
        function = self._tracing_function()
        if function is not None:
            return function.name_scope(name)
        return self._name_scope(name)

    @contextlib.contextmanager
    def _name_scope(self, name):
        """Opens a name scope; yields its prefix with a trailing '/' (or '').

        A name ending in '/' re-enters that exact scope; None or '' returns to the top level.

        Raises:
          ValueError: if `name` is not a valid scope name (at the top level, a scope name
            follows the op name rules: it may not start with '_', '-' or '/').
        """
        if isinstance(name, bytes):
            name = name.decode("utf-8")
        old = self._scopes.name_stack
        if name:
            if old:
                if not _VALID_SCOPE_NAME.match(name):
                    raise ValueError(f"'{name}' is not a valid scope name. A scope name has "
                                     f"to match the following pattern: "
                                     f"{_VALID_SCOPE_NAME.pattern}")
            elif not _VALID_OP_NAME.match(name):
                raise ValueError(f"'{name}' is not a valid root scope name. A root scope name "
                                 f"has to match the following pattern: {_VALID_OP_NAME.pattern}")
        if not name:
            new, returned = "", ""
        elif name.endswith("/"):
            new, returned = name[:-1], name
        else:
            with self._lock:
                new = self.unique_name(name)
            returned = new + "/"
        self._scopes.name_stack = new
        try:
            yield returned
        finally:
            self._scopes.name_stack = old

    # ---- device and control scopes ---------------------------------------------------

    @contextlib.contextmanager
    def device(self, device_name_or_function):
        """Sets the device of ops made inside the block.

        ``'/cpu:1'`` gives ops the device ``'/device:CPU:1'`` (the canonical spelling); a
        partial spec merges part by part with the outer scopes, inner parts winning. See
        `_device_for` for how functions and strings combine.

        Args:
          device_name_or_function: a device string or `DeviceSpec`, None (clears the device
            of outer scopes), or a function from Operation to device string.

        Raises:
          ValueError: for a string that is not a device name.
          TypeError: for anything else that is not a function.
        """
        if isinstance(device_name_or_function, device_spec.DeviceSpec):
            device_name_or_function = device_name_or_function.to_string()
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

    def _device_for(self, op, explicit):
        """The device of a new `op`, by TF's rules.

        The op starts with `explicit` (a NodeDef's own device, or ''), then the device scopes
        apply from the innermost outwards: a string scope fills in only the parts the op does
        not have yet (and spells the result canonically), a device function replaces the
        device with whatever it returns (kept as written), '' does nothing, and None stops
        the walk.
        """
        current = device_spec.canonical_name(explicit) if explicit else ""
        for entry in reversed(self._scopes.device_stack):
            if entry is None:
                break
            if callable(entry):
                op._device = current
                chosen = entry(op)
                if isinstance(chosen, device_spec.DeviceSpec):
                    chosen = chosen.to_string()
                current = chosen or ""
            elif entry:
                current = device_spec.merge_device(entry, current)
        return current

    @contextlib.contextmanager
    def colocate_with(self, op, ignore_existing=False):
        """Ops made inside the block are placed with `op` (``tf.colocate_with``).

        As in TF, each new op gets the ``_class`` attr ``['loc:@<op>']`` (the union of the
        groups of every enclosing block's op, sorted), which the placer honours, and the device
        of the innermost block's op that has one; the device scopes of enclosing blocks do not
        apply inside (a ``tf.device`` opened inside still does, unless `op` has a device).

        Args:
          op: an Operation, Tensor or Variable (a variable's ``VariableV2`` or
            ``VarHandleOp``), or None with `ignore_existing` to clear the enclosing blocks.
          ignore_existing: forget the enclosing `colocate_with` blocks inside this one.

        Raises:
          ValueError: for None without `ignore_existing`, or an op of another graph.
        """
        if op is None and not ignore_existing:
            raise ValueError("Trying to reset colocation (op is None) but ignore_existing is "
                             "not True")
        op = _op_to_colocate_with(op)
        if op is not None and op.graph is not self:
            raise ValueError(f"{op} is not an element of this graph.")
        scopes = self._scopes
        saved_devices, saved_colocation = scopes.device_stack, scopes.colocation_stack
        # Colocation is stronger than the device scopes around it: TF empties their stack.
        scopes.device_stack = []
        if ignore_existing:
            scopes.colocation_stack = []
        if op is not None:
            scopes.colocation_stack = scopes.colocation_stack + [op]
        try:
            yield
        finally:
            scopes.device_stack = saved_devices
            scopes.colocation_stack = saved_colocation

    def _apply_colocation(self, op, stack):
        """Gives a new `op` the ``_class`` attr and device of the `colocate_with` blocks."""
        groups = set()
        device = None
        for other in reversed(stack):
            groups.update(other.colocation_groups())
            if device is None and other.device:
                device = other.device
        if device is not None:
            op._device = device
        op._attrs[COLOCATION_ATTR] = sorted(groups)

    def control_dependencies(self, control_inputs):
        """Ops made inside the block run only after every op in `control_inputs`.

        While a function is traced in this graph, the block applies to the function's graph,
        where the ops built in it go (see `as_default`).
        """
        function = self._tracing_function()
        if function is not None:
            return function.control_dependencies(control_inputs)
        return self._control_dependencies(control_inputs)

    @contextlib.contextmanager
    def _control_dependencies(self, control_inputs):
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
            ops = []
            for item in control_inputs:
                if hasattr(item, "_as_graph_element") and not isinstance(item, (Tensor,
                                                                                Operation)):
                    item = item._as_graph_element()
                if isinstance(item, Tensor):
                    item = item.op
                if not isinstance(item, Operation):
                    raise TypeError(f"Can not convert a {type(item).__name__} into a Tensor "
                                    "or Operation.")
                if item.graph is not self:
                    raise ValueError(f"{item} is not an element of this graph.")
                if item not in ops:
                    ops.append(item)
            entry = _ControlScope(ops)
        stack = self._scopes.control_stack
        stack.append(entry)
        try:
            yield
        finally:
            stack.pop()

    def _active_control_scopes(self):
        """The control scopes that apply now: those after the innermost None entry."""
        stack = self._scopes.control_stack
        for index in range(len(stack) - 1, -1, -1):
            if stack[index] is None:
                return stack[index + 1:]
        return stack

    def _current_control_inputs(self, inputs):
        """The control inputs of a new op with data `inputs`, by TF's rules.

        A scope is skipped when one of the inputs was itself made inside that scope (the input
        already waits for the scope's ops), and an op that is already a data input is not
        added again as a control input.
        """
        input_ops = {t.op for t in inputs}
        result = []
        for scope in self._active_control_scopes():
            if any(op in scope.created for op in input_ops):
                continue
            result.extend(op for op in scope.ops if op not in input_ops and op not in result)
        return result

    # ---- functions: graphs that capture tensors of outer graphs -----------------------

    def _captures_from(self, graph):
        """Whether this graph captures the tensors of `graph` that its ops use (a function
        graph traced inside `graph`). A plain graph captures nothing."""
        return False

    def _capture(self, tensor, op_type, name):
        """The tensor of this graph that stands for `tensor` of another graph, as an input of
        a new `op_type` op.

        Raises:
          ValueError: always, for a plain graph (function graphs override this).
        """
        raise ValueError(f"Tensor {tensor.name} must be from the same graph as the other "
                         f"inputs of {op_type} ({name or op_type}).")

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
        tracing = get_default_graph()
        if tracing is not self and tracing._captures_from(self):
            # A function is being traced in this graph (a cond branch, a loop body, tf.data's
            # map) and an op helper built on the graph of its inputs: the op belongs to the
            # function's graph, which captures this graph's tensors. (A name ending in '/' was
            # scoped in the function's graph too: `name_scope` opens there meanwhile.)
            if name is not None and str(name).endswith("/") and \
                    tracing._op_by_name_or_none(str(name)[:-1]) is not None:
                name = str(name)[:-1].rsplit("/", 1)[-1]
            return tracing.create_op(op_type, inputs, attrs, name=name, device=device)
        opdef = registry.get(op_type)
        attrs = dict(attrs or {})
        inputs = list(inputs)
        for index, tensor in enumerate(inputs):
            if not isinstance(tensor, Tensor):
                raise TypeError(f"Input to {op_type} must be a Tensor, got {tensor!r}")
            if tensor.graph is not self:
                inputs[index] = self._capture(tensor, op_type, name)
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
        seen = inputs
        if self._has_refs:
            seen = _dereferenced_view(inputs, opdef.ref_inputs)
        outputs_spec = [(dtype, as_shape(shape)) for dtype, shape in opdef.infer(seen, attrs)]
        with self._lock:
            self._check_not_finalized()
            if exact_name is not None:
                if exact_name in self._ops_by_name:
                    raise ValueError(f"Duplicate node name in graph: '{exact_name}'")
                name = exact_name
                # Like TF: an exact (scope) name is marked used but not counted again, so the
                # next `name_scope(name)` still gets the `_1` suffix, not `_2`.
                self._names_in_use.setdefault(name.lower(), 1)
            else:
                name = self.unique_name(name)
            # Most ops are built outside any control_dependencies block: skip the work then.
            scopes = self._scopes
            in_control_scope = bool(scopes.control_stack)
            control_inputs = self._current_control_inputs(inputs) if in_control_scope else ()
            op = Operation(self, name, opdef, inputs, attrs, control_inputs, "", outputs_spec)
            if scopes.device_stack or device:
                op._device = self._device_for(op, device)
            if scopes.colocation_stack:
                self._apply_colocation(op, scopes.colocation_stack)
            if in_control_scope:
                for scope in self._active_control_scopes():
                    scope.created.add(op)
            self._ops.append(op)
            self._ops_by_name[name] = op
            if opdef.stateful and not self._has_refs:   # every op making references is
                self._has_refs = any(t._dtype._base is not t._dtype for t in op._outputs)
            if self._staged_version is None:
                self._version += 1
                op._created_at_version = self._version
            else:
                self._staged_version += 1
                op._created_at_version = self._staged_version
        return op

    @contextlib.contextmanager
    def _all_or_nothing(self):
        """Adds the ops made in the block all together, or none of them if the block raises.

        `import_graph_def` builds through this: a GraphDef from outside may fail half way, and
        the graph must then be as it was. The block holds the graph lock, so other threads'
        ops wait for it, and `version` moves only when the block succeeds: a session never
        compiles a step against a half-imported graph, and a failed block leaves `version`
        unchanged (a step cached at it stays valid, since the graph is the same).

        Raises:
          RuntimeError: if the graph is finalized.
        """
        with self._lock:
            self._check_not_finalized()
            if self._staged_version is not None:  # nested: the outer block decides
                yield
                return
            first_new = len(self._ops)
            names_in_use = dict(self._names_in_use)
            self._staged_version = self._version
            try:
                yield
            except BaseException:
                removed = self._ops[first_new:]
                del self._ops[first_new:]
                for op in removed:
                    self._ops_by_name.pop(op.name, None)
                for scope in self._scopes.control_stack:
                    if scope is not None:
                        scope.created.difference_update(removed)
                self._names_in_use = names_in_use
                raise
            else:
                self._version = self._staged_version
            finally:
                self._staged_version = None

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

        return versions_pb2.VersionDef(producer=GRAPH_DEF_VERSION,
                                        min_consumer=GRAPH_DEF_VERSION_MIN_CONSUMER)

    # ---- collections -------------------------------------------------------------------
    # Keys are usually `GraphKeys` strings; library state (the variable store) uses tuple
    # keys, which `get_all_collection_keys` leaves out, as TF does.

    def add_to_collection(self, name, value):
        """Appends `value` to the collection `name`.

        Raises:
          RuntimeError: if the graph is finalized.
        """
        self._check_not_finalized()
        with self._lock:
            self._collections.setdefault(name, []).append(value)

    def add_to_collections(self, names, value):
        """Appends `value` to each collection in `names` (a string is one name) once."""
        names = (names,) if isinstance(names, str) else dict.fromkeys(names)
        for name in names:
            self.add_to_collection(name, value)

    def get_collection_ref(self, name):
        """The list of collection `name` itself (created empty if missing), to edit in place."""
        with self._lock:
            return self._collections.setdefault(name, [])

    def get_collection(self, name, scope=None):
        """A copy of collection `name`.

        Args:
          name: the key.
          scope: if given, keep only the items with a ``name`` that `re.match`es it (so
            ``'enc'`` also matches ``'encoder/w'``; use ``'enc/'`` for one scope).
        """
        with self._lock:
            items = list(self._collections.get(name, []))
        if scope is None:
            return items
        pattern = re.compile(scope)
        result = []
        for item in items:
            item_name = getattr(item, "name", None)
            if isinstance(item_name, str) and pattern.match(item_name):
                result.append(item)
        return result

    def get_all_collection_keys(self):
        """The string keys of the collections used in this graph (empty ones included)."""
        with self._lock:
            return [key for key in self._collections if isinstance(key, str)]

    def clear_collection(self, name):
        """Removes the collection `name`.

        Raises:
          RuntimeError: if the graph is finalized.
        """
        self._check_not_finalized()
        with self._lock:
            self._collections.pop(name, None)


def _dereferenced_view(inputs, ref_inputs):
    """`inputs` as an op's `infer` sees them: a reference tensor at an input that does not
    take a reference stands as a tensor of its base dtype (TF reads the variable there).

    The stand-in is a detached `Tensor` of the same op, index and shape; the operation keeps
    the real input.
    """
    seen = None
    for index, tensor in enumerate(inputs):
        dtype = tensor._dtype
        if dtype._base is not dtype and index not in ref_inputs:
            if seen is None:
                seen = list(inputs)
            seen[index] = Tensor(tensor._op, tensor._value_index, dtype._base, tensor._shape)
    return inputs if seen is None else seen


# TF's GraphDef producer version that our graphs claim to be compatible with.
GRAPH_DEF_VERSION = 1882
# The oldest consumer that can read our graphs, and the oldest producer whose graphs we read.
GRAPH_DEF_VERSION_MIN_CONSUMER = 0
GRAPH_DEF_VERSION_MIN_PRODUCER = 0


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


class name_scope:  # noqa: N801 - TF's public name, used as a function
    """TF 1's ``tf.name_scope(name, default_name=None, values=None)`` context manager.

    Enters the scope `name` (or `default_name` when `name` is None) in the graph of `values`,
    making that graph the default inside the block when it is not already. ``name=None``
    without values resets to the top-level scope.

    Args:
      name: the scope name; a trailing '/' re-enters an existing scope exactly.
      default_name: the name to use when `name` is None.
      values: tensors or operations that pick the graph.

    Raises:
      TypeError: if `default_name` is not a string.
      ValueError: if values are given but neither name is, if the values come from several
        graphs, or if the name is not a valid scope name.
    """

    def __init__(self, name, default_name=None, values=None):
        if not (default_name is None or isinstance(default_name, str)):
            raise TypeError(f"`default_name` type ({type(default_name)}) is not a string type. "
                            "You likely meant to pass this into the `values` kwarg.")
        self._name = default_name if name is None else name
        self._default_name = default_name
        self._values = values
        self._graph_context = None
        self._scope_context = None

    @property
    def name(self):
        return self._name

    def __enter__(self):
        if self._name is None and self._values is not None:
            raise ValueError(f"At least one of name ({self._name}) and default_name "
                             f"({self._default_name}) must be provided.")
        graph = get_default_graph()
        if self._values:
            values_graph = _graph_of_values(self._values)
            # A function being traced in the values' graph (a cond branch) stays the default:
            # its ops capture the values.
            if values_graph is not None and values_graph is not graph and \
                    not graph._captures_from(values_graph):
                graph = values_graph
                self._graph_context = graph.as_default()
                self._graph_context.__enter__()
        try:
            self._scope_context = graph.name_scope(self._name)
            return self._scope_context.__enter__()
        except BaseException:
            if self._graph_context is not None:
                self._graph_context.__exit__(None, None, None)
                self._graph_context = None
            raise

    def __exit__(self, exc_type, exc_value, traceback):
        self._scope_context.__exit__(exc_type, exc_value, traceback)
        if self._graph_context is not None:
            self._graph_context.__exit__(exc_type, exc_value, traceback)
            self._graph_context = None
        return False


def _graph_of_values(values):
    """The graph the graph elements among `values` belong to (None when there are none).

    A function graph (a cond branch, a loop body) captures the tensors of the graphs it is
    traced in, so values of a function graph and of its enclosing graphs belong to the
    function graph, as TF picks the innermost graph of an op's inputs.

    Raises:
      ValueError: if they belong to unrelated graphs.
    """
    graph, first = None, None
    for value in values:
        element = value
        if not isinstance(element, (Tensor, Operation)):
            converter = getattr(element, "_as_graph_element", None)
            element = converter() if converter is not None else None
        if element is None:
            continue
        if graph is None:
            graph, first = element.graph, element
        elif element.graph is not graph:
            if element.graph._captures_from(graph):
                graph, first = element.graph, element
            elif not graph._captures_from(element.graph):
                raise ValueError(f"{element} must be from the same graph as {first}.")
    return graph


def device(device_name_or_function):
    """``tf.device``: sets the device of ops built in the block, in the default graph."""
    return get_default_graph().device(device_name_or_function)


def colocate_with(op, ignore_existing=False):
    """``tf.colocate_with``: ops built in the block go with `op` (see `Graph.colocate_with`)."""
    graph = op.graph if isinstance(op, (Operation, Tensor)) else get_default_graph()
    return graph.colocate_with(op, ignore_existing)


def _op_to_colocate_with(value):
    """The op that `colocate_with(value)` means: a variable's handle op, a tensor's op."""
    if value is None or isinstance(value, Operation):
        return value
    handle = getattr(value, "handle", None)
    if isinstance(handle, Tensor):
        return handle.op
    if isinstance(value, Tensor):
        return value.op
    converter = getattr(value, "_as_graph_element", None)
    if converter is not None:
        element = converter()
        return element.op if isinstance(element, Tensor) else element
    return convert_to_tensor(value).op


def control_dependencies(control_inputs):
    """``tf.control_dependencies`` on the default graph."""
    return get_default_graph().control_dependencies(control_inputs)


# ---- conversion of values to tensors ---------------------------------------------------

_conversion_functions = []


def add_to_collection(name, value):
    """`Graph.add_to_collection` on the default graph."""
    get_default_graph().add_to_collection(name, value)


def add_to_collections(names, value):
    """`Graph.add_to_collections` on the default graph."""
    get_default_graph().add_to_collections(names, value)


def get_collection(key, scope=None):
    """`Graph.get_collection` on the default graph: a filtered copy of collection `key`."""
    return get_default_graph().get_collection(key, scope)


def get_collection_ref(key):
    """`Graph.get_collection_ref` on the default graph: the list itself."""
    return get_default_graph().get_collection_ref(key)


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
        # A reference tensor converts as its value (its consumers read the variable).
        if dtype is not None and value.dtype._base is not dtypes.as_dtype(dtype)._base:
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
