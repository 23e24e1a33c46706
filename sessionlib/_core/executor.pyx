# cython: language_level=3
"""The hot loop: run an `ExecPlan` over a list of buffer slots.

Design. The plan is flat int32 arrays (see ``sessionlib/runtime/plan.py``); this module walks
them in order and calls each node's kernel. It knows nothing about graphs, ops or sessions:
the per-node cost is one C-level loop iteration, a tuple build for the inputs, one call through
the node's calling convention, and list stores for outputs and releases. The conventions are
dispatched on an int so that unary and binary elementwise kernels (Cython functions) are called
directly with their arrays, with no Python wrapper in between.

Safety: the loop reads slots, kernels and attrs without bounds checks, so `BoundPlan` takes
private copies of the plan's arrays and lists and validates every index once, when it is bound
(a plan may have been shipped from another process, and the caller may change it afterwards).

Errors: any exception from a kernel is re-raised as ``failure_type(plan_node, cause)``, where
`plan_node` is the node's position in the plan; the runtime (``runtime/failures.py``) maps it
to the failing Operation and its device and raises the OpError.

Tracing: `run_plan_traced` is the same walk with timestamps around each kernel. Both loops
share the per-node steps below as inline functions, so the untraced loop pays nothing.

The calling conventions (``KIND_*``) are defined once, in executor.pxd; this module exports
them and ``runtime/kernel_table.py`` re-exports them.

Never: import the runtime, ops or graph objects (the plan is plain arrays and the kernels are
handed in already bound), or index the plan without `_validate` having checked it.
"""

from cpython.list cimport PyList_GET_ITEM, PyList_SET_ITEM
from cpython.ref cimport Py_INCREF, Py_DECREF
from cpython.tuple cimport PyTuple_New, PyTuple_SET_ITEM
from libc.stdint cimport int64_t
from posix.time cimport CLOCK_MONOTONIC, clock_gettime, timespec

import numpy as np

cdef class BoundPlan:
    """An `ExecPlan` with its kernels resolved, ready to run many times."""

    def __init__(self, plan, list kernels):
        self.plan = plan
        self.num_nodes = len(kernels)
        self.num_slots = plan.num_slots
        # Private copies: the loop trusts them after `_validate`, so later changes to `plan`
        # or `kernels` must not reach it.
        self.kinds = _int_array(plan.kinds)
        self.in_ptr = _int_array(plan.in_ptr)
        self.in_slots = _int_array(plan.in_slots)
        self.out_ptr = _int_array(plan.out_ptr)
        self.out_slots = _int_array(plan.out_slots)
        self.release_ptr = _int_array(plan.release_ptr)
        self.release_slots = _int_array(plan.release_slots)
        self.kernels = list(kernels)
        self.attrs = list(plan.attrs)
        _validate(self)


cdef object _int_array(object values):
    return np.array(values, dtype=np.intc, copy=True)


cdef _validate(BoundPlan bound):
    """Raises ValueError unless every pointer and slot index of `bound` is in range."""
    cdef Py_ssize_t num_nodes = bound.num_nodes, num_slots = bound.num_slots, node
    cdef const int[::1] ptr
    cdef const int[::1] slots
    if num_slots < 0:
        raise ValueError(f"plan.num_slots is negative ({num_slots})")
    for name, count in (("attrs", len(bound.attrs)), ("kinds", len(bound.kinds)),
                        ("in_ptr", len(bound.in_ptr) - 1), ("out_ptr", len(bound.out_ptr) - 1),
                        ("release_ptr", len(bound.release_ptr) - 1)):
        if count != num_nodes:
            raise ValueError(f"plan.{name} has {count} node entries, expected one per kernel "
                             f"({num_nodes})")
    for ptr_name, ptr, slots in (("in_ptr", bound.in_ptr, bound.in_slots),
                                 ("out_ptr", bound.out_ptr, bound.out_slots),
                                 ("release_ptr", bound.release_ptr, bound.release_slots)):
        if ptr[0] != 0 or ptr[num_nodes] != slots.shape[0]:
            raise ValueError(f"plan.{ptr_name} is not a valid index into its slot array")
        for node in range(num_nodes):
            if ptr[node + 1] < ptr[node]:
                raise ValueError(f"plan.{ptr_name} is not a valid index into its slot array")
        for node in range(slots.shape[0]):
            if slots[node] < 0 or slots[node] >= num_slots:
                raise ValueError(f"plan.{ptr_name[:-4]}_slots names a slot outside "
                                 f"0..{num_slots - 1}")
    for node in range(num_nodes):
        arity = bound.in_ptr[node + 1] - bound.in_ptr[node]
        outs = bound.out_ptr[node + 1] - bound.out_ptr[node]
        kind = bound.kinds[node]
        if (kind == KIND_UNARY and (arity != 1 or outs != 1)) or (
                kind == KIND_BINARY and (arity != 2 or outs != 1)):
            raise ValueError(f"node {node} of kind {kind} has {arity} inputs and "
                             f"{outs} outputs")


cdef inline void _store(list slots, Py_ssize_t number, object value):
    """slots[number] = value, without bounds checks (`_validate` checked the plan)."""
    old = <object>PyList_GET_ITEM(slots, number)
    Py_INCREF(value)
    PyList_SET_ITEM(slots, number, value)
    Py_DECREF(old)


cdef inline object _call_kernel(BoundPlan bound, list slots, object ctx, Py_ssize_t node):
    """Calls `node`'s kernel through its calling convention; returns what the kernel returned
    (an array for unary and binary kernels, a sequence of arrays for generic ones)."""
    cdef Py_ssize_t j, start = bound.in_ptr[node], stop
    cdef int kind = bound.kinds[node]
    cdef object kernel = <object>PyList_GET_ITEM(bound.kernels, node), value
    cdef tuple inputs
    if kind == KIND_BINARY:
        return kernel(<object>PyList_GET_ITEM(slots, bound.in_slots[start]),
                      <object>PyList_GET_ITEM(slots, bound.in_slots[start + 1]))
    if kind == KIND_UNARY:
        return kernel(<object>PyList_GET_ITEM(slots, bound.in_slots[start]))
    stop = bound.in_ptr[node + 1]
    inputs = PyTuple_New(stop - start)
    for j in range(start, stop):
        value = <object>PyList_GET_ITEM(slots, bound.in_slots[j])
        Py_INCREF(value)
        PyTuple_SET_ITEM(inputs, j - start, value)
    return kernel(ctx, inputs, <object>PyList_GET_ITEM(bound.attrs, node))


cdef inline int _store_outputs(BoundPlan bound, list slots, Py_ssize_t node,
                               object result) except -1:
    """Stores `result` (from `_call_kernel`) into `node`'s output slots."""
    cdef Py_ssize_t j, start = bound.out_ptr[node]
    cdef Py_ssize_t count = bound.out_ptr[node + 1] - start
    if bound.kinds[node] != KIND_GENERIC:
        _store(slots, bound.out_slots[start], result)
    elif count:
        if len(result) != count:
            raise AssertionError(f"kernel returned {len(result)} outputs, expected {count}")
        for j in range(count):
            _store(slots, bound.out_slots[start + j], result[j])
    return 0


cdef inline void _release(BoundPlan bound, list slots, Py_ssize_t node):
    """Drops the slots whose last reader was `node`."""
    cdef Py_ssize_t j
    for j in range(bound.release_ptr[node], bound.release_ptr[node + 1]):
        _store(slots, bound.release_slots[j], None)


cdef _check_slots(BoundPlan bound, list slots):
    if len(slots) < bound.num_slots:
        raise ValueError(f"slots holds {len(slots)} entries, the plan needs "
                         f"{bound.num_slots}")


def run_plan(BoundPlan bound, list slots, object ctx, object failure_type):
    """Executes `bound` over `slots` (length `num_slots`, fed values already stored).

    Raises:
      failure_type(plan_node, cause): when a kernel raises.
    """
    cdef Py_ssize_t node
    _check_slots(bound, slots)
    for node in range(bound.num_nodes):
        try:
            _store_outputs(bound, slots, node, _call_kernel(bound, slots, ctx, node))
        except Exception as err:
            raise failure_type(node, err) from err
        _release(bound, slots, node)


# ---- the traced loop ------------------------------------------------------------------------
#
# The same walk, recording per node four CLOCK_MONOTONIC timestamps (before the inputs are
# gathered, around the kernel call, after outputs are stored and slots released) into a
# preallocated int64 array, and a description of each output.

cdef inline int64_t _now_ns() noexcept nogil:
    cdef timespec ts
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return <int64_t>ts.tv_sec * 1000000000 + ts.tv_nsec


def trace_clock_ns():
    """The clock of `run_plan_traced`'s timestamps (CLOCK_MONOTONIC), in nanoseconds."""
    return _now_ns()


cdef tuple _describe(object value):
    """(dtype, shape, nbytes) of a kernel output, for the trace."""
    try:
        return (value.dtype, value.shape, value.nbytes)
    except AttributeError:
        return (None, (), 0)


def run_plan_traced(BoundPlan bound, list slots, object ctx, object failure_type,
                    int64_t[:, ::1] times, list outputs, object memory=None):
    """`run_plan`, recording per-node timing into `times` and outputs into `outputs`.

    Args:
      times: an int64 array of shape ``[num_nodes, 4]`` (``[num_nodes, 7]`` with `memory`);
        row i receives node i's start, kernel start, kernel end and end, in `trace_clock_ns`
        nanoseconds, then the device's bytes in use when the node started, once its outputs
        were stored (before its dead inputs were released), and the most in use in between.
      outputs: a list of length ``num_nodes``; entry i receives a tuple of
        ``(dtype, shape, nbytes)``, one per output of node i.
      memory: the device's memory account (``device_memory.DeviceMemory``), or None. Its
        step peak is restarted at each node, so it holds the node's peak (this loop is the
        only user of the step peak, and only traced runs pay for it).

    Raises:
      failure_type(plan_node, cause): when a kernel raises; rows before it are filled.
    """
    cdef Py_ssize_t node, j
    cdef object result
    cdef bint measure = memory is not None
    _check_slots(bound, slots)
    if (times.shape[0] < bound.num_nodes or times.shape[1] < (7 if measure else 4)
            or len(outputs) < bound.num_nodes):
        raise ValueError("the trace arrays are smaller than the plan")
    for node in range(bound.num_nodes):
        times[node, 0] = _now_ns()
        if measure:
            memory.reset_step_peak()
            times[node, 4] = memory.in_use
        try:
            times[node, 1] = _now_ns()
            result = _call_kernel(bound, slots, ctx, node)
            times[node, 2] = _now_ns()
            _store_outputs(bound, slots, node, result)
        except Exception as err:
            raise failure_type(node, err) from err
        if measure:
            times[node, 5] = memory.in_use
            times[node, 6] = memory.step_peak
        outputs[node] = tuple([_describe(<object>PyList_GET_ITEM(slots, bound.out_slots[j]))
                               for j in range(bound.out_ptr[node], bound.out_ptr[node + 1])])
        _release(bound, slots, node)
        times[node, 3] = _now_ns()
