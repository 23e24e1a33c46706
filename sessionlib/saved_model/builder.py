"""``tf.saved_model.builder.SavedModelBuilder``: writes TF 1 SavedModels.

Design. A SavedModel is a directory: ``saved_model.pb`` (a ``SavedModel`` proto holding one
``MetaGraphDef`` per tag set), ``variables/variables.{index,data-*}`` (one V2 checkpoint that
all the meta graphs share, written by a sharded Saver as TF's builder does) and ``assets/``
(files the graph reads, found through constant string tensors). The builder reuses the
Saver for the checkpoint and ``Saver.export_meta_graph`` for each meta graph; what it adds is
the SavedModel's bookkeeping: tags, signatures, the main op and the assets, all kept where
TF 1 keeps them (the ``saved_model_main_op`` and ``saved_model_assets`` collections) so that
TF's loader reads what is written here, and ``loader.py`` reads what TF writes.
"""

import os
import shutil

import numpy as np
from google.protobuf import any_pb2

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.protos import meta_graph_pb2, saved_model_pb2, types_pb2
from sessionlib.saved_model import constants, saved_model_file
from sessionlib.train import saver as saver_lib

__all__ = ["SavedModelBuilder"]

class SavedModelBuilder:
    """Builds a SavedModel: meta graphs that share one set of variables and assets
    (``tf.compat.v1.saved_model.Builder``).

    The first meta graph is added, with the variables, by `add_meta_graph_and_variables`;
    further ones (other tag sets over the same variables) by `add_meta_graph`; `save` writes
    the ``saved_model.pb``::

        builder = tf.saved_model.Builder(export_dir)
        with tf.Session() as sess:
            ...
            builder.add_meta_graph_and_variables(
                sess, [tf.saved_model.SERVING],
                signature_def_map={"serving_default": signature})
        builder.save()

    Args:
      export_dir: the directory to write; it must not exist or be empty (it is created).

    Raises:
      AssertionError: if `export_dir` exists and is not empty.
    """

    def __init__(self, export_dir):
        self._export_dir = os.fspath(export_dir)
        if os.path.exists(self._export_dir):
            if os.listdir(self._export_dir):
                raise AssertionError(
                    f"Export directory {self._export_dir} already exists, and isn't empty. "
                    "Please choose a different export directory, or delete all the contents "
                    "of the specified directory.")
        else:
            os.makedirs(self._export_dir)
        self._saved_model = saved_model_pb2.SavedModel(
            saved_model_schema_version=constants.SAVED_MODEL_SCHEMA_VERSION)
        self._has_saved_variables = False
        self._copied_assets = set()

    # ---- checks -----------------------------------------------------------------------------

    @staticmethod
    def _validate_tensor_info(tensor_info):
        if tensor_info is None:
            raise AssertionError("All TensorInfo protos used in the SignatureDefs must have "
                                 "the name and dtype fields set.")
        if tensor_info.WhichOneof("encoding") is None:
            raise AssertionError(
                f"Invalid `tensor_info`: {tensor_info}. All TensorInfo protos used in the "
                "SignatureDefs must have one of the 'encoding' fields (e.g., name or "
                "coo_sparse) set.")
        if tensor_info.dtype == types_pb2.DT_INVALID:
            raise AssertionError(
                f"Invalid `tensor_info`: {tensor_info}. All TensorInfo protos used in the "
                "SignatureDefs must have the dtype field set.")

    def _validate_signature_def_map(self, signature_def_map):
        for key, signature_def in signature_def_map.items():
            if not isinstance(signature_def, meta_graph_pb2.SignatureDef):
                raise TypeError(f"signature_def_map[{key!r}] must be a SignatureDef proto; "
                                f"got {type(signature_def).__name__}")
            for tensor_info in signature_def.inputs.values():
                self._validate_tensor_info(tensor_info)
            for tensor_info in signature_def.outputs.values():
                self._validate_tensor_info(tensor_info)
        for reserved, purpose in ((constants.INIT_OP_SIGNATURE_KEY, "initialization"),
                                  (constants.TRAIN_OP_SIGNATURE_KEY, "the train op")):
            if reserved in signature_def_map:
                raise KeyError(f'SignatureDef map key "{reserved}" is reserved for '
                               f"{purpose}. Please use a different key.")

    # ---- assets and the main op (kept in the graph's collections, as TF 1 does) -------------

    @staticmethod
    def _asset_source_path(path_tensor):
        """The file path held by the scalar string constant `path_tensor`."""
        if not isinstance(path_tensor, graph_lib.Tensor):
            raise TypeError(f"Asset path tensor {path_tensor} must be a Tensor.")
        if path_tensor.op.type != "Const":
            raise TypeError(f"Asset path tensor {path_tensor} must be of type constant. Has "
                            f"type {path_tensor.op.type} instead.")
        if path_tensor.dtype != dtypes.string:
            raise TypeError(f"Asset path tensor {path_tensor} must be of dtype string. Has "
                            f"type {path_tensor.dtype} instead.")
        values = np.asarray(path_tensor.op.get_attr("value"))
        if values.size != 1:
            raise TypeError(f"Asset path tensor {path_tensor} must be a scalar.")
        path = values.reshape(()).item()
        if not path:
            raise ValueError(f"Asset filepath tensor {path_tensor} in is invalid.")
        return path.decode("utf-8") if isinstance(path, bytes) else str(path)

    @staticmethod
    def _asset_filename(source, filename_to_source):
        """A basename for `source` under ``assets/``: its own, or with ``_1``, ``_2``, ...
        when another file of the same basename but other contents is already there."""
        name = os.path.basename(source)
        other = filename_to_source.get(name)
        if other is None or other == source or _same_contents(source, other):
            return name
        index = 1
        while f"{name}_{index}" in filename_to_source:
            index += 1
        return f"{name}_{index}"

    def _save_and_write_assets(self, assets_collection):
        if assets_collection is None:
            return
        filename_to_source = {}
        graph = graph_lib.get_default_graph()
        for path_tensor in assets_collection:
            source = self._asset_source_path(path_tensor)
            filename = self._asset_filename(source, filename_to_source)
            asset_file_def = meta_graph_pb2.AssetFileDef(filename=filename)
            asset_file_def.tensor_info.name = path_tensor.name
            # TF's message name, not sessionlib's: TF's loader unpacks only its own type.
            packed = any_pb2.Any(type_url=constants.ASSET_FILE_DEF_TYPE_URL,
                                 value=asset_file_def.SerializeToString())
            graph.add_to_collection(constants.ASSETS_KEY, packed)
            filename_to_source[filename] = source
        if not filename_to_source:
            return
        assets_dir = os.path.join(self._export_dir, constants.ASSETS_DIRECTORY)
        os.makedirs(assets_dir, exist_ok=True)
        for filename, source in filename_to_source.items():
            destination = os.path.join(assets_dir, filename)
            # A missing source is left out, as TF does: the graph may make the file later.
            if (os.path.exists(source) and os.path.abspath(source) != destination
                    and destination not in self._copied_assets):
                shutil.copyfile(source, destination)
                self._copied_assets.add(destination)

    @staticmethod
    def _maybe_add_main_op(main_op):
        if main_op is None:
            return
        if not isinstance(main_op, graph_lib.Operation):
            raise TypeError(f"Expected {main_op} to be an Operation but got type "
                            f"{type(main_op)} instead.")
        graph = graph_lib.get_default_graph()
        for key in (constants.MAIN_OP_KEY, constants.LEGACY_INIT_OP_KEY):
            if graph.get_collection(key):
                raise ValueError(f"Graph already contains one or more main ops under the "
                                 f"collection {key}.")
        graph.add_to_collection(constants.MAIN_OP_KEY, main_op)

    # ---- meta graphs ------------------------------------------------------------------------

    @staticmethod
    def _saver_or_default(saver):
        # Sharded, as TF's builder makes it, so the data file is variables.data-00000-of-00001.
        return saver or saver_lib.Saver(sharded=True, allow_empty=True)

    def _tag_and_add_meta_graph(self, meta_graph_def, tags, signature_def_map):
        meta_graph_def.meta_info_def.tags.extend(tags)
        for key, signature_def in signature_def_map.items():
            meta_graph_def.signature_def[key].CopyFrom(signature_def)
        self._saved_model.meta_graphs.add().CopyFrom(meta_graph_def)

    def add_meta_graph_and_variables(self, sess, tags, signature_def_map=None,
                                     assets_collection=None, legacy_init_op=None,
                                     clear_devices=False, main_op=None,
                                     strip_default_attrs=False, saver=None):
        """Saves the variables of `sess` and adds the default graph as the first meta graph.

        Args:
          sess: the Session holding the (initialized) variables.
          tags: the tags of this meta graph, e.g. ``[tf.saved_model.SERVING]``.
          signature_def_map: a dict ``key -> SignatureDef``.
          assets_collection: scalar string constant tensors holding the paths of files to
            copy into ``assets/`` (the loader feeds them the copies' paths).
          legacy_init_op: the former name of `main_op` (used when `main_op` is None).
          clear_devices: leave the nodes' devices out.
          main_op: an Operation the loader runs after restoring the variables.
          strip_default_attrs: passed to the meta graph export.
          saver: the Saver to save with (default: a sharded Saver of all the variables).

        Raises:
          AssertionError: if the variables were saved already, or a TensorInfo lacks its
            encoding or dtype.
          KeyError: if a signature uses a reserved key.
          TypeError: if `main_op` is not an Operation or an asset tensor is not a scalar
            string constant.
          ValueError: if the graph already has a main op.
        """
        if self._has_saved_variables:
            raise AssertionError("Graph state including variables and assets has already "
                                 "been saved. Please invoke `add_meta_graph()` instead.")
        signature_def_map = signature_def_map or {}
        self._validate_signature_def_map(signature_def_map)
        self._save_and_write_assets(assets_collection)
        self._maybe_add_main_op(main_op if main_op is not None else legacy_init_op)
        variables_dir = os.path.join(self._export_dir, constants.VARIABLES_DIRECTORY)
        os.makedirs(variables_dir, exist_ok=True)
        saver = self._saver_or_default(saver)
        saver.save(sess, os.path.join(variables_dir, constants.VARIABLES_FILENAME),
                   write_meta_graph=False, write_state=False)
        meta_graph_def = saver.export_meta_graph(clear_devices=clear_devices,
                                                 strip_default_attrs=strip_default_attrs)
        self._tag_and_add_meta_graph(meta_graph_def, tags, signature_def_map)
        self._has_saved_variables = True

    def add_meta_graph(self, tags, signature_def_map=None, assets_collection=None,
                       legacy_init_op=None, clear_devices=False, main_op=None,
                       strip_default_attrs=False, saver=None):
        """Adds the default graph as a further meta graph over the variables already saved.

        Args:
          tags, signature_def_map, assets_collection, legacy_init_op, clear_devices, main_op,
            strip_default_attrs, saver: as in `add_meta_graph_and_variables`.

        Raises:
          AssertionError: if `add_meta_graph_and_variables` was not called first; the other
            errors of `add_meta_graph_and_variables`.
        """
        if not self._has_saved_variables:
            raise AssertionError("Graph state including variables and assets has not been "
                                 "saved yet. Please invoke `add_meta_graph_and_variables()` "
                                 "first.")
        signature_def_map = signature_def_map or {}
        self._validate_signature_def_map(signature_def_map)
        self._save_and_write_assets(assets_collection)
        self._maybe_add_main_op(main_op if main_op is not None else legacy_init_op)
        saver = self._saver_or_default(saver)
        meta_graph_def = saver.export_meta_graph(clear_devices=clear_devices,
                                                 strip_default_attrs=strip_default_attrs)
        self._tag_and_add_meta_graph(meta_graph_def, tags, signature_def_map)

    def save(self, as_text=False):
        """Writes the ``SavedModel`` proto into the export directory.

        Args:
          as_text: write ``saved_model.pbtxt`` in protobuf text format (for reading; TF's
            serving binaries want the binary ``saved_model.pb``).

        Returns:
          The path written, as bytes (as TF returns it).
        """
        return saved_model_file.write_saved_model(self._saved_model, self._export_dir,
                                                  as_text=as_text)


def _same_contents(path_a, path_b):
    if not (os.path.exists(path_a) and os.path.exists(path_b)):
        return False
    with open(path_a, "rb") as file_a, open(path_b, "rb") as file_b:
        return file_a.read() == file_b.read()
