"""``tf.saved_model.tag_constants``: the standard tags of a SavedModel's meta graphs."""

__all__ = ["GPU", "SERVING", "TPU", "TRAINING"]

SERVING = "serve"
TRAINING = "train"
EVAL = "eval"
GPU = "gpu"
TPU = "tpu"
