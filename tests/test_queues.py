"""Queues: FIFO and shuffling order, batching, blocking, closing, deadlines and cancellation.

Every run that may block has a deadline (`BOUNDED` or a shorter one) and every thread is
joined with a timeout, so a bug fails a test instead of hanging the suite.
"""

import threading

import numpy as np
import pytest

import sessionlib as tf
from sessionlib import errors

from _blocking import wait_until_blocked

BOUNDED = tf.RunOptions(timeout_in_ms=20000)
SHORT = tf.RunOptions(timeout_in_ms=200)


class Background:
    """Runs `fn` on a thread and keeps its result or exception."""

    def __init__(self, fn):
        self.result = None
        self.error = None
        self._thread = threading.Thread(target=self._run, args=(fn,), daemon=True)
        self._thread.start()

    def _run(self, fn):
        try:
            self.result = fn()
        except Exception as err:  # noqa: BLE001 - inspected by the test
            self.error = err

    def join(self, timeout=30):
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "background run did not finish"
        return self

    def is_alive(self):
        return self._thread.is_alive()


def test_fifo_order_and_size(executor):
    queue = tf.FIFOQueue(10, tf.int32)
    value = tf.placeholder(tf.int32, [])
    enqueue = queue.enqueue(value)
    dequeue = queue.dequeue()
    size = queue.size()
    assert dequeue.dtype == tf.int32
    assert size.dtype == tf.int32
    with tf.Session() as sess:
        for i in range(5):
            sess.run(enqueue, {value: i})
        assert sess.run(size) == 5
        assert [sess.run(dequeue, options=BOUNDED) for _ in range(5)] == [0, 1, 2, 3, 4]
        assert sess.run(size) == 0


def test_properties_and_op_names(executor):
    queue = tf.FIFOQueue(4, [tf.float32, tf.string], shapes=[[2], []], name="q")
    assert queue.name == "q"
    assert queue.dtypes == [tf.float32, tf.string]
    assert [s.as_list() for s in queue.shapes] == [[2], []]
    assert queue.names is None
    assert queue.queue_ref.op.type == "FIFOQueueV2"
    assert queue.queue_ref.dtype == tf.dtypes.resource
    assert queue.enqueue(([1.0, 2.0], "a")).type == "QueueEnqueueV2"
    assert queue.close().type == "QueueCloseV2"
    vector, text = queue.dequeue()
    assert vector.op.type == "QueueDequeueV2"
    assert vector.shape.as_list() == [2] and text.shape.as_list() == []
    batch, texts = queue.dequeue_many(3)
    assert batch.shape.as_list() == [3, 2] and texts.shape.as_list() == [3]
    up_to, _ = queue.dequeue_up_to(3)
    assert up_to.shape.as_list() == [None, 2]
    assert tf.RandomShuffleQueue(4, 1, tf.int32).queue_ref.op.type == "RandomShuffleQueueV2"
    assert isinstance(queue, tf.QueueBase)


def test_tuples_batches_and_strings(executor):
    queue = tf.FIFOQueue(10, [tf.float32, tf.string], shapes=[[2], []])
    vectors = tf.placeholder(tf.float32, [None, 2])
    words = tf.placeholder(tf.string, [None])
    with tf.Session() as sess:
        sess.run(queue.enqueue(([1.0, 2.0], "one")))
        sess.run(queue.enqueue_many((vectors, words)),
                 {vectors: [[3, 4], [5, 6], [7, 8]], words: ["two", b"three", "four"]})
        vector, word = sess.run(queue.dequeue(), options=BOUNDED)
        np.testing.assert_array_equal(vector, [1.0, 2.0])
        assert word == b"one" and isinstance(word, bytes)
        batch, batch_words = sess.run(queue.dequeue_many(2), options=BOUNDED)
        np.testing.assert_array_equal(batch, [[3, 4], [5, 6]])
        assert list(batch_words) == [b"two", b"three"]
        sess.run(queue.close())
        batch, batch_words = sess.run(queue.dequeue_up_to(5), options=BOUNDED)
        np.testing.assert_array_equal(batch, [[7, 8]])
        assert list(batch_words) == [b"four"]


def test_named_components(executor):
    queue = tf.FIFOQueue(5, [tf.int32, tf.float32], shapes=[[], []], names=["i", "f"])
    with tf.Session() as sess:
        sess.run(queue.enqueue({"i": 1, "f": 2.5}))
        assert sess.run(queue.dequeue(), options=BOUNDED) == {"i": 1, "f": 2.5}
        sess.run(queue.enqueue_many({"i": [1, 2], "f": [0.5, 1.5]}))
        result = sess.run(queue.dequeue_many(2), options=BOUNDED)
        np.testing.assert_array_equal(result["i"], [1, 2])
    with pytest.raises(ValueError):
        queue.enqueue((1, 2.0))
    with pytest.raises(ValueError):
        queue.enqueue({"i": 1})


def test_static_checks(executor):
    queue = tf.FIFOQueue(5, [tf.float32], shapes=[[2]])
    with pytest.raises(ValueError):
        queue.enqueue([[1.0, 2.0, 3.0]])
    with pytest.raises(ValueError):
        queue.enqueue_many([[1.0, 2.0]])
    with pytest.raises(ValueError):
        queue.enqueue([1.0, 2.0])  # two components for a one-component queue
    with pytest.raises((TypeError, ValueError)):
        queue.enqueue(tf.constant([1, 2]))
    with pytest.raises(ValueError):
        tf.FIFOQueue(5, [tf.float32, tf.int32], shapes=[[2]])
    with pytest.raises(ValueError):
        tf.FIFOQueue(5, tf.float32, shapes=[[None]])
    assert [s.as_list() for s in tf.FIFOQueue(5, tf.float32, shapes=[2]).shapes] == [[2]]
    assert [s.as_list() for s in tf.FIFOQueue(5, tf.float32, shapes=[]).shapes] == [[]]


def test_runtime_shape_check(executor):
    queue = tf.FIFOQueue(5, tf.float32, shapes=[[2]])
    value = tf.placeholder(tf.float32)
    with tf.Session() as sess:
        with pytest.raises(errors.InvalidArgumentError, match="Shape mismatch"):
            sess.run(queue.enqueue(value), {value: [1.0, 2.0, 3.0]})
        assert sess.run(queue.size()) == 0


def test_dequeue_many_needs_shapes(executor):
    queue = tf.FIFOQueue(5, tf.float32)
    with tf.Session() as sess:
        sess.run(queue.enqueue_many([[1.0, 2.0]]))
        with pytest.raises(errors.InvalidArgumentError, match="specified shapes"):
            sess.run(queue.dequeue_many(2), options=BOUNDED)


def test_enqueued_feed_is_copied(executor):
    queue = tf.FIFOQueue(5, tf.float32, shapes=[[2]])
    value = tf.placeholder(tf.float32, [2])
    batch = tf.placeholder(tf.float32, [None, 2])
    fed = np.array([1.0, 2.0], np.float32)
    fed_batch = np.array([[3.0, 4.0]], np.float32)
    with tf.Session() as sess:
        sess.run(queue.enqueue(value), {value: fed})
        sess.run(queue.enqueue_many(batch), {batch: fed_batch})
        fed[:] = 0
        fed_batch[:] = 0
        np.testing.assert_array_equal(sess.run(queue.dequeue_many(2), options=BOUNDED),
                                      [[1.0, 2.0], [3.0, 4.0]])


def test_blocked_dequeue_is_released_by_an_enqueue_from_another_run(executor):
    queue = tf.FIFOQueue(5, tf.int32)
    dequeue = queue.dequeue()
    enqueue = queue.enqueue(42)
    with tf.Session() as sess:
        blocked = Background(lambda: sess.run(dequeue, options=BOUNDED))
        wait_until_blocked(sess)
        assert blocked.is_alive()
        # The blocked run does not stall other runs of the same session.
        assert sess.run(queue.size()) == 0
        sess.run(enqueue)
        blocked.join()
        assert blocked.error is None
        assert blocked.result == 42


def test_full_queue_blocks_enqueue_until_a_dequeue(executor):
    queue = tf.FIFOQueue(2, tf.int32)
    value = tf.placeholder(tf.int32, [])
    enqueue = queue.enqueue(value)
    dequeue = queue.dequeue()
    with tf.Session() as sess:
        sess.run(enqueue, {value: 1})
        sess.run(enqueue, {value: 2})
        blocked = Background(lambda: sess.run(enqueue, {value: 3}, options=BOUNDED))
        wait_until_blocked(sess)
        assert blocked.is_alive()
        assert sess.run(dequeue, options=BOUNDED) == 1
        blocked.join()
        assert blocked.error is None
        assert [sess.run(dequeue, options=BOUNDED) for _ in range(2)] == [2, 3]


def test_enqueue_many_and_dequeue_many_larger_than_capacity(executor):
    queue = tf.FIFOQueue(3, tf.int32, shapes=[[]])
    enqueue_many = queue.enqueue_many([list(range(10))])
    dequeue_many = queue.dequeue_many(10)
    with tf.Session() as sess:
        producer = Background(lambda: sess.run(enqueue_many, options=BOUNDED))
        result = sess.run(dequeue_many, options=BOUNDED)
        producer.join()
        assert producer.error is None
        np.testing.assert_array_equal(result, np.arange(10))


def test_deadline_from_run_options_and_session_stays_usable(executor):
    queue = tf.FIFOQueue(1, tf.int32)
    with tf.Session() as sess:
        with pytest.raises(errors.DeadlineExceededError):
            sess.run(queue.dequeue(), options=SHORT)
        sess.run(queue.enqueue(7))
        with pytest.raises(errors.DeadlineExceededError):
            sess.run(queue.enqueue(8), options=SHORT)  # full
        assert sess.run(queue.size()) == 1
        assert sess.run(queue.dequeue(), options=BOUNDED) == 7


def test_deadline_from_config(executor):
    queue = tf.FIFOQueue(1, tf.int32)
    config = tf.ConfigProto(operation_timeout_in_ms=200)
    with tf.Session(config=config) as sess:
        with pytest.raises(errors.DeadlineExceededError):
            sess.run(queue.dequeue())
        sess.run(queue.enqueue(3))
        assert sess.run(queue.dequeue()) == 3


def test_closed_queue_errors(executor):
    queue = tf.FIFOQueue(5, tf.int32, shapes=[[]])
    with tf.Session() as sess:
        sess.run(queue.enqueue_many([[1, 2, 3]]))
        assert not sess.run(queue.is_closed())
        sess.run(queue.close())
        assert sess.run(queue.is_closed())
        with pytest.raises(errors.CancelledError, match="closed"):
            sess.run(queue.enqueue(4))
        with pytest.raises(errors.OutOfRangeError):
            sess.run(queue.dequeue_many(4), options=BOUNDED)
        # A failed dequeue_many leaves the elements in place.
        assert sess.run(queue.size()) == 3
        assert sess.run(queue.dequeue(), options=BOUNDED) == 1
        np.testing.assert_array_equal(sess.run(queue.dequeue_up_to(5), options=BOUNDED),
                                      [2, 3])
        with pytest.raises(errors.OutOfRangeError):
            sess.run(queue.dequeue(), options=BOUNDED)
        with pytest.raises(errors.OutOfRangeError):
            sess.run(queue.dequeue_up_to(1), options=BOUNDED)


def test_close_releases_blocked_dequeue(executor):
    queue = tf.FIFOQueue(5, tf.int32)
    dequeue = queue.dequeue()
    with tf.Session() as sess:
        blocked = Background(lambda: sess.run(dequeue, options=BOUNDED))
        wait_until_blocked(sess)
        sess.run(queue.close())
        blocked.join()
        assert isinstance(blocked.error, errors.OutOfRangeError)


def test_close_with_cancel_pending_enqueues(executor):
    queue = tf.FIFOQueue(1, tf.int32)
    enqueue_two = queue.enqueue(2)
    with tf.Session() as sess:
        sess.run(queue.enqueue(1))
        blocked = Background(lambda: sess.run(enqueue_two, options=BOUNDED))
        wait_until_blocked(sess)
        sess.run(queue.close(cancel_pending_enqueues=True))
        blocked.join()
        assert isinstance(blocked.error, errors.CancelledError)
        assert sess.run(queue.dequeue(), options=BOUNDED) == 1


def test_close_keeps_pending_enqueues(executor):
    queue = tf.FIFOQueue(1, tf.int32)
    enqueue_two = queue.enqueue(2)
    with tf.Session() as sess:
        sess.run(queue.enqueue(1))
        pending = Background(lambda: sess.run(enqueue_two, options=BOUNDED))
        wait_until_blocked(sess)  # the enqueue must be pending before the close
        sess.run(queue.close())
        assert sess.run(queue.dequeue(), options=BOUNDED) == 1
        pending.join()
        assert pending.error is None
        assert sess.run(queue.dequeue(), options=BOUNDED) == 2


def test_session_close_cancels_blocked_runs(executor):
    queue = tf.FIFOQueue(1, tf.int32)
    dequeue = queue.dequeue()
    sess = tf.Session()
    blocked = Background(lambda: sess.run(dequeue, options=BOUNDED))
    wait_until_blocked(sess)  # the run must be blocked before the close
    assert blocked.is_alive()
    sess.close()
    blocked.join()
    assert isinstance(blocked.error, errors.CancelledError)
    with pytest.raises(RuntimeError):
        sess.run(dequeue)


def test_sessions_have_independent_queues(executor):
    queue = tf.FIFOQueue(5, tf.int32)
    with tf.Session() as first, tf.Session() as second:
        first.run(queue.enqueue(1))
        assert first.run(queue.size()) == 1
        assert second.run(queue.size()) == 0


def test_shared_name_shares_one_queue_between_ops(executor):
    producer = tf.FIFOQueue(5, tf.int32, shared_name="shared", name="producer")
    consumer = tf.FIFOQueue(5, tf.int32, shared_name="shared", name="consumer")
    with tf.Session() as sess:
        sess.run(producer.enqueue(9))
        assert sess.run(consumer.dequeue(), options=BOUNDED) == 9


def test_many_producers_and_consumers(executor):
    queue = tf.FIFOQueue(4, tf.int32, shapes=[[]])
    value = tf.placeholder(tf.int32, [])
    enqueue = queue.enqueue(value)
    dequeue = queue.dequeue()
    with tf.Session() as sess:
        producers = [Background(lambda base=base: [sess.run(enqueue, {value: base + i},
                                                            options=BOUNDED)
                                                   for i in range(25)])
                     for base in (0, 100, 200, 300)]
        consumers = [Background(lambda: [sess.run(dequeue, options=BOUNDED)
                                         for _ in range(50)]) for _ in range(2)]
        for worker in producers + consumers:
            worker.join(60)
            assert worker.error is None
        received = sorted(consumers[0].result + consumers[1].result)
        assert received == sorted(base + i for base in (0, 100, 200, 300) for i in range(25))


def test_random_shuffle_queue(executor):
    queue = tf.RandomShuffleQueue(20, 0, tf.int32, shapes=[[]], seed=3)
    with tf.Session() as sess:
        sess.run(queue.enqueue_many([list(range(20))]))
        sess.run(queue.close())
        got = [sess.run(queue.dequeue(), options=BOUNDED) for _ in range(20)]
        assert sorted(got) == list(range(20))
        assert got != list(range(20))
        with pytest.raises(errors.OutOfRangeError):
            sess.run(queue.dequeue(), options=BOUNDED)


def test_random_shuffle_queue_seed_gives_one_order(executor):
    queue = tf.RandomShuffleQueue(20, 0, tf.int32, shapes=[[]], seed=7)
    orders = []
    for _ in range(2):
        with tf.Session() as sess:
            sess.run(queue.enqueue_many([list(range(20))]))
            orders.append(list(sess.run(queue.dequeue_many(20), options=BOUNDED)))
    assert orders[0] == orders[1]


def test_random_shuffle_queue_min_after_dequeue(executor):
    queue = tf.RandomShuffleQueue(10, 3, tf.int32, shapes=[[]])
    with tf.Session() as sess:
        sess.run(queue.enqueue_many([[1, 2, 3]]))
        with pytest.raises(errors.DeadlineExceededError):
            sess.run(queue.dequeue(), options=SHORT)  # would leave fewer than 3
        sess.run(queue.enqueue(4))
        assert sess.run(queue.dequeue(), options=BOUNDED) in (1, 2, 3, 4)
        assert sess.run(queue.size()) == 3
        sess.run(queue.close())  # once closed, the rest may be dequeued
        rest = sess.run(queue.dequeue_up_to(10), options=BOUNDED)
        assert len(rest) == 3


def test_string_tensors_through_constant_placeholder_identity(executor):
    constant = tf.constant(["a", b"b\x00c"])
    fed = tf.placeholder(tf.string, [None])
    scalar = tf.constant("text")
    assert constant.dtype == tf.string
    with tf.Session() as sess:
        result = sess.run(tf.identity(constant))
        assert list(result) == [b"a", b"b\x00c"]
        assert list(sess.run(tf.identity(fed), {fed: ["x", "yz"]})) == [b"x", b"yz"]
        assert sess.run(scalar) == b"text"
        assert isinstance(sess.run(tf.identity(scalar)), bytes)
