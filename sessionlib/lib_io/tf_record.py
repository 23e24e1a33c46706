"""TFRecord files: `TFRecordWriter`, `tf_record_iterator` and `TFRecordOptions`.

A TFRecord file is a sequence of records, each framed as TF frames it::

    uint64 length                  (little-endian)
    uint32 masked_crc32c(length)   (of the 8 length bytes)
    byte   data[length]
    uint32 masked_crc32c(data)

Event files (what `tf.summary.FileWriter` writes and TensorBoard reads) are TFRecord files of
serialized `Event` protos, so this module is the one place that knows the framing. Optional
whole-file compression (``GZIP`` or ``ZLIB``) wraps the framed stream, as in TF.

The reader checks both CRCs of every record: a flipped bit raises `DataLossError` ("corrupted
record at <offset>"), and a file cut inside a record raises `DataLossError` ("truncated record
at <offset>"), so a half-written file is never read as if it were whole. Both sides are plain
Python file I/O, streamed record by record; the CRCs run in C (``framework/crc32c.py``).
"""

import struct
import zlib

from sessionlib import errors
from sessionlib.framework import crc32c

__all__ = ["TFRecordCompressionType", "TFRecordOptions", "TFRecordWriter", "tf_record_iterator",
           "encode_record", "read_records", "read_records_with_offsets", "open_decompressed",
           "file_records_with_offsets"]

_LENGTH = struct.Struct("<Q")
_CRC = struct.Struct("<I")
_HEADER_SIZE = _LENGTH.size + _CRC.size


class TFRecordCompressionType:
    """The compression of a whole TFRecord file (TF's enum, as plain ints)."""

    NONE = 0
    ZLIB = 1
    GZIP = 2


_COMPRESSION_NAMES = {None: TFRecordCompressionType.NONE, "": TFRecordCompressionType.NONE,
                      "ZLIB": TFRecordCompressionType.ZLIB, "GZIP": TFRecordCompressionType.GZIP}


class TFRecordOptions:
    """How a TFRecord file is compressed.

    Args:
      compression_type: ``None``/``""``, ``"ZLIB"``, ``"GZIP"`` or a `TFRecordCompressionType`
        value.
      compression_level: the zlib level (0-9); None for zlib's default.
    """

    def __init__(self, compression_type=None, compression_level=None, **unused_zlib_options):
        self.compression_type = compression_type
        self.compression_level = compression_level

    @classmethod
    def get_compression_type_string(cls, options):
        """The compression as TF spells it: ``""``, ``"ZLIB"`` or ``"GZIP"``."""
        kind = _compression_kind(options)
        return {TFRecordCompressionType.NONE: "", TFRecordCompressionType.ZLIB: "ZLIB",
                TFRecordCompressionType.GZIP: "GZIP"}[kind]


def _compression_kind(options):
    if options is None:
        return TFRecordCompressionType.NONE
    if isinstance(options, TFRecordOptions):
        options = options.compression_type
    if isinstance(options, int) and options in (0, 1, 2):
        return options
    try:
        return _COMPRESSION_NAMES[options]
    except (KeyError, TypeError):
        raise ValueError(f"Unknown TFRecord compression type: {options!r}") from None


def _level(options):
    level = getattr(options, "compression_level", None)
    return -1 if level is None else int(level)


def encode_record(data):
    """One record's bytes as they lie in a file (length, its CRC, data, data CRC).

    Args:
      data: the record, bytes-like.

    Returns:
      The framed record, bytes.
    """
    data = bytes(data)
    length = _LENGTH.pack(len(data))
    return b"".join((length, _CRC.pack(crc32c.masked(length)), data,
                     _CRC.pack(crc32c.masked(data))))


class _ZlibWriter:
    """A file-like writer that deflates into a zlib stream (TF's ``ZLIB`` compression)."""

    def __init__(self, raw, level):
        self._raw = raw
        self._compressor = zlib.compressobj(level)

    def write(self, data):
        self._raw.write(self._compressor.compress(data))

    def flush(self):
        self._raw.write(self._compressor.flush(zlib.Z_SYNC_FLUSH))
        self._raw.flush()

    def close(self):
        self._raw.write(self._compressor.flush(zlib.Z_FINISH))
        self._raw.close()


class TFRecordWriter:
    """Writes records to a TFRecord file (`tf.io.TFRecordWriter`).

    Args:
      path: the file to create (truncated if it exists).
      options: a `TFRecordOptions`, a compression type string, or None.

    Raises:
      ValueError: for an unknown compression type.
      OSError: if the file cannot be opened.
    """

    def __init__(self, path, options=None):
        kind = _compression_kind(options)
        raw = open(path, "wb")
        if kind == TFRecordCompressionType.GZIP:
            import gzip  # deferred, like every use of gzip here: most files are not compressed

            level = _level(options)
            self._file = gzip.GzipFile(fileobj=raw, mode="wb",
                                       compresslevel=9 if level < 0 else level)
            self._raw = raw
        elif kind == TFRecordCompressionType.ZLIB:
            self._file = _ZlibWriter(raw, _level(options))
            self._raw = None
        else:
            self._file = raw
            self._raw = None
        self._path = path

    def write(self, record):
        """Appends one record.

        Args:
          record: bytes (a str is encoded as UTF-8).
        """
        if isinstance(record, str):
            record = record.encode("utf-8")
        self._check_open()
        self._file.write(encode_record(record))

    def flush(self):
        """Pushes the records written so far to the operating system."""
        self._check_open()
        self._file.flush()
        if self._raw is not None:
            self._raw.flush()

    def close(self):
        """Flushes and closes the file; closing twice is harmless."""
        if self._file is None:
            return
        self._file.close()
        if self._raw is not None:
            self._raw.close()
        self._file = None

    def _check_open(self):
        if self._file is None:
            raise errors.FailedPreconditionError(None, None,
                                                 f"TFRecordWriter for {self._path} is closed.")

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


def _read_exactly(stream, count):
    """Up to `count` bytes of `stream` (fewer only at its end), read in bounded chunks so that
    a corrupt length field cannot make us allocate more than the file holds."""
    chunks, left = [], count
    while left > 0:
        chunk = stream.read(min(left, _READ_CHUNK))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


_READ_CHUNK = 16 << 20


def read_records(stream, path="<stream>"):
    """Yields the records of an uncompressed TFRecord stream, checking every CRC.

    Args:
      stream: a binary file-like object positioned at a record boundary, or bytes.
      path: the file's name, for messages.

    Yields:
      Each record's data, bytes.

    Raises:
      DataLossError: at the first record whose CRC is wrong or which the data cuts short.
    """
    for _, record in read_records_with_offsets(stream, path):
        yield record


def read_records_with_offsets(stream, path="<stream>"):
    """Yields ``(offset, record)`` for the records of an uncompressed TFRecord stream.

    `offset` is where the record's frame starts in the (uncompressed) stream: the key TF's
    TFRecordReader gives a record. Every CRC is checked, as in `read_records`.

    Raises:
      DataLossError: at the first record whose CRC is wrong or which the data cuts short.
    """
    if isinstance(stream, (bytes, bytearray, memoryview)):
        import io as io_lib

        stream = io_lib.BytesIO(bytes(stream))
    offset = 0
    while True:
        header = _read_exactly(stream, _HEADER_SIZE)
        if not header:
            return
        if len(header) < _HEADER_SIZE:
            raise _data_loss("truncated", offset, path)
        length_bytes = header[:_LENGTH.size]
        (length,) = _LENGTH.unpack(length_bytes)
        (length_crc,) = _CRC.unpack_from(header, _LENGTH.size)
        if crc32c.masked(length_bytes) != length_crc:
            raise _data_loss("corrupted", offset, path)
        body = _read_exactly(stream, length + _CRC.size)
        if len(body) < length + _CRC.size:
            raise _data_loss("truncated", offset, path)
        record = body[:length]
        (data_crc,) = _CRC.unpack_from(body, length)
        if crc32c.masked(record) != data_crc:
            raise _data_loss("corrupted", offset, path)
        yield offset, record
        offset += _HEADER_SIZE + length + _CRC.size


def _data_loss(kind, offset, path):
    return errors.DataLossError(None, None, f"{kind} record at {offset} in {path}")


def tf_record_iterator(path, options=None):
    """Yields the records of a TFRecord file (`tf.compat.v1.io.tf_record_iterator`).

    Args:
      path: the file to read.
      options: the file's compression (a `TFRecordOptions`, a type string, or None).

    Yields:
      Each record, bytes.

    Raises:
      NotFoundError: if the file does not exist.
      DataLossError: for a corrupted or truncated record (or compressed stream).
    """
    for _, record in file_records_with_offsets(path, options):
        yield record


def open_decompressed(raw, options):
    """A readable binary stream of what the open file `raw` holds, decompressed as `options`
    (a `TFRecordOptions`, a compression type string or int, or None) says.

    Raises:
      ValueError: for an unknown compression type.
    """
    kind = _compression_kind(options)
    if kind == TFRecordCompressionType.GZIP:
        import gzip

        return gzip.GzipFile(fileobj=raw, mode="rb")
    if kind == TFRecordCompressionType.ZLIB:
        import io as io_lib

        return io_lib.BytesIO(zlib.decompress(raw.read()))
    return raw


def file_records_with_offsets(path, options=None):
    """Yields ``(offset, record)`` for the records of a TFRecord file (see
    `read_records_with_offsets`; offsets count uncompressed bytes).

    Raises:
      NotFoundError: if the file does not exist.
      DataLossError: for a corrupted or truncated record (or compressed stream).
    """
    _compression_kind(options)  # an unknown type fails before the file is opened
    name = path.decode("utf-8", "replace") if isinstance(path, bytes) else str(path)
    try:
        raw = open(path, "rb")
    except FileNotFoundError:
        raise errors.NotFoundError(None, None, f"{name}; No such file or directory") from None
    with raw:
        try:
            yield from read_records_with_offsets(open_decompressed(raw, options), name)
        except (OSError, EOFError, zlib.error) as error:
            raise errors.DataLossError(None, None, f"corrupted compressed data in {name}: "
                                                   f"{error}") from None
