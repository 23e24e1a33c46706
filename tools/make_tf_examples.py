#!/usr/bin/env python3
"""Write the small TF-made TFRecord file of Examples under ``tests/data/tf_examples/``.

Run with TensorFlow 2.21 (not a sessionlib dependency), from the repository root::

    /work/tfref/bin/python tools/make_tf_examples.py

It writes three ``tf.train.Example`` protos with ``tf.io.TFRecordWriter`` to
``examples.tfrecord``, parses them with TF's ``tf.compat.v1.parse_example`` and saves what TF
returned to ``parsed.npz`` (dense features by key, sparse ones as ``<key>.indices`` / ``.values``
/ ``.dense_shape``), so ``tests/test_example_parsing.py`` can check sessionlib against TF's own
values. ``parse_graph.pb`` is the GraphDef of that parse (the ``serialized`` placeholder
feeds it), plus a ``parse_single_sequence_example`` of a constant (node ``sequence``) and
TF 1's ``ParseExample`` (node ``v1``) and ``ParseSingleExample`` (node ``single_v1``, of the
first record), so the tests also import and run TF's own parsing nodes.
The records are serialized with ``deterministic=True`` (map entries sorted by key),
which sessionlib's ``Example`` must reproduce byte for byte.
"""

import os
import pathlib

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import tensorflow.compat.v1 as tf  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "data" / "tf_examples"


def feature(kind, values):
    if kind == "float":
        return tf.train.Feature(float_list=tf.train.FloatList(value=values))
    if kind == "int64":
        return tf.train.Feature(int64_list=tf.train.Int64List(value=values))
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=values))


EXAMPLES = [
    {"label": feature("int64", [1]), "weights": feature("float", [0.5, -1.25, 3.0]),
     "tokens": feature("bytes", [b"the", b"cat"]), "ids": feature("int64", [7, 9, 2**40])},
    {"label": feature("int64", [0]), "weights": feature("float", [1e-3, 2.0, 0.0]),
     "tokens": feature("bytes", [b"\xff\x00raw"]), "ids": feature("int64", [-3])},
    {"weights": feature("float", [4.0, 5.0, 6.0]), "ids": feature("int64", [])},
]

SPEC = {
    "label": tf.FixedLenFeature([], tf.int64, default_value=-1),
    "weights": tf.FixedLenFeature([3], tf.float32),
    "tokens": tf.VarLenFeature(tf.string),
    "ids": tf.FixedLenSequenceFeature([], tf.int64, allow_missing=True, default_value=-7),
}


def main():
    tf.disable_v2_behavior()
    OUT.mkdir(parents=True, exist_ok=True)
    records = [tf.train.Example(features=tf.train.Features(feature=f)).SerializeToString(
        deterministic=True) for f in EXAMPLES]
    with tf.io.TFRecordWriter(str(OUT / "examples.tfrecord")) as writer:
        for record in records:
            writer.write(record)
    serialized = tf.placeholder(tf.string, [None], name="serialized")
    parsed = tf.parse_example(serialized, SPEC)
    # "sparse_ids": the "ids" feature read as a VarLenFeature as well.
    parsed["sparse_ids"] = tf.parse_example(serialized, {"ids": tf.VarLenFeature(tf.int64)})[
        "ids"]
    sequence = tf.train.SequenceExample(
        context=tf.train.Features(feature={"c": feature("int64", [4, 5])}),
        feature_lists=tf.train.FeatureLists(feature_list={"t": tf.train.FeatureList(
            feature=[feature("float", [0.25]), feature("float", [-1.0])])}))
    tf.parse_single_sequence_example(
        sequence.SerializeToString(deterministic=True),
        context_features={"c": tf.FixedLenFeature([2], tf.int64)},
        sequence_features={"t": tf.FixedLenSequenceFeature([], tf.float32)}, name="sequence")
    # TF 1's ops, as TF 1 GraphDefs hold them: ParseExample (node "v1") and
    # ParseSingleExample of the first record (node "single_v1").
    defaults = [tf.constant(-1, tf.int64), tf.zeros([3])]
    tf.raw_ops.ParseExample(serialized=serialized, names=[], sparse_keys=["tokens"],
                            dense_keys=["label", "weights"], dense_defaults=defaults,
                            sparse_types=[tf.string], dense_shapes=[[], [3]], name="v1")
    tf.raw_ops.ParseSingleExample(serialized=serialized[0], dense_defaults=defaults,
                                  num_sparse=1, sparse_keys=["tokens"],
                                  dense_keys=["label", "weights"], sparse_types=[tf.string],
                                  dense_shapes=[[], [3]], name="single_v1")
    graph_def = tf.get_default_graph().as_graph_def()
    (OUT / "parse_graph.pb").write_bytes(graph_def.SerializeToString(deterministic=True))
    with tf.Session() as sess:
        values = sess.run(parsed, {serialized: records})
    arrays = {}
    for key, value in sorted(values.items()):
        tensor = parsed[key]
        arrays[f"{key}.name"] = np.array(
            tensor.name if not isinstance(tensor, tf.SparseTensor) else tensor.values.name)
        if isinstance(value, tf.SparseTensorValue):
            arrays[f"{key}.indices"] = value.indices
            # Fixed-width bytes ("S"), so the file loads without pickle.
            values = np.asarray(value.values)
            arrays[f"{key}.values"] = values.astype("S") if values.dtype == object else values
            arrays[f"{key}.dense_shape"] = value.dense_shape
        else:
            arrays[key] = value
    np.savez(OUT / "parsed.npz", **arrays)


if __name__ == "__main__":
    main()
