"""Event files: CRC32C, TFRecord framing and corruption detection, `FileWriter`, and
`tf.train.summary_iterator` reading back what the writer wrote."""

import os
import socket
import struct
import warnings

import numpy as np
import pytest

import sessionlib as tf
from sessionlib import errors
from sessionlib.lib_io import tf_record
from sessionlib.framework import crc32c


# ---- CRC32C ---------------------------------------------------------------------------------

def test_crc32c_check_value_and_mask():
    # "123456789" is the standard CRC-32C check input; 0xE3069283 its published CRC.
    assert crc32c.value(b"123456789") == 0xE3069283
    assert crc32c.value(b"") == 0
    assert crc32c.extend(crc32c.value(b"1234"), b"56789") == 0xE3069283
    # TF's masked CRC of b"hello" (the value TensorBoard's own masked_crc32c gives).
    assert crc32c.masked(b"hello") == 421273531
    for data in (b"", b"a", b"hello", bytes(range(256))):
        assert crc32c.unmask(crc32c.masked(data)) == crc32c.value(data)
        assert crc32c.mask(crc32c.value(data)) == crc32c.masked(data)


# ---- TFRecord framing -----------------------------------------------------------------------

def test_record_framing_is_tfs():
    framed = tf_record.encode_record(b"abc")
    assert len(framed) == 8 + 4 + 3 + 4
    (length,) = struct.unpack("<Q", framed[:8])
    assert length == 3
    assert struct.unpack("<I", framed[8:12])[0] == crc32c.masked(framed[:8])
    assert framed[12:15] == b"abc"
    assert struct.unpack("<I", framed[15:])[0] == crc32c.masked(b"abc")


def test_writer_and_iterator_round_trip(tmp_path):
    path = str(tmp_path / "data.tfrecord")
    records = [b"", b"one", bytes(range(256)) * 300, "text \u00e9"]
    with tf.python_io.TFRecordWriter(path) as writer:
        for record in records:
            writer.write(record)
        writer.flush()
    got = list(tf.python_io.tf_record_iterator(path))
    assert got == [b"", b"one", bytes(range(256)) * 300, "text \u00e9".encode("utf-8")]
    assert os.path.getsize(path) == sum(16 + len(r) for r in got)
    assert tf.io.TFRecordWriter is tf.python_io.TFRecordWriter


@pytest.mark.parametrize("compression", ["GZIP", "ZLIB",
                                         tf_record.TFRecordOptions(compression_type="GZIP")])
def test_compressed_round_trip(tmp_path, compression):
    path = str(tmp_path / "data.tfrecord")
    with tf.io.TFRecordWriter(path, options=compression) as writer:
        for i in range(50):
            writer.write(b"record %d " % i * 10)
    got = list(tf.io.tf_record_iterator(path, options=compression))
    assert got == [b"record %d " % i * 10 for i in range(50)]
    with open(path, "rb") as f:
        raw = f.read()
    assert b"record 1" not in raw  # really compressed
    assert tf_record.TFRecordOptions.get_compression_type_string(compression) in ("GZIP",
                                                                                  "ZLIB")


def _write(path, records):
    with tf_record.TFRecordWriter(path) as writer:
        for record in records:
            writer.write(record)


def _corrupt(path, offset):
    with open(path, "r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 0x01]))


@pytest.mark.parametrize("offset, where", [(16 + 3 + 12 + 2, 19),   # data of record 1
                                           (16 + 3 + 1, 19),        # length of record 1
                                           (16 + 3 + 9, 19),        # length CRC of record 1
                                           (16 + 3 + 16 + 4 + 1, 19)])  # data CRC of record 1
def test_a_flipped_bit_is_data_loss(tmp_path, offset, where):
    path = str(tmp_path / "data.tfrecord")
    _write(path, [b"abc", b"defghij", b"k"])
    _corrupt(path, offset)
    iterator = tf_record.tf_record_iterator(path)
    assert next(iterator) == b"abc"
    with pytest.raises(errors.DataLossError, match=f"corrupted record at {where}"):
        next(iterator)


@pytest.mark.parametrize("cut", [1, 5, 12, 14, 18])
def test_a_truncated_record_is_data_loss(tmp_path, cut):
    path = str(tmp_path / "data.tfrecord")
    _write(path, [b"abc", b"defghij"])
    size = os.path.getsize(path)
    with open(path, "r+b") as f:
        f.truncate(size - 23 + cut)  # the second record is 23 bytes: keep `cut` of them
    iterator = tf_record.tf_record_iterator(path)
    assert next(iterator) == b"abc"
    with pytest.raises(errors.DataLossError, match="truncated record at 19"):
        next(iterator)


def test_missing_file_and_bad_options(tmp_path):
    with pytest.raises(errors.NotFoundError):
        list(tf_record.tf_record_iterator(str(tmp_path / "nope")))
    with pytest.raises(ValueError, match="compression"):
        tf_record.TFRecordWriter(str(tmp_path / "x"), options="LZ4")
    writer = tf_record.TFRecordWriter(str(tmp_path / "y"))
    writer.close()
    writer.close()
    with pytest.raises(errors.FailedPreconditionError):
        writer.write(b"late")


# ---- FileWriter ------------------------------------------------------------------------------

def _events(writer):
    return list(tf.train.summary_iterator(writer.event_file_path))


def test_file_starts_with_file_version_and_is_named_as_tf_names_it(tmp_path):
    logdir = str(tmp_path / "logs" / "run1")  # created, parents too
    writer = tf.summary.FileWriter(logdir, filename_suffix=".v1")
    try:
        assert writer.get_logdir() == logdir
        names = os.listdir(logdir)
        assert len(names) == 1
        prefix, seconds, rest = names[0][:20], names[0][20:30], names[0][31:]
        assert prefix == "events.out.tfevents."
        assert seconds.isdigit() and rest == socket.gethostname() + ".v1"
        # The file_version event is on disk before anything is flushed.
        first = list(tf.train.summary_iterator(os.path.join(logdir, names[0])))
        assert len(first) == 1
        assert first[0].file_version == "brain.Event:2"
        assert abs(first[0].wall_time - int(seconds)) < 2
    finally:
        writer.close()


def test_summaries_session_logs_and_events_round_trip(tmp_path):
    writer = tf.summary.FileWriter(str(tmp_path), max_queue=1)
    summary = tf.Summary(value=[tf.Summary.Value(tag="loss", simple_value=0.5)])
    writer.add_summary(summary.SerializeToString(), global_step=3)
    writer.add_summary(summary, 4)
    writer.add_summary(np.array(summary.SerializeToString(), dtype=object), np.int64(5))
    writer.add_session_log(tf.SessionLog(status=tf.SessionLog.START), 6)
    writer.add_event(tf.Event(wall_time=12.5, step=7, file_version="custom"))
    for step in range(20):  # more than max_queue: add_* waits for the thread, never loses
        writer.add_summary(summary, 100 + step)
    writer.flush()
    events = _events(writer)
    writer.close()
    assert events[0].file_version == "brain.Event:2"
    assert [e.step for e in events[1:4]] == [3, 4, 5]
    assert all(e.summary.value[0].simple_value == 0.5 for e in events[1:4])
    assert events[4].session_log.status == tf.SessionLog.START and events[4].step == 6
    assert events[5].wall_time == 12.5 and events[5].file_version == "custom"
    assert [e.step for e in events[6:]] == list(range(100, 120))
    assert all(e.wall_time >= events[0].wall_time for e in events[1:5])


def test_plugin_metadata_is_kept_on_the_first_value_of_a_tag_only(tmp_path):
    writer = tf.summary.FileWriter(str(tmp_path))
    value = tf.Summary.Value(tag="t", metadata=tf.SummaryMetadata(display_name="T"))
    value.tensor.dtype = tf.string.as_datatype_enum
    value.tensor.string_val.append(b"x")
    writer.add_summary(tf.Summary(value=[value]), 0)
    writer.add_summary(tf.Summary(value=[value]), 1)
    writer.close()
    events = _events(writer)
    assert events[1].summary.value[0].metadata.display_name == "T"
    assert not events[2].summary.value[0].HasField("metadata")
    assert events[2].summary.value[0].tensor.string_val == [b"x"]


def test_graph_with_devices_and_run_metadata(tmp_path):
    with tf.Graph().as_default() as graph:
        x = tf.placeholder(tf.float32, [2], name="x")
        with tf.device("/cpu:0"):
            y = tf.multiply(x, 2.0, name="y")
        with tf.Session() as sess:
            writer = tf.summary.FileWriter(str(tmp_path), graph, session=sess)
            run_metadata = tf.RunMetadata()
            sess.run(y, {x: [1.0, 2.0]},
                     options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE),
                     run_metadata=run_metadata)
            writer.add_run_metadata(run_metadata, "step_1", global_step=1)
            with pytest.raises(ValueError, match="tag was already used"):
                writer.add_run_metadata(run_metadata, "step_1")
            writer.close()
    events = _events(writer)
    graph_def = tf.GraphDef.FromString(events[1].graph_def)
    devices = {node.name: node.device for node in graph_def.node}
    assert devices["y"] == "/device:CPU:0"  # as requested
    assert devices["x"].endswith("device:CPU:0")  # as placed by the session
    assert all(devices.values())
    assert "_output_shapes" in {key for node in graph_def.node for key in node.attr}
    tagged = events[2].tagged_run_metadata
    assert tagged.tag == "step_1" and events[2].step == 1
    stats = tf.RunMetadata.FromString(tagged.run_metadata).step_stats
    assert any(node.node_name == "y" for dev in stats.dev_stats for node in dev.node_stats)


def test_graph_def_argument_and_type_errors(tmp_path):
    graph_def = tf.GraphDef()
    graph_def.node.add(name="n", op="NoOp")
    writer = tf.summary.FileWriter(str(tmp_path), graph_def=graph_def)
    with pytest.raises(TypeError, match="instance of `Graph`"):
        writer.add_graph(42)
    writer.close()
    assert tf.GraphDef.FromString(_events(writer)[1].graph_def) == graph_def


def test_close_reopen_and_closed_writer_warns(tmp_path):
    writer = tf.summary.FileWriter(str(tmp_path))
    first_path = writer.event_file_path
    writer.add_summary(tf.Summary(value=[tf.Summary.Value(tag="a", simple_value=1)]), 1)
    writer.close()
    writer.close()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        writer.add_summary(tf.Summary(value=[tf.Summary.Value(tag="a", simple_value=9)]), 9)
    assert any("closed FileWriter" in str(w.message) for w in caught)
    writer.reopen()
    writer.add_summary(tf.Summary(value=[tf.Summary.Value(tag="a", simple_value=2)]), 2)
    writer.close()
    # A new file, even within the same second; the old one is intact.
    assert writer.event_file_path != first_path
    assert len(os.listdir(str(tmp_path))) == 2
    old = list(tf.train.summary_iterator(first_path))
    new = list(tf.train.summary_iterator(writer.event_file_path))
    assert [e.step for e in old[1:]] == [1] and [e.step for e in new[1:]] == [2]
    assert new[0].file_version == "brain.Event:2"


def test_context_manager_and_file_writer_cache(tmp_path):
    with tf.summary.FileWriter(str(tmp_path / "a")) as writer:
        writer.add_session_log(tf.SessionLog(status=tf.SessionLog.STOP))
    assert _events(writer)[1].session_log.status == tf.SessionLog.STOP
    logdir = str(tmp_path / "cached")
    try:
        cached = tf.summary.FileWriterCache.get(logdir)
        assert tf.summary.FileWriterCache.get(logdir) is cached
    finally:
        tf.summary.FileWriterCache.clear()
    assert tf.summary.FileWriterCache.get(logdir) is not cached
    tf.summary.FileWriterCache.clear()


def test_summary_iterator_stops_at_corruption(tmp_path):
    writer = tf.summary.FileWriter(str(tmp_path))
    for step in range(3):
        writer.add_summary(tf.Summary(value=[tf.Summary.Value(tag="s", simple_value=step)]),
                           step)
    writer.close()
    path = writer.event_file_path
    sizes = [16 + len(e.SerializeToString()) for e in tf.train.summary_iterator(path)]
    _corrupt(path, sizes[0] + sizes[1] + 14)  # inside the third event's data
    iterator = tf.train.summary_iterator(path)
    assert [next(iterator).step for _ in range(2)] == [0, 0]
    with pytest.raises(errors.DataLossError, match=f"corrupted record at "
                                                   f"{sizes[0] + sizes[1]}"):
        next(iterator)


def test_a_huge_length_with_a_valid_crc_is_truncation_not_an_allocation(tmp_path):
    path = str(tmp_path / "data.tfrecord")
    length = struct.pack("<Q", 1 << 60)
    with open(path, "wb") as f:
        f.write(length + struct.pack("<I", crc32c.masked(length)) + b"short")
    with pytest.raises(errors.DataLossError, match="truncated record at 0"):
        list(tf_record.tf_record_iterator(path))


def test_a_corrupt_compressed_stream_is_data_loss(tmp_path):
    path = str(tmp_path / "data.tfrecord.gz")
    with open(path, "wb") as f:
        f.write(b"\x1f\x8b this is not gzip data")
    with pytest.raises(errors.DataLossError, match="corrupted compressed data"):
        list(tf_record.tf_record_iterator(path, options="GZIP"))


def _field_numbers(message):
    return {field.name: field.number for field in message.DESCRIPTOR.fields}


def test_event_and_summary_protos_have_tfs_field_numbers():
    # TF's event.proto and summary.proto (as in TF 2.21 and tensorboard's compat protos).
    assert _field_numbers(tf.Event) == {
        "wall_time": 1, "step": 2, "file_version": 3, "graph_def": 4, "summary": 5,
        "log_message": 6, "session_log": 7, "tagged_run_metadata": 8, "meta_graph_def": 9,
        "source_metadata": 10}
    assert _field_numbers(tf.Summary.Value) == {
        "node_name": 7, "tag": 1, "metadata": 9, "simple_value": 2,
        "obsolete_old_style_histogram": 3, "image": 4, "histo": 5, "audio": 6, "tensor": 8}
    assert _field_numbers(tf.HistogramProto) == {
        "min": 1, "max": 2, "num": 3, "sum": 4, "sum_squares": 5, "bucket_limit": 6,
        "bucket": 7}
    assert _field_numbers(tf.Summary.Image) == {
        "height": 1, "width": 2, "colorspace": 3, "encoded_image_string": 4}
    assert _field_numbers(tf.Summary.Audio) == {
        "sample_rate": 1, "num_channels": 2, "length_frames": 3, "encoded_audio_string": 4,
        "content_type": 5}
    assert _field_numbers(tf.SummaryMetadata) == {
        "plugin_data": 1, "display_name": 2, "summary_description": 3, "data_class": 4}
    assert _field_numbers(tf.SessionLog) == {"status": 1, "checkpoint_path": 2, "msg": 3}
    assert (tf.SessionLog.START, tf.SessionLog.STOP, tf.SessionLog.CHECKPOINT) == (1, 2, 3)
    assert _field_numbers(tf.summary.TaggedRunMetadata) == {"tag": 1, "run_metadata": 2}
