"""Kernels of the control flow ops (``sessionlib/ops/control_flow_ops.py``,
``sessionlib/ops/functional_ops.py``).

``NoOp`` computes nothing: it exists as a target for control dependencies, which the executor
orders, so its kernel returns no outputs.

``If`` and ``While`` run functions: their func-valued attrs hold `plan.FunctionPlan`s (the
plan compiler put them there), which these kernels bind lazily to their executor, once per
process, and run over a fresh slot list per call. The reference kernels run them with the
reference executor, in a Python loop; the fast ones with the Cython executor, the ``While``
loop itself in C (``_core/control_flow.pyx``). Both check the run's cancellation and deadline
once per iteration: a loop past ``RunOptions.timeout_in_ms`` fails with
DeadlineExceededError. An error inside a function is re-raised with the inner op's name
(``[[{{node cond/add}}]]``); the step then adds the ``If``/``While`` op's own.

Tracing: a loop is one node of the step stats whose label ends with its iteration count
(``[1000 iterations]``, through ``RunContext.annotations``). In a traced run the context also
carries a `function_trace.FunctionTrace`: the kernels then run their functions with the
executor's traced loop and the step stats get a row per executed function node, named and
labelled with the loop iteration or branch it ran in (``[loop iteration 3]``,
``runtime/function_trace.py``; the first `LOOP_ITERATIONS_TRACED` iterations of each loop
call, then a count). Only traced runs take
that path: the fast ``While`` hands `run_while` a recording `run_plan` then, and the
executor's own otherwise, so an untraced loop runs exactly as before.
"""

import numpy as np

from sessionlib import errors
from sessionlib._core import control_flow as core_control_flow
from sessionlib.runtime.executor import get_executor
from sessionlib.runtime.failures import NodeFailure, error_code_of
from sessionlib.runtime.function_trace import LOOP_ITERATIONS_TRACED
from sessionlib.runtime.kernel_table import register_kernel


def _no_op_kernel(ctx, inputs, attrs):
    return ()


register_kernel("NoOp", reference=_no_op_kernel)


# ---- functions --------------------------------------------------------------------------------

def inner_error(function, failure):
    """The exception for `failure` (a `NodeFailure`) inside `function` (a `FunctionPlan`):
    the inner error's type and message, naming the inner op."""
    cause = failure.cause
    code, message = error_code_of(cause)
    error_type = (type(cause) if isinstance(cause, errors.OpError)
                  else errors.exception_type_from_error_code(code))
    message = f"{message}\n\t [[{{{{node {function.op_name(failure.plan_node)}}}}}]]"
    try:
        return error_type(None, None, message)
    except TypeError:
        return errors.InvalidArgumentError(None, None, message)


def _run_function(executor, function, ctx, args, frame=None):
    """Runs `function` on `args` with `executor`; returns its outputs as a list.

    In a traced run, `frame` (``(op name, where)``) records the call's nodes under it, and
    None runs it untraced (a loop iteration past the cap)."""
    bound = function.bound(executor)
    slots = function.fresh_slots(args)
    trace = ctx.function_trace
    try:
        if trace is None:
            executor.run_plan(bound, slots, ctx, NodeFailure)
        elif frame is not None and trace.recording():
            trace.run(executor, function, bound, slots, ctx, NodeFailure, frame)
        else:
            trace.run_untraced(executor, bound, slots, ctx, NodeFailure)
    except NodeFailure as failure:
        raise inner_error(function, failure) from failure.cause
    return [slots[number] for number in function.fetch_slots]


def truth(value):
    """TF's truth of an ``If`` condition: a scalar's value (a string: non-empty), else
    whether the tensor has elements."""
    array = np.asarray(value)
    if array.ndim == 0:
        item = array.item()
        return len(item) > 0 if isinstance(item, (bytes, str)) else bool(item)
    return array.size > 0


def _make_if(executor_name):
    def if_kernel(ctx, inputs, attrs):
        executor = get_executor(executor_name)
        taken = truth(inputs[0])
        branch = attrs["then_branch"] if taken else attrs["else_branch"]
        frame = (attrs.get("_name", "If"), "then branch" if taken else "else branch")
        return _run_function(executor, branch, ctx, inputs[1:], frame)

    return if_kernel


def _while_reference(ctx, inputs, attrs):
    executor = get_executor("reference")
    cond, body = attrs["cond"], attrs["body"]
    values = list(inputs)
    name = attrs.get("_name", "While")
    what = f"the loop {name}"
    traced = ctx.function_trace is not None
    iterations = 0
    while True:
        ctx.check_running(what)
        frame = ((name, f"iteration {iterations}")
                 if traced and iterations < LOOP_ITERATIONS_TRACED else None)
        if not truth(_run_function(executor, cond, ctx, values, frame)[0]):
            _note_iterations(ctx, attrs, iterations)
            return values
        values = _run_function(executor, body, ctx, values, frame)
        iterations += 1


def _note_iterations(ctx, attrs, iterations):
    """In a traced run, the loop's iteration count goes into its step stats' label (with
    how many were traced in full, when the cap cut them)."""
    if ctx.annotations is not None:
        note = f"{iterations} iterations"
        if ctx.function_trace is not None and iterations > LOOP_ITERATIONS_TRACED:
            note += f", first {LOOP_ITERATIONS_TRACED} traced"
        ctx.annotations[attrs.get("_name", "While")] = note


class _TracedLoop:
    """The `run_plan` the fast ``While`` hands `run_while` in a traced run: it records the
    cond and body calls of the first `LOOP_ITERATIONS_TRACED` iterations."""

    __slots__ = ("executor", "trace", "cond", "body", "cond_bound", "name", "iteration")

    def __init__(self, executor, trace, cond, body, cond_bound, name):
        self.executor = executor
        self.trace = trace
        self.cond = cond
        self.body = body
        self.cond_bound = cond_bound
        self.name = name
        self.iteration = 0

    def __call__(self, bound, slots, ctx, failure_type):
        in_cond = bound is self.cond_bound
        iteration = self.iteration
        if not in_cond:
            self.iteration += 1
        trace = self.trace
        if iteration < LOOP_ITERATIONS_TRACED and trace.recording():
            trace.run(self.executor, self.cond if in_cond else self.body, bound, slots, ctx,
                      failure_type, (self.name, f"iteration {iteration}"))
        else:
            trace.run_untraced(self.executor, bound, slots, ctx, failure_type)


def _while_fast(ctx, inputs, attrs):
    executor = get_executor("cython")
    cond, body = attrs["cond"], attrs["body"]
    cond_bound = cond.bound(executor)
    run_plan = executor.run_plan
    if ctx.function_trace is not None:
        run_plan = _TracedLoop(executor, ctx.function_trace, cond, body, cond_bound,
                               attrs.get("_name", "While"))
    try:
        values, iterations = core_control_flow.run_while(
            cond_bound, cond.template(), cond.feed_slots, cond.fetch_slots[0],
            body.bound(executor), body.template(), body.feed_slots, body.fetch_slots,
            list(inputs), ctx, NodeFailure, run_plan,
            -1.0 if ctx.deadline is None else ctx.deadline)
    except core_control_flow.LoopFailure as failure:
        function = cond if failure.in_cond else body
        inner = failure.failure
        raise inner_error(function, inner) from inner.cause
    except core_control_flow.LoopDeadline:
        raise errors.DeadlineExceededError(
            None, None, f"Timed out running the loop {attrs.get('_name', 'While')}") from None
    _note_iterations(ctx, attrs, iterations)
    return values


register_kernel("If", reference=_make_if("reference"), fast=_make_if("cython"))
register_kernel("While", reference=_while_reference, fast=_while_fast)
