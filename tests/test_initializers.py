"""TF 1's initializer classes: exact values of the deterministic ones, statistics of the random
ones on large shapes, seeding across sessions, configs and errors.

Configs, defaults and messages were checked against TF 2.21 (``tf.compat.v1``). Random values
are checked by their statistics (the generators are sessionlib's, not TF's Philox): the
tolerances are several standard errors of the estimates for the sizes drawn.
"""

import math

import numpy as np
import pytest

import sessionlib as tf
from sessionlib.ops import init_ops


@pytest.fixture(autouse=True)
def _fresh_graph():
    with tf.Graph().as_default() as graph:
        yield graph


def _run(tensors):
    with tf.Session() as session:
        return session.run(tensors)


# ---- deterministic initializers ----------------------------------------------------------------

def test_zeros_ones_constant():
    values = _run([tf.zeros_initializer()([2, 3]), tf.ones_initializer(dtype=tf.int32)([2]),
                   tf.zeros_initializer()([2], dtype=tf.float64),
                   tf.constant_initializer(7)([2]), tf.constant_initializer([1, 2])([2, 3]),
                   tf.constant_initializer(np.arange(6).reshape(2, 3))([2, 3], tf.int64)])
    np.testing.assert_array_equal(values[0], np.zeros((2, 3), np.float32))
    assert values[0].dtype == np.float32
    np.testing.assert_array_equal(values[1], [1, 1])
    assert values[1].dtype == np.int32
    assert values[2].dtype == np.float64
    np.testing.assert_array_equal(values[3], [7.0, 7.0])
    # TF 2.21: a short list is padded with its last value.
    np.testing.assert_array_equal(values[4], [[1, 2, 2], [2, 2, 2]])
    np.testing.assert_array_equal(values[5], np.arange(6).reshape(2, 3))
    assert values[5].dtype == np.int64


def test_identity():
    values = _run([tf.initializers.identity(gain=2.0)([2, 3]),
                   tf.initializers.identity()([3, 3], dtype=tf.float64)])
    np.testing.assert_array_equal(values[0], [[2, 0, 0], [0, 2, 0]])
    np.testing.assert_array_equal(values[1], np.eye(3))
    assert values[1].dtype == np.float64
    with pytest.raises(ValueError) as info:
        tf.initializers.identity()([2, 2, 2])
    assert str(info.value) == ("The tensor to initialize, specified by argument `shape` must "
                               "be at least two-dimensional. Received shape=[2, 2, 2]")


def test_identity_part():
    part = init_ops.PartitionInfo(full_shape=[4, 4], var_offset=[2, 0])
    value = _run(tf.initializers.identity()([2, 4], partition_info=part))
    np.testing.assert_array_equal(value, np.eye(4)[2:])


# ---- random initializers -----------------------------------------------------------------------

def _stats(initializer, shape=(400, 500), dtype=None):
    value = _run(initializer(list(shape), dtype=dtype))
    assert value.shape == tuple(shape)
    return value, float(value.mean()), float(value.std())


def test_random_uniform_and_normals():
    value, mean, std = _stats(tf.random_uniform_initializer(-2.0, 4.0, seed=1))
    assert value.min() >= -2.0 and value.max() < 4.0
    assert abs(mean - 1.0) < 0.02 and abs(std - 6 / math.sqrt(12)) < 0.02
    value, mean, std = _stats(tf.random_normal_initializer(1.0, 2.0, seed=2))
    assert abs(mean - 1.0) < 0.02 and abs(std - 2.0) < 0.02
    value, mean, std = _stats(tf.truncated_normal_initializer(0.5, 2.0, seed=3))
    assert value.min() >= 0.5 - 4.0 and value.max() <= 0.5 + 4.0
    # A unit normal truncated to two standard deviations has std 0.8796.
    assert abs(mean - 0.5) < 0.02 and abs(std - 2.0 * 0.87962566103423978) < 0.02
    ints = _run(tf.random_uniform_initializer(0, 5, seed=4, dtype=tf.int32)([1000]))
    assert ints.dtype == np.int32 and set(np.unique(ints)) == {0, 1, 2, 3, 4}


@pytest.mark.parametrize("mode, fan", [("fan_in", 400), ("fan_out", 500), ("fan_avg", 450)])
@pytest.mark.parametrize("distribution", ["truncated_normal", "normal", "untruncated_normal",
                                          "uniform"])
def test_variance_scaling_has_the_requested_variance(mode, fan, distribution):
    initializer = tf.variance_scaling_initializer(scale=2.0, mode=mode,
                                                  distribution=distribution, seed=7)
    value, mean, std = _stats(initializer)
    expected = math.sqrt(2.0 / fan)
    # TF 1 divides the truncated normal's stddev by 0.8796, so the variance is right.
    assert abs(mean) < 0.01 * expected * 10
    assert abs(std - expected) < 0.01 * expected
    if distribution == "uniform":
        assert np.abs(value).max() <= math.sqrt(3.0 * 2.0 / fan)
    elif distribution != "untruncated_normal":
        assert np.abs(value).max() <= 2 * expected / 0.87962566103423978 + 1e-6


def test_variance_scaling_fans_of_convolution_kernels():
    # A [3, 3, 16, 32] kernel: fan_in = 9 * 16, fan_out = 9 * 32 (TF's _compute_fans).
    assert init_ops._compute_fans([3, 3, 16, 32]) == (144, 288)
    assert init_ops._compute_fans([5]) == (5, 5)
    assert init_ops._compute_fans([]) == (1, 1)
    value, _, std = _stats(tf.glorot_uniform_initializer(seed=1), shape=(3, 3, 160, 320))
    limit = math.sqrt(6.0 / (1440 + 2880))
    assert np.abs(value).max() <= limit
    assert abs(std - limit / math.sqrt(3)) < 0.01 * limit


@pytest.mark.parametrize("factory, scale, mode, uniform", [
    (tf.glorot_uniform_initializer, 1.0, "fan_avg", True),
    (tf.glorot_normal_initializer, 1.0, "fan_avg", False),
    (tf.initializers.he_normal, 2.0, "fan_in", False),
    (tf.initializers.he_uniform, 2.0, "fan_in", True),
    (tf.initializers.lecun_normal, 1.0, "fan_in", False),
    (tf.initializers.lecun_uniform, 1.0, "fan_in", True),
])
def test_named_variance_scalings(factory, scale, mode, uniform):
    initializer = factory(seed=11)
    assert initializer.scale == scale and initializer.mode == mode
    assert initializer.distribution == ("uniform" if uniform else "truncated_normal")
    fan = {"fan_in": 400, "fan_avg": 450}[mode]
    _, _, std = _stats(initializer)
    assert abs(std - math.sqrt(scale / fan)) < 0.01 * math.sqrt(scale / fan)


def test_uniform_unit_scaling():
    value, _, std = _stats(tf.uniform_unit_scaling_initializer(factor=1.5, seed=1))
    limit = math.sqrt(3.0 / 400) * 1.5
    assert np.abs(value).max() <= limit and abs(std - limit / math.sqrt(3)) < 0.01 * limit


@pytest.mark.parametrize("shape", [(6, 6), (10, 4), (4, 10), (3, 2, 5), (2, 3, 4, 6)])
def test_orthogonal(shape):
    value = _run(tf.orthogonal_initializer(gain=1.5, seed=3)(list(shape)))
    assert value.shape == shape
    flat = value.reshape(-1, shape[-1])
    gram = flat.T @ flat if flat.shape[0] >= flat.shape[1] else flat @ flat.T
    np.testing.assert_allclose(gram, 1.5 ** 2 * np.eye(min(flat.shape)), atol=1e-5)
    with pytest.raises(ValueError) as info:
        tf.orthogonal_initializer()([3])
    assert str(info.value) == ("The tensor to initialize, specified by argument `shape` must "
                               "be at least two-dimensional. Received shape=[3]")


# ---- seeding -------------------------------------------------------------------------------------

def _draw(graph_seed, op_seed, factory=tf.random_normal_initializer):
    graph = tf.Graph()
    with graph.as_default():
        if graph_seed is not None:
            tf.set_random_seed(graph_seed)
        value = factory(seed=op_seed)([4, 5])
        with tf.Session() as session:
            return session.run(value)


@pytest.mark.parametrize("factory", [tf.random_normal_initializer, tf.random_uniform_initializer,
                                     tf.truncated_normal_initializer,
                                     tf.glorot_uniform_initializer, tf.orthogonal_initializer])
def test_seeds_reproduce_across_sessions_and_graphs(factory):
    np.testing.assert_array_equal(_draw(1, 2, factory), _draw(1, 2, factory))
    np.testing.assert_array_equal(_draw(None, 2, factory), _draw(None, 2, factory))
    assert not np.array_equal(_draw(1, 2, factory), _draw(1, 3, factory))
    assert not np.array_equal(_draw(1, 2, factory), _draw(4, 2, factory))


def test_seeded_variable_initializers_repeat_in_new_sessions():
    tf.set_random_seed(42)
    v = tf.get_variable("v", [3, 3], initializer=tf.glorot_normal_initializer(seed=1))
    w = tf.get_variable("w", [3, 3])  # op seed from the graph seed
    values = []
    for _ in range(2):
        with tf.Session() as session:
            session.run(tf.global_variables_initializer())
            values.append(session.run([v, w]))
    np.testing.assert_array_equal(values[0][0], values[1][0])
    np.testing.assert_array_equal(values[0][1], values[1][1])
    assert not np.array_equal(values[0][0], values[0][1])


def test_seed_is_recorded_on_the_random_op():
    tf.set_random_seed(9)
    tf.random_normal_initializer(seed=4)([2])
    draw = [op for op in tf.get_default_graph().get_operations()
            if op.type == "RandomStandardNormal"][0]
    assert (draw.get_attr("seed"), draw.get_attr("seed2")) == (9, 4)


# ---- configs, namespaces and errors ---------------------------------------------------------

def test_configs_match_tf():
    assert tf.zeros_initializer().get_config() == {"dtype": "float32"}
    assert tf.ones_initializer().get_config() == {"dtype": "float32"}
    assert tf.constant_initializer([1, 2]).get_config() == {"value": [1, 2], "dtype": "float32"}
    assert tf.random_uniform_initializer().get_config() == {
        "minval": 0.0, "maxval": None, "seed": None, "dtype": "float32"}
    assert tf.random_normal_initializer().get_config() == {
        "mean": 0.0, "stddev": 1.0, "seed": None, "dtype": "float32"}
    assert tf.truncated_normal_initializer().get_config() == {
        "mean": 0.0, "stddev": 1.0, "seed": None, "dtype": "float32"}
    assert tf.glorot_uniform_initializer().get_config() == {"seed": None, "dtype": "float32"}
    assert tf.glorot_normal_initializer().get_config() == {"seed": None, "dtype": "float32"}
    assert tf.variance_scaling_initializer(distribution="NORMAL").get_config() == {
        "scale": 1.0, "mode": "fan_in", "distribution": "normal", "seed": None,
        "dtype": "float32"}
    assert tf.orthogonal_initializer().get_config() == {"gain": 1.0, "seed": None,
                                                        "dtype": "float32"}
    assert tf.uniform_unit_scaling_initializer().get_config() == {
        "factor": 1.0, "seed": None, "dtype": "float32"}
    assert tf.initializers.identity().get_config() == {"gain": 1.0, "dtype": "float32"}
    assert tf.initializers.he_normal().get_config() == {
        "scale": 2.0, "mode": "fan_in", "distribution": "truncated_normal", "seed": None,
        "dtype": "float32"}
    assert tf.initializers.lecun_uniform(seed=3).get_config() == {
        "scale": 1.0, "mode": "fan_in", "distribution": "uniform", "seed": 3,
        "dtype": "float32"}
    restored = tf.random_normal_initializer.from_config({"mean": 1.0, "stddev": 2.0,
                                                         "seed": 5, "dtype": "float64"})
    assert (restored.mean, restored.stddev, restored.seed) == (1.0, 2.0, 5)


def test_initializers_namespace():
    names = ["constant", "global_variables", "glorot_normal", "glorot_uniform", "he_normal",
             "he_uniform", "identity", "lecun_normal", "lecun_uniform", "local_variables",
             "ones", "orthogonal", "random_normal", "random_uniform", "truncated_normal",
             "uniform_unit_scaling", "variables", "variance_scaling", "zeros"]
    for name in names:
        assert hasattr(tf.initializers, name), name
    assert tf.initializers.zeros is tf.zeros_initializer
    assert tf.initializers.glorot_uniform is tf.glorot_uniform_initializer
    v = tf.Variable(1.0)
    local = tf.Variable(2.0, collections=[tf.GraphKeys.LOCAL_VARIABLES])
    with tf.Session() as session:
        session.run([tf.initializers.global_variables(), tf.initializers.local_variables()])
        assert session.run([v, local]) == [1.0, 2.0]
        assert tf.initializers.variables([v]).type == "NoOp"


def test_errors_match_tf():
    cases = [
        (lambda: tf.variance_scaling_initializer(mode="bad"), ValueError,
         "Argument `mode` should be one of ('fan_in', 'fan_out', 'fan_avg'). Received: bad"),
        (lambda: tf.variance_scaling_initializer(distribution="bad"), ValueError,
         "Argument `distribution` should be one of ('normal', uniform', 'truncated_normal', "
         "'untruncated_normal'). Received: bad"),
        (lambda: tf.variance_scaling_initializer(scale=0), ValueError,
         "Argument `scale` must be a positive float. Received: 0"),
        (lambda: tf.random_normal_initializer(dtype=tf.int32), ValueError,
         "Argument `dtype` is expected to be floating point. Received: <dtype: 'int32'>."),
        (lambda: tf.constant_initializer({}), TypeError,
         "Invalid type for initial value={} of type: dict. Expected Python scalar, list or "
         "tuple of values, or numpy.ndarray."),
    ]
    for make, error, message in cases:
        with pytest.raises(error) as info:
            make()
        assert str(info.value) == message


def test_initializer_in_get_variable_gets_shape_and_dtype():
    v = tf.get_variable("v", [2, 2], dtype=tf.float64,
                        initializer=tf.random_uniform_initializer(1.0, 2.0, seed=1))
    assert v.dtype == tf.float64
    with tf.Session() as session:
        session.run(v.initializer)
        value = session.run(v)
    assert value.dtype == np.float64 and ((value >= 1.0) & (value < 2.0)).all()
