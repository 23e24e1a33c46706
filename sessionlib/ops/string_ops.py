"""String ops: TF 1's ``tf.string_*``, ``tf.substr``, ``tf.regex_replace`` & co., ``tf.strings``.

Each op is TF's op (type name, inputs and attrs), registered once here; the kernels live in the
runtime (``runtime/kernels/string_kernels.py``) and work on object arrays of `bytes`. None is
differentiable. Where this library differs from TF:

* There is no RaggedTensor: ``tf.strings.split`` returns TF 1's SparseTensor (its default) and
  ``result_type='RaggedTensor'`` is a NotImplementedError. The ragged ops ``StringNGrams`` and
  ``UnicodeEncode`` are TF's (values plus row splits), but their public wrappers take dense
  tensors only, and ``bytes_split``, ``unicode_decode`` and ``unicode_split`` (and their
  ``_with_offsets`` forms) take a scalar string only (TF's dense case); ``unicode_script``
  (ICU's script table) is not provided.
* Encodings are Python's codecs rather than ICU's converters (``unicode_transcode``).
* Regular expressions are Python's `re` over the UTF-8 text, with ``re.ASCII`` so that
  ``\\d``, ``\\w`` and ``\\s`` are ASCII classes as in RE2, and ``.`` matches one code point
  as in RE2. RE2's syntax is mostly a subset of Python's: patterns using RE2-only syntax (such
  as ``\\pL`` or ``\\C``) are rejected as invalid, and Python-only features (backreferences,
  lookaround) are accepted where RE2 would reject them. Rewrites use RE2's ``\\0``..``\\9``.
* ``string_to_number`` parses a float as a double and rounds it to the requested type, which
  matches TF's direct parse (ties between two float32 values are resolved exactly).
"""

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework import registry
from sessionlib.framework.sparse_tensor import SparseTensor
from sessionlib.framework.tensor_shape import TensorShape
from sessionlib.ops import _infer, array_ops, math_ops
from sessionlib.ops.checkpoint_ops import string_join
from sessionlib.ops.math_ops import reduce_join

__all__ = ["string_split", "split", "string_to_number", "as_string", "substr",
           "regex_replace", "regex_full_match", "string_strip", "string_length", "lower",
           "upper", "encode_base64", "decode_base64", "string_to_hash_bucket_fast",
           "string_to_hash_bucket", "string_to_hash_bucket_strong", "string_join",
           "reduce_join", "unsorted_segment_join", "ngrams", "unicode_transcode", "unicode_encode",
           "unicode_decode", "unicode_decode_with_offsets", "unicode_split",
           "unicode_split_with_offsets", "bytes_split", "STRINGS_NAMESPACE"]

_STRING = (dtypes.string,)
_UNITS = ("BYTE", "UTF8_CHAR")
# The out_type values of StringToNumber in TF, those of them that this library has.
_NUMBER_TYPES = tuple(getattr(dtypes, name) for name in
                      ("float32", "float64", "int32", "int64", "uint32", "uint64")
                      if hasattr(dtypes, name))
_AS_STRING_TYPES = tuple(getattr(dtypes, name) for name in
                         ("float16", "bfloat16", "float32", "float64", "int8", "int16",
                          "int32", "int64", "uint8", "uint16", "uint32", "uint64", "bool",
                          "complex64", "complex128", "string", "variant")
                         if hasattr(dtypes, name))


def _check_rank(op_type, tensor, rank, arg):
    if tensor.shape.ndims is not None and tensor.shape.ndims != rank:
        raise ValueError(f"Shape must be rank {rank} but is rank {tensor.shape.ndims} for "
                         f"'{op_type}' ({arg}) with input shape {tensor.shape}.")


def _check_choice(op_type, attr, value, choices):
    if value not in choices:
        allowed = ", ".join(f'"{choice}"' for choice in choices)
        raise ValueError(f"Attr '{attr}' of '{op_type}' Op passed string '{value}' not in: "
                         f"{allowed}.")


def _check_at_least(op_type, attr, value, minimum):
    if int(value) < minimum:
        raise ValueError(f"Attr '{attr}' of '{op_type}' Op passed {value} less than minimum "
                         f"{minimum}.")


def _elementwise_infer(op_type, out_dtype, arg="input", allowed=_STRING, scalar_args=()):
    """Output shaped like input 0; the other (string) inputs must be scalars."""

    def infer(inputs, attrs):
        _infer.check_dtype(op_type, inputs[0], allowed, arg)
        for tensor, name in zip(inputs[1:], scalar_args):
            _infer.check_dtype(op_type, tensor, _STRING, name)
            _check_rank(op_type, tensor, 0, name)
        return [(out_dtype or inputs[0].dtype, inputs[0].shape)]

    return infer


def _split_infer(op_type, sep_arg):
    def infer(inputs, attrs):
        _infer.check_dtype(op_type, inputs[0], _STRING, "input")
        _infer.check_dtype(op_type, inputs[1], _STRING, sep_arg)
        _check_rank(op_type, inputs[0], 1, "input")
        _check_rank(op_type, inputs[1], 0, sep_arg)
        return [(dtypes.int64, TensorShape([None, 2])), (dtypes.string, TensorShape([None])),
                (dtypes.int64, TensorShape([2]))]

    return infer


def _string_split_infer(inputs, attrs):
    attrs["skip_empty"] = bool(attrs.get("skip_empty", True))
    return _split_infer("StringSplit", "delimiter")(inputs, attrs)


def _string_split_v2_infer(inputs, attrs):
    attrs["maxsplit"] = int(attrs.get("maxsplit", -1))
    return _split_infer("StringSplitV2", "sep")(inputs, attrs)


def _string_to_number_infer(inputs, attrs):
    out_type = dtypes.as_dtype(attrs.get("out_type", dtypes.float32))
    if out_type not in _NUMBER_TYPES:
        names = ", ".join(dtype.name for dtype in _NUMBER_TYPES)
        raise TypeError(f"Value passed to parameter 'out_type' has DataType {out_type.name} "
                        f"not in list of allowed values: {names}")
    attrs["out_type"] = out_type
    _infer.check_dtype("StringToNumber", inputs[0], _STRING, "string_tensor")
    return [(out_type, inputs[0].shape)]


def _as_string_infer(inputs, attrs):
    _infer.check_dtype("AsString", inputs[0], _AS_STRING_TYPES, "input")
    attrs["T"] = inputs[0].dtype
    for name, default in (("precision", -1), ("width", -1)):
        attrs[name] = int(attrs.get(name, default))
    for name in ("scientific", "shortest"):
        attrs[name] = bool(attrs.get(name, False))
    attrs.setdefault("fill", "")
    return [(dtypes.string, inputs[0].shape)]


def _substr_infer(inputs, attrs):
    value, pos, length = inputs
    _infer.check_dtype("Substr", value, _STRING, "input")
    _infer.check_dtype("Substr", pos, (dtypes.int32, dtypes.int64), "pos")
    _infer.same_dtype("Substr", [pos, length], ("pos", "len"))
    attrs["T"] = pos.dtype
    attrs.setdefault("unit", "BYTE")
    _check_choice("Substr", "unit", attrs["unit"], _UNITS)
    if (pos.shape.ndims is not None and length.shape.ndims is not None
            and not pos.shape.is_compatible_with(length.shape)):
        raise ValueError(f"pos and len shapes must match: {pos.shape} vs. {length.shape} for "
                         "'Substr'")
    shape = _infer.broadcast_shapes(value.shape, pos.shape.merge_with(length.shape)
                                    if pos.shape.is_compatible_with(length.shape)
                                    else pos.shape, "Substr")
    return [(dtypes.string, shape)]


def _regex_replace_infer(inputs, attrs):
    attrs["replace_global"] = bool(attrs.get("replace_global", True))
    return _elementwise_infer("RegexReplace", dtypes.string,
                              scalar_args=("pattern", "rewrite"))(inputs, attrs)


def _static_regex_replace_infer(inputs, attrs):
    attrs["replace_global"] = bool(attrs.get("replace_global", True))
    return _elementwise_infer("StaticRegexReplace", dtypes.string)(inputs, attrs)


def _unit_infer(op_type, out_dtype):
    def infer(inputs, attrs):
        attrs.setdefault("unit", "BYTE")
        _check_choice(op_type, "unit", attrs["unit"], _UNITS)
        return _elementwise_infer(op_type, out_dtype)(inputs, attrs)

    return infer


def _case_infer(op_type):
    def infer(inputs, attrs):
        attrs.setdefault("encoding", "")
        return _elementwise_infer(op_type, dtypes.string)(inputs, attrs)

    return infer


def _hash_bucket_infer(op_type, arg="input", keyed=False):
    def infer(inputs, attrs):
        if "num_buckets" not in attrs:
            raise ValueError(f"{op_type} needs the attr 'num_buckets'")
        _check_at_least(op_type, "num_buckets", attrs["num_buckets"], 1)
        attrs["num_buckets"] = int(attrs["num_buckets"])
        if keyed:
            attrs["key"] = [int(word) for word in attrs.get("key", ())]
        return _elementwise_infer(op_type, dtypes.int64, arg)(inputs, attrs)

    return infer


def _unsorted_segment_join_infer(inputs, attrs):
    values, segment_ids, num_segments = inputs
    op_type = "UnsortedSegmentJoin"
    _infer.check_dtype(op_type, values, _STRING, "inputs")
    _infer.check_index_dtype(op_type, segment_ids, "segment_ids")
    _infer.check_index_dtype(op_type, num_segments, "num_segments")
    _check_rank(op_type, num_segments, 0, "num_segments")
    attrs["Tindices"], attrs["Tnumsegments"] = segment_ids.dtype, num_segments.dtype
    attrs.setdefault("separator", "")
    count = _infer.constant_of(num_segments)
    if count is not None and int(count) < 0:
        raise ValueError(f"Dimension size, given by scalar input 2, must be non-negative but "
                         f"is {int(count)} for '{op_type}'")
    if values.shape.ndims is None or segment_ids.shape.ndims is None:
        return [(dtypes.string, TensorShape(None))]
    ids_rank = segment_ids.shape.ndims
    if ids_rank > values.shape.ndims:
        raise ValueError(f"Shape must be at least rank {ids_rank} but is rank "
                         f"{values.shape.ndims} for '{op_type}'")
    for value_dim, id_dim in zip(values.shape.dims[:ids_rank], segment_ids.shape.dims):
        if value_dim is not None and id_dim is not None and value_dim != id_dim:
            raise ValueError(f"Dimensions must be equal, but are {value_dim} and {id_dim} for "
                             f"'{op_type}' with input shapes: {values.shape}, "
                             f"{segment_ids.shape}")
    first = None if count is None else int(count)
    return [(dtypes.string, TensorShape([first] + values.shape.dims[ids_rank:]))]


def _string_ngrams_infer(inputs, attrs):
    data, splits = inputs
    _infer.check_dtype("StringNGrams", data, _STRING, "data")
    _infer.check_index_dtype("StringNGrams", splits, "data_splits")
    _check_rank("StringNGrams", data, 1, "data")
    _check_rank("StringNGrams", splits, 1, "data_splits")
    attrs["Tsplits"] = splits.dtype
    attrs["ngram_widths"] = [int(width) for width in attrs.get("ngram_widths", ())]
    attrs["pad_width"] = int(attrs.get("pad_width", 0))
    attrs["preserve_short_sequences"] = bool(attrs.get("preserve_short_sequences", False))
    for name in ("separator", "left_pad", "right_pad"):
        attrs.setdefault(name, "")
    return [(dtypes.string, TensorShape([None])), (splits.dtype, splits.shape)]


_OUTPUT_ENCODINGS = ("UTF-8", "UTF-16-BE", "UTF-32-BE")
_ERROR_MODES = ("strict", "replace", "ignore")


def _unicode_attrs(op_type, attrs):
    _check_choice(op_type, "output_encoding", attrs.get("output_encoding"), _OUTPUT_ENCODINGS)
    attrs.setdefault("errors", "replace")
    _check_choice(op_type, "errors", attrs["errors"], _ERROR_MODES)
    attrs["replacement_char"] = int(attrs.get("replacement_char", 0xFFFD))


def _unicode_transcode_infer(inputs, attrs):
    _unicode_attrs("UnicodeTranscode", attrs)
    attrs["replace_control_characters"] = bool(attrs.get("replace_control_characters", False))
    return _elementwise_infer("UnicodeTranscode", dtypes.string)(inputs, attrs)


def _unicode_encode_infer(inputs, attrs):
    values, splits = inputs
    _unicode_attrs("UnicodeEncode", attrs)
    if values.dtype is not dtypes.int32:
        raise TypeError(f"Input 'input_values' of 'UnicodeEncode' Op has type "
                        f"{values.dtype.name} that does not match expected type of int32.")
    _infer.check_index_dtype("UnicodeEncode", splits, "input_splits")
    _check_rank("UnicodeEncode", values, 1, "input_values")
    _check_rank("UnicodeEncode", splits, 1, "input_splits")
    attrs["Tsplits"] = splits.dtype
    rows = splits.shape.dims[0] if splits.shape.ndims == 1 else None
    return [(dtypes.string, TensorShape([None if rows is None else max(rows - 1, 0)]))]


def _unicode_decode_infer(op_type, with_offsets):
    def infer(inputs, attrs):
        _infer.check_dtype(op_type, inputs[0], _STRING, "input")
        attrs.setdefault("errors", "replace")
        _check_choice(op_type, "errors", attrs["errors"], _ERROR_MODES)
        attrs["replacement_char"] = int(attrs.get("replacement_char", 0xFFFD))
        attrs["replace_control_characters"] = bool(
            attrs.get("replace_control_characters", False))
        attrs["Tsplits"] = dtypes.int64
        outputs = [(dtypes.int64, TensorShape([None])), (dtypes.int32, TensorShape([None]))]
        return outputs + [(dtypes.int64, TensorShape([None]))] if with_offsets else outputs

    return infer


def _register(op_type, infer, num_inputs, doc):
    registry.register_op(op_type, infer=infer, kernel=op_type, num_inputs=num_inputs, doc=doc,
                         gradient=registry.NOT_DIFFERENTIABLE)


_register("StringSplit", _string_split_infer, 2,
          "Splits strings at any byte of a delimiter set, to a SparseTensor.")
_register("StringSplitV2", _string_split_v2_infer, 2,
          "Splits strings at a separator (Python's str.split), to a SparseTensor.")
_register("StringToNumber", _string_to_number_infer, 1, "Parses strings as numbers.")
_register("AsString", _as_string_infer, 1, "Formats numbers, bools or strings as strings.")
_register("Substr", _substr_infer, 3, "Substrings by position and length (broadcasting).")
_register("RegexReplace", _regex_replace_infer, 3, "Replaces regex matches.")
_register("StaticRegexReplace", _static_regex_replace_infer, 1,
          "Replaces matches of a regex given as attrs.")
_register("RegexFullMatch",
          _elementwise_infer("RegexFullMatch", dtypes.bool, scalar_args=("pattern",)), 2,
          "Whether each string matches a regex entirely.")
_register("StaticRegexFullMatch", _elementwise_infer("StaticRegexFullMatch", dtypes.bool), 1,
          "Whether each string matches a regex given as an attr entirely.")
_register("StringStrip", _elementwise_infer("StringStrip", dtypes.string), 1,
          "Strips leading and trailing ASCII whitespace.")
_register("StringLength", _unit_infer("StringLength", dtypes.int32), 1,
          "String lengths in bytes or UTF-8 characters.")
_register("StringLower", _case_infer("StringLower"), 1, "Lower-cases strings.")
_register("StringUpper", _case_infer("StringUpper"), 1, "Upper-cases strings.")
_register("EncodeBase64", _elementwise_infer("EncodeBase64", dtypes.string), 1,
          "Web-safe base64 encoding.")
_register("DecodeBase64", _elementwise_infer("DecodeBase64", dtypes.string), 1,
          "Web-safe base64 decoding.")
_register("StringToHashBucketFast", _hash_bucket_infer("StringToHashBucketFast"), 1,
          "FarmHash Fingerprint64 of each string modulo num_buckets.")
_register("StringToHashBucket", _hash_bucket_infer("StringToHashBucket", "string_tensor"), 1,
          "TF's legacy Hash64 of each string modulo num_buckets.")
_register("UnsortedSegmentJoin", _unsorted_segment_join_infer, 3,
          "Joins the strings of each segment, in input order.")
_register("StringNGrams", _string_ngrams_infer, 2,
          "The n-grams of each row of a ragged string tensor (values and row splits).")
_register("UnicodeTranscode", _unicode_transcode_infer, 1,
          "Re-encodes text from one encoding to UTF-8, UTF-16-BE or UTF-32-BE.")
_register("UnicodeEncode", _unicode_encode_infer, 2,
          "Encodes rows of code points (values and row splits) as strings.")
_register("UnicodeDecode", _unicode_decode_infer("UnicodeDecode", False), 1,
          "Decodes each string to code points (row splits and values).")
_register("UnicodeDecodeWithOffsets", _unicode_decode_infer("UnicodeDecodeWithOffsets", True),
          1, "Decodes each string to code points and their byte offsets.")
_register("StringToHashBucketStrong",
          _hash_bucket_infer("StringToHashBucketStrong", keyed=True), 1,
          "Keyed SipHash-2-4 of each string modulo num_buckets.")


# ---- public wrappers --------------------------------------------------------------------------

def _strings(value, name="input"):
    return graph_lib.convert_to_tensor(value, dtype=dtypes.string, name=name)


def _create(op_type, inputs, attrs, name, arg_names=("input",)):
    """Builds one op; inputs that are not Tensors become string constants in its scope."""
    values = [value for value in inputs if isinstance(value, graph_lib.Tensor)]
    with graph_lib.name_scope(name, op_type, values) as scope:
        graph = graph_lib.get_default_graph()
        tensors = [value if isinstance(value, graph_lib.Tensor) else _strings(value, arg)
                   for value, arg in zip(inputs, arg_names)]
        return graph.create_op(op_type, tensors, attrs, name=scope).outputs


def _sparse_split(op_type, source, separator, attrs, name, any_rank=False):
    """Runs a split op on a vector. With `any_rank`, a scalar counts as a one-element vector
    and a tensor of higher rank is split as its flattening, each token's row becoming the
    string's index (TF's sparse form of the ragged result)."""
    values = [value for value in (source, separator) if isinstance(value, graph_lib.Tensor)]
    with graph_lib.name_scope(name, op_type, values) as scope:
        graph = graph_lib.get_default_graph()
        source = _strings(source, "source")
        separator = _strings(separator, "sep")
        rank = source.shape.ndims
        if any_rank and rank == 0:
            source = array_ops.reshape(source, [1])
        elif any_rank and rank is not None and rank > 1:
            flat = array_ops.reshape(source, [-1])
            indices, values, shape = graph.create_op(op_type, [flat, separator], attrs,
                                                     name=scope).outputs
            return _unflatten_rows(source, indices, values, shape)
        indices, values, shape = graph.create_op(op_type, [source, separator], attrs,
                                                 name=scope).outputs
        return SparseTensor(indices, values, shape)


def _unflatten_rows(source, indices, values, shape):
    """The split of `source`'s flattening, with each row index unravelled into `source`'s
    coordinates: indices [N, rank + 1], dense shape ``source.shape + [most tokens]``."""
    source_shape = array_ops.shape(source, out_type=dtypes.int64)
    rows = indices[:, 0]
    coordinates = []
    for axis in reversed(range(source.shape.ndims)):
        size = source_shape[axis]
        coordinates.insert(0, math_ops.floormod(rows, size))
        rows = math_ops.floordiv(rows, size)
    full_indices = array_ops.concat(
        [array_ops.stack(coordinates, axis=1), indices[:, 1:]], axis=1)
    dense_shape = array_ops.concat([source_shape, shape[1:]], axis=0)
    return SparseTensor(full_indices, values, dense_shape)


def _check_result_type(result_type):
    if result_type == "RaggedTensor":
        raise NotImplementedError("result_type='RaggedTensor': this library has no "
                                  "RaggedTensor; use the default 'SparseTensor'")
    if result_type != "SparseTensor":
        raise ValueError("result_type must be 'RaggedTensor' or 'SparseTensor'.")


def string_split(source, sep=None, skip_empty=True, delimiter=None,
                 result_type="SparseTensor", name=None):
    """Splits each string of a vector at any byte of `sep` (TF 1's ``tf.string_split``).

    An empty `sep` splits into single bytes. Token j of string i is the value at [i, j] of the
    result; its dense shape is [number of strings, most tokens in one string].

    Args:
      source: a 1-D string tensor.
      sep: a scalar string, the set of delimiter bytes; default ``' '``.
      skip_empty: whether to drop the empty tokens.
      delimiter: the deprecated spelling of `sep`.
      result_type: ``'SparseTensor'``; ``'RaggedTensor'`` is not supported here.
      name: the op's name.

    Returns:
      A `SparseTensor` of strings (indices int64 [N, 2], dense_shape int64 [2]).

    Raises:
      ValueError: if `source` is not a vector or `sep` not a scalar, or both `sep` and
        `delimiter` are given.
      NotImplementedError: for ``result_type='RaggedTensor'``.
    """
    if sep is not None and delimiter is not None:
        raise ValueError("Cannot specify both 'sep' and 'delimiter'.")
    sep = delimiter if sep is None else sep
    _check_result_type(result_type)
    return _sparse_split("StringSplit", source, " " if sep is None else sep,
                         {"skip_empty": bool(skip_empty)}, name or "StringSplit")


def split(input=None, sep=None, maxsplit=-1, result_type="SparseTensor", source=None,  # noqa: A002
          name=None):
    """Splits strings at `sep` like Python's ``str.split`` (TF 1's ``tf.strings.split``).

    With `sep` None or empty, runs of whitespace separate tokens and leading or trailing
    whitespace gives none; otherwise every occurrence of the whole `sep` splits, and empty
    tokens are kept. At most `maxsplit` splits per string when it is not -1. The result is
    TF's sparse form of its ragged split: token j of the string at index (i, k, ...) is at
    (i, k, ..., j).

    Args:
      input: a string tensor (a scalar is taken as one string; of unknown rank, a vector).
      sep: a scalar string, the separator; None or ``''`` for whitespace.
      maxsplit: the most splits per string; -1 for no limit.
      result_type: ``'SparseTensor'``; ``'RaggedTensor'`` is not supported here.
      source: the deprecated spelling of `input`.
      name: the op's name.

    Returns:
      A `SparseTensor` of strings, as `string_split`.

    Raises:
      ValueError: if both `input` and `source` or neither is given.
      NotImplementedError: for ``result_type='RaggedTensor'``.
    """
    if (input is None) == (source is None):
        raise ValueError("Specify exactly one of 'input' and 'source'.")
    _check_result_type(result_type)
    return _sparse_split("StringSplitV2", source if input is None else input,
                         "" if sep is None else sep, {"maxsplit": int(maxsplit)},
                         name or "StringSplit", any_rank=True)


def string_to_number(string_tensor, out_type=dtypes.float32, name=None):
    """Parses each string as a number (``tf.string_to_number``, ``tf.strings.to_number``).

    Floats accept what C's ``strtod`` accepts (``'1e3'``, ``'inf'``, ``'nan'``, hex floats),
    integers an optional sign and decimal digits; surrounding whitespace is ignored.

    Args:
      string_tensor: a string tensor.
      out_type: float32, float64, int32 or int64.
      name: the op's name.

    Returns:
      A tensor of `out_type`, shaped like `string_tensor`.

    Raises:
      TypeError: for another `out_type`.
      tf.errors.InvalidArgumentError: at run time, for a string that is not such a number
        (or an integer out of range): "StringToNumberOp could not correctly convert string".
    """
    return _create("StringToNumber", [string_tensor],
                   {"out_type": dtypes.as_dtype(out_type)}, name, ("string_tensor",))[0]


def as_string(input, precision=-1, scientific=False, shortest=False, width=-1,  # noqa: A002
              fill="", name=None):
    """Formats each element as a string (``tf.as_string``), as C's printf would.

    Floats print with ``%f`` (``%e`` if `scientific`, ``%g`` if `shortest`), integers with
    ``%d``, bools as ``true``/``false``; strings pass through, padded to `width`.

    Args:
      input: a numeric, bool or string tensor.
      precision: digits after the point for floats; -1 for printf's default.
      scientific: use scientific notation for floats.
      shortest: use the shorter of plain and scientific notation for floats.
      width: pad to this width; -1 for none.
      fill: ``''`` (pad with spaces on the left), ``'0'``, ``' '``, ``'-'`` (pad on the
        right), ``'+'`` (always sign) or ``'#'``, printf's flags.
      name: the op's name.

    Returns:
      A string tensor shaped like `input`.

    Raises:
      TypeError: for a dtype AsString does not take.
      tf.errors.InvalidArgumentError: at run time, as TF's kernel: a `fill` of more than one
        character or another character, `scientific` with `shortest`, or a `precision`,
        `scientific` or `shortest` that the dtype does not support.
    """
    values = [input] if isinstance(input, graph_lib.Tensor) else []
    with graph_lib.name_scope(name, "AsString", values) as scope:
        graph = graph_lib.get_default_graph()
        tensor = graph_lib.convert_to_tensor(input, name="input")
        attrs = {"precision": int(precision), "scientific": bool(scientific),
                 "shortest": bool(shortest), "width": int(width), "fill": fill}
        return graph.create_op("AsString", [tensor], attrs, name=scope).outputs[0]


def substr(input, pos, len, name=None, unit="BYTE"):  # noqa: A002
    """Substrings of `len` units from `pos` (``tf.substr``, ``tf.strings.substr``).

    `pos` and `len` have one shape, which broadcasts with `input`'s. A negative `pos` counts
    from the end; the substring stops at the end of its string.

    Args:
      input: a string tensor.
      pos: int32 or int64, the first position.
      len: the same dtype as `pos`, the most units to take.
      name: the op's name.
      unit: ``'BYTE'`` or ``'UTF8_CHAR'`` (positions and lengths in code points).

    Returns:
      A string tensor of the broadcast shape.

    Raises:
      ValueError: if `pos` and `len` have different shapes, or `unit` is unknown.
      tf.errors.InvalidArgumentError: at run time, for a `pos` out of range.
    """
    values = [value for value in (input, pos, len) if isinstance(value, graph_lib.Tensor)]
    with graph_lib.name_scope(name, "Substr", values) as scope:
        graph = graph_lib.get_default_graph()
        value = _strings(input)
        pos = graph_lib.convert_to_tensor(pos, name="pos")
        length = graph_lib.convert_to_tensor(
            len, name="len", dtype=None if isinstance(len, graph_lib.Tensor) else pos.dtype)
        return graph.create_op("Substr", [value, pos, length], {"unit": unit},
                               name=scope).outputs[0]


def _is_python_string(value):
    return isinstance(value, (str, bytes))


def regex_replace(input, pattern, rewrite, replace_global=True, name=None):  # noqa: A002
    """Replaces matches of `pattern` by `rewrite` (``tf.regex_replace``).

    Python string patterns and rewrites make TF's ``StaticRegexReplace`` (compiled once),
    tensors its ``RegexReplace``. In `rewrite`, ``\\1``..``\\9`` insert groups and ``\\0``
    the whole match (RE2's syntax).

    Args:
      input: a string tensor.
      pattern: a scalar string, the regular expression.
      rewrite: a scalar string, the replacement.
      replace_global: replace every match, else only the first.
      name: the op's name.

    Returns:
      A string tensor shaped like `input`.

    Raises:
      tf.errors.InvalidArgumentError: at run time, for an invalid pattern.
    """
    if _is_python_string(pattern) and _is_python_string(rewrite):
        return _create("StaticRegexReplace", [input],
                       {"pattern": pattern, "rewrite": rewrite,
                        "replace_global": bool(replace_global)}, name)[0]
    return _create("RegexReplace", [input, pattern, rewrite],
                   {"replace_global": bool(replace_global)}, name,
                   ("input", "pattern", "rewrite"))[0]


def regex_full_match(input, pattern, name=None):  # noqa: A002
    """Whether each string matches `pattern` entirely (``tf.strings.regex_full_match``).

    Args:
      input: a string tensor.
      pattern: a scalar string, the regular expression.
      name: the op's name.

    Returns:
      A bool tensor shaped like `input`.

    Raises:
      tf.errors.InvalidArgumentError: at run time, for an invalid pattern.
    """
    if _is_python_string(pattern):
        return _create("StaticRegexFullMatch", [input], {"pattern": pattern}, name)[0]
    return _create("RegexFullMatch", [input, pattern], {}, name, ("input", "pattern"))[0]


def _unary(op_type, doc):
    def wrapper(input, name=None):  # noqa: A002
        return _create(op_type, [input], {}, name)[0]

    wrapper.__doc__ = doc
    return wrapper


string_strip = _unary("StringStrip", """Strips leading and trailing ASCII whitespace
    (``tf.string_strip``, ``tf.strings.strip``).

    Returns:
      A string tensor shaped like `input`.
    """)
decode_base64 = _unary("DecodeBase64", """Decodes web-safe base64 (``-`` and ``_``; padding
    optional) (``tf.decode_base64``, ``tf.io.decode_base64``).

    Returns:
      A string tensor shaped like `input`.

    Raises:
      tf.errors.InvalidArgumentError: at run time, for a string that is not base64.
    """)


def string_length(input, name=None, unit="BYTE"):  # noqa: A002
    """The length of each string (``tf.strings.length``).

    Args:
      input: a string tensor.
      name: the op's name.
      unit: ``'BYTE'``, or ``'UTF8_CHAR'`` to count code points (the bytes that do not
        continue a UTF-8 sequence).

    Returns:
      An int32 tensor shaped like `input`.
    """
    return _create("StringLength", [input], {"unit": unit}, name)[0]


def _case(op_type, what):
    def wrapper(input, encoding="", name=None):  # noqa: A002
        return _create(op_type, [input], {"encoding": encoding}, name)[0]

    wrapper.__doc__ = f"""{what.capitalize()}-cases each string (``tf.strings.{what}``).

    Args:
      input: a string tensor.
      encoding: ``''`` to change ASCII letters only, or ``'utf-8'`` for Unicode case mapping.
      name: the op's name.

    Returns:
      A string tensor shaped like `input`.

    Raises:
      tf.errors.InvalidArgumentError: at run time, for another encoding.
    """
    return wrapper


lower = _case("StringLower", "lower")
upper = _case("StringUpper", "upper")


def encode_base64(input, pad=False, name=None):  # noqa: A002
    """Encodes each string as web-safe base64 (``tf.encode_base64``).

    Args:
      input: a string tensor.
      pad: whether to pad with ``=`` to a multiple of 4 characters.
      name: the op's name.

    Returns:
      A string tensor shaped like `input`.
    """
    return _create("EncodeBase64", [input], {"pad": bool(pad)}, name)[0]


def string_to_hash_bucket_fast(input, num_buckets, name=None):  # noqa: A002
    """FarmHash ``Fingerprint64`` of each string modulo `num_buckets`
    (``tf.string_to_hash_bucket_fast``); the buckets equal TF's.

    Args:
      input: a string tensor.
      num_buckets: the number of buckets, at least 1.
      name: the op's name.

    Returns:
      An int64 tensor shaped like `input`.

    Raises:
      ValueError: if `num_buckets` is below 1.
    """
    return _create("StringToHashBucketFast", [input], {"num_buckets": num_buckets}, name)[0]


def string_to_hash_bucket(string_tensor, num_buckets, name=None):
    """TF's legacy ``Hash64`` of each string modulo `num_buckets`
    (``tf.string_to_hash_bucket``); prefer `string_to_hash_bucket_fast`.

    Args:
      string_tensor: a string tensor.
      num_buckets: the number of buckets, at least 1.
      name: the op's name.

    Returns:
      An int64 tensor shaped like `string_tensor`.

    Raises:
      ValueError: if `num_buckets` is below 1.
    """
    return _create("StringToHashBucket", [string_tensor], {"num_buckets": num_buckets},
                   name, ("string_tensor",))[0]


def string_to_hash_bucket_strong(input, num_buckets, key, name=None):  # noqa: A002
    """Keyed SipHash-2-4 of each string modulo `num_buckets`
    (``tf.string_to_hash_bucket_strong``): buckets an adversary cannot steer without `key`.

    Args:
      input: a string tensor.
      num_buckets: the number of buckets, at least 1.
      key: two integers, the 128-bit key (each taken modulo 2**64).
      name: the op's name.

    Returns:
      An int64 tensor shaped like `input`.

    Raises:
      ValueError: if `num_buckets` is below 1.
      tf.errors.InvalidArgumentError: at run time, unless `key` has 2 elements.
    """
    return _create("StringToHashBucketStrong", [input],
                   {"num_buckets": num_buckets, "key": [int(word) for word in key]}, name)[0]


def unsorted_segment_join(inputs, segment_ids, num_segments, separator="", name=None):
    """Joins the strings of each segment with `separator`, in the order of `inputs`
    (``tf.strings.unsorted_segment_join``); a segment without strings gives ``''``.

    Args:
      inputs: a string tensor.
      segment_ids: int32 or int64 of a prefix of `inputs`' shape, each in [0, num_segments).
      num_segments: a scalar int32 or int64, the number of segments.
      separator: the string between joined strings.
      name: the op's name.

    Returns:
      A string tensor of shape ``[num_segments] + inputs.shape[segment_ids.ndim:]``.

    Raises:
      ValueError: for shapes that do not match or a negative constant `num_segments`.
      tf.errors.InvalidArgumentError: at run time, for a segment id out of range.
    """
    values = [value for value in (inputs, segment_ids, num_segments)
              if isinstance(value, graph_lib.Tensor)]
    with graph_lib.name_scope(name, "UnsortedSegmentJoin", values) as scope:
        graph = graph_lib.get_default_graph()
        tensors = [_strings(inputs, "inputs"),
                   graph_lib.convert_to_tensor(segment_ids, name="segment_ids"),
                   graph_lib.convert_to_tensor(num_segments, name="num_segments")]
        return graph.create_op("UnsortedSegmentJoin", tensors, {"separator": separator},
                               name=scope).outputs[0]


def _dense_row_splits(tensor):
    """`tensor`'s int64 shape, and the row splits of its flattening seen as rows along the
    last axis (the ragged ops' form of a dense tensor)."""
    shape = array_ops.shape(tensor, out_type=dtypes.int64)
    rows = math_ops.reduce_prod(shape[:-1])
    return shape, array_ops.range(rows + 1, dtype=dtypes.int64) * shape[-1]


def ngrams(data, ngram_width, separator=" ", pad_values=None, padding_width=None,
           preserve_short_sequences=False, name=None):
    """The n-grams along the last axis of `data` (``tf.strings.ngrams``, op ``StringNGrams``).

    Each n-gram joins `ngram_width` consecutive strings with `separator`; with `pad_values`,
    each row is first padded on both sides (by ``ngram_width - 1`` strings unless
    `padding_width` says otherwise). Rows here are dense, so every row has the same number of
    n-grams and the result is dense too (TF returns a RaggedTensor only for ragged data).

    Args:
      data: a string tensor of rank 1 or more.
      ngram_width: an int, or a sequence of ints whose n-grams are concatenated per row.
      separator: the string between the joined strings.
      pad_values: None, a string for both sides, or a (left, right) pair of strings.
      padding_width: how many pad values to add on each side; needs `pad_values`.
      preserve_short_sequences: give a row too short for any n-gram one n-gram of the whole
        (padded) row.
      name: the op's name.

    Returns:
      A string tensor of shape ``data.shape[:-1] + [n-grams per row]``.

    Raises:
      ValueError: for scalar `data`, a width below 1, a `padding_width` below 1, or a
        `padding_width` without `pad_values`.
    """
    widths = ([int(ngram_width)] if isinstance(ngram_width, int)
              else [int(width) for width in ngram_width])
    if any(width < 1 for width in widths):
        raise ValueError(f"All ngram_widths must be greater than 0. Got {ngram_width}")
    if pad_values is None:
        if padding_width is not None:
            raise ValueError("pad_values must be provided if padding_width is set.")
        left_pad = right_pad = ""
        padding_width = 0
    else:
        if padding_width is not None and padding_width < 1:
            raise ValueError("padding_width must be greater than 0.")
        left_pad, right_pad = (pad_values if isinstance(pad_values, (list, tuple))
                               else (pad_values, pad_values))
        padding_width = -1 if padding_width is None else int(padding_width)
    values = [data] if isinstance(data, graph_lib.Tensor) else []
    with graph_lib.name_scope(name, "StringNGrams", values) as scope:
        graph = graph_lib.get_default_graph()
        data = _strings(data, "data")
        if data.shape.ndims == 0:
            raise ValueError("Data must have rank>0")
        shape, splits = _dense_row_splits(data)
        attrs = {"separator": separator, "ngram_widths": widths, "left_pad": left_pad,
                 "right_pad": right_pad, "pad_width": padding_width,
                 "preserve_short_sequences": bool(preserve_short_sequences)}
        grams = graph.create_op("StringNGrams", [array_ops.reshape(data, [-1]), splits], attrs,
                                name=scope).outputs[0]
        out_shape = array_ops.concat([shape[:-1], [-1]], axis=0)
        result = array_ops.reshape(grams, out_shape)
        if data.shape.ndims is not None:
            result.set_shape(data.shape[:-1].concatenate([None]))
        return result


def unicode_transcode(input, input_encoding, output_encoding, errors="replace",  # noqa: A002
                      replacement_char=65533, replace_control_characters=False, name=None):
    """Re-encodes each string (``tf.strings.unicode_transcode``).

    Python's codecs stand in for ICU's converters: `input_encoding` is any name they know;
    malformed input is handled per maximal ill-formed subsequence, as ICU does.

    Args:
      input: a string tensor.
      input_encoding: the encoding of `input`, e.g. ``'UTF-8'``, ``'UTF-16-BE'``,
        ``'ISO-8859-1'``.
      output_encoding: ``'UTF-8'``, ``'UTF-16-BE'`` or ``'UTF-32-BE'``.
      errors: ``'replace'`` malformed input by `replacement_char`, ``'ignore'`` it, or
        ``'strict'``: fail.
      replacement_char: the code point replacing malformed input (U+FFFD when it is not a
        valid one).
      replace_control_characters: also replace the C0 controls U+0000..U+001F.
      name: the op's name.

    Returns:
      A string tensor shaped like `input`.

    Raises:
      ValueError: for an unknown `output_encoding` or `errors`.
      tf.errors.InvalidArgumentError: at run time, for an unknown `input_encoding`, or
        malformed input under ``errors='strict'``.
    """
    return _create("UnicodeTranscode", [input],
                   {"input_encoding": input_encoding, "output_encoding": output_encoding,
                    "errors": errors, "replacement_char": int(replacement_char),
                    "replace_control_characters": bool(replace_control_characters)}, name)[0]


def unicode_encode(input, output_encoding, errors="replace", replacement_char=65533,  # noqa: A002
                   name=None):
    """Encodes the code points along the last axis of `input` as strings
    (``tf.strings.unicode_encode`` on dense input; op ``UnicodeEncode``).

    Args:
      input: an int32 tensor of rank 1 or more, Unicode code points.
      output_encoding: ``'UTF-8'``, ``'UTF-16-BE'`` or ``'UTF-32-BE'``.
      errors: ``'replace'`` invalid code points (negative, surrogates, above U+10FFFF) by
        `replacement_char`, ``'ignore'`` them, or ``'strict'``: fail.
      replacement_char: the replacing code point.
      name: the op's name.

    Returns:
      A string tensor of shape ``input.shape[:-1]``.

    Raises:
      ValueError: for a scalar `input`, an unknown `output_encoding` or `errors`.
      TypeError: unless `input` is int32.
      tf.errors.InvalidArgumentError: at run time, for an invalid code point under
        ``errors='strict'``.
    """
    values = [input] if isinstance(input, graph_lib.Tensor) else []
    with graph_lib.name_scope(name, "UnicodeEncode", values) as scope:
        graph = graph_lib.get_default_graph()
        codes = graph_lib.convert_to_tensor(input, name="input")
        if codes.shape.ndims == 0:
            raise ValueError("input_tensor's rank must be at least 1.")
        shape, splits = _dense_row_splits(codes)
        attrs = {"output_encoding": output_encoding, "errors": errors,
                 "replacement_char": int(replacement_char)}
        encoded = graph.create_op("UnicodeEncode", [array_ops.reshape(codes, [-1]), splits],
                                  attrs, name=scope).outputs[0]
        result = array_ops.reshape(encoded, shape[:-1])
        if codes.shape.ndims is not None:
            result.set_shape(codes.shape[:-1])
        return result


def _scalar_only(tensor, function):
    if tensor.shape.ndims is None:
        raise ValueError("Rank of `input` must be statically known.")
    if tensor.shape.ndims != 0:
        raise NotImplementedError(
            f"tf.strings.{function} of a tensor of rank {tensor.shape.ndims} makes a "
            "RaggedTensor in TF, which this library lacks; only a scalar string is supported")


def _decode(input, input_encoding, errors, replacement_char,  # noqa: A002
            replace_control_characters, name, function, with_offsets):
    op_type = "UnicodeDecodeWithOffsets" if with_offsets else "UnicodeDecode"
    values = [input] if isinstance(input, graph_lib.Tensor) else []
    with graph_lib.name_scope(name, op_type, values) as scope:
        graph = graph_lib.get_default_graph()
        tensor = _strings(input)
        _scalar_only(tensor, function)
        attrs = {"input_encoding": input_encoding, "errors": errors,
                 "replacement_char": int(replacement_char),
                 "replace_control_characters": bool(replace_control_characters)}
        return graph.create_op(op_type, [tensor], attrs, name=scope).outputs[1:]


def unicode_decode(input, input_encoding, errors="replace", replacement_char=65533,  # noqa: A002
                   replace_control_characters=False, name=None):
    """The code points of a scalar string (``tf.strings.unicode_decode``, op
    ``UnicodeDecode``); malformed input is handled as in `unicode_transcode`.

    Args:
      input: a scalar string tensor (a tensor of higher rank makes a RaggedTensor in TF).
      input_encoding: its encoding, e.g. ``'UTF-8'``.
      errors: ``'replace'``, ``'ignore'`` or ``'strict'``.
      replacement_char: the code point for malformed input.
      replace_control_characters: also replace U+0000..U+001F.
      name: the op's name.

    Returns:
      A 1-D int32 tensor of code points.

    Raises:
      NotImplementedError: for an input that is not a scalar.
      ValueError: for an input of unknown rank.
      tf.errors.InvalidArgumentError: at run time, for an unknown encoding, or malformed
        input under ``errors='strict'``.
    """
    return _decode(input, input_encoding, errors, replacement_char,
                   replace_control_characters, name, "unicode_decode", False)[0]


def unicode_decode_with_offsets(input, input_encoding, errors="replace",  # noqa: A002
                                replacement_char=65533, replace_control_characters=False,
                                name=None):
    """`unicode_decode`, and the byte offset at which each code point starts
    (``tf.strings.unicode_decode_with_offsets``); a scalar string only.

    Returns:
      A pair: the int32 code points and their int64 starting byte offsets.
    """
    return tuple(_decode(input, input_encoding, errors, replacement_char,
                         replace_control_characters, name, "unicode_decode_with_offsets", True))


def unicode_split(input, input_encoding, errors="replace", replacement_char=65533,  # noqa: A002
                  name=None):
    """The characters of a scalar string, each encoded in `input_encoding` again
    (``tf.strings.unicode_split``); `input_encoding` must be one `unicode_encode` writes.

    Returns:
      A 1-D string tensor.

    Raises:
      NotImplementedError: for an input that is not a scalar.
    """
    codes = unicode_decode(input, input_encoding, errors, replacement_char, name=name)
    return unicode_encode(array_ops.expand_dims(codes, -1), input_encoding, errors,
                          replacement_char)


def unicode_split_with_offsets(input, input_encoding, errors="replace",  # noqa: A002
                               replacement_char=65533, name=None):
    """`unicode_split`, and the byte offset at which each character starts
    (``tf.strings.unicode_split_with_offsets``); a scalar string only.

    Returns:
      A pair: the 1-D string tensor of characters and their int64 starting byte offsets.
    """
    codes, starts = unicode_decode_with_offsets(input, input_encoding, errors,
                                                replacement_char, name=name)
    return (unicode_encode(array_ops.expand_dims(codes, -1), input_encoding, errors,
                           replacement_char), starts)


def bytes_split(input, name=None):  # noqa: A002
    """The bytes of a scalar string, each a string (``tf.strings.bytes_split``).

    Returns:
      A 1-D string tensor.

    Raises:
      NotImplementedError: for an input that is not a scalar.
    """
    values = [input] if isinstance(input, graph_lib.Tensor) else []
    with graph_lib.name_scope(name, "BytesSplit", values):
        tensor = _strings(input)
        _scalar_only(tensor, "bytes_split")
        return string_split(array_ops.reshape(tensor, [1]), sep="", skip_empty=False).values


# ``tf.strings``' names of these functions (TF 1's ``tf.compat.v1.strings``).
STRINGS_NAMESPACE = {
    "split": split, "to_number": string_to_number, "as_string": as_string, "substr": substr,
    "regex_replace": regex_replace, "regex_full_match": regex_full_match,
    "strip": string_strip, "length": string_length, "lower": lower, "upper": upper,
    "join": string_join, "reduce_join": reduce_join,
    "to_hash_bucket_fast": string_to_hash_bucket_fast,
    "to_hash_bucket": string_to_hash_bucket,
    "to_hash_bucket_strong": string_to_hash_bucket_strong,
    "unsorted_segment_join": unsorted_segment_join, "ngrams": ngrams,
    "unicode_transcode": unicode_transcode, "unicode_encode": unicode_encode,
    "unicode_decode": unicode_decode, "unicode_decode_with_offsets": unicode_decode_with_offsets,
    "unicode_split": unicode_split, "unicode_split_with_offsets": unicode_split_with_offsets,
    "bytes_split": bytes_split,
}
