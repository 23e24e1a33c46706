"""Fusion of elementwise chains (runtime/fusion.py, _core/fused.pyx) and zero-copy feeds.

Which chains fuse and which values stay materialised; fused results equal the unfused ones on
both executors for every dtype, with read-only inputs, broadcasting, blocks and threads; fused
reductions; members read outside their chain as extra outputs; errors, traces, the off
switches; and that feeds are read in place, never written.
"""

import pickle

import numpy as np
import pytest

import sessionlib as tf
from sessionlib import errors
from sessionlib._core import elementwise, fused
from sessionlib.client import session as session_lib
from sessionlib.runtime import fusion
from sessionlib.runtime import plan as plan_lib

FLOATS = (tf.float16, tf.float32, tf.float64)
INTS = (tf.int8, tf.int16, tf.int32, tf.int64, tf.uint8)
NO_FUSION = tf.ConfigProto(graph_options=tf.GraphOptions(
    optimizer_options=tf.OptimizerOptions(opt_level=tf.OptimizerOptions.L0)))


def _plan(fetches, feeds=(), fuse=True):
    order = plan_lib.prune(list(feeds), list(fetches), [])
    plan, _, _ = plan_lib.compile_plan(order, list(feeds), list(fetches), fuse)
    return plan


def _fused_nodes(plan):
    return [attrs for attrs, op_type in zip(plan.attrs, plan.op_types)
            if op_type == fusion.FUSED_OP_TYPE]


def _values(shape, dtype, seed, low=-3, high=4):
    rng = np.random.default_rng(seed)
    np_dtype = np.dtype(dtype.as_numpy_dtype)
    if dtype.is_floating:
        array = rng.uniform(low, high, shape).astype(np_dtype)
    else:
        array = rng.integers(max(low, 0) if dtype.is_unsigned else low, high,
                             shape).astype(np_dtype)
    array.setflags(write=False)
    return array


def _run_both(fetches, feed_dict):
    """(fused, unfused) results of one run on the default graph."""
    with tf.Session() as sess:
        fused_result = sess.run(fetches, feed_dict)
    with tf.Session(config=NO_FUSION) as sess:
        plain_result = sess.run(fetches, feed_dict)
    return fused_result, plain_result


def _assert_close(actual, expected, dtype):
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape and actual.dtype == expected.dtype
    if expected.dtype.kind == "f":
        tolerance = {2: 1e-3, 4: 1e-5, 8: 1e-12}[expected.dtype.itemsize]
        np.testing.assert_allclose(actual, expected, rtol=tolerance, atol=tolerance,
                                   equal_nan=True)
    else:
        np.testing.assert_array_equal(actual, expected)


# ---- which chains fuse ----------------------------------------------------------------------

def test_opcode_tables_agree():
    assert tuple(fused.OPCODE_NAMES) == fusion.OPCODES
    assert tuple(fused.REDUCTION_NAMES[1:]) == fusion.REDUCTIONS


def test_a_chain_becomes_one_node_that_names_its_ops():
    a, b, c = (tf.placeholder(tf.float32, [None], name=n) for n in "abc")
    y = tf.exp(-tf.square(a * b + c), name="y")
    plan = _plan([y], [a, b, c])
    assert list(plan.op_types) == [fusion.FUSED_OP_TYPE]
    (attrs,) = _fused_nodes(plan)
    assert attrs["fused_ops"] == ("mul", "add", "Square", "Neg", "y")
    assert attrs["fused_types"] == ("Mul", "AddV2", "Square", "Neg", "Exp")
    # Two registers: an instruction never writes one of its operands (see fusion.py).
    assert attrs["num_inputs"] == 3 and attrs["num_registers"] == 2
    # The node stands for the chain's last op: errors and traces map back to it.
    assert plan.origins.tolist() == [4]
    assert fusion.describe(attrs) == ["r0 = mul(in0, in1)", "r1 = add(r0, in2)",
                                      "r0 = square(r1)", "r1 = neg(r0)", "out = exp(r1)"]


def test_a_single_op_is_not_fused():
    a = tf.placeholder(tf.float32, [None])
    plan = _plan([a + 1.0], [a])
    assert fusion.FUSED_OP_TYPE not in plan.op_types


def test_fetched_intermediates_stay_materialised():
    a, b = tf.placeholder(tf.float32, [None]), tf.placeholder(tf.float32, [None])
    t = a * b
    y = tf.exp(tf.negative(t))
    plan = _plan([t, y], [a, b])
    assert list(plan.op_types) == ["Mul", fusion.FUSED_OP_TYPE]
    assert _fused_nodes(plan)[0]["fused_types"] == ("Neg", "Exp")


def test_fed_intermediates_are_not_fused():
    a, b = tf.placeholder(tf.float32, [None]), tf.placeholder(tf.float32, [None])
    t = tf.square(a * b)
    y = tf.exp(tf.negative(t))
    plan = _plan([y], [a, b, t])
    assert [attrs["fused_types"] for attrs in _fused_nodes(plan)] == [("Neg", "Exp")]
    a_value = np.ones(3, np.float32)
    t_value = np.array([0.0, 1.0, 2.0], np.float32)
    with tf.Session() as sess:
        result = sess.run(y, {a: a_value, b: a_value, t: t_value})
    np.testing.assert_allclose(result, np.exp(-t_value), rtol=1e-6)


def test_multi_consumer_intermediates_stay_materialised():
    a = tf.placeholder(tf.float32, [None])
    t = a * 2.0
    y = tf.exp(t) + tf.sin(t)
    plan = _plan([y], [a])
    assert "Mul" in plan.op_types
    assert _fused_nodes(plan)[0]["fused_types"] == ("Exp", "Sin", "AddV2")
    value = np.linspace(-1, 1, 7, dtype=np.float32)
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(y, {a: value}),
                                   np.exp(2 * value) + np.sin(2 * value), rtol=1e-6)


def test_trees_fuse_and_shared_inputs_are_read_once():
    a, b = tf.placeholder(tf.float32, [None]), tf.placeholder(tf.float32, [None])
    y = tf.maximum(tf.square(a - b), tf.sqrt(tf.abs(a * b))) * (a + b)
    plan = _plan([y], [a, b])
    (attrs,) = _fused_nodes(plan)
    assert attrs["num_inputs"] == 2 and len(attrs["fused_ops"]) == 8


@pytest.mark.parametrize("dtype", FLOATS + INTS)
def test_add_n_folds_into_a_chain_in_its_own_order(dtype):
    # The gradient averaging of multi-tower training: add_n of the towers' gradients, then a
    # division. The fold adds left to right with two scratch registers, as AddN's kernel does,
    # so the fused sum is the unfused one bit for bit.
    parts = [tf.placeholder(dtype, [5, 3], name=f"g{i}") for i in range(4)]
    y = tf.add_n(parts) * tf.constant(3, dtype)
    plan = _plan([y], parts)
    assert list(plan.op_types) == ["Const", fusion.FUSED_OP_TYPE]
    (attrs,) = _fused_nodes(plan)
    assert attrs["fused_types"] == ("AddN", "Mul")
    # (r0, AddN's own register, is taken first; r1 and r2 hold the partial sums.)
    assert fusion.describe(attrs) == ["r1 = add(in0, in1)", "r2 = add(r1, in2)",
                                      "r0 = add(r2, in3)", "out = mul(r0, in4)"]
    values = {part: _values([5, 3], dtype, seed) for seed, part in enumerate(parts)}
    fused_result, plain_result = _run_both(y, values)
    np.testing.assert_array_equal(fused_result, plain_result)


def test_add_n_of_unknown_or_different_shapes_stays_unfused():
    # AddN refuses different shapes where an add would broadcast: fused only when the shapes
    # are known equal.
    a, b = tf.placeholder(tf.float32, [None, 3]), tf.placeholder(tf.float32, [None, 3])
    y = tf.exp(tf.add_n([a, b]))
    assert _fused_nodes(_plan([y], [a, b])) == []
    with tf.Session() as sess:
        with pytest.raises(errors.InvalidArgumentError, match="same size and shape"):
            sess.run(y, {a: np.ones((2, 3), np.float32), b: np.ones((1, 3), np.float32)})


def test_comparisons_and_integer_division_do_not_fuse():
    a = tf.placeholder(tf.int32, [None])
    y = tf.floordiv(a * 3, 2) + 1
    plan = _plan([y], [a])
    assert fusion.FUSED_OP_TYPE not in plan.op_types
    x = tf.placeholder(tf.float32, [None])
    mask = tf.greater(x * 2.0, 1.0)
    assert fusion.FUSED_OP_TYPE not in _plan([mask], [x]).op_types
    z = tf.floordiv(x * 3.0, 2.0) + 1.0
    assert _fused_nodes(_plan([z], [x]))[0]["fused_types"] == ("Mul", "FloorDiv", "AddV2")


def test_reductions_with_constant_axes_end_a_chain():
    a = tf.placeholder(tf.float32, [None, 5])
    total = tf.reduce_sum(tf.exp(a * a), axis=1)
    plan = _plan([total], [a])
    (attrs,) = _fused_nodes(plan)
    assert attrs["fused_types"] == ("Mul", "Exp", "Sum")
    assert attrs["reduce_axes"] == (1,) and attrs["reduce_op"] == "Sum"
    # Axes that are fed or computed at run time keep the reduction separate.
    axes = tf.placeholder(tf.int32, [None])
    plan = _plan([tf.reduce_max(tf.exp(a * a), axis=axes)], [a, axes])
    assert _fused_nodes(plan)[0]["reduce"] == 0 and "Max" in plan.op_types
    const_axes = tf.constant([1])
    fed = tf.reduce_min(tf.exp(a * a), axis=const_axes)
    plan = _plan([fed], [a, const_axes])
    assert "Min" in plan.op_types
    # A reduction of a value used elsewhere does not absorb it.
    y = tf.exp(a)
    plan = _plan([tf.reduce_mean(y), y], [a])
    assert "Mean" in plan.op_types


def test_plans_with_fused_nodes_pickle_and_rebind():
    a, b = tf.placeholder(tf.float32, [None]), tf.placeholder(tf.float32, [None])
    y = tf.reduce_sum(tf.sigmoid(a * b), keepdims=True)
    plan = _plan([y], [a, b])
    copy = pickle.loads(pickle.dumps(plan)).rebind()
    assert copy.op_types == plan.op_types and copy.attrs[-1]["program"] == \
        plan.attrs[-1]["program"]


# ---- results equal the unfused ones ---------------------------------------------------------

def _int_chain(x, y, s):
    return tf.maximum(tf.abs(x * y - s), tf.square(x + s)) - tf.nn.relu(tf.negative(y))


def _float_chain(x, y, s):
    return tf.exp(-tf.square(x * y + s)) + tf.sigmoid(x) * tf.tanh(y) - tf.sqrt(tf.abs(x) + s)


@pytest.mark.parametrize("dtype", FLOATS + INTS, ids=lambda d: d.name)
def test_fused_chains_equal_unfused_for_every_dtype(executor, dtype):
    x = tf.placeholder(dtype, None)
    y = tf.placeholder(dtype, None)
    s = tf.placeholder(dtype, None)
    chain = _float_chain if dtype.is_floating else _int_chain
    fetches = [chain(x, y, s),                      # full, trailing broadcast, scalar
               chain(y, x, s),
               tf.reduce_sum(chain(x, y, s), axis=[-1]),
               tf.reduce_max(chain(x, y, s)),
               tf.reduce_min(chain(x, y, s), axis=1, keepdims=True),
               tf.reduce_mean(chain(x, y, s), axis=0)]
    feeds = {x: _values((3, 4), dtype, 1), y: _values((4,), dtype, 2, low=1),
             s: _values((), dtype, 3, low=1)}
    assert all(not value.flags.writeable for value in feeds.values())
    fused_result, plain_result = _run_both(fetches, feeds)
    for actual, expected in zip(fused_result, plain_result):
        _assert_close(actual, expected, dtype)


@pytest.mark.parametrize("dtype", (tf.float32, tf.float64, tf.int32, tf.uint8, tf.int64),
                         ids=lambda d: d.name)
@pytest.mark.parametrize("threads", (1, 2))
def test_large_tensors_across_blocks_and_threads(dtype, threads):
    previous = elementwise.get_num_threads()
    rows, columns = 1237, 173     # 214k elements: many blocks, none aligned with a row
    x = tf.placeholder(dtype, [rows, columns])
    bias = tf.placeholder(dtype, [columns])
    column = tf.placeholder(dtype, [rows, 1])
    chain = _float_chain if dtype.is_floating else _int_chain
    y = chain(x, bias, column)
    fetches = [y, tf.reduce_sum(chain(x, bias, column)),
               tf.reduce_max(chain(x, bias, column), axis=1),
               tf.reduce_mean(chain(x, bias, column), axis=-1, keepdims=True),
               tf.reduce_min(chain(x, bias, column), axis=0)]
    feeds = {x: _values((rows, columns), dtype, 4), bias: _values((columns,), dtype, 5),
             column: _values((rows, 1), dtype, 6, low=1)}
    try:
        fused_result, plain_result = _run_both(fetches, feeds)
        elementwise.set_num_threads(threads)   # the session set it; override for the kernel
        with tf.Session() as sess:
            elementwise.set_num_threads(threads)
            again = sess.run(fetches, feeds)
    finally:
        elementwise.set_num_threads(previous)
    for actual, repeated, expected in zip(fused_result, again, plain_result):
        if dtype.is_floating and expected.ndim < 2:
            # Sums over ~10^5 values: summation order differs from numpy's pairwise sum.
            np.testing.assert_allclose(actual, expected, rtol=1e-4)
            np.testing.assert_allclose(repeated, expected, rtol=1e-4)
        else:
            _assert_close(actual, expected, dtype)
            _assert_close(repeated, expected, dtype)


def test_special_values_follow_ieee(executor):
    x = tf.placeholder(tf.float32, [None])
    specials = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e30, -1e30, 88.0, -104.0],
                        np.float32)
    fetches = [tf.exp(x * 1.0), tf.tanh(x + 0.0), tf.sigmoid(-x), tf.log(tf.abs(x) * 1.0),
               tf.reduce_max(x * 1.0), tf.reduce_min(tf.abs(x) * 1.0)]
    fused_result, plain_result = _run_both(fetches, {x: specials})
    for actual, expected in zip(fused_result, plain_result):
        _assert_close(actual, expected, tf.float32)
    assert np.isnan(fused_result[4]) and np.isnan(fused_result[5])


@pytest.fixture
def block_size():
    """Sets the fused kernel's block size for one test (see fused._set_block)."""
    previous = fused._set_block(fused.BLOCK)
    yield fused._set_block
    fused._set_block(previous)


@pytest.mark.parametrize("block", (1, 3, 7, 64))
@pytest.mark.parametrize("dtype", (tf.float32, tf.float64, tf.int32, tf.uint8),
                         ids=lambda d: d.name)
def test_block_boundaries_fall_inside_rows_and_broadcasts(block_size, block, dtype):
    block_size(block)
    rows, columns = 37, 11        # rows of 11 never line up with blocks of 3, 7 or 64
    x = tf.placeholder(dtype, [rows, columns])
    bias = tf.placeholder(dtype, [columns])
    column = tf.placeholder(dtype, [rows, 1])
    chain = _float_chain if dtype.is_floating else _int_chain
    fetches = [chain(x, bias, column), tf.reduce_sum(chain(x, bias, column)),
               tf.reduce_max(chain(x, bias, column), axis=1),
               tf.reduce_mean(chain(x, bias, column), axis=-1, keepdims=True)]
    feeds = {x: _values((rows, columns), dtype, 7), bias: _values((columns,), dtype, 8),
             column: _values((rows, 1), dtype, 9, low=1)}
    fused_result, plain_result = _run_both(fetches, feeds)
    for actual, expected in zip(fused_result, plain_result):
        _assert_close(actual, expected, dtype)


def _ulps(actual, exact):
    """|actual - exact| in units of float32's spacing at `exact` (a float64 array)."""
    spacing = np.spacing(np.abs(exact).astype(np.float32)).astype(np.float64)
    return np.abs(actual.astype(np.float64) - exact) / spacing


def test_float32_exp_and_sigmoid_are_within_two_ulps():
    # The fused kernel inlines its own float32 exp where a block is in range (_simd_math.h).
    rng = np.random.default_rng(11)
    values = np.concatenate([np.linspace(-87, 87, 1_000_003, dtype=np.float32),
                             rng.uniform(-87, 87, 200_000).astype(np.float32),
                             rng.uniform(-1, 1, 200_000).astype(np.float32)])
    x = tf.placeholder(tf.float32, [None])
    with tf.Session() as sess:
        exp_result, sigmoid_result = sess.run([tf.exp(x * 1.0), tf.sigmoid(x * 1.0)],
                                              {x: values})
    exact = np.exp(values.astype(np.float64))
    assert _ulps(exp_result, exact).max() <= 2
    assert _ulps(sigmoid_result, 1 / (1 + np.exp(-values.astype(np.float64)))).max() <= 3


def test_float32_tanh_is_within_one_ulp_and_keeps_signed_zeros_and_specials():
    # float32 tanh runs on the inlined exp (a series below |x| = 0.55): fused in a chain and
    # alone (fused.unary from 1024 elements on). Max error over every float32: 0.88 ulp
    # (numpy's: 1.37).
    rng = np.random.default_rng(13)
    values = np.concatenate([np.linspace(-12, 12, 1_000_001, dtype=np.float32),
                             rng.uniform(-0.6, 0.6, 200_000).astype(np.float32),
                             np.float32(10.0) ** -np.arange(1, 38, dtype=np.float32),
                             -np.float32(10.0) ** -np.arange(1, 38, dtype=np.float32),
                             np.array([0.55, -0.55, 9, 9.5, 43.5, 87, 88, 1e30], np.float32)])
    x = tf.placeholder(tf.float32, [None])
    with tf.Session() as sess:
        chained, alone = sess.run([tf.tanh(x * 1.0), tf.tanh(x)], {x: values})
    exact = np.tanh(values.astype(np.float64))
    assert _ulps(chained, exact).max() <= 1
    assert _ulps(alone, exact).max() <= 1
    zeros = np.array([-0.0, 0.0] * 1024, np.float32)
    specials = np.array([np.nan, np.inf, -np.inf] + [0.5] * 2000, np.float32)
    with tf.Session() as sess:
        zero_result, special_result = sess.run(tf.tanh(x), {x: zeros}), sess.run(
            tf.tanh(x), {x: specials})
    np.testing.assert_array_equal(np.signbit(zero_result), np.signbit(zeros))
    np.testing.assert_array_equal(special_result[:3], [np.nan, 1, -1])
    np.testing.assert_allclose(special_result[3:], np.tanh(np.float32(0.5)), rtol=1e-7)
    # Specials in a block of ordinary values (series and quotient sides) leave those exact.
    mixed = np.concatenate([np.array([np.nan, np.inf, -np.inf, 88, -1e30, 9.5, 10, 10.5],
                                     np.float32),
                            rng.uniform(-1.5, 1.5, 4000).astype(np.float32)])
    with tf.Session() as sess:
        mixed_result = sess.run(tf.tanh(x), {x: mixed})
    np.testing.assert_array_equal(mixed_result[:5], [np.nan, 1, -1, 1, -1])
    assert _ulps(mixed_result[5:], np.tanh(mixed[5:].astype(np.float64))).max() <= 1


@pytest.mark.parametrize("special", [np.nan, np.inf, -np.inf, 87.5, 88.8, -87.5, -100.0,
                                     -104.0, 1e30])
def test_a_special_lane_sends_only_its_block_to_libm(block_size, special):
    block_size(64)
    values = np.random.default_rng(12).uniform(-20, 20, 1000).astype(np.float32)
    values[[5, 300, 999]] = special
    x = tf.placeholder(tf.float32, [None])
    with tf.Session() as sess:
        exp_result, sigmoid_result = sess.run([tf.exp(x * 1.0), tf.sigmoid(x * 1.0)],
                                              {x: values})
    with np.errstate(over="ignore"):
        expected_exp = np.exp(values)
        expected_sigmoid = (1 / (1 + np.exp(-values.astype(np.float64)))).astype(np.float32)
    special_lanes = [5, 300, 999]
    # Special lanes equal numpy's float32 exp exactly (inf, 0, nan) or to libm's accuracy.
    np.testing.assert_allclose(exp_result[special_lanes], expected_exp[special_lanes],
                               rtol=1e-6, atol=0, equal_nan=True)
    np.testing.assert_allclose(exp_result, expected_exp, rtol=1e-6, equal_nan=True)
    np.testing.assert_allclose(sigmoid_result, expected_sigmoid, rtol=1e-6, atol=1e-30,
                               equal_nan=True)


def test_empty_tensors_and_reductions(executor):
    x = tf.placeholder(tf.float32, [None, 3])
    n = tf.placeholder(tf.int32, [None, 3])
    fetches = [tf.exp(x * 2.0), tf.reduce_sum(tf.exp(x * 2.0), axis=1),
               tf.reduce_max(tf.exp(x * 2.0)), tf.reduce_mean(tf.exp(x * 2.0)),
               tf.reduce_mean(n * 2, axis=0), tf.reduce_min(n * 2)]
    feeds = {x: np.zeros((0, 3), np.float32), n: np.zeros((0, 3), np.int32)}
    fused_result, plain_result = _run_both(fetches, feeds)
    for actual, expected in zip(fused_result, plain_result):
        _assert_close(actual, expected, tf.float32 if expected.dtype.kind == "f" else tf.int32)


def test_integer_sums_and_means_wrap_like_tf(executor):
    x = tf.placeholder(tf.int8, [None])
    values = np.full(300, 100, np.int8)
    fetches = [tf.reduce_sum(x * 1), tf.reduce_mean(x + 0), tf.reduce_mean(-x * 1)]
    fused_result, plain_result = _run_both(fetches, {x: values})
    for actual, expected in zip(fused_result, plain_result):
        _assert_close(actual, expected, tf.int8)


def test_fused_results_are_fresh_writable_arrays(executor):
    x = tf.placeholder(tf.float32, [None])
    value = np.arange(5, dtype=np.float32)
    with tf.Session() as sess:
        result = sess.run(tf.exp(x * 2.0), {x: value})
    assert result.flags.writeable and result.flags.c_contiguous
    assert not np.shares_memory(result, value)


# ---- errors, traces, switches -----------------------------------------------------------------

def test_shape_errors_name_the_chain(executor):
    a, b = tf.placeholder(tf.float32, None), tf.placeholder(tf.float32, None)
    y = tf.exp(a * b, name="y")
    with tf.Session() as sess, pytest.raises(errors.InvalidArgumentError,
                                             match="Incompatible shapes") as info:
        sess.run(y, {a: np.ones(3, np.float32), b: np.ones(4, np.float32)})
    assert info.value.op is y.op


def test_traces_show_one_node_listing_its_ops(executor):
    a = tf.placeholder(tf.float32, [None], name="a")
    y = tf.exp(-tf.square(a * 2.0, name="sq"), name="y")
    options = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)
    metadata = tf.RunMetadata()
    with tf.Session() as sess:
        sess.run(y, {a: np.ones(4, np.float32)}, options=options, run_metadata=metadata)
    (device_stats,) = metadata.step_stats.dev_stats
    labels = {stats.node_name: stats.timeline_label for stats in device_stats.node_stats}
    fused_names = [name for name in labels if name.startswith("fused_")]
    assert len(fused_names) == 1
    name = fused_names[0]
    assert labels[name] == f"{name} = _FusedElementwise(mul, sq, Neg, y)"
    stats = next(s for s in device_stats.node_stats if s.node_name == name)
    assert [dim.size for dim in stats.output[0].tensor_description.shape.dim] == [4]
    from sessionlib.client import timeline

    trace = timeline.Timeline(metadata.step_stats).generate_chrome_trace_format()
    assert "_FusedElementwise" in trace


def test_fusion_can_be_switched_off(monkeypatch):
    a = tf.placeholder(tf.float32, [None])
    y = tf.exp(a * 2.0)
    assert fusion.FUSED_OP_TYPE in _plan([y], [a]).op_types
    monkeypatch.setenv("SESSIONLIB_FUSION", "0")
    assert not fusion.enabled()
    assert fusion.FUSED_OP_TYPE not in _plan([y], [a], fuse=None).op_types
    monkeypatch.delenv("SESSIONLIB_FUSION")
    with tf.Session(config=NO_FUSION) as sess:
        step = sess._runtime.compile((a,), (y,), ())
        plans = [part.plan.plan for part in step.parts] if hasattr(step, "parts") else [step.plan]
        assert [plan.num_slots for plan in plans] == [4]  # a, the constant, product, result
        np.testing.assert_allclose(sess.run(y, {a: np.ones(2, np.float32)}), np.exp([2, 2]),
                                   rtol=1e-6)


def test_fusion_in_a_device_partition():
    config = tf.ConfigProto(device_count={"CPU": 2})
    a = tf.placeholder(tf.float32, [None])
    with tf.device("/cpu:1"):
        y = tf.reduce_sum(tf.exp(-tf.square(a * 0.5)))
        z = tf.sigmoid(a * 2.0) + 1.0
    value = np.linspace(-2, 2, 1001, dtype=np.float32)
    options = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)
    metadata = tf.RunMetadata()
    with tf.Session(config=config) as sess:
        y_value, z_value = sess.run([y, z], {a: value}, options=options,
                                    run_metadata=metadata)
    np.testing.assert_allclose(y_value, np.exp(-np.square(value * 0.5)).sum(), rtol=1e-5)
    np.testing.assert_allclose(z_value, 1 / (1 + np.exp(-2 * value)) + 1, rtol=1e-6)
    labels = [stats.timeline_label for device_stats in metadata.step_stats.dev_stats
              for stats in device_stats.node_stats]
    assert any("_FusedElementwise(" in label for label in labels)


def test_add_n_of_received_tensors_fuses_when_their_shapes_are_known():
    # Multi-tower gradient averaging: each tower's gradient comes from another device. A
    # _Recv carries its tensor's static shape, so the fold may join; with an unknown dim it
    # may not (AddN would refuse what the add would broadcast).
    config = tf.ConfigProto(device_count={"CPU": 3})
    known = tf.placeholder(tf.float32, [4, 3])
    unknown = tf.placeholder(tf.float32, [None, 3])
    sums = []
    for feed in (known, unknown):
        towers = []
        for device in ("/cpu:1", "/cpu:2"):
            with tf.device(device):
                towers.append(tf.square(feed))
        with tf.device("/cpu:0"):
            sums.append(tf.add_n(towers) / 2.0)
    value = np.arange(12, dtype=np.float32).reshape(4, 3)
    options = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)
    metadata = tf.RunMetadata()
    with tf.Session(config=config) as sess:
        known_sum, unknown_sum = sess.run(sums, {known: value, unknown: value},
                                          options=options, run_metadata=metadata)
    np.testing.assert_array_equal(known_sum, np.square(value))
    np.testing.assert_array_equal(unknown_sum, np.square(value))
    (cpu0,) = [stats for stats in metadata.step_stats.dev_stats
               if stats.device.endswith("CPU:0")]
    labels = [node.timeline_label for node in cpu0.node_stats]
    assert sum("_FusedElementwise(AddN, truediv)" in label for label in labels) == 1
    assert sum(label.startswith("AddN_1 = AddN(") for label in labels) == 1


# ---- zero-copy feeds and fetches ------------------------------------------------------------

def test_exact_dtype_contiguous_feeds_are_used_in_place():
    x = tf.placeholder(tf.float32, [None])
    value = np.arange(4, dtype=np.float32)
    assert session_lib.convert_feed_value(x, value) is value
    # Other dtypes, lists and scalars are converted once.
    converted = session_lib.convert_feed_value(x, np.arange(4, dtype=np.float64))
    assert converted.dtype == np.float32
    with tf.Session() as sess:
        assert sess.run(x, {x: value}) is value      # a fetched feed is the fed array (TF)


def test_no_kernel_writes_into_a_feed(executor):
    x = tf.placeholder(tf.float32, [None])
    delta = tf.placeholder(tf.float32, [None])
    variable = tf.Variable(np.zeros(4, np.float32))
    fetches = [tf.exp(x * 2.0), tf.reduce_sum(x * x), tf.identity(x), x + delta,
               variable.assign(x), variable.assign_add(delta), tf.nn.relu(-x)]
    value = np.arange(4, dtype=np.float32)
    value.setflags(write=False)          # any write into the feed would raise
    step = np.ones(4, np.float32)
    step.setflags(write=False)
    with tf.Session() as sess:
        sess.run(variable.initializer)
        for _ in range(2):
            sess.run(fetches, {x: value, delta: step})
        np.testing.assert_array_equal(value, np.arange(4, dtype=np.float32))
        np.testing.assert_array_equal(sess.run(variable.read_value()), [1, 2, 3, 4])


def _program_attrs(program, num_inputs=1, num_registers=1, reduce=0, reduce_src=-1):
    return {"program": tuple(program), "num_inputs": num_inputs,
            "num_registers": num_registers, "reduce": reduce, "reduce_src": reduce_src,
            "reduce_axes": (), "keep_dims": False, "reduce_op": "", "_name": "f"}


@pytest.mark.parametrize("program, reduce, reduce_src", [
    ((fused.OPCODE_NAMES.index("neg"), 0, 0, -1), 0, -1),      # writes into input 0
    ((fused.OPCODE_NAMES.index("neg"), 1000, 0, -1), 0, -1),   # no such register
    ((fused.OPCODE_NAMES.index("add"), -1, 0, 77), 0, -1),     # no such operand
    ((999, -1, 0, -1), 0, -1),                                 # no such opcode
    ((fused.OPCODE_NAMES.index("neg"), 1, 0, -1), 1, 9),       # reduces no such operand
    ((fused.OPCODE_NAMES.index("neg"), -1, 0, -1), 1, 0),      # writes a reduction's output
    ((fused.OPCODE_NAMES.index("neg"), -1, 0), 0, -1),         # not quadruples
])
def test_a_malformed_program_is_rejected_before_it_touches_memory(program, reduce, reduce_src):
    # The kernel trusts operand indices in its C loop; a program shipped in a plan (another
    # process, a hand-built node) must not write into a read-only input or out of bounds.
    x = np.arange(1.0, 6.0, dtype=np.float32)
    x.setflags(write=False)
    attrs = _program_attrs(program, reduce=reduce, reduce_src=reduce_src)
    if reduce:
        attrs["reduce_axes"] = (0,)
    with pytest.raises(ValueError, match="program"):
        fused.fused_elementwise(None, (x,), attrs)
    np.testing.assert_array_equal(x, np.arange(1.0, 6.0, dtype=np.float32))


def test_fused_unary_runs_one_instruction_on_floats_only():
    x = np.linspace(-3, 3, 70_000, dtype=np.float64)
    np.testing.assert_allclose(fused.unary("exp", x), np.exp(x), rtol=1e-14)
    np.testing.assert_allclose(fused.unary("sigmoid", x[::-1]), 1 / (1 + np.exp(x)),
                               rtol=1e-14)
    with pytest.raises(TypeError, match="float array"):
        fused.unary("exp", np.arange(5))


# ---- members read outside their chain: extra outputs ----------------------------------------
# A member that ops outside any chain read too (an LSTM cell's gate activations, kept for the
# gradient) joins the chain and comes out as an extra output (``exports``): results equal the
# unfused ones on both executors, the compiled kernel and its numpy spec agree, outside readers
# placed before the chain move after it, and a member whose reader leads back into the chain,
# or whose shape is unknown, stays materialised.

def _lstm_cell(gates, c):
    """BasicLSTMCell's elementwise part; the activations are read outside too (Identity)."""
    i, j, f, o = tf.split(gates, 4, axis=1)
    sig_i, tanh_j, sig_f = tf.sigmoid(i), tf.tanh(j), tf.sigmoid(f + 1.0)
    new_c = c * sig_f + sig_i * tanh_j
    tanh_c, sig_o = tf.tanh(new_c), tf.sigmoid(o)
    new_h = tanh_c * sig_o
    kept = [tf.identity(t) for t in (sig_i, tanh_j, sig_f, tanh_c, sig_o)]
    return new_h, kept


def _feeds(rows, units, seed=0):
    rng = np.random.default_rng(seed)
    gates = rng.uniform(-4, 4, (rows, 4 * units)).astype(np.float32)
    c = rng.uniform(-2, 2, (rows, units)).astype(np.float32)
    for value in (gates, c):
        value.setflags(write=False)
    return gates, c


def test_members_read_outside_the_chain_become_extra_outputs():
    gates = tf.placeholder(tf.float32, [6, 20])
    c = tf.placeholder(tf.float32, [6, 5])
    new_h, kept = _lstm_cell(gates, c)
    plan = _plan([new_h] + kept, [gates, c])
    assert "Sigmoid" not in plan.op_types and "Tanh" not in plan.op_types
    (attrs,) = _fused_nodes(plan)
    assert len(attrs["exports"]) == 5
    assert sorted(attrs["fused_types"]) == sorted(
        ["Sigmoid", "Tanh", "AddV2", "Sigmoid", "Mul", "Mul", "AddV2", "Tanh", "Sigmoid",
         "Mul"])
    # An exported register is written once and never reused.
    program = attrs["program"]
    destinations = [program[k + 1] for k in range(0, len(program), 4)]
    for register in attrs["exports"]:
        assert destinations.count(attrs["num_inputs"] + register) == 1
    assert fusion.describe(attrs)[-5:] == [
        f"out{n} = r{register}" for n, register in enumerate(attrs["exports"], start=1)]


# (6, 5): one block; (64, 300): many, threaded, and above the size from which a lone float32
# Sigmoid or Tanh runs the fused kernel's own instruction (elementwise.pyx), so that the fused
# chain's values are the unfused ones bit for bit there; below it they differ in the last bit.
@pytest.mark.parametrize("rows, units", [(6, 5), (64, 300)])
def test_exports_equal_the_unfused_values(executor, rows, units):
    gates = tf.placeholder(tf.float32, [rows, 4 * units])
    c = tf.placeholder(tf.float32, [rows, units])
    new_h, kept = _lstm_cell(gates, c)
    gates_value, c_value = _feeds(rows, units)
    feeds = {gates: gates_value, c: c_value}
    with tf.Session() as sess:
        fused_result = sess.run([new_h] + kept, feeds)
    with tf.Session(config=NO_FUSION) as sess:
        plain_result = sess.run([new_h] + kept, feeds)
    for actual, expected in zip(fused_result, plain_result):
        assert actual.dtype == expected.dtype and actual.shape == expected.shape
        if rows * units >= 1024 or executor == "reference":
            np.testing.assert_array_equal(actual, expected)
        else:
            np.testing.assert_allclose(actual, expected, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("block", (1, 7, 256))
@pytest.mark.parametrize("dtype", (np.float32, np.float64, np.int32))
def test_the_kernel_and_its_numpy_spec_agree_on_exports(block_size, block, dtype):
    op = fused.OPCODE_NAMES.index
    # r0 = a * b (exported), r1 = neg(r0), r2 = r1 + b (exported), out = r2 * a
    program = (op("mul"), 2, 0, 1, op("neg"), 3, 2, -1, op("add"), 4, 3, 1,
               op("mul"), -1, 4, 0)
    attrs = {"program": program, "num_inputs": 2, "num_registers": 3, "reduce": 0,
             "reduce_src": -1, "reduce_axes": (), "keep_dims": False, "reduce_op": "",
             "_name": "f", "exports": (0, 2)}
    rng = np.random.default_rng(3)
    a = rng.integers(-5, 5, (9, 13)).astype(dtype)
    b = rng.integers(-5, 5, (13,)).astype(dtype)
    block_size(block)
    compiled = fused.fused_elementwise(None, (a, b), attrs)
    spec = fusion.reference_kernel(None, (a, b), attrs)
    assert len(compiled) == len(spec) == 3
    for actual, expected in zip(compiled, spec):
        assert actual.shape == (9, 13) and actual.dtype == dtype
        np.testing.assert_array_equal(actual, expected)
    np.testing.assert_array_equal(compiled[1], a * b)
    empty = fused.fused_elementwise(None, (a[:0], b), attrs)
    assert [value.shape for value in empty] == [(0, 13)] * 3


@pytest.mark.parametrize("block", (1, 5, 64, 256))
@pytest.mark.parametrize("dtype", (np.float32, np.float64, np.int32, np.int8))
def test_inputs_with_spaced_rows_are_read_in_place(block_size, block, dtype):
    # A Split's pieces of a gate matrix: rows of 13 contiguous elements, 52 apart. The kernel
    # gathers them block by block (blocks of 5 or 64 start mid-row); other layouts (3-D
    # pieces, rows read backwards, every other column, a broadcast column) must agree too.
    op = fused.OPCODE_NAMES.index
    # out = (a * b - c) * d, exporting a * b
    program = (op("mul"), 4, 0, 1, op("sub"), 5, 4, 2, op("mul"), -1, 5, 3)
    attrs = {"program": program, "num_inputs": 4, "num_registers": 2, "reduce": 0,
             "reduce_src": -1, "reduce_axes": (), "keep_dims": False, "reduce_op": "",
             "_name": "f", "exports": (0,)}
    rng = np.random.default_rng(5)
    gates = rng.integers(-9, 9, (3, 9, 52)).astype(dtype)
    gates.flags.writeable = False
    layouts = [
        (gates[1, :, 0:13], gates[1, :, 13:26], gates[2, :, 26:39], gates[0, :, 39:52]),
        (gates[:, :, 0:13], gates[:, :, 13:26], gates[:, :, 26:39], gates[:, :, 39:52]),
        (gates[1, ::-1, 0:13], gates[1, :, ::4], gates[2, :, 7:20], gates[1, :, :1]),
        (gates[1, :, 0:13], np.ascontiguousarray(gates[1, :, 13:26]), gates[0, 0, 26:39],
         gates[0, :, 39:52]),
    ]
    block_size(block)
    for inputs in layouts:
        compiled = fused.fused_elementwise(None, inputs, attrs)
        spec = fusion.reference_kernel(None, inputs, attrs)
        assert len(compiled) == len(spec) == 2
        for actual, expected in zip(compiled, spec):
            assert actual.shape == expected.shape and actual.dtype == dtype
            assert actual.flags.c_contiguous
            np.testing.assert_array_equal(actual, expected)


@pytest.mark.parametrize("threads", (1, 2))
def test_spaced_rows_split_over_threads(threads):
    # 97k elements, so the kernel cuts them into parts; parts start mid-row.
    op = fused.OPCODE_NAMES.index
    attrs = {"program": (op("mul"), 2, 0, 1, op("sigmoid"), -1, 2, -1), "num_inputs": 2,
             "num_registers": 1, "reduce": 0, "reduce_src": -1, "reduce_axes": (),
             "keep_dims": False, "reduce_op": "", "_name": "f"}
    gates = np.random.default_rng(6).uniform(-4, 4, (311, 4 * 313)).astype(np.float32)
    inputs = (gates[:, 313:626], gates[:, 939:])
    previous = elementwise.get_num_threads()
    try:
        elementwise.set_num_threads(threads)
        (compiled,) = fused.fused_elementwise(None, inputs, attrs)
    finally:
        elementwise.set_num_threads(previous)
    (contiguous,) = fused.fused_elementwise(
        None, tuple(np.ascontiguousarray(x) for x in inputs), attrs)
    np.testing.assert_array_equal(compiled, contiguous)
    np.testing.assert_allclose(compiled, 1 / (1 + np.exp(-(inputs[0] * inputs[1]))),
                               rtol=1e-6)
    # Reductions read them the same way: over the rows (in the kernel) and over the leading
    # axis (the chain materialised, then numpy's reduction).
    for axes in ((1,), (0,)):
        reducing = dict(attrs, program=(op("mul"), 2, 0, 1, op("sigmoid"), 2, 2, -1),
                        reduce=fused.REDUCTION_NAMES.index("reduce_sum"), reduce_src=2,
                        reduce_axes=axes, reduce_op="Sum")
        (spaced,) = fused.fused_elementwise(None, inputs, reducing)
        (packed,) = fused.fused_elementwise(
            None, tuple(np.ascontiguousarray(x) for x in inputs), reducing)
        np.testing.assert_array_equal(spaced, packed)
        np.testing.assert_allclose(spaced, compiled.sum(axis=axes[0]), rtol=1e-4)


@pytest.mark.parametrize("exports, reduce", [
    ((1,), 0),       # register 1 is written twice
    ((5,), 0),       # no such register
    ((0, 0), 0),     # exported twice
    ((0,), 1),       # with a reduction
])
def test_malformed_exports_are_rejected(exports, reduce):
    op = fused.OPCODE_NAMES.index
    program = (op("neg"), 1, 0, -1, op("neg"), 2, 1, -1, op("neg"), 2, 1, -1,
               op("neg"), 1 if reduce else -1, 2, -1)
    attrs = {"program": program, "num_inputs": 1, "num_registers": 2, "reduce": reduce,
             "reduce_src": 1 if reduce else -1, "reduce_axes": (0,) if reduce else (),
             "keep_dims": False, "reduce_op": "Sum", "_name": "f", "exports": exports}
    with pytest.raises(ValueError, match="export"):
        fused.fused_elementwise(None, (np.ones(4, np.float32),), attrs)


def test_a_reader_leading_back_into_the_chain_keeps_the_member_out():
    a = tf.placeholder(tf.float32, [4, 3])
    t = tf.sigmoid(a)
    u = tf.identity(t)
    y = tf.exp(t) * u      # u reads t and feeds the chain that t would join
    plan = _plan([y], [a])
    assert "Sigmoid" in plan.op_types
    assert all("exports" not in attrs for attrs in _fused_nodes(plan))
    value = np.linspace(-2, 2, 12, dtype=np.float32).reshape(4, 3)
    with tf.Session() as sess:
        result = sess.run(y, {a: value})
    with tf.Session(config=NO_FUSION) as sess:
        # (A small exp's last bit may differ: fused.pyx inlines its own.)
        np.testing.assert_allclose(result, sess.run(y, {a: value}), rtol=1e-6)


def test_members_of_unknown_or_other_shapes_stay_materialised():
    a = tf.placeholder(tf.float32, [None, 3])
    t = tf.sigmoid(a)
    kept = tf.identity(t)
    plan = _plan([tf.exp(t) * 2.0, kept], [a])
    assert "Sigmoid" in plan.op_types
    b = tf.placeholder(tf.float32, [3])
    row = tf.placeholder(tf.float32, [4, 3])
    s = tf.sigmoid(b)                     # [3], while the chain's result is [4, 3]
    plan = _plan([s * row + 1.0, tf.identity(s)], [b, row])
    assert "Sigmoid" in plan.op_types


def test_a_chain_ending_in_a_shape_keeping_reduction_exports_nothing():
    # A reduction over size-1 axes with keep_dims keeps the member's shape, but the kernel
    # exports no register from a reducing program: the member stays an op of its own.
    x = tf.placeholder(tf.float32, [4, 1])
    a = tf.exp(x * 2.0)
    total = tf.reduce_sum(a, axis=1, keepdims=True)
    flat = tf.reshape(a, [4])
    plan = _plan([total, flat], [x])
    assert all("exports" not in attrs for attrs in _fused_nodes(plan))
    value = np.arange(4, dtype=np.float32).reshape(4, 1)
    with tf.Session() as sess:
        got_total, got_flat = sess.run([total, flat], {x: value})
    want = np.exp(value.astype(np.float64) * 2.0)
    np.testing.assert_allclose(got_total, want, rtol=1e-6)
    np.testing.assert_allclose(got_flat, want.reshape(4), rtol=1e-6)
