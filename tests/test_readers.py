"""Readers: records and keys of TextLineReader, WholeFileReader and IdentityReader."""

import threading

import pytest

import sessionlib as tf
from sessionlib import errors

from _blocking import wait_until_blocked

BOUNDED = tf.RunOptions(timeout_in_ms=20000)


@pytest.fixture
def files(tmp_path):
    """Two text files: one with a header, CRLF and empty lines and no final newline."""
    first = tmp_path / "first.txt"
    first.write_bytes(b"header\nline 1\r\nline 2\n\nlast")
    second = tmp_path / "second.txt"
    second.write_bytes(b"h\nx\ny\n")
    return str(first).encode(), str(second).encode()


def filename_queue(names, close=True):
    """A FIFOQueue of the filenames and the ops that fill it (and close it)."""
    queue = tf.FIFOQueue(10, tf.string)
    ops = [queue.enqueue_many([list(names)])]
    if close:
        ops.append(queue.close())
    return queue, ops


def test_text_line_reader_keys_and_values(executor, files):
    first, second = files
    queue, fill = filename_queue([first, second])
    reader = tf.TextLineReader(skip_header_lines=1)
    key, value = reader.read(queue)
    assert key.dtype == tf.string and value.dtype == tf.string
    assert reader.reader_ref.op.type == "TextLineReaderV2"
    assert key.op.type == "ReaderReadV2"
    with tf.Session() as sess:
        for op in fill:
            sess.run(op)
        records = [tuple(sess.run([key, value], options=BOUNDED)) for _ in range(6)]
        assert records == [
            (first + b":2", b"line 1"),
            (first + b":3", b"line 2"),
            (first + b":4", b""),
            (first + b":5", b"last"),
            (second + b":2", b"x"),
            (second + b":3", b"y"),
        ]
        assert sess.run(reader.num_records_produced()) == 6
        assert sess.run(reader.num_work_units_completed()) == 1
        with pytest.raises(errors.OutOfRangeError):
            sess.run([key, value], options=BOUNDED)
        assert sess.run(reader.num_work_units_completed()) == 2


def test_text_line_reader_without_header(executor, files):
    first, _ = files
    queue, fill = filename_queue([first])
    reader = tf.TextLineReader()
    key, value = reader.read(queue)
    with tf.Session() as sess:
        for op in fill:
            sess.run(op)
        assert sess.run([key, value], options=BOUNDED) == [first + b":1", b"header"]


def test_read_up_to_stays_within_one_file(executor, files):
    first, second = files
    queue, fill = filename_queue([first, second])
    reader = tf.TextLineReader(skip_header_lines=1)
    keys, values = reader.read_up_to(queue, 3)
    assert keys.shape.as_list() == [None]
    with tf.Session() as sess:
        for op in fill:
            sess.run(op)
        got_keys, got_values = sess.run([keys, values], options=BOUNDED)
        assert list(got_keys) == [first + b":2", first + b":3", first + b":4"]
        assert list(got_values) == [b"line 1", b"line 2", b""]
        assert list(sess.run(values, options=BOUNDED)) == [b"last"]
        assert list(sess.run(values, options=BOUNDED)) == [b"x", b"y"]
        with pytest.raises(errors.OutOfRangeError):
            sess.run(values, options=BOUNDED)


def test_reset(executor, files):
    first, second = files
    queue, fill = filename_queue([first, second])
    reader = tf.TextLineReader()
    key, _ = reader.read(queue)
    with tf.Session() as sess:
        for op in fill:
            sess.run(op)
        assert sess.run(key, options=BOUNDED) == first + b":1"
        sess.run(reader.reset())
        assert sess.run(reader.num_records_produced()) == 0
        # The unfinished first file is dropped; reading goes on with the next work unit.
        assert sess.run(key, options=BOUNDED) == second + b":1"


def test_whole_file_reader(executor, files):
    first, second = files
    queue, fill = filename_queue([first, second])
    reader = tf.WholeFileReader()
    key, value = reader.read(queue)
    with tf.Session() as sess:
        for op in fill:
            sess.run(op)
        assert sess.run([key, value], options=BOUNDED) == [
            first, b"header\nline 1\r\nline 2\n\nlast"]
        assert sess.run([key, value], options=BOUNDED) == [second, b"h\nx\ny\n"]
        assert sess.run(reader.num_work_units_completed()) == 2
        assert sess.run(reader.num_records_produced()) == 2
        with pytest.raises(errors.OutOfRangeError):
            sess.run(key, options=BOUNDED)


def test_identity_reader(executor):
    queue, fill = filename_queue(["a", "b"])
    reader = tf.IdentityReader()
    key, value = reader.read(queue)
    keys, values = reader.read_up_to(queue, 5)
    with tf.Session() as sess:
        for op in fill:
            sess.run(op)
        assert sess.run([key, value], options=BOUNDED) == [b"a", b"a"]
        got_keys, got_values = sess.run([keys, values], options=BOUNDED)
        assert list(got_keys) == [b"b"] and list(got_values) == [b"b"]
        assert sess.run(reader.num_work_units_completed()) == 2


def test_missing_file_is_not_found(executor, tmp_path, files):
    missing = str(tmp_path / "missing.txt").encode()
    first, _ = files
    queue, fill = filename_queue([missing, first])
    text_reader = tf.TextLineReader()
    key, _ = text_reader.read(queue)
    with tf.Session() as sess:
        for op in fill:
            sess.run(op)
        with pytest.raises(errors.NotFoundError, match="missing.txt"):
            sess.run(key, options=BOUNDED)
        # As in TF, the unreadable work unit is skipped by the next read.
        assert sess.run(key, options=BOUNDED) == first + b":1"
    queue, fill = filename_queue([missing])
    whole_reader = tf.WholeFileReader()
    whole_key, _ = whole_reader.read(queue)
    with tf.Session() as sess:
        for op in fill:
            sess.run(op)
        with pytest.raises(errors.NotFoundError):
            sess.run(whole_key, options=BOUNDED)


def test_closed_empty_queue_is_out_of_range(executor):
    queue, fill = filename_queue([])
    reader = tf.WholeFileReader()
    key, _ = reader.read(queue)
    with tf.Session() as sess:
        for op in fill:
            sess.run(op)
        with pytest.raises(errors.OutOfRangeError):
            sess.run(key, options=BOUNDED)


def test_read_blocks_until_a_work_unit_arrives(executor):
    queue = tf.FIFOQueue(10, tf.string)
    reader = tf.IdentityReader()
    key, _ = reader.read(queue)
    enqueue = queue.enqueue("late")
    with tf.Session() as sess:
        with pytest.raises(errors.DeadlineExceededError):
            sess.run(key, options=tf.RunOptions(timeout_in_ms=100))
        results = []
        thread = threading.Thread(
            target=lambda: results.append(sess.run(key, options=BOUNDED)), daemon=True)
        thread.start()
        wait_until_blocked(sess)
        sess.run(enqueue)
        thread.join(30)
        assert not thread.is_alive()
        assert results == [b"late"]


def test_session_close_cancels_a_blocked_read(executor):
    queue = tf.FIFOQueue(10, tf.string)
    reader = tf.TextLineReader()
    key, _ = reader.read(queue)
    sess = tf.Session()
    failures = []

    def read():
        try:
            sess.run(key, options=BOUNDED)
        except Exception as err:  # noqa: BLE001 - inspected below
            failures.append(err)

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    wait_until_blocked(sess)  # the read must be blocked before the close
    sess.close()
    thread.join(30)
    assert not thread.is_alive()
    assert len(failures) == 1 and isinstance(failures[0], errors.CancelledError)


def test_readers_are_per_session(executor, files):
    first, _ = files
    queue, fill = filename_queue([first, first], close=False)
    reader = tf.TextLineReader()
    key, _ = reader.read(queue)
    with tf.Session() as one, tf.Session() as two:
        for op in fill:
            one.run(op)
            two.run(op)
        assert one.run(key, options=BOUNDED) == first + b":1"
        assert one.run(key, options=BOUNDED) == first + b":2"
        assert two.run(key, options=BOUNDED) == first + b":1"


# ---- state serialization ------------------------------------------------------------------

def test_identity_reader_state_round_trips_and_matches_tf_bytes(executor):
    queue, fill = filename_queue([b"a", b"b", b"c", b"d"])
    reader = tf.IdentityReader()
    assert reader.supports_serialize
    key, _ = reader.read(queue)
    state = reader.serialize_state()
    assert state.dtype == tf.string and state.op.type == "ReaderSerializeStateV2"
    with tf.Session() as sess:
        for op in fill:
            sess.run(op)
        assert sess.run(key) == b"a"
        saved = sess.run(state)
        # TF's ReaderBaseState: work_started 1, work_finished 1, records 1, current_work "a".
        assert saved == b"\x08\x01\x10\x01\x18\x01\x22\x01a"
        assert tf.protos.ReaderBaseState.FromString(saved).current_work == b"a"
        assert [sess.run(key) for _ in range(2)] == [b"b", b"c"]
        sess.run(reader.restore_state(saved))
        assert sess.run([reader.num_records_produced(),
                         reader.num_work_units_completed()]) == [1, 1]
        assert sess.run(key) == b"d"     # the queue is not the reader's state
        assert sess.run(reader.num_records_produced()) == 2


@pytest.mark.parametrize("state, message", [
    (b"\xff\xff", "Could not parse state for IdentityReader"),
    (tf.protos.ReaderBaseState(work_started=2, work_finished=1).SerializeToString(),
     "Inconsistent work started vs. finished"),
    (tf.protos.ReaderBaseState(num_records_produced=-1).SerializeToString(),
     "Unexpected negative value"),
])
def test_a_bad_state_is_rejected_and_resets_the_reader(executor, state, message):
    queue, fill = filename_queue([b"a", b"b"])
    reader = tf.IdentityReader()
    key, _ = reader.read(queue)
    with tf.Session() as sess:
        for op in fill:
            sess.run(op)
        sess.run(key)
        with pytest.raises(errors.InvalidArgumentError, match=message):
            sess.run(reader.restore_state(state))
        assert sess.run([reader.num_records_produced(),
                         reader.num_work_units_completed()]) == [0, 0]


def test_whole_file_reader_serializes_and_text_line_reader_cannot(executor, files):
    first, second = files
    queue, fill = filename_queue([first, second])
    whole, lines = tf.WholeFileReader(), tf.TextLineReader()
    assert whole.supports_serialize and not lines.supports_serialize
    whole_key, _ = whole.read(queue)
    lines_key, _ = lines.read(queue)
    with tf.Session() as sess:
        for op in fill:
            sess.run(op)
        assert sess.run(whole_key) == first
        saved = sess.run(whole.serialize_state())
        assert tf.protos.ReaderBaseState.FromString(saved) == tf.protos.ReaderBaseState(
            work_started=1, work_finished=1, num_records_produced=1, current_work=first)
        sess.run(whole.restore_state(saved))
        assert sess.run(lines_key) == second + b":1"
        with pytest.raises(errors.UnimplementedError, match="Reader SerializeState"):
            sess.run(lines.serialize_state())
        with pytest.raises(errors.UnimplementedError, match="Reader RestoreState"):
            sess.run(lines.restore_state(saved))
        # As in TF, a failed restore resets even a reader that cannot restore.
        assert sess.run(lines.num_records_produced()) == 0


def test_restore_state_takes_a_scalar_string():
    reader = tf.IdentityReader()
    with pytest.raises(ValueError, match="requested dtype string"):   # as TF's conversion
        reader.restore_state(tf.constant(1))
    with pytest.raises(ValueError, match="scalar"):
        reader.restore_state(tf.constant([b"a", b"b"]))
