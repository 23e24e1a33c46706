#!/usr/bin/env python3
"""Where a training step's time goes: per-op-type kernel time from a FULL_TRACE run.

Builds the two training figures of ``tools/bench.py`` (``train_mlp``: the MLP Adam step, and
``train_vars``: GD on many scalar variables), runs a few traced steps and prints, per op type,
the number of nodes, the total kernel time and the per-node mean (best step of `--repeat`),
next to the untraced step time. The trace adds a little per node, so the column sums are an
upper bound of the untraced step.

Usage:
  PYTHONPATH=$PWD python tools/probe_train.py [--only mlp,vars] [--repeat 20]
"""

import argparse
import collections
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench  # noqa: E402  (the figures' own graph builders)

import sessionlib as tf  # noqa: E402


def _vars_graph(tf_module, count=400):
    graph = tf_module.Graph()
    with graph.as_default():
        variables = [tf_module.Variable(np.float32(k), name=f"v{k}") for k in range(count)]
        loss = tf_module.add_n([tf_module.square(v) for v in variables])
        train = tf_module.train.GradientDescentOptimizer(0.01).minimize(loss)
        init = tf_module.global_variables_initializer()
    return graph, init, train, loss, {}


def _profile(build, repeat):
    graph, init, train, _, feeds = build(tf)
    options = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)
    with tf.Session(graph=graph) as sess:
        sess.run(init)
        for _ in range(5):
            sess.run(train, feeds)
        untraced = min(_timed(lambda: sess.run(train, feeds)) for _ in range(repeat))
        best, best_total = None, None
        for _ in range(repeat):
            metadata = tf.RunMetadata()
            sess.run(train, feeds, options=options, run_metadata=metadata)
            per_type = collections.defaultdict(lambda: [0, 0])
            total = 0
            for device in metadata.step_stats.dev_stats:
                for node in device.node_stats:
                    op_type = node.timeline_label.split(" = ")[-1].split("(")[0]
                    nanos = node.op_end_rel_nanos - node.op_start_rel_nanos
                    per_type[op_type][0] += 1
                    per_type[op_type][1] += nanos
                    total += node.all_end_rel_nanos
            if best_total is None or total < best_total:
                best, best_total = per_type, total
    return untraced, best, best_total


def _timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="mlp,vars")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    builds = {"mlp": bench._mlp_training_graph, "vars": _vars_graph}
    for name in args.only.split(","):
        untraced, per_type, total = _profile(builds[name], args.repeat)
        kernels = sum(nanos for _, nanos in per_type.values())
        print(f"== {name}: untraced step {untraced * 1e3:.3f} ms; traced nodes "
              f"{total / 1e6:.3f} ms, of which kernels {kernels / 1e6:.3f} ms")
        print(f"   {'op type':34s} {'nodes':>5s} {'total µs':>10s} {'µs/node':>9s}")
        for op_type, (count, nanos) in sorted(per_type.items(), key=lambda kv: -kv[1][1]):
            print(f"   {op_type:34s} {count:5d} {nanos / 1e3:10.1f} {nanos / 1e3 / count:9.2f}")


if __name__ == "__main__":
    main()
