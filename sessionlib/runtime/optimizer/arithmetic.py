"""Arithmetic simplification: algebraic rewrites of single nodes and short chains, as TF's
grappler arithmetic optimizer (and its constant push-down) makes them.

Design. One forward walk over a device's nodes, in execution order. Each node's inputs are
first renamed through the aliases made so far, so when a node is looked at, everything it reads
is already in its final form and one walk handles chains (``neg(neg(x))``, ``((x*2)*3)*4``,
identity chains). A rule looks at the node and at the nodes that produce its inputs, and
answers one of:

  * an alias: the node's output equals a value that already exists (``x * 1``, ``neg(neg(x))``,
    a cast to the same dtype, inverse transposes, ``Identity``). When the output is read by
    other nodes and not fetched, and the node has no control inputs and is no one's control
    input, the node goes and its readers read the value directly; otherwise (a fetch, a
    step's target, a control edge) an ``Identity`` node computes the same key, so fetches,
    targets and slots stay right;
  * replacement nodes, the last of which computes the node's output key itself (``pow(x, 2)``
    becomes ``Square(x)``, ``x - neg(y)`` becomes ``AddV2(x, y)``, ``(x*2)*3`` becomes
    ``x * 6`` with a new ``Const``). Intermediate values they make are `RewrittenValue` keys.

A node a rewrite made has a fresh name (``step.fresh_name``), the origin of the node it
replaces and ``attrs['_rewritten_from']``, the names of the ops it stands for. Nodes that the
rewrites left with no reader (the inner ``neg`` of ``neg(neg(x))``, the inner ``Reshape``)
are dropped at the end when they are stateless, not fetched and nobody's control input.

The rules, each with TF's conditions (shapes are the static ones; where a rule needs them and
they are unknown, nothing changes):
  * ``Pow(x, y)``, ``y`` a constant whose elements are all equal to ``p`` and whose shape does
    not broadcast ``x`` to a bigger shape: p = 2 -> ``Square``, 3 -> ``x * Square(x)``,
    4 -> ``Square(Square(x))``, 1 -> ``x``, 0 -> ``OnesLike(x)``, and for floats 0.5 ->
    ``Sqrt``, -0.5 -> ``Rsqrt``, -1 -> ``Reciprocal``. Integer ``x`` gets only the exact rewrites
    (2, 3, 4, 1, 0): a negative integer power raises, and must still raise. Results differ
    from ``pow`` where C's pow and the plain op disagree (at most an ulp for 3 and 4; ``Sqrt``
    of -0 and -inf), as in TF.
  * ``x * 1``, ``1 * x``, ``x + 0``, ``0 + x``, ``x - 0`` -> ``x``, when the constant's shape
    does not broadcast ``x`` to a bigger shape (``x + 0`` turns a -0 into +0; like TF, the
    rewrite keeps -0).
  * ``neg(neg(x))`` -> ``x``; ``x - neg(y)`` -> ``x + y``; ``x + neg(y)`` -> ``x - y``;
    ``neg(x) + y`` -> ``y - x``.
  * ``Cast`` to the dtype it already has -> its input.
  * ``Transpose(Transpose(x, p), q)`` with constant permutations whose composition is the
    identity -> ``x``; ``Transpose(x, identity)`` -> ``x``.
  * ``StridedSlice(Transpose(x, p), spec)`` -> ``StridedSlice(x, spec moved to x's
    dimensions)``, and ``Transpose(StridedSliceGrad(shape, spec, dy), q)`` ->
    ``StridedSliceGrad(shape moved, spec moved, dy)`` (its gradient), when the spec and the
    permutation are constants, the slice has no ellipsis or new axis, its kept dimensions stay
    in the same order (so the result, or ``dy``, is the same array), every shrunk index is in
    range of its static dimension and no stride is 0 (so no error can change): the transpose's
    copy of the whole tensor goes (``outputs[:, -1]`` of a batch-major ``dynamic_rnn``). Not
    a rewrite TF's grappler makes; the values are identical.
  * ``Reshape(Reshape(x, s), t)`` -> ``Reshape(x, t)``; a ``Reshape`` to the fully known static
    shape its input already has -> its input.
  * ``Identity(x)`` -> ``x`` (identity chains collapse).
  * ``(x * c1) * c2`` -> ``x * (c1 * c2)`` and ``(x + c1) + c2`` -> ``x + (c1 + c2)`` for
    float ``x`` and scalar constants (either operand order), the constant computed in ``x``'s
    dtype: TF's constant push-down. Float results may differ by rounding.

What is never rewritten: a node whose output is fed (the fed value wins; nothing is looked at
through a fed key, and a fed "constant" is no constant), stateful ops, and an alias to a value
of another dtype. Every reader of a value is in the list (a partition's ``_Send`` nodes too),
so rewiring readers never misses one on another device.
"""

import numpy as np

from sessionlib import dtypes
from sessionlib.framework import indexing, registry
from sessionlib.framework.tensor_shape import TensorShape
from sessionlib.runtime.optimizer import RewrittenValue, register_pass

__all__ = ["simplify"]

REWRITTEN_FROM = "_rewritten_from"

# Exponents that become other ops, and whether the rewrite is exact for integers too.
_POW_UNARY = {2.0: "Square", 0.5: "Sqrt", -0.5: "Rsqrt", -1.0: "Reciprocal"}
_INTEGER_EXPONENTS = frozenset((0.0, 1.0, 2.0, 3.0, 4.0))
_ADD = "AddV2"


def _dtype_of(key, node=None):
    dtype = getattr(key, "dtype", None)
    if dtype is None and node is not None:
        dtype = node.attrs.get("T")
    return dtype


def _shape_of(key):
    """The static shape of a value, or None (a received value has none)."""
    shape = getattr(key, "shape", None)
    return shape if isinstance(shape, TensorShape) else None


def _keeps_shape(x_shape, other_shape):
    """Whether broadcasting a value of `x_shape` against one of `other_shape` surely gives
    `x_shape` (so the result can be `x` itself, or an op on `x` alone)."""
    if other_shape is None or other_shape.rank is None:
        return False
    if other_shape.rank == 0:
        return True
    if x_shape is None or x_shape.rank is None or x_shape.rank < other_shape.rank:
        return False
    x_dims = x_shape.as_list()[x_shape.rank - other_shape.rank:]
    for x_dim, dim in zip(x_dims, other_shape.as_list()):
        if dim == 1:
            continue
        if dim is None or x_dim is None or dim != x_dim:
            return False
    return True


def _float_kind(dtype):
    return dtype is not None and dtype.is_floating


def _integer_kind(dtype):
    return dtype is not None and dtype.is_integer


class _Walk:
    """The state of one walk over a node list."""

    def __init__(self, nodes, step):
        self.step = step
        self.fed = step.fed
        self.fetched = step.fetched
        self.producer = {}            # key -> the node computing it (kept or new)
        self.alias = {}               # key -> the value it equals (its node is gone)
        self.control_targets = set()
        self.read = set()             # the keys some node reads (an unread one is a target's)
        self.reads = {}               # key -> how many inputs of the original nodes read it
        for node in nodes:
            self.control_targets.update(node.controls)
            self.read.update(node.inputs)
            for key in node.inputs:
                self.reads[key] = self.reads.get(key, 0) + 1
        self.result = []
        self.changed = False

    # ---- reading the graph ---------------------------------------------------------------

    def source(self, key):
        """The node producing `key`, unless the key is fed (a fed value is opaque)."""
        if key in self.fed:
            return None
        return self.producer.get(key)

    def constant(self, key):
        """The value of `key` when a ``Const`` node of this list computes it and it is not
        fed, else None."""
        node = self.source(key)
        if node is None or node.op_type != "Const":
            return None
        value = node.attrs.get("value")
        return value if isinstance(value, np.ndarray) else None

    def uniform_constant(self, key):
        """The one value all elements of constant `key` have (a Python number), or None."""
        value = self.constant(key)
        if value is None or value.size == 0 or value.dtype.kind not in "biuf":
            return None
        first = value.flat[0]
        if not np.all(value == first):
            return None
        return first.item()

    def scalar_constant(self, key):
        value = self.constant(key)
        if value is None or value.ndim != 0 or value.dtype.kind not in "iuf":
            return None
        return value

    # ---- making nodes ----------------------------------------------------------------------

    def new_node(self, op_type, inputs, outputs, attrs, replaced, base):
        from sessionlib.runtime.plan import Node

        name = self.step.fresh_name(base.name)
        attrs = dict(attrs)
        attrs["_name"] = name
        attrs[REWRITTEN_FROM] = tuple(replaced)
        return Node(op_type, list(inputs), list(outputs), attrs, name, base.origin,
                    base.controls)

    def value(self, base, dtype, shape):
        return RewrittenValue(self.step.fresh_name(base.name), dtype, shape)

    def const_node(self, value, replaced, base):
        value = np.asarray(value)
        value.setflags(write=False)
        dtype = dtypes.as_dtype(value.dtype)
        key = self.value(base, dtype, TensorShape(value.shape))
        return self.new_node("Const", [], [key], {"value": value, "dtype": dtype}, replaced,
                             base), key

    # ---- the walk ----------------------------------------------------------------------------

    def run(self, nodes):
        for node in nodes:
            inputs = [self.alias.get(key, key) for key in node.inputs]
            if any(a is not b for a, b in zip(inputs, node.inputs)):
                node = _with_inputs(node, inputs)
                self.changed = True
            answer = self.rewrite(node)
            if answer is None:
                self.keep(node)
            elif isinstance(answer, list):
                self.changed = True
                for new in answer:
                    self.keep(new)
            else:
                self.changed = True
                self.make_alias(node, answer)
        if not self.changed:
            return None
        return _drop_dead(self.result, nodes, self.fetched, self.control_targets)

    def keep(self, node):
        self.result.append(node)
        for key in node.outputs:
            self.producer[key] = node

    def make_alias(self, node, value):
        (key,) = node.outputs
        removable = (key in self.read and key not in self.fetched and not node.controls
                     and node.name not in self.control_targets)
        if removable:
            self.alias[key] = value
            return
        self.keep(self.new_node("Identity", [value], [key], {"T": _dtype_of(key, node)},
                                (node.name,), node))

    def rewrite(self, node):
        """An alias (an existing key), a list of replacement nodes, or None."""
        if len(node.outputs) != 1 or node.outputs[0] in self.fed:
            return None
        rule = _RULES.get(node.op_type)
        if rule is None:
            return None
        opdef = registry.find(node.op_type)
        if opdef is None or opdef.stateful:
            return None
        answer = rule(self, node)
        if answer is None or isinstance(answer, list):
            return answer
        # An alias must be the very value: never one of another dtype (an Identity of a ref
        # tensor is its value, not the ref).
        want, have = _dtype_of(node.outputs[0], node), _dtype_of(answer)
        if want is not None and have is not None and want != have:
            return None
        return answer


def _with_inputs(node, inputs):
    from sessionlib.runtime.plan import Node

    return Node(node.op_type, inputs, node.outputs, node.attrs, node.name, node.origin,
                node.controls)


def _drop_dead(result, original, fetched, control_targets):
    """`result` without the stateless nodes that the rewrites left unread (nodes that were
    unread from the start, such as a step's targets, stay)."""
    read_before = set()
    for node in original:
        read_before.update(node.inputs)
    readers = {}
    for node in result:
        for key in node.inputs:
            readers[key] = readers.get(key, 0) + 1
    keep = [True] * len(result)
    for index in range(len(result) - 1, -1, -1):
        node = result[index]
        if not node.outputs or node.name in control_targets:
            continue
        opdef = registry.find(node.op_type)
        if opdef is None or opdef.stateful:
            continue
        if any(key in fetched or readers.get(key, 0) for key in node.outputs):
            continue
        # A value nobody read before the rewrites is a target's: it keeps running.
        if not any(key in read_before or isinstance(key, RewrittenValue)
                   for key in node.outputs):
            continue
        keep[index] = False
        for key in node.inputs:
            readers[key] -= 1
    return [node for node, kept in zip(result, keep) if kept]


# ---- the rules ---------------------------------------------------------------------------------

def _pow(walk, node):
    x, y = node.inputs
    (out,) = node.outputs
    dtype = _dtype_of(out, node)
    if not (_float_kind(dtype) or _integer_kind(dtype)):
        return None
    exponent = walk.uniform_constant(y)
    if exponent is None or not _keeps_shape(_shape_of(x), _shape_of(y)):
        return None
    exponent = float(exponent)
    if _integer_kind(dtype) and exponent not in _INTEGER_EXPONENTS:
        return None
    attrs = {"T": dtype}
    replaced = (node.name,)
    if exponent == 1.0:
        return x
    if exponent == 0.0:
        return [walk.new_node("OnesLike", [x], [out], attrs, replaced, node)]
    if exponent in _POW_UNARY:
        return [walk.new_node(_POW_UNARY[exponent], [x], [out], attrs, replaced, node)]
    if exponent in (3.0, 4.0):
        square = walk.value(node, dtype, _shape_of(out))
        first = walk.new_node("Square", [x], [square], attrs, replaced, node)
        if exponent == 3.0:      # TF's x * square(x)
            second = walk.new_node("Mul", [x, square], [out], attrs, replaced, node)
        else:
            second = walk.new_node("Square", [square], [out], attrs, replaced, node)
        return [first, second]
    return None


def _neutral_operand(walk, node, neutral, positions):
    """The operand of binary `node` that is its result when the other operand (at one of
    `positions`) is a constant equal to `neutral` everywhere, or None."""
    (out,) = node.outputs
    for position in positions:
        const, other = node.inputs[position], node.inputs[1 - position]
        if walk.uniform_constant(const) != neutral:
            continue
        if _dtype_of(other) is not None and _dtype_of(other) != _dtype_of(out, node):
            continue
        if _keeps_shape(_shape_of(other), _shape_of(const)):
            return other
    return None


def _negated(walk, key):
    """The input of the ``Neg`` computing `key`, or None."""
    source = walk.source(key)
    if source is not None and source.op_type == "Neg":
        return source.inputs[0]
    return None


def _mul(walk, node):
    found = _neutral_operand(walk, node, 1, (1, 0))
    if found is not None:
        return found
    return _push_down(walk, node)


def _add(walk, node):
    found = _neutral_operand(walk, node, 0, (1, 0))
    if found is not None:
        return found
    x, y = node.inputs
    (out,) = node.outputs
    attrs = {"T": _dtype_of(out, node)}
    negated = _negated(walk, y)
    if negated is not None:              # x + neg(y) -> x - y
        return [walk.new_node("Sub", [x, negated], [out], attrs,
                              (walk.source(y).name, node.name), node)]
    negated = _negated(walk, x)
    if negated is not None:              # neg(x) + y -> y - x
        return [walk.new_node("Sub", [y, negated], [out], attrs,
                              (walk.source(x).name, node.name), node)]
    return _push_down(walk, node)


def _sub(walk, node):
    found = _neutral_operand(walk, node, 0, (1,))
    if found is not None:
        return found
    x, y = node.inputs
    (out,) = node.outputs
    negated = _negated(walk, y)
    if negated is not None:              # x - neg(y) -> x + y
        return [walk.new_node(_ADD, [x, negated], [out], {"T": _dtype_of(out, node)},
                              (walk.source(y).name, node.name), node)]
    return None


def _push_down(walk, node):
    """``(x op c1) op c2`` -> ``x op (c1 op c2)`` for scalar constants c1, c2 and float x."""
    (out,) = node.outputs
    dtype = _dtype_of(out, node)
    if not _float_kind(dtype):
        return None
    numpy_op = np.multiply if node.op_type == "Mul" else np.add
    for position in (1, 0):
        outer_const = walk.scalar_constant(node.inputs[position])
        if outer_const is None:
            continue
        inner = walk.source(node.inputs[1 - position])
        if inner is None or inner.op_type != node.op_type:
            continue
        for inner_position in (1, 0):
            inner_const = walk.scalar_constant(inner.inputs[inner_position])
            if inner_const is None:
                continue
            x = inner.inputs[1 - inner_position]
            np_dtype = np.dtype(dtype.as_numpy_dtype)
            with np.errstate(all="ignore"):
                folded = numpy_op(inner_const.astype(np_dtype), outer_const.astype(np_dtype))
            const, key = walk.const_node(np.asarray(folded, dtype=np_dtype),
                                         (walk.source(inner.inputs[inner_position]).name,
                                          walk.source(node.inputs[position]).name), node)
            combined = walk.new_node(node.op_type, [x, key], [out], {"T": dtype},
                                     (inner.name, node.name), node)
            return [const, combined]
    return None


def _neg(walk, node):
    return _negated(walk, node.inputs[0])


def _cast(walk, node):
    (x,) = node.inputs
    source, target = _dtype_of(x) or node.attrs.get("SrcT"), node.attrs.get("DstT")
    if source is not None and source == target:
        return x
    return None


def _permutation(walk, key, rank=None):
    value = walk.constant(key)
    if value is None or value.ndim != 1 or value.dtype.kind not in "iu":
        return None
    size = len(value)
    if rank is not None and size != rank:
        return None
    perm = [int(p) % size if -size <= p < size else -1 for p in value.tolist()]
    return perm if sorted(perm) == list(range(size)) else None


def _transpose(walk, node):
    x, perm_key = node.inputs
    outer = _permutation(walk, perm_key)
    if outer is None:
        return None
    if outer == list(range(len(outer))):
        return x
    inner = walk.source(x)
    if inner is not None and inner.op_type == "StridedSliceGrad":
        return _transpose_slice_grad(walk, node, inner, outer)
    if inner is None or inner.op_type != "Transpose":
        return None
    first = _permutation(walk, inner.inputs[1], len(outer))
    # out[j] = in[first[outer[j]]]: the identity when first[outer[j]] == j for every j.
    if first is not None and all(first[p] == j for j, p in enumerate(outer)):
        return inner.inputs[0]
    return None


def _reordered_slice(walk, spec_keys, attrs, order, new_dims):
    """A strided slice's spec moved to reordered dimensions, when the move keeps its result.

    Dimension ``d`` of the new order is dimension ``order[d]`` of the old one. The slice's
    result keeps its unshrunk dimensions in order, so moving the spec gives the same value
    (and, for a StridedSliceGrad, reads the same ``dy``) only when the old positions of the
    kept dimensions stay increasing in the new order. The move must not change which errors
    can happen either: every shrunk index is checked here against its static dimension, and
    every stride is a nonzero constant.

    Args:
      walk: the `_Walk`.
      spec_keys: the keys of the ``begin``, ``end`` and ``strides`` inputs.
      attrs: the slice's attrs (the masks).
      order: the permutation, new dimension -> old dimension.
      new_dims: the static sizes of the sliced value's dimensions in the new order.

    Returns:
      ``(begin, end, strides, masks)``: the new spec arrays (the old dtype) and mask attrs,
      or None when the move is not surely the same slice.
    """
    rank = len(order)
    arrays = [walk.constant(key) for key in spec_keys]
    if any(array is None or array.ndim != 1 or array.dtype.kind not in "iu"
           for array in arrays):
        return None
    count = len(arrays[0])
    masks = {mask: int(attrs.get(mask, 0)) for mask in indexing.STRIDED_SLICE_MASKS}
    if (any(len(array) != count for array in arrays) or count > rank
            or masks["ellipsis_mask"] or masks["new_axis_mask"]):
        return None
    begin, end, strides = (array.tolist() for array in arrays)
    if 0 in strides:
        return None
    # Dimensions the spec leaves out are taken whole.
    padding = rank - count
    begin, end, strides = begin + [0] * padding, end + [0] * padding, strides + [1] * padding
    whole = ((1 << rank) - 1) ^ ((1 << count) - 1)
    old_bits = {"begin_mask": masks["begin_mask"] | whole, "end_mask": masks["end_mask"] | whole,
                "shrink_axis_mask": masks["shrink_axis_mask"]}
    new_bits = dict.fromkeys(old_bits, 0)
    for new, old in enumerate(order):
        for mask, bits in old_bits.items():
            if bits >> old & 1:
                new_bits[mask] |= 1 << new
    shrunk = new_bits["shrink_axis_mask"]
    kept = [old for new, old in enumerate(order) if not shrunk >> new & 1]
    if kept != sorted(kept):
        return None
    for new, old in enumerate(order):
        if shrunk >> new & 1:
            dim = new_dims[new]
            if dim is None or not -dim <= begin[old] < dim:
                return None
    dtype = arrays[0].dtype
    reordered = tuple(np.asarray([values[old] for old in order], dtype=dtype)
                      for values in (begin, end, strides))
    new_masks = dict(new_bits, ellipsis_mask=0, new_axis_mask=0)
    return reordered + (new_masks,)


def _strided_slice(walk, node):
    """``StridedSlice(Transpose(x, p))`` -> ``StridedSlice(x)`` with the spec moved to x's
    dimensions, when the slice's kept dimensions stay in order (``outputs[:, -1]`` of a
    time-major RNN output transposed to batch-major reads one time step of the time-major
    value): the transpose's copy of the whole tensor goes."""
    x_t, begin_key, end_key, strides_key = node.inputs
    inner = walk.source(x_t)
    if inner is None or inner.op_type != "Transpose":
        return None
    x = inner.inputs[0]
    x_shape = _shape_of(x)
    if x_shape is None or x_shape.rank is None:
        return None
    perm = _permutation(walk, inner.inputs[1], x_shape.rank)
    if perm is None:
        return None
    # Dimension d of x is dimension perm.index(d) of the transposed value.
    order = [perm.index(d) for d in range(len(perm))]
    moved = _reordered_slice(walk, (begin_key, end_key, strides_key), node.attrs, order,
                             x_shape.as_list())
    if moved is None:
        return None
    return _with_spec(walk, node, node.attrs, moved, x, None, (inner.name, node.name))


def _transpose_slice_grad(walk, node, grad_node, perm):
    """``Transpose(StridedSliceGrad(shape, spec, dy), q)`` -> ``StridedSliceGrad`` of the
    transposed shape with the spec moved, when ``dy``'s dimensions stay in order (the
    gradient of the rewrite in `_strided_slice`): the zeros are written once, in place."""
    shape_key = grad_node.inputs[0]
    shape = walk.constant(shape_key)
    if (shape is None or shape.ndim != 1 or len(shape) != len(perm)
            or grad_node.outputs[0] in walk.fetched
            or walk.reads.get(grad_node.outputs[0], 0) != 1):
        return None
    new_shape = [int(shape[old]) for old in perm]
    moved = _reordered_slice(walk, grad_node.inputs[1:4], grad_node.attrs, perm, new_shape)
    if moved is None:
        return None
    return _with_spec(walk, node, grad_node.attrs, moved, grad_node.inputs[4],
                      np.asarray(new_shape, dtype=shape.dtype), (grad_node.name, node.name))


def _with_spec(walk, node, slice_attrs, moved, value, grad_shape, replaced):
    """The nodes of a strided slice (or, with `grad_shape`, a StridedSliceGrad of that shape)
    of `value` by the spec `moved` computing `node`'s output; the new slice keeps the attrs
    of the slice it moves (`slice_attrs`) but the masks."""
    begin, end, strides, masks = moved
    new_nodes, keys = [], []
    arrays = (begin, end, strides) if grad_shape is None else (grad_shape, begin, end, strides)
    for array in arrays:
        const, key = walk.const_node(array, replaced, node)
        new_nodes.append(const)
        keys.append(key)
    attrs = {name: attr for name, attr in slice_attrs.items()
             if name not in ("_name", REWRITTEN_FROM)}
    attrs.update(masks)
    if grad_shape is None:
        op_type, inputs = "StridedSlice", [value] + keys
    else:
        op_type, inputs = "StridedSliceGrad", keys + [value]
    new_nodes.append(walk.new_node(op_type, inputs, list(node.outputs), attrs, replaced, node))
    return new_nodes


def _reshape(walk, node):
    x, shape_key = node.inputs
    (out,) = node.outputs
    x_shape, out_shape = _shape_of(x), _shape_of(out)
    # A fed shape is not the one the static shape was inferred from: the feed wins.
    if (shape_key not in walk.fed and x_shape is not None and out_shape is not None and x_shape.is_fully_defined()
            and out_shape.is_fully_defined() and x_shape.as_list() == out_shape.as_list()):
        return x
    inner = walk.source(x)
    if inner is None or inner.op_type != "Reshape":
        return None
    return [walk.new_node("Reshape", [inner.inputs[0], shape_key], [out], node.attrs,
                          (inner.name, node.name), node)]


def _identity(walk, node):
    return node.inputs[0]


_RULES = {
    "Pow": _pow,
    "Mul": _mul,
    _ADD: _add,
    "Sub": _sub,
    "Neg": _neg,
    "Cast": _cast,
    "Transpose": _transpose,
    "Reshape": _reshape,
    "Identity": _identity,
    "StridedSlice": _strided_slice,
}


@register_pass("arithmetic_optimization")
def simplify(nodes, step):
    """The arithmetic rewrites of one device's nodes (see the module docstring).

    Args:
      nodes: `plan.Node`s in execution order.
      step: the `optimizer.Step` (fed and fetched keys, fresh names).

    Returns:
      The new node list, or `nodes` itself when no rule applied.
    """
    result = _Walk(nodes, step).run(nodes)
    return nodes if result is None else result
