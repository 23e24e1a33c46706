"""The per-thread default session, and the `eval`/`run` helpers of tensors and operations.

`Tensor.eval()`, `Operation.run()` and `Variable.load()` need a session without the graph model
knowing what a session is. So, as in TF, the stack of default sessions lives here, in the
framework: `Session.as_default()` pushes onto it, and the graph model only calls ``run`` on
whatever object is on top. This module must never import the client: it knows sessions only
as objects with a ``graph`` attribute and a ``run`` method.
"""

import threading

__all__ = ["default_session_scope", "get_default_session", "eval_using_default_session",
           "run_using_default_session"]


class _DefaultSessionState(threading.local):
    """The default-session stack of one thread (each thread starts without a default)."""

    def __init__(self):
        self.stack = []


_default_sessions = _DefaultSessionState()


class default_session_scope:  # noqa: N801 - a context manager, used like a function
    """Makes `session` the default session of the current thread inside a ``with`` block.

    `Session.as_default()` returns one. Leaving the block removes this entry even when nested
    blocks exit out of order, and does not close the session.

    Args:
      session: the session to make the default.
    """

    def __init__(self, session):
        self._session = session

    def __enter__(self):
        _default_sessions.stack.append(self._session)
        return self._session

    def __exit__(self, *exc):
        stack = _default_sessions.stack
        for i in range(len(stack) - 1, -1, -1):
            if stack[i] is self._session:
                del stack[i]
                break
        return False


def get_default_session():
    """The default session of the current thread.

    Returns:
      The innermost session made the default with `as_default()` (or a ``with`` block), or
      None when there is none.
    """
    stack = _default_sessions.stack
    return stack[-1] if stack else None


def _session_for(graph, session, what):
    """`session`, or the default session when it is None, checked to run `graph`.

    Raises:
      ValueError: if there is no session, or it runs another graph.
    """
    if session is None:
        session = get_default_session()
        if session is None:
            raise ValueError(f"Cannot {what} using `{'eval' if 'eval' in what else 'run'}()`: "
                             "No default session is registered. Use `with sess.as_default()` "
                             "or pass an explicit session.")
    if session.graph is not graph:
        raise ValueError(f"Cannot use the given session to {what}: the graph is different "
                         "from the session's graph.")
    return session


def eval_using_default_session(tensors, feed_dict, graph, session=None):
    """Runs `tensors` of `graph` in `session` (default: the default session).

    Args:
      tensors: what to fetch (a tensor, or anything `Session.run` fetches).
      feed_dict: the feeds, or None.
      graph: the graph `tensors` belong to.
      session: the session to use, or None for the default session.

    Returns:
      The fetched value(s).

    Raises:
      ValueError: if there is no session, or it runs another graph.
    """
    session = _session_for(graph, session, "evaluate tensor")
    return session.run(tensors, feed_dict)


def run_using_default_session(operation, feed_dict, graph, session=None):
    """Runs `operation` of `graph` in `session` (default: the default session).

    Args:
      operation: the operation to run.
      feed_dict: the feeds, or None.
      graph: the graph `operation` belongs to.
      session: the session to use, or None for the default session.

    Raises:
      ValueError: if there is no session, or it runs another graph.
    """
    session = _session_for(graph, session, "execute operation")
    session.run(operation, feed_dict)
