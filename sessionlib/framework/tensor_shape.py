"""`TensorShape`: a static shape that may be partly or wholly unknown.

Dimensions are plain ints or None (TF 2's shape behaviour, which `tf.compat.v1` keeps by default),
so ``t.shape[0]`` is an int. A shape of unknown rank has ``dims is None``.
"""

__all__ = ["TensorShape", "as_shape", "unknown_shape", "scalar", "broadcast_shapes"]


def _as_dim(value):
    if value is None:
        return None
    if hasattr(value, "value") and not isinstance(value, int):  # a TF-1 style Dimension
        value = value.value
        if value is None:
            return None
    try:
        dim = int(value)
    except (TypeError, ValueError):
        raise TypeError(f"Dimension value must be an integer or None, got {value!r}") from None
    if dim != value and not isinstance(value, bool):
        raise TypeError(f"Dimension value must be an integer or None, got {value!r}")
    if dim < 0:
        raise ValueError(f"Dimension {dim} must be >= 0")
    return dim


class TensorShape:
    """The static shape of a tensor.

    Args:
      dims: None (unknown rank), or an iterable of ints / None, or another `TensorShape`, or a
        `TensorShapeProto` (where a size of -1 is an unknown dimension).

    Raises:
      TypeError: for a dimension that is not an integer or None.
      ValueError: for a negative dimension (below -1 in a proto).
    """

    __slots__ = ("_dims",)

    def __init__(self, dims):
        if isinstance(dims, TensorShape):
            self._dims = dims._dims
        elif dims is None:
            self._dims = None
        elif hasattr(dims, "unknown_rank") and hasattr(dims, "dim"):  # TensorShapeProto
            if dims.unknown_rank:
                self._dims = None
            else:
                # -1 is the proto's unknown dimension; anything below it is no dimension (TF
                # raises too), and must not pass as unknown into a placeholder's shape.
                self._dims = tuple(None if d.size == -1 else _as_dim(d.size) for d in dims.dim)
        elif isinstance(dims, (int,)) and not isinstance(dims, bool):
            self._dims = (_as_dim(dims),)
        else:
            try:
                self._dims = tuple(_as_dim(d) for d in dims)
            except TypeError as err:
                if "not iterable" in str(err):
                    raise TypeError(
                        f"A shape must be a list of dimensions, got {dims!r}") from None
                raise

    @property
    def dims(self):
        """The dimensions as a list of ints / None, or None when the rank is unknown."""
        return None if self._dims is None else list(self._dims)

    @property
    def rank(self):
        return None if self._dims is None else len(self._dims)

    ndims = rank

    def as_list(self):
        """Returns the dimensions as a list. Raises ValueError when the rank is unknown."""
        if self._dims is None:
            raise ValueError("as_list() is not defined on an unknown TensorShape.")
        return list(self._dims)

    def as_tuple(self):
        return self._dims

    def is_fully_defined(self):
        return self._dims is not None and all(d is not None for d in self._dims)

    def num_elements(self):
        """The number of elements, or None when the shape is not fully defined."""
        if not self.is_fully_defined():
            return None
        count = 1
        for dim in self._dims:
            count *= dim
        return count

    def is_compatible_with(self, other):
        """True when some concrete shape matches both shapes."""
        other = as_shape(other)
        if self._dims is None or other._dims is None:
            return True
        if len(self._dims) != len(other._dims):
            return False
        return all(a is None or b is None or a == b for a, b in zip(self._dims, other._dims))

    def assert_is_compatible_with(self, other):
        """Raises ValueError if `other` is not compatible with this shape."""
        if not self.is_compatible_with(other):
            raise ValueError(f"Shapes {self} and {as_shape(other)} are incompatible")

    def assert_same_rank(self, other):
        """Raises ValueError if both ranks are known and differ."""
        other = as_shape(other)
        if self._dims is not None and other._dims is not None and len(self._dims) != len(
                other._dims):
            raise ValueError(f"Shapes {self} and {other} must have the same rank")

    def assert_is_fully_defined(self):
        """Raises ValueError if some dimension (or the rank) is unknown."""
        if not self.is_fully_defined():
            raise ValueError(f"Shape {self} is not fully defined")

    def merge_with(self, other):
        """The most specific shape compatible with both. Raises ValueError if incompatible."""
        other = as_shape(other)
        if self._dims is None:
            return other
        if other._dims is None:
            return self
        if not self.is_compatible_with(other):
            raise ValueError(f"Shapes {self} and {other} are not compatible")
        return TensorShape([a if a is not None else b for a, b in zip(self._dims, other._dims)])

    def most_specific_compatible_shape(self, other):
        """The most specific shape that both shapes are compatible with."""
        other = as_shape(other)
        if self._dims is None or other._dims is None or len(self._dims) != len(other._dims):
            return TensorShape(None)
        return TensorShape([a if a == b else None for a, b in zip(self._dims, other._dims)])

    def concatenate(self, other):
        other = as_shape(other)
        if self._dims is None or other._dims is None:
            return TensorShape(None)
        return TensorShape(self._dims + other._dims)

    def with_rank(self, rank):
        """This shape, with its rank checked (or set). Raises ValueError on a mismatch."""
        if self._dims is None:
            return TensorShape([None] * rank)
        if len(self._dims) != rank:
            raise ValueError(f"Shape {self} must have rank {rank}")
        return self

    def assert_has_rank(self, rank):
        if self._dims is not None and len(self._dims) != rank:
            raise ValueError(f"Shape {self} must have rank {rank}")

    def with_rank_at_least(self, rank):
        """This shape; raises ValueError if its known rank is below `rank`."""
        if self._dims is not None and len(self._dims) < rank:
            raise ValueError(f"Shape {self} must have rank at least {rank}")
        return self

    def with_rank_at_most(self, rank):
        """This shape; raises ValueError if its known rank is above `rank`."""
        if self._dims is not None and len(self._dims) > rank:
            raise ValueError(f"Shape {self} must have rank at most {rank}")
        return self

    def as_proto(self):
        """Returns a `TensorShapeProto` (-1 marks an unknown dimension)."""
        from sessionlib.protos import tensor_shape_pb2

        proto = tensor_shape_pb2.TensorShapeProto()
        if self._dims is None:
            proto.unknown_rank = True
        else:
            for dim in self._dims:
                proto.dim.add(size=-1 if dim is None else dim)
        return proto

    def __add__(self, other):
        return self.concatenate(other)

    def __radd__(self, other):
        return as_shape(other).concatenate(self)

    def __len__(self):
        if self._dims is None:
            raise ValueError("Cannot take the length of shape with unknown rank.")
        return len(self._dims)

    def __bool__(self):
        return self._dims is not None

    def __iter__(self):
        if self._dims is None:
            raise ValueError("Cannot iterate over a shape with unknown rank.")
        return iter(self._dims)

    def __getitem__(self, key):
        if self._dims is None:
            if isinstance(key, slice):
                return TensorShape(None)
            return None
        if isinstance(key, slice):
            return TensorShape(self._dims[key])
        return self._dims[key]

    def __eq__(self, other):
        try:
            other = as_shape(other)
        except (TypeError, ValueError):
            return NotImplemented
        return self._dims == other._dims

    def __ne__(self, other):
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    def __hash__(self):
        return hash(self._dims)

    def __reduce__(self):
        return TensorShape, (self.dims,)

    def __repr__(self):
        if self._dims is None:
            return "TensorShape(None)"
        return f"TensorShape({list(self._dims)})"

    def __str__(self):
        if self._dims is None:
            return "<unknown>"
        inner = ", ".join("None" if d is None else str(d) for d in self._dims)
        return f"({inner},)" if len(self._dims) == 1 else f"({inner})"


def as_shape(shape):
    """Converts `shape` to a `TensorShape` (returned as is when it already is one)."""
    if isinstance(shape, TensorShape):
        return shape
    return TensorShape(shape)


def unknown_shape(rank=None):
    """A shape of unknown rank, or of known `rank` with every dimension unknown."""
    return TensorShape(None if rank is None else [None] * rank)


def scalar():
    return TensorShape(())


def broadcast_shapes(a, b, what="broadcast"):
    """The numpy broadcast of two static shapes.

    Args:
      a, b: `TensorShape`s; an unknown dimension broadcasts against anything.
      what: the op named in the error message.

    Returns:
      The broadcast `TensorShape` (of unknown rank if either shape's rank is unknown).

    Raises:
      ValueError: when the shapes cannot broadcast.
    """
    if a.rank is None or b.rank is None:
        return TensorShape(None)
    x, y = a.as_list(), b.as_list()
    rank = max(len(x), len(y))
    x = [1] * (rank - len(x)) + x
    y = [1] * (rank - len(y)) + y
    result = []
    for dx, dy in zip(x, y):
        if dx == 1:
            result.append(dy)
        elif dy == 1:
            result.append(dx)
        elif dx is None or dy is None:
            result.append(dx if dy is None else dy)
        elif dx == dy:
            result.append(dx)
        else:
            raise ValueError(f"Dimensions must be equal, but are {dx} and {dy} for "
                             f"'{what}' with input shapes: {a}, {b}.")
    return TensorShape(result)
