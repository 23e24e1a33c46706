"""Kernels of the queue ops, and the queue resource they operate on.

Design. A queue is a resource in the session's container (see ``state_kernels``): the queue op
(``FIFOQueueV2``, ``PaddingFIFOQueueV2``, ``RandomShuffleQueueV2``, ``PriorityQueueV2``) creates
it on first run and outputs its handle; the enqueue, dequeue, size and close ops take that
handle as input 0. Queue state is guarded by the container's lock, and every blocking kernel
waits on the container's ``changed`` condition through `RunContext.wait`, which also wakes up
for cancellation (`Session.close`) and for the run's deadline (``timeout_in_ms``). A blocked run
therefore holds no lock and stalls nothing but itself; other runs of the session proceed on
their own threads.

Ordering. As in TF, pending enqueues and pending dequeues are served in arrival order: each
blocked op takes a ticket in its queue's line and only the head of a line acts. The head of the
dequeue line takes elements as they arrive (so ``dequeue_many(n)`` works for n > capacity) and
puts them back at the front if it fails; likewise ``enqueue_many`` adds elements as room appears.

Values. Elements are tuples of numpy arrays. An enqueued writable array is copied (the caller or
the user may change it later); a read-only one is an immutable snapshot (a constant, a variable
read) and is stored as it is.

The graph side (inference, `FIFOQueue` & co.) is ``ops/data_flow_ops.py``; this module must
never import it.
"""

import collections
import heapq
import itertools

import numpy as np

from sessionlib import dtypes, errors
from sessionlib.framework.tensor_shape import TensorShape
from sessionlib.runtime.kernel_table import register_kernel
from sessionlib.runtime.kernels.state_kernels import (display_name, handle_key, make_handle,
                                                      resource_key)

__all__ = ["QueueResource", "AccumulatorResource", "SparseAccumulatorResource",
           "dequeue_work_unit"]


# ---- the queue resource ---------------------------------------------------------------------

class QueueResource:
    """A queue inside a `ResourceContainer`. All fields are guarded by the container's lock.

    Attributes:
      container, name: the TF container and the queue's name (for errors and resets).
      kind_name: 'FIFOQueue', 'PaddingFIFOQueue', 'RandomShuffleQueue' or 'PriorityQueue';
        it picks the order of `take` (and names the queue in error messages).
      capacity: the most elements it holds; None for unbounded.
      component_types, shapes: the element signature (`shapes` empty when unspecified).
      min_after_dequeue: for shuffling queues, how many elements a dequeue leaves behind
        while the queue is open.
      elements: a deque (FIFO), a list (shuffling) of element tuples, or a heap (priority) of
        (priority, arrival number, element) entries.
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
        self.priority = kind_name == "PriorityQueue"
        self.elements = [] if self.shuffle or self.priority else collections.deque()
        # Ties in priority leave in arrival order (TF leaves their order unspecified).
        self.arrivals = itertools.count()
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
        if self.priority:
            heapq.heappush(self.elements, (int(element[0]), next(self.arrivals), element))
        else:
            self.elements.append(element)

    def take(self):
        if self.priority:
            return heapq.heappop(self.elements)[2]
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
        if self.priority:
            for element in taken:
                self.put(element)
        elif self.shuffle:
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


def _lookup(ctx, handle, resource_class, what):
    """The `resource_class` resource of `handle`; NotFoundError (TF's) when there is none."""
    key = handle_key(handle)
    resource = ctx.resources.lookup(key)
    if not isinstance(resource, resource_class):
        raise errors.NotFoundError(None, None, f"{what} {display_name(key)} does not exist.")
    return resource


def _lookup_queue(ctx, handle):
    return _lookup(ctx, handle, QueueResource, "Queue")


# ---- queue creation ops ---------------------------------------------------------------------

_UINT64_MASK = 0xFFFFFFFFFFFFFFFF


def _queue_kernel(kind_name):
    def kernel(ctx, inputs, attrs):
        # Without a shared name, each session gets one queue per op, like TF's per-kernel name.
        name = attrs["shared_name"] or attrs["_name"]
        key = resource_key("queue", attrs["container"], name)
        if kind_name == "RandomShuffleQueue":
            seed, seed2 = attrs.get("seed", 0), attrs.get("seed2", 0)
            # (0, 0) asks for a nondeterministic order; numpy seeds must not be negative.
            seed = [seed & _UINT64_MASK, seed2 & _UINT64_MASK] if seed or seed2 else None
            min_after_dequeue = attrs.get("min_after_dequeue", 0)
        else:
            seed, min_after_dequeue = None, 0
        component_types, shapes = list(attrs["component_types"]), list(attrs["shapes"])
        if kind_name == "PriorityQueue":
            # The priority is an implicit int64 scalar component in front of the op's types.
            component_types = [dtypes.int64] + component_types
            shapes = [TensorShape([])] + shapes

        def factory():
            return QueueResource(attrs["container"], name, kind_name, attrs["capacity"],
                                 component_types, shapes, min_after_dequeue, seed)

        queue = ctx.resources.get_or_create(key, factory)
        if (queue.kind_name != kind_name
                or queue.component_types != component_types):
            raise errors.InvalidArgumentError(
                None, None,
                f"Shared queue '{name}' has a different type or component types than "
                f"requested by {attrs['_name']}")
        return (make_handle(key),)

    return kernel


# ---- enqueue --------------------------------------------------------------------------------

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


# ---- dequeue --------------------------------------------------------------------------------

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


def _dequeue_kernel(ctx, inputs, attrs):
    queue = _lookup_queue(ctx, inputs[0])
    (element,) = _dequeue_elements(ctx, queue, 1, False, attrs)
    return element


def _padded_stack(arrays, dtype):
    """Stacks `arrays` of one rank, padding each to the largest size of every dimension with
    zeros (empty strings for strings), as a PaddingFIFOQueue's batches are."""
    padded_shape = tuple(max(sizes) for sizes in zip(*(a.shape for a in arrays)))
    if all(a.shape == padded_shape for a in arrays):
        return np.stack(arrays)
    batch = np.zeros((len(arrays),) + padded_shape, dtype=dtype)
    if dtype is dtypes.string.as_numpy_dtype:
        batch[...] = b""
    for row, array in zip(batch, arrays):
        row[tuple(slice(0, size) for size in array.shape)] = array
    return batch


def _batch_of(queue, elements):
    """Stacks element tuples into one batch per component (padded for a padding queue)."""
    if not elements:
        # Unknown dims of a padding queue's shapes are 0 in an empty batch.
        return tuple(np.zeros((0,) + tuple(d or 0 for d in s.as_list()),
                              dtype=t.as_numpy_dtype)
                     for t, s in zip(queue.component_types, queue.shapes))
    if queue.kind_name == "PaddingFIFOQueue":
        return tuple(_padded_stack([element[index] for element in elements],
                                   queue.component_types[index].as_numpy_dtype)
                     for index in range(len(queue.component_types)))
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

def _size_kernel(ctx, inputs, attrs):
    queue = _lookup_queue(ctx, inputs[0])
    with ctx.resources.lock:
        return (np.array(queue.size(), dtype=np.int32),)


def _is_closed_kernel(ctx, inputs, attrs):
    queue = _lookup_queue(ctx, inputs[0])
    with ctx.resources.lock:
        return (np.array(queue.closed),)


def _close_kernel(ctx, inputs, attrs):
    queue = _lookup_queue(ctx, inputs[0])
    with ctx.resources.lock:
        queue.closed = True
        if attrs["cancel_pending_enqueues"]:
            queue.cancel_epoch += 1
        ctx.resources.changed.notify_all()
    return ()


# These kernels only move resources and numpy arrays: the reference kernel is the fast one.
register_kernel("FIFOQueueV2", reference=_queue_kernel("FIFOQueue"))
register_kernel("RandomShuffleQueueV2", reference=_queue_kernel("RandomShuffleQueue"))
register_kernel("PaddingFIFOQueueV2", reference=_queue_kernel("PaddingFIFOQueue"))
register_kernel("PriorityQueueV2", reference=_queue_kernel("PriorityQueue"))
register_kernel("QueueEnqueueV2", reference=_enqueue_kernel)
register_kernel("QueueEnqueueManyV2", reference=_enqueue_many_kernel)
register_kernel("QueueDequeueV2", reference=_dequeue_kernel)
register_kernel("QueueDequeueManyV2", reference=_dequeue_many_kernel)
register_kernel("QueueDequeueUpToV2", reference=_dequeue_up_to_kernel)
register_kernel("QueueSizeV2", reference=_size_kernel)
register_kernel("QueueIsClosedV2", reference=_is_closed_kernel)
register_kernel("QueueCloseV2", reference=_close_kernel)


# ---- conditional accumulators ---------------------------------------------------------------

class AccumulatorResource:
    """A gradient accumulator inside a `ResourceContainer`, guarded by the container's lock.

    Attributes:
      container, name: the TF container and the accumulator's name.
      dtype, shape: the gradients' type and declared (possibly partial) `TensorShape`.
      reduction_type: 'MEAN' or 'SUM'.
      global_step: gradients computed at an older step are dropped.
      total, count: the sum of this step's gradients (None before the first) and how many.
    """

    def __init__(self, container, name, dtype, shape, reduction_type):
        self.container = container
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.reduction_type = reduction_type
        self.global_step = 0
        self.total = None
        self.count = 0
        self.released = False

    def check_shape(self, gradient):
        """Raises InvalidArgumentError unless `gradient` fits the declared and summed shapes."""
        if self.total is not None:
            expected = list(self.total.shape)
        elif self.shape.rank is not None:
            expected = self.shape.as_list()
        else:
            return
        got = gradient.shape
        if len(got) != len(expected) or any(e is not None and e != g
                                            for e, g in zip(expected, got)):
            raise errors.InvalidArgumentError(
                None, None, f"Shape mismatch: expected {_shape_text(expected)}, got "
                f"{_shape_text(got)}")

    def release(self):
        """Called when the session drops the accumulator: waiting takes end."""
        self.released = True


def _lookup_accumulator(ctx, handle):
    return _lookup(ctx, handle, AccumulatorResource, "Accumulator")


def _accumulator_kernel(ctx, inputs, attrs):
    dtype = attrs["dtype"]
    if dtype not in (dtypes.float16, dtypes.float32, dtypes.float64):
        raise errors.InvalidArgumentError(
            None, None, f"No conditional accumulator kernel for dtype {dtype.name} (TF has "
            "half, float and double ones)")
    name = attrs["shared_name"] or attrs["_name"]
    key = resource_key("accumulator", attrs["container"], name)
    accumulator = ctx.resources.get_or_create(
        key, lambda: AccumulatorResource(attrs["container"], name, dtype, attrs["shape"],
                                         attrs["reduction_type"]))
    if isinstance(accumulator, SparseAccumulatorResource) or accumulator.dtype != dtype:
        raise errors.InvalidArgumentError(
            None, None, f"Shared accumulator '{name}' has type {accumulator.dtype.name}, not "
            f"{dtype.name} as requested by {attrs['_name']}")
    return (make_handle(key),)


def _accumulator_apply_kernel(ctx, inputs, attrs):
    accumulator = _lookup_accumulator(ctx, inputs[0])
    if isinstance(accumulator, SparseAccumulatorResource):
        raise errors.InvalidArgumentError(
            None, None, f"Accumulator '{accumulator.name}' is sparse: apply to it with "
            "SparseAccumulatorApplyGradient")
    local_step, gradient = int(inputs[1]), inputs[2]
    with ctx.resources.lock:
        accumulator.check_shape(gradient)
        # A gradient of an older step is stale: TF drops it without an error.
        if local_step < accumulator.global_step:
            return ()
        if accumulator.total is None:
            accumulator.total = np.array(gradient, dtype=accumulator.dtype.as_numpy_dtype)
        else:
            accumulator.total += gradient
        accumulator.count += 1
        ctx.resources.changed.notify_all()
    return ()


def _accumulator_take_kernel(ctx, inputs, attrs):
    accumulator = _lookup_accumulator(ctx, inputs[0])
    if isinstance(accumulator, SparseAccumulatorResource):
        raise errors.InvalidArgumentError(
            None, None, f"Accumulator '{accumulator.name}' is sparse: take it with "
            "SparseAccumulatorTakeGradient")

    def take():
        total, count = accumulator.total, accumulator.count
        accumulator.total = None
        if accumulator.reduction_type == "MEAN":
            total = (total / count).astype(total.dtype, copy=False)
        return (total,)

    return _take_when_ready(ctx, accumulator, inputs[1], attrs, take)


def _take_when_ready(ctx, accumulator, required, attrs, take):
    """Waits until `accumulator` holds `required` gradients, then returns ``take()`` (called
    with the lock held) and starts the next step: no gradients, the global step one on."""
    required = int(required)
    if required < 1:
        raise errors.InvalidArgumentError(
            None, None, f"Argument num_required must be positive, but was {required}")
    resources = ctx.resources
    what = f"take_grad from accumulator '{accumulator.name}' (op {attrs['_name']})"
    with resources.lock:
        ctx.wait(resources.changed,
                 lambda: accumulator.released or accumulator.count >= required, what)
        if accumulator.released:
            raise errors.CancelledError(None, None,
                                        f"Accumulator '{accumulator.name}' was dropped")
        result = take()
        accumulator.count = 0
        accumulator.global_step += 1
        resources.changed.notify_all()
    return result


def _accumulator_count_kernel(ctx, inputs, attrs):
    accumulator = _lookup_accumulator(ctx, inputs[0])
    with ctx.resources.lock:
        return (np.array(accumulator.count, dtype=np.int32),)


def _accumulator_set_step_kernel(ctx, inputs, attrs):
    accumulator = _lookup_accumulator(ctx, inputs[0])
    with ctx.resources.lock:
        # TF only warns when the step goes back; it still takes the new step.
        accumulator.global_step = int(inputs[1])
    return ()


register_kernel("ResourceConditionalAccumulator", reference=_accumulator_kernel)
register_kernel("ResourceAccumulatorApplyGradient", reference=_accumulator_apply_kernel)
register_kernel("ResourceAccumulatorTakeGradient", reference=_accumulator_take_kernel)
register_kernel("ResourceAccumulatorNumAccumulated", reference=_accumulator_count_kernel)
register_kernel("ResourceAccumulatorSetGlobalStep", reference=_accumulator_set_step_kernel)


# ---- sparse conditional accumulators ----------------------------------------------------------

class SparseAccumulatorResource(AccumulatorResource):
    """An accumulator of `IndexedSlices` gradients: per index, the sum of the rows applied
    and how many gradients had that index (a MEAN divides each row by its own count).

    Attributes (beyond `AccumulatorResource`'s, whose `total` it leaves None):
      rows: a dict index -> [row sum, number of gradients with that index].
      row_shape: the shape of one row while rows are held (None after a take).
      dense_shape: the dense shape last given with a gradient (None if none was).
    """

    def __init__(self, container, name, dtype, shape, reduction_type):
        super().__init__(container, name, dtype, shape, reduction_type)
        self.rows = {}
        self.row_shape = None
        self.dense_shape = None

    def check_gradient(self, indices, values, dense_shape):
        """Raises InvalidArgumentError for a gradient that does not fit (TF's checks)."""
        if values.ndim < 1 or indices.ndim != 1 or len(indices) != values.shape[0]:
            raise errors.InvalidArgumentError(
                None, None, f"Shape mismatch: {len(indices)} indices for values of shape "
                f"{_shape_text(values.shape)}")
        declared = self.shape.as_list() if self.shape.rank is not None else None
        expected_rows = (list(self.row_shape) if self.row_shape is not None
                         else declared[1:] if declared is not None else None)
        got_rows = list(values.shape[1:])
        if expected_rows is not None and (
                len(expected_rows) != len(got_rows)
                or any(e is not None and e != g for e, g in zip(expected_rows, got_rows))):
            raise errors.InvalidArgumentError(
                None, None, f"Shape mismatch: expected values of shape "
                f"{_shape_text(['?'] + expected_rows)}, got {_shape_text(values.shape)}")
        limit = declared[0] if declared is not None else None
        if dense_shape is not None and len(dense_shape):
            limit = int(dense_shape[0]) if limit is None else limit
        if len(indices) and (int(indices.min()) < 0
                             or (limit is not None and int(indices.max()) >= limit)):
            raise errors.InvalidArgumentError(
                None, None, f"Shape mismatch: index out of range [0, {limit}): "
                f"{indices.tolist()}")

    def add(self, indices, values, dense_shape):
        numpy_dtype = self.dtype.as_numpy_dtype
        counted = set()
        for index, row in zip(indices.tolist(), values):
            entry = self.rows.get(index)
            if entry is None:
                self.rows[index] = [np.array(row, dtype=numpy_dtype), 1]
            else:
                entry[0] = entry[0] + row
                if index not in counted:
                    entry[1] += 1
            counted.add(index)
        self.row_shape = values.shape[1:]
        if dense_shape is not None and len(dense_shape):
            self.dense_shape = [int(d) for d in dense_shape]

    def take(self):
        """The reduced (indices, values, dense shape), and a fresh start."""
        numpy_dtype = self.dtype.as_numpy_dtype
        indices = sorted(self.rows)
        if indices:
            rows = [self.rows[i][0] / self.rows[i][1] if self.reduction_type == "MEAN"
                    else self.rows[i][0] for i in indices]
            values = np.stack(rows).astype(numpy_dtype, copy=False)
        else:
            values = np.zeros((0,) + tuple(self.row_shape or ()), dtype=numpy_dtype)
        if self.shape.rank is not None:
            known = self.dense_shape or [None] * self.shape.rank
            shape = [d if d is not None else (k if k is not None else -1)
                     for d, k in zip(self.shape.as_list(), known)]
        elif self.dense_shape is not None:
            shape = list(self.dense_shape)
        else:
            shape = [-1] + list(values.shape[1:])
        self.rows, self.row_shape, self.dense_shape = {}, None, None
        return (np.array(indices, dtype=np.int64), values, np.array(shape, dtype=np.int64))


def _sparse_accumulator_kernel(ctx, inputs, attrs):
    dtype = attrs["dtype"]
    name = attrs["shared_name"] or attrs["_name"]
    key = resource_key("accumulator", attrs["container"], name)
    accumulator = ctx.resources.get_or_create(
        key, lambda: SparseAccumulatorResource(attrs["container"], name, dtype,
                                               attrs["shape"], attrs["reduction_type"]))
    if not isinstance(accumulator, SparseAccumulatorResource) or accumulator.dtype != dtype:
        raise errors.InvalidArgumentError(
            None, None, f"Shared accumulator '{name}' is not a sparse accumulator of "
            f"{dtype.name} as requested by {attrs['_name']}")
    return (make_handle(key),)


def _lookup_sparse_accumulator(ctx, handle):
    accumulator = _lookup_accumulator(ctx, handle)
    if not isinstance(accumulator, SparseAccumulatorResource):
        raise errors.InvalidArgumentError(
            None, None, f"Accumulator '{accumulator.name}' is not a sparse accumulator")
    return accumulator


def _sparse_accumulator_apply_kernel(ctx, inputs, attrs):
    accumulator = _lookup_sparse_accumulator(ctx, inputs[0])
    local_step, indices, values, dense_shape = inputs[1:]
    dense_shape = dense_shape if attrs["has_known_shape"] else None
    with ctx.resources.lock:
        accumulator.check_gradient(indices, values, dense_shape)
        if int(local_step) < accumulator.global_step:
            return ()  # stale, dropped as TF drops it
        accumulator.add(indices, values, dense_shape)
        accumulator.count += 1
        ctx.resources.changed.notify_all()
    return ()


def _sparse_accumulator_take_kernel(ctx, inputs, attrs):
    accumulator = _lookup_sparse_accumulator(ctx, inputs[0])
    return _take_when_ready(ctx, accumulator, inputs[1], attrs, accumulator.take)


register_kernel("SparseConditionalAccumulator", reference=_sparse_accumulator_kernel)
register_kernel("SparseAccumulatorApplyGradient", reference=_sparse_accumulator_apply_kernel)
register_kernel("SparseAccumulatorTakeGradient", reference=_sparse_accumulator_take_kernel)
