"""Benchmarks of the model array ops of issue 11 (one_hot, cumsum, pad, gather_nd,
scatter_nd, segment_sum, dynamic_partition, einsum, multinomial), beside TF when asked.

Run: ``python tools/bench_array_ops.py`` for sessionlib, and the same script with a Python
that has TensorFlow and ``--backend tf`` for TF's figures on the same graphs. Each line is the
best mean milliseconds of one ``Session.run`` of one op on fed inputs of model sizes.
"""

import argparse
import os
import sys
import time

import numpy as np


def _load(backend):
    if backend == "tf":
        import tensorflow.compat.v1 as tf

        tf.disable_eager_execution()
        return tf
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import sessionlib as tf

    return tf


def _cases(tf):
    rng = np.random.default_rng(0)
    floats = rng.standard_normal((256, 1024)).astype(np.float32)
    labels = rng.integers(0, 1000, 4096).astype(np.int32)
    images = rng.standard_normal((64, 28, 28, 32)).astype(np.float32)
    rows = rng.integers(0, 256, (20000, 1)).astype(np.int32)
    updates = rng.standard_normal((20000, 64)).astype(np.float32)
    ids = np.sort(rng.integers(0, 512, 65536)).astype(np.int32)
    data = rng.standard_normal((65536, 16)).astype(np.float32)
    parts = rng.integers(0, 4, 65536).astype(np.int32)
    batch_a = rng.standard_normal((64, 128, 64)).astype(np.float32)
    batch_b = rng.standard_normal((64, 64, 128)).astype(np.float32)
    logits = rng.standard_normal((128, 1000)).astype(np.float32)

    def fed(value):
        return tf.placeholder(tf.as_dtype(value.dtype), value.shape)

    cases = []

    def case(name, build, *values):
        placeholders = [fed(v) for v in values]
        cases.append((name, build(*placeholders), dict(zip(placeholders, values))))

    case("one_hot 4096x1000", lambda x: tf.one_hot(x, 1000), labels)
    case("cumsum 256x1024 axis 1", lambda x: tf.cumsum(x, 1), floats)
    case("pad REFLECT 64x28x28x32", lambda x: tf.pad(x, [[0, 0], [2, 2], [2, 2], [0, 0]],
                                                     "REFLECT"), images)
    case("gather_nd rows 20000 of 256x1024", lambda p, i: tf.gather_nd(p, i), floats, rows)
    case("scatter_nd 20000x64 into 256x64", lambda i, u: tf.scatter_nd(i, u, [256, 64]),
         rows, updates)
    case("segment_sum 65536x16", lambda d, s: tf.segment_sum(d, s), data, ids)
    case("dynamic_partition 65536x16 in 4",
         lambda d, p: tf.dynamic_partition(d, p, 4), data, parts)
    case("einsum bij,bjk->bik 64x128x64", lambda a, b: tf.einsum("bij,bjk->bik", a, b),
         batch_a, batch_b)
    case("multinomial 128x1000, 16 draws", lambda x: tf.multinomial(x, 16, seed=1), logits)
    return cases


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=("sessionlib", "tf"), default="sessionlib")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    tf = _load(args.backend)
    config = tf.ConfigProto(intra_op_parallelism_threads=2, inter_op_parallelism_threads=2)
    with tf.Graph().as_default():
        cases = _cases(tf)
        with tf.Session(config=config) as session:
            for name, fetch, feeds in cases:
                session.run(fetch, feeds)
                best = float("inf")
                for _ in range(args.repeat):
                    start = time.perf_counter()
                    for _ in range(5):
                        session.run(fetch, feeds)
                    best = min(best, (time.perf_counter() - start) / 5)
                print(f"{args.backend:10s} {name:36s} {best * 1e3:8.3f} ms")


if __name__ == "__main__":
    main()
