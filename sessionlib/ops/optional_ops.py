"""Optionals: TF's variant-valued "a tuple of tensors, or nothing", and their gradients.

The ops are TF 2.21's (``OptionalNone``, ``OptionalFromValue``, ``OptionalGetValue``,
``OptionalHasValue``) with its attrs, so that GraphDefs holding them import, run and
round-trip. Their use here is TF 2's cond gradient in graph mode: a forward ``If`` whose branch
gradients need a tensor made in only one branch exposes it as an extra output, wrapped in
``OptionalFromValue`` in the branch that makes it and ``OptionalNone`` in the other (both
branches must return the same types), and the gradient branch unwraps it with
``OptionalGetValue``. TF-made graphs with ``tf.gradients`` of a ``tf.cond``
(``tests/data/tf_control_flow/v2_grad.pb``) hold exactly that.

A run-time value is a 0-d object array holding an immutable `OptionalValue`
(``runtime/kernels/optional_kernels.py``), as a TensorList is. The static types and shapes of
the components are not kept on the variant tensor (TF keeps them as handle data); the reading
op states them in its ``output_types``/``output_shapes`` attrs, as TF's does.

Gradients are TF's (``tensorflow/python/ops/optional_grad.py``): the gradient of wrapping is
unwrapping and the reverse. An Optional that gets several gradients adds them with ``AddN``
(component-wise), one that gets none counts as ``ZerosLike`` (zeros of its components); both
kernels defer to the value, as for lists.
"""

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework import registry
from sessionlib.framework.graph import Tensor
from sessionlib.framework.tensor_shape import TensorShape
from sessionlib.ops import _infer, array_ops

__all__ = ["optional_none", "optional_from_value", "optional_get_value", "optional_has_value"]

_VARIANT = (dtypes.variant,)
_SCALAR = TensorShape([])


# ---- infer functions ---------------------------------------------------------------------------

def _none_infer(inputs, attrs):
    return [(dtypes.variant, _SCALAR)]


def _from_value_infer(inputs, attrs):
    if not inputs:
        raise ValueError("OptionalFromValue needs at least one component")
    attrs["Toutput_types"] = [t.dtype for t in inputs]
    return [(dtypes.variant, _SCALAR)]


def _component_attrs(op_type, attrs):
    """The ``output_types`` and ``output_shapes`` attrs of `op_type`, checked and normalised."""
    types = attrs.get("output_types")
    shapes = attrs.get("output_shapes")
    if not types:
        raise ValueError(f"{op_type} needs a non-empty attr output_types")
    types = [dtypes.as_dtype(t) for t in types]
    if shapes is None:
        shapes = [TensorShape(None)] * len(types)
    shapes = [s if isinstance(s, TensorShape) else TensorShape(s) for s in shapes]
    if len(shapes) != len(types):
        raise ValueError(f"{op_type}: output_types has {len(types)} entries but output_shapes "
                         f"has {len(shapes)}")
    attrs["output_types"], attrs["output_shapes"] = types, shapes
    return types, shapes


def _get_value_infer(inputs, attrs):
    _infer.check_dtype("OptionalGetValue", inputs[0], _VARIANT, "optional")
    types, shapes = _component_attrs("OptionalGetValue", attrs)
    return list(zip(types, shapes))


def _has_value_infer(inputs, attrs):
    _infer.check_dtype("OptionalHasValue", inputs[0], _VARIANT, "optional")
    return [(dtypes.bool, _SCALAR)]


# ---- gradients (TF's optional_grad.py) ---------------------------------------------------------

def _from_value_grad(op, grad):
    if grad is None:
        return [None] * len(op.inputs)
    return optional_get_value(grad, [t.dtype for t in op.inputs], [t.shape for t in op.inputs])


def _get_value_grad(op, *grads):
    # An unused component gets zeros, so that the gradient is one Optional of every component.
    return [optional_from_value([array_ops.zeros_like(out) if grad is None else grad
                                 for out, grad in zip(op.outputs, grads)])]


registry.register_op("OptionalNone", infer=_none_infer, num_inputs=0,
                     gradient=registry.NOT_DIFFERENTIABLE, doc="An Optional with no value.")
registry.register_op("OptionalFromValue", infer=_from_value_infer, gradient=_from_value_grad,
                     doc="An Optional holding its inputs.")
registry.register_op("OptionalGetValue", infer=_get_value_infer, num_inputs=1,
                     gradient=_get_value_grad,
                     doc="The components of an Optional; an error when it has no value.")
registry.register_op("OptionalHasValue", infer=_has_value_infer, num_inputs=1,
                     gradient=registry.NOT_DIFFERENTIABLE,
                     doc="Whether an Optional holds a value.")


# ---- the Python API (TF's gen_optional_ops) -----------------------------------------------------

def _graph_of(values):
    for value in values:
        if isinstance(value, Tensor):
            return value.graph
    return graph_lib.get_default_graph()


def optional_none(name=None):
    """An Optional with no value (op ``OptionalNone``): a variant scalar Tensor."""
    graph = graph_lib.get_default_graph()
    return graph.create_op("OptionalNone", [], {}, name=name or "OptionalNone").outputs[0]


def optional_from_value(components, name=None):
    """An Optional holding `components` (op ``OptionalFromValue``).

    Args:
      components: a non-empty list of tensors (or values).
      name: the op name.

    Returns:
      A variant scalar Tensor.
    """
    components = list(components)
    graph = _graph_of(components)
    with graph.as_default():
        tensors = [graph_lib.convert_to_tensor(c) for c in components]
        return graph.create_op("OptionalFromValue", tensors, {},
                               name=name or "OptionalFromValue").outputs[0]


def optional_get_value(optional, output_types, output_shapes, name=None):
    """The components of an Optional (op ``OptionalGetValue``); running it on an Optional with
    no value, or other types or shapes than stated, is an InvalidArgumentError.

    Args:
      optional: a variant Tensor holding an Optional.
      output_types: the components' dtypes.
      output_shapes: their (partial) shapes.
      name: the op name.

    Returns:
      A list of Tensors, one per component.
    """
    graph = optional.graph
    attrs = {"output_types": [dtypes.as_dtype(t) for t in output_types],
             "output_shapes": [s if isinstance(s, TensorShape) else TensorShape(s)
                               for s in output_shapes]}
    return list(graph.create_op("OptionalGetValue", [optional], attrs,
                                name=name or "OptionalGetValue").outputs)


def optional_has_value(optional, name=None):
    """Whether an Optional holds a value, a bool scalar (op ``OptionalHasValue``)."""
    return optional.graph.create_op("OptionalHasValue", [optional], {},
                                    name=name or "OptionalHasValue").outputs[0]
