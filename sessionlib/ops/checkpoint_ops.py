"""Checkpoint ops: ``SaveV2``, ``RestoreV2``, ``MergeV2Checkpoints``, and the string ops that
name a sharded save's files (``StringJoin``, ``ShardedFilename``).

They are TF's ops with TF's signatures, so a `tf.train.Saver` graph is the graph TF builds:

* ``SaveV2(prefix, tensor_names, shape_and_slices, tensors...)`` writes the tensors as a V2
  checkpoint with that prefix (attr ``dtypes``); no outputs.
* ``RestoreV2(prefix, tensor_names, shape_and_slices) -> tensors`` reads them back (attr
  ``dtypes``, the outputs' dtypes). A non-empty ``shape_and_slices`` entry is TF's
  ``"<full shape> <slice>"`` spec; only full slices (``-`` in every dimension) are supported,
  and the stored shape must equal the full shape, else InvalidArgumentError.
* ``MergeV2Checkpoints(checkpoint_prefixes, destination_prefix)`` joins the single-shard
  checkpoints of a sharded save into one (attr ``delete_old_dirs``).

All are stateful (they touch the file system, so they are never folded or deduplicated) and not
differentiable. They run where they are placed: the Saver puts each save and restore on the
device of the variables it covers, so each device worker writes and reads its own tensors. The
kernels and the file format live in the runtime (``checkpoint_kernels``, ``tensor_bundle``);
this module names kernels and must never import them.
"""

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework import registry
from sessionlib.framework.tensor_shape import TensorShape

__all__ = ["save_v2", "restore_v2", "merge_v2_checkpoints", "string_join", "sharded_filename"]


def _check_string(tensor, what, op_type):
    if tensor.dtype is not dtypes.string:
        raise TypeError(f"{op_type}: {what} must be a string tensor, not {tensor.dtype.name}")


def _check_rank(tensor, rank, what, op_type):
    if tensor.shape.ndims is not None and tensor.shape.ndims != rank:
        raise ValueError(f"{op_type}: {what} must have rank {rank}, but has shape "
                         f"{tensor.shape}")


def _names_infer(op_type, inputs, count):
    _check_string(inputs[0], "prefix", op_type)
    _check_rank(inputs[0], 0, "prefix", op_type)
    for index, what in ((1, "tensor_names"), (2, "shape_and_slices")):
        _check_string(inputs[index], what, op_type)
        _check_rank(inputs[index], 1, what, op_type)
        size = inputs[index].shape.dims[0] if inputs[index].shape.ndims == 1 else None
        if size is not None and size != count:
            raise ValueError(f"{op_type}: {what} has {size} elements, expected {count}")


def _save_infer(inputs, attrs):
    if len(inputs) < 3:
        raise ValueError("SaveV2 takes prefix, tensor_names, shape_and_slices and tensors")
    attrs["dtypes"] = [tensor.dtype for tensor in inputs[3:]]
    _names_infer("SaveV2", inputs, len(inputs) - 3)
    return []


def _restore_infer(inputs, attrs):
    attrs["dtypes"] = [dtypes.as_dtype(dtype) for dtype in attrs["dtypes"]]
    _names_infer("RestoreV2", inputs, len(attrs["dtypes"]))
    return [(dtype, TensorShape(None)) for dtype in attrs["dtypes"]]


def _merge_infer(inputs, attrs):
    attrs.setdefault("delete_old_dirs", True)
    for tensor, what, rank in ((inputs[0], "checkpoint_prefixes", 1),
                               (inputs[1], "destination_prefix", 0)):
        _check_string(tensor, what, "MergeV2Checkpoints")
        _check_rank(tensor, rank, what, "MergeV2Checkpoints")
    return []


def _string_join_infer(inputs, attrs):
    attrs.setdefault("separator", "")
    # TF's StringJoin requires N: without it TF cannot import the graph (e.g. a sharded
    # Saver's ops in a SavedModel).
    attrs["N"] = len(inputs)
    shape = TensorShape([])
    for tensor in inputs:
        _check_string(tensor, "each input", "StringJoin")
        if tensor.shape.ndims != 0:
            shape = tensor.shape if shape.ndims == 0 else shape.merge_with(tensor.shape)
    return [(dtypes.string, shape)]


def _sharded_filename_infer(inputs, attrs):
    _check_string(inputs[0], "basename", "ShardedFilename")
    for tensor in inputs[1:]:
        if tensor.dtype is not dtypes.int32:
            raise TypeError("ShardedFilename: shard and num_shards must be int32")
    return [(dtypes.string, TensorShape([]))]


registry.register_op("SaveV2", infer=_save_infer, kernel="SaveV2", stateful=True,
                     doc="Writes tensors as a V2 checkpoint.",
                     gradient=registry.NOT_DIFFERENTIABLE)
registry.register_op("RestoreV2", infer=_restore_infer, kernel="RestoreV2", num_inputs=3,
                     stateful=True, doc="Reads tensors from a V2 checkpoint.",
                     gradient=registry.NOT_DIFFERENTIABLE)
registry.register_op("MergeV2Checkpoints", infer=_merge_infer, kernel="MergeV2Checkpoints",
                     num_inputs=2, stateful=True,
                     doc="Joins the shards of a sharded V2 checkpoint.",
                     gradient=registry.NOT_DIFFERENTIABLE)
registry.register_op("StringJoin", infer=_string_join_infer, kernel="StringJoin",
                     doc="Joins strings elementwise.", gradient=registry.NOT_DIFFERENTIABLE)
registry.register_op("ShardedFilename", infer=_sharded_filename_infer,
                     kernel="ShardedFilename", num_inputs=3,
                     doc="'<basename>-<shard>-of-<num_shards>', five digits each.",
                     gradient=registry.NOT_DIFFERENTIABLE)


def _strings(value, name):
    return graph_lib.convert_to_tensor(value, dtype=dtypes.string, name=name)


def save_v2(prefix, tensor_names, shape_and_slices, tensors, name=None):
    """Saves `tensors` under `tensor_names` in the V2 checkpoint `prefix` (TF's ``save_v2``).

    Args:
      prefix: a scalar string tensor, the checkpoint prefix.
      tensor_names: a 1-D string tensor (or list) of names, one per tensor.
      shape_and_slices: a 1-D string tensor (or list), ``""`` per tensor for whole tensors.
      tensors: the tensors to save.
      name: the op's name.

    Returns:
      The SaveV2 Operation.
    """
    graph = graph_lib.get_default_graph()
    inputs = [_strings(prefix, "prefix"), _strings(tensor_names, "tensor_names"),
              _strings(shape_and_slices, "shape_and_slices")]
    inputs += [graph_lib.convert_to_tensor(tensor) for tensor in tensors]
    return graph.create_op("SaveV2", inputs, {}, name=name or "SaveV2")


def restore_v2(prefix, tensor_names, shape_and_slices, dtypes, name=None):  # noqa: A002
    """Restores tensors from the V2 checkpoint `prefix` (TF's ``restore_v2``).

    Args:
      prefix: a scalar string tensor, the checkpoint prefix.
      tensor_names: a 1-D string tensor (or list) of names.
      shape_and_slices: ``""`` per tensor, or ``"<full shape> <slice>"`` to check the shape.
      dtypes: the dtypes of the tensors.
      name: the op's name.

    Returns:
      A list of tensors, one per name.
    """
    graph = graph_lib.get_default_graph()
    inputs = [_strings(prefix, "prefix"), _strings(tensor_names, "tensor_names"),
              _strings(shape_and_slices, "shape_and_slices")]
    return graph.create_op("RestoreV2", inputs, {"dtypes": list(dtypes)},
                           name=name or "RestoreV2").outputs


def merge_v2_checkpoints(checkpoint_prefixes, destination_prefix, delete_old_dirs=True,
                         name=None):
    """Merges single-shard checkpoints into `destination_prefix` (TF's op of that name).

    Returns:
      The MergeV2Checkpoints Operation.
    """
    graph = graph_lib.get_default_graph()
    inputs = [_strings(checkpoint_prefixes, "checkpoint_prefixes"),
              _strings(destination_prefix, "destination_prefix")]
    return graph.create_op("MergeV2Checkpoints", inputs, {"delete_old_dirs": delete_old_dirs},
                           name=name or "MergeV2Checkpoints")


def string_join(inputs, separator="", name=None):
    """Joins string tensors elementwise (TF's ``strings.join``).

    Returns:
      A string tensor.
    """
    graph = graph_lib.get_default_graph()
    tensors = [_strings(value, "input") for value in inputs]
    return graph.create_op("StringJoin", tensors, {"separator": separator},
                           name=name or "StringJoin").outputs[0]


def sharded_filename(basename, shard, num_shards, name=None):
    """``'<basename>-0000<shard>-of-0000<num_shards>'`` as a string tensor.

    Returns:
      A scalar string tensor.
    """
    graph = graph_lib.get_default_graph()
    inputs = [_strings(basename, "basename"),
              graph_lib.convert_to_tensor(shard, dtype=dtypes.int32, name="shard"),
              graph_lib.convert_to_tensor(num_shards, dtype=dtypes.int32, name="num_shards")]
    return graph.create_op("ShardedFilename", inputs, {},
                           name=name or "ShardedFilename").outputs[0]
