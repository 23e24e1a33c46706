"""Raising TF 1's dataflow control flow into functional ``If``/``While`` at GraphDef import.

TF 1 (and TF 2.21 with ``disable_control_flow_v2``) writes ``tf.cond`` and
``tf.while_loop`` as dataflow primitives, seen in ``tests/data/tf_control_flow/v1_*.pb``:

* a cond: ``Switch(data, pred)`` per tensor a branch uses (``:0`` flows into the false
  branch, ``:1`` into the true one; ``pred`` directly or through ``cond/pred_id =
  Identity(pred)``), a pivot ``Switch(pred, pred)`` with ``switch_t``/``switch_f``
  Identities that input-less branch ops (constants) take as control inputs, and one
  ``Merge(false_result, true_result)`` per output.
* a loop (frame ``frame_name`` on its ``Enter`` s): per loop variable
  ``Enter -> Merge(Enter, NextIteration) -> Switch(Merge, LoopCond)``, ``Switch:0 -> Exit``
  (the result), ``Switch:1 -> Identity`` (the body's input), the body's result into
  ``NextIteration``; the cond reads the Merges and ends in ``LoopCond``; loop invariants enter
  through ``Enter(is_constant=True)``; constants of the body take the body pivot (an
  Identity) as a control input. Nested loops have their own frames.

sessionlib runs functional control flow only (see the runtime docstring), so
`raise_control_flow` rewrites such a GraphDef before import, innermost construct first: a
cond becomes an ``If``/``StatelessIf`` whose branches are the nodes between its Switches and
Merges; a loop becomes a ``While``/``StatelessWhile`` in TF 2's layout (inputs
``[loop_counter, maximum_iterations=-1, *loop vars, *invariants]``, the body adds one to the
counter and passes the invariants through). Each Merge or Exit is kept as an Identity of the
new op's output under its own name, so fetches by the old names still work. The raised
functions leave their arg types unset (a GraphDef has no dtypes): `complete_raised_attrs`
takes them from the calling op's inputs at import, when those are built.

What does not raise is refused with `errors.UnimplementedError` naming a node, never run
wrongly: TF 1 gradient loops (stacks, ``ControlTrigger``, TensorArray gradients), a branch
or body tensor used outside its construct, a Merge's ``value_index`` output.

TF 1 TensorArrays (``TensorArrayV3`` and its Read/Write/Scatter/Gather... ops, as
``dynamic_rnn`` and TF 1 ``map_fn`` write them) are first lifted onto TensorList ops the way
TF 2 builds a TensorArray in a graph (`lift_tensor_arrays`): the flow tensor carries the list
and the resource handle goes, so the loops around them raise like any other.
"""

from sessionlib import dtypes, errors
from sessionlib.framework import registry
from sessionlib.framework.op_output_args import OUTPUT_ARGS

__all__ = ["needs_raising", "raise_control_flow", "lift_tensor_arrays", "complete_raised_attrs",
           "RAISED_ATTR"]

_PRIMITIVES = frozenset(["Switch", "Merge", "Enter", "Exit", "NextIteration", "LoopCond",
                         "RefSwitch", "RefMerge", "RefEnter", "RefExit", "RefNextIteration"])
# Marks an If/While made here; `complete_raised_attrs` fills its type attrs at import.
RAISED_ATTR = "_raised_from_v1_control_flow"


def needs_raising(graph_def):
    """Whether `graph_def` holds TF 1 control-flow primitives or TF 1 TensorArrays."""
    return any(node.op in _PRIMITIVES or node.op in _TENSOR_ARRAY_OPS for node in graph_def.node)


def _parse(name):
    if name.startswith("^"):
        return name[1:], None
    op, sep, index = name.rpartition(":")
    if sep and index.isdigit():
        return op, int(index)
    return name, 0


def _unimplemented(node, why):
    return errors.UnimplementedError(
        None, None, f"Cannot import TF 1 control flow at node {node.name!r} ({node.op}): {why}")


class _Raiser:
    def __init__(self, graph_def):
        from sessionlib.protos import graph_pb2

        self.out = graph_pb2.GraphDef()
        self.out.CopyFrom(graph_def)
        self.count = 0

    # -- graph helpers ------------------------------------------------------------------
    def nodes(self):
        return {node.name: node for node in self.out.node}

    def consumers(self, nodes):
        users = {name: [] for name in nodes}
        for node in nodes.values():
            for inp in node.input:
                op, index = _parse(inp)
                if op in users:
                    users[op].append((node.name, index))
        return users

    def unique(self, base, nodes):
        name, i = base, 0
        while name in nodes:
            i += 1
            name = f"{base}_{i}"
        nodes[name] = None
        return name

    def region(self, nodes, starts, boundary):
        """Nodes reached backwards from `starts` (input names) until `boundary(node, index)`
        holds; None when a control-flow primitive is in the way (raise that first)."""
        seen, stack = set(), [_parse(s)[0] for s in starts]
        pending = [(_parse(s)) for s in starts]
        stack = []
        for op, index in pending:
            if not boundary(nodes[op], index):
                stack.append(op)
        while stack:
            name = stack.pop()
            if name in seen:
                continue
            node = nodes[name]
            if node.op in _PRIMITIVES:
                return None
            if node.op in ("StackV2", "StackPushV2", "StackPopV2", "ControlTrigger"):
                raise _unimplemented(node, "TF 1 gradient loops (stacks) are not raised; "
                                           "export the graph with control flow v2")
            if node.op.startswith("TensorArray") and node.op.endswith("V3"):
                raise _unimplemented(node, "TF 1 TensorArrays are not raised; export the "
                                           "graph with control flow v2")
            seen.add(name)
            for inp in node.input:
                op, index = _parse(inp)
                if not boundary(nodes[op], index):
                    stack.append(op)
        return seen

    # -- function bodies ----------------------------------------------------------------
    def function(self, name, nodes, region, arg_of, results, extra_nodes=()):
        """A FunctionDef over `region`: `arg_of` maps (node, index) -> arg name (index None:
        any output, for control inputs); `results` are input-style names."""
        fdef = self.out.library.function.add()
        fdef.signature.name = name
        args = sorted(set(arg_of.values()), key=lambda a: int(a.rsplit("_", 1)[1]))
        for arg in args:
            fdef.signature.input_arg.add(name=arg)  # type: from the caller, at import

        def spell(inp):
            op, index = _parse(inp)
            control = inp.startswith("^")
            arg = arg_of.get((op, None if control else index)) or (
                arg_of.get((op, 0)) if control else None) or arg_of.get((op, 1) if control
                                                                         else None)
            if arg is not None:
                return "^" + arg if control else arg
            if op not in region and op not in {n.name for n in extra_nodes}:
                raise _unimplemented(nodes[op], "used inside a raised construct but not "
                                                "reached from its inputs")
            if control:
                return inp
            node = nodes.get(op) or next(n for n in extra_nodes if n.name == op)
            return f"{op}:{_output_arg_name(node, index)}"

        for node_name in [n for n in nodes if n in region]:
            node = fdef.node_def.add()
            node.CopyFrom(nodes[node_name])
            node.ClearField("device")
            del node.input[:]
            node.input.extend(spell(inp) for inp in nodes[node_name].input)
        for extra in extra_nodes:
            node = fdef.node_def.add()
            node.CopyFrom(extra)
            del node.input[:]
            node.input.extend(spell(inp) for inp in extra.input)
        for i, result in enumerate(results):
            fdef.signature.output_arg.add(name=f"output_{i}")
            fdef.ret[f"output_{i}"] = spell(result)
        return fdef

    def stateful(self, nodes, region):
        for name in region:
            opdef = registry.find(nodes[name].op)
            if opdef is None or opdef.stateful:
                return True
        return False

    def replace(self, removed, new_nodes, renames):
        """Drops `removed` node names, adds `new_nodes`, and rewrites inputs by `renames`
        ((node, index) -> new input name); a removed node still used is an error."""
        removed = set(removed) - {n.name for n in new_nodes}
        # The scaffolding left behind (a cond's pred_id and pivots: Identities now read by
        # nothing) goes too, rather than reading what was removed.
        while True:
            read = {_parse(i)[0] for n in self.out.node if n.name not in removed
                    for i in n.input} | {_parse(i)[0] for n in new_nodes for i in n.input}
            dead = {n.name for n in self.out.node
                    if n.name not in removed and n.op == "Identity" and n.name not in read
                    and any(_parse(i)[0] in removed for i in n.input)}
            if not dead:
                break
            removed |= dead
        kept = [n for n in self.out.node if n.name not in removed
                and n.name not in {m.name for m in new_nodes}]
        del self.out.node[:]
        self.out.node.extend(kept)
        self.out.node.extend(new_nodes)
        for node in self.out.node:
            for i, inp in enumerate(node.input):
                op, index = _parse(inp)
                if op in removed:
                    if inp.startswith("^"):
                        target = renames.get((op, 0)) or renames.get((op, None))
                        if target is None:
                            raise _unimplemented(node, f"depends on {op!r}, which is inside "
                                                       "a raised construct")
                        node.input[i] = "^" + _parse(target)[0]
                    elif (op, index) in renames:
                        node.input[i] = renames[(op, index)]
                    else:
                        raise _unimplemented(node, f"uses {inp!r}, which is inside a raised "
                                                   "construct (or a Merge's value_index)")

    # -- conds --------------------------------------------------------------------------
    def try_cond(self, nodes, merge):
        """Raises the cond of `merge` if its branches hold no other primitive."""
        def is_switch(node, index):
            return node.op in ("Switch", "RefSwitch") and not self.loop_switch(nodes, node)

        regions, switches = [], set()
        for inp in merge.input:
            if inp.startswith("^"):
                continue
            region = self.region(nodes, [inp], is_switch)
            if region is None:
                return False
            regions.append(region)
            for name in region | {_parse(inp)[0]}:
                for x in nodes[name].input:
                    op, _ = _parse(x)
                    if is_switch(nodes[op], 0):
                        switches.add(op)
            if is_switch(nodes[_parse(inp)[0]], 0):
                switches.add(_parse(inp)[0])
        # The other Merges of the same cond share a switch with this one.
        merges = [merge.name]
        for other in nodes.values():
            if other.op not in ("Merge", "RefMerge") or other.name == merge.name or \
                    self.loop_merge(nodes, other):
                continue
            other_regions = []
            touching = set()
            for inp in other.input:
                if inp.startswith("^"):
                    continue
                region = self.region(nodes, [inp], is_switch)
                if region is None:
                    break
                other_regions.append(region)
                for name in region | {_parse(inp)[0]}:
                    for x in [inp] + list(nodes[name].input):
                        op, _ = _parse(x)
                        if is_switch(nodes[op], 0):
                            touching.add(op)
            else:
                if touching & switches:
                    merges.append(other.name)
                    switches |= touching
                    regions.extend(other_regions)
        switch_nodes = sorted(switches)
        preds = {self.root_pred(nodes, nodes[s].input[1]) for s in switch_nodes}
        if len(preds) != 1:
            raise _unimplemented(merge, "its Switches test different predicates")
        pred = next(iter(preds))
        arg_of = {}
        for i, s in enumerate(switch_nodes):
            arg_of[(s, 0)] = arg_of[(s, 1)] = f"arg_{i}"
        all_region = set().union(*regions)
        branch = {0: set(), 1: set()}
        results = {0: [], 1: []}
        for m in merges:
            for inp in nodes[m].input:
                if inp.startswith("^"):
                    continue
                side = self.side(nodes, inp, set(switch_nodes))
                results[side].append(inp)
                branch[side] |= self.region(nodes, [inp], is_switch)
        if len(results[0]) != len(merges) or len(results[1]) != len(merges):
            raise _unimplemented(merge, "a Merge does not join one false and one true branch")
        scope = merge.name.rpartition("/")[0] or merge.name
        self.count += 1
        fn = scope.replace("/", "_")
        names = {"then": f"{fn}_true_v1_{self.count}", "else": f"{fn}_false_v1_{self.count}"}
        arg_true = {k: v for k, v in arg_of.items() if k[1] == 1}
        arg_false = {k: v for k, v in arg_of.items() if k[1] == 0}
        # A control input on a switch (a branch pivot) becomes one on the arg.
        for s in switch_nodes:
            arg_true[(s, None)] = arg_of[(s, 1)]
            arg_false[(s, None)] = arg_of[(s, 0)]
        self.function(names["then"], nodes, branch[1], arg_true, results[1])
        self.function(names["else"], nodes, branch[0], arg_false, results[0])
        from sessionlib.protos import node_def_pb2

        stateful = self.stateful(nodes, branch[0] | branch[1])
        if_node = node_def_pb2.NodeDef(name=self.unique(scope + "/If", dict(nodes)),
                                       op="If" if stateful else "StatelessIf")
        if_node.input.append(pred)
        if_node.input.extend(nodes[s].input[0] for s in switch_nodes)
        if_node.attr["then_branch"].func.name = names["then"]
        if_node.attr["else_branch"].func.name = names["else"]
        if_node.attr[RAISED_ATTR].b = True
        new_nodes, renames = [if_node], {}
        for k, m in enumerate(merges):
            ident = node_def_pb2.NodeDef(name=m, op="Identity", input=[f"{if_node.name}:{k}"])
            new_nodes.append(ident)
        removed = all_region | set(switch_nodes) | set(merges)
        self.replace(removed, new_nodes, renames)
        return True

    def root_pred(self, nodes, name):
        op, index = _parse(name)
        while nodes[op].op == "Identity" and index == 0:
            op, index = _parse(nodes[op].input[0])
        return op if index == 0 else f"{op}:{index}"

    def side(self, nodes, inp, switches):
        """0 or 1: which Switch output the branch result `inp` comes from."""
        stack, seen = [inp], set()
        while stack:
            name = stack.pop()
            op, index = _parse(name)
            if op in switches:
                return index if not name.startswith("^") else 1 - 1
            if op in seen:
                continue
            seen.add(op)
            stack.extend(nodes[op].input)
        raise _unimplemented(nodes[_parse(inp)[0]], "a branch result reached no Switch")

    # -- loops --------------------------------------------------------------------------
    def loop_merge(self, nodes, merge):
        return any(nodes[_parse(i)[0]].op in ("NextIteration", "RefNextIteration", "Enter",
                                              "RefEnter") for i in merge.input)

    def loop_switch(self, nodes, switch):
        return nodes[_parse(switch.input[1])[0]].op == "LoopCond"

    def try_loop(self, nodes, frame):
        """Raises the loop of `frame` if its cond and body hold no other primitive."""
        from sessionlib.protos import node_def_pb2

        enters = [n for n in nodes.values() if n.op in ("Enter", "RefEnter")
                  and n.attr["frame_name"].s.decode() == frame]
        var_enters = [e for e in enters if not e.attr["is_constant"].b]
        invariants = [e for e in enters if e.attr["is_constant"].b]
        users = self.consumers(nodes)
        merges, switches, exits, nexts = [], [], [], []
        for enter in var_enters:
            merge = [nodes[u] for u, _ in users[enter.name] if nodes[u].op in ("Merge",
                                                                              "RefMerge")]
            if len(merge) != 1:
                raise _unimplemented(enter, "a loop variable's Enter feeds no single Merge")
            merge = merge[0]
            switch = [nodes[u] for u, _ in users[merge.name] if nodes[u].op in ("Switch",
                                                                                "RefSwitch")]
            nxt = [_parse(i)[0] for i in merge.input if nodes[_parse(i)[0]].op in (
                "NextIteration", "RefNextIteration")]
            if len(switch) != 1 or len(nxt) != 1:
                raise _unimplemented(merge, "a loop Merge without one Switch and one "
                                            "NextIteration")
            switch = switch[0]
            exit_ = [nodes[u] for u, i in users[switch.name] if nodes[u].op in ("Exit",
                                                                                "RefExit")]
            merges.append(merge)
            switches.append(switch)
            exits.append(exit_[0] if exit_ else None)
            nexts.append(nodes[nxt[0]])
        if not merges:
            raise _unimplemented(enters[0], "a loop frame with no loop variable")
        loop_cond = nodes[_parse(switches[0].input[1])[0]]
        merge_names = {m.name for m in merges}
        switch_names = {s.name for s in switches}
        inv_names = {e.name for e in invariants}
        n_vars = len(merges)

        def arg(i):
            return f"arg_{i}"

        cond_args, body_args = {("counter", 0): arg(0), ("max", 0): arg(1)}, {}
        body_args.update(cond_args)
        for i, (m, s) in enumerate(zip(merges, switches)):
            cond_args[(m.name, 0)] = cond_args[(m.name, None)] = arg(2 + i)
            body_args[(s.name, 1)] = body_args[(s.name, None)] = arg(2 + i)
        for j, e in enumerate(invariants):
            for table in (cond_args, body_args):
                table[(e.name, 0)] = table[(e.name, None)] = arg(2 + n_vars + j)
        cond_region = self.region(
            nodes, [loop_cond.input[0]],
            lambda node, index: node.name in merge_names or node.name in inv_names)
        body_region = self.region(
            nodes, [n.input[0] for n in nexts],
            lambda node, index: node.name in switch_names or node.name in inv_names)
        if cond_region is None or body_region is None:
            return False
        self.count += 1
        scope = frame.rpartition("/")[0] or frame
        fn = scope.replace("/", "_")
        cond_name, body_name = f"{fn}_cond_v1_{self.count}", f"{fn}_body_v1_{self.count}"
        cond_fdef = self.function(cond_name, nodes, cond_region, cond_args,
                                  [loop_cond.input[0]])
        for i in range(2 + n_vars + len(invariants)):
            if arg(i) not in [a.name for a in cond_fdef.signature.input_arg]:
                cond_fdef.signature.input_arg.add(name=arg(i))
        one = node_def_pb2.NodeDef(name=self.unique("loop_counter/one", dict(nodes)),
                                   op="Const")
        one.attr["dtype"].type = dtypes.int32.as_datatype_enum
        one.attr["value"].tensor.dtype = dtypes.int32.as_datatype_enum
        one.attr["value"].tensor.int_val.append(1)
        step = node_def_pb2.NodeDef(name=self.unique("loop_counter/next", dict(nodes)),
                                    op="AddV2", input=["counter:0", f"{one.name}:0"])
        step.attr["T"].type = dtypes.int32.as_datatype_enum
        body_args[(step.name, 0)] = None
        results = ([f"{step.name}:0", "max:0"] + [n.input[0] for n in nexts]
                   + [f"{e.name}:0" for e in invariants])
        body_fdef = self.function(body_name, nodes, body_region,
                                  {k: v for k, v in body_args.items() if v}, results,
                                  extra_nodes=[one, step])
        for i in range(2 + n_vars + len(invariants)):
            if arg(i) not in [a.name for a in body_fdef.signature.input_arg]:
                body_fdef.signature.input_arg.add(name=arg(i))
        for fdef in (cond_fdef, body_fdef):  # args in order
            ordered = sorted(fdef.signature.input_arg, key=lambda a: int(a.name[4:]))
            names = [a.name for a in ordered]
            del fdef.signature.input_arg[:]
            for name in names:
                fdef.signature.input_arg.add(name=name)
        counter = node_def_pb2.NodeDef(name=self.unique(scope + "/loop_counter", dict(nodes)),
                                       op="Const")
        maximum = node_def_pb2.NodeDef(
            name=self.unique(scope + "/maximum_iterations", dict(nodes)), op="Const")
        for const, value in ((counter, 0), (maximum, -1)):
            const.attr["dtype"].type = dtypes.int32.as_datatype_enum
            const.attr["value"].tensor.dtype = dtypes.int32.as_datatype_enum
            const.attr["value"].tensor.int_val.append(value)
        stateful = self.stateful(nodes, cond_region | body_region)
        while_node = node_def_pb2.NodeDef(name=self.unique(scope + "/While", dict(nodes)),
                                          op="While" if stateful else "StatelessWhile")
        while_node.input.extend([counter.name, maximum.name])
        while_node.input.extend(e.input[0] for e in var_enters)
        while_node.input.extend(e.input[0] for e in invariants)
        while_node.attr["cond"].func.name = cond_name
        while_node.attr["body"].func.name = body_name
        while_node.attr["parallel_iterations"].i = var_enters[0].attr[
            "parallel_iterations"].i or 10
        while_node.attr[RAISED_ATTR].b = True
        new_nodes = [counter, maximum, while_node]
        for i, exit_ in enumerate(exits):
            if exit_ is not None:
                new_nodes.append(node_def_pb2.NodeDef(
                    name=exit_.name, op="Identity", input=[f"{while_node.name}:{2 + i}"]))
        removed = (cond_region | body_region | {e.name for e in enters} | merge_names
                   | switch_names | {n.name for n in nexts} | {loop_cond.name}
                   | {e.name for e in exits if e is not None})
        self.replace(removed, new_nodes, {})
        return True

    def run(self):
        while True:
            nodes = self.nodes()
            if not any(n.op in _PRIMITIVES for n in nodes.values()):
                return self.out
            progressed = False
            frames = sorted({n.attr["frame_name"].s.decode() for n in nodes.values()
                             if n.op in ("Enter", "RefEnter")})
            for merge in [n for n in nodes.values() if n.op in ("Merge", "RefMerge")]:
                if not self.loop_merge(nodes, merge) and self.try_cond(nodes, merge):
                    progressed = True
                    break
            if not progressed:
                for frame in frames:
                    if self.try_loop(nodes, frame):
                        progressed = True
                        break
            if not progressed:
                stuck = next(n for n in nodes.values() if n.op in _PRIMITIVES)
                raise _unimplemented(stuck, "this control-flow structure cannot be raised "
                                            "into If/While")


def _output_arg_name(node, flat_index):
    """``"arg:index"`` for output `flat_index` of a NodeDef (see function_def)."""
    from sessionlib.framework import function_def

    return function_def.arg_name_of_output(node.op, node.attr, flat_index)


def raise_control_flow(graph_def):
    """A copy of `graph_def` with its TF 1 TensorArrays lifted onto TensorLists and its TF 1
    conds and loops raised into If/While ops.

    Raises:
      UnimplementedError: naming a node of a structure that cannot be raised.
    """
    return _Raiser(lift_tensor_arrays(graph_def)).run()


def complete_raised_attrs(attrs, inputs, functions):
    """Fills the type attrs of a raised If/While from its built inputs and functions.

    Args:
      attrs: the op's attrs (changed in place), holding `RAISED_ATTR`.
      inputs: its input Tensors.
      functions: the attr name -> GraphFunction of its func attrs.
    """
    from sessionlib.framework.tensor_shape import TensorShape

    attrs.pop(RAISED_ATTR, None)
    if "body" in functions:
        attrs["T"] = [t.dtype for t in inputs]
        attrs["output_shapes"] = [TensorShape(None) for _ in inputs]
    else:
        attrs["Tcond"] = inputs[0].dtype
        attrs["Tin"] = [t.dtype for t in inputs[1:]]
        attrs["Tout"] = functions["then_branch"].output_types
        attrs["output_shapes"] = [TensorShape(None) for _ in attrs["Tout"]]


# ---- TF 1 TensorArrays onto TensorLists ------------------------------------------------------

# The ops that pass a tensor on unchanged (a flow's type follows through them).
_PASS_ON = frozenset(["Enter", "Merge", "Switch", "Exit", "NextIteration", "Identity",
                      "RefEnter", "RefMerge", "RefSwitch", "RefExit", "RefNextIteration"])
_TENSOR_ARRAY_OPS = frozenset([
    "TensorArrayV3", "TensorArrayReadV3", "TensorArrayWriteV3", "TensorArrayScatterV3",
    "TensorArrayGatherV3", "TensorArraySizeV3", "TensorArrayCloseV3", "TensorArrayConcatV3",
    "TensorArraySplitV3", "TensorArrayGradV3", "TensorArrayGradWithShape"])


def _element_shape_value(shape_proto):
    """The int32 element_shape input of a list for a TensorShapeProto (-1: unknown)."""
    import numpy as np

    if shape_proto.unknown_rank:
        return np.asarray(-1, np.int32)
    return np.asarray([d.size for d in shape_proto.dim], np.int32).reshape(-1)


def lift_tensor_arrays(graph_def):
    """A copy of `graph_def` whose TF 1 TensorArrays (``TensorArrayV3`` and the ops on it) are
    TensorList ops, as TF 2 builds a TensorArray in a graph: the flow tensor carries the list.

    A ``TensorArrayV3`` becomes ``TensorListReserve`` (its ``size``, ``dtype`` and
    ``element_shape``) under its own name, and its flow output (``:1``) that list (``:0``).
    Each op on the array drops the handle and works on its flow input: Write ->
    ``TensorListSetItem`` (resizing when the array has ``dynamic_size``), Read ->
    ``TensorListGetItem``, Scatter -> ``TensorListScatterIntoExistingList``, Gather ->
    ``TensorListGather``, Size -> ``TensorListLength``, Concat -> ``TensorListConcatV2``, Split
    -> ``TensorListSplit``, Close -> ``NoOp``, each under its old name with its outputs where
    they were. The handle and the ``Enter`` s that bring it into loops go; the flow's
    ``Enter``/``Merge``/``Switch``/``Exit``/``NextIteration``/``Identity`` s become variant, so
    the loops then raise like any other. ``clear_after_read`` is dropped, as TF 2 does.

    Raises:
      UnimplementedError: for TensorArray gradients (``TensorArrayGradV3``: TF 1 gradient
        loops are not raised either) and a handle used other than by the array's ops.
    """
    import numpy as np

    from sessionlib.protos import attr_value_pb2, node_def_pb2

    arrays = {n.name: n for n in graph_def.node if n.op == "TensorArrayV3"}
    if not arrays:
        return graph_def
    from sessionlib.protos import graph_pb2

    out = graph_pb2.GraphDef()
    out.CopyFrom(graph_def)
    nodes = {n.name: n for n in out.node}
    # The nodes whose output 0 is an array's handle: the array, and Enters/Identities of it.
    handle_of = dict(arrays)
    grown = True
    while grown:
        grown = False
        for node in out.node:
            if node.name not in handle_of and node.op in _PASS_ON and node.input:
                op, index = _parse(node.input[0])
                if index == 0 and op in handle_of and not node.input[0].startswith("^"):
                    handle_of[node.name] = handle_of[op]
                    grown = True
    variant = dtypes.variant.as_datatype_enum
    new_nodes, flows = [], set()  # flows: names of nodes whose output 0 is now a list

    def const(node, suffix, value, anchor):
        from sessionlib.framework import tensor_util

        made = node_def_pb2.NodeDef(name=f"{node.name}/{suffix}", op="Const")
        made.attr["dtype"].type = dtypes.as_dtype(value.dtype).as_datatype_enum
        made.attr["value"].tensor.CopyFrom(tensor_util.make_tensor_proto(value))
        # In the frame of the op it feeds (a loop body's constants hang off its inputs).
        made.input.append("^" + _parse(anchor)[0])
        new_nodes.append(made)
        return made.name

    def shape_const(node, shape_proto, anchor):
        return const(node, "element_shape", _element_shape_value(shape_proto), anchor)

    def flow(name):
        op, index = _parse(name)
        return op if op in arrays and index == 1 else name

    for node in list(out.node):
        if node.op not in _TENSOR_ARRAY_OPS or node.op == "TensorArrayV3":
            continue
        array = handle_of.get(_parse(node.input[0])[0]) if node.input else None
        if node.op in ("TensorArrayGradV3", "TensorArrayGradWithShape"):
            raise _unimplemented(node, "TF 1 TensorArray gradients are not raised; export "
                                       "the graph with control flow v2")
        if array is None or _parse(node.input[0])[1] != 0:
            raise _unimplemented(node, "its TensorArray handle does not come from a "
                                       "TensorArrayV3")
        dtype = array.attr["dtype"]
        shape = array.attr["element_shape"].shape
        data = [flow(i) for i in node.input[1:] if not i.startswith("^")]
        controls = [i for i in node.input[1:] if i.startswith("^")
                    and _parse(i)[0] not in handle_of]
        new = node_def_pb2.NodeDef(name=node.name, device=node.device)
        if node.op == "TensorArrayWriteV3":  # (index, value, flow_in) -> flow_out
            index, value, flow_in = data
            new.op, new.input[:] = "TensorListSetItem", [flow_in, index, value]
            new.attr["element_dtype"].CopyFrom(dtype)
            new.attr["resize_if_index_out_of_bounds"].b = array.attr["dynamic_size"].b
            flows.add(node.name)
        elif node.op == "TensorArrayReadV3":  # (index, flow_in) -> value
            index, flow_in = data
            new.op = "TensorListGetItem"
            new.input[:] = [flow_in, index, shape_const(node, shape, index)]
            new.attr["element_dtype"].CopyFrom(dtype)
        elif node.op == "TensorArrayScatterV3":  # (indices, value, flow_in) -> flow_out
            indices, value, flow_in = data
            new.op, new.input[:] = "TensorListScatterIntoExistingList", [flow_in, value,
                                                                         indices]
            new.attr["element_dtype"].CopyFrom(dtype)
            flows.add(node.name)
        elif node.op == "TensorArrayGatherV3":  # (indices, flow_in) -> value
            indices, flow_in = data
            new.op = "TensorListGather"
            new.input[:] = [flow_in, indices, shape_const(node, shape, indices)]
            new.attr["element_dtype"].CopyFrom(dtype)
        elif node.op == "TensorArraySizeV3":  # (flow_in) -> size
            new.op, new.input[:] = "TensorListLength", data
        elif node.op == "TensorArrayConcatV3":  # (flow_in) -> value, lengths
            (flow_in,) = data
            unknown = attr_value_pb2.AttrValue()
            unknown.shape.unknown_rank = True
            new.op = "TensorListConcatV2"
            new.input[:] = [flow_in, shape_const(node, unknown.shape, flow_in),
                            const(node, "leading_dims", np.zeros([0], np.int64), flow_in)]
            new.attr["element_dtype"].CopyFrom(dtype)
        elif node.op == "TensorArraySplitV3":  # (value, lengths, flow_in) -> flow_out
            value, lengths, flow_in = data
            unknown = attr_value_pb2.AttrValue()
            unknown.shape.unknown_rank = True
            new.op = "TensorListSplit"
            new.input[:] = [value, shape_const(node, unknown.shape, value), lengths]
            new.input.append("^" + _parse(flow_in)[0])
            flows.add(node.name)
        elif node.op == "TensorArrayCloseV3":
            new.op = "NoOp"
            new.input[:] = ["^" + _parse(i)[0] for i in data]
        new.input.extend(controls)
        nodes[node.name] = new
    for name, array in arrays.items():
        reserve = node_def_pb2.NodeDef(name=name, op="TensorListReserve", device=array.device)
        (size,) = [i for i in array.input if not i.startswith("^")]
        reserve.input[:] = [shape_const(array, array.attr["element_shape"].shape, size), size]
        reserve.input.extend(i for i in array.input if i.startswith("^"))
        reserve.attr["element_dtype"].CopyFrom(array.attr["dtype"])
        nodes[name] = reserve
        flows.add(name)
    removed = set(handle_of) - set(arrays)
    rewritten = {n.name for n in graph_def.node if n.op in _TENSOR_ARRAY_OPS}
    for node in nodes.values():
        if node.name in removed or node.name in rewritten:
            continue
        for i, inp in enumerate(node.input):
            op, index = _parse(inp)
            if not inp.startswith("^") and index == 0 and (op in removed or op in arrays):
                raise _unimplemented(node, f"uses the TensorArray handle {inp!r} other than "
                                           "through a TensorArray op")
            node.input[i] = flow(inp)
        node.input[:] = [i for i in node.input if not (i.startswith("^")
                                                        and _parse(i)[0] in removed)]
    # The flows' pass-through ops now carry a variant.
    users = {}
    for node in nodes.values():
        for inp in node.input:
            if not inp.startswith("^"):
                users.setdefault(_parse(inp)[0], []).append(node)
    stack = list(flows)
    while stack:
        for user in users.get(stack.pop(), ()):
            if user.op in _PASS_ON and user.name not in flows and user.name not in removed:
                user.attr["T"].type = variant
                flows.add(user.name)
                stack.append(user.name)
    del out.node[:]
    out.node.extend(n for name, n in nodes.items() if name not in removed)
    out.node.extend(new_nodes)
    return out

