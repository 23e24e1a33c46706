/* Atomic operations on 32-bit words in shared memory, for channel.pyx (declared in
 * _atomics.pxd).
 *
 * The words live in mappings shared between processes, so the C11/GCC builtins are used
 * directly on plain uint32_t words (the same address may be mapped at different addresses in
 * different processes; lock-free 32-bit atomics are address-free on every platform we build
 * on). Loads acquire, everything else is sequentially consistent: a poster's payload writes
 * must be visible before its sequence bump, and a waiter's registration before its re-check.
 */
#ifndef SESSIONLIB_ATOMICS_H
#define SESSIONLIB_ATOMICS_H

#include <limits.h>
#include <stdint.h>

static inline uint32_t sl_load32(volatile uint32_t *p) {
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void sl_store32(volatile uint32_t *p, uint32_t v) {
    __atomic_store_n(p, v, __ATOMIC_SEQ_CST);
}

static inline uint32_t sl_add32(volatile uint32_t *p, uint32_t v) {
    return __atomic_add_fetch(p, v, __ATOMIC_SEQ_CST);
}

static inline uint32_t sl_sub32(volatile uint32_t *p, uint32_t v) {
    return __atomic_sub_fetch(p, v, __ATOMIC_SEQ_CST);
}

static inline int sl_cas32(volatile uint32_t *p, uint32_t expected, uint32_t desired) {
    return __atomic_compare_exchange_n(p, &expected, desired, 0, __ATOMIC_SEQ_CST,
                                       __ATOMIC_SEQ_CST);
}

/* A hint to the CPU that this is a spin-wait loop (saves power, frees the sibling thread). */
static inline void sl_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static inline void sl_fence(void) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }

#define SL_INT_MAX INT_MAX

#endif
