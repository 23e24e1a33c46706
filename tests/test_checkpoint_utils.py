"""Checkpoint utilities of ``tf.train``: the state file (`get_checkpoint_state`,
`update_checkpoint_state`, `latest_checkpoint`, `checkpoint_exists`), the reader
(`load_checkpoint`, `list_variables`, `load_variable`) and `init_from_checkpoint`.

The TF-written checkpoint is ``tests/data/tf_checkpoint`` (``tools/make_tf_checkpoint.py``,
TF 2.21); its values are listed in ``tests/test_saver.py``.
"""

import os

import numpy as np
import pytest

import sessionlib as tf

TF_CHECKPOINT_DIR = os.path.join(os.path.dirname(__file__), "data", "tf_checkpoint")
TF_PREFIX = os.path.join(TF_CHECKPOINT_DIR, "model-7")


def _save(directory, values, step=None):
    with tf.Graph().as_default():
        for name, value in values.items():
            tf.Variable(value, name=name)
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            return saver.save(sess, os.path.join(directory, "model"), global_step=step)


def test_reader_of_tf_written_checkpoint():
    reader = tf.train.load_checkpoint(TF_CHECKPOINT_DIR)
    assert reader.get_variable_to_shape_map() == {
        "matrix_bool": [2, 2], "matrix_f32": [2, 3], "matrix_f64": [2, 2], "scalar_f32": [],
        "scalar_i64": [], "scalar_string": [], "scope/vector_i32": [3], "strings": [4]}
    assert reader.get_variable_to_dtype_map() == {
        "matrix_bool": tf.bool, "matrix_f32": tf.float32, "matrix_f64": tf.float64,
        "scalar_f32": tf.float32, "scalar_i64": tf.int64, "scalar_string": tf.string,
        "scope/vector_i32": tf.int32, "strings": tf.string}
    assert reader.has_tensor("strings") and not reader.has_tensor("nope")
    assert reader.get_tensor("scalar_string") == b"one string"
    assert reader.get_tensor("scalar_i64") == -9007199254740993
    np.testing.assert_array_equal(reader.get_tensor("matrix_f32"),
                                  np.arange(6, dtype=np.float32).reshape(2, 3) / 4)
    with pytest.raises(tf.errors.NotFoundError, match="nope"):
        reader.get_tensor("nope")
    assert b"matrix_f64 (float64) [2, 2]" in reader.debug_string()


def test_list_and_load_variable(tmp_path):
    prefix = _save(str(tmp_path), {"a": np.arange(3.0), "b/c": np.int64(4)}, step=2)
    assert tf.train.list_variables(str(tmp_path)) == [("a", [3]), ("b/c", [])]
    assert tf.train.list_variables(prefix) == [("a", [3]), ("b/c", [])]
    np.testing.assert_array_equal(tf.train.load_variable(str(tmp_path), "a"), [0.0, 1.0, 2.0])
    assert tf.train.load_variable(prefix, "b/c:0") == 4
    assert tf.train.list_variables(TF_PREFIX)[0] == ("matrix_bool", [2, 2])


def test_load_checkpoint_errors(tmp_path):
    with pytest.raises(ValueError, match="Couldn't find 'checkpoint' file"):
        tf.train.load_checkpoint(str(tmp_path))
    with pytest.raises(tf.errors.NotFoundError):
        tf.train.load_checkpoint(str(tmp_path / "nothing"))
    (tmp_path / "bad.index").write_bytes(b"\x00" * 10)
    with pytest.raises(tf.errors.DataLossError):
        tf.train.load_checkpoint(str(tmp_path / "bad"))


def test_checkpoint_state_round_trip_and_relative_paths(tmp_path):
    directory = str(tmp_path)
    tf.train.update_checkpoint_state(directory, os.path.join(directory, "m-2"),
                                     [os.path.join(directory, "m-1")],
                                     save_relative_paths=True)
    assert (tmp_path / "checkpoint").read_text() == (
        'model_checkpoint_path: "m-2"\n'
        'all_model_checkpoint_paths: "m-1"\n'
        'all_model_checkpoint_paths: "m-2"\n')
    state = tf.train.get_checkpoint_state(directory)
    assert state.model_checkpoint_path == os.path.join(directory, "m-2")
    assert list(state.all_model_checkpoint_paths) == [os.path.join(directory, "m-1"),
                                                      os.path.join(directory, "m-2")]
    # The state names a checkpoint that does not exist: no latest checkpoint.
    assert tf.train.latest_checkpoint(directory) is None
    assert tf.train.get_checkpoint_state(str(tmp_path / "absent")) is None
    (tmp_path / "checkpoint").write_text("this is { not a proto")
    assert tf.train.get_checkpoint_state(directory) is None
    assert not [name for name in os.listdir(directory) if ".tmp" in name]


def test_checkpoint_exists_and_mtimes(tmp_path):
    prefix = _save(str(tmp_path), {"a": np.arange(3.0)})
    assert tf.train.checkpoint_exists(prefix)
    assert not tf.train.checkpoint_exists(str(tmp_path / "other"))
    times = tf.train.get_checkpoint_mtimes([prefix, str(tmp_path / "other")])
    assert len(times) == 1 and times[0] == os.path.getmtime(prefix + ".index")
    tf.train.remove_checkpoint(prefix)
    assert not tf.train.checkpoint_exists(prefix)
    assert os.listdir(str(tmp_path)) == ["checkpoint"]


def test_init_from_checkpoint_forms(tmp_path):
    _save(str(tmp_path), {"old/a": np.arange(3.0), "old/b": np.float32(5.0),
                          "single": np.array([[1, 2]], dtype=np.int32)})
    with tf.Graph().as_default():
        a = tf.Variable(np.zeros(3), name="new/a")
        b = tf.Variable(np.float32(0), name="new/b")
        single = tf.Variable(np.zeros((1, 2), np.int32), name="renamed")
        by_object = tf.Variable(np.zeros(3), name="object")
        untouched = tf.Variable(np.float32(9), name="untouched")
        tf.train.init_from_checkpoint(str(tmp_path), {"old/": "new/", "single": "renamed",
                                                      "old/a": by_object})
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            got = sess.run([a, b, single, by_object, untouched])
    np.testing.assert_array_equal(got[0], [0.0, 1.0, 2.0])
    assert got[1] == 5.0
    np.testing.assert_array_equal(got[2], [[1, 2]])
    np.testing.assert_array_equal(got[3], [0.0, 1.0, 2.0])
    assert got[4] == 9.0


def test_init_from_checkpoint_errors(tmp_path):
    _save(str(tmp_path), {"a": np.arange(3.0)})
    with tf.Graph().as_default():
        tf.Variable(np.zeros(4), name="v")
        with pytest.raises(ValueError, match="Shape of variable v"):
            tf.train.init_from_checkpoint(str(tmp_path), {"a": "v"})
        with pytest.raises(ValueError, match="Tensor missing is not found"):
            tf.train.init_from_checkpoint(str(tmp_path), {"missing": "v"})
        with pytest.raises(ValueError, match="not found in the graph"):
            tf.train.init_from_checkpoint(str(tmp_path), {"a": "nope"})


def test_init_from_tf_written_checkpoint():
    with tf.Graph().as_default():
        v = tf.Variable(np.zeros(3, np.int32), name="v")
        tf.train.init_from_checkpoint(TF_CHECKPOINT_DIR, {"scope/vector_i32": "v"})
        with tf.Session() as sess:
            sess.run(v.initializer)
            np.testing.assert_array_equal(sess.run(v), [1, -2, 2147483647])


def test_new_checkpoint_reader():
    reader = tf.train.NewCheckpointReader(TF_PREFIX)
    assert reader.get_tensor("scalar_f32") == np.float32(3.5)
