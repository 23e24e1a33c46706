"""How a failing kernel becomes the `OpError` that `Session.run` raises.

Design. A failure travels in three steps, and each step names what it carries:

1. An executor (the Cython loop, the reference loop, in the client or in a device worker)
   raises `NodeFailure(plan_node, cause)`: `plan_node` is the failing node's position in the
   `ExecPlan` that ran, `cause` the kernel's exception. A worker sends the same two facts back
   as ``(code, message, plan_node)`` (`error_code_of` gives the code and message).
2. The step that owns the plan translates the plan position into the step's `Operation` and
   its device, in one place: `node_error` (through `ExecPlan.origins`, which a fused node and
   a partition's node share with the whole step).
3. `op_error` builds the exception from the op, the device and the cause; every error a run
   raises for a failing op has its message built there, so extending the message (say, with
   where the op was defined) is a change to one function.

The mapping between Python exceptions and TF's status codes has one definition,
`error_code_of`; `op_error` derives the exception type from it. This module must stay cheap to
import (workers import it) and must never import the client.
"""

from sessionlib import errors

__all__ = ["NodeFailure", "error_code_of", "node_error", "op_error"]


class NodeFailure(Exception):
    """A kernel failed while an executor ran a plan.

    Attributes:
      plan_node: the failing node's position in the `ExecPlan` that ran (not an op index:
        `node_error` translates it).
      cause: the exception the kernel raised.
      origin: the op index of the failing member of a node that runs several ops
        (``runtime/update_grouping.py`` sets ``cause.member_origin``), else -1.
    """

    def __init__(self, plan_node, cause):
        super().__init__(plan_node, cause)
        self.plan_node = plan_node
        self.cause = cause
        self.origin = getattr(cause, "member_origin", -1)


def error_code_of(cause):
    """TF's status code and message for an exception raised by a kernel.

    Args:
      cause: the exception.

    Returns:
      ``(code, message)``: an `OpError` keeps its own; a bad value, index, type or a division
      by zero is INVALID_ARGUMENT; a MemoryError is RESOURCE_EXHAUSTED; anything else is
      INTERNAL, with the exception's type name in the message.
    """
    if isinstance(cause, errors.OpError):
        return cause.error_code, cause.message
    if isinstance(cause, (ValueError, IndexError, TypeError, ZeroDivisionError)):
        return errors.INVALID_ARGUMENT, str(cause)
    if isinstance(cause, MemoryError):
        return errors.RESOURCE_EXHAUSTED, f"OOM: {cause}"
    return errors.INTERNAL, f"{type(cause).__name__}: {cause}"


def op_error(op, device, cause):
    """The `OpError` that a run raises when `op`'s kernel on `device` raised `cause`.

    Args:
      op: the failing `Operation`, or None for a node the runtime inserted (a cross-device
        receive); the error then names no node.
      device: the full name of the device that ran the node.
      cause: the kernel's exception (an `OpError` keeps its type, message and code).

    Returns:
      The exception (not raised), carrying `op` and its NodeDef; its message ends with
      ``[[{{node NAME}} (defined at FILE:LINE) on DEVICE]]``, where FILE:LINE is the user's
      line that built the op (`Operation.traceback`), left out when none is known.
    """
    code, message = error_code_of(cause)
    error_type = (type(cause) if isinstance(cause, errors.OpError)
                  else errors.exception_type_from_error_code(code))
    node_def = None
    if op is not None:
        node_def = op.node_def
        defined_at = op._defined_at()
        where = f" (defined at {defined_at})" if defined_at else ""
        message = f"{message}\n\t [[{{{{node {op.name}}}}}{where} on {device}]]"
    try:
        return error_type(node_def, op, message)
    except TypeError:  # a user subclass with another signature
        return errors.InvalidArgumentError(node_def, op, message)


def node_error(plan, plan_node, ops, devices, cause, origin=-1):
    """`op_error` for node `plan_node` of `plan`, a plan compiled from the step's `ops`.

    Args:
      plan: the `ExecPlan` that ran (a whole step's, or one partition's).
      plan_node: the failing node's position in `plan` (`NodeFailure.plan_node`).
      ops, devices: the step's ops in its order, and the device of each.
      cause: the kernel's exception.
      origin: the failing op's index when the node runs several ops and knows which failed
        (`NodeFailure.origin`); -1: the node's own origin.
    """
    if not 0 <= origin < len(ops):
        origin = int(plan.origins[plan_node])
    if origin < 0:      # a node the runtime inserted: no op stands behind it
        return op_error(None, None, cause)
    return op_error(ops[origin], devices[origin], cause)


def ranked_error_of_reply(reply, plan, ops, devices):
    """The `OpError` a device's failure reply stands for, and its rank among the step's
    failures: the root cause wins, so a graph op's kernel error (3) ranks over a dead device
    or a lost connection (1), which ranks over the aborts, cancellations and deadlines they
    caused elsewhere (0: a `_Recv`, which stands for no op, only waited).

    Args:
      reply: ``(tag, code, message, plan_node, origin)`` from a device (``plan_node`` is -1
        when the failure belongs to no node).
      plan: the partition's `ExecPlan`.
      ops, devices: the step's ops in its order, and the device of each.

    Returns:
      (error, rank).
    """
    _, code, message, plan_node, origin = reply
    error = errors.make_op_error(code, message)
    if plan_node >= 0:
        error = node_error(plan, plan_node, ops, devices, error, origin)
    rank = 3 if error.op is not None else (
        0 if code in (errors.ABORTED, errors.CANCELLED) else 1)
    return error, rank
