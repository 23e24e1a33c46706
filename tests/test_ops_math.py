"""Math ops: values against numpy, TF's dtype and shape rules, run-time errors, GraphDef form,
TF 1.x spellings and the Tensor operators. Each value test runs on both executors."""

import numpy as np
import pytest

import sessionlib as tf
from sessionlib import errors


def run(fetches, feed_dict=None):
    with tf.Session() as session:
        return session.run(fetches, feed_dict)


F = np.array([[1.5, -2.0, 3.0], [0.25, 4.0, -0.5]], dtype=np.float32)
I = np.array([[7, -7, 3], [0, 9, -4]], dtype=np.int32)


# ---- elementwise values ---------------------------------------------------------------------

@pytest.mark.parametrize("fn, ref", [
    (tf.add, np.add), (tf.subtract, np.subtract), (tf.multiply, np.multiply),
    (tf.maximum, np.maximum), (tf.minimum, np.minimum), (tf.pow, np.power),
    (tf.squared_difference, lambda a, b: (a - b) ** 2),
])
def test_binary_float_values(executor, fn, ref):
    y = np.array([2.0, 3.0, -1.0], dtype=np.float32)
    np.testing.assert_allclose(run(fn(tf.constant(F), tf.constant(y))), ref(F, y), rtol=1e-6)


def test_division_family_on_ints(executor):
    x, y = tf.constant(I), tf.constant(np.array([2, -3, 5], np.int32))
    floordiv, mod, div, truediv = run([x // y, x % y, tf.div(x, y), x / y])
    np.testing.assert_array_equal(floordiv, np.floor_divide(I, [2, -3, 5]))
    np.testing.assert_array_equal(mod, np.mod(I, [2, -3, 5]))
    np.testing.assert_array_equal(div, np.floor_divide(I, [2, -3, 5]))
    assert truediv.dtype == np.float64  # int32 / int32 is float64 in TF
    np.testing.assert_allclose(truediv, I / np.array([2, -3, 5]))


@pytest.mark.parametrize("dtype, expected", [
    (tf.int8, np.float32), (tf.int16, np.float32), (tf.uint8, np.float32),
    (tf.int32, np.float64), (tf.int64, np.float64), (tf.float16, np.float16),
    (tf.float32, np.float32), (tf.float64, np.float64)])
def test_truediv_result_dtype(dtype, expected):
    result = tf.truediv(tf.constant([3, 4], dtype), tf.constant([2, 8], dtype))
    assert result.dtype == tf.as_dtype(expected)
    np.testing.assert_allclose(run(result), [1.5, 0.5])


def test_div_on_floats_is_real_division(executor):
    assert run(tf.div(tf.constant(7.0), 2.0)) == 3.5
    assert tf.div(tf.constant(7.0), 2.0).op.type == "RealDiv"
    assert tf.div(tf.constant(7), 2).op.type == "FloorDiv"
    assert tf.divide(tf.constant(7), 2).dtype == tf.float64


@pytest.mark.parametrize("fn, ref", [
    (tf.negative, np.negative), (tf.abs, np.abs), (tf.sign, np.sign), (tf.square, np.square),
    (tf.exp, np.exp), (tf.sin, np.sin), (tf.cos, np.cos), (tf.tanh, np.tanh),
    (tf.sigmoid, lambda v: 1 / (1 + np.exp(-v))),
])
def test_unary_float_values(executor, fn, ref):
    np.testing.assert_allclose(run(fn(tf.constant(F))), ref(F), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("fn, ref", [
    (tf.sqrt, np.sqrt), (tf.rsqrt, lambda v: 1 / np.sqrt(v)), (tf.log, np.log),
    (tf.log1p, np.log1p), (tf.reciprocal, lambda v: 1 / v)])
def test_unary_positive_values(executor, fn, ref):
    positive = np.abs(F) + 0.5
    np.testing.assert_allclose(run(fn(tf.constant(positive))), ref(positive), rtol=1e-6)


def test_comparisons_and_logic(executor):
    x, y = tf.constant(F), tf.constant(np.float32(1.0))
    results = run([tf.equal(x, y), tf.not_equal(x, y), tf.less(x, y), tf.less_equal(x, 3.0),
                   tf.greater(x, y), tf.greater_equal(x, 4.0)])
    expected = [F == 1, F != 1, F < 1, F <= 3, F > 1, F >= 4]
    for got, want in zip(results, expected):
        assert got.dtype == np.bool_
        np.testing.assert_array_equal(got, want)
    a = tf.constant([True, True, False, False])
    b = tf.constant([True, False, True, False])
    both, either, negated = run([tf.logical_and(a, b), tf.logical_or(a, b), tf.logical_not(a)])
    np.testing.assert_array_equal(both, [True, False, False, False])
    np.testing.assert_array_equal(either, [True, True, True, False])
    np.testing.assert_array_equal(negated, [False, False, True, True])


def test_add_n_and_matmul(executor):
    a = tf.constant(F)
    np.testing.assert_allclose(run(tf.add_n([a, a, a])), 3 * F)
    b = np.arange(12, dtype=np.float32).reshape(3, 4)
    np.testing.assert_allclose(run(tf.matmul(a, tf.constant(b))), F @ b, rtol=1e-6)
    np.testing.assert_allclose(run(tf.matmul(a, a, transpose_b=True)), F @ F.T, rtol=1e-6)
    np.testing.assert_allclose(run(tf.matmul(a, a, transpose_a=True)), F.T @ F, rtol=1e-6)
    batch = np.arange(24, dtype=np.float64).reshape(2, 3, 4)
    product = tf.matmul(tf.constant(batch), tf.constant(batch), transpose_b=True)
    assert product.op.type == "BatchMatMulV2"
    assert product.shape == tf.TensorShape([2, 3, 3])
    np.testing.assert_allclose(run(product), batch @ batch.transpose(0, 2, 1))
    ints = tf.constant(I)
    np.testing.assert_array_equal(run(tf.matmul(ints, ints, transpose_b=True)), I @ I.T)


# ---- reductions -----------------------------------------------------------------------------

@pytest.mark.parametrize("fn, ref", [
    (tf.reduce_sum, np.sum), (tf.reduce_mean, np.mean), (tf.reduce_max, np.max),
    (tf.reduce_min, np.min), (tf.reduce_prod, np.prod)])
def test_float_reductions(executor, fn, ref):
    x = tf.constant(F)
    outs = run([fn(x), fn(x, 0), fn(x, axis=[1]), fn(x, -1, keepdims=True),
                fn(x, reduction_indices=[0, 1]), fn(x, 1, keep_dims=True)])
    expected = [ref(F), ref(F, 0), ref(F, 1), ref(F, -1, keepdims=True), ref(F),
                ref(F, 1, keepdims=True)]
    for got, want in zip(outs, expected):
        assert np.shape(got) == np.shape(want)
        np.testing.assert_allclose(got, want, rtol=1e-6)


def test_reduce_mean_on_ints_truncates(executor):
    values = np.array([[1, 2], [-3, -4]], np.int32)
    means = run([tf.reduce_mean(values), tf.reduce_mean(values, 1), tf.reduce_mean(values, 0)])
    assert means[0] == -1  # -4 / 4
    np.testing.assert_array_equal(means[1], [1, -3])  # 3 // 2 = 1, -7 / 2 truncates to -3
    np.testing.assert_array_equal(means[2], [-1, -1])
    assert means[1].dtype == np.int32


def test_bool_reductions(executor):
    x = tf.constant([[True, False], [True, True]])
    outs = run([tf.reduce_any(x), tf.reduce_all(x), tf.reduce_all(x, 1), tf.reduce_any(x, 0)])
    assert outs[0] and not outs[1]
    np.testing.assert_array_equal(outs[2], [False, True])
    np.testing.assert_array_equal(outs[3], [True, True])


def test_reduction_with_tensor_axis(executor):
    axis = tf.placeholder(tf.int32, [])
    total = tf.reduce_sum(tf.constant(F), axis)
    assert total.shape == tf.TensorShape([None])
    np.testing.assert_allclose(run(total, {axis: 1}), F.sum(1))
    kept = tf.reduce_sum(tf.constant(F), axis, keepdims=True)
    assert kept.shape == tf.TensorShape([None, None])


def test_reduce_join(executor):
    words = tf.constant([["a", "b"], ["c", "d"]])
    outs = run([tf.reduce_join(words), tf.reduce_join(words, 0),
                tf.reduce_join(words, 1, separator=" "), tf.reduce_join(words, [0, 1]),
                tf.reduce_join(words, [1, 0]), tf.reduce_join(words, -1, keep_dims=True)])
    assert outs[0] == b"abcd"
    assert list(outs[1]) == [b"ac", b"bd"]
    assert list(outs[2]) == [b"a b", b"c d"]
    assert outs[3] == b"acbd"  # TF joins the axes in the order given
    assert outs[4] == b"abcd"
    assert outs[5].shape == (2, 1)


def test_argmax_argmin(executor):
    x = tf.constant(F)
    outs = run([tf.argmax(x), tf.argmax(x, 1), tf.argmin(x, axis=0),
                tf.arg_max(x, 1), tf.arg_min(x, dimension=1),
                tf.argmax(x, 1, output_type=tf.int32)])
    np.testing.assert_array_equal(outs[0], F.argmax(0))
    np.testing.assert_array_equal(outs[1], F.argmax(1))
    np.testing.assert_array_equal(outs[2], F.argmin(0))
    np.testing.assert_array_equal(outs[3], F.argmax(1))
    np.testing.assert_array_equal(outs[4], F.argmin(1))
    assert outs[0].dtype == np.int64 and outs[5].dtype == np.int32
    assert tf.argmax(x).shape == tf.TensorShape([3])


def test_reduction_static_shapes():
    x = tf.placeholder(tf.float32, [2, None, 4])
    assert tf.reduce_sum(x).shape == tf.TensorShape([])
    assert tf.reduce_sum(x, 1).shape == tf.TensorShape([2, 4])
    assert tf.reduce_max(x, [0, -1], keepdims=True).shape == tf.TensorShape([1, None, 1])
    assert tf.reduce_sum(tf.placeholder(tf.float32), 0).shape.rank is None
    with pytest.raises(ValueError):
        tf.reduce_sum(x, 3)
    with pytest.raises(ValueError):
        tf.reduce_sum(x, axis=0, reduction_indices=1)
    with pytest.raises(TypeError):
        tf.reduce_any(x)


# ---- cast -----------------------------------------------------------------------------------

def test_cast_and_tf1_spellings(executor):
    x = tf.constant([1.7, -2.7, 0.0])
    as_int, as_bool, as_double = run([tf.cast(x, tf.int32), tf.cast(x, "bool"),
                                      tf.to_double(x)])
    np.testing.assert_array_equal(as_int, [1, -2, 0])  # truncation toward zero
    np.testing.assert_array_equal(as_bool, [True, True, False])
    assert as_double.dtype == np.float64
    i = tf.constant([1, 2])
    assert run(tf.to_float(i)).dtype == np.float32
    assert run(tf.to_int64(i)).dtype == np.int64
    assert run(tf.to_int32(tf.to_int64(i))).dtype == np.int32
    assert tf.cast(i, tf.int32) is i
    node = tf.to_float(i).op.node_def
    assert node.op == "Cast" and node.attr["SrcT"].type == tf.int32.as_datatype_enum
    assert node.attr["DstT"].type == tf.float32.as_datatype_enum


# ---- dtype and shape rules at graph time ----------------------------------------------------

def test_python_values_take_the_tensor_dtype():
    t_int = tf.constant([1, 2])
    t_float = tf.constant([1.0, 2.0])
    assert (t_float + 1).dtype == tf.float32
    assert (t_int + 1).dtype == tf.int32
    assert (2 * t_float).dtype == tf.float32
    assert (np.float32(2) * t_float).dtype == tf.float32
    with pytest.raises(TypeError):
        t_int + 1.5  # noqa: B018
    with pytest.raises(TypeError):
        1.5 * t_int  # noqa: B018
    with pytest.raises(TypeError):
        t_int + t_float  # noqa: B018
    with pytest.raises(TypeError):
        tf.add(t_int, t_float)
    with pytest.raises(TypeError):
        tf.sqrt(t_int)
    with pytest.raises(TypeError):
        tf.logical_and(t_int, t_int)
    with pytest.raises(TypeError):
        tf.matmul(tf.constant([[1]]), tf.constant([[1.0]]))


def test_static_shape_errors_and_inference():
    a = tf.placeholder(tf.float32, [2, 3])
    with pytest.raises(ValueError):
        a + tf.placeholder(tf.float32, [4])  # noqa: B018
    with pytest.raises(ValueError):
        tf.matmul(a, a)
    with pytest.raises(ValueError):
        tf.matmul(tf.placeholder(tf.float32, [3]), a)
    with pytest.raises(ValueError):
        tf.add_n([a, tf.placeholder(tf.float32, [3, 3])])
    assert (a + tf.placeholder(tf.float32, [5, 1, 3])).shape == tf.TensorShape([5, 2, 3])
    partial = tf.placeholder(tf.float32, [None, 3]) * tf.placeholder(tf.float32, [4, 1])
    assert partial.shape == tf.TensorShape([4, 3])
    assert tf.matmul(tf.placeholder(tf.float32, [None, 3]), a,
                     transpose_b=True).shape == tf.TensorShape([None, 2])
    assert (a + tf.placeholder(tf.float32)).shape.rank is None


# ---- run-time errors ---------------------------------------------------------------------------

def test_integer_division_by_zero_is_invalid_argument(executor):
    x = tf.placeholder(tf.int32, [None])
    quotient = tf.floordiv(x, tf.constant([1, 0]))
    with tf.Session() as session:
        with pytest.raises(errors.InvalidArgumentError) as info:
            session.run(quotient, {x: [4, 5]})
    assert info.value.op is quotient.op
    with tf.Session() as session:
        with pytest.raises(errors.InvalidArgumentError):
            session.run(x % 0, {x: [1]})


def test_broadcast_mismatch_at_run_time(executor):
    x = tf.placeholder(tf.float32, [None])
    total = x + tf.placeholder_with_default(np.zeros(3, np.float32), [None])
    with tf.Session() as session:
        with pytest.raises(errors.InvalidArgumentError) as info:
            session.run(total, {x: np.ones(2, np.float32)})
    assert info.value.op is total.op


def test_matmul_mismatch_at_run_time(executor):
    a = tf.placeholder(tf.float32, [None, None])
    product = tf.matmul(a, a)
    with tf.Session() as session:
        with pytest.raises(errors.InvalidArgumentError) as info:
            session.run(product, {a: np.ones((2, 3), np.float32)})
    assert info.value.op is product.op


def test_reduction_axis_out_of_range_at_run_time(executor):
    axis = tf.placeholder(tf.int32, [])
    total = tf.reduce_sum(tf.constant(F), axis)
    with tf.Session() as session:
        with pytest.raises(errors.InvalidArgumentError) as info:
            session.run(total, {axis: 2})
    assert info.value.op is total.op


# ---- GraphDef form --------------------------------------------------------------------------

def test_graph_def_op_types_and_attrs():
    x = tf.placeholder(tf.float32, [2, 2], name="x")
    i = tf.placeholder(tf.int32, [2], name="i")
    built = {
        "AddV2": tf.add(x, x), "Sub": x - x, "Mul": x * 2, "RealDiv": x / x,
        "FloorDiv": x // x, "FloorMod": x % x, "Pow": x ** 2, "Neg": -x, "Abs": abs(x),
        "Maximum": tf.maximum(x, 0.0), "Less": x < 1, "MatMul": x @ x,
        "Sum": tf.reduce_sum(x, 1, keepdims=True), "ArgMax": tf.argmax(x, 1),
        "Cast": tf.cast(i, tf.float32), "AddN": tf.add_n([x, x]),
        "LogicalAnd": tf.logical_and(x < 1, x > 0), "Equal": tf.equal(x, x),
    }
    for op_type, tensor in built.items():
        assert tensor.op.type == op_type
    graph_def = tf.get_default_graph().as_graph_def()
    nodes = {node.name: node for node in graph_def.node}
    add_node = nodes[built["AddV2"].op.name]
    assert list(add_node.input) == ["x", "x"]
    assert add_node.attr["T"].type == tf.float32.as_datatype_enum
    sum_node = nodes[built["Sum"].op.name]
    assert sum_node.attr["keep_dims"].b is True
    assert sum_node.attr["Tidx"].type == tf.int32.as_datatype_enum
    assert nodes[built["MatMul"].op.name].attr["transpose_a"].b is False
    assert nodes[built["ArgMax"].op.name].attr["output_type"].type == \
        tf.int64.as_datatype_enum
    assert nodes[built["AddN"].op.name].attr["N"].i == 2
    assert "T" not in nodes[built["LogicalAnd"].op.name].attr
    # A constant operand is named after the op input, inside the op's scope, as in TF.
    assert built["Mul"].op.name == "mul"
    assert built["Mul"].op.inputs[1].op.name == "mul/y"
    assert (x + 1).op.name == "add"
    assert (x + 1).op.name == "add_1"


def test_graph_def_round_trip_runs(executor):
    x = tf.constant(F)
    tf.reduce_sum(tf.matmul(x, x, transpose_b=True) + 1.0, 1, name="total")
    graph_def = tf.get_default_graph().as_graph_def()
    with tf.Graph().as_default():
        (imported,) = tf.import_graph_def(graph_def, return_elements=["total:0"], name="")
        np.testing.assert_allclose(run(imported), (F @ F.T + 1).sum(1), rtol=1e-6)


# ---- Tensor operators -----------------------------------------------------------------------

def test_tensor_operators(executor):
    x = tf.constant(F)
    ones = np.ones_like(F)
    outs = run([x + 1, 1 + x, x - 1, 1 - x, x * 2, 2 * x, np.float32(2) * x, x / 2, 2 / x,
                x // 2, 7 // x, x % 2, 7 % x, x ** 2, 2 ** x, -x, abs(x),
                x < 1, x <= 1, x > 1, x >= 1, x @ tf.transpose(x), ones @ tf.transpose(x)])
    expected = [F + 1, 1 + F, F - 1, 1 - F, F * 2, 2 * F, 2 * F, F / 2, 2 / F, F // 2, 7 // F,
                F % 2, 7 % F, F ** 2, 2 ** F, -F, np.abs(F), F < 1, F <= 1, F > 1, F >= 1,
                F @ F.T, ones @ F.T]
    for index, (got, want) in enumerate(zip(outs, expected)):
        np.testing.assert_allclose(got, want, rtol=1e-6, err_msg=f"operator #{index}")


def test_bool_operators(executor):
    a = tf.constant([True, False, True])
    b = tf.constant([True, True, False])
    both, either, negated = run([a & b, a | b, ~a])
    np.testing.assert_array_equal(both, [True, False, False])
    np.testing.assert_array_equal(either, [True, True, True])
    np.testing.assert_array_equal(negated, [False, True, False])
    with pytest.raises(TypeError):
        ~tf.constant([1])  # noqa: B018


def test_equality_stays_identity():
    x = tf.constant(1.0)
    assert (x == x) is True
    assert (x == tf.constant(1.0)) is False
    assert x != tf.constant(1.0)
    assert {x: 1}[x] == 1
