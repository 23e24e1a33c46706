"""``tf.contrib.framework``: the global-step helper that TF 1 tutorials import from here,
``arg_scope`` and its decorator, contrib's variable creators (``variable``, ``model_variable``,
both arg-scoped as in TF 1) and variable queries (by scope, suffix and name), and
``assign_from_checkpoint_fn``."""

import functools

from sessionlib import dtypes
from sessionlib.contrib._arg_scope import (add_arg_scope, arg_scope, arg_scope_func_key,
                                           arg_scoped_arguments, current_arg_scope,
                                           has_arg_scope)
from sessionlib.framework import graph as graph_lib
from sessionlib.framework.graph import GraphKeys
from sessionlib.ops import variable_scope as vs
from sessionlib.train.training_util import get_or_create_global_step

__all__ = ["arg_scope", "add_arg_scope", "current_arg_scope", "has_arg_scope",
           "arg_scoped_arguments", "arg_scope_func_key", "variable", "model_variable",
           "add_model_variable", "assign_from_checkpoint_fn", "get_or_create_global_step",
           "get_variables", "get_model_variables", "get_trainable_variables",
           "get_local_variables", "get_variables_by_name", "get_variables_by_suffix",
           "get_unique_variable", "get_variables_to_restore"]


def __getattr__(name):
    from sessionlib import contrib

    raise contrib.unsupported(f"framework.{name}")


@add_arg_scope
def variable(name, shape=None, dtype=None, initializer=None, regularizer=None, trainable=True,
             collections=None, caching_device=None, device=None, partitioner=None,
             custom_getter=None, use_resource=None,
             synchronization=vs.VariableSynchronization.AUTO,
             aggregation=vs.VariableAggregation.NONE):
    """contrib's ``variable``: ``tf.get_variable`` in the current variable scope, on `device`,
    in `collections` (default GLOBAL_VARIABLES).

    Args:
      name: the variable's name within the current variable scope.
      shape, dtype, initializer, regularizer, trainable, caching_device, partitioner,
        use_resource, synchronization, aggregation: as ``tf.get_variable``.
      collections: the collections to add it to (default ``[GLOBAL_VARIABLES]``).
      device: the device to place it on (the enclosing one if None or empty).
      custom_getter: a function to make the variable instead of ``tf.get_variable``,
        called as it would be (``(name, shape=..., ...)``) plus ``reuse=`` the current
        scope's reuse (contrib's rule, unlike a variable scope's custom getter).

    Returns:
      The variable, new or reused.
    """
    keys = list(dict.fromkeys(collections if collections is not None
                              else [GraphKeys.GLOBAL_VARIABLES]))
    getter = vs.get_variable
    if custom_getter is not None:
        getter = functools.partial(custom_getter, reuse=vs.get_variable_scope().reuse)
    with graph_lib.device(device or ""):
        return getter(name, shape=shape, dtype=dtype, initializer=initializer,
                      regularizer=regularizer, trainable=trainable, collections=keys,
                      caching_device=caching_device, partitioner=partitioner,
                      use_resource=use_resource, synchronization=synchronization,
                      aggregation=aggregation)


@add_arg_scope
def model_variable(name, shape=None, dtype=dtypes.float32, initializer=None,
                   regularizer=None, trainable=True, collections=None, caching_device=None,
                   device=None, partitioner=None, custom_getter=None, use_resource=None,
                   synchronization=vs.VariableSynchronization.AUTO,
                   aggregation=vs.VariableAggregation.NONE):
    """contrib's ``model_variable``: a `variable` also in MODEL_VARIABLES (the collection
    that ``get_model_variables`` and slim's checkpoint helpers read). The contrib layers make
    their weights with it, so ``arg_scope([model_variable], device=...)`` places them.

    Args:
      name, shape, dtype (default float32), initializer, regularizer, trainable,
        caching_device, device, partitioner, custom_getter, use_resource, synchronization,
        aggregation: as `variable`.
      collections: extra collections besides GLOBAL_VARIABLES and MODEL_VARIABLES.

    Returns:
      The variable, new or reused.
    """
    keys = list(collections or []) + [GraphKeys.GLOBAL_VARIABLES, GraphKeys.MODEL_VARIABLES]
    return variable(name, shape=shape, dtype=dtype, initializer=initializer,
                    regularizer=regularizer, trainable=trainable, collections=keys,
                    caching_device=caching_device, device=device, partitioner=partitioner,
                    custom_getter=custom_getter, use_resource=use_resource,
                    synchronization=synchronization, aggregation=aggregation)


def add_model_variable(var):
    """Adds `var` to MODEL_VARIABLES of the default graph, unless it is there already.

    Args:
      var: a variable.
    """
    if not any(var is known for known in graph_lib.get_collection(GraphKeys.MODEL_VARIABLES)):
        graph_lib.get_default_graph().add_to_collection(GraphKeys.MODEL_VARIABLES, var)


def assign_from_checkpoint_fn(model_path, var_list, ignore_missing_vars=False,
                              reshape_variables=False):
    """A function ``fn(session)`` that restores `var_list` from the checkpoint `model_path`
    (slim's way to warm-start a model, e.g. as ``Scaffold(init_fn=...)``).

    Args:
      model_path: a checkpoint prefix.
      var_list: a list of variables, or a dict from names in the checkpoint to variables.
      ignore_missing_vars: skip the variables the checkpoint lacks (else restoring fails).
      reshape_variables: restore a saved value of another shape with the same element count.

    Returns:
      ``callback(session)``, or None when `ignore_missing_vars` left nothing to restore.

    Raises:
      ValueError: if `var_list` is empty.
    """
    from sessionlib.train import checkpoint_utils, saver as saver_lib

    if not var_list:
        raise ValueError("var_list cannot be empty")
    if ignore_missing_vars:
        reader = checkpoint_utils.NewCheckpointReader(model_path)
        if isinstance(var_list, dict):
            var_list = {name: var for name, var in var_list.items()
                        if reader.has_tensor(name)}
        else:
            var_list = [var for var in var_list if reader.has_tensor(var.op.name)]
        if not var_list:
            return None
    saver = saver_lib.Saver(var_list, reshape=reshape_variables)

    def callback(session):
        saver.restore(session, model_path)

    return callback


def get_variables(scope=None, suffix=None, collection=GraphKeys.GLOBAL_VARIABLES):
    """The variables of `collection` whose names start with `scope` and end with `suffix`.

    Args:
      scope: a scope name (a regular expression matched at the start of a variable's name)
        or a VariableScope.
      suffix: the end of the variable's op name (``'weights'`` matches ``'fc/weights:0'``).
      collection: the collection to search (default GLOBAL_VARIABLES).

    Returns:
      A list of variables, in the collection's order.
    """
    scope = getattr(scope, "name", scope)
    if suffix is not None:
        if ":" not in suffix:
            suffix += ":"
        scope = (scope or "") + ".*" + suffix
    return graph_lib.get_collection(collection, scope)


def get_model_variables(scope=None, suffix=None):
    """`get_variables` of MODEL_VARIABLES."""
    return get_variables(scope, suffix, GraphKeys.MODEL_VARIABLES)


def get_trainable_variables(scope=None, suffix=None):
    """`get_variables` of TRAINABLE_VARIABLES."""
    return get_variables(scope, suffix, GraphKeys.TRAINABLE_VARIABLES)


def get_local_variables(scope=None, suffix=None):
    """`get_variables` of LOCAL_VARIABLES."""
    return get_variables(scope, suffix, GraphKeys.LOCAL_VARIABLES)


def get_variables_by_suffix(suffix, scope=None):
    """The global variables whose op names end with `suffix`."""
    return get_variables(scope=scope, suffix=suffix)


def get_variables_by_name(given_name, scope=None):
    """The global variables named exactly `given_name` in some scope (``'w'`` matches
    ``'w:0'`` and ``'a/w:0'``, not ``'a/bw:0'``)."""
    return get_variables(scope=scope, suffix=f"/{given_name}:|^{given_name}:")


def get_unique_variable(var_op_name):
    """The global variable whose op name is `var_op_name`.

    Raises:
      ValueError: if no variable, or none exactly, has that name.
    """
    candidates = get_variables(scope=var_op_name)
    if not candidates:
        raise ValueError(f"Couldn't find variable {var_op_name}")
    for candidate in candidates:
        if candidate.op.name == var_op_name:
            return candidate
    raise ValueError(f"Variable {var_op_name} does not uniquely identify a variable")


def get_variables_to_restore(include=None, exclude=None):
    """The global variables under the scopes of `include` (default all) and under none of
    `exclude`.

    Raises:
      TypeError: if `include` or `exclude` is given and is not a list or tuple.
    """
    if include is None:
        chosen = get_variables()
    else:
        if not isinstance(include, (list, tuple)):
            raise TypeError("include is provided but is not a list or a tuple.")
        chosen = [v for scope in include for v in get_variables(scope)]
    excluded = set()
    if exclude is not None:
        if not isinstance(exclude, (list, tuple)):
            raise TypeError("exclude is provided but is not a list or a tuple.")
        excluded = {id(v) for scope in exclude for v in get_variables(scope)}
    return [v for v in chosen if id(v) not in excluded]
