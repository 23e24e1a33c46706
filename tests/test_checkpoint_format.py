"""The V2 checkpoint format (``framework/tensor_bundle.py``): round trips of every dtype, the
table format, CRC32C checksums, and corrupt or truncated files giving DataLossError.

The byte-level expectations (masked CRC values, the table footer, the string encoding) come
from the TF-written checkpoint under ``tests/data/tf_checkpoint`` (made by
``tools/make_tf_checkpoint.py`` with TF 2.21): our writer reproduces its data file byte for
byte and its index records exactly.
"""

import os
import struct

import numpy as np
import pytest

import sessionlib as tf
from sessionlib.framework import tensor_bundle as tb

TF_CHECKPOINT = os.path.join(os.path.dirname(__file__), "data", "tf_checkpoint", "model-7")

ALL_VALUES = {
    "f16": np.array([1.5, -2.0], dtype=np.float16),
    "f32": np.arange(12, dtype=np.float32).reshape(3, 4) / 7,
    "f64": np.array([[np.pi, -np.inf], [np.nan, 1e-300]]),
    "i8": np.array([-128, 127], dtype=np.int8),
    "i16": np.array([-32768, 5], dtype=np.int16),
    "i32": np.array(-7, dtype=np.int32),
    "i64": np.array([2 ** 62, -(2 ** 63)], dtype=np.int64),
    "u8": np.arange(256, dtype=np.uint8),
    "bool": np.array([[True], [False]]),
    "empty": np.zeros((0, 3), dtype=np.float32),
    "str": np.array([[b"a", b""], [b"\x00\xff", "unicode \u00e9".encode()]], dtype=object),
    "str_scalar": np.array(b"x" * 300, dtype=object),
}


def _write(prefix, values):
    writer = tb.BundleWriter(prefix)
    for name, value in values.items():
        writer.add(name, value)
    return writer.finish()


def test_round_trip_every_dtype(tmp_path):
    prefix = _write(str(tmp_path / "ckpt"), ALL_VALUES)
    assert sorted(os.listdir(tmp_path)) == ["ckpt.data-00000-of-00001", "ckpt.index"]
    with tb.BundleReader(prefix) as reader:
        assert reader.names() == sorted(ALL_VALUES)
        for name, value in ALL_VALUES.items():
            got = reader.read(name)
            assert got.shape == value.shape, name
            assert got.dtype == value.dtype, name
            np.testing.assert_array_equal(got, value)
            assert reader.shape(name) == list(value.shape)


def test_reads_tf_written_checkpoint_and_rewrites_it_identically(tmp_path):
    reader = tb.BundleReader(TF_CHECKPOINT)
    assert reader.names() == ["matrix_bool", "matrix_f32", "matrix_f64", "scalar_f32",
                              "scalar_i64", "scalar_string", "scope/vector_i32", "strings"]
    np.testing.assert_array_equal(reader.read("scope/vector_i32"), [1, -2, 2147483647])
    assert reader.read("scalar_string") == b"one string"
    assert reader.read("strings").tolist() == [b"", b"hello", b"\xff\x00bytes", b"x" * 200]
    assert reader.dtype("scalar_i64") == tf.int64
    writer = tb.BundleWriter(str(tmp_path / "copy"))
    for name in reader.names():
        writer.add(name, reader.read(name), reader.dtype(name))
    writer.finish()
    with open(TF_CHECKPOINT + ".data-00000-of-00001", "rb") as theirs, \
            open(str(tmp_path / "copy.data-00000-of-00001"), "rb") as ours:
        assert ours.read() == theirs.read()
    with open(TF_CHECKPOINT + ".index", "rb") as theirs, \
            open(str(tmp_path / "copy.index"), "rb") as ours:
        assert tb.parse_table(ours.read()) == tb.parse_table(theirs.read())


def test_masked_crc32c():
    # CRC32C("123456789") is the standard check value 0xe3069283.
    assert tb.unmask_crc32c(tb.masked_crc32c(b"123456789")) == 0xE3069283
    # The masked length checksum of the TF-written "one string" tensor (bytes 1..4).
    assert tb.masked_crc32c(struct.pack("<I", 10)) == 0xB9C2ED60


def test_table_format_many_blocks_and_restarts(monkeypatch):
    monkeypatch.setattr(tb, "_BLOCK_SIZE", 200)
    items = [(f"key{i:04d}/shared/prefix".encode(), bytes([i % 256]) * (i % 7))
             for i in range(500)]
    table = tb.build_table(items)
    assert table[-8:] == struct.pack("<Q", 0xDB4775248B80FB57)
    assert len(table) > 200 * 10
    assert tb.parse_table(table) == items
    with pytest.raises(ValueError):
        tb.build_table([(b"b", b""), (b"a", b"")])


def test_empty_table_and_header_only_bundle(tmp_path):
    assert tb.parse_table(tb.build_table([])) == []
    prefix = _write(str(tmp_path / "none"), {})
    assert tb.BundleReader(prefix).names() == []


def test_duplicate_name_rejected(tmp_path):
    writer = tb.BundleWriter(str(tmp_path / "dup"))
    writer.add("a", np.ones(2))
    with pytest.raises(tf.errors.InvalidArgumentError, match="duplicate key: a"):
        writer.add("a", np.ones(2))
    writer.abort()
    assert os.listdir(tmp_path) == []


def test_missing_tensor_and_missing_checkpoint(tmp_path):
    prefix = _write(str(tmp_path / "c"), {"a": np.ones(2)})
    with pytest.raises(tf.errors.NotFoundError, match="Key b not found"):
        tb.BundleReader(prefix).read("b")
    with pytest.raises(tf.errors.NotFoundError):
        tb.BundleReader(str(tmp_path / "nothing"))


def _flip(path, offset):
    with open(path, "r+b") as handle:
        handle.seek(offset)
        byte = handle.read(1)
        handle.seek(offset)
        handle.write(bytes([byte[0] ^ 0x01]))


def test_corrupt_data_gives_data_loss(tmp_path):
    prefix = _write(str(tmp_path / "c"), {"a": np.arange(10.0), "s": ALL_VALUES["str"]})
    data = tb.data_filename(prefix, 0, 1)
    _flip(data, 3)
    reader = tb.BundleReader(prefix)
    with pytest.raises(tf.errors.DataLossError, match="a is corrupt"):
        reader.read("a")
    # The string tensor follows the 80 bytes of "a": flip one of its content bytes.
    _flip(data, 80 + 4 + 4 + 1)
    with pytest.raises(tf.errors.DataLossError):
        tb.BundleReader(prefix).read("s")


def test_truncated_data_gives_data_loss(tmp_path):
    prefix = _write(str(tmp_path / "c"), {"a": np.arange(10.0), "b": np.arange(3)})
    data = tb.data_filename(prefix, 0, 1)
    with open(data, "r+b") as handle:
        handle.truncate(50)
    reader = tb.BundleReader(prefix)
    with pytest.raises(tf.errors.DataLossError, match="truncated"):
        reader.read("b")
    with pytest.raises(tf.errors.DataLossError, match="truncated"):
        reader.read("a")


@pytest.mark.parametrize("damage", ["truncate", "flip_block", "flip_footer", "empty"])
def test_corrupt_index_gives_data_loss(tmp_path, damage):
    prefix = _write(str(tmp_path / "c"), {"a": np.arange(10.0), "b": np.arange(3)})
    index = tb.index_filename(prefix)
    size = os.path.getsize(index)
    if damage == "truncate":
        with open(index, "r+b") as handle:
            handle.truncate(size - 10)
    elif damage == "flip_block":
        _flip(index, 5)
    elif damage == "flip_footer":
        _flip(index, size - 3)
    else:
        open(index, "wb").close()
    with pytest.raises(tf.errors.DataLossError):
        tb.BundleReader(prefix)


def test_writer_leaves_no_partial_checkpoint(tmp_path):
    prefix = str(tmp_path / "c")
    writer = tb.BundleWriter(prefix)
    writer.add("a", np.ones(3))
    # Before finish nothing carries the checkpoint's names: only temporary files exist.
    assert not tb.bundle_exists(prefix)
    assert all(".tempstate" in name for name in os.listdir(tmp_path))
    with pytest.raises(RuntimeError):
        with writer:
            raise RuntimeError("crash mid-save")
    assert os.listdir(tmp_path) == []


def test_merge_bundles(tmp_path):
    first = _write(str(tmp_path / "tmp" / "part-0"), {"a": np.arange(3), "z": np.ones(2)})
    second = _write(str(tmp_path / "tmp" / "part-1"), {"m": np.array([b"s"], dtype=object)})
    merged = tb.merge_bundles([first, second], str(tmp_path / "model"))
    assert sorted(os.listdir(tmp_path)) == ["model.data-00000-of-00002",
                                            "model.data-00001-of-00002", "model.index"]
    reader = tb.BundleReader(merged)
    assert reader.header.num_shards == 2
    assert reader.entry("m").shard_id == 1
    np.testing.assert_array_equal(reader.read("a"), [0, 1, 2])
    assert reader.read("m").tolist() == [b"s"]
    np.testing.assert_array_equal(reader.read("z"), [1.0, 1.0])


def test_merge_rejects_duplicates(tmp_path):
    first = _write(str(tmp_path / "p0"), {"a": np.arange(3)})
    second = _write(str(tmp_path / "p1"), {"a": np.arange(3)})
    with pytest.raises(tf.errors.InvalidArgumentError, match="Duplicate"):
        tb.merge_bundles([first, second], str(tmp_path / "m"))


def test_overwriting_a_checkpoint_replaces_it_and_cleans_up(tmp_path):
    import threading

    prefix = _write(str(tmp_path / "c"), {"a": np.arange(10.0)})
    _write(prefix, {"a": np.arange(3.0), "b": np.ones(2, np.int32)})
    for thread in threading.enumerate():
        if thread.name == "checkpoint-cleanup":
            thread.join()
    assert sorted(os.listdir(tmp_path)) == ["c.data-00000-of-00001", "c.index"]
    with tb.BundleReader(prefix) as reader:
        np.testing.assert_array_equal(reader.read("a"), [0.0, 1.0, 2.0])
        np.testing.assert_array_equal(reader.read("b"), [1, 1])


def test_large_tensor_spans_many_checksum_chunks(tmp_path):
    value = np.arange(3 * (1 << 20) // 8 + 5, dtype=np.float64)
    prefix = _write(str(tmp_path / "c"), {"big": value})
    with tb.BundleReader(prefix) as reader:
        np.testing.assert_array_equal(reader.read("big"), value)
    # The last chunk is partial: corrupting its final byte is caught.
    _flip(tb.data_filename(prefix, 0, 1), value.nbytes - 1)
    with pytest.raises(tf.errors.DataLossError, match="big is corrupt"):
        tb.BundleReader(prefix).read("big")


def test_checkpoint_protos_have_tfs_field_numbers():
    # From TF's tensor_bundle.proto, tensor_slice.proto, saver.proto and
    # checkpoint_state.proto.
    from sessionlib.protos import (checkpoint_state_pb2, saver_pb2, tensor_bundle_pb2,
                                   tensor_slice_pb2)

    def numbers(message):
        return {name: field.number for name, field in message.DESCRIPTOR.fields_by_name.items()}

    assert numbers(tensor_bundle_pb2.BundleHeaderProto) == {
        "num_shards": 1, "endianness": 2, "version": 3}
    assert numbers(tensor_bundle_pb2.BundleEntryProto) == {
        "dtype": 1, "shape": 2, "shard_id": 3, "offset": 4, "size": 5, "crc32c": 6,
        "slices": 7}
    assert numbers(tensor_slice_pb2.TensorSliceProto.Extent) == {"start": 1, "length": 2}
    assert numbers(saver_pb2.SaverDef) == {
        "filename_tensor_name": 1, "save_tensor_name": 2, "restore_op_name": 3,
        "max_to_keep": 4, "sharded": 5, "keep_checkpoint_every_n_hours": 6, "version": 7}
    assert saver_pb2.SaverDef.V2 == 2
    assert numbers(checkpoint_state_pb2.CheckpointState) == {
        "model_checkpoint_path": 1, "all_model_checkpoint_paths": 2,
        "all_model_checkpoint_timestamps": 3, "last_preserved_timestamp": 4}
    # The TF-written header record: num_shards 1, version.producer 1.
    header = tensor_bundle_pb2.BundleHeaderProto.FromString(b"\x08\x01\x1a\x02\x08\x01")
    assert header.num_shards == 1 and header.version.producer == 1
