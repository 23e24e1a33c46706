"""TF-made control-flow GraphDefs import and run: TF 2's If/While with a function library,
and TF 1's Switch/Merge/Enter/Exit graphs raised into If/While at import.

The graphs and TF 2.21's results are in tests/data/tf_control_flow/, written by
tools/make_tf_control_flow.py (run with the TF reference environment): ``<name>.npz`` holds
the feed and fetch names and, per run, the feeds and TF's fetched values.
"""

import glob
import os

import numpy as np
import pytest

import sessionlib as tf
from sessionlib import errors
from sessionlib.framework import control_flow_import, function_def, registry
from sessionlib.protos import graph_pb2

_DATA = os.path.join(os.path.dirname(__file__), "data", "tf_control_flow")

# Graphs sessionlib runs to TF's values.
RUNNABLE = ["v2_cond", "v2_while", "v2_nested", "v2_rnn", "v2_grad",
            "v1_cond", "v1_while", "v1_nested"]
# TF 1 graphs whose control flow is not raised: (name, node the error names).
REFUSED = [("v1_rnn", "rnn_model/rnn/while/TensorArrayReadV3"),
           ("v1_grad", "gradients/cond")]


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


@pytest.mark.parametrize("name", ["v1_cond", "v1_while", "v1_nested"])
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


def _run_case(name):
    graph_def = _graph_def(name)
    missing = _missing_ops(graph_def)
    if missing:
        pytest.skip(f"ops not registered yet: {missing}")
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
    missing = _missing_ops(graph_def)
    if missing:
        pytest.skip(f"ops not registered yet: {missing}")
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
