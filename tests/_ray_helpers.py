"""What the Ray test modules share: the module's own local Ray instance, and the checks of a
cross-device step that every way of reaching a cluster must pass."""

import numpy as np
import pytest

import sessionlib as tf
from sessionlib.runtime import ray_runtime


@pytest.fixture(scope="module", autouse=True)
def local_cluster():
    """A Ray instance of this process (``ray://local``) for the module, shut down at its end
    with every process it started. A test module imports it to use it."""
    ray_runtime.shutdown()   # (a test module before this one may have left it connected)
    ray_runtime.connect("ray://local", 120)
    yield
    ray_runtime.shutdown()


def check_cross_device_step(target):
    """A step on two devices of `target`: a feed read by both, a tensor crossing from CPU:0 to
    CPU:1, small values and a 4 MB one (through the object store); fetched arrays are the
    caller's to write."""
    a = tf.placeholder(tf.float32, shape=[None], name="a")
    with tf.device("/job:worker/task:0/device:CPU:0"):
        b = tf.square(a)
    with tf.device("/job:worker/task:0/device:CPU:1"):
        c = b + a            # `a` is fed to both devices, `b` crosses from CPU:0
        total = tf.reduce_sum(c)
    small = np.arange(5, dtype=np.float32)
    big = np.linspace(-1, 1, 1 << 20).astype(np.float32)    # 4 MB: the object store path
    with tf.Session(target, config=tf.ConfigProto(device_count={"CPU": 2})) as sess:
        out, s = sess.run([c, total], {a: small})
        np.testing.assert_allclose(out, small * small + small)
        assert s == pytest.approx(float(np.sum(small * small + small)))
        out = sess.run(c, {a: big})
        np.testing.assert_allclose(out, big * big + big, rtol=1e-6)
        out[0] = 5.0         # a fetched array is the caller's to write
        assert sess.run(b, {a: small})[3] == 9.0
