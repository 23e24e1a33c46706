"""Reads of reference tensors: a plan pass that puts a ``_RefRead`` node wherever TF would
dereference a TF 1 reference variable.

Why. At run time a reference tensor (dtype ``float32_ref`` & co., the output of ``VariableV2``,
``Assign``, ``ScatterAdd``...) holds its variable's resource handle, so that the ops taking it at
a reference input (`OpDef.ref_inputs`) update the variable. TF hands every *other* consumer the
variable's value instead, read when that consumer runs. This pass makes that explicit: for each
node that takes a reference tensor at an input that is not a reference input, a ``_RefRead``
node goes right before it (so it reads after everything the consumer waits for, its control
inputs included) and the consumer reads its result; each fetched reference tensor gets a read
right after its producer (the value as the producer left it, as TF's fetch does). A `_Send`
takes no reference either, so a reference that crosses devices is read on its producer's
device, as TF's Send dereferences.

Where it runs. On every plan, fused or not: ``plan.compile_nodes`` runs it first, and
``partition._compile`` runs it on each device's nodes before the other rewrites. It looks at
registrations and dtypes only, never at op names. A fed reference tensor is a plain value:
nothing reads it (and the read kernel passes a value that is no handle through).

The node. ``_RefRead`` has the consumer's `origin`, so a read of an uninitialized variable fails
as TF's does, naming the consumer ("Attempting to use uninitialized value v" at ``v/read``).
Its attrs: ``ref_name``, the reference as the consumer's NodeDef names it (``'v'``), which the
error quotes. Its output is a `ReadKey`.
"""

from sessionlib.framework import graph_io, registry

__all__ = ["REF_READ", "ReadKey", "insert_reads", "is_ref_key"]

REF_READ = "_RefRead"


class ReadKey:
    """The plan key of a ``_RefRead`` node's output (hashed and compared by identity).

    Attributes:
      node_name: the read node's name, which partition graphs and traces use for the value.
      source: the reference tensor read.
    """

    __slots__ = ("node_name", "source")

    def __init__(self, node_name, source):
        self.node_name = node_name
        self.source = source

    def __repr__(self):
        return f"ReadKey({self.node_name!r})"


def is_ref_key(key):
    """Whether plan key `key` is a reference tensor of the graph."""
    dtype = getattr(key, "dtype", None)
    return dtype is not None and getattr(dtype, "_is_ref_dtype", False)


def insert_reads(nodes, feed_keys, fetch_keys):
    """Inserts the ``_RefRead`` nodes of one device's nodes.

    Args:
      nodes: `plan.Node`s in execution order.
      feed_keys: the fed keys (a fed reference is a value already).
      fetch_keys: the fetched keys.

    Returns:
      ``(nodes, fetch_keys)``: the new node list and the fetch keys with each fetched reference
      replaced by its read (the arguments themselves when there is nothing to read).
    """
    fed = set(feed_keys)
    fetched_refs = [key for key in fetch_keys if is_ref_key(key) and key not in fed]
    if not fetched_refs and not any(
            is_ref_key(key) and key not in fed
            for node in nodes for key in node.inputs):
        return nodes, fetch_keys
    from sessionlib.runtime.plan import Node

    def read_node(source, name, origin, controls):
        key = ReadKey(name, source)
        attrs = {"_name": name, "ref_name": graph_io.input_name(source)}
        return Node(REF_READ, [source], [key], attrs, name, origin, controls), key

    pending_fetches = {}
    for key in fetched_refs:
        pending_fetches.setdefault(key, None)
    result = []
    count = 0
    for node in nodes:
        ref_inputs = registry.get(node.op_type).ref_inputs
        new_inputs = None
        for index, key in enumerate(node.inputs):
            if index in ref_inputs or key in fed or not is_ref_key(key):
                continue
            read, read_key = read_node(key, f"{node.name}/_ref_read_{count}", node.origin,
                                       node.controls)
            count += 1
            result.append(read)
            if new_inputs is None:
                new_inputs = list(node.inputs)
            new_inputs[index] = read_key
        if new_inputs is not None:
            node.inputs = new_inputs
        result.append(node)
        for output in node.outputs:
            if output in pending_fetches and pending_fetches[output] is None:
                read, read_key = read_node(output, f"{node.name}/_ref_read_fetch_{count}",
                                           node.origin, (node.name,))
                count += 1
                result.append(read)
                pending_fetches[output] = read_key
    mapped = []
    for key in fetch_keys:
        read_key = pending_fetches.get(key) if is_ref_key(key) else None
        mapped.append(key if read_key is None else read_key)
    return result, mapped


def _infer(inputs, attrs):
    raise TypeError("_RefRead is inserted by the runtime, not built in graphs")


registry.register_op(REF_READ, infer=_infer, kernel=REF_READ, num_inputs=1, stateful=True,
                     doc="Reads a reference variable's value (runtime/ref_reads.py).",
                     gradient=registry.NOT_DIFFERENTIABLE)
