"""Graphs of the nn model ops, written once for both TensorFlow and sessionlib.

``tools/make_nn_models_data.py`` runs each case with ``tensorflow.compat.v1`` and stores the
results in ``tests/data/nn_models_tf.npz``; ``tests/test_nn_models.py`` runs the same cases with
sessionlib and compares. A case is ``build(tf) -> list of fetches``; inputs are fixed numpy
arrays (constants), so nothing is fed.
"""

import numpy as np

_EDGES = np.array([-100, -20, -3, -1, -0.5, -1e-3, 0, 1e-3, 0.5, 1, 3, 5.9, 6, 7, 20, 100])


def _rng(seed):
    return np.random.RandomState(seed)


def _logits(seed, shape, dtype=np.float32, big=False):
    values = _rng(seed).uniform(-3, 3, shape)
    if big:
        values[0, 0], values[-1, -1] = 100, -100
    return values.astype(dtype)


def _activations(dtype):
    def build(tf):
        x = tf.constant(_EDGES.astype(dtype))
        outputs = [tf.nn.elu(x), tf.nn.selu(x), tf.nn.softplus(x), tf.nn.softsign(x),
                   tf.nn.relu6(x), tf.nn.leaky_relu(x), tf.nn.leaky_relu(x, alpha=0.01)]
        grads = [tf.gradients(y, x)[0] for y in outputs]
        return outputs + grads

    return build


def _second_order(tf):
    x = tf.constant(np.linspace(-4, 4, 9))
    results = []
    for function in (tf.nn.elu, tf.nn.softplus, tf.nn.selu):
        first = tf.gradients(function(x), x)[0]
        results.append(tf.gradients(first, x)[0])
    return results


def _l2_normalize(tf):
    x = tf.constant(_rng(1).uniform(-2, 2, (3, 4)))
    return [tf.nn.l2_normalize(x, 0), tf.nn.l2_normalize(x, axis=1),
            tf.nn.l2_normalize(x, [0, 1]), tf.nn.l2_normalize(tf.zeros([2, 3]), 1),
            tf.nn.l2_normalize(x, dim=1, epsilon=10.0)]


def _softmax_losses(tf):
    logits = tf.constant(_logits(2, (4, 5), big=True))
    labels = tf.constant(_rng(3).dirichlet(np.ones(5), 4).astype(np.float32))
    v1 = tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    v2 = tf.nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits)
    g_logits, g_labels = tf.gradients(v2 * tf.constant([1., 2., 3., 4.]), [logits, labels])
    g_v1 = tf.gradients(v1, [logits, labels])
    axis0 = tf.nn.softmax_cross_entropy_with_logits_v2(
        labels=tf.transpose(labels), logits=tf.transpose(logits), axis=0)
    logits3 = tf.constant(_logits(4, (2, 3, 5)))
    labels3 = tf.constant(_rng(5).dirichlet(np.ones(5), (2, 3)).astype(np.float32))
    rank3 = tf.nn.softmax_cross_entropy_with_logits_v2(labels=labels3, logits=logits3)
    return [v1, v2, g_logits, g_labels, g_v1[0], axis0, rank3,
            tf.cast(tf.equal(tf.constant(0), tf.constant(0)), tf.float32)
            if g_v1[1] is None else g_v1[1]]


def _sparse_losses(tf):
    logits = tf.constant(_logits(6, (4, 5), big=True))
    labels = tf.constant(np.array([0, 4, 2, 4], np.int32))
    loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    grad = tf.gradients(loss * tf.constant([1., 2., 3., 4.]), logits)[0]
    logits3 = tf.constant(_logits(7, (2, 3, 5), np.float64))
    labels3 = tf.constant(np.array([[0, 1, 2], [3, 4, 0]], np.int64))
    rank3 = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels3, logits=logits3)
    return [loss, grad, rank3]


def _sigmoid_losses(tf):
    logits = tf.constant(_EDGES.reshape(4, 4))
    labels = tf.constant(_rng(8).uniform(0, 1, (4, 4)))
    sigmoid = tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits)
    weighted = tf.nn.weighted_cross_entropy_with_logits(labels=labels, logits=logits,
                                                        pos_weight=2.5)
    return [sigmoid, weighted]


def _log_softmax_l2(tf):
    logits = tf.constant(_logits(9, (3, 4), big=True))
    log_sm = tf.nn.log_softmax(logits)
    log_sm0 = tf.nn.log_softmax(logits, axis=0)
    l2 = tf.nn.l2_loss(logits)
    grads = tf.gradients(log_sm * tf.constant(_logits(10, (3, 4))), logits)[0]
    return [log_sm, log_sm0, l2, grads, tf.gradients(l2, logits)[0]]


def _moments_bn(tf):
    x = tf.constant(_rng(11).normal(1, 2, (2, 3, 4, 5)).astype(np.float32))
    mean, variance = tf.nn.moments(x, [0, 1, 2])
    mean_k, variance_k = tf.nn.moments(x, [1], keep_dims=True)
    scale = tf.constant(_rng(12).uniform(0.5, 1.5, 5).astype(np.float32))
    offset = tf.constant(_rng(13).uniform(-1, 1, 5).astype(np.float32))
    normalized = tf.nn.batch_normalization(x, mean, variance, offset, scale, 1e-3)
    bare = tf.nn.batch_normalization(x, mean, variance, None, None, 1e-3)
    return [mean, variance, mean_k, variance_k, normalized, bare]


def _fused_batch_norm(tf):
    x = tf.constant(_rng(14).normal(1, 2, (2, 3, 4, 5)).astype(np.float32))
    scale = tf.constant(_rng(15).uniform(0.5, 1.5, 5).astype(np.float32))
    offset = tf.constant(_rng(16).uniform(-1, 1, 5).astype(np.float32))
    mean = tf.constant(_rng(17).uniform(-1, 1, 5).astype(np.float32))
    variance = tf.constant(_rng(18).uniform(0.5, 2, 5).astype(np.float32))
    train = tf.nn.fused_batch_norm(x, scale, offset)
    infer = tf.nn.fused_batch_norm(x, scale, offset, mean, variance, is_training=False)
    averaged = tf.nn.fused_batch_norm(x, scale, offset, mean, variance,
                                      exponential_avg_factor=0.3)
    weights = tf.constant(_rng(19).normal(0, 1, (2, 3, 4, 5)).astype(np.float32))
    train_grads = tf.gradients(tf.reduce_sum(train[0] * weights), [x, scale, offset])
    infer_grads = tf.gradients(tf.reduce_sum(infer[0] * weights), [x, scale, offset])
    return list(train) + list(infer) + list(averaged) + train_grads + infer_grads


def _lrn(tf):
    x = tf.constant(_rng(20).uniform(-2, 2, (2, 2, 3, 8)).astype(np.float32))
    default = tf.nn.lrn(x)
    custom = tf.nn.local_response_normalization(x, depth_radius=2, bias=2.0, alpha=1e-1,
                                                beta=0.75)
    weights = tf.constant(_rng(21).normal(0, 1, (2, 2, 3, 8)).astype(np.float32))
    grads = [tf.gradients(tf.reduce_sum(y * weights), x)[0] for y in (default, custom)]
    return [default, custom] + grads


def _top_k(tf):
    values = tf.constant(np.array([[1, 3, 3, 2, 3, 0], [5, 5, 5, 5, 5, 5],
                                   [0, -1, 2, 9, 2, 1]], np.float32))
    top = tf.nn.top_k(values, 3)
    top_ints = tf.nn.top_k(tf.constant(np.array([4, 1, 4, 7, 1], np.int32)), k=4)
    in_top = [tf.nn.in_top_k(values, tf.constant([1, 3, 0]), k) for k in (1, 2, 3)]
    in_top_range = tf.nn.in_top_k(values, tf.constant([6, -1, 3]), 3)
    grads = tf.gradients(top.values * tf.constant(np.arange(9.).reshape(3, 3), tf.float32),
                         values)[0]
    return [top.values, top.indices, top_ints.values, top_ints.indices] + in_top + [
        in_top_range, grads]


def _embedding_lookup(tf):
    table = _rng(22).normal(0, 1, (10, 3)).astype(np.float32)
    ids = tf.constant(np.array([[0, 9, 3], [5, 5, 1]], np.int32))
    single = tf.nn.embedding_lookup(tf.constant(table), ids)
    mod_parts = [tf.constant(table[i::3]) for i in range(3)]
    div_parts = [tf.constant(table[0:4]), tf.constant(table[4:7]), tf.constant(table[7:10])]
    mod = tf.nn.embedding_lookup(mod_parts, ids)
    div = tf.nn.embedding_lookup(div_parts, ids, partition_strategy="div")
    clipped = tf.nn.embedding_lookup(tf.constant(table), ids, max_norm=1.0)
    return [single, mod, div, clipped]


CASES = {
    "activations_float32": _activations(np.float32),
    "activations_float64": _activations(np.float64),
    "second_order": _second_order,
    "l2_normalize": _l2_normalize,
    "softmax_losses": _softmax_losses,
    "sparse_losses": _sparse_losses,
    "sigmoid_losses": _sigmoid_losses,
    "log_softmax_l2": _log_softmax_l2,
    "moments_bn": _moments_bn,
    "fused_batch_norm": _fused_batch_norm,
    "lrn": _lrn,
    "top_k": _top_k,
    "embedding_lookup": _embedding_lookup,
}


def run_case(tf, name):
    """Builds case `name` in a fresh graph and runs it; returns the list of arrays."""
    graph = tf.Graph()
    with graph.as_default():
        fetches = CASES[name](tf)
    with tf.Session(graph=graph) as sess:
        return [np.asarray(v) for v in sess.run(fetches)]
