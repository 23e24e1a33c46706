"""Parity cases (see test_parity.py) of Dilation2D and its backprop ops: strides, rates and
both paddings, on every dtype each op takes."""

import sessionlib as tf

REAL = (tf.float16, tf.float32, tf.float64, tf.int8, tf.int16, tf.int32, tf.int64, tf.uint8)
# (strides, rates, padding, output shape for the (2, 6, 5, 2) input and (3, 2, 2) filter).
WINDOWS = (([1, 1, 1, 1], [1, 1, 1, 1], "SAME", (2, 6, 5, 2)),
           ([1, 2, 1, 1], [1, 1, 2, 1], "VALID", (2, 2, 3, 2)),
           ([1, 2, 3, 1], [1, 2, 1, 1], "SAME", (2, 3, 2, 2)))


def _op(op_type, inputs, strides, rates, padding):
    return tf.get_default_graph().create_op(
        op_type, inputs, {"strides": strides, "rates": rates, "padding": padding}).outputs[0]


def _dilation(f, d):
    images, kernel = f((2, 6, 5, 2), d), f((3, 2, 2), d)
    return [_op("Dilation2D", [images, kernel], *window[:3]) for window in WINDOWS]


def _backprop(op_type):
    def build(f, d):
        images, kernel = f((2, 6, 5, 2), d), f((3, 2, 2), d)
        outputs = []
        for strides, rates, padding, shape in WINDOWS:
            outputs.append(_op(op_type, [images, kernel, f(shape, d)], strides, rates, padding))
        return outputs

    return build


def add_cases(case):
    """Adds this family's cases through test_parity's `case(op_type, dtypes, build)`."""
    case("Dilation2D", REAL, _dilation)
    case("Dilation2DBackpropInput", REAL, _backprop("Dilation2DBackpropInput"))
    case("Dilation2DBackpropFilter", REAL, _backprop("Dilation2DBackpropFilter"))
