"""Numeric gradient checks of the nn model ops: activations (and their gradient ops, so second
derivatives), the cross-entropies, log_softmax, l2_loss, fused batch norm, LRN and top_k.

The composites (sigmoid and weighted cross-entropy, l2_normalize, moments,
batch_normalization, dropout, embedding_lookup) differentiate through the basic math ops;
their cases run once those ops have gradients (`_needs`), and are skipped before.
"""

import numpy as np
import pytest

import sessionlib as tf
from sessionlib.framework import registry
from _gradient_check import GradCase, case_ids, check_case


def _away_from(values, points, margin=0.05):
    """`values` with entries near any of `points` moved by `margin` (kinks of the op)."""
    values = np.array(values, dtype=np.float64)
    for point in points:
        near = np.abs(values - point) < margin
        values[near] = point + margin * 2 * np.where(values[near] >= point, 1, -1)
    return values


_RNG = np.random.RandomState(7)
_X = _away_from(_RNG.uniform(-3, 3, (3, 4)), [0])
_X6 = _away_from(_RNG.uniform(-2, 8, (3, 4)), [0, 6])
_G = _RNG.uniform(-1, 1, (3, 4))
_LOGITS = _RNG.uniform(-2, 2, (3, 5))
_LABELS = _RNG.dirichlet(np.ones(5), 3)


def _op(op_type, attrs=None, output=None):
    """A build function creating `op_type` directly on its inputs."""

    def build(*inputs):
        op = tf.get_default_graph().create_op(op_type, list(inputs), attrs)
        return op.outputs if output is None else op.outputs[output]

    return build


def _elu_output(x):
    return np.where(x < 0, np.expm1(x), x)


def _selu_output(x):
    return 1.0507009873554805 * np.where(x < 0, 1.6732632423543772 * np.expm1(x), x)


GRADIENT_CASES = [
    GradCase("Elu", tf.nn.elu, [_X]),
    GradCase("EluGrad", _op("EluGrad"), [_G, _away_from(_elu_output(_X), [0])]),
    GradCase("Selu", tf.nn.selu, [_X]),
    GradCase("SeluGrad", _op("SeluGrad"), [_G, _away_from(_selu_output(_X), [0])]),
    GradCase("Softplus", tf.nn.softplus, [_X]),
    GradCase("SoftplusGrad", _op("SoftplusGrad"), [_G, _X]),
    GradCase("Softsign", tf.nn.softsign, [_X]),
    GradCase("SoftsignGrad", _op("SoftsignGrad"), [_G, _X]),
    GradCase("Relu6", tf.nn.relu6, [_X6]),
    GradCase("Relu6Grad", _op("Relu6Grad"), [_G, _X6]),
    GradCase("LeakyRelu", lambda x: tf.nn.leaky_relu(x, alpha=0.3), [_X]),
    GradCase("LeakyReluGrad", _op("LeakyReluGrad", {"alpha": 0.3}), [_G, _X]),
    # Both outputs: the backprop output's gradient is the second-order path.
    GradCase("SoftmaxCrossEntropyWithLogits", _op("SoftmaxCrossEntropyWithLogits"),
             [_LOGITS, _LABELS], id="SoftmaxCrossEntropyWithLogits-both-outputs"),
    GradCase("SoftmaxCrossEntropyWithLogits",
             lambda logits, labels: tf.nn.softmax_cross_entropy_with_logits_v2(
                 labels=labels, logits=logits), [_LOGITS, _LABELS],
             id="softmax_cross_entropy_with_logits_v2"),
    GradCase("SparseSoftmaxCrossEntropyWithLogits", _op("SparseSoftmaxCrossEntropyWithLogits"),
             [_LOGITS, np.array([0, 4, 2], np.int32)],
             id="SparseSoftmaxCrossEntropyWithLogits-both-outputs"),
    GradCase("LogSoftmax", tf.nn.log_softmax, [_LOGITS]),
    GradCase("L2Loss", tf.nn.l2_loss, [_X]),
    GradCase("FusedBatchNormV3", lambda x, s, o, m, v: tf.nn.fused_batch_norm(x, s, o, m, v)[0],
             [_RNG.normal(0, 2, (2, 2, 3, 3)), _RNG.uniform(0.5, 1.5, 3),
              _RNG.uniform(-1, 1, 3), np.zeros(0), np.zeros(0)], wrt=[0, 1, 2],
             delta=1e-5, tolerance=1e-5, id="FusedBatchNormV3-training"),
    GradCase("FusedBatchNormV3",
             lambda x, s, o, m, v: tf.nn.fused_batch_norm(x, s, o, m, v, is_training=False,
                                                          data_format="NCHW")[0],
             [_RNG.normal(0, 2, (2, 3, 2, 2)), _RNG.uniform(0.5, 1.5, 3),
              _RNG.uniform(-1, 1, 3), _RNG.uniform(-1, 1, 3), _RNG.uniform(0.5, 2, 3)],
             wrt=[0, 1, 2], id="FusedBatchNormV3-inference-NCHW"),
    GradCase("LRN", lambda x: tf.nn.lrn(x, depth_radius=2, bias=1.5, alpha=0.3, beta=0.75),
             [_RNG.uniform(-2, 2, (1, 2, 2, 6))], delta=1e-5, tolerance=1e-5),
    GradCase("TopKV2", lambda x: tf.nn.top_k(x, 3).values,
             [_RNG.permutation(20).reshape(4, 5) / 4.0]),
]

def _composite(op_type, build, inputs, **kwargs):
    return GradCase(op_type, build, inputs, **kwargs)


COMPOSITE_CASES = [
    _composite("Log1p", lambda x, z: tf.nn.sigmoid_cross_entropy_with_logits(labels=z,
                                                                            logits=x),
               [_X * 10, _RNG.uniform(0, 1, (3, 4))], id="sigmoid_cross_entropy_with_logits"),
    _composite("Log1p", lambda x, z: tf.nn.weighted_cross_entropy_with_logits(
        labels=z, logits=x, pos_weight=2.5), [_X * 10, _RNG.uniform(0, 1, (3, 4))],
               id="weighted_cross_entropy_with_logits"),
    _composite("Rsqrt", lambda x: tf.nn.l2_normalize(x, axis=1), [_X], id="l2_normalize"),
    _composite("Mean", lambda x: list(tf.nn.moments(x, [0])), [_X], id="moments"),
    _composite("Rsqrt", lambda x, m, v, o, s: tf.nn.batch_normalization(x, m, v, o, s, 1e-3),
               [_X, _RNG.uniform(-1, 1, 4), _RNG.uniform(0.5, 2, 4), _RNG.uniform(-1, 1, 4),
                _RNG.uniform(0.5, 2, 4)], id="batch_normalization"),
    _composite("GatherV2", lambda p: tf.nn.embedding_lookup(p, tf.constant([[2, 0], [2, 1]])),
               [_RNG.uniform(-1, 1, (3, 2))], id="embedding_lookup"),
    _composite("GatherV2", lambda a, b: tf.nn.embedding_lookup([a, b],
                                                               tf.constant([3, 0, 1, 3])),
               [_RNG.uniform(-1, 1, (2, 2)), _RNG.uniform(-1, 1, (2, 2))],
               id="embedding_lookup-mod"),
]


# The op types of this family: a missing gradient of one of them is a failure, never a skip.
_OWN = {"Elu", "EluGrad", "Selu", "SeluGrad", "Softplus", "SoftplusGrad", "Softsign",
        "SoftsignGrad", "Relu6", "Relu6Grad", "LeakyRelu", "LeakyReluGrad",
        "SoftmaxCrossEntropyWithLogits", "SparseSoftmaxCrossEntropyWithLogits", "LogSoftmax",
        "L2Loss", "FusedBatchNormV3", "FusedBatchNormGradV3", "LRN", "LRNGrad", "TopKV2",
        "InTopKV2"}


def _with_basic_gradients(check):
    """Runs `check`; skips when it needs a gradient of a basic op that has none yet
    written yet (the composites differentiate through the math and array ops)."""
    try:
        check()
    except LookupError as error:
        missing = str(error).split("op type: ")[-1].split(")")[0]
        if missing in _OWN or registry.find(missing) is None:
            raise
        pytest.skip(f"the gradient of the basic op {missing} is not there yet")


@pytest.mark.parametrize("case", GRADIENT_CASES, ids=case_ids(GRADIENT_CASES))
def test_gradient(case):
    check_case(case)


@pytest.mark.parametrize("case", COMPOSITE_CASES, ids=case_ids(COMPOSITE_CASES))
def test_composite_gradient(case):
    _with_basic_gradients(lambda: check_case(case))


def test_dropout_gradient_is_the_mask_times_the_scale():
    _with_basic_gradients(_check_dropout_gradient)


def _check_dropout_gradient():
    with tf.Graph().as_default():
        x = tf.constant(np.ones((50, 40)))
        y = tf.nn.dropout(x, keep_prob=0.5, seed=3)
        grad = tf.gradients(y, x)[0]
        with tf.Session() as sess:
            y_value, grad_value = sess.run([y, grad])
    np.testing.assert_allclose(grad_value, y_value)
    assert set(np.unique(grad_value)) == {0.0, 2.0}


def test_second_derivative_of_the_softmax_cross_entropy():
    """Hessian-vector product of the loss in the logits, against finite differences of the
    first derivative."""
    _with_basic_gradients(_check_second_derivative)


def _check_second_derivative():
    logits_value = _LOGITS.copy()
    vector = _RNG.uniform(-1, 1, logits_value.shape)
    with tf.Graph().as_default():
        logits = tf.placeholder(tf.float64, logits_value.shape)
        loss = tf.nn.softmax_cross_entropy_with_logits_v2(labels=tf.constant(_LABELS),
                                                          logits=logits)
        first = tf.gradients(loss, logits)[0]
        hvp = tf.gradients(first, logits, grad_ys=tf.constant(vector))[0]
        with tf.Session() as sess:
            symbolic = sess.run(hvp, {logits: logits_value})
            eps = 1e-6
            up = sess.run(first, {logits: logits_value + eps * vector})
            down = sess.run(first, {logits: logits_value - eps * vector})
    # The Hessian is symmetric, so H v is the directional derivative of the gradient.
    np.testing.assert_allclose(symbolic, (up - down) / (2 * eps), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("sparse", [True, False])
def test_first_derivative_of_the_cross_entropy_builds_no_second_order_term(sparse):
    # With a known shape, tf.gradients fills the backprop output's missing gradient with a
    # constant of zeros (not a ZerosLike op); the softmax Jacobian term it would feed is zero,
    # and TF does not build it.
    logits_value = _LOGITS.copy()
    labels_value = np.argmax(_LABELS, axis=-1).astype(np.int32)
    with tf.Graph().as_default() as graph:
        logits = tf.placeholder(tf.float64, logits_value.shape)
        if sparse:
            loss = tf.nn.sparse_softmax_cross_entropy_with_logits(
                labels=tf.constant(labels_value), logits=logits)
        else:
            loss = tf.nn.softmax_cross_entropy_with_logits_v2(labels=tf.constant(_LABELS),
                                                              logits=logits)
        grad = tf.gradients(tf.reduce_sum(loss), logits)[0]
        assert "Softmax" not in {op.type for op in graph.get_operations()}
        with tf.Session() as sess:
            got = sess.run(grad, {logits: logits_value})
    shifted = np.exp(logits_value - logits_value.max(-1, keepdims=True))
    softmax = shifted / shifted.sum(-1, keepdims=True)
    targets = np.eye(logits_value.shape[-1])[labels_value] if sparse else _LABELS
    np.testing.assert_allclose(got, softmax - targets, rtol=1e-12, atol=1e-14)
