"""Parsing of serialized records: ``tf.train.Example`` protos, CSV lines, raw bytes, tensors.

Ops registered here: ``ParseExampleV2`` and ``ParseSequenceExampleV2`` (what TF 2.21's
``tf.compat.v1`` parse functions emit; a scalar ``serialized`` parses one example without a
batch dimension, which is how the ``parse_single_*`` functions use them),
``ParseSingleSequenceExample`` (TF 1's op: no function here emits it, but TF 1 GraphDefs
hold it), ``DecodeRaw``, ``DecodeCSV``, ``SerializeTensor`` and ``ParseTensor``. Ragged
features (the ops' ragged keys) are not supported: `tf.io.RaggedFeature` is not provided.

Feature configurations (`FixedLenFeature`, `VarLenFeature`, `FixedLenSequenceFeature`,
`SparseFeature`) are TF's namedtuples. Features are passed to the ops sorted by key, as TF
does, so output ``i`` of an op means the same feature in both libraries.

The kernels (``runtime/kernels/parsing_kernels.py``) decode with the protobuf runtime and
numpy; this module names them and never imports them.
"""

import collections

import numpy as np

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework import registry
from sessionlib.framework.sparse_tensor import SparseTensor
from sessionlib.framework.tensor_shape import TensorShape, as_shape
from sessionlib.ops import _infer

__all__ = ["FixedLenFeature", "VarLenFeature", "FixedLenSequenceFeature", "SparseFeature",
           "parse_example", "parse_single_example", "parse_single_sequence_example",
           "parse_sequence_example",
           "decode_raw", "decode_csv", "serialize_tensor", "parse_tensor"]

# The dtypes an Example feature can hold: its three list kinds.
_FEATURE_DTYPES = (dtypes.float32, dtypes.int64, dtypes.string)


# ---- feature configurations -------------------------------------------------------------------

class VarLenFeature(collections.namedtuple("VarLenFeature", ["dtype"])):
    """A feature of any number of values per example, parsed into a `SparseTensor`.

    Args:
      dtype: tf.float32, tf.int64 or tf.string.
    """


class FixedLenFeature(collections.namedtuple(
        "FixedLenFeature", ["shape", "dtype", "default_value"])):
    """A feature of a fixed shape, parsed into a dense `Tensor`.

    Args:
      shape: the shape of one example's value (its value count is the shape's size).
      dtype: tf.float32, tf.int64 or tf.string.
      default_value: the value used where an example lacks the feature; without one, a
        missing feature is an error (InvalidArgumentError when run).
    """

    def __new__(cls, shape, dtype, default_value=None):
        return super().__new__(cls, shape, dtype, default_value)


class FixedLenSequenceFeature(collections.namedtuple(
        "FixedLenSequenceFeature", ["shape", "dtype", "allow_missing", "default_value"])):
    """A feature of any number of items of a fixed shape, parsed into a dense `Tensor`
    padded (with `default_value`, or zero / empty) to the longest in the batch.

    Args:
      shape: the shape of one item.
      dtype: tf.float32, tf.int64 or tf.string.
      allow_missing: whether an example may lack the feature; `parse_example` requires True.
      default_value: the padding scalar.
    """

    def __new__(cls, shape, dtype, allow_missing=False, default_value=None):
        return super().__new__(cls, shape, dtype, allow_missing, default_value)


class SparseFeature(collections.namedtuple(
        "SparseFeature", ["index_key", "value_key", "dtype", "size", "already_sorted"])):
    """A sparse feature stored as an index feature (or several) and a value feature.

    Args:
      index_key: the int64 feature of indices, or a list of them (one per dimension).
      value_key: the feature of values.
      dtype: the values' dtype.
      size: the dense size (an int, or a list of ints, one per index key).
      already_sorted: whether the indices are already sorted (they are sorted otherwise).
    """

    def __new__(cls, index_key, value_key, dtype, size, already_sorted=False):
        return super().__new__(cls, index_key, value_key, dtype, size, already_sorted)


# ---- ParseExampleV2 -------------------------------------------------------------------------

def _feature_dtype_list(op_type, name, values):
    types = [dtypes.as_dtype(t) for t in values]
    for dtype in types:
        if dtype not in _FEATURE_DTYPES:
            raise TypeError(f"Value passed to parameter '{name}' has DataType {dtype.name} not "
                            "in list of allowed values: float32, int64, string "
                            f"(op {op_type})")
    return types


def _dense_output_shape(batch_shape, dense_shape):
    shape = as_shape(dense_shape)
    return TensorShape(list(batch_shape) + (shape.as_list() if shape.rank else []))


def _checked_serialized(op_type, serialized):
    """`serialized`, checked to be a string scalar or vector."""
    _infer.check_dtype(op_type, serialized, (dtypes.string,), "serialized")
    if serialized.shape.rank not in (None, 0, 1):
        raise ValueError(f"Shape must be at most rank 1 but is rank {serialized.shape.rank} "
                         f"for '{op_type}' (serialized)")
    return serialized


def _parse_example_infer(inputs, attrs):
    serialized = _checked_serialized("ParseExampleV2", inputs[0])
    num_sparse = int(attrs.get("num_sparse", 0))
    attrs["num_sparse"] = num_sparse
    sparse_types = _feature_dtype_list("ParseExampleV2", "sparse_types",
                                       attrs.get("sparse_types", []))
    dense_types = _feature_dtype_list("ParseExampleV2", "Tdense", attrs.get("Tdense", []))
    attrs["sparse_types"], attrs["Tdense"] = sparse_types, dense_types
    attrs["dense_shapes"] = [as_shape(s) for s in attrs.get("dense_shapes", [])]
    if attrs.get("ragged_value_types") or attrs.get("ragged_split_types"):
        raise NotImplementedError("ParseExampleV2: ragged features are not supported")
    attrs["ragged_value_types"], attrs["ragged_split_types"] = [], []
    if len(sparse_types) != num_sparse:
        raise ValueError("ParseExampleV2: len(sparse_types) must equal num_sparse")
    if len(attrs["dense_shapes"]) != len(dense_types) or len(inputs) != 5 + len(dense_types):
        raise ValueError("ParseExampleV2 needs one dense shape and default per dense key")
    for default, dtype in zip(inputs[5:], dense_types):
        if default.dtype is not dtype:
            raise TypeError(f"ParseExampleV2: a dense default of {default.dtype.name} for a "
                            f"{dtype.name} feature")
    rank = serialized.shape.rank if serialized.shape.rank is not None else 1
    batch = serialized.shape.as_list() if serialized.shape.rank is not None else [None]
    outputs = [(dtypes.int64, TensorShape([None, rank + 1]))] * num_sparse
    outputs += [(dtype, TensorShape([None])) for dtype in sparse_types]
    outputs += [(dtypes.int64, TensorShape([rank + 1]))] * num_sparse
    outputs += [(dtype, _dense_output_shape(batch, shape))
                for dtype, shape in zip(dense_types, attrs["dense_shapes"])]
    return outputs


registry.register_op("ParseExampleV2", infer=_parse_example_infer, kernel="ParseExampleV2",
                     gradient=registry.NOT_DIFFERENTIABLE,
                     doc="Serialized tf.train.Example protos parsed into dense and sparse "
                         "tensors.")


def _parse_example_v1_infer(inputs, attrs):
    """TF 1's ParseExample: keys are scalar inputs (Nsparse, then Ndense), then defaults."""
    num_sparse, num_dense = int(attrs.get("Nsparse", 0)), int(attrs.get("Ndense", 0))
    attrs["Nsparse"], attrs["Ndense"] = num_sparse, num_dense
    if len(inputs) != 2 + num_sparse + 2 * num_dense:
        raise ValueError("ParseExample takes serialized, names, the keys and the defaults")
    attrs.update(num_sparse=num_sparse, ragged_value_types=[], ragged_split_types=[])
    outputs = _parse_example_infer([inputs[0], inputs[1], inputs[0], inputs[0], inputs[0]]
                                   + list(inputs[2 + num_sparse + num_dense:]), attrs)
    del attrs["num_sparse"], attrs["ragged_value_types"], attrs["ragged_split_types"]
    return outputs


def _parse_single_example_infer(inputs, attrs):
    """TF 1's ParseSingleExample: keys are attrs, the defaults the inputs after serialized."""
    if inputs[0].shape.rank not in (None, 0):
        raise ValueError(f"Shape must be rank 0 but is rank {inputs[0].shape.rank} for "
                         "'ParseSingleExample' (serialized)")
    attrs["sparse_keys"] = list(attrs.get("sparse_keys", []))
    attrs["dense_keys"] = list(attrs.get("dense_keys", []))
    attrs["num_sparse"] = len(attrs["sparse_keys"])
    attrs.update(ragged_value_types=[], ragged_split_types=[])
    outputs = _parse_example_infer([inputs[0]] * 5 + list(inputs[1:]), attrs)
    del attrs["ragged_value_types"], attrs["ragged_split_types"]
    return outputs


# TF 1's Example parsing ops: no function here emits them, but TF 1 GraphDefs hold them.
registry.register_op("ParseExample", infer=_parse_example_v1_infer, kernel="ParseExample",
                     gradient=registry.NOT_DIFFERENTIABLE,
                     doc="TF 1's batch Example parsing op (keys as scalar inputs).")
registry.register_op("ParseSingleExample", infer=_parse_single_example_infer,
                     kernel="ParseSingleExample", gradient=registry.NOT_DIFFERENTIABLE,
                     doc="TF 1's single Example parsing op (keys as attrs).")


def _check_features(features):
    if not features:
        raise ValueError(f"Argument `features` cannot be None or falsy. Got {features}")


def _dense_default(graph, key, feature):
    """The dense default input of a Fixed/FixedLenSequence feature, as TF builds it: the
    default reshaped to the feature's shape (empty: required), or the padding scalar."""
    np_dtype = feature.dtype.as_numpy_dtype if feature.dtype is not dtypes.string else object
    if isinstance(feature, FixedLenSequenceFeature):
        if feature.default_value is None:
            value = np.array(b"" if feature.dtype is dtypes.string else 0, dtype=np_dtype)
            return graph_lib.convert_to_tensor(value, dtype=feature.dtype,
                                               name=f"padding_{key}")
        return graph_lib.convert_to_tensor(feature.default_value, dtype=feature.dtype,
                                           name=f"padding_{key}")
    if feature.default_value is None:
        return graph_lib.convert_to_tensor(np.zeros([0], dtype=np_dtype), dtype=feature.dtype,
                                           name=f"key_{key}")
    default = graph_lib.convert_to_tensor(feature.default_value, dtype=feature.dtype,
                                          name=f"key_{key}")
    shape = as_shape(feature.shape).as_list()
    if default.shape.is_fully_defined() and \
            int(np.prod(default.shape.as_list())) != int(np.prod(shape)):
        raise ValueError(f"Cannot reshape a tensor with {int(np.prod(default.shape.as_list()))}"
                         f" elements to shape {shape} ({int(np.prod(shape))} elements) for "
                         f"the default value of feature {key}")
    from sessionlib.ops import array_ops

    return array_ops.reshape(default, shape)


def _split_features(features):
    """(sparse [(key, VarLenFeature)], dense [(key, feature)], sparse_features) sorted by key;
    a SparseFeature adds VarLen features for its index and value keys."""
    sparse, dense, combined = {}, {}, {}
    for key in sorted(features):
        feature = features[key]
        if isinstance(feature, VarLenFeature):
            _feature_dtype_list("ParseExampleV2", "sparse_types", [feature.dtype])
            sparse[key] = VarLenFeature(dtypes.as_dtype(feature.dtype))
        elif isinstance(feature, SparseFeature):
            index_keys = ([feature.index_key] if isinstance(feature.index_key, str)
                          else list(feature.index_key))
            for index_key in index_keys:
                sparse[index_key] = VarLenFeature(dtypes.int64)
            sparse[feature.value_key] = VarLenFeature(dtypes.as_dtype(feature.dtype))
            combined[key] = (index_keys, feature)
        elif isinstance(feature, (FixedLenFeature, FixedLenSequenceFeature)):
            dense[key] = _checked_dense(key, feature)
        else:
            raise ValueError(f"Unsupported feature type for key {key}: {feature!r}")
    return sorted(sparse.items()), sorted(dense.items()), combined


def _checked_dense(key, feature):
    if feature.shape is None:
        raise ValueError(f"Missing shape for feature {key}. Received feature={feature!r}.")
    shape = as_shape(feature.shape)
    if isinstance(feature, FixedLenFeature):
        if shape.rank is None or not shape.is_fully_defined():
            if shape.rank and shape.as_list()[0] is None:
                raise ValueError(f"First dimension of shape for feature {key} unknown. "
                                 "Consider using FixedLenSequenceFeature. Received "
                                 f"feature={feature!r}.")
            raise ValueError(f"All dimensions of shape for feature {key} need to be known "
                             f"but received {shape}.")
    elif not shape.is_fully_defined():
        raise ValueError(f"All dimensions of shape for feature {key} need to be known but "
                         f"received {shape}.")
    _feature_dtype_list("ParseExampleV2", "Tdense", [feature.dtype])
    return feature._replace(dtype=dtypes.as_dtype(feature.dtype))


def _string_vector(graph, values, name):
    array = np.empty(len(values), dtype=object)
    array[:] = [v.encode() if isinstance(v, str) else bytes(v) for v in values]
    return graph_lib.convert_to_tensor(array, dtype=dtypes.string, name=name)


def _parse_example_raw(serialized, features, example_names, name, default_name):
    """Builds one ParseExampleV2 and returns {key: Tensor or SparseTensor}."""
    _check_features(features)
    sparse, dense, combined = _split_features(features)
    graph = graph_lib.get_default_graph()
    with graph.name_scope(name or default_name):
        serialized = graph_lib.convert_to_tensor(serialized, dtype=dtypes.string,
                                                 name="serialized")
        defaults = [_dense_default(graph, key, feature) for key, feature in dense]
        with graph.name_scope("ParseExampleV2") as scope:
            names = _string_vector(graph, list(example_names or []), "names")
            sparse_keys = _string_vector(graph, [k for k, _ in sparse], "sparse_keys")
            dense_keys = _string_vector(graph, [k for k, _ in dense], "dense_keys")
            ragged_keys = _string_vector(graph, [], "ragged_keys")
            dense_shapes = [
                TensorShape([None] + as_shape(f.shape).as_list())
                if isinstance(f, FixedLenSequenceFeature) else as_shape(f.shape)
                for _, f in dense]
            attrs = {"num_sparse": len(sparse), "sparse_types": [f.dtype for _, f in sparse],
                     "Tdense": [f.dtype for _, f in dense], "dense_shapes": dense_shapes,
                     "ragged_value_types": [], "ragged_split_types": []}
            op = graph.create_op("ParseExampleV2",
                                 [serialized, names, sparse_keys, dense_keys, ragged_keys]
                                 + defaults, attrs, name=scope)
    count = len(sparse)
    outputs = op.outputs
    result = {}
    for i, (key, _) in enumerate(sparse):
        result[key] = SparseTensor(outputs[i], outputs[count + i], outputs[2 * count + i])
    for i, (key, _) in enumerate(dense):
        result[key] = outputs[3 * count + i]
    for key, (index_keys, feature) in combined.items():
        result[key] = _combine_sparse_feature(result, index_keys, feature)
    for key in list(result):
        if key not in features:
            del result[key]
    return result


def _combine_sparse_feature(parsed, index_keys, feature):
    """The SparseTensor of a SparseFeature, from its parsed index and value features."""
    from sessionlib.ops import array_ops

    values = parsed[feature.value_key]
    sizes = [feature.size] if isinstance(feature.size, int) else list(feature.size)
    if len(sizes) != len(index_keys):
        raise ValueError("SparseFeature needs one size per index key")
    batch_columns = values.indices[:, :-1]
    columns = [batch_columns] + [
        array_ops.reshape(parsed[index_key].values, [-1, 1]) for index_key in index_keys]
    indices = array_ops.concat(columns, 1)
    batch_shape = values.dense_shape[:-1]
    dense_shape = array_ops.concat(
        [batch_shape, graph_lib.convert_to_tensor(np.array(sizes, dtype=np.int64))], 0)
    result = SparseTensor(indices, values.values, dense_shape)
    if not feature.already_sorted:
        reorder = sparse_reorder_function()
        if reorder is None:
            raise NotImplementedError("SparseFeature(already_sorted=False) needs "
                                      "tf.sparse.reorder, which sessionlib lacks")
        result = reorder(result)
    return result


def sparse_reorder_function():
    """``tf.sparse.reorder`` where this build has it (its module is optional), else None."""
    import importlib

    for module_name in ("sessionlib.ops.sparse_manipulation_ops", "sessionlib.ops.sparse_ops"):
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        if getattr(module, "sparse_reorder", None) is not None:
            return module.sparse_reorder
    return None


def parse_example(serialized, features, name=None, example_names=None):
    """Parses a batch of serialized `Example` protos (``tf.io.parse_example``).

    Args:
      serialized: a 1-D string tensor of serialized `Example` protos.
      features: a dict from feature key to `FixedLenFeature`, `VarLenFeature`,
        `FixedLenSequenceFeature` (allow_missing=True) or `SparseFeature`.
      name: the op name.
      example_names: optional names of the examples, for error messages.

    Returns:
      A dict from key to a `Tensor` (dense features: ``[batch] + shape``) or a `SparseTensor`
      (VarLen features: indices ``[N, 2]``, dense_shape ``[batch, longest]``).

    Raises:
      ValueError: for an empty `features`, a feature without a (known) shape, or a
        FixedLenSequenceFeature without allow_missing.
      TypeError: for a dtype other than float32, int64 or string.
    """
    _check_features(features)
    for feature in features.values():
        if isinstance(feature, FixedLenSequenceFeature) and not feature.allow_missing:
            raise ValueError("Unsupported: FixedLenSequenceFeature requires allow_missing to "
                             "be True.")
    return _parse_example_raw(serialized, features, example_names, name, "ParseExample")


def _scalar_serialized(serialized):
    serialized = graph_lib.convert_to_tensor(serialized, dtype=dtypes.string,
                                             name="serialized")
    if serialized.shape.rank not in (None, 0):
        raise ValueError(f"Input serialized must be a scalar, not of shape {serialized.shape}")
    return serialized


def parse_single_example(serialized, features, name=None, example_names=None):
    """Parses one serialized `Example` (``tf.io.parse_single_example``).

    Args:
      serialized: a scalar string tensor.
      features: as for `parse_example`.
      name: the op name.
      example_names: optional scalar name of the example, for error messages.

    Returns:
      A dict from key to a `Tensor` of the feature's shape or a `SparseTensor` with 1-D
      indices rows.

    Raises:
      ValueError, TypeError: as `parse_example`.
    """
    _check_features(features)
    if example_names is not None and not isinstance(example_names, (list, tuple)):
        example_names = [example_names]
    graph = graph_lib.get_default_graph()
    with graph.name_scope(name or "ParseSingleExample"):
        serialized = _scalar_serialized(serialized)
        return _parse_example_raw(serialized, features, example_names, None, "ParseExample")


# ---- ParseSingleSequenceExample --------------------------------------------------------------

def _sequence_infer(inputs, attrs):
    _infer.check_dtype("ParseSingleSequenceExample", inputs[0], (dtypes.string,), "serialized")
    counts = {}
    for attr in ("Ncontext_sparse", "Ncontext_dense", "Nfeature_list_sparse",
                 "Nfeature_list_dense"):
        counts[attr] = int(attrs.get(attr, 0))
        attrs[attr] = counts[attr]
    for attr in ("context_sparse_types", "Tcontext_dense", "feature_list_sparse_types",
                 "feature_list_dense_types"):
        attrs[attr] = _feature_dtype_list("ParseSingleSequenceExample", attr,
                                          attrs.get(attr, []))
    for attr in ("context_dense_shapes", "feature_list_dense_shapes"):
        attrs[attr] = [as_shape(s) for s in attrs.get(attr, [])]
    expected = (2 + counts["Ncontext_sparse"] + counts["Ncontext_dense"]
                + counts["Nfeature_list_sparse"] + counts["Nfeature_list_dense"]
                + counts["Ncontext_dense"] + 1)
    if len(inputs) != expected:
        raise ValueError(f"ParseSingleSequenceExample takes {expected} inputs, got "
                         f"{len(inputs)}")
    return _sequence_output_specs(attrs, [], with_lengths=False)


registry.register_op("ParseSingleSequenceExample", infer=_sequence_infer,
                     kernel="ParseSingleSequenceExample", gradient=registry.NOT_DIFFERENTIABLE,
                     doc="One serialized tf.train.SequenceExample parsed into context and "
                         "feature-list tensors.")


def _sequence_v2_infer(inputs, attrs):
    serialized = _checked_serialized("ParseSequenceExampleV2", inputs[0])
    for attr in ("Ncontext_sparse", "Nfeature_list_sparse", "Nfeature_list_dense"):
        attrs[attr] = int(attrs.get(attr, 0))
    for attr in ("context_sparse_types", "Tcontext_dense", "feature_list_sparse_types",
                 "feature_list_dense_types"):
        attrs[attr] = _feature_dtype_list("ParseSequenceExampleV2", attr, attrs.get(attr, []))
    for attr in ("context_dense_shapes", "feature_list_dense_shapes"):
        attrs[attr] = [as_shape(s) for s in attrs.get(attr, [])]
    for attr in ("context_ragged_value_types", "context_ragged_split_types",
                 "feature_list_ragged_value_types", "feature_list_ragged_split_types"):
        if attrs.get(attr):
            raise NotImplementedError("ParseSequenceExampleV2: ragged features are not "
                                      "supported")
        attrs[attr] = []
    if len(inputs) != 9 + len(attrs["Tcontext_dense"]):
        raise ValueError("ParseSequenceExampleV2 needs one default per context dense key")
    batched = serialized.shape.rank != 0
    batch = (serialized.shape.as_list() if serialized.shape.rank is not None else [None]) \
        if batched else []
    return _sequence_output_specs(attrs, batch, with_lengths=True)


def _sequence_output_specs(attrs, batch, with_lengths):
    """(dtype, shape) of the sequence parsing ops' outputs, for `batch` (a list: [] for one
    example): context sparse triples and dense values, feature-list sparse triples and dense
    values, and (ParseSequenceExampleV2) the dense feature lists' lengths."""
    rank = len(batch)
    num_context_sparse = len(attrs["context_sparse_types"])
    num_list_sparse = len(attrs["feature_list_sparse_types"])
    outputs = [(dtypes.int64, TensorShape([None, rank + 1]))] * num_context_sparse
    outputs += [(t, TensorShape([None])) for t in attrs["context_sparse_types"]]
    outputs += [(dtypes.int64, TensorShape([rank + 1]))] * num_context_sparse
    outputs += [(t, TensorShape(batch + as_shape(s).as_list()))
                for t, s in zip(attrs["Tcontext_dense"], attrs["context_dense_shapes"])]
    outputs += [(dtypes.int64, TensorShape([None, rank + 2]))] * num_list_sparse
    outputs += [(t, TensorShape([None])) for t in attrs["feature_list_sparse_types"]]
    outputs += [(dtypes.int64, TensorShape([rank + 2]))] * num_list_sparse
    outputs += [(t, TensorShape(batch + [None] + as_shape(s).as_list()))
                for t, s in zip(attrs["feature_list_dense_types"],
                                attrs["feature_list_dense_shapes"])]
    if with_lengths:
        outputs += [(dtypes.int64, TensorShape(batch))] * len(attrs["feature_list_dense_types"])
    return outputs


registry.register_op("ParseSequenceExampleV2", infer=_sequence_v2_infer,
                     kernel="ParseSequenceExampleV2", gradient=registry.NOT_DIFFERENTIABLE,
                     doc="Serialized tf.train.SequenceExample protos parsed into context and "
                         "feature-list tensors.")


def _split_by_kind(features, dense_class, what):
    """([(key, dtype)] of the VarLen features, [(key, feature)] of the `dense_class` ones),
    sorted by key."""
    sparse, dense = [], []
    for key in sorted(features):
        feature = features[key]
        if isinstance(feature, VarLenFeature):
            sparse.append((key, dtypes.as_dtype(feature.dtype)))
        elif isinstance(feature, dense_class):
            dense.append((key, _checked_dense(key, feature)))
        else:
            raise ValueError(f"Unsupported {what} feature type for key {key}: {feature!r}")
    return sparse, dense


def _split_sequence_features(context_features, sequence_features):
    context_features = dict(context_features or {})
    sequence_features = dict(sequence_features or {})
    if not context_features and not sequence_features:
        raise ValueError("Missing features.")
    context_sparse, context_dense = _split_by_kind(context_features, FixedLenFeature,
                                                   "context")
    sequence_sparse, sequence_dense = _split_by_kind(sequence_features,
                                                     FixedLenSequenceFeature, "sequence")
    _feature_dtype_list("ParseSequenceExampleV2", "sparse_types",
                        [t for _, t in context_sparse + sequence_sparse])
    return context_sparse, context_dense, sequence_sparse, sequence_dense


def _parse_sequence_raw(serialized, context_features, sequence_features, example_names,
                        name, default_name):
    """Builds one ParseSequenceExampleV2; returns (context, sequences, lengths) dicts."""
    context_sparse, context_dense, sequence_sparse, sequence_dense = \
        _split_sequence_features(context_features, sequence_features)
    graph = graph_lib.get_default_graph()
    with graph.name_scope(name or default_name):
        serialized = graph_lib.convert_to_tensor(serialized, dtype=dtypes.string,
                                                 name="serialized")
        defaults = [_dense_default(graph, key, f) for key, f in context_dense]
        with graph.name_scope("ParseSequenceExampleV2") as scope:
            names = list(example_names or [])
            missing_ok = graph_lib.convert_to_tensor(
                np.array([f.allow_missing for _, f in sequence_dense], dtype=bool),
                dtype=dtypes.bool, name="feature_list_dense_missing_assumed_empty")
            inputs = [serialized, _string_vector(graph, names, "debug_name"),
                      _string_vector(graph, [k for k, _ in context_sparse],
                                     "context_sparse_keys"),
                      _string_vector(graph, [k for k, _ in context_dense], "context_dense_keys"),
                      _string_vector(graph, [], "context_ragged_keys"),
                      _string_vector(graph, [k for k, _ in sequence_sparse],
                                     "feature_list_sparse_keys"),
                      _string_vector(graph, [k for k, _ in sequence_dense],
                                     "feature_list_dense_keys"),
                      _string_vector(graph, [], "feature_list_ragged_keys"),
                      missing_ok] + defaults
            attrs = {"Ncontext_sparse": len(context_sparse),
                     "Nfeature_list_sparse": len(sequence_sparse),
                     "Nfeature_list_dense": len(sequence_dense),
                     "context_sparse_types": [t for _, t in context_sparse],
                     "Tcontext_dense": [f.dtype for _, f in context_dense],
                     "context_dense_shapes": [as_shape(f.shape) for _, f in context_dense],
                     "feature_list_sparse_types": [t for _, t in sequence_sparse],
                     "feature_list_dense_types": [f.dtype for _, f in sequence_dense],
                     "feature_list_dense_shapes": [as_shape(f.shape)
                                                   for _, f in sequence_dense],
                     "context_ragged_value_types": [], "context_ragged_split_types": [],
                     "feature_list_ragged_value_types": [],
                     "feature_list_ragged_split_types": []}
            op = graph.create_op("ParseSequenceExampleV2", inputs, attrs, name=scope)
    outputs = list(op.outputs)

    def take(count):
        taken = outputs[:count]
        del outputs[:count]
        return taken

    def sparse_dict(pairs):
        indices, values, shapes = take(len(pairs)), take(len(pairs)), take(len(pairs))
        return {key: SparseTensor(i, v, s)
                for (key, _), i, v, s in zip(pairs, indices, values, shapes)}

    context = sparse_dict(context_sparse)
    context.update(zip([k for k, _ in context_dense], take(len(context_dense))))
    sequences = sparse_dict(sequence_sparse)
    sequences.update(zip([k for k, _ in sequence_dense], take(len(sequence_dense))))
    lengths = dict(zip([k for k, _ in sequence_dense], take(len(sequence_dense))))
    return context, sequences, lengths


def parse_single_sequence_example(serialized, context_features=None, sequence_features=None,
                                  example_name=None, name=None):
    """Parses one serialized `SequenceExample` (``tf.io.parse_single_sequence_example``).

    Args:
      serialized: a scalar string tensor.
      context_features: a dict of `FixedLenFeature` / `VarLenFeature` for the context.
      sequence_features: a dict of `FixedLenSequenceFeature` / `VarLenFeature` for the
        feature lists.
      example_name: optional scalar name, for error messages.
      name: the op name.

    Returns:
      (context, sequences): two dicts from key to `Tensor` or `SparseTensor`. A dense
      sequence feature is ``[steps] + shape``; a VarLen one has indices ``[N, 2]``.

    Raises:
      ValueError: when both dicts are empty, or for a feature of the wrong kind or shape.
      TypeError: for a dtype other than float32, int64 or string.
    """
    graph = graph_lib.get_default_graph()
    with graph.name_scope(name or "ParseSingleSequenceExample"):
        serialized = _scalar_serialized(serialized)
        names = None if example_name is None else [example_name]
        context, sequences, _ = _parse_sequence_raw(serialized, context_features,
                                                    sequence_features, names, None,
                                                    "ParseSequenceExample")
    return context, sequences


def parse_sequence_example(serialized, context_features=None, sequence_features=None,
                           example_names=None, name=None):
    """Parses a batch of serialized `SequenceExample` protos (``tf.io.parse_sequence_example``).

    Args:
      serialized: a 1-D string tensor.
      context_features: a dict of `FixedLenFeature` / `VarLenFeature` for the contexts.
      sequence_features: a dict of `FixedLenSequenceFeature` / `VarLenFeature` for the
        feature lists.
      example_names: optional names of the examples, for error messages.
      name: the op name.

    Returns:
      (context, sequences, lengths): dicts from key to `Tensor` / `SparseTensor`. Dense
      feature lists are ``[batch, longest] + shape``, padded with zeros (empty strings);
      `lengths` holds each dense feature list's per-example step count.

    Raises:
      ValueError: when both dicts are empty, or for a feature of the wrong kind or shape.
      TypeError: for a dtype other than float32, int64 or string.
    """
    graph = graph_lib.get_default_graph()
    with graph.name_scope(name or "ParseSequenceExample"):
        return _parse_sequence_raw(serialized, context_features, sequence_features,
                                   example_names, None, "ParseSequenceExample")


# ---- DecodeRaw --------------------------------------------------------------------------------

_RAW_DTYPES = (dtypes.float16, dtypes.float32, dtypes.float64, dtypes.int32, dtypes.uint8,
               dtypes.int16, dtypes.int8, dtypes.int64, dtypes.bool)


def _decode_raw_infer(inputs, attrs):
    _infer.check_dtype("DecodeRaw", inputs[0], (dtypes.string,), "bytes")
    out_type = dtypes.as_dtype(attrs["out_type"])
    if out_type not in _RAW_DTYPES:
        raise TypeError(f"Value for attr 'out_type' of {out_type.name} is not in the list of "
                        "allowed values (op DecodeRaw)")
    attrs["out_type"] = out_type
    attrs["little_endian"] = bool(attrs.get("little_endian", True))
    shape = inputs[0].shape
    if shape.rank is None:
        return [(out_type, TensorShape(None))]
    return [(out_type, TensorShape(shape.as_list() + [None]))]


registry.register_op("DecodeRaw", infer=_decode_raw_infer, num_inputs=1,
                     gradient=registry.NOT_DIFFERENTIABLE,
                     doc="The bytes of strings reinterpreted as numbers.")


def decode_raw(input_bytes=None, out_type=None, little_endian=True, name=None, bytes=None):
    """Reinterprets the bytes of strings as a vector of numbers each (``tf.io.decode_raw``).

    Args:
      input_bytes: a string tensor; every string must have the same length, a multiple of
        the size of `out_type`.
      out_type: the dtype of the numbers.
      little_endian: whether the bytes are little-endian (ignored for one-byte types).
      name: the op name.
      bytes: TF 1's deprecated spelling of `input_bytes`.

    Returns:
      A tensor of `out_type` of shape ``input_bytes.shape + [length / itemsize]``.

    Raises:
      ValueError: when both or neither of `input_bytes` and `bytes` are given.
      TypeError: for a dtype DecodeRaw does not produce.
    """
    if (input_bytes is None) == (bytes is None):
        raise ValueError("Exactly one of `input_bytes` and `bytes` must be given")
    if out_type is None:
        raise ValueError("decode_raw needs an out_type")
    source = input_bytes if input_bytes is not None else bytes
    graph = graph_lib.get_default_graph()
    with graph.name_scope(name or "DecodeRaw") as scope:
        source = graph_lib.convert_to_tensor(source, dtype=dtypes.string, name="bytes")
        return graph.create_op("DecodeRaw", [source],
                               {"out_type": dtypes.as_dtype(out_type),
                                "little_endian": bool(little_endian)},
                               name=scope).outputs[0]


# ---- DecodeCSV -------------------------------------------------------------------------------

_CSV_DTYPES = (dtypes.float32, dtypes.float64, dtypes.int32, dtypes.int64, dtypes.string)


def _decode_csv_infer(inputs, attrs):
    records, defaults = inputs[0], inputs[1:]
    _infer.check_dtype("DecodeCSV", records, (dtypes.string,), "records")
    for default in defaults:
        _infer.check_dtype("DecodeCSV", default, _CSV_DTYPES, "record_defaults")
        if default.shape.rank is not None and default.shape.rank > 1:
            raise ValueError(f"Shape must be at most rank 1 but is rank {default.shape.rank} "
                             "for 'DecodeCSV' (record_defaults)")
    attrs["OUT_TYPE"] = [d.dtype for d in defaults]
    delim = attrs.get("field_delim", ",")
    if len(delim) != 1:
        raise ValueError("field_delim should be only 1 char")
    attrs["field_delim"] = delim
    attrs["use_quote_delim"] = bool(attrs.get("use_quote_delim", True))
    attrs["na_value"] = attrs.get("na_value", "")
    attrs["select_cols"] = [int(c) for c in attrs.get("select_cols", [])]
    return [(d.dtype, records.shape) for d in defaults]


registry.register_op("DecodeCSV", infer=_decode_csv_infer, gradient=registry.NOT_DIFFERENTIABLE,
                     doc="CSV records split into typed columns.")


def decode_csv(records, record_defaults, field_delim=",", use_quote_delim=True, name=None,
               na_value="", select_cols=None):
    """Splits CSV records into one tensor per column (``tf.io.decode_csv``).

    Args:
      records: a string tensor, one record (line) per element.
      record_defaults: one tensor per column: a one-element default, or an empty tensor for
        a required column; its dtype (float32, float64, int32, int64, string) is the column's.
      field_delim: the one-character field delimiter.
      use_quote_delim: whether double quotes delimit fields (RFC 4180); if False they are
        ordinary characters.
      name: the op name.
      na_value: a field equal to it is missing (takes its default).
      select_cols: optional sorted column indices to keep (one default per kept column).

    Returns:
      A list of tensors of the records' shape, one per default.

    Raises:
      ValueError: for a bad delimiter or select_cols that are not sorted and unique or do not
        match the defaults.
    """
    if select_cols is not None:
        select_cols = list(select_cols)
        if any(b <= a for a, b in zip(select_cols, select_cols[1:])):
            raise ValueError("select_cols is not strictly increasing.")
        if select_cols and select_cols[0] < 0:
            raise ValueError("select_cols contains negative values.")
        if len(select_cols) != len(record_defaults):
            raise ValueError("Length of select_cols and record_defaults do not match.")
    graph = graph_lib.get_default_graph()
    with graph.name_scope(name or "DecodeCSV") as scope:
        records = graph_lib.convert_to_tensor(records, dtype=dtypes.string, name="records")
        defaults = []
        for i, default in enumerate(record_defaults):
            if isinstance(default, graph_lib.Tensor):
                defaults.append(default)
                continue
            if isinstance(default, (list, tuple)) and not default:
                raise ValueError("record_defaults: an empty list has no dtype; use an empty "
                                 "tensor of the column's dtype")
            defaults.append(graph_lib.convert_to_tensor(default, name=f"record_default_{i}"))
        attrs = {"field_delim": field_delim, "use_quote_delim": bool(use_quote_delim),
                 "na_value": na_value, "select_cols": select_cols or []}
        return list(graph.create_op("DecodeCSV", [records] + defaults, attrs,
                                    name=scope).outputs)


# ---- SerializeTensor / ParseTensor -----------------------------------------------------------

def _serialize_tensor_infer(inputs, attrs):
    attrs["T"] = inputs[0].dtype
    return [(dtypes.string, TensorShape([]))]


def _parse_tensor_infer(inputs, attrs):
    _infer.check_dtype("ParseTensor", inputs[0], (dtypes.string,), "serialized")
    if inputs[0].shape.rank not in (None, 0):
        raise ValueError(f"Shape must be rank 0 but is rank {inputs[0].shape.rank} for "
                         "'ParseTensor' (serialized)")
    attrs["out_type"] = dtypes.as_dtype(attrs["out_type"])
    return [(attrs["out_type"], TensorShape(None))]


registry.register_op("SerializeTensor", infer=_serialize_tensor_infer, num_inputs=1,
                     gradient=registry.NOT_DIFFERENTIABLE,
                     doc="A tensor as a serialized TensorProto.")
registry.register_op("ParseTensor", infer=_parse_tensor_infer, num_inputs=1,
                     gradient=registry.NOT_DIFFERENTIABLE,
                     doc="A serialized TensorProto as a tensor.")


def serialize_tensor(tensor, name=None):
    """A scalar string: `tensor` as a serialized `TensorProto` (``tf.io.serialize_tensor``).

    Args:
      tensor: a tensor (or value).
      name: the op name.

    Returns:
      A scalar string tensor, byte-identical to TF's serialization.
    """
    graph = graph_lib.get_default_graph()
    with graph.name_scope(name or "SerializeTensor") as scope:
        tensor = graph_lib.convert_to_tensor(tensor, name="tensor")
        return graph.create_op("SerializeTensor", [tensor], {}, name=scope).outputs[0]


def parse_tensor(serialized, out_type, name=None):
    """The tensor a serialized `TensorProto` holds (``tf.io.parse_tensor``).

    Args:
      serialized: a scalar string tensor.
      out_type: the dtype the proto must hold.
      name: the op name.

    Returns:
      A tensor of `out_type` and unknown static shape. Running it raises
      InvalidArgumentError for bytes that do not parse or hold another dtype.
    """
    graph = graph_lib.get_default_graph()
    with graph.name_scope(name or "ParseTensor") as scope:
        serialized = graph_lib.convert_to_tensor(serialized, dtype=dtypes.string,
                                                 name="serialized")
        return graph.create_op("ParseTensor", [serialized],
                               {"out_type": dtypes.as_dtype(out_type)}, name=scope).outputs[0]
