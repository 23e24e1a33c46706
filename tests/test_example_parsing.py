"""tf.train.Example protos and their parsing: parse_example, parse_single_example,
parse_single_sequence_example, and the other record decoders (decode_raw, decode_csv,
serialize_tensor / parse_tensor).

Values and messages marked "TF 2.21" were checked against tf.compat.v1 for the same inputs;
``tests/data/tf_examples`` holds a TFRecord file of Examples that TF wrote and what TF's
parse_example returned for it (``tools/make_tf_examples.py``)."""

import os

import numpy as np
import pytest

import sessionlib as tf
from sessionlib import errors

DATA = os.path.join(os.path.dirname(__file__), "data", "tf_examples")


def _feature(values):
    values = list(values)
    if values and isinstance(values[0], bytes):
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=values))
    if values and isinstance(values[0], float):
        return tf.train.Feature(float_list=tf.train.FloatList(value=values))
    return tf.train.Feature(int64_list=tf.train.Int64List(value=values))


def _example(**features):
    return tf.train.Example(features=tf.train.Features(
        feature={key: _feature(values) for key, values in features.items()})
    ).SerializeToString()


FIRST = _example(f=[1.5, 2.5], i=[3, -4, 5], b=[b"ab", b""])
SECOND = _example(i=[7])


def _run(fetches, feed=None):
    with tf.Session() as sess:
        return sess.run(fetches, feed)


# ---- the protos -------------------------------------------------------------------------------

def test_example_bytes_are_tfs():
    # TF 2.21, the same Example serialized with deterministic=True (map entries by key).
    example = tf.train.Example(features=tf.train.Features(feature={
        "f": _feature([1.5, 2.5]), "i": _feature([3, -4, 5]), "b": _feature([b"ab", b""]),
        "e": tf.train.Feature(), "z": tf.train.Feature(float_list=tf.train.FloatList())}))
    assert example.SerializeToString(deterministic=True).hex() == (
        "0a490a0d0a016212080a060a0261620a000a050a016512000a110a0166120c120a0a080000c03f00"
        "0020400a150a016912101a0e0a0c03fcffffffffffffffff01050a070a017a12021200")
    sequence = tf.train.SequenceExample(
        context=tf.train.Features(feature={"c": _feature([1])}),
        feature_lists=tf.train.FeatureLists(feature_list={"t": tf.train.FeatureList(
            feature=[_feature([0.25]), _feature([-1.0])])}))
    assert sequence.SerializeToString(deterministic=True).hex() == (
        "0a0c0a0a0a016312051a030a0101121b0a190a017412140a0812060a040000803e0a0812060a0400"
        "0080bf")
    assert tf.train.Example.FromString(FIRST).features.feature["i"].int64_list.value == [
        3, -4, 5]


def test_tf_written_examples_round_trip_byte_for_byte():
    records = list(tf.python_io.tf_record_iterator(os.path.join(DATA, "examples.tfrecord")))
    assert len(records) == 3
    for record in records:
        parsed = tf.train.Example.FromString(record)
        assert parsed.SerializeToString(deterministic=True) == record
    first = tf.train.Example.FromString(records[0]).features.feature
    assert list(first["ids"].int64_list.value) == [7, 9, 2 ** 40]


# ---- parse_example ----------------------------------------------------------------------------

def test_parse_tf_written_file_gives_tfs_values(executor):
    records = list(tf.python_io.tf_record_iterator(os.path.join(DATA, "examples.tfrecord")))
    expected = np.load(os.path.join(DATA, "parsed.npz"))
    serialized = tf.placeholder(tf.string, [None])
    parsed = tf.parse_example(serialized, {
        "label": tf.FixedLenFeature([], tf.int64, default_value=-1),
        "weights": tf.FixedLenFeature([3], tf.float32),
        "tokens": tf.VarLenFeature(tf.string),
        "ids": tf.FixedLenSequenceFeature([], tf.int64, allow_missing=True, default_value=-7),
    })
    parsed["sparse_ids"] = tf.io.parse_example(serialized,
                                               {"ids": tf.io.VarLenFeature(tf.int64)})["ids"]
    values = _run(parsed, {serialized: records})
    for key in ("label", "weights", "ids"):
        assert values[key].dtype == expected[key].dtype
        np.testing.assert_array_equal(values[key], expected[key])
    for key in ("tokens", "sparse_ids"):
        np.testing.assert_array_equal(values[key].indices, expected[f"{key}.indices"])
        np.testing.assert_array_equal(values[key].dense_shape, expected[f"{key}.dense_shape"])
        assert list(values[key].values) == list(expected[f"{key}.values"])


def test_tf_graph_def_with_parse_nodes_imports_and_runs():
    """TF's own GraphDef of that parse (and of a parse_single_sequence_example): its
    ParseExampleV2 and ParseSequenceExampleV2 nodes run here to TF's values."""
    records = list(tf.python_io.tf_record_iterator(os.path.join(DATA, "examples.tfrecord")))
    expected = np.load(os.path.join(DATA, "parsed.npz"))
    with open(os.path.join(DATA, "parse_graph.pb"), "rb") as handle:
        graph_def = tf.GraphDef.FromString(handle.read())
    tf.import_graph_def(graph_def, name="")
    fetches = {key: str(expected[f"{key}.name"]) for key in ("label", "weights", "ids",
                                                               "tokens", "sparse_ids")}
    fetches["sequence"] = ["sequence/sequence_1/sequence:0", "sequence/sequence_1/sequence:1"]
    # TF 1's ops: outputs tokens (indices, values, shape), label, weights.
    fetches["v1"] = ["v1:1", "v1:3", "v1:4"]
    fetches["single_v1"] = ["single_v1:0", "single_v1:1", "single_v1:3", "single_v1:4"]
    values = _run(fetches, {"serialized:0": records})
    assert list(values["v1"][0]) == list(expected["tokens.values"])
    np.testing.assert_array_equal(values["v1"][1], expected["label"])
    np.testing.assert_array_equal(values["v1"][2], expected["weights"])
    np.testing.assert_array_equal(values["single_v1"][0], [[0], [1]])
    assert list(values["single_v1"][1]) == [b"the", b"cat"]
    assert values["single_v1"][2] == 1
    np.testing.assert_array_equal(values["single_v1"][3], expected["weights"][0])
    for key in ("label", "weights", "ids"):
        np.testing.assert_array_equal(values[key], expected[key])
    assert list(values["tokens"]) == list(expected["tokens.values"])
    np.testing.assert_array_equal(values["sparse_ids"], expected["sparse_ids.values"])
    np.testing.assert_array_equal(values["sequence"][0], [4, 5])
    np.testing.assert_array_equal(values["sequence"][1], [0.25, -1.0])


def test_parse_example_values_and_static_shapes(executor):
    serialized = tf.placeholder(tf.string, [None])
    out = tf.parse_example(serialized, {
        "f": tf.FixedLenFeature([2], tf.float32, default_value=[0.0, 9.0]),
        "i": tf.VarLenFeature(tf.int64),
        "b": tf.VarLenFeature(tf.string),
        "s": tf.FixedLenSequenceFeature([], tf.int64, allow_missing=True, default_value=-1)})
    # TF 2.21: sparse outputs first, by key, then dense ones; one ParseExampleV2.
    assert out["b"].indices.op.type == "ParseExampleV2"
    assert out["b"].indices.name.endswith(":0") and out["i"].indices.name.endswith(":1")
    assert out["f"].shape.as_list() == [None, 2] and out["s"].shape.as_list() == [None, None]
    assert out["i"].indices.shape.as_list() == [None, 2]
    padded = tf.parse_example(serialized, {
        "i": tf.FixedLenSequenceFeature([], tf.int64, allow_missing=True, default_value=-1)})
    values, padded = _run((out, padded), {serialized: [FIRST, SECOND]})
    np.testing.assert_array_equal(values["f"], [[1.5, 2.5], [0.0, 9.0]])
    assert values["f"].dtype == np.float32
    np.testing.assert_array_equal(values["i"].indices, [[0, 0], [0, 1], [0, 2], [1, 0]])
    np.testing.assert_array_equal(values["i"].values, [3, -4, 5, 7])
    np.testing.assert_array_equal(values["i"].dense_shape, [2, 3])
    assert list(values["b"].values) == [b"ab", b""]
    np.testing.assert_array_equal(values["b"].dense_shape, [2, 2])
    assert values["s"].shape == (2, 0) and values["s"].dtype == np.int64
    np.testing.assert_array_equal(padded["i"], [[3, -4, 5], [7, -1, -1]])


def test_parse_example_empty_batch_and_multi_dim_sequence():
    serialized = tf.placeholder(tf.string, [None])
    dense = tf.parse_example(serialized, {"f": tf.FixedLenFeature([2], tf.float32,
                                                                  default_value=[0.0, 1.0])})
    rows = tf.parse_example(serialized, {
        "f": tf.FixedLenSequenceFeature([2], tf.float32, allow_missing=True,
                                        default_value=7.0)})
    empty = _run(dense, {serialized: []})
    assert empty["f"].shape == (0, 2)
    pairs = _run(rows, {serialized: [FIRST, SECOND]})
    np.testing.assert_array_equal(pairs["f"], [[[1.5, 2.5]], [[7.0, 7.0]]])


@pytest.mark.parametrize("spec, message", [
    ({"x": tf.FixedLenFeature([], tf.float32)},
     r"Name: <unknown>, Feature: x \(data type: float\) is required but could not be "
     r"found\."),
    ({"i": tf.FixedLenFeature([], tf.float32)},
     "Name: <unknown>, Key: i, Index: 0.  Data types don't match. Data type: int64 but "
     "expected type: float"),
    ({"i": tf.FixedLenFeature([2], tf.int64)},
     r"Name: <unknown>, Key: i, Index: 0.  Number of int64 values != expected.  Values "
     r"size: 3 but output shape: \[2\]"),
    ({"i": tf.VarLenFeature(tf.float32)},
     "Name: <unknown>, Key: i, Index: 0.  Data types don't match. Expected type: float, "
     "Actual type: int64"),
    ({"i": tf.FixedLenSequenceFeature([2], tf.int64, allow_missing=True)},
     r"Name: <unknown>, Key: i, Index: 0.  Number of int64 values is not a multiple of "
     r"stride length. Saw 3 values but output shape is: \[\?,2\]"),
])
def test_parse_example_run_errors_are_tfs(spec, message):
    # TF 2.21's messages, word for word.
    serialized = tf.placeholder(tf.string, [None])
    parsed = tf.parse_example(serialized, spec)
    with pytest.raises(errors.InvalidArgumentError, match=message):
        _run(parsed, {serialized: [FIRST, SECOND]})


def test_parse_example_names_and_garbage():
    serialized = tf.placeholder(tf.string, [None])
    named = tf.parse_example(serialized, {"x": tf.FixedLenFeature([], tf.int64)},
                             example_names=["first", "second"])
    with pytest.raises(errors.InvalidArgumentError, match="Name: first, Feature: x"):
        _run(named, {serialized: [FIRST, SECOND]})
    parsed = tf.parse_example(serialized, {"i": tf.VarLenFeature(tf.int64)})
    with pytest.raises(errors.InvalidArgumentError,
                       match="Could not parse example input, value: 'garbage'"):
        _run(parsed, {serialized: [b"garbage"]})


def test_empty_feature_is_missing_for_dense_and_empty_for_sparse():
    record = tf.train.Example(features=tf.train.Features(
        feature={"e": tf.train.Feature()})).SerializeToString()
    out = tf.parse_example([record, record], {
        "e": tf.FixedLenFeature([], tf.int64, default_value=4)})
    sparse = tf.parse_example([record], {"e": tf.VarLenFeature(tf.int64)})
    values, sparse = _run((out, sparse))
    np.testing.assert_array_equal(values["e"], [4, 4])
    assert sparse["e"].indices.shape == (0, 2)
    np.testing.assert_array_equal(sparse["e"].dense_shape, [1, 0])


def test_parse_example_graph_errors():
    serialized = tf.placeholder(tf.string, [None])
    with pytest.raises(ValueError, match="cannot be None or falsy"):
        tf.parse_example(serialized, {})
    with pytest.raises(ValueError, match="requires allow_missing to be True"):
        tf.parse_example(serialized, {"s": tf.FixedLenSequenceFeature([], tf.int64)})
    with pytest.raises(ValueError, match="Missing shape for feature i"):
        tf.parse_example(serialized, {"i": tf.FixedLenFeature(None, tf.int64)})
    with pytest.raises(ValueError, match="First dimension of shape for feature i unknown"):
        tf.parse_example(serialized, {"i": tf.FixedLenFeature([None], tf.int64)})
    with pytest.raises(TypeError, match="int32 not in list of allowed values"):
        tf.parse_example(serialized, {"i": tf.VarLenFeature(tf.int32)})
    with pytest.raises(ValueError, match="Cannot reshape a tensor with 1 elements"):
        tf.parse_example(serialized, {"f": tf.FixedLenFeature([2], tf.float32,
                                                              default_value=3.0)})


def test_parse_single_example(executor):
    single = tf.parse_single_example(FIRST, {
        "f": tf.FixedLenFeature([1, 2], tf.float32),
        "i": tf.VarLenFeature(tf.int64),
        "s": tf.io.FixedLenSequenceFeature([], tf.int64, allow_missing=True)})
    assert single["f"].shape.as_list() == [1, 2]
    assert single["i"].indices.shape.as_list() == [None, 1]
    values = _run(single)
    np.testing.assert_array_equal(values["f"], [[1.5, 2.5]])
    np.testing.assert_array_equal(values["i"].indices, [[0], [1], [2]])
    np.testing.assert_array_equal(values["i"].values, [3, -4, 5])
    np.testing.assert_array_equal(values["i"].dense_shape, [3])
    assert values["s"].shape == (0,)
    assert tf.io.parse_single_example is tf.parse_single_example


def test_sparse_feature_sorted():
    record = _example(idx=[0, 3], val=[1.5, -2.0])
    parsed = tf.parse_example([record, record], {
        "sp": tf.SparseFeature("idx", "val", tf.float32, 5, already_sorted=True)})
    value = _run(parsed)["sp"]
    np.testing.assert_array_equal(value.indices, [[0, 0], [0, 3], [1, 0], [1, 3]])
    np.testing.assert_array_equal(value.values, [1.5, -2.0, 1.5, -2.0])
    np.testing.assert_array_equal(value.dense_shape, [2, 5])


def test_sparse_feature_unsorted_is_reordered():
    from sessionlib.ops import parsing_ops

    if parsing_ops.sparse_reorder_function() is None:
        pytest.skip("this build has no tf.sparse.reorder")
    record = _example(idx=[3, 0], val=[1.5, -2.0])
    parsed = tf.parse_example([record], {"sp": tf.SparseFeature("idx", "val", tf.float32, 5)})
    value = _run(parsed)["sp"]
    np.testing.assert_array_equal(value.indices, [[0, 0], [0, 3]])
    np.testing.assert_array_equal(value.values, [-2.0, 1.5])


# ---- parse_single_sequence_example ---------------------------------------------------------------

SEQUENCE = tf.train.SequenceExample(
    context=tf.train.Features(feature={"c": _feature([1, 2])}),
    feature_lists=tf.train.FeatureLists(feature_list={
        "t": tf.train.FeatureList(feature=[_feature([0.25, 1.0]), _feature([-1.0, 3.0])]),
        "v": tf.train.FeatureList(feature=[_feature([b"a"]), _feature([b"b", b"c"])])}),
).SerializeToString()


CONTEXT_SPEC = {"c": tf.FixedLenFeature([2], tf.int64), "cv": tf.VarLenFeature(tf.int64),
                "d": tf.FixedLenFeature([], tf.float32, default_value=0.5)}
SEQUENCE_SPEC = {"t": tf.FixedLenSequenceFeature([2], tf.float32),
                 "v": tf.VarLenFeature(tf.string),
                 "m": tf.FixedLenSequenceFeature([], tf.int64, allow_missing=True)}


def test_parse_single_sequence_example(executor):
    context, sequences = tf.io.parse_single_sequence_example(
        SEQUENCE,
        context_features=CONTEXT_SPEC, sequence_features=SEQUENCE_SPEC)
    assert sequences["t"].shape.as_list() == [None, 2]
    context, sequences = _run((context, sequences))
    # TF 2.21's values.
    np.testing.assert_array_equal(context["c"], [1, 2])
    assert context["d"] == np.float32(0.5)
    assert context["cv"].indices.shape == (0, 1)
    np.testing.assert_array_equal(sequences["t"], [[0.25, 1.0], [-1.0, 3.0]])
    np.testing.assert_array_equal(sequences["v"].indices, [[0, 0], [1, 0], [1, 1]])
    assert list(sequences["v"].values) == [b"a", b"b", b"c"]
    np.testing.assert_array_equal(sequences["v"].dense_shape, [2, 2])
    assert sequences["m"].shape == (0,)


def _sequence(context, lists):
    return tf.train.SequenceExample(
        context=tf.train.Features(feature={k: _feature(v) for k, v in context.items()}),
        feature_lists=tf.train.FeatureLists(feature_list={
            k: tf.train.FeatureList(feature=[_feature(x) for x in v])
            for k, v in lists.items()})).SerializeToString()


def test_parse_sequence_example_batch(executor):
    first = _sequence({"c": [1, 2], "cv": [5]},
                      {"t": [[0.5, 1.0], [2.0, 3.0]], "v": [[b"a"], [b"b", b"c"]]})
    second = _sequence({"c": [3, 4]}, {"t": [[4.0, 5.0]], "v": [[b"d"]], "m": [[1], [2], [3]]})
    serialized = tf.placeholder(tf.string, [None])
    context, sequences, lengths = tf.io.parse_sequence_example(
        serialized,
        context_features=CONTEXT_SPEC, sequence_features=SEQUENCE_SPEC)
    assert sequences["t"].op.type == "ParseSequenceExampleV2"
    assert sequences["t"].shape.as_list() == [None, None, 2]
    assert sequences["v"].indices.shape.as_list() == [None, 3]
    context, sequences, lengths = _run((context, sequences, lengths),
                                       {serialized: [first, second]})
    # TF 2.21's values.
    np.testing.assert_array_equal(context["c"], [[1, 2], [3, 4]])
    np.testing.assert_array_equal(context["d"], [0.5, 0.5])
    np.testing.assert_array_equal(context["cv"].indices, [[0, 0]])
    np.testing.assert_array_equal(context["cv"].dense_shape, [2, 1])
    np.testing.assert_array_equal(sequences["t"], [[[0.5, 1.0], [2.0, 3.0]],
                                                   [[4.0, 5.0], [0.0, 0.0]]])
    np.testing.assert_array_equal(sequences["m"], [[0, 0, 0], [1, 2, 3]])
    np.testing.assert_array_equal(sequences["v"].indices,
                                  [[0, 0, 0], [0, 1, 0], [0, 1, 1], [1, 0, 0]])
    np.testing.assert_array_equal(sequences["v"].dense_shape, [2, 2, 2])
    np.testing.assert_array_equal(lengths["t"], [2, 1])
    np.testing.assert_array_equal(lengths["m"], [0, 3])
    empty = _sequence({}, {})
    with pytest.raises(errors.InvalidArgumentError,
                       match=r"Feature: c \(data type: int64\) is required but could not be "
                             r"found\."):
        _run(tf.io.parse_sequence_example(serialized, context_features={
            "c": tf.FixedLenFeature([2], tf.int64)}), {serialized: [first, empty]})


@pytest.mark.parametrize("context, sequence, message", [
    ({"x": tf.FixedLenFeature([2], tf.int64)}, None,
     "Inconsistent max number of elements for feature x: expected 2, but found 0"),
    (None, {"x": tf.FixedLenSequenceFeature([2], tf.int64)},
     "Name: <unknown>, Feature list 'x' is required but could not be found."),
    (None, {"t": tf.FixedLenSequenceFeature([3], tf.float32)},
     r"Feature list 't' has an unexpected number of values.  Total values size: 4 is not "
     r"consistent with output shape: \[\?,3\]"),
])
def test_parse_single_sequence_example_errors(context, sequence, message):
    parsed = tf.parse_single_sequence_example(SEQUENCE, context_features=context,
                                              sequence_features=sequence)
    with pytest.raises(errors.InvalidArgumentError, match=message):
        _run(parsed)


# ---- decode_raw ---------------------------------------------------------------------------------

def test_decode_raw(executor):
    pairs = tf.constant([b"\x01\x00\x00\x02", b"\xff\xff\x00\x00"])
    little = tf.decode_raw(pairs, tf.int16)
    big = tf.io.decode_raw(pairs, tf.int16, little_endian=False)
    assert little.shape.as_list() == [2, None]
    one = tf.decode_raw(bytes=tf.constant(b"\x00\x00\x80\x3f"), out_type=tf.float32)
    little, big, one = _run((little, big, one))
    np.testing.assert_array_equal(little, [[1, 512], [-1, 0]])
    np.testing.assert_array_equal(big, [[256, 2], [-1, 0]])
    assert one.dtype == np.float32 and one.tolist() == [1.0]


def test_decode_raw_errors():
    with pytest.raises(errors.InvalidArgumentError,
                       match="length 3 that is not a multiple of 4, the size of float"):
        _run(tf.decode_raw(tf.constant([b"abc"]), tf.float32))
    with pytest.raises(errors.InvalidArgumentError,
                       match="same size, but element 1 has size 2 != 4"):
        _run(tf.decode_raw(tf.constant([b"ab", b"abcd"]), tf.uint8))


# ---- decode_csv ---------------------------------------------------------------------------------

RECORDS = ['1,2.5,"a,b",x', '3,,"q""z",', ',7,NA,y']


def test_decode_csv_values(executor):
    records = tf.constant(RECORDS)
    plain = tf.decode_csv(records, [[0], [1.0], ["d"], [""]])
    with_na = tf.io.decode_csv(records, [[0], [1.0], ["d"], ["m"]], na_value="NA")
    selected = tf.decode_csv(records, [[0], [""]], select_cols=[0, 3])
    plain, with_na, selected = _run((plain, with_na, selected))
    # TF 2.21's values.
    np.testing.assert_array_equal(plain[0], [1, 3, 0])
    assert plain[0].dtype == np.int32 and plain[1].dtype == np.float32
    np.testing.assert_array_equal(plain[1], [2.5, 1.0, 7.0])
    assert list(plain[2]) == [b"a,b", b'q"z', b"NA"]
    assert list(plain[3]) == [b"x", b"", b"y"]
    assert list(with_na[2]) == [b"a,b", b'q"z', b"d"] and list(with_na[3]) == [b"x", b"m", b"y"]
    assert list(selected[1]) == [b"x", b"", b"y"]


def test_decode_csv_delimiters_and_spaces():
    semi = tf.decode_csv(tf.constant(["a;b"]), [[""], [""]], field_delim=";")
    unquoted = tf.decode_csv(tf.constant(['a"b,c']), [[""], [""]], use_quote_delim=False)
    spaced = tf.decode_csv(tf.constant([" 12 , 3"]), [[0], [0.0]])
    semi, unquoted, spaced = _run((semi, unquoted, spaced))
    assert [list(c) for c in semi] == [[b"a"], [b"b"]]
    assert [list(c) for c in unquoted] == [[b'a"b'], [b"c"]]
    assert spaced[0].tolist() == [12] and spaced[1].tolist() == [3.0]


@pytest.mark.parametrize("records, defaults, message", [
    (RECORDS, [[0], np.zeros([0], np.float32), ["d"], [""]],
     "Field 1 is required but missing in record 1!"),
    (RECORDS, [[0], [1.0]], "Expect 2 fields but have 4 in record 0"),
    (['a"b,c'], [[""], [""]], "Unquoted fields cannot have quotes/CRLFs inside"),
    (["x,1"], [[0], [0]], "Field 0 in record 0 is not a valid int32: x"),
    (['"ab"c,1'], [[""], [0]], "Quote inside a string has to be escaped by another quote"),
    (['"abc,1'], [[""], [0]], "Quoted field has to end with quote followed by delim or end"),
    ([""], [[""]], "Expect 1 fields but have 0 in record 0"),
])
def test_decode_csv_errors_are_tfs(records, defaults, message):
    with pytest.raises(errors.InvalidArgumentError, match=message):
        _run(tf.decode_csv(tf.constant(records), defaults))


# ---- serialize_tensor / parse_tensor --------------------------------------------------------------

@pytest.mark.parametrize("value, serialized_hex", [
    # TF 2.21's bytes.
    (np.float32(1.5), "0801120022040000c03f"),
    (np.arange(6, dtype=np.int32).reshape(2, 3),
     "0803120812020802120208032218000000000100000002000000030000000400000005000000"),
    (np.array([b"a", b"bc"], dtype=object), "080712041202080242016142026263"),
    (np.array([True, False]), "080a12041202080222020100"),
    (np.zeros([0, 2], np.float64), "08021206120012020802"),
    (np.array([1, 2], np.int64), "0809120412020802221001000000000000000200000000000000"),
    (np.array([1.5], np.float16), "08131204120208012202003e"),
    (np.array([[1]], np.uint8), "080412081202080112020801220101"),
])
def test_serialize_tensor_bytes_are_tfs(executor, value, serialized_hex):
    serialized = tf.io.serialize_tensor(tf.constant(value))
    assert serialized.dtype == tf.string and serialized.shape.as_list() == []
    data = _run(serialized)
    assert data.hex() == serialized_hex
    dtype = tf.string if value.dtype == object else tf.as_dtype(value.dtype)
    back = _run(tf.parse_tensor(data, dtype))
    assert back.shape == np.shape(value)
    assert back.tolist() == np.asarray(value).tolist()


def test_parse_tensor_errors():
    data = _run(tf.serialize_tensor(tf.constant(1.5)))
    with pytest.raises(errors.InvalidArgumentError,
                       match=r"Type mismatch between parsed tensor \(float\) and dtype "
                             r"\(int32\)"):
        _run(tf.parse_tensor(data, tf.int32))
    with pytest.raises(errors.InvalidArgumentError,
                       match="Could not parse `serialized` as TensorProto, base64: //8="):
        _run(tf.parse_tensor(b"\xff\xff", tf.int32))
