"""tf.contrib.training.HParams, tf.contrib.opt (LazyAdam, AdamW, MomentumW) and the
tf.contrib.data transformations, with TF 1.15's rules, messages and update formulas; the
optimizers against numpy."""

import json

import numpy as np
import pytest

import sessionlib as tf
from sessionlib.runtime import settings

HParams = tf.contrib.training.HParams


# ---- HParams ---------------------------------------------------------------------------------

def test_hparams_attributes_values_and_contains():
    hp = HParams(learning_rate=0.1, num_layers=3, name_="rnn", sizes=[32, 16], flag=True)
    assert hp.learning_rate == 0.1 and hp.num_layers == 3 and hp.sizes == [32, 16]
    assert hp.values() == {"learning_rate": 0.1, "num_layers": 3, "name_": "rnn",
                           "sizes": [32, 16], "flag": True}
    assert "num_layers" in hp and "missing" not in hp
    assert hp.get("num_layers") == 3 and hp.get("missing", 7) == 7
    assert repr(hp) == ("HParams([('flag', True), ('learning_rate', 0.1), ('name_', 'rnn'), "
                        "('num_layers', 3), ('sizes', [32, 16])])")
    assert str(HParams(a=1, b="x")) == "a=1,b=x"


def test_hparams_add_and_del():
    hp = HParams(a=1)
    hp.add_hparam("b", 2.5)
    assert hp.b == 2.5
    with pytest.raises(ValueError, match="Hyperparameter name is reserved: a"):
        hp.add_hparam("a", 3)
    with pytest.raises(ValueError, match="Hyperparameter name is reserved: values"):
        hp.add_hparam("values", 3)
    with pytest.raises(ValueError, match="Multi-valued hyperparameters cannot be empty: c"):
        hp.add_hparam("c", [])
    hp.del_hparam("a")
    assert "a" not in hp and not hasattr(hp, "a")
    hp.del_hparam("never_there")  # silently nothing, as TF
    assert hp.values() == {"b": 2.5}


def test_hparams_set_hparam_type_rules():
    hp = HParams(f=1.0, i=2, s="x", b=False, li=[1, 2], n=None)
    hp.set_hparam("f", 3)  # int -> float is allowed
    assert hp.f == 3.0 and type(hp.f) is float
    hp.set_hparam("n", "anything")  # a None hyper-parameter takes any value
    assert hp.n == "anything"
    hp.set_hparam("li", [5, 6, 7])
    assert hp.li == [5, 6, 7]
    for name, bad in [("i", 2.5), ("s", 3), ("b", 1), ("i", True), ("f", "1.0"),
                      ("li", [1.5])]:
        with pytest.raises(ValueError, match=f"Could not cast hparam '{name}' of type"):
            hp.set_hparam(name, bad)
    with pytest.raises(ValueError, match="Could not cast hparam 'i' of type "
                                         "'<class 'int'>' from value 2.5"):
        hp.set_hparam("i", 2.5)
    with pytest.raises(ValueError, match="Must not pass a list for single-valued parameter: i"):
        hp.set_hparam("i", [1])
    with pytest.raises(ValueError, match="Must pass a list for multi-valued parameter: li."):
        hp.set_hparam("li", 1)
    with pytest.raises(KeyError):
        hp.set_hparam("unknown", 1)
    assert hp.i == 2 and hp.s == "x" and hp.b is False


def test_hparams_parse():
    hp = HParams(a=0, b=[0], c="", d=0.5, e=False, f=True)
    returned = hp.parse("a=1,b=[1,2], c=hi,d=2,e=true,f=0")
    assert returned is hp
    assert hp.values() == {"a": 1, "b": [1, 2], "c": "hi", "d": 2.0, "e": True, "f": False}
    hp.parse("b=[3 4],e=False,f=7")
    assert hp.b == [3, 4] and hp.e is False and hp.f is True
    hp.parse("")  # nothing to do
    assert hp.a == 1


@pytest.mark.parametrize("text,message", [
    ("a=1.5", "Could not parse hparam 'a' of type 'int' with value '1.5' in a=1.5"),
    ("b=[1,x]", "Could not parse hparam 'b' of type 'int' with value '1,x' in b=\\[1,x\\]"),
    ("e=maybe", "Could not parse hparam 'e' of type 'bool' with value 'maybe' in e=maybe"),
    ("a=1,a=2", "Multiple assignments to variable 'a' in a=1,a=2"),
    ("zz=1", "Unknown hyperparameter type for zz"),
    ("a=1;b=2", "Could not parse hparam 'a' of type 'int' with value '1;b=2' in a=1;b=2"),
    ("1a=1", "Malformed hyperparameter value: 1a=1"),
    ("b[0]=[1]", "Assignment of a list to a list index."),
    ("b[0]=1,b[0]=2", "Multiple assignments to variable 'b\\[0\\]'"),
])
def test_hparams_parse_errors(text, message):
    hp = HParams(a=0, b=[0], e=False)
    with pytest.raises(ValueError, match=message):
        hp.parse(text)
    assert hp.values() == {"a": 0, "b": [0], "e": False}


def test_parse_values_indexed_and_unknown():
    parse_values = tf.contrib.training.parse_values
    assert parse_values("arr[1]=10,arr[3]=4,x=hi", {"arr": int, "x": str}) == {
        "arr": {1: 10, 3: 4}, "x": "hi"}
    assert parse_values("a=1,zz=2", {"a": float}, ignore_unknown=True) == {"a": 1.0}
    with pytest.raises(ValueError, match="Multiple assignments to variable 'arr'"):
        parse_values("arr=[1],arr[0]=2", {"arr": int})


def test_hparams_json_and_override():
    hp = HParams(b=2, a=[1.5, 2.5], c="x")
    hp.add_hparam("fn", lambda: 1)
    hp.del_hparam("fn")
    assert hp.to_json(sort_keys=True) == '{"a": [1.5, 2.5], "b": 2, "c": "x"}'
    assert hp.to_json(indent=1, separators=(",", ":")) == (
        '{\n "b":2,\n "a":[\n  1.5,\n  2.5\n ],\n "c":"x"\n}')
    hp.parse_json('{"b": 5, "a": [3, 4]}')
    assert hp.b == 5 and hp.a == [3.0, 4.0]
    hp.override_from_dict({"c": "y"})
    assert hp.c == "y"
    other = HParams(**json.loads(hp.to_json()))
    assert other.values() == hp.values()
    with pytest.raises(ValueError, match="Could not cast hparam 'b'"):
        hp.parse_json('{"b": 1.5}')


def test_hparams_callables_left_out_of_json():
    hp = HParams(act=len, size=3, funcs=[len, 2])
    assert hp.to_json() == '{"size": 3, "funcs": [2]}'


def test_hparams_get_default_checks_type_and_model_structure():
    hp = HParams(a=1, b=[1.0], s="x", model_structure={"layers": 2})
    assert hp.get("a", 5) == 1 and hp.get("b", [2]) == [1.0]
    with pytest.raises(ValueError, match="Hparam 'a' of type '<class 'int'>' is incompatible "
                                         "with default=1.5"):
        hp.get("a", 1.5)
    with pytest.raises(ValueError, match="Hparam 'b' of type 'list<<class 'float'>>'"):
        hp.get("b", 2.0)
    with pytest.raises(ValueError, match="incompatible with default=3"):
        hp.get("s", 3)
    assert hp.get_model_structure() == {"layers": 2}
    hp.set_model_structure("other")
    assert hp.get_model_structure() == "other"
    with pytest.raises(NotImplementedError, match="keyword arguments"):
        HParams(hparam_def=object())


# ---- LazyAdam, AdamW, MomentumW ------------------------------------------------------------

def _adam_reference(steps, var, grads_per_step, lr, beta1, beta2, epsilon, lazy_rows=None,
                    weight_decay=0.0):
    """numpy Adam (TF's epsilon-hat form); `lazy_rows[t]` limits step t to those rows."""
    var = var.astype(np.float64).copy()
    m = np.zeros_like(var)
    v = np.zeros_like(var)
    for t in range(1, steps + 1):
        g = grads_per_step[t - 1]
        rows = slice(None) if lazy_rows is None else lazy_rows[t - 1]
        lr_t = lr * np.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)
        var[rows] -= weight_decay * var[rows]
        m[rows] = beta1 * m[rows] + (1 - beta1) * g[rows]
        v[rows] = beta2 * v[rows] + (1 - beta2) * g[rows] ** 2
        var[rows] -= lr_t * m[rows] / (np.sqrt(v[rows]) + epsilon)
    return var, m, v


def _embedding_problem(optimizer, use_resource, ids_per_step):
    rng = np.random.RandomState(5)
    table0 = rng.randn(6, 3).astype(np.float32)
    targets = rng.randn(4, 3).astype(np.float32)
    table = tf.Variable(table0, name="table", use_resource=use_resource)
    ids = tf.placeholder(tf.int32, [4])
    looked_up = tf.nn.embedding_lookup(table, ids)
    loss = tf.reduce_sum(tf.square(looked_up - targets))
    train = optimizer.minimize(loss)
    grads, rows = [], []
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for step_ids in ids_per_step:
            current = sess.run(table)
            g = np.zeros_like(current, dtype=np.float64)
            np.add.at(g, step_ids, 2 * (current[step_ids] - targets))
            grads.append(g)
            rows.append(np.unique(step_ids))
            sess.run(train, {ids: step_ids})
        final = sess.run([table, optimizer.get_slot(table, "m"),
                          optimizer.get_slot(table, "v")])
    return table0, grads, rows, final


@pytest.mark.parametrize("use_resource", [True, False])
def test_lazy_adam_sparse_touches_only_gathered_rows(executor, use_resource):
    ids_per_step = [np.array([0, 2, 2, 5]), np.array([1, 1, 1, 1]), np.array([2, 0, 4, 2])]
    optimizer = tf.contrib.opt.LazyAdamOptimizer(0.1, beta1=0.8, beta2=0.95, epsilon=1e-3)
    table0, grads, rows, (table, m, v) = _embedding_problem(optimizer, use_resource,
                                                            ids_per_step)
    expected = _adam_reference(3, table0, grads, 0.1, 0.8, 0.95, 1e-3, lazy_rows=rows)
    np.testing.assert_allclose(table, expected[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(m, expected[1], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(v, expected[2], rtol=1e-5, atol=1e-6)
    # Row 3 is never looked up: its value and moments never move.
    np.testing.assert_array_equal(table[3], table0[3])
    assert not m[3].any() and not v[3].any()
    assert optimizer.get_slot(tf.global_variables()[0], "m").op.name == "table/LazyAdam"


def test_adam_moves_untouched_rows_where_lazy_adam_does_not(executor):
    ids_per_step = [np.array([0, 1, 2, 3]), np.array([0, 0, 1, 1])]
    optimizer = tf.train.AdamOptimizer(0.1)
    table0, grads, rows, (table, m, _) = _embedding_problem(optimizer, True, ids_per_step)
    expected = _adam_reference(2, table0, grads, 0.1, 0.9, 0.999, 1e-8)
    np.testing.assert_allclose(table, expected[0], rtol=1e-5, atol=1e-6)
    # Rows 2 and 3 got no gradient at step 2, yet Adam's momentum moved them again; the lazy
    # update would have left them where step 1 put them.
    lazy = _adam_reference(2, table0, grads, 0.1, 0.9, 0.999, 1e-8, lazy_rows=rows)
    assert np.abs(lazy[0][2:4] - expected[0][2:4]).max() > 1e-3


def test_lazy_adam_dense_gradient_is_adam(executor):
    rng = np.random.RandomState(2)
    w0 = rng.randn(3, 2).astype(np.float32)
    x = rng.randn(5, 3).astype(np.float32)
    w = tf.Variable(w0)
    loss = tf.reduce_sum(tf.square(tf.matmul(tf.constant(x), w)))
    optimizer = tf.contrib.opt.LazyAdamOptimizer(0.05)
    train = optimizer.minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        grads = []
        for _ in range(3):
            current = sess.run(w).astype(np.float64)
            grads.append(2 * x.T.astype(np.float64) @ (x @ current))
            sess.run(train)
        final = sess.run(w)
        powers = sess.run(optimizer._get_beta_accumulators())
    expected = _adam_reference(3, w0, grads, 0.05, 0.9, 0.999, 1e-8)[0]
    np.testing.assert_allclose(final, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(powers, [0.9 ** 4, 0.999 ** 4], rtol=1e-6)  # start at beta


def test_adamw_dense_matches_numpy_and_decay_list(executor):
    rng = np.random.RandomState(4)
    w0 = rng.randn(4).astype(np.float32)
    u0 = rng.randn(4).astype(np.float32)
    w = tf.Variable(w0, name="w")
    u = tf.Variable(u0, name="u")
    loss = tf.reduce_sum(tf.square(w - 1.0)) + tf.reduce_sum(u * 3.0)
    optimizer = tf.contrib.opt.AdamWOptimizer(weight_decay=0.05, learning_rate=0.1)
    train = optimizer.minimize(loss, decay_var_list=[w])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        w_grads, u_grads = [], []
        for _ in range(3):
            current = sess.run(w).astype(np.float64)
            w_grads.append(2 * (current - 1.0))
            u_grads.append(np.full(4, 3.0))
            sess.run(train)
        w_final, u_final = sess.run([w, u])
    expected_w = _adam_reference(3, w0, w_grads, 0.1, 0.9, 0.999, 1e-8, weight_decay=0.05)
    expected_u = _adam_reference(3, u0, u_grads, 0.1, 0.9, 0.999, 1e-8)  # not in the list
    np.testing.assert_allclose(w_final, expected_w[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(u_final, expected_u[0], rtol=1e-5, atol=1e-6)
    assert optimizer.get_slot(w, "m").op.name == "w/AdamW"


def test_adamw_sparse_decays_only_gathered_rows_once(executor):
    table0 = np.arange(12, dtype=np.float32).reshape(4, 3) / 10
    table = tf.Variable(table0)
    ids = tf.constant([1, 1, 3])
    loss = tf.reduce_sum(tf.nn.embedding_lookup(table, ids))
    optimizer = tf.contrib.opt.AdamWOptimizer(weight_decay=0.1, learning_rate=0.01)
    train = optimizer.minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train)
        final = sess.run(table)
    # Adam (not lazy) moves every row; the decay touches rows 1 and 3, once each.
    g = np.zeros((4, 3))
    g[1], g[3] = 2.0, 1.0
    expected = table0.astype(np.float64)
    expected[[1, 3]] *= 0.9
    m = 0.1 * g
    v = 0.001 * g ** 2
    lr_t = 0.01 * np.sqrt(1 - 0.999) / (1 - 0.9)
    expected -= lr_t * m / (np.sqrt(v) + 1e-8)
    np.testing.assert_allclose(final, expected, rtol=1e-5, atol=1e-6)


def test_momentumw_and_extend_with_decoupled_weight_decay(executor):
    w0 = np.array([1.0, -2.0], np.float32)
    w = tf.Variable(w0)
    v = tf.Variable(w0)
    momentum_w = tf.contrib.opt.MomentumWOptimizer(weight_decay=0.01, learning_rate=0.1,
                                                   momentum=0.9)
    extended = tf.contrib.opt.extend_with_decoupled_weight_decay(tf.train.MomentumOptimizer)
    by_class = extended(0.01, 0.1, 0.9, name="Extended")
    train = tf.group(momentum_w.minimize(tf.reduce_sum(w * w), var_list=[w]),
                     by_class.minimize(tf.reduce_sum(v * v), var_list=[v]))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(3):
            sess.run(train)
        w_final, v_final = sess.run([w, v])
    var = w0.astype(np.float64)
    accum = np.zeros(2)
    for _ in range(3):
        grad = 2 * var
        var = var - 0.01 * var
        accum = 0.9 * accum + grad
        var = var - 0.1 * accum
    np.testing.assert_allclose(w_final, var, rtol=1e-5)
    np.testing.assert_allclose(v_final, var, rtol=1e-5)
    assert isinstance(by_class, tf.train.MomentumOptimizer)
    assert by_class.get_slot(v, "momentum").op.name.endswith("/Extended")


def test_moving_average_optimizer_and_swapping_saver(executor, tmp_path):
    w = tf.Variable([1.0, 2.0], name="w")
    optimizer = tf.contrib.opt.MovingAverageOptimizer(
        tf.train.GradientDescentOptimizer(0.5), average_decay=0.5)
    with pytest.raises(RuntimeError, match="before creating the swapping_saver"):
        optimizer.swapping_saver()
    train = optimizer.minimize(tf.reduce_sum(w * w))
    assert train.name == "train_with_avg"
    saver = optimizer.swapping_saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train)
        sess.run(train)
        path = saver.save(sess, str(tmp_path / "model"))
        trained = sess.run(w)
    # w: 1 -> 0 after the first step (grad 2w, lr 0.5), then stays 0; the average (decay 0.5,
    # starting at w's initial value, updated after each step) is 0.5 * 1 + 0, then 0.25.
    np.testing.assert_allclose(trained, [0.0, 0.0])
    average = [0.25, 0.5]
    tf.reset_default_graph()
    restored = tf.Variable([9.0, 9.0], name="w")
    with tf.Session() as sess:
        tf.train.Saver([restored]).restore(sess, path)
        np.testing.assert_allclose(sess.run(restored), average)
    assert tf.train.load_variable(path, "w/ExponentialMovingAverage").tolist() == [0.0, 0.0]


# ---- tf.contrib.data -----------------------------------------------------------------------

# A pipeline's dataset description and traced functions are Python objects that stay in the
# client: tf.data runs in in-process sessions only (see test_data_dataset.py).
_in_process_only = pytest.mark.skipif(
    bool(settings.worker_processes()),
    reason="tf.data pipelines run only in in-process sessions (SESSIONLIB_WORKERS=1 is set)")

def _all(dataset):
    next_element = tf.data.make_one_shot_iterator(dataset).get_next()
    found = []
    with tf.Session() as sess:
        while True:
            try:
                found.append(sess.run(next_element))
            except tf.errors.OutOfRangeError:
                return found


@_in_process_only
def test_batch_and_drop_remainder_and_map_and_batch():
    data = tf.contrib.data
    batches = _all(tf.data.Dataset.range(7).apply(data.batch_and_drop_remainder(3)))
    assert [b.tolist() for b in batches] == [[0, 1, 2], [3, 4, 5]]
    mapped = _all(tf.data.Dataset.range(5).apply(data.map_and_batch(lambda x: x * 10, 2)))
    assert [b.tolist() for b in mapped] == [[0, 10], [20, 30], [40]]
    dropped = _all(tf.data.Dataset.range(5).apply(
        data.map_and_batch(lambda x: x + 1, 2, drop_remainder=True)))
    assert [b.tolist() for b in dropped] == [[1, 2], [3, 4]]
    with pytest.raises(ValueError, match="mutually exclusive"):
        data.map_and_batch(lambda x: x, 2, num_parallel_batches=1, num_parallel_calls=2)


@_in_process_only
def test_padded_batch_and_drop_remainder_and_unbatch():
    data = tf.contrib.data
    ragged = tf.data.Dataset.range(1, 6).map(lambda n: tf.fill([n], n))
    batches = _all(ragged.apply(data.padded_batch_and_drop_remainder(2, [None])))
    assert [b.tolist() for b in batches] == [[[1, 0], [2, 2]], [[3, 3, 3, 0], [4, 4, 4, 4]]]
    rows = _all(tf.data.Dataset.from_tensor_slices(np.arange(6).reshape(3, 2))
                .batch(2).apply(data.unbatch()))
    assert [r.tolist() for r in rows] == [[0, 1], [2, 3], [4, 5]]
    pairs = _all(tf.data.Dataset.from_tensors((np.array([1, 2]), np.array([b"a", b"b"])))
                 .apply(data.unbatch()))
    assert [(int(a), b) for a, b in pairs] == [(1, b"a"), (2, b"b")]


def test_shuffle_and_repeat_keeps_passes_apart():
    values = _all(tf.data.Dataset.range(5).apply(
        tf.contrib.data.shuffle_and_repeat(5, count=3, seed=7)))
    values = [int(v) for v in values]
    assert len(values) == 15
    for start in (0, 5, 10):
        assert sorted(values[start:start + 5]) == [0, 1, 2, 3, 4]


@_in_process_only
def test_parallel_interleave_is_interleave_order():
    def repeated(x):
        return tf.data.Dataset.from_tensors(x).repeat(x)

    got = _all(tf.data.Dataset.range(1, 4).apply(
        tf.contrib.data.parallel_interleave(repeated, cycle_length=2, sloppy=True)))
    want = _all(tf.data.Dataset.range(1, 4).interleave(repeated, cycle_length=2))
    assert [int(v) for v in got] == [int(v) for v in want] == [1, 2, 2, 3, 3, 3]


def test_window_transformations_are_not_provided():
    for name in ("sliding_window_batch", "group_by_window", "bucket_by_sequence_length"):
        with pytest.raises(AttributeError, match=f"contrib has no attribute 'data.{name}'"):
            getattr(tf.contrib.data, name)
