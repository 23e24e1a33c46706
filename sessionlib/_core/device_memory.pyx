# cython: language_level=3
"""A device's memory account: every numpy array a device's kernels allocate is charged to it.

Design. TF gives each device an allocator with a limit; an allocation over the limit fails
before any memory is taken, and the kernel reports OOM. Here a device's tensors are numpy
arrays, so the account is a numpy allocation handler (NEP 49, ``_device_memory.h``) that the
runtime installs around a step's kernels (`set_handler`; numpy keeps the handler in a context
variable, so only the running thread's allocations see it). Numpy stores the handler in every
array it allocates, so the array's free comes back to the same account from whatever thread
drops the last reference: whatever a device holds (kernel outputs, variables, queue contents,
values kept for a later step) counts until it is freed, without any bookkeeping per node in
the executor. The cost per allocation is one `malloc_usable_size` and two relaxed atomics; per
step, two handler switches (~0.2 us).

A request that would take the account over its limit returns NULL: numpy raises MemoryError
(``_ArrayMemoryError``, with the shape and dtype) and the account keeps the refused size
(`take_failed`), from which ``runtime/memory.py`` builds TF's OOM message. Arrays the arena
handler of ``shmalloc.pyx`` places in shared memory are charged to the same account
(``shmalloc.charging_handler``).

Never: call into Python from the handler, or free the account while an array still holds its
handler (the capsule owns it and numpy holds the capsule).

Memory that numpy does not allocate but the device holds (a tensor received from another
device is a view of the sender's shared memory) is charged by hand: `DeviceMemory.charge`
admits it under the same limit, and `credit` gives it back when the device lets it go.
"""

from sessionlib._core._device_memory cimport (
    PyDataMem_GetHandler, PyDataMem_SetHandler, sl_mem, sl_mem_admit, sl_mem_charge,
    sl_mem_credit, sl_mem_import_numpy, sl_mem_new, sl_mem_of,
)

sl_mem_import_numpy()


def set_handler(handler):
    """Installs `handler` (a capsule, e.g. `DeviceMemory.handler`) for this thread's numpy
    allocations; returns the previous one (give it back to `set_handler` afterwards)."""
    return PyDataMem_SetHandler(handler)


def use_handler(handler):
    """Makes `handler` this thread's numpy allocation handler unless it already is, and does
    not give the previous one back: for a device worker's lane threads, which only run
    kernels, so that back-to-back runs of one session switch nothing."""
    if PyDataMem_GetHandler() is not handler:
        PyDataMem_SetHandler(handler)


cdef class DeviceMemory:
    """The memory account of one device (of one session).

    Args:
      device: the device's full name (for messages).
      limit: the limit in bytes.
      allocator_name: TF's name of the device's allocator (``cpu``, ``GPU_0_bfc``).

    Attributes:
      handler: the numpy allocation handler (a capsule) that charges this account.
      in_use, peak, step_peak, allocations: bytes charged now, the most ever charged, the
        most since `reset_step_peak`, and the number of allocations served.
    """

    cdef readonly object handler
    cdef readonly str device
    cdef readonly str allocator_name
    cdef sl_mem *m

    def __init__(self, device, long long limit, allocator_name="cpu"):
        self.handler = sl_mem_new(limit)
        self.m = sl_mem_of(self.handler)
        self.device = device
        self.allocator_name = allocator_name

    @property
    def limit(self):
        return self.m.limit

    @limit.setter
    def limit(self, long long value):
        self.m.limit = value

    @property
    def in_use(self):
        return self.m.in_use

    @property
    def peak(self):
        return self.m.peak

    @property
    def step_peak(self):
        return self.m.step_peak

    @property
    def allocations(self):
        return self.m.allocations

    def reset_step_peak(self):
        """Starts a new step's peak at the bytes in use now."""
        self.m.step_peak = self.m.in_use

    def charge(self, long long nbytes):
        """Charges `nbytes` that the device holds outside numpy's allocator (a received
        tensor): returns False, and records the refused size for `take_failed`, when they
        would take the account over its limit (then nothing is charged)."""
        if nbytes < 0 or not sl_mem_admit(self.m, <size_t>nbytes):
            return False
        sl_mem_charge(self.m, nbytes)
        return True

    def credit(self, long long nbytes):
        """Gives back `nbytes` charged by `charge`."""
        sl_mem_credit(self.m, nbytes)

    def take_failed(self):
        """The size of the last request refused for the limit (0: none), and forgets it."""
        failed = self.m.failed
        self.m.failed = 0
        return failed

    def stats(self):
        """``(in_use, peak, limit)`` in bytes."""
        return (self.m.in_use, self.m.peak, self.m.limit)
