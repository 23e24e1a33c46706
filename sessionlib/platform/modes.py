"""TF's behaviour switches, answered for sessionlib, where graph mode is the only mode.

sessionlib always builds graphs and runs them in a `Session`, uses TF 2's control flow
(``cond_v2`` / ``while_v2``), resource variables by default (``use_resource=False`` still makes
a reference variable), plain-int shape dimensions, and identity equality for tensors. So:

- the ``disable_*`` switches a TF 1 script calls first (``disable_eager_execution``,
  ``disable_v2_behavior`` ...) are no-ops: what they ask for is already so, or (control flow,
  resource variables, v2 shapes) differs in no way a graph's results show, except that shape
  dimensions stay ints (``shape[0].value`` fails; use ``tf.compat.dimension_value``);
- ``enable_eager_execution`` and ``enable_v2_behavior`` raise `NotImplementedError`: a script
  that asks for eager execution relies on it on its next line (``.numpy()``, Python control
  flow on tensor values), and a clear error at the request beats a confusing one later;
- ``enable_tensor_equality`` raises too (``==`` on tensors stays identity, which code that
  keys dicts by tensors depends on); the other ``enable_*`` switches ask for what sessionlib
  already does and are no-ops.
"""

__all__ = ["executing_eagerly", "executing_eagerly_outside_functions", "disable_eager_execution",
           "enable_eager_execution", "disable_v2_behavior", "enable_v2_behavior",
           "disable_control_flow_v2", "enable_control_flow_v2", "control_flow_v2_enabled",
           "disable_resource_variables", "enable_resource_variables",
           "resource_variables_enabled", "disable_tensor_equality", "enable_tensor_equality",
           "disable_v2_tensorshape", "enable_v2_tensorshape"]


def executing_eagerly():
    """False: sessionlib builds graphs and runs them in a Session."""
    return False


def executing_eagerly_outside_functions():
    """False: sessionlib builds graphs and runs them in a Session."""
    return False


def disable_eager_execution():
    """A no-op: graph mode is sessionlib's only mode."""


def disable_v2_behavior():
    """A no-op: sessionlib is TF 1's graph mode (see this module's docstring for the few TF 2
    behaviours it keeps)."""


def disable_control_flow_v2():
    """A no-op: ``tf.cond`` and ``tf.while_loop`` build functional ops, with the same results
    as TF 1's control flow."""


def enable_control_flow_v2():
    """A no-op: the control flow is TF 2's already."""


def control_flow_v2_enabled():
    """True: ``tf.cond`` and ``tf.while_loop`` build TF 2's functional ops."""
    return True


def disable_resource_variables():
    """A no-op: variables stay resource variables unless made with ``use_resource=False``."""


def enable_resource_variables():
    """A no-op: variables are resource variables by default."""


def resource_variables_enabled():
    """True: variables are resource variables unless made with ``use_resource=False``."""
    return True


def disable_tensor_equality():
    """A no-op: tensors compare (and hash) by identity, as in TF 1."""


def enable_tensor_equality():
    """Raises: tensors compare by identity in graph mode.

    Raises:
      NotImplementedError: always.
    """
    raise NotImplementedError(
        "sessionlib tensors compare by identity (TF 1's graph behaviour); element-wise "
        "equality is tf.equal(a, b)")


def disable_v2_tensorshape():
    """A no-op: shape dimensions stay plain ints or None. TF 1 code that reads
    ``shape[i].value`` should use ``tf.compat.dimension_value(shape[i])``, which accepts both."""


def enable_v2_tensorshape():
    """A no-op: shape dimensions are plain ints or None already."""


def enable_eager_execution(config=None, device_policy=None, execution_mode=None):
    """Raises: sessionlib has no eager mode.

    Raises:
      NotImplementedError: always; build the graph and run it in a `tf.Session`.
    """
    del config, device_policy, execution_mode
    raise NotImplementedError(
        "sessionlib runs TF 1's graph mode only: eager execution is not available. Build the "
        "graph and evaluate tensors with tf.Session().run(...).")


def enable_v2_behavior():
    """Raises: TF 2's behaviour includes eager execution, which sessionlib lacks.

    Raises:
      NotImplementedError: always.
    """
    raise NotImplementedError(
        "sessionlib runs TF 1's graph mode only: TF 2 behaviour (eager execution) is not "
        "available; remove tf.enable_v2_behavior() and run the graph in a tf.Session.")
