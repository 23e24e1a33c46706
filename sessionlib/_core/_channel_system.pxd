# Declarations of the system headers channel.pyx needs beyond Cython's bundled .pxd files:
# Linux futexes, the raw syscall, the monotonic clock and OpenMP's thread count. (Cython
# includes every header of a cimported .pxd, so each module's system headers stay apart.)

cdef extern from "<linux/futex.h>":
    enum:
        FUTEX_WAIT
        FUTEX_WAKE

cdef extern from "<sys/syscall.h>":
    enum:
        SYS_futex

cdef extern from "<unistd.h>" nogil:
    long syscall(long number, ...)

cdef extern from "<sched.h>" nogil:
    int sched_yield()

cdef extern from "<time.h>" nogil:
    ctypedef long time_t
    struct timespec:
        time_t tv_sec
        long tv_nsec
    enum:
        CLOCK_MONOTONIC
    int clock_gettime(int clk_id, timespec *tp)

cdef extern from "omp.h" nogil:
    void omp_set_num_threads(int n)
    int omp_get_max_threads()
