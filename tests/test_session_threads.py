"""Sessions and threads: per-thread defaults, and many threads running one session at once."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import sessionlib as tf
from sessionlib import errors

from _blocking import wait_until_blocked


def _in_thread(function):
    """Runs `function` in a new thread; returns its result or re-raises its exception."""
    outcome = {}

    def target():
        try:
            outcome["value"] = function()
        except BaseException as err:  # noqa: BLE001 - handed back to the caller
            outcome["error"] = err

    worker = threading.Thread(target=target)
    worker.start()
    worker.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def test_a_new_thread_has_no_default_session():
    tf.constant(1)
    with tf.Session() as sess:
        assert tf.get_default_session() is sess
        assert _in_thread(tf.get_default_session) is None


def test_a_new_thread_has_its_own_fresh_default_graph():
    graph = tf.Graph()
    with graph.as_default():
        with tf.Session():
            seen = _in_thread(lambda: (tf.get_default_graph(),
                                       tf.get_default_graph().get_operations()))
    assert seen[0] is not graph
    assert seen[1] == []


def test_defaults_set_in_a_thread_stay_in_it():
    tf.constant(1)
    sess = tf.Session()
    entered, left = threading.Event(), threading.Event()

    def hold_default():
        with sess.as_default():
            entered.set()
            left.wait(10)

    worker = threading.Thread(target=hold_default)
    worker.start()
    entered.wait(10)
    try:
        assert tf.get_default_session() is None
    finally:
        left.set()
        worker.join()
    sess.close()


def test_eval_in_a_thread_needs_a_session_there(executor):
    a = tf.constant(3)
    sess = tf.Session()
    with sess.as_default():
        with pytest.raises(ValueError):
            _in_thread(a.eval)
        assert _in_thread(lambda: a.eval(session=sess)) == 3

        def with_default():
            with sess.as_default():
                return a.eval()

        assert _in_thread(with_default) == 3
    sess.close()


def _build_adder_graph():
    """x, y placeholders and an output equal to x (through identities) and the pair."""
    x = tf.placeholder(tf.int64, [None], name="x")
    y = tf.placeholder(tf.int64, [], name="y")
    out_x = tf.identity(tf.identity(x))
    out_y = tf.identity(y)
    return x, y, out_x, out_y


def test_concurrent_runs_give_each_caller_its_own_results(executor):
    x, y, out_x, out_y = _build_adder_graph()
    sess = tf.Session()

    def work(worker_id):
        for step in range(200):
            token = worker_id * 100000 + step
            got_x, got_y = sess.run([out_x, out_y], {x: [token, -token], y: token})
            assert got_x.tolist() == [token, -token]
            assert got_y == token
        return worker_id

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert sorted(pool.map(work, range(16))) == list(range(16))
    sess.close()


def test_concurrent_callables(executor):
    x, y, out_x, out_y = _build_adder_graph()
    sess = tf.Session()
    call = sess.make_callable({"x": out_x, "y": out_y}, [x, y])

    def work(worker_id):
        for step in range(200):
            token = worker_id * 1000 + step
            result = call([token], token)
            assert result["x"].tolist() == [token]
            assert result["y"] == token
        return True

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert all(pool.map(work, range(8)))
    sess.close()


def test_concurrent_first_runs_of_many_different_steps(executor):
    p = tf.placeholder(tf.int32, [], name="p")
    outputs = []
    current = p
    for _ in range(40):
        current = tf.identity(current)
        outputs.append(current)
    sess = tf.Session()
    barrier = threading.Barrier(8)

    def work(worker_id):
        barrier.wait(10)
        for index in range(worker_id, len(outputs), 3):
            assert sess.run(outputs[index], {p: worker_id + index}) == worker_id + index
        return True

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert all(pool.map(work, range(8)))
    assert len(sess._runtime.cached_steps()) == len(outputs)
    sess.close()


def test_runs_while_another_thread_grows_the_graph(executor):
    graph = tf.get_default_graph()
    p = tf.placeholder(tf.float32, [], name="p")
    out = tf.identity(p)
    sess = tf.Session()
    stop = threading.Event()

    def grow():
        with graph.as_default():
            while not stop.is_set():
                tf.constant(1.0)

    grower = threading.Thread(target=grow)
    grower.start()
    try:
        for step in range(300):
            assert sess.run(out, {p: float(step)}) == np.float32(step)
    finally:
        stop.set()
        grower.join()
    sess.close()


def test_errors_in_one_thread_do_not_disturb_others(executor):
    x, y, out_x, out_y = _build_adder_graph()
    sess = tf.Session()

    def work(worker_id):
        for step in range(50):
            if worker_id % 2:
                with pytest.raises(errors.InvalidArgumentError):
                    sess.run(out_y)  # y is not fed
            else:
                assert sess.run(out_y, {y: step}) == step
        return True

    with ThreadPoolExecutor(max_workers=6) as pool:
        assert all(pool.map(work, range(6)))
    sess.close()


@pytest.mark.skipif(not hasattr(tf, "FIFOQueue"), reason="needs queues")
def test_close_cancels_a_run_blocked_in_another_thread(executor):
    queue = tf.FIFOQueue(1, [tf.float32])
    dequeue = queue.dequeue()
    sess = tf.Session()
    started = threading.Event()
    outcome = {}

    def blocked():
        started.set()
        try:
            sess.run(dequeue)
        except BaseException as err:  # noqa: BLE001 - inspected below
            outcome["error"] = err

    worker = threading.Thread(target=blocked)
    worker.start()
    started.wait(10)
    wait_until_blocked(sess)  # closing before the run starts would be a RuntimeError
    sess.close()
    worker.join(10)
    assert not worker.is_alive()
    assert isinstance(outcome.get("error"), errors.CancelledError)


def test_a_run_whose_session_closes_under_it_is_cancelled(executor, monkeypatch):
    # Another thread's close frees the session's resources while this run may still be in
    # its kernels: a kernel that then misses its variable must not be what the caller sees.
    # As in TF, and as the worker runtime answers, the close cancelled the run.
    v = tf.Variable(1.0, name="v")
    read = v.read_value() + 1.0
    sess = tf.Session()
    sess.run(v.initializer)
    make_context = sess._run_context

    def closing_as_the_run_starts(options):
        context = make_context(options)
        sess.close()  # past the run's open check: as if another thread closed it just now
        return context

    monkeypatch.setattr(sess, "_run_context", closing_as_the_run_starts)
    with pytest.raises(errors.CancelledError, match="Session has been closed"):
        sess.run(read)


def test_a_step_compiled_while_the_graph_changes_is_not_cached_as_current(executor):
    # A compile that starts before a graph change and is stored after another thread has
    # already noticed the change must not be served as the step of the new graph version.
    counter = tf.Variable(0, name="counter")
    bump = counter.assign_add(1)
    x = tf.constant(1.0)
    y = tf.identity(x)
    other = tf.constant(2.0)
    with tf.Session() as sess:
        sess.run(counter.initializer)
        sess.run(other)
        runtime = sess._runtime
        compile_placed = runtime._compile_placed
        state = {"done": False}

        def compile_ops_while_graph_changes(*args):
            step = compile_placed(*args)
            if not state["done"]:
                state["done"] = True
                y.op._add_control_input(bump.op if hasattr(bump, "op") else bump)
                # Another thread sees the new version (and resets the cache) meanwhile.
                seen = threading.Thread(target=sess.run, args=(other,))
                seen.start()
                deadline = time.monotonic() + 10
                while runtime._cache_version != sess.graph.version:
                    assert time.monotonic() < deadline
                    time.sleep(0.001)
                state["thread"] = seen
            return step

        runtime._compile_placed = compile_ops_while_graph_changes
        sess.run(y)
        state["thread"].join(10)
        sess.run(y)  # must run with the new control input
        assert sess.run(counter) == 1
