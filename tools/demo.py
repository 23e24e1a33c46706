#!/usr/bin/env python3
"""The main job: build a small model, place it on two emulated devices, run it, and show
where every op ran and how long each device worked; then train the same model on one device
and on two, data-parallel, and compare.

The model has two independent branches (a stack of dense layers each), one pinned to CPU:0 and
one to CPU:1, joined on CPU:0. sessionlib runs each device in its own worker process, so the two
branches really run at the same time. The demo prints the placement log and the per-device
timings from one step's trace, writes a Chrome trace (open it in Perfetto or chrome://tracing)
and a Graphviz picture of the placement into its output folder, and compares the step time
against the same model with both branches on CPU:0.

The headline is training: a classifier trained with TF1's multi-tower (multi-GPU) pattern, the
variables on CPU:0, a batch of 512 cut into two towers of 256 that each compute the loss and
the gradients of their half, and CPU:0 averaging the gradients and applying them once (Adam).
The same training runs twice side by side, both towers on CPU:0 (one device) and one tower
each on CPU:0 and CPU:1 (two devices), from the same initial values on the same batches: the
demo prints both losses (the same, to float rounding), each device's share of a step, and the
median step time of each. Each device has one kernel thread (intra_op_parallelism_threads=1),
so the comparison shows what the second device adds: about 2x on an idle 2-core machine.

It also writes a TensorBoard log directory (<out>/tensorboard) with two runs, in TF's event
file format: "placement", the two-branch model's graph and its traced step, and "training", the
two-device training's graph, its loss at every step and one traced training step. Each graph carries the
device of every node (the session's placement fills in the nodes without an explicit one), so
TensorBoard's graph view colours nodes by device ("Color: Device"), and the traced steps add
each node's compute time ("Session runs"). Writing them costs the demo a few milliseconds: the
events go to a background thread, and the loss summary rides along in the training step.

Measuring on a shared machine. Other work on the machine slows whichever steps it overlaps, so
the comparison alternates the two placements step by step (both see the same load), reports
the median ratio with its spread, and says plainly when the figure means nothing: when this
process may use a single core, when a probe finds the second core taken by other work, or
when the ratios spread too widely.

Usage: python tools/demo.py [--out DIR] [--size N] [--layers K] [--runs R] [--train-steps S]
"""

import argparse
import hashlib
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

try:
    import sessionlib as tf
except ImportError:  # run from a checkout without `pip install`
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import sessionlib as tf
from sessionlib.client import placement_graph, timeline

# The verdict's thresholds. On a quiet 2-core machine the probe measures 1.9-2.0 and the
# ratios' interquartile range is 10-20 % of their median; other work that comes and goes
# during the measurement widens it.
_MIN_PARALLEL_CAPACITY = 1.6  # below this, the second core is largely taken by other work
_MAX_RELATIVE_IQR = 0.3  # above this, the load changed too much during the measurement


def build_model(size, layers, branch_devices):
    """Two dense branches on `branch_devices`, summed on CPU:0. Returns (graph, x, output)."""
    rng = np.random.default_rng(0)
    graph = tf.Graph()
    with graph.as_default():
        with tf.device("/cpu:0"):  # every node has a device, for TensorBoard's colours
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


def build_towers(features, hidden, classes, batch, tower_devices, seed=0):
    """A two-layer classifier trained data-parallel, TF1's multi-GPU pattern.

    The variables (and Adam's slots) live on CPU:0. Tower i, on `tower_devices[i]`, gets its
    own slice of the batch (placeholders ``tower<i>/x`` and ``tower<i>/labels``, fed straight
    to its device) and computes its loss and its gradients; CPU:0 averages the gradients and
    applies them once. With both towers on CPU:0 this is the same training on one device:
    the same variables, data and updates, so the same losses (to float rounding).

    Returns (graph, placeholders [(x, labels) per tower], loss, accuracy, train_op): `loss`
    and `accuracy` are the means over the towers, i.e. over the whole batch.
    """
    rng = np.random.default_rng(seed)
    rows = batch // len(tower_devices)
    graph = tf.Graph()
    with graph.as_default():
        with tf.device("/cpu:0"):
            with tf.name_scope("layer1"):
                w1 = tf.Variable(rng.standard_normal((features, hidden)).astype(np.float32)
                                 * np.float32((2.0 / features) ** 0.5), name="w")
                b1 = tf.Variable(np.zeros(hidden, np.float32), name="b")
            with tf.name_scope("layer2"):
                w2 = tf.Variable(rng.standard_normal((hidden, classes)).astype(np.float32)
                                 * np.float32((1.0 / hidden) ** 0.5), name="w")
                b2 = tf.Variable(np.zeros(classes, np.float32), name="b")
            params = [w1, b1, w2, b2]
            optimizer = tf.train.AdamOptimizer(0.002)
        placeholders, losses, accuracies, tower_grads = [], [], [], []
        for index, device in enumerate(tower_devices):
            with tf.device(device), tf.name_scope(f"tower{index}"):
                x = tf.placeholder(tf.float32, [rows, features], name="x")
                labels = tf.placeholder(tf.int32, [rows], name="labels")
                h = tf.nn.relu(tf.nn.bias_add(tf.matmul(x, w1), b1))
                logits = tf.nn.bias_add(tf.matmul(h, w2), b2)
                loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
                    labels=labels, logits=logits), name="loss")
                correct = tf.equal(tf.cast(tf.argmax(logits, 1), tf.int32), labels)
                accuracies.append(tf.reduce_mean(tf.cast(correct, tf.float32)))
                losses.append(loss)
                tower_grads.append(optimizer.compute_gradients(loss, params))
                placeholders.append((x, labels))
        with tf.device("/cpu:0"), tf.name_scope("average"):
            towers = float(len(tower_devices))
            averaged = [(tf.add_n([grad for grad, _ in pairs]) / towers, pairs[0][1])
                        for pairs in zip(*tower_grads)]
            mean_loss = tf.add_n(losses) / towers
            accuracy = tf.add_n(accuracies) / towers
        with tf.device("/cpu:0"):
            train_op = optimizer.apply_gradients(averaged)
    return graph, placeholders, mean_loss, accuracy, train_op


def synthetic_classes(count, features, classes, seed=1, spread=0.35):
    """`count` points around `classes` random centres (`spread` times a standard normal
    each, the points' noise being 1), and their class labels."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((classes, features)).astype(np.float32) * spread
    labels = rng.integers(0, classes, count).astype(np.int32)
    points = centres[labels] + rng.standard_normal((count, features)).astype(np.float32)
    return points, labels


def tower_feed(placeholders, points, labels):
    """The feed of one step: the batch `points`, `labels` cut into one equal slice per tower."""
    rows = len(points) // len(placeholders)
    feed = {}
    for index, (x, y) in enumerate(placeholders):
        feed[x] = points[index * rows:(index + 1) * rows]
        feed[y] = labels[index * rows:(index + 1) * rows]
    return feed


def train_one_and_two_devices(config, steps, logdir):
    """Trains the two-tower classifier twice, side by side: both towers on CPU:0 (one device)
    and one tower each on CPU:0 and CPU:1 (two devices), from the same initial values on the
    same batches. Prints both losses as they fall, and each device's share of one step.

    Steps alternate between the two sessions (which runs first too), so both see the same
    load of the machine; each step's wall time is recorded.

    Args:
      config: the session's `ConfigProto` (two devices).
      steps: the number of training steps.
      logdir: the TensorBoard run to write for the two-device training: the graph with each
        node's device, the loss of every step (tag "loss") and one traced step (tag
        "step_<steps>").

    Returns:
      ((first, last) loss on two devices, whether the printed losses agree on one device and
      two to float rounding, one-device step times, two-device step times), times in seconds.
    """
    features, hidden, classes, batch = 256, 512, 10, 512
    # Centres close enough for the loss to fall over the whole run, not in ten steps.
    points, point_labels = synthetic_classes(batch * 8, features, classes, spread=0.06)
    runs = []
    for devices in (["/cpu:0", "/cpu:0"], ["/cpu:0", "/cpu:1"]):
        graph, placeholders, loss, accuracy, train_op = build_towers(
            features, hidden, classes, batch, devices)
        with graph.as_default():
            init = tf.global_variables_initializer()
            loss_summary = tf.summary.scalar("loss", loss)
        runs.append((graph, placeholders, loss, accuracy, train_op, init, loss_summary))
    every = max(1, steps // 5)
    (graph1, places1, loss1, _, train1, init1, _), \
        (graph, places, loss, accuracy, train, init, loss_summary) = runs
    times1, times2, losses, losses1 = [], [], [], []
    with tf.Session(graph=graph1, config=config) as sess1, \
            tf.Session(graph=graph, config=config) as sess:
        sess1.run(init1)
        sess.run(init)
        # With the session, the writer records the device it placed each node on.
        clear_old_events(logdir)
        writer = tf.summary.FileWriter(logdir, graph, session=sess)
        print("                loss: one device, two devices")
        for step in range(steps + 1):
            start = (step * batch) % len(points)
            batch_points = points[start:start + batch]
            batch_labels = point_labels[start:start + batch]
            feed1 = tower_feed(places1, batch_points, batch_labels)
            feed = tower_feed(places, batch_points, batch_labels)
            if step % every == 0 or step == steps:
                value1 = sess1.run(loss1, feed1)
                value, acc = sess.run([loss, accuracy], feed)
                losses.append(value)
                losses1.append(value1)
                print(f"  step {step:4d}   loss {value1:7.4f} {value:7.4f}   "
                      f"batch accuracy {acc:6.1%}")
            if step == steps:
                break
            # The summary holds the loss before this step's update, as printed above.
            results = {}
            order = [(sess1, train1, feed1, times1), (sess, [loss_summary, train], feed, times2)]
            for session, fetches, step_feed, times in order[::1 if step % 2 else -1]:
                begin = time.perf_counter()
                results[session] = session.run(fetches, step_feed)
                times.append(time.perf_counter() - begin)
            writer.add_summary(results[sess][0], global_step=step)
        options = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE,
                                output_partition_graphs=True)
        metadata = tf.RunMetadata()
        sess.run(train, feed, options=options, run_metadata=metadata)
        # The traced step's pictures go beside the trace (logdir is <out>/tensorboard/...).
        write_step_pictures(metadata, os.path.dirname(os.path.dirname(logdir)), [train])
        writer.add_run_metadata(metadata, f"step_{steps}", global_step=steps)
        writer.close()
    print("  One two-device step, per device: its tower, and the averaging and the Adam "
          "updates")
    for device_stats in metadata.step_stats.dev_stats:
        names = []
        transfers = 0
        for node in device_stats.node_stats:
            if " = _Send(" in node.timeline_label or " = _Recv(" in node.timeline_label:
                transfers += 1   # named after the op whose tensor they carry ("w/_5")
                continue
            names.append(node.node_name)
            # A group of independent updates runs as one node, which lists its members:
            # "grouped_update_0 = _GroupedUpdate(Adam/update_w/..., Adam/update_b/...)".
            if "= _GroupedUpdate(" in node.timeline_label:
                names += node.timeline_label.split("(", 1)[1].rstrip(")").split(", ")
        towers = sorted({n.split("/")[0] for n in names if n.startswith("tower")
                         and "_grad/" in n})
        gradients = [n for n in names if n.startswith("tower") and "_grad/" in n]
        updates = [n.split("/")[1][len("update_"):] + "/" + n.split("/")[2] for n in names
                   if n.startswith("Adam/update_")]
        line = (f"    {device_stats.device[-5:]}: {', '.join(towers)} ({len(gradients)} "
                f"gradient ops)")
        if updates:
            line += f"; Adam updates of {', '.join(updates)}"
        print(line + f"; {transfers} transfers")
    same = np.allclose(losses1, losses, rtol=1e-4, atol=1e-5)
    return (losses[0], losses[-1]), same, times1, times2


def timed_step(sess, output, feed):
    """The wall time of one step, in seconds."""
    start = time.perf_counter()
    sess.run(output, feed)
    return time.perf_counter() - start


def interleaved_step_times(one_device, two_devices, runs):
    """Times `runs` steps of each placement, alternating them (and which goes first).

    Args:
      one_device, two_devices: (session, output, feed) of each placement, already warmed up.
      runs: the number of steps of each.

    Returns:
      (one_device_times, two_device_times), lists of seconds; entry i of each comes from the
      same round, so their ratio compares two steps that ran under the same load.
    """
    one_times, two_times = [], []
    for round_index in range(runs):
        if round_index % 2 == 0:
            one_times.append(timed_step(*one_device))
            two_times.append(timed_step(*two_devices))
        else:
            two_times.append(timed_step(*two_devices))
            one_times.append(timed_step(*one_device))
    return one_times, two_times


def parallel_capacity(attempts=3):
    """How many cores' worth of CPU two threads get right now: about 2.0 on an idle machine
    with two free cores, about 1.0 when other work holds the second one.

    Each thread hashes a buffer (hashlib releases the GIL for large inputs), once alone and
    once beside a second thread; the best of `attempts` tries is kept, so a brief hiccup does
    not count as a busy machine.
    """
    buffer = bytes(4 << 20)

    def hash_repeatedly():
        for _ in range(8):
            hashlib.sha256(buffer).digest()

    def wall_time(thread_count):
        threads = [threading.Thread(target=hash_repeatedly) for _ in range(thread_count)]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return time.perf_counter() - start

    return max(2 * wall_time(1) / wall_time(2) for _ in range(attempts))


def speedup_verdict(quartiles, cores, capacity):
    """One sentence on whether the median speed-up means anything on this machine.

    Args:
      quartiles: (first quartile, median, third quartile) of the step-pair ratios.
      cores: the number of cores this process may use.
      capacity: what `parallel_capacity` measured.
    """
    first_quartile, median, third_quartile = quartiles
    spread = (third_quartile - first_quartile) / median
    if cores < 2:
        return ("NOT MEANINGFUL: this process may use only one core, so the two devices take "
                "turns and no speed-up is possible here.")
    if capacity < _MIN_PARALLEL_CAPACITY:
        return (f"NOT MEANINGFUL: the machine is busy. Two threads got {capacity:.1f} cores' "
                "worth of CPU (2.0 when two cores are free), so other work holds the second "
                "device's core. Rerun on an idle machine.")
    if spread > _MAX_RELATIVE_IQR:
        return (f"NOT MEANINGFUL: the middle half of the ratios spans {spread:.0%} of their "
                "median (the machine's load changed during the measurement). Rerun on an idle "
                "machine.")
    return (f"Meaningful: two free cores (probe {capacity:.1f}), and the middle half of the "
            f"ratios spans {spread:.0%} of their median. The split can reach at most 2x: each "
            "branch is half the work.")


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


def output_folder(requested):
    """The folder the demo writes into: `requested`, created if needed, or a new temporary
    folder when `requested` cannot be written (a read-only checkout)."""
    try:
        os.makedirs(requested, exist_ok=True)
        if os.access(requested, os.W_OK):
            return os.path.abspath(requested)
    except OSError:
        pass
    fallback = tempfile.mkdtemp(prefix="sessionlib_demo_")
    print(f"  ({requested!r} is not writable; writing into {fallback} instead)")
    return fallback


def write_placement_picture(run_metadata, folder):
    """Writes the placement as Graphviz DOT, plus an SVG when Graphviz is installed; returns
    the paths written."""
    dot_path = os.path.join(folder, "placement.dot")
    with open(dot_path, "w") as handle:
        handle.write(placement_graph.to_dot(run_metadata, "demo model placement"))
    written = [dot_path]
    if shutil.which("dot"):
        svg_path = os.path.join(folder, "placement.svg")
        if subprocess.run(["dot", "-Tsvg", dot_path, "-o", svg_path]).returncode == 0:
            written.append(svg_path)
    return written


def write_step_pictures(run_metadata, folder, fetches):
    """Writes a traced two-device step's pictures: its SVG timeline (a lane per device, the
    transfers as arrows) and its placement as Graphviz DOT, plus SVG when Graphviz is
    installed; prints the paths."""
    svg_path = os.path.join(folder, "training_step.svg")
    with open(svg_path, "w") as handle:
        handle.write(timeline.Timeline(run_metadata.step_stats).generate_svg(
            title="One training step on two devices (layer 1 on CPU:0, layer 2 on CPU:1)"))
    dot_path = os.path.join(folder, "training_placement.dot")
    with open(dot_path, "w") as handle:
        handle.write(placement_graph.to_dot(run_metadata, "training step placement",
                                            fetches=fetches))
    written = [svg_path, dot_path]
    if shutil.which("dot"):
        placement_svg = os.path.join(folder, "training_placement.svg")
        if subprocess.run(["dot", "-Tsvg", dot_path, "-o", placement_svg]).returncode == 0:
            written.append(placement_svg)
    print(f"  Pictures of one training step: {', '.join(written)}")


def write_placement_run(logdir, graph, run_metadata):
    """Writes the two-branch model's TensorBoard run: its graph, in which every node has an
    explicit device, and the traced step `run_metadata` (tag "step_1").

    The weights are constants of several MB; TensorBoard's graph view drops attributes over
    1 KB anyway, so each large constant keeps its dtype and shape only, and the run metadata
    keeps only its step stats (not the partition graphs): the run is tens of KB instead of
    twice the weights.
    """
    graph_def = graph.as_graph_def(add_shapes=True)
    for node in graph_def.node:
        value = node.attr["value"].tensor if node.op == "Const" else None
        if value is not None and value.ByteSize() > 1024:
            value.ClearField("tensor_content")
    clear_old_events(logdir)
    writer = tf.summary.FileWriter(logdir)
    writer.add_graph(graph_def)
    writer.add_run_metadata(tf.RunMetadata(step_stats=run_metadata.step_stats), "step_1",
                            global_step=1)
    writer.close()


def clear_old_events(logdir):
    """Removes the event files an earlier demo run wrote into `logdir`: TensorBoard would
    show their steps beside this run's (and only one of the graphs)."""
    if os.path.isdir(logdir):
        for name in os.listdir(logdir):
            if name.startswith("events.out.tfevents."):
                os.remove(os.path.join(logdir, name))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="demo_output",
                        help="folder for the trace, the placement picture and the TensorBoard logs "
                             "(default: demo_output, ignored by git)")
    parser.add_argument("--size", type=int, default=768)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--runs", type=int, default=12,
                        help="timed steps of each placement, alternated")
    parser.add_argument("--train-steps", type=int, default=150,
                        help="training steps of the classifier (on one device and on two)")
    args = parser.parse_args()
    if args.runs < 2:
        parser.error("--runs must be at least 2 (the spread needs two ratios)")

    # One kernel thread per device, so that the comparison shows what a second device adds.
    config = tf.ConfigProto(device_count={"CPU": 2}, intra_op_parallelism_threads=1)
    logged = tf.ConfigProto()
    logged.CopyFrom(config)
    logged.log_device_placement = True
    feed_value = np.random.default_rng(1).standard_normal((args.size, args.size), np.float32)
    folder = output_folder(args.out)
    tensorboard_dir = os.path.join(folder, "tensorboard")

    graph, x, output = build_model(args.size, args.layers, ["/cpu:0", "/cpu:1"])
    graph1, x1, output1 = build_model(args.size, args.layers, ["/cpu:0", "/cpu:0"])
    feed, feed1 = {x: feed_value}, {x1: feed_value}
    with tf.Session(graph=graph, config=logged) as sess, \
            tf.Session(graph=graph1, config=config) as sess1:
        print(f"== Devices: each one is a worker process (this script is pid {os.getpid()})")
        for device in sess.list_devices():
            print(f"  {device.name}  {device.device_type}, worker pid {device.pid}")
        print("\n== Placement (log_device_placement=True): each op and the device it runs on")
        sess.run(output, feed)  # the first run places, partitions and installs the step
        sess1.run(output1, feed1)
        options = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE,
                                output_partition_graphs=True)
        metadata = tf.RunMetadata()
        value = sess.run(output, feed, options=options, run_metadata=metadata)
        write_placement_run(os.path.join(tensorboard_dir, "placement"), graph, metadata)

        capacity_before = parallel_capacity()
        one_times, two_times = interleaved_step_times((sess1, output1, feed1),
                                                      (sess, output, feed), args.runs)
        capacity = min(capacity_before, parallel_capacity())

    print(f"\n== Result: output = {value:.4f}")
    print("\n== One traced step, per device (from run_metadata.step_stats)")
    print_device_timings(metadata.step_stats)
    trace_path = os.path.join(folder, "trace.json")
    with open(trace_path, "w") as handle:
        handle.write(timeline.Timeline(metadata.step_stats).generate_chrome_trace_format())
    print(f"  Chrome trace of that step: {trace_path}")
    print("  (open it in https://ui.perfetto.dev or chrome://tracing; arrows are transfers)")
    pictures = write_placement_picture(metadata, folder)
    print(f"  Placement picture (Graphviz): {', '.join(pictures)}")
    if len(pictures) == 1:
        print(f"  (render it with: dot -Tsvg {pictures[0]} -o placement.svg)")

    ratios = [one / two for one, two in zip(one_times, two_times)]
    quartiles = statistics.quantiles(ratios, n=4)
    cores = len(os.sched_getaffinity(0))
    print(f"\n== Step time: {args.runs} steps of each placement, alternated; medians")
    print(f"  both branches on CPU:0       {statistics.median(one_times) * 1e3:8.2f} ms")
    print(f"  branches on CPU:0 and CPU:1  {statistics.median(two_times) * 1e3:8.2f} ms")
    print(f"  speed-up                     {quartiles[1]:8.2f}x  (median of the {args.runs} "
          f"step pairs; middle half {quartiles[0]:.2f}-{quartiles[2]:.2f}x, "
          f"all {min(ratios):.2f}-{max(ratios):.2f}x; {cores} cores)")
    print(f"  {speedup_verdict(quartiles, cores, capacity)}")

    print(f"\n== Training on one device and on two: a classifier, Adam, {args.train_steps} "
          f"steps, batch 512 as two towers of 256")
    print("  (TF1's multi-tower pattern: the variables on CPU:0, each tower computes the loss "
          "and gradients\n   of its half of the batch, CPU:0 averages the gradients and "
          "applies them once)")
    (first, last), same, one_times, two_times = train_one_and_two_devices(
        config, args.train_steps, os.path.join(tensorboard_dir, "training"))
    one_ms = statistics.median(one_times) * 1e3
    two_ms = statistics.median(two_times) * 1e3
    print(f"  The loss fell from {first:.4f} to {last:.4f}, "
          + ("the same on one device and on two." if same else
             "BUT one device and two disagree (they should not)."))
    print(f"  Step time (median of {len(two_times)}): one device {one_ms:.2f} ms, two devices "
          f"{two_ms:.2f} ms: {one_ms / two_ms:.2f}x as fast on two.")

    print("\n== TensorBoard: the graphs coloured by device, the traced steps and the loss")
    print(f"  Log directory: {tensorboard_dir} (runs \"placement\" and \"training\")")
    print(f"  tensorboard --logdir {shlex.quote(tensorboard_dir)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
