"""tf.contrib.rnn.LSTMBlockCell, GRUBlockCell and GRUBlockCellV2: TF 1.15's variable names
and the fused kernels' equations, against numpy over a dynamic_rnn."""

import numpy as np
import pytest

import sessionlib as tf

rnn = tf.contrib.rnn
_rng = np.random.RandomState(21)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _lstm_reference(inputs, weights, forget_bias, cell_clip, peephole):
    """The LSTMBlock equations: gates i, j, f, o; clip after the update; the output gate's
    peephole sees the new cell state."""
    batch, steps, _ = inputs.shape
    units = weights["bias"].shape[0] // 4
    c = np.zeros([batch, units])
    h = np.zeros([batch, units])
    wci, wcf, wco = (weights.get(k, np.zeros(units)) for k in ("w_i_diag", "w_f_diag",
                                                               "w_o_diag"))
    outputs = []
    for t in range(steps):
        gates = np.concatenate([inputs[:, t], h], 1) @ weights["kernel"] + weights["bias"]
        i, j, f, o = np.split(gates, 4, axis=1)
        if not peephole:
            wci = wcf = wco = np.zeros(units)
        c = _sigmoid(f + forget_bias + wcf * c) * c + _sigmoid(i + wci * c) * np.tanh(j)
        if cell_clip is not None and cell_clip > 0:
            c = np.clip(c, -cell_clip, cell_clip)
        h = _sigmoid(o + wco * c) * np.tanh(c)
        outputs.append(h)
    return np.stack(outputs, 1), c, h


def _gru_reference(inputs, w_ru, b_ru, w_c, b_c):
    batch, steps, _ = inputs.shape
    h = np.zeros([batch, b_c.shape[0]])
    outputs = []
    for t in range(steps):
        r, u = np.split(_sigmoid(np.concatenate([inputs[:, t], h], 1) @ w_ru + b_ru), 2, 1)
        c = np.tanh(np.concatenate([inputs[:, t], r * h], 1) @ w_c + b_c)
        h = u * h + (1 - u) * c
        outputs.append(h)
    return np.stack(outputs, 1), h


def _run_with_weights(outputs, values_by_name):
    """Initializes, overwrites each variable named in `values_by_name` (op name without the
    scope prefix up to the cell) and runs `outputs`."""
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for variable in tf.global_variables():
            short = variable.op.name.split("/", 2)[-1]
            if short in values_by_name:
                variable.load(values_by_name[short], sess)
        return sess.run(outputs)


@pytest.mark.parametrize("peephole,cell_clip", [(False, None), (True, 0.6), (True, -1.0)])
def test_lstm_block_cell_names_and_values(executor, peephole, cell_clip):
    inputs = _rng.randn(2, 4, 3).astype(np.float32)
    cell = rnn.LSTMBlockCell(5, forget_bias=0.7, cell_clip=cell_clip, use_peephole=peephole)
    assert cell.state_size == rnn.LSTMStateTuple(5, 5) and cell.output_size == 5
    outputs, state = tf.nn.dynamic_rnn(cell, tf.constant(inputs), dtype=tf.float32)
    names = {v.op.name: v.shape.as_list() for v in tf.global_variables()}
    want_names = {"rnn/lstm_cell/kernel": [8, 20], "rnn/lstm_cell/bias": [20]}
    if peephole:
        want_names.update({f"rnn/lstm_cell/w_{g}_diag": [5] for g in "ifo"})
    assert names == want_names
    weights = {"kernel": _rng.randn(8, 20) * 0.5, "bias": _rng.randn(20) * 0.5}
    if peephole:
        weights.update({f"w_{g}_diag": _rng.randn(5) for g in "ifo"})
    got = _run_with_weights([outputs, state.c, state.h], weights)
    want = _lstm_reference(inputs.astype(np.float64), weights, 0.7, cell_clip, peephole)
    for got_part, want_part in zip(got, want):
        np.testing.assert_allclose(got_part, want_part, rtol=1e-5, atol=1e-5)
    if cell_clip and cell_clip > 0:
        assert np.abs(got[1]).max() <= cell_clip + 1e-6


def test_lstm_block_cell_constant_initializer_and_default_bias(executor):
    inputs = _rng.randn(3, 2, 4).astype(np.float32)
    with tf.variable_scope("model", initializer=tf.constant_initializer(0.1)):
        cell = rnn.LSTMBlockCell(3)
        outputs, _ = tf.nn.dynamic_rnn(cell, tf.constant(inputs), dtype=tf.float32)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got, bias = sess.run([outputs, tf.global_variables()[1]])
    np.testing.assert_array_equal(bias, 0.0)
    weights = {"kernel": np.full([7, 12], 0.1), "bias": np.zeros(12)}
    want = _lstm_reference(inputs.astype(np.float64), weights, 1.0, None, False)[0]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_gru_block_cells_names_and_values(executor, version):
    inputs = _rng.randn(2, 3, 4).astype(np.float32)
    if version == "v1":
        cell = rnn.GRUBlockCell(3)
        keys = ("w_ru", "b_ru", "w_c", "b_c")
    else:
        cell = rnn.GRUBlockCellV2(cell_size=3)
        keys = ("gates/kernel", "gates/bias", "candidate/kernel", "candidate/bias")
    outputs, state = tf.nn.dynamic_rnn(cell, tf.constant(inputs), dtype=tf.float32)
    names = {v.op.name: v.shape.as_list() for v in tf.global_variables()}
    shapes = ([7, 6], [6], [7, 3], [3])
    assert names == {f"rnn/gru_cell/{key}": shape for key, shape in zip(keys, shapes)}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        initial = dict(zip(keys, sess.run(tf.global_variables())))
    np.testing.assert_array_equal(initial[keys[1]], 1.0)
    np.testing.assert_array_equal(initial[keys[3]], 0.0)
    weights = [_rng.randn(*shape) * 0.5 for shape in shapes]
    got = _run_with_weights([outputs, state], dict(zip(keys, weights)))
    want = _gru_reference(inputs.astype(np.float64), *weights)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-5, atol=1e-6)


def test_block_cell_checkpoint_restores_into_a_fresh_graph(executor, tmp_path):
    inputs = _rng.randn(2, 3, 4).astype(np.float32)
    path = str(tmp_path / "block.ckpt")
    results = []
    for step in range(2):
        tf.reset_default_graph()
        lstm_out, _ = tf.nn.dynamic_rnn(rnn.LSTMBlockCell(3, use_peephole=True),
                                        tf.constant(inputs), dtype=tf.float32, scope="lstm")
        gru_out, _ = tf.nn.dynamic_rnn(rnn.GRUBlockCell(2), tf.constant(inputs),
                                       dtype=tf.float32, scope="gru")
        saver = tf.train.Saver()
        with tf.Session() as sess:
            if step == 0:
                sess.run(tf.global_variables_initializer())
                saver.save(sess, path)
            else:
                saver.restore(sess, path)
            results.append(sess.run([lstm_out, gru_out]))
    names = {name for name, _ in tf.train.list_variables(path)}
    assert {"lstm/lstm_cell/kernel", "lstm/lstm_cell/w_o_diag", "gru/gru_cell/w_ru",
            "gru/gru_cell/b_c"} <= names
    for before, after in zip(*results):
        np.testing.assert_array_equal(before, after)


def test_gru_block_cell_needs_exactly_one_size():
    with pytest.raises(ValueError, match="Exactly one"):
        rnn.GRUBlockCell()
    with pytest.raises(ValueError, match="Exactly one"):
        rnn.GRUBlockCellV2(num_units=2, cell_size=2)


def test_two_block_cells_in_one_scope_get_unique_scopes():
    inputs = tf.constant(_rng.randn(2, 3).astype(np.float32))
    state = rnn.LSTMBlockCell(2).zero_state(2, tf.float32)
    rnn.LSTMBlockCell(2)(inputs, state)
    rnn.LSTMBlockCell(2)(inputs, state)
    assert sorted(v.op.name for v in tf.global_variables()) == [
        "lstm_cell/bias", "lstm_cell/kernel", "lstm_cell_1/bias", "lstm_cell_1/kernel"]
