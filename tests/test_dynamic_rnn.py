"""``tf.nn.dynamic_rnn`` and ``tf.nn.bidirectional_dynamic_rnn`` (issue 16) on both executors.

Values are checked against the numpy cell references of test_rnn_cells.py (weights loaded
from a seeded generator) and against ``static_rnn``; the constant-initializer case, the
variable names and the output names were checked against TF 2.21 (tf.compat.v1, tf-keras'
legacy cells, TF_USE_LEGACY_KERAS=1) and written here.
"""

import numpy as np
import pytest

import sessionlib as tf

from test_rnn_cells import (_np_reverse, _run_rnn, np_basic_lstm, np_basic_rnn, np_gru,
                            np_static_rnn)

rc = tf.nn.rnn_cell


def _close(actual, expected):
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6)


def _batch_major(steps=5, batch=4, depth=3, seed=0):
    return np.random.RandomState(seed).randn(batch, steps, depth).astype(np.float32)


def _steps(x):
    return [x[:, t] for t in range(x.shape[1])]


def _flat(value):
    if isinstance(value, (list, tuple)):
        return [leaf for item in value for leaf in _flat(item)]
    return [value]


def test_constant_initializers_give_tf_values(executor):
    # TF 2.21's values for the same graph (every weight 0.1).
    x = tf.constant([[[1.0, -2.0], [0.5, 0.25], [0.0, 1.0]],
                     [[-1.0, 3.0], [2.0, 0.0], [1.0, 1.0]]])
    with tf.variable_scope("c", initializer=tf.constant_initializer(0.1)):
        out, state = tf.nn.dynamic_rnn(rc.BasicLSTMCell(2), x, sequence_length=[3, 1],
                                       dtype=tf.float32)
        (out_fw, out_bw), _ = tf.nn.bidirectional_dynamic_rnn(
            rc.GRUCell(2), rc.GRUCell(2), x, sequence_length=[2, 3], dtype=tf.float32)
    assert [v.name for v in tf.global_variables()][:2] == [
        "c/rnn/basic_lstm_cell/kernel:0", "c/rnn/basic_lstm_cell/bias:0"]
    assert [v.name for v in tf.global_variables()][2::2] == [
        "c/bidirectional_rnn/fw/gru_cell/gates/kernel:0",
        "c/bidirectional_rnn/fw/gru_cell/candidate/kernel:0",
        "c/bidirectional_rnn/bw/gru_cell/gates/kernel:0",
        "c/bidirectional_rnn/bw/gru_cell/candidate/kernel:0"]
    assert out.name == "c/rnn/transpose_1:0" and out.shape.as_list() == [2, 3, 2]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        out_v, state_v, fw_v, bw_v = sess.run([out, state, out_fw, out_bw])
    _close(out_v[:, :, 0], [[-0.02247278, 0.00060954, 0.02794269], [0.05943685, 0.0, 0.0]])
    _close(state_v.c[:, 0], [0.05327354, 0.10852367])
    _close(state_v.h[:, 0], [0.02794269, 0.05943685])
    _close(fw_v[:, :, 1], [[-0.02880909, -0.00340709, 0.0],
                           [0.04568752, 0.08210586, 0.11122821]])
    _close(bw_v[:, :, 1], [[-0.01439976, 0.01904831, 0.0],
                           [0.11122821, 0.08210586, 0.04568751]])


def test_one_while_op_and_tf1_variable_names():
    x = tf.placeholder(tf.float32, [None, None, 3])
    outputs, state = tf.nn.dynamic_rnn(rc.BasicLSTMCell(4), x, dtype=tf.float32)
    assert outputs.shape.as_list() == [None, None, 4]
    assert state.c.shape.as_list() == [None, 4]
    assert [(v.name, v.shape.as_list()) for v in tf.trainable_variables()] == [
        ("rnn/basic_lstm_cell/kernel:0", [7, 16]), ("rnn/basic_lstm_cell/bias:0", [16])]
    loops = [op for op in tf.get_default_graph().get_operations()
             if op.type in ("While", "StatelessWhile")]
    assert [op.name for op in loops] == ["rnn/while"]


@pytest.mark.parametrize("time_major", [False, True])
def test_basic_lstm_matches_numpy_and_static_rnn(executor, time_major):
    x_np = _batch_major()
    feed_x = x_np.transpose(1, 0, 2) if time_major else x_np
    x = tf.placeholder(tf.float32, [None, None, 3])
    cell = rc.BasicLSTMCell(3, forget_bias=0.7)
    outputs, state = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32, time_major=time_major)
    # The same cell (same weights) unrolled.
    static_x = tf.unstack(x, 5, axis=0 if time_major else 1)
    for t in static_x:
        t.set_shape([4, 3])
    static_out, static_state = tf.nn.static_rnn(cell, static_x, dtype=tf.float32,
                                                scope="rnn")
    (out_v, state_v, s_out, s_state), w = _run_rnn(
        (outputs, state, static_out, static_state), "rnn/basic_lstm_cell/", {x: feed_x})
    assert len(w) == 2
    z = np.zeros((4, 3), np.float32)
    exp_out, exp_state = np_static_rnn(lambda xt, s: np_basic_lstm(w, xt, s, 0.7),
                                       _steps(x_np), (z, z))
    exp_out = np.stack(exp_out, 0 if time_major else 1)
    _close(out_v, exp_out)
    _close(np.stack(s_out, 0 if time_major else 1), exp_out)
    for actual, static, expected in zip(state_v, s_state, exp_state):
        _close(actual, expected)
        _close(static, expected)


def test_sequence_length_masks_outputs_and_carries_states(executor):
    x_np = _batch_major(steps=6)
    x = tf.placeholder(tf.float32, [None, 6, 3])
    lengths = tf.placeholder(tf.int64, [None])
    outputs, state = tf.nn.dynamic_rnn(rc.GRUCell(3), x, sequence_length=lengths,
                                       dtype=tf.float32)
    for seq in ([6, 2, 0, 4], [1, 3, 2, 0], [0, 0, 0, 0]):
        (out_v, state_v), w = _run_rnn((outputs, state), "rnn/gru_cell/",
                                       {x: x_np, lengths: seq})
        exp_out, exp_state = np_static_rnn(lambda xt, s: np_gru(w, xt, s), _steps(x_np),
                                           np.zeros((4, 3), np.float32), seq)
        # Past the longest sequence the loop stops; those steps are zeros too.
        _close(out_v, np.stack(exp_out, 1))
        _close(state_v, exp_state)


def test_nested_state_initial_state_and_nested_inputs(executor):
    x_np = _batch_major(steps=4)
    cell = rc.MultiRNNCell([rc.BasicLSTMCell(3), rc.BasicRNNCell(2)])
    rng = np.random.RandomState(5)
    init_np = ((rng.randn(4, 3).astype(np.float32), rng.randn(4, 3).astype(np.float32)),
               rng.randn(4, 2).astype(np.float32))
    init = (rc.LSTMStateTuple(tf.constant(init_np[0][0]), tf.constant(init_np[0][1])),
            tf.constant(init_np[1]))
    outputs, state = tf.nn.dynamic_rnn(cell, tf.constant(x_np), initial_state=init)
    assert isinstance(state[0], rc.LSTMStateTuple)
    (out_v, state_v), w = _run_rnn((outputs, state), "rnn/multi_rnn_cell/")
    lstm_w = {k.split("/", 2)[2]: v for k, v in w.items() if k.startswith("cell_0/")}
    rnn_w = {k.split("/", 2)[2]: v for k, v in w.items() if k.startswith("cell_1/")}

    def step(xt, s):
        h1, s1 = np_basic_lstm(lstm_w, xt, s[0])
        h2, s2 = np_basic_rnn(rnn_w, h1, s[1])
        return h2, (s1, s2)

    exp_out, exp_state = np_static_rnn(step, _steps(x_np), init_np)
    _close(out_v, np.stack(exp_out, 1))
    for actual, expected in zip(_flat(state_v), _flat(exp_state)):
        _close(actual, expected)


class _PairCell(rc.RNNCell):
    """A cell over nested inputs (a, b) with nested outputs: out = (a + s, b * 2), s += a."""

    @property
    def state_size(self):
        return 2

    @property
    def output_size(self):
        return (2, 1)

    def call(self, inputs, state):
        a, b = inputs
        return (a + state, b * 2.0), state + a


def test_nested_inputs_and_outputs(executor):
    a_np = np.arange(24, dtype=np.float32).reshape(3, 4, 2)
    b_np = np.arange(12, dtype=np.float32).reshape(3, 4, 1)
    (out_a, out_b), state = tf.nn.dynamic_rnn(_PairCell(), (tf.constant(a_np),
                                                            tf.constant(b_np)),
                                              dtype=tf.float32)
    with tf.Session() as sess:
        out_a_v, out_b_v, state_v = sess.run([out_a, out_b, state])
    prefix = np.concatenate([np.zeros((3, 1, 2), np.float32), np.cumsum(a_np, 1)[:, :-1]], 1)
    _close(out_a_v, a_np + prefix)
    _close(out_b_v, b_np * 2)
    _close(state_v, a_np.sum(1))


@pytest.mark.parametrize("time_major", [False, True])
@pytest.mark.parametrize("with_lengths", [False, True])
def test_bidirectional_dynamic_rnn_matches_numpy(executor, time_major, with_lengths):
    x_np = _batch_major(steps=4)
    lengths = np.array([4, 2, 0, 3], np.int32) if with_lengths else None
    x = tf.constant(x_np.transpose(1, 0, 2) if time_major else x_np)
    (out_fw, out_bw), (state_fw, state_bw) = tf.nn.bidirectional_dynamic_rnn(
        rc.BasicLSTMCell(3), rc.GRUCell(2), x, sequence_length=lengths, dtype=tf.float32,
        time_major=time_major)
    (fw_v, bw_v, sfw_v, sbw_v), w = _run_rnn((out_fw, out_bw, state_fw, state_bw),
                                             "bidirectional_rnn/")
    fw_w = {k[len("fw/basic_lstm_cell/"):]: v for k, v in w.items() if k.startswith("fw/")}
    bw_w = {k[len("bw/gru_cell/"):]: v for k, v in w.items() if k.startswith("bw/")}
    xs = _steps(x_np)
    z3, z2 = np.zeros((4, 3), np.float32), np.zeros((4, 2), np.float32)
    fw_out, fw_state = np_static_rnn(lambda xt, s: np_basic_lstm(fw_w, xt, s), xs, (z3, z3),
                                     lengths)
    rev = list(reversed(xs)) if lengths is None else _np_reverse(xs, lengths)
    bw_out, bw_state = np_static_rnn(lambda xt, s: np_gru(bw_w, xt, s), rev, z2, lengths)
    bw_out = list(reversed(bw_out)) if lengths is None else _np_reverse(bw_out, lengths)
    axis = 0 if time_major else 1
    _close(fw_v, np.stack(fw_out, axis))
    _close(bw_v, np.stack(bw_out, axis))
    _close(sfw_v.h, fw_state[1])
    _close(sbw_v, bw_state)


def test_errors():
    x = tf.placeholder(tf.float32, [2, 3, 4])
    # TF 2.21's messages.
    with pytest.raises(ValueError, match="If there is no initial_state, you must give a dtype"):
        tf.nn.dynamic_rnn(rc.GRUCell(2), x)
    with pytest.raises(ValueError, match="sequence_length must be a vector"):
        tf.nn.dynamic_rnn(rc.GRUCell(2), x, sequence_length=[[1]], dtype=tf.float32)
    with pytest.raises(ValueError, match="Input size .depth of inputs. must be accessible"):
        tf.nn.dynamic_rnn(rc.GRUCell(2), tf.placeholder(tf.float32, [2, 3, None]),
                          dtype=tf.float32, scope="r2")
    with pytest.raises(TypeError, match="is not an RNNCell"):
        tf.nn.dynamic_rnn(object(), x, dtype=tf.float32)

