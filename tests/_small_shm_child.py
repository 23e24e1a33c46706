"""Scenarios of a small /dev/shm, run by test_shm_small.py in a private 64 MiB tmpfs.

Usage: python _small_shm_child.py SCENARIO; prints "ok" (and details) when the scenario holds.
"""

import os
import sys

import numpy as np

import sessionlib as tf
from sessionlib.runtime import shm

MIB = 1 << 20


def _config():
    return tf.ConfigProto(device_count={"CPU": 2})


def feed_then_fill():
    """The issue's case: a 30 MB feed on CPU:0, then a 30 MB fill on CPU:1, nothing live in
    between, then a loop of 20 MiB tensors crossing devices both ways."""
    n30 = 30_000_000 // 4
    n20 = 20 * MIB // 4
    graph = tf.Graph()
    with graph.as_default():
        a = tf.placeholder(tf.float32, [None])
        scale = tf.placeholder(tf.float32, [])
        with tf.device("/cpu:0"):
            fed_sum = tf.reduce_sum(a)
        with tf.device("/cpu:1"):
            filled = tf.fill([n30], scale)
        with tf.device("/cpu:0"):
            made = tf.fill([n20], scale) * 2.0
        with tf.device("/cpu:1"):
            moved = made + 1.0
    with tf.Session(graph=graph, config=_config()) as sess:
        assert sess.run(fed_sum, {a: np.ones(n30, np.float32)}) == n30
        value = sess.run(filled, {scale: 3.0})
        assert value.shape == (n30,) and value[0] == 3.0 and value[-1] == 3.0
        del value
        for i in range(40):
            if i % 2:
                total = sess.run(fed_sum, {a: np.full(n20, 1.0, np.float32)})
                assert total == n20, total
            else:
                result = sess.run(moved, {scale: float(i)})
                assert result[0] == 2.0 * i + 1.0 and result[-1] == 2.0 * i + 1.0
                del result
    print("ok")


def too_big():
    """A run whose tensors cannot fit: a clear ResourceExhaustedError, then small runs work."""
    graph = tf.Graph()
    with graph.as_default():
        scale = tf.placeholder(tf.float32, [])
        size = tf.placeholder(tf.int32, [])
        with tf.device("/cpu:0"):
            made = tf.fill([size], scale)
        with tf.device("/cpu:1"):
            moved = made + 1.0
    with tf.Session(graph=graph, config=_config()) as sess:
        try:
            # 40 MiB made and 40 MiB moved, both fetched: 80 MiB live at once.
            sess.run([made, moved], {scale: 1.0, size: 40 * MIB // 4})
        except tf.errors.ResourceExhaustedError as err:
            print("message:", err.message)
            text = err.message
            assert "/dev/shm" in text and "--shm-size" in text, text
            assert "64.0 MiB" in text, text          # how big /dev/shm is
            assert "free" in text and "live" in text, text
        else:
            raise AssertionError("no ResourceExhaustedError")
        for i in range(5):
            result = sess.run(moved, {scale: float(i), size: 1 * MIB})
            assert result[0] == i + 1.0 and result.shape == (MIB,)
        # What fits still runs: 40 MiB crossing devices, one at a time.
        result = sess.run(moved, {scale: 2.0, size: 40 * MIB // 4})
        assert result[-1] == 3.0
        del result
    print("ok")


if __name__ == "__main__":
    stats = os.statvfs(shm.SHM_DIR)
    assert stats.f_blocks * stats.f_frsize == 64 * MIB, "not in a 64 MiB /dev/shm"
    globals()[sys.argv[1]]()
