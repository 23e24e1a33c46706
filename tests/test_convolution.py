"""Convolutions and pooling: values against a naive numpy loop, fast kernels against the
reference kernels (every dtype, read-only and odd-sized inputs, several threads), shapes,
values and error types checked against TF 2.21 (numbers written down from /work/tfref runs).

``PARITY_CASES`` feeds tests/test_parity.py, which runs each case on both executors.
"""

import itertools

import numpy as np
import pytest

import sessionlib as tf
from sessionlib._core import elementwise
from sessionlib.runtime.kernels import convolution_kernels as ck

FLOATS = (tf.float16, tf.float32, tf.float64)


# ---- parity cases for tests/test_parity.py ----------------------------------------------------

def _conv_case(feeds, dtype):
    x = feeds((2, 7, 6, 3), dtype, low=-2, high=2)
    w = feeds((3, 2, 3, 4), dtype, low=-1, high=1)
    return [tf.nn.conv2d(x, w, [1, 2, 1, 1], "SAME"),
            tf.nn.conv2d(x, w, 1, "VALID", dilations=2),
            tf.nn.conv2d(x, w, 3, [[0, 0], [1, 0], [2, 1], [0, 0]])]


def _conv_input_case(feeds, dtype):
    w = feeds((3, 2, 3, 4), dtype, low=-1, high=1)
    return [tf.nn.conv2d_backprop_input([2, 7, 6, 3], w, feeds((2, 4, 6, 4), dtype),
                                        [1, 2, 1, 1], "SAME"),
            tf.nn.conv2d_backprop_input([2, 7, 6, 3], w, feeds((2, 3, 4, 4), dtype), 1,
                                        "VALID", dilations=2)]


def _conv_filter_case(feeds, dtype):
    x = feeds((2, 7, 6, 3), dtype, low=-1, high=1)
    return [tf.nn.conv2d_backprop_filter(x, [3, 2, 3, 4], feeds((2, 4, 6, 4), dtype),
                                         [1, 2, 1, 1], "SAME"),
            tf.nn.conv2d_backprop_filter(x, [3, 2, 3, 4], feeds((2, 3, 4, 4), dtype), 1,
                                         "VALID", dilations=2)]


def _depthwise_case(feeds, dtype):
    x = feeds((2, 7, 6, 3), dtype, low=-2, high=2)
    return [tf.nn.depthwise_conv2d(x, feeds((3, 2, 3, 2), dtype), [1, 2, 2, 1], "SAME"),
            tf.nn.depthwise_conv2d(x, feeds((2, 3, 3, 1), dtype), [1, 1, 1, 1], "VALID",
                                   rate=[2, 1])]


def _depthwise_input_case(feeds, dtype):
    return [tf.nn.depthwise_conv2d_native_backprop_input(
        [2, 7, 6, 3], feeds((3, 2, 3, 2), dtype), feeds((2, 4, 3, 6), dtype), [1, 2, 2, 1],
        "SAME")]


def _depthwise_filter_case(feeds, dtype):
    return [tf.nn.depthwise_conv2d_native_backprop_filter(
        feeds((2, 7, 6, 3), dtype), [3, 2, 3, 2], feeds((2, 4, 3, 6), dtype), [1, 2, 2, 1],
        "SAME")]


def _pool_case(pool):
    def build(feeds, dtype):
        x = feeds((2, 7, 6, 3), dtype, low=-9, high=9)
        return [pool(x, 2, 2, "SAME"), pool(x, [3, 2], [2, 1], "VALID"),
                pool(x, 3, 1, "SAME")]

    return build


def _max_pool_grad_case(feeds, dtype):
    x = feeds((2, 7, 6, 3), dtype, low=-9, high=9)
    outs = []
    for ksize, strides, padding, shape in ((2, 2, "SAME", (2, 4, 3, 3)),
                                           (3, 1, "VALID", (2, 5, 4, 3))):
        y = tf.nn.max_pool(x, ksize, strides, padding)
        outs.append(tf.gradients(y, x, grad_ys=feeds(shape, dtype))[0])
    return outs


def _avg_pool_grad_case(feeds, dtype):
    x = tf.zeros([2, 7, 6, 3], dtype)
    outs = []
    for ksize, strides, padding, shape in ((2, 2, "SAME", (2, 4, 3, 3)),
                                           (3, 1, "VALID", (2, 5, 4, 3))):
        y = tf.nn.avg_pool(x, ksize, strides, padding)
        outs.append(tf.gradients(y, x, grad_ys=feeds(shape, dtype))[0])
    return outs


PARITY_CASES = {
    "Conv2D": (FLOATS, _conv_case),
    "Conv2DBackpropInput": (FLOATS, _conv_input_case),
    "Conv2DBackpropFilter": (FLOATS, _conv_filter_case),
    "DepthwiseConv2dNative": (FLOATS, _depthwise_case),
    "DepthwiseConv2dNativeBackpropInput": (FLOATS, _depthwise_input_case),
    "DepthwiseConv2dNativeBackpropFilter": (FLOATS, _depthwise_filter_case),
    "MaxPool": (FLOATS + (tf.int32, tf.int64), _pool_case(tf.nn.max_pool)),
    "MaxPoolGrad": (FLOATS, _max_pool_grad_case),
    "AvgPool": (FLOATS, _pool_case(tf.nn.avg_pool)),
    "AvgPoolGrad": (FLOATS, _avg_pool_grad_case),
}


# ---- a naive convolution: the definition, one output element at a time -----------------------

def _naive_conv2d(x, w, strides, dilations, pads):
    (sh, sw), (dh, dw), (pt, pb, pl, pr) = strides, dilations, pads
    n, h, width, c = x.shape
    kh, kw, _, oc = w.shape
    padded = np.zeros((n, h + pt + pb, width + pl + pr, c))
    padded[:, pt:pt + h, pl:pl + width] = x
    oh = (h + pt + pb - (kh - 1) * dh - 1) // sh + 1
    ow = (width + pl + pr - (kw - 1) * dw - 1) // sw + 1
    out = np.zeros((n, oh, ow, oc))
    for b, i, j, k in itertools.product(range(n), range(oh), range(ow), range(oc)):
        total = 0.0
        for di, dj, q in itertools.product(range(kh), range(kw), range(c)):
            total += padded[b, i * sh + di * dh, j * sw + dj * dw, q] * w[di, dj, q, k]
        out[b, i, j, k] = total
    return out


def _read_only(array):
    array = np.array(array)
    array.setflags(write=False)
    return array


@pytest.mark.parametrize("padding, strides, dilations", [
    ("VALID", (1, 1), (1, 1)), ("VALID", (2, 3), (1, 1)), ("SAME", (1, 1), (1, 1)),
    ("SAME", (2, 2), (1, 1)), ("SAME", (1, 1), (2, 2)), ("VALID", (1, 1), (2, 1)),
    ("SAME", (3, 2), (1, 1))])
@pytest.mark.parametrize("kernel", ["fast", "reference"])
def test_conv2d_matches_a_naive_loop(padding, strides, dilations, kernel):
    rng = np.random.RandomState(3)
    x, w = rng.randn(2, 7, 6, 3), rng.randn(3, 2, 3, 2)
    attrs = {"strides": [1, *strides, 1], "dilations": [1, *dilations, 1],
             "padding": padding, "data_format": "NHWC", "explicit_paddings": []}
    g = ck._geometry(x.shape, w.shape[:2], attrs)
    if padding == "SAME":
        pad_h = max((g.oh - 1) * g.sh + (g.kh - 1) * g.dh + 1 - 7, 0)
        pad_w = max((g.ow - 1) * g.sw + (g.kw - 1) * g.dw + 1 - 6, 0)
        pads = (pad_h // 2, pad_h - pad_h // 2, pad_w // 2, pad_w - pad_w // 2)
    else:
        pads = (0, 0, 0, 0)
    expected = _naive_conv2d(x, w, strides, dilations, pads)
    run = ck._fast_conv2d if kernel == "fast" else ck._ref_conv2d
    (got,) = run(None, (_read_only(x), _read_only(w)), attrs)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)


def test_conv2d_values_and_pooling_values_match_tf():
    x = np.arange(50, dtype=np.float32).reshape(2, 5, 5, 1)
    w = np.arange(18, dtype=np.float32).reshape(3, 3, 1, 2)
    p = tf.placeholder(tf.float32, [1, 2, 2, 1])
    grad = tf.gradients(tf.nn.max_pool(p, 2, 2, "VALID"), p)[0]
    with tf.Session() as sess:
        conv = sess.run(tf.nn.conv2d(x, w, [1, 2, 2, 1], "SAME"))
        avg = sess.run(tf.nn.avg_pool(np.arange(25, dtype=np.float32).reshape(1, 5, 5, 1), 3,
                                      2, "SAME"))
        ties = sess.run(grad, {p: np.ones((1, 2, 2, 1))})
    # From TF 2.21 (tf.compat.v1, CPU).
    np.testing.assert_array_equal(conv[0, :, :, 1], [[188, 377, 296], [753, 1164, 771],
                                                     [536, 755, 452]])
    np.testing.assert_array_equal(avg.ravel(), [3, 4.5, 6, 10.5, 12, 13.5, 18, 19.5, 21])
    np.testing.assert_array_equal(ties.ravel(), [1, 0, 0, 0])  # the first maximum wins


# Output shapes from TF 2.21 for a [2, 7, 8, 3] input, a [3, 2, 3, 4] filter and a [1, 3, 2, 1]
# pooling window.
_TF_SHAPES = {(1, "SAME"): (7, 8), (1, "VALID"): (5, 7), (2, "SAME"): (4, 4),
              (2, "VALID"): (3, 4), (3, "SAME"): (3, 3), (3, "VALID"): (2, 3)}


@pytest.mark.parametrize("stride, padding", sorted(_TF_SHAPES))
def test_output_shapes_match_tf(stride, padding):
    x = tf.placeholder(tf.float32, [2, 7, 8, 3])
    w = tf.placeholder(tf.float32, [3, 2, 3, 4])
    oh, ow = _TF_SHAPES[stride, padding]
    conv = tf.nn.conv2d(x, w, [1, stride, stride, 1], padding)
    pool = tf.nn.max_pool(x, [1, 3, 2, 1], [1, stride, stride, 1], padding)
    assert conv.shape.as_list() == [2, oh, ow, 4]
    assert pool.shape.as_list() == [2, oh, ow, 3]
    feeds = {x: np.ones((2, 7, 8, 3)), w: np.ones((3, 2, 3, 4))}
    with tf.Session() as sess:
        assert sess.run(conv, feeds).shape == (2, oh, ow, 4)
        assert sess.run(tf.nn.avg_pool(x, [1, 3, 2, 1], stride, padding), feeds).shape == (
            2, oh, ow, 3)


def test_op_attrs_and_gradient_ops_are_tfs():
    x = tf.placeholder(tf.float32, [2, 7, 8, 3])
    w = tf.placeholder(tf.float32, [3, 2, 3, 4])
    conv = tf.nn.conv2d(x, w, 2, "SAME")
    assert conv.op.type == "Conv2D"
    assert conv.op.get_attr("strides") == [1, 2, 2, 1]
    assert conv.op.get_attr("dilations") == [1, 1, 1, 1]
    assert conv.op.get_attr("padding") == "SAME"
    assert conv.op.get_attr("use_cudnn_on_gpu") is True
    pool = tf.nn.max_pool(x, 2, [2, 1], "VALID")
    assert pool.op.get_attr("ksize") == [1, 2, 2, 1]
    assert pool.op.get_attr("strides") == [1, 2, 1, 1]
    gx, gw = tf.gradients(conv, [x, w])
    assert gx.op.type == "Conv2DBackpropInput" and gw.op.type == "Conv2DBackpropFilter"
    assert gx.op.name.startswith("gradients/Conv2D_grad/")
    assert tf.gradients(pool, x)[0].op.type == "MaxPoolGrad"
    transposed = tf.nn.conv2d_transpose(conv, w, [2, 7, 8, 3], [1, 2, 2, 1])
    assert transposed.op.type == "Conv2DBackpropInput"
    assert transposed.shape.as_list() == [2, 7, 8, 3]
    assert tf.nn.depthwise_conv2d(x, tf.zeros([3, 3, 3, 2]), [1, 1, 1, 1],
                                  "SAME").shape.as_list() == [2, 7, 8, 6]


def test_conv2d_transpose_is_the_adjoint_of_conv2d():
    rng = np.random.RandomState(5)
    x, w, y = rng.randn(2, 7, 6, 3), rng.randn(3, 3, 3, 4), rng.randn(2, 4, 3, 4)
    conv = tf.nn.conv2d(x, w, 2, "SAME")
    transposed = tf.nn.conv2d_transpose(y, w, [2, 7, 6, 3], [1, 2, 2, 1], "SAME")
    with tf.Session() as sess:
        forward, backward = sess.run([conv, transposed])
    # <conv(x), y> == <x, conv_transpose(y)>
    np.testing.assert_allclose(np.sum(forward * y), np.sum(x * backward), rtol=1e-10)


def test_graph_time_errors_are_tfs():
    x = tf.placeholder(tf.float32, [2, 7, 8, 3])
    w = tf.placeholder(tf.float32, [3, 2, 3, 4])
    with pytest.raises(ValueError, match="rank 4"):
        tf.nn.conv2d(tf.placeholder(tf.float32, [7, 8, 3]), w, [1, 1, 1, 1], "SAME")
    with pytest.raises(ValueError, match="multiple of input depth"):
        tf.nn.conv2d(x, tf.placeholder(tf.float32, [3, 2, 5, 4]), [1, 1, 1, 1], "SAME")
    with pytest.raises(ValueError, match="padding"):
        tf.nn.conv2d(x, w, [1, 1, 1, 1], "FOO")
    with pytest.raises(ValueError, match="length 1, 2 or 4"):
        tf.nn.conv2d(x, w, [1, 1, 1], "SAME")
    with pytest.raises(ValueError, match="Negative dimension"):
        tf.nn.conv2d(tf.placeholder(tf.float32, [1, 2, 2, 3]), w, 1, "VALID")
    with pytest.raises(ValueError, match="Dimensions must be equal"):
        tf.nn.conv2d_transpose(x, tf.placeholder(tf.float32, [3, 3, 5, 4]), [2, 14, 16, 5],
                               [1, 2, 2, 1])
    with pytest.raises(ValueError, match="Dimensions must be equal"):
        tf.nn.depthwise_conv2d(x, tf.zeros([3, 3, 4, 2]), [1, 1, 1, 1], "SAME")
    with pytest.raises(ValueError, match="strides must be 1"):
        tf.nn.depthwise_conv2d(x, tf.zeros([3, 3, 3, 2]), [1, 2, 2, 1], "SAME", rate=2)
    with pytest.raises(TypeError):
        tf.nn.avg_pool(tf.zeros([1, 4, 4, 1], tf.int32), 2, 2, "SAME")
    with pytest.raises(TypeError):
        tf.nn.conv2d(x, tf.zeros([3, 2, 3, 4], tf.float64), 1, "SAME")


def test_run_time_errors_are_tfs():
    p = tf.placeholder(tf.float32, None)
    w = tf.placeholder(tf.float32, None)
    filters = np.ones((3, 2, 3, 4), np.float32)
    nchw = np.zeros((2, 3, 7, 8), np.float32)
    conv = tf.nn.conv2d(p, w, [1, 1, 1, 1], "SAME")
    with tf.Session() as sess:
        # NCHW, which TF's CPU kernels refuse, runs here (tests/test_nn_nchw.py).
        assert sess.run(tf.nn.max_pool(p, 2, 2, "SAME", data_format="NCHW"),
                        {p: nchw}).shape == (2, 3, 4, 4)
        with pytest.raises(tf.errors.InvalidArgumentError):
            sess.run(conv, {p: np.zeros((7, 8, 3)), w: filters})
        with pytest.raises(tf.errors.InvalidArgumentError):
            sess.run(conv, {p: np.zeros((2, 7, 8, 3)), w: np.zeros((3, 2, 5, 4))})
        with pytest.raises(tf.errors.InvalidArgumentError):
            sess.run(conv, {p: np.zeros((2, 7, 8, 3)), w: np.zeros((3, 2, 3))})
        with pytest.raises(tf.errors.UnimplementedError):
            sess.run(tf.nn.conv2d(p, w, [2, 1, 1, 1], "SAME"),
                     {p: np.zeros((2, 4, 4, 3)), w: filters})
        with pytest.raises(tf.errors.UnimplementedError):
            sess.run(tf.nn.max_pool(p, [2, 2, 2, 1], 1, "SAME"), {p: np.zeros((2, 4, 4, 3))})
        with pytest.raises(tf.errors.InvalidArgumentError):
            sess.run(tf.nn.max_pool(p, 3, 1, "VALID"), {p: np.zeros((1, 2, 1, 3))})
        with pytest.raises(tf.errors.InvalidArgumentError):
            sess.run(tf.nn.conv2d_transpose(tf.zeros([1, 3, 3, 2]), tf.zeros([3, 3, 5, 2]),
                                            [1, 9, 9, 5], [1, 2, 2, 1], "VALID"))
        # Like TF: an empty batch, an output of zero size, and explicit padding all work.
        assert sess.run(conv, {p: np.zeros((0, 4, 4, 3)), w: filters}).shape == (0, 4, 4, 4)
        assert sess.run(tf.nn.conv2d(p, w, 1, "VALID"),
                        {p: np.zeros((1, 2, 1, 3)), w: filters}).shape == (1, 0, 0, 4)
        explicit = tf.nn.conv2d(p, w, 1, [[0, 0], [1, 2], [0, 1], [0, 0]])
        assert sess.run(explicit, {p: np.zeros((2, 4, 4, 3)), w: filters}).shape == (2, 5, 4, 4)


# ---- fast against reference, straight on the kernels -------------------------------------------

def _sweep():
    for (h, k, s, d, padding, c, m) in itertools.product(
            (5, 6), (1, 2, 3), (1, 2, 3), (1, 2), ("SAME", "VALID", "EXPLICIT"), (1, 3),
            (1, 2)):
        yield h, k, s, d, padding, c, m


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_fast_convolution_kernels_match_the_reference(dtype):
    rng = np.random.RandomState(0)
    tolerance = {np.float16: 2e-2, np.float32: 1e-4, np.float64: 1e-10}[dtype]
    for h, k, s, d, padding, c, m in _sweep():
        attrs = {"strides": [1, s, s, 1], "dilations": [1, d, d, 1], "padding": padding,
                 "data_format": "NHWC",
                 "explicit_paddings": [0, 0, 1, 2, 2, 0, 0, 0] if padding == "EXPLICIT" else []}
        x = _read_only(rng.randn(2, h, 7, c).astype(dtype))
        filters = {"conv": _read_only(rng.randn(k, k + 1, c, 2).astype(dtype)),
                   "depthwise": _read_only(rng.randn(k, k + 1, c, m).astype(dtype))}
        kernels = {"conv": (ck._ref_conv2d, ck._fast_conv2d, ck._ref_conv2d_backprop_input,
                            ck._fast_conv2d_backprop_input, ck._ref_conv2d_backprop_filter,
                            ck._fast_conv2d_backprop_filter),
                   "depthwise": (ck._ref_depthwise, ck._fast_depthwise,
                                 ck._ref_depthwise_backprop_input,
                                 ck._fast_depthwise_backprop_input,
                                 ck._ref_depthwise_backprop_filter,
                                 ck._fast_depthwise_backprop_filter)}
        for name, (ref, fast, ref_in, fast_in, ref_f, fast_f) in kernels.items():
            w = filters[name]
            context = f"{name} h={h} k={k} s={s} d={d} {padding} c={c} m={m} {dtype.__name__}"
            expected = ref(None, (x, w), attrs)[0]
            got = fast(None, (x, w), attrs)[0]
            assert got.dtype == expected.dtype == dtype, context
            np.testing.assert_allclose(got, expected, rtol=tolerance, atol=tolerance,
                                       err_msg=context)
            dy = _read_only(rng.randn(*expected.shape).astype(dtype))
            sizes = _read_only(np.array(x.shape, np.int32))
            filter_sizes = _read_only(np.array(w.shape, np.int32))
            for ref_k, fast_k, inputs in ((ref_in, fast_in, (sizes, w, dy)),
                                          (ref_f, fast_f, (x, filter_sizes, dy))):
                expected = ref_k(None, inputs, attrs)[0]
                got = fast_k(None, inputs, attrs)[0]
                assert got.shape == expected.shape and got.dtype == dtype, context
                np.testing.assert_allclose(got, expected, rtol=tolerance,
                                           atol=tolerance * 10, err_msg=context)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int32, np.int64])
def test_fast_pooling_kernels_match_the_reference(dtype):
    rng = np.random.RandomState(1)
    floating = np.dtype(dtype).kind == "f"
    for h, k, s, padding in itertools.product((5, 6), (1, 2, 3), (1, 2, 3), ("SAME", "VALID")):
        attrs = {"strides": [1, s, s, 1], "ksize": [1, k, k + 1, 1], "padding": padding,
                 "data_format": "NHWC", "explicit_paddings": []}
        x = _read_only((rng.randn(2, h, 7, 3) * 10).astype(dtype))
        context = f"h={h} k={k} s={s} {padding} {np.dtype(dtype).name}"
        expected = ck._ref_max_pool(None, (x,), attrs)[0]
        np.testing.assert_array_equal(ck._fast_max_pool(None, (x,), attrs)[0], expected,
                                      err_msg=context)
        if not floating:
            continue
        grad = _read_only(rng.randn(*expected.shape).astype(dtype))
        tolerance = 1e-2 if dtype == np.float16 else 1e-5
        pairs = [(ck._ref_avg_pool, ck._fast_avg_pool, (x,)),
                 (ck._ref_max_pool_grad, ck._fast_max_pool_grad, (x, expected, grad)),
                 (ck._ref_avg_pool_grad, ck._fast_avg_pool_grad,
                  (_read_only(np.array(x.shape, np.int32)), grad))]
        for ref, fast, inputs in pairs:
            want = ref(None, inputs, attrs)[0]
            got = fast(None, inputs, attrs)[0]
            assert got.dtype == want.dtype == dtype, context
            np.testing.assert_allclose(got, want, rtol=tolerance, atol=tolerance,
                                       err_msg=f"{ref.__name__} {context}")


def test_max_pool_propagates_nan_on_both_kernels():
    x = np.zeros((1, 2, 2, 1), np.float32)
    x[0, 1, 0, 0] = np.nan
    attrs = {"strides": [1, 1, 1, 1], "ksize": [1, 2, 2, 1], "padding": "VALID",
             "data_format": "NHWC", "explicit_paddings": []}
    assert np.isnan(ck._ref_max_pool(None, (x,), attrs)[0]).all()
    assert np.isnan(ck._fast_max_pool(None, (x,), attrs)[0]).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("window, stride, padding", [(2, 2, "SAME"), (2, 3, "VALID"),
                                                     (3, 2, "SAME"), (3, 1, "VALID")])
def test_max_pool_grad_picks_the_first_maximum_on_several_threads(dtype, window, stride,
                                                                  padding):
    """MaxPoolGrad's vectorized argmax: ties go to the first tap in (ky, kx) order, NaN never
    wins, with windows that overlap (one image a thread) or not (rows of windows split)."""
    rng = np.random.RandomState(3)
    # Few distinct values make ties common; 19 channels leave a remainder after the vector
    # lanes; the batch passes the one-thread threshold.
    x = rng.randint(-2, 3, size=(9, 13, 12, 19)).astype(dtype)
    x[rng.rand(*x.shape) < 0.05] = np.nan
    x[0, :3, :3, 0] = np.nan  # a window of NaN only: its gradient goes nowhere
    x = _read_only(x)
    attrs = {"strides": [1, stride, stride, 1], "ksize": [1, window, window, 1],
             "padding": padding, "data_format": "NHWC", "explicit_paddings": []}
    pooled = ck._ref_max_pool(None, (x,), attrs)[0]
    grad = _read_only(rng.rand(*pooled.shape).astype(dtype) + 1)
    want = ck._ref_max_pool_grad(None, (x, pooled, grad), attrs)[0]
    previous = elementwise.get_num_threads()
    try:
        for threads in (1, 3):
            elementwise.set_num_threads(threads)
            got = ck._fast_max_pool_grad(None, (x, pooled, grad), attrs)[0]
            np.testing.assert_array_equal(got, want, err_msg=f"{threads} threads")
    finally:
        elementwise.set_num_threads(previous)
    assert np.count_nonzero(want) > 0


@pytest.mark.parametrize("channels", [1, 32])
@pytest.mark.parametrize("dilation", [1, 2])
def test_im2col_rows_short_and_long_match_the_reference(channels, dilation):
    """im2col copies a window row by a loop when it is short (one channel) and by memcpy when
    it is long (32 channels), whole rows inside the input, pixel by pixel at its border."""
    rng = np.random.RandomState(4)
    x = _read_only(rng.randn(3, 9, 8, channels))
    w = _read_only(rng.randn(5, 5, channels, 4))
    attrs = {"strides": [1, 1, 1, 1], "dilations": [1, dilation, dilation, 1],
             "padding": "SAME", "data_format": "NHWC", "explicit_paddings": []}
    expected = ck._ref_conv2d(None, (x, w), attrs)[0]
    np.testing.assert_allclose(ck._fast_conv2d(None, (x, w), attrs)[0], expected, rtol=1e-10,
                               atol=1e-10)
    dy = _read_only(rng.randn(*expected.shape))
    sizes = _read_only(np.array(w.shape, np.int32))
    np.testing.assert_allclose(
        ck._fast_conv2d_backprop_filter(None, (x, sizes, dy), attrs)[0],
        ck._ref_conv2d_backprop_filter(None, (x, sizes, dy), attrs)[0], rtol=1e-10, atol=1e-10)


def test_fast_kernels_give_the_same_values_on_several_threads(monkeypatch):
    """The prange loops (im2col, col2im gathers, pooling) split rows between threads; the
    column matrix is built in chunks of images: neither may change a value."""
    from sessionlib._core import convolution

    rng = np.random.RandomState(2)
    # Big enough for every kernel to pass its one-thread threshold.
    x = rng.randn(16, 20, 18, 8)
    w = rng.randn(3, 3, 8, 6)
    attrs = {"strides": [1, 2, 1, 1], "dilations": [1, 1, 2, 1], "padding": "SAME",
             "data_format": "NHWC", "explicit_paddings": []}
    pool_attrs = {"strides": [1, 2, 2, 1], "ksize": [1, 3, 3, 1], "padding": "SAME",
                  "data_format": "NHWC", "explicit_paddings": []}

    def run_all():
        y = ck._fast_conv2d(None, (x, w), attrs)[0]
        dy = np.cos(y)
        sizes = np.array(x.shape, np.int32)
        pooled = ck._fast_max_pool(None, (x,), pool_attrs)[0]
        return [y, ck._fast_conv2d_backprop_input(None, (sizes, w, dy), attrs)[0],
                ck._fast_conv2d_backprop_filter(None, (x, np.array(w.shape, np.int32), dy),
                                                attrs)[0],
                pooled, ck._fast_max_pool_grad(None, (x, pooled, np.sin(pooled)),
                                               pool_attrs)[0],
                ck._fast_avg_pool_grad(None, (sizes, np.sin(pooled)), pool_attrs)[0]]

    previous = elementwise.get_num_threads()
    try:
        elementwise.set_num_threads(1)
        single = run_all()
        elementwise.set_num_threads(3)
        # A column budget of one image a chunk exercises the chunked GEMMs.
        monkeypatch.setattr(convolution, "COL_CHUNK_BYTES", 1)
        threaded = run_all()
    finally:
        elementwise.set_num_threads(previous)
    for one, many in zip(single, threaded):
        np.testing.assert_allclose(many, one, rtol=1e-12, atol=1e-12)


def test_a_small_cnn_learns_with_plain_gradient_steps():
    """conv -> max_pool -> depthwise conv -> avg_pool: a regression target from a fixed random
    teacher of the same shape is fitted by gradient descent through every forward op.

    The loss ``sum(y^2 - 2 y t)`` (the squared error less a constant) is written with the
    gradients that exist on every branch (Square, Mul, Sum, AddN)."""
    rng = np.random.RandomState(7)
    images = rng.randn(8, 8, 8, 1)

    def model(w1, w2):
        hidden = tf.nn.conv2d(images, w1, 1, "SAME")
        pooled = tf.nn.max_pool(hidden, 2, 2, "VALID")
        return tf.nn.avg_pool(tf.nn.depthwise_conv2d(pooled, w2, [1, 1, 1, 1], "SAME"), 2, 2,
                              "VALID")

    target = model(tf.constant(rng.randn(3, 3, 1, 4)), tf.constant(rng.randn(3, 3, 4, 1)))
    w1 = tf.placeholder(tf.float64, [3, 3, 1, 4])
    w2 = tf.placeholder(tf.float64, [3, 3, 4, 1])
    output = model(w1, w2)
    loss = tf.add_n([tf.reduce_sum(tf.square(output)),
                     tf.reduce_sum(output * (-2.0 * target))])
    grads = tf.gradients(loss, [w1, w2])
    values = [rng.randn(3, 3, 1, 4) * 0.5, rng.randn(3, 3, 4, 1) * 0.5]
    with tf.Session() as sess:
        offset = float(np.sum(sess.run(target) ** 2))  # makes the loss the squared error
        first = sess.run(loss, {w1: values[0], w2: values[1]}) + offset
        for _ in range(60):
            g1, g2 = sess.run(grads, {w1: values[0], w2: values[1]})
            values = [values[0] - 0.0005 * g1, values[1] - 0.0005 * g2]
        last = sess.run(loss, {w1: values[0], w2: values[1]}) + offset
    assert last < 0.2 * first, (first, last)
