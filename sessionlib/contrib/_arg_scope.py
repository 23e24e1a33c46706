"""contrib's ``arg_scope``: default keyword arguments for chosen functions, set once for a
block of model code.

    with arg_scope([conv2d, fully_connected], weights_regularizer=l2_regularizer(5e-4)):
        net = conv2d(images, 64, [3, 3], scope='conv1')   # gets the regularizer

A function takes part only once `add_arg_scope` has wrapped it. A scope is a dict from a
function's key (`arg_scope_func_key`) to its default keyword arguments; the innermost scope
holds everything the enclosing ones set, so a saved scope (``with arg_scope(...) as sc``) can be
re-entered later with ``with arg_scope(sc):``. Arguments given explicitly at a call win over the
scope's.

As in TF 1, the stack of scopes is one per process (not per graph or thread): model code builds
in one thread, and a scope saved while building one graph applies to the next.
"""

import contextlib
import functools
import inspect

__all__ = ["arg_scope", "add_arg_scope", "current_arg_scope", "has_arg_scope",
           "arg_scoped_arguments", "arg_scope_func_key"]

# The scopes entered, innermost last; the bottom one (empty) is never popped.
_SCOPE_STACK = [{}]

# The key of every decorated function -> the names of its keyword arguments.
_DECORATED = {}


def arg_scope_func_key(func):
    """The key under which a scope stores `func`'s defaults.

    A decorated function and the function it wraps share one key, so either may be named in
    `arg_scope`.

    Args:
      func: a function, decorated or not.

    Returns:
      A string.
    """
    return getattr(func, "_key_op", str(func))


def current_arg_scope():
    """The innermost scope: a dict from function keys to their default keyword arguments.

    Returns:
      The dict itself (entering it again with ``arg_scope(scope)`` re-applies it).
    """
    return _SCOPE_STACK[-1]


def _keyword_names(func):
    """The names of `func`'s arguments that have defaults, in order."""
    parameters = inspect.signature(func).parameters.values()
    return tuple(p.name for p in parameters
                 if p.default is not inspect.Parameter.empty
                 and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))


def _describe(func):
    return f"{getattr(func, '__module__', '?')}.{getattr(func, '__name__', repr(func))}"


@contextlib.contextmanager
def arg_scope(list_ops_or_scope, **kwargs):
    """Sets default keyword arguments of the given functions inside the block.

    Args:
      list_ops_or_scope: a list or tuple of functions decorated with `add_arg_scope`, or a
        scope dict saved from an earlier ``with arg_scope(...) as scope`` (re-entered as it
        was, on top of nothing that encloses the new block).
      **kwargs: the defaults for every function in the list (merged over those an enclosing
        scope set for it). Must be empty when re-entering a saved scope.

    Yields:
      The new scope, a dict from function keys (`arg_scope_func_key`) to their defaults.

    Raises:
      ValueError: for keyword arguments given with a saved scope, or a function in the list
        that is not decorated with `add_arg_scope`.
      TypeError: if `list_ops_or_scope` is neither a list/tuple nor a dict.
    """
    if isinstance(list_ops_or_scope, dict):
        if kwargs:
            raise ValueError("When attempting to re-use a scope by supplying a dictionary, "
                             "kwargs must be empty.")
        scope = dict(list_ops_or_scope)
    else:
        if not isinstance(list_ops_or_scope, (list, tuple)):
            raise TypeError("list_ops_or_scope must either be a list/tuple or reused scope "
                            f"(i.e. dict), got {type(list_ops_or_scope).__name__}")
        scope = dict(current_arg_scope())
        for func in list_ops_or_scope:
            if not has_arg_scope(func):
                raise ValueError(f"{_describe(func)} is not decorated with @add_arg_scope")
            key = arg_scope_func_key(func)
            # Copy, never update in place: the enclosing scope keeps its own defaults.
            scope[key] = {**scope.get(key, {}), **kwargs}
    _SCOPE_STACK.append(scope)
    try:
        yield scope
    finally:
        _SCOPE_STACK.pop()


def add_arg_scope(func):
    """Makes `func` take its default keyword arguments from the enclosing `arg_scope`s.

    Args:
      func: the function to decorate.

    Returns:
      A function with `func`'s name, docstring and signature that calls ``func(*args,
      **{**scope_defaults, **kwargs})``.
    """
    key = arg_scope_func_key(func)

    @functools.wraps(func)
    def func_with_args(*args, **kwargs):
        defaults = current_arg_scope().get(key)
        if defaults:
            kwargs = {**defaults, **kwargs}
        return func(*args, **kwargs)

    _DECORATED[key] = _keyword_names(func)
    func_with_args._key_op = key
    return func_with_args


def has_arg_scope(func):
    """Whether `func` (or the function it wraps) is decorated with `add_arg_scope`.

    Args:
      func: a function.

    Returns:
      A bool.
    """
    return arg_scope_func_key(func) in _DECORATED


def arg_scoped_arguments(func):
    """The keyword arguments (those with defaults) that an `arg_scope` can set for `func`.

    Args:
      func: a function decorated with `add_arg_scope`.

    Returns:
      A tuple of argument names.

    Raises:
      ValueError: if `func` is not decorated.
    """
    if not has_arg_scope(func):
        raise ValueError(f"{_describe(func)} is not decorated with @add_arg_scope")
    return _DECORATED[arg_scope_func_key(func)]
