"""tf.train.ProfilerHook: which steps it traces, the Chrome trace files it writes (one per
traced step, naming every device that ran), the run metadata in the event file, and errors."""

import glob
import json
import os

import numpy as np
import pytest

import sessionlib as tf

CPU0 = "/job:localhost/replica:0/task:0/device:CPU:0"
CPU1 = "/job:localhost/replica:0/task:0/device:CPU:1"


@pytest.fixture(autouse=True)
def _close_cached_writers():
    """The hook's event writers are cached per directory: close this test's at its end."""
    yield
    tf.summary.FileWriterCache.clear()


class _TraceRecorder(tf.train.SessionRunHook):
    """Records, per run, whether the run was traced (its RunMetadata has step stats)."""

    def __init__(self):
        self.traced = []

    def after_run(self, run_context, run_values):
        self.traced.append(len(run_values.run_metadata.step_stats.dev_stats) > 0)


def _train(hook, runs, config=None, two_devices=False):
    """Runs `runs` training steps under a MonitoredSession with `hook`; returns the recorder."""
    recorder = _TraceRecorder()
    with tf.Graph().as_default():
        global_step = tf.train.get_or_create_global_step()
        with tf.device("/cpu:1" if two_devices else "/cpu:0"):
            w = tf.Variable(np.ones((3, 3), np.float32), name="w")
            y = tf.matmul(w, tf.constant(np.full((3, 3), 0.5, np.float32)), name="y")
        with tf.device("/cpu:0"):
            loss = tf.reduce_sum(y * y, name="loss")
        train = tf.train.GradientDescentOptimizer(0.01).minimize(loss, global_step=global_step)
        creator = tf.train.ChiefSessionCreator(config=config)
        with tf.train.MonitoredSession(session_creator=creator,
                                       hooks=[hook, recorder]) as sess:
            for _ in range(runs):
                sess.run(train)
    return recorder


def _timelines(directory):
    return sorted(os.path.basename(path)
                  for path in glob.glob(os.path.join(directory, "timeline-*.json")))


def _load_trace(path):
    with open(path) as f:
        trace = json.load(f)
    assert set(trace) == {"traceEvents"}
    return trace["traceEvents"]


def _process_names(events):
    return {event["pid"]: event["args"]["name"] for event in events
            if event["ph"] == "M" and event["name"] == "process_name"}


def test_traces_every_n_steps_after_the_first_run(tmp_path):
    hook = tf.train.ProfilerHook(save_steps=2, output_dir=str(tmp_path))
    recorder = _train(hook, runs=7)
    # The first run (global step 0 -> 1) starts the timer; then global steps 2, 4 and 6.
    assert recorder.traced == [False, True, False, True, False, True, False]
    assert _timelines(tmp_path) == ["timeline-2.json", "timeline-4.json", "timeline-6.json"]
    for name in _timelines(tmp_path):
        events = _load_trace(tmp_path / name)
        processes = _process_names(events)
        assert f"{CPU0} Compute" in processes.values()
        ops = [event for event in events if event["ph"] == "X"]
        assert {"MatMul", "ResourceApplyGradientDescent"} <= {event["name"] for event in ops}
        for event in ops:
            assert processes[event["pid"]] == f"{CPU0} Compute"
            assert event["dur"] >= 0 and event["ts"] > 0
            assert "name" in event["args"] and "op" in event["args"]


def test_run_metadata_goes_to_the_event_file(tmp_path):
    _train(tf.train.ProfilerHook(save_steps=3, output_dir=str(tmp_path)), runs=7)
    tf.summary.FileWriterCache.clear()   # closes (flushes) the directory's writer
    (event_file,) = glob.glob(str(tmp_path / "events.out.tfevents.*"))
    tags = [event.tagged_run_metadata.tag for event in tf.train.summary_iterator(event_file)
            if event.HasField("tagged_run_metadata")]
    assert tags == ["step_3", "step_6"]
    assert _timelines(tmp_path) == ["timeline-3.json", "timeline-6.json"]


def test_trace_names_both_devices_of_a_two_device_step(tmp_path):
    hook = tf.train.ProfilerHook(save_steps=1, output_dir=str(tmp_path), show_memory=True)
    recorder = _train(hook, runs=3, config=tf.ConfigProto(device_count={"CPU": 2}),
                      two_devices=True)
    assert recorder.traced == [False, True, True]
    assert _timelines(tmp_path) == ["timeline-2.json", "timeline-3.json"]
    events = _load_trace(tmp_path / "timeline-3.json")
    processes = _process_names(events)
    assert {f"{CPU0} Compute", f"{CPU1} Compute", "Allocators"} <= set(processes.values())
    by_device = {}
    for event in events:
        if event["ph"] == "X":
            by_device.setdefault(processes[event["pid"]], set()).add(event["name"])
    assert "MatMul" in by_device[f"{CPU1} Compute"]
    assert "Mul" in by_device[f"{CPU0} Compute"]   # y * y, placed on CPU:0
    # show_memory: the tensors' lifetimes are objects ("N", "O", "D") in the Tensors processes.
    assert any(event["ph"] == "N" for event in events)


def test_save_secs_zero_traces_every_run_but_the_first(tmp_path):
    hook = tf.train.ProfilerHook(save_secs=0, output_dir=str(tmp_path), show_dataflow=False)
    recorder = _train(hook, runs=3)
    assert recorder.traced == [False, True, True]
    assert _timelines(tmp_path) == ["timeline-2.json", "timeline-3.json"]
    events = _load_trace(tmp_path / "timeline-2.json")
    assert not any(event["ph"] in ("s", "t") for event in events)   # no dataflow arrows


def test_a_long_interval_traces_nothing(tmp_path):
    recorder = _train(tf.train.ProfilerHook(save_secs=3600, output_dir=str(tmp_path)),
                      runs=3)
    assert recorder.traced == [False, False, False]
    assert _timelines(tmp_path) == []


def test_errors(tmp_path):
    with pytest.raises(ValueError, match="every_secs or every_steps"):
        tf.train.ProfilerHook(output_dir=str(tmp_path))
    with pytest.raises(ValueError, match="both"):
        tf.train.ProfilerHook(save_steps=1, save_secs=1, output_dir=str(tmp_path))
    hook = tf.train.ProfilerHook(save_steps=1, output_dir=str(tmp_path))
    with tf.Graph().as_default():
        with pytest.raises(RuntimeError, match="Global step should be created"):
            hook.begin()


def test_default_output_dir_is_the_current_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _train(tf.train.ProfilerHook(save_steps=1), runs=2)
    assert _timelines(tmp_path) == ["timeline-2.json"]
    assert glob.glob(str(tmp_path / "events.out.tfevents.*"))
