#!/usr/bin/env python3
"""Benchmarks of sessionlib's headline figures, with in-run baselines and ratios.

Each figure is measured here, now, next to its baselines, because a 2-core machine is noisy:
numpy doing the same arithmetic (the floor for any graph runtime) and, when a TensorFlow
interpreter is given, ``tensorflow.compat.v1`` running the very same benchmark code (sessionlib
is API-compatible, so one function body serves both). Targets are printed beside the results;
nothing here asserts.

Usage:
  python tools/bench.py                                # sessionlib and numpy
  python tools/bench.py --tf-python /path/to/tf/python # ... and TF in a subprocess
  python tools/bench.py --only step_latency,callable   # a subset
  python tools/bench.py --tf-python /work/tfenv/bin/python --only fused_y,fused_sum,\
      fused_fed,add_stream,chain16,peak_rss --repeat 15   # the kernel figures (issue 5)
  python tools/bench.py --tf-python /work/tfref/bin/python --only pow_chain_vars,\
      pow_chain_sum,pow_chain_square,pow_chain_fed        # the rewrite figures (issue 14)
  python tools/bench.py --only assign_add,worker_latency,worker_callable,branches_exp,\
      branches_matmul,transfer64                        # state and device figures (3, 4)
  python tools/bench.py --tf-python /work/tfref/bin/python --only xdev_64mb,fetch_64mb,\
      matmul_chain_idle,matmul_chain_two                # the core budget (issue 14)
  python tools/bench.py --tf-python /work/tfref/bin/python --only multi_tower,\
      multi_tower_gpu,multi_tower_nobudget,gpu_tutorial --repeat 10  # multi-tower (issue 15)
  python tools/bench.py --tf-python /work/tfref/bin/python --only while_loop_1000,cond_10M,\
      lstm_train --repeat 3                             # control flow and RNNs (issue 16)

The baseline column is what each figure is a ratio against: numpy doing the same work for
the core and kernel figures, numpy's in-place add for ``assign_add``, the in-process session
for the worker latencies, and the same graph on one device for the two-device figures (so
``ours/base`` below 1 is the speed-up from the second device, and for ``transfer64`` it is
the cost of crossing devices). ``tools/bench_devices.py`` has the device runtime's own probes
(channel round trip against a pipe, session creation warm and cold).

The kernel figures (``fused_*``, ``add_stream``, ``chain16``, ``peak_rss``) run 10M-element
float32 graphs. Their numexpr column comes from the TF interpreter too (numexpr is installed
there, never a sessionlib dependency). ``add_stream`` compares ``a + b`` with a STREAM-add probe
(numpy ``np.add(a, b, out=c)`` on one thread and on two threads over halves, best taken), and
reports achieved bandwidth as a share of the probe's; ``chain16`` compares a 16-element chain of
16 ops fused against the same run with fusion off (``opt_level=L0``). Times are best-of-N: the
machine is shared and noisy.
"""

import argparse
import json
import os
import subprocess
import sys
import time
import timeit

import numpy as np

# Figure name -> (description, target in µs or ms as text).
FIGURES = {
    "import": ("import sessionlib (s)", "<= 0.25 s"),
    "step_latency": ("sess.run(c, {a: scalar}), c = a * b (µs)", "<= 10 µs"),
    "callable": ("make_callable of the same (µs)", "<= 5 µs"),
    "fetch_dict10": ("fetch a dict of 10 small tensors (µs)", "<= 17 µs"),
    "chain200": ("chain of 200 scalar adds, per run (µs)", "<= 57 µs"),
    "build1000": ("build a 1000-op graph (ms)", "<= 35 ms"),
    "first_run1000": ("first run of the 1000-op graph (ms)", "<= 40 ms"),
    "fused_y": ("exp(-(a*b+c)^2), 10M f32 vars, fetch y (ms)", "<= 6 ms, 0.6x TF"),
    "fused_sum": ("... fetch reduce_sum(y) (ms)", "<= 5.5 ms"),
    "fused_fed": ("... a, b, c fed each run (ms)", "<= 0.6x TF"),
    "add_stream": ("a + b, 10M f32 fed (ms; np: STREAM add)", ">= 70% of STREAM"),
    "chain16": ("16-op chain on 16 elements (µs; np: unfused)", "fused <= 1.1x"),
    "peak_rss": ("peak RSS of the fused_y run (MB)", "<= TF"),
    # Issue 3 (state): the baseline column is numpy's in-place `a += b`.
    "assign_add": ("assign_add of a fed 1M f32 array (µs)", "<= 160 µs"),
    # Issue 4 (devices): the baseline column is the same graph on one device (or in-process).
    "worker_latency": ("sess.run(c, {a: scalar}) via a worker (µs; base: in-proc)",
                       "<= 15 µs"),
    "worker_callable": ("make_callable via a worker (µs; base: in-proc)", "<= 10 µs"),
    "branches_exp": ("2 exp chains 10M f32, CPU:0|CPU:1 (ms; base: both CPU:0)",
                     ">= 1.8x, <= TF"),
    "branches_matmul": ("2x4 matmuls 1024^2, CPU:0|CPU:1 (ms; base: both CPU:0)", ">= 1.8x"),
    "transfer64": ("64 MB made on CPU:0, summed on CPU:1 (ms; base: same dev)", "<= +1 ms"),
    # Issue 14 (the core budget): default 2-device configs (no intra_op threads), so a busy
    # device may borrow the idle one's core; TF's column is the same code on TF.
    "xdev_64mb": ("64 MB made on CPU:0, reduced on CPU:1 (ms; base: both on CPU:0)",
                  "<= 1.0x TF, <= 1.3x base"),
    "fetch_64mb": ("fetch a 64 MB tensor made on CPU:0 (ms; base: numpy makes it)",
                   "<= 1.0x TF"),
    "matmul_chain_idle": ("4 matmuls 1024^2 on CPU:0, CPU:1 idle (ms; base: numpy)",
                          "<= 1.1x TF"),
    "matmul_chain_two": ("2x4 matmuls 1024^2, CPU:0|CPU:1 (ms; base: both CPU:0)",
                         ">= 1.8x"),
    # Issue 15 (emulated GPUs): TF's multi-GPU tutorial, its towers on two emulated GPUs
    # against both on GPU:0 (TF has no GPU on this machine: no TF column).
    "gpu_tutorial": ("tutorial: 2 towers matmul 2048^2 -> add_n, GPU:0|GPU:1 (ms; base: GPU:0)",
                     ">= 1.7x"),
    # Issue 10 (flat costs): the baseline column is the same run with no result held.
    "held_results": ("run via a worker, 20k 4 KB results held (µs; base: 0 held)",
                     "<= 1.1x"),
    # Issue 11 (training): TF's column is the same code on tf.compat.v1; the MLP's baseline is
    # the same step written in numpy, the floor of any runtime.
    "train_mlp": ("MLP 784-256-256-10 Adam step, batch 128 (ms; base: numpy)", "<= 0.6x TF"),
    "train_cnn": ("CNN conv32-pool-conv64-pool-fc1024-fc10 Adam, b64 (ms)", "<= 1.0x TF"),
    # Issue 14 (remapping): the train_mlp step with the remapping rewrite on, against the same
    # step with it off (RewriterConfig.remapping = OFF), in alternating rounds of one run.
    "train_mlp_remap": ("the MLP step, remapping on (ms; base: remapping off)", "< 1.0x base"),
    "build_mlp": ("build the MLP training graph with minimize (ms)", "<= 0.2x TF"),
    "build_cnn": ("build the CNN training graph with minimize (ms)", "<= 0.2x TF"),
    "train_vars": ("GD step on 400 scalar variables (µs; base: 10 variables)",
                   "overhead flat"),
    # Issue 12 (model building): the baseline column is the same model written with tf.nn
    # and tf.Variable, in the same run; TF's column runs the tf.layers code (tf-keras).
    "train_cnn_layers": ("the CNN step written with tf.layers (ms; base: tf.nn)",
                         "<= 1.05x base"),
    "train_bn_mlp": ("BN MLP 784-256-256-10 Adam step, tf.layers (ms; base: tf.nn)",
                     "<= 1.05x base"),
    # Issue 13 (checkpoints): the baseline column is np.save + np.load of the same arrays.
    "save_restore": ("Saver save+restore of a 100 MB model (ms; base: np.save+load)",
                     "<= 1.5x np, <= 0.5x TF"),
    # Issue 13 (input pipelines): the baseline column is the same step fed by feed_dict.
    "input_pipeline": ("MLP step fed by slices->map->batch128->prefetch (ms; base: feed)",
                       "<= 1.1x"),
    # Issue 14 (graph rewrites): the baseline column is the same graph with the rewrite off.
    "fold_const": ("exp(-(a*b+c)**2), 10M f32 constants, fetch y (ms; base: no folding)",
                   "<= 1.0x TF"),
    # Issue 14 (graph rewrites): y = exp(-(a*b+c) ** 2) as users write it, with a, b in [0, 1)
    # and c in [-0.5, 0.5) (negative bases); the baseline is numpy, or for pow_chain_square
    # the same chain written with tf.square, in the same run.
    "pow_chain_vars": ("exp(-(a*b+c)**2), 10M f32 vars, fetch y (ms; base: numpy)",
                       "<= 0.5x TF"),
    "pow_chain_sum": ("... fetch reduce_sum(y) (ms; base: numpy)", "<= 0.5x TF"),
    "pow_chain_square": ("... ** 2 against tf.square, fetch y (ms; base: tf.square)",
                         "<= 1.1x base"),
    "pow_chain_fed": ("... a, b, c fed each run (ms)", "<= 0.3x TF"),
    # Issue 15 (multi-tower training): the MLP's Adam step on a batch of 256 as two towers of
    # 128, variables on CPU:0, towers on CPU:0 and CPU:1; the baseline is both towers on
    # CPU:0 in the same 2-device session, in alternating rounds. TF's column is its split.
    "multi_tower": ("MLP Adam step, 2 towers of 128, CPU:0|CPU:1 (ms; base: both CPU:0)",
                    ">= 1.7x, <= 0.6x TF"),
    "multi_tower_nobudget": ("... with SESSIONLIB_CORE_BUDGET=0 (ms; base: both CPU:0)",
                             "(explains multi_tower)"),
    # The same towers on two emulated GPUs (variables on CPU:0), against both on GPU:0: each
    # GPU has its share of the cores as its own (runtime/cores.py), as a real GPU has its own
    # compute. TF has no GPU here: its column is its CPU:0|CPU:1 split, as for multi_tower.
    "multi_tower_gpu": ("MLP Adam step, 2 towers of 128, GPU:0|GPU:1 (ms; base: both GPU:0)",
                        ">= 1.7x, <= 0.6x TF"),
    # Issue 16 (control flow): the executor's per-iteration overhead, and a cond's cost.
    "while_loop_1000": ("while_loop, 1000 iterations of a scalar add, per run (ms)",
                        "<= 0.3x TF"),
    "cond_10M": ("cond on a fed bool, 10M f32 branches, sum (ms; base: branch alone)",
                 "<= 1.1x base"),
    # An LSTM training step: dynamic_rnn against the same cell unrolled by static_rnn.
    "lstm_train": ("dynamic_rnn LSTM 128, 28 steps, batch 128, Adam (ms; base: static)",
                   "<= 1.0x TF"),
}

# How many timed rounds the kernel figures take the best of (--repeat).
REPEAT = 10
N_LARGE = 10_000_000


def _best_per_call(fn, number, repeat=7):
    """The best mean time per call over `repeat` rounds of `number` calls, in seconds."""
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number


def _tf_module(backend):
    if backend == "tf":
        import tensorflow.compat.v1 as tf

        tf.disable_eager_execution()
        return tf
    import sessionlib as tf

    return tf


def bench_import(backend):
    module = "tensorflow.compat.v1" if backend == "tf" else "sessionlib"
    code = f"import time; t = time.perf_counter(); import {module}; " \
           "print(time.perf_counter() - t)"
    # As a user's Python would: with bytecode caching on (the first, untimed import writes the
    # .pyc files), even where the environment turns it off.
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    times = []
    for attempt in range(4):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             env=env, check=True)
        if attempt:
            times.append(float(out.stdout.strip().splitlines()[-1]))
    return min(times), None


def bench_step_latency(backend):
    tf = _tf_module(backend)
    graph = tf.Graph()
    with graph.as_default():
        a = tf.placeholder(tf.float32, [])
        b = tf.constant(3.0)
        c = a * b
    with tf.Session(graph=graph) as sess:
        sess.run(c, {a: 1.0})
        ours = _best_per_call(lambda: sess.run(c, {a: 2.0}), 2000)
    x, y = np.float32(2.0), np.float32(3.0)
    baseline = _best_per_call(lambda: np.multiply(x, y), 20000)
    return ours * 1e6, baseline * 1e6


def bench_callable(backend):
    tf = _tf_module(backend)
    graph = tf.Graph()
    with graph.as_default():
        a = tf.placeholder(tf.float32, [])
        c = a * tf.constant(3.0)
    with tf.Session(graph=graph) as sess:
        run = sess.make_callable(c, feed_list=[a])
        run(1.0)
        ours = _best_per_call(lambda: run(2.0), 2000)
    x, y = np.float32(2.0), np.float32(3.0)
    baseline = _best_per_call(lambda: np.multiply(x, y), 20000)
    return ours * 1e6, baseline * 1e6


def bench_fetch_dict10(backend):
    tf = _tf_module(backend)
    graph = tf.Graph()
    with graph.as_default():
        fetches = {f"t{i}": tf.constant(np.full(4, i, np.float32)) for i in range(10)}
    with tf.Session(graph=graph) as sess:
        sess.run(fetches)
        ours = _best_per_call(lambda: sess.run(fetches), 1000)
    arrays = [np.full(4, i, np.float32) for i in range(10)]
    baseline = _best_per_call(lambda: {f"t{i}": a.copy() for i, a in enumerate(arrays)}, 5000)
    return ours * 1e6, baseline * 1e6


def bench_chain200(backend):
    tf = _tf_module(backend)
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [])
        y = x
        one = tf.constant(1.0)
        for _ in range(200):
            y = y + one
    with tf.Session(graph=graph) as sess:
        sess.run(y, {x: 0.0})
        ours = _best_per_call(lambda: sess.run(y, {x: 1.0}), 200)

    def numpy_chain():
        value = np.float32(1.0)
        step = np.float32(1.0)
        for _ in range(200):
            value = value + step  # numpy's scalar fast path, cheaper than np.add
        return value

    baseline = _best_per_call(numpy_chain, 200)
    return ours * 1e6, baseline * 1e6


def _build_1000(tf):
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [4])
        y = x
        for i in range(333):
            y = y * tf.constant(1.0001) + tf.constant(float(i % 3))
    return graph, x, y


def bench_build1000(backend):
    tf = _tf_module(backend)
    _build_1000(tf)
    times = []
    for _ in range(5):
        start = time.perf_counter()
        _build_1000(tf)
        times.append(time.perf_counter() - start)
    return min(times) * 1e3, None


def bench_first_run1000(backend):
    tf = _tf_module(backend)
    times = []
    for _ in range(5):
        graph, x, y = _build_1000(tf)
        with tf.Session(graph=graph) as sess:
            start = time.perf_counter()
            sess.run(y, {x: np.ones(4, np.float32)})
            times.append(time.perf_counter() - start)
    return min(times) * 1e3, None


def _chain_inputs(seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(N_LARGE).astype(np.float32) for _ in range(3)]


def _best_ms(fn, repeat=None):
    fn()
    times = []
    for _ in range(repeat or REPEAT):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times) * 1e3


def _numpy_chain(a, b, c):
    return np.exp(-np.square(a * b + c))


def _numexpr_chain_ms(reduce=False):
    import numexpr

    a, b, c = _chain_inputs()
    arrays = {"a": a, "b": b, "c": c}
    expression = "exp(-(a*b+c)**2)"
    if reduce:
        # numexpr reductions run single-threaded; its fastest sum(y) is two passes.
        return _best_ms(lambda: numexpr.evaluate(expression, local_dict=arrays).sum())
    return _best_ms(lambda: numexpr.evaluate(expression, local_dict=arrays))


def _variables_chain(tf, reduce):
    a_value, b_value, c_value = _chain_inputs()
    graph = tf.Graph()
    with graph.as_default():
        a, b, c = (tf.Variable(v) for v in (a_value, b_value, c_value))
        y = tf.exp(-tf.square(a * b + c))
        fetch = tf.reduce_sum(y) if reduce else y
        init = tf.global_variables_initializer()
    return graph, init, fetch


def _bench_variables_chain(backend, reduce):
    if backend == "numexpr":
        return _numexpr_chain_ms(reduce), None
    tf = _tf_module(backend)
    graph, init, fetch = _variables_chain(tf, reduce)
    with tf.Session(graph=graph) as sess:
        sess.run(init)
        ours = _best_ms(lambda: sess.run(fetch))
    a, b, c = _chain_inputs()
    if reduce:
        baseline = _best_ms(lambda: _numpy_chain(a, b, c).sum(), max(3, REPEAT // 3))
    else:
        baseline = _best_ms(lambda: _numpy_chain(a, b, c), max(3, REPEAT // 3))
    return ours, baseline


def bench_fused_y(backend):
    return _bench_variables_chain(backend, reduce=False)


def bench_fused_sum(backend):
    return _bench_variables_chain(backend, reduce=True)


def bench_fused_fed(backend):
    if backend == "numexpr":
        return _numexpr_chain_ms(), None
    tf = _tf_module(backend)
    a_value, b_value, c_value = _chain_inputs()
    graph = tf.Graph()
    with graph.as_default():
        a, b, c = (tf.placeholder(tf.float32, [N_LARGE]) for _ in range(3))
        y = tf.exp(-tf.square(a * b + c))
    feeds = {a: a_value, b: b_value, c: c_value}
    with tf.Session(graph=graph) as sess:
        ours = _best_ms(lambda: sess.run(y, feeds))
    return ours, None


def _pow_chain_inputs(seed=0):
    """a, b uniform in [0, 1) and c in [-0.5, 0.5), as the issue measured them."""
    rng = np.random.default_rng(seed)
    a, b = (rng.random(N_LARGE, dtype=np.float32) for _ in range(2))
    c = rng.random(N_LARGE, dtype=np.float32) - np.float32(0.5)
    return a, b, c


def _pow_chain(tf, a, b, c, square=False):
    base = a * b + c
    return tf.exp(-(tf.square(base) if square else base ** 2))


def _bench_pow_chain_vars(backend, reduce):
    tf = _tf_module(backend)
    values = _pow_chain_inputs()
    graph = tf.Graph()
    with graph.as_default():
        a, b, c = (tf.Variable(v) for v in values)
        y = _pow_chain(tf, a, b, c)
        fetch = tf.reduce_sum(y) if reduce else y
        init = tf.global_variables_initializer()
    with tf.Session(graph=graph) as sess:
        sess.run(init)
        ours = _best_ms(lambda: sess.run(fetch))
    a, b, c = values
    if reduce:
        baseline = _best_ms(lambda: _numpy_chain(a, b, c).sum(), max(3, REPEAT // 3))
    else:
        baseline = _best_ms(lambda: _numpy_chain(a, b, c), max(3, REPEAT // 3))
    return ours, baseline


def bench_pow_chain_vars(backend):
    return _bench_pow_chain_vars(backend, reduce=False)


def bench_pow_chain_sum(backend):
    return _bench_pow_chain_vars(backend, reduce=True)


def bench_pow_chain_square(backend):
    tf = _tf_module(backend)
    graph = tf.Graph()
    with graph.as_default():
        a, b, c = (tf.Variable(v) for v in _pow_chain_inputs())
        y_pow = _pow_chain(tf, a, b, c)
        y_square = _pow_chain(tf, a, b, c, square=True)
        init = tf.global_variables_initializer()
    with tf.Session(graph=graph) as sess:
        sess.run(init)
        ours, baseline = _interleaved_best_ms([lambda: sess.run(y_pow),
                                               lambda: sess.run(y_square)])
    return ours, baseline


def bench_pow_chain_fed(backend):
    tf = _tf_module(backend)
    values = _pow_chain_inputs()
    graph = tf.Graph()
    with graph.as_default():
        a, b, c = (tf.placeholder(tf.float32, [N_LARGE]) for _ in range(3))
        y = _pow_chain(tf, a, b, c)
    feeds = dict(zip((a, b, c), values))
    with tf.Session(graph=graph) as sess:
        ours = _best_ms(lambda: sess.run(y, feeds))
    return ours, None


def _interleaved_best_ms(functions, repeat=None):
    """The best time of each function, in ms, over rounds that call each of them once.

    Alternating keeps a noisy spell on the machine from landing on one column only."""
    for function in functions:
        function()
    best = [float("inf")] * len(functions)
    for _ in range(repeat or REPEAT):
        for index, function in enumerate(functions):
            start = time.perf_counter()
            function()
            best[index] = min(best[index], time.perf_counter() - start)
    return [value * 1e3 for value in best]


def _stream_add_probes(a, b):
    """The STREAM 'add' kernel c = a + b: numpy on one thread, and on two threads over
    halves (numpy releases the GIL). The memory-bandwidth probe is the faster of the two."""
    import threading

    out = np.empty_like(a)
    half = a.size // 2

    def single():
        np.add(a, b, out=out)

    def two_threads():
        worker = threading.Thread(target=np.add, args=(a[half:], b[half:]),
                                  kwargs={"out": out[half:]})
        worker.start()
        np.add(a[:half], b[:half], out=out[:half])
        worker.join()

    return [single, two_threads]


def bench_add_stream(backend):
    if backend == "numexpr":
        import numexpr

        a, b, _ = _chain_inputs()
        return _best_ms(lambda: numexpr.evaluate("a + b", local_dict={"a": a, "b": b})), None
    tf = _tf_module(backend)
    a_value, b_value, _ = _chain_inputs()
    graph = tf.Graph()
    with graph.as_default():
        a, b = (tf.placeholder(tf.float32, [N_LARGE]) for _ in range(2))
        y = a + b
    with tf.Session(graph=graph) as sess:
        ours, *probes = _interleaved_best_ms(
            [lambda: sess.run(y, {a: a_value, b: b_value})]
            + _stream_add_probes(a_value, b_value))
    return ours, min(probes)


def _chain16(tf):
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [16])
        y = x
        for step in range(4):
            y = tf.tanh(y * 0.5 + 0.25) - tf.square(y) * 0.125
    return graph, x, y


def bench_chain16(backend):
    if backend == "numexpr":
        return None, None
    tf = _tf_module(backend)
    value = np.linspace(-1, 1, 16, dtype=np.float32)
    graph, x, y = _chain16(tf)
    if backend == "tf":
        with tf.Session(graph=graph) as sess:
            run = sess.make_callable(y, feed_list=[x])
            return _best_per_call(lambda: run(value), 2000) * 1e6, None
    config = tf.ConfigProto(graph_options=tf.GraphOptions(
        optimizer_options=tf.OptimizerOptions(opt_level=tf.OptimizerOptions.L0)))
    with tf.Session(graph=graph) as fused_sess, \
            tf.Session(graph=graph, config=config) as unfused_sess:
        fused_run = fused_sess.make_callable(y, feed_list=[x])
        unfused_run = unfused_sess.make_callable(y, feed_list=[x])
        # Rounds alternate, so a noisy spell on the machine hits both columns alike.
        ours = unfused = float("inf")
        for _ in range(7):
            ours = min(ours, _best_per_call(lambda: fused_run(value), 2000, repeat=1))
            unfused = min(unfused, _best_per_call(lambda: unfused_run(value), 2000, repeat=1))
    return ours * 1e6, unfused * 1e6


_RSS_CHILD = """
import resource, sys
sys.path.insert(0, {root!r})
import importlib.util
spec = importlib.util.spec_from_file_location("bench", {path!r})
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)
tf = bench._tf_module({backend!r})
graph, init, fetch = bench._variables_chain(tf, reduce=False)
with tf.Session(graph=graph) as sess:
    sess.run(init)
    for _ in range(10):
        sess.run(fetch)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def bench_peak_rss(backend):
    """Peak RSS (MB) of a fresh process that runs the fused_y benchmark ten times."""
    if backend == "numexpr":
        return None, None
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    code = _RSS_CHILD.format(root=root, path=os.path.abspath(__file__), backend=backend)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"), check=True)
    return float(out.stdout.strip().splitlines()[-1]), None


def bench_assign_add(backend):
    tf = _tf_module(backend)
    graph = tf.Graph()
    with graph.as_default():
        delta = tf.placeholder(tf.float32, [1_000_000])
        variable = tf.Variable(tf.zeros([1_000_000]))
        update = variable.assign_add(delta)
    value = np.ones(1_000_000, np.float32)
    with tf.Session(graph=graph) as sess:
        sess.run(variable.initializer)
        sess.run(update.op, {delta: value})
        ours = _best_per_call(lambda: sess.run(update.op, {delta: value}), 200)
    target = np.zeros(1_000_000, np.float32)

    def numpy_add():
        target.__iadd__(value)

    return ours * 1e6, _best_per_call(numpy_add, 200) * 1e6


def _two_device_config(tf, threads=1):
    return tf.ConfigProto(device_count={"CPU": 2}, intra_op_parallelism_threads=threads,
                          inter_op_parallelism_threads=2)


def _worker_latency(backend, use_callable):
    tf = _tf_module(backend)
    times = []
    for config in (_two_device_config(tf), None):
        graph = tf.Graph()
        with graph.as_default(), tf.device("/cpu:0"):
            a = tf.placeholder(tf.float32, [])
            c = a * tf.constant(3.0)
        with tf.Session(graph=graph, config=config) as sess:
            run = (sess.make_callable(c, feed_list=[a]) if use_callable
                   else (lambda value: sess.run(c, {a: value})))
            run(1.0)
            times.append(_best_per_call(lambda: run(2.0), 2000) * 1e6)
    return times[0], times[1]


def bench_worker_latency(backend):
    return _worker_latency(backend, use_callable=False)


def bench_worker_callable(backend):
    return _worker_latency(backend, use_callable=True)


def _two_branches(backend, build_branch, repeat):
    """Step time of two independent branches split over CPU:0 and CPU:1, and both on CPU:0."""
    tf = _tf_module(backend)
    times = []
    for devices in (("/cpu:0", "/cpu:1"), ("/cpu:0", "/cpu:0")):
        graph = tf.Graph()
        with graph.as_default():
            outputs, initializers = [], []
            for index, device in enumerate(devices):
                with tf.device(device):
                    output, init = build_branch(tf, index)
                outputs.append(output)
                initializers.extend(init)
        with tf.Session(graph=graph, config=_two_device_config(tf)) as sess:
            sess.run(initializers)
            sess.run(outputs)
            times.append(_best_ms(lambda: sess.run(outputs), repeat))
    return times[0], times[1]


def _exp_branch(tf, index):
    variables = [tf.Variable(tf.random_uniform([N_LARGE], seed=index * 3 + k))
                 for k in range(3)]
    a, b, c = variables
    return tf.reduce_sum(tf.exp(-tf.square(a * b + c))), [v.initializer for v in variables]


def _matmul_branch(tf, index):
    weights = [tf.Variable(tf.random_uniform([1024, 1024], seed=index * 5 + k) / 512.0)
               for k in range(5)]
    h = weights[0]
    for w in weights[1:]:
        h = tf.matmul(h, w)
    return tf.reduce_sum(h), [w.initializer for w in weights]


def bench_branches_exp(backend):
    return _two_branches(backend, _exp_branch, REPEAT)


def bench_branches_matmul(backend):
    return _two_branches(backend, _matmul_branch, REPEAT)


def bench_transfer64(backend):
    """A 64 MB tensor made on CPU:0 and summed on CPU:1, against the same graph on CPU:0.

    The tensor is a concat of two 32 MB variables: a fresh buffer each run that no kernel
    fusion can skip, so the difference is what crossing devices costs.
    """
    tf = _tf_module(backend)
    half = 8 * 1024 * 1024
    times = []
    for consumer in ("/cpu:1", "/cpu:0"):
        graph = tf.Graph()
        with graph.as_default():
            with tf.device("/cpu:0"):
                parts = [tf.Variable(tf.random_uniform([half], seed=k)) for k in range(2)]
                made = tf.concat(parts, 0)
            with tf.device(consumer):
                total = tf.reduce_sum(made)
        with tf.Session(graph=graph, config=_two_device_config(tf)) as sess:
            sess.run([p.initializer for p in parts])
            sess.run(total)
            times.append(_best_ms(lambda: sess.run(total), REPEAT))
    return times[0], times[1]


def _default_two_devices(tf):
    return tf.ConfigProto(device_count={"CPU": 2})


def _made_64mb(tf, consumer):
    """A 64 MB float32 tensor made on CPU:0 from a variable (a fresh buffer each run), and its
    sum on `consumer`."""
    with tf.device("/cpu:0"):
        v = tf.Variable(tf.random_uniform([16 * 1024 * 1024], seed=7))
        made = v * 2.0
    with tf.device(consumer):
        total = tf.reduce_sum(made)
    return v, made, total


def bench_xdev_64mb(backend):
    """The 64 MB tensor made on CPU:0 and reduced on CPU:1, against the same graph with the
    reduction on CPU:0, both in a default 2-device session."""
    tf = _tf_module(backend)
    times = []
    for consumer in ("/cpu:1", "/cpu:0"):
        graph = tf.Graph()
        with graph.as_default():
            v, _, total = _made_64mb(tf, consumer)
        with tf.Session(graph=graph, config=_default_two_devices(tf)) as sess:
            sess.run(v.initializer)
            times.append(_best_ms(lambda: sess.run(total), REPEAT))
    return times[0], times[1]


def bench_fetch_64mb(backend):
    """Fetching the 64 MB tensor made on CPU:0 of a 2-device session; base: numpy making it."""
    tf = _tf_module(backend)
    graph = tf.Graph()
    with graph.as_default():
        v, made, _ = _made_64mb(tf, "/cpu:0")
    with tf.Session(graph=graph, config=_default_two_devices(tf)) as sess:
        sess.run(v.initializer)
        value = sess.run(v)
        ours = _best_ms(lambda: sess.run(made), REPEAT)
    return ours, _best_ms(lambda: value * 2.0, REPEAT)


def _matmul_chain(tf, index, links=4):
    weights = [tf.Variable(tf.random_uniform([1024, 1024], seed=index * 5 + k) / 512.0)
               for k in range(links + 1)]
    h = weights[0]
    for w in weights[1:]:
        h = tf.matmul(h, w)
    return h, weights


def bench_matmul_chain_idle(backend):
    """4 chained 1024^2 matmuls on CPU:0 of a default 2-device session (CPU:1 idle); base:
    numpy's chain in this process (its BLAS on every core)."""
    tf = _tf_module(backend)
    graph = tf.Graph()
    with graph.as_default(), tf.device("/cpu:0"):
        h, weights = _matmul_chain(tf, 0)
        total = tf.reduce_sum(h)
    with tf.Session(graph=graph, config=_default_two_devices(tf)) as sess:
        sess.run([w.initializer for w in weights])
        values = sess.run(weights)
        ours = _best_ms(lambda: sess.run(total), REPEAT)

    def numpy_chain():
        out = values[0]
        for w in values[1:]:
            out = out @ w
        return out.sum()

    return ours, _best_ms(numpy_chain, REPEAT)


def bench_matmul_chain_two(backend):
    """Two such chains on CPU:0 and CPU:1 against both on CPU:0 (default 2-device config)."""
    tf = _tf_module(backend)
    times = []
    for devices in (("/cpu:0", "/cpu:1"), ("/cpu:0", "/cpu:0")):
        graph = tf.Graph()
        with graph.as_default():
            outputs, initializers = [], []
            for index, device in enumerate(devices):
                with tf.device(device):
                    h, weights = _matmul_chain(tf, index)
                    outputs.append(tf.reduce_sum(h))
                initializers.extend(w.initializer for w in weights)
        with tf.Session(graph=graph, config=_default_two_devices(tf)) as sess:
            sess.run(initializers)
            times.append(_best_ms(lambda: sess.run(outputs), REPEAT))
    return times[0], times[1]


def bench_gpu_tutorial(backend, size=2048):
    """The classic "Using multiple GPUs" tutorial with large matrices, on a session with two
    emulated GPUs: one matmul tower per GPU, summed with add_n on the CPU; base: both towers
    on GPU:0. The operands are variables, so no constant folding can skip the matmuls."""
    if backend == "tf":
        return None, None
    tf = _tf_module(backend)
    times = []
    for devices in (("/gpu:0", "/gpu:1"), ("/gpu:0", "/gpu:0")):
        graph = tf.Graph()
        with graph.as_default():
            towers, initializers = [], []
            for index, device in enumerate(devices):
                with tf.device(device):
                    a = tf.Variable(tf.random_uniform([size, size], seed=2 * index))
                    b = tf.Variable(tf.random_uniform([size, size], seed=2 * index + 1))
                    towers.append(tf.matmul(a, b))
                initializers += [a.initializer, b.initializer]
            with tf.device("/cpu:0"):
                total = tf.add_n(towers)
        with tf.Session(graph=graph, config=tf.ConfigProto(device_count={"GPU": 2})) as sess:
            sess.run(initializers)
            sess.run(total)
            times.append(_best_ms(lambda: sess.run(total), REPEAT))
    return times[0], times[1]


def bench_held_results(backend, held=20_000):
    """Per-run time of a worker run that fetches a 4 KB result (an arena block leased to the
    client), with `held` such results still referenced by the user, against none held.

    Every fetched result keeps a lease in the worker's store until the client drops it, so
    this shows whether a publish costs more the more leases are outstanding.
    """
    tf = _tf_module(backend)
    graph = tf.Graph()
    with graph.as_default(), tf.device("/cpu:0"):
        a = tf.placeholder(tf.float32, [])
        result = tf.fill([1024], a) * tf.constant(2.0)
    with tf.Session(graph=graph, config=_two_device_config(tf)) as sess:
        run = sess.make_callable(result, feed_list=[a])
        run(1.0)

        def timed():
            # Interleaved rounds, best of each: the machine is shared and noisy.
            return _best_per_call(lambda: run(2.0), 500, repeat=REPEAT) * 1e6

        empty = timed()
        kept = [run(float(i)) for i in range(held)]
        loaded = timed()
        assert kept[-1][0] == 2.0 * (held - 1)
        del kept
        empty = min(empty, timed())
    return loaded, empty


# ---- training steps (issue 11) -----------------------------------------------------------------
# The same graph-building code runs on sessionlib and, for the TF column, on TF 1's API.

_INITIAL_VALUES = {}


def _initial_value(shape, fan_in):
    """He-initialized float32 weights of `shape`, drawn once per process: the graph-building
    figures time building, not numpy's random numbers."""
    key = (tuple(shape), fan_in)
    if key not in _INITIAL_VALUES:
        rng = np.random.default_rng(len(_INITIAL_VALUES))
        _INITIAL_VALUES[key] = (rng.standard_normal(shape).astype(np.float32)
                                * np.float32((2.0 / fan_in) ** 0.5))
    return _INITIAL_VALUES[key]


def _dense(tf, rng, x, n_in, n_out, name, activation=None):
    with tf.variable_scope(name) if hasattr(tf, "variable_scope") else tf.name_scope(name):
        w = tf.Variable(_initial_value((n_in, n_out), n_in), name="w")
        b = tf.Variable(np.zeros(n_out, np.float32), name="b")
    y = tf.nn.bias_add(tf.matmul(x, w), b)
    return activation(y) if activation else y


def _mlp_training_graph(tf, batch=128):
    """MLP 784-256-256-10, ReLU, sparse softmax cross-entropy, Adam."""
    rng = np.random.default_rng(0)
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [batch, 784], name="x")
        labels = tf.placeholder(tf.int32, [batch], name="labels")
        h = _dense(tf, rng, x, 784, 256, "fc1", tf.nn.relu)
        h = _dense(tf, rng, h, 256, 256, "fc2", tf.nn.relu)
        logits = _dense(tf, rng, h, 256, 10, "out")
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=labels, logits=logits))
        train = tf.train.AdamOptimizer(1e-3).minimize(loss)
        init = tf.global_variables_initializer()
    feeds = {x: rng.standard_normal((batch, 784)).astype(np.float32),
             labels: rng.integers(0, 10, batch).astype(np.int32)}
    return graph, init, train, loss, feeds


def _cnn_training_graph(tf, batch=64):
    """conv5x5x32 -> maxpool -> conv5x5x64 -> maxpool -> fc1024 -> dropout -> fc10, Adam."""
    rng = np.random.default_rng(0)
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(0)
        x = tf.placeholder(tf.float32, [batch, 28, 28, 1], name="x")
        labels = tf.placeholder(tf.int32, [batch], name="labels")
        h = x
        for index, (c_in, c_out) in enumerate(((1, 32), (32, 64))):
            kernel = tf.Variable(_initial_value((5, 5, c_in, c_out), 25 * c_in),
                                 name=f"conv{index}")
            bias = tf.Variable(np.zeros(c_out, np.float32), name=f"conv{index}_b")
            h = tf.nn.relu(tf.nn.bias_add(
                tf.nn.conv2d(h, kernel, strides=[1, 1, 1, 1], padding="SAME"), bias))
            h = tf.nn.max_pool(h, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")
        h = tf.reshape(h, [batch, 7 * 7 * 64])
        h = _dense(tf, rng, h, 7 * 7 * 64, 1024, "fc1", tf.nn.relu)
        h = tf.nn.dropout(h, keep_prob=0.5)
        logits = _dense(tf, rng, h, 1024, 10, "out")
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=labels, logits=logits))
        train = tf.train.AdamOptimizer(1e-4).minimize(loss)
        init = tf.global_variables_initializer()
    feeds = {x: rng.standard_normal((batch, 28, 28, 1)).astype(np.float32),
             labels: rng.integers(0, 10, batch).astype(np.int32)}
    return graph, init, train, loss, feeds


def _training_step_ms(tf, build):
    graph, init, train, _, feeds = build(tf)
    with tf.Session(graph=graph) as sess:
        sess.run(init)
        for _ in range(3):
            sess.run(train, feeds)
        return _best_ms(lambda: sess.run(train, feeds))


def _numpy_mlp_step(batch=128):
    """The MLP step in plain numpy (forward, backward, Adam): the floor for any runtime."""
    rng = np.random.default_rng(0)
    sizes = ((784, 256), (256, 256), (256, 10))
    params = []
    for n_in, n_out in sizes:
        params += [rng.standard_normal((n_in, n_out)).astype(np.float32) * 0.05,
                   np.zeros(n_out, np.float32)]
    slots = [[np.zeros_like(p), np.zeros_like(p)] for p in params]
    x = rng.standard_normal((batch, 784)).astype(np.float32)
    labels = rng.integers(0, 10, batch)
    state = {"t": 0}

    def step():
        acts = [x]
        for layer in range(3):
            z = acts[-1] @ params[2 * layer] + params[2 * layer + 1]
            acts.append(np.maximum(z, 0) if layer < 2 else z)
        logits = acts[-1]
        e = np.exp(logits - logits.max(1, keepdims=True))
        probs = e / e.sum(1, keepdims=True)
        grad = probs
        grad[np.arange(batch), labels] -= 1
        grad /= batch
        grads = [None] * 6
        for layer in (2, 1, 0):
            grads[2 * layer] = acts[layer].T @ grad
            grads[2 * layer + 1] = grad.sum(0)
            if layer:
                grad = (grad @ params[2 * layer].T) * (acts[layer] > 0)
        state["t"] += 1
        lr = 1e-3 * (1 - 0.999 ** state["t"]) ** 0.5 / (1 - 0.9 ** state["t"])
        for p, g, (m, v) in zip(params, grads, slots):
            m *= 0.9
            m += 0.1 * g
            v *= 0.999
            v += 0.001 * g * g
            p -= lr * m / (np.sqrt(v) + 1e-8)

    return step


def _multi_tower_graph(tf, tower_devices, batch=256):
    """The MLP 784-256-256-10 trained data-parallel, as TF1's multi-GPU tutorials do.

    The variables (and Adam's slots) live on CPU:0; tower i, on `tower_devices[i]`, gets its
    own slice of the batch (a placeholder of batch / towers rows, fed straight to its device),
    computes its loss and its gradients; the gradients are averaged on CPU:0 and applied once.
    Returns (graph, init, train, loss, feeds); `loss` is the towers' mean loss.
    """
    rng = np.random.default_rng(0)
    towers = len(tower_devices)
    rows = batch // towers
    graph = tf.Graph()
    with graph.as_default():
        with tf.device("/cpu:0"):
            params = []
            for name, (n_in, n_out) in zip(("fc1", "fc2", "out"),
                                           ((784, 256), (256, 256), (256, 10))):
                params += [tf.Variable(_initial_value((n_in, n_out), n_in), name=f"{name}_w"),
                           tf.Variable(np.zeros(n_out, np.float32), name=f"{name}_b")]
            optimizer = tf.train.AdamOptimizer(1e-3)
        feeds, losses, tower_grads = {}, [], []
        for index, device in enumerate(tower_devices):
            with tf.device(device), tf.name_scope(f"tower{index}"):
                x = tf.placeholder(tf.float32, [rows, 784], name="x")
                labels = tf.placeholder(tf.int32, [rows], name="labels")
                h = x
                for layer in range(3):
                    h = tf.nn.bias_add(tf.matmul(h, params[2 * layer]), params[2 * layer + 1])
                    if layer < 2:
                        h = tf.nn.relu(h)
                loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
                    labels=labels, logits=h))
                losses.append(loss)
                tower_grads.append(tf.gradients(loss, params))
            feeds[x] = rng.standard_normal((rows, 784)).astype(np.float32)
            feeds[labels] = rng.integers(0, 10, rows).astype(np.int32)
        with tf.device("/cpu:0"):
            averaged = [tf.add_n(list(grads)) / float(towers) for grads in zip(*tower_grads)]
            train = optimizer.apply_gradients(zip(averaged, params))
            mean_loss = tf.add_n(losses) / float(towers)
            init = tf.global_variables_initializer()
    return graph, init, train, mean_loss, feeds


def multi_tower_step_ms(tf, config, placements, rounds):
    """The best step time (ms) of the multi-tower graph for each of `placements` (tuples of
    tower devices), each in its own session of `config`, measured in alternating rounds."""
    builds = [lambda tf, devices=devices: _multi_tower_graph(tf, devices)
              for devices in placements]
    return _interleaved_steps_ms(tf, builds, config, rounds)


def bench_multi_tower(backend):
    """The two-tower step with the towers on CPU:0 and CPU:1, against both on CPU:0, in a
    default 2-device session (TF: device_count CPU 2, the same split)."""
    tf = _tf_module(backend)
    config = tf.ConfigProto(device_count={"CPU": 2})
    placements = [("/cpu:0", "/cpu:1"), ("/cpu:0", "/cpu:0")]
    split, same = multi_tower_step_ms(tf, config, placements, 3 * REPEAT)
    return split, same


def bench_multi_tower_gpu(backend):
    """The two-tower step with the towers on GPU:0 and GPU:1 of a session with two emulated
    GPUs, against both on GPU:0 (variables on CPU:0 in both). TF, which has no GPU on this
    machine, measures its CPU split instead (`bench_multi_tower`), the column to beat."""
    if backend == "tf":
        return bench_multi_tower(backend)
    tf = _tf_module(backend)
    config = tf.ConfigProto(device_count={"GPU": 2})
    placements = [("/gpu:0", "/gpu:1"), ("/gpu:0", "/gpu:0")]
    split, same = multi_tower_step_ms(tf, config, placements, 3 * REPEAT)
    return split, same


def bench_multi_tower_nobudget(backend):
    """`multi_tower` with the core budget off (a fresh process: the budget is chosen when the
    device pool starts). Each device then keeps its static share, one core of two, so the
    same-device baseline cannot borrow the idle device's core for its matmuls as it does
    with the budget on; the gap between the two figures is what that borrowing is worth."""
    if backend != "sessionlib":
        return None, None
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import bench; "
            "bench.REPEAT = int(sys.argv[2]); print(*bench.bench_multi_tower('sessionlib'))")
    env = dict(os.environ, SESSIONLIB_CORE_BUDGET="0")
    out = subprocess.run([sys.executable, "-c", code, os.path.dirname(os.path.abspath(__file__)),
                          str(REPEAT)], capture_output=True, text=True, env=env, check=True)
    split, same = map(float, out.stdout.split())
    return split, same


def bench_train_mlp(backend):
    tf = _tf_module(backend)
    ours = _training_step_ms(tf, _mlp_training_graph)
    return ours, _best_ms(_numpy_mlp_step())


def _remapping_config(tf, on):
    config = tf.ConfigProto()
    if not on:
        config.graph_options.rewrite_options.remapping = 2   # RewriterConfig.OFF
    return config


def bench_train_mlp_remap(backend):
    """The MLP step with remapping on and off, in alternating rounds (one graph, two
    sessions), so that a noisy moment of the machine hits both alike."""
    tf = _tf_module(backend)
    graph, init, train, _, feeds = _mlp_training_graph(tf)
    sessions = [tf.Session(graph=graph, config=_remapping_config(tf, on)) for on in (True, False)]
    try:
        for sess in sessions:
            sess.run(init)
            for _ in range(3):
                sess.run(train, feeds)
        best = [float("inf")] * len(sessions)
        for _ in range(3 * REPEAT):
            for index, sess in enumerate(sessions):
                start = time.perf_counter()
                sess.run(train, feeds)
                best[index] = min(best[index], time.perf_counter() - start)
        return tuple(value * 1e3 for value in best)
    finally:
        for sess in sessions:
            sess.close()


def bench_train_cnn(backend):
    tf = _tf_module(backend)
    return _training_step_ms(tf, _cnn_training_graph), None


def _build_ms(tf, build):
    times = []
    for _ in range(5):
        start = time.perf_counter()
        build(tf)
        times.append(time.perf_counter() - start)
    return min(times) * 1e3


def bench_build_mlp(backend):
    return _build_ms(_tf_module(backend), _mlp_training_graph), None


def bench_build_cnn(backend):
    return _build_ms(_tf_module(backend), _cnn_training_graph), None


def _many_variables_step_us(tf, count):
    graph = tf.Graph()
    with graph.as_default():
        variables = [tf.Variable(np.float32(k), name=f"v{k}") for k in range(count)]
        loss = tf.add_n([tf.square(v) for v in variables])
        train = tf.train.GradientDescentOptimizer(0.01).minimize(loss)
        init = tf.global_variables_initializer()
    with tf.Session(graph=graph) as sess:
        sess.run(init)
        sess.run(train)
        return _best_ms(lambda: sess.run(train)) * 1e3


def bench_train_vars(backend):
    tf = _tf_module(backend)
    return _many_variables_step_us(tf, 400), _many_variables_step_us(tf, 10)


# ---- model building (issue 12) ------------------------------------------------------------------
# The same models written with tf.layers, against tf.nn + tf.Variable versions in the same run:
# layers add graph structure, not run time.

def _cnn_layers_training_graph(tf, batch=64):
    """`_cnn_training_graph` written with tf.layers (same shapes, same optimizer)."""
    rng = np.random.default_rng(0)
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(0)
        x = tf.placeholder(tf.float32, [batch, 28, 28, 1], name="x")
        labels = tf.placeholder(tf.int32, [batch], name="labels")
        h = x
        for filters in (32, 64):
            h = tf.layers.conv2d(h, filters, 5, padding="same", activation=tf.nn.relu)
            h = tf.layers.max_pooling2d(h, 2, 2, padding="same")
        h = tf.layers.flatten(h)
        h = tf.layers.dense(h, 1024, activation=tf.nn.relu)
        h = tf.layers.dropout(h, rate=0.5, training=True)
        logits = tf.layers.dense(h, 10)
        loss = tf.losses.sparse_softmax_cross_entropy(labels=labels, logits=logits)
        train = tf.train.AdamOptimizer(1e-4).minimize(loss)
        init = tf.global_variables_initializer()
    feeds = {x: rng.standard_normal((batch, 28, 28, 1)).astype(np.float32),
             labels: rng.integers(0, 10, batch).astype(np.int32)}
    return graph, init, train, loss, feeds


def _bn_mlp_training_graph(tf, batch=128, use_layers=True):
    """MLP 784-256-256-10 with batch normalization after each hidden dense layer (batch
    statistics, moving averages updated each step), Adam; written with tf.layers, or with
    tf.nn.moments / tf.nn.batch_normalization and tf.Variable."""
    rng = np.random.default_rng(0)
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [batch, 784], name="x")
        labels = tf.placeholder(tf.int32, [batch], name="labels")
        h = x
        for index, (n_in, n_out) in enumerate(((784, 256), (256, 256))):
            if use_layers:
                h = tf.layers.dense(h, n_out, use_bias=False)
                h = tf.nn.relu(tf.layers.batch_normalization(h, training=True))
                continue
            w = tf.Variable(_initial_value((n_in, n_out), n_in), name=f"w{index}")
            gamma = tf.Variable(np.ones(n_out, np.float32), name=f"gamma{index}")
            beta = tf.Variable(np.zeros(n_out, np.float32), name=f"beta{index}")
            moving_mean = tf.Variable(np.zeros(n_out, np.float32), trainable=False)
            moving_var = tf.Variable(np.ones(n_out, np.float32), trainable=False)
            z = tf.matmul(h, w)
            mean, variance = tf.nn.moments(z, axes=[0])
            tf.add_to_collection(tf.GraphKeys.UPDATE_OPS,
                                 moving_mean.assign_sub((moving_mean - mean) * 0.01))
            tf.add_to_collection(tf.GraphKeys.UPDATE_OPS,
                                 moving_var.assign_sub((moving_var - variance) * 0.01))
            h = tf.nn.relu(tf.nn.batch_normalization(z, mean, variance, beta, gamma, 1e-3))
        logits = (tf.layers.dense(h, 10) if use_layers
                  else _dense(tf, rng, h, 256, 10, "out"))
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=labels, logits=logits))
        with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
            train = tf.train.AdamOptimizer(1e-3).minimize(loss)
        init = tf.global_variables_initializer()
    feeds = {x: rng.standard_normal((batch, 784)).astype(np.float32),
             labels: rng.integers(0, 10, batch).astype(np.int32)}
    return graph, init, train, loss, feeds


def _interleaved_steps_ms(tf, builds, config=None, rounds=None):
    """The best step time (ms) of each graph of `builds`, each in its own session of
    `config`, measured in `rounds` (default ``3 * REPEAT``) alternating rounds, so that a
    noisy moment of the machine hits both alike."""
    entries = []
    try:
        for build in builds:
            graph, init, train, _, feeds = build(tf)
            sess = tf.Session(graph=graph, config=config)
            entries.append((sess, train, feeds))
            sess.run(init)
            for _ in range(3):
                sess.run(train, feeds)
        best = [float("inf")] * len(entries)
        for _ in range(3 * REPEAT if rounds is None else rounds):
            for index, (sess, train, feeds) in enumerate(entries):
                start = time.perf_counter()
                sess.run(train, feeds)
                best[index] = min(best[index], time.perf_counter() - start)
        return [value * 1e3 for value in best]
    finally:
        for sess, _, _ in entries:
            sess.close()


def bench_train_cnn_layers(backend):
    tf = _tf_module(backend)
    if backend == "tf":
        return _training_step_ms(tf, _cnn_layers_training_graph), None
    return tuple(_interleaved_steps_ms(tf, [_cnn_layers_training_graph,
                                            _cnn_training_graph]))


def bench_train_bn_mlp(backend):
    tf = _tf_module(backend)
    if backend == "tf":
        return _training_step_ms(tf, _bn_mlp_training_graph), None
    return tuple(_interleaved_steps_ms(tf, [
        _bn_mlp_training_graph,
        lambda module: _bn_mlp_training_graph(module, use_layers=False)]))
def _model_arrays(total_mb=100, count=10):
    """`count` float32 arrays of `total_mb` MB in all: the variables of the checkpoint figure."""
    size = total_mb * 1_000_000 // 4 // count
    rng = np.random.default_rng(0)
    return [rng.standard_normal(size, dtype=np.float32) for _ in range(count)]


def bench_save_restore(backend):
    import shutil
    import tempfile

    tf = _tf_module(backend)
    arrays = _model_arrays()
    directory = tempfile.mkdtemp(prefix="bench_ckpt_")
    try:
        graph = tf.Graph()
        with graph.as_default():
            # Initialised from placeholders, so that the graph holds no 100 MB constants.
            feeds = [tf.placeholder(tf.float32, a.shape) for a in arrays]
            variables = [tf.Variable(feed, name=f"w{k}") for k, feed in enumerate(feeds)]
            saver = tf.train.Saver(variables, max_to_keep=1)
        prefix = os.path.join(directory, "model")
        with tf.Session(graph=graph) as sess:
            sess.run([v.initializer for v in variables], dict(zip(feeds, arrays)))

            def save_restore():
                saver.save(sess, prefix, write_meta_graph=False)
                saver.restore(sess, prefix)

            ours = _best_ms(save_restore, repeat=5)
        if backend != "sessionlib":
            return ours, None
        paths = [os.path.join(directory, f"np{k}.npy") for k in range(len(arrays))]

        def numpy_save_load():
            for path, array in zip(paths, arrays):
                np.save(path, array)
            return [np.load(path) for path in paths]

        return ours, _best_ms(numpy_save_load, repeat=5)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
def _pipeline_mlp_graph(tf, batch=128, examples=128 * 16):
    """The MLP of `_mlp_training_graph`, fed by from_tensor_slices -> map -> batch ->
    prefetch over `examples` uint8 images (the map scales them to [0, 1) float32)."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (examples, 784)).astype(np.uint8)
    labels = rng.integers(0, 10, examples).astype(np.int32)
    graph = tf.Graph()
    with graph.as_default():
        dataset = tf.data.Dataset.from_tensor_slices((images, labels)).repeat()
        dataset = dataset.map(lambda x, y: (tf.cast(x, tf.float32) * (1.0 / 255), y))
        dataset = dataset.batch(batch, drop_remainder=True).prefetch(2)
        x, y = tf.data.make_one_shot_iterator(dataset).get_next()
        h = _dense(tf, rng, x, 784, 256, "fc1", tf.nn.relu)
        h = _dense(tf, rng, h, 256, 256, "fc2", tf.nn.relu)
        logits = _dense(tf, rng, h, 256, 10, "out")
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=y, logits=logits))
        train = tf.train.AdamOptimizer(1e-3).minimize(loss)
        init = tf.global_variables_initializer()
    return graph, init, train


def bench_input_pipeline(backend):
    tf = _tf_module(backend)
    graph, init, train = _pipeline_mlp_graph(tf)
    with tf.Session(graph=graph) as sess:
        sess.run(init)
        for _ in range(20):  # starts the prefetch thread and fills its buffer
            sess.run(train)
        fed_from_pipeline = _best_ms(lambda: sess.run(train))
    return fed_from_pipeline, _training_step_ms(tf, _mlp_training_graph)


def _rewriter_config_pb2(backend):
    if backend == "tf":
        from tensorflow.core.protobuf import rewriter_config_pb2
    else:
        from sessionlib.protos import rewriter_config_pb2
    return rewriter_config_pb2


def bench_fold_const(backend):
    """The issue's chain on constants (a, b uniform in [0, 1), c in [-0.5, 0.5)): folded once,
    each run only fetches the result; the baseline runs the chain with folding off."""
    tf = _tf_module(backend)
    rng = np.random.default_rng(0)
    values = [rng.random(N_LARGE, dtype=np.float32), rng.random(N_LARGE, dtype=np.float32),
              rng.random(N_LARGE, dtype=np.float32) - np.float32(0.5)]
    rewriter_config = _rewriter_config_pb2(backend).RewriterConfig

    def best_ms(config):
        graph = tf.Graph()
        with graph.as_default():
            a, b, c = (tf.constant(value) for value in values)
            y = tf.exp(-(a * b + c) ** 2)
        with tf.Session(graph=graph, config=config) as sess:
            return _best_ms(lambda: sess.run(y))

    ours = best_ms(None)
    off = tf.ConfigProto(graph_options=tf.GraphOptions(
        rewrite_options=rewriter_config(constant_folding=rewriter_config.OFF)))
    return ours, best_ms(off)


def bench_while_loop_1000(backend):
    tf = _tf_module(backend)
    graph = tf.Graph()
    with graph.as_default():
        _, total = tf.while_loop(lambda i, x: i < 1000, lambda i, x: (i + 1, x + 1.0),
                                 [tf.constant(0), tf.constant(0.0)])
    with tf.Session(graph=graph) as sess:
        sess.run(total)
        ours = _best_per_call(lambda: sess.run(total), 5, repeat=REPEAT)

    def numpy_loop():
        i, x, one = 0, np.float32(0.0), np.float32(1.0)
        while i < 1000:
            i, x = i + 1, x + one
        return x

    return ours * 1e3, _best_per_call(numpy_loop, 20) * 1e3


def bench_cond_10M(backend):
    tf = _tf_module(backend)
    graph = tf.Graph()
    with graph.as_default():
        x = tf.Variable(tf.random_uniform([N_LARGE], seed=1))
        p = tf.placeholder(tf.bool, [])

        def heavy():
            return tf.reduce_sum(tf.exp(-(x * 2.0 + 1.0) ** 2))

        def light():
            return tf.reduce_sum(x * 3.0 - 1.0)

        chosen = tf.cond(p, heavy, light)
        alone = heavy()
    with tf.Session(graph=graph) as sess:
        sess.run(x.initializer)
        sess.run([chosen, alone], {p: True})
        ours, base = _interleaved_best_ms([lambda: sess.run(chosen, {p: True}),
                                           lambda: sess.run(alone)])
    return ours, base


def _lstm_training_graph(tf, dynamic, batch=128, steps=28, depth=28, units=128):
    """A BasicLSTMCell classifier over [batch, steps, depth]: dynamic_rnn (or static_rnn),
    a dense layer on the last output, sparse softmax cross-entropy, Adam."""
    rng = np.random.default_rng(0)
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [batch, steps, depth], name="x")
        labels = tf.placeholder(tf.int32, [batch], name="labels")
        cell = tf.nn.rnn_cell.BasicLSTMCell(units)
        if dynamic:
            outputs, _ = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32)
            last = outputs[:, -1]
        else:
            last = tf.nn.static_rnn(cell, tf.unstack(x, steps, axis=1), dtype=tf.float32)[0][-1]
        logits = _dense(tf, rng, last, units, 10, "out")
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=labels, logits=logits))
        train = tf.train.AdamOptimizer(1e-3).minimize(loss)
        init = tf.global_variables_initializer()
    feeds = {x: rng.standard_normal((batch, steps, depth)).astype(np.float32),
             labels: rng.integers(0, 10, batch).astype(np.int32)}
    return graph, init, train, loss, feeds


def bench_lstm_train(backend):
    tf = _tf_module(backend)
    ours = _training_step_ms(tf, lambda tf: _lstm_training_graph(tf, dynamic=True))
    return ours, _training_step_ms(tf, lambda tf: _lstm_training_graph(tf, dynamic=False))


BENCHMARKS = {
    "import": bench_import,
    "step_latency": bench_step_latency,
    "callable": bench_callable,
    "fetch_dict10": bench_fetch_dict10,
    "chain200": bench_chain200,
    "build1000": bench_build1000,
    "first_run1000": bench_first_run1000,
    "fused_y": bench_fused_y,
    "fused_sum": bench_fused_sum,
    "fused_fed": bench_fused_fed,
    "add_stream": bench_add_stream,
    "chain16": bench_chain16,
    "peak_rss": bench_peak_rss,
    "assign_add": bench_assign_add,
    "worker_latency": bench_worker_latency,
    "worker_callable": bench_worker_callable,
    "branches_exp": bench_branches_exp,
    "branches_matmul": bench_branches_matmul,
    "transfer64": bench_transfer64,
    "held_results": bench_held_results,
    "xdev_64mb": bench_xdev_64mb,
    "fetch_64mb": bench_fetch_64mb,
    "matmul_chain_idle": bench_matmul_chain_idle,
    "matmul_chain_two": bench_matmul_chain_two,
    "gpu_tutorial": bench_gpu_tutorial,
    "train_mlp": bench_train_mlp,
    "train_cnn": bench_train_cnn,
    "train_mlp_remap": bench_train_mlp_remap,
    "build_mlp": bench_build_mlp,
    "build_cnn": bench_build_cnn,
    "train_vars": bench_train_vars,
    "train_cnn_layers": bench_train_cnn_layers,
    "train_bn_mlp": bench_train_bn_mlp,
    "save_restore": bench_save_restore,
    "input_pipeline": bench_input_pipeline,
    "fold_const": bench_fold_const,
    "pow_chain_vars": bench_pow_chain_vars,
    "pow_chain_sum": bench_pow_chain_sum,
    "pow_chain_square": bench_pow_chain_square,
    "pow_chain_fed": bench_pow_chain_fed,
    "multi_tower": bench_multi_tower,
    "multi_tower_gpu": bench_multi_tower_gpu,
    "while_loop_1000": bench_while_loop_1000,
    "cond_10M": bench_cond_10M,
    "lstm_train": bench_lstm_train,
    "multi_tower_nobudget": bench_multi_tower_nobudget,
}
# Figures measured against the TF interpreter's numexpr as well.
NUMEXPR_FIGURES = ("fused_y", "fused_sum", "fused_fed", "add_stream")


def run_all(backend, names):
    results = {}
    for name in names:
        try:
            results[name] = BENCHMARKS[name](backend)
        except Exception as err:  # noqa: BLE001 - a broken figure must not hide the others
            results[name] = (None, None, f"{type(err).__name__}: {err}")
    return results


def _tf_results(tf_python, names, backend="tf"):
    if not names:
        return {}
    out = subprocess.run([tf_python, os.path.abspath(__file__), "--backend", backend, "--json",
                          "--repeat", str(REPEAT), "--only", ",".join(names)],
                         capture_output=True, text=True,
                         env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3",
                                  CUDA_VISIBLE_DEVICES="",
                                  # tf.compat.v1.layers needs the legacy tf-keras package.
                                  TF_USE_LEGACY_KERAS="1"))
    if out.returncode != 0:
        print(f"(TF run failed: {out.stderr.strip().splitlines()[-1:]})", file=sys.stderr)
        return {}
    return json.loads(out.stdout.strip().splitlines()[-1])


def _alternating_rounds(tf_python, names, rounds):
    """Runs our figures and TF's in turn, `rounds` times, and prints per figure the median
    of each side and every round's ours/TF, with the median ratio."""
    ours_rounds, tf_rounds = [], []
    for _ in range(rounds):
        ours_rounds.append(run_all("sessionlib", names))
        tf_rounds.append(_tf_results(tf_python, names))
    print(f"{'figure':56} {'sessionlib':>10} {'TF':>10} {'ours/TF':>8}  rounds' ours/TF"
          "  target")
    for name in names:
        description, target = FIGURES[name]
        pairs = [(ours[name][0], theirs.get(name, [None])[0])
                 for ours, theirs in zip(ours_rounds, tf_rounds)]
        pairs = [(a, b) for a, b in pairs if a and b]
        if not pairs:
            print(f"{description:56} no round has both figures")
            continue
        ratios = [a / b for a, b in pairs]
        print(f"{description:56} {_fmt(float(np.median([a for a, _ in pairs])))} "
              f"{_fmt(float(np.median([b for _, b in pairs])))} "
              f"{float(np.median(ratios)):8.2f}  "
              f"{' '.join(f'{r:.2f}' for r in ratios)}  {target}")


def _fmt(value):
    return "-" if value is None else f"{value:10.3f}"


def main():
    global REPEAT
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sessionlib", "tf", "numexpr"],
                        default="sessionlib")
    parser.add_argument("--repeat", type=int, default=REPEAT,
                        help="timed rounds of the kernel figures (best of)")
    parser.add_argument("--tf-python", default=os.environ.get("SESSIONLIB_TF_PYTHON"),
                        help="a Python interpreter that has tensorflow, for the TF column")
    parser.add_argument("--only", default=",".join(BENCHMARKS))
    parser.add_argument("--rounds", type=int, default=1,
                        help="with --tf-python: alternate ours and TF this many times and "
                        "print the medians and each round's ours/TF (a noisy machine's slow "
                        "spells then fall on both sides, not on one of them)")
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    args = parser.parse_args()
    REPEAT = args.repeat
    names = [n for n in args.only.split(",") if n]
    if args.rounds > 1 and args.tf_python and not args.json:
        _alternating_rounds(args.tf_python, names, args.rounds)
        return
    results = run_all(args.backend, names)
    if args.json:
        print(json.dumps(results))
        return
    tf_results = _tf_results(args.tf_python, names) if args.tf_python else {}
    numexpr_results = (_tf_results(args.tf_python, [n for n in names if n in NUMEXPR_FIGURES],
                                   "numexpr") if args.tf_python else {})
    print(f"{'figure':56} {'sessionlib':>10} {'baseline':>10} {'ours/base':>9} {'TF':>10} "
          f"{'ours/TF':>8} {'numexpr':>10}  target")
    for name in names:
        ours, baseline, *error = results[name]
        description, target = FIGURES[name]
        if error:
            print(f"{description:56} FAILED: {error[0]}")
            continue
        tf_value = tf_results.get(name, [None])[0]
        numexpr_value = numexpr_results.get(name, [None])[0]
        vs_np = f"{ours / baseline:9.2f}" if baseline else f"{'-':>9}"
        vs_tf = f"{ours / tf_value:8.2f}" if tf_value else f"{'-':>8}"
        print(f"{description:56} {_fmt(ours)} {_fmt(baseline)} {vs_np} {_fmt(tf_value)} "
              f"{vs_tf} {_fmt(numexpr_value)}  {target}")
        if name == "add_stream" and baseline:
            gigabytes = 3 * N_LARGE * 4 / 1e9
            print(f"{'':56} {gigabytes / ours * 1e3:8.1f} GB/s vs STREAM add "
                  f"{gigabytes / baseline * 1e3:.1f} GB/s: {baseline / ours:.0%}")


if __name__ == "__main__":
    main()
