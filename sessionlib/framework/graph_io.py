"""Graphs to and from protos: `NodeDef`, `GraphDef`, `AttrValue`, and `import_graph_def`.

Operations keep attributes as plain Python values; this module is the single place that maps
them to `AttrValue`s and back, so kernels and workers never depend on protobuf types.
"""

import contextlib

import numpy as np

from sessionlib import dtypes
from sessionlib.framework import tensor_util
from sessionlib.framework.tensor_shape import TensorShape

__all__ = ["attr_value_of", "python_value_of", "node_def_of", "graph_def_of",
           "import_graph_def", "input_name"]


def _protos():
    from sessionlib.protos import attr_value_pb2, graph_pb2, node_def_pb2

    return attr_value_pb2, graph_pb2, node_def_pb2


def attr_value_of(value):
    """Converts a plain attribute value to an `AttrValue` proto.

    Raises:
      TypeError: for a value that has no `AttrValue` form.
    """
    attr_value_pb2, _, _ = _protos()
    attr = attr_value_pb2.AttrValue()
    if isinstance(value, dtypes.DType):
        attr.type = value.as_datatype_enum
    elif isinstance(value, TensorShape):
        attr.shape.CopyFrom(value.as_proto())
    elif isinstance(value, (bool, np.bool_)):
        attr.b = bool(value)
    elif isinstance(value, (int, np.integer)):
        attr.i = int(value)
    elif isinstance(value, (float, np.floating)):
        attr.f = float(value)
    elif isinstance(value, str):
        attr.s = value.encode("utf-8")
    elif isinstance(value, bytes):
        attr.s = value
    elif isinstance(value, np.ndarray):
        attr.tensor.CopyFrom(tensor_util.make_tensor_proto(value))
    elif isinstance(value, (list, tuple)):
        items = list(value)
        attr.list.SetInParent()
        for item in items:
            if isinstance(item, dtypes.DType):
                attr.list.type.append(item.as_datatype_enum)
            elif isinstance(item, TensorShape):
                attr.list.shape.add().CopyFrom(item.as_proto())
            elif isinstance(item, (bool, np.bool_)):
                attr.list.b.append(bool(item))
            elif isinstance(item, (int, np.integer)):
                attr.list.i.append(int(item))
            elif isinstance(item, (float, np.floating)):
                attr.list.f.append(float(item))
            elif isinstance(item, str):
                attr.list.s.append(item.encode("utf-8"))
            elif isinstance(item, bytes):
                attr.list.s.append(item)
            elif isinstance(item, np.ndarray):
                attr.list.tensor.add().CopyFrom(tensor_util.make_tensor_proto(item))
            else:
                raise TypeError(f"Cannot store {item!r} in an attr list")
    else:
        raise TypeError(f"Cannot store {value!r} of type {type(value).__name__} as an attr")
    return attr


def python_value_of(attr):
    """The plain Python value of an `AttrValue` proto (the inverse of `attr_value_of`)."""
    which = attr.WhichOneof("value")
    if which == "type":
        return dtypes.as_dtype(attr.type)
    if which == "shape":
        return TensorShape(attr.shape)
    if which == "b":
        return attr.b
    if which == "i":
        return attr.i
    if which == "f":
        return attr.f
    if which == "s":
        try:
            return attr.s.decode("utf-8")
        except UnicodeDecodeError:
            return attr.s
    if which == "tensor":
        return tensor_util.make_ndarray(attr.tensor)
    if which == "list":
        lst = attr.list
        if lst.type:
            return [dtypes.as_dtype(t) for t in lst.type]
        if lst.shape:
            return [TensorShape(s) for s in lst.shape]
        if lst.i:
            return list(lst.i)
        if lst.f:
            return list(lst.f)
        if lst.b:
            return list(lst.b)
        if lst.s:
            return [s.decode("utf-8") for s in lst.s]
        if lst.tensor:
            return [tensor_util.make_ndarray(t) for t in lst.tensor]
        return []
    return None


def input_name(tensor):
    """The `NodeDef` spelling of a data input: ``'op'`` for output 0, else ``'op:i'``."""
    if tensor.value_index == 0:
        return tensor.op.name
    return f"{tensor.op.name}:{tensor.value_index}"


def node_def_of(op, add_shapes=False):
    """The `NodeDef` of an `Operation`."""
    _, _, node_def_pb2 = _protos()
    node = node_def_pb2.NodeDef(name=op.name, op=op.type, device=op.device)
    node.input.extend(input_name(t) for t in op._inputs)
    node.input.extend(f"^{c.name}" for c in op._control_inputs)
    for key, value in op._attrs.items():
        if value is None:
            continue
        node.attr[key].CopyFrom(attr_value_of(value))
    if add_shapes:
        node.attr["_output_shapes"].CopyFrom(attr_value_of([t.shape for t in op._outputs]))
    return node


def graph_def_of(graph, from_version=None, add_shapes=False):
    """The `GraphDef` of `graph` (ops added after `from_version` only, when given)."""
    from sessionlib.framework.graph import GRAPH_DEF_VERSION

    _, graph_pb2, _ = _protos()
    graph_def = graph_pb2.GraphDef()
    graph_def.versions.producer = GRAPH_DEF_VERSION
    for op in graph.get_operations():
        # `version` also grows when a control input is added, so compare the version each op
        # was created at rather than its position.
        if from_version is not None and op._created_at_version <= from_version:
            continue
        graph_def.node.add().CopyFrom(node_def_of(op, add_shapes))
    return graph_def


def _parse_input(name):
    """``'^op'`` -> (op, None, True); ``'op:2'`` -> (op, 2, False); ``'op'`` -> (op, 0, False)."""
    if name.startswith("^"):
        return name[1:], None, True
    op_name, sep, index = name.rpartition(":")
    if sep and index.isdigit():
        return op_name, int(index), False
    return name, 0, False


def _producers_first(graph_def, nodes, input_map):
    """The node names of `graph_def` ordered so that every node follows the nodes it reads.

    Nodes are taken in `graph_def` order, each preceded by its not yet placed producers (an
    iterative depth-first walk: a chain of thousands of nodes must not hit Python's recursion
    limit). Inputs replaced through `input_map` do not need their producers first.

    Raises:
      ValueError: if the graph has a cycle.
    """
    done, visiting, order = set(), set(), []

    def producers(node):
        names = []
        for inp in node.input:
            op_name, index, is_control = _parse_input(inp)
            if is_control:
                if inp in input_map:
                    continue
            elif f"{op_name}:{index}" in input_map or (index == 0 and op_name in input_map):
                continue
            names.append(op_name)
        return names

    for root in graph_def.node:
        if root.name in done:
            continue
        stack = [(root.name, iter(producers(root)))]
        visiting.add(root.name)
        while stack:
            node_name, pending = stack[-1]
            for producer in pending:
                if producer in done:
                    continue
                if producer in visiting:
                    raise ValueError(f"graph_def contains a cycle through {producer!r}")
                visiting.add(producer)
                stack.append((producer, iter(producers(nodes[producer]))))
                break
            else:
                stack.pop()
                visiting.discard(node_name)
                done.add(node_name)
                order.append(node_name)
    return order


def import_graph_def(graph_def, input_map=None, return_elements=None, name=None,
                     op_dict=None, producer_op_list=None):
    """Imports the ops of a `GraphDef` into the default graph.

    Args:
      graph_def: a `GraphDef` proto.
      input_map: maps names in `graph_def` (``'x:0'``, or ``'^op'``) to Tensors (Operations)
        of the default graph that replace them.
      return_elements: names of ops or tensors in `graph_def` to return.
      name: a prefix for the imported names (default ``'import'``; '' for none).
      op_dict, producer_op_list: accepted for TF compatibility and ignored.

    Returns:
      The imported elements named in `return_elements`, or None.

    Raises:
      TypeError: if `graph_def` is not a GraphDef or `input_map` is not a dict.
      ValueError: for a reference to an unknown node, an unknown op type, a cycle, or an
        `input_map` key that is not in the graph.
    """
    from sessionlib.framework import graph as graph_lib
    from sessionlib.framework import registry

    _, graph_pb2, _ = _protos()
    if not isinstance(graph_def, graph_pb2.GraphDef):
        raise TypeError(f"graph_def must be a GraphDef proto, got {type(graph_def).__name__}")
    if input_map is not None and not isinstance(input_map, dict):
        raise TypeError("input_map must be a dictionary mapping strings to Tensor objects.")
    input_map = dict(input_map or {})
    graph = graph_lib.get_default_graph()
    nodes = {node.name: node for node in graph_def.node}
    for node in graph_def.node:
        registry.get(node.op)  # ValueError for an unknown op type, before anything is added
        for inp in node.input:
            op_name, _, _ = _parse_input(inp)
            if op_name not in nodes:
                raise ValueError(f"Node {node.name!r}: input {inp!r} is not in the graph_def")
    for key in input_map:
        op_name, _, _ = _parse_input(key)
        if op_name not in nodes:
            raise ValueError(f"Attempted to map inputs that were not found in graph_def: "
                             f"[{key}]")
    prefix = "import" if name is None else name
    created = {}
    scope = graph.name_scope(prefix) if prefix else graph.name_scope(None)
    with scope:
        for node_name in _producers_first(graph_def, nodes, input_map):
            node = nodes[node_name]
            inputs, controls = [], []
            for inp in node.input:
                op_name, index, is_control = _parse_input(inp)
                if is_control:
                    mapped = input_map.get(inp)
                    controls.append(mapped if mapped is not None else created[op_name])
                    continue
                mapped = input_map.get(f"{op_name}:{index}")
                if mapped is None and index == 0:
                    mapped = input_map.get(op_name)
                if mapped is not None:
                    inputs.append(graph_lib.convert_to_tensor(mapped))
                else:
                    producer = created[op_name]
                    if index >= len(producer.outputs):
                        raise ValueError(f"Node {node.name!r}: input {inp!r} refers to output "
                                         f"{index} of {op_name!r}, which has "
                                         f"{len(producer.outputs)} outputs")
                    inputs.append(producer.outputs[index])
            attrs = {key: python_value_of(value) for key, value in node.attr.items()
                     if key != "_output_shapes"}
            with graph.control_dependencies(controls) if controls else contextlib.nullcontext():
                op = graph.create_op(node.op, inputs, attrs, name=node.name,
                                     device=node.device or None)
            created[node_name] = op
    if return_elements is None:
        return None
    results = []
    for element in return_elements:
        op_name, index, _ = _parse_input(element)
        if op_name not in created:
            raise ValueError(f"Requested return_element {element!r} not found in graph_def.")
        if ":" in element:
            results.append(created[op_name].outputs[index])
        else:
            results.append(created[op_name])
    return results

