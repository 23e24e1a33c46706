"""tf.train.ProximalGradientDescentOptimizer, ProximalAdagradOptimizer and AdagradDAOptimizer:
several steps against numpy writings of TF's update rules (dense, and sparse through
``embedding_lookup``; l1 and l2 on and off; resource and reference variables), slot names and
shapes, the global step of AdagradDA, the update ops' C driver, and errors.
"""

import numpy as np
import pytest

import sessionlib as tf
from sessionlib import dtypes
from sessionlib._core import training
from sessionlib.ops import training_ops

STEPS = 4
START = np.array([[1.0, -2.0, 0.5], [0.3, 0.01, -0.7], [2.0, 1.5, -1.0], [0.2, 0.1, 0.05]])
# The loss is sum(x * x * WEIGHTS + 0.7 * x) over the looked-up rows: its gradient is
# 2 * x * WEIGHTS + 0.7, which crosses zero, so l1 clips some weights to exactly zero.
WEIGHTS = np.linspace(-1, 1, 12).reshape(4, 3)
IDS = np.array([0, 2, 0, 3])   # row 0 twice (summed gradients), row 1 never
REGULARIZATION = [(0.0, 0.0), (0.05, 0.0), (0.0, 0.1), (0.3, 0.2)]
TOLERANCE = {np.float32: dict(rtol=1e-5, atol=1e-6), np.float64: dict(rtol=1e-12, atol=1e-13)}


# ---- TF's update rules, in numpy (float64) ---------------------------------------------------

def _shrink(x, threshold):
    return np.sign(x) * np.maximum(np.abs(x) - threshold, 0.0)


def _proximal_gd_step(state, grad, lr, l1, l2, step):
    del step
    x = state["var"] - lr * grad
    state["var"] = (_shrink(x, lr * l1) if l1 > 0 else x) / (1 + lr * l2)


def _proximal_adagrad_step(state, grad, lr, l1, l2, step):
    del step
    state["accumulator"] = state["accumulator"] + grad * grad
    rate = lr / np.sqrt(state["accumulator"])
    x = state["var"] - rate * grad
    state["var"] = (_shrink(x, rate * l1) if l1 > 0 else x) / (1 + rate * l2)


def _adagrad_da_step(state, grad, lr, l1, l2, step):
    state["gradient_accumulator"] = state["gradient_accumulator"] + grad
    state["gradient_squared_accumulator"] = state["gradient_squared_accumulator"] + grad * grad
    g_acc = state["gradient_accumulator"]
    numerator = _shrink(g_acc, step * l1) if l1 > 0 else g_acc
    state["var"] = -lr * numerator / (step * lr * l2
                                      + np.sqrt(state["gradient_squared_accumulator"]))


# name -> (make the optimizer from (l1, l2, global_step), numpy step, learning rate, slots with
# their start values)
OPTIMIZERS = {
    "ProximalGradientDescent": (
        lambda l1, l2, gs: tf.train.ProximalGradientDescentOptimizer(
            0.1, l1_regularization_strength=l1, l2_regularization_strength=l2),
        _proximal_gd_step, 0.1, {}),
    "ProximalAdagrad": (
        lambda l1, l2, gs: tf.train.ProximalAdagradOptimizer(
            0.2, initial_accumulator_value=0.1, l1_regularization_strength=l1,
            l2_regularization_strength=l2),
        _proximal_adagrad_step, 0.2, {"accumulator": 0.1}),
    "AdagradDA": (
        lambda l1, l2, gs: tf.train.AdagradDAOptimizer(
            0.3, gs, initial_gradient_squared_accumulator_value=0.2,
            l1_regularization_strength=l1, l2_regularization_strength=l2),
        _adagrad_da_step, 0.3, {"gradient_accumulator": 0.0,
                                "gradient_squared_accumulator": 0.2}),
}


def _expected(name, l1, l2, sparse):
    """The variable and the slots after each of STEPS steps, by the numpy rules."""
    _, step_fn, lr, slots = OPTIMIZERS[name]
    # Python-float hyper-parameters become float32 tensors, cast to the variable's dtype.
    lr, l1, l2 = (float(np.float32(value)) for value in (lr, l1, l2))
    state = {"var": START.copy()}
    state.update({slot: np.full(START.shape, value) for slot, value in slots.items()})
    history = []
    for step in range(1, STEPS + 1):
        if sparse:
            rows_grad = 2 * state["var"][IDS] * WEIGHTS[:len(IDS)] + 0.7
            rows = np.unique(IDS)
            summed = np.zeros((len(rows), 3))
            np.add.at(summed, np.searchsorted(rows, IDS), rows_grad)
            touched = {key: value[rows] for key, value in state.items()}
            step_fn(touched, summed, lr, l1, l2, step)
            for key, value in touched.items():
                state[key] = state[key].copy()
                state[key][rows] = value
        else:
            step_fn(state, 2 * state["var"] * WEIGHTS + 0.7, lr, l1, l2, step)
        history.append({key: value.copy() for key, value in state.items()})
    return history


def _train(name, l1, l2, sparse, dtype, use_resource=True):
    """Runs STEPS steps in sessionlib; returns the history like `_expected` and the slots."""
    make, _, _, slot_starts = OPTIMIZERS[name]
    graph = tf.Graph()
    with graph.as_default():
        global_step = tf.train.get_or_create_global_step()
        var = tf.Variable(START.astype(dtype), name="v", use_resource=use_resource)
        x = tf.nn.embedding_lookup(var, tf.constant(IDS)) if sparse else var
        weights = tf.constant(WEIGHTS[:x.shape[0]].astype(dtype))
        loss = tf.reduce_sum(x * x * weights + x * 0.7)
        optimizer = make(l1, l2, global_step)
        train = optimizer.minimize(loss, global_step=global_step)
        slots = {slot: optimizer.get_slot(var, slot) for slot in slot_starts}
        history = []
        with tf.Session(graph=graph) as sess:
            sess.run(tf.global_variables_initializer())
            for _ in range(STEPS):
                sess.run(train)
                values = sess.run({"var": var, **slots})
                history.append(values)
            assert sess.run(global_step) == STEPS
    return history, optimizer, slots


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("l1,l2", REGULARIZATION)
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_steps_follow_tf_rules(name, l1, l2, sparse, dtype, executor):
    got, _, _ = _train(name, l1, l2, sparse, dtype)
    want = _expected(name, l1, l2, sparse)
    for got_step, want_step in zip(got, want):
        assert set(got_step) == set(want_step)
        for key, value in got_step.items():
            assert value.dtype == np.dtype(dtype)
            np.testing.assert_allclose(value, want_step[key], **TOLERANCE[dtype], err_msg=key)
    final = got[-1]["var"]
    if sparse:
        np.testing.assert_array_equal(final[1], START[1].astype(dtype))  # row 1 never looked up
    # l1 sets weights to exactly zero, the same ones as the rules do.
    np.testing.assert_array_equal(final == 0, want[-1]["var"] == 0)
    assert not np.allclose(final, START)


@pytest.mark.parametrize("name", ["ProximalGradientDescent", "ProximalAdagrad", "AdagradDA"])
def test_reference_variables_take_the_reference_ops(name):
    got, _, _ = _train(name, 0.05, 0.1, sparse=False, dtype=np.float32, use_resource=False)
    want = _expected(name, 0.05, 0.1, sparse=False)
    np.testing.assert_allclose(got[-1]["var"], want[-1]["var"], **TOLERANCE[np.float32])
    got, _, _ = _train(name, 0.05, 0.1, sparse=True, dtype=np.float32, use_resource=False)
    want = _expected(name, 0.05, 0.1, sparse=True)
    np.testing.assert_allclose(got[-1]["var"], want[-1]["var"], **TOLERANCE[np.float32])


def test_slot_names_shapes_and_start_values():
    expected = {"ProximalGradientDescent": {},
                "ProximalAdagrad": {"accumulator": ("v/ProximalAdagrad", 0.1)},
                "AdagradDA": {"gradient_accumulator": ("v/AdagradDA", 0.0),
                              "gradient_squared_accumulator": ("v/AdagradDA_1", 0.2)}}
    for name, slots in expected.items():
        make = OPTIMIZERS[name][0]
        with tf.Graph().as_default():
            global_step = tf.train.get_or_create_global_step()
            var = tf.Variable(START.astype(np.float32), name="v")
            optimizer = make(0.0, 0.0, global_step)
            assert optimizer.get_name() == name
            optimizer.minimize(tf.reduce_sum(var * var), global_step=global_step)
            assert optimizer.get_slot_names() == sorted(slots)
            with tf.Session() as sess:
                sess.run(tf.global_variables_initializer())
                for slot, (op_name, start) in slots.items():
                    variable = optimizer.get_slot(var, slot)
                    assert variable.op.name == op_name
                    assert variable.shape.as_list() == [4, 3]
                    assert variable not in tf.trainable_variables()
                    np.testing.assert_array_equal(sess.run(variable.initial_value),
                                                  np.full((4, 3), start, np.float32))
            assert sorted(v.op.name for v in optimizer.variables()) == sorted(
                op_name for op_name, _ in slots.values())
            update_types = {op.type for op in tf.get_default_graph().get_operations()
                            if op.type.startswith("ResourceApply")}
            assert update_types == {f"ResourceApply{name}"}


def test_adagrad_da_steps_count_from_the_global_step():
    """The update uses t = global_step + 1: starting the global step at 9 is step 10."""
    with tf.Graph().as_default():
        global_step = tf.Variable(9, dtype=tf.int64, name="global_step", trainable=False)
        var = tf.Variable([1.0, -1.0], dtype=tf.float64, name="v")
        optimizer = tf.train.AdagradDAOptimizer(0.5, global_step,
                                                l1_regularization_strength=0.01,
                                                l2_regularization_strength=0.1)
        train = optimizer.apply_gradients([(tf.constant([0.3, -0.05], tf.float64), var)],
                                          global_step=global_step)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(train)
            got = sess.run(var)
            assert sess.run(global_step) == 10
    g_acc, gg_acc = np.array([0.3, -0.05]), 0.1 + np.array([0.3, -0.05]) ** 2
    want = -0.5 * _shrink(g_acc, 10 * 0.01) / (10 * 0.5 * 0.1 + np.sqrt(gg_acc))
    np.testing.assert_allclose(got, want, rtol=1e-6)  # float32 hyper-parameters
    assert got[1] == 0.0   # |g_acc| = 0.05 is within t * l1 = 0.1


# ---- errors ---------------------------------------------------------------------------------

def test_constructor_errors():
    with pytest.raises(ValueError, match="initial_accumulator_value must be positive"):
        tf.train.ProximalAdagradOptimizer(0.1, initial_accumulator_value=0.0)
    with pytest.raises(ValueError, match="initial_gradient_squared_accumulator_value"):
        tf.train.AdagradDAOptimizer(0.1, None, initial_gradient_squared_accumulator_value=-1.0)
    with pytest.raises(ValueError, match="optimizer name"):
        tf.train.ProximalGradientDescentOptimizer(0.1, name="")


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("lr,l1,l2,message", [
    (0.1, -0.5, 0.0, "l1 regularization strength is not a non-negative scalar"),
    (0.1, 0.0, -0.5, "l2 regularization strength is not a non-negative scalar"),
    (0.0, 0.0, 0.0, "lr is not a positive scalar"),
])
def test_proximal_adagrad_rejects_bad_hyper_parameters_when_run(lr, l1, l2, message, sparse,
                                                                 executor):
    """TF's ProximalAdagrad kernels check lr > 0 and l1, l2 >= 0 at run time; nothing moves."""
    with tf.Graph().as_default():
        var = tf.Variable(START.astype(np.float32), name="v")
        x = tf.nn.embedding_lookup(var, tf.constant(IDS)) if sparse else var
        optimizer = tf.train.ProximalAdagradOptimizer(lr, l1_regularization_strength=l1,
                                                      l2_regularization_strength=l2)
        train = optimizer.minimize(tf.reduce_sum(x * x))
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            with pytest.raises(tf.errors.InvalidArgumentError, match=message):
                sess.run(train)
            np.testing.assert_array_equal(sess.run(var), START.astype(np.float32))
            np.testing.assert_array_equal(
                sess.run(optimizer.get_slot(var, "accumulator")), np.full((4, 3), 0.1,
                                                                          np.float32))


def test_proximal_gradient_descent_does_not_check_its_strengths():
    """As TF's kernel: a negative l1 is simply "no l1" (the shrink applies only when l1 > 0)."""
    with tf.Graph().as_default():
        var = tf.Variable([1.0, 2.0], name="v")
        train = tf.train.ProximalGradientDescentOptimizer(
            0.1, l1_regularization_strength=-1.0).minimize(tf.reduce_sum(var * var))
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(train)
            np.testing.assert_allclose(sess.run(var), [0.8, 1.6], rtol=1e-6)


def test_update_ops_check_the_step_and_scalars_while_building():
    w = tf.Variable(np.zeros((2, 3), np.float32), name="w")
    acc = tf.Variable(np.zeros((2, 3), np.float32), name="acc")
    acc2 = tf.Variable(np.zeros((2, 3), np.float32), name="acc2")
    grad, lr = tf.zeros([2, 3]), tf.constant(0.1)
    with pytest.raises(TypeError, match="int64"):
        training_ops.apply_op("ResourceApplyAdagradDA",
                              [w, acc, acc2, grad, lr, lr, lr, tf.constant(1, tf.int32)])
    with pytest.raises(ValueError, match="rank 0"):
        training_ops.apply_op("ResourceApplyAdagradDA",
                              [w, acc, acc2, grad, lr, lr, lr, tf.constant([1], tf.int64)])
    with pytest.raises(ValueError, match="rank 0"):
        training_ops.apply_op("ResourceApplyProximalGradientDescent",
                              [w, tf.constant([0.1]), lr, lr, grad])
    with pytest.raises(TypeError, match="does not match type float32"):
        training_ops.apply_op("ResourceApplyProximalAdagrad",
                              [w, acc, lr, tf.constant(0.0, tf.float64), lr, grad])
    with pytest.raises(ValueError, match="same number of rows"):
        training_ops.apply_op("ResourceSparseApplyProximalAdagrad",
                              [w, acc, lr, lr, lr, grad, tf.constant([0, 1, 1])])
    with tf.Graph().as_default():
        step = tf.Variable(0, dtype=tf.int32, name="step")
        var = tf.Variable([1.0], name="v")
        with pytest.raises(TypeError, match="int64"):
            tf.train.AdagradDAOptimizer(0.1, step).minimize(tf.reduce_sum(var))


def test_sparse_index_out_of_range_changes_nothing(executor):
    with tf.Graph().as_default():
        var = tf.Variable(START.astype(np.float32), name="v")
        optimizer = tf.train.AdagradDAOptimizer(0.1, tf.constant(0, tf.int64))
        grad = tf.IndexedSlices(tf.ones([2, 3]), tf.constant([1, 7]), tf.constant([4, 3]))
        train = optimizer.apply_gradients([(grad, var)])
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            with pytest.raises(tf.errors.InvalidArgumentError, match="not in"):
                sess.run(train)
            np.testing.assert_array_equal(sess.run(var), START.astype(np.float32))


# ---- the C driver of the dense ops ----------------------------------------------------------

def _context_with(values):
    import types

    from sessionlib.runtime.context import ResourceContainer
    from sessionlib.runtime.kernels.state_kernels import (VariableResource, make_handle,
                                                          resource_key)
    container = ResourceContainer()
    handles = []
    for name, value in values.items():
        key = resource_key("var", "", name)
        resource = VariableResource("", name, dtypes.float64)
        resource.value = np.array(value, dtype=np.float64)
        container.put(key, resource)
        handles.append(make_handle(key))
    return types.SimpleNamespace(resources=container), handles


def test_dense_driver_takes_the_int64_step_in_c_and_declines_bad_strengths():
    calls = []

    def general(ctx, inputs, attrs):
        calls.append(inputs)
        return ()

    da = training.DenseApply(training.KINDS["AdagradDA"], [0, 1, 2], [4, 5, 6], 3, None,
                             False, general, lambda: 1, 7)
    ctx, handles = _context_with({"w": [1.0, -1.0], "ga": [0.0, 0.0], "gg": [0.1, 0.1]})
    scalars = [np.array(value) for value in (0.5, 0.0, 0.1)]
    grad = np.array([0.3, -0.05])
    da(ctx, (*handles, grad, *scalars, np.array(2, np.int64)), {"T": dtypes.float64})
    assert not calls, "the C driver declined a plain AdagradDA step"
    w = ctx.resources.lookup(handles[0][()]).value
    np.testing.assert_allclose(w, -0.5 * grad / (2 * 0.5 * 0.1 + np.sqrt(0.1 + grad ** 2)),
                               rtol=1e-14)
    prox = training.DenseApply(training.KINDS["ProximalAdagrad"], [0, 1], [2, 3, 4], 5, None,
                               False, general, lambda: 1)
    ctx, handles = _context_with({"w": [1.0], "acc": [0.1]})
    bad = [np.array(value) for value in (0.1, -1.0, 0.0)]
    prox(ctx, (*handles, *bad, np.array([0.2])), {"T": dtypes.float64})
    assert len(calls) == 1, "a negative l1 must go to the general driver, which raises"
    np.testing.assert_array_equal(ctx.resources.lookup(handles[0][()]).value, [1.0])
