"""The arithmetic simplification pass (runtime/optimizer/arithmetic.py) and pow in fused chains.

Each rewrite: the plan holds the rewritten ops, and results equal those of the same graph with
``arithmetic_optimization`` OFF, on both executors, in process and in worker sessions. Feeds
win, fetched values survive, stateful ops and control inputs are kept, and the switches work.
A non-constant pow inside a fused chain runs the vectorised loop and agrees with numpy, also
on negative bases and special values.
"""

import numpy as np
import pytest

import sessionlib as tf
from sessionlib import errors
from sessionlib._core import fused
from sessionlib.protos import rewriter_config_pb2
from sessionlib.runtime import fusion, optimizer
from sessionlib.runtime import plan as plan_lib

OFF = rewriter_config_pb2.RewriterConfig.OFF
# Small test graphs are below the default min_graph_nodes: -1 rewrites every step.
ON_CONFIG = tf.ConfigProto(graph_options=tf.GraphOptions(
    rewrite_options=rewriter_config_pb2.RewriterConfig(min_graph_nodes=-1)))
OFF_CONFIG = tf.ConfigProto(graph_options=tf.GraphOptions(
    rewrite_options=rewriter_config_pb2.RewriterConfig(min_graph_nodes=-1,
                                                       arithmetic_optimization=OFF)))
ARITHMETIC = optimizer.RewriteOptions(["arithmetic_optimization"], min_graph_nodes=-1)


def _op_types(fetches, feeds=(), rewrites=ARITHMETIC, fuse=False):
    """The op types of the compiled plan of `fetches` (with only this pass, unfused)."""
    order = plan_lib.prune(list(feeds), list(fetches), [])
    plan, _, _ = plan_lib.compile_plan(order, list(feeds), list(fetches), fuse, rewrites)
    return list(plan.op_types)


def _run(config, fetches, feed_dict=None, targets=()):
    with tf.Session(config=config) as sess:
        for target in targets:
            sess.run(target)
        return sess.run(fetches, feed_dict)


def _assert_same(got, want):
    for got_value, want_value in zip(got, want):
        got_value, want_value = np.asarray(got_value), np.asarray(want_value)
        assert got_value.dtype == want_value.dtype and got_value.shape == want_value.shape
        if want_value.dtype.kind == "f":
            np.testing.assert_allclose(got_value, want_value, rtol=2e-6, equal_nan=True)
        else:
            np.testing.assert_array_equal(got_value, want_value)


def _rng_values(shape, dtype=np.float32, low=-2.0, high=2.0, seed=0):
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "f":
        return rng.uniform(low, high, shape).astype(dtype)
    return rng.integers(int(low), int(high) + 1, shape).astype(dtype)


# ---- each rewrite: the plan, and results equal to the unrewritten graph ----------------------

def _pow(x, exponent):
    return tf.pow(x, tf.constant(exponent, dtype=x.dtype))


# (name, build(x, y) -> fetch, the plan's op types with only the arithmetic pass, x's dtype,
# positive inputs only)
CASES = [
    ("pow_2", lambda x, y: _pow(x, 2.0), ["Square"], np.float32, False),
    ("pow_3", lambda x, y: _pow(x, 3.0), ["Square", "Mul"], np.float32, False),
    ("pow_4", lambda x, y: _pow(x, 4.0), ["Square", "Square"], np.float64, False),
    ("pow_1", lambda x, y: _pow(x, 1.0) + y, ["AddV2"], np.float32, False),
    ("pow_0", lambda x, y: _pow(x, 0.0), ["OnesLike"], np.float32, False),
    ("pow_half", lambda x, y: _pow(x, 0.5), ["Sqrt"], np.float32, True),
    ("pow_minus_half", lambda x, y: _pow(x, -0.5), ["Rsqrt"], np.float64, True),
    ("pow_minus_1", lambda x, y: _pow(x, -1.0), ["Reciprocal"], np.float32, True),
    ("pow_all_equal_vector", lambda x, y: tf.pow(x, tf.constant([2.0, 2.0, 2.0])),
     ["Square"], np.float32, False),
    ("pow_int_2", lambda x, y: _pow(x, 2), ["Square"], np.int32, False),
    ("pow_int_3", lambda x, y: _pow(x, 3), ["Square", "Mul"], np.int64, False),
    ("pow_int_0", lambda x, y: _pow(x, 0), ["OnesLike"], np.int32, False),
    ("pow_other_exponent", lambda x, y: _pow(x, 2.5), ["Const", "Pow"], np.float32, True),
    ("pow_mixed_exponent", lambda x, y: tf.pow(x, tf.constant([2.0, 3.0, 2.0])),
     ["Const", "Pow"], np.float32, False),
    ("pow_broadcasting_exponent",
     lambda x, y: tf.pow(x, tf.constant(np.full([2, 4, 3], 2.0, np.float32))),
     ["Const", "Pow"], np.float32, False),
    ("pow_fed_exponent", lambda x, y: tf.pow(x, y), ["Pow"], np.float32, True),
    ("mul_1", lambda x, y: x * 1.0 + y, ["AddV2"], np.float32, False),
    ("one_mul", lambda x, y: 1.0 * x + y, ["AddV2"], np.float32, False),
    ("add_0", lambda x, y: (x + 0.0) * y, ["Mul"], np.float32, False),
    ("zero_add", lambda x, y: tf.add(tf.zeros([4, 3]), x) * y, ["Mul"], np.float32, False),
    ("sub_0", lambda x, y: (x - tf.zeros([3])) * y, ["Mul"], np.float32, False),
    ("zero_sub_stays", lambda x, y: (0.0 - x) * y, ["Const", "Sub", "Mul"], np.float32,
     False),
    ("mul_broadcasting_ones", lambda x, y: x * tf.ones([2, 4, 3]),
     ["Const", "Mul"], np.float32, False),
    ("mul_int_1", lambda x, y: x * 1 + y, ["AddV2"], np.int32, False),
    ("neg_neg", lambda x, y: -(-x) * y, ["Mul"], np.float32, False),
    ("sub_neg", lambda x, y: x - (-y), ["AddV2"], np.float32, False),
    ("add_neg", lambda x, y: x + (-y), ["Sub"], np.float32, False),
    ("neg_add", lambda x, y: (-x) + y, ["Sub"], np.float32, False),
    ("cast_same", lambda x, y: tf.cast(x * y, tf.float32) + y, ["Mul", "AddV2"], np.float32,
     False),
    ("transpose_inverse",
     lambda x, y: tf.transpose(tf.transpose(tf.reshape(x, [2, 2, 3]), [1, 2, 0]),
                               [2, 0, 1]) * 2.0,
     ["Const", "Reshape", "Const", "Mul"], np.float32, False),
    ("transpose_identity", lambda x, y: tf.transpose(x, [0, 1]) * y, ["Mul"], np.float32,
     False),
    ("transpose_not_inverse",
     lambda x, y: tf.transpose(tf.transpose(tf.reshape(x, [2, 2, 3]), [1, 2, 0]),
                               [1, 2, 0]),
     ["Const", "Reshape", "Const", "Transpose", "Const", "Transpose"], np.float32, False),
    ("reshape_reshape", lambda x, y: tf.reshape(tf.reshape(x, [12]), [3, 4]),
     ["Const", "Reshape"], np.float32, False),
    ("reshape_same_shape", lambda x, y: tf.reshape(x, [4, 3]) * y, ["Mul"], np.float32,
     False),
    ("identity_chain", lambda x, y: tf.identity(tf.identity(tf.identity(x))) * y, ["Mul"],
     np.float32, False),
    ("mul_push_down", lambda x, y: (x * 2.0) * 3.0, ["Const", "Mul"], np.float32, False),
    ("mul_push_down_swapped", lambda x, y: 3.0 * (2.0 * x), ["Const", "Mul"], np.float64,
     False),
    ("add_push_down", lambda x, y: (x + 2.0) + 3.0 + 4.0, ["Const", "AddV2"], np.float32,
     False),
    ("int_push_down_stays", lambda x, y: (x * 2) * 3, ["Const", "Mul", "Const", "Mul"],
     np.int32, False),
]


@pytest.mark.parametrize("name, build, expected, dtype, positive", CASES,
                         ids=[case[0] for case in CASES])
def test_rewrite_keeps_results(executor, name, build, expected, dtype, positive):
    tf_dtype = tf.as_dtype(dtype)
    x = tf.placeholder(tf_dtype, [4, 3], name="x")
    y = tf.placeholder(tf_dtype, [4, 3], name="y")
    fetch = build(x, y)
    assert _op_types([fetch], [x, y]) == expected
    low = 0.25 if positive else -3.0
    feeds = {x: _rng_values([4, 3], dtype, low, 3.0, seed=1),
             y: _rng_values([4, 3], dtype, low, 3.0, seed=2)}
    want = _run(OFF_CONFIG, [fetch], feeds)
    got = _run(ON_CONFIG, [fetch], feeds)
    _assert_same(got, want)


def test_pow_by_3_on_a_variable_and_specials(executor):
    # x * square(x) rounds twice, pow once: they may differ by an ulp (as in TF).
    values = np.array([0.0, -0.0, 1.5, -1.5, 1e-3, -7.0, np.inf, -np.inf, np.nan], np.float32)
    x = tf.Variable(values)
    y = tf.pow(x, 3.0)
    assert "Pow" not in _op_types([y])
    want = _run(OFF_CONFIG, [y], targets=[tf.global_variables_initializer()])
    got = _run(ON_CONFIG, [y], targets=[tf.global_variables_initializer()])
    np.testing.assert_allclose(got[0], want[0], rtol=2e-7, equal_nan=True)
    np.testing.assert_array_equal(np.signbit(got[0]), np.signbit(want[0]))


def test_integer_pow_by_a_negative_exponent_still_raises(executor):
    x = tf.placeholder(tf.int32, [3])
    y = tf.pow(x, tf.constant(-1)) + 1
    assert "Pow" in _op_types([y], [x])
    with tf.Session(config=ON_CONFIG) as sess:
        with pytest.raises(errors.InvalidArgumentError, match="negative integer powers"):
            sess.run(y, {x: np.array([1, 2, 3], np.int32)})


def test_reshape_of_reshape_keeps_the_outer_shape_and_unknown_dims(executor):
    x = tf.placeholder(tf.float32, [None, 6])
    y = tf.reshape(tf.reshape(x, [-1, 3]), [-1, 2, 3]) + 1.0
    assert _op_types([y], [x]) == ["Const", "Reshape", "Const", "AddV2"]
    value = _rng_values([4, 6])
    got = _run(ON_CONFIG, [y], {x: value})[0]
    np.testing.assert_array_equal(got, value.reshape(-1, 2, 3) + 1)


# ---- what a rewrite must keep -------------------------------------------------------------------

def test_a_feed_wins_over_the_rewrite(executor):
    x = tf.placeholder(tf.float32, [3], name="x")
    inner = tf.negative(x, name="inner")
    outer = tf.negative(inner, name="outer") * 2.0
    exponent = tf.constant(2.0, name="exponent")
    power = tf.pow(x, exponent, name="power")
    value = np.array([1.0, -2.0, 3.0], np.float32)
    fed_inner = np.array([10.0, 20.0, 30.0], np.float32)
    # Feeding the inner neg: the outer one negates the fed value, never x.
    assert _op_types([outer], [x, inner]) == ["Neg", "Const", "Mul"]
    got = _run(ON_CONFIG, [outer], {x: value, inner: fed_inner})[0]
    np.testing.assert_array_equal(got, -fed_inner * 2)
    # A fed exponent is no constant: pow stays a pow.
    assert _op_types([power], [x, exponent]) == ["Pow"]
    got = _run(ON_CONFIG, [power], {x: value, exponent: np.float32(3.0)})[0]
    np.testing.assert_allclose(got, value ** 3)
    # A fed reshape target: the reshape to x's own static shape is no longer a no-op.
    matrix = tf.placeholder(tf.float32, [4, 3])
    shape = tf.constant([4, 3], name="shape")
    reshaped = tf.reshape(matrix, shape) * 2.0
    assert _op_types([reshaped], [matrix, shape]) == ["Reshape", "Const", "Mul"]
    assert _op_types([reshaped], [matrix]) == ["Const", "Mul"]
    matrix_value = _rng_values([4, 3])
    got = _run(ON_CONFIG, [reshaped], {matrix: matrix_value,
                                       shape: np.array([2, 6], np.int32)})[0]
    np.testing.assert_array_equal(got, matrix_value.reshape(2, 6) * 2)
    # A fed pow result is the result.
    total = power + 1.0
    got = _run(ON_CONFIG, [total], {x: value, power: fed_inner})[0]
    np.testing.assert_array_equal(got, fed_inner + 1)


def test_fetched_values_survive(executor):
    x = tf.placeholder(tf.float32, [3])
    times_one = x * 1.0
    inner = -x
    outer = -inner
    squared = x ** 2
    fetches = [times_one, inner, outer, squared]
    types = _op_types(fetches, [x])
    assert "Pow" not in types and "Identity" in types
    value = np.array([1.0, -2.0, 3.0], np.float32)
    got = _run(ON_CONFIG, fetches, {x: value})
    _assert_same(got, [value, -value, value, value ** 2])


def test_stateful_ops_and_control_inputs_are_kept(executor):
    counter = tf.Variable(0.0)
    bump = tf.assign_add(counter, 1.0)
    # x * 1 over a stateful op's output: the update still runs every step.
    y = bump * 1.0 + 0.0
    x = tf.placeholder(tf.float32, [])
    with tf.control_dependencies([bump]):
        waits = tf.identity(x)
    z = waits * 2.0
    assert "Identity" in _op_types([z], [x])
    with tf.Session(config=ON_CONFIG) as sess:
        sess.run(tf.global_variables_initializer())
        assert [sess.run(y) for _ in range(3)] == [1.0, 2.0, 3.0]
        assert sess.run(z, {x: 5.0}) == 10.0
        assert sess.run(counter) == 4.0


def test_dead_nodes_go_but_unread_targets_stay():
    x = tf.placeholder(tf.float32, [3])
    inner = -x
    outer = -inner * 2.0
    order = plan_lib.prune([x], [outer], [])
    nodes = [plan_lib.Node.of_op(op, index) for index, op in enumerate(order)]
    result = optimizer.optimize(nodes, [x], [outer], ARITHMETIC)
    assert [node.op_type for node in result] == ["Const", "Mul"]
    assert result[-1].inputs[0] is x
    # A step's unread stateless target is left to run.
    lone = tf.negative(tf.negative(x), name="lone")
    order = plan_lib.prune([x], [], [lone.op])
    nodes = [plan_lib.Node.of_op(op, index) for index, op in enumerate(order)]
    result = optimizer.optimize(nodes, [x], [], ARITHMETIC)
    assert [node.name for node in result][-1] == "lone/_rewrite_0"
    assert result[-1].attrs["_rewritten_from"] == ("lone",)


def test_rewritten_nodes_name_what_they_replaced():
    x = tf.placeholder(tf.float32, [3])
    y = tf.pow(x, 3.0, name="cube")
    order = plan_lib.prune([x], [y], [])
    nodes = [plan_lib.Node.of_op(op, index) for index, op in enumerate(order)]
    result = optimizer.optimize(nodes, [x], [y], ARITHMETIC)
    assert [node.op_type for node in result] == ["Square", "Mul"]
    assert all(node.attrs["_rewritten_from"] == ("cube",) for node in result)
    assert all(node.origin == order.index(y.op) for node in result)
    assert result[0].outputs[0] is result[1].inputs[1]
    assert isinstance(result[0].outputs[0], optimizer.RewrittenValue)
    assert result[1].outputs[0] is y and result[1].name.startswith("cube/_rewrite_")


# ---- switches ----------------------------------------------------------------------------------

def test_switches_turn_the_pass_off():
    x = tf.placeholder(tf.float32, [3])
    y = x ** 2
    assert _op_types([y], [x]) == ["Square"]
    for config in (OFF_CONFIG,
                   tf.ConfigProto(graph_options=tf.GraphOptions(
                       optimizer_options=tf.OptimizerOptions(
                           opt_level=tf.OptimizerOptions.L0))),
                   tf.ConfigProto(graph_options=tf.GraphOptions(
                       rewrite_options=rewriter_config_pb2.RewriterConfig(
                           min_graph_nodes=-1, disable_meta_optimizer=True)))):
        options = optimizer.RewriteOptions.from_config(config)
        assert _op_types([y], [x], options) == ["Const", "Pow"]
    # The default min_graph_nodes leaves a 2-node step alone.
    assert _op_types([y], [x], optimizer.ALL) == ["Const", "Pow"]


def test_in_process_session_compiles_the_rewrite(monkeypatch):
    monkeypatch.setenv("SESSIONLIB_WORKERS", "0")   # the step's plan is in this process
    a = tf.Variable(np.array([1.0, -2.0], np.float32))
    y = tf.exp(-(a * 2.0 + 1.0) ** 2)
    with tf.Session(config=ON_CONFIG) as sess:
        sess.run(a.initializer)
        step = sess._runtime.compile((), (y,), ())
        fused_types = [t for attrs in step.plan.attrs for t in attrs.get("fused_types", ())]
        assert "Square" in fused_types and "Pow" not in fused_types
        got = sess.run(y)
    np.testing.assert_allclose(got, np.exp(-np.square(np.array([1.0, -2.0]) * 2 + 1)),
                               rtol=1e-6)


# ---- worker sessions ----------------------------------------------------------------------------

def test_worker_sessions_run_the_rewritten_partitions(monkeypatch):
    monkeypatch.setenv("SESSIONLIB_WORKERS", "1")
    x = tf.placeholder(tf.float32, [4, 3], name="x")
    with tf.device("/cpu:0"):
        a = -x
    with tf.device("/cpu:1"):
        b = -a * 1.0                       # neg(neg(x)) * 1: reads x from CPU:0's neg
        y = tf.exp(-(b * 0.5 + 0.25) ** 2) + tf.pow(x, 0.5)
        z = tf.reshape(tf.reshape(b, [12]), [3, 4])
    value = _rng_values([4, 3], low=0.1, high=2.0)
    results = {}
    for name, base in (("on", ON_CONFIG), ("off", OFF_CONFIG)):
        config = tf.ConfigProto()
        config.CopyFrom(base)
        config.device_count["CPU"] = 2
        with tf.Session(config=config) as sess:
            results[name] = sess.run([y, z], {x: value})
            step = sess._runtime.compile((x,), (y, z), ())
            types = {device: [node.op_type for node in nodes]
                     for device, nodes in step.parted.nodes.items()}
            member_types = [t for nodes in step.parted.nodes.values() for node in nodes
                            for t in (node.attrs.get("fused_types") or (node.op_type,))]
            if name == "on":
                assert "Pow" not in member_types and "Sqrt" in member_types
                assert "Square" in member_types
                assert sum(t.count("Reshape") for t in types.values()) == 1
            else:
                assert "Pow" in member_types
    _assert_same(results["on"], results["off"])
    np.testing.assert_allclose(results["on"][0],
                               np.exp(-(value * 0.5 + 0.25) ** 2) + np.sqrt(value), rtol=1e-5)


# ---- pow in fused chains -------------------------------------------------------------------------

_SPECIALS = [0.0, -0.0, 1.0, -1.0, 2.0, -2.0, 0.5, -0.5, 3.0, -3.0, np.inf, -np.inf, np.nan,
             1e-30, -1e-30, 1e30, -1e30, 7.5, -7.5, 2.0 ** 25, -(2.0 ** 25), 0.3, -0.3]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_pow_matches_numpy_on_negative_bases_and_specials(dtype):
    base, exponent = np.meshgrid(np.array(_SPECIALS, dtype), np.array(_SPECIALS, dtype))
    base, exponent = base.ravel().copy(), exponent.ravel().copy()
    ones = np.ones_like(base)
    program = (fusion.OPCODES.index("pow"), 3, 0, 1, fusion.OPCODES.index("mul"), -1, 3, 2)
    attrs = {"program": program, "num_inputs": 3, "num_registers": 1, "reduce": 0,
             "reduce_src": -1, "reduce_axes": (), "keep_dims": False, "reduce_op": "",
             "_name": "pow_chain"}
    previous = fused._set_block(7)      # blocks mixing special and ordinary lanes
    try:
        got = fused.fused_elementwise(None, (base, exponent, ones), attrs)[0]
    finally:
        fused._set_block(previous)
    with np.errstate(all="ignore"):
        want = np.power(base, exponent)
    np.testing.assert_allclose(got, want, rtol=1e-6 if dtype == np.float32 else 1e-14,
                               equal_nan=True)
    same = ~np.isnan(want)
    np.testing.assert_array_equal(np.signbit(got[same]), np.signbit(want[same]))
    reference = fusion.reference_kernel(None, (base, exponent, ones), attrs)[0]
    np.testing.assert_allclose(got, reference, rtol=1e-6, equal_nan=True)


def test_non_constant_pow_in_a_chain_on_both_executors(executor):
    rng = np.random.default_rng(3)
    a_value = rng.uniform(0, 1, 5000).astype(np.float32)
    b_value = rng.uniform(0, 1, 5000).astype(np.float32)
    c_value = rng.uniform(-0.5, 0.5, 5000).astype(np.float32)
    e_value = rng.choice(np.array([2.0, 3.0, 1.5, -1.0], np.float32), 5000)
    a, b, c, e = (tf.placeholder(tf.float32, [None]) for _ in range(4))
    y = tf.exp(-tf.pow(a * b + c, e))
    assert _op_types([y], [a, b, c, e], fuse=True) == [fusion.FUSED_OP_TYPE]
    with tf.Session(config=ON_CONFIG) as sess:
        got = sess.run(y, {a: a_value, b: b_value, c: c_value, e: e_value})
    with np.errstate(all="ignore"):
        want = np.exp(-np.power(a_value * b_value + c_value, e_value))
    np.testing.assert_allclose(got, want, rtol=1e-5, equal_nan=True)
    assert np.isnan(got).any()          # negative bases to the power 1.5


# ---- a strided slice of a transpose, and its gradient ------------------------------------------

SLICE_DTYPES = [np.float32, np.float64, np.float16, np.int32, np.int64, np.uint8, np.bool_,
                np.int8]

# (name, build(t) -> the slice of t = transpose(x, [1, 0, 2]) with x of shape [4, 5, 6],
# whether the transpose goes)
SLICE_CASES = [
    ("last_step", lambda t: t[:, -1], True),
    ("first_step_short_spec", lambda t: t[:, 0], True),
    ("step_and_range", lambda t: t[1:3, 2, ::2], True),
    ("negative_stride", lambda t: t[::-1, 3, 1:5], True),
    ("no_shrink", lambda t: t[:, 1:3], False),       # kept dims 1, 0, 2: out of order
    ("ellipsis", lambda t: t[..., 1], False),
    ("new_axis", lambda t: t[:, 2, tf.newaxis], False),
]


def _slice_feeds(x, dtype):
    values = np.arange(4 * 5 * 6).reshape(4, 5, 6)
    if np.dtype(dtype) == np.bool_:
        values = values % 3 == 0
    return {x: values.astype(dtype)}


@pytest.mark.parametrize("dtype", SLICE_DTYPES, ids=[np.dtype(d).name for d in SLICE_DTYPES])
@pytest.mark.parametrize("name, build, goes", SLICE_CASES, ids=[c[0] for c in SLICE_CASES])
def test_strided_slice_of_a_transpose(executor, name, build, goes, dtype):
    x = tf.placeholder(tf.as_dtype(dtype), [4, 5, 6], name="x")
    sliced = build(tf.transpose(x, [1, 0, 2]))
    assert ("Transpose" not in _op_types([sliced], [x])) == goes
    feeds = _slice_feeds(x, dtype)
    want = _run(OFF_CONFIG, [sliced], feeds)
    got = _run(ON_CONFIG, [sliced], feeds)
    assert got[0].dtype == want[0].dtype and got[0].shape == want[0].shape
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(
        want[0], build_numpy(name, np.transpose(feeds[x], [1, 0, 2])))


def build_numpy(name, t):
    """The numpy slice of each SLICE_CASES entry."""
    return {"last_step": lambda: t[:, -1], "first_step_short_spec": lambda: t[:, 0],
            "step_and_range": lambda: t[1:3, 2, ::2], "negative_stride": lambda: t[::-1, 3, 1:5],
            "no_shrink": lambda: t[:, 1:3], "ellipsis": lambda: t[..., 1],
            "new_axis": lambda: t[:, 2, np.newaxis]}[name]()


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_gradient_of_a_slice_of_a_transpose_has_no_transpose(executor, dtype):
    # outputs[:, -1] of a time-major value transposed to batch-major, as dynamic_rnn's.
    x = tf.placeholder(tf.as_dtype(dtype), [5, 4, 6], name="x")
    weights = tf.constant(np.linspace(-1, 1, 24).reshape(4, 6).astype(dtype))
    loss = tf.reduce_sum(tf.transpose(x * 1.5, [1, 0, 2])[:, -1] * weights)
    (grad,) = tf.gradients(loss, [x])
    types = _op_types([grad], [x])
    assert "Transpose" not in types and types.count("StridedSliceGrad") == 1
    feeds = {x: _rng_values([5, 4, 6], dtype)}
    want = _run(OFF_CONFIG, [grad], feeds)[0]
    got = _run(ON_CONFIG, [grad], feeds)[0]
    np.testing.assert_array_equal(got, want)
    expected = np.zeros([5, 4, 6], dtype)
    expected[-1] = 1.5 * weights_value(dtype)
    np.testing.assert_array_equal(got, expected)


def weights_value(dtype):
    return np.linspace(-1, 1, 24).reshape(4, 6).astype(dtype)


def test_slice_of_a_transpose_keeps_feeds_fetches_and_errors(executor):
    x = tf.placeholder(tf.float32, [4, 5, 6], name="x")
    transposed = tf.transpose(x, [1, 0, 2])
    sliced = transposed[:, -1]
    value = _rng_values([4, 5, 6])
    # A fed transpose is the value the slice reads.
    fed = _rng_values([5, 4, 6], seed=7)
    assert "Transpose" not in _op_types([sliced], [x])
    assert _op_types([sliced], [x, transposed]) == ["Const", "Const", "Const", "StridedSlice"]
    got = _run(ON_CONFIG, [sliced], {x: value, transposed: fed})[0]
    np.testing.assert_array_equal(got, fed[:, -1])
    # A fetched transpose still runs, and both values are right.
    got_t, got_s = _run(ON_CONFIG, [transposed, sliced], {x: value})
    np.testing.assert_array_equal(got_t, value.transpose(1, 0, 2))
    np.testing.assert_array_equal(got_s, value.transpose(1, 0, 2)[:, -1])
    # An index into a dimension of unknown size may be out of range at run time: the slice
    # stays on the transpose, and the error is the unrewritten one.
    open_x = tf.placeholder(tf.float32, [None, 5, 6], name="open_x")
    open_sliced = tf.transpose(open_x, [1, 0, 2])[:, 3]
    assert "Transpose" in _op_types([open_sliced], [open_x])
    with tf.Session(config=ON_CONFIG) as sess:
        with pytest.raises(errors.InvalidArgumentError,
                           match="index 3 is out of bounds for axis 1"):
            sess.run(open_sliced, {open_x: _rng_values([2, 5, 6])})
    # A begin that is not a constant: nothing moves.
    begin = tf.placeholder(tf.int32, [3], name="begin")
    dynamic = tf.strided_slice(transposed, begin, [5, 4, 6], [1, 1, 1], shrink_axis_mask=2)
    assert "Transpose" in _op_types([dynamic], [x, begin])


def test_slice_grad_read_twice_keeps_its_transpose(executor):
    x = tf.placeholder(tf.float32, [5, 4, 6], name="x")
    dy = tf.placeholder(tf.float32, [4, 6], name="dy")
    from sessionlib.ops import array_ops
    grad = array_ops._strided_slice_grad(tf.constant([4, 5, 6]), tf.constant([0, -1]),
                                         tf.constant([0, 0]), tf.constant([1, 1]), dy,
                                         {"begin_mask": 1, "end_mask": 1,
                                          "shrink_axis_mask": 2})
    moved = tf.transpose(grad, [1, 0, 2])
    assert _op_types([moved], [dy]).count("Transpose") == 0
    # The unmoved gradient is fetched too: moving it would compute it twice.
    assert _op_types([moved, grad], [dy]).count("Transpose") == 1
    dy_value = _rng_values([4, 6])
    got_moved, got_grad = _run(ON_CONFIG, [moved, grad], {dy: dy_value})
    want = np.zeros([4, 5, 6], np.float32)
    want[:, -1] = dy_value
    np.testing.assert_array_equal(got_grad, want)
    np.testing.assert_array_equal(got_moved, want.transpose(1, 0, 2))
    (only_moved,) = _run(ON_CONFIG, [moved], {dy: dy_value})
    np.testing.assert_array_equal(only_moved, want.transpose(1, 0, 2))
    del x
