"""tf.train optimizers: trajectories against TF (recorded) and TF's formulas (numpy), slot
names, global step, sparse updates, errors, and end-to-end training.

The TF numbers come from ``tests/data/optimizer_trajectories.npz``, written by
``tools/make_optimizer_reference.py`` (run with a TensorFlow install); the configurations and
starting values are that script's, loaded from it, so both sides build the same model.
"""

import importlib.util
import pathlib

import numpy as np
import pytest

import sessionlib as tf

_ROOT = pathlib.Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location(
    "make_optimizer_reference", _ROOT / "tools" / "make_optimizer_reference.py")
REF = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(REF)
DATA = dict(np.load(_ROOT / "tests" / "data" / "optimizer_trajectories.npz"))
START = {key[len("start/"):]: value for key, value in DATA.items() if key.startswith("start/")}

TOLERANCE = {"float32": dict(rtol=2e-5, atol=2e-6), "float64": dict(rtol=1e-11, atol=1e-12)}


def _make(config):
    class_name, kwargs = REF.CONFIGS[config]
    return getattr(tf.train, class_name)(**kwargs)


def _dense_model(dtype):
    w = tf.Variable(START["w"].astype(dtype), name="w")
    b = tf.Variable(START["b"].astype(dtype), name="b")
    d = tf.constant(START["d"].astype(dtype))
    e = tf.constant(START["e"].astype(dtype))
    loss = tf.add_n([tf.reduce_sum(w * w * d), tf.reduce_sum(b * b * b * e)])
    return loss, [w, b]


def _sparse_grad(dtype, values=None, indices=None):
    values = START["sparse_values"] if values is None else values
    indices = START["sparse_indices"] if indices is None else indices
    return tf.IndexedSlices(tf.constant(np.asarray(values).astype(dtype)),
                            tf.constant(indices), tf.constant([5, 2]))


def _run_trajectory(config, dtype, mode, steps=REF.STEPS):
    """Trains like the recording script; returns ({var name: [steps, ...]}, optimizer vars)."""
    graph = tf.Graph()
    with graph.as_default():
        optimizer = _make(config)
        if mode == "dense":
            loss, trained = _dense_model(dtype)
            step = optimizer.minimize(loss)
        else:
            trained = [tf.Variable(START["emb"].astype(dtype), name="emb")]
            step = optimizer.apply_gradients([(_sparse_grad(dtype), trained[0])])
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            history = {v.op.name: [] for v in trained}
            for _ in range(steps):
                sess.run(step)
                for v in trained:
                    history[v.op.name].append(sess.run(v))
            finals = {v.op.name: sess.run(v) for v in optimizer.variables()}
    return {k: np.stack(v) for k, v in history.items()}, finals


def _recorded_cases():
    cases = []
    for config in REF.CONFIGS:
        for dtype in ("float32", "float64"):
            if dtype == "float64" and config not in REF.FLOAT64_CONFIGS:
                continue
            for mode in ("dense", "sparse"):
                cases.append((config, dtype, mode))
    return cases


@pytest.mark.parametrize("config,dtype,mode", _recorded_cases(),
                         ids=["-".join(case) for case in _recorded_cases()])
def test_trajectory_matches_tensorflow(executor, config, dtype, mode):
    history, finals = _run_trajectory(config, dtype, mode)
    prefix = f"{config}/{dtype}/{mode}/"
    expected = {key[len(prefix):]: value for key, value in DATA.items()
                if key.startswith(prefix)}
    # Same variables, same names: the trained ones plus every slot and non-slot variable.
    assert sorted(expected) == sorted(list(history) + list(finals))
    for name, values in history.items():
        assert values.dtype == np.dtype(dtype)
        np.testing.assert_allclose(values, expected[name], err_msg=name, **TOLERANCE[dtype])
    for name, value in finals.items():
        np.testing.assert_allclose(value, expected[name], err_msg=name, **TOLERANCE[dtype])
    # Every step moved the variables (the recorded configurations are never stuck).
    for values in history.values():
        assert not np.allclose(values[0], values[-1])


# ---- TF's update rules written in numpy, float64 --------------------------------------------

def _f32(value):
    return float(np.float32(value))


def _numpy_steps(config, grad_fn, params, steps):
    """Runs TF 1's update rules of `config` on the dict `params`; returns the trajectory."""
    _, kw = REF.CONFIGS[config]
    # Python hyper-parameters become float32 tensors, then are cast to the variable's dtype,
    # as in TF: the float64 run sees float32-rounded values.
    # (Slot start values are made in the variable's dtype.)
    kw = {k: float(np.float32(v)) if isinstance(v, float) and k != "initial_accumulator_value"
          else v for k, v in kw.items()}
    lr = kw.get("learning_rate", float(np.float32(0.001)))
    beta_powers = [np.float32(kw.get("beta1", 0.9)), np.float32(kw.get("beta2", 0.999))]
    state = {name: {} for name in params}
    out = {name: [] for name in params}
    for t in range(1, steps + 1):
        grads = grad_fn(params)
        for name, g in grads.items():
            x, s = params[name], state[name]
            if config in ("gd",):
                x = x - lr * g
            elif config in ("momentum", "nesterov"):
                mu = kw["momentum"]
                s["a"] = s.get("a", 0.0) * mu + g
                x = x - (lr * g + lr * mu * s["a"] if config == "nesterov" else lr * s["a"])
            elif config == "adagrad":
                s["a"] = s.get("a", kw["initial_accumulator_value"]) + g * g
                x = x - lr * g / np.sqrt(s["a"])
            elif config.startswith("rmsprop"):
                rho, mu = _f32(kw.get("decay", 0.9)), _f32(kw.get("momentum", 0.0))
                eps = _f32(kw.get("epsilon", 1e-10))
                s["ms"] = rho * s.get("ms", 1.0) + (1 - rho) * g * g
                denominator = s["ms"] + eps
                if kw.get("centered"):
                    s["mg"] = rho * s.get("mg", 0.0) + (1 - rho) * g
                    denominator = s["ms"] - s["mg"] ** 2 + eps
                s["mom"] = mu * s.get("mom", 0.0) + lr * g / np.sqrt(denominator)
                x = x - s["mom"]
            elif config.startswith("adam"):
                b1, b2 = _f32(kw.get("beta1", 0.9)), _f32(kw.get("beta2", 0.999))
                eps = _f32(kw.get("epsilon", 1e-8))
                s["m"] = b1 * s.get("m", 0.0) + (1 - b1) * g
                s["v"] = b2 * s.get("v", 0.0) + (1 - b2) * g * g
                # beta1_power and beta2_power are float32 variables, as in TF.
                b1p, b2p = float(beta_powers[0]), float(beta_powers[1])
                lr_t = lr * np.sqrt(1 - b2p) / (1 - b1p)
                x = x - lr_t * s["m"] / (np.sqrt(s["v"]) + eps)
            elif config == "adadelta":
                rho, eps = kw["rho"], kw["epsilon"]
                s["a"] = rho * s.get("a", 0.0) + (1 - rho) * g * g
                update = np.sqrt(s.get("u", 0.0) + eps) / np.sqrt(s["a"] + eps) * g
                s["u"] = rho * s.get("u", 0.0) + (1 - rho) * update * update
                x = x - lr * update
            elif config.startswith("ftrl"):
                power = kw.get("learning_rate_power", -0.5)
                l1 = kw.get("l1_regularization_strength", 0.0)
                l2 = kw.get("l2_regularization_strength", 0.0)
                shrink = kw.get("l2_shrinkage_regularization_strength", 0.0)
                n = s.get("n", np.full_like(x, kw.get("initial_accumulator_value", 0.1)))
                z = s.get("z", np.zeros_like(x))
                n_new = n + g * g
                sigma = (n_new ** -power - n ** -power) / lr
                z = z + g + 2 * shrink * x - sigma * x
                x = np.where(np.abs(z) > l1,
                             (np.sign(z) * l1 - z) / (n_new ** -power / lr + 2 * l2), 0.0)
                s["n"], s["z"] = n_new, z
            params[name] = x
        beta_powers = [np.float32(beta_powers[0] * np.float32(kw.get("beta1", 0.9))),
                       np.float32(beta_powers[1] * np.float32(kw.get("beta2", 0.999)))]
        for name in params:
            out[name].append(params[name].copy())
    return {name: np.stack(values) for name, values in out.items()}


@pytest.mark.parametrize("config", list(REF.CONFIGS))
def test_dense_trajectory_matches_tf_formulas(config):
    def grad_fn(p):
        return {"w": 2 * p["w"] * START["d"], "b": 3 * p["b"] ** 2 * START["e"]}

    expected = _numpy_steps(config, grad_fn, {"w": START["w"].copy(), "b": START["b"].copy()},
                            REF.STEPS)
    history, _ = _run_trajectory(config, np.float64, "dense")
    for name in ("w", "b"):
        np.testing.assert_allclose(history[name], expected[name], rtol=1e-10, atol=1e-12,
                                   err_msg=name)


@pytest.mark.parametrize("config", [c for c in REF.CONFIGS if not c.startswith("adam")])
def test_sparse_trajectory_matches_tf_formulas(config):
    """Repeated indices add, then each touched row takes the dense rule; others stay put."""
    values, indices = START["sparse_values"], START["sparse_indices"]
    dense_grad = np.zeros((5, 2))
    np.add.at(dense_grad, indices, values)
    touched = np.unique(indices)

    expected = _numpy_steps(config, lambda p: {"emb": dense_grad[touched]},
                            {"emb": START["emb"][touched].copy()}, REF.STEPS)["emb"]
    history, _ = _run_trajectory(config, np.float64, "sparse")
    emb = history["emb"]
    np.testing.assert_allclose(emb[:, touched], expected, rtol=1e-10, atol=1e-12)
    untouched = np.setdiff1d(np.arange(5), touched)
    still = np.broadcast_to(START["emb"][untouched], emb[:, untouched].shape)
    np.testing.assert_array_equal(emb[:, untouched], still)


def test_sparse_adam_decays_every_row_like_tf():
    """TF's sparse Adam decays m and v everywhere, so untouched rows move too after step 1."""
    history, finals = _run_trajectory("adam", np.float64, "sparse")
    values, indices = START["sparse_values"], START["sparse_indices"]
    g = np.zeros((5, 2))
    np.add.at(g, indices, values)
    x, m, v = START["emb"].copy(), np.zeros((5, 2)), np.zeros((5, 2))
    lr, b1, b2, eps = (float(np.float32(value)) for value in (0.1, 0.9, 0.999, 1e-8))
    b1p, b2p = np.float32(b1), np.float32(b2)
    for t in range(1, REF.STEPS + 1):
        m = m * b1 + (1 - b1) * g
        v = v * b2 + (1 - b2) * g * g
        x = x - lr * np.sqrt(1 - float(b2p)) / (1 - float(b1p)) * m / (np.sqrt(v) + eps)
        b1p, b2p = np.float32(b1p * np.float32(b1)), np.float32(b2p * np.float32(b2))
        np.testing.assert_allclose(history["emb"][t - 1], x, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(finals["emb/Adam"], m, rtol=1e-10)
    np.testing.assert_allclose(finals["beta1_power"], b1 ** (REF.STEPS + 1), rtol=1e-6)


# ---- names, slots, global step --------------------------------------------------------------

@pytest.mark.parametrize("config,expected", [
    ("gd", []),
    ("momentum", ["b/Momentum", "w/Momentum"]),
    ("adagrad", ["b/Adagrad", "w/Adagrad"]),
    ("rmsprop", ["b/RMSProp", "b/RMSProp_1", "w/RMSProp", "w/RMSProp_1"]),
    ("rmsprop_centered", ["b/RMSProp", "b/RMSProp_1", "b/RMSProp_2", "w/RMSProp",
                          "w/RMSProp_1", "w/RMSProp_2"]),
    ("adam", ["b/Adam", "b/Adam_1", "beta1_power", "beta2_power", "w/Adam", "w/Adam_1"]),
    ("adadelta", ["b/Adadelta", "b/Adadelta_1", "w/Adadelta", "w/Adadelta_1"]),
    ("ftrl", ["b/Ftrl", "b/Ftrl_1", "w/Ftrl", "w/Ftrl_1"]),
])
def test_slot_and_variable_names_are_tfs(config, expected):
    loss, (w, b) = _dense_model(np.float32)
    optimizer = _make(config)
    with tf.name_scope("training"):   # slots ignore the caller's name scope, as in TF
        train_op = optimizer.minimize(loss)
    assert [v.op.name for v in optimizer.variables()] == expected
    assert sorted(v.op.name for v in tf.global_variables()) == sorted(["w", "b"] + expected)
    assert [v.op.name for v in tf.trainable_variables()] == ["w", "b"]
    assert train_op.name == f"training/{optimizer.get_name()}"
    assert train_op in tf.get_default_graph().get_collection(tf.GraphKeys.TRAIN_OP)


def test_get_slot_and_slot_names():
    loss, (w, b) = _dense_model(np.float32)
    optimizer = tf.train.RMSPropOptimizer(0.1, centered=True)
    optimizer.minimize(loss)
    assert optimizer.get_slot_names() == ["mg", "momentum", "rms"]
    assert optimizer.get_slot(w, "rms").op.name == "w/RMSProp"
    assert optimizer.get_slot(w, "mg").op.name == "w/RMSProp_1"
    assert optimizer.get_slot(b, "momentum").op.name == "b/RMSProp_2"
    assert optimizer.get_slot(w, "nope") is None
    assert not optimizer.get_slot(w, "rms").trainable
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        # TF 1 starts RMSProp's rms at one.
        np.testing.assert_array_equal(sess.run(optimizer.get_slot(w, "rms")), np.ones((2, 3)))


def test_global_step_is_incremented_after_the_updates(executor):
    loss, (w, b) = _dense_model(np.float32)
    step = tf.train.get_or_create_global_step()
    assert step.dtype == tf.int64 and step.op.name == "global_step"
    assert tf.train.get_global_step() is step
    assert tf.get_default_graph().get_collection(tf.GraphKeys.GLOBAL_STEP) == [step]
    assert step not in tf.trainable_variables()
    train_op = tf.train.GradientDescentOptimizer(0.1).minimize(loss, global_step=step)
    assert train_op.type == "AssignAddVariableOp" and train_op.name == "GradientDescent"
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(3):
            sess.run(train_op)
        assert sess.run(step) == 3
        np.testing.assert_allclose(sess.run(w), START["w"] * (1 - 0.2 * START["d"]) ** 3,
                                   rtol=1e-5)


def test_global_step_functions():
    assert tf.train.get_global_step() is None
    step = tf.train.create_global_step()
    with pytest.raises(ValueError, match="already exists"):
        tf.train.create_global_step()
    assert tf.train.get_or_create_global_step() is step
    graph = tf.Graph()
    other = tf.train.get_or_create_global_step(graph)
    assert other.graph is graph and other is not step
    with graph.as_default():
        bad = tf.Variable(1.0, name="global_step")  # found by name, but not an integer
        del bad
    with pytest.raises(TypeError, match="integer"):
        tf.train.assert_global_step(tf.constant(1.0))


def test_apply_gradients_with_a_hand_made_indexed_slices(executor):
    emb = tf.Variable(np.zeros((4, 3), np.float32), name="emb")
    grad = tf.IndexedSlices(tf.constant(np.ones((3, 3), np.float32)),
                            tf.constant([2, 0, 2], tf.int64), tf.constant([4, 3]))
    train_op = tf.train.GradientDescentOptimizer(0.5).apply_gradients([(grad, emb)])
    ops = [op.type for op in tf.get_default_graph().get_operations()]
    assert "ResourceSparseApplyGradientDescent" in ops
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train_op)
        np.testing.assert_array_equal(sess.run(emb), [[-0.5] * 3, [0] * 3, [-1] * 3, [0] * 3])


def test_sparse_index_out_of_range_is_invalid_argument(executor):
    emb = tf.Variable(np.zeros((4, 3), np.float32), name="emb")
    grad = tf.IndexedSlices(tf.constant(np.ones((2, 3), np.float32)), tf.constant([1, 4]),
                            tf.constant([4, 3]))
    train_op = tf.train.AdagradOptimizer(0.5).apply_gradients([(grad, emb)])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"indices\[1\] = 4 is not in"):
            sess.run(train_op)
        # Nothing was written.
        np.testing.assert_array_equal(sess.run(emb), np.zeros((4, 3)))


def test_a_fetched_value_never_changes_under_its_reader(executor):
    loss, (w, b) = _dense_model(np.float32)
    train_op = tf.train.AdamOptimizer(0.1).minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        before = sess.run(w)
        snapshot = before.copy()
        sess.run(train_op)
        np.testing.assert_array_equal(before, snapshot)
        assert not np.allclose(sess.run(w), snapshot)


def test_learning_rate_may_be_a_tensor_or_a_callable(executor):
    loss, (w, b) = _dense_model(np.float32)
    rate = tf.placeholder(tf.float32, [])
    train_tensor = tf.train.GradientDescentOptimizer(rate).minimize(loss, var_list=[w])
    train_callable = tf.train.GradientDescentOptimizer(lambda: 0.5).minimize(loss,
                                                                               var_list=[b])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train_tensor, {rate: 0.25})
        np.testing.assert_allclose(sess.run(w), START["w"] * (1 - 0.5 * START["d"]),
                                   rtol=1e-6)
        sess.run(train_callable)
        np.testing.assert_allclose(sess.run(b), START["b"] - 1.5 * START["b"] ** 2 * START["e"],
                                   rtol=1e-6)


def test_compute_and_apply_gradients_with_clipping(executor):
    loss, (w, b) = _dense_model(np.float64)
    optimizer = tf.train.GradientDescentOptimizer(1.0)
    grads_and_vars = optimizer.compute_gradients(loss)
    assert [v for _, v in grads_and_vars] == [w, b]
    grads, norm = tf.clip_by_global_norm([g for g, _ in grads_and_vars], 0.5)
    train_op = optimizer.apply_gradients(zip(grads, [w, b]))
    gw, gb = 2 * START["w"] * START["d"], 3 * START["b"] ** 2 * START["e"]
    expected_norm = np.sqrt(np.sum(gw ** 2) + np.sum(gb ** 2))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(norm) == pytest.approx(expected_norm)
        sess.run(train_op)
        scale = 0.5 / max(expected_norm, 0.5)
        np.testing.assert_allclose(sess.run(w), START["w"] - scale * gw, rtol=1e-12)


def test_nan_gradients_are_not_errors(executor):
    v = tf.Variable([1.0, 2.0], name="v")
    loss = tf.reduce_sum(v * tf.constant([np.nan, 1.0], tf.float32))
    train_op = tf.train.AdamOptimizer(0.1).minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train_op)
        value = sess.run(v)
        assert np.isnan(value[0]) and np.isfinite(value[1])


def test_update_runs_on_the_variables_device():
    with tf.device("/cpu:1"):
        w = tf.Variable(np.ones(3, np.float32), name="w")
    loss = tf.reduce_sum(w * w)
    optimizer = tf.train.MomentumOptimizer(0.1, 0.5)
    train_op = optimizer.minimize(loss)
    update = [op for op in tf.get_default_graph().get_operations()
              if op.type == "ResourceApplyMomentum"]
    assert len(update) == 1 and update[0].name == "Momentum/update_w/ResourceApplyMomentum"
    assert update[0].device == "/device:CPU:1"
    assert optimizer.get_slot(w, "momentum").device == "/device:CPU:1"
    config = tf.ConfigProto(device_count={"CPU": 2})
    with tf.Session(config=config) as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train_op)
        sess.run(train_op)
        # accum: 2, then 0.5 * 2 + 1.6 = 2.6; w: 1 - 0.2 = 0.8, then 0.8 - 0.26 = 0.54.
        np.testing.assert_allclose(sess.run(w), [0.54] * 3, rtol=1e-6)


# ---- errors ---------------------------------------------------------------------------------

def test_loss_that_reaches_no_variable():
    w = tf.Variable([1.0], name="w")
    loss = tf.constant(2.0) * 2.0
    with pytest.raises(ValueError, match=r"No gradients provided for any variable, check your "
                                         r"graph for ops that do not support gradients, between "
                                         r"variables \[.*'w:0'.*\] and loss"):
        tf.train.GradientDescentOptimizer(0.1).minimize(loss, var_list=[w])


def test_integer_variable_gets_no_gradient():
    count = tf.Variable(3, name="count")
    loss = tf.cast(count, tf.float32) * 2.0
    with pytest.raises(ValueError, match="No gradients provided for any variable"):
        tf.train.GradientDescentOptimizer(0.1).minimize(loss, var_list=[count])
    with pytest.raises(ValueError, match=r"Invalid type tf\.int32 for count:0, expected: "
                                         r"\[tf\.float32, tf\.float64, tf\.float16\]"):
        tf.train.GradientDescentOptimizer(0.1).apply_gradients([(tf.constant(1), count)])


def test_integer_loss_is_invalid():
    w = tf.Variable([1.0], name="w")
    with pytest.raises(ValueError, match=r"Invalid type tf\.int32 for .*, expected"):
        tf.train.GradientDescentOptimizer(0.1).minimize(tf.constant(2), var_list=[w])


@pytest.mark.parametrize("entry", [1.0, "w", None, np.zeros(2)])
def test_var_list_entry_that_is_not_a_variable(entry):
    w = tf.Variable([1.0], name="w")
    with pytest.raises(TypeError, match="unsupported type"):
        tf.train.GradientDescentOptimizer(0.1).minimize(tf.reduce_sum(w * w),
                                                        var_list=[w, entry])


def test_other_bad_arguments():
    w = tf.Variable([1.0], name="w")
    optimizer = tf.train.GradientDescentOptimizer(0.1)
    with pytest.raises(ValueError, match="No variables to optimize"):
        optimizer.minimize(tf.reduce_sum(w * w), var_list=[])
    with pytest.raises(ValueError, match="gate_gradients"):
        optimizer.minimize(tf.reduce_sum(w * w), gate_gradients=7)
    with pytest.raises(ValueError, match="No variables provided"):
        optimizer.apply_gradients([])
    with pytest.raises(ValueError, match="No gradients provided for any variable"):
        optimizer.apply_gradients([(None, w)])
    with pytest.raises(TypeError, match="unsupported type"):
        optimizer.apply_gradients([(tf.constant([1.0]), tf.constant([1.0]))])
    with pytest.raises(ValueError, match="initial_accumulator_value must be positive"):
        tf.train.AdagradOptimizer(0.1, initial_accumulator_value=0.0)
    with pytest.raises(ValueError, match="learning_rate_power"):
        tf.train.FtrlOptimizer(0.1, learning_rate_power=0.5)
    with pytest.raises(ValueError, match="l1_regularization_strength"):
        tf.train.FtrlOptimizer(0.1, l1_regularization_strength=-1.0)


def test_uninitialized_slot_is_failed_precondition(executor):
    w = tf.Variable([1.0], name="w")
    train_op = tf.train.AdamOptimizer(0.1).minimize(tf.reduce_sum(w * w))
    with tf.Session() as sess:
        sess.run(w.initializer)
        with pytest.raises(tf.errors.FailedPreconditionError):
            sess.run(train_op)


def test_gate_graph_and_grad_loss(executor):
    w = tf.Variable([1.0, 2.0], name="w")
    loss = w * w   # not a scalar: grad_loss seeds it
    optimizer = tf.train.GradientDescentOptimizer(0.5)
    grads_and_vars = optimizer.compute_gradients(
        loss, gate_gradients=tf.train.Optimizer.GATE_GRAPH, grad_loss=tf.constant([1.0, 0.0]))
    train_op = optimizer.apply_gradients(grads_and_vars)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train_op)
        np.testing.assert_allclose(sess.run(w), [0.0, 2.0])


# ---- end to end ----------------------------------------------------------------------------

@pytest.mark.parametrize("make_optimizer", [lambda: tf.train.GradientDescentOptimizer(0.5),
                                            lambda: tf.train.AdamOptimizer(0.05)],
                         ids=["gradient_descent", "adam"])
def test_logistic_regression_trains(executor, make_optimizer):
    rng = np.random.RandomState(0)
    true_w = np.array([[2.0], [-3.0], [0.5]], np.float32)
    x_data = rng.normal(size=(256, 3)).astype(np.float32)
    y_data = (x_data @ true_w + 0.5 > 0).astype(np.float32)
    x = tf.placeholder(tf.float32, [None, 3])
    y = tf.placeholder(tf.float32, [None, 1])
    w = tf.Variable(tf.zeros([3, 1]), name="w")
    bias = tf.Variable(tf.zeros([1]), name="bias")
    p = tf.sigmoid(tf.matmul(x, w) + bias)
    eps = 1e-6
    loss = -tf.reduce_mean(y * tf.log(p + eps) + (1 - y) * tf.log(1 - p + eps))
    step = tf.train.get_or_create_global_step()
    train_op = make_optimizer().minimize(loss, global_step=step)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        feed = {x: x_data, y: y_data}
        first = sess.run(loss, feed)
        for _ in range(200):
            sess.run(train_op, feed)
        last = sess.run(loss, feed)
        accuracy = np.mean((sess.run(p, feed) > 0.5) == (y_data > 0.5))
        assert sess.run(step) == 200
    assert first == pytest.approx(np.log(2), rel=1e-4)
    assert last < 0.2
    assert accuracy > 0.95


@pytest.mark.parametrize("make_optimizer", [lambda: tf.train.AdagradOptimizer(0.5),
                                            lambda: tf.train.MomentumOptimizer(0.5, 0.9),
                                            lambda: tf.train.RMSPropOptimizer(0.1)],
                         ids=["adagrad", "momentum", "rmsprop"])
def test_gather_gradient_is_applied_sparsely_like_its_dense_twin(executor, make_optimizer):
    """A gather's gradient (IndexedSlices, repeated ids) gives the dense update's values."""
    start = START["emb"].astype(np.float32)
    ids = tf.constant([1, 3, 1, 1])
    weights = tf.constant(np.linspace(0.5, 2.0, 8).reshape(4, 2).astype(np.float32))
    sparse_emb = tf.Variable(start, name="sparse_emb")
    dense_emb = tf.Variable(start, name="dense_emb")
    sparse_loss = tf.reduce_sum(tf.gather(sparse_emb, ids) * weights)
    one_hot = tf.constant(np.eye(5, dtype=np.float32)[[1, 3, 1, 1]])
    dense_loss = tf.reduce_sum(tf.matmul(one_hot, dense_emb) * weights)
    sparse_step = make_optimizer().minimize(sparse_loss, var_list=[sparse_emb])
    dense_step = make_optimizer().minimize(dense_loss, var_list=[dense_emb])
    types = {op.type for op in tf.get_default_graph().get_operations()}
    assert any(t.startswith("ResourceSparseApply") for t in types)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(3):
            sess.run([sparse_step, dense_step])
        sparse_value, dense_value = sess.run([sparse_emb, dense_emb])
    # These optimizers move a row with a zero gradient only through slots that are zero
    # there, so untouched rows stay put in both. (Not so Ftrl, whose dense step recomputes
    # every row from its slots, or Adam, whose moments decay everywhere.)
    np.testing.assert_allclose(sparse_value, dense_value, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(sparse_value[[0, 2, 4]], start[[0, 2, 4]])
