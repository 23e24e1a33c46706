# cython: language_level=3
"""The hot loop: run an `ExecPlan` over a list of buffer slots.

Design. The plan is flat int32 arrays (see ``sessionlib/runtime/plan.py``); this module walks
them in order and calls each node's kernel. It knows nothing about graphs, ops or sessions:
the per-node cost is one C-level loop iteration, a tuple build for the inputs, one call through
the node's calling convention, and list stores for outputs and releases. The conventions are
dispatched on an int so that unary and binary elementwise kernels (Cython functions) are called
directly with their arrays, with no Python wrapper in between.

Errors: any exception from a kernel is re-raised as ``failure_type(node_index, cause)``; the
session turns that into an OpError that carries the failing Operation.
"""

from cpython.list cimport PyList_GET_ITEM, PyList_SET_ITEM
from cpython.ref cimport Py_INCREF, Py_DECREF
from cpython.tuple cimport PyTuple_New, PyTuple_SET_ITEM
from libc.stdint cimport int64_t
from posix.time cimport CLOCK_MONOTONIC, clock_gettime, timespec

cdef enum:
    KIND_GENERIC = 0
    KIND_UNARY = 1
    KIND_BINARY = 2


cdef class BoundPlan:
    """An `ExecPlan` with its kernels resolved, ready to run many times."""

    def __init__(self, plan, list kernels):
        if len(kernels) != len(plan):
            raise ValueError("one kernel per node is required")
        self.plan = plan
        self.num_nodes = len(kernels)
        self.kinds = plan.kinds
        self.in_ptr = plan.in_ptr
        self.in_slots = plan.in_slots
        self.out_ptr = plan.out_ptr
        self.out_slots = plan.out_slots
        self.release_ptr = plan.release_ptr
        self.release_slots = plan.release_slots
        self.kernels = kernels
        self.attrs = plan.attrs

    @property
    def num_slots(self):
        return self.plan.num_slots


cdef inline void _store(list slots, Py_ssize_t number, object value):
    """slots[number] = value, without bounds checks (the plan was validated at compile)."""
    old = <object>PyList_GET_ITEM(slots, number)
    Py_INCREF(value)
    PyList_SET_ITEM(slots, number, value)
    Py_DECREF(old)


def run_plan(BoundPlan bound, list slots, object ctx, object failure_type):
    """Executes `bound` over `slots` (length `num_slots`, fed values already stored).

    Raises:
      failure_type(node_index, cause): when a kernel raises.
    """
    cdef Py_ssize_t node, j, start, stop, count, num_slots = len(slots)
    cdef int kind
    cdef object kernel, result, value
    cdef tuple inputs
    if num_slots < bound.plan.num_slots:
        raise ValueError(f"slots holds {num_slots} entries, the plan needs "
                         f"{bound.plan.num_slots}")
    for node in range(bound.num_nodes):
        kind = bound.kinds[node]
        kernel = <object>PyList_GET_ITEM(bound.kernels, node)
        start = bound.in_ptr[node]
        try:
            if kind == KIND_BINARY:
                result = kernel(<object>PyList_GET_ITEM(slots, bound.in_slots[start]),
                                <object>PyList_GET_ITEM(slots, bound.in_slots[start + 1]))
                _store(slots, bound.out_slots[bound.out_ptr[node]], result)
            elif kind == KIND_UNARY:
                result = kernel(<object>PyList_GET_ITEM(slots, bound.in_slots[start]))
                _store(slots, bound.out_slots[bound.out_ptr[node]], result)
            else:
                stop = bound.in_ptr[node + 1]
                inputs = PyTuple_New(stop - start)
                for j in range(start, stop):
                    value = <object>PyList_GET_ITEM(slots, bound.in_slots[j])
                    Py_INCREF(value)
                    PyTuple_SET_ITEM(inputs, j - start, value)
                result = kernel(ctx, inputs, <object>PyList_GET_ITEM(bound.attrs, node))
                start = bound.out_ptr[node]
                count = bound.out_ptr[node + 1] - start
                if count:
                    if len(result) != count:
                        raise AssertionError(f"kernel returned {len(result)} outputs, "
                                             f"expected {count}")
                    for j in range(count):
                        _store(slots, bound.out_slots[start + j], result[j])
        except Exception as err:
            raise failure_type(node, err) from err
        for j in range(bound.release_ptr[node], bound.release_ptr[node + 1]):
            _store(slots, bound.release_slots[j], None)


# ---- the traced loop ------------------------------------------------------------------------
#
# A copy of `run_plan` that also records, per node, four CLOCK_MONOTONIC timestamps (before the
# inputs are gathered, around the kernel call, after outputs are stored and slots released)
# into a preallocated int64 array, and a description of each output. The session picks it
# only for runs with RunOptions.trace_level > 0, so `run_plan` itself pays nothing for tracing.

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
                    int64_t[:, ::1] times, list outputs):
    """`run_plan`, recording per-node timing into `times` and outputs into `outputs`.

    Args:
      times: an int64 array of shape ``[num_nodes, 4]``; row i receives node i's start,
        kernel start, kernel end and end, in `trace_clock_ns` nanoseconds.
      outputs: a list of length ``num_nodes``; entry i receives a tuple of
        ``(dtype, shape, nbytes)``, one per output of node i.

    Raises:
      failure_type(node_index, cause): when a kernel raises; rows before it are filled.
    """
    cdef Py_ssize_t node, j, start, stop, count, num_slots = len(slots)
    cdef int kind
    cdef object kernel, result, value
    cdef tuple inputs
    if num_slots < bound.plan.num_slots:
        raise ValueError(f"slots holds {num_slots} entries, the plan needs "
                         f"{bound.plan.num_slots}")
    if times.shape[0] < bound.num_nodes or times.shape[1] < 4 or len(outputs) < bound.num_nodes:
        raise ValueError("the trace arrays are smaller than the plan")
    for node in range(bound.num_nodes):
        times[node, 0] = _now_ns()
        kind = bound.kinds[node]
        kernel = <object>PyList_GET_ITEM(bound.kernels, node)
        start = bound.in_ptr[node]
        try:
            if kind == KIND_BINARY:
                times[node, 1] = _now_ns()
                result = kernel(<object>PyList_GET_ITEM(slots, bound.in_slots[start]),
                                <object>PyList_GET_ITEM(slots, bound.in_slots[start + 1]))
                times[node, 2] = _now_ns()
                _store(slots, bound.out_slots[bound.out_ptr[node]], result)
                outputs[node] = (_describe(result),)
            elif kind == KIND_UNARY:
                times[node, 1] = _now_ns()
                result = kernel(<object>PyList_GET_ITEM(slots, bound.in_slots[start]))
                times[node, 2] = _now_ns()
                _store(slots, bound.out_slots[bound.out_ptr[node]], result)
                outputs[node] = (_describe(result),)
            else:
                stop = bound.in_ptr[node + 1]
                inputs = PyTuple_New(stop - start)
                for j in range(start, stop):
                    value = <object>PyList_GET_ITEM(slots, bound.in_slots[j])
                    Py_INCREF(value)
                    PyTuple_SET_ITEM(inputs, j - start, value)
                times[node, 1] = _now_ns()
                result = kernel(ctx, inputs, <object>PyList_GET_ITEM(bound.attrs, node))
                times[node, 2] = _now_ns()
                start = bound.out_ptr[node]
                count = bound.out_ptr[node + 1] - start
                if count:
                    if len(result) != count:
                        raise AssertionError(f"kernel returned {len(result)} outputs, "
                                             f"expected {count}")
                    for j in range(count):
                        _store(slots, bound.out_slots[start + j], result[j])
                    outputs[node] = tuple([_describe(result[j]) for j in range(count)])
                else:
                    outputs[node] = ()
        except Exception as err:
            raise failure_type(node, err) from err
        for j in range(bound.release_ptr[node], bound.release_ptr[node + 1]):
            _store(slots, bound.release_slots[j], None)
        times[node, 3] = _now_ns()
