"""tf.data in graph mode: the values of every transformation, epochs ending in
OutOfRangeError, one-shot / initializable / reinitializable iterators, from_generator, text
files, parallel map and prefetch threads (which end with their session).

Orders and padded values marked "TF 2.21" were checked against tf.compat.v1 for the same
pipelines; the rest are computed with numpy or plain Python here."""

import collections
import threading

import numpy as np
import pytest

import sessionlib as tf
from sessionlib.runtime import settings

# A pipeline's dataset description and traced functions are Python objects that stay in the
# client: tf.data runs in in-process sessions only (see test_pipelines_refuse_worker_devices).
pytestmark = pytest.mark.skipif(
    bool(settings.worker_processes()),
    reason="tf.data pipelines run only in in-process sessions (SESSIONLIB_WORKERS=1 is set)")

Dataset = tf.data.Dataset


def _values(dataset, session=None):
    """Every element of a one-shot iterator over `dataset`, until OutOfRangeError."""
    next_element = tf.data.make_one_shot_iterator(dataset).get_next()
    sess = session or tf.Session()
    try:
        values = []
        with pytest.raises(tf.errors.OutOfRangeError, match="End of sequence"):
            for _ in range(10000):
                values.append(sess.run(next_element))
        return values
    finally:
        if session is None:
            sess.close()


def _ints(values):
    return [int(v) for v in values]


def _dataset_threads():
    return [t for t in threading.enumerate() if t.name.startswith("tf.data")]


# ---- sources ------------------------------------------------------------------------------

def test_from_tensor_slices_tuple_and_dict(executor):
    features = np.arange(12, dtype=np.float32).reshape(4, 3)
    labels = np.array([1, 0, 1, 1], dtype=np.int32)
    values = _values(Dataset.from_tensor_slices((features, labels)))
    assert len(values) == 4
    for row, (feature, label) in enumerate(values):
        np.testing.assert_array_equal(feature, features[row])
        assert label == labels[row]
    ds = Dataset.from_tensor_slices({"a": [1, 2], "b": [[1.0, 2.0], [3.0, 4.0]]})
    # TF 2.21: {'a': TensorShape([]), 'b': TensorShape([2])}.
    assert {k: v.as_list() for k, v in ds.output_shapes.items()} == {"a": [], "b": [2]}
    assert ds.output_types == {"a": tf.int32, "b": tf.float32}
    got = _values(ds)
    assert [int(v["a"]) for v in got] == [1, 2]
    np.testing.assert_array_equal(got[1]["b"], [3.0, 4.0])


def test_from_tensor_slices_errors():
    with pytest.raises(ValueError, match="rank >= 1"):
        Dataset.from_tensor_slices(3)
    with pytest.raises(ValueError, match="must be equal"):
        Dataset.from_tensor_slices((np.zeros(2), np.zeros(3)))


def test_from_tensors_and_range():
    (value,) = _values(Dataset.from_tensors(([1, 2], "s")))
    np.testing.assert_array_equal(value[0], [1, 2])
    assert value[1] == b"s"
    assert _ints(_values(Dataset.range(4))) == [0, 1, 2, 3]
    assert _ints(_values(Dataset.range(2, 5))) == [2, 3, 4]
    assert _ints(_values(Dataset.range(10, 0, -3))) == [10, 7, 4, 1]
    ds = Dataset.range(3, output_type=tf.int32)
    assert ds.output_types == tf.int32 and ds.output_shapes.as_list() == []


def test_from_generator_each_pass_calls_the_generator():
    calls = []

    def generator(n):
        calls.append(n)
        for i in range(n):
            yield i, [float(i)] * i

    ds = Dataset.from_generator(generator, (tf.int64, tf.float32), ([], [None]), args=(3,))
    assert ds.output_shapes[1].as_list() == [None]
    values = _values(ds.repeat(2))
    assert [int(v[0]) for v in values] == [0, 1, 2, 0, 1, 2]
    np.testing.assert_array_equal(values[2][1], [2.0, 2.0])
    assert values[2][1].dtype == np.float32
    assert calls == [3, 3]


def test_from_generator_shape_mismatch_is_an_error():
    ds = Dataset.from_generator(lambda: iter([[1, 2], [1, 2, 3]]), tf.int32, [2])
    next_element = tf.data.make_one_shot_iterator(ds).get_next()
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(next_element), [1, 2])
        with pytest.raises(tf.errors.InvalidArgumentError, match="shape"):
            sess.run(next_element)


def test_text_line_dataset(tmp_path):
    first = tmp_path / "a.txt"
    second = tmp_path / "b.txt"
    first.write_bytes(b"one\ntwo\r\nthree")
    second.write_bytes(b"four\n\nfive\n")
    ds = tf.data.TextLineDataset([str(first), str(second)])
    assert ds.output_types == tf.string
    assert _values(ds) == [b"one", b"two", b"three", b"four", b"", b"five"]
    missing = tf.data.make_one_shot_iterator(
        tf.data.TextLineDataset(str(tmp_path / "nope.txt"))).get_next()
    with tf.Session() as sess, pytest.raises(tf.errors.NotFoundError):
        sess.run(missing)


def test_zip_and_concatenate():
    numbers = Dataset.range(3)
    letters = Dataset.from_tensor_slices(["a", "b", "c", "d"])
    zipped = Dataset.zip((numbers, (letters, numbers.map(lambda x: x * 10))))
    assert [(int(a), b, int(c)) for a, (b, c) in _values(zipped)] == [
        (0, b"a", 0), (1, b"b", 10), (2, b"c", 20)]
    assert _ints(_values(numbers.concatenate(Dataset.range(7, 9)))) == [0, 1, 2, 7, 8]
    with pytest.raises(TypeError, match="different types"):
        numbers.concatenate(letters)


# ---- transformations ----------------------------------------------------------------------

def test_map_structures_and_parallel_calls(executor):
    ds = Dataset.from_tensor_slices((np.arange(6), np.arange(6) * 2.0))
    mapped = ds.map(lambda a, b: {"sum": tf.cast(a, tf.float64) + b, "a": a})
    values = _values(mapped)
    assert [float(v["sum"]) for v in values] == [0.0, 3.0, 6.0, 9.0, 12.0, 15.0]
    parallel = Dataset.range(50).map(lambda x: x * x, num_parallel_calls=4)
    assert _ints(_values(parallel)) == [x * x for x in range(50)]
    listed = Dataset.range(2).map(lambda x: [x, x + 1])  # a list result is a tuple
    assert isinstance(listed.output_types, tuple)


def test_map_function_errors_reach_the_caller():
    ds = Dataset.from_tensor_slices(np.array([1.0, -1.0, 4.0], np.float32))
    checked = ds.map(lambda x: tf.check_numerics(tf.sqrt(x), "bad sqrt"))
    next_element = tf.data.make_one_shot_iterator(checked).get_next()
    with tf.Session() as sess:
        assert sess.run(next_element) == 1.0
        with pytest.raises(tf.errors.InvalidArgumentError, match="bad sqrt"):
            sess.run(next_element)
    with tf.Graph().as_default():
        foreign = tf.constant(2.0)
    with pytest.raises(ValueError, match="must be from the same graph"):
        ds.map(lambda x: x * foreign)  # a tensor of an unrelated graph (outer ones: captured)


def test_filter():
    ds = Dataset.range(10).filter(lambda x: tf.equal(x % 3, 0))
    assert _ints(_values(ds)) == [0, 3, 6, 9]
    with pytest.raises(ValueError, match="tf.bool"):
        Dataset.range(3).filter(lambda x: x)


def test_batch_and_drop_remainder():
    # TF 2.21: [[0..3], [4..7], [8, 9]]; static shapes (4,) with drop_remainder, else (?,).
    values = _values(Dataset.range(10).batch(4))
    assert [v.tolist() for v in values] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    dropped = Dataset.range(10).batch(4, drop_remainder=True)
    assert dropped.output_shapes.as_list() == [4]
    assert Dataset.range(3).batch(2).output_shapes.as_list() == [None]
    assert [v.tolist() for v in _values(dropped)] == [[0, 1, 2, 3], [4, 5, 6, 7]]
    ragged = Dataset.range(1, 4).map(lambda v: tf.fill(tf.reshape(tf.cast(v, tf.int32), [1]),
                                                        v)).batch(2)
    next_element = tf.data.make_one_shot_iterator(ragged).get_next()
    with tf.Session() as sess, pytest.raises(tf.errors.InvalidArgumentError,
                                             match="Cannot batch tensors with different shapes"):
        sess.run(next_element)


def _filled(v):
    return tf.fill(tf.reshape(tf.cast(v, tf.int32), [1]), v)


def test_padded_batch():
    ds = Dataset.range(1, 5).map(_filled)
    # TF 2.21: [[1, 0], [2, 2]] and [[3, 3, 3, 0], [4, 4, 4, 4]].
    values = _values(ds.padded_batch(2, padded_shapes=[None]))
    assert [v.tolist() for v in values] == [[[1, 0], [2, 2]], [[3, 3, 3, 0], [4, 4, 4, 4]]]
    fixed = ds.padded_batch(3, padded_shapes=[5], padding_values=tf.constant(-1, tf.int64),
                            drop_remainder=True)
    assert fixed.output_shapes.as_list() == [3, 5]
    # TF 2.21: one batch [[1,-1,-1,-1,-1], [2,2,-1,-1,-1], [3,3,3,-1,-1]].
    assert [v.tolist() for v in _values(fixed)] == [
        [[1, -1, -1, -1, -1], [2, 2, -1, -1, -1], [3, 3, 3, -1, -1]]]


def test_take_skip_repeat():
    # TF 2.21: range(10).skip(3).take(4) -> [3, 4, 5, 6].
    assert _ints(_values(Dataset.range(10).skip(3).take(4))) == [3, 4, 5, 6]
    assert _ints(_values(Dataset.range(3).repeat(2))) == [0, 1, 2, 0, 1, 2]
    assert _ints(_values(Dataset.range(3).skip(-1))) == []
    assert _ints(_values(Dataset.range(3).take(-1))) == [0, 1, 2]
    forever = Dataset.range(2).repeat().take(7)
    assert _ints(_values(forever)) == [0, 1, 0, 1, 0, 1, 0]
    assert _values(Dataset.range(0).repeat()) == []  # an empty dataset stays empty


def test_shuffle_seeded_and_reshuffled():
    def orders(reshuffle):
        ds = Dataset.range(20).shuffle(20, seed=5, reshuffle_each_iteration=reshuffle)
        values = _ints(_values(ds.repeat(2)))
        return values[:20], values[20:]

    first, second = orders(None)
    assert sorted(first) == list(range(20)) and sorted(second) == list(range(20))
    assert first != list(range(20)) and first != second
    assert orders(None) == (first, second)  # the same seed: the same orders
    again, repeated = orders(False)
    assert again == repeated
    small = _ints(_values(Dataset.range(10).shuffle(2, seed=1)))
    assert sorted(small) == list(range(10))
    assert all(small[i] <= i + 1 for i in range(10))  # a 2-buffer moves elements by little


def test_cache_replays_the_first_pass():
    calls = []

    def generator():
        calls.append(1)
        yield from range(3)

    ds = Dataset.from_generator(generator, tf.int64, []).cache().repeat(3)
    assert _ints(_values(ds)) == [0, 1, 2] * 3
    assert len(calls) == 1


def test_interleave_and_flat_map_orders():
    # All three orders: TF 2.21.
    repeated = Dataset.range(3).interleave(lambda v: Dataset.from_tensors(v).repeat(v + 1),
                                           cycle_length=2)
    assert _ints(_values(repeated)) == [0, 1, 1, 2, 2, 2]
    blocks = Dataset.range(1, 6).interleave(lambda v: Dataset.range(10 * v, 10 * v + v),
                                            cycle_length=3, block_length=2)
    assert _ints(_values(blocks)) == [10, 20, 21, 30, 31, 40, 41, 32, 42, 43, 50, 51, 52, 53,
                                      54]
    flat = Dataset.range(1, 4).flat_map(lambda v: Dataset.range(v))
    assert _ints(_values(flat)) == [0, 0, 1, 0, 1, 2]
    with pytest.raises(TypeError, match="must return a Dataset"):
        Dataset.range(3).flat_map(lambda v: v)


def test_prefetch_values_and_its_thread_ends_with_the_session():
    ds = Dataset.range(100).map(lambda x: x + 1).batch(10).prefetch(2)
    next_element = tf.data.make_one_shot_iterator(ds).get_next()
    sess = tf.Session()
    batches = [sess.run(next_element) for _ in range(3)]
    assert [b.tolist()[0] for b in batches] == [1, 11, 21]
    assert _dataset_threads()
    sess.close()
    for thread in _dataset_threads():
        thread.join(10)
    assert not _dataset_threads()


# ---- iterators ------------------------------------------------------------------------------

def test_initializable_iterator_with_a_placeholder():
    x = tf.placeholder(tf.float32, [None])
    iterator = tf.data.make_initializable_iterator(Dataset.from_tensor_slices(x).map(
        lambda v: v * 2.0))
    next_element = iterator.get_next()
    with tf.Session() as sess:
        with pytest.raises(tf.errors.FailedPreconditionError, match="not been initialized"):
            sess.run(next_element)
        for data in ([1.0, 2.0], [5.0]):
            sess.run(iterator.initializer, feed_dict={x: data})
            got = [float(sess.run(next_element)) for _ in data]
            assert got == [2.0 * d for d in data]
            with pytest.raises(tf.errors.OutOfRangeError):
                sess.run(next_element)
        # Re-initializing in the middle of a pass starts over.
        sess.run(iterator.initializer, feed_dict={x: [7.0, 8.0]})
        assert sess.run(next_element) == 14.0
        sess.run(iterator.initializer, feed_dict={x: [7.0, 8.0]})
        assert sess.run(next_element) == 14.0


def test_reinitializable_iterator_from_structure():
    training = Dataset.range(5).map(lambda x: (x, tf.cast(x, tf.float32)))
    validation = Dataset.range(100, 102).map(lambda x: (x, tf.cast(x, tf.float32) / 2))
    iterator = tf.data.Iterator.from_structure(training.output_types, training.output_shapes)
    assert iterator.output_types == (tf.int64, tf.float32)
    index, value = iterator.get_next()
    init_training = iterator.make_initializer(training)
    init_validation = iterator.make_initializer(validation)
    with pytest.raises(TypeError, match="output types"):
        iterator.make_initializer(Dataset.range(3))
    with pytest.raises(ValueError, match="does not have an initializer"):
        iterator.initializer  # noqa: B018
    with tf.Session() as sess:
        sess.run(init_training)
        assert [int(sess.run(index)) for _ in range(2)] == [0, 1]
        sess.run(init_validation)
        assert [tuple(sess.run((index, value))) for _ in range(2)] == [(100, 50.0),
                                                                        (101, 50.5)]
        with pytest.raises(tf.errors.OutOfRangeError):
            sess.run(value)
        sess.run(init_training)
        assert int(sess.run(index)) == 0


def test_one_shot_iterator_method_and_output_helpers():
    ds = Dataset.from_tensor_slices((np.zeros((3, 2), np.float32), np.arange(3)))
    iterator = ds.make_one_shot_iterator()
    assert tf.data.get_output_types(ds) == (tf.float32, tf.int64)
    assert [s.as_list() for s in tf.data.get_output_shapes(iterator)] == [[2], []]
    assert tf.data.get_output_classes(ds) == (tf.Tensor, tf.Tensor)
    with pytest.raises(ValueError, match="does not have an initializer"):
        iterator.initializer  # noqa: B018
    features, label = iterator.get_next()
    assert features.shape.as_list() == [2]
    with tf.Session() as sess:
        assert [int(sess.run(label)) for _ in range(3)] == [0, 1, 2]
    # A new session starts the one-shot iterator again.
    with tf.Session() as sess:
        assert int(sess.run(label)) == 0


def test_namedtuple_elements():
    Point = collections.namedtuple("Point", ["x", "y"])
    ds = Dataset.from_tensor_slices(Point(np.arange(3), np.arange(3) * 2)).map(
        lambda p: Point(p.y, p.x))
    values = _values(ds)
    assert isinstance(values[0], Point)
    assert [(int(p.x), int(p.y)) for p in values] == [(0, 0), (2, 1), (4, 2)]


def test_training_loop_until_out_of_range(executor):
    rng = np.random.default_rng(0)
    features = rng.standard_normal((64, 3)).astype(np.float32)
    targets = features @ np.array([[1.0], [-2.0], [0.5]], np.float32)
    ds = Dataset.from_tensor_slices((features, targets)).batch(16).repeat(3).prefetch(1)
    x, y = tf.data.make_one_shot_iterator(ds).get_next()
    weights = tf.Variable(np.zeros((3, 1), np.float32))
    loss = tf.reduce_mean(tf.square(tf.matmul(x, weights) - y))
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    steps = 0
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        with pytest.raises(tf.errors.OutOfRangeError):
            while True:
                sess.run(train)
                steps += 1
    assert steps == 12


def test_batches_of_slices_across_epochs_and_elementwise_maps(executor):
    # These pipelines take the slab path (whole slices, one map call per batch); the values
    # must be those of mapping and stacking element by element (numpy below).
    data = np.arange(5, dtype=np.int32)
    labels = data * 10
    ds = Dataset.from_tensor_slices((data, labels)).repeat(3)
    mapped = ds.map(lambda x, y: (tf.cast(x, tf.float32) * 0.5 + 1.0, y))
    for drop in (False, True):
        got = _values(mapped.batch(4, drop_remainder=drop))
        flat = np.tile(data, 3)
        expected = [flat[i:i + 4] for i in range(0, 15, 4)]
        if drop:
            expected = expected[:-1]
        assert [len(b[0]) for b in got] == [len(e) for e in expected]
        for (x, y), e in zip(got, expected):
            np.testing.assert_allclose(x, e.astype(np.float32) * 0.5 + 1.0)
            np.testing.assert_array_equal(y, e * 10)
    # Not elementwise (a reduction, a broadcast against a vector): element by element.
    matrix = np.arange(12, dtype=np.float32).reshape(4, 3)
    summed = Dataset.from_tensor_slices(matrix).map(lambda r: tf.reduce_sum(r)).batch(3)
    assert [b.tolist() for b in _values(summed)] == [[3.0, 12.0, 21.0], [30.0]]
    shifted = Dataset.from_tensor_slices(matrix).map(lambda r: r - [1.0, 2.0, 3.0]).batch(4)
    np.testing.assert_array_equal(_values(shifted)[0], matrix - [1.0, 2.0, 3.0])
    scalars = Dataset.from_tensor_slices(np.arange(3.0)).map(lambda x: x + [1.0, 2.0]).batch(3)
    np.testing.assert_array_equal(_values(scalars)[0],
                                  np.arange(3.0)[:, None] + [1.0, 2.0])


def test_parallel_map_threads_end_with_the_session():
    ds = Dataset.range(1000).map(lambda x: x * 2, num_parallel_calls=3).prefetch(4)
    next_element = tf.data.make_one_shot_iterator(ds).get_next()
    sess = tf.Session()
    assert [int(sess.run(next_element)) for _ in range(5)] == [0, 2, 4, 6, 8]
    sess.close()
    for thread in _dataset_threads():
        thread.join(10)
    assert not _dataset_threads()


def test_concurrent_get_next_hands_out_each_element_once():
    next_element = tf.data.make_one_shot_iterator(Dataset.range(600).prefetch(5)).get_next()
    got = []
    with tf.Session() as sess:
        def consume():
            try:
                while True:
                    got.append(int(sess.run(next_element)))
            except tf.errors.OutOfRangeError:
                pass

        threads = [threading.Thread(target=consume) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert sorted(got) == list(range(600))


def test_generator_errors_reach_the_caller():
    def generator():
        yield 1
        raise RuntimeError("generator broke")

    next_element = tf.data.make_one_shot_iterator(
        Dataset.from_generator(generator, tf.int32, [])).get_next()
    with tf.Session() as sess:
        assert sess.run(next_element) == 1
        with pytest.raises(tf.errors.OpError, match="generator broke"):
            sess.run(next_element)


def test_pipelines_refuse_worker_devices_with_a_clear_error():
    with tf.Graph().as_default():
        dataset = tf.data.Dataset.range(3).map(lambda x: x * 2)
        element = dataset.make_one_shot_iterator().get_next()
        config = tf.ConfigProto(device_count={"CPU": 2})
        with tf.Session(config=config) as sess:
            with pytest.raises(tf.errors.UnimplementedError,
                               match="OneShotIterator.*run only in a session whose one device"):
                sess.run(element)
