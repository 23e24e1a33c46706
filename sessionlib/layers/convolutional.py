"""The convolution layers: ``Conv1D``, ``Conv2D``, ``Conv3D``, ``Conv2DTranspose`` and
``SeparableConv2D``, and their functions (``tf.layers.conv2d`` ...).

One class, `_Conv`, holds what the convolutions share (TF's Keras ``Conv``): the kernel
``kernel_size + (in_channels, filters)``, the bias, the data format and the static output
shape, which is set on the result as TF does. Each rank calls TF's op wrapper for it
(``nn.conv1d``, ``nn.conv2d``, ``nn.conv3d``); ``channels_first`` is passed to the op as
``NCW``/``NCHW``/``NCDHW``.
"""

from sessionlib.framework.tensor_shape import TensorShape
from sessionlib.layers import base, utils
from sessionlib.layers.core import _dtype_of
from sessionlib.ops import array_ops, init_ops, math_ops
from sessionlib.ops.nn import nn

__all__ = ["Conv1D", "Conv2D", "Conv3D", "Conv2DTranspose", "Conv3DTranspose",
           "SeparableConv1D", "SeparableConv2D",
           "conv1d", "conv2d", "conv3d", "conv2d_transpose", "conv3d_transpose",
           "separable_conv1d", "separable_conv2d",
           "Convolution1D", "Convolution2D", "Convolution3D", "Convolution2DTranspose",
           "Convolution3DTranspose", "SeparableConvolution1D", "SeparableConvolution2D",
           "Deconvolution2D", "Deconv2D", "Deconvolution3D", "Deconv3D",
           "convolution1d", "convolution2d", "convolution3d", "convolution2d_transpose",
           "convolution3d_transpose", "separable_convolution1d", "separable_convolution2d"]


class _Conv(base.Layer):
    """An N-D convolution layer (TF's Keras ``Conv``), N = `rank`.

    Args:
      rank: 1, 2 or 3.
      filters: the number of output channels.
      kernel_size: an int or `rank` ints.
      strides: an int or `rank` ints.
      padding: 'valid' or 'same' (any case).
      data_format: 'channels_last' or 'channels_first'.
      dilation_rate: an int or `rank` ints.
      activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint,
        trainable, name: as for `Dense`.
    """

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid",
                 data_format="channels_last", dilation_rate=1, activation=None, use_bias=True,
                 kernel_initializer=None, bias_initializer=init_ops.zeros_initializer(),
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, trainable=True, name=None,
                 **kwargs):
        super().__init__(trainable=trainable, name=name,
                         activity_regularizer=activity_regularizer, **kwargs)
        self.rank = rank
        self.filters = int(filters)
        if self.filters <= 0:
            raise ValueError("Invalid value for argument `filters`. Expected a strictly "
                             f"positive value. Received filters={filters}.")
        self.kernel_size = utils.normalize_tuple(kernel_size, rank, "kernel_size")
        self.strides = utils.normalize_tuple(strides, rank, "strides")
        self.padding = utils.normalize_padding(padding)
        self.data_format = utils.normalize_data_format(data_format)
        self.dilation_rate = utils.normalize_tuple(dilation_rate, rank, "dilation_rate")
        self.activation = utils.get_activation(activation)
        self.use_bias = use_bias
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer
        self.kernel_regularizer = kernel_regularizer
        self.bias_regularizer = bias_regularizer
        self.kernel_constraint = kernel_constraint
        self.bias_constraint = bias_constraint
        self.input_spec = base.InputSpec(min_ndim=rank + 2)
        self.kernel = None
        self.bias = None

    @property
    def _channel_axis(self):
        return 1 if self.data_format == "channels_first" else -1

    @property
    def _op_data_format(self):
        return utils.convert_data_format(self.data_format, self.rank + 2)

    def _input_channels(self, input_shape):
        input_shape = TensorShape(input_shape).with_rank(self.rank + 2)
        channels = input_shape[self._channel_axis]
        if channels is None:
            raise ValueError("The channel dimension of the inputs should be defined. The input "
                             f"shape received is: {input_shape}, where axis "
                             f"{self._channel_axis} (0-based) is the channel dimension, which "
                             "found to be `None`.")
        return int(channels)

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        self.kernel = self.add_weight("kernel",
                                      shape=list(self.kernel_size) + [channels, self.filters],
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint, trainable=True,
                                      dtype=self.dtype)
        self._add_bias()
        self.input_spec = base.InputSpec(min_ndim=self.rank + 2,
                                         axes={self._channel_axis: channels})
        self.built = True

    def _add_bias(self):
        if self.use_bias:
            self.bias = self.add_weight("bias", shape=[self.filters],
                                        initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint, trainable=True,
                                        dtype=self.dtype)

    def _convolution(self, inputs):
        padding = self.padding.upper()
        data_format = self._op_data_format
        if self.rank == 1:
            return nn.conv1d(inputs, self.kernel, stride=self.strides[0], padding=padding,
                             data_format=data_format, dilations=list(self.dilation_rate),
                             name="Conv1D")
        if self.rank == 2:
            return nn.conv2d(inputs, self.kernel, strides=list(self.strides), padding=padding,
                             data_format=data_format, dilations=list(self.dilation_rate),
                             name="Conv2D")
        strides = [1] + list(self.strides) + [1]
        dilations = [1] + list(self.dilation_rate) + [1]
        if self.data_format == "channels_first":
            strides = [1, 1] + list(self.strides)
            dilations = [1, 1] + list(self.dilation_rate)
        return nn.conv3d(inputs, self.kernel, strides=strides, padding=padding,
                         data_format=data_format, dilations=dilations, name="Conv3D")

    def _bias_and_activation(self, outputs, input_shape):
        if self.use_bias:
            if self.rank == 1 and self.data_format == "channels_first":
                # BiasAdd wants rank >= 3 with channels at 1 for NCW: broadcast instead, as TF.
                outputs = math_ops.add(outputs,
                                       array_ops.reshape(self.bias, [1, self.filters, 1]))
            else:
                data_format = "NCHW" if self.data_format == "channels_first" else "NHWC"
                outputs = nn.bias_add(outputs, self.bias, data_format=data_format)
        if input_shape.rank:
            outputs.set_shape(self.compute_output_shape(input_shape))
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs

    def call(self, inputs):
        outputs = self._convolution(inputs)
        return self._bias_and_activation(outputs, inputs.shape)

    def _spatial_output(self, spatial):
        return [utils.conv_output_length(size, self.kernel_size[i], self.padding,
                                         self.strides[i], self.dilation_rate[i])
                for i, size in enumerate(spatial)]

    def compute_output_shape(self, input_shape):
        shape = TensorShape(input_shape).with_rank(self.rank + 2).as_list()
        if self.data_format == "channels_last":
            return TensorShape([shape[0]] + self._spatial_output(shape[1:-1]) + [self.filters])
        return TensorShape([shape[0], self.filters] + self._spatial_output(shape[2:]))


class Conv1D(_Conv):
    """1-D convolution over ``[batch, width, channels]`` (``tf.layers.Conv1D``).

    Args: see `_Conv`; sizes are one int each.
    """

    def __init__(self, filters, kernel_size, strides=1, padding="valid",
                 data_format="channels_last", dilation_rate=1, activation=None, use_bias=True,
                 kernel_initializer=None, bias_initializer=init_ops.zeros_initializer(),
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, trainable=True, name=None,
                 **kwargs):
        super().__init__(1, filters, kernel_size, strides, padding, data_format, dilation_rate,
                         activation, use_bias, kernel_initializer, bias_initializer,
                         kernel_regularizer, bias_regularizer, activity_regularizer,
                         kernel_constraint, bias_constraint, trainable, name, **kwargs)


class Conv2D(_Conv):
    """2-D convolution over ``[batch, height, width, channels]`` (``tf.layers.Conv2D``).

    Args: see `_Conv`; sizes are an int or 2 ints.
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid",
                 data_format="channels_last", dilation_rate=(1, 1), activation=None,
                 use_bias=True, kernel_initializer=None,
                 bias_initializer=init_ops.zeros_initializer(), kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, trainable=True, name=None, **kwargs):
        super().__init__(2, filters, kernel_size, strides, padding, data_format, dilation_rate,
                         activation, use_bias, kernel_initializer, bias_initializer,
                         kernel_regularizer, bias_regularizer, activity_regularizer,
                         kernel_constraint, bias_constraint, trainable, name, **kwargs)


class Conv3D(_Conv):
    """3-D convolution over ``[batch, depth, height, width, channels]``
    (``tf.layers.Conv3D``).

    Args: see `_Conv`; sizes are an int or 3 ints.
    """

    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid",
                 data_format="channels_last", dilation_rate=(1, 1, 1), activation=None,
                 use_bias=True, kernel_initializer=None,
                 bias_initializer=init_ops.zeros_initializer(), kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, trainable=True, name=None, **kwargs):
        super().__init__(3, filters, kernel_size, strides, padding, data_format, dilation_rate,
                         activation, use_bias, kernel_initializer, bias_initializer,
                         kernel_regularizer, bias_regularizer, activity_regularizer,
                         kernel_constraint, bias_constraint, trainable, name, **kwargs)


class _Transpose:
    """What the transposed convolutions share (mixed into `Conv2D` and `Conv3D`): the kernel
    ``kernel_size + (filters, in_channels)``, TF's layout for ``conv2d_transpose``, and the
    output size per side: ``in * stride`` for 'same' padding and
    ``in * stride + max(kernel - stride, 0)`` for 'valid' (with `output_padding`,
    ``(in - 1) * stride + kernel - 2 * pad + output_padding``). Sizes unknown statically are
    computed from the input's dynamic shape.
    """

    def _init_transpose(self, output_padding):
        if output_padding is not None:
            output_padding = utils.normalize_tuple(output_padding, self.rank, "output_padding")
            for stride, pad in zip(self.strides, output_padding):
                if pad >= stride:
                    raise ValueError(f"Strides {self.strides} must be greater than output "
                                     f"padding {output_padding}.")
        self.output_padding = output_padding
        self.input_spec = base.InputSpec(ndim=self.rank + 2)

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        self.input_spec = base.InputSpec(ndim=self.rank + 2,
                                         axes={self._channel_axis: channels})
        self.kernel = self.add_weight("kernel",
                                      shape=list(self.kernel_size) + [self.filters, channels],
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint, trainable=True,
                                      dtype=self.dtype)
        self._add_bias()
        self.built = True

    def _out_sizes(self, sizes):
        pads = self.output_padding or (None,) * self.rank
        return [utils.deconv_output_length(size, self.kernel_size[i], self.padding,
                                           output_padding=pads[i], stride=self.strides[i],
                                           dilation=self.dilation_rate[i])
                for i, size in enumerate(sizes)]

    def call(self, inputs):
        dynamic = array_ops.shape(inputs)
        first = self.data_format == "channels_first"
        axes = range(2, self.rank + 2) if first else range(1, self.rank + 1)
        static = inputs.shape.as_list() if inputs.shape.rank is not None \
            else [None] * (self.rank + 2)
        sizes = [static[a] if static[a] is not None else dynamic[a] for a in axes]
        out_sizes = self._out_sizes(sizes)
        if first:
            output_shape = [dynamic[0], self.filters] + out_sizes
        else:
            output_shape = [dynamic[0]] + out_sizes + [self.filters]
        output_shape = array_ops.stack(output_shape)
        padding = self.padding.upper()
        if self.rank == 2:
            outputs = nn.conv2d_transpose(inputs, self.kernel, output_shape,
                                          strides=list(self.strides), padding=padding,
                                          data_format=self._op_data_format,
                                          dilations=list(self.dilation_rate))
        else:
            strides = [1, 1] + list(self.strides) if first else [1] + list(self.strides) + [1]
            outputs = nn.conv3d_transpose(inputs, self.kernel, output_shape, strides=strides,
                                          padding=padding, data_format=self._op_data_format)
        return self._bias_and_activation(outputs, inputs.shape)

    def compute_output_shape(self, input_shape):
        shape = TensorShape(input_shape).with_rank(self.rank + 2).as_list()
        if self.data_format == "channels_first":
            return TensorShape([shape[0], self.filters] + self._out_sizes(shape[2:]))
        return TensorShape([shape[0]] + self._out_sizes(shape[1:-1]) + [self.filters])


class Conv2DTranspose(_Transpose, Conv2D):
    """The transpose of `Conv2D` (``tf.layers.Conv2DTranspose``), a "deconvolution"; see
    `_Transpose` for the kernel layout and the output size.

    Args:
      filters, kernel_size, strides, padding, data_format, activation, use_bias, initializers,
        regularizers, constraints, trainable, name: as for `Conv2D`.
      output_padding: None, an int or 2 ints (Keras' argument; TF 1 passes it through).
      dilation_rate: an int or 2 ints.
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid",
                 data_format="channels_last", activation=None, use_bias=True,
                 kernel_initializer=None, bias_initializer=init_ops.zeros_initializer(),
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, trainable=True, name=None,
                 output_padding=None, dilation_rate=(1, 1), **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding,
                         data_format=data_format, dilation_rate=dilation_rate,
                         activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer,
                         bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer,
                         bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer,
                         kernel_constraint=kernel_constraint, bias_constraint=bias_constraint,
                         trainable=trainable, name=name, **kwargs)
        self._init_transpose(output_padding)


class Conv3DTranspose(_Transpose, Conv3D):
    """The transpose of `Conv3D` (``tf.layers.Conv3DTranspose``); see `_Transpose`.

    Args:
      filters, kernel_size, strides, padding, data_format, activation, use_bias, initializers,
        regularizers, constraints, trainable, name: as for `Conv3D`.
      output_padding: None, an int or 3 ints.
    """

    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid",
                 data_format="channels_last", activation=None, use_bias=True,
                 kernel_initializer=None, bias_initializer=init_ops.zeros_initializer(),
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, trainable=True, name=None,
                 output_padding=None, **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding,
                         data_format=data_format, activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer,
                         bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer,
                         bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer,
                         kernel_constraint=kernel_constraint, bias_constraint=bias_constraint,
                         trainable=trainable, name=name, **kwargs)
        self._init_transpose(output_padding)


class _Separable(_Conv):
    """A depthwise convolution followed by a pointwise (1x1) one, N = `rank` (1 or 2).

    Weights: ``depthwise_kernel`` ``kernel_size + (in_channels, depth_multiplier)``,
    ``pointwise_kernel`` ``(1,) * rank + (in_channels * depth_multiplier, filters)`` and
    ``bias``. The 1-D layer runs the 2-D op on inputs with a unit dimension inserted, as TF.

    Args:
      filters, kernel_size, strides, padding, data_format, dilation_rate, activation,
        use_bias, bias_initializer, bias_regularizer, bias_constraint, activity_regularizer,
        trainable, name: as for `_Conv`.
      depth_multiplier: output channels of the depthwise step per input channel.
      depthwise_initializer, pointwise_initializer: the kernels' initializers.
      depthwise_regularizer, pointwise_regularizer: their regularizers.
      depthwise_constraint, pointwise_constraint: their constraints.
    """

    def __init__(self, rank, filters, kernel_size, strides, padding, data_format,
                 dilation_rate, depth_multiplier, activation, use_bias, depthwise_initializer,
                 pointwise_initializer, bias_initializer, depthwise_regularizer,
                 pointwise_regularizer, bias_regularizer, activity_regularizer,
                 depthwise_constraint, pointwise_constraint, bias_constraint, trainable, name,
                 **kwargs):
        super().__init__(rank, filters, kernel_size, strides=strides, padding=padding,
                         data_format=data_format, dilation_rate=dilation_rate,
                         activation=activation, use_bias=use_bias,
                         bias_initializer=bias_initializer, bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer,
                         bias_constraint=bias_constraint, trainable=trainable, name=name,
                         **kwargs)
        self.depth_multiplier = int(depth_multiplier)
        self.depthwise_initializer = depthwise_initializer
        self.pointwise_initializer = pointwise_initializer
        self.depthwise_regularizer = depthwise_regularizer
        self.pointwise_regularizer = pointwise_regularizer
        self.depthwise_constraint = depthwise_constraint
        self.pointwise_constraint = pointwise_constraint
        self.depthwise_kernel = None
        self.pointwise_kernel = None

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        self.input_spec = base.InputSpec(ndim=self.rank + 2,
                                         axes={self._channel_axis: channels})
        self.depthwise_kernel = self.add_weight(
            "depthwise_kernel", shape=list(self.kernel_size) + [channels,
                                                                self.depth_multiplier],
            initializer=self.depthwise_initializer, regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint, trainable=True, dtype=self.dtype)
        self.pointwise_kernel = self.add_weight(
            "pointwise_kernel",
            shape=[1] * self.rank + [channels * self.depth_multiplier, self.filters],
            initializer=self.pointwise_initializer, regularizer=self.pointwise_regularizer,
            constraint=self.pointwise_constraint, trainable=True, dtype=self.dtype)
        self._add_bias()
        self.built = True

    def call(self, inputs):
        first = self.data_format == "channels_first"
        strides = list(self.strides) * (3 - self.rank)  # the 1-D stride on both 2-D axes
        strides = [1, 1] + strides if first else [1] + strides + [1]
        data_format = utils.convert_data_format(self.data_format, 4)
        if self.rank == 2:
            outputs = nn.separable_conv2d(inputs, self.depthwise_kernel, self.pointwise_kernel,
                                          strides=strides, padding=self.padding.upper(),
                                          rate=list(self.dilation_rate),
                                          data_format=data_format)
            return self._bias_and_activation(outputs, inputs.shape)
        # 1-D: [N, W, C] -> [N, 1, W, C] (or [N, C, 1, W]), the 2-D op, and back.
        spatial = 2 if first else 1
        outputs = nn.separable_conv2d(array_ops.expand_dims(inputs, spatial),
                                      array_ops.expand_dims(self.depthwise_kernel, 0),
                                      array_ops.expand_dims(self.pointwise_kernel, 0),
                                      strides=strides, padding=self.padding.upper(),
                                      rate=[1] + list(self.dilation_rate),
                                      data_format=data_format)
        if self.use_bias:
            outputs = nn.bias_add(outputs, self.bias,
                                  data_format="NCHW" if first else "NHWC")
        outputs = array_ops.squeeze(outputs, [spatial])
        if inputs.shape.rank:
            outputs.set_shape(self.compute_output_shape(inputs.shape))
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs


class SeparableConv1D(_Separable):
    """A depthwise 1-D convolution followed by a pointwise one
    (``tf.layers.SeparableConv1D``); see `_Separable`."""

    def __init__(self, filters, kernel_size, strides=1, padding="valid",
                 data_format="channels_last", dilation_rate=1, depth_multiplier=1,
                 activation=None, use_bias=True, depthwise_initializer=None,
                 pointwise_initializer=None, bias_initializer=init_ops.zeros_initializer(),
                 depthwise_regularizer=None, pointwise_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, depthwise_constraint=None,
                 pointwise_constraint=None, bias_constraint=None, trainable=True, name=None,
                 **kwargs):
        super().__init__(1, filters, kernel_size, strides, padding, data_format,
                         dilation_rate, depth_multiplier, activation, use_bias,
                         depthwise_initializer, pointwise_initializer, bias_initializer,
                         depthwise_regularizer, pointwise_regularizer, bias_regularizer,
                         activity_regularizer, depthwise_constraint, pointwise_constraint,
                         bias_constraint, trainable, name, **kwargs)


class SeparableConv2D(_Separable):
    """A depthwise 2-D convolution followed by a 1x1 one (``tf.layers.SeparableConv2D``);
    see `_Separable`."""

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid",
                 data_format="channels_last", dilation_rate=(1, 1), depth_multiplier=1,
                 activation=None, use_bias=True, depthwise_initializer=None,
                 pointwise_initializer=None, bias_initializer=init_ops.zeros_initializer(),
                 depthwise_regularizer=None, pointwise_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, depthwise_constraint=None,
                 pointwise_constraint=None, bias_constraint=None, trainable=True, name=None,
                 **kwargs):
        super().__init__(2, filters, kernel_size, strides, padding, data_format,
                         dilation_rate, depth_multiplier, activation, use_bias,
                         depthwise_initializer, pointwise_initializer, bias_initializer,
                         depthwise_regularizer, pointwise_regularizer, bias_regularizer,
                         activity_regularizer, depthwise_constraint, pointwise_constraint,
                         bias_constraint, trainable, name, **kwargs)


# ---- the functions ------------------------------------------------------------------------

def _apply(layer_class, inputs, name, reuse, **kwargs):
    layer = layer_class(name=name, dtype=_dtype_of(inputs), _scope=name, _reuse=reuse,
                        **kwargs)
    return layer.apply(inputs)


def conv1d(inputs, filters, kernel_size, strides=1, padding="valid",
           data_format="channels_last", dilation_rate=1, activation=None, use_bias=True,
           kernel_initializer=None, bias_initializer=init_ops.zeros_initializer(),
           kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
           kernel_constraint=None, bias_constraint=None, trainable=True, name=None,
           reuse=None):
    """The functional form of `Conv1D` (``tf.layers.conv1d``).

    Returns:
      The output Tensor ``[batch, new_width, filters]`` (channels last).
    """
    return _apply(Conv1D, inputs, name, reuse, filters=filters, kernel_size=kernel_size,
                  strides=strides, padding=padding, data_format=data_format,
                  dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
                  kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                  kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                  activity_regularizer=activity_regularizer,
                  kernel_constraint=kernel_constraint, bias_constraint=bias_constraint,
                  trainable=trainable)


def conv2d(inputs, filters, kernel_size, strides=(1, 1), padding="valid",
           data_format="channels_last", dilation_rate=(1, 1), activation=None, use_bias=True,
           kernel_initializer=None, bias_initializer=init_ops.zeros_initializer(),
           kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
           kernel_constraint=None, bias_constraint=None, trainable=True, name=None,
           reuse=None):
    """The functional form of `Conv2D` (``tf.layers.conv2d``).

    Returns:
      The output Tensor ``[batch, new_height, new_width, filters]`` (channels last).
    """
    return _apply(Conv2D, inputs, name, reuse, filters=filters, kernel_size=kernel_size,
                  strides=strides, padding=padding, data_format=data_format,
                  dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
                  kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                  kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                  activity_regularizer=activity_regularizer,
                  kernel_constraint=kernel_constraint, bias_constraint=bias_constraint,
                  trainable=trainable)


def conv3d(inputs, filters, kernel_size, strides=(1, 1, 1), padding="valid",
           data_format="channels_last", dilation_rate=(1, 1, 1), activation=None,
           use_bias=True, kernel_initializer=None,
           bias_initializer=init_ops.zeros_initializer(), kernel_regularizer=None,
           bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
           bias_constraint=None, trainable=True, name=None, reuse=None):
    """The functional form of `Conv3D` (``tf.layers.conv3d``).

    Returns:
      The output Tensor ``[batch, new_depth, new_height, new_width, filters]``.
    """
    return _apply(Conv3D, inputs, name, reuse, filters=filters, kernel_size=kernel_size,
                  strides=strides, padding=padding, data_format=data_format,
                  dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
                  kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                  kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                  activity_regularizer=activity_regularizer,
                  kernel_constraint=kernel_constraint, bias_constraint=bias_constraint,
                  trainable=trainable)


def conv2d_transpose(inputs, filters, kernel_size, strides=(1, 1), padding="valid",
                     data_format="channels_last", activation=None, use_bias=True,
                     kernel_initializer=None, bias_initializer=init_ops.zeros_initializer(),
                     kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                     kernel_constraint=None, bias_constraint=None, trainable=True, name=None,
                     reuse=None):
    """The functional form of `Conv2DTranspose` (``tf.layers.conv2d_transpose``).

    Returns:
      The output Tensor; with 'same' padding each spatial side is multiplied by its stride.
    """
    return _apply(Conv2DTranspose, inputs, name, reuse, filters=filters,
                  kernel_size=kernel_size, strides=strides, padding=padding,
                  data_format=data_format, activation=activation, use_bias=use_bias,
                  kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                  kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                  activity_regularizer=activity_regularizer,
                  kernel_constraint=kernel_constraint, bias_constraint=bias_constraint,
                  trainable=trainable)


def conv3d_transpose(inputs, filters, kernel_size, strides=(1, 1, 1), padding="valid",
                     data_format="channels_last", activation=None, use_bias=True,
                     kernel_initializer=None, bias_initializer=init_ops.zeros_initializer(),
                     kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                     kernel_constraint=None, bias_constraint=None, trainable=True, name=None,
                     reuse=None):
    """The functional form of `Conv3DTranspose` (``tf.layers.conv3d_transpose``).

    Returns:
      The output Tensor; with 'same' padding each spatial side is multiplied by its stride.
    """
    return _apply(Conv3DTranspose, inputs, name, reuse, filters=filters,
                  kernel_size=kernel_size, strides=strides, padding=padding,
                  data_format=data_format, activation=activation, use_bias=use_bias,
                  kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                  kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                  activity_regularizer=activity_regularizer,
                  kernel_constraint=kernel_constraint, bias_constraint=bias_constraint,
                  trainable=trainable)


def separable_conv1d(inputs, filters, kernel_size, strides=1, padding="valid",
                     data_format="channels_last", dilation_rate=1, depth_multiplier=1,
                     activation=None, use_bias=True, depthwise_initializer=None,
                     pointwise_initializer=None, bias_initializer=init_ops.zeros_initializer(),
                     depthwise_regularizer=None, pointwise_regularizer=None,
                     bias_regularizer=None, activity_regularizer=None,
                     depthwise_constraint=None, pointwise_constraint=None,
                     bias_constraint=None, trainable=True, name=None, reuse=None):
    """The functional form of `SeparableConv1D` (``tf.layers.separable_conv1d``).

    Returns:
      The output Tensor.
    """
    return _apply(SeparableConv1D, inputs, name, reuse, filters=filters,
                  kernel_size=kernel_size, strides=strides, padding=padding,
                  data_format=data_format, dilation_rate=dilation_rate,
                  depth_multiplier=depth_multiplier, activation=activation,
                  use_bias=use_bias, depthwise_initializer=depthwise_initializer,
                  pointwise_initializer=pointwise_initializer,
                  bias_initializer=bias_initializer,
                  depthwise_regularizer=depthwise_regularizer,
                  pointwise_regularizer=pointwise_regularizer,
                  bias_regularizer=bias_regularizer,
                  activity_regularizer=activity_regularizer,
                  depthwise_constraint=depthwise_constraint,
                  pointwise_constraint=pointwise_constraint, bias_constraint=bias_constraint,
                  trainable=trainable)


def separable_conv2d(inputs, filters, kernel_size, strides=(1, 1), padding="valid",
                     data_format="channels_last", dilation_rate=(1, 1), depth_multiplier=1,
                     activation=None, use_bias=True, depthwise_initializer=None,
                     pointwise_initializer=None, bias_initializer=init_ops.zeros_initializer(),
                     depthwise_regularizer=None, pointwise_regularizer=None,
                     bias_regularizer=None, activity_regularizer=None,
                     depthwise_constraint=None, pointwise_constraint=None,
                     bias_constraint=None, trainable=True, name=None, reuse=None):
    """The functional form of `SeparableConv2D` (``tf.layers.separable_conv2d``).

    Returns:
      The output Tensor.
    """
    return _apply(SeparableConv2D, inputs, name, reuse, filters=filters,
                  kernel_size=kernel_size, strides=strides, padding=padding,
                  data_format=data_format, dilation_rate=dilation_rate,
                  depth_multiplier=depth_multiplier, activation=activation,
                  use_bias=use_bias, depthwise_initializer=depthwise_initializer,
                  pointwise_initializer=pointwise_initializer,
                  bias_initializer=bias_initializer,
                  depthwise_regularizer=depthwise_regularizer,
                  pointwise_regularizer=pointwise_regularizer,
                  bias_regularizer=bias_regularizer,
                  activity_regularizer=activity_regularizer,
                  depthwise_constraint=depthwise_constraint,
                  pointwise_constraint=pointwise_constraint, bias_constraint=bias_constraint,
                  trainable=trainable)


# TF 1's other spellings.
Convolution1D = Conv1D
Convolution2D = Conv2D
Convolution3D = Conv3D
Convolution2DTranspose = Deconvolution2D = Deconv2D = Conv2DTranspose
Convolution3DTranspose = Deconvolution3D = Deconv3D = Conv3DTranspose
SeparableConvolution1D = SeparableConv1D
SeparableConvolution2D = SeparableConv2D
convolution1d = conv1d
convolution2d = conv2d
convolution3d = conv3d
convolution2d_transpose = conv2d_transpose
convolution3d_transpose = conv3d_transpose
separable_convolution1d = separable_conv1d
separable_convolution2d = separable_conv2d
