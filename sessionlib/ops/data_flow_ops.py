"""Queues: `QueueBase`, `FIFOQueue`, `PaddingFIFOQueue`, `RandomShuffleQueue` and
`PriorityQueue`, and the gradient accumulators, with TF's op names and semantics.

Design. A queue is a resource in the session's container: the queue op (``FIFOQueueV2`` /
``RandomShuffleQueueV2``) creates it on first run and outputs its handle; the enqueue, dequeue,
size and close ops take that handle as input 0. This module registers those ops (signature,
shape inference, kernel name) and holds the classes users build them with. The queue resource
and its kernels (blocking, ordering, cancellation) live in the ``data_flow_kernels`` family of
the kernel table; this module names kernels and must never import them or the compiled code.
"""

import collections

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework import registry, tensor_util
from sessionlib.framework.tensor_shape import TensorShape, as_shape
from sessionlib.ops import state_ops

__all__ = ["QueueBase", "FIFOQueue", "PaddingFIFOQueue", "RandomShuffleQueue", "PriorityQueue",
           "ConditionalAccumulatorBase", "ConditionalAccumulator", "SparseConditionalAccumulator"]


# ---- queue creation ops ---------------------------------------------------------------------

def _queue_infer(inputs, attrs):
    attrs["component_types"] = [dtypes.as_dtype(d) for d in attrs["component_types"]]
    attrs["shapes"] = [as_shape(s) for s in attrs.get("shapes", [])]
    attrs.setdefault("capacity", -1)
    attrs.setdefault("container", "")
    attrs.setdefault("shared_name", "")
    return [(dtypes.resource, TensorShape([]))]


registry.register_op("FIFOQueueV2", infer=_queue_infer, kernel="FIFOQueueV2",
                     num_inputs=0, stateful=True, doc="A first-in first-out queue.",
                     gradient=registry.NOT_DIFFERENTIABLE)
registry.register_op("RandomShuffleQueueV2", infer=_queue_infer,
                     kernel="RandomShuffleQueueV2", num_inputs=0,
                     stateful=True, doc="A queue that dequeues elements in random order.",
                     gradient=registry.NOT_DIFFERENTIABLE)
registry.register_op("PaddingFIFOQueueV2", infer=_queue_infer, kernel="PaddingFIFOQueueV2",
                     num_inputs=0, stateful=True,
                     doc="A first-in first-out queue whose batches are zero-padded.",
                     gradient=registry.NOT_DIFFERENTIABLE)
registry.register_op("PriorityQueueV2", infer=_queue_infer, kernel="PriorityQueueV2",
                     num_inputs=0, stateful=True,
                     doc="A queue that dequeues the element of lowest int64 priority first.",
                     gradient=registry.NOT_DIFFERENTIABLE)


# ---- enqueue ----------------------------------------------------------------------------------

def _enqueue_infer(op_type):
    def infer(inputs, attrs):
        if not inputs or inputs[0].dtype is not dtypes.resource:
            raise TypeError(f"{op_type} takes a queue handle as its first input")
        attrs["Tcomponents"] = [t.dtype for t in inputs[1:]]
        attrs.setdefault("timeout_ms", -1)
        return []

    return infer


registry.register_op("QueueEnqueueV2", infer=_enqueue_infer("QueueEnqueueV2"),
                     kernel="QueueEnqueueV2", stateful=True,
                     doc="Adds one element to a queue.",
                     gradient=registry.NOT_DIFFERENTIABLE)
registry.register_op("QueueEnqueueManyV2", infer=_enqueue_infer("QueueEnqueueManyV2"),
                     kernel="QueueEnqueueManyV2", stateful=True,
                     doc="Adds the slices of a batch to a queue.",
                     gradient=registry.NOT_DIFFERENTIABLE)


# ---- dequeue ----------------------------------------------------------------------------------

def _dequeue_infer(inputs, attrs):
    if inputs[0].dtype is not dtypes.resource:
        raise TypeError("Dequeue takes a queue handle as its first input")
    attrs["component_types"] = [dtypes.as_dtype(d) for d in attrs["component_types"]]
    attrs.setdefault("timeout_ms", -1)
    # The queue's element shapes are not attrs of the dequeue op; the wrapper sets them.
    return [(dtype, TensorShape(None)) for dtype in attrs["component_types"]]


registry.register_op("QueueDequeueV2", infer=_dequeue_infer, kernel="QueueDequeueV2",
                     num_inputs=1, stateful=True, doc="Takes one element from a queue.",
                     gradient=registry.NOT_DIFFERENTIABLE)
registry.register_op("QueueDequeueManyV2", infer=_dequeue_infer,
                     kernel="QueueDequeueManyV2", num_inputs=2, stateful=True,
                     doc="Takes n elements from a queue, as a batch.",
                     gradient=registry.NOT_DIFFERENTIABLE)
registry.register_op("QueueDequeueUpToV2", infer=_dequeue_infer,
                     kernel="QueueDequeueUpToV2", num_inputs=2, stateful=True,
                     doc="Takes up to n elements from a queue once it is closed.",
                     gradient=registry.NOT_DIFFERENTIABLE)


# ---- size, close, is_closed -----------------------------------------------------------------

def _handle_only_infer(dtype):
    return state_ops.handle_only_infer("queue", dtype)


def _close_infer(inputs, attrs):
    attrs.setdefault("cancel_pending_enqueues", False)
    return _handle_only_infer(None)(inputs, attrs)


registry.register_op("QueueSizeV2", infer=_handle_only_infer(dtypes.int32),
                     kernel="QueueSizeV2", num_inputs=1, stateful=True,
                     doc="The number of elements in a queue.",
                     gradient=registry.NOT_DIFFERENTIABLE)
registry.register_op("QueueIsClosedV2", infer=_handle_only_infer(dtypes.bool),
                     kernel="QueueIsClosedV2", num_inputs=1, stateful=True,
                     doc="Whether a queue is closed.",
                     gradient=registry.NOT_DIFFERENTIABLE)
registry.register_op("QueueCloseV2", infer=_close_infer, kernel="QueueCloseV2",
                     num_inputs=1, stateful=True, doc="Closes a queue.",
                     gradient=registry.NOT_DIFFERENTIABLE)


# ---- the Python classes ------------------------------------------------------------------------

def _as_type_list(dtypes_arg):
    if isinstance(dtypes_arg, (list, tuple)):
        return [dtypes.as_dtype(d) for d in dtypes_arg]
    return [dtypes.as_dtype(dtypes_arg)]


def _as_shape_list(shapes, dtype_list, unknown_dim_allowed=False, unknown_rank_allowed=False):
    """TF's shape-argument rules: None, one shape for one component, or one per component."""
    if shapes is None:
        return None
    if isinstance(shapes, TensorShape):
        shapes = [shapes]
    elif not isinstance(shapes, (list, tuple)):
        raise TypeError("shapes must be a list of shapes (or None)")
    elif all(shape is None or isinstance(shape, int) for shape in shapes):
        # A single shape given as a list of dims (e.g. [] or [2, 3]).
        shapes = [shapes]
    shapes = [as_shape(s) for s in shapes]
    if not unknown_dim_allowed and any(not s.is_fully_defined() for s in shapes
                                       if s.rank is not None):
        raise ValueError(f"All shapes must be fully defined: {shapes}")
    if not unknown_rank_allowed and any(s.rank is None for s in shapes):
        raise ValueError(f"All shapes must have a defined rank: {shapes}")
    if len(shapes) != len(dtype_list):
        raise ValueError("shapes must have the same length as dtypes")
    return shapes


def _as_name_list(names, dtype_list):
    if names is None:
        return None
    if not isinstance(names, (list, tuple)):
        names = [names]
    if len(names) != len(dtype_list):
        raise ValueError("List of names must have the same length as the list of dtypes")
    return list(names)


class QueueBase:
    """Base class of the queues: enqueue, dequeue, size and close ops on one queue resource.

    Args:
      dtypes: the component types, one per tensor of an element.
      shapes: the component shapes (list of `TensorShape`) or None.
      names: the component names (for dict elements) or None.
      queue_ref: the queue's resource handle tensor.
    """

    def __init__(self, dtypes, shapes, names, queue_ref):  # noqa: A002 - TF's names
        self._dtypes = list(dtypes)
        self._shapes = (list(shapes) if shapes is not None
                        else [TensorShape(None) for _ in self._dtypes])
        self._names = names
        self._queue_ref = queue_ref
        self._name = queue_ref.op.name.split("/")[-1]

    @property
    def queue_ref(self):
        """The underlying queue reference (a resource handle tensor)."""
        return self._queue_ref

    @property
    def name(self):
        """The name of the underlying queue op."""
        return self._queue_ref.op.name

    @property
    def dtypes(self):
        return list(self._dtypes)

    @property
    def shapes(self):
        return list(self._shapes)

    @property
    def names(self):
        return self._names

    def _graph(self):
        return self._queue_ref.graph

    def _check_enqueue_values(self, vals):
        """`vals` as a list of tensors, one per component, with TF's checks."""
        if isinstance(vals, dict):
            if not self._names:
                raise ValueError("Queues must have names to enqueue a dictionary")
            if sorted(self._names, key=str) != sorted(vals.keys(), key=str):
                raise ValueError(f"Keys in dictionary to enqueue do not match names of Queue. "
                                 f"Dictionary: {sorted(vals.keys())}, Queue: "
                                 f"{sorted(self._names)}")
            vals = [vals[name] for name in self._names]
        else:
            if self._names:
                raise ValueError("You must enqueue a dictionary in a Queue with names")
            if not isinstance(vals, (list, tuple)):
                vals = [vals]
        if len(vals) != len(self._dtypes):
            raise ValueError(f"Expected {len(self._dtypes)} components to enqueue, got "
                             f"{len(vals)}")
        tensors = []
        # Python values become constants in the queue's graph, whatever thread builds.
        with self._graph().as_default():
            for index, (value, dtype) in enumerate(zip(vals, self._dtypes)):
                tensors.append(graph_lib.convert_to_tensor(value, dtype=dtype,
                                                           name=f"component_{index}"))
        for tensor in tensors:
            if tensor.graph is not self._graph():
                raise ValueError(f"Tensor {tensor.name} must be from the same graph as the "
                                 "queue")
        return tensors

    def _state_op(self, op_type, inputs, attrs, name):
        return state_ops.create_resource_op(self._graph(), op_type, self._queue_ref, inputs,
                                            attrs, name)

    def enqueue(self, vals, name=None):
        """An op that adds one element to the queue; it blocks while the queue is full.

        Args:
          vals: a tensor, a list/tuple of tensors (one per component), or a dict keyed by the
            queue's names.
          name: the op name.

        Returns:
          The enqueue Operation. Running it on a closed queue raises CancelledError.

        Raises:
          ValueError: for the wrong number of components or incompatible static shapes.
        """
        tensors = self._check_enqueue_values(vals)
        for tensor, shape in zip(tensors, self._shapes):
            if not tensor.shape.is_compatible_with(shape):
                raise ValueError(f"Shapes {tensor.shape} and {shape} are incompatible")
        return self._state_op("QueueEnqueueV2", tensors, {"timeout_ms": -1},
                              name or f"{self._name}_enqueue")

    def enqueue_many(self, vals, name=None):
        """An op that adds the slices of a batch (dimension 0 of each component) to the queue.

        Args:
          vals: as for `enqueue`, with an extra leading batch dimension on every component.
          name: the op name.

        Returns:
          The enqueue Operation.

        Raises:
          ValueError: for the wrong number of components or incompatible static shapes.
        """
        tensors = self._check_enqueue_values(vals)
        batch = None
        for tensor, shape in zip(tensors, self._shapes):
            tensor_shape = tensor.shape
            if tensor_shape.rank is not None:
                if tensor_shape.rank == 0:
                    raise ValueError(f"Shape {tensor_shape} must have rank at least 1")
                if not TensorShape(tensor_shape.as_list()[1:]).is_compatible_with(shape):
                    raise ValueError(f"Shapes {tensor_shape} and "
                                     f"{TensorShape([None]).concatenate(shape)} are "
                                     "incompatible")
                first = tensor_shape.as_list()[0]
                if first is not None:
                    if batch is not None and batch != first:
                        raise ValueError(f"Dimension 0 in both shapes must be equal, but are "
                                         f"{batch} and {first}")
                    batch = first
        return self._state_op("QueueEnqueueManyV2", tensors, {"timeout_ms": -1},
                              name or f"{self._name}_EnqueueMany")

    def _dequeue_result(self, tensors):
        if self._names:
            return dict(zip(self._names, tensors))
        if len(tensors) == 1:
            return tensors[0]
        return tensors

    def _dequeue_op(self, op_type, inputs, batch_shape, name):
        """Builds a dequeue op; `batch_shape` is None for one element, else the batch dim."""
        op = self._state_op(op_type, inputs, {"component_types": self._dtypes,
                                              "timeout_ms": -1}, name)
        for tensor, shape in zip(op.outputs, self._shapes):
            if batch_shape is not None:
                shape = batch_shape.concatenate(shape)
            tensor.set_shape(shape)
        return self._dequeue_result(op.outputs)

    def dequeue(self, name=None):
        """Tensors that take one element from the queue; running them blocks while it is empty.

        Returns:
          One tensor per component (a single tensor for one component, a dict with names).
          Running it raises OutOfRangeError once the queue is closed and empty.
        """
        return self._dequeue_op("QueueDequeueV2", [], None, name or f"{self._name}_Dequeue")

    def dequeue_many(self, n, name=None):
        """Tensors that take `n` elements from the queue, concatenated along a new dimension 0.

        Running them blocks until `n` elements are available, and raises OutOfRangeError when
        the queue is closed with fewer left.

        Args:
          n: the number of elements (a scalar int32 tensor or int).
          name: the op name.
        """
        with self._graph().as_default():
            count = graph_lib.convert_to_tensor(n, dtype=dtypes.int32)
        known = tensor_util.constant_value(count)
        batch = int(known) if known is not None else None
        return self._dequeue_op("QueueDequeueManyV2", [count], TensorShape([batch]),
                                name or f"{self._name}_DequeueMany")

    def dequeue_up_to(self, n, name=None):
        """Like `dequeue_many`, but a closed queue with 0 < k < n elements left gives k.

        Args:
          n: the most elements to take (a scalar int32 tensor or int).
          name: the op name.
        """
        with self._graph().as_default():
            count = graph_lib.convert_to_tensor(n, dtype=dtypes.int32)
        return self._dequeue_op("QueueDequeueUpToV2", [count], TensorShape([None]),
                                name or f"{self._name}_DequeueUpTo")

    def close(self, cancel_pending_enqueues=False, name=None):
        """An op that closes the queue.

        Later enqueues fail with CancelledError; dequeues succeed while enough elements remain,
        then fail with OutOfRangeError, and blocked dequeues are released.

        Args:
          cancel_pending_enqueues: also cancel the enqueues blocked on a full queue.
          name: the op name.
        """
        return self._state_op("QueueCloseV2", [],
                              {"cancel_pending_enqueues": bool(cancel_pending_enqueues)},
                              name or f"{self._name}_Close")

    def is_closed(self, name=None):
        """A bool scalar tensor: whether the queue is closed."""
        return self._state_op("QueueIsClosedV2", [], {},
                              name or f"{self._name}_IsClosed").outputs[0]

    def size(self, name=None):
        """An int32 scalar tensor: the number of elements in the queue."""
        return self._state_op("QueueSizeV2", [], {}, name or f"{self._name}_Size").outputs[0]


def _create_queue_op(op_type, attrs, name):
    graph = graph_lib.get_default_graph()
    # Like TF's init_scope: the queue does not depend on the caller's control inputs.
    with graph.control_dependencies(None):
        return graph.create_op(op_type, [], attrs, name=name).outputs[0]


class FIFOQueue(QueueBase):
    """A queue that dequeues elements in the order they were enqueued (``tf.FIFOQueue``).

    Args:
      capacity: the most elements the queue holds; enqueues block while it is full.
      dtypes: the component types (a DType or a list).
      shapes: None, or the fully defined shape of each component.
      names: None, or one name per component (elements are then dicts).
      shared_name: share the queue under this name between sessions' ops of the same name.
      name: the queue op's name.

    Raises:
      ValueError: if shapes or names do not match dtypes.
    """

    def __init__(self, capacity, dtypes, shapes=None, names=None, shared_name=None,  # noqa: A002
                 name="fifo_queue"):
        dtype_list = _as_type_list(dtypes)
        shape_list = _as_shape_list(shapes, dtype_list)
        name_list = _as_name_list(names, dtype_list)
        queue_ref = _create_queue_op(
            "FIFOQueueV2",
            {"component_types": dtype_list, "shapes": shape_list or [],
             "capacity": int(capacity), "container": "", "shared_name": shared_name or ""},
            name)
        super().__init__(dtype_list, shape_list, name_list, queue_ref)


class RandomShuffleQueue(QueueBase):
    """A queue that dequeues elements in a random order (``tf.RandomShuffleQueue``).

    While open, a dequeue leaves at least `min_after_dequeue` elements behind (it blocks until
    more arrive); once closed, the remaining elements can all be dequeued.

    Args:
      capacity: the most elements the queue holds.
      min_after_dequeue: the fewest elements left after a dequeue while the queue is open.
      dtypes, shapes, names, shared_name: as for `FIFOQueue`.
      seed: an op-level random seed (see ``set_random_seed``).
      name: the queue op's name.

    Raises:
      ValueError: if shapes or names do not match dtypes.
    """

    def __init__(self, capacity, min_after_dequeue, dtypes, shapes=None, names=None,  # noqa: A002
                 seed=None, shared_name=None, name="random_shuffle_queue"):
        dtype_list = _as_type_list(dtypes)
        shape_list = _as_shape_list(shapes, dtype_list)
        name_list = _as_name_list(names, dtype_list)
        from sessionlib.ops import random_ops

        seed1, seed2 = random_ops.get_seed(seed)
        if seed1 is None and seed2 is None:
            seed1, seed2 = 0, 0  # nondeterministic, as in TF
        queue_ref = _create_queue_op(
            "RandomShuffleQueueV2",
            {"component_types": dtype_list, "shapes": shape_list or [],
             "capacity": int(capacity), "min_after_dequeue": int(min_after_dequeue),
             "seed": seed1, "seed2": seed2, "container": "", "shared_name": shared_name or ""},
            name)
        super().__init__(dtype_list, shape_list, name_list, queue_ref)


class PaddingFIFOQueue(QueueBase):
    """A FIFO queue whose batches are padded to a common shape (``tf.PaddingFIFOQueue``).

    Component shapes may have unknown (None) dimensions; `dequeue_many` and `dequeue_up_to`
    pad each component to the largest size of every dimension in the batch, with zeros (empty
    strings for string components).

    Args:
      capacity: the most elements the queue holds.
      dtypes: the component types (a DType or a list).
      shapes: the shape of each component, each of known rank (dimensions may be None).
      names: None, or one name per component (elements are then dicts).
      shared_name: share the queue under this name between sessions' ops of the same name.
      name: the queue op's name.

    Raises:
      ValueError: if shapes or names do not match dtypes, or a shape has an unknown rank.
    """

    def __init__(self, capacity, dtypes, shapes, names=None, shared_name=None,  # noqa: A002
                 name="padding_fifo_queue"):
        dtype_list = _as_type_list(dtypes)
        shape_list = _as_shape_list(shapes, dtype_list, unknown_dim_allowed=True)
        name_list = _as_name_list(names, dtype_list)
        if len(dtype_list) != len(shape_list):
            raise ValueError(f"Shapes must be provided for all components, but received "
                             f"{len(dtype_list)} dtypes and {len(shape_list)} shapes.")
        queue_ref = _create_queue_op(
            "PaddingFIFOQueueV2",
            {"component_types": dtype_list, "shapes": shape_list,
             "capacity": int(capacity), "container": "", "shared_name": shared_name or ""},
            name)
        super().__init__(dtype_list, shape_list, name_list, queue_ref)


class PriorityQueue(QueueBase):
    """A queue that dequeues the element of lowest priority first (``tf.PriorityQueue``).

    Every element starts with an extra int64 scalar component, its priority; `dtypes` and
    `shapes` of the queue are those of `types` and `shapes` with that component in front.

    Args:
      capacity: the most elements the queue holds.
      types: the types of the components after the priority.
      shapes: the fully defined shapes of those components.
      names: None, or one name per component (the priority included).
      shared_name: share the queue under this name between sessions' ops of the same name.
      name: the queue op's name.

    Raises:
      TypeError: if `shapes` is None.
      ValueError: if shapes or names do not match types.
    """

    def __init__(self, capacity, types, shapes=None, names=None, shared_name=None,
                 name="priority_queue"):
        if shapes is None:
            raise TypeError("Expected list for 'shapes' argument to 'priority_queue_v2' Op, "
                            "not None.")
        type_list = _as_type_list(types)
        shape_list = _as_shape_list(shapes, type_list)
        dtype_list = [dtypes.int64] + type_list
        shape_list = [TensorShape([])] + shape_list
        name_list = _as_name_list(names, dtype_list)
        queue_ref = _create_queue_op(
            "PriorityQueueV2",
            {"component_types": type_list, "shapes": shape_list[1:],
             "capacity": int(capacity), "container": "", "shared_name": shared_name or ""},
            name)
        super().__init__(dtype_list, shape_list, name_list, queue_ref)


# ---- conditional accumulators ------------------------------------------------------------------
#
# An accumulator is a session resource like a queue: ``ResourceConditionalAccumulator`` creates
# it on first run, and the apply / take / count / set-step ops take its handle as input 0. It
# sums gradients not older than its global step; a take waits for enough of them, returns
# their mean (or sum), starts a new sum and advances the global step.

_ACCUMULATOR_DTYPES = (dtypes.float16, dtypes.float32, dtypes.float64)
_REDUCTION_TYPES = ("MEAN", "SUM")


def _accumulator_infer(inputs, attrs):
    attrs["dtype"] = dtypes.as_dtype(attrs["dtype"])
    attrs["shape"] = as_shape(attrs.get("shape"))
    attrs.setdefault("container", "")
    attrs.setdefault("shared_name", "")
    attrs.setdefault("reduction_type", "MEAN")
    if attrs["reduction_type"] not in _REDUCTION_TYPES:
        raise ValueError(f"Attr 'reduction_type' of 'ResourceConditionalAccumulator' Op passed "
                         f"string '{attrs['reduction_type']}' not in: \"MEAN\", \"SUM\".")
    return [(dtypes.resource, TensorShape([]))]


def _accumulator_input_infer(op_type, input_types, output):
    """Infer for an accumulator op: a handle, then inputs of `input_types` (None: `dtype`)."""
    def infer(inputs, attrs):
        if len(inputs) != len(input_types) + 1 or inputs[0].dtype is not dtypes.resource:
            raise TypeError(f"{op_type} takes an accumulator handle and "
                            f"{len(input_types)} more inputs")
        for tensor, expected in zip(inputs[1:], input_types):
            expected = expected or attrs.get("dtype") or tensor.dtype
            if tensor.dtype is not expected:
                raise TypeError(f"Input of {op_type} has type {tensor.dtype.name} that does "
                                f"not match expected type of {expected.name}.")
        if "dtype" in attrs:
            attrs["dtype"] = dtypes.as_dtype(attrs["dtype"])
        if output == "dtype":
            return [(attrs["dtype"], TensorShape(None))]
        return [] if output is None else [(output, TensorShape([]))]

    return infer


registry.register_op("ResourceConditionalAccumulator", infer=_accumulator_infer,
                     kernel="ResourceConditionalAccumulator", num_inputs=0, stateful=True,
                     doc="An accumulator of gradients (averaged or summed).",
                     gradient=registry.NOT_DIFFERENTIABLE)
registry.register_op("ResourceAccumulatorApplyGradient",
                     infer=_accumulator_input_infer("ResourceAccumulatorApplyGradient",
                                                    [dtypes.int64, None], None),
                     kernel="ResourceAccumulatorApplyGradient", num_inputs=3, stateful=True,
                     doc="Adds a gradient to an accumulator unless it is stale.",
                     gradient=registry.NOT_DIFFERENTIABLE)
registry.register_op("ResourceAccumulatorTakeGradient",
                     infer=_accumulator_input_infer("ResourceAccumulatorTakeGradient",
                                                    [dtypes.int32], "dtype"),
                     kernel="ResourceAccumulatorTakeGradient", num_inputs=2, stateful=True,
                     doc="Takes the reduced gradient once enough have been accumulated.",
                     gradient=registry.NOT_DIFFERENTIABLE)
registry.register_op("ResourceAccumulatorNumAccumulated",
                     infer=_accumulator_input_infer("ResourceAccumulatorNumAccumulated", [],
                                                    dtypes.int32),
                     kernel="ResourceAccumulatorNumAccumulated", num_inputs=1, stateful=True,
                     doc="The number of gradients accumulated since the last take.",
                     gradient=registry.NOT_DIFFERENTIABLE)
registry.register_op("ResourceAccumulatorSetGlobalStep",
                     infer=_accumulator_input_infer("ResourceAccumulatorSetGlobalStep",
                                                    [dtypes.int64], None),
                     kernel="ResourceAccumulatorSetGlobalStep", num_inputs=2, stateful=True,
                     doc="Sets an accumulator's global step (older gradients are dropped).",
                     gradient=registry.NOT_DIFFERENTIABLE)


def _create_accumulator(op_type, class_name, dtype, shape, shared_name, name, reduction_type):
    """Builds an accumulator op; returns (dtype, shape, handle) for the class to keep."""
    dtype = dtypes.as_dtype(dtype)
    if dtype not in _ACCUMULATOR_DTYPES:
        raise TypeError(f"{class_name} supports half, float and double values, not "
                        f"{dtype.name}")
    shape = as_shape(shape)
    graph = graph_lib.get_default_graph()
    # Like a queue, the accumulator does not depend on the caller's control inputs.
    with graph.control_dependencies(None):
        handle = graph.create_op(
            op_type, [], {"dtype": dtype, "shape": shape, "container": "",
                          "shared_name": shared_name or "", "reduction_type": reduction_type},
            name=name).outputs[0]
    return dtype, shape, handle


class ConditionalAccumulatorBase:
    """An accumulator resource and its shared ops (``tf.ConditionalAccumulatorBase``).

    Args:
      dtype: the type of the accumulated values.
      shape: the shape of the accumulated values (a `TensorShape`, possibly partial).
      accumulator_ref: the accumulator's resource handle tensor.
    """

    def __init__(self, dtype, shape, accumulator_ref):
        self._dtype = dtype
        self._shape = as_shape(shape)
        self._accumulator_ref = accumulator_ref
        self._name = accumulator_ref.op.name.split("/")[-1]

    @property
    def accumulator_ref(self):
        """The underlying accumulator reference (a resource handle tensor)."""
        return self._accumulator_ref

    @property
    def name(self):
        """The name of the underlying accumulator op."""
        return self._name

    @property
    def dtype(self):
        """The type of the accumulated values."""
        return self._dtype

    def _graph(self):
        return self._accumulator_ref.graph

    def _state_op(self, op_type, inputs, name, attrs=None):
        return state_ops.create_resource_op(self._graph(), op_type, self._accumulator_ref,
                                            inputs, attrs or {}, name)

    def num_accumulated(self, name=None):
        """An int32 scalar tensor: how many gradients were accumulated since the last take.

        Args:
          name: the op name.
        """
        return self._state_op("ResourceAccumulatorNumAccumulated", [], name).outputs[0]

    def set_global_step(self, new_global_step, name=None):
        """An op that sets the accumulator's global step; gradients of older steps are dropped.

        Args:
          new_global_step: an int64 scalar (tensor or value).
          name: the op name.

        Returns:
          The Operation.
        """
        with self._graph().as_default():
            step = graph_lib.convert_to_tensor(new_global_step, dtype=dtypes.int64)
        return self._state_op("ResourceAccumulatorSetGlobalStep", [step], name)


class ConditionalAccumulator(ConditionalAccumulatorBase):
    """Accumulates gradients of the current step and hands out their mean or sum.

    `apply_grad` adds a gradient unless its `local_step` is older than the accumulator's global
    step; `take_grad(n)` waits until `n` gradients are in, returns their mean (`reduction_type`
    'MEAN') or sum ('SUM'), clears the sum and advances the global step by one.

    Args:
      dtype: the gradients' type (float16, float32 or float64).
      shape: the gradients' shape (None: any, fixed by the first gradient of each step).
      shared_name: share the accumulator under this name between sessions' ops.
      name: the accumulator op's name.
      reduction_type: 'MEAN' or 'SUM'.

    Raises:
      ValueError: for another `reduction_type`.
      TypeError: for a non-floating `dtype`.
    """

    def __init__(self, dtype, shape=None, shared_name=None, name="conditional_accumulator",
                 reduction_type="MEAN"):
        super().__init__(*_create_accumulator("ResourceConditionalAccumulator",
                                              "ConditionalAccumulator", dtype, shape,
                                              shared_name, name, reduction_type))

    def apply_grad(self, grad, local_step=0, name=None):
        """An op that adds `grad` unless `local_step` is older than the global step.

        Args:
          grad: the gradient (a tensor or value of the accumulator's dtype and shape).
          local_step: the int64 step the gradient was computed at.
          name: the op name.

        Returns:
          The Operation. Running it with a gradient of another shape raises
          InvalidArgumentError.

        Raises:
          ValueError: if the static shape of `grad` is incompatible.
        """
        with self._graph().as_default():
            grad = graph_lib.convert_to_tensor(grad, dtype=self._dtype)
            local_step = graph_lib.convert_to_tensor(local_step, dtype=dtypes.int64)
        grad.shape.assert_is_compatible_with(self._shape)
        return self._state_op("ResourceAccumulatorApplyGradient", [local_step, grad], name,
                              {"dtype": self._dtype})

    def take_grad(self, num_required, name=None):
        """A tensor: the mean (or sum) of the gradients, once `num_required` are in.

        Running it blocks until then, clears the accumulator and advances its global step.

        Args:
          num_required: an int32 scalar, at least 1 (else the run raises InvalidArgumentError).
          name: the op name.

        Returns:
          The reduced gradient, of the accumulator's dtype and shape.
        """
        with self._graph().as_default():
            count = graph_lib.convert_to_tensor(num_required, dtype=dtypes.int32)
        out = self._state_op("ResourceAccumulatorTakeGradient", [count], name,
                             {"dtype": self._dtype}).outputs[0]
        out.set_shape(self._shape)
        return out


# ---- sparse conditional accumulators -----------------------------------------------------------

def _sparse_apply_infer(inputs, attrs):
    handle, local_step, indices, values, shape = inputs
    if handle.dtype is not dtypes.resource:
        raise TypeError("SparseAccumulatorApplyGradient takes an accumulator handle")
    for tensor, arg in ((local_step, "local_step"), (indices, "gradient_indices"),
                        (shape, "gradient_shape")):
        if tensor.dtype is not dtypes.int64:
            raise TypeError(f"Input '{arg}' of 'SparseAccumulatorApplyGradient' Op has type "
                            f"{tensor.dtype.name} that does not match expected type of int64.")
    attrs["dtype"] = dtypes.as_dtype(attrs["dtype"])
    if values.dtype is not attrs["dtype"]:
        raise TypeError(f"Input 'gradient_values' of 'SparseAccumulatorApplyGradient' Op has "
                        f"type {values.dtype.name} that does not match expected type of "
                        f"{attrs['dtype'].name}.")
    attrs["has_known_shape"] = bool(attrs.get("has_known_shape", False))
    return []


def _sparse_take_infer(inputs, attrs):
    handle, count = inputs
    if handle.dtype is not dtypes.resource or count.dtype is not dtypes.int32:
        raise TypeError("SparseAccumulatorTakeGradient takes an accumulator handle and an "
                        "int32 num_required")
    attrs["dtype"] = dtypes.as_dtype(attrs["dtype"])
    return [(dtypes.int64, TensorShape([None])), (attrs["dtype"], TensorShape(None)),
            (dtypes.int64, TensorShape([None]))]


registry.register_op("SparseConditionalAccumulator", infer=_accumulator_infer,
                     kernel="SparseConditionalAccumulator", num_inputs=0, stateful=True,
                     doc="An accumulator of IndexedSlices gradients (averaged per index).",
                     gradient=registry.NOT_DIFFERENTIABLE)
registry.register_op("SparseAccumulatorApplyGradient", infer=_sparse_apply_infer,
                     kernel="SparseAccumulatorApplyGradient", num_inputs=5, stateful=True,
                     doc="Adds an IndexedSlices gradient to a sparse accumulator.",
                     gradient=registry.NOT_DIFFERENTIABLE)
registry.register_op("SparseAccumulatorTakeGradient", infer=_sparse_take_infer,
                     kernel="SparseAccumulatorTakeGradient", num_inputs=2, stateful=True,
                     doc="Takes the reduced IndexedSlices gradient of a sparse accumulator.",
                     gradient=registry.NOT_DIFFERENTIABLE)


# The take's outputs, named as TF names them.
SparseTakeGradient = collections.namedtuple("SparseAccumulatorTakeGradient",
                                            ["indices", "values", "shape"])


class SparseConditionalAccumulator(ConditionalAccumulatorBase):
    """Accumulates `IndexedSlices` gradients (``tf.SparseConditionalAccumulator``).

    As `ConditionalAccumulator`, with gradients given as (indices, values, dense shape): a
    'MEAN' take divides each index's row sum by the number of gradients that had that index.
    Unlike TF's (a ``string_ref`` handle), the handle is a resource; the count and set-step
    ops are the resource accumulator's.

    Args:
      dtype: the gradients' type (float16, float32 or float64).
      shape: the dense shape of the gradients (None: any).
      shared_name: share the accumulator under this name between sessions' ops.
      name: the accumulator op's name.
      reduction_type: 'MEAN' or 'SUM'.

    Raises:
      ValueError: for another `reduction_type`.
      TypeError: for a non-floating `dtype`.
    """

    def __init__(self, dtype, shape=None, shared_name=None,
                 name="sparse_conditional_accumulator", reduction_type="MEAN"):
        super().__init__(*_create_accumulator("SparseConditionalAccumulator",
                                              "SparseConditionalAccumulator", dtype, shape,
                                              shared_name, name, reduction_type))

    def apply_grad(self, grad_indices, grad_values, grad_shape=None, local_step=0,
                   name=None):
        """An op that adds the gradient unless `local_step` is older than the global step.

        Args:
          grad_indices: int64 vector: the rows the values belong to.
          grad_values: the rows, ``[len(grad_indices), ...]`` of the accumulator's dtype.
          grad_shape: the dense shape (int64 vector) or None.
          local_step: the int64 step the gradient was computed at.
          name: the op name.

        Returns:
          The Operation; running it with rows of another shape, or an index beyond the dense
          shape, raises InvalidArgumentError.
        """
        with self._graph().as_default():
            indices = graph_lib.convert_to_tensor(grad_indices, dtype=dtypes.int64)
            values = graph_lib.convert_to_tensor(grad_values, dtype=self._dtype)
            shape = graph_lib.convert_to_tensor([] if grad_shape is None else grad_shape,
                                                dtype=dtypes.int64)
            step = graph_lib.convert_to_tensor(local_step, dtype=dtypes.int64)
        return self._state_op("SparseAccumulatorApplyGradient",
                              [step, indices, values, shape], name,
                              {"dtype": self._dtype, "has_known_shape": grad_shape is not None})

    def apply_indexed_slices_grad(self, grad, local_step=0, name=None):
        """`apply_grad` of an `IndexedSlices` (its indices, values and dense shape)."""
        return self.apply_grad(grad.indices, grad.values, grad.dense_shape, local_step, name)

    def take_grad(self, num_required, name=None):
        """(indices, values, shape) tensors: the reduced gradient once `num_required` are in.

        Running them blocks until then, clears the accumulator and advances its global step.
        Indices come out sorted; an unknown dense dimension is -1.
        """
        with self._graph().as_default():
            count = graph_lib.convert_to_tensor(num_required, dtype=dtypes.int32)
        op = self._state_op("SparseAccumulatorTakeGradient", [count], name,
                            {"dtype": self._dtype})
        return SparseTakeGradient(*op.outputs)

    def take_indexed_slices_grad(self, num_required, name=None):
        """`take_grad` as an `IndexedSlices`."""
        from sessionlib.framework.indexed_slices import IndexedSlices

        indices, values, shape = self.take_grad(num_required, name)
        return IndexedSlices(values, indices, shape)
