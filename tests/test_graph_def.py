"""`Graph.as_graph_def` and `import_graph_def`: NodeDefs in TF's spelling, and round trips."""

import sys

import numpy as np
import pytest

import sessionlib as tf
from sessionlib.framework import graph_io


def _build_sample_graph():
    a = tf.constant([1.0, 2.0], name="a")
    p = tf.placeholder(tf.float32, [None], name="p")
    with tf.control_dependencies([tf.no_op(name="n")]):
        b = tf.identity(a, name="b")
    with tf.device("/cpu:0"):
        d = tf.placeholder_with_default(b, [2], name="d")
    return a, p, b, d


def test_as_graph_def_nodes():
    _build_sample_graph()
    graph_def = tf.get_default_graph().as_graph_def()
    assert isinstance(graph_def, tf.GraphDef)
    nodes = {node.name: node for node in graph_def.node}
    assert [node.name for node in graph_def.node] == ["a", "p", "n", "b", "d"]
    assert nodes["a"].op == "Const"
    assert nodes["a"].attr["dtype"].type == tf.float32.as_datatype_enum
    assert np.array_equal(graph_io.python_value_of(nodes["a"].attr["value"]), [1.0, 2.0])
    assert nodes["p"].attr["dtype"].type == tf.float32.as_datatype_enum
    assert [d.size for d in nodes["p"].attr["shape"].shape.dim] == [-1]
    assert list(nodes["b"].input) == ["a", "^n"]
    assert nodes["b"].attr["T"].type == tf.float32.as_datatype_enum
    assert list(nodes["d"].input) == ["b"]
    assert nodes["d"].device == "/device:CPU:0"
    assert graph_def.versions.producer > 0


def test_input_names_use_the_output_index():
    a = tf.constant(1.0, name="a")
    # Output 0 is spelled as the bare op name, others as "op:i".
    assert graph_io.input_name(a) == "a"

    class _FakeTensor:
        value_index = 2
        op = a.op

    assert graph_io.input_name(_FakeTensor()) == "a:2"


def test_from_version_and_add_shapes():
    graph = tf.get_default_graph()
    tf.constant(1.0, name="first")
    version = graph.version
    tf.constant(2.0, name="second")
    assert [n.name for n in graph.as_graph_def(from_version=version).node] == ["second"]
    shaped = graph.as_graph_def(add_shapes=True)
    assert [d.size for d in shaped.node[0].attr["_output_shapes"].list.shape[0].dim] == []


def test_round_trip_preserves_structure_and_values(executor):
    a, p, b, d = _build_sample_graph()
    graph_def = tf.get_default_graph().as_graph_def()
    target = tf.Graph()
    with target.as_default():
        tf.import_graph_def(graph_def, name="")
    again = target.as_graph_def()
    assert again == graph_def
    with tf.Session(graph=target) as sess:
        assert np.array_equal(sess.run("d:0"), [1.0, 2.0])
        assert np.array_equal(sess.run("p:0", {"p:0": [5.0]}), [5.0])


def test_import_prefix_and_return_elements(executor):
    _build_sample_graph()
    graph_def = tf.get_default_graph().as_graph_def()
    target = tf.Graph()
    with target.as_default():
        first = tf.import_graph_def(graph_def, return_elements=["d:0", "n"])
        second = tf.import_graph_def(graph_def, return_elements=["b:0"])
        named = tf.import_graph_def(graph_def, name="mine", return_elements=["a"])
        assert tf.import_graph_def(graph_def, name="quiet") is None
    assert first[0].name == "import/d:0"
    assert first[1].name == "import/n" and first[1].type == "NoOp"
    assert second[0].name == "import_1/b:0"
    assert named[0].name == "mine/a"
    assert [c.name for c in second[0].op.control_inputs] == ["import_1/n"]
    assert first[0].op.device == "/device:CPU:0"
    with tf.Session(graph=target) as sess:
        assert np.array_equal(sess.run(first[0]), [1.0, 2.0])


def test_import_with_input_map(executor):
    p = tf.placeholder(tf.float32, [None], name="p")
    tf.identity(p, name="out")
    graph_def = tf.get_default_graph().as_graph_def()
    target = tf.Graph()
    with target.as_default():
        replacement = tf.constant([7.0, 8.0], name="replacement")
        out, = tf.import_graph_def(graph_def, input_map={"p:0": replacement},
                                   return_elements=["out:0"])
        by_op_name, = tf.import_graph_def(graph_def, input_map={"p": replacement},
                                          return_elements=["out:0"])
    assert out.op.inputs == [replacement]
    assert by_op_name.op.inputs == [replacement]
    with tf.Session(graph=target) as sess:
        assert np.array_equal(sess.run(out), [7.0, 8.0])


def test_import_maps_control_inputs():
    n = tf.no_op(name="n")
    with tf.control_dependencies([n]):
        tf.constant(1.0, name="c")
    graph_def = tf.get_default_graph().as_graph_def()
    target = tf.Graph()
    with target.as_default():
        gate = tf.no_op(name="gate")
        c, = tf.import_graph_def(graph_def, input_map={"^n": gate}, return_elements=["c"])
    assert c.control_inputs == [gate]


def test_import_errors():
    tf.constant(1.0, name="a")
    graph_def = tf.get_default_graph().as_graph_def()
    with pytest.raises(TypeError):
        tf.import_graph_def("not a graph def")
    with pytest.raises(TypeError):
        tf.import_graph_def(graph_def, input_map=[("a:0", 1)])
    with pytest.raises(ValueError, match="not found"):
        tf.import_graph_def(graph_def, input_map={"zz:0": tf.constant(1.0)})
    with pytest.raises(ValueError, match="return_element"):
        tf.import_graph_def(graph_def, return_elements=["zz:0"])
    bad = tf.GraphDef()
    bad.node.add(name="x", op="NoSuchOp")
    with pytest.raises(tf.errors.NotFoundError):  # TF's type for an unregistered op
        tf.import_graph_def(bad)
    dangling = tf.GraphDef()
    dangling.node.add(name="x", op="Identity", input=["missing"])
    with pytest.raises(ValueError, match="missing"):
        tf.import_graph_def(dangling)


def test_import_rejects_a_cycle():
    graph_def = tf.GraphDef()
    graph_def.node.add(name="x", op="Identity", input=["y"])
    graph_def.node.add(name="y", op="Identity", input=["x"])
    with pytest.raises(ValueError, match="cycle"):
        tf.import_graph_def(graph_def)


def test_import_handles_nodes_listed_before_their_inputs(executor):
    graph_def = tf.GraphDef()
    graph_def.node.add().CopyFrom(graph_io.node_def_of(tf.identity(tf.constant(3.0, name="k"),
                                                                   name="late").op))
    graph_def.node.add().CopyFrom(tf.get_default_graph().get_operation_by_name("k").node_def)
    target = tf.Graph()
    with target.as_default():
        late, = tf.import_graph_def(graph_def, name="", return_elements=["late:0"])
    with tf.Session(graph=target) as sess:
        assert sess.run(late) == np.float32(3.0)


def test_import_of_a_long_chain_does_not_recurse(executor):
    x = tf.placeholder(tf.float32, [], name="x")
    y = x
    for _ in range(2500):
        y = tf.identity(y)
    graph_def = tf.get_default_graph().as_graph_def()
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)
    try:
        target = tf.Graph()
        with target.as_default():
            end, = tf.import_graph_def(graph_def, input_map={"x:0": tf.constant(2.0)},
                                       return_elements=[y.name])
    finally:
        sys.setrecursionlimit(limit)
    assert len(target.get_operations()) == 2502
    with tf.Session(graph=target) as sess:
        assert sess.run(end) == np.float32(2.0)


def test_session_graph_def_property():
    tf.constant(1, name="a")
    with tf.Session() as sess:
        assert [node.name for node in sess.graph_def.node] == ["a"]
