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
}


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
    times = []
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"), check=True)
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


BENCHMARKS = {
    "import": bench_import,
    "step_latency": bench_step_latency,
    "callable": bench_callable,
    "fetch_dict10": bench_fetch_dict10,
    "chain200": bench_chain200,
    "build1000": bench_build1000,
    "first_run1000": bench_first_run1000,
}


def run_all(backend, names):
    results = {}
    for name in names:
        try:
            results[name] = BENCHMARKS[name](backend)
        except Exception as err:  # noqa: BLE001 - a broken figure must not hide the others
            results[name] = (None, None, f"{type(err).__name__}: {err}")
    return results


def _tf_results(tf_python, names):
    out = subprocess.run([tf_python, os.path.abspath(__file__), "--backend", "tf", "--json",
                          "--only", ",".join(names)], capture_output=True, text=True,
                         env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3",
                                  CUDA_VISIBLE_DEVICES=""))
    if out.returncode != 0:
        print(f"(TF run failed: {out.stderr.strip().splitlines()[-1:]})", file=sys.stderr)
        return {}
    return json.loads(out.stdout.strip().splitlines()[-1])


def _fmt(value):
    return "-" if value is None else f"{value:10.3f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sessionlib", "tf"], default="sessionlib")
    parser.add_argument("--tf-python", default=os.environ.get("SESSIONLIB_TF_PYTHON"),
                        help="a Python interpreter that has tensorflow, for the TF column")
    parser.add_argument("--only", default=",".join(BENCHMARKS))
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    args = parser.parse_args()
    names = [n for n in args.only.split(",") if n]
    results = run_all(args.backend, names)
    if args.json:
        print(json.dumps(results))
        return
    tf_results = _tf_results(args.tf_python, names) if args.tf_python else {}
    print(f"{'figure':44} {'sessionlib':>10} {'numpy':>10} {'ours/np':>8} {'TF':>10} "
          f"{'ours/TF':>8}  target")
    for name in names:
        ours, baseline, *error = results[name]
        description, target = FIGURES[name]
        if error:
            print(f"{description:44} FAILED: {error[0]}")
            continue
        tf_value = tf_results.get(name, [None])[0]
        vs_np = f"{ours / baseline:8.1f}" if baseline else f"{'-':>8}"
        vs_tf = f"{ours / tf_value:8.2f}" if tf_value else f"{'-':>8}"
        print(f"{description:44} {_fmt(ours)} {_fmt(baseline)} {vs_np} {_fmt(tf_value)} "
              f"{vs_tf}  {target}")


if __name__ == "__main__":
    main()
