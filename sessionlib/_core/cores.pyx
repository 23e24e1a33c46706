# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False
"""The core budget: the machine's cores, shared by the processes of one client through one
64-bit word in shared memory.

The policy (who may use how many threads) is stated in ``sessionlib/runtime/cores.py``; this
module is its mechanism, so that a kernel can lease cores without the GIL and without a
Python call.
"""

# Design
# ======
#
# One word. The budget is one 64-bit word in a shared-memory segment that the client creates
# (``runtime/cores.py``). It has eight one-byte *slots*, one per process of the client (slot 0
# is the client itself, the others its device workers). In slot i, bits 0-6 count the cores
# that process's kernels hold now, and bit 7 says the process is *awake* (one of its lane
# threads is running or spinning, not asleep on a futex). Everything a lease needs (the cores
# in use, how many processes compete for them) is read from that word in one atomic load, and
# a lease or a release is one compare-and-swap of it, so there is no window in which the
# budget and a slot disagree: a process killed at any instant leaves exactly its own byte
# behind, which the client clears (`reclaim`) when it sees the process died.
#
# Leasing. A parallel kernel asks for `want` threads (its cap: the session's thread count)
# and gets min(want, its fair share, the free cores), where the fair share is the total
# divided by the awake processes (the caller counted as awake), and never more than the
# process's own *cap* when it has one (an emulated GPU's fixed share of the cores; `attach`
# records it in the segment, so the client sees each worker's cap). It gets at least one: when
# nothing is free it waits (yield, then 20 us sleeps) for a release, and only after
# WAIT_LIMIT_S takes one core anyway (counted in `stats()['forced']`, visible in the
# high-water mark): a holder never blocks while it holds cores (kernels lease around their
# compute loops only), so a long wait means the holder died and the client has not noticed
# yet. A thread that already holds a lease (a kernel calling another) gets 1 without touching
# the budget, so nested leases cannot wait on themselves.
#
# Beside the word, the segment keeps what the client reads but no lease decides on: each
# slot's cap (a byte each) and each slot's high-water mark (a byte each of a second word,
# raised by a CAS after a lease, so tests can check a worker's leases without timing them).
#
# Cost. Only parallel-sized work leases (callers check their size threshold first), and a
# lease is one load and one CAS (~20-100 ns against a kernel of >= 64K elements). The awake
# bit changes only when a lane thread falls asleep on its futex or wakes from it, both already
# syscalls: back-to-back small steps never touch the word.

from libc.stdint cimport int64_t, uint32_t, uint64_t

cdef extern from *:
    """
    #include <stdint.h>
    #include <sched.h>
    #include <time.h>

    static inline uint64_t sl_load64(volatile uint64_t *p) {
        return __atomic_load_n(p, __ATOMIC_ACQUIRE);
    }
    static inline int sl_cas64(volatile uint64_t *p, uint64_t expected, uint64_t desired) {
        return __atomic_compare_exchange_n(p, &expected, desired, 0, __ATOMIC_SEQ_CST,
                                           __ATOMIC_SEQ_CST);
    }
    static inline int sl_add_int(volatile int *p, int v) {
        return __atomic_add_fetch(p, v, __ATOMIC_SEQ_CST);
    }
    static inline int sl_popcount64(uint64_t v) { return __builtin_popcountll(v); }
    /* The sum of the low seven bits of each byte (every sum here is < 256). */
    static inline int sl_byte_sum(uint64_t v) {
        v &= 0x7f7f7f7f7f7f7f7fULL;
        return (int)((v * 0x0101010101010101ULL) >> 56);
    }
    static __thread int sl_lease_depth = 0;
    static inline int *sl_depth(void) { return &sl_lease_depth; }
    static inline void sl_sleep_us(long us) {
        struct timespec ts;
        ts.tv_sec = 0;
        ts.tv_nsec = us * 1000;
        nanosleep(&ts, NULL);
    }
    static inline double sl_now(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec + ts.tv_nsec * 1e-9;
    }
    """
    uint64_t sl_load64(volatile uint64_t *p) nogil
    int sl_cas64(volatile uint64_t *p, uint64_t expected, uint64_t desired) nogil
    int sl_add_int(volatile int *p, int v) nogil
    int sl_popcount64(uint64_t v) nogil
    int sl_byte_sum(uint64_t v) nogil
    int *sl_depth() nogil
    void sl_sleep_us(long us) nogil
    double sl_now() nogil
    int sched_yield() nogil

__all__ = ["set_blas_functions", "blas_lease_threads", "blas_release_threads",
           "BLAS_PARALLEL_WORK", "attach", "detach", "attached", "lease_threads",
           "release_threads", "lane_awake",
           "lane_asleep", "others_fill_cores", "reclaim", "budget", "stats", "reset_stats",
           "NUM_SLOTS",
           "MAX_CORES", "SEGMENT_BYTES"]

NUM_SLOTS = 8
MAX_CORES = 120          # a slot's count has 7 bits; the sum of all of them must stay < 256
SEGMENT_BYTES = 64

# The segment's layout (bytes).
cdef enum:
    STATE = 0             # uint64: the budget word (see the design note)
    HIGH_WATER = 8        # uint64: the most cores held at once since the last reset
    TOTAL = 16            # uint32: the cores of the budget
    MAGIC_AT = 20         # uint32: MAGIC once initialised
    CAPS = 24             # 8 x uint8: each slot's lease cap (0: none)
    SLOT_HIGH_WATER = 32  # uint64, a byte per slot: the most cores each slot held at once

cdef uint32_t MAGIC = 0x53434f52   # "SCOR"
cdef uint64_t AWAKE_BITS = 0x8080808080808080ULL
cdef double WAIT_LIMIT_S = 1.0

cdef volatile uint64_t *_state = NULL
cdef volatile uint64_t *_high_water = NULL
cdef int _total = 0
cdef int _slot = 0
cdef int _cap = 0                 # this process's lease cap (0: none)
cdef volatile uint64_t *_slot_high_water = NULL
cdef object _view = None          # keeps the mapping's buffer alive while attached
cdef volatile int _awake_lanes = 0

# Per-process counters (diagnostics and tests; updated with atomics, read racily).
cdef volatile int _leases = 0
cdef volatile int _most = 0        # the most threads one lease got
cdef volatile int _waits = 0       # leases that had to wait for a release
cdef volatile int _forced = 0      # leases that took a core after WAIT_LIMIT_S


cdef inline void _note_high_water(int used) noexcept nogil:
    cdef uint64_t seen = sl_load64(_high_water)
    while <uint64_t>used > seen:
        if sl_cas64(_high_water, seen, <uint64_t>used):
            return
        seen = sl_load64(_high_water)


cdef inline void _note_slot_high_water(int held) noexcept nogil:
    # This slot's byte of the per-slot high-water word (only this process raises it).
    cdef int shift = 8 * _slot
    cdef uint64_t seen = sl_load64(_slot_high_water)
    while <uint64_t>held > ((seen >> shift) & 0xff):
        if sl_cas64(_slot_high_water, seen,
                    (seen & ~(<uint64_t>0xff << shift)) | (<uint64_t>held << shift)):
            return
        seen = sl_load64(_slot_high_water)


cdef inline void _note_most(int threads) noexcept nogil:
    # (racy max: a diagnostic, and tests read it after the kernels ended)
    global _most
    if threads > _most:
        _most = threads


cdef int lease(int want) noexcept nogil:
    cdef volatile uint64_t *state = _state
    cdef uint64_t word, mine
    cdef int used, awake, share, take, shift, spins = 0
    cdef int *depth
    cdef double started = 0.0
    depth = sl_depth()
    if depth[0] > 0:          # nested in a lease this thread holds: take nothing
        depth[0] += 1
        return 1
    if want <= 1:
        return 1
    if state == NULL:
        return want
    if _cap > 0 and want > _cap:
        # An emulated GPU's share; a cap of 1 still leases, so the budget sees its core held.
        want = _cap
    shift = 8 * _slot
    while True:
        word = sl_load64(state)
        used = sl_byte_sum(word)
        mine = (word >> shift) & 0xff
        awake = sl_popcount64(word & AWAKE_BITS) + (0 if mine & 0x80 else 1)
        # (at least 1: with more awake processes than cores, each lease may take one core
        # while one is free, instead of waiting for a process to fall asleep)
        share = _total // awake if awake < _total else 1
        take = want
        if take > share:
            take = share
        if take > _total - used:
            take = _total - used
        if take < 1:
            if spins == 0:
                started = sl_now()
                sl_add_int(&_waits, 1)
            spins += 1
            if sl_now() - started < WAIT_LIMIT_S:
                if spins < 64:
                    sched_yield()
                else:
                    sl_sleep_us(20)
                continue
            take = 1
            sl_add_int(&_forced, 1)
            while not sl_cas64(state, word, word + (<uint64_t>1 << shift)):
                word = sl_load64(state)
            _note_high_water(sl_byte_sum(word) + 1)
            _note_slot_high_water(<int>(((word >> shift) & 0x7f) + 1))
            break
        if sl_cas64(state, word, word + (<uint64_t>take << shift)):
            _note_high_water(used + take)
            _note_slot_high_water(<int>((mine & 0x7f) + take))
            break
    depth[0] = 1
    sl_add_int(&_leases, 1)
    _note_most(take)
    return take


cdef void release(int threads) noexcept nogil:
    cdef volatile uint64_t *state = _state
    cdef uint64_t word
    cdef int *depth
    depth = sl_depth()
    if depth[0] > 1:          # a nested lease, which took nothing
        depth[0] -= 1
        return
    if depth[0] == 0:         # a lease of 1 that skipped the budget, or one made detached
        return
    depth[0] = 0
    if state == NULL:
        return
    word = sl_load64(state)
    while not sl_cas64(state, word, word - (<uint64_t>threads << (8 * _slot))):
        word = sl_load64(state)


cdef void _set_awake() noexcept nogil:
    """Makes this process's awake bit say whether a lane is awake (re-checked after the CAS:
    a lane may wake or sleep meanwhile)."""
    cdef volatile uint64_t *state = _state
    cdef uint64_t word, bit = <uint64_t>0x80 << (8 * _slot), wanted
    cdef bint flag
    if state == NULL:
        return
    while True:
        flag = _awake_lanes > 0
        word = sl_load64(state)
        wanted = (word | bit) if flag else (word & ~bit)
        if wanted == word or sl_cas64(state, word, wanted):
            if (_awake_lanes > 0) == flag:
                return


# ---- BLAS ---------------------------------------------------------------------------------
#
# OpenBLAS's thread count is process-wide: a GEMM big enough to gain from threads leases them
# and sets the count for its call, then sets it back to the process's base (1 in a budgeted
# worker). Lanes of one worker that run GEMMs at the same moment may see each other's count;
# the leases stay right, only a GEMM's thread count may be off for that call.
#
# A cap below the base (``intra_op_parallelism_threads=1`` in an in-process session, whose
# base is OpenBLAS's own default: every core) sets the count to the cap for the call and back
# to the base after, with no lease: TF runs such a session's matmuls on that many threads.
# It is returned as -cap, which `blas_release` knows. Products too small for OpenBLAS to
# thread (`_blas_single_work`) skip both calls; an uncapped call pays one comparison more.

ctypedef void (*blas_set_t)(int) noexcept nogil
ctypedef int (*blas_get_t)() noexcept nogil

cdef blas_set_t _blas_set = NULL
cdef int _blas_base = 1
cdef double _blas_work = 2097152.0     # BLAS_PARALLEL_WORK
# OpenBLAS runs a GEMM of up to 65536 * GEMM_MULTITHREAD_THRESHOLD (4) multiply-adds on one
# thread whatever its count: a capped call below this changes nothing.
cdef double _blas_single_work = 262144.0
cdef int _blas_capped_calls = 0

BLAS_PARALLEL_WORK = 2097152   # multiply-adds from which a GEMM leases BLAS threads


cdef int blas_lease(double work, int want) noexcept nogil:
    cdef int threads
    if _blas_set == NULL:
        return 0
    if want < _blas_base:
        if work < _blas_single_work:
            return 0
        if want < 1:
            want = 1
        _blas_set(want)
        sl_add_int(&_blas_capped_calls, 1)
        return -want
    if _state == NULL or want <= 1 or work < _blas_work:
        return 0
    threads = lease(want)
    _blas_set(threads)
    return threads


cdef void blas_release(int threads) noexcept nogil:
    if threads == 0:
        return
    if _blas_set != NULL:
        _blas_set(_blas_base)
    if threads > 0:     # (a capped call, -cap, leased nothing)
        release(threads)


def set_blas_functions(size_t set_address, int base):
    """Hands this module the BLAS library's ``set_num_threads(int)`` (its address; 0 for
    none) and the thread count to go back to after a leased GEMM."""
    global _blas_set, _blas_base
    _blas_base = max(1, base)
    _blas_set = <blas_set_t><void*>set_address


def blas_base():
    """The BLAS thread count calls go back to (0: no BLAS hook installed)."""
    return _blas_base if _blas_set != NULL else 0


def blas_capped_calls():
    """How many calls ran BLAS on fewer threads than the base, for a cap below it."""
    return sl_add_int(&_blas_capped_calls, 0)


def blas_lease_threads(double work, int want):
    """`blas_lease` for Python callers (a matmul kernel)."""
    cdef int threads
    with nogil:
        threads = blas_lease(work, want)
    return threads


def blas_release_threads(int threads):
    """`blas_release` for Python callers."""
    blas_release(threads)


# ---- the Python interface ----------------------------------------------------------------

def attach(buffer, int slot, int total=0, int cap=0):
    """Makes this process lease from the budget in `buffer` as slot `slot`.

    Args:
      buffer: a writable buffer of at least SEGMENT_BYTES bytes (a shared mapping).
      slot: this process's slot, 0 .. NUM_SLOTS - 1.
      total: when > 0, initialises the budget with this many cores (the creator does).
      cap: when > 0, the most threads one lease of this process gets (an emulated GPU's
        share of the cores); 0 leaves its leases to the budget alone.

    Raises:
      ValueError: for a bad slot, size, total or cap, or a buffer that holds no budget.
    """
    global _state, _high_water, _slot_high_water, _total, _slot, _cap, _view
    cdef unsigned char[::1] view = buffer
    if not 0 <= slot < NUM_SLOTS:
        raise ValueError(f"core budget slot {slot} is not in [0, {NUM_SLOTS})")
    if view.shape[0] < SEGMENT_BYTES:
        raise ValueError(f"a core budget needs {SEGMENT_BYTES} bytes")
    cdef unsigned char *base = &view[0]
    if total > 0:
        if total > MAX_CORES:
            raise ValueError(f"a core budget holds at most {MAX_CORES} cores")
        (<volatile uint64_t*>(base + STATE))[0] = 0
        (<volatile uint64_t*>(base + HIGH_WATER))[0] = 0
        (<volatile uint64_t*>(base + CAPS))[0] = 0
        (<volatile uint64_t*>(base + SLOT_HIGH_WATER))[0] = 0
        (<uint32_t*>(base + TOTAL))[0] = total
        (<volatile uint32_t*>(base + MAGIC_AT))[0] = MAGIC
    if (<volatile uint32_t*>(base + MAGIC_AT))[0] != MAGIC:
        raise ValueError("the buffer holds no core budget")
    if not 0 <= cap <= MAX_CORES:
        raise ValueError(f"a lease cap must be in [0, {MAX_CORES}], not {cap}")
    _view = view
    _total = (<uint32_t*>(base + TOTAL))[0]
    _slot = slot
    _cap = cap
    (<volatile unsigned char*>(base + CAPS))[slot] = <unsigned char>cap
    _high_water = <volatile uint64_t*>(base + HIGH_WATER)
    _slot_high_water = <volatile uint64_t*>(base + SLOT_HIGH_WATER)
    _state = <volatile uint64_t*>(base + STATE)
    if _awake_lanes > 0:
        _set_awake()


def detach():
    """Stops leasing: kernels use their cap again (the pool shut down)."""
    global _state, _high_water, _slot_high_water, _cap, _view
    _state = NULL
    _high_water = NULL
    _slot_high_water = NULL
    _cap = 0
    _view = None


def attached():
    """Whether this process leases from a budget."""
    return _state != NULL


def lease_threads(int want):
    """`lease` for Python callers (a BLAS call): the threads to use, 1 .. want."""
    cdef int threads
    with nogil:
        threads = lease(want)
    return threads


def release_threads(int threads):
    """`release` for Python callers: gives back what `lease_threads` returned."""
    release(threads)


def others_fill_cores(int busy_at_least=0):
    """Whether the other processes of the budget keep every core busy: as many of them are
    awake as there are cores, or their leases hold them all. A thread of this process that
    would spin while it waits for a message then sleeps at once instead: its spin would take
    a core from one of them (on 2 cores, 3 devices' workers computing and one spinning
    client slow each other down), and a spin pays only while a core is idle. False when
    this process leases from no budget.

    Args:
      busy_at_least: how many other processes the caller knows to be busy, whatever their
        bits say yet (the client's just-posted workers set theirs only once they run).
    """
    cdef volatile uint64_t *state = _state
    cdef uint64_t others
    cdef int awake, held
    if state == NULL:
        return False
    others = sl_load64(state) & ~(<uint64_t>0xff << (8 * _slot))
    awake = sl_popcount64(others & AWAKE_BITS)
    held = sl_byte_sum(others)
    if held > awake:
        awake = held
    return (awake if awake > busy_at_least else busy_at_least) >= _total


def lane_awake():
    """A lane thread of this process woke up (its process competes for cores)."""
    if sl_add_int(&_awake_lanes, 1) == 1:
        _set_awake()


def lane_asleep():
    """A lane thread of this process is going to sleep (or to wait for another device)."""
    if sl_add_int(&_awake_lanes, -1) == 0:
        _set_awake()


def reclaim(buffer, int slot):
    """Clears slot `slot` of the budget in `buffer` (its process died): gives back the cores
    it held, and forgets its cap. Returns the cores given back."""
    cdef unsigned char[::1] view = buffer
    cdef volatile uint64_t *state = <volatile uint64_t*>(&view[0] + STATE)
    cdef uint64_t word, mask = <uint64_t>0xff << (8 * slot)
    if not 0 <= slot < NUM_SLOTS:
        raise ValueError(f"core budget slot {slot} is not in [0, {NUM_SLOTS})")
    (<volatile unsigned char*>(&view[0] + CAPS))[slot] = 0
    while True:
        word = sl_load64(state)
        if sl_cas64(state, word, word & ~mask):
            return <int>((word >> (8 * slot)) & 0x7f)


def budget(buffer):
    """The budget in `buffer` now: ``{'total', 'free', 'held': [per slot], 'awake': [slots],
    'high_water', 'caps': [per slot; 0: none], 'slot_high_water': [per slot]}``."""
    cdef unsigned char[::1] view = buffer
    cdef unsigned char *base = &view[0]
    cdef uint64_t word = sl_load64(<volatile uint64_t*>(base + STATE))
    cdef uint64_t slot_high = sl_load64(<volatile uint64_t*>(base + SLOT_HIGH_WATER))
    cdef int total = (<uint32_t*>(base + TOTAL))[0]
    held = [<int>((word >> (8 * i)) & 0x7f) for i in range(NUM_SLOTS)]
    return {"total": total, "free": total - sl_byte_sum(word), "held": held,
            "awake": [i for i in range(NUM_SLOTS) if (word >> (8 * i + 7)) & 1],
            "high_water": <int>sl_load64(<volatile uint64_t*>(base + HIGH_WATER)),
            "caps": [<int>base[CAPS + i] for i in range(NUM_SLOTS)],
            "slot_high_water": [<int>((slot_high >> (8 * i)) & 0xff)
                                for i in range(NUM_SLOTS)]}


def reset_high_water(buffer):
    """Restarts the high-water marks (the budget's and each slot's) of the budget in `buffer`
    from the cores held now."""
    cdef unsigned char[::1] view = buffer
    cdef unsigned char *base = &view[0]
    cdef uint64_t word = sl_load64(<volatile uint64_t*>(base + STATE))
    (<volatile uint64_t*>(base + HIGH_WATER))[0] = <uint64_t>sl_byte_sum(word)
    (<volatile uint64_t*>(base + SLOT_HIGH_WATER))[0] = word & ~AWAKE_BITS


def stats():
    """This process's side: ``{'attached', 'slot', 'cap', 'leases', 'most', 'waits',
    'forced', 'awake_lanes'}``."""
    return {"attached": _state != NULL, "slot": _slot, "cap": _cap, "leases": _leases,
            "most": _most, "waits": _waits, "forced": _forced, "awake_lanes": _awake_lanes}


def reset_stats():
    """Zeroes this process's counters."""
    global _leases, _most, _waits, _forced
    _leases = 0
    _most = 0
    _waits = 0
    _forced = 0
