"""`IndexedSlices`: a sparse gradient, some rows of a dense tensor (``tf.IndexedSlices``).

The gradient of a ``gather`` (and so of ``embedding_lookup``) touches only the rows it looked
up. Rather than a dense tensor of the whole table, mostly zeros, it is the pair (values,
indices): row ``indices[i]`` of the dense gradient is ``values[i]``, and repeated indices add.
Optimizers apply it as a sparse update of just those rows.

Where a dense tensor is needed (`convert_to_tensor`, an op input, AddN with dense parts), it is
densified with an ``UnsortedSegmentSum``. That conversion is registered by the op library
(``sessionlib/ops/gradients.py``): the graph model builds no ops of its own.
"""

from sessionlib.framework.tensor_shape import as_shape

__all__ = ["IndexedSlices", "IndexedSlicesValue"]


class IndexedSlices:
    """Rows of a dense tensor: ``dense[indices[i]] += values[i]``.

    Args:
      values: a Tensor, the rows, of shape ``[n] + dense_shape[1:]``.
      indices: a 1-D integer Tensor of `n` row indices.
      dense_shape: an optional 1-D integer Tensor, the shape of the dense tensor.
    """

    def __init__(self, values, indices, dense_shape=None):
        self._values = values
        self._indices = indices
        self._dense_shape = dense_shape

    @property
    def values(self):
        """The rows, a Tensor."""
        return self._values

    @property
    def indices(self):
        """The row indices, a 1-D integer Tensor."""
        return self._indices

    @property
    def dense_shape(self):
        """The shape of the dense tensor, a 1-D integer Tensor, or None."""
        return self._dense_shape

    @property
    def dtype(self):
        """The dtype of the values."""
        return self._values.dtype

    @property
    def name(self):
        """The name of the values tensor."""
        return self._values.name

    @property
    def op(self):
        """The op that makes the values."""
        return self._values.op

    @property
    def graph(self):
        """The graph of the values."""
        return self._values.graph

    @property
    def device(self):
        """The device of the values."""
        return self._values.device

    def get_shape(self):
        """The static shape of the dense tensor, as far as it is known."""
        from sessionlib.framework import tensor_util

        if self._dense_shape is not None:
            known = tensor_util.constant_value(self._dense_shape)
            if known is not None:
                return as_shape([int(d) for d in known])
        return self._values.shape

    @property
    def shape(self):
        """The static shape of the dense tensor, as far as it is known."""
        return self.get_shape()

    def __neg__(self):
        return IndexedSlices(-self._values, self._indices, self._dense_shape)

    def __repr__(self):
        return (f"IndexedSlices(indices={self._indices!r}, values={self._values!r}"
                + (f", dense_shape={self._dense_shape!r})" if self._dense_shape is not None
                   else ")"))


class IndexedSlicesValue:
    """What `Session.run` returns for a fetched `IndexedSlices`: numpy values and indices."""

    def __init__(self, values, indices, dense_shape):
        self.values = values
        self.indices = indices
        self.dense_shape = dense_shape

    def __iter__(self):
        return iter((self.values, self.indices, self.dense_shape))

    def __repr__(self):
        return (f"IndexedSlicesValue(values={self.values!r}, indices={self.indices!r}, "
                f"dense_shape={self.dense_shape!r})")
