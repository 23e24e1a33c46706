"""``tf.lookup.experimental``: the mutable hash tables."""

from sessionlib.ops.lookup_ops import DenseHashTable, MutableHashTable

__all__ = ["DenseHashTable", "MutableHashTable"]
