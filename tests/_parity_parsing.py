"""Parity cases (see test_parity.py) of the record parsing ops: ParseExampleV2 and
ParseSequenceExampleV2 (batched and single), ParseSingleSequenceExample, DecodeRaw, DecodeCSV, SerializeTensor and ParseTensor,
for every feature / column / tensor dtype each takes."""

import numpy as np

import sessionlib as tf

FEATURE_DTYPES = (tf.float32, tf.int64, tf.string)
RAW_DTYPES = (tf.float16, tf.float32, tf.float64, tf.int8, tf.int16, tf.int32, tf.int64,
              tf.uint8, tf.bool)
CSV_DTYPES = (tf.float32, tf.float64, tf.int32, tf.int64, tf.string)
TENSOR_DTYPES = RAW_DTYPES + (tf.string,)


def _feature(dtype, count, start):
    if dtype is tf.string:
        return tf.train.Feature(bytes_list=tf.train.BytesList(
            value=[b"v%d" % (start + i) for i in range(count)]))
    if dtype is tf.float32:
        return tf.train.Feature(float_list=tf.train.FloatList(
            value=[0.5 * (start + i) for i in range(count)]))
    return tf.train.Feature(int64_list=tf.train.Int64List(
        value=[start - 3 * i for i in range(count)]))


def _records(dtype):
    return [tf.train.Example(features=tf.train.Features(feature={
        "fixed": _feature(dtype, 2, n), "var": _feature(dtype, n, 10),
        "seq": _feature(dtype, 2 * n, 5)})).SerializeToString() for n in (1, 3, 2)]


def _parse_example(f, d):
    spec = {"fixed": tf.FixedLenFeature([2], d), "var": tf.VarLenFeature(d),
            "seq": tf.FixedLenSequenceFeature([2], d, allow_missing=True),
            "gone": tf.FixedLenFeature([], d, default_value="x" if d is tf.string else 4)}
    batch = tf.parse_example(tf.constant(_records(d)), spec)
    single = tf.parse_single_example(tf.constant(_records(d)[1]), spec)
    return [t for parsed in (batch, single) for key in sorted(parsed)
            for t in ((parsed[key].indices, parsed[key].values, parsed[key].dense_shape)
                      if isinstance(parsed[key], tf.SparseTensor) else [parsed[key]])]


def _parse_single_sequence_v1(f, d):
    """TF 1's ParseSingleSequenceExample, which only imported TF 1 graphs hold."""
    record = tf.train.SequenceExample(
        context=tf.train.Features(feature={"c": _feature(d, 2, 4)}),
        feature_lists=tf.train.FeatureLists(feature_list={"s": tf.train.FeatureList(
            feature=[_feature(d, 2, n) for n in range(3)])})).SerializeToString()
    keys = [tf.constant(b"c"), tf.constant(b"s")]
    default = tf.constant(np.zeros([0], dtype=object if d is tf.string else d.as_numpy_dtype),
                          dtype=d)
    op = tf.get_default_graph().create_op(
        "ParseSingleSequenceExample",
        [tf.constant(record), tf.constant(np.array([], dtype=object), dtype=tf.string),
         keys[0], keys[1], default, tf.constant(b"")],
        {"Ncontext_sparse": 0, "Ncontext_dense": 1, "Nfeature_list_sparse": 0,
         "Nfeature_list_dense": 1, "context_sparse_types": [], "Tcontext_dense": [d],
         "context_dense_shapes": [[2]], "feature_list_sparse_types": [],
         "feature_list_dense_types": [d], "feature_list_dense_shapes": [[2]]})
    return list(op.outputs)


def _tf1_parse_examples(f, d):
    """TF 1's ParseExample and ParseSingleExample, which only imported TF 1 graphs hold."""
    graph = tf.get_default_graph()
    records = tf.constant(_records(d))
    default = tf.constant(np.zeros([0], dtype=object if d is tf.string else d.as_numpy_dtype),
                          dtype=d)
    batch = graph.create_op(
        "ParseExample", [records, tf.constant(np.array([], dtype=object), dtype=tf.string),
                         tf.constant(b"var"), tf.constant(b"fixed"), default],
        {"Nsparse": 1, "Ndense": 1, "sparse_types": [d], "Tdense": [d],
         "dense_shapes": [[2]]})
    single = graph.create_op(
        "ParseSingleExample", [tf.constant(_records(d)[1]), default],
        {"num_sparse": 1, "sparse_keys": ["var"], "dense_keys": ["fixed"],
         "sparse_types": [d], "Tdense": [d], "dense_shapes": [[2]]})
    return list(batch.outputs) + list(single.outputs)


def _parse_sequence(f, d):
    steps = tf.train.FeatureList(feature=[_feature(d, 2, n) for n in range(3)])
    ragged = tf.train.FeatureList(feature=[_feature(d, n, 1) for n in range(3)])
    record = tf.train.SequenceExample(
        context=tf.train.Features(feature={"c": _feature(d, 2, 4)}),
        feature_lists=tf.train.FeatureLists(feature_list={"s": steps, "r": ragged}),
    ).SerializeToString()
    context, sequences = tf.parse_single_sequence_example(
        record, context_features={"c": tf.FixedLenFeature([2], d), "cv": tf.VarLenFeature(d)},
        sequence_features={"s": tf.FixedLenSequenceFeature([2], d),
                           "r": tf.VarLenFeature(d)})
    out = [context["c"], sequences["s"]]
    for sparse in (context["cv"], sequences["r"]):
        out += [sparse.indices, sparse.values, sparse.dense_shape]
    return out


def _parse_sequence_v2(f, d):
    records = []
    for n in (1, 3):
        steps = tf.train.FeatureList(feature=[_feature(d, 2, i) for i in range(n)])
        ragged = tf.train.FeatureList(feature=[_feature(d, i, 1) for i in range(n)])
        records.append(tf.train.SequenceExample(
            context=tf.train.Features(feature={"c": _feature(d, 2, n)}),
            feature_lists=tf.train.FeatureLists(feature_list={"s": steps, "r": ragged}),
        ).SerializeToString())
    context, sequences, lengths = tf.io.parse_sequence_example(
        tf.constant(records),
        context_features={"c": tf.FixedLenFeature([2], d), "cv": tf.VarLenFeature(d)},
        sequence_features={"s": tf.FixedLenSequenceFeature([2], d),
                           "r": tf.VarLenFeature(d)})
    out = [context["c"], sequences["s"], lengths["s"]]
    for sparse in (context["cv"], sequences["r"]):
        out += [sparse.indices, sparse.values, sparse.dense_shape]
    return out


def _decode_raw(f, d):
    data = np.arange(16, dtype=np.uint8)
    if d is tf.bool:
        data = data % 2
    strings = tf.constant(np.array([data.tobytes(), data[::-1].tobytes()], dtype=object))
    return [tf.decode_raw(strings, d), tf.decode_raw(strings, d, little_endian=False)]


def _decode_csv(f, d):
    default = {tf.string: "dflt", tf.float32: 1.5, tf.float64: 2.5}.get(d, 7)
    dtype_value = np.array(default, dtype=object if d is tf.string else d.as_numpy_dtype)
    records = tf.constant(['1,"2",3', '4,,6', ',"8",9'])
    return tf.decode_csv(records, [dtype_value, dtype_value, np.array([], dtype_value.dtype)
                                   if d is not tf.string else np.array([], dtype=object)])


def _serialize_tensor(f, d):
    return [tf.serialize_tensor(f((2, 3), d)), tf.serialize_tensor(f((), d))]


def _parse_tensor(f, d):
    value = f((3, 2), d)
    return [tf.parse_tensor(tf.serialize_tensor(value), d)]


def add_cases(case):
    """Adds this family's cases through test_parity's `case(op_type, dtypes, build)`."""
    case("ParseExampleV2", FEATURE_DTYPES, _parse_example)
    case("ParseExample", FEATURE_DTYPES, _tf1_parse_examples)
    case("ParseSingleExample", FEATURE_DTYPES, _tf1_parse_examples)
    case("ParseSequenceExampleV2", FEATURE_DTYPES,
         lambda f, d: _parse_sequence(f, d) + _parse_sequence_v2(f, d))
    case("ParseSingleSequenceExample", FEATURE_DTYPES, _parse_single_sequence_v1)
    case("DecodeRaw", RAW_DTYPES, _decode_raw)
    case("DecodeCSV", CSV_DTYPES, _decode_csv)
    case("SerializeTensor", TENSOR_DTYPES, _serialize_tensor)
    case("ParseTensor", TENSOR_DTYPES, _parse_tensor)
