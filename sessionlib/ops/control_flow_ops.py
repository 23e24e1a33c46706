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
      A NoOp that runs after every input op. As in TF, when the inputs are on one (requested)
      device the NoOp asks for that device and depends on them directly; when they span
      devices, one NoOp per device (``<name>/NoOp``, ``<name>/NoOp_1``, ..., in device order)
      gathers that device's inputs, so only one control edge per device crosses to the root.
    """
    ops = []
    for item in inputs:
        for element in (item if isinstance(item, (list, builtins.tuple, set)) else [item]):
            op = _as_op(element)
            if op not in ops:
                ops.append(op)
    graph = ops[0].graph if ops else graph_lib.get_default_graph()
    by_device = {}
    for op in ops:
        by_device.setdefault(op.device, []).append(op)
    if len(by_device) <= 1:
        # Placing the NoOp with its inputs puts `train` or `init` with the variables' updates.
        shared = next(iter(by_device), "")
        with graph.control_dependencies(ops), graph.device(shared):
            return graph.create_op("NoOp", [], name=name or "group_deps")
    with graph_lib.name_scope(name, "group_deps") as scope:
        gathered = []
        for device in sorted(by_device):
            with graph.control_dependencies(by_device[device]), graph.device(device):
                gathered.append(graph.create_op("NoOp", [], name="NoOp"))
        with graph.control_dependencies(gathered):
            return graph.create_op("NoOp", [], name=scope)


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
