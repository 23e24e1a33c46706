"""`SparseTensor` and `SparseTensorValue`: a tensor stored as (indices, values, dense_shape).

A `SparseTensor` is not a graph node of its own: it bundles three tensors of one graph. It is
fetched and fed through `register_session_run_conversion_functions` (as in TF), so the session
needs no special case: fetching one gives a `SparseTensorValue` of the three fetched arrays,
and feeding one splits a `SparseTensorValue` (or any 3-sequence) across the three tensors.
"""

import collections

from sessionlib import dtypes
from sessionlib.framework import default_session, run_conversions
from sessionlib.framework import graph as graph_lib
from sessionlib.framework import tensor_util
from sessionlib.framework.tensor_shape import TensorShape, as_shape

__all__ = ["SparseTensor", "SparseTensorValue", "convert_to_sparse_tensor",
           "convert_to_tensor_or_sparse_tensor"]


class SparseTensorValue(collections.namedtuple("SparseTensorValue",
                                               ["indices", "values", "dense_shape"])):
    """The fetched (or fed) value of a `SparseTensor`: three numpy arrays."""

    __slots__ = ()


def _shape_from_dense_shape(dense_shape):
    """The static dense shape that `dense_shape` (an int64 vector tensor) describes.

    A constant gives its values (with -1 read as unknown), a vector of known length gives the
    rank, and anything else an unknown shape; this is TF's ``constant_value_as_shape``.
    """
    value = tensor_util.constant_value(dense_shape)
    if value is not None:
        return TensorShape([None if int(d) < 0 else int(d) for d in value.reshape(-1)])
    vector_shape = dense_shape.shape
    if vector_shape.rank == 1 and vector_shape[0] is not None:
        return TensorShape([None] * vector_shape[0])
    return TensorShape(None)


class SparseTensor:
    """A sparse tensor: `values[i]` sits at `indices[i]` of a dense tensor of `dense_shape`.

    Args:
      indices: an int64 ``[N, rank]`` tensor (or value convertible to one).
      values: a ``[N]`` tensor of any dtype.
      dense_shape: an int64 ``[rank]`` tensor.

    Raises:
      ValueError: if the three tensors belong to different graphs.
    """

    def __init__(self, indices, values, dense_shape):
        graph = _graph_of(indices, values, dense_shape)
        with graph.as_default(), graph.name_scope("SparseTensor"):
            self._indices = graph_lib.convert_to_tensor(indices, dtype=dtypes.int64,
                                                        name="indices")
            self._values = graph_lib.convert_to_tensor(values, name="values")
            self._dense_shape = graph_lib.convert_to_tensor(dense_shape, dtype=dtypes.int64,
                                                            name="dense_shape")
        for part in (self._indices, self._values, self._dense_shape):
            if part.graph is not graph:
                raise ValueError(f"The parts of a SparseTensor must share one graph; "
                                 f"{part.name} does not.")
        self._static_shape = _shape_from_dense_shape(self._dense_shape)

    @classmethod
    def from_value(cls, sparse_tensor_value):
        """A constant `SparseTensor` holding `sparse_tensor_value`."""
        if isinstance(sparse_tensor_value, SparseTensor):
            return sparse_tensor_value
        return cls(*sparse_tensor_value)

    @property
    def indices(self):
        """The int64 ``[N, rank]`` tensor of positions."""
        return self._indices

    @property
    def values(self):
        """The ``[N]`` tensor of values."""
        return self._values

    @property
    def dense_shape(self):
        """The int64 ``[rank]`` tensor of the dense shape."""
        return self._dense_shape

    @property
    def dtype(self):
        """The dtype of the values."""
        return self._values.dtype

    @property
    def op(self):
        """The operation that produces `values`."""
        return self._values.op

    @property
    def graph(self):
        return self._values.graph

    @property
    def shape(self):
        """The static `TensorShape` of the dense tensor."""
        return self._static_shape

    def get_shape(self):
        return self._static_shape

    def set_shape(self, shape):
        """Narrows the static dense shape. Raises ValueError if `shape` is incompatible."""
        self._static_shape = self._static_shape.merge_with(as_shape(shape))

    def eval(self, feed_dict=None, session=None):
        """The `SparseTensorValue` of this tensor in `session` (default: the default one)."""
        return default_session.eval_using_default_session(self, feed_dict, self.graph,
                                                          session)

    def consumers(self):
        return sorted(set(self._indices.consumers() + self._values.consumers()
                          + self._dense_shape.consumers()), key=lambda op: op._id)

    def __repr__(self):
        return (f"SparseTensor(indices={self._indices!r}, values={self._values!r}, "
                f"dense_shape={self._dense_shape!r})")

    __str__ = __repr__


def _graph_of(*parts):
    for part in parts:
        if isinstance(part, graph_lib.Tensor):
            return part.graph
    return graph_lib.get_default_graph()


def convert_to_sparse_tensor(value):
    """`value` (a `SparseTensor` or `SparseTensorValue`) as a `SparseTensor`.

    Raises:
      TypeError: for anything else.
    """
    if isinstance(value, SparseTensor):
        return value
    if isinstance(value, SparseTensorValue):
        return SparseTensor.from_value(value)
    raise TypeError(f"Input must be a SparseTensor or SparseTensorValue, got "
                    f"{type(value).__name__}")


def _fetch_components(sparse):
    return ([sparse.indices, sparse.values, sparse.dense_shape],
            lambda fetched: SparseTensorValue(*fetched))


def _feed_components(sparse, value):
    if isinstance(value, SparseTensor):
        raise TypeError("The value of a feed cannot be a SparseTensor; feed a "
                        "SparseTensorValue or an (indices, values, dense_shape) tuple.")
    try:
        parts = tuple(value)
    except TypeError:
        raise TypeError(f"A SparseTensor is fed a SparseTensorValue or an (indices, values, "
                        f"dense_shape) tuple, not {type(value).__name__}") from None
    if len(parts) != 3:
        raise ValueError(f"A SparseTensor feed needs 3 parts (indices, values, dense_shape), "
                         f"got {len(parts)}")
    return list(zip((sparse.indices, sparse.values, sparse.dense_shape), parts))


def _partial_run_components(sparse):
    return [sparse.indices, sparse.values, sparse.dense_shape]


run_conversions.register_session_run_conversion_functions(
    SparseTensor, _fetch_components, _feed_components, _partial_run_components)


def convert_to_tensor_or_sparse_tensor(value, dtype=None, name=None):
    """`value` as a `SparseTensor` if it is sparse (a `SparseTensorValue` becomes one), else
    as a Tensor (``tf.convert_to_tensor_or_sparse_tensor``).

    Args:
      value: a `SparseTensor`, `SparseTensorValue`, or anything `convert_to_tensor` takes.
      dtype: the dtype it must have, or None.
      name: a name for a new tensor.

    Returns:
      A `SparseTensor` or a Tensor.

    Raises:
      ValueError: if a sparse `value` has another dtype than `dtype`.
    """
    if dtype is not None:
        dtype = dtypes.as_dtype(dtype)
    if isinstance(value, SparseTensorValue):
        value = SparseTensor.from_value(value)
    if isinstance(value, SparseTensor):
        if dtype is not None and value.dtype is not dtype:
            raise ValueError(f"Sparse dtype mismatch. Requested: {dtype.name},  Actual: "
                             f"{value.dtype.name}")
        return value
    return graph_lib.convert_to_tensor(value, dtype=dtype, name=name)
