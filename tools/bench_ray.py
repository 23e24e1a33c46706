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


def transfer(target, steps):
    graph = tf.Graph()
    with graph.as_default():
        with tf.device("/cpu:0"):
            big = tf.Variable(np.ones(16 << 20, np.float32))   # 64 MB
            moved = tf.identity(big)
        with tf.device("/cpu:1"):
            total = tf.reduce_sum(moved)
    with tf.Session(target, graph=graph, config=tf.ConfigProto(
            device_count={"CPU": 2})) as sess:
        sess.run(big.initializer)
        sess.run(total)
        return _timed(lambda: sess.run(total), steps)


def branches(devices, steps, target=TARGET):
    graph = tf.Graph()
    with graph.as_default():
        # Fed, so that constant folding cannot compute the branches at compile time.
        x = tf.placeholder(tf.float32, [600, 600])
        outs = []
        for k in range(2):
            with tf.device(f"/cpu:{k % devices}"):
                # Distinct branches: two identical ones on one device would be merged into
                # one (common subexpressions), and that device would do half the work.
                y = x + float(k)
                for _ in range(20):
                    y = tf.tanh(tf.matmul(y, x))
                outs.append(tf.reduce_sum(y))
    with tf.Session(target, graph=graph, config=tf.ConfigProto(
            device_count={"CPU": 2})) as sess:
        feed = {x: np.random.RandomState(0).rand(600, 600).astype(np.float32) / 600}
        sess.run(outs, feed)
        return _timed(lambda: sess.run(outs, feed), steps)


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
    tf_median = None
    if args.tf_python:
        out = subprocess.run([args.tf_python, "-c", _TF_LATENCY, str(args.steps)],
                             capture_output=True, text=True, timeout=600)
        if out.returncode == 0:
            tf_median, tf_best = map(float, out.stdout.split()[-2:])
            print(f"latency, TF local server: median {tf_median:.3f} ms, min {tf_best:.3f} ms")
        else:
            print("TF latency failed:", out.stderr[-500:])
    for path, (median, best) in on_paths(latency, args.steps).items():
        versus = f", {median / tf_median:.2f} x TF" if tf_median else ""
        print(f"latency, sessionlib {path} path: median {median:.3f} ms, min {best:.3f} ms "
              f"({median / floor[0]:.2f} x a Ray call{versus})")
    local_median, _ = transfer("", 20)
    put_get, _ = ray_put_get(20)
    print(f"64 MB CPU:0 -> CPU:1, local workers (shared memory): {local_median:.1f} ms; "
          f"Ray put + get of 64 MB: {put_get:.1f} ms")
    for path, (median, _) in on_paths(transfer, TARGET, 20).items():
        print(f"64 MB CPU:0 -> CPU:1, sessionlib {path} path: {median:.1f} ms "
              f"({median / local_median:.2f} x local workers)")
    one, two = branches(1, 10, "")[0], branches(2, 10, "")[0]
    print(f"two branches, local workers: one device {one:.1f} ms, two devices {two:.1f} ms "
          f"(speedup {one / two:.2f}; {os.cpu_count()} cores)")
    for path, (one, two) in on_paths(
            lambda: (branches(1, 10)[0], branches(2, 10)[0])).items():
        print(f"two branches, sessionlib {path} path: one device {one:.1f} ms, two devices "
              f"{two:.1f} ms (speedup {one / two:.2f})")
    ray_runtime.shutdown()


if __name__ == "__main__":
    main()
