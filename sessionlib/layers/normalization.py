"""``tf.layers.BatchNormalization`` and ``tf.layers.batch_normalization``.

Weights, in TF's order: ``gamma`` and ``beta`` (trainable, when `scale`/`center`), then
``moving_mean`` and ``moving_variance`` (not trainable: ``GLOBAL_VARIABLES`` only). Training
normalizes with the batch's statistics and adds two ``AssignMovingAvg`` updates to
``UPDATE_OPS``: ``moving -= (moving - batch) * (1 - momentum)``; inference uses the moving
statistics and adds none.

TF 1 has two paths and this keeps both, because they differ in a value: for 4-D inputs
normalized over their channel axis (``fused=None`` or True) the ``FusedBatchNormV3`` op is
used and the moving variance follows the batch's *unbiased* variance (``n / (n - 1)``), as
TF's fused kernel reports it; otherwise ``nn.moments`` + ``nn.batch_normalization`` are
built and the moving variance follows the biased one.

`training` may be a bool Tensor. TF builds ``cond``s then; without them both branches are
built and chosen by a select, and each moving-average update is scaled by
``cast(training)``, so that it changes nothing when `training` is false (Keras'
``momentum = smart_cond(training, momentum, 1.0)`` trick).
"""

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework.tensor_shape import TensorShape
from sessionlib.layers import base
from sessionlib.layers.core import _dtype_of, smart_select, training_value
from sessionlib.ops import array_ops, init_ops, math_ops, nn_normalization_ops

__all__ = ["BatchNormalization", "batch_normalization", "BatchNorm"]


class BatchNormalization(base.Layer):
    """Batch normalization (``tf.layers.BatchNormalization``).

    ``gamma * (x - mean) / sqrt(variance + epsilon) + beta`` over the axes other than `axis`.

    Args:
      axis: the feature axis (or a list of them), normally -1 (or 1 for channels first).
      momentum: the moving averages' momentum.
      epsilon: added to the variance.
      center: learn the offset `beta`.
      scale: learn the factor `gamma`.
      beta_initializer, gamma_initializer, moving_mean_initializer,
        moving_variance_initializer: the weights' initializers (zeros, ones, zeros, ones).
      beta_regularizer, gamma_regularizer: functions of the weight added to the losses.
      beta_constraint, gamma_constraint: projections applied by optimizers.
      renorm, renorm_clipping, renorm_momentum: batch renormalization (not supported: True
        raises NotImplementedError).
      fused: None (the fused op where it applies), True (it must apply) or False.
      trainable: add gamma and beta to ``TRAINABLE_VARIABLES``.
      virtual_batch_size: normalize each of ``batch / virtual_batch_size`` "ghost" batches by
        its own statistics (which must divide the batch); the weights then have shape
        ``[1, 1, ..., channels]`` and the moving averages follow the mean of the ghost
        batches' statistics, as in TF.
      adjustment: a function from the input's dynamic shape to ``(scale, bias)`` applied after
        normalization in training only (``gamma * scale``, ``beta + gamma * bias``).
      name: the layer's name.

    Raises:
      NotImplementedError: for renorm.
      ValueError: for a virtual batch size that is not positive or comes with `adjustment`.
    """

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer=init_ops.zeros_initializer(),
                 gamma_initializer=init_ops.ones_initializer(),
                 moving_mean_initializer=init_ops.zeros_initializer(),
                 moving_variance_initializer=init_ops.ones_initializer(),
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, renorm=False, renorm_clipping=None,
                 renorm_momentum=0.99, fused=None, trainable=True, virtual_batch_size=None,
                 adjustment=None, name=None, **kwargs):
        super().__init__(trainable=trainable, name=name, **kwargs)
        if renorm:
            raise NotImplementedError("BatchNormalization(renorm=True) is not supported by "
                                      "sessionlib")
        if virtual_batch_size is not None:
            if virtual_batch_size <= 0:
                raise ValueError("`virtual_batch_size` must be a positive integer that divides "
                                 "the true batch size of the input tensor. Received: "
                                 f"virtual_batch_size={virtual_batch_size}")
            if adjustment is not None:
                raise ValueError("When using `virtual_batch_size`, adjustment cannot be "
                                 f"specified. Received: adjustment={adjustment}")
            if fused:
                raise ValueError("Passing `fused=True` is not supported with "
                                 "`virtual_batch_size`")
        del renorm_clipping, renorm_momentum
        self.axis = list(axis) if isinstance(axis, (list, tuple)) else axis
        self.momentum = momentum
        self.epsilon = epsilon
        self.center = center
        self.scale = scale
        self.beta_initializer = beta_initializer
        self.gamma_initializer = gamma_initializer
        self.moving_mean_initializer = moving_mean_initializer
        self.moving_variance_initializer = moving_variance_initializer
        self.beta_regularizer = beta_regularizer
        self.gamma_regularizer = gamma_regularizer
        self.beta_constraint = beta_constraint
        self.gamma_constraint = gamma_constraint
        self.fused = fused
        self.renorm = False
        self.virtual_batch_size = virtual_batch_size
        self.adjustment = adjustment
        self.gamma = self.beta = self.moving_mean = self.moving_variance = None

    def _param_dtype(self):
        # Half-precision inputs keep float32 statistics, as TF does.
        dtype = self.dtype or dtypes.float32
        return dtypes.float32 if dtype.name in ("float16", "bfloat16") else dtype

    def build(self, input_shape):
        input_shape = TensorShape(input_shape)
        ndims = input_shape.rank
        if not ndims:
            raise ValueError(f"Input has undefined rank. Received: input_shape={input_shape}.")
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        normalized = []
        for axis in axes:
            if not isinstance(axis, int):
                raise TypeError(f"Expected an int or a list/tuple of ints for the argument "
                                f"'axis', but received: {self.axis}")
            if axis < -ndims or axis >= ndims:
                raise ValueError(f"Invalid axis. Expected 0 <= axis < inputs.rank (with "
                                 f"inputs.rank={ndims}). Received: layer.axis={self.axis}")
            normalized.append(axis + ndims if axis < 0 else axis)
        if len(set(normalized)) != len(normalized):
            raise ValueError(f"Duplicate axis: {self.axis}")
        self.axis = normalized
        if self.virtual_batch_size is not None and 0 in self.axis:
            raise ValueError("When using `virtual_batch_size`, the batch dimension must be 0 "
                             f"and thus axis cannot include 0. Received axis={self.axis}")
        can_fuse = (ndims == 4 and self.axis in ([1], [3]) and self.virtual_batch_size is None
                    and self.adjustment is None)
        if self.fused is None:
            self.fused = can_fuse
        elif self.fused and not can_fuse:
            raise ValueError("Passing `fused=True` is only supported for 4-D inputs "
                             f"normalized over axis 1 or 3. Received: input_shape="
                             f"{input_shape}, axis={self.axis}")
        if self.fused:
            self._data_format = "NCHW" if self.axis == [1] else "NHWC"
        sizes = {axis: input_shape[axis] for axis in self.axis}
        for axis, size in sizes.items():
            if size is None:
                raise ValueError(f"Input has undefined `axis` dimension. Received input with "
                                 f"shape {input_shape} and axis={axis}")
        self.input_spec = base.InputSpec(ndim=ndims, axes=sizes)
        if len(self.axis) == 1 and self.virtual_batch_size is None:
            param_shape = [int(sizes[self.axis[0]])]
        else:
            param_shape = [int(sizes[i]) if i in sizes else 1 for i in range(ndims)]
            if self.virtual_batch_size is not None:
                # The ghost-batch dimension is inserted at 1: the feature axes move by one.
                param_shape.insert(1, 1)
                self.axis = [axis + 1 for axis in self.axis]
        param_dtype = self._param_dtype()
        if self.scale:
            self.gamma = self.add_weight("gamma", shape=param_shape, dtype=param_dtype,
                                         initializer=self.gamma_initializer,
                                         regularizer=self.gamma_regularizer,
                                         constraint=self.gamma_constraint, trainable=True)
        if self.center:
            self.beta = self.add_weight("beta", shape=param_shape, dtype=param_dtype,
                                        initializer=self.beta_initializer,
                                        regularizer=self.beta_regularizer,
                                        constraint=self.beta_constraint, trainable=True)
        self.moving_mean = self.add_weight("moving_mean", shape=param_shape, dtype=param_dtype,
                                           initializer=self.moving_mean_initializer,
                                           trainable=False)
        self.moving_variance = self.add_weight("moving_variance", shape=param_shape,
                                               dtype=param_dtype,
                                               initializer=self.moving_variance_initializer,
                                               trainable=False)
        self.built = True

    # ---- the moving averages -------------------------------------------------------------

    def _assign_moving_average(self, variable, value, training):
        """``variable -= (variable - value) * (1 - momentum)``, times ``cast(training)`` when
        `training` is a Tensor; named ``AssignMovingAvg`` as in TF."""
        graph = graph_lib.get_default_graph()
        with graph.name_scope("AssignMovingAvg") as scope:
            decay = graph_lib.convert_to_tensor(1.0 - self.momentum, dtype=variable.dtype,
                                                name="decay")
            if isinstance(training, graph_lib.Tensor):
                decay = math_ops.multiply(decay, math_ops.cast(training, variable.dtype))
            delta = math_ops.multiply(
                math_ops.subtract(variable, math_ops.cast(value, variable.dtype)), decay)
            return variable.assign_sub(delta, name=scope, read_value=False)

    def _add_moving_updates(self, mean, variance, training):
        self.add_update(self._assign_moving_average(self.moving_mean, mean, training))
        self.add_update(self._assign_moving_average(self.moving_variance, variance, training))

    # ---- the computation -----------------------------------------------------------------

    def call(self, inputs, training=False):
        training = training_value(training)
        if self.fused:
            outputs = self._fused_batch_norm(inputs, training)
        elif self.virtual_batch_size is not None:
            # [batch, ...] -> [virtual_batch_size, batch / virtual_batch_size, ...] and back.
            static = inputs.shape.as_list()
            if all(size is not None for size in static[1:]):
                rest = static[1:]
                expanded = array_ops.reshape(inputs, [self.virtual_batch_size, -1] + rest)
            else:
                rest = array_ops.shape(inputs)[1:]
                expanded = array_ops.reshape(inputs, array_ops.concat(
                    [[self.virtual_batch_size, -1], rest], 0))
            ghost = static[0] // self.virtual_batch_size if static[0] is not None else None
            expanded.set_shape([self.virtual_batch_size, ghost] + static[1:])
            outputs = self._batch_norm(expanded, training)
            if isinstance(rest, list):
                outputs = array_ops.reshape(outputs, [-1] + rest)
            else:
                outputs = array_ops.reshape(outputs, array_ops.concat([[-1], rest], 0))
        else:
            outputs = self._batch_norm(inputs, training)
        outputs.set_shape(inputs.shape)
        return outputs

    def _params(self, param_dtype):
        shape = self.moving_mean.shape.as_list()
        gamma = self.gamma if self.gamma is not None else \
            array_ops.ones(shape, dtype=param_dtype)
        beta = self.beta if self.beta is not None else \
            array_ops.zeros(shape, dtype=param_dtype)
        return gamma, beta

    def _fused_batch_norm(self, inputs, training):
        gamma, beta = self._params(self.moving_mean.dtype)

        def train():
            return nn_normalization_ops.fused_batch_norm(
                inputs, gamma, beta, epsilon=self.epsilon, data_format=self._data_format,
                is_training=True)

        def infer():
            return nn_normalization_ops.fused_batch_norm(
                inputs, gamma, beta, mean=self.moving_mean, variance=self.moving_variance,
                epsilon=self.epsilon, data_format=self._data_format, is_training=False)

        if training is False:
            return infer()[0]
        output, mean, variance = train()
        if training is not True:
            output = array_ops.where(training, output, infer()[0])
        # The fused op's variance is the unbiased one; TF's moving variance follows it.
        self._add_moving_updates(mean, variance, training)
        return output

    def _batch_norm(self, inputs, training):
        ndims = inputs.shape.rank
        reduction_axes = [i for i in range(ndims) if i not in self.axis]
        virtual = self.virtual_batch_size is not None
        if virtual:
            del reduction_axes[1]  # each ghost batch keeps its own statistics
        broadcast_shape = [1] * ndims
        for axis in self.axis:
            broadcast_shape[axis] = int(inputs.shape[axis])
        needs_broadcast = (len(self.axis) == 1 and not virtual
                           and reduction_axes != list(range(ndims - 1)))

        def broadcast(value):
            if value is not None and needs_broadcast:
                return array_ops.reshape(value, broadcast_shape)
            return value

        param_dtype = self.moving_mean.dtype
        if training is False:
            mean = self.moving_mean.value()
            variance = self.moving_variance.value()
        else:
            stats_input = inputs if inputs.dtype.base_dtype is param_dtype else \
                math_ops.cast(inputs, param_dtype)
            batch_mean, batch_variance = nn_normalization_ops.moments(
                stats_input, reduction_axes, keep_dims=virtual or len(self.axis) > 1)
            mean = smart_select(training, lambda: batch_mean, self.moving_mean.value)
            variance = smart_select(training, lambda: batch_variance,
                                    self.moving_variance.value)
            if virtual:
                # TF updates the moving averages once, with the ghost batches' mean moments.
                self._add_moving_updates(math_ops.reduce_mean(mean, 1, keepdims=True),
                                         math_ops.reduce_mean(variance, 1, keepdims=True),
                                         training)
            else:
                self._add_moving_updates(mean, variance, training)
        if inputs.dtype.base_dtype is not param_dtype:
            mean = math_ops.cast(mean, inputs.dtype)
            variance = math_ops.cast(variance, inputs.dtype)
        gamma = self.gamma
        beta = self.beta
        if gamma is not None and gamma.dtype.base_dtype is not inputs.dtype.base_dtype:
            gamma = math_ops.cast(gamma, inputs.dtype)
        if beta is not None and beta.dtype.base_dtype is not inputs.dtype.base_dtype:
            beta = math_ops.cast(beta, inputs.dtype)
        gamma, beta = broadcast(gamma), broadcast(beta)
        if self.adjustment is not None and training is not False:
            gamma, beta = self._adjust(inputs, gamma, beta, training)
        return nn_normalization_ops.batch_normalization(
            inputs, broadcast(mean), broadcast(variance), beta, gamma, self.epsilon)

    def _adjust(self, inputs, gamma, beta, training):
        """TF's adjustment: ``(adj_scale, adj_bias)`` composed after gamma and beta, in
        training only."""
        adj_scale, adj_bias = self.adjustment(array_ops.shape(inputs))
        adj_scale = smart_select(training, lambda: adj_scale,
                                 lambda: array_ops.ones_like(adj_scale))
        adj_bias = smart_select(training, lambda: adj_bias,
                                lambda: array_ops.zeros_like(adj_bias))
        scale = adj_scale if gamma is None else math_ops.multiply(adj_scale, gamma)
        offset = adj_bias if gamma is None else math_ops.multiply(adj_bias, gamma)
        if beta is not None:
            offset = math_ops.add(offset, beta)
        return scale, offset

    def compute_output_shape(self, input_shape):
        return TensorShape(input_shape)


def batch_normalization(inputs, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                        beta_initializer=init_ops.zeros_initializer(),
                        gamma_initializer=init_ops.ones_initializer(),
                        moving_mean_initializer=init_ops.zeros_initializer(),
                        moving_variance_initializer=init_ops.ones_initializer(),
                        beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                        gamma_constraint=None, training=False, trainable=True, name=None,
                        reuse=None, renorm=False, renorm_clipping=None, renorm_momentum=0.99,
                        fused=None, virtual_batch_size=None, adjustment=None):
    """The functional form of `BatchNormalization` (``tf.layers.batch_normalization``).

    Remember that the moving averages change only when the ops in ``UPDATE_OPS`` run: make the
    train op depend on them (``with tf.control_dependencies(tf.get_collection(
    tf.GraphKeys.UPDATE_OPS))``).

    Args:
      inputs: a floating Tensor.
      training: a Python bool or a scalar bool Tensor: batch statistics (and updates) when
        true, the moving statistics when false.
      name, reuse: the variable scope and whether to reuse its variables.
      the rest: as for `BatchNormalization`.

    Returns:
      The normalized Tensor, of `inputs`' shape.
    """
    layer = BatchNormalization(
        axis=axis, momentum=momentum, epsilon=epsilon, center=center, scale=scale,
        beta_initializer=beta_initializer, gamma_initializer=gamma_initializer,
        moving_mean_initializer=moving_mean_initializer,
        moving_variance_initializer=moving_variance_initializer,
        beta_regularizer=beta_regularizer, gamma_regularizer=gamma_regularizer,
        beta_constraint=beta_constraint, gamma_constraint=gamma_constraint, renorm=renorm,
        renorm_clipping=renorm_clipping, renorm_momentum=renorm_momentum, fused=fused,
        trainable=trainable, virtual_batch_size=virtual_batch_size, adjustment=adjustment,
        name=name, dtype=_dtype_of(inputs), _reuse=reuse, _scope=name)
    return layer.apply(inputs, training=training)


# TF 1's short spelling.
BatchNorm = BatchNormalization
