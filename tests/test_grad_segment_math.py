"""Numeric gradient checks of tf.math's segment reductions, Cumprod and CumulativeLogsumexp
(TF's formulas): ties
for max and min are kept apart by more than the central-difference step, products include one
zero per segment (where the partials are the product of the others) and segments of two
zeros (where they are all 0)."""

import numpy as np
import pytest

import sessionlib as tf
from _gradient_check import GradCase, case_ids, check_case, distinct_values

_rng = np.random.RandomState(5)


def _values(*shape, low=-2.0, high=2.0):
    return _rng.uniform(low, high, size=shape)


def _away_from_zero(*shape):
    return _rng.uniform(0.5, 2.0, size=shape) * _rng.choice([-1.0, 1.0], size=shape)


_WITH_ZEROS = np.array([[1.5, 0.0], [2.0, -1.0], [0.0, 3.0], [0.5, 0.0], [-1.2, 0.7]])
_SORTED_IDS = [0, 0, 1, 3, 3]
_UNSORTED_IDS = [2, 0, 1, -1, 0]

GRADIENT_CASES = [
    GradCase("SegmentMean", lambda x: tf.math.segment_mean(x, _SORTED_IDS), [_values(5, 2)]),
    GradCase("SegmentMax", lambda x: tf.math.segment_max(x, _SORTED_IDS),
             [distinct_values(_rng, 5, 2)]),
    GradCase("SegmentMin", lambda x: tf.math.segment_min(x, _SORTED_IDS),
             [distinct_values(_rng, 5, 2)]),
    GradCase("SegmentProd", lambda x: tf.math.segment_prod(x, _SORTED_IDS),
             [_away_from_zero(5, 2)]),
    GradCase("SegmentProd", lambda x: tf.math.segment_prod(x, _SORTED_IDS), [_WITH_ZEROS],
             id="SegmentProd-zeros"),
    GradCase("SegmentProd", lambda x: tf.math.segment_prod(x, [0, 0, 0]),
             [np.array([[0.0, 0.0], [0.0, 1.5], [2.0, 0.0]])], id="SegmentProd-two-zeros"),
    # No empty segment: its lowest-float fill would overflow the check's weighted sum.
    GradCase("UnsortedSegmentMax", lambda x: tf.math.unsorted_segment_max(x, _UNSORTED_IDS, 3),
             [distinct_values(_rng, 5, 2)]),
    GradCase("UnsortedSegmentMin", lambda x: tf.math.unsorted_segment_min(
        x, tf.constant([[1, 0], [1, 1]]), 2), [distinct_values(_rng, 2, 2, 3)],
             id="UnsortedSegmentMin-2d-ids"),
    GradCase("UnsortedSegmentProd",
             lambda x: tf.math.unsorted_segment_prod(x, _UNSORTED_IDS, 3),
             [_away_from_zero(5, 2)]),
    GradCase("UnsortedSegmentProd",
             lambda x: tf.math.unsorted_segment_prod(x, _UNSORTED_IDS, 3), [_WITH_ZEROS],
             id="UnsortedSegmentProd-zeros"),
    GradCase("UnsortedSegmentProd", lambda x: tf.math.unsorted_segment_prod(x, [1, 1, 1], 2),
             [np.array([[0.0, 0.0], [0.0, 1.5], [2.0, 0.0]])],
             id="UnsortedSegmentProd-two-zeros"),
    GradCase("UnsortedSegmentSum",
             lambda x: tf.math.unsorted_segment_mean(x, _UNSORTED_IDS, 4), [_values(5, 2)],
             id="unsorted_segment_mean"),
    GradCase("UnsortedSegmentSum",
             lambda x: tf.math.unsorted_segment_sqrt_n(x, _UNSORTED_IDS, 4), [_values(5, 2)],
             id="unsorted_segment_sqrt_n"),
    GradCase("Cumprod", lambda x: tf.math.cumprod(x, 1), [_away_from_zero(2, 4)]),
    GradCase("Cumprod", lambda x: tf.math.cumprod(x, 0, exclusive=True, reverse=True),
             [_away_from_zero(3, 2)], id="Cumprod-exclusive-reverse"),
    GradCase("CumulativeLogsumexp", lambda x: tf.math.cumulative_logsumexp(x, 1),
             [_values(2, 4)]),
    GradCase("CumulativeLogsumexp",
             # The last row is the empty sum, -inf: left out of the checked loss.
             lambda x: tf.math.cumulative_logsumexp(x, 0, exclusive=True, reverse=True)[:-1],
             [_values(3, 2)], id="CumulativeLogsumexp-exclusive-reverse"),
]


@pytest.mark.parametrize("case", GRADIENT_CASES, ids=case_ids(GRADIENT_CASES))
def test_numeric_gradient(case):
    check_case(case)
