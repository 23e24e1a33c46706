"""``tf.debugging``'s checks of shapes and dtypes that are not plain comparisons:
`assert_shapes`, `assert_same_float_dtype`, `assert_proper_iterable`.

`assert_shapes` checks what the static shapes already tell while the graph is built (raising
ValueError, as TF does) and adds run-time assertions only for the dimensions that are unknown.
"""

import collections.abc

import numpy as np

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework.indexed_slices import IndexedSlices
from sessionlib.framework.sparse_tensor import SparseTensor
from sessionlib.ops import array_ops, check_ops, control_flow_ops

__all__ = ["assert_shapes", "assert_same_float_dtype", "assert_proper_iterable"]


def assert_proper_iterable(values):
    """Raises unless `values` is an iterable of values (not a tensor, array or string).

    Raises:
      TypeError: for a Tensor, SparseTensor, numpy array, str or bytes, or a non-iterable.
    """
    unintentional = (graph_lib.Tensor, SparseTensor, np.ndarray, bytes, str)
    if isinstance(values, unintentional):
        raise TypeError(f"Expected argument 'values' to be a \"proper\" iterable.  Found: "
                        f"{type(values)}")
    if not isinstance(values, collections.abc.Iterable):
        raise TypeError(f"Expected argument 'values' to be iterable.  Found: {type(values)}")


def assert_same_float_dtype(tensors=None, dtype=None):
    """The one floating dtype of `tensors` (and `dtype`), float32 when neither gives one.

    Args:
      tensors: tensors (or `SparseTensor`s / `IndexedSlices`) whose dtypes must agree.
      dtype: the expected dtype.

    Returns:
      The validated floating `DType`.

    Raises:
      ValueError: if the dtypes differ, or the common dtype is not floating.
    """
    found = None if dtype is None else dtypes.as_dtype(dtype).base_dtype
    for tensor in tensors or []:
        if not isinstance(tensor, (graph_lib.Tensor, SparseTensor, IndexedSlices)):
            continue
        tensor_dtype = tensor.dtype.base_dtype
        if found is None:
            found = tensor_dtype
        elif tensor_dtype != found:
            raise ValueError(f"Tensor conversion requested dtype {found.name} for Tensor with "
                             f"dtype {tensor_dtype.name}: {tensor}")
    if found is None:
        return dtypes.float32
    if not found.is_floating:
        raise ValueError(f"Expected floating point type, got {found.name}.")
    return found


def _spec_entries(spec):
    if isinstance(spec, str):
        # A string spec names one dimension per character ('NHWC'), as in TF.
        return list(spec)
    try:
        return list(spec)
    except TypeError:
        raise ValueError(f"A shape spec must be a list, tuple or string, got {spec!r}") from None


def assert_shapes(shapes, data=None, summarize=None, message=None, name=None):
    """Asserts the ranks and dimensions of several tensors, with named dimensions shared.

    Each spec is a list of entries: an int (that size), a name (every tensor that uses the
    name must have the same size there), ``'.'`` or None (any size); a leading ``'*'``
    allows any number of leading dimensions (the rest are matched from the end). A scalar's
    spec is ``[]``.

    Args:
      shapes: a list of ``(tensor, spec)`` pairs, or a dict from tensor to spec.
      data, summarize: what the run-time assertions print.
      message: a prefix for the error messages.
      name: the name scope of the run-time assertions.

    Returns:
      A no-op when the static shapes settle everything, else an op that fails with
      InvalidArgumentError when run on tensors that break a constraint.

    Raises:
      ValueError: for a constraint the static shapes already break, or a bad spec.
    """
    pairs = list(shapes.items()) if isinstance(shapes, dict) else list(shapes)
    prefix = f"{message}  " if message else ""
    with graph_lib.name_scope(name, "assert_shapes", [x for x, _ in pairs]):
        checks = []
        sizes = {}  # dimension name -> (int or scalar tensor, description)
        for x, spec in pairs:
            x = graph_lib.convert_to_tensor(x)
            entries = _spec_entries(spec)
            open_rank = bool(entries) and entries[0] in ("*", "...")
            if open_rank:
                entries = entries[1:]
            if any(entry in ("*", "...") for entry in entries):
                raise ValueError(f"{prefix}'*' may only be the first entry of a shape spec: "
                                 f"{spec!r}")
            static = x.get_shape()
            rank_text = f"at least {len(entries)}" if open_rank else str(len(entries))
            if static.rank is not None:
                if (static.rank < len(entries)) if open_rank else (static.rank != len(entries)):
                    raise ValueError(f"{prefix}Tensor {x.name} must have rank {rank_text}.  "
                                     f"Received rank {static.rank}, shape {static}")
            else:
                check = (check_ops.assert_rank_at_least if open_rank else check_ops.assert_rank)
                checks.append(check(x, len(entries), data=data, summarize=summarize,
                                    message=message))
            dynamic = None
            for position, entry in enumerate(entries):
                if entry is None or entry == ".":
                    continue
                index = position - len(entries)  # from the end, right for both kinds of spec
                known, dimension = None, index if open_rank else position
                if static.rank is not None:
                    dimension = static.rank + index
                    known = static.dims[dimension]
                where = f"Tensor {x.name} dimension {dimension}"
                if known is None:
                    if dynamic is None:
                        dynamic = array_ops.shape(x)
                    size = dynamic[index]
                else:
                    size = known
                if isinstance(entry, str):
                    if entry not in sizes:
                        sizes[entry] = (size, where)
                        continue
                    expected, origin = sizes[entry]
                    text = f"{prefix}Specified by {origin}. {where} must have size"
                else:
                    expected, text = int(entry), f"{prefix}{where} must have size"
                if isinstance(expected, (int, np.integer)) and isinstance(size, int):
                    if expected != size:
                        raise ValueError(f"{text} {expected}.  Received size {size}, shape "
                                         f"{static}")
                    continue
                checks.append(check_ops.assert_equal(size, expected, data=data,
                                                     summarize=summarize, message=text))
        if not checks:
            return control_flow_ops.no_op()
        return control_flow_ops.group(*checks)
