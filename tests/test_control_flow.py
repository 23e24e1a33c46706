"""Functional control flow (issue 16): tf.cond, tf.case, tf.while_loop on both executors.

Values are checked against numpy; error types and messages against TF 2.21 (tf.compat.v1,
graph mode), whose texts are copied into the asserts where noted.
"""

import numpy as np
import pytest

import sessionlib as tf
from sessionlib import errors
from sessionlib.framework import function as function_lib

from _device_helpers import two_devices


# ---- cond ---------------------------------------------------------------------------------

def test_cond_runs_the_taken_branch_with_a_fed_pred(executor):
    p = tf.placeholder(tf.bool, [])
    x = tf.placeholder(tf.float32, [3])
    y = tf.cond(p, lambda: x * 2.0, lambda: x - 1.0)
    assert y.op.type == "StatelessIf" and y.op.name == "cond"
    value = np.array([1.0, 2.0, 3.0], np.float32)
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(y, {p: True, x: value}), value * 2)
        np.testing.assert_allclose(sess.run(y, {p: False, x: value}), value - 1)


def test_only_the_taken_branch_has_side_effects(executor):
    p = tf.placeholder(tf.bool, [])
    v = tf.Variable(0)
    out = tf.cond(p, lambda: v.assign_add(1), lambda: v.assign_add(10))
    assert out.op.type == "If"
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(out, {p: True}) == 1
        assert sess.run(out, {p: False}) == 11
        assert sess.run(out, {p: True}) == 12
        assert sess.run(v.value()) == 12


def test_unconnected_stateful_op_of_a_branch_runs_with_it(executor):
    p = tf.placeholder(tf.bool, [])
    v = tf.Variable(0)

    def bump():
        v.assign_add(5)
        return tf.constant(1)

    out = tf.cond(p, bump, lambda: tf.constant(2))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(out, {p: False}) == 2
        assert sess.run(v.value()) == 0
        assert sess.run(out, {p: True}) == 1
        assert sess.run(v.value()) == 5


def test_cond_nested_structures_and_strict(executor):
    p = tf.placeholder(tf.bool, [])
    a, b = tf.constant(1.0), tf.constant([2, 3])
    result = tf.cond(p, lambda: {"x": a, "y": (b, a + 1.0)},
                     lambda: {"x": a * 10.0, "y": (b * 2, a)})
    single = tf.cond(p, lambda: [a], lambda: [a + 1.0])
    strict = tf.cond(p, lambda: [a], lambda: [a + 1.0], strict=True)
    assert isinstance(single, tf.Tensor) and isinstance(strict, list)
    with tf.Session() as sess:
        got = sess.run(result, {p: False})
        assert got["x"] == 10.0 and list(got["y"][0]) == [4, 6] and got["y"][1] == 1.0
        assert sess.run(single, {p: False}) == 2.0


def test_cond_captures_outer_tensors_once_and_variables_are_read_each_call(executor):
    p = tf.placeholder(tf.bool, [])
    x = tf.constant(3.0)
    w = tf.Variable(2.0)
    y = tf.cond(p, lambda: x * w, lambda: x + x)
    step = w.assign_add(1.0)
    # Both branches take the union of the captures: x, and w's handle.
    assert len(y.op.inputs) == 3
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(y, {p: True}) == 6.0
        sess.run(step)
        assert sess.run(y, {p: True}) == 9.0
        assert sess.run(y, {p: False}) == 6.0


def test_nested_conds_and_names(executor):
    p = tf.placeholder(tf.bool, [])
    q = tf.placeholder(tf.bool, [])
    x = tf.constant(5)
    y = tf.cond(p, lambda: tf.cond(q, lambda: x + 1, lambda: x + 2), lambda: x * 0)
    then_fn = y.op.get_attr("then_branch")
    assert isinstance(then_fn, function_lib.GraphFunction)
    assert any(op.name.startswith("cond/cond") for op in then_fn.graph.get_operations())
    with tf.Session() as sess:
        assert sess.run(y, {p: True, q: True}) == 6
        assert sess.run(y, {p: True, q: False}) == 7
        assert sess.run(y, {p: False, q: True}) == 0


def test_group_tuple_and_identity_inside_branches(executor):
    p = tf.placeholder(tf.bool, [])
    v = tf.Variable(0)

    def true_fn():
        a, b = tf.tuple([tf.identity(tf.constant(1)), tf.constant(2)])
        return a + b, tf.group(v.assign_add(1), name="bump")

    def false_fn():
        return tf.constant(0), tf.no_op()

    total, op = tf.cond(p, true_fn, false_fn)
    # TF 1 (2.21, v1 control flow): an Operation output is a bool tensor, pred's value.
    assert op.dtype == tf.bool
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(total, {p: True}) == 3
        assert sess.run(op, {p: False}) == False  # noqa: E712
        assert sess.run(v.value()) == 1


def test_control_dependency_on_an_outer_op_moves_to_the_if(executor):
    p = tf.placeholder(tf.bool, [])
    v = tf.Variable(1)
    bump = v.assign_add(1, read_value=False)

    def true_fn():
        with tf.control_dependencies([bump]):
            return tf.constant(7)

    y = tf.cond(p, true_fn, lambda: tf.constant(0))
    assert bump in y.op.control_inputs
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(y, {p: False})
        assert sess.run(v.value()) == 2


def test_variables_made_in_a_branch_live_in_the_outer_graph(executor):
    p = tf.placeholder(tf.bool, [])

    def true_fn():
        with tf.variable_scope("vs"):
            w = tf.get_variable("w", [], initializer=tf.constant_initializer(4.0))
        return w * 2.0

    y = tf.cond(p, true_fn, lambda: tf.constant(0.0))
    (w,) = tf.global_variables()
    assert w.graph is tf.get_default_graph() and w.name == "vs/w:0"
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(y, {p: True}) == 8.0


def test_init_scope_leaves_function_graphs():
    outer = tf.get_default_graph()
    g = function_lib.FuncGraph("f")
    with g.as_default():
        with function_lib.init_scope():
            assert tf.get_default_graph() is outer
            c = tf.constant(1)
    assert c.graph is outer


def test_cond_errors():
    p = tf.placeholder(tf.bool, [])
    one = lambda: tf.constant(1)  # noqa: E731
    with pytest.raises(TypeError, match="'pred' must not be a Python bool."):
        tf.cond(True, one, one)
    with pytest.raises(TypeError, match="true_fn must be callable."):
        tf.cond(p, 1, one)
    # TF 2.21: "The two structures don't have the same nested structure." (ValueError).
    with pytest.raises(ValueError, match="don't have the same nested structure"):
        tf.cond(p, lambda: (one(), one()), one)
    # TF 2.21's text.
    with pytest.raises(ValueError, match="Outputs of 'true_fn' and 'false_fn' must have the "
                       r"same type\(s\). Received int32 from 'true_fn' and float32"):
        tf.cond(p, one, lambda: tf.constant(1.0))
    with pytest.raises(TypeError, match="Incompatible return types"):
        tf.cond(p, lambda: {"a": one()}, lambda: [one()])


def test_error_in_a_branch_names_the_inner_op(executor):
    p = tf.placeholder(tf.bool, [])
    x = tf.placeholder(tf.float32, [None])
    y = tf.cond(p, lambda: tf.reshape(x, [2, 2], name="bad_reshape"), lambda: tf.zeros([2, 2]))
    with tf.Session() as sess:
        with pytest.raises(errors.InvalidArgumentError, match="cond/bad_reshape"):
            sess.run(y, {p: True, x: [1.0, 2.0, 3.0]})
        assert sess.run(y, {p: False, x: [1.0]}).shape == (2, 2)


# ---- case ---------------------------------------------------------------------------------

def test_case_first_true_wins_and_default(executor):
    x = tf.placeholder(tf.int32, [])
    y = tf.case([(x < 0, lambda: tf.constant(-1)), (x < 10, lambda: tf.constant(1))],
                default=lambda: tf.constant(100))
    with tf.Session() as sess:
        assert [sess.run(y, {x: v}) for v in (-5, 5, 50)] == [-1, 1, 100]


def test_case_exclusive_checks_at_run_time(executor):
    x = tf.placeholder(tf.int32, [])
    y = tf.case([(x < 10, lambda: tf.constant(1)), (x < 5, lambda: tf.constant(2))],
                default=lambda: tf.constant(0), exclusive=True)
    with tf.Session() as sess:
        assert sess.run(y, {x: 7}) == 1
        with pytest.raises(errors.InvalidArgumentError, match="more than one predicate"):
            sess.run(y, {x: 1})


def test_assert_fails_with_invalid_argument(executor):
    x = tf.placeholder(tf.float32, [])
    check = tf.Assert(x > 0, ["x must be positive:", x])
    with tf.control_dependencies([check]):
        y = tf.identity(x)
    with tf.Session() as sess:
        assert sess.run(y, {x: 2.0}) == 2.0
        with pytest.raises(errors.InvalidArgumentError,
                           match=r"assertion failed: \[x must be positive:\] \[-1\]"):
            sess.run(y, {x: -1.0})


# ---- while_loop ---------------------------------------------------------------------------

def test_while_loop_values(executor):
    n = tf.placeholder(tf.int32, [])
    i, total = tf.while_loop(lambda i, t: i < n, lambda i, t: (i + 1, t + i),
                             [tf.constant(0), tf.constant(0)])
    single = tf.while_loop(lambda a: a < 100, lambda a: a * 2, [tf.constant(3)])
    same = tf.while_loop(lambda a: a < 100, lambda a: [a * 2], [tf.constant(3)],
                         return_same_structure=True)
    assert single.op.type == "StatelessWhile" and isinstance(same, list)
    with tf.Session() as sess:
        assert sess.run([i, total], {n: 10}) == [10, 45]
        assert sess.run([i, total], {n: 0}) == [0, 0]
        assert sess.run(single) == 192 and sess.run(same) == [192]


def test_while_loop_nested_structures_and_captures(executor):
    x = tf.constant([1.0, 2.0])
    state = {"a": tf.constant(0), "b": (tf.zeros([2]), tf.constant(1.0))}

    def body(s):
        return {"a": s["a"] + 1, "b": (s["b"][0] + x, s["b"][1] * 2.0)}

    # As TF 1: one loop variable of three tensors comes back in its list.
    (out,) = tf.while_loop(lambda s: s["a"] < 3, body, [state])
    with tf.Session() as sess:
        got = sess.run(out)
    assert got["a"] == 3
    np.testing.assert_allclose(got["b"][0], [3.0, 6.0])
    assert got["b"][1] == 8.0


def test_maximum_iterations_bounds_the_loop(executor):
    out = tf.while_loop(lambda a: a < 1000, lambda a: a + 1, [tf.constant(0)],
                        maximum_iterations=7)
    with tf.Session() as sess:
        assert sess.run(out) == 7


def test_shape_invariants(executor):
    x = tf.zeros([1, 2])
    out = tf.while_loop(lambda a: tf.shape(a)[0] < 4, lambda a: tf.concat([a, a], 0), [x],
                        shape_invariants=[tf.TensorShape([None, 2])])
    assert out.shape.as_list() == [None, 2]
    with tf.Session() as sess:
        assert sess.run(out).shape == (4, 2)
    # TF 2.21's text, word for word.
    with pytest.raises(ValueError, match=r"Input tensor 'Const(_\d+)?:0' enters the loop with "
                       r"shape \(\), but has shape \(1,\) after one iteration. To allow the "
                       "shape to vary across iterations, use the `shape_invariants` argument "
                       "of tf.while_loop to specify a less-specific shape."):
        tf.while_loop(lambda i: i < 3, lambda i: tf.stack([i]), [tf.constant(0)])
    with pytest.raises(ValueError, match=r"enters the loop with shape \(\), but the specified "
                       r"shape invariant is \(1,\)"):
        tf.while_loop(lambda i: i < 3, lambda i: i + 1, [tf.constant(0)],
                      shape_invariants=[tf.TensorShape([1])])


def test_while_loop_errors():
    with pytest.raises(TypeError, match="'cond' must be callable."):
        tf.while_loop(1, lambda i: i, [1])
    with pytest.raises(ValueError, match="'loop_vars' must be provided."):
        tf.while_loop(lambda: True, lambda: 1, [])
    with pytest.raises(ValueError, match="don't have the same"):
        tf.while_loop(lambda i, j: i < 3, lambda i, j: (i,), [tf.constant(0), 1])
    with pytest.raises(TypeError, match="enters the loop with type int32"):
        tf.while_loop(lambda i: i < 3, lambda i: tf.cast(i, tf.float32), [tf.constant(0)])


def test_loop_in_loop_and_cond_in_loop(executor):
    def outer_body(i, total):
        inner = tf.while_loop(lambda j, s: j < i, lambda j, s: (j + 1, s + j),
                              [tf.constant(0), tf.constant(0)])[1]
        odd = tf.cond(tf.equal(i % 2, 1), lambda: inner * 10, lambda: inner)
        return i + 1, total + odd

    _, total = tf.while_loop(lambda i, t: i < 5, outer_body, [tf.constant(0), tf.constant(0)])
    expected = sum((sum(range(i)) * (10 if i % 2 else 1)) for i in range(5))
    with tf.Session() as sess:
        assert sess.run(total) == expected


def test_variable_updates_in_a_loop_body(executor):
    v = tf.Variable(0.0)
    out = tf.while_loop(lambda i: i < 4, lambda i: tf.tuple([i + 1],
                        control_inputs=[v.assign_add(2.0)])[0], [tf.constant(0)])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(out) == 4
        assert sess.run(v.value()) == 8.0


def test_variables_made_in_a_body_are_made_once_outside(executor):
    def body(i, acc):
        with tf.variable_scope("cell", reuse=tf.AUTO_REUSE):
            w = tf.get_variable("w", [], initializer=tf.constant_initializer(3.0))
        return i + 1, acc * w

    _, acc = tf.while_loop(lambda i, a: i < 3, body, [tf.constant(0), tf.constant(1.0)])
    assert [v.name for v in tf.global_variables()] == ["cell/w:0"]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(acc) == 27.0


def test_long_loop_hits_the_run_deadline(executor):
    out = tf.while_loop(lambda i: i >= 0, lambda i: i + 1, [tf.constant(0)])
    options = tf.RunOptions(timeout_in_ms=50)
    with tf.Session() as sess:
        with pytest.raises(errors.DeadlineExceededError):
            sess.run(out, options=options)


def test_error_in_a_body_names_the_inner_op(executor):
    x = tf.placeholder(tf.float32, [None])

    def body(i, a):
        return i + 1, tf.reshape(a, [2], name="shrink")

    out = tf.while_loop(lambda i, a: i < 2, body, [tf.constant(0), x],
                        shape_invariants=[tf.TensorShape([]), tf.TensorShape([None])])
    with tf.Session() as sess:
        with pytest.raises(errors.InvalidArgumentError, match="while/shrink"):
            sess.run(out, {x: [1.0, 2.0, 3.0]})


# ---- devices --------------------------------------------------------------------------------

def test_loop_pinned_to_another_device(executor):
    with tf.device("/cpu:0"):
        x = tf.constant([1.0, 2.0]) * 3.0
    with tf.device("/cpu:1"):
        _, out = tf.while_loop(lambda i, a: i < 3, lambda i, a: (i + 1, a + x),
                               [tf.constant(0), tf.zeros([2])])
        p = tf.placeholder(tf.bool, [])
        chosen = tf.cond(p, lambda: out * 2.0, lambda: out)
    with tf.Session(config=two_devices()) as sess:
        np.testing.assert_allclose(sess.run(chosen, {p: True}), [18.0, 36.0])
        np.testing.assert_allclose(sess.run(chosen, {p: False}), [9.0, 18.0])


def test_initialized_value_initializes_another_variable(executor):
    v = tf.Variable(3.0, name="v")
    w = tf.Variable(v.initialized_value() * 2.0, name="w")
    with tf.Session() as sess:
        sess.run(w.initializer)     # v is not initialized: its initial value is used
        assert sess.run(w.value()) == 6.0
        sess.run(v.initializer)
        sess.run(v.assign(5.0))
        sess.run(w.initializer)
        assert sess.run(w.value()) == 10.0


def test_traced_run_shows_the_loop_with_its_iterations(executor):
    _, total = tf.while_loop(lambda i, x: i < 25, lambda i, x: (i + 1, x + 2.0),
                             [tf.constant(0), tf.constant(0.0)], name="loop")
    options = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)
    metadata = tf.RunMetadata()
    with tf.Session() as sess:
        assert sess.run(total, options=options, run_metadata=metadata) == 50.0
    labels = [node.timeline_label for dev in metadata.step_stats.dev_stats
              for node in dev.node_stats if node.node_name == "loop"]
    assert len(labels) == 1 and labels[0].startswith("loop = StatelessWhile(")
    assert labels[0].endswith("[25 iterations]")


def test_loop_reading_a_variable_goes_to_the_variable(executor):
    with tf.device("/cpu:0"):
        v = tf.Variable([1.0, 2.0])
    with tf.device("/cpu:1"):
        # A loop that captures the variable's handle is placed with the variable, as any
        # op taking a resource is; its body reads the variable at each iteration.
        _, out = tf.while_loop(lambda i, a: i < 3,
                               lambda i, a: (i + 1, a + v + tf.cond(i > 0, lambda: v,
                                                                    lambda: v * 0.0)),
                               [tf.constant(0), tf.zeros([2])])
    with tf.Session(config=two_devices()) as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_allclose(sess.run(out), [5.0, 10.0])
        sess.run(v.assign([0.0, 1.0]))
        np.testing.assert_allclose(sess.run(out), [0.0, 5.0])


def test_scopes_opened_on_the_outer_graph_apply_inside_a_branch(executor):
    p = tf.placeholder(tf.bool, [])
    x = tf.constant([1.0, 2.0, 3.0, 4.0])
    v = tf.Variable(0)
    outer = tf.get_default_graph()

    def true_fn():
        with tf.name_scope("inner"):
            shaped = tf.reshape(x, [2, 2])       # built through x's (outer) graph
        with outer.control_dependencies([v.assign_add(1)]):
            (gated,) = tf.tuple([x])
        return tf.reduce_sum(shaped) + tf.reduce_sum(gated)

    y = tf.cond(p, true_fn, lambda: tf.constant(0.0))
    names = [op.name for op in y.op.get_attr("then_branch").graph.get_operations()]
    assert "cond/inner/Reshape" in names
    assert not any(op.type == "Reshape" for op in outer.get_operations())
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(y, {p: True}) == 20.0
        assert sess.run(v.value()) == 1


def test_assert_on_outer_tensors_inside_a_branch(executor):
    # The assert's data mixes a branch tensor and an outer one: the op belongs to the branch,
    # which captures the outer tensor, and it only runs when that branch is taken.
    x = tf.placeholder(tf.float32, [])

    def checked():
        check = tf.Assert(x > 0, ["x must be positive:", x])
        with tf.control_dependencies([check]):
            return tf.identity(x)

    y = tf.cond(x < 10, checked, lambda: x * 2)
    with tf.Session() as sess:
        assert sess.run(y, {x: 3.0}) == 3.0
        assert sess.run(y, {x: 30.0}) == 60.0
        with pytest.raises(errors.InvalidArgumentError,
                           match=r"assertion failed: \[x must be positive:\] \[-1\]"):
            sess.run(y, {x: -1.0})
