"""Numeric gradient checks of the basic nn ops: Relu (and ReluGrad), Softmax, BiasAdd (and
BiasAddGrad)."""

import numpy as np
import pytest

import sessionlib as tf
from _gradient_check import GradCase, case_ids, check_case

_rng = np.random.RandomState(11)


def _away_from_zero(*shape):
    return _rng.uniform(0.3, 2.0, size=shape) * _rng.choice([-1.0, 1.0], size=shape)


def _relu_grad(grad, features):
    return tf.get_default_graph().create_op("ReluGrad", [grad, features]).outputs[0]


def _bias_add_grad(backprop, data_format="NHWC"):
    return tf.get_default_graph().create_op("BiasAddGrad", [backprop],
                                            {"data_format": data_format}).outputs[0]


GRADIENT_CASES = [
    GradCase("Relu", tf.nn.relu, [_away_from_zero(3, 4)]),
    GradCase("ReluGrad", _relu_grad, [_rng.uniform(-1, 1, (3, 4)), _away_from_zero(3, 4)]),
    GradCase("Softmax", tf.nn.softmax, [_rng.uniform(-2, 2, (3, 4))]),
    GradCase("Softmax", lambda x: tf.nn.softmax(x, axis=0), [_rng.uniform(-2, 2, (3, 4))],
             id="Softmax-axis0"),
    GradCase("BiasAdd", tf.nn.bias_add, [_rng.uniform(-1, 1, (2, 3, 4)),
                                         _rng.uniform(-1, 1, (4,))]),
    GradCase("BiasAdd", lambda x, b: tf.nn.bias_add(x, b, data_format="NCHW"),
             [_rng.uniform(-1, 1, (2, 3, 2, 2)), _rng.uniform(-1, 1, (3,))], id="BiasAdd-NCHW"),
    GradCase("BiasAddGrad", _bias_add_grad, [_rng.uniform(-1, 1, (2, 3, 4))]),
    GradCase("BiasAddGrad", lambda x: _bias_add_grad(x, "NCHW"),
             [_rng.uniform(-1, 1, (2, 3, 4))], id="BiasAddGrad-NCHW"),
]


@pytest.mark.parametrize("case", GRADIENT_CASES, ids=case_ids(GRADIENT_CASES))
def test_numeric_gradient(case):
    check_case(case)


def test_relu_gradient_masks_by_the_sign():
    with tf.Graph().as_default():
        x = tf.constant([[-1.0, 2.0, 0.0, 3.0]])
        (grad,) = tf.gradients(tf.nn.relu(x), x, grad_ys=tf.constant([[5.0, 6.0, 7.0, 8.0]]))
        assert grad.op.type == "ReluGrad"
        with tf.Session() as sess:
            np.testing.assert_array_equal(sess.run(grad), [[0.0, 6.0, 0.0, 8.0]])


def test_bias_add_bias_gradient_is_a_sum_over_the_batch():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 3])
        b = tf.constant([1.0, 2.0, 3.0])
        (grad,) = tf.gradients(tf.nn.bias_add(x, b), b)
        assert grad.op.type == "BiasAddGrad" and grad.shape.as_list() == [3]
        with tf.Session() as sess:
            value = sess.run(grad, {x: np.zeros((5, 3), np.float32)})
        assert value.dtype == np.float32
        np.testing.assert_array_equal(value, [5.0, 5.0, 5.0])
