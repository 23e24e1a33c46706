"""Compiling a (feeds, fetches, targets) request into an `ExecPlan`: flat integer arrays.

The plan is the contract between the Python front end and the executors. It holds no graph
objects: kernel ids (indices into the runtime's kernel table, ``runtime/kernel_table.py``) and
kernel names, calling conventions, buffer slot numbers and the plain-value attrs of each
node. So the same plan runs in the reference executor, in the Cython executor, and inside a
device worker process it was shipped to.

Slots: every tensor the step produces or is fed gets a slot in a flat list of buffers. After the
last node that reads a slot, the slot is released (set to None), so a long chain keeps only its
live intermediate results in memory. Fed and fetched slots are never released.

Control flow is functional (TF 2's ``If``/``While``), not TF 1's dataflow frames
(Switch/Merge/Enter/Exit/NextIteration with dead tensors). Why: this executor is a linear walk
over a flat plan, and a functional op keeps it so: a branch or a loop body is a compiled
sub-plan (`FunctionPlan`) that the op's kernel runs, once per call or per iteration, in a
C loop for the Cython executor (``_core/control_flow.pyx``: no Python per iteration when the
body's kernels are Cython) and in a Python loop for the reference executor, with the same
sub-plans. Plans stay plain values that ship to device workers, no tensor is ever "dead",
and TF 2.21's own graphs use exactly these ops (TF 1 frame graphs are raised into them when
imported). `compile_nodes` compiles every func-valued attr (`OpDef.function_attrs`) into a
`FunctionPlan`, once per `GraphFunction` and graph version, nested functions recursively;
kernels bind a sub-plan lazily, once per executor. Placement: the whole body runs on the
device of its ``If``/``While`` op ("placed with the loop"); device annotations inside a body
are ignored, and its ops never exchange tensors with other devices per iteration.
"""

import collections

import numpy as np

from sessionlib.framework import registry
from sessionlib.runtime import fusion, kernel_table, optimizer, ref_reads, update_grouping

__all__ = ["ExecPlan", "FunctionPlan", "compile_function", "Node", "prune", "needed_ops",
           "compile_plan", "compile_nodes",
           "rewrite", "bind_kernels"]


class ExecPlan:
    """A topologically ordered step, as flat arrays.

    Attributes:
      kernel_ids, kinds: int32 arrays, one entry per node: the kernel's index in this
        process's kernel table and its calling convention.
      in_ptr, out_ptr, release_ptr: int32 arrays of length nodes + 1; node i reads slots
        ``in_slots[in_ptr[i]:in_ptr[i + 1]]`` and likewise writes and releases.
      in_slots, out_slots, release_slots: int32 arrays of slot numbers.
      attrs: per node, the plain-value attr dict handed to generic kernels (with ``'_name'``).
      names: per node, the op name (for errors and traces).
      num_slots: the size of the buffer list.
      op_types: per node, the op type name (for traces and partition graphs).
      kernel_names: per node, the kernel name: another process re-resolves `kernel_ids` and
        `kinds` from its own kernel table by name (`rebind`), never trusting ids across
        processes.
      origins: int32, per node, the index of the graph op it stands for in the step's order
        (-1 for nodes the runtime inserted).
    """

    __slots__ = ("kernel_ids", "kinds", "in_ptr", "in_slots", "out_ptr", "out_slots",
                 "release_ptr", "release_slots", "attrs", "names", "num_slots", "op_types",
                 "kernel_names", "origins")

    def __init__(self, kernel_ids, kinds, in_ptr, in_slots, out_ptr, out_slots, release_ptr,
                 release_slots, attrs, names, num_slots, op_types, kernel_names, origins):
        self.kernel_ids = kernel_ids
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
        self.op_types = op_types
        self.kernel_names = kernel_names
        self.origins = origins

    def __len__(self):
        return len(self.names)

    def __getstate__(self):
        return {name: getattr(self, name) for name in self.__slots__}

    def __setstate__(self, state):
        for name, value in state.items():
            setattr(self, name, value)

    def rebind(self):
        """Re-resolves `kernel_ids` and `kinds` from this process's kernel table by name.

        Raises:
          KeyError: if a kernel is not registered in this process.
        """
        kernel_defs = [kernel_table.lookup(name) for name in self.kernel_names]
        self.kernel_ids = _int32([k.kernel_id for k in kernel_defs])
        self.kinds = _int32([k.kind for k in kernel_defs])
        return self


def prune(fed_tensors, fetch_tensors, target_ops):
    """The ops that must run to compute the fetches and targets, given the feeds.

    Returns:
      The `needed_ops`, in a deterministic topological order (creation order breaks ties).
    """
    fed = set(fed_tensors)
    return _topological_order(needed_ops(fetch_tensors, target_ops, fed), fed)


def needed_ops(fetch_tensors, target_ops, known, ran=frozenset(), unfed=frozenset(),
               on_unfed=None):
    """The set of ops that must (still) run to compute `fetch_tensors` and run `target_ops`.

    An op runs when a fetch or a later op needs one of its outputs whose value is not
    `known`, when it is a target, or when a running op names it as a control input. As in TF,
    feeding output 0 of an op also stands in for the op as a control input (TF moves those
    control edges to the fed value), so a control dependency on a fed placeholder does not
    run the placeholder.

    Args:
      fetch_tensors, target_ops: what the step computes and runs.
      known: the tensors whose values the step has (fed, or kept from earlier partial runs).
      ran: ops that already ran in this step (a partial run's earlier calls).
      unfed: tensors that will be fed but are not known yet (a partial run's declared feeds).
      on_unfed: called with a tensor of `unfed` that is needed; it must raise.
    """
    needed = set()
    stack = []

    def need(tensor):
        if tensor in known:
            return
        if tensor in unfed:
            on_unfed(tensor)
        if tensor.op not in ran and tensor.op not in needed:
            stack.append(tensor.op)

    for tensor in fetch_tensors:
        need(tensor)
    stack.extend(op for op in target_ops if op not in ran)
    while stack:
        op = stack.pop()
        if op in needed:
            continue
        needed.add(op)
        for tensor in op._inputs:
            need(tensor)
        for control in op._control_inputs:
            stand_in = control._outputs[0] if control._outputs else None
            if stand_in is not None and (stand_in in known or stand_in in unfed):
                need(stand_in)
            elif control not in ran and control not in needed:
                stack.append(control)
    return needed


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


class Node:
    """One node of a plan before compilation: a graph op, or a node the runtime inserted.

    Attributes:
      op_type: the registered op type.
      inputs, outputs: hashable keys naming values (Tensors for graph ops; any hashable for
        values the runtime introduces, such as a received edge).
      attrs: the plain-value attrs the kernel gets (with ``'_name'``; a node whose outputs
        are not Tensors may give their static shapes as ``'_output_shapes'``, a tuple of one
        dims tuple per output, None for an unknown dim).
      name: the node name (for errors and traces).
      origin: the index of the graph op it stands for in the step's global order (errors
        and traces map back through it), or -1 for a node with no op behind it.
      controls: the names of the ops this node must run after although it reads none of
        their outputs (its control inputs): the passes that move nodes
        (``runtime/update_grouping.py``) must keep them after those ops.
    """

    __slots__ = ("op_type", "inputs", "outputs", "attrs", "name", "origin", "controls")

    def __init__(self, op_type, inputs, outputs, attrs, name, origin=-1, controls=()):
        self.op_type = op_type
        self.inputs = inputs
        self.outputs = outputs
        self.attrs = attrs
        self.name = name
        self.origin = origin
        self.controls = controls

    @classmethod
    def of_op(cls, op, origin, inputs=None):
        """The node for graph op `op` (position `origin` in the order); `inputs` overrides
        the op's own input tensors (the partitioner substitutes received edges)."""
        attrs = dict(op._attrs)
        attrs["_name"] = op.name
        return cls(op.type, list(op._inputs) if inputs is None else inputs, list(op._outputs),
                   attrs, op.name, origin, tuple(c.name for c in op._control_inputs))


def compile_plan(order, fed_tensors, fetch_tensors, fuse=None, rewrites=None):
    """Builds the `ExecPlan` for graph ops `order` (from `prune`).

    Args:
      order: the ops to run, topologically ordered.
      fed_tensors: the tensors whose values the caller places in slots before the run.
      fetch_tensors: the tensors whose slots the caller reads after the run.
      fuse: whether to fuse elementwise chains (see `compile_nodes`).
      rewrites: the graph rewrites to run (see `compile_nodes`).

    Returns:
      (plan, feed_slots, fetch_slots): the plan, and the slot of each fed and fetched tensor.
    """
    nodes = [Node.of_op(op, index) for index, op in enumerate(order)]
    return compile_nodes(nodes, fed_tensors, fetch_tensors, fuse, rewrites)


def compile_nodes(nodes, feed_keys, fetch_keys, fuse=None, rewrites=None,
                  function_options=None):
    """Builds the `ExecPlan` of `nodes` (topologically ordered).

    Args:
      nodes: `Node`s in execution order.
      feed_keys: the values the caller places in slots before the run. A node output that is
        also fed keeps the fed value: the node writes its result to a scratch slot.
      fetch_keys: the values whose slots the caller reads after the run.
      fuse: whether chains of elementwise ops become `_FusedElementwise` nodes
        (``runtime/fusion.py``) and independent updates `_GroupedUpdate` nodes
        (``runtime/update_grouping.py``); None: the process default (``SESSIONLIB_FUSION``,
        on). Such plans have fewer nodes than ops; `origins` maps each node to its op.
      rewrites: the `optimizer.RewriteOptions` of the graph rewrites that run first
        (``runtime/optimizer``); None: all of them.
      function_options: ``(fuse, rewrites)`` for the functions of func-valued attrs (a
        session's options, when its caller ran the rewrites itself); None: the defaults.

    Returns:
      (plan, feed_slots, fetch_slots).
    """
    # Reads of reference variables come first and always (a partition has them already).
    nodes, fetch_keys = ref_reads.insert_reads(nodes, feed_keys, fetch_keys)
    nodes = rewrite(nodes, feed_keys, fetch_keys, fuse, rewrites)
    slot_of = {}

    def slot(key):
        found = slot_of.get(key)
        if found is None:
            found = slot_of[key] = len(slot_of)
        return found

    feed_slots = [slot(key) for key in feed_keys]
    fed = set(feed_keys)
    in_slots, out_slots, in_ptr, out_ptr = [], [], [], []
    last_reader = {}
    for index, node in enumerate(nodes):
        in_ptr.append(len(in_slots))
        for key in node.inputs:
            number = slot(key)
            in_slots.append(number)
            last_reader[number] = index
        out_ptr.append(len(out_slots))
        for key in node.outputs:
            out_slots.append(slot(key) if key not in fed else slot(object()))
    in_ptr.append(len(in_slots))
    out_ptr.append(len(out_slots))
    fetch_slots = [slot(key) for key in fetch_keys]
    keep = set(feed_slots) | set(fetch_slots)
    releases = collections.defaultdict(list)
    for number, index in last_reader.items():
        if number not in keep:
            releases[index].append(number)
    release_ptr, release_slots = [], []
    for index in range(len(nodes)):
        release_ptr.append(len(release_slots))
        release_slots.extend(sorted(releases.get(index, ())))
    release_ptr.append(len(release_slots))

    kernel_defs = [kernel_table.lookup(registry.get(node.op_type).kernel) for node in nodes]
    attrs = [_with_function_plans(node, function_options) for node in nodes]
    plan = ExecPlan(
        _int32([k.kernel_id for k in kernel_defs]), _int32([k.kind for k in kernel_defs]),
        _int32(in_ptr), _int32(in_slots), _int32(out_ptr), _int32(out_slots),
        _int32(release_ptr), _int32(release_slots), attrs,
        [node.name for node in nodes], len(slot_of), [node.op_type for node in nodes],
        [k.name for k in kernel_defs], _int32([n.origin for n in nodes]))
    return plan, feed_slots, fetch_slots


def rewrite(nodes, feed_keys, fetch_keys, fuse=None, rewrites=None):
    """The compile-time rewrites of one device's nodes (`compile_nodes` and ``partition`` both
    run them): the graph optimizer's passes (``runtime/optimizer``), then, when fusion is on,
    elementwise fusion and update grouping.

    Args:
      nodes, feed_keys, fetch_keys: as for `compile_nodes`.
      fuse: whether to fuse; None: the process default (``SESSIONLIB_FUSION``).
      rewrites: an `optimizer.RewriteOptions`; None: all rewrites.
    """
    nodes = optimizer.optimize(nodes, feed_keys, fetch_keys, rewrites)
    if fusion.enabled() if fuse is None else fuse:
        nodes = fusion.fuse(nodes, feed_keys, fetch_keys)
        nodes = update_grouping.group(nodes)
    return nodes


class FunctionPlan:
    """A function (an ``If`` branch, a ``While`` cond or body) compiled for a kernel to run.

    Plain values, so it pickles to device workers with the plan that holds it.

    Attributes:
      name: the function's name.
      plan: its `ExecPlan`.
      feed_slots: the slot of each function input, in order.
      fetch_slots: the slot of each function output, in order.
      op_names: the names of the function's ops, in the plan's origin order (errors name
        the failing inner op through them).
      constants: ``(slot, value)`` pairs: the outputs of the function's source nodes that
        compute the same value at every call (``Const``: stateless, no inputs), computed once
        when the function is compiled; every call starts from slots holding them
        (`fresh_slots`), so a loop body runs no constant nodes per iteration.
      labels: per plan node, its timeline label (``"loop/add = AddV2(loop/x, loop/y)"``)
        for the rows a traced run records (``runtime/function_trace.py``); may be empty.
    """

    __slots__ = ("name", "plan", "feed_slots", "fetch_slots", "op_names", "constants",
                 "labels", "_bound", "_template")

    def __init__(self, name, plan, feed_slots, fetch_slots, op_names, constants=(),
                 labels=()):
        self.name = name
        self.plan = plan
        self.feed_slots = list(feed_slots)
        self.fetch_slots = list(fetch_slots)
        self.op_names = list(op_names)
        self.constants = list(constants)
        self.labels = list(labels)
        self._bound = {}
        self._template = None

    def __getstate__(self):
        return (self.name, self.plan, self.feed_slots, self.fetch_slots, self.op_names,
                self.constants, self.labels)

    def __setstate__(self, state):
        (self.name, self.plan, self.feed_slots, self.fetch_slots, self.op_names,
         self.constants, self.labels) = state
        self._bound = {}
        self._template = None

    def bound(self, executor):
        """The plan bound for `executor` (an executor object of ``runtime/executor.py``),
        bound on first use: kernel ids are re-resolved by name in this process."""
        found = self._bound.get(executor.name)
        if found is None:
            self.plan.rebind()
            found = self._bound[executor.name] = executor.bind(self.plan)
        return found

    def template(self):
        """The slot list every call starts from (a copy of it): the constants in place."""
        template = self._template
        if template is None:
            template = [None] * self.plan.num_slots
            for number, value in self.constants:
                template[number] = value
            self._template = template
        return template

    def fresh_slots(self, args):
        """A new slot list for one call with `args` fed."""
        slots = self.template()[:]
        for number, value in zip(self.feed_slots, args):
            slots[number] = value
        return slots

    def op_name(self, plan_node):
        """The name of the function op behind node `plan_node` of `plan`."""
        origin = int(self.plan.origins[plan_node])
        if 0 <= origin < len(self.op_names):
            return self.op_names[origin]
        return self.plan.names[plan_node]

    def __repr__(self):
        return f"<FunctionPlan {self.name}: {len(self.plan)} nodes>"


def compile_function(function, fuse=None, rewrites=None):
    """The `FunctionPlan` of `function` (a ``framework.function.GraphFunction``), compiled
    once per function and graph version (later runs and steps reuse it).

    The function's nodes go through the same rewrites as a step's (``rewrite``, with the
    session's `fuse` and `rewrites`: a session at ``opt_level`` L0 rewrites and fuses no
    function body either), then its constant source nodes are computed now and become
    `FunctionPlan.constants`. Nested functions get the same options.
    """
    # The key also names the inputs and outputs: the gradient machinery may add outputs to a
    # traced function (exposing intermediates) without a new op in its graph.
    options = (fuse, None if rewrites is None
               else (rewrites.enabled, rewrites.min_graph_nodes))
    version = (function.graph.version, tuple(map(id, function.inputs)),
               tuple(map(id, function.outputs)), tuple(map(id, function.control_outputs)),
               options)
    cached = function._plan_cache
    if cached is not None and cached[0] == version:
        return cached[1]
    fed = list(function.inputs)
    outputs = list(function.outputs)
    order = prune(fed, outputs, function.control_outputs)
    nodes = [Node.of_op(op, index) for index, op in enumerate(order)]
    nodes = rewrite(nodes, fed, outputs, fuse, rewrites)
    kept, constants = [], []
    for node in nodes:
        value = _constant_value(node)
        if value is None:
            kept.append(node)
        else:
            constants.append((node.outputs[0], value))
    plan, feed_slots, fetch_slots = compile_nodes(
        kept, fed + [key for key, _ in constants], outputs, fuse=False,
        rewrites=optimizer.NONE, function_options=(fuse, rewrites))
    const_slots = feed_slots[len(fed):]
    from sessionlib.runtime import tracing   # (it reads graph objects; plans stay plain)

    compiled = FunctionPlan(function.name, plan, feed_slots[:len(fed)], fetch_slots,
                            [op.name for op in order],
                            [(number, value) for number, (_, value)
                             in zip(const_slots, constants)],
                            tracing.function_labels(plan, order))
    function._plan_cache = (version, compiled)
    return compiled


def _constant_value(node):
    """The value of `node` when it is a constant source (stateless, no inputs, no control
    inputs, one output, a generic kernel), computed by its reference kernel; else None."""
    opdef = registry.get(node.op_type)
    if node.inputs or node.controls or len(node.outputs) != 1 or opdef.stateful \
            or opdef.function_attrs:
        return None
    kernel_def = kernel_table.lookup(opdef.kernel)
    if kernel_def.kind != kernel_table.KIND_GENERIC:
        return None
    try:
        (value,) = kernel_def.reference(None, (), node.attrs)
    except Exception:  # noqa: BLE001 - left to fail (or not) at run time, as it would
        return None
    return value if isinstance(value, np.ndarray) else None


def _with_function_plans(node, function_options=None):
    """`node.attrs`, with each func-valued attr compiled into a `FunctionPlan`
    (`function_options`: ``(fuse, rewrites)`` for `compile_function`, or None)."""
    names = registry.get(node.op_type).function_attrs
    if not names:
        return node.attrs
    attrs = dict(node.attrs)
    for name in names:
        value = attrs.get(name)
        if value is not None and not isinstance(value, FunctionPlan):
            attrs[name] = compile_function(value, *(function_options or ()))
    return attrs


def _int32(values):
    return np.asarray(values, dtype=np.int32)


def bind_kernels(plan, reference=False):
    """The per-node kernel callables of `plan`: the kernel table's fast or reference ones."""
    by_id = kernel_table.by_id
    if reference:
        return [by_id(kernel_id).reference for kernel_id in plan.kernel_ids.tolist()]
    return [by_id(kernel_id).fast for kernel_id in plan.kernel_ids.tolist()]
