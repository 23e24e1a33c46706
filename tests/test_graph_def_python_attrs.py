"""A graph whose ops hold Python objects (tf.data functions) can still be written as a GraphDef
(for TensorBoard, meta graphs and Saver's .meta); importing such a node says why it cannot."""

import os

import pytest

import sessionlib as tf


def _pipeline_graph():
    graph = tf.Graph()
    with graph.as_default():
        dataset = tf.data.Dataset.range(4).map(lambda x: x * 2)
        iterator = tf.data.make_one_shot_iterator(dataset)
        iterator.get_next(name="next_element")
    return graph


def test_writing_a_graph_with_python_attrs_lists_them_instead_of_failing():
    graph_def = _pipeline_graph().as_graph_def()
    marked = [node for node in graph_def.node if "_python_attrs" in node.attr]
    assert marked, "the pipeline's ops should be marked"
    for node in marked:
        names = [item.decode() for item in node.attr["_python_attrs"].list.s]
        assert names and all(name not in node.attr for name in names)


def test_importing_a_node_without_its_python_attrs_is_a_value_error_naming_it():
    graph_def = _pipeline_graph().as_graph_def()
    with tf.Graph().as_default() as graph:
        with pytest.raises(ValueError, match="held Python objects"):
            tf.import_graph_def(graph_def, name="")
        assert graph.get_operations() == []


@pytest.mark.skipif(
    os.environ.get("SESSIONLIB_WORKERS") == "1",
    reason="tf.data pipelines run only in in-process sessions (SESSIONLIB_WORKERS=1 is set)")
def test_a_saver_writes_the_meta_graph_of_a_model_fed_by_a_pipeline(tmp_path):
    with tf.Graph().as_default():
        dataset = tf.data.Dataset.from_tensor_slices([1.0, 2.0, 3.0]).map(lambda x: x + 1.0)
        value = tf.data.make_one_shot_iterator(dataset).get_next()
        weight = tf.Variable(2.0, name="weight")
        product = value * weight
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            assert sess.run(product) == 4.0
            prefix = saver.save(sess, str(tmp_path / "model"))
    assert (tmp_path / "model.meta").is_file()
    assert tf.train.load_variable(prefix, "weight") == 2.0
