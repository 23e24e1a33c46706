"""Messages between processes are untrusted: any process of the user can write to a lane.

A worker must answer a malformed message or descriptor with an error reply and live on; it
must never map a file outside /dev/shm nor let marshal allocate without bound.
"""

import marshal
import os
import tempfile
import time

import numpy as np
import pytest

import sessionlib as tf
from sessionlib import errors
from sessionlib._core import channel as core_channel
from sessionlib._core import fused
from sessionlib.runtime import channel, fusion, shm

from _device_helpers import cross_device_graph, pid_alive, two_devices


# ---- the decode check ---------------------------------------------------------------------

_GOOD_MESSAGES = [
    (b"key", -1, 0, 7, None, [(3, ("i", "<f4", (2,), b"\0" * 8))], 1),
    ("ok", [(0, ("a", "sessionlib_1_ab", 4096, 8000, "<f8", (1000,), "sessionlib_1_cd", 5))]),
    ("err", 3, "message \u00e9", -1),
    {"a": [1, 2.5, 3j, True, False, None, ...], 4: frozenset({1}), 5: {2}},
    (10 ** 40, -(10 ** 40), b"x" * 70000, "y" * 300, (), []),
]


@pytest.mark.parametrize("message", _GOOD_MESSAGES)
def test_checked_accepts_what_the_runtime_sends(message):
    data = marshal.dumps(message)
    assert channel.checked(data) is data
    assert channel.decode(data) == message


@pytest.mark.parametrize("data", [
    b"(" * 5000,                                     # a 673-million-item tuple, nested
    b"[" + (1 << 30).to_bytes(4, "little") + b"N",   # a count its bytes do not back
    b"s" + (100).to_bytes(4, "little") + b"short",   # a truncated string
    b")\x05NN",                                      # a truncated small tuple
    b"{N",                                           # a dict without its end
    b"",
    marshal.dumps(compile("1", "f", "eval")),        # a code object
    b"[\x01\x00\x00\x00" * (core_channel.MARSHAL_MAX_DEPTH + 1) + b"N",
], ids=["nested-tuples", "huge-count", "short-string", "short-tuple", "open-dict", "empty",
        "code", "too-deep"])
def test_malformed_messages_are_rejected_before_marshal_reads_them(data):
    with pytest.raises(ValueError):
        channel.checked(data)
    with pytest.raises(ValueError):
        channel.decode(data)


def test_spilled_message_must_be_a_bounded_tensor_descriptor():
    descriptor = ("a", "sessionlib_1_ab", 0, channel.MAX_MESSAGE_BYTES + 1, "|u1",
                  (channel.MAX_MESSAGE_BYTES + 1,), "sessionlib_1_cd", 0)
    with pytest.raises(ValueError, match="at most"):
        channel.decode(b"S" + marshal.dumps(descriptor))
    with pytest.raises(ValueError):
        channel.decode(b"S" + marshal.dumps(("i", "|u1", (3,), b"abc")))


# ---- segment names and descriptors --------------------------------------------------------

@pytest.fixture
def outside_file():
    """A file outside /dev/shm, and the path to it relative to /dev/shm."""
    with tempfile.NamedTemporaryFile(delete=False) as handle:
        handle.write(b"\x05\x00\x00\x00" * 1024)
    try:
        yield handle.name, os.path.relpath(handle.name, shm.SHM_DIR)
    finally:
        os.unlink(handle.name)


def _content(path):
    with open(path, "rb") as handle:
        return handle.read()


@pytest.mark.parametrize("name", ["../../etc/passwd", "sessionlib_1_ab/../x",
                                  "sessionlib_1_ab\n", "sessionlib_x_ab", "other_1_ab", 5])
def test_segment_names_must_be_sessionlib_names(name):
    with pytest.raises(ValueError, match="segment name"):
        shm.Segment(name=name)


def test_segment_that_is_a_symlink_is_not_followed(outside_file):
    path, _ = outside_file
    name = f"sessionlib_{os.getpid()}_{os.urandom(8).hex()}"
    link = os.path.join(shm.SHM_DIR, name)
    os.symlink(path, link)
    try:
        with pytest.raises(OSError):
            shm.Segment(name=name)
    finally:
        os.unlink(link)


def test_descriptor_naming_a_file_outside_dev_shm_is_rejected(outside_file):
    path, relative = outside_file
    before = _content(path)
    store = shm.TensorStore()
    with pytest.raises(ValueError, match="segment name"):
        store.open(("a", relative, 0, 16, "<f4", (4,), relative, 0))
    assert _content(path) == before


@pytest.mark.parametrize("fields", [
    (0, 16, "<f4", (5,)),          # shape needs 20 bytes
    (0, 16, "<f4", (-4,)),         # negative dimension
    (0, 16, "<f4", [4]),           # not a tuple
    (0, 16.0, "<f4", (4,)),        # not an int
    (0, 16, "|O", (2,)),           # object dtype
], ids=["size", "negative", "list", "float", "object"])
def test_descriptor_fields_are_checked_before_mapping(fields):
    store = shm.TensorStore()
    offset, nbytes, dtype, shape = fields
    # A name no process owns: a descriptor that passed the checks would fail with
    # UnavailableError when mapping; these must fail before.
    name = f"sessionlib_{os.getpid()}_{os.urandom(8).hex()}"
    with pytest.raises(ValueError):
        store.open(("a", name, offset, nbytes, dtype, shape, name, 0))


def test_block_beyond_the_segment_is_rejected():
    producer, consumer = shm.TensorStore(), shm.TensorStore()
    try:
        descriptor = producer.publish(np.arange(4096, dtype=np.float32))
        kind, name, offset, nbytes, dtype, _, lease_name, index = descriptor
        size = shm.Segment(name=name).size
        with pytest.raises(IndexError):
            consumer.open((kind, name, size - 4, 16, dtype, (4,), lease_name, index))
        with pytest.raises(IndexError):
            consumer.open((kind, name, offset, nbytes, dtype, (4096,), lease_name, 1 << 40))
        producer.cancel(descriptor)
    finally:
        producer.close()


def test_string_descriptor_must_carry_bytes():
    store = shm.TensorStore()
    with pytest.raises(ValueError):
        store.open(("s", (2,), [b"a", 3]))


# ---- a worker answers and lives on --------------------------------------------------------

def _post(worker, data):
    """Posts raw bytes on a free lane of `worker`; returns the decoded reply."""
    lane = worker.acquire_lane()
    try:
        lane.post_request(data)
        reply = None
        deadline = time.monotonic() + 30
        while reply is None and time.monotonic() < deadline:
            reply = lane.wait_response(0.05)
        assert reply is not None, "the worker did not answer"
        return channel.decode(reply)
    finally:
        worker.release_lane(lane)


def test_worker_answers_malformed_messages_and_lives_on(outside_file):
    path, relative = outside_file
    before = _content(path)
    a, c = cross_device_graph()
    with tf.Session(config=two_devices()) as sess:
        assert sess.run(c, {a: 1.0}) == 1.0
        step = next(iter(sess._runtime.cached_steps()))
        worker = step.parts[1].worker
        pid = sess.list_devices()[1].pid
        bad_feed = ("a", relative, 0, 16, "<f4", (4,), relative, 0)
        for data in [b"(" * 5000,
                     b"[" + (1 << 30).to_bytes(4, "little") + b"N",
                     marshal.dumps(compile("1", "f", "eval")),
                     marshal.dumps((step.key, (0,), 0, 1, None, [(0, bad_feed)]))]:
            reply = _post(worker, data)
            assert reply[0] == "err"
            assert reply[1] == errors.INVALID_ARGUMENT
        assert pid_alive(pid)
        assert sess.run(c, {a: 2.0}) == 2.0
    assert _content(path) == before


# ---- the fused kernel's program check -----------------------------------------------------

def _fused_attrs(program, num_registers=1, reduce=0, reduce_src=-1):
    return {"program": tuple(program), "num_inputs": 1, "num_registers": num_registers,
            "reduce": reduce, "reduce_src": reduce_src, "reduce_axes": (0,) if reduce else (),
            "keep_dims": False, "reduce_op": "", "_name": "f"}


_NEG, _ADD = fused.OPCODE_NAMES.index("neg"), fused.OPCODE_NAMES.index("add")


@pytest.mark.parametrize("program, reduce, reduce_src", [
    ((_NEG, -1, 1, -1), 0, -1),                       # reads register 0, never written
    ((_NEG, 1, 0, -1, _ADD, -1, 0, 2), 0, -1),        # reads register 1, only 0 was written
    ((_NEG, 1, 1, -1, _NEG, -1, 1, -1), 0, -1),       # reads register 0 to write it
    ((_NEG, 1, 0, -1), 1, 2),                         # reduces register 1, never written
    ((_NEG, 1, 0, -1), 0, -1),                        # never writes the output
    ((), 0, -1),                                      # nothing at all
], ids=["unwritten", "other-register", "self", "reduce-unwritten", "no-output", "empty"])
def test_fused_program_reading_an_unwritten_register_is_rejected(program, reduce, reduce_src):
    x = np.arange(1.0, 6.0, dtype=np.float32)
    with pytest.raises(ValueError, match="program"):
        fused.fused_elementwise(None, (x,), _fused_attrs(program, 2, reduce, reduce_src))


def test_fused_programs_that_write_before_reading_still_run():
    x = np.arange(1.0, 6.0, dtype=np.float32)
    program = (_NEG, 1, 0, -1, _ADD, -1, 1, 0)         # -x + x
    result = fused.fused_elementwise(None, (x,), _fused_attrs(program))[0]
    np.testing.assert_array_equal(result, np.zeros(5, np.float32))
    total = fused.fused_elementwise(None, (x,), _fused_attrs((_NEG, 1, 0, -1), 1, 1, 1))[0]
    assert total == -15.0


def test_fused_node_built_by_hand_that_reads_a_stale_register_fails_the_run():
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, shape=[5], name="x")
        attrs = _fused_attrs((_NEG, -1, 1, -1))
        del attrs["_name"]
        node = graph.create_op(fusion.FUSED_OP_TYPE, [x], attrs=attrs, name="stale")
    with tf.Session(graph=graph) as sess:
        with pytest.raises(errors.InvalidArgumentError, match="register"):
            sess.run(node.outputs[0], {x: np.ones(5, np.float32)})
