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
           "fill_step_stats", "add_device_stats", "fill_partition_graphs"]

_ALLOCATOR_NAME = "cpu"


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


def plan_entries(plan, ops, devices):
    """(node_name, timeline_label, device) per node of an in-process `plan`.

    The plan's nodes may differ from the step's ops: a fused elementwise chain is one node
    (``runtime/fusion.py``) that lists the ops it holds in ``attrs['fused_ops']`` and is shown
    as ``"fused_0 = _FusedElementwise(mul, add, exp)"``; other nodes map to their op through
    `plan.origins`.

    Args:
      plan: the `ExecPlan` compiled from `ops`.
      ops, devices: the step's ops in order, and the device of each.
    """
    entries = []
    for index, origin in enumerate(plan.origins.tolist()):
        device = devices[origin] if origin >= 0 else ""
        members = plan.attrs[index].get("fused_ops")
        if members:
            name = plan.names[index]
            label = f"{name} = {plan.op_types[index]}({', '.join(members)})"
        elif "ref_name" in plan.attrs[index]:   # a reference variable's read (ref_reads.py)
            name = plan.names[index]
            label = f"{name} = {plan.op_types[index]}({plan.attrs[index]['ref_name']})"
        else:
            op = ops[origin]
            name, label = op.name, timeline_label(op)
        entries.append((name, label, device))
    return entries


def _datatype_enum(numpy_dtype):
    if numpy_dtype is None:
        return 0
    try:
        if numpy_dtype == object:
            return dtypes.string.as_datatype_enum
        return dtypes.as_dtype(numpy_dtype).as_datatype_enum
    except (TypeError, ValueError, KeyError):
        return 0  # DT_INVALID: a dtype without a TF counterpart


def fill_step_stats(step_stats, entries, times, outputs, epoch_offset_ns):
    """Appends the stats of one in-process traced run: one `DeviceStepStats` per device.

    Args:
      entries: `plan_entries` of the plan that ran.
      times, outputs: as the traced loop filled them.
      epoch_offset_ns: added to `times` to give epoch nanoseconds.
    """
    thread_id = threading.get_native_id() & 0xFFFFFFFF
    thread_name = threading.current_thread().name
    rows_of_device = {}
    for index, (_, _, device) in enumerate(entries):
        rows_of_device.setdefault(device, []).append(index)
    for device, rows in rows_of_device.items():
        add_device_stats(step_stats, device, [entries[index][0] for index in rows],
                         [entries[index][1] for index in rows], times[rows],
                         [outputs[index] for index in rows], epoch_offset_ns, thread_id,
                         thread_name)


def add_device_stats(step_stats, device, names, labels, times, outputs, epoch_offset_ns,
                     thread_id, thread_name):
    """Appends one `DeviceStepStats` with a `NodeExecStats` per executed node.

    Args:
      step_stats: the `StepStats` to extend.
      device: the full device name.
      names, labels: per node, its name and its ``"name = Op(in1, in2)"`` timeline label.
      times: int64 ``[nodes, 4]``: start, kernel start, kernel end and end, in nanoseconds of
        a monotonic clock.
      outputs: per node, a ``(dtype, shape, nbytes)`` tuple per output (dtype: a numpy dtype,
        its ``str``, or None for a non-array value).
      epoch_offset_ns: added to `times` to give epoch (``time.time_ns``) nanoseconds.
      thread_id, thread_name: the thread (or process) that ran the nodes.

    Returns:
      The new `DeviceStepStats`.
    """
    device_stats = step_stats.dev_stats.add(device=device)
    device_stats.thread_names[thread_id] = thread_name
    for name, label, row, node_outputs in zip(names, labels, times.tolist(), outputs):
        started, kernel_started, kernel_ended, ended = row
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
            allocation.allocator_name = _ALLOCATOR_NAME
            total_bytes += int(nbytes)
        if node_outputs:
            stats.memory.add(allocator_name=_ALLOCATOR_NAME, total_bytes=total_bytes,
                             peak_bytes=total_bytes, live_bytes=total_bytes)
    return device_stats


def fill_partition_graphs(run_metadata, ops, devices):
    """Adds one `GraphDef` per device to `run_metadata.partition_graphs`, holding the nodes of
    `ops` that ran there (with their placed device), in execution order.

    Args:
      ops, devices: the step's ops in order, and the device of each.
    """
    from sessionlib.framework.graph import GRAPH_DEF_VERSION

    by_device = {}
    for op, device in zip(ops, devices):
        graph_def = by_device.get(device)
        if graph_def is None:
            graph_def = by_device[device] = run_metadata.partition_graphs.add()
            graph_def.versions.producer = GRAPH_DEF_VERSION
        node = graph_def.node.add()
        node.CopyFrom(graph_io.node_def_of(op))
        node.device = device
