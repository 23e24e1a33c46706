"""``slim.learning``: slim's ``create_train_op``, its gradient transforms, and the ``train``
loop.

``create_train_op`` returns a tensor, not an op: running it takes one optimizer step (after the
UPDATE_OPS, such as batch norm's moving averages) and yields the loss computed in that step, so
a training loop fetches one thing. ``train`` runs it until the global step reaches
``number_of_steps``, saving checkpoints and summaries to ``logdir`` and resuming from the latest
checkpoint there; TF 1 ran it under ``tf.train.Supervisor``, this runs it under
``MonitoredTrainingSession``, which does the same initialize-or-restore, saving and stopping.
"""

import logging
import time

from sessionlib.framework import graph as graph_lib
from sessionlib.framework.graph import GraphKeys
from sessionlib.framework.indexed_slices import IndexedSlices
from sessionlib.ops import array_ops, clip_ops, control_flow_ops, math_ops, numerics_ops
from sessionlib.train.training_util import get_or_create_global_step

__all__ = ["create_train_op", "clip_gradient_norms", "multiply_gradients", "train_step",
           "train"]

_log = logging.getLogger(__name__)

# "The default", told apart from an explicit None (no global step counted; no summaries).
_USE_DEFAULT = object()


def __getattr__(name):
    from sessionlib import contrib

    raise contrib.unsupported(f"slim.learning.{name}")


def clip_gradient_norms(gradients_to_variables, max_norm):
    """Clips each gradient to the norm `max_norm` on its own (``tf.clip_by_norm``).

    Args:
      gradients_to_variables: a list of ``(gradient, variable)`` pairs; a None gradient stays.
      max_norm: the largest norm a gradient keeps.

    Returns:
      The list of ``(clipped gradient, variable)`` pairs.
    """
    clipped = []
    for grad, var in gradients_to_variables:
        if isinstance(grad, IndexedSlices):
            grad = IndexedSlices(clip_ops.clip_by_norm(grad.values, max_norm), grad.indices,
                                 grad.dense_shape)
        elif grad is not None:
            grad = clip_ops.clip_by_norm(grad, max_norm)
        clipped.append((grad, var))
    return clipped


def multiply_gradients(grads_and_vars, gradient_multipliers):
    """Scales the gradients of chosen variables.

    Args:
      grads_and_vars: a list of ``(gradient, variable)`` pairs.
      gradient_multipliers: a dict from a variable, or its op name, to a scalar multiplier.

    Returns:
      The list of ``(gradient, variable)`` pairs, the chosen gradients scaled.

    Raises:
      ValueError: if `grads_and_vars` is not a list, `gradient_multipliers` is empty, or a
        chosen variable has no gradient.
    """
    if not isinstance(grads_and_vars, list):
        raise ValueError("`grads_and_vars` must be a list.")
    if not gradient_multipliers:
        raise ValueError("`gradient_multipliers` is empty.")
    by_name = {key.op.name if hasattr(key, "op") else key: value
               for key, value in gradient_multipliers.items()}
    scaled = []
    for grad, var in grads_and_vars:
        if var.op.name in by_name:
            if grad is None:
                raise ValueError(f"Requested multiple of `None` gradient for {var.op.name}.")
            factor = graph_lib.convert_to_tensor(by_name[var.op.name], dtype=grad.dtype)
            if isinstance(grad, IndexedSlices):
                grad = IndexedSlices(grad.values * factor, grad.indices, grad.dense_shape)
            else:
                grad = math_ops.multiply(grad, factor)
        scaled.append((grad, var))
    return scaled


def _summarize(grads_and_vars):
    from sessionlib.summary import summary

    for grad, var in grads_and_vars:
        if grad is None:
            continue
        values = grad.values if isinstance(grad, IndexedSlices) else grad
        summary.histogram(var.op.name + "/gradient", values)
        summary.scalar(var.op.name + "/gradient_norm", clip_ops.global_norm([values]))


def create_train_op(total_loss, optimizer, global_step=_USE_DEFAULT, update_ops=None,
                    variables_to_train=None, clip_gradient_norm=0, summarize_gradients=False,
                    gate_gradients=1, aggregation_method=None,
                    colocate_gradients_with_ops=False, gradient_multipliers=None,
                    check_numerics=True):
    """The loss as a training step: a tensor whose evaluation runs `update_ops`, then applies
    `optimizer`'s gradients of `total_loss`, then yields `total_loss`.

    Args:
      total_loss: the scalar loss.
      optimizer: a ``tf.train.Optimizer``.
      global_step: the step counter to increment (default: the graph's, created if missing;
        None: none).
      update_ops: the ops to run before the gradients (default: the UPDATE_OPS collection).
      variables_to_train: default all trainable variables.
      clip_gradient_norm: above 0, each gradient's norm is clipped to it.
      summarize_gradients: add a histogram and a norm summary per gradient.
      gate_gradients, aggregation_method, colocate_gradients_with_ops: as
        ``Optimizer.compute_gradients``.
      gradient_multipliers: a dict from variables (or op names) to gradient multipliers.
      check_numerics: fail the step when the loss is inf or nan.

    Returns:
      A tensor of `total_loss`'s value, also added to the TRAIN_OP collection.

    Raises:
      ValueError: if there is nothing to train.
    """
    graph = graph_lib.get_default_graph()
    if global_step is _USE_DEFAULT:
        global_step = get_or_create_global_step()
    if update_ops is None:
        update_ops = graph.get_collection(GraphKeys.UPDATE_OPS)
    if update_ops:
        with graph.control_dependencies(update_ops):
            barrier = control_flow_ops.no_op(name="update_barrier")
        with graph.control_dependencies([barrier]):
            total_loss = array_ops.identity(total_loss)
    if variables_to_train is None:
        variables_to_train = graph.get_collection(GraphKeys.TRAINABLE_VARIABLES)
    if not variables_to_train:
        raise ValueError("No variables to optimize.")
    grads = optimizer.compute_gradients(
        total_loss, variables_to_train, gate_gradients=gate_gradients,
        aggregation_method=aggregation_method,
        colocate_gradients_with_ops=colocate_gradients_with_ops)
    if gradient_multipliers:
        with graph.name_scope("multiply_grads"):
            grads = multiply_gradients(grads, gradient_multipliers)
    if clip_gradient_norm > 0:
        with graph.name_scope("clip_grads"):
            grads = clip_gradient_norms(grads, clip_gradient_norm)
    if summarize_gradients:
        with graph.name_scope("summarize_grads"):
            _summarize(grads)
    grad_updates = optimizer.apply_gradients(grads, global_step=global_step)
    with graph.name_scope("train_op"):
        if check_numerics:
            total_loss = numerics_ops.check_numerics(total_loss, "LossTensor is inf or nan")
        with graph.control_dependencies([grad_updates]):
            train_op = array_ops.identity(total_loss)
    train_ops = graph.get_collection_ref(GraphKeys.TRAIN_OP)
    if not any(train_op is op for op in train_ops):
        train_ops.append(train_op)
    return train_op


def train_step(sess, train_op, global_step, train_step_kwargs):
    """One step of `train`: runs `train_op`, then says whether to stop.

    Args:
      sess: the (monitored) session.
      train_op: the tensor of `create_train_op`.
      global_step: the global step variable.
      train_step_kwargs: a dict; ``should_stop`` (a bool tensor: the step count is reached)
        and ``should_log`` (a bool tensor: log this step) are read when present.

    Returns:
      ``(total_loss, should_stop)``.
    """
    start = time.time()
    total_loss, step = sess.run([train_op, global_step])
    elapsed = time.time() - start
    if "should_log" in train_step_kwargs and sess.run(train_step_kwargs["should_log"]):
        _log.info("global step %d: loss = %.4f (%.3f sec/step)", step, total_loss, elapsed)
    should_stop = False
    if "should_stop" in train_step_kwargs:
        should_stop = bool(sess.run(train_step_kwargs["should_stop"]))
    return total_loss, should_stop


def train(train_op, logdir, train_step_fn=train_step, train_step_kwargs=None,
          log_every_n_steps=1, graph=None, master="", is_chief=True, global_step=None,
          number_of_steps=None, init_op=None, init_feed_dict=None, local_init_op=None,
          init_fn=None, ready_op=None, summary_op=_USE_DEFAULT, save_summaries_secs=600,
          summary_writer=_USE_DEFAULT, saver=None, save_interval_secs=600,
          session_config=None):
    """slim's training loop: runs ``train_step_fn`` until it says to stop.

    A new run initializes the variables (then calls `init_fn`, e.g. from
    ``assign_from_checkpoint_fn``); a run whose `logdir` holds a checkpoint restores it instead
    and goes on from its global step.

    Args:
      train_op: the tensor of `create_train_op`.
      logdir: where checkpoints and summaries go (None: nowhere).
      train_step_fn: ``fn(sess, train_op, global_step, train_step_kwargs) -> (total_loss,
        should_stop)``; default `train_step`.
      train_step_kwargs: passed to `train_step_fn` (default: ``should_stop`` from
        `number_of_steps` and ``should_log`` from `log_every_n_steps`).
      log_every_n_steps: how often `train_step` logs the loss (to this module's logger).
      graph: the graph of `train_op` (default its own).
      master, is_chief, session_config: the session's target, role and ConfigProto.
      global_step: the step counter (default the graph's, created if missing).
      number_of_steps: stop when the global step reaches it (None: never, unless
        `train_step_fn` says so).
      init_op, init_feed_dict, local_init_op, ready_op, saver: as ``tf.train.Scaffold``
        (None: its defaults).
      init_fn: ``fn(session)`` called after the variables are initialized (not on restore).
      summary_op: the summaries to save (default all; None: none).
      save_summaries_secs, save_interval_secs: how often summaries and checkpoints are saved.
      summary_writer: None to write no summaries (as `summary_op=None`); left unset, the
        summaries go to `logdir`. A writer of one's own is not supported.

    Returns:
      The loss of the last step.

    Raises:
      ValueError: if `train_op` is None, or `number_of_steps` is not positive.
      NotImplementedError: for a `summary_writer` other than None.
    """
    from sessionlib.train import monitored_session

    if summary_writer is not _USE_DEFAULT and summary_writer is not None:
        # The monitored session writes to `logdir` with its own writer; quietly ignoring
        # the caller's would send their summaries somewhere they do not look.
        raise NotImplementedError("slim.learning.train: only summary_writer=None (no "
                                  "summaries) or the default writer is supported")

    if train_op is None:
        raise ValueError("train_op cannot be None.")
    if number_of_steps is not None and number_of_steps <= 0:
        raise ValueError("`number_of_steps` must be either None or a positive number.")
    graph = graph or train_op.graph
    with graph.as_default():
        if global_step is None:
            global_step = get_or_create_global_step()
        if train_step_kwargs is None:
            train_step_kwargs = {}
            if number_of_steps:
                train_step_kwargs["should_stop"] = math_ops.greater_equal(global_step,
                                                                          number_of_steps)
            train_step_kwargs["should_log"] = math_ops.equal(
                math_ops.mod(global_step, log_every_n_steps), 0)
        scaffold_options = {"init_op": init_op, "init_feed_dict": init_feed_dict,
                            "local_init_op": local_init_op, "ready_op": ready_op,
                            "saver": saver}
        if init_fn is not None:
            scaffold_options["init_fn"] = lambda scaffold, session: init_fn(session)
        summary_secs = save_summaries_secs
        if summary_op is None or summary_writer is None:
            summary_secs = 0
        elif summary_op is not _USE_DEFAULT:
            scaffold_options["summary_op"] = summary_op
        scaffold = monitored_session.Scaffold(**scaffold_options)
        total_loss = None
        with monitored_session.MonitoredTrainingSession(
                master=master, is_chief=is_chief, checkpoint_dir=logdir, scaffold=scaffold,
                save_checkpoint_secs=save_interval_secs, save_summaries_secs=summary_secs,
                config=session_config, log_step_count_steps=0) as sess:
            should_stop = False
            while not should_stop and not sess.should_stop():
                total_loss, should_stop = train_step_fn(sess, train_op, global_step,
                                                        train_step_kwargs)
        return total_loss
