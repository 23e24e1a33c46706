# Declarations of _atomics.h: atomic operations on shared 32-bit words (channel.pyx).

from libc.stdint cimport uint32_t

cdef extern from "_atomics.h" nogil:
    uint32_t sl_load32(volatile uint32_t *p)
    void sl_store32(volatile uint32_t *p, uint32_t v)
    uint32_t sl_add32(volatile uint32_t *p, uint32_t v)
    uint32_t sl_sub32(volatile uint32_t *p, uint32_t v)
    int sl_cas32(volatile uint32_t *p, uint32_t expected, uint32_t desired)
    void sl_pause()
    void sl_fence()
    int SL_INT_MAX
