"""Partitioning a placed step into one plan per device, with a `_Send`/`_Recv` pair per edge.

Design. The input is the step's ops in a global topological order and the device of each op.
Every tensor that a device consumes but another device produces becomes one *edge* (one edge
per (tensor, consumer device), however many consumers read it there); so does every control
dependency across devices (a token with no data). Each device's node list is the global order
restricted to that device, with the `_Send` of an edge right after its producer and the
`_Recv` right before its first consumer. Because every partition runs its nodes in the
restriction of one global order, and a send always precedes its receive in that order, the
partitions can run sequentially and concurrently without deadlock.

The result is plain data (`PartitionPlan`): an `ExecPlan` with the kernel name of every node,
so that a worker process binds kernels from its own kernel table by name (kernel ids are not
trusted across processes), the maps from the partition's feed/fetch slots to the step's, and
the slots whose values leave the partition (`shared_slots`). `_Send` and `_Recv` are ordinary
stateful ops: neither the executor nor the worker knows them by name (only this module does);
their kernels talk to the run's rendezvous through ``ctx.rendezvous``.
"""

import collections
import heapq
import marshal
import weakref

import numpy as np

from sessionlib import dtypes, errors
from sessionlib._core.executor import trace_clock_ns as _trace_clock_ns
from sessionlib.framework import graph_io, registry
from sessionlib.runtime import channel, kernel_table, optimizer, ref_reads, tracing
from sessionlib.runtime.plan import Node, compile_nodes, rewrite

__all__ = ["PartitionPlan", "PartitionedStep", "partition", "SEND", "RECV", "hold_charged",
           "refused"]

SEND = "_Send"
RECV = "_Recv"


# ---- the _Send / _Recv ops ----------------------------------------------------------------

def _no_infer(inputs, attrs):
    raise TypeError("_Send and _Recv are inserted by the partitioner, not built in graphs")


def _send_kernel(ctx, inputs, attrs):
    rendezvous = ctx.rendezvous
    if rendezvous is None:
        raise RuntimeError("_Send ran outside a multi-device step")
    rendezvous.send(attrs["edge"], inputs[0] if inputs else None)
    return ()


def _recv_kernel(ctx, inputs, attrs):
    rendezvous = ctx.rendezvous
    if rendezvous is None:
        raise RuntimeError("_Recv ran outside a multi-device step")
    return (rendezvous.recv(attrs["edge"]),)


kernel_table.register_kernel(SEND, reference=_send_kernel)
kernel_table.register_kernel(RECV, reference=_recv_kernel)
registry.register_op(SEND, infer=_no_infer, kernel=SEND, stateful=True,
                     doc="Publishes a tensor to another device's partition.",
                     gradient=registry.NOT_DIFFERENTIABLE)
registry.register_op(RECV, infer=_no_infer, kernel=RECV, num_inputs=0,
                     stateful=True, doc="Waits for a tensor from another device's partition.",
                     gradient=registry.NOT_DIFFERENTIABLE)


# ---- plans --------------------------------------------------------------------------------

class PartitionPlan:
    """One device's share of a step, as plain values (picklable, shipped once per step).

    Attributes:
      device: the full device name.
      plan: the `ExecPlan`; its `origins` map nodes to the step's global order (-1 for a
        `_Send`/`_Recv`), and a worker rebinds its kernels by kernel name.
      feeds: ``(step feed index, partition slot)`` pairs: the fed values this device reads.
      fetches: ``(step fetch index, partition slot)`` pairs: the fetches this device produces,
        in fetch order.
      num_edges: the number of cross-device edges of the whole step.
      shared_slots: the slots whose values a kernel of this partition produces and that leave
        it (sent to another device, or fetched): a device that can, allocates them where the
        reader can map them (a worker's shared arena). Fed and received values are not
        produced here, so they are not listed.
    """

    __slots__ = ("device", "plan", "feeds", "fetches", "num_edges", "shared_slots")

    def __init__(self, device, plan, feeds, fetches, num_edges, shared_slots):
        self.device = device
        self.plan = plan
        self.feeds = feeds
        self.fetches = fetches
        self.num_edges = num_edges
        self.shared_slots = shared_slots

    @property
    def op_types(self):
        return self.plan.op_types

    def __getstate__(self):
        return {name: getattr(self, name) for name in self.__slots__}

    def __setstate__(self, state):
        for name, value in state.items():
            setattr(self, name, value)


class PartitionedStep:
    """The partitions of a step.

    Attributes:
      partitions: the non-empty `PartitionPlan`s, by device order.
      fed_fetches: ``(step fetch index, step feed index)`` for fetches that are fed (the client
        returns the fed value without asking a device).
      num_edges: the number of cross-device edges.
      edges: per edge, ``(tensor name or '^op' for control, producer device, consumer device)``.
      nodes: per device, the `Node`s of its plan as it runs, fused elementwise nodes
        included (client side only: traces and partition graphs are described from them;
        they are never shipped).
    """

    def __init__(self, partitions, fed_fetches, num_edges, edges, nodes=None, edge_of=None,
                 order=(), node_names=None):
        self.partitions = partitions
        self.fed_fetches = fed_fetches
        self.num_edges = num_edges
        self.edges = edges
        self.nodes = nodes or {}
        self._edge_of = edge_of or {}
        self._order = order
        self._node_names = node_names or {}   # edge number -> (send name, recv name)
        self._op_by_name = None
        self._producers = {}   # device -> its `tracing.value_names`

    def _input_names(self, node, device):
        """The NodeDef input names of a partition node: a received value is named by its
        `_Recv` node, as in TF's partitioned graphs, and a rewritten value by the node that
        computes it (`tracing.value_names`)."""
        producers = self._producers.get(device)
        if producers is None:
            producers = self._producers[device] = tracing.value_names(
                self.nodes.get(device, ()))
        names = []
        for key in node.inputs:
            if isinstance(key, tuple):              # ("recv", edge number)
                names.append(self._node_names[key[1]][1])
            elif isinstance(key, ref_reads.ReadKey):  # a reference variable's read
                names.append(key.node_name)
            else:
                names.append(producers.get(key) or graph_io.input_name(key))
        return names

    def _is_its_op(self, node):
        """Whether `node` is its graph op unchanged: not a `_Send`/`_Recv`, and not a node a
        graph rewrite (``attrs['_rewritten_from']``) or another runtime pass made."""
        if node.op_type in (SEND, RECV):
            return True          # described from its edge
        return (tracing.REWRITTEN_FROM not in node.attrs and node.origin >= 0
                and self._order[node.origin].name == node.name)

    def _control_names(self, op, device):
        names = []
        for control in op._control_inputs:
            number = self._edge_of.get((("^", control), device))
            names.append("^" + (self._node_names[number][1] if number else control.name))
        return names

    def timeline_labels(self, device):
        """TF's ``"name = Op(in1, in2)"`` trace label of each node of `device`'s partition.

        A `_Recv` is labelled with the tensor it receives (``"y/_3 = _Recv(y)"``), so that
        a timeline, ours or TF's, draws the transfer as a flow arrow from its producer.
        """
        labels = []
        for node in self.nodes.get(device, ()):
            members = node.attrs.get("fused_ops")
            if members and tracing.REWRITTEN_FROM not in node.attrs:
                # "fused_0 = _FusedElementwise(mul, add)": the ops it holds
                labels.append(f"{node.name} = {node.op_type}({', '.join(members)})")
                continue
            if not self._is_its_op(node):   # "y/_rewrite_0 = Const() [folded: ..]"
                labels.append(tracing.rewritten_label(node, self._input_names(node, device)))
                continue
            if node.op_type == RECV:
                # The tensor it receives, named as a timeline names the producer's output
                # ("y", "y:1"; "^y" for a control edge): TF's Timeline then draws the
                # transfer as an arrow from the producer on the other device, as ours does.
                tensor = self.edges[node.attrs["edge"] - 1][0]
                inputs = [tensor[:-2] if tensor.endswith(":0") else tensor]
            elif node.op_type == SEND:
                inputs = (self._input_names(node, device)
                          or [self.edges[node.attrs["edge"] - 1][0]])     # "^op": a control
            else:
                inputs = self._input_names(node, device)
                if node.origin >= 0:
                    inputs += self._control_names(self._order[node.origin], device)
            labels.append(f"{node.name} = {node.op_type}({', '.join(inputs)})")
        return labels

    def partition_graph(self, device):
        """The `GraphDef` of `device`'s partition as it runs: its graph ops (inputs that
        cross devices renamed to their `_Recv`), the inserted `_Send`/`_Recv` nodes, a
        ``_FusedElementwise`` node for each fused chain, whose ``fused_ops`` and
        ``fused_types`` attrs list the ops it holds, and each node a graph rewrite made, with
        its own op type, inputs and attrs and a ``_rewritten_from`` attr listing the ops it
        replaced (`tracing.rewritten_node_def`)."""
        from sessionlib.framework.graph import GRAPH_DEF_VERSION
        from sessionlib.protos import graph_pb2

        graph_def = graph_pb2.GraphDef()
        graph_def.versions.producer = GRAPH_DEF_VERSION
        for node in self.nodes.get(device, ()):
            # (A rewritten node may have TF's own fused_ops attr, as _FusedMatMul does.)
            if node.attrs.get("fused_ops") and tracing.REWRITTEN_FROM not in node.attrs:
                self._add_fused_node(graph_def, node, device)
                continue
            if not self._is_its_op(node):
                graph_def.node.add().CopyFrom(tracing.rewritten_node_def(
                    node, self._input_names(node, device), device))
                continue
            if node.op_type not in (SEND, RECV):
                op = self._order[node.origin]
                node_def = graph_def.node.add()
                node_def.CopyFrom(graph_io.node_def_of(op))
                del node_def.input[:]
                node_def.input.extend(self._input_names(node, device))
                node_def.input.extend(self._control_names(op, device))
                node_def.device = device
                continue
            number = node.attrs["edge"]
            tensor_name, send_device, recv_device = self.edges[number - 1]
            node_def = graph_def.node.add(name=node.name, op=node.op_type, device=device)
            if node.op_type == SEND:
                node_def.input.extend(self._input_names(node, device)
                                      or [tensor_name])  # or "^op"
            node_def.attr["tensor_name"].s = tensor_name.encode("utf-8")
            node_def.attr["send_device"].s = send_device.encode("utf-8")
            node_def.attr["recv_device"].s = recv_device.encode("utf-8")
            node_def.attr["client_terminated"].b = False
            dtype = node.attrs.get("dtype") if node.op_type == RECV else (
                node.inputs[0].dtype if node.inputs else None)
            if dtype is not None:
                node_def.attr["T" if node.op_type == SEND else "tensor_type"].type = (
                    dtype.as_datatype_enum)
        return graph_def


    def _add_fused_node(self, graph_def, node, device):
        """A fused node as a NodeDef: its inputs, the control inputs of its members, and its
        members' names and types."""
        if self._op_by_name is None:
            self._op_by_name = {op.name: op for op in self._order}
        inputs = self._input_names(node, device)
        controls = []
        for member in node.attrs["fused_ops"]:
            op = self._op_by_name.get(member)
            if op is not None:
                controls += [c for c in self._control_names(op, device) if c not in controls]
        graph_def.node.add().CopyFrom(tracing.fused_node_def(node, inputs + controls, device))


def partition(order, devices, feed_tensors, fetch_tensors, device_names, fuse=None,
              rewrites=None):
    """Splits a placed step into per-device plans.

    Args:
      order: the step's ops in topological order (from ``plan.prune``).
      devices: the full device name of each op in `order`.
      feed_tensors: the fed tensors, in feed order.
      fetch_tensors: the fetched tensors, in fetch order.
      device_names: all device names of the session, in device order.
      fuse: whether elementwise chains are fused within each partition (the session's
        ``opt_level``); None: the process default (``runtime/fusion.py``).
      rewrites: the `optimizer.RewriteOptions` of each partition's graph rewrites; None: all.

    Returns:
      A `PartitionedStep`.
    """
    device_of = dict(zip(order, devices))
    position = {op: index for index, op in enumerate(order)}
    fed = set(feed_tensors)
    feed_index = {tensor: index for index, tensor in enumerate(feed_tensors)}

    # 1. The edges: (tensor or control op, consumer device) -> edge number (from 1).
    edge_of = {}
    edges = []
    first_consumer = {}
    sends_after = collections.defaultdict(list)
    for op in order:
        device = device_of[op]
        sources = [(t, t.op) for t in op._inputs if t not in fed]
        sources += [(None, c) for c in op._control_inputs if c in device_of]
        for tensor, producer in sources:
            producer_device = device_of.get(producer)
            if producer_device is None or producer_device == device:
                continue
            if tensor is not None and tensor.dtype is dtypes.variant:
                # A variant (a TensorList of Python objects) has no wire form, and TF's
                # functional control flow keeps lists with the loop that makes them.
                raise errors.InvalidArgumentError(
                    None, op, f"Variant tensor {tensor.name} (a TensorList) is produced on "
                    f"{producer_device} but consumed on {device} by {op.name}: variant "
                    "tensors cannot cross devices; place the ops of one list on one device")
            key = (tensor if tensor is not None else ("^", producer), device)
            if key in edge_of:
                continue
            number = len(edges) + 1
            edge_of[key] = number
            edges.append((tensor.name if tensor is not None else "^" + producer.name,
                          producer_device, device))
            first_consumer[number] = op
            sends_after[producer].append((number, tensor, device))

    recvs_before = collections.defaultdict(list)
    for key, number in edge_of.items():
        recvs_before[first_consumer[number]].append((number, key))

    # 2. Each device's node list, in the restriction of the global order (re-ranked so that
    # each device sends early and waits late, see `_transfer_aware_order`).
    nodes = collections.defaultdict(list)
    send_names, recv_names = {}, {}
    taken = {op.name for op in order}
    for op in _transfer_aware_order(order, device_of, fed) if edges else order:
        device = device_of[op]
        for number, (source, consumer_device) in sorted(recvs_before.get(op, ()),
                                                        key=lambda item: item[0]):
            is_control = isinstance(source, tuple)
            name = _transfer_name(source[1] if is_control else source.op, 2 * number - 1,
                                  taken)
            attrs = {"edge": number, "_name": name, "control": is_control,
                     "dtype": None if is_control else source.dtype.base_dtype}
            if not is_control and source.shape.dims is not None:
                # The received value's static shape, for the passes that need shapes known
                # when the step compiles (a fold in `fusion`); TF's attr of that name.
                attrs["_output_shapes"] = (tuple(source.shape.as_list()),)
            nodes[device].append(Node(RECV, [], [("recv", number)], attrs, name))
            recv_names[number] = name
        inputs = []
        for tensor in op._inputs:
            if tensor in fed or device_of.get(tensor.op) == device:
                inputs.append(tensor)
            else:
                inputs.append(("recv", edge_of[(tensor, device)]))
        nodes[device].append(Node.of_op(op, position[op], inputs))
        for number, tensor, consumer_device in sends_after.get(op, ()):
            name = _transfer_name(op, 2 * number - 2, taken)
            attrs = {"edge": number, "_name": name, "control": tensor is None}
            # A control edge's send reads nothing: its control input keeps it after `op`.
            nodes[device].append(Node(SEND, [tensor] if tensor is not None else [], [],
                                      attrs, name, controls=(op.name,)))
            send_names[number] = name

    # 3. Compile each device's nodes into a plan.
    fetch_sets = collections.defaultdict(list)
    fed_fetches = []
    for index, tensor in enumerate(fetch_tensors):
        if tensor in fed:
            fed_fetches.append((index, feed_index[tensor]))
        else:
            fetch_sets[device_of[tensor.op]].append((index, tensor))
    partitions = []
    for device in device_names:
        if not nodes.get(device) and not fetch_sets.get(device):
            continue
        plan, nodes[device] = _compile(device, nodes[device], fed, feed_index,
                                       fetch_sets.get(device, []), len(edges), fuse,
                                       rewrites)
        partitions.append(plan)
    node_names = {number: (send_names[number], recv_names[number]) for number in send_names}
    return PartitionedStep(partitions, fed_fetches, len(edges), edges, dict(nodes), edge_of,
                           list(order), node_names)


def _transfer_aware_order(order, device_of, fed):
    """`order` re-ranked for the partitions: a topological order of the same ops in which, of
    the ops ready at each point, those that feed another device come first and those that
    wait for another device come last.

    Why. Each partition runs its nodes one after the other in the restriction of this order,
    and a `_Recv` blocks its device until the value arrives. In the plain creation order a
    device would happily run a long kernel of its own before the cheap op whose value another
    device waits for (the second tower's read of a variable on CPU:0 comes after the first
    tower's matmul), or block in a `_Recv` while it still has work of its own (the gradient
    average before its own tower's backward pass). So the ready ops are ranked:

    0. *feeders*: ops with a consumer on another device, and their ancestors (on any device);
       of these, the ones that wait for no other device come first;
    1. everything else, in `order`;
    2. ops that read a value from another device and feed none, by when that value is
       produced (the position of its producer in this order), so a device takes its inputs in
       the order the other device sends them.

    Ties keep `order`'s positions, so a step with no cross-device edge keeps `order` exactly.
    The result is still one global topological order, so the partitions cannot deadlock.
    """
    position = {op: index for index, op in enumerate(order)}
    in_step = set(order)

    def producers(op):
        found = [t.op for t in op._inputs if t not in fed and t.op in in_step]
        return found + [c for c in op._control_inputs if c in in_step]

    consumers = collections.defaultdict(list)
    remote_input = set()
    for op in order:
        for producer in producers(op):
            consumers[producer].append(op)
            if device_of[producer] != device_of[op]:
                remote_input.add(op)
    feeder = set()
    for op in reversed(order):   # consumers before producers
        if any(device_of[c] != device_of[op] or c in feeder for c in consumers[op]):
            feeder.add(op)

    scheduled = {}
    pending = {op: len(producers(op)) for op in order}

    def rank(op):
        if op in feeder:
            return (0, int(op in remote_input), position[op])
        if op in remote_input:
            produced = max(scheduled[p] for p in producers(op)
                           if device_of[p] != device_of[op])
            return (2, produced, position[op])
        return (1, 0, position[op])

    ready = [(rank(op), op._id, op) for op in order if pending[op] == 0]
    heapq.heapify(ready)
    result = []
    while ready:
        _, _, op = heapq.heappop(ready)
        scheduled[op] = len(result)
        result.append(op)
        for consumer in consumers[op]:
            pending[consumer] -= 1
            if pending[consumer] == 0:
                heapq.heappush(ready, (rank(consumer), consumer._id, consumer))
    if len(result) != len(order):   # cannot happen for a topological `order`; stay safe
        return order
    return result


def _transfer_name(producer, index, taken):
    """TF's name of a `_Send` or `_Recv` node: its producer's name and a step-wide number,
    ``"y/_2"`` (sends even, receives odd), as TF's graph partitioner names them. TF's
    Timeline reads a received input ``"y/_3"`` as the tensor ``"y"``, so its arrows and ours
    join the same nodes."""
    name = f"{producer.name}/_{index}"
    while name in taken:   # a graph op of that very name
        name += "_"
    taken.add(name)
    return name


def _compile(device, nodes, fed, feed_index, fetches, num_edges, fuse, rewrites):
    """(the `PartitionPlan` of one device's nodes, the nodes as they run)."""
    used_feeds = []
    for node in nodes:
        for key in node.inputs:
            if key in fed and key not in used_feeds:
                used_feeds.append(key)
    fetch_keys = [tensor for _, tensor in fetches]
    # Reads of reference variables, before a _Send too (TF's Send dereferences).
    nodes, fetch_keys = ref_reads.insert_reads(nodes, used_feeds, fetch_keys)
    # The rewrites run here rather than inside compile_nodes, so that the partition's graph and
    # trace labels describe the rewritten and fused nodes that really run.
    nodes = rewrite(nodes, used_feeds, fetch_keys, fuse, rewrites)
    plan, feed_slots, fetch_slots = compile_nodes(nodes, used_feeds, fetch_keys, fuse=False,
                                                  rewrites=optimizer.NONE,
                                                  function_options=(fuse, rewrites))
    feeds = [(feed_index[key], number) for key, number in zip(used_feeds, feed_slots)]
    fetch_pairs = [(index, number) for (index, _), number in zip(fetches, fetch_slots)]
    return PartitionPlan(device, plan, feeds, fetch_pairs, num_edges,
                         _shared_slots(plan, nodes, feed_slots, fetch_slots)), nodes


def _shared_slots(plan, nodes, feed_slots, fetch_slots):
    """The slots of `plan` that its own kernels fill and that leave the partition: the inputs
    of its `_Send` nodes and its fetches, less the fed and the received values."""
    in_ptr, in_slots = plan.in_ptr.tolist(), plan.in_slots.tolist()
    out_ptr, out_slots = plan.out_ptr.tolist(), plan.out_slots.tolist()
    leaving, received = set(fetch_slots), set()
    for index, node in enumerate(nodes):
        if node.op_type == SEND:
            leaving.update(in_slots[in_ptr[index]:in_ptr[index + 1]])
        elif node.op_type == RECV:
            received.update(out_slots[out_ptr[index]:out_ptr[index + 1]])
    return sorted(leaving - received - set(feed_slots))


# ---- the rendezvous a worker gives its _Send/_Recv kernels ---------------------------------

class RunRendezvous:
    """The `ctx.rendezvous` of one partition run: sends and receives on the run's slots.

    Sends of the same read-only memory in one run (a variable read by several towers) share
    one shared-memory copy (`_send_snapshot`).

    Args:
      block: the client's `channel.Rendezvous` (mapped in this process).
      store: this process's `TensorStore`.
      run_slots, generation: which run.
      check: raises on cancellation or deadline (called between wait slices).
      account: the device's memory account (charged for received views).
      sends: how many _Send nodes the partition runs (after its last one, the shared
        snapshots are let go).
    """

    __slots__ = ("block", "store", "run_slots", "generation", "check", "handed_over",
                 "account", "snapshots", "sends_left")

    def __init__(self, block, store, run_slots, generation, check, account=None, sends=0):
        self.block = block
        self.store = store
        self.run_slots = run_slots
        self.generation = generation
        self.check = check
        # The receiving device's memory account (``runtime/memory.py``): a received tensor is
        # a view of the sender's shared memory that numpy's handler never sees, so `recv`
        # charges it by hand for as long as the device holds it.
        self.account = account
        # A traced run sets a dict: edge -> when its tensor was handed over (`trace_clock`).
        self.handed_over = None
        # The read-only arrays this run sent (see `send`): key -> (array, descriptor), kept
        # until the partition's last _Send (`sends` of them) ran, or the run ended.
        self.snapshots = None
        self.sends_left = sends

    def send(self, edge, value):
        if value is None:
            descriptor = ("c",)
        elif (type(value) is np.ndarray and not value.flags.writeable
                and value.nbytes >= _SHARED_SNAPSHOT_BYTES and not value.dtype.hasobject):
            descriptor = self._send_snapshot(value)
        else:
            # In place when the producing kernel allocated `value` in the arena (the worker
            # wraps the kernels that feed a _Send): a large tensor crosses with no copy.
            descriptor = self.store.publish(value, inline_limit=256, in_place=True)
        self.sends_left -= 1
        if self.sends_left == 0 and self.snapshots:
            # No later send can share them: let go of the arrays now, so that an update of
            # a variable later in the run (the optimizer's) need not copy on write.
            self.finish()
        payload = marshal.dumps(descriptor)
        if self.handed_over is not None:
            # Read before the receiver is woken: once it is, it may finish its _Recv before
            # this process runs again, and a _Send span ending after its _Recv would lie.
            self.handed_over[edge] = _trace_clock_ns()
        self.block.send(self.run_slots, edge, self.generation, payload)

    def _send_snapshot(self, value):
        """The descriptor of read-only `value`, shared with the earlier sends of this run
        that sent the same memory: a variable read by several towers is copied to shared
        memory once per run, not once per tower.

        Why it is safe: the first send keeps `value` (a view of its owner) until the
        partition's last send, so the owner's memory cannot change meanwhile: a variable's
        update writes in place only when nobody else references its array (else it copies on
        write, ``kernels/state_kernels.py``), and the owner cannot be freed and its address
        reused.
        Each descriptor is published with one reserved reader, which keeps its block leased
        until `finish` gives the reservation up, so another reader can always be added.
        (Holding the arrays until the run's end would make the optimizer's in-place update
        of each sent variable, later in the same run, a copy on write.)
        """
        owner = value
        while isinstance(owner.base, np.ndarray):
            owner = owner.base
        key = (id(owner), value.__array_interface__["data"][0], value.shape, value.strides,
               value.dtype.str)
        if self.snapshots is None:
            self.snapshots = {}
        sent = self.snapshots.get(key)
        if sent is not None:
            self.store.add_reader(sent[1])
            return sent[1]
        descriptor = self.store.publish(value, inline_limit=256, consumers=2, in_place=True)
        self.snapshots[key] = (value, descriptor)
        return descriptor

    def finish(self):
        """Ends the run's sends: drops the reservations of its shared snapshots."""
        snapshots, self.snapshots = self.snapshots, None
        if snapshots:
            for _, descriptor in snapshots.values():
                self.store.drop_reservation(descriptor)

    def recv(self, edge):
        payload = self.block.recv(self.run_slots, edge, self.generation, self.check)
        descriptor = marshal.loads(channel.checked(payload))   # untrusted bytes
        if descriptor[0] == "c":
            return _CONTROL_TOKEN
        value = self.store.open(descriptor)
        if descriptor[0] == "a" and self.account is not None:
            # Shared-memory views only: inline values (<= 256 bytes) are copies numpy made.
            if not self.account.charge(value.nbytes):
                shape, dtype = value.shape, value.dtype
                del value   # the sender's lease ends now, not when the error is dropped
                raise refused(shape, dtype)
            hold_charged(self.account, value)
        return value


# A read-only sent array from this size on is shared by the run's sends of the same memory
# (`RunRendezvous._send_snapshot`); smaller ones travel inline or are cheap to copy.
_SHARED_SNAPSHOT_BYTES = 4096


def hold_charged(account, value):
    """Gives the bytes of `value`, a received tensor that `account` charged by hand, back to
    it once the device holds no view of it."""
    owner = value
    while isinstance(owner.base, np.ndarray):
        owner = owner.base
    # Every view of the value keeps `owner` alive: the bytes come back when the last one is
    # gone. (A weak reference kept in `_HELD` costs half a `weakref.finalize`.)
    held = weakref.ref(owner, _credit_when_dropped(account.credit, value.nbytes))
    _HELD[id(held)] = held


# The weak references of the received tensors still charged to their device, by id.
_HELD = {}


def _credit_when_dropped(credit, nbytes):
    def dropped(held):
        del _HELD[id(held)]
        credit(nbytes)
    return dropped


def refused(shape, dtype):
    """The MemoryError of a received tensor over the device's limit, with the `shape` and
    `dtype` that numpy's own carries (``memory.oom_error`` builds TF's message from it)."""
    error = MemoryError(f"Unable to hold a received tensor of shape {shape} and dtype {dtype}")
    error.shape, error.dtype = shape, dtype
    return error


_CONTROL_TOKEN = np.zeros((), dtype=np.bool_)
_CONTROL_TOKEN.setflags(write=False)
