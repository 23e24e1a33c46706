"""Parity cases (see test_parity.py) of the candidate-sampling family. The samplers are
stateful random ops, which the parity suite leaves to tests/test_candidate_sampling.py;
ComputeAccidentalHits is deterministic, so both executors must find the same hits."""

import sessionlib as tf


def _accidental_hits(f, d):
    # Classes 0..4 in both inputs, so rows hit often, sometimes twice.
    true_classes = f((6, 3), tf.int64, low=0, high=5)
    sampled = f((7,), tf.int64, low=0, high=5)
    return list(tf.nn.compute_accidental_hits(true_classes, sampled, num_true=3))


def add_cases(case):
    """Adds this family's cases through test_parity's `case(op_type, dtypes, build)`."""
    case("ComputeAccidentalHits", (tf.int64,), _accidental_hits)
