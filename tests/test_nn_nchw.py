"""channels_first: the image ops with ``data_format='NCHW'`` (and the 1-D ops with 'NCW') give
the NHWC results transposed, forward and backward, on both executors.

TF's CPU kernels refuse NCHW for the convolutions and pools; sessionlib runs it (see
``runtime/kernels/convolution_kernels.py``), so the NHWC path, itself checked against naive
definitions in ``test_convolution.py``, is the expectation here.
"""

import numpy as np
import pytest

import sessionlib as tf
from _gradient_check import GradCase, case_ids, check_case, distinct_values

_RNG = np.random.RandomState(17)
_TO_NCHW = (0, 3, 1, 2)
_TO_NHWC = (0, 2, 3, 1)


def _r(*shape):
    return _RNG.uniform(-1.0, 1.0, size=shape)


def _nchw(x):
    return np.ascontiguousarray(np.transpose(x, _TO_NCHW))


def _compare(build, x, others=(), rtol=1e-12):
    """build(x, *others, data_format) in NHWC and NCHW: values and all input gradients."""
    graph = tf.Graph()
    with graph.as_default():
        x_nhwc = tf.constant(x)
        x_nchw = tf.constant(_nchw(x))
        consts = [tf.constant(v) for v in others]
        y_nhwc = build(x_nhwc, *consts, data_format="NHWC")
        y_nchw = build(x_nchw, *consts, data_format="NCHW")
        weight = _r(*y_nhwc.shape.as_list())
        loss_nhwc = tf.reduce_sum(y_nhwc * weight)
        loss_nchw = tf.reduce_sum(y_nchw * _nchw(weight))
        grads_nhwc = tf.gradients(loss_nhwc, [x_nhwc] + consts)
        grads_nchw = tf.gradients(loss_nchw, [x_nchw] + consts)
    with tf.Session(graph=graph) as sess:
        (a, ga), (b, gb) = sess.run([(y_nhwc, grads_nhwc), (y_nchw, grads_nchw)])
    assert b.shape == tuple(np.transpose(a, _TO_NCHW).shape)
    np.testing.assert_allclose(b, np.transpose(a, _TO_NCHW), rtol=rtol, atol=1e-12)
    np.testing.assert_allclose(np.transpose(gb[0], _TO_NHWC), ga[0], rtol=rtol, atol=1e-12)
    for g_nchw, g_nhwc in zip(gb[1:], ga[1:]):
        np.testing.assert_allclose(g_nchw, g_nhwc, rtol=rtol, atol=1e-12)


_CONV_CONFIGS = [(1, "SAME", 1), (2, "SAME", 1), (2, "VALID", 1), (1, "VALID", 2),
                 (1, "SAME", 2)]


@pytest.mark.parametrize("stride,padding,dilation", _CONV_CONFIGS)
def test_conv2d(executor, stride, padding, dilation):
    _compare(lambda x, w, data_format: tf.nn.conv2d(x, w, stride, padding,
                                                    data_format=data_format,
                                                    dilations=dilation),
             _r(2, 7, 6, 3), [_r(3, 2, 3, 4)])


def test_conv2d_explicit_padding_and_4_value_strides(executor):
    def build(x, w, data_format):
        if data_format == "NHWC":
            return tf.nn.conv2d(x, w, [1, 2, 3, 1], [[0, 0], [1, 2], [0, 1], [0, 0]])
        return tf.nn.conv2d(x, w, [1, 1, 2, 3], [[0, 0], [0, 0], [1, 2], [0, 1]],
                            data_format="NCHW")
    _compare(build, _r(2, 7, 8, 3), [_r(3, 2, 3, 2)])


def test_conv2d_transpose(executor):
    def build(v, w, data_format):
        shape = [2, 7, 6, 3] if data_format == "NHWC" else [2, 3, 7, 6]
        return tf.nn.conv2d_transpose(v, w, shape, 2, "SAME", data_format=data_format)
    _compare(build, _r(2, 4, 3, 4), [_r(3, 2, 3, 4)])


@pytest.mark.parametrize("stride,padding,rate", [(1, "SAME", 1), (2, "VALID", 1),
                                                 (1, "SAME", 2)])
def test_depthwise_conv2d(executor, stride, padding, rate):
    _compare(lambda x, w, data_format: tf.nn.depthwise_conv2d(
        x, w, [1, stride, stride, 1] if data_format == "NHWC" else [1, 1, stride, stride],
        padding, rate=[rate, rate], data_format=data_format),
        _r(2, 7, 6, 3), [_r(3, 2, 3, 2)])


def test_separable_conv2d(executor):
    _compare(lambda x, dw, pw, data_format: tf.nn.separable_conv2d(
        x, dw, pw, 1, "SAME", rate=2, data_format=data_format),
        _r(2, 7, 6, 3), [_r(3, 2, 3, 2), _r(1, 1, 6, 4)])


@pytest.mark.parametrize("pool", ["max", "avg"])
@pytest.mark.parametrize("ksize,stride,padding", [(2, 2, "SAME"), (3, 2, "VALID"),
                                                  ([3, 2], 1, "SAME")])
def test_pools(executor, pool, ksize, stride, padding):
    op = tf.nn.max_pool if pool == "max" else tf.nn.avg_pool
    _compare(lambda x, data_format: op(x, ksize, stride, padding, data_format=data_format),
             distinct_values(_RNG, 2, 7, 6, 3))


def test_four_value_pool_attrs_are_in_the_data_format(executor):
    x = _r(1, 6, 4, 2)
    with tf.Session() as sess:
        a, b = sess.run([tf.nn.max_pool(x, [1, 3, 2, 1], [1, 2, 1, 1], "VALID"),
                         tf.nn.max_pool(_nchw(x), [1, 1, 3, 2], [1, 1, 2, 1], "VALID",
                                        data_format="NCHW")])
    np.testing.assert_array_equal(b, np.transpose(a, _TO_NCHW))


def test_bias_add(executor):
    _compare(lambda x, b, data_format: tf.nn.bias_add(x, b, data_format=data_format),
             _r(2, 3, 4, 5), [_r(5)])


def test_fused_batch_norm(executor):
    def build(x, scale, offset, data_format):
        return tf.nn.fused_batch_norm(x, scale, offset, data_format=data_format)[0]
    _compare(build, _r(2, 3, 4, 5), [_r(5) + 2.0, _r(5)], rtol=1e-10)


def test_conv1d_and_pool1d_ncw(executor):
    x, w = _r(2, 9, 3), _r(3, 3, 4)
    ncw = np.ascontiguousarray(np.transpose(x, (0, 2, 1)))
    with tf.Session() as sess:
        got = sess.run([tf.nn.conv1d(x, w, 2, "SAME"),
                        tf.nn.conv1d(ncw, w, 2, "SAME", data_format="NCW"),
                        tf.nn.max_pool1d(x, 3, 2, "VALID"),
                        tf.nn.max_pool1d(ncw, 3, 2, "VALID", data_format="NCW"),
                        tf.nn.avg_pool1d(x, 2, 1, "SAME"),
                        tf.nn.avg_pool1d(ncw, 2, 1, "SAME", data_format="NCW")])
    for nwc, ncw_out in zip(got[::2], got[1::2]):
        np.testing.assert_allclose(ncw_out, np.transpose(nwc, (0, 2, 1)), atol=1e-12)


def test_backprop_ops_in_nchw(executor):
    # The backprop ops are public too (conv2d_backprop_*): NCHW sizes are NCHW shapes.
    w, dy = _r(3, 2, 3, 4), _r(2, 4, 3, 4)
    x = _r(2, 7, 6, 3)
    with tf.Session() as sess:
        dx_a, dx_b, dw_a, dw_b = sess.run([
            tf.nn.conv2d_backprop_input([2, 7, 6, 3], w, dy, 2, "SAME"),
            tf.nn.conv2d_backprop_input([2, 3, 7, 6], w, _nchw(dy), 2, "SAME",
                                        data_format="NCHW"),
            tf.nn.conv2d_backprop_filter(x, [3, 2, 3, 4], dy, 2, "SAME"),
            tf.nn.conv2d_backprop_filter(_nchw(x), [3, 2, 3, 4], _nchw(dy), 2, "SAME",
                                         data_format="NCHW")])
    np.testing.assert_allclose(dx_b, _nchw(dx_a), atol=1e-12)
    np.testing.assert_allclose(dw_b, dw_a, atol=1e-12)


def test_nchw_shapes_and_run_time_errors():
    p = tf.placeholder(tf.float32, None)
    w = tf.placeholder(tf.float32, None)
    y = tf.nn.conv2d(tf.zeros([2, 3, 7, 8]), tf.zeros([3, 2, 3, 4]), 2, "SAME",
                     data_format="NCHW")
    assert y.shape.as_list() == [2, 4, 4, 4]
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError):
            sess.run(tf.nn.conv2d(p, w, 1, "SAME", data_format="NCHW"),
                     {p: np.zeros((3, 7, 8)), w: np.zeros((3, 2, 3, 4))})
        with pytest.raises(tf.errors.InvalidArgumentError):
            sess.run(tf.nn.conv2d(p, w, 1, "SAME", data_format="NCHW"),
                     {p: np.zeros((2, 5, 7, 8)), w: np.zeros((3, 2, 3, 4))})
        with pytest.raises(tf.errors.UnimplementedError):
            sess.run(tf.nn.conv2d(p, w, [1, 2, 1, 1], "SAME", data_format="NCHW"),
                     {p: np.zeros((2, 3, 7, 8)), w: np.zeros((3, 2, 3, 4))})
        with pytest.raises(tf.errors.InvalidArgumentError):
            sess.run(tf.nn.max_pool(p, 3, 1, "VALID", data_format="NCHW"),
                     {p: np.zeros((1, 2, 2, 8))})


GRADIENT_CASES = [
    GradCase("Conv2D", lambda x, w: tf.nn.conv2d(x, w, 2, "SAME", data_format="NCHW"),
             [_r(2, 2, 5, 6), _r(3, 2, 2, 3)], id="Conv2D-NCHW-same-stride2"),
    GradCase("Conv2DBackpropInput",
             lambda v, w: tf.nn.conv2d_transpose(v, w, [1, 2, 6, 5], 2, "SAME",
                                                 data_format="NCHW"),
             [_r(1, 3, 3, 3), _r(3, 3, 2, 3)], id="conv2d_transpose-NCHW"),
    GradCase("DepthwiseConv2dNative",
             lambda x, w: tf.nn.depthwise_conv2d(x, w, [1, 1, 1, 1], "VALID", rate=[2, 2],
                                                 data_format="NCHW"),
             [_r(2, 2, 5, 6), _r(2, 2, 2, 2)], id="DepthwiseConv2dNative-NCHW-dilation2"),
    GradCase("MaxPool", lambda x: tf.nn.max_pool(x, 2, 2, "SAME", data_format="NCHW"),
             [distinct_values(_RNG, 2, 2, 5, 6)], delta=1e-4, id="MaxPool-NCHW"),
    GradCase("AvgPool", lambda x: tf.nn.avg_pool(x, 3, 2, "VALID", data_format="NCHW"),
             [_r(2, 2, 5, 6)], id="AvgPool-NCHW"),
    GradCase("Conv2D", lambda x, w: tf.nn.conv1d(x, w, 1, "SAME", data_format="NCW"),
             [_r(2, 3, 6), _r(3, 3, 2)], id="conv1d-NCW"),
]


@pytest.mark.parametrize("case", GRADIENT_CASES, ids=case_ids(GRADIENT_CASES))
def test_gradient(case):
    check_case(case)
