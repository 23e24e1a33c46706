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


# ---- functions that capture outer tensors ------------------------------------------------------

def _floats(values):
    return [float(v) for v in values]


def test_map_captures_a_constant_on_either_side(executor):
    scale = tf.constant(2.0)
    ds = Dataset.from_tensor_slices(np.arange(4, dtype=np.float32))
    with tf.Session() as sess:
        for mapped in (ds.map(lambda x: x * scale), ds.map(lambda x: scale * x)):
            values = _values(tf.data.make_one_shot_iterator(mapped).get_next(), sess)
            assert _floats(values) == [0.0, 2.0, 4.0, 6.0]  # TF 2.21 too


def test_map_captures_a_placeholder_fed_to_the_initializer(executor):
    offset = tf.placeholder(tf.float32, [])
    iterator = tf.data.make_initializable_iterator(
        Dataset.from_tensor_slices(np.arange(3, dtype=np.float32)).map(lambda x: x + offset))
    next_element = iterator.get_next()
    with tf.Session() as sess:
        sess.run(iterator.initializer, {offset: 5.0})
        assert _floats(_values(next_element, sess)) == [5.0, 6.0, 7.0]  # TF 2.21 too
        sess.run(iterator.initializer, {offset: -1.0})  # evaluated at each initialization
        assert _floats(_values(next_element, sess)) == [-1.0, 0.0, 1.0]
        sess.run(iterator.initializer, {offset: 0.5})
        # No feed needed afterwards: the value was taken when the iterator was initialized.
        assert float(sess.run(next_element)) == 0.5


def test_map_reads_a_captured_variable_at_each_call():
    weight = tf.Variable(3.0)
    iterator = tf.data.make_initializable_iterator(
        Dataset.from_tensor_slices(np.arange(4, dtype=np.float32)).map(lambda x: x * weight))
    next_element = iterator.get_next()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(iterator.initializer)
        values = [sess.run(next_element)]
        sess.run(weight.assign(10.0))
        values += [sess.run(next_element) for _ in range(3)]
    # TF 2.21 gives [0, 3, 20, 30]: it had computed element 1 ahead, before the assign.
    assert _floats(values) == [0.0, 10.0, 20.0, 30.0]


def test_filter_captures_a_threshold():
    threshold = tf.placeholder(tf.int64, [])
    iterator = tf.data.make_initializable_iterator(
        Dataset.range(10).filter(lambda x: x > threshold))
    next_element = iterator.get_next()
    with tf.Session() as sess:
        sess.run(iterator.initializer, {threshold: 6})
        assert [int(v) for v in _values(next_element, sess)] == [7, 8, 9]
        sess.run(iterator.initializer, {threshold: 8})
        assert [int(v) for v in _values(next_element, sess)] == [9]


def test_nested_function_captures_through_its_enclosing_function():
    offset = tf.constant(100, tf.int64)
    ds = Dataset.range(3).flat_map(
        lambda x: Dataset.range(2).map(lambda y: y + x * 10 + offset))
    with tf.Session() as sess:
        values = _values(tf.data.make_one_shot_iterator(ds).get_next(), sess)
    assert [int(v) for v in values] == [100, 101, 110, 111, 120, 121]


def test_captured_scalars_keep_the_batched_map_and_parallel_map_exact():
    scale, offset = tf.constant(2.0), tf.placeholder(tf.float32, [])
    data = np.arange(10, dtype=np.float32)
    batched = Dataset.from_tensor_slices(data).map(lambda x: scale * x + offset).batch(4)
    parallel = Dataset.from_tensor_slices(data).map(lambda x: x * scale - offset,
                                                    num_parallel_calls=3)
    with tf.Session() as sess:
        for dataset, expected in ((batched, np.split(data * 2 + 1, [4, 8])),
                                  (parallel, list(data * 2 - 1))):
            iterator = tf.data.make_initializable_iterator(dataset)
            next_element = iterator.get_next()
            sess.run(iterator.initializer, {offset: 1.0})
            values = _values(next_element, sess)
            assert len(values) == len(expected)
            for value, want in zip(values, expected):
                np.testing.assert_array_equal(value, want)


def test_capture_leaves_the_outer_graph_as_it_was():
    scale = tf.constant(2.0)
    numbers = Dataset.range(3)
    before = [op.name for op in tf.get_default_graph().get_operations()]
    numbers.map(lambda x: scale * tf.cast(x, tf.float32))  # its ops go to the function
    assert [op.name for op in tf.get_default_graph().get_operations()] == before


def test_one_shot_iterator_refuses_a_captured_placeholder():
    # TF 2.21 raises this ValueError too: a one-shot iterator has no initializer to feed.
    offset = tf.placeholder(tf.float32, [], name="offset")
    ds = Dataset.range(3).map(lambda x: tf.cast(x, tf.float32) + offset)
    with pytest.raises(ValueError, match=r"Cannot capture a placeholder \(name:offset, "
                                         r"type:Placeholder\) by value"):
        tf.data.make_one_shot_iterator(ds)
    with pytest.raises(ValueError, match="Cannot capture a placeholder"):
        tf.data.make_one_shot_iterator(Dataset.from_tensor_slices(offset * [1.0, 2.0]))
    tf.data.make_initializable_iterator(ds)  # which can be fed
