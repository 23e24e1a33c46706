"""TF-made control-flow GraphDefs import and run: TF 2's If/While with a function library,
and TF 1's Switch/Merge/Enter/Exit graphs raised into If/While at import.

The graphs and TF 2.21's results are in tests/data/tf_control_flow/, written by
tools/make_tf_control_flow.py (run with the TF reference environment): ``<name>.npz`` holds
the feed and fetch names and, per run, the feeds and TF's fetched values. Every runnable graph
also round-trips: sessionlib's export of it imports and runs to the same values.

The other direction was checked by hand with TF 2.21 (``tf.compat.v1.import_graph_def`` of
sessionlib's ``as_graph_def()``, then ``Session.run`` against sessionlib's values), and TF
imported and ran every graph as written, rejecting nothing:
* a cond (``StatelessIf``) on a fed bool; a bounded ``while_loop`` with a captured constant
  (``StatelessWhile`` with TF's ``[counter, maximum_iterations, *vars, *captures]`` inputs);
  a loop with a cond and an inner loop in its body; a TensorList loop variable
  (``TensorListReserve``/``SetItem``/``Stack``); a cond with a stateful op in a branch
  (``If``); a resource variable read in a cond and ``assign_add``-ed in a loop body
  (``If``/``While``, the reads captured as the variable's handle);
* `_own_control_flow_graph` below, all of that in one graph, to the values the test asserts;
* sessionlib's re-export of every runnable graph here (the v2 ones, v2_grad's Optional ops
  included, and the raised v1 ones, v1_rnn's TensorArrays as TensorLists), to TF's values.
What sessionlib writes differs from TF's own in two harmless ways: no
``_lower_using_switch_merge`` attr (TF then runs the functional ops as they are instead of
lowering them to Switch/Merge), and arg names made from placeholder names (``arg0_1``,
``captured_1``) rather than TF's (``placeholder``, ``less_n``); TF requires only
``[a-z][a-z0-9_]*`` names, which the test checks.
"""

import glob
import os
import re

import numpy as np
import pytest

import sessionlib as tf
from sessionlib import errors
from sessionlib.framework import control_flow_import, function_def, registry
from sessionlib.protos import graph_pb2

_DATA = os.path.join(os.path.dirname(__file__), "data", "tf_control_flow")

# Graphs sessionlib runs to TF's values.
RUNNABLE = ["v2_cond", "v2_while", "v2_nested", "v2_rnn", "v2_grad",
            "v1_cond", "v1_while", "v1_nested", "v1_rnn"]
# TF 1 graphs whose control flow is not raised: (name, node the error names).
REFUSED = [("v1_grad", "gradients/cond")]


def _graph_def(name):
    graph_def = graph_pb2.GraphDef()
    with open(os.path.join(_DATA, name + ".pb"), "rb") as f:
        graph_def.ParseFromString(f.read())
    return graph_def


def _called_functions(graph_def):
    """The names of the library functions that the graph's nodes call, transitively."""
    defs = {f.signature.name: f for f in graph_def.library.function}
    called, todo = set(), [graph_def.node]
    while todo:
        for node in todo.pop():
            for attr in node.attr.values():
                for name in [attr.func.name] + [f.name for f in attr.list.func]:
                    if name and name not in called:
                        called.add(name)
                        todo.append(defs[name].node_def)
    return called


def _missing_ops(graph_def):
    if control_flow_import.needs_raising(graph_def):
        graph_def = control_flow_import.raise_control_flow(graph_def)
    ops = {n.op for n in graph_def.node}
    ops |= {n.op for f in graph_def.library.function for n in f.node_def}
    ops |= {"StatelessIf", "StatelessWhile", "If", "While"}
    return sorted(op for op in ops if registry.find(op) is None
                  and op not in control_flow_import._PRIMITIVES)


def test_data_is_small_and_complete():
    names = sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(_DATA, "*.pb")))
    assert names == sorted(RUNNABLE + [name for name, _ in REFUSED])
    for name in names:
        assert os.path.getsize(os.path.join(_DATA, name + ".pb")) < 20000


@pytest.mark.parametrize("name", ["v2_cond", "v2_while", "v2_nested", "v2_rnn", "v2_grad"])
def test_function_bodies_resolve_tf_output_names(name):
    graph_def = _graph_def(name)
    assert len(graph_def.library.function) >= 2
    for fdef in graph_def.library.function:
        body, args, outputs, _ = function_def.body_graph_def(fdef)
        assert args == [a.name for a in fdef.signature.input_arg]
        assert len(outputs) == len(fdef.signature.output_arg)
        names = {n.name for n in body.node}
        for node in body.node:
            for inp in node.input:
                assert inp.lstrip("^").rsplit(":", 1)[0] in names


def test_multi_output_arg_names_map_to_flat_indices():
    from sessionlib.protos import node_def_pb2

    node = node_def_pb2.NodeDef(name="pop", op="TensorListPopBack")
    assert function_def.flat_output_index(node, "output_handle", 0) == 0
    assert function_def.flat_output_index(node, "tensor", 0) == 1
    split = node_def_pb2.NodeDef(name="s", op="Split")
    split.attr["num_split"].i = 3
    assert function_def.flat_output_index(split, "output", 2) == 2
    with pytest.raises(ValueError, match="no output output:3"):
        function_def.flat_output_index(split, "output", 3)


@pytest.mark.parametrize("name", ["v1_cond", "v1_while", "v1_nested", "v1_rnn"])
def test_tf1_control_flow_is_raised(name):
    graph_def = _graph_def(name)
    assert control_flow_import.needs_raising(graph_def)
    raised = control_flow_import.raise_control_flow(graph_def)
    assert not control_flow_import.needs_raising(raised)
    ops = {n.op for n in raised.node}
    assert ops & {"If", "StatelessIf", "While", "StatelessWhile"}
    # The fetched names survive (Merges and Exits become Identities of the new op).
    fetches = np.load(os.path.join(_DATA, name + ".npz"))["fetch_names"]
    names = {n.name for n in raised.node}
    assert {str(f).split(":")[0] for f in fetches} <= names


@pytest.mark.parametrize("name,where", REFUSED)
def test_unraisable_tf1_control_flow_is_unimplemented(name, where):
    with pytest.raises(errors.UnimplementedError, match="Cannot import TF 1 control flow at "
                                                        f"node '{where}"):
        control_flow_import.raise_control_flow(_graph_def(name))


def test_tf1_tensor_arrays_are_lifted_onto_lists():
    raised = control_flow_import.raise_control_flow(_graph_def("v1_rnn"))
    ops = {n.op for n in raised.node}
    ops |= {n.op for f in raised.library.function for n in f.node_def}
    assert not {op for op in ops if op.startswith("TensorArray")}
    assert {"TensorListReserve", "TensorListScatterIntoExistingList", "TensorListGetItem",
            "TensorListSetItem", "TensorListGather"} <= ops
    body = next(f for f in raised.library.function if "body" in f.signature.name)
    assert sum(arg.type == 0 for arg in body.signature.input_arg) == len(
        body.signature.input_arg)  # typed at import, from the While's inputs


def _tensor_array_graph(extra):
    """A TF 1 GraphDef (no loop) of a TensorArray written, read, and `extra(nodes)`."""
    from sessionlib.protos import node_def_pb2

    graph_def = graph_pb2.GraphDef()

    def node(name, op, inputs=(), **attrs):
        made = node_def_pb2.NodeDef(name=name, op=op, input=list(inputs))
        for key, value in attrs.items():
            made.attr[key].CopyFrom(value)
        graph_def.node.append(made)
        return made

    from sessionlib.framework import graph_io

    def const(name, value):
        return node(name, "Const", dtype=graph_io.attr_value_of(tf.as_dtype(value.dtype)),
                    value=graph_io.attr_value_of(value))

    const("size", np.array(2, np.int32))
    const("i", np.array(1, np.int32))
    const("v", np.array([1.5, 2.5], np.float32))
    node("ta", "TensorArrayV3", ["size"], dtype=graph_io.attr_value_of(tf.float32),
         element_shape=graph_io.attr_value_of(tf.TensorShape([2])),
         dynamic_size=graph_io.attr_value_of(False))
    node("write", "TensorArrayWriteV3", ["ta", "i", "v", "ta:1"],
         T=graph_io.attr_value_of(tf.float32))
    node("read", "TensorArrayReadV3", ["ta", "i", "write"],
         dtype=graph_io.attr_value_of(tf.float32))
    node("size_of", "TensorArraySizeV3", ["ta", "write"])
    extra(node)
    return graph_def


def test_tf1_tensor_array_outside_loops_runs(executor):
    graph_def = _tensor_array_graph(lambda node: None)
    assert control_flow_import.needs_raising(graph_def)
    with tf.Graph().as_default():
        tf.import_graph_def(graph_def, name="")
        with tf.Session() as sess:
            read, size = sess.run(["read:0", "size_of:0"])
    np.testing.assert_array_equal(read, [1.5, 2.5])
    assert size == 2


def test_tf1_tensor_array_split_concat_close(executor):
    def extra(node):
        from sessionlib.framework import graph_io

        node("lengths", "Const", dtype=graph_io.attr_value_of(tf.int64),
             value=graph_io.attr_value_of(np.array([1, 3], np.int64)))
        node("rows", "Const", dtype=graph_io.attr_value_of(tf.float32),
             value=graph_io.attr_value_of(np.arange(4, dtype=np.float32)))
        node("split", "TensorArraySplitV3", ["ta", "rows", "lengths", "write"],
             T=graph_io.attr_value_of(tf.float32))
        node("concat", "TensorArrayConcatV3", ["ta", "split"],
             dtype=graph_io.attr_value_of(tf.float32))
        node("close", "TensorArrayCloseV3", ["ta", "^concat"])

    with tf.Graph().as_default():
        tf.import_graph_def(_tensor_array_graph(extra), name="")
        with tf.Session() as sess:
            value, lengths = sess.run(["concat:0", "concat:1"])
            sess.run("close")
    np.testing.assert_array_equal(value, [0, 1, 2, 3])
    np.testing.assert_array_equal(lengths, [1, 3])


def test_tf1_tensor_array_gradients_are_unimplemented():
    graph_def = _tensor_array_graph(
        lambda node: node("grad", "TensorArrayGradV3", ["ta", "write"]))
    with pytest.raises(errors.UnimplementedError, match="Cannot import TF 1 control flow at "
                                                        "node 'grad'.*gradients"):
        control_flow_import.raise_control_flow(graph_def)


def _run_case(name):
    graph_def = _graph_def(name)
    assert not _missing_ops(graph_def)
    data = np.load(os.path.join(_DATA, name + ".npz"))
    feeds = [str(n) for n in data["feed_names"]]
    fetches = [str(n) for n in data["fetch_names"]]
    with tf.Graph().as_default():
        tf.import_graph_def(graph_def, name="")
        with tf.Session() as sess:
            for r in range(int(data["runs"])):
                feed = {n: data[f"r{r}_feed{i}"] for i, n in enumerate(feeds)}
                got = sess.run(fetches, feed)
                for j, value in enumerate(got):
                    np.testing.assert_allclose(value, data[f"r{r}_fetch{j}"], rtol=1e-5,
                                               atol=1e-6, err_msg=f"{name} run {r} {fetches[j]}")


@pytest.mark.parametrize("name", RUNNABLE)
def test_tf_graph_runs_to_tfs_values(name, executor):
    _run_case(name)


@pytest.mark.parametrize("name", RUNNABLE)
def test_export_import_round_trip(name, executor):
    graph_def = _graph_def(name)
    assert not _missing_ops(graph_def)
    with tf.Graph().as_default() as graph:
        tf.import_graph_def(graph_def, name="")
        exported = graph.as_graph_def()
    # The export keeps the functions the graph calls (TF's library may hold more: v2_grad's
    # forward functions before they were rewritten to expose intermediates); a TF 1 graph's
    # functions are those its raising made.
    if control_flow_import.needs_raising(graph_def):
        graph_def = control_flow_import.raise_control_flow(graph_def)
    assert _called_functions(exported) == _called_functions(graph_def)
    assert {f.signature.name for f in exported.library.function} == \
        _called_functions(graph_def)
    data = np.load(os.path.join(_DATA, name + ".npz"))
    fetches = [str(n) for n in data["fetch_names"]]
    feeds = [str(n) for n in data["feed_names"]]
    with tf.Graph().as_default():
        tf.import_graph_def(exported, name="")
        with tf.Session() as sess:
            feed = {n: data[f"r0_feed{i}"] for i, n in enumerate(feeds)}
            for value, j in zip(sess.run(fetches, feed), range(len(fetches))):
                np.testing.assert_allclose(value, data[f"r0_fetch{j}"], rtol=1e-5, atol=1e-6)


_TF_ARG_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def _own_control_flow_graph():
    """A graph with sessionlib's own cond, bounded while, nested loop-in-loop with a cond,
    a TensorList loop variable and a resource variable updated in a loop body; returns the
    graph, the feeds (placeholder -> value) and the fetches."""
    from sessionlib.ops import list_ops

    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [3], name="x")
        p = tf.placeholder(tf.bool, [], name="p")
        v = tf.get_variable("v", initializer=tf.constant(2.0), use_resource=True)

        def body(i, a, items):
            a = tf.cond(tf.equal(i % 2, 0), lambda: a + x, lambda: a * 2.0)
            _, a = tf.while_loop(lambda j, b: j < i, lambda j, b: (j + 1, b + 1.0), [0, a])
            with tf.control_dependencies([v.assign_add(1.0)]):
                return i + 1, a, list_ops.tensor_list_set_item(items, i, a)

        items = list_ops.tensor_list_reserve([3], 4, tf.float32)
        n, a, items = tf.while_loop(lambda i, *_: i < 10, body, [0, tf.zeros([3]), items],
                                    maximum_iterations=4)
        stacked = list_ops.tensor_list_stack(items, tf.float32)
        with tf.control_dependencies([n]):
            after = v.read_value()
            # Reads the variable after the loop's updates (unordered, TF may run it first).
            y = tf.cond(p, lambda: tf.exp(x) * v, lambda: x * x)
        init = tf.global_variables_initializer()
    feeds = {"x:0": np.array([0.5, 1.0, -1.0], np.float32), "p:0": np.array(True)}
    return graph, init.name, feeds, [y.name, n.name, a.name, stacked.name, after.name]


def test_own_control_flow_exports_as_tf_writes_it(executor):
    """sessionlib's cond/while_loop export the ops, attrs and FunctionDefs TF 2.21 reads, and
    the export runs again after import. The same graph (and the v2 round trips above) was
    imported into TF 2.21 by hand and ran there to sessionlib's values (see the docstring)."""
    graph, init, feeds, fetches = _own_control_flow_graph()
    with tf.Session(graph=graph) as sess:
        sess.run(init)
        expected = sess.run(fetches, feeds)
    exported = graph.as_graph_def()
    nodes = list(exported.node) + [n for f in exported.library.function for n in f.node_def]
    # Reading a variable makes the outer cond stateful, updating it the outer loop.
    assert {"If", "StatelessIf", "While", "StatelessWhile"} <= {n.op for n in nodes}
    for node in nodes:
        if node.op in ("If", "StatelessIf"):
            assert {"Tcond", "Tin", "Tout", "then_branch", "else_branch",
                    "output_shapes"} <= set(node.attr)
        elif node.op in ("While", "StatelessWhile"):
            assert {"T", "cond", "body", "output_shapes", "parallel_iterations"} <= set(
                node.attr)
            assert [t for t in node.attr["T"].list.type][:2] == [tf.int32.as_datatype_enum] * 2
    assert _called_functions(exported) == {f.signature.name for f in exported.library.function}
    for fdef in exported.library.function:
        assert all(_TF_ARG_NAME.match(a.name) for a in fdef.signature.input_arg)
        assert all(_TF_ARG_NAME.match(a.name) for a in fdef.signature.output_arg)
        function_def.body_graph_def(fdef)  # every input and ret resolves
    with tf.Graph().as_default():
        tf.import_graph_def(exported, name="")
        with tf.Session() as sess:
            sess.run(init)
            got = sess.run(fetches, feeds)
    for value, want in zip(got, expected):
        np.testing.assert_allclose(value, want, rtol=1e-6)
    # The values, worked by hand: four iterations of the body, each adding 1 to v.
    np.testing.assert_allclose(expected[0], np.exp(feeds["x:0"]) * 6.0, rtol=1e-6)
    assert expected[1] == 4 and expected[4] == 6.0
    # TF 2.21 ran the exported graph to these (by hand, see the module docstring).
    np.testing.assert_allclose(expected[2], [12.0, 15.0, 3.0])
    np.testing.assert_allclose(expected[3], [[0.5, 1.0, -1.0], [2.0, 3.0, -1.0],
                                             [4.5, 6.0, 0.0], [12.0, 15.0, 3.0]])
