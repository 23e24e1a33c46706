"""Learning-rate schedules of ``tf.train`` (TF 1's functions of a global step).

Each returns a scalar tensor built from ops, so it follows the global step as training runs:
pass it as an optimizer's `learning_rate`. The formulas, dtypes (the learning rate's) and
default scope names are TF's.
"""

import math

from sessionlib.framework import graph as graph_lib

__all__ = ["exponential_decay", "piecewise_constant", "polynomial_decay",
           "inverse_time_decay", "cosine_decay"]


def _require_step(global_step, what):
    if global_step is None:
        raise ValueError(f"global_step is required for {what}.")


def _values(*items):
    return [item for item in items if isinstance(item, graph_lib.Tensor)
            or hasattr(item, "_as_graph_element")]


def _floor(x):
    from sessionlib.ops import math_ops

    # floor(x) for floats, as floordiv(x, 1) (there is no Floor op yet).
    return math_ops.floordiv(x, graph_lib.convert_to_tensor(1.0, dtype=x.dtype))


def _ceil(x):
    return -_floor(-x)


def _start(learning_rate, global_step):
    """(learning_rate tensor, dtype, global step cast to that dtype)."""
    from sessionlib.ops import math_ops

    rate = graph_lib.convert_to_tensor(learning_rate, name="learning_rate")
    step = math_ops.cast(graph_lib.convert_to_tensor(global_step), rate.dtype)
    return rate, rate.dtype, step


def _decay_periods(learning_rate, global_step, decay_steps, decay_rate, staircase):
    """(rate, decay_rate, periods): the rate and decay in the rate's dtype, and the decay
    periods elapsed, ``global_step / decay_steps`` (whole periods only under `staircase`)."""
    from sessionlib.ops import math_ops

    rate, dtype, step = _start(learning_rate, global_step)
    periods = step / math_ops.cast(decay_steps, dtype)
    if staircase:
        periods = _floor(periods)
    return rate, math_ops.cast(decay_rate, dtype), periods


def exponential_decay(learning_rate, global_step, decay_steps, decay_rate, staircase=False,
                      name=None):
    """``learning_rate * decay_rate ** (global_step / decay_steps)``.

    Args:
      learning_rate: the initial rate, a float or scalar float Tensor.
      global_step: the step, an integer scalar (Variable or Tensor).
      decay_steps: the steps per decay period; must be positive.
      decay_rate: the factor per period.
      staircase: decay at whole periods only (integer division of the step).
      name: the name scope (default 'ExponentialDecay').

    Returns:
      A scalar Tensor of the learning rate's dtype.

    Raises:
      ValueError: if `global_step` is None.
    """
    from sessionlib.ops import math_ops

    _require_step(global_step, "exponential_decay")
    with graph_lib.name_scope(name, "ExponentialDecay",
                              _values(learning_rate, global_step, decay_steps,
                                      decay_rate)) as scope:
        rate, decay_rate, p = _decay_periods(learning_rate, global_step, decay_steps,
                                             decay_rate, staircase)
        return math_ops.multiply(rate, math_ops.pow(decay_rate, p), name=scope)


def piecewise_constant(x, boundaries, values, name=None):
    """``values[i]`` where ``boundaries[i-1] < x <= boundaries[i]`` (first and last open).

    Args:
      x: a scalar Tensor (usually the global step).
      boundaries: increasing values of `x`'s dtype (Python numbers are converted).
      values: one more value than boundaries, all of one dtype.
      name: the name scope (default 'PiecewiseConstant').

    Returns:
      A scalar Tensor of the values' dtype.

    Raises:
      ValueError: if the lengths do not fit or the values' dtypes differ.
    """
    from sessionlib.ops import array_ops, math_ops

    if len(boundaries) != len(values) - 1:
        raise ValueError("The length of boundaries should be 1 less than the length of "
                         "values")
    with graph_lib.name_scope(name, "PiecewiseConstant",
                              _values(x, *boundaries, *values)) as scope:
        x = graph_lib.convert_to_tensor(x)
        boundaries = [graph_lib.convert_to_tensor(b) if isinstance(b, graph_lib.Tensor)
                      else graph_lib.convert_to_tensor(b, dtype=x.dtype) for b in boundaries]
        for b in boundaries:
            if b.dtype is not x.dtype:
                if b.dtype.is_integer and x.dtype.is_integer:
                    b_cast = math_ops.cast(b, x.dtype)
                    boundaries[boundaries.index(b)] = b_cast
                else:
                    raise ValueError(f"Boundaries ({b.dtype.name}) must have the same dtype "
                                     f"as x ({x.dtype.name}).")
        values = [graph_lib.convert_to_tensor(v) for v in values]
        for v in values[1:]:
            if v.dtype is not values[0].dtype:
                raise ValueError(f"Values must have elements all with the same dtype "
                                 f"({values[0].dtype.name} vs {v.dtype.name}).")
        # From the last interval down: the first boundary that x does not exceed wins.
        result = values[-1]
        for boundary, value in reversed(list(zip(boundaries, values[:-1]))):
            result = array_ops.where(math_ops.less_equal(x, boundary), value, result)
        return array_ops.identity(result, name=scope)


def polynomial_decay(learning_rate, global_step, decay_steps, end_learning_rate=0.0001,
                     power=1.0, cycle=False, name=None):
    """``(lr - end) * (1 - step / decay_steps) ** power + end``, the step capped at
    `decay_steps` (or, with `cycle`, `decay_steps` raised to the next multiple above it).

    Args:
      learning_rate: the initial rate.
      global_step: the step, an integer scalar.
      decay_steps: the steps to reach `end_learning_rate`.
      end_learning_rate: the final rate.
      power: the polynomial's power.
      cycle: restart the decay at every multiple of `decay_steps`.
      name: the name scope (default 'PolynomialDecay').

    Returns:
      A scalar Tensor of the learning rate's dtype.

    Raises:
      ValueError: if `global_step` is None.
    """
    from sessionlib.ops import array_ops, math_ops

    _require_step(global_step, "polynomial_decay")
    with graph_lib.name_scope(name, "PolynomialDecay",
                              _values(learning_rate, global_step, decay_steps,
                                      end_learning_rate, power)) as scope:
        rate, dtype, step = _start(learning_rate, global_step)
        end = math_ops.cast(end_learning_rate, dtype)
        power = math_ops.cast(power, dtype)
        decay_steps = math_ops.cast(decay_steps, dtype)
        if cycle:
            # The first multiple of decay_steps above the step; 1 at step 0.
            multiplier = array_ops.where(math_ops.equal(step, 0.0),
                                         array_ops.ones_like(step), _ceil(step / decay_steps))
            decay_steps = decay_steps * multiplier
        else:
            step = math_ops.minimum(step, decay_steps)
        p = step / decay_steps
        return math_ops.add((rate - end) * math_ops.pow(1.0 - p, power), end, name=scope)


def inverse_time_decay(learning_rate, global_step, decay_steps, decay_rate, staircase=False,
                       name=None):
    """``learning_rate / (1 + decay_rate * global_step / decay_steps)``.

    Args:
      learning_rate, global_step, decay_steps, decay_rate: as in `exponential_decay`.
      staircase: use whole periods only.
      name: the name scope (default 'InverseTimeDecay').

    Returns:
      A scalar Tensor of the learning rate's dtype.

    Raises:
      ValueError: if `global_step` is None.
    """
    from sessionlib.ops import math_ops

    _require_step(global_step, "inverse_time_decay")
    with graph_lib.name_scope(name, "InverseTimeDecay",
                              _values(learning_rate, global_step, decay_steps,
                                      decay_rate)) as scope:
        rate, decay_rate, p = _decay_periods(learning_rate, global_step, decay_steps,
                                             decay_rate, staircase)
        denominator = 1.0 + decay_rate * p
        return math_ops.divide(rate, denominator, name=scope)


def cosine_decay(learning_rate, global_step, decay_steps, alpha=0.0, name=None):
    """``learning_rate * ((1 - alpha) * 0.5 * (1 + cos(pi * min(step, decay_steps) /
    decay_steps)) + alpha)`` (Loshchilov and Hutter's SGDR, without restarts).

    Args:
      learning_rate, global_step, decay_steps: as in `exponential_decay`.
      alpha: the final rate as a fraction of `learning_rate`.
      name: the name scope (default 'CosineDecay').

    Returns:
      A scalar Tensor of the learning rate's dtype.

    Raises:
      ValueError: if `global_step` is None.
    """
    from sessionlib.ops import math_ops

    _require_step(global_step, "cosine_decay")
    with graph_lib.name_scope(name, "CosineDecay",
                              _values(learning_rate, global_step, decay_steps,
                                      alpha)) as scope:
        rate, dtype, step = _start(learning_rate, global_step)
        decay_steps = math_ops.cast(decay_steps, dtype)
        step = math_ops.minimum(step, decay_steps)
        completed = step / decay_steps
        pi = graph_lib.convert_to_tensor(math.pi, dtype=dtype)
        cosine = 0.5 * (1.0 + math_ops.cos(pi * completed))
        alpha = math_ops.cast(alpha, dtype)
        decayed = (1.0 - alpha) * cosine + alpha
        return math_ops.multiply(rate, decayed, name=scope)
