"""`tf.cond` and `tf.case`: conditionals as one ``If`` op with two traced branches.

Design (TF 2's cond_v2, with TF 1's signature). Each branch is traced into a function graph
(``framework/function.py``) inside the ``cond`` name scope, so its ops are named ``cond/...``.
The branches' captured outer tensors become the ``If`` op's inputs: one list, the union of
both branches' captures, which both functions take (a branch gets an unused placeholder for a
capture only the other uses). At run time the kernel runs the taken branch only, so the
untaken branch's side effects (an ``assign_add``) do not happen, and `pred` may be fed.

Branch results are nested structures (``ops/_nest.py``) that must match. A branch may return
Operations (``tf.group``): as in TF 1's cond, each stands for a bool tensor that depends on
it, the branch's truth (the then branch gives True, the else branch False), so the cond
returns `pred`'s value there once the op ran. Every stateful op of a branch runs when the branch
runs, whether or not an output needs it (TF 2's automatic control dependencies).

`case` is nested conds, as TF 1 builds it; ``exclusive=True`` adds a run-time check
(``Assert``) that at most one predicate holds.
"""

from sessionlib import dtypes
from sessionlib.framework import function as function_lib
from sessionlib.framework import graph as graph_lib
from sessionlib.ops import _nest, array_ops, functional_ops

__all__ = ["cond", "case"]


def _branch_outputs(result, what):
    """(flat Tensors and Operations, the structure) of a branch's result."""
    if result is None:
        raise ValueError(f"{what} must have a return value.")
    flat = []
    for leaf in _nest.flatten(result):
        if isinstance(leaf, graph_lib.Operation):
            # TF 1 returns the branch's pivot (pred as this branch sees it) gated on the op.
            with graph_lib.control_dependencies([leaf]):
                flat.append(array_ops.constant(what == "true_fn"))
        elif leaf is None:
            flat.append(leaf)
        else:
            converter = getattr(leaf, "_as_graph_element", None)
            flat.append(converter() if converter is not None and not isinstance(
                leaf, graph_lib.Tensor) else graph_lib.convert_to_tensor(leaf))
    return flat, result


def _control_outputs(function, flat):
    ops = [op for op in flat if isinstance(op, graph_lib.Operation)]
    ops.extend(op for op in function.graph.get_operations()
               if op._opdef.stateful and op.type != "Placeholder" and op not in ops)
    return ops


def _trace_branch(fn, name, what):
    holder = {}

    def filter_outputs(result):
        flat, structure = _branch_outputs(result, what)
        holder["flat"] = flat
        return [t for t in flat if isinstance(t, graph_lib.Tensor)], structure

    function, structure = function_lib.trace(fn, [], name, output_filter=filter_outputs)
    return function, structure, holder["flat"]


def _match_inputs(functions):
    """Gives every function the same inputs: the union of their captures, in first-use
    order; a function gets an unused placeholder for a capture only others use.

    Returns:
      The outer tensors feeding the shared inputs.
    """
    union = []
    for function in functions:
        for tensor in function.captured:
            if tensor not in union:
                union.append(tensor)
    for function in functions:
        own = dict(zip(function.captured, function.inputs[-len(function.captured):]
                       if function.captured else []))
        explicit = function.inputs[:len(function.inputs) - len(function.captured)]
        inputs = []
        for tensor in union:
            placeholder = own.get(tensor)
            if placeholder is None:
                graph = function.graph
                with graph.as_default(), graph.name_scope(None), \
                        graph.control_dependencies(None):
                    placeholder = graph.create_op(
                        "Placeholder", [], {"dtype": tensor.dtype._base, "shape": tensor.shape},
                        name="unused_capture").outputs[0]
            inputs.append(placeholder)
        function.inputs = explicit + inputs
        function.captured = list(union)
    return union


def cond(pred=None, true_fn=None, false_fn=None, strict=False, name=None, fn1=None, fn2=None):
    """`true_fn()` if `pred` else `false_fn()`, with only the taken branch running.

    Args:
      pred: a scalar bool Tensor (may be fed).
      true_fn, false_fn: callables returning matching nested structures of Tensors.
      strict: if False, a branch returning a one-element list or tuple gives its element
        (TF 1's default); if True, the structure is kept.
      name: the name scope (default ``cond``).
      fn1, fn2: deprecated names of `true_fn` and `false_fn`.

    Returns:
      The taken branch's values, in the branches' structure.

    Raises:
      TypeError: if a function is not callable or given twice, `pred` is a Python bool, or
        the branches return different sequence types.
      ValueError: if the branches return different structures or dtypes.
    """
    if fn1 is not None:
        if true_fn is not None:
            raise TypeError("cond(): true_fn and fn1 may not be set simultaneously.")
        true_fn = fn1
    if fn2 is not None:
        if false_fn is not None:
            raise TypeError("cond(): false_fn and fn2 may not be set simultaneously.")
        false_fn = fn2
    if not callable(true_fn):
        raise TypeError("true_fn must be callable.")
    if not callable(false_fn):
        raise TypeError("false_fn must be callable.")
    if isinstance(pred, bool):
        raise TypeError("'pred' must not be a Python bool.")
    pred = graph_lib.convert_to_tensor(pred)
    if pred.dtype._base is not dtypes.bool:
        raise TypeError(f"pred must be a bool tensor, got {pred.dtype.name}")
    if pred.shape.rank not in (None, 0):
        raise ValueError(f"Shape must be rank 0 but is rank {pred.shape.rank} for pred of "
                         f"cond ({pred.name})")
    graph = graph_lib.get_default_graph()
    with graph_lib.name_scope(name, "cond") as scope:
        true_name = function_lib.unique_function_name(scope, "true")
        false_name = function_lib.unique_function_name(scope, "false")
        then_fn, then_structure, then_flat = _trace_branch(true_fn, true_name, "true_fn")
        else_fn, else_structure, else_flat = _trace_branch(false_fn, false_name, "false_fn")
        _check_same_structure(then_structure, else_structure, then_flat, else_flat)
        then_fn.control_outputs = _control_outputs(then_fn, then_flat)
        else_fn.control_outputs = _control_outputs(else_fn, else_flat)
        captured = _match_inputs([then_fn, else_fn])
        output_shapes = [a.shape.most_specific_compatible_shape(b.shape)
                         for a, b in zip(then_fn.outputs, else_fn.outputs)]
        stateful = (functional_ops.is_stateful_function(then_fn)
                    or functional_ops.is_stateful_function(else_fn))
        attrs = {"Tcond": dtypes.bool, "Tin": [t.dtype._base for t in captured],
                 "Tout": then_fn.output_types, "then_branch": then_fn,
                 "else_branch": else_fn, "output_shapes": output_shapes}
        controls = then_fn.graph.outer_control_inputs + [
            op for op in else_fn.graph.outer_control_inputs
            if op not in then_fn.graph.outer_control_inputs]
        with graph.control_dependencies(controls):
            op = graph.create_op("If" if stateful else "StatelessIf", [pred] + captured,
                                 attrs, name=scope)
    outputs = iter(op.outputs)
    flat = [None if leaf is None else op if isinstance(leaf, graph_lib.Operation)
            else next(outputs) for leaf in then_flat]
    result = _nest.pack_sequence_as(then_structure, flat)
    if not strict and isinstance(result, (list, tuple)) and len(result) == 1 and \
            not hasattr(result, "_fields"):
        return result[0]
    return result


def _check_same_structure(then_structure, else_structure, then_flat, else_flat):
    try:
        _nest.assert_same_structure(then_structure, else_structure)
    except TypeError as err:
        raise TypeError(f"Incompatible return types of true_fn and false_fn: {err}") from None
    for a, b in zip(then_flat, else_flat):
        kinds = (type(a) if a is None or isinstance(a, graph_lib.Operation) else "tensor",
                 type(b) if b is None or isinstance(b, graph_lib.Operation) else "tensor")
        if kinds[0] != kinds[1]:
            raise ValueError(f"Incompatible return values of true_fn and false_fn: {a!r} "
                             f"and {b!r}")
        if isinstance(a, graph_lib.Tensor) and a.dtype._base is not b.dtype._base:
            # TF 2.21's message (and type: ValueError).
            raise ValueError(f"Outputs of 'true_fn' and 'false_fn' must have the same "
                             f"type(s). Received {a.dtype._base.name} from 'true_fn' and "
                             f"{b.dtype._base.name} from 'false_fn'.")


def case(pred_fn_pairs, default=None, exclusive=False, strict=False, name="case"):
    """The result of the first pair whose predicate holds, else `default()` (TF 1's
    ``tf.case``: nested conds, the first true predicate wins).

    Args:
      pred_fn_pairs: a list of (bool scalar Tensor, callable) pairs, or a dict of them.
      default: the callable for when no predicate holds; None: the last pair's callable.
      exclusive: if True, a run where more than one predicate holds fails with
        InvalidArgumentError.
      strict: as for `cond`.
      name: the name scope.

    Returns:
      The chosen callable's values.

    Raises:
      TypeError: if `pred_fn_pairs` is not a list of pairs, or a function is not callable.
    """
    if isinstance(pred_fn_pairs, dict):
        pred_fn_pairs = list(pred_fn_pairs.items())
    if not isinstance(pred_fn_pairs, (list, tuple)):
        raise TypeError("fns must be a list, tuple, or dict")
    pairs = []
    for pair in pred_fn_pairs:
        if not isinstance(pair, tuple) or len(pair) != 2:
            raise TypeError("Each entry in pred_fn_pairs must be a 2-tuple")
        pred, fn = pair
        if not callable(fn):
            raise TypeError(f"fn for pred {getattr(pred, 'name', pred)} must be callable.")
        pairs.append((graph_lib.convert_to_tensor(pred), fn))
    if not pairs and default is None:
        raise ValueError("pred_fn_pairs and default may not both be empty")
    if default is None:
        pairs, (_, default) = pairs[:-1], pairs[-1]
    elif not callable(default):
        raise TypeError("default must be callable.")
    with graph_lib.name_scope(name, "case"):
        if exclusive and len(pairs) > 1:
            from sessionlib.ops import array_ops, math_ops
            from sessionlib.ops import check_ops

            preds = array_ops.stack([p for p, _ in pairs], name="preds_c")
            count = math_ops.reduce_sum(math_ops.cast(preds, dtypes.int32), name="num_true")
            at_most_one = math_ops.less_equal(count, 1, name="at_most_one_true")
            check = check_ops.Assert(
                at_most_one, ["Input error: exclusive=True and more than one predicate "
                              "evaluated to true:", preds])
            with graph_lib.control_dependencies([check]):
                pairs = [(array_ops.identity(p), fn) for p, fn in pairs]
        fn = default
        for pred, branch in reversed(pairs):
            fn = _chained(pred, branch, fn, strict)
        return fn()


def _chained(pred, true_fn, false_fn, strict):
    return lambda: cond(pred, true_fn, false_fn, strict=strict)


def _indexed_branches(branch_fns):
    """`branch_fns` (a list of callables, or of (int, callable) pairs, or a dict) as the list
    of callables in index order, with TF's checks."""
    if isinstance(branch_fns, dict):
        pairs = list(branch_fns.items())
    elif isinstance(branch_fns, (list, tuple)):
        if all(callable(fn) for fn in branch_fns):
            pairs = list(enumerate(branch_fns))
        else:
            pairs = list(branch_fns)
    else:
        raise TypeError("branch_fns must be a list, tuple, or dict")
    if not pairs:
        raise ValueError("Must provide at least one item in 'branch_fns'")
    for pair in pairs:
        if not isinstance(pair, tuple) or len(pair) != 2:
            raise TypeError(f"Each entry in 'branch_fns' must be a 2-tuple. Received {pair}.")
        key, fn = pair
        if not isinstance(key, int) or isinstance(key, bool):
            raise TypeError(f"key must be a Python `int`, got {type(key)}")
        if not callable(fn):
            raise TypeError(f"fn for key {key} must be callable.")
    keys = sorted(key for key, _ in pairs)
    if keys != list(range(len(pairs))):
        raise ValueError(f"branch indices (keys) must form contiguous range of [0 to "
                         f"{len(pairs)}) but found {{{','.join(str(k) for k in keys)}}}")
    return [fn for _, fn in sorted(pairs, key=lambda pair: pair[0])]


def switch_case(branch_index, branch_fns, default=None, name="switch_case"):
    """The result of ``branch_fns[branch_index]()`` (``tf.switch_case``), as nested conds.

    Args:
      branch_index: an integer scalar tensor: which branch runs.
      branch_fns: a list of callables, a list of (int, callable) pairs or a dict of them; the
        keys must be 0 .. n-1.
      default: the callable for an index out of range; None: the last branch.
      name: the name scope.

    Returns:
      The chosen branch's values (all branches must return the same structure and types).

    Raises:
      TypeError: if `branch_index` is not an integer tensor, or `branch_fns` is malformed.
      ValueError: if `branch_fns` is empty or its keys are not 0 .. n-1.
    """
    branches = _indexed_branches(branch_fns)
    if default is not None and not callable(default):
        raise TypeError("default must be callable.")
    with graph_lib.name_scope(name, "switch_case", [branch_index]):
        branch_index = graph_lib.convert_to_tensor(branch_index, name="branch_index")
        if not branch_index.dtype.is_integer:
            raise TypeError(f"'branch_index' must be an integer Tensor, got "
                            f"{branch_index.dtype!r}")
        from sessionlib.ops import math_ops

        if default is None:
            branches, default = branches[:-1], branches[-1]
        pairs = [(math_ops.equal(branch_index, graph_lib.convert_to_tensor(
                     index, dtype=branch_index.dtype)), fn)
                 for index, fn in enumerate(branches)]
        return case(pairs, default=default, name="indexed_case")


__all__.append("switch_case")
