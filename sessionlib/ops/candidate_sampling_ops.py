"""Candidate samplers and accidental hits (TF 1's ``candidate_sampling_ops``).

The samplers (``UniformCandidateSampler``, ``LogUniformCandidateSampler``,
``LearnedUnigramCandidateSampler``, ``FixedUnigramCandidateSampler`` and
``AllCandidateSampler``) draw ``num_sampled`` class ids from ``[0, range_max)`` and report how
often each true class and each sampled class is expected to be drawn, which sampled losses
(``nce_loss``, ``sampled_softmax_loss``) subtract as log Q. They are stateful random ops seeded
like those of ``random_ops.py`` (TF's ``get_seed`` rules, recorded as ``seed``/``seed2``), and
not differentiable. ``ComputeAccidentalHits`` finds the sampled positions that equal a row's
true class, so that a loss can mask them. The kernels are in
``runtime/kernels/candidate_sampling_kernels.py``.
"""

import collections
import numbers

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework import registry
from sessionlib.framework.tensor_shape import TensorShape
from sessionlib.ops import math_ops, random_ops
from sessionlib.ops.nn import nn
from sessionlib.ops.sampling_ops import random

__all__ = ["uniform_candidate_sampler", "log_uniform_candidate_sampler",
           "learned_unigram_candidate_sampler", "fixed_unigram_candidate_sampler",
           "all_candidate_sampler", "compute_accidental_hits"]

# What every sampler function returns (TF's ``CandidateSampler`` outputs, in order).
SampledValues = collections.namedtuple(
    "SampledValues", ["sampled_candidates", "true_expected_count", "sampled_expected_count"])


# ---- attrs ----------------------------------------------------------------------------------

def _int_attr(attrs, op_type, name, minimum=None, default=None):
    value = attrs.get(name, default)
    if value is None:
        raise ValueError(f"{op_type} needs the attr '{name}'")
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"Expected int for attr '{name}' of {op_type}, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"Attr '{name}' of {op_type} must be >= {minimum}, got {value}")
    attrs[name] = int(value)
    return int(value)


def _bool_attr(attrs, op_type, name):
    value = attrs.get(name)
    if not isinstance(value, bool):
        raise TypeError(f"Expected bool for attr '{name}' of {op_type}, got {value!r}")
    return value


def _float_attr(attrs, op_type, name, default):
    value = attrs.get(name, default)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"Expected float for attr '{name}' of {op_type}, got {value!r}")
    attrs[name] = float(value)


def _true_classes_shape(op_type, true_classes, num_true):
    if true_classes.dtype is not dtypes.int64:
        raise TypeError(f"Input 'true_classes' of '{op_type}' Op has type "
                        f"{true_classes.dtype.name} that does not match expected type of int64.")
    shape = true_classes.shape
    if shape.rank not in (None, 2):
        raise ValueError(f"Shape must be rank 2 but is rank {shape.rank} for '{op_type}'")
    if shape.rank == 2 and shape[1] is not None and shape[1] != num_true:
        raise ValueError(f"Dimension 1 of true_classes is {shape[1]} but num_true is "
                         f"{num_true} in '{op_type}'")
    return shape[0] if shape.rank == 2 else None


# ---- the samplers ---------------------------------------------------------------------------

def _sampler_infer(op_type, check_extra_attrs=None):
    def infer(inputs, attrs):
        num_true = _int_attr(attrs, op_type, "num_true", minimum=1)
        num_sampled = _int_attr(attrs, op_type, "num_sampled", minimum=1)
        unique = _bool_attr(attrs, op_type, "unique")
        range_max = _int_attr(attrs, op_type, "range_max", minimum=1)
        _int_attr(attrs, op_type, "seed", default=0)
        _int_attr(attrs, op_type, "seed2", default=0)
        if unique and num_sampled > range_max:
            raise ValueError(f"{op_type}: cannot draw {num_sampled} unique candidates from a "
                             f"range of {range_max}")
        if check_extra_attrs is not None:
            check_extra_attrs(attrs, num_sampled, range_max)
        batch = _true_classes_shape(op_type, inputs[0], num_true)
        return [(dtypes.int64, TensorShape([num_sampled])),
                (dtypes.float32, TensorShape([batch, num_true])),
                (dtypes.float32, TensorShape([num_sampled]))]

    return infer


def _fixed_unigram_attrs(attrs, num_sampled, range_max):
    op_type = "FixedUnigramCandidateSampler"
    vocab_file = attrs.setdefault("vocab_file", "")
    unigrams = attrs.setdefault("unigrams", [])
    if not isinstance(vocab_file, str):
        raise TypeError(f"Expected string for attr 'vocab_file' of {op_type}, got "
                        f"{vocab_file!r}")
    if not isinstance(unigrams, (list, tuple)) or not all(
            isinstance(w, numbers.Real) and not isinstance(w, bool) for w in unigrams):
        raise TypeError(f"Expected a list of floats for attr 'unigrams' of {op_type}, got "
                        f"{unigrams!r}")
    attrs["unigrams"] = [float(w) for w in unigrams]
    if bool(vocab_file) == bool(unigrams):
        raise ValueError(f"{op_type}: give either vocab_file or unigrams, not both or neither")
    _float_attr(attrs, op_type, "distortion", 1.0)
    reserved = _int_attr(attrs, op_type, "num_reserved_ids", minimum=0, default=0)
    shards = _int_attr(attrs, op_type, "num_shards", minimum=1, default=1)
    shard = _int_attr(attrs, op_type, "shard", minimum=0, default=0)
    if shard >= shards:
        raise ValueError(f"{op_type}: shard {shard} is not below num_shards {shards}")
    if unigrams and shards == 1 and reserved + len(unigrams) != range_max:
        raise ValueError(f"{op_type}: range_max ({range_max}) must be num_reserved_ids "
                         f"({reserved}) plus the number of unigrams ({len(unigrams)})")


def _all_sampler_infer(inputs, attrs):
    op_type = "AllCandidateSampler"
    num_true = _int_attr(attrs, op_type, "num_true", minimum=1)
    num_sampled = _int_attr(attrs, op_type, "num_sampled", minimum=1)
    _bool_attr(attrs, op_type, "unique")
    _int_attr(attrs, op_type, "seed", default=0)
    _int_attr(attrs, op_type, "seed2", default=0)
    batch = _true_classes_shape(op_type, inputs[0], num_true)
    return [(dtypes.int64, TensorShape([num_sampled])),
            (dtypes.float32, TensorShape([batch, num_true])),
            (dtypes.float32, TensorShape([num_sampled]))]


_SAMPLER_DOCS = {
    "UniformCandidateSampler": "Draws classes uniformly from [0, range_max).",
    "LogUniformCandidateSampler": "Draws classes by the log-uniform (Zipfian) distribution.",
    "LearnedUnigramCandidateSampler": "Draws classes by the counts of the true classes seen.",
    "FixedUnigramCandidateSampler": "Draws classes by given unigram weights.",
}
for _op_type, _doc in _SAMPLER_DOCS.items():
    registry.register_op(
        _op_type, kernel=_op_type, num_inputs=1, stateful=True, doc=_doc,
        infer=_sampler_infer(_op_type, _fixed_unigram_attrs
                             if _op_type == "FixedUnigramCandidateSampler" else None),
        gradient=registry.NOT_DIFFERENTIABLE)
registry.register_op("AllCandidateSampler", infer=_all_sampler_infer,
                     kernel="AllCandidateSampler", num_inputs=1, stateful=True,
                     doc="Every class of [0, num_sampled), each expected once.",
                     gradient=registry.NOT_DIFFERENTIABLE)


def _checked_count(value, name, minimum=1):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"Expected int for argument '{name}' not {value!r}.")
    if value < minimum:
        raise ValueError(f"'{name}' must be >= {minimum}, got {value}")
    return int(value)


def _sample(op_type, true_classes, num_true, num_sampled, unique, seed, name, **attrs):
    graph = math_ops._find_graph([true_classes])
    with graph.as_default():
        classes = graph_lib.convert_to_tensor(true_classes, dtype=dtypes.int64,
                                              name="true_classes")
        attrs.update(random_ops._seed_attrs(seed))
        attrs.update(num_true=_checked_count(num_true, "num_true"),
                     num_sampled=_checked_count(num_sampled, "num_sampled"),
                     unique=bool(unique))
        op = graph.create_op(op_type, [classes], attrs, name=name or op_type)
    return SampledValues(*op.outputs)


def uniform_candidate_sampler(true_classes, num_true, num_sampled, unique, range_max,
                              seed=None, name=None):
    """Samples classes uniformly from ``[0, range_max)`` (op ``UniformCandidateSampler``).

    Args:
      true_classes: an int64 ``[batch_size, num_true]`` Tensor of the target classes.
      num_true: the number of target classes per example.
      num_sampled: the number of classes to draw.
      unique: if True, draw without replacement (needs ``num_sampled <= range_max``).
      range_max: the number of classes.
      seed: the op-level seed (see `set_random_seed`).
      name: the op name.

    Returns:
      ``(sampled_candidates, true_expected_count, sampled_expected_count)``: an int64
      ``[num_sampled]`` Tensor, and float32 Tensors of shapes ``[batch_size, num_true]`` and
      ``[num_sampled]``: how many times each class is expected among the draws (with
      ``unique``, in the attempts it took to find ``num_sampled`` distinct classes).

    Raises:
      TypeError, ValueError: for bad counts, shapes or dtypes.
    """
    return _sample("UniformCandidateSampler", true_classes, num_true, num_sampled, unique,
                   seed, name, range_max=_checked_count(range_max, "range_max"))


def log_uniform_candidate_sampler(true_classes, num_true, num_sampled, unique, range_max,
                                  seed=None, name=None):
    """Samples classes by the log-uniform (Zipfian) distribution
    ``P(k) = (log(k + 2) - log(k + 1)) / log(range_max + 1)`` (op
    ``LogUniformCandidateSampler``), which suits classes sorted by decreasing frequency.

    Args and Returns: as for `uniform_candidate_sampler`.
    """
    return _sample("LogUniformCandidateSampler", true_classes, num_true, num_sampled, unique,
                   seed, name, range_max=_checked_count(range_max, "range_max"))


def learned_unigram_candidate_sampler(true_classes, num_true, num_sampled, unique, range_max,
                                      seed=None, name=None):
    """Samples classes in proportion to one plus how often each was a true class in the
    op's earlier runs of the session (op ``LearnedUnigramCandidateSampler``); each run
    samples first, then counts its `true_classes`.

    Args and Returns: as for `uniform_candidate_sampler`.
    """
    return _sample("LearnedUnigramCandidateSampler", true_classes, num_true, num_sampled,
                   unique, seed, name, range_max=_checked_count(range_max, "range_max"))


def fixed_unigram_candidate_sampler(true_classes, num_true, num_sampled, unique, range_max,
                                    vocab_file="", distortion=1.0, num_reserved_ids=0,
                                    num_shards=1, shard=0, unigrams=(), seed=None,
                                    name=None):
    """Samples classes by fixed unigram weights (op ``FixedUnigramCandidateSampler``).

    Class ``num_reserved_ids + i`` has weight ``unigrams[i] ** distortion``; the reserved
    classes have weight 0. With ``num_shards > 1`` only the classes ``k`` with
    ``k % num_shards == shard`` are kept, in order, as TF does.

    Args:
      true_classes, num_true, num_sampled, unique, range_max, seed, name: as for
        `uniform_candidate_sampler`.
      vocab_file: a CSV file whose lines end with each class's count (instead of
        `unigrams`).
      distortion: the power applied to each weight.
      num_reserved_ids: the number of classes of weight 0 before the weighted ones.
      num_shards, shard: which shard of the classes this sampler draws from.
      unigrams: the weights, one per class after the reserved ones.

    Returns:
      As for `uniform_candidate_sampler`.

    Raises:
      TypeError, ValueError: for bad arguments, both or neither of `vocab_file` and
        `unigrams`, or a `range_max` that does not count the classes.
    """
    return _sample("FixedUnigramCandidateSampler", true_classes, num_true, num_sampled,
                   unique, seed, name, range_max=_checked_count(range_max, "range_max"),
                   vocab_file=str(vocab_file or ""), distortion=float(distortion),
                   num_reserved_ids=int(num_reserved_ids), num_shards=int(num_shards),
                   shard=int(shard), unigrams=[float(w) for w in unigrams])


def all_candidate_sampler(true_classes, num_true, num_sampled, unique, seed=None, name=None):
    """Returns every class of ``[0, num_sampled)``, each with expected count 1 (op
    ``AllCandidateSampler``; for testing sampled losses against their full versions).

    Args and Returns: as for `uniform_candidate_sampler` (`unique` is ignored).
    """
    return _sample("AllCandidateSampler", true_classes, num_true, num_sampled, unique, seed,
                   name)


# ---- ComputeAccidentalHits ------------------------------------------------------------------

def _accidental_hits_infer(inputs, attrs):
    op_type = "ComputeAccidentalHits"
    true_classes, sampled = inputs
    num_true = _int_attr(attrs, op_type, "num_true", minimum=1)
    _int_attr(attrs, op_type, "seed", default=0)
    _int_attr(attrs, op_type, "seed2", default=0)
    _true_classes_shape(op_type, true_classes, num_true)
    if sampled.dtype is not dtypes.int64:
        raise TypeError(f"Input 'sampled_candidates' of '{op_type}' Op has type "
                        f"{sampled.dtype.name} that does not match expected type of int64.")
    if sampled.shape.rank not in (None, 1):
        raise ValueError(f"Shape must be rank 1 but is rank {sampled.shape.rank} for "
                         f"'{op_type}'")
    hits = TensorShape([None])
    return [(dtypes.int32, hits), (dtypes.int64, hits), (dtypes.float32, hits)]


registry.register_op("ComputeAccidentalHits", infer=_accidental_hits_infer,
                     kernel="ComputeAccidentalHits", num_inputs=2,
                     doc="The sampled positions that equal a true class of a row.",
                     gradient=registry.NOT_DIFFERENTIABLE)


def compute_accidental_hits(true_classes, sampled_candidates, num_true, seed=None, name=None):
    """The positions in `sampled_candidates` that equal a true class (op
    ``ComputeAccidentalHits``), as ``(indices, ids, weights)`` triples.

    For each row ``i`` and each of its true classes in order, a class that was sampled gives
    one hit: ``indices`` holds ``i``, ``ids`` the (last) position of that class in
    `sampled_candidates`, and ``weights`` ``-FLT_MAX``; adding the weights to those sampled
    logits removes them from a sampled loss.

    Args:
      true_classes: an int64 ``[batch_size, num_true]`` Tensor.
      sampled_candidates: an int64 ``[num_sampled]`` Tensor (a sampler's first output).
      num_true: the number of target classes per example.
      seed: the op-level seed, recorded as TF does (the op draws nothing).
      name: the op name.

    Returns:
      ``(indices, ids, weights)``: int32, int64 and float32 vectors of one length.

    Raises:
      TypeError, ValueError: for bad dtypes, shapes or `num_true`.
    """
    graph = math_ops._find_graph([true_classes, sampled_candidates])
    with graph.as_default():
        classes = graph_lib.convert_to_tensor(true_classes, dtype=dtypes.int64,
                                              name="true_classes")
        sampled = graph_lib.convert_to_tensor(sampled_candidates, dtype=dtypes.int64,
                                              name="sampled_candidates")
        attrs = random_ops._seed_attrs(seed)
        attrs["num_true"] = _checked_count(num_true, "num_true")
        op = graph.create_op("ComputeAccidentalHits", [classes, sampled], attrs,
                             name=name or "ComputeAccidentalHits")
    return tuple(op.outputs)


for _name in __all__:
    setattr(nn, _name, globals()[_name])
    # TF 2 moved the samplers to ``tf.random``; TF 1.15 has them in both namespaces.
    if _name.endswith("_sampler"):
        setattr(random, _name, globals()[_name])
