"""TF's basic `SessionRunHook`s: stop at a step, save checkpoints and summaries, log tensors,
count steps per second, trace steps, check for NaN, run final ops, feed inputs.

Design. Every hook follows TF's protocol (``session_run_hook.py``): it asks for what it needs
in `before_run` (usually the global step's read tensor, ``global_step/add:0``, shared by all
hooks through ``training_util._get_or_create_global_step_read``), so its fetches ride in the
caller's run. The global step fetched in a run is *stale*: the train op may or may not have
incremented it yet. A hook that must act at an exact step therefore reads the step once more
(a second, cheap run) only when the stale value says the step may have come; this is TF's
scheme and keeps the common step at one run.

When a hook acts is decided by a `SecondOrStepTimer` (every N steps or every N seconds, first at
the first step it sees). Summary writers come from `SummaryWriterCache` (one `FileWriter` per
directory, shared by the hooks that write there). Logging goes to Python's `logging`, logger
``sessionlib.train.basic_session_run_hooks`` (TF logs through absl).
"""

import logging
import os
import time
import warnings

import numpy as np

from sessionlib import errors
from sessionlib.framework import graph as graph_lib
from sessionlib.framework.graph import GraphKeys
from sessionlib.protos import config_pb2, event_pb2, summary_pb2
from sessionlib.summary.writer import FileWriterCache
from sessionlib.train import training_util
from sessionlib.train.session_run_hook import SessionRunArgs, SessionRunHook

__all__ = ["SecondOrStepTimer", "LoggingTensorHook", "StopAtStepHook", "CheckpointSaverListener",
           "CheckpointSaverHook", "StepCounterHook", "NanLossDuringTrainingError",
           "NanTensorHook", "SummarySaverHook", "ProfilerHook", "GlobalStepWaiterHook",
           "FinalOpsHook", "FeedFnHook", "SummaryWriterCache"]

_log = logging.getLogger(__name__)

# TF's name for the per-directory writer cache in tf.train (`summary_io.SummaryWriterCache`).
SummaryWriterCache = FileWriterCache


def _cached_writer(logdir):
    """`SummaryWriterCache.get(logdir)`: the per-directory writer, with the default graph."""
    return SummaryWriterCache.get(logdir)


def _global_step_read(hook_name):
    """The global step's shared read tensor.

    Raises:
      RuntimeError: if the default graph has no global step.
    """
    read = training_util._get_or_create_global_step_read()
    if read is None:
        raise RuntimeError(f"Global step should be created to use {hook_name}.")
    return read


# ---- timers --------------------------------------------------------------------------------

class _HookTimer:
    """When a hook triggers: `should_trigger_for_step`, then `update_last_triggered_step`."""

    def reset(self):
        """Forgets the last trigger."""

    def should_trigger_for_step(self, step):
        raise NotImplementedError

    def update_last_triggered_step(self, step):
        raise NotImplementedError

    def last_triggered_step(self):
        raise NotImplementedError


class SecondOrStepTimer(_HookTimer):
    """Triggers every `every_secs` seconds or every `every_steps` steps, and at the first step
    it is asked about (``tf.train.SecondOrStepTimer``).

    Raises:
      ValueError: unless exactly one of `every_secs` and `every_steps` is given.
    """

    def __init__(self, every_secs=None, every_steps=None):
        self.reset()
        self._every_secs = every_secs
        self._every_steps = every_steps
        if every_secs is None and every_steps is None:
            raise ValueError("Either every_secs or every_steps should be provided.")
        if every_secs is not None and every_steps is not None:
            raise ValueError("Can not provide both every_secs and every_steps.")

    def reset(self):
        self._last_triggered_step = None
        self._last_triggered_time = None

    def should_trigger_for_step(self, step):
        """Whether to trigger at `step`: never twice at one step."""
        if self._last_triggered_step is None:
            return True
        if self._last_triggered_step == step:
            return False
        if self._every_secs is not None and time.time() >= (self._last_triggered_time
                                                            + self._every_secs):
            return True
        if self._every_steps is not None and step >= (self._last_triggered_step
                                                      + self._every_steps):
            return True
        return False

    def update_last_triggered_step(self, step):
        """Records a trigger at `step`.

        Returns:
          ``(elapsed_secs, elapsed_steps)`` since the previous trigger (None, None at the
          first).
        """
        now = time.time()
        if self._last_triggered_time is None:
            elapsed = (None, None)
        else:
            elapsed = (now - self._last_triggered_time, step - self._last_triggered_step)
        self._last_triggered_time = now
        self._last_triggered_step = step
        return elapsed

    def last_triggered_step(self):
        return self._last_triggered_step


class NeverTriggerTimer(_HookTimer):
    """A timer that never triggers (LoggingTensorHook with only `at_end`)."""

    def should_trigger_for_step(self, step):
        return False

    def update_last_triggered_step(self, step):
        return (None, None)

    def last_triggered_step(self):
        return None


# ---- logging tensors -----------------------------------------------------------------------

def _as_graph_element(obj):
    """`obj` (a tensor, op or name) as an element of the default graph.

    Raises:
      ValueError: if `obj` belongs to another graph, or a bare op name has several outputs.
    """
    graph = graph_lib.get_default_graph()
    if not isinstance(obj, str):
        if getattr(obj, "graph", None) is not graph:
            raise ValueError(f"Passed {obj} should have graph attribute that is equal to "
                             f"current graph {graph}.")
        return obj
    if ":" in obj:
        return graph.as_graph_element(obj)
    element = graph.as_graph_element(obj + ":0")
    try:
        graph.as_graph_element(obj + ":1")
    except (KeyError, ValueError):
        return element
    raise ValueError(f"Name {obj} is ambiguous, as this `Operation` has multiple outputs "
                     f"(at least 2).")


class LoggingTensorHook(SessionRunHook):
    """Logs the values of tensors every N steps, every N seconds, and/or at the end
    (``tf.train.LoggingTensorHook``).

    The line is ``"tag1 = value1, tag2 = value2 (0.123 sec)"`` at INFO level, or
    ``formatter(values)`` when a formatter is given.

    Args:
      tensors: a dict ``tag -> tensor or name`` (logged sorted by tag), or a list of tensors or
        names (logged in that order, each under its own name).
      every_n_iter: log every this many runs of the monitored session.
      every_n_secs: log at most every this many seconds.
      at_end: also log at the end (one extra run).
      formatter: a function from the dict ``tag -> value`` to a string.

    Raises:
      ValueError: unless `at_end` alone, or exactly one of `every_n_iter` and `every_n_secs`,
        is given; or if `every_n_iter` is not positive.
    """

    def __init__(self, tensors, every_n_iter=None, every_n_secs=None, at_end=False,
                 formatter=None):
        only_at_end = at_end and every_n_iter is None and every_n_secs is None
        if not only_at_end and (every_n_iter is None) == (every_n_secs is None):
            raise ValueError("either at_end and/or exactly one of every_n_iter and "
                             "every_n_secs must be provided.")
        if every_n_iter is not None and every_n_iter <= 0:
            raise ValueError(f"invalid every_n_iter={every_n_iter}.")
        if not isinstance(tensors, dict):
            self._tag_order = list(tensors)
            tensors = {item: item for item in tensors}
        else:
            self._tag_order = sorted(tensors.keys())
        self._tensors = tensors
        self._formatter = formatter
        self._timer = (NeverTriggerTimer() if only_at_end
                       else SecondOrStepTimer(every_secs=every_n_secs, every_steps=every_n_iter))
        self._log_at_end = at_end

    def begin(self):
        self._timer.reset()
        self._iter_count = 0
        self._current_tensors = {tag: _as_graph_element(tensor)
                                 for tag, tensor in self._tensors.items()}

    def before_run(self, run_context):
        self._should_trigger = self._timer.should_trigger_for_step(self._iter_count)
        if self._should_trigger:
            return SessionRunArgs(self._current_tensors)
        return None

    def _log_tensors(self, tensor_values):
        elapsed_secs, _ = self._timer.update_last_triggered_step(self._iter_count)
        if self._formatter:
            _log.info(self._formatter(tensor_values))
            return
        # str(), not format(): a numpy float32 formats as its float64 expansion.
        with np.printoptions(suppress=True):
            stats = ", ".join("%s = %s" % (tag, tensor_values[tag]) for tag in self._tag_order)
        if elapsed_secs is not None:
            _log.info("%s (%.3f sec)", stats, elapsed_secs)
        else:
            _log.info("%s", stats)

    def after_run(self, run_context, run_values):
        if self._should_trigger:
            self._log_tensors(run_values.results)
        self._iter_count += 1

    def end(self, session):
        if self._log_at_end:
            self._log_tensors(session.run(self._current_tensors))


# ---- stopping ------------------------------------------------------------------------------

class StopAtStepHook(SessionRunHook):
    """Requests a stop once the global step reaches `last_step` (``tf.train.StopAtStepHook``).

    Args:
      num_steps: stop after this many more steps than the global step at session creation.
      last_step: stop when the global step is at least this.

    Raises:
      ValueError: unless exactly one of the two is given.
    """

    def __init__(self, num_steps=None, last_step=None):
        if num_steps is None and last_step is None:
            raise ValueError("One of num_steps or last_step must be specified.")
        if num_steps is not None and last_step is not None:
            raise ValueError("Only one of num_steps or last_step can be specified.")
        self._num_steps = num_steps
        self._last_step = last_step

    @property
    def last_step(self):
        """The step to stop at (known once the session exists, with `num_steps`)."""
        return self._last_step

    def begin(self):
        self._global_step_tensor = _global_step_read("StopAtStepHook")

    def after_create_session(self, session, coord):
        if self._last_step is None:
            self._last_step = int(session.run(self._global_step_tensor)) + self._num_steps

    def before_run(self, run_context):
        return SessionRunArgs(self._global_step_tensor)

    def after_run(self, run_context, run_values):
        # The fetched step may predate this run's increment: check the real one when close.
        if run_values.results + 1 >= self._last_step:
            step = run_context.session.run(self._global_step_tensor)
            if step >= self._last_step:
                run_context.request_stop()


class NanLossDuringTrainingError(RuntimeError):
    """Raised by `NanTensorHook` (``tf.train.NanLossDuringTrainingError``)."""

    def __str__(self):
        return "NaN loss during training."


class NanTensorHook(SessionRunHook):
    """Stops training, or fails, when the loss is NaN (``tf.train.NanTensorHook``).

    Args:
      loss_tensor: the loss tensor.
      fail_on_nan_loss: raise `NanLossDuringTrainingError` (True) or only request a stop.
    """

    def __init__(self, loss_tensor, fail_on_nan_loss=True):
        self._loss_tensor = loss_tensor
        self._fail_on_nan_loss = fail_on_nan_loss

    def before_run(self, run_context):
        return SessionRunArgs(self._loss_tensor)

    def after_run(self, run_context, run_values):
        if np.isnan(run_values.results):
            message = "Model diverged with loss = NaN."
            if self._fail_on_nan_loss:
                _log.error(message)
                raise NanLossDuringTrainingError
            _log.warning(message)
            run_context.request_stop()


class GlobalStepWaiterHook(SessionRunHook):
    """Delays the first step until the global step reaches `wait_until_step` (a worker that
    starts after the chief trained a while; ``tf.train.GlobalStepWaiterHook``)."""

    def __init__(self, wait_until_step):
        self._wait_until_step = wait_until_step

    def begin(self):
        self._worker_is_started = False
        self._global_step_tensor = _global_step_read("_GlobalStepWaiterHook")

    def before_run(self, run_context):
        if self._worker_is_started:
            return None
        if self._wait_until_step <= 0:
            self._worker_is_started = True
            return None
        _log.info("Waiting for global step %d before starting training.", self._wait_until_step)
        last_logged_step = 0
        while True:
            current_step = run_context.session.run(self._global_step_tensor)
            if current_step >= self._wait_until_step:
                self._worker_is_started = True
                return None
            if current_step - last_logged_step > 1000:
                _log.info("Waiting for global step %d before starting training. Current step "
                          "is %d.", self._wait_until_step, current_step)
                last_logged_step = current_step
            time.sleep(0.5)


# ---- checkpoints ---------------------------------------------------------------------------

class CheckpointSaverListener:
    """Called by `CheckpointSaverHook` around each save (``tf.train.CheckpointSaverListener``).

    `after_save` may return True to request a stop of the training.
    """

    def begin(self):
        pass

    def before_save(self, session, global_step_value):
        pass

    def after_save(self, session, global_step_value):
        pass

    def end(self, session, global_step_value):
        pass


class CheckpointSaverHook(SessionRunHook):
    """Saves a checkpoint every N steps or seconds, at session creation and at the end
    (``tf.train.CheckpointSaverHook``).

    It also writes ``graph.pbtxt`` and the graph (and meta graph, when the exporter exists) to
    the directory's event file, and a ``SessionLog.CHECKPOINT`` event per save.

    Args:
      checkpoint_dir: where the checkpoints go.
      save_secs: save every this many seconds.
      save_steps: save every this many global steps.
      saver: the `Saver` (default: the scaffold's, or the one in the ``savers`` collection).
      checkpoint_basename: the checkpoints' prefix in `checkpoint_dir`.
      scaffold: a `Scaffold` whose saver to use.
      listeners: `CheckpointSaverListener`s.
      save_graph_def: write the graph, and ``.meta`` files with the checkpoints.

    Raises:
      ValueError: if both `saver` and `scaffold` are given, or not exactly one of `save_secs`
        and `save_steps`.
    """

    def __init__(self, checkpoint_dir, save_secs=None, save_steps=None, saver=None,
                 checkpoint_basename="model.ckpt", scaffold=None, listeners=None,
                 save_graph_def=True):
        _log.info("Create CheckpointSaverHook.")
        if saver is not None and scaffold is not None:
            raise ValueError("You cannot provide both saver and scaffold.")
        self._saver = saver
        self._checkpoint_dir = checkpoint_dir
        self._save_path = os.path.join(checkpoint_dir, checkpoint_basename)
        self._scaffold = scaffold
        self._timer = SecondOrStepTimer(every_secs=save_secs, every_steps=save_steps)
        self._listeners = listeners or []
        # Large by default, so that a stale step never skips the check of the real step.
        self._steps_per_run = 1000000
        self._save_graph_def = save_graph_def

    def _set_steps_per_run(self, steps_per_run):
        self._steps_per_run = steps_per_run

    def begin(self):
        self._summary_writer = _cached_writer(self._checkpoint_dir)
        self._global_step_tensor = _global_step_read("CheckpointSaverHook")
        for listener in self._listeners:
            listener.begin()

    def after_create_session(self, session, coord):
        global_step = int(session.run(self._global_step_tensor))
        if self._save_graph_def:
            # Here, not in begin: other hooks may add ops in their begin.
            self._write_graph()
        # The checkpoint saved here is the state at step `global_step`.
        self._save(session, global_step)
        self._timer.update_last_triggered_step(global_step)

    def _write_graph(self):
        from sessionlib import train
        from sessionlib.framework.graph_io import write_graph

        graph = graph_lib.get_default_graph()
        graph_def = graph.as_graph_def(add_shapes=True)
        write_graph(graph_def, self._checkpoint_dir, "graph.pbtxt")
        with warnings.catch_warnings():
            # The cached writer wrote the graph of `begin` time; this later one (with the
            # scaffold's ops) is meant to replace it, as in TF: no "more than one graph" noise.
            warnings.simplefilter("ignore", UserWarning)
            self._summary_writer.add_graph(graph)
        exporter = getattr(train, "export_meta_graph", None)
        saver = self._get_saver()
        if exporter is not None:
            meta_graph_def = exporter(saver_def=saver.saver_def if saver else None,
                                      graph=graph)
            self._summary_writer.add_meta_graph(meta_graph_def)

    def before_run(self, run_context):
        return SessionRunArgs(self._global_step_tensor)

    def after_run(self, run_context, run_values):
        stale_global_step = run_values.results
        if self._timer.should_trigger_for_step(stale_global_step + self._steps_per_run):
            global_step = int(run_context.session.run(self._global_step_tensor))
            if self._timer.should_trigger_for_step(global_step):
                self._timer.update_last_triggered_step(global_step)
                if self._save(run_context.session, global_step):
                    run_context.request_stop()

    def end(self, session):
        last_step = int(session.run(self._global_step_tensor))
        if last_step != self._timer.last_triggered_step():
            self._save(session, last_step)
        for listener in self._listeners:
            listener.end(session, last_step)
        # Not in TF: flush, so that the last CHECKPOINT event is on disk when training ends.
        self._summary_writer.flush()

    def _save(self, session, step):
        """Saves at `step`; returns whether a listener asked to stop."""
        _log.info("Calling checkpoint listeners before saving checkpoint %d...", step)
        for listener in self._listeners:
            listener.before_save(session, step)
        _log.info("Saving checkpoints for %d into %s.", step, self._save_path)
        self._get_saver().save(session, self._save_path, global_step=step,
                               write_meta_graph=self._save_graph_def)
        self._summary_writer.add_session_log(
            event_pb2.SessionLog(status=event_pb2.SessionLog.CHECKPOINT,
                                 checkpoint_path=self._save_path), step)
        _log.info("Calling checkpoint listeners after saving checkpoint %d...", step)
        should_stop = False
        for listener in self._listeners:
            if listener.after_save(session, step):
                _log.info("A CheckpointSaverListener requested that training be stopped. "
                          "listener: %s", listener)
                should_stop = True
        return should_stop

    def _get_saver(self):
        if self._saver is not None:
            return self._saver
        if self._scaffold is not None:
            return self._scaffold.saver
        savers = graph_lib.get_default_graph().get_collection(GraphKeys.SAVERS)
        if not savers:
            raise RuntimeError(f"No items in collection {GraphKeys.SAVERS}. Please add a saver "
                               f"to the collection or provide a saver or scaffold.")
        if len(savers) > 1:
            raise RuntimeError(f"More than one item in collection {GraphKeys.SAVERS}. Please "
                               f"indicate which one to use by passing it to the constructor.")
        self._saver = savers[0]
        return self._saver


# ---- steps per second and summaries --------------------------------------------------------

class StepCounterHook(SessionRunHook):
    """Logs and records the training speed, ``global_step/sec`` (``tf.train.StepCounterHook``).

    Every `every_n_steps` global steps (or `every_n_secs` seconds) it logs
    ``"global_step/sec: X"`` and, with a writer, adds a scalar summary of that tag. The first
    trigger only starts the clock.

    Args:
      every_n_steps: measure every this many global steps.
      every_n_secs: or every this many seconds.
      output_dir: a directory whose cached `FileWriter` gets the summaries.
      summary_writer: a `FileWriter` to use instead.

    Raises:
      ValueError: unless exactly one of `every_n_steps` and `every_n_secs` is given.
    """

    def __init__(self, every_n_steps=100, every_n_secs=None, output_dir=None,
                 summary_writer=None):
        if (every_n_steps is None) == (every_n_secs is None):
            raise ValueError("exactly one of every_n_steps and every_n_secs should be "
                             "provided.")
        self._timer = SecondOrStepTimer(every_steps=every_n_steps, every_secs=every_n_secs)
        self._summary_writer = summary_writer
        self._output_dir = output_dir
        self._last_global_step = None
        self._steps_per_run = 1
        self._warnings_left = 5

    def _set_steps_per_run(self, steps_per_run):
        self._steps_per_run = steps_per_run

    def begin(self):
        if self._summary_writer is None and self._output_dir:
            self._summary_writer = _cached_writer(self._output_dir)
        self._global_step_tensor = _global_step_read("StepCounterHook")
        self._summary_tag = training_util.get_global_step().op.name + "/sec"

    def before_run(self, run_context):
        return SessionRunArgs(self._global_step_tensor)

    def _log_and_record(self, elapsed_steps, elapsed_time, global_step):
        steps_per_sec = elapsed_steps / elapsed_time
        if self._summary_writer is not None:
            summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(
                tag=self._summary_tag, simple_value=steps_per_sec)])
            self._summary_writer.add_summary(summary, global_step)
        _log.info("%s: %g", self._summary_tag, steps_per_sec)

    def after_run(self, run_context, run_values):
        stale_global_step = run_values.results
        if self._timer.should_trigger_for_step(stale_global_step + self._steps_per_run):
            global_step = int(run_context.session.run(self._global_step_tensor))
            if self._timer.should_trigger_for_step(global_step):
                elapsed_time, elapsed_steps = self._timer.update_last_triggered_step(
                    global_step)
                # A zero interval (a coarse clock) has no rate to report.
                if elapsed_time is not None and elapsed_time > 0:
                    self._log_and_record(elapsed_steps, elapsed_time, global_step)
        if stale_global_step == self._last_global_step and self._warnings_left > 0:
            # Some optimizers do not increment the step every run; warn only a few times.
            self._warnings_left -= 1
            _log.warning("It seems that global step (tf.train.get_global_step) has not been "
                         "increased. Current value (could be stable): %s vs previous value: "
                         "%s. You could increase the global step by passing "
                         "tf.train.get_global_step() to Optimizer.apply_gradients or "
                         "Optimizer.minimize.", stale_global_step, self._last_global_step)
        self._last_global_step = stale_global_step

    def end(self, session):
        # Not in TF: flush, so that the rate is on disk when the training ends (the cached
        # writer would otherwise wait up to flush_secs).
        if self._summary_writer is not None:
            self._summary_writer.flush()


class SummarySaverHook(SessionRunHook):
    """Saves summaries every N steps or seconds (``tf.train.SummarySaverHook``).

    The first run also writes a ``SessionLog.START`` event.

    Args:
      save_steps: save every this many global steps.
      save_secs: or every this many seconds.
      output_dir: a directory whose cached `FileWriter` gets the summaries.
      summary_writer: a `FileWriter` to use instead.
      scaffold: a `Scaffold` whose `summary_op` to run.
      summary_op: a summary tensor (or a list of them) to run instead.

    Raises:
      ValueError: unless exactly one of `scaffold` and `summary_op` is given, or exactly one
        of `save_steps` and `save_secs`.
    """

    def __init__(self, save_steps=None, save_secs=None, output_dir=None, summary_writer=None,
                 scaffold=None, summary_op=None):
        if (scaffold is None) == (summary_op is None):
            raise ValueError("Exactly one of scaffold or summary_op must be provided.")
        self._summary_op = summary_op
        self._summary_writer = summary_writer
        self._output_dir = output_dir
        self._scaffold = scaffold
        self._timer = SecondOrStepTimer(every_secs=save_secs, every_steps=save_steps)

    def begin(self):
        if self._summary_writer is None and self._output_dir:
            self._summary_writer = _cached_writer(self._output_dir)
        self._next_step = None
        self._global_step_tensor = _global_step_read("SummarySaverHook")

    def before_run(self, run_context):
        self._request_summary = (self._next_step is None
                                 or self._timer.should_trigger_for_step(self._next_step))
        requests = {"global_step": self._global_step_tensor}
        if self._request_summary:
            summary_op = self._get_summary_op()
            if summary_op is not None:
                requests["summary"] = summary_op
        return SessionRunArgs(requests)

    def after_run(self, run_context, run_values):
        if not self._summary_writer:
            return
        global_step = run_values.results["global_step"] + 1
        if self._next_step is None or self._request_summary:
            global_step = int(run_context.session.run(self._global_step_tensor))
        if self._next_step is None:
            self._summary_writer.add_session_log(
                event_pb2.SessionLog(status=event_pb2.SessionLog.START), global_step)
        if self._request_summary:
            self._timer.update_last_triggered_step(global_step)
            for summary in run_values.results.get("summary", ()):
                self._summary_writer.add_summary(summary, global_step)
        self._next_step = global_step + 1

    def end(self, session=None):
        if self._summary_writer:
            self._summary_writer.flush()

    def _get_summary_op(self):
        """The summary tensors to run, as a list, or None."""
        summary_op = self._summary_op
        if summary_op is None:
            summary_op = self._scaffold.summary_op
        if summary_op is None:
            return None
        return summary_op if isinstance(summary_op, list) else [summary_op]


# ---- traces of steps -------------------------------------------------------------------------

class ProfilerHook(SessionRunHook):
    """Traces a step every N steps or seconds and writes it as a Chrome trace
    (``tf.train.ProfilerHook``).

    A chosen run asks for ``RunOptions(trace_level=FULL_TRACE)``; after it, the hook writes
    ``<output_dir>/timeline-<global step>.json`` (`sessionlib.client.timeline`: one process
    per device that ran, one event per op; open it in ``chrome://tracing`` or Perfetto) and
    adds the run's `RunMetadata` to the directory's cached `FileWriter` as ``step_<global
    step>``. As in TF, the first run is never traced: it starts the timer, so with
    ``save_steps=N`` the traces are of global steps N, 2N, ... after a start at zero.

    Args:
      save_steps: trace every this many global steps.
      save_secs: or every this many seconds.
      output_dir: the directory of the traces and of the event file (default: the current
        directory).
      show_dataflow: draw arrows from each tensor's producer to its consumers.
      show_memory: add the tensors' lifetimes and sizes, and the devices' memory counters.

    Raises:
      ValueError: unless exactly one of `save_steps` and `save_secs` is given.
      RuntimeError: from `begin`, if the graph has no global step.
    """

    def __init__(self, save_steps=None, save_secs=None, output_dir="", show_dataflow=True,
                 show_memory=False):
        # TF's default '' is the current directory.
        self._output_dir = output_dir or os.curdir
        self._show_dataflow = show_dataflow
        self._show_memory = show_memory
        self._timer = SecondOrStepTimer(every_secs=save_secs, every_steps=save_steps)
        self._file_writer = None

    def begin(self):
        # The writer is made here, not in the constructor (TF), so that it gets the graph of
        # the session the hook serves (`_cached_writer` takes the default graph).
        self._file_writer = _cached_writer(self._output_dir)
        self._next_step = None
        self._global_step_tensor = _global_step_read("ProfilerHook")

    def before_run(self, run_context):
        self._request_trace = (self._next_step is not None
                               and self._timer.should_trigger_for_step(self._next_step))
        options = (config_pb2.RunOptions(trace_level=config_pb2.RunOptions.FULL_TRACE)
                   if self._request_trace else None)
        return SessionRunArgs({"global_step": self._global_step_tensor}, options=options)

    def after_run(self, run_context, run_values):
        stale_global_step = int(run_values.results["global_step"])
        if self._next_step is None:
            # The first run starts the timer, so the first trace waits N steps or seconds.
            self._timer.update_last_triggered_step(stale_global_step)
        global_step = stale_global_step + 1
        if self._request_trace:
            global_step = int(run_context.session.run(self._global_step_tensor))
            self._timer.update_last_triggered_step(global_step)
            self._save(global_step, run_values.run_metadata)
            self._file_writer.add_run_metadata(run_values.run_metadata, f"step_{global_step}")
        self._next_step = global_step + 1

    def end(self, session):
        if self._file_writer is not None:
            self._file_writer.flush()

    def _save(self, global_step, run_metadata):
        from sessionlib.client import timeline

        path = os.path.join(self._output_dir, f"timeline-{global_step}.json")
        _log.info("Saving timeline for %d into '%s'.", global_step, path)
        trace = timeline.Timeline(run_metadata.step_stats).generate_chrome_trace_format(
            show_dataflow=self._show_dataflow, show_memory=self._show_memory)
        with open(path, "w") as f:
            f.write(trace)


# ---- the end, and feeds --------------------------------------------------------------------

class FinalOpsHook(SessionRunHook):
    """Runs ops once when the session ends and keeps their values (``tf.train.FinalOpsHook``).

    Args:
      final_ops: a fetch structure to run in `end`.
      final_ops_feed_dict: feeds for that run.
    """

    def __init__(self, final_ops, final_ops_feed_dict=None):
        self._final_ops = final_ops
        self._final_ops_feed_dict = final_ops_feed_dict
        self._final_ops_values = None

    @property
    def final_ops_values(self):
        """The values of `final_ops` after the end (None before)."""
        return self._final_ops_values

    def end(self, session):
        if self._final_ops is None:
            return
        try:
            self._final_ops_values = session.run(self._final_ops,
                                                 feed_dict=self._final_ops_feed_dict)
        except (errors.OutOfRangeError, StopIteration):
            _log.warning("An OutOfRangeError or StopIteration exception is raised by the code "
                         "in FinalOpsHook. This typically means the Ops running by the "
                         "FinalOpsHook have a dependency back to some input source, which "
                         "should not happen.")
            raise


class FeedFnHook(SessionRunHook):
    """Feeds every run with ``feed_fn()``'s dict (``tf.train.FeedFnHook``)."""

    def __init__(self, feed_fn):
        self.feed_fn = feed_fn

    def before_run(self, run_context):
        return SessionRunArgs(fetches=None, feed_dict=self.feed_fn())
