"""The remapping rewrite (``runtime/optimizer/remapper.py``): MatMul/Conv2D + BiasAdd (+ an
activation) become ``_FusedMatMul``/``_FusedConv2D``.

Every result is compared with the same graph run with the rewrite switched off
(``RewriterConfig.remapping = OFF``), through both executors and in worker sessions: exactly,
except Tanh and Sigmoid on the Cython executor, whose epilogue agrees with the unfused fast
kernels to a few ulps (as every fused elementwise chain does). Which nodes were rewritten is read
from the compiled node lists and from the partition graphs of worker sessions.
"""

import numpy as np
import pytest

import sessionlib as tf
from sessionlib import errors
from sessionlib.protos import rewriter_config_pb2
from sessionlib.runtime import optimizer, plan

OFF = rewriter_config_pb2.RewriterConfig.OFF
ACTIVATIONS = {
    None: None, "Relu": tf.nn.relu, "Relu6": tf.nn.relu6, "Elu": tf.nn.elu,
    "LeakyRelu": lambda h: tf.nn.leaky_relu(h, alpha=0.3), "Tanh": tf.nn.tanh,
    "Sigmoid": tf.nn.sigmoid,
}
# Activations whose fast epilogue is within a few ulps of the unfused kernels, not bit-equal.
_ULPS = ("Tanh", "Sigmoid")


def _config(remapping=True, devices=1, **rewrite):
    """A ConfigProto with the remapping switch and, for devices > 1, worker processes; small
    steps are rewritten too (``min_graph_nodes = -1``)."""
    rewrite.setdefault("min_graph_nodes", -1)
    rewrite_options = rewriter_config_pb2.RewriterConfig(
        remapping=0 if remapping else OFF, **rewrite)
    return tf.ConfigProto(device_count={"CPU": devices},
                          graph_options=tf.GraphOptions(rewrite_options=rewrite_options))


def _run_both(fetches, feed_dict=None, devices=1, init=None):
    """Runs `fetches` with remapping off, then on; returns both results."""
    results = []
    for remapping in (False, True):
        with tf.Session(config=_config(remapping, devices)) as sess:
            if init is not None:
                sess.run(init)
            results.append(sess.run(fetches, feed_dict))
    return results


def _assert_equal(off, on, exact=True):
    """`on` equals `off` (lists of arrays): exactly, or to a few ulps."""
    assert len(off) == len(on)
    for a, b in zip(off, on):
        a, b = np.asarray(a), np.asarray(b)
        assert a.dtype == b.dtype and a.shape == b.shape
        if exact:
            np.testing.assert_array_equal(b, a)
        else:
            rtol = 2e-6 if a.dtype == np.float32 else 1e-13
            np.testing.assert_allclose(b, a, rtol=rtol, atol=rtol)


def _compiled_types(fetches, feed_dict=None, targets=()):
    """The op types of the in-process step's nodes after the graph rewrites."""
    fetches = list(fetches)
    fed = list(feed_dict or ())
    order = plan.prune(fed, fetches, targets)
    nodes = [plan.Node.of_op(op, index) for index, op in enumerate(order)]
    options = optimizer.RewriteOptions(["remapping"], -1)
    rewritten = optimizer.optimize(nodes, fed, fetches, options)
    return [node.op_type for node in rewritten], rewritten


def _partition_nodes(fetches, feed_dict, init=None, remapping=True):
    """The NodeDefs of a 2-device worker session's partition graphs for one run."""
    with tf.Session(config=_config(remapping, devices=2)) as sess:
        if init is not None:
            sess.run(init)
        metadata = tf.RunMetadata()
        sess.run(fetches, feed_dict, options=tf.RunOptions(output_partition_graphs=True),
                 run_metadata=metadata)
    return [node for graph in metadata.partition_graphs for node in graph.node]


def _fused_ops(node_def):
    return [item.decode() for item in node_def.attr["fused_ops"].list.s]


def _dense(x, n_in, n_out, dtype, activation, seed, name):
    rng = np.random.default_rng(seed)
    with tf.name_scope(name):
        w = tf.constant(rng.standard_normal((n_in, n_out)).astype(dtype.as_numpy_dtype))
        b = tf.constant(rng.standard_normal(n_out).astype(dtype.as_numpy_dtype))
        h = tf.nn.bias_add(tf.matmul(x, w), b)
        return ACTIVATIONS[activation](h) if activation else h


# ---- results equal the unrewritten graph ----------------------------------------------------

@pytest.mark.parametrize("dtype", [tf.float32, tf.float64], ids=lambda d: d.name)
@pytest.mark.parametrize("activation", list(ACTIVATIONS), ids=str)
def test_matmul_chain_results_equal(executor, activation, dtype):
    x = tf.placeholder(dtype, [None, 16], name="x")
    y = _dense(x, 16, 300, dtype, activation, 1, "layer")
    feed = {x: np.random.default_rng(0).standard_normal((250, 16)).astype(dtype.as_numpy_dtype)}
    types, nodes = _compiled_types([y], feed)
    assert types == ["Const", "Const", "_FusedMatMul"]
    expected = ("BiasAdd",) + ((activation,) if activation else ())
    assert nodes[-1].attrs["fused_ops"] == expected
    assert nodes[-1].outputs == [y]
    off, on = _run_both([y], feed)
    _assert_equal(off, on, exact=executor == "reference" or activation not in _ULPS)


def test_transposed_matmul_results_equal(executor):
    a = tf.placeholder(tf.float32, [8, 5])
    b = tf.placeholder(tf.float32, [3, 8])
    bias = tf.placeholder(tf.float32, [3])
    y = tf.nn.relu(tf.nn.bias_add(tf.matmul(a, b, transpose_a=True, transpose_b=True), bias))
    rng = np.random.default_rng(2)
    feed = {a: rng.standard_normal((8, 5), np.float32), b: rng.standard_normal((3, 8), np.float32),
            bias: rng.standard_normal(3, np.float32)}
    types, nodes = _compiled_types([y], feed)
    assert types == ["_FusedMatMul"]
    assert nodes[0].attrs["transpose_a"] and nodes[0].attrs["transpose_b"]
    off, on = _run_both([y], feed)
    _assert_equal(off, on)
    np.testing.assert_allclose(on[0], np.maximum(feed[a].T @ feed[b].T + feed[bias], 0),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
@pytest.mark.parametrize("activation", [None, "Relu", "Elu", "Sigmoid"], ids=str)
def test_conv2d_chain_results_equal(executor, data_format, activation):
    rng = np.random.default_rng(3)
    shape = (2, 9, 8, 3) if data_format == "NHWC" else (2, 3, 9, 8)
    x = tf.placeholder(tf.float32, shape)
    w = tf.constant(rng.standard_normal((3, 3, 3, 5)).astype(np.float32))
    b = tf.constant(rng.standard_normal(5).astype(np.float32))
    h = tf.nn.bias_add(tf.nn.conv2d(x, w, [1, 1, 1, 1], "SAME", data_format=data_format), b,
                       data_format=data_format)
    y = ACTIVATIONS[activation](h) if activation else h
    feed = {x: rng.standard_normal(shape).astype(np.float32)}
    types, nodes = _compiled_types([y], feed)
    assert types[-1] == "_FusedConv2D" and "Conv2D" not in types and "BiasAdd" not in types
    assert nodes[-1].attrs["data_format"] == data_format
    off, on = _run_both([y], feed)
    _assert_equal(off, on, exact=executor == "reference" or activation not in _ULPS)


def test_bias_in_another_layout_is_not_fused():
    x = tf.placeholder(tf.float32, [1, 4, 4, 4])
    w = tf.constant(np.ones((1, 1, 4, 4), np.float32))
    bias = tf.constant(np.ones(4, np.float32))
    h = tf.nn.bias_add(tf.nn.conv2d(x, w, [1, 1, 1, 1], "VALID"), bias, data_format="NCHW")
    types, _ = _compiled_types([h], {x: np.zeros((1, 4, 4, 4), np.float32)})
    assert "Conv2D" in types and "BiasAdd" in types


# ---- what blocks a rewrite ------------------------------------------------------------------

def _layer():
    x = tf.placeholder(tf.float32, [4, 6], name="x")
    w = tf.constant(np.random.default_rng(4).standard_normal((6, 5)).astype(np.float32))
    b = tf.constant(np.linspace(-1, 1, 5).astype(np.float32))
    product = tf.matmul(x, w)
    biased = tf.nn.bias_add(product, b)
    y = tf.nn.relu(biased)
    feed = {x: np.random.default_rng(5).standard_normal((4, 6)).astype(np.float32)}
    return x, product, biased, y, feed


def test_fetched_intermediates_block_fusion(executor):
    _, product, biased, y, feed = _layer()
    types, nodes = _compiled_types([y, biased], feed)
    # The BiasAdd result is fetched: the chain stops there, Relu runs on its own.
    assert types[-2:] == ["_FusedMatMul", "Relu"]
    assert nodes[-2].attrs["fused_ops"] == ("BiasAdd",) and nodes[-2].outputs == [biased]
    types, _ = _compiled_types([y, product], feed)
    assert "_FusedMatMul" not in types
    off, on = _run_both([y, biased, product], feed)
    _assert_equal(off, on)


def test_second_reader_of_an_intermediate_blocks_fusion(executor):
    _, product, biased, y, feed = _layer()
    other = tf.square(biased)
    types, _ = _compiled_types([y, other], feed)
    assert types.count("_FusedMatMul") == 1 and "Relu" in types and "BiasAdd" not in types
    off, on = _run_both([y, other], feed)
    _assert_equal(off, on)


def test_feeds_win(executor):
    x, product, biased, y, feed = _layer()
    fed_biased = np.arange(20, dtype=np.float32).reshape(4, 5) - 10
    # Fed BiasAdd result: Relu reads the fed value; nothing computes it.
    off, on = _run_both(y, {x: feed[x], biased: fed_biased})
    np.testing.assert_array_equal(on, np.maximum(fed_biased, 0))
    np.testing.assert_array_equal(on, off)
    # Fed product: the BiasAdd adds the bias to the fed value.
    fed_product = np.ones((4, 5), np.float32)
    off, on = _run_both(y, {product: fed_product})
    bias = np.linspace(-1, 1, 5).astype(np.float32)
    np.testing.assert_array_equal(on, np.maximum(fed_product + bias, 0))
    np.testing.assert_array_equal(on, off)


def test_a_node_producing_a_fed_key_is_never_fused():
    x, product, biased, y, feed = _layer()
    order = plan.prune([], [y], [])
    nodes = [plan.Node.of_op(op, index) for index, op in enumerate(order)]
    options = optimizer.RewriteOptions(["remapping"], -1)
    for fed in ([product], [biased]):
        kept = optimizer.optimize(nodes, fed, [y], options)
        assert [n.op_type for n in kept] == [n.op_type for n in nodes]
    # A fed activation output: the chain stops before it.
    kept = optimizer.optimize(nodes, [y], [y], options)
    assert [n.op_type for n in kept][-2:] == ["_FusedMatMul", "Relu"]


def test_control_dependency_on_an_intermediate_blocks_fusion(executor):
    _, product, biased, y, feed = _layer()
    with tf.control_dependencies([product.op]):
        after = tf.identity(y)
    types, _ = _compiled_types([after], feed)
    assert "_FusedMatMul" not in types
    off, on = _run_both(after, feed)
    np.testing.assert_array_equal(on, off)


def test_float16_is_not_fused():
    x = tf.placeholder(tf.float16, [2, 3])
    y = tf.nn.relu(tf.nn.bias_add(tf.matmul(x, tf.ones([3, 2], tf.float16)),
                                  tf.ones([2], tf.float16)))
    types, _ = _compiled_types([y], {x: np.ones((2, 3), np.float16)})
    assert "_FusedMatMul" not in types


def test_run_time_bias_errors_are_biasadds(executor):
    x = tf.placeholder(tf.float32, [2, 3])
    bias = tf.placeholder(tf.float32, [None])
    y = tf.nn.relu(tf.nn.bias_add(tf.matmul(x, tf.ones([3, 4])), bias))
    assert "_FusedMatMul" in _compiled_types([y], {x: None, bias: None})[0]
    messages = []
    for remapping in (False, True):
        with tf.Session(config=_config(remapping)) as sess:
            with pytest.raises(errors.InvalidArgumentError) as raised:
                sess.run(y, {x: np.ones((2, 3), np.float32), bias: np.ones(3, np.float32)})
            messages.append(str(raised.value.message))
    assert "Must provide as many biases" in messages[1]
    assert messages[0].split("[[")[0] == messages[1].split("[[")[0]
    # The fused node stands for the chain's last op (TF names its fused node after it too).
    assert "{{node BiasAdd}}" in messages[0] and "{{node Relu}}" in messages[1]


# ---- training graphs, worker sessions, partition graphs, switches ------------------------------

def _mlp(activation="Relu", seed=6):
    rng = np.random.default_rng(seed)
    x = tf.placeholder(tf.float32, [32, 20], name="x")
    labels = tf.placeholder(tf.int32, [32], name="labels")
    h = x
    for index, (n_in, n_out) in enumerate(((20, 16), (16, 16), (16, 4))):
        w = tf.Variable((rng.standard_normal((n_in, n_out)) * 0.3).astype(np.float32),
                        name=f"w{index}")
        b = tf.Variable(rng.standard_normal(n_out).astype(np.float32) * 0.1, name=f"b{index}")
        h = tf.nn.bias_add(tf.matmul(h, w), b)
        if index < 2:
            h = ACTIVATIONS[activation](h)
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels,
                                                                         logits=h))
    train = tf.train.AdamOptimizer(0.01).minimize(loss)
    feed = {x: rng.standard_normal((32, 20)).astype(np.float32),
            labels: rng.integers(0, 4, 32).astype(np.int32)}
    return loss, train, feed


@pytest.mark.parametrize("devices", [1, 2], ids=["in-process", "workers"])
@pytest.mark.parametrize("activation", ["Relu", "Relu6"])
def test_training_steps_equal(executor, devices, activation):
    loss, train, feed = _mlp(activation)
    variables = tf.trainable_variables()
    results = []
    for remapping in (False, True):
        with tf.Session(config=_config(remapping, devices)) as sess:
            sess.run(tf.global_variables_initializer())
            losses = [sess.run([loss, train], feed)[0] for _ in range(3)]
            results.append((losses, sess.run(variables)))
    (losses_off, values_off), (losses_on, values_on) = results
    np.testing.assert_array_equal(losses_on, losses_off)
    for off, on in zip(values_off, values_on):
        np.testing.assert_array_equal(on, off)


def test_training_step_fuses_the_forward_layers():
    loss, train, feed = _mlp()
    nodes = _partition_nodes(train, feed, tf.global_variables_initializer())
    fused = sorted(_fused_ops(n) for n in nodes if n.op == "_FusedMatMul")
    # Two hidden layers (ReluGrad reads the Relu output) and the logits layer.
    assert fused == [["BiasAdd"], ["BiasAdd", "Relu"], ["BiasAdd", "Relu"]]
    assert not [n for n in nodes if n.op in ("Relu", "BiasAdd")]
    rewritten = [n for n in nodes if n.op == "_FusedMatMul"][0]
    replaced = [name.decode() for name in rewritten.attr["_rewritten_from"].list.s]
    assert len(replaced) == 3 and rewritten.attr["T"].type == tf.float32.as_datatype_enum


def test_training_step_with_relu6_fuses_the_activation_too():
    # Relu6Grad reads the Relu6 output, as in TF, so the pre-activation is read only by the
    # activation and the whole layer fuses; the logits layer fuses MatMul + BiasAdd.
    loss, train, feed = _mlp("Relu6")
    nodes = _partition_nodes(train, feed, tf.global_variables_initializer())
    assert sorted(_fused_ops(n) for n in nodes if n.op == "_FusedMatMul") == [
        ["BiasAdd"], ["BiasAdd", "Relu6"], ["BiasAdd", "Relu6"]]
    assert not [n for n in nodes if n.op == "Relu6"]


def test_layers_across_devices_equal(executor):
    x = tf.placeholder(tf.float32, [8, 12])
    with tf.device("/cpu:0"):
        h = _dense(x, 12, 10, tf.float32, "Relu", 7, "first")
    with tf.device("/cpu:1"):
        y = _dense(h, 10, 6, tf.float32, "Elu", 8, "second")
    feed = {x: np.random.default_rng(9).standard_normal((8, 12)).astype(np.float32)}
    off, on = _run_both(y, feed, devices=2)
    np.testing.assert_array_equal(on, off)
    nodes = _partition_nodes(y, feed)
    by_device = {n.device.rsplit("/", 1)[-1]: _fused_ops(n) for n in nodes
                 if n.op == "_FusedMatMul"}
    assert by_device == {"device:CPU:0": ["BiasAdd", "Relu"],
                         "device:CPU:1": ["BiasAdd", "Elu"]}


def test_switches_turn_remapping_off():
    _, _, _, y, feed = _layer()
    assert [n.op for n in _partition_nodes(y, feed) if n.op == "_FusedMatMul"]
    for remapping, rewrite in ((False, {}), (True, {"disable_meta_optimizer": True})):
        with tf.Session(config=_config(remapping, devices=2, **rewrite)) as sess:
            metadata = tf.RunMetadata()
            sess.run(y, feed, options=tf.RunOptions(output_partition_graphs=True),
                     run_metadata=metadata)
        ops = [n.op for g in metadata.partition_graphs for n in g.node]
        assert "_FusedMatMul" not in ops and {"MatMul", "BiasAdd", "Relu"} <= set(ops)


def test_conv_training_step_fuses_and_equals(executor):
    rng = np.random.default_rng(10)
    x = tf.placeholder(tf.float32, [4, 8, 8, 2])
    kernel = tf.Variable(rng.standard_normal((3, 3, 2, 4)).astype(np.float32) * 0.3)
    bias = tf.Variable(rng.standard_normal(4).astype(np.float32) * 0.1)
    h = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(x, kernel, [1, 1, 1, 1], "SAME"), bias))
    h = tf.nn.max_pool(h, [1, 2, 2, 1], [1, 2, 2, 1], "SAME")
    loss = tf.reduce_sum(tf.square(h - 0.5))
    train = tf.train.GradientDescentOptimizer(0.01).minimize(loss)
    feed = {x: rng.standard_normal((4, 8, 8, 2)).astype(np.float32)}
    results = []
    for remapping in (False, True):
        with tf.Session(config=_config(remapping)) as sess:
            sess.run(tf.global_variables_initializer())
            losses = [sess.run([loss, train], feed)[0] for _ in range(2)]
            results.append(losses + sess.run([kernel, bias]))
    for off, on in zip(*results):
        np.testing.assert_array_equal(on, off)
    nodes = _partition_nodes(train, feed, tf.global_variables_initializer())
    # MaxPoolGrad reads the Relu output, the chain's last value: the whole chain fuses.
    assert [_fused_ops(n) for n in nodes if n.op == "_FusedConv2D"] == [["BiasAdd", "Relu"]]


def test_imported_fused_matmul_runs(executor):
    # A GraphDef holding TF's _FusedMatMul (TF writes them into optimized graphs) imports and
    # runs: fused_ops arrive as bytes.
    weights = np.arange(12, dtype=np.float32).reshape(3, 4) - 5
    biases = np.array([1, -1, 0.5, -30], np.float32)
    source = tf.Graph()
    with source.as_default():
        tf.placeholder(tf.float32, [2, 3], name="x")
        tf.constant(weights, name="w")
        tf.constant(biases, name="b")
    graph_def = source.as_graph_def()
    node = graph_def.node.add(name="fused", op="_FusedMatMul")
    node.input.extend(["x", "w", "b"])
    node.attr["T"].type = tf.float32.as_datatype_enum
    node.attr["num_args"].i = 1
    node.attr["fused_ops"].list.s.extend([b"BiasAdd", b"Relu"])
    with tf.Graph().as_default() as graph:
        tf.import_graph_def(graph_def, name="")
        y = graph.get_tensor_by_name("fused:0")
        assert y.op.get_attr("fused_ops") == ("BiasAdd", "Relu")
        assert y.shape.as_list() == [2, 4]
        value = np.random.default_rng(11).standard_normal((2, 3)).astype(np.float32)
        with tf.Session() as sess:
            result = sess.run(y, {"x:0": value})
    np.testing.assert_allclose(result, np.maximum(value @ weights + biases, 0), rtol=1e-6)


def test_unsupported_fusions_are_rejected():
    a = tf.placeholder(tf.float32, [2, 3])
    b = tf.placeholder(tf.float32, [3, 4])
    bias = tf.placeholder(tf.float32, [4])
    graph = tf.get_default_graph()
    for fused_ops in (("Relu",), ("BiasAdd", "Softplus"), ("BiasAdd", "Relu", "Relu")):
        with pytest.raises(ValueError, match="unsupported fusion"):
            graph.create_op("_FusedMatMul", [a, b, bias], {"fused_ops": fused_ops})
    with pytest.raises(ValueError, match="Dimensions must be equal"):
        graph.create_op("_FusedMatMul", [a, b, tf.placeholder(tf.float32, [5])],
                        {"fused_ops": ("BiasAdd",)})


def test_in_process_partition_graph_and_trace_show_the_fused_node():
    _, _, _, y, feed = _layer()
    with tf.Session(config=_config()) as sess:
        metadata = tf.RunMetadata()
        sess.run(y, feed, options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE,
                                                output_partition_graphs=True),
                 run_metadata=metadata)
    nodes = [n for g in metadata.partition_graphs for n in g.node]
    (fused,) = [n for n in nodes if n.op == "_FusedMatMul"]
    assert _fused_ops(fused) == ["BiasAdd", "Relu"]
    assert [s.decode() for s in fused.attr["_rewritten_from"].list.s] == [
        "MatMul", "BiasAdd", "Relu"]
    assert list(fused.input)[0] == "x" and not fused.attr["transpose_a"].b
    assert not {"MatMul", "BiasAdd", "Relu"} & {n.op for n in nodes}
    labels = [s.timeline_label for d in metadata.step_stats.dev_stats for s in d.node_stats]
    assert any(label.startswith(f"{fused.name} = _FusedMatMul(x, ")
               and label.endswith("[fused: MatMul, BiasAdd, Relu]") for label in labels)


# ---- a one-element slice of a stacked list ------------------------------------------------------

from sessionlib.ops import list_ops as lo  # noqa: E402

LIST_DTYPES = [tf.float32, tf.float64, tf.float16, tf.int32, tf.int64, tf.uint8, tf.bool,
               tf.string]


def _list_value(dtype, shape=(5, 3, 4)):
    values = np.arange(int(np.prod(shape))).reshape(shape)
    if dtype == tf.string:
        return values.astype(str).astype(object)
    if dtype == tf.bool:
        return values % 3 == 0
    return values.astype(dtype.as_numpy_dtype)


@pytest.mark.parametrize("dtype", LIST_DTYPES, ids=lambda d: d.name)
def test_stacked_list_slices_fuse_and_keep_values(executor, dtype):
    x = tf.placeholder(dtype, [5, 3, 4], name="x")
    handle = lo.tensor_list_from_tensor(x, element_shape=[3, 4])
    stacked = lo.tensor_list_stack(handle, dtype)
    last, rows, reversed_row = stacked[-1], stacked[2, 1:], stacked[0, ::-1, 1]
    for fetch in (last, rows, reversed_row):
        types, _ = _compiled_types([fetch], {x: None})
        assert "_TensorListStackSlice" in types and "TensorListStack" not in types
    value = _list_value(dtype)
    off, on = _run_both([last, rows, reversed_row], {x: value})
    _assert_equal(off, on)
    _assert_equal([value[-1], value[2, 1:], value[0, ::-1, 1]], on)


def test_stacked_list_slices_that_stay_apart(executor):
    x = tf.placeholder(tf.float32, [5, 3], name="x")
    stacked = lo.tensor_list_stack(lo.tensor_list_from_tensor(x, element_shape=[3]),
                                   tf.float32)
    value = _list_value(tf.float32, (5, 3))
    # Not one element on axis 0, or the stack is read (or fetched, or fed) elsewhere.
    for fetches, feeds in (([stacked[1:3]], {x: value}), ([stacked[:, 1]], {x: value}),
                           ([stacked[-1], stacked * 2.0], {x: value}),
                           ([stacked[-1], stacked], {x: value}),
                           ([stacked[-1]], {x: value, stacked: value + 1})):
        types, _ = _compiled_types(fetches, feeds)
        assert "_TensorListStackSlice" not in types
        off, on = _run_both(fetches, feeds)
        _assert_equal(off, on)
    (fed_last,) = _run_both([stacked[-1]], {x: value, stacked: value + 1})[1]
    np.testing.assert_array_equal(fed_last, value[-1] + 1)


def test_stacked_list_slice_errors_are_the_unfused_ones(executor):
    # An index past the end, a list whose elements disagree in shape, a wrong expected length:
    # the same error (type and message) with and without the rewrite.
    x = tf.placeholder(tf.float32, [None, None], name="x")
    y = tf.placeholder(tf.float32, [None], name="y")
    handle = lo.tensor_list_from_tensor(x, element_shape=[None])
    mixed = lo.tensor_list_push_back(handle, y)
    cases = [
        (lo.tensor_list_stack(handle, tf.float32)[4], {x: np.ones((3, 3), np.float32)}),
        (lo.tensor_list_stack(handle, tf.float32)[-4], {x: np.ones((3, 3), np.float32)}),
        (lo.tensor_list_stack(mixed, tf.float32)[0],
         {x: np.ones((2, 3), np.float32), y: np.ones(2, np.float32)}),
        (lo.tensor_list_stack(handle, tf.float32, num_elements=4)[0],
         {x: np.ones((3, 3), np.float32)}),
        (lo.tensor_list_stack(handle, tf.float32)[0, 7], {x: np.ones((3, 3), np.float32)}),
    ]
    for fetch, feeds in cases:
        types, _ = _compiled_types([fetch], feeds)
        assert "_TensorListStackSlice" in types
        messages = []
        for remapping in (False, True):
            with tf.Session(config=_config(remapping)) as sess:
                with pytest.raises(errors.InvalidArgumentError) as raised:
                    sess.run(fetch, feeds)
            messages.append(raised.value.message.split("\n")[0])
        assert messages[0] == messages[1]


def test_dynamic_rnn_last_output_reads_one_element(executor):
    # outputs[:, -1] of a batch-major dynamic_rnn: after the arithmetic pass moves the slice
    # through the transpose, the stack and the slice fuse, and training gives the same values.
    rng = np.random.default_rng(4)
    x_value = rng.standard_normal((3, 6, 4)).astype(np.float32)
    results = []
    for remapping in (False, True):
        with tf.Graph().as_default():
            tf.set_random_seed(1)
            x = tf.placeholder(tf.float32, [3, 6, 4], name="x")
            cell = tf.nn.rnn_cell.BasicLSTMCell(5)
            outputs, _ = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32)
            loss = tf.reduce_sum(tf.square(outputs[:, -1]))
            train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
            with tf.Session(config=_config(remapping)) as sess:
                sess.run(tf.global_variables_initializer())
                step = [sess.run([loss, train], {x: x_value})[0] for _ in range(3)]
                if remapping:
                    md = tf.RunMetadata()
                    sess.run(loss, {x: x_value}, options=tf.RunOptions(
                        trace_level=tf.RunOptions.FULL_TRACE), run_metadata=md)
                    labels = [n.timeline_label for d in md.step_stats.dev_stats
                              for n in d.node_stats]
                    assert any("_TensorListStackSlice(" in label for label in labels)
                    assert not any("= TensorListStack(" in label for label in labels)
                results.append(step)
    np.testing.assert_allclose(results[1], results[0], rtol=1e-6)


def test_stacked_list_slice_in_worker_sessions():
    x = tf.placeholder(tf.float32, [5, 3, 4], name="x")
    stacked = lo.tensor_list_stack(lo.tensor_list_from_tensor(x, element_shape=[3, 4]),
                                   tf.float32)
    value = _list_value(tf.float32)
    off, on = _run_both([stacked[-1] * 2.0], {x: value}, devices=2)
    _assert_equal(off, on)
    np.testing.assert_array_equal(on[0], value[-1] * 2)
    types = [node.op for node in _partition_nodes([stacked[-1] * 2.0], {x: value})]
    assert "_TensorListStackSlice" in types and "TensorListStack" not in types
