"""Constant folding: stateless nodes whose inputs are all constants are evaluated once, when
the step is compiled, and become ``Const`` nodes.

Design. One walk over a device's nodes in execution order keeps the value of every key that a
``Const`` node (or an earlier fold) produces and that the step does not feed. A node whose
inputs all have such values, and that may be folded (see below), runs now through the kernel
table's fast kernel, the one the Cython executor would run; each of its outputs that a kept
node reads, or that is fetched, becomes a ``Const`` node at the folded node's place, producing
the same key (so readers, fetches and slot assignment are unchanged). Constants that only
folded nodes read are dropped, unless fetched. The new node's ``attrs['_rewritten_from']``
lists every op its value was computed from, in execution order (the constants included), its
``origin`` is the folded op's, and its name is fresh (``y/_rewrite_0``); traces and partition
graphs show it as ``"y/_rewrite_0 = Const() [folded: a, b, mul, y]"``.

What is never folded:
  * stateful ops (`OpDef.stateful`: variables, queues, random ops, ``_Send``/``_Recv``), and
    placeholders (``Placeholder``, ``PlaceholderWithDefault``: a later step may feed them);
  * a node whose output this step feeds: a feed always wins, and everything computed from a
    fed value has a non-constant input, so it is never folded either (TF's arithmetic
    optimizer can drop such feeds; sessionlib keeps the documented behaviour);
  * nodes with no inputs, nodes with control inputs and nodes that another node names as a
    control input: their place in the order is part of the step;
  * outputs that are not plain numeric arrays (strings, resources, variants): their size is not
    known without walking them, and they may hold live objects;
  * a node whose kernel raises now: it stays, so the run raises the same error, naming the op.

Size cap, as TF's grappler has it: a result is folded when it takes at most `MAX_CONSTANT_BYTES`
(10 MiB), or when it is no bigger than the inputs it is computed from (folding then never makes
the step hold more than its constants already did: a 40 MB ``exp(-(a*b+c)**2)`` over 40 MB
constants folds, a 64 MB ``tile`` of a small constant does not, nor does anything computed
from it). The value is checked against its key's dtype: a fold never changes a dtype.

The fold runs the kernels once per compiled step, on the compiling thread; it is never on the
per-run path.
"""

import numpy as np

from sessionlib.framework import registry
from sessionlib.runtime import context, kernel_table
from sessionlib.runtime.optimizer import register_pass

__all__ = ["MAX_CONSTANT_BYTES", "fold_constants"]

# A folded result bigger than this must be no bigger than its inputs (TF: 10 MB).
MAX_CONSTANT_BYTES = 10 * 1024 * 1024

# Stateless ops that must keep running: a placeholder is a value a step may feed.
_NEVER_FOLDED = frozenset(("Placeholder", "PlaceholderWithDefault", "Const", "NoOp"))


def _fold_context():
    """The `RunContext` a folded kernel runs with: a stateless kernel touches no resources,
    so it gets an empty container of its own."""
    return context.RunContext(context.ResourceContainer("constant_folding"),
                              context.CancellationManager(), None, 0)


def _foldable(node, fed, control_names):
    opdef = registry.find(node.op_type)
    if (opdef is None or opdef.stateful or node.op_type in _NEVER_FOLDED
            or opdef.function_attrs
            or opdef.fetch_wrapper is not None
            or not node.inputs or not node.outputs or node.controls
            or node.name in control_names):
        return False
    for key in node.outputs:
        if key in fed:
            return False
        np_dtype = getattr(getattr(key, "dtype", None), "as_numpy_dtype", None)
        if np_dtype is None or np.dtype(np_dtype) == object:
            return False
    return True


def _evaluate(node, values, ctx):
    """The outputs of `node` on input `values`, as read-only arrays, or None when its kernel
    fails or gives something a constant cannot hold."""
    kernel_def = kernel_table.lookup(registry.get(node.op_type).kernel)
    kernel = kernel_def.fast
    try:
        if kernel_def.kind == kernel_table.KIND_UNARY:
            results = (kernel(values[0]),)
        elif kernel_def.kind == kernel_table.KIND_BINARY:
            results = (kernel(values[0], values[1]),)
        else:
            results = tuple(kernel(ctx, tuple(values), node.attrs))
    except Exception:  # noqa: BLE001 - the op stays, and the run raises its error
        return None
    if len(results) != len(node.outputs):
        return None
    arrays = []
    for key, result in zip(node.outputs, results):
        if isinstance(result, np.generic):
            result = np.asarray(result)
        if (type(result) is not np.ndarray
                or result.dtype != np.dtype(key.dtype.as_numpy_dtype)
                or not key.shape.is_compatible_with(result.shape)):
            return None
        # Shared by every run of the step, as a graph constant is: no kernel may write to it.
        result.setflags(write=False)
        arrays.append(result)
    return arrays


def _merged_names(*groups):
    """The names of `groups` in order, each once."""
    return tuple(dict.fromkeys(name for group in groups for name in group))


@register_pass("constant_folding")
def fold_constants(nodes, step):
    """Replaces the nodes computing constants with ``Const`` nodes (see the module doc).

    Args:
      nodes: one device's `plan.Node`s, in execution order.
      step: the `optimizer.Step` (feeds, fetches, fresh names).

    Returns:
      The new node list, or `nodes` itself when nothing folded.
    """
    from sessionlib.runtime.plan import Node

    fed, fetched = step.fed, step.fetched
    control_names = {name for node in nodes for name in node.controls}
    known = {}          # key -> (value, names of the ops it was computed from)
    folded = {}         # node index -> the values of its outputs
    ctx = None
    for index, node in enumerate(nodes):
        if node.op_type == "Const":
            key = node.outputs[0]
            if key not in fed:
                known[key] = (node.attrs["value"], (node.name,))
            continue
        if not all(key in known for key in node.inputs):
            continue
        if not _foldable(node, fed, control_names):
            continue
        ctx = ctx or _fold_context()
        inputs = [known[key] for key in node.inputs]
        values = _evaluate(node, [value for value, _ in inputs], ctx)
        if values is None:
            continue
        size = sum(value.nbytes for value in values)
        if size > MAX_CONSTANT_BYTES and size > sum(value.nbytes for value, _ in inputs):
            continue
        names = _merged_names(*(names for _, names in inputs), (node.name,))
        for key, value in zip(node.outputs, values):
            known[key] = (value, names)
        folded[index] = values
    if not folded:
        return nodes

    # What the kept nodes still read: only those values need a node.
    needed = set(fetched)
    for index, node in enumerate(nodes):
        if index not in folded:
            needed.update(node.inputs)
    read_by_folded = {key for index in folded for key in nodes[index].inputs}
    result = []
    for index, node in enumerate(nodes):
        if index in folded:
            for key, value in zip(node.outputs, folded[index]):
                if key not in needed:
                    continue
                name = step.fresh_name(node.name)
                attrs = {"value": value, "dtype": key.dtype, "_name": name,
                         "_rewritten_from": known[key][1]}
                result.append(Node("Const", [], [key], attrs, name, node.origin))
        elif (node.op_type == "Const" and node.outputs[0] in read_by_folded
              and node.outputs[0] not in needed and node.outputs[0] not in fed
              and node.name not in control_names):
            continue        # read only by folded nodes
        else:
            result.append(node)
    return result
