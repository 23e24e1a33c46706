"""Writes tests/data/tf1_linear_train.pb: a TF 1 training graph with *reference* variables.

Run with the TF reference environment (``/work/tfref/bin/python tools/make_tf1_linear_graph.py``).
The graph is what TF 1 code of the reference-variable era exports: ``VariableV2`` nodes, their
``Assign`` initializers and ``/read`` identities, and a GradientDescentOptimizer train op
(``ApplyGradientDescent``). The data are constants in the graph, so the test needs no feeds.
The script prints TF's losses and final values, which tests/test_frozen_graph.py checks.
"""

import os

import numpy as np
import tensorflow.compat.v1 as tf

tf.disable_v2_behavior()   # TF 1 behaviour: tf.Variable makes reference variables

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "data")


def main():
    graph = tf.Graph()
    with graph.as_default():
        x = tf.constant(np.arange(12, dtype=np.float32).reshape(4, 3) / 10.0, name="x")
        y = tf.constant(np.array([[1.0], [0.0], [2.0], [1.5]], np.float32), name="y")
        w = tf.Variable(np.array([[0.1], [-0.2], [0.3]], np.float32), name="w")
        b = tf.Variable(0.5, name="b")
        assert w.op.type == "VariableV2"
        prediction = tf.add(tf.matmul(x, w), b, name="prediction")
        loss = tf.reduce_mean(tf.square(prediction - y), name="loss")
        train = tf.train.GradientDescentOptimizer(0.1).minimize(loss, name="train")
        init = tf.global_variables_initializer()
        print("init op:", init.name, "train op:", train.name)
        print("op types:", sorted({op.type for op in graph.get_operations()}))
        graph_def = graph.as_graph_def()
        with tf.Session(graph=graph) as sess:
            sess.run(init)
            losses = [float(sess.run([loss, train])[0]) for _ in range(5)]
            final_w, final_b = sess.run([w, b])
    with open(os.path.join(OUT, "tf1_linear_train.pb"), "wb") as f:
        f.write(graph_def.SerializeToString(deterministic=True))
    np.set_printoptions(precision=9)
    print("losses:", repr(losses))
    print("w:", repr(final_w.reshape(-1).tolist()), "b:", repr(float(final_b)))


if __name__ == "__main__":
    main()
