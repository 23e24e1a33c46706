"""``tf.sparse``: the sparse-tensor namespace of TF 1's API (``tf.sparse.to_dense`` …).

Only re-exports; the ops live in ``sessionlib.ops.sparse_ops``,
``sessionlib.ops.sparse_manipulation_ops`` and ``sessionlib.ops.sparse_math_ops``.
"""

from sessionlib.framework.sparse_tensor import SparseTensor, SparseTensorValue
from sessionlib.ops.sparse_manipulation_ops import from_dense
from sessionlib.ops.sparse_manipulation_ops import sparse_concat as concat
from sessionlib.ops.sparse_manipulation_ops import sparse_cross as cross
from sessionlib.ops.sparse_manipulation_ops import sparse_cross_hashed as cross_hashed
from sessionlib.ops.sparse_manipulation_ops import sparse_expand_dims as expand_dims
from sessionlib.ops.sparse_manipulation_ops import sparse_eye as eye
from sessionlib.ops.sparse_manipulation_ops import sparse_fill_empty_rows as fill_empty_rows
from sessionlib.ops.sparse_manipulation_ops import sparse_mask as mask
from sessionlib.ops.sparse_manipulation_ops import sparse_merge as merge
from sessionlib.ops.sparse_manipulation_ops import sparse_reorder as reorder
from sessionlib.ops.sparse_manipulation_ops import sparse_reset_shape as reset_shape
from sessionlib.ops.sparse_manipulation_ops import sparse_reshape as reshape
from sessionlib.ops.sparse_manipulation_ops import sparse_retain as retain
from sessionlib.ops.sparse_manipulation_ops import sparse_slice as slice  # noqa: A004
from sessionlib.ops.sparse_manipulation_ops import sparse_split as split
from sessionlib.ops.sparse_manipulation_ops import sparse_to_indicator as to_indicator
from sessionlib.ops.sparse_manipulation_ops import sparse_transpose as transpose
from sessionlib.ops.sparse_math_ops import sparse_maximum as maximum
from sessionlib.ops.sparse_math_ops import sparse_minimum as minimum
from sessionlib.ops.sparse_math_ops import sparse_reduce_max as reduce_max
from sessionlib.ops.sparse_math_ops import sparse_reduce_max_sparse as reduce_max_sparse
from sessionlib.ops.sparse_math_ops import sparse_reduce_sum_sparse as reduce_sum_sparse
from sessionlib.ops.sparse_math_ops import sparse_segment_mean as segment_mean
from sessionlib.ops.sparse_math_ops import sparse_segment_sqrt_n as segment_sqrt_n
from sessionlib.ops.sparse_math_ops import sparse_segment_sum as segment_sum
from sessionlib.ops.sparse_math_ops import sparse_softmax as softmax
from sessionlib.ops.sparse_math_ops import sparse_tensor_dense_matmul as matmul
from sessionlib.ops.sparse_math_ops import sparse_tensor_dense_matmul as sparse_dense_matmul
from sessionlib.ops.sparse_ops import sparse_add as add
from sessionlib.ops.sparse_ops import sparse_placeholder as placeholder
from sessionlib.ops.sparse_ops import sparse_reduce_sum as reduce_sum
from sessionlib.ops.sparse_ops import sparse_tensor_to_dense as to_dense

__all__ = ["SparseTensor", "SparseTensorValue", "add", "concat", "cross", "cross_hashed",
           "expand_dims", "eye",
           "fill_empty_rows", "from_dense", "mask", "matmul", "maximum", "merge", "minimum",
           "placeholder", "reduce_max", "reduce_max_sparse", "reduce_sum", "reduce_sum_sparse",
           "reorder", "reset_shape", "reshape", "retain", "segment_mean", "segment_sqrt_n",
           "segment_sum", "slice", "softmax", "sparse_dense_matmul", "split", "to_dense",
           "to_indicator", "transpose"]
