"""Shared-memory segments and the per-process tensor store (arena + leases).

Design.

* Segments are files in ``/dev/shm`` named ``sessionlib_<creator pid>_<random>``, created with
  ``O_CREAT | O_EXCL`` and mode 0600 (only this user can map them), and pre-faulted with
  ``posix_fallocate`` so that running out of ``/dev/shm`` is a clear `ResourceExhaustedError`
  at allocation instead of a SIGBUS at first touch. We do not use
  ``multiprocessing.shared_memory``: its resource tracker warns about and unlinks segments
  behind our back.
* Clean-up has three layers: a segment is unlinked when its owner closes or collects it
  (weakref finalizer), when the creating process exits (atexit), and, for a creator that was
  killed, by the start-up `sweep` of any later sessionlib process (names carry the pid), or by
  the client when it notices that a worker died. The start-up sweep also removes the
  ``/tmp/pymp-*`` folders of dead forkservers (`sweep_forkserver_dirs`).
* Each process has one `TensorStore`: an arena of reusable, pre-faulted blocks (size classes,
  free lists; growing by adding segments) and a lease table. Creating and touching a fresh 1 MB
  segment costs ~1 ms, a memcpy 19 us, so blocks are recycled across runs.
* `publish(array)` gives a small plain-value descriptor another process can `open`: tiny arrays
  travel inline in the descriptor, others are copied into an arena block. The producer keeps
  the block while a *lease* word in its lease tables is non-zero; the consumer's view zeroes
  it when its last numpy view dies (``SharedBlock`` in ``sessionlib._core.channel``), and the
  producer recycles released blocks lazily (`reclaim`). Consumers see read-only views unless
  the producer handed the tensor over for good.
  A lease word counts readers: `publish(..., consumers=n)` is opened by n, and a producer
  that sends one array to several devices adds readers to one descriptor (`add_reader`)
  while a reservation of its own keeps the lease held (`drop_reservation`).
* Reclaiming costs O(1) per released lease, however many results the user still holds: the
  view that zeroes a lease word also pushes the lease onto a *release ring* behind the words
  (`_LeaseTable`), which the producer drains, instead of scanning every outstanding word
  (that scan made a run 90x slower with 20,000 results held). Lease tables of 64 Ki entries
  are added as needed, so the number of held results is bounded by memory only.
* Zero copy (``publish(..., in_place=True)``, used by `_Send` and, with ``hand_over``, by
  fetches): a worker allocates the outputs of kernels that feed a `_Send` or are fetched
  through a numpy allocation hook (``sessionlib._core.shmalloc``) that puts large arrays in
  *zero-copy blocks* of this store. Such an array is published where it lies: the descriptor
  names its block, the array is marked read-only (the producer must not change what a
  consumer reads), and the block is *pinned* until the consumer's lease is released; it is
  reused only when the array is freed too. When the array is not in such a
  block (the hook found no free block of its size, or the kernel returned an older array), the
  copy path runs, and the store provisions a block of the missed size for the next run
  (`provision`), within `_MAX_ZERO_COPY_BYTES`. A fetch hands a writable array (one the
  step owns) over in place, and the client maps it writable; a read-only array (one that a
  resource or another device keeps) is copied.
"""

import atexit
import collections
import errno
import marshal
import mmap
import os
import re
import secrets
import stat
import sys
import threading
import weakref

import numpy as np

from sessionlib import errors

__all__ = ["SHM_DIR", "PREFIX", "Segment", "sweep", "sweep_forkserver_dirs", "own_segments",
           "TensorStore", "unlink_segments_of", "INLINE_BYTES"]

SHM_DIR = "/dev/shm"
PREFIX = "sessionlib_"
_NAME_RE = re.compile(r"^sessionlib_(\d+)_[0-9a-f]+$")

# Arrays up to this size travel inside messages instead of through an arena block.
INLINE_BYTES = 2048

_PAGE = mmap.PAGESIZE
_SLAB_BYTES = 4 << 20          # small blocks (< 1 MB) are carved from slabs of this size
_LARGE_BYTES = 1 << 20         # from here on, a block is a segment of its own
_LEASE_ENTRIES = 1 << 16       # leases per lease table (a process adds tables as needed)
_FIRST_LEASE_ENTRIES = 1 << 12  # leases in a process's first lease table
_RING_HEADER = 64              # a lease table's release ring header (channel.RING_HEADER)
_MAX_CACHED_FREE = 1 << 30     # free arena bytes kept for reuse before segments are dropped
_MAX_ZERO_COPY_BYTES = 1 << 30  # zero-copy blocks (kernel outputs allocated in the arena)
# The smallest kernel output the arena hook allocates in a zero-copy block, and so the smallest
# array a `_Send` or a fetch publishes in place. Copying 128 KiB costs about as much as the
# pin and lease of publishing in place; above it a copy is pure loss: a two-tower MLP sends
# gradients of 256 KiB and 784 KiB per step, which at the old 1 MiB floor were all copied
# (on the producer's critical path, before the consumer could start averaging).
ZERO_COPY_MIN_BYTES = 128 << 10

_live_lock = threading.Lock()
_live_names = set()            # names this process created and has not unlinked yet


def _unlink(name):
    with _live_lock:
        _live_names.discard(name)
    try:
        os.unlink(os.path.join(SHM_DIR, name))
    except FileNotFoundError:
        pass


def _unlink_all_at_exit():
    with _live_lock:
        names = list(_live_names)
    for name in names:
        _unlink(name)


atexit.register(_unlink_all_at_exit)


def own_segments():
    """The names of the segments this process created and has not unlinked."""
    with _live_lock:
        return sorted(_live_names)


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep():
    """Removes the segments whose creator process is dead.

    Returns:
      The names removed.
    """
    removed = []
    try:
        names = os.listdir(SHM_DIR)
    except OSError:
        return removed
    for name in names:
        match = _NAME_RE.match(name)
        if match is None:
            continue
        if not _pid_alive(int(match.group(1))):
            try:
                os.unlink(os.path.join(SHM_DIR, name))
                removed.append(name)
            except (FileNotFoundError, PermissionError):
                pass
    return removed


def _bound_unix_paths():
    """The paths of the Unix sockets bound by live processes (from /proc/net/unix)."""
    paths = set()
    with open("/proc/net/unix") as table:
        next(table)
        for line in table:
            fields = line.split(None, 7)
            if len(fields) == 8:
                paths.add(fields[7].rstrip("\n"))
    return paths


def sweep_forkserver_dirs():
    """Removes the ``pymp-*`` temporary folders that dead forkservers left behind.

    `multiprocessing` makes one such folder per process for the forkserver's listening
    socket (``listener-*``) and removes it at a clean exit only; a killed client leaves it.
    A folder is removed only when it is ours (this user's, not this process's own), holds
    nothing but ``listener-*`` sockets, and no live process has any of them bound: then its
    forkserver is dead. The folder is listed before the live sockets are read, so a socket
    bound in between counts as live.

    Returns:
      The paths removed.
    """
    import multiprocessing.process
    import tempfile

    removed = []
    root = tempfile.gettempdir()
    own = multiprocessing.process.current_process()._config.get("tempdir")
    candidates = []
    try:
        names = os.listdir(root)
    except OSError:
        return removed
    uid = os.getuid()
    for name in names:
        if not name.startswith("pymp-"):
            continue
        path = os.path.join(root, name)
        try:
            status = os.lstat(path)
            if (not stat.S_ISDIR(status.st_mode) or status.st_uid != uid
                    or path == own):
                continue
            entries = [os.path.join(path, entry) for entry in os.listdir(path)]
            if not entries or not all(
                    os.path.basename(entry).startswith("listener-")
                    and stat.S_ISSOCK(os.lstat(entry).st_mode) for entry in entries):
                continue
        except OSError:
            continue
        candidates.append((path, entries))
    if not candidates:
        return removed
    try:
        live = _bound_unix_paths()
    except (OSError, StopIteration):
        return removed   # without the socket table, nobody can tell a dead forkserver
    for path, entries in candidates:
        if any(entry in live for entry in entries):
            continue
        try:
            for entry in entries:
                os.unlink(entry)
            os.rmdir(path)
            removed.append(path)
        except OSError:
            pass
    return removed


def unlink_segments_of(pid):
    """Unlinks every segment created by `pid` (a worker that died without cleaning up)."""
    prefix = f"{PREFIX}{pid}_"
    try:
        names = os.listdir(SHM_DIR)
    except OSError:
        return
    for name in names:
        if name.startswith(prefix):
            try:
                os.unlink(os.path.join(SHM_DIR, name))
            except (FileNotFoundError, PermissionError):
                pass


def _free_bytes():
    stats = os.statvfs(SHM_DIR)
    return stats.f_bavail * stats.f_frsize


def _total_bytes():
    stats = os.statvfs(SHM_DIR)
    return stats.f_blocks * stats.f_frsize


def _mib(nbytes):
    return f"{nbytes / (1 << 20):.1f} MiB"


def _process_label(pid):
    """What process `pid` is, as far as this process knows: a device or the client."""
    import multiprocessing

    if pid == os.getpid():
        name = multiprocessing.current_process().name
        return name.rpartition("-")[2] if name.startswith("sessionlib-worker-") else "client"
    devices = sys.modules.get("sessionlib.runtime.devices")
    pool = getattr(devices, "_pool", None)
    if pool is not None:
        try:
            for worker in pool.workers():
                if worker.pid == pid:
                    return worker.device
        except Exception:  # noqa: BLE001 - a description must not fail the error it explains
            pass
    return None


def _usage_by_process():
    """The bytes of /dev/shm that each process's sessionlib segments take: ``{pid: bytes}``."""
    usage = {}
    try:
        names = os.listdir(SHM_DIR)
    except OSError:
        return usage
    for name in names:
        match = _NAME_RE.match(name)
        if match is None:
            continue
        try:
            blocks = os.stat(os.path.join(SHM_DIR, name)).st_blocks
        except OSError:
            continue
        pid = int(match.group(1))
        usage[pid] = usage.get(pid, 0) + blocks * 512
    return usage


def _exhausted(size, detail=""):
    """The ResourceExhaustedError for a segment of `size` bytes that /dev/shm cannot hold: how
    big /dev/shm is, what is free, what each sessionlib process holds, and the fix."""
    try:
        total, free = _total_bytes(), _free_bytes()
        room = f"{SHM_DIR} is too small: {_mib(total)}, {_mib(free)} free"
    except OSError:
        room = f"{SHM_DIR} is too small"
    held = []
    for pid, nbytes in sorted(_usage_by_process().items(), key=lambda item: -item[1]):
        label = _process_label(pid)
        this = ", this process" if pid == os.getpid() else ""
        held.append(f"{label + ' ' if label else ''}(pid {pid}{this}) {_mib(nbytes)}")
    store = _store
    mine = ""
    if store is not None:
        mine = (f"; this process has {_mib(store.live_bytes())} live (leased to consumers) "
                f"and {_mib(store._free_bytes)} free for reuse")
    return errors.ResourceExhaustedError(
        None, None,
        f"OOM when allocating a shared-memory segment of {_mib(size)} ({size} bytes): {room}. "
        f"Tensors that cross devices and fetched results live in {SHM_DIR}; live there now: "
        f"{'; '.join(held) or 'nothing of sessionlib'}{mine}. Enlarge it (e.g. `docker run "
        f"--shm-size=1g`), or use smaller tensors (a smaller batch) or fewer devices."
        + (f" ({detail})" if detail else ""))


class Segment:
    """One shared-memory segment, mapped read-write.

    Args:
      size: the size in bytes (creating); ignored when attaching.
      name: the segment to attach to; None creates a new one owned by this process.

    Raises:
      ResourceExhaustedError: if ``/dev/shm`` has no room for a new segment.
      FileNotFoundError: when attaching to a segment that does not exist.
      ValueError: when attaching by a name that is not a sessionlib segment's, or to something
        that is not a regular file.
    """

    def __init__(self, size=0, name=None):
        self.owner = name is None
        if self.owner:
            size = max(int(size), 1)
            if _free_bytes() < size:
                raise _exhausted(size)
            name = f"{PREFIX}{os.getpid()}_{secrets.token_hex(8)}"
            path = os.path.join(SHM_DIR, name)
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
            with _live_lock:
                _live_names.add(name)
            try:
                try:
                    # Reserves the pages now: an ENOSPC here beats a SIGBUS at first touch.
                    os.posix_fallocate(fd, 0, size)
                except OSError as err:
                    if err.errno in (errno.ENOSPC, errno.ENOMEM, errno.EFBIG):
                        raise _exhausted(size, str(err)) from None
                    if err.errno not in (errno.EOPNOTSUPP, errno.EINVAL):
                        raise
                    os.ftruncate(fd, size)
                flags = mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0)
                self.map = mmap.mmap(fd, size, flags=flags)
            except BaseException:
                os.close(fd)
                _unlink(name)
                raise
            os.close(fd)
            self._finalizer = weakref.finalize(self, _unlink, name)
        else:
            # The name comes from a message: it must be one of ours, a plain file in SHM_DIR
            # (no path separator, no symlink), or a peer could make us map any file.
            if type(name) is not str or _NAME_RE.fullmatch(name) is None:
                raise ValueError(f"{name!r} is not a sessionlib shared-memory segment name")
            fd = os.open(os.path.join(SHM_DIR, name),
                         os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
            try:
                status = os.fstat(fd)
                if not stat.S_ISREG(status.st_mode):
                    raise ValueError(f"{name!r} is not a regular file in {SHM_DIR}")
                size = status.st_size
                self.map = mmap.mmap(fd, size, flags=mmap.MAP_SHARED)
            finally:
                os.close(fd)
            self._finalizer = None
        self.name = name
        self.size = size
        self.region = _channel().Region(self.map)

    def unlink(self):
        """Removes the name (mappings stay valid until they are dropped)."""
        if self._finalizer is not None:
            self._finalizer()

    def __repr__(self):
        return f"Segment({self.name!r}, {self.size})"


def _channel():
    from sessionlib._core import channel

    return channel


def _size_class(nbytes):
    """The block size used for `nbytes`: powers of two below 1 MB, whole MBs above."""
    if nbytes < _LARGE_BYTES:
        size = _PAGE
        while size < nbytes:
            size <<= 1
        return size
    return -(-nbytes // _LARGE_BYTES) * _LARGE_BYTES


def _shmalloc():
    """The arena hook's module, its threshold set to `ZERO_COPY_MIN_BYTES` on first use."""
    global _SHMALLOC
    if _SHMALLOC is None:
        from sessionlib._core import shmalloc

        shmalloc.set_threshold(ZERO_COPY_MIN_BYTES)
        _SHMALLOC = shmalloc
    return _SHMALLOC


_SHMALLOC = None
arena_hook = _shmalloc   # for the worker, which wraps kernels in `ArenaKernel`


# Zero-copy segments of closed stores stay mapped until exit: numpy arrays allocated in them
# do not reference the mapping, so unmapping it could leave them pointing at nothing.
_ZERO_COPY_MAPPINGS = []


class _Pinned:
    """What an in-place publication keeps alive: a pin on a zero-copy block."""

    __slots__ = ("index",)

    def __init__(self, index):
        self.index = index


class _Block:
    __slots__ = ("segment", "offset", "size")

    def __init__(self, segment, offset, size):
        self.segment = segment
        self.offset = offset
        self.size = size


# Lease keys: table number * _TABLE_STRIDE + index in the table.
_TABLE_STRIDE = 1 << 32


class _LeaseTable:
    """One segment of lease words and the release ring behind them.

    Layout: ``entries`` uint32 lease words (a descriptor names its word by index), then the
    release ring (``channel.Region.drain``): a `_RING_HEADER`-byte header (push counter,
    mask) and ``entries`` uint32 slots. A lease is pushed at most once per use and is only
    reused after the owner drained it, so the ring never holds more than ``entries`` values.
    Consumers find the ring from the segment's size: ``(size - _RING_HEADER) / 2``.
    """

    __slots__ = ("segment", "region", "words", "entries", "first", "ring_offset", "head",
                 "outstanding")

    def __init__(self, number, entries):
        if entries & (entries - 1) or not 0 < entries < _TABLE_STRIDE:
            raise ValueError(f"a lease table's size must be a power of two, not {entries}")
        self.segment = Segment(8 * entries + _RING_HEADER)
        self.region = self.segment.region
        self.words = np.frombuffer(self.segment.map, dtype=np.uint32, count=entries)
        self.entries = entries
        self.first = number * _TABLE_STRIDE
        self.ring_offset = 4 * entries
        self.region.store(self.ring_offset + 4, entries - 1)
        self.head = 0
        self.outstanding = 0


class TensorStore:
    """This process's arena of shared blocks, its lease table, and its map of peers' segments.

    Thread-safe: a worker's lanes publish and open concurrently.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._free = collections.defaultdict(list)   # size class -> [_Block]
        self._free_bytes = 0
        self._slab = None
        self._slab_used = 0
        self._segments = []                          # every arena segment (kept mapped)
        self._tables = []                            # _LeaseTable, one per 64 Ki leases
        self._table_of = {}                          # lease segment name -> _LeaseTable
        self._free_leases = []                       # free lease keys (see _LeaseTable)
        self._outstanding = {}                       # lease key -> what it keeps alive
        self._cancelled = []                         # keys whose words `cancel` zeroed
        self._mapped = {}                            # peer segment name -> Segment
        self._zero_copy = {}                         # shmalloc block index -> Segment
        self._zero_copy_bytes = 0
        # A small /dev/shm (Docker's 64 MiB) is shared by the client and every device: keep
        # little of it for reuse, and carve small blocks from small slabs.
        try:
            total = _total_bytes()
        except OSError:
            total = 1 << 40
        self._shm_total = total
        self._max_cached = min(_MAX_CACHED_FREE, total // 16)
        self._max_zero_copy = min(_MAX_ZERO_COPY_BYTES, total // 8)
        self._punch_above = max(self._max_zero_copy, self._max_cached)
        self._slab_bytes = max(_LARGE_BYTES, min(_SLAB_BYTES, total // 64))

    # ---- producing ---------------------------------------------------------------------------

    @property
    def lease_segment_name(self):
        """The name of this store's first lease table (created on first use)."""
        self._ensure_leases()
        return self._tables[0].segment.name

    def _ensure_leases(self):
        if not self._tables:
            with self._lock:
                if not self._tables:
                    self._add_lease_table()

    def _add_lease_table(self):
        """Adds a table of `_LEASE_ENTRIES` leases (lock held): the number of results that
        consumers hold is limited by memory only."""
        # The first table is small (a process rarely has many results out at once, and a
        # small /dev/shm is shared by all); later ones have `_LEASE_ENTRIES` each.
        entries = (_LEASE_ENTRIES if self._tables
                   else min(_LEASE_ENTRIES, _FIRST_LEASE_ENTRIES))
        table = _LeaseTable(len(self._tables), entries)
        first = table.first
        self._free_leases.extend(range(first + table.entries - 1, first - 1, -1))
        self._table_of[table.segment.name] = table
        self._tables.append(table)

    def _lease(self, kept, consumers):
        """A free lease for `kept`, its word set to `consumers` (lock held).

        Returns:
          ``(table, index)``.
        """
        if not self._free_leases:
            self._add_lease_table()
        key = self._free_leases.pop()
        table = self._tables[key // _TABLE_STRIDE]
        index = key - table.first
        self._outstanding[key] = kept
        table.outstanding += 1
        table.words[index] = consumers
        return table, index

    def _allocate(self, nbytes):
        """A free block of at least `nbytes` (lock held)."""
        size = _size_class(nbytes)
        free = self._free.get(size)
        if free:
            block = free.pop()
            self._free_bytes -= size
            return block
        if size >= _LARGE_BYTES:
            segment = self._new_segment(size)
            return _Block(segment, 0, size)
        if self._slab is None or self._slab_used + size > self._slab.size:
            self._slab = self._new_segment(self._slab_bytes)
            self._slab_used = 0
        block = _Block(self._slab, self._slab_used, size)
        self._slab_used += size
        return block

    def _new_segment(self, size):
        try:
            segment = Segment(size)
        except errors.ResourceExhaustedError:
            # This process's own cache and idle zero-copy blocks first; what is live stays.
            dropped = self._drop_idle_zero_copy()
            if not self._free_bytes and not dropped:
                raise
            self._drop_cached_free()
            segment = Segment(size)
        self._segments.append(segment)
        return segment

    def _drop_cached_free(self, keep=0):
        """Gives cached free large blocks back to the system until at most `keep` bytes stay
        cached (lock held).

        The pages are freed at once (``MADV_REMOVE`` punches them out of the file), even
        though consumers keep their mappings of the segment: unlinking alone would leave them
        allocated until every peer unmapped it.
        """
        for size in sorted(self._free, reverse=True):
            if size < _LARGE_BYTES:
                continue
            blocks = self._free[size]
            while blocks and self._free_bytes > keep:
                block = blocks.pop()
                self._free_bytes -= size
                segment = block.segment
                try:
                    segment.map.madvise(mmap.MADV_REMOVE, 0, segment.size)
                except (OSError, ValueError, AttributeError):
                    pass   # (then the pages go when the last mapping does)
                segment.unlink()
                self._segments.remove(segment)

    def _drop_idle_zero_copy(self):
        """Gives back the zero-copy blocks that no array and no consumer holds (lock held).

        Returns:
          The bytes given back.
        """
        if not self._zero_copy:
            return 0
        shmalloc = _shmalloc()
        dropped = 0
        for index, segment in list(self._zero_copy.items()):
            if shmalloc.remove_block(index):   # (atomically: no allocation can take it now)
                del self._zero_copy[index]
                self._zero_copy_bytes -= segment.size
                dropped += segment.size
                try:
                    segment.map.madvise(mmap.MADV_REMOVE, 0, segment.size)
                except (OSError, ValueError, AttributeError):
                    pass
                segment.unlink()
        return dropped

    def _release(self, block):
        self._free[block.size].append(block)
        self._free_bytes += block.size
        if self._free_bytes > self._max_cached:
            self._drop_cached_free(self._max_cached // 2)
        elif block.size >= _LARGE_BYTES and _free_bytes() < self._shm_total // 4:
            # Under pressure every freed large block goes back: another process may need it.
            self._drop_cached_free()

    def trim(self):
        """Gives every cached free large block back to the system (blocks still leased to
        consumers stay)."""
        self.reclaim()
        with self._lock:
            self._drop_cached_free()

    def live_bytes(self):
        """The bytes of this store's blocks still leased to consumers (read without the lock:
        the error of a failed allocation, which holds it, reports this)."""
        try:
            return sum(kept.size for kept in list(self._outstanding.values())
                       if isinstance(kept, _Block))
        except RuntimeError:   # changed by another thread meanwhile
            return 0

    def reclaim(self):
        """Recycles the blocks whose consumers have released their leases.

        Costs O(1) per released lease, whatever the number still held: releasers push the
        lease onto their producer's release ring (``channel.SharedBlock``), and this drains
        the rings instead of scanning the lease words.
        """
        if not self._outstanding:
            return
        with self._lock:
            for table in self._tables:
                if not table.outstanding:
                    continue
                values, table.head = table.region.drain(table.ring_offset, table.head)
                if values is not None:
                    self._recycle(table, [value - 1 for value in values])
            if self._cancelled:
                cancelled, self._cancelled = self._cancelled, []
                for key in cancelled:
                    table = self._tables[key // _TABLE_STRIDE]
                    self._recycle(table, [key - table.first])

    def _recycle(self, table, indices):
        """Frees the leases `indices` of `table` that are really released (lock held).

        A pushed value comes from another process: one that is out of range, not outstanding
        or whose word is not zero (a stale or forged push) is ignored.
        """
        words = table.words
        first = table.first
        entries = table.entries
        released = []
        for index in indices:
            if 0 <= index < entries and not words[index]:
                kept = self._outstanding.pop(first + index, None)
                if kept is not None:
                    table.outstanding -= 1
                    self._free_leases.append(first + index)
                    if isinstance(kept, _Pinned):
                        _shmalloc().unpin(kept.index)
                    else:
                        released.append(kept)
        for block in released:
            self._release(block)

    def provision(self):
        """Adds zero-copy blocks for the allocations the arena hook could not serve.

        Stops quietly at `_MAX_ZERO_COPY_BYTES` or when ``/dev/shm`` is full: those arrays
        keep taking the copy path.
        """
        shmalloc = _shmalloc()
        for nbytes in shmalloc.take_misses():
            size = _size_class(nbytes)
            if self._zero_copy_bytes + size > self._max_zero_copy:
                return
            try:
                # Leave at least as much room again for the copy path, and half of /dev/shm
                # for the other processes (a zero-copy block is an optimisation; a copy that
                # finds /dev/shm full is an error).
                free = _free_bytes()
                if free < 2 * size or free - size < self._shm_total // 2:
                    return
                segment = Segment(size)
            except (errors.ResourceExhaustedError, OSError):
                return
            index = shmalloc.add_block(segment.region.address, size)
            if index < 0:
                segment.unlink()
                return
            with self._lock:
                self._zero_copy[index] = segment
                self._zero_copy_bytes += size

    def _publish_in_place(self, array, consumers):
        """The descriptor of `array` published where it lies, or None when it is not in a
        zero-copy block (then the caller copies)."""
        if not array.flags.c_contiguous:
            return None
        shmalloc = _shmalloc()
        address = array.__array_interface__["data"][0]
        block = shmalloc.pin(address, array.nbytes)
        if block < 0:
            if shmalloc.has_misses():
                self.provision()
            return None
        segment = self._zero_copy.get(block)
        if segment is None:   # the store was closed (at exit)
            shmalloc.unpin(block)
            return None
        # The producer must not change what consumers read: the array and every array it is a
        # view of become read-only.
        owner = array
        while isinstance(owner, np.ndarray):
            owner.flags.writeable = False
            owner = owner.base
        with self._lock:
            try:
                table, index = self._lease(_Pinned(block), consumers)
            except BaseException:
                shmalloc.unpin(block)
                raise
        return ("a", segment.name, address - segment.region.address, array.nbytes,
                _dtype_str(array.dtype), array.shape, table.segment.name, index)

    def publish(self, array, inline_limit=INLINE_BYTES, consumers=1, in_place=False,
                hand_over=False):
        """A plain-value descriptor of `array` that another process can `open`.

        Arrays up to `inline_limit` bytes travel inline; others are copied into an arena block
        that stays reserved until the consumer's views are gone. String tensors travel as
        marshalled lists of bytes. `consumers` processes may open the descriptor once each.
        With `in_place`, an array that lies in a zero-copy block is published where it is
        (and becomes read-only here) instead of being copied. Consumers that share a value
        open it read-only. With `hand_over`, the one consumer takes the value for good and may
        open it writable: then only an array this process may give away is published in
        place, one that is writable (a step's own result: whatever a resource keeps is frozen
        or copied, as a value fetched in process may be written by the user too).

        Raises:
          ResourceExhaustedError: if ``/dev/shm`` is full.
        """
        if type(array) is not np.ndarray:
            array = np.asarray(array)
        dtype = array.dtype
        if dtype.hasobject:
            items = [_as_bytes(item) for item in array.reshape(-1).tolist()]
            if sum(len(item) + 5 for item in items) <= inline_limit:
                return ("s", array.shape, items)
            packed = np.frombuffer(marshal.dumps(items), dtype=np.uint8)
            return ("S", array.shape, self.publish(packed, 0, consumers))
        if self._outstanding:
            # Also before inline results: a client whose runs feed only small values must
            # still give back the large blocks its workers have released (small /dev/shm).
            self.reclaim()
        if array.nbytes <= inline_limit:
            return ("i", _dtype_str(dtype), array.shape, array.tobytes())
        if (in_place and array.nbytes >= ZERO_COPY_MIN_BYTES
                and (array.flags.writeable or not hand_over)):
            descriptor = self._publish_in_place(array, consumers)
            if descriptor is not None:
                return descriptor
        with self._lock:
            block = self._allocate(array.nbytes)
            try:
                table, index = self._lease(block, consumers)
            except BaseException:
                self._release(block)
                raise
        target = np.ndarray(array.shape, array.dtype, buffer=block.segment.map,
                            offset=block.offset)
        np.copyto(target, array, casting="no")
        return ("a", block.segment.name, block.offset, array.nbytes, _dtype_str(dtype),
                array.shape, table.segment.name, index)

    @property
    def outstanding_leases(self):
        """How many published tensors consumers have not released yet (diagnostics)."""
        return len(self._outstanding)

    def add_reader(self, descriptor):
        """One more consumer for `descriptor`, published here with a reserved consumer
        (``publish(..., consumers=2)``, one of them the caller's reservation, which keeps the
        lease from being released meanwhile): the same bytes go to another reader without a
        second copy. The caller still drops its reservation with `drop_reservation`."""
        if descriptor[0] == "a":
            table = self._table_of[descriptor[6]]
            table.region.add(4 * descriptor[7], 1)
        elif descriptor[0] == "S":
            self.add_reader(descriptor[2])

    def drop_reservation(self, descriptor):
        """Gives up the reserved consumer of `descriptor` (see `add_reader`): the block is
        reclaimed once its readers are done, or now when they all are."""
        if descriptor[0] == "a":
            table = self._table_of[descriptor[6]]
            if table.region.add(4 * descriptor[7], 0xFFFFFFFF) == 0:
                # The readers released it before: nobody pushed it onto the release ring.
                with self._lock:
                    self._cancelled.append(table.first + descriptor[7])
        elif descriptor[0] == "S":
            self.drop_reservation(descriptor[2])

    def cancel(self, descriptor):
        """Takes back a published descriptor that will never be opened."""
        if descriptor[0] == "a":
            table = self._table_of[descriptor[6]]
            table.words[descriptor[7]] = 0
            with self._lock:
                self._cancelled.append(table.first + descriptor[7])
        elif descriptor[0] == "S":
            self.cancel(descriptor[2])

    # ---- consuming ---------------------------------------------------------------------------

    def _segment(self, name):
        segment = self._mapped.get(name)
        if segment is None:
            with self._lock:
                segment = self._mapped.get(name)
                if segment is None:
                    try:
                        segment = Segment(name=name)
                    except FileNotFoundError:
                        raise errors.UnavailableError(
                            None, None, f"Shared-memory segment {name} is gone; its device "
                            "process has probably died") from None
                    self._mapped[name] = segment
        return segment

    def open(self, descriptor, writable=False):
        """The array a peer published as `descriptor`.

        Args:
          descriptor: from `publish` in another process.
          writable: the caller owns the result (a fetch the producer handed over): give a
            writable array; otherwise the result is a read-only view.
        """
        kind = descriptor[0]
        if kind == "i":
            _, dtype, shape, payload = descriptor
            dtype = _DTYPES.get(dtype) or _parse_dtype(dtype)
            # A view of the message's bytes is read-only; a caller that owns the value gets
            # a writable copy.
            return np.ndarray(shape, dtype, bytearray(payload) if writable else payload)
        if kind in ("s", "S"):
            _, shape, items = descriptor
            if kind == "S":
                items = marshal.loads(_channel().checked(self.open(items).tobytes()))
            if type(items) is not list or not all(type(item) is bytes for item in items):
                raise ValueError("a string tensor descriptor must carry a list of bytes")
            array = np.empty(len(items), dtype=object)
            array[:] = items
            return array.reshape(shape)
        _, name, offset, nbytes, dtype, shape, lease_name, index = descriptor
        dtype = _DTYPES.get(dtype) or _parse_dtype(dtype)
        # Checked before anything is mapped or a lease is taken: the block's bounds against
        # the segment's real size are checked by `Region.block`, the lease word's by the lease
        # table's region.
        if (type(nbytes) is not int or type(index) is not int or type(shape) is not tuple
                or nbytes != dtype.itemsize * _element_count(shape)):
            raise ValueError(f"tensor descriptor: {nbytes!r} bytes do not hold a {dtype} "
                             f"tensor of shape {shape!r}")
        segment = self._segment(name)
        leases = self._segment(lease_name)
        # The release ring follows the lease words (see `_LeaseTable`); its bounds are
        # checked by `Region.block`.
        # A copy-path block larger than any zero-copy block and than what a producer caches
        # (both limits follow from the size of /dev/shm, the same for both processes) will be
        # dropped by its producer: the last view punches its pages out at once, since the
        # producer may be idle until its next run (a small /dev/shm cannot wait).
        punch = (segment.size if offset == 0 and nbytes > self._punch_above
                 and nbytes <= segment.size else 0)
        block = segment.region.block(offset, nbytes, not writable, leases.region, index * 4,
                                     (leases.size - _RING_HEADER) >> 1,
                                     (index + 1) & 0xFFFFFFFF, punch)
        return np.frombuffer(block, dtype=dtype).reshape(shape)

    def forget_process(self, pid):
        """Drops the mappings of a dead peer's segments (live views keep theirs)."""
        prefix = f"{PREFIX}{pid}_"
        with self._lock:
            for name in [n for n in self._mapped if n.startswith(prefix)]:
                del self._mapped[name]

    def close(self):
        """Unlinks every segment of the store (at exit; live views stay valid)."""
        with self._lock:
            for segment in self._segments:
                segment.unlink()
            for table in self._tables:
                table.segment.unlink()
            if self._zero_copy:
                shmalloc = _shmalloc()
                for index, segment in self._zero_copy.items():
                    segment.unlink()
                    _ZERO_COPY_MAPPINGS.append(segment)   # arrays may still live in it
                    # A block an array still owns stays registered (its mapping stays valid
                    # until exit), but it is never published again.
                    shmalloc.remove_block(index)
                self._zero_copy.clear()
                self._zero_copy_bytes = 0
            self._segments = []
            self._free.clear()
            self._outstanding.clear()
            self._cancelled = []
            self._mapped.clear()


# Descriptors name dtypes by their ``str``; both directions are cached (computing
# ``dtype.str`` or parsing it costs more than the rest of a tiny tensor's trip).
_DTYPE_STRS = {}
_DTYPES = {}


def _dtype_str(dtype):
    found = _DTYPE_STRS.get(dtype)
    if found is None:
        found = _DTYPE_STRS[dtype] = dtype.str
    return found


def _parse_dtype(name):
    dtype = np.dtype(name)
    if dtype.hasobject:
        raise ValueError("an inline tensor descriptor cannot name an object dtype")
    _DTYPES[name] = dtype
    return dtype


def _element_count(shape):
    """The number of elements of `shape`, a tuple of non-negative ints (ValueError if not)."""
    count = 1
    for dim in shape:
        if type(dim) is not int or dim < 0:
            raise ValueError(f"tensor descriptor: bad shape {shape!r}")
        count *= dim
    return count


def _as_bytes(item):
    if isinstance(item, bytes):
        return item
    if isinstance(item, str):
        return item.encode("utf-8")
    return bytes(item)


_store = None
_store_lock = threading.Lock()


def store():
    """This process's `TensorStore`."""
    global _store
    if _store is None:
        with _store_lock:
            if _store is None:
                _store = TensorStore()
    return _store


# The start-up sweep: segments and forkserver folders left behind by killed processes.
sweep()
sweep_forkserver_dirs()
