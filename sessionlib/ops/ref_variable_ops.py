"""TF 1's reference-variable ops: ``VariableV2`` and the ops that take its reference.

Design. A TF 1 graph written before resource variables (and every frozen or exported graph of
that era) holds its variables as ``VariableV2`` nodes, whose output is a *reference* tensor
(dtype ``float32_ref`` & co.) that ops such as ``Assign``, ``AssignAdd``, ``ScatterUpdate`` or
``ApplyGradientDescent`` take at a reference input and update in place. Any other op that reads
such a tensor (``Identity``, ``MatMul``, ...) reads the variable's current value.

sessionlib runs these graphs on the variable resources that resource variables use: at run time
a reference tensor's value is the variable's resource handle (container ``var``, keyed by
``container/shared_name``, the shared name defaulting to the node name as in TF), so a
``VariableV2`` node is a handle op and the ops with reference inputs are resource ops. Two
rules keep the graph model and the runtime honest:

* the registry marks each op's reference inputs (`OpDef.ref_inputs`); `Graph.create_op` hands an
  op's `infer` the base dtype wherever a reference tensor meets another input, as TF converts
  it there, so ``tf.matmul(ref, x)`` infers float32;
* the runtime inserts a read (``_RefRead``, ``runtime/ref_reads.py``) in front of every consumer
  that takes a reference at another input, and for every fetched reference, so a kernel never
  sees a handle where TF would hand it a value.

An op with a reference output (``Assign``, ``ScatterAdd``, ``RefIdentity``...) passes its
reference input through: fetching ``Assign``'s output gives the value after the assignment, as
in TF. The kernels are the ``ref_kernels`` family of the kernel table; this module names them and
must never import them. The optimizers' reference forms (``ApplyGradientDescent`` & co.) are
registered with their resource forms in ``ops/training_ops.py``.
"""

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework import registry
from sessionlib.framework.tensor_shape import TensorShape, as_shape
from sessionlib.ops import gradients

__all__ = ["scatter_update", "scatter_add", "scatter_sub", "scatter_mul", "scatter_div",
           "scatter_min", "scatter_max", "scatter_nd_update", "scatter_nd_add",
           "scatter_nd_sub", "ref_identity", "is_ref"]

_INDEX_DTYPES = (dtypes.int32, dtypes.int64)


def is_ref(tensor):
    """Whether `tensor` is a reference tensor (dtype ``*_ref``)."""
    return tensor.dtype._is_ref_dtype


def check_ref(op_type, name, tensor):
    """Raises TF's TypeError when input `name` of `op_type` is not a reference tensor."""
    if not tensor.dtype._is_ref_dtype:
        raise TypeError(f"'{op_type}' Op requires that input '{name}' be a mutable tensor "
                        f"(e.g.: a tf.Variable), got {tensor.dtype.name}")


# ---- VariableV2 / Variable ---------------------------------------------------------------------

def _variable_infer(inputs, attrs):
    attrs["dtype"] = dtypes.as_dtype(attrs["dtype"]).base_dtype
    if attrs["dtype"] is dtypes.resource:
        raise TypeError("A reference variable cannot hold resources")
    attrs["shape"] = as_shape(attrs["shape"])
    attrs.setdefault("container", "")
    attrs.setdefault("shared_name", "")
    return [(attrs["dtype"]._as_ref, attrs["shape"])]


# A variable is a leaf: `tf.gradients(loss, ref_variable)` collects the gradient at its output
# (its reads pass theirs back to it), and nothing flows further.
for _type, _doc in (("VariableV2", "A reference variable (TF 1's VariableV2)."),
                    ("Variable", "A reference variable (VariableV2's TF 0.x name).")):
    registry.register_op(_type, infer=_variable_infer, kernel="VariableV2", num_inputs=0,
                         stateful=True, doc=_doc, gradient=registry.NOT_DIFFERENTIABLE)


# ---- Assign, AssignAdd, AssignSub -------------------------------------------------------------

def _value_dtype(op_type, ref, value):
    if value.dtype is not ref.dtype.base_dtype:
        raise TypeError(f"Input 'value' of '{op_type}' Op has type {value.dtype.name} that "
                        f"does not match type {ref.dtype.name} of argument 'ref'.")
    return value.dtype


def _assign_infer(inputs, attrs):
    ref, value = inputs
    check_ref("Assign", "ref", ref)
    attrs["T"] = _value_dtype("Assign", ref, value)
    attrs["validate_shape"] = bool(attrs.get("validate_shape", True))
    attrs["use_locking"] = bool(attrs.get("use_locking", True))
    if not attrs["validate_shape"]:
        return [(ref.dtype, value.shape)]
    if not ref.shape.is_compatible_with(value.shape):
        raise ValueError(f"Dimension mismatch in 'Assign': shapes must be equal, but are "
                         f"{ref.shape} and {value.shape}")
    return [(ref.dtype, ref.shape.merge_with(value.shape))]


registry.register_op("Assign", infer=_assign_infer, kernel="Assign", num_inputs=2,
                     stateful=True, ref_inputs=(0,), gradient=registry.NOT_DIFFERENTIABLE,
                     doc="Sets a reference variable's value; outputs the reference.")


def _update_infer(op_type):
    def infer(inputs, attrs):
        ref, value = inputs
        check_ref(op_type, "ref", ref)
        dtype = _value_dtype(op_type, ref, value)
        if not dtype.is_numeric:
            raise TypeError(f"Value passed to parameter 'ref' has DataType {dtype.name} not "
                            f"in list of allowed values (op {op_type})")
        if not ref.shape.is_compatible_with(value.shape):
            raise ValueError(f"Dimension mismatch in '{op_type}': shapes must be equal, but "
                             f"are {ref.shape} and {value.shape}")
        attrs["T"] = dtype
        attrs["use_locking"] = bool(attrs.get("use_locking", False))
        return [(ref.dtype, ref.shape)]

    return infer


for _type, _doc in (("AssignAdd", "Adds to a reference variable; outputs the reference."),
                    ("AssignSub", "Subtracts from a reference variable; outputs the "
                                  "reference.")):
    registry.register_op(_type, infer=_update_infer(_type), kernel=_type, num_inputs=2,
                         stateful=True, ref_inputs=(0,), doc=_doc,
                         gradient=registry.NOT_DIFFERENTIABLE)


# ---- IsVariableInitialized, RefIdentity ---------------------------------------------------------

def _is_initialized_infer(inputs, attrs):
    check_ref("IsVariableInitialized", "ref", inputs[0])
    attrs["dtype"] = inputs[0].dtype.base_dtype
    return [(dtypes.bool, TensorShape([]))]


registry.register_op("IsVariableInitialized", infer=_is_initialized_infer,
                     kernel="IsVariableInitialized", num_inputs=1, stateful=True,
                     ref_inputs=(0,), gradient=registry.NOT_DIFFERENTIABLE,
                     doc="Whether a reference variable has a value.")


def _ref_identity_infer(inputs, attrs):
    check_ref("RefIdentity", "input", inputs[0])
    attrs["T"] = inputs[0].dtype.base_dtype
    return [(inputs[0].dtype, inputs[0].shape)]


registry.register_op("RefIdentity", infer=_ref_identity_infer, kernel="RefIdentity",
                     num_inputs=1, stateful=True, ref_inputs=(0,),
                     gradient=gradients.pass_through_gradient,
                     doc="Its reference input, as a reference.")


def ref_identity(ref, name=None):
    """The reference `ref` passed on as a reference (TF's ``RefIdentity``)."""
    ref = _as_ref(ref, "ref_identity")
    return ref.graph.create_op("RefIdentity", [ref], name=name or "RefIdentity").outputs[0]


# ---- Scatter* and ScatterNd* ------------------------------------------------------------------

# op type -> its use_locking default (TF's defaults differ from op to op).
SCATTER_OPS = {
    "ScatterUpdate": True, "ScatterAdd": False, "ScatterSub": False, "ScatterMul": False,
    "ScatterDiv": False, "ScatterMin": False, "ScatterMax": False,
}
SCATTER_ND_OPS = {"ScatterNdUpdate": True, "ScatterNdAdd": False, "ScatterNdSub": False}


def _scatter_common(op_type, inputs, attrs, default_locking):
    ref, indices, updates = inputs
    check_ref(op_type, "ref", ref)
    dtype = updates.dtype
    if dtype is not ref.dtype.base_dtype:
        raise TypeError(f"Input 'updates' of '{op_type}' Op has type {dtype.name} that does "
                        f"not match type {ref.dtype.name} of argument 'ref'.")
    if op_type not in ("ScatterUpdate", "ScatterNdUpdate") and not dtype.is_numeric:
        raise TypeError(f"Value passed to parameter 'ref' has DataType {dtype.name} not in "
                        f"list of allowed values (op {op_type})")
    if indices.dtype not in _INDEX_DTYPES:
        raise TypeError(f"Value passed to parameter 'indices' has DataType "
                        f"{indices.dtype.name} not in list of allowed values: int32, int64")
    attrs["T"] = dtype
    attrs["Tindices"] = indices.dtype
    attrs["use_locking"] = bool(attrs.get("use_locking", default_locking))
    return ref, indices, updates


def _scatter_infer(op_type):
    def infer(inputs, attrs):
        ref, indices, updates = _scatter_common(op_type, inputs, attrs, SCATTER_OPS[op_type])
        # TF: updates.shape = indices.shape + ref.shape[1:], or a scalar broadcast to it.
        if (updates.shape.rank != 0 and indices.shape.rank is not None
                and ref.shape.rank is not None):
            if ref.shape.rank == 0:
                raise ValueError(f"Shape must be at least rank 1 but is rank 0 for "
                                 f"'{op_type}' input 'ref'")
            expected = indices.shape.concatenate(ref.shape[1:])
            if not expected.is_compatible_with(updates.shape):
                raise ValueError(f"Shapes must be equal rank, and updates.shape = "
                                 f"indices.shape + ref.shape[1:] for '{op_type}': "
                                 f"updates {updates.shape}, indices {indices.shape}, ref "
                                 f"{ref.shape}")
        return [(ref.dtype, ref.shape)]

    return infer


def _scatter_nd_infer(op_type):
    def infer(inputs, attrs):
        ref, indices, updates = _scatter_common(op_type, inputs, attrs,
                                                SCATTER_ND_OPS[op_type])
        if indices.shape.rank == 0:
            raise ValueError(f"Shape must be at least rank 1 but is rank 0 for '{op_type}' "
                             f"input 'indices'")
        depth = indices.shape[-1] if indices.shape.rank else None
        if depth is not None and ref.shape.rank is not None:
            if depth > ref.shape.rank:
                raise ValueError(f"The last dimension of indices ({depth}) must be at most "
                                 f"the rank of ref ({ref.shape.rank}) for '{op_type}'")
            if indices.shape.rank is not None:
                expected = TensorShape(indices.shape.dims[:-1]).concatenate(
                    ref.shape[depth:])
                if not expected.is_compatible_with(updates.shape):
                    raise ValueError(f"updates.shape must be indices.shape[:-1] + "
                                     f"ref.shape[indices.shape[-1]:] for '{op_type}': "
                                     f"updates {updates.shape}, indices {indices.shape}, "
                                     f"ref {ref.shape}")
        return [(ref.dtype, ref.shape)]

    return infer


for _type in SCATTER_OPS:
    registry.register_op(_type, infer=_scatter_infer(_type), kernel=_type, num_inputs=3,
                         stateful=True, ref_inputs=(0,), gradient=registry.NOT_DIFFERENTIABLE,
                         doc="Updates rows of a reference variable; outputs the reference.")
for _type in SCATTER_ND_OPS:
    registry.register_op(_type, infer=_scatter_nd_infer(_type), kernel=_type, num_inputs=3,
                         stateful=True, ref_inputs=(0,), gradient=registry.NOT_DIFFERENTIABLE,
                         doc="Updates slices of a reference variable; outputs the reference.")
del _type, _doc


def is_reference(ref):
    """Whether `ref` is a reference variable or a reference tensor (what `update` takes)."""
    tensor = ref._ref() if callable(getattr(ref, "_ref", None)) else ref
    return isinstance(tensor, graph_lib.Tensor) and tensor.dtype._is_ref_dtype


def update(op_type, ref, value, attrs=None, name=None):
    """An ``Assign``, ``AssignAdd`` or ``AssignSub`` of `value` to reference `ref`, on the
    variable's device (``tf.assign`` & co. on reference variables).

    Args:
      op_type: 'Assign', 'AssignAdd' or 'AssignSub'.
      ref: a reference variable or reference tensor.
      value: the value (converted to `ref`'s base dtype).
      attrs: ``validate_shape`` (Assign) and ``use_locking``; None entries are TF's defaults.
      name: the op name (default: `op_type`).

    Returns:
      The op's output: the reference, holding the new value once run.

    Raises:
      TypeError: for a dtype that does not fit; ValueError: for incompatible static shapes.
    """
    tensor = _as_ref(ref, op_type)
    graph = tensor.graph
    with graph.as_default():
        value = graph_lib.convert_to_tensor(value, dtype=tensor.dtype.base_dtype)
    attrs = {key: bool(item) for key, item in (attrs or {}).items() if item is not None}
    with graph.device(None):
        return graph.create_op(op_type, [tensor, value], attrs, name=name or op_type,
                               device=tensor.device or None).outputs[0]


def _as_ref(ref, what):
    """The reference tensor of `ref` (a reference variable or a reference tensor)."""
    tensor = ref._ref() if hasattr(ref, "_ref") and callable(ref._ref) else ref
    if not isinstance(tensor, graph_lib.Tensor) or not tensor.dtype._is_ref_dtype:
        raise TypeError(f"{what} needs a reference variable (tf.Variable(..., "
                        f"use_resource=False)) or a reference tensor, got {ref!r}")
    return tensor


def _scatter(op_type, ref, indices, updates, use_locking, name):
    tensor = _as_ref(ref, op_type)
    graph = tensor.graph
    with graph.as_default():
        indices = graph_lib.convert_to_tensor(indices)
        updates = graph_lib.convert_to_tensor(updates, dtype=tensor.dtype.base_dtype)
    attrs = {} if use_locking is None else {"use_locking": bool(use_locking)}
    # The update runs where the variable lives, as TF colocates it.
    with graph.device(None):
        return graph.create_op(op_type, [tensor, indices, updates], attrs, name=name or op_type,
                               device=tensor.device or None).outputs[0]


def _scatter_function(op_type, function_name):
    def function(ref, indices, updates, use_locking=None, name=None):
        return _scatter(op_type, ref, indices, updates, use_locking, name)

    function.__name__ = function.__qualname__ = function_name
    function.__doc__ = (
        f"``tf.{function_name}``: TF's ``{op_type}`` on a reference variable.\n\n"
        f"    Args:\n"
        f"      ref: a reference variable (``tf.Variable(..., use_resource=False)``) or a\n"
        f"        reference tensor.\n"
        f"      indices: int32 or int64 indices into `ref`'s first dimension"
        f"{' (the last axis indexes the leading dimensions)' if 'Nd' in op_type else ''}.\n"
        f"      updates: the values, of `ref`'s dtype.\n"
        f"      use_locking: accepted for TF's signature; updates are always atomic.\n"
        f"      name: the op name.\n\n"
        f"    Returns:\n"
        f"      The reference, holding the updated value once the op ran.\n\n"
        f"    Raises:\n"
        f"      TypeError: if `ref` is no reference or a dtype does not fit.\n"
        f"      ValueError: for statically incompatible shapes.\n")
    return function


scatter_update = _scatter_function("ScatterUpdate", "scatter_update")
scatter_add = _scatter_function("ScatterAdd", "scatter_add")
scatter_sub = _scatter_function("ScatterSub", "scatter_sub")
scatter_mul = _scatter_function("ScatterMul", "scatter_mul")
scatter_div = _scatter_function("ScatterDiv", "scatter_div")
scatter_min = _scatter_function("ScatterMin", "scatter_min")
scatter_max = _scatter_function("ScatterMax", "scatter_max")
scatter_nd_update = _scatter_function("ScatterNdUpdate", "scatter_nd_update")
scatter_nd_add = _scatter_function("ScatterNdAdd", "scatter_nd_add")
scatter_nd_sub = _scatter_function("ScatterNdSub", "scatter_nd_sub")
