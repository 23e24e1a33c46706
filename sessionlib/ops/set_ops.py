"""Set operations along the last dimension (``tf.sets``): ``SetSize`` and
``DenseToDenseSetOperation``, ``DenseToSparseSetOperation``, ``SparseToSparseSetOperation``
with TF's ``set_operation`` attr (``intersection``, ``union``, ``a-b``, ``b-a``).

Each row (all dimensions but the last) of an operand is a set of ids or strings; the results
are SparseTensors of the sorted members. None of them is differentiable, as in TF. Kernels:
``runtime/kernels/set_kernels.py``.
"""

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework import registry
from sessionlib.framework.sparse_tensor import SparseTensor, SparseTensorValue
from sessionlib.framework.tensor_shape import TensorShape

__all__ = ["set_size", "set_intersection", "set_union", "set_difference"]

_SET_DTYPES = (dtypes.int8, dtypes.int16, dtypes.int32, dtypes.int64, dtypes.uint8,
               dtypes.string)


def _operand_rank(op_type, tensor, what):
    rank = tensor.shape.rank if what == "dense" else (
        tensor.shape[0] if tensor.shape.rank == 1 else None)
    if rank is not None and rank < 2:
        raise ValueError(f"Shape must be at least rank 2 but is rank {rank} for '{op_type}'")
    return rank


def _set_operation_infer(op_type, kinds):
    def infer(inputs, attrs):
        operands, position = [], 0
        for kind in kinds:
            if kind == "dense":
                operands.append((inputs[position], inputs[position]))
                position += 1
            else:
                operands.append((inputs[position + 2], inputs[position + 1]))
                position += 3
        value_dtypes = [values.dtype for _, values in operands]
        if value_dtypes[0] is not value_dtypes[1]:
            raise TypeError(f"Types don't match, {value_dtypes[0].name} vs "
                            f"{value_dtypes[1].name}.")
        if value_dtypes[0] not in _SET_DTYPES:
            raise TypeError(f"{op_type} does not support {value_dtypes[0].name}")
        if attrs.get("set_operation") not in ("intersection", "union", "a-b", "b-a"):
            raise ValueError(f"Invalid set_operation {attrs.get('set_operation')!r}")
        attrs["T"] = value_dtypes[0]
        attrs.setdefault("validate_indices", True)
        ranks = [_operand_rank(op_type, shape_source, kind)
                 for (shape_source, _), kind in zip(operands, kinds)]
        if kinds == ("dense", "dense") and None not in ranks:
            left, right = inputs[0].shape.as_list()[:-1], inputs[1].shape.as_list()[:-1]
            if ranks[0] != ranks[1]:
                raise ValueError(f"Shape must be rank {ranks[0]} but is rank {ranks[1]} for "
                                 f"'{op_type}'")
            for dim, (a, b) in enumerate(zip(left, right)):
                if None not in (a, b) and a != b:
                    raise ValueError(f"Dimension {dim} in both shapes must be equal, but are "
                                     f"{a} and {b} for '{op_type}'")
        rank = next((r for r in ranks if r is not None), None)
        return [(dtypes.int64, TensorShape([None, rank])),
                (value_dtypes[0], TensorShape([None])), (dtypes.int64, TensorShape([rank]))]

    return infer


for _op_type, _kinds in (("DenseToDenseSetOperation", ("dense", "dense")),
                         ("DenseToSparseSetOperation", ("dense", "sparse")),
                         ("SparseToSparseSetOperation", ("sparse", "sparse"))):
    registry.register_op(_op_type, infer=_set_operation_infer(_op_type, _kinds),
                         num_inputs=len(_kinds) + 2 * _kinds.count("sparse"),
                         gradient=registry.NOT_DIFFERENTIABLE,
                         doc="A set operation on the last dimension, as a SparseTensor.")


def _set_size_infer(inputs, attrs):
    indices, values, shape = inputs
    if values.dtype not in _SET_DTYPES:
        raise TypeError(f"SetSize does not support {values.dtype.name}")
    attrs["T"] = values.dtype
    attrs.setdefault("validate_indices", True)
    _operand_rank("SetSize", shape, "sparse")
    return [(dtypes.int32, TensorShape(None))]


registry.register_op("SetSize", infer=_set_size_infer, num_inputs=3,
                     gradient=registry.NOT_DIFFERENTIABLE,
                     doc="The number of distinct values in each last-dimension row.")


def _convert(value, name):
    if isinstance(value, SparseTensorValue):
        return SparseTensor.from_value(value)
    if isinstance(value, SparseTensor):
        return value
    return graph_lib.convert_to_tensor(value, name=name)


def _operands(a, b):
    """`a` and `b` converted, checked, and flipped to (dense, sparse) if they were the other
    way round (the only mixed order the ops take); and whether they were flipped."""
    graph = next((value.graph for value in (a, b)
                  if isinstance(value, (graph_lib.Tensor, SparseTensor))),
                 graph_lib.get_default_graph())
    with graph.as_default():
        a, b = _convert(a, "a"), _convert(b, "b")
    if a.dtype not in _SET_DTYPES:
        raise TypeError(f"'a' has invalid dtype `{a.dtype.name}` not in supported dtypes: "
                        f"{[d.name for d in _SET_DTYPES]}")
    if b.dtype is not a.dtype:
        raise TypeError(f"Types don't match, {a.dtype.name} vs {b.dtype.name}.")
    if isinstance(a, SparseTensor) and not isinstance(b, SparseTensor):
        return graph, b, a, True
    return graph, a, b, False


def _set_operation(graph, a, b, operation, validate_indices):
    def parts(operand):
        if isinstance(operand, SparseTensor):
            return [operand.indices, operand.values, operand.dense_shape]
        return [operand]

    if isinstance(a, SparseTensor):
        op_type = "SparseToSparseSetOperation"
    elif isinstance(b, SparseTensor):
        op_type = "DenseToSparseSetOperation"
    else:
        op_type = "DenseToDenseSetOperation"
    with graph.as_default():
        op = graph.create_op(op_type, parts(a) + parts(b),
                             {"set_operation": operation,
                              "validate_indices": bool(validate_indices)}, name=op_type)
    return SparseTensor(*op.outputs)


def set_size(a, validate_indices=True):
    """The number of distinct values in each last-dimension row of `a` (``tf.sets.size``).

    Args:
      a: a `SparseTensor` of ints or strings, in row-major order.
      validate_indices: if True, indices out of order or bounds are a run-time error.

    Returns:
      An int32 Tensor of shape ``a.dense_shape[:-1]``.

    Raises:
      TypeError: if `a` is not sparse or has an unsupported dtype.
    """
    if isinstance(a, SparseTensorValue):
        a = SparseTensor.from_value(a)
    if not isinstance(a, SparseTensor):
        raise TypeError(f"Expected `SparseTensor`, got {a}.")
    if a.dtype not in _SET_DTYPES:
        raise TypeError(f"Invalid dtype `{a.dtype.name}` not in supported dtypes: "
                        f"{[d.name for d in _SET_DTYPES]}")
    graph = a.graph
    with graph.as_default():
        result = graph.create_op("SetSize", [a.indices, a.values, a.dense_shape],
                                 {"validate_indices": bool(validate_indices)},
                                 name="SetSize").outputs[0]
    if a.shape.rank is not None:
        result.set_shape(a.shape.as_list()[:-1])
    return result


def set_intersection(a, b, validate_indices=True):
    """The intersection of each last-dimension row of `a` with that of `b`
    (``tf.sets.intersection``).

    Args:
      a, b: Tensors or `SparseTensor`s (row-major) of one int or string dtype, equal in all
        but the last dimension.
      validate_indices: if True, sparse indices out of order or bounds are an error.

    Returns:
      A `SparseTensor` of the sorted members of each row's result.

    Raises:
      TypeError: for unsupported or different dtypes.
      InvalidArgumentError: (at run time) for shapes that differ before the last dimension.
    """
    graph, a, b, _ = _operands(a, b)
    return _set_operation(graph, a, b, "intersection", validate_indices)


def set_union(a, b, validate_indices=True):
    """The union of each last-dimension row of `a` with that of `b` (``tf.sets.union``;
    arguments and result as in `set_intersection`)."""
    graph, a, b, _ = _operands(a, b)
    return _set_operation(graph, a, b, "union", validate_indices)


def set_difference(a, b, aminusb=True, validate_indices=True):
    """Each last-dimension row of `a` less that of `b`, or the reverse when `aminusb` is
    False (``tf.sets.difference``; other arguments and result as in `set_intersection`)."""
    graph, a, b, flipped = _operands(a, b)
    if flipped:
        aminusb = not aminusb
    return _set_operation(graph, a, b, "a-b" if aminusb else "b-a", validate_indices)
