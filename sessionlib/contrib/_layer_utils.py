"""contrib's named outputs (``slim.utils``): a layer adds its output to `outputs_collections`
under an alias, its scope's name (``vgg_16/conv1/conv1_1``), and ``convert_collection_to_dict``
turns such a collection into the ``end_points`` dict that slim's nets return.

TF 1 hung the aliases on the tensor itself (``tensor.aliases``); sessionlib's tensors have fixed
slots, so the aliases live in a table keyed weakly by tensor, which forgets a tensor together
with its graph.
"""

import collections as collections_lib
import weakref

from sessionlib.framework import graph as graph_lib

__all__ = ["append_tensor_alias", "collect_named_outputs", "convert_collection_to_dict",
           "gather_tensors_aliases", "get_tensor_aliases", "last_dimension"]

# tensor -> its aliases, in the order they were given.
_ALIASES = weakref.WeakKeyDictionary()


def append_tensor_alias(tensor, alias):
    """Gives `tensor` one more alias (a trailing ``/`` of a name scope dropped).

    Args:
      tensor: a Tensor.
      alias: a string.

    Returns:
      `tensor`.
    """
    if alias.endswith("/"):
        alias = alias[:-1]
    _ALIASES.setdefault(tensor, []).append(alias)
    return tensor


def get_tensor_aliases(tensor):
    """The aliases of `tensor`, or its op's name when it has none.

    Args:
      tensor: a Tensor.

    Returns:
      A list of strings.
    """
    return list(_ALIASES.get(tensor, ())) or [tensor.op.name]


def gather_tensors_aliases(tensors):
    """The aliases of every tensor in `tensors`, in order.

    Args:
      tensors: a list of Tensors.

    Returns:
      A list of strings.
    """
    return [alias for tensor in tensors for alias in get_tensor_aliases(tensor)]


def collect_named_outputs(collections, alias, outputs):
    """Adds `outputs` under `alias` to each of `collections` (nothing when it is empty).

    Args:
      collections: a collection key, or a list of them, or None.
      alias: the name the output goes by in ``end_points``.
      outputs: a Tensor.

    Returns:
      `outputs`.
    """
    if collections:
        append_tensor_alias(outputs, alias)
        if isinstance(collections, str):
            collections = [collections]
        graph = graph_lib.get_default_graph()
        for key in collections:
            graph.add_to_collection(key, outputs)
    return outputs


def convert_collection_to_dict(collection, clear_collection=False):
    """The tensors of `collection` keyed by their aliases: slim's ``end_points``.

    Args:
      collection: a collection key of the default graph.
      clear_collection: empty the collection afterwards.

    Returns:
      An OrderedDict from alias to Tensor, in the collection's order (a later tensor under the
      same alias wins).
    """
    graph = graph_lib.get_default_graph()
    tensors = graph.get_collection(collection)
    end_points = collections_lib.OrderedDict(
        (alias, tensor) for tensor in tensors for alias in get_tensor_aliases(tensor))
    if clear_collection:
        graph.clear_collection(collection)
    return end_points


def last_dimension(shape, min_rank=1):
    """The statically known last dimension of `shape`.

    Args:
      shape: a TensorShape.
      min_rank: the least rank accepted.

    Returns:
      An int.

    Raises:
      ValueError: for an unknown rank, a rank below `min_rank`, or an unknown last dimension.
    """
    dims = shape.dims
    if dims is None:
        raise ValueError("dims of shape must be known but is None")
    if len(dims) < min_rank:
        raise ValueError(f"rank of shape must be at least {min_rank} not: {len(dims)}")
    value = dims[-1]
    value = getattr(value, "value", value)
    if value is None:
        raise ValueError("last dimension shape must be known but is None")
    return int(value)
