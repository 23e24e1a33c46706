"""Meta graphs: a graph with its collections and Saver, as TF's ``MetaGraphDef`` (``.meta``).

Design. A ``MetaGraphDef`` holds the ``GraphDef``, the ``SaverDef`` of one Saver, and the
graph's collections; a program that has only the ``.meta`` and a checkpoint rebuilds the graph,
its Variables, train ops, queue runners and Saver from it. This module is the graph side of
that: it writes and reads the proto and knows no session and no Saver (the ``tf.train``
functions that return a Saver live in ``sessionlib/train/meta_graph_io.py``).

Collections are serialized as TF does: a collection whose key has a registered proto
function (`register_proto_function`) becomes a ``bytes_list`` of that proto (Variables as
``VariableDef``, queue runners as ``QueueRunnerDef``, savers as ``SaverDef``); ops and tensors
become a ``node_list`` of their names; strings, ints and floats become ``bytes_list``,
``int64_list`` and ``float_list``. The classes register their functions themselves (the
variables module, the queue runner and the Saver), so the graph model imports none of them,
just as TF's ``ops.register_proto_function`` keeps its ``meta_graph`` free of them. A
collection that cannot be serialized (a key that is not a string, an item without a name) is
skipped with a logged warning, as TF does.

Names. ``export_scope`` keeps only the nodes under that scope and strips it from every name;
``import_scope`` prefixes every imported name. `prepend_name_scope` and `strip_name_scope`
rewrite names, control inputs (``^op``) and colocation names (``loc:@op``) alike.

Reading. A ``.meta`` file is parsed as binary first and as text format when that fails, as TF
does. Attrs that a producer stripped because they had their default value are filled back in
from the defaults of the producer's own ``stripped_op_list`` (TF's meta graphs carry full op
signatures), so a TF graph written with ``strip_default_attrs=True`` imports too.

Writing. sessionlib's registry has no attr schema, so it strips no default attrs
(``strip_default_attrs=True`` is accepted and leaves ``stripped_default_attrs`` False, which
every reader handles), and its ``stripped_op_list`` carries each op's name and statefulness.
"""

import logging
import os
import re
import sys
import tempfile

from google.protobuf import any_pb2
from google.protobuf import message as protobuf_message
from google.protobuf import text_format

from sessionlib.framework import graph as graph_lib
from sessionlib.framework import graph_io, registry

__all__ = ["register_proto_function", "get_collection_proto_type", "get_to_proto_function",
           "get_from_proto_function", "prepend_name_scope", "strip_name_scope",
           "read_meta_graph_file", "write_meta_graph_file", "add_collection_def",
           "create_meta_graph_def", "export_scoped_meta_graph", "import_scoped_meta_graph",
           "import_scoped_meta_graph_with_return_elements"]

_log = logging.getLogger(__name__)

# TF's prefix for the inputs of an exported scope's nodes that come from outside the scope.
_UNBOUND_INPUT_PREFIX = "$unbound_inputs_"


def _protos():
    from sessionlib.protos import graph_pb2, meta_graph_pb2, op_def_pb2

    return graph_pb2, meta_graph_pb2, op_def_pb2


# ---- proto functions of collections -----------------------------------------------------

# key -> (proto_type, to_proto, from_proto)
_proto_functions = {}


def register_proto_function(collection_name, proto_type=None, to_proto=None, from_proto=None):
    """Says how the items of collection `collection_name` are serialized (TF's function).

    Args:
      collection_name: the collection key.
      proto_type: the proto class of the serialized items.
      to_proto: ``to_proto(item, export_scope=None) -> proto`` (None: leave the item out).
      from_proto: ``from_proto(proto, import_scope=None) -> item``.
    """
    _proto_functions[collection_name] = (proto_type, to_proto, from_proto)


def get_collection_proto_type(collection_name):
    """The proto class registered for `collection_name`, or None."""
    return _proto_functions.get(collection_name, (None, None, None))[0]


def get_to_proto_function(collection_name):
    """The ``to_proto`` function registered for `collection_name`, or None."""
    return _proto_functions.get(collection_name, (None, None, None))[1]


def get_from_proto_function(collection_name):
    """The ``from_proto`` function registered for `collection_name`, or None."""
    return _proto_functions.get(collection_name, (None, None, None))[2]


# ---- names ------------------------------------------------------------------------------

def _as_str(name):
    return name.decode("utf-8") if isinstance(name, bytes) else name


def strip_name_scope(name, export_scope):
    """Removes `export_scope` from the front of `name` (also after ``^`` or ``loc:@``).

    Args:
      name: an op or tensor name, a control input ``'^scope/op'`` or ``'loc:@scope/op'``.
      export_scope: the scope, with or without its trailing ``/``; None or '' changes nothing.

    Returns:
      The name without the scope (unchanged if it does not start with it).
    """
    if not export_scope:
        return name
    scope = export_scope.rstrip("/")
    pattern = r"([\^]|loc:@|^)" + re.escape(scope) + r"[\/]+(.*)"
    return re.sub(pattern, r"\1\2", _as_str(name), count=1)


def prepend_name_scope(name, import_scope):
    """Puts `import_scope` in front of `name` (after a leading ``^`` or ``loc:@``).

    Args:
      name: an op or tensor name, a control input or a colocation name.
      import_scope: the scope; None or '' changes nothing.

    Returns:
      ``import_scope/name`` (keeping the ``^`` or ``loc:@`` in front).
    """
    if not import_scope:
        return name
    scope = import_scope.rstrip("/")
    match = re.match(r"(\^|loc:@)?(.*)", _as_str(name), flags=re.DOTALL)
    return f"{match.group(1) or ''}{scope}/{match.group(2)}"


def _in_scope(name, export_scope):
    """Whether node or tensor `name` lies under `export_scope` (any name when there is none)."""
    if not export_scope:
        return True
    return _as_str(name).lstrip("^").startswith(export_scope.rstrip("/") + "/")


# ---- reading ----------------------------------------------------------------------------

def read_meta_graph_file(filename):
    """Reads a ``MetaGraphDef`` from a file: binary first, then text format, as TF does.

    Raises:
      IOError: if the file does not exist or is neither a binary nor a text MetaGraphDef.
    """
    _, meta_graph_pb2, _ = _protos()
    filename = os.fspath(filename)
    if not os.path.exists(filename):
        raise IOError(f"File {filename} does not exist.")
    with open(filename, "rb") as file:
        data = file.read()
    meta_graph_def = meta_graph_pb2.MetaGraphDef()
    try:
        meta_graph_def.ParseFromString(data)
        return meta_graph_def
    except protobuf_message.DecodeError:
        pass
    try:
        text_format.Merge(data.decode("utf-8"), meta_graph_def)
    except (text_format.ParseError, UnicodeDecodeError) as err:
        raise IOError(f"Cannot parse file {filename}: {err}.") from None
    return meta_graph_def


# ---- writing ----------------------------------------------------------------------------

def _stripped_op_list(graph_def):
    """An ``OpList`` naming the op types of `graph_def`, sorted, with their statefulness."""
    _, _, op_def_pb2 = _protos()
    op_list = op_def_pb2.OpList()
    for op_type in sorted({node.op for node in graph_def.node}):
        opdef = registry.find(op_type)
        op_list.op.add(name=op_type, is_stateful=bool(opdef is not None and opdef.stateful))
    return op_list


def _producer_version():
    # Read, not imported: the graph model does not import the package's public face.
    return str(getattr(sys.modules.get("sessionlib"), "__version__", ""))


def _collection_kind(item):
    """The ``CollectionDef`` field for a collection whose first item is `item` (TF's rule)."""
    if isinstance(item, any_pb2.Any):  # e.g. SavedModel's packed AssetFileDefs
        return "any_list"
    if isinstance(item, (str, bytes)):
        return "bytes_list"
    if isinstance(item, bool) or not isinstance(item, (int, float)):
        return "node_list"
    return "int64_list" if isinstance(item, int) else "float_list"


def _node_name_of(item, graph):
    """The name a ``node_list`` stores for an Operation or Tensor of `graph`.

    Raises:
      TypeError: for anything else (the collection is then skipped).
    """
    if isinstance(item, (graph_lib.Operation, graph_lib.Tensor)) and item.graph is graph:
        return item.name
    element = getattr(item, "_as_graph_element", None)
    if element is not None:  # a Variable in a collection without a proto function
        return _node_name_of(item.op, graph) if hasattr(item, "op") else element().name
    raise TypeError(f"{item!r} is not an Operation or Tensor of the graph")


def add_collection_def(meta_graph_def, key, graph=None, export_scope=None):
    """Adds collection `key` of `graph` to `meta_graph_def` (skipped with a warning if it
    cannot be serialized, as TF does)."""
    graph = graph or graph_lib.get_default_graph()
    if not isinstance(key, (str, bytes)):
        _log.warning("Only collections with string type keys will be serialized. This key "
                     "has %s", type(key))
        return
    items = graph.get_collection(key)
    if export_scope:
        items = [item for item in items
                 if not hasattr(item, "name") or _in_scope(item.name, export_scope)]
    if not items:
        return
    try:
        collection_def = meta_graph_def.collection_def[key]
        to_proto = get_to_proto_function(key)
        if to_proto is not None:
            proto_type = get_collection_proto_type(key)
            for item in items:
                proto = to_proto(item, export_scope=export_scope)
                if proto is None:
                    continue
                if proto_type is not None and not isinstance(proto, proto_type):
                    raise TypeError(f"to_proto of {key!r} returned a {type(proto).__name__}, "
                                    f"not a {proto_type.__name__}")
                collection_def.bytes_list.value.append(proto.SerializeToString())
            if not collection_def.bytes_list.value:
                del meta_graph_def.collection_def[key]
            return
        kind = _collection_kind(items[0])
        if kind == "node_list":
            names = [strip_name_scope(_node_name_of(item, graph), export_scope)
                     for item in items]
            collection_def.node_list.value.extend(names)
        elif kind == "bytes_list":
            collection_def.bytes_list.value.extend(
                item.encode("utf-8") if isinstance(item, str) else item for item in items)
        elif kind == "any_list":
            for item in items:
                collection_def.any_list.value.add().CopyFrom(item)
        else:
            getattr(collection_def, kind).value.extend(items)
    except Exception as err:  # noqa: BLE001 - any failure skips the collection, as in TF
        _log.warning("Issue encountered when serializing: %s.\n%s", key, err)
        if key in meta_graph_def.collection_def:
            del meta_graph_def.collection_def[key]


def create_meta_graph_def(meta_info_def=None, graph_def=None, saver_def=None,
                          collection_list=None, graph=None, export_scope=None,
                          strip_default_attrs=False):
    """A ``MetaGraphDef`` from its parts.

    Args:
      meta_info_def: a ``MetaInfoDef`` to start from (its versions and op list are filled).
      graph_def: the ``GraphDef`` (default: `graph`'s).
      saver_def: a ``SaverDef`` to include.
      collection_list: the collection keys to include (default: all of `graph`'s).
      graph: the graph (default: the default graph).
      export_scope: keep only collection items under this scope, without it.
      strip_default_attrs: accepted (see the module docstring: nothing is stripped).

    Returns:
      The ``MetaGraphDef``.

    Raises:
      TypeError: if an argument is not the proto it must be.
    """
    graph_pb2, meta_graph_pb2, _ = _protos()
    from sessionlib.protos import saver_pb2

    graph = graph or graph_lib.get_default_graph()
    if meta_info_def is not None and not isinstance(
            meta_info_def, meta_graph_pb2.MetaGraphDef.MetaInfoDef):
        raise TypeError(f"meta_info_def must be of type MetaInfoDef, not "
                        f"{type(meta_info_def)}")
    if graph_def is not None and not isinstance(graph_def, graph_pb2.GraphDef):
        raise TypeError(f"graph_def must be of type GraphDef, not {type(graph_def)}")
    if saver_def is not None and not isinstance(saver_def, saver_pb2.SaverDef):
        raise TypeError(f"saver_def must be of type SaverDef, not {type(saver_def)}")
    meta_graph_def = meta_graph_pb2.MetaGraphDef()
    if meta_info_def is not None:
        meta_graph_def.meta_info_def.CopyFrom(meta_info_def)
    info = meta_graph_def.meta_info_def
    if not info.tensorflow_version:
        info.tensorflow_version = _producer_version()
    if not info.tensorflow_git_version:
        info.tensorflow_git_version = "sessionlib"
    del strip_default_attrs  # nothing to strip: the registry knows no attr defaults
    if graph_def is None:
        graph_def = graph.as_graph_def(add_shapes=True)
    meta_graph_def.graph_def.CopyFrom(graph_def)
    if not info.HasField("stripped_op_list") or not info.stripped_op_list.op:
        info.stripped_op_list.CopyFrom(_stripped_op_list(meta_graph_def.graph_def))
    if saver_def is not None:
        meta_graph_def.saver_def.CopyFrom(saver_def)
    keys = graph.get_all_collection_keys() if collection_list is None else collection_list
    for key in keys:
        add_collection_def(meta_graph_def, key, graph=graph, export_scope=export_scope)
    return meta_graph_def


def _scoped_node_def(node, export_scope, unbound_inputs, clear_devices):
    """A copy of `node` with `export_scope` stripped from its names (TF's ``_node_def``).

    Inputs from outside the scope become ``$unbound_inputs_<name>`` and are listed in
    `unbound_inputs`; an importer must map them with ``input_map``.
    """
    new = type(node)()
    new.CopyFrom(node)
    for index, name in enumerate(node.input):
        if export_scope and not _in_scope(name, export_scope):
            control = "^" if name.startswith("^") else ""
            unbound = f"{control}{_UNBOUND_INPUT_PREFIX}{name[len(control):]}"
            new.input[index] = unbound
            unbound_inputs.append(unbound)
        else:
            new.input[index] = strip_name_scope(name, export_scope)
    new.name = strip_name_scope(node.name, export_scope)
    if "_class" in node.attr:
        kept = [strip_name_scope(value.decode(), export_scope).encode()
                for value in node.attr["_class"].list.s
                if not export_scope or _in_scope(value.decode()[len("loc:@"):], export_scope)]
        del new.attr["_class"].list.s[:]
        new.attr["_class"].list.s.extend(kept)
    if clear_devices:
        new.device = ""
    return new


def export_scoped_meta_graph(filename=None, graph_def=None, graph=None, export_scope=None,
                             as_text=False, unbound_inputs_col_name="unbound_inputs",
                             clear_devices=False, saver_def=None, strip_default_attrs=False,
                             meta_info_def=None, collection_list=None, exclude_nodes=None):
    """Builds (and writes) the ``MetaGraphDef`` of a graph or of one of its scopes.

    Args:
      filename: write the proto there when given (atomically; the directory must exist or
        is created).
      graph_def: the ``GraphDef`` to use instead of the graph's.
      graph: the graph (default: the default graph).
      export_scope: keep only the nodes under this scope, without it in their names; inputs
        from outside it become ``$unbound_inputs_...`` names, listed in collection
        `unbound_inputs_col_name`.
      as_text: write protobuf text format instead of binary.
      unbound_inputs_col_name: see `export_scope`.
      clear_devices: leave the nodes' devices out.
      saver_def: the ``SaverDef`` to include.
      strip_default_attrs: accepted (see the module docstring).
      meta_info_def: a ``MetaInfoDef`` to start from.
      collection_list: the collection keys to include (default: all).
      exclude_nodes: op names (or a predicate on names) to leave out of the ``GraphDef``.

    Returns:
      ``(meta_graph_def, var_list)``: the proto and the exported global variables by name.
    """
    graph = graph or graph_lib.get_default_graph()
    graph_pb2, _, _ = _protos()
    exclude = (exclude_nodes if callable(exclude_nodes)
               else set(exclude_nodes or ()).__contains__)
    if graph_def is None:
        graph_def = graph.as_graph_def(add_shapes=True)
    if export_scope or clear_devices or exclude_nodes:
        scoped = graph_pb2.GraphDef()
        scoped.versions.CopyFrom(graph_def.versions)
        unbound_inputs = []
        for node in graph_def.node:
            if not _in_scope(node.name, export_scope) or exclude(node.name):
                continue
            scoped.node.append(_scoped_node_def(node, export_scope, unbound_inputs,
                                                clear_devices))
        graph_def = scoped
        if unbound_inputs_col_name and export_scope:
            graph.clear_collection(unbound_inputs_col_name)
            for name in dict.fromkeys(unbound_inputs):
                graph.add_to_collection(unbound_inputs_col_name, name)
    var_list = {}
    for variable in graph.get_collection(graph_lib.GraphKeys.GLOBAL_VARIABLES):
        if _in_scope(variable.name, export_scope) and not exclude(variable.op.name):
            var_list[strip_name_scope(variable.name, export_scope)] = variable
    meta_graph_def = create_meta_graph_def(
        meta_info_def=meta_info_def, graph_def=graph_def, saver_def=saver_def,
        collection_list=collection_list, graph=graph, export_scope=export_scope,
        strip_default_attrs=strip_default_attrs)
    if filename:
        write_meta_graph_file(meta_graph_def, filename, as_text)
    return meta_graph_def, var_list


def write_meta_graph_file(meta_graph_def, filename, as_text=False):
    """Writes `meta_graph_def` to `filename` (binary, or protobuf text format with `as_text`)
    through a temporary file renamed into place, so no reader sees half of it; the directory
    is created when missing."""
    path = os.fspath(filename)
    proto = meta_graph_def
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, exist_ok=True)
    data = (text_format.MessageToString(proto).encode("utf-8") if as_text
            else proto.SerializeToString(deterministic=True))
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".tmp-meta_graph-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


# ---- importing --------------------------------------------------------------------------

def _with_default_attrs(graph_def, op_list):
    """`graph_def`, with the attrs its nodes leave out filled from `op_list`'s defaults."""
    defaults = {}
    for op_def in op_list.op:
        attrs = {attr.name: attr.default_value for attr in op_def.attr
                 if attr.HasField("default_value")}
        if attrs:
            defaults[op_def.name] = attrs
    if not defaults or not any(
            name not in node.attr
            for node in graph_def.node for name in defaults.get(node.op, ())):
        return graph_def
    filled = type(graph_def)()
    filled.CopyFrom(graph_def)
    for node in filled.node:
        for name, value in defaults.get(node.op, {}).items():
            if name not in node.attr:
                node.attr[name].CopyFrom(value)
    return filled


def import_scoped_meta_graph(meta_graph_or_file, clear_devices=False, graph=None,
                             import_scope=None, input_map=None,
                             unbound_inputs_col_name="unbound_inputs",
                             restore_collections_predicate=(lambda key: True)):
    """Imports a meta graph's graph and collections; see
    `import_scoped_meta_graph_with_return_elements`.

    Returns:
      The imported global variables, by name without `import_scope`.
    """
    var_list, _ = import_scoped_meta_graph_with_return_elements(
        meta_graph_or_file, clear_devices=clear_devices, graph=graph,
        import_scope=import_scope, input_map=input_map,
        unbound_inputs_col_name=unbound_inputs_col_name,
        restore_collections_predicate=restore_collections_predicate)
    return var_list


def import_scoped_meta_graph_with_return_elements(
        meta_graph_or_file, clear_devices=False, graph=None, import_scope=None,
        input_map=None, unbound_inputs_col_name="unbound_inputs",
        restore_collections_predicate=(lambda key: True), return_elements=None):
    """Imports a meta graph's ``GraphDef`` into `graph` and restores its collections.

    Collections with a registered ``from_proto`` are rebuilt as objects (one Variable object
    per variable, shared by the variable collections); ``node_list`` names become the
    imported Operations and Tensors; other values are added as they are. A collection whose
    kind cannot be told is skipped with a logged error, as TF does.

    Args:
      meta_graph_or_file: a ``MetaGraphDef`` or the path of a ``.meta`` file.
      clear_devices: import the nodes without their devices.
      graph: the graph to import into (default: the default graph).
      import_scope: a name scope for the imported names.
      input_map: ``{name: Tensor}`` replacing imported inputs (see `import_graph_def`); must
        map every ``$unbound_inputs_...`` name of a scope exported on its own.
      unbound_inputs_col_name: the collection listing those names (not imported itself).
      restore_collections_predicate: ``predicate(key)``: restore only the collections for
        which it is true.
      return_elements: names of imported ops or tensors to return.

    Returns:
      ``(var_list, return_elements)``: the imported global variables by name without
      `import_scope`, and the requested elements (None when none were asked for).

    Raises:
      IOError: if the file cannot be read.
      ValueError: if unbound inputs are not mapped, or the ``GraphDef`` does not import.
      TypeError: if `meta_graph_or_file` is neither a MetaGraphDef nor a path.
    """
    _, meta_graph_pb2, _ = _protos()
    if isinstance(meta_graph_or_file, meta_graph_pb2.MetaGraphDef):
        meta_graph_def = meta_graph_or_file
    elif isinstance(meta_graph_or_file, (str, bytes, os.PathLike)):
        meta_graph_def = read_meta_graph_file(meta_graph_or_file)
    else:
        raise TypeError(f"meta_graph_or_file must be a MetaGraphDef or a file name, got "
                        f"{type(meta_graph_or_file).__name__}")
    graph = graph or graph_lib.get_default_graph()
    input_map = dict(input_map or {})
    if unbound_inputs_col_name and unbound_inputs_col_name in meta_graph_def.collection_def:
        collection_def = meta_graph_def.collection_def[unbound_inputs_col_name]
        kind = collection_def.WhichOneof("kind")
        names = [_as_str(value) for value in getattr(collection_def, kind).value] if kind \
            else []
        missing = [name for name in names if name not in input_map]
        if missing:
            raise ValueError(f"Graph contains unbound inputs: {','.join(missing)}. Must "
                             f"provide these inputs through input_map.")
    graph_def = meta_graph_def.graph_def
    info = meta_graph_def.meta_info_def
    if info.HasField("stripped_op_list"):
        graph_def = _with_default_attrs(graph_def, info.stripped_op_list)
    if clear_devices:
        cleared = type(graph_def)()
        cleared.CopyFrom(graph_def)
        for node in cleared.node:
            node.device = ""
        graph_def = cleared
    with graph.as_default():
        # The scope import_graph_def's name scope will open (TF's scope_to_prepend_to_names):
        # a name ending in '/' is taken as it is, another one is made unique.
        if not import_scope:
            scope = ""
        elif import_scope.endswith("/"):
            scope = import_scope[:-1]
        else:
            scope = graph.unique_name(import_scope, mark_as_used=False)
        returned = graph_io.import_graph_def(graph_def, input_map=input_map or None,
                                             return_elements=return_elements,
                                             name=import_scope or "")
        _restore_collections(meta_graph_def, graph, scope, unbound_inputs_col_name,
                             restore_collections_predicate)
    var_list = {}
    for variable in graph.get_collection(graph_lib.GraphKeys.GLOBAL_VARIABLES):
        if _in_scope(variable.name, scope):
            var_list[strip_name_scope(variable.name, scope)] = variable
    return var_list, returned


def _restore_collections(meta_graph_def, graph, scope, unbound_inputs_col_name, predicate):
    variable_objects = {}
    for key in sorted(meta_graph_def.collection_def):
        if key == unbound_inputs_col_name or not predicate(key):
            continue
        collection_def = meta_graph_def.collection_def[key]
        kind = collection_def.WhichOneof("kind")
        if kind is None:
            _log.error("Cannot identify data type for collection %s. Skipping.", key)
            continue
        values = getattr(collection_def, kind).value
        from_proto = get_from_proto_function(key)
        if from_proto is not None and kind == "bytes_list":
            proto_type = get_collection_proto_type(key)
            shared = key in graph_lib.GraphKeys._VARIABLE_COLLECTIONS
            for value in values:
                item = variable_objects.get(value) if shared else None
                if item is None:
                    proto = proto_type()
                    proto.ParseFromString(value)
                    item = from_proto(proto, import_scope=scope)
                    if shared:
                        variable_objects[value] = item
                graph.add_to_collection(key, item)
        elif kind == "node_list":
            for value in values:
                graph.add_to_collection(
                    key, graph.as_graph_element(prepend_name_scope(value, scope)))
        elif kind == "int64_list":
            for value in values:
                graph.add_to_collection(key, int(value))
        elif kind == "float_list":
            for value in values:
                graph.add_to_collection(key, float(value))
        else:
            for value in values:
                graph.add_to_collection(key, value)
