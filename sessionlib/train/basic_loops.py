"""``tf.train.basic_train_loop``: the simplest loop over a supervisor's managed session."""

from sessionlib import errors

__all__ = ["basic_train_loop"]


def basic_train_loop(supervisor, train_step_fn, args=None, kwargs=None, master=""):
    """Calls `train_step_fn` until the supervisor says stop, restarting after an abort.

    Args:
      supervisor: an object with TF's ``Supervisor`` interface: ``managed_session(master)``
        (a context manager yielding a Session) and ``should_stop()``.
      train_step_fn: called as ``train_step_fn(session, *args, **kwargs)`` once per step.
      args: the extra positional arguments of `train_step_fn`.
      kwargs: its keyword arguments.
      master: the target passed to ``managed_session``.
    """
    args = list(args or [])
    kwargs = dict(kwargs or {})
    while True:
        try:
            with supervisor.managed_session(master) as session:
                while not supervisor.should_stop():
                    train_step_fn(session, *args, **kwargs)
            return
        except errors.AbortedError:
            # An aborted step means a server of the cluster restarted: start a new session.
            continue
