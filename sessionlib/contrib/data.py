"""``tf.contrib.data``: TF 1's dataset transformations, for ``dataset.apply(...)``, as
spellings of ``tf.data.Dataset`` methods.

Each name returns a function from a `Dataset` to a `Dataset`, as contrib's did:

* `batch_and_drop_remainder`, `padded_batch_and_drop_remainder`: ``batch``/``padded_batch``
  with ``drop_remainder=True``;
* `shuffle_and_repeat`: ``shuffle`` then ``repeat`` (each pass reshuffled, no element crossing
  from one pass into the next, as TF's fused op);
* `map_and_batch`: ``map`` then ``batch`` (the parallelism arguments are accepted and unused);
* `unbatch`: each element split along its first dimension (a ``flat_map`` of
  ``from_tensor_slices``);
* `parallel_interleave`: ``interleave`` with the same cycle and block lengths. The inputs are
  read in turn on the pulling thread, so the order is always the deterministic one
  (``sloppy=False``'s); ``sloppy=True`` and the buffering arguments change nothing.

The window transformations (``sliding_window_batch``, ``group_by_window``,
``bucket_by_sequence_length``) need dataset kernels sessionlib does not have and raise
`AttributeError` like every other missing contrib name.
"""

__all__ = ["batch_and_drop_remainder", "padded_batch_and_drop_remainder",
           "shuffle_and_repeat", "map_and_batch", "unbatch", "parallel_interleave"]


def __getattr__(name):
    from sessionlib import contrib

    raise contrib.unsupported(f"data.{name}")


def batch_and_drop_remainder(batch_size):
    """``dataset.batch(batch_size, drop_remainder=True)``, for `Dataset.apply`.

    Args:
      batch_size: an int or scalar int64 Tensor.

    Returns:
      A function from a Dataset to a Dataset.
    """
    return lambda dataset: dataset.batch(batch_size, drop_remainder=True)


def padded_batch_and_drop_remainder(batch_size, padded_shapes, padding_values=None):
    """``dataset.padded_batch(..., drop_remainder=True)``, for `Dataset.apply`.

    Args:
      batch_size: an int or scalar int64 Tensor.
      padded_shapes: the shape each component is padded to (None/-1: the batch's longest).
      padding_values: the padding values (default 0, or b'' for strings).

    Returns:
      A function from a Dataset to a Dataset.
    """
    return lambda dataset: dataset.padded_batch(batch_size, padded_shapes, padding_values,
                                                drop_remainder=True)


def shuffle_and_repeat(buffer_size, count=None, seed=None):
    """Shuffles, then repeats `count` times (None or -1: forever), for `Dataset.apply`.

    Args:
      buffer_size: the shuffle buffer's size.
      count: the number of passes.
      seed: the shuffle's seed.

    Returns:
      A function from a Dataset to a Dataset.
    """
    return lambda dataset: dataset.shuffle(buffer_size, seed=seed).repeat(count)


def map_and_batch(map_func, batch_size, num_parallel_batches=None, drop_remainder=False,
                  num_parallel_calls=None):
    """``dataset.map(map_func).batch(batch_size, drop_remainder)``, for `Dataset.apply`.

    Args:
      map_func: the function applied to each element.
      batch_size: an int or scalar int64 Tensor.
      num_parallel_batches, num_parallel_calls: accepted for TF's signature; TF refuses
        both at once, and so does this.
      drop_remainder: drop a last, smaller batch.

    Returns:
      A function from a Dataset to a Dataset.

    Raises:
      ValueError: if both `num_parallel_batches` and `num_parallel_calls` are given.
    """
    if num_parallel_batches is not None and num_parallel_calls is not None:
        raise ValueError("The `num_parallel_batches` and `num_parallel_calls` arguments "
                         "are mutually exclusive.")
    return lambda dataset: dataset.map(map_func).batch(batch_size,
                                                       drop_remainder=drop_remainder)


def _slices(*components):
    from sessionlib.data.dataset_ops import Dataset

    return Dataset.from_tensor_slices(components[0] if len(components) == 1 else components)


def unbatch():
    """Splits each element along its first dimension into elements, for `Dataset.apply`.

    Returns:
      A function from a Dataset to a Dataset.
    """
    return lambda dataset: dataset.flat_map(_slices)


def parallel_interleave(map_func, cycle_length, block_length=1, sloppy=False,
                        buffer_output_elements=None, prefetch_input_elements=None):
    """``dataset.interleave(map_func, cycle_length, block_length)``, for `Dataset.apply`;
    always in the deterministic order (see the module's notes).

    Args:
      map_func: a function from an element to a Dataset.
      cycle_length: the number of input datasets open at a time.
      block_length: the number of consecutive elements taken from each.
      sloppy, buffer_output_elements, prefetch_input_elements: accepted for TF's signature.

    Returns:
      A function from a Dataset to a Dataset.
    """
    del sloppy, buffer_output_elements, prefetch_input_elements  # no reader threads here
    return lambda dataset: dataset.interleave(map_func, cycle_length=cycle_length,
                                              block_length=block_length)
