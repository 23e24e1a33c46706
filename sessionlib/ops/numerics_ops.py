"""NaN and Inf checks: ``tf.check_numerics`` (``tf.debugging.check_numerics``) and
``tf.add_check_numerics_ops``.

``CheckNumerics`` passes its input on unchanged, and fails the run with an
`InvalidArgumentError` (carrying the op, so the error names it) when the input holds a NaN or
an infinity: ``"<message> : Tensor had NaN values"`` (or ``Inf``, or ``Inf and NaN``), TF's
words. It is stateful, as in TF, so that it is never folded or merged away. Its gradient is
the incoming gradient, itself checked, as TF's is. The kernel is in the ``training_kernels``
family.
"""

import types

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework import registry
from sessionlib.ops import _infer

__all__ = ["check_numerics", "add_check_numerics_ops", "verify_tensor_all_finite", "debugging"]

_CHECKED_DTYPES = (dtypes.float16, dtypes.float32, dtypes.float64)


def _check_numerics_infer(inputs, attrs):
    _infer.check_dtype("CheckNumerics", inputs[0], _CHECKED_DTYPES, "tensor")
    attrs["T"] = inputs[0].dtype
    message = attrs.get("message", "")
    if isinstance(message, bytes):
        message = message.decode("utf-8", "replace")
    if not isinstance(message, str):
        raise TypeError(f"Expected string for argument 'message' not {message!r}.")
    attrs["message"] = message
    return [(inputs[0].dtype, inputs[0].shape)]


def _check_numerics_grad(op, grad):
    # TF's gradient: the gradient itself, checked with a message that says it is a gradient.
    return [check_numerics(grad, "Not a number (NaN) or infinity (Inf) values detected in "
                                 f"gradient. {op.get_attr('message')}")]


registry.register_op("CheckNumerics", infer=_check_numerics_infer, kernel="CheckNumerics",
                     num_inputs=1, stateful=True, gradient=_check_numerics_grad,
                     doc="The identity, failing the run on NaN or Inf values.")


def check_numerics(tensor, message, name=None):
    """Passes `tensor` on, failing the run if it holds a NaN or an infinity.

    Args:
      tensor: a float16, float32 or float64 Tensor.
      message: the start of the error message.
      name: the op name (default 'CheckNumerics').

    Returns:
      A Tensor equal to `tensor` (op ``CheckNumerics``).

    Raises:
      TypeError: for a tensor that is not floating point (while building).
      InvalidArgumentError: at run time, when the tensor holds a NaN or Inf.
    """
    tensor = graph_lib.convert_to_tensor(tensor)
    return tensor.graph.create_op("CheckNumerics", [tensor], {"message": message},
                                  name=name or "CheckNumerics").outputs[0]


def verify_tensor_all_finite(t=None, msg=None, name=None, x=None, message=None):
    """`t` after a `check_numerics` of it (``tf.verify_tensor_all_finite``).

    Args:
      t, x: the tensor (TF 1 and 2 spellings).
      msg, message: the error message (TF 1 and 2 spellings).
      name: the name scope.

    Returns:
      A Tensor equal to `t`.
    """
    tensor = graph_lib.convert_to_tensor(t if t is not None else x)
    with graph_lib.name_scope(name, "VerifyFinite", [tensor]):
        return check_numerics(tensor, msg if msg is not None else message)


def add_check_numerics_ops():
    """A group of `check_numerics` ops on every float output of the default graph.

    The checks run one after another (each has a control input on the previous one), as in
    TF; each message is the checked tensor's name, e.g. ``'dense/MatMul:0'``.

    Returns:
      The ``group_deps`` NoOp that runs them all.
    """
    from sessionlib.ops import control_flow_ops

    graph = graph_lib.get_default_graph()
    checks = []
    for op in graph.get_operations():
        for output in op.outputs:
            if output.dtype in _CHECKED_DTYPES:
                message = f"{op.name}:{output.value_index}"
                with graph.control_dependencies(checks):
                    checks = [check_numerics(output, message=message)]
    return control_flow_ops.group(*checks)


# The ``tf.debugging`` namespace, as a module object like ``tf.nn``.
debugging = types.ModuleType("sessionlib.debugging", "Debugging ops (``tf.debugging``).")
debugging.check_numerics = check_numerics
debugging.assert_all_finite = verify_tensor_all_finite

# tf.debugging's assertions (sessionlib/ops/check_ops.py).
from sessionlib.ops import check_ops as _check_ops  # noqa: E402 - an additive block

for _name in ("Assert", "assert_equal", "assert_none_equal", "assert_less",
              "assert_less_equal", "assert_greater", "assert_greater_equal", "assert_positive",
              "assert_negative", "assert_non_negative", "assert_non_positive", "assert_near",
              "assert_rank", "assert_rank_at_least", "assert_rank_in", "assert_type",
              "assert_integer", "assert_scalar", "is_numeric_tensor", "is_non_decreasing",
              "is_strictly_increasing"):
    setattr(debugging, _name, getattr(_check_ops, _name))
del _name
