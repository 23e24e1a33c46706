"""The client <-> worker control channel and the send/recv rendezvous, in shared memory.

Design. Per run, the client posts one small message to each worker that takes part and waits
for one small reply. A ``multiprocessing.Pipe`` round trip costs ~48 us; here a message is a
``memcpy`` into a mailbox slot plus an atomic sequence bump that the other side sees while
spinning (sub-microsecond), and a futex sleep after a short spin keeps idle workers at 0% CPU.
The primitives live in ``sessionlib._core.channel`` (`Region`); this module defines layouts.

* A worker's *lane block* (one segment, created by the client) holds lanes. A lane is a
  request slot, a response slot and a cancel word. One worker thread serves each lane, so a
  worker runs as many steps at once as there are busy lanes (a blocked dequeue in one run does
  not stop the enqueue of another), and the client gives each running step its own lane. A
  worker starts with one block of `LANES` lanes; when all are busy the client adds another
  block (``runtime/devices.py`` says why lanes grow rather than being given up), whose lanes
  have smaller slots (`GROWN_SLOT_BYTES`: a larger message spills, see `encode`).
* The client's *rendezvous* is a list of blocks of `SLOTS_PER_BLOCK` run slots, one segment
  each, added when every slot is taken (`MAX_RUN_SLOTS` in all). A run slot has
  `ENTRIES_PER_SLOT` entries; entry 0 is the slot's header, whose word holds the generation of
  an aborted run (it wakes and fails every waiting receiver of that run). A run that spans
  devices borrows ``ceil(edges / EDGES_PER_SLOT)`` run slots, anywhere in any block; its
  cross-device edge ``e`` (from 1) uses entry ``(e - 1) % EDGES_PER_SLOT + 1`` of its slot
  number ``(e - 1) // EDGES_PER_SLOT``: the producer writes a tensor descriptor there and
  stores the run's generation number in the entry's state word; the consumer waits for that
  word to equal its generation (stale values of earlier runs never match). A step may have
  `MAX_EDGES_PER_STEP` cross-device edges. (There used to be one block of 32 slots of 256
  entries: 32 multi-device runs in flight and 255 edges per step at most.)
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
from sessionlib._core import cores as _cores
from sessionlib.runtime import shm

__all__ = ["LANES", "LANE_BYTES", "SLOT_BYTES", "GROWN_SLOT_BYTES", "SLOTS_PER_BLOCK",
           "ENTRIES_PER_SLOT", "EDGES_PER_SLOT", "MAX_RUN_SLOTS", "MAX_EDGES_PER_STEP", "Lane",
           "LaneBlock", "Rendezvous", "slots_for_edges", "encode", "decode", "checked",
           "MAX_MESSAGE_BYTES"]

checked = _core_channel.checked    # `data` itself once it is safe for marshal.loads

LANES = 8                       # the lanes a worker starts with (it gets more on demand)
SLOT_BYTES = 64 << 10           # one mailbox slot of those: 64-byte header + payload
LANE_BYTES = 2 * SLOT_BYTES + 64
# The mailbox slot of a lane added on demand: a run message or reply is rarely over a few
# KiB (tensors up to 2 KiB travel inline), and /dev/shm may be small (64 MiB in Docker).
GROWN_SLOT_BYTES = 16 << 10
_PAYLOAD_BYTES = SLOT_BYTES - 64
PAYLOAD_BYTES = _PAYLOAD_BYTES  # a message this long or longer spills (see `encode`)

# The largest spilled message a decode accepts (a run's feed or fetch list; tensors travel
# apart, so real messages stay far below it).
MAX_MESSAGE_BYTES = 64 << 20

ENTRY_BYTES = 512
ENTRIES_PER_SLOT = 32           # per run slot; entry 0 is the slot's header
EDGES_PER_SLOT = ENTRIES_PER_SLOT - 1
RUN_SLOT_BYTES = ENTRIES_PER_SLOT * ENTRY_BYTES
SLOTS_PER_BLOCK = 256           # run slots per rendezvous segment (4 MiB)
MAX_RENDEZVOUS_BLOCKS = 64
MAX_RUN_SLOTS = SLOTS_PER_BLOCK * MAX_RENDEZVOUS_BLOCKS   # per client, all runs together
MAX_EDGES_PER_STEP = 65535      # a run of such a step takes 2,115 slots (33 MiB of /dev/shm)
_ENTRY_STATE, _ENTRY_WAITERS, _ENTRY_LENGTH, _ENTRY_PAYLOAD = 0, 4, 8, 64
_ENTRY_CAPACITY = ENTRY_BYTES - _ENTRY_PAYLOAD

# Spin this long before sleeping on the futex: long enough to catch the next request of a loop
# of small runs, short enough that a waiting thread gives its core back quickly. No spin at all
# while the other processes keep every core busy (`cores.others_fill_cores`).
CLIENT_SPIN_S = 200e-6
WORKER_SPIN_S = 200e-6
WAIT_SLICE_S = 0.05             # the longest sleep between liveness / cancellation checks


_SPILLED = ord("S")   # no marshalled tuple starts with it (tuples start with "(" or 0xa9)
SPILLED = _SPILLED    # the first byte of a spilled message (see `encode`)


def encode(message, store=None, capacity=_PAYLOAD_BYTES):
    """`message` (a tuple of plain values) as bytes that fit a mailbox slot: the marshalled
    tuple itself, or ``b"S"`` and the descriptor of a copy spilled through `store`.

    Args:
      message: the tuple.
      store: the `TensorStore` a spilled copy goes through (default: this process's).
      capacity: the payload capacity of the lane it goes to (``lane.capacity``).
    """
    data = marshal.dumps(message)
    if len(data) < capacity:
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
    the client side; cancelled, post_response on the worker's; ``capacity`` is the longest
    message that does not spill).

    Args:
      region: the lane block's `Region`.
      index: the lane's number in its block.
      slot_bytes: the size of each of its two mailbox slots (`SLOT_BYTES` in a worker's first
        block, `GROWN_SLOT_BYTES` in the blocks added on demand).
    """

    __slots__ = ()

    def __init__(self, region, index, slot_bytes=SLOT_BYTES):
        super().__init__(region, index, 2 * slot_bytes + 64, 0, slot_bytes, 2 * slot_bytes,
                         slot_bytes - 64, CLIENT_SPIN_S)


def _check_slot_bytes(slot_bytes):
    if type(slot_bytes) is not int or not 128 <= slot_bytes <= SLOT_BYTES or slot_bytes % 64:
        raise ValueError(f"a lane's slot size must be a multiple of 64 from 128 to "
                         f"{SLOT_BYTES} bytes, not {slot_bytes!r}")


class LaneBlock:
    """Lanes of one worker, in one segment.

    Args:
      name: an existing segment's name (the worker attaches); None creates one (the client).
      count: how many lanes the block holds.
      slot_bytes: the size of each mailbox slot of its lanes.

    Raises:
      ValueError: if `count` or `slot_bytes` is out of range, or (attaching) the segment is
        too small for them (the worker gets these from a message).
      ResourceExhaustedError: if /dev/shm has no room for a new block.
    """

    def __init__(self, name=None, count=LANES, slot_bytes=SLOT_BYTES):
        _check_slot_bytes(slot_bytes)
        if type(count) is not int or not 0 < count <= 1 << 16:
            raise ValueError(f"a lane block holds 1 to 65536 lanes, not {count!r}")
        lane_bytes = 2 * slot_bytes + 64
        self.segment = (shm.Segment(count * lane_bytes) if name is None
                        else shm.Segment(name=name))
        self.name = self.segment.name
        if self.segment.size < count * lane_bytes:
            raise ValueError(f"segment {self.name} is too small for {count} lanes")
        self.lanes = [Lane(self.segment.region, i, slot_bytes) for i in range(count)]

    def unlink(self):
        self.segment.unlink()


def slots_for_edges(num_edges):
    """How many run slots a run of a step with `num_edges` cross-device edges borrows."""
    return -(-num_edges // EDGES_PER_SLOT)


class Rendezvous:
    """The send/recv table of the client's multi-device runs: blocks of run slots.

    The client creates it (and adds blocks with `grow`); a worker attaches to the first block
    by name and to later ones when told (`attach`). A run slot's number ``s`` lies in block
    ``s // SLOTS_PER_BLOCK``.

    Args:
      name: the first block's name (a worker attaches); None creates it (the client).
    """

    def __init__(self, name=None):
        self.segments = []
        self.regions = []
        self.names = []
        self._add(name)

    def _add(self, name):
        segment = shm.Segment(SLOTS_PER_BLOCK * RUN_SLOT_BYTES) if name is None else (
            shm.Segment(name=name))
        if segment.size < SLOTS_PER_BLOCK * RUN_SLOT_BYTES:
            raise ValueError(f"segment {segment.name} is too small for a rendezvous block")
        self.segments.append(segment)
        self.regions.append(segment.region)
        self.names.append(segment.name)

    @property
    def name(self):
        """The first block's name (given to a worker when it starts)."""
        return self.names[0]

    @property
    def num_slots(self):
        return len(self.regions) * SLOTS_PER_BLOCK

    def grow(self):
        """Adds a block of `SLOTS_PER_BLOCK` run slots (client).

        Raises:
          ResourceExhaustedError: if /dev/shm has no room for it.
        """
        self._add(None)

    def attach(self, first, names):
        """Maps the blocks `names`, numbered from `first`, that this process lacks (worker).

        Raises:
          ValueError: for a bad name, or a gap in the numbering (a peer's message).
        """
        if type(first) is not int or not 0 <= first <= len(self.regions):
            raise ValueError(f"rendezvous block {first!r} does not follow the "
                             f"{len(self.regions)} known")
        for name in list(names)[len(self.regions) - first:]:
            if len(self.regions) >= MAX_RENDEZVOUS_BLOCKS:
                raise ValueError(f"more than {MAX_RENDEZVOUS_BLOCKS} rendezvous blocks")
            self._add(name)

    def check_slots(self, run_slots, num_edges):
        """Checks the run slots of a run message against the blocks mapped here (worker).

        Raises:
          ValueError: unless `run_slots` is a tuple of known, distinct slot numbers, enough
            for `num_edges` edges.
        """
        limit = self.num_slots
        if (type(run_slots) is tuple and len(run_slots) == 1 and num_edges <= EDGES_PER_SLOT
                and type(run_slots[0]) is int and 0 <= run_slots[0] < limit):
            return   # the common case, checked without a generator
        if (type(run_slots) is not tuple or len(run_slots) * EDGES_PER_SLOT < num_edges
                or len(set(run_slots)) != len(run_slots)
                or not all(type(s) is int and 0 <= s < limit for s in run_slots)):
            raise ValueError(f"bad run slots {run_slots!r:.200} for {num_edges} edges "
                             f"({limit} slots known)")

    def _entry(self, run_slots, edge):
        """(region, offset of the slot's header, offset of the entry) of `edge` of a run."""
        index, entry = divmod(edge - 1, EDGES_PER_SLOT)
        if edge < 1 or index >= len(run_slots):
            raise errors.InternalError(None, None, f"edge {edge} outside the run's "
                                       f"{len(run_slots)} run slots")
        block, slot = divmod(run_slots[index], SLOTS_PER_BLOCK)
        header = slot * RUN_SLOT_BYTES
        return self.regions[block], header, header + (entry + 1) * ENTRY_BYTES

    def send(self, run_slots, edge, generation, payload):
        """Publishes `payload` (bytes, a marshalled descriptor) on `edge` of a run."""
        region, _, entry = self._entry(run_slots, edge)
        if len(payload) > _ENTRY_CAPACITY:
            raise errors.InternalError(None, None, "tensor descriptor too large for rendezvous")
        region.write(entry + _ENTRY_PAYLOAD, payload)
        region.store(entry + _ENTRY_LENGTH, len(payload))
        region.signal(entry + _ENTRY_STATE, generation, entry + _ENTRY_WAITERS)

    def recv(self, run_slots, edge, generation, check):
        """Waits for `edge` of a run; returns its payload bytes (untrusted: see `checked`).

        Args:
          check: called between wait slices; raises to stop waiting (cancellation, deadline).

        Raises:
          AbortedError: if the run was aborted (a partition failed, a device died).
        """
        region, header, entry = self._entry(run_slots, edge)
        state = region.load(entry + _ENTRY_STATE)
        if state != generation:
            # While this device waits for another's tensor, its core is free to borrow
            # (runtime/cores.py): the producer is likely the one with the work.
            _cores.lane_asleep()
            try:
                while state != generation:
                    if region.load(header) == generation:
                        raise errors.AbortedError(
                            None, None, "The step was aborted: another device failed or died "
                            "while this one waited for a tensor")
                    check()
                    spin_s = 0.0 if _cores.others_fill_cores() else CLIENT_SPIN_S
                    state = region.wait_change(entry + _ENTRY_STATE, state,
                                               entry + _ENTRY_WAITERS, spin_s, WAIT_SLICE_S)
            finally:
                _cores.lane_awake()
        length = region.load(entry + _ENTRY_LENGTH)
        return region.read_bytes(entry + _ENTRY_PAYLOAD, min(length, _ENTRY_CAPACITY))

    def abort(self, run_slots, generation, num_edges):
        """Fails every receiver of the run `generation` in `run_slots`, now and later."""
        for index, run_slot in enumerate(run_slots):
            block, slot = divmod(run_slot, SLOTS_PER_BLOCK)
            if block >= len(self.regions):
                continue
            region, header = self.regions[block], slot * RUN_SLOT_BYTES
            region.store(header, generation)
            edges = min(EDGES_PER_SLOT, num_edges - index * EDGES_PER_SLOT)
            for entry in range(header + ENTRY_BYTES, header + (edges + 1) * ENTRY_BYTES,
                               ENTRY_BYTES):
                if region.load(entry + _ENTRY_WAITERS):
                    region.wake(entry + _ENTRY_STATE)

    def unlink(self):
        for segment in self.segments:
            segment.unlink()


def deadline_check(deadline, cancelled):
    """A `check` for `Rendezvous.recv` that raises on cancellation or a passed deadline."""

    def check():
        if cancelled():
            raise errors.CancelledError(None, None, "The run was cancelled.")
        if deadline is not None and time.monotonic() > deadline:
            raise errors.DeadlineExceededError(None, None,
                                               "Timed out waiting for a tensor from a device")

    return check
