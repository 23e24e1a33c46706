"""``tf.lookup.experimental``: the mutable hash table (``DenseHashTable`` is not provided)."""

from sessionlib.ops.lookup_ops import MutableHashTable

__all__ = ["MutableHashTable"]
