"""Array manipulation for models: ``one_hot``, ``pad``, ``reverse``, ``boolean_mask``,
``sequence_mask``, ``matrix_transpose`` and ``einsum``.

``OneHot``, ``Pad``, ``PadV2``, ``MirrorPad`` (with its gradient op ``MirrorPadGrad``) and
``ReverseV2`` are ops, each one registration with its gradient; their kernels are in
``runtime/kernels/manipulation_kernels.py``. ``boolean_mask``, ``sequence_mask``,
``matrix_transpose`` and ``einsum`` are composites of existing ops, as in TF (``einsum`` is built
from Transpose, Reshape, MatMul/BatchMatMulV2, Mul and Sum rather than TF's ``Einsum`` op), so
their gradients come from the ops they are made of.
"""

import numpy as np

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework import registry
from sessionlib.framework.graph import Tensor
from sessionlib.framework.tensor_shape import TensorShape
from sessionlib.ops import _infer, array_ops, math_ops

__all__ = ["one_hot", "pad", "reverse", "reverse_v2", "boolean_mask", "sequence_mask",
           "matrix_transpose", "einsum"]

_INDEX = (dtypes.int32, dtypes.int64)


def _graph_of(*values):
    return math_ops._find_graph([v for v in values if v is not None])


# ---- OneHot -------------------------------------------------------------------------------------

def _one_hot_infer(inputs, attrs):
    indices, depth, on_value, off_value = inputs
    _infer.check_dtype("OneHot", indices, (dtypes.uint8, dtypes.int32, dtypes.int64),
                       "indices")
    _infer.check_dtype("OneHot", depth, (dtypes.int32,), "depth")
    dtype = _infer.same_dtype("OneHot", [on_value, off_value], names=("on_value", "off_value"))
    attrs["T"] = dtype
    attrs["TI"] = indices.dtype
    axis = int(attrs.setdefault("axis", -1))
    for tensor, arg in ((depth, "depth"), (on_value, "on_value"), (off_value, "off_value")):
        if tensor.shape.rank not in (None, 0):
            raise ValueError(f"Shape must be rank 0 but is rank {tensor.shape.rank} for "
                             f"'{arg}' of 'OneHot'")
    if axis < -1:
        raise ValueError(f"axis must be >= -1 for 'OneHot', got {axis}")
    if indices.shape.rank is None:
        return [(dtype, TensorShape(None))]
    rank = indices.shape.rank
    if axis > rank:
        raise ValueError(f"axis must be in [-1, {rank}] for 'OneHot', got {axis}")
    depth_value = _infer.folded_value(depth)
    depth_dim = None if depth_value is None or int(depth_value) < 0 else int(depth_value)
    dims = indices.shape.as_list()
    dims.insert(rank if axis == -1 else axis, depth_dim)
    return [(dtype, TensorShape(dims))]


registry.register_op("OneHot", infer=_one_hot_infer, kernel="OneHot", num_inputs=4,
                     doc="One-hot vectors of indices along a new axis.",
                     gradient=registry.NOT_DIFFERENTIABLE)


def one_hot(indices, depth, on_value=None, off_value=None, axis=None, dtype=None, name=None):
    """One-hot encodings of `indices` (op ``OneHot``).

    Positions equal to the index get `on_value`, all others `off_value`; an index outside
    ``[0, depth)`` gives a row of `off_value`.

    Args:
      indices: a uint8/int32/int64 Tensor.
      depth: a scalar, the size of the new axis.
      on_value, off_value: scalars; default 1 and 0 of `dtype`.
      axis: where the new axis goes (-1, the default, appends it).
      dtype: the output dtype; default: the dtype of `on_value` or `off_value`, else float32.
      name: the op name.

    Returns:
      A Tensor of `dtype` with the new axis of length `depth` at `axis`.

    Raises:
      TypeError: if `on_value`, `off_value` and `dtype` disagree.
      ValueError: for an axis below -1 or beyond the rank of `indices`.
    """
    graph = _graph_of(indices, depth, on_value, off_value)
    with graph.as_default(), graph.name_scope(name or "one_hot") as scope:
        dtype = None if dtype is None else dtypes.as_dtype(dtype)
        indices_t = array_ops._tensor(indices, "indices", graph)
        on_t = None if on_value is None else _hinted(on_value, dtype, "on_value", graph)
        off_t = None if off_value is None else _hinted(off_value, dtype, "off_value", graph)
        if dtype is not None:
            for given, arg in ((on_t, "on_value"), (off_t, "off_value")):
                if given is not None and given.dtype != dtype:
                    raise TypeError(f"dtype {given.dtype} of {arg} does not match dtype "
                                    f"parameter {dtype}")
        else:
            given = [t for t in (on_t, off_t) if t is not None]
            dtype = given[0].dtype if given else dtypes.float32
        if on_t is None:
            on_t = graph_lib.convert_to_tensor(1, dtype=dtype, name="on_value", graph=graph)
        if off_t is None:
            off_t = graph_lib.convert_to_tensor(0, dtype=dtype, name="off_value", graph=graph)
        if on_t.dtype != off_t.dtype:
            raise TypeError(f"dtype {on_t.dtype} of on_value does not match dtype "
                            f"{off_t.dtype} of off_value")
        depth_t = graph_lib.convert_to_tensor(depth, dtype=dtypes.int32, name="depth",
                                              graph=graph)
        attrs = {"axis": -1 if axis is None else int(axis)}
        return graph.create_op("OneHot", [indices_t, depth_t, on_t, off_t], attrs,
                               name=scope).outputs[0]


def _hinted(value, dtype, name, graph):
    """`value` as a Tensor, of `dtype` when it converts to it (TF's ``dtype_hint``), else of
    its own dtype."""
    if isinstance(value, Tensor):
        return value
    if dtype is not None:
        try:
            return graph_lib.convert_to_tensor(value, dtype=dtype, name=name, graph=graph)
        except (TypeError, ValueError):
            pass
    return graph_lib.convert_to_tensor(value, name=name, graph=graph)


# ---- Pad, PadV2, MirrorPad, MirrorPadGrad -------------------------------------------------------

def _padded_shape(op_type, value_shape, paddings, sign):
    """The static shape of `value_shape` padded (sign 1) or unpadded (sign -1) by `paddings`."""
    _infer.check_index_dtype(op_type, paddings, "paddings")
    pad_shape = paddings.shape
    if pad_shape.rank is not None and pad_shape.rank != 2:
        raise ValueError(f"Shape must be rank 2 but is rank {pad_shape.rank} for '{op_type}' "
                         f"with input shapes: {value_shape}, {pad_shape}.")
    rank = value_shape.rank
    if pad_shape.rank == 2:
        if pad_shape[1] is not None and pad_shape[1] != 2:
            raise ValueError(f"Dimension 1 in both shapes must be equal, but are "
                             f"{pad_shape[1]} and 2 for '{op_type}'")
        if rank is not None and pad_shape[0] is not None and pad_shape[0] != rank:
            raise ValueError(f"Shape must be rank {pad_shape[0]} but is rank {rank} for "
                             f"'{op_type}' with input shapes: {value_shape}, {pad_shape}.")
        if rank is None:
            rank = pad_shape[0]
    if rank is None:
        return TensorShape(None)
    known = _infer.folded_value(paddings)
    if known is None:
        return TensorShape([None] * rank)
    known = np.asarray(known).reshape(rank, 2)
    if (known < 0).any():
        raise ValueError(f"Paddings must be non-negative for '{op_type}' with input shapes: "
                         f"{value_shape}, {pad_shape} and with computed input tensors: "
                         f"paddings = {known.tolist()}.")
    if value_shape.rank is None:
        return TensorShape([None] * rank)
    dims = []
    for dim, (before, after) in zip(value_shape.as_list(), known.tolist()):
        if dim is None:
            dims.append(None)
            continue
        size = dim + sign * (before + after)
        if size < 0:
            raise ValueError(f"Paddings {known.tolist()} are larger than the input shape "
                             f"{value_shape} of '{op_type}'")
        dims.append(size)
    return TensorShape(dims)


def _pad_infer(inputs, attrs):
    value, paddings = inputs[:2]
    attrs["T"] = value.dtype
    attrs["Tpaddings"] = paddings.dtype
    if len(inputs) == 3:
        _infer.same_dtype("PadV2", [value, inputs[2]], names=("input", "constant_values"))
        if inputs[2].shape.rank not in (None, 0):
            raise ValueError(f"Shape must be rank 0 but is rank {inputs[2].shape.rank} for "
                             "'constant_values' of 'PadV2'")
    return [(value.dtype, _padded_shape("Pad", value.shape, paddings, 1))]


def _mirror_pad_infer(op_type, sign):
    def infer(inputs, attrs):
        value, paddings = inputs
        attrs["T"] = value.dtype
        attrs["Tpaddings"] = paddings.dtype
        mode = attrs.get("mode")
        if isinstance(mode, bytes):
            mode = attrs["mode"] = mode.decode()
        if mode not in ("REFLECT", "SYMMETRIC"):
            raise ValueError(f"{op_type}: mode must be 'REFLECT' or 'SYMMETRIC', got {mode!r}")
        return [(value.dtype, _padded_shape(op_type, value.shape, paddings, sign))]

    return infer


def _pad_begin_and_size(op):
    """The begin (first column of the paddings) and size (the input's shape) of the block of
    a padded gradient that belongs to the input, as TF's pad gradient slices it."""
    value, paddings = op.inputs[:2]
    before = array_ops.slice(paddings, [0, 0], array_ops.stack([array_ops.rank(value), 1]))
    begin = array_ops.reshape(before, [-1])
    return begin, array_ops.shape(value, out_type=begin.dtype)


def _pad_grad(op, grad):
    begin, size = _pad_begin_and_size(op)
    return [array_ops.slice(grad, begin, size)] + [None] * (len(op.inputs) - 1)


def _mirror_pad_grad(op, grad):
    mode = op.get_attr("mode")
    return [op.graph.create_op("MirrorPadGrad", [grad, op.inputs[1]], {"mode": mode},
                               name="MirrorPadGrad").outputs[0], None]


def _mirror_pad_grad_grad(op, grad):
    mode = op.get_attr("mode")
    return [op.graph.create_op("MirrorPad", [grad, op.inputs[1]], {"mode": mode},
                               name="MirrorPad").outputs[0], None]


registry.register_op("Pad", infer=_pad_infer, kernel="Pad", num_inputs=2,
                     doc="Pads with zeros.", gradient=_pad_grad)
registry.register_op("PadV2", infer=_pad_infer, kernel="PadV2", num_inputs=3,
                     doc="Pads with a constant value.", gradient=_pad_grad)
registry.register_op("MirrorPad", infer=_mirror_pad_infer("MirrorPad", 1), kernel="MirrorPad",
                     num_inputs=2, doc="Pads with a reflection of the input.",
                     gradient=_mirror_pad_grad)
registry.register_op("MirrorPadGrad", infer=_mirror_pad_infer("MirrorPadGrad", -1),
                     kernel="MirrorPadGrad", num_inputs=2,
                     doc="The gradient of MirrorPad: folds the padding back onto the input.",
                     gradient=_mirror_pad_grad_grad)


def pad(tensor, paddings, mode="CONSTANT", name=None, constant_values=0):
    """Pads `tensor` (op ``Pad``, ``PadV2`` with non-zero `constant_values`, or ``MirrorPad``).

    Args:
      tensor: the Tensor to pad.
      paddings: an int32/int64 ``[rank, 2]`` array: ``paddings[d] = [before, after]``.
      mode: 'CONSTANT', 'REFLECT' or 'SYMMETRIC' (any case). REFLECT mirrors without the
        edge (padding at most ``dim - 1``), SYMMETRIC with it (at most ``dim``).
      name: the op name.
      constant_values: the pad value in CONSTANT mode, of `tensor`'s dtype.

    Returns:
      A Tensor of `tensor`'s dtype with ``dim + before + after`` along each dimension.

    Raises:
      ValueError: for an unknown mode, a paddings shape that does not fit, or negative
        paddings known while the graph is built. Paddings too large for a mirror mode are an
        InvalidArgumentError when the graph runs.
    """
    mode = str(mode).upper()
    if mode not in ("CONSTANT", "REFLECT", "SYMMETRIC"):
        raise ValueError('Value of argument `mode` expected to be one of "CONSTANT", '
                         f'"REFLECT", or "SYMMETRIC". Received `mode` = {mode}')
    graph = _graph_of(tensor, paddings, constant_values)
    if mode != "CONSTANT":
        op_type = "MirrorPad"
    elif (not isinstance(constant_values, Tensor) and np.ndim(constant_values) == 0
          and constant_values == 0):
        op_type = "Pad"
    else:
        op_type = "PadV2"
    with graph.as_default(), graph.name_scope(name or op_type) as scope:
        value = array_ops._tensor(tensor, "input", graph)
        paddings_t = array_ops._index_tensor(paddings, "paddings", graph)
        inputs = [value, paddings_t]
        attrs = {}
        if op_type == "PadV2":
            inputs.append(array_ops._tensor(constant_values, "constant_values", graph,
                                            value.dtype))
        elif op_type == "MirrorPad":
            attrs["mode"] = mode
        return graph.create_op(op_type, inputs, attrs, name=scope).outputs[0]


# ---- ReverseV2 ----------------------------------------------------------------------------------

def _reverse_infer(inputs, attrs):
    value, axis = inputs
    _infer.check_index_dtype("ReverseV2", axis, "axis")
    attrs["T"] = value.dtype
    attrs["Tidx"] = axis.dtype
    if axis.shape.rank not in (None, 1):
        raise ValueError(f"Shape must be rank 1 but is rank {axis.shape.rank} for "
                         "'ReverseV2'")
    known = _infer.folded_value(axis)
    rank = value.shape.rank
    if known is not None and rank is not None:
        seen = set()
        for position, entry in enumerate(np.asarray(known).reshape(-1).tolist()):
            if not -rank <= entry < rank:
                raise ValueError(f"'axis'[{position}] = {entry} is out of valid range "
                                 f"[0, {rank - 1}] for 'ReverseV2' with input shapes: "
                                 f"{value.shape}, {axis.shape}")
            if entry % rank in seen:
                raise ValueError(f"axis {entry % rank} specified more than once. for "
                                 f"'ReverseV2' with input shapes: {value.shape}, "
                                 f"{axis.shape}")
            seen.add(entry % rank)
    return [(value.dtype, value.shape)]


def _reverse_grad(op, grad):
    return [reverse(grad, op.inputs[1]), None]


registry.register_op("ReverseV2", infer=_reverse_infer, kernel="ReverseV2", num_inputs=2,
                     doc="Reverses the order of the elements along some axes.",
                     gradient=_reverse_grad)


def reverse(tensor, axis, name=None):
    """`tensor` with the order of its elements reversed along `axis` (op ``ReverseV2``).

    Args:
      tensor: a Tensor.
      axis: an int, a list of ints or a 1-D int32/int64 Tensor of distinct dimensions.
      name: the op name.

    Returns:
      A Tensor of `tensor`'s shape and dtype.

    Raises:
      ValueError: for an axis out of range or given twice, when known while the graph is
        built (otherwise an InvalidArgumentError when it runs).
    """
    graph = _graph_of(tensor, axis)
    with graph.as_default(), graph.name_scope(name or "ReverseV2") as scope:
        value = array_ops._tensor(tensor, "tensor", graph)
        if not isinstance(axis, Tensor) and np.ndim(axis) == 0:
            axis = [axis]
        axis_t = array_ops._index_tensor(axis, "axis", graph)
        return graph.create_op("ReverseV2", [value, axis_t], name=scope).outputs[0]


reverse_v2 = reverse


# ---- boolean_mask, sequence_mask, matrix_transpose (composites) --------------------------------

def boolean_mask(tensor, mask, name="boolean_mask", axis=None):
    """The elements (or slices) of `tensor` where `mask` is true, as TF builds it: the mask's
    dimensions are flattened into one, and ``Where`` + ``GatherV2`` pick along it.

    Args:
      tensor: a Tensor of rank >= ``axis + rank(mask)``.
      mask: a bool Tensor of known rank >= 1 whose shape matches the dimensions of `tensor`
        starting at `axis`.
      name: the name scope.
      axis: the first dimension of `tensor` that `mask` covers (default 0).

    Returns:
      A Tensor of rank ``rank(tensor) - rank(mask) + 1``.

    Raises:
      ValueError: for a scalar mask or a mask of unknown rank, or shapes that do not match.
    """
    graph = _graph_of(tensor, mask)
    with graph.as_default(), graph.name_scope(name or "boolean_mask"):
        tensor = array_ops._tensor(tensor, "tensor", graph)
        mask = array_ops._tensor(mask, "mask", graph, dtypes.bool)
        ndims_mask = mask.shape.rank
        if ndims_mask == 0:
            raise ValueError("mask cannot be scalar.")
        if ndims_mask is None:
            raise ValueError("Number of mask dimensions must be specified, even if some "
                             "dimensions are None.  E.g. shape=[None] is ok, but shape=None "
                             "is not.")
        axis = 0 if axis is None else axis
        axis_value = _infer.constant_of(axis) if isinstance(axis, Tensor) else axis
        shape_tensor = tensor.shape
        if axis_value is not None:
            axis = int(axis_value)
            if shape_tensor.rank is not None:
                if axis < 0:
                    axis += shape_tensor.rank
                covered = TensorShape(shape_tensor.as_list()[axis:axis + ndims_mask])
                if not covered.is_compatible_with(mask.shape):
                    raise ValueError(f"Shapes {covered} and {mask.shape} are incompatible")
        dynamic = array_ops.shape(tensor)
        leading_size = math_ops.reduce_prod(dynamic[axis:axis + ndims_mask], [0])
        flat_shape = array_ops.concat([dynamic[:axis], array_ops.reshape(leading_size, [1]),
                                       dynamic[axis + ndims_mask:]], 0)
        reshaped = array_ops.reshape(tensor, flat_shape)
        if axis_value is not None and shape_tensor.rank is not None:
            dims = shape_tensor.as_list()
            first = TensorShape(dims[axis:axis + ndims_mask]).num_elements()
            reshaped.set_shape(dims[:axis] + [first] + dims[axis + ndims_mask:])
        flat_mask = array_ops.reshape(mask, [-1])
        indices = array_ops.squeeze(array_ops.where(flat_mask), axis=[1])
        return array_ops.gather(reshaped, indices, axis=axis)


def sequence_mask(lengths, maxlen=None, dtype=dtypes.bool, name=None):
    """The mask of the first ``lengths[i]`` positions of each row, as TF builds it
    (``Range(maxlen) < ExpandDims(lengths, -1)``).

    Args:
      lengths: an integer Tensor of any shape.
      maxlen: a scalar, the length of the new last dimension; default ``max(lengths)``.
      dtype: the output dtype (bool, or a number type that the mask is cast to).
      name: the name scope (default 'SequenceMask').

    Returns:
      A Tensor of shape ``lengths.shape + [maxlen]``.

    Raises:
      ValueError: if `maxlen` is not a scalar.
    """
    graph = _graph_of(lengths, maxlen)
    with graph.as_default(), graph.name_scope(name or "SequenceMask"):
        lengths = array_ops._tensor(lengths, "lengths", graph)
        if maxlen is None:
            maxlen = math_ops.reduce_max(lengths)
            maxlen = math_ops.maximum(array_ops.constant(0, maxlen.dtype), maxlen)
        else:
            maxlen = array_ops._tensor(maxlen, "maxlen", graph)
        if maxlen.shape.rank not in (None, 0):
            raise ValueError("Argument `maxlen` must be scalar for sequence_mask, received "
                             f"`maxlen` = {maxlen} with shape '{maxlen.shape}' instead")
        row_vector = array_ops.range(array_ops.constant(0, maxlen.dtype), maxlen,
                                     array_ops.constant(1, maxlen.dtype))
        matrix = math_ops.cast(array_ops.expand_dims(lengths, -1), maxlen.dtype)
        result = math_ops.less(row_vector, matrix)
        dtype = dtypes.as_dtype(dtype) if dtype is not None else None
        if dtype is None or dtype == dtypes.bool:
            return result
        return math_ops.cast(result, dtype)


def matrix_transpose(a, name="matrix_transpose", conjugate=False):
    """`a` with its last two dimensions swapped (a ``Transpose``).

    Args:
      a: a Tensor of rank >= 2.
      name: the name scope.
      conjugate: accepted for TF compatibility (the supported dtypes are real).

    Returns:
      A Tensor of shape ``a.shape[:-2] + [a.shape[-1], a.shape[-2]]``.

    Raises:
      ValueError: if the rank of `a` is known and below 2.
    """
    del conjugate
    graph = _graph_of(a)
    with graph.as_default(), graph.name_scope(name or "matrix_transpose"):
        a = array_ops._tensor(a, "a", graph)
        rank = a.shape.rank
        if rank is not None:
            if rank < 2:
                raise ValueError("Argument `a` should be a (batch) matrix with rank >= 2.  "
                                 f"Received `a` = {a} with shape: {a.shape}")
            perm = list(range(rank - 2)) + [rank - 1, rank - 2]
        else:
            rank_t = array_ops.rank(a)
            perm = array_ops.concat([array_ops.range(rank_t - 2),
                                     array_ops.stack([rank_t - 1, rank_t - 2])], 0)
        return array_ops.transpose(a, perm)


# ---- einsum (composite) -------------------------------------------------------------------------

def _parse_equation(equation, num_inputs):
    if not isinstance(equation, str):
        raise TypeError(f"einsum equation must be a string, got {equation!r}")
    equation = equation.replace(" ", "")
    if "." in equation:
        raise ValueError(f"einsum: ellipses ('...') are not supported: {equation!r}")
    if "->" in equation:
        inputs_part, output = equation.split("->", 1)
        if "->" in output:
            raise ValueError(f"einsum: more than one '->' in {equation!r}")
    else:
        inputs_part = equation
        counts = {}
        for label in inputs_part.replace(",", ""):
            counts[label] = counts.get(label, 0) + 1
        output = "".join(sorted(label for label, n in counts.items() if n == 1))
    labels = inputs_part.split(",")
    if len(labels) != num_inputs:
        raise ValueError(f"einsum: the equation {equation!r} names {len(labels)} inputs, "
                         f"but {num_inputs} were given")
    for part in labels + [output]:
        if not all(c.isalpha() for c in part):
            raise ValueError(f"einsum: subscripts must be letters: {equation!r}")
    if len(set(output)) != len(output):
        raise ValueError(f"einsum: the output subscripts {output!r} repeat a label")
    for label in output:
        if not any(label in part for part in labels):
            raise ValueError(f"Output subscripts contain the label {label} not present in the "
                             "input subscripts.")
    return labels, output


def _dims(tensor):
    """The dimensions of `tensor`: ints where static, scalar int32 Tensors elsewhere."""
    static = tensor.shape.as_list()
    dynamic = None
    dims = []
    for index, dim in enumerate(static):
        if dim is None:
            if dynamic is None:
                dynamic = array_ops.shape(tensor)
            dim = dynamic[index]
        dims.append(dim)
    return dims


def _product(dims):
    result = 1
    for dim in dims:
        if isinstance(result, int) and isinstance(dim, int):
            result *= dim
        else:
            result = math_ops.multiply(result, dim) if isinstance(result, Tensor) \
                else math_ops.multiply(dim, result)
    return result


def _transposed(tensor, labels, order):
    if list(labels) == list(order):
        return tensor
    return array_ops.transpose(tensor, [labels.index(label) for label in order])


def _reshaped(tensor, dims):
    if tensor.shape.is_fully_defined() and all(isinstance(d, int) for d in dims) \
            and tensor.shape.as_list() == list(dims):
        return tensor
    return array_ops.reshape(tensor, list(dims))


def _take_diagonals(tensor, labels):
    """Removes repeated labels of one operand: the diagonal over each repeated pair."""
    while any(labels.count(label) > 1 for label in labels):
        label = next(label for label in labels if labels.count(label) > 1)
        first = labels.index(label)
        second = labels.index(label, first + 1)
        size = tensor.shape[first]
        if size is None or tensor.shape[second] not in (None, size):
            raise ValueError(f"einsum: the repeated label {label!r} needs equal, statically "
                             f"known dimensions, got {tensor.shape}")
        # x * eye over the two axes, summed over the second: the diagonal, with a gradient
        # made of Mul and Sum.
        mask_shape = [1] * len(labels)
        mask_shape[first] = mask_shape[second] = size
        mask = np.eye(size, dtype=tensor.dtype.as_numpy_dtype).reshape(mask_shape)
        tensor = math_ops.reduce_sum(math_ops.multiply(tensor, array_ops.constant(mask)),
                                     axis=second)
        labels = labels[:second] + labels[second + 1:]
    return tensor, labels


def _sum_out(tensor, labels, keep):
    """Sums the dimensions whose labels are not in `keep`."""
    axes = [i for i, label in enumerate(labels) if label not in keep]
    if not axes:
        return tensor, labels
    return (math_ops.reduce_sum(tensor, axis=axes),
            "".join(label for label in labels if label in keep))


def _contract(a, a_labels, b, b_labels, out_labels):
    """The einsum of two operands with distinct labels each, giving `out_labels` (every one
    of which is in `a_labels` or `b_labels`) as one (batch) matrix product."""
    batch = [label for label in out_labels if label in a_labels and label in b_labels]
    contracted = [label for label in a_labels if label in b_labels and label not in batch]
    a_free = [label for label in a_labels if label not in b_labels]
    b_free = [label for label in b_labels if label not in a_labels]
    a_dims = dict(zip(a_labels, _dims(a)))
    b_dims = dict(zip(b_labels, _dims(b)))
    # Order each operand [batch, free, contracted] (or [batch, contracted, free] with the
    # matmul's transpose flag, when that is the order it already has).
    if list(a_labels) == batch + contracted + a_free:
        a_t, transpose_a = a, True
    else:
        a_t, transpose_a = _transposed(a, a_labels, batch + a_free + contracted), False
    if list(b_labels) == batch + b_free + contracted:
        b_t, transpose_b = b, True
    else:
        b_t, transpose_b = _transposed(b, b_labels, batch + contracted + b_free), False
    batch_dims = [a_dims[label] for label in batch]
    rows = _product([a_dims[label] for label in a_free])
    inner = _product([a_dims[label] for label in contracted])
    cols = _product([b_dims[label] for label in b_free])
    a_t = _reshaped(a_t, batch_dims + ([inner, rows] if transpose_a else [rows, inner]))
    b_t = _reshaped(b_t, batch_dims + ([cols, inner] if transpose_b else [inner, cols]))
    product = math_ops.matmul(a_t, b_t, transpose_a=transpose_a, transpose_b=transpose_b)
    product_labels = batch + a_free + b_free
    product = _reshaped(product, batch_dims + [a_dims[label] for label in a_free]
                        + [b_dims[label] for label in b_free])
    return _transposed(product, product_labels, list(out_labels))


def einsum(equation, *inputs, **kwargs):
    """Einstein summation, built from Transpose, Reshape, MatMul/BatchMatMulV2, Mul and Sum
    (TF builds one ``Einsum`` op; this composite has the same values and gets its gradient
    from the ops it is made of).

    Supported: any number of operands, labels summed away, transposes ('ij->ji'), batch,
    outer and inner products ('bij,bjk->bik', 'i,j->ij', 'i,i->'), diagonals of repeated
    labels with a static size ('ii->i', 'ii->'), and implicit outputs ('ij,jk'). Batch
    dimensions must agree (no broadcasting of size-1 dimensions).

    Args:
      equation: the subscripts, e.g. ``'ij,jk->ik'``.
      *inputs: the operands, one per comma-separated group of subscripts.
      **kwargs: ``name`` (the name scope, default 'einsum'); ``optimize`` is accepted and
        ignored.

    Returns:
      A Tensor with the output subscripts' dimensions.

    Raises:
      ValueError: for an equation this composite does not support (ellipses), a malformed
        one, or ranks that do not match the subscripts.
      TypeError: for operands of different dtypes.
    """
    name = kwargs.pop("name", None)
    kwargs.pop("optimize", None)
    if kwargs:
        raise TypeError(f"Invalid keyword arguments for einsum: {sorted(kwargs)}")
    if len(inputs) == 1 and isinstance(inputs[0], (list, tuple)):
        inputs = tuple(inputs[0])
    if not inputs:
        raise ValueError("einsum needs at least one input")
    labels, output = _parse_equation(equation, len(inputs))
    graph = _graph_of(*inputs)
    with graph.as_default(), graph.name_scope(name or "einsum"):
        operands = math_ops._convert_operands(inputs, [f"input_{i}" for i in
                                                       range(len(inputs))], graph)
        for operand in operands[1:]:
            if operand.dtype != operands[0].dtype:
                raise TypeError(f"einsum operands must have one dtype, got "
                                f"{operands[0].dtype.name} and {operand.dtype.name}")
        for operand, part in zip(operands, labels):
            if operand.shape.rank is None:
                raise ValueError("einsum needs operands of known rank")
            if operand.shape.rank != len(part):
                raise ValueError(f"einsum: the subscripts {part!r} do not match the rank of "
                                 f"an operand of shape {operand.shape}")
        prepared = []
        for index, (operand, part) in enumerate(zip(operands, labels)):
            operand, part = _take_diagonals(operand, part)
            needed = set(output).union(*[set(p) for j, p in enumerate(labels) if j != index])
            prepared.append(_sum_out(operand, part, needed))
        result, result_labels = prepared[0]
        for position in range(1, len(prepared)):
            operand, part = prepared[position]
            later = set(output).union(*[set(p) for _, p in prepared[position + 1:]])
            keep = [label for label in result_labels + part
                    if label in later]
            keep = list(dict.fromkeys(keep))
            result = _contract(result, result_labels, operand, part, keep)
            result_labels = "".join(keep)
        result, result_labels = _sum_out(result, result_labels, set(output))
        return _transposed(result, list(result_labels), list(output))
