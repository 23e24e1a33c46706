"""TF's V2 checkpoint format (the *tensor bundle*): writing, reading and merging checkpoints.

A checkpoint with prefix ``P`` is two kinds of files:

* ``P.data-0000i-of-0000N``: the tensors' bytes, one after another. Numbers are raw
  little-endian arrays in C order; a string tensor is the varint64 length of each element,
  a 4-byte masked CRC32C of those lengths, then the elements' bytes.
* ``P.index``: an SSTable in the format of TF's ``tensorflow/core/lib/io/table`` (LevelDB's):
  data blocks of prefix-compressed ``(key, value)`` records with a restart point every 16
  records, a metaindex block (empty), an index block mapping the last key of each data block
  to its ``BlockHandle``, and a 48-byte footer ending in the table magic number. Every block is
  followed by a compression byte (0, none) and the masked CRC32C of block and byte. The key
  ``""`` holds a ``BundleHeaderProto``; every other key is a tensor name whose value is a
  ``BundleEntryProto`` (dtype, shape, shard, offset, size and masked CRC32C of the bytes).

Both sides are checked against TensorFlow 2.21: TF reads what `BundleWriter` writes and
`BundleReader` reads what TF writes (``tests/data/tf_checkpoint``).

Why here. Both sides need the format: the ``SaveV2``/``RestoreV2`` kernels, which run in
the runtime (inside device workers, which import the runtime and the framework), and the
client-side utilities of ``tf.train`` (`load_checkpoint`, `list_variables`), which may not
import the runtime. The framework is the layer both import; this module is plain file I/O and
knows nothing of graphs or execution.

Faults. A writer writes to temporary files and renames them into place when finished, data
first and index last, so an index exists only for a complete checkpoint and a crash mid-save
leaves no checkpoint that claims to be whole. A reader checks every block's and every tensor's
CRC32C and every length, and reports any mismatch, truncation or malformed record as
`DataLossError`.

CRC32C comes from ``google-crc32c`` (Google's maintained C implementation, using the CPU's
CRC instructions, with a pure-Python fallback).
"""

import io
import os
import struct
import threading
import uuid

import google_crc32c
import numpy as np
from google.protobuf.message import DecodeError

from sessionlib import dtypes, errors
from sessionlib.framework import crc32c
from sessionlib.protos import tensor_bundle_pb2

__all__ = ["BundleWriter", "BundleReader", "merge_bundles", "data_filename", "index_filename",
           "masked_crc32c", "unmask_crc32c", "bundle_exists"]

# TF's kTensorBundleVersion / kTensorBundleMinConsumer.
_BUNDLE_VERSION = 1
_TABLE_MAGIC = 0xdb4775248b80fb57
_FOOTER_SIZE = 48
_BLOCK_TRAILER_SIZE = 5
_RESTART_INTERVAL = 16
# TF's table::Options default; a block is closed once it reaches this size.
_BLOCK_SIZE = 256 * 1024
_HEADER_KEY = b""
_CRC_CHUNK = 1 << 20

# ---- checksums and varints ------------------------------------------------------------------

# The masked checksum as TF stores it (a checksum of data holding checksums stays
# meaningful), and its inverse.
masked_crc32c = crc32c.masked
unmask_crc32c = crc32c.unmask


def _crc32c(data, out=None):
    """The plain CRC32C of a buffer (a numpy array, a memoryview); with `out`, also writes it.

    google-crc32c takes only immutable buffers (bytes); 1 MiB copies keep the extra cost small
    (~12 ms per 100 MB) where one `bytes(...)` of a large tensor would double its memory.
    Writing each chunk right after checksumming it writes from the cache.
    """
    view = memoryview(data).cast("B")
    crc = 0
    for start in range(0, view.nbytes, _CRC_CHUNK):
        chunk = bytes(view[start:start + _CRC_CHUNK])
        crc = google_crc32c.extend(crc, chunk)
        if out is not None:
            out.write(chunk)
    return crc


def _varint(value):
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7f) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _read_varint(buffer, pos, limit, what):
    result = shift = 0
    while True:
        if pos >= limit or shift > 63:
            raise _data_loss(f"bad varint in {what}")
        byte = buffer[pos]
        pos += 1
        result |= (byte & 0x7f) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _truncated(name, entry):
    return _data_loss(f"truncated checkpoint data file: tensor {name} needs bytes "
                      f"[{entry.offset}, {entry.offset + entry.size})")


def _data_loss(message):
    return errors.DataLossError(None, None, message)


# ---- file names -----------------------------------------------------------------------------

def data_filename(prefix, shard_id, num_shards):
    """``<prefix>.data-<shard>-of-<num_shards>``, five digits each, as TF names shards."""
    return f"{prefix}.data-{shard_id:05d}-of-{num_shards:05d}"


def index_filename(prefix):
    """``<prefix>.index``."""
    return f"{prefix}.index"


def bundle_exists(prefix):
    """Whether a V2 checkpoint with this prefix exists (its index file does)."""
    return os.path.isfile(index_filename(prefix))


def _install(moves):
    """Renames each ``(temp, final)`` pair into place, the last one (the index) last.

    Overwriting a checkpoint: the old index is moved aside first, so that from then on the old
    checkpoint no longer claims to exist, then every old file is moved aside and the new ones
    are renamed in. The old files are deleted on a background thread: freeing a large file's
    blocks takes tens of milliseconds per 100 MB (on ext4, more when a rename replaces it),
    which need not hold up the step.
    """
    index_final = moves[-1][1]
    trash = []
    for final in [index_final] + [final for _, final in moves[:-1]]:
        if os.path.exists(final):
            aside = _temp_name(final) + ".old"
            os.rename(final, aside)
            trash.append(aside)
    for temp, final in moves:
        os.rename(temp, final)
    if trash:
        _delete_later(trash)


def _delete_later(paths):
    def delete():
        for path in paths:
            try:
                os.remove(path)
            except OSError:
                pass
    # Not a daemon: the interpreter waits for it at exit, so no old file is left behind.
    threading.Thread(target=delete, name="checkpoint-cleanup").start()


def _temp_name(path):
    # TF's ".tempstate<random>" suffix: unique per writer, ignored by readers.
    return f"{path}.tempstate{uuid.uuid4().int & ((1 << 63) - 1)}"


# ---- the table (SSTable) format -------------------------------------------------------------

class _BlockBuilder:
    """Builds one table block: prefix-compressed records plus the restart array."""

    def __init__(self):
        self.buffer = bytearray()
        self.restarts = [0]
        self.counter = 0
        self.last_key = b""

    def add(self, key, value):
        shared = 0
        if self.counter < _RESTART_INTERVAL:
            limit = min(len(key), len(self.last_key))
            while shared < limit and key[shared] == self.last_key[shared]:
                shared += 1
        else:
            # A restart point stores its key whole, so a reader can binary-search to it.
            self.restarts.append(len(self.buffer))
            self.counter = 0
        self.buffer += _varint(shared) + _varint(len(key) - shared) + _varint(len(value))
        self.buffer += key[shared:]
        self.buffer += value
        self.last_key = key
        self.counter += 1

    def size(self):
        return len(self.buffer) + 4 * len(self.restarts) + 4

    def empty(self):
        return not self.buffer

    def finish(self):
        restarts = struct.pack(f"<{len(self.restarts)}I", *self.restarts)
        return bytes(self.buffer) + restarts + struct.pack("<I", len(self.restarts))


def _write_block(out, contents, offset):
    """Writes a block and its trailer at `offset`; returns (handle bytes, new offset)."""
    trailer_type = b"\x00"
    crc = crc32c.mask(google_crc32c.extend(google_crc32c.value(contents), trailer_type))
    out.write(contents)
    out.write(trailer_type + struct.pack("<I", crc))
    handle = _varint(offset) + _varint(len(contents))
    return handle, offset + len(contents) + _BLOCK_TRAILER_SIZE


def build_table(items):
    """Serialises sorted ``(key, value)`` pairs as a TF table (the ``.index`` file's bytes).

    Args:
      items: ``(bytes, bytes)`` pairs with strictly increasing keys.

    Returns:
      The table's bytes.
    """
    out = io.BytesIO()
    offset = 0
    index = _BlockBuilder()
    block = _BlockBuilder()
    previous = None
    for key, value in items:
        if previous is not None and key <= previous:
            raise ValueError(f"table keys must increase: {previous!r} then {key!r}")
        previous = key
        block.add(key, value)
        if block.size() >= _BLOCK_SIZE:
            handle, offset = _write_block(out, block.finish(), offset)
            # Any key >= the block's last key and < the next block's first works as the
            # separator; the last key itself is the simplest.
            index.add(block.last_key, handle)
            block = _BlockBuilder()
    if not block.empty():
        handle, offset = _write_block(out, block.finish(), offset)
        index.add(block.last_key, handle)
    metaindex_handle, offset = _write_block(out, _BlockBuilder().finish(), offset)
    index_handle, offset = _write_block(out, index.finish(), offset)
    footer = metaindex_handle + index_handle
    footer += b"\x00" * (_FOOTER_SIZE - 8 - len(footer))
    out.write(footer + struct.pack("<Q", _TABLE_MAGIC))
    return out.getvalue()


def _block_items(contents, what):
    """Yields the ``(key, value)`` records of a block's contents."""
    if len(contents) < 4:
        raise _data_loss(f"bad block contents in {what}")
    (num_restarts,) = struct.unpack_from("<I", contents, len(contents) - 4)
    limit = len(contents) - 4 - 4 * num_restarts
    if num_restarts < 1 or limit < 0:
        raise _data_loss(f"bad block contents in {what}")
    pos = 0
    key = b""
    while pos < limit:
        shared, pos = _read_varint(contents, pos, limit, what)
        unshared, pos = _read_varint(contents, pos, limit, what)
        value_length, pos = _read_varint(contents, pos, limit, what)
        if shared > len(key) or pos + unshared + value_length > limit:
            raise _data_loss(f"corrupted block entry in {what}")
        key = key[:shared] + bytes(contents[pos:pos + unshared])
        pos += unshared
        yield key, bytes(contents[pos:pos + value_length])
        pos += value_length


def parse_table(table, what="table"):
    """Parses a TF table's bytes into its ``(key, value)`` records, verifying every checksum.

    Args:
      table: the file's bytes.
      what: the file's name, for messages.

    Returns:
      A list of ``(key, value)`` byte pairs in key order.

    Raises:
      DataLossError: if the table is truncated, corrupt, or not a table.
    """
    if len(table) < _FOOTER_SIZE:
        raise _data_loss(f"file is too short to be an sstable: {what}")
    footer = table[len(table) - _FOOTER_SIZE:]
    (magic,) = struct.unpack_from("<Q", footer, _FOOTER_SIZE - 8)
    if magic != _TABLE_MAGIC:
        raise _data_loss(f"not an sstable (bad magic number): {what}")
    pos = 0
    _, pos = _read_varint(footer, pos, 40, what)          # metaindex offset
    _, pos = _read_varint(footer, pos, 40, what)          # metaindex size
    index_start = pos
    _, pos = _read_varint(footer, pos, 40, what)
    _, pos = _read_varint(footer, pos, 40, what)
    body = table[:len(table) - _FOOTER_SIZE]
    index = _read_block_in(body, footer[index_start:pos], what)
    items = []
    previous = None
    for _, handle in _block_items(index, what):
        for key, value in _block_items(_read_block_in(body, handle, what), what):
            if previous is not None and key <= previous:
                raise _data_loss(f"keys out of order in {what}")
            previous = key
            items.append((key, value))
    return items


def _read_block_in(body, handle_bytes, what):
    """Returns the contents of the block `handle_bytes` points to, its checksum verified."""
    offset, pos = _read_varint(handle_bytes, 0, len(handle_bytes), what)
    size, pos = _read_varint(handle_bytes, pos, len(handle_bytes), what)
    end = offset + size
    if end + _BLOCK_TRAILER_SIZE > len(body):
        raise _data_loss(f"truncated block read in {what}")
    contents = body[offset:end]
    trailer_type = body[end:end + 1]
    (stored,) = struct.unpack_from("<I", body, end + 1)
    if stored != crc32c.mask(google_crc32c.extend(google_crc32c.value(contents), trailer_type)):
        raise _data_loss(f"block checksum mismatch in {what}")
    if trailer_type != b"\x00":
        raise _data_loss(f"unsupported block compression type {trailer_type[0]} in {what}")
    return contents


# ---- tensors --------------------------------------------------------------------------------

def _numpy_dtype(dtype):
    """The little-endian numpy dtype of a sessionlib DType."""
    return np.dtype(dtype.as_numpy_dtype).newbyteorder("<")


def _encode_strings(flat):
    """TF's string tensor bytes: varint lengths, masked CRC32C of the lengths, the bytes.

    Returns (chunks, crc) with crc the plain CRC32C of all the chunks.
    """
    items = [item.encode() if isinstance(item, str) else bytes(item) for item in flat]
    lengths = b"".join(_varint(len(item)) for item in items)
    # The checksum covers each length as a fixed-width integer (uint32 when it fits).
    fixed = b"".join(struct.pack("<I", len(item)) if len(item) < 1 << 32
                     else struct.pack("<Q", len(item)) for item in items)
    crc = google_crc32c.value(fixed)
    checksum = struct.pack("<I", crc32c.mask(crc))
    crc = google_crc32c.extend(crc, checksum)
    body = b"".join(items)
    crc = google_crc32c.extend(crc, body)
    return [lengths, checksum, body], crc


def _decode_strings(buffer, count, name, expected_crc):
    pos = 0
    lengths = []
    crc = 0
    for _ in range(count):
        length, pos = _read_varint(buffer, pos, len(buffer), f"string tensor {name}")
        lengths.append(length)
        crc = google_crc32c.extend(crc, struct.pack("<I", length) if length < 1 << 32
                                   else struct.pack("<Q", length))
    if pos + 4 > len(buffer):
        raise _data_loss(f"truncated string tensor {name}")
    (stored,) = struct.unpack_from("<I", buffer, pos)
    if stored != crc32c.mask(crc):
        raise _data_loss(f"checksum mismatch in the lengths of string tensor {name}")
    pos += 4
    if pos + sum(lengths) != len(buffer):
        raise _data_loss(f"string tensor {name} has {len(buffer)} bytes, its lengths say "
                         f"{pos + sum(lengths)}")
    crc = google_crc32c.extend(crc, bytes(buffer[pos - 4:pos]))
    crc = google_crc32c.extend(crc, bytes(buffer[pos:]))
    if crc32c.mask(crc) != expected_crc:
        raise _data_loss(f"Checksum does not match: tensor {name} is corrupt")
    out = np.empty(count, dtype=object)
    for i, length in enumerate(lengths):
        out[i] = bytes(buffer[pos:pos + length])
        pos += length
    return out


def _shape_proto(shape, proto):
    for size in shape:
        proto.dim.add().size = int(size)


class BundleWriter:
    """Writes one V2 checkpoint (a bundle with one data shard).

    Tensors go to a temporary data file as they are added; `finish` writes the index and
    renames both into place (data first, index last). A sharded save writes one bundle per
    device and joins them with `merge_bundles`.

    Args:
      prefix: the checkpoint prefix; its directory is created if missing.
    """

    def __init__(self, prefix):
        self.prefix = os.fspath(prefix)
        directory = os.path.dirname(self.prefix)
        if directory:
            os.makedirs(directory, exist_ok=True)
        self._data_path = data_filename(self.prefix, 0, 1)
        self._data_temp = _temp_name(self._data_path)
        self._index_temp = None
        self._file = open(self._data_temp, "wb")
        self._entries = {}
        self._offset = 0

    def add(self, name, value, dtype=None):
        """Appends one tensor.

        Args:
          name: the tensor's name in the checkpoint (str).
          value: a numpy array (or scalar); strings as an object array of bytes or str.
          dtype: the sessionlib DType to record; by default inferred from `value`.

        Raises:
          InvalidArgumentError: on a duplicate name or an unsupported dtype.
        """
        key = name.encode() if isinstance(name, str) else bytes(name)
        if key in self._entries or not key:
            raise errors.InvalidArgumentError(None, None, f"Adding duplicate key: {name}")
        if dtype is None:
            array = np.asarray(value)
            dtype = (dtypes.string if array.dtype.kind in "OSU"
                     else dtypes.as_dtype(array.dtype))
        if dtype == dtypes.resource:
            raise errors.InvalidArgumentError(
                None, None, f"Cannot save {name}: a resource handle is not a tensor value")
        entry = tensor_bundle_pb2.BundleEntryProto()
        entry.dtype = dtype.as_datatype_enum
        entry.offset = self._offset
        if dtype == dtypes.string:
            array = np.asarray(value, dtype=object)
            chunks, crc = _encode_strings(array.reshape(-1))
            size = 0
            for chunk in chunks:
                self._file.write(chunk)
                size += len(chunk)
        else:
            array = np.asarray(value, dtype=_numpy_dtype(dtype), order="C")
            data = memoryview(array.reshape(-1)).cast("B")
            crc = _crc32c(data, self._file)
            size = data.nbytes
        entry.shape.SetInParent()
        _shape_proto(array.shape, entry.shape)
        entry.size = size
        entry.crc32c = crc32c.mask(crc)
        self._offset += size
        self._entries[key] = entry

    def finish(self):
        """Writes the index and renames the files into place.

        Returns:
          The prefix.
        """
        try:
            self._file.close()
            header = tensor_bundle_pb2.BundleHeaderProto(num_shards=1)
            header.version.producer = _BUNDLE_VERSION
            items = [(_HEADER_KEY, header.SerializeToString())]
            items += [(key, self._entries[key].SerializeToString())
                      for key in sorted(self._entries)]
            index_path = index_filename(self.prefix)
            self._index_temp = _temp_name(index_path)
            with open(self._index_temp, "wb") as out:
                out.write(build_table(items))
            _install([(self._data_temp, self._data_path), (self._index_temp, index_path)])
        except BaseException:
            self.abort()
            raise
        return self.prefix

    def abort(self):
        """Closes and deletes the temporary files; nothing of this save remains."""
        self._file.close()
        for path in (self._data_temp, self._index_temp):
            if path is not None:
                try:
                    os.remove(path)
                except FileNotFoundError:
                    pass

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.finish()
        else:
            self.abort()


class BundleReader:
    """Reads a V2 checkpoint: its entries, and tensors by name, all checksums verified.

    Args:
      prefix: the checkpoint prefix (``<prefix>.index`` must exist).

    Raises:
      NotFoundError: if the index file does not exist.
      DataLossError: if it is truncated or corrupt.
    """

    def __init__(self, prefix):
        self.prefix = os.fspath(prefix)
        path = index_filename(self.prefix)
        try:
            with open(path, "rb") as index_file:
                table = index_file.read()
        except FileNotFoundError:
            raise errors.NotFoundError(
                None, None, f"Unsuccessful TensorSliceReader constructor: Failed to find any "
                f"matching files for {self.prefix}") from None
        items = parse_table(table, path)
        if not items or items[0][0] != _HEADER_KEY:
            raise _data_loss(f"checkpoint index {path} has no header")
        try:
            self.header = tensor_bundle_pb2.BundleHeaderProto.FromString(items[0][1])
            self.entries = {key.decode("utf-8", "surrogateescape"):
                            tensor_bundle_pb2.BundleEntryProto.FromString(value)
                            for key, value in items[1:]}
        except DecodeError as error:
            raise _data_loss(f"malformed record in checkpoint index {path}: {error}") from None
        if self.header.endianness != tensor_bundle_pb2.BundleHeaderProto.LITTLE:
            raise errors.UnimplementedError(None, None,
                                            "Reading big-endian checkpoints is not supported")
        if self.header.num_shards < 1:
            raise _data_loss(f"checkpoint index {path} says it has "
                             f"{self.header.num_shards} shards")
        self._files = {}

    def names(self):
        """The tensor names, sorted."""
        return sorted(self.entries)

    def has_tensor(self, name):
        """Whether the checkpoint holds a tensor of that name."""
        return name in self.entries

    def entry(self, name):
        """The `BundleEntryProto` of `name`.

        Raises:
          NotFoundError: naming the tensor if the checkpoint lacks it.
        """
        try:
            return self.entries[name]
        except KeyError:
            raise errors.NotFoundError(
                None, None, f"Key {name} not found in checkpoint") from None

    def dtype(self, name):
        """The sessionlib DType of tensor `name`."""
        return dtypes.as_dtype(self.entry(name).dtype)

    def shape(self, name):
        """The shape of tensor `name`, a list of ints."""
        return [dim.size for dim in self.entry(name).shape.dim]

    def _data_file(self, shard_id):
        handle = self._files.get(shard_id)
        if handle is None:
            path = data_filename(self.prefix, shard_id, self.header.num_shards)
            try:
                handle = open(path, "rb")
            except FileNotFoundError:
                raise _data_loss(f"checkpoint data file {path} is missing") from None
            self._files[shard_id] = handle
        return handle

    def read(self, name):
        """Reads tensor `name`.

        Returns:
          A numpy array (an object array of bytes for strings).

        Raises:
          NotFoundError: if the checkpoint lacks it.
          DataLossError: if its bytes are truncated or fail their checksum.
        """
        entry = self.entry(name)
        if entry.slices:
            raise errors.UnimplementedError(
                None, None, f"Tensor {name} is saved in slices, which is not supported")
        if not 0 <= entry.shard_id < self.header.num_shards:
            raise _data_loss(f"tensor {name} names shard {entry.shard_id} of "
                             f"{self.header.num_shards}")
        shape = tuple(dim.size for dim in entry.shape.dim)
        try:
            dtype = dtypes.as_dtype(entry.dtype)
        except (TypeError, ValueError, KeyError):
            raise _data_loss(f"tensor {name} has unknown dtype {entry.dtype}") from None
        count = int(np.prod(shape, dtype=np.int64))
        if dtype != dtypes.string and entry.size != count * _numpy_dtype(dtype).itemsize:
            raise _data_loss(f"tensor {name} of shape {list(shape)} has {entry.size} bytes")
        data_file = self._data_file(entry.shard_id)
        data_file.seek(entry.offset)
        if dtype == dtypes.string:
            buffer = data_file.read(entry.size)
            if len(buffer) != entry.size:
                raise _truncated(name, entry)
            # The checksum of a string tensor covers fixed-width lengths, not the varints.
            return _decode_strings(buffer, count, name, entry.crc32c).reshape(shape)
        # Read in chunks and checksum each while it is in the cache, then copy it into place.
        buffer = np.empty(entry.size, dtype=np.uint8)
        crc = 0
        for start in range(0, entry.size, _CRC_CHUNK):
            chunk = data_file.read(min(_CRC_CHUNK, entry.size - start))
            if len(chunk) != min(_CRC_CHUNK, entry.size - start):
                raise _truncated(name, entry)
            crc = google_crc32c.extend(crc, chunk)
            buffer[start:start + len(chunk)] = np.frombuffer(chunk, dtype=np.uint8)
        if crc32c.mask(crc) != entry.crc32c:
            raise _data_loss(f"Checksum does not match: tensor {name} is corrupt")
        array = buffer.view(_numpy_dtype(dtype)).reshape(shape)
        return array.astype(dtype.as_numpy_dtype, copy=False)

    def close(self):
        """Closes the data files."""
        for handle in self._files.values():
            handle.close()
        self._files.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass


def merge_bundles(prefixes, destination, delete_old=True):
    """Joins single-shard bundles into one checkpoint with one data shard per source.

    TF's ``MergeV2Checkpoints``: the data files are renamed to
    ``<destination>.data-0000i-of-0000N`` and one index lists every tensor; it is written last,
    through a temporary file, so the merged checkpoint appears whole or not at all.

    Args:
      prefixes: the source prefixes (each a finished bundle).
      destination: the merged checkpoint's prefix.
      delete_old: remove the sources' index files and empty directories afterwards.

    Returns:
      The destination prefix.

    Raises:
      InvalidArgumentError: if two sources hold the same tensor name.
    """
    destination = os.fspath(destination)
    num_shards = len(prefixes)
    merged = {}
    for shard_id, prefix in enumerate(prefixes):
        reader = BundleReader(prefix)
        if reader.header.num_shards != 1:
            raise errors.InvalidArgumentError(None, None,
                                              f"{prefix} is not a single-shard checkpoint")
        for name, entry in reader.entries.items():
            if name in merged:
                raise errors.InvalidArgumentError(None, None,
                                                  f"Duplicate tensor name in the shards: {name}")
            entry.shard_id = shard_id
            merged[name] = entry
    directory = os.path.dirname(destination)
    if directory:
        os.makedirs(directory, exist_ok=True)
    header = tensor_bundle_pb2.BundleHeaderProto(num_shards=num_shards)
    header.version.producer = _BUNDLE_VERSION
    items = [(_HEADER_KEY, header.SerializeToString())]
    items += [(name.encode("utf-8", "surrogateescape"), merged[name].SerializeToString())
              for name in sorted(merged)]
    index_path = index_filename(destination)
    temp = _temp_name(index_path)
    with open(temp, "wb") as out:
        out.write(build_table(sorted(items)))
    _install([(data_filename(prefix, 0, 1), data_filename(destination, shard_id, num_shards))
              for shard_id, prefix in enumerate(prefixes)] + [(temp, index_path)])
    if delete_old:
        for prefix in prefixes:
            for path in (index_filename(prefix),):
                try:
                    os.remove(path)
                except FileNotFoundError:
                    pass
            try:
                os.rmdir(os.path.dirname(prefix))
            except OSError:
                pass
    return destination
