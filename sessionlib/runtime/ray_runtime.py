"""The Ray runtime: a session's devices are named, detached actors of a Ray cluster.

Design. ``Session(target='ray://<address>')`` gets a `RayRuntime`, the third implementation of
the runtime interface (``runtime/interface.py``); the client does not change. Ray is an
optional extra (``pip install 'sessionlib[ray]'``) and is imported only for such a target.

* Target. ``ray://local`` starts a Ray instance for this process (no dashboard, quiet logs,
  every core of the machine). Otherwise the target is ``ray://`` and what
  ``ray.init(address=...)`` accepts, unchanged: ``ray://auto`` and ``ray://<host>:<port>``
  join a running cluster as a driver; a Ray Client address keeps its own scheme, so
  ``ray://ray://<head>:10001`` connects through the head's Ray Client server (the client
  extra, grpcio; the port defaults to 10001). One rule, no guessing: ``ray://head:10001``
  names a cluster's GCS port, and its connection error says which target a Ray Client port
  takes. Under Ray Client the client's calls and its feeds and fetches go through the
  server's proxy, while tensors between devices still go from actor to actor inside the
  cluster. A token Ray keeps for its token authentication (``~/.ray/auth_token``) is used as
  ``ray start`` uses it (`_use_token_if_available`). A process joins one cluster: a second,
  different address fails with FailedPreconditionError. An unreachable address fails with
  UnavailableError within the connect timeout: ``ConfigProto.operation_timeout_in_ms`` when
  set, else `DEFAULT_CONNECT_TIMEOUT_S`. The address is probed with a TCP connect first, and
  ``ray.init`` runs in a helper thread that the client stops waiting for at the timeout, so
  a cluster that accepts the connection but never answers does not hang the session either.
* Devices. TF's distributed names, ``/job:worker/replica:0/task:<k>/device:CPU:<j>`` and
  ``.../device:GPU:<j>``: on each task (see Tasks below) the CPUs and emulated GPUs that a
  local session of the config would have (``device_count``, ``SESSIONLIB_EMULATED_GPUS``,
  ``gpu_options.visible_device_list``; ``runtime/devices.py``). An emulated GPU is an actor
  like a CPU; the placer's rules (GPU kernels, soft placement) are the local ones, and the
  GPUs of a task share its memory as a machine's do (``memory.memory_limits``, per task).
  Each device is one actor of
  `ray_device.RayDevice`, named after the device in the `NAMESPACE` namespace, detached, and
  made on first need (``get_if_exists``): later sessions, from this client or another one,
  reuse it, and with it the resources in its containers (variables live on their actor, as
  on a TF worker). An actor takes no CPU slot (``num_cpus=0``): devices are not Ray tasks to
  schedule, and a cluster with few CPUs must still hold them all.
* Compile. The step is pruned, placed and partitioned as for worker processes
  (``runtime/partition.py``); each partition is installed once on its actor, as the same plain
  values a worker process gets, with the actor handles of the devices it sends to.
* Run. Feeds read by several devices are put into the object store once (`ray.put`); each
  partition gets one call (step key, run id, step id, time left, feed slots, feed values or
  refs). Cross-device tensors go from the producing actor straight to the consuming one
  (``RayDevice.deliver``; Ray moves them through the object store), never through the
  client. The client takes all the replies with one ``ray.get`` when they come within a wait
  slice (one round trip, also through a Ray Client proxy), else waits for them in slices,
  watching the session's cancellation and the run's deadline; a dead actor makes the run
  fail with UnavailableError naming the device, and the other devices of the run are told
  to abort (their `_Recv`s fail with AbortedError), given `_GRACE_S` to answer, and then
  given up on.
* Same node. A Ray actor call costs about a millisecond here (twice TF's whole distributed
  step for a small graph), and the object store copies a large tensor in and out, so per-step
  Ray calls cannot match a local runtime. The devices on the client's own node therefore also
  serve it through the local worker runtime's shared-memory machinery
  (``runtime/ray_fastpath.py``): one lane message per partition and step, feeds and fetches
  as tensor-store descriptors, cross-device tensors through the client's rendezvous and the
  producer's arena, with no copy. Ray keeps what it does well: it starts, names and finds
  the actors, reports their deaths (their pids are watched between wait slices on the lanes),
  and carries every step with a partition on another node, which runs as described above.
  A step that finds no free lane falls back to Ray too; nothing else differs, and the client
  cannot tell the paths apart (``SESSIONLIB_RAY_FAST_PATH=0`` turns the same-node path off).
* Reset. `reset` clears the named containers (or all of them) on every device actor of the
  cluster; the client closes the sessions on the target.
* Traces. A run that asks for step stats adds a flag to each message; the actors run the
  executor's traced loop and answer with the worker processes' trace record
  (``worker._trace_reply``), but in epoch nanoseconds, since hosts share no monotonic clock
  (TF's step stats hold epoch times, and a cluster's clocks are NTP-synchronised).
  `worker_runtime.fill_trace` turns the records into one `DeviceStepStats` per device, with
  TF's distributed device names, and the partition graphs, as for worker processes.
* Memory. Each actor keeps a memory account (``runtime/memory.py``) for its device, shared by
  the sessions on the target as its containers are: it charges what the kernels allocate and
  the tensors the device receives, fails a request over the limit with TF's OOM
  (ResourceExhaustedError, with the live-tensor report), and gives traces their memory
  figures and `list_devices` its usage. A session sets the limits from its ConfigProto as
  locally (`configure_memory`; the latest session's limits hold); a default limit is the
  device's node's (`memory.default_memory_limit` of the node's memory and its task's devices).

Tasks. ``ConfigProto.cluster_def`` (its job "worker") says how many tasks. Task k is a
placement group of one bundle, named ``GROUP_PREFIX + "k"`` and detached like the devices, and
the task's device actors are scheduled into that bundle. The group is made on first need on
the node ``k mod n`` of the n alive nodes, the client's node first, then by node id (a label
selector on the node's id pins the bundle): task k is the k-th node, and on a one-node cluster
the tasks are bundles side by side on it. The bundle reserves `TASK_BUNDLE` (1 MiB of Ray's
"memory" resource, so that a task fits on any node, also one whose CPUs Ray tasks hold).

* One group per task rather than one group of all the tasks (STRICT_SPREAD, or PACK on one
  node): tasks outlive sessions and are shared by sessions with different task lists, and a
  placement group cannot grow; a group per task gives each task its place once, whatever the
  session that first needs it. Spreading comes from the pinning, which also keeps task 0
  beside the client (STRICT_SPREAD picks the nodes itself).
* A task stays where its group was made (its state lives there), also when nodes join later.
  A group that lost its node (Ray reschedules it, or its node is dead) is removed by the next
  session, which makes a new one on an alive node and starts the task's devices anew.
* `release` ends the device actors and removes the groups (a cluster's shutdown ends both);
  `reset` keeps them and clears the containers.
* Two clients that make a task's group at the same moment make two; both put new devices
  into the one with the lower id, and the spare one holds its bundle until `release`.

Not done yet: session-handle tensors kept on the devices.

A fourth backend would provide the same five device operations (``runtime/__init__.py``):
install a plan, run it on a small message, move a tensor from a `_Send` to its `_Recv`,
resource containers, and close; `ray_device.RayDevice` is that list written for Ray.
"""

import itertools
import marshal
import socket
import threading
import time
import uuid
import weakref

from sessionlib import errors
from sessionlib.runtime import context, interface, partition, ray_fastpath, worker_runtime
from sessionlib.runtime.ray_device import pack as _pack, unpack as _unpack

__all__ = ["SCHEME", "NAMESPACE", "DEFAULT_CONNECT_TIMEOUT_S", "CLIENT_PORT", "GROUP_PREFIX",
           "TASK_BUNDLE", "is_ray_target", "is_client_address", "connect", "shutdown",
           "device_names", "RayRuntime", "RayStep", "reset", "release"]

SCHEME = "ray://"
NAMESPACE = "sessionlib"
DEFAULT_CONNECT_TIMEOUT_S = 30.0
CLIENT_PORT = 10001       # Ray's default Ray Client server port (``ray://host`` means it)
# Starting a device actor starts a Python process on its node, which takes seconds on a busy
# node: the wait for a new actor is at least this long, whatever the connect timeout.
START_TIMEOUT_S = 120.0
JOB = "worker"
_WAIT_SLICE_S = 0.1
_GRACE_S = 1.0            # how long the other devices may take to stop after one failed
_MAX_CONCURRENCY = 64     # runs, deliveries and aborts an actor serves at once
# Task k is the placement group named GROUP_PREFIX + "k" (see Tasks in the docstring).
GROUP_PREFIX = "sessionlib/task:"
# What a task's one bundle reserves on its node. A bundle must hold some resource: every node
# has "memory", which busy clusters rarely exhaust (a fraction of a CPU would wait for a free
# core on a node whose CPUs Ray tasks hold). The device actors take none of it (num_cpus=0);
# Ray charges each a thousandth of the bundle's own marker, so a task holds 1000 devices.
TASK_BUNDLE = {"memory": 1 << 20}

# A prefix unique to this client process: step keys and run ids are unique in the cluster.
_CLIENT = uuid.uuid4().hex[:12]
_dumps, _loads = marshal.dumps, marshal.loads
_step_keys = itertools.count(1)
_run_ids = itertools.count(1)
_lock = threading.Lock()
_groups_lock = threading.Lock()
_connected = None        # the address this process joined ('local' for its own instance)
_actor_class = None


def is_ray_target(target):
    """Whether `target` (a str) names a Ray cluster."""
    return target.startswith(SCHEME)


def _ray():
    """The ``ray`` module, or UnimplementedError saying how to install it."""
    try:
        import ray
    except ImportError:
        raise errors.UnimplementedError(
            None, None, "Session targets 'ray://...' run on a Ray cluster, and Ray is not "
            "installed: pip install 'sessionlib[ray]'") from None
    return ray


def connect_timeout_s(config):
    """The connect timeout under `config`: its operation timeout, or the default."""
    timeout_ms = config.operation_timeout_in_ms if config is not None else 0
    return timeout_ms / 1000.0 if timeout_ms > 0 else DEFAULT_CONNECT_TIMEOUT_S


def connect(target, timeout_s=DEFAULT_CONNECT_TIMEOUT_S):
    """Joins the Ray cluster of `target` (once per process); returns the ``ray`` module.

    Args:
      target: ``'ray://local'``, ``'ray://auto'``, ``'ray://<host>:<port>'``, or ``'ray://'``
        and a Ray Client address (``'ray://ray://<host>:<port>'``).
      timeout_s: how long to try to reach the cluster.

    Raises:
      UnimplementedError: Ray is not installed.
      InvalidArgumentError: the target has no address.
      FailedPreconditionError: this process already joined another cluster.
      UnavailableError: the cluster cannot be reached within `timeout_s`.
    """
    global _connected
    ray = _ray()
    address = target[len(SCHEME):].strip()
    if not address:
        raise errors.InvalidArgumentError(None, None, f"Target {target!r} names no cluster: "
                                          "use ray://local, ray://auto or ray://host:port")
    if address not in ("local", "auto"):
        _probe(_probed_address(address), timeout_s, target)   # unreachable: fails at once
    with _lock:
        if ray.is_initialized():
            if _connected is None or _connected == address:
                _connected = _connected or address
                return ray
            raise errors.FailedPreconditionError(
                None, None, f"This process already runs on the Ray cluster "
                f"'ray://{_connected}'; it cannot also join {target!r}")
        if address == "local":
            import logging
            import os

            # address="local": a new instance even when another cluster runs here.
            ray.init(address="local", include_dashboard=False, num_cpus=os.cpu_count(),
                     logging_level=logging.ERROR, log_to_driver=False)
        else:
            if is_client_address(address):
                _use_token_if_available()
            _init_within(ray, address, timeout_s, target)
        _connected = address
    return ray


def is_client_address(address):
    """Whether `address` (a target without its ``ray://``) is a Ray Client address: one with
    a scheme of its own, as ``ray://head:10001`` (target ``ray://ray://head:10001``)."""
    return "://" in address


def _probed_address(address):
    """The ``host:port`` that the TCP probe of `address` connects to: the address itself,
    or a Ray Client address's server (its port defaults to `CLIENT_PORT`, as in Ray)."""
    if not is_client_address(address):
        return address
    location = address.split("://", 1)[1].split("/", 1)[0]
    return location if ":" in location.rsplit("]", 1)[-1] else f"{location}:{CLIENT_PORT}"


def _probe(address, timeout_s, target):
    """Fails fast with UnavailableError when nothing listens at ``host:port``."""
    host, _, port = address.rpartition(":")
    try:
        port = int(port)
    except ValueError:
        raise errors.InvalidArgumentError(None, None, f"Target {target!r}: expected "
                                          "ray://host:port") from None
    try:
        socket.create_connection((host.strip("[]") or "127.0.0.1", port),
                                 timeout=timeout_s).close()
    except OSError as err:
        raise errors.UnavailableError(None, None, f"Cannot reach the Ray cluster at "
                                      f"{address} ({err})") from None


def _use_token_if_available():
    """Turns Ray's token authentication on for this process when a token is available
    (``~/.ray/auth_token`` or ``RAY_AUTH_TOKEN``) and ``RAY_AUTH_MODE`` is unset, as Ray's
    ``ray start`` does: a cluster started so refuses clients without the token, and
    ``ray.init`` does not turn it on for a Ray Client address (the connection would time out
    instead). Only for Ray Client addresses: ``ray.init`` of a cluster's own address follows
    that cluster's setting, and turning the mode on in a driver whose cluster runs without it
    makes the other nodes' requests for the driver's objects fail (OwnerDiedError). A Ray
    without token authentication skips this."""
    try:
        from ray._private.authentication import authentication_token_setup as token_setup
    except ImportError:
        return
    enable = getattr(token_setup, "maybe_enable_token_auth_if_token_available", None)
    if enable is not None:   # (a private helper of Ray's: absent or changed in some versions)
        try:
            enable(warn_if_disabled=False)
        except TypeError:
            enable()


def _init_within(ray, address, timeout_s, target):
    """``ray.init(address=...)`` that gives up after `timeout_s` (UnavailableError)."""
    outcome = []

    def join():
        try:
            import logging

            ray.init(address=address, logging_level=logging.ERROR, log_to_driver=False)
            outcome.append(None)
        except BaseException as err:  # noqa: BLE001 - reported below
            outcome.append(err)

    helper = threading.Thread(target=join, name="sessionlib-ray-connect", daemon=True)
    helper.start()
    helper.join(timeout_s)
    # A Ray Client server's port (10001) is not a cluster's: say which target reaches it.
    hint = ("" if is_client_address(address) else
            f" (if that is a Ray Client server's port, the target is 'ray://ray://{address}')")
    if not outcome:
        raise errors.UnavailableError(None, None, f"The Ray cluster at {target!r} did not "
                                      f"answer within {timeout_s:g} s{hint}")
    if outcome[0] is not None:
        raise errors.UnavailableError(None, None, f"Cannot join the Ray cluster at "
                                      f"{target!r}: {outcome[0]}{hint}") from None


def shutdown():
    """Leaves the cluster (and stops this process's own instance for ``ray://local``)."""
    global _connected
    with _lock:
        try:
            import ray
        except ImportError:
            return
        own_instance = _connected == "local"
        if ray.is_initialized():
            ray.shutdown()
        _connected = None
    ray_fastpath.forget_all(actors_ended=own_instance)


def device_names(config):
    """The devices of a session on the cluster: on each task of the job "worker" of
    ``config.cluster_def`` (one task, task 0, without a cluster_def), the CPUs and emulated
    GPUs that a local session of `config` has (``device_count``, ``SESSIONLIB_EMULATED_GPUS``
    and ``gpu_options.visible_device_list``, as `devices.session_devices` reads them), CPUs
    first.

    Raises:
      NotFoundError: for ``device_count={'CPU': 0}``.
      InvalidArgumentError: for a cluster_def without a job "worker", or without tasks; for a
        bad ``visible_device_list``.
    """
    from sessionlib.runtime import devices

    kinds = [name.rsplit("/device:", 1)[1] for name in devices.session_devices(config)]
    tasks = [0]
    if config.cluster_def.job:
        jobs = {job.name: job for job in config.cluster_def.job}
        if JOB not in jobs or not jobs[JOB].tasks:
            raise errors.InvalidArgumentError(
                None, None, f"On a Ray cluster, ConfigProto.cluster_def must have a job "
                f"'{JOB}' with its tasks; it has {sorted(jobs)}")
        tasks = sorted(jobs[JOB].tasks)
    return [f"/job:{JOB}/replica:0/task:{task}/device:{kind}"
            for task in tasks for kind in kinds]


def _task_of(device):
    return int(device.split("/task:", 1)[1].split("/", 1)[0])


def _task_nodes(ray):
    """The alive nodes of the cluster in task order, as ``(node id, CPUs)``: the driver's
    node first (task 0 runs beside the client when it can), then by node id."""
    here = ray.get_runtime_context().get_node_id()
    nodes = [(node["NodeID"], int(node["Resources"].get("CPU", 1)))
             for node in ray.nodes() if node.get("Alive")]
    return sorted(nodes, key=lambda node: (node[0] != here, node[0]))


def _group_task(name):
    """The task of a placement group named `name`, or None for a group not of a task."""
    if name.startswith(GROUP_PREFIX) and name[len(GROUP_PREFIX):].isdigit():
        return int(name[len(GROUP_PREFIX):])
    return None


def _group_of(ray, group_id):
    """The `PlacementGroup` of the hex id `group_id` (as the placement group table has it)."""
    from ray.util.placement_group import PlacementGroup

    return PlacementGroup(ray.PlacementGroupID.from_hex(group_id))


def _new_group(ray, task, node_id):
    """A new placement group for `task`: one bundle of `TASK_BUNDLE`, detached, on the node
    `node_id` (a label selector on the node's id)."""
    from ray.util import placement_group

    options = dict(strategy="STRICT_PACK", name=f"{GROUP_PREFIX}{task}", lifetime="detached")
    try:
        return placement_group([dict(TASK_BUNDLE)], bundle_label_selector=[
            {"ray.io/node-id": node_id}], **options)
    except TypeError:
        # A Ray without bundle label selectors takes the node as a (soft) hint instead.
        return placement_group([dict(TASK_BUNDLE)], _soft_target_node_id=node_id, **options)


def _task_groups(ray, tasks, nodes, timeout_s):
    """``{task: (placement group, node id)}``: the placement group of each of `tasks`, made
    now on the node ``nodes[task % len(nodes)]`` for a task that has none (or waited for,
    when another client is making it). A group that lost its node is removed and replaced.

    Raises:
      UnavailableError: a new group could not be placed within `timeout_s`.
    """
    from ray.util import placement_group_table, remove_placement_group

    alive = set(nodes)
    placed, waiting = {}, {}
    # Sorted by id: two clients that see two groups of one task (they made them at the same
    # time) both put new devices into the same one.
    for group_id, entry in sorted(placement_group_table().items()):
        task = _group_task(entry.get("name", ""))
        if task is None or entry["state"] == "REMOVED":
            continue
        node = entry["bundles_to_node_id"].get(0)
        if entry["state"] == "CREATED" and node in alive:
            placed.setdefault(task, (_group_of(ray, group_id), node))
        elif entry["state"] == "PENDING" and task not in waiting:
            waiting[task] = _group_of(ray, group_id)
        elif entry["state"] != "PENDING":
            # Rescheduling, or on a node that is gone: its node was lost, and with it the
            # task's devices (they do not restart); a new group takes the task.
            remove_placement_group(_group_of(ray, group_id))
    made = {task: waiting.get(task) or _new_group(ray, task, nodes[task % len(nodes)])
            for task in sorted(set(tasks)) if task not in placed}
    deadline = time.monotonic() + timeout_s
    late = [task for task, group in made.items()
            if not group.wait(max(0.0, deadline - time.monotonic()))]
    if late:
        for task in late:
            remove_placement_group(made[task])
        raise errors.UnavailableError(
            None, None, f"The placement group of task {late[0]} could not be placed within "
            f"{timeout_s:g} s (each task reserves {TASK_BUNDLE} on its node)")
    for task, group in made.items():
        placed[task] = (group, placement_group_table(group)["bundles_to_node_id"][0])
    return placed


def _actor_name(device):
    return "device" + device


def _device_actor(ray, device, threads, group):
    """The actor of `device`: the running one, or a new one (named and detached) in the
    placement group `group` of its task."""
    global _actor_class
    from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

    if _actor_class is None:
        from sessionlib.runtime import ray_device

        _actor_class = ray.remote(ray_device.RayDevice)
    return _actor_class.options(
        name=_actor_name(device), namespace=NAMESPACE, lifetime="detached",
        get_if_exists=True, max_concurrency=_MAX_CONCURRENCY, num_cpus=0, max_restarts=0,
        scheduling_strategy=PlacementGroupSchedulingStrategy(group, 0)
    ).remote(device, threads)


def _unavailable(device, cause):
    return errors.UnavailableError(None, None, f"Device {device} is unavailable: its actor "
                                   f"died or its node was lost ({type(cause).__name__})")


def _ask(ray, calls, timeout_s, what):
    """The results of actor calls ``[(device, ref)]``, with errors that name the device."""
    results = []
    deadline = time.monotonic() + timeout_s
    for device, ref in calls:
        try:
            results.append(ray.get(ref, timeout=max(0.0, deadline - time.monotonic())))
        except ray.exceptions.GetTimeoutError:
            raise errors.UnavailableError(None, None, f"Device {device} did not answer "
                                          f"({what}) within {timeout_s:g} s") from None
        except ray.exceptions.RayActorError as err:
            raise _unavailable(device, err) from None
    return results


class ClusterDeviceAttributes(interface.DeviceAttributes):
    """A device of `Session.list_devices()` on a cluster: also its node's address, Ray node
    id, and the hex id of its task's placement group."""

    __slots__ = ("address", "node_id", "placement_group")


class RayRuntime(interface.Runtime):
    """A session's devices on a Ray cluster (see the module docstring).

    Args:
      graph, placer, fuse, rewrites: as for `interface.Runtime`.
      session_id: a string unique to the session.
      executor_name: the executor the actors run plans with ('cython' or 'reference').
      timeout_s: how long to wait for the actors to start.

    Raises:
      UnavailableError: an actor cannot be started or reached in time.
    """

    def __init__(self, graph, placer, fuse, session_id, executor_name, rewrites=None,
                 timeout_s=DEFAULT_CONNECT_TIMEOUT_S):
        super().__init__(graph, placer, fuse, rewrites)
        self.ray = ray = _ray()
        self.session_id = f"{_CLIENT}/{session_id}"
        self.executor_name = executor_name
        self.timeout_s = timeout_s
        # Task k runs in its placement group, on the k-th node (modulo the nodes there are:
        # on a one-node cluster all tasks share it); the devices of a session on one node
        # share its cores for their kernel threads.
        nodes = _task_nodes(ray)
        cpus_of = dict(nodes)
        tasks = [_task_of(name) for name in self.device_names]
        with _groups_lock:   # (two sessions of this client make one group per task)
            groups = _task_groups(ray, tasks, [node for node, _ in nodes], timeout_s)
        per_node = {}
        for task in tasks:
            per_node[groups[task][1]] = per_node.get(groups[task][1], 0) + 1
        self.actors = []
        for name, task in zip(self.device_names, tasks):
            group, node_id = groups[task]
            threads = max(1, cpus_of.get(node_id, 1) // per_node[node_id])
            self.actors.append(_device_actor(ray, name, threads, group))
        self.actor_of = dict(zip(self.device_names, self.actors))
        described = _ask(ray, [(name, actor.describe.remote()) for name, actor
                               in zip(self.device_names, self.actors)],
                         max(timeout_s, START_TIMEOUT_S), "start")
        self.pids = [pid for pid, _, _ in described]
        self.addresses = [address for _, address, _ in described]
        self.nodes = [node for _, _, node in described]
        # The devices on this client's node also serve it through shared memory.
        self.fast_links, self.fast_threads = ray_fastpath.links_for(
            ray, self.device_names, self.actors, self.pids, self.nodes, self.timeout_s)
        self.closed = False
        # Client-side bookkeeping only: the resources live on the actors.
        self.resources = context.ResourceContainer(session_id)
        self.retired_keys = []

    def _device_pids(self):
        return list(self.pids)

    def list_devices(self):
        listed = []
        try:
            groups = _ask(self.ray, [(name, actor.placement_group.remote()) for name, actor
                                     in zip(self.device_names, self.actors)], self.timeout_s,
                          "say its placement group")
        except errors.UnavailableError:
            groups = [None] * len(self.device_names)   # (a device died: listed all the same)
        for device, address, node_id, group in zip(
                super().list_devices(), self.addresses, self.nodes, groups):
            entry = ClusterDeviceAttributes(device.name, device.device_type,
                                            device.memory_limit_bytes, device.incarnation,
                                            device.pid)
            entry.bytes_in_use = device.bytes_in_use
            entry.peak_bytes_in_use = device.peak_bytes_in_use
            entry.address, entry.node_id, entry.placement_group = address, node_id, group
            listed.append(entry)
        return listed

    def configure_memory(self, limits):
        """Sets each device actor's memory limit (the devices are shared: the latest session
        on the target sets it). A limit the config left at its default becomes the default
        of the device's own node (its memory, shared by its task's devices of the kind)."""
        from sessionlib.runtime import devices, memory

        defaults = memory.memory_limits(None, self.device_names)
        kinds = [(_task_of(name), devices.type_and_index(name)[0])
                 for name in self.device_names]
        calls = []
        for name, actor, limit, default, kind in zip(self.device_names, self.actors, limits,
                                                     defaults, kinds):
            limit = None if limit == default else int(limit)
            calls.append((name, actor.set_memory_limit.remote(limit, kinds.count(kind))))
        _ask(self.ray, calls, self.timeout_s, "set its memory limit")

    def _memory_usage(self):
        try:
            return _ask(self.ray, [(name, actor.memory_stats.remote()) for name, actor
                                   in zip(self.device_names, self.actors)], self.timeout_s,
                        "report its memory")
        except errors.UnavailableError:
            return None    # (a device died: the devices are listed all the same)

    def _compile_placed(self, order, devices_of_ops, feed_tensors, fetch_tensors, raw):
        """Partitions a placed step and installs each partition on its device's actor.

        Raises:
          UnavailableError: a device actor died.
          NotFoundError: an actor does not know a kernel of the step.
          UnimplementedError: a node holds a Python object that cannot cross to a device.
        """
        parted = partition.partition(order, devices_of_ops, feed_tensors, fetch_tensors,
                                     self.device_names, self._fuse, self._rewrites)
        self._uninstall_retired()
        key = f"{self.session_id}/{next(_step_keys)}"
        calls = []
        for plan in parted.partitions:
            peers = {edge: self.actor_of[consumer]
                     for edge, (_, producer, consumer) in enumerate(parted.edges, 1)
                     if producer == plan.device}
            payload = worker_runtime._plan_bytes(plan)
            calls.append((plan.device, self.actor_of[plan.device].install.remote(
                self.session_id, key, payload, self.executor_name, peers)))
        try:
            replies = _ask(self.ray, calls, self.timeout_s, "install a step")
        except BaseException:
            self.retired_keys.append(key)
            raise
        for (device, _), reply in zip(calls, replies):
            if reply[0] != "ok":
                self.retired_keys.append(key)
                message = reply[1]
                if message.startswith("NotFoundError: "):
                    raise errors.NotFoundError(None, None, message[len("NotFoundError: "):])
                raise errors.InternalError(None, None, f"Installing a step on {device} "
                                           f"failed: {message}")
        return RayStep(self, key, parted, len(fetch_tensors), order, devices_of_ops, raw)

    def _uninstall_retired(self):
        keys, self.retired_keys[:] = list(self.retired_keys), []
        if keys:
            for actor in self.actors:
                actor.uninstall.remote(keys)

    def clear_containers(self, containers):
        """Clears the named containers (all for None) on this session's devices."""
        _ask(self.ray, [(name, actor.clear.remote(containers)) for name, actor
                        in zip(self.device_names, self.actors)], self.timeout_s,
             "clear containers")

    def close(self):
        """Drops the session's plans on the actors; the devices' resources stay (they are
        shared by the sessions on the target, as TF's are; `Session.reset` clears them)."""
        if self.closed:
            return
        self.closed = True
        self.resources.clear()
        if self.ray.is_initialized():
            for actor in self.actors:
                actor.close_session.remote(self.session_id)
        self._forget_steps()


class _Part:
    __slots__ = ("actor", "plan", "device", "feeds")

    def __init__(self, actor, plan):
        self.actor = actor
        self.plan = plan
        self.device = plan.device
        self.feeds = plan.feeds


class RayStep(interface.Step):
    """A step installed on its device actors; `run` executes it once."""

    def __init__(self, runtime, key, parted, num_fetches, ops, devices_of_ops, raw):
        self.runtime = runtime
        self.key = key
        self.parted = parted
        self.parts = [_Part(runtime.actor_of[plan.device], plan)
                      for plan in parted.partitions]
        self.num_fetches = num_fetches
        self.fed_fetches = parted.fed_fetches
        self.ops = ops
        self.devices = devices_of_ops
        self.raw = raw
        readers = {}
        for part in self.parts:
            for feed_index, _ in part.feeds:
                readers[feed_index] = readers.get(feed_index, 0) + 1
        # Feeds read by several devices go into the object store once.
        self.shared_feeds = sorted(index for index, count in readers.items() if count > 1)
        weakref.finalize(self, runtime.retired_keys.append, key)

    def run(self, feed_values, run_context, trace=None):
        runtime = self.runtime
        if runtime.closed:
            raise errors.CancelledError(None, None, "Session has been closed.")
        ray = runtime.ray
        run_id = f"{_CLIENT}:{next(_run_ids)}"
        deadline = run_context.deadline
        time_left = None if deadline is None else max(0.0, deadline - time.monotonic())
        # A run that records step stats takes Ray's path, which gathers them.
        replies = (None if trace is not None and trace.step_stats
                   else ray_fastpath.run_step(self, feed_values, run_context, run_id))
        if replies is not None:
            return self._done(replies, feed_values, trace)
        values = list(feed_values)
        packed = [_pack(value) for value in values]
        for index in self.shared_feeds:
            if packed[index] is None:     # large, and read by several devices: stored once
                values[index] = ray.put(values[index])
        want_stats = trace is not None and trace.step_stats
        pending = {}
        for part in self.parts:
            small, slots, large = [], [], []
            for index, slot in part.feeds:
                if packed[index] is None:
                    slots.append(slot)
                    large.append(values[index])
                else:
                    small.append((slot,) + packed[index])
            fields = (self.key, run_id, run_context.step_id, time_left, small, slots)
            message = _dumps(fields + (1,) if want_stats else fields)
            pending[part.actor.run.remote(message, *large)] = part
        # The common case, every device answering at once: one `ray.get` of all the replies
        # (one round trip, which under Ray Client crosses the proxy). Otherwise, or on an
        # error, `_gather` waits in slices and names the device that failed.
        refs = list(pending)
        try:
            got = ray.get(refs, timeout=_WAIT_SLICE_S)
        except ray.exceptions.RayError:   # (GetTimeoutError included)
            replies = self._gather(ray, run_id, pending, run_context)
        else:
            replies = [(pending[ref], reply) for ref, reply in zip(refs, got)]
        return self._done(replies, feed_values, trace)

    def _done(self, replies, feed_values, trace):
        """The fetched values of the replies (see `_finish`), with the trace filled."""
        fetched, traces = self._finish(replies, feed_values)
        if trace is not None:
            # The actors' records hold epoch times (hosts share no monotonic clock).
            worker_runtime.fill_trace(trace, self, traces, 0, "actor")
        return fetched

    def _gather(self, ray, run_id, pending, ctx):
        """``[(part, reply or exception)]`` of every part: waits in slices, aborting the run
        on the other devices when one fails, is cancelled, or passes the deadline."""
        replies = []
        grace_deadline = None
        aborted = False

        def abort(reason):
            for part in pending.values():
                part.actor.abort.remote(run_id, reason)

        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=_WAIT_SLICE_S)
            for ref in ready:
                part = pending.pop(ref)
                try:
                    reply = ray.get(ref)
                except ray.exceptions.RayActorError as err:
                    reply = _unavailable(part.device, err)
                except ray.exceptions.RayError as err:
                    reply = errors.InternalError(None, None, f"Device {part.device} failed: "
                                                 f"{err}")
                replies.append((part, reply))
                if isinstance(reply, BaseException) or (type(reply) is not bytes
                                                        and reply[0] != "ok"):
                    if not aborted and pending:
                        aborted = True
                        abort(f"The step failed on {part.device}")
                        grace_deadline = time.monotonic() + _GRACE_S
            if not pending:
                break
            now = time.monotonic()
            if ctx.cancellation.cancelled and not aborted:
                aborted = True
                abort("The run was cancelled")
                grace_deadline = now + _GRACE_S
            late = ray_fastpath.overdue(ctx, now, grace_deadline)
            if late is None:
                continue
            if not aborted:
                abort("The run's deadline passed")
            for part in pending.values():
                replies.append((part, late[0](None, None, f"Device {part.device} {late[1]}")))
            break
        return replies

    def _finish(self, replies, feed_values):
        """`worker_runtime.finish_replies` for this step: a reply is marshalled when its
        fetched arrays are all small, and a fetched array comes as ``(index, array)`` or
        ``(index, dtype, shape, bytes)``."""
        replies = [(part, _loads(reply) if type(reply) is bytes else reply)
                   for part, reply in replies]
        return worker_runtime.finish_replies(self, replies, feed_values, lambda part, fetched: [
            (item[0], item[1] if len(item) == 2 else _unpack(*item[1:])) for item in fetched])


def reset(target, containers=None, config=None):
    """Clears the named containers (all of them for None) on every device of the cluster.

    Raises:
      UnimplementedError, UnavailableError: as `connect`.
    """
    timeout_s = connect_timeout_s(config)
    ray = connect(target, timeout_s)
    calls = []
    for entry in ray.util.list_named_actors(all_namespaces=True):
        if entry.get("namespace") != NAMESPACE or not entry["name"].startswith("device/"):
            continue
        actor = ray.get_actor(entry["name"], namespace=NAMESPACE)
        calls.append((entry["name"][len("device"):], actor.clear.remote(
            None if containers is None else list(containers))))
    try:
        _ask(ray, calls, timeout_s, "reset")
    except errors.UnavailableError:
        pass  # a dead device has no containers left to clear


def release(target, config=None):
    """Ends every device actor of the cluster and removes the tasks' placement groups, which
    free what they reserved. The devices' state is lost; the next session starts them anew.
    (`reset` keeps the devices and clears their containers.) Returns once the devices' names
    are free.

    Raises:
      UnimplementedError, UnavailableError: as `connect`; UnavailableError also when the
        devices do not end within the connect timeout.
    """
    from ray.util import placement_group_table, remove_placement_group

    timeout_s = connect_timeout_s(config)
    ray = connect(target, timeout_s)

    def devices():
        return [entry["name"] for entry in ray.util.list_named_actors(all_namespaces=True)
                if entry.get("namespace") == NAMESPACE and entry["name"].startswith("device/")]

    for name in devices():
        try:
            ray.kill(ray.get_actor(name, namespace=NAMESPACE))
        except ValueError:
            pass   # (it ended meanwhile)
    with _groups_lock:
        for group_id, entry in placement_group_table().items():
            if (_group_task(entry.get("name", "")) is not None
                    and entry["state"] != "REMOVED"):
                remove_placement_group(_group_of(ray, group_id))
    deadline = time.monotonic() + timeout_s
    while devices():
        if time.monotonic() > deadline:
            raise errors.UnavailableError(None, None, f"The devices of {target!r} did not "
                                          f"end within {timeout_s:g} s")
        time.sleep(_WAIT_SLICE_S)
