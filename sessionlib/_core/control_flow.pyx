# cython: language_level=3
"""The ``While`` loop of the Cython executor: a C loop over two bound sub-plans.

Design. A ``While`` op's cond and body are functions compiled into plans (the runtime's
``plan.FunctionPlan``); the kernel (``runtime/kernels/control_flow_kernels.py``) binds them to
the Cython executor and hands them here with their feed and fetch slots. Each iteration runs
the cond plan over a fresh slot list, tests its one output, runs the body plan over another
and takes its outputs as the next loop variables. The per-iteration cost is two calls of the
executor's `run_plan` plus a few list operations: no Python frame of our own, so a body of
Cython kernels runs with no interpreted code per iteration.

Every iteration checks the deadline (a ``time.monotonic()`` value, CLOCK_MONOTONIC here as in
CPython on Linux) and, every few iterations, the run's cancellation; a stop raises
`LoopDeadline` or the context's CancelledError. A failing node raises `LoopFailure` carrying
the executor's failure (its position in the sub-plan) and which function failed: the kernel
turns it into the error naming the inner op.

Never: import the runtime (the bound plans, `run_plan`, the failure type and the run context
are handed in).
"""

from cpython.list cimport PyList_GET_ITEM, PyList_SET_ITEM, PyList_New
from cpython.ref cimport Py_DECREF, Py_INCREF
from libc.stdint cimport int64_t
from posix.time cimport CLOCK_MONOTONIC, clock_gettime, timespec

import numpy as np

# Iterations between two checks of the run's cancellation.
DEF _CANCEL_CHECK_EVERY = 32


class LoopFailure(Exception):
    """A node of the cond (`in_cond`) or the body failed: `failure` is the executor's
    failure (with its ``plan_node`` and ``cause``)."""

    def __init__(self, failure, in_cond):
        super().__init__(failure, in_cond)
        self.failure = failure
        self.in_cond = in_cond


class LoopDeadline(Exception):
    """The run's deadline passed while the loop ran."""


cdef inline double _monotonic() noexcept nogil:
    cdef timespec ts
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return <double>ts.tv_sec + <double>ts.tv_nsec * 1e-9


cdef bint _truth(object value) except -1:
    if value.ndim == 0:
        return bool(value)
    return value.size > 0


cdef list _fresh_slots(list template, const int[::1] feed_slots, list values):
    """A copy of `template` with `values` stored at `feed_slots`."""
    cdef list slots = template[:]
    cdef Py_ssize_t j
    for j in range(feed_slots.shape[0]):
        _store(slots, feed_slots[j], <object>PyList_GET_ITEM(values, j))
    return slots


cdef inline void _store(list slots, Py_ssize_t number, object value):
    old = <object>PyList_GET_ITEM(slots, number)
    Py_INCREF(value)
    PyList_SET_ITEM(slots, number, value)
    Py_DECREF(old)


cdef object _slot_array(list numbers, Py_ssize_t limit, str what):
    array = np.array(numbers, dtype=np.intc)
    if array.size and (array.min() < 0 or array.max() >= limit):
        raise ValueError(f"{what} names a slot outside 0..{limit - 1}")
    return array


def run_while(cond_bound, list cond_template, list cond_feed, Py_ssize_t cond_fetch,
              body_bound, list body_template, list body_feed, list body_fetch, list values,
              object ctx, object failure_type, object run_plan, double deadline):
    """Runs the loop; returns ``(final values, iteration count)``.

    Args:
      cond_bound, body_bound: the bound plans of cond and body (of the Cython executor).
      cond_template, body_template: the slot list each call starts from (a copy of it).
      cond_feed, body_feed: the slot of each loop variable in each plan.
      cond_fetch: the slot of the cond's bool output.
      body_fetch: the slot of each next loop variable in the body plan.
      values: the initial loop variables.
      ctx: the run context (its ``cancellation`` is checked; it is passed to kernels).
      failure_type: the executor's failure type (``NodeFailure``).
      run_plan: the executor's ``run_plan``.
      deadline: a ``time.monotonic()`` value, or negative for none.

    Raises:
      LoopFailure: a node failed.
      LoopDeadline: the deadline passed.
      The context's CancelledError: the run was cancelled.
      ValueError: the slots or values do not fit the plans.
    """
    cdef Py_ssize_t iterations = 0, j, count = len(body_fetch)
    cdef Py_ssize_t n_cond = len(cond_template), n_body = len(body_template)
    cdef const int[::1] c_feed = _slot_array(cond_feed, n_cond, "cond_feed")
    cdef const int[::1] b_feed = _slot_array(body_feed, n_body, "body_feed")
    cdef const int[::1] b_fetch = _slot_array(body_fetch, n_body, "body_fetch")
    cdef list slots, next_values
    if not 0 <= cond_fetch < n_cond:
        raise ValueError("cond_fetch names a slot outside the cond's slots")
    if len(values) != c_feed.shape[0] or len(values) != b_feed.shape[0] or count != len(values):
        raise ValueError("the loop variables do not match the cond's and body's feeds")
    cancellation = ctx.cancellation
    while True:
        if deadline >= 0 and _monotonic() > deadline:
            raise LoopDeadline()
        if iterations % _CANCEL_CHECK_EVERY == 0 and cancellation.cancelled:
            ctx.check_cancelled()
        slots = _fresh_slots(cond_template, c_feed, values)
        try:
            run_plan(cond_bound, slots, ctx, failure_type)
        except failure_type as failure:
            raise LoopFailure(failure, True) from None
        if not _truth(<object>PyList_GET_ITEM(slots, cond_fetch)):
            return values, iterations
        slots = _fresh_slots(body_template, b_feed, values)
        try:
            run_plan(body_bound, slots, ctx, failure_type)
        except failure_type as failure:
            raise LoopFailure(failure, False) from None
        next_values = PyList_New(count)
        for j in range(count):
            value = <object>PyList_GET_ITEM(slots, b_fetch[j])
            Py_INCREF(value)
            PyList_SET_ITEM(next_values, j, value)
        values = next_values
        iterations += 1
