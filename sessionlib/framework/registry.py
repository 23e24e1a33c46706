"""The op registry: one registration per op type, holding everything the graph knows about it.

A registration says how many inputs an op takes, how to infer its outputs' dtypes and static
shapes while the graph is built, whether it is stateful, how it fuses, and the *name* of the
kernel that runs it. The kernels themselves live in the runtime's kernel table
(``sessionlib/runtime/kernel_table.py``), which binds each name to a Cython and a reference
kernel: the graph model never imports a kernel, and a device worker binds kernels by name
without importing the op library. The session, the compiler and the executors never look at
an op's type name; they ask the registry.

This module must stay free of execution: no runtime, no compiled code.
"""

import threading

__all__ = ["OpDef", "register_op", "register_gradient", "not_differentiable",
           "NOT_DIFFERENTIABLE", "get", "find", "lookup_id", "all_op_types"]

# The `gradient` of an op that has no gradient by design (comparisons, random ops, queues,
# shapes, ...): `tf.gradients` passes no gradient through it, and the gradient coverage test
# accepts it. An op whose `gradient` is None has simply not been given one yet, which
# `tf.gradients` reports as a LookupError, as TF does.
NOT_DIFFERENTIABLE = "NotDifferentiable"


class OpDef:
    """Everything about one op type.

    Attributes:
      type: the op type name, e.g. ``'Add'`` (TF's name where TF has the op).
      op_id: a small integer, the op's index in the registry.
      num_inputs: the number of inputs, or None when it varies (``AddN``, ``Pack``).
      infer: ``infer(inputs, attrs) -> [(dtype, shape), ...]``, called while the graph is
        built. It raises ValueError for a static shape mismatch and TypeError for bad dtypes.
      kernel: the name of the kernel that runs it, in the runtime's kernel table
        (``runtime/kernel_table.py``); by default the op type.
      stateful: True when two runs may give different results (variables, queues, random ops);
        such ops are never pruned as duplicates or constant-folded.
      doc: a one-line description.
      fetch_wrapper: None, or ``fetch_wrapper(value, tensor, session)`` giving what
        `Session.run` returns when an output of this op is fetched, in place of its array
        (``GetSessionHandle`` returns a `TensorHandle` this way).
      fusion: None, or the name of the instruction (``'add'``, ``'exp'``, ...), reduction
        (``'reduce_sum'``, ...) or fold (``'add_n'``: a left fold of 'add' over N same-shape
        inputs) of ``sessionlib.runtime.fusion`` that computes this op inside a fused
        elementwise chain; or ``'independent_update'`` for an op whose only effect is
        on its own resources, which ``sessionlib.runtime.update_grouping`` may run together
        with other such ops of a step, in parallel. Ops without it are never fused.
      gradient: the op's gradient function, `NOT_DIFFERENTIABLE`, or None (not given yet).
        ``gradient(op, *output_grads) -> [input_grad, ...]`` builds graph ops, like a function
        registered with TF's ``RegisterGradient``: it gets the forward `Operation` and one
        gradient per output (a Tensor, an `IndexedSlices`, or None where no gradient reaches
        that output and the output is not floating point), and returns one gradient per input
        (None for an input that gets none).
      ref_inputs: the indices of the inputs that take a *reference* (TF 1's ``Ref(T)``
        inputs: ``Assign`` takes its variable at input 0). A reference tensor (dtype
        ``float32_ref`` & co.) at any other input is read: its op's `infer` sees the base
        dtype there, and the runtime reads the variable's value for it
        (``runtime/ref_reads.py``). Empty for most ops.
    """

    __slots__ = ("type", "op_id", "num_inputs", "infer", "kernel", "stateful", "doc",
                 "fetch_wrapper", "fusion", "gradient", "ref_inputs", "function_attrs")

    def __init__(self, op_type, op_id, num_inputs, infer, kernel, stateful, doc,
                 fetch_wrapper=None, fusion=None, gradient=None, ref_inputs=(),
                 function_attrs=()):
        self.type = op_type
        self.op_id = op_id
        self.num_inputs = num_inputs
        self.infer = infer
        self.kernel = kernel
        self.stateful = stateful
        self.doc = doc
        self.fetch_wrapper = fetch_wrapper
        self.fusion = fusion
        self.gradient = gradient
        self.ref_inputs = frozenset(ref_inputs)
        self.function_attrs = tuple(function_attrs)

    def __repr__(self):
        return f"OpDef({self.type!r}, id={self.op_id})"


_lock = threading.Lock()
_by_type = {}
_by_id = []


def register_op(op_type, *, infer, kernel=None, num_inputs=None, stateful=False, doc="",
                fetch_wrapper=None, fusion=None, gradient=None, ref_inputs=(),
                function_attrs=()):
    """Registers an op type. Each type is registered exactly once.

    Args:
      op_type: the type name.
      infer: the output inference function, see `OpDef`.
      kernel: the name of its kernel in the runtime's kernel table; default: `op_type`.
      num_inputs: the fixed number of inputs, or None if it varies.
      stateful: whether the op has state or side effects.
      doc: a one-line description.
      fetch_wrapper: optional, see `OpDef`.
      fusion: optional, how the op fuses into elementwise chains; see `OpDef`.
      gradient: optional, the gradient function or `NOT_DIFFERENTIABLE`; see `OpDef`.
      ref_inputs: optional, the indices of the inputs that take a reference; see `OpDef`.
      function_attrs: optional, the names of the func-valued attrs; see `OpDef`.

    Returns:
      The new `OpDef`.

    Raises:
      ValueError: if `op_type` is already registered, or `kernel` is not a name.
    """
    if kernel is None:
        kernel = op_type
    elif not isinstance(kernel, str):
        raise ValueError(f"Op {op_type!r}: `kernel` must be a kernel name, got {kernel!r}")
    with _lock:
        if op_type in _by_type:
            raise ValueError(f"Op type {op_type!r} is already registered")
        opdef = OpDef(op_type, len(_by_id), num_inputs, infer, kernel, stateful, doc,
                      fetch_wrapper, fusion, gradient, ref_inputs, function_attrs)
        _by_type[op_type] = opdef
        _by_id.append(opdef)
    return opdef


def register_gradient(op_type):
    """A decorator giving `op_type` its gradient function (TF's ``RegisterGradient``).

    Prefer ``register_op(..., gradient=...)``; this is for an op whose gradient is written in
    another module, and for user code. An op has one gradient: a second one is an error.

    Args:
      op_type: a registered op type.

    Returns:
      A decorator that stores the function in the op's `OpDef` and returns it unchanged.

    Raises:
      ValueError: if `op_type` is not registered or already has a gradient.
      TypeError: if the decorated object is not callable.
    """
    opdef = get(op_type)

    def decorate(function):
        if not callable(function):
            raise TypeError(f"A gradient must be callable, got {function!r}")
        _set_gradient(opdef, function)
        return function

    return decorate


def not_differentiable(op_type):
    """Declares that `op_type` has no gradient (TF's ``NotDifferentiable``/``no_gradient``).

    Raises:
      ValueError: if `op_type` is not registered or already has a gradient function.
    """
    _set_gradient(get(op_type), NOT_DIFFERENTIABLE)


def _set_gradient(opdef, gradient):
    with _lock:
        if opdef.gradient is not None and opdef.gradient != gradient:
            raise ValueError(f"Op type {opdef.type!r} already has a gradient")
        opdef.gradient = gradient


def get(op_type):
    """The `OpDef` of `op_type`. Raises ValueError for an unknown type."""
    try:
        return _by_type[op_type]
    except KeyError:
        raise ValueError(f"Op type not registered: {op_type!r}") from None


def find(op_type):
    """The `OpDef` of `op_type`, or None when it is not registered."""
    return _by_type.get(op_type)


def lookup_id(op_id):
    """The `OpDef` with kernel-table index `op_id`."""
    return _by_id[op_id]


def all_op_types():
    """The registered type names, in registration order."""
    return [opdef.type for opdef in _by_id]
