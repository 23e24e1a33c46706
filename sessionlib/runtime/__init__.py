"""The runtime: compiles a session's requests into steps and runs them on its devices.

The runtime interface
---------------------
A session talks to one `Runtime` (``runtime/interface.py``), made by `create_runtime`, and never
asks which implementation it got:

* ``Runtime.compile(feeds, fetches, targets, ops=None) -> Step`` prunes the graph for the
  request (or takes a partial run's pre-pruned ``ops``), places the ops, and compiles the step
  once: one plan in process, or one plan per device partition, each fused once. The runtime
  owns the step cache: keyed on the request (and ``ops``), invalidated when the graph version
  changes, safe to call from many threads. A hit costs one version check and one dict lookup.
* ``Step.run(feed_values, run_context, trace=None) -> values`` runs the step once: the feeds
  are numpy arrays in the compiled feed order, the values come back in fetch order. A failing
  kernel raises the `OpError` built by ``runtime/failures.py``, carrying the op and naming its
  device. ``trace`` (a `tracing.TraceRequest`) asks the step to fill `RunMetadata`; each
  implementation records step stats and partition graphs its own way.
* ``Runtime.place(ops)``, ``list_devices()``, ``clear_containers(names)`` (`Session.reset`),
  ``close()``, and ``resources`` (the client-side resource container) complete it.

The session keeps what belongs to the front end: fetch and feed mapping and validation, the
session's life cycle, and the run defaults (deadline, step ids, cancellation, which it passes
in the `context.RunContext`).

Implementations
---------------
* ``local_runtime.LocalRuntime``: one process; every device runs in the client on the
  executor (Cython or reference). The default for one device.
* ``worker_runtime.WorkerRuntime``: each device is a worker process of the client's
  `devices.DevicePool` (several devices, or any session under ``SESSIONLIB_WORKERS=1``).
* ``ray_runtime.RayRuntime``: each device is a named, detached Ray actor on a cluster
  (``Session(target='ray://...')``; Ray is the optional extra ``sessionlib[ray]``). It
  implements the same two classes; the client only routes the target.

What a device backend provides
------------------------------
A runtime that spreads a step over devices needs, per device, five things, and nothing that
assumes the devices share a machine (plans and buffers cross as plain values and raw bytes,
never as pickles of user objects):

1. *install a partition*: take a `partition.PartitionPlan` (plain data, kernels named, not
   numbered) once per step, bind its kernels from the device's own kernel table, and forget it
   when the step is dropped;
2. *run a step*: on a small message (step key, run number, step id, deadline, where the feeds
   are), run the installed partition and answer with where the fetches are, or with a status
   code, message and the failing node's plan position;
3. *move buffers*: publish feeds and fetches, and carry each cross-device edge from a `_Send`
   to its `_Recv` within one run;
4. *resource containers*: keep each session's resources (variables, queues, readers, stored
   handles) in a container of its own, deletable by key and clearable by TF container name;
5. *close*: cancel the session's runs and drop its container and plans.

The worker-process backend does these with a control pipe (1, 4, 5), shared-memory lanes
(2), and shared-memory segments plus rendezvous blocks (3), lanes and rendezvous blocks added
on demand; see ``runtime/devices.py``, ``runtime/worker.py``, ``runtime/channel.py`` and
``runtime/shm.py``.
"""

from sessionlib.runtime import settings

__all__ = ["create_runtime", "use_workers", "is_cluster_target", "reset_cluster"]


def use_workers(cpu_count, environ=None):
    """Whether a session with `cpu_count` devices runs on worker processes.

    Args:
      cpu_count: the session's number of devices (CPUs and emulated GPUs).
      environ: the environment to read instead of ``os.environ`` (``SESSIONLIB_WORKERS=1``
        forces workers, ``0`` forbids them; see `settings.worker_processes`).
    """
    forced = settings.worker_processes(environ)
    return cpu_count > 1 if forced is None else forced


def is_cluster_target(target):
    """Whether `target` (a str) names a cluster runtime (``ray://...``)."""
    return target.startswith("ray://")


def reset_cluster(target, containers, config=None):
    """Clears the named containers (all for None) on every device of the cluster `target`.

    Raises:
      UnimplementedError: Ray is not installed.
      UnavailableError: the cluster cannot be reached.
    """
    from sessionlib.runtime import ray_runtime

    ray_runtime.reset(target, containers, config)


def create_runtime(graph, config, session_handle, target=""):
    """The runtime for a session of `graph` under `config`.

    Args:
      graph: the session's `Graph`.
      config: the session's `ConfigProto`: ``device_count``, soft placement, placement
        logging, ``intra_op_parallelism_threads``, ``opt_level`` (L0 turns fusion and the
        graph rewrites off) and ``rewrite_options``.
      session_handle: a string unique to the session (its resource containers).
      target: the session's target; ``ray://<address>`` runs on a Ray cluster.

    Returns:
      A `interface.Runtime`: in process, or on worker processes (see `use_workers`), or on
      a Ray cluster.

    Raises:
      NotFoundError: for ``device_count={'CPU': 0}``.
      InvalidArgumentError: for a bad ``gpu_options.visible_device_list``.
      UnavailableError: if a device worker cannot be started, or the cluster reached.
      UnimplementedError: for a ``ray://`` target without Ray installed.
    """
    from sessionlib.runtime import devices, memory, optimizer, placement
    from sessionlib.runtime import executor as executor_lib

    placement.warn_unknown_device_count_keys(config.device_count)
    if is_cluster_target(target):
        return _cluster_runtime(graph, config, session_handle, target)
    # CPUs, then emulated GPUs (device_count, SESSIONLIB_EMULATED_GPUS, visible_device_list).
    device_names = devices.session_devices(config)
    cpu_count = len(device_names)
    placer = placement.Placer(device_names, config.allow_soft_placement,
                              config.log_device_placement, placement.kernel_device_types)
    # opt_level L0 ("no optimizations", TF's -1) compiles the session's steps without
    # elementwise fusion; None leaves it to SESSIONLIB_FUSION (runtime/fusion.py).
    fuse = False if config.graph_options.optimizer_options.opt_level < 0 else None
    # The graph rewrites follow rewrite_options (and opt_level L0 turns them off too).
    rewrites = optimizer.RewriteOptions.from_config(config)
    executor = executor_lib.get_executor()
    threads = config.intra_op_parallelism_threads
    if use_workers(cpu_count):
        from sessionlib.runtime import worker_runtime

        # Without intra_op_parallelism_threads, workers lease threads from the pool's core
        # budget (runtime/cores.py): a busy device borrows the cores of idle ones.
        worker_threads = (devices.default_threads(cpu_count, threads)
                          if threads > 0 or not settings.core_budget() else devices.BUDGETED)
        runtime = worker_runtime.WorkerRuntime(graph, placer, fuse, session_handle,
                                               worker_threads, executor.name, rewrites)
    else:
        from sessionlib.runtime import local_runtime

        # In-process kernels use intra_op threads, by default one per core.
        runtime = local_runtime.LocalRuntime(graph, placer, fuse, executor,
                                             devices.default_threads(1, threads), rewrites)
    # Device memory limits from gpu_options / pluggable_device_options (runtime/memory.py).
    runtime.configure_memory(memory.memory_limits(config, runtime.device_names))
    return runtime


def _cluster_runtime(graph, config, session_handle, target):
    """The `ray_runtime.RayRuntime` of a session on the cluster `target`."""
    from sessionlib.runtime import executor as executor_lib
    from sessionlib.runtime import memory, optimizer, placement, ray_runtime

    timeout_s = ray_runtime.connect_timeout_s(config)
    ray_runtime.connect(target, timeout_s)
    placer = placement.Placer(ray_runtime.device_names(config), config.allow_soft_placement,
                              config.log_device_placement, placement.kernel_device_types)
    fuse = False if config.graph_options.optimizer_options.opt_level < 0 else None
    runtime = ray_runtime.RayRuntime(graph, placer, fuse, session_handle,
                                     executor_lib.get_executor().name,
                                     optimizer.RewriteOptions.from_config(config), timeout_s)
    runtime.configure_memory(memory.memory_limits(config, runtime.device_names))
    return runtime
