"""Learning-rate schedules against TF's values (recorded by
tools/make_optimizer_reference.py) and their formulas."""

import importlib.util
import math
import pathlib

import numpy as np
import pytest

import sessionlib as tf

_ROOT = pathlib.Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location(
    "make_optimizer_reference", _ROOT / "tools" / "make_optimizer_reference.py")
REF = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(REF)
DATA = np.load(_ROOT / "tests" / "data" / "optimizer_trajectories.npz")


def _schedule(name, step):
    function, kwargs = REF.SCHEDULES[name]
    if function == "piecewise_constant":
        return tf.train.piecewise_constant(step, **kwargs)
    return getattr(tf.train, function)(global_step=step, **kwargs)


@pytest.mark.parametrize("name", list(REF.SCHEDULES))
def test_schedule_matches_tensorflow(executor, name):
    step = tf.placeholder(tf.int64, [])
    value = _schedule(name, step)
    assert value.dtype == tf.float32 and value.shape.rank == 0
    with tf.Session() as sess:
        got = [sess.run(value, {step: s}) for s in DATA["schedule_steps"]]
    np.testing.assert_allclose(got, DATA["schedule/" + name], rtol=1e-6)


def test_formulas_at_a_few_steps(executor):
    step = tf.placeholder(tf.int64, [])
    values = {
        "exp": tf.train.exponential_decay(0.2, step, 4, 0.5, staircase=True),
        "poly": tf.train.polynomial_decay(0.2, step, 10, 0.0, power=1.0),
        "inverse": tf.train.inverse_time_decay(0.2, step, 5, 1.0),
        "cosine": tf.train.cosine_decay(0.2, step, 10),
        "piecewise": tf.train.piecewise_constant(step, [3], [0.2, 0.02]),
    }
    with tf.Session() as sess:
        got = sess.run(values, {step: 6})
        assert sess.run(values["piecewise"], {step: 3}) == pytest.approx(0.2)
    assert got["exp"] == pytest.approx(0.1)
    assert got["poly"] == pytest.approx(0.2 * 0.4)
    assert got["inverse"] == pytest.approx(0.2 / 2.2)
    assert got["cosine"] == pytest.approx(0.2 * 0.5 * (1 + math.cos(math.pi * 0.6)))
    assert got["piecewise"] == pytest.approx(0.02)


def test_schedule_follows_the_global_step_while_training(executor):
    step = tf.train.get_or_create_global_step()
    rate = tf.train.exponential_decay(1.0, step, 1, 0.5, staircase=True)
    w = tf.Variable([0.0], name="w")
    # d(loss)/dw = 1: each step moves w by the current rate.
    train_op = tf.train.GradientDescentOptimizer(rate).minimize(tf.reduce_sum(w),
                                                                global_step=step)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(3):
            sess.run(train_op)
        np.testing.assert_allclose(sess.run(w), [-(1.0 + 0.5 + 0.25)])


def test_names_and_errors():
    step = tf.placeholder(tf.int64, [])
    assert tf.train.exponential_decay(0.1, step, 10, 0.5).op.name == "ExponentialDecay"
    assert tf.train.cosine_decay(0.1, step, 10, name="cos").op.name == "cos"
    for function in (tf.train.exponential_decay, tf.train.inverse_time_decay):
        with pytest.raises(ValueError, match="global_step is required"):
            function(0.1, None, 10, 0.5)
    with pytest.raises(ValueError, match="global_step is required"):
        tf.train.polynomial_decay(0.1, None, 10)
    with pytest.raises(ValueError, match="1 less than"):
        tf.train.piecewise_constant(step, [1, 2], [0.1, 0.2])
    with pytest.raises(ValueError, match="same dtype"):
        tf.train.piecewise_constant(step, [1], [0.1, tf.constant(1, tf.int32)])
    # A Python boundary that does not fit the step's dtype is the same mismatch (TF: ValueError).
    with pytest.raises(ValueError, match="same dtype as x"):
        tf.train.piecewise_constant(step, [1.5], [0.1, 0.2])
    with pytest.raises(ValueError, match="same dtype as x"):
        tf.train.piecewise_constant(tf.constant(5, tf.int32), [1, "a"], [0.1, 0.2, 0.3])
