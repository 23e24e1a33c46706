"""Graph collections: `GraphKeys`, the module-level functions, scope filtering, the variable
collections, and `ExponentialMovingAverage`'s names and collections.

Expected keys, names and orders were checked against TF 2.21 (``tf.compat.v1`` with resource
variables enabled).
"""

import numpy as np
import pytest

import sessionlib as tf


@pytest.fixture(autouse=True)
def _fresh_graph():
    with tf.Graph().as_default() as graph:
        yield graph


def test_graph_keys_have_tf_values():
    expected = {
        "ACTIVATIONS": "activations", "ASSET_FILEPATHS": "asset_filepaths",
        "BIASES": "biases", "CONCATENATED_VARIABLES": "concatenated_variables",
        "COND_CONTEXT": "cond_context", "EVAL_STEP": "eval_step",
        "GLOBAL_STEP": "global_step", "GLOBAL_VARIABLES": "variables", "INIT_OP": "init_op",
        "LOCAL_INIT_OP": "local_init_op", "LOCAL_RESOURCES": "local_resources",
        "LOCAL_VARIABLES": "local_variables", "LOSSES": "losses",
        "METRIC_VARIABLES": "metric_variables", "MODEL_VARIABLES": "model_variables",
        "MOVING_AVERAGE_VARIABLES": "moving_average_variables",
        "QUEUE_RUNNERS": "queue_runners", "READY_FOR_LOCAL_INIT_OP": "ready_for_local_init_op",
        "READY_OP": "ready_op", "REGULARIZATION_LOSSES": "regularization_losses",
        "RESOURCES": "resources", "SAVEABLE_OBJECTS": "saveable_objects", "SAVERS": "savers",
        "SUMMARIES": "summaries", "SUMMARY_OP": "summary_op",
        "TABLE_INITIALIZERS": "table_initializer",
        "TRAINABLE_RESOURCE_VARIABLES": "trainable_resource_variables",
        "TRAINABLE_VARIABLES": "trainable_variables", "TRAIN_OP": "train_op",
        "UPDATE_OPS": "update_ops", "VARIABLES": "variables", "WEIGHTS": "weights",
        "WHILE_CONTEXT": "while_context",
    }
    for key, value in expected.items():
        assert getattr(tf.GraphKeys, key) == value, key


def test_module_functions_use_the_default_graph(_fresh_graph):
    tf.add_to_collection("a", 1)
    tf.add_to_collections(["a", "b", "a"], 2)  # names are deduplicated, as in TF
    tf.add_to_collections("b", 3)  # a string is one name
    assert tf.get_collection("a") == [1, 2]
    assert tf.get_collection("b") == [2, 3]
    assert tf.get_collection("missing") == []
    ref = tf.get_collection_ref("c")
    ref.append(4)
    assert tf.get_collection("c") == [4]
    copy = tf.get_collection("c")
    copy.append(5)
    assert tf.get_collection("c") == [4]
    assert _fresh_graph.get_collection("a") == [1, 2]


def test_all_collection_keys_and_clearing(_fresh_graph):
    tf.get_collection_ref("empty")
    tf.add_to_collection("a", 1)
    # TF lists empty collections too, and only string keys.
    _fresh_graph.add_to_collection(("internal",), 2)
    assert _fresh_graph.get_all_collection_keys() == ["empty", "a"]
    with tf.variable_scope("s"):
        tf.get_variable("v", [1])  # the variable store lives in a tuple-keyed collection
    assert _fresh_graph.get_all_collection_keys() == ["empty", "a", "variables",
                                                       "trainable_variables"]
    _fresh_graph.clear_collection("a")
    assert tf.get_collection("a") == []
    assert "a" not in _fresh_graph.get_all_collection_keys()


def test_finalized_graph_refuses_collection_changes(_fresh_graph):
    _fresh_graph.finalize()
    with pytest.raises(RuntimeError, match="Graph is finalized"):
        tf.add_to_collection("a", 1)
    with pytest.raises(RuntimeError, match="Graph is finalized"):
        _fresh_graph.clear_collection("a")
    assert tf.get_collection("a") == []


def test_scope_filter_is_a_regex_match_on_names():
    with tf.variable_scope("enc"):
        a = tf.get_variable("a", [1])
    with tf.variable_scope("encoder"):
        b = tf.get_variable("b", [1])
    with tf.variable_scope("dec"):
        c = tf.get_variable("c", [1])
    tf.add_to_collection(tf.GraphKeys.GLOBAL_VARIABLES, "no name")
    assert tf.get_collection(tf.GraphKeys.GLOBAL_VARIABLES, "enc") == [a, b]
    assert tf.get_collection(tf.GraphKeys.GLOBAL_VARIABLES, "enc/") == [a]
    assert tf.get_collection(tf.GraphKeys.GLOBAL_VARIABLES, ".*c") == [a, b, c]
    assert tf.global_variables("dec") == [c]
    assert tf.trainable_variables("e.c/") == [a]


def test_variable_collection_helpers():
    model = tf.get_variable("m", [1], collections=[tf.GraphKeys.GLOBAL_VARIABLES,
                                                   tf.GraphKeys.MODEL_VARIABLES])
    local = tf.get_variable("l", [1], collections=[tf.GraphKeys.LOCAL_VARIABLES],
                            trainable=False)
    plain = tf.Variable(1.0, name="plain")
    assert tf.model_variables() == [model]
    assert tf.local_variables() == [local]
    assert tf.global_variables() == [model, plain]
    assert tf.moving_average_variables() == []
    ema = tf.train.ExponentialMovingAverage(0.5)
    ema.apply([plain])
    assert tf.moving_average_variables() == [plain]


def test_moving_average_names_follow_tf():
    v = tf.Variable(1.0, name="v")
    with tf.variable_scope("sc"):
        w = tf.get_variable("w", initializer=2.0)
    t = tf.constant(3.0) * 2.0
    ema = tf.train.ExponentialMovingAverage(0.9, zero_debias=True)
    assert ema.average_name(v) == "v/ExponentialMovingAverage"
    with tf.name_scope("outer"):
        op = ema.apply([v, w, t])
    assert op.name == "outer/ExponentialMovingAverage"
    assert [ema.average(x).name for x in (v, w, t)] == [
        "v/ExponentialMovingAverage:0", "sc/w/ExponentialMovingAverage:0",
        "mul/ExponentialMovingAverage:0"]
    assert [x.name for x in tf.global_variables()] == [
        "v:0", "sc/w:0", "v/ExponentialMovingAverage:0", "sc/w/ExponentialMovingAverage:0",
        "mul/ExponentialMovingAverage:0", "mul/ExponentialMovingAverage/biased:0",
        "mul/ExponentialMovingAverage/local_step:0"]
    restore = {name: var.name for name, var in ema.variables_to_restore().items()}
    assert restore == {
        "mul/ExponentialMovingAverage": "mul/ExponentialMovingAverage:0",
        "mul/ExponentialMovingAverage/biased": "mul/ExponentialMovingAverage/biased:0",
        "mul/ExponentialMovingAverage/local_step": "mul/ExponentialMovingAverage/local_step:0",
        "sc/w/ExponentialMovingAverage": "sc/w:0", "v/ExponentialMovingAverage": "v:0"}
    with tf.Session() as session:
        session.run(tf.global_variables_initializer())
        session.run(v.assign(5.0))
        session.run(op)
        values = session.run([ema.average(v), ema.average(w), ema.average(t)])
    # TF 2.21 gives [1.4, 2.0, 6.0] (the tensor's average is zero-debiased).
    np.testing.assert_allclose(values, [1.4, 2.0, 6.0], rtol=1e-6)


def test_moving_average_inside_a_variable_scope():
    v = tf.Variable(1.0, name="v")
    ema = tf.train.ExponentialMovingAverage(0.9)
    with tf.variable_scope("train"):
        with tf.name_scope("ns"):
            assert ema.average_name(v) == "train/ns/v/ExponentialMovingAverage"
        op = ema.apply([v])
    assert ema.average(v).name == "train/v/ExponentialMovingAverage:0"
    assert ema.average_name(v) == "train/v/ExponentialMovingAverage"
    assert op.name == "train/ExponentialMovingAverage"
    names = [o.name for o in tf.get_default_graph().get_operations()]
    # TF's assign_moving_average op names.
    assert [n for n in names if n.startswith("train/ExponentialMovingAverage/")] == [
        "train/ExponentialMovingAverage/decay",
        "train/ExponentialMovingAverage/AssignMovingAvg/sub/x",
        "train/ExponentialMovingAverage/AssignMovingAvg/sub",
        "train/ExponentialMovingAverage/AssignMovingAvg/ReadVariableOp",
        "train/ExponentialMovingAverage/AssignMovingAvg/sub_1/ReadVariableOp",
        "train/ExponentialMovingAverage/AssignMovingAvg/sub_1",
        "train/ExponentialMovingAverage/AssignMovingAvg/mul",
        "train/ExponentialMovingAverage/AssignMovingAvg/AssignSubVariableOp",
        "train/ExponentialMovingAverage/AssignMovingAvg/ReadVariableOp_1"]
    other = tf.train.ExponentialMovingAverage(0.9)
    other.apply([v])
    assert other.average(v).name == "v/ExponentialMovingAverage:0"
