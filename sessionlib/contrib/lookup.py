"""``tf.contrib.lookup``: TF 1's lookup tables and the vocabulary-table functions.

Only re-exports; the tables live in ``sessionlib.ops.lookup_ops``.
"""

from sessionlib.ops.lookup_ops import (FastHashSpec, HashTable, HasherSpec,
                                       IdTableWithHashBuckets, InitializableLookupTableBase,
                                       KeyValueTensorInitializer, LookupInterface,
                                       MutableHashTable, TableInitializerBase,
                                       TextFileIdTableInitializer, TextFileIndex,
                                       TextFileInitializer, TextFileStringTableInitializer,
                                       index_table_from_file, index_table_from_tensor,
                                       index_to_string, index_to_string_table_from_file,
                                       index_to_string_table_from_tensor, string_to_index)

__all__ = ["FastHashSpec", "HashTable", "HasherSpec", "IdTableWithHashBuckets",
           "InitializableLookupTableBase", "KeyValueTensorInitializer", "LookupInterface",
           "MutableHashTable", "TableInitializerBase", "TextFileIdTableInitializer",
           "TextFileIndex", "TextFileInitializer", "TextFileStringTableInitializer",
           "index_table_from_file", "index_table_from_tensor", "index_to_string",
           "index_to_string_table_from_file", "index_to_string_table_from_tensor",
           "string_to_index"]


def __getattr__(name):
    from sessionlib import contrib

    raise contrib.unsupported(f"lookup.{name}")
