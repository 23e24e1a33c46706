"""Kernels of the random ops (``sessionlib/ops/random_ops.py``).

Design. Each random op node owns one numpy generator, kept in the session's resource container
under the op's name (``ctx.resources``): every run continues that op's sequence, and a new
session (a new container) starts it again. The generator is seeded from the node's ``seed`` and
``seed2`` attrs, which the ops side fixes by TF's seed rules while the graph is built; (0, 0)
means unseeded, drawn from the OS. A lock per generator keeps concurrent runs from sharing one
draw. The fast and reference kernels are the same numpy code, so both executors draw the same
numbers for the same seeds.
"""

import math
import threading

import numpy as np

from sessionlib import errors
from sessionlib.runtime.kernel_table import register_kernel


class _OpGenerator:
    """One random op's generator and the lock that keeps concurrent runs from sharing it."""

    __slots__ = ("rng", "lock")

    def __init__(self, seed, seed2):
        if seed == 0 and seed2 == 0:
            self.rng = np.random.default_rng()
        else:
            self.rng = np.random.default_rng([seed & 0xFFFFFFFFFFFFFFFF,
                                              seed2 & 0xFFFFFFFFFFFFFFFF])
        self.lock = threading.Lock()


def _generator(ctx, attrs):
    seed, seed2 = int(attrs["seed"]), int(attrs["seed2"])
    return ctx.resources.get_or_create(("random_op_generator", attrs["_name"]),
                                       lambda: _OpGenerator(seed, seed2))


def _shape_arg(shape_t):
    if shape_t.ndim != 1:
        raise errors.InvalidArgumentError(None, None, "shape must be a vector of {int32,int64}"
                                          f", got shape {list(shape_t.shape)}")
    dims = [int(d) for d in shape_t.tolist()]
    if any(d < 0 for d in dims):
        raise errors.InvalidArgumentError(None, None, f"Dimension -1 must be >= 0: {dims}")
    return dims


def _draw_uniform(rng, dims, np_dtype):
    if np_dtype == np.float16:
        # Rounding a float32 draw to half can give 1.0; keep the interval half-open.
        values = rng.random(dims, dtype=np.float32).astype(np.float16)
        return np.minimum(values, np.float16(np.nextafter(np.float16(1), np.float16(0))))
    return rng.random(dims, dtype=np_dtype)


def _draw_normal(rng, dims, np_dtype):
    if np_dtype == np.float16:
        return rng.standard_normal(dims, dtype=np.float32).astype(np.float16)
    return rng.standard_normal(dims, dtype=np_dtype)


def _draw_truncated(rng, dims, np_dtype):
    draw_dtype = np.float32 if np_dtype == np.float16 else np_dtype
    values = rng.standard_normal(dims, dtype=draw_dtype)
    # Redraw values more than two standard deviations out, as TF does.
    outside = np.abs(values) > 2
    while outside.any():
        values[outside] = rng.standard_normal(int(outside.sum()), dtype=draw_dtype)
        outside = np.abs(values) > 2
    return values.astype(np_dtype, copy=False)


def _random_kernel(draw):
    def kernel(ctx, inputs, attrs):
        dims = _shape_arg(inputs[0])
        state = _generator(ctx, attrs)
        np_dtype = np.dtype(attrs["dtype"].as_numpy_dtype)
        with state.lock:
            return (np.asarray(draw(state.rng, dims, np_dtype)),)

    return kernel


def _random_int_kernel(ctx, inputs, attrs):
    shape_t, low, high = inputs
    dims = _shape_arg(shape_t)
    low, high = int(low), int(high)
    if low >= high:
        raise errors.InvalidArgumentError(None, None, f"Need minval < maxval: {low} >= {high}")
    state = _generator(ctx, attrs)
    with state.lock:
        return (np.asarray(state.rng.integers(low, high, dims, dtype=inputs[1].dtype)),)


register_kernel("RandomUniform", reference=_random_kernel(_draw_uniform))
register_kernel("RandomStandardNormal", reference=_random_kernel(_draw_normal))
register_kernel("TruncatedNormal", reference=_random_kernel(_draw_truncated))
register_kernel("RandomUniformInt", reference=_random_int_kernel)


# ---- RandomGamma, RandomPoissonV2, RandomGammaGrad -------------------------------------------

def _sampled_kernel(draw):
    """A kernel drawing `shape` samples per entry of its parameter input (TF's layout: the
    sample dimensions first)."""
    def kernel(ctx, inputs, attrs):
        shape_t, param = inputs
        dims = _shape_arg(shape_t) + list(param.shape)
        out_dtype = np.dtype((attrs.get("dtype") or attrs["T"]).as_numpy_dtype)
        state = _generator(ctx, attrs)
        with state.lock:
            values = draw(state.rng, np.asarray(param, dtype=np.float64), dims)
        return (np.asarray(values).astype(out_dtype, copy=False),)

    return kernel


def _draw_gamma(rng, alpha, dims):
    if (alpha <= 0).any() or np.isnan(alpha).any():
        # TF gives NaN samples for such concentrations; numpy would raise.
        safe = np.where(alpha > 0, alpha, 1.0)
        return np.where(alpha > 0, rng.gamma(safe, size=dims), np.nan)
    return rng.gamma(alpha, size=dims)


def _draw_poisson(rng, rate, dims):
    if (rate < 0).any() or np.isnan(rate).any():
        raise errors.InvalidArgumentError(None, None, "Poisson rates must be >= 0 and not NaN")
    return rng.poisson(rate, size=dims)


def _gamma_sample_derivative(alpha, sample):
    """d sample / d alpha of a Gamma(alpha, 1) sample, by implicit differentiation of its CDF
    P(alpha, sample) = u: -(dP/dalpha) / (dP/dsample). dP/dalpha is a central difference of
    the regularized incomplete gamma function in float64."""
    from sessionlib.runtime.kernels.special_math_kernels import _incomplete_gamma

    if not (alpha > 0 and sample > 0) or math.isinf(sample):
        return 0.0 if sample == 0 else math.nan
    lower = _incomplete_gamma(False)
    step = 1e-5 * max(alpha, 1e-2)
    d_alpha = (lower(alpha + step, sample) - lower(alpha - step, sample)) / (2 * step)
    log_density = (alpha - 1) * math.log(sample) - sample - math.lgamma(alpha)
    return -d_alpha / math.exp(log_density)


def _random_gamma_grad_kernel(ctx, inputs, attrs):
    alpha, sample = np.broadcast_arrays(*inputs)
    values = np.array([_gamma_sample_derivative(float(a), float(x))
                       for a, x in zip(alpha.ravel(), sample.ravel())])
    return (values.reshape(alpha.shape).astype(inputs[0].dtype, copy=False),)


register_kernel("RandomGamma", reference=_sampled_kernel(_draw_gamma))
register_kernel("RandomPoissonV2", reference=_sampled_kernel(_draw_poisson))
register_kernel("RandomGammaGrad", reference=_random_gamma_grad_kernel)
