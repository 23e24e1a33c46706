"""tf.Assert, the tf.assert_* checks, tf.Print, tf.print, tf.strings.format and tf.identity_n.

Every expected message below was checked against TF 2.21 (``tf.compat.v1``, graph mode).
"""

import numpy as np
import pytest

import sessionlib as tf
from sessionlib.framework import graph_io
from sessionlib.runtime import settings
from sessionlib.runtime.kernels.check_kernels import summarize_value


def _failure(sess, fetch, feed=None):
    with pytest.raises(tf.errors.InvalidArgumentError) as info:
        sess.run(fetch, feed)
    return info.value


# ---- tf.Assert ------------------------------------------------------------------------------

def test_assert_passes_and_fails_with_tfs_message(executor):
    x = tf.placeholder(tf.float32, [None], name="x")
    check = tf.Assert(tf.reduce_all(x > 0), ["x must be positive", x, tf.constant(3)],
                      name="chk")
    assert check.type == "Assert" and check.name == "chk/Assert" and not check.outputs
    assert check.get_attr("summarize") == 3
    assert check.get_attr("T") == [tf.string, tf.float32, tf.int32]
    with tf.Session() as sess:
        assert sess.run(check, {x: [1.0, 2.0]}) is None
        error = _failure(sess, check, {x: [-1.0, 2.0]})
        assert error.op is check
        assert error.message.startswith("assertion failed: [x must be positive] [-1 2] [3]")
        error = _failure(sess, check, {x: np.arange(-5, 20, dtype=np.float32)})
        assert error.message.startswith("assertion failed: [x must be positive] "
                                        "[-5 -4 -3...] [3]")


def test_assert_as_a_control_dependency_runs_and_is_not_pruned(executor):
    x = tf.placeholder(tf.int32, [None])
    with tf.control_dependencies([tf.assert_positive(x, message="need positive")]):
        y = tf.identity(x * 2)
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(y, {x: [1, 2]}), [2, 4])
        error = _failure(sess, y, {x: [1, -2]})
        assert error.op.type == "Assert"
        assert error.message.startswith(
            "assertion failed: [need positive.  ] [Condition x > 0 did not hold element-wise:] "
            "[x (Placeholder:0) = ] [1 -2]")


def test_constant_false_assert_is_not_folded_and_fails_each_run(executor):
    check = tf.Assert(False, [tf.constant([1, 2])])
    with tf.Session() as sess:
        for _ in range(2):
            assert _failure(sess, check).message.startswith("assertion failed: [1 2]")


def test_assert_condition_must_be_a_scalar_bool(executor):
    condition = tf.placeholder(tf.bool)
    check = tf.Assert(condition, ["x"])
    with tf.Session() as sess:
        error = _failure(sess, check, {condition: [True, True]})
        assert error.message.startswith("In[0] should be a scalar: [2]")
    with pytest.raises(TypeError, match="Input 'condition' of 'Assert' Op has type int32"):
        tf.Assert(tf.constant(1), ["x"])


@pytest.mark.parametrize("value,summarize,expected", [
    (np.array([[1, 2], [3, 4]]), None, "[[1 2][3...]...]"),
    (np.array([b"a", b"b"], dtype=object), None, "[a b]"),
    (np.array([True, False]), None, "[1 0]"),
    (np.float32(1.5), None, "[1.5]"),
    (np.zeros(0, np.float32), None, "[]"),
    (np.arange(30).reshape(3, 10), None, "[[0 1 2...]...]"),
    (np.arange(24).reshape(2, 3, 4), 5, "[[[0 1 2 3][4...]]...]"),
    (np.arange(24).reshape(2, 3, 4), -1, "[[[0 1 2 3][4 5 6 7][8 9 10 11]]"
                                         "[[12 13 14 15][16 17 18 19][20 21 22 23]]]"),
    (np.arange(6).reshape(6, 1), 1, "[[0]...]"),
    (np.arange(6).reshape(1, 6), 0, "[...]"),
    (np.zeros((2, 0, 3)), 5, "[]"),
    (np.array(["a\nb", "\xe9\t'\"\\"], dtype=object), None, "[a\\nb \xe9\\t\\'\\\"\\\\]"),
    (np.float16(1.1), None, "[1.09960938]"),
    (np.float32(1 / 3), None, "[0.333333343]"),
    (np.float64(1 / 3), None, "[0.33333333333333331]"),
    (np.float64(123456789012345678), None, "[1.2345678901234568e+17]"),
    (np.array([np.nan, -np.inf, -0.0, 2.5e-5, 1e20], np.float32), -1,
     "[nan -inf -0 2.5e-05 1e+20]"),
    (np.uint8(200), None, "[200]"),
])
def test_assert_shows_values_in_tfs_layout(executor, value, summarize, expected):
    check = tf.Assert(False, [tf.constant(value)], summarize=summarize)
    with tf.Session() as sess:
        message = _failure(sess, check).message
    assert message.split("\n")[0] == "assertion failed: " + expected


# ---- the assert_* checks ----------------------------------------------------------------------

def test_binary_asserts_of_constants_fail_while_building():
    with pytest.raises(tf.errors.InvalidArgumentError) as info:
        tf.assert_equal([1, 2], [1, 3])
    assert info.value.message == ("Condition x == y did not hold element-wise:\n"
                                  "x (assert_equal_1/x:0) = \n[1 2]\n"
                                  "y (assert_equal_1/y:0) = \n[1 3]")
    with pytest.raises(tf.errors.InvalidArgumentError) as info:
        tf.assert_less(3.0, 2.0, data=["custom", tf.constant(5)])
    assert info.value.message == "custom\n5"
    # Constants that satisfy the check still give the Assert op, as in TF.
    assert tf.assert_equal(1, tf.constant(1)).type == "Assert"
    assert tf.assert_equal(1, 1).type == "NoOp"  # `1 is 1` in Python: TF's x-is-y shortcut


def test_assert_equal_of_a_tensor_with_itself_is_a_no_op():
    x = tf.placeholder(tf.float32)
    op = tf.assert_equal(x, x)
    assert op.type == "NoOp" and op.name == "assert_equal/NoOp"


def test_static_rank_type_and_scalar_checks():
    x = tf.placeholder(tf.float32, [None], name="x")
    ok = tf.assert_rank(x, 1)
    assert ok.type == "NoOp" and ok.name == "assert_rank/static_checks_determined_all_ok"
    assert tf.assert_rank_at_least(x, 1).type == "NoOp"
    assert tf.assert_rank_in(x, [0, 1]).type == "NoOp"
    with pytest.raises(ValueError, match=r"^mm.  Tensor x:0 must have rank 2.  Received rank 1"):
        tf.assert_rank(x, 2, message="mm")
    with pytest.raises(ValueError, match="Tensor x:0 must have rank at least 2.  Received"):
        tf.assert_rank_at_least(x, 2)
    with pytest.raises(ValueError, match=r"must have rank in \(0, 2\)"):
        tf.assert_rank_in(x, [0, 2])
    with pytest.raises(ValueError, match="^Rank must be a scalar.$"):
        tf.assert_rank(x, [1])
    with pytest.raises(TypeError, match="must be of type tf.int32; got tf.int64"):
        tf.assert_rank(x, tf.constant(1, tf.int64))
    with pytest.raises(TypeError, match="^tt.  x:0 must be of type tf.int32; got tf.float32$"):
        tf.assert_type(x, tf.int32, message="tt")
    # The failed check above took the scope 'assert_type', as in TF.
    assert tf.assert_type(x, tf.float32).name == "assert_type_1/statically_determined_correct_type"
    with pytest.raises(TypeError, match='Expected "x" to be integer type.  Found: x:0 of dtype '
                                        "<dtype: 'float32'>"):
        tf.assert_integer(x)
    assert tf.assert_integer(tf.constant(1)).type == "NoOp"
    with pytest.raises(ValueError, match="Expected scalar shape for x:0, saw shape"):
        tf.assert_scalar(x)
    scalar = tf.assert_scalar(3)
    assert scalar.name == "assert_scalar_1:0" and scalar.shape.rank == 0
    assert tf.debugging.assert_rank is tf.assert_rank and tf.debugging.Assert is tf.Assert


def test_is_numeric_tensor():
    assert tf.is_numeric_tensor(tf.placeholder(tf.float32))
    assert tf.is_numeric_tensor(tf.constant(1, tf.uint8))
    assert not tf.is_numeric_tensor(tf.constant(True))
    assert not tf.is_numeric_tensor(tf.constant("s"))
    assert not tf.is_numeric_tensor(3)
    with pytest.raises(TypeError, match="Expected x to be numeric"):
        tf.is_non_decreasing(tf.constant(["a"]))


def test_monotonic_checks(executor):
    x = tf.placeholder(tf.float32)
    non_decreasing, increasing = tf.is_non_decreasing(x), tf.is_strictly_increasing(x)
    assert non_decreasing.name == "is_non_decreasing/All:0"
    with tf.Session() as sess:
        for value, expected in (([1, 2, 2], (True, False)), ([3, 2], (False, False)),
                                ([3], (True, True)), ([], (True, True)),
                                ([[1, 2], [3, 4]], (True, True)), ([1, 2, 3], (True, True))):
            assert tuple(sess.run([non_decreasing, increasing], {x: value})) == expected


# (check, feed, the first line of the run-time message), as TF 2.21 gives them.
def _runtime_cases():
    x = tf.placeholder(tf.float32, [None], name="x")
    z = tf.placeholder(tf.float32, name="z")
    y = tf.placeholder(tf.int32, [None, None], name="y")
    r = tf.placeholder(tf.int32, name="r")
    eq_y = "assert_equal_3/y:0"  # the scopes TF takes, counted from a fresh graph
    return [
        (tf.assert_positive(x), {x: [1, -2, 3, 4]},
         "[] [Condition x > 0 did not hold element-wise:] [x (x:0) = ] [1 -2 3...]"),
        (tf.assert_equal(x, tf.constant([1., 2.]), message="mine"), {x: [1, 3]},
         "[mine] [Condition x == y did not hold element-wise:] [x (x:0) = ] [1 3] "
         "[y (Const:0) = ] [1 2]"),
        (tf.assert_equal(x, 0., summarize=1), {x: [1, 3]},
         "[Condition x == y did not hold element-wise:] [x (x:0) = ] [1...] "
         f"[y ({eq_y}) = ] [0]"),
        (tf.assert_rank(z, 2), {z: [1., 2.]},
         "[] [Tensor z:0 must have rank] [2] [Received shape: ] [2]"),
        (tf.assert_rank(y, r), {y: [[1]], r: 3},
         "[] [Tensor y:0 must have rank] [3] [Received shape: ] [1 1]"),
        (tf.assert_rank(y, r), {y: [[1]], r: [2]},
         "[Rank must be a scalar. Received rank: ] [2]"),
        (tf.assert_rank_at_least(z, 2), {z: 1.},
         "[] [Tensor z:0 must have rank at least] [2] [Received shape: ] []"),
        (tf.assert_less(x, 2.), {x: [1., 2.]},
         "[Condition x < y did not hold element-wise:] [x (x:0) = ] [1 2] "
         "[y (assert_less/y:0) = ] [2]"),
        (tf.assert_non_positive(x), {x: [0., 2.]},
         "[] [Condition x <= 0 did not hold element-wise:x (x:0) = ] [0 2]"),
        (tf.assert_negative(x), {x: [0., -2.]},
         "[] [Condition x < 0 did not hold element-wise:] [x (x:0) = ] [0 -2]"),
        (tf.assert_greater_equal(x, 2.), {x: [1., 2.]},
         "[Condition x >= y did not hold element-wise:] [x (x:0) = ] [1 2] "
         "[y (assert_greater_equal/y:0) = ] [2]"),
        (tf.assert_none_equal(x, 2.), {x: [1., 2.]},
         "[Condition x != y did not hold element-wise:] [x (x:0) = ] [1 2] "
         "[y (assert_none_equal/y:0) = ] [2]"),
        (tf.assert_rank_in(z, [0, 2]), {z: [1., 2.]},
         "[] [Tensor z:0 must have rank in] [0] [2] [Received shape: ] [2]"),
    ]


def test_asserts_fail_at_run_time_with_tfs_messages(executor):
    cases = _runtime_cases()
    with tf.Session() as sess:
        for check, feed, expected in cases:
            assert check.type == "Assert"
            message = _failure(sess, check, feed).message
            assert message.split("\n")[0] == "assertion failed: " + expected


def test_asserts_pass_at_run_time(executor):
    x = tf.placeholder(tf.float32, [None])
    checks = [tf.assert_positive(x), tf.assert_non_negative(x), tf.assert_less(x, 5.0),
              tf.assert_greater(x, 0.5), tf.assert_near(x, x + 1e-7),
              tf.assert_rank(tf.placeholder(tf.float32), 1, name="fed_rank")]
    fed = tf.get_default_graph().get_tensor_by_name("Placeholder_1:0")
    with tf.Session() as sess:
        sess.run(checks, {x: [1.0, 2.0], fed: [1.0]})


def test_assert_near_uses_the_dtypes_epsilon(executor):
    x = tf.placeholder(tf.float32, [2])
    check = tf.assert_near(x, tf.constant([1.0, 2.0]))
    with tf.Session() as sess:
        sess.run(check, {x: [1.0, 2.0 + 1e-6]})
        message = _failure(sess, check, {x: [1.0, 2.1]}).message
    assert message.startswith('assertion failed: [] [x and y not equal to tolerance rtol = '
                              'Tensor(\\"assert_near/rtol:0\\", shape=(), dtype=float32), atol = ')
    assert "[x (Placeholder:0) = ] [1 2.1] [y (Const:0) = ] [1 2]" in message


# ---- tf.identity_n ----------------------------------------------------------------------------

def test_identity_n_values_and_gradient(executor):
    x = tf.placeholder(tf.float32, [2])
    y = tf.constant(3)
    outs = tf.identity_n([x, y], name="idn")
    assert [t.name for t in outs] == ["idn:0", "idn:1"]
    assert outs[0].op.type == "IdentityN" and [t.dtype for t in outs] == [tf.float32, tf.int32]
    assert outs[0].shape.as_list() == [2] and outs[1].shape.rank == 0
    (grad,) = tf.gradients(tf.reduce_sum(outs[0] * outs[0]), x)
    with tf.Session() as sess:
        values = sess.run(outs + [grad], {x: [1.5, -2.0]})
    np.testing.assert_array_equal(values[0], [1.5, -2.0])
    assert values[1] == 3
    np.testing.assert_array_equal(values[2], [3.0, -4.0])


# ---- tf.Print, tf.print, tf.strings.format ----------------------------------------------------

# A print runs in the process of its device: under SESSIONLIB_WORKERS=1 that is a worker,
# whose stderr is the terminal's, not the file descriptor pytest's capfd captures in the test.
_in_process_only = pytest.mark.skipif(
    bool(settings.worker_processes()),
    reason="prints from worker processes bypass capfd (SESSIONLIB_WORKERS=1 is set)")


@_in_process_only
def test_print_passes_input_and_writes_to_stderr_first_n_times(executor, capfd):
    p = tf.Print(tf.constant([1.0, 2.0]), [tf.constant([1, 2, 3, 4]), "s"], message="msg: ",
                 first_n=2)
    assert p.op.type == "Print" and p.op.name == "Print"
    assert p.op.get_attr("first_n") == 2 and p.op.get_attr("summarize") == 3
    with tf.Session() as sess:
        for _ in range(3):
            np.testing.assert_array_equal(sess.run(p), [1.0, 2.0])
    assert capfd.readouterr().err == "msg: [1 2 3...][s]\n" * 2
    with tf.Session() as sess:  # the count is per session, as TF's kernel's
        sess.run(p)
    assert capfd.readouterr().err == "msg: [1 2 3...][s]\n"


def test_print_gradient_passes_to_its_input_only():
    x = tf.placeholder(tf.float32, [2])
    d = tf.placeholder(tf.float32, [2])
    p = tf.Print(x * 2.0, [d])
    grad_x, grad_d = tf.gradients(tf.reduce_sum(p), [x, d])
    assert grad_d is None
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(grad_x, {x: [1.0, 2.0], d: [0.0, 0.0]}),
                                      [2.0, 2.0])


@_in_process_only
def test_tf_print_formats_like_tf2(executor, capfd):
    import sys

    matrix = tf.constant(np.arange(40).reshape(8, 5))
    cube = tf.constant(np.arange(24).reshape(2, 3, 4))
    ops = [tf.print("case", 0, tf.constant(np.arange(10))),
           tf.print(cube, output_stream=sys.stdout),
           tf.print(matrix),
           tf.print("sum", tf.constant(np.arange(10)), summarize=2, sep="|", end="!\n"),
           tf.print(tf.constant(np.arange(10)), summarize=-1),
           tf.print({"a": tf.constant(1)}, [1, tf.constant(2)]),
           tf.print(tf.constant(["a\nb", 'c"'])),
           tf.print(tf.constant("raw scalar string"))]
    assert ops[0].type == "PrintV2" and ops[0].inputs[0].op.type == "StringFormat"
    assert ops[0].inputs[0].op.get_attr("template") == "case 0 {}"
    with tf.Session() as sess:
        for op in ops:
            assert sess.run(op) is None
    captured = capfd.readouterr()
    assert captured.out == ("[[[0 1 2 3]\n  [4 5 6 7]\n  [8 9 10 11]]\n\n"
                            " [[12 13 14 15]\n  [16 17 18 19]\n  [20 21 22 23]]]\n")
    assert captured.err == (
        "case 0 [0 1 2 ... 7 8 9]\n"
        "[[0 1 2 3 4]\n [5 6 7 8 9]\n [10 11 12 13 14]\n ...\n"
        " [25 26 27 28 29]\n [30 31 32 33 34]\n [35 36 37 38 39]]\n"
        "sum|[0 1 ... 8 9]!\n"
        "[0 1 2 3 4 5 6 7 8 9]\n"
        "{'a': 1} [1, 2]\n"
        '["a\\nb" "c\\""]\n'
        "raw scalar string\n")


def test_strings_format(executor):
    f = tf.strings.format("x={} y={}", [tf.constant([1, 2]), tf.constant("s")])
    g = tf.strings.format("{} and {}", [tf.constant(3.0), tf.constant(np.arange(6).reshape(2, 3))],
                          summarize=1)
    assert f.op.type == "StringFormat" and f.dtype == tf.string and f.shape.rank == 0
    with tf.Session() as sess:
        assert sess.run(f) == b'x=[1 2] y="s"'
        assert sess.run(g) == b"3 and [[0 ... 2]\n [3 ... 5]]"
    with pytest.raises(ValueError, match="The template expects 2 tensors, but the inputs only "
                                         "has 1"):
        tf.strings.format("{} {}", [tf.constant(1)])


def test_summarize_value_layouts():
    assert summarize_value(np.arange(10), 3) == "0 1 2..."
    assert summarize_value(np.arange(10), 3, print_v2=True) == "[0 1 2 ... 7 8 9]"
    assert summarize_value(np.zeros((2, 0)), 3, print_v2=True) == "[\n ...]"
    assert summarize_value(np.array(7), 0) == "..."
    assert summarize_value(np.array([1.5, np.nan]), 3, print_v2=True) == "[1.5 nan]"


# ---- graphs -----------------------------------------------------------------------------------

def test_graph_def_round_trip_keeps_asserts_and_prints(executor):
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [None], name="x")
        check = tf.assert_positive(x, name="check")
        with tf.control_dependencies([check]):
            out = tf.identity(tf.Print(x, [x], message="x="), name="out")
        tf.identity_n([x, out], name="pair")
    graph_def = graph.as_graph_def()
    node = next(n for n in graph_def.node if n.op == "Assert")
    assert graph_io.python_value_of(node.attr["summarize"]) == 3
    imported = tf.Graph()
    with imported.as_default():
        tf.import_graph_def(graph_def, name="")
        with tf.Session() as sess:
            np.testing.assert_array_equal(sess.run("pair:1", {"x:0": [1.0]}), [1.0])
            with pytest.raises(tf.errors.InvalidArgumentError, match="assertion failed"):
                sess.run("out:0", {"x:0": [-1.0]})
