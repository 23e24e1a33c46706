"""Meta graphs: ``tf.train.export_meta_graph``, ``tf.train.import_meta_graph``, Saver's
``.meta``, the collections as TF serializes them, and TF 2.21's own ``.meta``
(``tests/data/tf_meta_graph``, made by ``tools/make_tf_meta_graph.py``)."""

import logging
import os

import numpy as np
import pytest

import sessionlib as tf
from sessionlib.framework import meta_graph
from sessionlib.protos import (meta_graph_pb2, op_def_pb2, queue_runner_pb2, saver_pb2,
                               variable_pb2)

TF_META_GRAPH_DIR = os.path.join(os.path.dirname(__file__), "data", "tf_meta_graph")

X = np.random.RandomState(0).uniform(-1, 1, size=(6, 4)).astype(np.float32)
Y = np.random.RandomState(1).uniform(-1, 1, size=(6, 3)).astype(np.float32)


def _fields(message_class):
    return {name: field.number for name, field in message_class.DESCRIPTOR.fields_by_name.items()}


def _build_model():
    """A two-layer perceptron with a train op; returns the tensors by name."""
    x = tf.placeholder(tf.float32, [None, 4], name="x")
    y = tf.placeholder(tf.float32, [None, 3], name="y")
    with tf.variable_scope("layer1"):
        w1 = tf.get_variable("w", initializer=np.random.RandomState(2).uniform(
            -1, 1, (4, 5)).astype(np.float32))
        b1 = tf.get_variable("b", [5], initializer=tf.zeros_initializer())
    with tf.variable_scope("layer2"):
        w2 = tf.get_variable("w", initializer=np.random.RandomState(3).uniform(
            -1, 1, (5, 3)).astype(np.float32))
        b2 = tf.get_variable("b", [3], initializer=tf.zeros_initializer())
    hidden = tf.nn.relu(tf.matmul(x, w1) + b1, name="hidden")
    logits = tf.add(tf.matmul(hidden, w2), b2, name="logits")
    loss = tf.reduce_mean(tf.square(logits - y), name="loss")
    global_step = tf.train.get_or_create_global_step()
    train_op = tf.train.GradientDescentOptimizer(0.1).minimize(loss, global_step=global_step,
                                                                name="train")
    return {"x": x, "y": y, "logits": logits, "loss": loss, "train": train_op}


def _train_and_save(directory, steps=3, **save_kwargs):
    """Trains the model a few steps and saves it; returns (prefix, logits, loss)."""
    with tf.Graph().as_default():
        model = _build_model()
        saver = tf.train.Saver()
        feed = {model["x"]: X, model["y"]: Y}
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for _ in range(steps):
                sess.run(model["train"], feed)
            prefix = saver.save(sess, os.path.join(directory, "model"), **save_kwargs)
            logits, loss = sess.run([model["logits"], model["loss"]], feed)
    return prefix, logits, loss


# ---- the protos --------------------------------------------------------------------------

def test_protos_have_tf_field_numbers():
    # The numbers of TF 2.21's tensorflow.MetaGraphDef & co. (read from its descriptors).
    assert _fields(meta_graph_pb2.MetaGraphDef) == {
        "meta_info_def": 1, "graph_def": 2, "saver_def": 3, "collection_def": 4,
        "signature_def": 5, "asset_file_def": 6}
    assert _fields(meta_graph_pb2.MetaGraphDef.MetaInfoDef) == {
        "meta_graph_version": 1, "stripped_op_list": 2, "any_info": 3, "tags": 4,
        "tensorflow_version": 5, "tensorflow_git_version": 6, "stripped_default_attrs": 7,
        "function_aliases": 8}
    assert _fields(meta_graph_pb2.CollectionDef) == {
        "node_list": 1, "bytes_list": 2, "int64_list": 3, "float_list": 4, "any_list": 5}
    assert _fields(meta_graph_pb2.TensorInfo) == {
        "name": 1, "coo_sparse": 4, "dtype": 2, "tensor_shape": 3}
    assert _fields(meta_graph_pb2.SignatureDef) == {
        "inputs": 1, "outputs": 2, "method_name": 3, "defaults": 4}
    assert _fields(meta_graph_pb2.AssetFileDef) == {"tensor_info": 1, "filename": 2}
    assert _fields(variable_pb2.VariableDef) == {
        "variable_name": 1, "initial_value_name": 6, "initializer_name": 2,
        "snapshot_name": 3, "save_slice_info_def": 4, "is_resource": 5, "trainable": 7,
        "synchronization": 8, "aggregation": 9}
    assert _fields(variable_pb2.SaveSliceInfoDef) == {
        "full_name": 1, "full_shape": 2, "var_offset": 3, "var_shape": 4}
    assert variable_pb2.VARIABLE_AGGREGATION_ONLY_FIRST_REPLICA == 3
    assert variable_pb2.VARIABLE_SYNCHRONIZATION_ON_READ == 3
    assert _fields(queue_runner_pb2.QueueRunnerDef) == {
        "queue_name": 1, "enqueue_op_name": 2, "close_op_name": 3, "cancel_op_name": 4,
        "queue_closed_exception_types": 5}
    assert _fields(op_def_pb2.OpDef) == {
        "name": 1, "input_arg": 2, "output_arg": 3, "control_output": 20, "attr": 4,
        "deprecation": 8, "summary": 5, "description": 6, "is_commutative": 18,
        "is_aggregate": 16, "is_stateful": 17, "allows_uninitialized_input": 19,
        "is_distributed_communication": 21}
    assert _fields(op_def_pb2.OpDef.AttrDef) == {
        "name": 1, "type": 2, "default_value": 3, "description": 4, "has_minimum": 5,
        "minimum": 6, "allowed_values": 7}
    assert _fields(op_def_pb2.OpDef.ArgDef) == {
        "name": 1, "description": 2, "type": 3, "type_attr": 4, "number_attr": 5,
        "type_list_attr": 6, "handle_data": 7, "is_ref": 16}
    assert _fields(op_def_pb2.OpList) == {"op": 1}


# ---- restoring a trained model from only the .meta and the checkpoint ---------------------

def test_restore_from_meta_and_checkpoint_and_train_on(tmp_path):
    prefix, logits, loss = _train_and_save(str(tmp_path))
    assert sorted(os.listdir(tmp_path)) == ["checkpoint", "model.data-00000-of-00001",
                                            "model.index", "model.meta"]
    with tf.Graph().as_default() as graph:
        saver = tf.train.import_meta_graph(prefix + ".meta")
        assert isinstance(saver, tf.train.Saver)
        assert sorted(graph.get_all_collection_keys()) == [
            "global_step", "train_op", "trainable_variables", "variables"]
        with tf.Session() as sess:
            saver.restore(sess, prefix)
            np.testing.assert_array_equal(sess.run("logits:0", {"x:0": X}), logits)
            feed = {"x:0": X, "y:0": Y}
            assert sess.run("loss:0", feed) == loss
            assert sess.run(tf.train.get_global_step()) == 3
            sess.run(tf.get_collection("train_op")[0], feed)
            assert sess.run("loss:0", feed) < loss
            assert sess.run(tf.train.get_global_step()) == 4
            # The imported Saver saves too (its SaverDef names the imported ops).
            again = saver.save(sess, str(tmp_path / "again"))
    assert tf.train.load_checkpoint(again).get_tensor("global_step") == 4


def test_imported_variables_are_variables(tmp_path):
    prefix, _, _ = _train_and_save(str(tmp_path))
    with tf.Graph().as_default():
        tf.train.import_meta_graph(prefix + ".meta")
        global_vars = tf.global_variables()
        trainable = tf.trainable_variables()
        assert [v.name for v in global_vars] == [
            "layer1/w:0", "layer1/b:0", "layer2/w:0", "layer2/b:0", "global_step:0"]
        assert [v.name for v in trainable] == [v.name for v in global_vars[:4]]
        # One object per variable, shared by the variable collections (as in TF).
        assert all(a is b for a, b in zip(global_vars, trainable))
        w1 = global_vars[0]
        assert isinstance(w1, tf.Variable)
        assert w1.shape.as_list() == [4, 5] and w1.dtype == tf.float32
        assert w1.trainable and not global_vars[4].trainable
        assert w1.initializer.name == "layer1/w/Assign"
        assert w1.op.type == "VarHandleOp"
        with tf.Session() as sess:
            # Without a checkpoint, the initializers give the initial values.
            sess.run(tf.global_variables_initializer())
            np.testing.assert_array_equal(
                sess.run(w1), np.random.RandomState(2).uniform(-1, 1, (4, 5)).astype(np.float32))
            sess.run(w1.assign(tf.zeros([4, 5])))
            assert not sess.run(w1).any()
            np.testing.assert_array_equal(sess.run(tf.report_uninitialized_variables()), [])


def test_write_meta_graph_false_and_meta_graph_suffix(tmp_path):
    _train_and_save(str(tmp_path), steps=0, write_meta_graph=False)
    assert "model.meta" not in os.listdir(tmp_path)
    _train_and_save(str(tmp_path), steps=0, global_step=5, meta_graph_suffix="mg")
    assert "model-5.mg" in os.listdir(tmp_path)


# ---- TF's meta graph ---------------------------------------------------------------------

# The same model with TF 1's reference variables (``make_tf_meta_graph.py --ref``).
TF1_REF_META_GRAPH_DIR = os.path.join(os.path.dirname(__file__), "data", "tf1_ref_meta_graph")


@pytest.mark.parametrize("directory, variable_dtype", [
    (TF_META_GRAPH_DIR, tf.float32), (TF1_REF_META_GRAPH_DIR, tf.float32_ref)],
    ids=["resource", "reference"])
def test_import_tf_meta_graph_restore_and_run(directory, variable_dtype):
    expected = np.load(os.path.join(directory, "expected.npz"))
    with tf.Graph().as_default():
        saver = tf.train.import_meta_graph(os.path.join(directory, "model-3.meta"))
        prefix = tf.train.latest_checkpoint(directory)
        assert prefix == os.path.join(directory, "model-3")
        assert saver.saver_def.restore_op_name == "save/restore_all"
        assert [v.name for v in tf.trainable_variables()] == [
            "layer1/w:0", "layer1/b:0", "layer2/w:0", "layer2/b:0"]
        assert [v.dtype for v in tf.trainable_variables()] == [variable_dtype] * 4
        with tf.Session() as sess:
            saver.restore(sess, prefix)
            feed = {"x:0": expected["x"], "y:0": expected["y"]}
            np.testing.assert_allclose(sess.run("logits:0", {"x:0": expected["x"]}),
                                       expected["logits"], rtol=1e-5, atol=1e-6)
            np.testing.assert_allclose(sess.run("loss:0", feed), expected["loss"], rtol=1e-5)
            assert sess.run(tf.train.get_global_step()) == 3
            sess.run(tf.get_collection("train_op")[0], feed)
            np.testing.assert_allclose(sess.run("loss:0", feed), expected["loss_after_step"],
                                       rtol=1e-5)


def test_import_tf_meta_graph_with_stripped_default_attrs():
    # A producer that strips attrs equal to their defaults relies on its stripped_op_list's
    # defaults: drop MatMul's transpose_a/transpose_b from TF's graph and import it.
    meta_graph_def = meta_graph.read_meta_graph_file(
        os.path.join(TF_META_GRAPH_DIR, "model-3.meta"))
    matmul_defaults = {attr.name for op in meta_graph_def.meta_info_def.stripped_op_list.op
                       if op.name == "MatMul" for attr in op.attr
                       if attr.HasField("default_value")}
    assert {"transpose_a", "transpose_b"} <= matmul_defaults
    for node in meta_graph_def.graph_def.node:
        if node.op == "MatMul" and node.name == "MatMul":
            del node.attr["transpose_a"]
            del node.attr["transpose_b"]
    meta_graph_def.meta_info_def.stripped_default_attrs = True
    expected = np.load(os.path.join(TF_META_GRAPH_DIR, "expected.npz"))
    with tf.Graph().as_default() as graph:
        saver = tf.train.import_meta_graph(meta_graph_def)
        assert graph.get_operation_by_name("MatMul").get_attr("transpose_a") is False
        with tf.Session() as sess:
            saver.restore(sess, os.path.join(TF_META_GRAPH_DIR, "model-3"))
            np.testing.assert_allclose(sess.run("logits:0", {"x:0": expected["x"]}),
                                       expected["logits"], rtol=1e-5, atol=1e-6)


# ---- files: binary and text --------------------------------------------------------------

def test_text_format_round_trip(tmp_path):
    with tf.Graph().as_default():
        model = _build_model()
        saver = tf.train.Saver()
        path = str(tmp_path / "model.meta")
        written = saver.export_meta_graph(path, as_text=True)
    with open(path, encoding="utf-8") as file:
        text = file.read()
    assert text.startswith("meta_info_def {")
    read = meta_graph.read_meta_graph_file(path)
    assert read == written
    assert read.saver_def.restore_op_name == "save/restore_all"
    with tf.Graph().as_default() as graph:
        assert tf.train.import_meta_graph(path) is not None
        assert graph.get_tensor_by_name("logits:0").shape.as_list() == [None, 3]
        assert [op.name for op in tf.get_collection("train_op")] == [model["train"].name]


def test_read_errors(tmp_path):
    with pytest.raises(IOError, match="does not exist"):
        tf.train.import_meta_graph(str(tmp_path / "missing.meta"))
    bad = tmp_path / "bad.meta"
    bad.write_bytes(b"\xff\xfe not a proto {{{")
    with pytest.raises(IOError, match="Cannot parse file"):
        meta_graph.read_meta_graph_file(str(bad))
    with pytest.raises(TypeError):
        meta_graph.import_scoped_meta_graph(42)


def test_export_meta_graph_returns_the_proto(tmp_path):
    with tf.Graph().as_default() as graph:
        with tf.device("/cpu:0"):
            model = _build_model()
        saver = tf.train.Saver()
        meta = tf.train.export_meta_graph(saver_def=saver.saver_def)
        info = meta.meta_info_def
        assert info.tensorflow_git_version == "sessionlib"
        op_names = [op.name for op in info.stripped_op_list.op]
        assert op_names == sorted({op.type for op in graph.get_operations()})
        stateful = {op.name for op in info.stripped_op_list.op if op.is_stateful}
        assert {"VarHandleOp", "SaveV2", "RestoreV2"} <= stateful and "MatMul" not in stateful
        assert meta.saver_def == saver.saver_def == saver.as_saver_def() == saver.to_proto()
        assert len(meta.graph_def.node) == len(graph.get_operations())
        node = next(n for n in meta.graph_def.node if n.name == "logits")
        assert node.device.endswith("CPU:0")
        assert "_output_shapes" in node.attr
        assert meta.collection_def["train_op"].node_list.value == [model["train"].name]
        variable_def = variable_pb2.VariableDef.FromString(
            meta.collection_def["variables"].bytes_list.value[0])
        assert variable_def == variable_pb2.VariableDef(
            variable_name="layer1/w:0", initializer_name="layer1/w/Assign",
            snapshot_name="layer1/w/Read/ReadVariableOp:0", is_resource=True, trainable=True,
            initial_value_name="layer1/w/Initializer/initial_value:0")
        cleared = tf.train.export_meta_graph(clear_devices=True,
                                             collection_list=["train_op"])
        assert all(not n.device for n in cleared.graph_def.node)
        assert list(cleared.collection_def) == ["train_op"]
        assert not cleared.HasField("saver_def")


# ---- collections -------------------------------------------------------------------------

def test_collections_of_every_kind(tmp_path, caplog):
    with tf.Graph().as_default() as graph:
        model = _build_model()
        update = tf.no_op(name="update")
        tf.add_to_collection(tf.GraphKeys.UPDATE_OPS, update)
        tf.add_to_collection(tf.GraphKeys.LOSSES, model["loss"])
        tf.summary.scalar("loss", model["loss"])
        tf.add_to_collection("ints", 3)
        tf.add_to_collection("ints", -7)
        tf.add_to_collection("floats", 0.5)
        tf.add_to_collection("strings", "a")
        tf.add_to_collection("strings", b"b")
        tf.add_to_collection("objects", object())  # no name: skipped with a warning
        tf.add_to_collection(("tuple", "key"), 1)  # not a string key: not exported
        with caplog.at_level(logging.WARNING, logger="sessionlib.framework.meta_graph"):
            meta = tf.train.export_meta_graph(str(tmp_path / "m.meta"))
        assert "objects" not in meta.collection_def
        assert "Issue encountered when serializing: objects" in caplog.text
        assert "tuple" not in str(list(meta.collection_def))
        assert meta.collection_def["update_ops"].node_list.value == ["update"]
        assert meta.collection_def["losses"].node_list.value == ["loss:0"]
        summary_name = graph.get_collection(tf.GraphKeys.SUMMARIES)[0].name
        assert meta.collection_def["summaries"].node_list.value == [summary_name]
        assert meta.collection_def["ints"].int64_list.value == [3, -7]
        assert meta.collection_def["floats"].float_list.value == [0.5]
        assert meta.collection_def["strings"].bytes_list.value == [b"a", b"b"]
    with tf.Graph().as_default() as graph:
        tf.train.import_meta_graph(str(tmp_path / "m.meta"))
        assert [op.name for op in tf.get_collection(tf.GraphKeys.UPDATE_OPS)] == ["update"]
        assert tf.get_collection(tf.GraphKeys.LOSSES) == [graph.get_tensor_by_name("loss:0")]
        assert [t.name for t in tf.get_collection(tf.GraphKeys.SUMMARIES)] == [summary_name]
        assert tf.get_collection("ints") == [3, -7]
        assert tf.get_collection("floats") == [0.5]
        assert tf.get_collection("strings") == [b"a", b"b"]
        assert tf.get_collection("objects") == []


def test_collection_without_a_kind_is_skipped(caplog):
    meta = meta_graph_pb2.MetaGraphDef()
    meta.collection_def["empty"].SetInParent()
    meta.collection_def["ints"].int64_list.value.append(1)
    with tf.Graph().as_default() as graph:
        with caplog.at_level(logging.ERROR, logger="sessionlib.framework.meta_graph"):
            assert tf.train.import_meta_graph(meta) is None  # no variables: no Saver
        assert "Cannot identify data type for collection empty" in caplog.text
        assert graph.get_collection("ints") == [1]
        assert "empty" not in graph.get_all_collection_keys()


def test_restore_collections_predicate():
    with tf.Graph().as_default():
        _build_model()
        meta = tf.train.export_meta_graph()
    with tf.Graph().as_default() as graph:
        meta_graph.import_scoped_meta_graph(
            meta, restore_collections_predicate=lambda key: key != "train_op")
        assert graph.get_collection("train_op") == []
        assert len(graph.get_collection("variables")) == 5


def test_queue_runners_round_trip():
    with tf.Graph().as_default():
        queue = tf.FIFOQueue(10, tf.int32, shapes=[], name="numbers")
        counter = tf.Variable(0, name="counter")
        enqueue = queue.enqueue(counter.assign_add(1))
        queue.dequeue_many(4, name="take")
        runner = tf.train.QueueRunner(queue, [enqueue, enqueue])
        tf.train.add_queue_runner(runner)
        proto = runner.to_proto()
        assert proto.queue_name == "numbers"
        assert list(proto.enqueue_op_name) == [enqueue.name, enqueue.name]
        assert list(proto.queue_closed_exception_types) == [11]  # OUT_OF_RANGE
        assert runner.to_proto(export_scope="elsewhere") is None
        meta = tf.train.export_meta_graph()
    with tf.Graph().as_default() as graph:
        tf.train.import_meta_graph(meta)
        runners = graph.get_collection(tf.GraphKeys.QUEUE_RUNNERS)
        assert len(runners) == 1 and runners[0].name == "numbers"
        assert runners[0].queue_closed_exception_types == (tf.errors.OutOfRangeError,)
        assert runners[0].to_proto() == proto
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            coord = tf.train.Coordinator()
            threads = tf.train.start_queue_runners(sess, coord)
            got = sess.run("take:0")
            coord.request_stop()
            coord.join(threads)
    # Two threads enqueue the counter's successive values.
    assert len(set(got.tolist())) == 4 and set(got.tolist()) <= set(range(1, 11))


# ---- scopes ------------------------------------------------------------------------------

def test_import_scope(tmp_path):
    prefix, logits, _ = _train_and_save(str(tmp_path))
    with tf.Graph().as_default() as graph:
        tf.constant(0, name="other")
        saver = tf.train.import_meta_graph(prefix + ".meta", import_scope="imported")
        assert saver.saver_def.restore_op_name == "imported/save/restore_all"
        assert [v.name for v in tf.trainable_variables()][:1] == ["imported/layer1/w:0"]
        assert tf.get_collection("train_op")[0].name == "imported/train"
        # A second import gets a unique scope, and its own Saver.
        second = tf.train.import_meta_graph(prefix + ".meta", import_scope="imported")
        assert second.saver_def.restore_op_name == "imported_1/save/restore_all"
        with tf.Session() as sess:
            saver.restore(sess, prefix)
            second.restore(sess, prefix)
            np.testing.assert_array_equal(sess.run("imported/logits:0", {"imported/x:0": X}),
                                          logits)
            np.testing.assert_array_equal(
                sess.run("imported_1/logits:0", {"imported_1/x:0": X}), logits)
        var_list = meta_graph.import_scoped_meta_graph(prefix + ".meta", import_scope="s")
        assert sorted(var_list) == ["global_step:0", "layer1/b:0", "layer1/w:0",
                                    "layer2/b:0", "layer2/w:0"]
        assert var_list["layer1/w:0"] is graph.get_collection(
            "variables", scope="s/")[0]


def test_export_scope_with_unbound_inputs():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 2], name="x")
        with tf.name_scope("model"):
            w = tf.Variable(np.array([[1.0], [2.0]], np.float32), name="w")
            out = tf.matmul(x, w, name="out")
        tf.add_to_collection("outputs", out)
        meta, var_list = meta_graph.export_scoped_meta_graph(export_scope="model")
        assert sorted(var_list) == ["w:0"]
        names = {node.name for node in meta.graph_def.node}
        assert "out" in names and "x" not in names and "model/out" not in names
        out_node = next(node for node in meta.graph_def.node if node.name == "out")
        assert out_node.input[0] == "$unbound_inputs_x"
        # The names are strings: a bytes_list, as TF writes them.
        assert meta.collection_def["unbound_inputs"].bytes_list.value == [b"$unbound_inputs_x"]
        assert meta.collection_def["outputs"].node_list.value == ["out:0"]
    with tf.Graph().as_default() as graph:
        new_x = tf.constant([[1.0, 1.0], [0.0, 3.0]], name="new_x")
        with pytest.raises(ValueError, match="unbound inputs"):
            meta_graph.import_scoped_meta_graph(meta, import_scope="m")
        meta_graph.import_scoped_meta_graph(
            meta, import_scope="sub", input_map={"$unbound_inputs_x": new_x})
        assert graph.get_collection("outputs")[0].name == "sub/out:0"
        [w] = tf.global_variables()
        assert w.name == "sub/w:0"
        with tf.Session() as sess:
            sess.run(w.initializer)
            np.testing.assert_array_equal(sess.run("sub/out:0"), [[3.0], [6.0]])


def test_name_scope_helpers():
    assert meta_graph.prepend_name_scope("a/b:0", "s") == "s/a/b:0"
    assert meta_graph.prepend_name_scope("^a", "s/") == "^s/a"
    assert meta_graph.prepend_name_scope("loc:@a", "s") == "loc:@s/a"
    assert meta_graph.prepend_name_scope("a", None) == "a"
    assert meta_graph.strip_name_scope("s/a/b:0", "s") == "a/b:0"
    assert meta_graph.strip_name_scope("^s/a", "s/") == "^a"
    assert meta_graph.strip_name_scope("loc:@s/a", "s") == "loc:@a"
    assert meta_graph.strip_name_scope("t/a", "s") == "t/a"


# ---- savers ------------------------------------------------------------------------------

def test_saver_from_saver_def_restores_by_name(tmp_path):
    with tf.Graph().as_default():
        v = tf.Variable(np.arange(3.0), name="v")
        saver = tf.train.Saver()
        proto = saver_pb2.SaverDef()
        proto.CopyFrom(saver.to_proto())
        rebuilt = tf.train.Saver(saver_def=proto)
        with tf.Session() as sess:
            sess.run(v.initializer)
            prefix = rebuilt.save(sess, str(tmp_path / "m"))
            sess.run(v.assign([0.0, 0.0, 0.0]))
            rebuilt.restore(sess, prefix)
            np.testing.assert_array_equal(sess.run(v), [0.0, 1.0, 2.0])
        scoped = tf.train.Saver.from_proto(proto, import_scope="outer")
        assert scoped.saver_def.filename_tensor_name == "outer/save/Const:0"
        assert proto.filename_tensor_name == "save/Const:0"  # the argument is not changed
        assert scoped.to_proto(export_scope="outer") == proto
        assert saver.to_proto(export_scope="elsewhere") is None


def test_clear_extraneous_savers():
    with tf.Graph().as_default():
        tf.Variable(1.0, name="v")
        first = tf.train.Saver()
        second = tf.train.Saver()
        # As in TF, a Saver does not add itself to the "savers" collection; a Scaffold or the
        # user does.
        assert tf.get_collection("savers") == []
        tf.add_to_collection("savers", first)
        tf.add_to_collection("savers", second)
        assert second.saver_def.restore_op_name == "save_1/restore_all"
        full = second.export_meta_graph()
        assert len(full.collection_def["savers"].bytes_list.value) == 2
        cleared = second.export_meta_graph(clear_extraneous_savers=True)
    names = {node.name for node in cleared.graph_def.node}
    assert not any(name.startswith("save/") for name in names)
    assert "save_1/restore_all" in names
    [kept] = cleared.collection_def["savers"].bytes_list.value
    assert saver_pb2.SaverDef.FromString(kept) == second.saver_def != first.saver_def
    with tf.Graph().as_default() as graph:
        saver = tf.train.import_meta_graph(cleared)
        assert saver.saver_def.restore_op_name == "save_1/restore_all"
        assert len(graph.get_collection("savers")) == 1


def test_import_without_saver_def_makes_a_new_saver(tmp_path):
    with tf.Graph().as_default():
        v = tf.Variable(np.float32(2.5), name="v")
        meta = tf.train.export_meta_graph()  # no SaverDef
        with tf.Session() as sess:
            sess.run(v.initializer)
            prefix = tf.train.Saver().save(sess, str(tmp_path / "m"), write_meta_graph=False)
    assert not meta.HasField("saver_def")
    with tf.Graph().as_default():
        saver = tf.train.import_meta_graph(meta)
        assert isinstance(saver, tf.train.Saver)
        with tf.Session() as sess:
            saver.restore(sess, prefix)
            assert sess.run(tf.global_variables()[0]) == np.float32(2.5)


def test_meta_info_def_and_another_graph(tmp_path):
    graph = tf.Graph()
    with graph.as_default():
        tf.constant(1.0, name="c")
        tf.add_to_collection("consts", graph.get_tensor_by_name("c:0"))
    info = meta_graph_pb2.MetaGraphDef.MetaInfoDef(meta_graph_version="v7", tags=["serve"])
    with tf.Graph().as_default():  # the default graph is another one
        meta = tf.train.export_meta_graph(str(tmp_path / "m.meta"), meta_info_def=info,
                                          graph=graph)
    assert meta.meta_info_def.meta_graph_version == "v7"
    assert list(meta.meta_info_def.tags) == ["serve"]
    assert [op.name for op in meta.meta_info_def.stripped_op_list.op] == ["Const"]
    assert [node.name for node in meta.graph_def.node] == ["c"]
    assert meta.collection_def["consts"].node_list.value == ["c:0"]
    assert meta_graph.read_meta_graph_file(str(tmp_path / "m.meta")) == meta
    with pytest.raises(TypeError, match="MetaInfoDef"):
        tf.train.export_meta_graph(meta_info_def=meta.graph_def, graph=graph)
