"""``tf.saved_model.simple_save``: a serving SavedModel in one call."""

from sessionlib.framework import graph as graph_lib
from sessionlib.saved_model import builder as builder_lib
from sessionlib.saved_model import signature_constants, signature_def_utils, tag_constants

__all__ = ["simple_save"]


def simple_save(session, export_dir, inputs, outputs, legacy_init_op=None):
    """Writes a SavedModel for serving: the tag ``serve``, one predict signature
    ``serving_default``, the graph's ``asset_filepaths`` as assets, devices cleared.

    Args:
      session: the Session holding the variables.
      export_dir: the directory to write (must not exist or be empty).
      inputs: a dict ``key -> Tensor`` of the signature's inputs.
      outputs: a dict ``key -> Tensor`` of its outputs.
      legacy_init_op: an op for the loader to run after the restore.

    Raises:
      AssertionError: if `export_dir` exists and is not empty.
      ValueError: if `inputs` or `outputs` is empty.
    """
    signature_def_map = {
        signature_constants.DEFAULT_SERVING_SIGNATURE_DEF_KEY:
            signature_def_utils.predict_signature_def(inputs, outputs)}
    builder = builder_lib.SavedModelBuilder(export_dir)
    builder.add_meta_graph_and_variables(
        session, tags=[tag_constants.SERVING], signature_def_map=signature_def_map,
        assets_collection=graph_lib.get_collection(graph_lib.GraphKeys.ASSET_FILEPATHS),
        main_op=legacy_init_op, clear_devices=True)
    builder.save()
