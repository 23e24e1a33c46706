"""TF 1's reference variables: ``tf.Variable(..., use_resource=False)``, ``VariableV2`` and the
ops that take a reference (Assign*, Scatter*, IsVariableInitialized, the optimizers' Apply*).

Names, dtypes and error messages were checked against TF 2.21 (``tf.compat.v1`` with v2
behaviour disabled); values are numpy-computed.
"""

import os

import numpy as np
import pytest

import sessionlib as tf
from sessionlib import dtypes, errors
from sessionlib.ops import ref_variable_ops as ref_ops


def _ref_variable(value, name="v", **kwargs):
    return tf.Variable(value, name=name, use_resource=False, **kwargs)


# ---- dtypes -----------------------------------------------------------------------------------

def test_reference_dtypes_are_tfs():
    ref = dtypes.float32_ref
    assert ref.as_datatype_enum == 101 and ref.name == "float32_ref"
    assert repr(ref) == "tf.float32_ref" and str(ref) == "<dtype: 'float32_ref'>"
    assert ref.base_dtype is tf.float32 and tf.float32._as_ref is ref and ref._as_ref is ref
    assert ref._is_ref_dtype and not tf.float32._is_ref_dtype
    assert ref.is_floating and ref.as_numpy_dtype is np.float32
    assert ref != tf.float32
    # TF: a base type accepts its reference type, not the converse.
    assert tf.float32.is_compatible_with(ref) and not ref.is_compatible_with(tf.float32)
    assert tf.as_dtype("int32_ref") is dtypes.int32_ref and tf.as_dtype(103) is dtypes.int32_ref


# ---- the graph TF 1 builds ------------------------------------------------------------------------

def test_ref_variable_builds_tf1s_graph():
    with tf.Graph().as_default() as graph:
        v = _ref_variable([1.0, 2.0])
        assert v.op.type == "VariableV2" and v.name == "v:0"
        assert v.dtype is dtypes.float32_ref
        assert repr(v) == "<tf.Variable 'v:0' shape=(2,) dtype=float32_ref>"
        assert v.value().name == "v/read:0" and v.value().dtype is tf.float32
        assert v.initializer.name == "v/Assign" and v.initializer.type == "Assign"
        assert v.initial_value.name == "v/initial_value:0"
        assert v.read_value().name == "read:0"
        assert v in tf.global_variables() and v in tf.trainable_variables()
        nodes = {node.name: node for node in graph.as_graph_def().node}
        assert nodes["v"].attr["dtype"].type == tf.float32.as_datatype_enum
        assert list(nodes["v/Assign"].input) == ["v", "v/initial_value"]
        assert nodes["v/Assign"].attr["T"].type == tf.float32.as_datatype_enum
        assert nodes["v/Assign"].attr["validate_shape"].b
        assert list(nodes["v/read"].input) == ["v"]


def test_a_ref_tensor_reads_as_its_base_dtype_at_other_inputs():
    with tf.Graph().as_default():
        v = _ref_variable([[1.0, 2.0]])
        assert tf.matmul(v._ref(), tf.ones([2, 1])).dtype is tf.float32
        assert tf.identity(v._ref()).dtype is tf.float32
        assert ref_ops.ref_identity(v).dtype is dtypes.float32_ref
        assert v.assign([[3.0, 4.0]]).dtype is dtypes.float32_ref


def test_static_checks():
    with tf.Graph().as_default():
        v = _ref_variable([1.0, 2.0])
        with pytest.raises(ValueError):
            v.assign([1.0, 2.0, 3.0])
        with pytest.raises(TypeError):
            tf.get_default_graph().create_op("Assign", [tf.constant([1.0, 2.0]),
                                                        tf.constant([1.0, 2.0])])
        with pytest.raises(TypeError):
            ref_ops.scatter_update(tf.constant([1.0]), [0], [2.0])


def test_default_variables_stay_resource_variables():
    with tf.Graph().as_default():
        assert tf.Variable(1.0).op.type == "VarHandleOp"
        assert tf.get_variable("g", [2]).op.type == "VarHandleOp"
        ref = tf.get_variable("r", [2], use_resource=False)
        assert ref.op.type == "VariableV2" and ref.dtype is dtypes.float32_ref


# ---- running ----------------------------------------------------------------------------------------

def test_initialize_read_and_update():
    with tf.Graph().as_default():
        v = _ref_variable([1.0, 2.0])
        product = tf.matmul(tf.reshape(v, [1, 2]), tf.ones([2, 1]))
        assign = v.assign([3.0, 4.0])
        add = v.assign_add([1.0, 1.0])
        sub = v.assign_sub([0.5, 0.5])
        initialized = tf.is_variable_initialized(v)
        report = tf.report_uninitialized_variables()
        with tf.Session() as sess:
            assert not sess.run(initialized)
            assert list(sess.run(report)) == [b"v"]
            sess.run(tf.global_variables_initializer())
            assert sess.run(initialized) and list(sess.run(report)) == []
            np.testing.assert_array_equal(sess.run(v), [1.0, 2.0])
            np.testing.assert_array_equal(sess.run(product), [[3.0]])
            np.testing.assert_array_equal(sess.run(assign), [3.0, 4.0])
            np.testing.assert_array_equal(sess.run(add), [4.0, 5.0])
            np.testing.assert_array_equal(sess.run(sub), [3.5, 4.5])
            np.testing.assert_array_equal(sess.run(v.value()), [3.5, 4.5])
            np.testing.assert_array_equal(v.eval(sess), [3.5, 4.5])


def test_a_read_after_an_update_sees_it_through_control_dependencies():
    with tf.Graph().as_default():
        v = _ref_variable(1.0)
        add = v.assign_add(2.0, read_value=False)
        with tf.control_dependencies([add]):
            after = tf.identity(v._ref())
        with tf.Session() as sess:
            sess.run(v.initializer)
            assert sess.run(after) == 3.0
            assert sess.run(after) == 5.0


def test_a_fetched_value_never_changes_later():
    with tf.Graph().as_default():
        v = _ref_variable([1.0, 2.0])
        add = v.assign_add([1.0, 1.0])
        with tf.Session() as sess:
            sess.run(v.initializer)
            before = sess.run(v)
            sess.run(add)
            np.testing.assert_array_equal(before, [1.0, 2.0])


def test_uninitialized_reads_and_updates_fail_as_in_tf():
    with tf.Graph().as_default():
        v = _ref_variable([1.0, 2.0])
        add = v.assign_add([1.0, 1.0])
        scatter = ref_ops.scatter_add(v, [0], [1.0])
        with tf.Session() as sess:
            for fetch in (v, v.value(), add, scatter):
                with pytest.raises(errors.FailedPreconditionError,
                                   match="Attempting to use uninitialized value v"):
                    sess.run(fetch)
            with pytest.raises(errors.FailedPreconditionError) as info:
                sess.run(v.value())
            assert info.value.op.name == "v/read"


def test_assign_validates_the_shape_at_run_time():
    with tf.Graph().as_default():
        v = _ref_variable([1.0, 2.0])
        value = tf.placeholder(tf.float32, [None])
        checked = tf.assign(v, value)
        unchecked = tf.assign(v, value, validate_shape=False)
        with tf.Session() as sess:
            # TF checks against the declared shape even before the first assignment.
            with pytest.raises(errors.InvalidArgumentError,
                               match=r"Assign requires shapes of both tensors to match. "
                                     r"lhs shape= \[2\] rhs shape= \[3\]"):
                sess.run(checked, {value: [1.0, 2.0, 3.0]})
            np.testing.assert_array_equal(sess.run(checked, {value: [5.0, 6.0]}), [5.0, 6.0])
            np.testing.assert_array_equal(sess.run(unchecked, {value: [1.0, 2.0, 3.0]}),
                                          [1.0, 2.0, 3.0])


@pytest.mark.parametrize("function, expected", [
    (ref_ops.scatter_update, lambda v, i, u: _np_scatter(v, i, u, None)),
    (ref_ops.scatter_add, lambda v, i, u: _np_scatter(v, i, u, np.add)),
    (ref_ops.scatter_sub, lambda v, i, u: _np_scatter(v, i, u, np.subtract)),
    (ref_ops.scatter_mul, lambda v, i, u: _np_scatter(v, i, u, np.multiply)),
    (ref_ops.scatter_div, lambda v, i, u: _np_scatter(v, i, u, np.divide)),
    (ref_ops.scatter_min, lambda v, i, u: _np_scatter(v, i, u, np.minimum)),
    (ref_ops.scatter_max, lambda v, i, u: _np_scatter(v, i, u, np.maximum)),
], ids=lambda item: getattr(item, "__name__", ""))
def test_scatter_ops(function, expected):
    initial = np.arange(1.0, 9.0, dtype=np.float32).reshape(4, 2)
    indices = np.array([2, 0, 2], np.int32) if function is not ref_ops.scatter_update \
        else np.array([2, 0], np.int32)
    updates = np.arange(2.0, 2.0 + 2 * len(indices), dtype=np.float32).reshape(-1, 2)
    with tf.Graph().as_default():
        v = _ref_variable(initial)
        out = function(v, indices, updates)
        with tf.Session() as sess:
            sess.run(v.initializer)
            np.testing.assert_allclose(sess.run(out), expected(initial, indices, updates),
                                       rtol=1e-6)


def _np_scatter(values, indices, updates, ufunc):
    values = values.copy()
    if ufunc is None:
        values[indices] = updates
    else:
        ufunc.at(values, indices, updates)
    return values


def test_scatter_errors_and_integer_division():
    with tf.Graph().as_default():
        v = _ref_variable(np.array([7, -7, 9], np.int32))
        div = ref_ops.scatter_div(v, [0, 1], [2, 2])
        bad = ref_ops.scatter_update(v, [3], [1])
        with tf.Session() as sess:
            sess.run(v.initializer)
            np.testing.assert_array_equal(sess.run(div), [3, -3, 9])  # C++ truncation
            with pytest.raises(errors.InvalidArgumentError, match=r"indices\[0\] = 3 is not in"):
                sess.run(bad)


def test_scatter_nd_ops():
    initial = np.zeros((2, 3), np.float32)
    indices = np.array([[0, 1], [1, 2], [0, 1]], np.int64)
    updates = np.array([1.0, 2.0, 3.0], np.float32)
    with tf.Graph().as_default():
        v = _ref_variable(initial)
        add = ref_ops.scatter_nd_add(v, indices, updates)
        sub = ref_ops.scatter_nd_sub(v, indices[:1], updates[:1])
        rows = ref_ops.scatter_nd_update(v, [[1]], [[7.0, 8.0, 9.0]])
        with tf.Session() as sess:
            sess.run(v.initializer)
            np.testing.assert_array_equal(sess.run(add), [[0, 4, 0], [0, 0, 2]])
            np.testing.assert_array_equal(sess.run(sub), [[0, 3, 0], [0, 0, 2]])
            np.testing.assert_array_equal(sess.run(rows), [[0, 3, 0], [7, 8, 9]])


def test_gradients_with_respect_to_a_ref_variable():
    with tf.Graph().as_default():
        v = _ref_variable([1.0, -2.0])
        loss = tf.reduce_sum(v * v) + tf.reduce_sum(tf.identity(ref_ops.ref_identity(v)) * 3.0)
        grad, = tf.gradients(loss, v)
        with tf.Session() as sess:
            sess.run(v.initializer)
            np.testing.assert_allclose(sess.run(grad), [2.0 * 1.0 + 3.0, 2.0 * -2.0 + 3.0])


@pytest.mark.parametrize("make_optimizer, op_type", [
    (lambda: tf.train.GradientDescentOptimizer(0.02), "ApplyGradientDescent"),
    (lambda: tf.train.MomentumOptimizer(0.01, 0.5), "ApplyMomentum"),
    (lambda: tf.train.AdamOptimizer(0.1), "ApplyAdam"),
])
def test_optimizers_train_ref_variables_as_resource_variables(make_optimizer, op_type):
    x = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)
    y = np.array([[1.0], [2.0]], np.float32)

    def train(use_resource):
        with tf.Graph().as_default() as graph:
            w = tf.Variable([[0.5], [-0.5]], name="w", use_resource=use_resource)
            b = tf.Variable(0.1, name="b", use_resource=use_resource)
            loss = tf.reduce_mean(tf.square(tf.matmul(x, w) + b - y))
            step = make_optimizer().minimize(loss)
            types = {op.type for op in graph.get_operations()}
            with tf.Session() as sess:
                sess.run(tf.global_variables_initializer())
                losses = [sess.run([loss, step])[0] for _ in range(5)]
                return losses, sess.run([w, b]), types

    ref_losses, ref_values, ref_types = train(False)
    losses, values, _ = train(None)
    assert op_type in ref_types and not any(t.startswith("Resource") for t in ref_types)
    assert ref_losses[-1] < ref_losses[0]
    np.testing.assert_allclose(ref_losses, losses, rtol=1e-6)
    for ref_value, value in zip(ref_values, values):
        np.testing.assert_allclose(ref_value, value, rtol=1e-6)


def test_saver_round_trip(tmp_path):
    with tf.Graph().as_default():
        v = _ref_variable([1.0, 2.0])
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(v.initializer)
            path = saver.save(sess, os.path.join(str(tmp_path), "model"))
            sess.run(v.assign([9.0, 9.0]))
            saver.restore(sess, path)
            np.testing.assert_array_equal(sess.run(v), [1.0, 2.0])


def test_two_devices_read_a_reference_before_sending_it():
    config = tf.ConfigProto(device_count={"CPU": 2})
    with tf.Graph().as_default():
        with tf.device("/cpu:0"):
            v = _ref_variable([1.0, 2.0])
        with tf.device("/cpu:1"):
            doubled = tf.identity(v._ref()) * 2.0
        with tf.Session(config=config) as sess:
            sess.run(v.initializer)
            np.testing.assert_array_equal(sess.run(doubled), [2.0, 4.0])


def test_graph_def_round_trip_runs():
    with tf.Graph().as_default() as graph:
        v = _ref_variable([1.0, 2.0])
        v.assign_add([1.0, 1.0], name="add")
    with tf.Graph().as_default():
        tf.import_graph_def(graph.as_graph_def(), name="")
        imported = tf.get_default_graph()
        assert imported.get_tensor_by_name("v:0").dtype is dtypes.float32_ref
        with tf.Session() as sess:
            sess.run("v/Assign")
            np.testing.assert_array_equal(sess.run("add:0"), [2.0, 3.0])
            np.testing.assert_array_equal(sess.run("v/read:0"), [2.0, 3.0])
