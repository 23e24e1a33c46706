"""Queues: `QueueBase`, `FIFOQueue` and `RandomShuffleQueue`, with TF's op names and semantics.

Design. A queue is a resource in the session's container (see ``state_ops``): the queue op
(``FIFOQueueV2`` / ``RandomShuffleQueueV2``) creates it on first run and outputs its handle; the
enqueue, dequeue, size and close ops take that handle as input 0. Queue state is guarded by the
container's lock, and every blocking kernel waits on the container's ``changed`` condition
through `RunContext.wait`, which also wakes up for cancellation (`Session.close`) and for the
run's deadline (``timeout_in_ms``). A blocked run therefore holds no lock and stalls nothing but
itself; other runs of the session proceed on their own threads.

Ordering. As in TF, pending enqueues and pending dequeues are served in arrival order: each
blocked op takes a ticket in its queue's line and only the head of a line acts. The head of the
dequeue line takes elements as they arrive (so ``dequeue_many(n)`` works for n > capacity) and
puts them back at the front if it fails; likewise ``enqueue_many`` adds elements as room appears.

Values. Elements are tuples of numpy arrays. An enqueued writable array is copied (the caller or
the user may change it later); a read-only one is an immutable snapshot (a constant, a variable
read) and is stored as it is.
"""

import collections

import numpy as np

from sessionlib import dtypes, errors
from sessionlib.framework import graph as graph_lib
from sessionlib.framework import registry, tensor_util
from sessionlib.framework.tensor_shape import TensorShape, as_shape
from sessionlib.ops import state_ops

__all__ = ["QueueBase", "FIFOQueue", "RandomShuffleQueue", "dequeue_work_unit"]

_UINT64_MASK = 0xFFFFFFFFFFFFFFFF


# ---- the queue resource ---------------------------------------------------------------------

class QueueResource:
    """A queue inside a `ResourceContainer`. All fields are guarded by the container's lock.

    Attributes:
      container, name: the TF container and the queue's name (for errors and resets).
      kind_name: 'FIFOQueue' or 'RandomShuffleQueue', for error messages.
      capacity: the most elements it holds; None for unbounded.
      component_types, shapes: the element signature (`shapes` empty when unspecified).
      min_after_dequeue: for shuffling queues, how many elements a dequeue leaves behind
        while the queue is open.
      elements: a deque (FIFO) or list (shuffling) of element tuples.
      closed: whether `close` ran; `cancel_epoch` grows when pending enqueues are cancelled.
      enqueue_line, dequeue_line: the tickets of the blocked enqueues and dequeues, in order.
    """

    def __init__(self, container, name, kind_name, capacity, component_types, shapes,
                 min_after_dequeue=0, seed=None):
        self.container = container
        self.name = name
        self.kind_name = kind_name
        self.capacity = capacity if capacity is not None and capacity >= 0 else None
        self.component_types = list(component_types)
        self.shapes = list(shapes)
        self.min_after_dequeue = min_after_dequeue
        self.shuffle = kind_name == "RandomShuffleQueue"
        self.elements = [] if self.shuffle else collections.deque()
        self.rng = np.random.default_rng(seed) if self.shuffle else None
        self.closed = False
        self.cancel_epoch = 0
        self.enqueue_line = collections.deque()
        self.dequeue_line = collections.deque()

    def size(self):
        return len(self.elements)

    def room(self):
        if self.capacity is None:
            return 1 << 62
        return self.capacity - len(self.elements)

    def available(self):
        """How many elements a dequeue may take now."""
        if self.shuffle and not self.closed:
            return max(0, len(self.elements) - self.min_after_dequeue)
        return len(self.elements)

    def put(self, element):
        self.elements.append(element)

    def take(self):
        if self.shuffle:
            index = int(self.rng.integers(len(self.elements)))
            last = self.elements.pop()
            if index == len(self.elements):
                return last
            element, self.elements[index] = self.elements[index], last
            return element
        return self.elements.popleft()

    def restore(self, taken):
        """Puts elements taken by a failed dequeue back, in their original order."""
        if self.shuffle:
            self.elements.extend(taken)
        else:
            self.elements.extendleft(reversed(taken))

    def closed_error(self):
        return errors.CancelledError(None, None, f"{self.kind_name} '{self.name}' is closed.")

    def insufficient_error(self, requested):
        return errors.OutOfRangeError(
            None, None,
            f"{self.kind_name} '{self.name}' is closed and has insufficient elements "
            f"(requested {requested}, current size {len(self.elements)})")

    def release(self):
        """Called when the session drops the queue: nothing may wait on it any more."""
        self.closed = True


def _lookup_queue(ctx, handle):
    key = state_ops.handle_key(handle)
    queue = ctx.resources.lookup(key)
    if not isinstance(queue, QueueResource):
        raise errors.NotFoundError(None, None,
                                   f"Queue {state_ops.display_name(key)} does not exist.")
    return queue


# ---- queue creation ops ---------------------------------------------------------------------

def _queue_infer(inputs, attrs):
    attrs["component_types"] = [dtypes.as_dtype(d) for d in attrs["component_types"]]
    attrs["shapes"] = [as_shape(s) for s in attrs.get("shapes", [])]
    attrs.setdefault("capacity", -1)
    attrs.setdefault("container", "")
    attrs.setdefault("shared_name", "")
    return [(dtypes.resource, TensorShape([]))]


def _queue_kernel(kind_name):
    def kernel(ctx, inputs, attrs):
        # Without a shared name, each session gets one queue per op, like TF's per-kernel name.
        name = attrs["shared_name"] or attrs["_name"]
        key = state_ops.resource_key("queue", attrs["container"], name)
        if kind_name == "RandomShuffleQueue":
            seed, seed2 = attrs.get("seed", 0), attrs.get("seed2", 0)
            # (0, 0) asks for a nondeterministic order; numpy seeds must not be negative.
            seed = [seed & _UINT64_MASK, seed2 & _UINT64_MASK] if seed or seed2 else None
            min_after_dequeue = attrs.get("min_after_dequeue", 0)
        else:
            seed, min_after_dequeue = None, 0

        def factory():
            return QueueResource(attrs["container"], name, kind_name, attrs["capacity"],
                                 attrs["component_types"], attrs["shapes"], min_after_dequeue,
                                 seed)

        queue = ctx.resources.get_or_create(key, factory)
        if (queue.kind_name != kind_name
                or queue.component_types != list(attrs["component_types"])):
            raise errors.InvalidArgumentError(
                None, None,
                f"Shared queue '{name}' has a different type or component types than "
                f"requested by {attrs['_name']}")
        return (state_ops.make_handle(key),)

    return kernel


registry.register_op("FIFOQueueV2", infer=_queue_infer, reference=_queue_kernel("FIFOQueue"),
                     num_inputs=0, stateful=True, doc="A first-in first-out queue.")
registry.register_op("RandomShuffleQueueV2", infer=_queue_infer,
                     reference=_queue_kernel("RandomShuffleQueue"), num_inputs=0,
                     stateful=True, doc="A queue that dequeues elements in random order.")


# ---- enqueue ----------------------------------------------------------------------------------

def _enqueue_infer(op_type):
    def infer(inputs, attrs):
        if not inputs or inputs[0].dtype is not dtypes.resource:
            raise TypeError(f"{op_type} takes a queue handle as its first input")
        attrs["Tcomponents"] = [t.dtype for t in inputs[1:]]
        attrs.setdefault("timeout_ms", -1)
        return []

    return infer


def _shape_text(shape):
    return "[" + ",".join(str(d) for d in shape) + "]"


def _check_component(queue, index, array, shape):
    """Raises InvalidArgumentError when `shape` (of one element) does not fit the queue."""
    expected_dtype = queue.component_types[index]
    if expected_dtype is not dtypes.string and array.dtype != expected_dtype.as_numpy_dtype:
        raise errors.InvalidArgumentError(
            None, None, f"Type mismatch in tuple component {index}. Expected "
            f"{expected_dtype.name}, got {array.dtype}")
    if queue.shapes:
        expected = queue.shapes[index]
        if expected.rank is not None and (
                len(shape) != expected.rank
                or any(d is not None and d != s for d, s in zip(expected.as_list(), shape))):
            raise errors.InvalidArgumentError(
                None, None, f"Shape mismatch in tuple component {index}. Expected "
                f"{_shape_text(expected.as_list())}, got {_shape_text(shape)}")


def _snapshot(array):
    """`array` if it is an immutable snapshot (read-only), else a private copy."""
    return array if not array.flags.writeable else array.copy()


def _wait_turn(ctx, line, ready, what):
    """Waits (lock held) until this caller heads `line` and `ready()`; returns its ticket."""
    ticket = object()
    line.append(ticket)
    try:
        ctx.wait(ctx.resources.changed, lambda: line[0] is ticket and ready(), what)
    except BaseException:
        line.remove(ticket)
        ctx.resources.changed.notify_all()
        raise
    return ticket


def _enqueue_elements(ctx, queue, elements, attrs):
    """Adds `elements` (a list of tuples) in order, waiting for room as needed."""
    resources = ctx.resources
    what = f"enqueue into {queue.kind_name} '{queue.name}' (op {attrs['_name']})"
    with resources.lock:
        if queue.closed:
            raise queue.closed_error()
        epoch = queue.cancel_epoch
        line = queue.enqueue_line
        index = 0
        ticket = _wait_turn(ctx, line,
                            lambda: queue.cancel_epoch != epoch or queue.room() > 0, what)
        try:
            while True:
                if queue.cancel_epoch != epoch:
                    raise errors.CancelledError(
                        None, None, f"Enqueue operation was cancelled (queue '{queue.name}' "
                        "was closed with cancel_pending_enqueues=True)")
                while index < len(elements) and queue.room() > 0:
                    queue.put(elements[index])
                    index += 1
                resources.changed.notify_all()
                if index == len(elements):
                    return
                ctx.wait(resources.changed,
                         lambda: queue.cancel_epoch != epoch or queue.room() > 0, what)
        finally:
            line.remove(ticket)
            resources.changed.notify_all()


def _queue_and_components(ctx, inputs):
    """The queue of an enqueue's handle input, and its component inputs (checked count)."""
    queue = _lookup_queue(ctx, inputs[0])
    components = inputs[1:]
    if len(components) != len(queue.component_types):
        raise errors.InvalidArgumentError(
            None, None, f"Enqueue of {len(components)} components into a queue of "
            f"{len(queue.component_types)}")
    return queue, components


def _enqueue_kernel(ctx, inputs, attrs):
    queue, components = _queue_and_components(ctx, inputs)
    for index, array in enumerate(components):
        _check_component(queue, index, array, array.shape)
    _enqueue_elements(ctx, queue, [tuple(_snapshot(a) for a in components)], attrs)
    return ()


def _enqueue_many_kernel(ctx, inputs, attrs):
    queue, components = _queue_and_components(ctx, inputs)
    batch = None
    for index, array in enumerate(components):
        if array.ndim == 0:
            raise errors.InvalidArgumentError(
                None, None, f"Shape mismatch in tuple component {index}. Expected "
                "[batch_size, ...], got a scalar")
        if batch is None:
            batch = array.shape[0]
        elif array.shape[0] != batch:
            raise errors.InvalidArgumentError(
                None, None, f"Shape mismatch in tuple component {index}. Expected batch size "
                f"{batch}, got {array.shape[0]}")
        _check_component(queue, index, array, array.shape[1:])
    # A writable batch is copied once; its rows are then views of that private copy.
    private = [a if not a.flags.writeable else a.copy() for a in components]
    for array in private:
        array.flags.writeable = False
    # `a[i, ...]` (not `a[i]`) keeps a 0-d row an array, which an element must be.
    elements = [tuple(a[i, ...] for a in private) for i in range(batch or 0)]
    if elements:
        _enqueue_elements(ctx, queue, elements, attrs)
    else:
        with ctx.resources.lock:
            if queue.closed:
                raise queue.closed_error()
    return ()


registry.register_op("QueueEnqueueV2", infer=_enqueue_infer("QueueEnqueueV2"),
                     reference=_enqueue_kernel, stateful=True,
                     doc="Adds one element to a queue.")
registry.register_op("QueueEnqueueManyV2", infer=_enqueue_infer("QueueEnqueueManyV2"),
                     reference=_enqueue_many_kernel, stateful=True,
                     doc="Adds the slices of a batch to a queue.")


# ---- dequeue ----------------------------------------------------------------------------------

def _dequeue_elements(ctx, queue, count, allow_smaller, attrs):
    """Takes `count` elements in arrival order of the dequeuers.

    Returns the list of element tuples (fewer than `count` only when `allow_smaller` and the
    queue is closed).

    Raises:
      OutOfRangeError: when the queue is closed with too few elements left.
    """
    resources = ctx.resources
    what = f"dequeue from {queue.kind_name} '{queue.name}' (op {attrs['_name']})"
    taken = []
    with resources.lock:
        if count == 0:
            return taken
        line = queue.dequeue_line
        ticket = _wait_turn(ctx, line,
                            lambda: queue.available() > 0 or queue.closed, what)
        try:
            while True:
                while len(taken) < count and queue.available() > 0:
                    taken.append(queue.take())
                if taken:
                    resources.changed.notify_all()  # room for blocked enqueues
                if len(taken) == count:
                    return taken
                if queue.closed:
                    if allow_smaller and taken:
                        return taken
                    queue.restore(taken)
                    taken = []
                    raise queue.insufficient_error(count)
                ctx.wait(resources.changed,
                         lambda: queue.available() > 0 or queue.closed, what)
        except BaseException:
            queue.restore(taken)
            raise
        finally:
            line.remove(ticket)
            resources.changed.notify_all()


def _dequeue_infer(inputs, attrs):
    if inputs[0].dtype is not dtypes.resource:
        raise TypeError("Dequeue takes a queue handle as its first input")
    attrs["component_types"] = [dtypes.as_dtype(d) for d in attrs["component_types"]]
    attrs.setdefault("timeout_ms", -1)
    # The queue's element shapes are not attrs of the dequeue op; the wrapper sets them.
    return [(dtype, TensorShape(None)) for dtype in attrs["component_types"]]


def _dequeue_kernel(ctx, inputs, attrs):
    queue = _lookup_queue(ctx, inputs[0])
    (element,) = _dequeue_elements(ctx, queue, 1, False, attrs)
    return element


def _batch_of(queue, elements):
    """Stacks element tuples into one batch per component (shapes are fully defined)."""
    if not elements:
        return tuple(np.zeros((0,) + tuple(s.as_list()), dtype=t.as_numpy_dtype)
                     for t, s in zip(queue.component_types, queue.shapes))
    return tuple(np.stack([element[index] for element in elements])
                 for index in range(len(queue.component_types)))


def _count_input(array):
    count = int(array)
    if count < 0:
        raise errors.InvalidArgumentError(None, None, f"Dequeue count must be >= 0, got {count}")
    return count


def _require_shapes(queue):
    if not queue.shapes:
        raise errors.InvalidArgumentError(
            None, None, f"{queue.kind_name}'s DequeueMany and DequeueUpTo require the "
            "components to have specified shapes.")


def _dequeue_many_kernel(ctx, inputs, attrs):
    queue = _lookup_queue(ctx, inputs[0])
    _require_shapes(queue)
    count = _count_input(inputs[1])
    return _batch_of(queue, _dequeue_elements(ctx, queue, count, False, attrs))


def _dequeue_up_to_kernel(ctx, inputs, attrs):
    queue = _lookup_queue(ctx, inputs[0])
    _require_shapes(queue)
    count = _count_input(inputs[1])
    return _batch_of(queue, _dequeue_elements(ctx, queue, count, True, attrs))


registry.register_op("QueueDequeueV2", infer=_dequeue_infer, reference=_dequeue_kernel,
                     num_inputs=1, stateful=True, doc="Takes one element from a queue.")
registry.register_op("QueueDequeueManyV2", infer=_dequeue_infer,
                     reference=_dequeue_many_kernel, num_inputs=2, stateful=True,
                     doc="Takes n elements from a queue, as a batch.")
registry.register_op("QueueDequeueUpToV2", infer=_dequeue_infer,
                     reference=_dequeue_up_to_kernel, num_inputs=2, stateful=True,
                     doc="Takes up to n elements from a queue once it is closed.")


def dequeue_work_unit(ctx, queue_handle, attrs):
    """Dequeues one scalar string for a reader (TF's ReaderBase::GetNextWorkLocked).

    Raises:
      OutOfRangeError: when the queue is closed and empty.
      InvalidArgumentError: when the element is not one scalar string.
    """
    queue = _lookup_queue(ctx, queue_handle)
    (element,) = _dequeue_elements(ctx, queue, 1, False, attrs)
    if len(element) != 1 or element[0].ndim != 0 or element[0].dtype != object:
        raise errors.InvalidArgumentError(
            None, None, "Expected to dequeue a one-element string tensor, got "
            f"{len(element)} components")
    work = element[0][()]
    return work if isinstance(work, bytes) else str(work).encode("utf-8")


# ---- size, close, is_closed -----------------------------------------------------------------

def _handle_only_infer(dtype):
    return state_ops.handle_only_infer("queue", dtype)


def _size_kernel(ctx, inputs, attrs):
    queue = _lookup_queue(ctx, inputs[0])
    with ctx.resources.lock:
        return (np.array(queue.size(), dtype=np.int32),)


def _is_closed_kernel(ctx, inputs, attrs):
    queue = _lookup_queue(ctx, inputs[0])
    with ctx.resources.lock:
        return (np.array(queue.closed),)


def _close_infer(inputs, attrs):
    attrs.setdefault("cancel_pending_enqueues", False)
    return _handle_only_infer(None)(inputs, attrs)


def _close_kernel(ctx, inputs, attrs):
    queue = _lookup_queue(ctx, inputs[0])
    with ctx.resources.lock:
        queue.closed = True
        if attrs["cancel_pending_enqueues"]:
            queue.cancel_epoch += 1
        ctx.resources.changed.notify_all()
    return ()


registry.register_op("QueueSizeV2", infer=_handle_only_infer(dtypes.int32),
                     reference=_size_kernel, num_inputs=1, stateful=True,
                     doc="The number of elements in a queue.")
registry.register_op("QueueIsClosedV2", infer=_handle_only_infer(dtypes.bool),
                     reference=_is_closed_kernel, num_inputs=1, stateful=True,
                     doc="Whether a queue is closed.")
registry.register_op("QueueCloseV2", infer=_close_infer, reference=_close_kernel,
                     num_inputs=1, stateful=True, doc="Closes a queue.")


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
