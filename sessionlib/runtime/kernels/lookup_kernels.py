"""Kernels of the lookup-table ops (``tf.lookup``): hash tables as session resources.

Design. A table is a resource in the session's container (``ctx.resources``), like a queue: the
table op (``HashTableV2`` / ``MutableHashTableV2``) creates it on first run and outputs its
handle, and the init, find, size, export, insert and remove ops take that handle as input 0, so
placement runs them where the table lives (a device worker when there is one). The table is a
Python dict from normalised keys (``bytes`` for strings, ``int`` for integers) to numpy
scalars, kept in insertion order; a static table refuses lookups until initialised, with TF's
"Table not initialized." error, and keeps its first contents when initialised again.

The graph side (``ops/lookup_ops.py``) composes TF's out-of-vocabulary buckets from these ops
and ``StringToHashBucketFast``, as TF does; nothing here hashes.
"""

import threading

import numpy as np

from sessionlib import dtypes, errors
from sessionlib.runtime.kernel_table import register_kernel
from sessionlib.runtime.kernels.state_kernels import (display_name, handle_key, make_handle,
                                                      resource_key)

__all__ = ["TableResource"]

# TF's special column indices of a vocabulary file (``tf.lookup.TextFileIndex``).
_WHOLE_LINE = -2
_LINE_NUMBER = -1


class TableResource:
    """A hash table's state inside a `ResourceContainer`.

    Attributes:
      container, name: the TF container and shared name (for `Session.reset(containers)`).
      key_dtype, value_dtype: the `DType`s of keys and values.
      mutable: whether inserts and removes are allowed (``MutableHashTable``).
      reserved_keys: keys a ``DenseHashTable`` refuses (its empty and deleted keys), as a
        dict from normalised key to its role.
      entries: dict from normalised key to value, or None while a static table is empty.
      lock: serialises initialisation, updates and reads.
    """

    __slots__ = ("container", "name", "key_dtype", "value_dtype", "mutable", "reserved_keys",
                 "entries", "lock")

    def __init__(self, container, name, key_dtype, value_dtype, mutable, reserved_keys=None):
        self.container = container
        self.name = name
        self.key_dtype = key_dtype
        self.value_dtype = value_dtype
        self.mutable = mutable
        self.reserved_keys = reserved_keys or {}
        self.entries = {} if mutable else None
        self.lock = threading.Lock()


def _normalise_key(key, dtype):
    if dtype is dtypes.string:
        return key.encode("utf-8") if isinstance(key, str) else bytes(key)
    return int(key)


def _key_text(key):
    return key.decode("utf-8", "replace") if isinstance(key, bytes) else str(key)


def _value_text(value):
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value.item() if hasattr(value, "item") else value)


def _lookup_table(ctx, handle):
    key = handle_key(handle)
    table = ctx.resources.lookup(key)
    if not isinstance(table, TableResource):
        raise errors.NotFoundError(None, None,
                                   f"Resource localhost/{display_name(key)} does not exist.")
    return table


def _reserved_keys(inputs, key_dtype):
    """The empty and deleted keys of a ``MutableDenseHashTableV2`` (inputs 0 and 1)."""
    reserved = []
    for value in inputs:
        value = np.asarray(value)
        if value.size != 1:
            raise errors.InvalidArgumentError(None, None,
                                              "Empty and deleted keys must be scalars")
        reserved.append(_normalise_key(value.reshape(-1).tolist()[0], key_dtype))
    if reserved[0] == reserved[1]:
        raise errors.InvalidArgumentError(
            None, None, "Empty and deleted keys must have different values")
    return {reserved[0]: "empty_key", reserved[1]: "deleted_key"}


def _check_not_reserved(table, keys):
    """TF's error for a DenseHashTable key equal to its empty or deleted key."""
    for key in table.reserved_keys:
        if key in keys:
            raise errors.InvalidArgumentError(
                None, None,
                f"Using the {table.reserved_keys[key]} as a table key is not allowed")


def _table_kernel(mutable):
    def kernel(ctx, inputs, attrs):
        # Without a shared name, each session gets one table per op, like TF's per-kernel name.
        name = attrs.get("shared_name") or attrs["_name"]
        container = attrs.get("container", "")
        key = resource_key("table", container, name)
        key_dtype, value_dtype = attrs["key_dtype"], attrs["value_dtype"]
        reserved = _reserved_keys(inputs, key_dtype) if inputs else None
        table = ctx.resources.get_or_create(
            key, lambda: TableResource(container, name, key_dtype, value_dtype, mutable,
                                       reserved))
        if (table.key_dtype is not key_dtype or table.value_dtype is not value_dtype
                or table.mutable != mutable):
            raise errors.InvalidArgumentError(
                None, None,
                f"Shared table '{name}' has different key/value types than requested by "
                f"{attrs['_name']}")
        return (make_handle(key),)

    return kernel


def _check_types(table, key_dtype, value_dtype):
    if table.key_dtype is not key_dtype or table.value_dtype is not value_dtype:
        raise errors.InvalidArgumentError(
            None, None,
            f"Conflicting key/value types: expected {table.key_dtype.name}-"
            f"{table.value_dtype.name}, got {key_dtype.name}-{value_dtype.name}")


def _pairs(keys, values, key_dtype):
    """The (normalised key, value) pairs of two arrays; keys must shape the values' front."""
    keys = np.asarray(keys)
    values = np.asarray(values)
    if keys.shape != values.shape:
        raise errors.InvalidArgumentError(
            None, None, f"Expected shape {list(keys.shape)} for value, got "
                        f"{list(values.shape)}")
    return zip((_normalise_key(key, key_dtype) for key in keys.reshape(-1).tolist()),
               values.reshape(-1))


def _build_entries(pairs):
    """A dict of `pairs` with TF's check against one key mapped to two values."""
    entries = {}
    for key, value in pairs:
        found = entries.get(key, entries)
        if found is entries:
            entries[key] = value
        elif found != value:
            raise errors.FailedPreconditionError(
                None, None,
                f"HashTable has different value for same key. Key {_key_text(key)} has "
                f"{_value_text(found)} and trying to add value {_value_text(value)}")
    return entries


def _initialize(table, entries):
    with table.lock:
        # As in TF, a static table keeps its first contents: running its initializer again
        # (a second tables_initializer run, or one with other fed keys) changes nothing.
        if table.mutable or table.entries is None:
            table.entries = entries


def _import_kernel(ctx, inputs, attrs):
    table = _lookup_table(ctx, inputs[0])
    _check_types(table, attrs["Tin"], attrs["Tout"])
    _initialize(table, _build_entries(_pairs(inputs[1], inputs[2], table.key_dtype)))
    return ()


# ---- vocabulary files -----------------------------------------------------------------------

def _parse_field(field, dtype, line_number):
    """A field (bytes) of a vocabulary line as a key or value of `dtype`."""
    if dtype is dtypes.string:
        return field
    text = field.decode("utf-8", "replace")
    try:
        if dtype.is_integer:
            value = int(text)
            info = np.iinfo(dtype.as_numpy_dtype)
            if not info.min <= value <= info.max:
                raise ValueError(text)
            return value
        return float(text)
    except ValueError:
        kind = dtype.name if dtype.is_integer else "float"
        raise errors.InvalidArgumentError(
            None, None, f"Field {text} in line {line_number} is not a valid {kind}.") from None


def _column(fields, index, line_number, line, dtype, offset):
    if index == _LINE_NUMBER:
        return line_number + offset
    return _parse_field(line if index == _WHOLE_LINE else fields[index], dtype, line_number)


def _vocabulary_lines(filename, vocab_size):
    """The lines of a vocabulary file (bytes, without line ends), with TF's checks: no empty
    line among those read, and at least `vocab_size` lines when it is positive."""
    try:
        with open(filename, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        raise errors.NotFoundError(None, None,
                                   f"{filename}; No such file or directory") from None
    except OSError as error:
        raise errors.InvalidArgumentError(None, None, f"{filename}; {error.strerror}") from None
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    if vocab_size > 0:
        if len(lines) < vocab_size:
            raise errors.InvalidArgumentError(
                None, None, f"Invalid vocab_size in {filename}: expected {vocab_size} but got "
                            f"{len(lines)}")
        lines = lines[:vocab_size]
    position = 0
    for index, line in enumerate(lines):
        position += len(line) + 1
        if line.endswith(b"\r"):
            line = lines[index] = line[:-1]
        if not line:
            raise errors.InvalidArgumentError(
                None, None, f"Invalid content in {filename}: empty line found at position "
                            f"{position}.")
    return lines


def _read_vocabulary(filename, attrs, key_dtype, value_dtype):
    """The (key, value) pairs of a vocabulary file, with TF's column and size checks."""
    key_index, value_index = int(attrs["key_index"]), int(attrs["value_index"])
    delimiter = attrs.get("delimiter", "\t").encode("utf-8")
    offset = int(attrs.get("offset", 0))
    needed = max(key_index, value_index) + 1
    pairs = []
    for line_number, line in enumerate(_vocabulary_lines(filename,
                                                         int(attrs.get("vocab_size", -1)))):
        fields = line.split(delimiter) if needed > 0 else ()
        if len(fields) < needed:
            raise errors.InvalidArgumentError(
                None, None, f"Invalid number of columns in {filename} line {line_number} "
                            f"({line.decode('utf-8', 'replace')}) : expected at least "
                            f"{needed} got {len(fields)}")
        key = _column(fields, key_index, line_number, line, key_dtype, offset)
        value = _column(fields, value_index, line_number, line, value_dtype, offset)
        pairs.append((key, value))
    return pairs


def _init_from_text_file_kernel(ctx, inputs, attrs):
    table = _lookup_table(ctx, inputs[0])
    filename = np.asarray(inputs[1], dtype=object)
    if filename.shape != ():
        raise errors.InvalidArgumentError(
            None, None, f"filename should be a single string, but got "
                        f"{list(filename.shape)}")
    filename = filename[()]
    filename = filename.decode("utf-8") if isinstance(filename, bytes) else str(filename)
    numpy_value = table.value_dtype.as_numpy_dtype
    pairs = [(key, value if table.value_dtype is dtypes.string else numpy_value(value))
             for key, value in _read_vocabulary(filename, attrs, table.key_dtype,
                                                table.value_dtype)]
    _initialize(table, _build_entries(pairs))
    return ()


# ---- reads ------------------------------------------------------------------------------------

def _entries_for_read(ctx, handle):
    table = _lookup_table(ctx, handle)
    entries = table.entries
    if entries is None:
        raise errors.FailedPreconditionError(None, None, "Table not initialized.")
    return table, entries


def _find_kernel(ctx, inputs, attrs):
    table, entries = _entries_for_read(ctx, inputs[0])
    keys = np.asarray(inputs[1])
    default = np.asarray(inputs[2])
    if default.size != 1:
        raise errors.InvalidArgumentError(
            None, None, f"Expected shape [] or [1] for default value, got "
                        f"{list(default.shape)}")
    default = default.reshape(-1)[0]
    flat_keys = keys.reshape(-1).tolist()
    if table.key_dtype is dtypes.string:
        # Fed keys are usually bytes already; only str (or buffer) keys need converting.
        flat_keys = [key if type(key) is bytes else _normalise_key(key, dtypes.string)
                     for key in flat_keys]
    if table.reserved_keys:
        _check_not_reserved(table, set(flat_keys))
    get = entries.get
    with table.lock:
        found = [get(key, default) for key in flat_keys]
    value_numpy = (object if table.value_dtype is dtypes.string
                   else table.value_dtype.as_numpy_dtype)
    out = np.empty(len(found), dtype=value_numpy)
    out[:] = found
    return (out.reshape(keys.shape),)


def _size_kernel(ctx, inputs, attrs):
    table = _lookup_table(ctx, inputs[0])
    entries = table.entries
    return (np.asarray(0 if entries is None else len(entries), np.int64),)


def _export_kernel(ctx, inputs, attrs):
    table = _lookup_table(ctx, inputs[0])
    with table.lock:
        items = list((table.entries or {}).items())
    key_numpy = object if table.key_dtype is dtypes.string else table.key_dtype.as_numpy_dtype
    value_numpy = (object if table.value_dtype is dtypes.string
                   else table.value_dtype.as_numpy_dtype)
    keys = np.empty(len(items), dtype=key_numpy)
    values = np.empty(len(items), dtype=value_numpy)
    for index, (key, value) in enumerate(items):
        keys[index] = key
        values[index] = value
    return (keys, values)


# ---- updates of a mutable table -----------------------------------------------------------------

def _insert_kernel(ctx, inputs, attrs):
    table = _lookup_table(ctx, inputs[0])
    _check_types(table, attrs["Tin"], attrs["Tout"])
    pairs = list(_pairs(inputs[1], inputs[2], table.key_dtype))
    if table.reserved_keys:
        _check_not_reserved(table, {key for key, _ in pairs})
    with table.lock:
        if table.entries is None:
            table.entries = {}
        table.entries.update(pairs)
    return ()


def _remove_kernel(ctx, inputs, attrs):
    table = _lookup_table(ctx, inputs[0])
    keys = [_normalise_key(key, table.key_dtype)
            for key in np.asarray(inputs[1]).reshape(-1).tolist()]
    if table.reserved_keys:
        _check_not_reserved(table, set(keys))
    with table.lock:
        for key in keys:
            table.entries.pop(key, None)
    return ()


for _name, _kernel in (
        ("HashTableV2", _table_kernel(False)), ("MutableHashTableV2", _table_kernel(True)),
        ("MutableDenseHashTableV2", _table_kernel(True)),
        ("LookupTableImportV2", _import_kernel), ("InitializeTableV2", _import_kernel),
        ("InitializeTableFromTextFileV2", _init_from_text_file_kernel),
        ("LookupTableFindV2", _find_kernel), ("LookupTableSizeV2", _size_kernel),
        ("LookupTableExportV2", _export_kernel), ("LookupTableInsertV2", _insert_kernel),
        ("LookupTableRemoveV2", _remove_kernel)):
    register_kernel(_name, reference=_kernel)
