"""Candidate samplers, ``compute_accidental_hits``, ``nce_loss`` and ``sampled_softmax_loss``.

The losses are checked against a numpy transcription of TF's sampled logits, with the sampled
values given, so that nothing random is involved; the samplers by their shapes, ranges,
uniqueness, expected counts (TF's formulas) and seeding.
"""

import numpy as np
import pytest

import sessionlib as tf
from sessionlib import errors
from sessionlib.framework import registry

from _gradient_check import GradCase, check_case

FLT_MAX = np.finfo(np.float32).max
SAMPLER_OPS = ("UniformCandidateSampler", "LogUniformCandidateSampler",
               "LearnedUnigramCandidateSampler", "FixedUnigramCandidateSampler",
               "AllCandidateSampler")


def run(fetches, feed_dict=None):
    with tf.Session() as session:
        return session.run(fetches, feed_dict)


# ---- numpy references -----------------------------------------------------------------------

def _np_hits(labels, sampled):
    last = {int(v): j for j, v in enumerate(sampled)}
    hits = [(i, last[int(v)]) for i, row in enumerate(labels) for v in row if int(v) in last]
    rows = np.array([h[0] for h in hits], dtype=np.int32)
    ids = np.array([h[1] for h in hits], dtype=np.int64)
    return rows, ids, np.full(len(hits), -FLT_MAX, dtype=np.float32)


def _np_sampled_logits(weights, biases, labels, inputs, sampled, true_expected,
                       sampled_expected, remove_accidental_hits):
    w = weights.astype(np.float64)
    b = biases.astype(np.float64)
    x = inputs.astype(np.float64)
    true_logits = np.einsum("bd,btd->bt", x, w[labels]) + b[labels]
    sampled_logits = x @ w[sampled].T + b[sampled]
    if remove_accidental_hits:
        rows, ids, _ = _np_hits(labels, sampled)
        sampled_logits[rows, ids] = -FLT_MAX
    true_logits -= np.log(true_expected)
    sampled_logits -= np.log(sampled_expected)
    num_true = labels.shape[1]
    logits = np.concatenate([true_logits, sampled_logits], 1)
    targets = np.concatenate([np.full(true_logits.shape, 1.0 / num_true),
                              np.zeros(sampled_logits.shape)], 1)
    return logits, targets


def _np_nce(*args):
    logits, targets = _np_sampled_logits(*args)
    losses = np.maximum(logits, 0) - logits * targets + np.log1p(np.exp(-np.abs(logits)))
    return losses.sum(1)


def _np_sampled_softmax(*args):
    logits, targets = _np_sampled_logits(*args)
    top = logits.max(1, keepdims=True)
    log_softmax = logits - top - np.log(np.exp(logits - top).sum(1, keepdims=True))
    return -(targets * log_softmax).sum(1)


# ---- a fixed problem ------------------------------------------------------------------------

_RNG = np.random.default_rng(0)
BATCH, DIM, CLASSES, NUM_TRUE, NUM_SAMPLED = 5, 4, 12, 2, 6
WEIGHTS = _RNG.standard_normal((CLASSES, DIM)).astype(np.float32)
BIASES = _RNG.standard_normal(CLASSES).astype(np.float32)
INPUTS = _RNG.standard_normal((BATCH, DIM)).astype(np.float32)
# Row 1 holds class 3 twice and row 0 hits two sampled positions; 3 is sampled twice.
LABELS = np.array([[1, 3], [3, 3], [0, 7], [11, 2], [5, 6]], np.int64)
SAMPLED = np.array([3, 9, 1, 7, 3, 4], np.int64)
TRUE_EXPECTED = _RNG.uniform(0.1, 0.9, (BATCH, NUM_TRUE)).astype(np.float32)
SAMPLED_EXPECTED = _RNG.uniform(0.1, 0.9, NUM_SAMPLED).astype(np.float32)
REFERENCE_ARGS = (WEIGHTS, BIASES, LABELS, INPUTS, SAMPLED, TRUE_EXPECTED, SAMPLED_EXPECTED)


def _shards(values, count, strategy):
    if count == 1:
        return [values]
    if strategy == "mod":
        return [values[k::count] for k in range(count)]
    return np.array_split(values, count)


def _sampled_values():
    return (tf.constant(SAMPLED), tf.constant(TRUE_EXPECTED), tf.constant(SAMPLED_EXPECTED))


# ---- compute_accidental_hits ----------------------------------------------------------------

def test_accidental_hits_match_the_reference_exactly(executor):
    got = run(tf.nn.compute_accidental_hits(LABELS, SAMPLED, NUM_TRUE))
    # The last position of a value sampled twice; one hit per true class, repeats included.
    np.testing.assert_array_equal(got[0], [0, 0, 1, 1, 2])
    np.testing.assert_array_equal(got[1], [2, 4, 4, 4, 3])
    for value, expected in zip(got, _np_hits(LABELS, SAMPLED)):
        assert value.dtype == expected.dtype
        np.testing.assert_array_equal(value, expected)


def test_accidental_hits_with_none_and_bad_shapes(executor):
    rows, ids, weights = run(tf.nn.compute_accidental_hits([[1], [2]], [5, 6], 1))
    assert rows.shape == ids.shape == weights.shape == (0,)
    assert (rows.dtype, ids.dtype, weights.dtype) == (np.int32, np.int64, np.float32)
    with pytest.raises(ValueError, match="num_true"):
        tf.nn.compute_accidental_hits([[1, 2]], [5], 1)
    with pytest.raises(ValueError, match="rank 1"):
        tf.nn.compute_accidental_hits([[1]], [[5]], 1)
    classes = tf.placeholder(tf.int64)
    with pytest.raises(errors.InvalidArgumentError, match="num_true columns"):
        run(tf.nn.compute_accidental_hits(classes, [5], 2), {classes: [[1, 2, 3]]})


# ---- loss values ----------------------------------------------------------------------------

@pytest.mark.parametrize("remove_accidental_hits", [False, True])
@pytest.mark.parametrize("shards,strategy", [(1, "mod"), (3, "mod"), (3, "div")])
def test_sampled_losses_match_the_reference(executor, remove_accidental_hits, shards,
                                            strategy):
    weights = [tf.constant(w) for w in _shards(WEIGHTS, shards, strategy)]
    biases = [tf.constant(b) for b in _shards(BIASES, shards, strategy)]
    nce = tf.nn.nce_loss(weights, biases, LABELS, INPUTS, NUM_SAMPLED, CLASSES,
                         num_true=NUM_TRUE, sampled_values=_sampled_values(),
                         remove_accidental_hits=remove_accidental_hits,
                         partition_strategy=strategy)
    softmax = tf.nn.sampled_softmax_loss(weights, biases, LABELS, INPUTS, NUM_SAMPLED, CLASSES,
                                         num_true=NUM_TRUE, sampled_values=_sampled_values(),
                                         remove_accidental_hits=remove_accidental_hits,
                                         partition_strategy=strategy)
    assert nce.shape.as_list() == [BATCH] and nce.dtype == tf.float32
    assert softmax.shape.as_list() == [BATCH]
    nce_value, softmax_value = run([nce, softmax])
    args = REFERENCE_ARGS + (remove_accidental_hits,)
    np.testing.assert_allclose(nce_value, _np_nce(*args), rtol=1e-5)
    np.testing.assert_allclose(softmax_value, _np_sampled_softmax(*args), rtol=1e-5)


def test_masking_accidental_hits_changes_only_the_rows_that_hit(executor):
    kept, masked = run([
        tf.nn.nce_loss(WEIGHTS, BIASES, LABELS, INPUTS, NUM_SAMPLED, CLASSES, NUM_TRUE,
                       sampled_values=_sampled_values(), remove_accidental_hits=flag)
        for flag in (False, True)])
    assert np.all(np.isfinite(masked))
    np.testing.assert_array_equal(kept[3:], masked[3:])
    assert np.all(masked[:3] < kept[:3])


def test_one_true_class_and_a_vector_of_labels(executor):
    labels = np.array([2, 0, 9], np.int64)
    inputs = INPUTS[:3]
    sampled = (tf.constant(SAMPLED), tf.constant(TRUE_EXPECTED[:3, :1]),
               tf.constant(SAMPLED_EXPECTED))
    value = run(tf.nn.sampled_softmax_loss(WEIGHTS, BIASES, labels[:, None], inputs,
                                           NUM_SAMPLED, CLASSES, sampled_values=sampled))
    expected = _np_sampled_softmax(WEIGHTS, BIASES, labels[:, None], inputs, SAMPLED,
                                   TRUE_EXPECTED[:3, :1], SAMPLED_EXPECTED, True)
    np.testing.assert_allclose(value, expected, rtol=1e-5)


def test_loss_arguments_are_checked():
    with pytest.raises(ValueError, match="partition strategy"):
        tf.nn.nce_loss(WEIGHTS, BIASES, LABELS, INPUTS, 2, CLASSES, NUM_TRUE,
                       partition_strategy="rows")
    with pytest.raises(ValueError, match="num_sampled"):
        tf.nn.sampled_softmax_loss(WEIGHTS, BIASES, LABELS, INPUTS, 0, CLASSES, NUM_TRUE)
    with pytest.raises(ValueError, match="unique candidates"):
        tf.nn.nce_loss(WEIGHTS, BIASES, LABELS, INPUTS, CLASSES + 1, CLASSES, NUM_TRUE)


# ---- gradients ------------------------------------------------------------------------------

def _loss_builder(loss, remove_accidental_hits, shards):
    def build(*tensors):
        weights, biases, inputs = list(tensors[:shards]), list(tensors[shards:2 * shards]), \
            tensors[-1]
        sampled = (tf.constant(SAMPLED), tf.constant(TRUE_EXPECTED),
                   tf.constant(SAMPLED_EXPECTED))
        return loss(weights, biases, LABELS, inputs, NUM_SAMPLED, CLASSES, num_true=NUM_TRUE,
                    sampled_values=sampled, remove_accidental_hits=remove_accidental_hits)

    return build


@pytest.mark.parametrize("shards", [1, 3])
@pytest.mark.parametrize("remove_accidental_hits", [False, True])
@pytest.mark.parametrize("loss", [tf.nn.nce_loss, tf.nn.sampled_softmax_loss],
                         ids=["nce", "sampled_softmax"])
def test_gradients_reach_weights_biases_and_inputs(loss, remove_accidental_hits, shards):
    inputs = (_shards(WEIGHTS.astype(np.float64), shards, "mod")
              + _shards(BIASES.astype(np.float64), shards, "mod")
              + [INPUTS.astype(np.float64)])
    check_case(GradCase("MatMul", _loss_builder(loss, remove_accidental_hits, shards),
                        inputs, tolerance=1e-6))


def test_sampled_values_get_no_gradient():
    expected = tf.constant(SAMPLED_EXPECTED)
    true_expected = tf.constant(TRUE_EXPECTED)
    loss = tf.reduce_sum(tf.nn.nce_loss(
        WEIGHTS, BIASES, LABELS, INPUTS, NUM_SAMPLED, CLASSES, NUM_TRUE,
        sampled_values=(tf.constant(SAMPLED), true_expected, expected)))
    assert tf.gradients(loss, [expected, true_expected]) == [None, None]


# ---- samplers -------------------------------------------------------------------------------

_CLASSES_IN = np.array([[0, 1], [5, 9], [2, 2]], np.int64)


def _log_uniform(ids, range_max):
    ids = np.asarray(ids, np.float64)
    return (np.log(ids + 2) - np.log(ids + 1)) / np.log(range_max + 1)


def _samplers(unique, range_max=10, num_sampled=5, seed=None):
    classes = tf.constant(_CLASSES_IN)
    unigrams = np.arange(1.0, range_max - 1)
    return {
        "uniform": (tf.nn.uniform_candidate_sampler(classes, 2, num_sampled, unique,
                                                    range_max, seed=seed),
                    lambda ids: np.full(np.shape(ids), 1.0 / range_max)),
        "log_uniform": (tf.nn.log_uniform_candidate_sampler(classes, 2, num_sampled, unique,
                                                            range_max, seed=seed),
                        lambda ids: _log_uniform(ids, range_max)),
        "fixed_unigram": (tf.nn.fixed_unigram_candidate_sampler(
            classes, 2, num_sampled, unique, range_max, unigrams=list(unigrams),
            num_reserved_ids=2, distortion=0.5, seed=seed),
            lambda ids: np.concatenate([[0, 0], np.sqrt(unigrams)])[ids]
            / np.sqrt(unigrams).sum()),
        "learned_unigram": (tf.nn.learned_unigram_candidate_sampler(
            classes, 2, num_sampled, unique, range_max, seed=seed),
            lambda ids: np.full(np.shape(ids), 1.0 / range_max)),  # first run: all counts 1
    }


@pytest.mark.parametrize("unique", [False, True])
def test_sampler_outputs_and_expected_counts(unique):
    samplers = _samplers(unique, seed=4)
    for name, (values, _) in samplers.items():
        assert values.sampled_candidates.dtype == tf.int64, name
        assert values.sampled_candidates.shape.as_list() == [5]
        assert values.true_expected_count.dtype == tf.float32
        assert values.true_expected_count.shape.as_list() == [3, 2]
        assert values.sampled_expected_count.shape.as_list() == [5]
    results = run({name: values for name, (values, _) in samplers.items()})
    for name, (sampled, true_expected, sampled_expected) in results.items():
        probability = samplers[name][1]
        assert sampled.dtype == np.int64 and true_expected.dtype == np.float32, name
        assert np.all((sampled >= 0) & (sampled < 10)), name
        if name == "fixed_unigram":
            assert np.all(sampled >= 2), "reserved ids have weight 0"
        if not unique:
            np.testing.assert_allclose(sampled_expected, probability(sampled) * 5, rtol=1e-6)
            np.testing.assert_allclose(true_expected, probability(_CLASSES_IN) * 5,
                                       rtol=1e-6)
            continue
        assert len(set(sampled.tolist())) == 5, name
        # The expected counts all follow from one number of tries (>= 5): TF's formula,
        # which is p * 5 when no draw was rejected.
        p = probability(sampled)
        if np.allclose(sampled_expected, p * 5, rtol=1e-6):
            tries = 5
        else:
            tries = int(round(np.log1p(-sampled_expected[0]) / np.log1p(-p[0])))
            assert tries > 5

        def expected(p):
            return p * 5 if tries == 5 else -np.expm1(tries * np.log1p(-p))

        np.testing.assert_allclose(sampled_expected, expected(p), rtol=1e-5)
        np.testing.assert_allclose(true_expected, expected(probability(_CLASSES_IN)),
                                   rtol=1e-5, atol=1e-7)


def test_unique_sampling_of_the_whole_range_and_its_expected_counts():
    # Drawing all 6 classes of a uniform range without replacement takes many rejections.
    values = tf.nn.uniform_candidate_sampler([[0]], 1, 6, True, 6, seed=1)
    sampled, true_expected, sampled_expected = run(values)
    assert sorted(sampled.tolist()) == list(range(6))
    assert np.all(sampled_expected == sampled_expected[0]) and sampled_expected[0] < 1
    tries = np.log1p(-sampled_expected[0]) / np.log1p(-1 / 6)
    assert tries > 6 and abs(tries - round(tries)) < 1e-3
    np.testing.assert_allclose(true_expected, [[sampled_expected[0]]])


def test_log_uniform_sampler_prefers_small_ids():
    sampled = run(tf.nn.log_uniform_candidate_sampler([[0]], 1, 4000, False, 1000, seed=2))
    sampled = sampled.sampled_candidates
    assert sampled.min() >= 0 and sampled.max() < 1000
    # P(k < 9) = log(10) / log(1001) = 1 / 3.
    assert abs(np.mean(sampled < 9) - np.log(10) / np.log(1001)) < 0.03


def test_all_candidate_sampler():
    sampled, true_expected, sampled_expected = run(
        tf.nn.all_candidate_sampler(_CLASSES_IN, 2, 4, True))
    np.testing.assert_array_equal(sampled, [0, 1, 2, 3])
    np.testing.assert_array_equal(true_expected, np.ones((3, 2), np.float32))
    np.testing.assert_array_equal(sampled_expected, np.ones(4, np.float32))


def test_learned_unigram_sampler_learns_from_the_true_classes():
    values = tf.nn.learned_unigram_candidate_sampler([[3, 3]], 2, 2, False, 4, seed=1)
    with tf.Session() as session:
        first = session.run(values.true_expected_count)
        second = session.run(values.true_expected_count)
    np.testing.assert_allclose(first, [[0.25 * 2] * 2])
    # Counts after one run: class 3 has 1 + 2, the others 1 (total 6).
    np.testing.assert_allclose(second, [[0.5 * 2] * 2])


def test_fixed_unigram_sampler_reads_a_vocabulary_file(tmp_path):
    vocab = tmp_path / "vocab.csv"
    vocab.write_text("the,0\nof,3\nand,1\n")
    sampled, true_expected, _ = run(tf.nn.fixed_unigram_candidate_sampler(
        [[1]], 1, 50, False, 3, vocab_file=str(vocab), seed=5))
    assert set(sampled.tolist()) <= {1, 2}
    np.testing.assert_allclose(true_expected, [[0.75 * 50]])


def test_samplers_are_seeded_like_the_other_random_ops():
    def draws(op_seed, graph_seed=7):
        graph = tf.Graph()
        with graph.as_default():
            tf.set_random_seed(graph_seed)
            values = tf.nn.log_uniform_candidate_sampler([[1]], 1, 8, True, 1000, seed=op_seed)
            with tf.Session() as session:
                return [session.run(values.sampled_candidates).tolist() for _ in range(2)]

    first = draws(3)
    assert first == draws(3), "a fixed graph seed and op seed reproduce the draws"
    assert first[0] != first[1], "each run continues the op's sequence"
    assert first != draws(4)
    assert first != draws(3, graph_seed=8)


def test_a_graph_def_reproduces_the_draws():
    graph = tf.Graph()
    with graph.as_default():
        values = tf.nn.fixed_unigram_candidate_sampler([[1]], 1, 3, True, 6,
                                                       unigrams=[1, 2, 3, 4, 5, 6], seed=9)
        with tf.Session() as session:
            expected = session.run(values.sampled_candidates)
    with tf.Graph().as_default():
        tf.import_graph_def(graph.as_graph_def(), name="")
        got = run(values.sampled_candidates.name)
    np.testing.assert_array_equal(got, expected)


def test_sampler_arguments_are_checked():
    with pytest.raises(ValueError, match="unique candidates"):
        tf.nn.uniform_candidate_sampler([[1]], 1, 11, True, 10)
    with pytest.raises(ValueError, match="num_true"):
        tf.nn.uniform_candidate_sampler([[1, 2]], 1, 2, False, 10)
    with pytest.raises(ValueError, match="rank 2"):
        tf.nn.uniform_candidate_sampler([1, 2], 1, 2, False, 10)
    with pytest.raises(ValueError, match="num_sampled"):
        tf.nn.log_uniform_candidate_sampler([[1]], 1, 0, False, 10)
    with pytest.raises(ValueError, match="not both"):
        tf.nn.fixed_unigram_candidate_sampler([[1]], 1, 2, False, 2, vocab_file="v",
                                              unigrams=[1, 1])
    with pytest.raises(ValueError, match="range_max"):
        tf.nn.fixed_unigram_candidate_sampler([[1]], 1, 2, False, 5, unigrams=[1, 1])


def test_sampler_run_time_errors_do_not_hang():
    # Only two classes have weight: three unique draws could never be found.
    values = tf.nn.fixed_unigram_candidate_sampler([[1]], 1, 3, True, 4,
                                                   unigrams=[0, 1, 0, 1])
    with pytest.raises(errors.InvalidArgumentError, match="range is too small"):
        run(values)
    classes = tf.placeholder(tf.int64)
    with pytest.raises(errors.InvalidArgumentError, match="matrix"):
        run(tf.nn.uniform_candidate_sampler(classes, 1, 2, False, 5), {classes: [1]})
    with pytest.raises(errors.InvalidArgumentError, match="lie in"):
        run(tf.nn.learned_unigram_candidate_sampler(classes, 1, 2, False, 5),
            {classes: [[7]]})


def test_namespaces_and_registrations():
    for name in ("uniform_candidate_sampler", "log_uniform_candidate_sampler",
                 "learned_unigram_candidate_sampler", "fixed_unigram_candidate_sampler",
                 "all_candidate_sampler"):
        assert getattr(tf.random, name) is getattr(tf.nn, name)
    for op_type in SAMPLER_OPS:
        assert registry.get(op_type).stateful, op_type
    for op_type in SAMPLER_OPS + ("ComputeAccidentalHits",):
        assert registry.get(op_type).gradient == registry.NOT_DIFFERENTIABLE
    values = tf.nn.uniform_candidate_sampler([[1]], 1, 2, False, 5, name="draw")
    assert values.sampled_candidates.name == "draw:0"
    assert values.sampled_candidates.op.get_attr("range_max") == 5


# ---- a word2vec-style model -----------------------------------------------------------------

def test_skip_gram_training_with_nce_loss_lowers_the_loss():
    vocabulary, dim, batch = 40, 8, 64
    rng = np.random.default_rng(11)
    # Each word's context is its successor: a pattern the embeddings can learn.
    centers = rng.integers(0, vocabulary, 4096)
    contexts = (centers + 1) % vocabulary
    tf.set_random_seed(1)
    center_ids = tf.placeholder(tf.int32, [batch])
    context_ids = tf.placeholder(tf.int64, [batch, 1])
    embeddings = tf.Variable(tf.random_uniform([vocabulary, dim], -1.0, 1.0))
    nce_weights = tf.Variable(tf.truncated_normal([vocabulary, dim], stddev=dim ** -0.5))
    nce_biases = tf.Variable(tf.zeros([vocabulary]))
    embedded = tf.nn.embedding_lookup(embeddings, center_ids)
    loss = tf.reduce_mean(tf.nn.nce_loss(nce_weights, nce_biases, context_ids, embedded,
                                         num_sampled=8, num_classes=vocabulary))
    train = tf.train.GradientDescentOptimizer(0.5).minimize(loss)
    losses = []
    with tf.Session() as session:
        session.run(tf.global_variables_initializer())
        for step in range(150):
            start = (step * batch) % len(centers)
            feed = {center_ids: centers[start:start + batch],
                    context_ids: contexts[start:start + batch, None]}
            losses.append(session.run([train, loss], feed)[1])
    assert np.mean(losses[-20:]) < 0.5 * np.mean(losses[:20])


def test_samplers_and_losses_run_on_a_worker_device():
    with tf.device("/cpu:1"):
        learned = tf.nn.learned_unigram_candidate_sampler([[3, 3]], 2, 2, False, 4, seed=1)
        nce = tf.nn.nce_loss(WEIGHTS, BIASES, LABELS, INPUTS, NUM_SAMPLED, CLASSES, NUM_TRUE,
                             sampled_values=_sampled_values(), remove_accidental_hits=True)
    with tf.Session(config=tf.ConfigProto(device_count={"CPU": 2})) as session:
        first = session.run(learned.true_expected_count)
        second, nce_value = session.run([learned.true_expected_count, nce])
    # The learned counts live on the worker and carry over from run to run.
    np.testing.assert_allclose(first, [[0.5, 0.5]])
    np.testing.assert_allclose(second, [[1.0, 1.0]])
    np.testing.assert_allclose(nce_value, _np_nce(*REFERENCE_ARGS, True), rtol=1e-5)


def test_sampled_softmax_loss_samples_by_its_seed():
    def losses(seed):
        graph = tf.Graph()
        with graph.as_default():
            tf.set_random_seed(5)
            loss = tf.nn.sampled_softmax_loss(WEIGHTS, BIASES, LABELS, INPUTS, NUM_SAMPLED,
                                              CLASSES, NUM_TRUE, seed=seed)
            with tf.Session() as session:
                return [session.run(loss) for _ in range(2)]

    first = losses(1)
    assert all(np.all(np.isfinite(value)) and value.shape == (BATCH,) for value in first)
    np.testing.assert_array_equal(first, losses(1))
    assert not np.array_equal(first[0], first[1])
    assert not np.array_equal(first[0], losses(2)[0])
