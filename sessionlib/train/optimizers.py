"""The ``tf.train`` optimizers: GradientDescent, Momentum, Adagrad, RMSProp, Adam, Adadelta,
Ftrl, ProximalGradientDescent, ProximalAdagrad and AdagradDA, with TF 1's constructors,
defaults, slot names and update rules.

Each one turns its hyper-parameters into tensors in `_prepare` and adds one fused update op per
variable (``ops/training_ops.py``); the formulas are in the kernels
(``runtime/kernels/training_kernels.py`` and ``_core/training.pyx``).
"""

from sessionlib.ops import training_ops
from sessionlib.train.optimizer import Optimizer

__all__ = ["GradientDescentOptimizer", "MomentumOptimizer", "AdagradOptimizer",
           "RMSPropOptimizer", "AdamOptimizer", "AdadeltaOptimizer", "FtrlOptimizer",
           "ProximalGradientDescentOptimizer", "ProximalAdagradOptimizer", "AdagradDAOptimizer"]


class GradientDescentOptimizer(Optimizer):
    """``var -= learning_rate * grad``.

    Args:
      learning_rate: a float, a scalar Tensor, or a callable returning one.
      use_locking: accepted for TF's signature.
      name: the name of the apply ops (default 'GradientDescent').
    """

    def __init__(self, learning_rate, use_locking=False, name="GradientDescent"):
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._learning_rate_tensor = None

    def _prepare(self):
        self._learning_rate_tensor = self._hyper(self._learning_rate, "learning_rate")

    def _resource_apply_dense(self, grad, var):
        return training_ops.apply_op(
            "ResourceApplyGradientDescent",
            [var, self._cast(self._learning_rate_tensor, grad.dtype), grad],
            {"use_locking": self._use_locking})

    def _resource_apply_sparse(self, grad, var, indices):
        return training_ops.apply_op(
            "ResourceSparseApplyGradientDescent",
            [var, self._cast(self._learning_rate_tensor, grad.dtype), grad, indices],
            {"use_locking": self._use_locking})


class MomentumOptimizer(Optimizer):
    """``accum = accum * momentum + grad; var -= lr * accum`` (or Nesterov's form).

    Args:
      learning_rate: a float or scalar Tensor (or a callable returning one).
      momentum: a float or scalar Tensor.
      use_locking: accepted for TF's signature.
      name: default 'Momentum'; the slot is ``<var>/Momentum``.
      use_nesterov: ``var -= lr * grad + lr * momentum * accum``.
    """

    def __init__(self, learning_rate, momentum, use_locking=False, name="Momentum",
                 use_nesterov=False):
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._momentum = momentum
        self._use_nesterov = use_nesterov

    def _create_slots(self, var_list):
        for v in var_list:
            self._zeros_slot(v, "momentum", self._name)

    def _prepare(self):
        self._learning_rate_tensor = self._hyper(self._learning_rate, "learning_rate")
        self._momentum_tensor = self._hyper(self._momentum, "momentum")

    def _inputs(self, grad, var):
        return (var, self.get_slot(var, "momentum"),
                self._cast(self._learning_rate_tensor, grad.dtype))

    def _resource_apply_dense(self, grad, var):
        var, accum, lr = self._inputs(grad, var)
        return training_ops.apply_op(
            "ResourceApplyMomentum",
            [var, accum, lr, grad, self._cast(self._momentum_tensor, grad.dtype)],
            {"use_locking": self._use_locking, "use_nesterov": self._use_nesterov})

    def _resource_apply_sparse(self, grad, var, indices):
        var, accum, lr = self._inputs(grad, var)
        return training_ops.apply_op(
            "ResourceSparseApplyMomentum",
            [var, accum, lr, grad, indices, self._cast(self._momentum_tensor, grad.dtype)],
            {"use_locking": self._use_locking, "use_nesterov": self._use_nesterov})


class AdagradOptimizer(Optimizer):
    """``accum += grad ** 2; var -= lr * grad / sqrt(accum)``.

    Args:
      learning_rate: a float or scalar Tensor (or a callable returning one).
      initial_accumulator_value: the accumulators' start value; must be positive.
      use_locking: accepted for TF's signature.
      name: default 'Adagrad'; the slot is ``<var>/Adagrad``.

    Raises:
      ValueError: if `initial_accumulator_value` is not positive.
    """

    def __init__(self, learning_rate, initial_accumulator_value=0.1, use_locking=False,
                 name="Adagrad"):
        _require_positive("initial_accumulator_value", initial_accumulator_value)
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._initial_accumulator_value = initial_accumulator_value

    def _create_slots(self, var_list):
        for v in var_list:
            self._constant_slot(v, self._initial_accumulator_value, "accumulator", self._name)

    def _prepare(self):
        self._learning_rate_tensor = self._hyper(self._learning_rate, "learning_rate")

    def _resource_apply_dense(self, grad, var):
        return training_ops.apply_op(
            "ResourceApplyAdagrad",
            [var, self.get_slot(var, "accumulator"),
             self._cast(self._learning_rate_tensor, grad.dtype), grad],
            {"use_locking": self._use_locking})

    def _resource_apply_sparse(self, grad, var, indices):
        return training_ops.apply_op(
            "ResourceSparseApplyAdagrad",
            [var, self.get_slot(var, "accumulator"),
             self._cast(self._learning_rate_tensor, grad.dtype), grad, indices],
            {"use_locking": self._use_locking})


class RMSPropOptimizer(Optimizer):
    """RMSProp with momentum, optionally centered (TF 1's form: ``rms`` starts at one).

    ``ms = decay * ms + (1 - decay) * grad ** 2``;
    ``mom = momentum * mom + lr * grad / sqrt(ms + epsilon)``; ``var -= mom``. Centered, the
    denominator is ``sqrt(ms - mg ** 2 + epsilon)`` with ``mg`` the mean gradient.

    Args:
      learning_rate: a float or scalar Tensor (or a callable returning one).
      decay: the discount of the running averages.
      momentum: the momentum.
      epsilon: a small constant for numerical stability.
      use_locking: accepted for TF's signature.
      centered: normalize by the estimated variance instead of the second moment.
      name: default 'RMSProp'; slots ``<var>/RMSProp`` (rms), [``<var>/RMSProp_1`` (mg)],
        then momentum.
    """

    def __init__(self, learning_rate, decay=0.9, momentum=0.0, epsilon=1e-10,
                 use_locking=False, centered=False, name="RMSProp"):
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._decay = decay
        self._momentum = momentum
        self._epsilon = epsilon
        self._centered = centered

    def _create_slots(self, var_list):
        for v in var_list:
            self._constant_slot(v, 1.0, "rms", self._name)
            if self._centered:
                self._zeros_slot(v, "mg", self._name)
            self._zeros_slot(v, "momentum", self._name)

    def _prepare(self):
        self._learning_rate_tensor = self._hyper(self._learning_rate, "learning_rate")
        self._decay_tensor = self._hyper(self._decay, "decay")
        self._momentum_tensor = self._hyper(self._momentum, "momentum")
        self._epsilon_tensor = self._hyper(self._epsilon, "epsilon")

    def _apply(self, grad, var, indices=None):
        dtype = grad.dtype
        hypers = [self._cast(t, dtype) for t in (self._learning_rate_tensor,
                                                  self._decay_tensor, self._momentum_tensor,
                                                  self._epsilon_tensor)]
        slots = [self.get_slot(var, "rms"), self.get_slot(var, "momentum")]
        op_type = "RMSProp"
        if self._centered:
            slots.insert(0, self.get_slot(var, "mg"))
            op_type = "CenteredRMSProp"
        sparse = indices is not None
        op_type = ("ResourceSparseApply" if sparse else "ResourceApply") + op_type
        inputs = [var] + slots + hypers + [grad] + ([indices] if sparse else [])
        return training_ops.apply_op(op_type, inputs, {"use_locking": self._use_locking})

    def _resource_apply_dense(self, grad, var):
        return self._apply(grad, var)

    def _resource_apply_sparse(self, grad, var, indices):
        return self._apply(grad, var, indices)


class AdamOptimizer(Optimizer):
    """Adam, in the "epsilon hat" form of TF's kernel.

    ``lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)``; ``m = beta1 * m + (1 - beta1) * g``;
    ``v = beta2 * v + (1 - beta2) * g ** 2``; ``var -= lr_t * m / (sqrt(v) + epsilon)``. The
    powers ``beta1^t`` and ``beta2^t`` are the non-slot variables ``beta1_power`` and
    ``beta2_power``, multiplied by beta1 and beta2 after each step.

    Args:
      learning_rate, beta1, beta2, epsilon: floats or scalar Tensors (or callables).
      use_locking: accepted for TF's signature.
      name: default 'Adam'; slots ``<var>/Adam`` (m) and ``<var>/Adam_1`` (v).
    """

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8,
                 use_locking=False, name="Adam"):
        super().__init__(use_locking, name)
        self._lr = learning_rate
        self._beta1 = beta1
        self._beta2 = beta2
        self._epsilon = epsilon

    def _get_beta_accumulators(self):
        from sessionlib.framework import graph as graph_lib

        graph = graph_lib.get_default_graph()
        return (self._get_non_slot_variable("beta1_power", graph),
                self._get_non_slot_variable("beta2_power", graph))

    def _create_slots(self, var_list):
        first_var = min(var_list, key=lambda x: x.name)
        self._create_non_slot_variable(self._beta1, "beta1_power", first_var)
        self._create_non_slot_variable(self._beta2, "beta2_power", first_var)
        for v in var_list:
            self._zeros_slot(v, "m", self._name)
            self._zeros_slot(v, "v", self._name)

    def _prepare(self):
        self._lr_t = self._hyper(self._lr, "learning_rate")
        self._beta1_t = self._hyper(self._beta1, "beta1")
        self._beta2_t = self._hyper(self._beta2, "beta2")
        self._epsilon_t = self._hyper(self._epsilon, "epsilon")
        # One read of each power for all the updates of this step (TF reads them once per
        # variable; the values are the same, since the powers change only after the updates).
        beta1_power, beta2_power = self._get_beta_accumulators()
        self._beta_powers_t = []
        for power in (beta1_power, beta2_power):
            with _device_scope(power):
                self._beta_powers_t.append(power.value())

    def _inputs(self, grad, var):
        dtype = grad.dtype
        return [var, self.get_slot(var, "m"), self.get_slot(var, "v")] + [
            self._cast(t, dtype) for t in (*self._beta_powers_t, self._lr_t, self._beta1_t,
                                           self._beta2_t, self._epsilon_t)] + [grad]

    def _resource_apply_dense(self, grad, var):
        return training_ops.apply_op("ResourceApplyAdam", self._inputs(grad, var),
                                     {"use_locking": self._use_locking})

    def _resource_apply_sparse(self, grad, var, indices):
        return training_ops.apply_op("ResourceSparseApplyAdam",
                                     self._inputs(grad, var) + [indices],
                                     {"use_locking": self._use_locking})

    def _finish(self, update_ops, name_scope):
        from sessionlib.framework import graph as graph_lib
        from sessionlib.ops import control_flow_ops

        graph = graph_lib.get_default_graph()
        beta1_power, beta2_power = self._get_beta_accumulators()
        with graph.control_dependencies(update_ops):
            with _device_scope(beta1_power):
                update_beta1 = beta1_power.assign(beta1_power * self._beta1_t,
                                                  read_value=False)
                update_beta2 = beta2_power.assign(beta2_power * self._beta2_t,
                                                  read_value=False)
        return control_flow_ops.group(*update_ops + [update_beta1, update_beta2],
                                      name=name_scope)


class _NoScope:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def _device_scope(variable):
    """The device scope of `variable` (none when it has no device)."""
    from sessionlib.framework import graph as graph_lib

    return graph_lib.device(variable.device) if variable.device else _NoScope()


class AdadeltaOptimizer(Optimizer):
    """Adadelta (Zeiler, 2012), TF's kernel.

    Args:
      learning_rate, rho, epsilon: floats or scalar Tensors (or callables).
      use_locking: accepted for TF's signature.
      name: default 'Adadelta'; slots ``<var>/Adadelta`` (accum) and ``<var>/Adadelta_1``
        (accum_update).
    """

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-8, use_locking=False,
                 name="Adadelta"):
        super().__init__(use_locking, name)
        self._lr = learning_rate
        self._rho = rho
        self._epsilon = epsilon

    def _create_slots(self, var_list):
        for v in var_list:
            self._zeros_slot(v, "accum", self._name)
            self._zeros_slot(v, "accum_update", self._name)

    def _prepare(self):
        self._lr_t = self._hyper(self._lr, "lr")
        self._rho_t = self._hyper(self._rho, "rho")
        self._epsilon_t = self._hyper(self._epsilon, "epsilon")

    def _inputs(self, grad, var):
        return [var, self.get_slot(var, "accum"), self.get_slot(var, "accum_update")] + [
            self._cast(t, grad.dtype) for t in (self._lr_t, self._rho_t, self._epsilon_t)]

    def _resource_apply_dense(self, grad, var):
        return training_ops.apply_op("ResourceApplyAdadelta", self._inputs(grad, var) + [grad],
                                     {"use_locking": self._use_locking})

    def _resource_apply_sparse(self, grad, var, indices):
        return training_ops.apply_op("ResourceSparseApplyAdadelta",
                                     self._inputs(grad, var) + [grad, indices],
                                     {"use_locking": self._use_locking})


class FtrlOptimizer(Optimizer):
    """FTRL-Proximal (McMahan et al., 2013), TF's kernel, with L1, L2 and L2 shrinkage.

    Args:
      learning_rate: a float or scalar Tensor (or a callable).
      learning_rate_power: at most zero (-0.5: the square-root schedule).
      initial_accumulator_value: at least zero, the accumulators' start value.
      l1_regularization_strength, l2_regularization_strength: at least zero.
      use_locking: accepted for TF's signature.
      name: default 'Ftrl'; slots ``<var>/Ftrl`` (accum) and ``<var>/Ftrl_1`` (linear).
      accum_name, linear_name: other names for the two slots' suffixes.
      l2_shrinkage_regularization_strength: at least zero; an L2 penalty on the weights
        that enters through the gradient (op ``ResourceApplyFtrlV2``).
      beta: adds ``beta / (2 * learning_rate)`` to the L2 strength.

    Raises:
      ValueError: for a strength, power or accumulator value out of range.
    """

    def __init__(self, learning_rate, learning_rate_power=-0.5, initial_accumulator_value=0.1,
                 l1_regularization_strength=0.0, l2_regularization_strength=0.0,
                 use_locking=False, name="Ftrl", accum_name=None, linear_name=None,
                 l2_shrinkage_regularization_strength=0.0, beta=None):
        super().__init__(use_locking, name)
        if initial_accumulator_value < 0.0:
            raise ValueError(f"initial_accumulator_value {initial_accumulator_value:f} needs "
                             "to be positive or zero")
        if learning_rate_power > 0.0:
            raise ValueError(f"learning_rate_power {learning_rate_power:f} needs to be "
                             "negative or zero")
        for label, value in (("l1_regularization_strength", l1_regularization_strength),
                             ("l2_regularization_strength", l2_regularization_strength),
                             ("l2_shrinkage_regularization_strength",
                              l2_shrinkage_regularization_strength)):
            if value < 0.0:
                raise ValueError(f"{label} {value:f} needs to be positive or zero")
        self._learning_rate = learning_rate
        self._learning_rate_power = learning_rate_power
        self._initial_accumulator_value = initial_accumulator_value
        self._l1_regularization_strength = l1_regularization_strength
        self._l2_regularization_strength = l2_regularization_strength
        self._beta = 0.0 if beta is None else beta
        self._l2_shrinkage_regularization_strength = l2_shrinkage_regularization_strength
        self._accum_name = accum_name
        self._linear_name = linear_name

    def _create_slots(self, var_list):
        for v in var_list:
            self._constant_slot(v, self._initial_accumulator_value, "accum",
                                self._accum_name or self._name)
            self._zeros_slot(v, "linear", self._linear_name or self._name)

    def _prepare(self):
        self._learning_rate_tensor = self._hyper(self._learning_rate, "learning_rate")
        self._l1_tensor = self._hyper(self._l1_regularization_strength,
                                      "l1_regularization_strength")
        # TF folds beta into the L2 strength: l2 + beta / (2 * lr).
        l2 = self._hyper(self._l2_regularization_strength,
                         "adjusted_l2_regularization_strength")
        if self._beta:
            from sessionlib.ops import math_ops

            lr = self._cast(self._learning_rate_tensor, l2.dtype)
            l2 = l2 + self._beta / (2.0 * math_ops.maximum(lr, 1e-36))
        self._l2_tensor = l2
        self._l2_shrinkage_tensor = self._hyper(self._l2_shrinkage_regularization_strength,
                                                "l2_shrinkage_regularization_strength")
        self._learning_rate_power_tensor = self._hyper(self._learning_rate_power,
                                                       "learning_rate_power")

    def _apply(self, grad, var, indices=None):
        dtype = grad.dtype
        lr, l1, l2, shrinkage, power = [
            self._cast(t, dtype) for t in (self._learning_rate_tensor, self._l1_tensor,
                                           self._l2_tensor, self._l2_shrinkage_tensor,
                                           self._learning_rate_power_tensor)]
        head = [var, self.get_slot(var, "accum"), self.get_slot(var, "linear"), grad]
        sparse = indices is not None
        if sparse:
            head.append(indices)
        prefix = "ResourceSparseApply" if sparse else "ResourceApply"
        if self._l2_shrinkage_regularization_strength <= 0.0:
            return training_ops.apply_op(prefix + "Ftrl", head + [lr, l1, l2, power],
                                         {"use_locking": self._use_locking})
        return training_ops.apply_op(prefix + "FtrlV2", head + [lr, l1, l2, shrinkage, power],
                                     {"use_locking": self._use_locking})

    def _resource_apply_dense(self, grad, var):
        return self._apply(grad, var)

    def _resource_apply_sparse(self, grad, var, indices):
        return self._apply(grad, var, indices)



def _require_positive(label, value):
    """Raises TF's ValueError for an accumulator start value that is not positive."""
    if value <= 0.0:
        raise ValueError(f"{label} must be positive: {value}")


class _L1L2Optimizer(Optimizer):
    """The shared part of the optimizers with a learning rate and L1 and L2 strengths
    (the proximal ones and AdagradDA): the three hyper-parameters as tensors, and one
    `_apply` for dense and sparse gradients.

    `_apply` builds the proximal ops' inputs: the variable, the slots `_SLOTS`, lr, l1, l2,
    the gradient (and the indices), for the ops ``ResourceApply<_OP>`` and
    ``ResourceSparseApply<_OP>``.
    """

    _OP = None
    _SLOTS = ()

    def __init__(self, learning_rate, l1_regularization_strength, l2_regularization_strength,
                 use_locking, name):
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._l1_regularization_strength = l1_regularization_strength
        self._l2_regularization_strength = l2_regularization_strength

    def _prepare(self):
        self._hyper_tensors = (
            self._hyper(self._learning_rate, "learning_rate"),
            self._hyper(self._l1_regularization_strength, "l1_regularization_strength"),
            self._hyper(self._l2_regularization_strength, "l2_regularization_strength"))

    def _hypers(self, dtype):
        """[lr, l1, l2] cast to `dtype`."""
        return [self._cast(tensor, dtype) for tensor in self._hyper_tensors]

    def _apply(self, grad, var, indices=None):
        inputs = [var] + [self.get_slot(var, slot) for slot in self._SLOTS]
        inputs += self._hypers(grad.dtype) + [grad]
        op_type = "ResourceApply" + self._OP
        if indices is not None:
            inputs.append(indices)
            op_type = "ResourceSparseApply" + self._OP
        return training_ops.apply_op(op_type, inputs, {"use_locking": self._use_locking})

    def _resource_apply_dense(self, grad, var):
        return self._apply(grad, var)

    def _resource_apply_sparse(self, grad, var, indices):
        return self._apply(grad, var, indices)


class ProximalGradientDescentOptimizer(_L1L2Optimizer):
    """Proximal gradient descent (FOBOS, Duchi & Singer 2009), TF's kernel.

    A gradient step ``x = var - lr * grad``, then the proximal step of the penalty
    ``lr * (l1 * |w| + l2 * w ** 2 / 2)``: ``var = sign(x) * max(|x| - lr * l1, 0) /
    (1 + lr * l2)``, which sets small weights to exactly zero when ``l1 > 0``.

    Args:
      learning_rate: a float or scalar Tensor (or a callable returning one).
      l1_regularization_strength, l2_regularization_strength: floats or scalar Tensors, meant
        to be at least zero (TF checks neither, nor does this).
      use_locking: accepted for TF's signature.
      name: the name of the apply ops (default 'ProximalGradientDescent'); no slots.
    """

    _OP = "ProximalGradientDescent"

    def __init__(self, learning_rate, l1_regularization_strength=0.0,
                 l2_regularization_strength=0.0, use_locking=False,
                 name="ProximalGradientDescent"):
        super().__init__(learning_rate, l1_regularization_strength,
                         l2_regularization_strength, use_locking, name)


class ProximalAdagradOptimizer(_L1L2Optimizer):
    """Proximal Adagrad: FOBOS with Adagrad's per-element learning rate, TF's kernel.

    ``accum += grad ** 2``; ``rate = lr / sqrt(accum)``; ``x = var - rate * grad``;
    ``var = sign(x) * max(|x| - rate * l1, 0) / (1 + rate * l2)``.

    Args:
      learning_rate: a float or scalar Tensor (or a callable returning one); the kernel
        wants it positive.
      initial_accumulator_value: the accumulators' start value; must be positive.
      l1_regularization_strength, l2_regularization_strength: floats or scalar Tensors; a
        negative one fails when the step runs (`tf.errors.InvalidArgumentError`), as in TF.
      use_locking: accepted for TF's signature.
      name: default 'ProximalAdagrad'; the slot ``accumulator`` is ``<var>/ProximalAdagrad``.

    Raises:
      ValueError: if `initial_accumulator_value` is not positive.
    """

    _OP = "ProximalAdagrad"
    _SLOTS = ("accumulator",)

    def __init__(self, learning_rate, initial_accumulator_value=0.1,
                 l1_regularization_strength=0.0, l2_regularization_strength=0.0,
                 use_locking=False, name="ProximalAdagrad"):
        _require_positive("initial_accumulator_value", initial_accumulator_value)
        super().__init__(learning_rate, l1_regularization_strength,
                         l2_regularization_strength, use_locking, name)
        self._initial_accumulator_value = initial_accumulator_value

    def _create_slots(self, var_list):
        for v in var_list:
            self._constant_slot(v, self._initial_accumulator_value, "accumulator", self._name)


class AdagradDAOptimizer(_L1L2Optimizer):
    """Adagrad Dual Averaging (Duchi et al., 2011), TF's kernel: sparse linear models.

    The variable is recomputed each step from the sums of the gradients ``g_acc`` and of
    their squares ``gg_acc``, with ``t`` the step number (``global_step + 1``):
    ``var = -lr * sign(g_acc) * max(|g_acc| - t * l1, 0) / (t * lr * l2 + sqrt(gg_acc))``.
    Pass the same `global_step` to `minimize` / `apply_gradients` so that it advances.

    Args:
      learning_rate: a float or scalar Tensor (or a callable returning one).
      global_step: an int64 Variable or Tensor, the current training step.
      initial_gradient_squared_accumulator_value: the start of ``gg_acc``; must be positive.
      l1_regularization_strength, l2_regularization_strength: floats or scalar Tensors,
        meant to be at least zero (TF checks neither, nor does this).
      use_locking: accepted for TF's signature.
      name: default 'AdagradDA'; slots ``gradient_accumulator`` (``<var>/AdagradDA``) and
        ``gradient_squared_accumulator`` (``<var>/AdagradDA_1``).

    Raises:
      ValueError: if `initial_gradient_squared_accumulator_value` is not positive.
    """

    def __init__(self, learning_rate, global_step,
                 initial_gradient_squared_accumulator_value=0.1,
                 l1_regularization_strength=0.0, l2_regularization_strength=0.0,
                 use_locking=False, name="AdagradDA"):
        _require_positive("initial_gradient_squared_accumulator_value",
                          initial_gradient_squared_accumulator_value)
        super().__init__(learning_rate, l1_regularization_strength,
                         l2_regularization_strength, use_locking, name)
        self._global_step = global_step
        self._initial_gradient_squared_accumulator_value = (
            initial_gradient_squared_accumulator_value)

    def _create_slots(self, var_list):
        for v in var_list:
            self._zeros_slot(v, "gradient_accumulator", self._name)
            self._constant_slot(v, self._initial_gradient_squared_accumulator_value,
                                "gradient_squared_accumulator", self._name)

    def _prepare(self):
        from sessionlib.ops import array_ops

        super()._prepare()
        # One read of the step for all the updates of this step (the step being applied is
        # the one after the current count), as TF reads it once per apply.
        self._step_tensor = array_ops.identity(self._global_step) + 1

    def _apply(self, grad, var, indices=None):
        # TF's AdagradDA ops take the gradient before the hyper-parameters, and the step last.
        inputs = [var, self.get_slot(var, "gradient_accumulator"),
                  self.get_slot(var, "gradient_squared_accumulator"), grad]
        op_type = "ResourceApplyAdagradDA"
        if indices is not None:
            inputs.append(indices)
            op_type = "ResourceSparseApplyAdagradDA"
        inputs += self._hypers(grad.dtype) + [self._step_tensor]
        return training_ops.apply_op(op_type, inputs, {"use_locking": self._use_locking})
