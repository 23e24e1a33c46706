"""Array ops: constants, placeholders, identity, and (below) shape manipulation.

Each op is one `register_op` call (signature, inference, kernels) plus its public wrapper.
"""

import numpy as np

from sessionlib import dtypes, errors
from sessionlib.framework import graph as graph_lib
from sessionlib.framework import registry
from sessionlib.framework.tensor_shape import TensorShape, as_shape

__all__ = ["constant", "placeholder", "placeholder_with_default", "identity"]


# ---- Const --------------------------------------------------------------------------------

def _const_infer(inputs, attrs):
    value = attrs["value"]
    # Constants are shared by every run: freeze them so no kernel or user can change them.
    value.setflags(write=False)
    return [(attrs["dtype"], TensorShape(value.shape))]


def _const_kernel(ctx, inputs, attrs):
    return (attrs["value"],)


registry.register_op("Const", infer=_const_infer, reference=_const_kernel, num_inputs=0,
                     doc="A constant tensor.")


def constant(value, dtype=None, shape=None, name="Const", verify_shape=False):
    """A constant tensor (``tf.constant``).

    Args:
      value: a Python scalar, nested list or numpy array.
      dtype: the element type; inferred from `value` when None (float32 for Python floats).
      shape: an optional shape; a single value fills it, otherwise `value` is reshaped.
      name: the op name.
      verify_shape: if True, `value`'s shape must equal `shape`.

    Returns:
      The Const op's output.

    Raises:
      TypeError: if `value` cannot be represented in `dtype`.
      ValueError: if `value` does not fit `shape`.
    """
    from sessionlib.framework import tensor_util

    array = tensor_util.to_numpy(value, dtype)
    if shape is not None:
        shape = [int(d) for d in as_shape(shape).as_list()]
        if verify_shape and list(array.shape) != shape:
            raise TypeError(f"Expected Tensor's shape: {tuple(shape)}, got {array.shape}.")
        count = int(np.prod(shape)) if shape else 1
        if array.size == count:
            array = array.reshape(shape)
        elif array.size == 1:
            array = np.full(shape, array.reshape(()), dtype=array.dtype)
        elif array.size < count and array.ndim <= 1:
            # TF pads a short list with its last element.
            flat = np.empty(count, dtype=array.dtype)
            flat[: array.size] = array.reshape(-1)
            flat[array.size:] = array.reshape(-1)[-1]
            array = flat.reshape(shape)
        else:
            raise ValueError(f"Too many elements provided. Needed at most {count}, but "
                             f"received {array.size}")
    if array is value:
        array = array.copy()  # the graph owns its constants; later user edits must not leak in
    tf_dtype = dtypes.as_dtype(dtype) if dtype is not None else (
        dtypes.string if array.dtype == object else dtypes.as_dtype(array.dtype))
    op = graph_lib.get_default_graph().create_op(
        "Const", [], {"value": array, "dtype": tf_dtype}, name=name)
    return op.outputs[0]


# ---- placeholders -------------------------------------------------------------------------

def _placeholder_infer(inputs, attrs):
    return [(attrs["dtype"], attrs["shape"])]


def _shape_string(shape):
    if shape.rank is None:
        return "<unknown>"
    return "[" + ",".join("?" if d is None else str(d) for d in shape.as_list()) + "]"


_TF_TYPE_NAMES = {"float32": "float", "float64": "double", "float16": "half"}


def _placeholder_kernel(ctx, inputs, attrs):
    dtype = attrs["dtype"]
    raise errors.InvalidArgumentError(
        None, None,
        f"You must feed a value for placeholder tensor '{attrs['_name']}' with dtype "
        f"{_TF_TYPE_NAMES.get(dtype.name, dtype.name)}"
        + ("" if attrs["shape"].rank is None else f" and shape {_shape_string(attrs['shape'])}"))


registry.register_op("Placeholder", infer=_placeholder_infer, reference=_placeholder_kernel,
                     num_inputs=0, doc="A value that must be fed.")


def placeholder(dtype, shape=None, name=None):
    """A tensor whose value must be fed to `Session.run` (``tf.placeholder``).

    Args:
      dtype: the element type (a `DType` or a name such as ``'float'``).
      shape: the static shape; None allows any shape, and None entries any size.
      name: the op name.

    Returns:
      The Placeholder op's output.
    """
    dtype = dtypes.as_dtype(dtype)
    op = graph_lib.get_default_graph().create_op(
        "Placeholder", [], {"dtype": dtype, "shape": as_shape(shape)},
        name=name or "Placeholder")
    return op.outputs[0]


def _placeholder_with_default_infer(inputs, attrs):
    shape = attrs["shape"]
    if not inputs[0].shape.is_compatible_with(shape):
        raise ValueError(f"Shapes {inputs[0].shape} and {shape} are incompatible")
    return [(inputs[0].dtype, shape)]


def _identity_kernel(ctx, inputs, attrs):
    return (inputs[0],)


registry.register_op("PlaceholderWithDefault", infer=_placeholder_with_default_infer,
                     reference=_identity_kernel, num_inputs=1,
                     doc="Its input, unless a value is fed.")


def placeholder_with_default(input, shape, name=None):  # noqa: A002 - TF's argument name
    """A placeholder that passes `input` through when it is not fed.

    Args:
      input: the default value (a tensor or anything `constant` takes).
      shape: the static shape of the placeholder, which may be less specific than `input`'s.
      name: the op name.
    """
    tensor = graph_lib.convert_to_tensor(input)
    op = tensor.graph.create_op("PlaceholderWithDefault", [tensor],
                                {"dtype": tensor.dtype, "shape": as_shape(shape)},
                                name=name or "PlaceholderWithDefault")
    return op.outputs[0]


# ---- identity -----------------------------------------------------------------------------

def _identity_infer(inputs, attrs):
    attrs["T"] = inputs[0].dtype
    return [(inputs[0].dtype, inputs[0].shape)]


registry.register_op("Identity", infer=_identity_infer, reference=_identity_kernel,
                     num_inputs=1, doc="Its input, unchanged.")


def identity(input, name=None):  # noqa: A002 - TF's argument name
    """A tensor with the same value as `input` (``tf.identity``)."""
    tensor = graph_lib.convert_to_tensor(input)
    return tensor.graph.create_op("Identity", [tensor], name=name or "Identity").outputs[0]
