"""``tf.nn.conv3d`` and ``conv3d_transpose``: the ops ``Conv3D``, ``Conv3DBackpropInputV2`` and
``Conv3DBackpropFilterV2``, their shapes and TF's graph-time errors, their values on both
executors (against a naive definition and numbers from TF 2.21), the layouts, and the run-time
errors. ``PARITY_CASES`` feeds tests/test_parity.py (through ``_parity_convolution3d.py``);
the numeric gradient checks are in ``test_grad_conv3d.py``.
"""

import itertools

import numpy as np
import pytest

import sessionlib as tf

FLOATS = (tf.float16, tf.float32, tf.float64)
_RNG = np.random.RandomState(23)


def _r(*shape):
    return _RNG.uniform(-1.0, 1.0, size=shape)


# ---- parity cases for tests/test_parity.py ---------------------------------------------------

def _conv_case(feeds, dtype):
    x = feeds((2, 5, 4, 6, 3), dtype, low=-2, high=2)
    w = feeds((3, 2, 2, 3, 4), dtype, low=-1, high=1)
    return [tf.nn.conv3d(x, w, [1, 2, 1, 2, 1], "SAME"),
            tf.nn.conv3d(x, w, [1, 1, 1, 1, 1], "VALID", dilations=[1, 1, 2, 2, 1])]


def _input_case(feeds, dtype):
    w = feeds((3, 2, 2, 3, 4), dtype, low=-1, high=1)
    return [tf.nn.conv3d_backprop_input_v2([2, 5, 4, 6, 3], w, feeds((2, 3, 4, 3, 4), dtype),
                                           [1, 2, 1, 2, 1], "SAME"),
            tf.nn.conv3d_backprop_input_v2([2, 5, 4, 6, 3], w, feeds((2, 3, 3, 5, 4), dtype),
                                           [1, 1, 1, 1, 1], "VALID")]


def _filter_case(feeds, dtype):
    x = feeds((2, 5, 4, 6, 3), dtype, low=-1, high=1)
    return [tf.nn.conv3d_backprop_filter_v2(x, [3, 2, 2, 3, 4], feeds((2, 3, 4, 3, 4), dtype),
                                            [1, 2, 1, 2, 1], "SAME"),
            tf.nn.conv3d_backprop_filter_v2(x, [3, 2, 2, 3, 4], feeds((2, 3, 3, 5, 4), dtype),
                                            [1, 1, 1, 1, 1], "VALID")]


PARITY_CASES = {
    "Conv3D": (FLOATS, _conv_case),
    "Conv3DBackpropInputV2": (FLOATS, _input_case),
    "Conv3DBackpropFilterV2": (FLOATS, _filter_case),
}


# ---- a naive convolution: the definition, one output element at a time --------------------

def _geometry(size, window, stride, dilation, padding):
    effective = (window - 1) * dilation + 1
    if padding == "VALID":
        return (size - effective) // stride + 1, 0, 0
    out = -(-size // stride)
    total = max((out - 1) * stride + effective - size, 0)
    return out, total // 2, total - total // 2


def _naive_conv3d(x, w, strides, padding, dilations=(1, 1, 1)):
    n, *size, c = x.shape
    *window, _, oc = w.shape
    geo = [_geometry(s, k, st, d, padding)
           for s, k, st, d in zip(size, window, strides, dilations)]
    padded = np.zeros([n] + [s + b + a for s, (_, b, a) in zip(size, geo)] + [c])
    padded[(slice(None),) + tuple(slice(b, b + s) for s, (_, b, _) in zip(size, geo))] = x
    out = np.zeros([n] + [o for o, _, _ in geo] + [oc])
    for pos in itertools.product(*(range(o) for o, _, _ in geo)):
        for tap in itertools.product(*(range(k) for k in window)):
            index = tuple(p * st + t * d for p, st, t, d in zip(pos, strides, tap, dilations))
            out[(slice(None),) + pos] += padded[(slice(None),) + index] @ w[tap]
    return out


# ---- graph-time shapes and errors --------------------------------------------------------------

def test_shapes_and_graph():
    x = tf.placeholder(tf.float32, [2, 5, 6, 7, 3])
    w = tf.placeholder(tf.float32, [3, 2, 2, 3, 4])
    y = tf.nn.conv3d(x, w, [1, 2, 1, 2, 1], "SAME")
    # TF 2.21: [2, 3, 6, 4, 4], op Conv3D with strides, padding, dilations, data_format.
    assert y.shape.as_list() == [2, 3, 6, 4, 4]
    assert y.op.type == "Conv3D" and y.op.name == "Conv3D"
    assert y.op.get_attr("dilations") == [1, 1, 1, 1, 1]
    assert y.op.get_attr("data_format") == "NDHWC"
    assert tf.nn.conv3d(x, w, [1, 1, 1, 1, 1], "VALID").shape.as_list() == [2, 3, 5, 6, 4]
    assert tf.nn.conv3d(x, w, [1, 1, 1, 1, 1], "VALID",
                        dilations=[1, 2, 1, 2, 1]).shape.as_list() == [2, 1, 5, 5, 4]
    nc = tf.nn.conv3d(tf.placeholder(tf.float32, [2, 3, 5, 6, 7]), w, [1, 1, 2, 1, 2], "SAME",
                      data_format="NCDHW")
    assert nc.shape.as_list() == [2, 4, 3, 6, 4]
    # The gradient graph: TF 2.21 builds Conv3DBackpropInputV2 and Conv3DBackpropFilterV2.
    dx, dw = tf.gradients(tf.reduce_sum(y), [x, w])
    assert dx.op.type == "Conv3DBackpropInputV2" and dx.shape.as_list() == [2, 5, 6, 7, 3]
    assert dw.op.type == "Conv3DBackpropFilterV2" and dw.shape.as_list() == [3, 2, 2, 3, 4]
    # conv3d_transpose: TF 2.21 names the op conv3d_transpose.
    t = tf.nn.conv3d_transpose(tf.placeholder(tf.float32, [2, 3, 6, 4, 4]), w,
                               [2, 5, 6, 7, 3], [1, 2, 1, 2, 1], "SAME")
    assert t.op.name == "conv3d_transpose" and t.op.type == "Conv3DBackpropInputV2"
    assert t.shape.as_list() == [2, 5, 6, 7, 3]


def test_graph_time_errors_are_tfs():
    # The messages of TF 2.21 (their node descriptions left out).
    x = tf.placeholder(tf.float32, [2, 5, 6, 7, 3])
    ones = [1, 1, 1, 1, 1]
    with pytest.raises(ValueError, match=r"Depth of input \(3\) is not a multiple of input "
                                         r"depth of filter \(5\) for 'Conv3D'"):
        tf.nn.conv3d(x, tf.zeros([3, 2, 2, 5, 4]), ones, "SAME")
    with pytest.raises(ValueError, match=r"Depth of output \(4\) is not a multiple of the "
                                         r"number of groups \(3\)"):
        tf.nn.conv3d(x, tf.zeros([3, 2, 2, 1, 4]), ones, "SAME")
    with pytest.raises(ValueError, match="Attr 'strides' of 'Conv3D' Op passed list of length "
                                         "4 less than minimum 5."):
        tf.nn.conv3d(x, tf.zeros([3, 2, 2, 3, 4]), [1, 1, 1, 1], "SAME")
    with pytest.raises(ValueError, match="Negative dimension size caused by subtracting 6 "
                                         "from 5 for 'Conv3D'"):
        tf.nn.conv3d(x, tf.zeros([6, 2, 2, 3, 4]), ones, "VALID")
    with pytest.raises(ValueError, match="Attr 'padding' of 'Conv3D' Op passed string 'FOO' "
                                         "not in: \"SAME\", \"VALID\"."):
        tf.nn.conv3d(x, tf.zeros([3, 2, 2, 3, 4]), ones, "FOO")
    with pytest.raises(ValueError, match="rank 5"):
        tf.nn.conv3d(tf.zeros([2, 5, 6, 3]), tf.zeros([3, 2, 2, 3, 4]), ones, "SAME")
    with pytest.raises(TypeError):
        tf.nn.conv3d(x, tf.zeros([3, 2, 2, 3, 4], tf.float64), ones, "SAME")
    with pytest.raises(TypeError):
        tf.nn.conv3d(tf.zeros([2, 5, 6, 7, 3], tf.int32), tf.zeros([3, 2, 2, 3, 4], tf.int32),
                     ones, "SAME")
    with pytest.raises(ValueError):
        tf.nn.conv3d_transpose(tf.zeros([2, 3, 6, 4, 5]), tf.zeros([3, 2, 2, 3, 4]),
                               [2, 5, 6, 7, 3], [1, 2, 1, 2, 1])


# ---- values --------------------------------------------------------------------------------------

def test_values_from_tf(executor):
    # Computed by TF 2.21 (tf.nn.conv3d on these float64 inputs).
    x = np.arange(2 * 4 * 4 * 4 * 2, dtype=np.float64).reshape(2, 4, 4, 4, 2) / 100
    w = np.arange(2 * 2 * 2 * 2 * 3, dtype=np.float64).reshape(2, 2, 2, 2, 3) / 10 - 1
    with tf.Session() as sess:
        same, valid = sess.run([tf.nn.conv3d(x, w, [1, 2, 1, 2, 1], "SAME"),
                                tf.nn.conv3d(x, w, [1, 1, 2, 1, 1], "VALID")])
    assert same.shape == (2, 2, 4, 2, 3) and valid.shape == (2, 3, 2, 3, 3)
    np.testing.assert_allclose(same[0, 0, 0, 0], [7.816, 8.16, 8.504], rtol=1e-12)
    np.testing.assert_allclose(same[1, 1, 3, 1], [13.916, 15.816, 17.716], rtol=1e-12)
    np.testing.assert_allclose(same.sum(), 2474.496, rtol=1e-12)
    np.testing.assert_allclose(valid[1, 2, 1, 2], [50.216, 53.952, 57.688], rtol=1e-12)
    np.testing.assert_allclose(valid.sum(), 3354.048, rtol=1e-12)


_CONFIGS = [("SAME", (1, 1, 1), (1, 1, 1)), ("VALID", (1, 1, 1), (1, 1, 1)),
            ("SAME", (2, 1, 2), (1, 1, 1)), ("VALID", (2, 2, 3), (1, 1, 1)),
            ("SAME", (1, 1, 1), (2, 1, 2)), ("VALID", (1, 1, 1), (1, 2, 2))]


@pytest.mark.parametrize("padding,strides,dilations", _CONFIGS)
def test_conv3d_matches_the_definition(executor, padding, strides, dilations):
    x, w = _r(2, 5, 4, 6, 3), _r(3, 2, 2, 3, 2)
    with tf.Session() as sess:
        got = sess.run(tf.nn.conv3d(x, w, [1, *strides, 1], padding,
                                    dilations=[1, *dilations, 1]))
    np.testing.assert_allclose(got, _naive_conv3d(x, w, strides, padding, dilations),
                               atol=1e-12)


@pytest.mark.parametrize("padding,strides,dilations", _CONFIGS)
def test_backprops_are_the_adjoints(executor, padding, strides, dilations):
    # <conv3d(x, w), dy> = <x, backprop_input(dy, w)> = <w, backprop_filter(x, dy)>.
    x, w = _r(2, 5, 4, 6, 3), _r(3, 2, 2, 3, 2)
    y = _naive_conv3d(x, w, strides, padding, dilations)
    dy = _r(*y.shape)
    attrs = dict(strides=[1, *strides, 1], padding=padding, dilations=[1, *dilations, 1])
    with tf.Session() as sess:
        dx, dw = sess.run([tf.nn.conv3d_backprop_input_v2(x.shape, w, dy, **attrs),
                           tf.nn.conv3d_backprop_filter_v2(x, w.shape, dy, **attrs)])
    inner = np.sum(y * dy)
    np.testing.assert_allclose(np.sum(x * dx), inner, rtol=1e-10)
    np.testing.assert_allclose(np.sum(w * dw), inner, rtol=1e-10)
    # And elementwise: the gradient of sum(conv * dy) by finite differences is linear, so one
    # unit vector per input checks entries exactly.
    for index in [(0, 0, 0, 0, 0), (1, 4, 3, 5, 2), (0, 2, 1, 3, 1)]:
        unit = np.zeros_like(x)
        unit[index] = 1.0
        np.testing.assert_allclose(
            dx[index], np.sum(_naive_conv3d(unit, w, strides, padding, dilations) * dy),
            atol=1e-12)


def test_conv3d_transpose_values(executor):
    v, w = _r(2, 3, 2, 4, 4), _r(3, 2, 2, 3, 4)
    with tf.Session() as sess:
        got = sess.run(tf.nn.conv3d_transpose(v, w, [2, 5, 4, 7, 3], [1, 2, 2, 2, 1], "SAME"))
    y_of = lambda x: _naive_conv3d(x, w, (2, 2, 2), "SAME")  # noqa: E731
    for index in [(0, 0, 0, 0, 0), (1, 4, 3, 6, 2), (0, 2, 1, 3, 1)]:
        unit = np.zeros((2, 5, 4, 7, 3))
        unit[index] = 1.0
        np.testing.assert_allclose(got[index], np.sum(y_of(unit) * v), atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
def test_lower_precisions(executor, dtype):
    x, w = _r(1, 4, 3, 5, 2), _r(2, 2, 3, 2, 3)
    with tf.Session() as sess:
        got = sess.run(tf.nn.conv3d(x.astype(dtype), w.astype(dtype), [1, 1, 1, 1, 1],
                                    "SAME"))
    assert got.dtype == dtype
    expected = _naive_conv3d(x.astype(dtype).astype(np.float64),
                             w.astype(dtype).astype(np.float64), (1, 1, 1), "SAME")
    np.testing.assert_allclose(got, expected, rtol=1e-2 if dtype == np.float16 else 1e-5,
                               atol=1e-2 if dtype == np.float16 else 1e-5)


def test_ncdhw_is_ndhwc_transposed(executor):
    x, w = _r(2, 5, 4, 6, 3), _r(3, 2, 2, 3, 2)
    to_nc, to_nd = (0, 4, 1, 2, 3), (0, 2, 3, 4, 1)
    xc = np.ascontiguousarray(np.transpose(x, to_nc))
    graph = tf.Graph()
    with graph.as_default():
        a, b = tf.constant(x), tf.constant(xc)
        wt = tf.constant(w)
        ya = tf.nn.conv3d(a, wt, [1, 2, 1, 2, 1], "SAME")
        yb = tf.nn.conv3d(b, wt, [1, 1, 2, 1, 2], "SAME", data_format="NCDHW")
        weight = _r(*ya.shape.as_list())
        ga = tf.gradients(tf.reduce_sum(ya * weight), [a, wt])
        gb = tf.gradients(tf.reduce_sum(yb * np.transpose(weight, to_nc)), [b, wt])
    with tf.Session(graph=graph) as sess:
        (va, da), (vb, db) = sess.run([(ya, ga), (yb, gb)])
    np.testing.assert_allclose(vb, np.transpose(va, to_nc), atol=1e-12)
    np.testing.assert_allclose(np.transpose(db[0], to_nd), da[0], atol=1e-12)
    np.testing.assert_allclose(db[1], da[1], atol=1e-12)


def test_empty_batch(executor):
    with tf.Session() as sess:
        got = sess.run(tf.nn.conv3d(np.zeros((0, 4, 4, 4, 2)), np.ones((2, 2, 2, 2, 3)),
                                    [1, 1, 1, 1, 1], "SAME"))
    assert got.shape == (0, 4, 4, 4, 3)


def test_run_time_errors_are_tfs(executor):
    # TF 2.21 gives InvalidArgumentError for each of these on the CPU.
    p = tf.placeholder(tf.float64, None)
    w = tf.placeholder(tf.float64, None)
    conv = tf.nn.conv3d(p, w, [1, 1, 1, 1, 1], "VALID")
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError):
            sess.run(conv, {p: np.zeros((4, 4, 4, 3)), w: np.zeros((1, 1, 1, 3, 3))})
        with pytest.raises(tf.errors.InvalidArgumentError):
            sess.run(conv, {p: np.zeros((1, 4, 4, 4, 2)), w: np.zeros((1, 1, 1, 3, 3))})
        with pytest.raises(tf.errors.InvalidArgumentError):
            # Grouped (input depth a multiple of the filter's): TF's CPU refuses it too.
            sess.run(conv, {p: np.zeros((1, 4, 4, 4, 3)), w: np.zeros((1, 1, 1, 1, 3))})
        with pytest.raises(tf.errors.InvalidArgumentError):
            sess.run(tf.nn.conv3d(p, w, [2, 1, 1, 1, 1], "SAME"),
                     {p: np.zeros((1, 4, 4, 4, 3)), w: np.zeros((1, 1, 1, 3, 2))})
        with pytest.raises(tf.errors.InvalidArgumentError):
            sess.run(tf.nn.conv3d_backprop_input_v2([1, 4, 4, 4, 3], w, p, [1, 1, 1, 1, 1],
                                                    "SAME"),
                     {p: np.zeros((1, 4, 4, 3, 2)), w: np.zeros((1, 1, 1, 3, 2))})
