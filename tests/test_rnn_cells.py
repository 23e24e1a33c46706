"""RNN cells (``tf.nn.rnn_cell``, ``tf.contrib.rnn``) and static RNNs (``tf.nn.static_rnn``,
``tf.nn.static_bidirectional_rnn``).

Values are checked against numpy implementations of each cell written here, with the weights
loaded from a seeded numpy generator (so that units differ). Variable names and shapes, and the
values of the constant-initializer case, were checked against TF 2.21
(``tf.compat.v1.nn.rnn_cell`` with tf-keras' legacy cells, TF_USE_LEGACY_KERAS=1) and written
here; by hand, every cell and RNN here also matched TF to 3e-7 with the same loaded weights.
"""

import numpy as np
import pytest

import sessionlib as tf

rc = tf.nn.rnn_cell


# ---- numpy references ---------------------------------------------------------------------

def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def np_basic_rnn(w, x, h):
    out = np.tanh(np.concatenate([x, h], 1) @ w["kernel"] + w["bias"])
    return out, out


def np_basic_lstm(w, x, state, forget_bias=1.0):
    c, h = state
    z = np.concatenate([x, h], 1) @ w["kernel"] + w["bias"]
    i, j, f, o = np.split(z, 4, axis=1)  # TF's gate order
    new_c = c * _sigmoid(f + forget_bias) + _sigmoid(i) * np.tanh(j)
    new_h = np.tanh(new_c) * _sigmoid(o)
    return new_h, (new_c, new_h)


def np_lstm(w, x, state, forget_bias=1.0, peepholes=False, cell_clip=None, proj=False,
            proj_clip=None):
    c_prev, m_prev = state
    z = np.concatenate([x, m_prev], 1) @ w["kernel"] + w["bias"]
    i, j, f, o = np.split(z, 4, axis=1)
    if peepholes:
        c = (_sigmoid(f + forget_bias + w["w_f_diag"] * c_prev) * c_prev
             + _sigmoid(i + w["w_i_diag"] * c_prev) * np.tanh(j))
    else:
        c = _sigmoid(f + forget_bias) * c_prev + _sigmoid(i) * np.tanh(j)
    if cell_clip is not None:
        c = np.clip(c, -cell_clip, cell_clip)
    if peepholes:
        m = _sigmoid(o + w["w_o_diag"] * c) * np.tanh(c)
    else:
        m = _sigmoid(o) * np.tanh(c)
    if proj:
        m = m @ w["projection/kernel"]
        if proj_clip is not None:
            m = np.clip(m, -proj_clip, proj_clip)
    return m, (c, m)


def np_gru(w, x, h):
    gates = _sigmoid(np.concatenate([x, h], 1) @ w["gates/kernel"] + w["gates/bias"])
    r, u = np.split(gates, 2, axis=1)
    cand = np.tanh(np.concatenate([x, r * h], 1) @ w["candidate/kernel"] + w["candidate/bias"])
    new_h = u * h + (1 - u) * cand
    return new_h, new_h


def np_static_rnn(step, xs, state, sequence_length=None):
    """Unrolls `step(x, state) -> (out, state)`; past a row's length the output is zero and
    the state is carried (TF's static_rnn)."""
    outputs = []
    for t, x in enumerate(xs):
        out, new_state = step(x, state)
        if sequence_length is not None:
            done = (t >= np.asarray(sequence_length))[:, None]
            out = np.where(done, 0.0, out)
            new_state = _np_map(lambda old, new: np.where(done, old, new), state, new_state)
        outputs.append(out)
        state = new_state
    return outputs, state


def _np_map(fn, a, b):
    if isinstance(a, tuple):
        return tuple(_np_map(fn, x, y) for x, y in zip(a, b))
    return fn(a, b)


def _np_reverse(xs, lengths):
    out = [x.copy() for x in xs]
    for b, n in enumerate(lengths):
        for t in range(n):
            out[t][b] = xs[n - 1 - t][b]
    return out


# ---- helpers ------------------------------------------------------------------------------

def _inputs(steps=3, batch=4, depth=2, seed=0):
    rng = np.random.RandomState(seed)
    return [rng.randn(batch, depth).astype(np.float32) for _ in range(steps)]


def _load_weights(sess, prefix, scale=0.5, seed=1):
    """Loads seeded random values into every variable; returns them by name below `prefix`."""
    rng = np.random.RandomState(seed)
    weights = {}
    for var in sorted(tf.global_variables(), key=lambda v: v.name):
        value = (rng.randn(*var.shape.as_list()) * scale).astype(var.dtype.as_numpy_dtype)
        var.load(value, sess)
        weights[var.name[len(prefix):-2]] = value
    return weights


def _run_rnn(fetches, prefix, feed=None):
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        weights = _load_weights(sess, prefix)
        return sess.run(fetches, feed), weights


def _names(variables=None):
    variables = tf.global_variables() if variables is None else variables
    return [(v.name, v.shape.as_list()) for v in variables]


def _close(actual, expected):
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6)


# ---- variable names and shapes (TF 2.21's) ------------------------------------------------

NAME_CASES = {
    "basic_rnn": (lambda: rc.BasicRNNCell(4),
                  [("rnn/basic_rnn_cell/kernel:0", [7, 4]), ("rnn/basic_rnn_cell/bias:0", [4])]),
    "basic_lstm": (lambda: rc.BasicLSTMCell(4),
                   [("rnn/basic_lstm_cell/kernel:0", [7, 16]),
                    ("rnn/basic_lstm_cell/bias:0", [16])]),
    "lstm": (lambda: rc.LSTMCell(4, use_peepholes=True, num_proj=2),
             [("rnn/lstm_cell/kernel:0", [5, 16]), ("rnn/lstm_cell/bias:0", [16]),
              ("rnn/lstm_cell/w_f_diag:0", [4]), ("rnn/lstm_cell/w_i_diag:0", [4]),
              ("rnn/lstm_cell/w_o_diag:0", [4]), ("rnn/lstm_cell/projection/kernel:0", [4, 2])]),
    "gru": (lambda: rc.GRUCell(4),
            [("rnn/gru_cell/gates/kernel:0", [7, 8]), ("rnn/gru_cell/gates/bias:0", [8]),
             ("rnn/gru_cell/candidate/kernel:0", [7, 4]),
             ("rnn/gru_cell/candidate/bias:0", [4])]),
    "multi": (lambda: rc.MultiRNNCell([rc.BasicLSTMCell(4), rc.GRUCell(3)]),
              [("rnn/multi_rnn_cell/cell_0/basic_lstm_cell/kernel:0", [7, 16]),
               ("rnn/multi_rnn_cell/cell_0/basic_lstm_cell/bias:0", [16]),
               ("rnn/multi_rnn_cell/cell_1/gru_cell/gates/kernel:0", [7, 6]),
               ("rnn/multi_rnn_cell/cell_1/gru_cell/gates/bias:0", [6]),
               ("rnn/multi_rnn_cell/cell_1/gru_cell/candidate/kernel:0", [7, 3]),
               ("rnn/multi_rnn_cell/cell_1/gru_cell/candidate/bias:0", [3])]),
    # Wrappers add no scope of their own.
    "dropout": (lambda: rc.DropoutWrapper(rc.BasicLSTMCell(4), 0.5, 0.5, 0.5),
                [("rnn/basic_lstm_cell/kernel:0", [7, 16]),
                 ("rnn/basic_lstm_cell/bias:0", [16])]),
    "residual": (lambda: rc.ResidualWrapper(rc.BasicRNNCell(3)),
                 [("rnn/basic_rnn_cell/kernel:0", [6, 3]), ("rnn/basic_rnn_cell/bias:0", [3])]),
    "device": (lambda: rc.DeviceWrapper(rc.BasicRNNCell(3), "/cpu:0"),
               [("rnn/basic_rnn_cell/kernel:0", [6, 3]), ("rnn/basic_rnn_cell/bias:0", [3])]),
    "multi_wrapped": (lambda: rc.MultiRNNCell([rc.DropoutWrapper(rc.BasicLSTMCell(4), 0.5),
                                               rc.ResidualWrapper(rc.BasicLSTMCell(4))]),
                      [("rnn/multi_rnn_cell/cell_0/basic_lstm_cell/kernel:0", [7, 16]),
                       ("rnn/multi_rnn_cell/cell_0/basic_lstm_cell/bias:0", [16]),
                       ("rnn/multi_rnn_cell/cell_1/basic_lstm_cell/kernel:0", [8, 16]),
                       ("rnn/multi_rnn_cell/cell_1/basic_lstm_cell/bias:0", [16])]),
    "named": (lambda: rc.BasicLSTMCell(4, name="foo"),
              [("rnn/foo/kernel:0", [7, 16]), ("rnn/foo/bias:0", [16])]),
}


@pytest.mark.parametrize("case", sorted(NAME_CASES))
def test_variable_names_and_shapes_are_tf1s(case):
    make_cell, expected = NAME_CASES[case]
    xs = [tf.placeholder(tf.float32, [2, 3]) for _ in range(3)]
    outputs, _ = tf.nn.static_rnn(make_cell(), xs, dtype=tf.float32)
    assert len(outputs) == 3
    assert _names() == expected
    # One set of weights serves every step.
    assert _names(tf.trainable_variables()) == expected


def test_scope_names_of_rnns_and_direct_calls():
    xs = [tf.placeholder(tf.float32, [2, 3]) for _ in range(2)]
    tf.nn.static_rnn(rc.BasicLSTMCell(4), xs, dtype=tf.float32, scope="enc")
    cell = rc.BasicLSTMCell(4)
    cell(xs[0], cell.zero_state(2, tf.float32))
    rc.GRUCell(4)(xs[0], tf.zeros([2, 4]), scope="mine")
    tf.nn.static_bidirectional_rnn(rc.BasicLSTMCell(4), rc.GRUCell(2), xs, dtype=tf.float32)
    assert _names() == [
        ("enc/basic_lstm_cell/kernel:0", [7, 16]), ("enc/basic_lstm_cell/bias:0", [16]),
        ("basic_lstm_cell/kernel:0", [7, 16]), ("basic_lstm_cell/bias:0", [16]),
        ("mine/gates/kernel:0", [7, 8]), ("mine/gates/bias:0", [8]),
        ("mine/candidate/kernel:0", [7, 4]), ("mine/candidate/bias:0", [4]),
        ("bidirectional_rnn/fw/basic_lstm_cell/kernel:0", [7, 16]),
        ("bidirectional_rnn/fw/basic_lstm_cell/bias:0", [16]),
        ("bidirectional_rnn/bw/gru_cell/gates/kernel:0", [5, 4]),
        ("bidirectional_rnn/bw/gru_cell/gates/bias:0", [4]),
        ("bidirectional_rnn/bw/gru_cell/candidate/kernel:0", [5, 2]),
        ("bidirectional_rnn/bw/gru_cell/candidate/bias:0", [2])]


def test_a_cell_object_shares_its_weights_across_rnns():
    xs = [tf.placeholder(tf.float32, [2, 3]) for _ in range(2)]
    cell = rc.BasicLSTMCell(4)
    tf.nn.static_rnn(cell, xs, dtype=tf.float32)
    tf.nn.static_rnn(cell, xs, dtype=tf.float32, scope="rnn2")
    assert _names() == [("rnn/basic_lstm_cell/kernel:0", [7, 16]),
                        ("rnn/basic_lstm_cell/bias:0", [16])]
    assert [v.name for v in cell.trainable_variables] == ["rnn/basic_lstm_cell/kernel:0",
                                                          "rnn/basic_lstm_cell/bias:0"]
    # As TF 2.21: after another scope was opened, a new cell gets a new layer scope.
    tf.nn.static_rnn(rc.BasicLSTMCell(4), xs, dtype=tf.float32)
    assert [name for name, _ in _names()][2:] == ["rnn/basic_lstm_cell_1/kernel:0",
                                                  "rnn/basic_lstm_cell_1/bias:0"]


def test_a_second_new_cell_in_the_same_rnn_scope_is_refused():
    xs = [tf.placeholder(tf.float32, [2, 3]) for _ in range(2)]
    tf.nn.static_rnn(rc.BasicLSTMCell(4), xs, dtype=tf.float32)
    # TF 2.21: "Variable rnn/basic_lstm_cell/kernel already exists, disallowed."
    with pytest.raises(ValueError, match="rnn/basic_lstm_cell/kernel already exists"):
        tf.nn.static_rnn(rc.BasicLSTMCell(4), xs, dtype=tf.float32)


def test_sizes_and_zero_states():
    assert rc.BasicLSTMCell(4).state_size == rc.LSTMStateTuple(4, 4)
    assert rc.BasicLSTMCell(3, state_is_tuple=False).state_size == 6
    assert rc.LSTMCell(3, num_proj=2).state_size == (3, 2)
    assert rc.LSTMCell(3, num_proj=2).output_size == 2
    assert rc.LSTMCell(3, num_proj=2, state_is_tuple=False).state_size == 5
    multi = rc.MultiRNNCell([rc.GRUCell(2), rc.BasicLSTMCell(3)])
    assert multi.state_size == (2, rc.LSTMStateTuple(3, 3))
    assert multi.output_size == 3
    zero = multi.zero_state(4, tf.float32)
    assert isinstance(zero[1], rc.LSTMStateTuple)
    assert zero[0].name == "MultiRNNCellZeroState/GRUCellZeroState/zeros:0"
    assert zero[1].c.shape.as_list() == [4, 3] and zero[1].dtype == tf.float32
    batch = tf.placeholder(tf.int32, [])
    dynamic = rc.BasicRNNCell(5).zero_state(batch, tf.float64)
    assert dynamic.shape.as_list() == [None, 5]
    with tf.Session() as sess:
        values = sess.run([zero, dynamic], {batch: 2})
    assert values[0][1].h.shape == (4, 3) and not values[0][1].h.any()
    assert values[1].shape == (2, 5) and values[1].dtype == np.float64


# ---- values against numpy ---------------------------------------------------------------

def _check_static_rnn(make_cell, np_step, state0, sequence_length=None, executor=None):
    xs_np = _inputs()
    xs = [tf.constant(x) for x in xs_np]
    outputs, state = tf.nn.static_rnn(make_cell(), xs, dtype=tf.float32,
                                      sequence_length=sequence_length)
    (out_v, state_v), w = _run_rnn((outputs, state), prefix="rnn/" + _cell_scope())
    exp_out, exp_state = np_static_rnn(lambda x, s: np_step(w, x, s), xs_np, state0,
                                       sequence_length)
    for actual, expected in zip(out_v, exp_out):
        _close(actual, expected)
    for actual, expected in zip(_flat(state_v), _flat(exp_state)):
        _close(actual, expected)


def _flat(value):
    if isinstance(value, (list, tuple)):
        return [leaf for item in value for leaf in _flat(item)]
    return [value]


def _cell_scope():
    # The layer scope under "rnn": the only variable's directory after "rnn/".
    name = tf.global_variables()[0].name
    return name.split("/")[1] + "/"


Z3 = np.zeros((4, 3), np.float32)
Z2 = np.zeros((4, 2), np.float32)


def test_basic_rnn_cell_matches_numpy(executor):
    _check_static_rnn(lambda: rc.BasicRNNCell(3), np_basic_rnn, Z3)


def test_basic_lstm_cell_matches_numpy(executor):
    _check_static_rnn(lambda: rc.BasicLSTMCell(3, forget_bias=0.7),
                      lambda w, x, s: np_basic_lstm(w, x, s, forget_bias=0.7), (Z3, Z3))


def test_basic_lstm_cell_with_concatenated_state_matches_numpy():
    def step(w, x, s):
        out, (c, h) = np_basic_lstm(w, x, (s[:, :3], s[:, 3:]))
        return out, np.concatenate([c, h], 1)

    _check_static_rnn(lambda: rc.BasicLSTMCell(3, state_is_tuple=False), step,
                      np.zeros((4, 6), np.float32))


def test_lstm_cell_with_peepholes_clipping_and_projection_matches_numpy(executor):
    _check_static_rnn(
        lambda: rc.LSTMCell(3, use_peepholes=True, cell_clip=0.3, num_proj=2, proj_clip=0.2,
                            forget_bias=0.5),
        lambda w, x, s: np_lstm(w, x, s, forget_bias=0.5, peepholes=True, cell_clip=0.3,
                                proj=True, proj_clip=0.2),
        (Z3, Z2))


def test_lstm_cell_plain_and_concatenated_matches_numpy():
    _check_static_rnn(lambda: rc.LSTMCell(3), np_lstm, (Z3, Z3))
    tf.reset_default_graph()

    def step(w, x, s):
        out, (c, m) = np_lstm(w, x, (s[:, :3], s[:, 3:]), proj=True)
        return out, np.concatenate([c, m], 1)

    _check_static_rnn(lambda: rc.LSTMCell(3, num_proj=2, state_is_tuple=False), step,
                      np.zeros((4, 5), np.float32))


def test_gru_cell_matches_numpy(executor):
    _check_static_rnn(lambda: rc.GRUCell(3), np_gru, Z3)


def test_constant_initializers_give_tf_values():
    # Values from TF 2.21 for the same graph (every weight 0.1, GRU kernels -0.2).
    xs = [tf.constant([[1.0, -2.0], [0.5, 0.25]]), tf.constant([[0.0, 1.0], [-1.0, 3.0]])]
    with tf.variable_scope("c", initializer=tf.constant_initializer(0.1)):
        outs, state = tf.nn.static_rnn(
            rc.LSTMCell(3, use_peepholes=True, num_proj=2, cell_clip=0.5, forget_bias=0.5), xs,
            dtype=tf.float32)
        gru_outs, _ = tf.nn.static_rnn(
            rc.GRUCell(2, kernel_initializer=tf.constant_initializer(-0.2)), xs,
            dtype=tf.float32, scope="g")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        out, c, gru_out = sess.run([outs[1], state.c, gru_outs[1]])
    _close(out, [[0.00330382, 0.00330382], [0.02234683, 0.02234683]])
    _close(c, [[0.02097305] * 3, [0.1354047] * 3])
    _close(gru_out, [[-0.03439491, -0.03439491], [-0.15856422, -0.15856422]])


def test_multi_rnn_cell_matches_numpy(executor):
    xs_np = _inputs()
    cells = [rc.BasicLSTMCell(3), rc.GRUCell(2)]
    outputs, state = tf.nn.static_rnn(rc.MultiRNNCell(cells), [tf.constant(x) for x in xs_np],
                                      dtype=tf.float32)
    (out_v, state_v), w = _run_rnn((outputs, state), prefix="rnn/multi_rnn_cell/")
    lstm_w = {k.split("/", 2)[2]: v for k, v in w.items() if k.startswith("cell_0/")}
    gru_w = {k.split("/", 2)[2]: v for k, v in w.items() if k.startswith("cell_1/")}

    def step(x, s):
        h1, s1 = np_basic_lstm(lstm_w, x, s[0])
        h2, s2 = np_gru(gru_w, h1, s[1])
        return h2, (s1, s2)

    exp_out, exp_state = np_static_rnn(step, xs_np, ((Z3, Z3), Z2))
    for actual, expected in zip(out_v, exp_out):
        _close(actual, expected)
    assert isinstance(state_v[0], rc.LSTMStateTuple)
    for actual, expected in zip(_flat(state_v), _flat(exp_state)):
        _close(actual, expected)


def test_multi_rnn_cell_with_concatenated_state_matches_numpy():
    xs_np = _inputs()
    cell = rc.MultiRNNCell([rc.BasicRNNCell(3), rc.GRUCell(2)], state_is_tuple=False)
    assert cell.state_size == 5
    outputs, state = tf.nn.static_rnn(cell, [tf.constant(x) for x in xs_np], dtype=tf.float32)
    (out_v, state_v), w = _run_rnn((outputs, state), prefix="rnn/multi_rnn_cell/")
    rnn_w = {k.split("/", 2)[2]: v for k, v in w.items() if k.startswith("cell_0/")}
    gru_w = {k.split("/", 2)[2]: v for k, v in w.items() if k.startswith("cell_1/")}

    def step(x, s):
        h1, _ = np_basic_rnn(rnn_w, x, s[:, :3])
        h2, _ = np_gru(gru_w, h1, s[:, 3:])
        return h2, np.concatenate([h1, h2], 1)

    exp_out, exp_state = np_static_rnn(step, xs_np, np.zeros((4, 5), np.float32))
    _close(out_v[-1], exp_out[-1])
    _close(state_v, exp_state)


def test_sequence_length_masks_outputs_and_carries_states(executor):
    lengths = np.array([3, 1, 0, 2], np.int32)
    _check_static_rnn(lambda: rc.BasicLSTMCell(3), np_basic_lstm, (Z3, Z3),
                      sequence_length=lengths)


def test_sequence_length_fed_with_an_unknown_batch():
    xs_np = _inputs()
    xs = [tf.placeholder(tf.float32, [None, 2]) for _ in xs_np]
    lengths = tf.placeholder(tf.int64, [None])
    outputs, state = tf.nn.static_rnn(rc.GRUCell(3), xs, dtype=tf.float32,
                                      sequence_length=lengths)
    assert outputs[0].shape.as_list() == [None, 3]
    feed = dict(zip(xs, xs_np))
    feed[lengths] = [2, 3, 1, 0]
    (out_v, state_v), w = _run_rnn((outputs, state), "rnn/gru_cell/", feed)
    exp_out, exp_state = np_static_rnn(lambda x, s: np_gru(w, x, s), xs_np, Z3, [2, 3, 1, 0])
    for actual, expected in zip(out_v, exp_out):
        _close(actual, expected)
    _close(state_v, exp_state)


@pytest.mark.parametrize("with_lengths", [False, True])
def test_static_bidirectional_rnn_matches_numpy(executor, with_lengths):
    xs_np = _inputs(steps=4)
    lengths = np.array([4, 2, 0, 3], np.int32) if with_lengths else None
    outputs, state_fw, state_bw = tf.nn.static_bidirectional_rnn(
        rc.BasicLSTMCell(3), rc.GRUCell(2), [tf.constant(x) for x in xs_np], dtype=tf.float32,
        sequence_length=lengths)
    assert [o.shape.as_list() for o in outputs] == [[4, 5]] * 4
    (out_v, fw_v, bw_v), w = _run_rnn((outputs, state_fw, state_bw), "bidirectional_rnn/")
    fw_w = {k[len("fw/basic_lstm_cell/"):]: v for k, v in w.items() if k.startswith("fw/")}
    bw_w = {k[len("bw/gru_cell/"):]: v for k, v in w.items() if k.startswith("bw/")}
    fw_out, fw_state = np_static_rnn(lambda x, s: np_basic_lstm(fw_w, x, s), xs_np, (Z3, Z3),
                                     lengths)
    rev = list(reversed(xs_np)) if lengths is None else _np_reverse(xs_np, lengths)
    bw_out, bw_state = np_static_rnn(lambda x, s: np_gru(bw_w, x, s), rev, Z2, lengths)
    bw_out = list(reversed(bw_out)) if lengths is None else _np_reverse(bw_out, lengths)
    for actual, f, b in zip(out_v, fw_out, bw_out):
        _close(actual, np.concatenate([f, b], 1))
    _close(fw_v.c, fw_state[0])
    _close(bw_v, bw_state)


def test_residual_and_device_wrappers():
    xs_np = _inputs()
    outputs, _ = tf.nn.static_rnn(rc.DeviceWrapper(rc.ResidualWrapper(rc.GRUCell(2)), "/cpu:0"),
                                  [tf.constant(x) for x in xs_np], dtype=tf.float32)
    assert outputs[0].op.device == "/device:CPU:0"
    out_v, w = _run_rnn(outputs, "rnn/gru_cell/")
    exp, _ = np_static_rnn(lambda x, s: (lambda o: (x + o[0], o[1]))(np_gru(w, x, s)), xs_np,
                           Z2)
    for actual, expected in zip(out_v, exp):
        _close(actual, expected)


# ---- dropout ----------------------------------------------------------------------------

def test_dropout_wrapper_with_keep_prob_one_is_the_cell():
    xs_np = _inputs()
    keep = tf.placeholder_with_default(1.0, [])
    outputs, _ = tf.nn.static_rnn(
        rc.DropoutWrapper(rc.BasicRNNCell(3), input_keep_prob=keep, output_keep_prob=1.0,
                          state_keep_prob=keep),
        [tf.constant(x) for x in xs_np], dtype=tf.float32)
    out_v, w = _run_rnn(outputs, "rnn/basic_rnn_cell/")
    exp, _ = np_static_rnn(lambda x, s: np_basic_rnn(w, x, s), xs_np, Z3)
    for actual, expected in zip(out_v, exp):
        _close(actual, expected)


def test_dropout_wrapper_drops_output_and_h_but_never_c():
    x_np = _inputs(steps=1, batch=64)[0]
    cell = rc.DropoutWrapper(rc.BasicLSTMCell(8), output_keep_prob=0.5, state_keep_prob=0.5,
                             seed=3)
    out, state = cell(tf.constant(x_np), cell.zero_state(64, tf.float32))
    (out_v, c_v, h_v), w = _run_rnn((out, state.c, state.h), "basic_lstm_cell/")
    ref_out, (ref_c, ref_h) = np_basic_lstm(w, x_np, (np.zeros((64, 8)), np.zeros((64, 8))))
    _close(c_v, ref_c)  # the memory state is never dropped
    for value, ref in ((out_v, ref_out), (h_v, ref_h)):
        kept = value != 0
        _close(value[kept], 2.0 * ref[kept])  # kept values are scaled by 1 / keep_prob
        assert 0.3 < kept.mean() < 0.7
    assert (out_v != 0).tolist() != (h_v != 0).tolist()  # separate masks


def test_variational_dropout_uses_one_mask_for_every_step_and_row():
    xs_np = _inputs(steps=3, batch=5, depth=2)
    cell = rc.DropoutWrapper(rc.BasicRNNCell(16), output_keep_prob=0.5,
                             variational_recurrent=True, dtype=tf.float32, seed=7)
    outputs, _ = tf.nn.static_rnn(cell, [tf.constant(x) for x in xs_np], dtype=tf.float32)
    out_v, w = _run_rnn(outputs, "rnn/basic_rnn_cell/")
    exp, _ = np_static_rnn(lambda x, s: np_basic_rnn(w, x, s), xs_np,
                           np.zeros((5, 16), np.float32))
    masks = [value != 0 for value in out_v]
    assert all((m == masks[0][0]).all() for m in masks)  # every step, every row: one mask
    for value, ref in zip(out_v, exp):
        _close(value, np.where(masks[0], 2.0 * ref, 0.0))


def test_dropout_wrapper_argument_errors():
    with pytest.raises(ValueError, match="Parameter input_keep_prob must be between 0 and 1"):
        rc.DropoutWrapper(rc.GRUCell(2), input_keep_prob=1.5)
    with pytest.raises(ValueError, match="dtype must be provided"):
        rc.DropoutWrapper(rc.GRUCell(2), variational_recurrent=True)
    with pytest.raises(ValueError, match="input_size must be provided"):
        rc.DropoutWrapper(rc.GRUCell(2), input_keep_prob=0.5, variational_recurrent=True,
                          dtype=tf.float32)
    with pytest.raises(TypeError, match="is not an RNNCell"):
        rc.DropoutWrapper(object())


# ---- errors -----------------------------------------------------------------------------

def test_static_rnn_errors():
    x = tf.placeholder(tf.float32, [2, 3])
    with pytest.raises(ValueError, match="dtype must be specified"):
        tf.nn.static_rnn(rc.GRUCell(2), [x])
    with pytest.raises(TypeError, match="inputs must be a sequence"):
        tf.nn.static_rnn(rc.GRUCell(2), x, dtype=tf.float32)
    with pytest.raises(ValueError, match="inputs must not be empty"):
        tf.nn.static_rnn(rc.GRUCell(2), [], dtype=tf.float32)
    with pytest.raises(TypeError, match="'output_size' property is missing"):
        tf.nn.static_rnn(lambda i, s: (i, s), [x], dtype=tf.float32)
    with pytest.raises(ValueError, match="must be accessible via shape inference"):
        tf.nn.static_rnn(rc.GRUCell(2), [tf.placeholder(tf.float32, [2, None])],
                         dtype=tf.float32)
    with pytest.raises(ValueError, match="sequence_length must be a vector"):
        tf.nn.static_rnn(rc.GRUCell(2), [x], dtype=tf.float32, sequence_length=[[1, 2]])
    with pytest.raises(ValueError, match="only supports floating point inputs"):
        rc.GRUCell(2)(tf.placeholder(tf.int32, [2, 3]), tf.placeholder(tf.int32, [2, 2]))
    with pytest.raises(ValueError, match="Must specify at least one cell"):
        rc.MultiRNNCell([])
    with pytest.raises(ValueError, match="state_is_tuple is not set"):
        rc.MultiRNNCell([rc.BasicLSTMCell(2)], state_is_tuple=False)


def test_contrib_rnn_is_the_same_api():
    assert tf.contrib.rnn.BasicLSTMCell is rc.BasicLSTMCell
    assert tf.contrib.rnn.LSTMStateTuple is rc.LSTMStateTuple
    assert tf.contrib.rnn.static_rnn is tf.nn.static_rnn
    assert tf.contrib.rnn.static_bidirectional_rnn is tf.nn.static_bidirectional_rnn
    with pytest.raises(AttributeError, match="contrib"):
        tf.contrib.rnn.GridLSTMCell  # noqa: B018 - the lookup is the test


# ---- gradients and training ------------------------------------------------------------

def _numeric_gradient_check(make_cell, steps=3, batch=2, depth=2):
    """tf.gradients of a weighted sum of all outputs w.r.t. every weight, against central
    differences in float64."""
    rng = np.random.RandomState(5)
    xs = [tf.constant(rng.randn(batch, depth)) for _ in range(steps)]
    outputs, state = tf.nn.static_rnn(make_cell(), xs, dtype=tf.float64,
                                      sequence_length=[steps, steps - 1])
    flat = outputs + _flat(state)
    loss = tf.add_n([tf.reduce_sum(t * rng.randn(*t.shape.as_list())) for t in flat])
    variables = tf.trainable_variables()
    grads = tf.gradients(loss, variables)
    assert all(g is not None for g in grads)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        _load_weights(sess, "")
        symbolic = sess.run(grads)
        delta = 1e-6
        for var, grad in zip(variables, symbolic):
            base = sess.run(var)
            numeric = np.zeros_like(base)
            for index in np.ndindex(*base.shape):
                for sign in (1, -1):
                    moved = base.copy()
                    moved[index] += sign * delta
                    var.load(moved, sess)
                    numeric[index] += sign * sess.run(loss) / (2 * delta)
            var.load(base, sess)
            np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-7, err_msg=var.name)


def test_numeric_gradients_of_a_basic_rnn():
    _numeric_gradient_check(lambda: rc.BasicRNNCell(3))


def test_numeric_gradients_of_an_lstm():
    _numeric_gradient_check(lambda: rc.LSTMCell(2, use_peepholes=True, num_proj=2))
    tf.reset_default_graph()
    _numeric_gradient_check(lambda: rc.BasicLSTMCell(2))


def test_numeric_gradients_of_a_gru():
    _numeric_gradient_check(lambda: rc.GRUCell(2))


def test_numeric_gradients_through_the_bidirectional_reversal():
    rng = np.random.RandomState(2)
    xs_np = [rng.randn(2, 2) for _ in range(3)]
    xs = [tf.placeholder(tf.float64, [2, 2]) for _ in xs_np]
    outputs, _, _ = tf.nn.static_bidirectional_rnn(rc.BasicRNNCell(2), rc.BasicRNNCell(2), xs,
                                                   dtype=tf.float64, sequence_length=[3, 1])
    weights = [rng.randn(2, 4) for _ in outputs]
    loss = tf.add_n([tf.reduce_sum(o * w) for o, w in zip(outputs, weights)])
    grads = tf.gradients(loss, xs)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        _load_weights(sess, "")
        feed = dict(zip(xs, xs_np))
        symbolic = sess.run(grads, feed)
        for k in range(len(xs)):
            numeric = np.zeros((2, 2))
            for index in np.ndindex(2, 2):
                for sign in (1, -1):
                    moved = dict(feed)
                    moved[xs[k]] = xs_np[k].copy()
                    moved[xs[k]][index] += sign * 1e-6
                    numeric[index] += sign * sess.run(loss, moved) / 2e-6
            np.testing.assert_allclose(symbolic[k], numeric, rtol=1e-5, atol=1e-7)
    # Row 1 has length 1: inputs 1 and 2 of that row reach no output.
    assert not symbolic[1][1].any() and not symbolic[2][1].any()


def test_an_lstm_classifier_trains_with_static_rnn():
    # Synthetic sequences: the class is whether the sum of the first feature over the steps
    # is positive, which needs memory across steps.
    rng = np.random.RandomState(0)
    steps, depth, n = 6, 3, 256
    data = rng.randn(n, steps, depth).astype(np.float32)
    labels = (data[:, :, 0].sum(1) > 0).astype(np.int64)
    tf.set_random_seed(1)
    x = tf.placeholder(tf.float32, [None, steps, depth])
    y = tf.placeholder(tf.int64, [None])
    inputs = tf.unstack(x, steps, axis=1)
    outputs, _ = tf.nn.static_rnn(rc.BasicLSTMCell(16), inputs, dtype=tf.float32)
    logits = tf.layers.dense(outputs[-1], 2)
    loss = tf.losses.sparse_softmax_cross_entropy(y, logits)
    train = tf.train.AdamOptimizer(0.02).minimize(loss)
    feed = {x: data, y: labels}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        first = sess.run(loss, feed)
        for _ in range(60):
            sess.run(train, feed)
        last, predicted = sess.run([loss, tf.argmax(logits, 1)], feed)
    assert last < 0.5 * first
    assert (predicted == labels).mean() > 0.85


def test_device_wrapper_runs_a_cell_on_another_device():
    xs_np = _inputs()
    xs = [tf.constant(x) for x in xs_np]
    cell = rc.MultiRNNCell([rc.BasicRNNCell(3), rc.DeviceWrapper(rc.GRUCell(2), "/cpu:1")])
    outputs, state = tf.nn.static_rnn(cell, xs, dtype=tf.float32)
    assert outputs[-1].op.device == "/device:CPU:1"
    config = tf.ConfigProto(device_count={"CPU": 2})
    with tf.Session(config=config) as sess:
        sess.run(tf.global_variables_initializer())
        w = _load_weights(sess, "rnn/multi_rnn_cell/")
        out_v = sess.run(outputs)
    rnn_w = {k.split("/", 2)[2]: v for k, v in w.items() if k.startswith("cell_0/")}
    gru_w = {k.split("/", 2)[2]: v for k, v in w.items() if k.startswith("cell_1/")}

    def step(x, s):
        h1, _ = np_basic_rnn(rnn_w, x, s[0])
        h2, _ = np_gru(gru_w, h1, s[1])
        return h2, (h1, h2)

    expected, _ = np_static_rnn(step, xs_np, (Z3, Z2))
    for actual, value in zip(out_v, expected):
        _close(actual, value)
