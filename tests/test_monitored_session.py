"""MonitoredSession, MonitoredTrainingSession, Scaffold and TF's hooks: hooks called at the
right steps, checkpoints at save_steps and a restart that continues from them, event files
that tensorboard's reader loads, and the ways a training loop ends.

The steps at which checkpoints, summaries and ``global_step/sec`` are written were checked
against TF 2.21's tf.compat.v1.train.MonitoredTrainingSession with the same model (a
GradientDescent step on ``(w * x) ** 2``, w = 1, x = 1, learning rate 0.1): checkpoints at
0, 3, 6, 7 for ``save_checkpoint_steps=3`` and ``StopAtStepHook(last_step=7)``; summaries at
1, 3, 5, 7 for ``save_summaries_steps=2``; ``global_step/sec`` at 3, 5, 7 for
``log_step_count_steps=2``; a restart from step 7 with ``StopAtStepHook(num_steps=3)`` keeping
checkpoints 0, 3, 6, 7, 10; and a CheckpointSaverListener's calls. Every test counts steps,
never time.
"""

import logging
import os
import re

import numpy as np
import pytest

import sessionlib as tf
from sessionlib.runtime import settings
from sessionlib.summary.writer import FileWriterCache


@pytest.fixture(autouse=True)
def _close_cached_writers():
    yield
    # The hooks' writers are cached per directory, process-wide: close this test's.
    FileWriterCache.clear()


def _model():
    """The global step, a placeholder x, a variable w = 1, loss (w x)^2 and its train op."""
    global_step = tf.train.get_or_create_global_step()
    x = tf.placeholder(tf.float32, [], name="x")
    w = tf.Variable(1.0, name="w")
    loss = tf.square(w * x, name="loss")
    train_op = tf.train.GradientDescentOptimizer(0.1).minimize(loss, global_step=global_step)
    return global_step, x, w, loss, train_op


def _w_after(steps, w=1.0):
    """w after `steps` GradientDescent steps on (w x)^2 with x = 1: w <- w - 0.1 * 2w."""
    return np.float32(w) * np.float32(0.8) ** steps


def _train(sess, train_op, x):
    runs = 0
    while not sess.should_stop():
        sess.run(train_op, {x: 1.0})
        runs += 1
    return runs


class RecordingHook(tf.train.SessionRunHook):
    """Records every call, and fetches/feeds what it is told."""

    def __init__(self, fetches=None, feed_dict=None):
        self.calls = []
        self.results = []
        self._fetches = fetches
        self._feed_dict = feed_dict

    def begin(self):
        self.calls.append("begin")

    def after_create_session(self, session, coord):
        assert isinstance(session, tf.Session)
        assert isinstance(coord, tf.train.Coordinator)
        self.calls.append("after_create_session")

    def before_run(self, run_context):
        self.calls.append("before_run")
        if self._fetches is None and self._feed_dict is None:
            return None
        return tf.train.SessionRunArgs(self._fetches, self._feed_dict)

    def after_run(self, run_context, run_values):
        self.calls.append("after_run")
        self.results.append(run_values.results)
        assert isinstance(run_values.options, tf.RunOptions)
        assert isinstance(run_values.run_metadata, tf.RunMetadata)

    def end(self, session):
        self.calls.append("end")


# ---- hooks and the session protocol ----------------------------------------------------

def test_hooks_are_called_in_order_with_their_fetches():
    global_step, x, w, loss, train_op = _model()
    recorder = RecordingHook(fetches={"w": w.value()})
    plain = RecordingHook()
    with tf.train.MonitoredSession(hooks=[recorder, tf.train.StopAtStepHook(last_step=3),
                                          plain]) as sess:
        assert not sess.should_stop()
        runs = _train(sess, train_op, x)
    assert runs == 3
    expected = (["begin", "after_create_session"] + ["before_run", "after_run"] * 3 + ["end"])
    assert recorder.calls == expected and plain.calls == expected
    # The hook's fetch rode in the caller's run: w before (or after) each update.
    assert len(recorder.results) == 3 and plain.results == [None, None, None]
    for step, result in enumerate(recorder.results):
        assert result["w"] in (pytest.approx(_w_after(step)), pytest.approx(_w_after(step + 1)))
    assert sess.should_stop()  # closed


def test_run_returns_the_callers_fetches_and_merges_hook_feeds():
    a = tf.placeholder(tf.float32, [], name="a")
    b = tf.placeholder(tf.float32, [], name="b")
    total = a + b
    hook = RecordingHook(fetches=total * 10.0, feed_dict={b: 2.0})
    with tf.train.MonitoredSession(hooks=[hook]) as sess:
        assert sess.run(total, {a: 1.0}) == 3.0
        assert sess.run({"t": total, "list": [a]}, feed_dict={a: 5.0}) == {"t": 7.0,
                                                                         "list": [5.0]}
        with pytest.raises(RuntimeError, match="Same tensor is fed by a SessionRunHook and user"):
            sess.run(total, {a: 1.0, b: 1.0})
    assert hook.results == [30.0, 70.0]


def test_two_hooks_feeding_one_tensor_is_an_error():
    a = tf.placeholder(tf.float32, [], name="a")
    doubled = a * 2.0
    hooks = [RecordingHook(feed_dict={a: 1.0}), RecordingHook(feed_dict={a: 2.0})]
    with pytest.raises(RuntimeError, match="Same tensor is fed by two hooks"):
        with tf.train.MonitoredSession(hooks=hooks) as sess:
            sess.run(doubled)


def test_request_stop_from_a_hook_and_run_after_stop():
    c = tf.constant(1.0)

    class StopAfterTwo(tf.train.SessionRunHook):
        runs = 0

        def after_run(self, run_context, run_values):
            self.runs += 1
            assert run_context.original_args.fetches is c
            if self.runs == 2:
                run_context.request_stop()
                assert run_context.stop_requested

    sess = tf.train.MonitoredSession(hooks=[StopAfterTwo()])
    sess.run(c)
    assert not sess.should_stop()
    sess.run(c)
    assert sess.should_stop()
    with pytest.raises(RuntimeError, match="Run called even after should_stop requested"):
        sess.run(c)
    sess.close()
    with pytest.raises(RuntimeError, match="Session is already closed"):
        sess.close()


def test_stop_at_step_hook_stops_exactly_at_last_step():
    global_step, x, w, loss, train_op = _model()
    with tf.train.SingularMonitoredSession(
            hooks=[tf.train.StopAtStepHook(last_step=5)]) as sess:
        runs = _train(sess, train_op, x)
        raw = sess.raw_session()
        assert raw.run(global_step) == 5
        assert raw.run(w) == pytest.approx(_w_after(5))
    assert runs == 5


def test_stop_at_step_hook_num_steps_counts_from_the_session_start():
    global_step, x, w, loss, train_op = _model()
    set_step = global_step.assign(10)  # ops are built before the graph is finalized
    init = tf.train.Scaffold(init_fn=lambda scaffold, sess: sess.run(set_step))
    hook = tf.train.StopAtStepHook(num_steps=4)
    with tf.train.SingularMonitoredSession(hooks=[hook], scaffold=init) as sess:
        runs = _train(sess, train_op, x)
        assert sess.raw_session().run(global_step) == 14
    assert runs == 4 and hook.last_step == 14
    with pytest.raises(ValueError, match="One of num_steps or last_step"):
        tf.train.StopAtStepHook()
    with pytest.raises(ValueError, match="Only one of num_steps or last_step"):
        tf.train.StopAtStepHook(num_steps=1, last_step=1)


def test_hooks_that_need_a_global_step_say_so():
    tf.constant(1.0)
    with pytest.raises(RuntimeError, match="Global step should be created to use StopAtStepHook"):
        tf.train.MonitoredSession(hooks=[tf.train.StopAtStepHook(last_step=1)])


def test_singular_monitored_session_raw_session_runs_without_hooks():
    global_step, x, w, loss, train_op = _model()
    hook = RecordingHook()
    sess = tf.train.SingularMonitoredSession(hooks=[hook])
    raw = sess.raw_session()
    assert isinstance(raw, tf.Session) and raw.graph is tf.get_default_graph()
    assert sess.graph is raw.graph
    raw.run(train_op, {x: 1.0})
    assert hook.calls == ["begin", "after_create_session"]
    sess.run(train_op, {x: 1.0})
    assert hook.calls[-2:] == ["before_run", "after_run"]
    assert raw.run(global_step) == 2
    sess.close()
    assert hook.calls[-1] == "end"
    with pytest.raises(RuntimeError, match="Session is closed"):
        sess.raw_session()


def test_run_step_fn_runs_with_hooks_and_request_stop_ends_the_loop():
    global_step, x, w, loss, train_op = _model()
    hook = RecordingHook()
    seen = []

    def step_fn(step_context):
        value = step_context.session.run(global_step)
        seen.append(value)
        if value >= 2:
            step_context.request_stop()
        return step_context.run_with_hooks(train_op, {x: 1.0})

    with tf.train.MonitoredSession(hooks=[hook]) as sess:
        while not sess.should_stop():
            sess.run_step_fn(step_fn)
    assert seen == [0, 1, 2]
    assert hook.calls.count("before_run") == 2 and hook.calls[-1] == "end"
    with tf.train.MonitoredSession() as sess:
        with pytest.raises(ValueError, match="step_context"):
            sess.run_step_fn(lambda ctx: None)


# ---- Scaffold and the session manager ------------------------------------------------------

def test_scaffold_finalize_fills_defaults_from_collections():
    graph = tf.get_default_graph()
    v = tf.Variable(3.0, name="v")
    local = tf.Variable(5.0, name="local", trainable=False,
                        collections=[tf.GraphKeys.LOCAL_VARIABLES])
    tf.summary.scalar("v", v)
    scaffold = tf.train.Scaffold()
    assert scaffold.init_op is None and scaffold.saver is None
    scaffold.finalize()
    assert graph.finalized
    assert graph.get_collection(tf.GraphKeys.INIT_OP) == [scaffold.init_op]
    assert graph.get_collection(tf.GraphKeys.READY_OP) == [scaffold.ready_op]
    assert graph.get_collection(tf.GraphKeys.LOCAL_INIT_OP) == [scaffold.local_init_op]
    assert graph.get_collection(tf.GraphKeys.SUMMARY_OP) == [scaffold.summary_op]
    assert graph.get_collection(tf.GraphKeys.SAVERS) == [scaffold.saver]
    assert scaffold.saver.saver_def.sharded
    graph._unsafe_unfinalize()
    with tf.Session() as sess:
        assert sorted(sess.run(scaffold.ready_op).tolist()) == [b"local", b"v"]
        assert sess.run(scaffold.ready_for_local_init_op).tolist() == [b"v"]
        sess.run(scaffold.init_op)
        assert sess.run(scaffold.ready_op).tolist() == [b"local"]
        assert sess.run(scaffold.ready_for_local_init_op).size == 0
        sess.run(scaffold.local_init_op)
        assert sess.run(scaffold.ready_op).size == 0
        assert sess.run(local) == 5.0
    # A second Scaffold takes the same ops from the collections.
    again = tf.train.Scaffold().finalize()
    assert again.init_op is scaffold.init_op and again.saver is scaffold.saver
    copied = tf.train.Scaffold(copy_from_scaffold=scaffold)
    assert copied.ready_op is scaffold.ready_op and copied.saver is scaffold.saver
    with pytest.raises(TypeError, match="copy_from_scaffold is not a Scaffold"):
        tf.train.Scaffold(copy_from_scaffold=object())


def test_scaffold_get_or_default_refuses_two_items():
    graph = tf.get_default_graph()
    graph.add_to_collection(tf.GraphKeys.INIT_OP, tf.no_op())
    graph.add_to_collection(tf.GraphKeys.INIT_OP, tf.no_op())
    with pytest.raises(RuntimeError, match=r"tf.Scaffold\(init_op=item to use\)"):
        tf.train.Scaffold().finalize()


def test_monitored_session_unfinalizes_the_graph_it_finalized():
    tf.Variable(1.0)
    with tf.train.MonitoredSession() as sess:
        assert tf.get_default_graph().finalized
        with pytest.raises(RuntimeError, match="finalized"):
            tf.constant(1.0)
        assert sess.should_stop() is False
    assert not tf.get_default_graph().finalized
    tf.constant(2.0)


def test_scaffold_init_fn_and_feed_dict():
    value = tf.placeholder(tf.float32, [], name="value")
    v = tf.Variable(value, name="v")
    u = tf.Variable(0.0, name="u")
    flag = tf.placeholder(tf.float32, [], name="flag")
    set_u = u.assign(flag)
    scaffold = tf.train.Scaffold(
        init_feed_dict={value: 7.0},
        init_fn=lambda sc, sess: sess.run(set_u, {flag: float(sc is scaffold)}))
    with tf.train.SingularMonitoredSession(scaffold=scaffold) as sess:
        assert sess.run([v, u]) == [7.0, 1.0]


def test_session_manager_reports_a_model_that_is_not_ready():
    tf.Variable(1.0, name="never")
    manager = tf.train.SessionManager(ready_op=tf.report_uninitialized_variables())
    with pytest.raises(RuntimeError, match="Variables not initialized: never"):
        manager.prepare_session("", init_op=tf.no_op())
    with pytest.raises(RuntimeError, match="Model is not initialized and no init_op"):
        manager.prepare_session("")


def test_worker_session_waits_for_a_ready_model():
    tf.Variable(1.0, name="never")
    scaffold = tf.train.Scaffold()
    creator = tf.train.WorkerSessionCreator(scaffold=scaffold, max_wait_secs=0)
    with pytest.raises(tf.errors.DeadlineExceededError, match="not ready after waiting"):
        creator.create_session()


# ---- checkpoints and restart ---------------------------------------------------------------

def test_checkpoint_saver_hook_saves_at_save_steps_and_a_restart_continues(tmp_path):
    ckpt_dir = str(tmp_path)
    global_step, x, w, loss, train_op = _model()
    with tf.train.MonitoredTrainingSession(
            checkpoint_dir=ckpt_dir, save_checkpoint_steps=3, save_summaries_steps=None,
            log_step_count_steps=None, hooks=[tf.train.StopAtStepHook(last_step=7)]) as sess:
        assert _train(sess, train_op, x) == 7
    index_files = sorted(f for f in os.listdir(ckpt_dir) if f.endswith(".index"))
    assert index_files == ["model.ckpt-0.index", "model.ckpt-3.index", "model.ckpt-6.index",
                           "model.ckpt-7.index"]
    assert "graph.pbtxt" in os.listdir(ckpt_dir)
    state = tf.train.get_checkpoint_state(ckpt_dir)
    prefix = os.path.join(ckpt_dir, "model.ckpt")
    assert state.model_checkpoint_path == prefix + "-7"
    assert list(state.all_model_checkpoint_paths) == [f"{prefix}-{s}" for s in (0, 3, 6, 7)]
    assert tf.train.load_variable(ckpt_dir, "global_step") == 7
    assert tf.train.load_variable(prefix + "-3", "w") == pytest.approx(_w_after(3))

    # A new process: a fresh graph and session restore step 7 and continue to 10.
    tf.reset_default_graph()
    global_step, x, w, loss, train_op = _model()
    with tf.train.MonitoredTrainingSession(
            checkpoint_dir=ckpt_dir, save_checkpoint_steps=3, save_summaries_steps=None,
            log_step_count_steps=None, hooks=[tf.train.StopAtStepHook(num_steps=3)]) as sess:
        raw = sess._tf_sess()
        assert raw.run(global_step) == 7
        assert raw.run(w) == pytest.approx(_w_after(7))
        assert _train(sess, train_op, x) == 3
    assert tf.train.latest_checkpoint(ckpt_dir) == prefix + "-10"
    assert tf.train.load_variable(ckpt_dir, "w") == pytest.approx(_w_after(10))
    # The restart saved at creation (7 again) and at 10; max_to_keep=5 kept the newest five
    # of the recovered list.
    state = tf.train.get_checkpoint_state(ckpt_dir)
    assert [os.path.basename(p) for p in state.all_model_checkpoint_paths] == [
        "model.ckpt-0", "model.ckpt-3", "model.ckpt-6", "model.ckpt-7", "model.ckpt-10"]


def test_checkpoint_saver_listener_is_called_around_each_save(tmp_path):
    global_step, x, w, loss, train_op = _model()

    class Listener(tf.train.CheckpointSaverListener):
        def __init__(self):
            self.calls = []

        def begin(self):
            self.calls.append("begin")

        def before_save(self, session, global_step_value):
            self.calls.append(("before", int(global_step_value)))

        def after_save(self, session, global_step_value):
            self.calls.append(("after", int(global_step_value)))
            return global_step_value >= 4  # asks training to stop

        def end(self, session, global_step_value):
            self.calls.append(("end", int(global_step_value)))

    listener = Listener()
    hook = tf.train.CheckpointSaverHook(str(tmp_path), save_steps=2, listeners=[listener])
    with tf.train.SingularMonitoredSession(hooks=[hook]) as sess:
        assert _train(sess, train_op, x) == 4
    assert listener.calls == ["begin", ("before", 0), ("after", 0), ("before", 2),
                              ("after", 2), ("before", 4), ("after", 4), ("end", 4)]
    with pytest.raises(ValueError, match="cannot provide both saver and scaffold"):
        tf.train.CheckpointSaverHook(str(tmp_path), save_steps=1, saver=object(),
                                     scaffold=tf.train.Scaffold())
    with pytest.raises(ValueError, match="Either every_secs or every_steps"):
        tf.train.CheckpointSaverHook(str(tmp_path))


def test_default_checkpoint_interval_is_600_seconds(tmp_path):
    # TF's rule: no save_checkpoint_* given means every 600 s; a short run saves at the
    # session's creation and at the end only.
    global_step, x, w, loss, train_op = _model()
    with tf.train.MonitoredTrainingSession(
            checkpoint_dir=str(tmp_path), log_step_count_steps=None,
            hooks=[tf.train.StopAtStepHook(last_step=4)]) as sess:
        _train(sess, train_op, x)
    assert sorted(f for f in os.listdir(tmp_path) if f.endswith(".index")) == [
        "model.ckpt-0.index", "model.ckpt-4.index"]


def test_checkpoint_filename_with_path_restores_that_checkpoint(tmp_path):
    global_step, x, w, loss, train_op = _model()
    with tf.train.MonitoredTrainingSession(
            checkpoint_dir=str(tmp_path), save_checkpoint_steps=2, save_summaries_steps=None,
            log_step_count_steps=None, hooks=[tf.train.StopAtStepHook(last_step=4)]) as sess:
        _train(sess, train_op, x)
    tf.reset_default_graph()
    global_step, x, w, loss, train_op = _model()
    with tf.train.SingularMonitoredSession(
            checkpoint_filename_with_path=str(tmp_path / "model.ckpt-2")) as sess:
        assert sess.run([global_step, w]) == [2, pytest.approx(_w_after(2))]


# ---- event files ---------------------------------------------------------------------------

def test_summary_and_step_counter_events_load_in_tensorboard(tmp_path):
    event_accumulator = pytest.importorskip(
        "tensorboard.backend.event_processing.event_accumulator",
        reason="tensorboard is in the test extra (pip install tensorboard)")
    logdir = str(tmp_path)
    global_step, x, w, loss, train_op = _model()
    tf.summary.scalar("loss", loss)  # the op "loss" exists: the tag is "loss_1", as in TF
    with tf.train.MonitoredTrainingSession(
            checkpoint_dir=logdir, save_checkpoint_steps=3, save_summaries_steps=2,
            log_step_count_steps=2, hooks=[tf.train.StopAtStepHook(last_step=7)]) as sess:
        _train(sess, train_op, x)
    accumulator = event_accumulator.EventAccumulator(
        logdir, size_guidance={event_accumulator.SCALARS: 0})
    accumulator.Reload()
    tags = accumulator.Tags()
    assert sorted(tags["scalars"]) == ["global_step/sec", "loss_1"]
    assert tags["graph"] is True
    rates = accumulator.Scalars("global_step/sec")
    assert [event.step for event in rates] == [3, 5, 7]
    assert all(event.value > 0 for event in rates)
    losses = accumulator.Scalars("loss_1")
    assert [event.step for event in losses] == [1, 3, 5, 7]
    # The loss logged at step s was computed before that step's update: w after s - 1 steps.
    assert [event.value for event in losses] == [
        pytest.approx(float(_w_after(s - 1) ** 2)) for s in (1, 3, 5, 7)]


def test_step_counter_and_summary_hooks_write_to_their_writer(tmp_path, caplog):
    global_step, x, w, loss, train_op = _model()
    summary = tf.summary.scalar("weight", w)
    writer = tf.summary.FileWriter(str(tmp_path))
    hooks = [tf.train.StepCounterHook(every_n_steps=1, summary_writer=writer),
             tf.train.SummarySaverHook(save_steps=1, summary_writer=writer, summary_op=summary),
             tf.train.StopAtStepHook(last_step=3)]
    with caplog.at_level(logging.INFO, logger="sessionlib"):
        with tf.train.MonitoredSession(hooks=hooks) as sess:
            _train(sess, train_op, x)
    writer.close()
    rates = [r.getMessage() for r in caplog.records
             if r.getMessage().startswith("global_step/sec: ")]
    assert len(rates) == 2  # steps 2 and 3; step 1 starts the clock
    assert all(float(m.split(": ")[1]) > 0 for m in rates)
    events = list(tf.train.summary_iterator(writer.event_file_path))
    session_logs = [(e.step, e.session_log.status) for e in events if e.HasField("session_log")]
    assert session_logs == [(1, tf.summary.SessionLog.START)]
    scalars = [(e.step, v.tag) for e in events if e.HasField("summary") for v in e.summary.value]
    assert scalars == [(1, "weight"), (2, "global_step/sec"), (2, "weight"),
                       (3, "global_step/sec"), (3, "weight")]
    with pytest.raises(ValueError, match="Exactly one of scaffold or summary_op"):
        tf.train.SummarySaverHook(save_steps=1, output_dir=str(tmp_path))
    with pytest.raises(ValueError, match="exactly one of every_n_steps and every_n_secs"):
        tf.train.StepCounterHook(every_n_steps=None)


def test_summary_writer_cache_shares_one_writer_per_directory(tmp_path):
    tf.constant(1.0)
    first = tf.train.SummaryWriterCache.get(str(tmp_path))
    assert tf.train.SummaryWriterCache.get(str(tmp_path)) is first
    assert first.get_logdir() == str(tmp_path)
    assert tf.train.SummaryWriterCache.get(str(tmp_path / "other")) is not first


# ---- the other hooks -----------------------------------------------------------------------

def test_nan_tensor_hook_raises_on_nan_loss():
    value = tf.placeholder(tf.float32, [], name="value")
    loss = value * 1.0
    with tf.train.MonitoredSession(hooks=[tf.train.NanTensorHook(loss)]) as sess:
        sess.run(loss, {value: 1.0})
        with pytest.raises(tf.train.NanLossDuringTrainingError, match="NaN loss during training"):
            sess.run(loss, {value: np.nan})


def test_nan_tensor_hook_without_failing_requests_a_stop():
    value = tf.placeholder(tf.float32, [], name="value")
    loss = value * 1.0
    hook = tf.train.NanTensorHook(loss, fail_on_nan_loss=False)
    with tf.train.MonitoredSession(hooks=[hook]) as sess:
        sess.run(loss, {value: 1.0})
        assert not sess.should_stop()
        sess.run(loss, {value: np.nan})
        assert sess.should_stop()


def test_logging_tensor_hook_logs_every_n_iter_and_at_end(caplog):
    global_step, x, w, loss, train_op = _model()
    tf.square(w.value(), name="w_squared")
    hooks = [tf.train.LoggingTensorHook({"step": global_step, "w": w}, every_n_iter=2,
                                        at_end=True),
             tf.train.LoggingTensorHook(["w_squared"], at_end=True,
                                        formatter=lambda v: "LOSS %.4f" % v["w_squared"]),
             tf.train.StopAtStepHook(last_step=5)]
    with caplog.at_level(logging.INFO, logger="sessionlib"):
        with tf.train.MonitoredSession(hooks=hooks) as sess:
            _train(sess, train_op, x)
    messages = [r.getMessage() for r in caplog.records if r.getMessage().startswith("step = ")]
    # Iterations 0, 2, 4, then the end; the tags sorted. A value fetched in a step is read
    # before or after its update, so only the end's are exact; the first line has no time.
    assert len(messages) == 4
    assert re.fullmatch(r"step = [01], w = [0-9.]+", messages[0])
    assert all(re.fullmatch(r"step = \d, w = [0-9.]+ \(\d+\.\d{3} sec\)", m)
               for m in messages[1:3])
    end = re.fullmatch(r"step = 5, w = ([0-9.]+) \(\d+\.\d{3} sec\)", messages[3])
    assert end and float(end.group(1)) == pytest.approx(_w_after(5))
    loss_lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("LOSS")]
    assert loss_lines == ["LOSS %.4f" % (1.0 * _w_after(5) ** 2)]
    with pytest.raises(ValueError, match="exactly one of every_n_iter and every_n_secs"):
        tf.train.LoggingTensorHook([loss])
    with pytest.raises(ValueError, match="invalid every_n_iter=0"):
        tf.train.LoggingTensorHook([loss], every_n_iter=0)


def test_final_ops_hook_keeps_the_values_of_the_last_run():
    global_step, x, w, loss, train_op = _model()
    hook = tf.train.FinalOpsHook({"w": w.value(), "twice": x * 2.0},
                                 final_ops_feed_dict={x: 4.0})
    assert hook.final_ops_values is None
    with tf.train.MonitoredSession(hooks=[hook, tf.train.StopAtStepHook(last_step=2)]) as sess:
        _train(sess, train_op, x)
    assert hook.final_ops_values == {"w": pytest.approx(_w_after(2)), "twice": 8.0}


def test_feed_fn_hook_feeds_every_run():
    global_step, x, w, loss, train_op = _model()
    feeds = iter([1.0, 0.0, 1.0])
    hook = tf.train.FeedFnHook(lambda: {x: next(feeds)})
    with tf.train.MonitoredSession(hooks=[hook, tf.train.StopAtStepHook(last_step=3)]) as sess:
        while not sess.should_stop():
            sess.run(train_op)
        # x = 0 leaves w unchanged: two real updates.
        assert sess._tf_sess().run(w) == pytest.approx(_w_after(2))


def test_global_step_waiter_hook_with_a_reached_step_does_not_wait():
    global_step, x, w, loss, train_op = _model()
    hook = tf.train.GlobalStepWaiterHook(wait_until_step=0)
    with tf.train.MonitoredSession(hooks=[hook, tf.train.StopAtStepHook(last_step=1)]) as sess:
        assert _train(sess, train_op, x) == 1


def test_second_or_step_timer():
    timer = tf.train.SecondOrStepTimer(every_steps=3)
    assert timer.should_trigger_for_step(0)
    assert timer.update_last_triggered_step(0) == (None, None)
    assert [timer.should_trigger_for_step(s) for s in (0, 1, 2, 3, 4)] == [
        False, False, False, True, True]
    elapsed_secs, elapsed_steps = timer.update_last_triggered_step(3)
    assert elapsed_steps == 3 and elapsed_secs >= 0
    assert timer.last_triggered_step() == 3
    with pytest.raises(ValueError, match="Can not provide both"):
        tf.train.SecondOrStepTimer(every_secs=1, every_steps=1)


# ---- the end of the input ----------------------------------------------------------------

@pytest.mark.skipif(bool(settings.worker_processes()),
                    reason="tf.data pipelines run only in in-process sessions")
def test_out_of_range_from_a_dataset_ends_the_loop_cleanly(tmp_path):
    # A graph with tf.data ops has no GraphDef yet: the hooks write no graph, and say so.
    global_step = tf.train.get_or_create_global_step()
    element = tf.data.make_one_shot_iterator(tf.data.Dataset.range(4)).get_next()
    total = tf.Variable(0, dtype=tf.int64, name="total")
    train_op = tf.group(total.assign_add(element), global_step.assign_add(1))
    final = tf.train.FinalOpsHook(total.value())
    with tf.train.MonitoredTrainingSession(checkpoint_dir=str(tmp_path), hooks=[final],
                                           save_checkpoint_steps=2) as sess:
        runs = 0
        while not sess.should_stop():
            sess.run(train_op)
            runs += 1
        pytest.fail("OutOfRangeError should have left the loop")  # pragma: no cover
    assert runs == 4 and sess.should_stop()
    # The hooks' end ran (the error was the clean end of the input).
    assert final.final_ops_values == 0 + 1 + 2 + 3
    assert tf.train.load_variable(str(tmp_path), "total") == 6
    # The pipeline's ops are written too, their Python functions named, not stored.
    assert "graph.pbtxt" in os.listdir(tmp_path)


def test_out_of_range_from_a_queue_ends_the_loop_and_stops_the_threads(tmp_path):
    # num_epochs keeps a local variable: the scaffold's local_init_op initializes it.
    global_step = tf.train.get_or_create_global_step()
    produced = tf.train.input_producer(tf.constant([1.0, 2.0, 3.0]), num_epochs=2,
                                       shuffle=False)
    value = produced.dequeue()
    total = tf.Variable(0.0, name="total")
    train_op = tf.group(total.assign_add(value), global_step.assign_add(1))
    runs = 0
    with tf.train.MonitoredTrainingSession(checkpoint_dir=str(tmp_path),
                                           log_step_count_steps=None,
                                           save_summaries_steps=None) as sess:
        assert len(tf.get_collection(tf.GraphKeys.QUEUE_RUNNERS)) == 1
        while not sess.should_stop():
            sess.run(train_op)
            runs += 1
    assert runs == 6
    # The end saved a checkpoint; the failed seventh run may have counted its step.
    assert tf.train.load_variable(str(tmp_path), "total") == 12.0
    assert tf.train.load_variable(str(tmp_path), "global_step") in (6, 7)


def test_an_error_other_than_out_of_range_propagates_and_skips_end():
    hook = RecordingHook()
    c = tf.constant(1.0)
    with pytest.raises(ValueError, match="boom"):
        with tf.train.MonitoredSession(hooks=[hook]) as sess:
            sess.run(c)
            raise ValueError("boom")
    assert "end" not in hook.calls


def test_monitored_session_recovers_from_an_aborted_run():
    c = tf.constant(3.0)

    class CountingCreator(tf.train.SessionCreator):
        created = 0

        def create_session(self):
            self.created += 1
            return tf.train.ChiefSessionCreator().create_session()

    class AbortOnce(tf.train.SessionRunHook):
        aborted = False

        def before_run(self, run_context):
            if not self.aborted:
                self.aborted = True
                raise tf.errors.AbortedError(None, None, "preempted")

    creator = CountingCreator()
    with tf.train.MonitoredSession(session_creator=creator, hooks=[AbortOnce()]) as sess:
        assert sess.run(c) == 3.0
    assert creator.created == 2


def test_a_hooks_run_options_trace_the_run_it_sees():
    c = tf.constant(2.0) * 3.0

    class TraceHook(tf.train.SessionRunHook):
        def before_run(self, run_context):
            return tf.train.SessionRunArgs(
                None, options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE))

        def after_run(self, run_context, run_values):
            self.trace_level = run_values.options.trace_level
            self.nodes = sum(len(d.node_stats) for d in run_values.run_metadata.step_stats
                             .dev_stats)

    hook = TraceHook()
    plain = RecordingHook()
    with tf.train.MonitoredSession(hooks=[hook]) as sess:
        assert sess.run(c) == 6.0
    assert hook.trace_level == tf.RunOptions.FULL_TRACE and hook.nodes > 0
    # Without options the run is not traced, and the hooks still get the protos.
    with tf.train.MonitoredSession(hooks=[plain]) as sess:
        sess.run(c)
    assert plain.calls.count("after_run") == 1
