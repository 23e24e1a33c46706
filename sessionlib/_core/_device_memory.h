/* A device's memory account and the numpy allocation handler (NEP 49) that charges it
 * (device_memory.pyx declares this in _device_memory.pxd; _shm_arena.h charges the same
 * account for the arrays it places in the shared arena).
 *
 * An account is one malloc'd `sl_mem`: the handler numpy calls (its ctx points back at the
 * account), the bytes in use, the peaks and the limit. The handler's capsule owns the account
 * and frees it when the last array allocated through it is gone (numpy keeps a reference to
 * the capsule in every array), so a free after the device object died is still charged to a
 * live account.
 *
 * Charges are malloc_usable_size() bytes, so that a free (which numpy reports with the
 * requested size, and a realloc, which it reports without the old one) subtracts exactly what
 * the allocation added. The limit is checked against the requested size BEFORE anything is
 * allocated: a refused request returns NULL (numpy raises MemoryError with the shape and
 * dtype) and records its size in `failed`, so that the runtime can build TF's OOM message.
 * The counters are updated with relaxed atomics; `peak` and `step_peak` are raised with a
 * compare-and-swap loop that only runs when the figure grows. Nothing here calls into Python.
 */
#ifndef SESSIONLIB_DEVICE_MEMORY_H
#define SESSIONLIB_DEVICE_MEMORY_H

#ifndef NPY_TARGET_VERSION
#define NPY_TARGET_VERSION NPY_1_22_API_VERSION
#endif
#include <numpy/arrayobject.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    PyDataMem_Handler handler;
    int64_t in_use;      /* bytes charged now */
    int64_t peak;        /* the most ever charged */
    int64_t step_peak;   /* the most charged since the last sl_mem_reset_step_peak */
    int64_t limit;       /* a request that would take in_use above this fails */
    int64_t failed;      /* the size of the last refused request (0: none since cleared) */
    int64_t allocations; /* requests served */
} sl_mem;

static inline void sl_mem_raise(int64_t *figure, int64_t now) {
    int64_t seen = __atomic_load_n(figure, __ATOMIC_RELAXED);
    while (now > seen && !__atomic_compare_exchange_n(figure, &seen, now, 1, __ATOMIC_RELAXED,
                                                      __ATOMIC_RELAXED)) {
    }
}

/* Whether `size` more bytes fit under the limit; records a refusal. */
static inline int sl_mem_admit(sl_mem *m, size_t size) {
    if (__atomic_load_n(&m->in_use, __ATOMIC_RELAXED) + (int64_t)size > m->limit) {
        __atomic_store_n(&m->failed, (int64_t)size, __ATOMIC_RELAXED);
        return 0;
    }
    return 1;
}

static inline void sl_mem_charge(sl_mem *m, int64_t bytes) {
    int64_t now = __atomic_add_fetch(&m->in_use, bytes, __ATOMIC_RELAXED);
    __atomic_add_fetch(&m->allocations, 1, __ATOMIC_RELAXED);
    sl_mem_raise(&m->peak, now);
    sl_mem_raise(&m->step_peak, now);
}

static inline void sl_mem_credit(sl_mem *m, int64_t bytes) {
    __atomic_sub_fetch(&m->in_use, bytes, __ATOMIC_RELAXED);
}

static void *sl_mem_malloc(void *ctx, size_t size) {
    sl_mem *m = (sl_mem *)ctx;
    void *p;
    if (!sl_mem_admit(m, size))
        return NULL;
    p = malloc(size ? size : 1);
    if (p)
        sl_mem_charge(m, (int64_t)malloc_usable_size(p));
    return p;
}

static void *sl_mem_calloc(void *ctx, size_t count, size_t elsize) {
    sl_mem *m = (sl_mem *)ctx;
    void *p;
    if (elsize && count > SIZE_MAX / elsize)
        return NULL;
    if (!sl_mem_admit(m, count * elsize))
        return NULL;
    p = calloc(count ? count : 1, elsize ? elsize : 1);
    if (p)
        sl_mem_charge(m, (int64_t)malloc_usable_size(p));
    return p;
}

static void *sl_mem_realloc(void *ctx, void *ptr, size_t new_size) {
    sl_mem *m = (sl_mem *)ctx;
    int64_t old;
    void *q;
    if (ptr == NULL)
        return sl_mem_malloc(ctx, new_size);
    old = (int64_t)malloc_usable_size(ptr);
    if ((int64_t)new_size > old && !sl_mem_admit(m, new_size - old))
        return NULL;
    q = realloc(ptr, new_size ? new_size : 1);
    if (q) {
        sl_mem_credit(m, old);
        sl_mem_charge(m, (int64_t)malloc_usable_size(q));
    }
    return q;
}

static void sl_mem_free(void *ctx, void *ptr, size_t size) {
    if (ptr == NULL)
        return;
    sl_mem_credit((sl_mem *)ctx, (int64_t)malloc_usable_size(ptr));
    free(ptr);
}

static void sl_mem_destroy(PyObject *capsule) {
    free(PyCapsule_GetPointer(capsule, "mem_handler"));
}

/* A new account with `limit` bytes, as its handler's capsule (NULL with an exception set). */
static PyObject *sl_mem_new(int64_t limit) {
    sl_mem *m = (sl_mem *)calloc(1, sizeof(sl_mem));
    PyObject *capsule;
    if (m == NULL)
        return PyErr_NoMemory();
    strncpy(m->handler.name, "sessionlib_device_memory", sizeof(m->handler.name) - 1);
    m->handler.version = 1;
    m->handler.allocator.ctx = m;
    m->handler.allocator.malloc = sl_mem_malloc;
    m->handler.allocator.calloc = sl_mem_calloc;
    m->handler.allocator.realloc = sl_mem_realloc;
    m->handler.allocator.free = sl_mem_free;
    m->limit = limit;
    capsule = PyCapsule_New(m, "mem_handler", sl_mem_destroy);
    if (capsule == NULL)
        free(m);
    return capsule;
}

static inline int sl_mem_import_numpy(void) {
    import_array1(-1);
    return 0;
}

static inline sl_mem *sl_mem_of(PyObject *capsule) {
    return (sl_mem *)PyCapsule_GetPointer(capsule, "mem_handler");
}

#endif
