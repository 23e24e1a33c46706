"""Losses for models: the softmax and sigmoid cross-entropies, ``log_softmax`` and ``l2_loss``.

``softmax_cross_entropy_with_logits`` (v1 and v2) and ``sparse_softmax_cross_entropy_with_logits``
are TF's fused ops, with two outputs: the loss per example and its gradient with respect to the
logits (``backprop``), which the kernel computes in the same pass and the op's gradient reuses.
The sigmoid and weighted cross-entropies are composites written with TF's numerically stable
formulas, so logits of +-100 give finite losses. The kernels are bound by name in
``runtime/kernels/nn_model_kernels.py``; this module imports none.
"""

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework import registry
from sessionlib.framework.tensor_shape import TensorShape
from sessionlib.ops import _infer, array_ops, gradients, math_ops
from sessionlib.ops.nn import along_axis, nn

__all__ = ["softmax_cross_entropy_with_logits", "softmax_cross_entropy_with_logits_v2",
           "sparse_softmax_cross_entropy_with_logits", "sigmoid_cross_entropy_with_logits",
           "weighted_cross_entropy_with_logits", "log_softmax", "l2_loss"]

_FLOATS = dtypes.FLOAT_DTYPES


def _is_zeros(tensor):
    """True for the zeros `tf.gradients` fills in for an output that got no gradient: a
    ``ZerosLike``, or (a known shape's `zeros_like`) a constant of zeros, as TF's check."""
    if tensor is None or tensor.op.type in ("ZerosLike", "Zeros"):
        return True
    value = _infer.constant_of(tensor)
    return value is not None and not value.any()


def _broadcast_mul(vector, matrix):
    """``vector[:, None] * matrix``: a loss gradient per example times a row of the matrix."""
    return math_ops.multiply(array_ops.expand_dims(vector, -1), matrix)


def _softmax_jacobian_term(logits, grad_grad):
    # The backprop output is softmax(logits) - labels: its gradient with respect to the
    # logits is the softmax Jacobian applied to grad_grad. This is what makes second
    # derivatives of a cross-entropy loss work.
    softmax = graph_lib.get_default_graph().create_op("Softmax", [logits]).outputs[0]
    dot = math_ops.reduce_sum(math_ops.multiply(grad_grad, softmax), -1, keepdims=True)
    return math_ops.multiply(math_ops.subtract(grad_grad, dot), softmax)


# ---- SoftmaxCrossEntropyWithLogits ------------------------------------------------------

def _xent_infer(inputs, attrs):
    features, labels = inputs
    dtype = _infer.same_dtype("SoftmaxCrossEntropyWithLogits", inputs,
                              names=("features", "labels"))
    _infer.check_dtype("SoftmaxCrossEntropyWithLogits", features, _FLOATS, "features")
    attrs["T"] = dtype
    features.shape.with_rank(2)
    labels.shape.with_rank(2)
    shape = _infer.broadcast_shapes(features.shape, labels.shape,
                                    "SoftmaxCrossEntropyWithLogits")
    return [(dtype, TensorShape(shape.as_list()[:1] if shape.rank else None)), (dtype, shape)]


def _xent_grad(op, grad_loss, grad_grad):
    logits = op.inputs[0]
    grad = _broadcast_mul(grad_loss, op.outputs[1])
    labels_grad = _broadcast_mul(grad_loss, math_ops.negative(_log_softmax_op(logits)))
    if not _is_zeros(grad_grad):
        grad = math_ops.add(grad, _softmax_jacobian_term(logits, grad_grad))
        # backprop = softmax - labels: grad_grad reaches the labels negated.
        labels_grad = math_ops.subtract(labels_grad, grad_grad)
    return [grad, labels_grad]


registry.register_op("SoftmaxCrossEntropyWithLogits", infer=_xent_infer, num_inputs=2,
                     gradient=_xent_grad,
                     doc="Softmax cross-entropy per row, and its gradient (softmax - labels).")


def _flatten_outer(tensor):
    """`tensor` as a matrix [-1, last dimension]."""
    shape = tensor.shape
    if shape.rank == 2:
        return tensor
    if shape.rank is not None and shape[-1] is not None:
        return array_ops.reshape(tensor, [-1, shape[-1]])
    last = array_ops.shape(tensor)[-1:]
    return array_ops.reshape(tensor, array_ops.concat(
        [graph_lib.convert_to_tensor([-1], dtype=dtypes.int32), last], 0))


def _move_axis_last(tensor, axis):
    rank = tensor.shape.rank
    if rank is None:
        raise ValueError("softmax_cross_entropy_with_logits over an axis other than the last "
                         "needs a known rank")
    axis = _infer.normalize_axis(axis, rank, "SoftmaxCrossEntropyWithLogits")
    if axis == rank - 1:
        return tensor
    perm = list(range(rank))
    perm.append(perm.pop(axis))
    return array_ops.transpose(tensor, perm)


def _check_named(function, sentinel, labels, logits):
    if sentinel is not None:
        raise ValueError(f"Only call `{function}` with named arguments (labels=..., "
                         "logits=..., ...)")
    if labels is None or logits is None:
        raise ValueError("Both labels and logits must be provided.")


def softmax_cross_entropy_with_logits_v2(labels, logits, axis=None, name=None, dim=None):
    """The cross-entropy between `labels` and ``softmax(logits)`` along `axis`
    (op ``SoftmaxCrossEntropyWithLogits``); gradients flow into both.

    Args:
      labels: a probability distribution per row, of the logits' shape.
      logits: unscaled log probabilities, a floating Tensor.
      axis: the class dimension (default -1).
      name: the name of the loss.
      dim: TF 1's spelling of `axis`.

    Returns:
      A Tensor of the logits' dtype and shape without the class dimension.

    Raises:
      ValueError: for shapes that do not match, or both `axis` and `dim`.
    """
    if axis is not None and dim is not None:
        raise ValueError("Cannot specify both 'axis' and 'dim'")
    axis = -1 if axis is None and dim is None else (dim if axis is None else axis)
    graph = math_ops._find_graph((logits, labels))
    with graph.as_default(), graph.name_scope(name or "softmax_cross_entropy_with_logits") \
            as scope:
        logits = graph_lib.convert_to_tensor(logits, name="logits")
        labels = graph_lib.convert_to_tensor(labels, name="labels")
        original_dtype = logits.dtype
        if original_dtype is dtypes.float16:
            logits = math_ops.cast(logits, dtypes.float32)
        if labels.dtype is not logits.dtype:
            labels = math_ops.cast(labels, logits.dtype)
        shape = logits.shape
        if shape.rank == 0:
            raise ValueError(f"Logits cannot be scalars - received shape {shape}.")
        if not shape.is_compatible_with(labels.shape):
            raise ValueError(f"logits and labels must be broadcastable: logits_size="
                             f"{shape} labels_size={labels.shape}")
        logits = _move_axis_last(logits, axis)
        labels = _move_axis_last(labels, axis)
        moved_shape = logits.shape
        if moved_shape.rank == 2 and original_dtype is not dtypes.float16:
            return graph.create_op("SoftmaxCrossEntropyWithLogits", [logits, labels],
                                   name=scope).outputs[0]
        cost = graph.create_op("SoftmaxCrossEntropyWithLogits",
                               [_flatten_outer(logits), _flatten_outer(labels)]).outputs[0]
        if moved_shape.rank != 2:
            if moved_shape.rank is not None and moved_shape[:-1].is_fully_defined():
                out_shape = moved_shape.as_list()[:-1]
            else:
                out_shape = array_ops.shape(logits)[:-1]
            cost = array_ops.reshape(cost, out_shape)
            if moved_shape.rank is not None:
                cost.set_shape(moved_shape[:-1])
        if original_dtype is dtypes.float16:
            return math_ops.cast(cost, original_dtype, name=scope)
        return array_ops.identity(cost, name=scope)


def softmax_cross_entropy_with_logits(_sentinel=None, labels=None, logits=None, dim=-1,
                                      name=None, axis=None):
    """TF 1's softmax cross-entropy: as `softmax_cross_entropy_with_logits_v2`, but no
    gradient flows into `labels` (they pass a ``StopGradient``).

    Args:
      _sentinel: keeps the arguments named; must not be given.
      labels: a probability distribution per row.
      logits: unscaled log probabilities.
      dim: the class dimension (default -1).
      name: the name of the loss.
      axis: an alias of `dim`.

    Returns:
      The loss per row, of the logits' dtype.

    Raises:
      ValueError: for positional arguments, a missing argument or mismatched shapes.
    """
    _check_named("softmax_cross_entropy_with_logits", _sentinel, labels, logits)
    if axis is not None:
        dim = axis
    graph = math_ops._find_graph((logits, labels))
    with graph.as_default(), graph.name_scope(name or "softmax_cross_entropy_with_logits_sg") \
            as scope:
        labels = gradients.stop_gradient(labels, name="labels_stop_gradient")
        return softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits, axis=dim,
                                                    name=scope)


# ---- SparseSoftmaxCrossEntropyWithLogits ------------------------------------------------

def _sparse_xent_infer(inputs, attrs):
    features, labels = inputs
    _infer.check_dtype("SparseSoftmaxCrossEntropyWithLogits", features, _FLOATS, "features")
    _infer.check_index_dtype("SparseSoftmaxCrossEntropyWithLogits", labels, "labels")
    attrs["T"] = features.dtype
    attrs["Tlabels"] = labels.dtype
    shape = features.shape.with_rank(2)
    labels_shape = labels.shape.with_rank(1)
    batch = TensorShape(shape.as_list()[:1] if shape.rank else None).merge_with(
        labels_shape) if shape.rank is not None else labels_shape
    full = TensorShape([batch[0], shape[1] if shape.rank else None])
    return [(features.dtype, batch), (features.dtype, full)]


def _sparse_xent_grad(op, grad_loss, grad_grad):
    logits = op.inputs[0]
    grad = _broadcast_mul(grad_loss, op.outputs[1])
    if not _is_zeros(grad_grad):
        grad = math_ops.add(grad, _softmax_jacobian_term(logits, grad_grad))
    return [grad, None]


registry.register_op("SparseSoftmaxCrossEntropyWithLogits", infer=_sparse_xent_infer,
                     num_inputs=2, gradient=_sparse_xent_grad,
                     doc="Softmax cross-entropy per row against class indices, and its "
                         "gradient.")


def sparse_softmax_cross_entropy_with_logits(_sentinel=None, labels=None, logits=None,
                                             name=None):
    """The cross-entropy between class indices `labels` and ``softmax(logits)``
    (op ``SparseSoftmaxCrossEntropyWithLogits``).

    Args:
      _sentinel: keeps the arguments named; must not be given.
      labels: int32/int64 class indices in ``[0, num_classes)``, of the logits' shape
        without the last dimension.
      logits: unscaled log probabilities, ``[..., num_classes]``.
      name: the name of the loss.

    Returns:
      A Tensor of `labels`' shape and the logits' dtype. A label outside
      ``[0, num_classes)`` is an InvalidArgumentError when the graph runs.

    Raises:
      ValueError: for positional arguments, scalar logits, or mismatched ranks or shapes.
    """
    _check_named("sparse_softmax_cross_entropy_with_logits", _sentinel, labels, logits)
    graph = math_ops._find_graph((logits, labels))
    with graph.as_default(), graph.name_scope(
            name or "SparseSoftmaxCrossEntropyWithLogits") as scope:
        labels = graph_lib.convert_to_tensor(labels, name="labels")
        logits = graph_lib.convert_to_tensor(logits, name="logits")
        original_dtype = logits.dtype
        if original_dtype is dtypes.float16:
            logits = math_ops.cast(logits, dtypes.float32)
        labels_shape, logits_shape = labels.shape, logits.shape
        if logits_shape.rank == 0:
            raise ValueError(f"Logits cannot be scalars - received shape {logits_shape}.")
        if labels_shape.rank is not None and logits_shape.rank is not None:
            if labels_shape.rank != logits_shape.rank - 1:
                raise ValueError(f"Rank mismatch: Rank of labels (received "
                                 f"{labels_shape.rank}) should equal rank of logits minus 1 "
                                 f"(received {logits_shape.rank}).")
            if not labels_shape.is_compatible_with(logits_shape[:-1]):
                raise ValueError(f"Shape mismatch: The shape of labels (received "
                                 f"{labels_shape}) should equal the shape of logits except "
                                 f"for the last dimension (received {logits_shape}).")
        if logits_shape.rank == 2 and original_dtype is not dtypes.float16:
            return graph.create_op("SparseSoftmaxCrossEntropyWithLogits", [logits, labels],
                                   name=scope).outputs[0]
        flat_labels = array_ops.reshape(labels, [-1])
        cost = graph.create_op("SparseSoftmaxCrossEntropyWithLogits",
                               [_flatten_outer(logits), flat_labels]).outputs[0]
        if logits_shape.rank != 2:
            cost = array_ops.reshape(cost, array_ops.shape(labels))
            cost.set_shape(labels_shape)
        if original_dtype is dtypes.float16:
            return math_ops.cast(cost, original_dtype, name=scope)
        return array_ops.identity(cost, name=scope)


# ---- composites: sigmoid and weighted cross-entropy -------------------------------------

def _same_shape(logits, labels):
    if not logits.shape.is_compatible_with(labels.shape):
        raise ValueError(f"logits and labels must have the same shape ({logits.shape} vs "
                         f"{labels.shape})")


def sigmoid_cross_entropy_with_logits(_sentinel=None, labels=None, logits=None, name=None):
    """The logistic loss of `logits` against `labels`, elementwise:
    ``max(x, 0) - x * z + log(1 + exp(-abs(x)))`` (stable for large ``|x|``).

    Args:
      _sentinel: keeps the arguments named; must not be given.
      labels: a Tensor of the logits' dtype and shape, values in [0, 1].
      logits: a floating Tensor.
      name: the name of the loss.

    Returns:
      A Tensor of the logits' shape and dtype.

    Raises:
      ValueError: for positional arguments, a missing argument or different shapes.
    """
    _check_named("sigmoid_cross_entropy_with_logits", _sentinel, labels, logits)
    graph = math_ops._find_graph((logits, labels))
    with graph.as_default(), graph.name_scope(name or "logistic_loss") as scope:
        logits = graph_lib.convert_to_tensor(logits, name="logits")
        labels = graph_lib.convert_to_tensor(labels, dtype=logits.dtype, name="labels")
        _same_shape(logits, labels)
        zeros = array_ops.zeros_like(logits)
        cond = math_ops.greater_equal(logits, zeros)
        relu_logits = array_ops.where(cond, logits, zeros)
        neg_abs_logits = array_ops.where(cond, math_ops.negative(logits), logits)
        return math_ops.add(
            math_ops.subtract(relu_logits, math_ops.multiply(logits, labels)),
            math_ops.log1p(math_ops.exp(neg_abs_logits)), name=scope)


def weighted_cross_entropy_with_logits(labels=None, logits=None, pos_weight=None, name=None,
                                       targets=None):
    """The logistic loss with the positive term weighted by `pos_weight`:
    ``(1 - z) * x + (1 + (q - 1) * z) * (log(1 + exp(-abs(x))) + max(-x, 0))``.

    Args:
      labels: a Tensor of the logits' dtype and shape.
      logits: a floating Tensor.
      pos_weight: the weight of positive examples (a scalar or broadcastable Tensor).
      name: the name of the loss.
      targets: TF 1's name of `labels`.

    Returns:
      A Tensor of the logits' shape and dtype.

    Raises:
      ValueError: if both or neither of `labels` and `targets` are given, or shapes differ.
    """
    if labels is not None and targets is not None:
        raise ValueError("Cannot specify both 'labels' and 'targets'")
    labels = targets if labels is None else labels
    if labels is None or logits is None or pos_weight is None:
        raise ValueError("labels, logits and pos_weight must be provided.")
    graph = math_ops._find_graph((logits, labels, pos_weight))
    with graph.as_default(), graph.name_scope(name or "logistic_loss") as scope:
        logits = graph_lib.convert_to_tensor(logits, name="logits")
        labels = graph_lib.convert_to_tensor(labels, dtype=logits.dtype, name="labels")
        pos_weight = graph_lib.convert_to_tensor(pos_weight, dtype=logits.dtype,
                                                 name="pos_weight")
        _same_shape(logits, labels)
        one = graph_lib.convert_to_tensor(1, dtype=logits.dtype)
        log_weight = math_ops.add(one, math_ops.multiply(math_ops.subtract(pos_weight, one),
                                                         labels))
        softplus_neg = math_ops.add(
            math_ops.log1p(math_ops.exp(math_ops.negative(math_ops.abs(logits)))),
            nn.relu(math_ops.negative(logits)))
        return math_ops.add(math_ops.multiply(math_ops.subtract(one, labels), logits),
                            math_ops.multiply(log_weight, softplus_neg), name=scope)


# ---- LogSoftmax and L2Loss --------------------------------------------------------------

def _log_softmax_infer(inputs, attrs):
    logits = inputs[0]
    _infer.check_dtype("LogSoftmax", logits, _FLOATS, "logits")
    logits.shape.with_rank_at_least(1)
    attrs["T"] = logits.dtype
    return [(logits.dtype, logits.shape)]


def _log_softmax_grad(op, grad):
    softmax = math_ops.exp(op.outputs[0])
    return [math_ops.subtract(grad, math_ops.multiply(
        math_ops.reduce_sum(grad, -1, keepdims=True), softmax))]


registry.register_op("LogSoftmax", infer=_log_softmax_infer, num_inputs=1,
                     gradient=_log_softmax_grad,
                     doc="logits - log(sum(exp(logits))) along the last axis.")


def _log_softmax_op(logits, name=None):
    return logits.graph.create_op("LogSoftmax", [logits], name=name or "LogSoftmax").outputs[0]


def log_softmax(logits, axis=None, name=None, dim=None):
    """``logits - log(reduce_sum(exp(logits), axis))`` (op ``LogSoftmax``, on the last axis).

    Args:
      logits: a floating Tensor of rank >= 1.
      axis: the axis to normalize (default -1); another axis is moved last and back.
      name: the op name.
      dim: TF 1's spelling of `axis`.

    Returns:
      A Tensor of `logits`' dtype and shape.
    """
    return along_axis("LogSoftmax", logits, axis, name, dim)


def _l2_loss_infer(inputs, attrs):
    _infer.check_dtype("L2Loss", inputs[0], _FLOATS, "t")
    attrs["T"] = inputs[0].dtype
    return [(inputs[0].dtype, TensorShape([]))]


def _l2_loss_grad(op, grad):
    return [math_ops.multiply(op.inputs[0], grad)]


registry.register_op("L2Loss", infer=_l2_loss_infer, num_inputs=1, gradient=_l2_loss_grad,
                     doc="sum(t ** 2) / 2.")


def l2_loss(t, name=None):
    """Half the squared L2 norm of `t`: ``sum(t ** 2) / 2`` (op ``L2Loss``).

    Args:
      t: a floating Tensor.
      name: the op name.

    Returns:
      A scalar Tensor of `t`'s dtype.
    """
    return math_ops._make_op("L2Loss", (t,), ("t",), name).outputs[0]


for _name in __all__:
    setattr(nn, _name, globals()[_name])
