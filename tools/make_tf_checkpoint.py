#!/usr/bin/env python3
"""Write the small TF-written V2 checkpoint under ``tests/data/tf_checkpoint/``.

Run with TensorFlow 2.21 (not a sessionlib dependency), from the repository root::

    /work/tfref/bin/python tools/make_tf_checkpoint.py

It builds a TF1 graph with one variable per dtype the tests read (float32, float64, int32,
int64, bool, string), a scalar and a 2-D one, saves them with ``tf.compat.v1.train.Saver``
(global_step=7, so the prefix is ``model-7``). The values are fixed here, and
``tests/test_saver.py`` (``TF_VALUES``) repeats them as literals. The ``checkpoint`` state
file TF writes holds an absolute path; it is rewritten relative so the directory can move.
"""

import os
import pathlib

import numpy as np
import tensorflow.compat.v1 as tf

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "data" / "tf_checkpoint"

VALUES = {
    "scalar_f32": np.float32(3.5),
    "matrix_f32": np.arange(6, dtype=np.float32).reshape(2, 3) / 4,
    "matrix_f64": np.array([[1.25, -2.5], [1e-300, 7.0]], dtype=np.float64),
    "scope/vector_i32": np.array([1, -2, 2147483647], dtype=np.int32),
    "scalar_i64": np.int64(-9007199254740993),
    "matrix_bool": np.array([[True, False], [False, True]]),
    "strings": np.array([b"", b"hello", b"\xff\x00bytes", b"x" * 200], dtype=object),
    "scalar_string": np.array(b"one string", dtype=object),
}


def main():
    tf.disable_v2_behavior()
    OUT.mkdir(parents=True, exist_ok=True)
    for path in OUT.iterdir():
        path.unlink()
    with tf.Graph().as_default():
        for name, value in VALUES.items():
            tf.Variable(value, name=name)
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            saver.save(sess, str(OUT / "model"), global_step=7, write_meta_graph=False)
    # The state file names the absolute prefix TF saw; keep it relative to the directory.
    (OUT / "checkpoint").write_text('model_checkpoint_path: "model-7"\n'
                                    'all_model_checkpoint_paths: "model-7"\n')
    print(sorted(os.listdir(OUT)))


if __name__ == "__main__":
    main()
