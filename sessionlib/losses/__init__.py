"""``tf.losses``: TF 1's loss functions (``tf.compat.v1.losses``), their weights and
reductions, and the loss collections.

Built from ops; nothing here runs anything. The losses are in ``losses_impl.py``, the
collection utilities in ``util.py``, and the weight-broadcasting helpers that ``tf.metrics``
shares in ``_weights.py``.
"""

from sessionlib.losses.losses_impl import (Reduction, absolute_difference,
                                           compute_weighted_loss, cosine_distance, hinge_loss,
                                           huber_loss, log_loss, mean_pairwise_squared_error,
                                           mean_squared_error, sigmoid_cross_entropy,
                                           softmax_cross_entropy, sparse_softmax_cross_entropy)
from sessionlib.losses.util import (add_loss, get_losses, get_regularization_loss,
                                    get_regularization_losses, get_total_loss)

__all__ = ["Reduction", "absolute_difference", "compute_weighted_loss", "cosine_distance",
           "hinge_loss", "huber_loss", "log_loss", "mean_pairwise_squared_error",
           "mean_squared_error", "sigmoid_cross_entropy", "softmax_cross_entropy",
           "sparse_softmax_cross_entropy", "add_loss", "get_losses", "get_regularization_loss",
           "get_regularization_losses", "get_total_loss"]
