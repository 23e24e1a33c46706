"""``tf.contrib.framework.arg_scope`` and ``tf.contrib.slim``: TF 1.15's arg_scope rules
(defaults, explicit arguments winning, nesting, saved scopes, errors), slim's namespace, and a
VGG-style slim network with TF 1.15's variable names that trains."""

import numpy as np
import pytest

import sessionlib as tf

slim = tf.contrib.slim
arg_scope = tf.contrib.framework.arg_scope
add_arg_scope = tf.contrib.framework.add_arg_scope


@pytest.fixture(autouse=True)
def fresh_graph():
    with tf.Graph().as_default() as graph:
        yield graph


@add_arg_scope
def _echo(value, first=1, second=2, third=3):
    """A decorated function that shows the arguments it received."""
    return value, first, second, third


@add_arg_scope
def _other(value, first=10):
    return value, first


def _plain(value, first=1):
    return value, first


def test_arg_scope_sets_defaults_and_explicit_arguments_win():
    assert _echo(0) == (0, 1, 2, 3)
    with arg_scope([_echo], first=5, second=6):
        assert _echo(0) == (0, 5, 6, 3)
        assert _echo(0, second=7) == (0, 5, 7, 3)
        # Only the listed functions take the defaults.
        assert _other(0) == (0, 10)
    assert _echo(0) == (0, 1, 2, 3)


def test_arg_scope_nesting_merges_and_restores():
    with arg_scope([_echo, _other], first=5):
        with arg_scope([_echo], second=6) as inner:
            assert _echo(0) == (0, 5, 6, 3)
            assert _other(0) == (0, 5)
            with arg_scope([_echo], first=8):
                assert _echo(0) == (0, 8, 6, 3)
            assert _echo(0) == (0, 5, 6, 3)
        assert _echo(0) == (0, 5, 2, 3)
        key = tf.contrib.framework.arg_scope_func_key(_echo)
        assert inner[key] == {"first": 5, "second": 6}
        assert tf.contrib.framework.current_arg_scope()[key] == {"first": 5}
    assert tf.contrib.framework.current_arg_scope() == {}


def test_saved_scope_is_reentered_as_it_was():
    with arg_scope([_echo], first=5) as saved:
        pass
    assert _echo(0) == (0, 1, 2, 3)
    with arg_scope([_echo], third=9):
        # A saved scope replaces the enclosing one rather than merging with it.
        with arg_scope(saved):
            assert _echo(0) == (0, 5, 2, 3)
        assert _echo(0) == (0, 1, 2, 9)
    with pytest.raises(ValueError, match="kwargs must be empty"):
        with arg_scope(saved, first=1):
            pass


def test_arg_scope_errors_and_queries():
    with pytest.raises(ValueError, match="_plain is not decorated with @add_arg_scope"):
        with arg_scope([_plain], first=2):
            pass
    with pytest.raises(ValueError, match="repeat is not decorated with @add_arg_scope"):
        with arg_scope([slim.repeat], scope="x"):
            pass
    with pytest.raises(TypeError, match="list/tuple or reused scope"):
        with arg_scope(_echo, first=2):
            pass
    # A failed entry leaves no scope behind.
    assert tf.contrib.framework.current_arg_scope() == {}
    assert tf.contrib.framework.has_arg_scope(_echo)
    assert not tf.contrib.framework.has_arg_scope(_plain)
    assert tf.contrib.framework.arg_scoped_arguments(_echo) == ("first", "second", "third")
    with pytest.raises(ValueError, match="not decorated"):
        tf.contrib.framework.arg_scoped_arguments(_plain)
    decorated = [slim.conv2d, slim.fully_connected, slim.max_pool2d, slim.avg_pool2d,
                 slim.batch_norm, slim.layer_norm, slim.dropout, slim.flatten,
                 slim.one_hot_encoding, slim.model_variable, slim.variable, slim.softmax,
                 slim.bias_add, slim.conv2d_transpose, slim.separable_conv2d]
    assert all(slim.has_arg_scope(f) for f in decorated)
    assert not any(slim.has_arg_scope(f) for f in
                   (slim.repeat, slim.stack, slim.l2_regularizer, slim.xavier_initializer,
                    slim.linear))
    assert "weights_regularizer" in slim.arg_scoped_arguments(slim.conv2d)
    assert slim.convolution2d is slim.conv2d
    assert tf.contrib.layers.conv2d is slim.conv2d
    assert slim.conv2d.__name__ == "conv2d" and "2-D convolution" in slim.conv2d.__doc__


def test_arg_scope_reaches_layers_and_explicit_arguments_win():
    x = tf.constant(np.ones((1, 3, 3, 2), np.float32))
    with slim.arg_scope([slim.conv2d], padding="VALID", activation_fn=None,
                        weights_initializer=tf.ones_initializer()):
        valid = slim.conv2d(x, 4, [3, 3], scope="valid")
        same = slim.conv2d(x, 4, [3, 3], padding="SAME", scope="same")
    default = slim.conv2d(x, 4, [3, 3], scope="default")
    assert valid.shape.as_list() == [1, 1, 1, 4]
    assert same.shape.as_list() == [1, 3, 3, 4]
    assert default.shape.as_list() == [1, 3, 3, 4]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got_valid, got_same = sess.run([valid, same])
    # A 3x3x2 window of ones under a kernel of ones: 18 at the centre, 8 in a corner.
    np.testing.assert_array_equal(got_valid, np.full((1, 1, 1, 4), 18.0))
    assert got_same[0, 1, 1, 0] == 18.0 and got_same[0, 0, 0, 0] == 8.0


def test_normalizer_fn_from_arg_scope_with_batch_norm_scope():
    x = tf.constant(np.arange(2 * 2 * 2 * 3, dtype=np.float32).reshape(2, 2, 2, 3))
    with slim.arg_scope([slim.conv2d], normalizer_fn=slim.batch_norm):
        with slim.arg_scope([slim.batch_norm], scale=True, is_training=True):
            slim.conv2d(x, 4, [1, 1], scope="conv")
    names = [v.op.name for v in tf.global_variables()]
    assert names == ["conv/weights", "conv/BatchNorm/gamma", "conv/BatchNorm/beta",
                     "conv/BatchNorm/moving_mean", "conv/BatchNorm/moving_variance"]
    assert len(tf.get_collection(tf.GraphKeys.UPDATE_OPS)) == 2


def _vgg_like(images, num_classes, weight_decay):
    """A VGG-shaped slim model (as TF 1.15's ``nets.vgg``), small enough to train here."""
    with tf.variable_scope("vgg", "vgg", [images]):
        with slim.arg_scope([slim.conv2d, slim.fully_connected], activation_fn=tf.nn.relu,
                            weights_regularizer=slim.l2_regularizer(weight_decay),
                            biases_initializer=tf.zeros_initializer()):
            with slim.arg_scope([slim.conv2d], padding="SAME"):
                net = slim.conv2d(images, 4, [3, 3], scope="conv1")
                net = slim.repeat(net, 2, slim.conv2d, 8, [3, 3], scope="conv2")
                net = slim.max_pool2d(net, [2, 2], scope="pool1")
                net = slim.flatten(net, scope="flatten")
                net = slim.fully_connected(net, 16, scope="fc1")
                return slim.fully_connected(net, num_classes, activation_fn=None,
                                            scope="fc2")


def test_vgg_like_net_names_regularization_and_training():
    rng = np.random.default_rng(7)
    images_np = rng.standard_normal((16, 4, 4, 1)).astype(np.float32)
    labels_np = (images_np.reshape(16, -1).sum(1) > 0).astype(np.int64)
    images = tf.placeholder(tf.float32, [None, 4, 4, 1])
    labels = tf.placeholder(tf.int64, [None])
    tf.set_random_seed(3)
    logits = _vgg_like(images, 2, weight_decay=0.0005)
    assert logits.shape.as_list() == [None, 2]
    assert [v.op.name for v in slim.get_model_variables()] == [
        "vgg/conv1/weights", "vgg/conv1/biases",
        "vgg/conv2/conv2_1/weights", "vgg/conv2/conv2_1/biases",
        "vgg/conv2/conv2_2/weights", "vgg/conv2/conv2_2/biases",
        "vgg/fc1/weights", "vgg/fc1/biases", "vgg/fc2/weights", "vgg/fc2/biases"]
    assert slim.get_variables_to_restore(exclude=["vgg/fc2"])[-1].op.name == "vgg/fc1/biases"
    assert [w.op.name for w in slim.get_variables_by_suffix("weights", "vgg/conv2")] == [
        "vgg/conv2/conv2_1/weights", "vgg/conv2/conv2_2/weights"]
    weights = slim.get_variables(suffix="weights")
    regularization = tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
    # One penalty per weights variable from the arg_scope'd regularizer; none for biases.
    assert len(regularization) == len(weights) == 5
    slim.losses.sparse_softmax_cross_entropy(logits, labels)
    total = slim.losses.get_total_loss()
    train_op = tf.train.AdamOptimizer(0.02).minimize(
        total, global_step=slim.get_or_create_global_step())
    feed = {images: images_np, labels: labels_np}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        reg_values, weight_values = sess.run([regularization, weights])
        for penalty, value in zip(reg_values, weight_values):
            np.testing.assert_allclose(penalty, 0.0005 * np.sum(value ** 2) / 2, rtol=1e-5)
        first = sess.run(total, feed)
        for _ in range(60):
            sess.run(train_op, feed)
        last = sess.run(total, feed)
        assert sess.run(tf.train.get_global_step()) == 60
    assert last < 0.5 * first


def _tiny_vgg_arg_scope(weight_decay=0.0005):
    """TF 1.15's ``vgg_arg_scope`` idiom: the scope is built once and returned."""
    with slim.arg_scope([slim.conv2d, slim.fully_connected], activation_fn=tf.nn.relu,
                        weights_regularizer=slim.l2_regularizer(weight_decay),
                        biases_initializer=tf.zeros_initializer()):
        with slim.arg_scope([slim.conv2d], padding="SAME") as arg_sc:
            return arg_sc


def _tiny_vgg_a(inputs, num_classes, is_training=True, scope="vgg_a"):
    """TF 1.15's ``nets.vgg.vgg_a``, layer for layer, with fewer and narrower layers."""
    with tf.variable_scope(scope, "vgg_a", [inputs]) as sc:
        end_points_collection = sc.original_name_scope + "_end_points"
        with slim.arg_scope([slim.conv2d, slim.max_pool2d],
                            outputs_collections=end_points_collection):
            net = slim.repeat(inputs, 1, slim.conv2d, 4, [3, 3], scope="conv1")
            net = slim.max_pool2d(net, [2, 2], scope="pool1")
            net = slim.repeat(net, 2, slim.conv2d, 8, [3, 3], scope="conv2")
            net = slim.max_pool2d(net, [2, 2], scope="pool2")
            net = slim.conv2d(net, 16, [2, 2], padding="VALID", scope="fc6")
            net = slim.dropout(net, 0.5, is_training=is_training, scope="dropout6")
            net = slim.conv2d(net, 16, [1, 1], scope="fc7")
            end_points = slim.utils.convert_collection_to_dict(end_points_collection)
            net = slim.conv2d(net, num_classes, [1, 1], activation_fn=None,
                              normalizer_fn=None, scope="fc8")
            net = tf.squeeze(net, [1, 2], name="fc8/squeezed")
            end_points[sc.name + "/fc8"] = net
            return net, end_points


def test_vgg_a_end_points_and_saved_arg_scope():
    images = tf.placeholder(tf.float32, [2, 8, 8, 3])
    with slim.arg_scope(_tiny_vgg_arg_scope()):
        logits, end_points = _tiny_vgg_a(images, 5)
    assert logits.shape.as_list() == [2, 5]
    # The end-point names of TF 1.15's vgg_test.
    assert list(end_points) == [
        "vgg_a/conv1/conv1_1", "vgg_a/pool1", "vgg_a/conv2/conv2_1", "vgg_a/conv2/conv2_2",
        "vgg_a/pool2", "vgg_a/fc6", "vgg_a/fc7", "vgg_a/fc8"]
    assert end_points["vgg_a/pool2"].shape.as_list() == [2, 2, 2, 8]
    assert [v.op.name for v in slim.get_model_variables("vgg_a/fc8")] == [
        "vgg_a/fc8/weights", "vgg_a/fc8/biases"]
    assert len(tf.losses.get_regularization_losses()) == 6
    assert slim.utils.get_tensor_aliases(logits) == ["vgg_a/fc8/squeezed"]
    assert slim.utils.last_dimension(logits.shape) == 5
    collection = tf.get_collection("vgg_a/_end_points")
    # fc8 joins the collection too, after the dict was taken (as in TF).
    assert len(collection) == 8
    slim.utils.convert_collection_to_dict("vgg_a/_end_points", clear_collection=True)
    assert tf.get_collection("vgg_a/_end_points") == []
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got = sess.run(end_points, {images: np.ones((2, 8, 8, 3), np.float32)})
    assert got["vgg_a/fc8"].shape == (2, 5) and np.all(got["vgg_a/conv1/conv1_1"] >= 0)


def test_conv2d_transpose_names_shapes_and_values():
    kernel = np.arange(9, dtype=np.float32).reshape(3, 3, 1, 1)
    pixel = tf.constant(np.ones((1, 1, 1, 1), np.float32))
    # One input pixel of 1 stamps the kernel: VALID adds the kernel's overhang.
    stamped = slim.conv2d_transpose(pixel, 1, [3, 3], stride=2, padding="VALID",
                                    activation_fn=None,
                                    weights_initializer=tf.constant_initializer(kernel))
    x = tf.placeholder(tf.float32, [None, 3, 3, 2])
    with slim.arg_scope([slim.conv2d_transpose], stride=2, biases_initializer=None):
        same = slim.conv2d_transpose(x, 4, 3, scope="up")
    assert slim.convolution2d_transpose is slim.conv2d_transpose
    assert [(v.op.name, v.shape.as_list()) for v in tf.global_variables()] == [
        ("Conv2d_transpose/weights", [3, 3, 1, 1]), ("Conv2d_transpose/biases", [1]),
        ("up/weights", [3, 3, 4, 2])]
    assert same.shape.as_list() == [None, 6, 6, 4]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        inputs = np.arange(36, dtype=np.float32).reshape(2, 3, 3, 2) / 36
        got, got_same, weights = sess.run([stamped, same, tf.global_variables()[2]],
                                          {x: inputs})
    np.testing.assert_array_equal(got[0, :, :, 0], kernel[:, :, 0, 0])
    # SAME at stride 2 (3 -> 6): pixel (i, j) stamps its window at (2i, 2j); the window's
    # last row and column fall past the output (TF pads 0 before, 1 after). slim's default
    # activation is relu.
    want = np.zeros((2, 7, 7, 4))
    for i in range(3):
        for j in range(3):
            want[:, 2 * i:2 * i + 3, 2 * j:2 * j + 3] += np.einsum(
                "bc,hwoc->bhwo", inputs[:, i, j], weights)
    np.testing.assert_allclose(got_same, np.maximum(want[:, :6, :6], 0), rtol=1e-5,
                               atol=1e-6)


def test_separable_conv2d_names_shapes_and_values():
    x = tf.constant(np.ones((1, 3, 3, 2), np.float32))
    depthwise = slim.separable_conv2d(x, None, [3, 3], depth_multiplier=3, activation_fn=None,
                                      weights_initializer=tf.ones_initializer(), scope="dw")
    separable = slim.separable_conv2d(x, 5, [3, 3], depth_multiplier=2, activation_fn=None,
                                      weights_initializer=tf.ones_initializer(),
                                      pointwise_initializer=tf.constant_initializer(0.5))
    assert slim.separable_convolution2d is slim.separable_conv2d
    assert [(v.op.name, v.shape.as_list()) for v in slim.get_model_variables()] == [
        ("dw/depthwise_weights", [3, 3, 2, 3]), ("dw/biases", [6]),
        ("SeparableConv2d/depthwise_weights", [3, 3, 2, 2]),
        ("SeparableConv2d/pointwise_weights", [1, 1, 4, 5]), ("SeparableConv2d/biases", [5])]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got_dw, got_sep = sess.run([depthwise, separable])
    # A 3x3 window of ones under SAME padding: 9 at the centre, 4 in a corner.
    assert got_dw.shape == (1, 3, 3, 6)
    assert got_dw[0, 1, 1, 0] == 9.0 and got_dw[0, 0, 0, 5] == 4.0
    # The pointwise step sums 4 depthwise channels at weight 0.5.
    assert got_sep[0, 1, 1, 0] == 18.0 and got_sep[0, 0, 0, 4] == 8.0


def test_biases_initializer_none_means_no_biases():
    x = tf.constant(np.ones((1, 2), np.float32))
    slim.fully_connected(x, 3, biases_initializer=None, scope="fc")
    with slim.arg_scope([slim.conv2d], biases_initializer=None):
        slim.conv2d(tf.ones([1, 2, 2, 1]), 2, 1, scope="conv")
    assert [v.op.name for v in tf.global_variables()] == ["fc/weights", "conv/weights"]


def test_create_train_op_runs_updates_then_steps_and_returns_the_loss():
    x = tf.constant(np.array([[1.0], [3.0]], np.float32))
    net = slim.batch_norm(x, decay=0.0, is_training=True, scope="bn")
    w = slim.model_variable("w", [], initializer=tf.constant_initializer(2.0))
    loss = tf.reduce_sum(tf.square(w)) + 0.0 * tf.reduce_sum(net)
    train_op = slim.learning.create_train_op(loss, tf.train.GradientDescentOptimizer(0.25))
    # After the optimizer's own apply op, which apply_gradients adds there (as TF does).
    assert tf.get_collection(tf.GraphKeys.TRAIN_OP)[-1] is train_op
    moving_mean = slim.get_variables_by_name("moving_mean")[0]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        # The step yields the loss it differentiated: 2 ** 2, then 1 ** 2 (w -= 0.25 * 2w).
        assert sess.run(train_op) == pytest.approx(4.0)
        assert sess.run(train_op) == pytest.approx(1.0)
        assert sess.run(w) == pytest.approx(0.5)
        assert sess.run(tf.train.get_global_step()) == 2
        # The UPDATE_OPS ran with the step: decay 0 puts the batch mean in the average.
        assert sess.run(moving_mean) == pytest.approx([2.0])


def test_create_train_op_gradient_transforms_and_numerics():
    a = slim.variable("a", [], initializer=tf.constant_initializer(3.0))
    b = slim.variable("b", [], initializer=tf.constant_initializer(3.0))
    loss = tf.square(a) + tf.square(b)
    # d/da = 6 is clipped to 1; b's gradient is multiplied by 0 (frozen).
    train_op = slim.learning.create_train_op(
        loss, tf.train.GradientDescentOptimizer(1.0), global_step=None, clip_gradient_norm=1.0,
        gradient_multipliers={"b": 0.0}, summarize_gradients=True)
    assert [op.name for op in tf.get_collection(tf.GraphKeys.SUMMARIES)] == [
        "summarize_grads/a/gradient:0", "summarize_grads/a/gradient_norm:0",
        "summarize_grads/b/gradient:0", "summarize_grads/b/gradient_norm:0"]
    bad = slim.learning.create_train_op(tf.log(a - 3.0), tf.train.GradientDescentOptimizer(1.0),
                                        global_step=None, variables_to_train=[a])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train_op)
        assert sess.run([a, b]) == pytest.approx([2.0, 3.0])
        sess.run(a.assign(3.0))
        with pytest.raises(tf.errors.InvalidArgumentError, match="LossTensor is inf or nan"):
            sess.run(bad)
    with pytest.raises(ValueError, match="No variables to optimize"):
        slim.learning.create_train_op(loss, tf.train.GradientDescentOptimizer(1.0),
                                      variables_to_train=[])
    with pytest.raises(ValueError, match="empty"):
        slim.learning.multiply_gradients([], {})


@slim.add_arg_scope
def _bottleneck(inputs, depth, outputs_collections=None, scope=None):
    """A residual unit in the manner of TF 1.15's ``resnet_v1.bottleneck``."""
    with tf.variable_scope(scope, "bottleneck_v1", [inputs]) as sc:
        shortcut = slim.conv2d(inputs, depth, [1, 1], activation_fn=None, scope="shortcut")
        residual = slim.conv2d(inputs, depth, [3, 3], scope="conv1")
        residual = slim.conv2d(residual, depth, [1, 1], activation_fn=None, scope="conv2")
        output = tf.nn.relu(shortcut + residual)
        return slim.utils.collect_named_outputs(outputs_collections, sc.name, output)


def test_resnet_style_custom_arg_scoped_unit_with_batch_norm():
    batch_norm_params = {"decay": 0.997, "epsilon": 1e-5, "scale": True,
                         "updates_collections": tf.GraphKeys.UPDATE_OPS, "fused": None}
    images = tf.placeholder(tf.float32, [2, 4, 4, 3])
    with slim.arg_scope([slim.conv2d], weights_initializer=slim.variance_scaling_initializer(),
                        normalizer_fn=slim.batch_norm, normalizer_params=batch_norm_params):
        with tf.variable_scope("resnet", "resnet", [images]) as sc:
            collection = sc.original_name_scope + "_end_points"
            with slim.arg_scope([_bottleneck], outputs_collections=collection):
                net = _bottleneck(images, 4, scope="unit_1")
                net = _bottleneck(net, 4, scope="unit_2")
            net = tf.reduce_mean(net, [1, 2], name="pool5")
            logits = slim.fully_connected(net, 3, activation_fn=None, normalizer_fn=None,
                                          scope="logits")
            end_points = slim.utils.convert_collection_to_dict(collection)
            end_points["predictions"] = slim.softmax(logits, scope="predictions")
    assert list(end_points) == ["resnet/unit_1", "resnet/unit_2", "predictions"]
    names = [v.op.name for v in slim.get_model_variables("resnet/unit_1/conv1")]
    assert names == ["resnet/unit_1/conv1/weights", "resnet/unit_1/conv1/BatchNorm/gamma",
                     "resnet/unit_1/conv1/BatchNorm/beta",
                     "resnet/unit_1/conv1/BatchNorm/moving_mean",
                     "resnet/unit_1/conv1/BatchNorm/moving_variance"]
    # Two moving averages per batch norm, three batch norms per unit.
    assert len(tf.get_collection(tf.GraphKeys.UPDATE_OPS)) == 12
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got = sess.run(end_points["predictions"],
                       {images: np.random.default_rng(1).random((2, 4, 4, 3))})
    np.testing.assert_allclose(got.sum(-1), [1.0, 1.0], rtol=1e-6)


def test_softmax_bias_add_fixed_activation_layers_and_l1_l2():
    logits = tf.constant(np.log(np.array([[[1.0, 3.0]], [[2.0, 2.0]]], np.float32)))
    probabilities = slim.softmax(logits)
    x = tf.constant(np.array([[[[1.0, -4.0]]]], np.float32))
    with slim.arg_scope([slim.bias_add], initializer=tf.constant_initializer(1.0)):
        shifted = slim.bias_add(x, activation_fn=tf.nn.relu)
        shifted_nchw = slim.bias_add(x, data_format="NCHW", scope="nchw")
    linear = slim.linear(tf.constant([[-1.0]]), 1, weights_initializer=tf.ones_initializer())
    relu = slim.relu(tf.constant([[-1.0]]), 1, weights_initializer=tf.ones_initializer())
    penalty = slim.l1_l2_regularizer(0.5, 0.25)(tf.constant([1.0, -2.0]))
    assert slim.l1_l2_regularizer(0.0, 0.0)(tf.constant([1.0])) is None
    assert [(v.op.name, v.shape.as_list()) for v in slim.get_model_variables()][:2] == [
        ("BiasAdd/biases", [2]), ("nchw/biases", [1])]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got = sess.run([probabilities, shifted, shifted_nchw, linear, relu, penalty])
    np.testing.assert_allclose(got[0], [[[0.25, 0.75]], [[0.5, 0.5]]], rtol=1e-6)
    np.testing.assert_array_equal(got[1], [[[[2.0, 0.0]]]])
    np.testing.assert_array_equal(got[2], [[[[2.0, -3.0]]]])
    assert got[3] == [[-1.0]] and got[4] == [[0.0]]
    # 0.5 * (1 + 2) + 0.25 * (1 + 4) / 2
    assert got[5] == pytest.approx(2.125)


def _regression_train_op():
    """A one-weight least-squares model (target weight 3) and its slim train op."""
    x = tf.constant(np.array([[1.0], [2.0]], np.float32))
    y = tf.constant(np.array([[3.0], [6.0]], np.float32))
    prediction = slim.fully_connected(x, 1, activation_fn=None, biases_initializer=None,
                                      weights_initializer=tf.zeros_initializer(), scope="fc")
    slim.losses.mean_squared_error(prediction, y)
    return slim.learning.create_train_op(slim.losses.get_total_loss(),
                                         tf.train.GradientDescentOptimizer(0.1))


def test_train_loop_initializes_then_resumes_from_logdir(tmp_path):
    logdir = str(tmp_path / "train")
    init_calls = []
    with tf.Graph().as_default():
        train_op = _regression_train_op()
        first = slim.learning.train(train_op, logdir, number_of_steps=5,
                                    init_fn=init_calls.append, log_every_n_steps=100)
    assert len(init_calls) == 1
    assert tf.train.load_variable(logdir, "global_step") == 5
    with tf.Graph().as_default():
        train_op = _regression_train_op()
        last = slim.learning.train(train_op, logdir, number_of_steps=30,
                                   init_fn=init_calls.append, summary_op=None)
    # The second run restored the checkpoint (so no init_fn) and went on to step 30.
    assert len(init_calls) == 1
    assert tf.train.load_variable(logdir, "global_step") == 30
    assert tf.train.load_variable(logdir, "fc/weights")[0, 0] == pytest.approx(3.0, abs=1e-3)
    assert 0.0 <= last < first
    with pytest.raises(ValueError, match="number_of_steps"):
        slim.learning.train(train_op, None, number_of_steps=0)


def test_train_loop_summary_writer_none_writes_no_summaries(tmp_path):
    # slim's documented way to turn summaries off; it used to be an unknown keyword.
    logdir = tmp_path / "train"
    with tf.Graph().as_default():
        train_op = _regression_train_op()
        tf.summary.scalar("loss", train_op)
        slim.learning.train(train_op, str(logdir), number_of_steps=3, summary_writer=None,
                            save_summaries_secs=0.001)
        assert tf.train.load_variable(str(logdir), "global_step") == 3
        # The checkpoint hook may still write the graph; no event carries a summary value.
        tags = [value.tag for path in logdir.glob("events.out.tfevents*")
                for event in tf.train.summary_iterator(str(path))
                for value in event.summary.value]
        assert tags == []
        with pytest.raises(NotImplementedError, match="summary_writer"):
            slim.learning.train(train_op, str(logdir), number_of_steps=4,
                                summary_writer=object())


def test_model_variable_and_variable_collections_and_arg_scope():
    with slim.arg_scope([slim.model_variable], initializer=tf.constant_initializer(2.0)):
        with tf.variable_scope("block"):
            weights = slim.model_variable("weights", [2, 3])
            plain = slim.variable("plain", [2], initializer=tf.zeros_initializer())
            local = slim.variable("local", [1], initializer=tf.zeros_initializer(),
                                  collections=[tf.GraphKeys.LOCAL_VARIABLES],
                                  trainable=False)
    assert weights.op.name == "block/weights"
    assert slim.get_model_variables() == [weights]
    assert slim.get_variables() == [weights, plain]
    assert slim.get_variables(collection=tf.GraphKeys.LOCAL_VARIABLES) == [local]
    with slim.arg_scope([slim.variable], device="/cpu:0"):
        placed = slim.variable("placed", [1], initializer=tf.zeros_initializer())
    assert "CPU:0" in placed.device.upper()
    with tf.device("/cpu:0"):
        inherited = slim.variable("inherited", [1], initializer=tf.zeros_initializer())
    assert "CPU:0" in inherited.device.upper()
    calls = []

    def custom_getter(name, reuse=None, **kwargs):
        # contrib's rule: called like tf.get_variable, plus the scope's reuse.
        calls.append((name, reuse))
        return tf.get_variable(name, **kwargs)

    with tf.variable_scope("custom", reuse=tf.AUTO_REUSE):
        made = slim.model_variable("m", [1], custom_getter=custom_getter)
    assert calls == [("m", tf.AUTO_REUSE)] and made.op.name == "custom/m"
    assert slim.get_model_variables("custom") == [made]
    slim.add_model_variable(plain)
    slim.add_model_variable(plain)
    assert slim.get_model_variables() == [weights, made, plain]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_array_equal(sess.run(weights), np.full((2, 3), 2.0))


def test_layer_weights_go_through_model_variable():
    x = tf.constant(np.ones((1, 3), np.float32))
    with slim.arg_scope([slim.model_variable], device="/cpu:0"):
        slim.fully_connected(x, 2, scope="fc")
    assert all("CPU:0" in v.device.upper() for v in slim.get_model_variables())


def test_assign_from_checkpoint_fn(tmp_path):
    with tf.Graph().as_default():
        saved = slim.model_variable("w", [2], initializer=tf.constant_initializer(3.0))
        with tf.Session() as sess:
            sess.run(saved.initializer)
            prefix = tf.train.Saver([saved]).save(sess, str(tmp_path / "model"))
    w = slim.model_variable("w", [2], initializer=tf.zeros_initializer())
    extra = slim.model_variable("extra", [1], initializer=tf.zeros_initializer())
    with pytest.raises(ValueError, match="empty"):
        slim.assign_from_checkpoint_fn(prefix, [])
    assert slim.assign_from_checkpoint_fn(prefix, [extra], ignore_missing_vars=True) is None
    init_fn = slim.assign_from_checkpoint_fn(prefix, [w, extra], ignore_missing_vars=True)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        init_fn(sess)
        np.testing.assert_array_equal(sess.run(w), [3.0, 3.0])
        np.testing.assert_array_equal(sess.run(extra), [0.0])


def test_slim_namespace():
    assert slim.losses is tf.contrib.losses and slim.metrics is tf.contrib.metrics
    assert slim.l2_regularizer is tf.contrib.layers.l2_regularizer
    assert slim.regularizers.l2_regularizer is slim.l2_regularizer
    assert slim.initializers.xavier_initializer is slim.xavier_initializer
    assert slim.arg_scope is tf.contrib.framework.arg_scope
    assert slim.get_or_create_global_step is tf.train.get_or_create_global_step
    for name in slim.__all__:
        assert getattr(slim, name) is not None
    with pytest.raises(AttributeError, match="slim.nets.*contrib.slim: the names"):
        slim.nets  # noqa: B018
    with pytest.raises(AttributeError, match="slim.initializers.nope"):
        slim.initializers.nope  # noqa: B018
