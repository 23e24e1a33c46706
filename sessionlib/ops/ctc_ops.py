"""Connectionist Temporal Classification (CTC, Graves et al. 2006) as in TF 1: the loss and the
greedy and beam-search decoders, ``tf.nn.ctc_loss``, ``tf.nn.ctc_greedy_decoder`` and
``tf.nn.ctc_beam_search_decoder``.

Ops (one registration each): ``CTCLoss``, whose second output is the gradient of the loss with
respect to the logits (computed in the same pass, and what the op's gradient scales, as TF's
``_CTCLossGrad``), ``CTCGreedyDecoder`` and ``CTCBeamSearchDecoder`` (not differentiable).
Logits are time-major ``[max_time, batch, num_classes]`` and the blank is the last class. The
kernels are bound by name in ``runtime/kernels/ctc_kernels.py``; this module imports none.
"""

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework import registry
from sessionlib.framework.sparse_tensor import SparseTensor
from sessionlib.framework.tensor_shape import TensorShape
from sessionlib.ops import _infer, array_ops, gradients, math_ops
from sessionlib.ops.nn import nn

__all__ = ["ctc_loss", "ctc_greedy_decoder", "ctc_beam_search_decoder"]

_CTC_DTYPES = (dtypes.float32, dtypes.float64)


def _time_major_shapes(op_type, inputs, sequence_length):
    """The checked logits shape with its batch dimension merged with `sequence_length`'s."""
    _infer.check_dtype(op_type, inputs, _CTC_DTYPES, "inputs")
    _infer.check_dtype(op_type, sequence_length, (dtypes.int32,), "sequence_length")
    logits_shape = inputs.shape.with_rank(3)
    lengths_shape = sequence_length.shape.with_rank(1)
    if logits_shape.rank is None:
        logits_shape = TensorShape([None, None, None])
    try:
        batch = TensorShape([logits_shape[1]]).merge_with(TensorShape([lengths_shape[0]]))
    except ValueError:
        raise ValueError(f"Dimensions must be equal, but are {logits_shape[1]} and "
                         f"{lengths_shape[0]} for '{op_type}' (the batch sizes of inputs "
                         "and sequence_length).") from None
    dims = logits_shape.as_list()
    return TensorShape([dims[0], batch[0], dims[2]]), batch


# ---- CTCLoss ---------------------------------------------------------------------------------

def _ctc_loss_infer(inputs, attrs):
    logits, labels_indices, labels_values, sequence_length = inputs
    logits_shape, batch = _time_major_shapes("CTCLoss", logits, sequence_length)
    _infer.check_dtype("CTCLoss", labels_indices, (dtypes.int64,), "labels_indices")
    _infer.check_dtype("CTCLoss", labels_values, (dtypes.int32,), "labels_values")
    rows = labels_indices.shape.with_rank(2)
    values = labels_values.shape.with_rank(1)
    if rows.rank is not None and values.rank is not None \
            and not TensorShape([rows[0]]).is_compatible_with(TensorShape([values[0]])):
        raise ValueError(f"Dimensions must be equal, but are {rows[0]} and {values[0]} for "
                         "'CTCLoss' (the rows of labels_indices and labels_values).")
    attrs["T"] = logits.dtype
    for name, default in (("preprocess_collapse_repeated", False),
                          ("ctc_merge_repeated", True),
                          ("ignore_longer_outputs_than_inputs", False)):
        attrs[name] = bool(attrs.get(name, default))
    return [(logits.dtype, batch), (logits.dtype, logits_shape)]


def _ctc_loss_grad(op, grad_loss, _):
    # The second output is the gradient of each loss with respect to the logits; the loss
    # gradient scales it per batch entry. Its own derivative is not computed, so, as in TF,
    # differentiating through it is an error instead of a silent zero.
    backprop = gradients.prevent_gradient(
        op.outputs[1], message="Currently there is no way to take the second  derivative of "
        "ctc_loss due to the fused implementation's interaction  with tf.gradients()")
    return [math_ops.multiply(array_ops.expand_dims(grad_loss, -1), backprop), None, None, None]


registry.register_op("CTCLoss", infer=_ctc_loss_infer, kernel="CTCLoss", num_inputs=4,
                     gradient=_ctc_loss_grad,
                     doc="The CTC loss per batch entry, and its gradient for the logits.")


# ---- the decoders ----------------------------------------------------------------------------

def _decoded_outputs(paths):
    """The (indices, values, shape) outputs of `paths` decoded SparseTensors, by kind."""
    return ([(dtypes.int64, TensorShape([None, 2]))] * paths
            + [(dtypes.int64, TensorShape([None]))] * paths
            + [(dtypes.int64, TensorShape([2]))] * paths)


def _greedy_decoder_infer(inputs, attrs):
    logits, sequence_length = inputs
    _, batch = _time_major_shapes("CTCGreedyDecoder", logits, sequence_length)
    attrs["T"] = logits.dtype
    attrs["merge_repeated"] = bool(attrs.get("merge_repeated", False))
    attrs["blank_index"] = int(attrs.get("blank_index", -1))
    return _decoded_outputs(1) + [(logits.dtype, TensorShape([batch[0], 1]))]


registry.register_op("CTCGreedyDecoder", infer=_greedy_decoder_infer,
                     kernel="CTCGreedyDecoder", num_inputs=2,
                     gradient=registry.NOT_DIFFERENTIABLE,
                     doc="Best-path CTC decoding: the likeliest class per step, collapsed.")


def _beam_search_decoder_infer(inputs, attrs):
    logits, sequence_length = inputs
    _, batch = _time_major_shapes("CTCBeamSearchDecoder", logits, sequence_length)
    attrs["T"] = logits.dtype
    attrs["merge_repeated"] = bool(attrs.get("merge_repeated", True))
    for name in ("beam_width", "top_paths"):
        value = int(attrs[name])
        if value < 1:
            raise ValueError(f"Attr '{name}' of 'CTCBeamSearchDecoder' Op passed {value} less "
                             "than minimum 1.")
        attrs[name] = value
    paths = attrs["top_paths"]
    return _decoded_outputs(paths) + [(logits.dtype, TensorShape([batch[0], paths]))]


registry.register_op("CTCBeamSearchDecoder", infer=_beam_search_decoder_infer,
                     kernel="CTCBeamSearchDecoder", num_inputs=2,
                     gradient=registry.NOT_DIFFERENTIABLE,
                     doc="Prefix beam-search CTC decoding: the top paths and their log "
                         "probabilities.")


# ---- the tf.nn functions ---------------------------------------------------------------------

def _graph_of(values):
    return math_ops._find_graph([v for v in values if v is not None])


def ctc_loss(labels, inputs=None, sequence_length=None, preprocess_collapse_repeated=False,
             ctc_merge_repeated=True, ignore_longer_outputs_than_inputs=False,
             time_major=True, logits=None):
    """The CTC loss of each batch entry (op ``CTCLoss``): ``-log p(labels | inputs)``.

    The softmax over the classes is part of the loss, so `inputs` are unscaled logits; class
    ``num_classes - 1`` is the blank.

    Args:
      labels: an int32 `SparseTensor`; ``labels.indices[i] == [b, t]`` means
        ``labels.values[i]`` is label ``t`` of batch entry ``b``. Values lie in
        ``[0, num_classes - 1)``.
      inputs: a float32 or float64 (float16 is computed in float32) Tensor of logits,
        ``[max_time, batch, num_classes]`` (or ``[batch, max_time, num_classes]`` when not
        `time_major`).
      sequence_length: an int32 vector ``[batch]`` of sequence lengths, each <= max_time.
      preprocess_collapse_repeated: if True, repeated labels are merged before the loss.
      ctc_merge_repeated: if False, a label is never held over consecutive steps, so repeated
        labels need no blank in between (a simplified, non-standard CTC).
      ignore_longer_outputs_than_inputs: if True, an entry with more labels than steps gets
        loss and gradient 0 instead of an error.
      time_major: the layout of `inputs` (see above).
      logits: TF's alias of `inputs`.

    Returns:
      A float Tensor ``[batch]`` of negative log probabilities.

    Raises:
      TypeError: if `labels` is not a `SparseTensor`, or for wrong dtypes.
      ValueError: for statically wrong shapes, or both `inputs` and `logits`.
      InvalidArgumentError: (at run time) for a label sequence longer than its sequence
        (without `ignore_longer_outputs_than_inputs`), a sequence length over max_time, or
        invalid labels.
    """
    if not isinstance(labels, SparseTensor):
        raise TypeError("Expected argument `labels` to be a SparseTensor. Received "
                        f"labels={labels} of type: {type(labels).__name__}")
    if inputs is not None and logits is not None:
        raise ValueError("Cannot specify both 'logits' and 'inputs'")
    inputs = logits if inputs is None else inputs
    graph = _graph_of((labels.values, inputs, sequence_length))
    with graph.as_default():
        inputs = graph_lib.convert_to_tensor(inputs, name="logits")
        if not time_major:
            inputs = array_ops.transpose(inputs, [1, 0, 2])
        original = inputs.dtype
        if original is dtypes.float16:
            inputs = math_ops.cast(inputs, dtypes.float32)
        sequence_length = graph_lib.convert_to_tensor(sequence_length, dtype=dtypes.int32)
        loss, _ = graph.create_op(
            "CTCLoss", [inputs, labels.indices, labels.values, sequence_length],
            {"preprocess_collapse_repeated": preprocess_collapse_repeated,
             "ctc_merge_repeated": ctc_merge_repeated,
             "ignore_longer_outputs_than_inputs": ignore_longer_outputs_than_inputs},
            name="CTCLoss").outputs
        if original is dtypes.float16:
            loss = math_ops.cast(loss, original)
        return loss


def _decode(op_type, inputs, sequence_length, attrs, paths):
    graph = _graph_of((inputs, sequence_length))
    with graph.as_default():
        inputs = graph_lib.convert_to_tensor(inputs, name="inputs")
        sequence_length = graph_lib.convert_to_tensor(sequence_length, dtype=dtypes.int32)
        outputs = graph.create_op(op_type, [inputs, sequence_length], attrs,
                                  name=op_type).outputs
    indices, values, shapes = (outputs[:paths], outputs[paths:2 * paths],
                               outputs[2 * paths:3 * paths])
    decoded = [SparseTensor(i, v, s) for i, v, s in zip(indices, values, shapes)]
    return decoded, outputs[-1]


def ctc_greedy_decoder(inputs, sequence_length, merge_repeated=True, blank_index=None):
    """Best-path decoding (op ``CTCGreedyDecoder``): the likeliest class of each step, with
    blanks removed and, if `merge_repeated`, consecutive repeats emitted once.

    Args:
      inputs: float32/float64 logits ``[max_time, batch, num_classes]``.
      sequence_length: an int32 vector ``[batch]``, each <= max_time.
      merge_repeated: whether a class repeated over consecutive steps is emitted once.
      blank_index: the blank class; default (None or -1) ``num_classes - 1``; negative values
        count from `num_classes`.

    Returns:
      ``([decoded], neg_sum_logits)``: `decoded` an int64 `SparseTensor` of shape
      ``[batch, max_decoded_length]``, `neg_sum_logits` ``[batch, 1]`` minus the sum of each
      step's largest logit.

    Raises:
      FailedPreconditionError: (at run time) for a sequence length over max_time.
    """
    attrs = {"merge_repeated": merge_repeated,
             "blank_index": -1 if blank_index is None else int(blank_index)}
    return _decode("CTCGreedyDecoder", inputs, sequence_length, attrs, 1)


def ctc_beam_search_decoder(inputs, sequence_length, beam_width=100, top_paths=1,
                            merge_repeated=True):
    """Prefix beam-search decoding (op ``CTCBeamSearchDecoder``), TF 1's signature.

    Blanks end a label (``a <blank> a`` is two labels, ``a a`` one), and, if `merge_repeated`,
    equal consecutive labels of a found path are also reported once, as TF does.

    Args:
      inputs: float32/float64 logits ``[max_time, batch, num_classes]``.
      sequence_length: an int32 vector ``[batch]``, each <= max_time.
      beam_width: the number of prefixes kept per step (>= 1).
      top_paths: the number of paths returned (1 <= top_paths <= beam_width).
      merge_repeated: whether equal consecutive labels of a path are reported once.

    Returns:
      ``(decoded, log_probabilities)``: `decoded` a list of `top_paths` int64 SparseTensors
      ``[batch, max_decoded_length]``, best first, and `log_probabilities` ``[batch,
      top_paths]``.

    Raises:
      ValueError: for `beam_width` or `top_paths` below 1.
      InvalidArgumentError: (at run time) for more paths than the beam width or than the
        search found.
    """
    attrs = {"beam_width": beam_width, "top_paths": top_paths,
             "merge_repeated": merge_repeated}
    return _decode("CTCBeamSearchDecoder", inputs, sequence_length, attrs, int(top_paths))


for _name in __all__:
    setattr(nn, _name, globals()[_name])
