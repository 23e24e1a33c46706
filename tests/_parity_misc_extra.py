"""Parity cases (see test_parity.py) of the small extra ops: RandomGammaGrad and the linear
algebra extras (matrix square root, least squares) and ExtractVolumePatches."""

import numpy as np

import sessionlib as tf


def _gamma_grads(f, d):
    graph = tf.get_default_graph()
    alpha = f((2, 1), d, positive=True, high=4)
    sample = f((2, 3), d, positive=True, high=6)
    return [graph.create_op("RandomGammaGrad", [alpha, sample]).outputs[0],
            graph.create_op("RandomGammaGrad", [f((4,), d, positive=True, high=3),
                                                f((4,), d, positive=True, high=3)]).outputs[0]]


def _square_roots(f, d):
    # x x^T + 3 I: symmetric positive definite, so a real principal root exists.
    x = tf.reshape(f((2, 3, 3), d, low=-1, high=1), (2, 3, 3))
    spd = tf.matmul(x, x, transpose_b=True) + tf.constant(3 * np.eye(3), dtype=d)
    return [tf.linalg.sqrtm(spd), tf.linalg.sqrtm(f((2, 2), d, positive=True, high=1) + 4 *
                                                  tf.constant(np.eye(2), dtype=d))]


def _least_squares(f, d):
    graph = tf.get_default_graph()
    regularizer = tf.constant(0.25, tf.float64)
    outs = []
    for shape, rhs_shape, fast in (((4, 3), (4, 2), True), ((2, 3, 4), (2, 3, 1), True),
                                   ((5, 2), (5, 3), False)):
        outs.append(graph.create_op("MatrixSolveLs",
                                    [f(shape, d, low=-1, high=1), f(rhs_shape, d),
                                     regularizer], {"fast": fast}).outputs[0])
    return outs


def _volume_patches(f, d):
    x = f((2, 3, 4, 5, 2), d)
    return [tf.extract_volume_patches(x, [1, 2, 2, 3, 1], [1, 1, 2, 2, 1], "VALID"),
            tf.extract_volume_patches(x, [1, 2, 3, 2, 1], [1, 2, 1, 3, 1], "SAME")]


_REAL = (tf.float16, tf.float32, tf.float64, tf.int8, tf.int16, tf.int32, tf.int64, tf.uint8)


def add_cases(case):
    """Adds this family's cases through test_parity's `case(op_type, dtypes, build)`."""
    case("RandomGammaGrad", (tf.float32, tf.float64), _gamma_grads)
    case("MatrixSquareRoot", (tf.float32, tf.float64), _square_roots)
    case("MatrixSolveLs", (tf.float32, tf.float64), _least_squares)
    case("ExtractVolumePatches", _REAL, _volume_patches)
