"""``tf.contrib.lookup``: TF 1's lookup tables and the vocabulary-table functions.

Only re-exports; the tables live in ``sessionlib.ops.lookup_ops``.
"""

from sessionlib.ops.lookup_ops import ContribMutableDenseHashTable as MutableDenseHashTable
from sessionlib.ops.lookup_ops import ContribMutableHashTable as MutableHashTable
from sessionlib.ops.lookup_ops import (FastHashSpec, HashTable, HasherSpec,
                                       IdTableWithHashBuckets, InitializableLookupTableBase,
                                       KeyValueTensorInitializer, LookupInterface,
                                       StrongHashSpec, TableInitializerBase,
                                       TextFileIdTableInitializer, TextFileIndex,
                                       TextFileInitializer, TextFileStringTableInitializer,
                                       index_table_from_file, index_table_from_tensor,
                                       index_to_string, index_to_string_table_from_file,
                                       index_to_string_table_from_tensor, string_to_index)

__all__ = ["FastHashSpec", "HashTable", "HasherSpec", "IdTableWithHashBuckets",
           "InitializableLookupTableBase", "KeyValueTensorInitializer", "LookupInterface",
           "MutableDenseHashTable", "MutableHashTable", "StrongHashSpec",
           "TableInitializerBase", "TextFileIdTableInitializer",
           "TextFileIndex", "TextFileInitializer", "TextFileStringTableInitializer",
           "index_table_from_file", "index_table_from_tensor", "index_to_string",
           "index_to_string_table_from_file", "index_to_string_table_from_tensor",
           "string_to_index", "string_to_index_table_from_file",
           "string_to_index_table_from_tensor"]


def string_to_index_table_from_tensor(mapping, num_oov_buckets=0, default_value=-1,
                                      hasher_spec=FastHashSpec, name=None):
    """TF 1's deprecated spelling of `index_table_from_tensor` for string keys.

    Args:
      mapping: a 1-D string tensor or list of unique keys.
      num_oov_buckets, default_value, hasher_spec, name: as for `index_table_from_tensor`.

    Returns:
      A lookup table from strings to int64 ids.
    """
    return index_table_from_tensor(mapping, num_oov_buckets=num_oov_buckets,
                                   default_value=default_value, hasher_spec=hasher_spec,
                                   name=name)


def string_to_index_table_from_file(vocabulary_file=None, num_oov_buckets=0, vocab_size=None,
                                    default_value=-1, hasher_spec=FastHashSpec, name=None):
    """TF 1's deprecated spelling of `index_table_from_file` for string keys.

    Args:
      vocabulary_file, num_oov_buckets, vocab_size, default_value, hasher_spec, name: as for
        `index_table_from_file`.

    Returns:
      A lookup table from strings to int64 ids.
    """
    return index_table_from_file(vocabulary_file, num_oov_buckets=num_oov_buckets,
                                 vocab_size=vocab_size, default_value=default_value,
                                 hasher_spec=hasher_spec, name=name)


def __getattr__(name):
    from sessionlib import contrib

    raise contrib.unsupported(f"lookup.{name}")
