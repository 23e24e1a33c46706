"""Kernels of the checkpoint ops: ``SaveV2``, ``RestoreV2``, ``MergeV2Checkpoints``, and the
string ops that name a sharded save's files (``StringJoin``, ``ShardedFilename``).

Each kernel does its file work where it runs: in the client for a one-device session, in the
device's worker otherwise, so a sharded save writes each device's variables from that device's
worker and no tensor travels to the client. The format is ``framework/tensor_bundle.py``.

Shape checks. ``RestoreV2`` accepts TF's ``"<full shape> <slice>"`` specs with full slices only
(``-`` in every dimension); the Saver passes the variable's shape this way, so a checkpoint of
another shape fails with InvalidArgumentError before anything is assigned, as TF's restore of a
partitioned variable does.

The graph side is ``ops/checkpoint_ops.py``; this module must never import it.
"""

import numpy as np

from sessionlib import dtypes, errors
from sessionlib.framework import tensor_bundle
from sessionlib.runtime.kernel_table import register_kernel

__all__ = []


def _text(value):
    value = value.item() if isinstance(value, np.ndarray) else value
    return value.decode("utf-8", "surrogateescape") if isinstance(value, bytes) else str(value)


def _texts(array, what, count=None):
    array = np.asarray(array, dtype=object)
    if array.ndim != 1:
        raise errors.InvalidArgumentError(None, None, f"{what} must be a vector, got shape "
                                          f"{list(array.shape)}")
    if count is not None and array.shape[0] != count:
        raise errors.InvalidArgumentError(None, None, f"Expected {what} to have {count} "
                                          f"elements, got {array.shape[0]}")
    return [_text(item) for item in array]


def _scalar_prefix(value, what="prefix"):
    if np.ndim(value) != 0:
        raise errors.InvalidArgumentError(None, None, f"Input {what} should be a scalar "
                                          f"tensor, but has shape {list(np.shape(value))}")
    return _text(value)


def _full_shape_of_spec(spec, name):
    """The full shape a ``"<full shape> <slice>"`` spec states, or None for ``""``.

    Raises:
      UnimplementedError: for a spec naming a partial slice.
      InvalidArgumentError: for a malformed spec.
    """
    spec = spec.strip()
    if not spec:
        return None
    parts = spec.split(" ")
    try:
        shape = [int(part) for part in parts[:-1]]
    except ValueError:
        raise errors.InvalidArgumentError(None, None, f"Malformed shape_and_slice spec "
                                          f"'{spec}' for {name}") from None
    slices = parts[-1].split(":")
    if len(slices) != len(shape):
        raise errors.InvalidArgumentError(None, None, f"Malformed shape_and_slice spec "
                                          f"'{spec}' for {name}")
    for index, extent in enumerate(slices):
        if extent == "-":
            continue
        start, _, length = extent.partition(",")
        if not (start == "0" and length == str(shape[index])):
            raise errors.UnimplementedError(
                None, None, f"Saving or restoring a slice of {name} ('{spec}') is not "
                "supported; only whole tensors are")
    return shape


def _save_kernel(ctx, inputs, attrs):
    prefix = _scalar_prefix(inputs[0])
    tensors = inputs[3:]
    names = _texts(inputs[1], "tensor_names", len(tensors))
    specs = _texts(inputs[2], "shape_and_slices", len(tensors))
    kinds = attrs.get("dtypes") or [None] * len(tensors)
    writer = tensor_bundle.BundleWriter(prefix)
    try:
        for name, spec, tensor, dtype in zip(names, specs, tensors, kinds):
            shape = _full_shape_of_spec(spec, name)
            if shape is not None and list(np.shape(tensor)) != shape:
                raise errors.InvalidArgumentError(
                    None, None, f"Shape of {name} is {list(np.shape(tensor))}, but its "
                    f"shape_and_slice spec says {shape}")
            writer.add(name, tensor, dtypes.as_dtype(dtype) if dtype is not None else None)
    except BaseException:
        writer.abort()
        raise
    writer.finish()
    return ()


def _restore_kernel(ctx, inputs, attrs):
    prefix = _scalar_prefix(inputs[0])
    kinds = [dtypes.as_dtype(dtype) for dtype in attrs["dtypes"]]
    names = _texts(inputs[1], "tensor_names", len(kinds))
    specs = _texts(inputs[2], "shape_and_slices", len(kinds))
    with tensor_bundle.BundleReader(prefix) as reader:
        # Check every name, dtype and shape before reading any bytes: a restore that fails
        # fails before it has read a large checkpoint.
        for name, spec, dtype in zip(names, specs, kinds):
            stored = reader.dtype(name)
            if stored != dtype:
                raise errors.InvalidArgumentError(
                    None, None, f"tensor_name = {name}; expected dtype {dtype.name} does not "
                    f"equal original dtype {stored.name}")
            shape = _full_shape_of_spec(spec, name)
            if shape is not None and reader.shape(name) != shape:
                raise errors.InvalidArgumentError(
                    None, None, f"tensor_name = {name}; shape in shape_and_slice spec "
                    f"{shape} does not match the shape stored in checkpoint: "
                    f"{reader.shape(name)}")
        return tuple(reader.read(name) for name in names)


def _merge_kernel(ctx, inputs, attrs):
    sources = _texts(inputs[0], "checkpoint_prefixes")
    destination = _scalar_prefix(inputs[1], "destination_prefix")
    tensor_bundle.merge_bundles(sources, destination,
                                delete_old=bool(attrs.get("delete_old_dirs", True)))
    return ()


def _string_join_kernel(ctx, inputs, attrs):
    separator = attrs.get("separator", "")
    separator = separator.encode() if isinstance(separator, str) else bytes(separator)
    arrays = [np.asarray(value, dtype=object) for value in inputs]
    shapes = {array.shape for array in arrays if array.ndim}
    if len(shapes) > 1:
        raise errors.InvalidArgumentError(None, None, "StringJoin: inputs must be scalars or "
                                          f"have the same shape, got {sorted(shapes)}")
    shape = shapes.pop() if shapes else ()
    out = np.empty(shape, dtype=object)
    for index in np.ndindex(shape):
        pieces = [array[index] if array.ndim else array[()] for array in arrays]
        out[index] = separator.join(piece.encode() if isinstance(piece, str) else bytes(piece)
                                    for piece in pieces)
    return (out,)


def _sharded_filename_kernel(ctx, inputs, attrs):
    basename = _text(inputs[0])
    out = np.empty((), dtype=object)
    out[()] = (f"{basename}-{int(inputs[1]):05d}-of-{int(inputs[2]):05d}").encode(
        "utf-8", "surrogateescape")
    return (out,)


# File and string work only: the reference kernel is the fast one.
register_kernel("SaveV2", reference=_save_kernel)
register_kernel("RestoreV2", reference=_restore_kernel)
register_kernel("MergeV2Checkpoints", reference=_merge_kernel)
register_kernel("StringJoin", reference=_string_join_kernel)
register_kernel("ShardedFilename", reference=_sharded_filename_kernel)
