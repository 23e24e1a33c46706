"""``tf.train.Coordinator``: stop a set of threads together, and report why they stopped.

Design. The coordinator is one `threading.Event` (the stop request) plus the first exception
that asked for the stop, both under one lock, as TF's. Threads poll `should_stop()` (or block
in `wait_for_stop()`); any of them may `request_stop(ex)`; the main thread `join`s them and gets
the exception re-raised there. Exceptions of `clean_stop_exception_types` (by default
`OutOfRangeError`: an input pipeline that ran out of epochs) stop the threads without being an
error. Nothing here knows a session: queue runners (``queue_runner.py``) close their queues
when the coordinator stops.
"""

import contextlib
import logging
import sys
import threading
import time

from sessionlib import errors

__all__ = ["Coordinator", "LooperThread"]

_log = logging.getLogger(__name__)


def _as_exc_info(ex):
    """`ex` (an exception or an ``exc_info`` tuple) as an ``exc_info`` tuple."""
    if isinstance(ex, tuple):
        return ex
    return (type(ex), ex, ex.__traceback__)


class Coordinator:
    """A coordinator for threads (``tf.train.Coordinator``).

    Args:
      clean_stop_exception_types: exception types that request a stop without being reported
        by `join`; default ``(tf.errors.OutOfRangeError,)``.
    """

    def __init__(self, clean_stop_exception_types=None):
        if clean_stop_exception_types is None:
            clean_stop_exception_types = (errors.OutOfRangeError,)
        self._clean_stop_exception_types = tuple(clean_stop_exception_types)
        self._lock = threading.Lock()
        self._stop_event = threading.Event()
        self._exc_info_to_raise = None
        self._joined = False
        self._registered_threads = set()

    def _filter_exception(self, ex):
        """None for a clean-stop exception, else `ex` unchanged."""
        instance = ex[1] if isinstance(ex, tuple) else ex
        if isinstance(instance, self._clean_stop_exception_types):
            return None
        return ex

    def request_stop(self, ex=None):
        """Asks the threads to stop; the first non-clean exception given is kept for `join`.

        Args:
          ex: an exception, an ``exc_info`` tuple, or None.

        Raises:
          The exception `ex` itself when the coordinator was already joined (nobody would see
          it otherwise).
        """
        with self._lock:
            ex = self._filter_exception(ex)
            if self._joined and ex is not None:
                exc_type, value, traceback = _as_exc_info(ex)
                raise value.with_traceback(traceback)
            if not self._stop_event.is_set():
                if ex is not None and self._exc_info_to_raise is None:
                    exc_info = _as_exc_info(ex)
                    if not isinstance(exc_info[1], BaseException):
                        raise TypeError(f"ex must be an exception or an exc_info tuple, got "
                                        f"{ex!r}")
                    self._exc_info_to_raise = exc_info
                    _log.info("Error reported to Coordinator: %s", exc_info[1])
                self._stop_event.set()

    def clear_stop(self):
        """Clears the stop request, so that the coordinator (and `join`) can be used again."""
        with self._lock:
            self._joined = False
            self._exc_info_to_raise = None
            self._stop_event.clear()

    def should_stop(self):
        """Whether a stop was requested."""
        return self._stop_event.is_set()

    @contextlib.contextmanager
    def stop_on_exception(self):
        """A context manager that requests a stop when its body raises (and swallows the error).

        Usage: ``with coord.stop_on_exception(): while not coord.should_stop(): ...``
        """
        try:
            yield
        except:  # noqa: E722 - TF's contract: every exception requests the stop
            self.request_stop(ex=sys.exc_info())

    def wait_for_stop(self, timeout=None):
        """Blocks until a stop is requested or `timeout` seconds pass; returns `should_stop()`."""
        return self._stop_event.wait(timeout)

    def register_thread(self, thread):
        """Adds `thread` to the threads that `join` waits for."""
        with self._lock:
            self._registered_threads.add(thread)

    def join(self, threads=None, stop_grace_period_secs=120, ignore_live_threads=False):
        """Waits until the threads end, or for a stop request and then the grace period.

        Args:
          threads: threads to wait for, besides the registered ones.
          stop_grace_period_secs: how long the threads may take to end after a stop request.
          ignore_live_threads: only log threads still alive after the grace period.

        Raises:
          The exception passed to `request_stop`, if any.
          RuntimeError: if threads are still alive after the grace period (unless
            `ignore_live_threads`).
        """
        with self._lock:
            threads = set(self._registered_threads) | set(threads or ())
        # Until every thread ended or someone asked for a stop.
        while any(t.is_alive() for t in threads) and not self.wait_for_stop(1.0):
            pass
        # Then the grace period, polled with a growing interval (short stops join quickly).
        wait = 0.001
        remaining = stop_grace_period_secs
        while any(t.is_alive() for t in threads) and remaining >= 0:
            time.sleep(wait)
            remaining -= wait
            wait = max(min(2 * wait, remaining), 0.001)
        stragglers = [t.name for t in threads if t.is_alive()]
        with self._lock:
            self._joined = True
            self._registered_threads = set()
            if self._exc_info_to_raise is not None:
                exc_type, value, traceback = self._exc_info_to_raise
                raise value.with_traceback(traceback)
            if stragglers:
                if ignore_live_threads:
                    _log.info("Coordinator stopped with threads still running: %s",
                              " ".join(stragglers))
                else:
                    raise RuntimeError("Coordinator stopped with threads still running: "
                                       + " ".join(stragglers))

    @property
    def joined(self):
        """Whether `join` has run (and not been undone by `clear_stop`)."""
        return self._joined

    def raise_requested_exception(self):
        """Raises the exception passed to `request_stop`, if any."""
        with self._lock:
            if self._exc_info_to_raise is not None:
                exc_type, value, traceback = self._exc_info_to_raise
                raise value.with_traceback(traceback)

    def loop(self, timer_interval_secs, target, args=None, kwargs=None):
        """Starts a `LooperThread` calling ``target(*args, **kwargs)`` every interval."""
        looper = LooperThread(self, timer_interval_secs, target=target, args=args,
                              kwargs=kwargs)
        looper.start()
        return looper


class LooperThread(threading.Thread):
    """A daemon thread that calls a function repeatedly until its coordinator stops.

    Args:
      coord: the `Coordinator`.
      timer_interval_secs: seconds between calls; None calls `run_loop` back to back.
      target, args, kwargs: the function to call (default: the subclass's `run_loop`).
    """

    def __init__(self, coord, timer_interval_secs, target=None, args=None, kwargs=None):
        if not isinstance(coord, Coordinator):
            raise ValueError(f"'coord' argument must be a Coordinator: {coord}")
        super().__init__(daemon=True)
        self._coord = coord
        self._timer_interval_secs = timer_interval_secs
        self._target = target
        self._args = args or ()
        self._kwargs = kwargs or {}
        coord.register_thread(self)

    def run(self):
        with self._coord.stop_on_exception():
            self.start_loop()
            if self._timer_interval_secs is None:
                while not self._coord.should_stop():
                    self.run_loop()
            else:
                # The first call at once, then one per interval (not per interval + call).
                next_time = time.monotonic()
                while not self._coord.wait_for_stop(max(0.0, next_time - time.monotonic())):
                    next_time += self._timer_interval_secs
                    self.run_loop()
            self.stop_loop()

    def start_loop(self):
        """Called once before the loop."""

    def stop_loop(self):
        """Called once after the loop."""

    def run_loop(self):
        """One iteration; calls the target by default."""
        if self._target:
            self._target(*self._args, **self._kwargs)
