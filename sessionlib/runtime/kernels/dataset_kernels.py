"""Kernels of the ``tf.data`` iterator ops, and the iterator resource that runs a pipeline.

Design. A dataset never becomes a tensor here (TF's variant). The graph side
(``sessionlib/data``) lowers a `Dataset` into a *description*: a tree of plain tuples
``(kind, args, inputs)`` that the op ``MakeIterator`` (or ``OneShotIterator``) carries as its
``dataset`` attr, whose tensors (the arrays of `from_tensor_slices`, a range's bounds, file
names) are the op's inputs, referred to in the description by their index ("captures"). The
kernel builds the pipeline from the description and the captured values and stores it in the
iterator resource (one per iterator op and session, in the session's `ResourceContainer`, as
queues are); ``IteratorGetNext`` pulls the next element from it. Elements are tuples of numpy
arrays: the flat components; nesting (tuples, dicts) is the graph side's business.

Functions. `map`, `filter`, `interleave` and `flat_map` carry user functions that the graph
side traced once, on placeholders, into a private sub-graph (``{"graph", "inputs", "outputs"}``
in the description). `_Function` compiles that sub-graph into a plan with the runtime's plan
compiler and runs it on the session's executor with the iterator's run context, so its
kernels (and its errors) are the session's own; it runs on whatever thread pulls elements
(the caller's, a `prefetch` thread or a parallel `map` worker).

Batches. `batch` asks its input for whole slabs (`_Node.batches`): tensor slices cut them
with one slice per component, `repeat` joins them across epochs, and a `map` whose function
is elementwise (every op elementwise, only scalar constants besides the element) maps a whole
slab in one call, which gives the values of mapping element by element. Other nodes stack
elements one by one. This keeps the per-batch Python work of the common
``from_tensor_slices -> map -> batch -> prefetch`` pipeline small and constant, which matters
because the pipeline thread shares the GIL with the training step.

Life cycle. A pipeline is a chain of `_Node`s made per initialization; `iterate()` on a node
starts a fresh pass over it (a new epoch for `repeat`), with Python generators doing the
work. `prefetch` and parallel `map` start threads; they stop when the pipeline is replaced
(re-initialization), when the session drops the resource (`release`, on `Session.close` or
`reset`) or when the session's runs are cancelled, so no thread outlives its session.

The graph side is ``ops/dataset_ops.py`` and ``sessionlib/data``; this module never imports
them. The description's contract is in ``sessionlib/data/dataset_ops.py``.
"""

import collections
import concurrent.futures
import queue as queue_lib
import threading

import numpy as np

from sessionlib import dtypes, errors
from sessionlib.framework import registry, tensor_bundle
from sessionlib.lib_io import tf_record
from sessionlib.runtime import fusion
from sessionlib.runtime import plan as plan_lib
from sessionlib.runtime.executor import get_executor, default_executor_name
from sessionlib.runtime.failures import NodeFailure, node_error
from sessionlib.runtime.kernel_table import register_kernel
from sessionlib.runtime.kernels.state_kernels import (display_name, handle_key, make_handle,
                                                      resource_key)

__all__ = ["IteratorResource"]

_END = object()  # the end-of-sequence marker of a prefetch buffer


def _end_of_sequence():
    return errors.OutOfRangeError(None, None, "End of sequence")


# ---- functions ------------------------------------------------------------------------------

class _Function:
    """A traced user function: its sub-graph compiled once into a plan, run per element.

    Its inputs are the element's components, then the tensors it captured from the outer
    graph (``spec["capture_inputs"]``), whose values `captures` holds from the iterator's
    initialization (``spec["captured"]`` indexes them): they are fed with every element.
    """

    def __init__(self, spec, env, captures):
        self._env = env
        element_inputs = list(spec["inputs"])
        capture_inputs = list(spec.get("capture_inputs", ()))
        self._inputs = element_inputs + capture_inputs
        self._captured = tuple(captures[index] for index in spec.get("captured", ()))
        self._outputs = list(spec["outputs"])
        order = plan_lib.prune(self._inputs, self._outputs, ())
        self._plan, self._feed_slots, self._fetch_slots = plan_lib.compile_plan(
            order, self._inputs, self._outputs)
        self._ops = order
        executor = get_executor(default_executor_name())
        self._bound = executor.bind(self._plan)
        self._run_plan = executor.run_plan
        # A captured scalar is a constant of the function, as far as mapping a batch goes.
        scalars = {tensor for tensor, value in zip(capture_inputs, self._captured)
                   if np.ndim(value) == 0 and not isinstance(value, bytes)
                   and tensor.dtype is not dtypes.resource}
        self.vectorizable = len(scalars) == len(capture_inputs) and _is_elementwise(
            order, element_inputs, self._outputs, scalars)

    def __call__(self, element):
        slots = [None] * self._plan.num_slots
        for number, value in zip(self._feed_slots, element + self._captured):
            slots[number] = value
        try:
            self._run_plan(self._bound, slots, self._env.ctx, NodeFailure)
        except NodeFailure as failure:
            devices = ["/job:localhost/replica:0/task:0/device:CPU:0"] * len(self._ops)
            raise node_error(self._plan, failure.plan_node, self._ops, devices, failure.cause,
                             failure.origin) from None
        return tuple(slots[number] for number in self._fetch_slots)


# Elementwise ops that have no `fusion` name in the registry.
_ELEMENTWISE_EXTRA = frozenset(("Cast", "Identity"))


def _is_elementwise_op(op):
    if op.type in _ELEMENTWISE_EXTRA:
        return True
    name = registry.get(op.type).fusion
    return name in fusion.OPCODES and name not in fusion.REDUCTIONS


def _is_elementwise(order, inputs, outputs, scalars=frozenset()):
    """Whether the function maps a batch of elements as it maps each one: every op is
    elementwise, its only non-element inputs are scalar constants (or `scalars`, captured
    scalars), and element-derived inputs of one op have one fully defined shape (so no
    broadcasting mixes elements). Then `map` followed by `batch` runs the function once per
    batch (the same values, computed once)."""
    derived = set(inputs)
    for tensor in inputs:
        if tensor.shape.rank is None:
            return False
    for op in order:
        if op.type == "Placeholder" and all(t in derived or t in scalars for t in op.outputs):
            continue
        if op.type == "Const":
            if any(t.shape.rank != 0 for t in op.outputs):
                return False
            continue
        if not _is_elementwise_op(op) or len(op.outputs) != 1 or op._control_inputs:
            return False
        element_inputs = [t for t in op.inputs if t in derived]
        constants = [t for t in op.inputs if t not in derived]
        if any(t not in scalars and (t.op.type != "Const" or t.shape.rank != 0)
               for t in constants):
            return False
        if not element_inputs:
            return False
        if len(element_inputs) > 1:
            shapes = {tuple(t.shape.as_list()) if t.shape.is_fully_defined() else None
                      for t in element_inputs}
            if None in shapes or len(shapes) != 1:
                return False
        derived.add(op.outputs[0])
    return all(t in derived for t in outputs)


class _Env:
    """What the nodes of one pipeline share: the run context of the op that initialized it,
    and the threads to stop when the pipeline goes away."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.stopped = threading.Event()
        self._stoppers = []
        self._lock = threading.Lock()

    def on_stop(self, stopper):
        with self._lock:
            self._stoppers.append(stopper)

    def forget(self, stopper):
        """Drops a stopper whose threads already ended (a pass inside `repeat` finished)."""
        with self._lock:
            if stopper in self._stoppers:
                self._stoppers.remove(stopper)

    def stop(self):
        self.stopped.set()
        with self._lock:
            stoppers, self._stoppers = self._stoppers, []
        for stopper in stoppers:
            stopper()

    def check(self):
        if self.stopped.is_set():
            raise errors.CancelledError(None, None, "The iterator was reset or closed.")
        self.ctx.check_cancelled()


# ---- the nodes ------------------------------------------------------------------------------

def _readonly(array):
    array = np.asarray(array)
    if array.flags.writeable:
        array = array.view()
        array.flags.writeable = False
    return array


class _Node:
    """One dataset of a pipeline; `iterate()` starts a pass over its elements.

    `batches(size, drop_remainder)` starts a pass over its elements stacked `size` at a time
    (what `batch` yields). By default it stacks the elements one by one; the sources that can
    cut whole slabs (tensor slices), and the nodes that keep slabs whole (`repeat`, an
    elementwise `map`), override it, so that a `from_tensor_slices -> map -> batch` pipeline
    does a few numpy calls per batch instead of Python work per element.
    """

    def iterate(self):
        raise NotImplementedError

    def batches(self, size, drop_remainder):
        elements = []
        for element in self.iterate():
            elements.append(element)
            if len(elements) == size:
                yield _stack(elements)
                elements = []
        if elements and not drop_remainder:
            yield _stack(elements)


def _slab_length(slab):
    return slab[0].shape[0]


def _rebatch(slabs, size, drop_remainder):
    """Slabs of any length (an iterator) cut and joined into slabs of exactly `size`."""
    pending, count = [], 0
    for slab in slabs:
        length = _slab_length(slab)
        if not pending and length == size:
            yield slab
            continue
        pending.append(slab)
        count += length
        while count >= size:
            joined = (pending[0] if len(pending) == 1 else
                      tuple(np.concatenate(parts) for parts in zip(*pending)))
            yield tuple(c[:size] for c in joined)
            count -= size
            pending = [tuple(c[size:] for c in joined)] if count else []
    if pending and not drop_remainder:
        yield (pending[0] if len(pending) == 1 else
               tuple(np.concatenate(parts) for parts in zip(*pending)))


class _TensorSlices(_Node):
    def __init__(self, components):
        self.components = [_readonly(c) for c in components]
        sizes = {c.shape[0] if c.ndim else None for c in self.components}
        if None in sizes or len(sizes) != 1:
            raise errors.InvalidArgumentError(
                None, None, "All components of from_tensor_slices must have the same size in "
                f"dimension 0, got shapes {[list(c.shape) for c in self.components]}")
        self.size = sizes.pop()

    def iterate(self):
        components = self.components
        for index in range(self.size):
            yield tuple(c[index, ...] for c in components)

    def batches(self, size, drop_remainder):
        components = self.components
        for start in range(0, self.size, size):
            if drop_remainder and start + size > self.size:
                return
            yield tuple(c[start:start + size] for c in components)


class _Tensors(_Node):
    def __init__(self, components):
        self.element = tuple(_readonly(c) for c in components)

    def iterate(self):
        yield self.element


class _Range(_Node):
    def __init__(self, start, stop, step, dtype):
        if step == 0:
            raise errors.InvalidArgumentError(None, None, "step must be a non-zero integer.")
        self.args = (start, stop, step)
        self.dtype = dtype.as_numpy_dtype

    def iterate(self):
        dtype = self.dtype
        for value in range(*self.args):
            yield (np.array(value, dtype=dtype),)


def _converted(values, types, shapes, what):
    """`values` (flat) as numpy arrays of `types`, checked against `shapes`."""
    element = []
    for index, (value, dtype, shape) in enumerate(zip(values, types, shapes)):
        if dtype is dtypes.string:
            array = np.array(value, dtype=object)
            array = np.vectorize(lambda s: s.encode() if isinstance(s, str) else s,
                                 otypes=[object])(array) if array.size else array
        else:
            try:
                array = np.asarray(value, dtype=dtype.as_numpy_dtype)
            except (TypeError, ValueError) as error:
                raise errors.InvalidArgumentError(
                    None, None, f"{what}: could not convert {value!r} to {dtype.name}: "
                    f"{error}") from None
        if shape is not None and (len(shape) != array.ndim or any(
                d is not None and d != s for d, s in zip(shape, array.shape))):
            raise errors.InvalidArgumentError(
                None, None, f"`{what}` yielded an element of shape {list(array.shape)} where "
                f"an element of shape {[d if d is not None else -1 for d in shape]} was "
                "expected.")
        element.append(array)
    if len(element) != len(types):
        raise errors.InvalidArgumentError(
            None, None, f"{what} yielded an element with {len(element)} components, expected "
            f"{len(types)}")
    return tuple(element)


class _Generator(_Node):
    def __init__(self, generator, flatten, types, shapes, env):
        self.generator, self.flatten = generator, flatten
        self.types, self.shapes = types, shapes
        self.env = env

    def iterate(self):
        for value in self.generator():
            self.env.check()
            try:
                flat = self.flatten(value)
            except (TypeError, KeyError, IndexError) as error:
                raise errors.InvalidArgumentError(
                    None, None, f"`generator` yielded an element that did not match the "
                    f"expected structure: {error}") from None
            yield _converted(flat, self.types, self.shapes, "generator")


class _Zip(_Node):
    def __init__(self, children):
        self.children = children

    def iterate(self):
        iterators = [child.iterate() for child in self.children]
        while True:
            element = ()
            for iterator in iterators:
                part = next(iterator, _END)
                if part is _END:
                    return
                element += part
            yield element


class _Concatenate(_Node):
    def __init__(self, children):
        self.children = children

    def iterate(self):
        for child in self.children:
            yield from child.iterate()


class _Map(_Node):
    def __init__(self, child, function, parallel, env):
        self.child, self.function, self.parallel, self.env = child, function, parallel, env

    def iterate(self):
        function = self.function
        if self.parallel <= 1:
            for element in self.child.iterate():
                yield function(element)
            return
        # Ordered parallel map: up to `parallel` elements in flight, results in input order.
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=self.parallel,
                                                     thread_name_prefix="tf.data.map")
        stop = lambda: pool.shutdown(wait=False, cancel_futures=True)  # noqa: E731
        self.env.on_stop(stop)
        pending = collections.deque()
        try:
            source = self.child.iterate()
            exhausted = False
            while True:
                while not exhausted and len(pending) < self.parallel:
                    element = next(source, _END)
                    if element is _END:
                        exhausted = True
                    else:
                        pending.append(pool.submit(function, element))
                if not pending:
                    return
                yield pending.popleft().result()
        finally:
            stop()
            self.env.forget(stop)

    def batches(self, size, drop_remainder):
        if not self.function.vectorizable:
            return super().batches(size, drop_remainder)
        function = self.function
        return (function(slab) for slab in self.child.batches(size, drop_remainder))


class _Filter(_Node):
    def __init__(self, child, predicate):
        self.child, self.predicate = child, predicate

    def iterate(self):
        predicate = self.predicate
        for element in self.child.iterate():
            (keep,) = predicate(element)
            if keep.shape != ():
                raise errors.InvalidArgumentError(
                    None, None, "Filter predicate `predicate` must return a scalar bool.")
            if keep:
                yield element


def _stack(elements):
    batch = []
    first = elements[0]
    for index in range(len(first)):
        parts = [element[index] for element in elements]
        for number, part in enumerate(parts):
            if part.shape != first[index].shape:
                raise errors.InvalidArgumentError(
                    None, None, f"Cannot batch tensors with different shapes in component "
                    f"{index}. First element had shape {list(first[index].shape)} and element "
                    f"{number} had shape {list(part.shape)}.")
        batch.append(np.stack(parts))
    return tuple(batch)


class _Batch(_Node):
    def __init__(self, child, size, drop_remainder, pad=None):
        if size <= 0:
            raise errors.InvalidArgumentError(None, None, "Batch size must be greater than zero.")
        self.child, self.size, self.drop_remainder = child, size, drop_remainder
        self.pad = pad  # None, or (padded_shapes, padding_values) for padded_batch

    def _padded(self, elements):
        shapes, values = self.pad
        batch = []
        for index, (shape, value) in enumerate(zip(shapes, values)):
            parts = [element[index] for element in elements]
            rank = parts[0].ndim
            if any(p.ndim != rank for p in parts) or len(shape) != rank:
                raise errors.InvalidArgumentError(
                    None, None, f"All elements in a batch must have the same rank as the "
                    f"padded shape for component{index}: expected rank {len(shape)} but got "
                    f"element with rank {parts[0].ndim}")
            full = []
            for axis, dim in enumerate(shape):
                longest = max(p.shape[axis] for p in parts)
                if dim is None:
                    dim = longest
                elif longest > dim:
                    raise errors.InvalidArgumentError(
                        None, None, "Attempted to pad to a smaller size than the input "
                        "element.")
                full.append(dim)
            out = np.full([len(parts)] + full, value, dtype=parts[0].dtype)
            for number, part in enumerate(parts):
                out[(number,) + tuple(slice(0, d) for d in part.shape)] = part
            batch.append(out)
        return tuple(batch)

    def iterate(self):
        if self.pad is None:
            yield from self.child.batches(self.size, self.drop_remainder)
            return
        elements = []
        for element in self.child.iterate():
            elements.append(element)
            if len(elements) == self.size:
                yield self._padded(elements)
                elements = []
        if elements and not self.drop_remainder:
            yield self._padded(elements)


class _Shuffle(_Node):
    def __init__(self, child, buffer_size, seed, reshuffle):
        if buffer_size <= 0:
            raise errors.InvalidArgumentError(None, None,
                                              "buffer_size must be greater than zero.")
        self.child, self.buffer_size, self.seed = child, buffer_size, seed
        self.reshuffle = reshuffle
        # One generator for the whole pipeline: each epoch continues it (a new order), unless
        # reshuffle_each_iteration=False, when every epoch restarts from the seed.
        self.rng = np.random.default_rng(seed)

    def iterate(self):
        rng = self.rng if self.reshuffle else np.random.default_rng(self.seed)
        buffer = []
        source = self.child.iterate()
        for element in source:
            buffer.append(element)
            if len(buffer) == self.buffer_size:
                break
        for element in source:
            index = int(rng.integers(len(buffer)))
            yield buffer[index]
            buffer[index] = element
        while buffer:
            index = int(rng.integers(len(buffer)))
            buffer[index], buffer[-1] = buffer[-1], buffer[index]
            yield buffer.pop()


class _Repeat(_Node):
    def __init__(self, child, count):
        self.child, self.count = child, count

    def iterate(self):
        epoch = 0
        while self.count < 0 or epoch < self.count:
            produced = False
            for element in self.child.iterate():
                produced = True
                yield element
            if not produced:  # an empty input repeated forever is still empty
                return
            epoch += 1

    def batches(self, size, drop_remainder):
        def slabs():
            epoch = 0
            while self.count < 0 or epoch < self.count:
                produced = False
                for slab in self.child.batches(size, False):
                    produced = True
                    yield slab
                if not produced:
                    return
                epoch += 1

        return _rebatch(slabs(), size, drop_remainder)


class _Take(_Node):
    def __init__(self, child, count):
        self.child, self.count = child, count

    def iterate(self):
        if self.count == 0:
            return
        for number, element in enumerate(self.child.iterate(), 1):
            yield element
            if number == self.count:
                return


class _Skip(_Node):
    def __init__(self, child, count):
        self.child, self.count = child, count

    def iterate(self):
        source = self.child.iterate()
        if self.count < 0:
            return
        for _ in range(self.count):
            if next(source, _END) is _END:
                return
        yield from source


class _Cache(_Node):
    """In memory: the first complete pass is recorded, later passes replay it."""

    def __init__(self, child):
        self.child = child
        self.cached = None

    def iterate(self):
        if self.cached is not None:
            yield from self.cached
            return
        recorded = []
        for element in self.child.iterate():
            recorded.append(element)
            yield element
        self.cached = recorded


class _FileCache(_Node):
    """`cache(filename)`: the first complete pass is written to files at prefix `filename`,
    and every later pass (a later epoch, another iterator, another session or program) reads
    them instead of the input.

    The files are TF's own cache format: a tensor bundle (``framework/tensor_bundle.py``, the
    checkpoint format) whose tensor named by `_cache_key` is one component of one element, so
    TF reads our cache files and we read TF's. The writer streams elements to a temporary data
    file and renames it into place with the index when the pass ends: a pass that stops early
    (or fails) leaves no cache, as TF discards a partial one, and a reader only ever sees a
    complete cache.
    """

    def __init__(self, child, filename, num_components, env):
        self.child, self.env = child, env
        self.prefix = filename.decode() if isinstance(filename, bytes) else str(filename)
        self.keys = _CacheKeys(num_components)

    def iterate(self):
        if tensor_bundle.bundle_exists(self.prefix):
            yield from self._read()
            return
        try:
            writer = tensor_bundle.BundleWriter(self.prefix)
        except OSError as error:
            raise errors.NotFoundError(
                None, None, f"Failed to create the cache file {self.prefix}: "
                f"{error.strerror}") from None
        finished = False
        try:
            for index, element in enumerate(self.child.iterate()):
                for component, value in enumerate(element):
                    writer.add(self.keys(index, component), value)
                yield element
            writer.finish()
            finished = True
        finally:
            if not finished:
                writer.abort()

    def _read(self):
        reader = tensor_bundle.BundleReader(self.prefix)
        keys = self.keys
        try:
            index = 0
            while reader.has_tensor(keys(index, 0)):
                self.env.check()
                element = []
                for component in range(keys.num_components):
                    if not reader.has_tensor(keys(index, component)):
                        raise errors.InvalidArgumentError(
                            None, None, f"The cache file {self.prefix} does not match the "
                            f"dataset: its element {index} lacks component {component}")
                    element.append(_readonly(reader.read(keys(index, component))))
                yield tuple(element)
                index += 1
        finally:
            reader.close()


class _CacheKeys:
    """The tensor names of a cache file, TF's: the element index right-aligned in 7 columns,
    ``_``, and the component index right-aligned as wide as the largest one."""

    def __init__(self, num_components):
        self.num_components = num_components
        self.width = len(str(max(num_components - 1, 0)))

    def __call__(self, index, component):
        return "%7d_%*d" % (index, self.width, component)


class _Prefetch(_Node):
    """Fills a bounded buffer from a background thread, so input overlaps the consumer."""

    def __init__(self, child, buffer_size, env):
        self.child, self.env = child, env
        self.buffer_size = buffer_size if buffer_size > 0 else 2  # AUTOTUNE (-1): 2

    def iterate(self):
        buffer = queue_lib.Queue(self.buffer_size)
        stop = threading.Event()
        self.env.on_stop(stop.set)

        def put(item):
            while not stop.is_set():
                try:
                    buffer.put(item, timeout=0.05)
                    return True
                except queue_lib.Full:
                    pass
            return False

        def fill():
            try:
                for element in self.child.iterate():
                    if not put(element):
                        return
                put(_END)
            except BaseException as error:  # noqa: BLE001 - handed to the consumer
                put(error)

        thread = threading.Thread(target=fill, name="tf.data.prefetch", daemon=True)
        thread.start()
        try:
            while True:
                try:
                    item = buffer.get(timeout=0.05)
                except queue_lib.Empty:
                    self.env.check()
                    continue
                if item is _END:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()
            self.env.forget(stop.set)


class _Interleave(_Node):
    """TF's InterleaveDataset order: `cycle_length` open inputs, `block_length` from each."""

    def __init__(self, child, make_dataset, cycle_length, block_length):
        self.child, self.make_dataset = child, make_dataset
        self.cycle_length, self.block_length = max(1, cycle_length), max(1, block_length)

    def iterate(self):
        source = self.child.iterate()
        current = [None] * self.cycle_length
        end_of_input = False
        num_open = 0
        cycle_index = block_index = 0
        while not end_of_input or num_open > 0:
            if current[cycle_index] is not None:
                element = next(current[cycle_index], _END)
                if element is not _END:
                    yield element
                    block_index += 1
                    if block_index == self.block_length:
                        block_index = 0
                        cycle_index = (cycle_index + 1) % self.cycle_length
                    continue
                current[cycle_index] = None
                num_open -= 1
                block_index = 0
                cycle_index = (cycle_index + 1) % self.cycle_length
            elif not end_of_input:
                element = next(source, _END)
                if element is _END:
                    end_of_input = True
                else:
                    current[cycle_index] = self.make_dataset(element).iterate()
                    num_open += 1
            else:
                block_index = 0
                cycle_index = (cycle_index + 1) % self.cycle_length


class _TextLine(_Node):
    def __init__(self, filenames):
        self.filenames = [f if isinstance(f, bytes) else str(f).encode()
                          for f in np.asarray(filenames, dtype=object).reshape(-1)]

    def iterate(self):
        for filename in self.filenames:
            try:
                handle = open(filename, "rb")
            except OSError as error:
                raise errors.NotFoundError(None, None,
                                           f"{filename.decode()}; {error.strerror}") from None
            with handle:
                for line in handle:
                    if line.endswith(b"\n"):
                        line = line[:-1]
                        if line.endswith(b"\r"):
                            line = line[:-1]
                    value = np.empty((), dtype=object)
                    value[()] = line
                    yield (value,)


def _filename_list(filenames):
    return [f if isinstance(f, bytes) else str(f).encode()
            for f in np.asarray(filenames, dtype=object).reshape(-1)]


def _scalar_bytes(value):
    element = np.empty((), dtype=object)
    element[()] = value
    return (element,)


def _interleaved_files(filenames, num_parallel_reads, make_node):
    """One node per file, read in turn (`num_parallel_reads` at a time, one record from each,
    TF's deterministic order for parallel reads) or file after file."""
    if num_parallel_reads <= 1 or len(filenames) <= 1:
        return _Concatenate([make_node(f) for f in filenames]) if filenames else _Files([])
    names = np.empty(len(filenames), dtype=object)
    names[:] = filenames
    return _Interleave(_TensorSlices([names]), lambda element: make_node(element[0][()]),
                       num_parallel_reads, 1)


class _Files(_Node):
    """No files at all: an empty dataset."""

    def __init__(self, filenames):
        self.filenames = filenames

    def iterate(self):
        return iter(())


class _TFRecord(_Node):
    """The records of one TFRecord file (CRCs checked; ``GZIP`` / ``ZLIB`` decompressed)."""

    def __init__(self, filename, compression_type):
        self.filename, self.compression_type = filename, compression_type

    def iterate(self):
        for _, record in tf_record.file_records_with_offsets(self.filename,
                                                             self.compression_type):
            yield _scalar_bytes(record)


class _FixedLengthRecord(_Node):
    """The fixed-length records of one file between its header and footer; a body that is not
    a whole number of records is an error, as in TF's FixedLengthRecordDataset."""

    def __init__(self, filename, record_bytes, header_bytes, footer_bytes, compression_type):
        if record_bytes <= 0 or header_bytes < 0 or footer_bytes < 0:
            raise errors.InvalidArgumentError(
                None, None, "record_bytes must be positive and header_bytes and footer_bytes "
                f"non-negative, got {record_bytes}, {header_bytes}, {footer_bytes}")
        self.filename, self.record_bytes = filename, record_bytes
        self.header_bytes, self.footer_bytes = header_bytes, footer_bytes
        self.compression_type = compression_type

    def iterate(self):
        name = self.filename.decode("utf-8", "replace")
        try:
            with open(self.filename, "rb") as raw:
                data = tf_record.open_decompressed(raw, self.compression_type).read()
        except FileNotFoundError:
            raise errors.NotFoundError(None, None, f"{name}; No such file or directory") \
                from None
        except OSError as error:
            raise errors.DataLossError(None, None, f"{name}: {error}") from None
        body = len(data) - self.header_bytes - self.footer_bytes
        if body < 0 or body % self.record_bytes:
            raise errors.InvalidArgumentError(
                None, None, f"Excluding the header ({self.header_bytes} bytes) and footer "
                f"({self.footer_bytes} bytes), input file \"{name}\" has body length {body} "
                "bytes, which is not an exact multiple of the record length "
                f"({self.record_bytes} bytes).")
        for start in range(self.header_bytes, self.header_bytes + body, self.record_bytes):
            yield _scalar_bytes(data[start:start + self.record_bytes])


# ---- building a pipeline from its description -----------------------------------------------

def _scalar(captures, index):
    return captures[index][()] if isinstance(index, int) else index


def build(description, captures, env):
    """The `_Node` tree of `description`, with `captures` the values of its tensors.

    Raises:
      InvalidArgumentError: for a bad argument value (a zero batch size, ragged slices).
    """
    kind, args, inputs = description
    children = [build(child, captures, env) for child in inputs]
    if kind == "tensor_slices":
        return _TensorSlices([captures[i] for i in args["components"]])
    if kind == "tensors":
        return _Tensors([captures[i] for i in args["components"]])
    if kind == "range":
        return _Range(int(captures[args["start"]]), int(captures[args["stop"]]),
                      int(captures[args["step"]]), args["dtype"])
    if kind == "generator":
        return _Generator(args["generator"], args["flatten"], args["types"], args["shapes"],
                          env)
    if kind == "zip":
        return _Zip(children)
    if kind == "concatenate":
        return _Concatenate(children)
    if kind == "map":
        return _Map(children[0], _Function(args["function"], env, captures),
                    args["num_parallel_calls"], env)
    if kind == "filter":
        return _Filter(children[0], _Function(args["function"], env, captures))
    if kind == "batch":
        return _Batch(children[0], int(captures[args["batch_size"]]),
                      bool(captures[args["drop_remainder"]]))
    if kind == "padded_batch":
        values = [captures[i] for i in args["padding_values"]]
        return _Batch(children[0], int(captures[args["batch_size"]]),
                      bool(captures[args["drop_remainder"]]),
                      pad=(args["padded_shapes"], values))
    if kind == "shuffle":
        return _Shuffle(children[0], int(captures[args["buffer_size"]]), args["seed"],
                        args["reshuffle_each_iteration"])
    if kind == "repeat":
        return _Repeat(children[0], int(captures[args["count"]]))
    if kind == "take":
        return _Take(children[0], int(captures[args["count"]]))
    if kind == "skip":
        return _Skip(children[0], int(captures[args["count"]]))
    if kind == "cache":
        filename = captures[args["filename"]][()] if "filename" in args else b""
        if filename:
            return _FileCache(children[0], filename, args["num_components"], env)
        return _Cache(children[0])
    if kind == "prefetch":
        return _Prefetch(children[0], int(captures[args["buffer_size"]]), env)
    if kind == "interleave":
        function = _Function(args["function"], env, captures)
        inner = args["dataset"]

        def make_dataset(element):
            return build(inner, function(element), env)

        return _Interleave(children[0], make_dataset, int(captures[args["cycle_length"]]),
                           int(captures[args["block_length"]]))
    if kind == "text_line":
        return _TextLine(captures[args["filenames"]])
    if kind == "tf_record":
        compression = args["compression_type"]
        return _interleaved_files(_filename_list(captures[args["filenames"]]),
                                  args["num_parallel_reads"],
                                  lambda name: _TFRecord(name, compression))
    if kind == "fixed_length_record":
        sizes = [int(captures[args[key]]) for key in
                 ("record_bytes", "header_bytes", "footer_bytes")]
        compression = args["compression_type"]
        return _interleaved_files(_filename_list(captures[args["filenames"]]),
                                  args["num_parallel_reads"],
                                  lambda name: _FixedLengthRecord(name, *sizes, compression))
    raise errors.UnimplementedError(None, None, f"Unknown dataset kind {kind!r}")


# ---- the iterator resource and its kernels ---------------------------------------------------

class IteratorResource:
    """An iterator in a session's `ResourceContainer`: the pipeline of its last initializer.

    Attributes:
      container, name: the TF container and the iterator's name.
      output_types, output_shapes: the element signature that initializers must match.
      pipeline: the running generator, or None before the first initialization.
    """

    def __init__(self, container, name, output_types, output_shapes):
        self.container = container
        self.name = name
        self.output_types = list(output_types)
        self.output_shapes = list(output_shapes)
        self.lock = threading.Lock()  # one get_next at a time: a generator is not reentrant
        self.pipeline = None
        self.env = None
        self.one_shot_started = False

    def reset(self, pipeline, env):
        with self.lock:
            old, self.pipeline = self.pipeline, pipeline
            old_env, self.env = self.env, env
        if old_env is not None:
            old_env.stop()
        if old is not None:
            old.close()

    def get_next(self):
        with self.lock:
            if self.pipeline is None:
                raise errors.FailedPreconditionError(
                    None, None, "GetNext() failed because the iterator has not been "
                    "initialized. Ensure that you have run the initializer operation for this "
                    "iterator before getting the next element.")
            element = next(self.pipeline, _END)
            if element is _END:
                raise _end_of_sequence()
            return element

    def release(self):
        """The session drops the iterator: stop its threads."""
        self.reset(None, None)


def _iterator_key(attrs):
    return resource_key("iterator", attrs.get("container", ""),
                        attrs.get("shared_name") or attrs["_name"])


def _get_or_create(ctx, attrs):
    key = _iterator_key(attrs)
    return key, ctx.resources.get_or_create(
        key, lambda: IteratorResource(attrs.get("container", ""), display_name(key),
                                      attrs["output_types"], attrs["output_shapes"]))


def _check_signature(iterator, types):
    if list(types) != iterator.output_types:
        raise errors.InvalidArgumentError(
            None, None, "The iterator's element types "
            f"{[t.name for t in iterator.output_types]} do not match the dataset's "
            f"{[t.name for t in types]}")


def _initialize(ctx, iterator, description, captures):
    env = _Env(ctx)
    try:
        pipeline = build(description, captures, env).iterate()
    except BaseException:
        env.stop()
        raise
    iterator.reset(pipeline, env)


def _iterator_kernel(ctx, inputs, attrs):
    key, _ = _get_or_create(ctx, attrs)
    return (make_handle(key),)


def _lookup_iterator(ctx, handle):
    iterator = ctx.resources.lookup(handle_key(handle))
    if not isinstance(iterator, IteratorResource):
        raise errors.NotFoundError(None, None, f"Iterator {display_name(handle_key(handle))} "
                                   "does not exist.")
    return iterator


def _make_iterator_kernel(ctx, inputs, attrs):
    iterator = _lookup_iterator(ctx, inputs[0])
    _check_signature(iterator, attrs["output_types"])
    _initialize(ctx, iterator, attrs["dataset"], list(inputs[1:]))
    return ()


def _one_shot_kernel(ctx, inputs, attrs):
    key, iterator = _get_or_create(ctx, attrs)
    with iterator.lock:
        fresh, iterator.one_shot_started = not iterator.one_shot_started, True
    if fresh:
        # Initialized by the first run that creates it, as TF's OneShotIterator.
        _initialize(ctx, iterator, attrs["dataset"], list(inputs))
    return (make_handle(key),)


def _get_next_kernel(ctx, inputs, attrs):
    return _lookup_iterator(ctx, inputs[0]).get_next()


register_kernel("IteratorV2", reference=_iterator_kernel)
register_kernel("OneShotIterator", reference=_one_shot_kernel)
register_kernel("MakeIterator", reference=_make_iterator_kernel)
register_kernel("IteratorGetNext", reference=_get_next_kernel)
