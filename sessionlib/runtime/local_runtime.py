"""The in-process runtime: every device of the session runs in the client, on its executor.

Design. A `LocalStep` is one `ExecPlan` for the whole step (placement still runs, for traces,
partition graphs and device errors, but the devices share this process), bound once to the
executor. `LocalStep.run` is the latency path of a one-device session: it lays the feeds into a
fresh slot list, calls the executor's loop directly (for the Cython executor, a compiled
function with no Python frame in between) and picks the fetches out. It must not gain Python
calls or allocations: each costs a measurable share of a ~6 us step.

The kernels use this process's resource container, and the in-process elementwise kernels take
their thread count from the session's ``intra_op_parallelism_threads`` (process-wide, like
TF's intra-op pool); setting it here keeps the client away from compiled code.
"""

import time

import numpy as np

from sessionlib import errors
from sessionlib._core import device_memory, elementwise
from sessionlib.runtime import context, cores, failures, function_trace, interface, memory
from sessionlib.runtime import optimizer, tracing
from sessionlib.runtime import plan as plan_lib
from sessionlib.runtime.failures import NodeFailure
from sessionlib.runtime.interface import fetched_value

__all__ = ["LocalRuntime", "LocalStep"]


class LocalStep(interface.Step):
    """A step compiled into one plan and bound to an in-process executor.

    Attributes:
      plan: the `ExecPlan` (its `origins` map nodes to `ops`).
      ops, devices: the step's ops in order, and the device of each.
      nodes: the `plan.Node`s the plan was compiled from, after the rewrites and fusion
        (traces and partition graphs describe them).
      num_slots: the size of the slot list a run uses.
    """

    __slots__ = ("graph_version", "plan", "ops", "devices", "nodes", "num_slots", "_executor",
                 "_bound", "_run_plan", "_feed_slots", "_fetches", "_memory", "_handler")

    def __init__(self, executor, plan, feed_slots, fetch_slots, fetch_kept, ops, devices,
                 nodes=None, account=None):
        self.plan = plan
        self.ops = ops
        self.devices = devices
        self.nodes = nodes
        self.num_slots = plan.num_slots
        self._executor = executor
        self._bound = executor.bind(plan)
        self._run_plan = executor.run_plan
        self._feed_slots = tuple(feed_slots)
        # Per fetch: its slot, and whether its buffer is handed out as it is (a fed fetch, or
        # any fetch of a raw step) rather than through `fetched_value`.
        self._fetches = tuple(zip(fetch_slots, fetch_kept))
        # The device's memory account: its handler charges every array the kernels allocate.
        self._memory = account
        self._handler = None if account is None else account.handler

    def run(self, feed_values, run_context, trace=None):
        slots = [None] * self.num_slots
        for number, value in zip(self._feed_slots, feed_values):
            slots[number] = value
        previous = _set_handler(self._handler) if self._handler is not None else None
        try:
            if trace is None:
                self._run_plan(self._bound, slots, run_context, NodeFailure)
            else:
                self._run_traced(slots, run_context, trace)
        except NodeFailure as failure:
            cause = failure.cause
            if isinstance(cause, MemoryError) and self._memory is not None:
                cause = memory.oom_error(self._memory, cause, memory.live_tensors(
                    self.plan, slots, run_context.resources)) or cause
            error = failures.node_error(self.plan, failure.plan_node, self.ops, self.devices,
                                        cause, failure.origin)
            if run_context.cancellation.cancelled and not isinstance(error,
                                                                     errors.CancelledError):
                # The session closed while this run was in its kernels, and the close freed
                # the resources a kernel then missed: to the caller, as in TF (and as the
                # workers' runs answer), the close cancelled the run.
                cancelled = errors.CancelledError(None, None,
                                                  "Session has been closed or reset.")
                raise cancelled from error
            raise error from None
        finally:
            if self._handler is not None:
                _set_handler(previous)
        return [slots[number] if kept else fetched_value(slots[number])
                for number, kept in self._fetches]

    def _run_traced(self, slots, run_context, trace):
        """The run with the executor's traced loop (only when step stats are asked for);
        fills `trace.run_metadata` once the run succeeded."""
        run_metadata = trace.run_metadata
        if not trace.step_stats:
            self._run_plan(self._bound, slots, run_context, NodeFailure)
            run_metadata.Clear()
        else:
            executor = self._executor
            entries = tracing.plan_entries(self.plan, self.ops, self.devices, self.nodes)
            measure = self._memory
            times = np.zeros((len(entries), 4 if measure is None else tracing.MEMORY_COLUMNS),
                             dtype=np.int64)
            outputs = [()] * len(entries)
            # The traced loop reads a monotonic clock; this offset turns it into the
            # wall-clock (epoch) time that TF's all_start_micros holds.
            epoch_offset_ns = time.time_ns() - executor.trace_clock_ns()
            run_context.annotations = {}
            run_context.function_trace = function_trace.FunctionTrace()
            executor.run_plan_traced(self._bound, slots, run_context, NodeFailure, times,
                                     outputs, measure)
            run_metadata.Clear()
            tracing.fill_step_stats(run_metadata.step_stats,
                                    tracing.annotated(entries, run_context.annotations),
                                    times, outputs, epoch_offset_ns,
                                    run_context.function_trace)
        if trace.partition_graphs:
            tracing.fill_partition_graphs(run_metadata, self.ops, self.devices, self.nodes)


_set_handler = device_memory.set_handler


class LocalRuntime(interface.Runtime):
    """Runs a session's steps in this process.

    Args:
      graph, placer, fuse: as for `interface.Runtime`.
      executor: the executor that runs the plans (``runtime/executor.py``).
      threads: the kernel threads of the in-process elementwise kernels.
    """

    def __init__(self, graph, placer, fuse, executor, threads, rewrites=None):
        super().__init__(graph, placer, fuse, rewrites)
        elementwise.set_num_threads(threads)
        # GEMMs too: below OpenBLAS's own count (all cores), a matmul runs on `threads`.
        cores.ensure_blas()
        self._executor = executor
        self.resources = context.ResourceContainer()
        # One account for the session's devices (an in-process session has one device).
        device = self.device_names[0]
        self.memory = device_memory.DeviceMemory(
            device, memory.default_memory_limit(memory.device_type(device)),
            memory.allocator_name(device))

    def configure_memory(self, limits):
        self.memory.limit = limits[0]

    def _memory_usage(self):
        return [self.memory.stats()] * len(self.device_names)

    def _compile_placed(self, order, devices, feed_tensors, fetch_tensors, raw):
        # The rewrites run here rather than inside compile_plan, so that the step keeps the
        # nodes that really run: traces and partition graphs describe them.
        nodes = [plan_lib.Node.of_op(op, index) for index, op in enumerate(order)]
        nodes = plan_lib.rewrite(nodes, feed_tensors, fetch_tensors, self._fuse,
                                 self._rewrites)
        plan, feed_slots, fetch_slots = plan_lib.compile_nodes(
            nodes, feed_tensors, fetch_tensors, fuse=False, rewrites=optimizer.NONE,
            function_options=(self._fuse, self._rewrites))
        fed = set(feed_tensors)
        fetch_kept = [raw or tensor in fed for tensor in fetch_tensors]
        return LocalStep(self._executor, plan, feed_slots, fetch_slots, fetch_kept, order,
                         devices, nodes, self.memory)

    def clear_containers(self, containers):
        self.resources.clear_containers(containers)

    def close(self):
        self.resources.clear()
        self._forget_steps()
