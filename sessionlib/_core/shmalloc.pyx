# cython: language_level=3
"""A numpy allocation hook (NEP 49) that puts large arrays in this process's shared arena.

Design. A tensor that crosses processes (a `_Send`'s input, bound for another device, or a
value a worker hands to the client as a fetch) must be in shared memory. The copy path
(``TensorStore.publish``) copies it into a block of the store's arena: ~4 ms for 64 MB. Here
the producing kernel allocates its output in a shared *zero-copy block* to begin with, so the
store publishes the array where it lies (``publish(..., in_place=True)``) and the consumer
maps that block: no copy on either side. The first run that needs a block of a new size copies
(a miss, below); later runs find the block (while the store has room for it, see
``runtime/shm.py``) and copy nothing.

* The worker wraps the kernels whose outputs feed a `_Send` or are fetched in `ArenaKernel`
  (``runtime/worker.py``), which installs this module's `PyDataMem_Handler`
  (``PyDataMem_SetHandler``; numpy keeps the handler in a context variable, so only the
  calling thread's allocations see it) for the duration of the call. Every other allocation,
  and every allocation below `threshold` bytes, goes to the C library: numpy stores the
  handler in each array, so the array's ``free`` comes back here and a pointer that is not an
  arena block is handed to ``free()``.
* Blocks are registered by the Python `TensorStore` (which owns and maps their segments) with
  `add_block`. A request takes the smallest free registered block that fits (and is at most
  about twice its size); when none fits, the size is recorded as a *miss* (`take_misses`) and
  the request falls back to ``malloc``: the array then takes the copy path, and the store
  provisions a block of that size for the next run. Nothing here calls back into Python.
* A block's lifetime has two holders: ``used`` (a numpy array owns it) and ``pins`` (leases of
  consumers that opened it in place). `pin` succeeds only for memory of a block a live array
  owns; the block is reused only once the array is freed *and* every pin is gone (`unpin`,
  called by the store when a consumer's lease word drops to zero). So a consumer never reads
  recycled memory, and the producer never overwrites memory a consumer still reads (the
  store also marks a published array read-only).
* One pthread mutex guards the table: numpy may free arrays from any thread, and lane threads
  allocate concurrently. The table is small (`MAX_BLOCKS`) and scanned linearly. The C side
  is ``_shm_arena.h`` (declared in ``_shm_arena.pxd``).

Never: call into Python from the allocation functions (numpy calls them on any thread), hand
out a block that an array or a pin still holds, or map or unmap memory (the store owns the
segments; this module only lends out what it was given).
"""

from sessionlib._core._shm_arena cimport (
    PyDataMem_SetHandler, SL_MAX_BLOCKS, sl_arena_handler_capsule, sl_blocks, sl_fallbacks,
    sl_handler_capsule, sl_hits,
    sl_import_numpy, sl_lock_table, sl_misses, sl_nblocks, sl_nmisses, sl_threshold,
    sl_unlock_table,
)

sl_import_numpy()

MAX_BLOCKS = SL_MAX_BLOCKS
HANDLER_NAME = "sessionlib_shared_arena"

cdef object _capsule = sl_handler_capsule()


def set_threshold(size_t nbytes):
    """Sets the smallest allocation that goes to the arena; returns the previous value."""
    global sl_threshold
    previous = sl_threshold
    sl_threshold = nbytes
    return previous


def add_block(size_t address, size_t size):
    """Registers ``[address, address + size)`` (mapped shared memory the caller keeps mapped
    for the life of the process) as a free block.

    Returns:
      The block's index, or -1 when the table is full.
    """
    global sl_nblocks
    cdef int i, found = -1
    sl_lock_table()
    try:
        for i in range(sl_nblocks):
            if not sl_blocks[i].live:
                found = i
                break
        if found < 0 and sl_nblocks < SL_MAX_BLOCKS:
            found = sl_nblocks
            sl_nblocks += 1
        if found >= 0:
            sl_blocks[found].base = <char *>address
            sl_blocks[found].size = size
            sl_blocks[found].used = 0
            sl_blocks[found].pins = 0
            sl_blocks[found].live = 1
    finally:
        sl_unlock_table()
    return found


def remove_block(int index):
    """Unregisters a block if it is free (no array, no pin); returns whether it did."""
    cdef bint done = False
    sl_lock_table()
    if 0 <= index < sl_nblocks and sl_blocks[index].live and not sl_blocks[index].used \
            and not sl_blocks[index].pins:
        sl_blocks[index].live = 0
        done = True
    sl_unlock_table()
    return done


def pin(size_t address, size_t nbytes):
    """Pins the block that holds ``[address, address + nbytes)`` if a live array owns it.

    Returns:
      The block's index (give it to `unpin` when the consumer is done), or -1: the memory is
      not an arena block owned by an array, and the caller must copy.
    """
    cdef int i, found = -1
    cdef char *start = <char *>address
    sl_lock_table()
    for i in range(sl_nblocks):
        if (sl_blocks[i].live and sl_blocks[i].used and start >= sl_blocks[i].base
                and start + nbytes <= sl_blocks[i].base + sl_blocks[i].size):
            sl_blocks[i].pins += 1
            found = i
            break
    sl_unlock_table()
    return found


def unpin(int index):
    """Drops one pin of block `index` (a consumer's lease was released)."""
    sl_lock_table()
    if 0 <= index < sl_nblocks and sl_blocks[index].pins > 0:
        sl_blocks[index].pins -= 1
    sl_unlock_table()


def has_misses():
    """Whether an allocation fell back to malloc since the last `take_misses`."""
    return sl_nmisses > 0


def take_misses():
    """The sizes of the allocations that found no free block since the last call."""
    global sl_nmisses
    sl_lock_table()
    misses = [sl_misses[i] for i in range(sl_nmisses)]
    sl_nmisses = 0
    sl_unlock_table()
    return misses


def stats():
    """Counters and the block table, for tests and diagnostics.

    Returns:
      A dict: ``hits``, ``fallbacks`` (allocations served by an arena block and by malloc),
      and ``blocks``, a list of ``(size, used, pins)`` of the registered blocks.
    """
    sl_lock_table()
    blocks = [(sl_blocks[i].size, sl_blocks[i].used, sl_blocks[i].pins)
              for i in range(sl_nblocks) if sl_blocks[i].live]
    result = {"hits": sl_hits, "fallbacks": sl_fallbacks, "blocks": blocks}
    sl_unlock_table()
    return result


def charging_handler(account):
    """The arena's handler that also charges every allocation to a device's memory account.

    Args:
      account: the handler capsule of a ``device_memory.DeviceMemory`` (its ``handler``).
    """
    return sl_arena_handler_capsule(account)


cdef class ArenaKernel:
    """A kernel wrapper whose call allocates large numpy arrays in the arena.

    Args:
      kernel: the wrapped callable (any calling convention: the arguments are passed on).
      handler: the handler to install (`charging_handler`); None: the plain arena handler.
    """

    cdef readonly object kernel
    cdef object handler

    def __init__(self, kernel, handler=None):
        self.kernel = kernel
        self.handler = _capsule if handler is None else handler

    def __call__(self, *args):
        previous = PyDataMem_SetHandler(self.handler)
        try:
            return self.kernel(*args)
        finally:
            PyDataMem_SetHandler(previous)
