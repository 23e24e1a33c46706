"""Fuzzing `Session.run` and `make_callable` with random fetches, feeds and run protos.

Each example draws a fetch structure (tensors, operations, names, SparseTensors, nested in
lists, tuples, dicts and namedtuples, with bogus leaves mixed in), a feed dict (keys as
tensors, names, SparseTensors and tuples, or bogus; values of right and wrong dtypes and
shapes, ragged lists, object arrays, sparse values with bad indices or huge dense shapes) and
`options` / `run_metadata` of right or wrong types, and runs them through `Session.run` or a
callable from `make_callable`, in process and through device workers (two devices, with ops on
both). A small model of the graph predicts the outcome:

* an input the model calls valid must give the right values (computed with numpy);
* an invalid one must raise a documented error: TypeError, ValueError or an `OpError`, and a
  run-time error (a missing feed, a bad sparse index) must be an `OpError`;
* the session stays usable afterwards: a good run still gives the right value.
"""

import collections

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sessionlib as tf
from sessionlib import errors

_DOCUMENTED = (TypeError, ValueError, errors.OpError)

Pair = collections.namedtuple("Pair", "first second")


# ---- the graph ------------------------------------------------------------------------------

def _build():
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [None, 3], name="x")
        y = tf.placeholder(tf.int32, [], name="y")
        sp = tf.sparse_placeholder(tf.float32, shape=[None, None], name="sp")
        t = tf.placeholder(tf.string, [None], name="t")
        with tf.device("/cpu:0"):
            z = tf.add(x * 2.0, 1.0, name="z")
            yy = tf.add(y, 1, name="yy")
        with tf.device("/cpu:1"):    # crosses a device edge from z
            w = tf.reduce_sum(z, axis=1, name="w")
            d = tf.sparse_tensor_to_dense(sp, name="d")
            tj = tf.reduce_join(t, name="tj")
        c = tf.constant([1.0, 2.0], name="c")
        noop = tf.no_op(name="noop")
    elements = dict(x=x, y=y, sp=sp, t=t, z=z, yy=yy, w=w, d=d, tj=tj, c=c, noop=noop)
    return graph, elements


_GRAPH, _E = _build()
_OTHER_GRAPH = tf.Graph()
with _OTHER_GRAPH.as_default():
    _OTHER_TENSOR = tf.constant(1.0, name="z")
    _OTHER_SPARSE = tf.sparse_placeholder(tf.float32, name="sp")


class _Nested(list):
    """A list nested too deep to print (hypothesis prints what it draws)."""

    def __repr__(self):
        return f"<a list nested {self.what}>"

    def _repr_pretty_(self, printer, cycle):
        printer.text(repr(self))


def _deep(depth, leaf):
    value = leaf
    for _ in range(depth - 1):
        value = [value]
    value = _Nested([value])
    value.what = f"{depth} deep"
    return value


_CYCLIC = _Nested()
_CYCLIC.append(_CYCLIC)
_CYCLIC.what = "in itself"


class _Bad:
    """A model value that says: this input is an error (of one of `allowed`)."""

    def __init__(self, *allowed):
        self.allowed = allowed

    def __repr__(self):
        return f"_Bad{tuple(t.__name__ for t in self.allowed)}"


_PRE = _Bad(TypeError, ValueError)           # rejected before anything runs
_RUNTIME = _Bad(errors.OpError)              # fails when the step runs


# ---- feeds: (key, value, model) ---------------------------------------------------------------
# A feed's model is ("x", array) for a valid feed of x, or a `_Bad`.

def _float_matrices(columns):
    shapes = st.tuples(st.integers(0, 3), st.just(columns))
    return shapes.flatmap(lambda shape: st.sampled_from([np.float32, np.float64, np.int64]).map(
        lambda dtype: np.arange(shape[0] * shape[1], dtype=dtype).reshape(shape) - 2))


@st.composite
def _matrix_feeds(draw):
    """(value, model) for a float32 [None, 3] tensor."""
    kind = draw(st.sampled_from(["array", "list", "object", "broadcast", "readonly",
                                 "columns", "rank", "string", "ragged", "objects", "none",
                                 "huge", "deep"]))
    if kind in ("array", "list", "object", "readonly"):
        array = draw(_float_matrices(3))
        value = array
        if kind == "list":
            value = array.tolist()
            if not len(array):   # [] is read as shape (0,), not (0, 3)
                return value, _PRE
        elif kind == "object":
            value = array.astype(object)
        elif kind == "readonly":
            value = array.copy()
            value.flags.writeable = False
        return value, array.astype(np.float32)
    if kind == "broadcast":     # strides of 0, read-only
        value = np.broadcast_to(np.float32([1.5, -2.0, 3.0]), (draw(st.integers(0, 300)), 3))
        return value, np.array(value)
    if kind == "columns":
        return draw(_float_matrices(draw(st.sampled_from([0, 1, 2, 4])))), _PRE
    if kind == "rank":
        return draw(st.sampled_from([1.0, [1.0, 2.0, 3.0], np.zeros((1, 3, 1), np.float32),
                                     np.zeros((0,), np.float32)])), _PRE
    if kind == "string":
        return draw(st.sampled_from(["abc", [["a", "b", "c"]], b"xyz"])), _PRE
    if kind == "ragged":
        return draw(st.sampled_from([[[1.0, 2.0, 3.0], [1.0, 2.0]], [[1.0, [2.0], 3.0]],
                                     [[[1.0, 2.0, 3.0]], [1.0, 2.0, 3.0]]])), _PRE
    if kind == "objects":
        return np.array([[object(), 1, 2]], dtype=object), _PRE
    if kind == "none":
        return None, _PRE
    if kind == "deep":
        return draw(st.sampled_from([_deep(3000, 1.0), _CYCLIC, _deep(40, [1.0] * 3)])), _PRE
    # A dimension beyond what the static shape allows, never allocated (strides of 0).
    return np.broadcast_to(np.float32(0), (2 ** 40, 3, 1)), _PRE


@st.composite
def _int_feeds(draw):
    """(value, model) for an int32 [] tensor."""
    kind = draw(st.sampled_from(["int", "numpy", "bool", "big", "list", "string", "none",
                                 "array"]))
    if kind == "int":
        value = draw(st.integers(-2 ** 31, 2 ** 31 - 2))
        return value, np.int32(value)
    if kind == "numpy":
        value = draw(st.integers(-2 ** 31, 2 ** 31 - 2))
        return draw(st.sampled_from([np.int32, np.int64]))(value), np.int32(value)
    if kind == "bool":
        value = draw(st.booleans())
        return value, np.int32(value)
    if kind == "array":
        value = draw(st.integers(-100, 100))
        return np.array(value, dtype=np.int16), np.int32(value)
    if kind == "big":
        return draw(st.sampled_from([2 ** 31, -2 ** 31 - 1, 2 ** 64, -2 ** 70])), _PRE
    if kind == "list":
        return draw(st.sampled_from([[1], [], [[2]], (3, 4)])), _PRE
    if kind == "string":
        return "seven", _PRE
    return None, _PRE


@st.composite
def _string_feeds(draw):
    """(value, model) for a string [None] tensor."""
    kind = draw(st.sampled_from(["bytes", "str", "array", "numbers", "scalar", "nested",
                                 "deep"]))
    items = draw(st.lists(st.text(alphabet="ab\u00e9", max_size=3), max_size=4))
    expected = np.array([item.encode("utf-8") for item in items], dtype=object)
    if kind == "bytes":
        return [item.encode("utf-8") for item in items], expected
    if kind == "str":
        return items, expected
    if kind == "array":
        return np.array([item.encode("utf-8") for item in items], dtype=object), expected
    if kind == "numbers":
        return [1, 2], _PRE
    if kind == "scalar":
        return "abc", _PRE
    if kind == "deep":
        return draw(st.sampled_from([_deep(3000, b"a"), _CYCLIC])), _PRE
    return [["a"], ["b"]], _PRE


def _sorted_unique(indices):
    rows = sorted({tuple(row) for row in indices})
    return np.array(rows, dtype=np.int64).reshape(-1, 2)


@st.composite
def _sparse_feeds(draw):
    """(value, model) for the [None, None] float32 SparseTensor. The model of a valid feed is
    ("sp", ((indices, values, dense_shape), dense or a `_Bad` for to_dense))."""
    kind = draw(st.sampled_from(["good", "good", "tuple", "list", "unsorted", "bounds",
                                 "negative", "huge", "huge-empty", "values-length", "rank",
                                 "two", "int", "sparse-tensor", "ragged"]))
    rows, cols = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    raw = draw(st.lists(st.tuples(st.integers(0, rows - 1), st.integers(0, cols - 1)),
                        max_size=5))
    indices = _sorted_unique(raw)
    values = np.arange(1, len(indices) + 1, dtype=np.float32)
    shape = np.array([rows, cols], dtype=np.int64)
    if kind in ("good", "tuple", "list"):
        dense = np.zeros((rows, cols), np.float32)
        for (i, j), v in zip(indices, values):
            dense[i, j] = v
        value = tf.SparseTensorValue(indices, values, shape)
        if kind == "tuple":
            value = (indices, values, shape)
        elif kind == "list":
            value = [indices.tolist(), values.tolist(), shape.tolist()]
            if not len(indices):   # [] is read as shape (0,), not (0, 2)
                return value, _PRE
        return value, ("sp", ((indices, values, shape), dense))
    if kind == "unsorted" and len(indices) >= 2:
        indices = indices[::-1].copy()
        return (indices, values, shape), ("sp", ((indices, values, shape), _RUNTIME))
    if kind == "bounds":
        indices = np.array([[rows, 0]], np.int64)
        values = np.float32([1.0])
        return (indices, values, shape), ("sp", ((indices, values, shape), _RUNTIME))
    if kind == "negative":
        shape = np.array([-rows, cols], np.int64)
        return (indices, values, shape), ("sp", ((indices, values, shape), _RUNTIME))
    if kind == "huge":   # more than any memory: must be refused, never allocated
        shape = np.array([2 ** 40, 2 ** 40], np.int64)
        return (indices, values, shape), ("sp", ((indices, values, shape), _RUNTIME))
    if kind == "huge-empty":   # no element at all
        empty = np.zeros((0, 2), np.int64)
        shape = np.array([2 ** 40, 0], np.int64)
        return ((empty, np.zeros(0, np.float32), shape),
                ("sp", ((empty, np.zeros(0, np.float32), shape),
                        np.zeros((2 ** 40, 0), np.float32))))
    if kind == "values-length":
        extra = np.arange(len(indices) + 1, dtype=np.float32)
        return (indices, extra, shape), ("sp", ((indices, extra, shape), _RUNTIME))
    if kind == "rank":
        return (np.zeros((1, 3), np.int64), np.float32([1]), shape), _PRE
    if kind == "two":
        return (indices, values), _PRE
    if kind == "int":
        return 7, _PRE
    if kind == "sparse-tensor":
        return _E["sp"], _PRE
    if kind == "ragged":
        return ([[0, 0], [1]], [1.0, 2.0], [2, 2]), _PRE
    # "unsorted" with fewer than two indices: nothing to unsort.
    return tf.SparseTensorValue(indices, values, shape), (
        "sp", ((indices, values, shape), _dense_of(indices, values, rows, cols)))


def _dense_of(indices, values, rows, cols):
    dense = np.zeros((rows, cols), np.float32)
    for (i, j), v in zip(indices, values):
        dense[i, j] = v
    return dense


def _bogus_feed_keys():
    return st.sampled_from([5, None, 1.5, "x", "nope:0", "x:3", _OTHER_TENSOR, _OTHER_SPARSE,
                            "noop", b"\xff:0", object()]).map(lambda key: (key, 1.0, _Bad(
                                TypeError)))


def _noop_key():
    return st.just((_E["noop"], 1.0, _Bad(TypeError)))


def _named_feeds(name, values):
    """Feeds of tensor `name`, keyed by the Tensor or by its name."""
    keys = st.sampled_from([_E[name], f"{name}:0"])
    return st.tuples(keys, values).map(lambda kv: (kv[0], kv[1][0], _label(name, kv[1][1])))


def _label(name, model):
    return model if isinstance(model, _Bad) else (name, model)


def _sparse_key_feeds():
    sp = _E["sp"]
    tuple_key = (sp.indices, sp.values, sp.dense_shape)
    return st.tuples(st.sampled_from(["sparse", "tuple"]), _sparse_feeds()).map(
        lambda kv: (sp if kv[0] == "sparse" else tuple_key, kv[1][0],
                    kv[1][1] if kv[0] == "sparse" or isinstance(kv[1][1], _Bad)
                    or isinstance(kv[1][0], (tuple, list)) else _PRE))


_FEED_ENTRIES = st.one_of(
    _named_feeds("x", _matrix_feeds()),
    _named_feeds("x", _matrix_feeds()),
    _named_feeds("y", _int_feeds()),
    _named_feeds("y", _int_feeds()),
    _named_feeds("t", _string_feeds()),
    _named_feeds("z", _matrix_feeds()),
    _sparse_key_feeds(),
    _sparse_key_feeds(),
    _bogus_feed_keys(),
    _noop_key(),
)


# ---- fetches --------------------------------------------------------------------------------
# A leaf is (fetch, model): the model names what the value is computed from.

_GOOD_LEAVES = [(_E["x"], "x"), ("x:0", "x"), (_E["z"], "z"), ("z:0", "z"), (_E["w"], "w"),
                ("w:0", "w"), (_E["yy"], "yy"), (_E["c"], "c"), ("c:0", "c"), (_E["d"], "d"),
                (_E["sp"], "sp"), (_E["noop"], "noop"), ("noop", "noop"), (_E["t"], "t"),
                (_E["tj"], "tj"), (_E["y"], "y"), (_E["w"].op, "op:w"), ("yy", "op:yy"),
                (_E["d"].op, "op:d")]
_BAD_LEAVES = [3, None, 2.5, "nope:0", "z:9", "z:", ":0", _OTHER_TENSOR, _OTHER_TENSOR.op,
               _OTHER_SPARSE, object(), {1, 2}, np.float32(1), _deep(3000, _E["c"]), _CYCLIC,
               _deep(500, {"a": "c:0"})]

_LEAVES = st.one_of(st.sampled_from(_GOOD_LEAVES), st.sampled_from(_BAD_LEAVES).map(
    lambda fetch: (fetch, _PRE)))


def _structures(leaves):
    def extend(children):
        return st.one_of(
            st.lists(children, max_size=3).map(lambda items: ("list", items)),
            st.lists(children, max_size=3).map(lambda items: ("tuple", items)),
            st.tuples(children, children).map(lambda items: ("pair", list(items))),
            st.dictionaries(st.sampled_from(["a", "b", "c"]), children, max_size=3).map(
                lambda items: ("dict", items)),
            st.dictionaries(st.sampled_from(["a", "b"]), children, max_size=2).map(
                lambda items: ("ordered", items)))

    return st.recursive(leaves.map(lambda leaf: ("leaf", leaf)), extend, max_leaves=6)


def _fetches_of(node):
    kind, items = node
    if kind == "leaf":
        return items[0]
    if kind == "list":
        return [_fetches_of(item) for item in items]
    if kind == "tuple":
        return tuple(_fetches_of(item) for item in items)
    if kind == "pair":
        return Pair(*[_fetches_of(item) for item in items])
    if kind == "dict":
        return {key: _fetches_of(item) for key, item in items.items()}
    return collections.OrderedDict((key, _fetches_of(item)) for key, item in items.items())


def _leaves_of(node):
    kind, items = node
    if kind == "leaf":
        return [items[1]]
    children = items.values() if isinstance(items, dict) else items
    return [leaf for child in children for leaf in _leaves_of(child)]


# ---- the model ------------------------------------------------------------------------------

class _Outcome(Exception):
    """The model's verdict that the run fails, with the error types it may fail with."""

    def __init__(self, bad):
        super().__init__(bad)
        self.allowed = bad.allowed


def _leaf_value(name, fed):
    """The value of fetch model `name` given `fed` (tensor name -> model value)."""
    if name == "noop":
        return None
    if name.startswith("op:"):    # an operation runs (its inputs must be there) and gives None
        _leaf_value(name[3:], fed)
        return None
    if name in fed:
        value = fed[name]
        if name == "sp":
            return tf.SparseTensorValue(*value[0])
        return value
    if name in ("x", "y", "t", "sp"):
        raise _Outcome(_RUNTIME)       # an unfed placeholder
    if name == "c":
        return np.float32([1.0, 2.0])
    if name == "z":
        return _leaf_value("x", fed) * np.float32(2.0) + np.float32(1.0)
    if name == "w":
        return _leaf_value("z", fed).sum(axis=1, dtype=np.float32)
    if name == "yy":
        return np.int32(_leaf_value("y", fed) + np.int32(1))
    if name == "tj":
        return b"".join(_leaf_value("t", fed))
    if name == "d":
        if "sp" not in fed:
            raise _Outcome(_RUNTIME)
        dense = fed["sp"][1]
        if isinstance(dense, _Bad):
            raise _Outcome(dense)
        return dense
    raise AssertionError(name)


def _predict(node, feed_entries, callable_):
    """The expected result structure, or raises `_Outcome`."""
    leaf_models = _leaves_of(node)
    pre = [model for model in leaf_models if isinstance(model, _Bad)]
    pre += [model for _, _, model in feed_entries if isinstance(model, _Bad)]
    if callable_:   # a feed_list may name a tensor once (run takes the later value)
        names = [name for key, _, _ in feed_entries for name in _key_names(key)]
        if len(set(names)) != len(names):
            pre.append(_Bad(ValueError))
    if pre:
        allowed = tuple({t for bad in pre for t in bad.allowed})
        raise _Outcome(_Bad(*allowed))
    fed = {}
    for _, _, (name, value) in feed_entries:
        fed[name] = value
    return _rebuild(node, fed)


def _key_names(key):
    """The names of the tensors a feed key stands for."""
    if isinstance(key, tf.SparseTensor):
        return [key.indices.name, key.values.name, key.dense_shape.name]
    if isinstance(key, tuple):
        return [name for item in key for name in _key_names(item)]
    return [key.name if isinstance(key, tf.Tensor) else key]


def _rebuild(node, fed):
    kind, items = node
    if kind == "leaf":
        return _leaf_value(items[1], fed)
    if kind == "list":
        return [_rebuild(item, fed) for item in items]
    if kind == "tuple":
        return tuple(_rebuild(item, fed) for item in items)
    if kind == "pair":
        return Pair(*[_rebuild(item, fed) for item in items])
    if kind == "dict":
        return {key: _rebuild(item, fed) for key, item in items.items()}
    return collections.OrderedDict((key, _rebuild(item, fed)) for key, item in items.items())


def _assert_same(actual, expected):
    if expected is None:
        assert actual is None
    elif isinstance(expected, tf.SparseTensorValue):
        assert isinstance(actual, tf.SparseTensorValue)
        for a, e in zip(actual, expected):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(e))
    elif isinstance(expected, (list, tuple)):
        assert type(actual) is type(expected)
        assert len(actual) == len(expected)
        for a, e in zip(actual, expected):
            _assert_same(a, e)
    elif isinstance(expected, dict):
        assert type(actual) is type(expected)
        assert list(actual) == list(expected)
        for key in expected:
            _assert_same(actual[key], expected[key])
    elif isinstance(expected, bytes):
        assert actual == expected
    else:
        expected = np.asarray(expected)
        actual_array = np.asarray(actual)
        assert actual_array.dtype == expected.dtype, (actual_array.dtype, expected.dtype)
        assert actual_array.shape == expected.shape
        np.testing.assert_array_equal(actual_array, expected)


# ---- run protos -----------------------------------------------------------------------------

_PROTOS = st.sampled_from([
    (None, None, None),
    ("options", None, None),
    ("trace", "metadata", None),
    (None, "metadata", None),
    ({}, None, TypeError),
    (3, None, TypeError),
    ("metadata", None, TypeError),
    (None, "options", TypeError),
    (None, {"step_stats": 1}, TypeError),
    ("config", "metadata", TypeError),
    ("text", None, TypeError),
])


def _protos(spec):
    options, metadata, error = spec

    def make(value):
        if value == "options":
            return tf.RunOptions()
        if value == "trace":
            return tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)
        if value == "metadata":
            return tf.RunMetadata()
        if value == "config":
            return tf.ConfigProto()
        if value == "text":
            return "trace_level: FULL_TRACE"
        return value

    return make(options), make(metadata), error


# ---- sessions -------------------------------------------------------------------------------

@pytest.fixture(scope="module", params=["in-process", "workers"])
def session(request):
    if request.param == "in-process":
        config = tf.ConfigProto(allow_soft_placement=True)
    else:
        config = tf.ConfigProto(device_count={"CPU": 2})
    sess = tf.Session(graph=_GRAPH, config=config)
    yield sess
    sess.close()


def _check_usable(sess):
    x = np.float32([[1, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(sess.run(_E["w"], {_E["x"]: x}), (x * 2 + 1).sum(axis=1))


def _call(sess, node, feed_entries, protos, callable_):
    fetches = _fetches_of(node)
    options, run_metadata, _ = protos
    if not callable_:
        feed_dict = {key: value for key, value, _ in feed_entries}
        kwargs = {}
        if options is not None:
            kwargs["options"] = options
        if run_metadata is not None:
            kwargs["run_metadata"] = run_metadata
        return sess.run(fetches, feed_dict, **kwargs)
    function = sess.make_callable(fetches, [key for key, _, _ in feed_entries])
    return function(*[value for _, value, _ in feed_entries], options=options,
                    run_metadata=run_metadata)


def _check_one(sess, node, feed_entries, protos, callable_):
    # The feed dict keeps one entry per key: the last one, as a dict literal would.
    by_key = {}
    for entry in feed_entries:
        key = entry[0]
        by_key[key if _hashable(key) else id(key)] = entry
    feed_entries = list(by_key.values())
    outcome = None
    try:
        expected = _predict(node, feed_entries, callable_)
    except _Outcome as verdict:
        outcome = verdict.allowed
    if protos[2] is not None:   # checked first or after the rest: either error may come
        outcome = (outcome or ()) + (protos[2],)
    try:
        result = _call(sess, node, feed_entries, _protos(protos), callable_)
    except _DOCUMENTED as err:
        if outcome is None:
            raise AssertionError(f"the model expected success, got {err!r}") from err
        if not isinstance(err, outcome):
            raise AssertionError(f"expected one of {outcome}, got {err!r}") from err
    else:
        assert outcome is None, f"expected one of {outcome}, got {result!r}"
        _assert_same(result, expected)
    _check_usable(sess)


def _hashable(key):
    try:
        hash(key)
    except TypeError:
        return False
    return True


_FUZZ_SETTINGS = settings(max_examples=400, deadline=None, database=None,
                          suppress_health_check=[HealthCheck.too_slow,
                                                 HealthCheck.data_too_large,
                                                 HealthCheck.function_scoped_fixture])


@_FUZZ_SETTINGS
@given(node=_structures(_LEAVES), feeds=st.lists(_FEED_ENTRIES, max_size=4), protos=_PROTOS)
def test_run_gives_right_values_or_documented_errors(session, node, feeds, protos):
    _check_one(session, node, feeds, protos, callable_=False)


@_FUZZ_SETTINGS
@given(node=_structures(_LEAVES), feeds=st.lists(_FEED_ENTRIES, max_size=4), protos=_PROTOS)
def test_callables_give_right_values_or_documented_errors(session, node, feeds, protos):
    _check_one(session, node, feeds, protos, callable_=True)


# ---- what the fuzz found ----------------------------------------------------------------------

def _plain_deep(depth, leaf):
    for _ in range(depth):
        leaf = [leaf]
    return leaf


_PLAIN_CYCLIC = []
_PLAIN_CYCLIC.append(_PLAIN_CYCLIC)


@pytest.mark.parametrize("fetches", [_plain_deep(3000, _E["c"]), _PLAIN_CYCLIC,
                                     _plain_deep(200, {"a": "c:0"})],
                         ids=["deep-list", "cyclic", "deep-dict"])
def test_fetch_structure_too_deep_is_a_value_error_not_a_recursion_error(session, fetches):
    with pytest.raises(ValueError, match="nests more than 128 levels"):
        session.run(fetches)
    with pytest.raises(ValueError, match="nests more than 128 levels"):
        session.make_callable(fetches)
    # 128 levels are fine.
    value = session.run(_plain_deep(128, _E["c"]))
    for _ in range(128):
        (value,) = value
    np.testing.assert_array_equal(value, [1.0, 2.0])
    _check_usable(session)


def test_feed_key_tuple_too_deep_is_a_type_error(session):
    key = _E["x"]
    for _ in range(3000):
        key = (key,)
    with pytest.raises(TypeError, match="nested more than 128 levels"):
        session.run(_E["w"], {key: _plain_deep(3000, 1.0)})
    _check_usable(session)


@pytest.mark.parametrize("value", [_plain_deep(3000, b"a"), _PLAIN_CYCLIC],
                         ids=["deep", "cyclic"])
def test_string_feed_nested_too_deep_is_a_type_error_with_a_short_message(session, value):
    with pytest.raises(TypeError, match=r"Expected string, got \[\[\[") as info:
        session.run(_E["tj"], {_E["t"]: value})
    assert len(str(info.value)) < 300
    _check_usable(session)


def test_feed_that_overflows_names_a_short_repr_of_the_value(session):
    value = [[2 ** 1100, 0, 0]] * 10000
    with pytest.raises(TypeError, match="Cannot feed .* to x:0 of dtype float32") as info:
        session.run(_E["w"], {_E["x"]: value})
    assert len(str(info.value)) < 600     # not the 3 MB repr of the value


def test_make_callable_takes_sparse_and_tuple_feed_keys_as_run_does(session):
    sp = _E["sp"]
    indices = np.array([[0, 1], [2, 0]], np.int64)
    values = np.float32([5.0, 7.0])
    shape = np.array([3, 2], np.int64)
    expected = np.float32([[0, 5], [0, 0], [7, 0]])
    x = np.float32([[1, 2, 3]])
    function = session.make_callable([_E["d"], _E["w"]], [sp, _E["x"]])
    result = function(tf.SparseTensorValue(indices, values, shape), x)
    np.testing.assert_array_equal(result[0], expected)
    np.testing.assert_array_equal(result[1], [15.0])
    # A tuple key takes a value of its structure; the same tensors run gives.
    function = session.make_callable(_E["d"], [(sp.indices, (sp.values, sp.dense_shape))])
    np.testing.assert_array_equal(function((indices, (values, shape))), expected)
    np.testing.assert_array_equal(
        session.run(_E["d"], {(sp.indices, (sp.values, sp.dense_shape)): (indices,
                                                                           (values, shape))}),
        expected)
    with pytest.raises(ValueError, match="3 parts"):
        session.make_callable(_E["d"], [sp])((indices, values))
    with pytest.raises(ValueError, match="fed more than once"):
        session.make_callable(_E["d"], [sp, sp.values])
    _check_usable(session)
