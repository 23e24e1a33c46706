"""TF 1's queue-based input pipeline: the input producers and the batching functions.

Design. Each function builds graph ops and registers a `QueueRunner` in the graph's
``QUEUE_RUNNERS`` collection; `start_queue_runners` later runs them on threads, as in TF:

* the producers (`input_producer` and the `string_`, `range_` and `slice_` variants) enqueue
  the whole (optionally shuffled) input tensor once per run of their enqueue op into a
  `FIFOQueue`. `num_epochs` limits the runs with a local-variable epoch counter
  (`limit_epochs`, a ``ResourceCountUpTo``): after the last epoch the enqueue fails with
  `OutOfRangeError`, the runner closes the queue, and consumers get `OutOfRangeError` once it
  is drained. So ``local_variables_initializer()`` must run first when `num_epochs` is set;
* the batchers (`batch`, `shuffle_batch` and their `_join` variants) enqueue one element (or a
  batch of them, `enqueue_many`) per run into a `FIFOQueue` / `RandomShuffleQueue` with fully
  defined shapes, from `num_threads` threads (the `_join` variants: one thread per input
  list), and dequeue `batch_size` elements at a time: `dequeue_up_to` with
  `allow_smaller_final_batch`, so the last, smaller batch of a closed queue is returned.

With `dynamic_pad` the batchers use a `PaddingFIFOQueue`: element shapes may have unknown
dimensions and each batch is zero-padded to its largest element.

Not supported: sparse tensors in batches, and the "fraction full" summaries (sessionlib has no summary ops in this module's reach yet).
"""

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework import tensor_util
from sessionlib.framework.graph import GraphKeys
from sessionlib.framework.tensor_shape import TensorShape, as_shape
from sessionlib.ops import (array_ops, data_flow_ops, input_ops, io_ops, math_ops,
                            sampling_ops, segment_ops)
from sessionlib.ops import variables
from sessionlib.train import queue_runner

__all__ = ["match_filenames_once", "limit_epochs", "input_producer", "string_input_producer",
           "range_input_producer", "slice_input_producer", "batch", "shuffle_batch",
           "batch_join", "shuffle_batch_join"]


def match_filenames_once(pattern, name=None):
    """A local variable holding the files that match `pattern`, sorted, as of its initialisation.

    The files are listed when ``local_variables_initializer()`` runs (not when the graph is
    built), so files written between the two are found.

    Args:
      pattern: a glob pattern (str or scalar string tensor), or a 1-D list of them.
      name: the variable's name (default ``'matching_filenames'``).

    Returns:
      A string Variable of unknown length, in ``LOCAL_VARIABLES`` only (not trainable).
    """
    graph = graph_lib.get_default_graph()
    with graph.name_scope(name or "matching_filenames") as scope:
        files = io_ops.matching_files(pattern)
        return variables.Variable(files, trainable=False, validate_shape=False,
                                  collections=[GraphKeys.LOCAL_VARIABLES], name=scope)


# ---- producers --------------------------------------------------------------------------------

def limit_epochs(tensor, num_epochs=None, name=None):
    """`tensor`, but running it more than `num_epochs` times raises OutOfRangeError.

    The count is a local variable (``LOCAL_VARIABLES``): run ``local_variables_initializer()``
    first.

    Args:
      tensor: any tensor.
      num_epochs: a positive int, or None for no limit (then `tensor` is returned).
      name: the scope name.

    Raises:
      ValueError: if `num_epochs` is not positive.
    """
    if num_epochs is None:
        return tensor
    if num_epochs <= 0:
        raise ValueError(f"num_epochs must be > 0 not {num_epochs}.")
    graph = graph_lib.get_default_graph()
    with graph.name_scope(name or "limit_epochs") as scope:
        epochs = variables.Variable(graph_lib.convert_to_tensor(0, dtype=dtypes.int64),
                                    name="epochs", trainable=False,
                                    collections=[GraphKeys.LOCAL_VARIABLES])
        counter = input_ops.count_up_to(epochs, num_epochs)
        with graph.control_dependencies([counter]):
            return array_ops.identity(tensor, name=scope.rstrip("/").split("/")[-1])


def input_producer(input_tensor, element_shape=None, num_epochs=None, shuffle=True, seed=None,
                   capacity=32, shared_name=None, summary_name=None, name=None,
                   cancel_op=None):
    """Enqueues the rows of `input_tensor` into a queue, epoch after epoch, from a runner.

    Args:
      input_tensor: a tensor with at least one dimension; its rows are the elements.
      element_shape: the shape of a row, when `input_tensor`'s static shape lacks it.
      num_epochs: how many times each row is produced; None for forever.
      shuffle: shuffle the rows of each epoch.
      seed: the op-level seed of the shuffle.
      capacity: the queue's capacity.
      shared_name: the queue's shared name.
      summary_name: ignored (no summaries here).
      name: the scope name.
      cancel_op: the runner's cancel op (default: close the queue cancelling enqueues).

    Returns:
      The `FIFOQueue` of the rows (dequeue from it).

    Raises:
      ValueError: if the element shape is not fully defined.
    """
    del summary_name  # no summary ops yet
    graph = graph_lib.get_default_graph()
    with graph.name_scope(name or "input_producer"):
        input_tensor = graph_lib.convert_to_tensor(input_tensor, name="input_tensor")
        element_shape = TensorShape(input_tensor.shape.as_list()[1:]
                                    if input_tensor.shape.rank is not None
                                    else None).merge_with(as_shape(element_shape))
        if not element_shape.is_fully_defined():
            raise ValueError("Either `input_tensor` must have a fully defined shape or "
                             "`element_shape` must be specified")
        if shuffle:
            input_tensor = sampling_ops.random_shuffle(input_tensor, seed=seed)
        input_tensor = limit_epochs(input_tensor, num_epochs)
        # As TF: a caller's scope name ('input_producer/') names the queue op exactly.
        queue = data_flow_ops.FIFOQueue(capacity=capacity, dtypes=[input_tensor.dtype],
                                        shapes=[element_shape], shared_name=shared_name,
                                        name=name or "fifo_queue")
        enqueue = queue.enqueue_many([input_tensor])
        queue_runner.add_queue_runner(queue_runner.QueueRunner(queue, [enqueue],
                                                               cancel_op=cancel_op))
        return queue


def string_input_producer(string_tensor, num_epochs=None, shuffle=True, seed=None, capacity=32,
                          shared_name=None, name=None, cancel_op=None):
    """A queue of the strings of a 1-D string tensor (file names, usually), for readers.

    Args:
      string_tensor: a 1-D string tensor or a non-empty list of strings.
      num_epochs, shuffle, seed, capacity, shared_name, name, cancel_op: as for
        `input_producer`.

    Returns:
      The `FIFOQueue` of the strings.

    Raises:
      ValueError: for an empty list of strings.
    """
    not_null_err = "string_input_producer requires a non-null input tensor"
    if not isinstance(string_tensor, graph_lib.Tensor) and not len(string_tensor):
        raise ValueError(not_null_err)
    graph = graph_lib.get_default_graph()
    with graph.name_scope(name or "input_producer") as scope:
        string_tensor = graph_lib.convert_to_tensor(string_tensor, dtype=dtypes.string)
        known = tensor_util.constant_value(string_tensor)
        if known is not None and known.size == 0:
            raise ValueError(not_null_err)
        return input_producer(string_tensor, element_shape=[], num_epochs=num_epochs,
                              shuffle=shuffle, seed=seed, capacity=capacity,
                              shared_name=shared_name, name=scope, cancel_op=cancel_op)


def range_input_producer(limit, num_epochs=None, shuffle=True, seed=None, capacity=32,
                         shared_name=None, name=None):
    """A queue of the integers ``0 .. limit-1`` (int32), epoch after epoch.

    Args:
      limit: an int32 scalar (tensor or int).
      num_epochs, shuffle, seed, capacity, shared_name, name: as for `input_producer`.

    Returns:
      The `FIFOQueue` of the integers.
    """
    graph = graph_lib.get_default_graph()
    with graph.name_scope(name or "input_producer") as scope:
        range_tensor = array_ops.range(limit)
        return input_producer(range_tensor, [], num_epochs, shuffle, seed, capacity,
                              shared_name, None, scope)


def slice_input_producer(tensor_list, num_epochs=None, shuffle=True, seed=None, capacity=32,
                         shared_name=None, name=None):
    """The rows of each tensor of `tensor_list`, one row (the same index in all) per dequeue.

    Args:
      tensor_list: tensors with the same first dimension.
      num_epochs, shuffle, seed, capacity, shared_name, name: as for `input_producer`.

    Returns:
      A list with one tensor per input: row ``i`` of each, for a dequeued index ``i``.

    Raises:
      ValueError: for an empty list.
    """
    graph = graph_lib.get_default_graph()
    with graph.name_scope(name or "input_producer"):
        tensor_list = [graph_lib.convert_to_tensor(t) for t in tensor_list]
        if not tensor_list:
            raise ValueError("Expected at least one tensor in slice_input_producer().")
        range_size = array_ops.shape(tensor_list[0])[0]
        queue = range_input_producer(range_size, num_epochs=num_epochs, shuffle=shuffle,
                                     seed=seed, capacity=capacity, shared_name=shared_name)
        index = queue.dequeue()
        return [array_ops.gather(t, index) for t in tensor_list]


# ---- batching ---------------------------------------------------------------------------------

def _flatten(structure):
    """The tensors of a nested list/tuple/dict (dict values by sorted key), in order."""
    if isinstance(structure, dict):
        return [leaf for key in sorted(structure) for leaf in _flatten(structure[key])]
    if isinstance(structure, (list, tuple)):
        return [leaf for item in structure for leaf in _flatten(item)]
    return [structure]


def _pack(structure, flat):
    """`flat` (an iterator) packed into the nesting of `structure`."""
    if isinstance(structure, dict):
        return {key: _pack(structure[key], flat) for key in sorted(structure)}
    if isinstance(structure, (list, tuple)):
        items = [_pack(item, flat) for item in structure]
        if hasattr(structure, "_fields"):  # a namedtuple
            return type(structure)(*items)
        return tuple(items) if isinstance(structure, tuple) else items
    return next(flat)


def _as_tensor_list(tensors):
    flat = _flatten(tensors)
    if not flat:
        raise ValueError("Expected at least one tensor in batch().")
    return [graph_lib.convert_to_tensor(t) for t in flat]


def _shapes(tensor_list_list, shapes, enqueue_many):
    """The element shape of each component: `shapes`, or merged from the static shapes."""
    if shapes is not None:
        return [as_shape(s) for s in shapes]
    merged = []
    for index in range(len(tensor_list_list[0])):
        shape = TensorShape(None)
        for tensor_list in tensor_list_list:
            tensor_shape = tensor_list[index].shape
            if tensor_shape.rank is None:
                raise ValueError(f"Cannot infer Tensor's rank: {tensor_list[index]}")
            if enqueue_many:
                if tensor_shape.rank < 1:
                    raise ValueError(f"Shape {tensor_shape} must have rank at least 1")
                tensor_shape = TensorShape(tensor_shape.as_list()[1:])
            shape = shape.merge_with(tensor_shape)
        merged.append(shape)
    return merged


def _keep_input_tensor(keep_input, enqueue_many):
    """None for "always keep", else a bool tensor (a vector when `enqueue_many`)."""
    if keep_input is True:
        return None
    keep_input = graph_lib.convert_to_tensor(keep_input, dtype=dtypes.bool)
    known = tensor_util.constant_value(keep_input)
    if known is not None and known.ndim == 0 and bool(known):
        return None
    rank = keep_input.shape.rank
    if enqueue_many and rank != 1:
        raise ValueError("`keep_input` must be a vector when `enqueue_many` is True.")
    if not enqueue_many and rank != 0:
        raise ValueError("`keep_input` must be a scalar when `enqueue_many` is False.")
    return keep_input


def _enqueue_op(queue, tensor_list, enqueue_many, keep_input):
    """One enqueue of `tensor_list`, keeping only the rows (elements) that `keep_input` keeps.

    A scalar `keep_input` turns the element into a batch of one, so that one masked
    `enqueue_many` serves both cases (there is no `tf.cond` to skip the enqueue).
    """
    if keep_input is None:
        return (queue.enqueue_many if enqueue_many else queue.enqueue)(tensor_list)
    if not enqueue_many:
        tensor_list = [array_ops.expand_dims(t, 0) for t in tensor_list]
        keep_input = array_ops.reshape(keep_input, [1])
    partitions = math_ops.cast(keep_input, dtypes.int32)
    kept = [segment_ops.dynamic_partition(t, partitions, 2)[1] for t in tensor_list]
    return queue.enqueue_many(kept)


def _dequeue(queue, batch_size, allow_smaller_final_batch, name):
    if allow_smaller_final_batch:
        dequeued = queue.dequeue_up_to(batch_size, name=name)
    else:
        dequeued = queue.dequeue_many(batch_size, name=name)
    return dequeued if isinstance(dequeued, list) else [dequeued]


def _batch_join_impl(tensors_list, batch_size, keep_input, capacity, enqueue_many, shapes,
                     allow_smaller_final_batch, shared_name, name, default_name,
                     make_queue, dynamic_pad=False):
    """The common body of the four batchers: one input list per enqueue op."""
    graph = graph_lib.get_default_graph()
    with graph.name_scope(name or default_name) as scope:
        tensor_list_list = [_as_tensor_list(tensors) for tensors in tensors_list]
        first = tensor_list_list[0]
        for tensor_list in tensor_list_list[1:]:
            if len(tensor_list) != len(first):
                raise ValueError("Expected all inputs to have the same number of tensors")
            for a, b in zip(first, tensor_list):
                if a.dtype is not b.dtype:
                    raise TypeError(f"Expected types to be consistent: {a.dtype.name} vs. "
                                    f"{b.dtype.name}.")
        keep = _keep_input_tensor(keep_input, enqueue_many)
        component_types = [t.dtype for t in first]
        component_shapes = _shapes(tensor_list_list, shapes, enqueue_many)
        for shape in component_shapes:
            # A padding queue pads unknown dimensions; it still needs every rank.
            if not (shape.rank is not None if dynamic_pad else shape.is_fully_defined()):
                raise ValueError(f"All shapes must be fully defined: {component_shapes}")
        if dynamic_pad:
            make_queue = _padding_fifo
        queue = make_queue(capacity, component_types, component_shapes, shared_name)
        enqueue_ops = [_enqueue_op(queue, tensor_list, enqueue_many, keep)
                       for tensor_list in tensor_list_list]
        queue_runner.add_queue_runner(queue_runner.QueueRunner(queue, enqueue_ops))
        dequeued = _dequeue(queue, batch_size, allow_smaller_final_batch,
                            scope.rstrip("/").split("/")[-1] or default_name)
        return _pack(tensors_list[0], iter(dequeued))


def _fifo(capacity, component_types, component_shapes, shared_name):
    return data_flow_ops.FIFOQueue(capacity=capacity, dtypes=component_types,
                                   shapes=component_shapes, shared_name=shared_name)


def _padding_fifo(capacity, component_types, component_shapes, shared_name):
    return data_flow_ops.PaddingFIFOQueue(capacity=capacity, dtypes=component_types,
                                          shapes=component_shapes, shared_name=shared_name)


def _shuffling(min_after_dequeue, seed):
    def make(capacity, component_types, component_shapes, shared_name):
        return data_flow_ops.RandomShuffleQueue(
            capacity=capacity, min_after_dequeue=min_after_dequeue, seed=seed,
            dtypes=component_types, shapes=component_shapes, shared_name=shared_name)

    return make


def batch(tensors, batch_size, num_threads=1, capacity=32, enqueue_many=False, shapes=None,
          dynamic_pad=False, allow_smaller_final_batch=False, shared_name=None, name=None):
    """Batches `tensors` through a FIFO queue filled by `num_threads` threads.

    Args:
      tensors: a tensor, or a (nested) list, tuple or dict of tensors: one element.
      batch_size: the number of elements per dequeued batch.
      num_threads: how many threads run the enqueue (element order is then not kept).
      capacity: the queue's capacity.
      enqueue_many: `tensors` is a batch of elements (dimension 0), not one element.
      shapes: the element shape of each component; default: the static shapes.
      dynamic_pad: allow unknown dimensions in the element shapes; each batch is padded
        (with zeros or empty strings) to the largest size of each dimension in it.
      allow_smaller_final_batch: at the end of the input, return a last batch with fewer
        than `batch_size` elements instead of raising OutOfRangeError.
      shared_name: the queue's shared name.
      name: the scope name.

    Returns:
      The batched tensors, in the structure of `tensors`.

    Raises:
      ValueError: if a component's shape is not fully defined and not given in `shapes`.
    """
    return _batch_join_impl([tensors] * int(num_threads), batch_size, True, capacity,
                            enqueue_many, shapes, allow_smaller_final_batch, shared_name, name,
                            "batch", _fifo, dynamic_pad)


def maybe_batch(tensors, keep_input, batch_size, num_threads=1, capacity=32,
                enqueue_many=False, shapes=None, dynamic_pad=False,
                allow_smaller_final_batch=False, shared_name=None, name=None):
    """`batch`, keeping only the elements for which `keep_input` is true.

    Args:
      keep_input: a bool scalar (a bool vector with `enqueue_many`): which elements to keep.
      others: as for `batch`.

    Returns:
      The batched tensors, in the structure of `tensors`.
    """
    return _batch_join_impl([tensors] * int(num_threads), batch_size, keep_input, capacity,
                            enqueue_many, shapes, allow_smaller_final_batch, shared_name, name,
                            "batch", _fifo, dynamic_pad)


def batch_join(tensors_list, batch_size, capacity=32, enqueue_many=False, shapes=None,
               dynamic_pad=False, allow_smaller_final_batch=False, shared_name=None,
               name=None):
    """Batches elements from several input lists, one enqueue thread per list.

    Args:
      tensors_list: a list of inputs, each as `batch`'s `tensors` (same structure and types).
      batch_size, capacity, enqueue_many, shapes, dynamic_pad, allow_smaller_final_batch,
        shared_name, name: as for `batch`.

    Returns:
      The batched tensors, in the structure of ``tensors_list[0]``.
    """
    return _batch_join_impl(list(tensors_list), batch_size, True, capacity, enqueue_many,
                            shapes, allow_smaller_final_batch, shared_name, name, "batch_join",
                            _fifo, dynamic_pad)


def maybe_batch_join(tensors_list, keep_input, batch_size, capacity=32, enqueue_many=False,
                     shapes=None, dynamic_pad=False, allow_smaller_final_batch=False,
                     shared_name=None, name=None):
    """`batch_join`, keeping only the elements for which `keep_input` is true.

    Args:
      keep_input: as for `maybe_batch`.
      others: as for `batch_join`.

    Returns:
      The batched tensors, in the structure of ``tensors_list[0]``.
    """
    return _batch_join_impl(list(tensors_list), batch_size, keep_input, capacity,
                            enqueue_many, shapes, allow_smaller_final_batch, shared_name, name,
                            "batch_join", _fifo, dynamic_pad)


def shuffle_batch(tensors, batch_size, capacity, min_after_dequeue, num_threads=1, seed=None,
                  enqueue_many=False, shapes=None, allow_smaller_final_batch=False,
                  shared_name=None, name=None):
    """Batches `tensors` in a random order through a `RandomShuffleQueue`.

    Args:
      tensors, batch_size, capacity, num_threads, enqueue_many, shapes,
        allow_smaller_final_batch, shared_name, name: as for `batch`.
      min_after_dequeue: the fewest elements left in the queue after a dequeue (the pool the
        order is drawn from), while the input is not exhausted.
      seed: the queue's op-level seed.

    Returns:
      The batched tensors, in the structure of `tensors`.

    Raises:
      ValueError: if `min_after_dequeue` >= `capacity`, or for shapes as `batch`.
    """
    _check_capacity(capacity, min_after_dequeue)
    return _batch_join_impl([tensors] * int(num_threads), batch_size, True, capacity,
                            enqueue_many, shapes, allow_smaller_final_batch, shared_name, name,
                            "shuffle_batch", _shuffling(min_after_dequeue, seed))


def maybe_shuffle_batch(tensors, batch_size, capacity, min_after_dequeue, keep_input,
                        num_threads=1, seed=None, enqueue_many=False, shapes=None,
                        allow_smaller_final_batch=False, shared_name=None, name=None):
    """`shuffle_batch`, keeping only the elements for which `keep_input` is true.

    Args:
      keep_input: as for `maybe_batch`.
      others: as for `shuffle_batch`.

    Returns:
      The batched tensors, in the structure of `tensors`.

    Raises:
      ValueError: as `shuffle_batch`.
    """
    _check_capacity(capacity, min_after_dequeue)
    return _batch_join_impl([tensors] * int(num_threads), batch_size, keep_input, capacity,
                            enqueue_many, shapes, allow_smaller_final_batch, shared_name, name,
                            "shuffle_batch", _shuffling(min_after_dequeue, seed))


def shuffle_batch_join(tensors_list, batch_size, capacity, min_after_dequeue, seed=None,
                       enqueue_many=False, shapes=None, allow_smaller_final_batch=False,
                       shared_name=None, name=None):
    """`shuffle_batch` from several input lists, one enqueue thread per list.

    Args: as for `shuffle_batch`, with `tensors_list` as for `batch_join`.

    Returns:
      The batched tensors, in the structure of ``tensors_list[0]``.
    """
    _check_capacity(capacity, min_after_dequeue)
    return _batch_join_impl(list(tensors_list), batch_size, True, capacity, enqueue_many,
                            shapes, allow_smaller_final_batch, shared_name, name,
                            "shuffle_batch_join", _shuffling(min_after_dequeue, seed))


def maybe_shuffle_batch_join(tensors_list, batch_size, capacity, min_after_dequeue, keep_input,
                             seed=None, enqueue_many=False, shapes=None,
                             allow_smaller_final_batch=False, shared_name=None, name=None):
    """`shuffle_batch_join`, keeping only the elements for which `keep_input` is true.

    Args:
      keep_input: as for `maybe_batch`.
      others: as for `shuffle_batch_join`.

    Returns:
      The batched tensors, in the structure of ``tensors_list[0]``.

    Raises:
      ValueError: as `shuffle_batch`.
    """
    _check_capacity(capacity, min_after_dequeue)
    return _batch_join_impl(list(tensors_list), batch_size, keep_input, capacity,
                            enqueue_many, shapes, allow_smaller_final_batch, shared_name, name,
                            "shuffle_batch_join", _shuffling(min_after_dequeue, seed))


def _check_capacity(capacity, min_after_dequeue):
    if min_after_dequeue >= capacity:
        raise ValueError(f"capacity ({capacity}) must be larger than min_after_dequeue "
                         f"({min_after_dequeue})")
