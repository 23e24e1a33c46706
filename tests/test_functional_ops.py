"""``tf.map_fn``, ``tf.scan``, ``tf.foldl``, ``tf.foldr`` and ``Variable.initialized_value``
(issue 16) on both executors.

Values are checked against numpy; error messages and op names against TF 2.21 (tf.compat.v1,
graph mode), whose texts are copied into the asserts.
"""

import numpy as np
import pytest

import sessionlib as tf

from _gradient_check import GradCase, case_ids, check_case

A = np.arange(12, dtype=np.float32).reshape(4, 3)
B = np.array([3, -1, 4, 2], np.int32)


def _run(fetches, feed=None):
    with tf.Session() as sess:
        return sess.run(fetches, feed)


# ---- map_fn -------------------------------------------------------------------------------

def test_map_fn_with_an_unknown_row_count(executor):
    x = tf.placeholder(tf.float32, [None, 3])
    y = tf.map_fn(lambda row: tf.reduce_sum(row * row) + 1.0, x)
    assert y.shape.as_list() == [None]
    loops = [op.type for op in tf.get_default_graph().get_operations() if "While" in op.type]
    assert loops == ["StatelessWhile"]
    for rows in (A, A[:1], A[:0]):
        np.testing.assert_allclose(_run(y, {x: rows}), (rows * rows).sum(1) + 1.0)


def test_map_fn_nested_elems_and_dtype(executor):
    same = tf.map_fn(lambda t: (t[0] * 2.0, t[1] + 1), (tf.constant(A), tf.constant(B)))
    assert [t.shape.as_list() for t in same] == [[4, 3], [4]]
    other = tf.map_fn(lambda t: {"s": tf.reduce_sum(t["a"]) * tf.cast(t["b"], tf.float32),
                                 "n": tf.shape(t["a"])[0] * t["b"]},
                      {"a": tf.constant(A), "b": tf.constant(B)},
                      dtype={"s": tf.float32, "n": tf.int32})
    same_v, other_v = _run([same, other])
    np.testing.assert_allclose(same_v[0], A * 2)
    np.testing.assert_array_equal(same_v[1], B + 1)
    np.testing.assert_allclose(other_v["s"], A.sum(1) * B)
    np.testing.assert_array_equal(other_v["n"], 3 * B)


def test_map_fn_uses_outer_tensors_and_variables(executor):
    scale = tf.placeholder(tf.float32, [])
    w = tf.Variable(np.ones(3, np.float32))
    y = tf.map_fn(lambda row: row * scale + w, tf.constant(A))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_allclose(sess.run(y, {scale: 2.0}), A * 2 + 1)
        sess.run(w.assign([0.0, 1.0, 2.0]))
        np.testing.assert_allclose(sess.run(y, {scale: -1.0}), -A + [0.0, 1.0, 2.0])


def test_map_fn_of_matrices_to_other_shapes(executor):
    x = np.random.RandomState(0).randn(5, 2, 3).astype(np.float32)
    y = tf.map_fn(lambda m: tf.matmul(m, m, transpose_b=True), tf.constant(x))
    assert y.shape.as_list() == [5, 2, 2]
    np.testing.assert_allclose(_run(y), x @ x.transpose(0, 2, 1), rtol=1e-5)


def test_map_fn_errors():
    # TF 2.21's messages.
    with pytest.raises(ValueError, match="Elements in elems must be 1\\+ dimensional Tensors, "
                                         "not scalars"):
        tf.map_fn(lambda r: r, tf.constant(1.0))
    with pytest.raises(ValueError, match="The two structures don't have the same nested "
                                         "structure"):
        tf.map_fn(lambda r: (r, r), tf.constant([1.0]))
    with pytest.raises(ValueError, match="Got \\[\\], which does not contain any Tensors"):
        tf.map_fn(lambda r: r, [])
    with pytest.raises(TypeError, match="fn must be callable"):
        tf.map_fn(3, tf.constant([1.0]))


# ---- scan ---------------------------------------------------------------------------------

def test_scan_forward_and_reverse(executor):
    x = tf.placeholder(tf.float32, [None, 3])
    forward = tf.scan(lambda acc, row: acc * 0.5 + row, x)
    backward = tf.scan(lambda acc, row: acc * 0.5 + row, x, reverse=True)
    assert forward.shape.as_list() == [None, 3]

    def np_scan(rows):
        out, acc = [], None
        for row in rows:
            acc = row if acc is None else acc * 0.5 + row
            out.append(acc)
        return np.array(out)

    f, b = _run([forward, backward], {x: A})
    np.testing.assert_allclose(f, np_scan(A))
    np.testing.assert_allclose(b, np_scan(A[::-1])[::-1])
    f1, b1 = _run([forward, backward], {x: A[:1]})
    np.testing.assert_allclose(f1, A[:1])
    np.testing.assert_allclose(b1, A[:1])


def test_scan_with_a_nested_initializer(executor):
    # A running (sum, count of positive entries) and a Fibonacci-like pair of another dtype.
    result = tf.scan(lambda acc, row: (acc[0] + row, acc[1] + tf.cast(row > 0, tf.int32)),
                     tf.constant(B), initializer=(tf.constant(10), tf.constant(0)))
    fib = tf.scan(lambda acc, _: (acc[1], acc[0] + acc[1]), tf.range(6),
                  initializer=(tf.constant(0.0), tf.constant(1.0)))
    rev = tf.scan(lambda acc, row: acc + row, tf.constant(B), initializer=tf.constant(100),
                  reverse=True)
    result_v, fib_v, rev_v = _run([result, fib, rev])
    np.testing.assert_array_equal(result_v[0], 10 + np.cumsum(B))
    np.testing.assert_array_equal(result_v[1], np.cumsum(B > 0))
    np.testing.assert_allclose(fib_v[0], [1, 1, 2, 3, 5, 8])
    np.testing.assert_array_equal(rev_v, 100 + np.cumsum(B[::-1])[::-1])


def test_scan_over_nested_elems_without_initializer(executor):
    result = tf.scan(lambda acc, row: {"a": acc["a"] + row["a"], "b": acc["b"] * row["b"]},
                     {"a": tf.constant(A), "b": tf.constant(B)})
    got = _run(result)
    np.testing.assert_allclose(got["a"], np.cumsum(A, 0))
    np.testing.assert_array_equal(got["b"], np.cumprod(B))


# ---- folds --------------------------------------------------------------------------------

def test_foldl_and_foldr(executor):
    b = tf.constant(B)
    step = lambda acc, x: acc * 2 + x  # noqa: E731 - a fold's step
    left, right = tf.foldl(step, b), tf.foldr(step, b)
    left_i, right_i = tf.foldl(step, b, initializer=10), tf.foldr(step, b, initializer=10)

    def np_fold(values, acc=None):
        for v in values:
            acc = v if acc is None else acc * 2 + v
        return acc

    assert left.op.type == "StatelessWhile" and left.name == "foldl/while:3"
    values = _run([left, right, left_i, right_i])
    assert values == [np_fold(B), np_fold(B[::-1]), np_fold(B, 10), np_fold(B[::-1], 10)]


def test_folds_of_nested_structures(executor):
    x = tf.placeholder(tf.float32, [None, 3])
    total = tf.foldl(lambda acc, row: (acc[0] + row["v"], acc[1] + 1),
                     {"v": x}, initializer=(tf.zeros([3]), tf.constant(0)))
    last = tf.foldr(lambda acc, row: row * 0.0 + acc, x)  # the first row ends up last
    total_v, last_v = _run([total, last], {x: A})
    np.testing.assert_allclose(total_v[0], A.sum(0))
    assert total_v[1] == 4
    np.testing.assert_allclose(last_v, A[-1])


# ---- Variable.initialized_value -----------------------------------------------------------

@pytest.mark.parametrize("use_resource", [True, False])
def test_initialized_value_starts_other_variables_in_one_run(executor, use_resource):
    w = tf.Variable(tf.random_normal([3], seed=1), use_resource=use_resource)
    v = tf.Variable(w.initialized_value() * 2, use_resource=use_resource)
    u = tf.Variable(v.initialized_value() + w.initialized_value(), use_resource=use_resource)
    value = w.initialized_value()
    assert value.shape.as_list() == [3] and value.op.type == "If"
    with tf.Session() as sess:
        # Before initialization it is the initial value (a new sample each run here).
        assert sess.run(value).shape == (3,)
        sess.run(tf.global_variables_initializer())
        w_v, v_v, u_v = sess.run([w, v, u])
        np.testing.assert_allclose(v_v, w_v * 2)
        np.testing.assert_allclose(u_v, w_v * 3)
        # Once initialized, the variable's value.
        sess.run(w.assign([1.0, 2.0, 3.0]))
        np.testing.assert_allclose(sess.run(value), [1.0, 2.0, 3.0])


def test_initialized_value_inside_a_loop_body_is_built_outside(executor):
    w = tf.Variable(2.0)
    seen = []

    def body(i, acc):
        value = w.initialized_value()
        seen.append(value.graph)
        return i + 1, acc * value

    _, result = tf.while_loop(lambda i, _: i < 3, body, (0, 1.0))
    assert seen == [tf.get_default_graph()]
    with tf.Session() as sess:
        assert sess.run(result) == 8.0


# ---- gradients (numeric checks) -----------------------------------------------------------

GRADIENT_CASES = [
    GradCase("StatelessWhile", lambda x: tf.map_fn(lambda r: tf.sin(r) * tf.reduce_sum(r), x),
             [np.random.RandomState(0).randn(4, 3)], id="map_fn"),
    GradCase("StatelessWhile",
             lambda x, y: tf.map_fn(lambda t: (t[0] * t[1], tf.exp(t[0])), (x, y)),
             [np.random.RandomState(1).randn(3, 2), np.random.RandomState(2).randn(3, 2)],
             id="map_fn_nested"),
    GradCase("StatelessWhile",
             lambda x, a0: tf.scan(lambda a, r: a * r + tf.tanh(a), x, initializer=a0),
             [np.random.RandomState(3).randn(5, 2), np.random.RandomState(4).randn(2)],
             id="scan"),
    GradCase("StatelessWhile",
             lambda x: tf.scan(lambda a, r: a * tf.cos(r), x, reverse=True),
             [np.random.RandomState(5).randn(4, 2)], id="scan_reverse"),
    GradCase("StatelessWhile", lambda x: tf.foldl(lambda a, r: a * r + 1.0, x),
             [np.random.RandomState(6).randn(4, 2)], id="foldl"),
    GradCase("StatelessWhile",
             lambda x, a: tf.foldr(lambda acc, r: tf.sin(acc) + r, x, initializer=a),
             [np.random.RandomState(7).randn(4, 2), np.random.RandomState(8).randn(2)],
             id="foldr"),
]


@pytest.mark.parametrize("case", GRADIENT_CASES, ids=case_ids(GRADIENT_CASES))
def test_gradients_match_numeric(case, executor):
    check_case(case)
