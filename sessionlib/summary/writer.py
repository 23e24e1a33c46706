"""`FileWriter` and `FileWriterCache`: event files for TensorBoard.

An event file is a TFRecord file (``lib_io/tf_record.py``) of serialized `Event` protos, named
``events.out.tfevents.<10-digit seconds>.<hostname><suffix>`` in the log directory. Its first
event is ``file_version: "brain.Event:2"``, written when the file is created, so a reader
recognises the file at once. These are TF's formats, so TensorBoard reads our log directories
as it reads TF's.

Design (TF1's ``EventFileWriter``): the caller only puts events on a bounded queue
(`max_queue`); one daemon thread per open writer serialises and writes them, and flushes the
file at least every `flush_secs` (also while idle). `flush` waits until everything queued so
far is on the operating system; `close` flushes, stops the thread and closes the file;
`reopen` starts a new file. An error on the thread is raised by the next `flush` or `close`.

Two writers never clobber each other's file: when the name for this second is taken, the
next free second is used (TF would truncate the older file).

The graph: `add_graph` writes the GraphDef with every node's device. Nodes without an
explicit device get the device the session placed them on, spelled as an explicit one
(``/device:CPU:1``), when the writer knows the session (``session=``, or the default session
when its graph is the one written), so TensorBoard's graph view can colour nodes by device. `add_run_metadata` stores a step's `RunMetadata`
(step stats, partition graphs), which TensorBoard shows as compute time and memory.
"""

import os
import queue
import threading
import time
import warnings

from sessionlib.framework import device_spec
from sessionlib.framework import graph as graph_lib
from sessionlib.lib_io import tf_record
from sessionlib.protos import event_pb2, summary_pb2

__all__ = ["FileWriter", "FileWriterCache", "event_file_name"]

FILE_VERSION = "brain.Event:2"


def event_file_name(wall_time, suffix=""):
    """The base name of an event file created at `wall_time`, as TF names it.

    Args:
      wall_time: seconds since the epoch (truncated to whole seconds).
      suffix: the `filename_suffix`, appended as it is.

    Returns:
      ``events.out.tfevents.<%010d seconds>.<hostname><suffix>``.
    """
    import socket  # deferred: only a writer needs it, and it costs `import sessionlib` ~5 ms

    return "events.out.tfevents.%010d.%s%s" % (int(wall_time), socket.gethostname(),
                                                suffix or "")


class _EventFile:
    """One open event file: the TFRecord framing over a buffered file."""

    def __init__(self, logdir, suffix):
        now = time.time()
        seconds = int(now)
        while True:
            path = os.path.join(logdir, event_file_name(seconds, suffix))
            try:
                self._file = open(path, "xb")
                break
            except FileExistsError:
                seconds += 1
        self.path = path
        self.write(event_pb2.Event(wall_time=now, file_version=FILE_VERSION))
        self.flush()

    def write(self, event):
        self._file.write(tf_record.encode_record(event.SerializeToString()))

    def flush(self):
        self._file.flush()

    def close(self):
        self._file.close()


class _Closed:
    """The sentinel that stops a writer thread."""


class _Flush:
    """A flush request: the thread flushes the file, then sets `done`."""

    def __init__(self):
        self.done = threading.Event()


class _EventWriterThread(threading.Thread):
    """Takes events off the queue and writes them; flushes at least every `flush_secs`."""

    def __init__(self, events, event_file, flush_secs):
        super().__init__(name="sessionlib-event-writer", daemon=True)
        self._events = events
        self._file = event_file
        self._flush_secs = flush_secs
        self.failure = None

    def run(self):
        next_flush = time.monotonic() + self._flush_secs
        dirty = False
        while True:
            timeout = max(0.0, next_flush - time.monotonic()) if dirty else None
            try:
                item = self._events.get(timeout=timeout)
            except queue.Empty:
                item = None
            try:
                if isinstance(item, _Closed):
                    return
                if isinstance(item, _Flush):
                    try:
                        if self.failure is None:
                            self._file.flush()
                            dirty = False
                            next_flush = time.monotonic() + self._flush_secs
                    finally:
                        item.done.set()
                    continue
                if item is not None and self.failure is None:
                    self._file.write(item)
                    dirty = True
                if dirty and time.monotonic() >= next_flush and self.failure is None:
                    self._file.flush()
                    dirty = False
                    next_flush = time.monotonic() + self._flush_secs
            except Exception as error:  # noqa: BLE001 - reported by the next flush/close
                # Keep draining the queue so that producers never block on a dead thread.
                self.failure = error


class FileWriter:
    """Writes `Summary` protos and other events to an event file in `logdir`
    (`tf.summary.FileWriter`).

    Args:
      logdir: the log directory (created if missing).
      graph: an optional `Graph` (or `GraphDef`) to write at once, as `add_graph` does.
      max_queue: how many events may wait for the writer thread before `add_*` blocks.
      flush_secs: the longest time, in seconds, that written events wait to be flushed.
      graph_def: deprecated: a `GraphDef` to write, when `graph` is None.
      filename_suffix: appended to the event file's name.
      session: optional; a session of `graph`, whose placement fills in the device of each
        node that has none in the written graph.
    """

    def __init__(self, logdir, graph=None, max_queue=10, flush_secs=120, graph_def=None,
                 filename_suffix=None, session=None):
        self._logdir = os.fspath(logdir)
        if isinstance(self._logdir, bytes):
            self._logdir = self._logdir.decode("utf-8")
        self._max_queue = int(max_queue)
        self._flush_secs = float(flush_secs)
        self._suffix = filename_suffix or ""
        self._session = session
        self._lock = threading.Lock()
        self._seen_summary_tags = set()
        self._session_run_tags = set()
        self._added_graph = False
        self._closed = True
        os.makedirs(self._logdir, exist_ok=True)
        self._open()
        if graph is not None or graph_def is not None:
            self.add_graph(graph, graph_def=graph_def)

    # ---- the file and its thread ---------------------------------------------------------

    def _open(self):
        self._file = _EventFile(self._logdir, self._suffix)
        self._events = queue.Queue(max(self._max_queue, 1))
        self._thread = _EventWriterThread(self._events, self._file, self._flush_secs)
        self._thread.start()
        self._closed = False

    def _raise_failure(self):
        failure = self._thread.failure
        if failure is not None:
            self._thread.failure = None
            raise failure

    def get_logdir(self):
        """The log directory this writer writes to."""
        return self._logdir

    @property
    def event_file_path(self):
        """The path of the current (or last) event file."""
        return self._file.path

    def add_event(self, event):
        """Queues `event` as it is (its wall time and step are not changed).

        Args:
          event: an `Event` proto (or one of TF's, which is converted).
        """
        if self._closed:
            warnings.warn("Attempting to use a closed FileWriter. The operation will be a noop "
                          "unless the FileWriter is explicitly reopened.")
            return
        if not isinstance(event, event_pb2.Event):
            event = event_pb2.Event.FromString(event.SerializeToString())
        self._events.put(event)

    def _add_event(self, event, global_step):
        event.wall_time = time.time()
        if global_step is not None:
            event.step = int(global_step)
        self.add_event(event)

    def flush(self):
        """Waits until every event added so far is written and flushed to the file.

        Raises:
          OSError: what the writer thread met while writing (the writer is then closed).
        """
        if self._closed:
            warnings.warn("Attempting to use a closed FileWriter. The operation will be a noop "
                          "unless the FileWriter is explicitly reopened.")
            return
        request = _Flush()
        self._events.put(request)
        request.done.wait()
        if self._thread.failure is not None:
            self._close_now()
            self._raise_failure()

    def close(self):
        """Flushes, stops the writer thread and closes the file. Closing twice is harmless."""
        if self._closed:
            return
        self.flush()
        if not self._closed:
            self._close_now()

    def _close_now(self):
        self._closed = True
        self._events.put(_Closed())
        self._thread.join()
        self._file.close()

    def reopen(self):
        """After `close`, starts a new event file (and thread); a no-op while open."""
        if self._closed:
            self._open()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    # ---- what goes in ------------------------------------------------------------------

    def add_summary(self, summary, global_step=None):
        """Adds a summary, as produced by the summary ops.

        Metadata (which plugin draws a value) is kept only on the first value of each tag,
        as TF does, since readers take it from there.

        Args:
          summary: a serialized `Summary` (bytes, what `Session.run` of a summary returns) or
            a `Summary` proto.
          global_step: the training step to record with it.
        """
        if isinstance(summary, (bytes, bytearray)):
            summary = summary_pb2.Summary.FromString(bytes(summary))
        elif isinstance(summary, summary_pb2.Summary):
            copy = summary_pb2.Summary()
            copy.CopyFrom(summary)
            summary = copy
        elif hasattr(summary, "item") and getattr(summary, "ndim", None) == 0:
            return self.add_summary(summary.item(), global_step)
        else:
            summary = summary_pb2.Summary.FromString(summary.SerializeToString())
        with self._lock:  # several threads may add summaries (e.g. hooks and the loop)
            for value in summary.value:
                if not value.HasField("metadata"):
                    continue
                if value.tag in self._seen_summary_tags:
                    value.ClearField("metadata")
                    continue
                self._seen_summary_tags.add(value.tag)
        self._add_event(event_pb2.Event(summary=summary), global_step)

    def add_session_log(self, session_log, global_step=None):
        """Adds a `SessionLog` (START, STOP or CHECKPOINT) event.

        Args:
          session_log: a `SessionLog` proto.
          global_step: the step to record with it.
        """
        if not isinstance(session_log, event_pb2.SessionLog):
            session_log = event_pb2.SessionLog.FromString(session_log.SerializeToString())
        self._add_event(event_pb2.Event(session_log=session_log), global_step)

    def add_graph(self, graph, global_step=None, graph_def=None):
        """Adds a graph, for TensorBoard's graph view.

        Args:
          graph: a `Graph` (written with output shapes and each node's device), or a
            `GraphDef`.
          global_step: the step to record with it.
          graph_def: deprecated: a `GraphDef`, when `graph` is None.

        Raises:
          TypeError: if neither argument is a `Graph` or `GraphDef`.
        """
        if isinstance(graph, graph_lib.Graph):
            written = graph.as_graph_def(add_shapes=True)
            self._fill_placed_devices(graph, written)
        else:
            candidate = graph if graph is not None else graph_def
            if candidate is None or not hasattr(candidate, "SerializeToString"):
                raise TypeError("The passed graph must be an instance of `Graph` or the "
                                "deprecated `GraphDef`")
            written = candidate
        if self._added_graph:
            warnings.warn("Adding more than one graph event per run, or there was a graph "
                          "already in the event file: TensorBoard shows only the last one.")
        self._added_graph = True
        self._add_event(event_pb2.Event(graph_def=written.SerializeToString()), global_step)

    def _fill_placed_devices(self, graph, graph_def):
        """Gives each node without a device the device its session placed it on."""
        session = self._session
        if session is None:
            from sessionlib.framework import default_session
            session = default_session.get_default_session()
        runtime = getattr(session, "_runtime", None)
        if runtime is None or getattr(session, "graph", None) is not graph:
            return
        ops = graph.get_operations()
        try:
            devices = dict(zip((op.name for op in ops), runtime.place(ops)))
        except Exception:  # noqa: BLE001 - a graph that cannot be placed keeps its own devices
            return
        for node in graph_def.node:
            device = devices.get(node.name)
            if not node.device and device:
                # Spelled as `tf.device` scopes spell it ('/device:CPU:0'): TensorBoard colours
                # nodes by their device string, and every device of a session is local, so the
                # full name would give one device two colours beside explicitly placed nodes.
                if device.startswith(device_spec.LOCAL_PREFIX + "/"):
                    device = device[len(device_spec.LOCAL_PREFIX):]
                node.device = device

    def add_meta_graph(self, meta_graph_def, global_step=None):
        """Adds a `MetaGraphDef` (any proto with ``SerializeToString``).

        Args:
          meta_graph_def: the meta graph.
          global_step: the step to record with it.

        Raises:
          TypeError: if `meta_graph_def` is not a proto.
        """
        if not hasattr(meta_graph_def, "SerializeToString"):
            raise TypeError(f"meta_graph_def must be a MetaGraphDef, but got "
                            f"{type(meta_graph_def)}")
        self._add_event(event_pb2.Event(meta_graph_def=meta_graph_def.SerializeToString()),
                        global_step)

    def add_run_metadata(self, run_metadata, tag, global_step=None):
        """Adds the `RunMetadata` of one step (its step stats: compute time and memory per
        node in TensorBoard).

        Args:
          run_metadata: a `RunMetadata` proto, e.g. filled by ``Session.run(...,
            options=RunOptions(trace_level=FULL_TRACE), run_metadata=...)``.
          tag: a name for this step, unique in this writer.
          global_step: the step to record with it.

        Raises:
          ValueError: if `tag` was used before.
        """
        with self._lock:
            if tag in self._session_run_tags:
                raise ValueError("The provided tag was already used for this event type")
            self._session_run_tags.add(tag)
        tagged = event_pb2.TaggedRunMetadata(tag=tag,
                                             run_metadata=run_metadata.SerializeToString())
        self._add_event(event_pb2.Event(tagged_run_metadata=tagged), global_step)


class FileWriterCache:
    """One shared `FileWriter` per log directory (`tf.summary.FileWriterCache`)."""

    _cache = {}
    _lock = threading.Lock()

    @staticmethod
    def get(logdir):
        """The cached `FileWriter` of `logdir`, created (with the default graph) if missing."""
        with FileWriterCache._lock:
            writer = FileWriterCache._cache.get(logdir)
            if writer is None:
                writer = FileWriter(logdir, graph=graph_lib.get_default_graph())
                FileWriterCache._cache[logdir] = writer
            return writer

    @staticmethod
    def clear():
        """Closes and forgets every cached writer."""
        with FileWriterCache._lock:
            for writer in FileWriterCache._cache.values():
                writer.close()
            FileWriterCache._cache = {}
