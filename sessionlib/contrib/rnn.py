"""``tf.contrib.rnn``: TF 1's contrib spelling of the RNN cells and static RNNs.

The same classes and functions as ``tf.nn.rnn_cell`` and ``tf.nn.static_rnn``: TF 1 made
``contrib.rnn`` re-export them, so variable names and behaviour are identical.
"""

from sessionlib.layers.rnn_cell_impl import (BasicLSTMCell, BasicRNNCell, DeviceWrapper,
                                             DropoutWrapper, GRUCell, LSTMCell, LSTMStateTuple,
                                             MultiRNNCell, ResidualWrapper, RNNCell)
from sessionlib.ops.rnn import static_bidirectional_rnn, static_rnn

__all__ = ["RNNCell", "BasicRNNCell", "BasicLSTMCell", "LSTMCell", "GRUCell", "MultiRNNCell",
           "DropoutWrapper", "ResidualWrapper", "DeviceWrapper", "LSTMStateTuple",
           "static_rnn", "static_bidirectional_rnn"]


def __getattr__(name):
    from sessionlib import contrib

    raise contrib.unsupported(f"rnn.{name}")
