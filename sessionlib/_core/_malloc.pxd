# Declarations of glibc's malloc knobs (<malloc.h>), for fused.tune_malloc.

cdef extern from "<malloc.h>" nogil:
    int mallopt(int param, int value)
    int M_MMAP_THRESHOLD
    int M_TRIM_THRESHOLD
