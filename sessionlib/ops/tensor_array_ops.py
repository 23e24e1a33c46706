"""``tf.TensorArray``: TF 2's graph-mode TensorArray, a value wrapper around a TensorList.

Design. TF 1's TensorArray was a resource (``TensorArrayV3``) mutated in place, with a float
"flow" tensor threading the order of writes through the graph. TF 2 (and TF 1 code under
control flow v2) replaced it with ``_GraphTensorArrayV2``: the array *is* a TensorList
(``ops/list_ops.py``), held in `flow`, and every write returns a new TensorArray whose flow is
the new list. That is the model here, for the same reasons: a list is a plain value, so a
TensorArray can be a loop variable of the functional ``While`` (a loop carries ``ta.flow`` and
rebuilds the array around the body's flow), be read by several ops, and differentiate through
the list ops' gradients, with no resource, no in-place mutation and nothing the executor must
order. `handle` is None, as in TF 2; ``clear_after_read``, ``tensor_array_name`` and
``colocate_with_first_write_call`` are accepted and, as in TF 2, have no effect (a read never
clears; a list lives with the ops that use it).

Static shapes. With ``infer_shape`` (the default) the element shape is refined by each write,
unstack, scatter and split, and a write of an incompatible shape is TF's ValueError
("Inconsistent shapes"). As in TF, every TensorArray derived from one array (by writes, or
`build_ta_with_new_flow`) shares that shape.

Loops (the hook for ``tf.while_loop``): a loop flattens a TensorArray to its `flow` (a variant
scalar tensor) and, inside the body and after the loop, rebuilds it with
``build_ta_with_new_flow(ta, flow)`` (TF's name; also ``ta._with_flow(flow)``), which keeps the
dtype, size, dynamic_size and the shared element shape.

Differences from TF: writing a Tensor of another dtype is a TypeError at graph time (TF logs
an error and fails later); `grad` is not supported (TF 2's TensorArray lacks it too).
"""

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework import tensor_util
from sessionlib.framework.graph import Tensor
from sessionlib.framework.tensor_shape import TensorShape
from sessionlib.ops import array_ops, control_flow_ops, list_ops, math_ops

__all__ = ["TensorArray", "build_ta_with_new_flow"]


def _as_shape(shape):
    if isinstance(shape, TensorShape):
        return shape
    return TensorShape(shape)


class TensorArray:
    """A list of tensors of one dtype, written and read by index (``tf.TensorArray``).

    Each write returns a new TensorArray; the old one is unchanged. Use the returned array::

        ta = tf.TensorArray(tf.float32, size=3)
        ta = ta.write(0, x).write(1, y)
        stacked = ta.stack()
    """

    def __init__(self, dtype, size=None, dynamic_size=None, clear_after_read=None,
                 tensor_array_name=None, handle=None, flow=None, infer_shape=True,
                 element_shape=None, colocate_with_first_write_call=True, name=None):
        """Creates a TensorArray (a ``TensorListReserve`` of `size` elements).

        Args:
          dtype: the elements' dtype.
          size: an int32 scalar, the number of elements; required unless `flow` is given.
          dynamic_size: whether writes beyond the size grow the array (default False:
            such a write is an InvalidArgumentError at run time).
          clear_after_read: accepted; no effect (TF 2's semantics: reads never clear).
          tensor_array_name: accepted; no effect.
          handle: must be None (TF 2's TensorArray has no handle).
          flow: a variant scalar Tensor, the TensorList to wrap.
          infer_shape: whether writes refine (and check) the element shape.
          element_shape: the elements' shape, possibly partial.
          colocate_with_first_write_call: accepted; no effect.
          name: the name scope of the ops.

        Raises:
          TypeError: if `flow` is not a variant Tensor.
          ValueError: if neither or both of `size` and `flow` are given, `flow` comes with
            `element_shape`, or `handle` is given.
        """
        del clear_after_read, tensor_array_name, colocate_with_first_write_call
        if handle is not None:
            raise ValueError("TensorArray handles are not supported: sessionlib's TensorArray "
                             "is TF 2's, backed by a TensorList in `flow`")
        if flow is not None and (not isinstance(flow, Tensor) or flow.dtype != dtypes.variant):
            raise TypeError(f"Expected `flow` to be a variant tensor, but received "
                            f"`{getattr(flow, 'dtype', type(flow).__name__)}` instead.")
        if flow is None and size is None:
            raise ValueError("Argument `size` must be provided if argument `flow` is not "
                             "provided.")
        if flow is not None and size is not None:
            raise ValueError("Cannot provide both `flow` and `size` arguments at the same "
                             "time.")
        if flow is not None and element_shape is not None:
            raise ValueError("Cannot provide both `flow` and `element_shape` arguments at the "
                             "same time.")
        self._dtype = dtypes.as_dtype(dtype).base_dtype
        self._dynamic_size = bool(dynamic_size)
        self._size = size
        self._infer_shape = infer_shape
        # A one-item list shared by every array derived from this one (TF's layout).
        self._element_shape = [_as_shape(element_shape)]
        if flow is None:
            graph = size.graph if isinstance(size, Tensor) else graph_lib.get_default_graph()
            with graph.as_default(), graph.name_scope(name or "TensorArrayV2") as scope:
                flow = list_ops.tensor_list_reserve(element_shape, size, self._dtype,
                                                    name=scope)
        self._flow = flow

    # ---- properties -----------------------------------------------------------------------

    @property
    def flow(self):
        """The variant Tensor holding the array's TensorList."""
        return self._flow

    @property
    def dtype(self):
        """The elements' `DType`."""
        return self._dtype

    @property
    def handle(self):
        """None: TF 2's TensorArray has no resource handle."""
        return None

    @property
    def element_shape(self):
        """The elements' static `TensorShape`, as far as known."""
        return self._element_shape[0]

    @property
    def dynamic_size(self):
        """Whether writes beyond the size grow the array."""
        return self._dynamic_size

    @property
    def _graph(self):
        return self._flow.graph

    def _with_flow(self, flow):
        """A TensorArray like this one around another list `flow` (the loop hook)."""
        new = TensorArray(self._dtype, flow=flow, infer_shape=self._infer_shape)
        new._dynamic_size = self._dynamic_size
        new._size = self._size
        new._element_shape = self._element_shape
        return new

    # The loop-variable protocol of ``while_v2``: a loop carries the flow and rebuilds the
    # array around the body's and the loop's flows.
    def _as_loop_tensor(self):
        return self._flow

    def _from_loop_tensor(self, flow):
        return self._with_flow(flow)

    def _check_element_shape(self, shape):
        if not shape.is_compatible_with(self.element_shape):
            raise ValueError(f"Inconsistent shapes: saw {shape} but expected "
                             f"{self.element_shape} ")
        if self._infer_shape:
            self._element_shape[0] = self.element_shape.merge_with(shape)

    def _value(self, value, what):
        """`value` as a Tensor of the array's dtype (Python values are converted to it)."""
        if not isinstance(value, Tensor):
            try:
                value = graph_lib.convert_to_tensor(value, dtype=self._dtype, name="value",
                                                    graph=self._graph)
            except (TypeError, ValueError):
                value = graph_lib.convert_to_tensor(value, name="value", graph=self._graph)
        if value.dtype.base_dtype != self._dtype:
            raise TypeError(f"TensorArray {what}: the value has dtype {value.dtype.name} but "
                            f"the TensorArray holds {self._dtype.name}")
        return value

    # ---- methods ----------------------------------------------------------------------------

    def identity(self):
        """A TensorArray whose flow is an ``Identity`` of this one's."""
        return self._with_flow(array_ops.identity(self._flow))

    def grad(self, source, flow=None, name=None):
        """Not supported: TF 2's TensorArray has no gradient arrays either."""
        raise NotImplementedError("TensorArray.grad is not supported (TF 2's TensorArray, "
                                  "which sessionlib's is, does not support it)")

    def read(self, index, name=None):
        """Element `index` (op ``TensorListGetItem``); an unwritten element reads as zeros
        when the element shape is fully defined.

        Args:
          index: an int32 scalar.
          name: the name scope.

        Returns:
          A Tensor of `dtype`.
        """
        graph = self._graph
        with graph.as_default(), graph.name_scope(name or "TensorArrayV2Read"):
            return list_ops.tensor_list_get_item(self._flow, index, self._dtype,
                                                 element_shape=self.element_shape)

    def write(self, index, value, name=None):
        """A TensorArray with element `index` set to `value` (op ``TensorListSetItem``).

        Args:
          index: an int32 scalar; beyond the size it is an InvalidArgumentError at run time
            unless `dynamic_size`.
          value: the element.
          name: the name scope.

        Returns:
          The new TensorArray.

        Raises:
          TypeError: if `value` is a Tensor of another dtype.
          ValueError: if its shape is incompatible with the element shape.
        """
        graph = self._graph
        with graph.as_default(), graph.name_scope(name or "TensorArrayV2Write"):
            value = self._value(value, "write")
            self._check_element_shape(value.shape)
            flow = list_ops.tensor_list_set_item(
                self._flow, index, value, resize_if_index_out_of_bounds=self._dynamic_size)
            return self._with_flow(flow)

    def stack(self, name=None):
        """All elements stacked along a new axis 0 (op ``TensorListStack``).

        A fixed-size array checks at run time that it holds `size` elements; unwritten
        elements are zeros when the element shape is fully defined.
        """
        graph = self._graph
        with graph.as_default(), graph.name_scope(name or "TensorArrayV2Stack"):
            count = -1
            if not self._dynamic_size and self._size is not None:
                known = tensor_util.constant_value(self._size) if isinstance(
                    self._size, Tensor) else self._size
                count = -1 if known is None else int(known)
            return list_ops.tensor_list_stack(self._flow, self._dtype, num_elements=count,
                                              element_shape=self.element_shape)

    def gather(self, indices, name=None):
        """The elements at `indices` stacked (op ``TensorListGather``)."""
        graph = self._graph
        with graph.as_default(), graph.name_scope(name or "TensorArrayV2Gather"):
            return list_ops.tensor_list_gather(self._flow, indices, self._dtype,
                                               element_shape=self.element_shape)

    def concat(self, name=None):
        """The elements concatenated along axis 0 (op ``TensorListConcatV2``)."""
        shape = self.element_shape
        element_shape = [None] + shape.as_list()[1:] if shape.rank else None
        graph = self._graph
        with graph.as_default(), graph.name_scope(name or "TensorArrayV2Concat"):
            return list_ops.tensor_list_concat(self._flow, self._dtype,
                                               element_shape=element_shape)[0]

    def unstack(self, value, name=None):
        """A TensorArray of the rows of `value` (op ``TensorListFromTensor``).

        Raises:
          TypeError: if `value` is a Tensor of another dtype.
          ValueError: if its rows do not fit the element shape.
        """
        graph = self._graph
        with graph.as_default(), graph.name_scope(name or "TensorArrayUnstack"):
            value = self._value(value, "unstack")
            rows = value.shape[1:] if value.shape.rank is not None else TensorShape(None)
            self._check_element_shape(rows)
            return self._with_flow(list_ops.tensor_list_from_tensor(value, rows))

    def scatter(self, indices, value, name=None):
        """A TensorArray with the rows of `value` written at `indices`
        (op ``TensorListScatterIntoExistingList``)."""
        graph = self._graph
        with graph.as_default(), graph.name_scope(name or "TensorArrayScatter"):
            value = self._value(value, "scatter")
            rows = value.shape[1:] if value.shape.rank is not None else TensorShape(None)
            self._check_element_shape(rows)
            return self._with_flow(list_ops.tensor_list_scatter(value, indices,
                                                                input_handle=self._flow))

    def split(self, value, lengths, name=None):
        """A TensorArray of consecutive blocks of `value` of the given `lengths`
        (op ``TensorListSplit``)."""
        graph = self._graph
        with graph.as_default(), graph.name_scope(name or "TensorArraySplit"):
            value = self._value(value, "split")
            lengths = math_ops.cast(lengths, dtypes.int64)
            known = tensor_util.constant_value(lengths)
            if value.shape.rank is not None and known is not None and known.size and \
                    known.max() == known.min():
                self._check_element_shape(
                    TensorShape([int(known[0])]).concatenate(value.shape[1:]))
            return self._with_flow(list_ops.tensor_list_split(value, self.element_shape,
                                                              lengths))

    def size(self, name=None):
        """The number of elements, an int32 scalar (the fixed size, or op
        ``TensorListLength`` for a dynamic array)."""
        graph = self._graph
        with graph.as_default():
            if not self._dynamic_size and self._size is not None:
                return array_ops._tensor(self._size, name or "size", graph, dtypes.int32)
            return list_ops.tensor_list_length(self._flow, name=name or "TensorListLength")

    def close(self, name=None):
        """A ``NoOp``: a list needs no closing."""
        graph = self._graph
        with graph.as_default():
            return control_flow_ops.no_op(name=name or "TensorArrayClose")

    def __repr__(self):
        return (f"<sessionlib.TensorArray dtype={self._dtype.name} element_shape="
                f"{self.element_shape} flow={self._flow.name}>")


def build_ta_with_new_flow(old_ta, flow):
    """A TensorArray like `old_ta` around list `flow` (TF's name; what a loop uses to rebuild
    a TensorArray loop variable from the flow it carried).

    Args:
      old_ta: a `TensorArray`.
      flow: a variant scalar Tensor.

    Returns:
      A `TensorArray` sharing `old_ta`'s dtype, size, dynamic_size and element shape.
    """
    return old_ta._with_flow(flow)
