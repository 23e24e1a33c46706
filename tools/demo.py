#!/usr/bin/env python3
"""The main job: build a small model, place it on two emulated devices, run it, and show
where every op ran and how long each device worked.

The model has two independent branches (a stack of dense layers each), one pinned to CPU:0 and
one to CPU:1, joined on CPU:0. sessionlib runs each device in its own worker process, so the two
branches really run at the same time; the demo compares the step time against the same model
with both branches on CPU:0, prints the placement log and the per-device timings from the
step's trace, and writes a Chrome trace (open it in Perfetto or chrome://tracing).

Usage: python tools/demo.py [--trace-file PATH] [--size N] [--layers K] [--runs R]
"""

import argparse
import os
import statistics
import sys
import time

import numpy as np

import sessionlib as tf
from sessionlib.client import timeline


def build_model(size, layers, branch_devices):
    """Two dense branches on `branch_devices`, summed on CPU:0. Returns (graph, x, output)."""
    rng = np.random.default_rng(0)
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [None, size], name="x")
        branches = []
        for branch, device in enumerate(branch_devices):
            with tf.device(device), tf.name_scope(f"branch{branch}"):
                h = x
                for layer in range(layers):
                    w = tf.constant(rng.standard_normal((size, size), np.float32) / size ** 0.5,
                                    name=f"w{layer}")
                    h = tf.nn.tanh(tf.matmul(h, w), name=f"layer{layer}")
                branches.append(h)
        with tf.device("/cpu:0"):
            output = tf.reduce_sum(branches[0] + branches[1], name="output")
    return graph, x, output


def time_steps(sess, output, feed, runs):
    sess.run(output, feed)  # warm up: compile, place and install the step
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        sess.run(output, feed)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trace-file", default="sessionlib_demo_trace.json")
    parser.add_argument("--size", type=int, default=768)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()

    config = tf.ConfigProto(device_count={"CPU": 2}, intra_op_parallelism_threads=1)
    feed_value = np.random.default_rng(1).standard_normal((args.size, args.size), np.float32)

    print("== Placement (log_device_placement=True): every op and the device that runs it")
    graph, x, output = build_model(args.size, args.layers, ["/cpu:0", "/cpu:1"])
    logged = tf.ConfigProto()
    logged.CopyFrom(config)
    logged.log_device_placement = True
    with tf.Session(graph=graph, config=logged) as sess:
        print("\n== Devices")
        for device in sess.list_devices():
            pid = getattr(device, "pid", None)
            where = f"worker pid {pid}" if pid else "in-process"
            print(f"  {device.name}  ({device.device_type}, {where})")
        feed = {x: feed_value}
        split_time = time_steps(sess, output, feed, args.runs)
        options = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)
        metadata = tf.RunMetadata()
        value = sess.run(output, feed, options=options, run_metadata=metadata)

    print(f"\n== Result: output = {value:.4f}")
    print("\n== Per-device timings of one traced step")
    for device_stats in metadata.step_stats.dev_stats:
        nodes = list(device_stats.node_stats)
        if not nodes:
            continue
        busy = sum(n.all_end_rel_micros for n in nodes)
        start = min(n.all_start_micros for n in nodes)
        end = max(n.all_start_micros + n.all_end_rel_micros for n in nodes)
        print(f"  {device_stats.device}: {len(nodes)} ops, busy {busy / 1e3:.2f} ms, "
              f"span {(end - start) / 1e3:.2f} ms")
    trace = timeline.Timeline(metadata.step_stats).generate_chrome_trace_format()
    with open(args.trace_file, "w") as handle:
        handle.write(trace)
    print(f"  Chrome trace written to {os.path.abspath(args.trace_file)}")

    graph1, x1, output1 = build_model(args.size, args.layers, ["/cpu:0", "/cpu:0"])
    with tf.Session(graph=graph1, config=config) as sess:
        same_time = time_steps(sess, output1, {x1: feed_value}, args.runs)
    print("\n== Timing (median of {} steps)".format(args.runs))
    print(f"  both branches on CPU:0          {same_time * 1e3:8.2f} ms")
    print(f"  branches on CPU:0 and CPU:1     {split_time * 1e3:8.2f} ms")
    print(f"  speed-up from the second device {same_time / split_time:8.2f}x "
          f"(on {os.cpu_count()} cores)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
