"""contrib's extra RNN cells and wrappers (``tf.contrib.rnn``): ``OutputProjectionWrapper``,
``InputProjectionWrapper``, ``EmbeddingWrapper``, ``HighwayWrapper``, ``AttentionCellWrapper``,
``UGRNNCell`` and ``CoupledInputForgetGateLSTMCell``.

Their variables are those of TF 1.15's contrib, so its checkpoints load:

* the projection, embedding and attention wrappers are layers with a scope of their own
  (``output_projection_wrapper``, ...); the wrapped cell is called inside it, so its variables
  are ``<wrapper>/<cell>/...``, and the wrapper's dense maps are ``kernel`` and ``bias``
  (zeros) in that scope or a sub-scope (``attention/``, ``attn_output_projection/``);
* ``HighwayWrapper`` has no scope: its ``carry_w``, ``carry_b`` (and ``transform_w``,
  ``transform_b``) are made in the scope it is called in, next to the cell's scope;
* ``UGRNNCell``: ``ugrnn_cell/kernel`` ``[input + units, 2 * units]``, ``ugrnn_cell/bias``;
* ``CoupledInputForgetGateLSTMCell``: ``W_0`` ``[input + proj, 3 * units]`` (``W_<i>`` per
  shard), ``B``, ``W_F_diag``, ``W_O_diag`` and ``W_P_0``, as contrib names them.
"""

import math

from sessionlib.framework import graph as graph_lib
from sessionlib.framework.graph import GraphKeys
from sessionlib.layers.rnn_cell_impl import (LSTMStateTuple, RNNCell, _as_tensor,
                                             _RNNCellWrapper)
from sessionlib.ops import _nest, array_ops, init_ops, math_ops, nn
from sessionlib.ops import variable_scope as vs
from sessionlib.ops.nn_lookup_ops import embedding_lookup

__all__ = ["OutputProjectionWrapper", "InputProjectionWrapper", "EmbeddingWrapper",
           "HighwayWrapper", "AttentionCellWrapper", "UGRNNCell",
           "CoupledInputForgetGateLSTMCell"]


def _linear(args, output_size, kernel_initializer=None):
    """``concat(args, 1) @ kernel + bias`` with ``kernel`` and ``bias`` (zeros) got from the
    current variable scope (contrib's ``_Linear``).

    Raises:
      ValueError: if an argument is not 2-D with a known depth.
    """
    if not _nest.is_sequence(args):
        args = [args]
    total = 0
    for arg in args:
        shape = arg.shape
        if shape.rank != 2:
            raise ValueError(f"linear is expecting 2D arguments: {[a.shape for a in args]}")
        if shape[1] is None:
            raise ValueError(f"linear expects shape[1] to be provided for shape {shape}, but "
                             "saw None")
        total += shape[1]
    dtype = args[0].dtype.base_dtype
    kernel = vs.get_variable("kernel", [total, output_size], dtype=dtype,
                             initializer=kernel_initializer)
    bias = vs.get_variable("bias", [output_size], dtype=dtype,
                           initializer=init_ops.constant_initializer(0.0, dtype=dtype))
    joined = args[0] if len(args) == 1 else array_ops.concat(list(args), 1)
    return nn.bias_add(math_ops.matmul(joined, _as_tensor(kernel)), _as_tensor(bias))


def layer_norm_with_initial(inputs, scope, gain, shift, dtype):
    """Layer norm of `inputs` under `scope`, its ``gamma`` and ``beta`` created first with
    the initial values `gain` and `shift` (contrib's layer-norm LSTM cells)."""
    from sessionlib.contrib import layers

    shape = inputs.shape[-1:]
    # contrib's layer_norm would create ones and zeros; creating the variables first and
    # reusing them gives the cell's initial values.
    with vs.variable_scope(scope):
        vs.get_variable("gamma", shape=shape, dtype=dtype,
                        initializer=init_ops.constant_initializer(gain))
        vs.get_variable("beta", shape=shape, dtype=dtype,
                        initializer=init_ops.constant_initializer(shift))
    return layers.layer_norm(inputs, reuse=True, scope=scope)


class _WeightViews:
    """``weights`` and the ``*_variables`` spellings, read through the class's own
    ``trainable_weights`` and ``non_trainable_weights`` (the layer base binds them to its)."""

    trainable_variables = property(lambda self: self.trainable_weights)
    non_trainable_variables = property(lambda self: self.non_trainable_weights)
    weights = property(lambda self: self.trainable_weights + self.non_trainable_weights)
    variables = weights


class _ScopedCellWrapper(_WeightViews, _RNNCellWrapper):
    """A wrapper that is a layer with its own variable scope and calls its cell inside it
    (TF 1's ``EmbeddingWrapper`` and kin), unlike the core wrappers, which add no scope. Its
    weights are the variables in its scope (the cell's among them) and any other weights of
    the cell."""

    __call__ = RNNCell.__call__
    build = RNNCell.build

    def __init__(self, cell, reuse=None):
        super().__init__(cell, _reuse=reuse)

    def _weights_in(self, key, cell_attribute):
        if self._scope is None:
            return []
        prefix = self._scope.name + "/"
        found = [v for v in graph_lib.get_default_graph().get_collection(key)
                 if v.name.startswith(prefix)]
        for weight in getattr(self.cell, cell_attribute, []):
            if not any(weight is v for v in found):
                found.append(weight)
        return found

    @property
    def trainable_weights(self):
        if not self.trainable:
            return []
        return self._weights_in(GraphKeys.TRAINABLE_VARIABLES, "trainable_weights")

    @property
    def non_trainable_weights(self):
        every = self._weights_in(GraphKeys.GLOBAL_VARIABLES, "weights")
        if not self.trainable:
            return every
        trainable = self.trainable_weights
        return [v for v in every if not any(v is t for t in trainable)]


class OutputProjectionWrapper(_ScopedCellWrapper):
    """Projects the cell's output to `output_size`: ``act(output @ kernel + bias)``.

    Args:
      cell: the RNNCell to wrap.
      output_size: the size of the projected output.
      activation: an optional function applied to the projection.
      reuse: reuse the variables of an earlier wrapper in the same scope.

    Raises:
      TypeError: if `cell` is not like an RNNCell.
      ValueError: if `output_size` < 1.
    """

    def __init__(self, cell, output_size, activation=None, reuse=None):
        super().__init__(cell, reuse=reuse)
        if output_size < 1:
            raise ValueError(f"Parameter output_size must be > 0: {output_size}.")
        self._output_size = output_size
        self._activation = activation

    @property
    def output_size(self):
        return self._output_size

    def call(self, inputs, state):
        output, new_state = self.cell(inputs, state)
        projected = _linear(output, self._output_size)
        if self._activation:
            projected = self._activation(projected)
        return projected, new_state


class InputProjectionWrapper(_ScopedCellWrapper):
    """Projects the inputs to `num_proj` before the cell: ``cell(act(inputs @ kernel + bias),
    state)``.

    Args:
      cell: the RNNCell to wrap.
      num_proj: the size of the projected inputs.
      activation: an optional function applied to the projection.
      input_size: deprecated and unused, as in contrib.
      reuse: reuse the variables of an earlier wrapper in the same scope.

    Raises:
      TypeError: if `cell` is not like an RNNCell.
    """

    def __init__(self, cell, num_proj, activation=None, input_size=None, reuse=None):
        super().__init__(cell, reuse=reuse)
        del input_size
        self._num_proj = num_proj
        self._activation = activation

    def call(self, inputs, state):
        projected = _linear(inputs, self._num_proj)
        if self._activation:
            projected = self._activation(projected)
        return self.cell(projected, state)


class EmbeddingWrapper(_ScopedCellWrapper):
    """Looks the (integer) inputs up in an ``embedding`` variable
    ``[embedding_classes, embedding_size]`` and runs the cell on the vectors, all on the CPU
    as contrib does.

    The default initializer is the scope's, else uniform on ``[-sqrt(3), sqrt(3)]`` (variance
    1). The embedding takes the state's dtype.

    Args:
      cell: the RNNCell to wrap.
      embedding_classes: the number of symbols.
      embedding_size: the size of each embedding vector.
      initializer: the embedding's initializer.
      reuse: reuse the variables of an earlier wrapper in the same scope.

    Raises:
      TypeError: if `cell` is not like an RNNCell.
      ValueError: unless both sizes are positive.
    """

    def __init__(self, cell, embedding_classes, embedding_size, initializer=None,
                 reuse=None):
        super().__init__(cell, reuse=reuse)
        if embedding_classes <= 0 or embedding_size <= 0:
            raise ValueError("Both embedding_classes and embedding_size must be > 0: "
                             f"{embedding_classes}, {embedding_size}.")
        self._embedding_classes = embedding_classes
        self._embedding_size = embedding_size
        self._initializer = initializer

    def call(self, inputs, state):
        with graph_lib.get_default_graph().device("/cpu:0"):
            initializer = self._initializer or vs.get_variable_scope().initializer
            if not initializer:
                initializer = init_ops.random_uniform_initializer(-math.sqrt(3),
                                                                  math.sqrt(3))
            data_type = (state[0] if isinstance(state, tuple) else state).dtype.base_dtype
            embedding = vs.get_variable(
                "embedding", [self._embedding_classes, self._embedding_size],
                initializer=initializer, dtype=data_type)
            embedded = embedding_lookup(embedding, array_ops.reshape(inputs, [-1]))
            return self.cell(embedded, state)


class HighwayWrapper(_WeightViews, _RNNCellWrapper):
    """A highway connection around the cell (Srivastava et al., 2015):
    ``inputs * carry + outputs * transform`` with ``carry = sigmoid(inputs @ carry_w +
    carry_b)`` and ``transform = 1 - carry`` (coupled) or its own gate.

    Like contrib's, it has no variable scope of its own: ``carry_w`` ``[depth, depth]``,
    ``carry_b`` (`carry_bias_init`), ``transform_w`` and ``transform_b``
    (``-carry_bias_init``) are made in the scope the wrapper is called in.

    Args:
      cell: the RNNCell to wrap; its output must match its input in structure and shape.
      couple_carry_transform_gates: ``transform = 1 - carry``; else a second gate.
      carry_bias_init: the carry gate's initial bias.

    Raises:
      TypeError: if `cell` is not like an RNNCell.
    """

    def __init__(self, cell, couple_carry_transform_gates=True, carry_bias_init=1.0):
        super().__init__(cell)
        self._couple_carry_transform_gates = couple_carry_transform_gates
        self._carry_bias_init = carry_bias_init
        self._highway_weights = []

    def _variable(self, name, shape, dtype, initializer=None):
        variable = vs.get_variable(name, shape, dtype=dtype, initializer=initializer)
        if not any(variable is w for w in self._highway_weights):
            self._highway_weights.append(variable)
        return variable

    def _gate(self, inputs, name, bias_init):
        depth = inputs.shape.with_rank(2)[1]
        dtype = inputs.dtype.base_dtype
        weight = self._variable(f"{name}_w", [depth, depth], dtype)
        bias = self._variable(f"{name}_b", [depth], dtype,
                              init_ops.constant_initializer(bias_init))
        return math_ops.sigmoid(nn.bias_add(math_ops.matmul(inputs, weight), bias))

    def _highway(self, inputs, outputs):
        carry = self._gate(inputs, "carry", self._carry_bias_init)
        if self._couple_carry_transform_gates:
            transform = 1 - carry
        else:
            transform = self._gate(inputs, "transform", -self._carry_bias_init)
        return inputs * carry + outputs * transform

    def _call_wrapped_cell(self, inputs, state, cell_call_fn, **kwargs):
        outputs, new_state = cell_call_fn(inputs, state, **kwargs)
        _nest.assert_same_structure(inputs, outputs)

        def check_shapes(inp, out):
            inp = graph_lib.convert_to_tensor(inp)
            if not inp.shape.is_compatible_with(out.shape):
                raise ValueError(f"Shapes {inp.shape} and {out.shape} are incompatible")
            return inp

        inputs = _nest.map_structure(check_shapes, inputs, outputs)
        return _nest.map_structure(self._highway, inputs, outputs), new_state

    @property
    def trainable_weights(self):
        return (list(self._highway_weights) + super().trainable_weights
                if self.trainable else [])

    @property
    def non_trainable_weights(self):
        if self.trainable:
            return super().non_trainable_weights
        return list(self._highway_weights) + super().non_trainable_weights


class AttentionCellWrapper(_ScopedCellWrapper):
    """Attention over the last `attn_length` outputs (Cheng et al., 2016, contrib's
    ``AttentionCellWrapper``).

    Each step: the inputs become ``linear([inputs, attns])`` (size `input_size`); the cell
    runs; its new state (flattened, concatenated) is the query of an additive attention over
    the window ``attn_states`` ``[batch, attn_length, attn_size]``:
    ``s = sum(attn_v * tanh(window @ attn_w + linear(query)))``, ``a = softmax(s)``,
    ``attns = sum(a * window)``; the output is ``linear([cell_output, attns])``
    (size `attn_size`), which enters the window as its oldest entry leaves. The state is
    ``(cell_state, attns, window)`` (concatenated if not `state_is_tuple`).

    Variables (under ``attention_cell_wrapper/``): ``kernel``, ``bias`` (input map), the
    cell's, ``attention/attn_w`` ``[1, 1, attn_size, attn_vec_size]``, ``attention/attn_v``,
    ``attention/kernel``, ``attention/bias`` and ``attn_output_projection/kernel``,
    ``attn_output_projection/bias``.

    Args:
      cell: the RNNCell to wrap.
      attn_length: the window's length.
      attn_size: the size of an attention vector (default: the cell's output size).
      attn_vec_size: the size of the attention's hidden features (default `attn_size`).
      input_size: the size of the mapped inputs (default: the inputs' depth).
      state_is_tuple: the state is a 3-tuple; if False, one concatenated tensor.
      reuse: reuse the variables of an earlier wrapper in the same scope.

    Raises:
      TypeError: if `cell` is not like an RNNCell.
      ValueError: if the cell's state is a tuple but `state_is_tuple` is False, or
        `attn_length` <= 0.
    """

    def __init__(self, cell, attn_length, attn_size=None, attn_vec_size=None,
                 input_size=None, state_is_tuple=True, reuse=None):
        super().__init__(cell, reuse=reuse)
        if _nest.is_sequence(cell.state_size) and not state_is_tuple:
            raise ValueError("Cell returns tuple of states, but the flag state_is_tuple is not "
                             f"set. State size is: {cell.state_size}")
        if attn_length <= 0:
            raise ValueError(f"attn_length should be greater than zero, got {attn_length}")
        if attn_size is None:
            attn_size = cell.output_size
        if attn_vec_size is None:
            attn_vec_size = attn_size
        self._state_is_tuple = state_is_tuple
        self._attn_vec_size = attn_vec_size
        self._input_size = input_size
        self._attn_size = attn_size
        self._attn_length = attn_length

    @property
    def state_size(self):
        size = (self.cell.state_size, self._attn_size, self._attn_size * self._attn_length)
        return size if self._state_is_tuple else sum(size)

    @property
    def output_size(self):
        return self._attn_size

    def zero_state(self, batch_size, dtype):
        return RNNCell.zero_state(self, batch_size, dtype)

    def call(self, inputs, state):
        if self._state_is_tuple:
            state, attns, attn_states = state
        else:
            states = state
            cell_size = self.cell.state_size
            state = array_ops.slice(states, [0, 0], [-1, cell_size])
            attns = array_ops.slice(states, [0, cell_size], [-1, self._attn_size])
            attn_states = array_ops.slice(states, [0, cell_size + self._attn_size],
                                          [-1, self._attn_size * self._attn_length])
        attn_states = array_ops.reshape(attn_states,
                                        [-1, self._attn_length, self._attn_size])
        input_size = self._input_size
        if input_size is None:
            input_size = inputs.shape.as_list()[1]
        inputs = _linear([inputs, attns], input_size)
        cell_output, new_state = self.cell(inputs, state)
        new_state_cat = (array_ops.concat(_nest.flatten(new_state), 1)
                         if self._state_is_tuple else new_state)
        new_attns, new_attn_states = self._attention(new_state_cat, attn_states)
        with vs.variable_scope("attn_output_projection"):
            output = _linear([cell_output, new_attns], self._attn_size)
        new_attn_states = array_ops.concat(
            [new_attn_states, array_ops.expand_dims(output, 1)], 1)
        new_attn_states = array_ops.reshape(new_attn_states,
                                            [-1, self._attn_length * self._attn_size])
        new_state = (new_state, new_attns, new_attn_states)
        if not self._state_is_tuple:
            new_state = array_ops.concat(list(new_state), 1)
        return output, new_state

    def _attention(self, query, attn_states):
        length, size, vec_size = self._attn_length, self._attn_size, self._attn_vec_size
        with vs.variable_scope("attention"):
            dtype = query.dtype.base_dtype
            attn_w = vs.get_variable("attn_w", [1, 1, size, vec_size], dtype=dtype)
            attn_v = vs.get_variable("attn_v", [vec_size], dtype=dtype)
            # contrib's 1x1 convolution of the window is this matrix product per entry.
            hidden_features = array_ops.reshape(
                math_ops.matmul(array_ops.reshape(attn_states, [-1, size]),
                                array_ops.reshape(attn_w, [size, vec_size])),
                [-1, length, vec_size])
            y = array_ops.reshape(_linear(query, vec_size), [-1, 1, vec_size])
            scores = math_ops.reduce_sum(attn_v * math_ops.tanh(hidden_features + y), [2])
            weights = nn.softmax(scores)
            new_attns = math_ops.reduce_sum(array_ops.expand_dims(weights, 2) * attn_states,
                                            [1])
            new_attn_states = array_ops.slice(attn_states, [0, 1, 0], [-1, -1, -1])
            return new_attns, new_attn_states


class UGRNNCell(RNNCell):
    """The update-gate RNN cell (Collins et al., 2017): one gate choosing between keeping
    the state and a new candidate.

    ``g_act, c_act = split([inputs, state] @ kernel + bias, 2)``;
    ``new_state = sigmoid(g_act + forget_bias) * state + (1 - sigmoid(...)) * act(c_act)``;
    the output is the new state. Variables: ``ugrnn_cell/kernel``
    ``[input + units, 2 * units]`` and ``ugrnn_cell/bias`` (zeros).

    Args:
      num_units: the number of units.
      initializer: the kernel's initializer (default: the scope's).
      forget_bias: added to the gate's pre-activation.
      activation: the candidate's nonlinearity (default tanh).
      reuse: reuse the variables of an earlier cell in the same scope.
    """

    def __init__(self, num_units, initializer=None, forget_bias=1.0,
                 activation=math_ops.tanh, reuse=None):
        super().__init__(_reuse=reuse)
        self._num_units = num_units
        self._initializer = initializer
        self._forget_bias = forget_bias
        self._activation = activation

    @property
    def state_size(self):
        return self._num_units

    @property
    def output_size(self):
        return self._num_units

    def call(self, inputs, state):
        """One step.

        Raises:
          ValueError: if the input depth is not known statically.
        """
        if inputs.shape.with_rank(2)[1] is None:
            raise ValueError("Could not infer input size from inputs.get_shape()[-1]")
        rnn_matrix = _linear([inputs, state], 2 * self._num_units,
                             kernel_initializer=self._initializer)
        g_act, c_act = array_ops.split(value=rnn_matrix, num_or_size_splits=2, axis=1)
        candidate = self._activation(c_act)
        gate = math_ops.sigmoid(g_act + self._forget_bias)
        new_state = gate * state + (1.0 - gate) * candidate
        return new_state, new_state


def _sharded_matrix(name, shape, dtype, num_shards):
    """contrib's sharded weight: ``<name>_<i>`` for each of `num_shards` row blocks (the first
    ones a row longer when the rows do not divide), concatenated.

    Raises:
      ValueError: if there are more shards than rows.
    """
    if num_shards > shape[0]:
        raise ValueError(f"Too many shards: shape={shape}, num_shards={num_shards}")
    rows, extra = divmod(shape[0], num_shards)
    shards = [vs.get_variable(f"{name}_{i}", [rows + (1 if i < extra else 0)] + shape[1:],
                              dtype=dtype) for i in range(num_shards)]
    return shards[0] if len(shards) == 1 else array_ops.concat(shards, 0, name=name + "/concat")


class CoupledInputForgetGateLSTMCell(RNNCell):
    """An LSTM whose input gate is one minus the forget gate (Greff et al., 2015), contrib's
    ``CoupledInputForgetGateLSTMCell``.

    ``j, f, o = split([inputs, m] @ W + B, 3)``;
    ``f = sigmoid(f + forget_bias (+ W_F_diag * c))``; ``c = f * c + (1 - f) * act(j)``;
    ``m = sigmoid(o (+ W_O_diag * c)) * act(c)``, projected by ``W_P`` (and clipped) if
    `num_proj`. With `layer_norm`, ``j``, ``f``, ``o`` and the new ``c`` are layer-normalized
    (scopes ``transform``, ``forget``, ``output``, ``state``) and ``B`` is not added.

    Args:
      num_units: the number of units.
      use_peepholes: add the diagonal peepholes ``W_F_diag`` and ``W_O_diag``.
      initializer: accepted and, as in contrib, unused (the weights take the scope's
        initializer).
      num_proj: project the output to this size.
      proj_clip: clip the projected output to ``[-proj_clip, proj_clip]``.
      num_unit_shards, num_proj_shards: row shards of ``W`` and ``W_P``.
      forget_bias: added to the forget gate's pre-activation.
      state_is_tuple: states are ``LSTMStateTuple(c, m)``; if False, ``concat([c, m], 1)``.
      activation: the inner nonlinearity (default tanh).
      reuse: reuse the variables of an earlier cell in the same scope.
      layer_norm: layer-normalize the gates and the cell state.
      norm_gain, norm_shift: the layer norms' initial gamma and beta.
    """

    def __init__(self, num_units, use_peepholes=False, initializer=None, num_proj=None,
                 proj_clip=None, num_unit_shards=1, num_proj_shards=1, forget_bias=1.0,
                 state_is_tuple=True, activation=math_ops.tanh, reuse=None, layer_norm=False,
                 norm_gain=1.0, norm_shift=0.0):
        super().__init__(_reuse=reuse)
        self._num_units = num_units
        self._use_peepholes = use_peepholes
        self._initializer = initializer
        self._num_proj = num_proj
        self._proj_clip = proj_clip
        self._num_unit_shards = num_unit_shards
        self._num_proj_shards = num_proj_shards
        self._forget_bias = forget_bias
        self._state_is_tuple = state_is_tuple
        self._activation = activation
        self._layer_norm = layer_norm
        self._norm_gain = norm_gain
        self._norm_shift = norm_shift
        h_size = num_proj if num_proj else num_units
        self._state_size = (LSTMStateTuple(num_units, h_size) if state_is_tuple
                            else num_units + h_size)
        self._output_size = h_size

    @property
    def state_size(self):
        return self._state_size

    @property
    def output_size(self):
        return self._output_size

    def _norm(self, value, scope, dtype):
        return layer_norm_with_initial(value, scope, self._norm_gain, self._norm_shift, dtype)

    def call(self, inputs, state):
        """One step.

        Raises:
          ValueError: if the input depth is not known statically.
        """
        sigmoid = math_ops.sigmoid
        num_proj = self._num_units if self._num_proj is None else self._num_proj
        if self._state_is_tuple:
            c_prev, m_prev = state
        else:
            c_prev = array_ops.slice(state, [0, 0], [-1, self._num_units])
            m_prev = array_ops.slice(state, [0, self._num_units], [-1, num_proj])
        dtype = inputs.dtype.base_dtype
        input_size = inputs.shape.with_rank(2)[1]
        if input_size is None:
            raise ValueError("Could not infer input size from inputs.get_shape()[-1]")
        weights = _sharded_matrix("W", [input_size + num_proj, 3 * self._num_units], dtype,
                                  self._num_unit_shards)
        bias = vs.get_variable("B", shape=[3 * self._num_units], dtype=dtype,
                               initializer=init_ops.zeros_initializer())
        lstm_matrix = math_ops.matmul(array_ops.concat([inputs, m_prev], 1), weights)
        if not self._layer_norm:
            lstm_matrix = nn.bias_add(lstm_matrix, bias)
        j, f, o = array_ops.split(value=lstm_matrix, num_or_size_splits=3, axis=1)
        if self._layer_norm:
            j = self._norm(j, "transform", dtype)
            f = self._norm(f, "forget", dtype)
            o = self._norm(o, "output", dtype)
        if self._use_peepholes:
            w_f_diag = vs.get_variable("W_F_diag", shape=[self._num_units], dtype=dtype)
            w_o_diag = vs.get_variable("W_O_diag", shape=[self._num_units], dtype=dtype)
            f_act = sigmoid(f + self._forget_bias + w_f_diag * c_prev)
        else:
            f_act = sigmoid(f + self._forget_bias)
        c = f_act * c_prev + (1 - f_act) * self._activation(j)
        if self._layer_norm:
            c = self._norm(c, "state", dtype)
        if self._use_peepholes:
            m = sigmoid(o + w_o_diag * c) * self._activation(c)
        else:
            m = sigmoid(o) * self._activation(c)
        if self._num_proj is not None:
            projection = _sharded_matrix("W_P", [self._num_units, self._num_proj], dtype,
                                         self._num_proj_shards)
            m = math_ops.matmul(m, projection)
            if self._proj_clip is not None:
                m = array_ops.clip_by_value(m, -self._proj_clip, self._proj_clip)
        new_state = (LSTMStateTuple(c, m) if self._state_is_tuple
                     else array_ops.concat([c, m], 1))
        return m, new_state
