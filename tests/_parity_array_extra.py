"""Parity cases (see test_parity.py) of TF 1's remaining array ops
(``sessionlib/ops/array_extra_ops.py``): every dtype each op takes, fed as read-only arrays
through placeholders of unknown shape."""

import sessionlib as tf

FLOATS = (tf.float16, tf.float32, tf.float64)
INTS = (tf.int8, tf.int16, tf.int32, tf.int64, tf.uint8)
NUMERIC = FLOATS + INTS
ALL = NUMERIC + (tf.bool,)
WITH_STRINGS = ALL + (tf.string,)
INDEX = (tf.int32, tf.int64)


def _op(op_type, inputs, attrs=None):
    return list(tf.get_default_graph().create_op(op_type, inputs, attrs).outputs)


def _index(values, dtype=tf.int32):
    return tf.constant(values, dtype)


def _unique(f, d):
    values = f((9,), d, low=-2, high=3)
    return (_op("Unique", [values]) + _op("Unique", [values], {"out_idx": tf.int64})
            + _op("Unique", [f((0,), d)]))


def _scatter(kind):
    def build(f, d):
        tensor = f((4, 3), d, low=-3, high=4)
        return (_op(f"TensorScatter{kind}", [tensor, _index([[1], [3], [1]]),
                                             f((3, 3), d, low=-3, high=4)])
                + _op(f"TensorScatter{kind}", [tensor, _index([[0, 2], [2, 1]], tf.int64),
                                               f((2,), d, low=-3, high=4)]))

    return build


def _space_batch(f, d):
    value = f((2, 4, 6, 3), d)
    to_batch = _op("SpaceToBatchND", [value, _index([2, 3]), _index([[1, 1], [0, 0]])])
    to_batch_1d = _op("SpaceToBatchND", [f((2, 5, 2), d), _index([3], tf.int64),
                                         _index([[1, 0]], tf.int64)])
    return to_batch + to_batch_1d


def _batch_space(f, d):
    return (_op("BatchToSpaceND", [f((12, 3, 2, 2), d), _index([2, 3]),
                                   _index([[1, 0], [2, 1]])])
            + _op("BatchToSpaceND", [f((4, 3, 2), d), _index([4]), _index([[0, 0]])]))


def _extract_patches(f, d):
    images = f((2, 5, 6, 2), d)
    return [tf.extract_image_patches(images, [1, 2, 3, 1], [1, 2, 1, 1], [1, 1, 1, 1],
                                     "VALID"),
            tf.extract_image_patches(images, [1, 3, 2, 1], [1, 2, 3, 1], [1, 2, 1, 1],
                                     "SAME")]


def _edit_distance(f, d):
    hypothesis = tf.SparseTensor(tf.constant([[0, 0, 0], [1, 0, 0], [1, 0, 1], [2, 1, 0]],
                                             tf.int64), f((4,), d, low=0, high=3),
                                 tf.constant([3, 2, 2], tf.int64))
    truth = tf.SparseTensor(tf.constant([[0, 1, 0], [1, 0, 0], [1, 0, 1], [1, 0, 2],
                                         [2, 1, 0]], tf.int64), f((5,), d, low=0, high=3),
                            tf.constant([3, 2, 3], tf.int64))
    return [tf.edit_distance(hypothesis, truth), tf.edit_distance(hypothesis, truth, False)]


def add_cases(case):
    """Adds this family's cases through test_parity's `case(op_type, dtypes, build)`."""
    case("Unique", WITH_STRINGS, _unique)
    case("UniqueWithCounts", WITH_STRINGS, lambda f, d: _op(
        "UniqueWithCounts", [f((9,), d, low=-2, high=3)], {"out_idx": tf.int64}))
    case("ListDiff", NUMERIC + (tf.string,), lambda f, d: _op(
        "ListDiff", [f((8,), d, low=-2, high=3), f((3,), d, low=-2, high=3)]))
    case("ReverseSequence", WITH_STRINGS, lambda f, d: _op(
        "ReverseSequence", [f((2, 4, 3), d), _index([1, 4, 0], tf.int64)],
        {"seq_dim": 1, "batch_dim": 2}) + _op(
        "ReverseSequence", [f((3, 4), d), _index([2, 0, 3])], {"seq_dim": 1}))
    case("BroadcastTo", WITH_STRINGS, lambda f, d: _op(
        "BroadcastTo", [f((3, 1), d), _index([2, 3, 4])]))
    case("BroadcastArgs", INDEX, lambda f, d: _op(
        "BroadcastArgs", [tf.constant([2, 1, 3], d), tf.constant([4, 1], d)]))
    case("Roll", WITH_STRINGS, lambda f, d: _op(
        "Roll", [f((3, 4), d), _index([1, -5, 2]), _index([0, 1, 1])]) + _op(
        "Roll", [f((5,), d), _index(7, tf.int64), _index(0, tf.int64)]))
    case("LinSpace", FLOATS, lambda f, d: _op(
        "LinSpace", [f((), d), f((), d), _index(7)]) + _op(
        "LinSpace", [f((), d), f((), d), _index(1, tf.int64)]))
    case("SpaceToDepth", WITH_STRINGS, lambda f, d: [
        tf.space_to_depth(f((2, 4, 6, 3), d), 2),
        tf.space_to_depth(f((1, 3, 6, 3), d), 3, data_format="NCHW")])
    case("DepthToSpace", WITH_STRINGS, lambda f, d: [
        tf.depth_to_space(f((2, 2, 3, 8), d), 2),
        tf.depth_to_space(f((1, 9, 2, 1), d), 3, data_format="NCHW")])
    case("SpaceToBatchND", WITH_STRINGS, _space_batch)
    case("BatchToSpaceND", WITH_STRINGS, _batch_space)
    case("Diag", NUMERIC, lambda f, d: [tf.diag(f((2, 3), d)), tf.diag(f((4,), d))])
    case("DiagPart", WITH_STRINGS, lambda f, d: [
        tf.diag_part(f((2, 3, 2, 3), d)), tf.diag_part(f((4, 4), d))])
    case("LowerBound", NUMERIC, lambda f, d: _op(
        "LowerBound", [tf.sort(f((2, 5), d, low=-3, high=4)), f((2, 6), d, low=-4, high=5)],
        {"out_type": tf.int64}))
    case("UpperBound", NUMERIC, lambda f, d: _op(
        "UpperBound", [tf.sort(f((2, 5), d, low=-3, high=4)), f((2, 6), d, low=-4, high=5)]))
    case("UnravelIndex", INDEX, lambda f, d: _op(
        "UnravelIndex", [f((5,), d, low=0, high=24), tf.constant([2, 3, 4], d)]) + _op(
        "UnravelIndex", [f((), d, low=0, high=6), tf.constant([3, 2], d)]))
    for kind in ("Update", "Add", "Sub"):
        case(f"TensorScatter{kind}", NUMERIC if kind != "Update" else WITH_STRINGS,
             _scatter(kind))
    for kind in ("Max", "Min"):
        case(f"TensorScatter{kind}", NUMERIC, _scatter(kind))
    case("ShapeN", WITH_STRINGS, lambda f, d: tf.shape_n([f((2, 3), d), f((), d),
                                                          f((0, 4, 1), d)]))
    case("ParallelConcat", WITH_STRINGS, lambda f, d: [
        tf.parallel_stack([tf.ensure_shape(f((2, 3), d), [2, 3]),
                           tf.ensure_shape(f((2, 3), d), [2, 3])])])
    case("EnsureShape", WITH_STRINGS, lambda f, d: [tf.ensure_shape(f((2, 3), d), [2, None])])
    case("HistogramFixedWidth", (tf.int32, tf.int64, tf.float32, tf.float64), lambda f, d: [
        tf.histogram_fixed_width(f((20,), d, low=-7, high=8), tf.constant([-5, 5], d), 4),
        tf.histogram_fixed_width(f((3, 4), d), tf.constant([0, 3], d), 7, dtype=tf.int64)])
    case("ExtractImagePatches", NUMERIC, _extract_patches)
    case("Bitcast", (tf.float16, tf.float32, tf.float64, tf.int8, tf.int16, tf.int32,
                     tf.int64, tf.uint8), lambda f, d: [
        tf.bitcast(f((3,), d), tf.uint8), tf.bitcast(f((2, 4), d), tf.int8)])
    case("EditDistance", WITH_STRINGS, _edit_distance)
    case("SpaceToBatch", WITH_STRINGS, lambda f, d: _op(
        "SpaceToBatch", [f((2, 4, 2, 3), d), _index([[0, 0], [1, 1]])], {"block_size": 2}))
    case("BatchToSpace", WITH_STRINGS, lambda f, d: _op(
        "BatchToSpace", [f((9, 2, 2, 1), d), _index([[1, 0], [0, 2]], tf.int64)],
        {"block_size": 3}))
