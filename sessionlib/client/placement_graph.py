"""A picture of placement: the partition graphs of a run as Graphviz DOT, one box per device.

Learners see where each op ran: every device is a coloured cluster, ops are nodes, data edges
are solid arrows, control edges dashed, and each `_Send` → `_Recv` pair (a tensor crossing
devices through shared memory) is a bold red arrow between clusters. Fused elementwise chains
show as one node listing the ops they hold.

    options = tf.RunOptions(output_partition_graphs=True)
    metadata = tf.RunMetadata()
    sess.run(y, options=options, run_metadata=metadata)
    open("placement.dot", "w").write(to_dot(metadata))   # then: dot -Tsvg placement.dot

`to_dot` only formats text; rendering needs the Graphviz `dot` program.
"""

__all__ = ["to_dot"]

_PALETTE = ("#dbeafe", "#fde68a", "#bbf7d0", "#fecaca", "#e9d5ff", "#fed7aa", "#c7d2fe",
            "#99f6e4")


def _quote(text):
    """A DOT string literal; `\n` escapes inside stay line breaks for Graphviz."""
    return '"' + str(text).replace('"', '\\"') + '"'


def _short_device(device):
    return device.rsplit("/", 1)[-1].replace("device:", "")


def _attr_string(node, key):
    if key not in node.attr:
        return None
    value = node.attr[key]
    if value.HasField("s"):
        return value.s.decode("utf-8", "replace")
    if value.list.s:
        return ", ".join(item.decode("utf-8", "replace") for item in value.list.s)
    return None


def to_dot(run_metadata_or_graphs, title="sessionlib placement"):
    """Graphviz DOT text for the partition graphs of a run.

    Args:
      run_metadata_or_graphs: a `RunMetadata` filled with ``output_partition_graphs=True``,
        or an iterable of `GraphDef`s whose nodes carry their device.
      title: the graph's label.

    Returns:
      The DOT source, a string.

    Raises:
      ValueError: if there are no partition graphs (the run did not ask for them).
    """
    graphs = getattr(run_metadata_or_graphs, "partition_graphs", run_metadata_or_graphs)
    graphs = list(graphs)
    if not graphs:
        raise ValueError("No partition graphs: run with "
                         "RunOptions(output_partition_graphs=True) and pass its RunMetadata.")
    lines = ["digraph placement {", f"  label={_quote(title)}; labelloc=t; rankdir=LR;",
             "  node [shape=box, style=\"rounded,filled\", fillcolor=white, fontsize=10];"]
    devices = []
    for graph_def in graphs:
        for node in graph_def.node:
            if node.device not in devices:
                devices.append(node.device)
    ids = {}
    sends, recvs = {}, {}
    for graph_def in graphs:
        for node in graph_def.node:
            ids[(node.device, node.name)] = f"n{len(ids)}"
    for index, device in enumerate(devices):
        lines.append(f"  subgraph cluster_{index} {{")
        lines.append(f"    label={_quote(_short_device(device) + '  ' + device)}; style=filled; "
                     f"fillcolor={_quote(_PALETTE[index % len(_PALETTE)])};")
        for graph_def in graphs:
            for node in graph_def.node:
                if node.device != device:
                    continue
                label = f"{node.name}\\n({node.op})"
                fused = _attr_string(node, "fused_ops")
                if fused:
                    label += f"\\n[{fused}]"
                shape = ""
                if node.op in ("_Send", "_Recv"):
                    # Both ends of a transfer name the tensor and the two devices.
                    edge = tuple(_attr_string(node, key) for key in
                                 ("tensor_name", "send_device", "recv_device"))
                    (sends if node.op == "_Send" else recvs)[edge] = ids[(device, node.name)]
                    shape = ", shape=cds, fillcolor=\"#fca5a5\""
                lines.append(f"    {ids[(device, node.name)]} [label={_quote(label)}{shape}];")
        lines.append("  }")
    for graph_def in graphs:
        for node in graph_def.node:
            target = ids[(node.device, node.name)]
            for source in node.input:
                control = source.startswith("^")
                name = source.lstrip("^").split(":")[0]
                origin = ids.get((node.device, name))
                if origin is None:
                    continue  # fed from outside the partition
                style = " [style=dashed]" if control else ""
                lines.append(f"  {origin} -> {target}{style};")
    for key, send_id in sends.items():
        recv_id = recvs.get(key)
        if recv_id is not None:
            lines.append(f"  {send_id} -> {recv_id} [color=red, penwidth=2, "
                         f"label={_quote('shared memory')}, fontsize=8];")
    lines.append("}")
    return "\n".join(lines) + "\n"
