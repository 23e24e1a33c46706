"""Record readers and record datasets: TFRecordReader, FixedLengthRecordReader,
TFRecordDataset, FixedLengthRecordDataset, read_file / write_file, and the legacy pipeline
string_input_producer -> TFRecordReader -> parse_example.

Keys, values and messages marked "TF 2.21" were checked against tf.compat.v1 on the same
files."""

import gzip
import os

import numpy as np
import pytest

import sessionlib as tf
from sessionlib import errors
from sessionlib.runtime import settings

BOUNDED = tf.RunOptions(timeout_in_ms=20000)
DATA = os.path.join(os.path.dirname(__file__), "data", "tf_examples")

# A pipeline's dataset description stays in the client: tf.data tests run in-process only.
in_process_only = pytest.mark.skipif(
    bool(settings.worker_processes()),
    reason="tf.data pipelines run only in in-process sessions (SESSIONLIB_WORKERS=1 is set)")


def _write_records(path, records, options=None):
    with tf.python_io.TFRecordWriter(str(path), options) as writer:
        for record in records:
            writer.write(record)
    return str(path).encode()


@pytest.fixture
def record_files(tmp_path):
    """Two plain TFRecord files, a GZIP and a ZLIB one, and a binary file of 13 bytes."""
    first = _write_records(tmp_path / "a.tfr", [b"one", b"", b"three"])
    second = _write_records(tmp_path / "b.tfr", [b"x" * 10])
    gzipped = _write_records(tmp_path / "z.tfr", [b"g1", b"g22"],
                             tf.python_io.TFRecordOptions(
                                 tf.python_io.TFRecordCompressionType.GZIP))
    zlibbed = _write_records(tmp_path / "l.tfr", [b"l1", b"l22"],
                             tf.python_io.TFRecordOptions("ZLIB"))
    binary = tmp_path / "f.bin"
    binary.write_bytes(b"HH" + bytes(range(10)) + b"F")
    return {"first": first, "second": second, "gzip": gzipped, "zlib": zlibbed,
            "binary": str(binary).encode()}


def _queue_of(sess, names):
    queue = tf.FIFOQueue(10, tf.string)
    sess.run(queue.enqueue_many([list(names)]))
    sess.run(queue.close())
    return queue


# ---- TFRecordReader -------------------------------------------------------------------------------

def test_tf_record_reader_keys_are_offsets(executor, record_files):
    first, second = record_files["first"], record_files["second"]
    with tf.Session() as sess:
        reader = tf.TFRecordReader()
        assert reader.reader_ref.op.type == "TFRecordReaderV2"
        key, value = reader.read(_queue_of(sess, [first, second]))
        records = [tuple(sess.run([key, value], options=BOUNDED)) for _ in range(4)]
        # TF 2.21: each key is the offset of the record's frame (16 bytes + data apart).
        assert records == [(first + b":0", b"one"), (first + b":19", b""),
                           (first + b":35", b"three"), (second + b":0", b"x" * 10)]
        with pytest.raises(errors.OutOfRangeError):
            sess.run(key, options=BOUNDED)
        assert sess.run(reader.num_records_produced()) == 4
        assert sess.run(reader.num_work_units_completed()) == 2
        with pytest.raises(errors.UnimplementedError, match="Reader SerializeState"):
            sess.run(reader.serialize_state())


@pytest.mark.parametrize("kind, options", [("gzip", "GZIP"), ("zlib", "ZLIB"),
                                           ("gzip", tf.python_io.TFRecordOptions("GZIP"))])
def test_tf_record_reader_compressed(record_files, kind, options):
    name = record_files[kind]
    with tf.Session() as sess:
        keys, values = tf.TFRecordReader(options=options).read_up_to(
            _queue_of(sess, [name]), 10)
        keys, values = sess.run([keys, values], options=BOUNDED)
    # TF 2.21 (GZIP): offsets in the uncompressed stream.
    assert list(keys) == [name + b":0", name + b":18"]
    prefix = {"gzip": b"g", "zlib": b"l"}[kind]
    assert list(values) == [prefix + b"1", prefix + b"22"]


def test_tf_record_reader_errors(record_files, tmp_path):
    truncated = tmp_path / "bad.tfr"
    truncated.write_bytes(open(record_files["first"], "rb").read()[:-3])
    with tf.Session() as sess:
        reader = tf.TFRecordReader()
        _, value = reader.read(_queue_of(sess, [str(tmp_path / "missing.tfr").encode(),
                                                str(truncated).encode()]))
        with pytest.raises(errors.NotFoundError, match="missing.tfr"):
            sess.run(value, options=BOUNDED)
        assert sess.run(value, options=BOUNDED) == b"one"
        assert sess.run(value, options=BOUNDED) == b""
        with pytest.raises(errors.DataLossError, match="truncated record at 35"):
            sess.run(value, options=BOUNDED)


def test_tf_made_file_through_reader_and_parse_example():
    path = os.path.join(DATA, "examples.tfrecord").encode()
    expected = np.load(os.path.join(DATA, "parsed.npz"))
    with tf.Session() as sess:
        _, serialized = tf.TFRecordReader().read_up_to(_queue_of(sess, [path]), 10)
        parsed = tf.parse_example(serialized, {
            "label": tf.FixedLenFeature([], tf.int64, default_value=-1),
            "weights": tf.FixedLenFeature([3], tf.float32),
            "tokens": tf.VarLenFeature(tf.string)})
        values = sess.run(parsed, options=BOUNDED)
    np.testing.assert_array_equal(values["label"], expected["label"])
    np.testing.assert_array_equal(values["weights"], expected["weights"])
    np.testing.assert_array_equal(values["tokens"].indices, expected["tokens.indices"])
    assert list(values["tokens"].values) == list(expected["tokens.values"])


def test_legacy_pipeline_with_queue_runners(tmp_path):
    """string_input_producer -> TFRecordReader -> parse_single_example -> batch, run by
    queue runners, as TF 1 input pipelines are written."""
    names = []
    for shard in range(2):
        records = [tf.train.Example(features=tf.train.Features(feature={
            "x": tf.train.Feature(int64_list=tf.train.Int64List(value=[10 * shard + i])),
            "y": tf.train.Feature(float_list=tf.train.FloatList(value=[i / 2, -i]))}),
        ).SerializeToString() for i in range(3)]
        names.append(_write_records(tmp_path / f"shard-{shard}.tfr", records).decode())
    filename_queue = tf.train.string_input_producer(names, num_epochs=1, shuffle=False)
    _, serialized = tf.TFRecordReader().read(filename_queue)
    features = tf.parse_single_example(serialized, {
        "x": tf.FixedLenFeature([], tf.int64), "y": tf.FixedLenFeature([2], tf.float32)})
    xs, ys = tf.train.batch([features["x"], features["y"]], batch_size=3)
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess, coord)
        try:
            batches = [sess.run([xs, ys], options=BOUNDED) for _ in range(2)]
            with pytest.raises(errors.OutOfRangeError):
                sess.run(xs, options=BOUNDED)
        finally:
            coord.request_stop()
            coord.join(threads)
    assert [b[0].tolist() for b in batches] == [[0, 1, 2], [10, 11, 12]]
    np.testing.assert_array_equal(batches[1][1], [[0.0, 0.0], [0.5, -1.0], [1.0, -2.0]])


# ---- FixedLengthRecordReader -------------------------------------------------------------------

def test_fixed_length_record_reader(executor, record_files):
    name = record_files["binary"]
    with tf.Session() as sess:
        hop = tf.FixedLengthRecordReader(record_bytes=3, header_bytes=2, footer_bytes=1,
                                         hop_bytes=2)
        assert hop.reader_ref.op.type == "FixedLengthRecordReaderV2"
        hop_keys, hop_values = hop.read_up_to(_queue_of(sess, [name]), 10)
        plain = tf.FixedLengthRecordReader(record_bytes=4, header_bytes=2, footer_bytes=1)
        plain_keys, plain_values = plain.read_up_to(_queue_of(sess, [name]), 10)
        bare = tf.FixedLengthRecordReader(4)
        bare_key, bare_value = bare.read(_queue_of(sess, [name]))
        hop_keys, hop_values, plain_keys, plain_values = sess.run(
            [hop_keys, hop_values, plain_keys, plain_values], options=BOUNDED)
        bare = [tuple(sess.run([bare_key, bare_value], options=BOUNDED)) for _ in range(3)]
        with pytest.raises(errors.OutOfRangeError):
            sess.run(bare_value, options=BOUNDED)
    # TF 2.21: records start every hop_bytes while a whole one fits before the footer; a
    # shorter remainder is dropped; keys count records from 0.
    assert list(hop_keys) == [name + b":%d" % i for i in range(4)]
    assert list(hop_values) == [b"\x00\x01\x02", b"\x02\x03\x04", b"\x04\x05\x06",
                                b"\x06\x07\x08"]
    assert list(plain_keys) == [name + b":0", name + b":1"]
    assert list(plain_values) == [b"\x00\x01\x02\x03", b"\x04\x05\x06\x07"]
    assert bare == [(name + b":0", b"HH\x00\x01"), (name + b":1", b"\x02\x03\x04\x05"),
                    (name + b":2", b"\x06\x07\x08\t")]


def test_fixed_length_record_reader_gzip_and_errors(tmp_path):
    packed = tmp_path / "f.bin.gz"
    packed.write_bytes(gzip.compress(bytes(range(8))))
    with tf.Session() as sess:
        reader = tf.FixedLengthRecordReader(record_bytes=4, encoding="GZIP")
        _, values = reader.read_up_to(
            _queue_of(sess, [str(tmp_path / "nope.bin").encode(), str(packed).encode()]), 5)
        with pytest.raises(errors.NotFoundError, match="nope.bin"):
            sess.run(values, options=BOUNDED)
        assert list(sess.run(values, options=BOUNDED)) == [b"\x00\x01\x02\x03",
                                                           b"\x04\x05\x06\x07"]
    with pytest.raises(ValueError, match="record_bytes must be positive"):
        tf.FixedLengthRecordReader(0)
    with pytest.raises(ValueError, match="Unknown encoding"):
        tf.FixedLengthRecordReader(4, encoding="LZ4")


# ---- read_file / write_file ------------------------------------------------------------------

def test_read_and_write_file(executor, tmp_path):
    target = tmp_path / "sub" / "dir" / "w.txt"
    write = tf.io.write_file(str(target), tf.constant(b"hello\x00"))
    assert write.type == "WriteFile"
    contents = tf.read_file(str(target))
    missing = tf.io.read_file(str(tmp_path / "nope"))
    assert contents.shape.as_list() == [] and contents.dtype == tf.string
    with tf.Session() as sess:
        assert sess.run(write) is None
        assert target.read_bytes() == b"hello\x00"
        assert sess.run(contents) == b"hello\x00"
        target.write_bytes(b"changed")
        assert sess.run(contents) == b"changed"  # stateful: read again on every run
        with pytest.raises(errors.NotFoundError, match="nope; No such file or directory"):
            sess.run(missing)


# ---- datasets --------------------------------------------------------------------------------

def _elements(dataset):
    next_element = tf.data.make_one_shot_iterator(dataset).get_next()
    values = []
    with tf.Session() as sess:
        with pytest.raises(errors.OutOfRangeError):
            for _ in range(100):
                values.append(sess.run(next_element))
    return values


@in_process_only
def test_tf_record_dataset(record_files):
    first, second = record_files["first"], record_files["second"]
    dataset = tf.data.TFRecordDataset([first, second])
    assert tf.data.get_output_types(dataset) == tf.string
    assert tf.data.get_output_shapes(dataset).as_list() == []
    # TF 2.21's values.
    assert _elements(dataset) == [b"one", b"", b"three", b"x" * 10]
    assert _elements(tf.data.TFRecordDataset(record_files["gzip"],
                                             compression_type="GZIP")) == [b"g1", b"g22"]
    assert _elements(tf.data.TFRecordDataset(record_files["zlib"],
                                             compression_type="ZLIB")) == [b"l1", b"l22"]
    interleaved = tf.data.TFRecordDataset([first, second], num_parallel_reads=2)
    assert _elements(interleaved) == [b"one", b"x" * 10, b"", b"three"]
    third = tf.data.TFRecordDataset([first, second, record_files["gzip"]],
                                    num_parallel_reads=2)
    with pytest.raises(errors.DataLossError):  # the GZIP file read as a plain one
        _elements(third)
    three = tf.data.TFRecordDataset([first, second, first], num_parallel_reads=2)
    assert _elements(three) == [b"one", b"x" * 10, b"", b"three", b"one", b"", b"three"]
    with pytest.raises(ValueError, match="Unsupported compression_type"):
        tf.data.TFRecordDataset(first, compression_type="LZ4")


@in_process_only
def test_tf_made_file_through_dataset_map_and_batch():
    expected = np.load(os.path.join(DATA, "parsed.npz"))
    spec = {"weights": tf.FixedLenFeature([3], tf.float32),
            "label": tf.FixedLenFeature([], tf.int64, default_value=-1)}
    dataset = tf.data.TFRecordDataset(os.path.join(DATA, "examples.tfrecord")).map(
        lambda record: tf.parse_single_example(record, spec)).batch(3)
    (batch,) = _elements(dataset)
    np.testing.assert_array_equal(batch["weights"], expected["weights"])
    np.testing.assert_array_equal(batch["label"], expected["label"])


@in_process_only
def test_fixed_length_record_dataset(record_files, tmp_path):
    name = record_files["binary"]
    exact = tf.data.FixedLengthRecordDataset(name, 5, header_bytes=2, footer_bytes=1)
    assert _elements(exact) == [bytes(range(5)), bytes(range(5, 10))]
    packed = tmp_path / "p.bin.gz"
    packed.write_bytes(gzip.compress(b"abcdef"))
    assert _elements(tf.data.FixedLengthRecordDataset(
        [str(packed)], 3, compression_type="GZIP")) == [b"abc", b"def"]
    ragged = tf.data.FixedLengthRecordDataset(name, 4, header_bytes=2, footer_bytes=1)
    next_element = tf.data.make_one_shot_iterator(ragged).get_next()
    with tf.Session() as sess:
        # TF 2.21's message.
        with pytest.raises(errors.InvalidArgumentError,
                           match=r"Excluding the header \(2 bytes\) and footer \(1 bytes\), "
                                 r"input file .* has body length 10 bytes, which is not an "
                                 r"exact multiple of the record length \(4 bytes\)\."):
            sess.run(next_element)
