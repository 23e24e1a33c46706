"""``tf.train.export_meta_graph`` and ``tf.train.import_meta_graph``: ``.meta`` files.

Design. The graph side (the ``MetaGraphDef``, its collections, names and files) is
``sessionlib/framework/meta_graph.py``; this module adds what needs a Saver, as TF's
``saver.py`` does: `import_meta_graph` returns a Saver running the imported save and restore
ops (from the meta graph's ``SaverDef``, under the import scope), or a new Saver over the
imported variables when the meta graph has no ``SaverDef``, or None when it has no variables
either. So a program holding only ``model.meta`` and the checkpoint ``model`` does::

    saver = tf.train.import_meta_graph("model.meta")
    with tf.Session() as sess:
        saver.restore(sess, "model")
        sess.run("logits:0", {"x:0": batch})
        sess.run(tf.get_collection("train_op")[0], {"x:0": batch, "y:0": labels})

``clear_extraneous_savers=True`` keeps only the saver whose ``SaverDef`` is exported: the ops
in the name scopes of the graph's other savers, and those savers in the ``savers`` collection,
are left out.
"""

import logging

from sessionlib.framework import graph as graph_lib
from sessionlib.framework import meta_graph
from sessionlib.protos import meta_graph_pb2
from sessionlib.train import saver as saver_lib

__all__ = ["export_meta_graph", "import_meta_graph"]

_log = logging.getLogger(__name__)


def _saver_scope(saver_def):
    """The name scope (with '/') of the ops a SaverDef names, or '' at the top level."""
    op_name = saver_def.restore_op_name
    return op_name[:op_name.rfind("/") + 1]


def _extraneous_savers(graph, saver_def):
    """The savers of `graph`'s ``savers`` collection other than `saver_def`'s, and the name
    scopes of their ops."""
    others, scopes = [], set()
    keep = _saver_scope(saver_def) if saver_def is not None else None
    for saver in graph.get_collection(saver_lib._SAVERS_COLLECTION):
        scope = _saver_scope(saver.saver_def) if saver.saver_def is not None else ""
        if saver.saver_def == saver_def:
            continue
        others.append(saver)
        if scope and scope != keep:
            scopes.add(scope)
    return others, scopes


def export_meta_graph(filename=None, meta_info_def=None, graph_def=None, saver_def=None,
                      collection_list=None, as_text=False, graph=None, export_scope=None,
                      clear_devices=False, clear_extraneous_savers=False,
                      strip_default_attrs=False, save_debug_info=False, **kwargs):
    """Returns (and writes) a ``MetaGraphDef`` of a graph (``tf.train.export_meta_graph``).

    Args:
      filename: write it there when given: binary, or protobuf text format with `as_text`.
      meta_info_def: a ``MetaInfoDef`` to start from.
      graph_def: a ``GraphDef`` to use instead of the graph's.
      saver_def: the ``SaverDef`` to include (`Saver.export_meta_graph` passes its own).
      collection_list: the collection keys to include (default: all of the graph's).
      as_text: see `filename`.
      graph: the graph (default: the default graph).
      export_scope: export only this name scope, without it in the names.
      clear_devices: leave the nodes' devices out.
      clear_extraneous_savers: leave out the other savers' ops and collection entries.
      strip_default_attrs: accepted (sessionlib strips no attrs; see
        ``framework/meta_graph.py``).
      save_debug_info: accepted; no debug info is written.
      **kwargs: passed on (``unbound_inputs_col_name``, ``exclude_nodes``).

    Returns:
      The ``MetaGraphDef``.

    Raises:
      TypeError: if a given proto is not of its type.
    """
    del save_debug_info  # TF writes a separate GraphDebugInfo file; there is none here
    graph = graph or graph_lib.get_default_graph()
    kept_saver = None
    if clear_extraneous_savers:
        others, scopes = _extraneous_savers(graph, saver_def)
        if others:
            kept_saver = next((saver for saver in graph.get_collection(
                saver_lib._SAVERS_COLLECTION) if saver.saver_def == saver_def), None)
            if collection_list is None:
                collection_list = graph.get_all_collection_keys()
            collection_list = [key for key in collection_list
                               if key != saver_lib._SAVERS_COLLECTION]
            kwargs["exclude_nodes"] = (
                lambda name: any(name.startswith(scope) for scope in scopes))
    meta_graph_def, _ = meta_graph.export_scoped_meta_graph(
        filename=None, meta_info_def=meta_info_def, graph_def=graph_def, graph=graph,
        export_scope=export_scope, as_text=as_text, clear_devices=clear_devices,
        saver_def=saver_def, collection_list=collection_list,
        strip_default_attrs=strip_default_attrs, **kwargs)
    if kept_saver is not None:
        proto = kept_saver.to_proto(export_scope=export_scope)
        if proto is not None:
            savers = meta_graph_def.collection_def[saver_lib._SAVERS_COLLECTION].bytes_list
            savers.value.append(proto.SerializeToString())
    if filename:
        meta_graph.write_meta_graph_file(meta_graph_def, filename, as_text=as_text)
    return meta_graph_def


def import_meta_graph(meta_graph_or_file, clear_devices=False, import_scope=None, **kwargs):
    """Imports a meta graph into the default graph; returns its Saver
    (``tf.train.import_meta_graph``).

    Args:
      meta_graph_or_file: a ``MetaGraphDef`` or the path of a ``.meta`` file (binary or
        text format).
      clear_devices: import the nodes without their devices.
      import_scope: a name scope for the imported names.
      **kwargs: passed on (``input_map``, ``unbound_inputs_col_name``,
        ``restore_collections_predicate``, ``return_elements``).

    Returns:
      A Saver built from the meta graph's ``SaverDef``; without one, a new Saver of the
      imported variables; None when there are no variables either.

    Raises:
      IOError: if the file does not exist or cannot be parsed.
      ValueError: if the graph does not import.
    """
    return _import_meta_graph_with_return_elements(meta_graph_or_file, clear_devices,
                                                   import_scope, **kwargs)[0]


def _import_meta_graph_with_return_elements(meta_graph_or_file, clear_devices=False,
                                            import_scope=None, return_elements=None,
                                            **kwargs):
    if isinstance(meta_graph_or_file, meta_graph_pb2.MetaGraphDef):
        meta_graph_def = meta_graph_or_file
    else:
        meta_graph_def = meta_graph.read_meta_graph_file(meta_graph_or_file)
    imported_vars, returned = meta_graph.import_scoped_meta_graph_with_return_elements(
        meta_graph_def, clear_devices=clear_devices, import_scope=import_scope,
        return_elements=return_elements, **kwargs)
    saver = _saver_from_imported_meta_graph(meta_graph_def, import_scope, imported_vars)
    return saver, returned


def _saver_from_imported_meta_graph(meta_graph_def, import_scope, imported_vars):
    if meta_graph_def.HasField("saver_def"):
        # The scope the names were imported under: the prefix of any imported variable's
        # name (import_scope may have been made unique), as TF infers it.
        scope = import_scope
        if imported_vars:
            key, variable = next(iter(imported_vars.items()))
            scope = variable.name[:-len(key)]
        return saver_lib.Saver(saver_def=meta_graph_def.saver_def, name=scope or None)
    variables = graph_lib.get_default_graph().get_collection(
        graph_lib.GraphKeys.GLOBAL_VARIABLES, scope=import_scope)
    if variables:
        return saver_lib.Saver()
    _log.info("Saver not created because there are no variables in the graph to restore")
    return None
