"""``tf.contrib``: the few legacy names that TF 1 tutorials import most, so that such code runs
unchanged.

This is not a second API. Each name is a thin alias of sessionlib's own implementation, with the
names and defaults that contrib gave it (``fully_connected/weights``, ``Conv/biases``,
``BatchNorm/moving_mean``, contrib's Xavier and variance-scaling formulas):

* `layers`: ``flatten``, ``fully_connected``, ``conv2d``, ``conv2d_transpose``,
  ``separable_conv2d``, ``xavier_initializer``,
  ``variance_scaling_initializer``, ``l1_regularizer``, ``l2_regularizer``, ``batch_norm``,
  ``layer_norm``, ``dropout``, ``max_pool2d``, ``avg_pool2d``, ``one_hot_encoding``,
  ``repeat``, ``stack``, ``softmax``, ``bias_add``, ``linear``, ``relu``, ``relu6``,
  ``l1_l2_regularizer`` (the layers decorated for ``arg_scope``);
* `framework`: ``arg_scope`` and ``add_arg_scope``, ``get_or_create_global_step``,
  ``variable`` and ``model_variable``, the variable queries (``get_variables``,
  ``get_model_variables``, ``get_variables_to_restore``, ...), ``assign_from_checkpoint_fn``;
* `slim`: TF-slim's namespace, the names of `layers` and `framework` with ``slim.losses``,
  ``slim.metrics``, ``slim.initializers``, ``slim.regularizers``, ``slim.utils`` and
  ``slim.learning`` (``create_train_op``, ``train``);
* `rnn`: the RNN cells of ``tf.nn.rnn_cell``, ``static_rnn`` and ``static_bidirectional_rnn``,
  and contrib's ``LayerNormBasicLSTMCell``, ``LSTMBlockCell``, ``GRUBlockCell(V2)``,
  ``LSTMBlockFusedCell``, ``UGRNNCell``, ``CoupledInputForgetGateLSTMCell``, the projection,
  embedding, highway and attention wrappers and the stacked bidirectional RNNs;
* `crf`: the linear-chain CRF (log-likelihood, log-norm, scores, Viterbi decoding);
* `metrics`: the ``streaming_*`` metrics over ``tf.metrics``, with contrib's argument order;
* `losses`: contrib's loss functions over ``tf.losses``, with contrib's signatures;
* `seq2seq`: ``sequence_loss``, ``tile_batch``, the decoding helpers, ``BasicDecoder``,
  ``dynamic_decode``, and Bahdanau/Luong attention with ``AttentionWrapper``;
* `training`: ``HParams`` and ``parse_values``, TF 1.15's hyper-parameter container;
* `opt`: ``LazyAdamOptimizer``, ``AdamWOptimizer``, ``MomentumWOptimizer``,
  ``extend_with_decoupled_weight_decay`` and ``MovingAverageOptimizer`` over ``tf.train``'s
  optimizers;
* `lookup`: ``HashTable``, ``MutableHashTable``, ``MutableDenseHashTable``, the table
  initializers, ``IdTableWithHashBuckets`` and its hasher specs, ``index_table_from_tensor``/
  ``_file``, ``index_to_string_table_from_tensor``/``_file``, ``string_to_index``,
  ``index_to_string``;
* `data`: the ``Dataset.apply`` transformations that are ``tf.data`` methods under another
  name (``batch_and_drop_remainder``, ``shuffle_and_repeat``, ``map_and_batch``, ...).

Anything else under ``contrib`` raises `AttributeError` naming what is supported.
"""

from sessionlib.contrib import crf, framework, layers, losses, metrics
from sessionlib.contrib import data, lookup, opt, rnn, seq2seq, slim, training

__all__ = ["crf", "data", "framework", "layers", "lookup", "losses", "metrics", "opt", "rnn",
           "seq2seq", "slim", "training"]

SUPPORTED = ("contrib.layers: " + ", ".join(layers.__all__)
             + "; contrib.framework: " + ", ".join(framework.__all__)
             + "; contrib.rnn: " + ", ".join(rnn.__all__)
             + "; contrib.crf: " + ", ".join(crf.__all__)
             + "; contrib.metrics: " + ", ".join(metrics.__all__)
             + "; contrib.losses: " + ", ".join(losses.__all__)
             + "; contrib.slim: the names of contrib.layers and contrib.framework, losses, "
               "metrics, initializers, regularizers, utils, learning.create_train_op and "
               "learning.train"
             + "; contrib.seq2seq: " + ", ".join(seq2seq.__all__)
             + "; contrib.training: " + ", ".join(training.__all__)
             + "; contrib.opt: " + ", ".join(opt.__all__)
             + "; contrib.data: " + ", ".join(data.__all__)
             + "; contrib.lookup: " + ", ".join(lookup.__all__))


def unsupported(name):
    """The AttributeError for a contrib name that sessionlib does not provide."""
    return AttributeError(f"sessionlib.contrib has no attribute {name!r}: tf.contrib is gone "
                          f"from TensorFlow, and sessionlib keeps only the names TF 1 tutorials "
                          f"use most ({SUPPORTED}). Use the core API (tf.layers, tf.losses, "
                          f"tf.train, tf.nn) for the rest.")


def __getattr__(name):
    raise unsupported(name)
