"""The client <-> worker control channel and the send/recv rendezvous, in shared memory.

Design. Per run, the client posts one small message to each worker that takes part and waits
for one small reply. A ``multiprocessing.Pipe`` round trip costs ~48 us; here a message is a
``memcpy`` into a mailbox slot plus an atomic sequence bump that the other side sees while
spinning (sub-microsecond), and a futex sleep after a short spin keeps idle workers at 0% CPU.
The primitives live in ``sessionlib._core.channel`` (`Region`); this module defines layouts.

* A worker's *lane block* (one segment, created by the client) holds `LANES` lanes. A lane is
  a request slot, a response slot and a cancel word. One worker thread serves each lane, so a
  worker runs as many steps at once as there are busy lanes (a blocked dequeue in one run does
  not stop the enqueue of another), and the client gives each running step its own lane.
* The client's *rendezvous block* has `RUN_SLOTS` run slots of `EDGES_PER_RUN` entries. A run
  that spans devices borrows one run slot; its cross-device edge ``e`` uses entry ``e``: the
  producer writes a tensor descriptor there and stores the run's generation number in the
  entry's state word; the consumer waits for that word to equal its generation (stale values
  of earlier runs never match). Entry 0 is the slot header: its word holds the generation of
  an aborted run, which wakes and fails every waiting receiver of that run.
* Messages are `marshal`-encoded tuples of plain values (ints, floats, strings, bytes, tuples,
  lists): marshal cannot encode arbitrary objects, so no user object can cross by accident. A
  message too large for its slot spills through the sender's tensor store.
* Messages are untrusted: any process of the user can write to a lane. Every decode goes
  through `checked` (``sessionlib._core.channel``), which walks the bytes in C before marshal
  allocates anything: plain types only, nesting and counts bounded by the bytes really there;
  a spilled message is at most `MAX_MESSAGE_BYTES`. A bad message raises ValueError, which a
  worker answers with an INVALID_ARGUMENT reply (it never dies of it).
"""

import marshal
import time

import numpy as np

from sessionlib import errors
from sessionlib._core import channel as _core_channel
from sessionlib.runtime import shm

__all__ = ["LANES", "LANE_BYTES", "SLOT_BYTES", "RUN_SLOTS", "EDGES_PER_RUN", "Lane",
           "LaneBlock", "RendezvousBlock", "encode", "decode", "checked", "MAX_MESSAGE_BYTES"]

checked = _core_channel.checked    # `data` itself once it is safe for marshal.loads

LANES = 8                       # concurrent steps per worker
SLOT_BYTES = 64 << 10           # one mailbox slot: 64-byte header + payload
LANE_BYTES = 2 * SLOT_BYTES + 64
_REQUEST, _RESPONSE, _CANCEL = 0, SLOT_BYTES, 2 * SLOT_BYTES
_PAYLOAD_BYTES = SLOT_BYTES - 64
PAYLOAD_BYTES = _PAYLOAD_BYTES  # a message this long or longer spills (see `encode`)

# The largest spilled message a decode accepts (a run's feed or fetch list; tensors travel
# apart, so real messages stay far below it).
MAX_MESSAGE_BYTES = 64 << 20

RUN_SLOTS = 32                  # concurrent multi-device runs per client
EDGES_PER_RUN = 256             # cross-device edges per step (entry 0 is the header)
ENTRY_BYTES = 512
_ENTRY_STATE, _ENTRY_WAITERS, _ENTRY_LENGTH, _ENTRY_PAYLOAD = 0, 4, 8, 64
_ENTRY_CAPACITY = ENTRY_BYTES - _ENTRY_PAYLOAD
RUN_SLOT_BYTES = EDGES_PER_RUN * ENTRY_BYTES

# Spin this long before sleeping on the futex: long enough to catch the next request of a loop
# of small runs, short enough that a waiting thread gives its core back quickly.
CLIENT_SPIN_S = 200e-6
WORKER_SPIN_S = 200e-6
WAIT_SLICE_S = 0.05             # the longest sleep between liveness / cancellation checks


_SPILLED = ord("S")   # no marshalled tuple starts with it (tuples start with "(" or 0xa9)
SPILLED = _SPILLED    # the first byte of a spilled message (see `encode`)


def encode(message, store=None):
    """`message` (a tuple of plain values) as bytes that fit a mailbox slot: the marshalled
    tuple itself, or ``b"S"`` and the descriptor of a copy spilled through `store`."""
    data = marshal.dumps(message)
    if len(data) < _PAYLOAD_BYTES:
        return data
    descriptor = (store or shm.store()).publish(np.frombuffer(data, dtype=np.uint8))
    return b"S" + marshal.dumps(descriptor)


def decode(data, store=None):
    """The message `encode` wrote.

    Raises:
      ValueError: if `data` is not such a message (see `checked`), or spills more than
        `MAX_MESSAGE_BYTES`.
    """
    if not data:
        raise ValueError("empty message")
    if data[0] != _SPILLED:
        return marshal.loads(checked(data))
    descriptor = marshal.loads(checked(data[1:]))
    if (type(descriptor) is not tuple or len(descriptor) < 4 or descriptor[0] != "a"
            or type(descriptor[3]) is not int or not 0 <= descriptor[3] <= MAX_MESSAGE_BYTES):
        raise ValueError(f"a spilled message must be a tensor descriptor of at most "
                         f"{MAX_MESSAGE_BYTES} bytes")
    return marshal.loads(checked((store or shm.store()).open(descriptor).tobytes()))


class Lane(_core_channel.Lane):
    """One request/response mailbox pair of a worker's lane block (the methods are in
    ``sessionlib._core.channel.Lane``: post_request, wait_response, response_ready, cancel on
    the client side; cancelled, post_response on the worker's).

    Args:
      region: the lane block's `Region`.
      index: the lane number.
    """

    __slots__ = ()

    def __init__(self, region, index):
        super().__init__(region, index, LANE_BYTES, _REQUEST, _RESPONSE, _CANCEL,
                         _PAYLOAD_BYTES, CLIENT_SPIN_S)


class LaneBlock:
    """The lanes of one worker, in one segment.

    Args:
      name: an existing segment's name (the worker attaches); None creates one (the client).
    """

    def __init__(self, name=None):
        self.segment = shm.Segment(LANES * LANE_BYTES) if name is None else shm.Segment(
            name=name)
        self.name = self.segment.name
        self.lanes = [Lane(self.segment.region, i) for i in range(LANES)]

    def unlink(self):
        self.segment.unlink()


class RendezvousBlock:
    """The send/recv table of the client's multi-device runs.

    Args:
      name: an existing segment's name (a worker attaches); None creates one (the client).
    """

    def __init__(self, name=None):
        self.segment = (shm.Segment(RUN_SLOTS * RUN_SLOT_BYTES) if name is None
                        else shm.Segment(name=name))
        self.name = self.segment.name
        self.region = self.segment.region

    def _entry(self, run_slot, edge):
        if not 0 < edge < EDGES_PER_RUN:
            raise errors.UnimplementedError(
                None, None, f"A step may have at most {EDGES_PER_RUN - 1} cross-device edges")
        return run_slot * RUN_SLOT_BYTES + edge * ENTRY_BYTES

    def send(self, run_slot, edge, generation, payload):
        """Publishes `payload` (bytes, a marshalled descriptor) on `edge` of a run."""
        entry = self._entry(run_slot, edge)
        if len(payload) > _ENTRY_CAPACITY:
            raise errors.InternalError(None, None, "tensor descriptor too large for rendezvous")
        self.region.write(entry + _ENTRY_PAYLOAD, payload)
        self.region.store(entry + _ENTRY_LENGTH, len(payload))
        self.region.signal(entry + _ENTRY_STATE, generation, entry + _ENTRY_WAITERS)

    def recv(self, run_slot, edge, generation, check):
        """Waits for `edge` of a run; returns its payload bytes (untrusted: see `checked`).

        Args:
          check: called between wait slices; raises to stop waiting (cancellation, deadline).

        Raises:
          AbortedError: if the run was aborted (a partition failed, a device died).
        """
        region = self.region
        entry = self._entry(run_slot, edge)
        header = run_slot * RUN_SLOT_BYTES
        state = region.load(entry + _ENTRY_STATE)
        while state != generation:
            if region.load(header) == generation:
                raise errors.AbortedError(None, None, "The step was aborted: another device "
                                          "failed or died while this one waited for a tensor")
            check()
            state = region.wait_change(entry + _ENTRY_STATE, state, entry + _ENTRY_WAITERS,
                                       CLIENT_SPIN_S, WAIT_SLICE_S)
        length = region.load(entry + _ENTRY_LENGTH)
        return region.read_bytes(entry + _ENTRY_PAYLOAD, min(length, _ENTRY_CAPACITY))

    def abort(self, run_slot, generation, num_edges):
        """Fails every receiver of the run `generation` in `run_slot`, now and later."""
        header = run_slot * RUN_SLOT_BYTES
        self.region.store(header, generation)
        for edge in range(1, min(num_edges + 1, EDGES_PER_RUN)):
            entry = header + edge * ENTRY_BYTES
            if self.region.load(entry + _ENTRY_WAITERS):
                self.region.wake(entry + _ENTRY_STATE)

    def unlink(self):
        self.segment.unlink()


def deadline_check(deadline, cancelled):
    """A `check` for `RendezvousBlock.recv` that raises on cancellation or a passed deadline."""

    def check():
        if cancelled():
            raise errors.CancelledError(None, None, "The run was cancelled.")
        if deadline is not None and time.monotonic() > deadline:
            raise errors.DeadlineExceededError(None, None,
                                               "Timed out waiting for a tensor from a device")

    return check
