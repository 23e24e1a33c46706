"""``tf.contrib.crf``: a linear-chain conditional random field (TF 1.15's contrib module).

A sequence of tags ``y`` over ``inputs`` (unary potentials ``[batch, time, num_tags]``) with
a ``[num_tags, num_tags]`` transition matrix ``A`` scores
``sum_t inputs[t, y_t] + sum_t A[y_t, y_{t+1}]`` over each row's first ``sequence_lengths``
steps. The log partition function is a forward recursion (log-sum-exp over the previous
tag) run by `dynamic_rnn`, and decoding is Viterbi: a forward `dynamic_rnn` of max-scores and
backpointers, then a backward one following the backpointers. Everything is built from
existing ops, so gradients come from theirs.

Rows of length 1 need no recursion; when the time axis is statically 1 the recursion is not
built at all (TF special-cases that shape the same way). Rows of length 0 score 0.
"""

import numpy as np

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.layers.rnn_cell_impl import RNNCell
from sessionlib.ops import array_ops, math_ops
from sessionlib.ops import variable_scope as vs
from sessionlib.ops.cond_v2 import cond
from sessionlib.ops.cumulative_ops import reduce_logsumexp
from sessionlib.ops.manipulation_ops import sequence_mask
from sessionlib.ops.rnn import _reverse_sequence, dynamic_rnn
from sessionlib.ops.scatter_gather_ops import gather_nd

__all__ = ["crf_sequence_score", "crf_unary_score", "crf_binary_score", "crf_log_norm",
           "crf_log_likelihood", "crf_decode", "viterbi_decode", "CrfForwardRnnCell",
           "CrfDecodeForwardRnnCell", "CrfDecodeBackwardRnnCell"]


def __getattr__(name):
    from sessionlib import contrib

    raise contrib.unsupported(f"crf.{name}")


def _single_step_cond(inputs, single_fn, multi_fn):
    """`single_fn()` when the time axis of `inputs` has length 1, else `multi_fn()`: chosen
    while building when the length is static, by a ``cond`` otherwise."""
    steps = inputs.shape[1] if inputs.shape.rank is not None else None
    if steps is not None:
        return single_fn() if steps == 1 else multi_fn()
    return cond(math_ops.equal(array_ops.shape(inputs)[1], 1), single_fn, multi_fn)


def _zero_where_empty(values, sequence_lengths):
    # A row of length 0 has no tags: its score and log-norm are 0, as in TF.
    return array_ops.where(math_ops.less_equal(sequence_lengths, 0),
                           array_ops.zeros_like(values), values)


def _first_step(inputs):
    return array_ops.squeeze(array_ops.slice(inputs, [0, 0, 0], [-1, 1, -1]), [1])


def _later_steps(inputs):
    return array_ops.slice(inputs, [0, 1, 0], [-1, -1, -1])


def _lengths_less_one(sequence_lengths):
    return math_ops.maximum(array_ops.zeros_like(sequence_lengths), sequence_lengths - 1)


def crf_sequence_score(inputs, tag_indices, sequence_lengths, transition_params):
    """The unnormalized score of each tag sequence: its unary plus its binary score.

    Args:
      inputs: ``[batch, max_time, num_tags]`` unary potentials.
      tag_indices: ``[batch, max_time]`` int32/int64 tags.
      sequence_lengths: ``[batch]`` lengths.
      transition_params: ``[num_tags, num_tags]`` transition scores.

    Returns:
      ``[batch]`` scores.
    """
    inputs = graph_lib.convert_to_tensor(inputs)
    tag_indices = graph_lib.convert_to_tensor(tag_indices)
    sequence_lengths = graph_lib.convert_to_tensor(sequence_lengths)

    def single_step():
        rows = array_ops.range(array_ops.shape(inputs)[0])
        rows = math_ops.cast(array_ops.expand_dims(rows, 1), tag_indices.dtype)
        scores = gather_nd(array_ops.squeeze(inputs, [1]),
                           array_ops.concat([rows, tag_indices[:, :1]], axis=1))
        return _zero_where_empty(scores, sequence_lengths)

    def multi_step():
        return (crf_unary_score(tag_indices, sequence_lengths, inputs)
                + crf_binary_score(tag_indices, sequence_lengths, transition_params))

    return _single_step_cond(inputs, single_step, multi_step)


def crf_unary_score(tag_indices, sequence_lengths, inputs):
    """The sum of each row's unary potentials at its tags, over its first
    ``sequence_lengths`` steps.

    Args:
      tag_indices: ``[batch, max_time]`` int32/int64 tags.
      sequence_lengths: ``[batch]`` lengths.
      inputs: ``[batch, max_time, num_tags]`` unary potentials.

    Returns:
      ``[batch]`` unary scores.
    """
    inputs = graph_lib.convert_to_tensor(inputs)
    tag_indices = graph_lib.convert_to_tensor(tag_indices)
    shape = array_ops.shape(inputs)
    batch, steps, num_tags = shape[0], shape[1], shape[2]
    # Offsets of each (row, step) in the flattened potentials, plus the tag.
    offsets = (array_ops.expand_dims(array_ops.range(batch) * steps * num_tags, 1)
               + array_ops.expand_dims(array_ops.range(steps) * num_tags, 0))
    flat_indices = math_ops.cast(offsets, tag_indices.dtype) + tag_indices
    scores = array_ops.gather(array_ops.reshape(inputs, [-1]),
                              array_ops.reshape(flat_indices, [-1]))
    scores = array_ops.reshape(scores, [batch, steps])
    masks = sequence_mask(sequence_lengths, maxlen=array_ops.shape(tag_indices)[1],
                          dtype=inputs.dtype)
    return math_ops.reduce_sum(scores * masks, 1)


def crf_binary_score(tag_indices, sequence_lengths, transition_params):
    """The sum of the transition scores between each row's consecutive tags within its
    length.

    Args:
      tag_indices: ``[batch, max_time]`` int32/int64 tags.
      sequence_lengths: ``[batch]`` lengths.
      transition_params: ``[num_tags, num_tags]`` transition scores.

    Returns:
      ``[batch]`` binary scores.
    """
    tag_indices = graph_lib.convert_to_tensor(tag_indices)
    transition_params = graph_lib.convert_to_tensor(transition_params)
    num_tags = array_ops.shape(transition_params)[0]
    transitions = array_ops.shape(tag_indices)[1] - 1
    starts = array_ops.slice(tag_indices, [0, 0], [-1, transitions])
    ends = array_ops.slice(tag_indices, [0, 1], [-1, transitions])
    flat_indices = starts * math_ops.cast(num_tags, tag_indices.dtype) + ends
    scores = array_ops.gather(array_ops.reshape(transition_params, [-1]), flat_indices)
    masks = sequence_mask(sequence_lengths, maxlen=array_ops.shape(tag_indices)[1],
                          dtype=transition_params.dtype)
    # The transition into step t counts when step t is within the length.
    return math_ops.reduce_sum(scores * array_ops.slice(masks, [0, 1], [-1, -1]), 1)


def crf_log_norm(inputs, sequence_lengths, transition_params):
    """The log partition function of each row: the log-sum-exp of the scores of all its tag
    sequences.

    Args:
      inputs: ``[batch, max_time, num_tags]`` unary potentials.
      sequence_lengths: ``[batch]`` lengths.
      transition_params: ``[num_tags, num_tags]`` transition scores.

    Returns:
      ``[batch]`` log-norms.
    """
    inputs = graph_lib.convert_to_tensor(inputs)
    sequence_lengths = graph_lib.convert_to_tensor(sequence_lengths)
    first = _first_step(inputs)

    def single_step():
        return _zero_where_empty(reduce_logsumexp(first, [1]), sequence_lengths)

    def multi_step():
        _, alphas = dynamic_rnn(CrfForwardRnnCell(transition_params), _later_steps(inputs),
                                sequence_length=_lengths_less_one(sequence_lengths),
                                initial_state=first, dtype=inputs.dtype)
        return _zero_where_empty(reduce_logsumexp(alphas, [1]), sequence_lengths)

    return _single_step_cond(inputs, single_step, multi_step)


def crf_log_likelihood(inputs, tag_indices, sequence_lengths, transition_params=None):
    """The log-likelihood of each row's tag sequence under the CRF.

    Args:
      inputs: ``[batch, max_time, num_tags]`` unary potentials.
      tag_indices: ``[batch, max_time]`` int32/int64 tags.
      sequence_lengths: ``[batch]`` lengths.
      transition_params: ``[num_tags, num_tags]`` transition scores; None creates them with
        ``get_variable("transitions", [num_tags, num_tags])`` in the current variable scope.

    Returns:
      ``(log_likelihood, transition_params)``: ``[batch]`` log-likelihoods and the
      transition matrix used.

    Raises:
      ValueError: if `transition_params` is None and the number of tags is not static.
    """
    inputs = graph_lib.convert_to_tensor(inputs)
    if transition_params is None:
        num_tags = inputs.shape[2] if inputs.shape.rank is not None else None
        if num_tags is None:
            raise ValueError("crf_log_likelihood needs a static number of tags (inputs' last "
                             "dimension) to create the transitions variable")
        transition_params = vs.get_variable("transitions", [num_tags, num_tags],
                                            dtype=inputs.dtype)
    scores = crf_sequence_score(inputs, tag_indices, sequence_lengths, transition_params)
    log_norm = crf_log_norm(inputs, sequence_lengths, transition_params)
    return scores - log_norm, transition_params


class _CrfCell(RNNCell):
    """A CRF recursion step: no variables, so it is called directly, outside the layer
    machinery (as TF's CRF cells override ``__call__``)."""

    def __init__(self, num_tags):
        super().__init__()
        self._num_tags = num_tags

    @property
    def state_size(self):
        return self._num_tags

    @property
    def output_size(self):
        return self._num_tags

    def __call__(self, inputs, state, scope=None):
        return self.call(inputs, state)


class _CrfTransitionCell(_CrfCell):
    """A CRF step over the transition matrix ``A`` (`transition_params`,
    ``[num_tags, num_tags]``)."""

    def __init__(self, transition_params):
        transition_params = graph_lib.convert_to_tensor(transition_params)
        num_tags = transition_params.shape[0] if transition_params.shape.rank else None
        super().__init__(num_tags)
        self._transition_params = array_ops.expand_dims(transition_params, 0)


class CrfForwardRnnCell(_CrfTransitionCell):
    """The forward recursion of the log partition function: from the log-sums ``alpha``
    ``[batch, num_tags]`` of the paths ending in each tag,
    ``alpha'[j] = inputs[j] + logsumexp_i(alpha[i] + A[i, j])``; output and state are both
    ``alpha'``.

    Args:
      transition_params: ``[num_tags, num_tags]`` transition scores.
    """

    def call(self, inputs, state):
        scores = array_ops.expand_dims(state, 2) + self._transition_params
        new_alphas = inputs + reduce_logsumexp(scores, [1])
        return new_alphas, new_alphas


class CrfDecodeForwardRnnCell(_CrfTransitionCell):
    """The forward Viterbi step: the new state is the best score of the paths ending in each
    tag, ``inputs[j] + max_i(state[i] + A[i, j])``; the output is the int32 backpointer
    ``argmax_i``.

    Args:
      transition_params: ``[num_tags, num_tags]`` transition scores.
    """

    def call(self, inputs, state):
        scores = array_ops.expand_dims(state, 2) + self._transition_params
        new_state = inputs + math_ops.reduce_max(scores, [1])
        backpointers = math_ops.cast(math_ops.argmax(scores, 1), dtypes.int32)
        return backpointers, new_state


class CrfDecodeBackwardRnnCell(_CrfCell):
    """The backward Viterbi step: from the current tag (state ``[batch, 1]`` int32), the
    previous tag is the backpointer at it; output and state are both that tag.

    Args:
      num_tags: the number of tags.
    """

    def __init__(self, num_tags):
        super().__init__(num_tags)

    @property
    def state_size(self):
        return 1

    @property
    def output_size(self):
        return 1

    def call(self, inputs, state):
        tags = array_ops.squeeze(state, [1])
        rows = array_ops.range(array_ops.shape(inputs)[0])
        new_tags = gather_nd(inputs, array_ops.stack([rows, tags], axis=1))
        new_tags = array_ops.expand_dims(new_tags, -1)
        return new_tags, new_tags


def crf_decode(potentials, transition_params, sequence_length):
    """The highest-scoring tag sequence of each row (Viterbi), in the graph.

    Args:
      potentials: ``[batch, max_time, num_tags]`` unary potentials.
      transition_params: ``[num_tags, num_tags]`` transition scores.
      sequence_length: ``[batch]`` lengths.

    Returns:
      ``(decode_tags, best_score)``: ``[batch, max_time]`` int32 tags (0 past each row's
      length) and ``[batch]`` scores of those sequences.
    """
    potentials = graph_lib.convert_to_tensor(potentials)
    sequence_length = math_ops.cast(graph_lib.convert_to_tensor(sequence_length),
                                    dtypes.int32)

    def single_step():
        squeezed = array_ops.squeeze(potentials, [1])
        tags = array_ops.expand_dims(math_ops.argmax(squeezed, axis=1), 1)
        return math_ops.cast(tags, dtypes.int32), math_ops.reduce_max(squeezed, axis=1)

    def multi_step():
        num_tags = potentials.shape[2] if potentials.shape.rank is not None else None
        lengths_less_one = _lengths_less_one(sequence_length)
        backpointers, last_score = dynamic_rnn(
            CrfDecodeForwardRnnCell(transition_params), _later_steps(potentials),
            sequence_length=lengths_less_one, initial_state=_first_step(potentials),
            dtype=dtypes.int32)
        # Walk the backpointers from each row's last step back to its first.
        backpointers = _reverse_sequence(backpointers, lengths_less_one, 1, 0)
        last_tag = math_ops.cast(math_ops.argmax(last_score, axis=1), dtypes.int32)
        last_tag = array_ops.expand_dims(last_tag, -1)
        earlier_tags, _ = dynamic_rnn(CrfDecodeBackwardRnnCell(num_tags), backpointers,
                                      sequence_length=lengths_less_one,
                                      initial_state=last_tag, dtype=dtypes.int32)
        tags = array_ops.concat([last_tag, array_ops.squeeze(earlier_tags, [2])], axis=1)
        tags = _reverse_sequence(tags, sequence_length, 1, 0)
        return tags, math_ops.reduce_max(last_score, axis=1)

    return _single_step_cond(potentials, single_step, multi_step)


def viterbi_decode(score, transition_params):
    """The highest-scoring tag sequence of one row, in numpy (outside the graph).

    Args:
      score: a ``[seq_len, num_tags]`` array of unary potentials.
      transition_params: a ``[num_tags, num_tags]`` array of transition scores.

    Returns:
      ``(viterbi, viterbi_score)``: a list of ``seq_len`` int tags and the sequence's score.

    Raises:
      ValueError: if the shapes do not fit.
    """
    score = np.asarray(score)
    transition_params = np.asarray(transition_params)
    if score.ndim != 2 or transition_params.shape != (score.shape[1],) * 2:
        raise ValueError(f"viterbi_decode needs score [seq_len, num_tags] and "
                         f"transition_params [num_tags, num_tags], got {score.shape} and "
                         f"{transition_params.shape}")
    trellis = np.zeros_like(score)
    backpointers = np.zeros(score.shape, dtype=np.int32)
    trellis[0] = score[0]
    for t in range(1, score.shape[0]):
        candidates = trellis[t - 1][:, None] + transition_params
        trellis[t] = score[t] + np.max(candidates, 0)
        backpointers[t] = np.argmax(candidates, 0)
    path = [int(np.argmax(trellis[-1]))]
    for pointers in backpointers[:0:-1]:
        path.append(int(pointers[path[-1]]))
    path.reverse()
    return path, np.max(trellis[-1])
