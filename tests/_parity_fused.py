"""Parity cases (see test_parity.py) of the fused contractions ``_FusedMatMul`` and
``_FusedConv2D``: every supported fusion (BiasAdd alone and with each activation), transposed
operands, both conv layouts, and a product large enough for the epilogue's threads. Inputs are
read-only feeds (test_parity's `_Feeds`)."""

import sessionlib as tf
from sessionlib.ops.nn_fused_ops import ACTIVATIONS

FLOATS = (tf.float16, tf.float32, tf.float64)
_FUSIONS = [("BiasAdd",)] + [("BiasAdd", activation) for activation in ACTIVATIONS]


def _fused_matmul(feeds, dtype):
    graph = tf.get_default_graph()
    outs = []
    for index, fused_ops in enumerate(_FUSIONS):
        transpose_a, transpose_b = index % 2 == 1, index % 3 == 1
        a = feeds((4, 3) if transpose_a else (3, 4), dtype, low=-2, high=2)
        b = feeds((5, 4) if transpose_b else (4, 5), dtype, low=-2, high=2)
        bias = feeds((5,), dtype, low=-2, high=2)
        outs.append(graph.create_op("_FusedMatMul", [a, b, bias], {
            "fused_ops": fused_ops, "transpose_a": transpose_a, "transpose_b": transpose_b,
            "leakyrelu_alpha": 0.3}).outputs[0])
    # Above the epilogue's parallel thresholds: 300 x 256 outputs for Sigmoid, 1100 x 1024 for
    # the memory-bound Relu.
    for rows, columns, fused_ops in ((300, 256, ("BiasAdd", "Sigmoid")),
                                     (1100, 1024, ("BiasAdd", "Relu"))):
        a = feeds((rows, 16), dtype, low=-1, high=1)
        b = feeds((16, columns), dtype, low=-1, high=1)
        bias = feeds((columns,), dtype, low=-1, high=1)
        outs.append(graph.create_op("_FusedMatMul", [a, b, bias],
                                    {"fused_ops": fused_ops}).outputs[0])
    return outs


def _fused_conv2d(feeds, dtype):
    graph = tf.get_default_graph()
    outs = []
    for index, fused_ops in enumerate(_FUSIONS):
        nchw = index % 2 == 1
        x = feeds((2, 3, 7, 6) if nchw else (2, 7, 6, 3), dtype, low=-2, high=2)
        w = feeds((3, 2, 3, 4), dtype, low=-1, high=1)
        bias = feeds((4,), dtype, low=-2, high=2)
        outs.append(graph.create_op("_FusedConv2D", [x, w, bias], {
            "fused_ops": fused_ops, "strides": [1, 1, 2, 1] if nchw else [1, 2, 1, 1],
            "padding": "SAME" if index % 3 else "VALID",
            "data_format": "NCHW" if nchw else "NHWC"}).outputs[0])
    return outs


def add_cases(case):
    """Adds this family's cases through test_parity's `case(op_type, dtypes, build)`."""
    case("_FusedMatMul", FLOATS, _fused_matmul)
    case("_FusedConv2D", FLOATS, _fused_conv2d)
