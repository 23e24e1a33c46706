"""PaddingFIFOQueue, PriorityQueue, the tf.queue / tf.io aliases and padded batching.

Expected values were checked against TensorFlow 2.21's ``tf.compat.v1`` by hand. Runs that
may block carry a deadline, so a bug fails a test instead of hanging the suite.
"""

import numpy as np
import pytest

import sessionlib as tf
from sessionlib import errors

BOUNDED = tf.RunOptions(timeout_in_ms=20000)
SHORT = tf.RunOptions(timeout_in_ms=200)


def test_padding_queue_pads_numbers_and_strings_in_dequeue_many():
    with tf.Graph().as_default():
        queue = tf.PaddingFIFOQueue(10, [tf.int32, tf.string], shapes=[[None], [None, 2]])
        first = queue.enqueue(([1, 2, 3], [["a", "b"]]))
        second = queue.enqueue(([4], [["c", "d"], ["e", "f"]]))
        numbers, strings = queue.dequeue_many(2)
        assert numbers.shape.as_list() == [2, None]
        assert strings.shape.as_list() == [2, None, 2]
        assert queue.shapes == [tf.TensorShape([None]), tf.TensorShape([None, 2])]
        assert queue.queue_ref.op.type == "PaddingFIFOQueueV2"
        with tf.Session() as sess:
            sess.run(first)
            sess.run(second)
            got_numbers, got_strings = sess.run([numbers, strings], options=BOUNDED)
    np.testing.assert_array_equal(got_numbers, [[1, 2, 3], [4, 0, 0]])
    assert got_numbers.dtype == np.int32
    assert got_strings.tolist() == [[[b"a", b"b"], [b"", b""]],
                                    [[b"c", b"d"], [b"e", b"f"]]]


def test_padding_queue_dequeue_one_keeps_shape_and_up_to_pads_the_rest():
    with tf.Graph().as_default():
        queue = tf.PaddingFIFOQueue(5, tf.float32, shapes=[[None, None]])
        enqueues = [queue.enqueue(np.ones((rows, cols), np.float32) * rows)
                    for rows, cols in [(1, 3), (2, 1), (3, 2)]]
        one = queue.dequeue()
        rest = queue.dequeue_up_to(4)
        close = queue.close()
        assert one.shape.as_list() == [None, None]
        with tf.Session() as sess:
            for op in enqueues:
                sess.run(op)
            np.testing.assert_array_equal(sess.run(one, options=BOUNDED), [[1, 1, 1]])
            sess.run(close)
            got = sess.run(rest, options=BOUNDED)
            with pytest.raises(errors.OutOfRangeError):
                sess.run(rest, options=BOUNDED)
    np.testing.assert_array_equal(got, [[[2, 0], [2, 0], [0, 0]], [[3, 3], [3, 3], [3, 3]]])


def test_padding_queue_rejects_wrong_rank_and_needs_shapes():
    with tf.Graph().as_default():
        with pytest.raises(TypeError):
            tf.PaddingFIFOQueue(3, [tf.int32])  # pylint: disable=no-value-for-parameter
        with pytest.raises(ValueError, match="defined rank"):
            tf.PaddingFIFOQueue(3, [tf.int32], shapes=[tf.TensorShape(None)])
        queue = tf.PaddingFIFOQueue(3, [tf.int32], shapes=[[None]])
        with pytest.raises(ValueError, match="incompatible"):
            queue.enqueue(([[1, 2]],))
        feed = tf.placeholder(tf.int32)
        enqueue = queue.enqueue(feed)
        with tf.Session() as sess:
            with pytest.raises(errors.InvalidArgumentError, match="Shape mismatch"):
                sess.run(enqueue, {feed: [[1, 2]]})


def test_padding_queue_empty_batch_of_closed_queue():
    with tf.Graph().as_default():
        queue = tf.PaddingFIFOQueue(3, [tf.int32], shapes=[[None, 2]])
        empty = queue.dequeue_many(0)
        with tf.Session() as sess:
            got = sess.run(empty, options=BOUNDED)
    assert got.shape == (0, 0, 2)


def test_priority_queue_dequeues_lowest_priority_first():
    with tf.Graph().as_default():
        queue = tf.PriorityQueue(10, [tf.float32, tf.string], shapes=[[], [2]])
        assert queue.dtypes == [tf.int64, tf.float32, tf.string]
        assert queue.shapes == [tf.TensorShape([]), tf.TensorShape([]), tf.TensorShape([2])]
        assert queue.queue_ref.op.type == "PriorityQueueV2"
        enqueue_many = queue.enqueue_many(([5, 1, 3], [5.0, 1.0, 3.0],
                                           [["e", "E"], ["a", "A"], ["c", "C"]]))
        enqueue_one = queue.enqueue((2, 2.0, ["b", "B"]))
        head = queue.dequeue()
        batch = queue.dequeue_many(3)
        size = queue.size()
        with tf.Session() as sess:
            sess.run(enqueue_many)
            sess.run(enqueue_one)
            priority, value, text = sess.run(head, options=BOUNDED)
            assert (priority, value, text.tolist()) == (1, 1.0, [b"a", b"A"])
            priorities, values, texts = sess.run(batch, options=BOUNDED)
            assert sess.run(size) == 0
    np.testing.assert_array_equal(priorities, [2, 3, 5])
    assert priorities.dtype == np.int64
    np.testing.assert_array_equal(values, [2.0, 3.0, 5.0])
    assert texts.tolist() == [[b"b", b"B"], [b"c", b"C"], [b"e", b"E"]]


def test_priority_queue_requires_shapes_and_int64_priority():
    with tf.Graph().as_default():
        with pytest.raises(TypeError, match="shapes"):
            tf.PriorityQueue(3, [tf.int32])
        queue = tf.PriorityQueue(3, [tf.int32], shapes=[[]])
        with pytest.raises(TypeError):
            queue.enqueue((1.5, 3))
        priority = tf.placeholder(tf.int64)
        enqueue = queue.enqueue((priority, 3))
        dequeue = queue.dequeue()
        with tf.Session() as sess:
            with pytest.raises(errors.InvalidArgumentError, match="Shape mismatch"):
                sess.run(enqueue, {priority: [1, 2]})
            sess.run(enqueue, {priority: -7})
            assert sess.run(dequeue, options=BOUNDED) == [-7, 3]
            with pytest.raises(errors.DeadlineExceededError):
                sess.run(dequeue, options=SHORT)


def test_priority_queue_failed_dequeue_many_keeps_elements():
    with tf.Graph().as_default():
        queue = tf.PriorityQueue(10, [tf.int32], shapes=[[]])
        enqueue = queue.enqueue_many(([4, 2], [40, 20]))
        take_three = queue.dequeue_many(3)
        take_two = queue.dequeue_many(2)
        close = queue.close()
        with tf.Session() as sess:
            sess.run(enqueue)
            sess.run(close)
            with pytest.raises(errors.OutOfRangeError):
                sess.run(take_three, options=BOUNDED)
            priorities, values = sess.run(take_two, options=BOUNDED)
    np.testing.assert_array_equal(priorities, [2, 4])
    np.testing.assert_array_equal(values, [20, 40])


def test_queue_module_aliases():
    for module in (tf.queue, tf.io):
        assert module.FIFOQueue is tf.FIFOQueue
        assert module.PaddingFIFOQueue is tf.PaddingFIFOQueue
        assert module.PriorityQueue is tf.PriorityQueue
        assert module.RandomShuffleQueue is tf.RandomShuffleQueue
        assert module.QueueBase is tf.QueueBase
    assert issubclass(tf.PaddingFIFOQueue, tf.QueueBase)
    assert issubclass(tf.PriorityQueue, tf.QueueBase)


def _run_pipeline(fetch):
    with tf.Session() as sess:
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess, coord)
        try:
            return sess.run(fetch, options=BOUNDED)
        finally:
            coord.request_stop()
            sess.close()
            coord.join(threads, stop_grace_period_secs=10)


def test_batch_dynamic_pad_pads_each_batch():
    with tf.Graph().as_default():
        rows = tf.constant([[1, 2, 3], [4, 5, 0], [6, 0, 0]])
        lengths = tf.constant([3, 2, 1])
        index = tf.train.range_input_producer(3, shuffle=False).dequeue()
        element = rows[index, :lengths[index]]
        assert element.shape.as_list() == [None]
        with pytest.raises(ValueError, match="fully defined"):
            tf.train.batch([element], 3)
        (batch,) = tf.train.batch([element], 3, dynamic_pad=True)
        assert batch.shape.as_list() == [3, None]
        got = _run_pipeline(batch)
    np.testing.assert_array_equal(got, [[1, 2, 3], [4, 5, 0], [6, 0, 0]])


def test_maybe_batch_join_and_maybe_shuffle_batch_keep_selected_rows():
    with tf.Graph().as_default():
        values = tf.constant([1, 2, 3, 4])
        keep = tf.constant([True, False, True, True])
        joined = tf.train.maybe_batch_join([[values]], keep, 3, enqueue_many=True)
        shuffled = tf.train.maybe_shuffle_batch([values], 3, 10, 0, keep, seed=1,
                                                enqueue_many=True)
        shuffled_join = tf.train.maybe_shuffle_batch_join([[values]], 3, 10, 0, keep, seed=2,
                                                          enqueue_many=True)
        got = _run_pipeline([joined, shuffled, shuffled_join])
    for (batch,) in got:
        assert set(batch.tolist()) <= {1, 3, 4} and len(batch) == 3
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="min_after_dequeue"):
            tf.train.maybe_shuffle_batch([tf.constant(1)], 2, 3, 3, True)


# ---- ConditionalAccumulator ---------------------------------------------------------------------

def test_accumulator_averages_and_drops_stale_gradients():
    with tf.Graph().as_default():
        accumulator = tf.ConditionalAccumulator(tf.float32, shape=[2])
        assert accumulator.dtype == tf.float32 and accumulator.name == "conditional_accumulator"
        assert accumulator.accumulator_ref.op.type == "ResourceConditionalAccumulator"
        grad = tf.placeholder(tf.float32)
        step = tf.placeholder(tf.int64)
        apply = accumulator.apply_grad(grad, local_step=step)
        take = accumulator.take_grad(2)
        count = accumulator.num_accumulated()
        set_step = accumulator.set_global_step(5)
        assert take.shape.as_list() == [2] and take.dtype == tf.float32
        assert (apply.type, count.op.type, set_step.type) == (
            "ResourceAccumulatorApplyGradient", "ResourceAccumulatorNumAccumulated",
            "ResourceAccumulatorSetGlobalStep")
        with tf.Session() as sess:
            sess.run(apply, {grad: [1, 2], step: 0})
            sess.run(apply, {grad: [3, 4], step: 0})
            assert sess.run(count) == 2
            np.testing.assert_array_equal(sess.run(take, options=BOUNDED), [2, 3])
            # The take advanced the global step to 1: a step-0 gradient is now stale.
            sess.run(apply, {grad: [1, 2], step: 0})
            assert sess.run(count) == 0
            sess.run(apply, {grad: [1, 2], step: 1})
            assert sess.run(count) == 1
            sess.run(set_step)
            sess.run(apply, {grad: [7, 7], step: 4})
            assert sess.run(count) == 1
            sess.run(apply, {grad: [5, 6], step: 5})
            np.testing.assert_array_equal(sess.run(take, options=BOUNDED), [3, 4])


def test_accumulator_sum_unknown_shape_and_errors():
    with tf.Graph().as_default():
        summing = tf.ConditionalAccumulator(tf.float64, reduction_type="SUM")
        take = summing.take_grad(1)
        assert take.shape.rank is None and take.dtype == tf.float64
        apply_rows = summing.apply_grad(tf.constant([[1.0, 2.0]], tf.float64))
        apply_more = summing.apply_grad(tf.constant([[3.0, 4.0]], tf.float64))
        apply_vector = summing.apply_grad(tf.constant([1.0, 2.0], tf.float64))
        apply_vector_next = summing.apply_grad(tf.constant([1.0, 2.0], tf.float64),
                                               local_step=1)
        with pytest.raises(ValueError, match="reduction_type"):
            tf.ConditionalAccumulator(tf.float32, reduction_type="MAX")
        with pytest.raises(TypeError):
            tf.ConditionalAccumulator(tf.int32)
        fixed = tf.ConditionalAccumulator(tf.float32, shape=[2], name="fixed")
        with pytest.raises(ValueError, match="incompatible"):
            fixed.apply_grad([1.0, 2.0, 3.0])
        feed = tf.placeholder(tf.float32)
        apply_feed = fixed.apply_grad(feed)
        take_none = fixed.take_grad(0)
        take_many = fixed.take_grad(3)
        with tf.Session() as sess:
            sess.run(apply_rows)
            sess.run(apply_more)
            with pytest.raises(errors.InvalidArgumentError, match="Shape mismatch"):
                sess.run(apply_vector)
            np.testing.assert_array_equal(sess.run(take, options=BOUNDED), [[4.0, 6.0]])
            # After a take the sum starts afresh, so a new shape is accepted.
            sess.run(apply_vector_next)
            np.testing.assert_array_equal(sess.run(take, options=BOUNDED), [1.0, 2.0])
            with pytest.raises(errors.InvalidArgumentError, match="Shape mismatch"):
                sess.run(apply_feed, {feed: [1.0, 2.0, 3.0]})
            with pytest.raises(errors.InvalidArgumentError, match="must be positive"):
                sess.run(take_none)
            sess.run(apply_feed, {feed: [1.0, 2.0]})
            with pytest.raises(errors.DeadlineExceededError):
                sess.run(take_many, options=SHORT)


def test_accumulator_take_waits_for_another_run():
    import threading

    with tf.Graph().as_default():
        accumulator = tf.ConditionalAccumulator(tf.float16, shape=[])
        apply = accumulator.apply_grad(tf.constant(3.0, tf.float16))
        take = accumulator.take_grad(2)
        with tf.Session() as sess:
            results = []
            worker = threading.Thread(
                target=lambda: results.append(sess.run(take, options=BOUNDED)), daemon=True)
            worker.start()
            sess.run(apply)
            sess.run(apply)
            worker.join(30)
            assert not worker.is_alive()
    assert results == [np.float16(3.0)] and results[0].dtype == np.float16


def test_accumulator_is_shared_by_name_and_dropped_with_the_session():
    with tf.Graph().as_default():
        first = tf.ConditionalAccumulator(tf.float32, shape=[], shared_name="acc_shared_x")
        second = tf.ConditionalAccumulator(tf.float32, shape=[], shared_name="acc_shared_x",
                                           name="other")
        apply = first.apply_grad(2.0)
        count = second.num_accumulated()
        with tf.Session() as sess:
            sess.run(apply)
            assert sess.run(count) == 1
        with tf.Session() as sess:
            assert sess.run(count) == 0


# ---- SparseConditionalAccumulator ---------------------------------------------------------------

def test_sparse_accumulator_means_per_index_and_sums():
    with tf.Graph().as_default():
        accumulator = tf.SparseConditionalAccumulator(tf.float32, shape=[4, 2])
        assert accumulator.accumulator_ref.op.type == "SparseConditionalAccumulator"
        first = accumulator.apply_grad([0, 2], [[1.0, 2.0], [3.0, 4.0]], [4, 2])
        second = accumulator.apply_grad(tf.constant([0], tf.int64), [[5.0, 6.0]])
        take = accumulator.take_grad(2)
        take_slices = accumulator.take_indexed_slices_grad(1)
        count = accumulator.num_accumulated()
        late = accumulator.apply_indexed_slices_grad(
            tf.IndexedSlices(tf.constant([[1.0, 1.0]]), tf.constant([3], tf.int64)),
            local_step=1)
        stale = accumulator.apply_grad([1], [[9.0, 9.0]], local_step=0)
        out_of_range = accumulator.apply_grad([7], [[1.0, 2.0]], local_step=5)
        wrong_row = accumulator.apply_grad([1], [[1.0, 2.0, 3.0]], local_step=5)
        summing = tf.SparseConditionalAccumulator(tf.float64, reduction_type="SUM")
        sum_first = summing.apply_grad([1], tf.constant([[1.0, 2.0, 3.0]], tf.float64))
        sum_second = summing.apply_grad([4, 1], tf.constant([[7.0, 7.0, 7.0], [1.0, 2.0, 3.0]],
                                                            tf.float64))
        sum_take = summing.take_grad(2)
        with tf.Session() as sess:
            sess.run(first)
            sess.run(second)
            assert sess.run(count) == 2
            indices, values, shape = sess.run(take, options=BOUNDED)
            sess.run(stale)  # the take advanced the global step to 1: dropped
            assert sess.run(count) == 0
            sess.run(late)
            slices = sess.run(take_slices, options=BOUNDED)
            with pytest.raises(errors.InvalidArgumentError, match="out of range"):
                sess.run(out_of_range)
            with pytest.raises(errors.InvalidArgumentError, match="Shape mismatch"):
                sess.run(wrong_row)
            sess.run(sum_first)
            sess.run(sum_second)
            sum_indices, sum_values, sum_shape = sess.run(sum_take, options=BOUNDED)
    assert indices.tolist() == [0, 2] and shape.tolist() == [4, 2]
    np.testing.assert_array_equal(values, [[3.0, 4.0], [3.0, 4.0]])
    assert slices.indices.tolist() == [3] and slices.dense_shape.tolist() == [4, 2]
    np.testing.assert_array_equal(slices.values, [[1.0, 1.0]])
    assert sum_indices.tolist() == [1, 4] and sum_shape.tolist() == [-1, 3]
    np.testing.assert_array_equal(sum_values, [[2.0, 4.0, 6.0], [7.0, 7.0, 7.0]])


def test_sparse_and_dense_accumulators_do_not_mix():
    with tf.Graph().as_default():
        sparse = tf.SparseConditionalAccumulator(tf.float32, shared_name="acc_mix_x")
        dense = tf.ConditionalAccumulator(tf.float32, shared_name="acc_mix_x", name="dense")
        make_sparse = sparse.num_accumulated()
        dense_apply = dense.apply_grad(1.0)
        with pytest.raises(TypeError):
            tf.SparseConditionalAccumulator(tf.int32)
        with tf.Session() as sess:
            assert sess.run(make_sparse) == 0
            with pytest.raises(errors.InvalidArgumentError):
                sess.run(dense_apply)
