"""``tf.train.SessionManager``: a session that is initialized, or restored, and ready.

Design (TF's): the manager creates a `Session` and brings the model to a ready state in one of
two ways. `prepare_session` (the chief) restores the latest checkpoint of `checkpoint_dir` when
there is one and otherwise runs the init op and init function; then it runs the local init op
(once `ready_for_local_init_op` reports nothing missing) and checks `ready_op`. "Ready" means a
ready op's value is empty: the ops of `report_uninitialized_variables` list the names of the
variables still uninitialized. `wait_for_session` (a worker) only runs the local init op and
polls until another process made the model ready. `recover_session` tries the checkpoint only.

The manager knows nothing about hooks or threads; `MonitoredSession` (``monitored_session.py``)
wraps the session it returns.
"""

import logging
import time

import numpy as np

from sessionlib import errors
from sessionlib.client import session as session_lib
from sessionlib.framework import graph as graph_lib
from sessionlib.train import checkpoint_management

__all__ = ["SessionManager"]

_log = logging.getLogger(__name__)


def _maybe_name(obj):
    """The name of `obj` when it has one, else its repr (for messages)."""
    if obj is None:
        return "None"
    return getattr(obj, "name", repr(obj))


def _ready(op, sess, msg):
    """Runs the ready op `op`; returns ``(ready, message)``.

    Returns:
      ``(True, None)`` when `op` is None or its value is empty (or int32, TF's old convention),
      else ``(False, "Variables not initialized: a, b")``.

    Raises:
      FailedPreconditionError: when running `op` fails for another reason than an
        uninitialized value.
    """
    if op is None:
        return True, None
    try:
        value = sess.run(op)
    except errors.FailedPreconditionError as err:
        if "uninitialized" not in str(err):
            _log.warning("%s : error [%s]", msg, err)
            raise
        return False, str(err)
    if value is None or value.dtype == np.int32 or value.size == 0:
        return True, None
    names = ", ".join(v.decode("utf-8") if isinstance(v, bytes) else str(v)
                      for v in np.ravel(value))
    return False, "Variables not initialized: " + names


class SessionManager:
    """Creates sessions and brings their model to a ready state (``tf.train.SessionManager``).

    Args:
      local_init_op: an op run in every new session once `ready_for_local_init_op` passes
        (local variables, tables).
      ready_op: a 1-D string tensor naming what is not ready (empty: ready), or None.
      ready_for_local_init_op: the same check, made before running `local_init_op`.
      graph: the graph the sessions run (default: the default graph).
      recovery_wait_secs: the interval of the polls for a checkpoint or a ready model.
      local_init_run_options: `RunOptions` for the local init op.
      local_init_feed_dict: feeds for the local init op.

    Raises:
      ValueError: if `ready_for_local_init_op` is given without `local_init_op`.
    """

    def __init__(self, local_init_op=None, ready_op=None, ready_for_local_init_op=None,
                 graph=None, recovery_wait_secs=30, local_init_run_options=None,
                 local_init_feed_dict=None):
        if graph is None:
            graph = graph_lib.get_default_graph()
        self._local_init_op = local_init_op
        self._ready_op = ready_op
        self._ready_for_local_init_op = ready_for_local_init_op
        self._graph = graph
        self._recovery_wait_secs = recovery_wait_secs
        self._target = None
        self._local_init_run_options = local_init_run_options
        self._local_init_feed_dict = local_init_feed_dict
        if ready_for_local_init_op is not None and local_init_op is None:
            raise ValueError(f"If you pass a ready_for_local_init_op you must also pass a "
                             f"local_init_op , ready_for_local_init_op [{ready_for_local_init_op}]")

    # ---- the session, restored when a checkpoint exists -----------------------------------

    def _restore_checkpoint(self, master, saver=None, checkpoint_dir=None,
                            checkpoint_filename_with_path=None, wait_for_checkpoint=False,
                            max_wait_secs=7200, config=None):
        """A new session, and whether a checkpoint was restored into it."""
        self._target = master
        sess = session_lib.Session(self._target, graph=self._graph, config=config)
        if checkpoint_dir and checkpoint_filename_with_path:
            sess.close()
            raise ValueError("Can not provide both checkpoint_dir and "
                             "checkpoint_filename_with_path.")
        if not saver or not (checkpoint_dir or checkpoint_filename_with_path):
            return sess, False
        if checkpoint_filename_with_path:
            saver.restore(sess, checkpoint_filename_with_path)
            return sess, True
        waited = 0
        state = checkpoint_management.get_checkpoint_state(checkpoint_dir)
        while not state or not state.model_checkpoint_path:
            if not (wait_for_checkpoint and waited < max_wait_secs):
                return sess, False
            _log.info("Waiting for checkpoint to be available.")
            time.sleep(self._recovery_wait_secs)
            waited += self._recovery_wait_secs
            state = checkpoint_management.get_checkpoint_state(checkpoint_dir)
        saver.restore(sess, state.model_checkpoint_path)
        # Keep max_to_keep counting the checkpoints of the earlier run.
        saver.recover_last_checkpoints(list(state.all_model_checkpoint_paths))
        return sess, True

    def prepare_session(self, master, init_op=None, saver=None, checkpoint_dir=None,
                        checkpoint_filename_with_path=None, wait_for_checkpoint=False,
                        max_wait_secs=7200, config=None, init_feed_dict=None, init_fn=None):
        """Creates a session and makes the model ready: restored, or initialized.

        Args:
          master: the session target ('' for in-process).
          init_op: run when nothing was restored.
          saver: the `Saver` that restores the checkpoint.
          checkpoint_dir: a directory whose latest checkpoint is restored, if it has one.
          checkpoint_filename_with_path: a checkpoint prefix to restore instead.
          wait_for_checkpoint: wait up to `max_wait_secs` for a checkpoint to appear.
          max_wait_secs: see `wait_for_checkpoint`.
          config: the session's `ConfigProto`.
          init_feed_dict: feeds for `init_op`.
          init_fn: called as ``init_fn(sess)`` after `init_op` when nothing was restored.

        Returns:
          The `Session`.

        Raises:
          RuntimeError: if nothing could initialize the model, or the model is not ready after
            the init and local init ops.
          ValueError: if both `checkpoint_dir` and `checkpoint_filename_with_path` are given.
        """
        sess, restored = self._restore_checkpoint(
            master, saver, checkpoint_dir=checkpoint_dir,
            checkpoint_filename_with_path=checkpoint_filename_with_path,
            wait_for_checkpoint=wait_for_checkpoint, max_wait_secs=max_wait_secs, config=config)
        try:
            if not restored:
                if init_op is None and not init_fn and self._local_init_op is None:
                    raise RuntimeError("Model is not initialized and no init_op or init_fn or "
                                       "local_init_op was given")
                if init_op is not None:
                    sess.run(init_op, feed_dict=init_feed_dict)
                if init_fn:
                    init_fn(sess)
            ok, msg = self._try_run_local_init_op(sess)
            if not ok:
                raise RuntimeError(f"Init operations did not make model ready for local_init.  "
                                   f"Init op: {_maybe_name(init_op)}, init fn: {init_fn}, "
                                   f"error: {msg}")
            ready, msg = self._model_ready(sess)
            if not ready:
                raise RuntimeError(f"Init operations did not make model ready.  Init op: "
                                   f"{_maybe_name(init_op)}, init fn: {init_fn}, local_init_op: "
                                   f"{self._local_init_op}, error: {msg}")
        except BaseException:
            sess.close()
            raise
        return sess

    def recover_session(self, master, saver=None, checkpoint_dir=None,
                        checkpoint_filename_with_path=None, wait_for_checkpoint=False,
                        max_wait_secs=7200, config=None):
        """Creates a session and restores the model from a checkpoint if it can.

        Returns:
          ``(sess, initialized)``: `initialized` is True when a checkpoint was restored and the
          model is ready.

        Raises:
          ValueError: if both `checkpoint_dir` and `checkpoint_filename_with_path` are given.
        """
        sess, restored = self._restore_checkpoint(
            master, saver, checkpoint_dir=checkpoint_dir,
            checkpoint_filename_with_path=checkpoint_filename_with_path,
            wait_for_checkpoint=wait_for_checkpoint, max_wait_secs=max_wait_secs, config=config)
        ok, msg = self._try_run_local_init_op(sess)
        if not restored:
            return sess, False
        source = checkpoint_dir or checkpoint_filename_with_path
        if not ok:
            _log.info("Restoring model from %s did not make model ready for local init: %s",
                      source, msg)
            return sess, False
        ready, msg = self._model_ready(sess)
        if not ready:
            _log.info("Restoring model from %s did not make model ready: %s", source, msg)
            return sess, False
        _log.info("Restored model from %s", source)
        return sess, True

    def wait_for_session(self, master, config=None, max_wait_secs=float("Inf")):
        """Creates sessions until one finds the model ready (made so by another process).

        Args:
          master: the session target.
          config: the sessions' `ConfigProto`.
          max_wait_secs: how long to keep trying (None: forever).

        Returns:
          The ready `Session`.

        Raises:
          DeadlineExceededError: if the model is not ready within `max_wait_secs`.
        """
        self._target = master
        if max_wait_secs is None:
            max_wait_secs = float("Inf")
        deadline = time.monotonic() + max_wait_secs
        while True:
            sess = session_lib.Session(self._target, graph=self._graph, config=config)
            not_ready_msg = None
            ok, not_ready_local_msg = self._try_run_local_init_op(sess)
            if ok:
                ready, not_ready_msg = self._model_ready(sess)
                if ready:
                    return sess
            sess.close()
            if deadline - time.monotonic() - self._recovery_wait_secs < 0:
                raise errors.DeadlineExceededError(
                    None, None,
                    f"Session was not ready after waiting {max_wait_secs} secs.")
            _log.info("Waiting for model to be ready.  Ready_for_local_init_op:  %s, ready: %s",
                      not_ready_local_msg, not_ready_msg)
            time.sleep(self._recovery_wait_secs)

    # ---- readiness --------------------------------------------------------------------------

    def _model_ready(self, sess):
        return _ready(self._ready_op, sess, "Model not ready")

    def _model_ready_for_local_init(self, sess):
        return _ready(self._ready_for_local_init_op, sess, "Model not ready for local init")

    def _try_run_local_init_op(self, sess):
        """Runs the local init op once the model is ready for it; returns ``(ok, message)``."""
        if self._local_init_op is None:
            return True, None
        ready, msg = self._model_ready_for_local_init(sess)
        if not ready:
            return False, msg
        _log.info("Running local_init_op.")
        sess.run(self._local_init_op, feed_dict=self._local_init_feed_dict,
                 options=self._local_init_run_options)
        _log.info("Done running local_init_op.")
        return True, None
