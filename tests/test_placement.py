"""Placement rules, tested on the Placer directly (no worker processes needed)."""

import pytest

import sessionlib as tf
from sessionlib.framework import device_spec
from sessionlib.runtime import placement

DEVICES = [device_spec.full_name("CPU", i) for i in range(2)]
CPU0, CPU1 = DEVICES


def _placer(**kwargs):
    return placement.Placer(DEVICES, **kwargs)


def test_explicit_device_is_honoured_and_others_go_to_the_default_device():
    # TF 2.21: an op without a device goes to CPU:0, not after its input; the placeholder, a
    # generator whose only consumer is on CPU:1, joins it.
    x = tf.placeholder(tf.float32, [3])
    with tf.device("/cpu:1"):
        y = tf.exp(x)
    z = y * 2.0
    placer = _placer()
    assert placer.place([x.op, y.op, z.op]) == [CPU1, CPU1, CPU0]


def test_unplaced_ops_without_placed_inputs_go_to_cpu0():
    a = tf.placeholder(tf.float32, [3])
    b = tf.exp(a)
    assert _placer().place([a.op, b.op]) == [CPU0, CPU0]


def test_generators_join_their_first_consumer():
    x = tf.placeholder(tf.float32, [4])
    with tf.device("/cpu:1"):
        y = tf.exp(x)
        total = tf.reduce_sum(y)  # its axis is a Const generator
    axis_op = total.op.inputs[1].op
    assert axis_op.type == "Const"
    placer = _placer()
    # The generator comes first in the step's order, yet follows its consumer.
    devices = placer.place([axis_op, x.op, y.op, total.op])
    assert devices == [CPU1, CPU1, CPU1, CPU1]


def test_a_generator_nobody_consumes_goes_to_cpu0():
    c = tf.constant(1.0)
    assert _placer().place([c.op]) == [CPU0]


def test_missing_device_is_invalid_argument_naming_op_and_device():
    with tf.device("/cpu:7"):
        bad = tf.constant(1.0, name="bad")
    with pytest.raises(tf.errors.InvalidArgumentError) as info:
        _placer().place([bad.op])
    assert "bad" in info.value.message and "/device:CPU:7" in info.value.message


def test_soft_placement_falls_back_to_cpu0():
    with tf.device("/gpu:0"):
        g = tf.constant(1.0)
    assert _placer(allow_soft_placement=True).place([g.op]) == [CPU0]


def test_log_device_placement_writes_one_line_per_op(capsys, caplog):
    x = tf.placeholder(tf.float32, [], name="x")
    with tf.device("/cpu:1"):
        y = tf.identity(x, name="y")
    with caplog.at_level("INFO", logger="sessionlib"):
        _placer(log_device_placement=True).place([x.op, y.op])
    lines = capsys.readouterr().out.splitlines()
    assert f"y: (Identity): {CPU1}" in lines
    assert f"x: (Placeholder): {CPU1}" in lines
    assert f"y: (Identity): {CPU1}" in [r.getMessage() for r in caplog.records]
