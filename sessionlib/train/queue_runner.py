"""``tf.train.QueueRunner``: threads that keep running enqueue ops, and their collection.

Design. A queue runner holds a queue, its enqueue ops, and the ops that close it (`close_op`)
or close it cancelling blocked enqueues (`cancel_op`). `create_threads` starts one thread per
enqueue op, each running its op in a loop through the session, plus, with a coordinator, one
thread that waits for the stop request and runs `cancel_op` (which unblocks the enqueue
threads, so they end promptly). An enqueue failing with one of `queue_closed_exception_types`
(by default `OutOfRangeError`: its input ran out of epochs) ends that thread; the last one to
end closes the queue, so the consumer drains the remaining elements and then gets
`OutOfRangeError`, as in TF. Any other error is handed to the coordinator, which stops all.

The runner counts its live threads per session, so `create_threads` twice on one session
starts nothing new while the first threads still run. Threads are made daemons by
`start_queue_runners` (the default there), so a forgotten runner never keeps a process alive;
`Session.close` cancels blocked runs, which ends the enqueue threads too.
"""

import logging
import threading
import weakref

from sessionlib import errors
from sessionlib.framework import graph as graph_lib
from sessionlib.framework.default_session import get_default_session
from sessionlib.framework.graph import GraphKeys

__all__ = ["QueueRunner", "add_queue_runner", "start_queue_runners"]

_log = logging.getLogger(__name__)


class QueueRunner:
    """Holds a queue's enqueue ops and runs them on threads (``tf.train.QueueRunner``).

    Args:
      queue: the queue (a `QueueBase`).
      enqueue_ops: the enqueue ops; one thread runs each (repeat an op for several threads).
      close_op: the op that closes the queue; default ``queue.close()``.
      cancel_op: the op that closes it cancelling pending enqueues; default
        ``queue.close(cancel_pending_enqueues=True)``.
      queue_closed_exception_types: the errors that mean "the input is exhausted, stop
        cleanly"; default ``(tf.errors.OutOfRangeError,)``.
      queue_runner_def: a ``QueueRunnerDef`` naming the queue and ops of a runner already in
        the graph (an imported meta graph's); the other arguments must then be None.
      import_scope: with `queue_runner_def`, the name scope its names were imported under.

    Raises:
      ValueError: without a queue or enqueue ops.
    """

    def __init__(self, queue=None, enqueue_ops=None, close_op=None, cancel_op=None,
                 queue_closed_exception_types=None, queue_runner_def=None, import_scope=None):
        self._lock = threading.Lock()
        # Session -> enqueue threads still running for it (weak: a dropped session is gone).
        self._runs_per_session = weakref.WeakKeyDictionary()
        self._exceptions_raised = []
        if queue_runner_def is not None:
            if queue or enqueue_ops:
                raise ValueError("queue_runner_def and queue are mutually exclusive.")
            self._init_from_proto(queue_runner_def, import_scope)
            return
        if queue is None:
            raise ValueError("Either queue_runner_def or queue must be specified.")
        if not enqueue_ops:
            raise ValueError("enqueue_ops must be a non-empty list")
        self._queue = queue
        self._enqueue_ops = list(enqueue_ops)
        self._close_op = close_op if close_op is not None else queue.close()
        self._cancel_op = (cancel_op if cancel_op is not None
                           else queue.close(cancel_pending_enqueues=True))
        if queue_closed_exception_types is None:
            self._queue_closed_exception_types = (errors.OutOfRangeError,)
        else:
            types = tuple(queue_closed_exception_types)
            if not types or not all(isinstance(t, type) and issubclass(t, errors.OpError)
                                    for t in types):
                raise TypeError("queue_closed_exception_types, when provided, must be a tuple "
                                "of tf.error types, but saw: "
                                f"{queue_closed_exception_types}")
            self._queue_closed_exception_types = types

    def _init_from_proto(self, queue_runner_def, import_scope=None):
        """Finds the queue and ops a ``QueueRunnerDef`` names in the default graph. The queue
        is then its Operation (as in TF), which is all a runner needs of it: its name."""
        from sessionlib.framework import meta_graph

        graph = graph_lib.get_default_graph()

        def element(name):
            return graph.as_graph_element(meta_graph.prepend_name_scope(name, import_scope))

        self._queue = element(queue_runner_def.queue_name)
        self._enqueue_ops = [element(name) for name in queue_runner_def.enqueue_op_name]
        self._close_op = element(queue_runner_def.close_op_name)
        self._cancel_op = element(queue_runner_def.cancel_op_name)
        codes = list(queue_runner_def.queue_closed_exception_types)
        self._queue_closed_exception_types = (
            tuple(errors.exception_type_from_error_code(code) for code in codes) if codes
            else (errors.OutOfRangeError,))

    @staticmethod
    def from_proto(queue_runner_def, import_scope=None):
        """The QueueRunner whose queue and ops a ``QueueRunnerDef`` names."""
        return QueueRunner(queue_runner_def=queue_runner_def, import_scope=import_scope)

    def to_proto(self, export_scope=None):
        """This runner's ``QueueRunnerDef``: the names of its queue and ops without
        `export_scope`, or None when the queue is not under it."""
        from sessionlib.framework import meta_graph
        from sessionlib.protos import queue_runner_pb2

        if export_scope and not self.name.startswith(export_scope):
            return None

        def strip(name):
            return meta_graph.strip_name_scope(name, export_scope)

        return queue_runner_pb2.QueueRunnerDef(
            queue_name=strip(self.name),
            enqueue_op_name=[strip(op.name) for op in self._enqueue_ops],
            close_op_name=strip(self._close_op.name),
            cancel_op_name=strip(self._cancel_op.name),
            queue_closed_exception_types=[errors.error_code_from_exception_type(t)
                                          for t in self._queue_closed_exception_types])

    @property
    def queue(self):
        return self._queue

    @property
    def enqueue_ops(self):
        return list(self._enqueue_ops)

    @property
    def close_op(self):
        return self._close_op

    @property
    def cancel_op(self):
        return self._cancel_op

    @property
    def queue_closed_exception_types(self):
        return self._queue_closed_exception_types

    @property
    def exceptions_raised(self):
        """The exceptions the enqueue threads raised without a coordinator to report to."""
        return list(self._exceptions_raised)

    @property
    def name(self):
        """The name of the queue's op."""
        return self._queue.name

    def _run(self, sess, enqueue_op, coord):
        """One enqueue thread: runs `enqueue_op` until the queue closes or a stop request."""
        decremented = False
        try:
            enqueue = sess.make_callable(enqueue_op)
            while True:
                if coord is not None and coord.should_stop():
                    break
                try:
                    enqueue()
                except self._queue_closed_exception_types:
                    # The input is exhausted: the last thread closes the queue, so that the
                    # consumer takes what is left, then gets OutOfRangeError.
                    with self._lock:
                        self._runs_per_session[sess] -= 1
                        decremented = True
                        last = self._runs_per_session[sess] == 0
                    if last:
                        try:
                            sess.run(self._close_op)
                        except Exception as error:  # noqa: BLE001 - closed session: no matter
                            _log.debug("Ignored exception: %s", error)
                    return
        except Exception as error:  # noqa: BLE001 - reported to the coordinator or kept
            if coord is not None:
                coord.request_stop(error)
            else:
                _log.error("Exception in QueueRunner: %s", error)
                with self._lock:
                    self._exceptions_raised.append(error)
                raise
        finally:
            if not decremented:
                with self._lock:
                    self._runs_per_session[sess] -= 1

    def _close_on_stop(self, sess, coord):
        """The coordinator's thread: on a stop request, closes the queue, cancelling enqueues."""
        coord.wait_for_stop()
        try:
            sess.run(self._cancel_op)
        except Exception as error:  # noqa: BLE001 - a closed session has nothing to cancel
            _log.debug("Ignored exception: %s", error)

    def create_threads(self, sess, coord=None, daemon=False, start=False):
        """Creates (and optionally starts) the threads that run the enqueue ops in `sess`.

        Args:
          sess: the `Session`.
          coord: an optional `Coordinator`; the threads are registered with it, stop when it
            stops, and report their errors to it.
          daemon: make the threads daemons.
          start: start them.

        Returns:
          The threads; an empty list when this runner's threads already run for `sess`.
        """
        with self._lock:
            if self._runs_per_session.get(sess, 0) > 0:
                return []
            self._runs_per_session[sess] = len(self._enqueue_ops)
            self._exceptions_raised = []
        threads = [threading.Thread(target=self._run, args=(sess, op, coord),
                                    name=f"QueueRunnerEnqueue-{self.name}")
                   for op in self._enqueue_ops]
        if coord is not None:
            threads.append(threading.Thread(target=self._close_on_stop, args=(sess, coord),
                                            name=f"QueueRunnerThread-{self.name}"))
        for thread in threads:
            if coord is not None:
                coord.register_thread(thread)
            thread.daemon = daemon
            if start:
                thread.start()
        return threads


def add_queue_runner(qr, collection=GraphKeys.QUEUE_RUNNERS):
    """Adds `qr` to the default graph's `collection` (``tf.train.add_queue_runner``)."""
    graph_lib.get_default_graph().add_to_collection(collection, qr)


def start_queue_runners(sess=None, coord=None, daemon=True, start=True,
                        collection=GraphKeys.QUEUE_RUNNERS):
    """Starts the threads of every queue runner in the graph's `collection`.

    Args:
      sess: the `Session`; default: the default session.
      coord: an optional `Coordinator`.
      daemon: make the threads daemons.
      start: start them.
      collection: the collection of queue runners.

    Returns:
      The list of threads.

    Raises:
      ValueError: without a session.
      TypeError: if `sess` is not a session.
    """
    if sess is None:
        sess = get_default_session()
        if sess is None:
            raise ValueError("Cannot start queue runners: No default session is registered. "
                             "Use `with sess.as_default()` or pass an explicit session to "
                             "tf.start_queue_runners(sess=sess)")
    if not hasattr(sess, "make_callable") or not hasattr(sess, "graph"):
        raise TypeError(f"sess must be a `tf.Session` object. Given class: {sess.__class__}")
    threads = []
    with sess.graph.as_default():
        for qr in sess.graph.get_collection(collection):
            threads.extend(qr.create_threads(sess, coord=coord, daemon=daemon, start=start))
    return threads


def _register_meta_graph_functions():
    """Queue runners go into a MetaGraphDef as QueueRunnerDef protos (as TF registers them)."""
    from sessionlib.framework import meta_graph
    from sessionlib.protos import queue_runner_pb2

    meta_graph.register_proto_function(
        GraphKeys.QUEUE_RUNNERS, proto_type=queue_runner_pb2.QueueRunnerDef,
        to_proto=lambda runner, export_scope=None: runner.to_proto(export_scope),
        from_proto=QueueRunner.from_proto)


_register_meta_graph_functions()
