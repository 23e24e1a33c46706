"""Summary ops: names, tags, collections and values as TF 1 makes them.

The expected values (tags, op names, histogram buckets, PNG pixels, WAV bytes, messages) were
printed by TF 2.21 (tf.compat.v1) for the same programs; the comments say so where it matters.
"""

import bisect
import struct
import sys
import zlib

import numpy as np
import pytest

import sessionlib as tf
from sessionlib import errors
from sessionlib.runtime.kernels import summary_kernels


def _run(summary_tensor):
    with tf.Session() as sess:
        raw = sess.run(summary_tensor)
    assert isinstance(raw, bytes)
    return tf.Summary.FromString(raw)


def _decode_png(data):
    """Pixels of a PNG with 8-bit samples and filter 0 rows (what our encoder writes); checks
    the signature and every chunk CRC on the way."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    offset, chunks = 8, {}
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset:offset + 4])
        kind = data[offset + 4:offset + 8]
        body = data[offset + 8:offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length:offset + 12 + length])
        assert crc == zlib.crc32(kind + body)
        chunks[kind] = chunks.get(kind, b"") + body
        offset += 12 + length
    width, height, depth, color_type = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert depth == 8 and b"IEND" in chunks
    channels = {0: 1, 4: 2, 2: 3, 6: 4}[color_type]
    rows = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), np.uint8)
    rows = rows.reshape(height, 1 + width * channels)
    assert not rows[:, 0].any()
    return rows[:, 1:].reshape(height, width, channels)


# ---- names, tags, collections ---------------------------------------------------------------

def test_names_tags_and_families_follow_tf1():
    s1 = tf.summary.scalar("loss", tf.constant(1.5))
    s2 = tf.summary.scalar("loss", tf.constant(2.5), family="fam")
    s3 = tf.summary.scalar("a b", tf.constant(2.5))
    with tf.name_scope("outer"):
        s4 = tf.summary.scalar("loss", tf.constant(3.0), family="fam")
    s5 = tf.summary.scalar("loss", 4)
    # TF 2.21: op names, input names and tags.
    assert [s.op.name for s in (s1, s2, s3, s4, s5)] == ["loss", "fam/loss", "a_b",
                                                           "outer/fam/loss", "loss_1"]
    assert s1.op.type == "ScalarSummary" and s1.op.inputs[0].name == "loss/tags:0"
    assert s5.op.inputs[1].name == "loss_1/values:0" and s5.op.inputs[1].dtype == tf.int32
    tags = [_run(s).value[0].tag for s in (s1, s2, s4, s5)]
    assert tags == ["loss", "fam/fam/loss", "fam/outer/fam/loss", "loss_1"]
    assert _run(s5).value[0].simple_value == 4.0
    assert s1.dtype == tf.string and s1.shape.as_list() == []


def test_collections_merge_and_merge_all():
    a = tf.summary.scalar("a", tf.constant(1.0), collections=["mine"])
    with tf.name_scope("scope1"):
        b = tf.summary.scalar("b", tf.constant(2.0))
    c = tf.summary.scalar("c", 3)
    assert tf.get_default_graph().get_collection("mine") == [a]
    assert tf.get_default_graph().get_collection(tf.GraphKeys.SUMMARIES) == [b, c]
    merged = tf.summary.merge([a, b], name="m")
    scoped = tf.summary.merge_all(scope="scope1")
    everything = tf.summary.merge_all()
    # TF 2.21 names.
    assert merged.op.name == "m/m" and scoped.op.name == "Merge/MergeSummary"
    assert everything.op.name == "Merge_1/MergeSummary"
    assert tf.summary.merge_all(key="nothing") is None
    assert [v.tag for v in _run(merged).value] == ["a", "scope1/b"]
    assert [v.tag for v in _run(scoped).value] == ["scope1/b"]
    values = _run(everything).value
    assert [(v.tag, v.simple_value) for v in values] == [("scope1/b", 2.0), ("c", 3.0)]


def test_merge_rejects_duplicate_tags():
    s = tf.summary.scalar("loss", tf.constant(1.0))
    with pytest.raises(errors.InvalidArgumentError,
                       match="Duplicate tag loss found in summary inputs"):
        _run(tf.summary.merge([s, s]))


def test_scalar_shape_error():
    bad = tf.summary.scalar("bad", tf.constant([1.0, 2.0]))
    with pytest.raises(errors.InvalidArgumentError,
                       match=r"tags and values are not the same shape: \[\] != \[2\] "
                             r"\(tag 'bad'\)"):
        _run(bad)


# ---- histograms -----------------------------------------------------------------------------

def _tf_default_limits():
    # Written from TF's description independently of the kernel: 1e-12 growing by 10 % up to
    # 1e20, mirrored, 0 in the middle, +-DBL_MAX at the ends.
    positive, v = [], 1e-12
    while v < 1e20:
        positive.append(v)
        v *= 1.1
    positive.append(sys.float_info.max)
    return [-x for x in positive[::-1]] + [0.0] + positive


def _expected_histogram(values):
    limits = _tf_default_limits()
    counts = [0] * len(limits)
    for value in values:
        counts[bisect.bisect_right(limits, value)] += 1
    out = []
    i = 0
    while i < len(counts):  # collapse runs of empty buckets, as TF's EncodeToProto
        end, count = limits[i], counts[i]
        i += 1
        if count == 0:
            while i < len(counts) and counts[i] == 0:
                end, count = limits[i], counts[i]
                i += 1
        out.append((end, float(count)))
    return out


def test_default_bucket_limits():
    limits = summary_kernels.default_bucket_limits()
    assert limits.tolist() == _tf_default_limits()
    assert len(limits) == 2 * 775 + 1
    assert limits[775] == 0.0 and limits[776] == 1e-12 and limits[-1] == sys.float_info.max


def test_histogram_matches_tf():
    h = _run(tf.summary.histogram("h", tf.constant([1.0, -2.0, 0.0, 3.0]))).value[0]
    assert h.tag == "h"
    histo = h.histo
    # TF 2.21 printed exactly these.
    assert (histo.min, histo.max, histo.num, histo.sum, histo.sum_squares) == (-2, 3, 4, 2, 14)
    assert list(histo.bucket_limit) == [-2.1628190051144287, -1.9661990955585713, 0.0, 1e-12,
                                        0.917246389039776, 1.0089710279437536,
                                        2.8787120958073054, 3.1665833053880363,
                                        sys.float_info.max]
    assert list(histo.bucket) == [0, 1, 0, 1, 0, 1, 0, 1, 0]


def test_histogram_of_ints_empty_and_random_values():
    ints = _run(tf.summary.histogram("ints", tf.constant([1, 1, 5, 1000000], tf.int64)))
    histo = ints.value[0].histo
    # TF 2.21.
    assert (histo.min, histo.max, histo.num, histo.sum, histo.sum_squares) == (
        1, 1000000, 4, 1000007, 1000000000027)
    assert list(histo.bucket_limit) == [0.917246389039776, 1.0089710279437536,
                                        4.6361946174186253, 5.0998140791604882,
                                        921351.52426931111, 1013486.6766962423,
                                        sys.float_info.max]
    assert list(histo.bucket) == [0, 2, 0, 1, 0, 1, 0]
    empty = _run(tf.summary.histogram("empty", tf.zeros([0]))).value[0].histo
    assert (empty.min, empty.max, empty.num) == (sys.float_info.max, -sys.float_info.max, 0)
    assert list(empty.bucket_limit) == [sys.float_info.max] and list(empty.bucket) == [0]
    values = np.random.RandomState(0).randn(1000) * 100
    histo = _run(tf.summary.histogram("r", tf.constant(values))).value[0].histo
    assert len(histo.bucket) == 126 and sum(histo.bucket) == 1000  # TF 2.21
    assert list(zip(histo.bucket_limit, histo.bucket)) == _expected_histogram(values)
    np.testing.assert_allclose([histo.sum, histo.sum_squares],
                               [values.sum(), (values ** 2).sum()], rtol=1e-12)


def test_histogram_rejects_nan():
    with pytest.raises(errors.InvalidArgumentError, match="Nan in summary histogram for: badh"):
        _run(tf.summary.histogram("badh", tf.constant([1.0, np.nan])))


# ---- images ---------------------------------------------------------------------------------

def test_float_images_scale_as_tf():
    x = np.array([[[[-1.0, 0.5, 2.0], [0.0, np.nan, 0.25]],
                   [[1.0, 1.0, 1.0], [-0.3, 0.7, 0.1]]]], np.float32)
    value = _run(tf.summary.image("probe", tf.constant(x))).value[0]
    assert value.tag == "probe/image/0"
    assert (value.image.height, value.image.width, value.image.colorspace) == (2, 2, 3)
    # TF 2.21 decoded its PNG to these pixels (negative values: 127/max|v| around 128; NaN
    # pixels red).
    assert _decode_png(value.image.encoded_image_string).tolist() == [
        [[64, 159, 255], [255, 0, 0]], [[191, 191, 191], [108, 172, 134]]]
    positive = np.array([[[[0.0, 0.5, 2.0], [0.0, 0.3, 0.25]]]], np.float32)
    value = _run(tf.summary.image("positive", tf.constant(positive))).value[0]
    assert _decode_png(value.image.encoded_image_string).tolist() == [
        [[0, 63, 255], [0, 38, 31]]]
    tiny = _run(tf.summary.image("flat", tf.zeros([1, 1, 2, 1]) + 5e-7)).value[0]
    assert _decode_png(tiny.image.encoded_image_string).tolist() == [[[0], [0]]]
    half = np.array([[[[0.5], [1.0]]]], np.float16)
    value = _run(tf.summary.image("half", tf.constant(half))).value[0]
    assert _decode_png(value.image.encoded_image_string).tolist() == [[[127], [255]]]


def test_uint8_images_max_outputs_and_tags():
    pixels = np.arange(5 * 2 * 1 * 4, dtype=np.uint8).reshape(5, 2, 1, 4)
    values = _run(tf.summary.image("batch", tf.constant(pixels))).value
    assert [v.tag for v in values] == ["batch/image/0", "batch/image/1", "batch/image/2"]
    assert [v.image.colorspace for v in values] == [4, 4, 4]
    for i, v in enumerate(values):
        np.testing.assert_array_equal(_decode_png(v.image.encoded_image_string), pixels[i])
    # The tag has no index when max_outputs is 1, whatever the batch (TF 2.21).
    one = _run(tf.summary.image("img", tf.zeros([2, 2, 2, 1]), max_outputs=1)).value
    assert [v.tag for v in one] == ["img/image"]
    assert [v.tag for v in _run(tf.summary.image("i3", tf.zeros([1, 2, 2, 1]))).value] == [
        "i3/image/0"]


def test_image_errors():
    with pytest.raises(errors.InvalidArgumentError,
                       match=r"Tensor must be 4-D with last dim 1, 3, or 4, not \[1,2,2,2\]"):
        _run(tf.summary.image("bad", tf.zeros([1, 2, 2, 2])))
    with pytest.raises(TypeError):
        tf.summary.image("ints", tf.zeros([1, 2, 2, 1], tf.int32))


# ---- audio, text, tensors -------------------------------------------------------------------

def test_audio_is_tfs_wav():
    samples = tf.constant([[0.5, -1.5, 0.25, 1.0, -1.0, 0.1]])
    value = _run(tf.summary.audio("pa", samples, 16000)).value[0]
    assert value.tag == "pa/audio/0"
    assert (value.audio.sample_rate, value.audio.num_channels, value.audio.length_frames,
            value.audio.content_type) == (16000.0, 1, 6, "audio/wav")
    # TF 2.21's bytes: 16-bit PCM, samples * 32768 rounded and clipped.
    assert value.audio.encoded_audio_string.hex() == (
        "524946463000000057415645666d74201000000001000100803e0000007d000002001000"
        "646174610c000000004000800020ff7f0080cd0c")
    stereo = tf.constant([[[0.5, -0.5], [0.25, 0.0]]] * 2)
    values = _run(tf.summary.audio("st", stereo, 8000, max_outputs=1)).value
    assert [v.tag for v in values] == ["st/audio"]
    assert values[0].audio.encoded_audio_string.hex() == (
        "524946462c00000057415645666d74201000000001000200401f0000007d000004001000"
        "6461746108000000004000c000200000")
    with pytest.raises(errors.InvalidArgumentError, match="Tensor must be 3-D or 2-D"):
        _run(tf.summary.audio("bad", tf.zeros([4]), 8000))


def test_text_and_tensor_summary():
    value = _run(tf.summary.text("t", tf.constant("hello"))).value[0]
    assert value.tag == "t"
    assert value.metadata.plugin_data.plugin_name == "text"
    assert value.metadata.plugin_data.content == b""
    assert value.tensor.dtype == tf.string.as_datatype_enum
    assert list(value.tensor.string_val) == [b"hello"]
    multi = _run(tf.summary.text("multi", tf.constant([["a", "b"]]))).value[0]
    assert [d.size for d in multi.tensor.tensor_shape.dim] == [1, 2]
    assert list(multi.tensor.string_val) == [b"a", b"b"]
    with pytest.raises(ValueError, match="to have dtype string"):
        tf.summary.text("t2", tf.constant(1))
    ts = tf.summary.tensor_summary("ts", tf.constant([1, 2]), summary_description="desc",
                                   display_name="Shown", family="fam")
    value = _run(ts).value[0]
    assert ts.op.type == "TensorSummaryV2" and ts.op.name == "fam/ts"
    assert value.tag == "fam/fam/ts"
    assert value.metadata.summary_description == "desc"
    assert value.metadata.display_name == "Shown"
    assert value.tensor.dtype == tf.int32.as_datatype_enum
    assert value.tensor.tensor_content == b"\x01\x00\x00\x00\x02\x00\x00\x00"  # TF 2.21


def test_summaries_of_fed_values_change_per_run():
    x = tf.placeholder(tf.float32, [], name="x")
    s = tf.summary.scalar("x", x)
    with tf.Session() as sess:
        got = [tf.Summary.FromString(sess.run(s, {x: v})).value[0].simple_value
               for v in (1.0, 2.5)]
    assert got == [1.0, 2.5]
