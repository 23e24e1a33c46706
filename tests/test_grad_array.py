"""Numeric gradient checks of the array ops: reshapes, transposes, joins and splits, slices,
gathers (IndexedSlices), tiles, fills and selects."""

import numpy as np
import pytest

import sessionlib as tf
from _gradient_check import GradCase, case_ids, check_case

_rng = np.random.RandomState(5)


def _values(*shape):
    return _rng.uniform(-2.0, 2.0, size=shape)


def _dynamic(x):
    return tf.placeholder_with_default(x, shape=None)


GRADIENT_CASES = [
    GradCase("PlaceholderWithDefault", lambda x: tf.placeholder_with_default(x, [2, None]),
             [_values(2, 3)]),
    GradCase("Reshape", lambda x: tf.reshape(x, [3, -1]), [_values(2, 3)]),
    GradCase("Reshape", lambda x: tf.reshape(_dynamic(x), [-1]), [_values(2, 3)],
             id="Reshape-dynamic"),
    GradCase("ExpandDims", lambda x: tf.expand_dims(x, 1), [_values(2, 3)]),
    GradCase("Squeeze", lambda x: tf.squeeze(x), [_values(2, 1, 3)]),
    GradCase("Squeeze", lambda x: tf.squeeze(_dynamic(x), [1]), [_values(2, 1, 3)],
             id="Squeeze-dynamic"),
    GradCase("Transpose", lambda x: tf.transpose(x, [1, 2, 0]), [_values(2, 3, 4)]),
    GradCase("Transpose", lambda x: tf.transpose(_dynamic(x)), [_values(2, 3, 4)],
             id="Transpose-dynamic"),
    GradCase("Tile", lambda x: tf.tile(x, [2, 3]), [_values(2, 3)]),
    GradCase("Tile", lambda x: tf.tile(_dynamic(x), tf.placeholder_with_default(
        np.array([1, 2], np.int32), [None])), [_values(2, 3)], id="Tile-dynamic"),
    GradCase("ConcatV2", lambda x, y: tf.concat([x, y, x], 1), [_values(2, 3), _values(2, 1)]),
    GradCase("ConcatV2", lambda x, y: tf.concat([_dynamic(x), y], -2),
             [_values(2, 3), _values(1, 3)], id="ConcatV2-dynamic"),
    GradCase("ConcatV2", lambda x, y: tf.concat(
        [x, y], tf.placeholder_with_default(np.int32(-1), [])), [_values(2, 3), _values(2, 2)],
        id="ConcatV2-dynamic-axis"),
    GradCase("Pack", lambda x, y: tf.stack([x, y], axis=1), [_values(2, 3), _values(2, 3)]),
    GradCase("Unpack", lambda x: tf.unstack(x, axis=1), [_values(2, 3)]),
    GradCase("Unpack", lambda x: tf.unstack(x)[1], [_values(3, 2)], id="Unpack-one-output"),
    GradCase("Split", lambda x: tf.split(x, 3, axis=1), [_values(2, 6)]),
    GradCase("Split", lambda x: tf.split(x, 2)[0], [_values(4, 2)], id="Split-one-output"),
    GradCase("SplitV", lambda x: tf.split(x, [1, -1, 2], axis=1), [_values(2, 6)]),
    GradCase("Slice", lambda x: tf.slice(x, [1, 0], [-1, 2]), [_values(3, 4)]),
    GradCase("Slice", lambda x: tf.slice(_dynamic(x), tf.placeholder_with_default(
        np.array([0, 1], np.int32), [2]), [2, 2]), [_values(3, 4)], id="Slice-dynamic"),
    GradCase("StridedSlice", lambda x: x[1:, ::-2], [_values(3, 4)]),
    GradCase("StridedSlice", lambda x: x[0, ..., None, 1], [_values(2, 3, 4)],
             id="StridedSlice-index-newaxis"),
    GradCase("StridedSlice", lambda x: _dynamic(x)[:, 1:3], [_values(3, 4)],
             id="StridedSlice-dynamic"),
    GradCase("StridedSliceGrad", lambda dy: tf.get_default_graph().create_op(
        "StridedSliceGrad", [tf.constant([3, 4]), tf.constant([1, 0]), tf.constant([3, 4]),
                             tf.constant([1, 2]), dy]).outputs[0], [_values(2, 2)]),
    GradCase("GatherV2", lambda p: tf.gather(p, [2, 0, 2]), [_values(3, 2)]),
    GradCase("GatherV2", lambda p: tf.gather(p, [[1, 0], [1, 1]]), [_values(3, 2)],
             id="GatherV2-2d-indices"),
    GradCase("GatherV2", lambda p: tf.gather(_dynamic(p), [1, 1]), [_values(3, 2)],
             id="GatherV2-dynamic"),
    GradCase("GatherV2", lambda p: tf.gather(p, [[2], [0]], axis=1), [_values(2, 3, 2)],
             id="GatherV2-axis1"),
    GradCase("Fill", lambda v: tf.fill([2, 3], v), [np.array(1.5)]),
    GradCase("Select", lambda x, y: tf.where(tf.constant([[True, False], [False, True]]), x, y),
             [_values(2, 2), _values(2, 2)]),
    GradCase("Select", lambda x, y: tf.where(tf.constant([True, False]), x, y),
             [_values(2, 3), _values(2, 3)], id="Select-vector-condition"),
    GradCase("SelectV2", lambda x, y: tf.get_default_graph().create_op(
        "SelectV2", [tf.constant([[True], [False]]), x, y]).outputs[0],
        [_values(3), _values(2, 3)]),
    GradCase("ClipByValue", lambda x, lo, hi: tf.clip_by_value(x, lo, hi),
             [np.array([[-2.0, -0.2, 0.3], [1.7, 0.9, -0.6]]), np.array(-0.5),
              np.array([1.0, 0.5, 2.0])]),
    GradCase("UnsortedSegmentSum", lambda x: tf.unsorted_segment_sum(
        x, tf.constant([2, 0, 2, 5, -1]), 3), [_values(5, 2)]),
    GradCase("UnsortedSegmentSum", lambda x: tf.unsorted_segment_sum(
        x, tf.constant([[1, 0], [1, 1]]), 2), [_values(2, 2, 3)], id="UnsortedSegmentSum-2d"),
]


@pytest.mark.parametrize("case", GRADIENT_CASES, ids=case_ids(GRADIENT_CASES))
def test_numeric_gradient(case):
    check_case(case)


def _run(fetches, feeds=None):
    with tf.Session() as sess:
        return sess.run(fetches, feeds)


def test_gather_gradient_is_indexed_slices():
    with tf.Graph().as_default():
        params = tf.constant(np.arange(8.0).reshape(4, 2))
        (grad,) = tf.gradients(tf.reduce_sum(tf.gather(params, [3, 1, 3]) * 2.0), params)
        assert isinstance(grad, tf.IndexedSlices)
        value = _run(grad)
        assert isinstance(value, tf.IndexedSlicesValue)
        np.testing.assert_array_equal(value.indices, [3, 1, 3])
        np.testing.assert_array_equal(value.values, np.full((3, 2), 2.0))
        np.testing.assert_array_equal(value.dense_shape, [4, 2])
        dense = _run(tf.convert_to_tensor(grad))
        np.testing.assert_array_equal(dense, [[0, 0], [2, 2], [0, 0], [4, 4]])


def test_unsorted_segment_sum_values_and_errors():
    with tf.Graph().as_default():
        data = tf.constant([[1, 2], [3, 4], [5, 6]])
        out = tf.unsorted_segment_sum(data, tf.constant([1, 1, 3]), 4)
        assert out.shape.as_list() == [4, 2]
        np.testing.assert_array_equal(_run(out), [[0, 0], [4, 6], [0, 0], [5, 6]])
        with pytest.raises(ValueError):
            tf.unsorted_segment_sum(data, tf.constant([1, 1]), 2)
        ids = tf.placeholder(tf.int32, [None])
        bad = tf.unsorted_segment_sum(data, ids, 2)
        with pytest.raises(tf.errors.InvalidArgumentError):
            _run(bad, {ids: [0, 1]})
