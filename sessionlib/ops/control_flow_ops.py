"""Grouping ops: `no_op`, `group` and `tuple`."""

import builtins

from sessionlib.framework import graph as graph_lib
from sessionlib.framework import registry
from sessionlib.framework.graph import Operation, Tensor

__all__ = ["no_op", "group", "tuple", "Assert"]


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


# ---- Assert (issue 16: tf.case(exclusive=True), tf.debugging.Assert) -------------------------

def _assert_infer(inputs, attrs):
    from sessionlib import dtypes

    if inputs[0].dtype._base is not dtypes.bool:
        raise TypeError(f"Assert's condition must be bool, got {inputs[0].dtype.name}")
    if inputs[0].shape.rank not in (None, 0):
        raise ValueError(f"Shape must be rank 0 but is rank {inputs[0].shape.rank} for the "
                         "condition of Assert")
    return []


registry.register_op("Assert", infer=_assert_infer, kernel="Assert", stateful=True,
                     doc="Fails the run with InvalidArgumentError when its condition is false.",
                     gradient=registry.NOT_DIFFERENTIABLE)


def Assert(condition, data, summarize=None, name=None):  # noqa: N802 - TF's public name
    """An op failing the run with InvalidArgumentError when `condition` is false
    (``tf.debugging.Assert``); the message lists `data` (at most `summarize` entries each).

    Args:
      condition: a scalar bool Tensor.
      data: the tensors (or Python values) to print when it fails.
      summarize: how many entries of each tensor to print (default 3).
      name: the op name.

    Returns:
      The Assert Operation (use it in control dependencies).
    """
    graph = graph_lib.get_default_graph()
    with graph.name_scope(name or "Assert"):
        condition = graph_lib.convert_to_tensor(condition)
        tensors = [graph_lib.convert_to_tensor(item) for item in data]
        return graph.create_op("Assert", [condition] + tensors,
                               {"T": [t.dtype._base for t in tensors],
                                "summarize": 3 if summarize is None else int(summarize)},
                               name="Assert")
