"""`tf.while_loop`: a loop as one ``While`` op with a traced cond and body.

Design (TF 2's while_v2, with TF 1's signature and checks). The loop variables are flattened
(``ops/_nest.py``) and become the op's inputs, after two of TF's own: a loop counter and the
iteration bound (``maximum_iterations``, -1 for none), so the layout is TF 2.21's::

    While(loop_counter, maximum_iterations, *user vars, *captured tensors)

`cond` and `body` are traced once into function graphs taking all of these. The traced cond
is ``pred`` (and ``counter < maximum_iterations`` when a bound is given); the traced body
returns ``counter + 1``, the bound, the user body's results and the captured tensors
unchanged. The outer tensors either function uses are captured once, as extra loop
variables (the union of both functions' captures). A loop variable keeps its static shape
unless `shape_invariants` relaxes it; a body result of another shape is TF 1's ValueError.

Loop variables of other kinds (a ``TensorArray``) take part through a small protocol: a leaf
with ``_as_loop_tensor()`` enters the loop as that tensor and is rebuilt from the tensor in
the body's arguments and in the results by ``leaf._from_loop_tensor(tensor)``.
"""

from sessionlib import dtypes
from sessionlib.framework import function as function_lib
from sessionlib.framework import graph as graph_lib
from sessionlib.framework.tensor_shape import TensorShape, as_shape
from sessionlib.ops import _nest, functional_ops

__all__ = ["while_loop"]


def _to_tensor(leaf):
    to_loop = getattr(leaf, "_as_loop_tensor", None)
    if to_loop is not None:
        return to_loop()
    converter = getattr(leaf, "_as_graph_element", None)
    if converter is not None and not isinstance(leaf, graph_lib.Tensor):
        leaf = converter()
    return graph_lib.convert_to_tensor(leaf)


def _from_tensor(like, tensor):
    from_loop = getattr(like, "_from_loop_tensor", None)
    return tensor if from_loop is None else from_loop(tensor)


def _invariants(loop_vars, flat, shape_invariants):
    if shape_invariants is None:
        return [t.shape for t in flat]
    shapes = [as_shape(s) for s in _flatten_shapes(shape_invariants)]
    if len(shapes) != len(flat):
        raise ValueError(f"shape_invariants has {len(shapes)} shapes for {len(flat)} loop "
                         "variables")
    for tensor, shape in zip(flat, shapes):
        if not shape.is_compatible_with(tensor.shape):
            raise ValueError(f"The shape invariant specified for {tensor.name} is not "
                             f"compatible with the initial shape of the loop variable. It "
                             f"enters the loop with shape {_shape_str(tensor.shape)}, but the "
                             f"specified shape invariant is {_shape_str(shape)}.")
    return shapes


def _flatten_shapes(structure):
    if isinstance(structure, TensorShape):
        return [structure]
    if isinstance(structure, (list, tuple)) and all(
            item is None or isinstance(item, int) for item in structure):
        return [structure]
    if _nest.is_sequence(structure):
        return [s for child in (structure.values() if isinstance(structure, dict)
                                else structure) for s in _flatten_shapes(child)]
    return [structure]


def _shape_str(shape):
    if shape.rank is None:
        return "<unknown>"
    dims = ["None" if d is None else str(d) for d in shape.as_list()]
    return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"


def _is_less_specific(invariant, shape):
    """Whether `invariant` admits every value of static `shape` (TF 1's check)."""
    if invariant.rank is None:
        return True
    if shape.rank is None or invariant.rank != shape.rank:
        return False
    return all(a is None or a == b for a, b in zip(invariant.as_list(), shape.as_list()))


def while_loop(cond, body, loop_vars, shape_invariants=None, parallel_iterations=10,
               back_prop=True, swap_memory=False, name=None, maximum_iterations=None,
               return_same_structure=False):
    """Repeats `body` while `cond` holds (``tf.while_loop``, TF 1 semantics).

    Args:
      cond: a callable taking the loop variables, returning a scalar bool.
      body: a callable taking the loop variables, returning their next values in the same
        structure.
      loop_vars: a Tensor, value, or nested structure of them.
      shape_invariants: the shape each variable keeps across iterations (same structure);
        default: its initial static shape.
      parallel_iterations: recorded (TF's attr); iterations run in order.
      back_prop: if False, no gradient flows back through the loop (its results pass a
        ``StopGradient``).
      swap_memory: accepted for TF compatibility.
      name: the name scope (default ``while``).
      maximum_iterations: an optional int32 bound on the iterations.
      return_same_structure: if False, a single loop variable comes back unwrapped.

    Returns:
      The final loop variables.

    Raises:
      TypeError: if `cond` or `body` is not callable, or the body changes a dtype.
      ValueError: if `loop_vars` is empty, the body returns another structure, or a
        variable's shape changes without a shape invariant allowing it.
    """
    if not callable(cond):
        raise TypeError("'cond' must be callable.")
    if not callable(body):
        raise TypeError("'body' must be callable.")
    if parallel_iterations < 1:
        raise TypeError("'parallel_iterations' must be a positive integer.")
    if loop_vars is None or (_nest.is_sequence(loop_vars) and not _nest.flatten(loop_vars)):
        raise ValueError("'loop_vars' must be provided.")
    packed = isinstance(loop_vars, (list, tuple)) and not hasattr(loop_vars, "_fields")
    structure = loop_vars
    graph = graph_lib.get_default_graph()
    with graph_lib.name_scope(name, "while") as scope:
        leaves = _nest.flatten(loop_vars)
        flat = [_to_tensor(leaf) for leaf in leaves]
        shapes = _invariants(loop_vars, flat, shape_invariants)
        if maximum_iterations is None:
            bound = graph_lib.convert_to_tensor(-1, dtype=dtypes.int32,
                                                name="maximum_iterations")
        else:
            bound = graph_lib.convert_to_tensor(maximum_iterations, name="maximum_iterations")
            if bound.dtype._base is not dtypes.int32:
                from sessionlib.ops import math_ops

                bound = math_ops.cast(bound, dtypes.int32)
            if bound.shape.rank not in (None, 0):
                raise ValueError(f"maximum_iterations must be a scalar, saw shape: "
                                 f"{bound.shape}")
        counter = graph_lib.convert_to_tensor(0, dtype=dtypes.int32, name="loop_counter")
        specs = [(dtypes.int32, TensorShape([])), (dtypes.int32, TensorShape([]))] + [
            (t.dtype._base, shape) for t, shape in zip(flat, shapes)]

        def user_args(args):
            values = [_from_tensor(leaf, t) for leaf, t in zip(leaves, args[2:])]
            result = _nest.pack_sequence_as(structure, values)
            return result if packed else [result]

        def cond_fn(*args):
            pred = cond(*user_args(args))
            pred = _to_tensor(pred)
            if pred.dtype._base is not dtypes.bool:
                raise TypeError(f"The cond of a while_loop must return a bool, got "
                                f"{pred.dtype.name}")
            if maximum_iterations is not None:
                from sessionlib.ops import math_ops

                pred = math_ops.logical_and(math_ops.less(args[0], args[1]), pred)
            return pred

        def body_fn(*args):
            from sessionlib.ops import math_ops

            result = body(*user_args(args))
            if not packed:
                if isinstance(result, list) and len(result) == 1 and \
                        not _nest.is_sequence(structure):
                    result = result[0]
            elif not isinstance(result, (list, tuple)) or (
                    hasattr(result, "_fields") and len(structure) == 1):
                result = [result]
            _nest.assert_same_structure(list(structure) if packed else structure,
                                        list(result) if packed else result)
            outputs = [_to_tensor(leaf) for leaf in _nest.flatten(result)]
            for before, after, shape in zip(flat, outputs, shapes):
                if after.dtype._base is not before.dtype._base:
                    raise TypeError(f"Loop var {before.name} enters the loop with type "
                                    f"{before.dtype._base.name}, but has type "
                                    f"{after.dtype._base.name} after one iteration.")
                if not _is_less_specific(shape, after.shape):
                    raise ValueError(
                        f"Input tensor '{before.name}' enters the loop with shape "
                        f"{_shape_str(shape)}, but has shape {_shape_str(after.shape)} after "
                        "one iteration. To allow the shape to vary across iterations, use "
                        "the `shape_invariants` argument of tf.while_loop to specify a "
                        "less-specific shape.")
            return [math_ops.add(args[0], 1), args[1]] + outputs

        cond_function, _ = function_lib.trace(
            cond_fn, specs, function_lib.unique_function_name(scope, "cond"))
        body_function, _ = function_lib.trace(
            body_fn, specs, function_lib.unique_function_name(scope, "body"))
        for function in (cond_function, body_function):
            function.control_outputs = [
                op for op in function.graph.get_operations()
                if op._opdef.stateful and op.type != "Placeholder"]
        from sessionlib.ops import cond_v2

        captured = cond_v2._match_inputs([cond_function, body_function])
        # The body passes the captured tensors through unchanged.
        body_function.outputs = body_function.outputs + body_function.inputs[len(specs):]
        inputs = [counter, bound] + flat + captured
        output_shapes = [TensorShape([]), TensorShape([])] + list(shapes) + [
            t.shape for t in captured]
        stateful = (functional_ops.is_stateful_function(cond_function)
                    or functional_ops.is_stateful_function(body_function))
        attrs = {"T": [t.dtype._base for t in inputs], "cond": cond_function,
                 "body": body_function, "output_shapes": output_shapes,
                 "parallel_iterations": int(parallel_iterations)}
        controls = cond_function.graph.outer_control_inputs + [
            op for op in body_function.graph.outer_control_inputs
            if op not in cond_function.graph.outer_control_inputs]
        with graph.control_dependencies(controls):
            op = graph.create_op("While" if stateful else "StatelessWhile", inputs, attrs,
                                 name=scope)
    outputs = op.outputs[2:2 + len(flat)]
    if not back_prop:
        # No gradient flows back through the loop (TF 2's while_v2 does the same).
        from sessionlib.ops import gradients

        with graph.name_scope(scope):
            outputs = [gradients.stop_gradient(t) for t in outputs]
    results = [_from_tensor(leaf, t) for leaf, t in zip(leaves, outputs)]
    result = _nest.pack_sequence_as(structure, results)
    if not return_same_structure and len(results) == 1:
        return results[0]
    return result
