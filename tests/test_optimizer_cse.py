"""Common subexpression elimination (runtime/optimizer/cse.py): identical stateless nodes run
once.

Every test compares with the same graph run with the pass off
(RewriterConfig.common_subgraph_elimination = OFF), in process through both executors and on
device workers; elementwise fusion is off here so that the partition graphs show each op.
"""

import numpy as np
import pytest

import sessionlib as tf
from sessionlib.framework.tensor_util import make_ndarray
from sessionlib.protos import rewriter_config_pb2

OFF = rewriter_config_pb2.RewriterConfig.OFF
NO_CSE = dict(common_subgraph_elimination=OFF)


def _config(devices=1, opt_level=None, **rewrite_fields):
    config = tf.ConfigProto(device_count={"CPU": devices})
    # Folding would turn the constant-only graphs below into single Consts.
    rewrite_fields.setdefault("constant_folding", OFF)
    config.graph_options.rewrite_options.CopyFrom(
        rewriter_config_pb2.RewriterConfig(**rewrite_fields))
    if opt_level is not None:
        config.graph_options.optimizer_options.opt_level = opt_level
    return config


@pytest.fixture(autouse=True)
def _no_fusion(monkeypatch):
    monkeypatch.setenv("SESSIONLIB_FUSION", "0")


@pytest.fixture(params=["reference", "cython", "workers"])
def mode(request, monkeypatch):
    """Runs a test in process with each executor, and with its device in a worker process."""
    from sessionlib.runtime import executor as executor_lib

    if request.param == "workers":
        monkeypatch.setenv("SESSIONLIB_WORKERS", "1")
        yield request.param
        return
    monkeypatch.setenv("SESSIONLIB_WORKERS", "0")
    previous = executor_lib.set_default_executor(request.param)
    try:
        yield request.param
    finally:
        executor_lib.set_default_executor(previous)


def _run(fetches, feed_dict=None, config=None):
    """(values, partition graph nodes by name) of one run."""
    options = tf.RunOptions(output_partition_graphs=True)
    metadata = tf.RunMetadata()
    with tf.Session(config=config or _config()) as sess:
        values = sess.run(fetches, feed_dict, options=options, run_metadata=metadata)
    return values, {node.name: node for graph in metadata.partition_graphs
                    for node in graph.node}


def _count(nodes, op_type):
    return sum(node.op == op_type for node in nodes.values())


def _assert_same(merged, unmerged):
    for got, want in zip(merged, unmerged):
        got, want = np.asarray(got), np.asarray(want)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


def test_duplicate_chains_run_once(mode):
    x = tf.placeholder(tf.float32, [5], name="x")
    first = tf.multiply(tf.sin(x, name="s1"), 2.0, name="m1")
    second = tf.multiply(tf.sin(x, name="s2"), 2.0, name="m2")
    z = tf.add(first, second, name="z")
    feeds = {x: np.linspace(-2, 2, 5, dtype=np.float32)}
    merged, nodes = _run([z], feeds)
    unmerged, plain = _run([z], feeds, _config(**NO_CSE))
    _assert_same(merged, unmerged)
    assert (_count(nodes, "Sin"), _count(plain, "Sin")) == (1, 2)
    assert (_count(nodes, "Mul"), _count(plain, "Mul")) == (1, 2)
    assert "s2" not in nodes and "m2" not in nodes
    assert list(nodes["z"].input) == ["m1", "m1"]
    # The two constants 2.0 merged too.
    assert _count(nodes, "Const") == 1 and _count(plain, "Const") == 2


def test_commutative_inputs_match_and_others_keep_their_order(mode):
    x = tf.placeholder(tf.float32, [3], name="x")
    y = tf.placeholder(tf.float32, [3], name="y")
    fetches = [tf.add(tf.add(x, y), tf.add(y, x)), tf.add(x - y, y - x),
               tf.maximum(x, y) * tf.maximum(y, x)]
    feeds = {x: np.array([1, -2, 3], np.float32), y: np.array([0.5, 4, -1], np.float32)}
    merged, nodes = _run(fetches, feeds)
    unmerged, plain = _run(fetches, feeds, _config(**NO_CSE))
    _assert_same(merged, unmerged)
    assert (_count(nodes, "AddV2"), _count(plain, "AddV2")) == (3, 4)
    assert _count(nodes, "Sub") == 2 and _count(nodes, "Maximum") == 1


def test_constants_merge_by_value(mode):
    fetches = [tf.constant([1.0, 2.0]) * tf.constant([1.0, 2.0]),
               tf.constant(0.0) + tf.constant(-0.0),                  # different bits: kept
               tf.constant([3], tf.int32) + tf.constant([3], tf.int32),
               tf.constant([3], tf.int64) * 2]                        # another dtype: kept
    merged, nodes = _run(fetches)
    unmerged, _ = _run(fetches, config=_config(**NO_CSE))
    _assert_same(merged, unmerged)
    assert np.signbit(merged[1]) == np.signbit(unmerged[1])
    values = [(make_ndarray(node.attr["value"].tensor).dtype.name,
               repr(make_ndarray(node.attr["value"].tensor).tolist()))
              for node in nodes.values() if node.op == "Const"]
    assert values.count(("float32", "[1.0, 2.0]")) == 1
    assert values.count(("int32", "[3]")) == 1 and values.count(("int64", "[3]")) == 1
    assert ("float32", "0.0") in values and ("float32", "-0.0") in values


def test_attrs_tell_nodes_apart(mode):
    x = tf.placeholder(tf.float32, [2, 3], name="x")
    fetches = [tf.reduce_sum(x, 1), tf.reduce_sum(x, 1, keepdims=True),
               tf.cast(x, tf.int32), tf.cast(x, tf.int64), tf.cast(x, tf.int32)]
    feeds = {x: np.arange(6, dtype=np.float32).reshape(2, 3)}
    merged, nodes = _run(fetches, feeds)
    unmerged, _ = _run(fetches, feeds, _config(**NO_CSE))
    _assert_same(merged, unmerged)
    assert _count(nodes, "Sum") == 2
    # The last cast duplicates the first, but is fetched: it keeps its node.
    assert _count(nodes, "Cast") == 3


def test_fetched_duplicates_are_separate_arrays(mode):
    x = tf.placeholder(tf.float32, [4], name="x")
    first, second = tf.exp(x, name="e1"), tf.exp(x, name="e2")
    with tf.Session(config=_config()) as sess:
        a, b = sess.run([first, second], {x: np.arange(4, dtype=np.float32)})
    np.testing.assert_array_equal(a, b)
    kept = b.copy()
    a[:] = 0
    np.testing.assert_array_equal(b, kept)


def test_random_and_stateful_ops_are_never_merged(mode):
    first = tf.random_uniform([1000], name="r1")
    second = tf.random_uniform([1000], name="r2")
    variable = tf.Variable(0.0, name="v")
    bumps = [variable.assign_add(1.0, name="b1"), variable.assign_add(1.0, name="b2")]
    with tf.Session(config=_config()) as sess:
        sess.run(variable.initializer)
        a, b = sess.run([first, second])
        sess.run(bumps)
        assert sess.run(variable) == 2.0
    assert not np.array_equal(a, b)
    (a, b), nodes = _run([first, second])
    assert _count(nodes, "RandomUniform") == 2


def test_a_feed_wins(mode):
    x = tf.placeholder(tf.float32, [3], name="x")
    first, second = tf.sin(x, name="s1"), tf.sin(x, name="s2")
    z = tf.add(first * 1.5, second * 1.5, name="z")
    value = np.array([0.5, 1.0, 2.0], np.float32)
    fed = np.array([10.0, 20.0, 30.0], np.float32)
    for feeds in ({x: value, first: fed}, {x: value, second: fed}):
        (result,), _ = _run([z], feeds)
        (expected,), _ = _run([z], feeds, _config(**NO_CSE))
        np.testing.assert_array_equal(result, expected)
        np.testing.assert_allclose(result, fed * 1.5 + np.sin(value) * 1.5, rtol=1e-6)


@pytest.mark.parametrize("switch", ["default", "common_subgraph_elimination",
                                    "disable_meta_optimizer", "min_graph_nodes", "L0"])
def test_switches(switch):
    x = tf.placeholder(tf.float32, [3], name="x")
    z = tf.add(tf.sin(x) * 2.0, tf.sin(x) * 2.0, name="z")
    fields = {"common_subgraph_elimination": NO_CSE,
              "disable_meta_optimizer": dict(disable_meta_optimizer=True),
              "min_graph_nodes": dict(min_graph_nodes=100)}.get(switch, {})
    level = tf.OptimizerOptions.L0 if switch == "L0" else None
    feeds = {x: np.array([0.1, 0.2, 0.3], np.float32)}
    (value,), nodes = _run([z], feeds, _config(opt_level=level, **fields))
    np.testing.assert_allclose(value, 4 * np.sin(feeds[x]), rtol=1e-6)
    assert _count(nodes, "Sin") == (1 if switch == "default" else 2)


def test_cse_in_a_two_device_session():
    x = tf.placeholder(tf.float32, [3], name="x")
    with tf.device("/cpu:1"):
        first, second = tf.exp(x, name="e1"), tf.exp(x, name="e2")
        z = tf.add(first, second, name="z")      # 3 nodes: below min_graph_nodes (4)
        w = tf.add(tf.exp(x, name="e3") * z, tf.exp(x, name="e4"), name="w")
    feeds = {x: np.array([0.0, 1.0, 2.0], np.float32)}
    (small,), nodes = _run([z], feeds, _config(devices=2))
    np.testing.assert_allclose(small, 2 * np.exp(feeds[x]), rtol=1e-6)
    assert _count(nodes, "Exp") == 2
    z = w
    merged, nodes = _run([z], feeds, _config(devices=2))
    unmerged, plain = _run([z], feeds, _config(devices=2, **NO_CSE))
    _assert_same(merged, unmerged)
    assert (_count(nodes, "Exp"), _count(plain, "Exp")) == (1, 4)
