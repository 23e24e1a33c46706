"""``tf.layers.Dense``, ``Flatten`` and ``Dropout``, and their functions.

Dense builds ``MatMul`` + ``BiasAdd`` (+ the activation) under the layer's name scope, as TF's
graph does (``dense/MatMul``, ``dense/BiasAdd``, ``dense/Relu``); inputs of rank above 2 are
contracted over their last axis (TF's ``tensordot``) with the leading dimensions kept.

Dropout with a Python bool builds either the dropout or an ``Identity``; with a bool Tensor
it builds both and chooses with a select, which is what TF's ``smart_cond`` does without the
control-flow ops (the random mask is then drawn on every step, used or not).
"""

import functools
import numbers
import operator

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework.tensor_shape import TensorShape
from sessionlib.layers import base, utils
from sessionlib.ops import array_ops, init_ops, math_ops
from sessionlib.ops.nn import nn
from sessionlib.ops.nn_lookup_ops import dropout as nn_dropout

__all__ = ["Dense", "dense", "Dropout", "dropout", "Flatten", "flatten", "smart_select"]


class Dense(base.Layer):
    """A densely connected layer: ``activation(inputs @ kernel + bias)`` (``tf.layers.Dense``).

    Args:
      units: the output size.
      activation: a function (or Keras name) applied to the output; None for none.
      use_bias: add a bias vector.
      kernel_initializer: the kernel's initializer; None for the scope's or Glorot uniform.
      bias_initializer: the bias' initializer (zeros).
      kernel_regularizer, bias_regularizer: functions of the weight whose values go to the
        layer's losses and ``REGULARIZATION_LOSSES``.
      activity_regularizer: a function of the output, likewise (divided by the batch size).
      kernel_constraint, bias_constraint: projections applied by optimizers.
      trainable: add the weights to ``TRAINABLE_VARIABLES``.
      name: the layer's name (and variable scope).
      **kwargs: the base layer's arguments (`dtype`, `_scope`, `_reuse`).
    """

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer=None,
                 bias_initializer=init_ops.zeros_initializer(), kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, trainable=True, name=None, **kwargs):
        super().__init__(trainable=trainable, name=name,
                         activity_regularizer=activity_regularizer, **kwargs)
        self.units = int(units)
        if self.units <= 0:
            raise ValueError("Received an invalid value for `units`, expected a positive "
                             f"integer. Received: units={units}")
        self.activation = utils.get_activation(activation)
        self.use_bias = use_bias
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer
        self.kernel_regularizer = kernel_regularizer
        self.bias_regularizer = bias_regularizer
        self.kernel_constraint = kernel_constraint
        self.bias_constraint = bias_constraint
        self.input_spec = base.InputSpec(min_ndim=2)
        self.kernel = None
        self.bias = None

    def build(self, input_shape):
        input_shape = TensorShape(input_shape)
        last_dim = input_shape[-1] if input_shape.rank else None
        if last_dim is None:
            raise ValueError("The last dimension of the inputs to a Dense layer should be "
                             f"defined. Found None. Full input shape received: {input_shape}")
        self.input_spec = base.InputSpec(min_ndim=2, axes={-1: last_dim})
        self.kernel = self.add_weight("kernel", shape=[last_dim, self.units],
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint, dtype=self.dtype,
                                      trainable=True)
        if self.use_bias:
            self.bias = self.add_weight("bias", shape=[self.units],
                                        initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint, dtype=self.dtype,
                                        trainable=True)
        self.built = True

    def call(self, inputs):
        rank = inputs.shape.rank
        if rank is None or rank == 2:
            outputs = math_ops.matmul(inputs, self.kernel)
        else:
            outputs = _tensordot_last(inputs, self.kernel, self.units)
        if self.use_bias:
            outputs = nn.bias_add(outputs, self.bias)
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs

    def compute_output_shape(self, input_shape):
        input_shape = TensorShape(input_shape).with_rank_at_least(2)
        return TensorShape(input_shape[:-1].as_list() + [self.units])


def _tensordot_last(inputs, kernel, units):
    # inputs [..., d] x kernel [d, units]: flatten the leading axes, MatMul, restore them.
    graph = graph_lib.get_default_graph()
    with graph.name_scope("Tensordot"):
        leading = inputs.shape[:-1]
        flat = array_ops.reshape(inputs, [-1, int(inputs.shape[-1])])
        product = math_ops.matmul(flat, kernel)
        if leading.is_fully_defined():
            out_shape = leading.as_list() + [units]
        else:
            out_shape = array_ops.concat([array_ops.shape(inputs)[:-1], [units]], 0)
        outputs = array_ops.reshape(product, out_shape)
    outputs.set_shape(TensorShape(leading.as_list() + [units]))
    return outputs


def dense(inputs, units, activation=None, use_bias=True, kernel_initializer=None,
          bias_initializer=init_ops.zeros_initializer(), kernel_regularizer=None,
          bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
          bias_constraint=None, trainable=True, name=None, reuse=None):
    """The functional form of `Dense` (``tf.layers.dense``).

    Args:
      inputs: a Tensor of rank >= 2 whose last dimension is known.
      units, activation, ...: as for `Dense`.
      name: the variable scope (exact, so that ``reuse=True`` finds it).
      reuse: reuse the variables of an earlier layer of the same name.

    Returns:
      The output Tensor: `inputs`' shape with the last dimension `units`.
    """
    layer = Dense(units, activation=activation, use_bias=use_bias,
                  kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                  kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                  activity_regularizer=activity_regularizer,
                  kernel_constraint=kernel_constraint, bias_constraint=bias_constraint,
                  trainable=trainable, name=name, dtype=_dtype_of(inputs), _scope=name,
                  _reuse=reuse)
    return layer.apply(inputs)


def _dtype_of(inputs):
    dtype = getattr(inputs, "dtype", None)
    return dtypes.as_dtype(dtype).base_dtype if dtype is not None else None


def smart_select(pred, true_fn, false_fn):
    """``true_fn()`` or ``false_fn()`` for a Python bool; for a bool Tensor both, chosen by a
    select (TF's ``smart_cond`` without a ``cond``).

    Args:
      pred: a Python bool or a scalar bool Tensor.
      true_fn, false_fn: functions returning Tensors of the same shape and dtype.

    Returns:
      The chosen Tensor.
    """
    if isinstance(pred, (bool, numbers.Integral)) and not isinstance(pred, graph_lib.Tensor):
        return true_fn() if pred else false_fn()
    pred = graph_lib.convert_to_tensor(pred, dtype=dtypes.bool)
    return array_ops.where(pred, true_fn(), false_fn())


def training_value(training):
    """A Python bool for a Python value or a constant tensor, else the bool Tensor."""
    if training is None:
        return False
    if isinstance(training, graph_lib.Tensor):
        if training.dtype.base_dtype is not dtypes.bool:
            raise TypeError(f"`training` must be a bool Tensor, got {training.dtype.name}")
        return training
    if hasattr(training, "dtype") and hasattr(training, "graph"):
        return graph_lib.convert_to_tensor(training, dtype=dtypes.bool)
    return bool(training)


class Dropout(base.Layer):
    """Drops inputs at random in training (``tf.layers.Dropout``).

    Each element is zeroed with probability `rate` and the rest scaled by ``1 / (1 - rate)``;
    outside training the inputs pass unchanged.

    Args:
      rate: the drop probability, in [0, 1) (a float or a scalar Tensor).
      noise_shape: the shape of the keep mask, broadcast against the inputs; None entries take
        the input's size.
      seed: the op seed.
      name: the layer's name.
    """

    def __init__(self, rate=0.5, noise_shape=None, seed=None, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.rate = rate
        self.noise_shape = noise_shape
        self.seed = seed

    def _get_noise_shape(self, inputs):
        if self.noise_shape is None:
            return None
        if any(size is None for size in self.noise_shape):
            dynamic = array_ops.shape(inputs)
            return array_ops.stack([dynamic[i] if size is None else size
                                    for i, size in enumerate(self.noise_shape)])
        return list(self.noise_shape)

    def call(self, inputs, training=False):
        if isinstance(self.rate, numbers.Real) and self.rate == 0:
            return array_ops.identity(inputs)
        training = training_value(training)
        return smart_select(
            training,
            lambda: nn_dropout(inputs, rate=self.rate, noise_shape=self._get_noise_shape(inputs),
                               seed=self.seed),
            lambda: array_ops.identity(inputs))

    def compute_output_shape(self, input_shape):
        return TensorShape(input_shape)


def dropout(inputs, rate=0.5, noise_shape=None, seed=None, training=False, name=None):
    """The functional form of `Dropout` (``tf.layers.dropout``).

    Args:
      inputs: a floating Tensor.
      rate: the drop probability.
      noise_shape: the shape of the keep mask (see `Dropout`).
      seed: the op seed.
      training: a Python bool or a scalar bool Tensor: drop only when it is true.
      name: the layer's name.

    Returns:
      A Tensor of `inputs`' shape.
    """
    layer = Dropout(rate, noise_shape=noise_shape, seed=seed, name=name)
    return layer.apply(inputs, training=training)


class Flatten(base.Layer):
    """Flattens all but the batch dimension (``tf.layers.Flatten``).

    Args:
      data_format: 'channels_last' (default) or 'channels_first'; with channels first the
        channels are moved last before flattening, so that both orders flatten alike.
      name: the layer's name.
    """

    def __init__(self, data_format="channels_last", name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.data_format = utils.normalize_data_format(data_format)
        self.input_spec = base.InputSpec(min_ndim=1)

    def call(self, inputs):
        rank = inputs.shape.rank
        if self.data_format == "channels_first" and rank is not None and rank > 1:
            perm = [0] + list(range(2, rank)) + [1]
            inputs = array_ops.transpose(inputs, perm)
        if rank == 1:
            return array_ops.expand_dims(inputs, 1)
        shape = inputs.shape
        if rank is not None and shape[1:].is_fully_defined():
            last = int(functools.reduce(operator.mul, shape[1:].as_list(), 1))
            target = [-1, last]
        elif rank is not None and shape[0] is not None:
            target = [int(shape[0]), -1]
        else:
            target = array_ops.stack([array_ops.shape(inputs)[0], -1])
        return array_ops.reshape(inputs, target)

    def compute_output_shape(self, input_shape):
        input_shape = TensorShape(input_shape)
        if input_shape.rank is None:
            return TensorShape([None, None])
        rest = input_shape[1:]
        size = rest.num_elements() if rest.is_fully_defined() else None
        return TensorShape([input_shape[0], size])


def flatten(inputs, name=None, data_format="channels_last"):
    """The functional form of `Flatten` (``tf.layers.flatten``).

    Returns:
      A Tensor ``[batch, prod(other dims)]``.
    """
    return Flatten(name=name, data_format=data_format).apply(inputs)
