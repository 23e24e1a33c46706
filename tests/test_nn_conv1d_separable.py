"""``tf.nn.conv1d``, ``max_pool1d``, ``avg_pool1d`` and ``separable_conv2d``: graphs of the 2-D
ops, checked for TF's graph (op names and attrs, checked against TF 2.21), their values
(against naive numpy definitions) and their gradients (numerically, through the 2-D ops).
"""

import itertools

import numpy as np
import pytest

import sessionlib as tf
from _gradient_check import GradCase, case_ids, check_case

_RNG = np.random.RandomState(5)


def _r(*shape):
    return _RNG.uniform(-1.0, 1.0, size=shape)


def _pads(size, window, stride, dilation, padding):
    """(out, pad_before, pad_after) of TF's windowed geometry, for one dimension."""
    effective = (window - 1) * dilation + 1
    if padding == "VALID":
        return (size - effective) // stride + 1, 0, 0
    out = -(-size // stride)
    total = max((out - 1) * stride + effective - size, 0)
    return out, total // 2, total - total // 2


def _naive_conv1d(x, w, stride, padding, dilation=1):
    """NWC `x` [n, w, c] with [k, c, o] `w`, one output element at a time."""
    n, width, c = x.shape
    k, _, o = w.shape
    out_w, before, after = _pads(width, k, stride, dilation, padding)
    padded = np.zeros((n, width + before + after, c))
    padded[:, before:before + width] = x
    out = np.zeros((n, out_w, o))
    for b, i in itertools.product(range(n), range(out_w)):
        for j in range(k):
            out[b, i] += padded[b, i * stride + j * dilation] @ w[j]
    return out


def _naive_pool1d(x, k, stride, padding, reduce):
    n, width, c = x.shape
    out_w, before, _ = _pads(width, k, stride, 1, padding)
    out = np.zeros((n, out_w, c))
    for i in range(out_w):
        start = i * stride - before
        window = x[:, max(start, 0):min(start + k, width)]
        out[:, i] = reduce(window, axis=1)
    return out


def _naive_depthwise(x, w, stride, padding, rate):
    n, h, width, c = x.shape
    kh, kw, _, m = w.shape
    oh, top, bottom = _pads(h, kh, stride, rate, padding)
    ow, left, right = _pads(width, kw, stride, rate, padding)
    padded = np.zeros((n, h + top + bottom, width + left + right, c))
    padded[:, top:top + h, left:left + width] = x
    out = np.zeros((n, oh, ow, c, m))
    for i, j, di, dj in itertools.product(range(oh), range(ow), range(kh), range(kw)):
        out[:, i, j] += (padded[:, i * stride + di * rate, j * stride + dj * rate, :, None]
                         * w[di, dj])
    return out.reshape(n, oh, ow, c * m)


def _run(fetches, feeds=None):
    with tf.Session() as sess:
        return sess.run(fetches, feeds)


# ---- graphs: TF's op names and attrs ----------------------------------------------------------

def test_conv1d_graph_is_tfs():
    # Checked against TF 2.21: conv1d/ExpandDims, conv1d/ExpandDims_1, the Conv2D named
    # conv1d (strides [1, 1, 2, 1]) and conv1d/Squeeze with squeeze_dims [-3].
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [2, 7, 3])
        w = tf.placeholder(tf.float32, [3, 3, 4])
        y = tf.nn.conv1d(x, w, 2, "SAME")
        assert y.shape.as_list() == [2, 4, 4]
        assert y.op.name == "conv1d/Squeeze" and y.op.get_attr("squeeze_dims") == [-3]
        conv = graph.get_operation_by_name("conv1d")
        assert conv.type == "Conv2D"
        assert conv.get_attr("strides") == [1, 1, 2, 1]
        assert [t.op.name for t in conv.inputs] == ["conv1d/ExpandDims", "conv1d/ExpandDims_1"]
        assert conv.inputs[0].shape.as_list() == [2, 1, 7, 3]
        assert conv.inputs[1].shape.as_list() == [1, 3, 3, 4]
        ncw = tf.nn.conv1d(tf.placeholder(tf.float32, [2, 3, 7]), w, 2, "SAME",
                           data_format="NCW", name="c")
        # NCW: a Conv2D in NCHW with strides [1, 1, 1, 2], squeezed at -2 (TF 2.21).
        assert ncw.shape.as_list() == [2, 4, 4]
        assert ncw.op.get_attr("squeeze_dims") == [-2]
        assert graph.get_operation_by_name("c").get_attr("strides") == [1, 1, 1, 2]
        assert graph.get_operation_by_name("c").get_attr("data_format") == "NCHW"


def test_pool1d_graphs_are_tfs():
    # TF 2.21: MaxPool1d/ExpandDims (axis 1), a MaxPool named MaxPool1d, MaxPool1d/Squeeze
    # ([1]); avg_pool1d the same under AvgPool1D; NCW expands and squeezes axis 2.
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [2, 7, 3])
        m = tf.nn.max_pool1d(x, 2, 2, "SAME")
        a = tf.nn.avg_pool1d(x, 3, 1, "VALID")
        assert m.shape.as_list() == [2, 4, 3] and a.shape.as_list() == [2, 5, 3]
        assert m.op.name == "MaxPool1d/Squeeze" and a.op.name == "AvgPool1D/Squeeze"
        pool = graph.get_operation_by_name("MaxPool1d")
        assert pool.type == "MaxPool"
        assert pool.get_attr("ksize") == [1, 1, 2, 1] and pool.get_attr("strides") == [1, 1, 2, 1]
        assert graph.get_operation_by_name("AvgPool1D").get_attr("ksize") == [1, 1, 3, 1]
        mc = tf.nn.max_pool1d(tf.placeholder(tf.float32, [2, 3, 7]), 2, 2, "SAME",
                              data_format="NCW")
        assert mc.shape.as_list() == [2, 3, 4] and mc.op.get_attr("squeeze_dims") == [2]
        assert graph.get_operation_by_name("MaxPool1d_1").get_attr("ksize") == [1, 1, 1, 2]


def test_separable_conv2d_graph_is_tfs():
    # TF 2.21: separable_conv2d/depthwise (DepthwiseConv2dNative) then the 1x1 Conv2D named
    # separable_conv2d, strides [1, 1, 1, 1], padding VALID.
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [2, 7, 6, 3])
        y = tf.nn.separable_conv2d(x, tf.zeros([3, 3, 3, 2]), tf.zeros([1, 1, 6, 4]),
                                   [1, 2, 2, 1], "VALID")
        assert y.shape.as_list() == [2, 3, 2, 4]
        assert y.op.name == "separable_conv2d" and y.op.type == "Conv2D"
        assert y.op.get_attr("padding") == "VALID"
        assert y.op.get_attr("strides") == [1, 1, 1, 1]
        depthwise = y.op.inputs[0].op
        assert depthwise.name == "separable_conv2d/depthwise"
        assert depthwise.type == "DepthwiseConv2dNative"
        assert depthwise.get_attr("strides") == [1, 2, 2, 1]
        dilated = tf.nn.separable_conv2d(x, tf.zeros([3, 3, 3, 2]), tf.zeros([1, 1, 6, 4]),
                                         [1, 1, 1, 1], "SAME", rate=[2, 2])
        assert dilated.shape.as_list() == [2, 7, 6, 4]
        assert dilated.op.inputs[0].op.get_attr("dilations") == [1, 2, 2, 1]


def test_graph_time_errors():
    x = tf.placeholder(tf.float32, [2, 7, 6, 3])
    dw = tf.zeros([3, 3, 3, 2])
    # TF 2.21's messages: the pointwise input depth, and a pointwise filter that is not 1x1.
    with pytest.raises(ValueError, match=r"Depth of input \(6\) is not a multiple of input "
                                         r"depth of filter \(5\)"):
        tf.nn.separable_conv2d(x, dw, tf.zeros([1, 1, 5, 4]), 1, "SAME")
    with pytest.raises(ValueError, match="Dimensions 2 and 1 are not compatible"):
        tf.nn.separable_conv2d(x, dw, tf.zeros([2, 1, 6, 4]), 1, "SAME")
    with pytest.raises(ValueError, match="strides must be 1"):
        tf.nn.separable_conv2d(x, dw, tf.zeros([1, 1, 6, 4]), 2, "SAME", rate=2)
    with pytest.raises(ValueError):
        tf.nn.conv1d(tf.zeros([2, 7, 3, 1]), tf.zeros([3, 3, 4]), 1, "SAME")
    with pytest.raises(ValueError, match="Negative dimension size"):
        tf.nn.conv1d(tf.zeros([2, 2, 3]), tf.zeros([3, 3, 4]), 1, "VALID")
    with pytest.raises(ValueError, match="data_format"):
        tf.nn.conv1d(tf.zeros([2, 7, 3]), tf.zeros([3, 3, 4]), 1, "SAME", data_format="NHC")
    with pytest.raises(ValueError):
        tf.nn.max_pool1d(tf.zeros([2, 7]), 2, 2, "SAME")


# ---- values ----------------------------------------------------------------------------------

@pytest.mark.parametrize("stride,padding,dilation", [(1, "SAME", 1), (2, "SAME", 1),
                                                     (1, "VALID", 1), (3, "VALID", 1),
                                                     (1, "SAME", 2), (1, "VALID", 2)])
def test_conv1d_values(stride, padding, dilation):
    x, w = _r(2, 9, 3), _r(3, 3, 4)
    got = _run(tf.nn.conv1d(x, w, stride, padding, dilations=dilation))
    np.testing.assert_allclose(got, _naive_conv1d(x, w, stride, padding, dilation), atol=1e-12)


def test_conv1d_float32_and_tf2_names():
    x, w = _r(1, 5, 2).astype(np.float32), _r(2, 2, 3).astype(np.float32)
    got = _run(tf.nn.conv1d(input=x, filters=w, stride=[1], padding="VALID"))
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, _naive_conv1d(x, w, 1, "VALID"), rtol=1e-5, atol=1e-6)


def test_conv1d_known_value():
    # TF 2.21: conv1d([[[1], [2], [3], [4]]], [[[1]], [[10]]], 1, 'SAME') = [21, 32, 43, 4].
    x = np.array([[[1.0], [2.0], [3.0], [4.0]]])
    w = np.array([[[1.0]], [[10.0]]])
    got = _run(tf.nn.conv1d(x, w, 1, "SAME"))
    np.testing.assert_array_equal(got.reshape(-1), [21.0, 32.0, 43.0, 4.0])


@pytest.mark.parametrize("k,stride,padding", [(2, 2, "SAME"), (3, 1, "VALID"), (3, 2, "SAME"),
                                              (2, 3, "VALID")])
def test_pool1d_values(k, stride, padding):
    x = _r(2, 8, 3)
    got_max, got_avg = _run([tf.nn.max_pool1d(x, k, stride, padding),
                             tf.nn.avg_pool1d(x, [k], [stride], padding)])
    np.testing.assert_allclose(got_max, _naive_pool1d(x, k, stride, padding, np.max))
    np.testing.assert_allclose(got_avg, _naive_pool1d(x, k, stride, padding, np.mean),
                               atol=1e-12)


@pytest.mark.parametrize("stride,padding,rate", [(1, "SAME", 1), (2, "SAME", 1),
                                                 (2, "VALID", 1), (1, "SAME", 2),
                                                 (1, "VALID", 2)])
def test_separable_conv2d_values(stride, padding, rate):
    x, dw, pw = _r(2, 7, 6, 3), _r(3, 2, 3, 2), _r(1, 1, 6, 4)
    got = _run(tf.nn.separable_conv2d(x, dw, pw, [1, stride, stride, 1], padding,
                                      rate=[rate, rate]))
    expected = _naive_depthwise(x, dw, stride, padding, rate) @ pw[0, 0]
    np.testing.assert_allclose(got, expected, atol=1e-12)


def test_separable_conv2d_tf2_dilations():
    x, dw, pw = _r(1, 6, 6, 2), _r(2, 2, 2, 1), _r(1, 1, 2, 3)
    got = _run(tf.nn.separable_conv2d(x, dw, pw, 1, "SAME", dilations=2))
    np.testing.assert_allclose(got, _naive_depthwise(x, dw, 1, "SAME", 2) @ pw[0, 0],
                               atol=1e-12)


# ---- gradients, through the 2-D ops ----------------------------------------------------------

GRADIENT_CASES = [
    GradCase("Conv2D", lambda x, w: tf.nn.conv1d(x, w, 2, "SAME"), [_r(2, 7, 3), _r(3, 3, 2)],
             id="conv1d-same-stride2"),
    GradCase("Conv2D", lambda x, w: tf.nn.conv1d(x, w, 1, "VALID", dilations=2),
             [_r(2, 7, 3), _r(2, 3, 2)], id="conv1d-valid-dilation2"),
    GradCase("MaxPool", lambda x: tf.nn.max_pool1d(x, 3, 2, "SAME"),
             [np.random.RandomState(3).permutation(42).reshape(2, 7, 3) * 0.01], delta=1e-4,
             id="max_pool1d-same-stride2"),
    GradCase("AvgPool", lambda x: tf.nn.avg_pool1d(x, 3, 2, "VALID"), [_r(2, 7, 3)],
             id="avg_pool1d-valid-stride2"),
    GradCase("DepthwiseConv2dNative",
             lambda x, dw, pw: tf.nn.separable_conv2d(x, dw, pw, [1, 2, 2, 1], "SAME"),
             [_r(1, 5, 4, 2), _r(3, 2, 2, 2), _r(1, 1, 4, 3)], id="separable_conv2d-stride2"),
    GradCase("DepthwiseConv2dNative",
             lambda x, dw, pw: tf.nn.separable_conv2d(x, dw, pw, 1, "VALID", rate=2),
             [_r(1, 6, 5, 2), _r(2, 2, 2, 1), _r(1, 1, 2, 3)], id="separable_conv2d-rate2"),
]


@pytest.mark.parametrize("case", GRADIENT_CASES, ids=case_ids(GRADIENT_CASES))
def test_gradient(case):
    check_case(case)
