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


def two_tasks(gpus=0):
    config = tf.ConfigProto(device_count={"CPU": 1, "GPU": gpus})
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


def _task_groups():
    """``{task: (state, node id)}`` of the tasks' placement groups that are not removed."""
    groups = {}
    for entry in ray.util.placement_group_table().values():
        if entry["name"].startswith(ray_runtime.GROUP_PREFIX) and entry["state"] != "REMOVED":
            groups[int(entry["name"][len(ray_runtime.GROUP_PREFIX):])] = (
                entry["state"], entry["bundles_to_node_id"].get(0))
    return groups


def test_each_task_is_a_placement_group_on_its_own_node(cluster):
    target = cluster[0]
    with tf.Session(target, config=two_tasks()) as sess:
        listed = sess.list_devices()
    here = ray.get_runtime_context().get_node_id()
    groups = _task_groups()
    # Task 0 beside the client, task 1 on the other node: one bundle each, detached (they
    # outlive the session, as the devices in them do).
    assert groups[0] == ("CREATED", here)
    assert groups[1][0] == "CREATED" and groups[1][1] != here
    assert [d.node_id for d in listed] == [groups[0][1], groups[1][1]]
    assert listed[0].placement_group != listed[1].placement_group
    table = ray.util.placement_group_table()
    assert [table[d.placement_group]["name"] for d in listed] == [
        ray_runtime.GROUP_PREFIX + "0", ray_runtime.GROUP_PREFIX + "1"]
    assert all(d.pid and d.address for d in listed)


@pytest.mark.parametrize("tower_type", ["CPU", "GPU"])
def test_multi_tower_training_on_two_nodes_trains_like_one_tower(cluster, tower_type):
    """tests/test_multi_tower.py's training with only the target and the device names
    changed: the variables on task 0, one tower per task (each on its node; on its CPU, or on
    its emulated GPU as in TF's multi-GPU tutorial) computing the gradients of half the
    batch, averaged and applied once on task 0."""
    from _multi_tower import check_trains_like_one_tower, train

    target = cluster[0]
    config = two_tasks(gpus=1 if tower_type == "GPU" else 0)
    variables = "/job:worker/task:0/device:CPU:0"
    towers = [f"/job:worker/task:{task}/device:{tower_type}:0" for task in (0, 1)]
    optimizer_fn = lambda: tf.train.AdamOptimizer(0.01)   # noqa: E731
    split_losses, split_params, metadata = train(
        towers, optimizer_fn, trace=True, variable_device=variables, target=target,
        config=config, trace_options=tf.RunOptions(output_partition_graphs=True))
    one_losses, one_params, _ = train(towers[:1], optimizer_fn, variable_device=variables,
                                      target=target, config=config)
    check_trains_like_one_tower(split_losses, split_params, one_losses, one_params)
    # Each tower's matmuls ran on its task's device of the tower type.
    matmuls = {}
    for graph in metadata.partition_graphs:
        for node in graph.node:
            if node.op == "MatMul":
                matmuls.setdefault(node.device, set()).add(node.name.split("/")[0])
    assert matmuls == {f"/job:worker/replica:0/task:{task}/device:{tower_type}:0":
                       {f"tower{task}"} for task in (0, 1)}


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
    # Once Ray has declared the node dead, the next session replaces task 1's placement
    # group, lost with the node, by one on the node that is left, and starts task 1's device
    # there anew.
    lost_group = _task_groups()[1]
    start = time.monotonic()
    while time.monotonic() - start < 90 and any(
            node["Alive"] for node in ray.nodes() if node["NodeID"] == lost_group[1]):
        time.sleep(0.2)
    print(f"node loss: the node is declared dead after {time.monotonic() - start:.1f} s more")
    with tf.Session(target, config=two_tasks()) as fresh:
        assert fresh.run(c, {a: 2.0}) == 6.0
        here = ray.get_runtime_context().get_node_id()
        assert [d.node_id for d in fresh.list_devices()] == [here, here]
    assert _task_groups()[1] == ("CREATED", here) and lost_group[1] != here
