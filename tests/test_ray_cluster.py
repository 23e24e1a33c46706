"""Sessions on a two-node Ray cluster on loopback (``ray.cluster_utils.Cluster``): tasks on
nodes, a tensor between tasks, Saver shards written by each task's devices, a lost node.

The cluster (a head and one more node, one CPU each) serves the whole module and is shut down
at its end, with every Ray process it started. Skipped when Ray is not installed.
"""

import time

import numpy as np
import pytest

ray = pytest.importorskip("ray")
cluster_utils = pytest.importorskip("ray.cluster_utils")

import sessionlib as tf  # noqa: E402
from sessionlib import errors  # noqa: E402
from sessionlib.runtime import ray_runtime  # noqa: E402

TASK = "/job:worker/replica:0/task:{}/device:CPU:0"


@pytest.fixture(scope="module")
def cluster():
    ray_runtime.shutdown()   # (a test module before this one may have left it connected)
    # (The head takes Ray's default port, or a free one when another cluster holds it.)
    made = cluster_utils.Cluster(initialize_head=True, head_node_args={
        "num_cpus": 1, "include_dashboard": False})
    try:
        second = made.add_node(num_cpus=1)
        made.wait_for_nodes()
        target = "ray://" + made.address
        ray_runtime.connect(target, 120)
        yield target, made, second
    finally:
        ray_runtime.shutdown()
        made.shutdown()


def two_tasks():
    config = tf.ConfigProto(device_count={"CPU": 1})
    job = config.cluster_def.job.add(name="worker")
    job.tasks[0] = "node0:0"   # (addresses are informational on Ray: task k is node k)
    job.tasks[1] = "node1:0"
    return config


def test_tasks_run_on_their_nodes_and_tensors_cross_between_them(cluster):
    target = cluster[0]
    a = tf.placeholder(tf.float32, shape=[None], name="a")
    with tf.device("/job:worker/task:0"):
        b = tf.square(a)
    with tf.device("/job:worker/task:1"):
        c = tf.reduce_sum(b + 1.0)
    values = np.arange(1000, dtype=np.float32)
    with tf.Session(target, config=two_tasks()) as sess:
        listed = sess.list_devices()
        assert [d.name for d in listed] == [TASK.format(0), TASK.format(1)]
        assert listed[0].node_id != listed[1].node_id
        assert sess.run(c, {a: values}) == pytest.approx(float(np.sum(values ** 2 + 1)))


def test_saver_writes_each_tasks_shard_and_restores_them(cluster, tmp_path):
    target = cluster[0]
    with tf.device("/job:worker/task:0"):
        v0 = tf.Variable(np.arange(4, dtype=np.float32), name="v0")
    with tf.device("/job:worker/task:1"):
        v1 = tf.Variable(np.full(3, 7.0, np.float32), name="v1")
    saver = tf.train.Saver()
    path = str(tmp_path / "model")   # a folder every node of this one-machine cluster sees
    with tf.Session(target, config=two_tasks()) as sess:
        sess.run(tf.global_variables_initializer())
        saved = saver.save(sess, path)
        sess.run([v0.assign(v0 * 0.0), v1.assign(v1 * 0.0)])
        saver.restore(sess, saved)
        v0_value, v1_value = sess.run([v0, v1])
    np.testing.assert_array_equal(v0_value, np.arange(4, dtype=np.float32))
    np.testing.assert_array_equal(v1_value, np.full(3, 7.0, np.float32))
    # One data shard per task (device): each device wrote its own variables.
    assert len(list(tmp_path.glob("model.data-*-of-00002"))) == 2
    reader = tf.train.load_checkpoint(saved)
    np.testing.assert_array_equal(reader.get_tensor("v1"), np.full(3, 7.0, np.float32))


def test_a_lost_node_fails_the_run_naming_its_device(cluster):
    target, made, second = cluster
    a = tf.placeholder(tf.float32, shape=[], name="a")
    with tf.device("/job:worker/task:0"):
        b = a + 1.0
    with tf.device("/job:worker/task:1"):
        c = b * 2.0
    sess = tf.Session(target, config=two_tasks())
    assert sess.run(c, {a: 1.0}) == 4.0
    made.remove_node(second, allow_graceful=False)
    # The node's processes may still answer for a moment after its raylet was killed: runs
    # go on until Ray notices; then they fail, naming the device, and none hangs.
    start = time.monotonic()
    failure = None
    while failure is None and time.monotonic() - start < 90:
        try:
            sess.run(c, {a: 2.0}, options=tf.RunOptions(timeout_in_ms=30000))
        except errors.OpError as err:
            failure = err
        else:
            time.sleep(0.2)
    elapsed = time.monotonic() - start
    sess.close()
    assert isinstance(failure, (errors.UnavailableError, errors.AbortedError)), failure
    assert "task:1" in str(failure)
    print(f"node loss: runs fail after {elapsed:.1f} s")
