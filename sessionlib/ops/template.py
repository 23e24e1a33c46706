"""``tf.make_template``: a function whose variables are created on the first call and shared
by every later call.

The first call opens a variable scope (``name``, made unique: ``name_1`` ...) and runs the
function in it; later calls re-enter that same variable scope with ``reuse=True`` under a new
name scope, so their ops are ``name_1/...``, ``name_2/...`` while ``tf.get_variable`` returns
the first call's variables. A later call that would create a variable fails, as in TF.
"""

import functools

from sessionlib.framework import graph as graph_lib
from sessionlib.ops import variable_scope as vs

__all__ = ["Template", "make_template"]


class Template:
    """A function wrapped so that its `tf.get_variable` variables are shared across calls.

    Made by `make_template`; see there for the arguments.
    """

    def __init__(self, name, func, create_scope_now=False, unique_name=None,
                 custom_getter=None):
        self._name = name
        self._func = func
        self._unique_name = unique_name
        self._custom_getter = custom_getter
        self._variable_scope = None
        self._variables_created = False
        if create_scope_now:
            with vs.variable_scope(unique_name, default_name=name,
                                   custom_getter=custom_getter) as scope:
                self._variable_scope = scope

    def _call_function(self, args, kwargs):
        graph = graph_lib.get_default_graph()
        before = len(graph.get_collection(graph_lib.GraphKeys.TRAINABLE_VARIABLES))
        result = self._func(*args, **kwargs)
        created = len(graph.get_collection(graph_lib.GraphKeys.TRAINABLE_VARIABLES)) - before
        if self._variables_created and created:
            raise ValueError(f"Trainable variable created when calling a template after the "
                             f"first time, perhaps you used tf.Variable when you meant "
                             f"tf.get_variable: template {self._name!r} made {created}")
        self._variables_created = True
        return result

    def __call__(self, *args, **kwargs):
        if self._variable_scope is None:
            with vs.variable_scope(self._unique_name, default_name=self._name,
                                   custom_getter=self._custom_getter) as scope:
                self._variable_scope = scope
                return self._call_function(args, kwargs)
        # A scope made at construction is entered afresh on the first call; every later call
        # reuses its variables.
        with vs.variable_scope(self._variable_scope, reuse=self._variables_created or None,
                               custom_getter=self._custom_getter):
            return self._call_function(args, kwargs)

    @property
    def name(self):
        """The name given to `make_template`."""
        return self._name

    @property
    def func(self):
        """The wrapped function (with the keyword arguments of `make_template` bound)."""
        return self._func

    @property
    def variable_scope(self):
        """The template's `VariableScope`, or None before it exists (before the first call)."""
        return self._variable_scope

    @property
    def variable_scope_name(self):
        """The variable scope's name with a trailing '/', or None before it exists."""
        if self._variable_scope is None:
            return None
        return self._variable_scope.name + "/"

    var_scope = variable_scope

    def _collection(self, key):
        if self._variable_scope is None:
            return []
        return graph_lib.get_default_graph().get_collection(key,
                                                            scope=self.variable_scope_name)

    @property
    def global_variables(self):
        """The template's global variables."""
        return self._collection(graph_lib.GraphKeys.GLOBAL_VARIABLES)

    variables = global_variables

    @property
    def trainable_variables(self):
        """The template's trainable variables."""
        return self._collection(graph_lib.GraphKeys.TRAINABLE_VARIABLES)

    @property
    def non_trainable_variables(self):
        """The template's global variables that are not trainable."""
        trainable = set(map(id, self.trainable_variables))
        return [v for v in self.global_variables if id(v) not in trainable]

    @property
    def local_variables(self):
        """The template's local variables."""
        return self._collection(graph_lib.GraphKeys.LOCAL_VARIABLES)


def make_template(name_, func_, create_scope_now_=False, unique_name_=None,
                  custom_getter_=None, **kwargs):
    """Wraps `func_` so that every call shares the variables the first call creates.

    Args:
      name_: the variable scope's name (made unique when taken).
      func_: the function; it must create its variables with `tf.get_variable`.
      create_scope_now_: open the variable scope now rather than at the first call.
      unique_name_: an exact variable scope name to use instead of a unique `name_`.
      custom_getter_: a custom getter for the template's variable scope.
      **kwargs: keyword arguments bound to `func_`.

    Returns:
      A `Template`, called like `func_`.

    Raises:
      TypeError: if `func_` is not callable.
    """
    if not callable(func_):
        raise TypeError(f"make_template needs a callable, got {func_!r}")
    if kwargs:
        func_ = functools.partial(func_, **kwargs)
    return Template(name_, func_, create_scope_now=create_scope_now_, unique_name=unique_name_,
                    custom_getter=custom_getter_)
