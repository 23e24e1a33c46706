#!/usr/bin/env python3
"""Write the small TF-made SavedModel under ``tests/data/tf_saved_model/``.

Run with TensorFlow 2.21 (not a sessionlib dependency), from the repository root::

    TF_USE_LEGACY_KERAS=1 /work/tfref/bin/python tools/make_tf_saved_model.py

It builds a TF1 graph (``tf.compat.v1``, graph mode, reference variables as TF 1 made them):
a two-layer perceptron ``scores = (relu(x @ w1 + b1) @ w2 + b2) * scale``. ``scale`` is a
*local* variable (2.0): the Saver does not save it, so the outputs are right only when the
loader runs the SavedModel's main op (``legacy_init_op``, which initializes local variables).
The model also carries one asset, ``vocab.txt``. ``SavedModelBuilder`` writes it with the tag
``serve`` and a predict signature ``serving_default`` (inputs ``x``, outputs ``scores`` and
``hidden``) into ``saved_model/``; ``expected.npz`` holds the feed ``x`` and TF's outputs,
which ``tests/test_saved_model.py`` compares with what sessionlib's loader gives.

The other direction is checked by hand (no test may need TF): sessionlib writes a SavedModel
into DIR with ``expected.npz`` (``x`` and its ``scores``) next to ``saved_model.pb``; then
``TF_USE_LEGACY_KERAS=1 /work/tfref/bin/python tools/make_tf_saved_model.py --check-ours DIR``
loads it with ``tf.compat.v1.saved_model.loader.load`` and compares the signature's outputs.
Outcome with TF 2.21 (checked by hand, 2026-12-05): TF loads sessionlib's SavedModel written
by ``simple_save`` (reference and resource variables, the asset fed, the legacy init op run)
and by ``Builder.save(as_text=True)``; the scores equal sessionlib's exactly. A sessionlib
SavedModel with two meta graphs (``serve`` and ``train``, ``tf.layers.dense`` with resource
variables) loads in TF under both tags (max |diff| 3e-8), and TF's equivalent (text format,
``strip_default_attrs``) loads in sessionlib under both tags (max |diff| 6e-8).
"""

import argparse
import os
import pathlib
import shutil
import sys

import numpy as np

DATA = pathlib.Path(__file__).resolve().parent.parent / "tests" / "data"
OUT = DATA / "tf_saved_model"


def build_model(tf, asset_path=None):
    """Builds the model in the default graph with `tf` (TF's ``tf.compat.v1`` or sessionlib:
    tests/test_saved_model.py builds the same model with sessionlib).

    Args:
      tf: the ``tf`` module to build with.
      asset_path: a file to register in ``ASSET_FILEPATHS`` as the constant ``vocab_path``.

    Returns:
      ``(x, hidden, scores, legacy_init_op)``.
    """
    x = tf.placeholder(tf.float32, [None, 4], name="x")
    with tf.variable_scope("layer1"):
        w1 = tf.get_variable("w", [4, 6])
        b1 = tf.get_variable("b", [6], initializer=tf.random_uniform_initializer(-.5, .5))
    with tf.variable_scope("layer2"):
        w2 = tf.get_variable("w", [6, 3])
        b2 = tf.get_variable("b", [3], initializer=tf.random_uniform_initializer(-.5, .5))
    scale = tf.get_variable("scale", [], initializer=tf.constant_initializer(2.0),
                            collections=[tf.GraphKeys.LOCAL_VARIABLES])
    hidden = tf.nn.relu(tf.matmul(x, w1) + b1, name="hidden")
    scores = tf.multiply(tf.matmul(hidden, w2) + b2, scale, name="scores")
    if asset_path is not None:
        vocab = tf.constant(str(asset_path), name="vocab_path")
        tf.add_to_collection(tf.GraphKeys.ASSET_FILEPATHS, vocab)
    legacy_init_op = tf.group(tf.local_variables_initializer(), name="legacy_init_op")
    return x, hidden, scores, legacy_init_op


def make():
    """Builds, initializes and exports the TF model; writes expected.npz next to it."""
    import tensorflow.compat.v1 as tf

    tf.disable_v2_behavior()
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    rng = np.random.RandomState(21)
    x_value = rng.uniform(-1, 1, size=(5, 4)).astype(np.float32)
    asset_source = OUT / "vocab_source"
    asset_source.mkdir()
    (asset_source / "vocab.txt").write_text("alpha\nbeta\ngamma\n")
    with tf.Graph().as_default():
        tf.set_random_seed(5)
        x, hidden, scores, legacy_init_op = build_model(tf, asset_source / "vocab.txt")
        signature = tf.saved_model.predict_signature_def(
            inputs={"x": x}, outputs={"scores": scores, "hidden": hidden})
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(tf.local_variables_initializer())
            scores_value, hidden_value = sess.run([scores, hidden], {x: x_value})
            builder = tf.saved_model.Builder(str(OUT / "saved_model"))
            builder.add_meta_graph_and_variables(
                sess, [tf.saved_model.SERVING],
                signature_def_map={"serving_default": signature},
                assets_collection=tf.get_collection(tf.GraphKeys.ASSET_FILEPATHS),
                legacy_init_op=legacy_init_op)
            builder.save()
    shutil.rmtree(asset_source)
    np.savez(OUT / "expected.npz", x=x_value, scores=scores_value, hidden=hidden_value)
    for root, _, files in os.walk(OUT):
        for name in files:
            print(os.path.relpath(os.path.join(root, name), OUT))


def check_tf_loads_ours(directory):
    """TF's loader loads a sessionlib-written SavedModel in `directory` (by hand).

    `directory` holds the SavedModel (tag ``serve``, signature ``serving_default`` with the
    input ``x`` and the output ``scores``) and ``expected.npz`` with sessionlib's ``x`` and
    ``scores``.
    """
    import tensorflow.compat.v1 as tf

    tf.disable_v2_behavior()
    expected = np.load(os.path.join(directory, "expected.npz"))
    with tf.Graph().as_default(), tf.Session() as sess:
        meta_graph_def = tf.saved_model.loader.load(sess, [tf.saved_model.SERVING], directory)
        signature = meta_graph_def.signature_def["serving_default"]
        x = tf.saved_model.utils.get_tensor_from_tensor_info(signature.inputs["x"])
        scores = tf.saved_model.utils.get_tensor_from_tensor_info(signature.outputs["scores"])
        got = sess.run(scores, {x: expected["x"]})
    np.testing.assert_allclose(got, expected["scores"], rtol=1e-6, atol=1e-6)
    print("TF loaded sessionlib's SavedModel; method", signature.method_name,
          "; max |diff| of scores:", float(np.max(np.abs(got - expected["scores"]))))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check-ours", metavar="DIR",
                        help="instead: check that TF loads the sessionlib SavedModel in DIR")
    options = parser.parse_args(argv)
    if options.check_ours:
        check_tf_loads_ours(options.check_ours)
    else:
        make()
    return 0


if __name__ == "__main__":
    sys.exit(main())
