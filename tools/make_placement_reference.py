"""Prints TF 2.21's placement of the graphs of tests/_placement_scenarios.py.

Run it with TensorFlow's Python (``/work/tfref/bin/python tools/make_placement_reference.py``);
it prints, for each scenario, a dict ``{node name: device}`` from TF's own
``log_device_placement`` lines, ready to paste into tests/test_placement_tf_rules.py. Every
scenario runs with ``device_count={'CPU': 2}``; TF places the whole graph at the first run.
"""

import os
import pprint
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))

import tensorflow.compat.v1 as tf  # noqa: E402

import _placement_scenarios  # noqa: E402

tf.disable_v2_behavior()


def tf_placement(build):
    """{node name: device} as TF's placer logs it (printf to fd 1, captured)."""
    graph = tf.Graph()
    with graph.as_default():
        build(tf)
        fetch = tf.no_op(name="placement_reference_fetch")
    config = tf.ConfigProto(device_count={"CPU": 2}, log_device_placement=True)
    with tempfile.TemporaryFile(mode="w+") as out:
        sys.stdout.flush()
        saved = os.dup(1)
        os.dup2(out.fileno(), 1)
        try:
            with tf.Session(graph=graph, config=config) as sess:
                sess.run(fetch)
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)
        out.seek(0)
        lines = out.read().splitlines()
    placement = {}
    for line in lines:
        name, _, rest = line.partition(": (")
        if rest and "): " in rest:
            placement[name] = rest.split("): ", 1)[1]
    placement.pop("placement_reference_fetch", None)
    return placement


def main():
    for name, build in _placement_scenarios.SCENARIOS.items():
        print(f"# {name}")
        pprint.pprint({k: v.rsplit("/device:", 1)[1] for k, v in tf_placement(build).items()},
                      width=99)


if __name__ == "__main__":
    main()
