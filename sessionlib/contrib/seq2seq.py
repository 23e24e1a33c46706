"""``tf.contrib.seq2seq``: TF 1.15's decoders, helpers, attention and sequence loss.

Neural machine translation code of the TF 1 era builds its decoder from these pieces:

* `sequence_loss`: the weighted cross-entropy of ``[batch, time, classes]`` logits, averaged
  or summed over time and/or batch as the flags say;
* a `Helper` decides what the decoder reads at each step and when a row is done:
  `TrainingHelper` (teacher forcing from given inputs), `GreedyEmbeddingHelper` (the argmax
  of the last output, embedded), `SampleEmbeddingHelper` (a sample instead of the argmax),
  `ScheduledEmbeddingTrainingHelper` (sometimes the sample, sometimes the given input);
* `BasicDecoder` runs a cell (and an optional output layer) one step and asks the helper;
  `dynamic_decode` repeats the steps in one ``while_loop`` until every row is finished,
  writing each step's outputs to TensorArrays;
* `BahdanauAttention`, `LuongAttention` and `AttentionWrapper`: an RNN cell that attends over
  a memory after each step and feeds the attention into the next step's input;
* `BeamSearchDecoder` keeps the best `beam_width` hypotheses per row (scored with Wu et al.'s
  length penalty) and `gather_tree` traces the kept ids back through their parents.

The variables carry TF 1.15's names (``memory_layer/kernel``,
``attention_wrapper/bahdanau_attention/query_layer/kernel``, ``.../attention_v``,
``attention_wrapper/attention_layer/kernel``, ``decoder/<output layer>/kernel``), so TF 1
checkpoints of such models load by name.

TF's helpers pick between the next inputs and a placeholder with a ``cond`` once every row is
finished, because reading past the end of the input TensorArray would fail; the same
``cond`` is used here.
"""

import collections
import math

import numpy as np

from sessionlib import dtypes, errors
from sessionlib.framework import graph as graph_lib
from sessionlib.framework import tensor_util
from sessionlib.framework.tensor_shape import TensorShape
from sessionlib.layers import core as layers_core
from sessionlib.layers.rnn_cell_impl import RNNCell, _zero_state_tensors
from sessionlib.ops import _nest, array_ops, init_ops, math_ops
from sessionlib.ops import variable_scope as vs
from sessionlib.ops.cond_v2 import cond
from sessionlib.ops.manipulation_ops import sequence_mask
from sessionlib.ops.metrics_ops import div_no_nan
from sessionlib.ops.nn import nn
from sessionlib.ops.nn_loss_ops import sparse_softmax_cross_entropy_with_logits
from sessionlib.ops.nn_lookup_ops import embedding_lookup
from sessionlib.ops.rnn import _transpose_batch_time
from sessionlib.ops.sampling_ops import multinomial
from sessionlib.ops.tensor_array_ops import TensorArray
from sessionlib.ops.while_v2 import while_loop

__all__ = ["sequence_loss", "tile_batch", "Helper", "TrainingHelper", "GreedyEmbeddingHelper",
           "SampleEmbeddingHelper", "ScheduledEmbeddingTrainingHelper", "Decoder",
           "BasicDecoder", "BasicDecoderOutput", "dynamic_decode", "AttentionMechanism",
           "BahdanauAttention", "LuongAttention", "AttentionWrapper", "AttentionWrapperState",
           "hardmax", "BeamSearchDecoder", "BeamSearchDecoderOutput", "BeamSearchDecoderState",
           "FinalBeamSearchDecoderOutput", "gather_tree"]


def __getattr__(name):
    from sessionlib import contrib

    raise contrib.unsupported(f"seq2seq.{name}")


def _name_scope(name, default_name):
    return graph_lib.name_scope(name, default_name)


# ---- sequence_loss and tile_batch -----------------------------------------------------------

def sequence_loss(logits, targets, weights, average_across_timesteps=True,
                  average_across_batch=True, sum_over_timesteps=False, sum_over_batch=False,
                  softmax_loss_function=None, name=None):
    """The weighted cross-entropy of a batch of sequences (``tf.contrib.seq2seq.sequence_loss``).

    With both averages (the default) the result is ``sum(w * xent) / sum(w)``, a scalar; with
    both sums it is ``sum(w * xent) / count_nonzero(w)``. Averaging or summing over only one
    axis leaves the other: ``[batch]`` when time is reduced, ``[time]`` when the batch is; an
    "average" divides by the summed weights along that axis, a "sum" by the count of nonzero
    weights there. With no flag the result is ``w * xent``, ``[batch, time]``. Divisions by
    zero give zero.

    Args:
      logits: ``[batch, time, num_classes]`` float logits.
      targets: ``[batch, time]`` int class ids.
      weights: ``[batch, time]`` float weights (a 0/1 mask for padding, typically).
      average_across_timesteps, average_across_batch: average over that axis.
      sum_over_timesteps, sum_over_batch: sum over that axis (divided by the number of
        nonzero weights, as TF 1.15 does).
      softmax_loss_function: ``fn(labels=, logits=)`` on the flattened ``[N]`` labels and
        ``[N, num_classes]`` logits, in place of the sparse softmax cross-entropy.
      name: the name scope (default ``sequence_loss``).

    Returns:
      A float Tensor: a scalar, ``[batch]``, ``[time]`` or ``[batch, time]`` as above.

    Raises:
      ValueError: for logits not of rank 3, targets or weights not of rank 2, or an average
        and a sum asked over the same axis.
    """
    logits = graph_lib.convert_to_tensor(logits, name="logits")
    targets = graph_lib.convert_to_tensor(targets, name="targets")
    weights = graph_lib.convert_to_tensor(weights, name="weights")
    if logits.shape.rank != 3:
        raise ValueError("Logits must be a [batch_size x sequence_length x logits] tensor")
    if targets.shape.rank != 2:
        raise ValueError("Targets must be a [batch_size x sequence_length] tensor")
    if weights.shape.rank != 2:
        raise ValueError("Weights must be a [batch_size x sequence_length] tensor")
    if average_across_timesteps and sum_over_timesteps:
        raise ValueError("average_across_timesteps and sum_over_timesteps cannot be set to "
                         "True at same time.")
    if average_across_batch and sum_over_batch:
        raise ValueError("average_across_batch and sum_over_batch cannot be set to True at "
                         "same time.")
    with _name_scope(name, "sequence_loss"):
        num_classes = array_ops.shape(logits)[2]
        logits_flat = array_ops.reshape(logits, array_ops.stack([-1, num_classes]))
        targets_flat = array_ops.reshape(targets, [-1])
        if softmax_loss_function is None:
            crossent = sparse_softmax_cross_entropy_with_logits(labels=targets_flat,
                                                                logits=logits_flat)
        else:
            crossent = softmax_loss_function(labels=targets_flat, logits=logits_flat)
        crossent = math_ops.multiply(crossent, array_ops.reshape(weights, [-1]))

        def nonzero_count(axis=None):
            nonzero = math_ops.cast(math_ops.not_equal(weights, 0), crossent.dtype)
            return math_ops.reduce_sum(nonzero, axis=axis)

        if average_across_timesteps and average_across_batch:
            return div_no_nan(math_ops.reduce_sum(crossent), math_ops.reduce_sum(weights))
        if sum_over_timesteps and sum_over_batch:
            return div_no_nan(math_ops.reduce_sum(crossent), nonzero_count())
        crossent = array_ops.reshape(crossent, array_ops.shape(logits)[0:2])
        if average_across_timesteps or average_across_batch:
            axis = [0] if average_across_batch else [1]
            return div_no_nan(math_ops.reduce_sum(crossent, axis=axis),
                              math_ops.reduce_sum(weights, axis=axis))
        if sum_over_timesteps or sum_over_batch:
            axis = [0] if sum_over_batch else [1]
            return div_no_nan(math_ops.reduce_sum(crossent, axis=axis), nonzero_count(axis))
        return crossent


def _tile_one(tensor, multiplier):
    tensor = graph_lib.convert_to_tensor(tensor)
    if tensor.shape.rank is None:
        raise ValueError("t must have statically known rank")
    if tensor.shape.rank == 0:
        raise ValueError("t must have rank at least 1 to be tiled")
    rank = tensor.shape.rank
    tiled = array_ops.tile(array_ops.expand_dims(tensor, 1), [1, multiplier] + [1] * (rank - 1))
    shape = array_ops.shape(tensor)
    new_shape = array_ops.concat([array_ops.reshape(shape[0] * multiplier, [1]), shape[1:]],
                                 0)
    tiled = array_ops.reshape(tiled, new_shape)
    batch = tensor.shape.as_list()[0]
    tiled.set_shape(TensorShape([None if batch is None else batch * multiplier])
                    .concatenate(tensor.shape[1:]))
    return tiled


def tile_batch(t, multiplier, name=None):
    """Repeats each batch row `multiplier` times in place (``tf.contrib.seq2seq.tile_batch``).

    Row ``b`` of the result is row ``b // multiplier`` of the input, so ``[a, b]`` tiled 2
    times is ``[a, a, b, b]`` (what a beam search over the tiled rows expects).

    Args:
      t: a Tensor ``[batch, ...]`` or a nested structure of them.
      multiplier: a Python int.
      name: the name scope (default ``tile_batch``).

    Returns:
      The structure of `t`, each tensor ``[batch * multiplier, ...]``.

    Raises:
      ValueError: for a tensor of unknown rank or rank 0.
    """
    with _name_scope(name, "tile_batch"):
        return _nest.map_structure(lambda tensor: _tile_one(tensor, multiplier), t)


# ---- helpers --------------------------------------------------------------------------------

def _unstack_ta(inp):
    return TensorArray(inp.dtype.base_dtype, size=array_ops.shape(inp)[0],
                       element_shape=inp.shape[1:]).unstack(inp)


class Helper:
    """What a `BasicDecoder` reads at each step, and when a row is finished
    (``tf.contrib.seq2seq.Helper``)."""

    _batch_size = None

    @property
    def batch_size(self):
        """The batch size (a scalar int32 Tensor)."""
        if self._batch_size is None:
            raise NotImplementedError
        return self._batch_size

    @property
    def sample_ids_shape(self):
        """The shape of one row's sample ids (a TensorShape; scalar ids here)."""
        return TensorShape([])

    @property
    def sample_ids_dtype(self):
        """The dtype of the sample ids (int32 here)."""
        return dtypes.int32

    def initialize(self, name=None):
        """Returns ``(initial_finished, initial_inputs)``."""
        raise NotImplementedError

    def sample(self, time, outputs, state, name=None):
        """Returns the sample ids of this step's `outputs`."""
        raise NotImplementedError

    def next_inputs(self, time, outputs, state, sample_ids, name=None):
        """Returns ``(finished, next_inputs, next_state)``."""
        raise NotImplementedError


class TrainingHelper(Helper):
    """Teacher forcing: step t reads ``inputs[:, t]``; row b is finished after
    ``sequence_length[b]`` steps (``tf.contrib.seq2seq.TrainingHelper``).

    Args:
      inputs: ``[batch, time, ...]`` (``[time, batch, ...]`` if `time_major`), or a nested
        structure of them.
      sequence_length: an int vector ``[batch]``.
      time_major: whether `inputs` is time major.
      name: the name scope (default ``TrainingHelper``).

    Raises:
      ValueError: if `sequence_length` is not a vector.
    """

    def __init__(self, inputs, sequence_length, time_major=False, name=None):
        with _name_scope(name, "TrainingHelper"):
            inputs = _nest.map_structure(
                lambda inp: graph_lib.convert_to_tensor(inp, name="inputs"), inputs)
            if not time_major:
                inputs = _nest.map_structure(_transpose_batch_time, inputs)
            self._input_tas = _nest.map_structure(_unstack_ta, inputs)
            self._sequence_length = graph_lib.convert_to_tensor(sequence_length,
                                                                name="sequence_length")
            if self._sequence_length.shape.rank != 1:
                raise ValueError(f"Expected sequence_length to be a vector, but received "
                                 f"shape: {self._sequence_length.shape}")
            if self._sequence_length.dtype.base_dtype != dtypes.int32:
                self._sequence_length = math_ops.cast(self._sequence_length, dtypes.int32)
            self._zero_inputs = _nest.map_structure(
                lambda inp: array_ops.zeros_like(inp[0]), inputs)
            self._batch_size = array_ops.size(self._sequence_length)

    @property
    def inputs(self):
        return self._input_tas

    @property
    def sequence_length(self):
        return self._sequence_length

    def _read_or_zeros(self, finished, time):
        # Past the last step of every row there is nothing left to read: zeros instead.
        return cond(math_ops.reduce_all(finished), lambda: self._zero_inputs,
                    lambda: _nest.map_structure(lambda ta: ta.read(time), self._input_tas))

    def initialize(self, name=None):
        with _name_scope(name, "TrainingHelperInitialize"):
            finished = math_ops.equal(0, self._sequence_length)
            return finished, self._read_or_zeros(finished, 0)

    def sample(self, time, outputs, state, name=None):
        with _name_scope(name, "TrainingHelperSample"):
            return math_ops.argmax(outputs, axis=-1, output_type=dtypes.int32)

    def next_inputs(self, time, outputs, state, name=None, **unused_kwargs):
        with _name_scope(name, "TrainingHelperNextInputs"):
            next_time = time + 1
            finished = math_ops.greater_equal(next_time, self._sequence_length)
            return finished, self._read_or_zeros(finished, next_time), state


class ScheduledEmbeddingTrainingHelper(TrainingHelper):
    """Scheduled sampling (``tf.contrib.seq2seq.ScheduledEmbeddingTrainingHelper``): each
    row reads, with probability `sampling_probability`, the embedding of an id sampled from
    its last output, else the given input.

    Sample ids are -1 for rows that read the given input.

    Args:
      inputs, sequence_length, time_major: as for `TrainingHelper`.
      embedding: the embedding matrix, or a callable ``ids -> embedded``.
      sampling_probability: a float scalar (or ``[batch]`` vector) in [0, 1].
      seed, scheduling_seed: the seeds of the id sampler and of the coin.
      name: the name scope.

    Raises:
      ValueError: if `sampling_probability` is not a scalar or a vector.
    """

    def __init__(self, inputs, sequence_length, embedding, sampling_probability,
                 time_major=False, seed=None, scheduling_seed=None, name=None):
        self._embedding_fn = _embedding_fn(embedding)
        self._sampling_probability = graph_lib.convert_to_tensor(
            sampling_probability, name="sampling_probability")
        if self._sampling_probability.shape.rank not in (0, 1):
            raise ValueError(f"sampling_probability must be either a scalar or a vector. "
                             f"saw shape: {self._sampling_probability.shape}")
        self._seed = seed
        self._scheduling_seed = scheduling_seed
        super().__init__(inputs, sequence_length, time_major=time_major,
                         name=name or "ScheduledEmbeddingSamplingWrapper")

    def sample(self, time, outputs, state, name=None):
        from sessionlib.ops.random_ops import random_uniform

        with _name_scope(name, "ScheduledEmbeddingTrainingHelperSample"):
            coin = random_uniform(array_ops.reshape(self._batch_size, [1]),
                                  seed=self._scheduling_seed)
            select_sample = math_ops.less(coin, self._sampling_probability)
            sampled = math_ops.cast(
                array_ops.reshape(multinomial(outputs, 1, seed=self._seed), [-1]),
                dtypes.int32)
            return array_ops.where(select_sample, sampled,
                                   array_ops.fill(array_ops.reshape(self._batch_size, [1]), -1))

    def next_inputs(self, time, outputs, state, sample_ids, name=None):
        with _name_scope(name, "ScheduledEmbeddingTrainingHelperNextInputs"):
            finished, base_next_inputs, state = super().next_inputs(time, outputs, state)
            sampled = math_ops.greater(sample_ids, -1)
            # Embed every row's id (-1 clipped to 0) and choose per row; TF scatters only the
            # sampled rows, which gives the same values.
            embedded = self._embedding_fn(math_ops.maximum(sample_ids, 0))
            next_inputs = cond(math_ops.reduce_all(finished), lambda: base_next_inputs,
                               lambda: array_ops.where(sampled, embedded, base_next_inputs))
            return finished, next_inputs, state


def _embedding_fn(embedding):
    if callable(embedding):
        return embedding
    return lambda ids: embedding_lookup(embedding, ids)


class GreedyEmbeddingHelper(Helper):
    """Inference: each step reads the embedding of the argmax of the last output; a row is
    finished once it emits `end_token` (``tf.contrib.seq2seq.GreedyEmbeddingHelper``).

    Args:
      embedding: the embedding matrix ``[vocab, depth]``, or a callable ``ids -> embedded``.
      start_tokens: an int32 vector ``[batch]``, the first step's ids.
      end_token: an int32 scalar.

    Raises:
      ValueError: if `start_tokens` is not a vector or `end_token` not a scalar.
    """

    def __init__(self, embedding, start_tokens, end_token):
        self._embedding_fn = _embedding_fn(embedding)
        self._start_tokens = graph_lib.convert_to_tensor(start_tokens, dtype=dtypes.int32,
                                                         name="start_tokens")
        self._end_token = graph_lib.convert_to_tensor(end_token, dtype=dtypes.int32,
                                                      name="end_token")
        if self._start_tokens.shape.rank != 1:
            raise ValueError("start_tokens must be a vector")
        if self._end_token.shape.rank != 0:
            raise ValueError("end_token must be a scalar")
        self._batch_size = array_ops.size(self._start_tokens)
        self._start_inputs = self._embedding_fn(self._start_tokens)

    def initialize(self, name=None):
        finished = array_ops.tile([False], array_ops.reshape(self._batch_size, [1]))
        return finished, self._start_inputs

    def sample(self, time, outputs, state, name=None):
        if not isinstance(outputs, graph_lib.Tensor):
            raise TypeError(f"Expected outputs to be a single Tensor, got: {type(outputs)}")
        return math_ops.argmax(outputs, axis=-1, output_type=dtypes.int32)

    def next_inputs(self, time, outputs, state, sample_ids, name=None):
        finished = math_ops.equal(sample_ids, self._end_token)
        next_inputs = cond(math_ops.reduce_all(finished), lambda: self._start_inputs,
                           lambda: self._embedding_fn(sample_ids))
        return finished, next_inputs, state


class SampleEmbeddingHelper(GreedyEmbeddingHelper):
    """Like `GreedyEmbeddingHelper`, but the ids are sampled from the softmax of the outputs
    (divided by `softmax_temperature`) (``tf.contrib.seq2seq.SampleEmbeddingHelper``).

    Args:
      embedding, start_tokens, end_token: as for `GreedyEmbeddingHelper`.
      softmax_temperature: an optional float scalar; logits are divided by it.
      seed: the sampler's seed.
    """

    def __init__(self, embedding, start_tokens, end_token, softmax_temperature=None,
                 seed=None):
        super().__init__(embedding, start_tokens, end_token)
        self._softmax_temperature = softmax_temperature
        self._seed = seed

    def sample(self, time, outputs, state, name=None):
        if not isinstance(outputs, graph_lib.Tensor):
            raise TypeError(f"Expected outputs to be a single Tensor, got: {type(outputs)}")
        logits = outputs
        if self._softmax_temperature is not None:
            logits = math_ops.divide(logits, self._softmax_temperature)
        return math_ops.cast(array_ops.reshape(multinomial(logits, 1, seed=self._seed), [-1]),
                             dtypes.int32)


# ---- decoders -------------------------------------------------------------------------------

class Decoder:
    """A step function for `dynamic_decode` (``tf.contrib.seq2seq.Decoder``).

    A subclass gives `batch_size`, `output_size`, `output_dtype`, ``initialize()`` ->
    ``(finished, inputs, state)`` and ``step(time, inputs, state)`` -> ``(outputs,
    next_state, next_inputs, finished)``; it may give ``finalize(outputs, state, lengths)``.
    """

    @property
    def batch_size(self):
        raise NotImplementedError

    @property
    def output_size(self):
        raise NotImplementedError

    @property
    def output_dtype(self):
        raise NotImplementedError

    def initialize(self, name=None):
        raise NotImplementedError

    def step(self, time, inputs, state, name=None):
        raise NotImplementedError

    def finalize(self, outputs, final_state, sequence_lengths):
        raise NotImplementedError

    @property
    def tracks_own_finished(self):
        """Whether the decoder keeps finished rows finished itself (`dynamic_decode` ORs
        them with the previous finished flags otherwise)."""
        return False


class BasicDecoderOutput(collections.namedtuple("BasicDecoderOutput",
                                                ("rnn_output", "sample_id"))):
    """One step's (or, stacked, all steps') output of a `BasicDecoder`: the cell's (or
    output layer's) output and the helper's sample ids."""


class BasicDecoder(Decoder):
    """One step: the cell, then `output_layer`, then the helper's sample and next inputs
    (``tf.contrib.seq2seq.BasicDecoder``).

    Args:
      cell: an ``RNNCell``.
      helper: a `Helper`.
      initial_state: the cell's first state.
      output_layer: an optional ``tf.layers.Dense`` (or other layer) applied to the cell's
        output, such as the projection to the vocabulary.

    Raises:
      TypeError: if `cell` is not an RNN cell, `helper` not a `Helper`, or `output_layer`
        not a layer.
    """

    def __init__(self, cell, helper, initial_state, output_layer=None):
        from sessionlib.ops.rnn import assert_like_rnncell
        from sessionlib.layers import base as layers_base

        assert_like_rnncell("cell", cell)
        if not isinstance(helper, Helper):
            raise TypeError(f"helper must be a Helper, received: {type(helper)}")
        if output_layer is not None and not isinstance(output_layer, layers_base.Layer):
            raise TypeError(f"output_layer must be a Layer, received: {type(output_layer)}")
        self._cell = cell
        self._helper = helper
        self._initial_state = initial_state
        self._output_layer = output_layer

    @property
    def batch_size(self):
        return self._helper.batch_size

    def _rnn_output_size(self):
        size = self._cell.output_size
        if self._output_layer is None:
            return size
        # The layer's output shape for a batch of the cell's outputs, less the batch axis.
        output_shape = _nest.map_structure(
            lambda s: self._output_layer.compute_output_shape(
                TensorShape([None]).concatenate(TensorShape(s))), size)
        return _nest.map_structure(lambda s: s[1:], output_shape)

    @property
    def output_size(self):
        return BasicDecoderOutput(rnn_output=self._rnn_output_size(),
                                  sample_id=self._helper.sample_ids_shape)

    @property
    def output_dtype(self):
        dtype = _nest.flatten(self._initial_state)[0].dtype
        return BasicDecoderOutput(
            _nest.map_structure(lambda _: dtype, self._rnn_output_size()),
            self._helper.sample_ids_dtype)

    def initialize(self, name=None):
        return self._helper.initialize() + (self._initial_state,)

    def step(self, time, inputs, state, name=None):
        with _name_scope(name, "BasicDecoderStep"):
            cell_outputs, cell_state = self._cell(inputs, state)
            if self._output_layer is not None:
                cell_outputs = self._output_layer(cell_outputs)
            sample_ids = self._helper.sample(time=time, outputs=cell_outputs, state=cell_state)
            finished, next_inputs, next_state = self._helper.next_inputs(
                time=time, outputs=cell_outputs, state=cell_state, sample_ids=sample_ids)
        return (BasicDecoderOutput(cell_outputs, sample_ids), next_state, next_inputs,
                finished)


def _batch_shape(batch_size, from_shape):
    # [batch] + from_shape, the batch static where it is known.
    if not isinstance(from_shape, TensorShape) and not isinstance(from_shape, (int, list)):
        return TensorShape(None)
    from_shape = TensorShape(from_shape)
    if from_shape.rank is None:
        return TensorShape(None)
    static = batch_size
    if isinstance(batch_size, graph_lib.Tensor):
        static = tensor_util.constant_value(batch_size)
        static = None if static is None else int(static)
    return TensorShape([static]).concatenate(from_shape)


def _zero_outputs(size, dtype, batch_size):
    def zeros(s, d):
        shape = array_ops.concat([array_ops.reshape(batch_size, [1]),
                                  array_ops.constant(TensorShape(s).as_list(),
                                                     dtype=dtypes.int32)], 0)
        return array_ops.zeros(shape, dtype=d)

    return _nest.map_structure(zeros, size, dtype)


def dynamic_decode(decoder, output_time_major=False, impute_finished=False,
                   maximum_iterations=None, parallel_iterations=32, swap_memory=False,
                   scope=None, **kwargs):
    """Runs `decoder` step by step in one ``while_loop`` until every row is finished or
    `maximum_iterations` steps are done (``tf.contrib.seq2seq.dynamic_decode``).

    Args:
      decoder: a `Decoder`.
      output_time_major: return ``[time, batch, ...]`` outputs (default batch major).
      impute_finished: zero the outputs of finished rows and carry their state through, so
        the final state is each row's state at its end.
      maximum_iterations: an optional int32 scalar bound on the steps.
      parallel_iterations, swap_memory: passed to the ``while_loop``.
      scope: the variable scope (default ``decoder``).
      **kwargs: accepted for TF compatibility.

    Returns:
      ``(final_outputs, final_state, final_sequence_lengths)``: the outputs in the structure
      of ``decoder.output_size``, the last state, and each row's number of steps (int32).

    Raises:
      TypeError: if `decoder` is not a `Decoder`.
      ValueError: if `maximum_iterations` is not a scalar.
    """
    del kwargs
    if not isinstance(decoder, Decoder):
        raise TypeError(f"Expected decoder to be type Decoder, but saw: {type(decoder)}")
    with vs.variable_scope(scope, "decoder"):
        if maximum_iterations is not None:
            maximum_iterations = graph_lib.convert_to_tensor(
                maximum_iterations, dtype=dtypes.int32, name="maximum_iterations")
            if maximum_iterations.shape.rank != 0:
                raise ValueError("maximum_iterations must be a scalar")
        initial_finished, initial_inputs, initial_state = decoder.initialize()
        zero_outputs = _zero_outputs(decoder.output_size, decoder.output_dtype,
                                     decoder.batch_size)
        if maximum_iterations is not None:
            initial_finished = math_ops.logical_or(
                initial_finished, math_ops.greater_equal(0, maximum_iterations))
        initial_sequence_lengths = array_ops.zeros_like(initial_finished, dtype=dtypes.int32)
        initial_time = array_ops.constant(0, dtype=dtypes.int32)
        initial_outputs_ta = _nest.map_structure(
            lambda size, dtype: TensorArray(dtype, size=0, dynamic_size=True,
                                            element_shape=_batch_shape(decoder.batch_size,
                                                                       size)),
            decoder.output_size, decoder.output_dtype)

        def condition(time, outputs_ta, state, inputs, finished, sequence_lengths):
            return math_ops.logical_not(math_ops.reduce_all(finished))

        def body(time, outputs_ta, state, inputs, finished, sequence_lengths):
            next_outputs, decoder_state, next_inputs, decoder_finished = decoder.step(
                time, inputs, state)
            if decoder.tracks_own_finished:
                next_finished = decoder_finished
            else:
                next_finished = math_ops.logical_or(decoder_finished, finished)
            # A row's length is the step at which it first reported finished, plus one. For
            # a beam search that is per beam slot, not per (reordered) hypothesis: TF 1.15's
            # hypothesis lengths are in the final state's ``lengths``.
            next_sequence_lengths = array_ops.where(
                math_ops.logical_not(finished),
                array_ops.fill(array_ops.shape(sequence_lengths), time + 1),
                sequence_lengths)
            _nest.assert_same_structure(state, decoder_state)
            _nest.assert_same_structure(outputs_ta, next_outputs)
            _nest.assert_same_structure(inputs, next_inputs)
            if impute_finished:
                emit = _nest.map_structure(
                    lambda out, zero: array_ops.where(finished, zero, out),
                    next_outputs, zero_outputs)

                def maybe_copy_state(new, current):
                    # TensorArrays (alignment histories) and scalars (the step counter)
                    # pass through: neither has a row per batch entry.
                    if isinstance(current, TensorArray):
                        return new
                    new.set_shape(current.shape)
                    if new.shape.rank == 0:
                        return new
                    return array_ops.where(finished, current, new)

                next_state = _nest.map_structure(maybe_copy_state, decoder_state, state)
            else:
                emit = next_outputs
                next_state = decoder_state
            outputs_ta = _nest.map_structure(lambda ta, out: ta.write(time, out),
                                             outputs_ta, emit)
            return (time + 1, outputs_ta, next_state, next_inputs, next_finished,
                    next_sequence_lengths)

        results = while_loop(
            condition, body,
            loop_vars=(initial_time, initial_outputs_ta, initial_state, initial_inputs,
                       initial_finished, initial_sequence_lengths),
            parallel_iterations=parallel_iterations, maximum_iterations=maximum_iterations,
            swap_memory=swap_memory)
        final_outputs_ta, final_state, final_sequence_lengths = (results[1], results[2],
                                                                 results[5])
        final_outputs = _nest.map_structure(lambda ta: ta.stack(), final_outputs_ta)
        try:
            final_outputs, final_state = decoder.finalize(final_outputs, final_state,
                                                          final_sequence_lengths)
        except NotImplementedError:
            pass
        if not output_time_major:
            final_outputs = _nest.map_structure(_transpose_batch_time, final_outputs)
    return final_outputs, final_state, final_sequence_lengths


# ---- attention ------------------------------------------------------------------------------

class AttentionMechanism:
    """The base of the attention mechanisms (``tf.contrib.seq2seq.AttentionMechanism``)."""

    @property
    def alignments_size(self):
        raise NotImplementedError

    @property
    def state_size(self):
        raise NotImplementedError


def hardmax(logits, name=None):
    """A one-hot of the argmax along the last axis (``tf.contrib.seq2seq.hardmax``).

    Args:
      logits: a float Tensor.
      name: the name scope.

    Returns:
      A Tensor like `logits`, 1 at each row's largest entry and 0 elsewhere.
    """
    from sessionlib.ops.manipulation_ops import one_hot

    with _name_scope(name, "Hardmax"):
        logits = graph_lib.convert_to_tensor(logits, name="logits")
        depth = logits.shape.as_list()[-1]
        if depth is None:
            depth = array_ops.shape(logits)[-1]
        return one_hot(math_ops.argmax(logits, -1), depth, dtype=logits.dtype)


def _prepare_memory(memory, memory_sequence_length, check_inner_dims_defined):
    # The memory with the steps past each row's length zeroed.
    memory = _nest.map_structure(lambda m: graph_lib.convert_to_tensor(m, name="memory"),
                                 memory)
    if memory_sequence_length is not None:
        memory_sequence_length = graph_lib.convert_to_tensor(memory_sequence_length,
                                                             name="memory_sequence_length")
    if check_inner_dims_defined:
        for m in _nest.flatten(memory):
            if m.shape.rank is None or any(d is None for d in m.shape.as_list()[2:]):
                raise ValueError(f"Expected memory {m.name} to have fully defined inner "
                                 f"dims, but saw shape: {m.shape}")
    if memory_sequence_length is None:
        return memory

    def mask(m):
        rank = m.shape.rank
        seq_mask = sequence_mask(memory_sequence_length, maxlen=array_ops.shape(m)[1],
                                 dtype=m.dtype)
        seq_mask = array_ops.reshape(seq_mask, array_ops.concat(
            [array_ops.shape(seq_mask), array_ops.ones([rank - 2], dtypes.int32)], 0))
        return math_ops.multiply(m, seq_mask)

    return _nest.map_structure(mask, memory)


def _mask_score(score, memory_sequence_length, score_mask_value):
    if memory_sequence_length is None:
        return score
    if score_mask_value is None:
        raise ValueError("score_mask_value cannot be None when memory_sequence_length is set")
    score_mask = sequence_mask(memory_sequence_length, maxlen=array_ops.shape(score)[1])
    fill = math_ops.multiply(array_ops.ones_like(score), score_mask_value)
    return array_ops.where(score_mask, score, fill)


class _BaseAttentionMechanism(AttentionMechanism):
    """Keys and values from the memory, the masked probability function, and the call.

    The values are the memory (zeroed past `memory_sequence_length`); the keys are the values
    through ``memory_layer`` (a bias-free ``Dense``), applied at construction in the caller's
    variable scope, as TF does. A subclass gives ``_score(query)`` -> ``[batch, max_time]``,
    run in the variable scope named by ``_scope_name``.
    """

    _scope_name = None

    def __init__(self, num_units, memory, memory_sequence_length, probability_fn,
                 score_mask_value, dtype, custom_key_value_fn, name, with_query_layer):
        if custom_key_value_fn is not None:
            raise ValueError("custom_key_value_fn is not supported")
        if probability_fn is None:
            probability_fn = nn.softmax
        if not callable(probability_fn):
            raise TypeError(f"probability_fn must be callable, saw type: "
                            f"{type(probability_fn).__name__}")
        if score_mask_value is None:
            score_mask_value = -np.inf
        memory = _nest.map_structure(lambda m: graph_lib.convert_to_tensor(m, name="memory"),
                                     memory)
        self.dtype = dtype or _nest.flatten(memory)[0].dtype.base_dtype
        self._num_units = num_units
        self._name = name
        self._query_layer = (layers_core.Dense(num_units, name="query_layer", use_bias=False,
                                               dtype=self.dtype)
                             if with_query_layer else None)
        self._memory_layer = layers_core.Dense(num_units, name="memory_layer", use_bias=False,
                                               dtype=self.dtype)
        self._memory_sequence_length = memory_sequence_length
        self._probability_fn = lambda score: probability_fn(
            _mask_score(score, self._memory_sequence_length, score_mask_value))
        with _name_scope(name, "BaseAttentionMechanismInit"):
            self._values = _prepare_memory(memory, memory_sequence_length, True)
            if memory_sequence_length is not None:
                self._memory_sequence_length = graph_lib.convert_to_tensor(
                    memory_sequence_length)
            self._keys = self._memory_layer(self._values)
            static_batch, static_time = self._keys.shape.as_list()[:2]
            self._batch_size = static_batch or array_ops.shape(self._keys)[0]
            self._alignments_size = static_time or array_ops.shape(self._keys)[1]

    @property
    def memory_layer(self):
        return self._memory_layer

    @property
    def query_layer(self):
        return self._query_layer

    @property
    def values(self):
        return self._values

    @property
    def keys(self):
        return self._keys

    @property
    def batch_size(self):
        return self._batch_size

    @property
    def alignments_size(self):
        return self._alignments_size

    @property
    def state_size(self):
        return self._alignments_size

    def initial_alignments(self, batch_size, dtype):
        """Zeros ``[batch_size, max_time]``: the alignments before the first step."""
        if not isinstance(self._alignments_size, graph_lib.Tensor):
            return _zero_state_tensors(self._alignments_size, batch_size, dtype)
        # A memory of dynamic length: the shape is built from both tensors.
        shape = array_ops.stack([graph_lib.convert_to_tensor(batch_size, dtype=dtypes.int32),
                                 self._alignments_size])
        return array_ops.zeros(shape, dtype=dtype)

    def initial_state(self, batch_size, dtype):
        """The first attention state (the initial alignments)."""
        return self.initial_alignments(batch_size, dtype)

    def __call__(self, query, state):
        """The alignments of `query` over the memory.

        Args:
          query: ``[batch, query_depth]`` (the cell's output).
          state: the previous alignments ``[batch, max_time]`` (unused by these mechanisms).

        Returns:
          ``(alignments, next_state)``, both ``[batch, max_time]``.

        Raises:
          ValueError: for a Luong query whose depth is not `num_units`.
        """
        del state
        with vs.variable_scope(None, self._scope_name):
            score = self._score(query)
        alignments = self._probability_fn(score)
        return alignments, alignments


class LuongAttention(_BaseAttentionMechanism):
    """Multiplicative attention (Luong et al. 2015): ``score = g * query . key``
    (``tf.contrib.seq2seq.LuongAttention``).

    The keys are the memory through ``memory_layer`` (``[depth, num_units]``, no bias); the
    query (the cell's output) must have `num_units` entries. With `scale` a scalar
    ``luong_attention/attention_g`` (initially 1) multiplies the score.

    Args:
      num_units: the key depth.
      memory: ``[batch, max_time, depth]``.
      memory_sequence_length: optional ``[batch]`` lengths; later steps get no attention.
      scale: learn the score's scale.
      probability_fn: ``scores -> probabilities`` (default softmax).
      score_mask_value: the score of masked steps (default -inf).
      dtype: the layers' dtype (default the memory's).
      custom_key_value_fn: unsupported here (must be None).
      name: the name scope.
    """

    _scope_name = "luong_attention"

    def __init__(self, num_units, memory, memory_sequence_length=None, scale=False,
                 probability_fn=None, score_mask_value=None, dtype=None,
                 custom_key_value_fn=None, name="LuongAttention"):
        super().__init__(num_units, memory, memory_sequence_length, probability_fn,
                         score_mask_value, dtype, custom_key_value_fn, name,
                         with_query_layer=False)
        self._scale = scale

    def _score(self, query):
        depth = query.shape.as_list()[-1]
        key_units = self._keys.shape.as_list()[-1]
        if depth != key_units:
            raise ValueError(f"Incompatible or unknown inner dimensions between query and "
                             f"keys. Query ({query.name}) has units: {depth}. Keys "
                             f"({self._keys.name}) have units: {key_units}. Perhaps you "
                             "need to set num_units to the keys' dimension?")
        # [batch, 1, depth] x [batch, time, depth]^T -> [batch, time]
        score = array_ops.squeeze(
            math_ops.matmul(array_ops.expand_dims(query, 1), self._keys, transpose_b=True),
            [1])
        if self._scale:
            gain = vs.get_variable("attention_g", dtype=query.dtype, shape=(),
                                   initializer=init_ops.ones_initializer())
            score = math_ops.multiply(gain, score)
        return score


class BahdanauAttention(_BaseAttentionMechanism):
    """Additive attention (Bahdanau et al. 2015):
    ``score = v . tanh(keys + query_layer(query))`` (``tf.contrib.seq2seq.BahdanauAttention``).

    With `normalize` (weight normalization, Salimans & Kingma 2016) ``v`` becomes
    ``g * v / |v|`` and a bias ``b`` is added inside the tanh. Variables, under the
    wrapper's scope: ``bahdanau_attention/query_layer/kernel``,
    ``bahdanau_attention/attention_v`` (and ``attention_g``, ``attention_b``); the keys'
    ``memory_layer/kernel`` is made where the mechanism is built.

    Args:
      num_units: the depth of the query and key projections.
      normalize: weight-normalize the score.
      memory, memory_sequence_length, probability_fn, score_mask_value, dtype,
        custom_key_value_fn, name: as for `LuongAttention`.
    """

    _scope_name = "bahdanau_attention"

    def __init__(self, num_units, memory, memory_sequence_length=None, normalize=False,
                 probability_fn=None, score_mask_value=None, dtype=None,
                 custom_key_value_fn=None, name="BahdanauAttention"):
        super().__init__(num_units, memory, memory_sequence_length, probability_fn,
                         score_mask_value, dtype, custom_key_value_fn, name,
                         with_query_layer=True)
        self._normalize = normalize

    def _score(self, query):
        processed_query = array_ops.expand_dims(self._query_layer(query), 1)
        num_units = self._keys.shape.as_list()[2]
        dtype = processed_query.dtype
        v = vs.get_variable("attention_v", [num_units], dtype=dtype)
        hidden = self._keys + processed_query
        if self._normalize:
            gain = vs.get_variable(
                "attention_g", dtype=dtype, shape=(),
                initializer=init_ops.constant_initializer(math.sqrt(1.0 / num_units)))
            bias = vs.get_variable("attention_b", [num_units], dtype=dtype,
                                   initializer=init_ops.zeros_initializer())
            v = math_ops.multiply(math_ops.multiply(gain, v), math_ops.rsqrt(
                math_ops.reduce_sum(math_ops.square(v))))
            hidden = hidden + bias
        return math_ops.reduce_sum(math_ops.multiply(v, math_ops.tanh(hidden)), [2])


class AttentionWrapperState(collections.namedtuple(
        "AttentionWrapperState", ("cell_state", "attention", "time", "alignments",
                                  "alignment_history", "attention_state"))):
    """The state of an `AttentionWrapper`: the wrapped cell's state, the last attention
    ``[batch, attention_size]``, the step count, the last alignments, their history (a
    TensorArray, or ``()`` when not kept) and the mechanisms' states."""

    def clone(self, **kwargs):
        """A copy with the given fields replaced (e.g. ``cell_state=encoder_state``)."""
        return self._replace(**kwargs)


def _item_or_tuple(seq):
    seq = tuple(seq)
    return seq[0] if len(seq) == 1 else seq


def _compute_attention(mechanism, cell_output, attention_state, attention_layer):
    alignments, next_attention_state = mechanism(cell_output, state=attention_state)
    # [batch, 1, time] x [batch, time, depth] -> [batch, depth]
    context = array_ops.squeeze(
        math_ops.matmul(array_ops.expand_dims(alignments, 1), mechanism.values), [1])
    if attention_layer is not None:
        attention = attention_layer(array_ops.concat([cell_output, context], 1))
    else:
        attention = context
    return attention, alignments, next_attention_state


class AttentionWrapper(RNNCell):
    """An RNN cell with attention (``tf.contrib.seq2seq.AttentionWrapper``).

    Each step: ``cell_inputs = cell_input_fn(inputs, previous attention)`` (default: their
    concatenation); the cell runs; each mechanism scores its memory against the cell's
    output, giving alignments and a context (the alignment-weighted values); the attention
    is ``attention_layer([cell_output, context])`` (a bias-free ``Dense`` named
    ``attention_layer``) or the context itself without `attention_layer_size`. The output is
    the attention (or the cell's output if not `output_attention`).

    Args:
      cell: the wrapped ``RNNCell``.
      attention_mechanism: a mechanism, or a list of them (their attentions are concatenated).
      attention_layer_size: the attention layer's depth (a list with several mechanisms), or
        None for no attention layer.
      alignment_history: keep every step's alignments in a TensorArray in the state.
      cell_input_fn: ``(inputs, attention) -> cell inputs``.
      output_attention: output the attention (Luong) rather than the cell output (Bahdanau).
      initial_cell_state: the wrapped cell's first state in `zero_state` (e.g. the
        encoder's final state).
      name: the layer name (default ``attention_wrapper``).
      attention_layer: instead of `attention_layer_size`, the layer (a list with several
        mechanisms) applied to ``[cell_output, context]``.
      attention_fn: ``(mechanism, cell_output, attention_state, attention_layer) ->
        (attention, alignments, next_attention_state)`` in place of the default.

    Raises:
      TypeError: if a mechanism is not an `AttentionMechanism` or `cell_input_fn` is not
        callable.
      ValueError: if `attention_layer_size` or `attention_layer` does not match the
        mechanisms, or both are given.
    """

    def __init__(self, cell, attention_mechanism, attention_layer_size=None,
                 alignment_history=False, cell_input_fn=None, output_attention=True,
                 initial_cell_state=None, name=None, attention_layer=None,
                 attention_fn=None):
        super().__init__(name=name)
        if attention_layer_size is not None and attention_layer is not None:
            raise ValueError("Only one of attention_layer_size and attention_layer should be "
                             "set")
        from sessionlib.ops.rnn import assert_like_rnncell

        assert_like_rnncell("cell", cell)
        self._is_multi = isinstance(attention_mechanism, (list, tuple))
        mechanisms = tuple(attention_mechanism) if self._is_multi else (attention_mechanism,)
        for mechanism in mechanisms:
            if not isinstance(mechanism, AttentionMechanism):
                raise TypeError(f"attention_mechanism must be an AttentionMechanism or list "
                                f"of multiple AttentionMechanism instances, saw type: "
                                f"{type(mechanism).__name__}")
        if cell_input_fn is None:
            def cell_input_fn(inputs, attention):
                return array_ops.concat([inputs, attention], -1)
        elif not callable(cell_input_fn):
            raise TypeError(f"cell_input_fn must be callable, saw type: "
                            f"{type(cell_input_fn).__name__}")
        if attention_layer_size is not None:
            sizes = tuple(attention_layer_size if isinstance(attention_layer_size,
                                                             (list, tuple))
                          else (attention_layer_size,))
            if len(sizes) != len(mechanisms):
                raise ValueError(f"If provided, attention_layer_size must contain exactly one "
                                 f"integer per attention_mechanism, saw: {len(sizes)} vs "
                                 f"{len(mechanisms)}")
            self._attention_layers = tuple(
                layers_core.Dense(size, name="attention_layer", use_bias=False,
                                  dtype=mechanism.dtype)
                for size, mechanism in zip(sizes, mechanisms))
            self._attention_layer_size = sum(sizes)
        elif attention_layer is not None:
            self._attention_layers = tuple(attention_layer if isinstance(attention_layer,
                                                                         (list, tuple))
                                           else (attention_layer,))
            if len(self._attention_layers) != len(mechanisms):
                raise ValueError(f"If provided, attention_layer must contain exactly one "
                                 f"layer per attention_mechanism, saw: "
                                 f"{len(self._attention_layers)} vs {len(mechanisms)}")
            # Each layer reads [cell_output, context]; its output depth is its share.
            self._attention_layer_size = sum(
                layer.compute_output_shape(TensorShape(
                    [None, cell.output_size + mechanism.values.shape.as_list()[-1]]))[-1]
                for layer, mechanism in zip(self._attention_layers, mechanisms))
        else:
            self._attention_layers = None
            self._attention_layer_size = sum(
                mechanism.values.shape.as_list()[-1] for mechanism in mechanisms)
        self._attention_fn = attention_fn or _compute_attention
        self._cell = cell
        self._attention_mechanisms = mechanisms
        self._cell_input_fn = cell_input_fn
        self._output_attention = output_attention
        self._alignment_history = alignment_history
        if initial_cell_state is None:
            self._initial_cell_state = None
        else:
            self._initial_cell_state = _nest.map_structure(
                lambda s: array_ops.identity(s, name="check_initial_cell_state"),
                initial_cell_state)

    def _item_or_tuple(self, seq):
        # One mechanism: its value itself; several: a tuple (TF's state layout).
        return _item_or_tuple(seq) if not self._is_multi else tuple(seq)

    @property
    def output_size(self):
        return self._attention_layer_size if self._output_attention else \
            self._cell.output_size

    @property
    def state_size(self):
        return AttentionWrapperState(
            cell_state=self._cell.state_size, time=TensorShape([]),
            attention=self._attention_layer_size,
            alignments=self._item_or_tuple(m.alignments_size
                                           for m in self._attention_mechanisms),
            attention_state=self._item_or_tuple(m.state_size
                                                for m in self._attention_mechanisms),
            alignment_history=self._item_or_tuple(
                m.alignments_size if self._alignment_history else ()
                for m in self._attention_mechanisms))

    def zero_state(self, batch_size, dtype):
        """The first state: the cell's (or `initial_cell_state`), zero attention and
        alignments, time 0, empty alignment histories.

        Args:
          batch_size: an int or scalar int Tensor.
          dtype: the state's dtype.

        Returns:
          An `AttentionWrapperState`.

        Raises:
          InvalidArgumentError: if `batch_size` is known to differ from a memory's batch.
        """
        dtype = dtypes.as_dtype(dtype)
        with graph_lib.name_scope(type(self).__name__ + "ZeroState"):
            self._check_zero_state_batch(batch_size)
            if self._initial_cell_state is not None:
                cell_state = self._initial_cell_state
            else:
                cell_state = self._cell.zero_state(batch_size, dtype)
            alignments = [m.initial_alignments(batch_size, dtype)
                          for m in self._attention_mechanisms]
            histories = [TensorArray(dtype, size=0, dynamic_size=True,
                                     element_shape=alignment.shape)
                         if self._alignment_history else () for alignment in alignments]
            return AttentionWrapperState(
                cell_state=cell_state, time=array_ops.zeros([], dtype=dtypes.int32),
                attention=_zero_state_tensors(self._attention_layer_size, batch_size, dtype),
                alignments=self._item_or_tuple(alignments),
                attention_state=self._item_or_tuple(
                    m.initial_state(batch_size, dtype) for m in self._attention_mechanisms),
                alignment_history=self._item_or_tuple(histories))

    def _check_zero_state_batch(self, batch_size):
        """InvalidArgumentError when `batch_size` is known to differ from a memory's batch.

        The usual cause is a beam search whose memory was not tiled (or whose zero_state
        was not asked for batch * beam_width); caught here, the message says so instead of
        a matmul shape error at the first step. Only a statically known mismatch is caught.
        """
        requested = tensor_util.constant_value(batch_size) if isinstance(
            batch_size, graph_lib.Tensor) else batch_size
        if requested is None:
            return
        for mechanism in self._attention_mechanisms:
            memory_batch = mechanism.batch_size
            if isinstance(memory_batch, graph_lib.Tensor):
                memory_batch = tensor_util.constant_value(memory_batch)
            if memory_batch is not None and int(memory_batch) != int(requested):
                raise errors.InvalidArgumentError(
                    None, None,
                    f"When calling zero_state of AttentionWrapper {self.name}: Non-matching "
                    f"batch sizes between the memory (encoder output, {int(memory_batch)}) "
                    f"and the requested batch size ({int(requested)}). Are you using the "
                    f"BeamSearchDecoder? If so, make sure your encoder output has been tiled "
                    f"to beam_width via tile_batch, and the batch_size= argument passed to "
                    f"zero_state is batch_size * beam_width.")

    def build(self, input_shape):
        del input_shape
        self.built = True

    def call(self, inputs, state):
        """One step with attention.

        Args:
          inputs: ``[batch, input_depth]``.
          state: an `AttentionWrapperState`.

        Returns:
          ``(output, next_state)``.

        Raises:
          TypeError: if `state` is not an `AttentionWrapperState`.
        """
        if not isinstance(state, AttentionWrapperState):
            raise TypeError(f"Expected state to be instance of AttentionWrapperState. "
                            f"Received type {type(state)} instead.")
        cell_inputs = self._cell_input_fn(inputs, state.attention)
        cell_output, next_cell_state = self._cell(cell_inputs, state.cell_state)
        if self._is_multi:
            previous_states = state.attention_state
            previous_histories = state.alignment_history
        else:
            previous_states = [state.attention_state]
            previous_histories = [state.alignment_history]
        attentions, alignments_list, attention_states, histories = [], [], [], []
        for i, mechanism in enumerate(self._attention_mechanisms):
            attention, alignments, next_attention_state = self._attention_fn(
                mechanism, cell_output, previous_states[i],
                self._attention_layers[i] if self._attention_layers else None)
            history = (previous_histories[i].write(state.time, alignments)
                       if self._alignment_history else ())
            attentions.append(attention)
            alignments_list.append(alignments)
            attention_states.append(next_attention_state)
            histories.append(history)
        attention = array_ops.concat(attentions, 1)
        next_state = AttentionWrapperState(
            time=state.time + 1, cell_state=next_cell_state, attention=attention,
            attention_state=self._item_or_tuple(attention_states),
            alignments=self._item_or_tuple(alignments_list),
            alignment_history=self._item_or_tuple(histories))
        return (attention if self._output_attention else cell_output), next_state


# ---- beam search ----------------------------------------------------------------------------

class BeamSearchDecoderState(collections.namedtuple(
        "BeamSearchDecoderState", ("cell_state", "log_probs", "finished", "lengths",
                                   "accumulated_attention_probs"))):
    """The beam search's state: the cell's state ``[batch, beam, ...]``, each hypothesis's
    summed log probability, whether it has emitted the end token, and its length (int64)."""


class BeamSearchDecoderOutput(collections.namedtuple(
        "BeamSearchDecoderOutput", ("scores", "predicted_ids", "parent_ids"))):
    """One step of a beam search: each new hypothesis's score, last id, and the beam it
    extends."""


class FinalBeamSearchDecoderOutput(collections.namedtuple(
        "FinalBeamSearchDecoderOutput", ("predicted_ids", "beam_search_decoder_output"))):
    """The beam search's result: the full id sequences ``[batch, time, beam]`` (traced back
    through the parents) and the per-step `BeamSearchDecoderOutput`."""


def _batch_beam_indices(indices, row_size):
    # Flat positions of [batch, k] `indices` (each in [0, row_size)) in a [batch * row_size]
    # reshape.
    batch = array_ops.expand_dims(array_ops.range(array_ops.shape(indices)[0]) * row_size, 1)
    return array_ops.reshape(indices + batch, [-1])


def _gather_beams(values, beam_indices):
    """``values[b, beam_indices[b, k], ...]`` for ``[batch, beam, ...]`` values."""
    shape = array_ops.shape(values)
    flat = array_ops.reshape(values, array_ops.concat([[-1], shape[2:]], 0))
    gathered = array_ops.reshape(
        array_ops.gather(flat, _batch_beam_indices(beam_indices, shape[1])), shape)
    gathered.set_shape(values.shape)
    return gathered


def gather_tree(step_ids, parent_ids, max_sequence_lengths, end_token, name=None):
    """Traces each final beam back through its parents (``tf.contrib.seq2seq.gather_tree``).

    For each batch row, the hypothesis in beam k at step ``max_sequence_lengths[b] - 1`` is
    followed back: its id, then its parent's id at the step before, and so on. Steps at or
    after the row's maximum length, and every step after the first `end_token`, are
    `end_token`.

    Args:
      step_ids: int32 ``[max_time, batch, beam]``: each step's chosen ids.
      parent_ids: int32 ``[max_time, batch, beam]``: the beam each id extends.
      max_sequence_lengths: int32 ``[batch]``.
      end_token: an int32 scalar.
      name: the name scope (default ``GatherTree``).

    Returns:
      int32 ``[max_time, batch, beam]`` full sequences.
    """
    from sessionlib.ops.cumulative_ops import cumsum
    from sessionlib.ops.map_fn_ops import scan

    with _name_scope(name, "GatherTree"):
        step_ids = graph_lib.convert_to_tensor(step_ids, name="step_ids")
        parent_ids = graph_lib.convert_to_tensor(parent_ids, name="parent_ids")
        max_sequence_lengths = math_ops.cast(max_sequence_lengths, dtypes.int32)
        end_token = math_ops.cast(end_token, step_ids.dtype)
        shape = array_ops.shape(step_ids)
        steps = array_ops.range(shape[0])
        # Every beam starts as its own ancestor at the row's last step.
        identity = array_ops.tile(array_ops.expand_dims(array_ops.range(shape[2]), 0),
                                  array_ops.stack([shape[1], 1]))
        lengths = array_ops.expand_dims(max_sequence_lengths, 1)

        def back_step(carry, step):
            beams, _ = carry
            ids_t, parents_t, time = step
            valid = math_ops.less(time, lengths)  # [batch, 1]
            valid = math_ops.logical_and(valid, array_ops.ones_like(beams, dtype=dtypes.bool))
            ids = array_ops.where(valid, _gather_beams(ids_t, beams),
                                  array_ops.fill(array_ops.shape(beams), end_token))
            next_beams = array_ops.where(valid, _gather_beams(parents_t, beams), beams)
            return next_beams, ids

        _, traced = scan(back_step, (step_ids, parent_ids, steps),
                         initializer=(identity, array_ops.zeros_like(identity)),
                         reverse=True)
        # Once a sequence has emitted end_token, the rest of it is end_token too.
        ended = cumsum(math_ops.cast(math_ops.equal(traced, end_token), dtypes.int32), axis=0,
                       exclusive=True)
        result = array_ops.where(math_ops.greater(ended, 0),
                                 array_ops.fill(array_ops.shape(traced), end_token), traced)
        result.set_shape(step_ids.shape)
        return result


def _length_penalty(lengths, weight, dtype):
    # Wu et al. 2016: ((5 + length) / 6) ** weight; 1 (no division) for a static weight 0.
    weight = graph_lib.convert_to_tensor(weight, dtype=dtype, name="penalty_factor")
    static_weight = tensor_util.constant_value(weight)
    if static_weight is not None and static_weight == 0:
        return 1.0
    return math_ops.pow((5.0 + math_ops.cast(lengths, dtype)) / 6.0, weight)


class BeamSearchDecoder(Decoder):
    """Beam search (``tf.contrib.seq2seq.BeamSearchDecoder``).

    Keeps `beam_width` hypotheses per batch row. Each step extends every hypothesis by every
    id (finished hypotheses only by `end_token`, at no cost), scores the extensions by their
    summed log probability divided by the length penalty ``((5 + length) / 6) **
    length_penalty_weight``, and keeps the best `beam_width` per row. `finalize` traces the
    kept ids back through their parents with `gather_tree`.

    The initial state must already hold ``batch * beam_width`` rows (see `tile_batch`); an
    `AttentionWrapper`'s memory must be tiled the same way.

    Args:
      cell: an ``RNNCell``.
      embedding: the embedding matrix, or a callable ``ids -> embedded``.
      start_tokens: int32 ``[batch]``.
      end_token: int32 scalar.
      initial_state: the cell's state for ``batch * beam_width`` rows.
      beam_width: a Python int.
      output_layer: an optional layer applied to the cell's output (to vocabulary logits).
      length_penalty_weight: a float; 0 scores by log probability alone.
      coverage_penalty_weight: must be 0 (not supported here).
      reorder_tensor_arrays: in `finalize`, reorder the TensorArrays of the final cell state
        (an `AttentionWrapper`'s alignment history, one ``[batch * beam, ...]`` element per
        step) so that each step's entries follow the final beams' ancestry.

    Raises:
      ValueError: for a nonzero `coverage_penalty_weight`, or bad `start_tokens` or
        `end_token` shapes.
    """

    def __init__(self, cell, embedding, start_tokens, end_token, initial_state, beam_width,
                 output_layer=None, length_penalty_weight=0.0, coverage_penalty_weight=0.0,
                 reorder_tensor_arrays=True):
        from sessionlib.ops.rnn import assert_like_rnncell

        assert_like_rnncell("cell", cell)
        if coverage_penalty_weight:
            raise ValueError("coverage_penalty_weight is not supported")
        self._reorder_tensor_arrays = reorder_tensor_arrays
        self._cell = cell
        self._output_layer = output_layer
        self._embedding_fn = _embedding_fn(embedding)
        self._start_tokens = graph_lib.convert_to_tensor(start_tokens, dtype=dtypes.int32,
                                                         name="start_tokens")
        if self._start_tokens.shape.rank != 1:
            raise ValueError("start_tokens must be a vector")
        self._end_token = graph_lib.convert_to_tensor(end_token, dtype=dtypes.int32,
                                                      name="end_token")
        if self._end_token.shape.rank != 0:
            raise ValueError("end_token must be a scalar")
        self._beam_width = int(beam_width)
        self._length_penalty_weight = length_penalty_weight
        self._batch_size = array_ops.size(self._start_tokens)
        self._initial_cell_state = _nest.map_structure(self._split_beams, initial_state)
        self._start_tokens = array_ops.tile(array_ops.expand_dims(self._start_tokens, 1),
                                            [1, self._beam_width])
        self._start_inputs = self._embedding_fn(self._start_tokens)
        # Only beam 0 is live at first, so the first step does not pick one id k times.
        self._finished = math_ops.not_equal(
            array_ops.zeros_like(self._start_tokens),
            array_ops.expand_dims(array_ops.range(self._beam_width), 0))

    @property
    def batch_size(self):
        return self._batch_size

    @property
    def tracks_own_finished(self):
        return True

    def _split_beams(self, tensor):
        # [batch * beam, ...] -> [batch, beam, ...]; TensorArrays and scalars pass through.
        if isinstance(tensor, TensorArray) or tensor.shape.rank == 0:
            return tensor
        shape = array_ops.shape(tensor)
        result = array_ops.reshape(tensor, array_ops.concat(
            [array_ops.stack([self._batch_size, self._beam_width]), shape[1:]], 0))
        static_batch = tensor_util.constant_value(self._batch_size)
        result.set_shape(TensorShape([None if static_batch is None else int(static_batch),
                                      self._beam_width]).concatenate(tensor.shape[1:]))
        return result

    def _merge_beams(self, tensor):
        # [batch, beam, ...] -> [batch * beam, ...]; TensorArrays and scalars pass through.
        if isinstance(tensor, TensorArray) or tensor.shape.rank == 0:
            return tensor
        shape = array_ops.shape(tensor)
        result = array_ops.reshape(tensor, array_ops.concat([[-1], shape[2:]], 0))
        static = tensor.shape.as_list()
        batch = None if static[0] is None else static[0] * self._beam_width
        result.set_shape(TensorShape([batch]).concatenate(tensor.shape[2:]))
        return result

    @property
    def output_size(self):
        beams = TensorShape([self._beam_width])
        return BeamSearchDecoderOutput(scores=beams, predicted_ids=beams, parent_ids=beams)

    @property
    def output_dtype(self):
        dtype = _nest.flatten(self._initial_cell_state)[0].dtype
        return BeamSearchDecoderOutput(scores=dtype, predicted_ids=dtypes.int32,
                                       parent_ids=dtypes.int32)

    def initialize(self, name=None):
        dtype = _nest.flatten(self._initial_cell_state)[0].dtype
        live = math_ops.logical_not(self._finished)
        log_probs = array_ops.where(live, array_ops.zeros(array_ops.shape(live), dtype),
                                    array_ops.fill(array_ops.shape(live),
                                                   np.array(-np.inf, dtype.as_numpy_dtype)))
        state = BeamSearchDecoderState(
            cell_state=self._initial_cell_state, log_probs=log_probs, finished=self._finished,
            lengths=array_ops.zeros(array_ops.shape(self._finished), dtypes.int64),
            accumulated_attention_probs=())
        return self._finished, self._start_inputs, state

    def step(self, time, inputs, state, name=None):
        with _name_scope(name, "BeamSearchDecoderStep"):
            cell_state = _nest.map_structure(self._merge_beams, state.cell_state)
            cell_outputs, next_cell_state = self._cell(self._merge_beams(inputs), cell_state)
            cell_outputs = self._split_beams(cell_outputs)
            next_cell_state = _nest.map_structure(self._split_beams, next_cell_state)
            if self._output_layer is not None:
                cell_outputs = self._output_layer(cell_outputs)
            outputs, next_state = self._search_step(cell_outputs, next_cell_state, state)
            next_inputs = cond(math_ops.reduce_all(next_state.finished),
                               lambda: self._start_inputs,
                               lambda: self._embedding_fn(outputs.predicted_ids))
        return outputs, next_state, next_inputs, next_state.finished

    def _search_step(self, logits, next_cell_state, state):
        """The best `beam_width` extensions of the hypotheses in `state`."""
        from sessionlib.ops.nn_loss_ops import log_softmax
        from sessionlib.ops.nn_lookup_ops import top_k

        beam = self._beam_width
        vocab_size = logits.shape.as_list()[-1]
        if vocab_size is None:
            vocab_size = array_ops.shape(logits)[-1]
        step_log_probs = log_softmax(logits)
        # A finished hypothesis extends only by end_token, with log probability 0.
        end_row = math_ops.equal(array_ops.range(vocab_size), self._end_token)  # [vocab]
        lowest = graph_lib.convert_to_tensor(np.finfo(logits.dtype.as_numpy_dtype).min,
                                             dtype=logits.dtype)
        finished_probs = array_ops.where(
            end_row, array_ops.zeros_like(end_row, dtype=logits.dtype),
            array_ops.fill(array_ops.shape(end_row), lowest))
        finished = array_ops.expand_dims(state.finished, 2)
        step_log_probs = array_ops.where(
            math_ops.logical_and(finished, array_ops.ones_like(step_log_probs,
                                                               dtype=dtypes.bool)),
            math_ops.add(array_ops.zeros_like(step_log_probs), finished_probs),
            step_log_probs)
        total_probs = array_ops.expand_dims(state.log_probs, 2) + step_log_probs
        # Extending a live hypothesis by any id but end_token makes it one longer.
        not_end = math_ops.cast(math_ops.logical_not(end_row), dtypes.int64)
        live = math_ops.cast(math_ops.logical_not(finished), dtypes.int64)
        new_lengths = array_ops.expand_dims(state.lengths, 2) + live * not_end
        scores = total_probs / _length_penalty(new_lengths, self._length_penalty_weight,
                                               total_probs.dtype)
        scores_flat = array_ops.reshape(scores, array_ops.stack([self._batch_size, -1]))
        next_scores, word_indices = top_k(scores_flat, k=beam)
        beams_shape = TensorShape([self._start_tokens.shape.as_list()[0], beam])
        next_scores.set_shape(beams_shape)
        word_indices.set_shape(beams_shape)
        next_word_ids = math_ops.cast(math_ops.floormod(word_indices, vocab_size),
                                      dtypes.int32)
        next_beam_ids = math_ops.cast(math_ops.floordiv(word_indices, vocab_size),
                                      dtypes.int32)
        flat_total = array_ops.reshape(total_probs, [-1])
        next_log_probs = array_ops.reshape(
            array_ops.gather(flat_total, _batch_beam_indices(word_indices, beam * vocab_size)),
            array_ops.shape(word_indices))
        next_log_probs.set_shape(beams_shape)
        previously_finished = _gather_beams(state.finished, next_beam_ids)
        next_finished = math_ops.logical_or(previously_finished,
                                            math_ops.equal(next_word_ids, self._end_token))
        next_lengths = _gather_beams(state.lengths, next_beam_ids) + math_ops.cast(
            math_ops.logical_not(previously_finished), dtypes.int64)
        next_cell_state = _nest.map_structure(
            lambda t: t if isinstance(t, TensorArray) or t.shape.rank == 0
            else _gather_beams(t, next_beam_ids), next_cell_state)
        next_state = BeamSearchDecoderState(
            cell_state=next_cell_state, log_probs=next_log_probs, finished=next_finished,
            lengths=next_lengths, accumulated_attention_probs=())
        return (BeamSearchDecoderOutput(scores=next_scores, predicted_ids=next_word_ids,
                                        parent_ids=next_beam_ids), next_state)

    def finalize(self, outputs, final_state, sequence_lengths):
        """Traces the ids back through their parents (the outputs are time major here).

        Returns:
          ``(FinalBeamSearchDecoderOutput, final_state)``.
        """
        del sequence_lengths
        max_lengths = math_ops.cast(math_ops.reduce_max(final_state.lengths, axis=1),
                                    dtypes.int32)
        predicted_ids = gather_tree(outputs.predicted_ids, outputs.parent_ids, max_lengths,
                                    self._end_token)
        if self._reorder_tensor_arrays:
            final_state = final_state._replace(cell_state=_nest.map_structure(
                lambda t: self._sort_array_beams(t, outputs.parent_ids, final_state.lengths),
                final_state.cell_state))
        return (FinalBeamSearchDecoderOutput(predicted_ids=predicted_ids,
                                             beam_search_decoder_output=outputs),
                final_state)

    def _sort_array_beams(self, tensor_array, parent_ids, lengths):
        """A TensorArray of ``[batch * beam, ...]`` steps with each step's beams reordered
        to follow the final beams' ancestry; other state passes through."""
        if not isinstance(tensor_array, TensorArray):
            return tensor_array
        element_shape = tensor_array.element_shape
        if element_shape.rank is None or element_shape.rank < 1:
            return tensor_array  # no beam axis to sort (TF leaves these too)
        stacked = tensor_array.stack()  # [time, batch * beam, ...]
        shape = array_ops.shape(stacked)
        split = array_ops.reshape(stacked, array_ops.concat(
            [array_ops.stack([shape[0], self._batch_size, self._beam_width]), shape[2:]], 0))
        ordered = _gather_tree_from_array(split, parent_ids, lengths)
        result = TensorArray(tensor_array.dtype, size=shape[0], element_shape=element_shape)
        return result.unstack(array_ops.reshape(ordered, shape))


def _gather_tree_from_array(values, parent_ids, lengths):
    """``[time, batch, beam, ...]`` values, each step's beams put in the order of the final
    beams' ancestors (past a beam's length the order is left as it is)."""
    shape = array_ops.shape(parent_ids)
    beam_ids = array_ops.tile(
        array_ops.reshape(array_ops.range(shape[2]), [1, 1, -1]),
        array_ops.stack([shape[0], shape[1], 1]))
    max_lengths = math_ops.cast(math_ops.reduce_max(lengths, axis=1), dtypes.int32)
    # An end token no beam index can equal, so only the lengths stop the tracing.
    sorted_ids = gather_tree(beam_ids, parent_ids, max_lengths, shape[2] + 1)
    in_bounds = array_ops.transpose(
        sequence_mask(math_ops.cast(lengths, dtypes.int32), maxlen=shape[0]), [2, 0, 1])
    sorted_ids = array_ops.where(in_bounds, sorted_ids, beam_ids)
    # Time and batch merged, the sort is a per-row beam gather.
    values_shape = array_ops.shape(values)
    merged = array_ops.reshape(values, array_ops.concat([[-1], values_shape[2:]], 0))
    gathered = _gather_beams(merged, array_ops.reshape(sorted_ids, [-1, shape[2]]))
    return array_ops.reshape(gathered, values_shape)
