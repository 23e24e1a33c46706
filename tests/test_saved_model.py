"""tf.saved_model (TF 1's): the builder, the loader, simple_save and the signature helpers.

``tests/data/tf_saved_model`` was written by TF 2.21 (tools/make_tf_saved_model.py); its
``expected.npz`` holds TF's outputs for a fixed input.
"""

import importlib.util
import os
import pathlib

import numpy as np
import pytest

import sessionlib as tf
from sessionlib.protos import meta_graph_pb2, saved_model_pb2, types_pb2

TF_MODEL = pathlib.Path(__file__).resolve().parent / "data" / "tf_saved_model"
MAKE_TOOL = pathlib.Path(__file__).resolve().parent.parent / "tools" / "make_tf_saved_model.py"


def _signature_tensors(signature, import_scope=None):
    get = tf.saved_model.utils.get_tensor_from_tensor_info
    inputs = {key: get(info, import_scope=import_scope)
              for key, info in signature.inputs.items()}
    outputs = {key: get(info, import_scope=import_scope)
               for key, info in signature.outputs.items()}
    return inputs, outputs


def _load_model_builder():
    """tools/make_tf_saved_model.py's `build_model`: the model TF exported, built here with
    sessionlib (the tool imports TF only inside its TF-only functions)."""
    spec = importlib.util.spec_from_file_location("_make_tf_saved_model", MAKE_TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build_model


def _two_layer_model(asset_path=None):
    """`scale` is a local variable, so the outputs are right only if the loader runs the
    main op."""
    return _load_model_builder()(tf, asset_path)


def _x_value():
    return np.random.RandomState(4).uniform(-1, 1, size=(3, 4)).astype(np.float32)


def _variable_values(sess):
    """The values of the loaded graph's global and local variables by op name."""
    variables = tf.global_variables() + tf.local_variables()
    return dict(zip([variable.op.name for variable in variables], sess.run(variables)))


# ---- TF-made SavedModel ------------------------------------------------------------------

def test_loader_restores_tf_saved_model_and_matches_tf_outputs():
    expected = np.load(TF_MODEL / "expected.npz")
    export_dir = str(TF_MODEL / "saved_model")
    with tf.Graph().as_default() as graph, tf.Session(graph=graph) as sess:
        meta_graph_def = tf.saved_model.loader.load(sess, [tf.saved_model.SERVING], export_dir)
        assert isinstance(meta_graph_def, meta_graph_pb2.MetaGraphDef)
        assert list(meta_graph_def.meta_info_def.tags) == ["serve"]
        signature = meta_graph_def.signature_def["serving_default"]
        assert signature.method_name == tf.saved_model.PREDICT_METHOD_NAME
        assert tf.saved_model.is_valid_signature(signature)
        inputs, outputs = _signature_tensors(signature)
        scores, hidden = sess.run([outputs["scores"], outputs["hidden"]],
                                  {inputs["x"]: expected["x"]})
        # The main op initialized the local variable `scale` (not in the checkpoint).
        assert sess.run("scale:0") == 2.0
    np.testing.assert_allclose(scores, expected["scores"], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(hidden, expected["hidden"], rtol=1e-6, atol=1e-6)
    # TF's builder packed the asset into the saved_model_assets collection.
    from sessionlib.saved_model import loader
    assets = loader.get_asset_tensors(export_dir, meta_graph_def)
    assert assets == {"vocab_path:0": os.path.join(export_dir, "assets", "vocab.txt")}
    assert pathlib.Path(assets["vocab_path:0"]).read_text() == "alpha\nbeta\ngamma\n"


def test_tf_load_alias_and_import_scope():
    expected = np.load(TF_MODEL / "expected.npz")
    with tf.Graph().as_default() as graph, tf.Session(graph=graph) as sess:
        meta_graph_def = tf.saved_model.load(sess, ["serve"], TF_MODEL / "saved_model",
                                             import_scope="served")
        # The returned proto keeps the unscoped names; the graph has the scoped ones.
        signature = meta_graph_def.signature_def["serving_default"]
        assert signature.outputs["scores"].name == "scores:0"
        inputs, outputs = _signature_tensors(signature, import_scope="served")
        assert outputs["scores"].name == "served/scores:0"
        scores = sess.run(outputs["scores"], {inputs["x"]: expected["x"]})
    np.testing.assert_allclose(scores, expected["scores"], rtol=1e-6, atol=1e-6)


def test_loader_errors():
    with tf.Graph().as_default() as graph, tf.Session(graph=graph) as sess:
        with pytest.raises(RuntimeError, match="could not be found in SavedModel"):
            tf.saved_model.loader.load(sess, ["train"], str(TF_MODEL / "saved_model"))
        with pytest.raises(IOError, match="SavedModel file does not exist"):
            tf.saved_model.loader.load(sess, ["serve"], str(TF_MODEL))


def test_maybe_saved_model_directory(tmp_path):
    assert tf.saved_model.maybe_saved_model_directory(str(TF_MODEL / "saved_model"))
    assert tf.saved_model.contains_saved_model(TF_MODEL / "saved_model")
    assert tf.saved_model.loader.maybe_saved_model_directory(str(TF_MODEL / "saved_model"))
    assert not tf.saved_model.contains_saved_model(tmp_path)
    (tmp_path / "saved_model.pbtxt").write_text("")
    assert tf.saved_model.maybe_saved_model_directory(str(tmp_path))


# ---- builder and loader round trip -------------------------------------------------------

def _export(export_dir, asset_path, as_text=False, extra_tags=None):
    x_value = _x_value()
    with tf.Graph().as_default() as graph:
        tf.set_random_seed(3)
        x, hidden, scores, init_op = _two_layer_model(asset_path)
        signature = tf.saved_model.predict_signature_def({"x": x},
                                                         {"scores": scores, "hidden": hidden})
        with tf.Session(graph=graph) as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(tf.local_variables_initializer())
            expected = sess.run(scores, {x: x_value})
            builder = tf.saved_model.Builder(export_dir)
            builder.add_meta_graph_and_variables(
                sess, [tf.saved_model.SERVING],
                signature_def_map={
                    tf.saved_model.DEFAULT_SERVING_SIGNATURE_DEF_KEY: signature},
                assets_collection=tf.get_collection(tf.GraphKeys.ASSET_FILEPATHS),
                legacy_init_op=init_op)
            if extra_tags:
                builder.add_meta_graph(extra_tags)
            written = builder.save(as_text=as_text)
    return x_value, expected, written


def _load_scores(export_dir, x_value, tags=("serve",)):
    with tf.Graph().as_default() as graph, tf.Session(graph=graph) as sess:
        meta_graph_def = tf.saved_model.loader.load(sess, list(tags), export_dir)
        if not meta_graph_def.signature_def:
            return meta_graph_def, sess.run("scores:0", {"x:0": x_value})
        inputs, outputs = _signature_tensors(meta_graph_def.signature_def["serving_default"])
        return meta_graph_def, sess.run(outputs["scores"], {inputs["x"]: x_value})


@pytest.mark.parametrize("as_text", [False, True])
def test_builder_writes_tf_layout_and_loader_reads_it(tmp_path, as_text):
    asset = tmp_path / "source" / "vocab.txt"
    asset.parent.mkdir()
    asset.write_text("a\nb\n")
    export_dir = str(tmp_path / "export")
    x_value, expected, written = _export(export_dir, asset, as_text=as_text)
    model_file = "saved_model.pbtxt" if as_text else "saved_model.pb"
    assert written == os.path.join(export_dir, model_file).encode()
    files = sorted(str(path.relative_to(export_dir))
                   for path in pathlib.Path(export_dir).rglob("*") if path.is_file())
    assert files == sorted([model_file, "assets/vocab.txt", "variables/variables.index",
                            "variables/variables.data-00000-of-00001"])
    assert (pathlib.Path(export_dir) / "assets" / "vocab.txt").read_text() == "a\nb\n"
    if not as_text:
        saved_model = saved_model_pb2.SavedModel.FromString(
            (pathlib.Path(export_dir) / model_file).read_bytes())
        assert saved_model.saved_model_schema_version == 1
        meta_graph_def, = saved_model.meta_graphs
        assert meta_graph_def.saver_def.sharded
        assert list(meta_graph_def.collection_def["saved_model_main_op"].node_list.value) == [
            "legacy_init_op"]
        packed, = meta_graph_def.collection_def["saved_model_assets"].any_list.value
        assert packed.type_url == "type.googleapis.com/tensorflow.AssetFileDef"
        asset_def = meta_graph_pb2.AssetFileDef.FromString(packed.value)
        assert (asset_def.filename, asset_def.tensor_info.name) == ("vocab.txt",
                                                                    "vocab_path:0")
    meta_graph_def, scores = _load_scores(export_dir, x_value)
    np.testing.assert_array_equal(scores, expected)
    assert list(meta_graph_def.meta_info_def.tags) == ["serve"]


def test_add_meta_graph_shares_the_variables(tmp_path):
    export_dir = str(tmp_path / "export")
    x_value, expected, _ = _export(export_dir, None, extra_tags=["train", "gpu"])
    _, serve_scores = _load_scores(export_dir, x_value)
    meta_graph_def, train_scores = _load_scores(export_dir, x_value, tags=("gpu", "train"))
    assert set(meta_graph_def.meta_info_def.tags) == {"train", "gpu"}
    np.testing.assert_array_equal(serve_scores, expected)
    np.testing.assert_array_equal(train_scores, expected)


def test_simple_save_round_trip(tmp_path):
    export_dir = tmp_path / "simple"
    x_value = _x_value()
    with tf.Graph().as_default() as graph, tf.Session(graph=graph) as sess:
        x, hidden, scores, init_op = _two_layer_model()
        sess.run([tf.global_variables_initializer(), tf.local_variables_initializer()])
        expected = sess.run(scores, {x: x_value})
        tf.saved_model.simple_save(sess, str(export_dir), {"x": x}, {"scores": scores},
                                   legacy_init_op=init_op)
    meta_graph_def, scores_value = _load_scores(str(export_dir), x_value)
    np.testing.assert_array_equal(scores_value, expected)
    signature = meta_graph_def.signature_def["serving_default"]
    assert set(signature.inputs) == {"x"} and set(signature.outputs) == {"scores"}
    # clear_devices: no node keeps a device.
    assert not any(node.device for node in meta_graph_def.graph_def.node)


def test_main_op_runs_after_restore(tmp_path):
    export_dir = str(tmp_path / "export")
    with tf.Graph().as_default() as graph, tf.Session(graph=graph) as sess:
        counter = tf.get_variable("counter", [], initializer=tf.constant_initializer(5.0))
        local = tf.get_variable("local", [], initializer=tf.constant_initializer(7.0),
                                collections=[tf.GraphKeys.LOCAL_VARIABLES])
        sess.run(tf.global_variables_initializer())
        sess.run(tf.assign(counter, 11.0))
        builder = tf.saved_model.builder.SavedModelBuilder(export_dir)
        builder.add_meta_graph_and_variables(sess, ["serve"],
                                             main_op=tf.saved_model.main_op.main_op())
        builder.save()
        del local
    with tf.Graph().as_default() as graph, tf.Session(graph=graph) as sess:
        tf.saved_model.loader.load(sess, ["serve"], export_dir)
        # main_op re-initializes every variable, the restored one too (as in TF).
        assert _variable_values(sess) == {"counter": 5.0, "local": 7.0}


def test_main_op_with_restore_restores_after_init(tmp_path):
    export_dir = str(tmp_path / "export")
    with tf.Graph().as_default() as graph, tf.Session(graph=graph) as sess:
        counter = tf.get_variable("counter", [], initializer=tf.constant_initializer(5.0))
        sess.run(tf.global_variables_initializer())
        sess.run(tf.assign(counter, 11.0))
        # The main op's restore reads the default prefix of the saver's filename tensor.
        saver = tf.train.Saver(sharded=True,
                               filename=os.path.join(export_dir, "variables", "variables"))
        main_op = tf.saved_model.main_op_with_restore(saver.saver_def.restore_op_name)
        assert main_op.type == "NoOp"
        builder = tf.saved_model.Builder(export_dir)
        builder.add_meta_graph_and_variables(sess, ["serve"], saver=saver, main_op=main_op)
        builder.save()
    with tf.Graph().as_default() as graph, tf.Session(graph=graph) as sess:
        tf.saved_model.loader.load(sess, ["serve"], export_dir)
        # Initialized to 5 by the main op, then restored again.
        assert _variable_values(sess) == {"counter": 11.0}


def test_model_without_variables(tmp_path):
    export_dir = str(tmp_path / "export")
    with tf.Graph().as_default() as graph, tf.Session(graph=graph) as sess:
        x = tf.placeholder(tf.float32, [2], name="x")
        doubled = tf.multiply(x, 2.0, name="doubled")
        tf.saved_model.simple_save(sess, export_dir, {"x": x}, {"y": doubled})
    with tf.Graph().as_default() as graph, tf.Session(graph=graph) as sess:
        tf.saved_model.loader.load(sess, ["serve"], export_dir)
        np.testing.assert_array_equal(sess.run("doubled:0", {"x:0": [1.5, -2.0]}),
                                      [3.0, -4.0])


# ---- builder errors -----------------------------------------------------------------------

def test_builder_errors(tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "file").write_text("x")
    with pytest.raises(AssertionError, match="already exists, and isn't empty"):
        tf.saved_model.Builder(str(tmp_path / "full"))
    (tmp_path / "empty").mkdir()
    tf.saved_model.Builder(str(tmp_path / "empty"))  # an empty directory is fine
    with tf.Graph().as_default() as graph, tf.Session(graph=graph) as sess:
        variable = tf.get_variable("v", [2])
        sess.run(variable.initializer)
        builder = tf.saved_model.Builder(str(tmp_path / "new" / "nested"))
        assert os.path.isdir(tmp_path / "new" / "nested")
        with pytest.raises(AssertionError, match="has not been saved yet"):
            builder.add_meta_graph(["serve"])
        no_dtype = meta_graph_pb2.SignatureDef()
        no_dtype.outputs["y"].name = "v:0"
        with pytest.raises(AssertionError, match="must have the dtype field set"):
            builder.add_meta_graph_and_variables(sess, ["serve"], {"sig": no_dtype})
        no_name = meta_graph_pb2.SignatureDef()
        no_name.inputs["x"].dtype = types_pb2.DT_FLOAT
        with pytest.raises(AssertionError, match="'encoding' fields"):
            builder.add_meta_graph_and_variables(sess, ["serve"], {"sig": no_name})
        with pytest.raises(KeyError, match="reserved for initialization"):
            builder.add_meta_graph_and_variables(
                sess, ["serve"], {"__saved_model_init_op": meta_graph_pb2.SignatureDef()})
        with pytest.raises(TypeError, match="to be an Operation"):
            builder.add_meta_graph_and_variables(sess, ["serve"],
                                                 main_op=variable.value())
        with pytest.raises(TypeError, match="must be of type constant"):
            builder.add_meta_graph_and_variables(
                sess, ["serve"], assets_collection=[tf.identity(tf.constant("a"))])
        with pytest.raises(TypeError, match="must be of dtype string"):
            builder.add_meta_graph_and_variables(sess, ["serve"],
                                                 assets_collection=[tf.constant(1.0)])
        builder.add_meta_graph_and_variables(sess, ["serve"])
        with pytest.raises(AssertionError, match="already been saved"):
            builder.add_meta_graph_and_variables(sess, ["serve"])
        builder.add_meta_graph(["other"], main_op=tf.no_op(name="first"))
        with pytest.raises(ValueError, match="already contains one or more main ops"):
            builder.add_meta_graph(["third"], main_op=tf.no_op(name="second"))


def test_asset_names_are_deduplicated(tmp_path):
    first, second = tmp_path / "a" / "vocab.txt", tmp_path / "b" / "vocab.txt"
    for path, text in ((first, "one"), (second, "two")):
        path.parent.mkdir()
        path.write_text(text)
    export_dir = tmp_path / "export"
    with tf.Graph().as_default() as graph, tf.Session(graph=graph) as sess:
        paths = [tf.constant(str(first), name="first"), tf.constant(str(second), name="second")]
        builder = tf.saved_model.Builder(str(export_dir))
        builder.add_meta_graph_and_variables(sess, ["serve"], assets_collection=paths)
        builder.save()
    assert (export_dir / "assets" / "vocab.txt").read_text() == "one"
    assert (export_dir / "assets" / "vocab.txt_1").read_text() == "two"
    with tf.Graph().as_default() as graph, tf.Session(graph=graph) as sess:
        meta_graph_def = tf.saved_model.loader.load(sess, ["serve"], str(export_dir))
    from sessionlib.saved_model import loader
    assert loader.get_asset_tensors(str(export_dir), meta_graph_def) == {
        "first:0": os.path.join(str(export_dir), "assets", "vocab.txt"),
        "second:0": os.path.join(str(export_dir), "assets", "vocab.txt_1")}


# ---- signatures and tensor infos ---------------------------------------------------------

def test_build_tensor_info_and_back():
    with tf.Graph().as_default() as graph:
        x = tf.placeholder(tf.float32, [None, 3], name="x")
        info = tf.saved_model.build_tensor_info(x)
        assert info.name == "x:0" and info.dtype == types_pb2.DT_FLOAT
        assert [dim.size for dim in info.tensor_shape.dim] == [-1, 3]
        assert tf.saved_model.get_tensor_from_tensor_info(info) is x
        sparse = tf.sparse_placeholder(tf.int64, name="sp")
        sparse_info = tf.saved_model.utils.build_tensor_info(sparse)
        assert sparse_info.WhichOneof("encoding") == "coo_sparse"
        assert sparse_info.coo_sparse.values_tensor_name == sparse.values.name
        assert sparse_info.dtype == types_pb2.DT_INT64
        back = tf.saved_model.utils.get_tensor_from_tensor_info(sparse_info, graph=graph)
        assert isinstance(back, tf.SparseTensor)
        assert back.indices is sparse.indices and back.dense_shape is sparse.dense_shape
        with pytest.raises(ValueError, match="Invalid TensorInfo.encoding"):
            tf.saved_model.get_tensor_from_tensor_info(meta_graph_pb2.TensorInfo())
        with pytest.raises(KeyError):
            tf.saved_model.get_tensor_from_tensor_info(meta_graph_pb2.TensorInfo(name="no:0"))


def test_signature_defs():
    with tf.Graph().as_default():
        examples = tf.placeholder(tf.string, [None], name="examples")
        scores = tf.placeholder(tf.float32, [None, 2], name="scores")
        classes = tf.placeholder(tf.string, [None, 2], name="classes")
        keys = tf.saved_model.signature_constants

        predict = tf.saved_model.signature_def_utils.predict_signature_def(
            {"in": examples}, {"out": scores})
        assert predict.method_name == "tensorflow/serving/predict"
        assert predict.inputs["in"].name == "examples:0"
        assert tf.saved_model.is_valid_signature(predict)

        classify = tf.saved_model.classification_signature_def(examples, classes, scores)
        assert classify.method_name == keys.CLASSIFY_METHOD_NAME
        assert set(classify.outputs) == {"classes", "scores"}
        assert classify.inputs[keys.CLASSIFY_INPUTS].dtype == types_pb2.DT_STRING
        assert tf.saved_model.signature_def_utils.is_valid_signature(classify)

        regress = tf.saved_model.regression_signature_def(examples, scores)
        assert regress.method_name == "tensorflow/serving/regress"
        assert list(regress.outputs) == ["outputs"]
        assert tf.saved_model.is_valid_signature(regress)

        with pytest.raises(ValueError, match="cannot be None or empty"):
            tf.saved_model.predict_signature_def({}, {"out": scores})
        with pytest.raises(ValueError, match="must be of type string"):
            tf.saved_model.regression_signature_def(scores, scores)
        with pytest.raises(ValueError, match="must be of type float"):
            tf.saved_model.regression_signature_def(examples, classes)
        with pytest.raises(ValueError, match="cannot both be None"):
            tf.saved_model.classification_signature_def(examples, None, None)
        with pytest.raises(ValueError, match="must be a float Tensor"):
            tf.saved_model.classification_signature_def(examples, None, classes)

        default = tf.constant([1.5, 2.5], name="default")
        built = tf.saved_model.build_signature_def(
            inputs={"in": tf.saved_model.build_tensor_info(scores)},
            outputs={"out": tf.saved_model.build_tensor_info(scores)},
            method_name="custom", defaults={"in": default})
        assert built.method_name == "custom"
        assert tf.make_ndarray(built.defaults["in"]).tolist() == [1.5, 2.5]
        assert not tf.saved_model.is_valid_signature(built)
        assert not tf.saved_model.is_valid_signature(None)
        with pytest.raises(ValueError, match="Unable to convert"):
            tf.saved_model.build_signature_def(defaults={"in": scores})
        # A regress signature with a float input is not valid.
        bad = tf.saved_model.build_signature_def(
            {"inputs": tf.saved_model.build_tensor_info(scores)},
            {"outputs": tf.saved_model.build_tensor_info(scores)}, keys.REGRESS_METHOD_NAME)
        assert not tf.saved_model.is_valid_signature(bad)


def test_constants_match_tf():
    saved_model = tf.saved_model
    assert (saved_model.SERVING, saved_model.TRAINING, saved_model.GPU, saved_model.TPU) == (
        "serve", "train", "gpu", "tpu")
    assert saved_model.tag_constants.SERVING == "serve"
    assert saved_model.DEFAULT_SERVING_SIGNATURE_DEF_KEY == "serving_default"
    assert (saved_model.PREDICT_INPUTS, saved_model.PREDICT_OUTPUTS) == ("inputs", "outputs")
    assert (saved_model.CLASSIFY_OUTPUT_CLASSES, saved_model.CLASSIFY_OUTPUT_SCORES) == (
        "classes", "scores")
    assert saved_model.constants.MAIN_OP_KEY == "saved_model_main_op"
    assert saved_model.LEGACY_INIT_OP_KEY == "legacy_init_op"
    assert saved_model.ASSETS_KEY == "saved_model_assets"
    assert (saved_model.SAVED_MODEL_FILENAME_PB, saved_model.SAVED_MODEL_FILENAME_PBTXT) == (
        "saved_model.pb", "saved_model.pbtxt")
    assert (saved_model.VARIABLES_DIRECTORY, saved_model.VARIABLES_FILENAME,
            saved_model.ASSETS_DIRECTORY) == ("variables", "variables", "assets")
    assert saved_model.SAVED_MODEL_SCHEMA_VERSION == 1
    assert saved_model.Builder is saved_model.builder.SavedModelBuilder
    assert saved_model.load is saved_model.loader.load


def test_method_name_updater(tmp_path):
    export_dir = str(tmp_path / "export")
    _export(export_dir, None, extra_tags=["train"])
    updater = tf.saved_model.signature_def_utils.MethodNameUpdater(export_dir)
    with pytest.raises(ValueError, match="does not have a signature_def"):
        updater.replace_method_name("serving_default", "custom/method", tags="train")
    with pytest.raises(ValueError, match="could not be found"):
        updater.replace_method_name("serving_default", "custom/method", tags=["gpu"])
    with pytest.raises(ValueError, match="`method_name` must be defined"):
        updater.replace_method_name("serving_default", "")
    updater.replace_method_name("serving_default", "custom/method", tags="serve")
    assert updater.save() == os.path.join(export_dir, "saved_model.pb").encode()
    with tf.Graph().as_default() as graph, tf.Session(graph=graph) as sess:
        meta_graph_def = tf.saved_model.loader.load(sess, ["serve"], export_dir)
    assert meta_graph_def.signature_def["serving_default"].method_name == "custom/method"


def test_loader_runs_init_op_named_by_signature(tmp_path):
    """TF 2's builder names the init op in the ``__saved_model_init_op`` signature."""
    export_dir = tmp_path / "export"
    with tf.Graph().as_default() as graph, tf.Session(graph=graph) as sess:
        tf.get_variable("local", [], initializer=tf.constant_initializer(3.0),
                        collections=[tf.GraphKeys.LOCAL_VARIABLES])
        tf.group(tf.local_variables_initializer(), name="init_locals")
        builder = tf.saved_model.Builder(str(export_dir))
        builder.add_meta_graph_and_variables(sess, ["serve"])
        builder.save()
    path = export_dir / "saved_model.pb"
    saved_model = saved_model_pb2.SavedModel.FromString(path.read_bytes())
    init_signature = saved_model.meta_graphs[0].signature_def["__saved_model_init_op"]
    init_signature.outputs["__saved_model_init_op"].name = "init_locals"
    path.write_bytes(saved_model.SerializeToString())
    with tf.Graph().as_default() as graph, tf.Session(graph=graph) as sess:
        tf.saved_model.loader.load(sess, ["serve"], str(export_dir), import_scope="scoped")
        assert _variable_values(sess) == {"scoped/local": 3.0}


def test_reexport_of_loaded_tf_model(tmp_path):
    """A loaded TF SavedModel exported again keeps its signatures, main op and assets."""
    expected = np.load(TF_MODEL / "expected.npz")
    export_dir = str(tmp_path / "again")
    with tf.Graph().as_default() as graph, tf.Session(graph=graph) as sess:
        meta_graph_def = tf.saved_model.loader.load(sess, ["serve"],
                                                    str(TF_MODEL / "saved_model"))
        builder = tf.saved_model.Builder(export_dir)
        builder.add_meta_graph_and_variables(sess, ["serve"], dict(meta_graph_def.signature_def))
        builder.save()
    saved_model = saved_model_pb2.SavedModel.FromString(
        (pathlib.Path(export_dir) / "saved_model.pb").read_bytes())
    collections = saved_model.meta_graphs[0].collection_def
    assert len(collections["saved_model_assets"].any_list.value) == 1
    assert list(collections["saved_model_main_op"].node_list.value) == ["legacy_init_op"]
    with tf.Graph().as_default() as graph, tf.Session(graph=graph) as sess:
        meta_graph_def = tf.saved_model.loader.load(sess, ["serve"], export_dir)
        inputs, outputs = _signature_tensors(meta_graph_def.signature_def["serving_default"])
        scores = sess.run(outputs["scores"], {inputs["x"]: expected["x"]})
    np.testing.assert_allclose(scores, expected["scores"], rtol=1e-6, atol=1e-6)


def test_loader_rejects_corrupt_saved_model(tmp_path):
    (tmp_path / "saved_model.pb").write_bytes(b"\xff\xff\xff\xff")
    with tf.Graph().as_default() as graph, tf.Session(graph=graph) as sess:
        with pytest.raises(IOError, match="Cannot parse file"):
            tf.saved_model.loader.load(sess, ["serve"], str(tmp_path))
    (tmp_path / "saved_model.pb").unlink()
    (tmp_path / "saved_model.pbtxt").write_text("not a field: 1")
    with tf.Graph().as_default() as graph, tf.Session(graph=graph) as sess:
        with pytest.raises(IOError, match="Cannot parse file"):
            tf.saved_model.loader.load(sess, ["serve"], str(tmp_path))
