"""A picture of placement: the partition graphs of a run as Graphviz DOT, one box per device.

Learners see where each op ran: every device is a coloured cluster, ops are nodes, data edges
are solid arrows, control edges dashed, and each `_Send` → `_Recv` pair (a tensor crossing
devices through shared memory) is a bold red arrow between clusters, labelled with the
tensor's dtype, and its shape and size when the run was traced. Fused elementwise chains show
as one node listing the ops they hold. Values the client fed (a placeholder's value goes
straight to every device that reads it, so no partition holds the placeholder) are grey
ellipses above the clusters, and the fetches, when named, are ellipses below them. With step
stats (a traced run's `RunMetadata`, or `step_stats=`), each op shows how long it ran.

    options = tf.RunOptions(output_partition_graphs=True,
                            trace_level=tf.RunOptions.FULL_TRACE)   # for times and sizes
    metadata = tf.RunMetadata()
    sess.run(y, options=options, run_metadata=metadata)
    open("placement.dot", "w").write(to_dot(metadata, fetches=[y]))
    # then: dot -Tsvg placement.dot -o placement.svg

A plain `GraphDef` (``graph.as_graph_def()`` whose nodes carry devices) works too: an edge
between nodes on two devices is drawn as a transfer. The layout runs top to bottom, inputs
above their consumers, so that a graph of a hundred ops grows downwards into a page rather
than sideways into a banner.

`to_dot` only formats text; rendering needs the Graphviz `dot` program.
"""

__all__ = ["to_dot"]

_PALETTE = ("#dbeafe", "#fde68a", "#bbf7d0", "#fecaca", "#e9d5ff", "#fed7aa", "#c7d2fe",
            "#99f6e4")
_SOURCE_COLUMNS = 2   # the most nodes without inputs side by side in one cluster
_TRANSFER = "color=\"#dc2626\", fontcolor=\"#991b1b\", penwidth=2"

# DataType enum -> TF's short name, for transfer labels (the common ones).
_DTYPES = {1: "float32", 2: "float64", 3: "int32", 4: "uint8", 5: "int16", 6: "int8",
           7: "string", 9: "int64", 10: "bool", 14: "bfloat16", 19: "float16"}


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


def _wrap(text, width=20, separators="/"):
    """`text` broken into DOT lines (``\\n``) of about `width` characters, after a
    separator where one is near: long scoped names make wide boxes, and wide boxes a wide
    picture."""
    lines, line = [], ""
    for piece in _split_after(text, separators):
        if line and len(line) + len(piece) > width:
            lines.append(line)
            line = ""
        line += piece
    lines.append(line)
    return "\\n".join(lines)


def _split_after(text, separators):
    pieces, piece = [], ""
    for char in text:
        piece += char
        if char in separators:
            pieces.append(piece)
            piece = ""
    if piece:
        pieces.append(piece)
    return pieces


def _bytes(count):
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if count >= size:
            return f"{count / size:.3g} {unit}"
    return f"{count} B"


def _duration(nanos):
    if nanos >= 1_000_000:
        return f"{nanos / 1e6:.3g} ms"
    if nanos >= 1000:
        return f"{nanos / 1e3:.3g} us"
    return f"{nanos} ns"


def _fetch_name(fetch):
    """'y:0' for a Tensor or a tensor name, 'train' for an Operation or an op name."""
    name = getattr(fetch, "name", fetch)
    return str(name)


def _node_of(tensor_name):
    """The node that produces a NodeDef input (``"^a"``, ``"a"``, ``"a:1"`` -> ``"a"``)."""
    return tensor_name.lstrip("^").split(":")[0]


def _stats_by_node(step_stats):
    """(device, node name) -> NodeExecStats."""
    by_device = {}
    if step_stats is not None:
        for device_stats in step_stats.dev_stats:
            for stats in device_stats.node_stats:
                by_device[(device_stats.device, stats.node_name)] = stats
    return by_device


def _elapsed_nanos(stats):
    if stats.all_start_nanos:
        return stats.all_end_rel_nanos
    return stats.all_end_rel_micros * 1000


def _tensor_label(stats, dtype_enum):
    """A transfer's label: ``"float32 [64, 256]\\n64 KiB"``, from the stats of the node whose
    output crossed (its first output), or just the dtype when the run was not traced."""
    dtype = _DTYPES.get(dtype_enum, "") if dtype_enum else ""
    if stats is None or not stats.output:
        return dtype or "tensor"
    description = stats.output[0].tensor_description
    dtype = _DTYPES.get(description.dtype, dtype)
    shape = "[" + ", ".join(str(dim.size) for dim in description.shape.dim) + "]"
    size = description.allocation_description.requested_bytes
    return f"{dtype} {shape}\\n{_bytes(size)}".strip()


def to_dot(run_metadata_or_graphs, title="sessionlib placement", fetches=None,
           step_stats=None):
    """Graphviz DOT text for the partition graphs of a run.

    Args:
      run_metadata_or_graphs: a `RunMetadata` filled with ``output_partition_graphs=True``
        (and ``trace_level=FULL_TRACE`` for op times and transfer sizes), a `GraphDef` whose
        nodes carry their device, or an iterable of such `GraphDef`s.
      title: the graph's label.
      fetches: the run's fetches (Tensors, Operations or their names), drawn below the
        graph; None draws none (partition graphs do not record them).
      step_stats: the `StepStats` of a traced run of the same step, for per-op times and the
        shape and size of each transfer; None: the `RunMetadata`'s own, if it has any.

    Returns:
      The DOT source, a string.

    Raises:
      ValueError: if there are no graphs (the run did not ask for partition graphs).
    """
    if step_stats is None and hasattr(run_metadata_or_graphs, "step_stats"):
        step_stats = run_metadata_or_graphs.step_stats
    if hasattr(run_metadata_or_graphs, "node"):
        graphs = [run_metadata_or_graphs]
    else:
        graphs = list(getattr(run_metadata_or_graphs, "partition_graphs",
                              run_metadata_or_graphs))
    if not any(len(graph_def.node) for graph_def in graphs):
        raise ValueError("No partition graphs: run with "
                         "RunOptions(output_partition_graphs=True) and pass its RunMetadata.")
    stats_at = _stats_by_node(step_stats)
    lines = ["digraph placement {",
             f"  label={_quote(title)}; labelloc=t; rankdir=TB; newrank=true;",
             "  nodesep=0.15; ranksep=0.3; fontname=Helvetica;",
             "  node [shape=box, style=\"rounded,filled\", fillcolor=white, fontsize=10, "
             "fontname=Helvetica, margin=\"0.08,0.03\", height=0.3];",
             "  edge [fontsize=8, fontname=Helvetica, arrowsize=0.6];"]
    devices, ids, by_name = [], {}, {}
    for graph_def in graphs:
        for node in graph_def.node:
            if node.device not in devices:
                devices.append(node.device)
            ids[(node.device, node.name)] = node_id = f"n{len(ids)}"
            by_name.setdefault(node.name, (node.device, node_id, node))
    for graph_def in graphs:   # a fused chain's members are found at the fused node
        for node in graph_def.node:
            for member in (_attr_string(node, "fused_ops") or "").split(", "):
                if member:
                    by_name.setdefault(member, by_name[node.name])
    sends, recvs = {}, {}
    for index, device in enumerate(devices):
        lines.append(f"  subgraph cluster_{index} {{")
        sources = []
        # The short name large, the full one small: a narrow cluster title.
        label = (f"<<b>{_short_device(device)}</b><br/><font point-size=\"8\">{device}"
                 "</font>>") if device else _quote("(no device)")
        lines.append(f"    label={label}; style=filled; "
                     f"fillcolor={_quote(_PALETTE[index % len(_PALETTE)])};")
        for graph_def in graphs:
            for node in graph_def.node:
                if node.device != device:
                    continue
                node_id = ids[(device, node.name)]
                label = f"{_wrap(node.name)}\\n({node.op})"
                fused = _attr_string(node, "fused_ops")
                if fused:
                    label += "\\n" + _wrap(f"[{fused}]", 40, ", ")
                stats = stats_at.get((device, node.name))
                if stats is not None:
                    label += f"\\n{_duration(_elapsed_nanos(stats))}"
                shape = ""
                if node.op in ("_Send", "_Recv"):
                    # Both ends of a transfer name the tensor and the two devices.
                    edge = tuple(_attr_string(node, key) for key in
                                 ("tensor_name", "send_device", "recv_device"))
                    (sends if node.op == "_Send" else recvs)[edge] = (node_id, node, stats)
                    shape = ", shape=cds, fillcolor=\"#fca5a5\""
                lines.append(f"    {node_id} [label={_quote(label)}{shape}];")
                if not node.input:
                    sources.append(node_id)
        # Graphviz puts every node without inputs (constants, variables, receives) on the top
        # rank, side by side: a training step's dozens of them make a banner. Stacking them
        # in a few invisible columns (as Graphviz's `unflatten` does) keeps the cluster
        # narrow.
        for upper, lower in zip(sources, sources[_SOURCE_COLUMNS:]):
            lines.append(f"    {upper} -> {lower} [style=invis];")
        lines.append("  }")

    feeds, edges = {}, []
    for graph_def in graphs:
        for node in graph_def.node:
            target = ids[(node.device, node.name)]
            for source in node.input:
                control = source.startswith("^")
                name = _node_of(source)
                origin = ids.get((node.device, name))
                if origin is not None:
                    edge = f"  {origin} -> {target}{' [style=dashed]' if control else ''};"
                elif name in by_name:
                    # A plain GraphDef: the producer is on another device.
                    producer_device, origin, producer = by_name[name]
                    stats = stats_at.get((producer_device, name))
                    text = "control" if control else _tensor_label(
                        stats, producer.attr["T"].type if "T" in producer.attr else 0)
                    style = ", style=dashed" if control else ""
                    edge = (f"  {origin} -> {target} [{_TRANSFER}{style}, "
                            f"label={_quote(text)}];")
                elif control:
                    continue   # a control input the run did not need
                else:
                    # Fed by the client: no partition holds the placeholder.
                    tensor = source if ":" in source else source + ":0"
                    if tensor not in feeds:
                        feeds[tensor] = f"feed{len(feeds)}"
                    edge = f"  {feeds[tensor]} -> {target};"
                if edge not in edges:   # (an op that reads one tensor twice: one arrow)
                    edges.append(edge)
    for tensor, feed_id in feeds.items():
        lines.append(f"  {feed_id} [label={_quote('feed ' + tensor)}, shape=ellipse, "
                     "style=filled, fillcolor=\"#e5e7eb\"];")
    lines += edges
    for key, (send_id, send, send_stats) in sends.items():
        found = recvs.get(key)
        if found is None:
            continue
        recv_id, recv, recv_stats = found
        dtype = send.attr["T"].type if "T" in send.attr else recv.attr["tensor_type"].type
        control = key[0] is not None and key[0].startswith("^")
        text = "control" if control else _tensor_label(recv_stats, dtype)
        style = ", style=dashed" if control else ""
        lines.append(f"  {send_id} -> {recv_id} [{_TRANSFER}{style}, label={_quote(text)}];")
    for index, fetch in enumerate(fetches or ()):
        name = _fetch_name(fetch)
        found = by_name.get(_node_of(name))
        if found is None:
            continue   # fetched a fed value: it never reached a device
        lines.append(f"  fetch{index} [label={_quote('fetch ' + name)}, shape=ellipse, "
                     "style=filled, fillcolor=\"#d1fae5\"];")
        lines.append(f"  {found[1]} -> fetch{index};")
    lines.append("}")
    return "\n".join(lines) + "\n"
