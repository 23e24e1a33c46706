"""N-dimensional gather and scatter: ``gather_nd`` (op ``GatherNd``) and ``scatter_nd`` (op
``ScatterNd``).

The last dimension of `indices` holds K coordinates into the first K dimensions of the
gathered (or scattered-into) tensor; the remaining dimensions are whole slices. Each op is
the other's gradient, as in TF. The kernels are in ``runtime/kernels/scatter_gather_kernels.py``
and raise InvalidArgumentError for an index out of range when the graph runs.
"""

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework import registry
from sessionlib.framework.graph import Tensor
from sessionlib.framework.indexed_slices import IndexedSlices
from sessionlib.framework.tensor_shape import TensorShape
from sessionlib.ops import _infer, array_ops, math_ops

__all__ = ["gather_nd", "scatter_nd"]


def _gather_nd_infer(inputs, attrs):
    params, indices = inputs
    _infer.check_index_dtype("GatherNd", indices, "indices")
    attrs["Tparams"] = params.dtype
    attrs["Tindices"] = indices.dtype
    if indices.shape.rank == 0:
        raise ValueError("Shape must be at least rank 1 but is rank 0 for 'GatherNd'")
    if indices.shape.rank is None or indices.shape[-1] is None or params.shape.rank is None:
        return [(params.dtype, TensorShape(None))]
    depth = indices.shape[-1]
    if depth > params.shape.rank:
        raise ValueError(f"indices.shape[-1] must be <= params.rank, but saw indices shape: "
                         f"{indices.shape} and params shape: {params.shape} for 'GatherNd'")
    return [(params.dtype, TensorShape(indices.shape.as_list()[:-1]
                                       + params.shape.as_list()[depth:]))]


def _gather_nd_grad(op, grad):
    params, indices = op.inputs
    shape = array_ops.shape(params, out_type=indices.dtype)
    if indices.shape.rank == 2 and indices.shape[-1] == 1:
        # Whole rows gathered by a list of row numbers: a sparse gradient, as for `gather`,
        # so that an optimizer updates only those rows (TF does the same).
        return [IndexedSlices(grad, array_ops.squeeze(indices, axis=[-1]), shape), None]
    return [scatter_nd(indices, grad, shape), None]


registry.register_op("GatherNd", infer=_gather_nd_infer, kernel="GatherNd", num_inputs=2,
                     doc="Gathers slices of params at N-dimensional indices.",
                     gradient=_gather_nd_grad)


def gather_nd(params, indices, name=None, batch_dims=0):
    """The elements or slices of `params` at the coordinates in `indices` (op ``GatherNd``).

    Args:
      params: the Tensor to gather from.
      indices: an int32/int64 Tensor whose last dimension K is at most ``rank(params)``.
      name: the op name.
      batch_dims: must be 0.

    Returns:
      A Tensor of shape ``indices.shape[:-1] + params.shape[K:]``. An index out of range is
      an InvalidArgumentError when the graph runs.

    Raises:
      ValueError: if K exceeds the rank of `params`, or `batch_dims` is not 0.
    """
    if batch_dims != 0:
        raise ValueError("gather_nd supports batch_dims=0 only")
    graph = math_ops._find_graph((params, indices))
    with graph.as_default(), graph.name_scope(name or "GatherNd") as scope:
        params_t = array_ops._tensor(params, "params", graph)
        indices_t = array_ops._index_tensor(indices, "indices", graph)
        return graph.create_op("GatherNd", [params_t, indices_t], name=scope).outputs[0]


def _scatter_nd_infer(inputs, attrs):
    indices, updates, shape_t = inputs
    _infer.check_index_dtype("ScatterNd", indices, "indices")
    _infer.check_index_dtype("ScatterNd", shape_t, "shape")
    _infer.check_dtype("ScatterNd", updates, dtypes.NUMERIC_DTYPES, "updates")
    if indices.dtype != shape_t.dtype:
        raise TypeError(f"Input 'shape' of 'ScatterNd' Op has type {shape_t.dtype.name} that "
                        f"does not match type {indices.dtype.name} of argument 'indices'.")
    attrs["T"] = updates.dtype
    attrs["Tindices"] = indices.dtype
    if indices.shape.rank == 0:
        raise ValueError("Shape must be at least rank 1 but is rank 0 for 'ScatterNd'")
    out_shape = _infer.shape_from_tensor(shape_t)
    if (indices.shape.rank is not None and indices.shape[-1] is not None
            and out_shape.rank is not None and updates.shape.rank is not None):
        depth = indices.shape[-1]
        if depth > out_shape.rank:
            raise ValueError(f"Inner dimension of indices ({depth}) must be <= the rank of "
                             f"shape ({out_shape.rank}) for 'ScatterNd'")
        expected = TensorShape(indices.shape.as_list()[:-1] + out_shape.as_list()[depth:])
        if not expected.is_compatible_with(updates.shape):
            raise ValueError(f"Dimensions of updates {updates.shape} must be indices.shape[:-1]"
                             f" + shape[{depth}:] = {expected} for 'ScatterNd'")
    return [(updates.dtype, out_shape)]


def _scatter_nd_grad(op, grad):
    return [None, gather_nd(grad, op.inputs[0]), None]


registry.register_op("ScatterNd", infer=_scatter_nd_infer, kernel="ScatterNd", num_inputs=3,
                     doc="Scatters updates into a zero tensor at N-dimensional indices, "
                         "adding duplicates.", gradient=_scatter_nd_grad)


def scatter_nd(indices, updates, shape, name=None):
    """A zero Tensor of `shape` with `updates` added at `indices` (op ``ScatterNd``).

    Args:
      indices: an int32/int64 Tensor whose last dimension K is at most ``len(shape)``.
      updates: a numeric Tensor of shape ``indices.shape[:-1] + shape[K:]``.
      shape: the output shape, a 1-D Tensor of `indices`' dtype.
      name: the op name.

    Returns:
      A Tensor of `updates`' dtype and shape `shape`; updates at one index are summed. An
      index out of range is an InvalidArgumentError when the graph runs.

    Raises:
      ValueError: for shapes that do not fit.
      TypeError: for a dtype that is not numeric, or `shape` not of `indices`' dtype.
    """
    graph = math_ops._find_graph((indices, updates, shape))
    with graph.as_default(), graph.name_scope(name or "ScatterNd") as scope:
        indices_t = array_ops._index_tensor(indices, "indices", graph)
        updates_t = array_ops._tensor(updates, "updates", graph)
        if isinstance(shape, Tensor):
            shape_t = shape
        elif isinstance(shape, (list, tuple)) and any(isinstance(d, Tensor) for d in shape):
            shape_t = array_ops._index_tensor(shape, "shape", graph)
        else:
            if isinstance(shape, TensorShape):
                shape = shape.as_list()
            shape_t = graph_lib.convert_to_tensor(shape, dtype=indices_t.dtype, name="shape",
                                                  graph=graph)
        return graph.create_op("ScatterNd", [indices_t, updates_t, shape_t],
                               name=scope).outputs[0]
