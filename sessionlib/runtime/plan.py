"""Compiling a (feeds, fetches, targets) request into an `ExecPlan`: flat integer arrays.

The plan is the contract between the Python front end and the executors. It holds no graph
objects: op ids (indices into the registry's kernel tables), calling conventions, buffer slot
numbers and the plain-value attrs of each node. So the same plan runs in the reference executor,
in the Cython executor, and (later) inside a device worker process it was shipped to.

Slots: every tensor the step produces or is fed gets a slot in a flat list of buffers. After the
last node that reads a slot, the slot is released (set to None), so a long chain keeps only its
live intermediate results in memory. Fed and fetched slots are never released.
"""

import collections

import numpy as np

from sessionlib.framework import registry

__all__ = ["ExecPlan", "prune", "compile_plan"]


class ExecPlan:
    """A topologically ordered step, as flat arrays.

    Attributes:
      op_ids, kinds: int32 arrays, one entry per node.
      in_ptr, out_ptr, release_ptr: int32 arrays of length nodes + 1; node i reads slots
        ``in_slots[in_ptr[i]:in_ptr[i + 1]]`` and likewise writes and releases.
      in_slots, out_slots, release_slots: int32 arrays of slot numbers.
      attrs: per node, the plain-value attr dict handed to generic kernels (with ``'_name'``).
      names: per node, the op name (for errors and traces).
      num_slots: the size of the buffer list.
    """

    __slots__ = ("op_ids", "kinds", "in_ptr", "in_slots", "out_ptr", "out_slots",
                 "release_ptr", "release_slots", "attrs", "names", "num_slots")

    def __init__(self, op_ids, kinds, in_ptr, in_slots, out_ptr, out_slots, release_ptr,
                 release_slots, attrs, names, num_slots):
        self.op_ids = op_ids
        self.kinds = kinds
        self.in_ptr = in_ptr
        self.in_slots = in_slots
        self.out_ptr = out_ptr
        self.out_slots = out_slots
        self.release_ptr = release_ptr
        self.release_slots = release_slots
        self.attrs = attrs
        self.names = names
        self.num_slots = num_slots

    def __len__(self):
        return len(self.names)

    def __getstate__(self):
        return {name: getattr(self, name) for name in self.__slots__}

    def __setstate__(self, state):
        for name, value in state.items():
            setattr(self, name, value)


def prune(fed_tensors, fetch_tensors, target_ops):
    """The ops that must run to compute the fetches and targets, given the feeds.

    An op runs when a fetch or a later op needs one of its outputs that is not fed, when it is
    a target, or when a running op names it as a control input. As in TF, feeding output 0 of
    an op also stands in for the op as a control input (TF moves those control edges to the
    fed value), so a control dependency on a fed placeholder does not run the placeholder.

    Returns:
      The needed ops, in a deterministic topological order (creation order breaks ties).
    """
    fed = set(fed_tensors)
    needed = set()
    stack = [t.op for t in fetch_tensors if t not in fed] + list(target_ops)
    while stack:
        op = stack.pop()
        if op in needed:
            continue
        needed.add(op)
        for tensor in op._inputs:
            if tensor not in fed and tensor.op not in needed:
                stack.append(tensor.op)
        for control in op._control_inputs:
            if control not in needed and not (control._outputs and control._outputs[0] in fed):
                stack.append(control)
    return _topological_order(needed, fed)


def _topological_order(ops, fed):
    """Kahn's algorithm over `ops`; raises ValueError on a cycle."""
    pending = {}
    consumers = collections.defaultdict(list)
    for op in ops:
        producers = {t.op for t in op._inputs if t not in fed and t.op in ops}
        producers.update(c for c in op._control_inputs if c in ops)
        pending[op] = len(producers)
        for producer in producers:
            consumers[producer].append(op)
    ready = sorted((op for op, count in pending.items() if count == 0), key=lambda o: o._id)
    ready.reverse()
    order = []
    while ready:
        op = ready.pop()
        order.append(op)
        newly_ready = []
        for consumer in consumers[op]:
            pending[consumer] -= 1
            if pending[consumer] == 0:
                newly_ready.append(consumer)
        if newly_ready:
            ready.extend(sorted(newly_ready, key=lambda o: o._id, reverse=True))
    if len(order) != len(ops):
        stuck = sorted(op.name for op, count in pending.items() if count > 0)
        raise ValueError(f"Graph has a cycle through: {', '.join(stuck[:5])}")
    return order


def compile_plan(order, fed_tensors, fetch_tensors):
    """Builds the `ExecPlan` for ops `order` (from `prune`).

    Args:
      order: the ops to run, topologically ordered.
      fed_tensors: the tensors whose values the caller places in slots before the run.
      fetch_tensors: the tensors whose slots the caller reads after the run.

    Returns:
      (plan, feed_slots, fetch_slots): the plan, and the slot of each fed and fetched tensor.
    """
    slot_of = {}

    def slot(tensor):
        found = slot_of.get(tensor)
        if found is None:
            found = slot_of[tensor] = len(slot_of)
        return found

    feed_slots = [slot(t) for t in fed_tensors]
    fed = set(fed_tensors)
    op_ids, kinds, in_slots, out_slots, in_ptr, out_ptr, attrs, names = ([] for _ in range(8))
    last_reader = {}
    for index, op in enumerate(order):
        opdef = op._opdef
        op_ids.append(opdef.op_id)
        kinds.append(opdef.kind)
        in_ptr.append(len(in_slots))
        for tensor in op._inputs:
            number = slot(tensor)
            in_slots.append(number)
            last_reader[number] = index
        out_ptr.append(len(out_slots))
        for tensor in op._outputs:
            # A fed output keeps the fed value: the op writes its result to a scratch slot.
            out_slots.append(slot(tensor) if tensor not in fed else _scratch(slot_of))
        node_attrs = dict(op._attrs)
        node_attrs["_name"] = op.name
        attrs.append(node_attrs)
        names.append(op.name)
    in_ptr.append(len(in_slots))
    out_ptr.append(len(out_slots))
    fetch_slots = [slot(t) for t in fetch_tensors]
    keep = set(feed_slots) | set(fetch_slots)
    releases = collections.defaultdict(list)
    for number, index in last_reader.items():
        if number not in keep:
            releases[index].append(number)
    release_ptr, release_slots = [], []
    for index in range(len(order)):
        release_ptr.append(len(release_slots))
        release_slots.extend(sorted(releases.get(index, ())))
    release_ptr.append(len(release_slots))

    def int_array(values):
        return np.asarray(values, dtype=np.int32)

    plan = ExecPlan(int_array(op_ids), int_array(kinds), int_array(in_ptr),
                    int_array(in_slots), int_array(out_ptr), int_array(out_slots),
                    int_array(release_ptr), int_array(release_slots), attrs, names,
                    len(slot_of))
    return plan, feed_slots, fetch_slots


def _scratch(slot_of):
    key = object()
    slot_of[key] = len(slot_of)
    return slot_of[key]


def bind_kernels(plan, reference=False):
    """The per-node kernel callables of `plan`, from the registry's fast or reference table."""
    if reference:
        return [registry.lookup_id(op_id).reference for op_id in plan.op_ids.tolist()]
    return [registry.lookup_id(op_id).kernel for op_id in plan.op_ids.tolist()]
