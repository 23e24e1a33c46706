"""The optimizers' update ops: TF's ``ResourceApply*`` and ``ResourceSparseApply*``.

Each op takes the resource handles of a variable and its slots, the optimizer's scalar
hyper-parameters and a gradient, and updates the variable and the slots in place, in one pass
over memory (the ``training_kernels`` family of the kernel table; the loops are Cython,
``sessionlib/_core/training.pyx``). The ops have no outputs and are stateful; none is
differentiable.

Dense ops take a gradient of the variable's shape. Sparse ops take ``grad`` rows and a 1-D
``indices``: row ``indices[i]`` of the variable gets ``grad[i]``. Repeated indices are summed
first, which is what TF's optimizers do before they call these ops (``Optimizer.
_resource_apply_sparse_duplicate_indices``), so an optimizer step gives TF's values for any
`IndexedSlices` gradient.

Two sparse ops are sessionlib's own fused forms of what TF's optimizers build from several
ops: ``ResourceSparseApplyGradientDescent`` (TF: a ``ResourceScatterAdd`` of ``-lr * grad``)
and ``ResourceSparseApplyAdam`` (TF: decay all of ``m`` and ``v``, scatter-add the new
moments, update every row of the variable; Adam's sparse step touches every row).

This module names kernels and must never import them or the compiled code.
"""

from sessionlib import dtypes
from sessionlib.framework import registry
from sessionlib.framework.tensor_shape import TensorShape
from sessionlib.ops import state_ops

__all__ = ["APPLY_OPS", "REF_APPLY_OPS", "apply_op"]

# Input kinds: a resource handle, a scalar hyper-parameter of dtype T, the gradient (dtype T,
# the variable's shape, or rows of it for a sparse op), the sparse op's row indices, and an
# int64 scalar step count (AdagradDA's ``global_step``).
_RES, _SCALAR, _GRAD, _INDICES, _STEP = "resource", "scalar", "grad", "indices", "step"

_VALID_DTYPES = (dtypes.float16, dtypes.float32, dtypes.float64)

# op type -> (inputs as (name, kind) in TF's order, extra bool attrs with their defaults).
APPLY_OPS = {}


def _spec(op_type, inputs, extra_attrs=None):
    APPLY_OPS[op_type] = ([tuple(item.split(":")) for item in inputs.split()],
                          dict(extra_attrs or {}))


_spec("ResourceApplyGradientDescent", "var:resource alpha:scalar delta:grad")
_spec("ResourceApplyMomentum",
      "var:resource accum:resource lr:scalar grad:grad momentum:scalar",
      {"use_nesterov": False})
_spec("ResourceApplyAdagrad", "var:resource accum:resource lr:scalar grad:grad",
      {"update_slots": True})
_spec("ResourceApplyRMSProp",
      "var:resource ms:resource mom:resource lr:scalar rho:scalar momentum:scalar "
      "epsilon:scalar grad:grad")
_spec("ResourceApplyCenteredRMSProp",
      "var:resource mg:resource ms:resource mom:resource lr:scalar rho:scalar "
      "momentum:scalar epsilon:scalar grad:grad")
_spec("ResourceApplyAdam",
      "var:resource m:resource v:resource beta1_power:scalar beta2_power:scalar lr:scalar "
      "beta1:scalar beta2:scalar epsilon:scalar grad:grad", {"use_nesterov": False})
_spec("ResourceApplyAdadelta",
      "var:resource accum:resource accum_update:resource lr:scalar rho:scalar "
      "epsilon:scalar grad:grad")
_spec("ResourceApplyFtrl",
      "var:resource accum:resource linear:resource grad:grad lr:scalar l1:scalar l2:scalar "
      "lr_power:scalar", {"multiply_linear_by_lr": False})
_spec("ResourceApplyFtrlV2",
      "var:resource accum:resource linear:resource grad:grad lr:scalar l1:scalar l2:scalar "
      "l2_shrinkage:scalar lr_power:scalar", {"multiply_linear_by_lr": False})
_spec("ResourceApplyProximalGradientDescent",
      "var:resource alpha:scalar l1:scalar l2:scalar delta:grad")
_spec("ResourceApplyProximalAdagrad",
      "var:resource accum:resource lr:scalar l1:scalar l2:scalar grad:grad")
_spec("ResourceApplyAdagradDA",
      "var:resource gradient_accumulator:resource gradient_squared_accumulator:resource "
      "grad:grad lr:scalar l1:scalar l2:scalar global_step:step")

_spec("ResourceSparseApplyGradientDescent",
      "var:resource alpha:scalar grad:grad indices:indices")
_spec("ResourceSparseApplyMomentum",
      "var:resource accum:resource lr:scalar grad:grad indices:indices momentum:scalar",
      {"use_nesterov": False})
_spec("ResourceSparseApplyAdagrad",
      "var:resource accum:resource lr:scalar grad:grad indices:indices",
      {"update_slots": True})
_spec("ResourceSparseApplyRMSProp",
      "var:resource ms:resource mom:resource lr:scalar rho:scalar momentum:scalar "
      "epsilon:scalar grad:grad indices:indices")
_spec("ResourceSparseApplyCenteredRMSProp",
      "var:resource mg:resource ms:resource mom:resource lr:scalar rho:scalar "
      "momentum:scalar epsilon:scalar grad:grad indices:indices")
_spec("ResourceSparseApplyAdam",
      "var:resource m:resource v:resource beta1_power:scalar beta2_power:scalar lr:scalar "
      "beta1:scalar beta2:scalar epsilon:scalar grad:grad indices:indices",
      {"use_nesterov": False})
_spec("ResourceSparseApplyAdadelta",
      "var:resource accum:resource accum_update:resource lr:scalar rho:scalar "
      "epsilon:scalar grad:grad indices:indices")
_spec("ResourceSparseApplyFtrl",
      "var:resource accum:resource linear:resource grad:grad indices:indices lr:scalar "
      "l1:scalar l2:scalar lr_power:scalar", {"multiply_linear_by_lr": False})
_spec("ResourceSparseApplyFtrlV2",
      "var:resource accum:resource linear:resource grad:grad indices:indices lr:scalar "
      "l1:scalar l2:scalar l2_shrinkage:scalar lr_power:scalar",
      {"multiply_linear_by_lr": False})
_spec("ResourceSparseApplyProximalGradientDescent",
      "var:resource alpha:scalar l1:scalar l2:scalar grad:grad indices:indices")
_spec("ResourceSparseApplyProximalAdagrad",
      "var:resource accum:resource lr:scalar l1:scalar l2:scalar grad:grad indices:indices")
_spec("ResourceSparseApplyAdagradDA",
      "var:resource gradient_accumulator:resource gradient_squared_accumulator:resource "
      "grad:grad indices:indices lr:scalar l1:scalar l2:scalar global_step:step")


def _make_infer(op_type, inputs, extra_attrs, ref=False):
    """The infer function of `op_type`; `ref`: TF 1's reference form, whose variable and slots
    are reference tensors and whose output is the variable's reference."""
    sparse = any(kind == _INDICES for _, kind in inputs)

    def infer(tensors, attrs):
        if len(tensors) != len(inputs):
            raise ValueError(f"{op_type} takes {len(inputs)} inputs, got {len(tensors)}")
        named = {name: tensor for (name, _), tensor in zip(inputs, tensors)}
        grad = named["grad" if "grad" in named else "delta"]
        dtype = grad.dtype
        if dtype not in _VALID_DTYPES:
            raise TypeError(f"Value passed to parameter 'grad' has DataType {dtype.name} not in "
                            f"list of allowed values: float16, float32, float64 (op {op_type})")
        var_shape = (named["var"].shape if ref
                     else state_ops.variable_shape_of_handle(named["var"]))
        for (name, kind), tensor in zip(inputs, tensors):
            if kind == _RES and ref:
                if not tensor.dtype._is_ref_dtype:
                    raise TypeError(f"'{op_type}' Op requires that input '{name}' be a mutable "
                                    f"tensor (e.g.: a tf.Variable), got {tensor.dtype.name}")
                if tensor.dtype.base_dtype is not dtype:
                    raise TypeError(f"Input '{name}' of '{op_type}' Op has type "
                                    f"{tensor.dtype.name} that does not match type "
                                    f"{dtype.name} of argument 'grad'.")
                if not tensor.shape.is_compatible_with(var_shape):
                    raise ValueError(f"Shapes must be equal for '{op_type}': var {var_shape} "
                                     f"and {name} {tensor.shape}")
            elif kind == _RES:
                if tensor.dtype is not dtypes.resource:
                    raise TypeError(f"Input '{name}' of '{op_type}' Op has type "
                                    f"{tensor.dtype.name} that does not match expected type "
                                    "of resource.")
                if tensor.op.type == "VarHandleOp" and tensor.op.get_attr("dtype") is not dtype:
                    raise TypeError(f"Input '{name}' of '{op_type}' Op is a variable of "
                                    f"{tensor.op.get_attr('dtype').name}, but the update is "
                                    f"{dtype.name}")
                slot_shape = state_ops.variable_shape_of_handle(tensor)
                if not slot_shape.is_compatible_with(var_shape):
                    raise ValueError(f"Shapes must be equal for '{op_type}': var {var_shape} "
                                     f"and {name} {slot_shape}")
            elif kind in (_SCALAR, _STEP):
                if kind == _SCALAR and tensor.dtype is not dtype:
                    raise TypeError(f"Input '{name}' of '{op_type}' Op has type "
                                    f"{tensor.dtype.name} that does not match type "
                                    f"{dtype.name} of argument 'var'.")
                if kind == _STEP and tensor.dtype is not dtypes.int64:
                    raise TypeError(f"Input '{name}' of '{op_type}' Op has type "
                                    f"{tensor.dtype.name} that does not match expected type "
                                    "of int64.")
                if not tensor.shape.is_compatible_with(TensorShape([])):
                    raise ValueError(f"Shape must be rank 0 but is rank {tensor.shape.rank} "
                                     f"for '{op_type}' input '{name}': {tensor.shape}")
            elif kind == _INDICES:
                if tensor.dtype not in (dtypes.int32, dtypes.int64):
                    raise TypeError(f"Input 'indices' of '{op_type}' Op has type "
                                    f"{tensor.dtype.name}; expected int32 or int64")
                tensor.shape.with_rank(1)
                attrs["Tindices"] = tensor.dtype
        if sparse:
            indices = named["indices"]
            grad.shape.with_rank_at_least(1)
            if grad.shape.rank is not None and var_shape.rank is not None:
                if grad.shape.rank != var_shape.rank or not TensorShape(
                        grad.shape.dims[1:]).is_compatible_with(TensorShape(var_shape.dims[1:])):
                    raise ValueError(f"var and grad do not have the same shape apart from the "
                                     f"first dimension for '{op_type}': {var_shape} vs. "
                                     f"{grad.shape}")
            if not TensorShape([grad.shape[0] if grad.shape.rank else None]).is_compatible_with(
                    indices.shape):
                raise ValueError(f"grad and indices do not have the same number of rows for "
                                 f"'{op_type}': {grad.shape} vs. {indices.shape}")
        elif not var_shape.is_compatible_with(grad.shape):
            raise ValueError(f"Shapes must be equal for '{op_type}': var {var_shape} and grad "
                             f"{grad.shape}")
        attrs["T"] = dtype
        attrs["use_locking"] = bool(attrs.get("use_locking", False))
        for key, default in extra_attrs.items():
            attrs[key] = bool(attrs.get(key, default))
        return [(named["var"].dtype, var_shape)] if ref else []

    return infer


# A dense update touches only its own variable and slots: a step's updates of different
# variables may run together, in parallel (the runtime's update grouping). The sparse ops
# stay alone: their rows are deduplicated in Python, one op at a time.
for _op_type, (_inputs, _extra) in APPLY_OPS.items():
    registry.register_op(_op_type, infer=_make_infer(_op_type, _inputs, _extra),
                         kernel=_op_type, num_inputs=len(_inputs), stateful=True,
                         gradient=registry.NOT_DIFFERENTIABLE,
                         fusion=(None if _op_type.startswith("ResourceSparse")
                                 else "independent_update"),
                         doc="Updates a variable and its slots in place (an optimizer step).")

# TF 1's reference forms (``ApplyGradientDescent`` for ``ResourceApplyGradientDescent``, ...):
# the same update on reference variables, with the variable's reference as output. Their
# kernels run the resource forms' (a reference's run-time value is its variable's handle).
# ``SparseApplyGradientDescent`` and ``SparseApplyAdam`` are sessionlib's own, as their
# resource forms are.
REF_APPLY_OPS = {}
for _op_type, (_inputs, _extra) in APPLY_OPS.items():
    _ref_type = _op_type[len("Resource"):]
    REF_APPLY_OPS[_ref_type] = _op_type
    registry.register_op(_ref_type, infer=_make_infer(_ref_type, _inputs, _extra, ref=True),
                         kernel=_ref_type, num_inputs=len(_inputs), stateful=True,
                         ref_inputs=[i for i, (_, kind) in enumerate(_inputs) if kind == _RES],
                         gradient=registry.NOT_DIFFERENTIABLE,
                         doc="Updates a reference variable and its slots (an optimizer step).")
del _op_type, _inputs, _extra, _ref_type


def apply_op(op_type, inputs, attrs=None, name=None):
    """Creates the update op `op_type` on the variable's device.

    Args:
      op_type: a key of `APPLY_OPS`.
      inputs: the inputs in the op's order; Variables stand for their handles.
      attrs: the extra attributes (``use_nesterov``, ...).
      name: the op name (default: the op type).

    Returns:
      The new Operation.

    Raises:
      TypeError, ValueError: for inputs of the wrong dtype or static shape.
    """
    from sessionlib.framework import graph as graph_lib

    spec, _ = APPLY_OPS[op_type]
    tensors = []
    for (_, kind), value in zip(spec, inputs):
        if kind == _RES:
            value = getattr(value, "handle", value)
        tensors.append(value if isinstance(value, graph_lib.Tensor)
                       else graph_lib.convert_to_tensor(value))
    handle = tensors[0]
    if handle.dtype._is_ref_dtype:
        # A reference variable (its `handle` is its reference): TF 1's reference form.
        op_type = op_type[len("Resource"):]
    return state_ops.create_resource_op(handle.graph, op_type, handle, tensors[1:],
                                        dict(attrs or {}), name or op_type)
