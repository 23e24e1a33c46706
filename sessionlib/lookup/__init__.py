"""``tf.lookup``: TF 1's (``tf.compat.v1.lookup``) lookup tables and their initializers.

Only re-exports; the tables live in ``sessionlib.ops.lookup_ops``.
"""

from sessionlib.lookup import experimental
from sessionlib.ops.lookup_ops import (KeyValueTensorInitializer, StaticHashTable,
                                       StaticVocabularyTable, TextFileIndex,
                                       TextFileInitializer)

__all__ = ["KeyValueTensorInitializer", "StaticHashTable", "StaticVocabularyTable",
           "TextFileIndex", "TextFileInitializer", "experimental"]
