"""`tf.train.write_graph` / `tf.io.write_graph`: a GraphDef file, text or binary, that reads back
into the same graph."""

import os

import numpy as np
import pytest
from google.protobuf import text_format

import sessionlib as tf


def _graph():
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [2], name="x")
        tf.multiply(x, tf.constant(3.0), name="y")
    return graph


def _run_imported(graph_def):
    with tf.Graph().as_default() as graph:
        tf.import_graph_def(graph_def, name="")
        with tf.Session() as sess:
            return sess.run(graph.get_tensor_by_name("y:0"),
                            {graph.get_tensor_by_name("x:0"): np.array([1.0, 2.0], np.float32)})


@pytest.mark.parametrize("as_text", [True, False])
def test_round_trip(tmp_path, as_text):
    graph = _graph()
    logdir = tmp_path / "new" / "dir"
    path = tf.train.write_graph(graph, str(logdir), "graph.pb", as_text=as_text)
    assert path == os.path.join(str(logdir), "graph.pb")
    assert os.listdir(logdir) == ["graph.pb"]   # no temporary file left
    graph_def = tf.GraphDef()
    with open(path, "rb") as handle:
        data = handle.read()
    if as_text:
        text_format.Parse(data.decode("utf-8"), graph_def)
    else:
        graph_def.ParseFromString(data)
    assert [node.name for node in graph_def.node] == [op.name for op in graph.get_operations()]
    np.testing.assert_array_equal(_run_imported(graph_def), [3.0, 6.0])


def test_tf_io_spelling_takes_a_graph_def(tmp_path):
    graph_def = _graph().as_graph_def()
    path = tf.io.write_graph(graph_def, tmp_path, "g.pbtxt")
    with open(path) as handle:
        assert 'name: "y"' in handle.read()


def test_rejects_what_is_not_a_graph(tmp_path):
    with pytest.raises(TypeError, match="Graph or a GraphDef, got str"):
        tf.train.write_graph("graph", str(tmp_path), "g.pbtxt")
