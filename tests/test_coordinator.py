"""tf.train.Coordinator and LooperThread: stop requests, exceptions reported by join, grace
periods. Every thread here is short-lived and joined, so no test leaks one."""

import sys
import threading
import time

import pytest

import sessionlib as tf


def _stop_after(coord, event):
    event.wait()
    coord.request_stop()


def test_request_stop_and_join_registered_threads():
    coord = tf.train.Coordinator()
    assert not coord.should_stop()
    go = threading.Event()
    threads = [threading.Thread(target=_stop_after, args=(coord, go)) for _ in range(3)]
    for thread in threads:
        coord.register_thread(thread)
        thread.start()
    assert not coord.wait_for_stop(0.01)
    go.set()
    coord.join()
    assert coord.should_stop() and coord.joined
    assert not any(t.is_alive() for t in threads)


def test_join_reraises_the_first_exception():
    coord = tf.train.Coordinator()

    def failing():
        with coord.stop_on_exception():
            raise ValueError("first")

    def second():
        coord.wait_for_stop()
        coord.request_stop(RuntimeError("second"))  # ignored: the stop is already requested

    threads = [threading.Thread(target=failing), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    with pytest.raises(ValueError, match="first"):
        coord.join(threads)
    # After the join, an exception passed to request_stop is raised right there.
    with pytest.raises(KeyError):
        coord.request_stop(KeyError("late"))


def test_clean_stop_exceptions_are_not_errors():
    coord = tf.train.Coordinator()
    coord.request_stop(tf.errors.OutOfRangeError(None, None, "end of input"))
    assert coord.should_stop()
    coord.join([])
    coord.raise_requested_exception()  # nothing to raise

    custom = tf.train.Coordinator(clean_stop_exception_types=(KeyError,))
    custom.request_stop(KeyError("fine"))
    custom.join()


def test_exc_info_tuple_and_raise_requested_exception():
    coord = tf.train.Coordinator()
    try:
        raise TypeError("boom")
    except TypeError:
        coord.request_stop(sys.exc_info())
    with pytest.raises(TypeError, match="boom"):
        coord.raise_requested_exception()
    with pytest.raises(TypeError, match="boom"):
        coord.join()


def test_clear_stop_makes_the_coordinator_reusable():
    coord = tf.train.Coordinator()
    coord.request_stop(ValueError("x"))
    with pytest.raises(ValueError):
        coord.join()
    coord.clear_stop()
    assert not coord.should_stop() and not coord.joined
    coord.raise_requested_exception()
    coord.request_stop()
    coord.join()


def test_straggler_threads_after_the_grace_period():
    coord = tf.train.Coordinator()
    release = threading.Event()
    straggler = threading.Thread(target=release.wait, name="straggler", daemon=True)
    straggler.start()
    coord.request_stop()
    try:
        with pytest.raises(RuntimeError, match="threads still running: straggler"):
            coord.join([straggler], stop_grace_period_secs=0.01)
        coord.clear_stop()
        coord.request_stop()
        coord.join([straggler], stop_grace_period_secs=0.01, ignore_live_threads=True)
    finally:
        release.set()
        straggler.join()


def test_stop_on_exception_swallows_and_stops():
    coord = tf.train.Coordinator()
    with coord.stop_on_exception():
        raise IndexError("oops")
    assert coord.should_stop()
    with pytest.raises(IndexError):
        coord.join()


def test_looper_thread_runs_until_stop():
    coord = tf.train.Coordinator()
    calls = []
    done = threading.Event()

    def target(tag):
        calls.append(tag)
        if len(calls) == 3:
            done.set()

    looper = coord.loop(0.001, target, args=("tick",))
    assert looper.daemon
    assert done.wait(10)
    coord.request_stop()
    coord.join()
    assert not looper.is_alive()
    assert calls[:3] == ["tick"] * 3


def test_request_stop_wakes_wait_for_stop():
    coord = tf.train.Coordinator()
    woke = []
    waiter = threading.Thread(target=lambda: woke.append(coord.wait_for_stop(30)))
    waiter.start()
    time.sleep(0.01)
    coord.request_stop()
    waiter.join(10)
    assert woke == [True]
