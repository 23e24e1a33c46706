"""``tf.train.MonitoredSession`` and ``MonitoredTrainingSession``: a training loop's session,
with initialization, restore from checkpoints, hooks, and input threads.

Design (TF's layering, which users and hooks depend on). A `Scaffold` names the ops that set
a model up (init, ready checks, local init, summaries, a `Saver`) and fills the missing ones
from the graph's collections or TF's defaults in `finalize`, which also finalizes the graph. A
session creator (`ChiefSessionCreator`, `WorkerSessionCreator`) turns a scaffold into a ready
`Session` through `SessionManager`: restored from the latest checkpoint of `checkpoint_dir`,
or initialized. The monitored session wraps that raw session in layers, each with one job:

  _RecoverableSession    re-creates the whole stack after AbortedError / UnavailableError
                         (MonitoredSession only; SingularMonitoredSession skips it)
  _CoordinatedSession    a `Coordinator` for the queue-runner threads; an error a thread
                         reported is raised from the next `run` or `should_stop`
  _HookedSession         merges the hooks' `before_run` fetches and feeds into the caller's
                         one `Session.run` and hands them their results in `after_run`
  Session                the raw session

Each layer's `should_stop` asks the layers below. `close` calls the hooks' `end` (only when no
error is propagating), stops and joins the threads, closes the session and un-finalizes the
graph if it was not finalized before. As a context manager, an `OutOfRangeError` (an input
pipeline ran out) or `StopIteration` (`StepContext.request_stop`) leaving the block ends the
loop cleanly: it is swallowed, as in TF.

`MonitoredTrainingSession` is the one-call form: a chief gets a `ChiefSessionCreator` plus the
standard hooks (`StepCounterHook`, `SummarySaverHook`, `CheckpointSaverHook`) configured from
its arguments, with TF's defaults (checkpoints every 600 s unless steps are given, summaries
every 100 steps).
"""

import inspect
import logging

from sessionlib import errors
from sessionlib.framework import graph as graph_lib
from sessionlib.framework.graph import GraphKeys
from sessionlib.protos import config_pb2
from sessionlib.train import basic_session_run_hooks, session_manager as sm
from sessionlib.train.coordinator import Coordinator
from sessionlib.train.queue_runner import start_queue_runners
from sessionlib.train.session_run_hook import SessionRunArgs, SessionRunContext, SessionRunValues

__all__ = ["Scaffold", "SessionCreator", "ChiefSessionCreator", "WorkerSessionCreator",
           "MonitoredSession", "SingularMonitoredSession", "MonitoredTrainingSession"]

_log = logging.getLogger(__name__)

# Errors after which a MonitoredSession re-creates its session (a worker or PS went away).
_PREEMPTION_ERRORS = (errors.AbortedError, errors.UnavailableError)

# "Not given": TF tells an explicit None from a default for the save intervals.
USE_DEFAULT = object()


# ---- Scaffold ------------------------------------------------------------------------------

class Scaffold:
    """The ops that create, initialize and check a model (``tf.train.Scaffold``).

    Anything not given is filled by `finalize`: from the graph collection of its name
    (``init_op``, ``ready_op``, ``ready_for_local_init_op``, ``local_init_op``,
    ``summary_op``, ``savers``) when that holds one item, else TF's default, which is then added
    to that collection.

    Args:
      init_op: initializes the model when no checkpoint is restored (default: all global
        variables).
      init_feed_dict: feeds for `init_op`.
      init_fn: called as ``init_fn(scaffold, session)`` after `init_op`.
      ready_op: lists what is not ready (default: `report_uninitialized_variables()`).
      ready_for_local_init_op: the check before `local_init_op` (default: the uninitialized
        global variables).
      local_init_op: run in every new session (default: local variables and tables).
      summary_op: the summaries to save (default: `merge_all()`, None without summaries).
      saver: the `Saver` (default: ``Saver(sharded=True, allow_empty=True)``).
      copy_from_scaffold: a `Scaffold` whose fields fill those not given here.
      local_init_feed_dict: feeds for `local_init_op`.

    Raises:
      TypeError: if `copy_from_scaffold` is not a Scaffold.
    """

    def __init__(self, init_op=None, init_feed_dict=None, init_fn=None, ready_op=None,
                 ready_for_local_init_op=None, local_init_op=None, summary_op=None, saver=None,
                 copy_from_scaffold=None, local_init_feed_dict=None):
        if copy_from_scaffold is not None:
            if not isinstance(copy_from_scaffold, Scaffold):
                raise TypeError("copy_from_scaffold is not a Scaffold instance.")

            def coalesce(mine, theirs):
                return mine if mine is not None else theirs

            init_op = coalesce(init_op, copy_from_scaffold.init_op)
            init_feed_dict = coalesce(init_feed_dict, copy_from_scaffold.init_feed_dict)
            # The copied init_fn already takes (scaffold, session): use the user's original.
            init_fn = coalesce(init_fn, copy_from_scaffold._user_init_fn)
            ready_op = coalesce(ready_op, copy_from_scaffold.ready_op)
            ready_for_local_init_op = coalesce(ready_for_local_init_op,
                                               copy_from_scaffold.ready_for_local_init_op)
            local_init_op = coalesce(local_init_op, copy_from_scaffold.local_init_op)
            local_init_feed_dict = coalesce(local_init_feed_dict,
                                            copy_from_scaffold.local_init_feed_dict)
            summary_op = coalesce(summary_op, copy_from_scaffold.summary_op)
            saver = coalesce(saver, copy_from_scaffold.saver)
        self._user_init_fn = init_fn
        # TF passes the scaffold to init_fn, so that it can find the saver.
        self._init_fn = (lambda sess: init_fn(self, sess)) if init_fn else None
        self._init_op = init_op
        self._init_feed_dict = init_feed_dict
        self._ready_op = ready_op
        self._ready_for_local_init_op = ready_for_local_init_op
        self._local_init_op = local_init_op
        self._local_init_feed_dict = local_init_feed_dict
        self._summary_op = summary_op
        self._saver = saver

    def finalize(self):
        """Fills the missing ops (see the class docstring) and finalizes the default graph.

        Returns:
          self.

        Raises:
          RuntimeError: if a collection to take an op from holds more than one item.
        """
        from sessionlib.ops import array_ops, control_flow_ops, variables
        from sessionlib.summary import summary
        from sessionlib.train.saver import Saver

        if self._init_op is None:
            def default_init_op():
                return control_flow_ops.group(variables.global_variables_initializer())

            self._init_op = Scaffold.get_or_default("init_op", GraphKeys.INIT_OP,
                                                    default_init_op)
        if self._ready_op is None:
            def default_ready_op():
                return array_ops.concat([variables.report_uninitialized_variables()], 0)

            self._ready_op = Scaffold.get_or_default("ready_op", GraphKeys.READY_OP,
                                                     default_ready_op)
        if self._ready_for_local_init_op is None:
            def default_ready_for_local_init_op():
                return array_ops.concat([variables.report_uninitialized_variables(
                    variables.global_variables())], 0)

            self._ready_for_local_init_op = Scaffold.get_or_default(
                "ready_for_local_init_op", GraphKeys.READY_FOR_LOCAL_INIT_OP,
                default_ready_for_local_init_op)
        if self._local_init_op is None:
            self._local_init_op = Scaffold.get_or_default(
                "local_init_op", GraphKeys.LOCAL_INIT_OP, Scaffold.default_local_init_op)
        if self._summary_op is None:
            self._summary_op = Scaffold.get_or_default("summary_op", GraphKeys.SUMMARY_OP,
                                                       summary.merge_all)
        if self._saver is None:
            graph = graph_lib.get_default_graph()
            savers = graph.get_collection(GraphKeys.SAVERS)
            if len(savers) > 1:
                raise RuntimeError(f"More than one item in collection {GraphKeys.SAVERS}. "
                                   f"Please indicate which one to use by passing it to the "
                                   f"constructor.")
            if savers:
                self._saver = savers[0]
            else:
                self._saver = Saver(sharded=True, allow_empty=True)
                # A sessionlib Saver files itself under "savers" when it builds; TF's
                # default is added here. Either way it is there once.
                if self._saver not in graph.get_collection(GraphKeys.SAVERS):
                    graph.add_to_collection(GraphKeys.SAVERS, self._saver)
        self._saver.build()
        graph_lib.get_default_graph().finalize()
        _log.info("Graph was finalized.")
        return self

    @property
    def init_fn(self):
        return self._init_fn

    @property
    def init_op(self):
        return self._init_op

    @property
    def ready_op(self):
        return self._ready_op

    @property
    def ready_for_local_init_op(self):
        return self._ready_for_local_init_op

    @property
    def local_init_op(self):
        return self._local_init_op

    @property
    def local_init_feed_dict(self):
        return self._local_init_feed_dict

    @property
    def summary_op(self):
        return self._summary_op

    @property
    def saver(self):
        return self._saver

    @property
    def init_feed_dict(self):
        return self._init_feed_dict

    @staticmethod
    def get_or_default(arg_name, collection_key, default_constructor):
        """The one item of the default graph's collection `collection_key`, or a new default.

        Args:
          arg_name: the Scaffold argument's name (for the error message).
          collection_key: the collection.
          default_constructor: makes the default; a non-None result is added to the
            collection.

        Raises:
          RuntimeError: if the collection holds more than one item.
        """
        graph = graph_lib.get_default_graph()
        elements = graph.get_collection(collection_key)
        if elements:
            if len(elements) > 1:
                raise RuntimeError(f"More than one item in the collection \"{collection_key}\". "
                                   f"Please indicate which one to use by passing it to the "
                                   f"tf.Scaffold constructor as:  "
                                   f"tf.Scaffold({arg_name}=item to use)")
            return elements[0]
        op = default_constructor()
        if op is not None:
            graph.add_to_collection(collection_key, op)
        return op

    @staticmethod
    def default_local_init_op():
        """The default local init op: local variables and table initializers, grouped."""
        from sessionlib.ops import control_flow_ops, variables

        graph = graph_lib.get_default_graph()
        tables = graph.get_collection(GraphKeys.TABLE_INITIALIZERS)
        return control_flow_ops.group(variables.local_variables_initializer(), *tables)


# ---- session creators ----------------------------------------------------------------------

class SessionCreator:
    """Makes a session for a `MonitoredSession` (``tf.train.SessionCreator``)."""

    def create_session(self):
        raise NotImplementedError("create_session is not implemented for "
                                  f"{type(self).__name__}.")


class _ScaffoldSessionCreator(SessionCreator):
    """What the chief's and the workers' session creators share: a scaffold, the session
    target and config, and a `SessionManager` built from the scaffold's ops on first use."""

    def __init__(self, scaffold, master, config):
        self._scaffold = scaffold or Scaffold()
        self._session_manager = None
        self._master = master
        self._config = config

    def _get_session_manager(self):
        if self._session_manager is None:
            self._session_manager = sm.SessionManager(
                local_init_op=self._scaffold.local_init_op,
                local_init_feed_dict=self._scaffold.local_init_feed_dict,
                ready_op=self._scaffold.ready_op,
                ready_for_local_init_op=self._scaffold.ready_for_local_init_op,
                graph=graph_lib.get_default_graph())
        return self._session_manager


class ChiefSessionCreator(_ScaffoldSessionCreator):
    """Creates a session that restores the latest checkpoint or initializes the model
    (``tf.train.ChiefSessionCreator``).

    Args:
      scaffold: the `Scaffold` (default: a new one).
      master: the session target.
      config: the `ConfigProto`.
      checkpoint_dir: a directory to restore the latest checkpoint of.
      checkpoint_filename_with_path: a checkpoint prefix to restore instead.
    """

    def __init__(self, scaffold=None, master="", config=None, checkpoint_dir=None,
                 checkpoint_filename_with_path=None):
        super().__init__(scaffold, master, config)
        self._checkpoint_dir = checkpoint_dir
        self._checkpoint_filename_with_path = checkpoint_filename_with_path

    def create_session(self):
        self._scaffold.finalize()
        return self._get_session_manager().prepare_session(
            self._master, saver=self._scaffold.saver, checkpoint_dir=self._checkpoint_dir,
            checkpoint_filename_with_path=self._checkpoint_filename_with_path,
            config=self._config, init_op=self._scaffold.init_op,
            init_feed_dict=self._scaffold.init_feed_dict, init_fn=self._scaffold.init_fn)


class WorkerSessionCreator(_ScaffoldSessionCreator):
    """Creates a session that waits until the chief made the model ready
    (``tf.train.WorkerSessionCreator``).

    Args:
      scaffold: the `Scaffold` (default: a new one).
      master: the session target.
      config: the `ConfigProto`.
      max_wait_secs: how long to wait for the chief.
    """

    def __init__(self, scaffold=None, master="", config=None, max_wait_secs=30 * 60):
        super().__init__(scaffold, master, config)
        self._max_wait_secs = max_wait_secs

    def create_session(self):
        self._scaffold.finalize()
        return self._get_session_manager().wait_for_session(
            self._master, config=self._config, max_wait_secs=self._max_wait_secs)


# ---- the wrapped sessions ------------------------------------------------------------------

class _WrappedSession:
    """A layer over a session (or another layer); `should_stop` asks the layers below."""

    def __init__(self, sess):
        self._sess = sess
        self._wrapped_is_stoppable = isinstance(sess, _WrappedSession)

    @property
    def graph(self):
        return self._sess.graph

    @property
    def sess_str(self):
        return self._sess.sess_str

    def should_stop(self):
        if self._check_stop():
            return True
        if self._sess:
            return self._wrapped_is_stoppable and self._sess.should_stop()
        return True

    def _check_stop(self):
        raise NotImplementedError

    def close(self):
        if self._sess:
            try:
                self._sess.close()
            except _PREEMPTION_ERRORS as err:
                _log.error("An error occurred when attempting to close the session. This may "
                           "be due to a preemption in a connected worker or parameter server. "
                           "Error: %s", err)
            finally:
                self._sess = None

    def run(self, *args, **kwargs):
        return self._sess.run(*args, **kwargs)

    def run_step_fn(self, step_fn, raw_session, run_with_hooks):
        # From _RecoverableSession, run_with_hooks is the layer below's run; else ours.
        run_with_hooks = run_with_hooks or self.run
        return step_fn(_MonitoredSession.StepContext(raw_session, run_with_hooks))


class _RecoverableSession(_WrappedSession):
    """Re-creates the session (through its creator) after a preemption error, and retries."""

    def __init__(self, sess_creator):
        self._sess_creator = sess_creator
        super().__init__(self._create_session())

    def _create_session(self):
        while True:
            try:
                return self._sess_creator.create_session()
            except _PREEMPTION_ERRORS as err:
                _log.info("An error was raised while a session was being created. This may be "
                          "due to a preemption of a connected worker or parameter server. A new "
                          "session will be created. Error: %s", err)

    def _check_stop(self):
        try:
            if self._sess:
                return self._sess._check_stop()
            return True
        except _PREEMPTION_ERRORS as err:
            _log.info("An error was raised while considering whether the session is complete. "
                      "A new session will be created. Error: %s", err)
            self.close()
            self._sess = self._create_session()
            # The new session has not been asked to stop.
            return False
        except Exception:  # noqa: BLE001 - any other error means: stop (TF's rule)
            return True

    def run(self, fetches, feed_dict=None, options=None, run_metadata=None):
        while True:
            try:
                if not self._sess:
                    self._sess = self._create_session()
                return self._sess.run(fetches, feed_dict=feed_dict, options=options,
                                      run_metadata=run_metadata)
            except _PREEMPTION_ERRORS as err:
                _log.info("An error was raised. The current session will be closed and a new "
                          "session will be created. Error: %s", err)
                self.close()
                self._sess = None

    def run_step_fn(self, step_fn, raw_session, run_with_hooks):
        while True:
            try:
                if not self._sess:
                    self._sess = self._create_session()
                return self._sess.run_step_fn(step_fn, raw_session, self._sess.run)
            except _PREEMPTION_ERRORS as err:
                _log.info("An error was raised. The current session will be closed and a new "
                          "session will be created. Error: %s", err)
                self.close()
                self._sess = None


class _CoordinatedSession(_WrappedSession):
    """Stops and joins the coordinator's threads on close; raises what they reported."""

    def __init__(self, sess, coord, stop_grace_period_secs=120):
        super().__init__(sess)
        self._coord = coord
        self._stop_grace_period_secs = stop_grace_period_secs

    def _check_stop(self):
        # An error a thread reported belongs to the caller.
        self._coord.raise_requested_exception()
        return self._coord.should_stop()

    def close(self):
        self._coord.request_stop()
        try:
            self._coord.join(stop_grace_period_secs=self._stop_grace_period_secs,
                             ignore_live_threads=True)
        finally:
            try:
                super().close()
            except Exception:  # noqa: BLE001 - TF ignores errors closing here
                pass

    def run(self, *args, **kwargs):
        try:
            return self._sess.run(*args, **kwargs)
        except _PREEMPTION_ERRORS:
            raise
        except Exception as original:
            # A thread's preemption error may be the root cause: raise that one instead.
            try:
                self._coord.raise_requested_exception()
            except _PREEMPTION_ERRORS:
                raise
            except Exception:  # noqa: BLE001 - keep the caller's own error
                raise original from None
            raise


class _HookedSession(_WrappedSession):
    """Calls the hooks around each run and merges their fetches, feeds and options into it."""

    def __init__(self, sess, hooks):
        super().__init__(sess)
        self._hooks = hooks
        self._should_stop = False
        self._hook_options_merged = False

    def _check_stop(self):
        return self._should_stop

    def run(self, fetches, feed_dict=None, options=None, run_metadata=None):
        if self.should_stop():
            raise RuntimeError("Run called even after should_stop requested.")
        actual_fetches = {"caller": fetches}
        run_context = SessionRunContext(original_args=SessionRunArgs(fetches, feed_dict),
                                        session=self._sess)
        # Default options ask for nothing: then the session gets none (it skips their checks),
        # while the hooks still see the RunOptions and RunMetadata objects, as in TF.
        pass_protos = options is not None or run_metadata is not None
        options = options or config_pb2.RunOptions()
        self._hook_options_merged = False
        feed_dict = self._call_hook_before_run(run_context, actual_fetches, feed_dict, options)
        pass_protos = pass_protos or self._hook_options_merged
        run_metadata = run_metadata or config_pb2.RunMetadata()
        outputs = super().run(fetches=actual_fetches, feed_dict=feed_dict,
                              options=options if pass_protos else None,
                              run_metadata=run_metadata if pass_protos else None)
        for hook in self._hooks:
            hook.after_run(run_context, SessionRunValues(
                results=outputs[hook] if hook in outputs else None, options=options,
                run_metadata=run_metadata))
        self._should_stop = self._should_stop or run_context.stop_requested
        return outputs["caller"]

    def _call_hook_before_run(self, run_context, fetch_dict, user_feed_dict, options):
        """Adds the hooks' fetches to `fetch_dict` (keyed by hook); returns the merged feeds.

        Raises:
          RuntimeError: if two hooks, or a hook and the caller, feed the same tensor.
        """
        hook_feeds = {}
        for hook in self._hooks:
            request = hook.before_run(run_context)
            if request is None:
                continue
            if request.fetches is not None:
                fetch_dict[hook] = request.fetches
            if request.feed_dict:
                self._raise_if_feeds_intersects(hook_feeds, request.feed_dict,
                                                "Same tensor is fed by two hooks.")
                hook_feeds.update(request.feed_dict)
            if request.options:
                self._merge_run_options(options, request.options)
                self._hook_options_merged = True
        if not hook_feeds:
            return user_feed_dict
        if not user_feed_dict:
            return hook_feeds
        self._raise_if_feeds_intersects(user_feed_dict, hook_feeds,
                                        "Same tensor is fed by a SessionRunHook and user.")
        hook_feeds.update(user_feed_dict)
        return hook_feeds

    @staticmethod
    def _raise_if_feeds_intersects(feeds1, feeds2, message):
        intersection = set(feeds1.keys()) & set(feeds2.keys())
        if intersection:
            raise RuntimeError(f"{message} Conflict(s): {list(intersection)}")

    @staticmethod
    def _merge_run_options(options, incoming):
        """The larger trace level and timeout win; the rest of `incoming` is merged in."""
        options.trace_level = max(options.trace_level, incoming.trace_level)
        options.timeout_in_ms = max(options.timeout_in_ms, incoming.timeout_in_ms)
        for field in ("report_tensor_allocations_upon_oom",):
            if hasattr(options, field) and getattr(incoming, field, False):
                setattr(options, field, True)


# ---- the monitored sessions ----------------------------------------------------------------

class _MonitoredSession:
    """What `MonitoredSession` and `SingularMonitoredSession` share (see the module
    docstring)."""

    def __init__(self, session_creator, hooks, should_recover, stop_grace_period_secs=120):
        self._graph_was_finalized = graph_lib.get_default_graph().finalized
        self._hooks = list(hooks or [])
        for hook in self._hooks:
            hook.begin()
        self._coordinated_creator = self._CoordinatedSessionCreator(
            session_creator=session_creator or ChiefSessionCreator(), hooks=self._hooks,
            stop_grace_period_secs=stop_grace_period_secs)
        if should_recover:
            self._sess = _RecoverableSession(self._coordinated_creator)
        else:
            self._sess = self._coordinated_creator.create_session()

    @property
    def graph(self):
        """The graph of the session."""
        return self._tf_sess().graph

    def run(self, fetches, feed_dict=None, options=None, run_metadata=None):
        """Runs `fetches` as `Session.run` does, with the hooks' fetches and feeds merged in.

        Raises:
          RuntimeError: if a hook requested a stop before (check `should_stop()`), or two
            hooks (or a hook and the caller) feed one tensor.
          OutOfRangeError: when an input runs out (ends a ``with`` block cleanly).
        """
        return self._sess.run(fetches, feed_dict=feed_dict, options=options,
                              run_metadata=run_metadata)

    def run_step_fn(self, step_fn):
        """Runs ``step_fn(step_context)`` with the raw session and a hooked `run`.

        Args:
          step_fn: a function of one argument named ``step_context`` (or a method of
            ``self, step_context``), given a `StepContext`.

        Returns:
          What `step_fn` returns.

        Raises:
          StopIteration: if `step_fn` called ``step_context.request_stop()`` (a ``with``
            block swallows it).
          ValueError: if `step_fn` takes other arguments.
        """
        params = tuple(inspect.signature(step_fn).parameters)
        if inspect.ismethod(step_fn):
            params = ("self",) + params
        if params not in (("step_context",), ("self", "step_context")):
            raise ValueError(f"`step_fn` may either have one `step_context` argument, or "
                             f"`self` and `step_context` arguments if it's an instance method. "
                             f"Got {params} instead.")
        # _RecoverableSession passes its own run_with_hooks; the others use their run.
        return self._sess.run_step_fn(step_fn, self._tf_sess(), run_with_hooks=None)

    class StepContext:
        """What a `step_fn` gets: the raw `session`, `run_with_hooks`, and `request_stop`."""

        def __init__(self, session, run_with_hooks_fn):
            self._session = session
            self._run_with_hooks_fn = run_with_hooks_fn

        @property
        def session(self):
            """The raw `Session` (its runs call no hooks)."""
            return self._session

        def run_with_hooks(self, *args, **kwargs):
            """Runs as `MonitoredSession.run` does, hooks included."""
            return self._run_with_hooks_fn(*args, **kwargs)

        def request_stop(self):
            """Ends the training loop: raises StopIteration, which a ``with`` swallows."""
            raise StopIteration("step_fn has requested the iterations to stop.")

    def should_stop(self):
        """Whether the loop should end: a hook or a thread asked to, or the session is closed.

        Raises:
          What a queue-runner thread reported to the coordinator.
        """
        return self._sess is None or self._sess.should_stop()

    def close(self):
        """Calls the hooks' `end`, stops the threads and closes the session.

        Raises:
          RuntimeError: if the session is already closed.
        """
        self._close_internal()

    def __enter__(self):
        return self

    def __exit__(self, exception_type, exception_value, traceback):
        if exception_type in (errors.OutOfRangeError, StopIteration):
            exception_type = None
        self._close_internal(exception_type)
        # True swallows the exception: the clean ends above.
        return exception_type is None

    class _CoordinatedSessionCreator(SessionCreator):
        """Creates the raw session, starts its threads, tells the hooks, and wraps it."""

        def __init__(self, session_creator, hooks, stop_grace_period_secs):
            self._session_creator = session_creator
            self._hooks = hooks
            self.coord = None
            self.tf_sess = None
            self._stop_grace_period_secs = stop_grace_period_secs

        def create_session(self):
            self.tf_sess = self._session_creator.create_session()
            # No clean-stop types: the coordinator reports every exception to the caller.
            self.coord = Coordinator(clean_stop_exception_types=[])
            if graph_lib.get_default_graph().get_collection(GraphKeys.QUEUE_RUNNERS):
                start_queue_runners(sess=self.tf_sess, coord=self.coord)
            for hook in self._hooks:
                hook.after_create_session(self.tf_sess, self.coord)
            return _CoordinatedSession(_HookedSession(self.tf_sess, self._hooks), self.coord,
                                       self._stop_grace_period_secs)

    def _close_internal(self, exception_type=None):
        try:
            if not exception_type:
                for hook in self._hooks:
                    hook.end(self._coordinated_creator.tf_sess)
        finally:
            try:
                if self._sess is None:
                    raise RuntimeError("Session is already closed.")
                self._sess.close()
            finally:
                self._sess = None
                self._coordinated_creator.tf_sess = None
                self._coordinated_creator.coord = None
                if not self._graph_was_finalized:
                    graph_lib.get_default_graph()._unsafe_unfinalize()

    def _is_closed(self):
        return self._sess is None

    def _tf_sess(self):
        return self._coordinated_creator.tf_sess


class MonitoredSession(_MonitoredSession):
    """A session that initializes or restores the model, runs hooks, and recovers from
    preemption errors (``tf.train.MonitoredSession``).

    Usage::

        with tf.train.MonitoredSession(session_creator=ChiefSessionCreator(...),
                                       hooks=[...]) as sess:
            while not sess.should_stop():
                sess.run(train_op)

    Args:
      session_creator: a `SessionCreator` (default: a `ChiefSessionCreator`).
      hooks: `SessionRunHook`s.
      stop_grace_period_secs: how long `close` waits for the input threads.
    """

    def __init__(self, session_creator=None, hooks=None, stop_grace_period_secs=120):
        super().__init__(session_creator, hooks, should_recover=True,
                         stop_grace_period_secs=stop_grace_period_secs)


class SingularMonitoredSession(_MonitoredSession):
    """A chief's monitored session without recovery, which gives access to the raw session
    (``tf.train.SingularMonitoredSession``).

    Args:
      hooks: `SessionRunHook`s.
      scaffold: the `Scaffold`.
      master: the session target.
      config: the `ConfigProto`.
      checkpoint_dir: a directory to restore the latest checkpoint of.
      stop_grace_period_secs: how long `close` waits for the input threads.
      checkpoint_filename_with_path: a checkpoint prefix to restore instead.
    """

    def __init__(self, hooks=None, scaffold=None, master="", config=None, checkpoint_dir=None,
                 stop_grace_period_secs=120, checkpoint_filename_with_path=None):
        session_creator = ChiefSessionCreator(
            scaffold=scaffold, master=master, config=config, checkpoint_dir=checkpoint_dir,
            checkpoint_filename_with_path=checkpoint_filename_with_path)
        super().__init__(session_creator, hooks, should_recover=False,
                         stop_grace_period_secs=stop_grace_period_secs)

    def raw_session(self):
        """The underlying `Session` (its runs call no hooks).

        Raises:
          RuntimeError: if the session is closed.
        """
        if self._is_closed():
            raise RuntimeError("Session is closed")
        return self._tf_sess()


def MonitoredTrainingSession(master="", is_chief=True, checkpoint_dir=None, scaffold=None,  # noqa: N802 - TF's name
                             hooks=None, chief_only_hooks=None, save_checkpoint_secs=USE_DEFAULT,
                             save_summaries_steps=USE_DEFAULT, save_summaries_secs=USE_DEFAULT,
                             config=None, stop_grace_period_secs=120, log_step_count_steps=100,
                             max_wait_secs=7200, save_checkpoint_steps=USE_DEFAULT,
                             summary_dir=None, save_graph_def=True):
    """A `MonitoredSession` set up for training (``tf.train.MonitoredTrainingSession``).

    For the chief: restores the latest checkpoint of `checkpoint_dir` (or initializes), and
    adds a `StepCounterHook` (``global_step/sec`` every `log_step_count_steps` steps), a
    `SummarySaverHook` (to `summary_dir`, default `checkpoint_dir`) and a
    `CheckpointSaverHook`, besides `chief_only_hooks` and `hooks`. A worker gets only `hooks`
    and waits for the chief.

    Intervals (TF's rules): with neither `save_checkpoint_secs` nor `save_checkpoint_steps`
    given, checkpoints are saved every 600 seconds; giving one leaves the other off. Likewise
    summaries default to every 100 steps. None or 0 turns a hook off.

    Args:
      master: the session target.
      is_chief: whether this process initializes the model and writes checkpoints.
      checkpoint_dir: where checkpoints are restored from and saved to.
      scaffold: the `Scaffold`.
      hooks: `SessionRunHook`s for every process.
      chief_only_hooks: hooks for the chief only.
      save_checkpoint_secs: save a checkpoint every this many seconds.
      save_summaries_steps: save summaries every this many global steps.
      save_summaries_secs: save summaries every this many seconds.
      config: the `ConfigProto`.
      stop_grace_period_secs: how long `close` waits for the input threads.
      log_step_count_steps: log ``global_step/sec`` every this many global steps.
      max_wait_secs: how long a worker waits for the chief.
      save_checkpoint_steps: save a checkpoint every this many global steps.
      summary_dir: where the summaries go (default: `checkpoint_dir`).
      save_graph_def: write the graph and ``.meta`` files with the checkpoints.

    Returns:
      A `MonitoredSession`.
    """
    if save_summaries_steps is USE_DEFAULT and save_summaries_secs is USE_DEFAULT:
        save_summaries_steps, save_summaries_secs = 100, None
    elif save_summaries_secs is USE_DEFAULT:
        save_summaries_secs = None
    elif save_summaries_steps is USE_DEFAULT:
        save_summaries_steps = None
    if save_checkpoint_steps is USE_DEFAULT and save_checkpoint_secs is USE_DEFAULT:
        save_checkpoint_steps, save_checkpoint_secs = None, 600
    elif save_checkpoint_secs is USE_DEFAULT:
        save_checkpoint_secs = None
    elif save_checkpoint_steps is USE_DEFAULT:
        save_checkpoint_steps = None

    scaffold = scaffold or Scaffold()
    if not is_chief:
        session_creator = WorkerSessionCreator(scaffold=scaffold, master=master, config=config,
                                               max_wait_secs=max_wait_secs)
        return MonitoredSession(session_creator=session_creator, hooks=hooks or [],
                                stop_grace_period_secs=stop_grace_period_secs)

    all_hooks = list(chief_only_hooks or [])
    session_creator = ChiefSessionCreator(scaffold=scaffold, checkpoint_dir=checkpoint_dir,
                                          master=master, config=config)
    summary_dir = summary_dir or checkpoint_dir
    if summary_dir:
        if log_step_count_steps and log_step_count_steps > 0:
            all_hooks.append(basic_session_run_hooks.StepCounterHook(
                output_dir=summary_dir, every_n_steps=log_step_count_steps))
        if ((save_summaries_steps and save_summaries_steps > 0)
                or (save_summaries_secs and save_summaries_secs > 0)):
            all_hooks.append(basic_session_run_hooks.SummarySaverHook(
                scaffold=scaffold, save_steps=save_summaries_steps,
                save_secs=save_summaries_secs, output_dir=summary_dir))
    if checkpoint_dir:
        if ((save_checkpoint_secs and save_checkpoint_secs > 0)
                or (save_checkpoint_steps and save_checkpoint_steps > 0)):
            all_hooks.append(basic_session_run_hooks.CheckpointSaverHook(
                checkpoint_dir, save_steps=save_checkpoint_steps,
                save_secs=save_checkpoint_secs, scaffold=scaffold,
                save_graph_def=save_graph_def))
    all_hooks.extend(hooks or [])
    return MonitoredSession(session_creator=session_creator, hooks=all_hooks,
                            stop_grace_period_secs=stop_grace_period_secs)

