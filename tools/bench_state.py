"""Benchmarks for stateful ops: variable updates.

Run: ``python tools/bench_state.py``. Prints microseconds per step and the ratio against a
plain numpy baseline measured in the same process, so figures from different machines compare.
"""

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import sessionlib as tf  # noqa: E402
from sessionlib.runtime import executor as executor_lib  # noqa: E402


def _best_of_interleaved(functions, steps, repeats):
    """The best mean time per call of each function, in microseconds.

    The functions are timed in turn, `repeats` rounds of `steps` calls each, so that a burst
    of load from other processes hits them all alike; the best round of each is kept.
    """
    best = [float("inf")] * len(functions)
    for _ in range(repeats):
        for index, function in enumerate(functions):
            start = time.perf_counter()
            for _ in range(steps):
                function()
            best[index] = min(best[index], (time.perf_counter() - start) / steps * 1e6)
    return best


def bench_assign_add(size=1 << 20, steps=200, repeats=10, executor="cython"):
    """``sess.run`` of ``v.assign_add(fed)`` for a float32 variable of `size` elements.

    Measures the update run as an op (nothing fetched) and as a tensor (the new value fetched),
    and the numpy baseline ``a += b`` (``np.add(a, b, out=a)``) on arrays of the same size,
    interleaved with them.

    Returns:
      A dict of microseconds per step: 'op', 'value', 'numpy'.
    """
    previous = executor_lib.set_default_executor(executor)
    try:
        graph = tf.Graph()
        with graph.as_default():
            variable = tf.Variable(np.zeros(size, np.float32), name="v")
            delta = tf.placeholder(tf.float32, [size], name="delta")
            update_value = variable.assign_add(delta)
            update_op = variable.assign_add(delta, read_value=False)
        fed = np.ones(size, np.float32)
        with tf.Session(graph=graph) as sess:
            sess.run(variable.initializer)
            feeds = {delta: fed}
            for _ in range(20):
                sess.run(update_op, feeds)
                sess.run(update_value, feeds)
            a = np.zeros(size, np.float32)
            b = np.ones(size, np.float32)

            def numpy_step():
                np.add(a, b, out=a)

            op_us, value_us, numpy_us = _best_of_interleaved(
                [lambda: sess.run(update_op, feeds), lambda: sess.run(update_value, feeds),
                 numpy_step], steps, repeats)
    finally:
        executor_lib.set_default_executor(previous)
    return {"op": op_us, "value": value_us, "numpy": numpy_us}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1 << 20)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--executor", default="cython", choices=("cython", "reference"))
    args = parser.parse_args()
    result = bench_assign_add(args.size, args.steps, args.repeats, args.executor)
    print(f"assign_add of a fed {args.size}-element float32 array ({args.executor} executor)")
    print(f"  sess.run(update op)    {result['op']:8.1f} us/step   "
          f"x{result['op'] / result['numpy']:.2f} of numpy a += b")
    print(f"  sess.run(update value) {result['value']:8.1f} us/step   "
          f"x{result['value'] / result['numpy']:.2f} of numpy a += b")
    print(f"  numpy a += b           {result['numpy']:8.1f} us/step")


if __name__ == "__main__":
    main()
