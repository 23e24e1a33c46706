"""``tf.custom_gradient`` and ``tf.grad_pass_through`` in graph mode.

Design. As in TF, the decorated function's results and its tensor arguments go through one
``IdentityN`` op whose ``_gradient_op_type`` attr names the user's gradient function (see
`gradients.register_gradient_override`). The gradient walk then calls that function with the
results' gradients instead of differentiating the function's own ops: its values become the
arguments' gradients, and nothing flows into the results' inputs.
"""

import functools
import inspect

from sessionlib.framework import graph as graph_lib
from sessionlib.ops import _nest, gradients

__all__ = ["custom_gradient", "grad_pass_through"]


def _as_list(values):
    return list(values) if isinstance(values, (list, tuple)) else [values]


def custom_gradient(f=None):
    """Decorates `f` so that its gradient is the one `f` returns (``tf.custom_gradient``).

    `f(*args)` must return ``(result, grad_fn)``: `result` a tensor or a nested structure of
    tensors, and ``grad_fn(*result_grads)`` the gradients of the tensor arguments (one, or a
    list with one per argument).

    Args:
      f: the function; without it, `custom_gradient` returns the decorator.

    Returns:
      A function with `f`'s results whose gradient is `grad_fn`.

    Raises:
      NotImplementedError: if `grad_fn` takes `variables` (gradients of the variables read
        by `f` are not supported).
      ValueError: when differentiated, if `grad_fn` returns the wrong number of gradients.
    """
    if f is None:
        return custom_gradient

    @functools.wraps(f)
    def decorated(*args, **kwargs):
        graph = graph_lib.get_default_graph()
        with graph.as_default():
            args = [graph_lib.convert_to_tensor(arg) for arg in args]
        result, grad_fn = f(*args, **kwargs)
        if "variables" in inspect.signature(grad_fn).parameters:
            raise NotImplementedError("custom_gradient: a grad_fn that takes `variables` is "
                                      "not supported in sessionlib")
        flat_result = [graph_lib.convert_to_tensor(t) for t in _nest.flatten(result)]
        result_count = len(flat_result)

        def gradient(op, *out_grads):
            input_grads = _as_list(grad_fn(*out_grads[:result_count]))
            if len(input_grads) != len(args):
                raise ValueError(f"custom_gradient function expected to return {len(args)} "
                                 f"gradients, but returned {len(input_grads)} instead.")
            return [None] * result_count + input_grads

        override = gradients.register_gradient_override(gradient)
        outputs = graph.create_op("IdentityN", flat_result + args,
                                  {gradients.GRADIENT_OP_TYPE_ATTR: override},
                                  name="IdentityN").outputs
        return _nest.pack_sequence_as(result, list(outputs[:result_count]))

    return decorated


def grad_pass_through(f):
    """`f` whose gradient is the identity (``tf.grad_pass_through``): each argument gets the
    gradient of the result in its position, as if `f` were ``lambda *x: x``.

    Args:
      f: a function of tensors returning as many tensors as it takes.

    Returns:
      The function with the pass-through gradient.
    """
    @custom_gradient
    def passed_through(*args, **kwargs):
        def gradient(*grads):
            return list(grads)

        return f(*args, **kwargs), gradient

    return functools.wraps(f)(passed_through)
