"""Graphs to and from protos: `NodeDef`, `GraphDef`, `AttrValue`, and `import_graph_def`.

Operations keep attributes as plain Python values; this module is the single place that maps
them to `AttrValue`s and back, so kernels and workers never depend on protobuf types.
"""

import contextlib

import numpy as np

from sessionlib import dtypes
from sessionlib.framework import function_def, tensor_util
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
    elif function_def.is_graph_function(value) or isinstance(value, function_def.FunctionRef):
        # A function (an If's branch, a While's body) is stored by name; graph_def_of puts
        # its FunctionDef in the library.
        attr.func.name = value.name
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
            elif (function_def.is_graph_function(item)
                  or isinstance(item, function_def.FunctionRef)):
                attr.list.func.add().name = item.name
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
    if which == "func":
        # Resolved into a GraphFunction through the GraphDef's library by import_graph_def.
        attrs = {key: python_value_of(value) for key, value in attr.func.attr.items()}
        return function_def.FunctionRef(attr.func.name, attrs)
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
        if lst.func:
            return [function_def.FunctionRef(f.name) for f in lst.func]
        return []
    return None


def input_name(tensor):
    """The `NodeDef` spelling of a data input: ``'op'`` for output 0, else ``'op:i'``."""
    if tensor.value_index == 0:
        return tensor.op.name
    return f"{tensor.op.name}:{tensor.value_index}"


# The attr listing the attrs of a node that held Python objects (a tf.data pipeline's traced
# functions) and were left out of its NodeDef: the graph can still be written for TensorBoard
# and in meta graphs, and importing such a node says why it cannot be rebuilt.
PYTHON_ATTRS_ATTR = "_python_attrs"


def node_def_of(op, add_shapes=False):
    """The `NodeDef` of an `Operation`.

    Attrs with no `AttrValue` form (Python objects: the functions of a tf.data pipeline) are
    left out and named in the ``_python_attrs`` attr, so that writing a graph never fails;
    `import_graph_def` refuses such a node with a ValueError naming them.
    """
    _, _, node_def_pb2 = _protos()
    node = node_def_pb2.NodeDef(name=op.name, op=op.type, device=op.device)
    node.input.extend(input_name(t) for t in op._inputs)
    node.input.extend(f"^{c.name}" for c in op._control_inputs)
    python_attrs = []
    for key, value in op._attrs.items():
        if value is None:
            continue
        try:
            node.attr[key].CopyFrom(attr_value_of(value))
        except TypeError:
            del node.attr[key]
            python_attrs.append(key)
    if python_attrs:
        node.attr[PYTHON_ATTRS_ATTR].list.s.extend(k.encode("utf-8") for k in python_attrs)
    if add_shapes:
        node.attr["_output_shapes"].CopyFrom(attr_value_of([t.shape for t in op._outputs]))
    return node


def graph_def_of(graph, from_version=None, add_shapes=False):
    """The `GraphDef` of `graph` (ops added after `from_version` only, when given).

    The functions that func-valued attrs name (the branches of ``If``, the cond and body of
    ``While``), nested ones too, go to ``library`` as `FunctionDef` s, each once.
    """
    from sessionlib.framework.graph import GRAPH_DEF_VERSION

    _, graph_pb2, _ = _protos()
    graph_def = graph_pb2.GraphDef()
    graph_def.versions.producer = GRAPH_DEF_VERSION
    written = []
    for op in graph.get_operations():
        # `version` also grows when a control input is added, so compare the version each op
        # was created at rather than its position.
        if from_version is not None and op._created_at_version <= from_version:
            continue
        graph_def.node.add().CopyFrom(node_def_of(op, add_shapes))
        written.append(op)
    library = function_def.library_of(written)
    if library is not None:
        graph_def.library.CopyFrom(library)
    return graph_def


def _parse_input(name):
    """``'^op'`` -> (op, None, True); ``'op:2'`` -> (op, 2, False); ``'op'`` -> (op, 0, False)."""
    if name.startswith("^"):
        return name[1:], None, True
    op_name, sep, index = name.rpartition(":")
    if sep and index.isascii() and index.isdigit():
        return op_name, int(index), False
    return name, 0, False


# What an imported attr must hold, by attr name, for the names that ops and kernels read.
# GraphDefs come from outside: a `dtype` given as a plain int would otherwise import and fail
# deep inside a kernel at run time.
_TYPE, _TYPE_LIST, _SHAPE, _SHAPE_LIST, _TENSOR, _BOOL, _INT, _INT_LIST = (
    "a type", "a list of types", "a shape", "a list of shapes", "a tensor", "a bool",
    "an int", "a list of ints")
_ATTR_KINDS = {
    **dict.fromkeys(["T", "dtype", "DstT", "SrcT", "out_type", "output_type", "index_type",
                     "Index", "Tidx", "Tindices", "Tshape", "Treal", "Tperm", "Tparams",
                     "Tmultiples", "Tlen", "Tdim", "Taxis"], _TYPE),
    # A type for most ops, a list of types for functional ones (If, PartitionedCall).
    "Tout": (_TYPE, _TYPE_LIST), "Tcond": _TYPE, "Tin": _TYPE_LIST,
    **dict.fromkeys(["component_types", "Tcomponents"], _TYPE_LIST),
    "shape": _SHAPE, "shapes": _SHAPE_LIST, "value": _TENSOR,
    **dict.fromkeys(["keep_dims", "transpose_a", "transpose_b", "adj_x", "adj_y",
                     "validate_indices", "cancel_pending_enqueues"], _BOOL),
    **dict.fromkeys(["N", "num_split", "num", "axis", "seed", "seed2", "capacity",
                     "min_after_dequeue", "skip_header_lines"], _INT),
    "squeeze_dims": _INT_LIST,
}

# Ops whose attr of a common name has another kind: their ``T`` is a list of types.
_OP_ATTR_KINDS = {op: {"T": _TYPE_LIST} for op in ("Assert", "IdentityN", "StringFormat",
                                                  "While", "StatelessWhile")}
# The lookup-table ops' ``Tin`` is the key type, not a list of argument types.
_OP_ATTR_KINDS.update({op: {"Tin": _TYPE} for op in (
    "LookupTableImportV2", "InitializeTableV2", "LookupTableFindV2", "LookupTableInsertV2",
    "LookupTableRemoveV2")})

# TF's defaults for attrs that a NodeDef may leave out (a Placeholder's shape is unknown).
_ATTR_DEFAULTS = {"Placeholder": {"shape": TensorShape(None)}}


def _holds(kind, value):
    """Whether `value` (a plain attr value) is of `kind` (an `_ATTR_KINDS` entry, or a tuple
    of kinds any of which will do)."""
    if isinstance(kind, tuple):
        return any(_holds(k, value) for k in kind)
    if kind == _TYPE:
        return isinstance(value, dtypes.DType)
    if kind == _SHAPE:
        return isinstance(value, TensorShape)
    if kind == _TENSOR:
        return isinstance(value, np.ndarray)
    if kind == _BOOL:
        return isinstance(value, bool)
    if kind == _INT:
        return isinstance(value, int) and not isinstance(value, bool)
    item_kind = {_TYPE_LIST: _TYPE, _SHAPE_LIST: _SHAPE, _INT_LIST: _INT}[kind]
    return isinstance(value, list) and all(_holds(item_kind, item) for item in value)


def _imported_attrs(node):
    """The plain attrs of an imported `NodeDef`, checked against `_ATTR_KINDS`.

    Raises:
      TypeError: for an attr of the wrong kind (a `dtype` that is not a type).
      ValueError: for an attr value that cannot be read (a tensor whose shape disagrees
        with its content), or a Const whose `dtype` is not the type of its `value`.
    """
    attrs = dict(_ATTR_DEFAULTS.get(node.op, ()))
    for key, attr in node.attr.items():
        if key == "_output_shapes":
            continue
        try:
            value = python_value_of(attr)
        except (ValueError, TypeError) as err:
            raise ValueError(f"Node {node.name!r} ({node.op}): attr {key!r} is invalid: "
                             f"{err}") from None
        kind = _OP_ATTR_KINDS.get(node.op, {}).get(key, _ATTR_KINDS.get(key))
        if kind is not None and not _holds(kind, value):
            if isinstance(kind, tuple):
                kind = " or ".join(kind)
            raise TypeError(f"Node {node.name!r} ({node.op}): attr {key!r} must be {kind}, "
                            f"got {value!r}"[:400])
        attrs[key] = value
    if node.op == "Const" and "value" in attrs and "dtype" in attrs:
        value_dtype = (dtypes.string if attrs["value"].dtype == object
                       else dtypes.as_dtype(attrs["value"].dtype))
        if value_dtype is not attrs["dtype"]:
            raise ValueError(f"Node {node.name!r} (Const): attr 'dtype' is "
                             f"{attrs['dtype'].name} but attr 'value' holds {value_dtype.name}")
    return attrs


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
                     op_dict=None, producer_op_list=None, library=None):
    """Imports the ops of a `GraphDef` into the default graph, all of them or none.

    A GraphDef may come from anywhere, so it is checked as untrusted input: on any failure
    the graph is left as it was (no op added, `version` unchanged), and only the errors below
    come out, naming the node (and the attr) at fault. Attrs that ops read must be of the
    right kind (`dtype` a type, `shape` a shape, ...); a tensor attr's shape must agree with
    the values it holds, and may be filled from a single value only up to
    `tensor_util.MAX_FILLED_TENSOR_BYTES`.

    Args:
      graph_def: a `GraphDef` proto.
      input_map: maps names in `graph_def` (``'x:0'``, or ``'^op'``) to Tensors (Operations)
        of the default graph that replace them.
      return_elements: names of ops or tensors in `graph_def` to return.
      name: a prefix for the imported names (default ``'import'``; '' for none).
      op_dict, producer_op_list: accepted for TF compatibility and ignored.
      library: a `function_def.Library` resolving func attrs (used when importing a
        function body); default: the functions of ``graph_def.library``.

    Returns:
      The imported elements named in `return_elements`, or None.

    Raises:
      TypeError: if `graph_def` is not a GraphDef, `input_map` is not a dict of names, or an
        attr or input has the wrong type.
      NotFoundError: for op types that sessionlib lacks (as TF raises for an unregistered
        op); the message lists every missing type, sorted, with a node of each.
      ValueError: for a duplicate node name, a reference to an unknown node or output, a
        cycle, a missing or invalid attr, an `input_map` key that is not
        in the graph, or any other node the graph cannot take.
      InvalidArgumentError: where an op's own checks raise it.
      RuntimeError: if the default graph is finalized.
    """
    from sessionlib.framework import graph as graph_lib

    _, graph_pb2, _ = _protos()
    if not isinstance(graph_def, graph_pb2.GraphDef):
        raise TypeError(f"graph_def must be a GraphDef proto, got {type(graph_def).__name__}")
    if input_map is not None and not isinstance(input_map, dict):
        raise TypeError("input_map must be a dictionary mapping strings to Tensor objects.")
    input_map = dict(input_map or {})
    if not all(isinstance(key, str) for key in input_map):
        raise TypeError("input_map must be a dictionary mapping strings to Tensor objects.")
    if return_elements is not None and (
            isinstance(return_elements, str)
            or not all(isinstance(element, str) for element in return_elements)):
        raise TypeError("return_elements must be a list of strings.")
    from sessionlib.framework import control_flow_import

    if control_flow_import.needs_raising(graph_def):
        # TF 1 Switch/Merge/Enter/Exit control flow becomes If/While (see that module).
        graph_def = control_flow_import.raise_control_flow(graph_def)
    nodes = _checked_nodes(graph_def, input_map)
    if library is None:
        library = function_def.Library(graph_def.library if graph_def.HasField("library")
                                       else None)
    graph = graph_lib.get_default_graph()
    prefix = "import" if name is None else name
    created = {}
    with graph._all_or_nothing():
        with graph.name_scope(prefix) if prefix else graph.name_scope(None):
            for node_name in _producers_first(graph_def, nodes, input_map):
                created[node_name] = _import_node(graph, nodes[node_name], input_map, created,
                                                  library)
        _rename_colocation_groups(created)
        if return_elements is None:
            return None
        return [_return_element(element, created) for element in return_elements]


def _rename_colocation_groups(created):
    """Points the ``_class`` attrs (``loc:@name``) of imported ops at the imported names, as
    TF's importer does when it adds a prefix: ``loc:@v`` becomes ``loc:@import/v``."""
    prefix = "loc:@"
    for op in created.values():
        groups = op._attrs.get("_class")
        if not isinstance(groups, list):
            continue
        renamed = []
        for group in groups:
            if isinstance(group, str) and group.startswith(prefix):
                target = created.get(group[len(prefix):])
                if target is not None:
                    group = prefix + target.name
            renamed.append(group)
        op._attrs["_class"] = renamed


def _checked_nodes(graph_def, input_map):
    """The nodes of `graph_def` by name, after the checks that need no graph.

    Raises:
      NotFoundError: for op types that are not registered (all of them listed).
      ValueError: for a duplicate node name, an input that names no node, or an
        `input_map` key that names no node.
    """
    from sessionlib.framework import registry

    nodes = {}
    for node in graph_def.node:
        if node.name in nodes:
            raise ValueError(f"Duplicate node name in graph_def: {node.name!r}")
        nodes[node.name] = node
    used_keys = set()
    missing = {}
    for node in graph_def.node:
        if registry.find(node.op) is None:
            missing.setdefault(node.op, node.name)
    if missing:
        # Every missing type at once, sorted: a graph from elsewhere may need several.
        from sessionlib import errors

        listed = ", ".join(f"'{op_type}' (node '{missing[op_type]}')"
                           for op_type in sorted(missing))
        raise errors.NotFoundError(
            None, None, f"Op type not registered in sessionlib: {len(missing)} op type(s) of "
                        f"the graph_def are missing: {listed}")
    for node in graph_def.node:
        for inp in node.input:
            op_name, index, is_control = _parse_input(inp)
            # An input that input_map replaces need not be in the graph_def (as in TF: a
            # meta graph exported for one scope names its outside inputs "$unbound_inputs_x").
            key = _mapped_key(inp, op_name, index, is_control, input_map)
            if key is not None:
                used_keys.add(key)
            elif op_name not in nodes:
                raise ValueError(f"Node {node.name!r}: input {inp!r} is not in the graph_def")
    for key in input_map:
        op_name, _, _ = _parse_input(key)
        if op_name not in nodes and key not in used_keys:
            raise ValueError(f"Attempted to map inputs that were not found in graph_def: "
                             f"[{key}]")
    return nodes


def _mapped_key(inp, op_name, index, is_control, input_map):
    """The `input_map` key that replaces NodeDef input `inp`, or None."""
    if is_control:
        return inp if inp in input_map else None
    for key in (f"{op_name}:{index}", op_name if index == 0 else None):
        if key is not None and key in input_map:
            return key
    return None


def _import_node(graph, node, input_map, created, library):
    """Creates the op of one `NodeDef` whose producers are in `created`; returns it.

    Whatever the op's inference raises for a malformed node is reported as ValueError or
    TypeError naming the node: a missing attr is no KeyError, a wrong value no AttributeError.
    """
    from sessionlib import errors
    from sessionlib.framework import graph as graph_lib

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
            continue
        producer = created[op_name]
        if index >= len(producer.outputs):
            raise ValueError(f"Node {node.name!r}: input {inp!r} refers to output {index} of "
                             f"{op_name!r}, which has {len(producer.outputs)} outputs")
        inputs.append(producer.outputs[index])
    where = f"Node {node.name!r} ({node.op})"
    if PYTHON_ATTRS_ATTR in node.attr:
        names = [item.decode("utf-8", "replace") for item in node.attr[PYTHON_ATTRS_ATTR].list.s]
        raise ValueError(f"{where} was written without its attrs {names}, which held Python "
                         "objects (such as a tf.data pipeline's functions) that a GraphDef "
                         "cannot carry; build this part of the graph in Python instead")
    attrs = _imported_attrs(node)
    input_types = [t.dtype for t in inputs]
    functions = {}
    for key, value in attrs.items():
        # Func attrs become GraphFunctions, built from the library over this graph.
        if isinstance(value, function_def.FunctionRef):
            attrs[key] = functions[key] = library.function(value, graph, input_types)
        elif isinstance(value, list) and value and isinstance(value[0],
                                                              function_def.FunctionRef):
            attrs[key] = [library.function(item, graph, input_types) for item in value]
    from sessionlib.framework import control_flow_import

    if attrs.get(control_flow_import.RAISED_ATTR):
        control_flow_import.complete_raised_attrs(attrs, inputs, functions)
    try:
        with graph.control_dependencies(controls) if controls else contextlib.nullcontext():
            return graph.create_op(node.op, inputs, attrs, name=node.name,
                                   device=node.device or None)
    except errors.OpError:
        raise
    except KeyError as err:
        raise ValueError(f"{where}: missing attr {err.args[0]!r}") from None
    except TypeError as err:
        raise TypeError(f"{where}: {err}") from None
    except Exception as err:  # noqa: BLE001 - a malformed node is a ValueError, whatever broke
        raise ValueError(f"{where}: {type(err).__name__}: {err}") from None


def _return_element(element, created):
    """The op (``'name'``) or tensor (``'name:i'``) of an imported node."""
    op_name, index, _ = _parse_input(element)
    op = created.get(op_name)
    if op is None:
        raise ValueError(f"Requested return_element {element!r} not found in graph_def.")
    if ":" not in element:
        return op
    if index is None or index >= len(op.outputs):
        raise ValueError(f"Requested return_element {element!r}: {op_name!r} has "
                         f"{len(op.outputs)} outputs.")
    return op.outputs[index]


def write_graph(graph_or_graph_def, logdir, name, as_text=True):
    """Writes a graph's `GraphDef` to ``logdir/name`` (``tf.train.write_graph``, ``tf.io``).

    The file is written under a temporary name and renamed into place, so a reader never sees
    half of it.

    Args:
      graph_or_graph_def: a `Graph` (its `as_graph_def()` is written) or a `GraphDef`.
      logdir: the directory, created when missing.
      name: the file name.
      as_text: text format (TF's ``.pbtxt``) or the binary serialization.

    Returns:
      The path written.

    Raises:
      TypeError: if `graph_or_graph_def` is neither a Graph nor a GraphDef.
    """
    import os
    import tempfile

    from google.protobuf import text_format

    graph_def = graph_or_graph_def
    if hasattr(graph_def, "as_graph_def"):
        graph_def = graph_def.as_graph_def()
    if not (hasattr(graph_def, "node") and hasattr(graph_def, "SerializeToString")):
        raise TypeError(f"write_graph takes a Graph or a GraphDef, got "
                        f"{type(graph_or_graph_def).__name__}")
    logdir = os.fspath(logdir)
    os.makedirs(logdir, exist_ok=True)
    path = os.path.join(logdir, name)
    data = (text_format.MessageToString(graph_def).encode("utf-8") if as_text
            else graph_def.SerializeToString(deterministic=True))
    handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path) or ".",
                                         prefix=".tmp-write_graph-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
    return path
