"""Argument normalization and geometry shared by the ``tf.layers`` classes.

These are TF's ``conv_utils`` rules, written so that the layers accept exactly what TF 1's
layers accept (an int or a tuple for sizes, padding and data format in any case) and compute
the same static output shapes, which the layers set on their outputs as TF does.
"""

import numbers

from sessionlib.ops import math_ops, nn_activation_ops
from sessionlib.ops.nn import nn

__all__ = ["normalize_tuple", "normalize_data_format", "normalize_padding",
           "convert_data_format", "conv_output_length", "deconv_output_length",
           "get_activation"]


def normalize_tuple(value, n, name):
    """An int or `n` ints as a tuple of `n` ints.

    Raises:
      ValueError: for a sequence of another length, or something that is not an int.
    """
    if isinstance(value, numbers.Integral):
        return (int(value),) * n
    try:
        values = tuple(value)
    except TypeError:
        raise ValueError(f"The `{name}` argument must be a tuple of {n} integers. "
                         f"Received: {value}") from None
    if len(values) != n or not all(isinstance(v, numbers.Integral) for v in values):
        raise ValueError(f"The `{name}` argument must be a tuple of {n} integers. "
                         f"Received: {value}")
    return tuple(int(v) for v in values)


def normalize_data_format(value):
    """'channels_last' (the default for None) or 'channels_first', from any case.

    Raises:
      ValueError: for anything else.
    """
    if value is None:
        return "channels_last"
    data_format = value.lower()
    if data_format not in ("channels_first", "channels_last"):
        raise ValueError('The `data_format` argument must be one of "channels_first", '
                         f'"channels_last". Received: {value}')
    return data_format


def normalize_padding(value, allow_causal=False):
    """'valid' or 'same' (and 'causal' where allowed), from any case.

    Raises:
      ValueError: for anything else.
    """
    padding = value.lower() if isinstance(value, str) else value
    allowed = ("valid", "same", "causal") if allow_causal else ("valid", "same")
    if padding not in allowed:
        raise ValueError(f"The `padding` argument must be a list/tuple or one of "
                         f"{', '.join(repr(a) for a in allowed)}. Received: {value}")
    return padding


def convert_data_format(data_format, ndim):
    """The op-level spelling ('NHWC', 'NCW', ...) of a layer's data format for rank `ndim`."""
    spatial = "DHW"[3 - (ndim - 2):] if ndim > 3 else "W"
    if data_format == "channels_last":
        return "N" + spatial + "C"
    return "NC" + spatial


def conv_output_length(input_length, filter_size, padding, stride, dilation=1):
    """The output length of a convolution or pooling along one dimension (None if unknown)."""
    if input_length is None:
        return None
    effective = filter_size + (filter_size - 1) * (dilation - 1)
    if padding in ("same", "causal"):
        length = input_length
    else:
        length = input_length - effective + 1
    return (length + stride - 1) // stride


def deconv_output_length(input_length, filter_size, padding, output_padding=None, stride=0,
                         dilation=1):
    """The output length of a transposed convolution along one dimension.

    `input_length` may be a scalar Tensor (an unknown static size); the result is then one.
    """
    if input_length is None:
        return None
    filter_size = filter_size + (filter_size - 1) * (dilation - 1)
    if output_padding is None:
        if padding == "valid":
            return input_length * stride + max(filter_size - stride, 0)
        return input_length * stride
    pad = filter_size // 2 if padding == "same" else 0
    return (input_length - 1) * stride + filter_size - 2 * pad + output_padding


# Keras' activation names, which TF 1's layers accept in place of a function.
_ACTIVATIONS = {
    "relu": nn.relu, "sigmoid": math_ops.sigmoid, "tanh": math_ops.tanh,
    "softmax": nn.softmax, "elu": nn_activation_ops.elu, "selu": nn_activation_ops.selu,
    "softplus": nn_activation_ops.softplus, "softsign": nn_activation_ops.softsign,
    "relu6": nn_activation_ops.relu6, "linear": None,
}


def get_activation(activation):
    """The activation function for a function, a Keras name or None (no activation).

    Raises:
      ValueError: for an unknown name.
    """
    if activation is None or callable(activation):
        return activation
    if isinstance(activation, str) and activation in _ACTIVATIONS:
        return _ACTIVATIONS[activation]
    raise ValueError(f"Unknown activation function: {activation!r}. Use a function or one of "
                     f"{sorted(_ACTIVATIONS)}.")
