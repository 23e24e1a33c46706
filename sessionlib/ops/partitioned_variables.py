"""Partitioned variables: `PartitionedVariable` and TF 1's three partitioners.

A partitioner maps a variable's full shape and dtype to a slicing, e.g. ``[3, 1]`` for three
shards along axis 0; `get_variable(..., partitioner=...)` then makes one variable per shard,
named ``<name>/part_<k>``, and returns a `PartitionedVariable` holding them. Used as a tensor,
it is the concatenation of its parts (``<name>/ConcatPartitions/concat``), as in TF.

The shards are ordinary variables: each is initialized separately, with the initializer told
(through `init_ops.PartitionInfo`) where its slice sits in the whole, so variance scaling uses
the full shape's fans. The slicing rules, names and messages follow TF's
``partitioned_variables.py`` and ``variable_scope.py``.
"""

import math

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework.tensor_shape import TensorShape

__all__ = ["PartitionedVariable", "fixed_size_partitioner", "variable_axis_size_partitioner",
           "min_max_variable_partitioner"]


def fixed_size_partitioner(num_shards, axis=0):
    """A partitioner making `num_shards` shards along `axis` (fewer if the axis is shorter).

    Args:
      num_shards: the number of shards.
      axis: the axis to split.

    Returns:
      A function ``(shape, **unused) -> partitions``.
    """

    def _partitioner(shape, **unused_args):
        partitions = [1] * len(shape)
        dims = shape.as_list() if isinstance(shape, TensorShape) else list(shape)
        partitions[axis] = min(num_shards, dims[axis])
        return partitions

    return _partitioner


def _element_size(dtype, bytes_per_string_element):
    dtype = dtypes.as_dtype(dtype)
    if dtype.base_dtype == dtypes.string:
        return bytes_per_string_element
    return dtype.size


def variable_axis_size_partitioner(max_shard_bytes, axis=0, bytes_per_string_element=16,
                                   max_shards=None):
    """A partitioner keeping each shard below `max_shard_bytes` (at least one slice each).

    Args:
      max_shard_bytes: the most bytes a shard should hold.
      axis: the axis to split.
      bytes_per_string_element: the size assumed for a string element.
      max_shards: an optional cap on the number of shards.

    Raises:
      ValueError: if the sizes are not positive.
    """
    if max_shard_bytes < 1 or bytes_per_string_element < 1:
        raise ValueError(f"Both max_shard_bytes and bytes_per_string_element must be "
                         f"positive. Currently, max_shard_bytes is {max_shard_bytes} and"
                         f"bytes_per_string_element is {bytes_per_string_element}")
    if max_shards and max_shards < 1:
        raise ValueError("max_shards must be positive.")

    def _partitioner(shape, dtype):
        if not isinstance(shape, TensorShape):
            raise ValueError(f"shape is not a TensorShape: {shape}")
        if not shape.is_fully_defined():
            raise ValueError(f"shape is not fully defined: {shape}")
        element_size = _element_size(dtype, bytes_per_string_element)
        dims = shape.as_list()
        partitions = [1] * len(dims)
        bytes_per_slice = 1.0 * (shape.num_elements() / dims[axis]) * element_size
        slices_per_shard = max(1, math.floor(max_shard_bytes / bytes_per_slice))
        axis_shards = int(math.ceil(1.0 * dims[axis] / slices_per_shard))
        if max_shards:
            axis_shards = min(max_shards, axis_shards)
        partitions[axis] = axis_shards
        return partitions

    return _partitioner


def min_max_variable_partitioner(max_partitions=1, axis=0, min_slice_size=256 << 10,
                                 bytes_per_string_element=16):
    """A partitioner giving each shard at least `min_slice_size` bytes, and at most
    `max_partitions` shards.

    Args:
      max_partitions: the most shards.
      axis: the axis to split.
      min_slice_size: the fewest bytes per shard.
      bytes_per_string_element: the size assumed for a string element.
    """

    def _partitioner(shape, dtype):
        if axis >= len(shape):
            raise ValueError(f"Cannot partition variable along axis {axis} when shape is "
                             f"only {shape}")
        total_size_bytes = shape.num_elements() * _element_size(dtype,
                                                                bytes_per_string_element)
        partitions = total_size_bytes / min_slice_size
        partitions_list = [1] * len(shape)
        partitions_list[axis] = max(1, min(shape.as_list()[axis], max_partitions,
                                           int(math.ceil(partitions))))
        return partitions_list

    return _partitioner


def call_partitioner(partitioner, shape, dtype):
    """Runs `partitioner` and checks its answer as TF does: one entry per axis, all >= 1, at
    most one > 1.

    Raises:
      ValueError: if the shape is not fully defined or scalar, or the answer is invalid.
    """
    if not shape.is_fully_defined():
        raise ValueError(f"Shape of a new partitioned variable must be fully defined, but "
                         f"instead was {shape}.")
    if shape.rank < 1:
        raise ValueError(f"A partitioned Variable must have rank at least 1, shape: {shape}")
    slicing = partitioner(shape=shape, dtype=dtype)
    if not isinstance(slicing, (list, tuple)):
        raise ValueError(f"Partitioner must return a sequence, but saw: {slicing}")
    if len(slicing) != shape.rank:
        raise ValueError(f"Partitioner returned a partition list that does not match the "
                         f"Variable's rank: {slicing} vs. {shape}")
    if any(p < 1 for p in slicing):
        raise ValueError(f"Partitioner returned zero partitions for some axes: {slicing}")
    if sum(p > 1 for p in slicing) > 1:
        raise ValueError(f"Can only slice a variable along one dimension: shape: {shape}, "
                         f"partitioning: {slicing}")
    return list(slicing)


def slice_dim_and_num_slices(slicing):
    """The axis with more than one slice and its slice count ((0, 1) when unsplit)."""
    for slice_dim, num_slices in enumerate(slicing):
        if num_slices > 1:
            return slice_dim, num_slices
    return 0, 1


def iter_slices(full_shape, num_slices, slice_dim):
    """``(offset, shape)`` of each slice; the first ``len % num_slices`` get one more row."""
    excess = full_shape[slice_dim] % num_slices
    offset = [0] * len(full_shape)
    min_len = full_shape[slice_dim] // num_slices
    for i in range(num_slices):
        shape = list(full_shape)
        shape[slice_dim] = min_len + (1 if i < excess else 0)
        yield list(offset), shape
        offset[slice_dim] += shape[slice_dim]


class PartitionedVariable:
    """A variable stored as shards along one axis (TF 1's class).

    Iterating gives the shard `Variable`s in offset order; converting to a tensor
    concatenates their values. Made by `get_variable` with a partitioner.

    Args:
      name: the overall name.
      shape: the overall shape (a list of ints or a `TensorShape`).
      dtype: the dtype.
      variable_list: the shard variables.
      partitions: the number of shards along each axis.
      offsets: the offset of each shard in the whole, in `variable_list`'s order.

    Raises:
      TypeError: if `variable_list` or `partitions` is not a list or tuple.
      ValueError: if `variable_list` is empty or the partitions are not positive.
    """

    def __init__(self, name, shape, dtype, variable_list, partitions, offsets):
        if not isinstance(variable_list, (list, tuple)):
            raise TypeError(f"variable_list is not a list or tuple: {variable_list}")
        if not isinstance(partitions, (list, tuple)):
            raise TypeError(f"partitions is not a list or tuple: {partitions}")
        if not all(p >= 1 for p in partitions):
            raise ValueError(f"partition values must be positive: {partitions}")
        if not variable_list:
            raise ValueError("variable_list may not be empty")
        order = sorted(range(len(variable_list)), key=lambda i: offsets[i])
        self._variable_list = [variable_list[i] for i in order]
        self._offsets = [list(offsets[i]) for i in order]
        self._name = name
        self._shape = TensorShape(shape)
        self._dtype = dtypes.as_dtype(dtype)
        self._partitions = list(partitions)

    def __iter__(self):
        return iter(self._variable_list)

    def __len__(self):
        axes = self._partition_axes()
        if len(axes) > 1:
            raise ValueError(f"Cannot get a length for {len(axes)} > 1 partition axes")
        return len(self._variable_list)

    def _partition_axes(self):
        if all(p == 1 for p in self._partitions):
            return [0]
        return [i for i, p in enumerate(self._partitions) if p > 1]

    def _concat(self):
        from sessionlib.ops import array_ops

        graph = self._variable_list[0].graph
        if len(self._variable_list) == 1:
            with graph.name_scope(None):
                return array_ops.identity(self._variable_list[0].value(), name=self._name)
        axis = self._partition_axes()[0]
        with graph.name_scope(self._name + "/ConcatPartitions/"):
            concatenated = array_ops.concat([v.value() for v in self._variable_list], axis)
        with graph.name_scope(None):
            return array_ops.identity(concatenated, name=self._name)

    def as_tensor(self):
        """The whole value: the shards' values concatenated (outside any control scope)."""
        with self._variable_list[0].graph.control_dependencies(None):
            return self._concat()

    @property
    def name(self):
        return self._name

    @property
    def dtype(self):
        return self._dtype

    @property
    def shape(self):
        return self._shape

    def get_shape(self):
        return self._shape

    @property
    def graph(self):
        return self._variable_list[0].graph

    def _get_variable_list(self):
        return list(self._variable_list)

    def _get_partitions(self):
        return list(self._partitions)

    def _apply_assign_fn(self, assign_fn, value):
        from sessionlib.ops import array_ops

        axes = self._partition_axes()
        if isinstance(value, (list, PartitionedVariable)):
            values = list(value)
            if len(values) != len(self._variable_list):
                raise ValueError(f"Expected {len(self._variable_list)} values, one per "
                                 f"partition, got {len(values)}")
        else:
            sizes = [v.shape.as_list()[axes[0]] for v in self._variable_list]
            values = array_ops.split(value, sizes, axis=axes[0])
        return [assign_fn(var, part) for var, part in zip(self._variable_list, values)]

    def assign(self, value, use_locking=False, name=None, read_value=True):
        """Assigns the slices of `value` (or a list of per-shard values) to the shards.

        Returns:
          A list with one result per shard (see `Variable.assign`).
        """
        return self._apply_assign_fn(
            lambda var, part: var.assign(part, name=name, read_value=read_value), value)

    def assign_add(self, value, use_locking=False, name=None, read_value=True):
        """`assign`, adding."""
        return self._apply_assign_fn(
            lambda var, part: var.assign_add(part, name=name, read_value=read_value), value)

    def assign_sub(self, value, use_locking=False, name=None, read_value=True):
        """`assign`, subtracting."""
        return self._apply_assign_fn(
            lambda var, part: var.assign_sub(part, name=name, read_value=read_value), value)

    def __repr__(self):
        return (f"<PartitionedVariable '{self._name}' shape={self._shape} "
                f"dtype={self._dtype.name} partitions={self._partitions}>")


def _to_tensor(variable, dtype=None, name=None):
    if dtype is not None and not dtypes.as_dtype(dtype).is_compatible_with(variable.dtype):
        raise ValueError(f"Incompatible type conversion requested to type "
                         f"'{dtypes.as_dtype(dtype).name}' for variable of type "
                         f"'{variable.dtype.name}'")
    return variable.as_tensor()


graph_lib.register_tensor_conversion_function(PartitionedVariable, _to_tensor)


def create_partitioned_variables(shape, slicing, initializer, dtype=dtypes.float32,
                                 trainable=True, collections=None, name=None, reuse=None):
    """Creates a variable of `shape` split into parts by `slicing` (TF 1's deprecated
    ``tf.create_partitioned_variables``; `get_variable` with a partitioner is the same).

    Args:
      shape: the full variable's shape (a list of ints, rank >= 1).
      slicing: how many parts along each dimension (one entry per dimension; at most one
        entry above 1).
      initializer: the initializer of the full variable (called per part).
      dtype: the variables' type.
      trainable: add the parts to the trainable variables.
      collections: the collections to add the parts to (default: global variables).
      name: the variable scope of the parts (default 'PartitionedVariable').
      reuse: reuse the parts of an existing partitioned variable of that name.

    Returns:
      The list of part variables, named ``<name>/part_<i>``.

    Raises:
      ValueError: if `shape` and `slicing` differ in length, or `shape` is a scalar's.
    """
    from sessionlib.ops import variable_scope

    if len(shape) != len(slicing):
        raise ValueError(f"The 'shape' and 'slicing' of a partitioned Variable must have the "
                         f"length: shape: {shape}, slicing: {slicing}")
    if len(shape) < 1:
        raise ValueError(f"A partitioned Variable must have rank at least 1: shape: {shape}")
    with variable_scope.variable_scope(name, "PartitionedVariable", reuse=reuse) as scope:
        store = variable_scope._get_default_variable_store()
        partitioned = store.get_variable(
            scope.name, shape=shape, dtype=dtype, initializer=initializer,
            trainable=trainable, collections=collections, reuse=scope.reuse,
            partitioner=lambda **unused_kwargs: list(slicing))
        return list(partitioned)
__all__.append("create_partitioned_variables")
