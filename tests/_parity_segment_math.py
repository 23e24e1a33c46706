"""Parity cases (see test_parity.py) of tf.math's segment reductions, Cumprod, CumulativeLogsumexp
and DenseBincount: sorted segments with gaps (empty segments), unsorted ones with dropped
(negative) ids and 2-D ids, scans in every direction, and counts with and without weights."""

import sessionlib as tf

FLOATS = (tf.float16, tf.float32, tf.float64)
NUMERIC = FLOATS + (tf.int8, tf.int16, tf.int32, tf.int64, tf.uint8)
BINCOUNT_WEIGHTS = (tf.int32, tf.int64, tf.float32, tf.float64)


def _sorted(function):
    def build(f, d):
        return [function(f((5, 2), d, low=-3, high=4), [0, 0, 1, 3, 3]),
                function(f((4,), d, low=-3, high=4), tf.constant([1, 1, 1, 2], tf.int64))]

    return build


def _unsorted(function):
    def build(f, d):
        return [function(f((5, 3), d, low=-3, high=4), tf.constant([2, 0, 2, 3, -1]), 4),
                function(f((2, 3, 2), d, low=-3, high=4),
                         tf.constant([[1, 1, 0], [0, 1, 1]], tf.int64), tf.constant(3, tf.int64)),
                function(f((0, 2), d), tf.zeros([0], tf.int32), 2)]

    return build


def _cumprod(f, d):
    return [tf.math.cumprod(f((3, 4), d, low=-2, high=3), 1),
            tf.math.cumprod(f((3, 4), d, low=-2, high=3), 0, exclusive=True, reverse=True),
            tf.math.cumprod(f((3, 4), d, low=-2, high=3), -1, exclusive=True)]


def _bincount(f, d):
    values = tf.constant([1, 1, 3, 0, 7])
    return [tf.math.bincount(values, weights=f((5,), d, low=0, high=4)),
            tf.math.bincount(values, weights=f((5,), d), minlength=9, maxlength=4),
            tf.math.bincount(tf.constant([[2, 2], [5, 0]]), dtype=d, minlength=8)]


def add_cases(case):
    """Adds this family's cases through test_parity's `case(op_type, dtypes, build)`."""
    case("SegmentMax", NUMERIC, _sorted(tf.math.segment_max))
    case("SegmentMin", NUMERIC, _sorted(tf.math.segment_min))
    case("SegmentMean", NUMERIC, _sorted(tf.math.segment_mean))
    case("SegmentProd", NUMERIC, _sorted(tf.math.segment_prod))
    case("UnsortedSegmentMax", NUMERIC, _unsorted(tf.math.unsorted_segment_max))
    case("UnsortedSegmentMin", NUMERIC, _unsorted(tf.math.unsorted_segment_min))
    case("UnsortedSegmentProd", NUMERIC, _unsorted(tf.math.unsorted_segment_prod))
    case("Cumprod", NUMERIC, _cumprod)
    case("CumulativeLogsumexp", FLOATS, lambda f, d: [
        tf.math.cumulative_logsumexp(f((3, 4), d), 1),
        tf.math.cumulative_logsumexp(f((3, 4), d), 0, exclusive=True, reverse=True),
        tf.math.cumulative_logsumexp(tf.constant([-float("inf"), 2.0, 1e4], d))])
    case("DenseBincount", BINCOUNT_WEIGHTS, _bincount)
