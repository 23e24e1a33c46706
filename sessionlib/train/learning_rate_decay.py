"""Learning-rate schedules of ``tf.train`` (TF 1's functions of a global step).

Each returns a scalar tensor built from ops, so it follows the global step as training runs:
pass it as an optimizer's `learning_rate`. The formulas, dtypes (the learning rate's) and
default scope names are TF's.
"""

import math
import numbers

from sessionlib.framework import graph as graph_lib

__all__ = ["exponential_decay", "piecewise_constant", "piecewise_constant_decay",
           "polynomial_decay",
           "inverse_time_decay", "cosine_decay", "natural_exp_decay", "linear_cosine_decay",
           "noisy_linear_cosine_decay", "cosine_decay_restarts"]


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


def _periodic_decay(function_name, default_name, learning_rate, global_step, decay_steps,
                    decay_rate, staircase, name, decay):
    """The schedules of a decay per period: ``decay(rate, decay_rate, periods, scope)`` under
    the name scope (see `_decay_periods`)."""
    _require_step(global_step, function_name)
    with graph_lib.name_scope(name, default_name,
                              _values(learning_rate, global_step, decay_steps,
                                      decay_rate)) as scope:
        rate, decay_rate, periods = _decay_periods(learning_rate, global_step, decay_steps,
                                                   decay_rate, staircase)
        return decay(rate, decay_rate, periods, scope)


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

    return _periodic_decay(
        "exponential_decay", "ExponentialDecay", learning_rate, global_step, decay_steps,
        decay_rate, staircase, name,
        lambda rate, decay, p, scope: math_ops.multiply(rate, math_ops.pow(decay, p),
                                                        name=scope))


def _boundary_tensor(boundary, dtype):
    """A boundary of `piecewise_constant` as a tensor, Python numbers in `x`'s `dtype`."""
    if isinstance(boundary, graph_lib.Tensor):
        return boundary
    try:
        return graph_lib.convert_to_tensor(boundary, dtype=dtype)
    except (TypeError, ValueError):
        # A number that does not fit x (1.5 for an integer step) is a dtype mismatch, which
        # TF reports as a ValueError, not the converter's TypeError.
        raise ValueError(f"Boundaries ({boundary!r}) must have the same dtype as x "
                         f"({dtype.name}).") from None


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
      ValueError: if the lengths do not fit, a boundary does not fit `x`'s dtype (1.5 for
        an integer step) or the values' dtypes differ.
    """
    from sessionlib.ops import array_ops, math_ops

    if len(boundaries) != len(values) - 1:
        raise ValueError("The length of boundaries should be 1 less than the length of "
                         "values")
    with graph_lib.name_scope(name, "PiecewiseConstant",
                              _values(x, *boundaries, *values)) as scope:
        x = graph_lib.convert_to_tensor(x)
        boundaries = [_boundary_tensor(b, x.dtype) for b in boundaries]
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


# TF 1's second name of the same schedule (``tf.compat.v1.train.piecewise_constant_decay``).
piecewise_constant_decay = piecewise_constant


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

    return _periodic_decay(
        "inverse_time_decay", "InverseTimeDecay", learning_rate, global_step, decay_steps,
        decay_rate, staircase, name,
        lambda rate, decay, p, scope: math_ops.divide(rate, 1.0 + decay * p, name=scope))


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


def natural_exp_decay(learning_rate, global_step, decay_steps, decay_rate, staircase=False,
                      name=None):
    """``learning_rate * exp(-decay_rate * global_step / decay_steps)``.

    Args:
      learning_rate, global_step, decay_steps, decay_rate: as in `exponential_decay`.
      staircase: use whole periods only.
      name: the name scope (default 'ExponentialDecay': TF builds this schedule as an
        exponential decay by ``exp(-decay_rate)``, and names it so).

    Returns:
      A scalar Tensor of the learning rate's dtype.

    Raises:
      ValueError: if `global_step` is None.
    """
    from sessionlib.ops import math_ops

    return _periodic_decay(
        "natural_exp_decay", "ExponentialDecay", learning_rate, global_step, decay_steps,
        decay_rate, staircase, name,
        lambda rate, decay, p, scope: math_ops.multiply(rate, math_ops.exp(-decay * p),
                                                        name=scope))


def _linear_cosine_parts(dtype, step, decay_steps, num_periods):
    """(linear, cosine): the linear ramp from 1 to 0 over `decay_steps` and the cosine of
    `num_periods` periods, both at the step capped at `decay_steps`."""
    from sessionlib.ops import math_ops

    decay_steps = math_ops.cast(decay_steps, dtype)
    step = math_ops.minimum(step, decay_steps)
    linear = (decay_steps - step) / decay_steps
    pi = graph_lib.convert_to_tensor(math.pi, dtype=dtype)
    periods = math_ops.cast(num_periods, dtype)
    cosine = 0.5 * (1.0 + math_ops.cos(pi * 2.0 * periods * step / decay_steps))
    return linear, cosine


def linear_cosine_decay(learning_rate, global_step, decay_steps, num_periods=0.5, alpha=0.0,
                        beta=0.001, name=None):
    """``learning_rate * ((alpha + linear) * cosine + beta)`` where, with the step capped at
    `decay_steps`, ``linear = (decay_steps - step) / decay_steps`` and ``cosine = 0.5 * (1 +
    cos(2 pi num_periods step / decay_steps))`` (Bello et al., "Neural Optimizer Search").

    Args:
      learning_rate, global_step, decay_steps: as in `exponential_decay`.
      num_periods: the cosine's periods over `decay_steps`.
      alpha, beta: see the formula.
      name: the name scope (default 'LinearCosineDecay').

    Returns:
      A scalar Tensor of the learning rate's dtype.

    Raises:
      ValueError: if `global_step` is None.
    """
    from sessionlib.ops import math_ops

    _require_step(global_step, "linear_cosine_decay")
    with graph_lib.name_scope(name, "LinearCosineDecay",
                              _values(learning_rate, global_step, decay_steps, num_periods,
                                      alpha, beta)) as scope:
        rate, dtype, step = _start(learning_rate, global_step)
        linear, cosine = _linear_cosine_parts(dtype, step, decay_steps, num_periods)
        decayed = (math_ops.cast(alpha, dtype) + linear) * cosine + math_ops.cast(beta, dtype)
        return math_ops.multiply(rate, decayed, name=scope)


def noisy_linear_cosine_decay(learning_rate, global_step, decay_steps, initial_variance=1.0,
                              variance_decay=0.55, num_periods=0.5, alpha=0.0, beta=0.001,
                              name=None):
    """`linear_cosine_decay` with Gaussian noise added to the linear part: its variance is
    ``initial_variance / (1 + global_step) ** variance_decay``, drawn anew at each run.

    Args:
      learning_rate, global_step, decay_steps, num_periods, alpha, beta: as in
        `linear_cosine_decay`.
      initial_variance: the noise's variance at step 0.
      variance_decay: how fast the variance falls with the step.
      name: the name scope (default 'NoisyLinearCosineDecay').

    Returns:
      A scalar Tensor of the learning rate's dtype.

    Raises:
      ValueError: if `global_step` is None.
    """
    from sessionlib.ops import array_ops, math_ops, random_ops

    _require_step(global_step, "noisy_linear_cosine_decay")
    with graph_lib.name_scope(name, "NoisyLinearCosineDecay",
                              _values(learning_rate, global_step, decay_steps,
                                      initial_variance, variance_decay, num_periods, alpha,
                                      beta)) as scope:
        rate, dtype, step = _start(learning_rate, global_step)
        # The variance decays with the uncapped step; the linear and cosine parts cap it.
        variance = math_ops.cast(initial_variance, dtype) / math_ops.pow(
            1.0 + step, math_ops.cast(variance_decay, dtype))
        linear, cosine = _linear_cosine_parts(dtype, step, decay_steps, num_periods)
        noise = random_ops.random_normal(array_ops.shape(linear), stddev=math_ops.sqrt(variance),
                                         dtype=dtype)
        decayed = (math_ops.cast(alpha, dtype) + linear + noise) * cosine + math_ops.cast(
            beta, dtype)
        return math_ops.multiply(rate, decayed, name=scope)


def cosine_decay_restarts(learning_rate, global_step, first_decay_steps, t_mul=2.0, m_mul=1.0,
                          alpha=0.0, name=None):
    """Cosine decay with warm restarts (SGDR, Loshchilov and Hutter): a `cosine_decay` over
    `first_decay_steps`, then again over periods `t_mul` times longer each, the restart
    rate `m_mul` times lower each.

    In period ``i`` (from 0), at the fraction ``f`` of it done, the rate is ``learning_rate *
    ((1 - alpha) * m_mul ** i * 0.5 * (1 + cos(pi f)) + alpha)``.

    Args:
      learning_rate, global_step: as in `exponential_decay`.
      first_decay_steps: the first period's steps.
      t_mul: each period's length over the one before.
      m_mul: each restart's rate over the one before.
      alpha: the floor, a fraction of `learning_rate`.
      name: the name scope (default 'SGDRDecay').

    Returns:
      A scalar Tensor of the learning rate's dtype.

    Raises:
      ValueError: if `global_step` is None.
    """
    from sessionlib.ops import array_ops, math_ops

    _require_step(global_step, "cosine_decay_restarts")
    with graph_lib.name_scope(name, "SGDRDecay",
                              _values(learning_rate, global_step, first_decay_steps, t_mul,
                                      m_mul, alpha)) as scope:
        rate, dtype, step = _start(learning_rate, global_step)
        fraction = step / math_ops.cast(first_decay_steps, dtype)
        t_mul_t = math_ops.cast(t_mul, dtype)

        def equal_periods():
            restart = _floor(fraction)
            return restart, fraction - restart

        def growing_periods():
            # Periods 1, t, t^2, ... end at (1 - t^(i+1)) / (1 - t): invert that for i.
            restart = _floor(math_ops.log(1.0 - fraction * (1.0 - t_mul_t))
                             / math_ops.log(t_mul_t))
            done = (1.0 - math_ops.pow(t_mul_t, restart)) / (1.0 - t_mul_t)
            return restart, (fraction - done) / math_ops.pow(t_mul_t, restart)

        if isinstance(t_mul, numbers.Real):
            restart, completed = equal_periods() if t_mul == 1.0 else growing_periods()
        else:
            # A tensor t_mul: both forms, the one that applies picked at run time.
            equal = math_ops.equal(t_mul_t, 1.0)
            (r_eq, c_eq), (r_grow, c_grow) = equal_periods(), growing_periods()
            restart = array_ops.where(equal, r_eq, r_grow)
            completed = array_ops.where(equal, c_eq, c_grow)
        restart_scale = math_ops.pow(math_ops.cast(m_mul, dtype), restart)
        pi = graph_lib.convert_to_tensor(math.pi, dtype=dtype)
        cosine = 0.5 * restart_scale * (1.0 + math_ops.cos(pi * completed))
        alpha = math_ops.cast(alpha, dtype)
        return math_ops.multiply(rate, (1.0 - alpha) * cosine + alpha, name=scope)
