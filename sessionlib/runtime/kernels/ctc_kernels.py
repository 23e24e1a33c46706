"""Kernels of the CTC ops (``sessionlib/ops/ctc_ops.py``): the loss and the two decoders.

Design. These are reference kernels in numpy (each is also the fast one). Inputs are
time-major ``[max_time, batch, num_classes]`` logits and the blank is class
``num_classes - 1``, as in TF 1.

* ``CTCLoss`` runs the forward-backward recursions (Graves 2006) in log space over the label
  sequence with blanks interleaved, vectorized over its states, one sequence at a time. The
  loss is ``-log p(labels | inputs)`` and the gradient output is the gradient of that loss
  with respect to the logits: ``softmax - posterior`` of each class. It validates its inputs
  as TF's kernel does, with TF's messages: a label sequence that does not fit its sequence
  length is an error unless ``ignore_longer_outputs_than_inputs`` (then its loss and gradient
  are 0); one that no alignment can produce (repeats need a blank in between) gets an infinite
  loss and the softmax as its gradient.
* ``CTCGreedyDecoder`` takes the best class per step (the first on ties), drops blanks and,
  with ``merge_repeated``, repeats; its score is minus the sum of the maximal logits.
* ``CTCBeamSearchDecoder`` is TF's prefix beam search, followed step for step: a tree of
  prefixes, each with the log probabilities of ending in a blank or in its last label, a beam
  of at most ``beam_width`` leaves that evicts its worst leaf for a better new one (and
  clears it, which can keep an evicted prefix from growing, as in TF), and
  ``merge_repeated`` applied only when a path is read out (so prefix "a a" is reported as
  "a"), which is what TF does. Per prefix, only the labels that can enter the beam are
  visited (one numpy comparison), which keeps wide beams over many classes fast.

The computations run in float64 and the results are cast to the input type.
"""

import heapq
import math

import numpy as np

from sessionlib import errors
from sessionlib.runtime.kernel_table import register_kernel
from sessionlib.runtime.kernels.array_kernels import invalid_argument
from sessionlib.runtime.kernels.sparse_kernels import _check_bounds, _check_sorted_unique

_LOG_ZERO = -np.inf


def _log_softmax(logits):
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _format_list(values):
    return ",".join(str(int(v)) for v in values)


# ---- CTCLoss ---------------------------------------------------------------------------------

def _check_loss_shapes(inputs, labels_indices, labels_values, sequence_length):
    if inputs.ndim != 3:
        raise invalid_argument("inputs is not a 3-Tensor")
    if sequence_length.ndim != 1:
        raise invalid_argument("sequence_length is not a vector")
    if labels_indices.ndim != 2:
        raise invalid_argument("labels_indices is not a matrix")
    if labels_indices.shape[1] != 2:
        raise invalid_argument(f"labels_indices second dimension must be 2. Received "
                               f"{labels_indices.shape[1]}")
    if labels_values.ndim != 1:
        raise invalid_argument("labels_values is not a vector")
    max_time, batch_size, _ = inputs.shape
    if max_time == 0:
        raise invalid_argument("Max time or first dimension of input cannot be 0.")
    if batch_size != sequence_length.shape[0]:
        raise invalid_argument(f"len(sequence_length) != batch_size.  len(sequence_length):  "
                               f"{sequence_length.shape[0]} batch_size: {batch_size}")
    if labels_indices.shape[0] != labels_values.shape[0]:
        raise invalid_argument(
            "labels_indices and labels_values must contain the same number of rows, but got "
            f"shapes: [{labels_indices.shape[0]},2] vs. [{labels_values.shape[0]}]")
    if batch_size == 0:
        raise invalid_argument("batch_size must not be 0")


def _label_sequences(labels_indices, labels_values, batch_size):
    """The label sequence of each batch entry: its values in index order (the time
    column only orders them, as in TF)."""
    max_label_len = int(labels_indices[:, 1].max()) + 1 if len(labels_indices) else 0
    shape = (batch_size, max(max_label_len, 0))
    try:
        _check_bounds(labels_indices, shape)
        _check_sorted_unique(labels_indices, shape)
    except errors.InvalidArgumentError as error:
        raise invalid_argument(f"label SparseTensor is not valid: {error.message}") from None
    sequences = [[] for _ in range(batch_size)]
    for (batch, _), value in zip(labels_indices, labels_values):
        sequences[int(batch)].append(int(value))
    return sequences


def _extended_labels(batch, label, num_classes, collapse_repeated):
    """The labels that take part in the loss: repeats collapsed if asked, and a trailing run
    of blank-or-larger classes dropped (TF's end-of-sequence marker)."""
    if not label:
        raise invalid_argument(f"Labels length is zero in batch {batch}")
    kept = []
    finished = False
    for position, value in enumerate(label):
        if position > 0 and collapse_repeated and value == label[position - 1]:
            continue
        if value >= num_classes - 1:
            finished = True
        elif finished:
            raise invalid_argument(
                "Saw a non-null label (index >= num_classes - 1) following a null label, "
                f"batch: {batch} num_classes: {num_classes} labels: {_format_list(label)} "
                f"labels seen so far: {_format_list(kept)}")
        else:
            kept.append(value)
    if any(value < 0 for value in kept):
        raise invalid_argument(f"All labels must be nonnegative integers, batch: {batch} "
                               f"labels: {_format_list(kept)}")
    return kept


def _logaddexp(a, b):
    with np.errstate(invalid="ignore"):
        return np.logaddexp(a, b)


def _forward_backward(log_probs, label, blank, merge_repeated):
    """The log posterior of each class at each step, and ``log p(label)``.

    Args:
      log_probs: ``[time, num_classes]`` log softmax of one sequence.
      label: the labels (without blanks).
      blank: the blank class.
      merge_repeated: whether a label may repeat over consecutive steps (and so two equal
        labels need a blank between them).

    Returns:
      ``(log_posterior [time, num_classes], log_likelihood)``.
    """
    steps, num_classes = log_probs.shape
    states = np.full(2 * len(label) + 1, blank, dtype=np.int64)
    states[1::2] = label
    count = len(states)
    previous_two = np.concatenate([[-1, -1], states[:-2]])
    can_skip = (states != blank) & ~(merge_repeated & (states == previous_two))
    can_stay = np.full(count, merge_repeated) | (states == blank)
    emit = log_probs[:, states]

    log_alpha = np.full((steps, count), _LOG_ZERO)
    log_alpha[0, :min(2, count)] = emit[0, :min(2, count)]
    for t in range(1, steps):
        prev = log_alpha[t - 1]
        total = np.where(can_stay, prev, _LOG_ZERO)
        total[1:] = _logaddexp(total[1:], prev[:-1])
        total[2:] = _logaddexp(total[2:], np.where(can_skip[2:], prev[:-2], _LOG_ZERO))
        log_alpha[t] = total + emit[t]

    log_beta = np.full((steps, count), _LOG_ZERO)
    log_beta[steps - 1, max(0, count - 2):] = 0.0
    for t in range(steps - 2, -1, -1):
        after = log_beta[t + 1] + emit[t + 1]
        total = np.where(can_stay, after, _LOG_ZERO)
        total[:-1] = _logaddexp(total[:-1], after[1:])
        total[:-2] = _logaddexp(total[:-2], np.where(can_skip[2:], after[2:], _LOG_ZERO))
        log_beta[t] = total

    joint = log_alpha + log_beta
    log_likelihood = np.logaddexp.reduce(joint[0])
    log_posterior = np.full((steps, num_classes), _LOG_ZERO)
    for state in range(count):
        column = states[state]
        log_posterior[:, column] = _logaddexp(log_posterior[:, column], joint[:, state])
    return log_posterior, log_likelihood


def _ctc_loss_kernel(ctx, inputs_, attrs):
    inputs, labels_indices, labels_values, sequence_length = inputs_
    _check_loss_shapes(inputs, labels_indices, labels_values, sequence_length)
    max_time, batch_size, num_classes = inputs.shape
    for batch, length in enumerate(sequence_length):
        if length > max_time:
            raise invalid_argument(f"sequence_length({batch}) <= {max_time}")
    sequences = _label_sequences(labels_indices, labels_values, batch_size)
    for batch, length in enumerate(sequence_length):
        if length < 0:
            raise invalid_argument(f"seq_len({batch}) < 0")
    ignore_longer = attrs["ignore_longer_outputs_than_inputs"]
    blank = num_classes - 1
    extended = []
    for batch, label in enumerate(sequences):
        extended.append(_extended_labels(batch, label, num_classes,
                                         attrs["preprocess_collapse_repeated"]))
        length = int(sequence_length[batch])
        if not ignore_longer and len(label) > length:
            raise invalid_argument(
                "Not enough time for target transition sequence (required: "
                f"{len(label)}, available: {length}){batch}You can turn this error into a "
                "warning by using the flag ignore_longer_outputs_than_inputs")

    loss = np.zeros(batch_size, dtype=np.float64)
    gradient = np.zeros(inputs.shape, dtype=np.float64)
    for batch in range(batch_size):
        length = int(sequence_length[batch])
        if length == 0 or (ignore_longer and len(sequences[batch]) > length):
            continue  # TF's choice: such an entry contributes nothing.
        log_probs = _log_softmax(inputs[:length, batch].astype(np.float64))
        log_posterior, log_likelihood = _forward_backward(
            log_probs, extended[batch], blank, bool(attrs["ctc_merge_repeated"]))
        loss[batch] = -log_likelihood
        softmax = np.exp(log_probs)
        if log_likelihood == _LOG_ZERO:
            # No alignment produces the labels: TF's gradient is then the softmax alone.
            gradient[:length, batch] = softmax
        else:
            gradient[:length, batch] = softmax - np.exp(log_posterior - log_likelihood)
    return (loss.astype(inputs.dtype), gradient.astype(inputs.dtype))


# ---- the decoders ----------------------------------------------------------------------------

def _check_decoder_inputs(inputs, sequence_length):
    if inputs.ndim != 3:
        raise invalid_argument("inputs is not a 3-Tensor")
    max_time, batch_size, num_classes = inputs.shape
    if max_time == 0:
        raise invalid_argument("max_time is 0")
    if num_classes == 0:
        raise invalid_argument("Invalid input dimensions.")
    if sequence_length.ndim != 1:
        raise invalid_argument("sequence_length is not a vector")
    if batch_size != sequence_length.shape[0]:
        raise invalid_argument(f"len(sequence_length) != batch_size.  len(sequence_length):  "
                               f"{sequence_length.shape[0]} batch_size: {batch_size}")
    for batch, length in enumerate(sequence_length):
        if length > max_time:
            raise errors.FailedPreconditionError(
                None, None, f"sequence_length({batch}) <= {max_time}")


def _sparse_paths(paths, batch_size):
    """One path per batch entry as TF's decoded SparseTensor pieces (int64)."""
    lengths = [len(path) for path in paths]
    indices = np.array([[batch, step] for batch, length in enumerate(lengths)
                        for step in range(length)], dtype=np.int64).reshape(-1, 2)
    values = np.array([label for path in paths for label in path], dtype=np.int64)
    shape = np.array([batch_size, max(lengths, default=0)], dtype=np.int64)
    return indices, values, shape


def _greedy_decoder_kernel(ctx, inputs_, attrs):
    inputs, sequence_length = inputs_
    _check_decoder_inputs(inputs, sequence_length)
    _, batch_size, num_classes = inputs.shape
    blank = int(attrs.get("blank_index", -1))
    if blank < 0:
        blank += num_classes
    if not 0 <= blank < num_classes:
        raise invalid_argument(f"blank_index expected to be between {-num_classes} and "
                               f"{num_classes - 1} but was {attrs.get('blank_index', -1)}")
    merge = bool(attrs["merge_repeated"])
    paths = []
    scores = np.zeros((batch_size, 1), dtype=inputs.dtype)
    for batch in range(batch_size):
        length = max(int(sequence_length[batch]), 0)
        rows = inputs[:length, batch]
        best = rows.argmax(axis=-1) if length else np.zeros(0, np.int64)
        scores[batch, 0] = -rows.max(axis=-1).sum(dtype=inputs.dtype) if length else 0
        path = []
        previous = -1
        for label in best:
            label = int(label)
            if label != blank and not (merge and label == previous):
                path.append(label)
            previous = label
        paths.append(path)
    return _sparse_paths(paths, batch_size) + (scores,)


class _Prefix:
    """A node of the prefix tree: a label sequence and its log probabilities, at the step
    before (`old`) and at this step (`new`), each ``[total, ending in blank, ending in the
    last label]``."""

    __slots__ = ("parent", "label", "children", "old", "new")

    def __init__(self, parent, label):
        self.parent = parent
        self.label = label
        self.children = {}
        self.old = [_LOG_ZERO] * 3
        self.new = [_LOG_ZERO] * 3

    def child(self, label):
        node = self.children.get(label)
        if node is None:
            node = self.children[label] = _Prefix(self, label)
        return node

    def active(self):
        return self.new[0] != _LOG_ZERO

    def labels(self, merge_repeated):
        path = []
        previous = -1
        node = self
        while node.parent is not None:
            if not merge_repeated or node.label != previous:
                path.append(node.label)
            previous = node.label
            node = node.parent
        return path[::-1]


def _log_add(a, b):
    """``log(exp(a) + exp(b))`` of two Python floats (the beam's inner loop is scalar)."""
    if a == _LOG_ZERO:
        return b
    if b == _LOG_ZERO:
        return a
    if a < b:
        a, b = b, a
    return a + math.log1p(math.exp(b - a))


class _Beam:
    """The leaves of the search: at most `width` prefixes in a min-heap of their totals; a
    new one that beats the worst evicts it (whose probabilities are then cleared, as TF's
    beam does). A leaf's probabilities do not change while it is in the heap."""

    def __init__(self, width):
        self.width = width
        self.heap = []
        self.pushes = 0  # ties in the heap go by arrival

    def admits(self, total):
        return total > _LOG_ZERO and (len(self.heap) < self.width or total > self.heap[0][0])

    def push(self, node):
        entry = (node.new[0], self.pushes, node)
        self.pushes += 1
        if len(self.heap) < self.width:
            heapq.heappush(self.heap, entry)
        else:
            heapq.heapreplace(self.heap, entry)[2].new = [_LOG_ZERO] * 3

    def take_best_first(self):
        """The leaves, best first, leaving the beam empty."""
        entries = sorted(self.heap, key=lambda entry: (-entry[0], entry[1]))
        self.heap = []
        return [node for _, _, node in entries]


def _beam_step(beam, log_probs, blank):
    label_log_probs = log_probs[:blank]
    log_probs = log_probs.tolist()
    branches = beam.take_best_first()
    for node in branches:
        node.old = list(node.new)
    for node in branches:
        # Extend each prefix by a blank, or by its own last label again.
        total, _, label_prob = node.old
        parent = node.parent
        if parent is not None:
            if parent.active():
                previous = parent.old[1] if node.label == parent.label else parent.old[0]
                label_prob = _log_add(label_prob, previous)
            label_prob += log_probs[node.label]
        blank_prob = total + log_probs[blank]
        node.new = [_log_add(blank_prob, label_prob), blank_prob, label_prob]
        beam.push(node)
    for node in branches:
        # Extend each prefix by a new label; an equal label needs the blank in between.
        if not beam.admits(node.old[0]):
            continue
        extended = label_log_probs + node.old[0]
        if 0 <= node.label < blank:
            extended[node.label] = label_log_probs[node.label] + node.old[1]
        # The beam's bar only rises while it fills, so a label below it now stays out: only
        # the labels above it and the existing children need a visit, in label order. TF
        # clears a child that stays out and is not a leaf (then), its step-before
        # probabilities too: a prefix evicted earlier in this step extends no further.
        bar = beam.heap[0][0] if len(beam.heap) == beam.width else _LOG_ZERO
        passing = set(np.flatnonzero(extended > bar).tolist())
        for label in sorted(passing.union(node.children)):
            if label not in passing:
                child = node.children[label]
                if not child.active():
                    child.old = [_LOG_ZERO] * 3
                continue
            child = node.child(label)
            if child.active():
                continue  # already a leaf: its probability was updated above
            label_prob = float(extended[label])
            if beam.admits(label_prob):
                child.new = [label_prob, _LOG_ZERO, label_prob]
                beam.push(child)
            else:
                child.old = [_LOG_ZERO] * 3


def _beam_search_decoder_kernel(ctx, inputs_, attrs):
    inputs, sequence_length = inputs_
    _check_decoder_inputs(inputs, sequence_length)
    _, batch_size, num_classes = inputs.shape
    width, top_paths = int(attrs["beam_width"]), int(attrs["top_paths"])
    merge = bool(attrs["merge_repeated"])
    blank = num_classes - 1
    paths = [[] for _ in range(top_paths)]
    log_probabilities = np.zeros((batch_size, top_paths), dtype=inputs.dtype)
    for batch in range(batch_size):
        root = _Prefix(None, -1)
        root.new = [0.0, 0.0, _LOG_ZERO]
        beam = _Beam(width)
        beam.push(root)
        for step in range(max(int(sequence_length[batch]), 0)):
            _beam_step(beam, _log_softmax(inputs[step, batch].astype(np.float64)), blank)
        if top_paths > width:
            raise invalid_argument("requested more paths than the beam width.")
        leaves = beam.take_best_first()
        if top_paths > len(leaves):
            raise invalid_argument("Less leaves in the beam search than requested.")
        for rank, node in enumerate(leaves[:top_paths]):
            paths[rank].append(node.labels(merge))
            log_probabilities[batch, rank] = node.new[0]
    outputs = [_sparse_paths(path, batch_size) for path in paths]
    return ([indices for indices, _, _ in outputs] + [values for _, values, _ in outputs]
            + [shape for _, _, shape in outputs] + [log_probabilities])


register_kernel("CTCLoss", reference=_ctc_loss_kernel)
register_kernel("CTCGreedyDecoder", reference=_greedy_decoder_kernel)
register_kernel("CTCBeamSearchDecoder", reference=_beam_search_decoder_kernel)
