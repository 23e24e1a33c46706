"""The fused Cython optimizer kernels against their numpy spec, and the update ops' kernels
through both executors.

`training.apply_dense` / `apply_sparse` / `apply_sparse_adam` (sessionlib/_core/training.pyx)
are compared with `reference_dense` / `reference_sparse` / `reference_sparse_adam`
(runtime/kernels/training_kernels.py) for every optimizer kind, flag and float dtype, with
read-only gradients, small and large (threaded) sizes. Then every ResourceApply* and
ResourceSparseApply* op runs one step on both executors (float16, float32, float64); the ops
are stateful, which is why tests/test_parity.py leaves them to this module.
"""

import numpy as np
import pytest

import sessionlib as tf
from sessionlib._core import training
from sessionlib.ops import training_ops
from sessionlib.runtime import executor as executor_lib
from sessionlib.runtime.kernels import training_kernels as ref

# kind -> (params, number of slots, flags to try). Params keep every quantity positive where
# the formulas need it (accumulators > 0, beta powers < 1).
KIND_CASES = {
    "GradientDescent": ((0.1,), 0, (0,)),
    "Momentum": ((0.1, 0.9), 1, (0, 1)),
    "Adagrad": ((0.1,), 1, (0, 1)),
    "RMSProp": ((0.01, 0.9, 0.5, 1e-6), 2, (0,)),
    "CenteredRMSProp": ((0.01, 0.9, 0.5, 1e-6), 3, (0,)),
    "Adam": ((0.81, 0.998, 0.01, 0.9, 0.999, 1e-8), 2, (0, 1)),
    "Adadelta": ((1.0, 0.95, 1e-6), 2, (0,)),
    "Ftrl": ((0.1, 0.01, 0.02, 0.05, -0.5), 2, (0,)),
    "FtrlPower": ((0.1, 0.01, 0.02, 0.0, -0.7), 2, (0,)),
    "ProximalGradientDescent": ((0.1, 0.05, 0.2), 0, (0,)),
    "ProximalGradientDescentNoL1": ((0.1, 0.0, 0.2), 0, (0,)),
    "ProximalAdagrad": ((0.1, 0.05, 0.2), 1, (0,)),
    "ProximalAdagradNoL1": ((0.1, 0.0, 0.2), 1, (0,)),
    "AdagradDA": ((0.1, 0.05, 0.2, 3.0), 2, (0,)),
    "AdagradDANoL1": ((0.1, 0.0, 0.2, 3.0), 2, (0,)),
}
TOLERANCE = {np.float32: dict(rtol=2e-5, atol=1e-6), np.float64: dict(rtol=1e-12, atol=1e-13)}


def _tolerance(name, dtype):
    """The tolerance of an optimizer's results: FTRL's variable is ``(sign(z) * l1 - z) /
    quadratic`` and its linear slot adds ``g - sigma * var``, both of which cancel, so a
    float32 ulp of an operand becomes an absolute error near 1e-6 (a float32 pow rounds
    differently in the kernel and in numpy, by release)."""
    if name.startswith("Ftrl") and dtype == np.float32:
        return dict(rtol=2e-5, atol=1e-5)
    return TOLERANCE[dtype]


def _arrays(size, num_slots, dtype, seed):
    rng = np.random.RandomState(seed)
    var = rng.uniform(-1, 1, size).astype(dtype)
    # Slots positive and CenteredRMSProp's ms above mg ** 2, so every square root is real.
    slots = [rng.uniform(0.5, 1.0, size).astype(dtype) for _ in range(num_slots)]
    if num_slots == 3:
        slots[0] *= 0.1
    grad = rng.uniform(-1, 1, size).astype(dtype)
    grad.flags.writeable = False
    return var, slots, grad


def _kind(name):
    """The kind of a case: a case name is its kind's, with a suffix for a variant."""
    if name == "FtrlPower":
        return ref.KINDS["Ftrl"]
    return ref.KINDS[name.removesuffix("NoL1")]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("size,threads", [(1, 1), (37, 1), (600000, 2)])
@pytest.mark.parametrize("name", list(KIND_CASES))
def test_dense_parity(name, size, threads, dtype):
    params, num_slots, flags = KIND_CASES[name]
    for flag in flags:
        var, slots, grad = _arrays(size, num_slots, dtype, seed=size)
        var_ref, slots_ref = var.copy(), [s.copy() for s in slots]
        training.apply_dense(_kind(name), var, slots, grad, params, flag, threads)
        ref.reference_dense(_kind(name), var_ref, slots_ref, grad, params, flag)
        np.testing.assert_allclose(var, var_ref, **_tolerance(name, dtype))
        for slot, slot_ref in zip(slots, slots_ref):
            np.testing.assert_allclose(slot, slot_ref, **_tolerance(name, dtype))
        assert not np.array_equal(var, _arrays(size, num_slots, dtype, seed=size)[0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rows_shape,threads", [((6, 3), 1), ((30000, 40), 2)])
@pytest.mark.parametrize("name", list(KIND_CASES))
def test_sparse_parity(name, rows_shape, threads, dtype):
    params, num_slots, flags = KIND_CASES[name]
    num_rows, inner = rows_shape
    rng = np.random.RandomState(3)
    rows = np.sort(rng.choice(num_rows, num_rows // 2, replace=False)).astype(np.int64)
    var, slots, _ = _arrays(num_rows * inner, num_slots, dtype, seed=5)
    grad = rng.uniform(-1, 1, len(rows) * inner).astype(dtype)
    grad.flags.writeable = False
    for flag in flags:
        var_fast, slots_fast = var.copy(), [s.copy() for s in slots]
        var_ref, slots_ref = var.copy(), [s.copy() for s in slots]
        training.apply_sparse(_kind(name), var_fast, slots_fast, grad, rows, inner, params,
                              flag, threads)
        ref.reference_sparse(_kind(name), var_ref, slots_ref, grad, rows, inner, params, flag)
        np.testing.assert_allclose(var_fast, var_ref, **_tolerance(name, dtype))
        for slot, slot_ref in zip(slots_fast, slots_ref):
            np.testing.assert_allclose(slot, slot_ref, **_tolerance(name, dtype))
        untouched = np.setdiff1d(np.arange(num_rows), rows)
        np.testing.assert_array_equal(var_fast.reshape(num_rows, inner)[untouched],
                                      var.reshape(num_rows, inner)[untouched])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sparse_adam_parity(dtype):
    params = KIND_CASES["Adam"][0]
    var, (m, v), _ = _arrays(40, 2, dtype, seed=9)
    rows = np.array([1, 4, 7], np.int64)
    grad = np.linspace(-1, 1, 15).astype(dtype)
    grad.flags.writeable = False
    fast = [a.copy() for a in (var, m, v)]
    expected = [a.copy() for a in (var, m, v)]
    training.apply_sparse_adam(*fast, grad, rows, 5, params)
    ref.reference_sparse_adam(*expected, grad, rows, 5, params)
    for got, want in zip(fast, expected):
        np.testing.assert_allclose(got, want, **TOLERANCE[dtype])


def test_fast_kernels_check_their_arguments():
    var, (accum,), grad = _arrays(4, 1, np.float32, seed=0)
    with pytest.raises(ValueError):
        training.apply_dense(ref.KINDS["Momentum"], var, [accum], grad, (0.1,))   # one param
    with pytest.raises(ValueError):
        training.apply_dense(ref.KINDS["Momentum"], var, [accum], grad[:3], (0.1, 0.9))
    with pytest.raises(ValueError):
        training.apply_dense(99, var, [], grad, (0.1,))
    with pytest.raises(TypeError):
        training.apply_dense(0, var.astype(np.int32), [], grad.astype(np.int32), (0.1,))
    with pytest.raises(IndexError):
        training.apply_sparse(0, var, [], grad[:2], np.array([5], np.int64), 2, (0.1,))


# ---- every op, one step, both executors -------------------------------------------------------

_SCALARS = {"alpha": 0.1, "lr": 0.1, "momentum": 0.5, "rho": 0.9, "epsilon": 1e-3,
            "beta1_power": 0.9, "beta2_power": 0.99, "beta1": 0.9, "beta2": 0.999,
            "l1": 0.01, "l2": 0.02, "l2_shrinkage": 0.03, "lr_power": -0.5}


def _op_step(executor_name, op_type, dtype):
    spec, _ = training_ops.APPLY_OPS[op_type]
    previous = executor_lib.set_default_executor(executor_name)
    try:
        graph = tf.Graph()
        with graph.as_default():
            rng = np.random.RandomState(7)
            inputs, variables, feeds = [], [], {}
            sparse = any(kind == "indices" for _, kind in spec)
            for name, kind in spec:
                if kind == "resource":
                    start = rng.uniform(0.5, 1.0, (4, 3)).astype(dtype)
                    if name == "mg":
                        start *= 0.1
                    variable = tf.Variable(start, name=name)
                    variables.append(variable)
                    inputs.append(variable)
                elif kind == "scalar":
                    inputs.append(tf.constant(_SCALARS[name], dtype=dtype))
                elif kind == "grad":
                    shape = (3, 3) if sparse else (4, 3)
                    grad = tf.placeholder(dtype, shape)
                    value = rng.uniform(-1, 1, shape).astype(dtype)
                    value.flags.writeable = False
                    feeds[grad] = value
                    inputs.append(grad)
                elif kind == "step":
                    inputs.append(tf.constant(3, tf.int64))
                else:
                    inputs.append(tf.constant([2, 0, 2], tf.int64))
            update = training_ops.apply_op(op_type, inputs)
            with tf.Session(graph=graph) as sess:
                sess.run(tf.global_variables_initializer())
                sess.run(update, feeds)
                return sess.run(variables)
    finally:
        executor_lib.set_default_executor(previous)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("op_type", sorted(training_ops.APPLY_OPS))
def test_every_update_op_runs_the_same_on_both_executors(op_type, dtype):
    reference = _op_step("reference", op_type, dtype)
    fast = _op_step("cython", op_type, dtype)
    tolerance = {np.float16: dict(rtol=1e-3, atol=1e-3)}.get(dtype, TOLERANCE.get(dtype))
    for want, got in zip(reference, fast):
        assert got.dtype == np.dtype(dtype)
        np.testing.assert_allclose(got, want, **tolerance)
    start = np.random.RandomState(7).uniform(0.5, 1.0, (4, 3)).astype(dtype)
    assert not np.array_equal(reference[0], start), "the step changed nothing"


def test_update_ops_check_dtypes_and_shapes_while_building():
    w = tf.Variable(np.zeros((2, 3), np.float32), name="w")
    accum = tf.Variable(np.zeros((2, 3), np.float32), name="accum")
    wide = tf.Variable(np.zeros((2, 4), np.float32), name="wide")
    lr = tf.constant(0.1)
    with pytest.raises(TypeError, match="variable of float32"):
        training_ops.apply_op("ResourceApplyGradientDescent",
                              [w, tf.constant(0.1, tf.float64), tf.zeros([2, 3], tf.float64)])
    with pytest.raises(TypeError, match="does not match type float32"):
        training_ops.apply_op("ResourceApplyMomentum",
                              [w, accum, tf.constant(0.1, tf.float64), tf.zeros([2, 3]), lr])
    with pytest.raises(ValueError, match="Shapes must be equal"):
        training_ops.apply_op("ResourceApplyGradientDescent", [w, lr, tf.zeros([3, 2])])
    with pytest.raises(ValueError, match="Shapes must be equal"):
        training_ops.apply_op("ResourceApplyAdagrad", [w, wide, lr, tf.zeros([2, 3])])
    with pytest.raises(ValueError, match="rank 0"):
        training_ops.apply_op("ResourceApplyGradientDescent", [w, tf.constant([0.1]),
                                                               tf.zeros([2, 3])])
    with pytest.raises(ValueError, match="same number of rows"):
        training_ops.apply_op("ResourceSparseApplyAdagrad",
                              [w, accum, lr, tf.zeros([2, 3]), tf.constant([0, 1, 1])])
    with pytest.raises(TypeError, match="int32 or int64"):
        training_ops.apply_op("ResourceSparseApplyAdagrad",
                              [w, accum, lr, tf.zeros([1, 3]), tf.constant([0.0])])
    with pytest.raises(TypeError):
        training_ops.apply_op("ResourceApplyGradientDescent",
                              [w, tf.constant(1), tf.zeros([2, 3], tf.int32)])


def test_update_op_run_time_shape_error(executor):
    w = tf.Variable(np.zeros((2, 3), np.float32), name="w", validate_shape=False)
    grad = tf.placeholder(tf.float32)
    update = training_ops.apply_op("ResourceApplyGradientDescent", [w, tf.constant(0.1), grad])
    with tf.Session() as sess:
        sess.run(w.initializer)
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=r"var and grad do not have the same shape\[2, 3\] \[3\]"):
            sess.run(update, {grad: np.ones(3, np.float32)})
