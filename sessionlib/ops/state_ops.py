"""The state ops' graph side: variable ops' inference, `assign` & co., resource-op helpers.

Design. A variable is a resource in each session's container, addressed in the graph by a
handle (dtype `resource`): ``VarHandleOp`` produces it, and ``ReadVariableOp``,
``AssignVariableOp``, ``AssignAddVariableOp``, ``AssignSubVariableOp`` and
``VarIsInitializedOp`` take it as input 0. This module registers those ops (signature, shape
inference, kernel name) and offers the helpers that the queue and reader wrappers share
(`create_resource_op`, `handle_only_infer`). The kernels, the variable resource and its
copy-on-write rules live in the ``state_kernels`` family of the kernel table; this module names
kernels and must never import them or the compiled code.
"""

from sessionlib import dtypes
from sessionlib.framework import registry
from sessionlib.framework.tensor_shape import TensorShape, as_shape
from sessionlib.ops import gradients

__all__ = ["assign", "assign_add", "assign_sub", "is_variable_initialized",
           "create_resource_op", "handle_only_infer"]


# ---- handles (shared by variables, queues and readers) -----------------------------------

def handle_only_infer(what, dtype):
    """The infer function of an op whose only input is a `what` handle ('queue', 'reader')
    and whose output is a scalar of `dtype` (no output when `dtype` is None)."""
    def infer(inputs, attrs):
        if inputs[0].dtype is not dtypes.resource:
            raise TypeError(f"This op takes a {what} handle")
        return [] if dtype is None else [(dtype, TensorShape([]))]

    return infer


def _check_handle(op_type, tensor):
    if tensor.dtype is not dtypes.resource:
        raise TypeError(f"Input 'resource' of '{op_type}' Op has type {tensor.dtype.name} "
                        "that does not match expected type of resource.")


# ---- VarHandleOp ----------------------------------------------------------------------------

def _var_handle_infer(inputs, attrs):
    attrs.setdefault("container", "")
    attrs.setdefault("allowed_devices", [])
    attrs["dtype"] = dtypes.as_dtype(attrs["dtype"])
    attrs["shape"] = as_shape(attrs["shape"])
    return [(dtypes.resource, TensorShape([]))]


registry.register_op("VarHandleOp", infer=_var_handle_infer, kernel="VarHandleOp",
                     num_inputs=0, stateful=True, doc="The handle of a resource variable.",
                     gradient=registry.NOT_DIFFERENTIABLE)


def variable_shape_of_handle(handle):
    """The static shape of the variable behind `handle` (unknown when not a VarHandleOp)."""
    if handle.op.type == "VarHandleOp":
        return handle.op.get_attr("shape")
    return TensorShape(None)


# ---- ReadVariableOp -------------------------------------------------------------------------

def _read_infer(inputs, attrs):
    _check_handle("ReadVariableOp", inputs[0])
    attrs["dtype"] = dtypes.as_dtype(attrs["dtype"])
    return [(attrs["dtype"], variable_shape_of_handle(inputs[0]))]


# The gradient of a read goes to the variable's handle: `tf.gradients(loss, variable)` sums
# the gradients of all reads of the variable there.
registry.register_op("ReadVariableOp", infer=_read_infer, kernel="ReadVariableOp",
                     num_inputs=1, stateful=True, doc="The current value of a variable.",
                     gradient=gradients.pass_through_gradient)


# ---- AssignVariableOp -----------------------------------------------------------------------

def _assign_infer(inputs, attrs):
    _check_handle("AssignVariableOp", inputs[0])
    dtype = dtypes.as_dtype(attrs.get("dtype", inputs[1].dtype))
    if inputs[1].dtype is not dtype:
        raise TypeError(f"Input 'value' of 'AssignVariableOp' Op has type "
                        f"{inputs[1].dtype.name} that does not match type {dtype.name} of "
                        "the variable.")
    attrs["dtype"] = dtype
    attrs.setdefault("validate_shape", False)
    return []


registry.register_op("AssignVariableOp", infer=_assign_infer, kernel="AssignVariableOp",
                     num_inputs=2, stateful=True, doc="Sets a variable's value.",
                     gradient=registry.NOT_DIFFERENTIABLE)


# ---- AssignAddVariableOp / AssignSubVariableOp ---------------------------------------------

def _update_infer(op_type):
    def infer(inputs, attrs):
        _check_handle(op_type, inputs[0])
        dtype = dtypes.as_dtype(attrs.get("dtype", inputs[1].dtype))
        if inputs[1].dtype is not dtype:
            raise TypeError(f"Input 'value' of '{op_type}' Op has type {inputs[1].dtype.name} "
                            f"that does not match type {dtype.name} of the variable.")
        if not dtype.is_numeric:
            raise TypeError(f"Value passed to parameter 'value' has DataType {dtype.name} not "
                            f"in list of allowed values (op {op_type})")
        shape = variable_shape_of_handle(inputs[0])
        if not shape.is_compatible_with(inputs[1].shape):
            raise ValueError(f"Cannot update variable with shape {shape} using a Tensor with "
                             f"shape {inputs[1].shape}, shapes must be equal.")
        attrs["dtype"] = dtype
        return []

    return infer


registry.register_op("AssignAddVariableOp", infer=_update_infer("AssignAddVariableOp"),
                     kernel="AssignAddVariableOp", num_inputs=2, stateful=True,
                     doc="Adds to a variable's value.",
                     gradient=registry.NOT_DIFFERENTIABLE)
registry.register_op("AssignSubVariableOp", infer=_update_infer("AssignSubVariableOp"),
                     kernel="AssignSubVariableOp", num_inputs=2, stateful=True,
                     doc="Subtracts from a variable's value.",
                     gradient=registry.NOT_DIFFERENTIABLE)


# ---- VarIsInitializedOp ---------------------------------------------------------------------

def _is_initialized_infer(inputs, attrs):
    _check_handle("VarIsInitializedOp", inputs[0])
    return [(dtypes.bool, TensorShape([]))]


registry.register_op("VarIsInitializedOp", infer=_is_initialized_infer,
                     kernel="VarIsInitializedOp", num_inputs=1, stateful=True,
                     doc="Whether a variable has a value.",
                     gradient=registry.NOT_DIFFERENTIABLE)


# ---- module functions ---------------------------------------------------------------------

def _as_variable(ref, what):
    from sessionlib.ops import gradients, variables

    if isinstance(ref, variables.Variable):
        return ref
    raise TypeError(f"{what} needs a Variable as its first argument, got {ref!r}")


def assign(ref, value, validate_shape=None, use_locking=None, name=None):
    """Assigns `value` to variable `ref` (``tf.assign``).

    Args:
      ref: a `Variable`, or a TF 1 reference variable or reference tensor (then TF's
        ``Assign`` op, whose output is the reference).
      value: the new value (a tensor or anything `convert_to_tensor` takes).
      validate_shape: for a reference: whether shapes must match (default True); for a
        resource variable unused.
      use_locking: unused; updates are always atomic.
      name: the name of the assign op.

    Returns:
      A tensor holding the variable's value after the assignment.

    Raises:
      TypeError: if `ref` is not a Variable or `value` has the wrong dtype.
      ValueError: if `value`'s static shape is incompatible with the variable's.
    """
    from sessionlib.ops import ref_variable_ops

    if ref_variable_ops.is_reference(ref):
        return ref_variable_ops.update("Assign", ref, value, {"validate_shape": validate_shape,
                                                              "use_locking": use_locking}, name)
    return _as_variable(ref, "assign").assign(value, use_locking=use_locking, name=name)


def assign_add(ref, value, use_locking=None, name=None):
    """Adds `value` to variable `ref` (``tf.assign_add``); returns the new value.

    Raises:
      TypeError: if `ref` is not a Variable or `value` has the wrong dtype.
    """
    from sessionlib.ops import ref_variable_ops

    if ref_variable_ops.is_reference(ref):
        return ref_variable_ops.update("AssignAdd", ref, value, {"use_locking": use_locking},
                                       name)
    return _as_variable(ref, "assign_add").assign_add(value, use_locking=use_locking, name=name)


def assign_sub(ref, value, use_locking=None, name=None):
    """Subtracts `value` from variable `ref` (``tf.assign_sub``); returns the new value.

    Raises:
      TypeError: if `ref` is not a Variable or `value` has the wrong dtype.
    """
    from sessionlib.ops import ref_variable_ops

    if ref_variable_ops.is_reference(ref):
        return ref_variable_ops.update("AssignSub", ref, value, {"use_locking": use_locking},
                                       name)
    return _as_variable(ref, "assign_sub").assign_sub(value, use_locking=use_locking, name=name)


def is_variable_initialized(variable, name=None):
    """A bool scalar tensor: whether `variable` has been initialized in the running session.

    Raises:
      TypeError: if `variable` is not a Variable.
    """
    return _as_variable(variable, "is_variable_initialized").is_initialized(name=name)


def create_resource_op(graph, op_type, handle, extra_inputs, attrs, name):
    """Creates an op that uses the resource `handle`, on the resource's device.

    TF colocates such ops with their resource; here the op gets the handle's device, and with
    none, placement follows the resource input.
    """
    with graph.device(None):
        return graph.create_op(op_type, [handle] + list(extra_inputs), attrs, name=name,
                               device=handle.device or None)

