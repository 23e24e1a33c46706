"""Remapping: ``MatMul``/``Conv2D`` + ``BiasAdd`` (+ activation) become one fused op, and a
``TensorListStack`` read by a one-element ``StridedSlice`` becomes ``_TensorListStackSlice``.

What it rewrites (the patterns of TF grappler's remapper for CPU):
  * ``MatMul -> BiasAdd`` and ``MatMul -> BiasAdd -> act`` become ``_FusedMatMul`` with
    ``fused_ops = ["BiasAdd"]`` or ``["BiasAdd", act]``;
  * ``Conv2D -> BiasAdd (-> act)`` becomes ``_FusedConv2D`` likewise (NHWC, and NCHW when the
    BiasAdd has the convolution's layout);
with ``act`` one of Relu, Relu6, Elu, LeakyRelu, Tanh, Sigmoid, for float32 and float64 (the
dtypes of the epilogue pass, ``_core/epilogue.pyx``). TF's CPU remapper stops at BiasAdd for
Tanh and Sigmoid and does not fuse float64; here both fuse, since the epilogue computes them in
the same pass. ``MatMul + AddV2`` of a rank-1 bias is not rewritten, as in TF.

Stacked-list slices. ``TensorListStack -> StridedSlice`` whose slice shrinks axis 0 to one
index (not begin-masked, no ellipsis or new axis there) becomes ``_TensorListStackSlice``
(``ops/list_ops.py``), when the stack's result is read by the slice alone (the same rule as a
chain's inner values, below). Its kernel checks the list as the stack does and slices the one
element it needs, instead of copying every element into a stack first: ``outputs[:, -1]`` of
a dynamic_rnn (its time-major slice after the arithmetic pass) copies one [batch, units]
element, not [steps, batch, units]. Not one of TF's remappings; value and errors are the two
ops' (the kernel takes their path for anything else, ``runtime/kernels/list_kernels.py``).

When. A chain fuses only when every value inside it (the product, and the BiasAdd's result
when an activation follows) is read by exactly one node, the next op of the chain, and is
neither fetched nor fed, and no node names an inner op as a control input: then nothing else
can observe the intermediate values, so computing them inside one kernel changes no result.
The chain's last value may be read by anything and fetched; a fed value is never produced by a
fused node (a feed wins: the chain stops before it). The fused node stands where the chain's
last op stood (its inputs were all computed before the earlier members ran, so the order stays
topological) and writes that op's key.

Training graphs. `gradients` built the backward pass on the separate ops when the graph was
made; this pass runs when a step is compiled, so it sees the gradient ops as readers. ReluGrad,
EluGrad, TanhGrad and SigmoidGrad read the activation's *output*, the chain's last value, so
an MLP's forward layers still fuse in its training step (as in TF). Relu6Grad and
LeakyReluGrad read the activation's *input* (the BiasAdd result), so such a layer's training
step keeps BiasAdd and the activation apart and fuses MatMul + BiasAdd only; inference steps
fuse the whole chain.

Results. The reference kernels of the fused ops are the unfused reference kernels in order
(exactly the same results); the fast kernels run the same GEMM or convolution and an epilogue
that is bit-identical to BiasAdd + Relu/Relu6/Elu/LeakyRelu and within a few ulps for
Tanh/Sigmoid (``runtime/kernels/nn_fused_kernels.py``).
"""

import collections

import numpy as np

from sessionlib.runtime.optimizer import register_pass

__all__ = ["remap", "ACTIVATIONS"]

# The activations a chain may end with, and how each reads a LeakyRelu's slope.
ACTIVATIONS = ("Relu", "Relu6", "Elu", "LeakyRelu", "Tanh", "Sigmoid")
_CONTRACTIONS = {"MatMul": "_FusedMatMul", "Conv2D": "_FusedConv2D"}
# The op a TensorListStack read by a one-element StridedSlice becomes (ops/list_ops.py).
STACK_SLICE = "_TensorListStackSlice"
_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
# Conv2D's attrs that _FusedConv2D keeps (TF's names).
_CONV_ATTRS = ("T", "strides", "padding", "explicit_paddings", "data_format", "dilations",
               "use_cudnn_on_gpu")


def _same_key(a, b):
    # Tensors compare by identity (their == may be overloaded); runtime keys are tuples.
    return a is b or (type(a) is tuple and type(b) is tuple and a == b)


def _float_dtype(node):
    """The node's ``T`` when it is float32 or float64, else None."""
    dtype = node.attrs.get("T")
    np_dtype = getattr(dtype, "as_numpy_dtype", None)
    if np_dtype is None or np.dtype(np_dtype) not in _DTYPES:
        return None
    return dtype


class _Graph:
    """What the pass reads of the node list: each key's readers and the controlled names."""

    def __init__(self, nodes, step):
        self.nodes = nodes
        self.step = step
        self.readers = collections.defaultdict(list)
        for index, node in enumerate(nodes):
            for key in node.inputs:
                self.readers[key].append(index)
        self.controlled = {name for node in nodes for name in node.controls}

    def only_reader(self, index):
        """The index of the one node reading node `index`'s single output, when that output
        is private to the chain (one read, not fed, not fetched, no control edge on the
        node); else None."""
        node = self.nodes[index]
        if len(node.outputs) != 1 or node.name in self.controlled:
            return None
        key = node.outputs[0]
        if key in self.step.fed or key in self.step.fetched:
            return None
        readers = self.readers.get(key, ())
        return readers[0] if len(readers) == 1 else None

    def produces_fed(self, index):
        return any(key in self.step.fed for key in self.nodes[index].outputs)


def _chain_at(graph, index):
    """The indices of the chain starting at contraction `index`, or None."""
    nodes = graph.nodes
    contraction = nodes[index]
    dtype = _float_dtype(contraction)
    if dtype is None or len(contraction.inputs) != 2:
        return None
    bias_index = graph.only_reader(index)
    if bias_index is None or graph.produces_fed(bias_index):
        return None
    bias_add = nodes[bias_index]
    product = contraction.outputs[0]
    if (bias_add.op_type != "BiasAdd" or len(bias_add.inputs) != 2
            or not _same_key(bias_add.inputs[0], product)
            or _same_key(bias_add.inputs[1], product) or bias_add.attrs.get("T") != dtype):
        return None
    layout = bias_add.attrs.get("data_format", "NHWC")
    expected = (contraction.attrs.get("data_format", "NHWC")
                if contraction.op_type == "Conv2D" else "NHWC")
    if layout != expected:
        return None
    chain = [index, bias_index]
    act_index = graph.only_reader(bias_index)
    if act_index is not None:
        act = nodes[act_index]
        if (act.op_type in ACTIVATIONS and len(act.inputs) == 1 and len(act.outputs) == 1
                and act.attrs.get("T") == dtype and not graph.produces_fed(act_index)):
            chain.append(act_index)
    return chain


def _fused_node(node_class, graph, chain):
    nodes = graph.nodes
    contraction, bias_add, last = nodes[chain[0]], nodes[chain[1]], nodes[chain[-1]]
    op_type = _CONTRACTIONS[contraction.op_type]
    fused_ops = tuple(nodes[i].op_type for i in chain[1:])
    alpha = float(last.attrs.get("alpha", 0.2)) if last.op_type == "LeakyRelu" else 0.2
    name = graph.step.fresh_name(last.name)
    attrs = {"T": contraction.attrs["T"], "num_args": 1, "fused_ops": fused_ops,
             "epsilon": 0.0001, "leakyrelu_alpha": alpha}
    if op_type == "_FusedMatMul":
        attrs["transpose_a"] = bool(contraction.attrs.get("transpose_a", False))
        attrs["transpose_b"] = bool(contraction.attrs.get("transpose_b", False))
    else:
        attrs.update((key, contraction.attrs[key]) for key in _CONV_ATTRS
                     if key in contraction.attrs)
        attrs.update(TArgs=(contraction.attrs["T"],), num_host_args=0, filter_format="HWIO")
    attrs["_name"] = name
    attrs["_rewritten_from"] = tuple(nodes[i].name for i in chain)
    attrs["_rewrite_kind"] = "fused"     # traces: "y/_rewrite_0 = _FusedMatMul(..) [fused: ..]"
    controls = []
    for i in chain:
        controls.extend(c for c in nodes[i].controls if c not in controls)
    inputs = [contraction.inputs[0], contraction.inputs[1], bias_add.inputs[1]]
    return node_class(op_type, inputs, list(last.outputs), attrs, name, last.origin,
                      tuple(controls))


def _stack_slice_at(graph, index):
    """``[stack, slice]`` when TensorListStack `index` is read only by a StridedSlice that
    picks one element on axis 0 (a shrunk index, not masked), else None."""
    slice_index = graph.only_reader(index)
    if slice_index is None or graph.produces_fed(slice_index):
        return None
    sliced = graph.nodes[slice_index]
    stacked = graph.nodes[index].outputs[0]
    if (sliced.op_type != "StridedSlice" or len(sliced.inputs) != 4
            or not _same_key(sliced.inputs[0], stacked)
            or any(_same_key(key, stacked) for key in sliced.inputs[1:])):
        return None
    attrs = sliced.attrs
    if (attrs.get("shrink_axis_mask", 0) & 1 == 0
            or (attrs.get("begin_mask", 0) | attrs.get("ellipsis_mask", 0)
                | attrs.get("new_axis_mask", 0)) & 1):
        return None
    return [index, slice_index]


def _stack_slice_node(node_class, graph, chain):
    stack, sliced = graph.nodes[chain[0]], graph.nodes[chain[1]]
    name = graph.step.fresh_name(sliced.name)
    attrs = dict(sliced.attrs)
    attrs.update(element_dtype=stack.attrs["element_dtype"],
                 num_elements=stack.attrs.get("num_elements", -1), _name=name,
                 _rewritten_from=(stack.name, sliced.name), _rewrite_kind="fused")
    controls = list(stack.controls)
    controls.extend(c for c in sliced.controls if c not in controls)
    return node_class(STACK_SLICE, list(stack.inputs) + list(sliced.inputs[1:]),
                      list(sliced.outputs), attrs, name, sliced.origin, tuple(controls))


@register_pass("remapping")
def remap(nodes, step):
    """Replaces each contraction + BiasAdd (+ activation) chain of `nodes` with one fused node.

    Args:
      nodes: one device's `plan.Node`s, in execution order.
      step: the `optimizer.Step` (fed and fetched keys, fresh names).

    Returns:
      The new node list (the input list itself when nothing was rewritten).
    """
    from sessionlib.runtime.plan import Node

    graph = _Graph(nodes, step)
    replaced_at = {}
    dropped = set()
    for index, node in enumerate(nodes):
        if node.op_type == "TensorListStack":
            chain = _stack_slice_at(graph, index)
            if chain is not None:
                replaced_at[chain[-1]] = _stack_slice_node(Node, graph, chain)
                dropped.update(chain)
            continue
        if node.op_type not in _CONTRACTIONS:
            continue
        chain = _chain_at(graph, index)
        if chain is None:
            continue
        replaced_at[chain[-1]] = _fused_node(Node, graph, chain)
        dropped.update(chain)
    if not replaced_at:
        return nodes
    return [replaced_at[index] if index in replaced_at else node
            for index, node in enumerate(nodes) if index in replaced_at or index not in dropped]
