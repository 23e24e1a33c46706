"""Records TensorFlow's optimizer trajectories and learning-rate schedules for the tests.

Run with a TensorFlow install (TF 2.x, used through ``tf.compat.v1`` in graph mode)::

    python tools/make_optimizer_reference.py [tests/data/optimizer_trajectories.npz]

(here: ``/work/tfref/bin/python``).

It writes a small ``.npz`` that ``tests/test_optimizers.py`` and
``tests/test_learning_rate_schedules.py`` compare sessionlib against; no test needs TF.

What it records, from fixed starting values that it stores too:
* dense: for each optimizer configuration of `CONFIGS` and dtype, the values of two variables
  after each of `STEPS` ``minimize`` steps on ``loss = sum(w * w * d) + sum(b * b * b * e)``
  (a loss whose gradients need only Mul, Sum, AddN and variable reads), and every slot and
  non-slot variable at the end, under its TF name;
* sparse: the same configurations applying a fixed `IndexedSlices` gradient with repeated
  indices to an embedding-like variable `STEPS` times;
* schedules: each schedule of `SCHEDULES` at the global steps `SCHEDULE_STEPS`.

Keys: ``<config>/<dtype>/<dense|sparse>/<variable name>`` with a trajectory of shape
``[STEPS, ...]`` for the trained variables and the final value for the optimizer's variables;
``schedule/<name>`` for schedules; ``start/<name>`` for the inputs.
"""

import sys

import numpy as np

STEPS = 5

# name -> (optimizer class name, keyword arguments)
CONFIGS = {
    "gd": ("GradientDescentOptimizer", {"learning_rate": 0.1}),
    "momentum": ("MomentumOptimizer", {"learning_rate": 0.1, "momentum": 0.9}),
    "nesterov": ("MomentumOptimizer", {"learning_rate": 0.1, "momentum": 0.9,
                                       "use_nesterov": True}),
    "adagrad": ("AdagradOptimizer", {"learning_rate": 0.1, "initial_accumulator_value": 0.2}),
    "rmsprop": ("RMSPropOptimizer", {"learning_rate": 0.1}),
    "rmsprop_momentum": ("RMSPropOptimizer", {"learning_rate": 0.05, "decay": 0.8,
                                              "momentum": 0.5, "epsilon": 1e-6}),
    "rmsprop_centered": ("RMSPropOptimizer", {"learning_rate": 0.05, "decay": 0.8,
                                              "momentum": 0.5, "epsilon": 1e-6,
                                              "centered": True}),
    "adam": ("AdamOptimizer", {"learning_rate": 0.1}),
    "adam_custom": ("AdamOptimizer", {"learning_rate": 0.01, "beta1": 0.8, "beta2": 0.9,
                                      "epsilon": 1e-3}),
    "adadelta": ("AdadeltaOptimizer", {"learning_rate": 1.0, "rho": 0.9, "epsilon": 1e-6}),
    "ftrl": ("FtrlOptimizer", {"learning_rate": 0.1}),
    "ftrl_l1_l2": ("FtrlOptimizer", {"learning_rate": 0.5, "initial_accumulator_value": 0.2,
                                     "l1_regularization_strength": 0.01,
                                     "l2_regularization_strength": 0.02}),
    "ftrl_power": ("FtrlOptimizer", {"learning_rate": 0.5, "learning_rate_power": -0.7,
                                     "l1_regularization_strength": 0.001,
                                     "l2_regularization_strength": 0.01}),
    "ftrl_shrinkage": ("FtrlOptimizer", {"learning_rate": 0.5,
                                         "l1_regularization_strength": 0.01,
                                         "l2_regularization_strength": 0.02,
                                         "l2_shrinkage_regularization_strength": 0.05}),
}

# The configurations also recorded in float64.
FLOAT64_CONFIGS = ("gd", "momentum", "adam", "rmsprop_centered", "adadelta", "ftrl_shrinkage")

# name -> (function name, keyword arguments besides global_step)
SCHEDULES = {
    "exponential": ("exponential_decay", {"learning_rate": 0.1, "decay_steps": 10,
                                          "decay_rate": 0.5}),
    "exponential_staircase": ("exponential_decay", {"learning_rate": 0.1, "decay_steps": 10,
                                                    "decay_rate": 0.5, "staircase": True}),
    "polynomial": ("polynomial_decay", {"learning_rate": 0.1, "decay_steps": 10,
                                        "end_learning_rate": 0.01, "power": 2.0}),
    "polynomial_cycle": ("polynomial_decay", {"learning_rate": 0.1, "decay_steps": 10,
                                              "end_learning_rate": 0.01, "power": 0.5,
                                              "cycle": True}),
    "inverse_time": ("inverse_time_decay", {"learning_rate": 0.1, "decay_steps": 10,
                                            "decay_rate": 0.5}),
    "inverse_time_staircase": ("inverse_time_decay", {"learning_rate": 0.1, "decay_steps": 10,
                                                      "decay_rate": 0.5, "staircase": True}),
    "cosine": ("cosine_decay", {"learning_rate": 0.1, "decay_steps": 20, "alpha": 0.1}),
    "piecewise": ("piecewise_constant", {"boundaries": [5, 15], "values": [1.0, 0.5, 0.1]}),
}
SCHEDULE_STEPS = [0, 1, 4, 5, 6, 10, 15, 16, 25, 100]


def starts():
    """The fixed starting values and constants (also stored in the file)."""
    rng = np.random.RandomState(11)
    return {
        "w": rng.uniform(-1.0, 1.0, (2, 3)),
        "d": rng.uniform(0.5, 2.0, (2, 3)),
        "b": rng.uniform(-1.0, 1.0, (4,)),
        "e": rng.uniform(0.5, 2.0, (4,)),
        "emb": rng.uniform(-1.0, 1.0, (5, 2)),
        "sparse_values": rng.uniform(-1.0, 1.0, (4, 2)),
        # Index 0 twice: repeated rows add, as TF's optimizers do.
        "sparse_indices": np.array([0, 3, 0, 4], np.int32),
    }


def _record(tf, start, config, dtype, out):
    class_name, kwargs = CONFIGS[config]
    np_dtype = np.dtype(dtype)
    for mode in ("dense", "sparse"):
        graph = tf.Graph()
        with graph.as_default():
            optimizer = getattr(tf.train, class_name)(**kwargs)
            if mode == "dense":
                w = tf.Variable(start["w"].astype(np_dtype), name="w")
                b = tf.Variable(start["b"].astype(np_dtype), name="b")
                d = tf.constant(start["d"].astype(np_dtype))
                e = tf.constant(start["e"].astype(np_dtype))
                loss = tf.add_n([tf.reduce_sum(w * w * d), tf.reduce_sum(b * b * b * e)])
                step = optimizer.minimize(loss)
                trained = [w, b]
            else:
                emb = tf.Variable(start["emb"].astype(np_dtype), name="emb")
                grad = tf.IndexedSlices(tf.constant(start["sparse_values"].astype(np_dtype)),
                                        tf.constant(start["sparse_indices"]),
                                        tf.constant([5, 2]))
                step = optimizer.apply_gradients([(grad, emb)])
                trained = [emb]
            with tf.Session() as sess:
                sess.run(tf.global_variables_initializer())
                history = {v.op.name: [] for v in trained}
                for _ in range(STEPS):
                    sess.run(step)
                    for v in trained:
                        history[v.op.name].append(sess.run(v))
                prefix = f"{config}/{np_dtype.name}/{mode}/"
                for name, values in history.items():
                    out[prefix + name] = np.stack(values)
                for v in optimizer.variables():
                    out[prefix + v.op.name] = sess.run(v)


def _record_schedules(tf, out):
    for name, (function, kwargs) in SCHEDULES.items():
        graph = tf.Graph()
        with graph.as_default():
            step = tf.placeholder(tf.int64, [])
            if function == "piecewise_constant":
                value = tf.train.piecewise_constant(step, **kwargs)
            else:
                value = getattr(tf.train, function)(global_step=step, **kwargs)
            with tf.Session() as sess:
                out["schedule/" + name] = np.array(
                    [sess.run(value, {step: s}) for s in SCHEDULE_STEPS])


def main(path="tests/data/optimizer_trajectories.npz"):
    import tensorflow.compat.v1 as tf

    tf.disable_eager_execution()
    start = starts()
    out = {"start/" + key: value for key, value in start.items()}
    out["schedule_steps"] = np.array(SCHEDULE_STEPS)
    for config in CONFIGS:
        _record(tf, start, config, "float32", out)
    for config in FLOAT64_CONFIGS:
        _record(tf, start, config, "float64", out)
    _record_schedules(tf, out)
    out["tf_version"] = np.array(tf.__version__)
    np.savez_compressed(path, **out)
    print(f"wrote {len(out)} arrays to {path} (TensorFlow {tf.__version__})")


if __name__ == "__main__":
    main(*sys.argv[1:])
