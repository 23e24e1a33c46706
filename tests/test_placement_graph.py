"""The DOT picture of a run's placement, from hand-made partition graphs (no workers)."""

import pytest

from sessionlib.client import placement_graph
from sessionlib.protos import GraphDef

CPU0 = "/job:localhost/replica:0/task:0/device:CPU:0"
CPU1 = "/job:localhost/replica:0/task:0/device:CPU:1"


def _node(graph_def, name, op, device, inputs=(), **string_attrs):
    node = graph_def.node.add(name=name, op=op, device=device)
    node.input.extend(inputs)
    for key, value in string_attrs.items():
        node.attr[key].s = value.encode()
    return node


def _two_device_graphs():
    first, second = GraphDef(), GraphDef()
    edge = {"tensor_name": "exp:0", "send_device": CPU1, "recv_device": CPU0}
    _node(second, "x", "Placeholder", CPU1)
    _node(second, "exp", "Exp", CPU1, ["x"])
    _node(second, "send_exp", "_Send", CPU1, ["exp"], **edge)
    _node(first, "recv_exp", "_Recv", CPU0, **edge)
    _node(first, "total", "Sum", CPU0, ["recv_exp", "^init"])
    _node(first, "init", "NoOp", CPU0)
    return [first, second]


def test_one_cluster_per_device_with_its_ops():
    dot = placement_graph.to_dot(_two_device_graphs())
    assert dot.startswith("digraph placement {") and dot.rstrip().endswith("}")
    assert dot.count("subgraph cluster_") == 2
    cpu0_block = dot.split("subgraph cluster_0")[1].split("subgraph cluster_1")[0]
    assert "total\\n(Sum)" in cpu0_block and "exp\\n(Exp)" not in cpu0_block
    assert "rankdir=TB" in dot   # top to bottom: a large graph grows into a page
    assert CPU1 in dot.split("subgraph cluster_1")[1]


def test_edges_data_control_and_transfers():
    dot = placement_graph.to_dot(_two_device_graphs())
    ids = {}
    for line in dot.splitlines():
        if "[label=" in line and "->" not in line and "feed" not in line:
            node_id, rest = line.strip().split(" ", 1)
            ids[rest.split('"')[1].split("\\n")[0]] = node_id
    assert f"{ids['x']} -> {ids['exp']};" in dot
    assert f"{ids['init']} -> {ids['total']} [style=dashed];" in dot
    transfer = f"{ids['send_exp']} -> {ids['recv_exp']} [color=\"#dc2626\""
    assert transfer in dot


def test_fused_nodes_list_their_ops():
    graph_def = GraphDef()
    node = _node(graph_def, "fused_0", "_FusedElementwise", CPU0)
    node.attr["fused_ops"].list.s.extend([b"mul", b"add", b"exp"])
    assert "[mul, add, exp]" in placement_graph.to_dot([graph_def])


def test_without_partition_graphs_it_says_how_to_get_them():
    with pytest.raises(ValueError, match="output_partition_graphs"):
        placement_graph.to_dot([])


def _line_of(dot, node_id_prefix_label):
    return next(line for line in dot.splitlines() if node_id_prefix_label in line)


def _ids(dot):
    ids = {}
    for line in dot.splitlines():
        if "[label=" in line and "->" not in line:
            node_id, rest = line.strip().split(" ", 1)
            ids[rest.split('"')[1].split("\\n")[0]] = node_id
    return ids


def test_fed_inputs_and_fetches_are_drawn():
    # x is fed: no partition holds the placeholder, but both MatMuls read it.
    first, second = GraphDef(), GraphDef()
    _node(first, "w0", "Const", CPU0)
    _node(first, "m0", "MatMul", CPU0, ["x", "w0"])
    _node(second, "w1", "Const", CPU1)
    _node(second, "m1", "MatMul", CPU1, ["x:0", "w1"])
    dot = placement_graph.to_dot([first, second], fetches=["m0:0", "m1"])
    ids = _ids(dot)
    assert ids["feed x:0"].startswith("feed")
    assert dot.count('label="feed ') == 1      # one node per fed tensor
    assert f"{ids['feed x:0']} -> {ids['m0']};" in dot
    assert f"{ids['feed x:0']} -> {ids['m1']};" in dot
    assert f"{ids['w0']} -> {ids['m0']};" in dot
    assert f"{ids['m0']} -> {ids['fetch m0:0']};" in dot
    assert f"{ids['m1']} -> {ids['fetch m1']};" in dot


def _traced_stats():
    from sessionlib.protos import StepStats

    step_stats = StepStats()
    for device, name, micros in ((CPU1, "exp", 30), (CPU0, "recv_exp", 12),
                                 (CPU0, "total", 2)):
        device_stats = next((d for d in step_stats.dev_stats if d.device == device), None)
        if device_stats is None:
            device_stats = step_stats.dev_stats.add(device=device)
        node = device_stats.node_stats.add(node_name=name, all_start_micros=100,
                                           all_end_rel_micros=micros)
        description = node.output.add(slot=0).tensor_description
        description.dtype = 1
        description.shape.dim.add(size=64)
        description.shape.dim.add(size=256)
        description.allocation_description.requested_bytes = 64 * 256 * 4
    return step_stats


def test_transfer_arrows_carry_the_tensor_size_and_ops_their_time():
    graphs = _two_device_graphs()
    graphs[1].node[2].attr["T"].type = 1   # the _Send of a float32
    plain = placement_graph.to_dot(graphs)
    assert 'label="float32"' in plain       # untraced: the dtype only
    dot = placement_graph.to_dot(graphs, step_stats=_traced_stats())
    ids = _ids(dot)
    transfer = _line_of(dot, f"{ids['send_exp']} -> {ids['recv_exp']}")
    assert 'label="float32 [64, 256]\\n64 KiB"' in transfer
    assert "exp\\n(Exp)\\n30 us" in dot
    assert "recv_exp\\n(_Recv)\\n12 us" in dot


def test_a_plain_graph_def_keeps_its_cross_device_edges():
    graph_def = GraphDef()
    _node(graph_def, "x", "Placeholder", CPU1)
    _node(graph_def, "exp", "Exp", CPU1, ["x"])
    _node(graph_def, "total", "Sum", CPU0, ["exp", "^x"])
    dot = placement_graph.to_dot(graph_def)    # one GraphDef, not a list
    ids = _ids(dot)
    assert dot.count("subgraph cluster_") == 2
    assert f"{ids['x']} -> {ids['exp']};" in dot
    crossing = _line_of(dot, f"{ids['exp']} -> {ids['total']}")
    assert "#dc2626" in crossing                # drawn as a transfer between the clusters
    control = _line_of(dot, f"{ids['x']} -> {ids['total']}")
    assert "style=dashed" in control


def test_many_inputless_nodes_are_stacked_not_side_by_side():
    graph_def = GraphDef()
    for index in range(6):
        _node(graph_def, f"c{index}", "Const", CPU0)
    _node(graph_def, "total", "AddN", CPU0, [f"c{index}" for index in range(6)])
    dot = placement_graph.to_dot([graph_def])
    ids = _ids(dot)
    # Invisible edges chain them in columns, so that at most two share a rank.
    assert f"{ids['c0']} -> {ids['c2']} [style=invis];" in dot
    assert f"{ids['c3']} -> {ids['c5']} [style=invis];" in dot
    assert dot.count("style=invis") == 4


def test_long_names_wrap_at_scope_separators():
    graph_def = GraphDef()
    _node(graph_def, "gradients/layer2/MatMul_grad/MatMul_1", "MatMul", CPU0)
    dot = placement_graph.to_dot([graph_def])
    assert "gradients/layer2/\\nMatMul_grad/MatMul_1\\n(MatMul)" in dot
