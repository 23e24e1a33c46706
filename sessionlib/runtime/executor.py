"""Executors run an `ExecPlan` over a list of buffer slots.

Two implementations share one interface:

* `ReferenceExecutor`: a plain Python loop over the plan calling the reference (numpy) kernels.
  It is the living spec and checks the kernel contract (outputs are ndarrays, counts match).
* `CythonExecutor`: ``sessionlib._core.executor``, the same loop in Cython with the fast
  kernels; it trusts the contract.

Both are stateless: `bind` prepares a plan once, and `run_plan(bound, slots, ctx,
failure_type)` runs it. `run_plan` is the loop itself (the Cython function, no wrapper), so a
step calls it with no Python frame in between. A failing node is reported by raising
``failure_type(plan_node, cause)`` with the node's position in the plan (the compiled core may
not import the runtime, so the runtime hands it `failures.NodeFailure`); the step that owns the
plan turns that into an `OpError` (``runtime/failures.py``). Select an executor with
``SESSIONLIB_EXECUTOR=reference|cython`` or `set_default_executor`.
"""

import time

import numpy as np

from sessionlib.runtime import kernel_table, settings
from sessionlib.runtime.plan import bind_kernels

__all__ = ["ReferenceExecutor", "CythonExecutor", "get_executor", "set_default_executor",
           "default_executor_name"]


class ReferenceBoundPlan:
    """A plan with its reference kernels resolved (the reference executor's `BoundPlan`)."""

    __slots__ = ("plan", "kernels")

    def __init__(self, plan, kernels):
        self.plan = plan
        self.kernels = kernels


class ReferenceExecutor:
    """Runs plans node by node in Python with the reference kernels."""

    name = "reference"

    # The clock of `run_plan_traced`'s timestamps.
    trace_clock_ns = staticmethod(time.perf_counter_ns)

    def bind(self, plan, kernels=None):
        """Prepares `plan` for repeated runs; returns a `ReferenceBoundPlan`.

        Args:
          kernels: the per-node callables to use instead of the kernel table's (a device worker
            wraps some of them).
        """
        return ReferenceBoundPlan(
            plan, kernels if kernels is not None else bind_kernels(plan, reference=True))

    @staticmethod
    def run_plan(bound, slots, ctx, failure_type):
        """Executes the plan; `slots` holds the fed values and receives the outputs.

        Raises:
          failure_type(plan_node, cause): when a kernel raises.
        """
        _run(bound, slots, ctx, failure_type, None, None)

    @staticmethod
    def run_plan_traced(bound, slots, ctx, failure_type, times, outputs, memory=None):
        """`run_plan`, recording per-node timing and outputs.

        Args:
          times: an int64 array ``[num_nodes, 4]`` (``[num_nodes, 7]`` with `memory`); row i
            receives node i's start, kernel start, kernel end and end, in `trace_clock_ns`
            nanoseconds, then the device's bytes in use when the node started, once its
            outputs were stored (before its dead inputs were released), and the most in use
            in between.
          memory: the device's memory account (``device_memory.DeviceMemory``), or None; its
            step peak is restarted at each node.
          outputs: a list of ``num_nodes`` entries; entry i receives a tuple with
            ``(dtype, shape, nbytes)`` for each output of node i.

        Raises:
          failure_type(plan_node, cause): when a kernel raises; the rows of the nodes before
            it are filled.
        """
        _run(bound, slots, ctx, failure_type, times, outputs, memory)


def _run(bound, slots, ctx, failure_type, times, outputs, memory=None):
    """The one loop of the spec; it also checks the kernel contract that the Cython executor
    trusts (output count, ndarray outputs)."""
    plan, kernels = bound.plan, bound.kernels
    clock = time.perf_counter_ns
    in_ptr, in_slots = plan.in_ptr.tolist(), plan.in_slots.tolist()
    out_ptr, out_slots = plan.out_ptr.tolist(), plan.out_slots.tolist()
    rel_ptr, rel_slots = plan.release_ptr.tolist(), plan.release_slots.tolist()
    kinds = plan.kinds.tolist()
    for index, kernel in enumerate(kernels):
        started = clock() if times is not None else 0
        if memory is not None:
            memory.reset_step_peak()
            in_use_before = memory.in_use
        inputs = tuple(slots[s] for s in in_slots[in_ptr[index]:in_ptr[index + 1]])
        outputs_wanted = out_slots[out_ptr[index]:out_ptr[index + 1]]
        try:
            kernel_started = clock() if times is not None else 0
            if kinds[index] in (kernel_table.KIND_UNARY, kernel_table.KIND_BINARY):
                results = (kernel(*inputs),)
            else:
                results = tuple(kernel(ctx, inputs, plan.attrs[index]))
            kernel_ended = clock() if times is not None else 0
            if len(results) != len(outputs_wanted):
                raise AssertionError(
                    f"kernel of {plan.names[index]} returned {len(results)} outputs, "
                    f"expected {len(outputs_wanted)}")
            for value in results:
                if not isinstance(value, np.ndarray):
                    raise AssertionError(
                        f"kernel of {plan.names[index]} returned a "
                        f"{type(value).__name__}, not an ndarray")
        except Exception as err:  # noqa: BLE001 - every kernel error becomes an OpError
            raise failure_type(index, err) from err
        for number, value in zip(outputs_wanted, results):
            slots[number] = value
        if memory is not None:
            times[index, 4:7] = (in_use_before, memory.in_use, memory.step_peak)
        for number in rel_slots[rel_ptr[index]:rel_ptr[index + 1]]:
            slots[number] = None
        if times is not None:
            outputs[index] = tuple((v.dtype, v.shape, v.nbytes) for v in results)
            times[index, :4] = (started, kernel_started, kernel_ended, clock())


class CythonExecutor:
    """Runs plans with ``sessionlib._core.executor`` and the fast kernels.

    `run_plan`, `run_plan_traced` and `trace_clock_ns` are the compiled functions themselves,
    with the signatures of `ReferenceExecutor`'s.
    """

    name = "cython"

    def __init__(self):
        from sessionlib._core import executor as core_executor

        self._core = core_executor
        self.run_plan = core_executor.run_plan
        self.run_plan_traced = core_executor.run_plan_traced
        self.trace_clock_ns = core_executor.trace_clock_ns

    def bind(self, plan, kernels=None):
        """Prepares `plan` for repeated runs (`kernels`: as `ReferenceExecutor.bind`)."""
        return self._core.BoundPlan(plan, kernels if kernels is not None
                                    else bind_kernels(plan, reference=False))


_executors = {}
_default_name = settings.executor_name()


def get_executor(name=None):
    """The executor called `name` ('reference' or 'cython'; default: the process default).

    The first call also tunes malloc for large buffers (``fused.tune_malloc``): a process-wide
    setting that belongs to the first session or device worker, not to ``import sessionlib``.

    Raises:
      ValueError: for an unknown name.
    """
    name = name or _default_name
    executor = _executors.get(name)
    if executor is None:
        from sessionlib._core import fused

        fused.tune_malloc(settings.malloc_tuning())
        if name == "reference":
            executor = ReferenceExecutor()
        elif name == "cython":
            executor = CythonExecutor()
        else:
            raise ValueError(f"Unknown executor {name!r}; use 'reference' or 'cython'")
        _executors[name] = executor
    return executor


def set_default_executor(name):
    """Sets the executor that new sessions use; returns the previous name."""
    global _default_name
    get_executor(name)
    previous, _default_name = _default_name, name
    return previous


def default_executor_name():
    return _default_name
