# C-level interface of sessionlib._core.cores: the core budget a parallel kernel leases from.
#
#     from sessionlib._core cimport cores
#     threads = cores.lease(want)        # 1 <= threads <= want
#     ... prange(..., num_threads=threads) ...
#     cores.release(threads)
#
# Call `lease` only for work big enough to go parallel (small tensors never touch the budget),
# and pair every lease with one `release` of the same count, also on error paths.

# The threads a parallel kernel may use now, 1 .. want; `want` is the kernel's own cap (the
# session's thread count). Without a budget attached it returns `want`.
cdef int lease(int want) noexcept nogil

# Gives back what a `lease` that returned `threads` took.
cdef void release(int threads) noexcept nogil

# BLAS threads that follow the budget: for a GEMM of `work` multiply-adds, leases threads (at
# most `want`) and sets the BLAS library's thread count to them; returns what to hand to
# `blas_release` (0 when it changed nothing: small work, no BLAS hook, no budget).
cdef int blas_lease(double work, int want) noexcept nogil
cdef void blas_release(int threads) noexcept nogil
