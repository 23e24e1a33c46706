"""``count_up_to``: the epoch counter of the input producers (TF's ``ResourceCountUpTo``, and
``CountUpTo`` for a reference variable).

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
        raise TypeError(f"Value passed to parameter 'T' has DataType {attrs['T'].name} "
                        "not in list of allowed values: int32, int64")
    attrs["limit"] = int(attrs["limit"])
    return [(attrs["T"], TensorShape([]))]


registry.register_op("ResourceCountUpTo", infer=_count_up_to_infer, kernel="ResourceCountUpTo",
                     num_inputs=1, stateful=True,
                     doc="Increments a variable until it reaches a limit.",
                     gradient=registry.NOT_DIFFERENTIABLE)


def _ref_count_up_to_infer(inputs, attrs):
    ref = inputs[0]
    if not ref.dtype._is_ref_dtype:
        raise TypeError("'CountUpTo' Op requires that input 'ref' be a mutable tensor (e.g.: a "
                        f"tf.Variable), got {ref.dtype.name}")
    attrs["T"] = ref.dtype.base_dtype
    if attrs["T"] not in (dtypes.int32, dtypes.int64):
        raise TypeError(f"Value passed to parameter 'T' has DataType {attrs['T'].name} not in "
                        "list of allowed values: int32, int64")
    if not ref.shape.is_compatible_with(TensorShape([])):
        raise ValueError(f"Shape must be rank 0 but is rank {ref.shape.rank} for 'CountUpTo'")
    attrs["limit"] = int(attrs["limit"])
    return [(attrs["T"], TensorShape([]))]


# At run time a reference input is the variable's resource handle (see ref_variable_ops), so
# the reference form shares the resource form's kernel.
registry.register_op("CountUpTo", infer=_ref_count_up_to_infer, kernel="ResourceCountUpTo",
                     num_inputs=1, stateful=True, ref_inputs=(0,),
                     doc="Increments a reference variable until it reaches a limit.",
                     gradient=registry.NOT_DIFFERENTIABLE)


def count_up_to(ref, limit, name=None):
    """Increments the integer variable `ref` until it reaches `limit` (``tf.count_up_to``).

    Args:
      ref: a scalar int32 or int64 `Variable` (resource or reference), or a reference tensor.
      limit: the value at which running the op fails.
      name: the op name (default: the op type, as in TF).

    Returns:
      A tensor with the value of `ref` before the increment. Running it once `ref` reached
      `limit` raises OutOfRangeError.

    Raises:
      TypeError: if `ref` is not an int32 or int64 variable.
    """
    handle = getattr(ref, "handle", ref)
    if handle.dtype is not dtypes.resource:
        return handle.graph.create_op("CountUpTo", [handle], {"limit": limit},
                                      name=name or "CountUpTo").outputs[0]
    return state_ops.create_resource_op(handle.graph, "ResourceCountUpTo", handle, [],
                                        {"T": ref.dtype, "limit": limit},
                                        name or "ResourceCountUpTo").outputs[0]
