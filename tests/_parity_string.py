"""Parity cases (see test_parity.py) of the string ops (``ops/string_ops.py``): each op on fed
read-only string arrays (``b's0'`` .. ``b's8'``), and AsString on every dtype it takes."""

import sessionlib as tf

_NUMERIC = (tf.float16, tf.float32, tf.float64, tf.int8, tf.int16, tf.int32, tf.int64,
            tf.uint8)


def _split(f, d):
    split = tf.string_split(f((4,), d), sep="1")
    split_v2 = tf.strings.split(f((3,), d), sep="s", maxsplit=1)
    return [split.indices, split.values, split.dense_shape,
            split_v2.indices, split_v2.values, split_v2.dense_shape]


def _join_numbers(f, d):
    # 's<k>' with the 's' replaced makes numbers: the parse runs on fed read-only strings.
    digits = tf.regex_replace(f((2, 3), d), "s", "1")
    return digits


def add_cases(case):
    """Adds this family's cases through test_parity's `case(op_type, dtypes, build)`."""
    strings = (tf.string,)
    case("StringSplit", strings, lambda f, d: _split(f, d)[:3])
    case("StringSplitV2", strings, lambda f, d: _split(f, d)[3:])
    case("StringToNumber", strings, lambda f, d: [
        tf.string_to_number(_join_numbers(f, d)),
        tf.string_to_number(_join_numbers(f, d), tf.int64)])
    case("AsString", _NUMERIC + (tf.bool, tf.string), lambda f, d: [
        tf.as_string(f((2, 3), d)), tf.as_string(f((3,), d), width=6)]
        + ([tf.as_string(f((3,), d), precision=2, shortest=True)] if d.is_floating else []))
    case("Substr", strings, lambda f, d: [
        tf.substr(f((2, 3), d), 1, 1), tf.substr(f((3,), d), tf.constant([0, 1, -1]),
                                                 tf.constant([1, 1, 5]))])
    case("RegexReplace", strings, lambda f, d: [
        tf.regex_replace(f((2, 3), d), tf.constant("[0-4]"), tf.constant("<\\0>"))])
    case("StaticRegexReplace", strings, lambda f, d: [
        tf.regex_replace(f((2, 3), d), "s", "t", replace_global=False)])
    case("RegexFullMatch", strings, lambda f, d: [
        tf.strings.regex_full_match(f((2, 3), d), tf.constant("s[0-4]"))])
    case("StaticRegexFullMatch", strings, lambda f, d: [
        tf.strings.regex_full_match(f((2, 3), d), "s[5-8]")])
    case("StringStrip", strings, lambda f, d: [tf.string_strip(f((2, 3), d))])
    case("StringLength", strings, lambda f, d: [
        tf.strings.length(f((2, 3), d)), tf.strings.length(f((3,), d), unit="UTF8_CHAR")])
    case("StringLower", strings, lambda f, d: [tf.strings.lower(f((2, 3), d))])
    case("StringUpper", strings, lambda f, d: [
        tf.strings.upper(f((2, 3), d)), tf.strings.upper(f((3,), d), encoding="utf-8")])
    case("EncodeBase64", strings, lambda f, d: [
        tf.encode_base64(f((2, 3), d)), tf.encode_base64(f((3,), d), pad=True)])
    case("DecodeBase64", strings, lambda f, d: [
        tf.decode_base64(tf.encode_base64(f((2, 3), d)))])
    case("UnsortedSegmentJoin", strings, lambda f, d: [
        tf.strings.unsorted_segment_join(f((4, 2), d), tf.constant([2, 0, 2, 1]), 3,
                                         separator=","),
        tf.strings.unsorted_segment_join(f((2, 3), d), tf.constant([[0, 1, 0], [1, 1, 0]],
                                                                   tf.int64), 2)])
    case("StringNGrams", strings, lambda f, d: [
        tf.strings.ngrams(f((2, 4), d), (1, 2), separator="+"),
        tf.strings.ngrams(f((3,), d), 2, pad_values=("<", ">"), preserve_short_sequences=True)])
    case("UnicodeTranscode", strings, lambda f, d: [
        tf.strings.unicode_transcode(f((2, 3), d), "UTF-8", "UTF-16-BE"),
        tf.strings.unicode_transcode(tf.strings.unicode_transcode(f((3,), d), "UTF-8",
                                                                  "UTF-32-BE"),
                                     "UTF-32-BE", "UTF-8")])
    case("UnicodeEncode", (tf.int32,), lambda f, d: [
        tf.strings.unicode_encode(f((2, 3), d, low=60, high=70), "UTF-8"),
        tf.strings.unicode_encode(f((4,), d, low=-1, high=3), "UTF-16-BE")])
    case("UnicodeDecode", strings, lambda f, d: [
        tf.strings.unicode_decode(tf.reshape(f((), d), []), "UTF-8"),
        tf.get_default_graph().create_op("UnicodeDecode", [f((2, 3), d)],
                                         {"input_encoding": "UTF-8"}).outputs[0]])
    case("UnicodeDecodeWithOffsets", strings, lambda f, d: list(
        tf.strings.unicode_split_with_offsets(tf.reshape(f((), d), []), "UTF-8")))
    case("StringToHashBucketFast", strings, lambda f, d: [
        tf.string_to_hash_bucket_fast(f((2, 3), d), 7)])
    case("StringToHashBucket", strings, lambda f, d: [
        tf.string_to_hash_bucket(f((2, 3), d), 7)])
    case("StringToHashBucketStrong", strings, lambda f, d: [
        tf.string_to_hash_bucket_strong(f((2, 3), d), 7, [3, 4])])
