/* The shared-arena allocator of shmalloc.pyx (declared in _shm_arena.pxd): a numpy
 * allocation handler (NEP 49) whose large allocations take a free registered shared-memory
 * block, and whose small ones, misses and frees of foreign pointers go to the C library.
 *
 * One mutex guards the block table: numpy may free arrays from any thread, and lane threads
 * allocate concurrently. The allocation functions never call into Python. Only shmalloc.pyx
 * includes this header (its definitions are static).
 */
#ifndef SESSIONLIB_SHM_ARENA_H
#define SESSIONLIB_SHM_ARENA_H

#define NPY_TARGET_VERSION NPY_1_22_API_VERSION
#include <numpy/arrayobject.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include "_device_memory.h"

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

/* With a device account as ctx (sl_arena_handler_capsule), every allocation is charged to
 * it: an arena block by the requested size (numpy frees it with the same size), a malloc'd
 * fallback by its usable size, as _device_memory.h does. */
static void *sl_malloc(void *ctx, size_t size) {
    void *p = NULL;
    if (ctx && !sl_mem_admit((sl_mem *)ctx, size))
        return NULL;
    if (size >= sl_threshold) {
        pthread_mutex_lock(&sl_lock);
        p = sl_take(size);
        pthread_mutex_unlock(&sl_lock);
    }
    if (p) {
        if (ctx)
            sl_mem_charge((sl_mem *)ctx, (int64_t)size);
        return p;
    }
    p = malloc(size);
    if (p && ctx)
        sl_mem_charge((sl_mem *)ctx, (int64_t)malloc_usable_size(p));
    return p;
}

static void *sl_calloc(void *ctx, size_t count, size_t elsize) {
    void *p = NULL;
    size_t size;
    if (elsize && count > SIZE_MAX / elsize)
        return NULL;
    size = count * elsize;
    if (ctx && !sl_mem_admit((sl_mem *)ctx, size))
        return NULL;
    if (size >= sl_threshold) {
        pthread_mutex_lock(&sl_lock);
        p = sl_take(size);
        pthread_mutex_unlock(&sl_lock);
    }
    if (p) {
        memset(p, 0, size);   /* a recycled block holds an earlier run's data */
        if (ctx)
            sl_mem_charge((sl_mem *)ctx, (int64_t)size);
        return p;
    }
    p = calloc(count, elsize);
    if (p && ctx)
        sl_mem_charge((sl_mem *)ctx, (int64_t)malloc_usable_size(p));
    return p;
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
    if (ctx)
        sl_mem_credit((sl_mem *)ctx, i >= 0 ? (int64_t)size : (int64_t)malloc_usable_size(ptr));
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
    if (i < 0) {
        size_t before = ctx ? malloc_usable_size(ptr) : 0;
        if (ctx && new_size > before && !sl_mem_admit((sl_mem *)ctx, new_size - before))
            return NULL;
        q = realloc(ptr, new_size);
        if (q && ctx) {
            sl_mem_credit((sl_mem *)ctx, (int64_t)before);
            sl_mem_charge((sl_mem *)ctx, (int64_t)malloc_usable_size(q));
        }
        return q;
    }
    if (new_size <= old)
        return ptr;
    q = sl_malloc(ctx, new_size);
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

/* The arena handler charging the account of `account` (a capsule of _device_memory.h), as a
 * capsule that keeps `account` alive. */
static void sl_arena_destroy(PyObject *capsule) {
    Py_XDECREF((PyObject *)PyCapsule_GetContext(capsule));
    free(PyCapsule_GetPointer(capsule, "mem_handler"));
}

static PyObject *sl_arena_handler_capsule(PyObject *account) {
    PyDataMem_Handler *h = (PyDataMem_Handler *)malloc(sizeof(PyDataMem_Handler));
    PyObject *capsule;
    sl_mem *m = sl_mem_of(account);
    if (m == NULL)
        return NULL;
    if (h == NULL)
        return PyErr_NoMemory();
    memcpy(h, &sl_handler, sizeof(PyDataMem_Handler));
    h->allocator.ctx = m;
    capsule = PyCapsule_New(h, "mem_handler", sl_arena_destroy);
    if (capsule == NULL) {
        free(h);
        return NULL;
    }
    Py_INCREF(account);
    PyCapsule_SetContext(capsule, account);
    return capsule;
}

static void sl_lock_table(void) { pthread_mutex_lock(&sl_lock); }
static void sl_unlock_table(void) { pthread_mutex_unlock(&sl_lock); }

#endif
