"""tf.contrib.crf: scores, log-norm, log-likelihood and Viterbi decoding against a brute-force
enumeration of every tag sequence; gradients against finite differences; a small training
loop."""

import itertools

import numpy as np
import pytest

import sessionlib as tf

crf = tf.contrib.crf


def _problem(seed, batch=4, steps=4, num_tags=3, lengths=(4, 1, 2, 3), dtype=np.float32):
    rng = np.random.RandomState(seed)
    inputs = rng.randn(batch, steps, num_tags).astype(dtype)
    transitions = rng.randn(num_tags, num_tags).astype(dtype)
    tags = rng.randint(0, num_tags, (batch, steps)).astype(np.int32)
    return inputs, tags, np.array(lengths, np.int32), transitions


def _path_score(inputs, path, transitions):
    return (sum(inputs[t, tag] for t, tag in enumerate(path))
            + sum(transitions[a, b] for a, b in zip(path[:-1], path[1:])))


def _brute_force(inputs, tags, lengths, transitions):
    """Per row: (score of `tags`, unary, binary, log-norm, best path, best score)."""
    rows = []
    num_tags = inputs.shape[2]
    for row, length in zip(range(inputs.shape[0]), lengths):
        if length == 0:
            rows.append((0.0, 0.0, 0.0, 0.0, None, None))
            continue
        x = inputs[row].astype(np.float64)
        path = tags[row, :length]
        unary = sum(x[t, tag] for t, tag in enumerate(path))
        binary = sum(transitions[a, b] for a, b in zip(path[:-1], path[1:]))
        paths = list(itertools.product(range(num_tags), repeat=int(length)))
        scores = np.array([_path_score(x, p, transitions) for p in paths])
        log_norm = np.log(np.sum(np.exp(scores - scores.max()))) + scores.max()
        best = int(np.argmax(scores))
        rows.append((unary + binary, unary, binary, log_norm, paths[best], scores[best]))
    return rows


def _run(tensors, feeds=None):
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run(tensors, feeds)


@pytest.mark.parametrize("static_time", [True, False])
def test_scores_log_norm_and_likelihood_match_enumeration(executor, static_time):
    inputs, tags, lengths, transitions = _problem(0)
    shape = [None, 4 if static_time else None, 3]
    inputs_t = tf.placeholder(tf.float32, shape)
    tags_t = tf.placeholder(tf.int32, shape[:2])
    lengths_t = tf.placeholder(tf.int32, [None])
    transitions_t = tf.constant(transitions)
    outputs = [crf.crf_sequence_score(inputs_t, tags_t, lengths_t, transitions_t),
               crf.crf_unary_score(tags_t, lengths_t, inputs_t),
               crf.crf_binary_score(tags_t, lengths_t, transitions_t),
               crf.crf_log_norm(inputs_t, lengths_t, transitions_t),
               crf.crf_log_likelihood(inputs_t, tags_t, lengths_t, transitions_t)[0]]
    got = _run(outputs, {inputs_t: inputs, tags_t: tags, lengths_t: lengths})
    want = np.array([row[:4] for row in _brute_force(inputs, tags, lengths, transitions)])
    for column in range(4):
        np.testing.assert_allclose(got[column], want[:, column], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got[4], want[:, 0] - want[:, 3], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("static_time", [True, False])
def test_single_step_and_empty_rows(executor, static_time):
    inputs, tags, _, transitions = _problem(1, batch=3, steps=1, lengths=(1, 1, 0))
    lengths = np.array([1, 1, 0], np.int32)
    inputs_t = tf.placeholder(tf.float32, [None, 1 if static_time else None, 3])
    tags_t = tf.placeholder(tf.int32, [None, 1 if static_time else None])
    feeds = {inputs_t: inputs, tags_t: tags}
    ll, _ = crf.crf_log_likelihood(inputs_t, tags_t, lengths, tf.constant(transitions))
    norm = crf.crf_log_norm(inputs_t, lengths, tf.constant(transitions))
    score = crf.crf_sequence_score(inputs_t, tags_t, lengths, tf.constant(transitions))
    decoded, best = crf.crf_decode(inputs_t, tf.constant(transitions), lengths)
    ll, norm, score, decoded, best = _run([ll, norm, score, decoded, best], feeds)
    x = inputs[:, 0, :].astype(np.float64)
    want_norm = np.log(np.exp(x).sum(1))
    want_score = x[np.arange(3), tags[:, 0]]
    np.testing.assert_allclose(norm, [want_norm[0], want_norm[1], 0.0], rtol=1e-5)
    np.testing.assert_allclose(score, [want_score[0], want_score[1], 0.0], rtol=1e-5)
    np.testing.assert_allclose(ll, score - norm, rtol=1e-5)
    assert decoded.dtype == np.int32 and decoded.shape == (3, 1)
    np.testing.assert_array_equal(decoded[:2, 0], x[:2].argmax(1))
    np.testing.assert_allclose(best[:2], x[:2].max(1), rtol=1e-6)


@pytest.mark.parametrize("static_time", [True, False])
def test_crf_decode_matches_enumeration_and_viterbi_decode(executor, static_time):
    inputs, tags, lengths, transitions = _problem(2, batch=5, steps=5,
                                                  lengths=(5, 1, 3, 2, 4))
    inputs_t = tf.placeholder(tf.float32, [None, 5 if static_time else None, 3])
    decoded, best = crf.crf_decode(inputs_t, tf.constant(transitions), lengths)
    assert decoded.dtype == tf.int32
    decoded, best = _run([decoded, best], {inputs_t: inputs})
    for row, reference in enumerate(_brute_force(inputs, tags, lengths, transitions)):
        length = lengths[row]
        np.testing.assert_array_equal(decoded[row, :length], reference[4])
        np.testing.assert_array_equal(decoded[row, length:], 0)
        np.testing.assert_allclose(best[row], reference[5], rtol=1e-5)
        path, path_score = crf.viterbi_decode(inputs[row, :length], transitions)
        assert path == list(reference[4])
        np.testing.assert_allclose(path_score, reference[5], rtol=1e-5)


def test_viterbi_decode_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="num_tags"):
        crf.viterbi_decode(np.zeros([3, 4]), np.zeros([3, 3]))


def test_log_likelihood_creates_transitions_variable():
    inputs, tags, lengths, _ = _problem(3)
    with tf.variable_scope("tagger"):
        ll, transitions = crf.crf_log_likelihood(tf.constant(inputs), tf.constant(tags),
                                                 tf.constant(lengths))
    assert transitions.op.name == "tagger/transitions"
    assert transitions.shape.as_list() == [3, 3]
    assert [v.op.name for v in tf.trainable_variables()] == ["tagger/transitions"]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        ll, matrix = sess.run([ll, transitions])
    want = np.array([row[0] - row[3] for row in _brute_force(inputs, tags, lengths, matrix)])
    np.testing.assert_allclose(ll, want, rtol=1e-5, atol=1e-5)


def test_log_likelihood_gradients_match_finite_differences(executor):
    inputs, tags, lengths, transitions = _problem(4, batch=3, steps=3, lengths=(3, 1, 2),
                                                  dtype=np.float64)
    inputs_t = tf.placeholder(tf.float64, [3, 3, 3])
    transitions_t = tf.placeholder(tf.float64, [3, 3])
    ll, _ = crf.crf_log_likelihood(inputs_t, tags, lengths, transitions_t)
    total = tf.reduce_sum(ll)
    grads = tf.gradients(total, [inputs_t, transitions_t])
    with tf.Session() as sess:
        def value(x, a):
            return sess.run(total, {inputs_t: x, transitions_t: a})

        got = sess.run(grads, {inputs_t: inputs, transitions_t: transitions})
        eps = 1e-6
        for which, array in enumerate((inputs, transitions)):
            numeric = np.zeros_like(array)
            for index in np.ndindex(array.shape):
                plus, minus = array.copy(), array.copy()
                plus[index] += eps
                minus[index] -= eps
                args = [(plus, transitions), (inputs, plus)][which]
                args_minus = [(minus, transitions), (inputs, minus)][which]
                numeric[index] = (value(*args) - value(*args_minus)) / (2 * eps)
            np.testing.assert_allclose(got[which], numeric, rtol=1e-5, atol=1e-6)
    # Padding steps of a short row get no gradient.
    np.testing.assert_array_equal(got[0][1, 1:], 0.0)


def test_crf_training_loss_falls_and_decodes_targets(executor):
    # The transitions variable starts from unseeded glorot values unless the graph has a seed;
    # 500 unseeded starts all passed (final/first loss at most 0.009, bound 0.2), but a fixed
    # start makes the loss curve the same every run.
    tf.set_random_seed(0)
    rng = np.random.RandomState(5)
    features = rng.randn(4, 5, 6).astype(np.float32)
    targets = rng.randint(0, 3, (4, 5)).astype(np.int32)
    lengths = np.array([5, 3, 1, 4], np.int32)
    with tf.variable_scope("crf_train"):
        weights = tf.get_variable("w", [6, 3], initializer=tf.zeros_initializer())
        unary = tf.reshape(tf.matmul(tf.reshape(features, [-1, 6]), weights), [4, 5, 3])
        ll, transitions = crf.crf_log_likelihood(unary, targets, lengths)
    loss = -tf.reduce_mean(ll)
    train = tf.train.AdamOptimizer(0.1).minimize(loss)
    decoded, _ = crf.crf_decode(unary, transitions, lengths)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        losses = [sess.run([loss, train])[0] for _ in range(150)]
        tags = sess.run(decoded)
    assert losses[-1] < 0.2 * losses[0]
    assert all(later <= earlier + 1e-3 for earlier, later in zip(losses[::10], losses[10::10]))
    for row, length in enumerate(lengths):
        np.testing.assert_array_equal(tags[row, :length], targets[row, :length])


def test_unknown_crf_name_raises_attribute_error():
    with pytest.raises(AttributeError, match="crf.crf_nonexistent"):
        crf.crf_nonexistent
