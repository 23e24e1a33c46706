# cython: language_level=3
"""A numpy allocation hook (NEP 49) that puts large arrays in this process's shared arena.

Design. A tensor that crosses devices must be in shared memory. The copy path
(``TensorStore.publish``) copies it into an arena block: ~4 ms for 64 MB. Here the producing
kernel allocates its output in an arena block to begin with, so `_Send` can publish the array
in place, with no copy at all:

* The worker wraps the kernels whose outputs feed a `_Send` in `ArenaKernel`, which installs
  this module's `PyDataMem_Handler` (``PyDataMem_SetHandler``; numpy keeps the handler in a
  context variable, so only the calling thread's allocations see it) for the duration of the
  call. Every other allocation, and every allocation below `threshold` bytes, goes to the C
  library: numpy stores the handler in each array, so the array's ``free`` comes back here and
  a pointer that is not an arena block is handed to ``free()``.
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
  allocate concurrently. The table is small (`MAX_BLOCKS`) and scanned linearly.
"""

cdef extern from *:
    """
    #define NPY_TARGET_VERSION NPY_1_22_API_VERSION
    #include <numpy/arrayobject.h>
    #include <pthread.h>
    #include <stdlib.h>
    #include <string.h>
    #include <stdint.h>

    #define SL_MAX_BLOCKS 256
    #define SL_MAX_MISSES 32

    typedef struct {
        char *base;
        size_t size;
        int live;    /* registered (and mapped by the store) */
        int used;    /* a numpy array owns the block */
        int pins;    /* consumers' leases on memory of the block */
    } sl_block;

    static sl_block sl_blocks[SL_MAX_BLOCKS];
    static int sl_nblocks = 0;
    static size_t sl_threshold = 1 << 20;
    static size_t sl_misses[SL_MAX_MISSES];
    static int sl_nmisses = 0;
    static long sl_hits = 0, sl_fallbacks = 0;
    static pthread_mutex_t sl_lock = PTHREAD_MUTEX_INITIALIZER;

    static int sl_import_numpy(void) {
        import_array1(-1);
        return 0;
    }

    /* The index of the block that starts at `ptr`, or -1 (lock held). */
    static int sl_find(const void *ptr) {
        int i;
        for (i = 0; i < sl_nblocks; i++)
            if (sl_blocks[i].live && sl_blocks[i].base == (const char *)ptr)
                return i;
        return -1;
    }

    /* A free block for `size` bytes, or NULL after recording a miss (lock held). */
    static void *sl_take(size_t size) {
        int i, best = -1;
        for (i = 0; i < sl_nblocks; i++) {
            sl_block *b = &sl_blocks[i];
            if (b->live && !b->used && !b->pins && b->size >= size && b->size / 2 <= size
                    && (best < 0 || b->size < sl_blocks[best].size))
                best = i;
        }
        if (best >= 0) {
            sl_blocks[best].used = 1;
            sl_hits++;
            return sl_blocks[best].base;
        }
        sl_fallbacks++;
        if (sl_nmisses < SL_MAX_MISSES)
            sl_misses[sl_nmisses++] = size;
        return NULL;
    }

    static void *sl_malloc(void *ctx, size_t size) {
        void *p = NULL;
        if (size >= sl_threshold) {
            pthread_mutex_lock(&sl_lock);
            p = sl_take(size);
            pthread_mutex_unlock(&sl_lock);
        }
        return p ? p : malloc(size);
    }

    static void *sl_calloc(void *ctx, size_t count, size_t elsize) {
        void *p = NULL;
        size_t size;
        if (elsize && count > SIZE_MAX / elsize)
            return NULL;
        size = count * elsize;
        if (size >= sl_threshold) {
            pthread_mutex_lock(&sl_lock);
            p = sl_take(size);
            pthread_mutex_unlock(&sl_lock);
        }
        if (p) {
            memset(p, 0, size);   /* a recycled block holds an earlier run's data */
            return p;
        }
        return calloc(count, elsize);
    }

    static void sl_free(void *ctx, void *ptr, size_t size) {
        int i;
        if (ptr == NULL)
            return;
        pthread_mutex_lock(&sl_lock);
        i = sl_find(ptr);
        if (i >= 0)
            sl_blocks[i].used = 0;   /* reusable once its pins are gone too */
        pthread_mutex_unlock(&sl_lock);
        if (i < 0)
            free(ptr);
    }

    static void *sl_realloc(void *ctx, void *ptr, size_t new_size) {
        int i;
        size_t old;
        void *q;
        if (ptr == NULL)
            return sl_malloc(ctx, new_size);
        pthread_mutex_lock(&sl_lock);
        i = sl_find(ptr);
        old = i >= 0 ? sl_blocks[i].size : 0;
        pthread_mutex_unlock(&sl_lock);
        if (i < 0)
            return realloc(ptr, new_size);
        if (new_size <= old)
            return ptr;
        q = malloc(new_size);
        if (q == NULL)
            return NULL;
        memcpy(q, ptr, old);
        sl_free(ctx, ptr, old);
        return q;
    }

    static PyDataMem_Handler sl_handler = {
        "sessionlib_shared_arena",
        1,
        {NULL, sl_malloc, sl_calloc, sl_realloc, sl_free}
    };

    static PyObject *sl_handler_capsule(void) {
        return PyCapsule_New(&sl_handler, "mem_handler", NULL);
    }

    static void sl_lock_table(void) { pthread_mutex_lock(&sl_lock); }
    static void sl_unlock_table(void) { pthread_mutex_unlock(&sl_lock); }
    """
    ctypedef struct sl_block:
        char *base
        size_t size
        int live
        int used
        int pins
    sl_block sl_blocks[256]
    int sl_nblocks
    size_t sl_threshold
    size_t sl_misses[32]
    int sl_nmisses
    long sl_hits
    long sl_fallbacks
    int SL_MAX_BLOCKS
    int sl_import_numpy() except -1
    object sl_handler_capsule()
    object PyDataMem_SetHandler(object handler)
    void sl_lock_table()
    void sl_unlock_table()

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


cdef class ArenaKernel:
    """A kernel wrapper whose call allocates large numpy arrays in the arena.

    Args:
      kernel: the wrapped callable (any calling convention: the arguments are passed on).
    """

    cdef readonly object kernel

    def __init__(self, kernel):
        self.kernel = kernel

    def __call__(self, *args):
        previous = PyDataMem_SetHandler(_capsule)
        try:
            return self.kernel(*args)
        finally:
            PyDataMem_SetHandler(previous)
