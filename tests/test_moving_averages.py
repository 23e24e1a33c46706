"""tf.train.ExponentialMovingAverage: TF's values (recorded from TF 2.21), names and errors."""

import numpy as np
import pytest

import sessionlib as tf


def test_averages_follow_tf_with_num_updates_and_zero_debias():
    with tf.Graph().as_default():
        v = tf.Variable([1.0, 2.0], name="v")
        t = tf.placeholder(tf.float32, [2], name="t")
        step = tf.Variable(0, name="step", dtype=tf.int64)
        ema = tf.train.ExponentialMovingAverage(0.9, num_updates=step)
        debiased = tf.train.ExponentialMovingAverage(0.8, zero_debias=True, name="deb")
        update = ema.apply([v])
        update_t = debiased.apply([t])
        increment = tf.assign_add(step, 1)
        seen = []
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for i in range(4):
                sess.run(tf.assign(v, [1.0 + i * 3, 2.0 - i]))
                sess.run([update, update_t], {t: [float(i), 2.0 * i]})
                sess.run(increment)
                seen.append(sess.run([ema.average(v), debiased.average(t)]))
        assert ema.average(v).name == "v/ExponentialMovingAverage:0"
        assert debiased.average(t).name == "t/deb:0"
        assert sorted(ema.variables_to_restore()) == [
            "step/ExponentialMovingAverage", "t/deb", "t/deb/biased", "t/deb/local_step",
            "v/ExponentialMovingAverage"]
        assert ema.variables_to_restore()["v/ExponentialMovingAverage"] is v
    # TF 2.21 (tf.compat.v1) printed these for the same program.
    expected = [([1.0, 2.0], [0.0, 0.0]),
                ([3.4545455, 1.1818182], [0.5555556, 1.1111112]),
                ([6.1136365, 0.29545456], [1.1475409, 2.2950819]),
                ([8.804195, -0.6013986], [1.7750676, 3.5501351])]
    for (got_v, got_t), (want_v, want_t) in zip(seen, expected):
        np.testing.assert_allclose(got_v, want_v, rtol=1e-6)
        np.testing.assert_allclose(got_t, want_t, rtol=1e-6)


def test_plain_decay_and_default_var_list():
    with tf.Graph().as_default():
        w = tf.Variable(0.0, name="w")
        ema = tf.train.ExponentialMovingAverage(0.5)
        update = ema.apply()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            values = []
            for target in (4.0, 4.0, 0.0):
                sess.run(tf.assign(w, target))
                sess.run(update)
                values.append(sess.run(ema.average(w)))
        assert values == [2.0, 3.0, 1.5]
        assert ema.average(w) not in tf.trainable_variables()
        assert w in tf.get_default_graph().get_collection(
            tf.GraphKeys.MOVING_AVERAGE_VARIABLES)


def test_bad_input():
    with tf.Graph().as_default():
        i = tf.Variable(1, name="i")
        w = tf.Variable(1.0, name="w")
        ema = tf.train.ExponentialMovingAverage(0.9)
        with pytest.raises(TypeError, match="half, float, or double"):
            ema.apply([i])
        ema.apply([w])
        shadow = ema.average(w)
        # TF 2.21 accepts a second apply: it reuses the shadow and builds another update.
        again = ema.apply([w])
        assert ema.average(w) is shadow and again.name == "ExponentialMovingAverage_1"
        assert ema.average(i) is None
