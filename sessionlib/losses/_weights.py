"""Weight and shape helpers that ``tf.losses`` and ``tf.metrics`` share.

TF checks that weights broadcast to the values they scale (``assert_broadcastable``): rank 0,
or the values' rank with each dimension 1 or equal. sessionlib has no assert ops yet, so the
check is done on static shapes only, while the graph is built, with TF's ValueError; weights
whose shape is unknown statically are used as they come (numpy broadcasting then decides, and
an incompatible shape fails when the graph runs).

The ``remove_squeezable_dimensions`` helpers drop a trailing dimension of size 1 where TF
does, so that labels of shape ``[batch, 1]`` meet predictions of shape ``[batch]``.
"""

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework.graph import GraphKeys
from sessionlib.ops import array_ops, math_ops

__all__ = ["collection_key", "assert_broadcastable", "broadcast_weights",
           "remove_squeezable_dimensions"]

# The standard collection names; a module that adds them to GraphKeys may not be merged yet.
_KEYS = {"LOSSES": "losses", "REGULARIZATION_LOSSES": "regularization_losses",
         "METRIC_VARIABLES": "metric_variables", "LOCAL_VARIABLES": "local_variables"}

_NOT_BROADCASTABLE = "weights can not be broadcast to values."


def collection_key(name):
    """The value of ``GraphKeys.<name>``, with TF's string where GraphKeys lacks it."""
    return getattr(GraphKeys, name, _KEYS[name])


def assert_broadcastable(weights, values):
    """Raises TF's ValueError when the static shapes show that `weights` cannot scale
    `values` (rank 0, or the same rank with each dimension 1 or equal)."""
    weights_rank, values_rank = weights.shape.rank, values.shape.rank
    if weights_rank is None or values_rank is None or weights_rank == 0:
        return
    if weights_rank != values_rank:
        raise ValueError(f"{_NOT_BROADCASTABLE} values.rank={values_rank}. "
                         f"weights.rank={weights_rank}. values.shape={values.shape}. "
                         f"weights.shape={weights.shape}.")
    for i, (w, v) in enumerate(zip(weights.shape.as_list(), values.shape.as_list())):
        if w is not None and v is not None and w not in (1, v):
            raise ValueError(f"{_NOT_BROADCASTABLE} Mismatch at dim {i}. "
                             f"values.shape={values.shape.as_list()}, "
                             f"weights.shape={weights.shape.as_list()}.")


def broadcast_weights(weights, values):
    """`weights` broadcast to the shape of `values` (TF's ``broadcast_weights``).

    Returns `weights` itself when its static shape already equals that of `values`, else
    ``weights * ones_like(values)``.

    Raises:
      ValueError: if the static shapes cannot broadcast, as `assert_broadcastable`.
    """
    graph = math_ops._find_graph((weights, values))
    with graph.as_default(), graph.name_scope("broadcast_weights") as scope:
        weights = graph_lib.convert_to_tensor(weights, name="weights")
        values = graph_lib.convert_to_tensor(values, name="values")
        if (weights.shape.is_fully_defined() and values.shape.is_fully_defined()
                and weights.shape.is_compatible_with(values.shape)):
            return weights
        assert_broadcastable(weights, values)
        return math_ops.multiply(weights, array_ops.ones_like(values, dtype=weights.dtype),
                                 name=scope)


def _squeeze_last(tensor):
    return array_ops.squeeze(tensor, [-1])


def remove_squeezable_dimensions(labels, predictions, expected_rank_diff=0):
    """TF's ``confusion_matrix.remove_squeezable_dimensions`` on static ranks: squeezes the
    last dimension (of size 1 or unknown) of whichever of `labels` and `predictions` has
    one more than ``rank(labels) + expected_rank_diff == rank(predictions)`` allows.

    Returns:
      ``(labels, predictions)`` as Tensors.
    """
    labels = graph_lib.convert_to_tensor(labels)
    predictions = graph_lib.convert_to_tensor(predictions)
    labels_rank, predictions_rank = labels.shape.rank, predictions.shape.rank
    if labels_rank is None or predictions_rank is None:
        return labels, predictions
    rank_diff = predictions_rank - labels_rank
    if (rank_diff == expected_rank_diff + 1
            and predictions.shape.as_list()[-1] in (None, 1)):
        predictions = _squeeze_last(predictions)
    elif rank_diff == expected_rank_diff - 1 and labels.shape.as_list()[-1] in (None, 1):
        labels = _squeeze_last(labels)
    return labels, predictions


def squeeze_weights_like(weights, reference, expand=False):
    """Squeezes a trailing dimension of `weights` when it has one more than `reference`;
    with `expand`, also adds one when it has one fewer (the metrics' variant). Rank-0
    weights and unknown ranks are left alone."""
    weights = graph_lib.convert_to_tensor(weights, name="weights")
    weights_rank, reference_rank = weights.shape.rank, reference.shape.rank
    if weights_rank in (None, 0) or reference_rank is None:
        return weights
    if weights_rank - reference_rank == 1:
        return _squeeze_last(weights)
    if expand and reference_rank - weights_rank == 1:
        return array_ops.expand_dims(weights, -1)
    return weights


def to_float(value, name=None):
    """`value` as a float32 Tensor (cast only if needed)."""
    return math_ops.cast(graph_lib.convert_to_tensor(value), dtypes.float32, name=name)
