"""``tf.train.SessionRunHook`` and the values it exchanges with a `MonitoredSession`.

Design (TF's contract, unchanged): a hook is a plain object with five callbacks that a
`MonitoredSession` calls in a fixed order: `begin` once, before the graph is finalized (so a hook
may still add ops); `after_create_session` each time a session is created (and restored);
`before_run` / `after_run` around every `MonitoredSession.run`; `end` once, when the session
closes without an error. `before_run` returns a `SessionRunArgs` of extra fetches and feeds,
which the monitored session merges into the caller's single `Session.run`, so a hook costs no
extra step; the hook's results come back in `SessionRunValues.results`. A hook stops training
through `SessionRunContext.request_stop`. Nothing here runs anything.
"""

import collections

__all__ = ["SessionRunHook", "SessionRunArgs", "SessionRunContext", "SessionRunValues"]


class SessionRunHook:
    """A hook that extends calls to `MonitoredSession.run` (``tf.train.SessionRunHook``).

    Every method is optional; the defaults do nothing.
    """

    def begin(self):
        """Called once before the session is created; the graph may still change here."""

    def after_create_session(self, session, coord):
        """Called when a session was created (and initialized or restored).

        Args:
          session: the raw `Session`; running ops here does not call other hooks.
          coord: the `Coordinator` of the session's threads.
        """

    def before_run(self, run_context):
        """Called before each `run`.

        Args:
          run_context: a `SessionRunContext`.

        Returns:
          None, or a `SessionRunArgs` of fetches and feeds to add to the run.
        """
        return None

    def after_run(self, run_context, run_values):
        """Called after each successful `run`.

        Args:
          run_context: the `SessionRunContext` that `before_run` saw.
          run_values: a `SessionRunValues`; its `results` are the values of what `before_run`
            asked for (None when it asked for nothing).
        """

    def end(self, session):
        """Called when the monitored session closes without an error.

        Args:
          session: the raw `Session`, still open.
        """


class SessionRunArgs(collections.namedtuple("SessionRunArgs",
                                            ["fetches", "feed_dict", "options"])):
    """What a hook adds to a run (``tf.train.SessionRunArgs``).

    Args:
      fetches: a fetch structure, as `Session.run` takes it (None: nothing).
      feed_dict: feeds to add (they may not collide with the caller's or another hook's).
      options: a `RunOptions` merged into the run's (the larger trace level and timeout win).
    """

    def __new__(cls, fetches, feed_dict=None, options=None):
        return super().__new__(cls, fetches, feed_dict, options)


class SessionRunContext:
    """The context of one `MonitoredSession.run`, shared by its hooks
    (``tf.train.SessionRunContext``).

    Args:
      original_args: the caller's `SessionRunArgs` (fetches and feeds).
      session: the session the run goes to.
    """

    def __init__(self, original_args, session):
        self._original_args = original_args
        self._session = session
        self._stop_requested = False

    @property
    def original_args(self):
        """The caller's `SessionRunArgs`."""
        return self._original_args

    @property
    def session(self):
        """The session; a hook may run ops in it (without calling hooks)."""
        return self._session

    @property
    def stop_requested(self):
        """Whether a hook asked to stop."""
        return self._stop_requested

    def request_stop(self):
        """Asks to stop: the monitored session's `should_stop()` becomes True after this run."""
        self._stop_requested = True


class SessionRunValues(collections.namedtuple("SessionRunValues",
                                              ["results", "options", "run_metadata"])):
    """What a run returned to one hook (``tf.train.SessionRunValues``).

    Attributes:
      results: the values of the hook's `SessionRunArgs.fetches`, in their structure.
      options: the `RunOptions` the run used (merged from every hook's).
      run_metadata: the run's `RunMetadata`.
    """
