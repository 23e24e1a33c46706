#!/usr/bin/env python3
"""The main job: build a small model, place it on two emulated devices, run it, and show
where every op ran and how long each device worked.

The model has two independent branches (a stack of dense layers each), one pinned to CPU:0 and
one to CPU:1, joined on CPU:0. sessionlib runs each device in its own worker process, so the two
branches really run at the same time; the demo compares the step time against the same model
with both branches on CPU:0, prints the placement log and the per-device timings from the
step's trace, and writes a Chrome trace (open it in Perfetto or chrome://tracing) and a
Graphviz picture of the placement.

Usage: python tools/demo.py [--trace-file PATH] [--size N] [--layers K] [--runs R]
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

try:
    import sessionlib as tf
except ImportError:  # run from a checkout without `pip install .`
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import sessionlib as tf
from sessionlib.client import placement_graph, timeline


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
    """The median wall time of `runs` steps (after one warm-up step)."""
    sess.run(output, feed)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        sess.run(output, feed)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def print_device_timings(step_stats):
    """Per device: its worker pid, and how long it computed and waited for the other one."""
    for device_stats in step_stats.dev_stats:
        nodes = list(device_stats.node_stats)
        if not nodes:
            continue
        ops = [node.timeline_label.split(" = ")[1].split("(")[0] for node in nodes]
        waiting = sum(node.all_end_rel_nanos for node, op in zip(nodes, ops) if op == "_Recv")
        computing = sum(node.all_end_rel_nanos for node, op in zip(nodes, ops)
                        if op != "_Recv")
        start = min(node.all_start_nanos for node in nodes)
        end = max(node.all_start_nanos + node.all_end_rel_nanos for node in nodes)
        transfers = sum(op in ("_Send", "_Recv") for op in ops)
        print(f"  {device_stats.device}  (worker pid {nodes[0].thread_id})")
        print(f"      {len(nodes) - transfers} ops and {transfers} _Send/_Recv: computing "
              f"{computing / 1e6:.2f} ms, waiting for the other device {waiting / 1e6:.2f} ms"
              f", first op to last {(end - start) / 1e6:.2f} ms")


def write_text(path, text):
    """Writes `text` to `path` (or, if that is not writable, to the temp folder); returns the
    absolute path written."""
    try:
        with open(path, "w") as handle:
            handle.write(text)
    except OSError:
        path = os.path.join(tempfile.gettempdir(), os.path.basename(path))
        with open(path, "w") as handle:
            handle.write(text)
    return os.path.abspath(path)


def write_placement_picture(run_metadata, path):
    """Writes the placement as Graphviz DOT, plus an SVG when Graphviz is installed; returns
    the paths written."""
    written = [write_text(path, placement_graph.to_dot(run_metadata, "demo model placement"))]
    if shutil.which("dot"):
        svg = os.path.splitext(written[0])[0] + ".svg"
        if subprocess.run(["dot", "-Tsvg", written[0], "-o", svg]).returncode == 0:
            written.append(svg)
    return written


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trace-file", default="sessionlib_demo_trace.json")
    parser.add_argument("--placement-file", default="sessionlib_demo_placement.dot")
    parser.add_argument("--size", type=int, default=768)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()

    # One kernel thread per device, so that the comparison shows what a second device adds.
    config = tf.ConfigProto(device_count={"CPU": 2}, intra_op_parallelism_threads=1)
    feed_value = np.random.default_rng(1).standard_normal((args.size, args.size), np.float32)

    graph, x, output = build_model(args.size, args.layers, ["/cpu:0", "/cpu:1"])
    logged = tf.ConfigProto()
    logged.CopyFrom(config)
    logged.log_device_placement = True
    feed = {x: feed_value}
    with tf.Session(graph=graph, config=logged) as sess:
        print(f"== Devices: each one is a worker process (this script is pid {os.getpid()})")
        for device in sess.list_devices():
            print(f"  {device.name}  {device.device_type}, worker pid {device.pid}")
        print("\n== Placement (log_device_placement=True): each op and the device it runs on")
        sess.run(output, feed)  # the first run places, partitions and installs the step
        split_time = time_steps(sess, output, feed, args.runs)
        options = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE,
                                output_partition_graphs=True)
        metadata = tf.RunMetadata()
        value = sess.run(output, feed, options=options, run_metadata=metadata)

    print(f"\n== Result: output = {value:.4f}")
    print("\n== One traced step, per device (from run_metadata.step_stats)")
    print_device_timings(metadata.step_stats)
    trace = timeline.Timeline(metadata.step_stats).generate_chrome_trace_format()
    print(f"  Chrome trace of that step: {write_text(args.trace_file, trace)}")
    print("  (open it in https://ui.perfetto.dev or chrome://tracing; arrows are transfers)")
    pictures = write_placement_picture(metadata, args.placement_file)
    print(f"  Placement picture (Graphviz): {', '.join(pictures)}")
    if len(pictures) == 1:
        print(f"  (render it with: dot -Tsvg {pictures[0]} -o placement.svg)")

    graph1, x1, output1 = build_model(args.size, args.layers, ["/cpu:0", "/cpu:0"])
    with tf.Session(graph=graph1, config=config) as sess:
        same_time = time_steps(sess, output1, {x1: feed_value}, args.runs)
    cores = len(os.sched_getaffinity(0))
    print(f"\n== Step time, median of {args.runs} steps")
    print(f"  both branches on CPU:0       {same_time * 1e3:8.2f} ms")
    print(f"  branches on CPU:0 and CPU:1  {split_time * 1e3:8.2f} ms")
    print(f"  speed-up                     {same_time / split_time:8.2f}x  ({cores} cores; "
          "other work on the machine lowers it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
