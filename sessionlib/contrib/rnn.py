"""``tf.contrib.rnn``: TF 1's contrib spelling of the RNN cells and static RNNs, and contrib's
``LayerNormBasicLSTMCell``, ``LSTMBlockCell``, ``GRUBlockCell`` and ``GRUBlockCellV2``.

The core cells are the same classes and functions as ``tf.nn.rnn_cell`` and
``tf.nn.static_rnn``: TF 1 made ``contrib.rnn`` re-export them, so variable names and behaviour
are identical. ``LayerNormBasicLSTMCell`` exists only in contrib, and is written here.

The block cells were fused kernels in TF; their equations are those of ``LSTMCell`` and
``GRUCell`` (gates in the order i, j (new input), f, o; r, u), so here they are those cells
under contrib's constructor arguments and contrib's variable names, which keeps TF 1
checkpoints loadable. ``LSTMBlockFusedCell`` (a whole time-major sequence per call) is the
same step in a ``dynamic_rnn`` loop.

The projection, embedding, highway and attention wrappers, ``UGRNNCell`` and
``CoupledInputForgetGateLSTMCell`` are in ``contrib/rnn_cell.py``; the stacked bidirectional
RNNs, chains of ``static_bidirectional_rnn`` / ``bidirectional_dynamic_rnn``, are here.
"""

import numbers

from sessionlib.contrib.rnn_cell import (AttentionCellWrapper,
                                        CoupledInputForgetGateLSTMCell, EmbeddingWrapper,
                                        HighwayWrapper, InputProjectionWrapper,
                                        OutputProjectionWrapper, UGRNNCell,
                                        layer_norm_with_initial)
from sessionlib.layers import base
from sessionlib.layers.rnn_cell_impl import (BasicLSTMCell, BasicRNNCell, DeviceWrapper,
                                             DropoutWrapper, GRUCell, LSTMCell, LSTMStateTuple,
                                             MultiRNNCell, ResidualWrapper, RNNCell,
                                             _input_depth)
from sessionlib.ops import array_ops, init_ops, math_ops, nn
from sessionlib.ops import variable_scope as vs
from sessionlib.ops.nn_lookup_ops import dropout
from sessionlib.ops.rnn import (bidirectional_dynamic_rnn, dynamic_rnn,
                                static_bidirectional_rnn, static_rnn)

__all__ = ["RNNCell", "BasicRNNCell", "BasicLSTMCell", "LSTMCell", "GRUCell", "MultiRNNCell",
           "DropoutWrapper", "ResidualWrapper", "DeviceWrapper", "LSTMStateTuple",
           "static_rnn", "static_bidirectional_rnn", "LayerNormBasicLSTMCell", "LSTMBlockCell",
           "GRUBlockCell", "GRUBlockCellV2", "LSTMBlockFusedCell",
           "stack_bidirectional_rnn", "stack_bidirectional_dynamic_rnn",
           "OutputProjectionWrapper", "InputProjectionWrapper", "EmbeddingWrapper",
           "HighwayWrapper", "AttentionCellWrapper", "UGRNNCell",
           "CoupledInputForgetGateLSTMCell"]


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
        return layer_norm_with_initial(inputs, scope, self._norm_gain, self._norm_shift, dtype)

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


class _FusedLSTMStep:
    """One step of the fused LSTM on the layer's weights: an RNNCell-like object for
    `dynamic_rnn`, holding no variables of its own."""

    def __init__(self, num_units, kernel, bias, peepholes, forget_bias, cell_clip):
        self.state_size = LSTMStateTuple(num_units, num_units)
        self.output_size = num_units
        self._kernel = kernel
        self._bias = bias
        self._peepholes = peepholes
        self._forget_bias = forget_bias
        self._cell_clip = cell_clip

    def zero_state(self, batch_size, dtype):
        raise ValueError("LSTMBlockFusedCell passes its initial state explicitly")

    def __call__(self, inputs, state):
        cs_prev, h_prev = state
        gates = nn.bias_add(math_ops.matmul(array_ops.concat([inputs, h_prev], 1),
                                            self._kernel), self._bias)
        # The fused kernel's gate order: input, cell input, forget, output.
        in_gate, cell_input, forget_gate, out_gate = array_ops.split(gates, 4, axis=1)
        if self._peepholes is not None:
            w_i, w_f, w_o = self._peepholes
            in_gate = in_gate + w_i * cs_prev
            forget_gate = forget_gate + w_f * cs_prev
        forget_gate = math_ops.sigmoid(forget_gate + self._forget_bias)
        cs = (math_ops.sigmoid(in_gate) * math_ops.tanh(cell_input)
              + forget_gate * cs_prev)
        if self._cell_clip is not None:
            cs = array_ops.clip_by_value(cs, -self._cell_clip, self._cell_clip)
        if self._peepholes is not None:
            out_gate = out_gate + self._peepholes[2] * cs
        h = math_ops.sigmoid(out_gate) * math_ops.tanh(cs)
        return h, LSTMStateTuple(cs, h)


class LSTMBlockFusedCell(base.Layer):
    """contrib's ``LSTMBlockFusedCell``: an LSTM over a whole time-major sequence per call.

    ``cell(inputs, initial_state=None, dtype=None, sequence_length=None)`` takes inputs
    ``[time, batch, depth]`` (or a list of ``[batch, depth]`` steps) and returns
    ``(outputs, LSTMStateTuple(c, h))``: outputs like the inputs (zero past each row's
    length) and the state at each row's length. The step is ``LSTMBlockCell``'s (gates
    i, j, f, o; optional peepholes; cell clipping), run in a ``dynamic_rnn`` loop.

    The variables are ``<name>/kernel`` ``[depth + units, 4 * units]``, ``<name>/bias``
    (zeros) and, with peepholes, ``w_i_diag``, ``w_f_diag``, ``w_o_diag``. The default name
    is TF 1.15's ``lstm_fused_cell``; ``name="lstm_cell"`` gives ``LSTMCell``'s names.

    Args:
      num_units: the number of units.
      forget_bias: added to the forget gate's pre-activation.
      cell_clip: clip the cell state to this magnitude (None or <= 0: no clipping).
      use_peephole: add the diagonal peephole connections.
      reuse: reuse the variables of an earlier cell in the same scope.
      dtype: the dtype of the weights (default: the inputs').
      name: the layer's name and variable scope.
    """

    def __init__(self, num_units, forget_bias=1.0, cell_clip=None, use_peephole=False,
                 reuse=None, dtype=None, name="lstm_fused_cell"):
        super().__init__(_reuse=reuse, name=name, dtype=dtype)
        self._num_units = num_units
        self._forget_bias = forget_bias
        self._cell_clip = cell_clip if cell_clip is not None and cell_clip > 0 else None
        self._use_peephole = use_peephole
        self.input_spec = base.InputSpec(ndim=3)

    @property
    def num_units(self):
        """The number of units (the output depth)."""
        return self._num_units

    def build(self, input_shape):
        depth = _input_depth(input_shape)
        units = self._num_units
        self._kernel = self.add_weight("kernel", [depth + units, 4 * units])
        self._bias = self.add_weight("bias", [4 * units],
                                     initializer=init_ops.constant_initializer(0.0))
        if self._use_peephole:
            self._peepholes = tuple(self.add_weight(name, [units]) for name in
                                    ("w_i_diag", "w_f_diag", "w_o_diag"))
        else:
            self._peepholes = None
        self.built = True

    def __call__(self, inputs, initial_state=None, dtype=None, sequence_length=None,
                 scope=None):
        """Runs the LSTM over `inputs` (see the class docstring).

        Args:
          inputs: ``[time, batch, depth]``, or a list of ``[batch, depth]`` tensors.
          initial_state: ``(c, h)``, each ``[batch, num_units]``; default zeros of `dtype`.
          dtype: the dtype of the zero state (needed without `initial_state`).
          sequence_length: an int vector ``[batch]`` of the rows' lengths.
          scope: the variable scope on the first call.

        Returns:
          ``(outputs, LSTMStateTuple(c, h))``; outputs a list if `inputs` was.

        Raises:
          ValueError: if the inputs are not 3-D with a known depth, neither
            `initial_state` nor `dtype` is given, or `initial_state` is not a pair.
        """
        is_list = isinstance(inputs, list)
        if is_list:
            inputs = array_ops.stack(inputs)
        outputs, state = super().__call__(inputs, initial_state=initial_state, dtype=dtype,
                                          sequence_length=sequence_length, scope=scope)
        if is_list:
            outputs = array_ops.unstack(outputs)
        return outputs, state

    def call(self, inputs, initial_state=None, dtype=None, sequence_length=None):
        shape = inputs.shape.with_rank(3)
        if shape[2] is None:
            raise ValueError(f"Expecting inputs_shape[2] to be set: {shape}")
        batch_size = shape[1] if shape[1] is not None else array_ops.shape(inputs)[1]
        if initial_state is None:
            if dtype is None:
                raise ValueError("Either initial_state or dtype needs to be specified")
            zeros = array_ops.zeros(array_ops.stack([batch_size, self._num_units]),
                                    dtype=dtype)
            initial_state = zeros, zeros
        elif len(initial_state) != 2:
            raise ValueError("Expecting initial_state to be a tuple with length 2 or None")
        step = _FusedLSTMStep(self._num_units, self._kernel, self._bias, self._peepholes,
                              self._forget_bias, self._cell_clip)
        outputs, final_state = dynamic_rnn(
            step, inputs, sequence_length=sequence_length,
            initial_state=LSTMStateTuple(*initial_state), time_major=True)
        return outputs, final_state


def _stack_layers(cells_fw, cells_bw, inputs, initial_states_fw, initial_states_bw, scope,
                  run_layer):
    """Checks the arguments of the stacked RNNs (TF's messages) and chains the layers: in
    ``<scope>/cell_<i>``, `run_layer(cell_scope, cell_fw, cell_bw, layer_inputs, initial_fw,
    initial_bw)` returns the next layer's inputs and the layer's two final states."""
    if not cells_fw:
        raise ValueError("Must specify at least one fw cell for BidirectionalRNN.")
    if not cells_bw:
        raise ValueError("Must specify at least one bw cell for BidirectionalRNN.")
    if not isinstance(cells_fw, list):
        raise ValueError("cells_fw must be a list of RNNCells (one per layer).")
    if not isinstance(cells_bw, list):
        raise ValueError("cells_bw must be a list of RNNCells (one per layer).")
    if len(cells_fw) != len(cells_bw):
        raise ValueError("Forward and Backward cells must have the same depth.")
    for states, cells, direction in ((initial_states_fw, cells_fw, "fw"),
                                     (initial_states_bw, cells_bw, "bw")):
        if states is not None and (not isinstance(states, list) or
                                   len(states) != len(cells)):
            raise ValueError(f"initial_states_{direction} must be a list of state tensors "
                             "(one per layer).")
    states_fw, states_bw = [], []
    layer_inputs = inputs
    with vs.variable_scope(scope or "stack_bidirectional_rnn"):
        for i, (cell_fw, cell_bw) in enumerate(zip(cells_fw, cells_bw)):
            with vs.variable_scope(f"cell_{i}") as cell_scope:
                layer_inputs, state_fw, state_bw = run_layer(
                    cell_scope, cell_fw, cell_bw, layer_inputs,
                    initial_states_fw[i] if initial_states_fw else None,
                    initial_states_bw[i] if initial_states_bw else None)
            states_fw.append(state_fw)
            states_bw.append(state_bw)
    return layer_inputs, tuple(states_fw), tuple(states_bw)


def stack_bidirectional_rnn(cells_fw, cells_bw, inputs, initial_states_fw=None,
                            initial_states_bw=None, dtype=None, sequence_length=None,
                            scope=None):
    """Stacked static bidirectional RNNs (Graves et al., 2013): layer i's concatenated
    forward and backward outputs are layer i + 1's inputs.

    Layer i is ``static_bidirectional_rnn`` in the scope ``<scope>/cell_<i>`` itself, so its
    variables are ``stack_bidirectional_rnn/cell_<i>/fw/<cell>/...`` and ``.../bw/...``.

    Args:
      cells_fw, cells_bw: lists of RNNCells, one per layer, the same length.
      inputs: a list of T tensors ``[batch, depth]``.
      initial_states_fw, initial_states_bw: optional lists of first states, one per layer.
      dtype: the dtype of the zero states (needed where a first state is missing).
      sequence_length: an int vector ``[batch]`` of the sequences' lengths.
      scope: the variable scope (default ``"stack_bidirectional_rnn"``).

    Returns:
      ``(outputs, states_fw, states_bw)``: the last layer's T outputs and tuples of each
      layer's final forward and backward states.

    Raises:
      ValueError: for empty or unequal lists of cells or initial states.
    """
    def run_layer(cell_scope, cell_fw, cell_bw, layer_inputs, initial_fw, initial_bw):
        # TF passes the layer's scope itself, so no "bidirectional_rnn" scope in between.
        return static_bidirectional_rnn(cell_fw, cell_bw, layer_inputs,
                                        initial_state_fw=initial_fw,
                                        initial_state_bw=initial_bw,
                                        sequence_length=sequence_length, dtype=dtype,
                                        scope=cell_scope)

    return _stack_layers(cells_fw, cells_bw, inputs, initial_states_fw, initial_states_bw,
                         scope, run_layer)


def stack_bidirectional_dynamic_rnn(cells_fw, cells_bw, inputs, initial_states_fw=None,
                                    initial_states_bw=None, dtype=None, sequence_length=None,
                                    parallel_iterations=None, time_major=False, scope=None,
                                    swap_memory=False):
    """Stacked dynamic bidirectional RNNs: layer i's forward and backward outputs,
    concatenated on the depth axis, are layer i + 1's inputs.

    Layer i is ``bidirectional_dynamic_rnn`` under ``<scope>/cell_<i>``, so its variables are
    ``stack_bidirectional_rnn/cell_<i>/bidirectional_rnn/fw/<cell>/...`` and ``.../bw/...``.

    Args:
      cells_fw, cells_bw: lists of RNNCells, one per layer, the same length.
      inputs: a Tensor ``[batch, time, depth]`` (``[time, batch, depth]`` if `time_major`).
      initial_states_fw, initial_states_bw: optional lists of first states, one per layer.
      dtype: the dtype of the zero states (needed where a first state is missing).
      sequence_length: an int vector ``[batch]`` of the sequences' lengths.
      parallel_iterations, time_major, swap_memory: as for ``dynamic_rnn``.
      scope: the variable scope (default ``"stack_bidirectional_rnn"``).

    Returns:
      ``(outputs, states_fw, states_bw)``: the last layer's outputs
      ``[batch, time, fw + bw depth]`` and tuples of each layer's final states.

    Raises:
      ValueError: for empty or unequal lists of cells or initial states.
    """
    def run_layer(cell_scope, cell_fw, cell_bw, layer_inputs, initial_fw, initial_bw):
        del cell_scope
        outputs, (state_fw, state_bw) = bidirectional_dynamic_rnn(
            cell_fw, cell_bw, layer_inputs, initial_state_fw=initial_fw,
            initial_state_bw=initial_bw, sequence_length=sequence_length,
            parallel_iterations=parallel_iterations, dtype=dtype, swap_memory=swap_memory,
            time_major=time_major)
        return array_ops.concat(outputs, 2), state_fw, state_bw

    return _stack_layers(cells_fw, cells_bw, inputs, initial_states_fw, initial_states_bw,
                         scope, run_layer)
