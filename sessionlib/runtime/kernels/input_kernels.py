"""Kernel of ``ResourceCountUpTo``, the epoch counter of the input producers.

The increment is a read-check-write on the variable's value under the variable's own lock, so
concurrent enqueue threads never count one epoch twice. The new value is a fresh array (never
an in-place write): readers may hold the old one. The graph side is ``ops/input_ops.py``.
"""

import numpy as np

from sessionlib import errors
from sessionlib.runtime.kernel_table import register_kernel
from sessionlib.runtime.kernels.state_kernels import display_name, handle_key

__all__ = []


def _count_up_to_kernel(ctx, inputs, attrs):
    key = handle_key(inputs[0])
    resource = ctx.resources.lookup(key)
    if resource is None or resource.value is None:
        raise errors.FailedPreconditionError(
            None, None, f"Attempting to use uninitialized value {display_name(key)}")
    limit = attrs["limit"]
    with resource.lock:
        before = resource.value
        if int(before) >= limit:
            raise errors.OutOfRangeError(None, None, f"Reached limit of {limit}")
        resource.value = np.array(before + 1, dtype=before.dtype)
    return (np.array(before, dtype=before.dtype),)


register_kernel("ResourceCountUpTo", reference=_count_up_to_kernel)
