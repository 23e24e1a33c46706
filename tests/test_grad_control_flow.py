"""Numeric gradient checks of the functional control flow ops (issue 16): ``If`` and
``While`` and their stateless twins, through tf.cond and tf.while_loop. A branch or body that
holds an ``Assert`` (stateful) makes the stateful op type. The end-to-end cases (fed
predicates, nested loops, TensorArrays, an RNN's weights, training) are in
``test_control_flow_grad.py``."""

import numpy as np
import pytest

import sessionlib as tf

from _gradient_check import GradCase, case_ids, check_case

RNG = np.random.RandomState(1616)


def _checked(x):
    """`x`, after an ``Assert`` that it is finite: makes a branch or body stateful."""
    # (x passes an identity first: tf.Assert's name scope wants its values in one graph.)
    x = tf.identity(x)
    check = tf.Assert(tf.reduce_all(tf.abs(x) < 1e30), [x])
    with tf.control_dependencies([check]):
        return tf.identity(x)


def _cond(x, y, stateful=False):
    pred = tf.reduce_sum(x) > 0.0
    return tf.cond(pred, lambda: tf.sin(_checked(x) if stateful else x) * y,
                   lambda: x * x * y)


def _power_loop(x, stateful=False):
    """x * x**3 by a loop (d/dx = 4 x**3)."""
    def body(i, a):
        return i + 1, (_checked(a) if stateful else a) * x

    return tf.while_loop(lambda i, a: i < 3, body, [tf.constant(0), x])[1]


def _weighted_loop(h, w):
    """Three steps of h <- tanh(h w): the gradient reaches the captured w."""
    return tf.while_loop(lambda i, h: i < 3, lambda i, h: (i + 1, tf.tanh(tf.matmul(h, w))),
                         [tf.constant(0), h])[1]


GRADIENT_CASES = [
    GradCase("StatelessIf", _cond, [RNG.uniform(0.5, 1.0, [3]), RNG.uniform(-1, 1, [3])],
             id="StatelessIf-then"),
    GradCase("StatelessIf", _cond, [RNG.uniform(-1.0, -0.5, [3]), RNG.uniform(-1, 1, [3])],
             id="StatelessIf-else"),
    GradCase("If", lambda x, y: _cond(x, y, stateful=True),
             [RNG.uniform(0.5, 1.0, [2, 2]), RNG.uniform(-1, 1, [2, 2])]),
    GradCase("StatelessWhile", _power_loop, [RNG.uniform(-1.5, 1.5, [4])]),
    GradCase("While", lambda x: _power_loop(x, stateful=True), [RNG.uniform(-1.5, 1.5, [4])]),
    GradCase("StatelessWhile", _weighted_loop,
             [RNG.uniform(-1, 1, [2, 3]), RNG.uniform(-1, 1, [3, 3])], id="While-captured"),
]


@pytest.mark.parametrize("case", GRADIENT_CASES, ids=case_ids(GRADIENT_CASES))
def test_gradient(case):
    check_case(case)
