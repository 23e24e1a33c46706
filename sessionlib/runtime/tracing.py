"""Traced runs: `RunOptions.trace_level` and `output_partition_graphs` fill `RunMetadata`.

A run that asks for tracing hands its step a `TraceRequest` (`trace_request`); an untraced run
hands None and pays nothing. Each runtime fills the request its own way: the in-process step
runs the executor's traced loop, device workers run it in their processes and report back.
The traced loop records four timestamps per node (start, kernel start, kernel end, end) into a
preallocated int64 array and a description of each output; this module turns them into TF's
`StepStats`: one `DeviceStepStats` per device that ran something, one `NodeExecStats` per
executed node, with TF's `timeline_label` (``"name = Op(in1, in2)"``) so that
`sessionlib.client.timeline` and TF's own tools read them.
"""

import threading

import numpy as np

from sessionlib import dtypes
from sessionlib.framework import graph_io

__all__ = ["TraceRequest", "trace_request", "timeline_label", "plan_entries",
           "function_labels", "fill_step_stats", "annotated", "add_device_stats",
           "fill_partition_graphs", "REWRITTEN_FROM", "rewritten_label", "rewritten_node_def",
           "fused_node_def", "value_names", "input_names", "node_memory", "MEMORY_COLUMNS"]

# The attr of a node that a graph rewrite made (``runtime/optimizer``): the names of the ops
# it replaced.
REWRITTEN_FROM = "_rewritten_from"

_ALLOCATOR_NAME = "cpu"

# The width of a traced run's `times` rows with the memory figures (`node_memory`): four
# timestamps, then the device's bytes in use at the node's start and end, and its peak between.
MEMORY_COLUMNS = 7


class TraceRequest:
    """What a traced run records, and where.

    Attributes:
      run_metadata: the `RunMetadata` to fill; a step clears it only after the run succeeded.
      step_stats: record per-node `step_stats` (a trace level above NO_TRACE).
      partition_graphs: record each device's partition as a `GraphDef`.
    """

    __slots__ = ("run_metadata", "step_stats", "partition_graphs")

    def __init__(self, run_metadata, step_stats, partition_graphs):
        self.run_metadata = run_metadata
        self.step_stats = step_stats
        self.partition_graphs = partition_graphs


def trace_request(options, run_metadata):
    """The `TraceRequest` of a run, or None when it records nothing.

    Args:
      options: the run's `RunOptions`.
      run_metadata: the `RunMetadata` the caller passed, or None (then nothing is recorded).
    """
    if run_metadata is None or not (options.trace_level > 0
                                    or options.output_partition_graphs):
        return None
    return TraceRequest(run_metadata, options.trace_level > 0, options.output_partition_graphs)


def timeline_label(op):
    """TF's label of a node in traces: ``"name = Op(in1, in2, ^ctrl)"``."""
    inputs = [graph_io.input_name(t) for t in op._inputs]
    inputs.extend(f"^{c.name}" for c in op._control_inputs)
    return f"{op.name} = {op.type}({', '.join(inputs)})"


def plan_entries(plan, ops, devices, nodes=None):
    """(node_name, timeline_label, device) per node of an in-process `plan`.

    The plan's nodes may differ from the step's ops: a fused elementwise chain is one node
    (``runtime/fusion.py``) that lists the ops it holds in ``attrs['fused_ops']`` and is shown
    as ``"fused_0 = _FusedElementwise(mul, add, exp)"``; a node a graph rewrite made names what
    it replaced (``"y/_rewrite_0 = Const() [folded: a, b, mul, y]"``); other nodes map to their
    op through `plan.origins`.

    Args:
      plan: the `ExecPlan` compiled from `ops`.
      ops, devices: the step's ops in order, and the device of each.
      nodes: the `plan.Node`s the plan was compiled from (needed to label rewritten nodes).
    """
    producers = value_names(nodes) if nodes is not None else {}
    entries = []
    for index, origin in enumerate(plan.origins.tolist()):
        device = devices[origin] if origin >= 0 else ""
        attrs = plan.attrs[index]
        members = attrs.get("fused_ops")
        if members and REWRITTEN_FROM not in attrs:   # (_FusedMatMul has TF's fused_ops)
            name = plan.names[index]
            label = f"{name} = {plan.op_types[index]}({', '.join(members)})"
        elif nodes is not None and not _is_its_op(nodes[index], ops):
            node = nodes[index]
            name = node.name
            label = rewritten_label(node, input_names(node, producers))
        elif "ref_name" in plan.attrs[index]:   # a reference variable's read (ref_reads.py)
            name = plan.names[index]
            label = f"{name} = {plan.op_types[index]}({plan.attrs[index]['ref_name']})"
        else:
            op = ops[origin]
            name, label = op.name, timeline_label(op)
        entries.append((name, label, device))
    return entries


def function_labels(plan, ops):
    """The timeline label of each node of a function's `plan` compiled from graph ops `ops`
    (``plan.compile_function``): the op's own label, a fused chain's members, or for a node
    the rewrites made, its name and type and what it replaced."""
    labels = []
    for index, origin in enumerate(plan.origins.tolist()):
        attrs = plan.attrs[index]
        name = plan.names[index]
        members = attrs.get("fused_ops")
        if members and REWRITTEN_FROM not in attrs:
            labels.append(f"{name} = {plan.op_types[index]}({', '.join(members)})")
        elif 0 <= origin < len(ops) and ops[origin].name == name \
                and REWRITTEN_FROM not in attrs:
            labels.append(timeline_label(ops[origin]))
        elif REWRITTEN_FROM in attrs:
            kind = attrs.get("_rewrite_kind") or ("folded" if plan.op_types[index] == "Const"
                                                  else "rewritten")
            labels.append(f"{name} = {plan.op_types[index]}() "
                          f"[{kind}: {', '.join(attrs[REWRITTEN_FROM])}]")
        else:
            labels.append(f"{name} = {plan.op_types[index]}()")
    return labels


def _is_its_op(node, ops):
    """Whether `node` is its graph op unchanged (not a node a rewrite or the runtime made)."""
    return (REWRITTEN_FROM not in node.attrs and node.origin >= 0
            and ops[node.origin].name == node.name)


def value_names(nodes):
    """The `NodeDef` input name of each value that no graph op of its tensor's name produces
    in `nodes`: the outputs of rewritten nodes (``'y/_rewrite_0'``) and the values a rewrite
    introduced (`optimizer.RewrittenValue`), whichever node computes them."""
    names = {}
    for node in nodes:
        rewritten = REWRITTEN_FROM in node.attrs
        for index, key in enumerate(node.outputs):
            if rewritten or not (hasattr(key, "op") or isinstance(key, tuple)):
                names[key] = node.name if index == 0 else f"{node.name}:{index}"
    return names


def input_names(node, producers):
    """The `NodeDef` input names of `node`'s graph-valued inputs (`producers`: from
    `value_names`; received values, tuples, are the partitioner's to name)."""
    names = []
    for key in node.inputs:
        found = producers.get(key)
        if found is None:
            found = graph_io.input_name(key) if hasattr(key, "op") else str(key)
        names.append(found)
    return names


def _rewrite_note(node):
    """``" [folded: a, b, mul]"``: what a rewritten node replaced ('' for another node)."""
    if REWRITTEN_FROM not in node.attrs:
        return ""
    kind = node.attrs.get("_rewrite_kind") or ("folded" if node.op_type == "Const"
                                               else "rewritten")
    return f" [{kind}: {', '.join(node.attrs[REWRITTEN_FROM])}]"


def rewritten_label(node, inputs):
    """The trace label of a node a graph rewrite (or the runtime) made: TF's
    ``"name = Op(in1, in2)"`` and what it replaced, e.g.
    ``"y/_rewrite_0 = Const() [folded: a, b, mul, y]"``."""
    return f"{node.name} = {node.op_type}({', '.join(inputs)}){_rewrite_note(node)}"


def rewritten_node_def(node, inputs, device):
    """The `NodeDef` of a node a graph rewrite (or the runtime) made: its own op type, inputs
    and attrs (those with an `AttrValue` form), and ``_rewritten_from``, the names of the ops
    it replaced."""
    from sessionlib.protos import node_def_pb2

    node_def = node_def_pb2.NodeDef(name=node.name, op=node.op_type, device=device)
    node_def.input.extend(inputs)
    node_def.input.extend(f"^{name}" for name in node.controls)
    for key, value in node.attrs.items():
        if key.startswith("_") or value is None:
            continue
        try:
            node_def.attr[key].CopyFrom(graph_io.attr_value_of(value))
        except (TypeError, ValueError):
            del node_def.attr[key]      # a runtime-only value: the op type says enough
    if REWRITTEN_FROM in node.attrs:
        node_def.attr[REWRITTEN_FROM].list.s.extend(
            name.encode("utf-8") for name in node.attrs[REWRITTEN_FROM])
    return node_def


def fused_node_def(node, inputs, device):
    """The `NodeDef` of a ``_FusedElementwise`` node: its inputs (control inputs included),
    and its members' names and types (``fused_ops``, ``fused_types``)."""
    from sessionlib.protos import node_def_pb2

    node_def = node_def_pb2.NodeDef(name=node.name, op=node.op_type, device=device)
    node_def.input.extend(inputs)
    for key in ("fused_ops", "fused_types"):
        node_def.attr[key].list.s.extend(item.encode("utf-8") for item in node.attrs[key])
    dtype = node.attrs.get("T")
    if dtype is not None and hasattr(dtype, "as_datatype_enum"):
        node_def.attr["T"].type = dtype.as_datatype_enum
    return node_def


def _datatype_enum(numpy_dtype):
    if numpy_dtype is None:
        return 0
    try:
        if numpy_dtype == object:
            return dtypes.string.as_datatype_enum
        return dtypes.as_dtype(numpy_dtype).as_datatype_enum
    except (TypeError, ValueError, KeyError):
        return 0  # DT_INVALID: a dtype without a TF counterpart


def annotated(entries, annotations):
    """`entries` (from `plan_entries`) with each kernel's run-time note (``RunContext.
    annotations``) added to its node's label: ``"while = While(...) [1000 iterations]"``."""
    if not annotations:
        return entries
    return [(name, f"{label} [{annotations[name]}]" if name in annotations else label, device)
            for name, label, device in entries]


def fill_step_stats(step_stats, entries, times, outputs, epoch_offset_ns,
                    function_trace=None):
    """Appends the stats of one in-process traced run: one `DeviceStepStats` per device.

    Args:
      entries: `plan_entries` of the plan that ran.
      times, outputs: as the traced loop filled them.
      epoch_offset_ns: added to `times` to give epoch nanoseconds.
      function_trace: the run's `function_trace.FunctionTrace` (the nodes its ``If`` and
        ``While`` ops ran), or None; its rows go to the device of their function op.
    """
    from sessionlib.runtime import function_trace as function_trace_lib

    thread_id = threading.get_native_id() & 0xFFFFFFFF
    thread_name = threading.current_thread().name
    rows_of_device = {}
    for index, (_, _, device) in enumerate(entries):
        rows_of_device.setdefault(device, []).append(index)
    for device, rows in rows_of_device.items():
        names = [entries[index][0] for index in rows]
        merged = function_trace_lib.merged_rows(
            names, [entries[index][1] for index in rows], times[rows],
            [outputs[index] for index in rows], function_trace,
            owners=set(names) if len(rows_of_device) > 1 else None)
        add_device_stats(step_stats, device, *merged, epoch_offset_ns, thread_id,
                         thread_name)


def add_device_stats(step_stats, device, names, labels, times, outputs, epoch_offset_ns,
                     thread_id, thread_name):
    """Appends one `DeviceStepStats` with a `NodeExecStats` per executed node.

    Args:
      step_stats: the `StepStats` to extend.
      device: the full device name.
      names, labels: per node, its name and its ``"name = Op(in1, in2)"`` timeline label.
      times: int64 ``[nodes, 4]``: start, kernel start, kernel end and end, in nanoseconds of
        a monotonic clock; or ``[nodes, 7]``, with the device's memory figures of each node
        (bytes in use at its start, once its outputs were stored, and the most in between;
        see `node_memory`).
      outputs: per node, a ``(dtype, shape, nbytes)`` tuple per output (dtype: a numpy dtype,
        its ``str``, or None for a non-array value).
      epoch_offset_ns: added to `times` to give epoch (``time.time_ns``) nanoseconds.
      thread_id, thread_name: the thread (or process) that ran the nodes.

    Returns:
      The new `DeviceStepStats`.
    """
    device_stats = step_stats.dev_stats.add(device=device)
    device_stats.thread_names[thread_id] = thread_name
    from sessionlib.runtime import memory

    allocator = memory.allocator_name(device) if device else _ALLOCATOR_NAME   # GPU_<i>_bfc
    measured = times.shape[1] >= 7
    for name, label, row, node_outputs in zip(names, labels, times.tolist(), outputs):
        started, kernel_started, kernel_ended, ended = row[:4]
        start_ns = started + epoch_offset_ns
        stats = device_stats.node_stats.add(
            node_name=name,
            all_start_micros=start_ns // 1000,
            op_start_rel_micros=(kernel_started - started) // 1000,
            op_end_rel_micros=(kernel_ended - started) // 1000,
            all_end_rel_micros=(ended - started) // 1000,
            scheduled_micros=start_ns // 1000,
            all_start_nanos=start_ns,
            op_start_rel_nanos=kernel_started - started,
            op_end_rel_nanos=kernel_ended - started,
            all_end_rel_nanos=ended - started,
            scheduled_nanos=start_ns,
            timeline_label=label,
            thread_id=thread_id,
        )
        total_bytes = 0
        for slot, (numpy_dtype, shape, nbytes) in enumerate(node_outputs):
            output = stats.output.add(slot=slot)
            description = output.tensor_description
            description.dtype = _datatype_enum(
                np.dtype(numpy_dtype) if isinstance(numpy_dtype, str) else numpy_dtype)
            description.shape.SetInParent()
            for size in shape:
                description.shape.dim.add(size=int(size))
            allocation = description.allocation_description
            allocation.requested_bytes = int(nbytes)
            allocation.allocated_bytes = int(nbytes)
            allocation.allocator_name = allocator
            total_bytes += int(nbytes)
        if measured:
            held, peak, temp, in_use = node_memory(*row[4:7])
            stats.memory_stats.temp_memory_size = temp
            if peak:
                stats.memory.add(allocator_name=allocator, total_bytes=held, peak_bytes=peak,
                                 live_bytes=held, allocator_bytes_in_use=in_use)
        elif node_outputs:
            stats.memory.add(allocator_name=allocator, total_bytes=total_bytes,
                             peak_bytes=total_bytes, live_bytes=total_bytes)
    return device_stats


def node_memory(before, after, peak):
    """A node's memory figures in TF's fields, from its device account's figures.

    Args:
      before, after, peak: the device's bytes in use when the node started, once its outputs
        were stored (its inputs not yet released), and the most in use in between.

    Returns:
      ``(held, node_peak, temp, in_use)``: the bytes the node allocated and still held at its
      end (`AllocatorMemoryUsed.total_bytes` and ``live_bytes``; an output that aliases an
      input holds nothing, as in TF), the most it held at once (``peak_bytes``), what it took
      and gave back (`MemoryStats.temp_memory_size`: ``node_peak - held``), and the device's
      bytes in use after it (``allocator_bytes_in_use``). The device's peak during the node
      is ``in_use + temp``, so the step's peak per device is the maximum of that over its
      nodes (`sessionlib.client.timeline.peak_memory`). Frees by other threads during the
      node can make ``after`` lower than ``before``: the figures never go negative.
    """
    peak = max(peak, before, after)
    held = max(after - before, 0)
    node_peak = max(peak - before, held)
    return held, node_peak, node_peak - held, after


def fill_partition_graphs(run_metadata, ops, devices, nodes=None):
    """Adds one `GraphDef` per device to `run_metadata.partition_graphs`, holding the nodes
    that ran there (with their placed device), in execution order.

    Args:
      ops, devices: the step's ops in order, and the device of each.
      nodes: the `plan.Node`s of the in-process plan as it runs; then a fused chain is one
        ``_FusedElementwise`` node and a rewritten node is written as it runs (see
        `rewritten_node_def`). None: the ops themselves.
    """
    from sessionlib.framework.graph import GRAPH_DEF_VERSION

    by_device = {}

    def graph_of(device):
        graph_def = by_device.get(device)
        if graph_def is None:
            graph_def = by_device[device] = run_metadata.partition_graphs.add()
            graph_def.versions.producer = GRAPH_DEF_VERSION
        return graph_def

    if nodes is None:
        for op, device in zip(ops, devices):
            node_def = graph_of(device).node.add()
            node_def.CopyFrom(graph_io.node_def_of(op))
            node_def.device = device
        return
    producers = value_names(nodes)
    op_by_name = None
    for node in nodes:
        device = devices[node.origin] if node.origin >= 0 else ""
        if node.attrs.get("fused_ops") and REWRITTEN_FROM not in node.attrs:
            if op_by_name is None:
                op_by_name = {op.name: op for op in ops}
            inputs = input_names(node, producers)
            for member in node.attrs["fused_ops"]:
                op = op_by_name.get(member)
                if op is not None:
                    inputs += [f"^{c.name}" for c in op._control_inputs
                               if f"^{c.name}" not in inputs]
            graph_of(device).node.add().CopyFrom(fused_node_def(node, inputs, device))
        elif not _is_its_op(node, ops):
            graph_of(device).node.add().CopyFrom(
                rewritten_node_def(node, input_names(node, producers), device))
        else:
            op = ops[node.origin]
            node_def = graph_of(device).node.add()
            node_def.CopyFrom(graph_io.node_def_of(op))
            del node_def.input[:]
            node_def.input.extend(input_names(node, producers))
            node_def.input.extend(f"^{c.name}" for c in op._control_inputs)
            node_def.device = device
