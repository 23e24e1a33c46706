"""String ops: tf.string_split, tf.strings.split, string_to_number, as_string, substr, regexes,
strip, length, case, base64 and the hash buckets.

Every expected value and message below was checked against TF 2.21 (``tf.compat.v1``, graph
mode); the hash buckets in ``data/string_hash_buckets.json`` were computed by TF.
"""

import json
import math
import os

import numpy as np
import pytest

import sessionlib as tf
from sessionlib.runtime import string_hashing

_DATA = os.path.join(os.path.dirname(__file__), "data")


def _run(fetch, feed=None):
    with tf.Session() as sess:
        return sess.run(fetch, feed)


def _error(fetch, feed=None, error=tf.errors.InvalidArgumentError):
    with tf.Session() as sess, pytest.raises(error) as info:
        sess.run(fetch, feed)
    return info.value.message.split("\n")[0]


def _sparse(value):
    return value.indices.tolist(), value.values.tolist(), value.dense_shape.tolist()


# ---- split ----------------------------------------------------------------------------------

def test_string_split_is_tf1s_sparse_split_at_any_delimiter_byte(executor):
    source = tf.placeholder(tf.string, [None])
    split = tf.string_split(source)
    assert isinstance(split, tf.SparseTensor) and split.indices.op.type == "StringSplit"
    assert split.indices.op.get_attr("skip_empty") is True
    assert _sparse(_run(split, {source: ["a b  c", " d"]})) == (
        [[0, 0], [0, 1], [0, 2], [1, 0]], [b"a", b"b", b"c", b"d"], [2, 3])
    multi = tf.string_split(["a,b;c", "x;;y", ""], sep=",;", skip_empty=False)
    assert _sparse(_run(multi)) == ([[0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [1, 2]],
                                    [b"a", b"b", b"c", b"x", b"", b"y"], [3, 3])
    # An empty separator splits into bytes; an empty string has no tokens.
    assert _sparse(_run(tf.string_split(["ab c", ""], sep=""))) == (
        [[0, 0], [0, 1], [0, 2], [0, 3]], [b"a", b"b", b" ", b"c"], [2, 4])
    assert _sparse(_run(tf.string_split(["", ",a,"], delimiter=","))) == (
        [[1, 0]], [b"a"], [2, 1])
    empty = _run(tf.string_split(tf.constant([], tf.string), sep=","))
    assert empty.indices.shape == (0, 2) and empty.dense_shape.tolist() == [0, 0]


def test_string_split_shape_errors_and_ragged_result():
    with pytest.raises(ValueError, match="must be rank 0"):
        tf.string_split(["a"], sep=[","])
    with pytest.raises(NotImplementedError, match="RaggedTensor"):
        tf.string_split(["a"], result_type="RaggedTensor")
    with pytest.raises(ValueError, match="both"):
        tf.string_split(["a"], sep=",", delimiter=",")
    for source in ([["a b"]], "a b"):
        with pytest.raises(ValueError, match="Shape must be rank 1 but is rank"):
            tf.string_split(source)
    fed = tf.placeholder(tf.string)
    message = _error(tf.string_split(fed), {fed: [["a"]]})
    assert message == "input must be a vector, got shape: [1,1]"


def test_strings_split_is_python_split_with_maxsplit(executor):
    split = tf.strings.split(["a<>b<><>c", "x"], sep="<>", maxsplit=1)
    assert split.indices.op.type == "StringSplitV2"
    assert _sparse(_run(split)) == ([[0, 0], [0, 1], [1, 0]], [b"a", b"b<><>c", b"x"], [2, 2])
    # Whitespace runs without sep: no empty tokens; with sep, empty tokens stay.
    assert _sparse(_run(tf.strings.split(["  a b  c ", "", "   "], maxsplit=1))) == (
        [[0, 0], [0, 1]], [b"a", b"b  c "], [3, 2])
    assert _sparse(_run(tf.strings.split(["", ",a,"], sep=","))) == (
        [[0, 0], [1, 0], [1, 1], [1, 2]], [b"", b"", b"a", b""], [2, 3])
    assert _sparse(_run(tf.strings.split(source="a\x0bb\x0cc\rd"))) == (
        [[0, 0], [0, 1], [0, 2], [0, 3]], [b"a", b"b", b"c", b"d"], [1, 4])
    with pytest.raises(NotImplementedError):
        tf.strings.split(["a"], result_type="RaggedTensor")


def test_strings_split_of_scalars_matrices_and_unknown_ranks(executor):
    # TF's sparse form of the ragged split: the string's index, then the token's.
    matrix = tf.strings.split([["a b", "c"], ["", "d e f"]])
    assert matrix.indices.shape.as_list() == [None, 3]
    fed = tf.placeholder(tf.string)
    results = _run([tf.strings.split("a b"), matrix, tf.strings.split([[["a b"]], [["c"]]]),
                    tf.strings.split(fed)], {fed: ["x y"]})
    assert [_sparse(result) for result in results] == [
        ([[0, 0], [0, 1]], [b"a", b"b"], [1, 2]),
        ([[0, 0, 0], [0, 0, 1], [0, 1, 0], [1, 1, 0], [1, 1, 1], [1, 1, 2]],
         [b"a", b"b", b"c", b"d", b"e", b"f"], [2, 2, 3]),
        ([[0, 0, 0, 0], [0, 0, 0, 1], [1, 0, 0, 0]], [b"a", b"b", b"c"], [2, 1, 1, 2]),
        ([[0, 0], [0, 1]], [b"x", b"y"], [1, 2])]


def test_unsorted_segment_join(executor):
    cases = [
        (tf.strings.unsorted_segment_join(["a", "b", "c", "d"], [1, 0, 1, 1], 3, separator="-"),
         [b"b", b"a-c-d", b""]),
        (tf.strings.unsorted_segment_join([["a", "b"], ["c", "d"], ["e", "f"]], [1, 0, 1], 2,
                                          separator=":"), [[b"c", b"d"], [b"a:e", b"b:f"]]),
        (tf.strings.unsorted_segment_join([["a", "b"], ["c", "d"]], [[1, 0], [0, 0]], 2),
         [b"bcd", b"a"]),
        (tf.strings.unsorted_segment_join(["a", "b"], tf.constant([0, 0], tf.int64),
                                          tf.constant(1, tf.int64)), [b"ab"]),
        (tf.strings.unsorted_segment_join(tf.constant([], tf.string), tf.constant([], tf.int32),
                                          2), [b"", b""]),
    ]
    for (tensor, expected), result in zip(cases, _run([tensor for tensor, _ in cases])):
        assert result.tolist() == expected
    assert cases[1][0].shape.as_list() == [2, 2]
    for ids in ([-1, 0], [2, 0]):
        assert _error(tf.strings.unsorted_segment_join(["a", "b"], ids, 2)) == (
            "segment_ids are not allowed to exceed num_segments or to have negative values.")
    with pytest.raises(ValueError, match="Dimensions must be equal, but are 2 and 3"):
        tf.strings.unsorted_segment_join(["a", "b"], [0, 0, 1], 2)
    with pytest.raises(ValueError, match="must be non-negative but is -1"):
        tf.strings.unsorted_segment_join(["a", "b"], [0, 0], -1)
    with pytest.raises(ValueError, match="must be rank 0"):
        tf.strings.unsorted_segment_join(["a", "b"], [0, 0], [2])


# ---- to_number ------------------------------------------------------------------------------

def test_string_to_number_parses_like_strtod(executor):
    texts = [" 1.5", "1e3", "inf", "-INF", "Infinity", "-nan", "NaN", "nan(1)", "0x10",
             "0x1p3", "  7  ", "+3", ".5", "5.", "\t2\n", "-0", "1e39", "1e-50",
             "1.0000000596046448", "3.4028235e38"]
    parsed = _run(tf.string_to_number(texts))
    assert parsed.dtype == np.float32
    expected = [1.5, 1000, math.inf, -math.inf, math.inf, math.nan, math.nan, math.nan, 16,
                8, 7, 3, 0.5, 5, 2, -0.0, math.inf, 0, 1.0000001, 3.4028235e38]
    np.testing.assert_array_equal(parsed, np.array(expected, np.float32))
    assert math.copysign(1, parsed[texts.index("-0")]) == -1
    doubles = _run(tf.strings.to_number(["1e39", "1e400", "0.1"], out_type=tf.float64))
    np.testing.assert_array_equal(doubles, [1e39, math.inf, 0.1])
    ints = _run(tf.string_to_number([" 13 ", "-4", "+5", "010", "-2147483648"], tf.int32))
    assert ints.dtype == np.int32 and ints.tolist() == [13, -4, 5, 10, -2**31]
    assert _run(tf.string_to_number(["9223372036854775807"], tf.int64)).tolist() == [2**63 - 1]


@pytest.mark.parametrize("text,out_type", [
    ("abc", tf.float32), ("", tf.float32), ("1_0", tf.float32), ("1e", tf.float32),
    ("1.5f", tf.float32), ("infinityx", tf.float64), ("1.5", tf.int32), ("0x10", tf.int32),
    ("3000000000", tf.int32), ("1e2", tf.int32), ("9223372036854775808", tf.int64)])
def test_string_to_number_rejects_what_tf_rejects(text, out_type):
    message = _error(tf.string_to_number([text], out_type))
    assert message == f"StringToNumberOp could not correctly convert string: {text}"


def test_string_to_number_out_type_is_checked_at_graph_time():
    with pytest.raises(TypeError, match="'out_type' has DataType int16 not in list"):
        tf.string_to_number(["1"], tf.int16)
    with pytest.raises(TypeError):
        tf.string_to_number(tf.constant([1.0]))


# ---- as_string ------------------------------------------------------------------------------

def test_as_string_formats_as_printf(executor):
    cases = [
        (tf.as_string([3.14159, -1e10, math.inf, math.nan]),
         [b"3.141590", b"-10000000000.000000", b"inf", b"nan"]),
        (tf.as_string([3.14159], precision=2, width=8, fill="0"), [b"00003.14"]),
        (tf.as_string([3.14159], scientific=True), [b"3.141590e+00"]),
        (tf.as_string([1234.5], precision=2, scientific=True), [b"1.23e+03"]),
        (tf.as_string([3.14159, 1e20, 0.0001], shortest=True), [b"3.14159", b"1e+20", b"0.0001"]),
        (tf.as_string([3.14159], precision=3, shortest=True), [b"3.14"]),
        (tf.as_string([3, -4], width=5), [b"    3", b"   -4"]),
        (tf.as_string([3, -4], width=5, fill="-"), [b"3    ", b"-4   "]),
        (tf.as_string(tf.constant([-3], tf.int8), width=3, fill="0"), [b"-03"]),
        (tf.as_string(tf.constant([2**40], tf.int64)), [b"1099511627776"]),
        (tf.as_string(tf.constant([200], tf.uint8)), [b"200"]),
        (tf.as_string(tf.constant([1.5], tf.float16)), [b"1.500000"]),
        (tf.as_string(tf.constant([0.1], tf.float32), precision=12), [b"0.100000001490"]),
        (tf.as_string(tf.constant([0.1], tf.float32), shortest=True), [b"0.1"]),
        (tf.as_string([True, False], width=6), [b"true", b"false"]),
        (tf.as_string(["ab"], width=5), [b"   ab"]),
        (tf.as_string(["ab"], width=4, fill="-", precision=1), [b"ab  "]),
        (tf.as_string([3.5, -1.0], fill="+"), [b"+3.500000", b"-1.000000"]),
        (tf.as_string([3.5, 2.5], precision=0), [b"4", b"2"]),
        (tf.as_string([math.nan, -math.inf], width=6, fill="0"), [b"   nan", b"  -inf"]),
    ]
    results = _run([tensor for tensor, _ in cases])
    for (tensor, expected), result in zip(cases, results):
        assert result.tolist() == expected, tensor.name


@pytest.mark.parametrize("kwargs,values,message", [
    ({"precision": 2}, [3], "precision not supported for datatype int32"),
    ({"precision": 2}, [True], "precision not supported for datatype bool"),
    ({"scientific": True}, [3], "scientific and shortest format not supported for datatype "
                                "int32"),
    ({"fill": "x"}, [3], 'Fill argument not supported: "x"'),
    ({"fill": "00"}, [3], "Fill string must be one or fewer characters"),
    ({"shortest": True, "scientific": True}, [3.0],
     "Cannot select both scientific and shortest notation"),
])
def test_as_string_run_time_errors(kwargs, values, message):
    assert _error(tf.as_string(values, **kwargs)) == message


# ---- substr ---------------------------------------------------------------------------------

def test_substr_positions_lengths_and_broadcasting(executor):
    cases = [
        (tf.substr(["hello", "ab"], 1, 3), [b"ell", b"b"]),
        (tf.substr(["hello", "ab"], -2, 3), [b"lo", b"ab"]),
        (tf.substr(["hello"], 5, 1), [b""]),
        (tf.substr(["hello"], 1, -1), [b"ello"]),
        (tf.substr(["hello", "world"], [1, 2], [2, 3]), [b"el", b"rld"]),
        (tf.substr([["hello"], ["world"]], [1, 2], [2, 3]), [[b"el", b"llo"], [b"or", b"rld"]]),
        (tf.strings.substr("hello", tf.constant([1, 2], tf.int64), tf.constant([2, 3], tf.int64)),
         [b"el", b"llo"]),
        (tf.strings.substr(["h\u00e9llo\u4e16x"], 1, 3, unit="UTF8_CHAR"), ["\u00e9ll".encode()]),
        (tf.strings.substr(["h\u00e9llo\u4e16x"], -2, 3, unit="UTF8_CHAR"),
         ["\u4e16x".encode()]),
        (tf.strings.substr([b"\xffab"], 1, 1, unit="UTF8_CHAR"), [b"a"]),
    ]
    for (tensor, expected), result in zip(cases, _run([tensor for tensor, _ in cases])):
        assert result.tolist() == expected
    assert cases[5][0].shape.as_list() == [2, 2]


def test_substr_errors():
    assert _error(tf.substr(["hello"], -6, 2)) == (
        "pos -6 out of range for string b'hello' at index 0")
    assert _error(tf.substr(["hello", "ab"], 3, 1)) == (
        "pos 3 out of range for string b'ab' at index 1")
    assert _error(tf.strings.substr(["h\u00e9"], 3, 3, unit="UTF8_CHAR")) == (
        "pos 3 out of range for string at index 0")
    with pytest.raises(ValueError, match="pos and len shapes must match"):
        tf.substr(["hello", "world"], [1, 2], [2])
    with pytest.raises(ValueError, match="not in"):
        tf.strings.substr(["h"], 0, 1, unit="X")
    with pytest.raises(TypeError, match="does not match type int64"):
        tf.substr(["h"], tf.constant(1, tf.int64), tf.constant(2, tf.int32))
    pos = tf.placeholder(tf.int32, [None])
    length = tf.placeholder(tf.int32, [None])
    assert _error(tf.substr(["ab"], pos, length), {pos: [1, 1], length: [1]}) == (
        "pos and len should have the same shape, got: [2] vs. [1]")


# ---- regexes --------------------------------------------------------------------------------

def test_regex_replace_static_and_tensor_patterns(executor):
    static = tf.regex_replace(["aaa bb", "x"], "a|b", "-")
    dynamic = tf.strings.regex_replace(["aaa bb", "x"], tf.constant("a|b"), tf.constant("-"))
    assert static.op.type == "StaticRegexReplace" and dynamic.op.type == "RegexReplace"
    cases = [
        (static, [b"--- --", b"x"]), (dynamic, [b"--- --", b"x"]),
        (tf.regex_replace(["aaa bb"], "a", "-", replace_global=False), [b"-aa bb"]),
        (tf.regex_replace(["ab12cd"], r"(\d)(\d)", r"<\2\1\0>"), [b"ab<2112>cd"]),
        # RE2 takes no empty match where the previous match ended.
        (tf.regex_replace(["abc", "abxd"], "x*", "-"), [b"-a-b-c-", b"-a-b-d-"]),
        (tf.regex_replace(["\u00e9x"], ".", "-"), [b"--"]),
        (tf.regex_replace(["ab"], "b", "$0x"), [b"a$0x"]),
        (tf.regex_replace(["ab"], "a", "\\\\"), [b"\\b"]),
        # A group the pattern lacks: RE2 replaces nothing; a bad escape ends the rewrite.
        (tf.regex_replace(["abc"], "(a)", r"\2"), [b"abc"]),
        (tf.regex_replace(["abab"], "a", r"x\y"), [b"xbxb"]),
        (tf.regex_replace(["a1\u0661"], r"\d", "#"), ["a#\u0661".encode()]),
    ]
    for (tensor, expected), result in zip(cases, _run([tensor for tensor, _ in cases])):
        assert result.tolist() == expected


def test_regex_full_match_and_invalid_patterns(executor):
    static = tf.strings.regex_full_match(["abc", "ab", "abcd"], "a.c")
    dynamic = tf.strings.regex_full_match(["abc", "ab", "abcd"], tf.constant("a.c"))
    assert static.op.type == "StaticRegexFullMatch" and static.dtype == tf.bool
    assert dynamic.op.type == "RegexFullMatch"
    for result in _run([static, dynamic]):
        assert result.tolist() == [True, False, False]
    for tensor in (tf.regex_replace(["abc"], "(", "-"),
                   tf.regex_replace(["abc"], tf.constant("("), "-"),
                   tf.strings.regex_full_match(["abc"], "(")):
        assert _error(tensor).startswith("Invalid pattern: (, error: ")
    with pytest.raises(ValueError, match="must be rank 0"):
        tf.regex_replace(["ab"], tf.constant(["a"]), "-")


# ---- strip, length, case, join ------------------------------------------------------------------

def test_strip_length_lower_upper_join(executor):
    cases = [
        (tf.string_strip(["  a b \t\n", "\x0bx\x0c", "\xa0y"]), [b"a b", b"x", b"\xc2\xa0y"]),
        (tf.strings.strip(" z "), b"z"),
        (tf.strings.length(["h\u00e9llo", ""]), [6, 0]),
        (tf.strings.length(["h\u00e9llo", b"\xffab\x80"], unit="UTF8_CHAR"), [5, 3]),
        (tf.strings.lower(["AbC\u00c9"]), ["abc\u00c9".encode()]),
        (tf.strings.lower(["AbC\u00c9"], encoding="utf-8"), ["abc\u00e9".encode()]),
        (tf.strings.upper(["abc\u00e9\u00df"]), ["ABC\u00e9\u00df".encode()]),
        (tf.strings.upper(["abc\u00e9\u00df"], encoding="utf-8"), [b"ABC\xc3\x89SS"]),
        (tf.strings.upper([b"\xffab"], encoding="utf-8"), [b"\xef\xbf\xbdAB"]),
        (tf.strings.join(["a", ["b", "c"]], separator="-"), [b"a-b", b"a-c"]),
        (tf.string_join(["a", "b"]), b"ab"),
        (tf.strings.reduce_join([["a", "b"], ["c", "d"]], axis=1, separator="-"),
         [b"a-b", b"c-d"]),
    ]
    for (tensor, expected), result in zip(cases, _run([tensor for tensor, _ in cases])):
        assert np.asarray(result).tolist() == expected
    assert cases[2][0].dtype == tf.int32
    assert _error(tf.strings.upper(["abc"], encoding="latin1")) == (
        "only utf-8 or '' (no encoding) is supported, received latin1")
    with pytest.raises(ValueError, match="not in"):
        tf.strings.length(["a"], unit="CHAR")


# ---- base64 ---------------------------------------------------------------------------------

def test_base64_web_safe_round_trip(executor):
    data = [b"hello?>", b"", b"\xff\xfe\xfd\xfc", b"a", b"ab"]
    encoded, padded = _run([tf.encode_base64(data), tf.io.encode_base64(data, pad=True)])
    assert encoded.tolist() == [b"aGVsbG8_Pg", b"", b"__79_A", b"YQ", b"YWI"]
    assert padded.tolist() == [b"aGVsbG8_Pg==", b"", b"__79_A==", b"YQ==", b"YWI="]
    texts = ["aGVsbG8_Pg", "aGVsbG8_Pg==", "YQ", "YQ==", "YWI=", "YWI", "", "YR"]
    assert _run(tf.decode_base64(texts)).tolist() == [
        b"hello?>", b"hello?>", b"a", b"a", b"ab", b"ab", b"", b"a"]
    assert _run(tf.decode_base64(encoded)).tolist() == data


@pytest.mark.parametrize("text,message", [
    ("a+", "Invalid character found in base64."), ("YQ=", "Invalid character found in base64."),
    ("YW=I", "Invalid character found in base64."), ("==", "Invalid character found in base64."),
    ("YQ==YQ==", "Invalid character found in base64."),
    ("Y===", "Invalid character found in base64."), ("aGVs\nbG8", "Invalid character found in "
                                                     "base64."),
    ("a", "Base64 string length cannot be 1 modulo 4."),
    ("=", "Base64 string length cannot be 1 modulo 4.")])
def test_decode_base64_errors(text, message):
    assert _error(tf.decode_base64([text])) == message


# ---- hash buckets ---------------------------------------------------------------------------

def _hash_case_strings():
    strings = [bytes((i * 31 + n * 7 + 1) % 256 for i in range(n)) for n in range(101)]
    return strings + [b"hello", "caf\u00e9".encode(), b"a" * 300]


def test_hash_functions_equal_tfs_for_every_length_class():
    with open(os.path.join(_DATA, "string_hash_buckets.json")) as file:
        expected = json.load(file)
    buckets = expected["num_buckets"]
    strings = _hash_case_strings()
    assert [string_hashing.fingerprint64(s) % buckets for s in strings] == expected["fast"]
    assert [string_hashing.legacy_hash64(s) % buckets for s in strings] == expected["legacy"]
    assert [string_hashing.siphash24(1, 2, s) % buckets for s in strings] == (
        expected["strong_1_2"])
    assert [string_hashing.siphash24(2**64 - 5, 77, s) % buckets for s in strings] == (
        expected["strong_-5_77"])


def test_hash_bucket_ops(executor):
    with open(os.path.join(_DATA, "string_hash_buckets.json")) as file:
        expected = json.load(file)
    strings = tf.constant(_hash_case_strings())
    fetches = {"fast": tf.string_to_hash_bucket_fast(strings, expected["num_buckets"]),
               "fast_1000": tf.strings.to_hash_bucket_fast(strings, 1000),
               "legacy": tf.string_to_hash_bucket(strings, expected["num_buckets"]),
               "strong_-5_77": tf.strings.to_hash_bucket_strong(strings, expected["num_buckets"],
                                                                [-5, 77])}
    for name, value in _run(fetches).items():
        assert value.dtype == np.int64 and value.tolist() == expected[name], name
    small = _run(tf.strings.to_hash_bucket(["", "a", "hello"], 1000000007))
    assert small.tolist() == [727638525, 395105680, 302950538]


def test_hash_bucket_errors():
    with pytest.raises(ValueError, match="'num_buckets' of 'StringToHashBucketFast' Op passed 0 "
                                         "less than minimum 1"):
        tf.string_to_hash_bucket_fast(["a"], 0)
    assert _error(tf.string_to_hash_bucket_strong(["a"], 10, [1])) == "Key must have 2 elements"


# ---- graph properties -----------------------------------------------------------------------

def test_string_ops_have_no_gradient_and_keep_static_shapes():
    x = tf.placeholder(tf.string, [2, None])
    for tensor in (tf.strings.length(x), tf.as_string(tf.zeros([2, 3])),
                   tf.string_to_number(x), tf.strings.upper(x), tf.regex_replace(x, "a", "b")):
        assert tensor.shape.as_list()[0] == 2
    value = tf.placeholder(tf.float32, [3])
    assert tf.gradients(tf.string_to_number(tf.as_string(value)), value) == [None]
    split = tf.string_split(tf.placeholder(tf.string, [None]))
    assert split.indices.shape.as_list() == [None, 2]
    assert split.dense_shape.shape.as_list() == [2]


def test_string_ops_run_on_cpu_only():
    with tf.device("/device:GPU:0"):
        tensor = tf.strings.length(["abc"])
    config = tf.ConfigProto(allow_soft_placement=True)
    with tf.Session(config=config) as sess:
        assert sess.run(tensor).tolist() == [3]


def test_compiled_hashes_equal_the_python_spec_on_long_and_text_strings():
    from sessionlib._core import string_hash

    rng = np.random.default_rng(11)
    strings = [rng.integers(0, 256, n, dtype=np.uint8).tobytes() for n in range(0, 400, 3)]
    strings += ["caf\u00e9 \u4e16\u754c", ""]
    array = np.array(strings, dtype=object).reshape(2, -1)
    encoded = [s.encode() if isinstance(s, str) else s for s in strings]
    for buckets in (7, 2**63 - 1):
        assert string_hash.fingerprint64_buckets(array, buckets).reshape(-1).tolist() == [
            string_hashing.fingerprint64(s) % buckets for s in encoded]
        assert string_hash.legacy_hash64_buckets(array, buckets).reshape(-1).tolist() == [
            string_hashing.legacy_hash64(s) % buckets for s in encoded]
        assert string_hash.siphash24_buckets(array, buckets, 2**64 - 1, 9).reshape(
            -1).tolist() == [string_hashing.siphash24(2**64 - 1, 9, s) % buckets
                             for s in encoded]


def test_ngrams_of_dense_rows(executor):
    cases = [
        (tf.strings.ngrams(["a", "b", "c", "d"], 2), [b"a b", b"b c", b"c d"]),
        (tf.strings.ngrams([["a", "b", "c"], ["d", "e", "f"]], (1, 3), separator="_"),
         [[b"a", b"b", b"c", b"a_b_c"], [b"d", b"e", b"f", b"d_e_f"]]),
        (tf.strings.ngrams([["a", "b", "c"]], 3, pad_values="#"),
         [[b"# # a", b"# a b", b"a b c", b"b c #", b"c # #"]]),
        (tf.strings.ngrams([["a", "b", "c"]], 3, pad_values=("<", ">"), padding_width=1),
         [[b"< a b", b"a b c", b"b c >"]]),
        (tf.strings.ngrams([["a", "b"]], 3), [[]]),
        (tf.strings.ngrams([["a", "b"]], 3, preserve_short_sequences=True), [[b"a b"]]),
        (tf.strings.ngrams([["a", "b"]], 4, pad_values="#", padding_width=1,
                           preserve_short_sequences=True), [[b"# a b #"]]),
        (tf.strings.ngrams([[["a", "b", "c"]], [["d", "e", "f"]]], 2),
         [[[b"a b", b"b c"]], [[b"d e", b"e f"]]]),
        (tf.strings.ngrams(tf.zeros([2, 0], tf.string), 2, pad_values="#"), [[], []]),
        (tf.strings.ngrams(["a", "b"], 2, pad_values="#", padding_width=5),
         [b"# a", b"a b", b"b #"]),
    ]
    for (tensor, expected), result in zip(cases, _run([tensor for tensor, _ in cases])):
        assert result.tolist() == expected
    assert cases[7][0].shape.as_list() == [2, 1, None]
    for args, kwargs, message in (
            (("a", 2), {}, "Data must have rank>0"),
            ((["a"], 2), {"pad_values": "#", "padding_width": 0},
             "padding_width must be greater than 0."),
            ((["a"], 2), {"padding_width": 1}, "pad_values must be provided if padding_width "
                                              "is set."),
            ((["a", "b"], 0), {}, "All ngram_widths must be greater than 0. Got 0")):
        with pytest.raises(ValueError, match=message.replace(".", r"\.")):
            tf.strings.ngrams(*args, **kwargs)


def test_string_ngrams_op_on_ragged_rows():
    graph = tf.get_default_graph()

    def op(splits, widths=(2,)):
        return graph.create_op("StringNGrams", [tf.constant(["a", "b", "c"]),
                                                tf.constant(splits)],
                               {"separator": " ", "ngram_widths": list(widths),
                                "left_pad": "L", "right_pad": "R", "pad_width": 1}).outputs
    grams, splits = _run(op([0, 1, 3]))
    assert grams.tolist() == [b"L a", b"a R", b"L b", b"b c", b"c R"]
    assert splits.dtype == np.int32 and splits.tolist() == [0, 2, 5]
    assert _error(op([0, 1, 4])) == "Invalid split value 4, must be in [1, 3]"
    assert _error(op([1, 3])) == "First split value must be 0, got 1"
    assert _error(op([0, 3], widths=(0,))) == "ngram_widths must contain positive values"


def test_unicode_transcode(executor):
    cases = [
        (tf.strings.unicode_transcode(["h\u00e9llo", b"\xffa"], "UTF-8", "UTF-16-BE"),
         [b"\x00h\x00\xe9\x00l\x00l\x00o", b"\xff\xfd\x00a"]),
        (tf.strings.unicode_transcode([b"\x00h\xd8\x00", b"\x00h\x00"], "UTF-16-BE", "UTF-8"),
         [b"h\xef\xbf\xbd", b"h\xef\xbf\xbd"]),
        (tf.strings.unicode_transcode([b"\xffa\xc3"], "UTF-8", "UTF-8", errors="ignore"),
         [b"a"]),
        (tf.strings.unicode_transcode([b"\xffa\xc3", "\ufffd"], "UTF-8", "UTF-8",
                                      replacement_char=63), [b"?a?", b"\xef\xbf\xbd"]),
        (tf.strings.unicode_transcode(["a\x01\tb\x7f"], "UTF-8", "UTF-8",
                                      replace_control_characters=True),
         [b"a\xef\xbf\xbd\xef\xbf\xbdb\x7f"]),
        (tf.strings.unicode_transcode([b"caf\xe9"], "ISO-8859-1", "UTF-8"), [b"caf\xc3\xa9"]),
        (tf.strings.unicode_transcode([b"caf\xe9"], "US-ASCII", "UTF-8"),
         [b"caf\xef\xbf\xbd"]),
        (tf.strings.unicode_transcode(["a\u4e16"], "UTF-8", "UTF-32-BE"),
         [b"\x00\x00\x00a\x00\x00N\x16"]),
        # One replacement per maximal ill-formed subsequence, as ICU.
        (tf.strings.unicode_transcode([b"\xed\xa0\x80a", b"\xc0\x80a", b"\xe4\xb8a"], "UTF-8",
                                      "UTF-8"),
         [b"\xef\xbf\xbd" * 3 + b"a", b"\xef\xbf\xbd" * 2 + b"a", b"\xef\xbf\xbda"]),
        (tf.strings.unicode_transcode([b"\xfe\xff\x00a"], "UTF-16-BE", "UTF-8"),
         [b"\xef\xbb\xbfa"]),
        (tf.strings.unicode_transcode([b"\xffa"], "UTF-8", "UTF-8", replacement_char=0xD800),
         [b"\xef\xbf\xbda"]),
    ]
    for (tensor, expected), result in zip(cases, _run([tensor for tensor, _ in cases])):
        assert result.tolist() == expected
    assert _error(tf.strings.unicode_transcode([b"\xffa"], "UTF-8", "UTF-8",
                                               errors="strict")) == (
        "Invalid formatting on input string")
    assert _error(tf.strings.unicode_transcode(["a"], "FOO", "UTF-8")) == (
        "Could not create converter for input encoding: FOO")
    with pytest.raises(ValueError, match="'output_encoding' of 'UnicodeTranscode' Op passed "
                                         "string 'UTF-16' not in"):
        tf.strings.unicode_transcode(["a"], "UTF-8", "UTF-16")
    with pytest.raises(ValueError, match="'errors'"):
        tf.strings.unicode_transcode(["a"], "UTF-8", "UTF-8", errors="x")


def test_unicode_encode_of_dense_code_points(executor):
    cases = [
        (tf.strings.unicode_encode([[104, 233], [0x4E16, 65]], "UTF-8"),
         [b"h\xc3\xa9", b"\xe4\xb8\x96A"]),
        (tf.strings.unicode_encode([[104, -1, 0x110000]], "UTF-8"),
         [b"h\xef\xbf\xbd\xef\xbf\xbd"]),
        (tf.strings.unicode_encode([104, 233], "UTF-16-BE"), b"\x00h\x00\xe9"),
        (tf.strings.unicode_encode([[104, -1, 0xD800, 65]], "UTF-8", errors="ignore"), [b"hA"]),
        (tf.strings.unicode_encode([[104, 0xD800, 65]], "UTF-8", replacement_char=63),
         [b"h?A"]),
        (tf.strings.unicode_encode([[[104, 105]], [[65, 66]]], "UTF-32-BE"),
         [[b"\x00\x00\x00h\x00\x00\x00i"], [b"\x00\x00\x00A\x00\x00\x00B"]]),
    ]
    for (tensor, expected), result in zip(cases, _run([tensor for tensor, _ in cases])):
        assert np.asarray(result).tolist() == expected
    assert cases[5][0].shape.as_list() == [2, 1]
    assert _error(tf.strings.unicode_encode([[104, -1]], "UTF-8", errors="strict")) == (
        "Code point is out of range for Unicode, or is a surrogate.")
    with pytest.raises(ValueError, match="rank must be at least 1"):
        tf.strings.unicode_encode(104, "UTF-8")
    with pytest.raises(TypeError, match="expected type of int32"):
        tf.strings.unicode_encode(tf.constant([104], tf.int64), "UTF-8")


def test_unicode_decode_split_and_bytes_split_of_a_scalar(executor):
    cases = [
        (tf.strings.unicode_decode("h\u00e9", "UTF-8"), [104, 233]),
        (tf.strings.unicode_decode(b"a\xff\xe4\xb8b", "UTF-8"), [97, 65533, 65533, 98]),
        (tf.strings.unicode_decode(b"a\xff\xe4\xb8b", "UTF-8", errors="ignore"), [97, 98]),
        (tf.strings.unicode_decode(b"a\x01", "UTF-8", replace_control_characters=True),
         [97, 65533]),
        (tf.strings.unicode_decode(b"caf\xe9", "latin1"), [99, 97, 102, 233]),
        (tf.strings.unicode_decode_with_offsets(b"a\xff\xe4\xb8b\xc3\xa9", "UTF-8"),
         ([97, 65533, 65533, 98, 233], [0, 1, 2, 4, 5])),
        (tf.strings.unicode_decode_with_offsets(b"a\xff\xe4\xb8b\xc3\xa9", "UTF-8",
                                                errors="ignore"), ([97, 98, 233], [0, 4, 5])),
        (tf.strings.unicode_decode_with_offsets(b"\x00a\xd8\x3d\xde\x00\x00b", "UTF-16-BE"),
         ([97, 128512, 98], [0, 2, 6])),
        (tf.strings.unicode_split(b"a\xff\xc3\xa9", "UTF-8"),
         [b"a", b"\xef\xbf\xbd", b"\xc3\xa9"]),
        (tf.strings.unicode_split_with_offsets(b"a\xff\xc3\xa9", "UTF-8"),
         ([b"a", b"\xef\xbf\xbd", b"\xc3\xa9"], [0, 1, 2])),
        (tf.strings.unicode_split(b"\x00a\x00b", "UTF-16-BE"), [b"\x00a", b"\x00b"]),
        (tf.strings.bytes_split(b"a\xc3\xa9"), [b"a", b"\xc3", b"\xa9"]),
        (tf.strings.bytes_split(b""), []),
    ]
    for (tensor, expected), result in zip(cases, _run([tensor for tensor, _ in cases])):
        result = tuple(r.tolist() for r in result) if isinstance(result, tuple) else (
            result.tolist())
        assert result == expected
    assert cases[0][0].dtype == tf.int32 and cases[5][0][1].dtype == tf.int64
    assert _error(tf.strings.unicode_decode(b"a\xff", "UTF-8", errors="strict")) == (
        "Invalid formatting on input string")
    for function in (lambda: tf.strings.unicode_decode(["ab"], "UTF-8"),
                     lambda: tf.strings.unicode_split(["ab"], "UTF-8"),
                     lambda: tf.strings.bytes_split(["ab"])):
        with pytest.raises(NotImplementedError, match="RaggedTensor"):
            function()
    with pytest.raises(ValueError, match="'output_encoding' of 'UnicodeEncode'"):
        tf.strings.unicode_split(b"ab", "ISO-8859-1")
    with pytest.raises(ValueError, match="Rank of `input` must be statically known"):
        tf.strings.unicode_decode(tf.placeholder(tf.string), "UTF-8")


def test_unicode_decode_ops_on_several_strings():
    graph = tf.get_default_graph()
    splits, codes, starts = _run(graph.create_op(
        "UnicodeDecodeWithOffsets", [tf.constant([["h\u00e9", ""], ["\u4e16", "ab"]])],
        {"input_encoding": "UTF-8"}).outputs)
    assert splits.tolist() == [0, 2, 2, 3, 5]
    assert codes.tolist() == [104, 233, 0x4E16, 97, 98]
    assert starts.tolist() == [0, 1, 0, 0, 1]
