"""``tf.train.ExponentialMovingAverage``: shadow variables that track moving averages.

Built from ops only: each shadow variable is a non-trainable Variable beside the value it
averages, and `apply` returns the group of ``assign_sub`` updates that moves each shadow
towards its value, ``shadow -= (1 - decay) * (shadow - value)``, as TF's
``assign_moving_average`` does.
"""

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework.graph import GraphKeys

__all__ = ["ExponentialMovingAverage"]

_FLOATS = (dtypes.float16, dtypes.float32, dtypes.float64)


class ExponentialMovingAverage:
    """Maintains moving averages of variables and tensors (TF 1's class).

    Args:
      decay: the decay, a float (typically close to 1, such as 0.999).
      num_updates: optional count of updates applied so far (a scalar tensor or variable,
        usually the global step); with it the decay is ``min(decay, (1 + n) / (10 + n))``,
        which lets the averages move faster early in training.
      zero_debias: correct the averages of *tensors* (not variables, whose shadows start at
        their initial values) for their zero start, as TF does.
      name: the name of the ops and the suffix of the shadow variables' names.
    """

    def __init__(self, decay, num_updates=None, zero_debias=False,
                 name="ExponentialMovingAverage"):
        self._decay = decay
        self._num_updates = num_updates
        self._zero_debias = zero_debias
        self._name = name
        self._averages = {}

    @property
    def name(self):
        """The name of this object's ops, and the suffix of its shadow variables."""
        return self._name

    def apply(self, var_list=None):
        """Creates the shadow variables of `var_list` and returns the op that updates them.

        Args:
          var_list: Variables and float Tensors (default: the trainable variables).

        Returns:
          An Operation that updates every shadow variable once.

        Raises:
          TypeError: if an entry is not float16, float32 or float64.

        Shadows are made as TF makes them, by `get_variable` in the variable scope
        ``<value op name>/<name>`` inside the current variable scope, starting at the
        variable's initial value (TF starts at its current value when it is already
        initialized, through ``cond``, which sessionlib lacks). Applying to a value that
        already has a shadow reuses it.
        """
        from sessionlib.ops import array_ops, control_flow_ops, math_ops, variables

        if var_list is None:
            var_list = variables.trainable_variables()
        var_list = list(var_list)
        for value in var_list:
            if value.dtype not in _FLOATS:
                raise TypeError("The variables must be half, float, or double: "
                                f"{value.name}")
        graph = var_list[0].graph if var_list else graph_lib.get_default_graph()
        zero_debiased = set()
        with graph.as_default():
            for value in var_list:
                if _key(value) in self._averages:
                    # As TF 2.21: applying again reuses the shadow and adds another update.
                    continue
                is_variable = isinstance(value, variables.Variable)
                with graph.control_dependencies(None), _device_of(value):
                    if is_variable:
                        initial = value.initial_value
                    else:
                        initial = (array_ops.zeros(value.shape.as_list(), value.dtype)
                                   if value.shape.is_fully_defined()
                                   else array_ops.zeros_like(value))
                    shadow = _create_slot(value, initial, self._name)
                if is_variable:  # as TF: the collection holds variables only
                    graph.add_to_collection(GraphKeys.MOVING_AVERAGE_VARIABLES, value)
                self._averages[_key(value)] = shadow
                if self._zero_debias and not is_variable:
                    zero_debiased.add(_key(value))
            with graph.name_scope(self._name) as scope:
                decay = graph_lib.convert_to_tensor(self._decay, dtypes.float32, name="decay")
                if self._num_updates is not None:
                    updates = math_ops.cast(self._num_updates, dtypes.float32,
                                            name="num_updates")
                    decay = math_ops.minimum(decay, (1.0 + updates) / (10.0 + updates))
                update_ops = []
                for value in var_list:
                    shadow = self._averages[_key(value)]
                    with _device_of(shadow):
                        if _key(value) in zero_debiased:
                            update_ops.append(self._debiased_update(shadow, value, decay))
                        else:
                            update_ops.append(_assign_moving_average(shadow, value, decay))
                return control_flow_ops.group(*update_ops, name=scope)

    def _debiased_update(self, shadow, value, decay):
        """TF's zero debiasing: a biased average and a step count beside the shadow, and the
        shadow set to ``biased / (1 - decay ** steps)``."""
        from sessionlib.ops import math_ops, variables

        graph = shadow.graph
        base = shadow.op.name
        with graph.control_dependencies(None), graph.name_scope(None):
            biased = variables.Variable(shadow.initial_value, trainable=False,
                                        name=f"{base}/biased")
            steps = variables.Variable(0.0, trainable=False, name=f"{base}/local_step")
        one_minus_decay = math_ops.cast(1.0 - decay, value.dtype)
        new_biased = biased.assign_sub((biased.value() - value) * one_minus_decay)
        new_steps = steps.assign_add(1.0)
        correction = 1.0 - math_ops.pow(decay, new_steps)
        return shadow.assign(new_biased / math_ops.cast(correction, value.dtype),
                             read_value=False)

    def average(self, var):
        """The shadow variable of `var`, or None when `var` has no moving average here."""
        return self._averages.get(_key(var))

    def average_name(self, var):
        """The name of `var`'s shadow variable (without ``:0``).

        Once `apply` made the shadow, its name; before, the name it would get if made now:
        ``<var name>/<this object's name>`` in the current name scope, as TF computes it.
        """
        shadow = self._averages.get(_key(var))
        if shadow is not None:
            return shadow.name[:-len(":0")]
        return graph_lib.get_default_graph().unique_name(
            f"{var.name[:-len(':0')]}/{self._name}", mark_as_used=False)

    def variables_to_restore(self, moving_avg_variables=None):
        """A name-to-variable map for a Saver that restores the averages into the variables.

        Args:
          moving_avg_variables: the variables whose averages to restore (default: the
            ``MOVING_AVERAGE_VARIABLES`` and trainable variables).

        Returns:
          A dict: ``average_name(v) -> v`` for those, and ``v.op.name -> v`` for every other
          global variable whose name is not taken yet (the shadows' own names are).
        """
        from sessionlib.ops import variables

        graph = graph_lib.get_default_graph()
        if moving_avg_variables is None:
            moving_avg_variables = (graph.get_collection(GraphKeys.MOVING_AVERAGE_VARIABLES)
                                    + variables.trainable_variables())
        result = {self.average_name(v): v for v in moving_avg_variables}
        averaged = {_key(v) for v in moving_avg_variables}
        for var in variables.global_variables():
            if _key(var) not in averaged and var.op.name not in result:
                result[var.op.name] = var
        return result

def _create_slot(primary, initial, name):
    """The shadow of `primary`, made as TF's ``slot_creator.create_slot`` makes it: by
    `get_variable` in a new variable scope ``<primary op name>/<name>`` (uniquified, inside the
    current variable scope), so the shadow is ``[scope/]<primary>/<name>``."""
    from sessionlib.ops import variable_scope

    with variable_scope.variable_scope(None, default_name=f"{primary.op.name}/{name}"):
        # The empty name makes the variable the scope itself, as in TF.
        return variable_scope.get_variable("", initializer=initial, trainable=False,
                                           validate_shape=initial.shape.is_fully_defined())


def _assign_moving_average(shadow, value, decay):
    """``shadow -= (shadow - value) * (1 - decay)``, with TF's op names."""
    from sessionlib.ops import math_ops

    graph = shadow.graph
    with graph.name_scope("AssignMovingAvg"):
        one_minus_decay = graph_lib.convert_to_tensor(1.0 - decay, name="decay")
        if one_minus_decay.dtype != shadow.dtype:
            one_minus_decay = math_ops.cast(one_minus_decay, shadow.dtype)
        return shadow.assign_sub((shadow - value) * one_minus_decay)


def _key(value):
    return (value.graph, value.name)


class _NoScope:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def _device_of(value):
    return graph_lib.device(value.device) if value.device else _NoScope()
