"""The loss collections: `add_loss`, `get_losses`, the regularization losses and
`get_total_loss` (TF 1's ``tf.losses`` utilities).

Losses are found through graph collections, as in TF: every ``tf.losses`` function adds its
result to ``GraphKeys.LOSSES``, and regularizers (variable scopes, layers) add theirs to
``GraphKeys.REGULARIZATION_LOSSES``; `get_total_loss` sums both, so model code never has to
carry its losses around.
"""

from sessionlib.framework import graph as graph_lib
from sessionlib.ops import array_ops, math_ops
from sessionlib.losses import _weights

__all__ = ["add_loss", "get_losses", "get_regularization_losses", "get_regularization_loss",
           "get_total_loss"]

_LOSSES = _weights.collection_key("LOSSES")


def add_loss(loss, loss_collection=_LOSSES):
    """Adds `loss` to the collection `loss_collection` of the default graph (none if falsy).

    Args:
      loss: a loss Tensor.
      loss_collection: the collection's name (default ``GraphKeys.LOSSES``).
    """
    if loss_collection:
        graph_lib.get_default_graph().add_to_collection(loss_collection, loss)


def get_losses(scope=None, loss_collection=_LOSSES):
    """The losses in `loss_collection`, optionally only those whose name matches `scope` (a
    regex anchored at the start, like ``get_collection``)."""
    return graph_lib.get_default_graph().get_collection(loss_collection, scope)


def get_regularization_losses(scope=None):
    """The losses in ``GraphKeys.REGULARIZATION_LOSSES``, optionally filtered by `scope`."""
    return graph_lib.get_default_graph().get_collection(
        _weights.collection_key("REGULARIZATION_LOSSES"), scope)


def get_regularization_loss(scope=None, name="total_regularization_loss"):
    """The sum of the regularization losses (an ``AddN`` named `name`), or a constant 0.0
    when there are none.

    Args:
      scope: an optional regex filtering the losses by name.
      name: the name of the sum.

    Returns:
      A scalar Tensor.
    """
    losses = get_regularization_losses(scope)
    if losses:
        return math_ops.add_n(losses, name=name)
    return array_ops.constant(0.0)


def get_total_loss(add_regularization_losses=True, name="total_loss", scope=None):
    """The sum of the losses in ``GraphKeys.LOSSES`` and, by default, of the regularization
    losses (an ``AddN`` named `name`).

    Args:
      add_regularization_losses: also sum the regularization losses.
      name: the name of the sum.
      scope: an optional regex filtering both collections by name.

    Returns:
      A scalar Tensor.

    Raises:
      ValueError: if there is no loss to sum (TF's ``add_n`` error).
    """
    losses = get_losses(scope=scope)
    if add_regularization_losses:
        losses += get_regularization_losses(scope=scope)
    return math_ops.add_n(losses, name=name)
