#!/usr/bin/env python3
"""Write the small TF-written meta graph and checkpoint under ``tests/data/tf_meta_graph/``.

Run with TensorFlow 2.21 (not a sessionlib dependency), from the repository root::

    /work/tfref/bin/python tools/make_tf_meta_graph.py

It builds a TF1 graph with resource variables (``get_variable(use_resource=True)``; with
``--ref``, reference variables, into ``tests/data/tf1_ref_meta_graph/``): a two-layer perceptron ``logits = relu(x @ w1 + b1) @ w2 + b2`` with a mean squared error loss,
trained by ``GradientDescentOptimizer`` with a global step. It trains three steps on fixed
data (`minimize` puts the train op in the ``train_op`` collection), and saves with
``tf.compat.v1.train.Saver`` (global_step=3: ``model-3.meta``, ``model-3.index``,
``model-3.data-00000-of-00001``). ``expected.npz`` holds the feed (``x``, ``y``) and TF's
results for it after the restore: ``logits``, ``loss``, and ``loss_after_step`` (the loss
after one more training step), which ``tests/test_meta_graph.py`` compares with what
sessionlib computes from only the ``.meta`` and the checkpoint.

The other direction is checked by hand (no test may need TF): sessionlib writes the same model
(``get_variable``, ``GradientDescentOptimizer``, ``Saver.save`` + ``export_meta_graph`` into a
directory DIR, with ``expected.npz`` holding its ``x``, ``y`` and ``logits``; a few lines run
with sessionlib's Python), then ``/work/tfref/bin/python tools/make_tf_meta_graph.py
--check-ours DIR`` runs `check_tf_imports_ours`. Outcome with TF 2.21 (binary and text
``.meta``): ``tf.compat.v1.train.import_meta_graph`` imports sessionlib's meta graph (its
variables come back as TF ``ResourceVariable``s in the global, trainable and global-step
collections), the returned Saver restores sessionlib's checkpoint, ``logits:0`` equals
sessionlib's values, and the ``train_op`` collection's op trains (the loss falls). The same
holds for sessionlib's model with reference variables (``get_variable(use_resource=False)``):
TF imports its ``VariableV2``/``Assign`` graph and ref ``ApplyGradientDescent`` train op,
restores, matches the logits and trains (checked by hand with TF 2.21, 2026-12-04).
"""

import argparse
import os
import pathlib
import sys

import numpy as np

DATA = pathlib.Path(__file__).resolve().parent.parent / "tests" / "data"
OUT = DATA / "tf_meta_graph"
# `--ref`: the same model with TF 1's reference variables (VariableV2, Assign, ApplyGradient-
# Descent on refs; the global step too), as most TF 1 meta graphs have them.
REF_OUT = DATA / "tf1_ref_meta_graph"


def _data():
    rng = np.random.RandomState(13)
    x = rng.uniform(-1, 1, size=(6, 4)).astype(np.float32)
    y = rng.uniform(-1, 1, size=(6, 3)).astype(np.float32)
    return x, y


def make(ref=False):
    """Trains and saves the TF model, writes expected.npz (reference variables with `ref`)."""
    import tensorflow.compat.v1 as tf

    tf.disable_v2_behavior()
    out = REF_OUT if ref else OUT
    use_resource = not ref
    if use_resource:
        # Resource variables throughout, the global step included (get_or_create_global_step
        # would otherwise make a reference variable).
        tf.enable_resource_variables()
    OUT = out
    OUT.mkdir(parents=True, exist_ok=True)
    for path in OUT.iterdir():
        path.unlink()
    x_value, y_value = _data()
    with tf.Graph().as_default():
        tf.set_random_seed(7)
        x = tf.placeholder(tf.float32, [None, 4], name="x")
        y = tf.placeholder(tf.float32, [None, 3], name="y")
        with tf.variable_scope("layer1"):
            w1 = tf.get_variable("w", [4, 5], use_resource=use_resource)
            b1 = tf.get_variable("b", [5], initializer=tf.zeros_initializer(),
                                 use_resource=use_resource)
        with tf.variable_scope("layer2"):
            w2 = tf.get_variable("w", [5, 3], use_resource=use_resource)
            b2 = tf.get_variable("b", [3], initializer=tf.zeros_initializer(),
                                 use_resource=use_resource)
        hidden = tf.nn.relu(tf.matmul(x, w1) + b1, name="hidden")
        logits = tf.add(tf.matmul(hidden, w2), b2, name="logits")
        loss = tf.reduce_mean(tf.square(logits - y), name="loss")
        global_step = tf.train.get_or_create_global_step()
        train_op = tf.train.GradientDescentOptimizer(0.1).minimize(
            loss, global_step=global_step, name="train")
        saver = tf.train.Saver(save_relative_paths=True)
        feed = {x: x_value, y: y_value}
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for _ in range(3):
                sess.run(train_op, feed)
            prefix = saver.save(sess, str(OUT / "model"), global_step=global_step)
            logits_value, loss_value = sess.run([logits, loss], feed)
            sess.run(train_op, feed)
            loss_after_step = sess.run(loss, feed)
    np.savez(OUT / "expected.npz", x=x_value, y=y_value, logits=logits_value,
             loss=np.float32(loss_value), loss_after_step=np.float32(loss_after_step))
    print(prefix, sorted(os.listdir(OUT)))
    print("loss", loss_value, "after one more step", loss_after_step)


def check_tf_imports_ours(directory):
    """TF imports a sessionlib-written ``.meta`` and restores its checkpoint (by hand).

    `directory` holds ``model.meta`` and the checkpoint ``model`` that sessionlib wrote for
    the same model, and ``expected.npz`` with sessionlib's ``x``, ``y`` and ``logits``.

    Outcome (TF 2.21, checked by hand): passes; see the module docstring.
    """
    import tensorflow.compat.v1 as tf

    tf.disable_v2_behavior()
    expected = np.load(os.path.join(directory, "expected.npz"))
    with tf.Graph().as_default():
        saver = tf.train.import_meta_graph(os.path.join(directory, "model.meta"))
        with tf.Session() as sess:
            saver.restore(sess, os.path.join(directory, "model"))
            got = sess.run("logits:0", {"x:0": expected["x"]})
            np.testing.assert_allclose(got, expected["logits"], rtol=1e-5, atol=1e-6)
            train_op = tf.get_collection("train_op")[0]
            before = sess.run("loss:0", {"x:0": expected["x"], "y:0": expected["y"]})
            sess.run(train_op, {"x:0": expected["x"], "y:0": expected["y"]})
            after = sess.run("loss:0", {"x:0": expected["x"], "y:0": expected["y"]})
    print("TF imported sessionlib's meta graph; logits match; loss", before, "->", after)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ref", action="store_true",
                        help="write the reference-variable model into tests/data/"
                             "tf1_ref_meta_graph instead")
    parser.add_argument("--check-ours", metavar="DIR",
                        help="instead: check that TF imports the sessionlib model in DIR")
    options = parser.parse_args(argv)
    if options.check_ours:
        check_tf_imports_ours(options.check_ours)
    else:
        make(ref=options.ref)
    return 0


if __name__ == "__main__":
    sys.exit(main())
