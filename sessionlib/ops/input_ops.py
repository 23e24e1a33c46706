"""``count_up_to``: the epoch counter of the input producers (TF's ``ResourceCountUpTo``).

Design. ``ResourceCountUpTo(resource, limit)`` increments an integer variable and outputs the
value before the increment; once the variable has reached `limit` it fails with
`OutOfRangeError` instead (and leaves it unchanged). The input producers of ``tf.train`` put
one before each enqueue, so a queue runner's enqueue fails at the end of the last epoch, which
closes the queue. Its kernel is in ``runtime/kernels/input_kernels.py``.
"""

from sessionlib import dtypes
from sessionlib.framework import registry
from sessionlib.framework.tensor_shape import TensorShape
from sessionlib.ops import state_ops

__all__ = ["count_up_to"]


def _count_up_to_infer(inputs, attrs):
    if inputs[0].dtype is not dtypes.resource:
        raise TypeError("ResourceCountUpTo takes a variable handle")
    attrs["T"] = dtypes.as_dtype(attrs["T"])
    if attrs["T"] not in (dtypes.int32, dtypes.int64):
        raise TypeError(f"count_up_to needs an int32 or int64 variable, got {attrs['T'].name}")
    attrs["limit"] = int(attrs["limit"])
    return [(attrs["T"], TensorShape([]))]


registry.register_op("ResourceCountUpTo", infer=_count_up_to_infer, kernel="ResourceCountUpTo",
                     num_inputs=1, stateful=True,
                     doc="Increments a variable until it reaches a limit.",
                     gradient=registry.NOT_DIFFERENTIABLE)


def count_up_to(ref, limit, name=None):
    """Increments the integer variable `ref` until it reaches `limit`.

    Args:
      ref: a scalar int32 or int64 `Variable`.
      limit: the value at which running the op fails.
      name: the op name.

    Returns:
      A tensor with the value of `ref` before the increment. Running it once `ref` reached
      `limit` raises OutOfRangeError.
    """
    handle = ref.handle
    return state_ops.create_resource_op(handle.graph, "ResourceCountUpTo", handle, [],
                                        {"T": ref.dtype, "limit": limit},
                                        name or "CountUpTo").outputs[0]
