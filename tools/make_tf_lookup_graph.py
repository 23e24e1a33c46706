#!/usr/bin/env python3
"""Write a small TF-written GraphDef with lookup tables to ``tests/data/tf_lookup_graph.pb``.

Run with TensorFlow 2.21 (not a sessionlib dependency), from the repository root::

    /work/tfref/bin/python tools/make_tf_lookup_graph.py

The graph (``tf.compat.v1``) maps the strings fed to ``x`` through a ``StaticVocabularyTable``
over a vocabulary file whose path is fed to ``vocab_path`` when ``init_tables`` runs (3 OOV
buckets) into ``ids``, and those ids back through ``index_to_string_table_from_tensor`` into
``strs``. ``tests/test_lookup.py`` imports it and compares with the values TF printed here
(kept in the test): for the vocabulary ``emerson, lake, palmer`` and
``x = [lake, zzz, emerson]``, ``ids = [1, 3, 0]`` and ``strs = [b, UNK, a]``.
"""

import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import tensorflow.compat.v1 as tf  # noqa: E402 - after the logging setting
from tensorflow.python.ops import lookup_ops  # noqa: E402

OUT = os.path.join("tests", "data", "tf_lookup_graph.pb")


def main():
    tf.disable_eager_execution()
    x = tf.placeholder(tf.string, [None], name="x")
    vocab_path = tf.placeholder(tf.string, [], name="vocab_path")
    index = tf.lookup.TextFileIndex
    vocabulary = tf.lookup.StaticVocabularyTable(
        tf.lookup.TextFileInitializer(vocab_path, tf.string, index.WHOLE_LINE, tf.int64,
                                      index.LINE_NUMBER), num_oov_buckets=3)
    names = lookup_ops.index_to_string_table_from_tensor(["a", "b", "c"])
    ids = tf.identity(vocabulary.lookup(x), name="ids")
    strs = tf.identity(names.lookup(ids), name="strs")
    init = tf.tables_initializer(name="init_tables")
    with open(OUT, "wb") as handle:
        handle.write(tf.get_default_graph().as_graph_def().SerializeToString())
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "vocab.txt")
        with open(path, "w") as handle:
            handle.write("emerson\nlake\npalmer\n")
        with tf.Session() as sess:
            sess.run(init, {vocab_path: path})
            print(sess.run([ids, strs], {x: ["lake", "zzz", "emerson"]}))


if __name__ == "__main__":
    main()
