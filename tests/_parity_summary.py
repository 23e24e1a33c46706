"""Parity cases (see test_parity.py) of the summary ops: both executors run the same numpy
kernels, so the serialized Summary bytes must be identical."""

import sessionlib as tf

FLOATS = (tf.float16, tf.float32, tf.float64)
INTS = (tf.int8, tf.int16, tf.int32, tf.int64, tf.uint8)
NUMERIC = FLOATS + INTS
WITH_STRINGS = NUMERIC + (tf.bool, tf.string)
IMAGES = (tf.uint8, tf.float16, tf.float32, tf.float64)


def add_cases(case):
    """Adds this family's cases through test_parity's `case(op_type, dtypes, build)`."""
    case("ScalarSummary", NUMERIC, lambda f, d: [tf.summary.scalar("s", f((), d))])
    case("HistogramSummary", NUMERIC, lambda f, d: [tf.summary.histogram("h", f((3, 4), d))])
    case("ImageSummary", IMAGES, lambda f, d: [
        tf.summary.image("i", f((2, 3, 4, 3), d)),
        tf.summary.image("g", f((1, 2, 2, 1), d), max_outputs=1)])
    case("AudioSummaryV2", (tf.float32,), lambda f, d: [
        tf.summary.audio("a", f((2, 5), d) / 5.0, 8000.0)])
    case("TensorSummaryV2", WITH_STRINGS, lambda f, d: [
        tf.summary.tensor_summary("t", f((2, 3), d))])
    case("MergeSummary", (tf.float32,), lambda f, d: [tf.summary.merge(
        [tf.summary.scalar("m1", f((), d)), tf.summary.histogram("m2", f((4,), d))])])
