"""The functional control flow ops: ``If``/``StatelessIf`` and ``While``/``StatelessWhile``.

Design. A conditional or a loop is one op whose branches (or cond and body) are functions,
`framework.function.GraphFunction`s held in func-valued attrs, exactly as TF 2.21 builds them
(op types, input layout and attr names are TF's, so a GraphDef round-trips). `tf.cond`
(``cond_v2.py``) and `tf.while_loop` (``while_v2.py``) build them; the runtime compiles each
function into a sub-plan that the op's kernel runs (``runtime/kernels/control_flow_kernels``).

* ``If``: inputs ``[cond, *input]``; attrs ``Tcond``, ``Tin``, ``Tout``, ``then_branch``,
  ``else_branch``, ``output_shapes``. Both branches take `input` and return ``Tout``.
* ``While``: inputs = the loop variables ``[loop_counter, maximum_iterations, *user vars,
  *captured tensors]``; attrs ``T``, ``cond``, ``body``, ``output_shapes``,
  ``parallel_iterations``. ``cond(*vars)`` returns a scalar bool, ``body(*vars)`` the next
  vars; the outputs are the final vars.

The ``Stateless`` variants are chosen when no op of the functions is stateful; only they may
be merged as duplicates by the graph rewrites. No control flow op is ever constant-folded
(`OpDef.function_attrs`).

Gradients: TF 2's (an ``If`` over the branch gradients, a backward ``While`` over saved
intermediates), in ``ops/control_flow_grad.py``.
"""

from sessionlib.framework import registry

__all__ = ["is_stateful_function", "IF_TYPES", "WHILE_TYPES"]

IF_TYPES = ("If", "StatelessIf")
WHILE_TYPES = ("While", "StatelessWhile")

# Ops whose registration is stateful only because they are placeholders of a function's
# arguments; they do not make the function stateful.
_ARGUMENT_OPS = frozenset({"Placeholder"})


def is_stateful_function(function):
    """Whether an op of `function`'s graph is stateful (a variable update, a random op, a
    stateful nested ``If``/``While``)."""
    return any(op._opdef.stateful and op.type not in _ARGUMENT_OPS
               for op in function.graph.get_operations())


def _if_infer(inputs, attrs):
    return list(zip(attrs["Tout"], attrs["output_shapes"]))


def _while_infer(inputs, attrs):
    for index, (tensor, dtype) in enumerate(zip(inputs, attrs["T"])):
        if tensor.dtype._base is not dtype:
            raise TypeError(f"While input {index} has dtype {tensor.dtype.name}, the loop "
                            f"variable is {dtype.name}")
    return list(zip(attrs["T"], attrs["output_shapes"]))


# The gradients of the four ops: None here; ops/control_flow_grad.py registers them with
# registry.register_gradient (it builds on cond_v2, which imports this module).
FUNCTIONAL_GRADIENTS = {"If": None, "StatelessIf": None, "While": None,
                        "StatelessWhile": None}

for _type, _stateful in (("If", True), ("StatelessIf", False)):
    registry.register_op(_type, infer=_if_infer, kernel="If", stateful=_stateful,
                         function_attrs=("then_branch", "else_branch"),
                         gradient=FUNCTIONAL_GRADIENTS[_type],
                         doc="Runs then_branch or else_branch on its inputs.")
for _type, _stateful in (("While", True), ("StatelessWhile", False)):
    registry.register_op(_type, infer=_while_infer, kernel="While", stateful=_stateful,
                         function_attrs=("cond", "body"),
                         gradient=FUNCTIONAL_GRADIENTS[_type],
                         doc="Runs body on its loop variables while cond holds.")
