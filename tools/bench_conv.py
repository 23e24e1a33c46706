"""Convolution and pooling benchmarks: one forward + backward step, sessionlib against TF.

Cases (batch 64, NHWC, float32, SAME, stride 1): the two conv layers of the issue's CNN,
conv5x5x32 on 64x28x28x1 and conv5x5x64 on 64x14x14x32, and a 2x2/2 max pool on the second
layer's input. A step fetches the output and both gradients (``tf.gradients`` with a fixed
``grad_ys``): Conv2D, Conv2DBackpropInput and Conv2DBackpropFilter (MaxPool and MaxPoolGrad).

  python tools/bench_conv.py                          # sessionlib, Cython kernels
  python tools/bench_conv.py --executor reference     # sessionlib, numpy reference kernels
  python tools/bench_conv.py --tf-python /work/tfref/bin/python   # ... and TF beside it

Both libraries get `--threads` intra-op threads (default: all cores) and run the very same
code (``import tensorflow.compat.v1 as tf`` in a subprocess for TF). The figure is the best
median of `--repeat` rounds, in ms.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

CASES = {
    "conv5x5x32 64x28x28x1": ("conv", (64, 28, 28, 1), (5, 5, 1, 32)),
    "conv5x5x64 64x14x14x32": ("conv", (64, 14, 14, 32), (5, 5, 32, 64)),
    "maxpool2x2 64x28x28x32": ("pool", (64, 28, 28, 32), None),
}


def _import(backend):
    if backend == "tf":
        import tensorflow.compat.v1 as tf

        tf.disable_eager_execution()
        return tf
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import sessionlib as tf

    return tf


def _step(tf, kind, x_shape, w_shape):
    rng = np.random.RandomState(0)
    x = tf.placeholder(tf.float32, x_shape)
    if kind == "conv":
        w = tf.constant(rng.randn(*w_shape).astype(np.float32) * 0.1)
        y = tf.nn.conv2d(x, w, [1, 1, 1, 1], "SAME")
        wrt = [x, w]
    else:
        y = tf.nn.max_pool(x, [1, 2, 2, 1], [1, 2, 2, 1], "SAME")
        wrt = [x]
    seed = tf.constant(rng.randn(*y.shape.as_list()).astype(np.float32))
    fetches = [y] + tf.gradients(y, wrt, grad_ys=seed)
    return fetches, {x: rng.randn(*x_shape).astype(np.float32)}


def run(backend, executor, threads, repeat, number):
    tf = _import(backend)
    if backend != "tf" and executor:
        from sessionlib.runtime import executor as executor_lib

        executor_lib.set_default_executor(executor)
    results = {}
    for name, (kind, x_shape, w_shape) in CASES.items():
        graph = tf.Graph()
        with graph.as_default():
            fetches, feeds = _step(tf, kind, x_shape, w_shape)
            config = tf.ConfigProto(intra_op_parallelism_threads=threads,
                                    inter_op_parallelism_threads=1)
            with tf.Session(graph=graph, config=config) as sess:
                sess.run(fetches, feeds)
                rounds = []
                for _ in range(repeat):
                    start = time.perf_counter()
                    for _ in range(number):
                        sess.run(fetches, feeds)
                    rounds.append((time.perf_counter() - start) / number * 1e3)
                results[name] = min(rounds) if repeat < 3 else statistics.median(
                    sorted(rounds)[:max(1, repeat // 2)])
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="sessionlib", choices=("sessionlib", "tf"))
    parser.add_argument("--executor", default=None, choices=(None, "cython", "reference"))
    parser.add_argument("--tf-python", default=None, help="a Python with TensorFlow")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--number", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print a JSON dict only")
    args = parser.parse_args()
    ours = run(args.backend, args.executor, args.threads, args.repeat, args.number)
    if args.json:
        print(json.dumps(ours))
        return
    theirs = {}
    if args.tf_python:
        output = subprocess.run(
            [args.tf_python, os.path.abspath(__file__), "--backend", "tf", "--json",
             "--threads", str(args.threads), "--repeat", str(args.repeat), "--number",
             str(args.number)], capture_output=True, text=True, check=True).stdout
        theirs = json.loads(output.strip().splitlines()[-1])
    label = args.backend + (f" ({args.executor})" if args.executor else "")
    print(f"{'fwd+bwd step, ms':28s} {label:>14s}" + (f" {'TF':>8s} {'ratio':>6s}"
                                                       if theirs else ""))
    for name, ms in ours.items():
        line = f"{name:28s} {ms:14.2f}"
        if name in theirs:
            line += f" {theirs[name]:8.2f} {ms / theirs[name]:6.2f}"
        print(line)


if __name__ == "__main__":
    main()
