"""The runtime interface: `Runtime` compiles requests into `Step`s, and a `Step` runs.

Design. A session talks to exactly one `Runtime` and never asks which implementation it is
(``runtime/__init__.py`` describes the contract and picks the implementation). The base class
here holds what every implementation shares: the step cache, placement, and the device list;
an implementation supplies `_compile_placed` (turn placed ops into a `Step`) and the device
side of life cycle (`clear_containers`, `close`, `_device_pids`).

The step cache is on the hot path of every `Session.run`: a hit is one version check and one
dict lookup, with no lock. Misses compile under the lock, and a step records the graph version
it was compiled from, so that a step compiled while the graph changed is never served as the
step of the newer version. Nothing here may import the client.
"""

import os
import threading

from sessionlib.runtime import plan as plan_lib

__all__ = ["Runtime", "Step", "DeviceAttributes", "fetched_value"]

def fetched_value(array):
    """What a run hands out for a fetched buffer: numpy scalars for 0-d results (bytes for
    strings), and a copy of a read-only buffer.

    A read-only buffer is shared beyond this run (a constant, a variable's value), so the
    caller gets a copy of it; a fresh kernel output is handed over as it is.
    """
    if array.ndim == 0:
        return array[()]
    if not array.flags.writeable:
        return array.copy()
    return array


class DeviceAttributes:
    """One entry of `Session.list_devices()`."""

    __slots__ = ("name", "device_type", "memory_limit_bytes", "incarnation", "pid",
                 "bytes_in_use", "peak_bytes_in_use", "physical_device_desc")

    def __init__(self, name, device_type, memory_limit_bytes, incarnation, pid=None,
                 cores=None):
        # bytes_in_use, peak_bytes_in_use: the device's memory account now (sessionlib's
        # addition: what the session's tensors on the device take, and the most they took).
        self.bytes_in_use = self.peak_bytes_in_use = None
        # TF's DeviceAttributes.physical_device_desc: '' for a CPU, and for a GPU TF's layout
        # ("device: 0, name: ..., pci bus id: ..., compute capability: ...") saying honestly
        # that it is emulated (`physical_description`), with the cores it has as its own.
        self.physical_device_desc = physical_description(name, device_type, pid, cores)
        self.name = name
        self.device_type = device_type
        self.memory_limit_bytes = memory_limit_bytes
        self.incarnation = incarnation
        self.pid = pid

    @property
    def memory_limit(self):
        return self.memory_limit_bytes

    def __repr__(self):
        return (f"_DeviceAttributes({self.name}, {self.device_type}, "
                f"{self.memory_limit_bytes}, {self.incarnation})")


def physical_description(name, device_type, pid=None, cores=None):
    """TF's ``physical_device_desc`` of a device: empty for a CPU (as TF's); for an emulated
    GPU, TF's fields with what stands behind it, e.g. ``"device: 1, name: sessionlib emulated
    GPU (a worker process on the host's CPU cores), pci bus id: none, compute capability:
    none, cores: 1, pid: 4242"`` (`cores`: the cores the GPU has as its own, see
    ``runtime/cores.py``; left out when None)."""
    if device_type != "GPU":
        return ""
    from sessionlib.runtime import devices

    index = devices.type_and_index(name)[1]
    text = (f"device: {index}, name: sessionlib emulated GPU (a worker process on the host's "
            "CPU cores), pci bus id: none, compute capability: none")
    if cores is not None:
        text = f"{text}, cores: {cores}"
    return text if pid is None else f"{text}, pid: {pid}"


class Step:
    """A compiled request, ready to run many times.

    Attributes:
      graph_version: the graph version the step was compiled from (set by `Runtime.compile`).
    """

    __slots__ = ()

    def run(self, feed_values, run_context, trace=None):
        """Runs the step once.

        Args:
          feed_values: one numpy array per fed tensor, in the order of the compiled feeds.
          run_context: the run's `context.RunContext` (resources, cancellation, deadline,
            step id).
          trace: a `tracing.TraceRequest` to fill, or None (the common, untraced run).

        Returns:
          A list with one value per compiled fetch, in order. A fetched tensor that is also
          fed gives back the fed array itself. Otherwise the value is `fetched_value` of the
          buffer, except for a step compiled with ``ops`` (a piece of a partial run), which
          hands back its buffers as they are, since its caller feeds them to later pieces.

        Raises:
          OpError: a kernel failed (built by `failures.op_error`: it carries the op and names
            its device), or a device failed, or the run was cancelled or timed out.
        """
        raise NotImplementedError


class Runtime:
    """Compiles and runs the steps of one session's graph.

    Args:
      graph: the session's `Graph`.
      placer: the session's `placement.Placer` (it knows the devices).
      fuse: whether steps fuse elementwise chains; None leaves it to ``SESSIONLIB_FUSION``.
      rewrites: the `optimizer.RewriteOptions` of the steps' graph rewrites; None: all.

    Attributes:
      device_names: the full names of the session's devices, in device order.
      resources: the session's client-side `context.ResourceContainer` (runs get it through
        their `RunContext`; session handles keep their bookkeeping in it).
    """

    def __init__(self, graph, placer, fuse, rewrites=None):
        self.device_names = placer.device_names
        self._rewrites = rewrites
        self._graph = graph
        self._placer = placer
        self._fuse = fuse
        self._lock = threading.Lock()
        self._step_cache = {}
        self._cache_version = graph.version

    def compile(self, feed_tensors, fetch_tensors, targets, ops=None):
        """The compiled step of a request, from the step cache or compiled now.

        Args:
          feed_tensors: a tuple of distinct fed tensors.
          fetch_tensors: a tuple of fetched tensors.
          targets: a tuple of ops to run.
          ops: the ops to run, already pruned and topologically ordered (a partial run's
            piece); None prunes the graph for the fetches and targets. Part of the cache key.

        Returns:
          A `Step`.

        Raises:
          InvalidArgumentError: for an op placed on a device that does not exist.
          ValueError: for a graph cycle on the way to the fetches.
          OpError: when a device cannot take the step.
        """
        graph_version = self._graph._version
        if graph_version != self._cache_version:
            self._step_cache = {}
            self._cache_version = graph_version
        key = ((feed_tensors, fetch_tensors, targets) if ops is None
               else (feed_tensors, fetch_tensors, targets, ops))
        step = self._step_cache.get(key)
        if step is None or step.graph_version != graph_version:
            with self._lock:
                cache = self._step_cache
                step = cache.get(key)
                if step is None or step.graph_version != graph_version:
                    order = (plan_lib.prune(feed_tensors, fetch_tensors, targets)
                             if ops is None else list(ops))
                    step = self._compile_placed(order, self._placer.place(order),
                                                feed_tensors, fetch_tensors, ops is not None)
                    step.graph_version = graph_version
                    cache[key] = step
        return step

    def cached_steps(self):
        """The steps in the cache now (for tests and diagnostics)."""
        return list(self._step_cache.values())

    def place(self, ops):
        """The device of each op of `ops`, as a list (placing them if needed).

        Raises:
          InvalidArgumentError: for an explicit device that does not exist, without soft
            placement.
        """
        return self._placer.place(ops)

    def list_devices(self):
        """The session's devices as `DeviceAttributes`, with the pid of the process that runs
        each one."""
        from sessionlib.runtime import devices

        pids = self._device_pids()
        device_cores = self._device_cores()
        listed = []
        for index, (name, pid) in enumerate(zip(self.device_names, pids)):
            device_type = devices.type_and_index(name)[0]
            listed.append(DeviceAttributes(name, device_type,
                                           devices.default_memory_limit(device_type),
                                           index + 1, pid, device_cores[index]))
        # The devices' memory accounts (runtime/memory.py): the limit in force, and usage.
        usage = self._memory_usage()
        for device, (in_use, peak, limit) in zip(listed, usage or ()):
            device.memory_limit_bytes = limit
            device.bytes_in_use, device.peak_bytes_in_use = in_use, peak
        return listed

    def _forget_steps(self):
        """Drops every compiled step (the session is closing)."""
        self._step_cache = {}

    # ---- what an implementation provides ---------------------------------------------------

    def _compile_placed(self, order, devices, feed_tensors, fetch_tensors, raw):
        """Compiles placed ops into a `Step`.

        Args:
          order: the ops, topologically ordered; devices: the device of each.
          feed_tensors, fetch_tensors: as for `compile`.
          raw: the step hands back buffers as they are (see `Step.run`).
        """
        raise NotImplementedError

    def _device_pids(self):
        """The pid of the process that runs each device, in device order."""
        return [os.getpid()] * len(self.device_names)

    def _device_cores(self):
        """The cores each device has as its own (an emulated GPU's share), in device order;
        None for a device that shares the budget's cores."""
        return [None] * len(self.device_names)

    def configure_memory(self, limits):
        """Sets each device's memory limit in bytes (``runtime/memory.py``), in device order."""

    def _memory_usage(self):
        """``(in_use, peak, limit)`` bytes of each device, in device order, or None."""
        return None

    def clear_containers(self, containers):
        """Drops the resources of the named TF containers, on every device (`Session.reset`)."""
        raise NotImplementedError

    def close(self):
        """Drops the session's resources and compiled steps on every device. Runs that are
        still blocked fail (the session cancels them first). Closing twice is harmless."""
        raise NotImplementedError
