"""Kernels of ``RandomShuffle`` and ``Multinomial`` (``sessionlib/ops/sampling_ops.py``).

Design. Like the other random kernels (``random_kernels.py``), each op node owns one numpy
generator in the session's resource container, seeded from its ``seed``/``seed2`` attrs, and
draws under that generator's lock. A shuffle is one permutation and a ``np.take``. A
categorical draw is inverse-CDF sampling: the softmax of each row (computed in float64 after
subtracting the row maximum, so that large logits do not overflow and ``-inf`` logits get
probability 0), its cumulative sum, and one ``searchsorted`` of the uniform draws for all rows. The reference
kernels are the fast ones: both are numpy either way.
"""

import numpy as np

from sessionlib.runtime.kernel_table import register_kernel
from sessionlib.runtime.kernels.array_kernels import invalid_argument
# The generator per op node is shared machinery of the random kernel family.
from sessionlib.runtime.kernels.random_kernels import _generator


def _random_shuffle_kernel(ctx, inputs, attrs):
    value = inputs[0]
    if value.ndim == 0 or value.shape[0] <= 1:
        return (value,)
    state = _generator(ctx, attrs)
    with state.lock:
        order = state.rng.permutation(value.shape[0])
    return (np.take(value, order, axis=0),)


def _multinomial_kernel(ctx, inputs, attrs):
    logits, count_t = inputs
    if logits.ndim != 2:
        raise invalid_argument(f"logits should be a matrix, got shape {list(logits.shape)}")
    if count_t.ndim != 0:
        raise invalid_argument(f"num_samples should be a scalar, got shape "
                               f"{list(count_t.shape)}")
    count = int(count_t)
    if count < 0:
        raise invalid_argument(f"num_samples should be nonnegative, got {count}")
    batch, classes = logits.shape
    if classes <= 0:
        raise invalid_argument(f"num_classes should be positive, got {classes}")
    out_dtype = np.dtype(attrs["output_dtype"].as_numpy_dtype)
    state = _generator(ctx, attrs)
    if batch == 0 or count == 0:
        return (np.zeros((batch, count), dtype=out_dtype),)
    values = logits.astype(np.float64)
    top = np.max(values, axis=1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(invalid="ignore", over="ignore"):
        weights = np.exp(values - top)
    cdf = np.cumsum(weights, axis=1)
    with state.lock:
        uniforms = state.rng.random((batch, count))
    # One searchsorted for all rows: row r's normalized CDF, shifted by r, lies in [r, r + 1],
    # so the concatenated rows are sorted and each draw r + u lands in its own row.
    offsets = np.arange(batch, dtype=np.float64)[:, None]
    shifted = (cdf / cdf[:, -1:] + offsets).reshape(-1)
    positions = np.searchsorted(shifted, (uniforms + offsets).reshape(-1), side="right")
    samples = positions.reshape(batch, count) - (offsets * classes).astype(np.int64)
    # Round-off can put a draw just past its row's end; it belongs to the last class. (A row
    # without a finite positive weight has no distribution; its draws stay in range.)
    np.clip(samples, 0, classes - 1, out=samples)
    return (samples.astype(out_dtype, copy=False),)


register_kernel("RandomShuffle", reference=_random_shuffle_kernel)
register_kernel("Multinomial", reference=_multinomial_kernel)
