"""Parity cases (see test_parity.py) of CombinedNonMaxSuppression: per-class and shared
boxes, with and without padding per class and clipping."""

import sessionlib as tf


def _combined_nms(f, d):
    boxes, scores = f((2, 6, 2, 4), d), f((2, 6, 2), d)
    shared = f((2, 6, 1, 4), d)
    return (list(tf.image.combined_non_max_suppression(boxes, scores, 3, 4, 0.4, -1.0))
            + list(tf.image.combined_non_max_suppression(shared, scores, 2, 9, 0.5,
                                                         pad_per_class=True,
                                                         clip_boxes=False)))


def add_cases(case):
    """Adds this family's cases through test_parity's `case(op_type, dtypes, build)`."""
    case("CombinedNonMaxSuppression", (tf.float32,), _combined_nms)
    case("NonMaxSuppressionWithOverlaps", (tf.float32,), lambda f, d: [
        tf.image.non_max_suppression_overlaps(f((7, 7), d), f((7,), d), 4, 0.5),
        tf.image.non_max_suppression_overlaps(f((7, 7), d), f((7,), d), 9, 1.0, 0.0)])
    # Windows inside the image: the fill outside it is random noise.
    case("ExtractGlimpse", (tf.float32,), lambda f, d: [
        tf.image.extract_glimpse(f((2, 6, 7, 3), d), [3, 4], [[0.0, 0.0], [0.3, -0.4]]),
        tf.image.extract_glimpse(f((2, 6, 7, 3), d), [2, 2], [[1.0, 2.0], [4.0, 5.0]],
                                 centered=False, normalized=False)])
