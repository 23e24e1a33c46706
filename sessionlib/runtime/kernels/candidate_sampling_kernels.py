"""Kernels of the candidate samplers and ``ComputeAccidentalHits``
(``sessionlib/ops/candidate_sampling_ops.py``).

Design. A sampler is a distribution over ``[0, range_max)``: a vectorized draw and the
probability of any id. Each op node owns one numpy generator in the session's resource
container, as the other random kernels do (``random_kernels._generator``); the learned unigram
sampler also keeps its counts there, so that each run continues them and a new session starts
them again. Drawing with replacement is one vectorized draw, whose expected counts are
``p * num_sampled``. Drawing without replacement repeats draws until ``num_sampled`` distinct
ids are found; with ``tries`` draws in all, an id of probability ``p`` is expected
``1 - (1 - p) ** tries`` times (TF's formula, written ``-expm1(tries * log1p(-p))`` for
accuracy), or ``p * num_sampled`` when no draw was rejected. The draws for the rejection loop
come in vectorized chunks; only the scan for new ids is Python, and it is short
(``num_sampled`` ids). The reference kernels are the fast ones: the work is numpy either way.
"""

import math
import threading

import numpy as np

from sessionlib.runtime.kernel_table import register_kernel
from sessionlib.runtime.kernels.array_kernels import invalid_argument
# The generator per op node is shared machinery of the random kernel family.
from sessionlib.runtime.kernels.random_kernels import _generator

# TF's weight of an accidental hit: the most negative float32, which masks the logit.
_HIT_WEIGHT = np.float32(-np.finfo(np.float32).max)


# ---- distributions --------------------------------------------------------------------------

class _Uniform:
    def __init__(self, range_max):
        self.range_max = range_max

    def draw(self, rng, count):
        return rng.integers(0, self.range_max, count, dtype=np.int64)

    def probability(self, ids):
        # TF gives every id, in range or not, the same probability.
        return np.full(np.shape(ids), 1.0 / self.range_max)


class _LogUniform:
    def __init__(self, range_max):
        self.range_max = range_max
        self.log_range = math.log(range_max + 1)

    def draw(self, rng, count):
        # exp(u * log(range_max + 1)) lies in [1, range_max + 1); round-off can reach the top.
        values = np.exp(rng.random(count) * self.log_range).astype(np.int64) - 1
        return np.minimum(values, self.range_max - 1)

    def probability(self, ids):
        ids = np.asarray(ids, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log((ids + 2.0) / (ids + 1.0)) / self.log_range


class _Weighted:
    """Ids drawn in proportion to fixed nonnegative weights (fixed and learned unigrams)."""

    def __init__(self, weights):
        self.weights = weights
        self.total = float(weights.sum())
        self.cdf = np.cumsum(weights)

    def draw(self, rng, count):
        points = rng.random(count) * self.cdf[-1]
        ids = np.searchsorted(self.cdf, points, side="right")
        return np.minimum(ids, len(self.weights) - 1).astype(np.int64)

    def probability(self, ids):
        ids = np.asarray(ids, dtype=np.int64)
        inside = (ids >= 0) & (ids < len(self.weights))
        picked = self.weights[np.where(inside, ids, 0)] / self.total
        return np.where(inside, picked, 0.0)


# ---- the shared sampler kernel --------------------------------------------------------------

def _true_classes(inputs, attrs):
    true_classes = inputs[0]
    if true_classes.ndim != 2:
        raise invalid_argument(f"true_classes must be a matrix, got shape "
                               f"{list(true_classes.shape)}")
    if true_classes.shape[1] != attrs["num_true"]:
        raise invalid_argument(f"true_classes must have num_true columns, expected: "
                               f"{true_classes.shape[1]} was: {attrs['num_true']}")
    return true_classes


def _draw_unique(rng, distribution, count):
    """`count` distinct ids, and how many draws it took to find them."""
    found, seen, tries = [], set(), 0
    while len(found) < count:
        chunk = distribution.draw(rng, max(2 * (count - len(found)), 16)).tolist()
        for value in chunk:
            tries += 1
            if value not in seen:
                seen.add(value)
                found.append(value)
                if len(found) == count:
                    break
    return np.asarray(found, dtype=np.int64), tries


def _expected_count(probability, count, tries):
    if tries == count:
        return (probability * count).astype(np.float32)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (-np.expm1(tries * np.log1p(-probability))).astype(np.float32)


def _sample(ctx, attrs, true_classes, distribution, positive_ids):
    """Draws for one run: the three sampler outputs."""
    count, unique = attrs["num_sampled"], attrs["unique"]
    if unique and count > positive_ids:
        # Without this check the rejection loop could never finish.
        raise invalid_argument(f"Sampler's range is too small: {count} unique candidates "
                               f"from {positive_ids} classes of nonzero probability")
    state = _generator(ctx, attrs)
    with state.lock:
        if unique:
            sampled, tries = _draw_unique(state.rng, distribution, count)
        else:
            sampled, tries = distribution.draw(state.rng, count), count
    true_expected = _expected_count(distribution.probability(true_classes), count, tries)
    sampled_expected = _expected_count(distribution.probability(sampled), count, tries)
    return (sampled, true_expected.reshape(true_classes.shape), sampled_expected)


def _range_sampler_kernel(make_distribution):
    def kernel(ctx, inputs, attrs):
        true_classes = _true_classes(inputs, attrs)
        range_max = attrs["range_max"]
        return _sample(ctx, attrs, true_classes, make_distribution(range_max), range_max)

    return kernel


# ---- learned unigrams -----------------------------------------------------------------------

class _LearnedCounts:
    """One learned-unigram op's counts: each id starts at 1 and gains 1 per true class."""

    __slots__ = ("counts", "lock")

    def __init__(self, range_max):
        self.counts = np.ones(range_max, dtype=np.float64)
        self.lock = threading.Lock()


def _learned_unigram_kernel(ctx, inputs, attrs):
    true_classes = _true_classes(inputs, attrs)
    range_max = attrs["range_max"]
    flat = true_classes.reshape(-1)
    if flat.size and (flat.min() < 0 or flat.max() >= range_max):
        raise invalid_argument(f"true_classes must lie in [0, {range_max}) to be counted")
    learned = ctx.resources.get_or_create(("learned_unigram_counts", attrs["_name"]),
                                          lambda: _LearnedCounts(range_max))
    with learned.lock:
        # Sample from the counts so far, then learn this run's classes, as TF does.
        outputs = _sample(ctx, attrs, true_classes, _Weighted(learned.counts.copy()),
                          range_max)
        np.add.at(learned.counts, flat, 1.0)
    return outputs


# ---- fixed unigrams -------------------------------------------------------------------------

def _vocab_counts(path):
    counts = []
    try:
        with open(path, encoding="utf-8") as vocab:
            for number, line in enumerate(vocab, 1):
                if not line.strip():
                    continue
                try:
                    counts.append(float(line.rstrip("\n").split(",")[-1]))
                except ValueError:
                    raise invalid_argument(f"{path}:{number}: the last field of a vocabulary "
                                           f"line must be a count, got {line.strip()!r}")
    except OSError as error:
        raise invalid_argument(f"cannot read vocab_file {path}: {error}")
    return counts


def _unigram_weights(attrs):
    shards, shard = attrs["num_shards"], attrs["shard"]
    unigrams = attrs["unigrams"] or _vocab_counts(attrs["vocab_file"])
    reserved = sum(1 for k in range(attrs["num_reserved_ids"]) if k % shards == shard)
    # As in TF, the ids of the weighted classes continue from the reserved ids kept.
    kept = [w for k, w in enumerate(unigrams, reserved) if k % shards == shard]
    weights = np.concatenate([np.zeros(reserved),
                              np.power(np.asarray(kept, dtype=np.float64),
                                       attrs["distortion"])])
    if not np.all(np.isfinite(weights)) or np.any(weights < 0) or weights.sum() <= 0:
        raise invalid_argument("unigram weights must be finite, nonnegative and not all 0")
    if len(weights) != attrs["range_max"]:
        raise invalid_argument(f"range_max ({attrs['range_max']}) must equal the number of "
                               f"classes of the sampler ({len(weights)})")
    return weights


def _fixed_unigram_kernel(ctx, inputs, attrs):
    true_classes = _true_classes(inputs, attrs)
    # The weights are fixed per op: build them (and read any vocabulary) once per session.
    distribution = ctx.resources.get_or_create(("fixed_unigram_weights", attrs["_name"]),
                                               lambda: _Weighted(_unigram_weights(attrs)))
    positive = int(np.count_nonzero(distribution.weights))
    return _sample(ctx, attrs, true_classes, distribution, positive)


def _all_sampler_kernel(ctx, inputs, attrs):
    true_classes = _true_classes(inputs, attrs)
    count = attrs["num_sampled"]
    return (np.arange(count, dtype=np.int64),
            np.ones(true_classes.shape, dtype=np.float32), np.ones(count, dtype=np.float32))


# ---- ComputeAccidentalHits ------------------------------------------------------------------

def _accidental_hits_kernel(ctx, inputs, attrs):
    true_classes, sampled = inputs
    true_classes = _true_classes((true_classes,), attrs)
    if sampled.ndim != 1:
        raise invalid_argument(f"sampled_candidates must be a vector, got shape "
                               f"{list(sampled.shape)}")
    flat = true_classes.reshape(-1)
    # Each sampled value maps to its last position (TF keeps the last one written).
    reversed_values = sampled[::-1]
    values, first_in_reversed = np.unique(reversed_values, return_index=True)
    last_position = len(sampled) - 1 - first_in_reversed
    slots = np.searchsorted(values, flat)
    slots = np.minimum(slots, max(len(values) - 1, 0))
    hit = (values[slots] == flat) if len(values) else np.zeros(flat.shape, dtype=bool)
    rows = np.nonzero(hit)[0] // attrs["num_true"]
    ids = last_position[slots[hit]].astype(np.int64) if len(values) else \
        np.zeros(0, dtype=np.int64)
    return (rows.astype(np.int32), ids, np.full(len(rows), _HIT_WEIGHT, dtype=np.float32))


register_kernel("UniformCandidateSampler", reference=_range_sampler_kernel(_Uniform))
register_kernel("LogUniformCandidateSampler", reference=_range_sampler_kernel(_LogUniform))
register_kernel("LearnedUnigramCandidateSampler", reference=_learned_unigram_kernel)
register_kernel("FixedUnigramCandidateSampler", reference=_fixed_unigram_kernel)
register_kernel("AllCandidateSampler", reference=_all_sampler_kernel)
register_kernel("ComputeAccidentalHits", reference=_accidental_hits_kernel)
