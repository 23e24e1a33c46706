"""tf.layers convolutions and pooling: outputs against numpy with constant initializers, the
variables' names and shapes, static output shapes and channels_first.

The names and static shapes were checked against TF 2.21 (legacy tf-keras layers).
"""

import itertools
import math

import numpy as np
import pytest

import sessionlib as tf


def _run(fetches, feed_dict=None):
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run(fetches, feed_dict)


def _pads(size, kernel, stride, dilation, padding):
    effective = (kernel - 1) * dilation + 1
    if padding == "same":
        out = math.ceil(size / stride)
        total = max((out - 1) * stride + effective - size, 0)
        return out, total // 2, total - total // 2
    return math.ceil((size - effective + 1) / stride), 0, 0


def np_conv(x, w, strides, padding, dilations=None):
    """N-D convolution, channels last: x [N, *spatial, C], w [*kernel, C, F]."""
    rank = x.ndim - 2
    dilations = dilations or (1,) * rank
    geometry = [_pads(x.shape[1 + i], w.shape[i], strides[i], dilations[i], padding)
                for i in range(rank)]
    xp = np.pad(x, [(0, 0)] + [(lo, hi) for _, lo, hi in geometry] + [(0, 0)])
    out = np.zeros((x.shape[0],) + tuple(g[0] for g in geometry) + (w.shape[-1],))
    for offset in itertools.product(*[range(k) for k in w.shape[:rank]]):
        index = tuple(slice(offset[i] * dilations[i],
                            offset[i] * dilations[i] + (geometry[i][0] - 1) * strides[i] + 1,
                            strides[i]) for i in range(rank))
        out += np.tensordot(xp[(slice(None),) + index], w[offset], axes=([-1], [0]))
    return out


def np_conv_transpose(x, w, stride, padding):
    """N-D transposed convolution: x [N, *spatial, C], w [*kernel, F, C] -> [N, *out, F]
    (the adjoint of np_conv)."""
    rank = x.ndim - 2
    kernel = w.shape[:rank]
    sizes = []
    for size, k in zip(x.shape[1:-1], kernel):
        out = size * stride if padding == "same" else size * stride + max(k - stride, 0)
        total = max((size - 1) * stride + k - out, 0)
        sizes.append((out, total // 2))
    full = np.zeros((x.shape[0],) + tuple((size - 1) * stride + k for size, k
                                          in zip(x.shape[1:-1], kernel)) + (w.shape[-2],))
    for index in itertools.product(*[range(size) for size in x.shape[1:-1]]):
        window = tuple(slice(i * stride, i * stride + k) for i, k in zip(index, kernel))
        full[(slice(None),) + window] += np.tensordot(x[(slice(None),) + index], w,
                                                      axes=([-1], [-1]))
    return full[(slice(None),) + tuple(slice(lo, lo + out) for out, lo in sizes)]


def np_conv2d_transpose(x, w, stride, padding):
    return np_conv_transpose(x, w, stride, padding)


def np_pool(x, size, stride, padding, kind):
    """2-D pooling, channels last; padding never counts."""
    (oh, top, _), (ow, left, _) = [_pads(x.shape[1 + i], size[i], stride[i], 1, padding)
                                   for i in range(2)]
    out = np.zeros((x.shape[0], oh, ow, x.shape[3]))
    for i, j in itertools.product(range(oh), range(ow)):
        r0, c0 = i * stride[0] - top, j * stride[1] - left
        window = x[:, max(r0, 0):r0 + size[0], max(c0, 0):c0 + size[1], :]
        out[:, i, j] = window.max((1, 2)) if kind == "max" else window.mean((1, 2))
    return out


def _kernel(shape, seed=0):
    return np.random.RandomState(seed).randn(*shape).astype(np.float32) * 0.5


# ---- Conv2D -------------------------------------------------------------------------------

@pytest.mark.parametrize("padding,strides,dilation", [("valid", 1, 1), ("SAME", 2, 1),
                                                      ("same", 1, 2), ("Valid", (2, 1), 1)])
def test_conv2d_matches_numpy(padding, strides, dilation, executor):
    x = np.random.RandomState(1).randn(2, 7, 6, 3).astype(np.float32)
    kernel = _kernel((3, 2, 3, 4))
    bias = np.array([0.1, -0.1, 0.2, 0.0], np.float32)
    out = tf.layers.conv2d(tf.constant(x), 4, (3, 2), strides=strides, padding=padding,
                           dilation_rate=dilation, activation=tf.nn.relu,
                           kernel_initializer=tf.constant_initializer(kernel),
                           bias_initializer=tf.constant_initializer(bias))
    strides = (strides, strides) if isinstance(strides, int) else strides
    expected = np.maximum(np_conv(x, kernel, strides, padding.lower(), (dilation,) * 2) + bias,
                          0)
    assert out.shape.as_list() == list(expected.shape)
    np.testing.assert_allclose(_run(out), expected, rtol=1e-4, atol=1e-5)


def test_conv2d_names_and_shapes():
    x = tf.placeholder(tf.float32, [None, 5, 5, 2])
    out = tf.layers.conv2d(x, 3, 3, padding="same", activation=tf.nn.relu)
    assert out.name == "conv2d/Relu:0"
    assert out.shape.as_list() == [None, 5, 5, 3]
    assert tf.get_default_graph().get_operation_by_name("conv2d/Conv2D").type == "Conv2D"
    layer = tf.layers.Conv2D(4, (2, 3), strides=2, name="c")
    layer(x)
    assert [(v.name, v.shape.as_list()) for v in tf.global_variables()] == [
        ("conv2d/kernel:0", [3, 3, 2, 3]), ("conv2d/bias:0", [3]),
        ("c/kernel:0", [2, 3, 2, 4]), ("c/bias:0", [4])]
    assert layer.compute_output_shape([None, 5, 5, 2]).as_list() == [None, 2, 2, 4]


def test_conv2d_argument_errors():
    x = tf.zeros([1, 4, 4, 2])
    with pytest.raises(ValueError, match="padding"):
        tf.layers.conv2d(x, 2, 3, padding="full")
    with pytest.raises(ValueError, match="data_format"):
        tf.layers.conv2d(x, 2, 3, data_format="NHWC")
    with pytest.raises(ValueError, match="kernel_size"):
        tf.layers.conv2d(x, 2, (1, 2, 3))
    with pytest.raises(ValueError, match="channel dimension"):
        tf.layers.conv2d(tf.placeholder(tf.float32, [None, 4, 4, None]), 2, 3)
    with pytest.raises(ValueError, match="ndim"):
        tf.layers.conv2d(tf.zeros([4, 4, 2]), 2, 3)


def test_conv2d_reuse_and_trained_kernel_moves():
    x = tf.constant(np.random.RandomState(2).randn(2, 4, 4, 1).astype(np.float32))
    out = tf.layers.conv2d(x, 2, 2, name="c")
    again = tf.layers.conv2d(x, 2, 2, name="c", reuse=True)
    loss = tf.reduce_sum(tf.square(out))
    train = tf.train.GradientDescentOptimizer(0.01).minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        a, b = sess.run([out, again])
        np.testing.assert_array_equal(a, b)
        before = sess.run(loss)
        for _ in range(3):
            sess.run(train)
        assert sess.run(loss) < before


# ---- Conv2DTranspose ---------------------------------------------------------------------

@pytest.mark.parametrize("padding,stride", [("same", 2), ("valid", 2), ("same", 1),
                                            ("valid", 3)])
def test_conv2d_transpose_matches_numpy(padding, stride, executor):
    x = np.random.RandomState(3).randn(2, 3, 4, 2).astype(np.float32)
    kernel = _kernel((3, 3, 5, 2), seed=4)
    inputs = tf.placeholder(tf.float32, [None, 3, 4, 2])
    out = tf.layers.conv2d_transpose(inputs, 5, 3, strides=stride, padding=padding,
                                     kernel_initializer=tf.constant_initializer(kernel),
                                     bias_initializer=tf.constant_initializer(0.5))
    expected = np_conv2d_transpose(x, kernel, stride, padding) + 0.5
    assert out.shape.as_list() == [None] + list(expected.shape[1:])
    assert [v.shape.as_list() for v in tf.global_variables()] == [[3, 3, 5, 2], [5]]
    assert tf.global_variables()[0].name == "conv2d_transpose/kernel:0"
    np.testing.assert_allclose(_run(out, {inputs: x}), expected, rtol=1e-4, atol=1e-5)


def test_conv2d_transpose_with_unknown_spatial_sizes():
    x = np.random.RandomState(5).randn(1, 3, 3, 2).astype(np.float32)
    inputs = tf.placeholder(tf.float32, [None, None, None, 2])
    kernel = _kernel((2, 2, 1, 2), seed=6)
    out = tf.layers.Conv2DTranspose(1, 2, strides=2, padding="same",
                                    kernel_initializer=tf.constant_initializer(kernel))(inputs)
    assert out.shape.as_list() == [None, None, None, 1]
    value = _run(out, {inputs: x})
    np.testing.assert_allclose(value, np_conv2d_transpose(x, kernel, 2, "same"), rtol=1e-4,
                               atol=1e-5)


# ---- pooling ------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("size,stride,padding", [(2, 2, "valid"), (3, 2, "same"),
                                                 ((2, 3), (1, 2), "VALID")])
def test_pooling2d_matches_numpy(kind, size, stride, padding):
    x = np.random.RandomState(7).randn(2, 6, 7, 3).astype(np.float32)
    function = tf.layers.max_pooling2d if kind == "max" else tf.layers.average_pooling2d
    out = function(tf.constant(x), size, stride, padding=padding)
    size = (size, size) if isinstance(size, int) else size
    stride = (stride, stride) if isinstance(stride, int) else stride
    expected = np_pool(x, size, stride, padding.lower(), kind)
    assert out.shape.as_list() == list(expected.shape)
    assert out.op.type == ("MaxPool" if kind == "max" else "AvgPool")
    np.testing.assert_allclose(_run(out), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pooling1d_matches_numpy(kind):
    x = np.random.RandomState(8).randn(2, 7, 3).astype(np.float32)
    layer_class = tf.layers.MaxPooling1D if kind == "max" else tf.layers.AveragePooling1D
    out = layer_class(3, 2)(tf.constant(x))
    expected = np_pool(x[:, :, None, :], (3, 1), (2, 1), "valid", kind)[:, :, 0, :]
    assert out.shape.as_list() == [2, 3, 3]
    assert out.name == ("max_pooling1d/Squeeze:0" if kind == "max"
                        else "average_pooling1d/Squeeze:0")
    np.testing.assert_allclose(_run(out), expected, rtol=1e-5, atol=1e-6)


def test_pooling_aliases_and_no_variables():
    x = tf.zeros([1, 4, 4, 1])
    assert tf.layers.MaxPool2D is tf.layers.MaxPooling2D
    assert tf.layers.AvgPool1D is tf.layers.AveragePooling1D
    tf.layers.MaxPool2D(2, 2)(x)
    assert tf.global_variables() == []


# ---- Conv1D, Conv3D, SeparableConv2D --------------------------------------------------------

@pytest.mark.parametrize("padding,stride,dilation", [("valid", 1, 1), ("same", 2, 1),
                                                     ("same", 1, 2)])
def test_conv1d_matches_numpy(padding, stride, dilation):
    x = np.random.RandomState(9).randn(2, 9, 3).astype(np.float32)
    kernel = _kernel((3, 3, 4), seed=10)
    out = tf.layers.conv1d(tf.constant(x), 4, 3, strides=stride, padding=padding,
                           dilation_rate=dilation,
                           kernel_initializer=tf.constant_initializer(kernel),
                           bias_initializer=tf.constant_initializer(0.25))
    expected = np_conv(x, kernel, (stride,), padding, (dilation,)) + 0.25
    assert out.shape.as_list() == list(expected.shape)
    assert [v.name for v in tf.global_variables()] == ["conv1d/kernel:0", "conv1d/bias:0"]
    np.testing.assert_allclose(_run(out), expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("padding,strides", [("valid", 1), ("same", 2)])
def test_conv3d_matches_numpy(padding, strides):
    x = np.random.RandomState(11).randn(2, 5, 4, 5, 2).astype(np.float32)
    kernel = _kernel((2, 3, 2, 2, 3), seed=12)
    out = tf.layers.conv3d(tf.constant(x), 3, (2, 3, 2), strides=strides, padding=padding,
                           kernel_initializer=tf.constant_initializer(kernel))
    expected = np_conv(x, kernel, (strides,) * 3, padding)
    assert out.shape.as_list() == list(expected.shape)
    assert tf.global_variables()[0].name == "conv3d/kernel:0"
    np.testing.assert_allclose(_run(out), expected, rtol=1e-4, atol=1e-5)


def test_separable_conv2d_matches_numpy():
    x = np.random.RandomState(13).randn(2, 6, 5, 3).astype(np.float32)
    depthwise = _kernel((3, 3, 3, 2), seed=14)
    pointwise = _kernel((1, 1, 6, 4), seed=15)
    out = tf.layers.separable_conv2d(
        tf.constant(x), 4, 3, padding="same", depth_multiplier=2,
        depthwise_initializer=tf.constant_initializer(depthwise),
        pointwise_initializer=tf.constant_initializer(pointwise),
        bias_initializer=tf.constant_initializer(0.1))
    assert [(v.name, v.shape.as_list()) for v in tf.global_variables()] == [
        ("separable_conv2d/depthwise_kernel:0", [3, 3, 3, 2]),
        ("separable_conv2d/pointwise_kernel:0", [1, 1, 6, 4]),
        ("separable_conv2d/bias:0", [4])]
    # Depthwise: input channel c times multiplier m gives output channel c * 2 + m.
    depth = np.concatenate(
        [np_conv(x[..., c:c + 1], depthwise[:, :, c:c + 1, :], (1, 1), "same")
         for c in range(3)], axis=-1)
    expected = np.tensordot(depth, pointwise[0, 0], axes=([-1], [0])) + 0.1
    assert out.shape.as_list() == [2, 6, 5, 4]
    np.testing.assert_allclose(_run(out), expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("padding,stride", [("same", 2), ("valid", 1)])
def test_conv3d_transpose_matches_numpy(padding, stride):
    x = np.random.RandomState(17).randn(2, 2, 3, 2, 2).astype(np.float32)
    kernel = _kernel((2, 3, 2, 3, 2), seed=18)
    out = tf.layers.conv3d_transpose(tf.constant(x), 3, (2, 3, 2), strides=stride,
                                     padding=padding,
                                     kernel_initializer=tf.constant_initializer(kernel),
                                     bias_initializer=tf.constant_initializer(-0.5))
    expected = np_conv_transpose(x, kernel, stride, padding) - 0.5
    assert out.shape.as_list() == list(expected.shape)
    assert [(v.name, v.shape.as_list()) for v in tf.global_variables()] == [
        ("conv3d_transpose/kernel:0", [2, 3, 2, 3, 2]), ("conv3d_transpose/bias:0", [3])]
    np.testing.assert_allclose(_run(out), expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("padding,stride", [("same", 1), ("valid", 2)])
def test_separable_conv1d_matches_numpy(padding, stride):
    x = np.random.RandomState(19).randn(2, 9, 2).astype(np.float32)
    depthwise = _kernel((3, 2, 2), seed=20)
    pointwise = _kernel((1, 4, 3), seed=21)
    out = tf.layers.separable_conv1d(
        tf.constant(x), 3, 3, strides=stride, padding=padding, depth_multiplier=2,
        depthwise_initializer=tf.constant_initializer(depthwise),
        pointwise_initializer=tf.constant_initializer(pointwise))
    assert [(v.name, v.shape.as_list()) for v in tf.global_variables()] == [
        ("separable_conv1d/depthwise_kernel:0", [3, 2, 2]),
        ("separable_conv1d/pointwise_kernel:0", [1, 4, 3]),
        ("separable_conv1d/bias:0", [3])]
    depth = np.concatenate(
        [np_conv(x[..., c:c + 1], depthwise[:, c:c + 1, :], (stride,), padding)
         for c in range(2)], axis=-1)
    expected = np.tensordot(depth, pointwise[0], axes=([-1], [0]))
    assert out.shape.as_list() == list(expected.shape)
    np.testing.assert_allclose(_run(out), expected, rtol=1e-4, atol=1e-5)


# ---- channels_first -------------------------------------------------------------------------

def _to_first(x):
    return np.moveaxis(x, -1, 1)


@pytest.mark.parametrize("build", ["conv1d", "conv2d", "conv3d", "conv2d_transpose",
                                   "conv3d_transpose", "separable_conv1d", "separable_conv2d",
                                   "max_pooling1d", "max_pooling2d", "average_pooling1d",
                                   "average_pooling2d"])
def test_channels_first_equals_channels_last_transposed(build):
    rank = 1 if "1d" in build else 3 if "3d" in build else 2
    x = np.random.RandomState(16).randn(*([2] + [5] * rank + [3])).astype(np.float32)
    function = getattr(tf.layers, build)
    if "pooling" in build:
        def make(data, data_format):
            return function(tf.constant(data), 2, 2, padding="same", data_format=data_format)
    else:
        initializers = {("depthwise_initializer" if "separable" in build
                         else "kernel_initializer"): tf.constant_initializer(0.3)}
        if "separable" in build:
            initializers["pointwise_initializer"] = tf.constant_initializer(-0.2)

        def make(data, data_format):
            return function(tf.constant(data), 4, 2, padding="same", data_format=data_format,
                            bias_initializer=tf.constant_initializer(0.5), **initializers)
    last = make(x, "channels_last")
    first = make(_to_first(x), "channels_first")
    assert first.shape.as_list() == list(_to_first(np.zeros(last.shape.as_list())).shape)
    last_value, first_value = _run([last, first])
    np.testing.assert_allclose(first_value, _to_first(last_value), rtol=1e-5, atol=1e-5)
