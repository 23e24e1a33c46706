"""tf.nn composites of TF 1: swish (silu), crelu, weighted_moments, convolution, pool and
atrous_conv2d, against numpy references (checked by hand against TF's compat.v1), with
their gradients and errors."""

import itertools

import numpy as np
import pytest

import sessionlib as tf
from _gradient_check import GradCase, check_case, distinct_values

_rng = np.random.RandomState(5)


def _run(tensors, feeds=None):
    with tf.Session() as sess:
        return sess.run(tensors, feeds)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


# ---- activations ---------------------------------------------------------------------------

def test_swish_and_silu(executor):
    x = _rng.randn(3, 5).astype(np.float32)
    plain, scaled, silu = _run([tf.nn.swish(x), tf.nn.swish(x, beta=0.5), tf.nn.silu(x)])
    np.testing.assert_allclose(plain, x * _sigmoid(x), rtol=1e-5)
    np.testing.assert_allclose(scaled, x * _sigmoid(0.5 * x), rtol=1e-5)
    np.testing.assert_allclose(silu, plain)


def test_crelu(executor):
    x = _rng.randn(2, 3, 4).astype(np.float32)
    last, first = _run([tf.nn.crelu(x), tf.nn.crelu(x, axis=1)])
    np.testing.assert_array_equal(last, np.concatenate([np.maximum(x, 0), np.maximum(-x, 0)],
                                                       -1))
    np.testing.assert_array_equal(first, np.concatenate([np.maximum(x, 0),
                                                         np.maximum(-x, 0)], 1))
    assert tf.nn.crelu(x).op.name == "CRelu_2/Relu"
    assert tf.nn.crelu(x).shape.as_list() == [2, 3, 8]


@pytest.mark.parametrize("case", [
    GradCase("Sigmoid", lambda x: tf.nn.swish(x), [_rng.randn(3, 4)], id="swish"),
    GradCase("Sigmoid", lambda x, b: tf.nn.swish(x, b), [_rng.randn(3, 4), np.array(0.7)],
             id="swish-beta"),
    GradCase("Relu", lambda x: tf.nn.crelu(x, axis=0),
             [_rng.uniform(0.3, 2, (3, 4)) * _rng.choice([-1, 1], (3, 4))], id="crelu"),
], ids=lambda case: case.id)
def test_activation_gradients(case):
    check_case(case)


# ---- weighted_moments ----------------------------------------------------------------------

def _weighted_reference(x, axes, weights):
    weights = weights + np.zeros_like(x)
    total = weights.sum(axis=tuple(axes), keepdims=True)
    mean = (weights * x).sum(axis=tuple(axes), keepdims=True) / total
    variance = (weights * (x - mean) ** 2).sum(axis=tuple(axes), keepdims=True) / total
    return mean, variance


def test_weighted_moments(executor):
    x = _rng.randn(4, 3, 5).astype(np.float32)
    weights = _rng.rand(4, 3, 1).astype(np.float32)
    mean, variance = _run(tf.nn.weighted_moments(x, [0, 1], weights))
    ref_mean, ref_variance = _weighted_reference(x, [0, 1], weights)
    np.testing.assert_allclose(mean, ref_mean.reshape(5), rtol=1e-5)
    np.testing.assert_allclose(variance, ref_variance.reshape(5), rtol=1e-5)
    for spelling in ("keep_dims", "keepdims"):
        kept = tf.nn.weighted_moments(x, [2], weights, **{spelling: True})
        assert [t.shape.as_list() for t in kept] == [[4, 3, 1], [4, 3, 1]]
        ref = _weighted_reference(x, [2], weights)
        for got, want in zip(_run(kept), ref):
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)


def test_weighted_moments_equal_weights_are_the_moments_and_zero_weights_give_zero(executor):
    x = _rng.randn(6, 4).astype(np.float32)
    got = _run(tf.nn.weighted_moments(x, [0], 2.0))
    np.testing.assert_allclose(got[0], x.mean(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got[1], x.var(0), rtol=1e-5)
    zero = _run(tf.nn.weighted_moments(x, [0], np.zeros((6, 1), np.float32)))
    np.testing.assert_array_equal(zero, np.zeros((2, 4)))


def test_weighted_moments_float16_names_and_errors():
    mean, variance = tf.nn.weighted_moments(tf.ones([2, 3], tf.float16), [0], 1.0)
    assert mean.dtype == tf.float16 and variance.dtype == tf.float16
    np.testing.assert_array_equal(_run(mean), np.ones(3, np.float16))
    assert mean.name.startswith("weighted_moments/")
    with pytest.raises(ValueError, match="keep_dims"):
        tf.nn.weighted_moments(tf.ones([2]), [0], 1.0, keep_dims=True, keepdims=True)


def test_weighted_moments_gradient():
    check_case(GradCase("Mul", lambda x, w: list(tf.nn.weighted_moments(x, [0], w)),
                        [_rng.randn(5, 3), _rng.uniform(0.5, 1.5, (5, 1))],
                        id="weighted_moments", tolerance=1e-5))


# ---- convolution, pool, atrous_conv2d -------------------------------------------------------

def _pads(size, window, stride, dilation, padding):
    span = (window - 1) * dilation + 1
    if padding == "VALID":
        return (size - span) // stride + 1, 0
    out = -(-size // stride)
    return out, max((out - 1) * stride + span - size, 0) // 2


def _conv_reference(x, w, strides, dilations, padding):
    """Channels-last N-D convolution, one output element at a time."""
    spatial = x.shape[1:-1]
    plan = [_pads(n, k, s, d, padding) for n, k, s, d in
            zip(spatial, w.shape[:-2], strides, dilations)]
    out = np.zeros((x.shape[0],) + tuple(p[0] for p in plan) + (w.shape[-1],), np.float64)
    for index in itertools.product(*(range(p[0]) for p in plan)):
        for window in itertools.product(*(range(k) for k in w.shape[:-2])):
            at = [i * s + k * d - p[1] for i, s, k, d, p in
                  zip(index, strides, window, dilations, plan)]
            if all(0 <= a < n for a, n in zip(at, spatial)):
                out[(slice(None),) + index] += x[(slice(None),) + tuple(at)] @ w[window]
    return out


def _pool_reference(x, window, strides, padding, reduce, dilations=None):
    """Channels-last N-D pooling; a dilated window (which TF allows only with VALID padding,
    so never clipped) takes every `dilation`-th element of its span."""
    spatial = x.shape[1:-1]
    dilations = dilations or [1] * len(window)
    plan = [_pads(n, k, s, d, padding) for n, k, s, d in zip(spatial, window, strides,
                                                              dilations)]
    out = np.zeros((x.shape[0],) + tuple(p[0] for p in plan) + (x.shape[-1],), np.float64)
    for index in itertools.product(*(range(p[0]) for p in plan)):
        box = tuple(slice(max(i * s - p[1], 0), min(i * s - p[1] + (k - 1) * d + 1, n), d)
                    for i, s, p, k, n, d in zip(index, strides, plan, window, spatial,
                                                dilations))
        out[(slice(None),) + index] = reduce(x[(slice(None),) + box],
                                             axis=tuple(range(1, len(spatial) + 1)))
    return out


CONVOLUTIONS = [
    ((2, 9, 3), (3, 3, 4), [2], [1], "SAME"),
    ((2, 11, 3), (3, 3, 4), [1], [2], "VALID"),
    ((2, 9, 8, 3), (3, 2, 3, 4), [1, 1], [1, 1], "SAME"),
    ((2, 9, 8, 3), (3, 3, 3, 4), [2, 3], [1, 1], "VALID"),
    ((2, 9, 8, 3), (3, 3, 3, 4), [1, 1], [2, 3], "SAME"),
    ((2, 9, 9, 3), (2, 3, 3, 4), [1, 1], [3, 2], "VALID"),
    ((1, 6, 5, 6, 2), (2, 2, 2, 2, 3), [1, 2, 2], [1, 1, 1], "SAME"),
    ((1, 6, 6, 6, 2), (2, 2, 2, 2, 3), [1, 1, 1], [2, 2, 2], "VALID"),
]


@pytest.mark.parametrize("x_shape, w_shape, strides, dilations, padding", CONVOLUTIONS)
def test_convolution_matches_the_reference(executor, x_shape, w_shape, strides, dilations,
                                           padding):
    x = _rng.randn(*x_shape).astype(np.float32)
    w = _rng.randn(*w_shape).astype(np.float32)
    y = tf.nn.convolution(x, w, padding, strides=strides, dilation_rate=dilations)
    expected = _conv_reference(x, w, strides, dilations, padding)
    assert y.shape.as_list() == list(expected.shape)
    np.testing.assert_allclose(_run(y), expected, rtol=1e-4, atol=1e-4)


def test_convolution_channels_first_and_spellings(executor):
    x = _rng.randn(2, 8, 7, 3).astype(np.float32)
    w = _rng.randn(3, 3, 3, 2).astype(np.float32)
    last = tf.nn.convolution(x, w, "SAME", dilation_rate=[2, 1])
    first = tf.nn.convolution(np.transpose(x, [0, 3, 1, 2]), w, "SAME", dilations=[2, 1],
                              data_format="NCHW")
    by_filters = tf.nn.convolution(x, filters=w, padding="SAME", dilation_rate=2)
    first_1d = tf.nn.convolution(np.transpose(x[:, 0], [0, 2, 1]), w[0], "VALID",
                                 strides=[1, 1, 2], data_format="NCW")
    got_last, got_first, got_filters, got_1d = _run([last, first, by_filters, first_1d])
    np.testing.assert_allclose(np.transpose(got_first, [0, 2, 3, 1]), got_last, rtol=1e-5,
                               atol=1e-5)
    np.testing.assert_allclose(got_filters,
                               _conv_reference(x, w, [1, 1], [2, 2], "SAME"), rtol=1e-4,
                               atol=1e-4)
    np.testing.assert_allclose(np.transpose(got_1d, [0, 2, 1]),
                               _conv_reference(x[:, 0], w[0], [2], [1], "VALID"), rtol=1e-4,
                               atol=1e-4)
    assert last.op.name == "convolution" and last.op.type == "Conv2D"
    assert tf.nn.convolution(x, w, "SAME", name="conv").op.name == "conv"


def test_atrous_conv2d(executor):
    x = _rng.randn(2, 9, 9, 3).astype(np.float32)
    w = _rng.randn(3, 3, 3, 4).astype(np.float32)
    same, valid = _run([tf.nn.atrous_conv2d(x, w, 2, "SAME"),
                        tf.nn.atrous_conv2d(x, w, 3, "VALID")])
    np.testing.assert_allclose(same, _conv_reference(x, w, [1, 1], [2, 2], "SAME"), rtol=1e-4,
                               atol=1e-4)
    np.testing.assert_allclose(valid, _conv_reference(x, w, [1, 1], [3, 3], "VALID"),
                               rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="positive"):
        tf.nn.atrous_conv2d(x, w, 0, "SAME")


def test_dilated_convolution_gradient():
    check_case(GradCase("Conv2D", lambda x, w: tf.nn.convolution(x, w, "SAME",
                                                                 dilation_rate=[2, 1]),
                        [_rng.randn(1, 5, 4, 2), _rng.randn(2, 2, 2, 3)],
                        id="convolution-dilated", tolerance=1e-5))


POOLS = [
    ((2, 9, 3), [3], [2], "SAME", "MAX"),
    ((2, 9, 3), [2], [1], "VALID", "AVG"),
    ((2, 9, 8, 3), [3, 3], [2, 2], "SAME", "MAX"),
    ((2, 9, 8, 3), [2, 3], [2, 1], "VALID", "AVG"),
    ((2, 9, 8, 3), [3, 2], [3, 2], "SAME", "AVG"),
    ((2, 5, 6, 7, 2), [2, 3, 2], [2, 2, 1], "SAME", "MAX"),
    ((2, 5, 6, 7, 2), [3, 2, 3], [1, 2, 3], "VALID", "AVG"),
    ((1, 4, 5, 3, 2), [2, 2, 2], [2, 2, 2], "SAME", "AVG"),
]


@pytest.mark.parametrize("x_shape, window, strides, padding, kind", POOLS)
def test_pool_matches_the_reference(executor, x_shape, window, strides, padding, kind):
    x = _rng.randn(*x_shape).astype(np.float32)
    y = tf.nn.pool(x, window, kind, padding, strides=strides)
    expected = _pool_reference(x, window, strides, padding,
                               np.max if kind == "MAX" else np.mean)
    assert y.shape.as_list() == list(expected.shape)
    np.testing.assert_allclose(_run(y), expected, rtol=1e-5, atol=1e-6)
    pooled = y if len(window) > 1 else y.op.inputs[0]  # 1-D: squeezed after a 2-D pool
    suffix = "3D" if len(window) == 3 else ""
    assert pooled.op.type == ("MaxPool" if kind == "MAX" else "AvgPool") + suffix


def test_pool_channels_first_and_names(executor):
    x = _rng.randn(2, 3, 8, 6).astype(np.float32)
    y = tf.nn.pool(x, [2, 2], "MAX", "VALID", strides=[2, 2], data_format="NCHW")
    expected = _pool_reference(np.transpose(x, [0, 2, 3, 1]), [2, 2], [2, 2], "VALID", np.max)
    np.testing.assert_allclose(np.transpose(_run(y), [0, 2, 3, 1]), expected)
    assert y.op.name == "max_pool"
    assert tf.nn.pool(x, [2, 2], "AVG", "VALID", data_format="NCHW").op.name == "avg_pool"
    x3 = _rng.randn(2, 3, 4, 6, 5).astype(np.float32)
    y3 = tf.nn.pool(x3, [2, 3, 2], "AVG", "SAME", strides=[1, 2, 2], data_format="NCDHW",
                    name="pool3")
    expected = _pool_reference(np.transpose(x3, [0, 2, 3, 4, 1]), [2, 3, 2], [1, 2, 2], "SAME",
                               np.mean)
    np.testing.assert_allclose(np.transpose(_run(y3), [0, 2, 3, 4, 1]), expected, rtol=1e-5,
                               atol=1e-6)
    assert (y3.op.name, y3.op.type, y3.shape.as_list()) == ("pool3", "AvgPool3D",
                                                            [2, 3, 4, 3, 3])


def test_convolution_and_pool_errors():
    x4 = tf.zeros([1, 8, 8, 3])
    w4 = tf.zeros([3, 3, 3, 2])
    with pytest.raises(ValueError, match="strides > 1"):
        tf.nn.convolution(x4, w4, "SAME", strides=[2, 2], dilation_rate=[2, 2])
    with pytest.raises(ValueError, match="data_format"):
        tf.nn.convolution(x4, w4, "SAME", data_format="NCW")
    with pytest.raises(ValueError, match="num_spatial_dims"):
        tf.nn.convolution(tf.zeros([1, 8, 8, 8, 8, 3]), tf.zeros([1, 1, 1, 1, 3, 2]), "SAME")
    with pytest.raises(ValueError, match="length"):
        tf.nn.convolution(x4, w4, "SAME", strides=[1, 1, 1])
    with pytest.raises(ValueError, match="rank"):
        tf.nn.convolution(x4, tf.zeros([3, 3, 3]), "SAME")
    with pytest.raises(ValueError, match="pooling_type"):
        tf.nn.pool(x4, [2, 2], "MIN", "SAME")
    with pytest.raises(ValueError, match="window_shape"):
        tf.nn.pool(x4, [2, 2], "MAX", "SAME", strides=[3, 3])
    with pytest.raises(ValueError, match="'SAME' padding"):
        tf.nn.pool(x4, [2, 2], "MAX", "SAME", dilation_rate=[2, 2])
    with pytest.raises(ValueError, match="strides > 1"):
        tf.nn.pool(x4, [2, 2], "MAX", "VALID", strides=[2, 1], dilation_rate=[1, 2])
    with pytest.raises(ValueError, match="positive"):
        tf.nn.pool(x4, [2, 2], "MAX", "VALID", dilation_rate=[0, 2])
    with pytest.raises(ValueError, match="rank"):
        tf.nn.pool(x4, [2], "MAX", "VALID")



# Dilated pools: (input shape, window, dilation, kind); TF allows a dilation above 1 only with
# VALID padding and strides of 1. The first 2-D case divides evenly (nothing to crop).
DILATED_POOLS = [
    ((2, 11, 3), [3], [2], "MAX"),
    ((2, 10, 3), [2], [3], "AVG"),
    ((2, 8, 8, 3), [2, 3], [2, 2], "MAX"),
    ((2, 9, 8, 3), [2, 3], [2, 2], "AVG"),
    ((2, 9, 10, 2), [3, 2], [2, 3], "MAX"),
    ((1, 7, 6, 5, 2), [2, 2, 2], [2, 1, 2], "AVG"),
]
_CHANNELS_FIRST = {1: "NCW", 2: "NCHW", 3: "NCDHW"}


@pytest.mark.parametrize("x_shape, window, dilations, kind", DILATED_POOLS)
def test_dilated_pool_matches_the_reference(executor, x_shape, window, dilations, kind):
    x = _rng.randn(*x_shape).astype(np.float32)
    expected = _pool_reference(x, window, [1] * len(window), "VALID",
                               np.max if kind == "MAX" else np.mean, dilations)
    static = tf.nn.pool(x, window, kind, "VALID", dilation_rate=dilations)
    unknown = tf.placeholder(tf.float32, [None] * len(x_shape))
    dynamic = tf.nn.pool(unknown, window, kind, "VALID", dilations=dilations)
    first = tf.nn.pool(np.moveaxis(x, -1, 1), window, kind, "VALID", dilation_rate=dilations,
                       data_format=_CHANNELS_FIRST[len(window)])
    assert static.shape.as_list() == list(expected.shape)
    with tf.Session() as sess:
        got_static, got_dynamic, got_first = sess.run([static, dynamic, first],
                                                      {unknown: x})
    np.testing.assert_allclose(got_static, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got_dynamic, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.moveaxis(got_first, 1, -1), expected, rtol=1e-5, atol=1e-6)
    # Built as TF builds it: the undilated pool op between SpaceToBatchND and BatchToSpaceND.
    pool_types = {op.type for op in static.graph.get_operations()
                  if op.name.startswith(static.op.name.split("/")[0])}
    assert ("MaxPool" if kind == "MAX" else "AvgPool") + ("3D" if len(window) == 3 else "") \
        in pool_types
    assert {"SpaceToBatchND", "BatchToSpaceND"} <= pool_types


def test_dilated_pool_values_by_hand(executor):
    # Checked by hand against TF's compat.v1 nn.pool: a window of 2 dilated by 2 pairs x[i]
    # with x[i + 2].
    x = np.array([1, 5, 2, 8, 3, 0, 4], np.float32).reshape(1, 7, 1)
    got_max, got_avg = _run([tf.nn.pool(x, [2], "MAX", "VALID", dilation_rate=[2]),
                             tf.nn.pool(x, [2], "AVG", "VALID", dilation_rate=[2])])
    np.testing.assert_array_equal(got_max.ravel(), [2, 8, 3, 8, 4])
    np.testing.assert_array_equal(got_avg.ravel(), [1.5, 6.5, 2.5, 4, 3.5])


@pytest.mark.parametrize("kind, op_type", [("MAX", "MaxPool"), ("AVG", "AvgPool")])
def test_dilated_pool_gradient(kind, op_type):
    check_case(GradCase(op_type, lambda x: tf.nn.pool(x, [2, 2], kind, "VALID",
                                                      dilation_rate=[2, 3]),
                        [distinct_values(_rng, 2, 7, 8, 2)], id=f"pool-dilated-{kind}",
                        tolerance=1e-5))


def test_with_space_to_batch(executor):
    x = _rng.randn(2, 9, 8, 3).astype(np.float32)
    w = _rng.randn(3, 2, 3, 4).astype(np.float32)

    def conv(converted, num_spatial, padding):
        assert num_spatial == 2
        return tf.nn.conv2d(converted, w, [1, 1, 1, 1], padding)

    same = tf.nn.with_space_to_batch(x, [2, 3], "SAME", conv, filter_shape=[3, 2])
    valid = tf.nn.with_space_to_batch(x, [3, 2], "VALID", conv)
    plain = tf.nn.with_space_to_batch(x, [1, 1], "SAME", conv)
    assert plain.op.type == "Conv2D"
    got_same, got_valid, got_plain = _run([same, valid, plain])
    np.testing.assert_allclose(got_same, _conv_reference(x, w, [1, 1], [2, 3], "SAME"),
                               rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(got_valid, _conv_reference(x, w, [1, 1], [3, 2], "VALID"),
                               rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(got_plain, _conv_reference(x, w, [1, 1], [1, 1], "SAME"),
                               rtol=1e-4, atol=1e-4)
    # Spatial dimensions that are not the first: the window runs over axis 2 of [b, c, w].
    x3 = _rng.randn(2, 3, 9).astype(np.float32)

    def max_over_last(converted, num_spatial, padding):
        return tf.squeeze(tf.nn.max_pool(tf.expand_dims(converted, 3), [1, 1, 2, 1],
                                         [1, 1, 1, 1], padding), [3])

    got = _run(tf.nn.with_space_to_batch(x3, [3], "VALID", max_over_last, spatial_dims=[2]))
    np.testing.assert_array_equal(got, np.maximum(x3[:, :, :-3], x3[:, :, 3:]))
    with pytest.raises(ValueError, match="filter_shape"):
        tf.nn.with_space_to_batch(x, [2, 2], "SAME", conv)
    with pytest.raises(ValueError, match="padding"):
        tf.nn.with_space_to_batch(x, [2, 2], "FULL", conv)
    with pytest.raises(ValueError, match="spatial_dims"):
        tf.nn.with_space_to_batch(x, [2, 2], "VALID", conv, spatial_dims=[2, 1])
    with pytest.raises(ValueError, match="positive"):
        tf.nn.with_space_to_batch(x, [0, 2], "VALID", conv)

# ---- max_pool_with_argmax ------------------------------------------------------------------

def _argmax_reference(x, window, strides, padding, with_batch):
    batch, height, width, channels = x.shape
    (out_h, top), (out_w, left) = (_pads(height, window[0], strides[0], 1, padding),
                                   _pads(width, window[1], strides[1], 1, padding))
    values = np.zeros((batch, out_h, out_w, channels), x.dtype)
    indices = np.zeros((batch, out_h, out_w, channels), np.int64)
    for b, i, j, c in itertools.product(range(batch), range(out_h), range(out_w),
                                        range(channels)):
        best = None
        for dy, dx in itertools.product(range(window[0]), range(window[1])):
            y, z = i * strides[0] - top + dy, j * strides[1] - left + dx
            if 0 <= y < height and 0 <= z < width and (best is None or
                                                       x[b, y, z, c] > best[0]):
                best = (x[b, y, z, c], (y * width + z) * channels + c)
        values[b, i, j, c] = best[0]
        indices[b, i, j, c] = best[1] + (b * height * width * channels if with_batch else 0)
    return values, indices


@pytest.mark.parametrize("window, strides, padding, with_batch", [
    ([3, 3], [2, 2], "VALID", False), ([3, 2], [2, 1], "SAME", False),
    ([2, 2], [2, 2], "SAME", True), ([3, 3], [1, 1], "SAME", True)])
def test_max_pool_with_argmax(executor, window, strides, padding, with_batch):
    # Small integers make ties: the first in row-major window order wins, as in TF.
    x = _rng.randint(0, 4, (2, 7, 6, 3)).astype(np.float32)
    values, indices = tf.nn.max_pool_with_argmax(x, [1] + window + [1], [1] + strides + [1],
                                                 padding,
                                                 include_batch_in_index=with_batch)
    assert indices.dtype == tf.int64 and values.shape == indices.shape
    got_values, got_indices = _run([values, indices])
    ref_values, ref_indices = _argmax_reference(x, window, strides, padding, with_batch)
    np.testing.assert_array_equal(got_values, ref_values)
    np.testing.assert_array_equal(got_indices, ref_indices)
    np.testing.assert_array_equal(np.take(x, got_indices if with_batch else
                                          got_indices + np.arange(2).reshape(2, 1, 1, 1)
                                          * x[0].size), got_values)


def test_max_pool_with_argmax_dtypes_gradient_and_errors(executor):
    x = tf.placeholder(tf.float32, [None, 4, 4, 2])
    values, indices = tf.nn.max_pool_with_argmax(x, 2, 2, "VALID", Targmax=tf.int32)
    assert indices.dtype == tf.int32 and values.shape.as_list() == [None, 2, 2, 2]
    grad, = tf.gradients(tf.reduce_sum(values), [x])
    x_value = _rng.randn(3, 4, 4, 2).astype(np.float32)
    got_grad, got_indices = _run([grad, indices], {x: x_value})
    # The gradient lands on each window's maximum, where the index points.
    expected = np.zeros(x_value.size, np.float32)
    flat = (got_indices + np.arange(3).reshape(3, 1, 1, 1) * x_value[0].size).ravel()
    expected[flat] = 1.0
    np.testing.assert_array_equal(got_grad.ravel(), expected)
    with pytest.raises(ValueError, match="NHWC"):
        tf.nn.max_pool_with_argmax(x, 2, 2, "VALID", data_format="NCHW")
    with pytest.raises(ValueError, match="int32 or int64"):
        tf.nn.max_pool_with_argmax(x, 2, 2, "VALID", output_dtype=tf.float32)
    with pytest.raises(ValueError, match="known height"):
        tf.nn.max_pool_with_argmax(tf.placeholder(tf.float32, [1, None, 4, 2]), 2, 2, "VALID")
    with pytest.raises(ValueError, match="batch"):
        tf.nn.max_pool_with_argmax(x, [2, 2, 2, 2], 2, "VALID")
