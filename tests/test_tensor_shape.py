"""`TensorShape`: known, partly known and unknown shapes, with TF's compatibility rules."""

import pickle

import pytest

import sessionlib as tf
from sessionlib.framework.tensor_shape import as_shape, scalar, unknown_shape


def test_partly_known_shape():
    shape = tf.TensorShape([1, None, 3])
    assert shape.rank == shape.ndims == 3
    assert shape.dims == [1, None, 3]
    assert shape.as_list() == [1, None, 3]
    assert not shape.is_fully_defined()
    assert shape.num_elements() is None
    assert str(shape) == "(1, None, 3)"
    assert repr(shape) == "TensorShape([1, None, 3])"
    assert shape[1] is None and shape[-1] == 3
    assert shape[0:2] == tf.TensorShape([1, None])
    assert shape[::-1].as_list() == [3, None, 1]
    assert len(shape) == 3
    assert list(shape) == [1, None, 3]


def test_unknown_shape():
    shape = tf.TensorShape(None)
    assert shape.rank is None and shape.dims is None
    assert str(shape) == "<unknown>"
    assert repr(shape) == "TensorShape(None)"
    assert not shape.is_fully_defined()
    assert shape.num_elements() is None
    assert shape[0] is None
    assert shape[1:].rank is None
    assert not bool(shape)
    with pytest.raises(ValueError):
        shape.as_list()
    with pytest.raises(ValueError):
        len(shape)


def test_scalar_and_fully_defined():
    assert str(tf.TensorShape([])) == "()"
    assert tf.TensorShape([]).num_elements() == 1
    assert scalar() == tf.TensorShape([])
    assert bool(tf.TensorShape([])) and bool(tf.TensorShape([0]))
    assert tf.TensorShape([2, 3]).num_elements() == 6
    assert tf.TensorShape([2, 0]).num_elements() == 0
    assert str(tf.TensorShape([5])) == "(5,)"
    assert tf.TensorShape(3).as_list() == [3]
    assert unknown_shape(2).as_list() == [None, None]


def test_equality_and_hash():
    assert tf.TensorShape([None]) == tf.TensorShape([None])
    assert tf.TensorShape(None) == tf.TensorShape(None)
    assert tf.TensorShape([1]) == [1]
    assert tf.TensorShape([1]) != [2]
    assert tf.TensorShape([1]) != tf.TensorShape(None)
    assert hash(tf.TensorShape([1, 2])) == hash(tf.TensorShape([1, 2]))


def test_compatibility():
    assert tf.TensorShape([1, 2]).is_compatible_with(tf.TensorShape(None))
    assert not tf.TensorShape([1, 2]).is_compatible_with([1])
    assert tf.TensorShape([None]).is_compatible_with([5])
    assert not tf.TensorShape([4]).is_compatible_with([5])
    tf.TensorShape([None, 2]).assert_is_compatible_with([3, 2])
    with pytest.raises(ValueError):
        tf.TensorShape([1, 2]).assert_is_compatible_with([1, 3])


def test_merge_with():
    merged = tf.TensorShape([1, None, None]).merge_with([None, 2, None])
    assert merged.as_list() == [1, 2, None]
    assert tf.TensorShape(None).merge_with([1]).as_list() == [1]
    assert tf.TensorShape([1]).merge_with(None).as_list() == [1]
    with pytest.raises(ValueError, match="not compatible"):
        tf.TensorShape([1, 2]).merge_with([1, 3])


def test_concatenate_and_add():
    assert tf.TensorShape([1]).concatenate([2, None]).as_list() == [1, 2, None]
    assert tf.TensorShape([1]).concatenate(None).rank is None
    assert (tf.TensorShape([1]) + tf.TensorShape([2])).as_list() == [1, 2]
    assert ([0] + tf.TensorShape([2])).as_list() == [0, 2]


def test_rank_checks():
    assert tf.TensorShape(None).with_rank(2).as_list() == [None, None]
    assert tf.TensorShape([1, 2]).with_rank(2).as_list() == [1, 2]
    assert tf.TensorShape([1, 2]).with_rank_at_least(1).as_list() == [1, 2]
    assert tf.TensorShape([1, 2]).with_rank_at_most(2).as_list() == [1, 2]
    with pytest.raises(ValueError):
        tf.TensorShape([1, 2]).with_rank(3)
    with pytest.raises(ValueError):
        tf.TensorShape([1, 2]).with_rank_at_least(3)
    with pytest.raises(ValueError):
        tf.TensorShape([1, 2]).with_rank_at_most(1)
    with pytest.raises(ValueError, match="same rank"):
        tf.TensorShape([1, 2]).assert_same_rank([3])
    tf.TensorShape([1, 2]).assert_same_rank(None)
    tf.TensorShape([1, 2]).assert_has_rank(2)
    with pytest.raises(ValueError):
        tf.TensorShape([1, 2]).assert_has_rank(1)
    tf.TensorShape([1, 2]).assert_is_fully_defined()
    with pytest.raises(ValueError):
        tf.TensorShape([1, None]).assert_is_fully_defined()


def test_most_specific_compatible_shape():
    assert tf.TensorShape([1, 2]).most_specific_compatible_shape([1, 3]).as_list() == [1, None]
    assert tf.TensorShape([1, 2]).most_specific_compatible_shape([1]).rank is None


@pytest.mark.parametrize("bad, error", [([-1], ValueError), ([1.5], TypeError),
                                        ("ab", TypeError), ([object()], TypeError)])
def test_invalid_dimensions(bad, error):
    with pytest.raises(error):
        tf.TensorShape(bad)


def test_proto_round_trip():
    for dims in ([1, None], [], None, [0, 7]):
        shape = tf.TensorShape(dims)
        proto = shape.as_proto()
        assert tf.TensorShape(proto) == shape
    proto = tf.TensorShape([1, None]).as_proto()
    assert [d.size for d in proto.dim] == [1, -1]
    assert tf.TensorShape(None).as_proto().unknown_rank


def test_as_shape_and_pickle():
    shape = tf.TensorShape([2, None])
    assert as_shape(shape) is shape
    assert as_shape([2, None]) == shape
    assert pickle.loads(pickle.dumps(shape)) == shape
    assert tf.TensorShape(shape) == shape


def _shape_proto(*sizes):
    proto = tf.TensorShapeProto()
    for size in sizes:
        proto.dim.add(size=size)
    return proto


def test_proto_size_minus_one_is_unknown_and_below_it_an_error():
    assert tf.TensorShape(_shape_proto(-1, 3)).as_list() == [None, 3]
    for size in (-2, -5, -(2 ** 62)):
        with pytest.raises(ValueError, match=f"Dimension {size} must be >= 0"):
            tf.TensorShape(_shape_proto(2, size))


def test_placeholder_shape_below_minus_one_is_a_value_error():
    with pytest.raises(ValueError, match="Dimension -5"):
        tf.placeholder(tf.float32, shape=_shape_proto(-5, 3))
    with pytest.raises(ValueError, match="Dimension -5"):
        tf.placeholder(tf.float32, shape=[-5, 3])
    assert tf.placeholder(tf.float32, shape=_shape_proto(-1, 3)).shape.as_list() == [None, 3]
