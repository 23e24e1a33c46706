"""Static (unrolled) RNNs: ``tf.nn.static_rnn`` and ``tf.nn.static_bidirectional_rnn``.

A static RNN builds one copy of the cell per time step, so it needs no control flow: the graph
is a chain of ordinary ops, run and differentiated like any other. The cell is anything that
looks like an ``RNNCell`` (``output_size``, ``state_size``, ``zero_state``, callable); the cells
themselves are in ``sessionlib.layers.rnn_cell_impl`` because they are layers.

Variables are TF 1's: everything is built under ``variable_scope(scope or "rnn")`` and that
scope reuses its variables from the second step on, so one set of weights serves every step
(``rnn/basic_lstm_cell/kernel``).

``sequence_length``: TF's ``_rnn_step`` picks, per batch row, the new output and state while
``time < sequence_length`` and zeros (output) or the previous state after it, with a ``Select``
per step; around that it puts two ``cond`` shortcuts (skip the cell once every row is done,
skip the select while none is). sessionlib has no ``cond``, so the cell always runs and the
select always decides. The values are the same: past ``max(sequence_length)`` the select takes
zeros and the old state for every row, which is what the shortcut returns.

The backward half of ``static_bidirectional_rnn`` reverses each sequence within its length
(TF's ``ReverseSequence``); here that is one ``GatherNd`` over the stacked steps with indices
``len - 1 - t`` for ``t < len`` and ``t`` after it, which is the same permutation and has a
gradient already.
"""

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework.tensor_shape import TensorShape
from sessionlib.ops import _nest, array_ops, math_ops
from sessionlib.ops import variable_scope as vs
from sessionlib.ops.nn import nn
from sessionlib.ops.scatter_gather_ops import gather_nd

__all__ = ["static_rnn", "static_bidirectional_rnn", "assert_like_rnncell"]


def _hasattr(obj, name):
    try:
        getattr(obj, name)
    except AttributeError:
        return False
    return True


def assert_like_rnncell(cell_name, cell):
    """Raises TypeError (TF's wording) unless `cell` has what an RNN needs of a cell.

    Args:
      cell_name: the argument's name, for the message.
      cell: the object to check.

    Raises:
      TypeError: naming each missing part.
    """
    conditions = [_hasattr(cell, "output_size"), _hasattr(cell, "state_size"),
                  _hasattr(cell, "get_initial_state") or _hasattr(cell, "zero_state"),
                  callable(cell)]
    messages = ["'output_size' property is missing", "'state_size' property is missing",
                "either 'zero_state' or 'get_initial_state' method is required",
                "is not callable"]
    if not all(conditions):
        missing = [m for m, ok in zip(messages, conditions) if not ok]
        raise TypeError(f"The argument {cell_name!r} ({cell}) is not an RNNCell: "
                        f"{', '.join(missing)}.")


def _static_batch_size(inputs):
    # TF's checks: every input of rank >= 2 with known feature sizes; the batch size where
    # it is static, else the first input's dynamic one.
    first_input = inputs
    while _nest.is_sequence(first_input):
        first_input = _nest.flatten(first_input)[0]
    first_input = graph_lib.convert_to_tensor(first_input)
    if first_input.shape.rank != 1:
        fixed_batch_size = first_input.shape.with_rank_at_least(2)[0]
        for flat_input in _nest.flatten(inputs[0]):
            input_shape = graph_lib.convert_to_tensor(flat_input).shape.with_rank_at_least(2)
            batch, feature = input_shape[0], input_shape[1:]
            if fixed_batch_size is None:
                fixed_batch_size = batch
            elif batch is not None and batch != fixed_batch_size:
                raise ValueError(f"Dimensions {fixed_batch_size} and {batch} are not "
                                 "compatible")
            for i, size in enumerate(feature.as_list()):
                if size is None:
                    raise ValueError(f"Input size (dimension {i} of inputs) must be accessible "
                                     "via shape inference, but saw value None.")
    else:
        fixed_batch_size = first_input.shape.with_rank_at_least(1)[0]
    if fixed_batch_size:
        return fixed_batch_size, first_input
    return array_ops.shape(first_input)[0], first_input


def _zeros_for(batch_size, size, dtype):
    # A [batch_size] + size tensor of zeros, with the static shape set where known.
    suffix = TensorShape(size).as_list()
    if isinstance(batch_size, graph_lib.Tensor):
        shape = array_ops.concat([array_ops.expand_dims(batch_size, 0),
                                  array_ops.constant(suffix, dtype=dtypes.int32)], 0)
        zeros = array_ops.zeros(shape, dtype)
        zeros.set_shape(TensorShape([None] + suffix))
        return zeros
    return array_ops.zeros([batch_size] + suffix, dtype)


def _rnn_step(time, sequence_length, zero_output, state, call_cell):
    """One step with `sequence_length` masking: rows whose sequence has ended get a zero
    output and keep their state (TF's ``_rnn_step``, with selects in place of its conds)."""
    new_output, new_state = call_cell()
    _nest.assert_same_structure(zero_output, new_output)
    _nest.assert_same_structure(state, new_state)
    # time >= sequence_length, spelled as TF builds it (``LessEqual``).
    copy_cond = math_ops.less_equal(sequence_length, time)

    def copy_one_through(old, new):
        result = array_ops.where(copy_cond, old, new)
        result.set_shape(new.shape)
        return result

    flat_output = [copy_one_through(zero, new) for zero, new in
                   zip(_nest.flatten(zero_output), _nest.flatten(new_output))]
    flat_state = [copy_one_through(old, new) for old, new in
                  zip(_nest.flatten(state), _nest.flatten(new_state))]
    return (_nest.pack_sequence_as(new_output, flat_output),
            _nest.pack_sequence_as(new_state, flat_state))


def static_rnn(cell, inputs, initial_state=None, dtype=None, sequence_length=None, scope=None):
    """Runs `cell` over the list `inputs`, one copy of the cell per step (``tf.nn.static_rnn``).

    Args:
      cell: an ``RNNCell`` (or anything like one).
      inputs: a list of T tensors (or nested structures of them), each ``[batch, input_size]``.
      initial_state: the first state, matching ``cell.state_size``; default: the cell's zero
        state, which needs `dtype`.
      dtype: the dtype of the zero state.
      sequence_length: an int vector ``[batch]``: past its row's length, a step's output is
        zero and the state is carried through unchanged.
      scope: the variable scope (default ``"rnn"``).

    Returns:
      ``(outputs, state)``: the list of T outputs and the final state.

    Raises:
      TypeError: if `cell` is not like an RNNCell or `inputs` is not a sequence.
      ValueError: if `inputs` is empty, an input size is unknown, neither `initial_state`
        nor `dtype` is given, or `sequence_length` is not a vector.
    """
    assert_like_rnncell("cell", cell)
    if not _nest.is_sequence(inputs):
        raise TypeError("inputs must be a sequence")
    if not inputs:
        raise ValueError("inputs must not be empty")
    outputs = []
    with vs.variable_scope(scope or "rnn") as varscope:
        batch_size, _ = _static_batch_size(inputs)
        if initial_state is not None:
            state = initial_state
        else:
            if not dtype:
                raise ValueError("If no initial_state is provided, dtype must be specified")
            if getattr(cell, "get_initial_state", None) is not None:
                state = cell.get_initial_state(inputs=None, batch_size=batch_size, dtype=dtype)
            else:
                state = cell.zero_state(batch_size, dtype)
        if sequence_length is not None:
            sequence_length = graph_lib.convert_to_tensor(sequence_length,
                                                          name="sequence_length")
            if sequence_length.shape.rank not in (None, 1):
                raise ValueError("sequence_length must be a vector of length batch_size")
            output_dtype = _nest.flatten(state)[0].dtype
            zero_output = _nest.map_structure(
                lambda size: _zeros_for(batch_size, size, output_dtype), cell.output_size)
            if sequence_length.dtype != dtypes.int32:
                sequence_length = math_ops.cast(sequence_length, dtypes.int32)
        for time, input_ in enumerate(inputs):
            if time > 0:
                varscope.reuse_variables()

            def call_cell(input_=input_, state=state):
                return cell(input_, state)

            if sequence_length is not None:
                output, state = _rnn_step(time, sequence_length, zero_output, state, call_cell)
            else:
                output, state = call_cell()
            outputs.append(output)
        return outputs, state


def _reverse_seq(input_seq, lengths):
    """Reverses each row of the list `input_seq` within its length (TF's ``_reverse_seq``)."""
    if lengths is None:
        return list(reversed(input_seq))
    steps = len(input_seq)
    flat_input_seq = [_nest.flatten(input_) for input_ in input_seq]
    flat_results = [[] for _ in range(steps)]
    lengths = graph_lib.convert_to_tensor(lengths)
    if lengths.dtype != dtypes.int32:
        lengths = math_ops.cast(lengths, dtypes.int32)
    with graph_lib.get_default_graph().name_scope("ReverseSequence"):
        # source[t, b]: the step that row b's output t comes from.
        time = array_ops.reshape(array_ops.range(steps), [steps, 1])
        row_lengths = array_ops.expand_dims(lengths, 0)
        source = array_ops.where(math_ops.less(time, row_lengths),
                                 math_ops.subtract(math_ops.subtract(row_lengths, 1), time),
                                 math_ops.add(time, array_ops.zeros_like(row_lengths)))
        batch = array_ops.range(array_ops.shape(lengths)[0])
        rows = math_ops.add(array_ops.expand_dims(batch, 0), array_ops.zeros_like(source))
        indices = array_ops.stack([source, rows], axis=-1)
    for sequence in zip(*flat_input_seq):
        input_shape = TensorShape(None)
        for input_ in sequence:
            input_shape = input_shape.merge_with(input_.shape)
        reversed_steps = array_ops.unstack(gather_nd(array_ops.stack(sequence), indices),
                                           num=steps)
        for step, flat_result in zip(reversed_steps, flat_results):
            step.set_shape(input_shape)
            flat_result.append(step)
    return [_nest.pack_sequence_as(input_, flat_result)
            for input_, flat_result in zip(input_seq, flat_results)]


def static_bidirectional_rnn(cell_fw, cell_bw, inputs, initial_state_fw=None,
                             initial_state_bw=None, dtype=None, sequence_length=None,
                             scope=None):
    """A forward and a backward static RNN over `inputs`, their outputs concatenated
    (``tf.nn.static_bidirectional_rnn``).

    The backward cell reads each sequence reversed within its length, and its outputs are
    reversed back, so that output t of both directions belongs to input t.

    Args:
      cell_fw, cell_bw: the forward and backward ``RNNCell``.
      inputs: a list of T tensors ``[batch, input_size]``.
      initial_state_fw, initial_state_bw: first states (default: zero states, with `dtype`).
      dtype: the dtype of the zero states.
      sequence_length: an int vector ``[batch]`` of the sequences' lengths.
      scope: the variable scope (default ``"bidirectional_rnn"``; the cells go under ``fw``
        and ``bw``).

    Returns:
      ``(outputs, output_state_fw, output_state_bw)``: T outputs of size
      ``fw.output_size + bw.output_size`` and the two final states.

    Raises:
      TypeError: if a cell is not like an RNNCell or `inputs` is not a sequence.
      ValueError: if `inputs` is empty.
    """
    assert_like_rnncell("cell_fw", cell_fw)
    assert_like_rnncell("cell_bw", cell_bw)
    if not _nest.is_sequence(inputs):
        raise TypeError("inputs must be a sequence")
    if not inputs:
        raise ValueError("inputs must not be empty")
    with vs.variable_scope(scope or "bidirectional_rnn"):
        with vs.variable_scope("fw") as fw_scope:
            output_fw, output_state_fw = static_rnn(cell_fw, inputs, initial_state_fw, dtype,
                                                    sequence_length, scope=fw_scope)
        with vs.variable_scope("bw") as bw_scope:
            reversed_inputs = _reverse_seq(inputs, sequence_length)
            tmp, output_state_bw = static_rnn(cell_bw, reversed_inputs, initial_state_bw,
                                              dtype, sequence_length, scope=bw_scope)
    output_bw = _reverse_seq(tmp, sequence_length)
    outputs = [_nest.pack_sequence_as(fw, [array_ops.concat([f, b], 1) for f, b in
                                           zip(_nest.flatten(fw), _nest.flatten(bw))])
               for fw, bw in zip(output_fw, output_bw)]
    return outputs, output_state_fw, output_state_bw


for _name in ("static_rnn", "static_bidirectional_rnn"):
    setattr(nn, _name, globals()[_name])


# ---- dynamic RNNs: a while_loop over time ---------------------------------------------------

def _transpose_batch_time(x):
    """Swaps axes 0 and 1 of a rank >= 2 tensor, keeping the static shape."""
    x = graph_lib.convert_to_tensor(x)
    rank = x.shape.rank
    if rank is not None and rank < 2:
        return x
    if rank is None:
        perm = array_ops.concat([[1, 0], array_ops.range(2, array_ops.rank(x))], 0)
    else:
        perm = [1, 0] + list(range(2, rank))
    result = array_ops.transpose(x, perm)
    if rank is not None:
        dims = x.shape.as_list()
        result.set_shape([dims[1], dims[0]] + dims[2:])
    return result


def _best_effort_batch_size(flat_input):
    # Axis 1 of the time-major inputs: static where any input knows it, else dynamic.
    for input_ in flat_input:
        shape = input_.shape
        if shape.rank is None:
            continue
        if shape.rank < 2:
            raise ValueError(f"Input tensor should have rank at least 2, got {shape.rank}")
        if shape.as_list()[1] is not None:
            return shape.as_list()[1]
    return array_ops.shape(flat_input[0])[1]


def _dynamic_rnn_loop(cell, inputs, initial_state, parallel_iterations, sequence_length,
                      dtype):
    """TF's ``_dynamic_rnn_loop``: time-major `inputs` -> time-major outputs, final state."""
    flat_input = _nest.flatten(inputs)
    flat_output_size = _nest.flatten(cell.output_size)
    time_steps = array_ops.shape(flat_input[0])[0]
    batch_size = _best_effort_batch_size(flat_input)
    got_shapes = [input_.shape.with_rank_at_least(3) for input_ in flat_input]
    const_time_steps, const_batch_size = got_shapes[0].as_list()[:2]
    for shape in got_shapes:
        if not shape[2:].is_fully_defined():
            raise ValueError("Input size (depth of inputs) must be accessible via shape "
                             "inference, but saw value None.")
        if shape.as_list()[0] != const_time_steps:
            raise ValueError("Time steps is not the same for all the elements in the input "
                             "in a batch.")
        if shape.as_list()[1] != const_batch_size:
            raise ValueError("Batch_size is not the same for all the elements in the input.")
    state_dtype = dtype or _nest.flatten(initial_state)[0].dtype
    zero_output = _nest.pack_sequence_as(
        cell.output_size,
        [_zeros_for(batch_size, size, state_dtype) for size in flat_output_size])
    if sequence_length is not None:
        max_sequence_length = math_ops.reduce_max(sequence_length)
    else:
        max_sequence_length = time_steps
    time = array_ops.constant(0, dtype=dtypes.int32, name="time")
    from sessionlib.ops.tensor_array_ops import TensorArray

    output_ta = tuple(
        TensorArray(state_dtype, size=time_steps,
                    element_shape=TensorShape([const_batch_size]).concatenate(
                        TensorShape(size)))
        for size in flat_output_size)
    input_ta = tuple(
        TensorArray(input_.dtype.base_dtype, size=time_steps, element_shape=input_.shape[1:])
        .unstack(input_) for input_ in flat_input)

    def time_step(time, output_ta_t, state):
        input_t = [ta.read(time) for ta in input_ta]
        for input_, shape in zip(input_t, got_shapes):
            input_.set_shape(shape[1:])
        input_t = _nest.pack_sequence_as(inputs, input_t)

        def call_cell():
            return cell(input_t, state)

        if sequence_length is not None:
            output, new_state = _rnn_step(time, sequence_length, zero_output, state,
                                          call_cell)
        else:
            output, new_state = call_cell()
        output_ta_t = tuple(ta.write(time, out)
                            for ta, out in zip(output_ta_t, _nest.flatten(output)))
        return time + 1, output_ta_t, new_state

    # At least one step, so that the arrays learn their element shapes (TF's bound).
    loop_bound = math_ops.minimum(time_steps, math_ops.maximum(1, max_sequence_length))
    from sessionlib.ops.while_v2 import while_loop

    _, output_final_ta, final_state = while_loop(
        lambda time, *_: math_ops.less(time, loop_bound), time_step,
        (time, output_ta, initial_state), parallel_iterations=parallel_iterations,
        maximum_iterations=time_steps)
    final_outputs = [ta.stack() for ta in output_final_ta]
    for output, size in zip(final_outputs, flat_output_size):
        output.set_shape(TensorShape([const_time_steps, const_batch_size]).concatenate(
            TensorShape(size)))
    return _nest.pack_sequence_as(cell.output_size, final_outputs), final_state


def dynamic_rnn(cell, inputs, sequence_length=None, initial_state=None, dtype=None,
                parallel_iterations=None, swap_memory=False, time_major=False, scope=None):
    """Runs `cell` over the time axis of `inputs` in a ``while_loop`` (``tf.nn.dynamic_rnn``).

    One ``While`` op runs the steps; the inputs are read from, and the outputs written to,
    TensorArrays (TF 1's construction, so the graph holds one copy of the cell whatever the
    sequence length). Variables are created once, under ``scope or "rnn"``, in the outer
    graph (``rnn/basic_lstm_cell/kernel``).

    Args:
      cell: an ``RNNCell`` (or anything like one).
      inputs: a Tensor ``[batch, time, ...]`` (``[time, batch, ...]`` if `time_major`) or a
        nested structure of them.
      sequence_length: an int vector ``[batch]``: past its row's length the output is zero
        and the state is carried through unchanged; the loop stops after the longest.
      initial_state: the first state, matching ``cell.state_size``; default: the cell's zero
        state, which needs `dtype`.
      dtype: the dtype of the zero state and the outputs.
      parallel_iterations: recorded on the loop (default 32); steps run in order.
      swap_memory: accepted for TF compatibility.
      time_major: whether `inputs` and the outputs are ``[time, batch, ...]``.
      scope: the variable scope (default ``"rnn"``).

    Returns:
      ``(outputs, state)``: outputs ``[batch, time, cell.output_size]`` (time major if
      asked), in the structure of ``cell.output_size``, and the final state.

    Raises:
      TypeError: if `cell` is not like an RNNCell.
      ValueError: if neither `initial_state` nor `dtype` is given, an input's depth is
        unknown, or `sequence_length` is not a vector.
    """
    del swap_memory
    assert_like_rnncell("cell", cell)
    with vs.variable_scope(scope or "rnn"):
        flat_input = [graph_lib.convert_to_tensor(input_) for input_ in _nest.flatten(inputs)]
        if not time_major:
            flat_input = [_transpose_batch_time(input_) for input_ in flat_input]
        parallel_iterations = parallel_iterations or 32
        if sequence_length is not None:
            sequence_length = graph_lib.convert_to_tensor(sequence_length)
            if sequence_length.dtype.base_dtype != dtypes.int32:
                sequence_length = math_ops.cast(sequence_length, dtypes.int32)
            if sequence_length.shape.rank not in (None, 1):
                raise ValueError(f"sequence_length must be a vector of length batch_size, "
                                 f"but saw shape: {sequence_length.shape}")
            sequence_length = array_ops.identity(sequence_length, name="sequence_length")
        batch_size = _best_effort_batch_size(flat_input)
        if initial_state is not None:
            state = initial_state
        else:
            if not dtype:
                raise ValueError("If there is no initial_state, you must give a dtype.")
            if getattr(cell, "get_initial_state", None) is not None:
                state = cell.get_initial_state(inputs=None, batch_size=batch_size, dtype=dtype)
            else:
                state = cell.zero_state(batch_size, dtype)
        inputs = _nest.pack_sequence_as(inputs, flat_input)
        outputs, final_state = _dynamic_rnn_loop(cell, inputs, state, parallel_iterations,
                                                 sequence_length, dtype)
        if not time_major:
            outputs = _nest.map_structure(_transpose_batch_time, outputs)
        return outputs, final_state


def _reverse_sequence(input_, lengths, seq_axis, batch_axis):
    """Reverses each row of `input_` along `seq_axis` within its length, the rest kept
    (TF's ``reverse_sequence`` for the two leading axes), as one ``GatherNd``."""
    input_ = graph_lib.convert_to_tensor(input_)
    lengths = graph_lib.convert_to_tensor(lengths)
    if lengths.dtype.base_dtype != dtypes.int32:
        lengths = math_ops.cast(lengths, dtypes.int32)
    with graph_lib.get_default_graph().name_scope("ReverseSequence"):
        shape = array_ops.shape(input_)
        steps, batch = shape[seq_axis], shape[batch_axis]
        # source[t, b]: the step that row b's position t comes from.
        time = array_ops.expand_dims(array_ops.range(steps), 1)
        row_lengths = array_ops.expand_dims(lengths, 0)
        source = array_ops.where(math_ops.less(time, row_lengths),
                                 math_ops.subtract(math_ops.subtract(row_lengths, 1), time),
                                 math_ops.add(time, array_ops.zeros_like(row_lengths)))
        rows = math_ops.add(array_ops.expand_dims(array_ops.range(batch), 0),
                            array_ops.zeros_like(source))
        if seq_axis == 0:
            indices = array_ops.stack([source, rows], axis=-1)
        else:
            indices = array_ops.stack([array_ops.transpose(rows), array_ops.transpose(source)],
                                      axis=-1)
        result = gather_nd(input_, indices)
    result.set_shape(input_.shape)
    return result


def bidirectional_dynamic_rnn(cell_fw, cell_bw, inputs, sequence_length=None,
                              initial_state_fw=None, initial_state_bw=None, dtype=None,
                              parallel_iterations=None, swap_memory=False, time_major=False,
                              scope=None):
    """A forward and a backward dynamic RNN over `inputs` (``tf.nn.bidirectional_dynamic_rnn``).

    The backward cell reads each sequence reversed within its length (all of it without
    `sequence_length`), and its outputs are reversed back, so output t of both directions
    belongs to input t.

    Args:
      cell_fw, cell_bw: the forward and backward ``RNNCell``.
      inputs: a Tensor ``[batch, time, ...]`` (``[time, batch, ...]`` if `time_major`), or a
        nested structure of them.
      sequence_length: an int vector ``[batch]`` of the sequences' lengths.
      initial_state_fw, initial_state_bw: first states (default: zero states, with `dtype`).
      dtype: the dtype of the zero states.
      parallel_iterations, swap_memory, time_major: as for `dynamic_rnn`.
      scope: the variable scope (default ``"bidirectional_rnn"``; the cells go under ``fw``
        and ``bw``).

    Returns:
      ``((output_fw, output_bw), (output_state_fw, output_state_bw))``.

    Raises:
      TypeError: if a cell is not like an RNNCell.
    """
    assert_like_rnncell("cell_fw", cell_fw)
    assert_like_rnncell("cell_bw", cell_bw)
    time_axis, batch_axis = (0, 1) if time_major else (1, 0)

    def reverse(input_):
        if sequence_length is None:
            from sessionlib.ops.manipulation_ops import reverse as reverse_op

            return reverse_op(input_, axis=[time_axis])
        return _reverse_sequence(input_, sequence_length, time_axis, batch_axis)

    with vs.variable_scope(scope or "bidirectional_rnn"):
        with vs.variable_scope("fw") as fw_scope:
            output_fw, output_state_fw = dynamic_rnn(
                cell_fw, inputs, sequence_length=sequence_length,
                initial_state=initial_state_fw, dtype=dtype,
                parallel_iterations=parallel_iterations, swap_memory=swap_memory,
                time_major=time_major, scope=fw_scope)
        with vs.variable_scope("bw") as bw_scope:
            inputs_reverse = _nest.map_structure(reverse, inputs)
            tmp, output_state_bw = dynamic_rnn(
                cell_bw, inputs_reverse, sequence_length=sequence_length,
                initial_state=initial_state_bw, dtype=dtype,
                parallel_iterations=parallel_iterations, swap_memory=swap_memory,
                time_major=time_major, scope=bw_scope)
    output_bw = _nest.map_structure(reverse, tmp)
    return (output_fw, output_bw), (output_state_fw, output_state_bw)


__all__ += ["dynamic_rnn", "bidirectional_dynamic_rnn"]
for _name in ("dynamic_rnn", "bidirectional_dynamic_rnn"):
    setattr(nn, _name, globals()[_name])


# ---- raw_rnn: the loop with a user-defined input and emit function --------------------------

def _zero_emit(batch_size, size, dtype):
    # Zeros [batch_size] + size, where `size` is a TensorShape or (not fully known) an int
    # Tensor of the per-row shape.
    if not isinstance(size, graph_lib.Tensor):
        return _zeros_for(batch_size, size, dtype)
    batch = (array_ops.expand_dims(batch_size, 0) if isinstance(batch_size, graph_lib.Tensor)
             else array_ops.constant([batch_size], dtype=dtypes.int32))
    return array_ops.zeros(array_ops.concat([batch, math_ops.cast(size, dtypes.int32)], 0),
                           dtype)


def raw_rnn(cell, loop_fn, parallel_iterations=None, swap_memory=False, scope=None):
    """Runs `cell` in a ``while_loop`` whose inputs, stopping and emits `loop_fn` decides
    (``tf.nn.raw_rnn``).

    `loop_fn(time, cell_output, cell_state, loop_state)` returns ``(elements_finished,
    next_input, next_cell_state, emit_output, next_loop_state)``. It is called once before the
    loop with ``time = 0`` and ``cell_output = cell_state = loop_state = None``, where
    `next_cell_state` is the initial state, `emit_output` (None: the structure of
    ``cell.output_size``) gives the per-row structure, dtypes and shapes of the emits, and
    `next_loop_state` the initial loop state (None: none). Then each step runs the cell on the
    current input and calls `loop_fn(time + 1, output, new_state, loop_state)`. Rows already
    finished when a step starts emit zeros and keep their state; the loop stops once every
    row is finished. The emit at step t is written at index t of the emit TensorArrays.

    Args:
      cell: an ``RNNCell`` (or anything like one).
      loop_fn: the callable described above.
      parallel_iterations: recorded on the loop (default 32).
      swap_memory: accepted for TF compatibility.
      scope: the variable scope (default ``"rnn"``).

    Returns:
      ``(emit_ta, final_state, final_loop_state)``: the emit TensorArray(s) in the emit
      structure (each of size = the number of steps run), the final cell state, and the final
      loop state (None if `loop_fn` gave none).

    Raises:
      TypeError: if `cell` is not like an RNNCell or `loop_fn` is not callable.
      ValueError: if the initial state does not match ``cell.state_size``, the inputs disagree
        on the batch size, or `loop_fn` changes a structure between steps.
    """
    from sessionlib.ops.tensor_array_ops import TensorArray
    from sessionlib.ops.while_v2 import while_loop

    assert_like_rnncell("cell", cell)
    if not callable(loop_fn):
        raise TypeError("loop_fn must be a callable")
    parallel_iterations = parallel_iterations or 32
    with vs.variable_scope(scope or "rnn"):
        time = array_ops.constant(0, dtype=dtypes.int32)
        (elements_finished, next_input, initial_state, emit_structure,
         init_loop_state) = loop_fn(time, None, None, None)
        flat_input = [graph_lib.convert_to_tensor(input_) for input_ in
                      _nest.flatten(next_input)]
        next_input = _nest.pack_sequence_as(next_input, flat_input)
        elements_finished = graph_lib.convert_to_tensor(elements_finished)
        # A surrogate loop state keeps the loop's variables the same whether or not
        # loop_fn has one.
        loop_state = (init_loop_state if init_loop_state is not None
                      else array_ops.constant(0, dtype=dtypes.int32))
        const_batch_size = None
        for input_ in flat_input:
            batch = input_.shape.with_rank_at_least(1)[0]
            if const_batch_size is None:
                const_batch_size = batch
            elif batch is not None and batch != const_batch_size:
                raise ValueError(f"Dimensions {const_batch_size} and {batch} are not "
                                 "compatible")
        batch_size = (const_batch_size if const_batch_size is not None
                      else array_ops.shape(flat_input[0])[0])
        _nest.assert_same_structure(initial_state, cell.state_size)
        flat_state = [graph_lib.convert_to_tensor(s) for s in _nest.flatten(initial_state)]
        state = _nest.pack_sequence_as(initial_state, flat_state)
        if emit_structure is not None:
            flat_emits = [graph_lib.convert_to_tensor(e) for e in _nest.flatten(emit_structure)]
            flat_emit_shape = [e.shape for e in flat_emits]
            flat_emit_size = [e.shape if e.shape.is_fully_defined() else array_ops.shape(e)
                              for e in flat_emits]
            flat_emit_dtypes = [e.dtype.base_dtype for e in flat_emits]
        else:
            emit_structure = cell.output_size
            flat_emit_shape = [TensorShape(size) for size in _nest.flatten(emit_structure)]
            flat_emit_size = flat_emit_shape
            flat_emit_dtypes = [flat_state[0].dtype.base_dtype] * len(flat_emit_size)
        flat_emit_ta = [
            TensorArray(dtype, size=0, dynamic_size=True, name=f"rnn_output_{i}",
                        element_shape=TensorShape([const_batch_size]).concatenate(shape))
            for i, (dtype, shape) in enumerate(zip(flat_emit_dtypes, flat_emit_shape))]
        emit_ta = _nest.pack_sequence_as(emit_structure, flat_emit_ta)
        zero_emit = _nest.pack_sequence_as(
            emit_structure, [_zero_emit(batch_size, size, dtype)
                             for size, dtype in zip(flat_emit_size, flat_emit_dtypes)])

        def condition(unused_time, elements_finished, *_):
            return math_ops.logical_not(math_ops.reduce_all(elements_finished))

        def body(time, elements_finished, current_input, emit_ta, state, loop_state):
            next_output, cell_state = cell(current_input, state)
            _nest.assert_same_structure(state, cell_state)
            _nest.assert_same_structure(cell.output_size, next_output)
            next_time = time + 1
            (next_finished, next_input, next_state, emit_output,
             next_loop_state) = loop_fn(next_time, next_output, cell_state, loop_state)
            _nest.assert_same_structure(state, next_state)
            _nest.assert_same_structure(current_input, next_input)
            _nest.assert_same_structure(emit_ta, emit_output)
            if next_loop_state is not None:
                loop_state = next_loop_state

            def copy_some_through(current, candidate):
                # Rows finished before this step keep `current`; arrays and scalars are
                # not per row and take the candidate.
                def copy_one(cur, cand):
                    if isinstance(cur, TensorArray):
                        return cand
                    cand = graph_lib.convert_to_tensor(cand)
                    if cur.shape.rank == 0:
                        return cand
                    result = array_ops.where(elements_finished, cur, cand)
                    result.set_shape(cand.shape)
                    return result

                return _nest.map_structure(copy_one, current, candidate)

            emit_output = copy_some_through(zero_emit, emit_output)
            next_state = copy_some_through(state, next_state)
            emit_ta = _nest.map_structure(lambda ta, emit: ta.write(time, emit), emit_ta,
                                          emit_output)
            elements_finished = math_ops.logical_or(elements_finished, next_finished)
            return (next_time, elements_finished, next_input, emit_ta, next_state,
                    loop_state)

        returned = while_loop(condition, body,
                              [time, elements_finished, next_input, emit_ta, state,
                               loop_state],
                              parallel_iterations=parallel_iterations,
                              swap_memory=swap_memory)
        emit_ta, final_state, final_loop_state = returned[-3:]
        if init_loop_state is None:
            final_loop_state = None
        return emit_ta, final_state, final_loop_state


__all__ += ["raw_rnn"]
nn.raw_rnn = raw_rnn
