"""Smaller ``tf.train`` functions: `replica_device_setter` and `ClusterSpec`,
`match_filenames_once`, `generate_checkpoint_state_proto`, `checkpoints_iterator`,
`basic_train_loop`, `global_step`, `piecewise_constant_decay` and `warm_start`.

Expected values were checked by hand against TF 2.21's ``tf.compat.v1``.
"""

import contextlib
import os

import numpy as np
import pytest

import sessionlib as tf

FULL_TRACE = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)


# ---- replica_device_setter ----------------------------------------------------------------------

def test_replica_device_setter_without_tasks_is_none():
    assert tf.train.replica_device_setter() is None
    # A cluster without the ps job has no parameter servers either.
    assert tf.train.replica_device_setter(cluster={"worker": ["w0:2222"]}) is None


def test_replica_device_setter_round_robin_and_merging():
    with tf.Graph().as_default() as graph:
        with tf.device(tf.train.replica_device_setter(ps_tasks=2)):
            v1 = tf.Variable(1.0, name="v1")
            v2 = tf.Variable(2.0, name="v2")
            v3 = tf.Variable(3.0, name="v3")
            total = tf.add(v1, v2, name="total")
            with tf.device("/cpu:0"):
                doubled = tf.multiply(v1, 2.0, name="doubled")
                v4 = tf.Variable(4.0, name="v4")
            with tf.device("/job:foo/task:3"):
                tripled = tf.multiply(v1, 3.0, name="tripled")
    assert [v.op.device for v in (v1, v2, v3)] == ["/job:ps/task:0", "/job:ps/task:1",
                                                   "/job:ps/task:0"]
    assert v1.initializer.device == "/job:ps/task:0"  # the assign follows its variable
    assert total.op.device == "/job:worker"
    # Inner devices merge part by part into the chosen ones.
    assert doubled.op.device == "/job:worker/device:CPU:0"
    assert v4.op.device == "/job:ps/task:1/device:CPU:0"
    assert tripled.op.device == "/job:foo/task:3"
    assert graph.get_operation_by_name("v1").type == "VarHandleOp"


def test_replica_device_setter_without_merging_keeps_inner_devices():
    with tf.Graph().as_default():
        with tf.device(tf.train.replica_device_setter(ps_tasks=2, merge_devices=False)):
            with tf.device("/cpu:0"):
                pinned = tf.Variable(1.0, name="pinned")
                plus_one = pinned + 1.0
            free = tf.Variable(1.0, name="free")
    assert pinned.op.device == "/device:CPU:0"
    assert plus_one.op.device == "/device:CPU:0"
    assert free.op.device == "/job:ps/task:0"


def test_replica_device_setter_custom_strategy_and_ps_ops():
    chosen = []

    def by_name_length(op):
        chosen.append(op.name)
        return len(op.name) % 3

    with tf.Graph().as_default():
        with tf.device(tf.train.replica_device_setter(ps_tasks=3, ps_strategy=by_name_length)):
            a = tf.Variable(1.0, name="a")
            bbbb = tf.Variable(1.0, name="bbbb")
        with tf.device(tf.train.replica_device_setter(ps_tasks=2, ps_ops=["Const"])):
            const = tf.constant(1.0, name="const")
            plain = tf.Variable(1.0, name="plain")
    assert chosen == ["a", "bbbb"]
    assert a.op.device == "/job:ps/task:1" and bbbb.op.device == "/job:ps/task:1"
    assert const.op.device == "/job:ps/task:0"
    assert plain.op.device == "/job:worker"
    with pytest.raises(TypeError, match="callable"):
        tf.train.replica_device_setter(ps_tasks=1, ps_strategy=3)


def test_replica_device_setter_counts_the_tasks_of_a_cluster():
    cluster = tf.train.ClusterSpec({"ps": ["ps0:2222", "ps1:2222", "ps2:2222"],
                                    "worker": ["w0:2222"]})
    with tf.Graph().as_default():
        with tf.device(tf.train.replica_device_setter(cluster=cluster)):
            variables = [tf.Variable(float(index), name=f"v{index}") for index in range(4)]
    assert [v.op.device for v in variables] == ["/job:ps/task:0", "/job:ps/task:1",
                                                "/job:ps/task:2", "/job:ps/task:0"]


def test_ps_job_fails_in_a_local_session():
    with tf.Graph().as_default():
        with tf.device(tf.train.replica_device_setter(ps_tasks=1)):
            tf.Variable(1.0, name="remote")
        with tf.Session() as sess:
            with pytest.raises(tf.errors.InvalidArgumentError, match="Cannot assign a device"):
                sess.run(tf.global_variables_initializer())


def test_parameter_server_on_a_second_cpu_device_trains():
    with tf.Graph().as_default():
        setter = tf.train.replica_device_setter(ps_tasks=1, ps_device="/cpu:0",
                                                worker_device="/cpu:1")
        with tf.device(setter):
            weight = tf.Variable(3.0, name="weight")
            step = tf.train.get_or_create_global_step()
            loss = tf.square(weight, name="loss")
            train = tf.train.GradientDescentOptimizer(0.25).minimize(loss, global_step=step)
        assert weight.op.device == "/device:CPU:0" and loss.op.device == "/device:CPU:1"
        with tf.Session(config=tf.ConfigProto(device_count={"CPU": 2})) as sess:
            sess.run(tf.global_variables_initializer())
            metadata = tf.RunMetadata()
            sess.run(train, options=FULL_TRACE, run_metadata=metadata)
            sess.run(train)
            # w <- w - 0.25 * 2w, twice: 3 -> 1.5 -> 0.75.
            assert sess.run(weight) == pytest.approx(0.75)
            assert tf.train.global_step(sess, step) == 2
    devices = {dev.device for dev in metadata.step_stats.dev_stats if dev.node_stats}
    assert any(device.endswith("CPU:0") for device in devices)
    assert any(device.endswith("CPU:1") for device in devices)


# ---- ClusterSpec --------------------------------------------------------------------------------

def test_cluster_spec_queries():
    cluster = tf.train.ClusterSpec({"worker": {1: "w1:2222", 3: "w3:2222"},
                                    "ps": ["ps0:2222", "ps1:2222"]})
    assert cluster.jobs == ["ps", "worker"]
    assert cluster.num_tasks("ps") == 2 and cluster.num_tasks("worker") == 2
    assert cluster.task_indices("worker") == [1, 3]
    assert cluster.task_address("worker", 3) == "w3:2222"
    assert cluster.job_tasks("worker") == [None, "w1:2222", None, "w3:2222"]
    assert cluster.as_dict() == {"ps": ["ps0:2222", "ps1:2222"],
                                 "worker": {1: "w1:2222", 3: "w3:2222"}}
    assert bool(cluster) and not tf.train.ClusterSpec({})
    with pytest.raises(ValueError, match="No task with index 0 in job 'worker'"):
        cluster.task_address("worker", 0)
    with pytest.raises(ValueError, match="No such job in cluster: 'chief'"):
        cluster.num_tasks("chief")
    with pytest.raises(TypeError):
        tf.train.ClusterSpec(["ps0:2222"])


def test_cluster_spec_rejects_names_and_addresses_that_are_not_strings():
    # A list of ports instead of "host:port" strings must fail, not become hosts "1" and "2".
    with pytest.raises(TypeError, match="Task address 2222 must be bytes or unicode"):
        tf.train.ClusterSpec({"ps": [2222]})
    with pytest.raises(TypeError, match="Job name 0 must be bytes or unicode"):
        tf.train.ClusterSpec({0: ["ps0:2222"]})
    with pytest.raises(TypeError, match="Task index '1' must be an integer"):
        tf.train.ClusterSpec({"worker": {"1": "w1:2222"}})
    assert tf.train.ClusterSpec({b"ps": [b"ps0:2222"], "worker": {np.int64(2): "w2:2222"}}
                                ).as_dict() == {"ps": ["ps0:2222"], "worker": {2: "w2:2222"}}


def test_cluster_spec_round_trips_through_cluster_def():
    cluster = tf.train.ClusterSpec({"ps": ["ps0:2222"], "worker": {2: "w2:2222"}})
    cluster_def = cluster.as_cluster_def()
    assert [job.name for job in cluster_def.job] == ["ps", "worker"]
    assert dict(cluster_def.job[1].tasks) == {2: "w2:2222"}
    assert tf.train.ClusterSpec(cluster_def) == cluster
    assert tf.train.ClusterSpec(cluster) == cluster
    assert cluster != tf.train.ClusterSpec({"ps": ["ps0:2222"]})


# ---- match_filenames_once -----------------------------------------------------------------------

def test_match_filenames_once_lists_sorted_files_at_initialisation(tmp_path):
    for name in ("b.txt", "a.txt", "c.dat"):
        (tmp_path / name).write_text("x")
    with tf.Graph().as_default():
        matched = tf.train.match_filenames_once(str(tmp_path / "*.txt"))
        nothing = tf.train.match_filenames_once(str(tmp_path / "*.none"), name="nomatch")
        assert matched.op.name == "matching_filenames" and nothing.op.name == "nomatch"
        assert tf.local_variables() == [matched, nothing]
        assert tf.global_variables() == [] and tf.trainable_variables() == []
        # Listed when initialised, not when built.
        (tmp_path / "d.txt").write_text("x")
        with tf.Session() as sess:
            sess.run(tf.local_variables_initializer())
            assert sess.run(matched).tolist() == [
                str(tmp_path / name).encode() for name in ("a.txt", "b.txt", "d.txt")]
            assert sess.run(nothing).tolist() == []


def test_matching_files_of_several_patterns(tmp_path):
    for name in ("one.a", "two.b", ".hidden.a"):
        (tmp_path / name).write_text("x")
    with tf.Graph().as_default():
        files = tf.io.matching_files([str(tmp_path / "*.a"), str(tmp_path / "*.b")])
        with tf.Session() as sess:
            assert [os.path.basename(path) for path in sess.run(files).tolist()] == [
                b".hidden.a", b"one.a", b"two.b"]
        twice = tf.io.matching_files([str(tmp_path / "one.*"), str(tmp_path / "*.a")])
        with tf.Session() as sess:
            assert [os.path.basename(path) for path in sess.run(twice).tolist()] == [
                b".hidden.a", b"one.a", b"one.a"]


# ---- checkpoint state and checkpoints_iterator --------------------------------------------------

def test_generate_checkpoint_state_proto_fields():
    state = tf.train.generate_checkpoint_state_proto(
        "/ckpt", "/ckpt/model-2", ["/ckpt/model-1"], all_model_checkpoint_timestamps=[1.0, 2.0],
        last_preserved_timestamp=3.0)
    assert state.model_checkpoint_path == "/ckpt/model-2"
    assert list(state.all_model_checkpoint_paths) == ["/ckpt/model-1", "/ckpt/model-2"]
    assert list(state.all_model_checkpoint_timestamps) == [1.0, 2.0]
    assert state.last_preserved_timestamp == 3.0
    # A relative directory makes relative paths relative to it.
    relative = tf.train.generate_checkpoint_state_proto("ckpt", "ckpt/model-2")
    assert relative.model_checkpoint_path == "model-2"
    assert list(relative.all_model_checkpoint_paths) == ["model-2"]
    with pytest.raises(ValueError, match="timestamps"):
        tf.train.generate_checkpoint_state_proto("/ckpt", "/ckpt/m", ["/ckpt/l"],
                                                 all_model_checkpoint_timestamps=[1.0])


def test_update_checkpoint_state_in_a_relative_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    tf.train.update_checkpoint_state("ckpt", "ckpt/model-1", ["ckpt/model-0"])
    state = tf.train.get_checkpoint_state("ckpt")
    assert state.model_checkpoint_path == os.path.join("ckpt", "model-1")
    assert list(state.all_model_checkpoint_paths) == [os.path.join("ckpt", "model-0"),
                                                      os.path.join("ckpt", "model-1")]


def _variable_saver(value):
    weight = tf.Variable(value, name="weight")
    return weight, tf.train.Saver()


def test_checkpoints_iterator_yields_new_checkpoints_then_times_out(tmp_path):
    # No checkpoint at all: a timeout under the polling interval ends at once.
    assert list(tf.train.checkpoints_iterator(str(tmp_path), timeout=0.01)) == []
    with tf.Graph().as_default():
        weight, saver = _variable_saver(1.0)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            first = saver.save(sess, str(tmp_path / "model"), global_step=1)
            iterator = tf.train.checkpoints_iterator(str(tmp_path), timeout=0.01)
            assert next(iterator) == first
            second = saver.save(sess, str(tmp_path / "model"), global_step=2)
            assert next(iterator) == second
            # Nothing newer: the iterator times out and ends.
            assert list(iterator) == []


def test_checkpoints_iterator_asks_timeout_fn(tmp_path):
    calls = []

    def timeout_fn():
        calls.append(len(calls))
        return len(calls) == 3

    assert list(tf.train.checkpoints_iterator(str(tmp_path), timeout=0.001,
                                              timeout_fn=timeout_fn)) == []
    assert calls == [0, 1, 2]


# ---- basic_train_loop and global_step -----------------------------------------------------------

class _CountingSupervisor:
    """TF's Supervisor interface for `basic_train_loop`: stops after `steps` steps; the
    first session's first step aborts, to check the loop restarts."""

    def __init__(self, steps):
        self.steps = steps
        self.done = 0
        self.sessions = 0
        self.aborted = False

    @contextlib.contextmanager
    def managed_session(self, master):
        assert master == "target"
        self.sessions += 1
        yield f"session-{self.sessions}"

    def should_stop(self):
        return self.done >= self.steps


def test_basic_train_loop_runs_steps_and_restarts_after_abort():
    supervisor = _CountingSupervisor(steps=3)
    seen = []

    def step(session, increment, tag=None):
        if not supervisor.aborted:
            supervisor.aborted = True
            raise tf.errors.AbortedError(None, None, "a server restarted")
        seen.append((session, tag))
        supervisor.done += increment

    tf.train.basic_train_loop(supervisor, step, args=[1], kwargs={"tag": "t"}, master="target")
    assert supervisor.sessions == 2
    assert seen == [("session-2", "t")] * 3


def test_global_step_is_an_int():
    with tf.Graph().as_default():
        step = tf.train.get_or_create_global_step()
        increment = tf.assign_add(step, 5)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(increment)
            value = tf.train.global_step(sess, step)
            assert value == 5 and type(value) is int


def test_piecewise_constant_decay_is_piecewise_constant():
    assert tf.train.piecewise_constant_decay is tf.train.piecewise_constant
    with tf.Graph().as_default():
        rate = tf.train.piecewise_constant_decay(tf.constant(7), [5, 10], [1.0, 0.5, 0.1])
        with tf.Session() as sess:
            assert sess.run(rate) == pytest.approx(0.5)


# ---- warm_start ---------------------------------------------------------------------------------

def _old_checkpoint(directory):
    with tf.Graph().as_default():
        tf.Variable([1.0, 2.0], name="a")
        tf.Variable([[3.0]], name="scope/b")
        tf.Variable(5.0, name="c", trainable=False)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            return tf.train.Saver().save(sess, os.path.join(directory, "model"), global_step=7)


def _new_model():
    return [tf.Variable([0.0, 0.0], name="a"), tf.Variable([[0.0]], name="scope/b"),
            tf.Variable(0.0, name="c", trainable=False), tf.Variable(9.0, name="renamed")]


def _warm_started_values(checkpoint, **kwargs):
    with tf.Graph().as_default():
        variables = _new_model()
        tf.train.warm_start(checkpoint, **kwargs)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            return [np.asarray(value).tolist() for value in sess.run(variables)]


def test_warm_start_restores_selected_trainable_variables(tmp_path):
    prefix = _old_checkpoint(str(tmp_path))
    # A regex selects trainable variables only.
    assert _warm_started_values(str(tmp_path), vars_to_warm_start="scope") == [
        [0.0, 0.0], [[3.0]], 0.0, 9.0]
    assert _warm_started_values(prefix, vars_to_warm_start="a|scope/") == [
        [1.0, 2.0], [[3.0]], 0.0, 9.0]
    # A list of scopes looks at every global variable.
    assert _warm_started_values(prefix, vars_to_warm_start=["c", "scope/"]) == [
        [0.0, 0.0], [[3.0]], 5.0, 9.0]
    # None: only variables with a vocabulary, so none.
    assert _warm_started_values(prefix, vars_to_warm_start=None) == [
        [0.0, 0.0], [[0.0]], 0.0, 9.0]


def test_warm_start_from_a_list_of_variables(tmp_path):
    prefix = _old_checkpoint(str(tmp_path))
    with tf.Graph().as_default():
        a, b, c, renamed = _new_model()
        tf.train.warm_start(prefix, vars_to_warm_start=[a, c])
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            assert sess.run(a).tolist() == [1.0, 2.0] and sess.run(c) == 5.0
            assert sess.run(b).tolist() == [[0.0]]


def test_warm_start_maps_previous_names(tmp_path):
    prefix = _old_checkpoint(str(tmp_path))
    assert _warm_started_values(prefix, var_name_to_prev_var_name={"renamed": "c"}) == [
        [1.0, 2.0], [[3.0]], 0.0, 5.0]
    # One checkpoint tensor may initialise two variables.
    with tf.Graph().as_default():
        x = tf.Variable([0.0, 0.0], name="x")
        y = tf.Variable([0.0, 0.0], name="y")
        tf.train.warm_start(prefix, var_name_to_prev_var_name={"x": "a", "y": "a"})
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            assert sess.run([x, y])[1].tolist() == [1.0, 2.0]
            assert sess.run(x).tolist() == [1.0, 2.0]


def test_warm_start_errors(tmp_path):
    prefix = _old_checkpoint(str(tmp_path))
    with tf.Graph().as_default():
        _new_model()
        # A variable the checkpoint lacks.
        with pytest.raises(ValueError, match="Tensor renamed is not found"):
            tf.train.warm_start(prefix)
    with tf.Graph().as_default():
        _new_model()
        with pytest.raises(ValueError, match="not used: {'renamed'}"):
            tf.train.warm_start(prefix, vars_to_warm_start="a",
                                var_name_to_prev_var_name={"renamed": "c"})
        with pytest.raises(ValueError, match="must be a `list` or `str`"):
            tf.train.warm_start(prefix, vars_to_warm_start=3)


def test_vocab_info_fields():
    vocab = tf.train.VocabInfo("new.txt", 3, 1, "old.txt")
    assert vocab.old_vocab_size == -1 and vocab.backup_initializer is None
    assert vocab.axis == 0 and vocab.new_vocab_size == 3
    with pytest.raises(ValueError, match="axis"):
        tf.train.VocabInfo("new.txt", 3, 1, "old.txt", axis=2)


def _vocab_checkpoint(directory):
    """A checkpoint of `emb` (rows: apple, banana, cherry, extra, one OOV bucket) and `out`
    (columns: the same four tokens), and the old and new vocabulary files."""
    old_vocab = os.path.join(directory, "old.txt")
    new_vocab = os.path.join(directory, "new.txt")
    with open(old_vocab, "w") as vocab_file:
        vocab_file.write("apple\nbanana\ncherry\nextra\n")
    with open(new_vocab, "w") as vocab_file:
        vocab_file.write("cherry\ndate\napple\nfig\n")
    with tf.Graph().as_default():
        tf.Variable(np.arange(15, dtype=np.float32).reshape(5, 3), name="emb")
        tf.Variable(np.arange(8, dtype=np.float32).reshape(2, 4), name="out")
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            prefix = tf.train.Saver().save(sess, os.path.join(directory, "model"))
    return prefix, old_vocab, new_vocab


def _fill_with(value):
    return lambda shape, *unused_args, **unused_kwargs: tf.fill(shape, value)


def test_warm_start_remaps_vocabulary_rows(tmp_path):
    prefix, old_vocab, new_vocab = _vocab_checkpoint(str(tmp_path))
    with tf.Graph().as_default():
        emb = tf.Variable(tf.ones([5, 3]), name="emb")
        # cherry, date, apple, fig and one OOV bucket: date, fig and the bucket are zeros.
        tf.train.warm_start(prefix, "emb", var_name_to_vocab_info={
            "emb": tf.train.VocabInfo(new_vocab, 4, 1, old_vocab)})
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            assert sess.run(emb).tolist() == [[6.0, 7.0, 8.0], [0.0, 0.0, 0.0],
                                              [0.0, 1.0, 2.0], [0.0, 0.0, 0.0],
                                              [0.0, 0.0, 0.0]]
    with tf.Graph().as_default():
        emb = tf.Variable(tf.ones([4, 3]), name="emb")
        # The first 3 new tokens and the first 2 old ones (apple, banana): cherry is new now.
        tf.train.warm_start(prefix, "emb", var_name_to_vocab_info={
            "emb": tf.train.VocabInfo(new_vocab, 3, 1, old_vocab, old_vocab_size=2,
                                      backup_initializer=_fill_with(-1.0))})
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            assert sess.run(emb).tolist() == [[-1.0] * 3, [-1.0] * 3, [0.0, 1.0, 2.0],
                                              [-1.0] * 3]


def test_warm_start_remaps_vocabulary_columns_of_a_renamed_variable(tmp_path):
    prefix, old_vocab, new_vocab = _vocab_checkpoint(str(tmp_path))
    with tf.Graph().as_default():
        logits = tf.Variable(tf.ones([2, 6]), name="logits")
        untouched = tf.Variable(tf.ones([2]), name="untouched")
        # vars_to_warm_start=None: only the variables with a vocabulary.
        tf.train.warm_start(prefix, None, var_name_to_prev_var_name={"logits": "out"},
                            var_name_to_vocab_info={"logits": tf.train.VocabInfo(
                                new_vocab, 4, 2, old_vocab, axis=1,
                                backup_initializer=_fill_with(7.0))})
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            assert sess.run(logits).tolist() == [[2.0, 7.0, 0.0, 7.0, 7.0, 7.0],
                                                 [6.0, 7.0, 4.0, 7.0, 7.0, 7.0]]
            assert sess.run(untouched).tolist() == [1.0, 1.0]


def test_warm_start_vocabulary_errors(tmp_path):
    prefix, old_vocab, new_vocab = _vocab_checkpoint(str(tmp_path))
    with tf.Graph().as_default():
        tf.Variable(tf.ones([6, 3]), name="emb")
        with pytest.raises(ValueError, match="fewer than the 6"):
            tf.train.warm_start(prefix, "emb", var_name_to_vocab_info={
                "emb": tf.train.VocabInfo(new_vocab, 6, 0, old_vocab)})
        with pytest.raises(ValueError, match="doesn't match the remapped shape"):
            tf.train.warm_start(prefix, "emb", var_name_to_vocab_info={
                "emb": tf.train.VocabInfo(new_vocab, 4, 0, old_vocab)})
        with pytest.raises(ValueError, match="var_name_to_vocab_info that were not used"):
            tf.train.warm_start(prefix, None, var_name_to_vocab_info={
                "embedding": tf.train.VocabInfo(new_vocab, 4, 2, old_vocab)})
