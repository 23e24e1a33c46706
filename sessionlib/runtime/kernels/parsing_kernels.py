"""Kernels of the parsing ops: ``ParseExampleV2``, ``ParseSequenceExampleV2``,
``ParseSingleSequenceExample``,
``DecodeRaw``, ``DecodeCSV``, ``SerializeTensor`` and ``ParseTensor``.

Examples are decoded with the protobuf runtime (sessionlib's own ``Example`` messages, wire-
compatible with TF's) and assembled with numpy; errors carry TF's messages ("Name: <unknown>,
Feature: x (data type: float) is required but could not be found.", ...), so logs and
``pytest.raises(match=...)`` read the same in both libraries. These kernels are the reference
and the fast path at once: the work is proto decoding, which is already in C.

The graph side is ``ops/parsing_ops.py``; this module must never import it.
"""

import base64
import math

import numpy as np

from sessionlib import dtypes, errors
from sessionlib.framework import tensor_util
from sessionlib.protos import example_pb2, tensor_pb2
from sessionlib.runtime.kernel_table import register_kernel

__all__ = ["decode_csv_record"]

# The list kind of an Example feature that holds each dtype, and TF's name of the dtype.
_KIND_OF = {"float32": "float_list", "int64": "int64_list", "string": "bytes_list"}
_KIND_TYPE_NAMES = {"float_list": "float", "int64_list": "int64", "bytes_list": "string"}
_TF_TYPE_NAMES = {"float32": "float", "float64": "double", "float16": "half"}


def _invalid(message):
    return errors.InvalidArgumentError(None, None, message)


def _tf_name(dtype):
    dtype = dtypes.as_dtype(dtype)
    return _TF_TYPE_NAMES.get(dtype.name, dtype.name)


def _np_dtype(dtype):
    dtype = dtypes.as_dtype(dtype)
    return object if dtype is dtypes.string else np.dtype(dtype.as_numpy_dtype)


def _shape_text(dims):
    """A shape as TF's DebugString writes it: ``[2,3]``, unknown sizes as ``?``."""
    return "[" + ",".join("?" if d is None or d < 0 else str(d) for d in dims) + "]"


def _dims(shape):
    """A static shape attr as a list of ints (None for an unknown size)."""
    if hasattr(shape, "as_list"):
        return shape.as_list()
    return [None if d is None or d < 0 else int(d) for d in shape]


def _text(value):
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _string_array(items, shape=None):
    array = np.empty(len(items), dtype=object)
    array[:] = items
    return array if shape is None else array.reshape(shape)


def _key_list(array):
    return [_text(k) for k in np.asarray(array, dtype=object).reshape(-1)]


# ---- features of one example ---------------------------------------------------------------

def _feature_values(feature_map, key, dtype, name, index, sparse=False):
    """The values of feature `key` (a list), or None when it is absent or empty-kinded.

    Raises:
      InvalidArgumentError: when the feature holds another list kind than `dtype`'s.
    """
    feature = feature_map.get(key) if key in feature_map else None
    if feature is None:
        return None
    kind = feature.WhichOneof("kind")
    if kind is None:
        return None
    wanted = _KIND_OF[dtypes.as_dtype(dtype).name]
    if kind != wanted:
        if sparse:
            detail = (f"Expected type: {_KIND_TYPE_NAMES[wanted]}, "
                      f"Actual type: {_KIND_TYPE_NAMES[kind]}")
        else:
            detail = (f"Data type: {_KIND_TYPE_NAMES[kind]} but expected type: "
                      f"{_KIND_TYPE_NAMES[wanted]}")
        raise _invalid(f"Name: {name}, Key: {key}, Index: {index}.  Data types don't match. "
                       f"{detail}")
    return getattr(feature, kind).value


def _fixed_dense(values, key, dtype, shape, default, name, index):
    """One example's value of a FixedLenFeature, as an array of `shape`."""
    count = math.prod(shape)
    if values is None:
        if default.size == 0:
            raise _invalid(f"Name: {name}, Feature: {key} (data type: {_tf_name(dtype)}) is "
                           "required but could not be found.")
        return np.asarray(default).reshape(shape)
    if len(values) != count:
        raise _invalid(f"Name: {name}, Key: {key}, Index: {index}.  Number of "
                       f"{_KIND_TYPE_NAMES[_KIND_OF[dtypes.as_dtype(dtype).name]]} values "
                       f"!= expected.  Values size: {len(values)} but output shape: "
                       f"{_shape_text(shape)}")
    return np.array(list(values), dtype=_np_dtype(dtype)).reshape(shape)


def _fixed_dense_batch(feature_maps, key, dtype, shape, default, labels):
    """A FixedLenFeature over a batch: ``[batch] + shape``.

    The common case (the feature is there, of the right kind and size) copies the values
    straight into the output row; defaults and errors take `_fixed_dense`'s path.
    """
    count = math.prod(shape)
    wanted = _KIND_OF[dtypes.as_dtype(dtype).name]
    value = np.empty([len(feature_maps)] + shape, dtype=_np_dtype(dtype))
    rows = value.reshape(len(feature_maps), count)
    for i, feature_map in enumerate(feature_maps):
        feature = feature_map[key] if key in feature_map else None
        if feature is not None and feature.WhichOneof("kind") == wanted:
            values = getattr(feature, wanted).value
            if len(values) == count:
                rows[i] = values
                continue
        rows[i] = _fixed_dense(_feature_values(feature_map, key, dtype, labels[i], i), key,
                               dtype, shape, default, labels[i], i).reshape(-1)
    return value


def _sequence_rows(values, key, dtype, inner, name, index):
    """One example's items of a FixedLenSequenceFeature: an array ``[rows] + inner``."""
    stride = math.prod(inner)
    if values is None:
        return np.zeros([0] + inner, dtype=_np_dtype(dtype))
    if stride == 0 or len(values) % stride:
        raise _invalid(f"Name: {name}, Key: {key}, Index: {index}.  Number of "
                       f"{_KIND_TYPE_NAMES[_KIND_OF[dtypes.as_dtype(dtype).name]]} values "
                       "is not a multiple of stride length. Saw "
                       f"{len(values)} values but output shape is: "
                       f"{_shape_text([None] + inner)}")
    return np.array(list(values), dtype=_np_dtype(dtype)).reshape([-1] + inner)


def _padded(rows, inner, dtype, padding):
    """Per-example row arrays padded to the longest and stacked: ``[batch, longest] + inner``."""
    longest = max((len(r) for r in rows), default=0)
    fill = np.asarray(padding).reshape(-1)
    out = np.empty([len(rows), longest] + inner, dtype=_np_dtype(dtype))
    out[...] = fill[0] if fill.size else (b"" if dtype is dtypes.string else 0)
    for i, row in enumerate(rows):
        out[i, :len(row)] = row
    return out


def _sparse(per_example, dtype, batched):
    """A SparseTensor's (indices, values, dense_shape) from per-example value lists."""
    longest = max((len(v) for v in per_example), default=0)
    total = sum(len(v) for v in per_example)
    values = np.empty(total, dtype=_np_dtype(dtype))
    if batched:
        indices = np.empty((total, 2), dtype=np.int64)
    else:
        indices = np.empty((total, 1), dtype=np.int64)
    at = 0
    for example, items in enumerate(per_example):
        n = len(items)
        values[at:at + n] = list(items)
        if batched:
            indices[at:at + n, 0] = example
            indices[at:at + n, 1] = np.arange(n)
        else:
            indices[at:at + n, 0] = np.arange(n)
        at += n
    shape = [len(per_example), longest] if batched else [longest]
    return indices, values, np.array(shape, dtype=np.int64)


def _decode(message_class, record, what):
    message = message_class()
    try:
        message.ParseFromString(bytes(record))
    except Exception:  # noqa: BLE001 - protobuf's DecodeError differs between runtimes
        raise _invalid(f"Could not parse {what} input, value: '{_text(record)}'") from None
    return message


# ---- ParseExampleV2, and TF 1's ParseExample / ParseSingleExample ---------------------------

def _parse_example_kernel(ctx, inputs, attrs):
    """ParseExampleV2: keys as string vectors, a batch (or one scalar) of examples."""
    if len(_key_list(inputs[4])):
        raise errors.UnimplementedError(None, None, "ParseExampleV2: ragged features")
    return _parse_examples(inputs[0], inputs[1], _key_list(inputs[2]), attrs["sparse_types"],
                           _key_list(inputs[3]), attrs["Tdense"], attrs["dense_shapes"],
                           inputs[5:])


def _parse_example_v1_kernel(ctx, inputs, attrs):
    """TF 1's ParseExample: a batch of examples, each key a scalar input."""
    num_sparse, num_dense = int(attrs["Nsparse"]), int(attrs["Ndense"])
    keys = [_text(np.asarray(k, dtype=object).item()) for k in inputs[2:2 + num_sparse +
                                                                      num_dense]]
    return _parse_examples(inputs[0], inputs[1], keys[:num_sparse], attrs["sparse_types"],
                           keys[num_sparse:], attrs["Tdense"], attrs["dense_shapes"],
                           inputs[2 + num_sparse + num_dense:])


def _parse_single_example_kernel(ctx, inputs, attrs):
    """TF 1's ParseSingleExample: one example, keys as attrs."""
    if np.ndim(inputs[0]) != 0:
        raise _invalid("ParseSingleExample takes a scalar serialized input")
    return _parse_examples(inputs[0], np.array([], dtype=object),
                           [_text(k) for k in attrs["sparse_keys"]], attrs["sparse_types"],
                           [_text(k) for k in attrs["dense_keys"]], attrs["Tdense"],
                           attrs["dense_shapes"], inputs[1:])


def _parse_examples(serialized, names, sparse_keys, sparse_types, dense_keys, dense_types,
                    dense_shapes, defaults):
    """The outputs of the Example parsing ops: sparse indices, values and shapes (one each per
    sparse key), then the dense values; without a batch dimension for a scalar input."""
    serialized = np.asarray(serialized, dtype=object)
    batched = serialized.ndim == 1
    records = serialized.reshape(-1)
    names = [_text(n) for n in np.asarray(names, dtype=object).reshape(-1)]
    if names and len(names) != len(records):
        raise _invalid(f"Expected len(names) == len(serialized), but got: {len(names)} vs. "
                       f"{len(records)}")
    defaults = [np.asarray(d) for d in defaults]
    dense_shapes = [_dims(s) for s in dense_shapes]
    if len(sparse_keys) != len(sparse_types) or len(dense_keys) != len(dense_types) or \
            len(defaults) != len(dense_keys):
        raise _invalid("Example parsing: the number of keys does not match the types")
    feature_maps = [_decode(example_pb2.Example, r, "example").features.feature
                    for r in records]
    labels = names or ["<unknown>"] * len(records)

    sparse_out = [
        _sparse([_feature_values(fmap, key, dtype, labels[i], i, sparse=True) or []
                 for i, fmap in enumerate(feature_maps)], dtype, batched)
        for key, dtype in zip(sparse_keys, sparse_types)]

    dense_out = []
    for key, dtype, shape, default in zip(dense_keys, dense_types, dense_shapes, defaults):
        if shape and shape[0] is None:
            inner = [int(d) for d in shape[1:]]
            rows = [_sequence_rows(_feature_values(fmap, key, dtype, labels[i], i), key,
                                   dtype, inner, labels[i], i)
                    for i, fmap in enumerate(feature_maps)]
            value = _padded(rows, inner, dtypes.as_dtype(dtype), default)
        else:
            shape = [int(d) for d in shape]
            value = _fixed_dense_batch(feature_maps, key, dtype, shape, default, labels)
        dense_out.append(value if batched else value[0, ...])

    return tuple([s[0] for s in sparse_out] + [s[1] for s in sparse_out]
                 + [s[2] for s in sparse_out] + dense_out)


# ---- SequenceExamples ------------------------------------------------------------------------

def _context_dense(context, key, dtype, shape, default, label, index, batched):
    values = _feature_values(context, key, dtype, label, index)
    if values is None and default.size == 0:
        if batched:
            raise _invalid(f"Feature: {key} (data type: {_tf_name(dtype)}) is required but "
                           "could not be found.")
        raise _invalid(f"Inconsistent max number of elements for feature {key}: expected "
                       f"{math.prod(shape)}, but found 0")
    return _fixed_dense(values, key, dtype, shape, default, label, index)


def _list_sparse(lists, key, dtype, label):
    """One example's VarLen feature list: a list of per-step value lists."""
    steps = list(lists[key].feature) if key in lists else []
    return [list(_feature_values({key: step}, key, dtype, label, i, sparse=True) or [])
            for i, step in enumerate(steps)]


def _list_dense(lists, key, dtype, shape, missing_ok, label):
    """One example's FixedLenSequence feature list: an array ``[steps] + shape``."""
    if key not in lists:
        if not missing_ok:
            raise _invalid(f"Name: {label}, Feature list '{key}' is required but could not "
                           "be found.  Did you mean to include it in "
                           "feature_list_dense_missing_assumed_empty or "
                           "feature_list_dense_defaults?")
        return np.zeros([0] + shape, dtype=_np_dtype(dtype))
    per_step = []
    for i, step in enumerate(lists[key].feature):
        values = _feature_values({key: step}, key, dtype, label, i)
        per_step.append([] if values is None else list(values))
    if any(len(v) != math.prod(shape) for v in per_step):
        total = sum(len(v) for v in per_step)
        raise _invalid(f"Feature list '{key}' has an unexpected number of values.  Total "
                       f"values size: {total} is not consistent with output shape: "
                       f"{_shape_text([None] + shape)}")
    value = np.empty([len(per_step)] + shape, dtype=_np_dtype(dtype))
    for i, values in enumerate(per_step):
        value[i] = np.array(values, dtype=_np_dtype(dtype)).reshape(shape)
    return value


def _step_sparse(per_example, dtype, batched):
    """A feature list's SparseTensor from per-example lists of per-step value lists: indices
    ``[example, step, position]`` (``[step, position]`` for one unbatched example)."""
    rows, values = [], []
    longest_steps = longest_values = 0
    for example, steps in enumerate(per_example):
        longest_steps = max(longest_steps, len(steps))
        for step, items in enumerate(steps):
            longest_values = max(longest_values, len(items))
            for position, item in enumerate(items):
                rows.append((example, step, position) if batched else (step, position))
                values.append(item)
    width = 3 if batched else 2
    indices = np.array(rows, dtype=np.int64).reshape(-1, width)
    array = np.empty(len(values), dtype=_np_dtype(dtype))
    array[:] = values
    shape = ([len(per_example)] if batched else []) + [longest_steps, longest_values]
    return indices, array, np.array(shape, dtype=np.int64)


def _sequence_outputs(records, labels, batched, keys, types, shapes, defaults, missing_ok):
    """The parsed parts of SequenceExamples, in the order both sequence ops output them:
    (context sparse triples, context dense, list sparse triples, list dense, list lengths)."""
    context_sparse_keys, context_dense_keys, list_sparse_keys, list_dense_keys = keys
    context_sparse_types, context_dense_types, list_sparse_types, list_dense_types = types
    context_shapes = [[int(d) for d in _dims(s)] for s in shapes[0]]
    list_shapes = [[int(d) for d in _dims(s)] for s in shapes[1]]
    examples = [_decode(example_pb2.SequenceExample, r, "SequenceExample") for r in records]
    contexts = [e.context.feature for e in examples]
    lists = [e.feature_lists.feature_list for e in examples]

    context_sparse = [
        _sparse([_feature_values(c, key, dtype, labels[i], i, sparse=True) or []
                 for i, c in enumerate(contexts)], dtype, batched)
        for key, dtype in zip(context_sparse_keys, context_sparse_types)]
    context_dense = []
    for key, dtype, shape, default in zip(context_dense_keys, context_dense_types,
                                          context_shapes, defaults):
        items = [_context_dense(c, key, dtype, shape, default, labels[i], i, batched)
                 for i, c in enumerate(contexts)]
        value = np.empty([len(items)] + shape, dtype=_np_dtype(dtype))
        for i, item in enumerate(items):
            value[i] = item
        context_dense.append(value if batched else value[0, ...])
    list_sparse = [
        _step_sparse([_list_sparse(fl, key, dtype, labels[i]) for i, fl in enumerate(lists)],
                     dtype, batched)
        for key, dtype in zip(list_sparse_keys, list_sparse_types)]
    list_dense, lengths = [], []
    for key, dtype, shape, allowed in zip(list_dense_keys, list_dense_types, list_shapes,
                                          missing_ok):
        rows = [_list_dense(fl, key, dtype, shape, allowed, labels[i])
                for i, fl in enumerate(lists)]
        lengths.append(np.array([len(r) for r in rows], dtype=np.int64))
        value = _padded(rows, shape, dtypes.as_dtype(dtype), np.zeros([0]))
        list_dense.append(value if batched else value[0, ...])
        if not batched:
            lengths[-1] = lengths[-1][0, ...]
    return context_sparse, context_dense, list_sparse, list_dense, lengths


def _flat_sparse(triples):
    return ([t[0] for t in triples] + [t[1] for t in triples] + [t[2] for t in triples])


def _parse_sequence_kernel(ctx, inputs, attrs):
    """TF 1's ParseSingleSequenceExample: one example, keys as scalar inputs."""
    counts = [attrs["Ncontext_sparse"], attrs["Ncontext_dense"], attrs["Nfeature_list_sparse"],
              attrs["Nfeature_list_dense"]]
    if np.ndim(inputs[0]) != 0:
        raise _invalid("ParseSingleSequenceExample takes a scalar serialized input")
    missing = set(_key_list(inputs[1]))
    at, keys = 2, []
    for count in counts:
        keys.append([_text(np.asarray(k, dtype=object).item()) for k in inputs[at:at + count]])
        at += count
    defaults = [np.asarray(d) for d in inputs[at:at + counts[1]]]
    label = _text(np.asarray(inputs[-1], dtype=object).item()) or "<unknown>"
    parts = _sequence_outputs(
        [np.asarray(inputs[0], dtype=object).item()], [label], False, keys,
        (attrs["context_sparse_types"], attrs["Tcontext_dense"],
         attrs["feature_list_sparse_types"], attrs["feature_list_dense_types"]),
        (attrs["context_dense_shapes"], attrs["feature_list_dense_shapes"]), defaults,
        [key in missing for key in keys[3]])
    context_sparse, context_dense, list_sparse, list_dense, _ = parts
    return tuple(_flat_sparse(context_sparse) + context_dense + _flat_sparse(list_sparse)
                 + list_dense)


def _parse_sequence_v2_kernel(ctx, inputs, attrs):
    """ParseSequenceExampleV2: a batch (or one scalar) of examples, keys as vectors."""
    serialized = np.asarray(inputs[0], dtype=object)
    batched = serialized.ndim == 1
    records = list(serialized.reshape(-1))
    names = [_text(n) for n in np.asarray(inputs[1], dtype=object).reshape(-1)]
    labels = (names if len(names) == len(records) and any(names)
              else ["<unknown>"] * len(records))
    keys = [_key_list(inputs[i]) for i in (2, 3, 5, 6)]
    if _key_list(inputs[4]) or _key_list(inputs[7]):
        raise errors.UnimplementedError(None, None, "ParseSequenceExampleV2: ragged features")
    missing_ok = [bool(m) for m in np.asarray(inputs[8]).reshape(-1)]
    if len(missing_ok) != len(keys[3]):
        raise _invalid("feature_list_dense_missing_assumed_empty needs one flag per dense "
                       "feature list key")
    defaults = [np.asarray(d) for d in inputs[9:]]
    parts = _sequence_outputs(
        records, labels, batched, keys,
        (attrs["context_sparse_types"], attrs["Tcontext_dense"],
         attrs["feature_list_sparse_types"], attrs["feature_list_dense_types"]),
        (attrs["context_dense_shapes"], attrs["feature_list_dense_shapes"]), defaults,
        missing_ok)
    context_sparse, context_dense, list_sparse, list_dense, lengths = parts
    return tuple(_flat_sparse(context_sparse) + context_dense + _flat_sparse(list_sparse)
                 + list_dense + lengths)


# ---- DecodeRaw ----------------------------------------------------------------------------------

def _decode_raw_kernel(ctx, inputs, attrs):
    strings = np.asarray(inputs[0], dtype=object)
    out_type = dtypes.as_dtype(attrs["out_type"])
    np_type = np.dtype(out_type.as_numpy_dtype)
    wire = np_type.newbyteorder("<" if attrs.get("little_endian", True) else ">")
    flat = [bytes(s) for s in strings.reshape(-1)]
    if not flat:
        return (np.zeros(strings.shape + (0,), dtype=np_type),)
    length = len(flat[0])
    if length % np_type.itemsize:
        raise _invalid(f"Input to DecodeRaw has length {length} that is not a multiple of "
                       f"{np_type.itemsize}, the size of {_tf_name(out_type)}")
    for i, item in enumerate(flat):
        # TF's message names the first string's size first.
        if len(item) != length:
            raise _invalid("DecodeRaw requires input strings to all be the same size, but "
                           f"element {i} has size {length} != {len(item)}")
    data = np.frombuffer(b"".join(flat), dtype=wire).astype(np_type)
    return (data.reshape(strings.shape + (length // np_type.itemsize,)),)


# ---- DecodeCSV ---------------------------------------------------------------------------------

def _split_record(record, delim, use_quote, index):
    """The fields of one CSV record (RFC 4180 quoting when `use_quote`)."""
    fields = []
    at, end = 0, len(record)
    if not end:
        return fields  # TF: an empty record has no fields at all
    quote = ord('"')
    while True:
        if use_quote and at < end and record[at] == quote:
            pieces = []
            at += 1
            while True:
                close = record.find(b'"', at)
                if close < 0:
                    raise _invalid("Quoted field has to end with quote followed by delim or end")
                pieces.append(record[at:close])
                if close + 1 < end and record[close + 1] == quote:
                    pieces.append(b'"')
                    at = close + 2
                    continue
                at = close + 1
                break
            if at < end and record[at] != delim:
                raise _invalid("Quote inside a string has to be escaped by another quote")
            fields.append(b"".join(pieces))
        else:
            stop = record.find(bytes([delim]), at)
            stop = end if stop < 0 else stop
            field = record[at:stop]
            if use_quote and b'"' in field:
                raise _invalid("Unquoted fields cannot have quotes/CRLFs inside")
            fields.append(field)
            at = stop
        if at >= end:
            return fields
        at += 1  # past the delimiter
        if at == end:
            fields.append(b"")
            return fields


def _convert_field(field, dtype, column, index):
    if dtype is dtypes.string:
        return field
    text = field.decode("latin-1").strip()
    if "_" in text or not text:
        return _bad_field(dtype, column, index, field)
    try:
        if dtype in (dtypes.int32, dtypes.int64):
            value = int(text, 10)
            info = np.iinfo(dtype.as_numpy_dtype)
            if not info.min <= value <= info.max:
                return _bad_field(dtype, column, index, field)
            return value
        return float(text)
    except ValueError:
        return _bad_field(dtype, column, index, field)


def _bad_field(dtype, column, index, field):
    raise _invalid(f"Field {column} in record {index} is not a valid {_tf_name(dtype)}: "
                   f"{_text(field)}")


def decode_csv_record(record, index, defaults, out_types, delim, use_quote, na_value,
                      select_cols):
    """The typed column values of one CSV record (a list, one value per default).

    Raises:
      InvalidArgumentError: for a malformed record, a field that does not parse, a missing
        required field, or the wrong number of fields.
    """
    fields = _split_record(record, delim, use_quote, index)
    if select_cols:
        if len(fields) <= select_cols[-1]:
            raise _invalid(f"Expect {len(defaults)} fields but have {len(fields)} in record "
                           f"{index}")
        fields = [fields[c] for c in select_cols]
    elif len(fields) != len(defaults):
        raise _invalid(f"Expect {len(defaults)} fields but have {len(fields)} in record "
                       f"{index}")
    values = []
    for column, (field, default, dtype) in enumerate(zip(fields, defaults, out_types)):
        if not field or (na_value and field == na_value):
            if default.size == 0:
                raise _invalid(f"Field {column} is required but missing in record {index}!")
            values.append(default.reshape(-1)[0])
        else:
            values.append(_convert_field(field, dtype, column, index))
    return values


def _decode_csv_kernel(ctx, inputs, attrs):
    records = np.asarray(inputs[0], dtype=object)
    defaults = [np.asarray(d) for d in inputs[1:]]
    out_types = [dtypes.as_dtype(t) for t in attrs["OUT_TYPE"]]
    for i, default in enumerate(defaults):
        if default.size > 1:
            raise _invalid(f"There should only be 1 default per field but field {i} has "
                           f"{default.size}")
    delim = attrs.get("field_delim", ",").encode()[0]
    na_value = attrs.get("na_value", "")
    na_value = na_value.encode() if isinstance(na_value, str) else bytes(na_value)
    select_cols = list(attrs.get("select_cols", []))
    columns = [np.empty(records.size, dtype=_np_dtype(t)) for t in out_types]
    for index, record in enumerate(records.reshape(-1)):
        record = record.encode() if isinstance(record, str) else bytes(record)
        values = decode_csv_record(record, index, defaults, out_types, delim,
                                   attrs.get("use_quote_delim", True), na_value, select_cols)
        for column, value in zip(columns, values):
            column[index] = value
    return tuple(c.reshape(records.shape) for c in columns)


# ---- SerializeTensor / ParseTensor -------------------------------------------------------------

def tensor_to_proto_bytes(value):
    """`value` serialized as TF's ``Tensor::AsProtoTensorContent`` does: the shape always
    present (even a scalar's, empty), numbers packed in ``tensor_content``, strings in
    ``string_val``."""
    array = np.asarray(value)
    dtype = dtypes.string if array.dtype == object or array.dtype.kind in "SU" else \
        dtypes.as_dtype(array.dtype)
    proto = tensor_pb2.TensorProto(dtype=dtype.as_datatype_enum)
    proto.tensor_shape.SetInParent()
    for size in array.shape:
        proto.tensor_shape.dim.add(size=size)
    if dtype is dtypes.string:
        proto.string_val.extend(
            [s.encode() if isinstance(s, str) else bytes(s) for s in array.reshape(-1)])
    elif array.size:
        proto.tensor_content = np.ascontiguousarray(array).astype(
            array.dtype.newbyteorder("<"), copy=False).tobytes()
    return proto.SerializeToString()


def _serialize_tensor_kernel(ctx, inputs, attrs):
    out = np.empty((), dtype=object)
    out[()] = tensor_to_proto_bytes(inputs[0])
    return (out,)


def _parse_tensor_kernel(ctx, inputs, attrs):
    data = np.asarray(inputs[0], dtype=object).item()
    data = data.encode() if isinstance(data, str) else bytes(data)
    proto = tensor_pb2.TensorProto()
    try:
        proto.ParseFromString(data)
    except Exception:  # noqa: BLE001 - protobuf's DecodeError differs between runtimes
        raise _invalid("Could not parse `serialized` as TensorProto, base64: "
                       f"{base64.b64encode(data).decode()}") from None
    wanted = dtypes.as_dtype(attrs["out_type"])
    try:
        got = dtypes.as_dtype(proto.dtype)
    except (TypeError, ValueError, KeyError):
        got = None
    if got is not wanted:
        got_name = _tf_name(got) if got is not None else f"type {proto.dtype}"
        raise _invalid(f"Type mismatch between parsed tensor ({got_name}) and dtype "
                       f"({_tf_name(wanted)})")
    try:
        return (tensor_util.make_ndarray(proto),)
    except (TypeError, ValueError) as error:
        raise _invalid(f"Could not parse `serialized` as TensorProto: {error}") from None


# The work is protobuf decoding and byte handling: the reference kernel is the fast one.
register_kernel("ParseExampleV2", reference=_parse_example_kernel)
register_kernel("ParseExample", reference=_parse_example_v1_kernel)
register_kernel("ParseSingleExample", reference=_parse_single_example_kernel)
register_kernel("ParseSingleSequenceExample", reference=_parse_sequence_kernel)
register_kernel("ParseSequenceExampleV2", reference=_parse_sequence_v2_kernel)
register_kernel("DecodeRaw", reference=_decode_raw_kernel)
register_kernel("DecodeCSV", reference=_decode_csv_kernel)
register_kernel("SerializeTensor", reference=_serialize_tensor_kernel)
register_kernel("ParseTensor", reference=_parse_tensor_kernel)
