"""The nn ops for models: values against TensorFlow's, TF 1 signatures, names and errors.

TF's numbers come from ``tests/data/nn_models_tf.npz`` (made by ``tools/make_nn_models_data.py``
with TF 2.21 from the cases of ``tests/_nn_models_cases.py``); no test needs TF.
"""

import pathlib

import numpy as np
import pytest

import sessionlib as tf
from sessionlib import errors
from sessionlib.framework import registry
from sessionlib.framework.indexed_slices import IndexedSlices
import _nn_models_cases as cases

_DATA = np.load(pathlib.Path(__file__).parent / "data" / "nn_models_tf.npz")


@pytest.fixture(params=["cython", "reference"])
def executor(request):
    from sessionlib.runtime import executor as executor_lib

    previous = executor_lib.set_default_executor(request.param)
    yield request.param
    executor_lib.set_default_executor(previous)


@pytest.mark.parametrize("name", sorted(cases.CASES))
def test_values_match_tensorflow(name, executor):
    ours = cases.run_case(tf, name)
    for index, value in enumerate(ours):
        expected = _DATA[f"{name}/{index}"]
        context = f"{name} output {index} ({executor})"
        assert value.shape == expected.shape, context
        assert value.dtype == expected.dtype, context
        if value.dtype.kind == "f":
            tolerance = 1e-5 if value.dtype == np.float32 else 1e-10
            np.testing.assert_allclose(value, expected, rtol=tolerance, atol=tolerance,
                                       err_msg=context)
        else:
            np.testing.assert_array_equal(value, expected, err_msg=context)


def _run(fetches, feed_dict=None):
    with tf.Session() as sess:
        return sess.run(fetches, feed_dict)


# ---- losses -------------------------------------------------------------------------------

def test_losses_are_finite_and_exact_at_extreme_logits():
    with tf.Graph().as_default():
        logits = tf.constant([[100.0, -100.0], [-100.0, 100.0]])
        labels = tf.constant([[1.0, 0.0], [1.0, 0.0]])
        dense = tf.nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits)
        sparse = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.constant([0, 0]),
                                                                logits=logits)
        sigmoid = tf.nn.sigmoid_cross_entropy_with_logits(
            labels=tf.constant([1.0, 0.0, 1.0]), logits=tf.constant([100.0, 100.0, -100.0]))
        dense_v, sparse_v, sigmoid_v = _run([dense, sparse, sigmoid])
    np.testing.assert_allclose(dense_v, [0.0, 200.0])
    np.testing.assert_allclose(sparse_v, [0.0, 200.0])
    np.testing.assert_allclose(sigmoid_v, [0.0, 100.0, 100.0], atol=1e-30)


def test_fused_loss_ops_have_tf_names_and_two_outputs():
    with tf.Graph().as_default() as graph:
        logits = tf.placeholder(tf.float32, [None, 3])
        tf.nn.softmax_cross_entropy_with_logits(labels=tf.ones([2, 3]) / 3, logits=logits)
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.constant([1, 2]),
                                                       logits=logits)
        types = [op.type for op in graph.get_operations()]
        xent = [op for op in graph.get_operations()
                if op.type == "SoftmaxCrossEntropyWithLogits"][0]
    assert "SparseSoftmaxCrossEntropyWithLogits" in types
    assert len(xent.outputs) == 2 and xent.outputs[1].shape.as_list() == [2, 3]
    # TF 1's softmax_cross_entropy_with_logits stops the labels' gradient.
    assert xent.inputs[1].op.type == "StopGradient"


def test_v1_labels_get_no_gradient_and_v2_labels_do():
    with tf.Graph().as_default():
        logits = tf.constant([[1.0, 2.0, 0.5]])
        labels = tf.constant([[0.2, 0.5, 0.3]])
        v1 = tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits)
        v2 = tf.nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits)
        assert tf.gradients(v1, labels) == [None]
        grad = tf.gradients(v2, labels)[0]
        expected = -_run(tf.nn.log_softmax(logits))
        np.testing.assert_allclose(_run(grad), expected, rtol=1e-6)


def test_loss_argument_errors():
    with tf.Graph().as_default():
        logits = tf.zeros([2, 3])
        with pytest.raises(ValueError, match="named arguments"):
            tf.nn.softmax_cross_entropy_with_logits(tf.ones([2, 3]), logits)
        with pytest.raises(ValueError, match="Both labels and logits"):
            tf.nn.sigmoid_cross_entropy_with_logits(logits=logits)
        with pytest.raises(ValueError, match="Rank mismatch"):
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.zeros([2, 1], tf.int32),
                                                           logits=logits)
        with pytest.raises(ValueError, match="Shape mismatch"):
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.zeros([3], tf.int32),
                                                           logits=logits)
        with pytest.raises(ValueError, match="same shape"):
            tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.zeros([3, 2]), logits=logits)
        with pytest.raises(TypeError):
            tf.nn.l2_loss(tf.constant([1, 2]))


def test_sparse_label_out_of_range_is_invalid_argument():
    with tf.Graph().as_default():
        labels = tf.placeholder(tf.int32, [2])
        loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels,
                                                              logits=tf.zeros([2, 3]))
        with pytest.raises(errors.InvalidArgumentError, match="label value of 3"):
            _run(loss, {labels: [0, 3]})
        with pytest.raises(errors.InvalidArgumentError, match="label value of -1"):
            _run(loss, {labels: [-1, 0]})


def test_float16_losses_compute_in_float32():
    with tf.Graph().as_default():
        logits = tf.constant([[10.0, 0.0, -10.0]], tf.float16)
        loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.constant([2]),
                                                              logits=logits)
        assert loss.dtype is tf.float16
        np.testing.assert_allclose(_run(loss), [20.0], rtol=1e-3)


# ---- activations ------------------------------------------------------------------------

def test_activation_dtypes_and_attrs():
    with tf.Graph().as_default():
        with pytest.raises(TypeError):
            tf.nn.elu(tf.constant([1, 2]))
        leaky = tf.nn.leaky_relu(tf.constant([-2, 3]), alpha=0.5)
        assert leaky.dtype is tf.float32 and leaky.op.get_attr("alpha") == 0.5
        np.testing.assert_allclose(_run(leaky), [-1.0, 3.0])
        relu6 = tf.nn.relu6(tf.constant([-3, 2, 9], tf.int32))
        np.testing.assert_array_equal(_run(relu6), [0, 2, 6])
        assert tf.nn.selu(tf.zeros([1])).op.type == "Selu"


def test_softplus_is_stable_and_selu_uses_tf_constants():
    with tf.Graph().as_default():
        x = tf.constant([-1000.0, 0.0, 1000.0], tf.float64)
        softplus, selu = _run([tf.nn.softplus(x), tf.nn.selu(tf.constant([-1e9, 1.0]))])
    np.testing.assert_allclose(softplus, [0.0, np.log(2), 1000.0])
    np.testing.assert_allclose(selu, [-1.0507009873554805 * 1.6732632423543772,
                                      1.0507009873554805], rtol=1e-6)


# ---- dropout ----------------------------------------------------------------------------

def test_dropout_keep_prob_one_is_x_itself():
    with tf.Graph().as_default():
        x = tf.ones([3])
        assert tf.nn.dropout(x, keep_prob=1) is x
        assert tf.nn.dropout(x, rate=0.0) is x


def test_dropout_argument_errors():
    with tf.Graph().as_default():
        x = tf.ones([3])
        for bad in (0, 0.0, 1.5, -0.1):
            with pytest.raises(ValueError):
                tf.nn.dropout(x, keep_prob=bad)
        with pytest.raises(ValueError):
            tf.nn.dropout(x, rate=1.0)
        with pytest.raises(ValueError, match="both"):
            tf.nn.dropout(x, keep_prob=0.5, rate=0.5)
        with pytest.raises(ValueError, match="rate"):
            tf.nn.dropout(x)
        with pytest.raises(ValueError, match="floating"):
            tf.nn.dropout(tf.ones([3], tf.int32), 0.5)


def test_dropout_values_scale_and_seed():
    def masks(graph_seed, op_seed):
        with tf.Graph().as_default():
            if graph_seed is not None:
                tf.set_random_seed(graph_seed)
            y = tf.nn.dropout(tf.ones([200, 50]), keep_prob=0.25, seed=op_seed)
            with tf.Session() as sess:
                return sess.run(y), sess.run(y)

    first, second = masks(1, 5)
    assert set(np.unique(first)) == {0.0, 4.0}
    assert 0.2 < np.mean(first > 0) < 0.3
    assert not np.array_equal(first, second)  # each run draws a new mask
    again, _ = masks(1, 5)
    np.testing.assert_array_equal(first, again)  # ... and the seeds reproduce it
    other, _ = masks(1, 6)
    assert not np.array_equal(first, other)


def test_dropout_keep_prob_placeholder_and_noise_shape():
    with tf.Graph().as_default():
        keep_prob = tf.placeholder(tf.float32)
        x = tf.constant(np.arange(1.0, 401.0, dtype=np.float32).reshape(100, 4))
        y = tf.nn.dropout(x, keep_prob)
        rows = tf.nn.dropout(x, rate=0.5, noise_shape=[100, 1], seed=2)
        with tf.Session() as sess:
            np.testing.assert_array_equal(sess.run(y, {keep_prob: 1.0}), sess.run(x))
            halved = sess.run(y, {keep_prob: 0.5})
            row_values = sess.run(rows)
            x_value = sess.run(x)
    assert set(np.unique(halved / x_value)) <= {0.0, 2.0}
    kept = row_values != 0
    assert np.all(kept.all(axis=1) | (~kept).all(axis=1))  # whole rows kept or dropped


# ---- normalization ----------------------------------------------------------------------

def test_fused_batch_norm_nchw_matches_nhwc_and_float16():
    rng = np.random.RandomState(0)
    x = rng.normal(0, 1, (2, 3, 4, 5)).astype(np.float32)
    scale = rng.uniform(0.5, 1.5, 3).astype(np.float32)
    offset = rng.uniform(-1, 1, 3).astype(np.float32)
    with tf.Graph().as_default():
        nchw = tf.nn.fused_batch_norm(tf.constant(x), scale, offset, data_format="NCHW")
        nhwc = tf.nn.fused_batch_norm(tf.constant(x.transpose(0, 2, 3, 1)), scale, offset)
        half = tf.nn.fused_batch_norm(tf.constant(x.transpose(0, 2, 3, 1), tf.float16), scale,
                                      offset)
        assert half[0].dtype is tf.float16 and half[1].dtype is tf.float32
        nchw_v, nhwc_v, half_v = _run([nchw, nhwc, half])
    np.testing.assert_allclose(nchw_v[0].transpose(0, 2, 3, 1), nhwc_v[0], rtol=1e-5,
                               atol=1e-5)
    np.testing.assert_allclose(nchw_v[1], nhwc_v[1], rtol=1e-6)
    np.testing.assert_allclose(half_v[0], nhwc_v[0], rtol=1e-2, atol=1e-2)


def test_fused_batch_norm_errors():
    with tf.Graph().as_default():
        x = tf.zeros([2, 2, 2, 3])
        with pytest.raises(ValueError, match="is_training"):
            tf.nn.fused_batch_norm(x, tf.ones([3]), tf.zeros([3]), is_training=False)
        with pytest.raises(ValueError):
            tf.nn.fused_batch_norm(tf.zeros([2, 3]), tf.ones([3]), tf.zeros([3]))
        with pytest.raises(ValueError):
            tf.nn.fused_batch_norm(x, tf.ones([4]), tf.zeros([4]))
        scale = tf.placeholder(tf.float32, [None])
        y = tf.nn.fused_batch_norm(x, scale, tf.zeros([3]))[0]
        with pytest.raises(errors.InvalidArgumentError):
            _run(y, {scale: np.ones(2, np.float32)})


def test_fused_batch_norm_epsilon_has_tf_floor():
    with tf.Graph().as_default():
        y = tf.nn.fused_batch_norm(tf.zeros([1, 1, 1, 2]), tf.ones([2]), tf.zeros([2]),
                                   epsilon=0.0)[0]
        assert y.op.get_attr("epsilon") == pytest.approx(1.001e-5)


def test_lrn_needs_rank_4():
    with tf.Graph().as_default():
        with pytest.raises(ValueError):
            tf.nn.lrn(tf.zeros([2, 3]))
        assert tf.nn.lrn(tf.zeros([1, 1, 1, 3])).op.get_attr("depth_radius") == 5


# ---- top_k, in_top_k, embedding_lookup --------------------------------------------------

def test_top_k_errors_and_shapes():
    with tf.Graph().as_default():
        values = tf.placeholder(tf.float32, [None, 3])
        top = tf.nn.top_k(values, 2)
        assert top.values.shape.as_list() == [None, 2] and top.indices.dtype is tf.int32
        with pytest.raises(ValueError):
            tf.nn.top_k(values, 4)
        k = tf.placeholder(tf.int32, [])
        dynamic = tf.nn.top_k(values, k)
        with pytest.raises(errors.InvalidArgumentError, match="at least k columns"):
            _run(dynamic, {values: np.zeros((1, 3)), k: 4})
        first = _run(dynamic, {values: [[1, 3, 2]], k: 1})
        np.testing.assert_array_equal(first.indices, [[1]])


def test_in_top_k_is_not_differentiable():
    assert registry.get("InTopKV2").gradient == registry.NOT_DIFFERENTIABLE


def test_embedding_lookup_errors_and_out_of_range():
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="partition strategy"):
            tf.nn.embedding_lookup(tf.zeros([3, 2]), [0], partition_strategy="x")
        with pytest.raises(ValueError):
            tf.nn.embedding_lookup([], [0])
        ids = tf.placeholder(tf.int32, [None])
        rows = tf.nn.embedding_lookup(tf.zeros([3, 2]), ids)
        assert rows.shape.as_list() == [None, 2]
        with pytest.raises(errors.InvalidArgumentError):
            _run(rows, {ids: [3]})


def test_embedding_lookup_gradient_is_sparse():
    if registry.get("GatherV2").gradient is None:
        pytest.skip("GatherV2's gradient is not there yet")
    with tf.Graph().as_default():
        params = tf.Variable(np.arange(12.0).reshape(6, 2))
        ids = tf.constant([4, 1, 4])
        loss = tf.reduce_sum(tf.nn.embedding_lookup(params, ids))
        grad = tf.gradients(loss, params)[0]
        assert isinstance(grad, IndexedSlices)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            value = sess.run(grad)
            dense = sess.run(tf.convert_to_tensor(grad))
    np.testing.assert_array_equal(np.sort(value.indices), [1, 4, 4])
    expected = np.zeros((6, 2))
    expected[1] = 1
    expected[4] = 2
    np.testing.assert_allclose(dense, expected)


def test_nn_namespace_has_every_name():
    for name in ("softmax_cross_entropy_with_logits", "softmax_cross_entropy_with_logits_v2",
                 "sparse_softmax_cross_entropy_with_logits",
                 "sigmoid_cross_entropy_with_logits", "weighted_cross_entropy_with_logits",
                 "log_softmax", "l2_loss", "dropout", "embedding_lookup", "moments",
                 "batch_normalization", "fused_batch_norm", "lrn",
                 "local_response_normalization", "in_top_k", "top_k", "leaky_relu", "elu",
                 "selu", "softplus", "softsign", "relu6", "l2_normalize"):
        assert callable(getattr(tf.nn, name)), name
