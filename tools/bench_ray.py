"""Benchmarks of the Ray runtime (issue 17), against a one-node local Ray instance.

* latency: ``sess.run(c, {a: scalar})`` on one device, per step (median and min), beside
  one empty Ray actor call and, when ``--tf-python`` names an interpreter with TensorFlow,
  TF's own distributed target (``tf.distribute.Server.create_local_server()``);
* transfer: a 64 MB tensor from CPU:0 to CPU:1, beside the local worker processes (shared
  memory) and Ray's own put + get of 64 MB;
* branches: two independent compute branches on two devices, against both on one.

Each figure is given for the same-node path (``runtime/ray_fastpath.py``, what a client on a
device's node uses) and for the Ray path (``SESSIONLIB_RAY_FAST_PATH=0``: what a client on
another node uses), with ratios to the baselines measured in the same run: compare those, not
figures of different runs.

Usage: python tools/bench_ray.py [--steps N] [--tf-python PATH]. Not a test: timings depend
on the machine and what else runs on it.
"""

import argparse
import contextlib
import functools
import os
import statistics
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import sessionlib as tf  # noqa: E402
from sessionlib.runtime import ray_fastpath, ray_runtime  # noqa: E402

TARGET = "ray://local"

_TF_LATENCY = """
import sys, time, statistics
import tensorflow.compat.v1 as tf
tf.disable_v2_behavior()
server = tf.distribute.Server.create_local_server()
a = tf.placeholder(tf.float32, [])
c = a * 2.0 + 1.0
with tf.Session(server.target) as sess:
    for _ in range(200):
        sess.run(c, {a: 1.0})
    times = []
    for _ in range(int(sys.argv[1])):
        start = time.perf_counter()
        sess.run(c, {a: 1.0})
        times.append(time.perf_counter() - start)
print(statistics.median(times) * 1e3, min(times) * 1e3)
"""


def _timed(run, steps):
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3, min(times) * 1e3


class _Empty:
    def call(self, value):
        return value


def ray_floor(steps):
    """One round trip to an actor that does nothing: what any Ray runtime pays per step."""
    import ray

    actor = ray.remote(_Empty).options(num_cpus=0).remote()
    for _ in range(50):
        ray.get(actor.call.remote(1.0))
    result = _timed(lambda: ray.get(actor.call.remote(1.0)), steps)
    ray.kill(actor)
    return result


def ray_put_get(steps):
    """Ray's own move of 64 MB through the object store: a put and a get."""
    import ray

    value = np.ones(16 << 20, np.float32)

    def round_trip():
        ray.get(ray.put(value)).sum()   # the sum touches the pages, as the step's does

    round_trip()
    return _timed(round_trip, steps)


def on_paths(measure, *args):
    """``{path: measure(*args)}`` for the same-node path and the Ray path."""
    results = {}
    for path, enabled in (("same-node", True), ("Ray", False)):
        ray_fastpath.ENABLED = enabled
        try:
            results[path] = measure(*args)
        finally:
            ray_fastpath.ENABLED = True
    return results


def latency(steps):
    graph = tf.Graph()
    with graph.as_default():
        a = tf.placeholder(tf.float32, [])
        c = a * 2.0 + 1.0
    with tf.Session(TARGET, graph=graph) as sess:
        for _ in range(50):
            sess.run(c, {a: 1.0})
        return _timed(lambda: sess.run(c, {a: 1.0}), steps)


# (name, target, same-node path on) of the configurations compared in one run.
PATHS = (("local workers", "", True), ("sessionlib same-node path", TARGET, True),
         ("sessionlib Ray path", TARGET, False))


def _session(target, graph, same_node):
    """A session of `graph` on CPU:0 and CPU:1 of `target`, with the same-node path on or
    off (it is chosen when the session starts)."""
    ray_fastpath.ENABLED = same_node
    try:
        return tf.Session(target, graph=graph, config=tf.ConfigProto(device_count={"CPU": 2}))
    finally:
        ray_fastpath.ENABLED = True


def interleaved(runs, rounds):
    """``{name: median ms}`` of the callables `runs`, run in alternation `rounds` times each:
    a change of the machine's load then hits every configuration alike."""
    times = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(spans) * 1e3 for name, spans in times.items()}


def transfer(stack, rounds):
    """A 64 MB variable of CPU:0 summed on CPU:1, per configuration of `PATHS`."""
    graph = tf.Graph()
    with graph.as_default():
        with tf.device("/cpu:0"):
            big = tf.Variable(np.ones(16 << 20, np.float32))   # 64 MB
            moved = tf.identity(big)
        with tf.device("/cpu:1"):
            total = tf.reduce_sum(moved)
    runs = {}
    for name, target, same_node in PATHS:
        sess = stack.enter_context(_session(target, graph, same_node))
        sess.run(big.initializer)
        sess.run(total)
        runs[name] = functools.partial(sess.run, total)
    return interleaved(runs, rounds)


def branches(stack, rounds):
    """Two independent branches on one device and on two, per configuration of `PATHS`."""
    runs = {}
    feed_value = np.random.RandomState(0).rand(600, 600).astype(np.float32) / 600
    for devices in (1, 2):
        graph = tf.Graph()
        with graph.as_default():
            # Fed, so that constant folding cannot compute the branches at compile time.
            x = tf.placeholder(tf.float32, [600, 600])
            outs = []
            for k in range(2):
                with tf.device(f"/cpu:{k % devices}"):
                    # Distinct branches: two identical ones on one device would be merged
                    # into one (common subexpressions), and it would do half the work.
                    y = x + float(k)
                    for _ in range(20):
                        y = tf.tanh(tf.matmul(y, x))
                    outs.append(tf.reduce_sum(y))
        for name, target, same_node in PATHS:
            sess = stack.enter_context(_session(target, graph, same_node))
            sess.run(outs, {x: feed_value})
            runs[name, devices] = functools.partial(sess.run, outs, {x: feed_value})
    return interleaved(runs, rounds)


def _tf_latency(tf_python, steps):
    """TF's median ms per step on its local server (printed), or None if it failed."""
    out = subprocess.run([tf_python, "-c", _TF_LATENCY, str(steps)], capture_output=True,
                         text=True, timeout=600)
    if out.returncode != 0:
        print("TF latency failed:", out.stderr[-500:])
        return None
    median, best = map(float, out.stdout.split()[-2:])
    print(f"latency, TF local server: median {median:.3f} ms, min {best:.3f} ms")
    return median


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--tf-python", default=os.environ.get("SESSIONLIB_TF_PYTHON"))
    args = parser.parse_args()
    start = time.monotonic()
    ray_runtime.connect(TARGET, 120)
    print(f"ray://local started in {time.monotonic() - start:.1f} s")
    floor = ray_floor(args.steps)
    print(f"latency, one empty Ray actor call: median {floor[0]:.3f} ms, min {floor[1]:.3f} ms")
    # TF runs before and after sessionlib (load changes over a run); the ratio is to the
    # better of its two figures.
    tf_medians = [_tf_latency(args.tf_python, args.steps)] if args.tf_python else []
    ours = on_paths(latency, args.steps)
    if args.tf_python:
        tf_medians.append(_tf_latency(args.tf_python, args.steps))
    tf_medians = [median for median in tf_medians if median is not None]
    tf_median = min(tf_medians) if tf_medians else None
    for path, (median, best) in ours.items():
        versus = f", {median / tf_median:.2f} x TF" if tf_median else ""
        print(f"latency, sessionlib {path} path: median {median:.3f} ms, min {best:.3f} ms "
              f"({median / floor[0]:.2f} x a Ray call{versus})")
    put_get, _ = ray_put_get(20)
    with contextlib.ExitStack() as stack:
        moved = transfer(stack, 20)
    local = moved.pop(PATHS[0][0])
    print(f"64 MB CPU:0 -> CPU:1, local workers (shared memory): {local:.1f} ms; "
          f"Ray put + get of 64 MB: {put_get:.1f} ms")
    for name, median in moved.items():
        print(f"64 MB CPU:0 -> CPU:1, {name}: {median:.1f} ms ({median / local:.2f} x local "
              f"workers)")
    with contextlib.ExitStack() as stack:
        timed = branches(stack, 10)
    for name, _, _ in PATHS:
        one, two = timed[name, 1], timed[name, 2]
        print(f"two branches, {name}: one device {one:.1f} ms, two devices {two:.1f} ms "
              f"(speedup {one / two:.2f}; {os.cpu_count()} cores)")
    ray_runtime.shutdown()


if __name__ == "__main__":
    main()
