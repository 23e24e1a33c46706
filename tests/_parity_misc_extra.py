"""Parity cases (see test_parity.py) of the small extra ops: RandomGammaGrad and the linear
algebra extras (matrix square root, least squares)."""

import numpy as np

import sessionlib as tf


def _gamma_grads(f, d):
    graph = tf.get_default_graph()
    alpha = f((2, 1), d, positive=True, high=4)
    sample = f((2, 3), d, positive=True, high=6)
    return [graph.create_op("RandomGammaGrad", [alpha, sample]).outputs[0],
            graph.create_op("RandomGammaGrad", [f((4,), d, positive=True, high=3),
                                                f((4,), d, positive=True, high=3)]).outputs[0]]


def add_cases(case):
    """Adds this family's cases through test_parity's `case(op_type, dtypes, build)`."""
    case("RandomGammaGrad", (tf.float32, tf.float64), _gamma_grads)
