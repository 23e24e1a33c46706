"""Variable scopes and ``get_variable``: TF 1's way of naming and sharing variables.

Three objects, as in TF:

* a `_VariableStore` per graph (kept in the graph collection ``('__variable_store',)``, as
  TF's ``_VARSTORE_KEY``) maps full names such as ``'enc/w'`` to the variables that
  `get_variable` made, which is what lets a second ``get_variable('w')`` under ``reuse=True``
  return the same variable;
* a `VariableScope`, the value of ``with variable_scope(...) as scope``: a name prefix and the
  defaults (reuse, initializer, regularizer, dtype, custom getter, ...) that `get_variable`
  uses inside it;
* a `_VariableScopeStore` per graph and thread holding the current scope and how often each
  scope name was opened (to uniquify ``default_name``). TF keeps it per graph; we keep it per
  thread too because name scopes here are per thread, and two threads building in one graph
  must not see each other's open scopes.

Variable names depend only on the variable scope, never on `tf.name_scope`: `get_variable`
builds the variable at the top-level name scope, so ops inside a ``name_scope('x')`` still
make ``scope/v``. The ops of the initializer live in ``scope/v/Initializer/``.

The rules (reuse inheritance, what a scope object passed back in re-enters, how custom getters
chain, the error messages) follow TF's ``variable_scope.py``, checked against TF 2.21.
"""

import enum
import functools
import inspect
import threading

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework.graph import GraphKeys
from sessionlib.framework.tensor_shape import as_shape
from sessionlib.ops import init_ops, partitioned_variables, variables

__all__ = ["variable_scope", "get_variable", "get_local_variable", "get_variable_scope",
           "VariableScope", "AUTO_REUSE", "no_regularizer", "VariableSynchronization",
           "VariableAggregation"]

_VARSTORE_KEY = ("__variable_store",)


class _ReuseMode(enum.Enum):
    """The type of `AUTO_REUSE`: create variables that are missing, reuse the others."""

    AUTO_REUSE = 1


AUTO_REUSE = _ReuseMode.AUTO_REUSE


class VariableSynchronization(enum.Enum):
    """How a distributed variable is synchronized (accepted for TF's signatures only)."""

    AUTO = 0
    NONE = 1
    ON_WRITE = 2
    ON_READ = 3


class VariableAggregation(enum.Enum):
    """How a distributed variable's updates combine (accepted for TF's signatures only)."""

    NONE = 0
    SUM = 1
    MEAN = 2
    ONLY_FIRST_REPLICA = 3


def no_regularizer(_):
    """A regularizer that adds nothing: use it to switch off a scope's regularizer."""
    return None


# ---- the store of variables --------------------------------------------------------------

class _VariableStore:
    """The variables `get_variable` made in one graph, by full name."""

    def __init__(self):
        self._vars = {}
        self._partitioned_vars = {}
        # Look-up and creation are one step, so two threads asking for one new name get one
        # variable (the second under AUTO_REUSE) rather than two.
        self._lock = threading.RLock()

    def get_variable(self, name, shape=None, dtype=dtypes.float32, initializer=None,
                     regularizer=None, reuse=None, trainable=None, collections=None,
                     caching_device=None, partitioner=None, validate_shape=True,
                     use_resource=None, custom_getter=None, constraint=None,
                     synchronization=VariableSynchronization.AUTO,
                     aggregation=VariableAggregation.NONE):
        """Gets or creates the variable `name` (the full name); see `get_variable`."""
        if custom_getter is not None and not callable(custom_getter):
            raise ValueError(f"Passed a custom_getter which is not callable: {custom_getter}")
        if dtype is not None:
            dtype = dtypes.as_dtype(dtype).base_dtype

        # The store's own logic; a custom getter receives it as ``getter`` and may wrap it.
        def _true_getter(name, shape=None, dtype=dtypes.float32, initializer=None,
                         regularizer=None, reuse=None, trainable=None, collections=None,
                         caching_device=None, partitioner=None, validate_shape=True,
                         use_resource=None, constraint=None,
                         synchronization=VariableSynchronization.AUTO,
                         aggregation=VariableAggregation.NONE):
            with self._lock:
                return _locked_getter(name, shape, dtype, initializer, regularizer, reuse,
                                      trainable, collections, partitioner, validate_shape,
                                      constraint, use_resource)

        def _locked_getter(name, shape, dtype, initializer, regularizer, reuse, trainable,
                           collections, partitioner, validate_shape, constraint,
                           use_resource=None):
            is_scalar = isinstance(shape, (list, tuple)) and not shape
            if partitioner is not None and not is_scalar:
                if not callable(partitioner):
                    raise ValueError(f"Partitioner must be callable, but received: "
                                     f"{partitioner}")
                return self._get_partitioned_variable(
                    name, partitioner, shape, dtype, initializer, regularizer, reuse,
                    trainable, collections, validate_shape, constraint)
            if reuse is True and partitioner is None and name in self._partitioned_vars:
                return self._get_partitioned_variable(
                    name, None, shape, dtype, initializer, regularizer, reuse, trainable,
                    collections, validate_shape, constraint)
            if f"{name}/part_0" in self._vars:
                raise ValueError(f"No partitioner was provided, but a partitioned version of "
                                 f"the variable was found: {name}/part_0. Perhaps a variable "
                                 f"of the same name was already created with partitioning?")
            return self._get_single_variable(
                name, shape, dtype, initializer, regularizer, reuse, trainable, collections,
                validate_shape, constraint, use_resource=use_resource)

        if trainable is None:
            trainable = synchronization is not VariableSynchronization.ON_READ
        kwargs = dict(name=name, shape=shape, dtype=dtype, initializer=initializer,
                      regularizer=regularizer, reuse=reuse, trainable=trainable,
                      collections=collections, caching_device=caching_device,
                      partitioner=partitioner, validate_shape=validate_shape,
                      use_resource=use_resource, synchronization=synchronization,
                      aggregation=aggregation)
        if custom_getter is None:
            return _true_getter(constraint=constraint, **kwargs)
        # Like TF: getters written before `constraint` existed do not receive it.
        if _accepts_argument(custom_getter, "constraint"):
            kwargs["constraint"] = constraint
        return custom_getter(getter=_true_getter, **kwargs)

    def _get_single_variable(self, name, shape, dtype, initializer, regularizer, reuse,
                             trainable, collections, validate_shape, constraint,
                             partition_info=None, use_resource=None):
        initializing_from_value = initializer is not None and not callable(initializer)
        if shape is not None and initializing_from_value:
            raise ValueError("If initializer is a constant, do not specify shape.")
        dtype = dtypes.as_dtype(dtype)
        if shape is not None:
            shape = as_shape(shape)

        if name in self._vars:
            found = self._vars[name]
            # Like TF only False refuses: scopes turn "no reuse" into False, and a bare
            # VariableScope(reuse=None) reuses.
            if reuse is False:
                raise ValueError(f"Variable {name} already exists, disallowed. Did you mean to "
                                 f"set reuse=True or reuse=tf.AUTO_REUSE in VarScope?")
            if shape is not None and not shape.is_compatible_with(found.get_shape()):
                raise ValueError(f"Trying to share variable {name}, but specified shape "
                                 f"{shape} and found shape {found.get_shape()}.")
            if not dtype.is_compatible_with(found.dtype):
                raise ValueError(f"Trying to share variable {name}, but specified dtype "
                                 f"{dtype.name} and found dtype {found.dtype.name}.")
            return found

        if reuse is True:
            raise ValueError(f"Variable {name} does not exist, or was not created with "
                             f"tf.get_variable(). Did you mean to set reuse=tf.AUTO_REUSE in "
                             f"VarScope?")

        if initializer is None:
            if shape is None:
                raise ValueError(f"Variable {name} did not get an initializer, so its `shape` "
                                 f"argument must be specified.")
            initializer, initializing_from_value = _default_initializer(name, dtype)
        graph = graph_lib.get_default_graph()
        if initializing_from_value:
            initial_value, variable_dtype = initializer, None
        else:
            if inspect.isclass(initializer):
                initializer = initializer()
            if shape is not None and shape.is_fully_defined():
                if _accepts_argument(initializer, "partition_info", keyword_only=False):
                    initial_value = functools.partial(initializer, shape.as_list(),
                                                      dtype=dtype,
                                                      partition_info=partition_info)
                else:
                    initial_value = functools.partial(initializer, shape.as_list(),
                                                      dtype=dtype)
                variable_dtype = dtype.base_dtype
            elif _needs_no_arguments(initializer):
                initial_value, variable_dtype = initializer, None
            else:
                raise ValueError("The initializer passed is not valid. It should be a callable "
                                 "with no arguments and the shape should not be provided or "
                                 "an instance of `tf.keras.initializers.*' and `shape` should "
                                 "be fully defined.")
        # Like TF's init_scope: the variable does not depend on the caller's control inputs.
        with graph.control_dependencies(None), graph.name_scope(None):
            var = variables.Variable(initial_value=initial_value, name=name,
                                     trainable=trainable, collections=collections,
                                     dtype=variable_dtype, validate_shape=validate_shape,
                                     constraint=constraint, shape=shape,
                                     use_resource=use_resource)  # False: TF 1's ref variable
            self._vars[name] = var
            if regularizer:
                # TF builds the loss lazily in ``name/Regularizer/``; building it now gives
                # the same names, and a regularizer that returns None adds nothing.
                with graph.name_scope(f"{name}/Regularizer/"):
                    loss = regularizer(var)
                if loss is not None:
                    graph.add_to_collection(GraphKeys.REGULARIZATION_LOSSES, loss)
        return var

    def _get_partitioned_variable(self, name, partitioner, shape, dtype, initializer,
                                  regularizer, reuse, trainable, collections, validate_shape,
                                  constraint):
        """Gets or creates the shards ``name/part_<k>`` and their `PartitionedVariable`."""
        from sessionlib.framework.graph import Tensor
        from sessionlib.ops import array_ops

        initializing_from_value = isinstance(initializer, Tensor)
        if name in self._vars:
            raise ValueError(f"A partitioner was provided, but an unpartitioned version of the "
                             f"variable was found: {name}.  Perhaps a variable of the same "
                             f"name was already created without partitioning?")
        shape = as_shape(shape)
        if initializing_from_value:
            shape = shape.merge_with(initializer.shape)
        dtype = dtypes.as_dtype(dtype)
        partitions = None
        if not reuse or partitioner:
            partitions = partitioned_variables.call_partitioner(partitioner, shape, dtype)

        if name in self._partitioned_vars:
            if reuse is False:
                raise ValueError(f"Partitioned variable with name {name} already exists. Did "
                                 f"you mean to set reuse=True or reuse=tf.AUTO_REUSE in "
                                 f"VarScope?")
            existing = self._partitioned_vars[name]
            if not shape.is_compatible_with(existing.get_shape()):
                raise ValueError(f"Trying to reuse partitioned variable {name}, but specified "
                                 f"shape {shape} and found shape {existing.get_shape()}.")
            if not dtype.is_compatible_with(existing.dtype):
                raise ValueError(f"Trying to reuse partitioned variable {name}, but specified "
                                 f"dtype {dtype.name} and found dtype {existing.dtype.name}.")
            if partitions is not None and existing._get_partitions() != partitions:
                raise ValueError(f"Trying to reuse partitioned variable {name}, but specified "
                                 f"partitions {partitions} and found partitions "
                                 f"{existing._get_partitions()}.")
            return existing
        if reuse is True:
            raise ValueError(f"PartitionedVariable {name} does not exist, or was not created "
                             f"with tf.get_variable(). Did you mean to set reuse=False or "
                             f"reuse=tf.AUTO_REUSE in VarScope?")

        slice_dim, num_slices = partitioned_variables.slice_dim_and_num_slices(partitions)
        if f"{name}/part_0" in self._vars:
            if f"{name}/part_{num_slices - 1}" not in self._vars:
                raise ValueError(f"Partitioner returned a different partitioning than what was "
                                 f"already found.  Partitioner returned {num_slices} shards, "
                                 f"and shard {name}/part_0 was found, but "
                                 f"{name}/part_{num_slices - 1} was not.")
            if f"{name}/part_{num_slices}" in self._vars:
                raise ValueError(f"Partitioner returned a different partitioning than what was "
                                 f"already found.  Partitioner returned {num_slices} shards, "
                                 f"and shard {name}/part_0 was found, but so was the extra "
                                 f"shard {name}/part_{num_slices}.")

        graph = graph_lib.get_default_graph()
        parts, offsets = [], []
        full_shape = shape.as_list()
        for i, (offset, part_shape) in enumerate(
                partitioned_variables.iter_slices(full_shape, num_slices, slice_dim)):
            info = init_ops.PartitionInfo(full_shape=full_shape, var_offset=offset)
            part_name = f"{name}/part_{i}"
            with graph.name_scope(part_name + "/PartitionedInitializer"):
                if initializer is None:
                    init, from_value = _default_initializer(name, dtype)
                    init_shape = None if from_value else part_shape
                elif callable(initializer):
                    init, init_shape = initializer, part_shape
                elif initializing_from_value:
                    init = array_ops.slice(initializer, offset, part_shape)
                    dtype = init.dtype.base_dtype
                    init_shape = None
                else:
                    init = graph_lib.convert_to_tensor(initializer, dtype=dtype)
                    init = array_ops.slice(init, offset, part_shape)
                    init_shape = None
            with graph.name_scope(None):
                var = self._get_single_variable(
                    part_name, init_shape, dtype, init, regularizer, reuse, trainable,
                    collections, validate_shape, constraint, partition_info=info)
            parts.append(var)
            offsets.append(offset)
        result = partitioned_variables.PartitionedVariable(
            name=name, shape=full_shape, dtype=dtype, variable_list=parts,
            partitions=partitions, offsets=offsets)
        self._partitioned_vars[name] = result
        return result


def _accepts_argument(function, argument, keyword_only=None):
    """Whether `function` takes `argument` by name (or has ``**kwargs`` when allowed)."""
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return False
    if argument in signature.parameters:
        return True
    if keyword_only is False:
        return False
    return any(p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values())


def _needs_no_arguments(function):
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return False
    return all(p.default is not inspect.Parameter.empty
               or p.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
               for p in signature.parameters.values())


def _default_initializer(name, dtype):
    """TF's defaults: Glorot uniform for floats, zeros for integers, bools and strings."""
    if dtype.is_floating:
        return init_ops.glorot_uniform_initializer(), False
    if dtype.is_integer or dtype.is_unsigned or dtype.is_bool or dtype == dtypes.string:
        return init_ops.zeros_initializer(), False
    raise ValueError(f"An initializer for variable {name} of {dtype.base_dtype} is required")


def _get_default_variable_store():
    graph = graph_lib.get_default_graph()
    with graph._lock:
        store = graph.get_collection_ref(_VARSTORE_KEY)
        if not store:
            store.append(_VariableStore())
        return store[0]


# ---- scopes ---------------------------------------------------------------------------------

class VariableScope:
    """The defaults `get_variable` uses in a scope, and the scope's name.

    Normally made by `variable_scope`, which yields one; `get_variable_scope` returns the
    current one.

    Args:
      reuse: True, AUTO_REUSE, or False/None (create only).
      name: the scope's full name ('' at the top level).
      initializer, regularizer, caching_device, partitioner, custom_getter, dtype,
        use_resource, constraint: the defaults for `get_variable`.
      name_scope: the name scope the scope was first opened in (``original_name_scope``).
    """

    def __init__(self, reuse, name="", initializer=None, regularizer=None,
                 caching_device=None, partitioner=None, custom_getter=None, name_scope="",
                 dtype=dtypes.float32, use_resource=None, constraint=None):
        self._name = name
        self._initializer = initializer
        self._regularizer = regularizer
        self._reuse = reuse
        self._caching_device = caching_device
        self._partitioner = partitioner
        self._custom_getter = custom_getter
        self._name_scope = name_scope
        self._dtype = dtype
        self._use_resource = use_resource
        self._constraint = constraint

    name = property(lambda self: self._name, doc="The full name, e.g. 'enc/layer1'.")
    original_name_scope = property(lambda self: self._name_scope,
                                   doc="The name scope (with '/') the scope was opened in.")
    reuse = property(lambda self: self._reuse)
    initializer = property(lambda self: self._initializer)
    dtype = property(lambda self: self._dtype)
    use_resource = property(lambda self: self._use_resource)
    regularizer = property(lambda self: self._regularizer)
    caching_device = property(lambda self: self._caching_device)
    partitioner = property(lambda self: self._partitioner)
    custom_getter = property(lambda self: self._custom_getter)
    constraint = property(lambda self: self._constraint)

    def reuse_variables(self):
        """Makes `get_variable` in this scope reuse existing variables from now on."""
        self._reuse = True

    def set_initializer(self, initializer):
        self._initializer = initializer

    def set_dtype(self, dtype):
        self._dtype = dtype

    def set_use_resource(self, use_resource):
        self._use_resource = use_resource

    def set_regularizer(self, regularizer):
        self._regularizer = regularizer

    def set_caching_device(self, caching_device):
        self._caching_device = caching_device

    def set_partitioner(self, partitioner):
        self._partitioner = partitioner

    def set_custom_getter(self, custom_getter):
        self._custom_getter = custom_getter

    def get_collection(self, name):
        """The items of collection `name` whose names start with this scope's name + '/'."""
        scope = self._name + "/" if self._name else ""
        return graph_lib.get_default_graph().get_collection(name, scope)

    def trainable_variables(self):
        return self.get_collection(GraphKeys.TRAINABLE_VARIABLES)

    def global_variables(self):
        return self.get_collection(GraphKeys.GLOBAL_VARIABLES)

    def local_variables(self):
        return self.get_collection(GraphKeys.LOCAL_VARIABLES)

    def get_variable(self, var_store, name, shape=None, dtype=None, initializer=None,
                     regularizer=None, reuse=None, trainable=None, collections=None,
                     caching_device=None, partitioner=None, validate_shape=True,
                     use_resource=None, custom_getter=None, constraint=None,
                     synchronization=VariableSynchronization.AUTO,
                     aggregation=VariableAggregation.NONE):
        """`get_variable` with this scope's defaults filled in; see the module function."""
        if regularizer is None:
            regularizer = self._regularizer
        if caching_device is None:
            caching_device = self._caching_device
        if partitioner is None:
            partitioner = self._partitioner
        if custom_getter is None:
            custom_getter = self._custom_getter
        if reuse is None:
            reuse = self._reuse
        if use_resource is None:
            use_resource = self._use_resource
        full_name = f"{self._name}/{name}" if self._name else name
        graph = graph_lib.get_default_graph()
        # Variable names depend only on the variable scope, so leave any name scope.
        with graph.name_scope(None):
            if dtype is not None and initializer is not None and not callable(initializer):
                # TF converts the value here (at the top level, making a Const) to compare.
                init_dtype = graph_lib.convert_to_tensor(initializer).dtype.base_dtype
                if init_dtype != dtypes.as_dtype(dtype):
                    raise ValueError(f"Initializer type '{init_dtype}' and explicit dtype "
                                     f"'{dtypes.as_dtype(dtype)}' don't match.")
            if initializer is None:
                initializer = self._initializer
            if constraint is None:
                constraint = self._constraint
            if dtype is None:
                dtype = self._dtype
            return var_store.get_variable(
                full_name, shape=shape, dtype=dtype, initializer=initializer,
                regularizer=regularizer, reuse=reuse, trainable=trainable,
                collections=collections, caching_device=caching_device,
                partitioner=partitioner, validate_shape=validate_shape,
                use_resource=use_resource, custom_getter=custom_getter,
                constraint=constraint, synchronization=synchronization,
                aggregation=aggregation)


class _VariableScopeStore:
    """The current `VariableScope` and how many times each scope name was opened."""

    def __init__(self):
        self.current_scope = VariableScope(False)
        self.variable_scopes_count = {}

    def open_variable_scope(self, scope_name):
        self.variable_scopes_count[scope_name] = self.variable_scopes_count.get(scope_name,
                                                                                0) + 1

    def close_variable_subscopes(self, scope_name):
        prefix = scope_name + "/"
        for key in self.variable_scopes_count:
            if key.startswith(prefix):
                self.variable_scopes_count[key] = 0

    def variable_scope_count(self, scope_name):
        return self.variable_scopes_count.get(scope_name, 0)


def _get_variable_scope_store(graph=None):
    graph = graph or graph_lib.get_default_graph()
    # Per graph and per thread: `graph._scopes` is the graph's thread-local scope state.
    store = getattr(graph._scopes, "variable_scope_store", None)
    if store is None:
        store = _VariableScopeStore()
        graph._scopes.variable_scope_store = store
    return store


def get_variable_scope():
    """The current `VariableScope` of the default graph (in this thread)."""
    return _get_variable_scope_store().current_scope


def _get_unique_variable_scope(prefix):
    store = _get_variable_scope_store()
    current = store.current_scope
    name = f"{current.name}/{prefix}" if current.name else prefix
    if store.variable_scope_count(name) == 0:
        return prefix
    index = 1
    while store.variable_scope_count(f"{name}_{index}") > 0:
        index += 1
    return f"{prefix}_{index}"


def _maybe_wrap_custom_getter(custom_getter, old_getter):
    """Chains getters as TF does: the new one receives the old one wrapped around the store's."""
    if old_getter is None:
        return custom_getter

    def wrapped_custom_getter(getter, *args, **kwargs):
        return custom_getter(functools.partial(old_getter, getter), *args, **kwargs)

    return wrapped_custom_getter


class _pure_variable_scope:  # noqa: N801 - TF's name
    """Opens a variable scope without touching name scopes (the part `variable_scope` shares)."""

    def __init__(self, name_or_scope, reuse=None, initializer=None, regularizer=None,
                 caching_device=None, partitioner=None, custom_getter=None,
                 old_name_scope=None, dtype=dtypes.float32, use_resource=None,
                 constraint=None):
        self._name_or_scope = name_or_scope
        self._reuse = reuse
        self._initializer = initializer
        self._regularizer = regularizer
        self._caching_device = caching_device
        self._partitioner = partitioner
        self._custom_getter = custom_getter
        self._old_name_scope = old_name_scope
        self._dtype = dtype
        self._use_resource = use_resource
        self._constraint = constraint
        self._var_scope_store = _get_variable_scope_store()
        self._last_variable_scope_object = None
        if isinstance(name_or_scope, VariableScope):
            # Jumping to a scope object: a copy of it, with what this call overrides.
            self._new_name = name_or_scope.name
            scope = VariableScope(
                name_or_scope.reuse if not reuse else reuse, name=self._new_name,
                initializer=name_or_scope.initializer, regularizer=name_or_scope.regularizer,
                caching_device=name_or_scope.caching_device,
                partitioner=name_or_scope.partitioner, dtype=name_or_scope.dtype,
                custom_getter=name_or_scope.custom_getter,
                name_scope=name_or_scope.original_name_scope,
                use_resource=name_or_scope.use_resource, constraint=constraint)
            self._apply_overrides(scope, name_or_scope.custom_getter)
            self._cached_variable_scope_object = scope

    def _apply_overrides(self, scope, old_getter):
        if self._initializer is not None:
            scope.set_initializer(self._initializer)
        if self._regularizer is not None:
            scope.set_regularizer(self._regularizer)
        if self._caching_device is not None:
            scope.set_caching_device(self._caching_device)
        if self._partitioner is not None:
            scope.set_partitioner(self._partitioner)
        if self._custom_getter is not None:
            scope.set_custom_getter(_maybe_wrap_custom_getter(self._custom_getter, old_getter))
        if self._dtype is not None:
            scope.set_dtype(self._dtype)
        if self._use_resource is not None:
            scope.set_use_resource(self._use_resource)

    def __enter__(self):
        store = self._var_scope_store
        self._old = store.current_scope
        if isinstance(self._name_or_scope, VariableScope):
            store.open_variable_scope(self._new_name)
            self._old_subscopes = dict(store.variable_scopes_count)
            scope = self._cached_variable_scope_object
        else:
            # Prolonging the current scope: reuse is inherited, never switched off.
            old = self._old
            self._new_name = (f"{old.name}/{self._name_or_scope}" if old.name
                              else self._name_or_scope)
            self._reuse = self._reuse or old.reuse
            name_scope = (self._name_or_scope if self._old_name_scope is None
                          else self._old_name_scope)
            scope = VariableScope(
                self._reuse, name=self._new_name, initializer=old.initializer,
                regularizer=old.regularizer, caching_device=old.caching_device,
                partitioner=old.partitioner, dtype=old.dtype, use_resource=old.use_resource,
                custom_getter=old.custom_getter, name_scope=name_scope,
                constraint=self._constraint)
            self._apply_overrides(scope, old.custom_getter)
            store.open_variable_scope(self._new_name)
        store.current_scope = scope
        self._last_variable_scope_object = scope
        return scope

    def __exit__(self, exc_type, exc_value, traceback):
        store = self._var_scope_store
        if store.current_scope is not self._last_variable_scope_object:
            raise RuntimeError("Improper nesting of variable_scope.")
        if isinstance(self._name_or_scope, VariableScope):
            store.variable_scopes_count = self._old_subscopes
        else:
            store.close_variable_subscopes(self._new_name)
        store.current_scope = self._old
        return False


class variable_scope:  # noqa: N801 - TF's public name
    """A context manager that opens a variable scope (and, normally, a name scope with it).

    ``with variable_scope('enc'):`` prefixes the names of `get_variable` with ``enc/`` and
    opens the name scope ``enc`` (uniquified: ``enc_1`` the second time) for the other ops.
    Passing a `VariableScope` back in re-enters that variable scope exactly, under a new name
    scope; the yielded scope's `original_name_scope` is the one it was first opened in.

    Args:
      name_or_scope: a string or a `VariableScope`; None to use `default_name`.
      default_name: the name when `name_or_scope` is None, made unique (``d``, ``d_1``).
      values: tensors whose graph to use.
      initializer, regularizer, caching_device, partitioner, custom_getter, dtype,
        use_resource, constraint: defaults for `get_variable` in the scope (inherited by
        nested scopes); a custom getter chains with the outer scope's.
      reuse: True or AUTO_REUSE to reuse variables in this scope and below; None or False
        inherits the outer scope's.
      auxiliary_name_scope: if False, open no name scope (ops stay in the current one).

    Raises:
      TypeError: if both names are None, or `name_or_scope` has the wrong type.
      ValueError: if `reuse` is invalid, or reuse=True is used with `default_name` only.
    """

    def __init__(self, name_or_scope, default_name=None, values=None, initializer=None,
                 regularizer=None, caching_device=None, partitioner=None, custom_getter=None,
                 reuse=None, dtype=None, use_resource=None, constraint=None,
                 auxiliary_name_scope=True):
        self._name_or_scope = name_or_scope
        self._default_name = default_name
        self._values = values
        self._initializer = initializer
        self._regularizer = regularizer
        self._caching_device = caching_device
        self._partitioner = partitioner
        self._custom_getter = custom_getter
        self._reuse = reuse
        self._dtype = dtype
        self._use_resource = use_resource
        self._constraint = constraint
        if default_name is None and name_or_scope is None:
            raise TypeError("If default_name is None then name_or_scope is required")
        if self._reuse is False:
            # Scopes never switch reuse off: False means "inherit", like None.
            self._reuse = None
        if not (self._reuse is True or self._reuse is None or self._reuse is AUTO_REUSE):
            raise ValueError("The reuse parameter must be True or False or None.")
        if not isinstance(auxiliary_name_scope, bool):
            raise TypeError(f"The auxiliary_name_scope must be `True` or `False`, while get "
                            f"{auxiliary_name_scope}")
        self._auxiliary_name_scope = auxiliary_name_scope
        self._graph = graph_lib._graph_of_values(values or []) or None
        self._graph_context = None
        self._name_scope_context = None
        self._pure_scope = None

    def _pure(self, name_or_scope, old_name_scope):
        return _pure_variable_scope(
            name_or_scope, reuse=self._reuse, initializer=self._initializer,
            regularizer=self._regularizer, caching_device=self._caching_device,
            partitioner=self._partitioner, custom_getter=self._custom_getter,
            old_name_scope=old_name_scope, dtype=self._dtype, use_resource=self._use_resource,
            constraint=self._constraint)

    def __enter__(self):
        graph = self._graph or graph_lib.get_default_graph()
        self._graph_context = graph.as_default()
        self._graph_context.__enter__()
        try:
            return self._enter(graph)
        except BaseException:
            self._exit_name_scope(None, None, None)
            self._graph_context.__exit__(None, None, None)
            self._graph_context = None
            raise

    def _open_name_scope(self, context):
        scope_name = context.__enter__()
        self._name_scope_context = context
        return scope_name

    def _enter(self, graph):
        if self._auxiliary_name_scope:
            name_scope = None
        else:
            # Re-enter the current name scope, so that no new one opens.
            current = graph.get_name_scope()
            name_scope = graph.name_scope(current + "/" if current else "")
        if self._name_or_scope is not None:
            if not isinstance(self._name_or_scope, (VariableScope, str)):
                raise TypeError("VariableScope: name_or_scope must be a string or "
                                "VariableScope.")
            if isinstance(self._name_or_scope, str):
                name = self._name_or_scope
            else:
                name = self._name_or_scope.name.split("/")[-1]
            if name or name_scope is not None:
                entered = self._open_name_scope(name_scope or graph.name_scope(name))
                old_name_scope = (entered if isinstance(self._name_or_scope, str)
                                  else self._name_or_scope.original_name_scope)
                pure = self._pure(self._name_or_scope, old_name_scope)
            else:
                # Entering the root variable scope: no name scope to open.
                pure = self._pure(self._name_or_scope, None)
        else:
            if self._reuse:
                raise ValueError("reuse=True cannot be used without a name_or_scope")
            entered = self._open_name_scope(name_scope or graph.name_scope(self._default_name))
            pure = self._pure(_get_unique_variable_scope(self._default_name), entered)
        result = pure.__enter__()
        self._pure_scope = pure
        return result

    def _exit_name_scope(self, exc_type, exc_value, traceback):
        if self._name_scope_context is not None:
            context, self._name_scope_context = self._name_scope_context, None
            context.__exit__(exc_type, exc_value, traceback)

    def __exit__(self, exc_type, exc_value, traceback):
        try:
            pure, self._pure_scope = self._pure_scope, None
            pure.__exit__(exc_type, exc_value, traceback)
        finally:
            try:
                self._exit_name_scope(exc_type, exc_value, traceback)
            finally:
                context, self._graph_context = self._graph_context, None
                context.__exit__(exc_type, exc_value, traceback)
        return False


def get_variable(name, shape=None, dtype=None, initializer=None, regularizer=None,
                 trainable=None, collections=None, caching_device=None, partitioner=None,
                 validate_shape=True, use_resource=None, custom_getter=None, constraint=None,
                 synchronization=VariableSynchronization.AUTO,
                 aggregation=VariableAggregation.NONE):
    """Gets the variable ``<scope>/<name>`` or creates it (TF 1's ``tf.get_variable``).

    Under ``reuse=True`` the variable must exist; under AUTO_REUSE it is made when missing;
    otherwise it must not exist. The name ignores name scopes.

    Args:
      name: the name within the current variable scope.
      shape: the shape (required unless `initializer` is a value).
      dtype: the dtype (default: the scope's, float32).
      initializer: an initializer (a callable ``(shape, dtype=..., partition_info=...)``),
        an initializer class, or a value/Tensor (then `shape` must be None and the value gives
        shape and dtype). Default: the scope's, else Glorot uniform for floats and zeros for
        integers, bools and strings.
      regularizer: a function of the variable; its result goes to REGULARIZATION_LOSSES,
        built in ``<name>/Regularizer/``.
      trainable: add to TRAINABLE_VARIABLES (default True).
      collections: the collections (default [GLOBAL_VARIABLES]).
      caching_device, use_resource, synchronization, aggregation: accepted for TF's signature.
      partitioner: a function ``(shape, dtype) -> partitions`` (such as
        `fixed_size_partitioner`); the result is then a `PartitionedVariable` of shards
        ``<name>/part_<k>``.
      validate_shape: if False, the variable's static shape is unknown.
      custom_getter: ``getter(getter, name, *args, **kwargs)`` wrapping the creation.
      constraint: stored on the variable.

    Returns:
      The `Variable` (a `PartitionedVariable` with a partitioner).

    Raises:
      ValueError: with TF's messages when the variable exists but reuse is off, is missing
        under reuse=True, has another shape or dtype, or the arguments conflict.
    """
    return get_variable_scope().get_variable(
        _get_default_variable_store(), name, shape=shape, dtype=dtype, initializer=initializer,
        regularizer=regularizer, trainable=trainable, collections=collections,
        caching_device=caching_device, partitioner=partitioner, validate_shape=validate_shape,
        use_resource=use_resource, custom_getter=custom_getter, constraint=constraint,
        synchronization=synchronization, aggregation=aggregation)


def get_local_variable(name, shape=None, dtype=None, initializer=None, regularizer=None,
                       trainable=False, collections=None, caching_device=None,
                       partitioner=None, validate_shape=True, use_resource=None,
                       custom_getter=None, constraint=None,
                       synchronization=VariableSynchronization.AUTO,
                       aggregation=VariableAggregation.NONE):
    """`get_variable` in LOCAL_VARIABLES (plus `collections`), not trainable by default."""
    collections = [GraphKeys.LOCAL_VARIABLES] + list(collections or [])
    return get_variable(name, shape=shape, dtype=dtype, initializer=initializer,
                        regularizer=regularizer, trainable=trainable, collections=collections,
                        caching_device=caching_device, partitioner=partitioner,
                        validate_shape=validate_shape, use_resource=use_resource,
                        custom_getter=custom_getter, constraint=constraint,
                        synchronization=synchronization, aggregation=aggregation)
