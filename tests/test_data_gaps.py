"""tf.data beyond the basics: `Dataset.cache(filename)`, whose files later passes and other
iterators read instead of the input, and `map`/`filter` functions that capture tensors of the
outer graph (constants, placeholders fed to the initializer, variables), which are evaluated
when the iterator is initialized.

Values marked "TF 2.21" were checked against tf.compat.v1 running the same pipeline; the rest
follow from the inputs here."""

import os

import numpy as np
import pytest

import sessionlib as tf
from sessionlib.framework import tensor_bundle
from sessionlib.runtime import settings

# A pipeline's description and traced functions stay in the client: tf.data runs in
# in-process sessions only (see test_data_dataset.py).
pytestmark = pytest.mark.skipif(
    bool(settings.worker_processes()),
    reason="tf.data pipelines run only in in-process sessions (SESSIONLIB_WORKERS=1 is set)")

Dataset = tf.data.Dataset


def _values(next_element, sess):
    """Every element left in an iterator, until OutOfRangeError."""
    values = []
    with pytest.raises(tf.errors.OutOfRangeError):
        for _ in range(1000):
            values.append(sess.run(next_element))
    return values


def _counting_generator(calls, count=3):
    """A generator function that records each pass over it in `calls`."""
    def generator():
        calls.append(1)
        for value in range(count):
            yield value, f"item {value}"
    return generator


# ---- cache(filename) -------------------------------------------------------------------------

def _cached(calls, prefix, count=3):
    return Dataset.from_generator(_counting_generator(calls, count), (tf.int64, tf.string),
                                  ([], [])).cache(str(prefix))


def test_cache_file_is_read_by_a_second_iterator(tmp_path, executor):
    calls = []
    prefix = tmp_path / "cache" / "elements"
    dataset = _cached(calls, prefix)
    expected = [(0, b"item 0"), (1, b"item 1"), (2, b"item 2")]
    with tf.Session() as sess:
        first = _values(tf.data.make_one_shot_iterator(dataset).get_next(), sess)
        assert [(int(a), b) for a, b in first] == expected
    assert len(calls) == 1
    # TF's file names: a tensor bundle at the prefix (TF 2.21 writes these two files).
    assert sorted(os.listdir(prefix.parent)) == ["elements.data-00000-of-00001",
                                                 "elements.index"]

    # Another iterator, in another session: the file, not the generator.
    with tf.Session() as sess:
        second = _values(tf.data.make_one_shot_iterator(dataset).get_next(), sess)
    assert [(int(a), b) for a, b in second] == expected
    assert len(calls) == 1

    # Even a new pipeline over another input reads the file at that prefix, as in TF.
    other = Dataset.from_generator(_counting_generator(calls, 10), (tf.int64, tf.string),
                                   ([], [])).cache(str(prefix))
    with tf.Session() as sess:
        third = _values(tf.data.make_one_shot_iterator(other).get_next(), sess)
    assert [(int(a), b) for a, b in third] == expected and len(calls) == 1


def test_cache_file_serves_later_epochs(tmp_path):
    calls = []
    dataset = _cached(calls, tmp_path / "c").map(lambda number, text: number * 10).repeat(3)
    with tf.Session() as sess:
        values = _values(tf.data.make_one_shot_iterator(dataset).get_next(), sess)
    assert [int(v) for v in values] == [0, 10, 20] * 3
    assert len(calls) == 1


def test_cache_file_holds_tf_cache_format(tmp_path):
    """The files are a tensor bundle with TF's keys ("%7d_%d": element, component), which TF
    2.21 writes for the same pipeline and reads back."""
    dataset = Dataset.from_tensor_slices(
        (np.array([[1.5, 2.5], [3.5, 4.5]], np.float32), np.array([7, 8], np.int32)))
    prefix = str(tmp_path / "c")
    with tf.Session() as sess:
        _values(tf.data.make_one_shot_iterator(dataset.cache(prefix)).get_next(), sess)
    with tensor_bundle.BundleReader(prefix) as reader:
        assert reader.names() == ["      0_0", "      0_1", "      1_0", "      1_1"]
        np.testing.assert_array_equal(reader.read("      1_0"), [3.5, 4.5])
        assert reader.dtype("      1_1") == tf.int32 and reader.read("      1_1") == 8


def test_cache_file_written_by_hand_is_read_instead_of_the_input(tmp_path):
    prefix = str(tmp_path / "c")
    writer = tensor_bundle.BundleWriter(prefix)
    for index, value in enumerate([5, 6]):
        writer.add("%7d_0" % index, np.int64(value))
    writer.finish()
    with tf.Session() as sess:
        values = _values(tf.data.make_one_shot_iterator(
            Dataset.range(100).cache(prefix)).get_next(), sess)
    assert [int(v) for v in values] == [5, 6]


def test_cache_file_of_an_unfinished_pass_is_discarded(tmp_path):
    calls = []
    prefix = tmp_path / "c"
    iterator = tf.data.make_initializable_iterator(_cached(calls, prefix))
    next_element = iterator.get_next()
    with tf.Session() as sess:
        sess.run(iterator.initializer)
        sess.run(next_element)  # one element of three, then a new pass
        sess.run(iterator.initializer)
        assert not tensor_bundle.bundle_exists(str(prefix))
        assert [int(a) for a, _ in _values(next_element, sess)] == [0, 1, 2]
    assert len(calls) == 2  # the abandoned pass wrote nothing
    assert sorted(os.listdir(tmp_path)) == ["c.data-00000-of-00001", "c.index"]  # no temp files


def test_cache_filename_can_be_fed_to_the_initializer(tmp_path):
    filename = tf.placeholder(tf.string, [])
    iterator = tf.data.make_initializable_iterator(Dataset.range(3).cache(filename))
    next_element = iterator.get_next()
    with tf.Session() as sess:
        for name in ("a", "b", ""):  # "" caches in memory
            sess.run(iterator.initializer, {filename: str(tmp_path / name) if name else ""})
            assert [int(v) for v in _values(next_element, sess)] == [0, 1, 2]
    assert sorted(os.listdir(tmp_path)) == ["a.data-00000-of-00001", "a.index",
                                            "b.data-00000-of-00001", "b.index"]


def test_corrupt_cache_file_is_data_loss(tmp_path):
    prefix = str(tmp_path / "c")
    with tf.Session() as sess:
        _values(tf.data.make_one_shot_iterator(Dataset.range(3).cache(prefix)).get_next(),
                sess)
    with open(prefix + ".data-00000-of-00001", "r+b") as handle:
        handle.write(b"\xff")
    with tf.Session() as sess:
        with pytest.raises(tf.errors.DataLossError):
            sess.run(tf.data.make_one_shot_iterator(Dataset.range(3).cache(prefix)).get_next())


def test_cache_keys_pad_the_component_index_as_tf_does(tmp_path):
    # Eleven components: TF 2.21 names them "      0_ 0" ... "      0_10".
    components = tuple(np.array([value]) for value in range(11))
    prefix = str(tmp_path / "c")
    with tf.Session() as sess:
        (element,) = _values(tf.data.make_one_shot_iterator(
            Dataset.from_tensor_slices(components).cache(prefix)).get_next(), sess)
        assert [int(v) for v in element] == list(range(11))
        again = _values(tf.data.make_one_shot_iterator(
            Dataset.from_tensor_slices(components).cache(prefix)).get_next(), sess)
        assert [int(v) for v in again[0]] == list(range(11))
    with tensor_bundle.BundleReader(prefix) as reader:
        assert reader.names()[:3] == ["      0_ 0", "      0_ 1", "      0_ 2"]
        assert reader.names()[-1] == "      0_10"
