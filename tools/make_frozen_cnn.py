"""Writes tests/data/frozen_cnn.pb (+ frozen_cnn_input.npy, frozen_cnn_output.npy): a small
frozen MobileNet-style inference CNN, as TF 1's model zoo shipped them.

Run with the TF reference environment (``/work/tfref/bin/python tools/make_frozen_cnn.py``).
The model: Conv2D + FusedBatchNormV3 + Relu6, DepthwiseConv2dNative + FusedBatchNorm (TF 1's
V1 op, built through ``tf.raw_ops``) + Relu6, a 1x1 Conv2D + BiasAdd + Relu6, AvgPool, Squeeze
and Softmax, with random weights from a fixed seed. Freezing
(``convert_variables_to_constants``) turns the variables into Const nodes; the input and TF's
output are saved beside the graph for tests/test_frozen_graph.py.
"""

import os

import numpy as np
import tensorflow.compat.v1 as tf

tf.disable_v2_behavior()

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "data")


def main():
    rng = np.random.RandomState(13)

    def var(shape, name, scale=0.5):
        return tf.Variable(rng.normal(0.0, scale, shape).astype(np.float32), name=name)

    def positive(shape, name):
        return tf.Variable(rng.uniform(0.5, 1.5, shape).astype(np.float32), name=name)

    graph = tf.Graph()
    with graph.as_default():
        images = tf.placeholder(tf.float32, [1, 8, 8, 3], name="input")
        net = tf.nn.conv2d(images, var([3, 3, 3, 8], "conv1/weights"), [1, 2, 2, 1], "SAME",
                           name="conv1/Conv2D")
        net, _, _ = tf.nn.fused_batch_norm(
            net, positive([8], "conv1/gamma"), var([8], "conv1/beta", 0.1),
            mean=var([8], "conv1/moving_mean", 0.1),
            variance=positive([8], "conv1/moving_variance"), epsilon=1e-3,
            is_training=False, name="conv1/BatchNorm")
        net = tf.nn.relu6(net, name="conv1/Relu6")
        net = tf.nn.depthwise_conv2d_native(net, var([3, 3, 8, 1], "dw/depthwise_weights"),
                                            [1, 1, 1, 1], "SAME", name="dw/depthwise")
        net = tf.raw_ops.FusedBatchNorm(
            x=net, scale=positive([8], "dw/gamma"), offset=var([8], "dw/beta", 0.1),
            mean=var([8], "dw/moving_mean", 0.1), variance=positive([8], "dw/moving_variance"),
            epsilon=1e-3, is_training=False, name="dw/BatchNorm")[0]
        net = tf.nn.relu6(net, name="dw/Relu6")
        net = tf.nn.conv2d(net, var([1, 1, 8, 5], "logits/weights"), [1, 1, 1, 1], "SAME",
                           name="logits/Conv2D")
        net = tf.nn.bias_add(net, var([5], "logits/biases", 0.1), name="logits/BiasAdd")
        net = tf.nn.relu6(net, name="logits/Relu6")
        net = tf.nn.avg_pool(net, [1, 4, 4, 1], [1, 1, 1, 1], "VALID", name="pool/AvgPool")
        logits = tf.squeeze(net, [1, 2], name="logits/Squeeze")
        tf.nn.softmax(logits, name="output")
        with tf.Session(graph=graph) as sess:
            sess.run(tf.global_variables_initializer())
            frozen = tf.graph_util.convert_variables_to_constants(
                sess, graph.as_graph_def(), ["output"])
    image = rng.uniform(-1.0, 1.0, (1, 8, 8, 3)).astype(np.float32)
    with tf.Graph().as_default() as check:
        tf.import_graph_def(frozen, name="")
        with tf.Session(graph=check) as sess:
            output = sess.run("output:0", {"input:0": image})
    with open(os.path.join(OUT, "frozen_cnn.pb"), "wb") as f:
        f.write(frozen.SerializeToString(deterministic=True))
    np.save(os.path.join(OUT, "frozen_cnn_input.npy"), image)
    np.save(os.path.join(OUT, "frozen_cnn_output.npy"), output)
    print("op types:", sorted({node.op for node in frozen.node}))
    print("bytes:", len(frozen.SerializeToString()), "output:", output)


if __name__ == "__main__":
    main()
