"""``tf.saved_model.utils``: TensorInfo protos, the tensors of a signature by name."""

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework import sparse_tensor
from sessionlib.framework import tensor_shape
from sessionlib.framework.meta_graph import prepend_name_scope
from sessionlib.protos import meta_graph_pb2, types_pb2

__all__ = ["build_tensor_info", "get_tensor_from_tensor_info"]


def build_tensor_info(tensor):
    """The ``TensorInfo`` proto of a tensor: its name, dtype and static shape.

    Args:
      tensor: a Tensor, or a SparseTensor (then described by its three components' names).

    Returns:
      A ``TensorInfo``.

    Raises:
      TypeError: if `tensor` is neither.
    """
    is_sparse = isinstance(tensor, sparse_tensor.SparseTensor)
    if not is_sparse and not isinstance(tensor, graph_lib.Tensor):
        # A Variable describes its value tensor, as in TF.
        as_tensor = getattr(tensor, "_as_graph_element", None)
        if as_tensor is None:
            raise TypeError(f"build_tensor_info needs a Tensor or SparseTensor; got "
                            f"{type(tensor).__name__}")
        tensor = as_tensor()
    tensor_info = meta_graph_pb2.TensorInfo(
        dtype=dtypes.as_dtype(tensor.dtype).as_datatype_enum,
        tensor_shape=tensor.get_shape().as_proto())
    if is_sparse:
        tensor_info.coo_sparse.values_tensor_name = tensor.values.name
        tensor_info.coo_sparse.indices_tensor_name = tensor.indices.name
        tensor_info.coo_sparse.dense_shape_tensor_name = tensor.dense_shape.name
    else:
        tensor_info.name = tensor.name
    return tensor_info


def build_tensor_info_from_op(op):
    """A ``TensorInfo`` naming an operation (no dtype, unknown shape): how TF 2's builder
    stores init and train ops in signatures."""
    return meta_graph_pb2.TensorInfo(
        dtype=types_pb2.DT_INVALID, tensor_shape=tensor_shape.unknown_shape().as_proto(),
        name=op.name)


def get_tensor_from_tensor_info(tensor_info, graph=None, import_scope=None):
    """The Tensor or SparseTensor a ``TensorInfo`` names, in `graph`.

    Args:
      tensor_info: a ``TensorInfo`` (e.g. of a loaded signature's inputs or outputs).
      graph: the graph to look in (default: the default graph).
      import_scope: the scope the graph was loaded under, put in front of the names.

    Returns:
      The Tensor, or a SparseTensor for a ``coo_sparse`` TensorInfo.

    Raises:
      KeyError: if the graph has no such tensor.
      ValueError: if the TensorInfo has no (supported) encoding.
    """
    graph = graph or graph_lib.get_default_graph()

    def tensor_named(name):
        return graph.get_tensor_by_name(prepend_name_scope(name, import_scope))

    encoding = tensor_info.WhichOneof("encoding")
    if encoding == "name":
        return tensor_named(tensor_info.name)
    if encoding == "coo_sparse":
        coo = tensor_info.coo_sparse
        return sparse_tensor.SparseTensor(tensor_named(coo.indices_tensor_name),
                                          tensor_named(coo.values_tensor_name),
                                          tensor_named(coo.dense_shape_tensor_name))
    raise ValueError(f"Invalid TensorInfo.encoding: {encoding}. Expected `coo_sparse` or "
                     f"`name` for a dense tensor.")


def get_element_from_tensor_info(tensor_info, graph=None, import_scope=None):
    """The Operation or Tensor a ``TensorInfo``'s name names, in `graph`."""
    graph = graph or graph_lib.get_default_graph()
    return graph.as_graph_element(prepend_name_scope(tensor_info.name, import_scope))
