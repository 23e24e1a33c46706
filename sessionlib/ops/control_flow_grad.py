"""Gradients of the functional control flow ops:
``If``/``StatelessIf``, ``While``/``StatelessWhile``.

Design: TF 2's (cond_v2 and while_v2 gradients), written for this library's graph model.

The gradient of a function-calling op is itself a function-calling op whose functions are the
gradients of the forward functions: `tf.gradients` runs *inside* a new function graph (a
`_GradGraph`), differentiating the forward function's outputs with respect to its inputs, with
the incoming gradients as seeds. The gradient ops that the walk builds use tensors of the
forward function (a ``tanh`` gradient needs the ``tanh`` output); the `_GradGraph` captures
each such tensor through a *resolver* that says what stands for it in the gradient function:

* a forward-function input that does not change across calls (an ``If`` input, a ``While``
  loop variable the body passes through unchanged: the captured weights) is the matching
  input of the forward op, captured from the enclosing graph;
* a ``Const`` is copied;
* a read of a resource variable is read again (the function captures the handle);
* anything else is an *intermediate*, which the forward op must hand out:
  - ``If``: it becomes an extra output of the forward ``If``, added in place; the other
    branch returns a scalar zero of its dtype there (TF returns zeros or "optionals"), since
    only the gradient of the branch that ran reads it;
  - ``While``: a ``TensorList`` accumulator becomes an extra loop variable of the forward
    ``While`` (an ``EmptyTensorList`` input, a ``TensorListPushBack`` of the value in the
    body), and the backward body pops one element per iteration, in reverse.

Changing a forward op in place (extra outputs, extra loop variables:
`Operation._add_outputs`, ``_add_inputs``, ``_set_attr``) bumps the versions of its graph
and of its functions' graphs, so compiled steps and `FunctionPlan`s are rebuilt. The
intermediates a forward op hands out are remembered on it (``_grad_intermediates``), so a
second `tf.gradients` reuses them.

``If`` gradient: ``If(pred, *inputs)`` of the two gradient functions, which take (as captures)
the incoming gradients and the intermediates and return the gradients of the forward inputs;
where one branch has a gradient and the other none, the other returns zeros.

``While`` gradient: a backward ``While`` that runs as many iterations as the forward loop did
(its ``loop_counter`` output, given as the backward loop's ``maximum_iterations``), carrying
the gradients of the loop variables that change, and summing the gradients of the ones the
body passes through unchanged (captured tensors and variable handles: an RNN's weights), each
iteration. A captured TensorList that the body reads one element of (a ``dynamic_rnn``'s
input TensorArray) sums its gradient at that element (`_read_gradient`, `_add_at`): no list
is made and no whole lists are added per iteration. Nested functions (a cond in a loop, a loop in a loop) need nothing more: the inner
op's gradient is built while the outer gradient function is being traced, and what it takes
from the outer forward function is resolved by the outer `_GradGraph` in turn.
"""

import numpy as np

from sessionlib import dtypes
from sessionlib.framework import function as function_lib
from sessionlib.framework import graph as graph_lib
from sessionlib.framework import registry
from sessionlib.framework.indexed_slices import IndexedSlices
from sessionlib.framework.tensor_shape import TensorShape
from sessionlib.ops import array_ops, cond_v2, functional_ops, gradients as gradients_lib
from sessionlib.ops import list_ops, math_ops

__all__ = []


class _GradGraph(function_lib.FuncGraph):
    """The function graph of a gradient function: it may use the tensors of `forward` (the
    forward function's graph), which `resolve(self, tensor)` turns into tensors of its own.

    Args:
      name: the function's name.
      forward: the forward function's graph.
      resolve: ``resolve(grad_graph, forward_tensor) -> tensor of grad_graph``.
      outer: the enclosing graph (default: the default graph).
    """

    def __init__(self, name, forward, resolve, outer=None):
        super().__init__(name, outer)
        self.forward = forward
        self._resolve = resolve
        self._resolved = {}

    def _captures_from(self, graph):
        return graph is self.forward or graph is self.outer or self.outer._captures_from(graph)

    def _capture_here(self, tensor, op_type, name):
        if tensor.graph is not self.forward:
            return super()._capture_here(tensor, op_type, name)   # as any function does
        resolved = self._resolved.get(tensor)
        if resolved is None:
            if tensor.op.type == "ReadVariableOp":
                # A variable read is read again here, from the handle the forward read.
                resolved = super()._capture_here(tensor, op_type, name)
            else:
                with self.control_dependencies(None), self.device(None), \
                        self.name_scope(None):
                    resolved = self._resolve(self, tensor)
            self._resolved[tensor] = resolved
        return resolved


def _copy_const(graph, tensor):
    op = tensor.op
    return graph.create_op("Const", [], dict(op._attrs), name="copied_const").outputs[0]


def _dense(grad):
    return graph_lib.convert_to_tensor(grad) if isinstance(grad, IndexedSlices) else grad


def _bump(*graphs):
    for graph in graphs:
        graph._bump_version()


def _intermediates(op):
    cache = getattr(op, "_grad_intermediates", None)
    if cache is None:
        cache = op._grad_intermediates = {}
    return cache


def _scalar_dummy(graph, tensor):
    """A cheap stand-in of `tensor`'s dtype in `graph` (the branch that does not make it)."""
    with graph._as_default_exactly(), graph.control_dependencies(None), \
            graph.name_scope(None):
        if tensor.dtype._base is dtypes.variant:
            element_dtype, _ = list_ops.handle_data(tensor) or (None, None)
            return list_ops.empty_tensor_list(None, element_dtype or dtypes.float32,
                                              name="dummy")
        if tensor.dtype._base is dtypes.resource:
            raise NotImplementedError(f"The gradient of a cond needs the resource tensor "
                                      f"{tensor.name} of one branch; only variable reads "
                                      "are supported")
        value = np.zeros((), dtype=tensor.dtype._base.as_numpy_dtype)
        return graph_lib.convert_to_tensor(value, dtype=tensor.dtype._base, name="dummy")


# ---- If --------------------------------------------------------------------------------------

def _if_output_of(op, branch_index, tensor):
    """The output of ``If`` `op` that gives `tensor` (of branch `branch_index`'s graph),
    adding it in place (the other branch returns a dummy) if `op` has none yet."""
    cache = _intermediates(op)
    key = (branch_index, tensor)
    if key in cache:
        return op._outputs[cache[key]]
    functions = [op.get_attr("then_branch"), op.get_attr("else_branch")]
    for index, function in enumerate(functions):
        function.outputs.append(tensor if index == branch_index
                                else _scalar_dummy(function.graph, tensor))
    own, other = functions[branch_index].outputs[-1], functions[1 - branch_index].outputs[-1]
    shape = own.shape.most_specific_compatible_shape(other.shape)
    op._set_attr("Tout", list(op.get_attr("Tout")) + [tensor.dtype._base])
    op._set_attr("output_shapes", list(op.get_attr("output_shapes")) + [shape])
    (output,) = op._add_outputs([(tensor.dtype._base, shape)])
    cache[key] = output.value_index
    _bump(op.graph, functions[0].graph, functions[1].graph)
    return output


def _if_resolver(op, branch_index, function):
    inputs = {t: i for i, t in enumerate(function.inputs)}

    def resolve(graph, tensor):
        if tensor in inputs:
            return graph._capture(op.inputs[1 + inputs[tensor]], "Identity", None)
        if tensor.op.type == "Const":
            return _copy_const(graph, tensor)
        outer = _if_output_of(op, branch_index, tensor)
        captured = graph._capture(outer, "Identity", None)
        captured.set_shape(tensor.shape)   # the If output's shape merges in the dummy's
        return captured

    return resolve


def _zeros_for(x, like):
    """Zeros standing for the gradient of function input `x` where the other branch's is
    `like` (a variable handle's gradient has the variable's shape, which `like` has)."""
    if x.dtype._base is not dtypes.resource:
        return array_ops.zeros_like(x)
    if like.shape.is_fully_defined():
        return array_ops.zeros(like.shape, like.dtype)
    return array_ops.zeros_like(like)


@gradients_lib.accepts_none
def _if_grad(op, *grads):
    """TF 2's cond gradient: an ``If`` on the same predicate over the branch gradients."""
    build = graph_lib.get_default_graph()
    then_fn, else_fn = op.get_attr("then_branch"), op.get_attr("else_branch")
    carried = [i for i, g in enumerate(grads) if g is not None]
    num_inputs = len(op.inputs) - 1
    if not carried:
        return [None] * len(op.inputs)
    seeds = [_dense(grads[i]) for i in carried]
    scope = build.get_name_scope()
    branch_grads, graphs = [], []
    for index, function in enumerate((then_fn, else_fn)):
        suffix = "true_grad" if index == 0 else "false_grad"
        graph = _GradGraph(function_lib.unique_function_name(scope + "/", suffix),
                           function.graph, _if_resolver(op, index, function), outer=build)
        with graph.as_default():
            ys = [function.outputs[i] for i in carried]
            xs = function.inputs[:num_inputs]
            found = gradients_lib.gradients(ys, xs, grad_ys=seeds)
        branch_grads.append([_dense(g) for g in found])
        graphs.append(graph)
    wanted = [j for j in range(num_inputs)
              if branch_grads[0][j] is not None or branch_grads[1][j] is not None]
    functions = []
    for index, function in enumerate((then_fn, else_fn)):
        graph = graphs[index]
        outputs = []
        with graph.as_default():
            for j in wanted:
                grad = branch_grads[index][j]
                if grad is None:
                    grad = _zeros_for(function.inputs[j], branch_grads[1 - index][j])
                outputs.append(graph.capture(grad))
        grad_fn = function_lib.GraphFunction(graph.name, graph, graph.capture_inputs, outputs,
                                             graph.captured)
        grad_fn.control_outputs = cond_v2._control_outputs(grad_fn, [])
        functions.append(grad_fn)
    captured = cond_v2._match_inputs(functions)
    shapes = [a.shape.most_specific_compatible_shape(b.shape)
              for a, b in zip(functions[0].outputs, functions[1].outputs)]
    stateful = any(functional_ops.is_stateful_function(f) for f in functions)
    attrs = {"Tcond": dtypes.bool, "Tin": [t.dtype._base for t in captured],
             "Tout": functions[0].output_types, "then_branch": functions[0],
             "else_branch": functions[1], "output_shapes": shapes}
    grad_op = build.create_op("If" if stateful else "StatelessIf", [op.inputs[0]] + captured,
                              attrs, name="If")
    results = [None] * len(op.inputs)
    for position, j in enumerate(wanted):
        results[1 + j] = grad_op.outputs[position]
    return results


# ---- While -----------------------------------------------------------------------------------

def _placeholder(graph, dtype, shape, name):
    with graph.name_scope(None), graph.control_dependencies(None):
        return graph.create_op("Placeholder", [], {"dtype": dtype._base, "shape": shape},
                               name=name).outputs[0]


def _while_accumulator(op, tensor):
    """The output of ``While`` `op` holding a TensorList of `tensor`'s value at each
    iteration (`tensor` is of the body's graph), adding it in place if `op` has none yet."""
    cache = _intermediates(op)
    if tensor in cache:
        return op._outputs[cache[tensor]]
    cond, body = op.get_attr("cond"), op.get_attr("body")
    dtype = tensor.dtype._base
    element_shape = tensor.shape if tensor.shape.rank is not None else None
    outer = op.graph
    with outer._as_default_exactly(), outer.control_dependencies(None), \
            outer.name_scope(op.name + "/"):
        empty = list_ops.empty_tensor_list(element_shape, dtype, name="accumulator")
    body_graph = body.graph
    with body_graph._as_default_exactly(), body_graph.control_dependencies(None):
        handle = _placeholder(body_graph, dtypes.variant, TensorShape([]), "accumulator")
        list_ops.set_handle_data(handle, dtype, tensor.shape)
        pushed = list_ops.tensor_list_push_back(handle, tensor)
    with cond.graph._as_default_exactly():
        cond_arg = _placeholder(cond.graph, dtypes.variant, TensorShape([]), "accumulator")
    body.inputs.append(handle)
    body.outputs.append(pushed)
    cond.inputs.append(cond_arg)
    op._add_inputs([empty])
    op._set_attr("T", list(op.get_attr("T")) + [dtypes.variant])
    op._set_attr("output_shapes", list(op.get_attr("output_shapes")) + [TensorShape([])])
    (output,) = op._add_outputs([(dtypes.variant, TensorShape([]))])
    list_ops.set_handle_data(output, dtype, tensor.shape)
    cache[tensor] = output.value_index
    _bump(outer, body_graph, cond.graph)
    return output


class _Pops:
    """The accumulators a backward body pops: (list placeholder, popped list) pairs, and
    the forward ``While`` outputs that feed them."""

    def __init__(self):
        self.placeholders = []
        self.popped = []
        self.initial = []


def _while_resolver(op, body, pops):
    inputs = {t: i for i, t in enumerate(body.inputs)}

    def resolve(graph, tensor):
        index = inputs.get(tensor)
        if index is not None and index < len(body.outputs) and body.outputs[index] is tensor:
            # A loop variable the body passes through: the forward op's input.
            return graph._capture(op.inputs[index], "Identity", None)
        if tensor.op.type == "Const":
            return _copy_const(graph, tensor)
        accumulated = _while_accumulator(op, tensor)
        handle = _placeholder(graph, dtypes.variant, TensorShape([]), "popped_accumulator")
        list_ops.set_handle_data(handle, tensor.dtype._base, tensor.shape)
        shape = tensor.shape if tensor.shape.is_fully_defined() else None
        rest, value = list_ops.tensor_list_pop_back(handle, tensor.dtype._base, shape)
        value.set_shape(tensor.shape)
        pops.placeholders.append(handle)
        pops.popped.append(rest)
        pops.initial.append(accumulated)
        return value

    return resolve


def _passes_through(body, index):
    return index < len(body.outputs) and body.outputs[index] is body.inputs[index]


def _carries_gradient(dtype):
    dtype = dtype._base
    return dtype.is_floating or dtype.is_complex or dtype is dtypes.variant


def _read_gradient(graph, grad, captured):
    """``(index, value)`` when `grad`, the gradient of loop-captured list `captured` (a
    forward body input) in one backward iteration, is the gradient of one read of it: a list
    of `captured`'s length holding only `value` at `index` (``TensorListGetItem``'s gradient:
    ``SetItem(Reserve(ElementShape(c), Length(c)), index, value)``, `c` standing for
    `captured` in `graph`); else None.

    Why: summing such a list into the running total with ``AddN`` makes and adds whole lists
    every iteration (a ``dynamic_rnn`` reads its input this way, once per step); adding
    `value` at `index` (`_add_at`) is the same sum, element by element.
    """
    stand_in = graph._resolved.get(captured)
    set_item = grad.op
    if (stand_in is None or set_item.type != "TensorListSetItem"
            or set_item.get_attr("resize_if_index_out_of_bounds")):
        return None
    reserve = set_item.inputs[0].op
    if reserve.type != "TensorListReserve":
        return None
    shape_op, length_op = reserve.inputs[0].op, reserve.inputs[1].op
    if (shape_op.type != "TensorListElementShape" or length_op.type != "TensorListLength"
            or shape_op.inputs[0] is not stand_in or length_op.inputs[0] is not stand_in):
        return None
    return set_item.inputs[1], set_item.inputs[2]


def _add_at(total, index, value):
    """List `total` with `value` added to its element `index` (an unset one reads as zeros of
    `value`'s shape): what ``AddN`` of `total` and a list holding only `value` there gives."""
    current = list_ops.tensor_list_get_item(total, index, value.dtype._base,
                                            element_shape=array_ops.shape(value))
    return list_ops.tensor_list_set_item(total, index, math_ops.add(current, value))


@gradients_lib.accepts_none
def _while_grad(op, *grads):
    """TF 2's while_loop gradient: a backward ``While`` over the forward iteration count."""
    build = graph_lib.get_default_graph()
    body = op.get_attr("body")
    num_vars = len(op.inputs)     # before accumulators are added
    body_inputs = list(body.inputs[:num_vars])
    varying = [k for k in range(2, num_vars)
               if not _passes_through(body, k) and _carries_gradient(op.inputs[k].dtype)]
    constant = [k for k in range(2, num_vars) if _passes_through(body, k) and (
        _carries_gradient(op.inputs[k].dtype) or op.inputs[k].dtype._base is dtypes.resource)]
    if not any(grads[k] is not None for k in varying + constant):
        return [None] * len(op.inputs)
    scope = build.get_name_scope()
    pops = _Pops()
    graph = _GradGraph(function_lib.unique_function_name(scope + "/", "body_grad"),
                       body.graph, _while_resolver(op, body, pops), outer=build)
    with graph.as_default():
        counter = _placeholder(graph, dtypes.int32, TensorShape([]), "loop_counter")
        bound = _placeholder(graph, dtypes.int32, TensorShape([]), "maximum_iterations")
        seeds = []
        for k in varying:
            seed = _placeholder(graph, op.outputs[k].dtype, op.outputs[k].shape, "grad")
            if op.outputs[k].dtype._base is dtypes.variant:
                data = list_ops.handle_data(op.outputs[k])
                if data:
                    list_ops.set_handle_data(seed, *data)
            seeds.append(seed)
        ys = [body.outputs[k] for k in varying]
        xs = [body_inputs[k] for k in varying + constant]
        found = gradients_lib.gradients(ys, xs, grad_ys=seeds) if ys else [None] * len(xs)
        found = [_dense(g) for g in found]
        next_grads = [graph.capture(g) if g is not None else array_ops.zeros_like(seed)
                      for g, seed in zip(found[:len(varying)], seeds)]
        sums, sum_inputs, summed = [], [], []
        for k, grad in zip(constant, found[len(varying):]):
            if grad is None:
                continue
            total = _placeholder(graph, grad.dtype, grad.shape, "grad_sum")
            sum_inputs.append(total)
            if grad.dtype._base is not dtypes.variant:
                sums.append(math_ops.add(total, grad))
            else:
                data = list_ops.handle_data(op.inputs[k])
                if data:
                    list_ops.set_handle_data(total, *data)
                # A captured TensorList's gradient is a list: AddN adds lists (AddV2 does not),
                # unless it is one read's (`_read_gradient`), added at its index in place.
                read = _read_gradient(graph, grad, body_inputs[k])
                sums.append(math_ops.add_n([total, grad]) if read is None
                            else _add_at(total, *read))
            summed.append((k, grad))
        next_counter = math_ops.add(counter, 1)
    # The accumulators popped while differentiating are loop variables too; the captures
    # pass through at the end, as for any loop.
    explicit = [counter, bound] + seeds + sum_inputs + pops.placeholders
    outputs = [next_counter, bound] + next_grads + sums + pops.popped
    body_fn = function_lib.GraphFunction(graph.name, graph, explicit + graph.capture_inputs,
                                         outputs + graph.capture_inputs, graph.captured)
    body_fn.control_outputs = [o for o in graph.get_operations()
                               if o._opdef.stateful and o.type != "Placeholder"]
    specs = [(t.dtype._base, t.shape) for t in explicit]
    with build.as_default():
        cond_fn, _ = function_lib.trace(
            lambda *args: math_ops.less(args[0], args[1]), specs,
            function_lib.unique_function_name(scope + "/", "cond_grad"))
    cond_v2._match_inputs([cond_fn, body_fn])    # the cond captures nothing: the same inputs
    with build.as_default():
        initial_grads = []
        for k in varying:
            grad = _dense(grads[k])
            initial_grads.append(array_ops.zeros_like(op.outputs[k]) if grad is None else grad)
        initial_sums = []
        for k, grad in summed:
            outer = _dense(grads[k])
            if outer is None:
                if grad.shape.is_fully_defined() and grad.dtype._base is not dtypes.variant:
                    outer = array_ops.zeros(grad.shape, grad.dtype)
                elif op.inputs[k].dtype._base is dtypes.resource:
                    value = build.create_op("ReadVariableOp", [op.inputs[k]],
                                            {"dtype": grad.dtype._base}).outputs[0]
                    outer = array_ops.zeros_like(value)
                else:
                    outer = array_ops.zeros_like(op.inputs[k])
            initial_sums.append(outer)
        zero = graph_lib.convert_to_tensor(0, dtype=dtypes.int32)
        inputs = ([zero, op.outputs[0]] + initial_grads + initial_sums + pops.initial
                  + graph.captured)
        attrs = {"T": [t.dtype._base for t in inputs], "cond": cond_fn, "body": body_fn,
                 "output_shapes": [t.shape for t in body_fn.inputs],
                 "parallel_iterations": op.get_attr("parallel_iterations")}
        stateful = functional_ops.is_stateful_function(body_fn)
        grad_op = build.create_op("While" if stateful else "StatelessWhile", inputs, attrs,
                                  name="While")
    results = [None] * len(op.inputs)
    for position, k in enumerate(varying):
        results[k] = grad_op.outputs[2 + position]
    for position, (k, _) in enumerate(summed):
        results[k] = grad_op.outputs[2 + len(varying) + position]
    return results


for _type in functional_ops.IF_TYPES:
    registry.register_gradient(_type)(_if_grad)
for _type in functional_ops.WHILE_TYPES:
    registry.register_gradient(_type)(_while_grad)
