"""Lookup tables (``tf.lookup`` and ``tf.contrib.lookup``): hash tables from keys to values.

Design. A table is a session resource, like a queue: ``HashTableV2`` (or
``MutableHashTableV2``) outputs its handle, and the init, find, size, export, insert and remove
ops take the handle as input 0 and run on the table's device (`state_ops.create_resource_op`).
A static table is filled by its initializer op, which goes into the ``TABLE_INITIALIZERS``
collection that `tables_initializer` groups, as in TF 1. Out-of-vocabulary buckets are not a
kernel: as in TF, a lookup adds ``StringToHashBucketFast`` of the key (its decimal text for
integer keys) to the vocabulary size where the table answers its default, so bucket ids equal
TF's. This module names kernels (``runtime/kernels/lookup_kernels.py``) and never imports them.
"""

import numbers

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework import registry
from sessionlib.framework.graph import GraphKeys
from sessionlib.framework.sparse_tensor import SparseTensor
from sessionlib.framework.tensor_shape import TensorShape
from sessionlib.ops import array_extra_ops, control_flow_ops, math_ops, state_ops, string_ops

__all__ = ["TextFileIndex", "TableInitializerBase", "KeyValueTensorInitializer",
           "TextFileInitializer", "TextFileIdTableInitializer",
           "TextFileStringTableInitializer", "LookupInterface", "InitializableLookupTableBase",
           "StaticHashTable", "HashTable", "StaticVocabularyTable", "IdTableWithHashBuckets",
           "MutableHashTable", "DenseHashTable", "ContribMutableHashTable",
           "ContribMutableDenseHashTable", "HasherSpec", "FastHashSpec", "StrongHashSpec",
           "tables_initializer", "initialize_all_tables", "index_table_from_tensor",
           "index_table_from_file", "index_to_string_table_from_tensor",
           "index_to_string_table_from_file", "string_to_index", "index_to_string"]


# ---- op registrations -----------------------------------------------------------------------

def _table_infer(inputs, attrs):
    attrs["key_dtype"] = dtypes.as_dtype(attrs["key_dtype"])
    attrs["value_dtype"] = dtypes.as_dtype(attrs["value_dtype"])
    attrs.setdefault("container", "")
    attrs.setdefault("shared_name", "")
    attrs.setdefault("use_node_name_sharing", False)
    return [(dtypes.resource, TensorShape([]))]


def _dense_table_infer(inputs, attrs):
    outputs = _table_infer(inputs, attrs)
    for what, key in zip(("empty_key", "deleted_key"), inputs):
        if key.dtype is not attrs["key_dtype"]:
            raise TypeError(f"The {what} of MutableDenseHashTableV2 must be "
                            f"{attrs['key_dtype'].name}, got {key.dtype.name}")
    attrs.setdefault("value_shape", TensorShape([]))
    attrs.setdefault("initial_num_buckets", 131072)
    attrs.setdefault("max_load_factor", 0.8)
    return outputs


def _require_handle(op_type, handle):
    if handle.dtype is not dtypes.resource:
        raise TypeError(f"{op_type} takes a table handle as its first input, got "
                        f"{handle.dtype.name}")


def _import_infer(op_type):
    def infer(inputs, attrs):
        _require_handle(op_type, inputs[0])
        keys, values = inputs[1], inputs[2]
        attrs["Tin"], attrs["Tout"] = keys.dtype, values.dtype
        if not keys.shape.is_compatible_with(values.shape):
            raise ValueError(f"Shapes {keys.shape} and {values.shape} of the keys and values "
                             f"of {op_type} must be equal")
        return []

    return infer


def _text_file_infer(inputs, attrs):
    _require_handle("InitializeTableFromTextFileV2", inputs[0])
    if inputs[1].dtype is not dtypes.string:
        raise TypeError("InitializeTableFromTextFileV2 takes a string filename")
    if not inputs[1].shape.is_compatible_with(TensorShape([])):
        raise ValueError(f"The filename must be a scalar, got shape {inputs[1].shape}")
    attrs.setdefault("vocab_size", -1)
    attrs.setdefault("delimiter", "\t")
    attrs.setdefault("offset", 0)
    return []


def _find_infer(inputs, attrs):
    _require_handle("LookupTableFindV2", inputs[0])
    attrs["Tin"], attrs["Tout"] = inputs[1].dtype, inputs[2].dtype
    return [(inputs[2].dtype, inputs[1].shape)]


def _size_infer(inputs, attrs):
    _require_handle("LookupTableSizeV2", inputs[0])
    return [(dtypes.int64, TensorShape([]))]


def _export_infer(inputs, attrs):
    _require_handle("LookupTableExportV2", inputs[0])
    attrs["Tkeys"] = dtypes.as_dtype(attrs["Tkeys"])
    attrs["Tvalues"] = dtypes.as_dtype(attrs["Tvalues"])
    return [(attrs["Tkeys"], TensorShape([None])), (attrs["Tvalues"], TensorShape([None]))]


def _remove_infer(inputs, attrs):
    _require_handle("LookupTableRemoveV2", inputs[0])
    attrs["Tin"] = inputs[1].dtype
    return []


for _op_type, _infer_fn, _num_inputs, _doc in (
        ("HashTableV2", _table_infer, 0, "A hash table, filled once by its initializer."),
        ("MutableHashTableV2", _table_infer, 0, "A hash table updated by insert and remove."),
        ("MutableDenseHashTableV2", _dense_table_infer, 2,
         "A hash table updated by insert and remove, with reserved empty and deleted keys."),
        ("LookupTableImportV2", _import_infer("LookupTableImportV2"), 3,
         "Fills a table with keys and values."),
        ("InitializeTableV2", _import_infer("InitializeTableV2"), 3,
         "Initializes a table with keys and values."),
        ("InitializeTableFromTextFileV2", _text_file_infer, 2,
         "Initializes a table from the columns of a text file."),
        ("LookupTableFindV2", _find_infer, 3, "Looks keys up in a table."),
        ("LookupTableSizeV2", _size_infer, 1, "The number of entries of a table."),
        ("LookupTableExportV2", _export_infer, 1, "The keys and values of a table."),
        ("LookupTableInsertV2", _import_infer("LookupTableInsertV2"), 3,
         "Inserts or updates keys of a mutable table."),
        ("LookupTableRemoveV2", _remove_infer, 2, "Removes keys from a mutable table.")):
    registry.register_op(_op_type, infer=_infer_fn, kernel=_op_type, num_inputs=_num_inputs,
                         stateful=True, doc=_doc, gradient=registry.NOT_DIFFERENTIABLE)


# ---- helpers ----------------------------------------------------------------------------------

_INTEGER_KEY_DTYPES = (dtypes.int32, dtypes.int64)


def _as_tensor(value, dtype=None, name=None):
    if isinstance(value, graph_lib.Tensor):
        return value
    return graph_lib.convert_to_tensor(value, dtype=dtype, name=name)


def _create_table_op(op_type, inputs, key_dtype, value_dtype, name, shared_name=None):
    graph = graph_lib.get_default_graph()
    # Like TF's init_scope: the table does not depend on the caller's control inputs.
    with graph.control_dependencies(None):
        return graph.create_op(
            op_type, inputs, {"key_dtype": key_dtype, "value_dtype": value_dtype,
                              "container": "", "shared_name": shared_name or "",
                              "use_node_name_sharing": False},
            name=name).outputs[0]


def _resource_op(table, op_type, inputs, attrs, name):
    handle = table.resource_handle
    return state_ops.create_resource_op(handle.graph, op_type, handle, inputs, attrs, name)


def _check_lookup_keys(keys, key_dtype):
    """`keys` as a Tensor or SparseTensor of `key_dtype`, with TF's dtype check."""
    if isinstance(keys, SparseTensor):
        values = keys.values
    else:
        keys = values = _as_tensor(keys, dtype=key_dtype, name="keys")
    if values.dtype.base_dtype is not key_dtype:
        raise TypeError(f"Dtype of argument `keys` must be {key_dtype!r}, received: "
                        f"{values.dtype!r}")
    return keys


def _map_keys(keys, function):
    """`function` of a dense key tensor, or of a SparseTensor's values, kept sparse."""
    if isinstance(keys, SparseTensor):
        return SparseTensor(keys.indices, function(keys.values), keys.dense_shape)
    return function(keys)


# ---- initializers ---------------------------------------------------------------------------

class TextFileIndex:
    """The special column indices of a vocabulary file (``tf.lookup.TextFileIndex``)."""

    WHOLE_LINE = -2
    LINE_NUMBER = -1


class _KeyValueTypes:
    """The key and value `DType`s shared by tables and initializers."""

    def __init__(self, key_dtype, value_dtype):
        self._key_dtype = dtypes.as_dtype(key_dtype)
        self._value_dtype = dtypes.as_dtype(value_dtype)

    @property
    def key_dtype(self):
        """The key `DType`."""
        return self._key_dtype

    @property
    def value_dtype(self):
        """The value `DType`."""
        return self._value_dtype


class TableInitializerBase(_KeyValueTypes):
    """Base class of table initializers (``tf.lookup.experimental``'s initializer base).

    Args:
      key_dtype: the `DType` of the keys.
      value_dtype: the `DType` of the values.
    """

    def initialize(self, table):
        """The op that fills `table`, on the table's device and outside any control scope.

        Args:
          table: the table to fill.

        Returns:
          The initializer Operation.

        Raises:
          TypeError: if the table's dtypes differ from the initializer's.
        """
        if table.key_dtype is not self._key_dtype:
            raise TypeError(f"Invalid key dtype for table, expected {self._key_dtype!r} but "
                            f"got {table.key_dtype!r}.")
        if table.value_dtype is not self._value_dtype:
            raise TypeError(f"Invalid value dtype for table, expected {self._value_dtype!r} "
                            f"but got {table.value_dtype!r}.")
        with table.resource_handle.graph.control_dependencies(None):
            return self._initializer_op(table)

    def _initializer_op(self, table):
        raise NotImplementedError


class KeyValueTensorInitializer(TableInitializerBase):
    """Fills a table from a key tensor and a value tensor of the same shape.

    Args:
      keys: the keys (a tensor or a Python list).
      values: the values, one per key.
      key_dtype: the keys' `DType`, or None to infer it.
      value_dtype: the values' `DType`, or None to infer it.
      name: the name scope of the initializer op.
    """

    def __init__(self, keys, values, key_dtype=None, value_dtype=None, name=None):
        graph = graph_lib.get_default_graph()
        with graph.control_dependencies(None):
            with graph_lib.name_scope(name, "key_value_init", []) as scope:
                self._keys = _as_tensor(keys, dtype=key_dtype, name="keys")
                self._values = _as_tensor(values, dtype=value_dtype, name="values")
        self._name = scope
        super().__init__(self._keys.dtype, self._values.dtype)

    def _initializer_op(self, table):
        with graph_lib.name_scope(self._name):
            return _resource_op(table, "LookupTableImportV2", [self._keys, self._values], {},
                                None)


class TextFileInitializer(TableInitializerBase):
    """Fills a table from the columns of a text file, one entry per line.

    Columns are split by `delimiter`; an index of `TextFileIndex.WHOLE_LINE` takes the whole
    line (a string), `TextFileIndex.LINE_NUMBER` the line number (an int64, plus
    `value_index_offset` for values).

    Args:
      filename: the vocabulary file (a string or a scalar string tensor).
      key_dtype: the keys' `DType`.
      key_index: the key column, or a `TextFileIndex` value.
      value_dtype: the values' `DType`.
      value_index: the value column, or a `TextFileIndex` value.
      vocab_size: None, or the number of lines to read (the file must have that many).
      delimiter: the column delimiter.
      name: the name scope of the initializer op.
      value_index_offset: added to line numbers used as values.

    Raises:
      ValueError: for an invalid index or vocab_size.
      TypeError: when a `TextFileIndex` value does not fit the dtype.
    """

    def __init__(self, filename, key_dtype, key_index, value_dtype, value_index,
                 vocab_size=None, delimiter="\t", name=None, value_index_offset=0):
        if not isinstance(filename, graph_lib.Tensor) and not filename:
            raise ValueError("`filename` argument required for tf.lookup.TextFileInitializer")
        key_dtype, value_dtype = dtypes.as_dtype(key_dtype), dtypes.as_dtype(value_dtype)
        if key_index < -2:
            raise ValueError(f"`key_index` should be >= -2, received: {key_index}.")
        if key_index == TextFileIndex.LINE_NUMBER and key_dtype is not dtypes.int64:
            raise ValueError(f"`key_dtype` must be int64 if `key_index` is "
                             f"{TextFileIndex.LINE_NUMBER}, received: {key_dtype!r}")
        if key_index == TextFileIndex.WHOLE_LINE and not (key_dtype.is_integer
                                                          or key_dtype is dtypes.string):
            raise ValueError(f"`key_dtype` should be either integer or string for `key_index`"
                             f" {TextFileIndex.WHOLE_LINE}, received: {key_dtype!r}")
        if value_index < -2:
            raise ValueError(f"`value_index` should be >= -2, received: {value_index}.")
        if value_index == TextFileIndex.LINE_NUMBER and value_dtype is not dtypes.int64:
            raise ValueError(f"`value_dtype` must be int64 for `value_index` "
                             f"{TextFileIndex.LINE_NUMBER}, received: {value_dtype!r}")
        if value_index == TextFileIndex.WHOLE_LINE and value_dtype is not dtypes.string:
            raise ValueError(f"`value_dtype` must be string for `value_index` "
                             f"{TextFileIndex.WHOLE_LINE}, received: {value_dtype!r}")
        if vocab_size is not None and vocab_size <= 0:
            raise ValueError(f"`vocab_size` should be > 0, received: {vocab_size}")
        self._filename = filename
        self._key_index = int(key_index)
        self._value_index = int(value_index)
        self._vocab_size = vocab_size
        self._delimiter = delimiter
        self._name = name
        self._offset = int(value_index_offset)
        super().__init__(key_dtype, value_dtype)

    def _initializer_op(self, table):
        with graph_lib.name_scope(self._name, "text_file_init", []):
            filename = _as_tensor(self._filename, dtype=dtypes.string, name="asset_filepath")
            vocab_size = -1 if self._vocab_size is None else int(self._vocab_size)
            attrs = {"key_index": self._key_index, "value_index": self._value_index,
                     "vocab_size": vocab_size, "delimiter": self._delimiter,
                     "offset": self._offset}
            return _resource_op(table, "InitializeTableFromTextFileV2", [filename], attrs, None)


class TextFileIdTableInitializer(TextFileInitializer):
    """A `TextFileInitializer` from string (or integer) keys to int64 ids (line numbers).

    Args:
      filename: the vocabulary file.
      key_column_index: the key column (default: the whole line).
      value_column_index: the id column (default: the line number).
      vocab_size: None, or the number of lines to read.
      delimiter: the column delimiter.
      name: the name scope of the initializer op.
      key_dtype: the keys' `DType`.
    """

    def __init__(self, filename, key_column_index=TextFileIndex.WHOLE_LINE,
                 value_column_index=TextFileIndex.LINE_NUMBER, vocab_size=None,
                 delimiter="\t", name="text_file_id_table_init", key_dtype=dtypes.string):
        super().__init__(filename, key_dtype, key_column_index, dtypes.int64,
                         value_column_index, vocab_size=vocab_size, delimiter=delimiter,
                         name=name)


class TextFileStringTableInitializer(TextFileInitializer):
    """A `TextFileInitializer` from int64 ids (line numbers) to strings.

    Args: as for `TextFileIdTableInitializer`, the other way round: `key_column_index` is the
    id column (default: the line number), `value_column_index` the string column (default: the
    whole line); the keys are int64.
    """

    def __init__(self, filename, key_column_index=TextFileIndex.LINE_NUMBER,
                 value_column_index=TextFileIndex.WHOLE_LINE, vocab_size=None,
                 delimiter="\t", name="text_file_string_table_init"):
        super().__init__(filename, dtypes.int64, key_column_index, dtypes.string,
                         value_column_index, vocab_size=vocab_size, delimiter=delimiter,
                         name=name)


# ---- tables -------------------------------------------------------------------------------------

class LookupInterface(_KeyValueTypes):
    """The interface of the lookup tables: dtypes, name, size and lookup.

    Args:
      key_dtype: the keys' `DType`.
      value_dtype: the values' `DType`.
    """


    @property
    def name(self):
        """The table's name."""
        raise NotImplementedError

    def size(self, name=None):
        """The number of entries (a scalar int64 tensor)."""
        raise NotImplementedError

    def lookup(self, keys, name=None):
        """The values of `keys`; see the subclasses."""
        raise NotImplementedError


class _ResourceTable(LookupInterface):
    """A table backed by one table resource: holds its handle and builds size and export."""

    def __init__(self, key_dtype, value_dtype, handle, name):
        super().__init__(key_dtype, value_dtype)
        self._handle = handle
        self._name = name

    @property
    def resource_handle(self):
        """The table's resource handle tensor."""
        return self._handle

    @property
    def name(self):
        return self._name

    def size(self, name=None):
        """The number of entries of the table.

        Args:
          name: the name scope of the op.

        Returns:
          A scalar int64 tensor.
        """
        with graph_lib.name_scope(name, f"{self._name}_Size", []):
            return _resource_op(self, "LookupTableSizeV2", [], {}, None).outputs[0]

    def export(self, name=None):
        """All keys and values of the table, in no particular order.

        Args:
          name: the name scope of the op.

        Returns:
          A pair of 1-D tensors (keys, values).
        """
        with graph_lib.name_scope(name, f"{self._name}_lookup_table_export_values", []):
            outputs = _resource_op(self, "LookupTableExportV2", [],
                                   {"Tkeys": self._key_dtype, "Tvalues": self._value_dtype},
                                   None).outputs
            return outputs[0], outputs[1]

    def _find(self, keys, default_value, name):
        keys = _check_lookup_keys(keys, self._key_dtype)
        with graph_lib.name_scope(name, f"{self._name}_Lookup", []):
            return _map_keys(keys, lambda dense: _resource_op(
                self, "LookupTableFindV2", [dense, default_value], {}, None).outputs[0])


class InitializableLookupTableBase(_ResourceTable):
    """A static table filled once by an initializer, which joins ``TABLE_INITIALIZERS``.

    Args:
      default_value: the value of keys missing from the table (a scalar).
      initializer: a `TableInitializerBase`.
      name: the table op's name.
    """

    def __init__(self, default_value, initializer, name="hash_table", shared_name=None):
        handle = _create_table_op("HashTableV2", [], initializer.key_dtype,
                                  initializer.value_dtype, name, shared_name)
        super().__init__(initializer.key_dtype, initializer.value_dtype, handle,
                         handle.op.name.split("/")[-1])
        graph = handle.graph
        with graph.control_dependencies(None):
            self._default_value = _as_tensor(default_value, dtype=self._value_dtype,
                                             name="Const")
        if not self._default_value.shape.is_compatible_with(TensorShape([])):
            raise ValueError(f"Shapes {self._default_value.shape} and () are not compatible")
        self._initializer = initializer
        self._init_op = initializer.initialize(self)
        graph.add_to_collection(GraphKeys.TABLE_INITIALIZERS, self._init_op)

    @property
    def default_value(self):
        """The value of missing keys (a scalar tensor)."""
        return self._default_value

    @property
    def initializer(self):
        """The Operation that fills the table."""
        return self._init_op

    @property
    def init(self):
        """The Operation that fills the table (TF 1's name)."""
        return self._init_op

    def lookup(self, keys, name=None):
        """The value of each key, or the default value where the key is missing.

        Args:
          keys: a Tensor or SparseTensor of the table's key dtype.
          name: the name scope of the op.

        Returns:
          A tensor shaped like `keys` (a SparseTensor with its indices for sparse keys).
          Running it before the initializer raises FailedPreconditionError.

        Raises:
          TypeError: if the keys' dtype is not the table's.
        """
        return self._find(keys, self._default_value, name)


class StaticHashTable(InitializableLookupTableBase):
    """A table whose entries are fixed at initialization (``tf.lookup.StaticHashTable``).

    Args:
      initializer: a `TableInitializerBase` giving the keys and values.
      default_value: the value of keys missing from the table.
      name: the table op's name.
      experimental_is_anonymous: accepted for TF's signature; tables here are per session.
    """

    def __init__(self, initializer, default_value, name=None, experimental_is_anonymous=False):
        super().__init__(default_value, initializer, name=name or "hash_table")


class HashTable(StaticHashTable):
    """TF 1's ``tf.contrib.lookup.HashTable``: a `StaticHashTable` with TF 1's signature.

    Args:
      initializer: a `TableInitializerBase` giving the keys and values.
      default_value: the value of keys missing from the table.
      shared_name: share the table under this name between the ops of a session.
      name: the table op's name.
    """

    def __init__(self, initializer, default_value, shared_name=None, name=None):
        InitializableLookupTableBase.__init__(self, default_value, initializer,
                                              name=name or "hash_table",
                                              shared_name=shared_name)


class HasherSpec:
    """The hash of out-of-vocabulary buckets (``tf.contrib.lookup.HasherSpec``).

    Args:
      hasher: "fasthash" (FarmHash Fingerprint64, `string_to_hash_bucket_fast`), "legacy"
        (`string_to_hash_bucket`) or "stronghash" (keyed SipHash,
        `string_to_hash_bucket_strong`).
      key: the two-integer key of "stronghash", else None.

    Raises:
      ValueError: for another hasher, or a key that does not fit it.
    """

    def __init__(self, hasher, key=None):
        if hasher not in ("fasthash", "legacy", "stronghash"):
            raise ValueError(f"Found unknown hasher {hasher} in `hasher_spec`")
        if (hasher == "stronghash") != (key is not None):
            raise ValueError(f"Hasher {hasher} takes {'a' if hasher == 'stronghash' else 'no'} "
                             f"key")
        self.hasher = hasher
        self.key = key

    def buckets(self, keys, num_buckets):
        """The bucket of each string of `keys` (an int64 tensor of its shape)."""
        if self.hasher == "fasthash":
            return string_ops.string_to_hash_bucket_fast(keys, num_buckets, name="hash_bucket")
        if self.hasher == "legacy":
            return string_ops.string_to_hash_bucket(keys, num_buckets, name="hash_bucket")
        return string_ops.string_to_hash_bucket_strong(keys, num_buckets, self.key,
                                                       name="hash_bucket")


class StrongHashSpec(HasherSpec):
    """Keyed SipHash-2-4 buckets (``tf.contrib.lookup.StrongHashSpec``).

    Args:
      key: two integers, the 128-bit key.

    Raises:
      ValueError: unless `key` has two integers.
    """

    def __init__(self, key):
        if len(key) != 2:
            raise ValueError(f"`key` must have size 2, received {len(key)}")
        super().__init__("stronghash", list(key))


FastHashSpec = HasherSpec("fasthash")


def _hash_buckets(keys, num_buckets, hasher_spec=FastHashSpec):
    """TF's OOV bucket of each key: the hash of the key (integers as decimal text)."""
    if keys.dtype is not dtypes.string:
        keys = string_ops.as_string(keys)
    return hasher_spec.buckets(keys, num_buckets)


class _HashedIdTable(LookupInterface):
    """Ids of an optional int64-valued table, with hashed ids for the keys it misses.

    A key the table maps to its default value gets ``table.size() + hash(key) %
    num_oov_buckets``; with no table, every key is hashed.
    """

    # TF 1's IdTableWithHashBuckets widens int32 keys for an int64 table; TF 2's
    # StaticVocabularyTable refuses them.
    _widen_int32_keys = False

    def __init__(self, table, num_oov_buckets, key_dtype, name, hasher_spec=FastHashSpec):
        super().__init__(key_dtype, dtypes.int64)
        self._table = table
        self._num_oov_buckets = int(num_oov_buckets)
        self._name = name
        self._hasher_spec = hasher_spec

    @property
    def name(self):
        return self._name

    @property
    def resource_handle(self):
        """The vocabulary table's resource handle (None without a table)."""
        return None if self._table is None else self._table.resource_handle

    @property
    def initializer(self):
        """The vocabulary table's initializer, or a no-op without a table."""
        if self._table is None:
            return control_flow_ops.no_op()
        return self._table.initializer

    def size(self, name=None):
        """The vocabulary size plus the number of buckets, a scalar int64 tensor (its name
        scope is `name`)."""
        with graph_lib.name_scope(name, f"{self._name}_Size", []):
            if self._table is None:
                return graph_lib.convert_to_tensor(self._num_oov_buckets, dtype=dtypes.int64)
            return math_ops.add(self._table.size(), self._num_oov_buckets)

    def lookup(self, keys, name=None):
        """The id of each key: its vocabulary id, or a hashed out-of-vocabulary bucket.

        Args:
          keys: a Tensor or SparseTensor of the key dtype.
          name: the name scope of the ops.

        Returns:
          An int64 tensor shaped like `keys` (a SparseTensor for sparse keys).

        Raises:
          TypeError: if the keys' dtype is not the table's.
        """
        table, buckets = self._table, self._num_oov_buckets

        def lookup_dense(dense):
            if buckets == 0:
                return table.lookup(dense)
            hashed = _hash_buckets(dense, buckets, self._hasher_spec)
            if table is None:
                return hashed
            ids = table.lookup(dense)
            hashed = math_ops.add(hashed, table.size())
            return array_extra_ops.where_v2(math_ops.not_equal(ids, table.default_value), ids,
                                            hashed)

        with graph_lib.name_scope(name, f"{self._name}_Lookup", []):
            if self._widen_int32_keys:
                keys = _cast_int32_keys(keys, self._key_dtype)
            return _map_keys(_check_lookup_keys(keys, self._key_dtype), lookup_dense)


def _cast_int32_keys(keys, key_dtype):
    """int32 keys widened for an int64 table."""
    dense = keys.values if isinstance(keys, SparseTensor) else _as_tensor(keys)
    if dense.dtype is dtypes.int32 and key_dtype is dtypes.int64:
        return _map_keys(keys, lambda values: math_ops.cast(values, dtypes.int64))
    return keys


class IdTableWithHashBuckets(_HashedIdTable):
    """Ids of an int64-valued table, with hashed ids for the keys it misses
    (``tf.contrib.lookup``'s class).

    A key the table maps to its default value gets ``table.size() + hash(key) %
    num_oov_buckets``; with no table, every key is hashed. int32 keys are widened for an int64
    table.

    Args:
      table: an int64-valued table, or None.
      num_oov_buckets: the number of out-of-vocabulary buckets (>= 0).
      hasher_spec: the bucket hash (`FastHashSpec`, or a `HasherSpec`).
      name: the name of the lookups' scope.
      key_dtype: the keys' `DType` when `table` is None (default: string).

    Raises:
      ValueError: for a negative bucket count.
      TypeError: for a table with non-int64 values or a bad hasher spec.
    """

    _widen_int32_keys = True

    def __init__(self, table, num_oov_buckets, hasher_spec=FastHashSpec, name=None,
                 key_dtype=None):
        if table is not None:
            if table.value_dtype is not dtypes.int64:
                raise TypeError(f"Invalid `value_dtype`: Expected int64, got "
                                f"{table.value_dtype!r}.")
            key_dtype = table.key_dtype
        else:
            key_dtype = dtypes.as_dtype(key_dtype or dtypes.string)
        if not isinstance(num_oov_buckets, numbers.Integral) or num_oov_buckets < 0:
            raise ValueError(f"`oov_buckets` must be a non-negative integer, got "
                             f"{num_oov_buckets}.")
        if not isinstance(hasher_spec, HasherSpec):
            raise TypeError(f"`hasher_spec` must be of type HasherSpec, got {hasher_spec!r}")
        super().__init__(table, num_oov_buckets, key_dtype,
                         name or (f"{table.name}_hash_bucket" if table is not None
                                  else "hash_bucket"), hasher_spec)

    init = _HashedIdTable.initializer


class StaticVocabularyTable(_HashedIdTable):
    """Ids of a vocabulary, with hashed buckets for out-of-vocabulary keys
    (``tf.lookup.StaticVocabularyTable``).

    Args:
      initializer: an initializer giving int64 ids, or None (every key is hashed).
      num_oov_buckets: the number of out-of-vocabulary buckets.
      lookup_key_dtype: the lookup keys' `DType` (default: the initializer's key dtype).
      name: the table op's name.
      experimental_is_anonymous: accepted for TF's signature.

    Raises:
      ValueError: for a bad bucket count.
      TypeError: for an initializer whose values are not int64.
    """

    def __init__(self, initializer, num_oov_buckets, lookup_key_dtype=None, name=None,
                 experimental_is_anonymous=False):
        if num_oov_buckets <= 0:
            raise ValueError("`num_oov_buckets` must be > 0; use StaticHashTable.")
        if initializer is not None:
            if initializer.value_dtype is not dtypes.int64:
                raise TypeError(f"Invalid `value_dtype`, expected {dtypes.int64!r} but got "
                                f"{initializer.value_dtype!r}.")
            if (initializer.key_dtype is not dtypes.string
                    and not initializer.key_dtype.is_integer):
                raise TypeError(f"Invalid `key_dtype`, expected integer or string, got "
                                f"{initializer.key_dtype!r}.")
            table = StaticHashTable(initializer, -1, name=name or "hash_table")
            key_dtype = initializer.key_dtype
        else:
            table = None
            key_dtype = dtypes.as_dtype(lookup_key_dtype or dtypes.string)
        super().__init__(table, num_oov_buckets, key_dtype, name or "vocab")


class MutableHashTable(_ResourceTable):
    """A table updated at run time by insert and remove (``tf.lookup.experimental``'s and
    ``tf.contrib.lookup``'s ``MutableHashTable``). Not saved by `tf.train.Saver`.

    Args:
      key_dtype: the keys' `DType`.
      value_dtype: the values' `DType`.
      default_value: the value of missing keys (a scalar).
      name: the table op's name.
      checkpoint: accepted for TF's signature.
      experimental_is_anonymous: accepted for TF's signature.

    Raises:
      ValueError: if `default_value` is not a scalar.
    """

    def __init__(self, key_dtype, value_dtype, default_value, name="MutableHashTable",
                 checkpoint=True, experimental_is_anonymous=False):
        key_dtype, value_dtype = dtypes.as_dtype(key_dtype), dtypes.as_dtype(value_dtype)
        handle = self._create_handle(key_dtype, value_dtype, name)
        super().__init__(key_dtype, value_dtype, handle, handle.op.name.split("/")[-1])
        with handle.graph.control_dependencies(None):
            self._default_value = _as_tensor(default_value, dtype=value_dtype,
                                             name="default_value")
        if not self._default_value.shape.is_compatible_with(TensorShape([])):
            raise ValueError("Only scalar default values are supported here, got shape "
                             f"{self._default_value.shape}")

    # TF 1's contrib spelling passes a shared name; TF 2's has none.
    _shared_name = None

    def _create_handle(self, key_dtype, value_dtype, name):
        return _create_table_op("MutableHashTableV2", [], key_dtype, value_dtype, name,
                                self._shared_name)

    @property
    def default_value(self):
        """The value of missing keys."""
        return self._default_value

    def lookup(self, keys, dynamic_default_values=None, name=None):
        """The value of each key, or the default value where the key is missing.

        Args:
          keys: a Tensor or SparseTensor of the key dtype.
          dynamic_default_values: None, or a scalar default replacing the table's.
          name: the name scope of the op.

        Returns:
          A tensor shaped like `keys`.

        Raises:
          TypeError: if the keys' dtype is not the table's.
        """
        default = self._default_value
        if dynamic_default_values is not None:
            default = _as_tensor(dynamic_default_values, dtype=self._value_dtype)
        return self._find(keys, default, name)

    def insert(self, keys, values, name=None):
        """An op that sets the value of each key (new keys are added).

        Args:
          keys: the keys.
          values: the values, shaped like the keys.
          name: the name scope of the op.

        Returns:
          The insert Operation.

        Raises:
          TypeError: if the dtypes are not the table's.
        """
        with graph_lib.name_scope(name, f"{self._name}_lookup_table_insert", []):
            keys = _check_lookup_keys(keys, self._key_dtype)
            values = _as_tensor(values, dtype=self._value_dtype, name="values")
            return _resource_op(self, "LookupTableInsertV2", [keys, values], {}, None)

    def remove(self, keys, name=None):
        """An op that removes the keys (missing keys are ignored).

        Args:
          keys: the keys.
          name: the name scope of the op.

        Returns:
          The remove Operation.

        Raises:
          TypeError: if the keys' dtype is not the table's.
        """
        with graph_lib.name_scope(name, f"{self._name}_lookup_table_remove", []):
            keys = _check_lookup_keys(keys, self._key_dtype)
            return _resource_op(self, "LookupTableRemoveV2", [keys], {}, None)


class DenseHashTable(MutableHashTable):
    """A mutable table with reserved empty and deleted keys
    (``tf.lookup.experimental.DenseHashTable``). Here it is a `MutableHashTable` that refuses
    those two keys with TF's error; the bucket arguments are accepted and unused.

    Args:
      key_dtype: the keys' `DType`.
      value_dtype: the values' `DType`.
      default_value: the value of missing keys (a scalar).
      empty_key: a key that is never inserted nor looked up.
      deleted_key: another such key, different from `empty_key`.
      initial_num_buckets: accepted for TF's signature.
      name: the table op's name.
      checkpoint: accepted for TF's signature.
      experimental_is_anonymous: accepted for TF's signature.

    Raises:
      ValueError: if `default_value` is not a scalar.
    """

    def __init__(self, key_dtype, value_dtype, default_value, empty_key, deleted_key,
                 initial_num_buckets=None, name="MutableDenseHashTable", checkpoint=True,
                 experimental_is_anonymous=False):
        self._reserved = (empty_key, deleted_key)
        self._initial_num_buckets = initial_num_buckets
        super().__init__(key_dtype, value_dtype, default_value, name=name)

    def _create_handle(self, key_dtype, value_dtype, name):
        graph = graph_lib.get_default_graph()
        with graph.control_dependencies(None):
            reserved = [_as_tensor(key, dtype=key_dtype, name=what)
                        for key, what in zip(self._reserved, ("empty_key", "deleted_key"))]
        return _create_table_op("MutableDenseHashTableV2", reserved, key_dtype, value_dtype,
                                name, self._shared_name)

    def erase(self, keys, name=None):
        """An op that removes the keys; see `remove`."""
        return self.remove(keys, name=name)


class ContribMutableHashTable(MutableHashTable):
    """TF 1's ``tf.contrib.lookup.MutableHashTable``, whose fourth argument is a shared name.

    Args:
      key_dtype, value_dtype, default_value, name, checkpoint: as for `MutableHashTable`.
      shared_name: share the table under this name between the ops of a session.
    """

    def __init__(self, key_dtype, value_dtype, default_value, shared_name=None,
                 name="MutableHashTable", checkpoint=True):
        self._shared_name = shared_name
        super().__init__(key_dtype, value_dtype, default_value, name=name)


class ContribMutableDenseHashTable(DenseHashTable):
    """TF 1's ``tf.contrib.lookup.MutableDenseHashTable`` (a shared name before the name).

    Args:
      key_dtype, value_dtype, default_value, empty_key, deleted_key, initial_num_buckets,
        name, checkpoint: as for `DenseHashTable`.
      shared_name: share the table under this name between the ops of a session.
    """

    def __init__(self, key_dtype, value_dtype, default_value, empty_key, deleted_key,
                 initial_num_buckets=None, shared_name=None, name="MutableDenseHashTable",
                 checkpoint=True):
        self._shared_name = shared_name
        super().__init__(key_dtype, value_dtype, default_value, empty_key, deleted_key,
                         initial_num_buckets=initial_num_buckets, name=name)


# ---- functions ------------------------------------------------------------------------------

def tables_initializer(name="init_all_tables"):
    """The op that runs every table initializer of the default graph (``TABLE_INITIALIZERS``).

    Args:
      name: the op's name.

    Returns:
      The grouped initializers, or a no-op when there is none.
    """
    initializers = graph_lib.get_collection(GraphKeys.TABLE_INITIALIZERS)
    if initializers:
        return control_flow_ops.group(*initializers, name=name)
    return control_flow_ops.no_op(name=name)


initialize_all_tables = tables_initializer


def _check_oov_buckets(num_oov_buckets):
    if not isinstance(num_oov_buckets, numbers.Integral) or num_oov_buckets < 0:
        raise ValueError(f"num_oov_buckets must be greater or equal than 0, got "
                         f"{num_oov_buckets}.")


def index_table_from_tensor(vocabulary_list, num_oov_buckets=0, default_value=-1,
                            hasher_spec=FastHashSpec, dtype=dtypes.string, name=None):
    """A table from the strings (or integers) of a 1-D tensor to their positions.

    Args:
      vocabulary_list: a 1-D tensor or list of unique keys.
      num_oov_buckets: buckets for missing keys (0: they get `default_value`).
      default_value: the id of missing keys when there are no buckets.
      hasher_spec: the bucket hash (`FastHashSpec`, or a `HasherSpec`).
      dtype: the keys' `DType` (string or an integer type).
      name: the name scope.

    Returns:
      A lookup table (`StaticHashTable`, or `IdTableWithHashBuckets` with buckets).

    Raises:
      ValueError: for a missing vocabulary, negative bucket count or mismatched dtype.
    """
    if vocabulary_list is None:
        raise ValueError("`vocabulary_list` must be specified.")
    _check_oov_buckets(num_oov_buckets)
    dtype = dtypes.as_dtype(dtype)
    if not dtype.is_integer and dtype is not dtypes.string:
        raise TypeError(f"Invalid `dtype`: Expected integer or string, got {dtype!r}.")
    with graph_lib.name_scope(name, "string_to_index", []):
        keys = _as_tensor(vocabulary_list, name="vocabulary_list")
        if keys.dtype.is_integer != dtype.is_integer:
            raise ValueError(f"Invalid `dtype`: Expected "
                             f"{'integer' if keys.dtype.is_integer else 'non-integer'}, got "
                             f"{dtype!r}.")
        if dtype.is_integer and keys.dtype is not dtypes.int64:
            keys = math_ops.cast(keys, dtypes.int64)
        with graph_lib.name_scope(None, "hash_table", []):
            values = math_ops.cast(_positions(keys), dtypes.int64, name="values")
            initializer = KeyValueTensorInitializer(keys, values, name="table_init")
            table = StaticHashTable(initializer, default_value)
        if num_oov_buckets:
            return IdTableWithHashBuckets(table, num_oov_buckets, hasher_spec)
        return table


def _positions(keys):
    from sessionlib.ops import array_ops

    return array_ops.range(array_ops.size(keys, out_type=dtypes.int64), dtype=dtypes.int64)


def index_table_from_file(vocabulary_file=None, num_oov_buckets=0, vocab_size=None,
                          default_value=-1, hasher_spec=FastHashSpec, key_dtype=dtypes.string,
                          name=None, key_column_index=TextFileIndex.WHOLE_LINE,
                          value_column_index=TextFileIndex.LINE_NUMBER, delimiter="\t"):
    """A table from the keys of a vocabulary file to their ids (line numbers by default).

    Args:
      vocabulary_file: the vocabulary file.
      num_oov_buckets: buckets for missing keys (0: they get `default_value`).
      vocab_size: None, or the number of lines to read.
      default_value: the id of missing keys when there are no buckets.
      hasher_spec: the bucket hash (`FastHashSpec`, or a `HasherSpec`).
      key_dtype: the keys' `DType` (string or an integer type).
      name: the name scope.
      key_column_index: the key column (default: the whole line).
      value_column_index: the id column (default: the line number).
      delimiter: the column delimiter.

    Returns:
      A lookup table (`StaticHashTable`, or `IdTableWithHashBuckets` with buckets).

    Raises:
      ValueError: for a missing file name, a bad bucket count or vocab_size.
    """
    if vocabulary_file is None or (isinstance(vocabulary_file, str) and not vocabulary_file):
        raise ValueError("`vocabulary_file` must be specified and must not be empty.")
    _check_oov_buckets(num_oov_buckets)
    if vocab_size is not None and vocab_size < 1:
        raise ValueError(f"`vocab_size` must be greater than 0, got {vocab_size}.")
    key_dtype = dtypes.as_dtype(key_dtype)
    if not key_dtype.is_integer and key_dtype is not dtypes.string:
        raise TypeError(f"Invalid `key_dtype`, expected integer or string, got "
                        f"{key_dtype!r}.")
    with graph_lib.name_scope(name, "string_to_index", []):
        with graph_lib.name_scope(None, "hash_table", []):
            initializer = TextFileIdTableInitializer(
                vocabulary_file, key_column_index=key_column_index,
                value_column_index=value_column_index, vocab_size=vocab_size,
                delimiter=delimiter, name="table_init",
                key_dtype=dtypes.int64 if key_dtype.is_integer else key_dtype)
            table = StaticHashTable(initializer, default_value)
        if num_oov_buckets:
            return IdTableWithHashBuckets(table, num_oov_buckets, hasher_spec)
        return table


def index_to_string_table_from_tensor(vocabulary_list, default_value="UNK", name=None):
    """A table from int64 positions to the strings of a 1-D tensor.

    Args:
      vocabulary_list: a 1-D string tensor or list.
      default_value: the string of ids out of range.
      name: the name scope.

    Returns:
      A `StaticHashTable` from int64 to string.

    Raises:
      ValueError: for a missing vocabulary.
    """
    if vocabulary_list is None:
        raise ValueError("`vocabulary_list` argument must be specified.")
    with graph_lib.name_scope(name, "index_to_string", []):
        values = _as_tensor(vocabulary_list, dtype=dtypes.string, name="vocabulary_list")
        keys = _positions(values)
        initializer = KeyValueTensorInitializer(keys, values, dtypes.int64, dtypes.string,
                                                name="table_init")
        return StaticHashTable(initializer, default_value)


def index_to_string_table_from_file(vocabulary_file, vocab_size=None, default_value="UNK",
                                    name=None, key_column_index=TextFileIndex.LINE_NUMBER,
                                    value_column_index=TextFileIndex.WHOLE_LINE,
                                    delimiter="\t"):
    """A table from int64 ids (line numbers by default) to the strings of a vocabulary file.

    Args:
      vocabulary_file: the vocabulary file.
      vocab_size: None, or the number of lines to read.
      default_value: the string of ids missing from the file.
      name: the name scope.
      key_column_index: the id column (default: the line number).
      value_column_index: the string column (default: the whole line).
      delimiter: the column delimiter.

    Returns:
      A `StaticHashTable` from int64 to string.

    Raises:
      ValueError: for a missing file name or a bad vocab_size.
    """
    if vocabulary_file is None or (isinstance(vocabulary_file, str) and not vocabulary_file):
        raise ValueError("`vocabulary_file` must be specified and must not be empty.")
    if vocab_size is not None and vocab_size < 1:
        raise ValueError(f"`vocab_size` must be greater than 0, got {vocab_size}.")
    with graph_lib.name_scope(name, "index_to_string", []):
        initializer = TextFileStringTableInitializer(
            vocabulary_file, vocab_size=vocab_size, name="table_init",
            key_column_index=key_column_index, value_column_index=value_column_index,
            delimiter=delimiter)
        return StaticHashTable(initializer, default_value)


def string_to_index(tensor, mapping, default_value=-1, name=None):
    """The position of each string of `tensor` in `mapping` (TF 1's contrib function).

    Args:
      tensor: a string Tensor or SparseTensor.
      mapping: a 1-D string tensor or list of unique strings.
      default_value: the id of strings not in `mapping`.
      name: the name scope.

    Returns:
      An int64 tensor shaped like `tensor`; its table joins ``TABLE_INITIALIZERS``.
    """
    table = index_table_from_tensor(mapping, default_value=default_value, name=name)
    return table.lookup(tensor)


def index_to_string(tensor, mapping, default_value="UNK", name=None):
    """The string of each int64 id of `tensor` in `mapping` (TF 1's contrib function).

    Args:
      tensor: an int64 Tensor or SparseTensor.
      mapping: a 1-D string tensor or list.
      default_value: the string of ids out of range.
      name: the name scope.

    Returns:
      A string tensor shaped like `tensor`; its table joins ``TABLE_INITIALIZERS``.
    """
    table = index_to_string_table_from_tensor(mapping, default_value=default_value, name=name)
    return table.lookup(tensor)
