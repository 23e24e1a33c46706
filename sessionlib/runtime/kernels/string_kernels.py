"""Kernels of the string ops (``ops/string_ops.py``): splitting, parsing and formatting numbers,
substrings, regular expressions, case, base64 and hash buckets.

Strings are object arrays of `bytes` (a fed Python `str` is taken as UTF-8). Most kernels are
Python's own string methods per element, which a compiled loop would barely speed up, so their
reference kernel is also the fast one. The hash buckets are arithmetic per byte: their fast
kernels are compiled (``_core/string_hash.pyx``, little-endian machines), their reference the
Python spec in ``runtime/string_hashing.py``. Messages of run-time errors are TF's.
"""

import base64
import codecs
import fractions
import math
import re
import sys
import threading

import numpy as np

from sessionlib import dtypes, errors
from sessionlib._core import string_hash as _fast_hash
from sessionlib.runtime import string_hashing
from sessionlib.runtime.kernel_table import register_kernel


def _invalid(message):
    return errors.InvalidArgumentError(None, None, message)


def _shape_text(shape):
    """A shape as TF's messages write it: ``[2,3]``."""
    return "[" + ",".join(str(int(dim)) for dim in shape) + "]"


def _as_bytes(value):
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    return bytes(value)


def _scalar_bytes(array, what):
    array = np.asarray(array, dtype=object)
    if array.ndim:
        raise _invalid(f"{what} must be a scalar, got shape: {_shape_text(array.shape)}")
    return _as_bytes(array[()])


def _map(array, function, dtype=object):
    """`function` of each element of the string array `array`, in an array of its shape."""
    array = np.asarray(array, dtype=object)
    out = np.empty(array.shape, dtype=dtype)
    flat_out = out.reshape(-1)
    for index, value in enumerate(array.reshape(-1)):
        flat_out[index] = function(_as_bytes(value))
    return (out,)


# ---- StringSplit, StringSplitV2 --------------------------------------------------------------

def _sparse_rows(rows):
    """(indices, values, dense_shape) of a SparseTensor whose row i holds the tokens rows[i]."""
    count = sum(len(row) for row in rows)
    indices = np.empty((count, 2), dtype=np.int64)
    values = np.empty(count, dtype=object)
    position = 0
    for row_index, row in enumerate(rows):
        end = position + len(row)
        indices[position:end, 0] = row_index
        indices[position:end, 1] = np.arange(len(row))
        values[position:end] = row
        position = end
    width = max((len(row) for row in rows), default=0)
    return indices, values, np.array([len(rows), width], dtype=np.int64)


def _vector_of_strings(array):
    array = np.asarray(array, dtype=object)
    if array.ndim != 1:
        raise _invalid(f"input must be a vector, got shape: {_shape_text(array.shape)}")
    return [_as_bytes(value) for value in array]


def _string_split_kernel(ctx, inputs, attrs):
    source = _vector_of_strings(inputs[0])
    delimiters = _scalar_bytes(inputs[1], "delimiter")
    skip_empty = attrs.get("skip_empty", True)
    # Any delimiter byte splits: map them all to the first and split at that one.
    table = bytes.maketrans(delimiters, delimiters[:1] * len(delimiters))
    rows = []
    for text in source:
        if not text:
            tokens = []
        elif not delimiters:
            tokens = [text[i:i + 1] for i in range(len(text))]
        else:
            tokens = text.translate(table).split(delimiters[:1])
            # The tokens are the original bytes: translation only moved the boundaries.
            tokens = _original_tokens(text, tokens)
        rows.append([token for token in tokens if token] if skip_empty else tokens)
    return _sparse_rows(rows)


def _original_tokens(text, translated_tokens):
    tokens, start = [], 0
    for token in translated_tokens:
        tokens.append(text[start:start + len(token)])
        start += len(token) + 1
    return tokens


def _string_split_v2_kernel(ctx, inputs, attrs):
    source = _vector_of_strings(inputs[0])
    separator = _scalar_bytes(inputs[1], "sep")
    maxsplit = int(attrs.get("maxsplit", -1))
    # Python's bytes.split is TF's rule: whitespace runs when sep is empty, else every sep.
    return _sparse_rows([text.split(separator or None, maxsplit) for text in source])


# ---- StringToNumber -----------------------------------------------------------------------------

_C_SPACE = b" \t\n\v\f\r"
_DECIMAL = re.compile(rb"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_HEX_FLOAT = re.compile(rb"[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)"
                        rb"(?:[pP][+-]?\d+)?")
_SPECIAL = re.compile(rb"([+-]?)(inf|infinity|nan(?:\([0-9A-Za-z_]*\))?)", re.IGNORECASE)
_INTEGER = re.compile(rb"[+-]?\d+")


def _parse_double(text):
    """The double C's strtod reads from all of `text`, or None."""
    if _DECIMAL.fullmatch(text):
        return float(text)
    if _HEX_FLOAT.fullmatch(text):
        sign = -1.0 if text[:1] == b"-" else 1.0
        return sign * float.fromhex(text.lstrip(b"+-").decode("ascii"))
    special = _SPECIAL.fullmatch(text)
    if special:
        value = math.nan if special.group(2)[:1].lower() == b"n" else math.inf
        return -value if special.group(1) == b"-" else value
    return None


def _to_float32(text, value):
    """`value` (the double nearest to decimal `text`) rounded to float32 as a direct parse
    would: a double exactly halfway between two float32s may stand for a decimal that is
    not, so the tie is decided on the exact decimal."""
    with np.errstate(over="ignore"):
        single = np.float32(value)
    if not math.isfinite(value) or float(single) == value:
        return single
    with np.errstate(over="ignore"):
        below = single if float(single) < value else np.nextafter(single, np.float32(-np.inf))
        above = np.nextafter(below, np.float32(np.inf))
    if not (math.isfinite(float(above)) and (float(below) + float(above)) / 2 == value):
        return single
    try:
        exact = fractions.Fraction(text.decode("ascii"))
    except ValueError:  # a hex float: its double is exact
        return single
    if exact > fractions.Fraction(value):
        return above
    if exact < fractions.Fraction(value):
        return below
    return single


_INT_RANGES = {dtypes.int32: (-2**31, 2**31 - 1), dtypes.int64: (-2**63, 2**63 - 1)}


def _string_to_number_kernel(ctx, inputs, attrs):
    out_type = dtypes.as_dtype(attrs.get("out_type", dtypes.float32))
    is_float = out_type in (dtypes.float32, dtypes.float64)
    low, high = _INT_RANGES.get(out_type, (0, 2**64 - 1))

    def convert(raw):
        text = raw.strip(_C_SPACE)
        if is_float:
            value = _parse_double(text)
            if value is not None:
                return _to_float32(text, value) if out_type is dtypes.float32 else value
        elif _INTEGER.fullmatch(text) and low <= int(text) <= high:
            return int(text)
        raise _invalid("StringToNumberOp could not correctly convert string: "
                       + raw.decode("utf-8", "replace"))

    return _map(inputs[0], convert, out_type.as_numpy_dtype)


# ---- AsString -----------------------------------------------------------------------------------

_FILL_FLAGS = " +-0#"


def _as_string_kernel(ctx, inputs, attrs):
    array = np.asarray(inputs[0])
    dtype = dtypes.as_dtype(attrs.get("T", array.dtype if array.dtype != object
                                      else dtypes.string))
    precision, width = int(attrs.get("precision", -1)), int(attrs.get("width", -1))
    scientific, shortest = bool(attrs.get("scientific")), bool(attrs.get("shortest"))
    fill = attrs.get("fill", "")
    fill = fill.decode("utf-8") if isinstance(fill, bytes) else fill
    if len(fill) > 1:
        raise _invalid("Fill string must be one or fewer characters")
    if fill and fill not in _FILL_FLAGS:
        raise _invalid(f'Fill argument not supported: "{fill}"')
    if scientific and shortest:
        raise _invalid("Cannot select both scientific and shortest notation")
    is_float = dtype.is_floating or dtype.name.startswith("complex")
    if not is_float and dtype is not dtypes.string:
        if precision > -1:
            raise _invalid(f"precision not supported for datatype {dtype.name}")
        if scientific or shortest:
            raise _invalid("scientific and shortest format not supported for datatype "
                           f"{dtype.name}")
    spec = "%" + fill + (str(width) if width > -1 else "")
    if dtype is dtypes.bool:
        return _map_values(array, lambda value: b"true" if value else b"false")
    if dtype is dtypes.string:
        return _map(array, lambda value: (spec + "s").encode() % value)
    if not is_float:
        return _map_values(array, lambda value: ((spec + "d") % int(value)).encode())
    spec += (f".{precision}" if precision > -1 else "") + (
        "g" if shortest else "e" if scientific else "f")
    # C's printf pads inf and nan with spaces even under the '0' flag; Python's % does not.
    non_finite_spec = spec.replace("0", "") if fill == "0" else spec

    def number(value):
        value = float(value)
        return (spec if math.isfinite(value) else non_finite_spec) % value

    if dtype.name.startswith("complex"):
        return _map_values(array, lambda value: (
            f"({number(value.real)},{number(value.imag)})").encode())
    return _map_values(array, lambda value: number(value).encode())


def _map_values(array, function):
    out = np.empty(array.shape, dtype=object)
    flat_out = out.reshape(-1)
    for index, value in enumerate(array.reshape(-1)):
        flat_out[index] = function(value)
    return (out,)


# ---- Substr -------------------------------------------------------------------------------------

def _char_starts(text):
    """The byte offsets at which UTF-8 characters start (bytes that are no continuation)."""
    return [index for index, byte in enumerate(text) if byte & 0xC0 != 0x80]


def _substr_kernel(ctx, inputs, attrs):
    value, pos, length = (np.asarray(array) for array in inputs)
    if pos.shape != length.shape:
        raise _invalid(f"pos and len should have the same shape, got: "
                       f"{_shape_text(pos.shape)} vs. {_shape_text(length.shape)}")
    try:
        value, pos, length = np.broadcast_arrays(np.asarray(value, dtype=object), pos, length)
    except ValueError:
        raise _invalid(f"Incompatible shapes: {_shape_text(np.shape(inputs[0]))} vs. "
                       f"{_shape_text(pos.shape)}") from None
    by_char = attrs.get("unit", "BYTE") == "UTF8_CHAR"
    out = np.empty(value.shape, dtype=object)
    flat_out = out.reshape(-1)
    for index, (text, start, count) in enumerate(zip(value.reshape(-1), pos.reshape(-1),
                                                     length.reshape(-1))):
        text, start, count = _as_bytes(text), int(start), int(count)
        starts = _char_starts(text) if by_char else None
        size = len(starts) if by_char else len(text)
        if start > size or start < -size:
            where = "" if by_char else f" {text!r}"
            raise _invalid(f"pos {start} out of range for string{where} at index {index}")
        start = start + size if start < 0 else start
        # A negative length takes the rest, as an unsigned length would in TF.
        stop = size if count < 0 else min(size, start + count)
        if by_char:
            starts.append(len(text))
            flat_out[index] = text[starts[start]:starts[stop]]
        else:
            flat_out[index] = text[start:stop]
    return (out,)


# ---- RegexReplace, RegexFullMatch -------------------------------------------------------------

def _compile(pattern):
    """`pattern` (RE2 syntax, UTF-8) as a Python regex over text."""
    pattern = _as_bytes(pattern)
    try:
        return re.compile(pattern.decode("utf-8"), re.ASCII)
    except (re.error, UnicodeDecodeError) as error:
        raise _invalid(f"Invalid pattern: {pattern.decode('utf-8', 'replace')}, error: "
                       f"{error}") from None


def _parse_rewrite(rewrite):
    """RE2's rewrite string as pieces (str, or int for a group) and its highest group.
    RE2 writes a rewrite up to an invalid escape and drops the rest."""
    text = _as_bytes(rewrite).decode("utf-8", "surrogateescape")
    pieces, literal, index, highest = [], [], 0, 0
    while index < len(text):
        char = text[index]
        if char != "\\":
            literal.append(char)
            index += 1
            continue
        following = text[index + 1:index + 2]
        if following.isdigit() and following.isascii():
            pieces.append("".join(literal))
            literal = []
            pieces.append(int(following))
            highest = max(highest, int(following))
        elif following == "\\":
            literal.append("\\")
        else:
            break
        index += 2
    pieces.append("".join(literal))
    return pieces, highest


def _decode(text):
    return text.decode("utf-8", "surrogateescape")


def _encode(text):
    return text.encode("utf-8", "surrogateescape")


def _replace_all(regex, pieces, replace_global):
    def substitute(text):
        text = _decode(text)
        out, position, last_end, count = [], 0, None, 0
        for match in regex.finditer(text):
            # RE2 allows no empty match right where the previous match ended.
            if match.start() == match.end() == last_end:
                continue
            out.append(text[position:match.start()])
            out.extend(match.group(piece) or "" if isinstance(piece, int) else piece
                       for piece in pieces)
            position = last_end = match.end()
            count += 1
            if not replace_global:
                break
        if not count:
            return _encode(text)
        out.append(text[position:])
        return _encode("".join(out))

    return substitute


def _regex_replace(array, pattern, rewrite, replace_global):
    regex = _compile(pattern)
    pieces, highest = _parse_rewrite(rewrite)
    if highest > regex.groups:
        # RE2 refuses such a rewrite and leaves every string as it is.
        return _map(array, lambda text: text)
    return _map(array, _replace_all(regex, pieces, replace_global))


def _regex_replace_kernel(ctx, inputs, attrs):
    return _regex_replace(inputs[0], _scalar_bytes(inputs[1], "pattern"),
                          _scalar_bytes(inputs[2], "rewrite"),
                          attrs.get("replace_global", True))


def _static_regex_replace_kernel(ctx, inputs, attrs):
    return _regex_replace(inputs[0], attrs["pattern"], attrs["rewrite"],
                          attrs.get("replace_global", True))


def _full_match(array, pattern):
    regex = _compile(pattern)
    return _map(array, lambda text: regex.fullmatch(_decode(text)) is not None, np.bool_)


def _regex_full_match_kernel(ctx, inputs, attrs):
    return _full_match(inputs[0], _scalar_bytes(inputs[1], "pattern"))


def _static_regex_full_match_kernel(ctx, inputs, attrs):
    return _full_match(inputs[0], attrs["pattern"])


# ---- StringStrip, StringLength, StringLower, StringUpper --------------------------------------

def _string_strip_kernel(ctx, inputs, attrs):
    # bytes.strip() strips exactly ASCII whitespace (" \t\n\v\f\r"), as TF does.
    return _map(inputs[0], bytes.strip)


def _string_length_kernel(ctx, inputs, attrs):
    if attrs.get("unit", "BYTE") == "UTF8_CHAR":
        return _map(inputs[0], lambda text: len(_char_starts(text)), np.int32)
    return _map(inputs[0], len, np.int32)


def _case_kernel(ascii_change, unicode_change):
    def kernel(ctx, inputs, attrs):
        encoding = attrs.get("encoding", "")
        encoding = encoding.decode() if isinstance(encoding, bytes) else encoding
        if encoding == "":
            return _map(inputs[0], ascii_change)  # bytes methods change ASCII letters only
        if encoding.lower() not in ("utf-8", "utf8"):
            raise _invalid(f"only utf-8 or '' (no encoding) is supported, received {encoding}")
        return _map(inputs[0], lambda text: unicode_change(
            text.decode("utf-8", "replace")).encode("utf-8"))

    return kernel


# ---- EncodeBase64, DecodeBase64 --------------------------------------------------------------

_WEB_SAFE = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_DECODE_TABLE = {byte: value for value, byte in enumerate(_WEB_SAFE)}


def _encode_base64_kernel(ctx, inputs, attrs):
    pad = attrs.get("pad", False)
    return _map(inputs[0], lambda text: (base64.urlsafe_b64encode(text) if pad
                                         else base64.urlsafe_b64encode(text).rstrip(b"=")))


def _decode_quad(chunk):
    bits = 0
    for byte in chunk:
        value = _DECODE_TABLE.get(byte)
        if value is None:
            raise _invalid("Invalid character found in base64.")
        bits = (bits << 6) | value
    return bits.to_bytes(3, "big")


def _decode_base64(text):
    """TF's decoder: the quads before the last are decoded first (so their bad characters are
    reported first); padding is optional and allowed in the last quad only; the spare bits of
    an incomplete quad are ignored."""
    if not text:
        return b""
    last = len(text) - ((len(text) - 1) % 4 + 1)
    out = bytearray()
    for start in range(0, last, 4):
        out += _decode_quad(text[start:start + 4])
    end = len(text)
    if end - last == 4 and text[end - 1] == ord("="):
        end -= 2 if text[end - 2] == ord("=") else 1
    remain = end - last
    if remain == 1:
        raise _invalid("Base64 string length cannot be 1 modulo 4.")
    out += _decode_quad(text[last:end] + b"A" * (4 - remain))[:remain - 1]
    return bytes(out)


def _decode_base64_kernel(ctx, inputs, attrs):
    return _map(inputs[0], _decode_base64)


# ---- UnsortedSegmentJoin ------------------------------------------------------------------------

def _unsorted_segment_join_kernel(ctx, inputs, attrs):
    values = np.asarray(inputs[0], dtype=object)
    segment_ids = np.asarray(inputs[1])
    count = int(inputs[2])
    if values.shape[:segment_ids.ndim] != segment_ids.shape:
        raise _invalid("segment_ids should be the same shape as data's prefix, got: "
                       f"{_shape_text(segment_ids.shape)} vs. {_shape_text(values.shape)}")
    flat_ids = segment_ids.reshape(-1)
    if flat_ids.size and (flat_ids.min() < 0 or flat_ids.max() >= count):
        raise _invalid("segment_ids are not allowed to exceed num_segments or to have "
                       "negative values.")
    inner = values.shape[segment_ids.ndim:]
    rows = values.reshape((flat_ids.size, -1) if flat_ids.size else (0, int(np.prod(inner))))
    separator = _as_bytes(attrs.get("separator", ""))
    pieces = [[[] for _ in range(rows.shape[1])] for _ in range(count)]
    for row, segment in zip(rows, flat_ids.tolist()):
        for column, value in enumerate(row):
            pieces[segment][column].append(_as_bytes(value))
    out = np.empty((count, rows.shape[1]), dtype=object)
    for segment in range(count):
        for column in range(rows.shape[1]):
            out[segment, column] = separator.join(pieces[segment][column])
    return (out.reshape((count,) + inner),)


# ---- StringNGrams -------------------------------------------------------------------------------

def _string_ngrams_kernel(ctx, inputs, attrs):
    data = [_as_bytes(value) for value in np.asarray(inputs[0], dtype=object).reshape(-1)]
    splits = np.asarray(inputs[1])
    if splits.size:
        if int(splits[0]) != 0:
            raise _invalid(f"First split value must be 0, got {int(splits[0])}")
        for previous, value in zip(splits[:-1].tolist(), splits[1:].tolist()):
            if not previous <= value <= len(data):
                raise _invalid(f"Invalid split value {value}, must be in "
                               f"[{previous}, {len(data)}]")
    widths = [int(width) for width in attrs["ngram_widths"]]
    if any(width < 1 for width in widths):
        raise _invalid("ngram_widths must contain positive values")
    separator = _as_bytes(attrs.get("separator", ""))
    left_pad = _as_bytes(attrs.get("left_pad", ""))
    right_pad = _as_bytes(attrs.get("right_pad", ""))
    pad_width = int(attrs.get("pad_width", 0))
    preserve_short = bool(attrs.get("preserve_short_sequences", False))

    def padding(width):
        # A negative pad_width pads each width by width - 1; never more than that.
        return min(width - 1 if pad_width < 0 else pad_width, width - 1)

    def grams(row, width, pad):
        padded = [left_pad] * pad + row + [right_pad] * pad
        return [separator.join(padded[start:start + width])
                for start in range(len(padded) - width + 1)]

    out, out_splits = [], [0]
    for start, stop in zip(splits[:-1].tolist(), splits[1:].tolist()):
        row = data[start:stop]
        row_grams = [] if not row else [
            gram for width in widths for gram in grams(row, width, padding(width))]
        if preserve_short and row and not row_grams:
            # The whole row as one n-gram, padded as a fixed pad width allows.
            pad = max(pad_width, 0)
            row_grams = grams(row, len(row) + 2 * pad, pad)
        out.extend(row_grams)
        out_splits.append(len(out))
    values = np.empty(len(out), dtype=object)
    values[:] = out
    return values, np.asarray(out_splits, dtype=splits.dtype)


# ---- UnicodeTranscode, UnicodeEncode ------------------------------------------------------------

_CODECS = {"UTF-8": "utf-8", "UTF-16-BE": "utf-16-be", "UTF-32-BE": "utf-32-be"}
# Malformed input becomes this private marker (a lone surrogate, which no decoder produces),
# one per maximal ill-formed subsequence, so the kernels can replace or drop it.
_MALFORMED = "\udfff"
_MARK_ERRORS = "sessionlib_mark_malformed"
# The byte spans of the marked subsequences, when a decode asks for them (per thread).
_marked_spans = threading.local()


def _mark_malformed(error):
    spans = getattr(_marked_spans, "spans", None)
    if spans is not None:
        spans.append(error.end - error.start)
    return _MALFORMED, error.end


codecs.register_error(_MARK_ERRORS, _mark_malformed)


def _replacement(code_point):
    valid = 0 <= code_point <= 0x10FFFF and not 0xD800 <= code_point <= 0xDFFF
    return chr(code_point) if valid else "\ufffd"


def _finish_text(text, attrs, strict_message):
    """`text` with its malformed markers handled per the `errors` attr."""
    if _MALFORMED in text:
        mode = attrs.get("errors", "replace")
        if mode == "strict":
            raise _invalid(strict_message)
        text = text.replace(_MALFORMED, "" if mode == "ignore" else
                            _replacement(int(attrs.get("replacement_char", 0xFFFD))))
    return text


def _input_codec(attrs):
    encoding = attrs["input_encoding"]
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise _invalid(f"Could not create converter for input encoding: {encoding}") from None
    return encoding


def _control_table(attrs):
    return dict.fromkeys(range(0x20), _replacement(int(attrs.get("replacement_char", 0xFFFD))))


def _unicode_transcode_kernel(ctx, inputs, attrs):
    encoding = _input_codec(attrs)
    output = _CODECS[attrs["output_encoding"]]
    controls = bool(attrs.get("replace_control_characters"))
    control_table = _control_table(attrs)

    def transcode(data):
        text = data.decode(encoding, _MARK_ERRORS)
        if controls:
            text = text.translate(control_table)
        return _finish_text(text, attrs, "Invalid formatting on input string").encode(output)

    return _map(inputs[0], transcode)


def _unicode_encode_kernel(ctx, inputs, attrs):
    codes = np.asarray(inputs[0]).reshape(-1).tolist()
    splits = np.asarray(inputs[1]).reshape(-1).tolist()
    output = _CODECS[attrs["output_encoding"]]
    out = np.empty(max(len(splits) - 1, 0), dtype=object)
    for row, (start, stop) in enumerate(zip(splits[:-1], splits[1:])):
        text = "".join(chr(code) if 0 <= code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF
                       else _MALFORMED for code in codes[start:stop])
        out[row] = _finish_text(text, attrs, "Code point is out of range for Unicode, or is a "
                                             "surrogate.").encode(output)
    return (out,)


def _decode_with_offsets(data, encoding, attrs, replace_controls):
    """The code points of `data` and the byte offset where each starts."""
    _marked_spans.spans = spans = []
    try:
        text = data.decode(encoding, _MARK_ERRORS)
    finally:
        _marked_spans.spans = None
    mode = attrs.get("errors", "replace")
    if spans and mode == "strict":
        raise _invalid("Invalid formatting on input string")
    replacement = ord(_replacement(int(attrs.get("replacement_char", 0xFFFD))))
    codes, starts, offset, marked = [], [], 0, iter(spans)
    for char in text:
        size = next(marked) if char == _MALFORMED else len(char.encode(encoding))
        if char != _MALFORMED or mode != "ignore":
            codes.append(replacement if char == _MALFORMED else ord(char))
            starts.append(offset)
        offset += size
    if replace_controls:
        codes = [replacement if code < 0x20 else code for code in codes]
    return codes, starts


def _unicode_decode_kernel(with_offsets):
    def kernel(ctx, inputs, attrs):
        encoding = _input_codec(attrs)
        controls = bool(attrs.get("replace_control_characters"))
        splits, codes, starts = [0], [], []
        for value in np.asarray(inputs[0], dtype=object).reshape(-1):
            row_codes, row_starts = _decode_with_offsets(_as_bytes(value), encoding, attrs,
                                                         controls)
            codes += row_codes
            starts += row_starts
            splits.append(len(codes))
        outputs = (np.asarray(splits, np.int64), np.asarray(codes, np.int32))
        return outputs + (np.asarray(starts, np.int64),) if with_offsets else outputs

    return kernel


# ---- StringToHashBucketFast, StringToHashBucket, StringToHashBucketStrong ----------------------

def _hash_bucket_kernel(hash_function):
    def kernel(ctx, inputs, attrs):
        buckets = int(attrs["num_buckets"])
        return _map(inputs[0], lambda text: hash_function(text) % buckets, np.int64)

    return kernel


def _fast_hash_bucket_kernel(buckets_function):
    def kernel(ctx, inputs, attrs):
        return (buckets_function(inputs[0], int(attrs["num_buckets"])),)

    return kernel


def _strong_key(attrs):
    key = [int(word) & (2**64 - 1) for word in attrs.get("key", ())]
    if len(key) != 2:
        raise _invalid("Key must have 2 elements")
    return key


def _strong_hash_bucket_kernel(ctx, inputs, attrs):
    key = _strong_key(attrs)
    buckets = int(attrs["num_buckets"])
    return _map(inputs[0], lambda text: string_hashing.siphash24(key[0], key[1], text) % buckets,
                np.int64)


def _fast_strong_hash_bucket_kernel(ctx, inputs, attrs):
    key = _strong_key(attrs)
    return (_fast_hash.siphash24_buckets(inputs[0], int(attrs["num_buckets"]), key[0], key[1]),)


for _name, _kernel in (
        ("StringSplit", _string_split_kernel), ("StringSplitV2", _string_split_v2_kernel),
        ("StringToNumber", _string_to_number_kernel), ("AsString", _as_string_kernel),
        ("Substr", _substr_kernel), ("RegexReplace", _regex_replace_kernel),
        ("StaticRegexReplace", _static_regex_replace_kernel),
        ("RegexFullMatch", _regex_full_match_kernel),
        ("StaticRegexFullMatch", _static_regex_full_match_kernel),
        ("StringStrip", _string_strip_kernel), ("StringLength", _string_length_kernel),
        ("StringLower", _case_kernel(bytes.lower, str.lower)),
        ("StringUpper", _case_kernel(bytes.upper, str.upper)),
        ("EncodeBase64", _encode_base64_kernel), ("DecodeBase64", _decode_base64_kernel),
        ("UnsortedSegmentJoin", _unsorted_segment_join_kernel),
        ("StringNGrams", _string_ngrams_kernel),
        ("UnicodeTranscode", _unicode_transcode_kernel),
        ("UnicodeEncode", _unicode_encode_kernel),
        ("UnicodeDecode", _unicode_decode_kernel(False)),
        ("UnicodeDecodeWithOffsets", _unicode_decode_kernel(True))):
    # String work per element: the reference kernel is the fast one.
    register_kernel(_name, reference=_kernel)

# The compiled hashes read words in the machine's byte order: little-endian only.
_LITTLE_ENDIAN = sys.byteorder == "little"
for _name, _reference, _fast in (
        ("StringToHashBucketFast", _hash_bucket_kernel(string_hashing.fingerprint64),
         _fast_hash_bucket_kernel(_fast_hash.fingerprint64_buckets)),
        ("StringToHashBucket", _hash_bucket_kernel(string_hashing.legacy_hash64),
         _fast_hash_bucket_kernel(_fast_hash.legacy_hash64_buckets)),
        ("StringToHashBucketStrong", _strong_hash_bucket_kernel,
         _fast_strong_hash_bucket_kernel)):
    register_kernel(_name, reference=_reference, fast=_fast if _LITTLE_ENDIAN else None)
