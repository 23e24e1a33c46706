"""``tf.saved_model.constants``: the file names and collection keys of a SavedModel.

The values are TF's: a SavedModel written here is read by TF and the other way round.
"""

__all__ = ["ASSETS_DIRECTORY", "ASSETS_KEY", "DEBUG_DIRECTORY", "DEBUG_INFO_FILENAME_PB",
           "LEGACY_INIT_OP_KEY", "MAIN_OP_KEY", "SAVED_MODEL_FILENAME_PB",
           "SAVED_MODEL_FILENAME_PBTXT", "SAVED_MODEL_SCHEMA_VERSION", "VARIABLES_DIRECTORY",
           "VARIABLES_FILENAME"]

# The subdirectory of the export directory that holds the asset files.
ASSETS_DIRECTORY = "assets"
# The collection of packed AssetFileDef protos (``Any``) that TF 1's builder writes.
ASSETS_KEY = "saved_model_assets"
# The type of those protos, named as TF names it (the bytes are the same as sessionlib's).
ASSET_FILE_DEF_TYPE_URL = "type.googleapis.com/tensorflow.AssetFileDef"
DEBUG_DIRECTORY = "debug"
DEBUG_INFO_FILENAME_PB = "saved_model_debug_info.pb"
# Collections holding the one op the loader runs after restoring the variables.
LEGACY_INIT_OP_KEY = "legacy_init_op"
MAIN_OP_KEY = "saved_model_main_op"
TRAIN_OP_KEY = "saved_model_train_op"
# Signature keys TF 2's builder uses for the init and train ops; reserved here too.
INIT_OP_SIGNATURE_KEY = "__saved_model_init_op"
TRAIN_OP_SIGNATURE_KEY = "__saved_model_train_op"
SAVED_MODEL_FILENAME_PB = "saved_model.pb"
SAVED_MODEL_FILENAME_PBTXT = "saved_model.pbtxt"
# Written by TF's chunked (>2 GiB) format; only detected here, never read.
SAVED_MODEL_FILENAME_CPB = "saved_model.cpb"
SAVED_MODEL_SCHEMA_VERSION = 1
VARIABLES_DIRECTORY = "variables"
VARIABLES_FILENAME = "variables"
