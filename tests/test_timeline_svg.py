"""The SVG Gantt chart of a traced step (`Timeline.generate_svg`), from hand-made step stats
(no workers), and once from a real two-device run."""

import xml.etree.ElementTree as ET

import numpy as np
import pytest

import sessionlib as tf
from sessionlib.client import timeline

CPU0 = "/job:localhost/replica:0/task:0/device:CPU:0"
CPU1 = "/job:localhost/replica:0/task:0/device:CPU:1"
SVG = "{http://www.w3.org/2000/svg}"


def _node(device_stats, name, label, start_us, duration_us, num_bytes=0):
    node = device_stats.node_stats.add(node_name=name, all_start_micros=start_us,
                                       all_end_rel_micros=duration_us, timeline_label=label)
    if num_bytes:
        allocation = node.output.add(slot=0).tensor_description.allocation_description
        allocation.requested_bytes = num_bytes
        allocation.allocator_name = "cpu"
    return node


def _two_device_stats():
    """x on CPU:1 goes to CPU:0 (a _Send/_Recv pair), where y reads it; w runs beside x."""
    step_stats = tf.StepStats()
    first = step_stats.dev_stats.add(device=CPU0)
    second = step_stats.dev_stats.add(device=CPU1)
    _node(second, "x", "x = MatMul(a, b)", 100, 40, num_bytes=64)
    _node(second, "w", "w = Const()", 110, 10, num_bytes=8)     # overlaps x: a second row
    _node(second, "x/_0", "x/_0 = _Send(x)", 140, 5)
    _node(first, "x/_1", "x/_1 = _Recv(x)", 100, 50, num_bytes=64)
    _node(first, "y", "y = Relu(x/_1)", 150, 20, num_bytes=64)
    return step_stats


def _parse(svg):
    root = ET.fromstring(svg)   # valid XML, or this raises
    assert root.tag == SVG + "svg"
    return root


def _groups(root, cls):
    return [element for element in root.iter() if element.get("class") == cls]


def test_valid_svg_with_a_lane_per_device():
    root = _parse(timeline.Timeline(_two_device_stats()).generate_svg())
    assert [lane.get("data-device") for lane in _groups(root, "lane")] == [CPU0, CPU1]
    texts = [t.text for t in root.iter(SVG + "text")]
    assert "CPU:0" in texts and "CPU:1" in texts


def test_a_bar_per_op_with_its_name_and_colour_by_op_type():
    root = _parse(timeline.Timeline(_two_device_stats()).generate_svg())
    ops = {g.get("data-node"): g for g in _groups(root, "op")}
    assert set(ops) == {"x", "w", "x/_0", "x/_1", "y"}
    assert ops["y"].get("data-op") == "Relu"
    assert ops["y"].find(SVG + "title").text.startswith("y (Relu) on CPU:0")
    fills = {name: group.find(SVG + "rect").get("fill") for name, group in ops.items()}
    assert len(set(fills.values())) == 5   # five op types, five colours
    legend = {t.get("data-op") for t in _groups(root, "legend")[0].iter(SVG + "text")}
    assert {"MatMul", "Const", "Relu", "_Send", "_Recv"} <= legend
    # Bars are placed in time: y (150-170 us) lies right of x (100-140 us).
    rect = {name: group.find(SVG + "rect") for name, group in ops.items()}
    assert float(rect["y"].get("x")) > float(rect["x"].get("x")) + float(rect["x"].get("width"))
    # x and w overlap in time on CPU:1, so they are drawn in two rows.
    assert rect["x"].get("y") != rect["w"].get("y")


def test_an_arrow_per_transfer_from_send_to_recv():
    root = _parse(timeline.Timeline(_two_device_stats()).generate_svg())
    arrows = [(p.get("data-from"), p.get("data-to")) for p in _groups(root, "transfer")]
    assert arrows == [("x/_0", "x/_1")]


def test_recv_labelled_with_its_send_pairs_with_it():
    step_stats = tf.StepStats()
    first = step_stats.dev_stats.add(device=CPU0)
    second = step_stats.dev_stats.add(device=CPU1)
    _node(second, "a", "a = Const()", 100, 5, num_bytes=8)
    _node(second, "send_a", "send_a = _Send(a)", 105, 5)
    _node(first, "recv_a", "recv_a = _Recv(send_a)", 100, 12, num_bytes=8)
    root = _parse(timeline.Timeline(step_stats).generate_svg())
    assert [(p.get("data-from"), p.get("data-to")) for p in _groups(root, "transfer")] == [
        ("send_a", "recv_a")]


def test_tf_step_stats_without_send_nodes_draw_producer_to_consumer():
    # TF traces no _Send/_Recv between local devices; a received input is named "y/_3".
    step_stats = tf.StepStats()
    first = step_stats.dev_stats.add(device=CPU0)
    second = step_stats.dev_stats.add(device=CPU1)
    _node(second, "y", "y = MatMul(_arg_x_0_0/_1, Const)", 100, 30, num_bytes=64)
    _node(first, "z", "z = Sum(y/_3, Const_1)", 140, 10, num_bytes=4)
    root = _parse(timeline.Timeline(step_stats).generate_svg())
    assert [(p.get("data-from"), p.get("data-to")) for p in _groups(root, "transfer")] == [
        ("y", "z")]


def test_memory_line_when_the_stats_carry_memory():
    step_stats = _two_device_stats()
    assert not _groups(_parse(timeline.Timeline(step_stats).generate_svg()), "memory")
    # The allocator's bytes in use after each node (AllocatorMemoryUsed, as TF fills it).
    in_use = {"x": 64, "w": 72, "x/_1": 64, "y": 128}
    for device_stats in step_stats.dev_stats:
        for node in device_stats.node_stats:
            if node.node_name in in_use:
                node.memory.add(allocator_name="cpu",
                                allocator_bytes_in_use=in_use[node.node_name])
    root = _parse(timeline.Timeline(step_stats).generate_svg())
    memory = {g.get("data-device"): g for g in _groups(root, "memory")}
    assert set(memory) == {CPU0, CPU1}
    line = memory[CPU0].find(SVG + "polyline")
    assert "peak 128 B" in line.find(SVG + "title").text
    points = [tuple(map(float, p.split(","))) for p in line.get("points").split()]
    # A step line: it rises at x/_1's end (64 B) and at y's end (128 B, the top of the band).
    assert len(points) == 5
    assert points[-1][1] < points[2][1] < points[0][1]
    assert "peak 72 B" in memory[CPU1].find(SVG + "polyline").find(SVG + "title").text
    assert not _groups(_parse(timeline.Timeline(step_stats).generate_svg(show_memory=False)),
                       "memory")


def test_memory_from_allocation_records_and_estimated_on_request():
    step_stats = _two_device_stats()
    node = step_stats.dev_stats[0].node_stats[1]
    used = node.memory.add(allocator_name="cpu")
    used.allocation_records.add(alloc_micros=150, alloc_bytes=1 << 20)
    used.allocation_records.add(alloc_micros=170, alloc_bytes=-(1 << 20))
    root = _parse(timeline.Timeline(step_stats).generate_svg())
    memory = {g.get("data-device"): g for g in _groups(root, "memory")}
    assert "peak 1 MiB" in memory[CPU0].find(SVG + "polyline").find(SVG + "title").text
    assert memory[CPU1].find(SVG + "polyline") is None   # this device recorded none
    # show_memory=True estimates from the output tensors (x 64 B and w 8 B overlap: 72 B).
    estimated = _parse(timeline.Timeline(_two_device_stats()).generate_svg(show_memory=True))
    lines = {g.get("data-device"): g.find(SVG + "polyline") for g in _groups(estimated, "memory")}
    assert "peak 72 B" in lines[CPU1].find(SVG + "title").text


def test_names_are_escaped_and_empty_stats_refused():
    step_stats = tf.StepStats()
    device = step_stats.dev_stats.add(device=CPU0)
    _node(device, 'a<b>&"c"', 'a<b>&"c" = Const()', 0, 5)
    root = _parse(timeline.Timeline(step_stats).generate_svg(title="<step>"))
    assert _groups(root, "op")[0].get("data-node") == 'a<b>&"c"'
    with pytest.raises(ValueError, match="trace_level"):
        timeline.Timeline(tf.StepStats()).generate_svg()


def test_svg_of_a_two_device_run():
    x = tf.placeholder(tf.float32, [None, 8], name="x")
    with tf.device("/cpu:1"):
        y = tf.matmul(x, tf.constant(np.ones((8, 8), np.float32)), name="y")
    with tf.device("/cpu:0"):
        z = tf.reduce_sum(y, name="z")
    metadata = tf.RunMetadata()
    with tf.Session(config=tf.ConfigProto(device_count={"CPU": 2})) as sess:
        value = sess.run(z, {x: np.ones((2, 8), np.float32)},
                         options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE),
                         run_metadata=metadata)
    assert value == 128.0
    root = _parse(timeline.Timeline(metadata.step_stats).generate_svg())
    assert [lane.get("data-device") for lane in _groups(root, "lane")] == [CPU0, CPU1]
    names = {g.get("data-node") for g in _groups(root, "op")}
    assert {"y", "z"} <= names
    transfers = _groups(root, "transfer")
    assert len(transfers) == 1
    sender = {g.get("data-node"): g.get("data-op") for g in _groups(root, "op")}
    assert sender[transfers[0].get("data-from")] == "_Send"
    assert sender[transfers[0].get("data-to")] == "_Recv"
