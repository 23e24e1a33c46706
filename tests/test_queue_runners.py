"""tf.train.QueueRunner, add_queue_runner and start_queue_runners: threads fill queues, the
end of the input closes the queue (the consumer then gets OutOfRangeError), errors reach the
coordinator, a stop request cancels blocked enqueues, and no thread outlives its test."""

import numpy as np
import pytest

import sessionlib as tf


def _counting_runner(num_threads, limit=None, capacity=100):
    """A queue fed from a variable incremented by each enqueue (a bounded count with `limit`)."""
    var = tf.Variable(0, dtype=tf.int64, name="count")
    if limit is not None:
        from sessionlib.ops import input_ops

        value = input_ops.count_up_to(var, limit)
    else:
        value = tf.assign_add(var, 1)
    queue = tf.FIFOQueue(capacity, tf.int64, shapes=[[]])
    enqueue = queue.enqueue(value)
    return var, queue, tf.train.QueueRunner(queue, [enqueue] * num_threads)


@pytest.mark.parametrize("num_threads", [1, 3])
def test_end_of_input_closes_the_queue(num_threads):
    var, queue, qr = _counting_runner(num_threads, limit=10)
    dequeue = queue.dequeue()
    with tf.Session() as sess:
        sess.run(var.initializer)
        threads = qr.create_threads(sess, start=True)
        assert len(threads) == num_threads
        values = []
        with pytest.raises(tf.errors.OutOfRangeError):
            while True:
                values.append(sess.run(dequeue))
        for thread in threads:
            thread.join(30)
            assert not thread.is_alive()
        assert sorted(values) == list(range(10))
        assert sess.run(queue.is_closed())
        assert qr.exceptions_raised == []


def test_stop_request_cancels_blocked_enqueues():
    var, queue, qr = _counting_runner(2, capacity=2)
    with tf.Session() as sess:
        sess.run(var.initializer)
        coord = tf.train.Coordinator()
        threads = qr.create_threads(sess, coord=coord, daemon=True, start=True)
        assert len(threads) == 3  # two enqueue threads and the closer
        assert all(t.daemon for t in threads)
        while sess.run(queue.size()) < 2:  # full: both enqueue threads now block
            pass
        coord.request_stop()
        coord.join(threads, stop_grace_period_secs=30)
        assert not any(t.is_alive() for t in threads)
        assert sess.run(queue.is_closed())


def test_errors_are_reported_to_the_coordinator():
    x = tf.placeholder(tf.float32, [])  # never fed: every enqueue fails
    queue = tf.FIFOQueue(10, tf.float32)
    qr = tf.train.QueueRunner(queue, [queue.enqueue(x)])
    with tf.Session() as sess:
        coord = tf.train.Coordinator()
        threads = qr.create_threads(sess, coord=coord, start=True)
        with pytest.raises(tf.errors.InvalidArgumentError, match="placeholder"):
            coord.join(threads, stop_grace_period_secs=30)


def test_errors_without_a_coordinator_are_kept():
    x = tf.placeholder(tf.float32, [])
    queue = tf.FIFOQueue(10, tf.float32)
    qr = tf.train.QueueRunner(queue, [queue.enqueue(x)])
    with tf.Session() as sess:
        threads = qr.create_threads(sess)
        assert not threads[0].daemon
        # Run the thread's body here: the error is recorded, then re-raised.
        with pytest.raises(tf.errors.InvalidArgumentError):
            threads[0].run()
        assert len(qr.exceptions_raised) == 1
        assert isinstance(qr.exceptions_raised[0], tf.errors.InvalidArgumentError)


def test_create_threads_returns_nothing_while_running():
    var, queue, qr = _counting_runner(1, capacity=1)
    with tf.Session() as sess:
        sess.run(var.initializer)
        coord = tf.train.Coordinator()
        threads = qr.create_threads(sess, coord=coord, start=True)
        while sess.run(queue.size()) < 1:  # full: the enqueue thread blocks, still running
            pass
        assert qr.create_threads(sess, coord=coord) == []
        coord.request_stop()
        coord.join(threads, stop_grace_period_secs=30)


def test_custom_queue_closed_exception_types():
    with pytest.raises(TypeError, match="queue_closed_exception_types"):
        tf.train.QueueRunner(tf.FIFOQueue(1, tf.float32), [tf.no_op()],
                             queue_closed_exception_types=(ValueError,))
    queue = tf.FIFOQueue(1, tf.float32)
    qr = tf.train.QueueRunner(queue, [queue.enqueue(1.0)],
                              queue_closed_exception_types=(tf.errors.OutOfRangeError,
                                                            tf.errors.CancelledError))
    assert qr.queue_closed_exception_types == (tf.errors.OutOfRangeError,
                                               tf.errors.CancelledError)
    assert qr.name == queue.name and qr.queue is queue


def test_start_queue_runners_uses_the_collection_and_default_session():
    var, queue, qr = _counting_runner(2, limit=6)
    tf.train.add_queue_runner(qr)
    assert tf.get_default_graph().get_collection(tf.GraphKeys.QUEUE_RUNNERS) == [qr]
    dequeue = queue.dequeue_many(6)
    with tf.Session() as sess:
        sess.run(var.initializer)
        coord = tf.train.Coordinator()
        with sess.as_default():
            threads = tf.train.start_queue_runners(coord=coord)
        assert len(threads) == 3 and all(t.daemon for t in threads)
        np.testing.assert_array_equal(np.sort(sess.run(dequeue)), np.arange(6))
        coord.request_stop()
        coord.join(threads, stop_grace_period_secs=30)


def test_start_queue_runners_needs_a_session():
    with pytest.raises(ValueError, match="No default session"):
        tf.train.start_queue_runners()
    with pytest.raises(TypeError, match="tf.Session"):
        tf.train.start_queue_runners(sess=object())


def test_session_close_ends_blocked_threads():
    var, queue, qr = _counting_runner(2, capacity=1)
    sess = tf.Session()
    sess.run(var.initializer)
    coord = tf.train.Coordinator()
    threads = qr.create_threads(sess, coord=coord, daemon=True, start=True)
    while sess.run(queue.size()) < 1:
        pass
    sess.close()  # cancels the blocked enqueues: the threads report it and end
    with pytest.raises(tf.errors.CancelledError):
        coord.join(threads, stop_grace_period_secs=30)
    assert not any(t.is_alive() for t in threads)
