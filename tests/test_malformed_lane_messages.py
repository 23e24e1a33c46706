"""A lane is writable by any process of the user: what crosses it is checked on both ends.

The client holds a worker's reply to the runtime's reply format (a reply that does not decode,
or decodes to something else, is an `InternalError` that names the device, and the session
stays usable); a worker rejects a run message whose feed slot is out of range with an error
reply and lives on. (``test_untrusted_messages.py`` covers the decode bounds and descriptors.)
"""

import marshal
import time

import numpy as np
import pytest

import sessionlib as tf
from sessionlib import errors
from sessionlib.runtime import channel, shm

from _device_helpers import cross_device_graph, pid_alive, two_devices

_INLINE = ("i", "<f4", (), b"\0\0\x80\x3f")     # an inline descriptor of 1.0

_MALFORMED_REPLIES = {
    "not-marshal": b"(" * 5000,
    "truncated": marshal.dumps(("ok", [(0, _INLINE)]))[:-3],
    "int": marshal.dumps(5),
    "empty-tuple": marshal.dumps(()),
    "ok-without-fetches": marshal.dumps(("ok",)),
    "ok-missing-fetch": marshal.dumps(("ok", [])),
    "ok-extra-fetch": marshal.dumps(("ok", [(0, _INLINE), (1, _INLINE)])),
    "ok-bad-descriptor": marshal.dumps(("ok", [(0, ("zz", 1))])),
    "ok-not-a-pair": marshal.dumps(("ok", [0])),
    "ok-bad-trace": marshal.dumps(("ok", [(0, _INLINE)], 5)),
    "err-short": marshal.dumps(("err", "x")),
    "err-code-type": marshal.dumps(("err", "3", "m", -1)),
    "err-code-ok": marshal.dumps(("err", 0, "m", -1)),
    "err-plan-node": marshal.dumps(("err", 3, "m", 10 ** 6)),
    "unknown-kind": marshal.dumps(("pong", 1)),
}


@pytest.fixture
def corrupt_next_reply(monkeypatch):
    """Replaces the next reply the client reads from any lane by the bytes given to the
    returned function (the worker's real reply is consumed: the lane stays consistent)."""
    pending = []
    real = channel.Lane.wait_response

    def wait_response(lane, timeout, spin_s=-1.0):
        data = real(lane, timeout, spin_s)
        if data is not None and pending:
            return pending.pop()
        return data

    monkeypatch.setattr(channel.Lane, "wait_response", wait_response)
    return pending.append


def _one_partition_graph():
    """(a, b): everything on CPU:0, so a run takes the single-partition fast path."""
    a = tf.placeholder(tf.float32, shape=[], name="a")
    with tf.device("/cpu:0"):
        b = tf.identity(a, name="b")
    return a, b


# Fetch indices the single-partition fast path does not read (it takes the fetches by
# position), so they are held to the format on the general path only.
_MALFORMED_GATHERED_REPLIES = {
    "ok-fetch-index": marshal.dumps(("ok", [(7, _INLINE)])),
    "ok-negative-index": marshal.dumps(("ok", [(-1, _INLINE)])),
}


@pytest.mark.parametrize("graph_kind, name", [
    (graph_kind, name) for graph_kind in ("one-partition", "cross-device")
    for name in sorted(_MALFORMED_REPLIES)] + [
    ("cross-device", name) for name in sorted(_MALFORMED_GATHERED_REPLIES)])
def test_malformed_reply_is_an_internal_error_naming_the_device(corrupt_next_reply, name,
                                                                 graph_kind):
    if graph_kind == "cross-device":
        a, c = cross_device_graph()
        fetches = [a.graph.get_tensor_by_name("b:0"), c]   # a fetch on each device
    else:
        a, b = _one_partition_graph()
        fetches = [b]
    with tf.Session(config=two_devices()) as sess:
        assert sess.run(fetches, {a: 1.0}) == [1.0] * len(fetches)
        corrupt_next_reply({**_MALFORMED_REPLIES, **_MALFORMED_GATHERED_REPLIES}[name])
        with pytest.raises(errors.InternalError, match=r"Device .*CPU:[01] sent a malformed"):
            sess.run(fetches, {a: 2.0})
        assert sess.run(fetches, {a: 3.0}) == [3.0] * len(fetches)
        assert sess.run(fetches, {a: 4.0}) == [4.0] * len(fetches)


def test_well_formed_error_reply_keeps_its_type(corrupt_next_reply):
    a, b = _one_partition_graph()
    with tf.Session(config=two_devices()) as sess:
        assert sess.run(b, {a: 1.0}) == 1.0
        corrupt_next_reply(marshal.dumps(("err", errors.ABORTED, "worker said no", -1)))
        with pytest.raises(errors.AbortedError, match="worker said no"):
            sess.run(b, {a: 2.0})
        assert sess.run(b, {a: 3.0}) == 3.0


# ---- a run message's feed slots ------------------------------------------------------------

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


def test_feed_slot_out_of_range_gets_an_error_reply_and_the_worker_lives_on():
    a, c = cross_device_graph()
    with tf.Session(config=two_devices()) as sess:
        assert sess.run(c, {a: 1.0}) == 1.0
        step = next(iter(sess._runtime.cached_steps()))
        part = step.parts[0]
        (feed_slot,) = [slot for _, slot in part.feeds]
        pid = sess.list_devices()[0].pid
        feed = shm.store().publish(np.float32(5.0))
        for slot in (-1, -(10 ** 6), 10 ** 6, 1.0, "0"):
            reply = _post(part.worker, marshal.dumps((step.key, (0,), 0, 1, None,
                                                      [(slot, feed)])))
            assert reply[0] == "err", slot
            assert reply[1] == errors.INVALID_ARGUMENT
            assert "feed slot" in reply[2]
        # The worker is still there and serves the real session.
        assert pid_alive(pid)
        assert sess.run(c, {a: 2.0}) == 2.0
        assert feed_slot >= 0
