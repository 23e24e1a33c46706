"""``tf.contrib.framework``: the global-step helper that TF 1 tutorials import from here, and
contrib's variable queries (by scope, suffix and name), which are collection look-ups."""

from sessionlib.framework import graph as graph_lib
from sessionlib.framework.graph import GraphKeys
from sessionlib.train.training_util import get_or_create_global_step

__all__ = ["get_or_create_global_step", "get_variables", "get_model_variables",
           "get_trainable_variables", "get_local_variables", "get_variables_by_name",
           "get_variables_by_suffix", "get_unique_variable", "get_variables_to_restore"]


def __getattr__(name):
    from sessionlib import contrib

    raise contrib.unsupported(f"framework.{name}")


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
