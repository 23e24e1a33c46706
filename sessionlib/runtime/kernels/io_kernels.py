"""Kernels of the reader ops, and the reader resources they operate on.

Design. A reader turns *work units* (filenames, strings dequeued from a queue) into records
(key and value strings), one record per read. Like a queue, a reader is a resource in the
session's container (see ``state_kernels``), created on first run of its creation op
(``TextLineReaderV2`` & co.), which outputs its handle; the other reader kernels take that handle
as input 0. The reading loop is TF's ``ReaderBase``: take the next work unit from the queue when
none is in progress (blocking, with cancellation and deadlines, through
``data_flow_kernels.dequeue_work_unit``), start it (open the file), read a record, and finish the
unit at its end.

Keys are TF's: ``b'<file>:<line number>'`` for `TextLineReader` (header lines count), the
filename for `WholeFileReader`, the work unit itself for `IdentityReader`,
``b'<file>:<offset>'`` for `TFRecordReader` (the frame's offset in the uncompressed file) and
``b'<file>:<record number>'`` for `FixedLengthRecordReader`.

State. ``ReaderSerializeStateV2`` and ``ReaderRestoreStateV2`` save and restore a reader as a
``ReaderBaseState`` proto (TF's field numbers, so TF parses it too). As in TF, only readers whose
whole state is that base state support it, `IdentityReader` and `WholeFileReader`; a
`TextLineReader` (an open file, a line position) raises UnimplementedError.

The graph side (inference, `TextLineReader` & co.) is ``ops/io_ops.py``; this module must never
import it.
"""

import contextlib
import errno
import glob
import os
import threading
import time

import numpy as np

from sessionlib import errors
from sessionlib.lib_io import tf_record
from sessionlib.protos import reader_base_pb2
from sessionlib.runtime.kernel_table import register_kernel
from sessionlib.runtime.kernels.data_flow_kernels import dequeue_work_unit
from sessionlib.runtime.kernels.state_kernels import (display_name, handle_key, make_handle,
                                                      resource_key)

__all__ = ["ReaderResource"]


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

    @staticmethod
    def options(attrs):
        """The constructor's keyword arguments from the creation op's attrs."""
        return {}

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

    @staticmethod
    def options(attrs):
        return {"skip_header_lines": int(attrs.get("skip_header_lines", 0))}

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


class TFRecordReaderResource(ReaderResource):
    """Each record of a TFRecord file (CRCs checked) is a record; compressed files are read
    through a decompressing stream."""

    kind = "TFRecordReader"

    def __init__(self, container, name, compression_type=""):
        super().__init__(container, name)
        self.compression_type = compression_type
        self.records = None

    @staticmethod
    def options(attrs):
        return {"compression_type": attrs.get("compression_type", "") or ""}

    def start_work(self):
        try:
            open(self.work, "rb").close()  # a missing file fails here, leaving it unstarted
        except OSError as err:
            raise _file_error(self.work, err) from None
        self.records = tf_record.file_records_with_offsets(self.work, self.compression_type)

    def read_record(self):
        found = next(self.records, None)
        if found is None:
            return None, None, True
        offset, record = found
        return b"%s:%d" % (self.work, offset), record, False

    def finish_work(self):
        if self.records is not None:
            self.records.close()
            self.records = None


class FixedLengthRecordReaderResource(ReaderResource):
    """After a header, a record of `record_bytes` every `hop_bytes` while one fits before the
    footer; a shorter remainder is dropped, as TF's reader does."""

    kind = "FixedLengthRecordReader"

    def __init__(self, container, name, record_bytes=1, header_bytes=0, footer_bytes=0,
                 hop_bytes=0, encoding=""):
        super().__init__(container, name)
        self.record_bytes, self.header_bytes = record_bytes, header_bytes
        self.footer_bytes, self.hop_bytes, self.encoding = footer_bytes, hop_bytes, encoding
        self.data = None
        self.position = self.body_end = self.record_number = 0

    @staticmethod
    def options(attrs):
        return {"record_bytes": int(attrs["record_bytes"]),
                "header_bytes": int(attrs.get("header_bytes", 0)),
                "footer_bytes": int(attrs.get("footer_bytes", 0)),
                "hop_bytes": int(attrs.get("hop_bytes", 0)),
                "encoding": attrs.get("encoding", "") or ""}

    def start_work(self):
        try:
            with open(self.work, "rb") as raw:
                self.data = tf_record.open_decompressed(raw, self.encoding).read()
        except OSError as err:
            if err.errno is None:  # a gzip format error, not a file system one
                raise errors.DataLossError(None, None, f"corrupted compressed data in "
                                                       f"{_display(self.work)}: {err}") from None
            raise _file_error(self.work, err) from None
        self.position = self.header_bytes
        self.body_end = len(self.data) - self.footer_bytes
        self.record_number = 0

    def read_record(self):
        end = self.position + self.record_bytes
        if end > self.body_end:
            return None, None, True
        record = self.data[self.position:end]
        self.position += self.hop_bytes or self.record_bytes
        key = b"%s:%d" % (self.work, self.record_number)
        self.record_number += 1
        return key, record, False

    def finish_work(self):
        self.data = None


def _display(path):
    return path.decode("utf-8", "replace") if isinstance(path, bytes) else str(path)


_RESOURCE_CLASSES = {
    "IdentityReaderV2": IdentityReaderResource,
    "WholeFileReaderV2": WholeFileReaderResource,
    "TextLineReaderV2": TextLineReaderResource,
    "TFRecordReaderV2": TFRecordReaderResource,
    "FixedLengthRecordReaderV2": FixedLengthRecordReaderResource,
}


# ---- reader creation ops --------------------------------------------------------------------

def _reader_kernel(op_type):
    resource_class = _RESOURCE_CLASSES[op_type]

    def kernel(ctx, inputs, attrs):
        # Without a shared name, each session gets one reader per op (TF's per-kernel name).
        name = attrs["shared_name"] or attrs["_name"]
        key = resource_key("reader", attrs["container"], name)
        reader = ctx.resources.get_or_create(
            key, lambda: resource_class(attrs["container"], name,
                                        **resource_class.options(attrs)))
        if type(reader) is not resource_class:
            raise errors.InvalidArgumentError(
                None, None, f"Shared reader '{name}' is of another type than {op_type}")
        return (make_handle(key),)

    return kernel


# ---- reading --------------------------------------------------------------------------------

def _lookup_reader(ctx, handle):
    key = handle_key(handle)
    reader = ctx.resources.lookup(key)
    if not isinstance(reader, ReaderResource):
        raise errors.NotFoundError(None, None, f"Reader {display_name(key)} does not exist.")
    return reader


@contextlib.contextmanager
def _locked(ctx, reader):
    """Holds `reader`'s lock; the wait for it honours cancellation and deadlines.

    A run waiting for a reader that another (blocked) run holds must still fail with
    CancelledError or DeadlineExceededError instead of hanging.
    """
    while not reader.lock.acquire(timeout=0.05):
        ctx.check_cancelled()
        if ctx.deadline is not None and time.monotonic() >= ctx.deadline:
            raise errors.DeadlineExceededError(None, None,
                                               f"Timed out waiting for reader {reader.name}")
    try:
        yield
    finally:
        reader.lock.release()


def _next_work(ctx, reader, queue_handle, attrs):
    """Dequeues and starts the next work unit (TF's GetNextWorkLocked + OnWorkStartedLocked)."""
    reader.work = dequeue_work_unit(ctx, queue_handle, attrs)
    reader.start_work()  # a failure leaves the unit unstarted, so the next read skips it
    reader.work_started += 1


def _finish_work(reader):
    reader.finish_work()
    reader.work_finished = reader.work_started


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


# ---- counters and reset ---------------------------------------------------------------------

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


# ---- state serialization --------------------------------------------------------------------

def _serialize_state_kernel(ctx, inputs, attrs):
    reader = _lookup_reader(ctx, inputs[0])
    with _locked(ctx, reader):
        return (_scalar_string(reader.serialize_state()),)


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


# ---- MatchingFiles ---------------------------------------------------------------------------

def _matching_files_kernel(ctx, inputs, attrs):
    patterns = np.asarray(inputs[0], dtype=object).reshape(-1)
    found = []
    for pattern in patterns:
        text = pattern.decode() if isinstance(pattern, bytes) else str(pattern)
        # As TF's file system glob: names starting with a dot match too, and a file matched
        # by two patterns is listed twice.
        found.extend(glob.glob(text, include_hidden=True))
    return (_string_vector([path.encode() for path in sorted(found)]),)


# These kernels only move resources and numpy arrays: the reference kernel is the fast one.
for _op_type in _RESOURCE_CLASSES:
    register_kernel(_op_type, reference=_reader_kernel(_op_type))
del _op_type
register_kernel("ReaderReadV2", reference=_read_kernel)
register_kernel("ReaderReadUpToV2", reference=_read_up_to_kernel)
register_kernel("ReaderNumRecordsProducedV2", reference=_num_records_kernel)
register_kernel("ReaderNumWorkUnitsCompletedV2", reference=_num_work_units_kernel)
register_kernel("ReaderResetV2", reference=_reset_kernel)
register_kernel("ReaderSerializeStateV2", reference=_serialize_state_kernel)
register_kernel("ReaderRestoreStateV2", reference=_restore_state_kernel)
register_kernel("MatchingFiles", reference=_matching_files_kernel)


# ---- ReadFile / WriteFile ------------------------------------------------------------------------

def _path_of(value):
    value = np.asarray(value, dtype=object)
    if value.ndim != 0:
        raise errors.InvalidArgumentError(None, None, "filename must be a scalar, got shape "
                                                      f"{list(value.shape)}")
    value = value.item()
    return value.encode() if isinstance(value, str) else bytes(value)


def _read_file_kernel(ctx, inputs, attrs):
    path = _path_of(inputs[0])
    try:
        with open(path, "rb") as handle:
            return (_scalar_string(handle.read()),)
    except OSError as err:
        raise _file_error(path, err) from None


def _write_file_kernel(ctx, inputs, attrs):
    path = _path_of(inputs[0])
    contents = np.asarray(inputs[1], dtype=object).item()
    contents = contents.encode() if isinstance(contents, str) else bytes(contents)
    directory = os.path.dirname(path)
    try:
        if directory:
            os.makedirs(directory, exist_ok=True)  # TF's WriteFile creates the directory
        with open(path, "wb") as handle:
            handle.write(contents)
    except OSError as err:
        raise _file_error(path, err) from None
    return ()


register_kernel("ReadFile", reference=_read_file_kernel)
register_kernel("WriteFile", reference=_write_file_kernel)
