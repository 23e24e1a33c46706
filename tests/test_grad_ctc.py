"""Numeric gradient checks of the CTC loss (sessionlib/ops/ctc_ops.py): its gradient is the
op's second output scaled by the loss gradient, checked against central differences of the
loss itself, with each attr and ragged sequence lengths."""

import numpy as np
import pytest

import sessionlib as tf

from _gradient_check import GradCase, case_ids, check_case

RNG = np.random.RandomState(11)


def _logits(*shape):
    return RNG.uniform(-2, 2, size=shape)


def _labels(indices, values, shape):
    return tf.SparseTensor(np.array(indices, np.int64), np.array(values, np.int32),
                           np.array(shape, np.int64))


def _loss(**attrs):
    def build(logits):
        labels = _labels([[0, 0], [0, 1], [1, 0], [1, 1], [1, 2]], [1, 1, 0, 2, 0], [2, 3])
        return tf.nn.ctc_loss(labels, logits, np.array([4, 5], np.int32), **attrs)

    return build


GRADIENT_CASES = [
    GradCase("CTCLoss", _loss(), [_logits(5, 2, 4)]),
    GradCase("CTCLoss", _loss(ctc_merge_repeated=False), [_logits(5, 2, 4)],
             id="CTCLoss-no-merge"),
    GradCase("CTCLoss", _loss(preprocess_collapse_repeated=True), [_logits(5, 2, 4)],
             id="CTCLoss-collapse"),
    GradCase("CTCLoss", lambda x: tf.nn.ctc_loss(
        _labels([[0, 0], [1, 0], [1, 1]], [2, 0, 1], [2, 2]), x, np.array([3, 2], np.int32),
        time_major=False), [_logits(2, 3, 3)], id="CTCLoss-batch-major"),
]


@pytest.mark.parametrize("case", GRADIENT_CASES, ids=case_ids(GRADIENT_CASES))
def test_gradient(case):
    check_case(case)
