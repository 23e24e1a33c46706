"""Constant folding (runtime/optimizer/constant_folding.py): a stateless subgraph of constants
is evaluated once, at compile time, and runs as a Const.

Every test compares with the same graph run with the pass off (RewriterConfig.constant_folding
= OFF), in process through both executors and on device workers, and looks at what ran through
RunOptions(output_partition_graphs=True) and the trace labels.
"""

import numpy as np
import pytest

import sessionlib as tf
from sessionlib import errors
from sessionlib.protos import rewriter_config_pb2
from sessionlib.runtime.optimizer import constant_folding

OFF = rewriter_config_pb2.RewriterConfig.OFF
FOLDED = "_rewritten_from"


def _config(devices=1, opt_level=None, **rewrite_fields):
    config = tf.ConfigProto(device_count={"CPU": devices})
    config.graph_options.rewrite_options.CopyFrom(
        rewriter_config_pb2.RewriterConfig(**rewrite_fields))
    if opt_level is not None:
        config.graph_options.optimizer_options.opt_level = opt_level
    return config


NO_FOLDING = dict(constant_folding=OFF)


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
    """(values, partition graph nodes by name, trace labels by node name) of one traced run."""
    options = tf.RunOptions(output_partition_graphs=True, trace_level=tf.RunOptions.FULL_TRACE)
    metadata = tf.RunMetadata()
    with tf.Session(config=config or _config()) as sess:
        values = sess.run(fetches, feed_dict, options=options, run_metadata=metadata)
    nodes = {node.name: node for graph in metadata.partition_graphs for node in graph.node}
    labels = {stats.node_name: stats.timeline_label for device in metadata.step_stats.dev_stats
              for stats in device.node_stats}
    return values, nodes, labels


def _folded(nodes):
    """name -> the names the folded node lists, for the Consts that folding made."""
    return {name: [item.decode() for item in node.attr[FOLDED].list.s]
            for name, node in nodes.items() if FOLDED in node.attr}


def _ops(nodes):
    return sorted(node.op for node in nodes.values())


def _assert_same(folded, unfolded, rtol=0):
    assert len(folded) == len(unfolded)
    for got, want in zip(folded, unfolded):
        got, want = np.asarray(got), np.asarray(want)
        assert got.dtype == want.dtype and got.shape == want.shape
        if rtol:
            np.testing.assert_allclose(got, want, rtol=rtol)
        else:
            np.testing.assert_array_equal(got, want)


def _chain_graph():
    rng = np.random.default_rng(1)
    a = tf.constant(rng.random(1000, dtype=np.float32), name="a")
    b = tf.constant(rng.random(1000, dtype=np.float32), name="b")
    c = tf.constant(rng.random(1000, dtype=np.float32) - 0.5, name="c")
    y = tf.exp(-(a * b + c) ** 2, name="y")
    return a, b, c, y


# ---- results -----------------------------------------------------------------------------------

def test_folded_chain_equals_the_unfolded_one(mode):
    _, _, _, y = _chain_graph()
    x = tf.placeholder(tf.float32, [1000], name="x")
    z = tf.multiply(y, x, name="z")
    feeds = {x: np.linspace(-1, 1, 1000, dtype=np.float32)}
    folded, nodes, labels = _run([y, z], feeds)
    unfolded, plain_nodes, _ = _run([y, z], feeds, _config(**NO_FOLDING))
    # The folding runs the unfused kernels; the unfolded chain runs fused: exp may round apart.
    _assert_same(folded, unfolded, rtol=1e-6)
    (name, replaced), = _folded(nodes).items()
    assert name.startswith("y/_rewrite_")
    assert replaced[:3] == ["a", "b", "mul"] and replaced[-1] == "y" and "c" in replaced
    assert nodes[name].op == "Const" and list(nodes[name].input) == []
    assert nodes[name].attr["dtype"].type == tf.float32.as_datatype_enum
    assert not {"a", "b", "c", "y"} & set(nodes)          # the unused constants are dropped
    assert "Exp" not in _ops(nodes) and {"a", "b", "c"} <= set(plain_nodes)
    assert labels[name] == f"{name} = Const() [folded: {', '.join(replaced)}]"
    # The consumer reads the folded value by its node's name.
    (consumer,) = [n for n in nodes.values() if n.op not in ("Const", "_Recv", "_Send")]
    assert name in list(consumer.input)


def test_integer_shape_and_multi_output_ops_keep_their_dtypes(mode):
    n = tf.range(12, dtype=tf.int64, name="n")
    m = tf.reshape(n, [3, 4], name="m")
    t = tf.transpose(m, name="t")
    parts = tf.split(t, 2, axis=0, name="parts")
    total = tf.reduce_sum(parts[1], axis=1, name="total")
    flags = tf.greater(tf.cast(total, tf.float64, name="as_f64") * 0.5, 5.0, name="flags")
    tiled = tf.tile(tf.constant([[1, 2]], tf.int32), [2, 3], name="tiled")
    fetches = [parts[0], parts[1], total, flags, tiled, tf.shape(tiled, name="shape")]
    folded, nodes, _ = _run(fetches)
    unfolded, _, _ = _run(fetches, config=_config(**NO_FOLDING))
    _assert_same(folded, unfolded)
    assert [v.dtype for v in folded] == [np.int64] * 3 + [np.bool_, np.int32, np.int32]
    assert set(_ops(nodes)) == {"Const"}
    # A multi-output op folds to one Const per output that is used (both are fetched).
    assert sum(name.startswith("parts/_rewrite_") for name in _folded(nodes)) == 2


def test_a_fetched_folded_value_is_a_fresh_writable_array(mode):
    _, _, _, y = _chain_graph()
    with tf.Session(config=_config()) as sess:
        first = sess.run(y)
        first[:] = 0
        second = sess.run(y)
    assert second.flags.writeable and not np.any(second == 0)


# ---- what is never folded --------------------------------------------------------------------

def test_a_feed_wins_and_what_it_feeds_is_not_folded(mode):
    a, b, c, y = _chain_graph()
    product = tf.multiply(a, b, name="product")
    w = tf.add(product, 1.0, name="w")
    fed = np.full(1000, 3.0, np.float32)
    (w_value, p_value), nodes, _ = _run([w, product], {product: fed})
    np.testing.assert_array_equal(w_value, fed + 1)
    assert p_value is fed or np.array_equal(p_value, fed)
    assert "w" in nodes and nodes["w"].op == "AddV2"          # downstream of a feed: kept
    # Without the feed the same fetches fold.
    (w_value, _), nodes, _ = _run([w, product])
    np.testing.assert_allclose(w_value, a.op.get_attr("value") * b.op.get_attr("value") + 1,
                               rtol=1e-6)
    assert "w" not in nodes
    # A fed constant is a feed like any other.
    (y_value,), nodes, _ = _run([y], {a: np.zeros(1000, np.float32)})
    np.testing.assert_allclose(y_value, np.exp(-c.op.get_attr("value") ** 2), rtol=1e-6)


def test_stateful_and_random_ops_are_never_folded(mode):
    noise = tf.random_uniform([1000], name="noise") * tf.constant(2.0) + 1.0
    variable = tf.Variable(3.0, name="v")
    scaled = variable * tf.constant(2.0) * 4.0
    with tf.Session(config=_config()) as sess:
        sess.run(variable.initializer)
        first, before = sess.run([noise, scaled])
        sess.run(variable.assign(5.0))
        second, after = sess.run([noise, scaled])
    assert not np.array_equal(first, second)
    assert (before, after) == (24.0, 40.0)


def test_control_dependencies_keep_their_nodes(mode):
    variable = tf.Variable(0.0, name="v")
    bump = variable.assign_add(1.0, name="bump")
    with tf.control_dependencies([bump]):
        y = tf.multiply(tf.constant(2.0, name="two"), 3.0, name="y")
    z = tf.add(y, 1.0, name="z")
    with tf.Session(config=_config()) as sess:
        sess.run(variable.initializer)
        assert sess.run(z) == 7.0
        assert sess.run(z) == 7.0
        assert sess.run(variable) == 2.0           # the control input ran every time


def test_size_cap_keeps_big_results_unfolded(mode):
    small = tf.constant([1.0, 2.0], name="small")
    big = tf.tile(small, [3_000_000], name="big")       # 24 MB from 8 bytes
    total = tf.reduce_sum(big * 2.0, name="total")
    little = tf.reduce_sum(tf.tile(small, [1000], name="little") * 2.0, name="little_sum")
    rng = np.random.default_rng(0)
    a = tf.constant(rng.random(3_000_000, dtype=np.float32), name="a")   # 12 MB each
    b = tf.constant(rng.random(3_000_000, dtype=np.float32), name="b")
    product = tf.multiply(a, b, name="product")     # 12 MB from 24 MB: no growth, folded
    fetches = [total, little, product]
    (total_value, little_value, product_value), nodes, _ = _run(fetches)
    unfolded, _, _ = _run(fetches, config=_config(**NO_FOLDING))
    assert total_value == unfolded[0] and little_value == 6000.0
    np.testing.assert_array_equal(product_value, a.op.get_attr("value") * b.op.get_attr("value"))
    assert nodes["big"].op == "Tile"                       # over the cap: it runs
    assert "little" not in nodes and "little_sum" not in nodes
    folded = _folded(nodes)
    assert any(name.startswith("product/_rewrite_") for name in folded)
    assert any(name.startswith("little_sum/_rewrite_") for name in folded)
    assert constant_folding.MAX_CONSTANT_BYTES == 10 * 1024 * 1024


def test_errors_of_ops_that_cannot_fold_still_name_the_op(mode):
    picked = tf.gather(tf.constant([1, 2, 3]), tf.constant([5]), name="picked")
    y = tf.add(picked * 2, 1, name="y")
    with tf.Session(config=_config()) as sess:
        with pytest.raises(errors.InvalidArgumentError, match="not in") as info:
            sess.run(y)
    assert info.value.op is picked.op


# ---- switches ----------------------------------------------------------------------------------

@pytest.mark.parametrize("switch", ["default", "constant_folding", "disable_meta_optimizer",
                                    "min_graph_nodes", "L0"])
def test_switches(switch):
    _, _, _, y = _chain_graph()
    fields = {"constant_folding": NO_FOLDING,
              "disable_meta_optimizer": dict(disable_meta_optimizer=True),
              "min_graph_nodes": dict(min_graph_nodes=100)}.get(switch, {})
    level = tf.OptimizerOptions.L0 if switch == "L0" else None
    (value,), nodes, labels = _run([y], config=_config(opt_level=level, **fields))
    np.testing.assert_allclose(value, _run([y], config=_config(**NO_FOLDING))[0][0],
                               rtol=1e-6)
    folded = bool(_folded(nodes))
    assert folded == (switch == "default")
    assert any("[folded:" in label for label in labels.values()) == folded


def test_folding_in_a_two_device_session():
    """Constants fold on the device that holds them; a received value never folds."""
    with tf.device("/cpu:0"):
        _, _, _, y = _chain_graph()
    with tf.device("/cpu:1"):
        z = tf.add(y * 2.0, tf.constant(1.0) * 3.0, name="z")
    folded, nodes, labels = _run([z], config=_config(devices=2))
    unfolded, _, _ = _run([z], config=_config(devices=2, **NO_FOLDING))
    _assert_same(folded, unfolded, rtol=1e-6)
    names = _folded(nodes)
    devices = {nodes[name].device[-5:] for name in names}
    assert devices == {"CPU:0", "CPU:1"}       # y on CPU:0; 1.0 * 3.0 on CPU:1
    assert any(node.op == "_Recv" for node in nodes.values())
    assert sum(label.endswith("]") and "[folded:" in label for label in labels.values()) == 2


def test_in_process_partition_graphs_show_what_runs(monkeypatch):
    """An in-process step's partition graph holds its nodes as they run: fused chains and
    folded constants, each read by the name of the node that computes it."""
    monkeypatch.setenv("SESSIONLIB_WORKERS", "0")
    x = tf.placeholder(tf.float32, [3], name="x")
    scale = tf.exp(tf.constant([0.0, 1.0, 2.0], name="k"), name="scale")
    z = tf.add(tf.exp(x * 2.0, name="e"), scale, name="z")
    feeds = {x: np.array([0.0, 0.5, 1.0], np.float32)}
    (value,), nodes, labels = _run([z], feeds)
    np.testing.assert_allclose(value, np.exp(feeds[x] * 2) + np.exp([0.0, 1.0, 2.0]),
                               rtol=1e-6)
    (folded,) = _folded(nodes)
    (fused,) = [node for node in nodes.values() if node.op == "_FusedElementwise"]
    assert folded in list(fused.input) and "x" in list(fused.input)
    assert [item.decode() for item in fused.attr["fused_ops"].list.s] == ["mul", "e", "z"]
    assert labels[folded] == f"{folded} = Const() [folded: k, scale]"
