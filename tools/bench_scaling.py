#!/usr/bin/env python3
"""How throughput scales with devices: N independent branches on CPU:0 … CPU:N-1.

Each branch is the same work (an elementwise chain ``sum(exp(-(a*b+c)^2))`` on float32
variables, or a chain of matmuls), pinned to its own device, with one kernel thread per device.
For each N the step runs all N branches; throughput is branches per second, and the table
compares it with one device running one branch (the baseline, measured in the same run).
With devices as processes, N devices on N idle cores should give close to N times the
throughput, until memory bandwidth (elementwise) or the cores run out.

Usage: python tools/bench_scaling.py [--devices 1,2,4,8] [--work exp|matmul|both]
"""

import argparse
import os
import sys
import time

try:
    import sessionlib as tf
except ImportError:  # run from a checkout without `pip install .`
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import sessionlib as tf


def _exp_branch(index, size):
    variables = [tf.Variable(tf.random_uniform([size], seed=index * 3 + k)) for k in range(3)]
    a, b, c = variables
    return tf.reduce_sum(tf.exp(-tf.square(a * b + c))), variables


def _matmul_branch(index, size):
    weights = [tf.Variable(tf.random_uniform([size, size], seed=index * 5 + k) / size)
               for k in range(5)]
    h = weights[0]
    for w in weights[1:]:
        h = tf.matmul(h, w)
    return tf.reduce_sum(h), weights


def step_time(num_devices, build_branch, size, repeat):
    """Best step time (s) of `num_devices` branches, one per device."""
    graph = tf.Graph()
    with graph.as_default():
        outputs, variables = [], []
        for index in range(num_devices):
            with tf.device(f"/cpu:{index}"):
                output, branch_variables = build_branch(index, size)
            outputs.append(output)
            variables.extend(branch_variables)
    config = tf.ConfigProto(device_count={"CPU": num_devices}, intra_op_parallelism_threads=1)
    with tf.Session(graph=graph, config=config) as sess:
        sess.run([v.initializer for v in variables])
        sess.run(outputs)
        best = float("inf")
        for _ in range(repeat):
            start = time.perf_counter()
            sess.run(outputs)
            best = min(best, time.perf_counter() - start)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", default="1,2,4,8")
    parser.add_argument("--work", choices=["exp", "matmul", "both"], default="both")
    parser.add_argument("--exp-size", type=int, default=4_000_000)
    parser.add_argument("--matmul-size", type=int, default=512)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    counts = [int(n) for n in args.devices.split(",")]
    cores = len(os.sched_getaffinity(0))
    works = {"exp": (_exp_branch, args.exp_size, f"sum(exp(-(a*b+c)^2)), {args.exp_size} f32"),
             "matmul": (_matmul_branch, args.matmul_size,
                        f"4 chained matmuls {args.matmul_size}^2 f32")}
    chosen = ["exp", "matmul"] if args.work == "both" else [args.work]
    print(f"{cores} cores; one kernel thread per device; best of {args.repeat} steps")
    for work in chosen:
        build, size, description = works[work]
        print(f"\n{description} per branch")
        print(f"{'devices':>8} {'step ms':>9} {'branches/s':>11} {'speed-up':>9} "
              f"{'efficiency':>10}")
        base = None
        for count in counts:
            seconds = step_time(count, build, size, args.repeat)
            throughput = count / seconds
            base = base or throughput
            print(f"{count:8d} {seconds * 1e3:9.2f} {throughput:11.1f} "
                  f"{throughput / base:8.2f}x {throughput / base / count:10.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
