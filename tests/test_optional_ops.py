"""The Optional ops (issue 16), on both executors: values, TF 2.21's errors (the
messages were checked against TF 2.21 with ``gen_optional_ops``), and the generic variant ops
``ZerosLike`` and ``AddN`` on Optionals, which gradients use."""

import numpy as np
import pytest

import sessionlib as tf
from sessionlib import errors
from sessionlib.ops import optional_ops as oo


def _run(fetches, feed=None):
    with tf.Session() as sess:
        return sess.run(fetches, feed)


def test_wrap_unwrap_and_has_value(executor):
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None])
        optional = oo.optional_from_value([x, tf.constant(3)])
        got = oo.optional_get_value(optional, [tf.float32, tf.int32], [[None], []])
        assert got[0].shape.as_list() == [None] and got[1].shape.as_list() == []
        values = _run(got + [oo.optional_has_value(optional),
                             oo.optional_has_value(oo.optional_none())], {x: [1.0, 2.0]})
    np.testing.assert_array_equal(values[0], np.array([1, 2], np.float32))
    assert values[1] == 3 and values[1].dtype == np.int32
    assert bool(values[2]) is True and bool(values[3]) is False


def test_a_fetched_component_is_the_users_to_change(executor):
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [2])
        (got,) = oo.optional_get_value(oo.optional_from_value([x]), [tf.float32], [[2]])
        value = _run(got, {x: np.ones(2, np.float32)})
    value += 1  # must not raise: fetches are writable
    np.testing.assert_array_equal(value, [2, 2])


@pytest.mark.parametrize("types,shapes,message", [
    ([tf.float32], [[2]], "The given optional has 2 components, expected 1"),
    ([tf.float32, tf.float32], [[2], []], "The given optional does not match the expected "
                                          "type for component 1. Expected: float. Actual: "
                                          "int32."),
    ([tf.float32, tf.int32], [[3], []], "The given optional does not match the expected shape "
                                        "for component 0. Expected: [3]. Actual: [2]."),
])
def test_get_value_checks_types_and_shapes(executor, types, shapes, message):
    with tf.Graph().as_default():
        optional = oo.optional_from_value([tf.constant([1.0, 2.0]), tf.constant(3)])
        got = oo.optional_get_value(optional, types, shapes)
        with pytest.raises(errors.InvalidArgumentError, match=message.replace(
                ".", r"\.").replace("[", r"\[").replace("]", r"\]")):
            _run(got)


def test_get_value_of_none_fails(executor):
    with tf.Graph().as_default():
        got = oo.optional_get_value(oo.optional_none(), [tf.float32], [[2]])
        with pytest.raises(errors.InvalidArgumentError,
                           match="The given optional does not have a value"):
            _run(got)


def test_zeros_like_and_add_n(executor):
    with tf.Graph().as_default():
        some = oo.optional_from_value([tf.constant([1.0, 2.0]), tf.constant(3)])
        none = oo.optional_none()

        def unwrap(optional):
            return oo.optional_get_value(optional, [tf.float32, tf.int32], [[2], []])

        zeros, summed = unwrap(tf.zeros_like(some)), unwrap(tf.add_n([some, some]))
        none_zeros = oo.optional_has_value(tf.zeros_like(none))
        none_sum = oo.optional_has_value(tf.add_n([none, none]))
        values = _run([zeros, summed, none_zeros, none_sum])
        np.testing.assert_array_equal(values[0][0], [0, 0])
        assert values[0][1] == 0
        np.testing.assert_array_equal(values[1][0], [2, 4])
        assert values[1][1] == 6
        assert not values[2] and not values[3]
        with pytest.raises(errors.InvalidArgumentError,
                           match="Cannot add optionals because one has a value and the other "
                                 "doesn't"):
            _run(oo.optional_has_value(tf.add_n([some, none])))


def test_graph_time_errors():
    with tf.Graph().as_default():
        with pytest.raises(TypeError):
            oo.optional_has_value(tf.constant(1.0))
        with pytest.raises(ValueError, match="output_types has 1 entries but output_shapes "
                                             "has 2"):
            oo.optional_get_value(oo.optional_none(), [tf.float32], [[], []])
