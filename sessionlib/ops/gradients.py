"""Automatic differentiation: ``tf.gradients``, ``tf.stop_gradient``, ``tf.hessians``.

`gradients` walks the graph backwards from `ys` to `xs` and builds ordinary ops, so gradient
ops are placed, partitioned, fused and run like any others. Each op's gradient is the function
in its registration (`OpDef.gradient`, see ``framework/registry.py``); this module only walks.

The walk, as TF's:
1. Mark the ops between `xs` and `ys`: reachable forward from the `xs` and backward from the
   `ys`. Gradients only flow through those.
2. Count, for each of them, how many of its outputs' consumers lie between; an op is ready
   when every such consumer has passed its gradient back. Several gradients reaching one
   output are summed with ``AddN`` (or concatenated, when all are `IndexedSlices`).
3. Process ready ops from the `ys` down, calling each op's gradient function inside the name
   scope ``<name>/<op name>_grad`` and on the forward op's device, so that a model split over
   devices trains split.

Only floating-point (and complex) tensors carry gradients; an integer output gets none, and
so does an input reached only through ``StopGradient``, `stop_gradients` or an op declared
not differentiable. A Variable in `xs` stands for its resource handle: every read of it
passes its gradient back to the handle, and the gradients of all reads are summed.

Inside a function being traced (a loop body, a cond branch), the gradient ops are built in
that function, which captures what they use; the control-flow gradients
(``ops/control_flow_grad.py``) rely on this to differentiate a forward function from within
its gradient function.
"""

import collections
import itertools

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework import registry, run_conversions
from sessionlib.framework.indexed_slices import IndexedSlices, IndexedSlicesValue

__all__ = ["gradients", "hessians", "stop_gradient", "RegisterGradient", "NotDifferentiable",
           "no_gradient"]


# ---- ops that exist for differentiation ----------------------------------------------------

def _stop_gradient_infer(inputs, attrs):
    attrs["T"] = inputs[0].dtype
    return [(inputs[0].dtype, inputs[0].shape)]


# StopGradient is an Identity to the runtime: it shares Identity's kernel.
registry.register_op("StopGradient", infer=_stop_gradient_infer, kernel="Identity",
                     num_inputs=1, gradient=registry.NOT_DIFFERENTIABLE,
                     doc="The identity, through which no gradient flows.")


def stop_gradient(input, name=None):  # noqa: A002 - TF's argument name
    """Passes `input` on unchanged, but no gradient flows back through it.

    Args:
      input: a Tensor.
      name: the op name.

    Returns:
      A Tensor of `input`'s dtype and shape (op ``StopGradient``).
    """
    tensor = graph_lib.convert_to_tensor(input)
    return tensor.graph.create_op("StopGradient", [tensor],
                                  name=name or "StopGradient").outputs[0]


def _prevent_gradient_infer(inputs, attrs):
    attrs["T"] = inputs[0].dtype
    attrs["message"] = str(attrs.get("message", ""))
    return [(inputs[0].dtype, inputs[0].shape)]


def _prevent_gradient_grad(op, grad):
    raise LookupError(f"Gradient explicitly disabled. Reason: {op.get_attr('message')}")


# PreventGradient, like StopGradient, is an Identity to the runtime; differentiating through
# it is an error (TF's guard on gradients that are not implemented, such as the second
# derivative of a fused loss).
registry.register_op("PreventGradient", infer=_prevent_gradient_infer, kernel="Identity",
                     num_inputs=1, gradient=_prevent_gradient_grad,
                     doc="The identity, through which differentiating is an error.")


def prevent_gradient(input, message="", name=None):  # noqa: A002 - TF's argument name
    """Passes `input` on unchanged; asking for a gradient through it raises LookupError.

    Args:
      input: a Tensor.
      message: the reason, quoted in the error.
      name: the op name.

    Returns:
      A Tensor of `input`'s dtype and shape (op ``PreventGradient``).
    """
    tensor = graph_lib.convert_to_tensor(input)
    return tensor.graph.create_op("PreventGradient", [tensor], {"message": message},
                                  name=name or "PreventGradient").outputs[0]


def accepts_indexed_slices(function):
    """Marks a gradient function that takes `IndexedSlices` output gradients as they are.

    Most gradient functions build dense ops from their output gradients, so the walk densifies
    a sparse gradient before calling them. A function that only passes a gradient on (the
    identity, a variable read, AddN) is marked with this, so that the gradient of an
    ``embedding_lookup`` reaches the variable still sparse, as in TF.
    """
    function.accepts_indexed_slices = True
    return function


def accepts_none(function):
    """Marks a gradient function that takes None for an output no gradient reached, instead of
    zeros of its shape: the control-flow gradients leave such outputs out of the function
    they differentiate (``ops/control_flow_grad.py``)."""
    function.accepts_none = True
    return function


@accepts_indexed_slices
def pass_through_gradient(op, grad):
    """The gradient of an op whose output is its one input: the output's gradient."""
    return [grad]


class RegisterGradient:
    """A decorator that gives an op type its gradient function (TF's ``RegisterGradient``).

    Args:
      op_type: the op type name.

    Raises:
      ValueError: if the op type is unknown or already has a gradient.
    """

    def __init__(self, op_type):
        if not isinstance(op_type, str):
            raise TypeError("op_type must be a string")
        self._op_type = op_type

    def __call__(self, function):
        return registry.register_gradient(self._op_type)(function)


def NotDifferentiable(op_type):  # noqa: N802 - TF's public name
    """Declares that `op_type` has no gradient.

    Raises:
      ValueError: if the op type is unknown or already has a gradient function.
    """
    registry.not_differentiable(op_type)


no_gradient = NotDifferentiable


# ---- IndexedSlices as a tensor and as a fetch -------------------------------------------------

def _indexed_slices_to_dense(slices, dtype=None, name=None):
    """Densifies `slices`: an ``UnsortedSegmentSum`` of its rows into ``dense_shape[0]`` rows."""
    if dtype is not None and dtypes.as_dtype(dtype) is not slices.dtype:
        raise ValueError(f"Tensor conversion requested dtype {dtypes.as_dtype(dtype).name} "
                         f"for IndexedSlices with dtype {slices.dtype.name}")
    if slices.dense_shape is None:
        raise ValueError("Tensor conversion requested for IndexedSlices without dense_shape: "
                         f"{slices!r}")
    from sessionlib.ops import math_ops

    graph = slices.graph
    with graph.as_default(), graph.name_scope(name or "IndexedSlicesToDense"):
        num_rows = slices.dense_shape[0]
        return math_ops.unsorted_segment_sum(slices.values, slices.indices, num_rows)


graph_lib.register_tensor_conversion_function(IndexedSlices, _indexed_slices_to_dense)


def _indexed_slices_fetches(slices):
    parts = [slices.values, slices.indices]
    if slices.dense_shape is not None:
        parts.append(slices.dense_shape)

    def rebuild(values):
        return IndexedSlicesValue(values[0], values[1],
                                  values[2] if len(values) > 2 else None)

    return parts, rebuild


def _indexed_slices_feeds(slices, value):
    value = IndexedSlicesValue(*value) if isinstance(value, tuple) else value
    pairs = [(slices.values, value.values), (slices.indices, value.indices)]
    if slices.dense_shape is not None:
        pairs.append((slices.dense_shape, value.dense_shape))
    return pairs


run_conversions.register_session_run_conversion_functions(
    IndexedSlices, _indexed_slices_fetches, _indexed_slices_feeds,
    lambda slices: [t for t in (slices.values, slices.indices, slices.dense_shape)
                    if t is not None])


# ---- the walk --------------------------------------------------------------------------------

def _is_differentiable_dtype(dtype):
    # A variant (a TensorList) carries the gradients of its elements, as in TF.
    return dtype.is_floating or dtype.is_complex or dtype is dtypes.variant


def _as_target(x, graph):
    """`x` of `xs` as a Tensor: a Variable stands for its resource handle."""
    handle = getattr(x, "handle", None)
    if handle is not None and isinstance(handle, graph_lib.Tensor) and hasattr(x, "_read_op"):
        return handle
    if isinstance(x, graph_lib.Tensor):
        return x
    if isinstance(x, IndexedSlices):
        raise TypeError(f"Can not differentiate with respect to an IndexedSlices: {x!r}")
    return graph_lib.convert_to_tensor(x)


def _as_list(value):
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def _reachable_forward(start_ops, stop_ops):
    """The ops reachable from `start_ops` along data edges, not entering `stop_ops`."""
    reached = set()
    stack = list(start_ops)
    while stack:
        op = stack.pop()
        if op in reached:
            continue
        reached.add(op)
        if op in stop_ops:
            continue
        for output in op.outputs:
            for consumer in output.consumers():
                if consumer not in reached:
                    stack.append(consumer)
    return reached


def _between(x_ops, y_ops, stop_ops):
    """The ops on a data path from an op of `x_ops` to one of `y_ops`."""
    forward = _reachable_forward(x_ops, stop_ops)
    between = set()
    stack = [op for op in y_ops if op in forward]
    while stack:
        op = stack.pop()
        if op in between:
            continue
        between.add(op)
        for tensor in op.inputs:
            if tensor.op in forward and tensor.op not in between:
                stack.append(tensor.op)
    return between


def _default_grad_ys(ys, grad_ys, graph):
    """The seed gradient of each y: `grad_ys[i]`, or ones of y's shape."""
    from sessionlib.ops import array_ops

    if len(grad_ys) != len(ys):
        raise ValueError(f"Passed {len(grad_ys)} grad_ys for {len(ys)} ys")
    seeds = []
    for index, (y, seed) in enumerate(zip(ys, grad_ys)):
        if seed is None:
            # An integer y gets a seed too, as in TF; nothing flows from it, since integer
            # tensors carry no gradient.
            with graph.device(y.device or None) if y.device else _nothing():
                seeds.append(array_ops.ones_like(y, name=f"grad_ys_{index}"))
            continue
        if not isinstance(seed, (graph_lib.Tensor, IndexedSlices)):
            seed = graph_lib.convert_to_tensor(seed, dtype=y.dtype, name=f"grad_ys_{index}")
        if seed.dtype is not y.dtype:
            raise TypeError(f"Gradient type {seed.dtype.name} generated for tensor {y.name} "
                            f"of type {y.dtype.name} (grad_ys[{index}])")
        seeds.append(seed)
    return seeds


class _nothing:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def _aggregate(grads, name):
    """The sum of the gradients that reached one tensor, or None when none did."""
    from sessionlib.ops import array_ops, math_ops

    grads = [g for g in grads if g is not None]
    if not grads:
        return None
    if len(grads) == 1:
        return grads[0]
    if all(isinstance(g, IndexedSlices) for g in grads):
        # Sparse parts stay sparse: their rows are concatenated, and repeated rows add when
        # the result is applied or densified.
        dense_shape = next((g.dense_shape for g in grads if g.dense_shape is not None), None)
        values = array_ops.concat([g.values for g in grads], 0, name=name + "_values")
        indices = array_ops.concat([g.indices for g in grads], 0, name=name + "_indices")
        return IndexedSlices(values, indices, dense_shape)
    dense = [graph_lib.convert_to_tensor(g) for g in grads]
    return math_ops.add_n(dense, name=name)


def gradients(ys, xs, grad_ys=None, name="gradients", colocate_gradients_with_ops=False,
              gate_gradients=False, aggregation_method=None, stop_gradients=None,
              unconnected_gradients="none"):
    """Symbolic derivatives of ``sum(ys)`` with respect to each of `xs`.

    Args:
      ys: a Tensor or list of Tensors to differentiate; several are summed.
      xs: a Tensor, Variable, or list of them.
      grad_ys: optional seeds, one per y (default: ones of y's shape).
      name: the name scope of the gradient ops.
      colocate_gradients_with_ops: gradient ops always go on the device of the forward op
        they differentiate; this TF 1 flag is accepted and changes nothing.
      gate_gradients: accepted for TF's signature.
      aggregation_method: accepted for TF's signature: every method gives the same sum.
      stop_gradients: Tensors through which no gradient flows, as if wrapped in
        `stop_gradient`.
      unconnected_gradients: ``'none'`` (an x that ys do not reach gets None) or ``'zero'``
        (it gets zeros of its shape), or the matching `tf.UnconnectedGradients` member.

    Returns:
      A list with one entry per x: a Tensor, an `IndexedSlices` (the gradient of a gather),
      or None where no y depends on that x.

    Raises:
      LookupError: if an op on the way has no gradient function.
      TypeError: for a non-floating y without a seed, or a seed of the wrong dtype.
      ValueError: for `grad_ys` of the wrong length or an unknown `unconnected_gradients`.
    """
    del colocate_gradients_with_ops, gate_gradients, aggregation_method
    # tf.UnconnectedGradients members carry the string as their value.
    unconnected_gradients = getattr(unconnected_gradients, "value", unconnected_gradients)
    if unconnected_gradients not in ("none", "zero"):
        raise ValueError(f"Unknown value for unconnected_gradients: {unconnected_gradients!r}")
    ys_list = _as_list(ys)
    xs_list = _as_list(xs)
    graph = _graph_of(ys_list + xs_list + _as_list(grad_ys) + _as_list(stop_gradients))
    with graph.as_default(), graph.name_scope(name) as scope:
        ys_list = [graph_lib.convert_to_tensor(y) for y in ys_list]
        targets = [_as_target(x, graph) for x in xs_list]
        stop_ops = {graph_lib.convert_to_tensor(t).op for t in _as_list(stop_gradients)}
        seeds = _default_grad_ys(ys_list, _as_list(grad_ys) or [None] * len(ys_list), graph)
        x_ops = {t.op for t in targets}
        between = _between(x_ops, {y.op for y in ys_list}, stop_ops)

        # How many gradients each op between still waits for.
        pending = collections.Counter()
        for op in between:
            for tensor in op.inputs:
                if tensor.op in between:
                    pending[tensor.op] += 1

        # grads[op][i] lists the gradients that reached output i of op.
        grads = collections.defaultdict(lambda: collections.defaultdict(list))
        for y, seed in zip(ys_list, seeds):
            grads[y.op][y.value_index].append(seed)

        ready = collections.deque(op for op in {y.op for y in ys_list}
                                  if op in between and pending[op] == 0)
        done = set()
        while ready:
            op = ready.popleft()
            if op in done:
                continue
            done.add(op)
            input_grads = _backprop_op(op, grads, stop_ops)
            for tensor, grad in zip(op.inputs, input_grads):
                if tensor.op not in between:
                    continue
                if grad is not None and (_is_differentiable_dtype(tensor.dtype)
                                         or tensor.dtype is dtypes.resource):
                    grads[tensor.op][tensor.value_index].append(grad)
                pending[tensor.op] -= 1
                if pending[tensor.op] == 0:
                    ready.append(tensor.op)

        results = []
        for x, target in zip(xs_list, targets):
            grad = _aggregate(grads[target.op].get(target.value_index, []) if target.op in grads
                              else [], f"{target.op.name}_grad/AddN")
            if grad is None and unconnected_gradients == "zero":
                from sessionlib.ops import array_ops

                grad = array_ops.zeros_like(graph_lib.convert_to_tensor(x))
            results.append(grad)
        return results


def _graph_of(values):
    """The graph to build the gradient in: the one graph of `values` (Tensors, Variables,
    IndexedSlices; others are ignored), or the function graph being traced when it captures
    from theirs.

    Inside a function being traced (a loop body, a cond branch, the gradient function of
    one), the gradient ops belong to that function, which captures what they use, as in TF.
    That also lets the control-flow gradients (``ops/control_flow_grad.py``) differentiate a
    forward function's outputs with seeds of the enclosing graph: the values then come from
    several graphs, all of which the function being traced captures from.

    Raises:
      ValueError: if they come from different graphs that no function being traced captures
        from, as TF's gradients does.
    """
    default = graph_lib.get_default_graph()
    graph, first = None, None
    for value in values:
        other = getattr(value, "graph", None)
        if other is None:
            continue
        if graph is None:
            graph, first = other, value
        elif other is not graph:
            if all(g is default or default._captures_from(g) for g in (graph, other)):
                graph = default
                continue
            raise ValueError(f"Tensor {_describe(value)} must be from the same graph as "
                             f"Tensor {_describe(first)}.")
    if graph is None:
        return default
    return default if default is not graph and default._captures_from(graph) else graph


def _describe(value):
    return getattr(value, "name", None) or repr(value)


def hessians(ys, xs, name="hessians", colocate_gradients_with_ops=False,
             gate_gradients=False, aggregation_method=None):
    """The Hessian of ``sum(ys)`` with respect to each x of `xs` (``tf.hessians``).

    Each Hessian is built as the gradients of every element of the first gradient, so an x
    must have a fully defined static shape; keep them small, as the graph grows with
    ``x.size`` gradient computations.

    Args:
      ys: a Tensor or list of Tensors.
      xs: a Tensor or list of Tensors.
      name: the name scope of the ops.
      colocate_gradients_with_ops, gate_gradients, aggregation_method: as for `gradients`.

    Returns:
      A list with one Tensor of shape ``x.shape + x.shape`` per x (None where ys do not
      depend on x).

    Raises:
      ValueError: if an x does not have a fully defined shape.
    """
    from sessionlib.ops import array_ops

    del colocate_gradients_with_ops, gate_gradients, aggregation_method
    xs_list = _as_list(xs)
    graph = _graph_of(_as_list(ys) + xs_list)
    results = []
    with graph.as_default(), graph.name_scope(name):
        firsts = gradients(ys, xs_list)
        for x, first in zip(xs_list, firsts):
            x = _as_target(x, graph) if not hasattr(x, "_read_op") else x
            shape = graph_lib.convert_to_tensor(x).shape
            if not shape.is_fully_defined():
                raise ValueError(f"tf.hessians needs a fully defined shape for {x}, got "
                                 f"{shape}")
            if first is None:
                results.append(None)
                continue
            first = graph_lib.convert_to_tensor(first)
            flat = array_ops.reshape(first, [-1])
            count = shape.num_elements()
            rows = []
            for index in range(count):
                (row,) = gradients(flat[index], x, unconnected_gradients="zero")
                rows.append(array_ops.reshape(graph_lib.convert_to_tensor(row), [-1]))
            dims = shape.as_list()
            results.append(array_ops.reshape(array_ops.stack(rows), dims + dims))
    return results


# Gradient functions that replace an op's registered one, by name: an op whose
# ``_gradient_op_type`` attr (TF's attr name) names one is differentiated by it instead.
# `custom_gradient` sets it on the IdentityN it builds, as TF does.
GRADIENT_OP_TYPE_ATTR = "_gradient_op_type"
_GRADIENT_OVERRIDES = {}
_override_ids = itertools.count(1)


def register_gradient_override(function):
    """Registers `function` as an override gradient; returns the name an op's
    ``_gradient_op_type`` attr gives to use it."""
    name = f"CustomGradient-{next(_override_ids)}"
    _GRADIENT_OVERRIDES[name] = function
    return name


def _gradient_function(op):
    override = op.attrs.get(GRADIENT_OP_TYPE_ATTR)
    if override is None:
        return op.op_def.gradient
    return _GRADIENT_OVERRIDES.get(override)


def _backprop_op(op, grads, stop_ops):
    """The gradients of `op`'s inputs, given those that reached its outputs."""
    from sessionlib.ops import array_ops

    no_grads = [None] * len(op.inputs)
    op_grads = grads.get(op)
    if op in stop_ops or not op.inputs:
        return no_grads
    gradient = _gradient_function(op)
    if gradient == registry.NOT_DIFFERENTIABLE:
        return no_grads
    if op_grads is None or not any(any(g is not None for g in lst)
                                   for lst in op_grads.values()):
        return no_grads
    if gradient is None:
        raise LookupError(f"No gradient defined for operation '{op.name}' (op type: "
                          f"{op.type}). In general every operation must have an associated "
                          "gradient function, or be declared not differentiable.")
    # The graph being built: `op`'s, or a function's that differentiates `op`'s.
    graph = graph_lib.get_default_graph()
    device = graph.device(op.device) if op.device else _nothing()
    with graph.name_scope(op.name + "_grad"), device:
        out_grads = []
        for index, output in enumerate(op.outputs):
            grad = _aggregate(op_grads.get(index, []), f"AddN_{index}" if index else "AddN")
            if grad is None and _is_differentiable_dtype(output.dtype) and not getattr(
                    gradient, "accepts_none", False):
                # An output that got no gradient counts as zero for an op whose other outputs
                # got one (a split, an unstack), as in TF.
                grad = array_ops.zeros_like(output)
            if isinstance(grad, IndexedSlices) and not getattr(
                    gradient, "accepts_indexed_slices", False):
                grad = graph_lib.convert_to_tensor(grad)
            out_grads.append(grad)
        input_grads = gradient(op, *out_grads)
    if not isinstance(input_grads, (list, tuple)):
        input_grads = [input_grads]
    input_grads = list(input_grads)
    if len(input_grads) != len(op.inputs):
        raise ValueError(f"Num gradients {len(input_grads)} generated for op {op.name} "
                         f"({op.type}) do not match num inputs {len(op.inputs)}")
    return input_grads
