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

Tracing: a loop is one node of the step stats (its body's nodes run inside it), whose label
ends with its iteration count (``[1000 iterations]``, through ``RunContext.annotations``) in
an in-process traced run.
"""

import time

import numpy as np

from sessionlib import errors
from sessionlib._core import control_flow as core_control_flow
from sessionlib.runtime.executor import get_executor
from sessionlib.runtime.failures import NodeFailure, error_code_of
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


def _run_function(executor, function, ctx, args):
    """Runs `function` on `args` with `executor`; returns its outputs as a list."""
    bound = function.bound(executor)
    slots = function.fresh_slots(args)
    try:
        executor.run_plan(bound, slots, ctx, NodeFailure)
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


def check_run(ctx, what):
    """Raises CancelledError or DeadlineExceededError when the run must stop."""
    ctx.check_cancelled()
    if ctx.deadline is not None and time.monotonic() > ctx.deadline:
        raise errors.DeadlineExceededError(None, None, f"Timed out running {what}")


def _make_if(executor_name):
    def if_kernel(ctx, inputs, attrs):
        executor = get_executor(executor_name)
        branch = attrs["then_branch"] if truth(inputs[0]) else attrs["else_branch"]
        return _run_function(executor, branch, ctx, inputs[1:])

    return if_kernel


def _while_reference(ctx, inputs, attrs):
    executor = get_executor("reference")
    cond, body = attrs["cond"], attrs["body"]
    values = list(inputs)
    what = f"the loop {attrs.get('_name', 'While')}"
    iterations = 0
    while True:
        check_run(ctx, what)
        if not truth(_run_function(executor, cond, ctx, values)[0]):
            _note_iterations(ctx, attrs, iterations)
            return values
        values = _run_function(executor, body, ctx, values)
        iterations += 1


def _note_iterations(ctx, attrs, iterations):
    """In a traced run, the loop's iteration count goes into its step stats' label."""
    if ctx.annotations is not None:
        ctx.annotations[attrs.get("_name", "While")] = f"{iterations} iterations"


def _while_fast(ctx, inputs, attrs):
    executor = get_executor("cython")
    cond, body = attrs["cond"], attrs["body"]
    try:
        values, iterations = core_control_flow.run_while(
            cond.bound(executor), cond.template(), cond.feed_slots, cond.fetch_slots[0],
            body.bound(executor), body.template(), body.feed_slots, body.fetch_slots,
            list(inputs), ctx, NodeFailure, executor.run_plan,
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
