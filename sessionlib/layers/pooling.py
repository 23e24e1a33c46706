"""The pooling layers: ``MaxPooling1D``/``2D``/``3D``, ``AveragePooling1D``/``2D``/``3D`` and
their functions (``tf.layers.max_pooling2d`` ...).

The 2-D layers build one ``MaxPool``/``AvgPool`` op (``max_pooling2d/MaxPool``); the 1-D ones
insert a unit dimension, pool in 2-D and squeeze it again, as TF does
(``max_pooling1d/ExpandDims``, ``MaxPool``, ``Squeeze``). The 3-D ones build one
``MaxPool3D``/``AvgPool3D``; channels_first runs it channels_last between two transposes, as
TF's layers do (``max_pooling3d/transpose``, ``MaxPool3D``, ``transpose_1``). Pooling layers
have no weights, but their names are made unique the same way as those that have.
"""

from sessionlib.framework.tensor_shape import TensorShape
from sessionlib.layers import base, utils
from sessionlib.ops import array_ops
from sessionlib.ops.nn import nn

__all__ = ["MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D",
           "AveragePooling2D", "AveragePooling3D", "max_pooling1d", "max_pooling2d",
           "max_pooling3d", "average_pooling1d", "average_pooling2d", "average_pooling3d",
           "MaxPool1D", "MaxPool2D", "MaxPool3D", "AvgPool1D", "AvgPool2D", "AvgPool3D"]


class _Pooling(base.Layer):
    """Pooling over `rank` spatial dimensions (1, 2 or 3).

    Args:
      pool_function: ``nn.max_pool`` or ``nn.avg_pool`` (``nn.max_pool3d`` or
        ``nn.avg_pool3d`` for rank 3).
      pool_size: an int or `rank` ints: the window.
      strides: an int or `rank` ints: the step.
      padding: 'valid' or 'same' (any case).
      data_format: 'channels_last' or 'channels_first'.
      name: the layer's name.
    """

    def __init__(self, rank, pool_function, pool_size, strides, padding="valid",
                 data_format="channels_last", name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        if strides is None:
            strides = pool_size
        self.rank = rank
        self.pool_function = pool_function
        self.pool_size = utils.normalize_tuple(pool_size, rank, "pool_size")
        self.strides = utils.normalize_tuple(strides, rank, "strides")
        self.padding = utils.normalize_padding(padding)
        self.data_format = utils.normalize_data_format(data_format)
        self.input_spec = base.InputSpec(ndim=rank + 2)

    def _pool2d(self, inputs, pool_size, strides):
        if self.data_format == "channels_last":
            ksize, steps = [1, *pool_size, 1], [1, *strides, 1]
        else:
            ksize, steps = [1, 1, *pool_size], [1, 1, *strides]
        return self.pool_function(inputs, ksize=ksize, strides=steps,
                                  padding=self.padding.upper(),
                                  data_format=utils.convert_data_format(self.data_format, 4))

    def _pool3d(self, inputs):
        ksize, steps = [1, *self.pool_size, 1], [1, *self.strides, 1]
        if self.data_format == "channels_last":
            return self.pool_function(inputs, ksize, steps, self.padding.upper())
        channels_last = array_ops.transpose(inputs, (0, 2, 3, 4, 1))
        pooled = self.pool_function(channels_last, ksize, steps, self.padding.upper())
        return array_ops.transpose(pooled, (0, 4, 1, 2, 3))

    def call(self, inputs):
        if self.rank == 3:
            return self._pool3d(inputs)
        if self.rank == 2:
            return self._pool2d(inputs, self.pool_size, self.strides)
        # 1-D: [N, W, C] -> [N, W, 1, C] (or [N, C, W] -> [N, C, W, 1]), pool, squeeze.
        axis = 2 if self.data_format == "channels_last" else 3
        expanded = array_ops.expand_dims(inputs, axis)
        pooled = self._pool2d(expanded, self.pool_size + (1,), self.strides + (1,))
        return array_ops.squeeze(pooled, [axis])

    def compute_output_shape(self, input_shape):
        shape = TensorShape(input_shape).with_rank(self.rank + 2).as_list()
        spatial = shape[1:-1] if self.data_format == "channels_last" else shape[2:]
        out = [utils.conv_output_length(size, self.pool_size[i], self.padding,
                                        self.strides[i]) for i, size in enumerate(spatial)]
        if self.data_format == "channels_last":
            return TensorShape([shape[0]] + out + [shape[-1]])
        return TensorShape(shape[:2] + out)


class MaxPooling1D(_Pooling):
    """Max pooling over ``[batch, width, channels]`` (``tf.layers.MaxPooling1D``)."""

    def __init__(self, pool_size, strides, padding="valid", data_format="channels_last",
                 name=None, **kwargs):
        super().__init__(1, nn.max_pool, pool_size, strides, padding, data_format, name,
                         **kwargs)


class AveragePooling1D(_Pooling):
    """Average pooling over ``[batch, width, channels]`` (``tf.layers.AveragePooling1D``)."""

    def __init__(self, pool_size, strides, padding="valid", data_format="channels_last",
                 name=None, **kwargs):
        super().__init__(1, nn.avg_pool, pool_size, strides, padding, data_format, name,
                         **kwargs)


class MaxPooling2D(_Pooling):
    """Max pooling over ``[batch, height, width, channels]`` (``tf.layers.MaxPooling2D``)."""

    def __init__(self, pool_size, strides, padding="valid", data_format="channels_last",
                 name=None, **kwargs):
        super().__init__(2, nn.max_pool, pool_size, strides, padding, data_format, name,
                         **kwargs)


class AveragePooling2D(_Pooling):
    """Average pooling over ``[batch, height, width, channels]``
    (``tf.layers.AveragePooling2D``)."""

    def __init__(self, pool_size, strides, padding="valid", data_format="channels_last",
                 name=None, **kwargs):
        super().__init__(2, nn.avg_pool, pool_size, strides, padding, data_format, name,
                         **kwargs)


class MaxPooling3D(_Pooling):
    """Max pooling over ``[batch, depth, height, width, channels]``
    (``tf.layers.MaxPooling3D``)."""

    def __init__(self, pool_size, strides, padding="valid", data_format="channels_last",
                 name=None, **kwargs):
        super().__init__(3, nn.max_pool3d, pool_size, strides, padding, data_format, name,
                         **kwargs)


class AveragePooling3D(_Pooling):
    """Average pooling over ``[batch, depth, height, width, channels]``
    (``tf.layers.AveragePooling3D``)."""

    def __init__(self, pool_size, strides, padding="valid", data_format="channels_last",
                 name=None, **kwargs):
        super().__init__(3, nn.avg_pool3d, pool_size, strides, padding, data_format, name,
                         **kwargs)


def max_pooling1d(inputs, pool_size, strides, padding="valid", data_format="channels_last",
                  name=None):
    """The functional form of `MaxPooling1D` (``tf.layers.max_pooling1d``).

    Returns:
      The pooled Tensor.
    """
    return MaxPooling1D(pool_size, strides, padding, data_format, name).apply(inputs)


def average_pooling1d(inputs, pool_size, strides, padding="valid",
                      data_format="channels_last", name=None):
    """The functional form of `AveragePooling1D` (``tf.layers.average_pooling1d``).

    Returns:
      The pooled Tensor.
    """
    return AveragePooling1D(pool_size, strides, padding, data_format, name).apply(inputs)


def max_pooling2d(inputs, pool_size, strides, padding="valid", data_format="channels_last",
                  name=None):
    """The functional form of `MaxPooling2D` (``tf.layers.max_pooling2d``).

    Returns:
      The pooled Tensor.
    """
    return MaxPooling2D(pool_size, strides, padding, data_format, name).apply(inputs)


def average_pooling2d(inputs, pool_size, strides, padding="valid",
                      data_format="channels_last", name=None):
    """The functional form of `AveragePooling2D` (``tf.layers.average_pooling2d``).

    Returns:
      The pooled Tensor.
    """
    return AveragePooling2D(pool_size, strides, padding, data_format, name).apply(inputs)


def max_pooling3d(inputs, pool_size, strides, padding="valid", data_format="channels_last",
                  name=None):
    """The functional form of `MaxPooling3D` (``tf.layers.max_pooling3d``).

    Args:
      inputs: a Tensor of rank 5.
      pool_size: an int or 3 ints: the window (depth, height, width).
      strides: an int or 3 ints: the step.
      padding: 'valid' or 'same' (any case).
      data_format: 'channels_last' (``[batch, depth, height, width, channels]``) or
        'channels_first' (``[batch, channels, depth, height, width]``).
      name: the layer's name (default 'max_pooling3d', made unique).

    Returns:
      The pooled Tensor.

    Raises:
      ValueError: for an input of another rank, or a bad pool_size, strides or padding.
    """
    return MaxPooling3D(pool_size, strides, padding, data_format, name).apply(inputs)


def average_pooling3d(inputs, pool_size, strides, padding="valid",
                      data_format="channels_last", name=None):
    """The functional form of `AveragePooling3D` (``tf.layers.average_pooling3d``); arguments
    as `max_pooling3d` (default name 'average_pooling3d').

    Returns:
      The pooled Tensor.
    """
    return AveragePooling3D(pool_size, strides, padding, data_format, name).apply(inputs)


# TF 1's short spellings.
MaxPool1D = MaxPooling1D
MaxPool2D = MaxPooling2D
AvgPool1D = AveragePooling1D
AvgPool2D = AveragePooling2D
MaxPool3D = MaxPooling3D
AvgPool3D = AveragePooling3D
