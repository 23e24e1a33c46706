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


@pytest.mark.parametrize("build, second", [
    (tf.tanh, lambda x: -2 * np.tanh(x) * (1 - np.tanh(x) ** 2)),
    (tf.sigmoid, lambda x: (lambda s: s * (1 - s) * (1 - 2 * s))(1 / (1 + np.exp(-x)))),
    (tf.exp, np.exp),
    (tf.sin, lambda x: -np.sin(x)),
    (tf.sqrt, lambda x: -0.25 * x ** -1.5),
    (tf.rsqrt, lambda x: 0.75 * x ** -2.5),
    (tf.reciprocal, lambda x: 2 / x ** 3),
    (tf.log, lambda x: -1 / x ** 2),
    (lambda x: x * x * x, lambda x: 6 * x),
    (lambda x: x / (x + 1.0), lambda x: -2 / (x + 1) ** 3),
    (lambda x: tf.pow(x, 3.0), lambda x: 6 * x),
    (lambda x: tf.reduce_sum(tf.square(tf.reshape(x, [3, 1]) * tf.ones([3, 2], tf.float64)),
                             1), lambda x: 4 * np.ones_like(x)),
], ids=["tanh", "sigmoid", "exp", "sin", "sqrt", "rsqrt", "reciprocal", "log", "cube", "div",
        "pow", "broadcast-sum"])
def test_second_derivatives_of_elementwise_ops(build, second):
    values = np.array([0.5, 1.25, 2.0])
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float64, [3])
        (first,) = tf.gradients(build(x), x)
        (second_grad,) = tf.gradients(first, x)
        np.testing.assert_allclose(_run(second_grad, {x: values}), second(values), rtol=1e-10)


def test_second_order_through_matmul_relu_and_softmax():
    # The Hessian-vector product of a small MLP loss, against central differences of the
    # symbolic first gradient.
    rng = np.random.RandomState(3)
    w_value = rng.uniform(-1, 1, (3, 2))
    with tf.Graph().as_default():
        w = tf.placeholder(tf.float64, [3, 2])
        v = tf.constant(rng.uniform(-1, 1, (3, 2)))
        data = tf.constant(rng.uniform(-1, 1, (4, 3)))
        b = tf.constant([0.1, -0.2], tf.float64)
        hidden = tf.nn.relu(tf.nn.bias_add(tf.matmul(data, w), b))
        loss = tf.reduce_mean(tf.square(tf.nn.softmax(tf.tanh(hidden))))
        (grad,) = tf.gradients(loss, w)
        (hvp,) = tf.gradients(tf.reduce_sum(grad * v), w)
        with tf.Session() as sess:
            got = sess.run(hvp, {w: w_value})
            eps = 1e-6
            up = sess.run(grad, {w: w_value + eps * sess.run(v)})
            down = sess.run(grad, {w: w_value - eps * sess.run(v)})
        np.testing.assert_allclose(got, (up - down) / (2 * eps), rtol=1e-5, atol=1e-8)


def test_float32_gradients_stay_float32():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 3])
        w = tf.Variable(np.ones((3, 2), np.float32))
        b = tf.Variable(np.zeros(2, np.float32))
        logits = tf.nn.bias_add(tf.matmul(x, w), b)
        loss = tf.reduce_mean(tf.reduce_sum(tf.square(tf.nn.softmax(tf.nn.relu(logits))
                                                      - 0.5), 1))
        grads = tf.gradients(loss, [x, w, b])
        assert all(g.dtype == tf.float32 for g in grads)
        assert grads[1].shape.as_list() == [3, 2] and grads[2].shape.as_list() == [2]
        values = _run(grads, {x: np.ones((4, 3), np.float32)})
        assert all(v.dtype == np.float32 for v in values)
        assert [v.shape for v in values] == [(4, 3), (3, 2), (2,)]
        assert np.all(np.isfinite(values[1]))


def test_known_shapes_need_no_shape_ops():
    # A training graph with a known batch: the broadcast and reduction gradients are
    # decided while the graph is built.
    with tf.Graph().as_default() as graph:
        x = tf.placeholder(tf.float32, [None, 3])
        w = tf.Variable(np.ones((3, 2), np.float32))
        b = tf.Variable(np.zeros(2, np.float32))
        loss = tf.reduce_mean(tf.square(tf.matmul(x, w) + b))
        before = set(graph.get_operations())
        tf.gradients(loss, [w, b])
        new_types = {op.type for op in graph.get_operations() if op not in before}
        assert "BroadcastGradientArgs" not in new_types, new_types


def test_y_that_is_an_x_gets_its_seed():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float64, [2])
        y = tf.square(x)
        grad_x, grad_y = tf.gradients([y, x], [x, y])
        got = _run([grad_x, grad_y], {x: [1.0, 2.0]})
        np.testing.assert_allclose(got[0], [3.0, 5.0])
        np.testing.assert_allclose(got[1], [1.0, 1.0])
        (same,) = tf.gradients(x, x)
        np.testing.assert_allclose(_run(same, {x: [1.0, 2.0]}), [1.0, 1.0])


def test_tensors_from_another_graph_are_a_value_error():
    other = tf.Graph()
    with other.as_default():
        foreign = tf.constant(1.0)
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [2])
        with pytest.raises(ValueError, match="same graph"):
            tf.gradients(tf.square(x), foreign)
        with pytest.raises(ValueError, match="same graph"):
            tf.gradients(tf.square(x), x, stop_gradients=[foreign])


def test_indexed_slices_from_two_gathers_are_concatenated():
    with tf.Graph().as_default():
        params = tf.Variable(np.arange(6.0).reshape(3, 2))
        loss = tf.reduce_sum(tf.gather(params, [0, 2])) + tf.reduce_sum(
            tf.gather(params, [2]) * 3.0)
        (grad,) = tf.gradients(loss, params)
        assert isinstance(grad, tf.IndexedSlices)
        value = _run(grad)
        assert isinstance(value, tf.IndexedSlicesValue)
        assert sorted(value.indices.tolist()) == [0, 2, 2]
        np.testing.assert_array_equal(value.dense_shape, [3, 2])
        np.testing.assert_allclose(_run(tf.convert_to_tensor(grad)),
                                   [[1, 1], [0, 0], [4, 4]])


def test_indexed_slices_with_a_dense_part_are_densified():
    with tf.Graph().as_default():
        params = tf.placeholder(tf.float64, [3, 2])
        loss = tf.reduce_sum(tf.gather(params, [1, 1])) + tf.reduce_sum(params * 2.0)
        (grad,) = tf.gradients(loss, params)
        assert isinstance(grad, tf.Tensor)
        np.testing.assert_allclose(_run(grad, {params: np.ones((3, 2))}),
                                   [[2, 2], [4, 4], [2, 2]])


def test_indexed_slices_flow_through_identity_and_into_dense_ops():
    with tf.Graph().as_default():
        params = tf.placeholder(tf.float64, [3, 2])
        scaled = tf.identity(params * 2.0)
        (grad,) = tf.gradients(tf.reduce_sum(tf.gather(scaled, [0])), params)
        np.testing.assert_allclose(_run(grad, {params: np.ones((3, 2))}),
                                   [[2, 2], [0, 0], [0, 0]])


def test_hessians():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float64, [2, 2])
        a = tf.constant([[1.0, 2.0], [3.0, 4.0]], tf.float64)
        y = tf.reduce_sum(tf.square(x) * a) + x[0, 0] * x[1, 1]
        (hessian,) = tf.hessians(y, x)
        assert hessian.shape.as_list() == [2, 2, 2, 2]
        got = _run(hessian, {x: np.ones((2, 2))}).reshape(4, 4)
        expected = np.diag([2.0, 4.0, 6.0, 8.0])
        expected[0, 3] = expected[3, 0] = 1.0
        np.testing.assert_allclose(got, expected)
        other = tf.placeholder(tf.float64, [2])
        assert tf.hessians(y, [x, other])[1] is None
        with pytest.raises(ValueError, match="fully defined"):
            tf.hessians(y, tf.placeholder(tf.float64, [None]))


def test_a_model_split_over_two_devices_computes_its_gradients_split():
    rng = np.random.RandomState(0)
    with tf.Graph().as_default() as graph:
        x = tf.placeholder(tf.float64, [4, 3])
        with tf.device("/cpu:0"):
            w1 = tf.Variable(rng.uniform(-1, 1, (3, 5)))
            hidden = tf.nn.relu(tf.matmul(x, w1, name="layer1"))
        with tf.device("/cpu:1"):
            w2 = tf.Variable(rng.uniform(-1, 1, (5, 2)))
            out = tf.matmul(hidden, w2, name="layer2")
            loss = tf.reduce_mean(tf.square(out))
        grads = tf.gradients(loss, [w1, w2], colocate_gradients_with_ops=True)
        layer1 = [op for op in graph.get_operations()
                  if op.name.startswith("gradients/layer1_grad/")]
        layer2 = [op for op in graph.get_operations()
                  if op.name.startswith("gradients/layer2_grad/")]
        assert layer1 and all(op.device.endswith("CPU:0") for op in layer1)
        assert layer2 and all(op.device.endswith("CPU:1") for op in layer2)
        feed = {x: rng.uniform(-1, 1, (4, 3))}
        options = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)
        metadata = tf.RunMetadata()
        with tf.Session(config=tf.ConfigProto(device_count={"CPU": 2})) as sess:
            sess.run(tf.global_variables_initializer())
            split = sess.run(grads, feed, options=options, run_metadata=metadata)
        devices = {stats.device for stats in metadata.step_stats.dev_stats}
        assert any(d.endswith("CPU:0") for d in devices)
        assert any(d.endswith("CPU:1") for d in devices)
        with tf.Session(config=tf.ConfigProto(allow_soft_placement=True)) as sess:
            sess.run(tf.global_variables_initializer())
            local = sess.run(grads, feed)
    for a, b in zip(split, local):
        np.testing.assert_allclose(a, b, rtol=1e-12)
