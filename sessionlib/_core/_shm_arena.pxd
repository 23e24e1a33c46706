# Declarations of _shm_arena.h: the block table and numpy allocation handler of shmalloc.pyx.

cdef extern from "_shm_arena.h":
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
    object sl_arena_handler_capsule(object account)
    object PyDataMem_SetHandler(object handler)
    void sl_lock_table()
    void sl_unlock_table()
