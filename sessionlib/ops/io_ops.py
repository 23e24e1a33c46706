"""Readers (`ReaderBase`, `IdentityReader`, `TextLineReader`, `WholeFileReader`,
`TFRecordReader`, `FixedLengthRecordReader`) and whole-file ``ReadFile`` / ``WriteFile``.

A reader turns *work units* (filenames, strings dequeued from a queue) into records (key and
value strings), one record per `read`. Like queues, a reader is a resource in the session's
container: ``TextLineReaderV2`` & co. create it on first run and output its handle, and
``ReaderReadV2``, ``ReaderReadUpToV2``, ``ReaderNumRecordsProducedV2``,
``ReaderNumWorkUnitsCompletedV2``, ``ReaderResetV2``, ``ReaderSerializeStateV2`` and
``ReaderRestoreStateV2`` take the handle as input 0 (so they run on the reader's device).

This module registers those ops (signature, shape inference, kernel name) and holds the classes
users build them with. The reader resources and the reading loop live in the ``io_kernels``
family of the kernel table; this module names kernels and must never import them or the
compiled code.
"""

import collections

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework import registry
from sessionlib.framework.tensor_shape import TensorShape
from sessionlib.ops import state_ops

__all__ = ["ReaderBase", "IdentityReader", "TextLineReader", "WholeFileReader",
           "TFRecordReader", "FixedLengthRecordReader", "matching_files", "read_file",
           "write_file"]


# ---- reader creation ops --------------------------------------------------------------------

def _reader_infer(inputs, attrs):
    attrs.setdefault("container", "")
    attrs.setdefault("shared_name", "")
    return [(dtypes.resource, TensorShape([]))]


for _op_type, _doc in (("IdentityReaderV2", "A reader whose records are its work units."),
                       ("WholeFileReaderV2", "A reader of whole files."),
                       ("TextLineReaderV2", "A reader of the lines of text files."),
                       ("TFRecordReaderV2", "A reader of the records of TFRecord files."),
                       ("FixedLengthRecordReaderV2",
                        "A reader of fixed-length records of binary files.")):
    registry.register_op(_op_type, infer=_reader_infer, kernel=_op_type, num_inputs=0,
                         stateful=True, doc=_doc,
                         gradient=registry.NOT_DIFFERENTIABLE)
del _op_type, _doc


# ---- ReaderReadV2 / ReaderReadUpToV2 -----------------------------------------------------------

def _read_infer(inputs, attrs):
    if inputs[0].dtype is not dtypes.resource or inputs[1].dtype is not dtypes.resource:
        raise TypeError("ReaderReadV2 takes a reader handle and a queue handle")
    return [(dtypes.string, TensorShape([])), (dtypes.string, TensorShape([]))]


def _read_up_to_infer(inputs, attrs):
    if inputs[0].dtype is not dtypes.resource or inputs[1].dtype is not dtypes.resource:
        raise TypeError("ReaderReadUpToV2 takes a reader handle and a queue handle")
    if inputs[2].dtype not in (dtypes.int64, dtypes.int32):
        raise TypeError("num_records must be an int64 tensor")
    return [(dtypes.string, TensorShape([None])), (dtypes.string, TensorShape([None]))]


registry.register_op("ReaderReadV2", infer=_read_infer, kernel="ReaderReadV2", num_inputs=2,
                     stateful=True, doc="The next record (key, value) of a reader.",
                     gradient=registry.NOT_DIFFERENTIABLE)
registry.register_op("ReaderReadUpToV2", infer=_read_up_to_infer, kernel="ReaderReadUpToV2",
                     num_inputs=3, stateful=True, doc="Up to n records of a reader.",
                     gradient=registry.NOT_DIFFERENTIABLE)


# ---- counters and reset -----------------------------------------------------------------------

def _reader_only_infer(dtype):
    return state_ops.handle_only_infer("reader", dtype)


registry.register_op("ReaderNumRecordsProducedV2", infer=_reader_only_infer(dtypes.int64),
                     kernel="ReaderNumRecordsProducedV2", num_inputs=1, stateful=True,
                     doc="How many records a reader has produced.",
                     gradient=registry.NOT_DIFFERENTIABLE)
registry.register_op("ReaderNumWorkUnitsCompletedV2", infer=_reader_only_infer(dtypes.int64),
                     kernel="ReaderNumWorkUnitsCompletedV2", num_inputs=1, stateful=True,
                     doc="How many work units a reader has finished.",
                     gradient=registry.NOT_DIFFERENTIABLE)
registry.register_op("ReaderResetV2", infer=_reader_only_infer(None), kernel="ReaderResetV2",
                     num_inputs=1, stateful=True, doc="Restores a reader to its initial state.",
                     gradient=registry.NOT_DIFFERENTIABLE)


# ---- state serialization ---------------------------------------------------------------------

def _restore_state_infer(inputs, attrs):
    if inputs[0].dtype is not dtypes.resource:
        raise TypeError("ReaderRestoreStateV2 takes a reader handle")
    if inputs[1].dtype is not dtypes.string:
        raise TypeError(f"state must be a string tensor, not {inputs[1].dtype.name}")
    if inputs[1].shape.ndims not in (None, 0):
        raise ValueError(f"state must be a scalar, not of shape {inputs[1].shape}")
    return []


registry.register_op("ReaderSerializeStateV2", infer=_reader_only_infer(dtypes.string),
                     kernel="ReaderSerializeStateV2", num_inputs=1, stateful=True,
                     doc="A reader's state, as a serialized ReaderBaseState.",
                     gradient=registry.NOT_DIFFERENTIABLE)
registry.register_op("ReaderRestoreStateV2", infer=_restore_state_infer,
                     kernel="ReaderRestoreStateV2", num_inputs=2, stateful=True,
                     doc="Restores a reader's state from ReaderSerializeStateV2's output.",
                     gradient=registry.NOT_DIFFERENTIABLE)


# ---- MatchingFiles ----------------------------------------------------------------------------

def _matching_files_infer(inputs, attrs):
    pattern = inputs[0]
    if pattern.dtype is not dtypes.string:
        raise TypeError(f"MatchingFiles takes string patterns, not {pattern.dtype.name}")
    if pattern.shape.ndims not in (None, 0, 1):
        raise ValueError(f"pattern must be a scalar or a vector, not of shape {pattern.shape}")
    return [(dtypes.string, TensorShape([None]))]


# Stateful: the files on disk change between runs, so its output must never be folded or cached.
registry.register_op("MatchingFiles", infer=_matching_files_infer, kernel="MatchingFiles",
                     num_inputs=1, stateful=True,
                     doc="The sorted names of the files matching one or more glob patterns.",
                     gradient=registry.NOT_DIFFERENTIABLE)


def matching_files(pattern, name=None):
    """``tf.io.matching_files``: the files matching glob `pattern`, sorted, when run.

    Args:
      pattern: a scalar or 1-D string tensor (or str / list of str) of glob patterns.
      name: the op name.

    Returns:
      A 1-D string tensor; empty when nothing matches.
    """
    graph = graph_lib.get_default_graph()
    with graph.name_scope(name or "MatchingFiles") as scope:
        pattern = graph_lib.convert_to_tensor(pattern, dtype=dtypes.string, name="pattern")
        return graph.create_op("MatchingFiles", [pattern], {}, name=scope).outputs[0]


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


class TFRecordReader(ReaderBase):
    """A reader of the records of TFRecord files; a record's key is ``b'<file>:<offset>'``,
    the offset of its frame in the (uncompressed) file.

    Args:
      name: the reader op's name.
      options: the files' compression: a `TFRecordOptions`, ``"GZIP"``, ``"ZLIB"`` or None.
    """

    def __init__(self, name=None, options=None):
        from sessionlib.lib_io.tf_record import TFRecordOptions

        compression = TFRecordOptions.get_compression_type_string(options)
        super().__init__(_create_reader("TFRecordReaderV2",
                                        {"compression_type": compression}, name))


class FixedLengthRecordReader(ReaderBase):
    """A reader of fixed-length records: after `header_bytes`, a record of `record_bytes`
    every `hop_bytes` (default: `record_bytes`) while one fits before the `footer_bytes`.
    A record's key is ``b'<file>:<record number>'``, counting from 0.

    Args:
      record_bytes: the length of a record.
      header_bytes: bytes to skip at the start of each file.
      footer_bytes: bytes to ignore at the end of each file.
      hop_bytes: the distance between the starts of records (0 or None: `record_bytes`).
      name: the reader op's name.
      encoding: ``"ZLIB"`` or ``"GZIP"`` for compressed files, else None or ``""``.

    Raises:
      ValueError: for a record length below 1 or a negative count of bytes.
    """

    def __init__(self, record_bytes, header_bytes=None, footer_bytes=None, hop_bytes=None,
                 name=None, encoding=None):
        attrs = {"record_bytes": int(record_bytes), "header_bytes": int(header_bytes or 0),
                 "footer_bytes": int(footer_bytes or 0), "hop_bytes": int(hop_bytes or 0),
                 "encoding": encoding or ""}
        if attrs["record_bytes"] < 1:
            raise ValueError(f"record_bytes must be positive, got {record_bytes}")
        if min(attrs["header_bytes"], attrs["footer_bytes"], attrs["hop_bytes"]) < 0:
            raise ValueError("header_bytes, footer_bytes and hop_bytes must not be negative")
        if attrs["encoding"] not in ("", "ZLIB", "GZIP"):
            raise ValueError(f"Unknown encoding {encoding!r}: use '', 'ZLIB' or 'GZIP'")
        super().__init__(_create_reader("FixedLengthRecordReaderV2", attrs, name))


# ---- ReadFile / WriteFile ---------------------------------------------------------------------

def _read_file_infer(inputs, attrs):
    if inputs[0].dtype is not dtypes.string:
        raise TypeError(f"ReadFile takes a string filename, not {inputs[0].dtype.name}")
    if inputs[0].shape.ndims not in (None, 0):
        raise ValueError(f"filename must be a scalar, not of shape {inputs[0].shape}")
    return [(dtypes.string, TensorShape([]))]


def _write_file_infer(inputs, attrs):
    for tensor, what in zip(inputs, ("filename", "contents")):
        if tensor.dtype is not dtypes.string:
            raise TypeError(f"WriteFile takes a string {what}, not {tensor.dtype.name}")
        if tensor.shape.ndims not in (None, 0):
            raise ValueError(f"{what} must be a scalar, not of shape {tensor.shape}")
    return []


# Both stateful: a file's contents change between runs, so neither may be folded or cached.
registry.register_op("ReadFile", infer=_read_file_infer, kernel="ReadFile", num_inputs=1,
                     stateful=True, doc="The whole contents of a file.",
                     gradient=registry.NOT_DIFFERENTIABLE)
registry.register_op("WriteFile", infer=_write_file_infer, kernel="WriteFile", num_inputs=2,
                     stateful=True, doc="Writes a string to a file (creating its directory).",
                     gradient=registry.NOT_DIFFERENTIABLE)


def read_file(filename, name=None):
    """``tf.io.read_file``: the contents of the file `filename`, when run.

    Args:
      filename: a scalar string tensor (or str).
      name: the op name.

    Returns:
      A scalar string tensor. Running it raises NotFoundError for a missing file.
    """
    graph = graph_lib.get_default_graph()
    with graph.name_scope(name or "ReadFile") as scope:
        filename = graph_lib.convert_to_tensor(filename, dtype=dtypes.string, name="filename")
        return graph.create_op("ReadFile", [filename], {}, name=scope).outputs[0]


def write_file(filename, contents, name=None):
    """``tf.io.write_file``: an op writing `contents` to `filename` (its directory is
    created if needed, the file replaced).

    Args:
      filename: a scalar string tensor (or str).
      contents: a scalar string tensor (or bytes).
      name: the op name.

    Returns:
      The op.
    """
    graph = graph_lib.get_default_graph()
    with graph.name_scope(name or "WriteFile") as scope:
        filename = graph_lib.convert_to_tensor(filename, dtype=dtypes.string, name="filename")
        contents = graph_lib.convert_to_tensor(contents, dtype=dtypes.string, name="contents")
        return graph.create_op("WriteFile", [filename, contents], {}, name=scope)
