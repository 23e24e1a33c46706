"""Executors run an `ExecPlan` over a list of buffer slots.

Two implementations share one interface:

* `ReferenceExecutor`: a plain Python loop over the plan calling the reference (numpy) kernels.
  It is the living spec and checks the kernel contract (outputs are ndarrays, counts match).
* `CythonExecutor`: ``sessionlib._core.executor``, the same loop in Cython with the fast
  kernels; it trusts the contract.

Both report a failing node by raising `NodeFailure(node_index, cause)`; the session maps the
index back to its `Operation` and turns the cause into an `OpError` that carries the op.
Select one with ``SESSIONLIB_EXECUTOR=reference|cython`` or `set_default_executor`.
"""

import time

import numpy as np

from sessionlib.runtime import kernel_table, settings
from sessionlib.runtime.plan import bind_kernels

__all__ = ["NodeFailure", "ReferenceExecutor", "CythonExecutor", "get_executor",
           "set_default_executor", "default_executor_name"]


class NodeFailure(Exception):
    """A kernel failed.

    Attributes:
      node_index: the position, in the step's op order, of the graph op the failing node
        stands for (`ExecPlan.origins`), or -1 for a node the runtime inserted. Executors
        translate plan positions to this, so that the session maps it to an Operation.
      cause: the exception the kernel raised.
    """

    def __init__(self, node_index, cause):
        super().__init__(node_index, cause)
        self.node_index = node_index
        self.cause = cause


class ReferenceExecutor:
    """Runs plans node by node in Python with the reference kernels."""

    name = "reference"

    def bind(self, plan, kernels=None):
        """Prepares `plan` for repeated runs; returns an object for `run`.

        Args:
          kernels: the per-node callables to use instead of the kernel table's (a device worker
            wraps some of them).
        """
        return plan, kernels if kernels is not None else bind_kernels(plan, reference=True)

    def run(self, bound, slots, ctx):
        """Executes the plan; `slots` holds the fed values and receives the outputs.

        Raises:
          NodeFailure: when a kernel raises.
        """
        self._run(bound, slots, ctx, None, None)

    # The clock of `run_traced`'s timestamps.
    trace_clock_ns = staticmethod(time.perf_counter_ns)

    def run_traced(self, bound, slots, ctx, times, outputs):
        """`run`, recording per-node timing and outputs.

        Args:
          times: an int64 array ``[num_nodes, 4]``; row i receives node i's start, kernel
            start, kernel end and end, in `trace_clock_ns` nanoseconds.
          outputs: a list of ``num_nodes`` entries; entry i receives a tuple with
            ``(dtype, shape, nbytes)`` for each output of node i.

        Raises:
          NodeFailure: when a kernel raises; the rows of the nodes before it are filled.
        """
        self._run(bound, slots, ctx, times, outputs)

    @staticmethod
    def _run(bound, slots, ctx, times, outputs):
        """The one loop of the spec; it also checks the kernel contract that the Cython
        executor trusts (output count, ndarray outputs)."""
        plan, kernels = bound
        clock = time.perf_counter_ns
        in_ptr, in_slots = plan.in_ptr.tolist(), plan.in_slots.tolist()
        out_ptr, out_slots = plan.out_ptr.tolist(), plan.out_slots.tolist()
        rel_ptr, rel_slots = plan.release_ptr.tolist(), plan.release_slots.tolist()
        kinds = plan.kinds.tolist()
        for index, kernel in enumerate(kernels):
            started = clock() if times is not None else 0
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
                raise NodeFailure(int(plan.origins[index]), err) from err
            for number, value in zip(outputs_wanted, results):
                slots[number] = value
            for number in rel_slots[rel_ptr[index]:rel_ptr[index + 1]]:
                slots[number] = None
            if times is not None:
                outputs[index] = tuple((v.dtype, v.shape, v.nbytes) for v in results)
                times[index] = (started, kernel_started, kernel_ended, clock())


class CythonExecutor:
    """Runs plans with ``sessionlib._core.executor`` and the fast kernels."""

    name = "cython"

    def __init__(self):
        from sessionlib._core import executor as core_executor

        self._core = core_executor

    def bind(self, plan, kernels=None):
        """Prepares `plan` for repeated runs (`kernels`: as `ReferenceExecutor.bind`)."""
        return self._core.BoundPlan(plan, kernels if kernels is not None
                                    else bind_kernels(plan, reference=False))

    def run(self, bound, slots, ctx):
        try:
            self._core.run_plan(bound, slots, ctx, NodeFailure)
        except NodeFailure as failure:
            failure.node_index = int(bound.plan.origins[failure.node_index])
            raise

    @property
    def trace_clock_ns(self):
        return self._core.trace_clock_ns

    def run_traced(self, bound, slots, ctx, times, outputs):
        """`run` with per-node timing; see `ReferenceExecutor.run_traced`."""
        try:
            self._core.run_plan_traced(bound, slots, ctx, NodeFailure, times, outputs)
        except NodeFailure as failure:
            failure.node_index = int(bound.plan.origins[failure.node_index])
            raise


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
