# Declarations of _device_memory.h: a device's memory account and its numpy handler.

from libc.stdint cimport int64_t

cdef extern from "_device_memory.h":
    ctypedef struct sl_mem:
        int64_t in_use
        int64_t peak
        int64_t step_peak
        int64_t limit
        int64_t failed
        int64_t allocations
    int sl_mem_admit(sl_mem *m, size_t size) nogil
    void sl_mem_charge(sl_mem *m, int64_t bytes) nogil
    void sl_mem_credit(sl_mem *m, int64_t bytes) nogil
    object sl_mem_new(int64_t limit)
    sl_mem *sl_mem_of(object capsule) except NULL
    int sl_mem_import_numpy() except -1
    object PyDataMem_SetHandler(object handler)
    object PyDataMem_GetHandler()
