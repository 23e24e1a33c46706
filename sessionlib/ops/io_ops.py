"""Readers: `ReaderBase`, `IdentityReader`, `TextLineReader` and `WholeFileReader`.

A reader turns *work units* (filenames, strings dequeued from a queue) into records (key and
value strings), one record per `read`. Like queues, a reader is a resource in the session's
container: ``TextLineReaderV2`` & co. create it on first run and output its handle, and
``ReaderReadV2``, ``ReaderReadUpToV2``, ``ReaderNumRecordsProducedV2``,
``ReaderNumWorkUnitsCompletedV2`` and ``ReaderResetV2`` take the handle as input 0 (so they run
on the reader's device). The reading loop is TF's ``ReaderBase``: take the next work unit from
the queue when none is in progress (blocking, with cancellation and deadlines, through
``data_flow_ops.dequeue_work_unit``), start it (open the file), read a record, and finish the
unit at its end.

Keys are TF's: ``b'<file>:<line number>'`` for `TextLineReader` (header lines count), the
filename for `WholeFileReader`, and the work unit itself for `IdentityReader`.

State. ``ReaderSerializeStateV2`` and ``ReaderRestoreStateV2`` save and restore a reader as a
``ReaderBaseState`` proto (TF's field numbers, so TF parses it too). As in TF, only readers whose
whole state is that base state support it, `IdentityReader` and `WholeFileReader`; a
`TextLineReader` (an open file, a line position) raises UnimplementedError.
"""

import collections
import contextlib
import errno
import threading

import numpy as np

from sessionlib import dtypes, errors
from sessionlib.framework import graph as graph_lib
from sessionlib.framework import registry
from sessionlib.framework.tensor_shape import TensorShape
from sessionlib.ops import data_flow_ops, state_ops
from sessionlib.protos import reader_base_pb2

__all__ = ["ReaderBase", "IdentityReader", "TextLineReader", "WholeFileReader"]


# ---- the reader resources -------------------------------------------------------------------

class ReaderResource:
    """A reader's state: the work unit in progress and the counters of TF's ReaderBase.

    Subclasses implement `start_work`, `read_record` and `finish_work`. `lock` serialises the
    reads of one reader; it is taken before the container's lock, never after.
    """

    # TF's name of the reader kind, for messages; and whether the base state is all there is
    # to save (one record per work unit), which is what serialize_state needs.
    kind = "Reader"
    state_is_base_state = False

    def __init__(self, container, name):
        self.container = container
        self.name = name
        self.lock = threading.Lock()
        self.work = b""
        self.work_started = 0
        self.work_finished = 0
        self.records_produced = 0

    def work_in_progress(self):
        return self.work_finished < self.work_started

    def start_work(self):
        """Prepares to read `self.work`."""

    def read_record(self):
        """Returns (key, value, at_end); key is None when no record was produced."""
        raise NotImplementedError

    def finish_work(self):
        """Releases what `start_work` acquired."""

    def reset(self):
        self.finish_work()
        self.work = b""
        self.work_started = self.work_finished = self.records_produced = 0

    def release(self):
        self.finish_work()

    def serialize_state(self):
        """The reader's state as a serialized ReaderBaseState (TF's SaveBaseState)."""
        if not self.state_is_base_state:
            raise errors.UnimplementedError(None, None, "Reader SerializeState")
        return reader_base_pb2.ReaderBaseState(
            work_started=self.work_started, work_finished=self.work_finished,
            num_records_produced=self.records_produced,
            current_work=self.work).SerializeToString()

    def restore_state(self, data):
        """Restores a state from `serialize_state`. Any failure resets the reader (as TF's
        RestoreState does, even for a reader that cannot restore) and raises."""
        if not self.state_is_base_state:
            self.reset()
            raise errors.UnimplementedError(None, None, "Reader RestoreState")
        where = f"{self.kind} '{self.name}'"
        state = reader_base_pb2.ReaderBaseState()
        try:
            state.ParseFromString(data)
        except Exception:  # noqa: BLE001 - protobuf's DecodeError differs between runtimes
            self.reset()
            raise errors.InvalidArgumentError(
                None, None, f"Could not parse state for {where}: {data!r}") from None
        if min(state.work_started, state.work_finished, state.num_records_produced) < 0:
            problem = "Unexpected negative value"
        elif state.work_started > state.work_finished:
            problem = "Inconsistent work started vs. finished"
        else:
            self.finish_work()
            self.work_started, self.work_finished = state.work_started, state.work_finished
            self.records_produced = state.num_records_produced
            self.work = state.current_work
            return
        self.reset()
        raise errors.InvalidArgumentError(
            None, None, f"{problem} when restoring in {where}: {_text_of(state)}")


def _text_of(state):
    return " ".join(str(state).split())


def _file_error(path, err):
    name = path.decode("utf-8", "replace") if isinstance(path, bytes) else str(path)
    if err.errno == errno.ENOENT:
        return errors.NotFoundError(None, None, f"{name}; No such file or directory")
    if err.errno in (errno.EACCES, errno.EPERM):
        return errors.PermissionDeniedError(None, None, f"{name}; Permission denied")
    return errors.UnknownError(None, None, f"{name}; {err.strerror}")


class IdentityReaderResource(ReaderResource):
    """Each work unit is one record whose key and value are the work unit."""

    kind = "IdentityReader"
    state_is_base_state = True

    def read_record(self):
        return self.work, self.work, True


class WholeFileReaderResource(ReaderResource):
    """Each work unit (a filename) is one record: the filename and the whole file."""

    kind = "WholeFileReader"
    state_is_base_state = True

    def read_record(self):
        try:
            with open(self.work, "rb") as handle:
                contents = handle.read()
        except OSError as err:
            raise _file_error(self.work, err) from None
        return self.work, contents, True


class TextLineReaderResource(ReaderResource):
    """Each line of a file (without its line ending) is a record; header lines are skipped."""

    kind = "TextLineReader"

    def __init__(self, container, name, skip_header_lines=0):
        super().__init__(container, name)
        self.skip_header_lines = skip_header_lines
        self.file = None
        self.line_number = 0

    def start_work(self):
        self.line_number = 0
        try:
            self.file = open(self.work, "rb")
        except OSError as err:
            raise _file_error(self.work, err) from None
        while self.line_number < self.skip_header_lines:
            if not self.file.readline():
                return  # TF ignores a file shorter than its header
            self.line_number += 1

    def read_record(self):
        line = self.file.readline()
        self.line_number += 1
        if not line:
            return None, None, True
        if line.endswith(b"\n"):
            line = line[:-1]
        if line.endswith(b"\r"):
            line = line[:-1]
        return b"%s:%d" % (self.work, self.line_number), line, False

    def finish_work(self):
        if self.file is not None:
            self.file.close()
            self.file = None


_RESOURCE_CLASSES = {
    "IdentityReaderV2": IdentityReaderResource,
    "WholeFileReaderV2": WholeFileReaderResource,
    "TextLineReaderV2": TextLineReaderResource,
}


# ---- reader creation ops --------------------------------------------------------------------

def _reader_infer(inputs, attrs):
    attrs.setdefault("container", "")
    attrs.setdefault("shared_name", "")
    return [(dtypes.resource, TensorShape([]))]


def _reader_kernel(op_type):
    resource_class = _RESOURCE_CLASSES[op_type]

    def kernel(ctx, inputs, attrs):
        # Without a shared name, each session gets one reader per op (TF's per-kernel name).
        name = attrs["shared_name"] or attrs["_name"]
        key = state_ops.resource_key("reader", attrs["container"], name)
        extra = ({"skip_header_lines": int(attrs.get("skip_header_lines", 0))}
                 if op_type == "TextLineReaderV2" else {})
        reader = ctx.resources.get_or_create(
            key, lambda: resource_class(attrs["container"], name, **extra))
        if type(reader) is not resource_class:
            raise errors.InvalidArgumentError(
                None, None, f"Shared reader '{name}' is of another type than {op_type}")
        return (state_ops.make_handle(key),)

    return kernel


for _op_type, _doc in (("IdentityReaderV2", "A reader whose records are its work units."),
                       ("WholeFileReaderV2", "A reader of whole files."),
                       ("TextLineReaderV2", "A reader of the lines of text files.")):
    registry.register_op(_op_type, infer=_reader_infer, reference=_reader_kernel(_op_type),
                         num_inputs=0, stateful=True, doc=_doc)
del _op_type, _doc


def _lookup_reader(ctx, handle):
    key = state_ops.handle_key(handle)
    reader = ctx.resources.lookup(key)
    if not isinstance(reader, ReaderResource):
        raise errors.NotFoundError(None, None,
                                   f"Reader {state_ops.display_name(key)} does not exist.")
    return reader


@contextlib.contextmanager
def _locked(ctx, reader):
    """Holds `reader`'s lock; the wait for it honours cancellation and deadlines."""
    state_ops.acquire_lock(ctx, reader.lock, f"reader {reader.name}")
    try:
        yield
    finally:
        reader.lock.release()


def _next_work(ctx, reader, queue_handle, attrs):
    """Dequeues and starts the next work unit (TF's GetNextWorkLocked + OnWorkStartedLocked)."""
    reader.work = data_flow_ops.dequeue_work_unit(ctx, queue_handle, attrs)
    reader.start_work()  # a failure leaves the unit unstarted, so the next read skips it
    reader.work_started += 1


def _finish_work(reader):
    reader.finish_work()
    reader.work_finished = reader.work_started


# ---- ReaderReadV2 / ReaderReadUpToV2 -----------------------------------------------------------

def _read_infer(inputs, attrs):
    if inputs[0].dtype is not dtypes.resource or inputs[1].dtype is not dtypes.resource:
        raise TypeError("ReaderReadV2 takes a reader handle and a queue handle")
    return [(dtypes.string, TensorShape([])), (dtypes.string, TensorShape([]))]


def _read_kernel(ctx, inputs, attrs):
    reader = _lookup_reader(ctx, inputs[0])
    with _locked(ctx, reader):
        while True:
            if not reader.work_in_progress():
                _next_work(ctx, reader, inputs[1], attrs)
            key, value, at_end = reader.read_record()
            if at_end:
                _finish_work(reader)
            if key is not None:
                reader.records_produced += 1
                return (_scalar_string(key), _scalar_string(value))


def _scalar_string(value):
    array = np.empty((), dtype=object)
    array[()] = value
    return array


def _read_up_to_infer(inputs, attrs):
    if inputs[0].dtype is not dtypes.resource or inputs[1].dtype is not dtypes.resource:
        raise TypeError("ReaderReadUpToV2 takes a reader handle and a queue handle")
    if inputs[2].dtype not in (dtypes.int64, dtypes.int32):
        raise TypeError("num_records must be an int64 tensor")
    return [(dtypes.string, TensorShape([None])), (dtypes.string, TensorShape([None]))]


def _read_up_to_kernel(ctx, inputs, attrs):
    reader = _lookup_reader(ctx, inputs[0])
    wanted = int(inputs[2])
    if wanted <= 0:
        raise errors.InvalidArgumentError(None, None,
                                          f"num_records must be positive, got {wanted}")
    keys, values = [], []
    with _locked(ctx, reader):
        # TF's ReaderBase::ReadUpTo: records may come from one work unit only; a call that
        # reaches the end of a unit after producing records returns them.
        while len(keys) < wanted:
            if not reader.work_in_progress():
                _next_work(ctx, reader, inputs[1], attrs)
            key, value, at_end = reader.read_record()
            if key is not None:
                keys.append(key)
                values.append(value)
                reader.records_produced += 1
            if at_end:
                _finish_work(reader)
                if keys:
                    break
    return (_string_vector(keys), _string_vector(values))


def _string_vector(items):
    array = np.empty(len(items), dtype=object)
    array[:] = items
    return array


registry.register_op("ReaderReadV2", infer=_read_infer, reference=_read_kernel, num_inputs=2,
                     stateful=True, doc="The next record (key, value) of a reader.")
registry.register_op("ReaderReadUpToV2", infer=_read_up_to_infer, reference=_read_up_to_kernel,
                     num_inputs=3, stateful=True, doc="Up to n records of a reader.")


# ---- counters and reset -----------------------------------------------------------------------

def _reader_only_infer(dtype):
    return state_ops.handle_only_infer("reader", dtype)


def _num_records_kernel(ctx, inputs, attrs):
    # Plain int reads are atomic; no need to wait for a read blocked on its queue.
    return (np.array(_lookup_reader(ctx, inputs[0]).records_produced, dtype=np.int64),)


def _num_work_units_kernel(ctx, inputs, attrs):
    return (np.array(_lookup_reader(ctx, inputs[0]).work_finished, dtype=np.int64),)


def _reset_kernel(ctx, inputs, attrs):
    reader = _lookup_reader(ctx, inputs[0])
    with _locked(ctx, reader):
        reader.reset()
    return ()


registry.register_op("ReaderNumRecordsProducedV2", infer=_reader_only_infer(dtypes.int64),
                     reference=_num_records_kernel, num_inputs=1, stateful=True,
                     doc="How many records a reader has produced.")
registry.register_op("ReaderNumWorkUnitsCompletedV2", infer=_reader_only_infer(dtypes.int64),
                     reference=_num_work_units_kernel, num_inputs=1, stateful=True,
                     doc="How many work units a reader has finished.")
registry.register_op("ReaderResetV2", infer=_reader_only_infer(None), reference=_reset_kernel,
                     num_inputs=1, stateful=True, doc="Restores a reader to its initial state.")


# ---- state serialization ---------------------------------------------------------------------

def _serialize_state_kernel(ctx, inputs, attrs):
    reader = _lookup_reader(ctx, inputs[0])
    with _locked(ctx, reader):
        return (_scalar_string(reader.serialize_state()),)


def _restore_state_infer(inputs, attrs):
    if inputs[0].dtype is not dtypes.resource:
        raise TypeError("ReaderRestoreStateV2 takes a reader handle")
    if inputs[1].dtype is not dtypes.string:
        raise TypeError(f"state must be a string tensor, not {inputs[1].dtype.name}")
    if inputs[1].shape.ndims not in (None, 0):
        raise ValueError(f"state must be a scalar, not of shape {inputs[1].shape}")
    return []


def _restore_state_kernel(ctx, inputs, attrs):
    reader = _lookup_reader(ctx, inputs[0])
    state = inputs[1]
    if np.ndim(state) != 0:
        raise errors.InvalidArgumentError(
            None, None, f"Reader state must be a scalar, got shape {list(np.shape(state))}")
    state = state.item() if isinstance(state, np.ndarray) else state
    with _locked(ctx, reader):
        reader.restore_state(state.encode() if isinstance(state, str) else bytes(state))
    return ()


registry.register_op("ReaderSerializeStateV2", infer=_reader_only_infer(dtypes.string),
                     reference=_serialize_state_kernel, num_inputs=1, stateful=True,
                     doc="A reader's state, as a serialized ReaderBaseState.")
registry.register_op("ReaderRestoreStateV2", infer=_restore_state_infer,
                     reference=_restore_state_kernel, num_inputs=2, stateful=True,
                     doc="Restores a reader's state from ReaderSerializeStateV2's output.")


# ---- the Python classes ------------------------------------------------------------------------

ReadResult = collections.namedtuple("ReaderReadV2", ["key", "value"])
ReadUpToResult = collections.namedtuple("ReaderReadUpToV2", ["keys", "values"])


def _queue_ref(queue):
    if isinstance(queue, graph_lib.Tensor):
        return queue
    return queue.queue_ref


class ReaderBase:
    """Base class of the readers, which produce one record (key, value) per `read`.

    Work units (usually filenames) come from a queue; the reader dequeues the next one when it
    has finished the last.

    Args:
      reader_ref: the reader's resource handle tensor.
      supports_serialize: whether the reader can `serialize_state` and `restore_state`.
    """

    def __init__(self, reader_ref, supports_serialize=False):
        self._reader_ref = reader_ref
        self._supports_serialize = supports_serialize

    @property
    def reader_ref(self):
        """The reader's resource handle tensor."""
        return self._reader_ref

    @property
    def supports_serialize(self):
        return self._supports_serialize

    def _op(self, op_type, inputs, name):
        return state_ops.create_resource_op(self._reader_ref.graph, op_type, self._reader_ref,
                                            inputs, {}, name)

    def read(self, queue, name=None):
        """The next record of the reader.

        Args:
          queue: a queue (or its handle) of scalar strings, the work units.
          name: the op name.

        Returns:
          (key, value): scalar string tensors. Running them blocks while the queue is empty
          and raises OutOfRangeError once it is closed and empty, NotFoundError for a missing
          file.
        """
        op = self._op("ReaderReadV2", [_queue_ref(queue)], name or "ReaderReadV2")
        return ReadResult(*op.outputs)

    def read_up_to(self, queue, num_records, name=None):
        """Up to `num_records` records, from one work unit.

        Args:
          queue: a queue (or its handle) of scalar strings.
          num_records: the most records to return (an int64 scalar or int).
          name: the op name.

        Returns:
          (keys, values): 1-D string tensors of equal length.
        """
        with self._reader_ref.graph.as_default():
            count = graph_lib.convert_to_tensor(num_records, dtype=dtypes.int64)
        op = self._op("ReaderReadUpToV2", [_queue_ref(queue), count],
                      name or "ReaderReadUpToV2")
        return ReadUpToResult(*op.outputs)

    def num_records_produced(self, name=None):
        """An int64 scalar tensor: how many records this reader has produced."""
        return self._op("ReaderNumRecordsProducedV2", [],
                        name or "ReaderNumRecordsProducedV2").outputs[0]

    def num_work_units_completed(self, name=None):
        """An int64 scalar tensor: how many work units this reader has finished."""
        return self._op("ReaderNumWorkUnitsCompletedV2", [],
                        name or "ReaderNumWorkUnitsCompletedV2").outputs[0]

    def reset(self, name=None):
        """An op that restores the reader to its initial clean state."""
        return self._op("ReaderResetV2", [], name or "ReaderResetV2")

    def serialize_state(self, name=None):
        """A scalar string tensor: the reader's state, a serialized ReaderBaseState.

        Running it raises UnimplementedError for a reader that cannot (`supports_serialize`
        is False), as in TF.
        """
        return self._op("ReaderSerializeStateV2", [],
                        name or "ReaderSerializeStateV2").outputs[0]

    def restore_state(self, state, name=None):
        """An op that restores the reader to `state` (from `serialize_state`).

        Args:
          state: a scalar string tensor or value.
          name: the op name.

        Returns:
          The op. Running it raises InvalidArgumentError for a state that does not parse or is
          inconsistent (the reader is then reset), UnimplementedError for a reader that cannot.
        """
        with self._reader_ref.graph.as_default():
            state = graph_lib.convert_to_tensor(state, dtype=dtypes.string)
        return self._op("ReaderRestoreStateV2", [state], name or "ReaderRestoreStateV2")


def _create_reader(op_type, attrs, name):
    graph = graph_lib.get_default_graph()
    attrs = dict(attrs, container="", shared_name="")
    return graph.create_op(op_type, [], attrs, name=name or op_type).outputs[0]


class IdentityReader(ReaderBase):
    """A reader whose records are its work units: key and value are the dequeued string.

    Args:
      name: the reader op's name.
    """

    def __init__(self, name=None):
        super().__init__(_create_reader("IdentityReaderV2", {}, name), supports_serialize=True)


class WholeFileReader(ReaderBase):
    """A reader that outputs each file whole: key is the filename, value its contents.

    Args:
      name: the reader op's name.
    """

    def __init__(self, name=None):
        super().__init__(_create_reader("WholeFileReaderV2", {}, name), supports_serialize=True)


class TextLineReader(ReaderBase):
    """A reader that outputs the lines of files (without line endings).

    Args:
      skip_header_lines: how many lines to skip at the start of each file (default 0).
      name: the reader op's name.
    """

    def __init__(self, skip_header_lines=None, name=None):
        super().__init__(_create_reader("TextLineReaderV2",
                                        {"skip_header_lines": int(skip_header_lines or 0)},
                                        name))
