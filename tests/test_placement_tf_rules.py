"""Placement compared with TF 2.21's: the same graphs, the same device for every node.

The graphs are tests/_placement_scenarios.py's; the expected devices are what TF 2.21's
``log_device_placement`` printed for them with ``device_count={'CPU': 2}``
(``/work/tfref/bin/python tools/make_placement_reference.py``), written here by hand. The
training graph's gradient internals differ between the libraries, so it lists the nodes that
both build.
"""

import logging

import pytest

import sessionlib as tf
from sessionlib.framework import device_spec
from sessionlib.runtime import placement

import _placement_scenarios

DEVICES = [device_spec.full_name("CPU", i) for i in range(2)]

# TF 2.21 gave these placements (tools/make_placement_reference.py).
TF_PLACEMENTS = {
    'explicit_devices': {
        'a1': 'CPU:0',
        'a2': 'CPU:0',
        'c': 'CPU:0',
        'c2': 'CPU:1',
        'follower': 'CPU:0',
        'i1': 'CPU:0',
        'i2': 'CPU:0',
        'i3': 'CPU:1',
        'on_one': 'CPU:1',
        'p1': 'CPU:1',
        'rk': 'CPU:1',
        's': 'CPU:1',
        's2': 'CPU:0',
        'sz': 'CPU:1',
        'u': 'CPU:1',
        'w': 'CPU:1',
        'x': 'CPU:0',
        'y': 'CPU:1',
        'z': 'CPU:0',
        'z/y': 'CPU:0',
    },
    'colocation': {
        'a': 'CPU:0',
        'b': 'CPU:0',
        'b/y': 'CPU:0',
        'c': 'CPU:1',
        'e': 'CPU:1',
        'f': 'CPU:1',
        'f/y': 'CPU:1',
        'g': 'CPU:0',
        'h': 'CPU:1',
        'k': 'CPU:0',
        'x': 'CPU:0',
    },
    'imported': {
        'imp/a': 'CPU:1',
        'imp/b': 'CPU:1',
        'imp/c': 'CPU:0',
        'imp/d': 'CPU:1',
        'imp/x': 'CPU:1',
    },
    'training': {
        'x': 'CPU:0',
        'labels': 'CPU:0',
        'w': 'CPU:1',
        'w/Assign': 'CPU:1',
        'w/read': 'CPU:1',
        'b': 'CPU:1',
        'b/Assign': 'CPU:1',
        'b/read': 'CPU:1',
        'zeros': 'CPU:1',
        'zeros_1': 'CPU:1',
        'matmul': 'CPU:0',
        'logits': 'CPU:0',
        'sub': 'CPU:0',
        'sq': 'CPU:0',
        'loss': 'CPU:0',
        'gradients/grad_ys_0': 'CPU:0',
        'gradients/sq_grad/Mul': 'CPU:0',
        'gradients/matmul_grad/MatMul': 'CPU:0',
        'gradients/matmul_grad/MatMul_1': 'CPU:0',
        'train/learning_rate': 'CPU:1',
        'train/update_w/ApplyGradientDescent': 'CPU:1',
        'train/update_b/ApplyGradientDescent': 'CPU:1',
        'train': 'CPU:1',
        'init': 'CPU:1',
    },
}


def _placed(build, **kwargs):
    graph = tf.Graph()
    with graph.as_default():
        build(tf)
    ops = graph.get_operations()
    devices = placement.Placer(DEVICES, **kwargs).place(ops)
    return {op.name: device.rsplit("/device:", 1)[1] for op, device in zip(ops, devices)}


@pytest.mark.parametrize("scenario", sorted(TF_PLACEMENTS))
def test_placement_matches_tf(scenario):
    got = _placed(_placement_scenarios.SCENARIOS[scenario])
    expected = TF_PLACEMENTS[scenario]
    assert {name: got.get(name) for name in expected} == expected


def test_every_node_of_the_small_graphs_is_compared():
    for scenario in ("explicit_devices", "colocation", "imported"):
        got = _placed(_placement_scenarios.SCENARIOS[scenario])
        assert set(got) == set(TF_PLACEMENTS[scenario])


def test_colocate_with_writes_tf_class_attr_and_device():
    x = tf.placeholder(tf.float32, None, name="x")
    with tf.device("/cpu:1"):
        a = tf.exp(x, name="a")
    with tf.device("/cpu:0"), tf.colocate_with(a):
        b = tf.negative(a, name="b")
        with tf.colocate_with(x):
            c = tf.square(a, name="c")
    assert b.op.get_attr("_class") == ["loc:@a"]
    assert b.op.device == "/device:CPU:1"      # the colocated op's device, not the scope's
    assert c.op.get_attr("_class") == ["loc:@a", "loc:@x"]
    assert c.op.colocation_groups() == ["loc:@a", "loc:@x"]
    assert x.op.colocation_groups() == ["loc:@x"]
    with pytest.raises(ValueError):
        with tf.colocate_with(None):
            pass


def test_import_renames_class_attrs_with_the_prefix():
    from google.protobuf import text_format

    graph_def = text_format.Parse(_placement_scenarios.IMPORTED_GRAPH, tf.GraphDef())
    tf.import_graph_def(graph_def, name="imp")
    graph = tf.get_default_graph()
    assert graph.get_operation_by_name("imp/b").get_attr("_class") == ["loc:@imp/a"]


def test_conflicting_colocation_is_invalid_argument_unless_soft():
    with tf.device("/cpu:0"):
        a = tf.exp(tf.placeholder(tf.float32, None), name="a")
    b = tf.negative(a, name="b")
    b.op._set_device("/cpu:1")
    b.op._attrs["_class"] = ["loc:@a"]
    ops = [a.op, b.op]
    with pytest.raises(tf.errors.InvalidArgumentError) as info:
        placement.Placer(DEVICES).place(ops)
    assert "Cannot colocate nodes {{colocation_node b}} and {{colocation_node a}}" in str(
        info.value.message)
    assert "incompatible ids" in info.value.message
    # Soft placement leaves the id open: both go to the first CPU.
    assert placement.Placer(DEVICES, allow_soft_placement=True).place(ops) == [DEVICES[0]] * 2


def test_missing_device_message_is_tfs():
    with tf.device("/cpu:7"):
        bad = tf.exp(tf.placeholder(tf.float32, None), name="bad")
    with pytest.raises(tf.errors.InvalidArgumentError) as info:
        placement.Placer(DEVICES).place([bad.op])
    # TF 2.21's text.
    assert info.value.message == (
        "Cannot assign a device for operation bad: {{node bad}} was explicitly assigned to "
        "/device:CPU:7 but available devices are [ /job:localhost/replica:0/task:0/device:CPU:0, "
        "/job:localhost/replica:0/task:0/device:CPU:1 ]. Make sure the device specification "
        "refers to a valid device.")


def test_an_unrelated_bad_op_does_not_fail_other_steps():
    with tf.device("/cpu:7"):
        tf.exp(tf.placeholder(tf.float32, None), name="bad")
    good = tf.exp(tf.constant(1.0), name="good")
    assert placement.Placer(DEVICES).place([good.op]) == [DEVICES[0]]


def test_soft_placement_logs_the_moved_op_once(caplog):
    with tf.device("/device:GPU:0"):
        g = tf.exp(tf.constant(1.0), name="g")
    placer = placement.Placer(DEVICES, allow_soft_placement=True)
    with caplog.at_level(logging.WARNING, logger="sessionlib"):
        assert placer.place([g.op]) == [DEVICES[0]]
        tf.constant(2.0)  # the graph grows: placed again, not logged again
        placer.place([g.op])
    messages = [r.getMessage() for r in caplog.records if r.name == "sessionlib"]
    assert messages == ["g (Exp): requested /device:GPU:0, placed on CPU:0: no such device",
                        "Const (Const): requested /device:GPU:0, placed on CPU:0: no such device"]


def test_stateful_ops_keep_their_device_when_the_graph_grows():
    v = tf.Variable(1.0, name="v", use_resource=False)
    placer = placement.Placer(DEVICES)
    first = placer.place([v.op])
    with tf.device("/cpu:1"):
        tf.identity(v, name="user")
    assert placer.place([v.op]) == first


def test_unknown_device_count_key_warns(caplog):
    with caplog.at_level(logging.WARNING, logger="sessionlib"):
        unknown = placement.warn_unknown_device_count_keys({"CPU": 2, "TPU": 1})
    assert unknown == ["TPU"]
    assert any("'TPU'" in r.getMessage() for r in caplog.records)


def test_session_warns_about_an_unknown_device_count_key(caplog):
    with caplog.at_level(logging.WARNING, logger="sessionlib"):
        with tf.Session(config=tf.ConfigProto(device_count={"XPU": 1})) as sess:
            assert sess.run(tf.constant(3.0)) == 3.0
    assert any("'XPU'" in r.getMessage() for r in caplog.records)


def test_log_device_placement_prints_every_node_in_tf_format(capsys):
    x = tf.placeholder(tf.float32, None, name="x")
    with tf.device("/cpu:1"):
        y = tf.exp(x, name="y")
    tf.negative(x, name="unused")
    config = tf.ConfigProto(device_count={"CPU": 2}, log_device_placement=True)
    with tf.Session(config=config) as sess:
        sess.run(y, {x: 1.0})
    lines = capsys.readouterr().out.splitlines()
    # TF 2.21 prints the whole graph at the first run: non-generators first, then generators.
    assert lines == ["y: (Exp): /job:localhost/replica:0/task:0/device:CPU:1",
                     "unused: (Neg): /job:localhost/replica:0/task:0/device:CPU:0",
                     "x: (Placeholder): /job:localhost/replica:0/task:0/device:CPU:0"]
