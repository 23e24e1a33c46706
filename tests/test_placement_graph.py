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
    assert CPU1 in dot.split("subgraph cluster_1")[1]


def test_edges_data_control_and_transfers():
    dot = placement_graph.to_dot(_two_device_graphs())
    ids = {}
    for line in dot.splitlines():
        if "[label=" in line and "->" not in line:
            node_id, rest = line.strip().split(" ", 1)
            ids[rest.split('"')[1].split("\\n")[0]] = node_id
    assert f"{ids['x']} -> {ids['exp']};" in dot
    assert f"{ids['init']} -> {ids['total']} [style=dashed];" in dot
    transfer = f"{ids['send_exp']} -> {ids['recv_exp']} [color=red"
    assert transfer in dot


def test_fused_nodes_list_their_ops():
    graph_def = GraphDef()
    node = _node(graph_def, "fused_0", "_FusedElementwise", CPU0)
    node.attr["fused_ops"].list.s.extend([b"mul", b"add", b"exp"])
    assert "[mul, add, exp]" in placement_graph.to_dot([graph_def])


def test_without_partition_graphs_it_says_how_to_get_them():
    with pytest.raises(ValueError, match="output_partition_graphs"):
        placement_graph.to_dot([])
