"""Chrome trace (``chrome://tracing``, Perfetto) pictures of a traced step's `StepStats`.

The layout is TF's ``tensorflow/python/client/timeline.py``, so that traces from either library
look alike: a process named ``Allocators`` for memory counters, and per device two processes,
``"<device> Compute"`` with one complete ("X") event per executed op (named by its op type,
with ``args`` holding the node name, the op and its inputs) and ``"<device> Tensors"`` for
tensor objects when memory is shown. Ops that overlap in time on one device go to separate
lanes (tids), except a node that runs inside another on the same thread (a loop's body node
inside its ``While``, a branch's inside its ``If``: a thread runs one node at a time, so a
span holding another's on its thread is its caller): it goes to its caller's lane, where the
trace viewer nests it, so a loop shows as one parent slice over its iterations. A flow
arrow ("s" to "t") joins a tensor's producer to a consumer on another device or lane; in a
multi-device step, each `_Recv` is labelled with the tensor it receives
(``"y/_3 = _Recv(y)"``, node names as TF's partitioner gives them), so every transfer between
devices is an arrow from the producer to the receiving device, in our trace and in the one
TF's own `Timeline` makes of the same `RunMetadata` (tools/compare_tf_timeline.py checks it).

With ``show_memory=True`` the ``Allocators`` process also gets TF's per-allocator counter of
the tensors' lifetimes and, where the stats carry the devices' own figures
(``AllocatorMemoryUsed.allocator_bytes_in_use``, which sessionlib fills from each device's
memory account), one ``"<device> memory"`` counter per device: bytes in use after each node,
and the peak within the node (``memory_stats.temp_memory_size`` above it) at its start.
`peak_memory` gives each device's peak of the step from the same fields.

Times are microseconds since the epoch, fractional when the stats carry nanoseconds (sessionlib
ops are often shorter than a microsecond).

Usage::

    run_metadata = tf.RunMetadata()
    sess.run(fetches, options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE),
             run_metadata=run_metadata)
    trace = Timeline(run_metadata.step_stats).generate_chrome_trace_format()
    open("step.svg", "w").write(Timeline(run_metadata.step_stats).generate_svg())
"""

import collections
import json
import re

__all__ = ["Timeline", "AllocationMaximum", "StepStatsAnalysis", "peak_memory"]

AllocationMaximum = collections.namedtuple("AllocationMaximum",
                                           ["timestamp", "num_bytes", "tensors"])
StepStatsAnalysis = collections.namedtuple("StepStatsAnalysis",
                                           ["chrome_trace", "allocator_maximums"])

_LABEL = re.compile(r"(.*) = (.*)\((.*)\)")


class _ChromeTrace:
    """Collects Chrome trace events; metadata ("M") events come first in the output."""

    def __init__(self):
        self.metadata = []
        self.events = []

    def process(self, pid, name):
        self.metadata.append({"name": "process_name", "ph": "M", "pid": pid,
                              "args": {"name": name}})

    def thread(self, pid, tid, name):
        self.metadata.append({"name": "thread_name", "ph": "M", "pid": pid, "tid": tid,
                              "args": {"name": name}})

    def event(self, phase, category, name, pid, tid, timestamp, **fields):
        event = {"ph": phase, "cat": category, "name": name, "pid": pid, "tid": tid,
                 "ts": timestamp}
        event.update(fields)
        self.events.append(event)

    def as_dict(self):
        return {"traceEvents": self.metadata + self.events}


class _Node:
    """One NodeExecStats, with what the trace needs already worked out."""

    __slots__ = ("name", "op", "inputs", "start", "end", "lane", "outputs", "stats", "thread",
                 "depth", "parent")

    def __init__(self, stats):
        self.stats = stats
        self.name = stats.node_name
        match = _LABEL.match(stats.timeline_label)
        if match:
            self.op = match.group(2)
            self.inputs = [name for name in match.group(3).split(", ") if name]
        else:
            self.op = stats.timeline_label or stats.node_name
            self.inputs = []
        if stats.all_start_nanos:
            self.start = stats.all_start_nanos / 1000.0
            self.end = (stats.all_start_nanos + stats.all_end_rel_nanos) / 1000.0
        else:
            self.start = stats.all_start_micros
            self.end = stats.all_start_micros + stats.all_end_rel_micros
        self.lane = 0
        self.outputs = list(stats.output)
        self.thread = stats.thread_id
        self.depth = 0          # how many nodes it runs inside (see `_assign_lanes`)
        self.parent = None      # the node it runs inside, or None


class _Tensor:
    """A produced tensor: where and when it was made, its size, and when it was last read."""

    __slots__ = ("name", "object_id", "pid", "tensors_pid", "lane", "created", "ready",
                 "last_use", "allocator", "num_bytes")

    def __init__(self, name, object_id, pid, tensors_pid, lane, created, ready, allocator,
                 num_bytes):
        self.name = name
        self.object_id = object_id
        self.pid = pid
        self.tensors_pid = tensors_pid
        self.lane = lane
        self.created = created  # its memory is taken when the producer starts
        self.ready = ready  # and its value exists when the producer ends
        self.last_use = ready
        self.allocator = allocator
        self.num_bytes = num_bytes


class Timeline:
    """Turns a `StepStats` into a Chrome trace.

    Args:
      step_stats: the `StepStats` of a traced run (``run_metadata.step_stats``); it is not
        modified.
      graph: unused; accepted for TF compatibility.
    """

    def __init__(self, step_stats, graph=None):
        self._step_stats = step_stats
        self._graph = graph

    def generate_chrome_trace_format(self, show_dataflow=True, show_memory=False,
                                     op_time="schedule"):
        """The trace as a JSON string (indented, like TF's).

        Args:
          show_dataflow: add flow arrows from producers to consumers on other lanes/devices.
          show_memory: add tensor objects and per-allocator memory counters.
          op_time: accepted for TF compatibility; only 'schedule' times exist on CPUs.
        """
        analysis = self.analyze_step_stats(show_dataflow, show_memory, op_time)
        return json.dumps(analysis.chrome_trace.as_dict(), indent=4, separators=(",", ": "))

    def generate_svg(self, width=1000, show_memory=None, title=None):
        """The step as a self-contained SVG Gantt chart (`timeline_svg.render_svg`): a lane
        per device, a bar per op coloured by op type, an arrow per transfer between devices,
        and a memory line under each lane when the stats carry memory.

        Args:
          width: the picture's width in pixels.
          show_memory: None: a memory line when the stats carry memory figures; True: also
            estimated from tensor lifetimes otherwise; False: none.
          title: the caption; None: the devices and the step's length.

        Returns:
          The SVG document, a string.
        """
        from sessionlib.client import timeline_svg

        return timeline_svg.render_svg(self._step_stats, width=width, show_memory=show_memory,
                                       title=title)

    def analyze_step_stats(self, show_dataflow=True, show_memory=True, op_time="schedule"):
        """Builds the trace; returns a `StepStatsAnalysis` (trace, per-allocator maximum)."""
        trace = _ChromeTrace()
        allocators_pid = 0
        trace.process(allocators_pid, "Allocators")
        devices = []
        next_pid = 1
        for device_stats in self._step_stats.dev_stats:
            compute_pid, tensors_pid = next_pid, next_pid + 1
            next_pid += 2
            trace.process(compute_pid, f"{device_stats.device} Compute")
            trace.process(tensors_pid, f"{device_stats.device} Tensors")
            nodes = [_Node(stats) for stats in device_stats.node_stats]
            _assign_lanes(nodes)
            devices.append((compute_pid, tensors_pid, nodes))

        tensors = {}
        # Where each node ran and ended: a `_Recv` of a control edge ("_Recv(^first)") and
        # one labelled with its `_Send` (older sessionlib traces) draw their arrow from that
        # node, which may have no output.
        node_ends = {}
        for compute_pid, tensors_pid, nodes in devices:
            for node in nodes:
                node_ends[node.name] = (compute_pid, node.lane, node.end)
                for index, output in enumerate(node.outputs):
                    name = node.name if index == 0 else f"{node.name}:{index}"
                    allocation = output.tensor_description.allocation_description
                    tensor = _Tensor(name, len(tensors), compute_pid, tensors_pid, node.lane,
                                     node.start, node.end, allocation.allocator_name,
                                     allocation.requested_bytes)
                    tensors[name] = tensor
                    if show_memory:
                        trace.event("N", "Tensor", name, tensors_pid, node.lane, node.start,
                                    id=tensor.object_id)
                        trace.event("O", "Tensor", name, tensors_pid, node.lane, node.end,
                                    id=tensor.object_id,
                                    args={"snapshot": {"tensor_description": str(
                                        output.tensor_description).replace('"', "")}})

        flow_ids = 0
        for compute_pid, _, nodes in devices:
            for node in nodes:
                args = {"name": node.name, "op": node.op}
                for index, input_name in enumerate(node.inputs):
                    args[f"input{index}"] = input_name
                trace.event("X", "Op", node.op, compute_pid, node.lane, node.start,
                            dur=node.end - node.start, args=args)
                for input_name in node.inputs:
                    tensor = tensors.get(input_name)
                    if tensor is None and not input_name.startswith("^"):
                        # TF's rule: a received input "y/_3" that no node produced stands for
                        # the tensor "y" on the other device (TF traces no local _Recv).
                        index = input_name.rfind("/_")
                        if index > 0 and input_name[index + 2:].isdigit():
                            tensor = tensors.get(input_name[:index])
                    if tensor is not None:
                        tensor.last_use = max(tensor.last_use, node.end)
                        source = (tensor.pid, tensor.lane, tensor.ready)
                    elif node.op == "_Recv":
                        source = node_ends.get(input_name.lstrip("^"))
                        if source is None:
                            continue
                    else:
                        continue   # a control input, or a fed tensor that no node produced
                    source_pid, source_lane, ready = source
                    if show_dataflow and (source_pid != compute_pid or source_lane != node.lane):
                        trace.event("s", "DataFlow", input_name, source_pid, source_lane,
                                    ready, id=flow_ids)
                        # A receiver that waited for its value got it when it was ready:
                        # the arrow ends there, inside the receiving node's span.
                        arrival = min(max(node.start, ready), node.end)
                        trace.event("t", "DataFlow", input_name, compute_pid, node.lane,
                                    arrival, id=flow_ids)
                        flow_ids += 1

        maximums = {}
        if show_memory:
            maximums = _memory_counters(trace, tensors, allocators_pid)
            for device_stats, (_, _, nodes) in zip(self._step_stats.dev_stats, devices):
                _device_counters(trace, device_stats.device, nodes, allocators_pid)
        return StepStatsAnalysis(trace, maximums)


def _device_figures(stats):
    """``(in_use, peak)`` of the device during a node, from its `NodeExecStats`, or None when
    the stats carry no device figures."""
    for used in stats.memory:
        if used.allocator_bytes_in_use:
            in_use = used.allocator_bytes_in_use
            return in_use, in_use + stats.memory_stats.temp_memory_size
    return None


def peak_memory(step_stats):
    """Each device's peak bytes in use during a traced step.

    sessionlib fills, for each node, the device's bytes in use after it
    (``AllocatorMemoryUsed.allocator_bytes_in_use``) and what the node took and gave back
    (``memory_stats.temp_memory_size``); the device's peak during the node is their sum, and
    the step's peak is the largest of these. TF's CPU stats carry no such figures.

    Args:
      step_stats: a `StepStats` (``RunMetadata.step_stats``).

    Returns:
      A dict from device name to bytes; devices without figures are left out.
    """
    peaks = {}
    for device_stats in step_stats.dev_stats:
        for stats in device_stats.node_stats:
            figures = _device_figures(stats)
            if figures is not None:
                peaks[device_stats.device] = max(peaks.get(device_stats.device, 0),
                                                 figures[1])
    return peaks


def _device_counters(trace, device, nodes, allocators_pid):
    """A ``"<device> memory"`` counter: the device's peak within each node at the node's
    start, and its bytes in use at the node's end."""
    points = []
    for node in nodes:
        figures = _device_figures(node.stats)
        if figures is not None:
            points.append((node.start, figures[1]))
            points.append((node.end, figures[0]))
    name = f"{device} memory"
    for timestamp, num_bytes in sorted(points, key=lambda point: point[0]):
        trace.event("C", "Memory", name, allocators_pid, 0, timestamp,
                    args={"bytes in use": num_bytes})


def _assign_lanes(nodes):
    """Gives each node a lane: the lane of the node it runs inside (one that holds its span
    on the same thread, when the stats name threads; then `depth` and `parent` say so), else
    the first lane that is free when it starts (TF's lane rule)."""
    lanes = []   # per lane, the nodes open at the current start time, outermost first
    for node in sorted(nodes, key=lambda n: (n.start, -n.end)):   # callers first
        node.depth, node.parent = 0, None
        free = None
        for lane, open_nodes in enumerate(lanes):
            while open_nodes and open_nodes[-1].end <= node.start:
                open_nodes.pop()
            if not open_nodes:
                free = lane if free is None else free
                continue
            caller = open_nodes[-1]
            if node.thread and caller.thread == node.thread and node.end <= caller.end:
                node.lane, node.depth, node.parent = lane, caller.depth + 1, caller
                open_nodes.append(node)
                break
        else:
            if free is None:
                free = len(lanes)
                lanes.append([])
            node.lane = free
            lanes[free].append(node)


def _memory_counters(trace, tensors, allocators_pid):
    """Emits tensor deletions and a bytes-in-use counter series per allocator; returns each
    allocator's `AllocationMaximum`."""
    changes = collections.defaultdict(list)
    for name, tensor in tensors.items():
        trace.event("D", "Tensor", name, tensor.tensors_pid, 0, tensor.last_use,
                    id=tensor.object_id)
        changes[tensor.allocator].append((tensor.created, tensor.num_bytes, name))
        changes[tensor.allocator].append((tensor.last_use, -tensor.num_bytes, name))
    maximums = {}
    for allocator, events in changes.items():
        total, live = 0, set()
        best = AllocationMaximum(timestamp=0, num_bytes=0, tensors=set())
        for timestamp, num_bytes, name in sorted(events, key=lambda e: e[0]):
            total += num_bytes
            if num_bytes < 0:
                live.discard(name)
            else:
                live.add(name)
            if total > best.num_bytes:
                best = AllocationMaximum(timestamp=timestamp, num_bytes=total,
                                         tensors=set(live))
            trace.event("C", "Memory", allocator, allocators_pid, 0, timestamp,
                        args={allocator: total})
        maximums[allocator] = best
    return maximums
