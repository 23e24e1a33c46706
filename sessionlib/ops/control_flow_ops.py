"""Grouping ops: `no_op`, `group` and `tuple`."""

import builtins

from sessionlib.framework import graph as graph_lib
from sessionlib.framework import registry
from sessionlib.framework.graph import Operation, Tensor

__all__ = ["no_op", "group", "tuple"]


def _no_outputs(inputs, attrs):
    return []


registry.register_op("NoOp", infer=_no_outputs, kernel="NoOp", num_inputs=0,
                     doc="Does nothing; a target for control dependencies.",
                     gradient=registry.NOT_DIFFERENTIABLE)


def no_op(name=None):
    """An op that does nothing (``tf.no_op``)."""
    return graph_lib.get_default_graph().create_op("NoOp", [], name=name or "NoOp")


def _as_op(item):
    if isinstance(item, Tensor):
        return item.op
    if isinstance(item, Operation):
        return item
    converter = getattr(item, "_as_graph_element", None)
    if converter is not None:
        return _as_op(converter())
    # Variables and other objects exposing an `op`.
    op = getattr(item, "op", None)
    if isinstance(op, Operation):
        return op
    raise TypeError(f"Expected an Operation or Tensor, got {item!r}")


def group(*inputs, name=None):
    """An op that runs after all `inputs` (``tf.group``).

    Args:
      *inputs: Operations, Tensors (their ops), or lists of them.
      name: the op name.

    Returns:
      A NoOp with a control input on each input op.
    """
    ops = []
    for item in inputs:
        for element in (item if isinstance(item, (list, builtins.tuple, set)) else [item]):
            op = _as_op(element)
            if op not in ops:
                ops.append(op)
    graph = ops[0].graph if ops else graph_lib.get_default_graph()
    # As TF: when every input is on one (requested) device, the NoOp asks for it too, so that
    # the placer puts `train` or `init` with the variables' updates.
    devices = {op.device for op in ops}
    shared = devices.pop() if len(devices) == 1 else ""
    with graph.control_dependencies(ops), graph.device(shared or ""):
        return graph.create_op("NoOp", [], name=name or "group_deps")


def tuple(tensors, name=None, control_inputs=None):  # noqa: A001 - TF's public name
    """Tensors equal to `tensors` that are only available once all of them are computed.

    Args:
      tensors: a list of Tensors (or None entries, kept as None).
      name: a name scope.
      control_inputs: extra ops to wait for.

    Returns:
      A list of Identity tensors, gated on every input.
    """
    from sessionlib.ops import array_ops

    tensors = list(tensors)
    present = [t for t in tensors if t is not None]
    graph = present[0].graph if present else graph_lib.get_default_graph()
    with graph.name_scope(name or "tuple"):
        gate = group(*(present + list(control_inputs or [])))
        with graph.control_dependencies([gate]):
            # TF names each gated output "control_dependency" (its with_dependencies helper).
            return [None if t is None else array_ops.identity(t, name="control_dependency")
                    for t in tensors]
