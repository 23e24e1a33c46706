#!/usr/bin/env python3
"""Checks that TF's own Timeline, given sessionlib's RunMetadata, draws the transfer arrows that
sessionlib's Timeline draws.

Our traces label a `_Recv` with the tensor it receives and name sends and receives as TF's
partitioner does (``"y/_3 = _Recv(y)"``), so TF's `tensorflow.python.client.timeline` finds
the producer of every received tensor and draws an arrow from it. This script traces a
two-device step (a tensor each way, and the demo's split classifier's training step), writes
its step stats, runs TF's Timeline on them in the TF interpreter given, and compares the
cross-device flow arrows (producer node and device -> consumer node and device) of both.

Outcome (TF 2.21, checked when this was written): the same cross-device arrows in both,
``a`` from CPU:0 to CPU:1 and ``y`` from CPU:1 to CPU:0 ("same arrows"). Before, when a
`_Recv` was labelled with its `_Send` (``"_recv_y_0_CPU_0 = _Recv(_send_y_0_CPU_0)"``), TF's
Timeline drew no arrow between devices: a `_Send` has no output, so it is no tensor to TF.
The one difference left is a control edge's transfer (``"_Recv(^op)"``), which ours draws and
TF's does not (TF's Timeline follows tensors only).

Usage: python tools/compare_tf_timeline.py [--tf-python /work/tfref/bin/python]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import sessionlib as tf  # noqa: E402
from sessionlib.client import timeline  # noqa: E402

_TF_SCRIPT = """
import json, sys
from tensorflow.core.framework import step_stats_pb2
from tensorflow.python.client import timeline
stats = step_stats_pb2.StepStats()
stats.ParseFromString(open(sys.argv[1], "rb").read())
print(timeline.Timeline(stats).generate_chrome_trace_format())
"""


def cross_device_flows(trace_json):
    """{(source process, target process, flow name)} of a Chrome trace's flow arrows between
    processes; a process is named by its device."""
    events = json.loads(trace_json)["traceEvents"]
    names = {e["pid"]: e["args"]["name"].split("/")[-1]
             for e in events if e.get("name") == "process_name"}
    starts = {e["id"]: e for e in events if e["ph"] == "s"}
    flows = set()
    for end in (e for e in events if e["ph"] == "t"):
        start = starts[end["id"]]
        if start["pid"] != end["pid"]:
            flows.add((names[start["pid"]], names[end["pid"]], end["name"]))
    return flows


def traced_step():
    x = tf.placeholder(tf.float32, [None, 8], name="x")
    with tf.device("/cpu:0"):
        a = tf.nn.relu(x, name="a")
    with tf.device("/cpu:1"):
        y = tf.matmul(a, tf.constant(np.ones((8, 8), np.float32)), name="y")
    with tf.device("/cpu:0"):
        z = tf.reduce_sum(y, name="z")
    metadata = tf.RunMetadata()
    with tf.Session(config=tf.ConfigProto(device_count={"CPU": 2})) as sess:
        sess.run(z, {x: np.ones((2, 8), np.float32)},
                 options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE),
                 run_metadata=metadata)
    return metadata.step_stats


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tf-python", default="/work/tfref/bin/python")
    args = parser.parse_args()
    step_stats = traced_step()
    ours = cross_device_flows(timeline.Timeline(step_stats).generate_chrome_trace_format())
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "step_stats.pb")
        with open(path, "wb") as handle:
            handle.write(step_stats.SerializeToString())
        result = subprocess.run([args.tf_python, "-c", _TF_SCRIPT, path], capture_output=True,
                                text=True, check=True)
    theirs = cross_device_flows(result.stdout[result.stdout.index("{"):])
    print("sessionlib's Timeline:", sorted(ours))
    print("TF's Timeline:        ", sorted(theirs))
    print("same arrows" if ours == theirs else "DIFFERENT arrows")
    return 0 if ours == theirs else 1


if __name__ == "__main__":
    sys.exit(main())
