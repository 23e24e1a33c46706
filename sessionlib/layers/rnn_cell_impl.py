"""``tf.nn.rnn_cell`` (also ``tf.contrib.rnn``): TF 1's RNN cells, as layers.

A cell maps ``(inputs, state)`` to ``(output, new_state)`` for one time step; `static_rnn`
(``sessionlib.ops.rnn``) unrolls it. Every cell is a ``tf.layers.Layer`` as in TF 1, so its
variables come from `get_variable` in the layer's variable scope and are named exactly as TF
names them, which makes TF 1 checkpoints map one to one:

* ``BasicRNNCell``: ``basic_rnn_cell/kernel`` ``[input + units, units]``, ``.../bias``;
* ``BasicLSTMCell``: ``basic_lstm_cell/kernel`` ``[input + units, 4 * units]``, ``.../bias``,
  gates in TF's order i, j, f, o (input, new input, forget, output);
* ``LSTMCell``: ``lstm_cell/kernel`` ``[input + (num_proj or units), 4 * units]``, ``bias``,
  ``w_f_diag``, ``w_i_diag``, ``w_o_diag`` (peepholes), ``projection/kernel``;
* ``GRUCell``: ``gru_cell/gates/kernel``, ``gates/bias`` (initialized to 1),
  ``candidate/kernel``, ``candidate/bias``;
* ``MultiRNNCell``: ``multi_rnn_cell/cell_<i>/<cell>/...``.

The layer scope is chosen on the first call (unique under the enclosing variable scope, e.g.
``rnn/basic_lstm_cell``) and reused on every later call, so one cell object shares its weights
across time steps and across RNNs, as in TF. The wrappers (``DropoutWrapper``,
``ResidualWrapper``, ``DeviceWrapper``) call their cell directly, adding no scope of their own,
so wrapping a cell does not rename its variables.

The cells live with the layers (not in ``ops``) because they are layers: the layer base is a
training-side module, and ops do not import it.
"""

import collections
import hashlib
import numbers
import types

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework import tensor_util
from sessionlib.framework.tensor_shape import TensorShape
from sessionlib.layers import base, utils
from sessionlib.ops import _nest, array_ops, init_ops, math_ops, random_ops
from sessionlib.ops import rnn as rnn_ops
from sessionlib.ops import variable_scope as vs
from sessionlib.ops.nn import nn
from sessionlib.ops.nn_lookup_ops import dropout as nn_dropout
from sessionlib.ops.partitioned_variables import fixed_size_partitioner

__all__ = ["RNNCell", "LayerRNNCell", "BasicRNNCell", "BasicLSTMCell", "LSTMCell", "GRUCell",
           "MultiRNNCell", "DropoutWrapper", "ResidualWrapper", "DeviceWrapper",
           "LSTMStateTuple", "rnn_cell"]

_WEIGHTS_VARIABLE_NAME = "kernel"
_BIAS_VARIABLE_NAME = "bias"


def _check_supported_dtypes(dtype):
    if dtype is None:
        return
    dtype = dtypes.as_dtype(dtype)
    if not (dtype.is_floating or dtype.is_complex):
        raise ValueError(f"RNN cell only supports floating point inputs, but received dtype: "
                         f"{dtype.name}")


def _check_rnn_cell_input_dtypes(values):
    for value in _nest.flatten(values):
        _check_supported_dtypes(getattr(value, "dtype", None))


def _input_depth(input_shape):
    input_shape = TensorShape(input_shape)
    depth = input_shape[-1] if input_shape.rank else None
    if depth is None:
        raise ValueError(f"Expected inputs.shape[-1] to be known, received shape: "
                         f"{input_shape}")
    return depth


def _zero_state_tensors(state_size, batch_size, dtype):
    """Zeros ``[batch_size] + s`` for each size `s` in the structure `state_size`."""

    def zeros_for(size):
        suffix = TensorShape(size).as_list()
        if isinstance(batch_size, graph_lib.Tensor):
            batch = batch_size if batch_size.shape.rank == 1 else \
                array_ops.expand_dims(batch_size, 0)
            shape = array_ops.concat([batch, array_ops.constant(suffix, dtype=dtypes.int32)],
                                     0)
            zeros = array_ops.zeros(shape, dtype=dtype)
            static = tensor_util.constant_value(batch_size)
            static = int(static) if static is not None and batch_size.shape.rank == 0 else None
            zeros.set_shape(TensorShape([static] + suffix))
            return zeros
        return array_ops.zeros([int(batch_size)] + suffix, dtype=dtype)

    return _nest.map_structure(zeros_for, state_size)


_LSTMStateTupleBase = collections.namedtuple("LSTMStateTuple", ("c", "h"))


class LSTMStateTuple(_LSTMStateTupleBase):
    """The state of an LSTM cell: ``(c, h)``, the memory cell and the output, in that order.

    Used by the LSTM cells with ``state_is_tuple=True`` (the default), both for
    ``state_size`` (two ints) and for the state itself (two tensors).
    """

    __slots__ = ()

    @property
    def dtype(self):
        """The dtype of both tensors.

        Raises:
          TypeError: if `c` and `h` differ in dtype.
        """
        c, h = self
        if c.dtype != h.dtype:
            raise TypeError(f"Inconsistent dtypes for internal state: {c.dtype} vs {h.dtype}")
        return c.dtype


class RNNCell(base.Layer):
    """The base of the RNN cells (``tf.nn.rnn_cell.RNNCell``).

    A subclass defines `state_size`, `output_size` and ``call(inputs, state)`` returning
    ``(output, new_state)``; it may create variables in `build`, or with `get_variable` in
    `call` (as ``MultiRNNCell``'s sub-cells do).

    Args:
      trainable, name, dtype, **kwargs: as for ``tf.layers.Layer``.
    """

    def __init__(self, trainable=True, name=None, dtype=None, **kwargs):
        super().__init__(trainable=trainable, name=name, dtype=dtype, **kwargs)
        self._is_tf_rnn_cell = True

    def __call__(self, inputs, state, scope=None):
        """Runs the cell for one step on `inputs`, from `state`.

        Args:
          inputs: a 2-D Tensor ``[batch_size, input_size]``.
          state: a 2-D Tensor ``[batch_size, state_size]``, or a structure of them matching
            `state_size`.
          scope: the variable scope for the cell's variables on its first call (default: the
            class name in snake case, made unique).

        Returns:
          ``(output, new_state)``: ``[batch_size, output_size]`` and a state like `state`.
        """
        return base.Layer.__call__(self, inputs, state, scope=scope)

    @property
    def state_size(self):
        """The size(s) of the state: an int, a TensorShape, or a structure of them."""
        raise NotImplementedError("Abstract method")

    @property
    def output_size(self):
        """The size of the output: an int or a TensorShape."""
        raise NotImplementedError("Abstract method")

    def build(self, input_shape):
        del input_shape
        self.built = True

    @property
    def _weight_dtype(self):
        # The weights' dtype: the layer's (set from the first input), float32 before that.
        return self.dtype or dtypes.float32

    def get_initial_state(self, inputs=None, batch_size=None, dtype=None):
        """The zero state, for `inputs` or for `batch_size` and `dtype`.

        Raises:
          ValueError: if `inputs` disagrees with `batch_size` or `dtype`, or neither gives
            them.
        """
        if inputs is not None:
            inputs = graph_lib.convert_to_tensor(inputs, name="inputs")
            if batch_size is not None:
                static = batch_size
                if isinstance(batch_size, graph_lib.Tensor):
                    static = tensor_util.constant_value(batch_size)
                if inputs.shape[0] != static:
                    raise ValueError("batch size from input tensor is different from the "
                                     f"input param. Input tensor batch: {inputs.shape[0]}, "
                                     f"batch_size: {batch_size}")
            if dtype is not None and inputs.dtype != dtype:
                raise ValueError("dtype from input tensor is different from the input param. "
                                 f"Input tensor dtype: {inputs.dtype}, dtype: {dtype}")
            batch_size = inputs.shape[0] or array_ops.shape(inputs)[0]
            dtype = inputs.dtype
        if batch_size is None or dtype is None:
            raise ValueError("batch_size and dtype cannot be None while constructing initial "
                             f"state: batch_size={batch_size}, dtype={dtype}")
        return self.zero_state(batch_size, dtype)

    def zero_state(self, batch_size, dtype):
        """Zero-filled state tensor(s), in a ``<Class>ZeroState`` name scope.

        Args:
          batch_size: an int or a scalar int Tensor.
          dtype: the state's dtype.

        Returns:
          A ``[batch_size, state_size]`` Tensor of zeros, or a structure of them matching
          `state_size`.
        """
        graph = graph_lib.get_default_graph()
        with graph.name_scope(type(self).__name__ + "ZeroState"):
            return _zero_state_tensors(self.state_size, batch_size, dtypes.as_dtype(dtype))


class LayerRNNCell(RNNCell):
    """A cell that creates all its variables in `build` (TF's ``LayerRNNCell``)."""


class BasicRNNCell(LayerRNNCell):
    """The most basic RNN cell: ``output = new_state = act(W [inputs, state] + b)``.

    Args:
      num_units: the number of units.
      activation: the nonlinearity (default ``tanh``); a function or a Keras name.
      reuse: reuse the variables of an existing scope of the same name.
      name: the layer's name (and variable scope).
      dtype: the dtype of the weights (default: the inputs').
      **kwargs: the layer base's arguments (``trainable``).
    """

    def __init__(self, num_units, activation=None, reuse=None, name=None, dtype=None,
                 **kwargs):
        super().__init__(_reuse=reuse, name=name, dtype=dtype, **kwargs)
        _check_supported_dtypes(self.dtype)
        self.input_spec = base.InputSpec(ndim=2)
        self._num_units = int(num_units)
        self._activation = utils.get_activation(activation) if activation else math_ops.tanh

    @property
    def state_size(self):
        return self._num_units

    @property
    def output_size(self):
        return self._num_units

    def build(self, input_shape):
        depth = _input_depth(input_shape)
        _check_supported_dtypes(self.dtype)
        self._kernel = self.add_weight(_WEIGHTS_VARIABLE_NAME,
                                       shape=[depth + self._num_units, self._num_units])
        self._bias = self.add_weight(_BIAS_VARIABLE_NAME, shape=[self._num_units],
                                     initializer=init_ops.zeros_initializer(self._weight_dtype))
        self.built = True

    def call(self, inputs, state):
        _check_rnn_cell_input_dtypes([inputs, state])
        gate_inputs = math_ops.matmul(array_ops.concat([inputs, state], 1), self._kernel)
        gate_inputs = nn.bias_add(gate_inputs, self._bias)
        output = self._activation(gate_inputs)
        return output, output


class GRUCell(LayerRNNCell):
    """A gated recurrent unit (Cho et al., 2014), as TF 1 builds it.

    ``r, u = sigmoid(W_g [inputs, state] + b_g)``; ``c = act(W_c [inputs, r * state] + b_c)``;
    ``new_h = u * state + (1 - u) * c``.

    Args:
      num_units: the number of units.
      activation: the candidate's nonlinearity (default ``tanh``).
      reuse: reuse the variables of an existing scope of the same name.
      kernel_initializer: the initializer of both kernels (default: the scope's, else
        Glorot uniform).
      bias_initializer: the initializer of both biases (default: ones for the gates, zeros
        for the candidate).
      name, dtype, **kwargs: as for `BasicRNNCell`.
    """

    def __init__(self, num_units, activation=None, reuse=None, kernel_initializer=None,
                 bias_initializer=None, name=None, dtype=None, **kwargs):
        super().__init__(_reuse=reuse, name=name, dtype=dtype, **kwargs)
        _check_supported_dtypes(self.dtype)
        self.input_spec = base.InputSpec(ndim=2)
        self._num_units = int(num_units)
        self._activation = utils.get_activation(activation) if activation else math_ops.tanh
        self._kernel_initializer = kernel_initializer
        self._bias_initializer = bias_initializer

    @property
    def state_size(self):
        return self._num_units

    @property
    def output_size(self):
        return self._num_units

    def build(self, input_shape):
        depth = _input_depth(input_shape)
        _check_supported_dtypes(self.dtype)
        units = self._num_units
        self._gate_kernel = self.add_weight(f"gates/{_WEIGHTS_VARIABLE_NAME}",
                                            shape=[depth + units, 2 * units],
                                            initializer=self._kernel_initializer)
        self._gate_bias = self.add_weight(
            f"gates/{_BIAS_VARIABLE_NAME}", shape=[2 * units],
            initializer=(self._bias_initializer if self._bias_initializer is not None
                         else init_ops.constant_initializer(1.0, dtype=self._weight_dtype)))
        self._candidate_kernel = self.add_weight(f"candidate/{_WEIGHTS_VARIABLE_NAME}",
                                                 shape=[depth + units, units],
                                                 initializer=self._kernel_initializer)
        self._candidate_bias = self.add_weight(
            f"candidate/{_BIAS_VARIABLE_NAME}", shape=[units],
            initializer=(self._bias_initializer if self._bias_initializer is not None
                         else init_ops.zeros_initializer(dtype=self._weight_dtype)))
        self.built = True

    def call(self, inputs, state):
        _check_rnn_cell_input_dtypes([inputs, state])
        gate_inputs = math_ops.matmul(array_ops.concat([inputs, state], 1), self._gate_kernel)
        gate_inputs = nn.bias_add(gate_inputs, self._gate_bias)
        value = math_ops.sigmoid(gate_inputs)
        r, u = array_ops.split(value=value, num_or_size_splits=2, axis=1)
        r_state = r * state
        candidate = math_ops.matmul(array_ops.concat([inputs, r_state], 1),
                                    self._candidate_kernel)
        candidate = nn.bias_add(candidate, self._candidate_bias)
        c = self._activation(candidate)
        new_h = u * state + (1 - u) * c
        return new_h, new_h


class BasicLSTMCell(LayerRNNCell):
    """The basic LSTM cell (Zaremba et al., 2014): no peepholes, no clipping, no projection.

    ``i, j, f, o = split(W [inputs, h] + b, 4)``;
    ``new_c = c * sigmoid(f + forget_bias) + sigmoid(i) * act(j)``;
    ``new_h = act(new_c) * sigmoid(o)``.

    Args:
      num_units: the number of units.
      forget_bias: added to the forget gate's pre-activation (1.0 by default).
      state_is_tuple: states are ``LSTMStateTuple(c, h)``; if False, ``concat([c, h], 1)``.
      activation: the inner nonlinearity (default ``tanh``).
      reuse, name, dtype, **kwargs: as for `BasicRNNCell`.
    """

    def __init__(self, num_units, forget_bias=1.0, state_is_tuple=True, activation=None,
                 reuse=None, name=None, dtype=None, **kwargs):
        super().__init__(_reuse=reuse, name=name, dtype=dtype, **kwargs)
        _check_supported_dtypes(self.dtype)
        self.input_spec = base.InputSpec(ndim=2)
        self._num_units = int(num_units)
        self._forget_bias = forget_bias
        self._state_is_tuple = state_is_tuple
        self._activation = utils.get_activation(activation) if activation else math_ops.tanh

    @property
    def state_size(self):
        if self._state_is_tuple:
            return LSTMStateTuple(self._num_units, self._num_units)
        return 2 * self._num_units

    @property
    def output_size(self):
        return self._num_units

    def build(self, input_shape):
        depth = _input_depth(input_shape)
        _check_supported_dtypes(self.dtype)
        self._kernel = self.add_weight(_WEIGHTS_VARIABLE_NAME,
                                       shape=[depth + self._num_units, 4 * self._num_units])
        self._bias = self.add_weight(_BIAS_VARIABLE_NAME, shape=[4 * self._num_units],
                                     initializer=init_ops.zeros_initializer(self._weight_dtype))
        self.built = True

    def call(self, inputs, state):
        _check_rnn_cell_input_dtypes([inputs, state])
        if self._state_is_tuple:
            c, h = state
        else:
            c, h = array_ops.split(value=state, num_or_size_splits=2, axis=1)
        gate_inputs = math_ops.matmul(array_ops.concat([inputs, h], 1), self._kernel)
        gate_inputs = nn.bias_add(gate_inputs, self._bias)
        # i = input gate, j = new input, f = forget gate, o = output gate (TF's order).
        i, j, f, o = array_ops.split(value=gate_inputs, num_or_size_splits=4, axis=1)
        forget_bias = array_ops.constant(self._forget_bias, dtype=f.dtype)
        new_c = math_ops.add(
            math_ops.multiply(c, math_ops.sigmoid(math_ops.add(f, forget_bias))),
            math_ops.multiply(math_ops.sigmoid(i), self._activation(j)))
        new_h = math_ops.multiply(self._activation(new_c), math_ops.sigmoid(o))
        if self._state_is_tuple:
            new_state = LSTMStateTuple(new_c, new_h)
        else:
            new_state = array_ops.concat([new_c, new_h], 1)
        return new_h, new_state


class LSTMCell(LayerRNNCell):
    """The LSTM cell with optional peepholes, cell clipping and an output projection
    (Hochreiter & Schmidhuber 1997; peepholes and projection after Sak et al., 2014).

    Args:
      num_units: the number of units.
      use_peepholes: add the diagonal peephole weights ``w_f_diag``, ``w_i_diag``,
        ``w_o_diag``.
      cell_clip: clip the memory cell to ``[-cell_clip, cell_clip]`` before the output.
      initializer: the initializer of the kernels and peepholes (default: the scope's, else
        Glorot uniform).
      num_proj: project the output to this size (``projection/kernel``).
      proj_clip: clip the projected output to ``[-proj_clip, proj_clip]``.
      num_unit_shards, num_proj_shards: partition the kernel / projection (deprecated in TF;
        a scope partitioner does the same).
      forget_bias: added to the forget gate's pre-activation (1.0 by default).
      state_is_tuple: states are ``LSTMStateTuple(c, m)``; if False, ``concat([c, m], 1)``.
      activation: the inner nonlinearity (default ``tanh``).
      reuse, name, dtype, **kwargs: as for `BasicRNNCell`.
    """

    def __init__(self, num_units, use_peepholes=False, cell_clip=None, initializer=None,
                 num_proj=None, proj_clip=None, num_unit_shards=None, num_proj_shards=None,
                 forget_bias=1.0, state_is_tuple=True, activation=None, reuse=None, name=None,
                 dtype=None, **kwargs):
        super().__init__(_reuse=reuse, name=name, dtype=dtype, **kwargs)
        _check_supported_dtypes(self.dtype)
        self.input_spec = base.InputSpec(ndim=2)
        self._num_units = int(num_units)
        self._use_peepholes = use_peepholes
        self._cell_clip = cell_clip
        self._initializer = initializer
        self._num_proj = num_proj
        self._proj_clip = proj_clip
        self._num_unit_shards = num_unit_shards
        self._num_proj_shards = num_proj_shards
        self._forget_bias = forget_bias
        self._state_is_tuple = state_is_tuple
        self._activation = utils.get_activation(activation) if activation else math_ops.tanh
        if num_proj:
            self._state_size = (LSTMStateTuple(num_units, num_proj) if state_is_tuple
                                else num_units + num_proj)
            self._output_size = num_proj
        else:
            self._state_size = (LSTMStateTuple(num_units, num_units) if state_is_tuple
                                else 2 * num_units)
            self._output_size = num_units

    @property
    def state_size(self):
        return self._state_size

    @property
    def output_size(self):
        return self._output_size

    def build(self, input_shape):
        depth = _input_depth(input_shape)
        _check_supported_dtypes(self.dtype)
        units = self._num_units
        h_depth = units if self._num_proj is None else self._num_proj
        partitioner = (fixed_size_partitioner(self._num_unit_shards)
                       if self._num_unit_shards is not None else None)
        self._kernel = self.add_weight(_WEIGHTS_VARIABLE_NAME,
                                       shape=[depth + h_depth, 4 * units],
                                       initializer=self._initializer, partitioner=partitioner)
        self._bias = self.add_weight(_BIAS_VARIABLE_NAME, shape=[4 * units],
                                     initializer=init_ops.zeros_initializer(self._weight_dtype))
        if self._use_peepholes:
            self._w_f_diag = self.add_weight("w_f_diag", shape=[units],
                                             initializer=self._initializer)
            self._w_i_diag = self.add_weight("w_i_diag", shape=[units],
                                             initializer=self._initializer)
            self._w_o_diag = self.add_weight("w_o_diag", shape=[units],
                                             initializer=self._initializer)
        if self._num_proj is not None:
            proj_partitioner = (fixed_size_partitioner(self._num_proj_shards)
                                if self._num_proj_shards is not None else None)
            self._proj_kernel = self.add_weight(f"projection/{_WEIGHTS_VARIABLE_NAME}",
                                                shape=[units, self._num_proj],
                                                initializer=self._initializer,
                                                partitioner=proj_partitioner)
        self.built = True

    def call(self, inputs, state):
        """One LSTM step.

        Raises:
          ValueError: if the input size is not known statically.
        """
        _check_rnn_cell_input_dtypes([inputs, state])
        num_proj = self._num_units if self._num_proj is None else self._num_proj
        sigmoid = math_ops.sigmoid
        if self._state_is_tuple:
            c_prev, m_prev = state
        else:
            c_prev = array_ops.slice(state, [0, 0], [-1, self._num_units])
            m_prev = array_ops.slice(state, [0, self._num_units], [-1, num_proj])
        if inputs.shape.with_rank(2)[1] is None:
            raise ValueError("Could not infer input size from inputs.get_shape()[-1]."
                             f"Received input shape: {inputs.shape}")
        lstm_matrix = math_ops.matmul(array_ops.concat([inputs, m_prev], 1),
                                      _as_tensor(self._kernel))
        lstm_matrix = nn.bias_add(lstm_matrix, self._bias)
        i, j, f, o = array_ops.split(value=lstm_matrix, num_or_size_splits=4, axis=1)
        if self._use_peepholes:
            c = (sigmoid(f + self._forget_bias + self._w_f_diag * c_prev) * c_prev
                 + sigmoid(i + self._w_i_diag * c_prev) * self._activation(j))
        else:
            c = sigmoid(f + self._forget_bias) * c_prev + sigmoid(i) * self._activation(j)
        if self._cell_clip is not None:
            c = array_ops.clip_by_value(c, -self._cell_clip, self._cell_clip)
        if self._use_peepholes:
            m = sigmoid(o + self._w_o_diag * c) * self._activation(c)
        else:
            m = sigmoid(o) * self._activation(c)
        if self._num_proj is not None:
            m = math_ops.matmul(m, _as_tensor(self._proj_kernel))
            if self._proj_clip is not None:
                m = array_ops.clip_by_value(m, -self._proj_clip, self._proj_clip)
        new_state = LSTMStateTuple(c, m) if self._state_is_tuple else \
            array_ops.concat([c, m], 1)
        return m, new_state


def _as_tensor(variable):
    # A partitioned variable (from the shards arguments) is used as its concatenation.
    as_tensor = getattr(variable, "as_tensor", None)
    if as_tensor is not None and not isinstance(variable, graph_lib.Tensor):
        return as_tensor()
    return variable


class MultiRNNCell(RNNCell):
    """Cells stacked in sequence: the output of cell i is the input of cell i + 1.

    Each cell runs in the variable scope ``cell_<i>``, so its variables are
    ``multi_rnn_cell/cell_<i>/<cell name>/...``.

    Args:
      cells: a list of RNNCells, bottom first.
      state_is_tuple: the state is a tuple of the cells' states; if False, their
        concatenation along axis 1 (only for cells whose states are single tensors).

    Raises:
      ValueError: if `cells` is empty, or a cell's state is a tuple while `state_is_tuple`
        is False.
      TypeError: if `cells` is not a list or tuple.
    """

    def __init__(self, cells, state_is_tuple=True):
        super().__init__()
        if not cells:
            raise ValueError("Must specify at least one cell for MultiRNNCell.")
        if not _nest.is_sequence(cells):
            raise TypeError(f"cells must be a list or tuple, but received: {cells}.")
        self._cells = cells
        self._state_is_tuple = state_is_tuple
        if not state_is_tuple and any(_nest.is_sequence(c.state_size) for c in cells):
            raise ValueError("Some cells return tuples of states, but the flag state_is_tuple "
                             "is not set. State sizes are: "
                             f"{[c.state_size for c in cells]}")

    @property
    def state_size(self):
        if self._state_is_tuple:
            return tuple(cell.state_size for cell in self._cells)
        return sum(cell.state_size for cell in self._cells)

    @property
    def output_size(self):
        return self._cells[-1].output_size

    def zero_state(self, batch_size, dtype):
        graph = graph_lib.get_default_graph()
        with graph.name_scope(type(self).__name__ + "ZeroState"):
            if self._state_is_tuple:
                return tuple(cell.zero_state(batch_size, dtype) for cell in self._cells)
            return _zero_state_tensors(self.state_size, batch_size, dtypes.as_dtype(dtype))

    @property
    def trainable_weights(self):
        if not self.trainable:
            return []
        return [w for cell in self._cells if isinstance(cell, base.Layer)
                for w in cell.trainable_weights]

    @property
    def non_trainable_weights(self):
        weights = [w for cell in self._cells if isinstance(cell, base.Layer)
                   for w in cell.non_trainable_weights]
        if not self.trainable:
            return [w for cell in self._cells if isinstance(cell, base.Layer)
                    for w in cell.trainable_weights] + weights
        return weights

    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights

    @property
    def weights(self):
        return self.trainable_weights + self.non_trainable_weights

    variables = weights

    def call(self, inputs, state):
        cur_state_pos = 0
        cur_inp = inputs
        new_states = []
        for i, cell in enumerate(self._cells):
            with vs.variable_scope(f"cell_{i}"):
                if self._state_is_tuple:
                    if not _nest.is_sequence(state):
                        raise ValueError(f"Expected state to be a tuple of length "
                                         f"{len(self.state_size)}, but received: {state}")
                    cur_state = state[i]
                else:
                    cur_state = array_ops.slice(state, [0, cur_state_pos],
                                                [-1, cell.state_size])
                    cur_state_pos += cell.state_size
                cur_inp, new_state = cell(cur_inp, cur_state)
                new_states.append(new_state)
        new_states = tuple(new_states) if self._state_is_tuple else \
            array_ops.concat(new_states, 1)
        return cur_inp, new_states


class _RNNCellWrapper(RNNCell):
    """The base of the wrappers: they call the wrapped cell directly, with no scope of their
    own, so the cell's variables keep their names; sizes and weights are the cell's."""

    def __init__(self, cell, *args, **kwargs):
        super().__init__(*args, **kwargs)
        rnn_ops.assert_like_rnncell("cell", cell)
        self.cell = cell

    def _call_wrapped_cell(self, inputs, state, cell_call_fn, **kwargs):
        raise NotImplementedError

    def __call__(self, inputs, state, scope=None):
        """Runs the wrapped cell (with `scope`, for its first call) and the wrapping."""
        return self._call_wrapped_cell(inputs, state, cell_call_fn=self.cell.__call__,
                                       scope=scope)

    @property
    def state_size(self):
        return self.cell.state_size

    @property
    def output_size(self):
        return self.cell.output_size

    def zero_state(self, batch_size, dtype):
        graph = graph_lib.get_default_graph()
        with graph.name_scope(type(self).__name__ + "ZeroState"):
            return self.cell.zero_state(batch_size, dtype)

    def build(self, input_shape):
        if isinstance(self.cell, base.Layer) and not self.cell.built:
            self.cell.build(input_shape)
        self.built = True

    @property
    def trainable_weights(self):
        return list(self.cell.trainable_weights) if self.trainable else []

    @property
    def non_trainable_weights(self):
        if self.trainable:
            return list(self.cell.non_trainable_weights)
        return list(self.cell.trainable_weights) + list(self.cell.non_trainable_weights)

    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights

    @property
    def weights(self):
        return self.trainable_weights + self.non_trainable_weights

    variables = weights


def _default_dropout_state_filter_visitor(substate):
    # Never drop the memory state `c` of an LSTM (Gal & Ghahramani).
    if isinstance(substate, LSTMStateTuple):
        return LSTMStateTuple(c=False, h=True)
    return True


def _filter_structure(visitor, value):
    """TF's ``get_traverse_shallow_structure``: a structure of bools saying which parts of
    `value` to drop out, from `visitor` applied from the top down."""
    decision = visitor(value)
    if isinstance(decision, bool):
        if decision and _nest.is_sequence(value):
            return _nest._rebuild(value, [_filter_structure(visitor, child)
                                          for child in _nest._children(value)])
        return decision
    children = _nest._children(value)
    flags = _nest._children(decision)
    if len(flags) != len(children):
        raise ValueError(f"The dropout state filter returned {decision} for {value}: the "
                         "structures differ.")
    return _nest._rebuild(value, [
        _filter_structure(visitor, child) if flag is True and _nest.is_sequence(child)
        else bool(flag) for flag, child in zip(flags, children)])


def _enumerated_map_up_to(shallow, fn, *structures):
    """`fn(index, *subtrees)` for each leaf of `shallow`, where each subtree is the part of a
    structure at that leaf; `index` counts the leaves in order."""
    counter = [0]

    def walk(like, *values):
        if not _nest.is_sequence(like):
            counter[0] += 1
            return fn(counter[0] - 1, *values)
        children = [_nest._children(v) for v in values]
        return _nest._rebuild(like, [walk(*parts) for parts in
                                     zip(_nest._children(like), *children)])

    return walk(shallow, *structures)


class DropoutWrapper(_RNNCellWrapper):
    """Dropout on a cell's inputs, outputs and (new) state.

    By default each step draws new masks. With ``variational_recurrent=True`` the masks are
    drawn once per wrapper and graph (shape ``[1, size]``, shared by the batch) and reused at
    every step (Gal & Ghahramani, 2016). The LSTM memory state ``c`` is never dropped unless
    `dropout_state_filter_visitor` says otherwise.

    Args:
      cell: the RNNCell to wrap.
      input_keep_prob, output_keep_prob, state_keep_prob: keep probabilities: Python floats
        in [0, 1] (1 adds nothing) or scalar Tensors.
      variational_recurrent: the same masks at every step.
      input_size: the input depth(s); needed for variational input dropout.
      dtype: the dtype of the masks; needed for variational dropout.
      seed: the op seed; each mask derives its own from it as TF does.
      dropout_state_filter_visitor: a function of a state (sub)structure returning a bool,
        or a depth-1 structure of bools, saying which parts to drop.
      **kwargs: the layer base's arguments.

    Raises:
      TypeError: if `cell` is not like an RNNCell or the filter is not callable.
      ValueError: for a constant keep probability outside [0, 1], or missing `dtype` /
        `input_size` for variational dropout.
    """

    def __init__(self, cell, input_keep_prob=1.0, output_keep_prob=1.0, state_keep_prob=1.0,
                 variational_recurrent=False, input_size=None, dtype=None, seed=None,
                 dropout_state_filter_visitor=None, **kwargs):
        super().__init__(cell, dtype=dtype, **kwargs)
        if dropout_state_filter_visitor is not None and \
                not callable(dropout_state_filter_visitor):
            raise TypeError("dropout_state_filter_visitor must be callable. Received: "
                            f"{dropout_state_filter_visitor}")
        self._dropout_state_filter = (dropout_state_filter_visitor
                                      or _default_dropout_state_filter_visitor)
        graph = graph_lib.get_default_graph()
        with graph.name_scope("DropoutWrapperInit"):
            for prob, attr in ((input_keep_prob, "input_keep_prob"),
                               (state_keep_prob, "state_keep_prob"),
                               (output_keep_prob, "output_keep_prob")):
                const = prob if isinstance(prob, numbers.Real) else None
                if const is None:
                    tensor = graph_lib.convert_to_tensor(prob)
                    const = tensor_util.constant_value(tensor)
                if const is not None:
                    const = float(const)
                    if const < 0 or const > 1:
                        raise ValueError(f"Parameter {attr} must be between 0 and 1. "
                                         f"Received {const}")
                    setattr(self, f"_{attr}", const)
                else:
                    setattr(self, f"_{attr}", tensor)
        self._variational_recurrent = variational_recurrent
        self._input_size = input_size
        self._seed = seed
        self._recurrent_input_noise = None
        self._recurrent_state_noise = None
        self._recurrent_output_noise = None
        if variational_recurrent:
            if dtype is None:
                raise ValueError("When variational_recurrent=True, dtype must be provided")

            def batch_noise(size, inner_seed):
                # One mask row for the whole batch, as TF's variational dropout.
                shape = [1] + TensorShape(size).as_list()
                return random_ops.random_uniform(shape, seed=inner_seed, dtype=dtype)

            if not isinstance(self._input_keep_prob, numbers.Real) or \
                    self._input_keep_prob < 1.0:
                if input_size is None:
                    raise ValueError("When variational_recurrent=True and input_keep_prob < "
                                     "1.0 or is unknown, input_size must be provided")
                self._recurrent_input_noise = _enumerated_map_up_to(
                    input_size, lambda i, s: batch_noise(s, self._gen_seed("input", i)),
                    input_size)
            self._recurrent_state_noise = _enumerated_map_up_to(
                cell.state_size, lambda i, s: batch_noise(s, self._gen_seed("state", i)),
                cell.state_size)
            self._recurrent_output_noise = _enumerated_map_up_to(
                cell.output_size, lambda i, s: batch_noise(s, self._gen_seed("output", i)),
                cell.output_size)

    def _gen_seed(self, salt_prefix, index):
        # TF's derivation, so that a seeded wrapper draws the same op seeds.
        if self._seed is None:
            return None
        text = (str(self._seed) + f"{salt_prefix}_{index}").encode("utf-8")
        return int(hashlib.md5(text).hexdigest()[:8], 16) & 0x7FFFFFFF

    @property
    def wrapped_cell(self):
        """The cell inside."""
        return self.cell

    def _variational_value(self, value, noise, keep_prob):
        # keep_prob + U[0, 1) is >= 1 with probability keep_prob: TF's floor() of it as a
        # mask, written as a comparison.
        random_tensor = math_ops.add(keep_prob, noise)
        binary = math_ops.cast(math_ops.greater_equal(random_tensor, 1.0), value.dtype)
        result = math_ops.multiply(math_ops.divide(value, keep_prob), binary)
        result.set_shape(value.shape)
        return result

    def _dropout(self, values, salt_prefix, recurrent_noise, keep_prob, shallow=None):
        if shallow is None:
            shallow = values
        if not self._variational_recurrent:
            def dropout(i, do_dropout, value):
                if not isinstance(do_dropout, bool) or do_dropout:
                    return nn_dropout(value, keep_prob=keep_prob,
                                      seed=self._gen_seed(salt_prefix, i))
                return value

            return _enumerated_map_up_to(shallow, dropout, shallow, values)

        def variational(i, do_dropout, value, noise):
            if not isinstance(do_dropout, bool) or do_dropout:
                return self._variational_value(value, noise, keep_prob)
            return value

        return _enumerated_map_up_to(shallow, variational, shallow, values, recurrent_noise)

    def _call_wrapped_cell(self, inputs, state, cell_call_fn, **kwargs):
        def should_dropout(p):
            return not isinstance(p, float) or p < 1

        if should_dropout(self._input_keep_prob):
            inputs = self._dropout(inputs, "input", self._recurrent_input_noise,
                                   self._input_keep_prob)
        output, new_state = cell_call_fn(inputs, state, **kwargs)
        if should_dropout(self._state_keep_prob):
            shallow = _filter_structure(self._dropout_state_filter, new_state)
            new_state = self._dropout(new_state, "state", self._recurrent_state_noise,
                                      self._state_keep_prob, shallow)
        if should_dropout(self._output_keep_prob):
            output = self._dropout(output, "output", self._recurrent_output_noise,
                                   self._output_keep_prob)
        return output, new_state


class ResidualWrapper(_RNNCellWrapper):
    """Adds the cell's inputs to its outputs (``residual_fn(inputs, outputs)``).

    Args:
      cell: the RNNCell to wrap; its output size must equal its input size for the default
        residual.
      residual_fn: ``(inputs, outputs) -> outputs``; default: their elementwise sum.
      **kwargs: the layer base's arguments.
    """

    def __init__(self, cell, residual_fn=None, **kwargs):
        super().__init__(cell, **kwargs)
        self._residual_fn = residual_fn

    def _call_wrapped_cell(self, inputs, state, cell_call_fn, **kwargs):
        outputs, new_state = cell_call_fn(inputs, state, **kwargs)

        def default_residual_fn(inputs, outputs):
            _nest.assert_same_structure(inputs, outputs)

            def add(inp, out):
                inp = graph_lib.convert_to_tensor(inp)
                if not inp.shape.is_compatible_with(out.shape):
                    raise ValueError(f"Shapes {inp.shape} and {out.shape} are incompatible")
                return inp + out

            return _nest.map_structure(add, inputs, outputs)

        return (self._residual_fn or default_residual_fn)(inputs, outputs), new_state


class DeviceWrapper(_RNNCellWrapper):
    """Runs the cell (and builds its zero state) under ``tf.device(device)``.

    Args:
      cell: the RNNCell to wrap.
      device: a device string or function, as for ``tf.device``.
      **kwargs: the layer base's arguments.
    """

    def __init__(self, cell, device, **kwargs):
        super().__init__(cell, **kwargs)
        self._device = device

    def zero_state(self, batch_size, dtype):
        graph = graph_lib.get_default_graph()
        with graph.name_scope(type(self).__name__ + "ZeroState"), graph.device(self._device):
            return self.cell.zero_state(batch_size, dtype)

    def _call_wrapped_cell(self, inputs, state, cell_call_fn, **kwargs):
        with graph_lib.get_default_graph().device(self._device):
            return cell_call_fn(inputs, state, **kwargs)


# ``tf.nn.rnn_cell`` (and ``tf.contrib.rnn``'s cells), as a module object like ``tf.nn``.
rnn_cell = types.ModuleType("sessionlib.nn.rnn_cell", "RNN cells (``tf.nn.rnn_cell``).")
for _name in ("RNNCell", "BasicRNNCell", "BasicLSTMCell", "LSTMCell", "GRUCell",
              "MultiRNNCell", "DropoutWrapper", "ResidualWrapper", "DeviceWrapper",
              "LSTMStateTuple"):
    setattr(rnn_cell, _name, globals()[_name])
nn.rnn_cell = rnn_cell
