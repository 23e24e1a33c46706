"""Functions to and from TF's `FunctionDef`: the library half of GraphDef IO.

TF 2's functional control flow keeps the branches of an ``If``/``StatelessIf`` and the cond
and body of a ``While``/``StatelessWhile`` as functions in ``GraphDef.library``, named by the
op's func-valued attrs (``then_branch``, ``else_branch``, ``cond``, ``body``: an
``AttrValue.func`` holding the function's name). This module turns a `FunctionDef` into a
`GraphFunction` (a `FuncGraph` with its inputs and outputs) and back.

What TF 2.21 writes (seen in ``tests/data/tf_control_flow/``, made by
``tools/make_tf_control_flow.py``):

* ``signature``: an `OpDef` whose ``input_arg`` s and ``output_arg`` s have concrete types
  (never type attrs). Arg names are lower-case identifiers (``placeholder``, ``less_n``,
  ``power_maximum_iterations_0``); node names and arg names share one namespace.
* ``node_def``: the body. A node input is an input arg's name (``"placeholder"``), an output
  of another node as ``"node:output_arg:index"`` (``"add/y:output:0"``, ``"Less:z:0"``,
  ``"TensorListPopBack:tensor:0"``), where the index counts within that output arg, or a
  control input ``"^node"``. Output arg names are TF's op signatures; sessionlib's registry
  keeps none, so `op_output_args.OUTPUT_ARGS` (generated from TF) maps them to flat output
  indices. A list-valued output arg's length comes from the node's attr (``num_split``,
  ``Tout``...).
* ``ret``: output arg name -> the tensor that gives it (an input arg's name where a loop
  variable passes through unchanged); ``control_ret``: names of nodes that must run.
* ``arg_attr``: per input index, ``_output_shapes`` (the arg's static shape) and
  ``_user_specified_name``; ``attr``: ``_construction_context`` and the like.
* The calling op (in the outer graph or another body) carries ``Tin``/``Tout``/``T``,
  ``output_shapes``, ``_lower_using_switch_merge`` (TF lowers the op to Switch/Merge when it
  runs it; sessionlib runs the functional op itself and keeps the attr only for round trips),
  ``_read_only_resource_inputs`` and ``_num_original_outputs``. A ``While``'s inputs are
  ``[loop_counter, maximum_iterations, *loop vars, *captures]``; its cond gets the same and
  tests ``counter < maximum_iterations`` itself when the loop is bounded.

Reading: the body is rewritten into a plain `GraphDef` (one ``Placeholder`` per input arg,
named by the arg, and inputs spelled ``"node:flat_index"``) and imported into a new
`FuncGraph` with `graph_io.import_graph_def`, so a body gets exactly the checks and op
construction of a top-level graph. Nested func attrs resolve through the same `Library`.
Writing is the inverse: a `GraphFunction`'s placeholders become input args (named after the
placeholder, made a valid TF arg name), its other ops node_defs, its outputs
``output_<i>`` rets.
"""

import re

from sessionlib import errors
from sessionlib.framework.op_output_args import OUTPUT_ARGS

__all__ = ["Library", "FunctionRef", "flat_output_index", "output_arg_name",
           "body_graph_def", "function_from_def", "function_def_of", "library_of",
           "is_graph_function"]


class FunctionRef:
    """An ``AttrValue.func`` read from a proto before its library is at hand: a name (and the
    function's attrs, which TF's control-flow ops leave empty)."""

    __slots__ = ("name", "attrs")

    def __init__(self, name, attrs=None):
        self.name = name
        self.attrs = dict(attrs or {})

    def __repr__(self):
        return f"FunctionRef({self.name!r})"

    def __eq__(self, other):
        return isinstance(other, FunctionRef) and other.name == self.name

    def __hash__(self):
        return hash(self.name)


def is_graph_function(value):
    """Whether `value` is a `GraphFunction` (without importing it: the class is a duck)."""
    return getattr(value, "is_graph_function", False) is True


def _arg_counts(op_type, attrs):
    """[(arg_name, number of tensors)] of the output args of `op_type`, or None if unknown.

    `attrs` maps attr names to plain values or `AttrValue` protos.
    """
    args = OUTPUT_ARGS.get(op_type)
    if args is None:
        return None
    counts = []
    for arg_name, count_attr in args:
        if count_attr is None:
            counts.append((arg_name, 1))
            continue
        value = attrs.get(count_attr)
        if hasattr(value, "WhichOneof"):  # an AttrValue
            value = value.i if value.WhichOneof("value") == "i" else list(value.list.type)
        if isinstance(value, (list, tuple)):
            counts.append((arg_name, len(value)))
        elif isinstance(value, int):
            counts.append((arg_name, value))
        else:
            return None
    return counts


def flat_output_index(node, arg_name, index):
    """The flat output index of ``node:arg_name:index`` (`node` a NodeDef).

    Raises:
      ValueError: if the op has no such output arg, or the index is past its end.
    """
    counts = _arg_counts(node.op, node.attr)
    if counts is None:
        # An op TF does not know (sessionlib's own) or with a list length we cannot read: its
        # outputs are one arg, as `output_arg_name` writes them.
        return index
    offset = 0
    for name, count in counts:
        if name == arg_name:
            if index >= count:
                break
            return offset + index
        offset += count
    raise ValueError(f"Node {node.name!r} ({node.op}) has no output {arg_name}:{index}; its "
                     f"output args are {[name for name, _ in counts]}")


def output_arg_name(op, flat_index):
    """``"arg:index"`` naming output `flat_index` of `op` (an Operation) in a function body."""
    return arg_name_of_output(op.type, op._attrs, flat_index)


def arg_name_of_output(op_type, attrs, flat_index):
    """``"arg:index"`` naming output `flat_index` of an `op_type` node with `attrs` (plain
    values or `AttrValue` protos); ``"output:i"`` for an op whose output args are unknown."""
    counts = _arg_counts(op_type, attrs)
    if counts is not None:
        offset = 0
        for name, count in counts:
            if flat_index < offset + count:
                return f"{name}:{flat_index - offset}"
            offset += count
    return f"output:{flat_index}"


def body_graph_def(fdef, input_types=None):
    """The body of `fdef` as a plain GraphDef, with its input and output names.

    Returns:
      ``(graph_def, arg_names, output_names, control_names)``: ``graph_def`` holds a
      ``Placeholder`` per input arg (named by the arg; dtype from the signature, shape from
      the arg's ``_output_shapes`` attr) and the body's nodes with inputs spelled
      ``"node:flat_index"`` (an arg with no type, as raised TF 1 control flow writes,
      takes it from `input_types`); ``output_names`` are the tensors (``"node:i"``) of the output
      args in signature order; ``control_names`` the nodes of ``control_ret``.

    Raises:
      ValueError: for an input or ret naming no arg or node, or an unknown output arg.
    """
    from sessionlib.protos import graph_pb2

    graph_def = graph_pb2.GraphDef()
    signature = fdef.signature
    args = set()
    for i, arg in enumerate(signature.input_arg):
        node = graph_def.node.add(name=arg.name, op="Placeholder")
        if arg.type_attr or arg.type_list_attr or arg.number_attr:
            raise errors.UnimplementedError(
                None, None, f"Function {signature.name!r}: input arg {arg.name!r} has a "
                            "polymorphic type; only functions with concrete types import")
        if arg.type == 0 and input_types is not None:
            node.attr["dtype"].type = input_types[i].as_datatype_enum
        else:
            node.attr["dtype"].type = arg.type
        arg_attrs = fdef.arg_attr[i].attr if i in fdef.arg_attr else {}
        shapes = arg_attrs.get("_output_shapes")
        if shapes is not None and len(shapes.list.shape) == 1:
            node.attr["shape"].shape.CopyFrom(shapes.list.shape[0])
        args.add(arg.name)
    nodes = {node.name: node for node in fdef.node_def}
    where = f"Function {signature.name!r}"

    def resolve(name):
        if name.startswith("^"):
            if name[1:] not in nodes and name[1:] not in args:
                raise ValueError(f"{where}: control input {name!r} names no node")
            return name
        if name in args:
            return name
        parts = name.split(":")
        if len(parts) == 3 and parts[0] in nodes and parts[2].isdigit():
            return f"{parts[0]}:{flat_output_index(nodes[parts[0]], parts[1], int(parts[2]))}"
        if len(parts) == 1 and name in nodes:
            return name  # TF reads a bare node name as its output 0 too
        raise ValueError(f"{where}: input {name!r} names no input arg or node output")

    for node in fdef.node_def:
        if node.name in args:
            raise ValueError(f"{where}: node {node.name!r} has the name of an input arg")
        copy = graph_def.node.add()
        copy.CopyFrom(node)
        del copy.input[:]
        copy.input.extend(resolve(name) for name in node.input)
    outputs = []
    for arg in signature.output_arg:
        if arg.name not in fdef.ret:
            raise ValueError(f"{where}: output arg {arg.name!r} has no ret")
        output = resolve(fdef.ret[arg.name])
        # A bare name (an arg passed through, or TF's node shorthand) is output 0; spelled
        # "name:0" so that `return_elements` gives a Tensor, not the Operation.
        outputs.append(output if ":" in output else output + ":0")
    controls = [fdef.control_ret[name] for name in signature.control_output
                if name in fdef.control_ret]
    return graph_def, [arg.name for arg in signature.input_arg], outputs, controls


class Library:
    """The functions of one imported GraphDef, turned into `GraphFunction` s on first use.

    Args:
      library: a `FunctionDefLibrary` proto (or None).
    """

    def __init__(self, library=None):
        self._defs = {}
        if library is not None:
            for fdef in library.function:
                name = fdef.signature.name
                if name in self._defs:
                    raise ValueError(f"Duplicate function {name!r} in the graph_def library")
                self._defs[name] = fdef
        self._functions = {}
        self._building = set()

    def __contains__(self, name):
        return name in self._defs

    def function(self, ref, outer, input_types=None):
        """The `GraphFunction` of `ref` (a `FunctionRef`), built in a FuncGraph over `outer`.

        `input_types` (the calling op's input dtypes; the last ones feed the function) type
        the args that the FunctionDef leaves untyped.

        Raises:
          ValueError: if the library has no such function, or it calls itself.
        """
        name = ref.name if isinstance(ref, FunctionRef) else ref
        built = self._functions.get(name)
        if built is not None:
            return built
        fdef = self._defs.get(name)
        if fdef is None:
            raise ValueError(f"Function {name!r} is not in the graph_def library")
        if name in self._building:
            raise ValueError(f"Function {name!r} calls itself; recursive functions do not "
                             "import")
        self._building.add(name)
        try:
            if input_types is not None:
                input_types = list(input_types)[-len(fdef.signature.input_arg):] \
                    if fdef.signature.input_arg else []
            built = function_from_def(fdef, outer, self, input_types)
        finally:
            self._building.discard(name)
        self._functions[name] = built
        return built


def function_from_def(fdef, outer, library, input_types=None):
    """The `GraphFunction` of a `FunctionDef`, in a new `FuncGraph` over `outer`.

    Args:
      fdef: the `FunctionDef`.
      outer: the graph the function is used in.
      library: the `Library` that resolves the func attrs of its nodes.
      input_types: dtypes for untyped args (see `body_graph_def`).

    Raises:
      ValueError, TypeError, NotFoundError: as `import_graph_def` raises for a bad node,
        naming the function.
    """
    from sessionlib.framework import function as function_lib
    from sessionlib.framework import graph_io

    graph_def, arg_names, output_names, control_names = body_graph_def(fdef, input_types)
    name = fdef.signature.name
    graph = function_lib.FuncGraph(name, outer=outer)
    with graph.as_default():
        try:
            elements = graph_io.import_graph_def(
                graph_def, name="", return_elements=arg_names + output_names + control_names,
                library=library)
        except (ValueError, TypeError) as err:
            raise type(err)(f"In function {name!r}: {err}") from None
    inputs = [op.outputs[0] for op in elements[:len(arg_names)]]
    outputs = elements[len(arg_names):len(arg_names) + len(output_names)]
    controls = elements[len(arg_names) + len(output_names):]
    return function_lib.GraphFunction(name, graph, inputs, outputs,
                                      control_outputs=controls)


_ARG_NAME = re.compile(r"[^a-z0-9_]")


def _arg_name(op_name, taken):
    """A valid, unused TF arg name (``[a-z][a-z0-9_]*``) made from a placeholder's name."""
    base = _ARG_NAME.sub("_", op_name.lower()) or "arg"
    if not base[0].isalpha():
        base = "arg_" + base
    candidate, i = base, 0
    while candidate in taken:
        i += 1
        candidate = f"{base}_{i}"
    taken.add(candidate)
    return candidate


def function_def_of(function):
    """The `FunctionDef` of a `GraphFunction` (its nested functions are not included).

    Input args are the function's placeholders, in order; output args are ``output_<i>``;
    the function's control outputs are ``control_ret`` s.
    """
    from sessionlib.framework import graph_io
    from sessionlib.protos import function_pb2

    fdef = function_pb2.FunctionDef()
    fdef.signature.name = function.name
    taken = {op.name for op in function.graph.get_operations()}
    arg_of = {}
    for i, tensor in enumerate(function.inputs):
        arg = fdef.signature.input_arg.add(name=_arg_name(tensor.op.name, taken))
        arg.type = tensor.dtype._base.as_datatype_enum
        arg_of[tensor.op] = arg.name
        fdef.arg_attr[i].attr["_output_shapes"].CopyFrom(
            graph_io.attr_value_of([tensor.shape]))

    def spell(tensor):
        if tensor.op in arg_of:
            return arg_of[tensor.op]
        return f"{tensor.op.name}:{output_arg_name(tensor.op, tensor.value_index)}"

    for op in function.graph.get_operations():
        if op in arg_of:
            continue
        node = fdef.node_def.add()
        node.CopyFrom(graph_io.node_def_of(op))
        node.ClearField("device")  # a body runs where its calling op runs
        del node.input[:]
        node.input.extend(spell(t) for t in op._inputs)
        node.input.extend(f"^{c.name}" for c in op._control_inputs if c not in arg_of)
    for i, tensor in enumerate(function.outputs):
        arg = fdef.signature.output_arg.add(name=f"output_{i}")
        arg.type = tensor.dtype._base.as_datatype_enum
        fdef.ret[arg.name] = spell(tensor)
    for op in getattr(function, "control_outputs", ()):
        fdef.signature.control_output.append(op.name)
        fdef.control_ret[op.name] = op.name
    return fdef


def _functions_in(value):
    if is_graph_function(value):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            if is_graph_function(item):
                yield item


def library_of(ops):
    """The `FunctionDefLibrary` of the functions that `ops` name, nested ones too, each once
    (callees before callers), or None when there are none."""
    from sessionlib.protos import function_pb2

    seen, order = set(), []

    def visit(function):
        if function.name in seen:
            return
        seen.add(function.name)
        for op in function.graph.get_operations():
            for value in op._attrs.values():
                for inner in _functions_in(value):
                    visit(inner)
        order.append(function)

    for op in ops:
        for value in op._attrs.values():
            for function in _functions_in(value):
                visit(function)
    if not order:
        return None
    library = function_pb2.FunctionDefLibrary()
    for function in order:
        library.function.add().CopyFrom(function_def_of(function))
    return library
