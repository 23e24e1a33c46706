"""tf.py_func, tf.numpy_function and tf.py_function: values, errors, optimization, control flow,
tf.data, gradients, function lifetime, threads, and the refusal on device workers.

Expected values, error codes and messages were checked against TF 2.21's tf.compat.v1 in graph
mode (``PyFunc`` errors: "0-th value returned by ... is float, but expects int32"; exception
types to codes; a stateless py_func on constants runs once over three runs).
"""

import gc
import threading

import numpy as np
import pytest

import sessionlib as tf
from sessionlib.framework import py_func_registry


@pytest.fixture(autouse=True)
def in_process(monkeypatch):
    """py_funcs run in the client: these tests use in-process sessions even when the suite runs
    under SESSIONLIB_WORKERS=1 (the worker tests set it themselves)."""
    monkeypatch.setenv("SESSIONLIB_WORKERS", "0")


def _run(fetches, feed_dict=None):
    with tf.Session() as sess:
        return sess.run(fetches, feed_dict)


# ---- values -------------------------------------------------------------------------------------

def test_values_single_and_multiple_outputs(executor):
    x = tf.constant([1.0, 2.0])
    doubled = tf.py_func(lambda a: a * 2, [x], tf.float32)
    pair = tf.py_func(lambda a: (a + 1, a.astype(np.int64)), [x], [tf.float32, tf.int64])
    one_in_list = tf.numpy_function(lambda a: a - 1, [x], [tf.float32])
    assert doubled.op.type == "PyFunc" and doubled.shape.ndims is None
    assert [t.dtype for t in pair] == [tf.float32, tf.int64]
    got = _run([doubled, pair, one_in_list])
    np.testing.assert_array_equal(got[0], [2.0, 4.0])
    np.testing.assert_array_equal(got[1][0], [2.0, 3.0])
    assert got[1][1].dtype == np.int64
    np.testing.assert_array_equal(got[1][1], [1, 2])
    assert isinstance(got[2], list)
    np.testing.assert_array_equal(got[2][0], [0.0, 1.0])


@pytest.mark.parametrize("dtype", [tf.float16, tf.float32, tf.float64, tf.int8, tf.int16,
                                   tf.int32, tf.int64, tf.uint8, tf.bool, tf.string],
                         ids=lambda d: d.name)
def test_every_dtype_with_read_only_feeds(executor, dtype):
    # Fed arrays are read-only, as shared-memory buffers are; the function gets a writable copy.
    value = np.arange(6).reshape(3, 2).astype(dtype.as_numpy_dtype)
    if dtype is tf.string:
        value = np.array([str(v).encode() for v in range(6)], dtype=object).reshape(3, 2)
    value.setflags(write=False)
    x = tf.placeholder(dtype)

    def reverse_in_place(a):
        a[:] = a[::-1].copy()
        return a, np.int64(a.size)

    reversed_, size = tf.py_func(reverse_in_place, [x], [dtype, tf.int64], stateful=False)
    got, got_size = _run([reversed_, size], {x: value})
    assert got.dtype == value.dtype and got_size == 6
    np.testing.assert_array_equal(got, value[::-1])


def test_inputs_are_writable_copies_and_scalars_numpy_scalars():
    x = tf.constant([1.0, 2.0])
    seen = {}

    def record(scalar, vector):
        seen["scalar"] = scalar
        vector[0] = 9.0          # must not change the constant
        return vector

    out = tf.py_func(record, [tf.constant(3.0), x], tf.float32)
    got_out, got_x = _run([out, x])
    assert type(seen["scalar"]) is np.float32 and seen["scalar"] == 3.0
    np.testing.assert_array_equal(got_out, [9.0, 2.0])
    np.testing.assert_array_equal(got_x, [1.0, 2.0])


def test_python_values_as_inputs_and_a_placeholder():
    a = tf.placeholder(tf.float32)
    product = tf.py_func(lambda p, q, r: p * q * r, [a, a, np.float32(2.0)], tf.float32)
    assert product.op.get_attr("Tin") == [tf.float32] * 3
    assert _run(product, {a: 3.0}) == pytest.approx(18.0)


def test_string_outputs_and_inputs():
    x = tf.constant([1.0])
    as_bytes = tf.py_func(lambda _: np.array([b"ab", b"c"]), [x], tf.string)
    as_str = tf.py_func(lambda _: "h\u00e9", [x], tf.string)
    as_unicode = tf.py_func(lambda _: np.array(["x", "yz"]), [x], tf.string)
    echoed = tf.py_func(lambda s: np.array([v + b"!" for v in s], dtype=object),
                        [tf.constant([b"q", b"r"])], tf.string)
    got = _run([as_bytes, as_str, as_unicode, echoed])
    assert got[0].tolist() == [b"ab", b"c"]
    assert got[1] == "h\u00e9".encode("utf-8")
    assert got[2].tolist() == [b"x", b"yz"]
    assert got[3].tolist() == [b"q!", b"r!"]


def test_output_shape_is_unknown_and_any_shape_comes_back():
    n = tf.placeholder(tf.int32, shape=[])
    out = tf.py_func(lambda k: np.arange(k * 2, dtype=np.float64).reshape(k, 2), [n],
                     tf.float64)
    assert out.shape.ndims is None
    with tf.Session() as sess:
        assert sess.run(out, {n: 3}).shape == (3, 2)
        assert sess.run(out, {n: 1}).shape == (1, 2)


def test_no_outputs_returns_the_operation():
    calls = []
    op = tf.py_func(lambda a: calls.append(float(a)), [tf.constant(5.0)], [])
    assert isinstance(op, tf.Operation) and op.type == "PyFunc"
    assert _run(op) is None
    assert calls == [5.0]


def test_op_attrs_and_graph_def_round_trip():
    x = tf.constant([1.0, 2.0])
    out = tf.py_func(lambda a: a * 3, [x], tf.float32, name="triple")
    assert out.name == "triple:0"
    assert isinstance(out.op.get_attr("token"), str)
    assert out.op.get_attr("Tout") == [tf.float32]
    graph_def = tf.get_default_graph().as_graph_def()
    node = [n for n in graph_def.node if n.name == "triple"][0]
    assert node.op == "PyFunc" and node.attr["token"].s.startswith(b"pyfunc_")
    # Imported in the same process while the first graph lives, the token still resolves.
    with tf.Graph().as_default():
        (imported,) = tf.import_graph_def(graph_def, return_elements=["triple:0"], name="")
        np.testing.assert_array_equal(_run(imported), [3.0, 6.0])


# ---- errors -------------------------------------------------------------------------------------

@pytest.mark.parametrize("exception, error", [
    (ValueError("v"), tf.errors.InvalidArgumentError),
    (TypeError("t"), tf.errors.InvalidArgumentError),
    (StopIteration("s"), tf.errors.OutOfRangeError),
    (MemoryError("m"), tf.errors.ResourceExhaustedError),
    (NotImplementedError("n"), tf.errors.UnimplementedError),
    (IndexError("i"), tf.errors.UnknownError),
    (KeyError("k"), tf.errors.UnknownError),
    (RuntimeError("r"), tf.errors.UnknownError),
    (tf.errors.NotFoundError(None, None, "nf"), tf.errors.UnknownError),
])
def test_exceptions_map_to_tf_codes(exception, error):
    def fail(_):
        raise exception

    out = tf.py_func(fail, [tf.constant(1.0)], tf.float32)
    with tf.Session() as sess:
        with pytest.raises(error) as info:
            sess.run(out)
        assert info.value.message.startswith(f"{type(exception).__name__}: ")
        assert "Traceback" in info.value.message and "in fail" in info.value.message
        assert info.value.op is out.op
        # The session survives a failing function.
        assert sess.run(tf.constant(2.0) + 1.0) == 3.0


@pytest.mark.parametrize("function, tout, message", [
    (lambda a: a, tf.int32, "0-th value returned by pyfunc_\\S+ is float, but expects int32"),
    (lambda a: 3, tf.float32, "is int64, but expects float"),
    (lambda a: 3.5, tf.int64, "is double, but expects int64"),
    (lambda a: (a, a), tf.float32, "returns 2 values, but expects to see 1 values"),
    (lambda a: [1, 2], tf.int64, "returns 2 values, but expects to see 1 values"),
    (lambda a: (a,), [tf.float32, tf.float32], "returns 1 values, but expects to see 2"),
    (lambda a: 7, tf.string, "is not a string"),
])
def test_wrong_results_are_invalid_argument(function, tout, message):
    out = tf.py_func(function, [tf.constant([1.0, 2.0])], tout)
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        _run(out)


def test_graph_time_errors():
    with pytest.raises(ValueError, match="Expected func to be callable"):
        tf.py_func(5, [tf.constant(1.0)], tf.float32)
    with pytest.raises(TypeError, match="Tout"):
        tf.numpy_function(lambda a: a, [tf.constant(1.0)])
    with pytest.raises(TypeError, match="Tout"):
        tf.py_function(lambda a: a, [tf.constant(1.0)])
    with pytest.raises(TypeError, match="list of tensors"):
        tf.py_func(lambda a: a, tf.constant(1.0), tf.float32)
    with pytest.raises(TypeError):
        tf.py_func(lambda a: a, [tf.constant(1.0)], "no such type")
    x = tf.constant(1.0)
    tf.get_default_graph().finalize()
    before = py_func_registry.registered_count()
    with pytest.raises(RuntimeError, match="finalized"):
        tf.py_func(lambda a: a, [x], tf.float32)
    assert py_func_registry.registered_count() == before


# ---- stateful and stateless ---------------------------------------------------------------------

def test_stateless_on_constants_is_folded_once_and_stateful_runs_every_time():
    calls = {"stateless": 0, "stateful": 0}

    def counting(kind):
        def function(a):
            calls[kind] += 1
            return a * 2
        return function

    x = tf.constant([1.0, 2.0])
    pure = tf.py_func(counting("stateless"), [x], tf.float32, stateful=False)
    effect = tf.py_func(counting("stateful"), [x], tf.float32)
    assert pure.op.type == "PyFuncStateless" and effect.op.type == "PyFunc"
    # Enough nodes that the step is rewritten (DEFAULT_MIN_GRAPH_NODES).
    total = ((pure + effect) * 3.0 - 1.0) + 0.5
    with tf.Session() as sess:
        for _ in range(3):
            np.testing.assert_allclose(sess.run(total), [11.5, 23.5])
    assert calls == {"stateless": 1, "stateful": 3}


def test_stateless_on_a_fed_value_runs_every_time():
    calls = []
    a = tf.placeholder(tf.float32)
    out = tf.py_func(lambda v: calls.append(1) or v + 1, [a], tf.float32, stateful=False)
    with tf.Session() as sess:
        assert [sess.run(out, {a: v}) for v in (1.0, 2.0)] == [2.0, 3.0]
    assert len(calls) == 2


# ---- control flow and tf.data -------------------------------------------------------------------

def test_inside_cond_and_while_loop():
    pred = tf.placeholder(tf.bool)
    chosen = tf.cond(pred,
                     lambda: tf.py_func(lambda: np.float32(1), [], tf.float32),
                     lambda: tf.py_func(lambda: np.float32(2), [], tf.float32))
    loop = tf.while_loop(
        lambda i, s: i < 3,
        lambda i, s: (i + 1, tf.py_func(lambda q: q * 2, [s], tf.float32)),
        [tf.constant(0), tf.constant(1.0)],
        shape_invariants=[tf.TensorShape([]), tf.TensorShape(None)])
    with tf.Session() as sess:
        assert sess.run(chosen, {pred: True}) == 1.0
        assert sess.run(chosen, {pred: False}) == 2.0
        i, s = sess.run(loop)
        assert (i, s) == (3, 8.0)


def test_inside_dataset_map():
    dataset = tf.data.Dataset.range(4).map(
        lambda e: tf.py_func(lambda q: (q * 10, str(q)), [e], [tf.int64, tf.string]))
    element = tf.data.make_one_shot_iterator(dataset).get_next()
    with tf.Session() as sess:
        got = [sess.run(element) for _ in range(4)]
        with pytest.raises(tf.errors.OutOfRangeError):
            sess.run(element)
    assert [(int(a), b) for a, b in got] == [(0, b"0"), (10, b"1"), (20, b"2"), (30, b"3")]


# ---- tf.py_function -----------------------------------------------------------------------------

def test_py_function_arguments_have_numpy_and_results_are_converted():
    x = tf.constant([1.0, 2.0])
    seen = {}

    def function(a, scalar):
        seen["numpy"] = a.numpy()
        seen["scalar"] = scalar.numpy()
        return 3, [1.5, 2]

    out = tf.py_function(function, [x, tf.constant(7)], [tf.float32, tf.float32])
    assert out[0].op.type == "EagerPyFunc" and out[0].op.get_attr("is_async") is False
    first, second = _run(out)
    assert first.dtype == np.float32 and first == 3.0
    np.testing.assert_array_equal(second, np.array([1.5, 2.0], np.float32))
    assert type(seen["numpy"]) is np.ndarray and seen["numpy"].tolist() == [1.0, 2.0]
    assert type(seen["scalar"]) is np.int32 and seen["scalar"] == 7


def test_py_function_conversion_error_is_invalid_argument():
    out = tf.py_function(lambda a: 2.5, [tf.constant(1.0)], tf.int32)
    with pytest.raises(tf.errors.InvalidArgumentError, match="Cannot convert 2.5"):
        _run(out)


def test_decorator_forms():
    @tf.numpy_function(Tout=tf.float32)
    def plus_one(a):
        return a + 1

    @tf.py_function(Tout=tf.int32)
    def length(s):
        return len(s.numpy())

    x = tf.constant([1.0, 2.0])
    got = _run([plus_one(x), length(tf.constant([b"a", b"b", b"c"]))])
    np.testing.assert_array_equal(got[0], [2.0, 3.0])
    assert got[1] == 3
    with pytest.raises(TypeError, match="inp"):
        tf.numpy_function(inp=[x], Tout=tf.float32)


def test_compat_v1_names():
    assert tf.compat.v1.py_func is tf.py_func
    assert tf.compat.v1.numpy_function is tf.numpy_function
    assert tf.compat.v1.py_function is tf.py_function


# ---- gradients ----------------------------------------------------------------------------------

def test_py_func_has_no_gradient_and_py_function_says_why():
    x = tf.constant([1.0, 2.0])
    assert tf.gradients(tf.py_func(lambda a: a * a, [x], tf.float32), x) == [None]
    assert tf.gradients(tf.numpy_function(lambda a: a * a, [x], tf.float32, stateful=False),
                        x) == [None]
    with pytest.raises(LookupError, match="eager execution"):
        tf.gradients(tf.py_function(lambda a: a * a, [x], tf.float32), x)


# ---- lifetime and threads -----------------------------------------------------------------------

def test_functions_are_released_with_their_graph():
    gc.collect()
    before = py_func_registry.registered_count()
    graph = tf.Graph()
    with graph.as_default():
        for _ in range(5):
            tf.py_func(lambda a: a, [tf.constant(1.0)], tf.float32)
        inner = tf.cond(tf.constant(True),
                        lambda: tf.py_func(lambda: np.float32(1), [], tf.float32),
                        lambda: tf.constant(0.0))
        graph_def = graph.as_graph_def()
    assert inner.dtype == tf.float32
    assert py_func_registry.registered_count() - before == 6
    del graph, inner
    gc.collect()
    assert py_func_registry.registered_count() == before
    # A token whose graph is gone names nothing: TF's "callback ... is not found".
    with tf.Graph().as_default():
        (orphan,) = tf.import_graph_def(graph_def, return_elements=["PyFunc:0"], name="")
        with pytest.raises(tf.errors.InvalidArgumentError, match="callback pyfunc_.* is not"):
            _run(orphan)


def test_concurrent_runs_call_the_function_from_several_threads():
    a = tf.placeholder(tf.float32)
    out = tf.py_func(lambda v: v * 2 + 1, [a], tf.float32)
    results, failures = {}, []
    with tf.Session() as sess:
        def worker(k):
            try:
                results[k] = [float(sess.run(out, {a: float(k * 100 + i)})) for i in range(20)]
            except Exception as err:  # noqa: BLE001 - reported below
                failures.append(err)

        threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert not failures
    for k in range(4):
        assert results[k] == [(k * 100 + i) * 2.0 + 1.0 for i in range(20)]


# ---- device workers -----------------------------------------------------------------------------

@pytest.mark.parametrize("environment, config", [
    ("1", None), (None, {"CPU": 2}),
])
def test_worker_devices_refuse_with_a_clear_error(monkeypatch, environment, config):
    if environment is None:
        monkeypatch.delenv("SESSIONLIB_WORKERS")
    else:
        monkeypatch.setenv("SESSIONLIB_WORKERS", environment)
    a = tf.placeholder(tf.float32)
    with tf.device("/cpu:0"):
        out = tf.py_func(lambda v: v * 2, [a], tf.float32) + a
    session_config = tf.ConfigProto(device_count=config) if config else None
    with tf.Session(config=session_config) as sess:
        with pytest.raises(tf.errors.UnimplementedError,
                           match=r"belongs to process .*\(a device worker\).*do not cross "
                                 "processes") as info:
            sess.run(out, {a: 1.0})
        assert info.value.op is out.op.inputs[0].op
        # The session is still usable for the rest of the graph.
        assert sess.run(a + 1.0, {a: 1.0}) == 2.0
