"""Parity cases (see test_parity.py) of the CTC ops: the loss with each of its attrs and
ragged sequence lengths, and the greedy and beam-search decoders."""

import numpy as np

import sessionlib as tf

CTC_FLOATS = (tf.float32, tf.float64)

# Batch entries of 1, 3 and 2 labels over 4 classes (blank = 3), the second with a repeat.
_LABELS = tf.SparseTensorValue(
    indices=np.array([[0, 0], [1, 0], [1, 1], [1, 2], [2, 0], [2, 1]], np.int64),
    values=np.array([2, 1, 1, 0, 0, 2], np.int32), dense_shape=np.array([3, 3], np.int64))
_LENGTHS = np.array([5, 6, 3], np.int32)


def _labels():
    return tf.SparseTensor(*(tf.constant(part) for part in _LABELS))


def _losses(f, d):
    logits = f((6, 3, 4), d)
    outs = []
    for collapse, merge in ((False, True), (True, False), (False, False)):
        loss = tf.nn.ctc_loss(_labels(), logits, _LENGTHS,
                              preprocess_collapse_repeated=collapse,
                              ctc_merge_repeated=merge)
        outs.extend([loss, loss.op.outputs[1]])
    return outs


def _greedy(f, d):
    logits = f((6, 3, 4), d)
    outs = []
    for merge in (True, False):
        (decoded,), scores = tf.nn.ctc_greedy_decoder(logits, _LENGTHS, merge_repeated=merge)
        outs.extend([decoded.indices, decoded.values, decoded.dense_shape, scores])
    return outs


def _beam(f, d):
    logits = f((6, 3, 4), d, low=-2, high=2)
    outs = []
    for width, paths, merge in ((4, 2, True), (2, 1, False)):
        decoded, log_probs = tf.nn.ctc_beam_search_decoder(
            logits, _LENGTHS, beam_width=width, top_paths=paths, merge_repeated=merge)
        for sparse in decoded:
            outs.extend([sparse.indices, sparse.values, sparse.dense_shape])
        outs.append(log_probs)
    return outs


def add_cases(case):
    """Adds this family's cases through test_parity's `case(op_type, dtypes, build)`."""
    case("CTCLoss", CTC_FLOATS, _losses)
    case("CTCGreedyDecoder", CTC_FLOATS, _greedy)
    case("CTCBeamSearchDecoder", CTC_FLOATS, _beam)
