"""nn ops (relu, softmax, sigmoid, tanh, bias_add) and random ops with TF 1 seed semantics."""

import numpy as np
import pytest

import sessionlib as tf
from sessionlib import errors

F = np.array([[1.0, -2.0, 3.0], [0.5, 0.0, -0.5]], dtype=np.float32)


def run(fetches, feed_dict=None):
    with tf.Session() as session:
        return session.run(fetches, feed_dict)


# ---- nn ---------------------------------------------------------------------------------------

def test_nn_values(executor):
    x = tf.constant(F)
    relu, sigmoid, tanh, softmax = run([tf.nn.relu(x), tf.nn.sigmoid(x), tf.nn.tanh(x),
                                        tf.nn.softmax(x)])
    np.testing.assert_array_equal(relu, np.maximum(F, 0))
    np.testing.assert_allclose(sigmoid, 1 / (1 + np.exp(-F)), rtol=1e-6)
    np.testing.assert_allclose(tanh, np.tanh(F), rtol=1e-6)
    expected = np.exp(F) / np.exp(F).sum(-1, keepdims=True)
    np.testing.assert_allclose(softmax, expected, rtol=1e-6)
    np.testing.assert_array_equal(run(tf.nn.relu(tf.constant([-3, 0, 4]))), [0, 0, 4])


def test_softmax_is_stable_and_takes_an_axis(executor):
    big = np.array([[1000.0, 1001.0], [-1000.0, -1000.0]], dtype=np.float32)
    result = run(tf.nn.softmax(tf.constant(big)))
    assert np.isfinite(result).all()
    np.testing.assert_allclose(result, [[0.26894142, 0.7310586], [0.5, 0.5]], rtol=1e-6)
    along_rows = run(tf.nn.softmax(tf.constant(F), axis=0))
    np.testing.assert_allclose(along_rows, np.exp(F) / np.exp(F).sum(0), rtol=1e-6)
    with pytest.raises(TypeError):
        tf.nn.softmax(tf.constant([1, 2]))


def test_bias_add(executor):
    x = tf.constant(F)
    out = run(tf.nn.bias_add(x, [1.0, 2.0, 3.0]))
    np.testing.assert_allclose(out, F + [1, 2, 3])
    nchw = np.arange(24, dtype=np.float32).reshape(2, 3, 2, 2)
    bias = np.array([10.0, 20.0, 30.0], np.float32)
    out = run(tf.nn.bias_add(nchw, bias, data_format="NCHW"))
    np.testing.assert_allclose(out, nchw + bias.reshape(3, 1, 1))
    with pytest.raises(ValueError):
        tf.nn.bias_add(x, [1.0, 2.0])
    with pytest.raises(TypeError):
        tf.nn.bias_add(x, tf.constant([1, 2, 3]))
    node = tf.nn.bias_add(x, [1.0, 2.0, 3.0]).op.node_def
    assert node.op == "BiasAdd" and node.attr["data_format"].s == b"NHWC"
    value = tf.placeholder(tf.float32, [None, None])
    added = tf.nn.bias_add(value, [1.0, 2.0, 3.0])
    with tf.Session() as session:
        with pytest.raises(errors.InvalidArgumentError) as info:
            session.run(added, {value: np.zeros((2, 2), np.float32)})
    assert info.value.op is added.op


def test_nn_op_types():
    x = tf.placeholder(tf.float32, [2, 3])
    assert [t.op.type for t in (tf.nn.relu(x), tf.nn.softmax(x), tf.nn.sigmoid(x),
                                tf.nn.tanh(x))] == ["Relu", "Softmax", "Sigmoid", "Tanh"]
    assert tf.nn.softmax(x).shape == tf.TensorShape([2, 3])


# ---- random -----------------------------------------------------------------------------------

def test_random_values_have_the_right_distribution(executor):
    uniform = tf.random_uniform([20000], seed=1)
    ranged = tf.random_uniform([20000], minval=-2.0, maxval=3.0, seed=2)
    normal = tf.random_normal([20000], mean=5.0, stddev=2.0, seed=3)
    truncated = tf.truncated_normal([20000], stddev=1.5, seed=4)
    ints = tf.random_uniform([20000], minval=-3, maxval=4, dtype=tf.int64, seed=5)
    u, r, n, t, i = run([uniform, ranged, normal, truncated, ints])
    assert u.dtype == np.float32 and 0 <= u.min() and u.max() < 1
    assert abs(u.mean() - 0.5) < 0.02
    assert -2 <= r.min() and r.max() < 3
    assert abs(n.mean() - 5) < 0.1 and abs(n.std() - 2) < 0.1
    assert np.abs(t).max() <= 3.0 + 1e-6  # two standard deviations of 1.5
    assert i.dtype == np.int64 and set(np.unique(i)) == set(range(-3, 4))


def test_each_run_draws_new_values(executor):
    draw = tf.random_normal([4])
    with tf.Session() as session:
        first, second = session.run(draw), session.run(draw)
    assert not np.array_equal(first, second)


def test_op_seed_repeats_the_sequence_in_a_new_session(executor):
    draw = tf.random_uniform([5], seed=42)
    with tf.Session() as session:
        first = [session.run(draw) for _ in range(2)]
    with tf.Session() as session:
        again = [session.run(draw) for _ in range(2)]
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    assert not np.array_equal(first[0], first[1])


def test_graph_seed_makes_graphs_reproducible(executor):
    def build_and_run():
        graph = tf.Graph()
        with graph.as_default():
            tf.set_random_seed(1234)
            a = tf.random_normal([3])
            b = tf.random_normal([3])
            with tf.Session(graph=graph) as session:
                return session.run([a, b])

    first, second = build_and_run(), build_and_run()
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    assert not np.array_equal(first[0], first[1])  # ops get different op seeds


def test_seed_attrs_follow_tf_rules():
    unseeded = tf.random_uniform([1])
    assert unseeded.op.get_attr("seed") == 0 and unseeded.op.get_attr("seed2") == 0
    seeded = tf.random_normal([1], seed=7)
    draw = seeded.op.inputs[0].op.inputs[0].op
    assert draw.type == "RandomStandardNormal"
    assert (draw.get_attr("seed"), draw.get_attr("seed2")) == (87654321, 7)
    tf.set_random_seed(3)
    assert tf.get_default_graph().seed == 3
    graph_seeded = tf.truncated_normal([1], seed=9).op.inputs[0].op.inputs[0].op
    assert (graph_seeded.get_attr("seed"), graph_seeded.get_attr("seed2")) == (3, 9)
    assert graph_seeded.type == "TruncatedNormal"


def test_random_shapes_dtypes_and_errors(executor):
    size = tf.placeholder(tf.int32, [])
    dynamic = tf.random_uniform(tf.stack([size, 2]), dtype=tf.float64)
    assert dynamic.shape == tf.TensorShape([None, 2])
    assert run(dynamic, {size: 3}).shape == (3, 2)
    assert tf.random_normal([2, 3], dtype=tf.float16).dtype == tf.float16
    with pytest.raises(TypeError):
        tf.random_normal([2], dtype=tf.int32)
    with pytest.raises(ValueError):
        tf.random_uniform([2], dtype=tf.int32)
    shape_t = tf.placeholder(tf.int32, [None])
    draw = tf.random_uniform(shape_t)
    with tf.Session() as session:
        with pytest.raises(errors.InvalidArgumentError) as info:
            session.run(draw, {shape_t: [-1]})
    assert info.value.op is draw.op


def test_random_ops_are_stateful():
    from sessionlib.framework import registry

    for op_type in ("RandomUniform", "RandomStandardNormal", "TruncatedNormal",
                    "RandomUniformInt"):
        assert registry.get(op_type).stateful
