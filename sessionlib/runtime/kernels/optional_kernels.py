"""Kernels of the Optional ops (``sessionlib/ops/optional_ops.py``) and the `OptionalValue`.

Design. An Optional is TF's DT_VARIANT "a tuple of tensors, or nothing". At run time a variant
tensor is a 0-d numpy object array holding one immutable `OptionalValue` (as a TensorList is,
``list_kernels.py``): its components are read-only arrays kept without copying, so wrapping
and unwrapping move pointers only, and the executors need no aliasing rules for it. Errors are
InvalidArgumentError in TF 2.21's words.

`OptionalValue` also answers the generic variant ops ``ZerosLike`` (zeros of each component; an
Optional with no value stays one) and ``AddN`` (component-wise sums; both must have a value
or neither), through `zeros_like` and `add`, as TF's variant registrations for Optionals do:
the gradient machinery sums and defaults the gradients of an Optional output with them.
"""

import numpy as np

from sessionlib import errors
from sessionlib.runtime.kernel_table import register_kernel

__all__ = ["OptionalValue", "optional_of"]

# TF's names for dtypes in its messages (DataTypeString).
_TF_TYPE_NAMES = {"float32": "float", "float64": "double", "float16": "half"}


def _invalid(message):
    return errors.InvalidArgumentError(None, None, message)


def _frozen(array):
    """`array` as a read-only array the Optional may keep (a view when it is writable)."""
    array = np.asarray(array)
    if array.flags.writeable:
        array = array.view()
        array.flags.writeable = False
    return array


class OptionalValue:
    """An immutable Optional: a tuple of read-only arrays, or None for no value."""

    __slots__ = ("components",)

    def __init__(self, components=None):
        self.components = None if components is None else tuple(
            _frozen(c) for c in components)

    @property
    def has_value(self):
        return self.components is not None

    def __repr__(self):
        if self.components is None:
            return "OptionalValue(None)"
        return "OptionalValue(" + ", ".join(f"{c.dtype}{list(c.shape)}"
                                            for c in self.components) + ")"

    # ---- what the generic ops ZerosLike and AddN do with an Optional -------------------------

    def zeros_like(self):
        """An Optional of zeros shaped as the components (none stays none)."""
        if self.components is None:
            return self
        return OptionalValue([np.zeros_like(c) for c in self.components])

    def add(self, other):
        """The component-wise sum of two Optionals that both have a value, or neither."""
        if not isinstance(other, OptionalValue):
            raise _invalid(f"Cannot add an Optional and a {type(other).__name__}")
        if self.has_value != other.has_value:
            raise _invalid("Cannot add optionals because one has a value and the other "
                           "doesn't.")
        if self.components is None:
            return self
        if len(self.components) != len(other.components):
            raise _invalid(f"Cannot add optionals with {len(self.components)} and "
                           f"{len(other.components)} components")
        summed = []
        for a, b in zip(self.components, other.components):
            if a.dtype != b.dtype or a.shape != b.shape:
                raise _invalid(f"Cannot add optional components of {a.dtype}{list(a.shape)} "
                               f"and {b.dtype}{list(b.shape)}")
            summed.append(a + b)
        return OptionalValue(summed)


def _variant_value(optional):
    value = np.empty((), dtype=object)
    value[()] = optional
    return value


def optional_of(value):
    """The `OptionalValue` a variant input holds.

    Raises:
      InvalidArgumentError: if `value` holds no Optional.
    """
    held = value[()] if isinstance(value, np.ndarray) and value.ndim == 0 else None
    if not isinstance(held, OptionalValue):
        raise _invalid("Input tensor must be a scalar DT_VARIANT tensor holding an Optional, "
                       f"got {type(held if held is not None else value).__name__}")
    return held


def _type_name(dtype):
    name = np.dtype(dtype).name
    return _TF_TYPE_NAMES.get(name, name)


# ---- kernels -------------------------------------------------------------------------------

def _none_kernel(ctx, inputs, attrs):
    return (_variant_value(OptionalValue()),)


def _from_value_kernel(ctx, inputs, attrs):
    return (_variant_value(OptionalValue(inputs)),)


def _compatible(shape, partial):
    if partial.rank is None:
        return True
    dims = partial.as_list()
    return len(dims) == len(shape) and all(d is None or d == s for d, s in zip(dims, shape))


def _get_value_kernel(ctx, inputs, attrs):
    optional = optional_of(inputs[0])
    if not optional.has_value:
        raise _invalid("The given optional does not have a value.")
    types, shapes = attrs["output_types"], attrs["output_shapes"]
    components = optional.components
    if len(components) != len(types):
        raise _invalid(f"The given optional has {len(components)} components, expected "
                       f"{len(types)}")
    for i, (component, dtype, shape) in enumerate(zip(components, types, shapes)):
        expected = np.dtype(dtype.as_numpy_dtype)
        if component.dtype != expected:
            raise _invalid(f"The given optional does not match the expected type for "
                           f"component {i}. Expected: {_type_name(expected)}. Actual: "
                           f"{_type_name(component.dtype)}.")
        if not _compatible(component.shape, shape):
            expected_shape = "<unknown>" if shape.rank is None else "[" + ",".join(
                "?" if d is None else str(d) for d in shape.as_list()) + "]"
            raise _invalid(f"The given optional does not match the expected shape for "
                           f"component {i}. Expected: {expected_shape}. Actual: "
                           f"[{','.join(str(d) for d in component.shape)}].")
    return components


def _has_value_kernel(ctx, inputs, attrs):
    return (np.asarray(optional_of(inputs[0]).has_value),)


register_kernel("OptionalNone", reference=_none_kernel)
register_kernel("OptionalFromValue", reference=_from_value_kernel)
register_kernel("OptionalGetValue", reference=_get_value_kernel)
register_kernel("OptionalHasValue", reference=_has_value_kernel)
