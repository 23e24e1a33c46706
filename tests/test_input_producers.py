"""The queue-based input pipeline of tf.train: producers with epochs (OutOfRangeError at the
end), shuffling, and the batchers (several threads, smaller final batch, enqueue_many, dicts).

Orders without shuffling and the end-of-input behaviour match TF 2.21 (tf.compat.v1) for the
same graphs; shuffled orders are only checked to be permutations (the RNGs differ)."""

import numpy as np
import pytest

import sessionlib as tf


def _drain(sess, fetches):
    """Runs `fetches` until OutOfRangeError; returns the values."""
    values = []
    with pytest.raises(tf.errors.OutOfRangeError):
        while True:
            values.append(sess.run(fetches))
    return values


class _Runners:
    """Starts the graph's queue runners with a coordinator, and stops and joins them."""

    def __init__(self, sess):
        self.sess = sess

    def __enter__(self):
        self.sess.run(tf.local_variables_initializer())
        self.coord = tf.train.Coordinator()
        self.threads = tf.train.start_queue_runners(self.sess, self.coord)
        return self

    def __exit__(self, *exc):
        self.coord.request_stop()
        self.coord.join(self.threads, stop_grace_period_secs=30)
        return False


def test_string_input_producer_epochs_in_order():
    queue = tf.train.string_input_producer(["a", "b", "c"], num_epochs=2, shuffle=False)
    item = queue.dequeue()
    with tf.Session() as sess, _Runners(sess):
        assert _drain(sess, item) == [b"a", b"b", b"c", b"a", b"b", b"c"]


def test_string_input_producer_shuffles_each_epoch():
    names = [f"f{i}" for i in range(20)]
    queue = tf.train.string_input_producer(names, num_epochs=3, shuffle=True, seed=7)
    item = queue.dequeue()
    with tf.Session() as sess, _Runners(sess):
        values = [v.decode() for v in _drain(sess, item)]
    assert len(values) == 60
    for epoch in range(3):
        assert sorted(values[20 * epoch:20 * (epoch + 1)]) == sorted(names)
    assert values[:20] != names or values[20:40] != names


def test_string_input_producer_rejects_empty_input():
    with pytest.raises(ValueError, match="non-null input tensor"):
        tf.train.string_input_producer([])


def test_epoch_counter_is_a_local_variable():
    # Names as TF 2.21 gives them for the same three calls.
    queue = tf.train.range_input_producer(4, num_epochs=1)
    second = tf.train.string_input_producer(["a"], num_epochs=1)
    tf.train.slice_input_producer([[1, 2], [3, 4]], num_epochs=1)
    assert (queue.name, second.name) == ("input_producer", "input_producer_1")
    assert [v.name for v in tf.local_variables()] == [
        "input_producer/limit_epochs/epochs:0", "input_producer_1/limit_epochs/epochs:0",
        "input_producer_2/input_producer/limit_epochs/epochs:0"]
    assert tf.global_variables() == [] and tf.trainable_variables() == []


def test_limit_epochs_and_count_up_to():
    x = tf.constant([1, 2])
    limited = tf.train.limit_epochs(x, num_epochs=2)
    with pytest.raises(ValueError, match="num_epochs must be > 0"):
        tf.train.limit_epochs(x, num_epochs=0)
    assert tf.train.limit_epochs(x) is x
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        np.testing.assert_array_equal(sess.run(limited), [1, 2])
        np.testing.assert_array_equal(sess.run(limited), [1, 2])
        # TF 2.21: OutOfRangeError "Reached limit of 2".
        with pytest.raises(tf.errors.OutOfRangeError, match="Reached limit of 2"):
            sess.run(limited)


def test_range_input_producer_with_batch_and_smaller_final_batch():
    queue = tf.train.range_input_producer(5, num_epochs=2, shuffle=False)
    batch = tf.train.batch([queue.dequeue()], 3, allow_smaller_final_batch=True)
    assert isinstance(batch, list) and batch[0].shape.as_list() == [None]
    with tf.Session() as sess, _Runners(sess):
        values = [v[0].tolist() for v in _drain(sess, batch)]
    assert values == [[0, 1, 2], [3, 4, 0], [1, 2, 3], [4]]


def test_batch_without_smaller_final_batch_drops_the_rest():
    queue = tf.train.range_input_producer(5, num_epochs=1, shuffle=False)
    batch = tf.train.batch(queue.dequeue(), 2)  # a single tensor in, a single tensor out
    assert batch.shape.as_list() == [2]
    with tf.Session() as sess, _Runners(sess):
        values = [v.tolist() for v in _drain(sess, batch)]
    assert values == [[0, 1], [2, 3]]


def test_slice_input_producer_keeps_rows_together():
    images = np.arange(12, dtype=np.float32).reshape(6, 2)
    labels = np.arange(6, dtype=np.int64) * 10
    image, label = tf.train.slice_input_producer([images, labels], num_epochs=2, shuffle=True,
                                                 seed=3)
    assert image.shape.as_list() == [2] and label.shape.as_list() == []
    with tf.Session() as sess, _Runners(sess):
        pairs = _drain(sess, [image, label])
    assert len(pairs) == 12
    for img, lab in pairs:
        np.testing.assert_array_equal(img, images[lab // 10])
    assert sorted(int(lab) for _, lab in pairs) == sorted(labels.tolist() * 2)


def test_input_producer_needs_element_shape():
    x = tf.placeholder(tf.float32, [None, None])
    with pytest.raises(ValueError, match="fully defined shape"):
        tf.train.input_producer(x)
    queue = tf.train.input_producer(x, element_shape=[3], shuffle=False)
    assert queue.shapes[0].as_list() == [3]


def test_batch_with_several_threads_and_enqueue_many():
    values = np.arange(40, dtype=np.int32).reshape(20, 2)
    rows = tf.train.input_producer(values, num_epochs=1, shuffle=False).dequeue_many(4)
    batch = tf.train.batch({"x": rows}, 5, num_threads=3, enqueue_many=True, capacity=8,
                           allow_smaller_final_batch=True)
    assert set(batch) == {"x"} and batch["x"].shape.as_list() == [None, 2]
    with tf.Session() as sess, _Runners(sess):
        got = np.concatenate([v["x"] for v in _drain(sess, batch)])
    np.testing.assert_array_equal(got[np.argsort(got[:, 0])], values)


def test_batch_shapes_argument_and_errors():
    x = tf.placeholder(tf.float32, [None])
    with pytest.raises(ValueError, match="fully defined"):
        tf.train.batch([x], 2)
    batch = tf.train.batch([x], 2, shapes=[[3]])
    assert batch[0].shape.as_list() == [2, 3]
    padded = tf.train.batch([x], 2, dynamic_pad=True)
    assert padded[0].shape.as_list() == [2, None]
    assert padded[0].op.inputs[0].op.type == "PaddingFIFOQueueV2"


def test_shuffle_batch_is_a_permutation():
    queue = tf.train.range_input_producer(30, num_epochs=1, shuffle=False)
    item = queue.dequeue()
    batch = tf.train.shuffle_batch([item, item * 2], 7, capacity=20, min_after_dequeue=5,
                                   num_threads=2, seed=1, allow_smaller_final_batch=True)
    with pytest.raises(ValueError, match="min_after_dequeue"):
        tf.train.shuffle_batch([item], 2, capacity=5, min_after_dequeue=5)
    with tf.Session() as sess, _Runners(sess):
        batches = _drain(sess, batch)
    firsts = np.concatenate([b[0] for b in batches])
    seconds = np.concatenate([b[1] for b in batches])
    assert sorted(firsts.tolist()) == list(range(30))
    np.testing.assert_array_equal(seconds, firsts * 2)
    assert [len(b[0]) for b in batches] == [7, 7, 7, 7, 2]


def test_batch_join_reads_every_input():
    a = tf.train.range_input_producer(6, num_epochs=1, shuffle=False).dequeue()
    b = tf.train.range_input_producer(6, num_epochs=1, shuffle=False).dequeue() + 100
    batch = tf.train.batch_join([[a], [b]], 4, allow_smaller_final_batch=True)
    # Its own producers: sharing a and b, its runner would take elements from `batch`'s.
    c = tf.train.range_input_producer(6, num_epochs=1, shuffle=False).dequeue()
    d = tf.train.range_input_producer(6, num_epochs=1, shuffle=False).dequeue()
    shuffled = tf.train.shuffle_batch_join([(c,), (d,)], 4, capacity=10, min_after_dequeue=2,
                                           seed=2, allow_smaller_final_batch=True)
    with pytest.raises(TypeError, match="consistent"):
        tf.train.batch_join([[a], [tf.cast(b, tf.float32)]], 2)
    with tf.Session() as sess, _Runners(sess):
        joined = np.concatenate([v[0] for v in _drain(sess, batch)])
    assert sorted(joined.tolist()) == list(range(6)) + list(range(100, 106))
    assert isinstance(shuffled, tuple) and len(shuffled) == 1


def test_maybe_batch_keeps_selected_elements():
    queue = tf.train.range_input_producer(10, num_epochs=1, shuffle=False)
    item = queue.dequeue()
    batch = tf.train.maybe_batch([item], tf.equal(item % 2, 0), 2,
                                 allow_smaller_final_batch=True)
    with tf.Session() as sess, _Runners(sess):
        kept = np.concatenate([v[0] for v in _drain(sess, batch)])
    assert kept.tolist() == [0, 2, 4, 6, 8]
