"""Reading and writing the ``SavedModel`` proto of an export directory."""

import logging
import os

from google.protobuf import message as protobuf_message
from google.protobuf import text_format

from sessionlib.protos import saved_model_pb2
from sessionlib.saved_model import constants

__all__ = ["parse_saved_model", "write_saved_model"]

_log = logging.getLogger(__name__)


def _as_str_path(export_dir):
    export_dir = os.fspath(export_dir)
    return export_dir.decode("utf-8") if isinstance(export_dir, bytes) else export_dir


def parse_saved_model(export_dir):
    """Reads the ``SavedModel`` proto of an export directory (``saved_model.pb``, else
    ``saved_model.pbtxt``).

    Args:
      export_dir: the SavedModel's directory.

    Returns:
      The ``SavedModel`` proto.

    Raises:
      IOError: if neither file exists or the file does not parse.
    """
    export_dir = _as_str_path(export_dir)
    path_pb = os.path.join(export_dir, constants.SAVED_MODEL_FILENAME_PB)
    path_pbtxt = os.path.join(export_dir, constants.SAVED_MODEL_FILENAME_PBTXT)
    saved_model = saved_model_pb2.SavedModel()
    if os.path.exists(path_pb):
        with open(path_pb, "rb") as file:
            data = file.read()
        try:
            saved_model.ParseFromString(data)
        except protobuf_message.DecodeError as err:
            raise IOError(f"Cannot parse file {path_pb}: {err}.") from err
    elif os.path.exists(path_pbtxt):
        with open(path_pbtxt, "rb") as file:
            data = file.read()
        try:
            text_format.Parse(data.decode("utf-8"), saved_model)
        except (text_format.ParseError, UnicodeDecodeError) as err:
            raise IOError(f"Cannot parse file {path_pbtxt}: {err}.") from err
    else:
        raise IOError(f"SavedModel file does not exist at: {export_dir}{os.path.sep}"
                      f"{{{constants.SAVED_MODEL_FILENAME_PBTXT}|"
                      f"{constants.SAVED_MODEL_FILENAME_PB}}}")
    return saved_model


def write_saved_model(saved_model, export_dir, as_text=False):
    """Writes `saved_model` as ``saved_model.pb`` (or ``.pbtxt``, text format) in a directory.

    Args:
      saved_model: the ``SavedModel`` proto.
      export_dir: the directory (created if missing).
      as_text: write protobuf text format.

    Returns:
      The path written, as bytes (as TF returns it).
    """
    export_dir = _as_str_path(export_dir)
    os.makedirs(export_dir, exist_ok=True)
    if as_text:
        path = os.path.join(export_dir, constants.SAVED_MODEL_FILENAME_PBTXT)
        with open(path, "w", encoding="utf-8") as file:
            file.write(text_format.MessageToString(saved_model))
    else:
        path = os.path.join(export_dir, constants.SAVED_MODEL_FILENAME_PB)
        with open(path, "wb") as file:
            file.write(saved_model.SerializeToString(deterministic=True))
    _log.info("SavedModel written to: %s", path)
    return path.encode("utf-8")
