"""The op families. Importing this package registers every op."""

from sessionlib.ops import array_ops, control_flow_ops, math_ops, nn, random_ops  # noqa: F401
from sessionlib.ops import session_ops, sparse_ops  # noqa: F401
from sessionlib.ops import data_flow_ops, io_ops, state_ops, variables  # noqa: F401
from sessionlib.ops import gradients  # noqa: F401
from sessionlib.ops import cumulative_ops, manipulation_ops, sampling_ops  # noqa: F401
from sessionlib.ops import scatter_gather_ops, segment_ops  # noqa: F401
from sessionlib.ops import nn_activation_ops, nn_loss_ops  # noqa: F401
from sessionlib.ops import nn_lookup_ops, nn_normalization_ops  # noqa: F401
from sessionlib.ops import nn_convolution_ops  # noqa: F401
from sessionlib.ops import nn_composite_convolution_ops  # noqa: F401
from sessionlib.ops import nn_convolution3d_ops  # noqa: F401
from sessionlib.ops import clip_ops, numerics_ops, training_ops  # noqa: F401
from sessionlib.ops import init_ops, linalg_ops, variable_scope  # noqa: F401
from sessionlib.ops import metrics_ops  # noqa: F401
from sessionlib.ops import checkpoint_ops  # noqa: F401
from sessionlib.ops import summary_ops  # noqa: F401
from sessionlib.ops import dataset_ops, input_ops  # noqa: F401
from sessionlib.ops import ref_variable_ops  # noqa: F401
from sessionlib.ops import nn_fused_ops  # noqa: F401
from sessionlib.ops import candidate_sampling_ops, nn_sampled_loss_ops  # noqa: F401
from sessionlib.ops import ctc_ops  # noqa: F401 - tf.nn.ctc_loss and the CTC decoders
from sessionlib.ops import rnn  # noqa: F401 - tf.nn.static_rnn
from sessionlib.ops import check_ops  # noqa: F401 - Assert, Print, IdentityN
from sessionlib.ops import list_ops  # noqa: F401 - TensorList ops
from sessionlib.ops import tensor_array_ops  # noqa: F401 - tf.TensorArray
from sessionlib.ops import functional_ops, cond_v2, while_v2  # noqa: F401
from sessionlib.ops import control_flow_grad  # noqa: F401 - If/While gradients
from sessionlib.ops import optional_ops  # noqa: F401 - Optional (v2 cond grads)
from sessionlib.ops import image_ops, image_resize_ops  # noqa: F401 - tf.image
from sessionlib.ops import image_codec_ops, image_color_ops  # noqa: F401 - tf.image
from sessionlib.ops import image_jpeg_ops  # noqa: F401 - tf.image
from sessionlib.ops import image_box_ops  # noqa: F401 - tf.image box ops
from sessionlib.ops import special_math_ops  # noqa: F401 - tf.math's elementwise functions
from sessionlib.ops import parsing_ops  # noqa: F401 - tf.train.Example parsing, CSV
from sessionlib.ops import string_ops  # noqa: F401
from sessionlib.ops import sparse_manipulation_ops, sparse_math_ops  # noqa: F401 - tf.sparse
from sessionlib.ops import set_ops  # noqa: F401 - tf.sets
from sessionlib.ops import script_ops  # noqa: F401 - tf.py_func, tf.py_function
