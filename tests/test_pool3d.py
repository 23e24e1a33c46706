"""3-D pooling: ``tf.nn.max_pool3d``/``avg_pool3d`` (ops MaxPool3D, AvgPool3D and their
gradient ops MaxPool3DGrad, AvgPool3DGrad), ``tf.nn.pool`` over three dimensions and the
``tf.layers`` 3-D pools, against a naive numpy reference (one window at a time); shapes,
names and errors as TF 2.21's compat.v1 gives them (checked by hand). ``PARITY_CASES`` feeds
tests/test_parity.py (through ``_parity_pool3d.py``); the numeric gradient checks are in
``test_grad_pool3d.py``.
"""

import itertools

import numpy as np
import pytest

import sessionlib as tf

FLOATS = (tf.float16, tf.float32, tf.float64)
_RNG = np.random.RandomState(31)


# ---- parity cases for tests/test_parity.py ---------------------------------------------------

def _pool_case(pool):
    def build(feeds, dtype):
        x = feeds((2, 5, 4, 6, 3), dtype, low=-3, high=3)
        xc = feeds((1, 2, 4, 5, 3), dtype, low=-3, high=3)
        return [pool(x, [1, 2, 3, 2, 1], [1, 2, 1, 2, 1], "SAME"),
                pool(x, [1, 3, 2, 2, 1], [1, 1, 2, 3, 1], "VALID"),
                pool(xc, [1, 1, 2, 2, 3], [1, 1, 2, 1, 2], "SAME", data_format="NCDHW")]
    return build


def _max_grad_case(feeds, dtype):
    # Integer-valued inputs, so that windows hold ties (each gets the whole gradient).
    x = tf.cast(tf.cast(feeds((2, 5, 4, 6, 3), dtype, low=-3, high=3), tf.int32), dtype)
    y = tf.nn.max_pool3d(x, [1, 2, 3, 2, 1], [1, 2, 1, 2, 1], "SAME")
    return tf.gradients(y, x, grad_ys=feeds((2, 3, 4, 3, 3), dtype))


def _avg_grad_case(feeds, dtype):
    x = feeds((2, 5, 4, 6, 3), dtype)
    same = tf.nn.avg_pool3d(x, [1, 2, 3, 2, 1], [1, 2, 1, 2, 1], "SAME")
    valid = tf.nn.avg_pool3d(x, [1, 1, 3, 2, 2], [1, 1, 1, 2, 3], "VALID",
                             data_format="NCDHW")
    return (tf.gradients(same, x, grad_ys=feeds((2, 3, 4, 3, 3), dtype))
            + tf.gradients(valid, x, grad_ys=feeds((2, 5, 2, 3, 1), dtype)))


PARITY_CASES = {
    "MaxPool3D": (FLOATS, _pool_case(tf.nn.max_pool3d)),
    "AvgPool3D": (FLOATS, _pool_case(tf.nn.avg_pool3d)),
    "MaxPool3DGrad": (FLOATS, _max_grad_case),
    "AvgPool3DGrad": (FLOATS, _avg_grad_case),
}


# ---- the naive reference: one window at a time (NDHWC) ---------------------------------------

def _plan(size, window, stride, padding):
    """(output size, padding before) of one dimension, TF's formulas."""
    if padding == "VALID":
        return (size - window) // stride + 1, 0
    out = -(-size // stride)
    return out, max((out - 1) * stride + window - size, 0) // 2


def _windows(shape, window, strides, padding):
    """Yields (output index, input box) for every output position of an NDHWC `shape`."""
    plans = [_plan(n, k, s, padding) for n, k, s in zip(shape[1:4], window, strides)]
    for index in itertools.product(*(range(out) for out, _ in plans)):
        box = tuple(slice(max(i * s - pad, 0), min(i * s - pad + k, n)) for i, s, (_, pad), k, n
                    in zip(index, strides, plans, window, shape[1:4]))
        yield index, box


def _out_shape(shape, window, strides, padding):
    return ((shape[0],) + tuple(_plan(n, k, s, padding)[0]
                                for n, k, s in zip(shape[1:4], window, strides)) + shape[4:])


def naive_pool(x, window, strides, padding, kind):
    out = np.zeros(_out_shape(x.shape, window, strides, padding))
    reduce = np.max if kind == "MAX" else np.mean
    for index, box in _windows(x.shape, window, strides, padding):
        out[(slice(None),) + index] = reduce(x[(slice(None),) + box], axis=(1, 2, 3))
    return out


def naive_max_pool_grad(x, dy, window, strides, padding):
    """TF's rule: every element within 1e-5 of its window's maximum gets the whole gradient."""
    dx = np.zeros(x.shape)
    for index, box in _windows(x.shape, window, strides, padding):
        part = x[(slice(None),) + box]
        top = part.max(axis=(1, 2, 3), keepdims=True)
        dx[(slice(None),) + box] += (np.abs(part - top) < 1e-5) * dy[(slice(None),) + index
                                                                     ][:, None, None, None]
    return dx


def naive_avg_pool_grad(shape, dy, window, strides, padding):
    dx = np.zeros(shape)
    for index, box in _windows(shape, window, strides, padding):
        count = np.prod([b.stop - b.start for b in box])
        dx[(slice(None),) + box] += dy[(slice(None),) + index][:, None, None, None] / count
    return dx


def _run(fetches, feed_dict=None):
    with tf.Session() as session:
        return session.run(fetches, feed_dict)


def _five(values):
    return [1, *values, 1]


# ---- values and gradients ----------------------------------------------------------------------

CONFIGS = [
    ((2, 5, 6, 7, 3), (2, 2, 2), (2, 2, 2), "VALID"),
    ((2, 5, 6, 7, 3), (2, 2, 2), (2, 2, 2), "SAME"),
    ((1, 6, 5, 4, 2), (3, 2, 3), (1, 2, 1), "SAME"),
    ((1, 6, 5, 4, 2), (3, 2, 3), (2, 1, 1), "VALID"),
    ((2, 4, 4, 4, 1), (4, 1, 2), (3, 1, 2), "SAME"),
]


@pytest.mark.parametrize("shape, window, strides, padding", CONFIGS)
@pytest.mark.parametrize("data_format", ["NDHWC", "NCDHW"])
def test_values_and_gradients_match_the_reference(executor, shape, window, strides, padding,
                                                  data_format):
    # Integer values: windows hold ties, which MaxPool3DGrad must resolve as TF does.
    x = _RNG.randint(-3, 4, size=shape).astype(np.float64)
    out_shape = _out_shape(shape, window, strides, padding)
    dy = _RNG.uniform(-1, 1, size=out_shape)
    to_format = (lambda a: np.transpose(a, (0, 4, 1, 2, 3))) if data_format == "NCDHW" else (
        lambda a: a)
    from_format = (lambda a: np.transpose(a, (0, 2, 3, 4, 1))) if data_format == "NCDHW" else (
        lambda a: a)
    channels_first = data_format == "NCDHW"
    ksize = [1, 1, *window] if channels_first else _five(window)
    steps = [1, 1, *strides] if channels_first else _five(strides)
    x_t = tf.constant(to_format(x))
    max_y = tf.nn.max_pool3d(x_t, ksize, steps, padding, data_format=data_format)
    avg_y = tf.nn.avg_pool3d(x_t, ksize, steps, padding, data_format=data_format)
    assert max_y.shape.as_list() == list(to_format(np.zeros(out_shape)).shape)
    assert avg_y.shape == max_y.shape
    dy_t = tf.constant(to_format(dy))
    max_dx = tf.gradients(max_y, x_t, grad_ys=dy_t)[0]
    avg_dx = tf.gradients(avg_y, x_t, grad_ys=dy_t)[0]
    assert (max_dx.op.type, avg_dx.op.type) == ("MaxPool3DGrad", "AvgPool3DGrad")
    got = [from_format(v) for v in _run([max_y, avg_y, max_dx, avg_dx])]
    np.testing.assert_array_equal(got[0], naive_pool(x, window, strides, padding, "MAX"))
    np.testing.assert_allclose(got[1], naive_pool(x, window, strides, padding, "AVG"),
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got[2], naive_max_pool_grad(x, dy, window, strides, padding),
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got[3], naive_avg_pool_grad(shape, dy, window, strides, padding),
                               rtol=1e-12, atol=1e-12)


def test_values_from_tf(executor):
    # Fixed numbers from TF 2.21 (tf.compat.v1 on the CPU): SAME average pooling divides by
    # the elements inside the input, and its gradient spreads the same shares.
    x = tf.constant(np.arange(27, dtype=np.float32).reshape(1, 3, 3, 3, 1))
    y = tf.nn.avg_pool3d(x, [1, 2, 2, 2, 1], [1, 2, 2, 2, 1], "SAME")
    values, grad = _run([y, tf.gradients(y, x)[0]])
    np.testing.assert_allclose(values.ravel(), [6.5, 8, 11, 12.5, 20, 21.5, 24.5, 26])
    np.testing.assert_allclose(grad.ravel(), [
        0.125, 0.125, 0.25, 0.125, 0.125, 0.25, 0.25, 0.25, 0.5,
        0.125, 0.125, 0.25, 0.125, 0.125, 0.25, 0.25, 0.25, 0.5,
        0.25, 0.25, 0.5, 0.25, 0.25, 0.5, 0.5, 0.5, 1.0])


def _max_grad_of(values, window=(2, 2, 2), strides=(2, 2, 2), padding="VALID"):
    x = tf.constant(np.asarray(values, dtype=np.float32))
    y = tf.nn.max_pool3d(x, _five(window), _five(strides), padding)
    return _run([y, tf.gradients(y, x)[0]])


def test_max_pool3d_grad_tie_rule(executor):
    # TF's MaxPool3DGrad (unlike MaxPoolGrad) gives the whole gradient to every element
    # within 1e-5 of the maximum: all of a tie, none where the maximum is NaN or an infinity.
    _, grad = _max_grad_of(np.ones((1, 2, 2, 2, 1)))
    np.testing.assert_array_equal(grad.ravel(), np.ones(8))
    cube = np.zeros(8)
    cube[[3, 5]] = 5
    _, grad = _max_grad_of(cube.reshape(1, 2, 2, 2, 1))
    np.testing.assert_array_equal(grad.ravel(), [0, 0, 0, 1, 0, 1, 0, 0])
    for gap, both in ((5e-6, True), (9e-6, True), (2e-5, False)):
        near = np.zeros(8)
        near[2], near[6] = 0.5, 0.5 + gap
        _, grad = _max_grad_of(near.reshape(1, 2, 2, 2, 1))
        np.testing.assert_array_equal(grad.ravel(), [0, 0, float(both), 0, 0, 0, 1, 0])
    values, grad = _max_grad_of(np.full((1, 2, 2, 2, 1), -np.inf))
    assert values.ravel()[0] == -np.inf and not grad.any()
    with_nan = np.arange(8.0)
    with_nan[7] = np.nan
    values, grad = _max_grad_of(with_nan.reshape(1, 2, 2, 2, 1))
    assert np.isnan(values.ravel()[0]) and not grad.any()


def test_padding_never_wins_a_maximum(executor):
    x = -np.arange(1, 28, dtype=np.float32).reshape(1, 3, 3, 3, 1)
    values, grad = _max_grad_of(x, (2, 2, 2), (2, 2, 2), "SAME")
    np.testing.assert_array_equal(values.ravel(), naive_pool(x, (2,) * 3, (2,) * 3, "SAME",
                                                              "MAX").ravel())
    assert values.max() < 0 and grad.sum() == 8


@pytest.mark.parametrize("dtype", [tf.float16, tf.float32])
def test_lower_precisions(executor, dtype):
    x = _RNG.uniform(-2, 2, size=(2, 4, 5, 3, 2))
    x_t = tf.constant(x, dtype=dtype)
    rounded = x.astype(dtype.as_numpy_dtype).astype(np.float64)
    ys = [tf.nn.max_pool3d(x_t, 2, 1, "SAME"), tf.nn.avg_pool3d(x_t, [2, 3, 2], 2, "VALID")]
    assert [y.dtype for y in ys] == [dtype, dtype]
    got = _run(ys)
    tolerance = 2e-3 if dtype == tf.float16 else 1e-6
    np.testing.assert_allclose(got[0], naive_pool(rounded, (2,) * 3, (1,) * 3, "SAME", "MAX"),
                               rtol=tolerance)
    np.testing.assert_allclose(got[1], naive_pool(rounded, (2, 3, 2), (2,) * 3, "VALID", "AVG"),
                               rtol=tolerance, atol=tolerance)


def test_empty_batch_and_window_up_to_a_stride_past_the_input(executor):
    x = tf.placeholder(tf.float32)
    empty = tf.nn.max_pool3d(x, [1, 2, 2, 2, 1], [1, 1, 1, 1, 1], "VALID")
    assert _run(empty, {x: np.zeros((0, 3, 3, 3, 1))}).shape == (0, 2, 2, 2, 1)
    # TF's VALID size truncates toward zero: a window 1 past an input of 2 gives depth 0.
    wide = tf.nn.avg_pool3d(x, [1, 3, 2, 2, 1], [1, 1, 1, 1, 1], "VALID")
    assert _run(wide, {x: np.ones((1, 2, 4, 4, 1))}).shape == (1, 0, 3, 3, 1)


# ---- graph construction: shapes, names, errors -----------------------------------------------

def test_shapes_names_and_attrs():
    x = tf.placeholder(tf.float32, [2, 5, 6, 7, 3])
    valid = tf.nn.max_pool3d(x, [1, 2, 3, 2, 1], [1, 2, 2, 3, 1], "VALID")
    same = tf.nn.avg_pool3d(x, [1, 2, 3, 2, 1], [1, 2, 2, 3, 1], "SAME", name="pooled")
    assert (valid.op.name, valid.shape.as_list()) == ("MaxPool3D", [2, 2, 2, 2, 3])
    assert (same.op.name, same.shape.as_list()) == ("pooled", [2, 3, 3, 3, 3])
    assert valid.op.get_attr("ksize") == [1, 2, 3, 2, 1]
    assert valid.op.get_attr("data_format") == "NDHWC" and valid.op.get_attr("T") == tf.float32
    # An int or 3 values become the 5-value attr, 1 in batch and channels (per layout).
    short = tf.nn.max_pool3d(x, 2, [1, 2, 3], "VALID")
    assert short.op.get_attr("ksize") == [1, 2, 2, 2, 1]
    assert short.op.get_attr("strides") == [1, 1, 2, 3, 1]
    first = tf.nn.avg_pool3d(tf.placeholder(tf.float32, [2, 3, 5, 6, 7]), [2, 3, 2], [2, 2, 3],
                             "SAME", data_format="NCDHW")
    assert first.op.get_attr("ksize") == [1, 1, 2, 3, 2]
    assert first.shape.as_list() == [2, 3, 3, 3, 3]
    partial = tf.nn.max_pool3d(tf.placeholder(tf.float32, [None, 5, None, 7, 3]), 2, 2,
                               "VALID")
    assert partial.shape.as_list() == [None, 2, None, 3, 3]
    assert tf.nn.avg_pool3d(tf.placeholder(tf.float32), 2, 2, "SAME").shape.as_list() == [
        None] * 5
    grad = tf.gradients(valid, x)[0]
    assert grad.op.get_attr("TInput") == tf.float32 and grad.shape == x.shape


def test_graph_time_errors_are_tfs():
    x = tf.placeholder(tf.float32, [2, 5, 6, 7, 3])
    with pytest.raises(ValueError, match="rank 5"):
        tf.nn.max_pool3d(tf.placeholder(tf.float32, [2, 3, 4, 5]), 2, 1, "VALID")
    with pytest.raises(ValueError, match=r"ksize should be of length 1, 3 or 5"):
        tf.nn.max_pool3d(x, [1, 2, 2, 1], 1, "VALID")
    with pytest.raises(ValueError, match=r"strides should be of length 1, 3 or 5"):
        tf.nn.avg_pool3d(x, 2, [1, 1, 1, 1], "VALID")
    with pytest.raises(ValueError, match="Attr 'padding' of 'MaxPool3D'"):
        tf.nn.max_pool3d(x, 2, 1, "same")  # TF's wrapper does not upper-case it
    with pytest.raises(ValueError, match="Attr 'data_format' of 'AvgPool3D'"):
        tf.nn.avg_pool3d(x, 2, 1, "VALID", data_format="NHWC")
    with pytest.raises(ValueError, match="Negative dimension size caused by subtracting 6 "
                                         "from 5 for 'MaxPool3D'"):
        tf.nn.max_pool3d(x, [1, 6, 2, 2, 1], 1, "VALID")
    assert tf.nn.max_pool3d(x, [1, 6, 2, 2, 1], 1, "SAME").shape.as_list() == [2, 5, 6, 7, 3]
    with pytest.raises(ValueError, match="strides must be positive"):
        tf.nn.max_pool3d(x, 2, [1, 0, 1, 1, 1], "VALID")
    with pytest.raises(TypeError):
        tf.nn.avg_pool3d(tf.placeholder(tf.int32, [1, 2, 2, 2, 1]), 2, 1, "VALID")
    graph = tf.get_default_graph()
    attrs = {"ksize": [1, 2, 2, 1], "strides": [1, 1, 1, 1, 1], "padding": "VALID"}
    with pytest.raises(ValueError, match="list of length 4 less than minimum 5"):
        graph.create_op("MaxPool3D", [x], attrs)
    pool_attrs = {"ksize": [1, 2, 2, 2, 1], "strides": [1, 2, 2, 2, 1], "padding": "SAME"}
    y = tf.placeholder(tf.float16, [2, 3, 3, 4, 3])
    with pytest.raises(TypeError, match="orig_output"):
        graph.create_op("MaxPool3DGrad", [x, y, y], dict(pool_attrs))
    # The gradient may have its own float type (TF's T apart from TInput).
    mixed = graph.create_op("MaxPool3DGrad", [x, tf.cast(y, tf.float32), y], dict(pool_attrs))
    assert mixed.outputs[0].dtype == tf.float16 and mixed.get_attr("TInput") == tf.float32
    with pytest.raises(TypeError, match="orig_input_shape"):
        graph.create_op("AvgPool3DGrad", [tf.constant([2, 5, 6, 7, 3], tf.int64), y],
                        dict(pool_attrs))
    with pytest.raises(ValueError, match="rank 5"):
        graph.create_op("AvgPool3DGrad", [tf.constant([2, 5, 6, 7]), y], dict(pool_attrs))
    sized = graph.create_op("AvgPool3DGrad", [tf.constant([2, 5, 6, 7, 3]), y],
                            dict(pool_attrs)).outputs[0]
    assert sized.shape.as_list() == [2, 5, 6, 7, 3] and sized.dtype == tf.float16


def test_run_time_errors_are_tfs(executor):
    ones = tf.constant(np.ones((2, 4, 4, 4, 2), np.float32))
    cases = [(tf.nn.max_pool3d(ones, [2, 2, 2, 2, 1], 1, "VALID"), tf.errors.UnimplementedError,
              "batch dimension"),
             (tf.nn.avg_pool3d(ones, [1, 2, 2, 2, 2], 1, "VALID"), tf.errors.UnimplementedError,
              "depth dimension"),
             (tf.nn.max_pool3d(ones, 2, [1, 1, 1, 1, 2], "VALID"), tf.errors.UnimplementedError,
              "depth dimension")]
    for fetch, error, message in cases:
        with pytest.raises(error, match=message):
            _run(fetch)
    x = tf.placeholder(tf.float32)
    with pytest.raises(tf.errors.InvalidArgumentError, match="would be negative"):
        _run(tf.nn.max_pool3d(x, [1, 3, 2, 2, 1], 1, "VALID"), {x: np.ones((1, 0, 4, 4, 1))})
    with pytest.raises(tf.errors.InvalidArgumentError, match="5-dimensional"):
        _run(tf.nn.avg_pool3d(x, 2, 1, "VALID"), {x: np.ones((2, 4, 4, 1))})
    graph = tf.get_default_graph()
    pool_attrs = {"ksize": [1, 2, 2, 2, 1], "strides": [1, 2, 2, 2, 1], "padding": "SAME"}
    bad = graph.create_op("MaxPool3DGrad", [tf.ones([1, 3, 3, 3, 1]), tf.ones([1, 2, 2, 2, 1]),
                                            tf.ones([1, 3, 2, 2, 1])], dict(pool_attrs))
    with pytest.raises(tf.errors.InvalidArgumentError, match="Expected grad shape"):
        _run(bad.outputs[0])
    bad = graph.create_op("AvgPool3DGrad", [tf.constant([1, 3, 3, 3, 1]),
                                            tf.ones([1, 3, 2, 2, 1])], dict(pool_attrs))
    with pytest.raises(tf.errors.InvalidArgumentError, match="Expected grad shape"):
        _run(bad.outputs[0])


# ---- tf.layers -----------------------------------------------------------------------------

def test_layer_names_shapes_and_values(executor):
    x_value = _RNG.uniform(-1, 1, size=(2, 5, 6, 7, 3))
    x = tf.constant(x_value)
    y = tf.layers.max_pooling3d(x, 2, 2)
    y2 = tf.layers.average_pooling3d(x, [2, 3, 2], [1, 2, 3], padding="same")
    y3 = tf.layers.max_pooling3d(x, 2, 2, name="pool")
    assert [(t.name, t.shape.as_list()) for t in (y, y2, y3)] == [
        ("max_pooling3d/MaxPool3D:0", [2, 2, 3, 3, 3]),
        ("average_pooling3d/AvgPool3D:0", [2, 5, 3, 3, 3]),
        ("pool/MaxPool3D:0", [2, 2, 3, 3, 3])]
    layer = tf.layers.MaxPooling3D((2, 2, 2), 1, data_format="channels_first")
    x_first = tf.constant(np.transpose(x_value, (0, 4, 1, 2, 3)))
    first, again = layer(x_first), layer(x_first)
    # TF's layer pools channels_first data channels_last, between two transposes; as in TF,
    # the named layer ("pool") counts for the layer's name but not for its name scope.
    assert layer.name == "max_pooling3d_2"
    assert [t.name for t in (first, again)] == ["max_pooling3d_1/transpose_1:0",
                                                "max_pooling3d_1/transpose_3:0"]
    assert first.op.inputs[0].op.type == "MaxPool3D" and first.shape.as_list() == [2, 3, 4, 5, 6]
    assert (layer.pool_size, layer.strides, layer.padding) == ((2, 2, 2), (1, 1, 1), "valid")
    assert layer.compute_output_shape([2, 3, 5, 6, 7]).as_list() == [2, 3, 4, 5, 6]
    average = tf.layers.AveragePooling3D(3, 2, padding="SAME")
    y6 = average(x)
    assert (average.name, y6.name) == ("average_pooling3d_2",
                                       "average_pooling3d_1/AvgPool3D:0")
    assert y6.shape.as_list() == [2, 3, 3, 4, 3]
    got = _run([y, y2, first, y6])
    np.testing.assert_allclose(got[0], naive_pool(x_value, (2,) * 3, (2,) * 3, "VALID", "MAX"))
    np.testing.assert_allclose(got[1], naive_pool(x_value, (2, 3, 2), (1, 2, 3), "SAME", "AVG"))
    np.testing.assert_allclose(np.transpose(got[2], (0, 2, 3, 4, 1)),
                               naive_pool(x_value, (2,) * 3, (1,) * 3, "VALID", "MAX"))
    np.testing.assert_allclose(got[3], naive_pool(x_value, (3,) * 3, (2,) * 3, "SAME", "AVG"))
    assert tf.layers.MaxPool3D is tf.layers.MaxPooling3D
    assert tf.layers.AvgPool3D is tf.layers.AveragePooling3D


def test_layer_errors():
    x = tf.placeholder(tf.float32, [2, 5, 6, 7, 3])
    with pytest.raises(ValueError, match="expected ndim=5, found ndim=4"):
        tf.layers.max_pooling3d(tf.placeholder(tf.float32, [2, 5, 6, 7]), 2, 2)
    with pytest.raises(ValueError, match="`pool_size` argument must be a tuple of 3"):
        tf.layers.average_pooling3d(x, [2, 2], 2)
    with pytest.raises(ValueError, match="`padding` argument"):
        tf.layers.max_pooling3d(x, 2, 2, padding="full")
