"""Lookup tables (tf.lookup, tf.contrib.lookup): initialization, lookups, OOV buckets, files.

Expected values were checked by hand against TensorFlow 2.21 (``tf.compat.v1``), including
the out-of-vocabulary bucket ids (FarmHash Fingerprint64 of the key, integer keys as text).
"""

import pathlib

import numpy as np
import pytest

import sessionlib as tf
from sessionlib import errors

from _device_helpers import two_devices

lookup = tf.contrib.lookup


@pytest.fixture
def vocab_file(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("emerson\nlake\npalmer\n")
    return str(path)


@pytest.fixture
def columns_file(tmp_path):
    path = tmp_path / "columns.txt"
    path.write_text("a\t10\tx\nb\t20\ty\n")
    return str(path)


def _run_initialized(fetches, feed_dict=None):
    with tf.Session() as sess:
        sess.run(tf.tables_initializer())
        return sess.run(fetches, feed_dict)


def _kv_table(keys, values, default):
    return tf.lookup.StaticHashTable(tf.lookup.KeyValueTensorInitializer(keys, values), default)


# ---- static hash tables -----------------------------------------------------------------------

def test_static_hash_table_lookup_size_export(executor):
    table = _kv_table(tf.constant(["a", "b", "c"]), tf.constant([1, 2, 3], tf.int64), -1)
    out = table.lookup(tf.constant([["a", "z"], ["c", "b"]]))
    assert table.resource_handle.op.type == "HashTableV2"
    assert table.initializer.type == "LookupTableImportV2"
    assert table.initializer.name == "key_value_init/LookupTableImportV2"
    assert out.op.type == "LookupTableFindV2" and out.dtype == tf.int64
    assert out.shape.as_list() == [2, 2]
    assert tf.get_collection(tf.GraphKeys.TABLE_INITIALIZERS) == [table.initializer]
    with tf.Session() as sess:
        sess.run(tf.tables_initializer())
        np.testing.assert_array_equal(sess.run(out), [[1, -1], [3, 2]])
        assert sess.run(table.size()) == 3
        keys, values = sess.run(table.export())
    assert sorted(zip(keys.tolist(), values.tolist())) == [(b"a", 1), (b"b", 2), (b"c", 3)]


def test_lookup_before_initialization_fails_and_sessions_are_independent(executor):
    table = _kv_table(["a", "b"], tf.constant([1, 2], tf.int64), -1)
    out = table.lookup(tf.constant(["b"]))
    with tf.Session() as sess:
        with pytest.raises(errors.FailedPreconditionError, match="Table not initialized."):
            sess.run(out)
        assert sess.run(table.size()) == 0
        sess.run(table.initializer)
        assert sess.run(out).tolist() == [2]
    with tf.Session() as sess:  # a new session has a new, empty table
        with pytest.raises(errors.FailedPreconditionError, match="Table not initialized."):
            sess.run(out)


def test_duplicate_keys(executor):
    same = _kv_table(["a", "a", "b"], [1, 1, 2], -1)
    assert _run_initialized(same.lookup(tf.constant(["a", "b"]))).tolist() == [1, 2]
    tf.reset_default_graph()
    clash = _kv_table(["a", "a"], [1, 2], -1)
    with tf.Session() as sess:
        with pytest.raises(errors.FailedPreconditionError,
                           match="HashTable has different value for same key. Key a has 1 and "
                                 "trying to add value 2"):
            sess.run(clash.initializer)


def test_second_initialization_keeps_the_first_contents(executor):
    keys = tf.placeholder(tf.string, [None])
    table = _kv_table(keys, tf.constant([1, 2]), -1)
    with tf.Session() as sess:
        sess.run(table.initializer, {keys: ["a", "b"]})
        sess.run(table.initializer, {keys: ["a", "c"]})
        assert sess.run(table.size()) == 2
        assert sess.run(table.lookup(tf.constant(["b", "c"]))).tolist() == [2, -1]


def test_value_and_key_dtypes(executor):
    floats = _kv_table(["a", "b"], [1.5, 2.5], 0.0)
    strings = _kv_table(tf.constant([3, 4]), tf.constant(["x", "y"]), "d")
    assert floats.value_dtype == tf.float32 and strings.key_dtype == tf.int32
    got_floats, got_strings = _run_initialized([floats.lookup(tf.constant(["b", "q"])),
                                                strings.lookup(tf.constant([4, 9]))])
    assert got_floats.dtype == np.float32 and got_floats.tolist() == [2.5, 0.0]
    assert got_strings.tolist() == [b"y", b"d"]


def test_sparse_keys(executor):
    table = _kv_table(["a", "b"], [1, 2], -1)
    keys = tf.SparseTensor([[0, 0], [1, 2]], ["b", "z"], [2, 3])
    out = table.lookup(keys)
    assert isinstance(out, tf.SparseTensor)
    values, indices = _run_initialized([out.values, out.indices])
    assert values.tolist() == [2, -1] and indices.tolist() == [[0, 0], [1, 2]]


def test_graph_time_errors():
    table = _kv_table(["a", "b"], [1, 2], -1)
    with pytest.raises(TypeError, match="Dtype of argument `keys`"):
        table.lookup(tf.constant([4, 9]))
    with pytest.raises(ValueError):
        _kv_table(["a", "b"], [1, 2, 3], -1)
    with pytest.raises(ValueError):
        _kv_table(["a", "b"], [1, 2], tf.constant([-1, -2]))
    with pytest.raises(ValueError, match="num_oov_buckets"):
        tf.lookup.StaticVocabularyTable(None, 0)
    with pytest.raises(ValueError):
        tf.lookup.TextFileInitializer("f", tf.string, tf.lookup.TextFileIndex.WHOLE_LINE,
                                      tf.int32, tf.lookup.TextFileIndex.LINE_NUMBER)
    with pytest.raises(ValueError):
        lookup.index_table_from_tensor(["a"], num_oov_buckets=-1)


def test_table_initializer_aliases_and_empty_collection():
    assert tf.initialize_all_tables is tf.tables_initializer
    assert tf.initializers.tables_initializer is tf.tables_initializer
    assert tf.lookup.TextFileIndex.WHOLE_LINE == -2
    assert tf.lookup.TextFileIndex.LINE_NUMBER == -1
    op = tf.tables_initializer()
    assert op.type == "NoOp" and op.name == "init_all_tables"
    with tf.Session() as sess:
        sess.run(op)


# ---- vocabulary tables and out-of-vocabulary buckets ----------------------------------------

def test_static_vocabulary_table_from_file(executor, vocab_file):
    initializer = tf.lookup.TextFileInitializer(
        vocab_file, tf.string, tf.lookup.TextFileIndex.WHOLE_LINE, tf.int64,
        tf.lookup.TextFileIndex.LINE_NUMBER)
    table = tf.lookup.StaticVocabularyTable(initializer, num_oov_buckets=3)
    ids = table.lookup(tf.constant(["emerson", "palmer", "foo", "bar", "baz", "lake"]))
    got_ids, size = _run_initialized([ids, table.size()])
    assert got_ids.tolist() == [0, 2, 3, 3, 5, 1]
    assert size == 6


def test_static_vocabulary_table_int64_keys_and_no_vocabulary(executor):
    table = tf.lookup.StaticVocabularyTable(
        tf.lookup.KeyValueTensorInitializer(tf.constant([42, 1, 7], tf.int64),
                                            tf.constant([0, 1, 2], tf.int64)),
        num_oov_buckets=5)
    hashed = tf.lookup.StaticVocabularyTable(None, 4)
    got, got_hashed = _run_initialized(
        [table.lookup(tf.constant([1, 42, 5, 100, -3], tf.int64)),
         hashed.lookup(tf.constant(["a", "hello", "b"]))])
    assert got.tolist() == [1, 0, 4, 3, 7]
    assert got_hashed.tolist() == [3, 0, 2]


def test_index_table_from_tensor(executor):
    strings = lookup.index_table_from_tensor(["a", "b", "c"], num_oov_buckets=2)
    integers = lookup.index_table_from_tensor(tf.constant([10, 20], tf.int64), default_value=-7,
                                              dtype=tf.int64)
    assert isinstance(strings, lookup.IdTableWithHashBuckets)
    got = _run_initialized([strings.lookup(tf.constant(["a", "c", "zz", "q"])),
                            strings.size(), integers.lookup(tf.constant([20, 5], tf.int64)),
                            lookup.string_to_index(tf.constant(["b", "x"]), ["a", "b"])])
    assert got[0].tolist() == [0, 2, 3, 4]
    assert got[1] == 5
    assert got[2].tolist() == [1, -7]
    assert got[3].tolist() == [1, -1]


def test_index_table_from_file(executor, vocab_file):
    first_two = lookup.index_table_from_file(vocab_file, vocab_size=2)
    buckets = lookup.index_table_from_file(vocab_file, num_oov_buckets=2, vocab_size=2)
    got = _run_initialized([first_two.lookup(tf.constant(["emerson", "lake", "palmer"])),
                            first_two.size(), buckets.lookup(tf.constant(["palmer", "x"]))])
    assert got[0].tolist() == [0, 1, -1]
    assert got[1] == 2
    assert got[2].tolist() == [3, 2]


def test_vocabulary_file_errors(executor, vocab_file, tmp_path):
    too_big = lookup.index_table_from_file(vocab_file, vocab_size=5)
    with tf.Session() as sess:
        with pytest.raises(errors.InvalidArgumentError,
                           match="Invalid vocab_size in .*vocab.txt: expected 5 but got 3"):
            sess.run(too_big.initializer)
    duplicated = tmp_path / "dup.txt"
    duplicated.write_text("emerson\nlake\nemerson\n")
    twice = lookup.index_table_from_file(str(duplicated))
    missing = lookup.index_table_from_file(str(tmp_path / "missing.txt"))
    with tf.Session() as sess:
        with pytest.raises(errors.FailedPreconditionError,
                           match="Key emerson has 0 and trying to add value 2"):
            sess.run(twice.initializer)
        with pytest.raises(errors.NotFoundError, match="No such file or directory"):
            sess.run(missing.initializer)


def test_index_to_string_tables(executor, vocab_file):
    from_tensor = lookup.index_to_string_table_from_tensor(["a", "b", "c"], default_value="UNK")
    from_file = lookup.index_to_string_table_from_file(vocab_file)
    ids = tf.constant([0, 2, 5], tf.int64)
    got = _run_initialized([from_tensor.lookup(ids), from_file.lookup(ids),
                            lookup.index_to_string(ids, ["x", "y", "z"])])
    assert got[0].tolist() == [b"a", b"c", b"UNK"]
    assert got[1].tolist() == [b"emerson", b"palmer", b"UNK"]
    assert got[2].tolist() == [b"x", b"z", b"UNK"]


def test_text_file_columns(executor, columns_file, vocab_file):
    index = tf.lookup.TextFileIndex
    by_column = tf.lookup.StaticHashTable(
        tf.lookup.TextFileInitializer(columns_file, tf.string, 0, tf.int64, 1), -1)
    by_line = tf.lookup.StaticHashTable(
        tf.lookup.TextFileInitializer(columns_file, tf.int64, index.LINE_NUMBER, tf.string, 2,
                                      delimiter="\t"), "?")
    floats = tf.lookup.StaticHashTable(
        tf.lookup.TextFileInitializer(columns_file, tf.string, 0, tf.float32, 1), -1.0)
    first_line = tf.lookup.StaticHashTable(
        tf.lookup.TextFileInitializer(columns_file, tf.string, 0, tf.int64, 1, vocab_size=1),
        -1)
    offset = tf.lookup.StaticHashTable(
        tf.lookup.TextFileInitializer(vocab_file, tf.int64, index.LINE_NUMBER, tf.string,
                                      index.WHOLE_LINE, value_index_offset=3), "?")
    got = _run_initialized([
        by_column.lookup(tf.constant(["b", "a", "q"])),
        by_line.lookup(tf.constant([1, 0, 4], tf.int64)),
        floats.lookup(tf.constant(["a"])),
        first_line.lookup(tf.constant(["a", "b"])),
        offset.lookup(tf.constant([0, 3, 4], tf.int64))])
    assert got[0].tolist() == [20, 10, -1]
    assert got[1].tolist() == [b"y", b"x", b"?"]
    assert got[2].dtype == np.float32 and got[2].tolist() == [10.0]
    assert got[3].tolist() == [10, -1]
    assert got[4].tolist() == [b"?", b"emerson", b"lake"]


def test_text_file_field_errors(executor, columns_file):
    bad_int = tf.lookup.StaticHashTable(
        tf.lookup.TextFileInitializer(columns_file, tf.int64, 0, tf.int64, 1), -1)
    too_few = tf.lookup.StaticHashTable(
        tf.lookup.TextFileInitializer(columns_file, tf.string, 0, tf.int64, 5), -1)
    with tf.Session() as sess:
        with pytest.raises(errors.InvalidArgumentError,
                           match="Field a in line 0 is not a valid int64."):
            sess.run(bad_int.initializer)
        with pytest.raises(errors.InvalidArgumentError,
                           match=r"Invalid number of columns in .*columns.txt line 0 "
                                 r"\(a\t10\tx\) : expected at least 6 got 3"):
            sess.run(too_few.initializer)


def test_buckets_match_string_to_hash_bucket_fast(executor):
    words = ["never", "seen", "before"]
    table = lookup.index_table_from_tensor(["a"], num_oov_buckets=7)
    ids, hashed = _run_initialized([table.lookup(tf.constant(words)),
                                    tf.string_to_hash_bucket_fast(words, 7)])
    assert ids.tolist() == (hashed + 1).tolist()


# ---- mutable tables ----------------------------------------------------------------------------

def test_mutable_hash_table(executor):
    table = tf.lookup.experimental.MutableHashTable(tf.string, tf.int64, -1)
    keys = tf.placeholder(tf.string, [None])
    values = tf.placeholder(tf.int64, [None])
    insert = table.insert(keys, values)
    remove = table.remove(keys)
    found = table.lookup(tf.constant(["a", "b", "c"]))
    with tf.Session() as sess:
        assert sess.run(table.size()) == 0
        assert sess.run(found).tolist() == [-1, -1, -1]  # a mutable table starts empty
        sess.run(insert, {keys: ["a", "b"], values: [1, 2]})
        sess.run(insert, {keys: ["b", "c"], values: [20, 30]})
        assert sess.run(found).tolist() == [1, 20, 30]
        sess.run(remove, {keys: ["a", "zz"]})
        assert sess.run(found).tolist() == [-1, 20, 30]
        exported_keys, exported_values = sess.run(table.export())
        assert sorted(zip(exported_keys.tolist(), exported_values.tolist())) == [
            (b"b", 20), (b"c", 30)]
        assert sess.run(table.size()) == 2


# ---- devices and session helpers ----------------------------------------------------------------

def test_table_lives_on_its_device_worker(vocab_file):
    with tf.device("/cpu:1"):
        table = lookup.index_table_from_file(vocab_file, num_oov_buckets=3)
    with tf.device("/cpu:0"):
        ids = table.lookup(tf.constant(["palmer", "foo"]))
    assert table.initializer.device == table.resource_handle.device
    with tf.Session(config=two_devices()) as sess:
        with pytest.raises(errors.FailedPreconditionError, match="Table not initialized."):
            sess.run(ids)
        sess.run(tf.tables_initializer())
        assert sess.run(ids).tolist() == [2, 3]
        assert sess.run(table.size()) == 6


def test_one_worker_mode(monkeypatch, vocab_file):
    monkeypatch.setenv("SESSIONLIB_WORKERS", "1")
    table = lookup.index_table_from_file(vocab_file)
    mutable = lookup.MutableHashTable(tf.int64, tf.string, "?")
    insert = mutable.insert(tf.constant([5], tf.int64), tf.constant(["five"]))
    with tf.Session() as sess:
        assert hasattr(sess._runtime, "workers")
        sess.run([tf.tables_initializer(), insert])
        assert sess.run(table.lookup(tf.constant(["lake", "x"]))).tolist() == [1, -1]
        assert sess.run(mutable.lookup(tf.constant([5, 6], tf.int64))).tolist() == [
            b"five", b"?"]


def test_monitored_session_initializes_tables():
    table = _kv_table(["a", "b"], [1, 2], -1)
    out = table.lookup(tf.constant(["b", "x"]))
    with tf.train.MonitoredSession() as sess:
        assert sess.run(out).tolist() == [2, -1]


def test_dense_hash_table_refuses_its_reserved_keys(executor):
    table = tf.lookup.experimental.DenseHashTable(tf.int64, tf.int64, default_value=-1,
                                                  empty_key=0, deleted_key=-1)
    assert table.resource_handle.op.type == "MutableDenseHashTableV2"
    insert = table.insert(tf.constant([5, 7], tf.int64), tf.constant([50, 70], tf.int64))
    found = table.lookup(tf.constant([5, 7, 9], tf.int64))
    with tf.Session() as sess:
        sess.run(insert)
        assert sess.run(found).tolist() == [50, 70, -1]
        for key, role in ((0, "empty_key"), (-1, "deleted_key")):
            with pytest.raises(errors.InvalidArgumentError,
                               match=f"Using the {role} as a table key is not allowed"):
                sess.run(table.insert(tf.constant([key], tf.int64),
                                      tf.constant([1], tf.int64)))
        with pytest.raises(errors.InvalidArgumentError, match="empty_key"):
            sess.run(table.lookup(tf.constant([0], tf.int64)))
        sess.run(table.erase(tf.constant([5], tf.int64)))
        assert sess.run(found).tolist() == [-1, 70, -1]
        assert sess.run(table.size()) == 1


def test_reset_container_drops_tables():
    table = _kv_table(["a"], [1], -1)
    out = table.lookup(tf.constant(["a"]))
    with tf.Session() as sess:
        sess.run(table.initializer)
        tf.Session.reset("", [""])
        with pytest.raises(errors.FailedPreconditionError, match="Table not initialized."):
            sess.run(out)


def test_imports_a_tf_written_graph_with_tables(executor, vocab_file):
    # Written by tools/make_tf_lookup_graph.py with TF 2.21, which printed these values.
    graph_def = tf.GraphDef()
    with open(pathlib.Path(__file__).parent / "data" / "tf_lookup_graph.pb", "rb") as handle:
        graph_def.ParseFromString(handle.read())
    tf.import_graph_def(graph_def, name="")
    with tf.Session() as sess:
        sess.run("init_tables", {"vocab_path:0": vocab_file})
        ids, strs = sess.run(["ids:0", "strs:0"], {"x:0": ["lake", "zzz", "emerson"]})
    assert ids.tolist() == [1, 3, 0]
    assert strs.tolist() == [b"b", b"UNK", b"a"]


def test_bucket_hashers_and_contrib_spellings(executor):
    words = tf.constant(["a", "never", "seen", "before"])
    strong = lookup.string_to_index_table_from_tensor(
        ["a"], num_oov_buckets=5, hasher_spec=lookup.StrongHashSpec([1, 2]))
    legacy = lookup.index_table_from_tensor(["a"], num_oov_buckets=5,
                                            hasher_spec=lookup.HasherSpec("legacy", None))
    got = _run_initialized([strong.lookup(words), legacy.lookup(words)])
    assert got[0].tolist() == [0, 1, 4, 4]
    assert got[1].tolist() == [0, 2, 3, 2]
    with pytest.raises(ValueError, match="`key` must have size 2"):
        lookup.StrongHashSpec([1])
    with pytest.raises(ValueError, match="unknown hasher foo"):
        lookup.HasherSpec("foo", None)
    assert issubclass(lookup.MutableDenseHashTable, tf.lookup.experimental.DenseHashTable)


def test_tables_have_no_gpu_kernel():
    with tf.device("/gpu:0"):
        table = _kv_table(["a"], [1], -1)
        found = table.lookup(tf.constant(["a", "b"]))
    with tf.Session(config=tf.ConfigProto(device_count={"GPU": 1})) as sess:
        with pytest.raises(errors.InvalidArgumentError,
                           match="no supported kernel for GPU devices"):
            sess.run(table.initializer)
    soft = tf.ConfigProto(device_count={"GPU": 1}, allow_soft_placement=True)
    with tf.Session(config=soft) as sess:
        sess.run(table.initializer)
        assert sess.run(found).tolist() == [1, -1]


def test_vocabulary_file_bytes_line_ends_and_empty_lines(executor, tmp_path):
    raw = tmp_path / "raw.txt"
    raw.write_bytes(b"x\xff\r\ny\n")
    gap = tmp_path / "gap.txt"
    gap.write_bytes(b"a\nb\n\n")
    raw_table = lookup.index_table_from_file(str(raw))
    first_two = lookup.index_table_from_file(str(gap), vocab_size=2)
    whole = lookup.index_table_from_file(str(gap))
    with tf.Session() as sess:
        sess.run([raw_table.initializer, first_two.initializer])
        assert sess.run(raw_table.lookup(tf.constant([b"x\xff", b"y", b"x\xff\r"]))).tolist() \
            == [0, 1, -1]
        assert sess.run(first_two.size()) == 2
        with pytest.raises(errors.InvalidArgumentError,
                           match="Invalid content in .*gap.txt: empty line found at "
                                 "position 5."):
            sess.run(whole.initializer)


def test_contrib_shared_names_share_one_table(executor):
    shared = f"vocab_{id(object())}"
    first = lookup.HashTable(lookup.KeyValueTensorInitializer(["a"], [1]), -1,
                             shared_name=shared)
    second = lookup.HashTable(lookup.KeyValueTensorInitializer(["a"], [1]), -1,
                              shared_name=shared)
    writer = lookup.MutableHashTable(tf.string, tf.int64, -1, f"{shared}_mutable")
    reader = lookup.MutableHashTable(tf.string, tf.int64, -1, shared_name=f"{shared}_mutable")
    assert isinstance(first, tf.lookup.StaticHashTable)
    with tf.Session() as sess:
        sess.run(first.initializer)
        assert sess.run(second.lookup(tf.constant(["a", "b"]))).tolist() == [1, -1]
        sess.run(writer.insert(tf.constant(["k"]), tf.constant([7], tf.int64)))
        assert sess.run(reader.lookup(tf.constant(["k"]))).tolist() == [7]
