"""Numeric gradient checks of the convolution and pooling ops (float64, small shapes).

Each case covers SAME and VALID padding, strides 2 and dilation 2 where the op takes them; the
backprop ops are checked too, since `conv2d_transpose` (Conv2DBackpropInput) is trained and
second derivatives go through them.
"""

import numpy as np
import pytest

import sessionlib as tf
from _gradient_check import GradCase, case_ids, check_case, distinct_values

_RNG = np.random.RandomState(11)


def _r(*shape):
    return _RNG.uniform(-1.0, 1.0, size=shape)


def _conv_case(padding, strides, dilations, name):
    return GradCase(
        "Conv2D",
        lambda x, w: tf.nn.conv2d(x, w, strides, padding, dilations=dilations),
        [_r(2, 5, 6, 2), _r(3, 2, 2, 3)], id=f"Conv2D-{name}")


def _backprop_input(padding, strides, dilations):
    def build(w, dy):
        return tf.nn.conv2d_backprop_input([2, 5, 6, 2], w, dy, strides, padding,
                                           dilations=dilations)
    return build


def _backprop_filter(padding, strides, dilations):
    def build(x, dy):
        return tf.nn.conv2d_backprop_filter(x, [3, 2, 2, 3], dy, strides, padding,
                                            dilations=dilations)
    return build


def _out_shape(padding, strides, dilations, window=(3, 2), size=(5, 6)):
    dims = []
    for n, k, s, d in zip(size, window, (strides, strides), (dilations, dilations)):
        eff = (k - 1) * d + 1
        dims.append(-(-n // s) if padding == "SAME" else (n - eff) // s + 1)
    return dims


def _avg_pool_grad(grad):
    graph = tf.get_default_graph()
    sizes = tf.constant([2, 5, 6, 2], dtype=tf.int32)
    attrs = {"ksize": [1, 3, 3, 1], "strides": [1, 2, 2, 1], "padding": "SAME",
             "data_format": "NHWC"}
    return graph.create_op("AvgPoolGrad", [sizes, grad], attrs).outputs[0]


_CONV_CONFIGS = [("SAME", 1, 1, "same"), ("VALID", 1, 1, "valid"),
                 ("SAME", 2, 1, "same-stride2"), ("VALID", 2, 1, "valid-stride2"),
                 ("SAME", 1, 2, "same-dilation2"), ("VALID", 1, 2, "valid-dilation2")]


def _depthwise_case(padding, strides, rate, name):
    return GradCase(
        "DepthwiseConv2dNative",
        lambda x, w: tf.nn.depthwise_conv2d(x, w, [1, strides, strides, 1], padding,
                                            rate=[rate, rate]),
        [_r(2, 5, 6, 2), _r(3, 2, 2, 2)], id=f"DepthwiseConv2dNative-{name}")


GRADIENT_CASES = (
    [_conv_case(p, s, d, name) for p, s, d, name in _CONV_CONFIGS]
    + [GradCase("Conv2DBackpropInput", _backprop_input(p, s, d),
                [_r(3, 2, 2, 3), _r(2, *_out_shape(p, s, d), 3)],
                id=f"Conv2DBackpropInput-{name}")
       for p, s, d, name in _CONV_CONFIGS[1:5]]
    + [GradCase("Conv2DBackpropFilter", _backprop_filter(p, s, d),
                [_r(2, 5, 6, 2), _r(2, *_out_shape(p, s, d), 3)],
                id=f"Conv2DBackpropFilter-{name}")
       for p, s, d, name in _CONV_CONFIGS[1:5]]
    + [GradCase("Conv2DBackpropInput",
                lambda v, w: tf.nn.conv2d_transpose(v, w, [1, 6, 5, 2], [1, 2, 2, 1], "SAME"),
                [_r(1, 3, 3, 3), _r(3, 3, 2, 3)], id="conv2d_transpose-same-stride2")]
    + [_depthwise_case(p, s, d, name) for p, s, d, name in _CONV_CONFIGS]
    + [GradCase("DepthwiseConv2dNativeBackpropInput",
                lambda w, dy: tf.nn.depthwise_conv2d_native_backprop_input(
                    [2, 5, 6, 2], w, dy, [1, 2, 2, 1], "SAME"),
                [_r(3, 2, 2, 2), _r(2, 3, 3, 4)],
                id="DepthwiseConv2dNativeBackpropInput-same-stride2"),
       GradCase("DepthwiseConv2dNativeBackpropFilter",
                lambda x, dy: tf.nn.depthwise_conv2d_native_backprop_filter(
                    x, [3, 2, 2, 2], dy, [1, 1, 1, 1], "VALID", dilations=[1, 2, 2, 1]),
                [_r(2, 5, 6, 2), _r(2, 1, 4, 4)],
                id="DepthwiseConv2dNativeBackpropFilter-valid-dilation2")]
    + [GradCase("MaxPool",
                lambda x, k=k, s=s, p=p: tf.nn.max_pool(x, k, s, p),
                [distinct_values(_RNG, 2, 5, 6, 2)], delta=1e-4, id=f"MaxPool-{name}")
       for k, s, p, name in [(2, 2, "SAME", "same-stride2"), (3, 2, "VALID", "valid-stride2"),
                             ([3, 2], 1, "SAME", "same-overlap")]]
    + [GradCase("AvgPool",
                lambda x, k=k, s=s, p=p: tf.nn.avg_pool(x, k, s, p),
                [_r(2, 5, 6, 2)], id=f"AvgPool-{name}")
       for k, s, p, name in [(2, 2, "SAME", "same-stride2"), (3, 2, "VALID", "valid-stride2"),
                             ([3, 2], 1, "SAME", "same-overlap")]]
    + [GradCase("AvgPoolGrad", _avg_pool_grad, [_r(2, 3, 3, 2)],
                id="AvgPoolGrad-same-stride2")]
)


@pytest.mark.parametrize("case", GRADIENT_CASES, ids=case_ids(GRADIENT_CASES))
def test_gradient(case):
    check_case(case)
