"""Parity cases (see test_parity.py) of the model array ops of issue 11: every dtype each op
takes, fed as read-only arrays through placeholders of unknown shape."""

import sessionlib as tf

FLOATS = (tf.float16, tf.float32, tf.float64)
INTS = (tf.int8, tf.int16, tf.int32, tf.int64, tf.uint8)
NUMERIC = FLOATS + INTS
ALL = NUMERIC + (tf.bool,)
WITH_STRINGS = ALL + (tf.string,)


def _op(op_type, inputs, attrs=None):
    return list(tf.get_default_graph().create_op(op_type, inputs, attrs).outputs)


def _one_hot(f, d):
    indices = f((2, 3), tf.int32, low=-1, high=4)
    on, off = f((), d), f((), d)
    return [tf.one_hot(indices, 4, on, off), tf.one_hot(indices, 3, on, off, axis=0),
            tf.one_hot(f((4,), tf.int64, low=0, high=3), 3, on, off, axis=1)]


def _mirror_pad_grad(f, d):
    paddings = tf.constant([[1, 2], [0, 3]])
    return (_op("MirrorPadGrad", [f((6, 7), d), paddings], {"mode": "REFLECT"})
            + _op("MirrorPadGrad", [f((5, 7), d), paddings], {"mode": "SYMMETRIC"}))


def _dynamic_stitch(f, d):
    first = tf.constant([[0, 4], [2, 5]])
    second = tf.constant([1, 2])
    return [tf.dynamic_stitch([first, second], [f((2, 2, 3), d), f((2, 3), d)])]


def add_cases(case):
    """Adds this family's cases through test_parity's `case(op_type, dtypes, build)`."""
    case("OneHot", ALL, _one_hot)
    case("Pad", WITH_STRINGS, lambda f, d: [tf.pad(f((2, 3), d), [[1, 0], [2, 1]])])
    case("PadV2", WITH_STRINGS, lambda f, d: [
        tf.pad(f((2, 3), d), [[0, 2], [1, 1]], constant_values=f((), d))])
    case("MirrorPad", WITH_STRINGS, lambda f, d: [
        tf.pad(f((3, 4), d), [[2, 1], [3, 0]], "REFLECT"),
        tf.pad(f((3, 4), d), [[3, 1], [0, 4]], "SYMMETRIC")])
    case("MirrorPadGrad", NUMERIC, _mirror_pad_grad)
    case("ReverseV2", WITH_STRINGS, lambda f, d: [
        tf.reverse(f((2, 3, 4), d), [0, -1]), tf.reverse(f((3,), d), [])])
    case("Cumsum", NUMERIC, lambda f, d: [
        tf.cumsum(f((3, 4), d, low=-3, high=4), 1),
        tf.cumsum(f((3, 4), d, low=-3, high=4), 0, exclusive=True, reverse=True)])
    case("GatherNd", WITH_STRINGS, lambda f, d: [
        tf.gather_nd(f((3, 4), d), [[2, 1], [0, 3]]),
        tf.gather_nd(f((3, 4), d), [[[1]], [[2]]])])
    case("ScatterNd", NUMERIC, lambda f, d: [
        tf.scatter_nd([[1, 2], [0, 0], [1, 2]], f((3,), d, low=-3, high=4), [2, 3]),
        tf.scatter_nd([[2], [0]], f((2, 3), d, low=-3, high=4), [4, 3])])
    case("SegmentSum", NUMERIC, lambda f, d: [
        tf.segment_sum(f((5, 2), d, low=-3, high=4), [0, 0, 1, 3, 3])])
    case("DynamicPartition", WITH_STRINGS, lambda f, d: tf.dynamic_partition(
        f((5, 2), d), [2, 0, 2, 1, 0], 3))
    case("DynamicStitch", WITH_STRINGS, _dynamic_stitch)
