"""A step's independent variable updates run as one `_GroupedUpdate` node, in parallel
(``runtime/update_grouping.py``, ``_core/training.pyx: apply_group``).

Grouping must change nothing a user can observe but the trace: every optimizer gives the same
values grouped and ungrouped (``opt_level=L0``) and on both executors; control dependencies
still order reads after updates; two updates of one variable both apply; a reader's snapshot
never changes; and a failing member's error names the member's op.
"""

import numpy as np
import pytest

import sessionlib as tf
from sessionlib.runtime import executor as executor_lib
from sessionlib.runtime import plan as plan_lib
from sessionlib.runtime import update_grouping

UNGROUPED = tf.ConfigProto(graph_options=tf.GraphOptions(
    optimizer_options=tf.OptimizerOptions(opt_level=tf.OptimizerOptions.L0)))
TWO_DEVICES = tf.ConfigProto(device_count={"CPU": 2})

OPTIMIZERS = {
    "sgd": lambda: tf.train.GradientDescentOptimizer(0.1),
    "momentum": lambda: tf.train.MomentumOptimizer(0.1, 0.9, use_nesterov=True),
    "adagrad": lambda: tf.train.AdagradOptimizer(0.1),
    "rmsprop": lambda: tf.train.RMSPropOptimizer(0.01, momentum=0.5, centered=True),
    "adam": lambda: tf.train.AdamOptimizer(0.01),
    "adadelta": lambda: tf.train.AdadeltaOptimizer(1.0),
    "ftrl": lambda: tf.train.FtrlOptimizer(0.1, l1_regularization_strength=0.01,
                                          l2_shrinkage_regularization_strength=0.02),
}

# Sizes: scalars, small vectors and one variable above the kernels' parallel threshold for
# every optimizer (524,288 elements for the cheapest, training.pyx PARALLEL_WORK), so that the
# group's work items split it into blocks over threads.
SIZES = [(), (3,), (7, 5), (725, 725)]


def _model(dtype, optimizer, devices=("/cpu:0",)):
    """Variables of SIZES (spread over `devices`), a quadratic loss, and the train op."""
    rng = np.random.RandomState(0)
    variables, terms = [], []
    for index, shape in enumerate(SIZES):
        with tf.device(devices[index % len(devices)]):
            init = rng.uniform(-1, 1, shape).astype(dtype)
            var = tf.Variable(init, name=f"w{index}")
            target = tf.constant(rng.uniform(-1, 1, shape).astype(dtype))
            terms.append(tf.reduce_sum(tf.square(var - target) * (index + 1)))
            variables.append(var)
    loss = tf.add_n(terms)
    return variables, optimizer.minimize(loss)


def _train(name, dtype, config=None, steps=3, devices=("/cpu:0",)):
    graph = tf.Graph()
    with graph.as_default():
        variables, train = _model(dtype, OPTIMIZERS[name](), devices)
        with tf.Session(config=config) as sess:
            sess.run(tf.global_variables_initializer())
            for _ in range(steps):
                sess.run(train)
            return sess.run(variables)


def _grouped_labels(sess, fetch, feed=None):
    metadata = tf.RunMetadata()
    sess.run(fetch, feed, options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE),
             run_metadata=metadata)
    return {stats.device[-5:]: [node.timeline_label for node in stats.node_stats
                                if "_GroupedUpdate(" in node.timeline_label]
            for stats in metadata.step_stats.dev_stats}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_grouped_updates_give_the_ungrouped_values(name, dtype):
    grouped = _train(name, dtype)
    ungrouped = _train(name, dtype, UNGROUPED)
    tolerance = dict(rtol=1e-6, atol=1e-7) if dtype == np.float32 else dict(rtol=1e-13)
    for got, want in zip(grouped, ungrouped):
        np.testing.assert_allclose(got, want, **tolerance)
    # The variables moved (a test that passes with no update at all proves nothing).
    assert not np.allclose(grouped[-1], _train(name, dtype, steps=0)[-1])


@pytest.mark.parametrize("name", ["adam", "rmsprop", "ftrl"])
def test_reference_executor_runs_the_group_as_its_members(name):
    fast = _train(name, np.float64)
    previous = executor_lib.set_default_executor("reference")
    try:
        reference = _train(name, np.float64)
    finally:
        executor_lib.set_default_executor(previous)
    for got, want in zip(fast, reference):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_a_step_s_updates_run_as_one_node_per_device():
    graph = tf.Graph()
    with graph.as_default():
        _, train = _model(np.float32, tf.train.AdamOptimizer(0.01))
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            labels = _grouped_labels(sess, train)
    (label,) = labels["CPU:0"]
    members = label.split("(", 1)[1].rstrip(")").split(", ")
    assert label.startswith("grouped_update_0 = _GroupedUpdate(")
    assert members == [f"Adam/update_w{i}/ResourceApplyAdam" for i in range(len(SIZES))]


def test_each_device_groups_its_own_updates():
    graph = tf.Graph()
    with graph.as_default():
        _, train = _model(np.float32, tf.train.MomentumOptimizer(0.1, 0.9),
                          devices=("/cpu:0", "/cpu:1"))
        with tf.Session(config=TWO_DEVICES) as sess:
            sess.run(tf.global_variables_initializer())
            labels = _grouped_labels(sess, train)
    members = {device: label[0].split("(", 1)[1].rstrip(")").split(", ")
               for device, label in labels.items() if label}
    assert members == {
        "CPU:0": ["Momentum/update_w0/ResourceApplyMomentum",
                  "Momentum/update_w2/ResourceApplyMomentum"],
        "CPU:1": ["Momentum/update_w1/ResourceApplyMomentum",
                  "Momentum/update_w3/ResourceApplyMomentum"]}
    np.testing.assert_allclose(
        np.concatenate([v.ravel() for v in _train("momentum", np.float64, TWO_DEVICES,
                                                   devices=("/cpu:0", "/cpu:1"))]),
        np.concatenate([v.ravel() for v in _train("momentum", np.float64, UNGROUPED)]),
        rtol=1e-13)


def test_a_control_dependency_on_one_update_runs_after_the_group():
    graph = tf.Graph()
    with graph.as_default():
        a = tf.Variable(1.0)
        b = tf.Variable(10.0)
        update_a = tf.train.GradientDescentOptimizer(0.5).apply_gradients([(tf.constant(1.0),
                                                                            a)])
        with tf.control_dependencies([update_a]):
            a_after = a.read_value() * 1.0
        update_b = tf.train.GradientDescentOptimizer(0.5).apply_gradients([(tf.constant(2.0),
                                                                            b)])
        with tf.control_dependencies([update_b]):
            b_after = b.read_value() * 1.0
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            assert sess.run([a_after, b_after]) == [0.5, 9.0]
            assert sess.run([a_after, b_after]) == [0.0, 8.0]


def test_two_updates_of_one_variable_both_apply():
    graph = tf.Graph()
    with graph.as_default():
        w = tf.Variable(np.zeros(4, np.float32))
        first = tf.train.GradientDescentOptimizer(1.0).apply_gradients(
            [(tf.constant(np.ones(4, np.float32)), w)])
        second = tf.train.MomentumOptimizer(1.0, 0.0).apply_gradients(
            [(tf.constant(np.full(4, 2.0, np.float32)), w)])
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            (label,) = _grouped_labels(sess, [first, second])["CPU:0"]
            assert "GradientDescent/update_Variable/ResourceApplyGradientDescent" in label
            np.testing.assert_array_equal(sess.run(w), np.full(4, -3.0, np.float32))
            sess.run([first, second])
            np.testing.assert_array_equal(sess.run(w), np.full(4, -6.0, np.float32))


def test_a_fetched_value_is_not_changed_by_a_later_grouped_step():
    graph = tf.Graph()
    with graph.as_default():
        variables, train = _model(np.float32, tf.train.AdamOptimizer(0.1))
        reads = [v.read_value() for v in variables]
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            before = sess.run(reads)
            copies = [value.copy() for value in before]
            sess.run(train)
            for value, copy in zip(before, copies):
                np.testing.assert_array_equal(value, copy)
            assert not np.array_equal(sess.run(reads)[-1], copies[-1])


def test_float16_members_run_alone_inside_the_group():
    graph = tf.Graph()
    with graph.as_default():
        w16 = tf.Variable(np.ones(3, np.float16))
        w32 = tf.Variable(np.ones(3, np.float32))
        loss = tf.reduce_sum(tf.cast(w16, tf.float32) * 2.0) + tf.reduce_sum(w32 * 3.0)
        train = tf.train.GradientDescentOptimizer(0.25).minimize(loss)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            assert len(_grouped_labels(sess, train)["CPU:0"]) == 1
            sess.run(train)
            np.testing.assert_array_equal(sess.run(w16), np.zeros(3, np.float16))
            np.testing.assert_array_equal(sess.run(w32), np.full(3, -0.5, np.float32))


@pytest.mark.parametrize("config", [None, TWO_DEVICES], ids=["in-process", "workers"])
def test_a_failing_member_names_its_own_op(config):
    graph = tf.Graph()
    with graph.as_default():
        first = tf.Variable(np.ones(3, np.float32), name="first")
        second = tf.Variable(np.ones(3, np.float32), name="second")
        third = tf.Variable(np.ones(3, np.float32), name="third")
        with tf.device("/cpu:1" if config is not None else None):
            loss = tf.reduce_sum(first) + tf.reduce_sum(second) + tf.reduce_sum(third)
            train = tf.train.GradientDescentOptimizer(0.5).minimize(loss)
        with tf.Session(config=config) as sess:
            sess.run([first.initializer, third.initializer])
            with pytest.raises(tf.errors.FailedPreconditionError) as caught:
                sess.run(train)
            assert caught.value.op.name == "GradientDescent/update_second/ResourceApplyGradientDescent"
            assert "second" in caught.value.message


def test_the_pass_keeps_updates_after_what_they_wait_for_and_before_their_dependents():
    graph = tf.Graph()
    with graph.as_default():
        a, b = tf.Variable(1.0, name="a"), tf.Variable(2.0, name="b")
        optimizer = tf.train.GradientDescentOptimizer(0.1)
        train = optimizer.apply_gradients([(tf.constant(1.0), a), (tf.constant(1.0), b)])
        with tf.control_dependencies([train]):
            done = tf.constant(0.0)
    order = plan_lib.prune([], [done], [])
    nodes = [plan_lib.Node.of_op(op, index) for index, op in enumerate(order)]
    grouped = update_grouping.group(nodes)
    types = [node.op_type for node in grouped]
    assert types.count(update_grouping.GROUPED_OP_TYPE) == 1
    position = types.index(update_grouping.GROUPED_OP_TYPE)
    # The NoOp that gathers the updates (the train op) comes after the group.
    assert types.index("NoOp", position) > position
    node = grouped[position]
    assert node.attrs["fused_types"] == ("ResourceApplyGradientDescent",) * 2
    assert node.attrs["member_starts"] == (0, 3, 6)
    assert len(node.inputs) == 6 and node.outputs == []
    # Ungroupable lists come back unchanged.
    plain = [n for n in nodes if n.op_type != "ResourceApplyGradientDescent"]
    assert update_grouping.group(plain) is plain
