"""``tf.contrib.opt``: `LazyAdamOptimizer`, the decoupled weight decay optimizers
(`AdamWOptimizer`, `MomentumWOptimizer`, `extend_with_decoupled_weight_decay`) and
`MovingAverageOptimizer`, with TF 1.15's update rules, built on ``tf.train``'s optimizers.

LazyAdam's sparse step touches only the rows a gradient names: ``m``, ``v`` and the variable
change in those rows and nowhere else (plain Adam decays all of ``m`` and ``v``). It is a
composition of existing ops: repeated indices are merged first (their gradients summed, as
TF's optimizer base class does), the new rows are computed from gathered ones, and each row is
written once by a scatter-add (the ``ResourceSparseApplyGradientDescent`` kernel with a step
of one, which adds to the named rows of a resource or reference variable).
"""

from sessionlib.ops import (array_ops, control_flow_ops, manipulation_ops, math_ops,
                            segment_ops, training_ops)
from sessionlib.train import optimizers
from sessionlib.train.optimizer import Optimizer

__all__ = ["LazyAdamOptimizer", "AdamWOptimizer", "MomentumWOptimizer",
           "DecoupledWeightDecayExtension", "extend_with_decoupled_weight_decay",
           "MovingAverageOptimizer"]


def __getattr__(name):
    from sessionlib import contrib

    raise contrib.unsupported(f"opt.{name}")


def _merge_duplicate_indices(values, indices):
    """``(summed_values, unique_indices)``: the rows of `values` summed per index.

    Unique indices come from a stitch of positions by index (the last position of each index
    wins, so a position is kept when it is its index's last one); the sums are a segment sum
    over each position's rank among the kept ones. Only index-sized and row-count-sized
    integer vectors are made, never a dense copy of the variable.
    """
    indices = math_ops.cast(indices, "int32")
    positions = array_ops.range(array_ops.size(indices))
    last_position = segment_ops.dynamic_stitch([indices], [positions])
    is_kept = math_ops.equal(array_ops.gather(last_position, indices), positions)
    unique_indices = manipulation_ops.boolean_mask(indices, is_kept)
    count = array_ops.size(unique_indices)
    slot_of_row = segment_ops.dynamic_stitch([unique_indices], [array_ops.range(count)])
    segment = array_ops.gather(slot_of_row, indices)
    return math_ops.unsorted_segment_sum(values, segment, count), unique_indices


def _scatter_add(var, indices, rows):
    """Adds `rows` to the rows `indices` (unique) of `var`, a resource or reference
    variable: the sparse gradient-descent kernel with a learning rate of -1."""
    minus_one = math_ops.cast(-1.0, rows.dtype)
    return training_ops.apply_op("ResourceSparseApplyGradientDescent",
                                 [var, minus_one, rows, indices], {"use_locking": False})


class LazyAdamOptimizer(optimizers.AdamOptimizer):
    """Adam whose sparse updates change only the rows the gradient names.

    Dense gradients get Adam's update. For an `IndexedSlices` gradient with rows ``i``
    (repeated rows summed): ``m[i] = beta1 * m[i] + (1 - beta1) * g``;
    ``v[i] = beta2 * v[i] + (1 - beta2) * g ** 2``;
    ``var[i] -= lr_t * m[i] / (sqrt(v[i]) + epsilon)`` with Adam's ``lr_t``; the other rows
    of ``m``, ``v`` and the variable keep their values. The beta powers advance once a step,
    as in Adam.

    Args:
      learning_rate, beta1, beta2, epsilon: floats or scalar Tensors (or callables).
      use_locking: accepted for TF's signature.
      name: default 'LazyAdam'; slots ``<var>/LazyAdam`` (m) and ``<var>/LazyAdam_1`` (v).
    """

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8,
                 use_locking=False, name="LazyAdam"):
        super().__init__(learning_rate=learning_rate, beta1=beta1, beta2=beta2,
                         epsilon=epsilon, use_locking=use_locking, name=name)

    def _resource_apply_sparse(self, grad, var, indices):
        dtype = grad.dtype
        beta1_power, beta2_power, lr, beta1, beta2, epsilon = [
            self._cast(t, dtype) for t in (*self._beta_powers_t, self._lr_t, self._beta1_t,
                                           self._beta2_t, self._epsilon_t)]
        step_size = lr * math_ops.sqrt(1 - beta2_power) / (1 - beta1_power)
        grad, indices = _merge_duplicate_indices(grad, indices)
        m, v = self.get_slot(var, "m"), self.get_slot(var, "v")
        m_rows = array_ops.gather(m, indices)
        v_rows = array_ops.gather(v, indices)
        # The new rows minus the old ones, so that one scatter-add writes them.
        m_change = (1 - beta1) * (grad - m_rows)
        v_change = (1 - beta2) * (math_ops.square(grad) - v_rows)
        new_m_rows = m_rows + m_change
        new_v_rows = v_rows + v_change
        var_change = -step_size * new_m_rows / (math_ops.sqrt(new_v_rows) + epsilon)
        return control_flow_ops.group(_scatter_add(m, indices, m_change),
                                      _scatter_add(v, indices, v_change),
                                      _scatter_add(var, indices, var_change))


class DecoupledWeightDecayExtension:
    """Decoupled weight decay (Loshchilov & Hutter) for an optimizer class: before each
    update, ``var -= weight_decay * var`` (only the gradient's rows for a sparse gradient),
    then the optimizer's own update on the decayed variable. The decay is not scaled by the
    learning rate; schedule it yourself, as in TF.

    Mix it in before the optimizer class (see `extend_with_decoupled_weight_decay`).

    Args:
      weight_decay: a float, a scalar Tensor, or a callable returning one.
      *args, **kwargs: the optimizer's own arguments.
    """

    def __init__(self, weight_decay, *args, **kwargs):
        self._decay_var_list = None
        self._weight_decay = weight_decay
        self._weight_decay_tensor = None
        super().__init__(*args, **kwargs)

    def minimize(self, loss, global_step=None, var_list=None,
                 gate_gradients=Optimizer.GATE_OP, aggregation_method=None,
                 colocate_gradients_with_ops=False, name=None, grad_loss=None,
                 decay_var_list=None):
        """`Optimizer.minimize`, decaying only `decay_var_list` when given (default: all
        the updated variables).

        TF 1.15 lost `decay_var_list` here (its `apply_gradients` reset it to None); this
        one hands it on.
        """
        self._minimize_decay_var_list = decay_var_list
        try:
            return super().minimize(
                loss, global_step=global_step, var_list=var_list,
                gate_gradients=gate_gradients, aggregation_method=aggregation_method,
                colocate_gradients_with_ops=colocate_gradients_with_ops, name=name,
                grad_loss=grad_loss)
        finally:
            self._minimize_decay_var_list = None

    def apply_gradients(self, grads_and_vars, global_step=None, name=None,
                        decay_var_list=None):
        """`Optimizer.apply_gradients`, decaying only `decay_var_list` when given."""
        chosen = decay_var_list or getattr(self, "_minimize_decay_var_list", None)
        self._decay_var_list = set(chosen) if chosen else False
        return super().apply_gradients(grads_and_vars, global_step=global_step, name=name)

    def _prepare(self):
        self._weight_decay_tensor = self._hyper(self._weight_decay, "weight_decay")
        super()._prepare()

    def _decays(self, var):
        return not self._decay_var_list or var in self._decay_var_list

    def _decay_weights(self, var):
        if not self._decays(var):
            return control_flow_ops.no_op()
        decay = self._cast(self._weight_decay_tensor, var.dtype.base_dtype)
        return var.assign_sub(decay * var, read_value=False)

    def _decay_weights_sparse(self, var, indices):
        if not self._decays(var):
            return control_flow_ops.no_op()
        # Each row decays once, however often the gradient names it.
        ones = array_ops.ones_like(math_ops.cast(indices, var.dtype.base_dtype))
        _, rows = _merge_duplicate_indices(ones, indices)
        decay = self._cast(self._weight_decay_tensor, var.dtype.base_dtype)
        return _scatter_add(var, rows, -decay * array_ops.gather(var, rows))

    def _resource_apply_dense(self, grad, var):
        with var.graph.control_dependencies([self._decay_weights(var)]):
            return super()._resource_apply_dense(grad, var)

    def _resource_apply_sparse(self, grad, var, indices):
        with var.graph.control_dependencies([self._decay_weights_sparse(var, indices)]):
            return super()._resource_apply_sparse(grad, var, indices)


def extend_with_decoupled_weight_decay(base_optimizer):
    """A subclass of `base_optimizer` with decoupled weight decay.

    ``extend_with_decoupled_weight_decay(tf.train.AdamOptimizer)(weight_decay, lr)`` is
    `AdamWOptimizer`'s update; the new class takes `weight_decay` first, then the base
    class's arguments, and its `minimize`/`apply_gradients` take `decay_var_list`.

    Args:
      base_optimizer: an `Optimizer` subclass.

    Returns:
      The new class.
    """

    class OptimizerWithDecoupledWeightDecay(DecoupledWeightDecayExtension, base_optimizer):
        def __init__(self, weight_decay, *args, **kwargs):
            super().__init__(weight_decay, *args, **kwargs)

    OptimizerWithDecoupledWeightDecay.__name__ = f"{base_optimizer.__name__}WithDecay"
    return OptimizerWithDecoupledWeightDecay


class MomentumWOptimizer(DecoupledWeightDecayExtension, optimizers.MomentumOptimizer):
    """`MomentumOptimizer` with decoupled weight decay (see `DecoupledWeightDecayExtension`).

    Args:
      weight_decay: the decay factor (float, scalar Tensor or callable).
      learning_rate, momentum, use_locking, use_nesterov: as `MomentumOptimizer`.
      name: default 'MomentumW'.
    """

    def __init__(self, weight_decay, learning_rate, momentum, use_locking=False,
                 name="MomentumW", use_nesterov=False):
        super().__init__(weight_decay, learning_rate=learning_rate, momentum=momentum,
                         use_locking=use_locking, name=name, use_nesterov=use_nesterov)


class AdamWOptimizer(DecoupledWeightDecayExtension, optimizers.AdamOptimizer):
    """`AdamOptimizer` with decoupled weight decay (see `DecoupledWeightDecayExtension`):
    ``var = (1 - weight_decay) * var`` then Adam's step.

    Args:
      weight_decay: the decay factor (float, scalar Tensor or callable).
      learning_rate, beta1, beta2, epsilon, use_locking: as `AdamOptimizer`.
      name: default 'AdamW'.
    """

    def __init__(self, weight_decay, learning_rate=0.001, beta1=0.9, beta2=0.999,
                 epsilon=1e-8, use_locking=False, name="AdamW"):
        super().__init__(weight_decay, learning_rate=learning_rate, beta1=beta1, beta2=beta2,
                         epsilon=epsilon, use_locking=use_locking, name=name)


class MovingAverageOptimizer(Optimizer):
    """Wraps an optimizer to keep exponential moving averages of the variables it updates,
    and builds a `swapping_saver` that saves the averages under the variables' names (so that
    evaluation restores the averaged weights with a plain `Saver`).

    Args:
      opt: the `Optimizer` that computes and applies the gradients.
      average_decay: the averages' decay (see `tf.train.ExponentialMovingAverage`).
      num_updates: optional update count for the averages' decay schedule.
      sequential_update: update the averages after the optimizer's step (else
        concurrently, from the variables' values before or after it).
    """

    def __init__(self, opt, average_decay=0.9999, num_updates=None, sequential_update=True):
        from sessionlib.train import moving_averages

        super().__init__(opt._use_locking, opt.get_name())
        self._optimizer = opt
        self._ema = moving_averages.ExponentialMovingAverage(
            average_decay, num_updates=num_updates, zero_debias=False)
        # variable op name <-> its average's op name, filled by apply_gradients
        self._swapped_variable_name_map = None
        self._sequential_update = sequential_update

    def compute_gradients(self, *args, **kwargs):
        """The wrapped optimizer's `compute_gradients`."""
        return self._optimizer.compute_gradients(*args, **kwargs)

    def apply_gradients(self, grads_and_vars, global_step=None, name=None):
        """The wrapped optimizer's step, then the averages' update.

        Returns:
          An op ``train_with_avg`` that runs both.
        """
        from sessionlib.framework import graph as graph_lib

        grads_and_vars = list(grads_and_vars)
        train_op = self._optimizer.apply_gradients(grads_and_vars, global_step=global_step,
                                                   name=name)
        var_list = [v for g, v in grads_and_vars if g is not None]
        if self._sequential_update:
            with graph_lib.get_default_graph().control_dependencies([train_op]):
                average_op = self._ema.apply(var_list)
        else:
            average_op = self._ema.apply(var_list)
        self._swapped_variable_name_map = {}
        for var in var_list:
            average_name = self._ema.average(var).op.name
            self._swapped_variable_name_map[var.op.name] = average_name
            self._swapped_variable_name_map[average_name] = var.op.name
        return control_flow_ops.group(train_op, average_op, name="train_with_avg")

    def swapping_saver(self, var_list=None, name="swapping_saver", **kwargs):
        """A `Saver` that writes each average under its variable's name and the variable
        under its average's name (restoring swaps them back).

        Args:
          var_list: a list or name->variable dict (default: the global variables); must
            hold both sides of each swapped pair.
          name: the saver's name.
          **kwargs: passed to `Saver`.

        Returns:
          The `Saver`.

        Raises:
          RuntimeError: if called before `apply_gradients` or `minimize`.
          ValueError: if `var_list` lacks the partner of a swapped variable.
        """
        from sessionlib.ops import variables
        from sessionlib.train import saver

        if self._swapped_variable_name_map is None:
            raise RuntimeError("Must call apply_gradients or minimize before creating the "
                               "swapping_saver")
        if var_list is None:
            var_list = variables.global_variables()
        if not isinstance(var_list, dict):
            var_list = {v.op.name: v for v in var_list}
        swapped = {}
        for key, var in var_list.items():
            partner = self._swapped_variable_name_map.get(key)
            if partner is None:
                swapped[key] = var
            elif partner in var_list:
                swapped[key] = var_list[partner]
            else:
                raise ValueError(f"Variable to swap {partner} is not part of variables to "
                                 f"save. This breaks MovingAverageOptimizer.")
        return saver.Saver(swapped, name=name, **kwargs)
