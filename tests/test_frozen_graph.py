"""TF 1 graphs from elsewhere: a frozen model-zoo style CNN, a training graph with reference
variables, and GraphDefs holding op types sessionlib lacks.

The .pb files and the expected values were made with TF 2.21 by tools/make_frozen_cnn.py and
tools/make_tf1_linear_graph.py (run with the TF reference environment); the numbers written
below are what those scripts printed.
"""

import os

import numpy as np
import pytest

import sessionlib as tf
from sessionlib import dtypes, errors
from sessionlib.framework import tensor_util

_DATA = os.path.join(os.path.dirname(__file__), "data")


def _graph_def(name):
    graph_def = tf.GraphDef()
    with open(os.path.join(_DATA, name), "rb") as f:
        graph_def.ParseFromString(f.read())
    return graph_def


# ---- the frozen CNN -----------------------------------------------------------------------------

def test_frozen_cnn_gives_tfs_output():
    graph_def = _graph_def("frozen_cnn.pb")
    assert {"Conv2D", "DepthwiseConv2dNative", "FusedBatchNorm", "FusedBatchNormV3", "Relu6",
            "AvgPool", "BiasAdd", "Squeeze", "Softmax"} <= {node.op for node in graph_def.node}
    image = np.load(os.path.join(_DATA, "frozen_cnn_input.npy"))
    expected = np.load(os.path.join(_DATA, "frozen_cnn_output.npy"))
    with tf.Graph().as_default():
        output, = tf.import_graph_def(graph_def, return_elements=["output:0"], name="")
        with tf.Session() as sess:
            got = sess.run(output, {"input:0": image})
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)


def test_fused_batch_norm_v1_matches_v3():
    rng = np.random.RandomState(3)
    x = rng.normal(size=(2, 3, 3, 4)).astype(np.float32)
    params = [rng.uniform(0.5, 1.5, 4).astype(np.float32) for _ in range(4)]
    with tf.Graph().as_default() as graph:
        inputs = [tf.constant(x)] + [tf.constant(p) for p in params]
        attrs = {"epsilon": 1e-3, "is_training": False}
        v1 = graph.create_op("FusedBatchNorm", inputs, dict(attrs))
        v3 = graph.create_op("FusedBatchNormV3", inputs, dict(attrs))
        assert len(v1.outputs) == 5 and "U" not in v1.attrs
        with tf.Session() as sess:
            got, want = sess.run([v1.outputs[0], v3.outputs[0]])
    np.testing.assert_array_equal(got, want)


# ---- a TF 1 training graph with reference variables ------------------------------------------------

# Printed by tools/make_tf1_linear_graph.py (TF 2.21, five GradientDescent steps).
_TF_LOSSES = [0.743899941444397, 0.5270130038261414, 0.4531072676181793, 0.4273265302181244,
              0.4177825450897217]
_TF_W = [0.2621215879917145, -0.018236225470900536, 0.5014059543609619]
_TF_B = 0.6964218616485596


def test_tf1_reference_variable_training_graph_trains_as_in_tf():
    graph_def = _graph_def("tf1_linear_train.pb")
    assert {"VariableV2", "Assign", "ApplyGradientDescent"} <= {n.op for n in graph_def.node}
    with tf.Graph().as_default() as graph:
        tf.import_graph_def(graph_def, name="")
        assert graph.get_tensor_by_name("w:0").dtype is dtypes.float32_ref
        loss = graph.get_tensor_by_name("loss:0")
        with tf.Session() as sess:
            with pytest.raises(errors.FailedPreconditionError,
                               match="Attempting to use uninitialized value"):
                sess.run(loss)
            sess.run("init")
            losses = [sess.run([loss, "train"])[0] for _ in range(5)]
            w, b = sess.run(["w:0", "b:0"])
    np.testing.assert_allclose(losses, _TF_LOSSES, rtol=1e-5)
    np.testing.assert_allclose(w.reshape(-1), _TF_W, rtol=1e-5)
    np.testing.assert_allclose(b, _TF_B, rtol=1e-5)


# ---- missing ops ------------------------------------------------------------------------------------

def test_missing_op_types_are_listed_together_sorted():
    graph_def = tf.GraphDef()
    for name, op in (("a", "ZzzMissing"), ("b", "Const"), ("c", "AaaMissing"),
                     ("d", "ZzzMissing"), ("e", "MmmMissing")):
        node = graph_def.node.add(name=name, op=op)
        if op == "Const":
            node.attr["dtype"].type = tf.float32.as_datatype_enum
            node.attr["value"].tensor.CopyFrom(
                tensor_util.make_tensor_proto(np.float32(1.0)))
    with tf.Graph().as_default() as graph:
        # TF raises NotFoundError for an unregistered op (checked against TF 2.21).
        with pytest.raises(errors.NotFoundError) as info:
            tf.import_graph_def(graph_def)
        assert graph.get_operations() == []
    message = info.value.message
    assert "3 op type(s)" in message
    assert (message.index("'AaaMissing' (node 'c')") < message.index("'MmmMissing' (node 'e')")
            < message.index("'ZzzMissing' (node 'a')"))
