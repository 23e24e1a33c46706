"""The other TF 1 learning-rate schedules: natural_exp_decay, linear_cosine_decay,
noisy_linear_cosine_decay and cosine_decay_restarts, against closed forms (checked by hand
against TF's compat.v1 values) and their names and errors."""

import math

import numpy as np
import pytest

import sessionlib as tf

STEPS = (0, 3, 9, 10, 15, 29, 30, 31, 60, 100)


def _values(rate, step, steps=STEPS):
    with tf.Session() as sess:
        return np.array([sess.run(rate, {step: s}) for s in steps])


def test_natural_exp_decay(executor):
    step = tf.placeholder(tf.int64, [])
    smooth = tf.train.natural_exp_decay(0.1, step, 10, 0.5)
    stairs = tf.train.natural_exp_decay(0.1, step, 10, 0.5, staircase=True)
    steps = np.array(STEPS, np.float64)
    np.testing.assert_allclose(_values(smooth, step), 0.1 * np.exp(-0.5 * steps / 10),
                               rtol=1e-5)
    np.testing.assert_allclose(_values(stairs, step),
                               0.1 * np.exp(-0.5 * np.floor(steps / 10)), rtol=1e-5)
    # TF's values at a few steps (tf.compat.v1.train.natural_exp_decay).
    np.testing.assert_allclose(_values(smooth, step, (3, 29)), [0.0860708, 0.023457],
                               rtol=1e-5)


def _linear_cosine(step, decay_steps, num_periods=0.5, alpha=0.0, beta=0.001):
    step = np.minimum(step, decay_steps)
    linear = (decay_steps - step) / decay_steps
    cosine = 0.5 * (1 + np.cos(2 * math.pi * num_periods * step / decay_steps))
    return (alpha + linear) * cosine + beta


def test_linear_cosine_decay(executor):
    step = tf.placeholder(tf.int64, [])
    plain = tf.train.linear_cosine_decay(0.1, step, 50)
    shaped = tf.train.linear_cosine_decay(0.1, step, 50, num_periods=2.0, alpha=0.1,
                                          beta=0.01)
    steps = np.array(STEPS, np.float64)
    np.testing.assert_allclose(_values(plain, step), 0.1 * _linear_cosine(steps, 50),
                               rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(_values(shaped, step),
                               0.1 * _linear_cosine(steps, 50, 2.0, 0.1, 0.01), rtol=1e-5)
    # After decay_steps the rate stays at learning_rate * beta.
    assert _values(plain, step, (100,))[0] == pytest.approx(0.1 * 0.001)


def test_noisy_linear_cosine_decay_is_the_linear_cosine_plus_decaying_noise(executor):
    # A graph seed makes the draws the same every run: unseeded, the 4-sigma bound on the
    # mean and the 15% bound on the std (4.2 sigma of a 400-draw std) would each fail once in
    # some 10^4 to 10^5 runs, and the test checks four of them.
    tf.set_random_seed(3)
    step = tf.placeholder(tf.int64, [])
    noisy = tf.train.noisy_linear_cosine_decay(1.0, step, 1000, initial_variance=0.5,
                                               variance_decay=0.55, num_periods=0.5)
    assert noisy.dtype == tf.float32 and noisy.shape.rank == 0
    with tf.Session() as sess:
        early = np.array([sess.run(noisy, {step: 100}) for _ in range(400)])
        late = np.array([sess.run(noisy, {step: 900}) for _ in range(400)])
    for at, draws in ((100, early), (900, late)):
        # rate = (linear + noise) * cosine + beta: the noise over the cosine is normal with
        # variance initial_variance / (1 + step) ** variance_decay.
        cosine = 0.5 * (1 + math.cos(math.pi * at / 1000))
        noise = (draws - _linear_cosine(at, 1000)) / cosine
        std = math.sqrt(0.5 / (1 + at) ** 0.55)
        assert abs(noise.mean()) < 4 * std / math.sqrt(len(draws))
        assert noise.std() == pytest.approx(std, rel=0.15)
    # Each run draws anew.
    assert len(np.unique(early)) > 390


def _sgdr(step, first, t_mul=2.0, m_mul=1.0, alpha=0.0):
    """Walks the periods one by one (the closed form inverts this)."""
    start, length, restart = 0.0, float(first), 0
    while step >= start + length:
        start, length, restart = start + length, length * t_mul, restart + 1
    done = (step - start) / length
    cosine = 0.5 * m_mul ** restart * (1 + math.cos(math.pi * done))
    return (1 - alpha) * cosine + alpha


@pytest.mark.parametrize("t_mul, m_mul, alpha, first", [
    (2.0, 1.0, 0.0, 10), (1.0, 0.5, 0.1, 10), (3.0, 0.8, 0.05, 7)])
def test_cosine_decay_restarts(executor, t_mul, m_mul, alpha, first):
    step = tf.placeholder(tf.int64, [])
    rate = tf.train.cosine_decay_restarts(0.1, step, first, t_mul=t_mul, m_mul=m_mul,
                                          alpha=alpha)
    steps = (0, 3, 9, 10, 15, 29, 31, 60, 100)
    expected = [0.1 * _sgdr(s, first, t_mul, m_mul, alpha) for s in steps]
    np.testing.assert_allclose(_values(rate, step, steps), expected, rtol=1e-4, atol=1e-7)


def test_cosine_decay_restarts_with_tensor_t_mul(executor):
    step = tf.placeholder(tf.int64, [])
    t_mul = tf.placeholder(tf.float32, [])
    rate = tf.train.cosine_decay_restarts(0.1, step, 10, t_mul=t_mul)
    with tf.Session() as sess:
        for factor in (1.0, 2.0):
            got = [sess.run(rate, {step: s, t_mul: factor}) for s in (5, 25)]
            np.testing.assert_allclose(got, [0.1 * _sgdr(s, 10, factor) for s in (5, 25)],
                                       rtol=1e-5)


def test_schedules_drive_an_optimizer(executor):
    step = tf.train.get_or_create_global_step()
    rate = tf.train.cosine_decay_restarts(1.0, step, 2, t_mul=1.0)
    w = tf.Variable([0.0], name="w")
    train_op = tf.train.GradientDescentOptimizer(rate).minimize(tf.reduce_sum(w),
                                                                global_step=step)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(4):
            sess.run(train_op)
        # Rates 1, 0.5, 1, 0.5 (restart every 2 steps; half-way the cosine is 0.5).
        np.testing.assert_allclose(sess.run(w), [-3.0], rtol=1e-6)


def test_names_dtypes_and_errors():
    step = tf.placeholder(tf.int64, [])
    # TF builds natural_exp_decay as an ExponentialDecay, and names it so.
    assert tf.train.natural_exp_decay(0.1, step, 10, 0.5).op.name == "ExponentialDecay"
    assert tf.train.linear_cosine_decay(0.1, step, 10).op.name == "LinearCosineDecay"
    assert (tf.train.noisy_linear_cosine_decay(0.1, step, 10).op.name
            == "NoisyLinearCosineDecay")
    assert tf.train.cosine_decay_restarts(0.1, step, 10).op.name == "SGDRDecay"
    assert tf.train.cosine_decay_restarts(0.1, step, 10, name="sgdr").op.name == "sgdr"
    rate = tf.train.linear_cosine_decay(tf.constant(0.1, tf.float64), step, 10)
    assert rate.dtype == tf.float64
    for function, args in ((tf.train.natural_exp_decay, (10, 0.5)),
                           (tf.train.linear_cosine_decay, (10,)),
                           (tf.train.noisy_linear_cosine_decay, (10,)),
                           (tf.train.cosine_decay_restarts, (10,))):
        with pytest.raises(ValueError, match="global_step is required"):
            function(0.1, None, *args)
