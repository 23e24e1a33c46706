"""``tf.saved_model.loader``: loads a TF 1 SavedModel into a Session.

Loading is importing one of the SavedModel's meta graphs (the one whose tag set equals the
given tags) with ``import_meta_graph``, restoring the shared checkpoint
``variables/variables`` with the Saver that import returns, and running the init op (a main
op or legacy init op from the collections TF 1 uses, or TF 2's ``__saved_model_init_op``
signature) with the asset tensors fed the paths of the files under ``assets/``.
"""

import os

from sessionlib import errors
from sessionlib.framework import graph as graph_lib
from sessionlib.framework.meta_graph import prepend_name_scope
from sessionlib.protos import meta_graph_pb2
from sessionlib.saved_model import constants, utils
from sessionlib.saved_model.saved_model_file import parse_saved_model
from sessionlib.train import meta_graph_io
from sessionlib.train import saver as saver_lib

__all__ = ["load", "maybe_saved_model_directory"]


def maybe_saved_model_directory(export_dir):
    """Whether a directory may hold a SavedModel (it has a ``saved_model.pb``, ``.pbtxt`` or
    ``.cpb``); nothing is read, so True does not promise the model loads.

    Args:
      export_dir: a directory path (str or path-like).

    Returns:
      True or False.
    """
    export_dir = os.fspath(export_dir)
    if isinstance(export_dir, bytes):
        export_dir = export_dir.decode("utf-8")
    return any(os.path.exists(os.path.join(export_dir, name))
               for name in (constants.SAVED_MODEL_FILENAME_PBTXT,
                            constants.SAVED_MODEL_FILENAME_PB,
                            constants.SAVED_MODEL_FILENAME_CPB))


def get_asset_tensors(export_dir, meta_graph_def, import_scope=None):
    """The asset tensors of a meta graph and the paths to feed them.

    Args:
      export_dir: the SavedModel's directory.
      meta_graph_def: the loaded ``MetaGraphDef``.
      import_scope: the scope it was loaded under.

    Returns:
      A dict ``tensor name -> path of the file under assets/``.
    """
    asset_file_defs = list(meta_graph_def.asset_file_def)
    collection = meta_graph_def.collection_def.get(constants.ASSETS_KEY)
    if not asset_file_defs and collection is not None:
        for packed in collection.any_list.value:
            # By the message's name only: TF packs `tensorflow.AssetFileDef`, whose bytes
            # are those of sessionlib's AssetFileDef (Any.Unpack would refuse the package).
            if not packed.type_url.endswith(".AssetFileDef"):
                raise ValueError(f"The {constants.ASSETS_KEY} collection holds a "
                                 f"{packed.type_url}, not an AssetFileDef")
            asset_file_defs.append(meta_graph_pb2.AssetFileDef.FromString(packed.value))
    assets_dir = os.path.join(os.fspath(export_dir), constants.ASSETS_DIRECTORY)
    return {prepend_name_scope(asset.tensor_info.name, import_scope):
            os.path.join(assets_dir, asset.filename) for asset in asset_file_defs}


def _op_from_collection(meta_graph_def, key, graph):
    collection = meta_graph_def.collection_def.get(key)
    if collection is None:
        return None
    names = collection.node_list.value
    if len(names) != 1:
        raise RuntimeError(f"Expected exactly one SavedModel init op. Found {len(names)}: "
                           f"{names}.")
    return graph.get_collection(key)[0]


def get_init_op(meta_graph_def, graph, import_scope=None):
    """The op to run after the restore: TF 2's init-op signature, else the main op, else the
    legacy init op; None without any.

    Raises:
      RuntimeError: if a main op collection holds more than one op.
    """
    key = constants.INIT_OP_SIGNATURE_KEY
    if key in meta_graph_def.signature_def:
        try:
            return utils.get_element_from_tensor_info(
                meta_graph_def.signature_def[key].outputs[key], graph, import_scope)
        except KeyError:
            raise errors.NotFoundError(
                None, None, f'The key "{key}" could not be found in the graph.') from None
    for key in (constants.MAIN_OP_KEY, constants.LEGACY_INIT_OP_KEY):
        init_op = _op_from_collection(meta_graph_def, key, graph)
        if init_op is not None:
            return init_op
    return None


def _meta_graph_def_with_tags(saved_model, tags):
    available = []
    for meta_graph_def in saved_model.meta_graphs:
        meta_tags = set(meta_graph_def.meta_info_def.tags)
        available.append(meta_tags)
        if meta_tags == set(tags):
            return meta_graph_def
    raise RuntimeError(f"MetaGraphDef associated with tags {str(tags).strip('[]')} could not "
                       f"be found in SavedModel, with available tags '{available}'.")


def load(sess, tags, export_dir, import_scope=None, **saver_kwargs):
    """Loads a SavedModel's meta graph into `sess` (``tf.compat.v1.saved_model.load``).

    Imports the meta graph tagged exactly `tags` into ``sess.graph``, restores the variables
    and runs the main (or legacy init) op, feeding the asset tensors their files' paths.

    Args:
      sess: the Session to load into.
      tags: the tag set of the meta graph, e.g. ``[tf.saved_model.SERVING]``.
      export_dir: the SavedModel's directory.
      import_scope: a name scope for the imported names (the returned proto keeps the
        unscoped names).
      **saver_kwargs: passed on to ``import_meta_graph``.

    Returns:
      The loaded ``MetaGraphDef`` (its ``signature_def`` names the tensors to feed and fetch).

    Raises:
      RuntimeError: if no meta graph has exactly these tags.
      IOError: if the directory holds no readable SavedModel.
      ValueError: if there are variables but no Saver to restore them.
    """
    export_dir = os.fspath(export_dir)
    saved_model = parse_saved_model(export_dir)
    meta_graph_def = _meta_graph_def_with_tags(saved_model, tags)
    graph = sess.graph
    with graph.as_default():
        saver, _ = meta_graph_io._import_meta_graph_with_return_elements(
            meta_graph_def, import_scope=import_scope, **saver_kwargs)
        variables_path = os.path.join(export_dir, constants.VARIABLES_DIRECTORY,
                                      constants.VARIABLES_FILENAME)
        if isinstance(saver, saver_lib.Saver):
            saver.restore(sess, variables_path)
        elif graph.get_collection(graph_lib.GraphKeys.GLOBAL_VARIABLES, scope=import_scope):
            raise ValueError("No tf.train.Saver object was passed to the function "
                             "`SavedModelLoader.restore_variables`. Since there are variables "
                             "in the graph, a saver is required.")
        init_op = get_init_op(meta_graph_def, graph, import_scope)
        if init_op is not None:
            sess.run([init_op], feed_dict=get_asset_tensors(export_dir, meta_graph_def,
                                                            import_scope))
    return meta_graph_def
