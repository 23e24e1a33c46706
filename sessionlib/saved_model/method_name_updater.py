"""``tf.saved_model.signature_def_utils.MethodNameUpdater``: renames the method of a
signature in a SavedModel already written (e.g. to serve a predict signature as classify)."""

import os

from sessionlib.saved_model import constants
from sessionlib.saved_model.saved_model_file import parse_saved_model, write_saved_model

__all__ = ["MethodNameUpdater"]


class MethodNameUpdater:
    """Edits the ``method_name`` of signatures in an export directory's ``SavedModel``.

    Args:
      export_dir: the SavedModel's directory.

    Raises:
      IOError: if it holds no readable SavedModel.
    """

    def __init__(self, export_dir):
        self._export_dir = export_dir
        self._saved_model = parse_saved_model(export_dir)

    def replace_method_name(self, signature_key, method_name, tags=None):
        """Sets the method name of signature `signature_key` in the meta graphs with `tags`.

        Args:
          signature_key: the signature's key.
          method_name: the new method name.
          tags: a tag or list of tags choosing the meta graph; None: every meta graph.

        Raises:
          ValueError: if a key or name is empty, no meta graph has the tags, or a chosen one
            lacks the signature.
        """
        if not signature_key:
            raise ValueError("`signature_key` must be defined.")
        if not method_name:
            raise ValueError("`method_name` must be defined.")
        if tags is not None and not isinstance(tags, list):
            tags = [tags]
        found = False
        for meta_graph_def in self._saved_model.meta_graphs:
            if tags is not None and set(tags) != set(meta_graph_def.meta_info_def.tags):
                continue
            if signature_key not in meta_graph_def.signature_def:
                raise ValueError(f"MetaGraphDef associated with tags {tags} does not have a "
                                 f"signature_def with key: '{signature_key}'.")
            meta_graph_def.signature_def[signature_key].method_name = method_name
            found = True
        if not found:
            raise ValueError(f"MetaGraphDef associated with tags {tags} could not be found "
                             f"in SavedModel.")

    def save(self, new_export_dir=None):
        """Writes the edited ``SavedModel`` (in the format it was read in).

        Args:
          new_export_dir: where to write it (default: the directory read); only the proto
            file is written there.

        Returns:
          The path written, as bytes.
        """
        as_text = os.path.exists(os.path.join(os.fspath(self._export_dir),
                                              constants.SAVED_MODEL_FILENAME_PBTXT))
        return write_saved_model(self._saved_model, new_export_dir or self._export_dir,
                                 as_text=as_text)
