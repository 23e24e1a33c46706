#!/usr/bin/env python3
"""Writes ``tests/data/nn_models_tf.npz``: TensorFlow's results for ``tests/_nn_models_cases.py``.

Run with a TensorFlow interpreter (the tests never need TF):
  /work/tfref/bin/python tools/make_nn_models_data.py
Each case's i-th fetch is stored as ``<case>/<i>``.
"""

import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))

import tensorflow.compat.v1 as tf  # noqa: E402

import _nn_models_cases as cases  # noqa: E402


def main():
    tf.disable_eager_execution()
    arrays = {}
    for name in cases.CASES:
        for index, value in enumerate(cases.run_case(tf, name)):
            arrays[f"{name}/{index}"] = value
    path = os.path.join(ROOT, "tests", "data", "nn_models_tf.npz")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    np.savez_compressed(path, **arrays)
    print(f"wrote {len(arrays)} arrays to {path}")


if __name__ == "__main__":
    main()
