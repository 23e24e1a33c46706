"""``tf.contrib.rnn``: TF 1's contrib spelling of the RNN cells and static RNNs, and contrib's
``LayerNormBasicLSTMCell``, ``LSTMBlockCell``, ``GRUBlockCell`` and ``GRUBlockCellV2``.

The core cells are the same classes and functions as ``tf.nn.rnn_cell`` and
``tf.nn.static_rnn``: TF 1 made ``contrib.rnn`` re-export them, so variable names and behaviour
are identical. ``LayerNormBasicLSTMCell`` exists only in contrib, and is written here.

The block cells were fused kernels in TF; their equations are those of ``LSTMCell`` and
``GRUCell`` (gates in the order i, j (new input), f, o; r, u), so here they are those cells
under contrib's constructor arguments and contrib's variable names, which keeps TF 1
checkpoints loadable.
"""

import numbers

from sessionlib.layers.rnn_cell_impl import (BasicLSTMCell, BasicRNNCell, DeviceWrapper,
                                             DropoutWrapper, GRUCell, LSTMCell, LSTMStateTuple,
                                             MultiRNNCell, ResidualWrapper, RNNCell,
                                             _input_depth)
from sessionlib.ops import array_ops, init_ops, math_ops, nn
from sessionlib.ops import variable_scope as vs
from sessionlib.ops.nn_lookup_ops import dropout
from sessionlib.ops.rnn import static_bidirectional_rnn, static_rnn

__all__ = ["RNNCell", "BasicRNNCell", "BasicLSTMCell", "LSTMCell", "GRUCell", "MultiRNNCell",
           "DropoutWrapper", "ResidualWrapper", "DeviceWrapper", "LSTMStateTuple",
           "static_rnn", "static_bidirectional_rnn", "LayerNormBasicLSTMCell", "LSTMBlockCell",
           "GRUBlockCell", "GRUBlockCellV2"]


def __getattr__(name):
    from sessionlib import contrib

    raise contrib.unsupported(f"rnn.{name}")


class LayerNormBasicLSTMCell(RNNCell):
    """A basic LSTM cell with layer normalization (Ba et al. 2016) and recurrent dropout
    (Semeniuta et al. 2016), contrib's ``LayerNormBasicLSTMCell``.

    ``i, j, f, o = split([inputs, h] @ kernel, 4)``, each layer-normalized with its own gain
    and shift (``input``, ``transform``, ``forget``, ``output``);
    ``new_c = LN_state(c * sigmoid(f + forget_bias) + sigmoid(i) * dropout(act(j)))``;
    ``new_h = act(new_c) * sigmoid(o)``. Without layer normalization the gates get a ``bias``
    instead. The variables are contrib's: ``<cell>/kernel`` ``[input + units, 4 * units]``
    and ``<cell>/<gate>/gamma``, ``<cell>/<gate>/beta`` ``[units]`` (``state`` for the cell).

    Args:
      num_units: the number of units.
      forget_bias: added to the forget gate's pre-activation.
      input_size: deprecated and unused, as in contrib.
      activation: the inner nonlinearity (default tanh).
      layer_norm: normalize the gates and the cell state.
      norm_gain, norm_shift: the initial gamma and beta.
      dropout_keep_prob: the keep probability of the new input ``act(j)`` (a float or a
        scalar tensor); 1.0 applies no dropout.
      dropout_prob_seed: the dropout's op seed.
      reuse: reuse the variables of an earlier cell in the same scope.
    """

    def __init__(self, num_units, forget_bias=1.0, input_size=None, activation=math_ops.tanh,
                 layer_norm=True, norm_gain=1.0, norm_shift=0.0, dropout_keep_prob=1.0,
                 dropout_prob_seed=None, reuse=None):
        super().__init__(_reuse=reuse)
        del input_size
        self._num_units = int(num_units)
        self._activation = activation
        self._forget_bias = forget_bias
        self._keep_prob = dropout_keep_prob
        self._seed = dropout_prob_seed
        self._layer_norm = layer_norm
        self._norm_gain = norm_gain
        self._norm_shift = norm_shift

    @property
    def state_size(self):
        return LSTMStateTuple(self._num_units, self._num_units)

    @property
    def output_size(self):
        return self._num_units

    def _norm(self, inputs, scope, dtype):
        """Layer norm of `inputs` with the gain and shift variables of `scope`."""
        from sessionlib.contrib import layers

        shape = inputs.shape[-1:]
        # The variables come first, with the cell's initial values; contrib's layer_norm then
        # reuses them (its own initializers would give ones and zeros).
        with vs.variable_scope(scope):
            vs.get_variable("gamma", shape=shape, dtype=dtype,
                            initializer=init_ops.constant_initializer(self._norm_gain))
            vs.get_variable("beta", shape=shape, dtype=dtype,
                            initializer=init_ops.constant_initializer(self._norm_shift))
        return layers.layer_norm(inputs, reuse=True, scope=scope)

    def _gates(self, args):
        dtype = args.dtype
        depth = args.shape[-1]
        kernel = vs.get_variable("kernel", [depth, 4 * self._num_units], dtype=dtype)
        out = math_ops.matmul(args, kernel)
        if not self._layer_norm:
            bias = vs.get_variable("bias", [4 * self._num_units], dtype=dtype)
            out = nn.bias_add(out, bias)
        return out

    def call(self, inputs, state):
        c, h = state
        args = array_ops.concat([inputs, h], 1)
        dtype = args.dtype
        if not dtype.is_floating:
            raise TypeError(f"LayerNormBasicLSTMCell needs floating inputs, got {dtype.name}")
        i, j, f, o = array_ops.split(value=self._gates(args), num_or_size_splits=4, axis=1)
        if self._layer_norm:
            i = self._norm(i, "input", dtype)
            j = self._norm(j, "transform", dtype)
            f = self._norm(f, "forget", dtype)
            o = self._norm(o, "output", dtype)
        new_input = self._activation(j)
        if not isinstance(self._keep_prob, numbers.Real) or self._keep_prob < 1:
            new_input = dropout(new_input, self._keep_prob, seed=self._seed)
        new_c = c * math_ops.sigmoid(f + self._forget_bias) + math_ops.sigmoid(i) * new_input
        if self._layer_norm:
            new_c = self._norm(new_c, "state", dtype)
        new_h = self._activation(new_c) * math_ops.sigmoid(o)
        return new_h, LSTMStateTuple(new_c, new_h)


class LSTMBlockCell(LSTMCell):
    """contrib's ``LSTMBlockCell``: an LSTM step with optional peepholes and cell clipping.

    ``i, j, f, o = split([inputs, h] @ kernel + bias, 4)``;
    ``new_c = sigmoid(f + forget_bias + w_f_diag * c) * c + sigmoid(i + w_i_diag * c) *
    tanh(j)``, clipped to ``[-cell_clip, cell_clip]``;
    ``new_h = sigmoid(o + w_o_diag * new_c) * tanh(new_c)`` (no peephole terms without
    `use_peephole`). The variables are ``lstm_cell/kernel`` ``[input + units, 4 * units]``,
    ``lstm_cell/bias`` (zeros) and the peepholes ``lstm_cell/w_{i,f,o}_diag``.

    Args:
      num_units: the number of units.
      forget_bias: added to the forget gate's pre-activation.
      cell_clip: clip the cell state to this magnitude; None or a value <= 0 clips nothing
        (the fused kernel's convention).
      use_peephole: add the diagonal peephole connections.
      dtype: the dtype of the weights (default: the inputs').
      reuse: reuse the variables of an earlier cell in the same scope.
      name: the layer's name and variable scope.
    """

    def __init__(self, num_units, forget_bias=1.0, cell_clip=None, use_peephole=False,
                 dtype=None, reuse=None, name="lstm_cell"):
        if cell_clip is not None and cell_clip <= 0:
            cell_clip = None
        super().__init__(num_units, use_peepholes=use_peephole, cell_clip=cell_clip,
                         forget_bias=forget_bias, reuse=reuse, name=name, dtype=dtype)


class GRUBlockCellV2(GRUCell):
    """contrib's ``GRUBlockCellV2``: a GRU step with ``GRUCell``'s variable names.

    ``r, u = sigmoid([inputs, h] @ W_ru + b_ru)``;
    ``c = tanh([inputs, r * h] @ W_c + b_c)``; ``new_h = u * h + (1 - u) * c``. The gate bias
    starts at 1, the candidate bias at 0. Variables: ``gru_cell/gates/kernel``,
    ``gru_cell/gates/bias``, ``gru_cell/candidate/kernel``, ``gru_cell/candidate/bias``.

    Args:
      num_units: the number of units.
      cell_size: the deprecated name of `num_units` (give exactly one).
      reuse: reuse the variables of an earlier cell in the same scope.
      name: the layer's name and variable scope.

    Raises:
      ValueError: unless exactly one of `num_units` and `cell_size` is given.
    """

    def __init__(self, num_units=None, cell_size=None, reuse=None, name="gru_cell"):
        if (num_units is None) == (cell_size is None):
            raise ValueError("Exactly one of num_units or cell_size must be provided.")
        super().__init__(num_units if num_units is not None else cell_size, reuse=reuse,
                         name=name)


class GRUBlockCell(GRUBlockCellV2):
    """contrib's ``GRUBlockCell``: `GRUBlockCellV2`'s step under the fused kernel's variable
    names ``gru_cell/w_ru`` ``[input + units, 2 * units]``, ``gru_cell/b_ru`` (ones),
    ``gru_cell/w_c`` ``[input + units, units]`` and ``gru_cell/b_c`` (zeros).

    Args:
      num_units, cell_size, reuse, name: as for `GRUBlockCellV2`.
    """

    def build(self, input_shape):
        depth = _input_depth(input_shape)
        units = self._num_units
        self._gate_kernel = self.add_weight("w_ru", shape=[depth + units, 2 * units])
        self._gate_bias = self.add_weight("b_ru", shape=[2 * units],
                                          initializer=init_ops.constant_initializer(
                                              1.0, dtype=self._weight_dtype))
        self._candidate_kernel = self.add_weight("w_c", shape=[depth + units, units])
        self._candidate_bias = self.add_weight("b_c", shape=[units],
                                               initializer=init_ops.zeros_initializer(
                                                   dtype=self._weight_dtype))
        self.built = True
