"""Fusion of elementwise chains: a plan pass that turns chains and trees of elementwise ops
into one ``_FusedElementwise`` node running a small instruction program in one pass over memory.

Where it runs. `fuse` rewrites one device's node list when a step is compiled, before slots are
assigned, and never per run. ``plan.compile_nodes`` runs it for a step that runs in process;
for a step partitioned over devices, ``partition._compile`` runs it on each device's nodes
(then compiles them with ``fuse=False``), so that the partition graphs and traces describe
the fused nodes that really run. It looks only at registrations: an op fuses when its
`OpDef.fusion` names an instruction (``'add'``, ``'exp'``, ...; the arithmetic ops of math_ops
and nn.relu), a fold (``'add_n'``: AddN, whose N inputs are summed by N - 1 'add'
instructions, when their shapes are known equal) or a reduction (``'reduce_sum'``,
``'reduce_mean'``, ``'reduce_max'``, ``'reduce_min'``).

What fuses. Walking the nodes backwards, an elementwise node joins the group of its consumer
when its output
  * is read by exactly one node, which is itself in a group (an elementwise op, or a reduction
    reading it as its data input),
  * is not fetched and not fed (a fed value overrides the op's result; a fetched one must
    exist),
so every intermediate result the user or another op can see stays materialised. A member read
by one node of a group and by nodes outside any group (an LSTM's gate activations, which the
gradient keeps) still joins: the fused node returns it as an extra output (``exports``), when
its shape and dtype are the group's result's (known when the step compiles), the group ends
elementwise, and every outside reader comes after the group's last op. A reduction
whose axes are a graph constant (and not fed) may end a group; then the chain's result is never
materialised either. A group becomes one node when it holds at least two ops. Integer
floor_div, floor_mod and pow can raise (division by zero, negative powers) and stay unfused, so
that such an error names its own op.

The node. The fused node stands where the group's last op stood, with that op's `origin` (so
an error maps to the op whose result the group computes); ``attrs['fused_ops']`` lists the
member op names, which traces show (``"fused_0 = _FusedElementwise(mul, add, neg, ...)"``).
Its attrs are plain values and pickle to a device worker:
  ``program``: a flat tuple of ``(opcode, dst, a, b)`` int quadruples; operands below
    ``num_inputs`` are the node's inputs, the others registers; ``b == -1`` for unary
    instructions, ``dst == -1`` for the output;
  ``num_inputs``, ``num_registers``;
  ``reduce`` (0 or 1 + the index in REDUCTIONS), ``reduce_src`` (the operand reduced),
    ``reduce_axes`` (the constant axes, as written), ``keep_dims``, ``reduce_op`` (its type);
  ``fused_ops``, ``fused_types``: the member op names and types, in execution order;
  ``exports`` (only when some member is read outside the group): registers whose values are
    the node's extra outputs, after the result.

The instruction set is the compiled kernel's (``sessionlib._core.fused``): OPCODES,
REDUCTIONS and the limits are read from it, never restated here.

Switching it off. ``SESSIONLIB_FUSION=0`` in the environment (``runtime/settings.py``) turns
fusion off for every session. ``graph_options.optimizer_options.opt_level = L0`` (TF's "no
optimizations") turns it off for one session: all its steps compile without fusion, those that
run in process and the partitions it runs on device workers alike.

`reference_kernel` is the spec of the program: it runs every instruction through the unfused
reference kernel of the same name, and the reduction through the reduction's own reference
kernel, so the reference executor gives exactly the unfused results. This module hands it to
the compiled kernel (``fused.set_fallbacks``) for the programs its C loop does not run.
"""

import collections

import numpy as np

from sessionlib._core import fused as _fused_kernel
from sessionlib.framework import registry
from sessionlib.framework.tensor_shape import TensorShape, broadcast_shapes
from sessionlib.runtime import kernel_table, settings
from sessionlib.runtime import reference_kernels as _ref

__all__ = ["OPCODES", "REDUCTIONS", "FUSED_OP_TYPE", "fuse", "enabled", "reference_kernel",
           "reduce_with_kernel", "describe"]

FUSED_OP_TYPE = "_FusedElementwise"

# The instruction set, in opcode order, and the reductions, in the order of a program's
# ``reduce`` attr (1 + the index here): the compiled kernel's own tables.
OPCODES = _fused_kernel.OPCODE_NAMES
_OPCODE = {name: index for index, name in enumerate(OPCODES)}
_BINARY = frozenset(_fused_kernel.BINARY_OPCODE_NAMES)
# Instructions that raise on integers in the unfused kernels: fused for floats only.
_RAISES_ON_INTEGERS = frozenset(("floor_div", "floor_mod", "pow"))
# Folds: an op of N same-shape inputs whose `OpDef.fusion` names one of these computes
# ((in0 op in1) op in2) ..., one binary instruction per further input, in the order its
# unfused kernel adds them (so the fused result is the same, bit for bit).
FOLDS = {"add_n": "add"}
REDUCTIONS = _fused_kernel.REDUCTION_NAMES[1:]

# Limits of the fused kernel (a group that would exceed them is split or left alone). A group
# of at most MAX_MEMBERS ops has at most that many instructions, within the kernel's
# MAX_INSTRUCTIONS, unless it holds folds (checked when the program is built).
MAX_MEMBERS = 256
MAX_INSTRUCTIONS = _fused_kernel.MAX_INSTRUCTIONS
MAX_INPUTS = _fused_kernel.MAX_INPUTS
MAX_REGISTERS = _fused_kernel.MAX_REGISTERS
MAX_EXPORTS = _fused_kernel.MAX_EXPORTS


def enabled():
    """Whether fusion is on for this process by default (``settings.fusion_enabled``)."""
    return settings.fusion_enabled()


# ---- the pass ---------------------------------------------------------------------------------

def _constant_axes(key, fed):
    """The constant value of a reduction's axes input, as a tuple of ints, or None."""
    if key in fed or not hasattr(key, "op"):
        return None
    from sessionlib.framework import tensor_util

    value = tensor_util.constant_value(key)
    if value is None:
        return None
    value = np.asarray(value)
    if value.dtype.kind not in "iu" or value.ndim > 1:
        return None
    return tuple(int(v) for v in value.reshape(-1))


def _same_key(a, b):
    # Tensors compare by identity (their == may be overloaded); runtime keys are tuples.
    return a is b or (type(a) is tuple and type(b) is tuple and a == b)


def _fusion_of(node, fed, static_shapes):
    """('op', name), ('fold', name) or ('reduce', name, axes) when `node` can be in a group,
    else None. `static_shapes` maps the keys that are not Tensors to their static shapes."""
    opdef = registry.get(node.op_type)
    name = opdef.fusion
    if name is None or len(node.outputs) != 1:
        return None
    dtype = node.attrs.get("T")
    np_dtype = getattr(dtype, "as_numpy_dtype", None)
    if np_dtype is None:
        return None
    kind = np.dtype(np_dtype).kind
    if kind not in "fiu" or np.dtype(np_dtype).itemsize == 0:
        return None
    if name in REDUCTIONS:
        if len(node.inputs) != 2:
            return None
        axes = _constant_axes(node.inputs[1], fed)
        return None if axes is None else ("reduce", name, axes)
    if name in FOLDS:
        # The unfused kernel refuses inputs of different shapes where the instruction would
        # broadcast: a fold joins only when the shapes are known equal when the step compiles.
        shapes = [static_shapes.get(key) if type(key) is tuple else getattr(key, "shape", None)
                  for key in node.inputs]
        if (len(shapes) < 2 or shapes[0] is None or not shapes[0].is_fully_defined()
                or any(shape != shapes[0] for shape in shapes[1:])):
            return None
        return ("fold", FOLDS[name])
    if name not in _OPCODE or len(node.inputs) != (2 if name in _BINARY else 1):
        return None
    if kind in "iu" and name in _RAISES_ON_INTEGERS:
        return None
    return ("op", name)


def fuse(nodes, feed_keys, fetch_keys):
    """Replaces fusable groups of `nodes` with `_FusedElementwise` nodes.

    Args:
      nodes: `plan.Node`s in execution order (one device).
      feed_keys, fetch_keys: the fed and fetched values; they are never fused away.

    Returns:
      The new node list (the input list itself when nothing fused).
    """
    result, reordered = _fuse(nodes, feed_keys, fetch_keys, True)
    if reordered:
        # An outside reader of an exported member stood before the group's last op: the
        # fused node stands there, so the readers move after it.
        result = _in_dependency_order(result)
        if result is None:
            # Exports of two groups fed each other through outside readers: without them,
            # every group has only its own inputs.
            result, _ = _fuse(nodes, feed_keys, fetch_keys, False)
    return result


def _fuse(nodes, feed_keys, fetch_keys, with_exports):
    """`fuse`, with exported members when `with_exports`; also returns whether an outside
    reader of an exported member came before its group's fused node."""
    from sessionlib.runtime.plan import Node

    fed, fetched = set(feed_keys), set(fetch_keys)
    readers = collections.defaultdict(set)
    for index, node in enumerate(nodes):
        for key in node.inputs:
            readers[key].add(index)
    static_shapes = {}
    for node in nodes:
        for key, dims in zip(node.outputs, node.attrs.get("_output_shapes", ())):
            static_shapes[key] = TensorShape(dims)
    kinds = [_fusion_of(node, fed, static_shapes) for node in nodes]
    root_of = {}
    members = collections.defaultdict(list)
    exports = collections.Counter()       # root -> members that are extra outputs
    reordered = False
    for index in range(len(nodes) - 1, -1, -1):
        kind = kinds[index]
        if kind is None:
            continue
        root = index
        output = nodes[index].outputs[0]
        if kind[0] != "reduce" and output not in fed and output not in fetched:
            users = readers.get(output, ())
            grouped = [user for user in users if user in root_of]
            if len(grouped) == 1:
                (user,) = grouped
                user_root = root_of[user]
                joins = len(members[user_root]) < MAX_MEMBERS
                if joins and kinds[user][0] == "reduce":
                    # Only as the data input, never as the axes.
                    data, axes = nodes[user].inputs
                    joins = _same_key(data, output) and not _same_key(axes, output)
                if joins and len(users) > 1:
                    outside = users - {user}
                    joins = (with_exports and exports[user_root] < MAX_EXPORTS
                             and kinds[user_root][0] != "reduce"
                             and _exportable(nodes, readers, index, user_root, outside))
                    exports[user_root] += joins
                    reordered |= joins and min(outside) < user_root
                if joins:
                    root = user_root
        root_of[index] = root
        members[root].append(index)
    fused_at = {}
    dropped = set()
    for number, (root, group) in enumerate(sorted(members.items())):
        group.sort()
        elementwise = [i for i in group if kinds[i][0] != "reduce"]
        if not elementwise or len(group) < 2:
            continue
        in_group = set(group)
        exported = [i for i in group if i != root
                    and not readers[nodes[i].outputs[0]] <= in_group]
        node = _fused_node(Node, nodes, group, kinds, number, exported)
        if node is None:
            continue
        fused_at[root] = node
        dropped.update(group)
    if not fused_at:
        return nodes, False
    result = []
    for index, node in enumerate(nodes):
        if index in fused_at:
            result.append(fused_at[index])
        elif index not in dropped:
            result.append(node)
    return result, reordered


def _in_dependency_order(nodes):
    """`nodes` reordered so that each follows the producers of its inputs and its control
    inputs, otherwise in the given order; None when they depend on each other in a cycle."""
    import heapq

    producer, by_name = {}, {}
    for position, node in enumerate(nodes):
        for key in node.outputs:
            producer[key] = position
        by_name[node.name] = position
        if node.op_type == FUSED_OP_TYPE:
            for member in node.attrs.get("fused_ops", ()):
                by_name[member] = position
    waiting = [0] * len(nodes)
    dependents = [[] for _ in nodes]
    for position, node in enumerate(nodes):
        needs = {producer[key] for key in node.inputs if key in producer}
        needs.update(by_name[name] for name in node.controls if name in by_name)
        needs.discard(position)
        waiting[position] = len(needs)
        for need in needs:
            dependents[need].append(position)
    ready = [position for position in range(len(nodes)) if not waiting[position]]
    heapq.heapify(ready)
    order = []
    while ready:
        position = heapq.heappop(ready)
        order.append(nodes[position])
        for dependent in dependents[position]:
            waiting[dependent] -= 1
            if not waiting[dependent]:
                heapq.heappush(ready, dependent)
    return order if len(order) == len(nodes) else None


def _exportable(nodes, readers, index, root, outside):
    """Whether member `index` of the group ending at `root` may be an extra output of the fused
    node, for its readers `outside` the group.

    The fused node stands at `root`: no outside reader may lead to it (the node would wait on
    itself); those before it move after it (`_in_dependency_order`). The kernel writes an exported
    register over the whole result, so the member's shape and dtype must be the result's
    (known when the step compiles); the caller checks that the group ends elementwise (the
    kernel exports nothing from a reduction, even one that keeps the shape).
    """
    if any(_leads_to(nodes, readers, user, root) for user in outside if user < root):
        return False
    output, result = nodes[index].outputs[0], nodes[root].outputs[0]
    shape, dtype = getattr(output, "shape", None), getattr(output, "dtype", None)
    return (shape is not None and dtype is not None and shape.is_fully_defined()
            and shape == getattr(result, "shape", None)
            and dtype == getattr(result, "dtype", None))


def _leads_to(nodes, readers, start, target):
    """Whether node `target` reads, directly or not, an output of node `start` (indices in
    execution order, so the walk stops past `target`)."""
    seen, stack = {start}, [start]
    while stack:
        for key in nodes[stack.pop()].outputs:
            for user in readers.get(key, ()):
                if user == target:
                    return True
                if user < target and user not in seen:
                    seen.add(user)
                    stack.append(user)
    return False


def _fused_node(node_class, nodes, group, kinds, number, exported=()):
    """The `_FusedElementwise` node computing `group` (indices, in order) and returning the
    values of `exported` (member indices) as extra outputs, or None when the program exceeds
    the kernel's limits."""
    root = group[-1]
    produced = {nodes[i].outputs[0]: i for i in group}
    inputs, input_index = [], {}
    register_of = {}           # member index -> register number
    free_registers, num_registers = [], 0
    program = []
    reduce_spec = None

    def operand(key):
        member = produced.get(key)
        if member is not None:
            return None, member
        found = input_index.get(key)
        if found is None:
            found = input_index[key] = len(inputs)
            inputs.append(key)
        return found, None

    # First pass: the inputs, in first-use order, so that register numbers can follow them.
    for index in group:
        kind = kinds[index]
        keys = nodes[index].inputs[:1] if kind[0] == "reduce" else nodes[index].inputs
        for key in keys:
            operand(key)
    num_inputs = len(inputs)
    if num_inputs > MAX_INPUTS:
        return None

    def read(key):
        position, member = operand(key)
        return position if member is None else num_inputs + register_of[member]

    for index in group:
        kind = kinds[index]
        node = nodes[index]
        if kind[0] == "reduce":
            reduce_spec = (REDUCTIONS.index(kind[1]) + 1, read(node.inputs[0]), kind[2],
                           bool(node.attrs.get("keep_dims", False)), node.op_type)
            continue
        operands = [read(key) for key in node.inputs]
        # The destination is never one of the operands: GCC vectorises a loop over distinct
        # buffers, but runs d[i] = f(d[i]) through its scalar fallback (the alias check
        # fails), several times slower. Two registers suffice for a chain.
        if index == root:
            destination = -1
        else:
            # An exported register becomes its output's memory: written once, never reused.
            if free_registers and index not in exported:
                register = free_registers.pop()
            else:
                register = num_registers
                num_registers += 1
            register_of[index] = register
            destination = num_inputs + register
        # A fold's partial sums go to two scratch registers in turn, taken before the
        # operands' registers are given back: a later step still reads those operands.
        scratch = []
        for _ in range(min(2, len(operands) - 2)):
            if free_registers:
                scratch.append(free_registers.pop())
            else:
                scratch.append(num_registers)
                num_registers += 1
        # Each member's result has exactly one reader in the group (this node): its register
        # is free now, unless it is exported.
        for key in set(node.inputs):
            member = produced.get(key)
            if member is not None and member not in exported:
                free_registers.append(register_of.pop(member))
        free_registers.extend(scratch)
        opcode = _OPCODE[kind[1]]
        if len(operands) == 1:
            program.extend((opcode, destination, operands[0], -1))
            continue
        partial = operands[0]
        for step, operand_b in enumerate(operands[1:-1]):
            target = num_inputs + scratch[step % 2]
            program.extend((opcode, target, partial, operand_b))
            partial = target
        program.extend((opcode, destination, partial, operands[-1]))
    if num_registers > MAX_REGISTERS or len(program) > 4 * MAX_INSTRUCTIONS:
        return None
    attrs = {
        "_name": f"fused_{number}",
        "program": tuple(program),
        "num_inputs": num_inputs,
        "num_registers": num_registers,
        "reduce": 0, "reduce_src": -1, "reduce_axes": (), "keep_dims": False, "reduce_op": "",
        "fused_ops": tuple(nodes[i].name for i in group),
        "fused_types": tuple(nodes[i].op_type for i in group),
        "T": nodes[root].attrs.get("T"),
    }
    if exported:
        attrs["exports"] = tuple(register_of[i] for i in exported)
    if reduce_spec is not None:
        (attrs["reduce"], attrs["reduce_src"], attrs["reduce_axes"], attrs["keep_dims"],
         attrs["reduce_op"]) = reduce_spec
    controls = []
    for i in group:
        controls.extend(c for c in nodes[i].controls if c not in controls)
    outputs = list(nodes[root].outputs) + [nodes[i].outputs[0] for i in exported]
    return node_class(FUSED_OP_TYPE, list(inputs), outputs, attrs,
                      attrs["_name"], nodes[root].origin, tuple(controls))


def describe(attrs):
    """The program of a fused node's attrs as readable lines (for debugging and docs)."""
    num_inputs = attrs["num_inputs"]

    def name(operand):
        if operand < 0:
            return "out"
        return f"in{operand}" if operand < num_inputs else f"r{operand - num_inputs}"

    program = attrs["program"]
    lines = []
    for i in range(0, len(program), 4):
        opcode, dst, a, b = program[i:i + 4]
        args = name(a) if b < 0 else f"{name(a)}, {name(b)}"
        lines.append(f"{name(dst)} = {OPCODES[opcode]}({args})")
    for position, register in enumerate(attrs.get("exports", ()), start=1):
        lines.append(f"out{position} = {name(attrs['num_inputs'] + register)}")
    if attrs["reduce"]:
        lines.append(f"out = {REDUCTIONS[attrs['reduce'] - 1]}({name(attrs['reduce_src'])}, "
                     f"axes={list(attrs['reduce_axes'])}, keep_dims={attrs['keep_dims']})")
    return lines


# ---- the spec of the kernel ---------------------------------------------------------------------

def reduce_with_kernel(ctx, value, axes, attrs):
    """Reduces `value` over `axes` with the reference kernel of the fused reduction's op."""
    reducer = kernel_table.lookup(registry.get(attrs["reduce_op"]).kernel).reference
    return tuple(reducer(ctx, (value, axes), {"keep_dims": attrs["keep_dims"],
                                              "_name": attrs.get("_name")}))


def reference_kernel(ctx, inputs, attrs):
    """Runs a fused program with numpy: each instruction through the unfused reference kernel.

    Args:
      ctx: the run context.
      inputs: the input arrays (never written).
      attrs: the fused node's attrs (see the module docstring).

    Returns:
      The result, then the value of each register in ``attrs['exports']``.
    """
    values = [np.asarray(value) for value in inputs]
    values.extend([None] * attrs["num_registers"])
    program = attrs["program"]
    result = None
    for i in range(0, len(program), 4):
        opcode, dst, a, b = program[i:i + 4]
        kernel = getattr(_ref, OPCODES[opcode])
        value = kernel(values[a]) if b < 0 else kernel(values[a], values[b])
        if dst < 0:
            result = value
        else:
            values[dst] = value
    if attrs["reduce"]:
        source = values[attrs["reduce_src"]]
        axes = np.asarray(attrs["reduce_axes"], dtype=np.int64)
        return reduce_with_kernel(ctx, source, axes, attrs)
    if result is None:
        raise ValueError(f"{attrs.get('_name')}: a fused program without a reduction must "
                         "write its output")
    num_inputs = attrs["num_inputs"]
    return (result,) + tuple(values[num_inputs + register]
                             for register in attrs.get("exports", ()))


def _fused_infer(inputs, attrs):
    """Graph-time inference, for a `_FusedElementwise` op built directly (tests, tools)."""
    dtype = inputs[0].dtype
    shape = inputs[0].shape
    for tensor in inputs[1:]:
        if tensor.dtype != dtype:
            raise TypeError(f"{FUSED_OP_TYPE}: all inputs must have one dtype, got "
                            f"{dtype.name} and {tensor.dtype.name}")
        shape = broadcast_shapes(shape, tensor.shape, FUSED_OP_TYPE)
    attrs.setdefault("T", dtype)
    for key, default in (("reduce", 0), ("reduce_src", -1), ("reduce_axes", ()),
                         ("keep_dims", False), ("reduce_op", ""), ("num_registers", 0),
                         ("fused_ops", ()), ("fused_types", ())):
        attrs.setdefault(key, default)
    attrs.setdefault("num_inputs", len(inputs))
    if attrs["reduce"]:
        axes = attrs["reduce_axes"]
        if shape.ndims is None:
            return [(dtype, TensorShape(None))]
        ndim = shape.ndims
        reduced = {a % ndim for a in axes} if ndim else set()
        dims = []
        for axis, dim in enumerate(shape.as_list()):
            if axis not in reduced:
                dims.append(dim)
            elif attrs["keep_dims"]:
                dims.append(1)
        return [(dtype, TensorShape(dims))]
    return [(dtype, shape)] * (1 + len(attrs.get("exports", ())))


def _register():
    # The executor runs it like any generic op; `fused_ops` tells traces what it holds.
    kernel_table.register_kernel(FUSED_OP_TYPE, fast=_fused_kernel.fused_elementwise,
                                 reference=reference_kernel)
    registry.register_op(FUSED_OP_TYPE, infer=_fused_infer, kernel=FUSED_OP_TYPE,
                         doc="A fused chain of elementwise ops (runtime/fusion.py).",
                         gradient=registry.NOT_DIFFERENTIABLE)
    # The compiled kernel never imports the runtime: it is handed its numpy fallbacks.
    _fused_kernel.set_fallbacks(reference_kernel, reduce_with_kernel)


_register()
