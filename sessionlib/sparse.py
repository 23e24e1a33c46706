"""``tf.sparse``: the sparse-tensor namespace of TF 1's API (``tf.sparse.to_dense`` …).

Only re-exports; the ops live in ``sessionlib.ops.sparse_ops``.
"""

from sessionlib.framework.sparse_tensor import SparseTensor, SparseTensorValue
from sessionlib.ops.sparse_ops import sparse_add as add
from sessionlib.ops.sparse_ops import sparse_placeholder as placeholder
from sessionlib.ops.sparse_ops import sparse_reduce_sum as reduce_sum
from sessionlib.ops.sparse_ops import sparse_tensor_to_dense as to_dense

__all__ = ["SparseTensor", "SparseTensorValue", "add", "placeholder", "reduce_sum", "to_dense"]
