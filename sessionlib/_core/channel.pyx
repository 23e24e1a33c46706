# cython: language_level=3
"""Shared-memory signalling: atomics, spin-then-futex waits, mailboxes and shared blocks.

Design. A client and its device workers talk through words in shared memory, not through pipes.
A Python ``multiprocessing.Pipe`` round trip costs ~48 us here; a flag in shared memory is seen
by a spinning reader in ~0.3 us. Spinning forever would burn a core per idle worker, so every
wait here spins for a bounded time and then sleeps on a Linux futex (``FUTEX_WAIT`` on the
shared word, not the private variant, because the word lives in a mapping shared between
processes). A poster only pays for the ``FUTEX_WAKE`` syscall when a waiter has registered in
the word's companion waiter count.

Every wait takes a timeout, and callers wait in short slices, so that a Python loop above can
check liveness (a dead worker), cancellation and Ctrl-C between slices: nothing blocks forever.
The C pieces live beside this file: the atomics in ``_atomics.h`` (declared in
``_atomics.pxd``), the system calls in ``_channel_system.pxd``.

Never: block without a timeout, hold the GIL while sleeping, or import the runtime (the
layouts are handed in as byte offsets).

`Region` wraps a writable buffer (an ``mmap`` of a shared segment) and offers the primitives by
byte offset; the layouts (mailboxes, rendezvous entries, lease tables) are defined in
``sessionlib/runtime/channel.py``. `SharedBlock` exports a sub-range of a mapping through the
buffer protocol, read-only when asked, and releases its lease when the last view dies.
"""

from cpython.buffer cimport PyObject_GetBuffer, PyBuffer_Release, PyBUF_WRITABLE, PyBUF_SIMPLE
from cpython.bytes cimport PyBytes_FromStringAndSize, PyBytes_AS_STRING
from libc.stdint cimport uint32_t, int32_t, int64_t, uint64_t
from libc.string cimport memcpy
from posix.mman cimport MADV_REMOVE, madvise

from sessionlib._core._atomics cimport (
    SL_INT_MAX, sl_add32, sl_cas32, sl_fence, sl_load32, sl_pause, sl_store32, sl_sub32,
)
from sessionlib._core._channel_system cimport (
    CLOCK_MONOTONIC, FUTEX_WAIT, FUTEX_WAKE, SYS_futex, clock_gettime, omp_get_max_threads,
    omp_set_num_threads, sched_yield, syscall, time_t, timespec,
)


# Mailbox slot layout (byte offsets from the slot start); the payload follows the header.
cdef enum:
    SEQ = 0          # uint32: bumped by the poster after the payload is written (futex word)
    WAITERS = 4      # uint32: how many waiters sleep on SEQ (the poster wakes only if > 0)
    LENGTH = 8       # uint32: payload length in bytes
    HEADER = 64      # one cache line; the payload starts here
    RING_HEADER = 64  # a release ring's push counter and mask; its entries start here

SLOT_HEADER = HEADER
RING_HEADER_BYTES = RING_HEADER


cdef inline double _now() noexcept nogil:
    cdef timespec ts
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return ts.tv_sec + ts.tv_nsec * 1e-9


cdef inline void _futex_wake(volatile uint32_t *word) noexcept nogil:
    syscall(SYS_futex, word, FUTEX_WAKE, SL_INT_MAX, NULL, NULL, 0)


cdef uint32_t _wait_change(volatile uint32_t *word, volatile uint32_t *waiters, uint32_t old,
                           double spin_s, double timeout_s) noexcept nogil:
    """Waits until *word != old: spins for `spin_s`, then sleeps on the futex.

    Returns the word's value when it returns; that equals `old` when the timeout passed (or a
    signal interrupted the sleep), so callers loop in slices.
    """
    cdef uint32_t value
    cdef double start = _now(), deadline_spin = start + spin_s, deadline = start + timeout_s
    cdef double remaining
    cdef timespec ts
    cdef int i
    while True:
        for i in range(256):
            value = sl_load32(word)
            if value != old:
                return value
            sl_pause()
        if _now() >= deadline_spin:
            break
        # With more spinners than cores (client + workers on a small machine), yielding lets
        # the thread that will post the value run instead of being preempted by a spinner.
        sched_yield()
    while True:
        remaining = deadline - _now()
        if remaining <= 0:
            return sl_load32(word)
        ts.tv_sec = <time_t>remaining
        ts.tv_nsec = <long>((remaining - ts.tv_sec) * 1e9)
        sl_add32(waiters, 1)
        value = sl_load32(word)
        if value == old:
            syscall(SYS_futex, word, FUTEX_WAIT, old, &ts, NULL, 0)
        sl_sub32(waiters, 1)
        value = sl_load32(word)
        # One sleep per call: a wake-up, a timeout or a signal hands control back to the
        # caller, which checks liveness and Ctrl-C before it waits again.
        return value


def set_omp_threads(int count):
    """Sets the OpenMP thread count of the calling thread's later parallel regions."""
    if count > 0:
        omp_set_num_threads(count)
    return omp_get_max_threads()


cdef class Region:
    """A writable shared mapping, addressed by byte offset.

    Args:
      buffer: a writable buffer exporter (an ``mmap`` of a shared-memory segment). The region
        keeps it exported for its own lifetime, so the mapping cannot go away under it.
    """

    cdef Py_buffer view
    cdef char *base
    cdef readonly Py_ssize_t size
    cdef readonly object owner

    def __cinit__(self, buffer):
        PyObject_GetBuffer(buffer, &self.view, PyBUF_WRITABLE)
        self.base = <char *>self.view.buf
        self.size = self.view.len
        self.owner = buffer

    def __dealloc__(self):
        if self.base != NULL:
            PyBuffer_Release(&self.view)
            self.base = NULL

    cdef inline volatile uint32_t *_word(self, Py_ssize_t offset) except NULL:
        if offset < 0 or offset + 4 > self.size or offset & 3:
            raise IndexError(f"offset {offset} outside the region or misaligned")
        return <volatile uint32_t *>(self.base + offset)

    @property
    def address(self):
        """The mapping's address in this process (for tests and diagnostics)."""
        return <size_t>self.base

    def load(self, Py_ssize_t offset):
        """The uint32 at `offset` (acquire load)."""
        return sl_load32(self._word(offset))

    def store(self, Py_ssize_t offset, uint32_t value):
        """Stores a uint32 at `offset` (sequentially consistent)."""
        sl_store32(self._word(offset), value)

    def add(self, Py_ssize_t offset, uint32_t value):
        """Atomically adds `value`; returns the new value."""
        return sl_add32(self._word(offset), value)

    def compare_exchange(self, Py_ssize_t offset, uint32_t expected, uint32_t desired):
        """Atomically replaces `expected` by `desired`; returns whether it did."""
        return bool(sl_cas32(self._word(offset), expected, desired))

    def wake(self, Py_ssize_t offset):
        """Wakes every futex waiter on the word at `offset`."""
        cdef volatile uint32_t *word = self._word(offset)
        with nogil:
            _futex_wake(word)

    def signal(self, Py_ssize_t offset, uint32_t value, Py_ssize_t waiters_offset):
        """Stores `value` at `offset` and wakes its waiters if the count at `waiters_offset`
        says someone sleeps."""
        cdef volatile uint32_t *word = self._word(offset)
        cdef volatile uint32_t *waiters = self._word(waiters_offset)
        sl_store32(word, value)
        if sl_load32(waiters):
            with nogil:
                _futex_wake(word)

    def wait_change(self, Py_ssize_t offset, uint32_t old, Py_ssize_t waiters_offset,
                    double spin_s, double timeout_s):
        """Waits (GIL released) until the word at `offset` differs from `old`, at most about
        `timeout_s`. Returns the word's value (== `old` on timeout or signal)."""
        cdef volatile uint32_t *word = self._word(offset)
        cdef volatile uint32_t *waiters = self._word(waiters_offset)
        cdef uint32_t value
        with nogil:
            value = _wait_change(word, waiters, old, spin_s, timeout_s)
        return value

    # ---- mailbox slots -----------------------------------------------------------------------

    def post(self, Py_ssize_t slot, bytes payload, Py_ssize_t capacity):
        """Writes `payload` into the mailbox slot at `slot` and publishes it (bumps SEQ).

        Returns the new sequence number.

        Raises:
          ValueError: if the payload exceeds the slot's capacity.
        """
        return self._post(slot, payload, capacity)

    cdef uint32_t _post(self, Py_ssize_t slot, bytes payload, Py_ssize_t capacity) except? 0:
        cdef Py_ssize_t length = len(payload)
        cdef volatile uint32_t *seq = self._word(slot + SEQ)
        cdef uint32_t value
        if length > capacity or slot + HEADER + length > self.size:
            raise ValueError(f"message of {length} bytes exceeds the slot ({capacity} bytes)")
        memcpy(self.base + slot + HEADER, PyBytes_AS_STRING(payload), length)
        (<uint32_t *>(self.base + slot + LENGTH))[0] = <uint32_t>length
        value = sl_add32(seq, 1)
        if sl_load32(self._word(slot + WAITERS)):
            with nogil:
                _futex_wake(seq)
        return value

    def wait_post(self, Py_ssize_t slot, uint32_t last_seq, double spin_s, double timeout_s):
        """Waits until the slot's SEQ moves past `last_seq`; returns SEQ (== last on timeout)."""
        return self._wait_post(slot, last_seq, spin_s, timeout_s)

    cdef uint32_t _wait_post(self, Py_ssize_t slot, uint32_t last_seq, double spin_s,
                             double timeout_s) except? 0:
        cdef volatile uint32_t *seq = self._word(slot + SEQ)
        cdef volatile uint32_t *waiters = self._word(slot + WAITERS)
        cdef uint32_t value = sl_load32(seq)
        if value != last_seq:
            return value
        with nogil:
            value = _wait_change(seq, waiters, last_seq, spin_s, timeout_s)
        return value

    def read(self, Py_ssize_t slot):
        """The payload last posted to the slot at `slot`, as bytes."""
        return self._read(slot)

    cdef bytes _read(self, Py_ssize_t slot):
        cdef uint32_t length
        if slot < 0 or slot + HEADER > self.size:
            raise IndexError(f"slot {slot} outside the region")
        sl_fence()
        length = (<uint32_t *>(self.base + slot + LENGTH))[0]
        if slot + HEADER + length > self.size:
            raise ValueError("corrupt mailbox length")
        return PyBytes_FromStringAndSize(self.base + slot + HEADER, length)

    def write(self, Py_ssize_t offset, const unsigned char[::1] data):
        """Copies `data` to `offset` (no signalling)."""
        cdef Py_ssize_t length = data.shape[0]
        if offset < 0 or offset + length > self.size:
            raise IndexError("write outside the region")
        if length:
            memcpy(self.base + offset, &data[0], length)

    def read_bytes(self, Py_ssize_t offset, Py_ssize_t length):
        """`length` bytes at `offset`, as bytes."""
        if offset < 0 or length < 0 or offset + length > self.size:
            raise IndexError("read outside the region")
        sl_fence()
        return PyBytes_FromStringAndSize(self.base + offset, length)

    def block(self, Py_ssize_t offset, Py_ssize_t nbytes, bint readonly=True,
              Region lease_region=None, Py_ssize_t lease_offset=-1,
              Py_ssize_t ring_offset=-1, uint32_t ring_value=0, Py_ssize_t punch_bytes=0):
        """A `SharedBlock` over ``[offset, offset + nbytes)`` of this region.

        Args:
          readonly: export the block read-only (consumers of another process's tensor).
          lease_region, lease_offset: the lease word to decrement when the block's last view
            dies (at zero the producer may reuse the memory); None for no lease.
          ring_offset, ring_value: the release ring in `lease_region` (see `drain`) onto which
            the view that drops the lease word to zero pushes `ring_value` (non-zero), so
            that the producer finds released leases without scanning; -1 for none.
          punch_bytes: when non-zero, the view that drops the lease word to zero also frees
            the pages of ``[offset, offset + punch_bytes)`` (``MADV_REMOVE``, page-aligned):
            a block its producer will not reuse goes back to the system at once, even while
            the producer is idle (a small /dev/shm).
        """
        if offset < 0 or nbytes < 0 or offset + nbytes > self.size:
            raise IndexError("block outside the region")
        cdef SharedBlock result = SharedBlock.__new__(SharedBlock)
        cdef uint32_t mask
        result.region = self
        result.ptr = self.base + offset
        result.nbytes = nbytes
        result.readonly = readonly
        if punch_bytes:
            if (punch_bytes < 0 or offset % 4096 or offset + punch_bytes > self.size
                    or lease_region is None):
                raise IndexError("punched range outside the region")
            result.punch_bytes = punch_bytes
        if lease_region is not None:
            result.lease = lease_region._word(lease_offset)
            if ring_offset >= 0:
                # The mask is read once, here, and checked against the region's size: the
                # producer's memory may change later, a push must stay inside the mapping.
                mask = _ring_mask(lease_region, ring_offset)
                if ring_value == 0:
                    raise ValueError("a ring value must be non-zero")
                result.ring = <volatile uint32_t *>(lease_region.base + ring_offset)
                result.ring_mask = mask
                result.ring_value = ring_value
            result.lease_region = lease_region
        return result

    def drain(self, Py_ssize_t ring_offset, uint32_t head):
        """Takes the values pushed onto the release ring at `ring_offset` since `head`.

        The ring (one producer's, in its lease table) is a header of `RING_HEADER` bytes (a
        uint32 push counter, then the uint32 mask, a power of two minus one) and ``mask + 1``
        uint32 entries. Releasers push with `SharedBlock`; the owner alone drains, and zeroes
        each entry it takes. An entry still zero is a push in progress: draining stops there.

        Returns:
          ``(values, head)``: the values in push order and the new head; ``values`` is None
          when nothing was pushed.
        """
        cdef uint32_t mask = _ring_mask(self, ring_offset)
        cdef volatile uint32_t *entries = <volatile uint32_t *>(
            self.base + ring_offset + RING_HEADER)
        cdef uint32_t value = sl_load32(&entries[head & mask])
        if value == 0:
            return None, head
        values = []
        while value != 0:
            values.append(value)
            sl_store32(&entries[head & mask], 0)
            head += 1
            value = sl_load32(&entries[head & mask])
        return values, head


cdef uint32_t _ring_mask(Region region, Py_ssize_t ring_offset) except? 0xFFFFFFFF:
    """The checked mask of the release ring at `ring_offset` of `region`."""
    if ring_offset < 0 or ring_offset + RING_HEADER > region.size:
        raise IndexError("release ring outside the region")
    cdef uint32_t mask = sl_load32(<volatile uint32_t *>(region.base + ring_offset + 4))
    if (mask & (mask + 1)) != 0 or ring_offset + RING_HEADER + 4 * (<Py_ssize_t>mask + 1) \
            > region.size:
        raise IndexError("release ring outside the region")
    return mask


cdef inline void _give_back(volatile uint32_t *lease, volatile uint32_t *ring, uint32_t mask,
                            uint32_t value, char *punch, size_t punch_bytes) noexcept nogil:
    """Drops one count of a lease; the view that drops it to zero frees the block's pages
    when asked to, then pushes `value` onto the producer's release ring (one slot per lease
    of the table, so the ring cannot overflow)."""
    cdef uint32_t position
    if sl_sub32(lease, 1) == 0:
        if punch_bytes:
            madvise(punch, punch_bytes, MADV_REMOVE)   # (best effort: the producer drops it)
        if ring == NULL:
            return
        position = sl_add32(ring, 1) - 1
        sl_store32(<volatile uint32_t *>(<char *>ring + RING_HEADER) + (position & mask),
                   value)


cdef class SharedBlock:
    """A range of a shared mapping exported through the buffer protocol.

    numpy arrays made with ``np.frombuffer(block)`` (and all their views) keep the block alive;
    when the last one dies, the block decrements its lease word in the producer's lease table
    (one count per consumer); at zero, the producer may reuse the memory.
    """

    cdef Region region
    cdef Region lease_region
    cdef volatile uint32_t *lease
    cdef volatile uint32_t *ring
    cdef uint32_t ring_mask
    cdef uint32_t ring_value
    cdef Py_ssize_t punch_bytes
    cdef char *ptr
    cdef Py_ssize_t nbytes
    cdef bint readonly
    cdef Py_ssize_t shape[1]
    cdef Py_ssize_t strides[1]

    def __getbuffer__(self, Py_buffer *buffer, int flags):
        if self.readonly and (flags & PyBUF_WRITABLE) == PyBUF_WRITABLE:
            raise BufferError("this shared block is read-only")
        self.shape[0] = self.nbytes
        self.strides[0] = 1
        buffer.buf = self.ptr
        buffer.obj = self
        buffer.len = self.nbytes
        buffer.readonly = self.readonly
        buffer.itemsize = 1
        buffer.format = "B"
        buffer.ndim = 1
        buffer.shape = self.shape
        buffer.strides = self.strides
        buffer.suboffsets = NULL
        buffer.internal = NULL

    def __releasebuffer__(self, Py_buffer *buffer):
        pass

    def release(self):
        """Gives the lease back now (idempotent); normally done when the block dies."""
        if self.lease != NULL:
            _give_back(self.lease, self.ring, self.ring_mask, self.ring_value, self.ptr,
                       self.punch_bytes)
            self.lease = NULL
            self.ring = NULL
            self.lease_region = None

    def __dealloc__(self):
        # One count per consumer: the producer recycles the block when the word reaches 0.
        if self.lease != NULL:
            _give_back(self.lease, self.ring, self.ring_mask, self.ring_value, self.ptr,
                       self.punch_bytes)
            self.lease = NULL


cdef class Lane:
    """One request/response mailbox pair of a worker's lane block, plus a cancel word.

    The per-run calls of both sides (post a request, wait for and read the response; wait for
    and read a request, post the response) are single C-level calls here: a loop of tiny steps
    spends a good part of its time in Python frames, so these stay out of them.

    Args:
      region: the lane block's `Region`.
      index: the lane number.
      lane_bytes: the size of one lane; request_offset, response_offset, cancel_offset: the
        positions of its two mailbox slots and its cancel word within it.
      capacity: the payload capacity of a slot.
      spin_s: how long `wait_response` spins before it sleeps, by default.
    """

    cdef readonly Region region
    cdef readonly Py_ssize_t index, base, request, response, cancel_word, capacity
    cdef public uint32_t last_response
    cdef public double spin_s

    def __init__(self, Region region, Py_ssize_t index, Py_ssize_t lane_bytes,
                 Py_ssize_t request_offset, Py_ssize_t response_offset,
                 Py_ssize_t cancel_offset, Py_ssize_t capacity, double spin_s=200e-6):
        self.region = region
        self.index = index
        self.base = index * lane_bytes
        self.request = self.base + request_offset
        self.response = self.base + response_offset
        self.cancel_word = self.base + cancel_offset
        self.capacity = capacity
        self.spin_s = spin_s
        if self.base + lane_bytes > region.size:
            raise IndexError(f"lane {index} lies outside the lane block")
        self.last_response = sl_load32(region._word(self.response + SEQ))

    # ---- client side -------------------------------------------------------------------------

    def post_request(self, bytes data):
        """Posts a request (bytes from ``channel.encode``); clears an earlier cancel."""
        sl_store32(self.region._word(self.cancel_word), 0)
        return self.region._post(self.request, data, self.capacity)

    def wait_response(self, double timeout_s, double spin_s=-1.0):
        """The response bytes, or None if none came within about `timeout_s` (spinning for
        `spin_s` first; by default the lane's `spin_s`)."""
        cdef uint32_t seq = self.region._wait_post(
            self.response, self.last_response, self.spin_s if spin_s < 0 else spin_s,
            timeout_s)
        if seq == self.last_response:
            return None
        self.last_response = seq
        return self.region._read(self.response)

    def response_ready(self):
        """Whether a response is waiting (for a lane whose run was abandoned)."""
        return sl_load32(self.region._word(self.response + SEQ)) != self.last_response

    def cancel(self):
        sl_store32(self.region._word(self.cancel_word), 1)

    # ---- worker side -------------------------------------------------------------------------

    def cancelled(self):
        return sl_load32(self.region._word(self.cancel_word)) != 0

    def post_response(self, bytes data):
        return self.region._post(self.response, data, self.capacity)



# ---- checking messages before marshal reads them --------------------------------------------
#
# Lanes are writable by any process of the user, so a message is untrusted input. marshal
# allocates a container of the size its header declares before reading the items: five bytes
# ``b"((((("`` ask for a 673-million-item tuple. `checked` walks the bytes first, in C (about
# as fast as a function call for the common small message), and accepts only the plain types
# the runtime sends, at most `MARSHAL_MAX_DEPTH` deep, with every declared count and length
# backed by bytes that are really there. marshal then allocates at most a small multiple of
# the message's size.

cdef enum:
    MAX_DEPTH = 32
    FLAG_REF = 0x80

MARSHAL_MAX_DEPTH = MAX_DEPTH


cdef inline int64_t _le32(const unsigned char *p) noexcept nogil:
    return <int32_t>(<uint32_t>p[0] | (<uint32_t>p[1] << 8) | (<uint32_t>p[2] << 16)
                     | (<uint32_t>p[3] << 24))


cdef Py_ssize_t _skip_value(const unsigned char *data, Py_ssize_t pos, Py_ssize_t end,
                            int depth) noexcept nogil:
    """The position after the marshalled value at `pos`; -1 if it is malformed, truncated,
    of a type messages never carry (code objects, ...) or nested deeper than MAX_DEPTH."""
    cdef unsigned char code
    cdef int64_t count
    if pos >= end or depth > MAX_DEPTH:
        return -1
    code = data[pos] & ~FLAG_REF
    pos += 1
    if code == c'N' or code == c'F' or code == c'T' or code == c'.':
        return pos
    if code == c'i' or code == c'r':   # int32; a back-reference (marshal checks its index)
        return pos + 4 if pos + 4 <= end else -1
    if code == c'g':                   # binary float
        return pos + 8 if pos + 8 <= end else -1
    if code == c'y':                   # binary complex
        return pos + 16 if pos + 16 <= end else -1
    if code == c'{':                   # dict: key, value pairs up to a '0'
        while True:
            if pos >= end:
                return -1
            if data[pos] == c'0':
                return pos + 1
            pos = _skip_value(data, pos, end, depth + 1)
            if pos < 0:
                return -1
            pos = _skip_value(data, pos, end, depth + 1)
            if pos < 0:
                return -1
    # The rest start with a count: one byte for the short forms, four for the others.
    if code == c'z' or code == c'Z' or code == c')':
        if pos + 1 > end:
            return -1
        count = data[pos]
        pos += 1
    else:
        if pos + 4 > end:
            return -1
        count = _le32(data + pos)
        pos += 4
    if code == c'l':                   # long: |count| 15-bit digits of two bytes
        if count < 0:
            count = -count
        return pos + 2 * count if 2 * count <= end - pos else -1
    if (code == c's' or code == c't' or code == c'u' or code == c'a' or code == c'A'
            or code == c'z' or code == c'Z'):
        return pos + count if 0 <= count <= end - pos else -1
    if code == c'(' or code == c')' or code == c'[' or code == c'<' or code == c'>':
        # Each item takes at least one byte: a count the bytes cannot back is a lie.
        if count < 0 or count > end - pos:
            return -1
        while count > 0:
            pos = _skip_value(data, pos, end, depth + 1)
            if pos < 0:
                return -1
            count -= 1
        return pos
    return -1


def checked(bytes data not None):
    """`data` itself, once it is known to be one marshalled value that is safe to load.

    Args:
      data: a message read from a lane, a rendezvous entry or a spilled copy.

    Returns:
      `data`, for ``marshal.loads(checked(data))``.

    Raises:
      ValueError: if `data` is truncated, holds a type that messages never carry, declares a
        count or length that its bytes do not back, or nests deeper than `MARSHAL_MAX_DEPTH`.
    """
    cdef Py_ssize_t end = len(data)
    if _skip_value(<const unsigned char *>PyBytes_AS_STRING(data), 0, end, 0) < 0:
        raise ValueError(f"malformed message ({end} bytes): not a marshalled value of plain "
                         f"types at most {MAX_DEPTH} deep")
    return data
