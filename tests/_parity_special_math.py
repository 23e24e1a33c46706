"""Parity cases (see test_parity.py) of the elementwise ops of special_math_ops: each unary op
on values inside its domain plus its edge values (poles, infinities, NaN), each binary op with
broadcasting both ways and a scalar."""

import numpy as np

import sessionlib as tf

FLOATS = (tf.float16, tf.float32, tf.float64)
DOUBLE_KERNELS = (tf.float32, tf.float64)
INTS = (tf.int8, tf.int16, tf.int32, tf.int64, tf.uint8)

# Values where these functions have poles, limits or special cases.
_EDGES = [0.0, -0.0, -1.0, -2.0, 1.0, -0.5, 0.5, 2.5, -2.5, 1e-3, 30.0, np.inf, -np.inf, np.nan]


def _op(op_type, *inputs):
    return tf.get_default_graph().create_op(op_type, list(inputs)).outputs[0]


def _unary(op_type, low=-3, high=3, edges=True):
    def build(f, d):
        outs = [_op(op_type, f((3, 4), d, low=low, high=high))]
        if edges and d.is_floating:
            outs.append(_op(op_type, tf.constant(np.array(_EDGES), dtype=d)))
        return outs

    return build


def _binary(op_type, **value_kwargs):
    def build(f, d):
        x, y, scalar = f((3, 4), d, **value_kwargs), f((4,), d, **value_kwargs), f((), d,
                                                                                  **value_kwargs)
        return [_op(op_type, x, y), _op(op_type, y, x), _op(op_type, x, scalar)]

    return build


def _x_times_f_of_y(op_type):
    # Zeros in x (where TF defines the result as 0 whatever y is) against y's NaN and poles.
    def build(f, d):
        x = tf.constant(np.array([0.0, 0.0, 0.0, 2.0, -1.5, 0.0]), dtype=d)
        y = tf.constant(np.array([0.0, np.nan, -1.0, 3.0, 0.5, np.inf]), dtype=d)
        return _binary(op_type, low=0, high=3, positive=True)(f, d) + [_op(op_type, x, y)]

    return build


def _zeta(f, d):
    x = f((3, 4), d, low=1, high=6, positive=True)
    q = f((4,), d, low=0, high=4, positive=True)
    edges_x = tf.constant(np.array([2.0, 3.0, 1.0, 0.5, 2.0, 2.0, 2.5, 4.0]), dtype=d)
    edges_q = tf.constant(np.array([1.0, 2.0, 1.0, 1.0, -1.5, 0.0, -1.5, 1e-3]), dtype=d)
    return [_op("Zeta", tf.constant(1.5, d) + x, q), _op("Zeta", edges_x, edges_q)]


def _polygamma(f, d):
    order = tf.constant(np.array([[0.0], [1.0], [2.0], [3.0]]), dtype=d)
    x = f((5,), d, low=-3, high=6)
    edges_n = tf.constant(np.array([1.5, -1.0, 1.0, 0.0, 4.0]), dtype=d)
    edges_x = tf.constant(np.array([2.0, 2.0, -1.5, -2.0, 0.25]), dtype=d)
    return [_op("Polygamma", order, x), _op("Polygamma", edges_n, edges_x)]


def _round(f, d):
    outs = [_op("Round", f((3, 4), d, low=-9, high=9))]
    if d.is_floating:
        halves = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, 0.49999997])
        outs.append(_op("Round", tf.constant(halves, dtype=d)))
    return outs


def _incomplete_gamma(op_type):
    def build(f, d):
        a = f((3, 4), d, low=0, high=12, positive=True)
        x = f((4,), d, low=0, high=15, positive=True)
        edges_a = tf.constant(np.array([0.5, 0.0, -1.0, 1.0, 1.0, 1.0, np.inf, 100.0, 3.0]), d)
        edges_x = tf.constant(np.array([0.3, 1.0, 1.0, 0.0, -1.0, np.inf, 1.0, 90.0, np.nan]),
                              d)
        return [_op(op_type, a, x), _op(op_type, edges_a, edges_x)]

    return build


def _betainc(f, d):
    a, b = f((3, 4), d, low=0, high=8, positive=True), f((3, 4), d, low=0, high=8, positive=True)
    x = f((3, 4), d, low=0, high=1, positive=True)
    edges = [tf.constant(np.array(v), d) for v in (
        [0.5, 0.0, -1.0, 2.0, 2.0, 50.0, 1e-3, 3.0], [0.5, 1.0, 1.0, 3.0, 3.0, 80.0, 1e-3, 2.0],
        [0.3, 0.5, 0.5, 1.0, 1.5, 0.4, 0.3, np.nan])]
    graph = tf.get_default_graph()
    return [graph.create_op("Betainc", [a, b, x]).outputs[0],
            graph.create_op("Betainc", [a, b, tf.constant(0.25, d)]).outputs[0],
            graph.create_op("Betainc", edges).outputs[0]]


def add_cases(case):
    """Adds this family's cases through test_parity's `case(op_type, dtypes, build)`."""
    for op_type in ("Atan", "Tan", "Sinh", "Cosh", "Asinh", "Expm1", "Floor", "Ceil", "Rint",
                    "Erf", "Erfc", "Lgamma", "Digamma", "IsNan", "IsInf", "IsFinite"):
        case(op_type, FLOATS, _unary(op_type))
    for op_type in ("Acos", "Asin", "Atanh"):
        case(op_type, FLOATS, _unary(op_type, low=-1, high=1))
    case("Acosh", FLOATS, _unary("Acosh", low=1, high=5))
    case("Erfinv", FLOATS, _unary("Erfinv", low=-1, high=1))
    for op_type in ("BesselI0", "BesselI0e", "BesselI1", "BesselI1e"):
        case(op_type, FLOATS, lambda f, d, op_type=op_type: _unary(op_type, low=-9, high=9)(
            f, d) + [_op(op_type, tf.constant([29.9, 30.1, -50.0, 700.0], d))])
    case("Ndtri", FLOATS, lambda f, d: _unary("Ndtri", low=0, high=1)(f, d) + [
        _op("Ndtri", tf.constant([1e-300, 1e-10, 0.025, 0.975, 1 - 1e-12], d))])
    case("Round", FLOATS + (tf.int8, tf.int16, tf.int32, tf.int64), _round)
    case("Atan2", FLOATS, _binary("Atan2"))
    case("TruncateDiv", FLOATS + INTS, _binary("TruncateDiv", nonzero=True))
    case("TruncateMod", (tf.int32, tf.int64, tf.float32, tf.float64),
         _binary("TruncateMod", nonzero=True))
    for op_type in ("Xlogy", "Xlog1py", "Xdivy"):
        case(op_type, FLOATS, _x_times_f_of_y(op_type))
    case("NextAfter", DOUBLE_KERNELS, _binary("NextAfter"))
    case("MulNoNan", FLOATS, lambda f, d: _binary("MulNoNan")(f, d) + [_op(
        "MulNoNan", tf.constant(np.array([np.inf, np.nan, 2.0]), dtype=d),
        tf.constant(np.array([0.0, 0.0, 3.0]), dtype=d))])
    case("Zeta", DOUBLE_KERNELS, _zeta)
    case("Polygamma", DOUBLE_KERNELS, _polygamma)
    case("Igamma", DOUBLE_KERNELS, _incomplete_gamma("Igamma"))
    case("Igammac", DOUBLE_KERNELS, _incomplete_gamma("Igammac"))
    case("Betainc", DOUBLE_KERNELS, _betainc)
