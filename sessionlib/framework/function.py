"""Function graphs: the bodies of functional control flow (``If``/``While``) and of tf.data.

Design. A branch of `tf.cond` or the cond and body of `tf.while_loop` is traced once, on
placeholders, into its own graph, a `FuncGraph`, and held by the op that runs it as a
func-valued attr (a `GraphFunction`), as TF 2's "control flow v2" does. The outer graph
stays a flat dataflow graph with one op per conditional or loop; the runtime compiles each
function into a sub-plan (``runtime/plan.py``, `FunctionPlan`).

Captures. When an op of a function uses a tensor of an enclosing graph, the function gets a
``Placeholder`` for it instead (`FuncGraph.captured` lists the outer tensors in first-use
order, `FuncGraph.capture_inputs` their placeholders), and the op that calls the function
passes the outer value in. A read of an outer resource variable is not captured as a value:
the function captures the variable's handle and reads it itself, so it sees the value at
each call (each loop iteration, each element of a tf.data map), as TF does. A reference
tensor (TF 1's ``float32_ref``) is captured as its value.

What a function graph shares with the graph it was traced in: the graph-level seed, the
current name scope (ops of a branch are named ``cond/...``), the collections (one dict, so
``tf.get_variable``'s store and ``UPDATE_OPS`` are the outermost graph's) and the variable
scope stack. Control dependencies on outer ops inside a function cannot be edges of the
function graph: they are recorded in `FuncGraph.outer_control_inputs` and become control
inputs of the calling op.

`init_scope` leaves all function graphs for the outermost plain graph; variables are created
inside it, so a variable made in a loop body (an RNN cell's weights) lives in the outer graph
and is created once, as in TF.

This module belongs to the graph model: it builds ops by registered type name and never
imports the op library or the runtime.
"""

import contextlib
import itertools

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework.tensor_shape import as_shape

__all__ = ["FuncGraph", "GraphFunction", "init_scope", "trace", "outermost_graph",
           "building_graph_for", "unique_function_name"]

_uids = itertools.count(1)


def unique_function_name(scope, suffix):
    """A process-unique function name in TF's style: ``cond_true_12`` for scope ``cond/``."""
    prefix = scope.replace("/", "_") if scope else ""
    return f"{prefix}{suffix}_{next(_uids)}"


class FuncGraph(graph_lib.Graph):
    """The graph a function is traced into; it captures the tensors of enclosing graphs.

    Args:
      name: the function's name.
      outer: the graph the function is traced in (default: the default graph).

    Attributes:
      name: the function's name.
      outer: the enclosing graph.
      captured: the outer tensors the function uses, in first-use order.
      capture_inputs: the placeholder standing for each, in the same order.
      outer_control_inputs: outer ops that ops of the function were made to depend on; the
        calling op must run after them.
    """

    def __init__(self, name, outer=None):
        super().__init__()
        self.name = name
        self.outer = graph_lib.get_default_graph() if outer is None else outer
        self.captured = []
        self.capture_inputs = []
        self.outer_control_inputs = []
        self._placeholders = {}
        self._building_function = True
        self.seed = self.outer.seed
        # One collection dict for the whole nest (TF shares the variable store and the
        # variable collections with the outer graph the same way).
        self._collections = self.outer._collections
        self._scopes.name_stack = self.outer.get_name_scope()
        store = getattr(self.outer._scopes, "variable_scope_store", None)
        if store is not None:
            self._scopes.variable_scope_store = store

    def _captures_from(self, graph):
        outer = self.outer
        while outer is not None:
            if outer is graph:
                return True
            outer = getattr(outer, "outer", None)
        return False

    def capture(self, tensor):
        """The tensor of this graph standing for `tensor` (of this or an enclosing graph)."""
        if tensor.graph is self:
            return tensor
        return self._capture(tensor, "Identity", None)

    def _capture(self, tensor, op_type, name):
        if not self._captures_from(tensor.graph):
            return super()._capture(tensor, op_type, name)
        with self._as_default_exactly():   # ops made here belong to this graph, not a nested one
            return self._capture_here(tensor, op_type, name)

    def _capture_here(self, tensor, op_type, name):
        if tensor.op.type == "ReadVariableOp" and op_type != "ReadVariableOp":
            # Read the variable here, at each call, not once when the function is called.
            handle = self._capture(tensor.op.inputs[0], "ReadVariableOp", None)
            with self.control_dependencies(None), self.name_scope(None):
                read = self.create_op("ReadVariableOp", [handle],
                                      {"dtype": tensor.dtype}).outputs[0]
            read.set_shape(tensor.shape)    # a captured handle has no shape of its own
            return read
        placeholder = self._placeholders.get(tensor)
        if placeholder is None:
            if tensor.graph is not self.outer:
                # Through the enclosing function, which captures it from its own outer graph.
                outer_tensor = self.outer._capture(tensor, op_type, name)
            else:
                outer_tensor = tensor
            with self.control_dependencies(None), self.device(None), self.name_scope(None):
                placeholder = self.create_op(
                    "Placeholder", [], {"dtype": tensor.dtype._base, "shape": tensor.shape},
                    name="captured").outputs[0]
            self._placeholders[tensor] = placeholder
            self.captured.append(outer_tensor)
            self.capture_inputs.append(placeholder)
        return placeholder

    def control_dependencies(self, control_inputs):
        """`Graph.control_dependencies`; outer ops go to `outer_control_inputs` instead."""
        function = self._tracing_function()
        if function is not None:
            return function.control_dependencies(control_inputs)
        return self._control_dependencies_here(control_inputs)

    @contextlib.contextmanager
    def _control_dependencies_here(self, control_inputs):
        if control_inputs is None:
            with self._control_dependencies(None):
                yield
            return
        inner = []
        for item in control_inputs:
            op = item
            if hasattr(op, "_as_graph_element") and not isinstance(
                    op, (graph_lib.Tensor, graph_lib.Operation)):
                op = op._as_graph_element()
            if isinstance(op, graph_lib.Tensor):
                op = op.op
            if isinstance(op, graph_lib.Operation) and op.graph is not self and \
                    self._captures_from(op.graph):
                self._add_outer_control(op)
            else:
                inner.append(item)
        with self._control_dependencies(inner):
            yield

    def _add_outer_control(self, op):
        if op.graph is self.outer:
            if op not in self.outer_control_inputs:
                self.outer_control_inputs.append(op)
        else:
            # An op two levels out: the enclosing function's caller waits for it, and this
            # function runs only inside that call.
            self.outer._add_outer_control(op)


def outermost_graph(graph=None):
    """The plain (non-function) graph that `graph` (default: the default graph) is traced in."""
    graph = graph_lib.get_default_graph() if graph is None else graph
    while getattr(graph, "outer", None) is not None:
        graph = graph.outer
    return graph


def building_graph_for(graph):
    """The graph to build an op in that uses tensors of `graph`: the default graph when it is
    a function traced inside `graph` (the op belongs to the function, which captures them),
    else `graph` itself. Variables use it, so that ``v.assign_add(1)`` in a branch is an op
    of the branch."""
    default = graph_lib.get_default_graph()
    if default is not graph and default._captures_from(graph):
        return default
    return graph


@contextlib.contextmanager
def init_scope():
    """Leaves every function graph being traced for the outermost plain graph (TF's
    ``tf.init_scope``): the block builds there, in the same name scope, with no control
    dependencies. Variable creation runs inside it.
    """
    inner = graph_lib.get_default_graph()
    outer = outermost_graph(inner)
    if outer is inner:
        with inner.control_dependencies(None):
            yield
        return
    scope = inner.get_name_scope()
    with outer._as_default_exactly(), outer.name_scope(scope + "/" if scope else None), \
            outer.control_dependencies(None):
        yield


class GraphFunction:
    """A traced function: the value of a func-valued attr (``then_branch``, ``body``...).

    Args:
      name: the function's name, unique in the process (``cond_true_12``).
      graph: its `FuncGraph`.
      inputs: its placeholders: the explicit arguments, then the capture placeholders.
      outputs: the tensors of `graph` it returns.
      captured: the outer tensors feeding the last ``len(captured)`` inputs.
      control_outputs: ops of `graph` that run at each call although no output needs them
        (its stateful ops, ops a branch returned).
    """

    # graph_io stores a GraphFunction attr as a `func` AttrValue holding its name.
    is_graph_function = True

    def __init__(self, name, graph, inputs, outputs, captured=(), control_outputs=()):
        self.name = name
        self.graph = graph
        self.inputs = list(inputs)
        self.outputs = list(outputs)
        self.captured = list(captured)
        self.control_outputs = list(control_outputs)
        # (graph version, FunctionPlan): the runtime's compiled form, see runtime/plan.py.
        self._plan_cache = None

    @property
    def input_types(self):
        return [t.dtype for t in self.inputs]

    @property
    def output_types(self):
        return [t.dtype for t in self.outputs]

    @property
    def output_shapes(self):
        return [t.shape for t in self.outputs]

    def __repr__(self):
        return f"<GraphFunction {self.name}>"

    def __reduce__(self):
        raise TypeError(f"GraphFunction {self.name} is a graph object and does not pickle; "
                        "the runtime ships its compiled FunctionPlan")


def _spec_of(item):
    """(dtype, shape) of a Tensor or of a spec with `dtype` and `shape` (or a pair)."""
    if isinstance(item, tuple) and len(item) == 2:
        return dtypes.as_dtype(item[0]), as_shape(item[1])
    return dtypes.as_dtype(item.dtype)._base, as_shape(item.shape)


def trace(python_fn, arg_tensors_or_specs, name, outer=None, output_filter=None):
    """Traces `python_fn` on placeholders into a new `FuncGraph`.

    Args:
      python_fn: called with one placeholder per entry of `arg_tensors_or_specs`.
      arg_tensors_or_specs: Tensors, or objects with `dtype` and `shape`, or (dtype, shape)
        pairs: the signature.
      name: the function's name.
      outer: the enclosing graph (default: the default graph).
      output_filter: optional ``f(result) -> (flat tensors, structured result)``; default:
        the result must be a Tensor or a flat list/tuple of Tensors (None and Operations not
        allowed).

    Returns:
      (GraphFunction, structured_outputs): the structured outputs hold the function graph's
      tensors.
    """
    graph = FuncGraph(name, outer)
    with graph.as_default():
        args = []
        for index, item in enumerate(arg_tensors_or_specs):
            dtype, shape = _spec_of(item)
            with graph.name_scope(None):
                args.append(graph.create_op("Placeholder", [], {"dtype": dtype, "shape": shape},
                                            name=f"arg{index}").outputs[0])
        result = python_fn(*args)
        if output_filter is not None:
            flat, structured = output_filter(result)
        else:
            single = not isinstance(result, (list, tuple))
            flat = [result] if single else list(result)
            flat = [graph_lib.convert_to_tensor(t) for t in flat]
            structured = flat[0] if single else flat
        control_outputs = [op for op in flat if isinstance(op, graph_lib.Operation)]
        flat = [graph.capture(t) for t in flat if isinstance(t, graph_lib.Tensor)]
    function = GraphFunction(name, graph, args + graph.capture_inputs, flat, graph.captured,
                             control_outputs)
    return function, structured
