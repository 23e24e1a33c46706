"""sessionlib: TensorFlow 1's graph-and-Session programming model, small and fast.

``import sessionlib as tf`` gives the public names of ``tf.compat.v1`` that sessionlib supports.
This module only re-exports; the code lives in the subpackages.
"""

from sessionlib import dtypes, errors
from sessionlib.dtypes import (DType, as_dtype, bool, double, float16, float32, float64, half,
                               int8, int16, int32, int64, string, uint8)
from sessionlib.framework.graph import (Graph, GraphKeys, Operation, Tensor,
                                        control_dependencies, convert_to_tensor, device,
                                        get_default_graph, name_scope, reset_default_graph)
from sessionlib.framework.graph_io import import_graph_def
from sessionlib.framework.graph import colocate_with
from sessionlib.framework.tensor_shape import TensorShape
from sessionlib.ops.array_ops import constant, identity, placeholder, placeholder_with_default
from sessionlib.ops.control_flow_ops import group, no_op, tuple
from sessionlib.ops.cond_v2 import case, cond
from sessionlib.ops.while_v2 import while_loop
from sessionlib.ops.map_fn_ops import foldl, foldr, map_fn, scan
from sessionlib.framework.function import init_scope
from sessionlib.ops.array_ops import (clip_by_value, concat, expand_dims, fill, gather, newaxis,
                                     ones, ones_like, range, rank, reshape, shape, size, slice,
                                     split, squeeze, stack, strided_slice, tile, transpose,
                                     unstack, where, zeros, zeros_like)
from sessionlib.ops.math_ops import (abs, add, add_n, arg_max, arg_min, argmax, argmin, cast,
                                    cos, div, divide, equal, exp, floordiv, floormod, greater,
                                    greater_equal, less, less_equal, log, log1p, logical_and,
                                    logical_not, logical_or, matmul, maximum, minimum, mod,
                                    multiply, negative, not_equal, pow, realdiv, reciprocal,
                                    reduce_all, reduce_any, reduce_join, reduce_max,
                                    reduce_mean, reduce_min, reduce_prod, reduce_sum, rsqrt,
                                    sigmoid, sign, sin, sqrt, square, squared_difference,
                                    subtract, tanh, to_double, to_float, to_int32, to_int64,
                                    truediv)
from sessionlib.ops.nn import nn
from sessionlib.framework.indexed_slices import IndexedSlices, IndexedSlicesValue
from sessionlib.ops.gradients import (NotDifferentiable, RegisterGradient, gradients,
                                     no_gradient, stop_gradient)
# ---- issue 11, gradients ----
from sessionlib.ops.gradients import hessians
from sessionlib.ops.math_ops import unsorted_segment_sum
from sessionlib.ops.random_ops import (random_normal, random_uniform, set_random_seed,
                                      truncated_normal)
from sessionlib.client.session import InteractiveSession, Session
from sessionlib.framework.default_session import get_default_session
from sessionlib.framework.sparse_tensor import SparseTensor, SparseTensorValue
from sessionlib.ops.sparse_ops import (sparse_add, sparse_placeholder, sparse_reduce_sum,
                                      sparse_tensor_to_dense, sparse_to_dense)
from sessionlib.ops.session_ops import (delete_session_tensor, get_session_handle,
                                       get_session_tensor)
from sessionlib import sparse
from sessionlib.ops.variables import (Variable, global_variables, global_variables_initializer,
                                     initialize_all_variables, is_variable_initialized,
                                     local_variables, local_variables_initializer,
                                     report_uninitialized_variables, trainable_variables,
                                     variables_initializer)
from sessionlib.ops.state_ops import assign, assign_add, assign_sub
from sessionlib.ops.data_flow_ops import FIFOQueue, QueueBase, RandomShuffleQueue
from sessionlib.ops.io_ops import (IdentityReader, ReaderBase, TextLineReader, WholeFileReader,
                                  matching_files)
from sessionlib.protos import (AttrValue, ConfigProto, GraphDef, GraphOptions, NodeDef,
                               OptimizerOptions, RunMetadata, RunOptions, StepStats,
                               TensorProto, TensorShapeProto)

# Issue 11, math and array ops for models.
from sessionlib.ops.cumulative_ops import cumsum, reduce_logsumexp
from sessionlib.ops.manipulation_ops import (boolean_mask, einsum, matrix_transpose, one_hot,
                                            pad, reverse, reverse_v2, sequence_mask)
from sessionlib.ops.sampling_ops import multinomial, random, random_shuffle
from sessionlib.ops.scatter_gather_ops import gather_nd, scatter_nd
from sessionlib.ops.segment_ops import dynamic_partition, dynamic_stitch, segment_sum
# ---- training (issue 11): tf.train, clipping, numerics checks ----
from sessionlib import train
from sessionlib.ops.clip_ops import clip_by_global_norm, clip_by_norm, global_norm
from sessionlib.ops.numerics_ops import (add_check_numerics_ops, check_numerics, debugging,
                                        verify_tensor_all_finite)
# ---- end of the training block ----
from sessionlib import data  # tf.data

# ---- issue 12, variable scopes and initializers ----
from sessionlib import initializers
from sessionlib.ops.init_ops import (constant_initializer, glorot_normal_initializer,
                                     glorot_uniform_initializer, ones_initializer,
                                     orthogonal_initializer, random_normal_initializer,
                                     random_uniform_initializer, truncated_normal_initializer,
                                     uniform_unit_scaling_initializer,
                                     variance_scaling_initializer, zeros_initializer)
from sessionlib.ops.variable_scope import (AUTO_REUSE, VariableAggregation, VariableScope,
                                           VariableSynchronization, get_local_variable,
                                           get_variable, get_variable_scope, no_regularizer,
                                           variable_scope)
from sessionlib.framework.graph import (add_to_collection, add_to_collections, get_collection,
                                        get_collection_ref)
from sessionlib.ops.variables import model_variables, moving_average_variables
from sessionlib.ops.partitioned_variables import (fixed_size_partitioner,
                                                  min_max_variable_partitioner,
                                                  variable_axis_size_partitioner)
# ---- issue 12, tf.layers ----
from sessionlib import layers
from sessionlib import contrib  # legacy spellings: contrib.layers, contrib.framework
from sessionlib.layers import rnn_cell_impl  # noqa: F401 - tf.nn.rnn_cell, static_rnn
# ---- summaries and event files (issue 13): tf.summary, TFRecord files ----
from sessionlib import summary
from sessionlib.lib_io import io, python_io
io.write_graph = train.write_graph  # tf.io.write_graph, TF 2's spelling
io.matching_files = matching_files  # tf.io.matching_files (TF 1: tf.matching_files)
# tf.io's spellings of the PNG codec (TF 1 has them in tf.image as well).
from sessionlib.ops import image_codec_ops as _image_codec_ops
io.decode_png = _image_codec_ops.decode_png
io.encode_png = _image_codec_ops.encode_png
io.decode_image = _image_codec_ops.decode_image
from sessionlib.ops import image_jpeg_ops as _image_jpeg_ops
io.decode_jpeg = _image_jpeg_ops.decode_jpeg
io.encode_jpeg = _image_jpeg_ops.encode_jpeg
io.decode_and_crop_jpeg = _image_jpeg_ops.decode_and_crop_jpeg
io.extract_jpeg_shape = _image_jpeg_ops.extract_jpeg_shape
from sessionlib.protos import (Event, HistogramProto, LogMessage, SessionLog, Summary,
                               SummaryMetadata)
# ---- end of the summaries block ----

__version__ = "0.1.0"
# ---- issue 12, tf.losses and tf.metrics ----
from sessionlib import losses, metrics
from sessionlib.ops.metrics_ops import confusion_matrix, div_no_nan
# ---- issue 13, reference variables: TF 1's VariableV2 family ----
from sessionlib.dtypes import (bool_ref, float16_ref, float32_ref, float64_ref, int8_ref,
                               int16_ref, int32_ref, int64_ref, string_ref, uint8_ref)
from sessionlib.ops.ref_variable_ops import (scatter_add, scatter_div, scatter_max,
                                             scatter_min, scatter_mul, scatter_nd_add,
                                             scatter_nd_sub, scatter_nd_update, scatter_sub,
                                             scatter_update)
# ---- issue 15, emulated GPUs: tf.config and tf.test's GPU queries ----
from sessionlib import config, test
# ---- issue 16, assertions and printing: tf.Assert, tf.assert_*, tf.Print ----
from sessionlib.ops.check_ops import (Assert, Print, assert_equal, assert_greater,
                                      assert_greater_equal, assert_integer, assert_less,
                                      assert_less_equal, assert_near, assert_negative,
                                      assert_non_negative, assert_non_positive,
                                      assert_none_equal, assert_positive, assert_rank,
                                      assert_rank_at_least, assert_rank_in, assert_scalar,
                                      assert_type, identity_n, is_non_decreasing,
                                      is_numeric_tensor, is_strictly_increasing, strings)
from sessionlib.ops.check_ops import print_v2 as print  # noqa: A001 - TF's tf.print
# ---- issue 16, TensorLists: tf.variant and tf.TensorArray ----
from sessionlib.dtypes import variant
from sessionlib.ops.tensor_array_ops import TensorArray
# ---- linear algebra: tf.linalg and TF 1's top-level matrix functions ----
from sessionlib.ops.linalg_ops import (cholesky, cholesky_solve, eye, linalg,
                                       log_matrix_determinant, matrix_band_part,
                                       matrix_determinant, matrix_diag, matrix_diag_part,
                                       matrix_inverse, matrix_set_diag, matrix_solve,
                                       matrix_triangular_solve, norm, qr, self_adjoint_eig,
                                       self_adjoint_eigvals, svd, trace)
# ---- tf.image: image preprocessing for input pipelines ----
from sessionlib import image
from sessionlib.ops.image_ops import random_crop
# ---- tf.math, and TF 1's top-level spellings of its elementwise functions ----
from sessionlib import math
from sessionlib.ops.special_math_ops import (acos, acosh, asin, asinh, atan, atan2, atanh, betainc,
                                             ceil, cosh, digamma, erf, erfc, expm1, floor,
                                             floor_div, igamma, igammac, is_finite, is_inf, is_nan,
                                             lbeta, lgamma, log_sigmoid, logical_xor, polygamma,
                                             rint, round, scalar_mul, sinh, tan, truncatediv,
                                             truncatemod, xdivy, xlogy, zeta)
from sessionlib.ops.cumulative_ops import cumprod
from sessionlib.ops.math_reduction_ops import accumulate_n, count_nonzero
from sessionlib.ops.segment_ops import (bincount, segment_max, segment_mean, segment_min,
                                       segment_prod, unsorted_segment_max,
                                       unsorted_segment_mean, unsorted_segment_min,
                                       unsorted_segment_prod, unsorted_segment_sqrt_n)
# ---- end of the tf.math block ----
# ---- TF 1's remaining array ops: sorting, sets, block rearrangements, tensor scatters ----
from sessionlib.ops.array_extra_ops import (
    argsort, batch_gather, batch_to_space, batch_to_space_nd, bitcast, broadcast_dynamic_shape,
    broadcast_static_shape, broadcast_to, depth_to_space, diag, diag_part, edit_distance,
    ensure_shape,
    extract_image_patches, histogram_fixed_width, histogram_fixed_width_bins, lin_space,
    linspace, meshgrid, parallel_stack, repeat, reverse_sequence, roll, searchsorted, setdiff1d,
    shape_n, sort, space_to_batch, space_to_batch_nd, space_to_depth, tensor_scatter_add,
    tensor_scatter_nd_add, tensor_scatter_nd_max, tensor_scatter_nd_min, tensor_scatter_nd_sub,
    tensor_scatter_nd_update, tensor_scatter_sub, tensor_scatter_update, tensordot, timestamp,
    unique, unique_with_counts, unravel_index, where_v2)
from sessionlib.ops.array_ops import invert_permutation
from sessionlib.ops import array_extra_ops as _array_extra_ops
from sessionlib.ops.linalg_ops import linalg as _linalg
nn.space_to_depth = space_to_depth
nn.depth_to_space = depth_to_space
nn.space_to_batch = space_to_batch
image.extract_image_patches = extract_image_patches
image.extract_patches = _array_extra_ops.extract_patches
_linalg.tensordot = tensordot
_linalg.einsum = einsum
_linalg.tensor_diag = diag
_linalg.tensor_diag_part = diag_part
import types as _types
manip = _types.ModuleType("sessionlib.manip", "TF 1's ``tf.manip``: array manipulation.")
manip.batch_to_space_nd = batch_to_space_nd
manip.gather_nd = gather_nd
manip.reshape = reshape
manip.reverse = reverse
manip.roll = roll
manip.scatter_nd = scatter_nd
manip.space_to_batch_nd = space_to_batch_nd
manip.tile = tile
# ---- end of the remaining array ops ----
# ---- TF 1's record input path: Example parsing, record readers, raw and CSV decoding ----
from sessionlib.ops.parsing_ops import (FixedLenFeature, FixedLenSequenceFeature, SparseFeature,
                                        VarLenFeature, decode_csv, decode_raw, parse_example,
                                        parse_single_example, parse_single_sequence_example,
                                        parse_tensor, serialize_tensor)
from sessionlib.ops import parsing_ops as _parsing_ops
io.parse_sequence_example = _parsing_ops.parse_sequence_example  # tf.io only, as in TF
for _name in ("FixedLenFeature", "FixedLenSequenceFeature", "SparseFeature", "VarLenFeature",
              "decode_csv", "decode_raw", "parse_example", "parse_single_example",
              "parse_single_sequence_example", "parse_tensor", "serialize_tensor"):
    setattr(io, _name, globals()[_name])
del _name
from sessionlib.ops.io_ops import (FixedLengthRecordReader, TFRecordReader, read_file,
                                  write_file)
io.read_file, io.write_file = read_file, write_file
from sessionlib.protos import (BytesList, Example, Feature, FeatureList, FeatureLists, Features,
                               FloatList, Int64List, SequenceExample)
for _name in ("BytesList", "Example", "Feature", "FeatureList", "FeatureLists", "Features",
              "FloatList", "Int64List", "SequenceExample"):
    setattr(train, _name, globals()[_name])
    del globals()[_name]  # TF has them in tf.train only
del _name
# ---- end of the record input block ----
# ---- TF 1's process-level surface: tf.compat, tf.logging, tf.gfile, tf.app / tf.flags,
# behaviour switches, tf.nest, tf.make_template and deprecated aliases ----
from sessionlib import compat, nest
from sessionlib.framework.dimension import Dimension, dimension_at_index, dimension_value
from sessionlib.framework.graph import (GRAPH_DEF_VERSION,  # noqa: F401 - public constants
                                        GRAPH_DEF_VERSION_MIN_CONSUMER,
                                        GRAPH_DEF_VERSION_MIN_PRODUCER)
from sessionlib.framework.device_spec import DeviceSpec
from sessionlib.framework.tensor_util import make_ndarray, make_tensor_proto
from sessionlib.errors import OpError
from sessionlib.ops.gradients import NotDifferentiable as NoGradient
from sessionlib.ops.legacy_api import (AggregationMethod, UnconnectedGradients,
                                       all_variables, assert_variables_initialized, container,
                                       convert_to_tensor_or_indexed_slices,
                                       convert_to_tensor_or_sparse_tensor, get_static_value,
                                       initialize_local_variables, initialize_variables,
                                       is_tensor, op_scope, variable_op_scope)
from sessionlib.ops.template import make_template
from sessionlib.ops.debug_checks import assert_proper_iterable, assert_same_float_dtype
from sessionlib.ops import debug_checks as _debug_checks
from sessionlib.protos import GPUOptions, NameAttrList
from sessionlib.protos.meta_graph_pb2 import MetaGraphDef
from sessionlib.platform import app, flags, gfile as _gfile_lib
from sessionlib.platform import tf_logging as logging
from sessionlib.platform.modes import (control_flow_v2_enabled, disable_control_flow_v2,
                                       disable_eager_execution, disable_resource_variables,
                                       disable_tensor_equality, disable_v2_behavior,
                                       disable_v2_tensorshape, enable_control_flow_v2,
                                       enable_eager_execution, enable_resource_variables,
                                       enable_tensor_equality, enable_v2_behavior,
                                       enable_v2_tensorshape, executing_eagerly,
                                       executing_eagerly_outside_functions,
                                       resource_variables_enabled)
from sessionlib.platform.tf_logging import get_logger

gfile = _gfile_lib.gfile
io.gfile = _gfile_lib.io_gfile
for _name in ("assert_shapes", "assert_same_float_dtype", "assert_proper_iterable"):
    setattr(debugging, _name, getattr(_debug_checks, _name))
del _name
VERSION = __version__
# No git describe is recorded at build time (TF's own fallback value); the Cython extensions
# are built by the compiler that built this Python.
GIT_VERSION = "unknown"
COMPILER_VERSION = __import__("platform").python_compiler()
version = __import__("types").ModuleType("sessionlib.version", "Versions (``tf.version``).")
for _name in ("VERSION", "GIT_VERSION", "COMPILER_VERSION", "GRAPH_DEF_VERSION",
              "GRAPH_DEF_VERSION_MIN_CONSUMER", "GRAPH_DEF_VERSION_MIN_PRODUCER"):
    setattr(version, _name, globals()[_name])
del _name
# ---- end of the process-level block ----
# ---- string ops: tf.string_*, tf.substr, tf.regex_replace, base64, tf.strings ----
from sessionlib.ops import string_ops as _string_ops
from sessionlib.ops.string_ops import (as_string, decode_base64, encode_base64, regex_replace,
                                       string_join, string_split, string_strip,
                                       string_to_hash_bucket, string_to_hash_bucket_fast,
                                       string_to_hash_bucket_strong, string_to_number, substr)
for _name, _function in _string_ops.STRINGS_NAMESPACE.items():
    setattr(strings, _name, _function)
io.encode_base64 = encode_base64
io.decode_base64 = decode_base64
del _name, _function
# ---- end of the string ops block ----
# ---- SparseTensor ops: reorder, reshape, concat, slice, split, matmul, reductions ... ----
from sessionlib.framework.sparse_tensor import convert_to_tensor_or_sparse_tensor
from sessionlib.ops.sparse_manipulation_ops import (deserialize_many_sparse,
                                                    serialize_many_sparse, serialize_sparse,
                                                    sparse_concat, sparse_fill_empty_rows,
                                                    sparse_mask, sparse_merge,
                                                    sparse_reorder, sparse_reset_shape,
                                                    sparse_reshape, sparse_retain,
                                                    sparse_slice, sparse_split,
                                                    sparse_to_indicator, sparse_transpose)
from sessionlib.ops.sparse_math_ops import (sparse_matmul, sparse_maximum, sparse_minimum,
                                            sparse_reduce_max, sparse_reduce_max_sparse,
                                            sparse_reduce_sum_sparse,
                                            sparse_segment_mean, sparse_segment_sqrt_n,
                                            sparse_segment_sum, sparse_softmax,
                                            sparse_tensor_dense_matmul)
from sessionlib import sets
# ---- SavedModel: tf.saved_model (TF 1's builder, loader, signatures) ----
from sessionlib import saved_model
# ---- end of the SavedModel block ----
# ---- Python functions as ops: tf.py_func, tf.numpy_function, tf.py_function ----
from sessionlib.ops.script_ops import eager_py_func as py_function
from sessionlib.ops.script_ops import numpy_function, py_func
# ---- end of the Python function ops block ----
# ---- lookup tables: tf.lookup, tf.tables_initializer ----
from sessionlib import lookup
from sessionlib.ops.lookup_ops import initialize_all_tables, tables_initializer

initializers.tables_initializer = tables_initializer
# ---- end of the lookup tables block ----
# ---- queues and accumulators: tf.PaddingFIFOQueue, tf.PriorityQueue, tf.queue, tf.io ----
from sessionlib.ops.data_flow_ops import (ConditionalAccumulator, ConditionalAccumulatorBase,
                                          PaddingFIFOQueue, PriorityQueue,
                                          SparseConditionalAccumulator)
queue = __import__("types").ModuleType("sessionlib.queue", "TF 1's ``tf.queue``: the queues.")
for _name in ("FIFOQueue", "PaddingFIFOQueue", "PriorityQueue", "QueueBase",
              "RandomShuffleQueue"):
    setattr(queue, _name, globals()[_name])
    setattr(io, _name, globals()[_name])
del _name
# ---- end of the queues and accumulators block ----
# ---- small ops: count_up_to, saturate_cast, clip_by_average_norm, get_seed & co. ----
from sessionlib.ops.clip_ops import clip_by_average_norm
from sessionlib.ops.input_ops import count_up_to
from sessionlib.ops.math_ops import saturate_cast
from sessionlib.ops.random_ops import get_seed, random_gamma, random_poisson
dtypes.saturate_cast = saturate_cast  # tf.dtypes.saturate_cast
random.get_seed = get_seed  # tf.random.get_seed
random.gamma, random.poisson = random_gamma, random_poisson  # TF 1's argument orders
# ---- end of the small ops block ----
# ---- control flow and gradient extras: switch_case, custom_gradient, grad_pass_through ----
from sessionlib.ops.cond_v2 import switch_case
from sessionlib.ops.custom_gradient import custom_gradient, grad_pass_through
# ---- end of the control flow and gradient extras block ----
# ---- linear algebra extras: matrix_square_root, matrix_solve_ls ----
from sessionlib.ops.linalg_ops import matrix_solve_ls, matrix_square_root
# ---- end of the linear algebra extras block ----
# ---- array extras: required_space_to_batch_paddings ----
from sessionlib.ops.array_extra_ops import (extract_volume_patches,
                                            required_space_to_batch_paddings)
from sessionlib.ops.partitioned_variables import create_partitioned_variables
# ---- end of the array extras block ----
# ---- gaps between the namespaces: tf.nn compositions, sparse embeddings, image metrics,
# tf.io's sparse serialization and tf.math.invert_permutation ----
from sessionlib.ops import nn_extra_ops as _nn_extra_ops
for _name in _nn_extra_ops.__all__:
    setattr(nn, _name, getattr(_nn_extra_ops, _name))
from sessionlib.ops.embedding_sparse_ops import (embedding_lookup_sparse,
                                                 safe_embedding_lookup_sparse)
nn.embedding_lookup_sparse = embedding_lookup_sparse
nn.safe_embedding_lookup_sparse = safe_embedding_lookup_sparse
from sessionlib.ops import nn_dilation_ops as _nn_dilation_ops
nn.dilation2d, nn.erosion2d = _nn_dilation_ops.dilation2d, _nn_dilation_ops.erosion2d
del embedding_lookup_sparse, safe_embedding_lookup_sparse  # tf.nn only, as in TF
io.serialize_sparse = serialize_sparse
io.serialize_many_sparse = serialize_many_sparse
io.deserialize_many_sparse = deserialize_many_sparse
math.invert_permutation = invert_permutation
from sessionlib.ops import image_metrics_ops as _image_metrics_ops
for _name in _image_metrics_ops.__all__:
    setattr(image, _name, getattr(_image_metrics_ops, _name))
io.is_jpeg = _image_metrics_ops.is_jpeg
from sessionlib.ops.image_resize_extra_ops import resize_area as _resize_area
from sessionlib.ops.image_resize_extra_ops import resize_bicubic as _resize_bicubic
image.resize_area, image.resize_bicubic = _resize_area, _resize_bicubic
from sessionlib.ops import image_nms_extra_ops as _image_nms_extra_ops
for _name in _image_nms_extra_ops.__all__:
    setattr(image, _name, getattr(_image_nms_extra_ops, _name))
nn.approx_max_k, nn.approx_min_k = math.approx_max_k, math.approx_min_k
del _name
# ---- end of the gaps block ----
