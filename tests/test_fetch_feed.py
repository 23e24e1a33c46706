"""Fetch and feed mapping of `Session.run`: every structure, every key form, TF's error types.

The hypothesis tests generate random nested fetch structures (lists, tuples, namedtuples, dicts
and OrderedDicts over tensors, operations and names) and random feed dicts (tensor keys, name
keys, tuple keys), and check that `run` mirrors the structure with the right values. Expected
behaviour was measured with TF 2.21's ``tf.compat.v1``.
"""

import collections

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sessionlib as tf
from sessionlib import errors

Pair = collections.namedtuple("Pair", "first second")
Single = collections.namedtuple("Single", "only")

HYPOTHESIS_SETTINGS = settings(max_examples=60, deadline=None,
                               suppress_health_check=[HealthCheck.function_scoped_fixture])


# ---- single fetches and structures --------------------------------------------------------

def test_scalar_fetches_keep_numpy_scalar_types(executor):
    fetches = [tf.constant(1), tf.constant(True), tf.constant("x"), tf.constant(1.0, tf.float64),
               tf.constant(2.5), tf.constant(3, tf.int64), tf.constant(4, tf.uint8)]
    with tf.Session() as sess:
        values = sess.run(fetches)
    assert [type(v) for v in values] == [np.int32, np.bool_, bytes, np.float64, np.float32,
                                         np.int64, np.uint8]
    assert values == [1, True, b"x", 1.0, 2.5, 3, 4]


def test_array_fetches(executor):
    a = tf.constant([[1, 2], [3, 4]], tf.int64)
    with tf.Session() as sess:
        value = sess.run(a)
        value[0, 0] = 99  # the caller owns the result: the constant must not change
        again = sess.run(a)
    assert again.dtype == np.int64
    assert again.tolist() == [[1, 2], [3, 4]]


def test_nested_structures_and_names(executor):
    a = tf.constant(1, name="a")
    b = tf.constant(2, name="b")
    with tf.Session() as sess:
        result = sess.run([a, (b, [a]), {"k": b, "j": [a, b]}, Pair(a, b),
                           collections.OrderedDict([("z", a), ("y", b)]), "a:0", "b", b.op])
    assert result == [1, (2, [1]), {"k": 2, "j": [1, 2]}, Pair(1, 2),
                      collections.OrderedDict([("z", 1), ("y", 2)]), 1, None, None]
    assert type(result[3]) is Pair
    assert type(result[4]) is collections.OrderedDict
    assert list(result[4]) == ["z", "y"]


def test_empty_structures(executor):
    a = tf.constant(1)
    with tf.Session() as sess:
        assert sess.run([]) == []
        assert sess.run(()) == ()
        assert sess.run({}) == {}
        assert sess.run([[], (), {}, [a]]) == [[], (), {}, [1]]


def test_operations_give_none(executor):
    a = tf.constant(1, name="a")
    with tf.Session() as sess:
        assert sess.run(a.op) is None
        assert sess.run([a.op, a]) == [None, 1]
        assert sess.run("a") is None
        assert sess.run({"x": a.op, "y": [a.op]}) == {"x": None, "y": [None]}


def test_duplicate_fetches(executor):
    a = tf.constant(1, name="a")
    with tf.Session() as sess:
        assert sess.run([a, a, "a:0", (a,)]) == [1, 1, 1, (1,)]


def test_bytes_names_and_defaultdict(executor):
    a = tf.constant(1, name="a")
    with tf.Session() as sess:
        assert sess.run(b"a:0") == 1
        fetch = collections.defaultdict(list)
        fetch["q"] = a
        result = sess.run(fetch)
    assert type(result) is collections.defaultdict
    assert result.default_factory is list
    assert dict(result) == {"q": 1}


def test_namedtuple_and_tuple_of_the_same_items_keep_their_types(executor):
    a = tf.constant(1)
    b = tf.constant(2)
    with tf.Session() as sess:
        assert type(sess.run(Pair(a, b))) is Pair
        assert type(sess.run((a, b))) is tuple  # equal to Pair(a, b), but not the same plan
        assert type(sess.run(Pair(a, b))) is Pair


def test_fetching_a_variable_like_object(executor):
    a = tf.constant(5)

    class Holder:
        def _as_graph_element(self):
            return a

    with tf.Session() as sess:
        assert sess.run([Holder()]) == [5]


@pytest.mark.parametrize("fetch", [None, 1, 1.5, object(), np.array(1), {1, 2}, [None]])
def test_fetches_of_the_wrong_type_are_type_errors(executor, fetch):
    tf.constant(1)
    with tf.Session() as sess:
        with pytest.raises(TypeError):
            sess.run(fetch)


@pytest.mark.parametrize("fetch", ["nope:0", "nope", "a:3", "a:x"])
def test_unknown_names_are_value_errors(executor, fetch):
    tf.constant(1, name="a")
    with tf.Session() as sess:
        with pytest.raises(ValueError):
            sess.run(fetch)


def test_fetch_from_another_graph_is_a_value_error(executor):
    other = tf.Graph()
    with other.as_default():
        foreign = tf.constant(1)
    tf.constant(2)
    with tf.Session() as sess:
        with pytest.raises(ValueError):
            sess.run(foreign)
        with pytest.raises(ValueError):
            sess.run([foreign.op])


# ---- feeds: keys ----------------------------------------------------------------------------

@pytest.fixture
def placeholder_graph():
    p = tf.placeholder(tf.float32, name="p")
    return p, tf.identity(p, name="out")


def _feed_error(sess, fetch, feeds):
    with pytest.raises(TypeError):
        sess.run(fetch, feeds)


def test_bad_feed_keys_are_type_errors(executor, placeholder_graph):
    p, out = placeholder_graph
    other = tf.Graph()
    with other.as_default():
        foreign = tf.placeholder(tf.float32)
    with tf.Session() as sess:
        for key in (1, p.op, "p", "q:0", "p:5", foreign, 2.5):
            _feed_error(sess, out, {key: 1.0})


def test_string_and_tensor_keys(executor, placeholder_graph):
    p, out = placeholder_graph
    with tf.Session() as sess:
        assert sess.run(out, {"p:0": 2.0}) == 2.0
        assert sess.run(out, {b"p:0": 3.0}) == 3.0
        assert sess.run(out, {p: 4.0}) == 4.0


def test_the_later_of_two_keys_for_one_tensor_wins(executor, placeholder_graph):
    p, out = placeholder_graph
    with tf.Session() as sess:
        assert sess.run(out, {p: 1.0, "p:0": 2.0}) == 2.0
        assert sess.run(out, {"p:0": 1.0, p: 3.0}) == 3.0


def test_nested_tuple_keys(executor):
    p = tf.placeholder(tf.float32, name="p")
    q = tf.placeholder(tf.float32, name="q")
    r = tf.placeholder(tf.int32, name="r")
    with tf.Session() as sess:
        assert sess.run([p, q], {(p, q): (1.0, 2.0)}) == [1.0, 2.0]
        assert sess.run([p, q], {(p, q): [1.0, 2.0]}) == [1.0, 2.0]
        assert sess.run([p, q, r], {(p, (q, r)): (1.0, (2.0, 3))}) == [1.0, 2.0, 3]
        assert sess.run(p, {("p:0",): (5.0,)}) == 5.0
        with pytest.raises(ValueError):
            sess.run([p, q], {(p, q): 1.0})
        with pytest.raises(ValueError):
            sess.run([p, q], {(p, q): (1.0,)})


def test_feed_dict_must_be_a_mapping(executor, placeholder_graph):
    p, out = placeholder_graph
    with tf.Session() as sess:
        with pytest.raises(TypeError):
            sess.run(out, [(p, 1.0)])
        assert sess.run(out, collections.OrderedDict([(p, 6.0)])) == 6.0
        assert sess.run(tf.constant(1), None) == 1
        assert sess.run(tf.constant(1), {}) == 1


# ---- feeds: values --------------------------------------------------------------------------

def test_a_tensor_value_is_a_type_error(executor, placeholder_graph):
    p, out = placeholder_graph
    with tf.Session() as sess:
        with pytest.raises(TypeError):
            sess.run(out, {p: tf.constant(1.0)})
        with pytest.raises(TypeError):
            sess.run(out, {p: tf.no_op()})


@pytest.mark.parametrize("dtype, value", [(tf.int32, 2 ** 40), (tf.uint8, 300),
                                          (tf.uint8, -1), (tf.int64, 2 ** 63),
                                          (tf.int8, -129), (tf.int16, 2 ** 15)])
def test_python_ints_that_do_not_fit_are_type_errors(executor, dtype, value):
    p = tf.placeholder(dtype)
    with tf.Session() as sess:
        with pytest.raises(TypeError):
            sess.run(p, {p: value})


@pytest.mark.parametrize("value", ["abc", [[1.0], [1.0, 2.0]]])
def test_unconvertible_values_are_value_errors(executor, value):
    p = tf.placeholder(tf.float32)
    with tf.Session() as sess:
        with pytest.raises(ValueError):
            sess.run(p, {p: value})


def test_an_object_numpy_cannot_read_as_a_number_is_a_type_error(executor):
    # numpy's own error type, which TF passes on.
    p = tf.placeholder(tf.float32)
    with tf.Session() as sess:
        with pytest.raises(TypeError):
            sess.run(p, {p: object()})


@pytest.mark.parametrize("shape, value", [([2], [1.0, 2.0, 3.0]), ([None, 2], [1.0, 2.0]),
                                          ([], [1.0]), ([2, 2], np.zeros((2, 3)))])
def test_static_shape_mismatch_is_a_value_error_before_running(executor, shape, value):
    p = tf.placeholder(tf.float32, shape, name="p")
    ran = tf.placeholder(tf.float32, name="never_fed")  # running it would be an OpError
    with tf.Session() as sess:
        with pytest.raises(ValueError, match="shape"):
            sess.run([p, ran], {p: value})


def test_compatible_shapes_and_conversions(executor):
    p = tf.placeholder(tf.float32, [None, 2])
    i = tf.placeholder(tf.int32)
    s = tf.placeholder(tf.string)
    b = tf.placeholder(tf.bool)
    with tf.Session() as sess:
        assert sess.run(p, {p: [[1, 2]]}).tolist() == [[1.0, 2.0]]
        assert sess.run(p, {p: np.zeros((0, 2))}).shape == (0, 2)
        assert sess.run(tf.identity(i), {i: 1.7}) == 1
        assert sess.run(tf.identity(i), {i: True}) == 1
        fed_int = sess.run(tf.identity(i), {i: np.array([1.5, 2.5])})
        assert fed_int.dtype == np.int32 and fed_int.tolist() == [1, 2]
        assert sess.run(tf.identity(s), {s: "abc"}) == b"abc"
        assert sess.run(tf.identity(s), {s: ["a", b"b"]}).tolist() == [b"a", b"b"]
        assert sess.run(tf.identity(b), {b: 1}) == np.True_
        with pytest.raises(TypeError):
            sess.run(s, {s: 1})
        assert np.isnan(sess.run(tf.identity(p), {p: [[None, 1.0]]})[0, 0])


def test_a_fetched_feed_is_the_fed_array(executor):
    p = tf.placeholder(tf.float32, name="p")
    out = tf.identity(p)
    array = np.array([1.0, 2.0], np.float32)
    with tf.Session() as sess:
        assert sess.run(p, {p: array}) is array  # TF hands back the fed array
        fed_scalar, computed = sess.run([p, out], {p: 3.0})
    assert isinstance(fed_scalar, np.ndarray) and fed_scalar.shape == ()
    assert isinstance(computed, np.float32)
    assert fed_scalar == computed == 3.0


def test_any_tensor_may_be_fed_and_the_feed_wins(executor):
    a = tf.constant(1.0, name="a")
    b = tf.identity(a, name="b")
    c = tf.identity(b, name="c")
    with tf.Session() as sess:
        assert sess.run(c) == 1.0
        assert sess.run(c, {b: 5.0}) == 5.0
        assert sess.run(c, {a: 7.0}) == 7.0
        assert sess.run([b, c], {b: 3.0}) == [3.0, 3.0]
        assert sess.run(c, {b: 4.0, a: 100.0}) == 4.0
        with pytest.raises(ValueError):
            sess.run(c, {tf.constant([1.0, 2.0]): 5.0})  # static shape (2,)
        assert sess.run(c) == 1.0  # feeds do not stick


def test_placeholder_with_default(executor):
    d = tf.placeholder_with_default(tf.constant([1.0, 2.0]), [None], name="d")
    with tf.Session() as sess:
        assert sess.run(d).tolist() == [1.0, 2.0]
        assert sess.run(d, {d: [3.0]}).tolist() == [3.0]


def test_a_control_dependency_on_a_fed_placeholder_is_satisfied_by_the_feed(executor):
    p = tf.placeholder(tf.float32, [], name="p")
    with tf.control_dependencies([p]):
        out = tf.identity(tf.constant(1.0))
    with tf.Session() as sess:
        assert sess.run(out, {p: 0.0}) == 1.0
        with pytest.raises(errors.InvalidArgumentError):
            sess.run(out)


def test_unfed_placeholder_is_an_invalid_argument_error_naming_it(executor):
    p = tf.placeholder(tf.float32, name="needed")
    with tf.Session() as sess:
        with pytest.raises(errors.InvalidArgumentError, match="needed") as caught:
            sess.run(tf.identity(p))
    assert caught.value.op is p.op


# ---- hypothesis: nested fetch structures ---------------------------------------------------

class _FetchPool:
    """A graph with a few tensors and ops, and the value each fetchable leaf produces."""

    def __init__(self):
        self.graph = tf.Graph()
        with self.graph.as_default():
            self.leaves = []  # (fetch, expected value or None)
            for index in range(4):
                value = np.arange(index + 1, dtype=np.int32) * (index + 1)
                const = tf.constant(value, name=f"c{index}")
                self.leaves.append((const, value))
                self.leaves.append((f"c{index}:0", value))
                self.leaves.append((f"c{index}", None))
                self.leaves.append((const.op, None))
            scalar = tf.identity(tf.constant(2.5, name="s"), name="scalar")
            self.leaves.append((scalar, np.float32(2.5)))
            self.leaves.append(("scalar:0", np.float32(2.5)))
            self.leaves.append((tf.no_op(name="noop"), None))
            text = tf.constant("hi", name="text")
            self.leaves.append((text, b"hi"))


_POOL = None


def _pool():
    global _POOL
    if _POOL is None:
        _POOL = _FetchPool()
    return _POOL


def _structures(leaf_indexes):
    def extend(children):
        keys = st.text("abcdef", min_size=1, max_size=3)
        return st.one_of(
            st.lists(children, max_size=4).map(lambda items: ("list", items)),
            st.lists(children, max_size=4).map(lambda items: ("tuple", items)),
            st.tuples(children, children).map(lambda items: ("pair", list(items))),
            children.map(lambda item: ("single", [item])),
            st.dictionaries(keys, children, max_size=4).map(lambda d: ("dict", d)),
            st.lists(st.tuples(keys, children), max_size=4, unique_by=lambda kv: kv[0])
            .map(lambda items: ("ordered", items)),
        )
    return st.recursive(leaf_indexes.map(lambda index: ("leaf", index)), extend, max_leaves=12)


def _materialize(spec, leaves):
    """(fetch structure, expected result) of a spec drawn from `_structures`."""
    kind, payload = spec
    if kind == "leaf":
        return leaves[payload]
    if kind == "dict":
        pairs = {key: _materialize(child, leaves) for key, child in payload.items()}
        return ({k: f for k, (f, _) in pairs.items()}, {k: e for k, (_, e) in pairs.items()})
    if kind == "ordered":
        pairs = [(key, _materialize(child, leaves)) for key, child in payload]
        return (collections.OrderedDict((k, f) for k, (f, _) in pairs),
                collections.OrderedDict((k, e) for k, (_, e) in pairs))
    children = [_materialize(child, leaves) for child in payload]
    fetches = [f for f, _ in children]
    expected = [e for _, e in children]
    if kind == "list":
        return fetches, expected
    if kind == "tuple":
        return tuple(fetches), tuple(expected)
    if kind == "pair":
        return Pair(*fetches), Pair(*expected)
    return Single(*fetches), Single(*expected)


def _assert_same(result, expected):
    """Same container types, same keys in the same order, equal leaves of the same dtype."""
    if expected is None:
        assert result is None
        return
    if isinstance(expected, (bytes, np.generic, np.ndarray)):
        if isinstance(expected, bytes):
            assert result == expected and type(result) is bytes
        elif isinstance(expected, np.generic):
            assert type(result) is type(expected) and result == expected
        else:
            assert isinstance(result, np.ndarray) and result.dtype == expected.dtype
            assert np.array_equal(result, expected)
        return
    assert type(result) is type(expected)
    if isinstance(expected, dict):
        assert list(result.keys()) == list(expected.keys())
        for key in expected:
            _assert_same(result[key], expected[key])
        return
    assert len(result) == len(expected)
    for item, wanted in zip(result, expected):
        _assert_same(item, wanted)


@HYPOTHESIS_SETTINGS
@given(data=st.data())
def test_random_nested_fetch_structures(executor, data):
    pool = _pool()
    spec = data.draw(_structures(st.integers(0, len(pool.leaves) - 1)))
    fetches, expected = _materialize(spec, pool.leaves)
    with tf.Session(graph=pool.graph) as sess:
        _assert_same(sess.run(fetches), expected)
        _assert_same(sess.run(fetches), expected)  # the cached plan gives the same
        _assert_same(sess.make_callable(fetches)(), expected)


@HYPOTHESIS_SETTINGS
@given(data=st.data())
def test_random_structures_with_a_bad_leaf_raise_the_leaf_error(executor, data):
    pool = _pool()
    spec = data.draw(_structures(st.integers(0, len(pool.leaves) - 1)))
    fetches, _ = _materialize(spec, pool.leaves)
    bad, error = data.draw(st.sampled_from([(None, TypeError), (3, TypeError),
                                            ("missing:0", ValueError)]))
    with tf.Session(graph=pool.graph) as sess:
        with pytest.raises(error):
            sess.run([fetches, bad])
        with pytest.raises(error):
            sess.run({"ok": fetches, "bad": (bad,)})


# ---- hypothesis: feed structures -----------------------------------------------------------

_FEED_DTYPES = [(tf.float32, np.float32), (tf.int32, np.int32), (tf.int64, np.int64),
                (tf.float64, np.float64)]


@HYPOTHESIS_SETTINGS
@given(data=st.data())
def test_random_feed_structures(executor, data):
    count = data.draw(st.integers(1, 6))
    graph = tf.Graph()
    with graph.as_default():
        holders, outputs, values = [], [], []
        for index in range(count):
            dtype, np_type = data.draw(st.sampled_from(_FEED_DTYPES))
            shape = data.draw(st.lists(st.integers(0, 3), max_size=2))
            static = data.draw(st.sampled_from(["exact", "unknown", "partial"]))
            static_shape = {"exact": shape, "unknown": None,
                            "partial": [None] * len(shape)}[static]
            holder = tf.placeholder(dtype, static_shape, name=f"h{index}")
            holders.append(holder)
            outputs.append(tf.identity(holder))
            value = np.asarray(data.draw(st.lists(st.integers(-100, 100),
                                                  min_size=int(np.prod(shape)),
                                                  max_size=int(np.prod(shape)))),
                               dtype=np_type).reshape(shape)
            values.append(value)
    # Spread the feeds over tensor keys, name keys and (nested) tuple keys.
    feed_dict = {}
    remaining = list(range(count))
    while remaining:
        size = data.draw(st.integers(1, len(remaining)))
        group, remaining = remaining[:size], remaining[size:]
        form = data.draw(st.sampled_from(["tensor", "name", "tuple", "nested"]))
        if form == "tensor" or size == 1 and form != "name":
            for index in group:
                feed_dict[holders[index]] = values[index]
        elif form == "name":
            for index in group:
                # A list for variety; an empty array keeps its shape only as an array.
                value = values[index]
                feed_dict[holders[index].name] = value.tolist() if value.size else value
        elif form == "tuple":
            feed_dict[tuple(holders[i] for i in group)] = tuple(values[i] for i in group)
        else:
            key = (holders[group[0]], tuple(holders[i] for i in group[1:]))
            feed_dict[key] = (values[group[0]], tuple(values[i] for i in group[1:]))
    structure = data.draw(st.sampled_from(["list", "dict", "tuple"]))
    if structure == "list":
        fetches, expected = outputs, values
    elif structure == "tuple":
        fetches, expected = tuple(outputs), tuple(values)
    else:
        fetches = {f"k{i}": out for i, out in enumerate(outputs)}
        expected = {f"k{i}": value for i, value in enumerate(values)}
    with tf.Session(graph=graph) as sess:
        result = sess.run(fetches, feed_dict)
    items = result.values() if isinstance(result, dict) else result
    wanted = expected.values() if isinstance(expected, dict) else expected
    assert type(result) is type(expected)
    for got, value in zip(items, wanted):
        assert np.asarray(got).dtype == value.dtype
        assert np.array_equal(got, value)
        assert np.shape(got) == value.shape


@HYPOTHESIS_SETTINGS
@given(values=st.lists(st.floats(allow_nan=False, width=32), min_size=1, max_size=5),
       use_name_last=st.booleans())
def test_the_last_feed_of_a_tensor_wins(executor, values, use_name_last):
    graph = tf.Graph()
    with graph.as_default():
        p = tf.placeholder(tf.float32, [], name="p")
        out = tf.identity(p)
    feed_dict = {}
    for index, value in enumerate(values):
        key = p.name if (index == len(values) - 1) == use_name_last else p
        feed_dict.pop(key, None)  # re-inserting moves the key to the end
        feed_dict[key] = value
    last_key = list(feed_dict)[-1]
    with tf.Session(graph=graph) as sess:
        assert sess.run(out, feed_dict) == np.float32(feed_dict[last_key])
