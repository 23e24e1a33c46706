"""``tf.saved_model`` (TF 1's, ``tf.compat.v1.saved_model``): writing and loading
SavedModels, the export format that TF Serving and TF's loaders read.

``Builder`` / ``builder.SavedModelBuilder`` writes one (``simple_save`` for the common serving
case), ``load`` / ``loader.load`` loads one into a Session, and ``signature_def_utils``,
``utils``, ``signature_constants`` and ``tag_constants`` describe its signatures. The files
are in TF's format: TF loads what is written here and the other way round.
TF 2's object-based ``save``, ``load_v2``, ``Asset``, ``SaveOptions`` are not provided.
"""

from sessionlib.saved_model import (builder, constants, loader, main_op, signature_constants,
                                    signature_def_utils, tag_constants, utils)
from sessionlib.saved_model.builder import SavedModelBuilder as Builder
from sessionlib.saved_model.constants import (
    ASSETS_DIRECTORY, ASSETS_KEY, DEBUG_DIRECTORY, DEBUG_INFO_FILENAME_PB, LEGACY_INIT_OP_KEY,
    MAIN_OP_KEY, SAVED_MODEL_FILENAME_PB, SAVED_MODEL_FILENAME_PBTXT,
    SAVED_MODEL_SCHEMA_VERSION, VARIABLES_DIRECTORY, VARIABLES_FILENAME)
from sessionlib.saved_model.loader import load, maybe_saved_model_directory
from sessionlib.saved_model.main_op import main_op_with_restore
from sessionlib.saved_model.signature_constants import (
    CLASSIFY_INPUTS, CLASSIFY_METHOD_NAME, CLASSIFY_OUTPUT_CLASSES, CLASSIFY_OUTPUT_SCORES,
    DEFAULT_SERVING_SIGNATURE_DEF_KEY, PREDICT_INPUTS, PREDICT_METHOD_NAME, PREDICT_OUTPUTS,
    REGRESS_INPUTS, REGRESS_METHOD_NAME, REGRESS_OUTPUTS)
from sessionlib.saved_model.signature_def_utils import (
    build_signature_def, classification_signature_def, is_valid_signature,
    predict_signature_def, regression_signature_def)
from sessionlib.saved_model.simple_save import simple_save
from sessionlib.saved_model.tag_constants import GPU, SERVING, TPU, TRAINING
from sessionlib.saved_model.utils import build_tensor_info, get_tensor_from_tensor_info

# tf.compat.v1.saved_model.contains_saved_model is the same function.
contains_saved_model = maybe_saved_model_directory
