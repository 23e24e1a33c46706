"""``tf.train.Saver``: save/restore round trips, the state file, max_to_keep, global-step names,
errors, a two-device (sharded) session, and the TF-written checkpoint of
``tests/data/tf_checkpoint`` (made by ``tools/make_tf_checkpoint.py`` with TF 2.21)."""

import os

import numpy as np
import pytest

import sessionlib as tf
from sessionlib.framework.device_spec import DeviceSpec

TF_CHECKPOINT_DIR = os.path.join(os.path.dirname(__file__), "data", "tf_checkpoint")


def _model():
    v = tf.Variable(np.arange(6.0).reshape(2, 3), name="v")
    w = tf.Variable(np.int32(3), name="scope/w")
    s = tf.Variable(np.array([b"a", b"bc"], dtype=object), name="s")
    return v, w, s


def _files(directory):
    return sorted(os.listdir(directory))


def test_save_and_restore_round_trip(tmp_path):
    with tf.Graph().as_default():
        v, w, s = _model()
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            prefix = saver.save(sess, str(tmp_path / "model"))
            assert prefix == str(tmp_path / "model")
            assert _files(tmp_path) == ["checkpoint", "model.data-00000-of-00001",
                                        "model.index", "model.meta"]
            sess.run([v.assign(np.zeros((2, 3))), w.assign(0),
                      s.assign(np.array([b"", b""], dtype=object))])
            saver.restore(sess, prefix)
            got_v, got_w, got_s = sess.run([v, w, s])
    np.testing.assert_array_equal(got_v, np.arange(6.0).reshape(2, 3))
    assert got_w == 3
    assert got_s.tolist() == [b"a", b"bc"]


def test_saver_def_names_are_tfs(tmp_path):
    with tf.Graph().as_default():
        _model()
        saver_def = tf.train.Saver(max_to_keep=3).as_saver_def()
        second = tf.train.Saver().saver_def
    # TF 2.21's compat.v1 Saver builds these names for a one-device graph.
    assert saver_def.filename_tensor_name == "save/Const:0"
    assert saver_def.save_tensor_name == "save/control_dependency:0"
    assert saver_def.restore_op_name == "save/restore_all"
    assert saver_def.max_to_keep == 3
    assert saver_def.version == tf.train.SaverDef.V2
    assert second.restore_op_name == "save_1/restore_all"


def test_global_step_names_and_state_file(tmp_path):
    with tf.Graph().as_default():
        _model()
        step = tf.train.get_or_create_global_step()
        saver = tf.train.Saver()
        padded = tf.train.Saver(pad_step_number=True)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(step.assign(12))
            assert saver.save(sess, str(tmp_path / "m"), global_step=7) == \
                str(tmp_path / "m-7")
            assert saver.save(sess, str(tmp_path / "m"), global_step=step) == \
                str(tmp_path / "m-12")
            assert padded.save(sess, str(tmp_path / "p"), global_step=5,
                               latest_filename="other") == str(tmp_path / "p-00000005")
    state = tf.train.get_checkpoint_state(str(tmp_path))
    assert state.model_checkpoint_path == str(tmp_path / "m-12")
    assert list(state.all_model_checkpoint_paths) == [str(tmp_path / "m-7"),
                                                      str(tmp_path / "m-12")]
    assert len(state.all_model_checkpoint_timestamps) == 2
    text = (tmp_path / "checkpoint").read_text()
    assert text.startswith(f'model_checkpoint_path: "{tmp_path / "m-12"}"\n'
                           f'all_model_checkpoint_paths: "{tmp_path / "m-7"}"\n')
    assert tf.train.latest_checkpoint(str(tmp_path)) == str(tmp_path / "m-12")
    assert tf.train.latest_checkpoint(str(tmp_path), "other") == str(tmp_path / "p-00000005")


def test_max_to_keep_deletes_old_checkpoints(tmp_path):
    with tf.Graph().as_default():
        _model()
        saver = tf.train.Saver(max_to_keep=2)
        keep_all = tf.train.Saver(max_to_keep=None)
        (tmp_path / "a").mkdir()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for step in range(4):
                saver.save(sess, str(tmp_path / "a" / "m"), global_step=step)
                keep_all.save(sess, str(tmp_path / "m"), global_step=step)
    assert saver.last_checkpoints == [str(tmp_path / "a" / "m-2"), str(tmp_path / "a" / "m-3")]
    assert _files(tmp_path / "a") == ["checkpoint", "m-2.data-00000-of-00001", "m-2.index",
                                      "m-2.meta", "m-3.data-00000-of-00001", "m-3.index",
                                      "m-3.meta"]
    # max_to_keep=None keeps every file and, as in TF, records none.
    assert keep_all.last_checkpoints == []
    assert len([name for name in _files(tmp_path) if name.endswith(".index")]) == 4


def test_keep_checkpoint_every_n_hours_preserves(tmp_path):
    with tf.Graph().as_default():
        _model()
        saver = tf.train.Saver(max_to_keep=1, keep_checkpoint_every_n_hours=1e-9)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            saver._next_checkpoint_time = 0.0
            for step in range(3):
                saver.save(sess, str(tmp_path / "m"), global_step=step)
    assert saver.last_checkpoints == [str(tmp_path / "m-2")]
    assert all(tf.train.checkpoint_exists(str(tmp_path / f"m-{step}")) for step in range(3))


def test_var_list_dict_and_list(tmp_path):
    with tf.Graph().as_default():
        v, w, _ = _model()
        by_dict = tf.train.Saver({"renamed/v": v, "ww": w})
        by_list = tf.train.Saver([v])
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            by_dict.save(sess, str(tmp_path / "d"), write_state=False)
            by_list.save(sess, str(tmp_path / "l"), write_state=False)
    assert tf.train.list_variables(str(tmp_path / "d")) == [("renamed/v", [2, 3]), ("ww", [])]
    assert tf.train.list_variables(str(tmp_path / "l")) == [("v", [2, 3])]
    assert not (tmp_path / "checkpoint").exists()
    with tf.Graph().as_default():
        v = tf.Variable(np.zeros((2, 3)), name="other")
        with pytest.raises(ValueError, match="same name"):
            tf.train.Saver([v, v])
        with pytest.raises(TypeError):
            tf.train.Saver([v.value()])


def test_restore_missing_variable_names_it(tmp_path):
    with tf.Graph().as_default():
        _model()
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            prefix = saver.save(sess, str(tmp_path / "m"))
    with tf.Graph().as_default():
        _model()
        tf.Variable(1.0, name="extra")
        saver = tf.train.Saver()
        with tf.Session() as sess:
            with pytest.raises(tf.errors.NotFoundError, match="Key extra not found"):
                saver.restore(sess, prefix)


@pytest.mark.parametrize("shape", [(3, 2), (6,), (1,)])
def test_restore_shape_mismatch(tmp_path, shape):
    with tf.Graph().as_default():
        tf.Variable(np.zeros((2, 3)), name="v")
        tf.Variable(np.zeros(()), name="scalar")
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            prefix = saver.save(sess, str(tmp_path / "m"))
    with tf.Graph().as_default():
        tf.Variable(np.zeros(shape), name="v")
        tf.Variable(np.zeros(()), name="scalar")
        saver = tf.train.Saver()
        with tf.Session() as sess:
            with pytest.raises(tf.errors.InvalidArgumentError, match="v"):
                saver.restore(sess, prefix)
    # A scalar variable against a saved vector.
    with tf.Graph().as_default():
        tf.Variable(np.zeros(()), name="v")
        saver = tf.train.Saver()
        with tf.Session() as sess:
            with pytest.raises(tf.errors.InvalidArgumentError):
                saver.restore(sess, prefix)


def test_restore_with_reshape(tmp_path):
    with tf.Graph().as_default():
        tf.Variable(np.arange(6.0).reshape(2, 3), name="v")
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            prefix = saver.save(sess, str(tmp_path / "m"))
    with tf.Graph().as_default():
        v = tf.Variable(np.zeros((3, 2)), name="v")
        saver = tf.train.Saver(reshape=True)
        with tf.Session() as sess:
            saver.restore(sess, prefix)
            np.testing.assert_array_equal(sess.run(v), np.arange(6.0).reshape(3, 2))


def test_restore_dtype_mismatch(tmp_path):
    with tf.Graph().as_default():
        tf.Variable(np.zeros(2, np.float32), name="v")
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            prefix = saver.save(sess, str(tmp_path / "m"))
    with tf.Graph().as_default():
        tf.Variable(np.zeros(2, np.float64), name="v")
        with tf.Session() as sess:
            with pytest.raises(tf.errors.InvalidArgumentError,
                               match="expected dtype float64 does not equal original dtype "
                                     "float32"):
                tf.train.Saver().restore(sess, prefix)


def test_corrupt_checkpoint_gives_data_loss(tmp_path):
    with tf.Graph().as_default():
        _model()
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            prefix = saver.save(sess, str(tmp_path / "m"))
            data = prefix + ".data-00000-of-00001"
            with open(data, "r+b") as handle:
                handle.truncate(os.path.getsize(data) - 3)
            with pytest.raises(tf.errors.DataLossError):
                saver.restore(sess, prefix)


def test_errors_of_save_and_restore_arguments(tmp_path):
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="No variables to save"):
            tf.train.Saver()
        empty = tf.train.Saver(allow_empty=True)
        _model()
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            assert empty.save(sess, str(tmp_path / "e")) is None
            with pytest.raises(ValueError, match="Parent directory"):
                saver.save(sess, str(tmp_path / "missing" / "m"))
            with pytest.raises(ValueError, match="not a valid checkpoint"):
                saver.restore(sess, str(tmp_path / "nothing"))
            with pytest.raises(ValueError, match="None"):
                saver.restore(sess, None)
            with pytest.raises(ValueError, match="path components"):
                saver.save(sess, str(tmp_path / "m"), latest_filename="a/b")


def test_failed_save_leaves_no_checkpoint(tmp_path):
    with tf.Graph().as_default():
        v = tf.Variable(1.0, name="v")
        tf.Variable(2.0, name="never_initialized")
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(v.initializer)
            with pytest.raises(tf.errors.OpError):
                saver.save(sess, str(tmp_path / "m"))
    assert _files(tmp_path) == []
    assert tf.train.latest_checkpoint(str(tmp_path)) is None


def test_last_checkpoints_bookkeeping(tmp_path):
    with tf.Graph().as_default():
        _model()
        saver = tf.train.Saver(max_to_keep=2)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            paths = [saver.save(sess, str(tmp_path / "m"), global_step=i) for i in range(2)]
        fresh = tf.train.Saver(max_to_keep=2)
        fresh.recover_last_checkpoints(paths + [str(tmp_path / "gone")])
        assert fresh.last_checkpoints == paths
        fresh.set_last_checkpoints_with_time([("x", 1.0), ("y", 2.0)])
        assert fresh.last_checkpoints == ["x", "y"]
        with pytest.raises(TypeError):
            fresh.set_last_checkpoints_with_time(("x", 1.0))


def test_saver_from_saver_def_and_defer_build(tmp_path):
    with tf.Graph().as_default():
        v, _, _ = _model()
        built = tf.train.Saver()
        again = tf.train.Saver(saver_def=built.as_saver_def())
        deferred = tf.train.Saver(defer_build=True)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            prefix = again.save(sess, str(tmp_path / "m"))
            sess.run(v.assign(np.ones((2, 3))))
            with pytest.raises(RuntimeError, match="build"):
                deferred.save(sess, str(tmp_path / "m"))
            deferred.build()
            deferred.restore(sess, prefix)
            np.testing.assert_array_equal(sess.run(v), np.arange(6.0).reshape(2, 3))


def test_two_device_session_saves_one_shard_per_device(tmp_path):
    with tf.Graph().as_default() as graph:
        with tf.device("/cpu:0"):
            a = tf.Variable(np.arange(4, dtype=np.float32), name="a")
        with tf.device("/cpu:1"):
            b = tf.Variable(np.int64(7), name="b")
            c = tf.Variable([[True, False]], name="c")
        saver = tf.train.Saver()
        assert saver.saver_def.sharded
        saves = [op for op in graph.get_operations() if op.type == "SaveV2"]
        restores = [op for op in graph.get_operations() if op.type == "RestoreV2"]
        assert sorted(DeviceSpec.from_string(op.device).device_index for op in saves) == \
            [0, 1]
        assert sorted(DeviceSpec.from_string(op.device).device_index for op in restores) \
            == [0, 1]
        config = tf.ConfigProto(device_count={"CPU": 2})
        with tf.Session(config=config) as sess:
            sess.run(tf.global_variables_initializer())
            prefix = saver.save(sess, str(tmp_path / "m"), global_step=1)
            assert _files(tmp_path) == ["checkpoint", "m-1.data-00000-of-00002",
                                        "m-1.data-00001-of-00002", "m-1.index", "m-1.meta"]
            sess.run([a.assign(np.zeros(4, np.float32)), b.assign(0)])
            saver.restore(sess, prefix)
            got = sess.run([a, b, c])
    np.testing.assert_array_equal(got[0], [0, 1, 2, 3])
    assert got[1] == 7
    assert got[2].tolist() == [[True, False]]
    reader = tf.train.load_checkpoint(prefix)
    assert reader.get_variable_to_shape_map() == {"a": [4], "b": [], "c": [1, 2]}


def test_sharded_on_one_device(tmp_path):
    with tf.Graph().as_default():
        v, _, _ = _model()
        saver = tf.train.Saver(sharded=True)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            prefix = saver.save(sess, str(tmp_path / "m"))
            assert _files(tmp_path) == ["checkpoint", "m.data-00000-of-00001", "m.index",
                                        "m.meta"]
            sess.run(v.assign(np.zeros((2, 3))))
            saver.restore(sess, prefix)
            np.testing.assert_array_equal(sess.run(v), np.arange(6.0).reshape(2, 3))


# The values tools/make_tf_checkpoint.py gave TF 2.21's variables.
TF_VALUES = {
    "scalar_f32": np.float32(3.5),
    "matrix_f32": np.arange(6, dtype=np.float32).reshape(2, 3) / 4,
    "matrix_f64": np.array([[1.25, -2.5], [1e-300, 7.0]], dtype=np.float64),
    "scope/vector_i32": np.array([1, -2, 2147483647], dtype=np.int32),
    "scalar_i64": np.int64(-9007199254740993),
    "matrix_bool": np.array([[True, False], [False, True]]),
    "strings": np.array([b"", b"hello", b"\xff\x00bytes", b"x" * 200], dtype=object),
    "scalar_string": np.array(b"one string", dtype=object),
}


def test_restores_tf_written_checkpoint():
    prefix = tf.train.latest_checkpoint(TF_CHECKPOINT_DIR)
    assert prefix == os.path.join(TF_CHECKPOINT_DIR, "model-7")
    with tf.Graph().as_default():
        variables = {name: tf.Variable(np.zeros_like(value) if value.dtype != object
                                       else np.full(np.shape(value), b"", dtype=object),
                                       name=name)
                     for name, value in TF_VALUES.items()}
        saver = tf.train.Saver()
        with tf.Session() as sess:
            saver.restore(sess, prefix)
            got = sess.run(variables)
    for name, value in TF_VALUES.items():
        if name == "scalar_string":
            assert got[name] == b"one string"
            continue
        assert got[name].dtype == np.asarray(value).dtype, name
        np.testing.assert_array_equal(got[name], value)


def test_meta_graph_only_through_the_exporter(tmp_path, monkeypatch):
    from sessionlib import train

    with tf.Graph().as_default():
        _model()
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            if getattr(train, "export_meta_graph", None) is None:
                # No exporter yet: write_meta_graph=True writes no .meta.
                saver.save(sess, str(tmp_path / "m"))
                assert not (tmp_path / "m.meta").exists()
                with pytest.raises(NotImplementedError):
                    saver.export_meta_graph(str(tmp_path / "x.meta"))
            calls = []
            monkeypatch.setattr(train, "export_meta_graph",
                                lambda **kwargs: calls.append(kwargs), raising=False)
            saver.save(sess, str(tmp_path / "m"), global_step=3, meta_graph_suffix="mg")
            saver.save(sess, str(tmp_path / "m"), write_meta_graph=False)
    assert len(calls) == 1
    assert calls[0]["filename"] == str(tmp_path / "m-3.mg")
    assert calls[0]["saver_def"] is saver.saver_def
