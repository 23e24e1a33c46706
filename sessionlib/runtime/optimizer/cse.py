"""Common subexpression elimination: identical stateless nodes run once.

Design. One walk over a device's nodes in execution order. Each node that may be merged gets a
signature: its op type, its inputs (after the redirections made so far, so that chains of
duplicates merge from the bottom up), its attrs less the bookkeeping ones (``_name``,
``_rewritten_from``), its control inputs and its number of outputs. The first node of a
signature is kept; a later node with the same signature is removed, and every later reader of
its outputs reads the kept node's outputs instead (same keys in, same values out: the kept
node computes exactly what the duplicate would). Node order stays topological, since the kept
node runs before the removed one did.

The inputs of a commutative binary op (``AddV2``, ``Mul``, ``Maximum``, ...) are unordered in its
signature, as in TF's grappler: ``a + b`` and ``b + a`` are the same value, bit for bit.

Attrs compare by value: numpy arrays (a ``Const``'s value) by dtype, shape and bytes, so
``-0.0`` and ``0.0`` or two NaN payloads stay apart; floats by their exact bits; an attr with no
plain-value form (a Python object) keeps its node out. A ``Const`` (or any array attr) larger
than `MAX_COMPARED_BYTES` is not compared: comparing it would cost more, at every compile, than
the memory it could save (a constant costs nothing per run).

What is never merged:
  * stateful ops (`OpDef.stateful`: variables, queues, random ops, ``_Send``/``_Recv``): two
    ``random_uniform`` with the same attrs draw different numbers; placeholders; nodes with no
    outputs (a ``NoOp`` is only a point in the order);
  * a node whose output is fed (its readers read the fed value: a feed always wins), as
    either side;
  * as the removed side, a node whose output is fetched (the fetch must find its key, and
    handing the user one array for two fetches would alias them) or that another node names
    as a control input (its name is part of the step).
In-process steps of a multi-device session are one node list: nodes of two devices that share
the process may merge there; a worker's partition holds one device only.
"""

import numpy as np

from sessionlib import dtypes
from sessionlib.framework import registry
from sessionlib.framework.tensor_shape import TensorShape
from sessionlib.runtime.optimizer import register_pass

__all__ = ["MAX_COMPARED_BYTES", "eliminate_common_subexpressions"]

# Array attrs bigger than this are not compared: their nodes are never merged.
MAX_COMPARED_BYTES = 1 << 20

# Attrs a rewrite or the runtime adds; they never make two nodes compute different values.
_BOOKKEEPING = frozenset(("_name", "_rewritten_from", "_rewrite_kind"))

# Stateless ops that are still never merged: a placeholder is a value a step may feed.
_NEVER_MERGED = frozenset(("Placeholder", "PlaceholderWithDefault"))

# Binary ops whose two inputs commute exactly (IEEE addition and multiplication commute bit for
# bit); AddN is left out, its sum rounds in input order.
_COMMUTATIVE = frozenset(("AddV2", "Add", "Mul", "Maximum", "Minimum", "Equal", "NotEqual",
                          "LogicalAnd", "LogicalOr"))


class _NotComparable(Exception):
    """An attr value with no plain-value form: its node is not merged."""


def _frozen(value):
    """A hashable form of an attr value that is equal only for values that compute alike."""
    kind = type(value)
    if kind is str or value is None:
        return value
    if kind is dtypes.DType:
        return ("t", value.as_datatype_enum)
    if kind is bool or kind is np.bool_:
        return ("b", bool(value))
    if kind is int or isinstance(value, np.integer):
        return ("i", int(value))
    if kind is float or isinstance(value, np.floating):
        return ("f", float(value).hex())
    if kind is bytes:
        return ("y", value)
    if kind is np.ndarray:
        if value.dtype == object:
            if value.size > 1024:
                raise _NotComparable
            return ("o", value.shape, tuple(_frozen(item) for item in value.reshape(-1)))
        if value.nbytes > MAX_COMPARED_BYTES:
            raise _NotComparable
        return ("a", value.dtype.str, value.shape, value.tobytes())
    if isinstance(value, TensorShape):
        return ("s", None if value.rank is None else tuple(value.as_list()))
    if isinstance(value, (list, tuple)):
        return ("l", tuple(_frozen(item) for item in value))
    if isinstance(value, dict):
        return ("d", tuple(sorted((key, _frozen(item)) for key, item in value.items())))
    raise _NotComparable


def _signature(node):
    """The node's signature (see the module doc), or None when it has no comparable form."""
    try:
        # In the attrs' own order: nodes of one op type list them alike, and two that do not
        # only miss a merge.
        attrs = tuple([(key, _frozen(value)) for key, value in node.attrs.items()
                       if key not in _BOOKKEEPING])
    except (_NotComparable, TypeError):
        return None
    inputs = tuple(node.inputs)
    if len(inputs) == 2 and node.op_type in _COMMUTATIVE:
        # Unordered: the pair as a frozenset, with a flag for x op x (a set of one).
        inputs = (frozenset(inputs), inputs[0] is inputs[1])
    controls = node.controls
    if len(controls) > 1:
        controls = tuple(sorted(controls))
    return (node.op_type, inputs, attrs, controls, len(node.outputs))


@register_pass("common_subgraph_elimination")
def eliminate_common_subexpressions(nodes, step):
    """Removes the later of identical stateless nodes (see the module doc).

    Args:
      nodes: one device's `plan.Node`s, in execution order.
      step: the `optimizer.Step` (feeds, fetches).

    Returns:
      The new node list, or `nodes` itself when nothing merged.
    """
    from sessionlib.runtime.plan import Node

    fed, fetched = step.fed, step.fetched
    control_names = {name for node in nodes for name in node.controls}
    redirect = {}           # a removed node's output -> the kept node's output
    kept = {}               # signature -> the kept node
    result = []
    for node in nodes:
        if redirect:
            for key in node.inputs:
                if key in redirect:
                    node = Node(node.op_type, [redirect.get(k, k) for k in node.inputs],
                                node.outputs, node.attrs, node.name, node.origin,
                                node.controls)
                    break
        opdef = registry.find(node.op_type)
        if (opdef is None or opdef.stateful or node.op_type in _NEVER_MERGED
                or not node.outputs or not fed.isdisjoint(node.outputs)):
            result.append(node)
            continue
        signature = _signature(node)
        if signature is None:
            result.append(node)
            continue
        first = kept.get(signature)
        if first is None:
            kept[signature] = node
            result.append(node)
        elif node.name in control_names or not fetched.isdisjoint(node.outputs):
            result.append(node)
        else:
            redirect.update(zip(node.outputs, first.outputs))
    return result if redirect else nodes
