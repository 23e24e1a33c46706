"""`Dimension`: TF 1's object for one dimension of a static shape (``tf.Dimension``).

sessionlib's `TensorShape` holds plain ints or None (TF 2's behaviour, the default of
``tf.compat.v1``); this class is for TF 1 code that builds or compares `Dimension`s itself, and
for `tf.compat.dimension_at_index`, which returns one.
"""

import operator

__all__ = ["Dimension", "dimension_value", "dimension_at_index"]


def _check_value(value):
    if value is None:
        return None
    if isinstance(value, Dimension):
        return value.value
    try:
        index = operator.index(value)
    except TypeError:
        raise TypeError("Dimension value must be integer or None or have an __index__ method, "
                        f"got value {value!r} with type {type(value)!r}") from None
    if index < 0:
        raise ValueError(f"Dimension {index} must be >= 0")
    return index


class Dimension:
    """The size of one dimension, or None when it is unknown.

    Arithmetic with an unknown dimension gives an unknown dimension; comparisons that involve
    an unknown dimension give None (TF 1's three-valued answers).

    Args:
      value: a non-negative int (or anything with ``__index__``), a `Dimension`, or None.

    Raises:
      TypeError: for a value that is not an integer or None.
      ValueError: for a negative value.
    """

    __slots__ = ("_value",)

    def __init__(self, value):
        self._value = _check_value(value)

    @property
    def value(self):
        """The size as an int, or None when unknown."""
        return self._value

    def __repr__(self):
        return f"Dimension({self._value!r})"

    def __str__(self):
        return "?" if self._value is None else str(self._value)

    def __int__(self):
        return self._value

    def __index__(self):
        return self._value

    def __bool__(self):
        return bool(self._value)

    def __hash__(self):
        return hash(self._value)

    def is_compatible_with(self, other):
        """Whether `other` may be the same size: either is unknown, or both are equal."""
        other = as_dimension(other)
        return self._value is None or other.value is None or self._value == other.value

    def assert_is_compatible_with(self, other):
        """Raises ValueError unless `is_compatible_with(other)`."""
        if not self.is_compatible_with(other):
            raise ValueError(f"Dimensions {self} and {as_dimension(other)} are not compatible")

    def merge_with(self, other):
        """The known one of the two (either when both are known and equal).

        Raises:
          ValueError: when both are known and differ.
        """
        other = as_dimension(other)
        self.assert_is_compatible_with(other)
        return Dimension(other.value if self._value is None else self._value)

    def _combine(self, other, combine):
        try:
            other = as_dimension(other)
        except (TypeError, ValueError):
            return NotImplemented
        if self._value is None or other.value is None:
            return Dimension(None)
        return Dimension(combine(self._value, other.value))

    def __add__(self, other):
        return self._combine(other, operator.add)

    __radd__ = __add__

    def __sub__(self, other):
        return self._combine(other, operator.sub)

    def __rsub__(self, other):
        return self._combine(other, lambda a, b: b - a)

    def __mul__(self, other):
        return self._combine(other, operator.mul)

    __rmul__ = __mul__

    def __floordiv__(self, other):
        return self._combine(other, operator.floordiv)

    def __rfloordiv__(self, other):
        return self._combine(other, lambda a, b: b // a)

    def __mod__(self, other):
        return self._combine(other, operator.mod)

    def _compare(self, other, compare):
        try:
            other = as_dimension(other)
        except (TypeError, ValueError):
            return NotImplemented
        if self._value is None or other.value is None:
            return None
        return compare(self._value, other.value)

    def __eq__(self, other):
        return self._compare(other, operator.eq)

    def __ne__(self, other):
        return self._compare(other, operator.ne)

    def __lt__(self, other):
        return self._compare(other, operator.lt)

    def __le__(self, other):
        return self._compare(other, operator.le)

    def __gt__(self, other):
        return self._compare(other, operator.gt)

    def __ge__(self, other):
        return self._compare(other, operator.ge)


def as_dimension(value):
    """`value` as a `Dimension` (a `Dimension` is returned as it is)."""
    return value if isinstance(value, Dimension) else Dimension(value)


def dimension_value(dimension):
    """The int (or None) of a dimension given as a `Dimension`, an int or None
    (``tf.compat.dimension_value``)."""
    if isinstance(dimension, Dimension):
        return dimension.value
    return dimension


def dimension_at_index(shape, index):
    """Dimension `index` of `shape` as a `Dimension` (``tf.compat.dimension_at_index``).

    Args:
      shape: a `TensorShape` or anything `TensorShape` accepts.
      index: the dimension's position.

    Returns:
      A `Dimension`; unknown for every index of a shape of unknown rank.

    Raises:
      IndexError: for an index outside a shape of known rank.
    """
    from sessionlib.framework.tensor_shape import TensorShape

    shape = TensorShape(shape)
    if shape.dims is None:
        return Dimension(None)
    return Dimension(shape.dims[index])
