"""The real client reads our event files: tensorboard's `EventAccumulator` (no TF needed)
loads the scalars, histograms, images, audio, text, graph and run metadata that a
`tf.summary.FileWriter` wrote from a sessionlib training loop."""

import numpy as np
import pytest

import sessionlib as tf

event_accumulator = pytest.importorskip(
    "tensorboard.backend.event_processing.event_accumulator",
    reason="tensorboard is in the test extra (pip install tensorboard)")


def _accumulator(logdir):
    size_guidance = {event_accumulator.SCALARS: 0, event_accumulator.HISTOGRAMS: 0,
                     event_accumulator.IMAGES: 0, event_accumulator.AUDIO: 0,
                     event_accumulator.TENSORS: 0}
    accumulator = event_accumulator.EventAccumulator(logdir, size_guidance=size_guidance)
    accumulator.Reload()
    return accumulator


def test_event_accumulator_reads_a_training_run(tmp_path):
    logdir = str(tmp_path)
    x = tf.placeholder(tf.float32, [None], name="x")
    with tf.device("/cpu:0"):
        w = tf.Variable(2.0, name="w")
    loss = tf.reduce_mean(tf.square(x * w), name="loss")
    train = tf.train.GradientDescentOptimizer(0.01).minimize(loss)
    tf.summary.scalar("loss", loss)  # op "loss" exists: tag "loss_1" (TF too)
    tf.summary.histogram("x", x, family="inputs")
    tf.summary.image("picture", tf.reshape(x[:12], [1, 2, 2, 3]))
    tf.summary.audio("sound", tf.reshape(x[:12] / 12.0, [1, 12]), 8000.0)
    tf.summary.text("note", tf.constant("**hello**"))
    merged = tf.summary.merge_all()
    feeds = [np.arange(12, dtype=np.float32) + step for step in range(3)]
    losses = []
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        writer = tf.summary.FileWriter(logdir, sess.graph)
        for step, feed in enumerate(feeds):
            run_metadata = tf.RunMetadata()
            options = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE) if step == 1 else None
            summary, value, _ = sess.run([merged, loss, train], {x: feed}, options=options,
                                         run_metadata=run_metadata)
            losses.append(value)
            writer.add_summary(summary, global_step=step)
            if step == 1:
                writer.add_run_metadata(run_metadata, "step_1", global_step=step)
        writer.close()

    accumulator = _accumulator(logdir)
    tags = accumulator.Tags()
    assert tags["scalars"] == ["loss_1"]
    assert tags["histograms"] == ["inputs/inputs/x"]
    assert tags["images"] == ["picture/image/0"]
    assert tags["audio"] == ["sound/audio/0"]
    assert tags["tensors"] == ["note"]
    assert tags["graph"] is True and tags["run_metadata"] == ["step_1"]
    assert accumulator.file_version == 2.0

    scalars = accumulator.Scalars("loss_1")
    assert [s.step for s in scalars] == [0, 1, 2]
    np.testing.assert_allclose([s.value for s in scalars], losses, rtol=1e-6)

    histograms = accumulator.Histograms("inputs/inputs/x")
    assert [h.step for h in histograms] == [0, 1, 2]
    for h, feed in zip(histograms, feeds):
        value = h.histogram_value
        assert (value.min, value.max, value.num) == (feed.min(), feed.max(), len(feed))
        assert value.sum == pytest.approx(feed.sum())
        assert sum(value.bucket) == len(feed)
    assert len(accumulator.CompressedHistograms("inputs/inputs/x")) == 3

    images = accumulator.Images("picture/image/0")
    assert [(i.step, i.width, i.height) for i in images] == [(0, 2, 2), (1, 2, 2), (2, 2, 2)]
    assert images[0].encoded_image_string.startswith(b"\x89PNG")

    audio = accumulator.Audio("sound/audio/0")
    assert [a.step for a in audio] == [0, 1, 2]
    assert (audio[0].content_type, audio[0].sample_rate, audio[0].length_frames) == (
        "audio/wav", 8000.0, 12)
    assert audio[0].encoded_audio_string.startswith(b"RIFF")

    text = accumulator.Tensors("note")
    assert text[0].tensor_proto.string_val == [b"**hello**"]
    assert accumulator.SummaryMetadata("note").plugin_data.plugin_name == "text"

    graph = accumulator.Graph()
    nodes = {node.name: node for node in graph.node}
    assert nodes["loss"].op == "Mean" and nodes["w"].device == "/device:CPU:0"
    assert all(node.device for node in graph.node)  # placed devices fill in the rest

    run_metadata = accumulator.RunMetadata("step_1")
    node_names = {stat.node_name for dev in run_metadata.step_stats.dev_stats
                  for stat in dev.node_stats}
    assert "loss" in node_names
    assert all(dev.device for dev in run_metadata.step_stats.dev_stats)


def test_event_accumulator_reads_a_reopened_writer_and_session_logs(tmp_path):
    logdir = str(tmp_path)
    writer = tf.summary.FileWriter(logdir)
    writer.add_session_log(tf.SessionLog(status=tf.SessionLog.START), 0)
    for step in range(3):
        writer.add_summary(tf.Summary(value=[tf.Summary.Value(tag="a", simple_value=step)]),
                           step)
    writer.close()
    writer.reopen()
    writer.add_summary(tf.Summary(value=[tf.Summary.Value(tag="a", simple_value=7.0)]), 3)
    writer.close()
    scalars = _accumulator(logdir).Scalars("a")
    assert [(s.step, s.value) for s in scalars] == [(0, 0.0), (1, 1.0), (2, 2.0), (3, 7.0)]


def test_placed_devices_are_spelled_as_explicit_ones(tmp_path):
    """TensorBoard colours nodes by their device string: a node the session placed on CPU:1
    must read '/device:CPU:1', as one placed there by `tf.device`, not the full local name."""
    graph = tf.Graph()
    with graph.as_default():
        with tf.device("/cpu:1"):
            a = tf.constant(1.0, name="a")
        tf.identity(a, name="b")  # no device: the session places it (beside its input)
        with tf.Session(config=tf.ConfigProto(device_count={"CPU": 2})) as sess:
            writer = tf.summary.FileWriter(str(tmp_path), graph, session=sess)
            writer.close()
    accumulator = _accumulator(str(tmp_path))
    devices = {node.name: node.device for node in accumulator.Graph().node}
    assert devices["a"] == "/device:CPU:1"
    assert devices["b"].startswith("/device:CPU:")  # no "/job:localhost/..." prefix
