"""``tf.nn.raw_rnn`` and contrib's extra RNN pieces: the projection, embedding, highway and
attention wrappers, ``UGRNNCell``, ``CoupledInputForgetGateLSTMCell``, ``LSTMBlockFusedCell``
and the stacked bidirectional RNNs.

Values are checked against numpy references written here (weights loaded from a seeded
generator), against ``dynamic_rnn`` and against chains of the bidirectional RNNs. Variable
names and shapes are TF 1.15's (read from its contrib sources), so its checkpoints map.
"""

import numpy as np
import pytest

import sessionlib as tf

from test_rnn_cells import (_load_weights, _np_reverse, _numeric_gradient_check, _sigmoid,
                            np_basic_lstm, np_gru, np_lstm, np_static_rnn)

rc = tf.nn.rnn_cell
crnn = tf.contrib.rnn

T, B, D = 5, 4, 3
LENGTHS = np.array([5, 2, 0, 3], np.int32)


def _close(actual, expected):
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6)


def _time_major(seed=0, steps=T, depth=D):
    return np.random.RandomState(seed).randn(steps, B, depth).astype(np.float32)


def _names():
    return [(v.name, v.shape.as_list()) for v in tf.global_variables()]


def _run(fetches, prefix="", feed=None):
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        weights = _load_weights(sess, prefix)
        return sess.run(fetches, feed), weights


def _np_rnn(step, x_tm, state, lengths=None):
    outputs, state = np_static_rnn(step, list(x_tm), state, lengths)
    return np.stack(outputs), state


def _zeros(size):
    return np.zeros((B, size), np.float32)


def _check_gradients(loss, unused=()):
    """Every weight (but `unused`) gets a finite, non-zero gradient."""
    variables = [v for v in tf.trainable_variables() if v.name not in unused]
    (values, _), _ = _run((tf.gradients(loss, variables), loss))
    for var, value in zip(variables, values):
        assert np.all(np.isfinite(value)) and np.abs(value).sum() > 0, var.name


# ---- raw_rnn -----------------------------------------------------------------------------

def _reading_loop_fn(cell, inputs, lengths, batch=B, depth=D):
    """The loop_fn of TF's raw_rnn documentation: read step t until every row is done."""
    inputs_ta = tf.TensorArray(tf.float32, size=tf.shape(inputs)[0]).unstack(inputs)

    def loop_fn(time, cell_output, cell_state, loop_state):
        del loop_state
        next_state = cell.zero_state(batch, tf.float32) if cell_output is None else cell_state
        finished = time >= lengths
        next_input = tf.cond(tf.reduce_all(finished),
                             lambda: tf.zeros([batch, depth], tf.float32),
                             lambda: inputs_ta.read(time))
        return finished, next_input, next_state, cell_output, None

    return loop_fn


def test_raw_rnn_reproduces_dynamic_rnn(executor):
    x_np = _time_major()
    x = tf.constant(x_np)
    lengths = tf.placeholder(tf.int32, [B])
    cell = rc.BasicLSTMCell(3, forget_bias=0.5)
    emit_ta, state, loop_state = tf.nn.raw_rnn(cell, _reading_loop_fn(cell, x, lengths))
    assert loop_state is None and isinstance(emit_ta, tf.TensorArray)
    outputs = emit_ta.stack()
    dyn_out, dyn_state = tf.nn.dynamic_rnn(cell, x, sequence_length=lengths,
                                           dtype=tf.float32, time_major=True)
    assert _names() == [("rnn/basic_lstm_cell/kernel:0", [6, 12]),
                        ("rnn/basic_lstm_cell/bias:0", [12])]
    for seq in (LENGTHS, np.array([1, 4, 2, 2], np.int32)):
        (out_v, state_v, dyn_out_v, dyn_state_v), w = _run(
            (outputs, state, dyn_out, dyn_state), "rnn/basic_lstm_cell/", {lengths: seq})
        # The loop runs max(lengths) steps; dynamic_rnn pads the rest with zeros.
        assert out_v.shape == (seq.max(), B, 3)
        _close(out_v, dyn_out_v[:seq.max()])
        _close(state_v.c, dyn_state_v.c)
        _close(state_v.h, dyn_state_v.h)
        exp_out, exp_state = _np_rnn(lambda xt, s: np_basic_lstm(w, xt, s, 0.5), x_np,
                                     (_zeros(3), _zeros(3)), seq)
        _close(out_v, exp_out[:seq.max()])
        _close(state_v.h, exp_state[1])


def test_raw_rnn_emit_structure_loop_state_and_zero_emits(executor):
    x_np = _time_major(seed=1)
    x = tf.constant(x_np)
    lengths = tf.constant(LENGTHS)
    cell = rc.GRUCell(2)
    inputs_ta = tf.TensorArray(tf.float32, size=T).unstack(x)

    def loop_fn(time, cell_output, cell_state, loop_state):
        finished = time >= lengths
        next_input = inputs_ta.read(tf.minimum(time, T - 1))
        if cell_output is None:
            # The emit structure: per-row shapes and dtypes, different from the output.
            emit = (tf.zeros([2], tf.float32), tf.zeros([], tf.int32))
            return finished, next_input, cell.zero_state(B, tf.float32), emit, \
                tf.constant(0.0)
        emit = (cell_output * 2.0, tf.fill([B], time))
        return finished, next_input, cell_state, emit, loop_state + tf.reduce_sum(cell_output)

    (double_ta, time_ta), state, total = tf.nn.raw_rnn(cell, loop_fn, scope="raw")
    doubled, times = double_ta.stack(), time_ta.stack()
    assert doubled.shape.as_list() == [None, B, 2] and times.dtype == tf.int32
    assert [name for name, _ in _names()][0] == "raw/gru_cell/gates/kernel:0"
    (doubled_v, times_v, state_v, total_v), w = _run((doubled, times, state, total),
                                                     "raw/gru_cell/")
    exp_out, exp_state = _np_rnn(lambda xt, s: np_gru(w, xt, s), x_np, _zeros(2), LENGTHS)
    _close(doubled_v, 2 * exp_out)
    _close(state_v, exp_state)
    # Finished rows emit zeros; the others the time after their step.
    running = np.arange(T)[:, None] < LENGTHS[None, :]
    np.testing.assert_array_equal(times_v, np.where(running, np.arange(1, T + 1)[:, None], 0))
    # The loop state saw the unmasked outputs of every step run.
    unmasked, state_np = [], _zeros(2)
    for t in range(T):
        out, new_state = np_gru(w, x_np[t], state_np)
        unmasked.append(out)
        state_np = np.where(running[t][:, None], new_state, state_np)
    np.testing.assert_allclose(total_v, np.sum(unmasked), rtol=1e-4)


def test_raw_rnn_gradients_equal_dynamic_rnns(executor):
    x = tf.constant(_time_major(seed=2))
    cell = rc.LSTMCell(3, use_peepholes=True)
    emit_ta, state, _ = tf.nn.raw_rnn(cell, _reading_loop_fn(cell, x, tf.constant(LENGTHS)))
    dyn_out, dyn_state = tf.nn.dynamic_rnn(cell, x, sequence_length=LENGTHS,
                                           dtype=tf.float32, time_major=True)
    loss = tf.reduce_sum(tf.sin(emit_ta.stack())) + tf.reduce_sum(state.c * state.h)
    dyn_loss = tf.reduce_sum(tf.sin(dyn_out)) + tf.reduce_sum(dyn_state.c * dyn_state.h)
    sources = tf.trainable_variables() + [x]
    grads, dyn_grads = tf.gradients(loss, sources), tf.gradients(dyn_loss, sources)
    (got, expected), _ = _run((grads, dyn_grads))
    for g, e in zip(got, expected):
        assert np.abs(g).sum() > 0
        np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-5)


def test_raw_rnn_with_an_unknown_batch_size(executor):
    x = tf.placeholder(tf.float32, [None, None, D])
    lengths = tf.placeholder(tf.int32, [None])
    cell = rc.GRUCell(2)
    emit_ta, state, _ = tf.nn.raw_rnn(
        cell, _reading_loop_fn(cell, x, lengths, batch=tf.shape(x)[1]))
    outputs = emit_ta.stack()
    assert outputs.shape.as_list() == [None, None, 2] and state.shape.as_list() == [None, 2]
    x_np = _time_major(seed=3)[:, :3]
    (out_v, state_v), w = _run((outputs, state), "rnn/gru_cell/",
                               {x: x_np, lengths: [1, 3, 0]})
    exp, exp_state = np_static_rnn(lambda xt, s: np_gru(w, xt, s), list(x_np),
                                   np.zeros((3, 2), np.float32), [1, 3, 0])
    _close(out_v, np.stack(exp)[:3])
    _close(state_v, exp_state)


def test_raw_rnn_errors():
    cell = rc.GRUCell(2)
    with pytest.raises(TypeError, match="loop_fn must be a callable"):
        tf.nn.raw_rnn(cell, 3)
    with pytest.raises(TypeError, match="is not an RNNCell"):
        tf.nn.raw_rnn(object(), lambda *args: None)

    def wrong_state(time, cell_output, cell_state, loop_state):
        return (tf.constant([False]), tf.zeros([1, 2]), (tf.zeros([1, 2]), tf.zeros([1, 2])),
                None, None)

    with pytest.raises((TypeError, ValueError)):
        tf.nn.raw_rnn(cell, wrong_state)


# ---- the wrappers ------------------------------------------------------------------------

def _np_linear(w, prefix, *args):
    return np.concatenate(args, 1) @ w[prefix + "kernel"] + w[prefix + "bias"]


def test_output_and_input_projection_wrappers(executor):
    x_np = _time_major()
    x = tf.constant(x_np)
    out_cell = crnn.OutputProjectionWrapper(rc.BasicLSTMCell(3), 2, activation=tf.tanh)
    in_cell = crnn.InputProjectionWrapper(rc.GRUCell(2), 4)
    out_o, state_o = tf.nn.dynamic_rnn(out_cell, x, sequence_length=LENGTHS,
                                       dtype=tf.float32, time_major=True, scope="o")
    out_i, state_i = tf.nn.dynamic_rnn(in_cell, x, dtype=tf.float32, time_major=True,
                                       scope="i")
    assert out_cell.output_size == 2 and in_cell.output_size == 2
    assert _names() == [
        ("o/output_projection_wrapper/basic_lstm_cell/kernel:0", [6, 12]),
        ("o/output_projection_wrapper/basic_lstm_cell/bias:0", [12]),
        ("o/output_projection_wrapper/kernel:0", [3, 2]),
        ("o/output_projection_wrapper/bias:0", [2]),
        ("i/input_projection_wrapper/kernel:0", [3, 4]),
        ("i/input_projection_wrapper/bias:0", [4]),
        ("i/input_projection_wrapper/gru_cell/gates/kernel:0", [6, 4]),
        ("i/input_projection_wrapper/gru_cell/gates/bias:0", [4]),
        ("i/input_projection_wrapper/gru_cell/candidate/kernel:0", [6, 2]),
        ("i/input_projection_wrapper/gru_cell/candidate/bias:0", [2])]
    assert len(out_cell.trainable_weights) == 4 and len(in_cell.weights) == 6
    (o_v, so_v, i_v, si_v), w = _run((out_o, state_o, out_i, state_i))
    wo = {k[len("o/output_projection_wrapper/"):]: v for k, v in w.items() if k[0] == "o"}
    wi = {k[len("i/input_projection_wrapper/"):]: v for k, v in w.items() if k[0] == "i"}
    lstm_w = {k[len("basic_lstm_cell/"):]: v for k, v in wo.items() if "/" in k}
    gru_w = {k[len("gru_cell/"):]: v for k, v in wi.items() if "/" in k}

    def out_step(xt, s):
        h, new_s = np_basic_lstm(lstm_w, xt, s)
        return np.tanh(_np_linear(wo, "", h)), new_s

    exp, exp_state = _np_rnn(out_step, x_np, (_zeros(3), _zeros(3)), LENGTHS)
    _close(o_v, exp)
    _close(so_v.h, exp_state[1])
    exp, exp_state = _np_rnn(lambda xt, s: np_gru(gru_w, _np_linear(wi, "", xt), s), x_np,
                             _zeros(2))
    _close(i_v, exp)
    _close(si_v, exp_state)


def test_embedding_wrapper(executor):
    ids_np = np.random.RandomState(3).randint(0, 7, size=(T, B, 1)).astype(np.int32)
    cell = crnn.EmbeddingWrapper(rc.BasicRNNCell(3), embedding_classes=7, embedding_size=5)
    outputs, state = tf.nn.dynamic_rnn(cell, tf.constant(ids_np), dtype=tf.float32,
                                       time_major=True)
    assert _names() == [("rnn/embedding_wrapper/embedding:0", [7, 5]),
                        ("rnn/embedding_wrapper/basic_rnn_cell/kernel:0", [8, 3]),
                        ("rnn/embedding_wrapper/basic_rnn_cell/bias:0", [3])]
    (out_v, state_v), w = _run((outputs, state), "rnn/embedding_wrapper/")

    def step(ids, h):
        x = w["embedding"][ids.reshape(-1)]
        out = np.tanh(np.concatenate([x, h], 1) @ w["basic_rnn_cell/kernel"]
                      + w["basic_rnn_cell/bias"])
        return out, out

    exp, exp_state = _np_rnn(step, ids_np, _zeros(3))
    _close(out_v, exp)
    _close(state_v, exp_state)
    with pytest.raises(ValueError, match="must be > 0"):
        crnn.EmbeddingWrapper(rc.BasicRNNCell(3), 0, 5)


@pytest.mark.parametrize("coupled", [True, False])
def test_highway_wrapper(executor, coupled):
    x_np = _time_major(depth=3)
    cell = crnn.HighwayWrapper(rc.GRUCell(3), couple_carry_transform_gates=coupled,
                               carry_bias_init=0.5)
    outputs, state = tf.nn.dynamic_rnn(cell, tf.constant(x_np), sequence_length=LENGTHS,
                                       dtype=tf.float32, time_major=True)
    expected_names = [("rnn/gru_cell/gates/kernel:0", [6, 6]),
                      ("rnn/gru_cell/gates/bias:0", [6]),
                      ("rnn/gru_cell/candidate/kernel:0", [6, 3]),
                      ("rnn/gru_cell/candidate/bias:0", [3]),
                      ("rnn/carry_w:0", [3, 3]), ("rnn/carry_b:0", [3])]
    if not coupled:
        expected_names += [("rnn/transform_w:0", [3, 3]), ("rnn/transform_b:0", [3])]
    assert _names() == expected_names
    assert len(cell.trainable_weights) == len(expected_names)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        biases = sess.run([v for v in tf.global_variables() if v.name.endswith("_b:0")])
    _close(biases[0], np.full(3, 0.5))
    if not coupled:
        _close(biases[1], np.full(3, -0.5))
    (out_v, state_v), w = _run((outputs, state), "rnn/")
    gru_w = {k[len("gru_cell/"):]: v for k, v in w.items() if k.startswith("gru_cell/")}

    def step(xt, s):
        out, new_s = np_gru(gru_w, xt, s)
        carry = _sigmoid(xt @ w["carry_w"] + w["carry_b"])
        transform = 1 - carry if coupled else _sigmoid(xt @ w["transform_w"]
                                                       + w["transform_b"])
        return xt * carry + out * transform, new_s

    exp, exp_state = _np_rnn(step, x_np, _zeros(3), LENGTHS)
    _close(out_v, exp)
    _close(state_v, exp_state)


def _np_attention_step(w, x, state, length, size, state_is_tuple=True, cell_units=3):
    if state_is_tuple:
        (c, h), attns, window = state
    else:
        c, h = state[:, :cell_units], state[:, cell_units:2 * cell_units]
        attns = state[:, 2 * cell_units:2 * cell_units + size]
        window = state[:, 2 * cell_units + size:]
    window = window.reshape(-1, length, size)
    x = _np_linear(w, "", x, attns)
    lstm_w = {k[len("lstm_cell/"):]: v for k, v in w.items() if k.startswith("lstm_cell/")}
    cell_out, (c, h) = np_lstm(lstm_w, x, (c, h))
    query = np.concatenate([c, h], 1)
    vec = w["attention/attn_w"].shape[-1]
    hidden = window.reshape(-1, size) @ w["attention/attn_w"].reshape(size, vec)
    y = _np_linear(w, "attention/", query)
    scores = (w["attention/attn_v"] * np.tanh(hidden.reshape(-1, length, vec)
                                              + y[:, None, :])).sum(2)
    weights = np.exp(scores - scores.max(1, keepdims=True))
    weights /= weights.sum(1, keepdims=True)
    new_attns = (weights[:, :, None] * window).sum(1)
    output = _np_linear(w, "attn_output_projection/", cell_out, new_attns)
    new_window = np.concatenate([window[:, 1:], output[:, None]], 1).reshape(len(x), -1)
    if state_is_tuple:
        return output, ((c, h), new_attns, new_window)
    return output, np.concatenate([c, h, new_attns, new_window], 1)


@pytest.mark.parametrize("state_is_tuple", [True, False])
def test_attention_cell_wrapper(executor, state_is_tuple):
    x_np = _time_major(seed=4)
    inner = rc.LSTMCell(3, state_is_tuple=state_is_tuple)
    cell = crnn.AttentionCellWrapper(inner, attn_length=3, attn_size=4, attn_vec_size=5,
                                     state_is_tuple=state_is_tuple)
    assert cell.output_size == 4
    assert cell.state_size == ((rc.LSTMStateTuple(3, 3), 4, 12) if state_is_tuple else 22)
    outputs, state = tf.nn.dynamic_rnn(cell, tf.constant(x_np), sequence_length=LENGTHS,
                                       dtype=tf.float32, time_major=True)
    prefix = "rnn/attention_cell_wrapper/"
    assert _names() == [(prefix + name, shape) for name, shape in [
        ("kernel:0", [7, 3]), ("bias:0", [3]),
        ("lstm_cell/kernel:0", [6, 12]), ("lstm_cell/bias:0", [12]),
        ("attention/attn_w:0", [1, 1, 4, 5]), ("attention/attn_v:0", [5]),
        ("attention/kernel:0", [6, 5]), ("attention/bias:0", [5]),
        ("attn_output_projection/kernel:0", [7, 4]), ("attn_output_projection/bias:0", [4])]]
    (out_v, state_v), w = _run((outputs, state), prefix)
    if state_is_tuple:
        init = ((_zeros(3), _zeros(3)), _zeros(4), _zeros(12))
    else:
        init = _zeros(22)
    exp, exp_state = _np_rnn(
        lambda xt, s: _np_attention_step(w, xt, s, 3, 4, state_is_tuple), x_np, init, LENGTHS)
    _close(out_v, exp)
    if state_is_tuple:
        _close(state_v[0].h, exp_state[0][1])
        _close(state_v[1], exp_state[1])
        _close(state_v[2], exp_state[2])
    else:
        _close(state_v, exp_state)


def test_attention_cell_wrapper_errors():
    with pytest.raises(ValueError, match="attn_length should be greater than zero"):
        crnn.AttentionCellWrapper(rc.GRUCell(2), 0)
    with pytest.raises(ValueError, match="state_is_tuple is not set"):
        crnn.AttentionCellWrapper(rc.BasicLSTMCell(2), 2, state_is_tuple=False)


@pytest.mark.parametrize("make_cell", [
    lambda: crnn.OutputProjectionWrapper(rc.GRUCell(3), 2, activation=tf.tanh),
    lambda: crnn.InputProjectionWrapper(rc.GRUCell(2), 3),
    lambda: crnn.HighwayWrapper(rc.GRUCell(2), couple_carry_transform_gates=False),
    lambda: crnn.AttentionCellWrapper(rc.GRUCell(2), attn_length=2, attn_vec_size=3),
    lambda: crnn.UGRNNCell(2),
    lambda: crnn.CoupledInputForgetGateLSTMCell(2, use_peepholes=True, num_proj=2),
], ids=["output_projection", "input_projection", "highway", "attention", "ugrnn", "cifg"])
def test_numeric_gradients(make_cell):
    _numeric_gradient_check(make_cell)


def test_embedding_gradients_flow(executor):
    ids = tf.constant(np.arange(T * B).reshape(T, B, 1) % 6, tf.int32)
    outputs, _ = tf.nn.dynamic_rnn(crnn.EmbeddingWrapper(rc.GRUCell(2), 6, 3), ids,
                                   dtype=tf.float32, time_major=True)
    _check_gradients(tf.reduce_sum(tf.sin(outputs)))


# ---- the cells ---------------------------------------------------------------------------

def test_ugrnn_cell(executor):
    x_np = _time_major(seed=6)
    cell = crnn.UGRNNCell(3, forget_bias=0.3)
    outputs, state = tf.nn.dynamic_rnn(cell, tf.constant(x_np), sequence_length=LENGTHS,
                                       dtype=tf.float32, time_major=True)
    assert _names() == [("rnn/ugrnn_cell/kernel:0", [6, 6]), ("rnn/ugrnn_cell/bias:0", [6])]
    (out_v, state_v), w = _run((outputs, state), "rnn/ugrnn_cell/")

    def step(xt, h):
        g_act, c_act = np.split(_np_linear(w, "", xt, h), 2, axis=1)
        gate = _sigmoid(g_act + 0.3)
        new_h = gate * h + (1 - gate) * np.tanh(c_act)
        return new_h, new_h

    exp, exp_state = _np_rnn(step, x_np, _zeros(3), LENGTHS)
    _close(out_v, exp)
    _close(state_v, exp_state)


def _np_cifg(w, x, state, peepholes=False, proj=None, proj_clip=None, units=3,
             state_is_tuple=True):
    if state_is_tuple:
        c, m = state
    else:
        c, m = state[:, :units], state[:, units:]
    kernel = np.concatenate([w[k] for k in sorted(w) if k.startswith("W_")
                             and k[2:].isdigit()], 0)
    j, f, o = np.split(np.concatenate([x, m], 1) @ kernel + w["B"], 3, axis=1)
    f = _sigmoid(f + 1.0 + (w["W_F_diag"] * c if peepholes else 0))
    c = f * c + (1 - f) * np.tanh(j)
    m = _sigmoid(o + (w["W_O_diag"] * c if peepholes else 0)) * np.tanh(c)
    if proj:
        m = m @ w["W_P_0"]
        if proj_clip is not None:
            m = np.clip(m, -proj_clip, proj_clip)
    return m, ((c, m) if state_is_tuple else np.concatenate([c, m], 1))


@pytest.mark.parametrize("options", ["basic", "peepholes_projection_shards", "concat_state"])
def test_coupled_input_forget_gate_lstm_cell(executor, options):
    x_np = _time_major(seed=7)
    kwargs = {}
    if options == "peepholes_projection_shards":
        kwargs = dict(use_peepholes=True, num_proj=2, proj_clip=0.3, num_unit_shards=2)
    if options == "concat_state":
        kwargs = dict(state_is_tuple=False)
    cell = crnn.CoupledInputForgetGateLSTMCell(3, **kwargs)
    outputs, state = tf.nn.dynamic_rnn(cell, tf.constant(x_np), sequence_length=LENGTHS,
                                       dtype=tf.float32, time_major=True)
    prefix = "rnn/coupled_input_forget_gate_lstm_cell/"
    if options == "peepholes_projection_shards":
        expected = [("W_0", [3, 9]), ("W_1", [2, 9]), ("B", [9]), ("W_F_diag", [3]),
                    ("W_O_diag", [3]), ("W_P_0", [3, 2])]
    else:
        expected = [("W_0", [6, 9]), ("B", [9])]
    assert _names() == [(f"{prefix}{name}:0", shape) for name, shape in expected]
    (out_v, state_v), w = _run((outputs, state), prefix)
    proj = kwargs.get("num_proj")
    h_size = proj or 3
    tuple_state = options != "concat_state"
    init = (_zeros(3), _zeros(h_size)) if tuple_state else _zeros(6)
    exp, exp_state = _np_rnn(
        lambda xt, s: _np_cifg(w, xt, s, "use_peepholes" in kwargs, proj,
                               kwargs.get("proj_clip"), state_is_tuple=tuple_state),
        x_np, init, LENGTHS)
    _close(out_v, exp)
    if tuple_state:
        _close(state_v.c, exp_state[0])
        _close(state_v.h, exp_state[1])
    else:
        _close(state_v, exp_state)


def test_coupled_input_forget_gate_layer_norm_names_and_gradients(executor):
    cell = crnn.CoupledInputForgetGateLSTMCell(3, layer_norm=True, norm_gain=0.5)
    outputs, _ = tf.nn.dynamic_rnn(cell, tf.constant(_time_major(seed=8)), dtype=tf.float32,
                                   time_major=True)
    prefix = "rnn/coupled_input_forget_gate_lstm_cell/"
    names = [name for name, _ in _names()]
    assert names[:2] == [prefix + "W_0:0", prefix + "B:0"]
    assert {prefix + f"{scope}/{v}:0" for scope in ("transform", "forget", "output", "state")
            for v in ("gamma", "beta")} == set(names[2:])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        gamma = sess.run(tf.global_variables()[2])
    _close(gamma, np.full(3, 0.5))
    # As in contrib, B is made but not added under layer norm (the norms' betas shift).
    _check_gradients(tf.reduce_sum(tf.sin(outputs)), unused=(prefix + "B:0",))


# ---- LSTMBlockFusedCell ------------------------------------------------------------------

@pytest.mark.parametrize("peephole_clip", [False, True])
def test_lstm_block_fused_cell_matches_numpy(executor, peephole_clip):
    x_np = _time_major(seed=9)
    x = tf.placeholder(tf.float32, [None, None, D])
    lengths = tf.placeholder(tf.int64, [None])
    cell = crnn.LSTMBlockFusedCell(3, forget_bias=0.8, use_peephole=peephole_clip,
                                   cell_clip=0.4 if peephole_clip else None)
    outputs, state = cell(x, dtype=tf.float32, sequence_length=lengths)
    expected = [("kernel", [6, 12]), ("bias", [12])]
    if peephole_clip:
        expected += [("w_i_diag", [3]), ("w_f_diag", [3]), ("w_o_diag", [3])]
    assert _names() == [(f"lstm_fused_cell/{name}:0", shape) for name, shape in expected]
    assert isinstance(state, rc.LSTMStateTuple)
    rng = np.random.RandomState(1)
    init_np = (rng.randn(B, 3).astype(np.float32), rng.randn(B, 3).astype(np.float32))
    out_init, state_init = cell(x, initial_state=tuple(tf.constant(v) for v in init_np))
    for seq in (LENGTHS, np.array([1, 5, 3, 3])):
        (out_v, state_v, out2_v, state2_v), w = _run(
            (outputs, state, out_init, state_init), "lstm_fused_cell/",
            {x: x_np, lengths: seq})

        def step(xt, s):
            return np_lstm(w, xt, s, forget_bias=0.8, peepholes=peephole_clip,
                           cell_clip=0.4 if peephole_clip else None)

        exp, exp_state = _np_rnn(step, x_np, (_zeros(3), _zeros(3)), seq)
        _close(out_v, exp)
        _close(state_v.c, exp_state[0])
        _close(state_v.h, exp_state[1])
        exp, exp_state = _np_rnn(step, x_np, init_np)
        _close(out2_v, exp)
        _close(state2_v.h, exp_state[1])


def test_lstm_block_fused_cell_list_inputs_names_and_gradients(executor):
    x_np = _time_major(seed=10)
    steps = [tf.constant(x_np[t]) for t in range(T)]
    with tf.variable_scope("enc"):
        cell = crnn.LSTMBlockFusedCell(3, name="lstm_cell")
        outputs, state = cell(steps, dtype=tf.float32)
    assert isinstance(outputs, list) and len(outputs) == T
    assert _names() == [("enc/lstm_cell/kernel:0", [6, 12]), ("enc/lstm_cell/bias:0", [12])]
    (out_v, state_v), w = _run((outputs, state), "enc/lstm_cell/")
    exp, exp_state = _np_rnn(lambda xt, s: np_lstm(w, xt, s), x_np, (_zeros(3), _zeros(3)))
    _close(np.stack(out_v), exp)
    _close(state_v.c, exp_state[0])
    _check_gradients(tf.reduce_sum(tf.sin(tf.stack(outputs))) + tf.reduce_sum(state.c))
    with pytest.raises(ValueError, match="Either initial_state or dtype"):
        crnn.LSTMBlockFusedCell(2)(tf.constant(x_np))


# ---- stacked bidirectional RNNs ----------------------------------------------------------

def test_stack_bidirectional_dynamic_rnn_equals_chained_layers(executor):
    x_np = _time_major(seed=11).transpose(1, 0, 2)
    x = tf.constant(x_np)
    cells_fw = [rc.BasicLSTMCell(3), rc.GRUCell(2)]
    cells_bw = [rc.GRUCell(2), rc.BasicLSTMCell(3)]
    outputs, states_fw, states_bw = crnn.stack_bidirectional_dynamic_rnn(
        cells_fw, cells_bw, x, sequence_length=LENGTHS, dtype=tf.float32)
    assert outputs.shape.as_list() == [B, T, 5]
    assert len(states_fw) == len(states_bw) == 2
    names = [name for name, _ in _names()]
    assert names[0] == ("stack_bidirectional_rnn/cell_0/bidirectional_rnn/fw/basic_lstm_cell/"
                        "kernel:0")
    assert "stack_bidirectional_rnn/cell_1/bidirectional_rnn/bw/basic_lstm_cell/bias:0" in names
    assert len(names) == 12
    # The same cells (so the same weights) chained by hand.
    layer = x
    manual_states = []
    for cell_fw, cell_bw in zip(cells_fw, cells_bw):
        (out_fw, out_bw), layer_states = tf.nn.bidirectional_dynamic_rnn(
            cell_fw, cell_bw, layer, sequence_length=LENGTHS, dtype=tf.float32)
        layer = tf.concat([out_fw, out_bw], 2)
        manual_states.append(layer_states)
    assert len(tf.global_variables()) == 12
    (out_v, fw_v, bw_v, manual_v, manual_states_v), _ = _run(
        (outputs, states_fw, states_bw, layer, manual_states))
    _close(out_v, manual_v)
    _close(fw_v[1], manual_states_v[1][0])
    _close(bw_v[0], manual_states_v[0][1])
    _close(bw_v[1].h, manual_states_v[1][1].h)
    # Past a row's length both directions give zeros.
    assert not np.any(out_v[1, 2:]) and not np.any(out_v[2])
    _check_gradients(tf.reduce_sum(tf.sin(outputs)))


def test_stack_bidirectional_rnn_equals_chained_layers_and_numpy(executor):
    x_np = _time_major(seed=12)
    inputs = [tf.constant(x_np[t]) for t in range(T)]
    cells_fw = [rc.GRUCell(2), rc.GRUCell(2)]
    cells_bw = [rc.GRUCell(2), rc.GRUCell(2)]
    outputs, states_fw, states_bw = crnn.stack_bidirectional_rnn(
        cells_fw, cells_bw, inputs, sequence_length=LENGTHS, dtype=tf.float32)
    assert len(outputs) == T and outputs[0].shape.as_list() == [B, 4]
    names = [name for name, _ in _names()]
    assert names[:2] == ["stack_bidirectional_rnn/cell_0/fw/gru_cell/gates/kernel:0",
                         "stack_bidirectional_rnn/cell_0/fw/gru_cell/gates/bias:0"]
    assert names[-1] == "stack_bidirectional_rnn/cell_1/bw/gru_cell/candidate/bias:0"
    layer = inputs
    for cell_fw, cell_bw in zip(cells_fw, cells_bw):
        layer, _, _ = tf.nn.static_bidirectional_rnn(cell_fw, cell_bw, layer,
                                                     sequence_length=LENGTHS,
                                                     dtype=tf.float32)
    (out_v, fw_v, bw_v, manual_v), w = _run((outputs, states_fw, states_bw, layer),
                                            "stack_bidirectional_rnn/")
    _close(np.stack(out_v), np.stack(manual_v))
    layer_np = list(x_np)
    for i in range(2):
        fw_w = {k.split("gru_cell/")[1]: v for k, v in w.items()
                if k.startswith(f"cell_{i}/fw/")}
        bw_w = {k.split("gru_cell/")[1]: v for k, v in w.items()
                if k.startswith(f"cell_{i}/bw/")}
        fw_out, fw_state = np_static_rnn(lambda xt, s: np_gru(fw_w, xt, s), layer_np,
                                         _zeros(2), LENGTHS)
        bw_out, bw_state = np_static_rnn(lambda xt, s: np_gru(bw_w, xt, s),
                                         _np_reverse(layer_np, LENGTHS), _zeros(2), LENGTHS)
        bw_out = _np_reverse(bw_out, LENGTHS)
        layer_np = [np.concatenate([f, b], 1) for f, b in zip(fw_out, bw_out)]
        _close(fw_v[i], fw_state)
        _close(bw_v[i], bw_state)
    _close(np.stack(out_v), np.stack(layer_np))


def test_stack_bidirectional_errors():
    x = tf.zeros([2, 3, 4])
    with pytest.raises(ValueError, match="at least one fw cell"):
        crnn.stack_bidirectional_dynamic_rnn([], [rc.GRUCell(2)], x, dtype=tf.float32)
    with pytest.raises(ValueError, match="cells_fw must be a list"):
        crnn.stack_bidirectional_dynamic_rnn((rc.GRUCell(2),), [rc.GRUCell(2)], x,
                                             dtype=tf.float32)
    with pytest.raises(ValueError, match="same depth"):
        crnn.stack_bidirectional_rnn([rc.GRUCell(2)], [rc.GRUCell(2)] * 2, [x[0]],
                                     dtype=tf.float32)
    with pytest.raises(ValueError, match="initial_states_fw must be a list"):
        crnn.stack_bidirectional_dynamic_rnn([rc.GRUCell(2)], [rc.GRUCell(2)], x,
                                             initial_states_fw=[], dtype=tf.float32)
