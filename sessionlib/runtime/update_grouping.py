"""Grouping of independent updates: a plan pass that runs a step's optimizer updates of
different variables as one node, whose kernel runs them in parallel.

Why. A training step ends with one update op per variable (``ResourceApplyAdam`` and the
like, ``ops/training_ops.py``). None reads another's result, so nothing orders them, yet an
executor that runs one node at a time would update the variables one after another, on one
core, paying its per-node cost for each. Grouped, the updates run in one kernel call: their
loops share one parallel region (``sessionlib._core.training.apply_group``), split into work
items that are whole small variables or blocks of large ones, so a step with hundreds of small
variables or a few large ones keeps every core of the device busy.

Which ops. An op joins a group when its registration says so (``OpDef.fusion ==
INDEPENDENT_UPDATE``) and it has no outputs: its only effect is on its resources. Nothing here
knows op names.

Where the group runs. `group` walks one device's nodes in order and holds back each update it
meets; the group runs as one node at the first node that depends on a held update (through a
control input: an update has no outputs to read), or at the end. Holding an update back is
safe because nothing between its own place and the group's depends on it: that is the rule
that closes a group. A node that depends on a held update but has no outputs (the `_Send` of a
control edge to another device, a `NoOp`) does not close the group: it is held back too, and
runs right after it, so that the updates of a device whose every update signals another
device still run together. Two updates in one group that turn out, at run time, to share a variable
are not independent: the kernel runs the second alone, after the others (its effect is the
same as in sequence).

The node. ``_GroupedUpdate`` stands where the group ran, with the last member's `origin`. Its
inputs are the members' inputs, concatenated; its attrs are plain values (they pickle to a
device worker):
  ``member_kernels``: each member's kernel name (a worker resolves them from its own table);
  ``member_starts``: where each member's inputs begin, and their end (length members + 1);
  ``member_attrs``: each member's attrs;
  ``member_origins``: each member's origin, so that a member's error names the member's op;
  ``fused_ops``, ``fused_types``: the member op names and types, which traces, partition
    graphs and placement pictures show, as for fused elementwise chains.
A group of one is left as the op itself.

Switching it off: with fusion (``SESSIONLIB_FUSION=0``, or ``opt_level = L0`` for one
session), since both are compile-time rewrites of the same plan.

The reference kernel is the spec: each member's reference kernel, in member order.
"""

from sessionlib._core import elementwise as _elementwise
from sessionlib._core import training as _training
from sessionlib.framework import registry
from sessionlib.runtime import kernel_table

__all__ = ["GROUPED_OP_TYPE", "INDEPENDENT_UPDATE", "group", "reference_kernel"]

GROUPED_OP_TYPE = "_GroupedUpdate"

# The `OpDef.fusion` value of an op that may join a group.
INDEPENDENT_UPDATE = "independent_update"

# The most members of one group node: a longer run of updates makes several groups.
MAX_MEMBERS = 4096


def _groupable(node):
    if node.outputs:
        return False
    opdef = registry.get(node.op_type)
    return opdef.fusion == INDEPENDENT_UPDATE


def group(nodes):
    """Replaces runs of independent updates among `nodes` with `_GroupedUpdate` nodes.

    Args:
      nodes: `plan.Node`s in execution order (one device).

    Returns:
      The new node list (the input list itself when nothing was grouped).
    """
    from sessionlib.runtime.plan import Node

    result = []
    held, deferred = [], []
    waiting_names = set()      # the held updates' and the deferred nodes' names
    count = 0

    def flush():
        nonlocal count
        if len(held) == 1:
            result.append(held[0])
        elif held:
            result.append(_grouped_node(Node, held, count))
            count += 1
        result.extend(deferred)
        held.clear()
        deferred.clear()
        waiting_names.clear()

    for node in nodes:
        waits = bool(waiting_names) and any(name in waiting_names for name in node.controls)
        if _groupable(node):
            if waits or len(held) == MAX_MEMBERS:
                flush()
            held.append(node)
            waiting_names.add(node.name)
        elif waits and not node.outputs:
            # A node that only waits for an update (a control edge's _Send, a NoOp) and that
            # nothing can read: it moves behind the group, rather than closing it.
            deferred.append(node)
            waiting_names.add(node.name)
        else:
            if waits:
                flush()
            result.append(node)
    flush()
    return result if count else nodes


def _grouped_node(node_class, members, number):
    inputs, starts, controls = [], [0], []
    for member in members:
        inputs.extend(member.inputs)
        starts.append(len(inputs))
        controls.extend(c for c in member.controls if c not in controls)
    attrs = {
        "_name": f"grouped_update_{number}",
        "member_kernels": tuple(registry.get(m.op_type).kernel for m in members),
        "member_starts": tuple(starts),
        "member_attrs": tuple(m.attrs for m in members),
        "member_origins": tuple(m.origin for m in members),
        "fused_ops": tuple(m.name for m in members),
        "fused_types": tuple(m.op_type for m in members),
    }
    return node_class(GROUPED_OP_TYPE, inputs, [], attrs, attrs["_name"], members[-1].origin,
                      tuple(controls))


# ---- the kernels --------------------------------------------------------------------------------

def _run_member(ctx, inputs, attrs, index, kernel):
    """Runs member `index` alone; its error carries the member's origin (``failures``)."""
    starts = attrs["member_starts"]
    try:
        kernel(ctx, inputs[starts[index]:starts[index + 1]], attrs["member_attrs"][index])
    except Exception as err:
        err.member_origin = attrs["member_origins"][index]
        raise


def reference_kernel(ctx, inputs, attrs):
    """The spec: each member through its reference kernel, in member order."""
    for index, name in enumerate(attrs["member_kernels"]):
        _run_member(ctx, inputs, attrs, index, kernel_table.lookup(name).reference)
    return ()


# id(member kernel names) -> (the names, their fast kernels). Keyed by the identity of the
# plan's own tuple, which lives as long as the plan: hashing hundreds of names per step would
# cost more than the lookup saves. The entry holds the tuple, so its id is not reused while
# the entry exists; the cache is cleared when it grows past _MAX_CACHED plans.
_fast_kernels = {}
_MAX_CACHED = 256


def fast_kernel(ctx, inputs, attrs):
    """The members' dense updates in one parallel region; the rest one by one."""
    names = attrs["member_kernels"]
    entry = _fast_kernels.get(id(names))
    if entry is None or entry[0] is not names:
        if len(_fast_kernels) >= _MAX_CACHED:
            _fast_kernels.clear()
        entry = _fast_kernels[id(names)] = (names, [kernel_table.lookup(n).fast
                                                    for n in names])
    kernels = entry[1]
    for index in _training.apply_group(ctx, inputs, attrs, kernels,
                                       _elementwise.get_num_threads):
        _run_member(ctx, inputs, attrs, index, kernels[index])
    return ()


def _infer(inputs, attrs):
    del inputs, attrs
    return []


def _register():
    kernel_table.register_kernel(GROUPED_OP_TYPE, fast=fast_kernel, reference=reference_kernel)
    registry.register_op(GROUPED_OP_TYPE, infer=_infer, kernel=GROUPED_OP_TYPE, stateful=True,
                         doc="Independent updates run as one node (runtime/update_grouping.py).",
                         gradient=registry.NOT_DIFFERENTIABLE)


_register()
