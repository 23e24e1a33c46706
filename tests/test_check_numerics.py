"""tf.check_numerics / tf.debugging.check_numerics and tf.add_check_numerics_ops."""

import numpy as np
import pytest

import sessionlib as tf


@pytest.mark.parametrize("dtype", [tf.float16, tf.float32, tf.float64])
def test_finite_values_pass_through(executor, dtype):
    x = tf.placeholder(dtype, [None])
    y = tf.check_numerics(x, "fine")
    assert y.op.type == "CheckNumerics" and y.dtype == dtype
    with tf.Session() as sess:
        value = np.array([1.0, -2.5, 0.0], dtype.as_numpy_dtype)
        np.testing.assert_array_equal(sess.run(y, {x: value}), value)
        assert sess.run(y, {x: np.zeros(0, dtype.as_numpy_dtype)}).shape == (0,)


@pytest.mark.parametrize("values,what", [([1.0, np.nan], "NaN"), ([np.inf, 1.0], "Inf"),
                                         ([-np.inf, np.nan], "Inf and NaN")])
def test_nan_or_inf_is_invalid_argument_naming_the_op(executor, values, what):
    x = tf.placeholder(tf.float32, [2])
    y = tf.debugging.check_numerics(x * 2.0, "my message", name="chk")
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError) as info:
            sess.run(y, {x: values})
    assert info.value.op is y.op
    assert info.value.op.name == "chk"
    assert f"my message : Tensor had {what} values" in info.value.message


def test_constant_nan_is_checked_at_run_time_not_folded(executor):
    y = tf.check_numerics(tf.constant([np.nan]), "const")
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="const : Tensor had NaN"):
            sess.run(y)


def test_large_finite_float64_is_not_an_error(executor):
    x = tf.constant(np.full(4, 1e308))
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(tf.check_numerics(x, "big")), np.full(4, 1e308))


def test_integer_input_is_a_type_error():
    with pytest.raises(TypeError):
        tf.check_numerics(tf.constant([1, 2]), "ints")


def test_gradient_is_checked_too(executor):
    x = tf.placeholder(tf.float32, [2])
    y = tf.check_numerics(x, "forward")
    (grad,) = tf.gradients(tf.reduce_sum(y * tf.constant([1.0, np.inf])), x)
    assert grad.op.type == "CheckNumerics"
    assert grad.op.get_attr("message") == ("Not a number (NaN) or infinity (Inf) values "
                                           "detected in gradient. forward")
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="detected in gradient"):
            sess.run(grad, {x: [1.0, 2.0]})


def test_add_check_numerics_ops(executor):
    x = tf.placeholder(tf.float32, [2], name="x")
    y = tf.log(x, name="log")
    count = tf.constant(3, name="count")  # integers are not checked
    check = tf.add_check_numerics_ops()
    assert check.type == "NoOp" and check.name == "group_deps"
    checks = [op for op in tf.get_default_graph().get_operations()
              if op.type == "CheckNumerics"]
    assert sorted(op.get_attr("message") for op in checks) == ["log:0", "x:0"]
    with tf.Session() as sess:
        assert sess.run([y, check], {x: [1.0, 2.0]})[1] is None
        with pytest.raises(tf.errors.InvalidArgumentError, match="log:0 : Tensor had Inf"):
            sess.run([y, check], {x: [0.0, 2.0]})
    del count
