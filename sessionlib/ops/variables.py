"""`Variable` (TF 1's API with resource-variable semantics) and the variable collections.

A `Variable` is a client-side description only: the ops that create its handle, initialize it
and read it. Its value lives in each session's resource container (see the ``state_kernels``
family of the kernel table), so two sessions on one graph have independent values, and nothing
the kernels touch is shared with this object.

Names follow TF's resource variables: for ``Variable(1.0, name='v')`` the handle op is ``v``
(so ``v.name == 'v:0'``), the initializer ``v/Assign``, the initial value
``v/Initializer/initial_value`` and the read that `Session.run(v)` fetches
``v/Read/ReadVariableOp``.
"""

from sessionlib import dtypes
from sessionlib.framework import default_session, meta_graph, run_conversions
from sessionlib.framework import function as function_lib
from sessionlib.framework import graph as graph_lib
from sessionlib.framework.graph import GraphKeys
from sessionlib.framework.tensor_shape import TensorShape, as_shape
from sessionlib.ops import state_ops
from sessionlib.protos import variable_pb2

__all__ = ["Variable", "global_variables", "trainable_variables", "local_variables",
           "model_variables", "moving_average_variables",
           "variables_initializer", "global_variables_initializer",
           "local_variables_initializer", "initialize_all_variables",
           "report_uninitialized_variables", "is_variable_initialized"]


class Variable:
    """A variable: state that persists across `Session.run` calls (``tf.Variable``).

    Args:
      initial_value: a tensor, a value `convert_to_tensor` takes, or a no-argument callable
        returning one. Its dtype is the variable's dtype.
      trainable: add the variable to ``TRAINABLE_VARIABLES`` too (default True).
      collections: the graph collections to add it to (default ``[GLOBAL_VARIABLES]``).
      validate_shape: if False, the variable's static shape is unknown.
      caching_device: unused.
      name: the name (default 'Variable'), made unique.
      use_resource: False makes TF 1's reference variable (a `RefVariable`: ``VariableV2``,
        dtype ``float32_ref``); None or True a resource variable.
      variable_def: a ``VariableDef`` naming the ops of a variable already in the graph (an
        imported meta graph's): the Variable is rebuilt from them and nothing is added.
      import_scope: with `variable_def`, the name scope its names were imported under.
      expected_shape, constraint, synchronization, aggregation: accepted for TF's signature;
        must be left at their defaults.
      dtype: the dtype to convert `initial_value` to.
      shape: the static shape, which must be compatible with `initial_value`'s.

    Raises:
      ValueError: if `initial_value` is None or `shape` does not fit it.
      TypeError: if `initial_value` cannot be converted to `dtype`.
    """

    # Make numpy defer to our operators in ``np.float32(2) * variable``.
    __array_priority__ = 100

    def __new__(cls, *args, use_resource=None, variable_def=None, **kwargs):
        # ``use_resource=False`` asks for TF 1's reference variable (ops/ref_variables.py), and
        # so does a VariableDef that is not a resource variable's (a TF 1 meta graph).
        is_ref = use_resource is False or (variable_def is not None
                                           and not variable_def.is_resource)
        if cls is Variable and is_ref:
            from sessionlib.ops import ref_variables

            cls = ref_variables.RefVariable
        return super().__new__(cls)

    def __init__(self, initial_value=None, trainable=None, collections=None,
                 validate_shape=True, caching_device=None, name=None, variable_def=None,
                 dtype=None, expected_shape=None, import_scope=None, constraint=None,
                 use_resource=None, synchronization=None, aggregation=None, shape=None):
        if variable_def is not None:
            if initial_value is not None:
                raise ValueError("variable_def and initial_value are mutually exclusive.")
            self._init_from_proto(variable_def, import_scope)
            return
        with function_lib.init_scope():
            self._init_from_args(initial_value, trainable, collections, validate_shape,
                                 name, dtype, constraint, shape)

    def _init_from_args(self, initial_value, trainable, collections, validate_shape, name,
                        dtype, constraint, shape):
        # Inside `init_scope`: a variable made in a cond branch or a loop body lives in the
        # outermost graph, as in TF.
        trainable, collections = _checked_arguments(initial_value, trainable, collections)
        graph = graph_lib.get_default_graph()
        self._trainable = trainable
        self._constraint = constraint
        # Like TF's init_scope: a variable does not inherit the caller's control dependencies.
        with graph.control_dependencies(None), graph.name_scope(name or "Variable") as scope:
            handle_name = scope[:-1]
            with graph.name_scope("Initializer"):
                value = initial_value() if callable(initial_value) else initial_value
                initial = graph_lib.convert_to_tensor(value, dtype=dtype, name="initial_value")
            if initial.graph is not graph:
                raise ValueError("initial_value must be from the same graph as the variable")
            static_shape = initial.shape
            if shape is not None:
                shape = as_shape(shape)
                if not shape.is_compatible_with(static_shape):
                    raise ValueError(f"The initial value's shape ({static_shape}) is not "
                                     f"compatible with the explicitly supplied `shape` "
                                     f"argument ({shape}).")
                static_shape = shape
            elif not validate_shape:
                static_shape = TensorShape(None)
            self._dtype = initial.dtype
            self._shape = static_shape
            self._initial_value = initial
            self._handle = graph.create_op(
                "VarHandleOp", [],
                {"dtype": self._dtype, "shape": static_shape, "container": "",
                 "shared_name": handle_name, "allowed_devices": []},
                name=scope).outputs[0]
            with graph.name_scope("IsInitialized"):
                self._is_initialized_op = self._resource_op("VarIsInitializedOp", [],
                                                            "VarIsInitializedOp").outputs[0]
            with graph.name_scope("Assign") as assign_scope:
                self._initializer_op = self._resource_op("AssignVariableOp", [initial],
                                                         assign_scope)
            with graph.name_scope("Read"):
                self._graph_element = self._read_op()
        graph.add_to_collections(collections, self)

    def _init_from_proto(self, variable_def, import_scope=None):
        """Rebuilds the Variable from the ops a ``VariableDef`` names (TF's resource variable
        ``_init_from_proto``): the handle, the initializer, the initial value and the read."""
        graph = graph_lib.get_default_graph()

        def element(name, **kwargs):
            return graph.as_graph_element(meta_graph.prepend_name_scope(name, import_scope),
                                          **kwargs)

        self._handle = element(variable_def.variable_name, allow_operation=False)
        handle_op = self._handle.op
        self._dtype = handle_op.get_attr("dtype")
        self._shape = as_shape(handle_op.get_attr("shape"))
        self._trainable = variable_def.trainable
        self._constraint = None
        self._synchronization = variable_def.synchronization
        self._aggregation = variable_def.aggregation
        self._initializer_op = element(variable_def.initializer_name)
        self._initial_value = (element(variable_def.initial_value_name)
                               if variable_def.initial_value_name else None)
        if variable_def.snapshot_name:
            # The snapshot may be an Identity of the read (TF's cached value): use the read.
            snapshot = element(variable_def.snapshot_name)
            while snapshot.op.inputs and snapshot.op.inputs[0].dtype is not dtypes.resource:
                snapshot = snapshot.op.inputs[0]
        else:
            snapshot = graph.get_tensor_by_name(f"{handle_op.name}/Read/ReadVariableOp:0")
        self._graph_element = snapshot
        is_initialized = graph._op_by_name_or_none(
            f"{handle_op.name}/IsInitialized/VarIsInitializedOp")
        self._is_initialized_op = is_initialized.outputs[0] if is_initialized else None

    @staticmethod
    def from_proto(variable_def, import_scope=None):
        """The Variable whose ops a ``VariableDef`` names (see `Variable`'s `variable_def`)."""
        return Variable(variable_def=variable_def, import_scope=import_scope)

    def to_proto(self, export_scope=None):
        """This variable's ``VariableDef``: the names of its ops, without `export_scope`.

        Returns:
          The proto, or None when the variable is not under `export_scope`.
        """
        if export_scope and not self._handle.name.startswith(export_scope):
            return None

        def strip(name):
            return meta_graph.strip_name_scope(name, export_scope)

        variable_def = variable_pb2.VariableDef(
            variable_name=strip(self._handle.name),
            initializer_name=strip(self._initializer_op.name),
            snapshot_name=strip(self._graph_element.name),
            is_resource=self._handle.dtype is dtypes.resource,
            trainable=bool(self._trainable),
            synchronization=getattr(self, "_synchronization", 0),
            aggregation=getattr(self, "_aggregation", 0))
        if self._initial_value is not None:
            variable_def.initial_value_name = strip(self._initial_value.name)
        return variable_def

    # ---- building blocks ----------------------------------------------------------------

    def _resource_op(self, op_type, inputs, name, attrs=None):
        attrs = dict(attrs or {})
        if op_type != "VarIsInitializedOp":
            attrs.setdefault("dtype", self._dtype)
        # Inside a function traced in the variable's graph (a cond branch, a loop body) the
        # op belongs to the function, which captures the handle.
        graph = function_lib.building_graph_for(self._handle.graph)
        return state_ops.create_resource_op(graph, op_type, self._handle, inputs, attrs, name)

    def _read_op(self, name="ReadVariableOp"):
        read = self._resource_op("ReadVariableOp", [], name).outputs[0]
        # In a function the handle is a captured placeholder that knows no shape.
        read.set_shape(self._shape)
        return read

    def _convert_value(self, value, what):
        if isinstance(value, Variable):
            value = value.value()
        # Python values become constants in the variable's graph (or the function being
        # traced in it), whatever thread builds.
        graph = function_lib.building_graph_for(self.graph)
        with graph.as_default():
            tensor = graph_lib.convert_to_tensor(value, dtype=self._dtype)
        if tensor.graph is not graph and not graph._captures_from(tensor.graph):
            raise ValueError(f"Cannot {what} variable {self.name} with a tensor from another "
                             "graph")
        return tensor

    def _update(self, op_type, value, read_value, name, what):
        graph = function_lib.building_graph_for(self.graph)
        tensor = self._convert_value(value, what)
        if op_type == "AssignVariableOp" and not self._shape.is_compatible_with(tensor.shape):
            raise ValueError(f"Cannot assign value to variable '{self.name}': Shape mismatch."
                             f"The variable shape {self._shape}, and the assigned value shape "
                             f"{tensor.shape} are incompatible.")
        update = self._resource_op(op_type, [tensor], name or op_type)
        if not read_value:
            return update
        # The result reads the variable after the update, as TF's `_lazy_read` does.
        with graph.control_dependencies([update]):
            return self._read_op()

    # ---- the public API -------------------------------------------------------------------

    @property
    def name(self):
        """The handle's tensor name, e.g. ``'v:0'``."""
        return self._handle.name

    @property
    def dtype(self):
        return self._dtype

    @property
    def shape(self):
        """The static `TensorShape`."""
        return self._shape

    def get_shape(self):
        return self._shape

    @property
    def op(self):
        """The ``VarHandleOp`` operation."""
        return self._handle.op

    @property
    def handle(self):
        """The resource handle tensor."""
        return self._handle

    @property
    def device(self):
        return self._handle.device

    @property
    def graph(self):
        return self._handle.graph

    @property
    def trainable(self):
        return self._trainable

    @property
    def constraint(self):
        return self._constraint

    @property
    def initializer(self):
        """The op that assigns the initial value."""
        return self._initializer_op

    @property
    def initial_value(self):
        """The tensor the initializer assigns."""
        return self._initial_value

    def value(self):
        """A new tensor reading the variable's current value."""
        return self._read_op()

    def read_value(self):
        """A new tensor reading the variable's current value (in a ``Read`` scope)."""
        with self.graph.name_scope("Read"):
            return self._read_op()

    def initialized_value(self):
        """The variable's value if it is initialized, else its initial value (TF's
        ``initialized_value``: a `cond`, built outside any function being traced), for
        initializing another variable from this one.

        A resource variable reads inside the branch; a reference variable's branch reads it
        through a resource handle (`RefVariable.initialized_value`).
        """
        from sessionlib.ops import cond_v2

        with function_lib.init_scope():
            return cond_v2.cond(self.is_initialized(), self.read_value,
                                lambda: self.initial_value)

    def is_initialized(self, name=None):
        """A bool scalar tensor: whether the variable has a value in the running session."""
        return self._resource_op("VarIsInitializedOp", [], name or "VarIsInitializedOp"
                                 ).outputs[0]

    def assign(self, value, use_locking=None, name=None, read_value=True):
        """Assigns `value` to the variable.

        Args:
          value: the new value; its static shape must be compatible with the variable's.
          use_locking: unused; updates are always atomic.
          name: the name of the assign op.
          read_value: if True, return a tensor with the new value; else the assign op.

        Returns:
          A tensor reading the value after the assignment, or the Operation.

        Raises:
          TypeError: if `value` has another dtype.
          ValueError: if its static shape is incompatible.
        """
        return self._update("AssignVariableOp", value, read_value, name, "assign")

    def assign_add(self, delta, use_locking=None, name=None, read_value=True):
        """Adds `delta` to the variable; see `assign` for the arguments and result."""
        return self._update("AssignAddVariableOp", delta, read_value, name, "update")

    def assign_sub(self, delta, use_locking=None, name=None, read_value=True):
        """Subtracts `delta` from the variable; see `assign` for the arguments and result."""
        return self._update("AssignSubVariableOp", delta, read_value, name, "update")

    def count_up_to(self, limit):
        """Increments this integer variable until it reaches `limit` (see `tf.count_up_to`).

        Args:
          limit: the value at which running the op fails with OutOfRangeError.

        Returns:
          A tensor with the value before the increment.
        """
        from sessionlib.ops import input_ops

        return input_ops.count_up_to(self, limit)

    def eval(self, session=None):
        """The variable's value in `session` (default: the default session).

        Raises:
          ValueError: if there is no session to use.
          FailedPreconditionError: if the variable is not initialized.
        """
        return self._graph_element.eval(session=session)

    def load(self, value, session=None):
        """Sets the variable's value in `session` by running its initializer with `value` fed.

        Args:
          value: the new value, of the initial value's shape.
          session: the session (default: the default session).

        Raises:
          ValueError: if there is no session, or `value` has an incompatible shape.
        """
        if session is None:
            session = default_session.get_default_session()
            if session is None:
                raise ValueError("Either session argument should be provided or default "
                                 "session should be established")
        session.run(self._initializer_op, {self._initializer_op.inputs[1]: value})

    def _as_graph_element(self):
        """The tensor that `Session.run(variable)` fetches."""
        return self._graph_element

    def to_tensor(self):
        return self.value()

    def __repr__(self):
        shape = self._shape
        shape_text = "<unknown>" if shape.rank is None else str(tuple(shape.as_list()))
        return f"<tf.Variable '{self.name}' shape={shape_text} dtype={self._dtype.name}>"

    def __iter__(self):
        raise TypeError("'Variable' object is not iterable.")

    def __reduce__(self):
        raise TypeError("A Variable cannot be pickled; fetch its value with Session.run")


def _checked_arguments(initial_value, trainable, collections):
    """(trainable, collections) of a new variable, TF's defaults filled in: a variable is
    trainable unless told otherwise, and goes into GLOBAL_VARIABLES (and TRAINABLE_VARIABLES
    when trainable). Shared by resource and reference variables.

    Raises:
      ValueError: without an initial value, or for collections that are not a list, tuple or
        set.
    """
    if initial_value is None:
        raise ValueError("initial_value must be specified.")
    if trainable is None:
        trainable = True
    if collections is None:
        collections = [GraphKeys.GLOBAL_VARIABLES]
    elif isinstance(collections, str) or not isinstance(collections, (list, tuple, set)):
        raise ValueError(f"collections argument to Variable constructor must be a list, "
                         f"tuple, or set. Got {collections} of type {type(collections)}")
    collections = list(collections)
    if trainable and GraphKeys.TRAINABLE_VARIABLES not in collections:
        collections.append(GraphKeys.TRAINABLE_VARIABLES)
    return trainable, collections


def _delegate_to_value(method_name):
    """A Variable operator that reads the variable and applies the Tensor's operator."""

    def method(self, *args):
        return getattr(self.value(), method_name)(*args)

    method.__name__ = method_name
    method.__doc__ = f"``Tensor.{method_name}`` applied to the variable's current value."
    return method


# The Tensor operators are attached by the math ops module; reading first means a Variable
# behaves exactly like its value wherever a Tensor would.
for _name in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__",
              "__truediv__", "__rtruediv__", "__floordiv__", "__rfloordiv__", "__mod__",
              "__rmod__", "__pow__", "__rpow__", "__matmul__", "__rmatmul__", "__neg__",
              "__abs__", "__invert__", "__and__", "__rand__", "__or__", "__ror__", "__xor__",
              "__rxor__", "__lt__", "__le__", "__gt__", "__ge__", "__getitem__", "__bool__"):
    setattr(Variable, _name, _delegate_to_value(_name))
del _name


def _variable_to_tensor(variable, dtype=None, name=None):
    if dtype is not None and dtypes.as_dtype(dtype).base_dtype is not variable.dtype.base_dtype:
        raise ValueError(f"Incompatible type conversion requested to type "
                         f"'{dtypes.as_dtype(dtype).name}' for variable of type "
                         f"'{variable.dtype.name}' ({variable.name})")
    return variable.value()


graph_lib.register_tensor_conversion_function(Variable, _variable_to_tensor)
run_conversions.register_session_run_conversion_functions(
    Variable,
    lambda variable: ([variable._graph_element], lambda values: values[0]),
    lambda variable, value: [(variable._graph_element, value)],
    lambda variable: [variable._graph_element])


# ---- collections and initializers -------------------------------------------------------

def global_variables(scope=None):
    """The variables in the ``GLOBAL_VARIABLES`` collection of the default graph.

    Args:
      scope: an optional regex; only variables whose name matches it are returned.
    """
    return graph_lib.get_default_graph().get_collection(GraphKeys.GLOBAL_VARIABLES, scope)


def trainable_variables(scope=None):
    """The variables in the ``TRAINABLE_VARIABLES`` collection of the default graph."""
    return graph_lib.get_default_graph().get_collection(GraphKeys.TRAINABLE_VARIABLES, scope)


def local_variables(scope=None):
    """The variables in the ``LOCAL_VARIABLES`` collection of the default graph."""
    return graph_lib.get_default_graph().get_collection(GraphKeys.LOCAL_VARIABLES, scope)


def model_variables(scope=None):
    """The variables in the ``MODEL_VARIABLES`` collection of the default graph."""
    return graph_lib.get_default_graph().get_collection(GraphKeys.MODEL_VARIABLES, scope)


def moving_average_variables(scope=None):
    """The variables in ``MOVING_AVERAGE_VARIABLES`` (those `ExponentialMovingAverage`
    averages) of the default graph."""
    return graph_lib.get_default_graph().get_collection(GraphKeys.MOVING_AVERAGE_VARIABLES,
                                                        scope)


def variables_initializer(var_list, name="init"):
    """An op that runs the initializers of `var_list` (a NoOp when the list is empty).

    Args:
      var_list: a list of `Variable`s.
      name: the op name.
    """
    from sessionlib.ops import control_flow_ops

    var_list = list(var_list)
    if var_list:
        return control_flow_ops.group(*[v.initializer for v in var_list], name=name)
    return control_flow_ops.no_op(name=name)


def global_variables_initializer():
    """An op that initializes every global variable of the default graph (named 'init')."""
    return variables_initializer(global_variables())


def local_variables_initializer():
    """An op that initializes every local variable of the default graph (named 'init')."""
    return variables_initializer(local_variables())


def initialize_all_variables():
    """Deprecated TF 1 spelling of `global_variables_initializer`."""
    return global_variables_initializer()


def is_variable_initialized(variable):
    """A bool scalar tensor: whether `variable` is initialized in the running session."""
    return state_ops.is_variable_initialized(variable)


def report_uninitialized_variables(var_list=None, name="report_uninitialized_variables"):
    """A string tensor listing the names of the uninitialized variables.

    Args:
      var_list: the variables to check (default: global and local variables).
      name: the name scope of the ops.

    Returns:
      A 1-D string tensor of variable op names (as bytes, like TF), empty when all are
      initialized.
    """
    from sessionlib.ops import array_ops, math_ops

    if var_list is None:
        var_list = global_variables() + local_variables()
    var_list = list(var_list)
    graph = var_list[0].graph if var_list else graph_lib.get_default_graph()
    with graph.as_default(), graph.control_dependencies(None), graph.name_scope(name):
        if not var_list:
            return array_ops.constant([], dtype=dtypes.string, shape=[0])
        # TF's composition: the names where the stacked is-initialized flags are false.
        names = array_ops.constant([v.op.name for v in var_list], dtype=dtypes.string)
        ready = array_ops.stack([v.is_initialized() for v in var_list])
        missing = array_ops.reshape(array_ops.where(math_ops.logical_not(ready)), [-1])
        return array_ops.gather(names, missing)


# ---- meta graphs ------------------------------------------------------------------------
# The variable collections are written to a MetaGraphDef as VariableDef protos and rebuilt as
# Variables on import (TF registers the same collections).

def _variable_to_proto(variable, export_scope=None):
    return variable.to_proto(export_scope=export_scope)


def _variable_from_proto(variable_def, import_scope=None):
    return Variable.from_proto(variable_def, import_scope=import_scope)


for _key in (GraphKeys.GLOBAL_VARIABLES, GraphKeys.TRAINABLE_VARIABLES,
             GraphKeys.MOVING_AVERAGE_VARIABLES, GraphKeys.LOCAL_VARIABLES,
             GraphKeys.MODEL_VARIABLES, GraphKeys.GLOBAL_STEP, GraphKeys.METRIC_VARIABLES):
    meta_graph.register_proto_function(_key, proto_type=variable_pb2.VariableDef,
                                       to_proto=_variable_to_proto,
                                       from_proto=_variable_from_proto)
del _key
