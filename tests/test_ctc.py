"""CTC (sessionlib/ops/ctc_ops.py): tf.nn.ctc_loss against a brute-force sum over every
alignment, its gradient against finite differences of that sum, the greedy and beam-search
decoders on hand-built cases (and the beam search against the exact best labelings), TF's
run-time errors, and tf.sparse_to_dense."""

import itertools

import numpy as np
import pytest

import sessionlib as tf
from sessionlib.runtime import kernel_table


# ---- the brute-force reference ---------------------------------------------------------------

def _log_softmax(logits):
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _collapse(path, blank, merge_repeated):
    """The labeling an alignment stands for. Merging, a class held over consecutive steps is
    one label; without it every non-blank step is a label of its own."""
    labels = []
    previous = None
    for symbol in path:
        if symbol != blank and not (merge_repeated and symbol == previous):
            labels.append(symbol)
        previous = symbol
    return tuple(labels)


def _labeling_log_probs(logits, merge_repeated=True):
    """``{labeling: log p(labeling)}`` over every alignment of `logits` ``[time, classes]``."""
    log_probs = _log_softmax(np.asarray(logits, np.float64))
    steps, classes = log_probs.shape
    totals = {}
    for path in itertools.product(range(classes), repeat=steps):
        labeling = _collapse(path, classes - 1, merge_repeated)
        score = log_probs[np.arange(steps), path].sum()
        totals[labeling] = np.logaddexp(totals.get(labeling, -np.inf), score)
    return totals


def _brute_force_loss(logits, labels, lengths, merge_repeated=True, collapse=False):
    """The CTC loss of each batch entry of time-major `logits`."""
    losses = []
    for batch, label in enumerate(labels):
        if collapse:
            label = [v for i, v in enumerate(label) if i == 0 or v != label[i - 1]]
        table = _labeling_log_probs(logits[:lengths[batch], batch], merge_repeated)
        losses.append(-table.get(tuple(label), -np.inf))
    return np.array(losses)


def _sparse(labels):
    indices = [[b, t] for b, label in enumerate(labels) for t in range(len(label))]
    values = [v for label in labels for v in label]
    width = max(len(label) for label in labels)
    return tf.SparseTensor(np.array(indices, np.int64).reshape(-1, 2),
                           np.array(values, np.int32), [len(labels), width])


def _run(fetches, feed_dict=None):
    with tf.Session() as sess:
        return sess.run(fetches, feed_dict)


LABELS = [[1, 1, 0], [2], [0, 2]]
LENGTHS = np.array([5, 4, 3], np.int32)


def _random_logits(shape, seed):
    return np.random.default_rng(seed).normal(size=shape) * 1.5


# ---- the loss --------------------------------------------------------------------------------

@pytest.mark.parametrize("merge", [True, False])
@pytest.mark.parametrize("collapse", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_loss_is_minus_the_log_of_the_sum_over_alignments(merge, collapse, dtype):
    logits = _random_logits((5, 3, 4), seed=1).astype(dtype)
    with tf.Graph().as_default():
        loss = tf.nn.ctc_loss(_sparse(LABELS), tf.constant(logits), LENGTHS,
                              preprocess_collapse_repeated=collapse, ctc_merge_repeated=merge)
        assert loss.dtype == tf.as_dtype(dtype)
        assert loss.shape.as_list() == [3]
        value = _run(loss)
    expected = _brute_force_loss(logits, LABELS, LENGTHS, merge, collapse)
    tolerance = 1e-5 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(value, expected, rtol=tolerance)


@pytest.mark.parametrize("merge", [True, False])
def test_gradient_matches_finite_differences_of_the_brute_force_loss(merge):
    logits = _random_logits((4, 3, 3), seed=2)
    labels = [[1, 1], [0], [0, 1]]
    lengths = np.array([4, 3, 2], np.int32)
    weights = np.array([0.7, -1.3, 2.0])
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float64, logits.shape)
        loss = tf.nn.ctc_loss(_sparse(labels), x, lengths, ctc_merge_repeated=merge)
        (grad,) = tf.gradients(tf.reduce_sum(loss * weights), [x])
        symbolic = _run(grad, {x: logits})
    numeric = np.zeros_like(logits)
    delta = 1e-6
    for index in np.ndindex(*logits.shape):
        up, down = logits.copy(), logits.copy()
        up[index] += delta
        down[index] -= delta
        difference = (_brute_force_loss(up, labels, lengths, merge)
                      - _brute_force_loss(down, labels, lengths, merge))
        numeric[index] = weights @ difference / (2 * delta)
    np.testing.assert_allclose(symbolic, numeric, atol=1e-7)
    # Steps past an entry's sequence length get no gradient.
    assert not symbolic[3, 1].any() and not symbolic[2:, 2].any()


def test_batch_major_inputs_give_the_time_major_loss():
    logits = _random_logits((5, 3, 4), seed=3).astype(np.float32)
    with tf.Graph().as_default():
        time_major = tf.nn.ctc_loss(_sparse(LABELS), logits, LENGTHS)
        batch_major = tf.nn.ctc_loss(_sparse(LABELS), np.transpose(logits, (1, 0, 2)), LENGTHS,
                                     time_major=False)
        first, second = _run([time_major, batch_major])
    np.testing.assert_allclose(first, second, rtol=1e-6)


def test_float16_logits_are_computed_in_float32():
    logits = _random_logits((5, 3, 4), seed=4)
    with tf.Graph().as_default():
        loss = tf.nn.ctc_loss(_sparse(LABELS), tf.constant(logits, tf.float16), LENGTHS)
        assert loss.dtype == tf.float16
        value = _run(loss)
    expected = _brute_force_loss(logits.astype(np.float16).astype(np.float64), LABELS, LENGTHS)
    np.testing.assert_allclose(value.astype(np.float64), expected, rtol=2e-3)


def test_labels_no_alignment_can_produce_have_infinite_loss_and_the_softmax_as_gradient():
    # A repeated label needs a blank in between: three steps at least, two given.
    logits = _random_logits((2, 1, 3), seed=5)
    with tf.Graph().as_default():
        x = tf.constant(logits)
        loss = tf.nn.ctc_loss(_sparse([[1, 1]]), x, np.array([2], np.int32))
        (grad,) = tf.gradients(loss, [x])
        loss_value, grad_value = _run([loss, grad])
    assert np.isinf(loss_value[0]) and loss_value[0] > 0
    np.testing.assert_allclose(grad_value, np.exp(_log_softmax(logits)), rtol=1e-12)


def test_longer_labels_are_ignored_when_asked():
    logits = _random_logits((3, 2, 4), seed=6)
    labels = [[0, 1, 2, 0], [2, 1]]
    lengths = np.array([3, 3], np.int32)
    with tf.Graph().as_default():
        x = tf.constant(logits)
        loss = tf.nn.ctc_loss(_sparse(labels), x, lengths,
                              ignore_longer_outputs_than_inputs=True)
        (grad,) = tf.gradients(loss, [x])
        loss_value, grad_value = _run([loss, grad])
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=r"Not enough time for target transition sequence "
                                 r"\(required: 4, available: 3\)0"):
            _run(tf.nn.ctc_loss(_sparse(labels), x, lengths))
    assert loss_value[0] == 0 and not grad_value[:, 0].any()
    np.testing.assert_allclose(loss_value[1], _brute_force_loss(logits[:, 1:], [[2, 1]],
                                                                [3])[0], rtol=1e-10)


def test_the_time_column_of_the_labels_only_orders_them():
    logits = _random_logits((4, 1, 3), seed=7)
    with tf.Graph().as_default():
        gapped = tf.SparseTensor(np.array([[0, 0], [0, 3]], np.int64),
                                 np.array([1, 0], np.int32), [1, 4])
        value = _run(tf.nn.ctc_loss(gapped, logits, np.array([4], np.int32)))
    np.testing.assert_allclose(value, _brute_force_loss(logits, [[1, 0]], [4]), rtol=1e-10)


def test_a_trailing_blank_label_ends_the_sequence():
    logits = _random_logits((4, 1, 4), seed=8)
    with tf.Graph().as_default():
        value = _run(tf.nn.ctc_loss(_sparse([[1, 3, 5]]), logits, np.array([4], np.int32)))
    np.testing.assert_allclose(value, _brute_force_loss(logits, [[1]], [4]), rtol=1e-10)


def test_zero_length_sequences_are_skipped_when_longer_labels_are_ignored():
    logits = _random_logits((3, 2, 3), seed=9)
    with tf.Graph().as_default():
        value = _run(tf.nn.ctc_loss(_sparse([[0], [1]]), logits, np.array([0, 3], np.int32),
                                    ignore_longer_outputs_than_inputs=True))
    assert value[0] == 0
    np.testing.assert_allclose(value[1], _brute_force_loss(logits[:, 1:], [[1]], [3])[0],
                               rtol=1e-10)


@pytest.mark.parametrize("indices, values, lengths, message", [
    ([[0, 0], [1, 0]], [0, 1], [4, 5], r"^sequence_length\(1\) <= 4"),
    ([[0, 0], [1, 0]], [0, 1], [-1, 2], r"^seq_len\(0\) < 0"),
    ([[0, 0], [0, 1], [1, 0]], [-1, 1, 0], [4, 3],
     "^All labels must be nonnegative integers, batch: 0 labels: -1,1"),
    ([[0, 0], [0, 1], [1, 0]], [3, 1, 0], [4, 3],
     r"^Saw a non-null label \(index >= num_classes - 1\) following a null label, batch: 0 "
     "num_classes: 4 labels: 3,1 labels seen so far: "),
    ([[0, 0], [0, 1]], [1, 1], [4, 3], "^Labels length is zero in batch 1"),
    ([[0, 1], [0, 0], [1, 0]], [1, 2, 0], [4, 3],
     r"^label SparseTensor is not valid: indices\[1\] = \[0,0\] is out of order"),
    ([[0, 0], [0, 0], [1, 0]], [1, 2, 0], [4, 3],
     r"^label SparseTensor is not valid: indices\[1\] = \[0,0\] is repeated"),
    ([[0, 0], [2, 0]], [1, 0], [4, 3],
     r"^label SparseTensor is not valid: indices\[1\] = \[2,0\] is out of bounds: "
     r"need 0 <= index < \[2,1\]"),
    ([[0, 0], [0, 1], [1, 0]], [1, 2, 0], [1, 3],
     r"^Not enough time for target transition sequence \(required: 2, available: 1\)0You "
     "can turn this error into a warning by using the flag "
     "ignore_longer_outputs_than_inputs"),
])
def test_invalid_labels_and_lengths_are_tfs_run_time_errors(indices, values, lengths, message):
    logits = _random_logits((4, 2, 4), seed=10).astype(np.float32)
    with tf.Graph().as_default():
        labels = tf.SparseTensor(np.array(indices, np.int64), np.array(values, np.int32),
                                 [2, 5])
        loss = tf.nn.ctc_loss(labels, logits, np.array(lengths, np.int32))
        with pytest.raises(tf.errors.InvalidArgumentError, match=message):
            _run(loss)


def test_fed_shapes_are_checked_at_run_time():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32)
        lengths = tf.placeholder(tf.int32)
        loss = tf.nn.ctc_loss(_sparse([[0]]), x, lengths)
        assert loss.shape.as_list() == [None]
        with pytest.raises(tf.errors.InvalidArgumentError, match="inputs is not a 3-Tensor"):
            _run(loss, {x: np.zeros((2, 3)), lengths: [1]})
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=r"len\(sequence_length\) != batch_size"):
            _run(loss, {x: np.zeros((2, 1, 3)), lengths: [1, 2]})
        with pytest.raises(tf.errors.InvalidArgumentError, match="Max time .* cannot be 0"):
            _run(loss, {x: np.zeros((0, 1, 3)), lengths: [0]})


def test_static_shapes_and_graph_time_errors():
    with tf.Graph().as_default():
        logits = tf.placeholder(tf.float32, [7, None, 5])
        lengths = tf.placeholder(tf.int32, [3])
        loss = tf.nn.ctc_loss(_sparse([[0], [1], [2]]), logits, lengths)
        assert loss.shape.as_list() == [3]
        assert loss.op.type == "CTCLoss"
        assert loss.op.outputs[1].shape.as_list() == [7, 3, 5]
        with pytest.raises(TypeError, match="to be a SparseTensor"):
            tf.nn.ctc_loss([[0]], logits, lengths)
        with pytest.raises(ValueError, match="Dimensions must be equal, but are 2 and 3"):
            tf.nn.ctc_loss(_sparse([[0], [1]]), tf.placeholder(tf.float32, [7, 2, 5]), lengths)
        with pytest.raises(ValueError):
            tf.nn.ctc_loss(_sparse([[0]]), tf.placeholder(tf.float32, [7, 5]), lengths)
        with pytest.raises(TypeError):
            tf.nn.ctc_loss(_sparse([[0]]), tf.placeholder(tf.int32, [7, 3, 5]), lengths)


def test_the_second_derivative_is_refused_as_in_tf():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float64, [3, 1, 3])
        loss = tf.nn.ctc_loss(_sparse([[0]]), x, np.array([3], np.int32))
        (grad,) = tf.gradients(loss, [x])
        with pytest.raises(LookupError, match="second  derivative of ctc_loss"):
            tf.gradients(tf.reduce_sum(grad * grad), [x])


def test_a_graph_def_of_the_loss_and_its_gradient_round_trips():
    logits = _random_logits((5, 3, 4), seed=12)
    with tf.Graph().as_default() as graph:
        x = tf.placeholder(tf.float64, logits.shape, name="x")
        loss = tf.identity(tf.nn.ctc_loss(_sparse(LABELS), x, LENGTHS), name="loss")
        (grad,) = tf.gradients(loss, [x])
        grad = tf.identity(grad, name="grad")
        # As in TF, the gradient reads the op's second output through a PreventGradient.
        assert "PreventGradient" in {op.type for op in graph.get_operations()}
        expected = _run([loss, grad], {x: logits})
        graph_def = graph.as_graph_def()
    with tf.Graph().as_default():
        tf.import_graph_def(graph_def, name="")
        imported = _run(["loss:0", "grad:0"], {"x:0": logits})
    for got, want in zip(imported, expected):
        np.testing.assert_array_equal(got, want)


def test_the_ctc_kernels_are_cpu_only_as_in_tf():
    for name in ("CTCLoss", "CTCGreedyDecoder", "CTCBeamSearchDecoder"):
        assert not kernel_table.supports_device(name, "GPU")


# ---- the decoders ----------------------------------------------------------------------------

def _one_hot_logits(best_classes, num_classes, high=2.0):
    """Logits ``[time, 1, num_classes]`` whose maximum at step t is `best_classes[t]`."""
    logits = np.zeros((len(best_classes), 1, num_classes), np.float32)
    logits[np.arange(len(best_classes)), 0, best_classes] = high
    return logits


def _dense_rows(sparse_value):
    """A decoded SparseTensorValue as one list of labels per batch entry."""
    rows = [[] for _ in range(int(sparse_value.dense_shape[0]))]
    for (batch, step), value in zip(sparse_value.indices, sparse_value.values):
        assert step == len(rows[batch])
        rows[batch].append(int(value))
    return rows


@pytest.mark.parametrize("merge, expected", [(True, [0, 0, 1]), (False, [0, 0, 0, 1, 1])])
def test_greedy_decoder_drops_blanks_and_merges_repeats(merge, expected):
    # Best classes a a <blank> a b b, blank = 2.
    logits = _one_hot_logits([0, 0, 2, 0, 1, 1], 3)
    with tf.Graph().as_default():
        (decoded,), scores = tf.nn.ctc_greedy_decoder(logits, np.array([6], np.int32),
                                                      merge_repeated=merge)
        assert scores.shape.as_list() == [1, 1]
        decoded_value, score_value = _run([decoded, scores])
    assert _dense_rows(decoded_value) == [expected]
    assert decoded_value.values.dtype == np.int64
    np.testing.assert_array_equal(decoded_value.dense_shape, [1, len(expected)])
    np.testing.assert_allclose(score_value, [[-logits.max(axis=-1).sum()]], rtol=1e-6)


def test_greedy_decoder_honours_sequence_lengths():
    logits = np.concatenate([_one_hot_logits([1, 0, 0], 3), _one_hot_logits([0, 1, 1], 3)],
                            axis=1)
    with tf.Graph().as_default():
        (decoded,), scores = tf.nn.ctc_greedy_decoder(logits, np.array([2, 3], np.int32))
        decoded_value, score_value = _run([decoded, scores])
    assert _dense_rows(decoded_value) == [[1, 0], [0, 1]]
    np.testing.assert_array_equal(decoded_value.dense_shape, [2, 2])
    np.testing.assert_allclose(score_value, [[-4.0], [-6.0]])


def test_beam_search_finds_the_labeling_greedy_decoding_misses():
    # Each step: p(a) = 0.4, p(blank) = 0.6. Greedy decodes "" (p = 0.36), but the three
    # alignments of "a" add up to 0.64.
    logits = np.log(np.array([[[0.4, 0.6]], [[0.4, 0.6]]], np.float32))
    lengths = np.array([2], np.int32)
    with tf.Graph().as_default():
        (greedy,), _ = tf.nn.ctc_greedy_decoder(logits, lengths)
        beams, log_probs = tf.nn.ctc_beam_search_decoder(logits, lengths, beam_width=4,
                                                         top_paths=2)
        greedy_value, beam_values, log_prob_value = _run([greedy, beams, log_probs])
    assert _dense_rows(greedy_value) == [[]]
    assert [_dense_rows(v) for v in beam_values] == [[[0]], [[]]]
    np.testing.assert_allclose(np.exp(log_prob_value), [[0.64, 0.36]], rtol=1e-6)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_wide_beam_returns_the_most_probable_labelings_exactly(seed):
    logits = _random_logits((4, 2, 3), seed=20 + seed)
    lengths = np.array([4, 3], np.int32)
    with tf.Graph().as_default():
        beams, log_probs = tf.nn.ctc_beam_search_decoder(
            logits, lengths, beam_width=100, top_paths=3, merge_repeated=False)
        assert log_probs.shape.as_list() == [2, 3]
        beam_values, log_prob_value = _run([beams, log_probs])
    for batch in range(2):
        table = _labeling_log_probs(logits[:lengths[batch], batch])
        best = sorted(table.items(), key=lambda item: -item[1])[:3]
        found = [tuple(_dense_rows(v)[batch]) for v in beam_values]
        assert found == [labeling for labeling, _ in best]
        np.testing.assert_allclose(log_prob_value[batch], [p for _, p in best], rtol=1e-10)


@pytest.mark.parametrize("merge, expected", [(True, [0]), (False, [0, 0])])
def test_beam_search_merge_repeated_reports_a_blank_separated_repeat_once(merge, expected):
    # "a <blank> a" dominates: the best prefix is "a a" (two labels), which TF's
    # merge_repeated reports as "a".
    logits = _one_hot_logits([0, 1, 0], 2, high=5.0)
    with tf.Graph().as_default():
        (decoded,), _ = tf.nn.ctc_beam_search_decoder(logits, np.array([3], np.int32),
                                                      beam_width=3, merge_repeated=merge)
        assert _dense_rows(_run(decoded)) == [expected]


def test_a_narrow_beam_follows_tfs_evictions():
    # TF 2.21's result on these logits (classes a b c d, blank last). With a beam of 3,
    # prefix "b d" is evicted and then cleared as a child that stays out, so it never grows
    # into "b d b a", which a search that kept it would report third instead of "b c a".
    logits = np.array([[0.06, 1.09, -1.47, -0.33, -0.96],
                       [-3.78, -0.35, -0.84, 0.43, 0.43],
                       [-2.45, -1.37, -0.14, -1.89, -0.2],
                       [-2.14, 1.83, -0.04, -2.5, -0.63],
                       [2.45, -0.6, -1.62, 1.5, 0.51]], np.float32)[:, None, :]
    with tf.Graph().as_default():
        decoded, log_probs = tf.nn.ctc_beam_search_decoder(
            logits, [5], beam_width=3, top_paths=3, merge_repeated=False)
        values, log_prob_value = _run([[d.values for d in decoded], log_probs])
    assert [v.tolist() for v in values] == [[1, 2, 1, 0], [1, 1, 0], [1, 2, 0]]
    np.testing.assert_allclose(log_prob_value, [[-2.8523674, -2.9123673, -3.7714953]],
                               rtol=1e-6)


def test_decoders_are_not_differentiable():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [3, 1, 3])
        _, greedy_scores = tf.nn.ctc_greedy_decoder(x, [3])
        _, beam_scores = tf.nn.ctc_beam_search_decoder(x, [3], beam_width=2)
        assert tf.gradients(greedy_scores, [x]) == [None]
        assert tf.gradients(beam_scores, [x]) == [None]


def test_decoder_errors_are_tfs():
    logits = _random_logits((3, 2, 3), seed=30).astype(np.float32)
    with tf.Graph().as_default():
        with pytest.raises(tf.errors.FailedPreconditionError, match=r"sequence_length\(0\) <= 3"):
            _run(tf.nn.ctc_greedy_decoder(logits, [4, 2])[1])
        with pytest.raises(tf.errors.FailedPreconditionError, match=r"sequence_length\(0\) <= 3"):
            _run(tf.nn.ctc_beam_search_decoder(logits, [4, 2])[1])
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match="requested more paths than the beam width"):
            _run(tf.nn.ctc_beam_search_decoder(logits, [3, 2], beam_width=2, top_paths=3)[1])
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match="Less leaves in the beam search than requested"):
            _run(tf.nn.ctc_beam_search_decoder(logits, [0, 2], beam_width=5, top_paths=3)[1])
        with pytest.raises(ValueError, match="'beam_width' of 'CTCBeamSearchDecoder' Op passed "
                                             "0 less than minimum 1"):
            tf.nn.ctc_beam_search_decoder(logits, [3, 2], beam_width=0)
        with pytest.raises(ValueError, match="Dimensions must be equal, but are 2 and 3"):
            tf.nn.ctc_greedy_decoder(logits, [3, 2, 1])


def test_empty_sequences_decode_to_nothing():
    logits = _random_logits((3, 2, 3), seed=31).astype(np.float32)
    with tf.Graph().as_default():
        (decoded,), scores = tf.nn.ctc_greedy_decoder(logits, [0, 0])
        decoded_value, score_value = _run([decoded, scores])
    assert decoded_value.indices.shape == (0, 2)
    np.testing.assert_array_equal(decoded_value.dense_shape, [2, 0])
    np.testing.assert_array_equal(score_value, [[0.0], [0.0]])


# ---- tf.sparse_to_dense ----------------------------------------------------------------------

def test_sparse_to_dense_scatters_values_over_the_default():
    with tf.Graph().as_default():
        matrix = tf.sparse_to_dense([[0, 1], [1, 2]], [2, 3], [5.0, 6.0])
        vector = tf.sparse_to_dense([0, 2], [4], 7, default_value=-1)
        scalar = tf.sparse_to_dense(1, [3], 2.5)
        wide = tf.sparse_to_dense(tf.constant([[1]], tf.int64), [3], [4])
        assert matrix.shape.as_list() == [2, 3] and matrix.dtype == tf.float32
        assert matrix.op.type == "SparseToDense"
        values = _run([matrix, vector, scalar, wide])
    np.testing.assert_array_equal(values[0], [[0, 5, 0], [0, 0, 6]])
    np.testing.assert_array_equal(values[1], [7, -1, 7, -1])
    np.testing.assert_array_equal(values[2], [0, 2.5, 0])
    np.testing.assert_array_equal(values[3], [0, 4, 0])


def test_sparse_to_dense_validates_indices_unless_told_not_to():
    with tf.Graph().as_default():
        unsorted = tf.sparse_to_dense([[1], [0]], [3], [1, 2])
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"indices\[1\] = \[0\] is "
                                                                 "out of order"):
            _run(unsorted)
        np.testing.assert_array_equal(
            _run(tf.sparse_to_dense([[1], [0]], [3], [1, 2], validate_indices=False)),
            [2, 1, 0])
        with pytest.raises(tf.errors.InvalidArgumentError, match="out of bounds"):
            _run(tf.sparse_to_dense([[5]], [3], [1]))
        with pytest.raises(TypeError):
            tf.sparse_to_dense(tf.constant([[1]], tf.int64), tf.constant([3], tf.int32), [1])
