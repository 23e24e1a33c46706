#!/usr/bin/env python3
"""Write small TF-made control-flow GraphDefs under ``tests/data/tf_control_flow/``.

Run with TensorFlow 2.21 (not a sessionlib dependency), from the repository root::

    TF_USE_LEGACY_KERAS=1 /work/tfref/bin/python tools/make_tf_control_flow.py

Every case is built twice in graph mode (``tf.compat.v1`` inside a ``tf.Graph``): once with
TF 2's functional control flow ("control flow v2": ``If``/``StatelessIf``,
``While``/``StatelessWhile`` with their branches and bodies as ``FunctionDef`` s in
``GraphDef.library``), written to ``v2_<case>.pb``, and once with TF 1's dataflow primitives
(``tf.compat.v1.disable_control_flow_v2()``: ``Switch``/``Merge`` conds and
``Enter``/``Merge``/``Switch``/``LoopCond``/``NextIteration``/``Exit`` loops), written to
``v1_<case>.pb``. Variables are frozen to ``Const`` (``convert_variables_to_constants``), so
no checkpoint is needed. Beside each graph ``<name>.npz`` holds ``feed_names`` and
``fetch_names`` (tensor names, ``"op:index"``), ``runs`` (how many runs) and for run ``r``
the feeds ``r<r>_feed<i>`` and TF's results ``r<r>_fetch<j>``;
``tests/test_tf_control_flow_import.py`` imports each graph and compares.

The cases:

* ``cond``: ``tf.cond`` on a fed bool (two branches with different ops, one capturing a
  constant), plus a nested cond; runs with the predicate true and false.
* ``while``: ``x ** n`` and ``sum(x * i for i < n)`` by ``tf.while_loop`` with a fed ``n``,
  and a loop bounded by ``maximum_iterations``.
* ``nested``: a loop inside a loop (``sum_{i<n} sum_{j<i} x * j``) and a ``tf.cond`` inside a
  loop body.
* ``rnn``: ``tf.nn.dynamic_rnn`` of a ``BasicRNNCell(4)`` over a fed ``[2, 3, 3]`` batch
  with ``sequence_length`` (a ``TensorArray`` loop; in v2 the arrays are TensorLists).
* ``grad``: ``tf.gradients`` of the while loop's ``x ** n`` and of a cond; v2 adds
  TensorList accumulators to the forward While, v1 uses stacks.
"""

import os
import pathlib
import sys

import numpy as np

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "data" / "tf_control_flow"


def _cond_case(tf):
    pred = tf.placeholder(tf.bool, [], name="pred")
    x = tf.placeholder(tf.float32, [3], name="x")
    c = tf.constant([1.0, 2.0, 3.0], name="c")
    out = tf.cond(pred, lambda: x * 2.0 + c, lambda: tf.square(x) - 3.0, name="cond")
    inner = tf.cond(pred,
                    lambda: tf.cond(x[0] > 0.0, lambda: x + 10.0, lambda: x - 10.0),
                    lambda: tf.reduce_sum(x) * tf.ones([3]),
                    name="outer")
    out = tf.identity(out, name="out")
    inner = tf.identity(inner, name="nested_out")
    xs = np.array([1.5, -2.0, 0.5], np.float32)
    runs = [{pred: True, x: xs}, {pred: False, x: xs}, {pred: True, x: -xs}]
    return [pred, x], [out, inner], runs


def _while_case(tf):
    x = tf.placeholder(tf.float32, [2], name="x")
    n = tf.placeholder(tf.int32, [], name="n")
    _, power = tf.while_loop(lambda i, acc: i < n, lambda i, acc: (i + 1, acc * x),
                             [tf.constant(0), tf.ones([2])], name="power")
    _, total = tf.while_loop(lambda i, s: i < n,
                             lambda i, s: (i + 1, s + x * tf.cast(i, tf.float32)),
                             [tf.constant(0), tf.zeros([2])], name="sum")
    count = tf.while_loop(lambda i: i < 100, lambda i: i + 3, [tf.constant(0)],
                          maximum_iterations=n, name="bounded")
    power = tf.identity(power, name="power_out")
    total = tf.identity(total, name="sum_out")
    count = tf.identity(count, name="bounded_out")
    xs = np.array([1.5, -0.5], np.float32)
    runs = [{x: xs, n: 3}, {x: xs, n: 0}, {x: xs * 2, n: 5}]
    return [x, n], [power, total, count], runs


def _nested_case(tf):
    x = tf.placeholder(tf.float32, [], name="x")
    n = tf.placeholder(tf.int32, [], name="n")

    def outer_body(i, total):
        def inner_body(j, s):
            return j + 1, s + x * tf.cast(j, tf.float32)

        _, s = tf.while_loop(lambda j, s: j < i, inner_body, [tf.constant(0), total],
                             name="inner")
        return i + 1, s

    _, nested = tf.while_loop(lambda i, t: i < n, outer_body, [tf.constant(0), 0.0],
                              name="outer")

    def cond_body(i, acc):
        acc = tf.cond(tf.equal(i % 2, 0), lambda: acc + x, lambda: acc * 2.0)
        return i + 1, acc

    _, alternating = tf.while_loop(lambda i, a: i < n, cond_body, [tf.constant(0), 1.0],
                                   name="alternating")
    nested = tf.identity(nested, name="nested_out")
    alternating = tf.identity(alternating, name="alternating_out")
    runs = [{x: np.float32(1.5), n: 4}, {x: np.float32(-0.5), n: 1}]
    return [x, n], [nested, alternating], runs


def _rnn_case(tf):
    inputs = tf.placeholder(tf.float32, [2, 3, 3], name="inputs")
    lengths = tf.placeholder(tf.int32, [2], name="lengths")
    initializer = tf.random_uniform_initializer(-0.5, 0.5, seed=3)
    with tf.variable_scope("rnn_model", initializer=initializer):
        cell = tf.nn.rnn_cell.BasicRNNCell(4)
        outputs, state = tf.nn.dynamic_rnn(cell, inputs, sequence_length=lengths,
                                           dtype=tf.float32)
    outputs = tf.identity(outputs, name="outputs")
    state = tf.identity(state, name="state")
    rng = np.random.RandomState(5)
    values = rng.uniform(-1, 1, (2, 3, 3)).astype(np.float32)
    runs = [{inputs: values, lengths: np.array([3, 2], np.int32)},
            {inputs: values[::-1].copy(), lengths: np.array([1, 3], np.int32)}]
    return [inputs, lengths], [outputs, state], runs


def _grad_case(tf):
    x = tf.placeholder(tf.float32, [2], name="x")
    n = tf.placeholder(tf.int32, [], name="n")
    pred = tf.placeholder(tf.bool, [], name="pred")
    _, power = tf.while_loop(lambda i, acc: i < n, lambda i, acc: (i + 1, acc * tf.sin(x)),
                             [tf.constant(0), tf.ones([2])], name="power")
    branch = tf.cond(pred, lambda: tf.exp(x) * 2.0, lambda: x * x, name="cond")
    loss = tf.reduce_sum(power) + tf.reduce_sum(branch)
    (grad,) = tf.gradients(loss, [x])
    power = tf.identity(power, name="power_out")
    grad = tf.identity(grad, name="grad_out")
    xs = np.array([0.7, -1.2], np.float32)
    runs = [{x: xs, n: 3, pred: True}, {x: xs, n: 1, pred: False}]
    return [x, n, pred], [power, grad], runs


CASES = {"cond": _cond_case, "while": _while_case, "nested": _nested_case,
         "rnn": _rnn_case, "grad": _grad_case}


def _write(tf, version, case, build):
    name = "%s_%s" % (version, case)
    graph = tf.Graph()
    with graph.as_default():
        feeds, fetches, runs = build(tf)
        with tf.Session(graph=graph) as sess:
            sess.run(tf.global_variables_initializer())
            results = [sess.run(fetches, run) for run in runs]
            graph_def = graph.as_graph_def()
            if tf.global_variables():
                graph_def = tf.graph_util.convert_variables_to_constants(
                    sess, graph_def, [t.op.name for t in fetches])
    # The frozen graph computes what the live one did (checked here, in TF).
    with tf.Graph().as_default() as check:
        tf.import_graph_def(graph_def, name="")
        with tf.Session(graph=check) as sess:
            for run, result in zip(runs, results):
                again = sess.run([t.name for t in fetches],
                                 {t.name: v for t, v in run.items()})
                for a, b in zip(again, result):
                    np.testing.assert_allclose(a, b, rtol=1e-6)
    (OUT / (name + ".pb")).write_bytes(graph_def.SerializeToString())
    arrays = {"feed_names": np.array([t.name for t in feeds]),
              "fetch_names": np.array([t.name for t in fetches]),
              "runs": np.int32(len(runs))}
    for r, (run, result) in enumerate(zip(runs, results)):
        for i, t in enumerate(feeds):
            arrays["r%d_feed%d" % (r, i)] = np.asarray(run[t])
        for j, value in enumerate(result):
            arrays["r%d_fetch%d" % (r, j)] = np.asarray(value)
    np.savez(OUT / (name + ".npz"), **arrays)
    ops = sorted({node.op for node in graph_def.node}
                 | {node.op for f in graph_def.library.function for node in f.node_def})
    print(name, len(graph_def.SerializeToString()), "bytes;", " ".join(ops))


def main():
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    import tensorflow.compat.v1 as tf

    tf.disable_eager_execution()
    OUT.mkdir(parents=True, exist_ok=True)
    for version in ("v2", "v1"):
        if version == "v2":
            tf.enable_control_flow_v2()
            tf.enable_resource_variables()
        else:
            tf.disable_control_flow_v2()
            tf.disable_resource_variables()
        for case, build in CASES.items():
            _write(tf, version, case, build)
    return 0


if __name__ == "__main__":
    sys.exit(main())
