"""`tf.gradients`: the walk, seeds, aggregation, stops, variables, scopes and second order."""

import numpy as np
import pytest

import sessionlib as tf
from _gradient_check import GradCase, case_ids, check_case

GRADIENT_CASES = [
    GradCase("Identity", lambda x: tf.identity(x), [np.array([1.0, -2.0, 3.0])]),
    GradCase("AddN", lambda x, y: tf.add_n([x, y, x]),
             [np.array([[1.0, 2.0]]), np.array([[3.0, -1.0]])]),
    GradCase("Neg", lambda x: tf.negative(x), [np.array([0.5, -1.5])]),
    GradCase("Square", lambda x: tf.square(x), [np.array([[0.5, -1.5], [2.0, 3.0]])]),
]


@pytest.mark.parametrize("case", GRADIENT_CASES, ids=case_ids(GRADIENT_CASES))
def test_numeric_gradient(case):
    check_case(case)


def _run(fetches, feeds=None):
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run(fetches, feeds)


def test_several_ys_are_summed_and_paths_are_added():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float64, [2])
        y1 = tf.square(x)
        y2 = tf.identity(x)
        (grad,) = tf.gradients([y1, y2, tf.add_n([y2, y2])], [x])
        np.testing.assert_allclose(_run(grad, {x: [1.0, 3.0]}), [2 + 1 + 2, 6 + 1 + 2])
        assert any(op.type == "AddN" and op.name.startswith("gradients/")
                   for op in tf.get_default_graph().get_operations())


def test_grad_ys_seed_the_walk():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float64, [3])
        y = tf.square(x)
        (grad,) = tf.gradients(y, x, grad_ys=[np.array([1.0, 10.0, 100.0])])
        np.testing.assert_allclose(_run(grad, {x: [1.0, 2.0, 3.0]}), [2.0, 40.0, 600.0])
        with pytest.raises(ValueError, match="grad_ys"):
            tf.gradients(y, x, grad_ys=[y, y])
        with pytest.raises((TypeError, ValueError)):
            tf.gradients(y, x, grad_ys=[tf.constant([1, 2, 3])])


def test_unreached_xs_give_none_or_zeros():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float64, [2])
        other = tf.placeholder(tf.float64, [2])
        y = tf.square(x)
        assert tf.gradients(y, [x, other])[1] is None
        zero = tf.gradients(y, other, unconnected_gradients="zero")[0]
        np.testing.assert_array_equal(_run(zero, {other: [5.0, 6.0]}), [0.0, 0.0])


def test_stop_gradient_and_stop_gradients_cut_the_graph():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float64, [2])
        a = tf.square(x)
        y = tf.add_n([tf.stop_gradient(a), x])
        (grad,) = tf.gradients(y, x)
        np.testing.assert_allclose(_run(grad, {x: [3.0, 4.0]}), [1.0, 1.0])
        np.testing.assert_allclose(_run(tf.stop_gradient(a), {x: [3.0, 4.0]}), [9.0, 16.0])
        z = tf.add_n([a, x])
        (cut,) = tf.gradients(z, x, stop_gradients=[a])
        np.testing.assert_allclose(_run(cut, {x: [3.0, 4.0]}), [1.0, 1.0])
        # Without the stop, the square's path counts.
        (full,) = tf.gradients(z, x)
        np.testing.assert_allclose(_run(full, {x: [3.0, 4.0]}), [7.0, 9.0])


def test_gradients_flow_through_variable_reads_and_add_over_reads():
    with tf.Graph().as_default():
        v = tf.Variable(np.array([1.0, 2.0]))
        y = tf.add_n([tf.square(v), tf.identity(v)])  # two reads of v
        (grad,) = tf.gradients(y, v)
        assert grad.dtype == tf.float64
        np.testing.assert_allclose(_run(grad), [3.0, 5.0])


def test_gradient_ops_live_under_the_name_scope():
    with tf.Graph().as_default() as graph:
        x = tf.placeholder(tf.float64, [2], name="x")
        y = tf.square(x, name="y")
        before = set(graph.get_operations())
        tf.gradients(y, x)
        new = [op.name for op in graph.get_operations() if op not in before]
        assert new and all(name.startswith("gradients/") for name in new), new
        assert any(name.startswith("gradients/y_grad/") for name in new), new
        tf.gradients(y, x, name="second")
        assert graph.get_operation_by_name("second/grad_ys_0").type == "OnesLike" or any(
            op.name.startswith("second/") for op in graph.get_operations())


def test_gradients_of_gradients():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float64, [3])
        y = tf.square(tf.square(x))        # x^4
        (first,) = tf.gradients(y, x)      # 4 x^3
        (second,) = tf.gradients(first, x)  # 12 x^2
        values = _run([first, second], {x: [1.0, 2.0, -1.0]})
        np.testing.assert_allclose(values[0], [4.0, 32.0, -4.0])
        np.testing.assert_allclose(values[1], [12.0, 48.0, 12.0])


def test_gradient_ops_go_on_the_forward_ops_device():
    with tf.Graph().as_default() as graph:
        x = tf.placeholder(tf.float64, [2])
        with tf.device("/cpu:1"):
            y = tf.square(x, name="y")
        (grad,) = tf.gradients(y, x)
        square_grads = [op for op in graph.get_operations()
                        if op.name.startswith("gradients/y_grad/")]
        assert square_grads and all(op.device.endswith("CPU:1") for op in square_grads)
        with tf.Session(config=tf.ConfigProto(device_count={"CPU": 2})) as sess:
            np.testing.assert_allclose(sess.run(grad, {x: [1.0, 2.0]}), [2.0, 4.0])


def test_integer_tensors_carry_no_gradient():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float64, [2])
        i = tf.placeholder(tf.int32, [2])
        assert tf.gradients(tf.identity(i), i) == [None]
        y = tf.add_n([tf.square(x), x])
        assert tf.gradients(y, [x, i])[1] is None


def test_an_op_without_a_gradient_is_a_lookup_error():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float64, [2])
        y = tf.identity(x)
        from sessionlib.framework import registry
        # An op type registered here with no gradient, built by create_op.
        op_type = "_GradientlessTestOp"
        if registry.find(op_type) is None:
            registry.register_op(op_type, infer=lambda inputs, attrs: [
                (inputs[0].dtype, inputs[0].shape)], kernel="Identity", num_inputs=1)
        z = tf.get_default_graph().create_op(op_type, [y]).outputs[0]
        with pytest.raises(LookupError, match="No gradient defined"):
            tf.gradients(z, x)
